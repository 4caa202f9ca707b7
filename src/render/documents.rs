//! The data each layout template reads: plans, the office profile and the office's wording,
//! turned into `/data.json`. Legal labels are fixed here; prose comes from `templates/wording`.

use serde_json::{Value, json};

use super::{RenderError, Renderer};
use crate::config::OfficeProfile;
use crate::model::Date;
use crate::plan::{CasePlan, CountPlan, Relief};

/// What every document says about who files and when.
pub struct Letterhead<'a> {
    pub office: &'a OfficeProfile,
    pub as_of: Date,
    /// What the letters can say: a notice at filing, or the order once made.
    pub letter_mode: &'a LetterMode,
}

impl Letterhead<'_> {
    /// Attorney block for pleading lines 1-7 (rule 2.111(1)).
    fn caption_lines(&self) -> Vec<String> {
        let office = self.office;
        // The head of office first, then the filing attorney, each with a State Bar number
        // where the profile has one.
        let mut lines = Vec::new();
        if let Some(head) = &office.attorney.head_of_office {
            lines.push(match &office.attorney.head_of_office_state_bar_number {
                Some(number) => format!("{head} (SBN {number})"),
                None => head.clone(),
            });
        }
        lines.push(format!(
            "{} (SBN {})",
            office.attorney.name.to_uppercase(),
            office.attorney.state_bar_number
        ));
        lines.push(office.attorney.title.clone());
        lines.push(office.agency.name.clone());
        lines.extend(office.agency.address.iter().cloned());
        lines.push(format!("Telephone: {}", office.agency.phone));
        lines.push(format!("Email: {}", office.agency.email));
        lines.push(String::new());
        lines.push("Attorneys for Plaintiff,".into());
        lines.push("The People of the State of California".into());
        lines
    }

    pub(crate) fn office_json(&self) -> Value {
        let office = self.office;
        json!({
            "agency": office.agency.name,
            "caption_lines": self.caption_lines(),
            "signature_lines": [
                office.attorney.signature,
                office.attorney.name.to_uppercase(),
                office.attorney.title,
                office.agency.name,
            ],
            "service_signature": [
                format!("/s/ {}", office.service.declarant),
                office.service.declarant.clone(),
                office.service.declarant_title,
            ],
        })
    }

    /// The proof of service of `documents` on the public defender, dated with the as-of date.
    fn proof_of_service(
        &self,
        renderer: &Renderer,
        documents: &str,
    ) -> Result<Vec<String>, RenderError> {
        let office = self.office;
        let context = merge(
            self.wording_base(),
            json!({
                "declarant": office.service.declarant,
                "agency_address": office.agency.address.join(", "),
                "service_address": office.service.public_defender_address.join(", "),
                "method": office.service.method,
                "served_on": self.as_of.format_long(),
                "documents": documents,
            }),
        );
        renderer.paragraphs("proof-of-service", &context)
    }

    pub(crate) fn court_json(&self) -> Value {
        json!({
            "title": "Superior Court of the State of California",
            "county_line": self.office.court.county,
            "judge_title": self.office.court.judge_title,
            "department": self.office.court.department,
        })
    }

    /// The hearing lines of a petition's caption: the date and time the office profile gives,
    /// or blank lines for the clerk.
    fn hearing_lines(&self) -> String {
        const BLANK: &str = "____________";
        let court = &self.office.court;
        format!(
            "Hearing date: {}\nTime: {}",
            court.hearing_date.as_deref().unwrap_or(BLANK),
            court.hearing_time.as_deref().unwrap_or(BLANK)
        )
    }

    fn wording_base(&self) -> Value {
        json!({
            "agency": self.office.agency.name,
            "county": self.office.court.county,
            "public_defender": self.office.agency.public_defender,
        })
    }
}

fn capitalized_level(level: &str) -> String {
    let mut characters = level.chars();
    characters.next().map_or_else(String::new, |first| {
        first.to_uppercase().collect::<String>() + characters.as_str()
    })
}

/// Short relief label for the count table.
pub(crate) fn relief_label(count: &CountPlan) -> &'static str {
    match (count.relief, count.serving) {
        (Relief::DismissAndSeal, _) if count.policy_basis && count.seal => {
            "Dismiss and seal (People's policy)"
        }
        (Relief::DismissAndSeal, _) if count.policy_basis => "Dismiss (People's policy)",
        (Relief::RedesignateMisdemeanor, _) if count.policy_basis => {
            "Reduce to misdemeanor (People's policy)"
        }
        (Relief::RedesignateInfraction, _) if count.policy_basis => {
            "Reduce to infraction (People's policy)"
        }
        (Relief::DismissAndSeal, false) => "Dismiss and seal (legally invalid)",
        (Relief::DismissAndSeal, true) => "Dismiss sentence (legally invalid)",
        (Relief::RedesignateMisdemeanor, false) => "Redesignate as misdemeanor",
        (Relief::RedesignateMisdemeanor, true) => "Recall and resentence as misdemeanor",
        (Relief::RedesignateInfraction, false) => "Redesignate as infraction",
        (Relief::RedesignateInfraction, true) => "Recall and resentence as infraction",
    }
}

/// What the statute alone gives a count, in the words of its track: a completed sentence is
/// dismissed and sealed or redesignated (§ 11361.8(e)-(f)); a sentence still being served is
/// dismissed or recalled and resentenced (§ 11361.8(a)-(b)).
fn statutory_phrase(outcome: Option<&str>, serving: bool) -> &'static str {
    match (outcome, serving) {
        (Some("dismiss_and_seal"), false) => "dismissal and sealing",
        (Some("dismiss_and_seal"), true) => "dismissal of the sentence",
        (Some("redesignate_misdemeanor"), false) => "redesignation as a misdemeanor",
        (Some("redesignate_misdemeanor"), true) => {
            "recall of the sentence and resentencing as a misdemeanor"
        }
        (Some("redesignate_infraction"), false) => "redesignation as an infraction",
        (Some("redesignate_infraction"), true) => {
            "recall of the sentence and resentencing as an infraction"
        }
        (Some("needs_review"), _) => "a decision on review",
        _ => "no relief",
    }
}

/// "count 1", "counts 1 and 3", "counts 1, 2 and 4".
pub(crate) fn counts_phrase(numbers: &[String]) -> String {
    match numbers.len() {
        0 => String::new(),
        1 => format!("count {}", joined(numbers)),
        _ => format!("counts {}", joined(numbers)),
    }
}

/// Display number of a count: its number within the court step, or its position.
pub(crate) fn count_number(count: &CountPlan, position: usize) -> String {
    if count.count_number > 0 {
        count.count_number.to_string()
    } else {
        (position + 1).to_string()
    }
}

/// A count as the court knows it: "count 1 (HS 11357(b), misdemeanor, convicted August 25,
/// 2013)".
fn described_count(count: &CountPlan, position: usize) -> String {
    let convicted = count.conviction_date.map_or_else(
        || "date of conviction not recorded".to_string(),
        |date| format!("convicted {}", date.format_long()),
    );
    format!(
        "count {} ({}, {}, {convicted})",
        count_number(count, position),
        count.statute,
        count.level
    )
}

/// `count` written by `number`, then the noun for it: "1 conviction", "three people".
fn counted(count: usize, number: impl Fn(usize) -> String, one: &str, many: &str) -> String {
    format!("{} {}", number(count), if count == 1 { one } else { many })
}

/// "12 convictions of 9 people", "1 conviction of 1 person", each number written by `number`.
fn convictions_of_people_written(
    convictions: usize,
    people: usize,
    number: impl Fn(usize) -> String,
) -> String {
    format!(
        "{} of {}",
        counted(convictions, &number, "conviction", "convictions"),
        counted(people, &number, "person", "people")
    )
}

/// "12 convictions of 9 people", "1 conviction of 1 person".
fn convictions_of_people(convictions: usize, people: usize) -> String {
    convictions_of_people_written(convictions, people, |count| count.to_string())
}

/// A number in running text, as the California Style Manual writes it: words for one to ten,
/// figures (with thousands separators) above.
fn number_in_prose(number: usize) -> String {
    const WORDS: [&str; 11] = [
        "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    WORDS
        .get(number)
        .map_or_else(|| thousands(number as u64), |word| (*word).to_string())
}

/// "67 convictions of 53 people", "one conviction of one person": for running text, in words
/// only when both numbers are (never "12 convictions of three people").
fn convictions_of_people_in_prose(convictions: usize, people: usize) -> String {
    let in_words = convictions.max(people) <= 10;
    convictions_of_people_written(convictions, people, |count| {
        if in_words {
            number_in_prose(count)
        } else {
            thousands(count as u64)
        }
    })
}

/// A date in a table cell: `08/29/2014`, or "unknown" when the record has none.
fn us_date_or_unknown(date: Option<Date>) -> String {
    date.map_or_else(|| "unknown".to_string(), Date::format_us)
}

/// "a", "a and b", "a, b and c".
fn joined(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// Counts that share relief, track, basis, authority, sealing and statutory outcome, worded
/// together.
struct CountGroup {
    relief: Relief,
    serving: bool,
    policy_basis: bool,
    authority: String,
    seal: bool,
    statutory_outcome: Option<String>,
    numbers: Vec<String>,
    /// Each count as the court knows it, for the decrees.
    described: Vec<String>,
}

/// Counts grouped by relief, track and basis, in order of first appearance, for the wording.
fn groups(case: &CasePlan) -> Vec<Value> {
    let mut groups: Vec<CountGroup> = Vec::new();
    for (position, count) in case.counts.iter().enumerate() {
        let number = count_number(count, position);
        let described = described_count(count, position);
        let found = groups.iter_mut().find(|group| {
            group.relief == count.relief
                && group.serving == count.serving
                && group.policy_basis == count.policy_basis
                && group.statutory_outcome == count.statutory_outcome
                && (!count.policy_basis || group.authority == count.authority)
                && group.seal == count.seal
        });
        match found {
            Some(group) => {
                group.numbers.push(number);
                group.described.push(described);
            }
            None => groups.push(CountGroup {
                relief: count.relief,
                serving: count.serving,
                policy_basis: count.policy_basis,
                authority: count.authority.clone(),
                seal: count.seal,
                statutory_outcome: count.statutory_outcome.clone(),
                numbers: vec![number],
                described: vec![described],
            }),
        }
    }
    groups
        .into_iter()
        .map(|group| {
            let counts = counts_phrase(&group.numbers);
            let described = joined(&group.described);
            let plural = group.numbers.len() > 1;
            json!({
                "counts": counts,
                // Decrees name each count as the court knows it: statute, level, date.
                "described": described,
                "capitalized": if plural { format!("The convictions in {described}") } else { format!("The conviction in {described}") },
                "plural": plural,
                "dismiss": group.relief == Relief::DismissAndSeal,
                "misdemeanor": group.relief == Relief::RedesignateMisdemeanor,
                "infraction": group.relief == Relief::RedesignateInfraction,
                "serving": group.serving,
                "policy": group.policy_basis,
                // Policy relief cites exactly the authority the policy names.
                "authority": if group.policy_basis { group.authority.clone() } else { String::new() },
                "seal": group.seal,
                "statutory": statutory_phrase(group.statutory_outcome.as_deref(), group.serving),
            })
        })
        .collect()
}

/// Relief only the People's policy gives: the statute alone gives the count nothing.
fn beyond_statute(count: &CountPlan) -> bool {
    count.policy_basis
        && !matches!(
            count.statutory_outcome.as_deref(),
            Some("dismiss_and_seal" | "redesignate_misdemeanor" | "redesignate_infraction")
        )
}

/// "count 1", "counts 1 and 3" for the counts of a case that `keep` keeps ("" when none).
fn counts_where(case: &CasePlan, keep: impl Fn(&CountPlan) -> bool) -> String {
    let numbers: Vec<String> = case
        .counts
        .iter()
        .enumerate()
        .filter(|(_, count)| keep(count))
        .map(|(position, count)| count_number(count, position))
        .collect();
    counts_phrase(&numbers)
}

/// The distinct authorities of policy counts, `; `-joined in first-seen order.
fn distinct_authorities<'a>(counts: impl Iterator<Item = &'a CountPlan>) -> String {
    let mut authorities: Vec<&str> = Vec::new();
    for count in counts.filter(|count| count.policy_basis) {
        if !authorities.contains(&count.authority.as_str()) {
            authorities.push(&count.authority);
        }
    }
    authorities.join("; ")
}

fn merge(mut base: Value, extra: Value) -> Value {
    if let (Some(base), Value::Object(extra)) = (base.as_object_mut(), extra) {
        base.extend(extra);
    }
    base
}

/// The data of one case within a chunk.
fn case_json(
    renderer: &Renderer,
    letterhead: &Letterhead<'_>,
    case: &CasePlan,
    proof_of_service: &Value,
) -> Result<Value, RenderError> {
    let serving = case.counts.iter().any(|count| count.serving);
    let completed = case.counts.iter().any(|count| !count.serving);
    let track = match (completed, serving) {
        (true, true) => "Application and petition",
        (false, true) => "Petition",
        _ => "Application",
    };
    let context = merge(
        letterhead.wording_base(),
        json!({
            "defendant": case.defendant,
            "case_numbers": case.case_numbers_text(),
            "groups": groups(case),
            "sealed_by_statute": counts_where(case, |count| count.seal && !count.policy_basis),
            "sealed_by_policy": counts_where(case, |count| count.seal && count.policy_basis),
            "any_serving": serving,
            "any_completed": completed,
            // Counts whose relief is the statute's (presumed eligible), counts where the People's
            // policy asks for more than the statute gives, and counts only the policy relieves:
            // an order never finds the last kind eligible under § 11361.8, and never says the
            // People "do not challenge" relief they are asking to exceed.
            "presumed_counts": counts_where(case, |count| !count.policy_basis),
            "more_than_statute_counts": counts_where(case, |count| count.policy_basis && !beyond_statute(count)),
            "beyond_statute_counts": counts_where(case, beyond_statute),
            // The public-safety standard of § 11361.8(b) governs the statute's petitions, not
            // relief the People ask for on their policy.
            "serving_counts": counts_where(case, |count| count.serving && !count.policy_basis),
            // The filed order identifies the person for the DOJ's records.
            "dob": case.dob.map(Date::format_long).unwrap_or_default(),
            "cii": case.cii,
            "destruction_counts": counts_where(case, |count| count.records_destruction),
        }),
    );
    let counts: Vec<Value> = case
        .counts
        .iter()
        .enumerate()
        .map(|(position, count)| {
            json!({
                "number": count_number(count, position),
                "statute": count.statute,
                "level": capitalized_level(&count.level),
                "date": count.conviction_date.map_or_else(|| "unknown".to_string(), Date::format_long),
                "relief": relief_label(count),
            })
        })
        .collect();
    Ok(json!({
        "file_stem": case.file_stem,
        "footer_title": "People's motion for relief from cannabis convictions (HS § 11361.8)",
        "order_footer_title": "[Proposed] order granting relief from cannabis convictions (HS § 11361.8)",
        "caption_left": [
            "THE PEOPLE OF THE STATE OF CALIFORNIA,",
            "Plaintiff,",
            "v.",
            format!("{},", case.defendant),
            "Defendant.",
        ],
        "case_numbers": case.case_numbers_text(),
        "motion_title": "People's motion for relief from cannabis convictions",
        "order_title": "[Proposed] order granting relief from cannabis convictions",
        // The caption says whether a hearing is asked for: none on an application
        // (§ 11361.8(g)); a petition leaves the hearing's date, time and department to the clerk.
        "subtitle": if serving {
            format!("{track} (Health & Saf. Code, §§ 11361.8, 11361.9)\n{}", letterhead.hearing_lines())
        } else {
            format!("{track} (Health & Saf. Code, §§ 11361.8, 11361.9)\nNo hearing requested")
        },
        "motion_intro": renderer.paragraphs("case-intro", &context)?,
        "proof_of_service": proof_of_service,
        "counts": counts,
        "motion_request": renderer.paragraphs("case-request", &context)?,
        "order_findings": renderer.paragraphs("case-findings", &context)?,
        "order_decrees": renderer.paragraphs("case-decrees", &context)?,
    }))
}

/// `/data.json` for `case.typ`: a chunk of cases.
pub fn case_chunk(
    renderer: &Renderer,
    letterhead: &Letterhead<'_>,
    cases: &[CasePlan],
    title: &str,
) -> Result<Vec<u8>, RenderError> {
    // The same for every case (office, date, documents served): rendered once per chunk.
    let proof_of_service = Value::from(letterhead.proof_of_service(
        renderer,
        "the People's motion for relief from cannabis convictions and the [proposed] order in this case",
    )?);
    let cases: Vec<Value> = cases
        .iter()
        .map(|case| case_json(renderer, letterhead, case, &proof_of_service))
        .collect::<Result<_, _>>()?;
    let data = json!({
        "title": title,
        "office": letterhead.office_json(),
        "court": letterhead.court_json(),
        "dated": letterhead.as_of.format_long(),
        "labels": {
            "counts_heading": "Convictions",
            "count_columns": ["Count", "Statute", "Level", "Convicted", "Relief requested"],
            "so_ordered": "IT IS SO ORDERED.",
            "proof_of_service": "Proof of service",
        },
        "cases": cases,
    });
    Ok(serde_json::to_vec(&data).expect("JSON values serialize"))
}

// ---------------------------------------------------------------------------------------------
// The omnibus filing

use crate::config::{Contact, Language};
use crate::plan::{
    ExhibitSection, LetterItem, LetterLanguage, LetterMode, LetterPlan, MailingStatus,
    OmnibusFiling, OmnibusPlan,
};

fn section_text(section: ExhibitSection) -> (&'static str, &'static str, &'static str) {
    match section {
        ExhibitSection::A1 => (
            "Convictions to be dismissed and sealed",
            "Dismiss and seal (legally invalid)",
            "Sentence completed; legally invalid under Health and Safety Code section 11361.8, subdivisions (e) and (f)",
        ),
        ExhibitSection::A2 => (
            "Felony convictions to be redesignated as misdemeanors",
            "Redesignate as misdemeanor",
            "Sentence completed; Health and Safety Code section 11361.8, subdivisions (f) and (h)",
        ),
        ExhibitSection::A3 => (
            "Convictions to be redesignated as infractions",
            "Redesignate as infraction",
            "Sentence completed; Health and Safety Code section 11361.8, subdivisions (f) and (h)",
        ),
        ExhibitSection::A4 => (
            "Petitions: people still serving their sentences",
            "Recall and resentence, or dismiss the sentence",
            "Still serving; Health and Safety Code section 11361.8, subdivisions (a) through (d)",
        ),
        ExhibitSection::A5 => (
            "Relief on the People's policy, beyond the statute",
            "Relief on the People's policy",
            "Beyond the statute, on the authority stated in the motion and order; each row states the relief",
        ),
    }
}

/// The data of the omnibus filing, from which each part's `/data.json` for `omnibus.typ` is
/// made: the motion, runs of exhibit rows, the order.
pub struct OmnibusData {
    /// Everything but the part and the exhibit rows.
    base: serde_json::Map<String, Value>,
    /// Per exhibit: what the slip sheet says, and the cells of its rows, row by row.
    sections: Vec<(Value, Vec<String>)>,
    columns: usize,
}

/// A run of rows of one exhibit, rendered as one part.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExhibitRun {
    /// Index into the filing's exhibits.
    pub section: usize,
    /// Rows of the exhibit.
    pub rows: std::ops::Range<usize>,
}

impl OmnibusData {
    fn part(&self, part: &str, extra: impl IntoIterator<Item = (&'static str, Value)>) -> Vec<u8> {
        let mut data = self.base.clone();
        data.insert("part".into(), json!(part));
        for (key, value) in extra {
            data.insert(key.into(), value);
        }
        serde_json::to_vec(&data).expect("JSON values serialize")
    }

    pub fn motion(&self) -> Vec<u8> {
        self.part("motion", [])
    }

    pub fn order(&self) -> Vec<u8> {
        self.part("order", [])
    }

    /// The exhibits' ids ("A-1") and titles, in order.
    pub fn exhibits(&self) -> Vec<(String, String)> {
        self.sections
            .iter()
            .map(|(section, _)| {
                (
                    section["id"].as_str().unwrap_or_default().to_string(),
                    section["title"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// Every exhibit cut into runs of at most `rows_per_run` rows.
    pub fn exhibit_runs(&self, rows_per_run: usize) -> Vec<ExhibitRun> {
        let mut runs = Vec::new();
        for (index, (_, cells)) in self.sections.iter().enumerate() {
            let rows = cells.len() / self.columns.max(1);
            let mut start = 0;
            while start < rows {
                let end = (start + rows_per_run.max(1)).min(rows);
                runs.push(ExhibitRun {
                    section: index,
                    rows: start..end,
                });
                start = end;
            }
        }
        runs
    }

    pub fn exhibit(&self, run: &ExhibitRun) -> Vec<u8> {
        let (section, cells) = &self.sections[run.section];
        let cells = &cells[run.rows.start * self.columns..run.rows.end * self.columns];
        self.part(
            "exhibit",
            [
                ("section", section.clone()),
                ("first", json!(run.rows.start == 0)),
                ("cells", json!(cells)),
            ],
        )
    }
}

/// The left side of an omnibus filing's caption (and of the application to seal its exhibit).
const OMNIBUS_CAPTION: [&str; 7] = [
    "In re Cannabis Convictions Eligible for Relief Under Health and Safety Code Section 11361.9",
    "",
    "THE PEOPLE OF THE STATE OF CALIFORNIA,",
    "Plaintiff,",
    "v.",
    "THE DEFENDANTS LISTED IN EXHIBIT A,",
    "Defendants.",
];

/// The omnibus filing's data. `redacted`: identify people by case number only.
pub fn omnibus(
    renderer: &Renderer,
    letterhead: &Letterhead<'_>,
    plan: &OmnibusPlan,
    redacted: bool,
) -> Result<OmnibusData, RenderError> {
    let (columns, widths): (Vec<&str>, Vec<f64>) = if redacted {
        (
            vec![
                "Case No.",
                "Count",
                "Statute",
                "Level",
                "Convicted",
                "Relief",
            ],
            vec![1.5, 0.6, 1.15, 1.0, 0.95, 0.0],
        )
    } else {
        (
            vec![
                "Case No.",
                "Defendant",
                "Born",
                "Count",
                "Statute",
                "Level",
                "Convicted",
                "Relief",
            ],
            vec![1.0, 0.0, 0.42, 0.48, 0.92, 0.95, 0.8, 1.45],
        )
    };
    let mut sections = Vec::new();
    let mut section_flags = Vec::new();
    for (section, rows) in &plan.sections {
        let (title, description, description_long) = section_text(*section);
        let mut cells: Vec<String> = Vec::with_capacity(rows.len() * columns.len());
        let mut people = std::collections::BTreeSet::new();
        for (position, row) in rows.iter().enumerate() {
            people.insert((&row.cii, &row.defendant));
            cells.push(row.case_numbers.clone());
            if !redacted {
                cells.push(row.defendant.clone());
                cells.push(
                    row.dob
                        .map(|date| date.year().to_string())
                        .unwrap_or_default(),
                );
            }
            cells.push(count_number(&row.count, position));
            cells.push(row.count.statute.clone());
            cells.push(capitalized_level(&row.count.level));
            cells.push(us_date_or_unknown(row.count.conviction_date));
            cells.push(relief_label(&row.count).to_string());
        }
        let first = rows.first().map(|row| &row.count);
        let count_line = convictions_of_people(rows.len(), people.len());
        sections.push((
            json!({
                "id": section.id(),
                "title": title,
                "description": description,
                "description_long": description_long,
                "count_line": count_line,
                "people": people.len(),
                "rows": rows.len(),
            }),
            cells,
        ));
        section_flags.push(json!({
            "id": section.id(),
            "title": title,
            "people": people.len(),
            "rows": rows.len(),
            "dismiss": first.is_some_and(|count| count.relief == Relief::DismissAndSeal),
            "misdemeanor": first.is_some_and(|count| count.relief == Relief::RedesignateMisdemeanor),
            "infraction": first.is_some_and(|count| count.relief == Relief::RedesignateInfraction),
            "serving": *section == ExhibitSection::A4,
            "policy": *section == ExhibitSection::A5,
            // The distinct authorities the policy rows cite, in first-seen order.
            "authorities": distinct_authorities(rows.iter().map(|row| &row.count)),
        }));
    }
    let counts = plan.row_count();
    let petition = plan.filing == OmnibusFiling::Petition;
    let statute_exhibits: Vec<String> = plan
        .sections
        .iter()
        .filter(|(section, _)| *section != ExhibitSection::A5)
        .map(|(section, _)| format!("Exhibit {}", section.id()))
        .collect();
    let policy_rows: Vec<&CountPlan> = plan
        .sections
        .iter()
        .filter(|(section, _)| *section == ExhibitSection::A5)
        .flat_map(|(_, rows)| rows.iter().map(|row| &row.count))
        .collect();
    let context = merge(
        letterhead.wording_base(),
        json!({
            "people": plan.people,
            "cases": plan.cases,
            "counts": counts,
            "as_of": letterhead.as_of.format_long(),
            "redacted": redacted,
            "petition": petition,
            // "Exhibit A-1 and Exhibit A-2": the exhibits whose counts the statute relieves
            // (presumed eligible); Exhibit A-5 is the policy's, never found eligible by them.
            "statute_exhibits": joined(&statute_exhibits),
            "policy_exhibit": !policy_rows.is_empty(),
            "policy_beyond_statute": policy_rows.iter().any(|count| beyond_statute(count)),
            "policy_authorities": distinct_authorities(policy_rows.iter().copied()),
            "sections": section_flags,
            "any_dismissal": plan.sections.iter().any(|(section, _)| *section == ExhibitSection::A1),
            "policy_sealed": plan.sections.iter().any(|(section, rows)| *section == ExhibitSection::A5 && rows.iter().any(|row| row.count.seal)),
        }),
    );
    let variant = if redacted {
        " (public version: case numbers only)"
    } else {
        ""
    };
    let (motion_title, order_title, subtitle, case_number) = if petition {
        (
            "People's omnibus notice of non-challenge and petition for recall or dismissal of sentences still being served",
            "[Proposed] omnibus order on the People's petition for recall or dismissal of sentences",
            format!(
                "(Health & Saf. Code, § 11361.8, subds. (a)-(d); § 11361.9)\n{}",
                letterhead.hearing_lines()
            ),
            letterhead.office.court.omnibus_petition_case_number.clone(),
        )
    } else {
        (
            "People's omnibus notice of non-challenge and motion for relief from cannabis convictions",
            "[Proposed] omnibus order granting relief from cannabis convictions",
            "(Health & Saf. Code, §§ 11361.8, 11361.9)\nNo hearing required (Health & Saf. Code, §\u{a0}11361.8, subd. (g))"
                .to_string(),
            letterhead.office.court.omnibus_case_number.clone(),
        )
    };
    let data = json!({
        "title": format!("{motion_title}{variant}"),
        "office": letterhead.office_json(),
        "court": letterhead.court_json(),
        "dated": letterhead.as_of.format_long(),
        "caption_left": OMNIBUS_CAPTION,
        "motion_title": motion_title,
        "order_title": order_title,
        // The proposed order carries no legend: it is what the court signs either way.
        "order_subtitle": subtitle,
        // The cover legends of rule 2.551(b)(5) on the motion's caption: the full version lodged
        // conditionally under seal, the redacted one filed publicly.
        "subtitle": format!("{subtitle}\n{}", if redacted {
            "Public\u{2014}Redacts material from conditionally sealed record"
        } else {
            "May Not Be Examined Without Court Order\u{2014}Contains material from conditionally sealed record"
        }),
        "motion_footer_title": if petition { "People's omnibus petition for recall or dismissal of sentences (HS §§ 11361.8, 11361.9)" } else { "People's omnibus motion for relief from cannabis convictions (HS §§ 11361.8, 11361.9)" },
        "order_footer_title": if petition { "[Proposed] order on petition for recall or dismissal of sentences (HS § 11361.8)" } else { "[Proposed] omnibus order granting relief from cannabis convictions (HS § 11361.8)" },
        "motion_paragraphs": renderer.paragraphs("omnibus-motion", &context)?,
        "request_paragraphs": renderer.paragraphs("omnibus-request", &context)?,
        "order_findings": renderer.paragraphs("omnibus-findings", &context)?,
        "order_decrees": renderer.paragraphs("omnibus-decrees", &context)?,
        "proof_of_service": letterhead.proof_of_service(
            renderer,
            if petition {
                "the People's omnibus notice of non-challenge and petition for recall or dismissal of sentences, its Exhibit A and the [proposed] omnibus order"
            } else {
                "the People's omnibus notice of non-challenge and motion, its Exhibit A and the [proposed] omnibus order"
            },
        )?,
        "labels": {
            // The filing's own number: the office's when it has one, else the clerk's to assign.
            "case_numbers": case_number.unwrap_or_else(|| "To be assigned by the clerk".into()),
            "request_heading": "Convictions in Exhibit A",
            "summary_columns": ["Exhibit", "Relief", "People", "Counts"],
            "exhibit": "Exhibit",
            "page": "page",
            "of": "of",
            "motion": if petition { "Notice of non-challenge and petition" } else { "Notice of non-challenge and motion" },
            "proof_of_service": "Proof of service",
            "order": "[Proposed] order",
            "so_ordered": "IT IS SO ORDERED.",
        },
        "sections": sections.iter().map(|(section, _)| section.clone()).collect::<Vec<_>>(),
        "exhibit_columns": columns,
        "exhibit_column_widths": widths,
    });
    let Value::Object(base) = data else {
        unreachable!("json!({{...}}) is an object");
    };
    Ok(OmnibusData {
        base,
        sections,
        columns: columns.len(),
    })
}

// ---------------------------------------------------------------------------------------------
// Letters

/// What a letter says happens to one conviction: the same outcome the order decrees, in the
/// letter's own words (a serving-track dismissal ends a sentence and seals nothing; a policy
/// dismissal seals only when the policy says so).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum LetterOutcome {
    DismissedAndSealed,
    DismissedNotSealed,
    SentenceDismissed,
    ReducedToMisdemeanor,
    ReducedToInfraction,
    ResentencedAsMisdemeanor,
    ResentencedAsInfraction,
}

impl LetterOutcome {
    const ALL: [LetterOutcome; 7] = [
        LetterOutcome::DismissedAndSealed,
        LetterOutcome::DismissedNotSealed,
        LetterOutcome::SentenceDismissed,
        LetterOutcome::ReducedToMisdemeanor,
        LetterOutcome::ReducedToInfraction,
        LetterOutcome::ResentencedAsMisdemeanor,
        LetterOutcome::ResentencedAsInfraction,
    ];

    fn of(count: &CountPlan) -> LetterOutcome {
        // Policy relief is decreed as the policy words it (dismissed, or reduced, citing its
        // authority) on any track; the statute's serving track recalls a sentence.
        let serving_by_statute = count.serving && !count.policy_basis;
        match (count.relief, serving_by_statute) {
            (Relief::DismissAndSeal, true) => LetterOutcome::SentenceDismissed,
            (Relief::DismissAndSeal, false) if count.seal => LetterOutcome::DismissedAndSealed,
            (Relief::DismissAndSeal, false) => LetterOutcome::DismissedNotSealed,
            (Relief::RedesignateMisdemeanor, false) => LetterOutcome::ReducedToMisdemeanor,
            (Relief::RedesignateMisdemeanor, true) => LetterOutcome::ResentencedAsMisdemeanor,
            (Relief::RedesignateInfraction, false) => LetterOutcome::ReducedToInfraction,
            (Relief::RedesignateInfraction, true) => LetterOutcome::ResentencedAsInfraction,
        }
    }

    /// The key the wording templates see: `any_<key>`, `only_<key>`, `plural_<key>`.
    fn key(self) -> &'static str {
        match self {
            LetterOutcome::DismissedAndSealed => "dismissed_and_sealed",
            LetterOutcome::DismissedNotSealed => "dismissed_not_sealed",
            LetterOutcome::SentenceDismissed => "sentence_dismissed",
            LetterOutcome::ReducedToMisdemeanor => "reduced_to_misdemeanor",
            LetterOutcome::ReducedToInfraction => "reduced_to_infraction",
            LetterOutcome::ResentencedAsMisdemeanor => "resentenced_as_misdemeanor",
            LetterOutcome::ResentencedAsInfraction => "resentenced_as_infraction",
        }
    }

    /// The table's result column: what was asked (notice) or what was ordered (post-order).
    fn label(self, language: Language, ordered: bool) -> &'static str {
        use LetterOutcome::{
            DismissedAndSealed, DismissedNotSealed, ReducedToInfraction, ReducedToMisdemeanor,
            ResentencedAsInfraction, ResentencedAsMisdemeanor, SentenceDismissed,
        };
        match (language, ordered, self) {
            (Language::En, false, DismissedAndSealed) => "Dismiss and seal",
            (Language::En, false, DismissedNotSealed) => "Dismiss (record not sealed)",
            (Language::En, false, SentenceDismissed) => "Dismiss the sentence",
            (Language::En, false, ReducedToMisdemeanor) => "Reduce to a misdemeanor",
            (Language::En, false, ReducedToInfraction) => "Reduce to an infraction",
            (Language::En, false, ResentencedAsMisdemeanor) => "New sentence as a misdemeanor",
            (Language::En, false, ResentencedAsInfraction) => "New sentence as an infraction",
            (Language::En, true, DismissedAndSealed) => "Dismissed and sealed",
            (Language::En, true, DismissedNotSealed) => "Dismissed (record not sealed)",
            (Language::En, true, SentenceDismissed) => "Sentence dismissed",
            (Language::En, true, ReducedToMisdemeanor) => "Reduced to a misdemeanor",
            (Language::En, true, ReducedToInfraction) => "Reduced to an infraction",
            (Language::En, true, ResentencedAsMisdemeanor) => "Resentenced as a misdemeanor",
            (Language::En, true, ResentencedAsInfraction) => "Resentenced as an infraction",
            (Language::Es, false, DismissedAndSealed) => "Desestimar y sellar",
            (Language::Es, false, DismissedNotSealed) => "Desestimar (sin sellar el expediente)",
            (Language::Es, false, SentenceDismissed) => "Dejar sin efecto la pena",
            (Language::Es, false, ReducedToMisdemeanor) => "Reducir a delito menor",
            (Language::Es, false, ReducedToInfraction) => "Reducir a infracción",
            (Language::Es, false, ResentencedAsMisdemeanor) => "Nueva pena como delito menor",
            (Language::Es, false, ResentencedAsInfraction) => "Nueva pena como infracción",
            (Language::Es, true, DismissedAndSealed) => "Desestimada y sellada",
            (Language::Es, true, DismissedNotSealed) => "Desestimada (expediente sin sellar)",
            (Language::Es, true, SentenceDismissed) => "Pena dejada sin efecto",
            (Language::Es, true, ReducedToMisdemeanor) => "Reducida a delito menor",
            (Language::Es, true, ReducedToInfraction) => "Reducida a infracción",
            (Language::Es, true, ResentencedAsMisdemeanor) => "Nueva pena: delito menor",
            (Language::Es, true, ResentencedAsInfraction) => "Nueva pena: infracción",
        }
    }
}

/// "Possessing marijuana (Health and Safety Code section 11357(b))": the offence in plain words
/// and its code spelled out (no abbreviation a reader has to know), in the letter's language.
fn plain_offense(count: &CountPlan, language: Language) -> String {
    // An attempt is recorded as "PC 664/HS 11359": say it is an attempt, and cite both codes.
    let (attempt, statute) = match count.statute.strip_prefix("PC 664/") {
        Some(rest) => (true, rest),
        None => (false, count.statute.as_str()),
    };
    let (code, section) = statute.split_once(' ').unwrap_or(("", statute));
    let base = section.split('(').next().unwrap_or_default();
    // A bare Prop 64 section ("11359") is the Health and Safety Code's.
    let code = if code.is_empty() && base.starts_with("113") {
        "HS"
    } else {
        code
    };
    let words = match (base, language) {
        ("11357", Language::En) => "Possessing marijuana",
        ("11358", Language::En) => "Growing marijuana",
        ("11359", Language::En) => "Possessing marijuana for sale",
        ("11360", Language::En) => "Selling, giving away or transporting marijuana",
        ("11362.1", Language::En) => "Using or possessing marijuana",
        ("11357", Language::Es) => "Posesión de marihuana",
        ("11358", Language::Es) => "Cultivo de marihuana",
        ("11359", Language::Es) => "Posesión de marihuana para la venta",
        ("11360", Language::Es) => "Venta, entrega o transporte de marihuana",
        ("11362.1", Language::Es) => "Uso o posesión de marihuana",
        (_, Language::En) => "Marijuana offense",
        (_, Language::Es) => "Delito de marihuana",
    };
    let code_name = match (code, language) {
        ("HS", Language::En) => "Health and Safety Code",
        ("HS", Language::Es) => "Código de Salud y Seguridad",
        ("PC", Language::En) => "Penal Code",
        ("PC", Language::Es) => "Código Penal",
        ("VC", Language::En) => "Vehicle Code",
        ("VC", Language::Es) => "Código de Vehículos",
        ("BP", Language::En) => "Business and Professions Code",
        ("BP", Language::Es) => "Código de Negocios y Profesiones",
        _ => "",
    };
    let citation = match (code_name, language) {
        ("", _) => statute.to_string(),
        (name, Language::En) => format!("{name} section {section}"),
        (name, Language::Es) => format!("{name}, sección {section}"),
    };
    match (attempt, language) {
        (false, _) => format!("{words} ({citation})"),
        (true, Language::En) => {
            format!("Attempt: {words} (Penal Code section 664 and {citation})")
        }
        (true, Language::Es) => {
            format!("Intento: {words} (Código Penal, sección 664, y {citation})")
        }
    }
}

/// "Superior Court of California, County of San Francisco" in the letter's language, from the
/// court's county line ("County of …" or "City and County of …").
fn court_name(county_line: &str, language: Language) -> String {
    let line = county_line.trim();
    match language {
        Language::En => format!("Superior Court of California, {line}"),
        Language::Es => {
            let county = crate::config::county_of_court(line);
            if line.starts_with("City and County of") {
                format!("Tribunal Superior de California, Ciudad y Condado de {county}")
            } else {
                format!("Tribunal Superior de California, Condado de {county}")
            }
        }
    }
}

/// "July 1, 2020" or "1 de julio de 2020".
pub(crate) fn long_date(date: Date, language: Language) -> String {
    const MESES: [&str; 12] = [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ];
    match language {
        Language::En => date.format_long(),
        Language::Es => {
            let (year, month, day) = date.ymd();
            format!("{day} de {} de {year}", MESES[month as usize - 1])
        }
    }
}

/// The recipient block for the envelope window.
fn recipient_lines(letter: &LetterPlan) -> Vec<String> {
    let mut lines = vec![letter.name.to_uppercase()];
    match (&letter.contact, letter.status) {
        (
            Some(Contact {
                address_lines,
                city,
                state,
                zip,
                ..
            }),
            _,
        ) => {
            lines.extend(address_lines.iter().map(|line| line.to_uppercase()));
            lines.push(format!(
                "{} {} {}",
                city.to_uppercase(),
                state.to_uppercase(),
                zip
            ));
        }
        (None, _) => lines.push("[ADDRESS NOT ON FILE]".into()),
    }
    lines
}

/// The wording context of one letter in one language: the mode, the court, and which outcomes
/// it reports (`any_`, `only_` and `plural_` per [`LetterOutcome`]) so that every sentence
/// agrees in number with what it reports.
fn letter_wording_context(
    letterhead: &Letterhead<'_>,
    letter: &LetterPlan,
    language: Language,
) -> Value {
    let office = letterhead.office;
    let contacts = &office.letters;
    let es = language == Language::Es;
    let outcomes: Vec<LetterOutcome> = letter
        .items
        .iter()
        .map(|item| LetterOutcome::of(&item.count))
        .collect();
    let (post_order, order_date, judge) = match letterhead.letter_mode {
        LetterMode::Notice => (false, String::new(), String::new()),
        LetterMode::PostOrder { order_date, judge } => (
            true,
            long_date(*order_date, language),
            judge.clone().unwrap_or_default(),
        ),
    };
    let policy_items: Vec<&LetterItem> = letter
        .items
        .iter()
        .filter(|item| item.count.policy_basis)
        .collect();
    let mut policy_authorities: Vec<&str> = policy_items
        .iter()
        .map(|item| item.count.authority.as_str())
        .collect();
    policy_authorities.sort_unstable();
    policy_authorities.dedup();
    let reduced = |item: &&LetterItem| {
        matches!(
            LetterOutcome::of(&item.count),
            LetterOutcome::ReducedToMisdemeanor | LetterOutcome::ReducedToInfraction
        )
    };
    let (agency, unit, public_defender) = letter_names(office, language);
    let mut context = json!({
        "language": language.code(),
        "notice": !post_order,
        "post_order": post_order,
        "order_date": order_date,
        "judge": judge,
        "court": court_name(&office.court.county, language),
        "name": letter.name,
        "plural": letter.items.len() > 1,
        "mixed": outcomes.iter().any(|outcome| *outcome != outcomes[0]),
        "any_serving": letter.items.iter().any(|item| item.count.serving),
        "any_policy": !policy_items.is_empty(),
        "plural_policy": policy_items.len() > 1,
        "policy_authorities": policy_authorities.join("; "),
        "reduced_all_statutory": letter.items.iter().filter(reduced).all(|item| !item.count.policy_basis),
        "other_convictions": letter.other_convictions,
        // A dismissal (on the policy's basis) of a conviction whose sentence is still being
        // served ends that sentence too: the letter says so.
        "dismissal_ends_sentence": letter.items.iter().any(|item| item.count.serving && matches!(LetterOutcome::of(&item.count), LetterOutcome::DismissedAndSealed | LetterOutcome::DismissedNotSealed)),
        "unit": unit,
        "phone": contacts.phone,
        "email": contacts.email,
        "hours": if es { &contacts.hours_es } else { &contacts.hours_en },
        "agency": agency,
        "public_defender": public_defender,
    });
    let fields = context.as_object_mut().expect("an object");
    for outcome in LetterOutcome::ALL {
        let matching = outcomes.iter().filter(|each| **each == outcome).count();
        let key = outcome.key();
        fields.insert(format!("any_{key}"), json!(matching > 0));
        fields.insert(format!("only_{key}"), json!(matching == outcomes.len()));
        fields.insert(format!("plural_{key}"), json!(matching > 1));
    }
    context
}

/// The office's, the unit's and the public defender's names in the letter's language (the
/// profile's Spanish names when it gives them).
fn letter_names(office: &OfficeProfile, language: Language) -> (&str, &str, &str) {
    let contacts = &office.letters;
    match language {
        Language::En => (
            office.agency.name.as_str(),
            contacts.unit.as_str(),
            office.agency.public_defender.as_str(),
        ),
        Language::Es => (
            contacts
                .agency_name_es
                .as_deref()
                .unwrap_or(&office.agency.name),
            contacts.unit_es.as_deref().unwrap_or(&contacts.unit),
            contacts
                .public_defender_name_es
                .as_deref()
                .unwrap_or(&office.agency.public_defender),
        ),
    }
}

/// One language's part of a letter: everything below the envelope window.
fn letter_part_json(
    renderer: &Renderer,
    letterhead: &Letterhead<'_>,
    letter: &LetterPlan,
    language: Language,
) -> Result<Value, RenderError> {
    let office = letterhead.office;
    let contacts = &office.letters;
    let es = language == Language::Es;
    let post_order = matches!(letterhead.letter_mode, LetterMode::PostOrder { .. });
    let context = letter_wording_context(letterhead, letter, language);
    let body: Vec<Value> = renderer
        .paragraphs(&format!("letter-{}", language.code()), &context)?
        .into_iter()
        .map(|paragraph| match paragraph.strip_prefix("## ") {
            Some(heading) => json!({"heading": true, "text": heading}),
            None => json!({"heading": false, "text": paragraph}),
        })
        .collect();
    let headline = renderer.paragraphs("letter-headline", &context)?.join(" ");
    // Free legal help: the public defender first, then legal aid. Never the prosecutor's own
    // unit (Rules Prof. Conduct, rule 4.3): its number is in the "questions" paragraph only.
    let (agency, _, public_defender) = letter_names(office, language);
    let mut legal_help = vec![match &contacts.public_defender_website {
        Some(website) => format!(
            "{public_defender}: {}, {website}",
            contacts.public_defender_phone
        ),
        None => format!("{public_defender}: {}", contacts.public_defender_phone),
    }];
    legal_help.extend(contacts.legal_aid.iter().map(|aid| match &aid.website {
        Some(website) => format!("{}: {}, {website}", aid.name, aid.phone),
        None => format!("{}: {}", aid.name, aid.phone),
    }));
    let policy_note = if es {
        "Política de la Fiscalía"
    } else {
        "District Attorney’s policy"
    };
    let items: Vec<Value> = letter
        .items
        .iter()
        .map(|item| {
            let outcome = LetterOutcome::of(&item.count);
            let mut result = outcome.label(language, post_order).to_string();
            if item.count.policy_basis {
                result = format!("{result}\n({policy_note})");
            }
            json!({
                // The headline names the court; the rows give its case numbers.
                "case_numbers": item.case_numbers,
                "offense": plain_offense(&item.count, language),
                "date": item.count.conviction_date.map_or_else(|| if es { "desconocida".to_string() } else { "unknown".to_string() }, |date| long_date(date, language)),
                "result": result,
            })
        })
        .collect();
    let result_column = match (es, post_order) {
        (false, false) => "Asked of the court",
        (false, true) => "The court's order",
        (true, false) => "Lo que se pide al tribunal",
        (true, true) => "Orden del tribunal",
    };
    Ok(json!({
        "language": language.code(),
        "salutation": if es { format!("Estimado/a {}:", letter.name) } else { format!("Dear {},", letter.name) },
        "headline": headline,
        "columns": if es { ["Número de caso", "Delito", "Fecha de la condena", result_column] } else { ["Case number", "Offense", "Convicted", result_column] },
        "items": items,
        "body": body,
        "legal_help": legal_help,
        "signature": [
            if es { "Atentamente," } else { "Sincerely," },
            contacts.signer.as_str(),
            if es { contacts.signer_title_es.as_str() } else { contacts.signer_title_en.as_str() },
            agency,
        ],
        "not_legal_advice": if es { "Esta carta no es asesoramiento legal." } else { "This letter is not legal advice." },
    }))
}

fn letter_json(
    renderer: &Renderer,
    letterhead: &Letterhead<'_>,
    letter: &LetterPlan,
) -> Result<Value, RenderError> {
    let office = letterhead.office;
    let languages = letter.language.parts();
    let parts: Vec<Value> = languages
        .iter()
        .map(|language| letter_part_json(renderer, letterhead, letter, *language))
        .collect::<Result<_, _>>()?;
    Ok(json!({
        "file_stem": letter.file_stem(),
        "language": languages[0].code(),
        "return_address": std::iter::once(office.agency.name.clone()).chain(office.agency.address.iter().cloned()).collect::<Vec<_>>(),
        "date": languages.iter().map(|language| long_date(letterhead.as_of, *language)).collect::<Vec<_>>(),
        "confidential": languages.iter().map(|language| match language { Language::En => "PERSONAL AND CONFIDENTIAL", Language::Es => "PERSONAL Y CONFIDENCIAL" }).collect::<Vec<_>>(),
        "recipient": recipient_lines(letter),
        // A bilingual letter says at the top, in Spanish, where the Spanish text starts.
        "bilingual_note": if letter.language == LetterLanguage::EnglishThenSpanish { "Esta carta está en inglés y en español. La versión en español empieza en una página nueva, después de la versión en inglés." } else { "" },
        "parts": parts,
        "status": match letter.status { MailingStatus::Ready => "ready", MailingStatus::NoAddress => "no_address", MailingStatus::Deceased => "deceased" },
    }))
}

/// `/data.json` for `letter.typ`: a chunk of letters.
pub fn letter_chunk(
    renderer: &Renderer,
    letterhead: &Letterhead<'_>,
    letters: &[LetterPlan],
) -> Result<Vec<u8>, RenderError> {
    let letters: Vec<Value> = letters
        .iter()
        .map(|letter| letter_json(renderer, letterhead, letter))
        .collect::<Result<_, _>>()?;
    let data = json!({
        "title": "Notification of relief from cannabis convictions",
        "agency": letterhead.office.agency.name,
        "letters": letters,
    });
    Ok(serde_json::to_vec(&data).expect("JSON values serialize"))
}

// ---------------------------------------------------------------------------------------------
// Volume covers

/// `/data.json` for `cover.typ`.
pub fn cover(
    letterhead: &Letterhead<'_>,
    title: &str,
    volume: usize,
    volumes: usize,
    pages: (usize, usize),
    contents: &[(String, String, String)],
) -> Vec<u8> {
    let data = json!({
        "title": title,
        "agency": letterhead.office.agency.name,
        "volume_label": format!("Volume {volume} of {volumes}"),
        "pages_label": format!("Pages {} to {} of the filing", pages.0, pages.1),
        "contents_title": "Contents of the filing",
        "contents": contents.iter().map(|(title, volume, pages)| json!({"title": title, "volume": volume, "pages": pages})).collect::<Vec<_>>(),
    });
    serde_json::to_vec(&data).expect("JSON values serialize")
}

// ---------------------------------------------------------------------------------------------
// The summary report

use crate::eligibility::summary::Statistics;

/// What the summary report says besides the statistics.
pub struct SummaryFacts<'a> {
    pub statistics: &'a Statistics,
    pub county: &'a str,
    pub rules_kind: &'a str,
    pub rules_name: &'a str,
    pub rules_sha256: Option<&'a str>,
    pub input_files: usize,
    pub input_rows: u64,
    pub rejected_rows: usize,
    /// (what, how many) documents were produced.
    pub documents: Vec<(String, u64)>,
    /// Policy rule id → what the policy's rule does, in its own words (see
    /// [`policy_rule_descriptions`]); statute and gogen rules are described by
    /// [`crate::eligibility::plain_reason`].
    pub policy_rules: std::collections::BTreeMap<String, String>,
}

/// What each policy rule that decided some count does, from its determinations' reasons
/// ("county policy rule "age-50-or-older" (the person is 50 or older on 2020-07-01) dismisses
/// the conviction and seals the record on the authority of …"), without the part that varies
/// per count (what the statute alone would give).
pub fn policy_rule_descriptions(
    records: &[crate::output::DeterminationRecord],
) -> std::collections::BTreeMap<String, String> {
    let mut descriptions = std::collections::BTreeMap::new();
    for record in records
        .iter()
        .filter(|record| record.rule_id.starts_with("policy."))
    {
        descriptions
            .entry(record.rule_id.clone())
            .or_insert_with(|| {
                let reason = record.reason.as_str();
                let general = reason
                    .split_once("; the statute alone gives")
                    .map_or(reason, |(general, _)| general);
                let mut description = general.to_string();
                if let Some(first) = description.get_mut(0..1) {
                    first.make_ascii_uppercase();
                }
                description
            });
    }
    descriptions
}

pub(crate) const OUTCOME_LABELS: [(&str, &str); 5] = [
    ("dismiss_and_seal", "Dismiss and seal"),
    ("redesignate_misdemeanor", "Redesignate as misdemeanor"),
    ("redesignate_infraction", "Redesignate as infraction"),
    ("not_eligible", "Not eligible"),
    ("needs_review", "Needs review"),
];

fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (index, character) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(character);
    }
    out
}

/// `/data.json` for `summary.typ`. No personal data goes in.
pub fn summary(letterhead: &Letterhead<'_>, facts: &SummaryFacts<'_>) -> Vec<u8> {
    let statistics = facts.statistics;
    let total = statistics.determinations.max(1);
    let count_of = |outcome: &str| statistics.by_outcome.get(outcome).copied().unwrap_or(0);
    let outcomes: Vec<Value> = OUTCOME_LABELS
        .iter()
        .map(|(key, label)| {
            let value = count_of(key);
            json!({"label": label, "value": thousands(value), "share": format!("{:.1}%", value as f64 * 100.0 / total as f64)})
        })
        .collect();
    let row_values = |counts: &std::collections::BTreeMap<&'static str, u64>| -> Vec<u64> {
        OUTCOME_LABELS
            .iter()
            .map(|(key, _)| counts.get(key).copied().unwrap_or(0))
            .collect()
    };
    let by_section: Vec<Value> = statistics
        .by_section
        .iter()
        .map(|(section, counts)| {
            let values = row_values(counts);
            json!({"label": section, "values": values, "total": values.iter().sum::<u64>()})
        })
        .collect();
    let chart_max = statistics
        .by_section
        .values()
        .map(|counts| counts.values().sum::<u64>())
        .max()
        .unwrap_or(1)
        .max(1);
    let by_level: Vec<Value> = statistics
        .by_level
        .iter()
        .map(|(level, counts)| json!({"label": capitalized_level(level), "values": row_values(counts)}))
        .collect();
    let mut rules: Vec<(&String, &u64)> = statistics.by_rule.iter().collect();
    rules.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let impact = [
        (
            "People with at least one dismissal or reduction",
            statistics.impact.people_with_some_relief,
            statistics
                .impact_if_all_prop64_dismissed
                .people_with_some_relief,
        ),
        (
            "People left with no felony conviction",
            statistics.impact.people_left_with_no_felony,
            statistics
                .impact_if_all_prop64_dismissed
                .people_left_with_no_felony,
        ),
        (
            "People left with no conviction at all",
            statistics.impact.people_left_with_no_conviction,
            statistics
                .impact_if_all_prop64_dismissed
                .people_left_with_no_conviction,
        ),
    ];
    let rules_text = match facts.rules_kind {
        "statutory" => "The statute alone (Health and Safety Code section 11361.8): no relief beyond what the law requires.".to_string(),
        "gogen" => format!("Code for America gogen/BEAR options ({}), reproducing gogen's decisions.", facts.rules_sha256.map_or_else(String::new, |hash| format!("SHA-256 {}", &hash[..16]))),
        _ => format!("County policy \"{}\"{}, applied after the statute: it adds relief beyond the statute, or sends counts to review (a count sent to review gets no paper until someone decides it, even where the statute alone gives relief).", facts.rules_name, facts.rules_sha256.map_or_else(String::new, |hash| format!(" (SHA-256 {})", &hash[..16]))),
    };
    let data = json!({
        "attention": deadline_notes_text(crate::eligibility::DeadlineFacts::of_statistics(letterhead.as_of, statistics)),
        "title": format!("Prop 64 relief: summary for {} County", crate::config::county_of_court(&letterhead.office.court.county)),
        "subtitle": format!("As of {} · {}", letterhead.as_of.format_long(), letterhead.office.agency.name),
        "agency": letterhead.office.agency.name,
        "processed": [
            {"label": "Input files", "value": thousands(facts.input_files as u64)},
            {"label": "DOJ rows read", "value": thousands(facts.input_rows)},
            {"label": "Rows left out as unreadable", "value": thousands(facts.rejected_rows as u64)},
            {"label": "People in the file", "value": thousands(statistics.people)},
            {"label": "Convictions of any kind, any county", "value": thousands(statistics.convictions)},
            {"label": format!("Prop 64 convictions in {}", facts.county), "value": thousands(statistics.prop64_convictions_in_county)},
            {"label": "Prop 64 convictions in other counties (priors only)", "value": thousands(statistics.prop64_convictions_in_other_counties)},
            {"label": "Counts decided", "value": thousands(statistics.determinations)},
            {"label": "Counts with relief but no case number (review/needs-case-number.csv; no paper filed)", "value": thousands(statistics.relief_without_case_number)},
            {"label": "Counts still being served (petitions, heard by the court)", "value": thousands(statistics.by_track.get("serving").copied().unwrap_or_default())},
            {"label": "Convictions challenged (notice of challenge)", "value": thousands(statistics.challenged)},
            {"label": "Relief resting on the presumption of eligibility (grams, plants or age not in the record)", "value": thousands(statistics.relief_resting_on_presumption)},
        ],
        "rules_text": rules_text,
        "outcomes": outcomes,
        "by_section": by_section,
        "chart_max": chart_max,
        "by_level": by_level,
        // Every rule that decided some count, with what it means beside its id.
        "by_rule": rules.iter().map(|(rule, value)| json!({
            "label": rule,
            "meaning": crate::eligibility::plain_reason(rule)
                .map(str::to_string)
                .or_else(|| facts.policy_rules.get(*rule).cloned())
                .unwrap_or_default(),
            "value": value,
        })).collect::<Vec<_>>(),
        "impact": impact.iter().map(|(label, chosen, all)| json!({"label": label, "chosen": chosen, "all": all})).collect::<Vec<_>>(),
        "impact_note": "\"Dismiss all Prop 64\" shows the same figures if every Prop 64 conviction in the county were dismissed, for comparison.",
        "documents": facts.documents.iter().map(|(label, value)| json!({"label": label, "value": value})).collect::<Vec<_>>(),
        "disclaimer": "Generated by clearance from the DOJ bulk file. Counts only; no personal data. Not legal advice.",
    });
    serde_json::to_vec(&data).expect("JSON values serialize")
}

/// A deadline note in the summary's words (`summary.pdf`, `summary.json`, the batch page, the
/// command line): what to do, where the convictions are, and the statute.
pub fn deadline_note_text(note: crate::eligibility::DeadlineNote) -> String {
    use crate::eligibility::DeadlineNote;
    let deadline = crate::model::CHALLENGE_DEADLINE.format_long();
    // Where the office finds the convictions and how a decision reaches the papers.
    let found = |count: u64| {
        let (which, each) = if count == 1 {
            ("It is the determination", "the decision")
        } else {
            ("They are the determinations", "each decision")
        };
        format!(
            "{which} marked needs_review (results/determinations.csv, or the determinations table, review first); record {each} in results/determinations.json and write the papers again from it (clearance render)."
        )
    };
    let convictions = |count: u64, one: &str, many: &str| {
        counted(count as usize, |count| thousands(count as u64), one, many)
    };
    match note {
        DeadlineNote::DecideReviewToday { under_review } => format!(
            "{} review, and these papers are dated {deadline}, the last day for the People to challenge relief (HS § 11361.9, subd. (b)). The court shall reduce or dismiss any conviction not challenged by that day (§ 11361.9, subd. (f)): decide {} today. {}",
            convictions(under_review, "conviction needs", "convictions need"),
            if under_review == 1 { "it" } else { "them" },
            found(under_review)
        ),
        DeadlineNote::ReviewAfterDeadline { under_review } => format!(
            "{} review, and the last day for the People to challenge relief, {deadline}, has passed (HS § 11361.9, subd. (b)). The court shall reduce or dismiss any conviction not challenged by then (§ 11361.9, subd. (f)): check whether {} challenged in time, and if not, seek relief. {}",
            convictions(under_review, "conviction needs", "convictions need"),
            if under_review == 1 {
                "it was"
            } else {
                "each was"
            },
            found(under_review)
        ),
        DeadlineNote::ChallengeAfterDeadline { challenged } => format!(
            "{} determined not eligible, and these papers are dated after {deadline}, the last day for the People to challenge relief (HS § 11361.9, subd. (b)). A challenge made now may be untimely, since the court shall reduce or dismiss any conviction not challenged by that day (§ 11361.9, subd. (f)): challenge, and file the notice of challenge for, only convictions the People challenged in time.",
            convictions(challenged, "conviction is", "convictions are")
        ),
    }
}

/// The deadline notes of a run, in the summary's words.
pub fn deadline_notes_text(facts: crate::eligibility::DeadlineFacts) -> Vec<String> {
    facts
        .notes()
        .into_iter()
        .map(|note| super::keep_citations_together(&deadline_note_text(note)))
        .collect()
}

/// How many people the challenged convictions belong to: by person, not by name.
fn people_challenged(items: &[crate::plan::ChallengeItem]) -> usize {
    items
        .iter()
        .map(|item| item.subject_id.as_str())
        .collect::<std::collections::BTreeSet<_>>()
        .len()
}

/// The data of the People's notice of challenge (`challenge.typ`): every challenged conviction
/// with its reason, served on the public defender.
pub fn notice_of_challenge(
    renderer: &Renderer,
    letterhead: &Letterhead<'_>,
    items: &[crate::plan::ChallengeItem],
    under_review: u64,
) -> Result<Vec<u8>, RenderError> {
    use crate::eligibility::ChallengeTiming;
    let people = people_challenged(items);
    let timing = ChallengeTiming::of(letterhead.as_of);
    let context = merge(
        letterhead.wording_base(),
        json!({
            "counts": items.len(),
            "people": people,
            // "the 67 convictions of 53 people", "the one conviction of one person".
            "listed": format!("the {}", convictions_of_people_in_prose(items.len(), people)),
            "under_review": number_in_prose(under_review as usize),
            "any_under_review": under_review > 0,
            "under_review_plural": under_review != 1,
            "before_deadline": timing == ChallengeTiming::BeforeDeadline,
            // Per-case notices are filed only where the case number is recorded.
            "any_case_notices": items.iter().any(|item| item.case_recorded),
            "deadline": crate::model::CHALLENGE_DEADLINE.format_long(),
        }),
    );
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            vec![
                item.case_numbers.clone(),
                item.defendant.clone(),
                format!(
                    "{} ({}), count {}",
                    item.statute,
                    capitalized_level(&item.level),
                    item.count_number
                ),
                us_date_or_unknown(item.conviction_date),
                item.reason.clone(),
            ]
        })
        .collect();
    let data = json!({
        "title": "People's notice of challenge",
        "office": letterhead.office_json(),
        "court": letterhead.court_json(),
        "dated": letterhead.as_of.format_long(),
        "footer_title": "People's notice of challenge (HS § 11361.9)",
        "caption_left": [
            "In re Cannabis Convictions Identified Under Health and Safety Code Section 11361.9",
            "",
            "THE PEOPLE OF THE STATE OF CALIFORNIA,",
            "Plaintiff,",
            "v.",
            "THE DEFENDANTS IN THE ATTACHED LIST,",
            "Defendants.",
        ],
        "case_numbers": "See the attached list",
        "paper_title": "People's notice of challenge",
        "subtitle": super::keep_citations_together("(Health & Saf. Code, § 11361.9, subd. (d))"),
        "intro": renderer.paragraphs("challenge", &context)?,
        "table_heading": "Attachment A: convictions challenged",
        "columns": ["Case No.", "Defendant", "Conviction", "Convicted", "Why not eligible"],
        "widths": [1.0, 1.1, 1.25, 0.8, 0.0],
        "rows": rows,
        "proof_of_service": letterhead.proof_of_service(
            renderer,
            "the People's notice of challenge",
        )?,
        "labels": {"proof_of_service": "Proof of service"},
    });
    Ok(serde_json::to_vec(&data).expect("JSON values serialize"))
}

/// A wording template's paragraphs split at its "---" line: those before it and those after
/// (all before, none after, when it has none). Lets one template word two parts of a paper.
fn paragraphs_around_rule(mut paragraphs: Vec<String>) -> (Vec<String>, Vec<String>) {
    match paragraphs.iter().position(|paragraph| paragraph == "---") {
        Some(rule) => {
            let after = paragraphs.split_off(rule + 1);
            paragraphs.pop();
            (paragraphs, after)
        }
        None => (paragraphs, Vec::new()),
    }
}

/// `/data.json` for `challenge-case.typ`: a chunk of per-case notices of challenge.
pub fn challenge_case_chunk(
    renderer: &Renderer,
    letterhead: &Letterhead<'_>,
    cases: &[crate::plan::ChallengeCase],
) -> Result<Vec<u8>, RenderError> {
    let proof_of_service =
        letterhead.proof_of_service(renderer, "the People's notice of challenge in this case")?;
    let notices: Vec<Value> = cases
        .iter()
        .map(|case| {
            let first = &case.items[0];
            let context = merge(
                letterhead.wording_base(),
                json!({
                    "defendant": first.defendant,
                    "case_numbers": first.case_numbers,
                    "counts": case.items.len(),
                    "plural": case.items.len() > 1,
                    "any_serving": case.items.iter().any(|item| item.serving),
                    "any_completed": case.items.iter().any(|item| !item.serving),
                }),
            );
            let (intro, closing) = paragraphs_around_rule(
                renderer.paragraphs("challenge-case", &context)?,
            );
            let counts: Vec<Value> = case
                .items
                .iter()
                .map(|item| {
                    json!({
                        "number": item.count_number.to_string(),
                        "conviction": format!("{} ({})", item.statute, capitalized_level(&item.level)),
                        "date": us_date_or_unknown(item.conviction_date),
                        "reason": item.reason,
                    })
                })
                .collect();
            Ok(json!({
                "file_stem": case.file_stem,
                "caption_left": [
                    "THE PEOPLE OF THE STATE OF CALIFORNIA,",
                    "Plaintiff,",
                    "v.",
                    format!("{},", first.defendant),
                    "Defendant.",
                ],
                "case_numbers": first.case_numbers,
                "intro": intro,
                "closing": closing,
                "counts": counts,
                "proof_of_service": proof_of_service,
            }))
        })
        .collect::<Result<_, RenderError>>()?;
    let data = json!({
        "title": "People's notice of challenge",
        "office": letterhead.office_json(),
        "court": letterhead.court_json(),
        "dated": letterhead.as_of.format_long(),
        "footer_title": "People's notice of challenge (HS § 11361.9)",
        "paper_title": "People's notice of challenge",
        "subtitle": super::keep_citations_together("(Health & Saf. Code, § 11361.9, subds. (c)-(e))"),
        "notices": notices,
        "labels": {
            "counts_heading": "Convictions challenged",
            "count_columns": ["Count", "Conviction", "Convicted", "Why not eligible"],
            "proof_of_service": "Proof of service",
        },
    });
    Ok(serde_json::to_vec(&data).expect("JSON values serialize"))
}

/// `/data.json` for `sealing.typ`: the People's application to file the full Exhibit A of
/// `filings` (those with rows) conditionally under seal, the declaration, and the proposed
/// order (Cal. Rules of Court, rules 2.550, 2.551). The order names the exhibits as attached.
pub fn sealing_application(
    renderer: &Renderer,
    letterhead: &Letterhead<'_>,
    filings: &[&OmnibusPlan],
) -> Result<Vec<u8>, RenderError> {
    let office = letterhead.office;
    let filings: Vec<&&OmnibusPlan> = filings
        .iter()
        .filter(|filing| filing.row_count() > 0)
        .collect();
    let name_of = |filing: &OmnibusPlan| match filing.filing {
        OmnibusFiling::Application => {
            "the People's omnibus notice of non-challenge and motion for relief from cannabis convictions"
        }
        OmnibusFiling::Petition => {
            "the People's omnibus notice of non-challenge and petition for recall or dismissal of sentences"
        }
    };
    let exhibits_of = |filing: &OmnibusPlan| {
        let ids: Vec<String> = filing
            .sections
            .iter()
            .map(|(section, _)| section.id().to_string())
            .collect();
        if ids.len() == 1 {
            format!("Exhibit {}", ids[0])
        } else {
            format!("Exhibits {}", joined(&ids))
        }
    };
    let described: Vec<String> = filings
        .iter()
        .map(|filing| format!("{} ({})", name_of(filing), exhibits_of(filing)))
        .collect();
    let lodged: Vec<String> = filings
        .iter()
        .map(|filing| format!("Exhibit A ({}) to {}", exhibits_of(filing), name_of(filing)))
        .collect();
    let people: std::collections::BTreeSet<&str> = filings
        .iter()
        .flat_map(|filing| filing.sections.iter())
        .flat_map(|(_, rows)| rows.iter().map(|row| row.cii.as_str()))
        .collect();
    let counts: usize = filings.iter().map(|filing| filing.row_count()).sum();
    // The convictions relief would seal: Exhibit A-1, and the policy rows that seal.
    let sealed_in = |section: ExhibitSection| -> usize {
        filings
            .iter()
            .flat_map(|filing| filing.sections.iter())
            .filter(|(each, _)| *each == section)
            .flat_map(|(_, rows)| rows.iter())
            .filter(|row| row.count.seal)
            .count()
    };
    let (sealed_statute, sealed_policy) =
        (sealed_in(ExhibitSection::A1), sealed_in(ExhibitSection::A5));
    // The statute seals Exhibit A-1 (§ 11361.8(f)); the policy rows are sealed on the authority
    // the policy names, never said to be the statute's.
    let sealing_authorities = distinct_authorities(
        filings
            .iter()
            .flat_map(|filing| filing.sections.iter())
            .filter(|(section, _)| *section == ExhibitSection::A5)
            .flat_map(|(_, rows)| rows.iter().map(|row| &row.count))
            .filter(|count| count.seal),
    );
    let context = merge(
        letterhead.wording_base(),
        json!({
            "attorney": office.attorney.name,
            "attorney_title": office.attorney.title,
            "filings": joined(&described),
            "lodged": joined(&lodged),
            "people": people.len(),
            "counts": counts,
            "sealed_counts": sealed_statute + sealed_policy,
            "sealed_statute": sealed_statute,
            "sealed_policy": sealed_policy,
            "sealing_authorities": sealing_authorities,
            "dated": letterhead.as_of.format_long(),
        }),
    );
    let mut order = renderer.paragraphs("sealing-order", &context)?;
    let (application, memorandum) =
        paragraphs_around_rule(renderer.paragraphs("sealing-application", &context)?);
    let findings = if order.is_empty() {
        String::new()
    } else {
        order.remove(0)
    };
    let title = "People's application to file Exhibit A conditionally under seal; declaration; [proposed] order";
    let data = json!({
        "title": title,
        "office": letterhead.office_json(),
        "court": letterhead.court_json(),
        "dated": letterhead.as_of.format_long(),
        "footer_title": "People's application to file Exhibit A under seal (CRC 2.550, 2.551)",
        "order_footer_title": "[Proposed] order sealing Exhibit A (CRC 2.550)",
        "caption_left": OMNIBUS_CAPTION,
        "case_numbers": office.court.omnibus_case_number.clone().unwrap_or_else(|| "To be assigned by the clerk".into()),
        "paper_title": format!("People's application to file Exhibit A conditionally under seal; declaration of {}", office.attorney.name),
        "order_title": "[Proposed] order sealing Exhibit A",
        "subtitle": "(Cal. Rules of Court, rules 2.550, 2.551)",
        "application": application,
        "memorandum": memorandum,
        "declaration_opening": format!("I, {}, declare:", office.attorney.name),
        "declaration": renderer.paragraphs("sealing-declaration", &context)?,
        "declarant_signature": [
            office.attorney.signature.as_str(),
            office.attorney.name.to_uppercase().as_str(),
        ],
        "order_findings": findings,
        "order_decrees": order,
        "proof_of_service": letterhead.proof_of_service(
            renderer,
            "the People's application to file Exhibit A conditionally under seal, with the declaration and the [proposed] order",
        )?,
        "labels": {
            "declaration_heading": format!("Declaration of {}", office.attorney.name),
            "memorandum_heading": "Memorandum of points and authorities",
            "perjury": "I declare under penalty of perjury under the laws of the State of California that the foregoing is true and correct.",
            "executed": format!("Executed on {}.", letterhead.as_of.format_long()),
            "proof_of_service": "Proof of service",
            "so_ordered": "IT IS SO ORDERED.",
        },
    });
    Ok(serde_json::to_vec(&data).expect("JSON values serialize"))
}

/// The data of the office's review list of counts with relief but no case number
/// (`review-list.typ`).
pub fn review_list(letterhead: &Letterhead<'_>, items: &[crate::plan::ReviewItem]) -> Vec<u8> {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|item| {
            vec![
                item.subject_id.clone(),
                item.name.clone(),
                item.count_key.clone(),
                format!("{} ({})", item.statute, item.level),
                us_date_or_unknown(item.conviction_date),
                format!("{}:{}", item.source_file, item.source_line),
            ]
        })
        .collect();
    let data = json!({
        "title": "Counts that need a case number",
        "subtitle": format!("{} · as of {} · for the office, not for filing", letterhead.office.agency.name, letterhead.as_of.format_long()),
        "agency": letterhead.office.agency.name,
        "reason": format!("{} counts would get relief, but {}. Find each case's number in the court's records, add it, and render again. The same list is in review/needs-case-number.csv.", items.len(), crate::plan::NO_CASE_NUMBER),
        "columns": ["Subject ID", "Name", "CNT_ORDER", "Statute", "Convicted", "DOJ file:line"],
        "rows": rows,
    });
    serde_json::to_vec(&data).expect("JSON values serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::Templates;

    fn office() -> OfficeProfile {
        let text = include_str!("../../samples/office.toml");
        crate::config::parse_office(text, "samples/office.toml").expect("the sample office profile")
    }

    /// The data a case chunk hands to `case.typ`, for the synthetic records: every wording
    /// branch (tracks, bases, outcomes) as an office would read it.
    #[test]
    fn case_data_snapshot() {
        let as_of = Date::from_ymd_const(2020, 7, 1);
        let (records, contacts) = crate::sample::template_records(as_of);
        let plans = crate::plan::plan(&records, &contacts, true);
        let renderer = Renderer::new(&Templates::built_in(), as_of).expect("templates");
        let office = office();
        let letterhead = Letterhead {
            office: &office,
            as_of,
            letter_mode: &LetterMode::Notice,
        };
        let data = case_chunk(&renderer, &letterhead, &plans.cases, "snapshot").expect("case data");
        let value: Value = serde_json::from_slice(&data).expect("JSON");
        insta::assert_json_snapshot!("case_chunk", value);
        let letters = letter_chunk(&renderer, &letterhead, &plans.letters).expect("letter data");
        let value: Value = serde_json::from_slice(&letters).expect("JSON");
        insta::assert_json_snapshot!("letter_chunk", value);
        // After the order: the same letters report what the court did, and when.
        let order = LetterMode::PostOrder {
            order_date: Date::from_ymd_const(2020, 6, 15),
            judge: Some("Ana Ruiz".into()),
        };
        let letterhead = Letterhead {
            office: &office,
            as_of,
            letter_mode: &order,
        };
        let letters = letter_chunk(&renderer, &letterhead, &plans.letters).expect("letter data");
        let value: Value = serde_json::from_slice(&letters).expect("JSON");
        insta::assert_json_snapshot!("letter_chunk_post_order", value);
    }

    #[test]
    fn offences_in_letters_spell_out_their_code_and_attempts() {
        let as_of = Date::from_ymd_const(2020, 7, 1);
        let (records, contacts) = crate::sample::template_records(as_of);
        let plans = crate::plan::plan(&records, &contacts, true);
        let mut count = plans.cases[0].counts[0].clone();
        for (statute, english, spanish) in [
            (
                "PC 664/HS 11359",
                "Attempt: Possessing marijuana for sale (Penal Code section 664 and Health and Safety Code section 11359)",
                "Intento: Posesión de marihuana para la venta (Código Penal, sección 664, y Código de Salud y Seguridad, sección 11359)",
            ),
            (
                "11359",
                "Possessing marijuana for sale (Health and Safety Code section 11359)",
                "Posesión de marihuana para la venta (Código de Salud y Seguridad, sección 11359)",
            ),
            (
                "HS 11357(b)",
                "Possessing marijuana (Health and Safety Code section 11357(b))",
                "Posesión de marihuana (Código de Salud y Seguridad, sección 11357(b))",
            ),
        ] {
            count.statute = statute.into();
            assert_eq!(plain_offense(&count, Language::En), english);
            assert_eq!(plain_offense(&count, Language::Es), spanish);
        }
    }

    #[test]
    fn a_rule_line_splits_a_templates_paragraphs_in_two() {
        let words = |list: &[&str]| list.iter().map(|word| (*word).to_string()).collect();
        assert_eq!(
            paragraphs_around_rule(words(&["a", "b", "---", "c"])),
            (words(&["a", "b"]), words(&["c"]))
        );
        assert_eq!(
            paragraphs_around_rule(words(&["a"])),
            (words(&["a"]), Vec::new())
        );
    }

    #[test]
    fn spanish_dates_are_written_out() {
        let date = Date::from_ymd_const(2020, 7, 1);
        assert_eq!(long_date(date, Language::Es), "1 de julio de 2020");
        assert_eq!(long_date(date, Language::En), "July 1, 2020");
    }

    #[test]
    fn people_challenged_are_counted_by_person_not_by_name() {
        let item = |subject_id: &str, case_numbers: &str| crate::plan::ChallengeItem {
            subject_id: subject_id.into(),
            case_numbers: case_numbers.into(),
            defendant: "JOHN SMITH".into(),
            count_number: 1,
            statute: "HS 11357(c)".into(),
            level: "misdemeanor".into(),
            conviction_date: None,
            reason: "remains a misdemeanor".into(),
            case_recorded: true,
            serving: false,
        };
        // Two people named John Smith, one of them with two challenged cases.
        let items = [item("A", "SCN1"), item("A", "SCN2"), item("B", "SCN3")];
        assert_eq!(people_challenged(&items), 2);
        assert_eq!(
            format!("the {}", convictions_of_people(items.len(), 2)),
            "the 3 convictions of 2 people"
        );
        assert_eq!(
            convictions_of_people_in_prose(1, 1),
            "one conviction of one person"
        );
        assert_eq!(
            convictions_of_people_in_prose(1_234, 11),
            "1,234 convictions of 11 people"
        );
        assert_eq!(
            convictions_of_people_in_prose(12, 3),
            "12 convictions of 3 people"
        );
    }
}
