//! Plan: determinations → which documents to make, grouped how. Pure: no I/O, no clock.
//!
//! - one **case document** (motion + proposed order) per court case with at least one count
//!   granted relief, in case-number order;
//! - two **omnibus filings** for the run: the application for completed sentences, decided
//!   without a hearing (§ 11361.8(g)), its Exhibit A split by category (A-1 dismiss and seal,
//!   A-2 redesignate as misdemeanor, A-3 as infraction, A-5 relief on the policy's basis); and
//!   the petition for sentences still being served (§ 11361.8(a)-(d)), heard by the court, its
//!   Exhibit A-4 (statute) and A-5 (policy) listing those counts;
//! - one **letter** per person with relief, in the contact's language, or one letter in English
//!   then Spanish when it is unknown; mailable letters sorted by ZIP code.
//!
//! Plans are built from determination records, the same records `determinations.json` holds, so
//! `clearance render` gives the documents `clearance run` gives.

use std::collections::BTreeMap;

use crate::config::{Contact, Contacts, Language};
use crate::eligibility::{Flag, Outcome, is_offense_under_current_law};
use crate::model::{Date, PersonName};
use crate::output::{DeterminationRecord, safe_file_stem};

/// Outcome of a count, as the documents need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Relief {
    DismissAndSeal,
    RedesignateMisdemeanor,
    RedesignateInfraction,
}

impl Relief {
    fn from_outcome(outcome: &str) -> Option<Relief> {
        match outcome {
            "dismiss_and_seal" => Some(Relief::DismissAndSeal),
            "redesignate_misdemeanor" => Some(Relief::RedesignateMisdemeanor),
            "redesignate_infraction" => Some(Relief::RedesignateInfraction),
            _ => None,
        }
    }
}

/// One count granted relief.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CountPlan {
    pub count_key: String,
    pub count_number: u32,
    /// "HS 11359", "PC 664/HS 11357(c)".
    pub statute: String,
    /// "POSSESS MARIJUANA FOR SALE".
    pub description: String,
    /// "felony", "misdemeanor", "infraction", "unknown".
    pub level: String,
    pub conviction_date: Option<Date>,
    pub relief: Relief,
    /// Still serving (petition) rather than completed (application).
    pub serving: bool,
    /// Relief on the county's policy basis rather than the statute.
    pub policy_basis: bool,
    /// The authority the determination cites: the statute's, or the one the policy names.
    pub authority: String,
    /// A dismissal that also seals the record.
    pub seal: bool,
    /// HS 11361.5(a): the record is one the court must destroy (old 11357(b)-(e), 11360(b), more
    /// than two years old).
    pub records_destruction: bool,
    pub reason: String,
    /// What the statute alone gives, when policy changed it (`redesignate_misdemeanor`, ...).
    pub statutory_outcome: Option<String>,
}

/// The motion and proposed order for one court case.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct CasePlan {
    /// `cases/<file_stem>.pdf`.
    pub file_stem: String,
    pub subject_id: String,
    pub cii: String,
    /// "FIRST M LAST".
    pub defendant: String,
    pub dob: Option<Date>,
    pub case_numbers: Vec<String>,
    pub counts: Vec<CountPlan>,
}

impl CasePlan {
    /// Case numbers as printed: "SCN123456; MCN9", or a note that none was recorded.
    pub fn case_numbers_text(&self) -> String {
        case_numbers_text(&self.case_numbers)
    }
}

/// Case numbers as printed: "SCN123456; MCN9", or "(not recorded)".
fn case_numbers_text(numbers: &[String]) -> String {
    if numbers.is_empty() {
        "(not recorded)".to_string()
    } else {
        numbers.join("; ")
    }
}

/// The exhibit categories of the omnibus filing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum ExhibitSection {
    /// dismissed and sealed as legally invalid (completed sentence, statute).
    A1,
    /// redesignated as misdemeanors (completed, statute).
    A2,
    /// redesignated as infractions (completed, statute).
    A3,
    /// still serving: recall and resentence or dismiss the sentence (statute).
    A4,
    /// relief on the policy's basis (in each filing, the counts of its track).
    A5,
}

impl ExhibitSection {
    pub const ALL: [ExhibitSection; 5] = [
        ExhibitSection::A1,
        ExhibitSection::A2,
        ExhibitSection::A3,
        ExhibitSection::A4,
        ExhibitSection::A5,
    ];

    pub fn id(self) -> &'static str {
        match self {
            ExhibitSection::A1 => "A-1",
            ExhibitSection::A2 => "A-2",
            ExhibitSection::A3 => "A-3",
            ExhibitSection::A4 => "A-4",
            ExhibitSection::A5 => "A-5",
        }
    }

    fn of(count: &CountPlan) -> ExhibitSection {
        if count.policy_basis {
            ExhibitSection::A5
        } else if count.serving {
            ExhibitSection::A4
        } else {
            match count.relief {
                Relief::DismissAndSeal => ExhibitSection::A1,
                Relief::RedesignateMisdemeanor => ExhibitSection::A2,
                Relief::RedesignateInfraction => ExhibitSection::A3,
            }
        }
    }
}

/// One row of Exhibit A: one count.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ExhibitRow {
    pub case_numbers: String,
    pub defendant: String,
    pub dob: Option<Date>,
    pub cii: String,
    pub count: CountPlan,
}

/// Which omnibus filing: completed sentences are an application the court decides without a
/// hearing (§ 11361.8(e)-(g)); sentences still being served are a petition, heard by the court
/// (§ 11361.8(a)-(d)). They are separate filings so that the no-hearing motion never carries
/// counts whose holders keep their right to a hearing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub enum OmnibusFiling {
    #[default]
    Application,
    Petition,
}

impl OmnibusFiling {
    /// `bundles/<stem>.pdf` and `bundles/<stem>-redacted.pdf`.
    pub fn stem(self) -> &'static str {
        match self {
            OmnibusFiling::Application => "filing",
            OmnibusFiling::Petition => "petition",
        }
    }

    fn takes(self, count: &CountPlan) -> bool {
        count.serving == (self == OmnibusFiling::Petition)
    }
}

/// One omnibus filing for the whole run.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct OmnibusPlan {
    pub filing: OmnibusFiling,
    /// Rows per section, in case-number order; sections without rows are left out.
    pub sections: Vec<(ExhibitSection, Vec<ExhibitRow>)>,
    pub people: usize,
    pub cases: usize,
}

impl OmnibusPlan {
    pub fn row_count(&self) -> usize {
        self.sections.iter().map(|(_, rows)| rows.len()).sum()
    }
}

/// One item of a letter: a conviction and what the court was asked to do (the same count the
/// motion and the order name, so the letter can never tell a different story).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LetterItem {
    pub case_numbers: String,
    pub count: CountPlan,
}

/// The languages of one letter: the contact's language, or, when it is not known, one letter
/// in English and then Spanish, mailed in one envelope (never two mailings).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum LetterLanguage {
    English,
    Spanish,
    EnglishThenSpanish,
}

impl LetterLanguage {
    /// "en", "es" or "en-es": in file names and the mailing list.
    pub fn code(self) -> &'static str {
        match self {
            LetterLanguage::English => "en",
            LetterLanguage::Spanish => "es",
            LetterLanguage::EnglishThenSpanish => "en-es",
        }
    }

    /// The languages the letter is written in, in the order printed.
    pub fn parts(self) -> &'static [Language] {
        match self {
            LetterLanguage::English => &[Language::En],
            LetterLanguage::Spanish => &[Language::Es],
            LetterLanguage::EnglishThenSpanish => &[Language::En, Language::Es],
        }
    }

    fn of(language: Option<Language>) -> LetterLanguage {
        match language {
            Some(Language::En) => LetterLanguage::English,
            Some(Language::Es) => LetterLanguage::Spanish,
            None => LetterLanguage::EnglishThenSpanish,
        }
    }
}

/// When the letters are mailed, which decides what they can say.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum LetterMode {
    /// At filing: the District Attorney has asked the court; nothing is decided yet.
    #[default]
    Notice,
    /// After the judge signed the order: what the court ordered, and when.
    PostOrder {
        order_date: Date,
        /// The judge who signed, when the office wants the letter to name them.
        judge: Option<String>,
    },
}

/// Why a letter cannot be mailed as is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MailingStatus {
    Ready,
    /// No address in the contacts file.
    NoAddress,
    /// The person is recorded as deceased; no letter is mailed.
    Deceased,
}

/// A notification letter to one person.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct LetterPlan {
    pub subject_id: String,
    pub cii: String,
    /// "First M Last" in natural case (the contact's mailing name, as written, when given).
    pub name: String,
    pub contact: Option<Contact>,
    pub language: LetterLanguage,
    pub status: MailingStatus,
    pub items: Vec<LetterItem>,
    /// The person has marijuana convictions this letter does not change (not eligible, needing
    /// review, or without a case number): the letter says so instead of implying a clean slate.
    pub other_convictions: bool,
}

impl LetterPlan {
    /// `letters/<file_stem>.pdf`.
    pub fn file_stem(&self) -> String {
        format!(
            "{}.{}",
            safe_file_stem(&self.subject_id),
            self.language.code()
        )
    }

    pub fn zip(&self) -> &str {
        self.contact
            .as_ref()
            .map_or("", |contact| contact.zip.as_str())
    }
}

/// Everything to render.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plans {
    pub cases: Vec<CasePlan>,
    /// The application for completed sentences (no hearing).
    pub omnibus: OmnibusPlan,
    /// The petition for sentences still being served (a hearing).
    pub petition: OmnibusPlan,
    /// Mailable letters first, sorted by language, ZIP code and name; then the others.
    pub letters: Vec<LetterPlan>,
    /// Counts with relief whose court case number is not recorded: no paper can be filed for
    /// them, so they go to the office's review list instead of any motion, exhibit or letter.
    pub needs_case_number: Vec<ReviewItem>,
    /// Counts the People challenge (HS 11361.9(d)): not eligible, in case-number order.
    pub challenges: Vec<ChallengeItem>,
    /// The same, one notice per person and recorded court case.
    pub challenge_cases: Vec<ChallengeCase>,
    /// Counts the People have still to decide (needs review): neither challenged nor conceded,
    /// which the notice of challenge must account for (HS 11361.9(b), (f)).
    pub under_review: u64,
}

/// A conviction the People determined not eligible, for the notice of challenge.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChallengeItem {
    /// Who it is (two people can share a name).
    pub subject_id: String,
    /// "SCN1; SCN2", or "(not recorded)".
    pub case_numbers: String,
    /// "FIRST M LAST".
    pub defendant: String,
    pub count_number: u32,
    pub statute: String,
    pub level: String,
    pub conviction_date: Option<Date>,
    /// Why the conviction is not eligible, as the determination says.
    pub reason: String,
    /// The court case number is recorded: a per-case notice can be filed.
    pub case_recorded: bool,
    /// Still being served: the People may challenge a resentencing on eligibility or public
    /// safety (§ 11361.9(c)(1)); a completed sentence's relief only on eligibility ((c)(2)).
    pub serving: bool,
}

/// The challenged convictions of one person in one court case: a per-case notice of
/// challenge, filed in that case (HS 11361.9(d)).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ChallengeCase {
    /// `challenges/<file_stem>.pdf`: the case number, with the person when several share it.
    pub file_stem: String,
    pub items: Vec<ChallengeItem>,
}

/// One notice per person and court case, for the challenged convictions whose case number is
/// recorded (the others are only in the county-wide list, like counts with relief but no
/// number, no paper can be filed in an unknown case).
fn plan_challenge_cases(items: &[ChallengeItem]) -> Vec<ChallengeCase> {
    let mut cases: BTreeMap<(&str, &str), Vec<ChallengeItem>> = BTreeMap::new();
    for item in items.iter().filter(|item| item.case_recorded) {
        cases
            .entry((item.case_numbers.as_str(), item.subject_id.as_str()))
            .or_default()
            .push(item.clone());
    }
    let base = |case_numbers: &str| {
        safe_file_stem(case_numbers.split(';').next().unwrap_or_default().trim())
    };
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for (case_numbers, _) in cases.keys() {
        *uses.entry(base(case_numbers)).or_default() += 1;
    }
    cases
        .into_iter()
        .map(|((case_numbers, subject_id), items)| {
            let stem = base(case_numbers);
            let file_stem = if uses[&stem] > 1 {
                format!("{stem}-{}", safe_file_stem(subject_id))
            } else {
                stem
            };
            ChallengeCase { file_stem, items }
        })
        .collect()
}

/// Not-eligible counts the notice of challenge lists: every one but those outside Prop 64's
/// reach altogether (an offence under current law is no conviction § 11361.8 could relieve).
fn plan_challenges(records: &[DeterminationRecord]) -> Vec<ChallengeItem> {
    let mut items: Vec<ChallengeItem> = records
        .iter()
        .filter(|record| {
            record.outcome == Outcome::NotEligible.as_str()
                && !is_offense_under_current_law(&record.rule_id)
        })
        .map(|record| ChallengeItem {
            subject_id: record.subject_id.clone(),
            case_numbers: case_numbers_text(&record.case_numbers),
            defendant: PersonName(record.name.clone()).natural_order(),
            count_number: record.count_number,
            statute: record.statute.clone(),
            level: record.level.clone(),
            conviction_date: record.conviction_date,
            reason: record.reason.clone(),
            case_recorded: !record.case_numbers.is_empty(),
            serving: record.track == "serving",
        })
        .collect();
    items.sort_by(|a, b| {
        (&a.case_numbers, &a.defendant, a.count_number).cmp(&(
            &b.case_numbers,
            &b.defendant,
            b.count_number,
        ))
    });
    items
}

/// A count the office must look at before anything can be filed for it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ReviewItem {
    pub subject_id: String,
    pub cii: String,
    /// "FIRST M LAST".
    pub name: String,
    pub count_key: String,
    pub statute: String,
    pub level: String,
    pub conviction_date: Option<Date>,
    /// The relief the determination would give (`dismiss_and_seal`, ...).
    pub outcome: String,
    pub source_file: String,
    pub source_line: u32,
}

impl ReviewItem {
    /// The columns of `review/needs-case-number.csv`.
    pub const CSV_COLUMNS: [&str; 11] = [
        "subject_id",
        "cii",
        "name",
        "count_key",
        "statute",
        "level",
        "conviction_date",
        "outcome",
        "source_file",
        "source_line",
        "reason",
    ];

    /// One row of `review/needs-case-number.csv`, in [`ReviewItem::CSV_COLUMNS`] order.
    pub fn csv_values(&self) -> [String; 11] {
        [
            self.subject_id.clone(),
            self.cii.clone(),
            self.name.clone(),
            self.count_key.clone(),
            self.statute.clone(),
            self.level.clone(),
            self.conviction_date
                .map(|date| date.to_string())
                .unwrap_or_default(),
            self.outcome.clone(),
            self.source_file.clone(),
            self.source_line.to_string(),
            NO_CASE_NUMBER.to_string(),
        ]
    }
}

/// Why a count without a case number is on the review list.
pub const NO_CASE_NUMBER: &str = "the court case number (OFN) is not recorded: no motion can be filed until the court's number is found";

/// Plans documents for determination records.
pub fn plan(records: &[DeterminationRecord], contacts: &Contacts, with_letters: bool) -> Plans {
    let all_records = records;
    // Court cases: one per person and case number(s) with relief. A count without a case
    // number gets no paper: it goes to the review list.
    let (records, without_number): (Vec<&DeterminationRecord>, Vec<&DeterminationRecord>) = records
        .iter()
        .partition(|record| !record.case_numbers.is_empty());
    let needs_case_number: Vec<ReviewItem> = without_number
        .into_iter()
        .filter(|record| Relief::from_outcome(&record.outcome).is_some())
        .map(|record| ReviewItem {
            subject_id: record.subject_id.clone(),
            cii: record.cii.clone(),
            name: PersonName(record.name.clone()).natural_order(),
            count_key: record.count_key.clone(),
            statute: record.statute.clone(),
            level: record.level.clone(),
            conviction_date: record.conviction_date,
            outcome: record.outcome.clone(),
            source_file: record.source_file.clone(),
            source_line: record.source_line,
        })
        .collect();
    let mut cases: BTreeMap<(String, String), CasePlan> = BTreeMap::new();
    for &record in &records {
        let Some(relief) = Relief::from_outcome(&record.outcome) else {
            continue;
        };
        let count = count_plan(record, relief);
        let key = (record.case_numbers.join("; "), record.subject_id.clone());
        let case = cases.entry(key).or_insert_with(|| CasePlan {
            file_stem: String::new(),
            subject_id: record.subject_id.clone(),
            cii: record.cii.clone(),
            defendant: PersonName(record.name.clone()).natural_order(),
            dob: record.dob,
            case_numbers: record.case_numbers.clone(),
            counts: Vec::new(),
        });
        case.counts.push(count);
    }
    let mut cases: Vec<CasePlan> = cases.into_values().collect();
    for case in &mut cases {
        case.counts.sort_by(|a, b| a.count_key.cmp(&b.count_key));
    }
    assign_file_stems(&mut cases);

    let challenges = plan_challenges(all_records);
    let omnibus = plan_omnibus(&cases, OmnibusFiling::Application);
    let petition = plan_omnibus(&cases, OmnibusFiling::Petition);
    let letters = if with_letters {
        plan_letters(&records, all_records, contacts)
    } else {
        Vec::new()
    };
    Plans {
        cases,
        omnibus,
        petition,
        letters,
        needs_case_number,
        challenge_cases: plan_challenge_cases(&challenges),
        challenges,
        under_review: all_records
            .iter()
            .filter(|record| record.outcome == Outcome::NeedsReview.as_str())
            .count() as u64,
    }
}

fn count_plan(record: &DeterminationRecord, relief: Relief) -> CountPlan {
    CountPlan {
        count_key: record.count_key.clone(),
        count_number: record.count_number,
        statute: record.statute.clone(),
        description: record.offense_description.clone(),
        level: record.level.clone(),
        conviction_date: record.conviction_date,
        relief,
        serving: record.track == "serving",
        policy_basis: record.basis == "policy",
        authority: record.authority.clone(),
        // The statute seals a dismissal on the application track (§ 11361.8(f)), whatever
        // the file says (an older or hand-edited determinations.json may lack the field);
        // a policy seals only when it says so.
        seal: relief == Relief::DismissAndSeal
            && if record.basis == "policy" {
                record.seal
            } else {
                record.track != "serving"
            },
        records_destruction: record
            .flags
            .iter()
            .any(|flag| flag == Flag::RecordsDestruction113615.as_str()),
        reason: record.reason.clone(),
        statutory_outcome: record.statutory_outcome.clone(),
    }
}

/// `<case number>`, or `<case number>-<subject id>` when several people (co-defendants, or
/// several cycles) share a case number. Every case has a number: counts without one are on
/// the review list, not in a case.
fn assign_file_stems(cases: &mut [CasePlan]) {
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    let base =
        |case: &CasePlan| safe_file_stem(case.case_numbers.first().map_or("", String::as_str));
    for case in cases.iter() {
        *uses.entry(base(case)).or_default() += 1;
    }
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for case in cases.iter_mut() {
        let stem = base(case);
        case.file_stem = if uses[&stem] > 1 {
            let occurrence = seen.entry(stem.clone()).or_default();
            *occurrence += 1;
            format!("{stem}-{}-{}", safe_file_stem(&case.subject_id), occurrence)
        } else {
            stem
        };
    }
}

fn plan_omnibus(cases: &[CasePlan], filing: OmnibusFiling) -> OmnibusPlan {
    let mut sections: BTreeMap<ExhibitSection, Vec<ExhibitRow>> = BTreeMap::new();
    let mut people = std::collections::BTreeSet::new();
    let mut case_count = 0;
    for case in cases {
        if !case.counts.iter().any(|count| filing.takes(count)) {
            continue;
        }
        case_count += 1;
        people.insert(case.subject_id.clone());
        for count in case.counts.iter().filter(|count| filing.takes(count)) {
            sections
                .entry(ExhibitSection::of(count))
                .or_default()
                .push(ExhibitRow {
                    case_numbers: case.case_numbers_text(),
                    defendant: case.defendant.clone(),
                    dob: case.dob,
                    cii: case.cii.clone(),
                    count: count.clone(),
                });
        }
    }
    OmnibusPlan {
        filing,
        sections: sections.into_iter().collect(),
        people: people.len(),
        cases: case_count,
    }
}

fn plan_letters(
    records: &[&DeterminationRecord],
    all_records: &[DeterminationRecord],
    contacts: &Contacts,
) -> Vec<LetterPlan> {
    // People with a conviction no letter item covers: no relief, or no case number to file.
    let not_in_a_letter: std::collections::BTreeSet<&str> = all_records
        .iter()
        .filter(|record| {
            Relief::from_outcome(&record.outcome).is_none() || record.case_numbers.is_empty()
        })
        .map(|record| record.subject_id.as_str())
        .collect();
    let mut by_person: BTreeMap<&str, Vec<&DeterminationRecord>> = BTreeMap::new();
    for &record in records
        .iter()
        .filter(|record| Relief::from_outcome(&record.outcome).is_some())
    {
        by_person
            .entry(record.subject_id.as_str())
            .or_default()
            .push(record);
    }
    let mut letters = Vec::new();
    for (subject_id, person_records) in by_person {
        let first = person_records[0];
        let contact = contacts.find(subject_id, &first.cii).cloned();
        let status = if first.deceased {
            MailingStatus::Deceased
        } else if contact.is_some() {
            MailingStatus::Ready
        } else {
            MailingStatus::NoAddress
        };
        let name = contact
            .as_ref()
            .and_then(|contact| contact.mailing_name.clone())
            .unwrap_or_else(|| PersonName(first.name.clone()).natural_case());
        let mut items: Vec<LetterItem> = person_records
            .iter()
            .map(|record| LetterItem {
                case_numbers: case_numbers_text(&record.case_numbers),
                count: count_plan(
                    record,
                    Relief::from_outcome(&record.outcome).expect("filtered to relief"),
                ),
            })
            .collect();
        items.sort_by(|a, b| {
            (a.count.conviction_date, &a.case_numbers, &a.count.count_key).cmp(&(
                b.count.conviction_date,
                &b.case_numbers,
                &b.count.count_key,
            ))
        });
        letters.push(LetterPlan {
            subject_id: subject_id.to_string(),
            cii: first.cii.clone(),
            name,
            language: LetterLanguage::of(contact.as_ref().and_then(|contact| contact.language)),
            contact,
            status,
            items,
            other_convictions: not_in_a_letter.contains(subject_id),
        });
    }
    letters.sort_by(|a, b| {
        let mailable = |letter: &LetterPlan| letter.status != MailingStatus::Ready;
        (mailable(a), a.language, a.zip(), &a.name, &a.subject_id).cmp(&(
            mailable(b),
            b.language,
            b.zip(),
            &b.name,
            &b.subject_id,
        ))
    });
    letters
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(
        subject: &str,
        count_key: &str,
        case: &str,
        outcome: &str,
        track: &str,
        basis: &str,
    ) -> DeterminationRecord {
        DeterminationRecord {
            subject_id: subject.into(),
            cii: format!("C{subject}"),
            name: format!("DOE,{subject}"),
            dob: Date::from_ymd(1970, 1, 1),
            case_numbers: if case.is_empty() {
                Vec::new()
            } else {
                vec![case.into()]
            },
            count_key: count_key.into(),
            count_number: 1,
            county: "SAN FRANCISCO".into(),
            source_file: "f.csv".into(),
            source_line: 2,
            offense_text: "11359 HS-SALE".into(),
            offense_description: "SALE".into(),
            statute: "HS 11359".into(),
            code: "HS".into(),
            section: "11359".into(),
            subsections: String::new(),
            attempt: false,
            level: "felony".into(),
            conviction_date: Date::from_ymd(2005, 1, 1),
            sentence_end: None,
            track: track.into(),
            outcome: outcome.into(),
            basis: basis.into(),
            authority: "HS 11361.8(e)-(f)".into(),
            seal: false,
            rule_id: "statute.x".into(),
            reason: "because".into(),
            flags: Vec::new(),
            statutory_outcome: None,
            statutory_rule_id: None,
            statutory_reason: None,
            deceased: false,
            as_of: Date::from_ymd(2020, 7, 1).unwrap(),
        }
    }

    #[test]
    fn cases_group_counts_and_skip_counts_without_relief() {
        let records = vec![
            record(
                "1",
                "001002002000",
                "SCN2",
                "redesignate_misdemeanor",
                "completed",
                "statute",
            ),
            record(
                "1",
                "001002001000",
                "SCN2",
                "dismiss_and_seal",
                "completed",
                "statute",
            ),
            record(
                "1",
                "002002001000",
                "SCN1",
                "not_eligible",
                "completed",
                "statute",
            ),
            record(
                "2",
                "001002001000",
                "SCN1",
                "dismiss_and_seal",
                "serving",
                "statute",
            ),
            record(
                "3",
                "001002001000",
                "",
                "dismiss_and_seal",
                "completed",
                "policy",
            ),
        ];
        let plans = plan(&records, &Contacts::default(), true);
        let stems: Vec<&str> = plans
            .cases
            .iter()
            .map(|case| case.file_stem.as_str())
            .collect();
        assert_eq!(stems, ["SCN1", "SCN2"], "no paper without a case number");
        assert_eq!(plans.needs_case_number.len(), 1);
        assert_eq!(plans.needs_case_number[0].subject_id, "3");
        assert_eq!(plans.cases[1].counts.len(), 2);
        assert_eq!(
            plans.cases[1].counts[0].count_key, "001002001000",
            "counts in key order"
        );
        let sections = |plan: &OmnibusPlan| -> Vec<(&str, usize)> {
            plan.sections
                .iter()
                .map(|(section, rows)| (section.id(), rows.len()))
                .collect()
        };
        // Completed sentences in the application, the one still served in the petition.
        assert_eq!(sections(&plans.omnibus), [("A-1", 1), ("A-2", 1)]);
        assert_eq!((plans.omnibus.people, plans.omnibus.cases), (1, 1));
        assert_eq!(plans.petition.filing, OmnibusFiling::Petition);
        assert_eq!(sections(&plans.petition), [("A-4", 1)]);
        assert_eq!((plans.petition.people, plans.petition.cases), (1, 1));
        // Unknown language and no address: one letter in English then Spanish per person
        // (one envelope, never two mailings), listed after mailable letters.
        assert_eq!(plans.letters.len(), 2);
        assert!(plans.letters.iter().all(|letter| {
            letter.status == MailingStatus::NoAddress
                && letter.language == LetterLanguage::EnglishThenSpanish
                && letter.file_stem().ends_with(".en-es")
        }));
    }

    #[test]
    fn shared_case_numbers_get_distinct_file_names() {
        let records = vec![
            record(
                "1",
                "001002001000",
                "SCN9",
                "dismiss_and_seal",
                "completed",
                "statute",
            ),
            record(
                "2",
                "001002001000",
                "SCN9",
                "dismiss_and_seal",
                "completed",
                "statute",
            ),
        ];
        let plans = plan(&records, &Contacts::default(), false);
        let stems: Vec<&str> = plans
            .cases
            .iter()
            .map(|case| case.file_stem.as_str())
            .collect();
        assert_eq!(stems, ["SCN9-1-1", "SCN9-2-2"]);
        assert!(plans.letters.is_empty());
    }
}
