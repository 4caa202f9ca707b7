//! Code for America's gogen (v0.2.13) decision flow and computed columns, reproduced exactly.
//!
//! Counties that filed with BEAR/gogen can run clearance with their options file and compare.
//! Every quirk is kept on purpose: STP_EVENT_DATE is the conviction date; an unknown date is
//! Go's zero time (0001-01-01) and takes part in comparisons as such; the Prop 64 matcher is an
//! unanchored regular expression; disqualifiers are informational only; "years since" uses
//! 365.25-day years of a saturating nanosecond duration. The one deliberate difference is in the
//! summary: gogen's "last 7 years" used the wall clock, which made its outputs change from day to
//! day; clearance uses the as-of date (see `GogenSummary`).

use std::collections::BTreeMap;

use super::matchers::{
    gogen_11357_subsection, gogen_is_pc290, gogen_is_superstrike, gogen_matches_prop64,
    gogen_prop64_section,
};
use super::{Basis, Decision, Determination, Outcome, Track, is_in_county, track_of};
use crate::model::{Conviction, Date, PROP64_EFFECTIVE_DATE, Person};

/// A BEAR/gogen eligibility options file, validated as gogen validates it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GogenOptions {
    /// Sections dismissed outright, in file order (each one of 11357–11360).
    pub dismiss: Vec<String>,
    /// Sections reduced, in file order.
    pub reduce: Vec<String>,
    pub subject_under_21_at_conviction: bool,
    /// 0 = off, else 40..=65.
    pub subject_age_threshold: u32,
    /// 0 = off, else 1..=15.
    pub years_since_conviction_threshold: u32,
    /// 0 = off, else 1..=15.
    pub years_crime_free_threshold: u32,
    pub subject_has_only_prop64_charges: bool,
    pub subject_is_deceased: bool,
}

pub const DISMISSAL: &str = "Eligible for Dismissal";
pub const REDUCTION: &str = "Eligible for Reduction";

/// gogen's decision for one evaluated conviction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GogenDecision {
    pub person_index: usize,
    pub conviction_index: usize,
    /// `Eligible for Dismissal`, `Eligible for Reduction`, or empty (no rule fired).
    pub determination: &'static str,
    pub reason: String,
    pub rule_id: &'static str,
}

/// Go's zero time, which is what gogen holds for a date it could not parse.
const GO_ZERO_DATE: Date = Date::from_ymd_const(1, 1, 1);

fn go_date(date: Option<Date>) -> Date {
    date.unwrap_or(GO_ZERO_DATE)
}

/// Which convictions gogen evaluates: in the processed county, code section matching Prop 64.
pub fn is_evaluated(conviction: &Conviction, in_county: &[bool]) -> bool {
    is_in_county(conviction, in_county)
        && gogen_matches_prop64(conviction.raw_code_section.as_bytes())
}

/// Runs gogen's configurable flow over every person.
pub fn evaluate(
    people: &[Person],
    in_county: &[bool],
    options: &GogenOptions,
    as_of: Date,
) -> Vec<GogenDecision> {
    let mut decisions = Vec::new();
    for (person_index, person) in people.iter().enumerate() {
        for (conviction_index, conviction) in person.convictions.iter().enumerate() {
            if !is_evaluated(conviction, in_county) {
                continue;
            }
            let (determination, reason, rule_id) = decide(person, conviction, options, as_of);
            decisions.push(GogenDecision {
                person_index,
                conviction_index,
                determination,
                reason: reason.trim().to_string(),
                rule_id,
            });
        }
    }
    decisions
}

fn decide(
    person: &Person,
    conviction: &Conviction,
    options: &GogenOptions,
    as_of: Date,
) -> (&'static str, String, &'static str) {
    let date = go_date(conviction.date);
    let dob = go_date(person.dob);
    if !conviction.gogen_felony {
        return (
            DISMISSAL,
            "Misdemeanor or Infraction".into(),
            "gogen.misdemeanor_or_infraction",
        );
    }
    if let Some(section) = options
        .dismiss
        .iter()
        .find(|section| conviction.raw_code_section.contains(section.as_str()))
    {
        return (
            DISMISSAL,
            format!("Dismiss all HS {section} convictions"),
            "gogen.dismiss_section",
        );
    }
    if options.subject_under_21_at_conviction && dob.add_years_normalized(21) > date {
        return (
            DISMISSAL,
            "21 years or younger".into(),
            "gogen.under_21_at_conviction",
        );
    }
    let age = options.subject_age_threshold;
    if age != 0 && dob.add_years_normalized(age as i32) <= as_of {
        return (
            DISMISSAL,
            format!("{age} years or older"),
            "gogen.age_threshold",
        );
    }
    let years = options.years_since_conviction_threshold;
    if years != 0 && date <= as_of.add_years_normalized(-(years as i32)) {
        return (
            DISMISSAL,
            format!("Conviction occurred {years} or more years ago"),
            "gogen.years_since_conviction",
        );
    }
    let crime_free = options.years_crime_free_threshold;
    if crime_free != 0
        && most_recent_conviction(person) < as_of.add_years_normalized(-(crime_free as i32))
    {
        return (
            DISMISSAL,
            format!("No convictions in the past {crime_free} years"),
            "gogen.crime_free",
        );
    }
    if options.subject_has_only_prop64_charges
        && person.convictions.len() == prop64_counts(person).total
    {
        return (
            DISMISSAL,
            "Only has 11357-60 charges".into(),
            "gogen.only_prop64",
        );
    }
    if options.subject_is_deceased && person.deceased {
        return (DISMISSAL, "Individual is deceased".into(), "gogen.deceased");
    }
    if let Some(section) = options
        .reduce
        .iter()
        .find(|section| conviction.raw_code_section.contains(section.as_str()))
    {
        return (
            REDUCTION,
            format!("Reduce all HS {section} convictions"),
            "gogen.reduce_section",
        );
    }
    ("", String::new(), "gogen.no_determination")
}

/// The latest conviction date, where unknown dates are Go's zero time.
fn most_recent_conviction(person: &Person) -> Date {
    person
        .convictions
        .iter()
        .map(|conviction| go_date(conviction.date))
        .fold(GO_ZERO_DATE, Date::max)
}

/// A person's Prop 64 convictions by section, as gogen counts them (any county).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Prop64Counts {
    pub total: usize,
    pub hs11357: usize,
    pub hs11358: usize,
    pub hs11359: usize,
    pub hs11360: usize,
}

pub fn prop64_counts(person: &Person) -> Prop64Counts {
    let mut counts = Prop64Counts::default();
    for conviction in &person.convictions {
        match gogen_prop64_section(&conviction.raw_code_section) {
            Some("11357") => counts.hs11357 += 1,
            Some("11358") => counts.hs11358 += 1,
            Some("11359") => counts.hs11359 += 1,
            Some("11360") => counts.hs11360 += 1,
            _ => continue,
        }
        counts.total += 1;
    }
    counts
}

/// `(as_of − date)` in 365.25-day years, as gogen computes it: a Go `Duration` (saturating
/// int64 nanoseconds) converted to hours, divided by 8766.
pub fn years_since(as_of: Date, date: Date) -> f64 {
    const NANOS_PER_DAY: i128 = 86_400 * 1_000_000_000;
    const NANOS_PER_HOUR: i64 = 3_600 * 1_000_000_000;
    let days = i128::from(as_of.days_since_epoch()) - i128::from(date.days_since_epoch());
    let nanos = (days * NANOS_PER_DAY).clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    let hours =
        (nanos / NANOS_PER_HOUR) as f64 + (nanos % NANOS_PER_HOUR) as f64 / (60.0 * 60.0 * 1e9);
    hours / (24.0 * 365.25)
}

/// Go's `%.1f`.
pub fn format_years(years: f64) -> String {
    format!("{years:.1}")
}

/// The 18 computed columns gogen appends, except column 3 ("Possible Other P64 Charges"), which
/// depends only on the row and is computed when the row is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComputedColumns {
    pub case_number: String,
    pub convictions_on_record: usize,
    pub occurred_after_prop64: &'static str,
    pub superstrikes: String,
    pub pc290_sections: String,
    pub pc290_registration: &'static str,
    pub date_of_conviction: String,
    pub years_since_this_conviction: String,
    pub years_since_any_conviction: String,
    pub prop64: Prop64Counts,
    pub deceased: &'static str,
    pub determination: String,
    pub reason: String,
}

impl ComputedColumns {
    /// The 18 values in gogen's column order, with column 3 filled in by the caller.
    pub fn values(&self, possible_other_p64_charges: &str) -> [String; 18] {
        [
            self.case_number.clone(),
            self.convictions_on_record.to_string(),
            possible_other_p64_charges.to_string(),
            self.occurred_after_prop64.to_string(),
            self.superstrikes.clone(),
            self.pc290_sections.clone(),
            self.pc290_registration.to_string(),
            self.date_of_conviction.clone(),
            self.years_since_this_conviction.clone(),
            self.years_since_any_conviction.clone(),
            self.prop64.total.to_string(),
            self.prop64.hs11357.to_string(),
            self.prop64.hs11358.to_string(),
            self.prop64.hs11359.to_string(),
            self.prop64.hs11360.to_string(),
            self.deceased.to_string(),
            self.determination.clone(),
            self.reason.clone(),
        ]
    }
}

/// The header of gogen's 18 computed columns.
pub const COMPUTED_HEADERS: [&str; 18] = [
    "Case Number",
    "# of convictions on record",
    "Possible Other P64 Charges",
    "Occurred after 11/9/2016",
    "Superstrike Code Section(s)",
    "PC290 Code Section(s)",
    "PC290 Registration",
    "Date of Conviction",
    "Years Since This Conviction",
    "Years Since Any Conviction",
    "# of Prop 64 convictions",
    "# of HS 11357 convictions",
    "# of HS 11358 convictions",
    "# of HS 11359 convictions",
    "# of HS 11360 convictions",
    "Deceased",
    "Eligibility Determination",
    "Eligibility Reason",
];

/// Computes the informational columns for one conviction; the determination columns are filled
/// with `determination` and `reason` (gogen's, or clearance's own in clearance mode).
pub fn computed_columns(
    person: &Person,
    conviction: &Conviction,
    as_of: Date,
    determination: &str,
    reason: &str,
) -> ComputedColumns {
    let joined = |matches: fn(&str) -> bool| {
        let sections: Vec<&str> = person
            .convictions
            .iter()
            .map(|other| &*other.raw_code_section)
            .filter(|section| matches(section))
            .collect();
        if sections.is_empty() {
            "-".to_string()
        } else {
            sections.join(";")
        }
    };
    let years = |date: Date| {
        if date == GO_ZERO_DATE {
            format_years(-1.0)
        } else {
            format_years(years_since(as_of, date))
        }
    };
    let date = go_date(conviction.date);
    ComputedColumns {
        case_number: person.case_numbers_joined(conviction.count_key.case_key()),
        convictions_on_record: person.convictions.len(),
        occurred_after_prop64: if date > PROP64_EFFECTIVE_DATE {
            "Y"
        } else {
            "N"
        },
        superstrikes: joined(gogen_is_superstrike),
        pc290_sections: joined(gogen_is_pc290),
        pc290_registration: if person.has_pc290_registration() {
            "Yes"
        } else {
            "-"
        },
        date_of_conviction: date.format_us(),
        years_since_this_conviction: years(date),
        years_since_any_conviction: years(most_recent_conviction(person)),
        prop64: prop64_counts(person),
        deceased: if person.deceased { "Deceased" } else { "-" },
        determination: determination.to_string(),
        reason: reason.to_string(),
    }
}

/// gogen's "Possible Other P64 Charges": COMMENT_TEXT when it names a Prop 64 charge the offence
/// text does not (computed for every row, convicted or not).
pub fn possible_other_p64_charges<'a>(offense_text: &[u8], comment_text: &'a [u8]) -> &'a [u8] {
    if crate::model::is_comment_redirect(offense_text) {
        return b"";
    }
    let comment = String::from_utf8_lossy(comment_text);
    let Some(comment_section) = gogen_prop64_section(&comment) else {
        return b"";
    };
    let offense = String::from_utf8_lossy(offense_text);
    let Some(offense_section) = gogen_prop64_section(&offense) else {
        return comment_text;
    };
    if offense_section != comment_section {
        return comment_text;
    }
    if offense_section == "11357" {
        let offense_subsection = gogen_11357_subsection(&offense);
        let comment_subsection = gogen_11357_subsection(&comment);
        match (offense_subsection, comment_subsection) {
            (Some(offense_letter), Some(comment_letter)) => {
                let group = |letter: char| matches!(letter, 'A' | 'B');
                if group(offense_letter) != group(comment_letter) {
                    return comment_text;
                }
            }
            (None, Some(_)) => return comment_text,
            _ => {}
        }
    }
    b""
}

/// clearance determinations for gogen's decisions, so the determinations files and documents
/// exist in this mode too. gogen's CSVs keep gogen's words; but a count gogen would relieve that
/// the statute does not reach at all — not a Prop 64 offence (gogen matches 11357-11360 anywhere
/// in the code section, `11357.5` included), an offence on or after 2016-11-09, or undated — is
/// never filed: it goes to review with both answers in the reason.
pub fn to_determinations(
    people: &[Person],
    decisions: &[GogenDecision],
    as_of: Date,
) -> Vec<Determination> {
    decisions
        .iter()
        .map(|decision| {
            let person = &people[decision.person_index];
            let conviction = &person.convictions[decision.conviction_index];
            let (track, sentence_end) = track_of(conviction, as_of);
            let outcome = match decision.determination {
                DISMISSAL => Outcome::DismissAndSeal,
                REDUCTION => Outcome::RedesignateMisdemeanor,
                _ => Outcome::NeedsReview,
            };
            let reason = if decision.determination.is_empty() {
                "gogen gave no determination: the felony's section is in neither the dismiss nor the reduce list".to_string()
            } else {
                format!("gogen: {}", decision.reason)
            };
            let mut flags = Vec::new();
            if person.deceased {
                flags.push(super::Flag::Deceased);
            }
            if conviction.date.is_none() {
                flags.push(super::Flag::UnknownDate);
            }
            let mut decision_made = Decision {
                outcome,
                rule_id: decision.rule_id.into(),
                authority: if outcome.grants_relief() {
                    format!("{}; county policy (BEAR/gogen options)", Track::authority(track))
                } else {
                    String::new()
                },
                reason,
                // BEAR's dismissals were filed as "dismiss and seal".
                seal: outcome == Outcome::DismissAndSeal,
            };
            if outcome.grants_relief()
                && let Some(denial) = statute_denies(person, decision.conviction_index, as_of)
            {
                decision_made = Decision {
                    outcome: Outcome::NeedsReview,
                    rule_id: "gogen.statute_denies".into(),
                    authority: String::new(),
                    reason: format!(
                        "gogen gives {} ({}), but {denial}: not filed without review",
                        decision.determination, decision.reason
                    ),
                    seal: false,
                };
            }
            Determination {
                person_index: decision.person_index,
                conviction_index: decision.conviction_index,
                decision: decision_made,
                basis: Basis::Policy,
                track,
                sentence_end,
                flags,
                statutory: None,
            }
        })
        .collect()
}

/// Why the statute gives a count no relief at all, if it gives none: not a Prop 64 offence, or
/// an offence it does not reach (current law, unknown dates).
fn statute_denies(person: &Person, conviction_index: usize, as_of: Date) -> Option<String> {
    let conviction = &person.convictions[conviction_index];
    let prop64 = conviction
        .offense
        .as_ref()
        .is_some_and(super::matchers::is_prop64_section_any_code);
    if !prop64 {
        return Some(format!(
            "{} is not a Prop 64 offence (HS 11361.8 reaches HS 11357-11360 and 11362.1 only)",
            conviction.raw_code_section.trim()
        ));
    }
    let statutory = super::statute::decide(person, conviction_index, as_of);
    match statutory.policy_barrier {
        Some(
            super::statute::PolicyBarrier::NotAProp64ReliefCase
            | super::statute::PolicyBarrier::UnknownFacts,
        ) => Some(format!(
            "the statute gives none: {}",
            statutory.decision.reason
        )),
        _ => None,
    }
}

/// gogen's run summary (`gogen.json`), with its documented semantics.
///
/// Where clearance differs from gogen, deliberately (the same list is in the README): (1)
/// `processingTimeInSeconds` is not written and (2) the "last 7 years" figures count from the
/// as-of date instead of the wall clock, both for reproducibility; (3) when no Prop 64
/// conviction is in the county, `earliestConviction` is the as-of date (gogen: now); (4)
/// clearance's own determinations send to review what gogen would relieve but the statute does
/// not reach ([`to_determinations`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GogenSummary {
    pub county: String,
    pub earliest_conviction: Option<Date>,
    pub line_count: u64,
    pub relief_with_current_choices: ReliefCounts,
    pub relief_with_dismiss_all_prop64: ReliefCounts,
    pub prop64_convictions_in_county_by_section: BTreeMap<String, u64>,
    pub subjects_with_prop64_conviction_in_county: u64,
    pub prop64_felony_convictions_in_county: u64,
    pub prop64_non_felony_convictions_in_county: u64,
    pub subjects_with_some_relief: u64,
    pub dismissals_by_section: BTreeMap<String, u64>,
    pub reductions_by_section: BTreeMap<String, u64>,
    pub dismissals_by_additional_relief: BTreeMap<String, u64>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReliefCounts {
    pub no_conviction: u64,
    pub no_conviction_last_7_years: u64,
    pub no_felony: u64,
}

impl ReliefCounts {
    fn add(&mut self, other: ReliefCounts) {
        self.no_conviction += other.no_conviction;
        self.no_conviction_last_7_years += other.no_conviction_last_7_years;
        self.no_felony += other.no_felony;
    }
}

impl GogenSummary {
    /// Adds another file's summary, as gogen accumulates a multi-file run.
    pub fn accumulate(&mut self, other: GogenSummary) {
        self.county = other.county;
        self.line_count += other.line_count;
        self.earliest_conviction = match (self.earliest_conviction, other.earliest_conviction) {
            (Some(mine), Some(theirs)) => Some(mine.min(theirs)),
            (mine, theirs) => mine.or(theirs),
        };
        self.relief_with_current_choices
            .add(other.relief_with_current_choices);
        self.relief_with_dismiss_all_prop64
            .add(other.relief_with_dismiss_all_prop64);
        for (target, source) in [
            (
                &mut self.prop64_convictions_in_county_by_section,
                other.prop64_convictions_in_county_by_section,
            ),
            (&mut self.dismissals_by_section, other.dismissals_by_section),
            (&mut self.reductions_by_section, other.reductions_by_section),
            (
                &mut self.dismissals_by_additional_relief,
                other.dismissals_by_additional_relief,
            ),
        ] {
            for (key, value) in source {
                *target.entry(key).or_default() += value;
            }
        }
        self.subjects_with_prop64_conviction_in_county +=
            other.subjects_with_prop64_conviction_in_county;
        self.prop64_felony_convictions_in_county += other.prop64_felony_convictions_in_county;
        self.prop64_non_felony_convictions_in_county +=
            other.prop64_non_felony_convictions_in_county;
        self.subjects_with_some_relief += other.subjects_with_some_relief;
    }
}

/// Summarises one file's run the way gogen does.
pub fn summarize(
    people: &[Person],
    in_county: &[bool],
    decisions: &[GogenDecision],
    options: &GogenOptions,
    county: &str,
    line_count: u64,
    as_of: Date,
) -> GogenSummary {
    use std::collections::HashMap;
    let by_conviction: HashMap<(usize, usize), &GogenDecision> = decisions
        .iter()
        .map(|decision| ((decision.person_index, decision.conviction_index), decision))
        .collect();
    let current = |person_index: usize, conviction_index: usize| -> Option<&'static str> {
        by_conviction
            .get(&(person_index, conviction_index))
            .map(|decision| decision.determination)
    };
    let dismiss_all = |person_index: usize, conviction_index: usize| -> Option<&'static str> {
        let conviction = &people[person_index].convictions[conviction_index];
        is_evaluated(conviction, in_county).then_some(DISMISSAL)
    };
    let seven_years_ago = as_of.add_years_normalized(-7);
    let relief_counts = |determination_of: &dyn Fn(usize, usize) -> Option<&'static str>| {
        let mut counts = ReliefCounts::default();
        for (person_index, person) in people.iter().enumerate() {
            let full_relief = |include: &dyn Fn(&Conviction) -> bool,
                               relieved: &dyn Fn(&str) -> bool| {
                let mut considered = 0;
                let mut relieved_count = 0;
                for (conviction_index, conviction) in person.convictions.iter().enumerate() {
                    if include(conviction) {
                        considered += 1;
                        if determination_of(person_index, conviction_index).is_some_and(relieved) {
                            relieved_count += 1;
                        }
                    }
                }
                considered != 0 && considered == relieved_count
            };
            let dismissed = |words: &str| words == DISMISSAL;
            let dismissed_or_reduced = |words: &str| words == DISMISSAL || words == REDUCTION;
            if full_relief(&|conviction| conviction.gogen_felony, &dismissed_or_reduced) {
                counts.no_felony += 1;
            }
            if full_relief(&|_| true, &dismissed) {
                counts.no_conviction += 1;
            }
            if full_relief(
                &|conviction| go_date(conviction.date) > seven_years_ago,
                &dismissed,
            ) {
                counts.no_conviction_last_7_years += 1;
            }
        }
        counts
    };

    let mut summary = GogenSummary {
        county: county.to_string(),
        line_count,
        relief_with_current_choices: relief_counts(&current),
        relief_with_dismiss_all_prop64: relief_counts(&dismiss_all),
        ..GogenSummary::default()
    };
    let mut earliest: Option<Date> = None;
    for (person_index, person) in people.iter().enumerate() {
        let mut has_prop64_in_county = false;
        let mut has_relief = false;
        for (conviction_index, conviction) in person.convictions.iter().enumerate() {
            if let Some(words) = current(person_index, conviction_index) {
                has_relief |= words == DISMISSAL || words == REDUCTION;
            }
            if !is_evaluated(conviction, in_county) {
                continue;
            }
            has_prop64_in_county = true;
            let date = go_date(conviction.date);
            earliest = Some(earliest.map_or(date, |known| known.min(date)));
            if let Some(section) = gogen_prop64_section(&conviction.raw_code_section) {
                *summary
                    .prop64_convictions_in_county_by_section
                    .entry(section.to_string())
                    .or_default() += 1;
            }
            if conviction.gogen_felony {
                summary.prop64_felony_convictions_in_county += 1;
            } else {
                summary.prop64_non_felony_convictions_in_county += 1;
            }
        }
        summary.subjects_with_prop64_conviction_in_county += u64::from(has_prop64_in_county);
        summary.subjects_with_some_relief += u64::from(has_relief);
    }
    summary.earliest_conviction = Some(earliest.unwrap_or(as_of));

    let mut reasons: BTreeMap<(&str, &str), u64> = BTreeMap::new();
    for decision in decisions {
        *reasons
            .entry((decision.determination, &decision.reason))
            .or_default() += 1;
    }
    for section in &options.dismiss {
        let key = format!("Dismiss all HS {section} convictions");
        summary.dismissals_by_section.insert(
            section.clone(),
            reasons
                .get(&(DISMISSAL, key.as_str()))
                .copied()
                .unwrap_or(0),
        );
    }
    for section in &options.reduce {
        let key = format!("Reduce all HS {section} convictions");
        summary.reductions_by_section.insert(
            section.clone(),
            reasons
                .get(&(REDUCTION, key.as_str()))
                .copied()
                .unwrap_or(0),
        );
    }
    for ((words, reason), count) in &reasons {
        if *words == DISMISSAL
            && !reason.starts_with("Dismiss all HS")
            && !reason.starts_with("Misdemeanor or Infraction")
        {
            summary
                .dismissals_by_additional_relief
                .insert((*reason).to_string(), *count);
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Level::{Felony, Misdemeanor};
    use crate::model::fixtures::{conviction, date, person};

    /// Each step of gogen's flow fires where it should, and the one before it would not.
    #[test]
    fn every_step_of_gogens_flow() {
        /// (rule, dob, offence, level, date, other conviction's date, deceased)
        type Case = (
            &'static str,
            &'static str,
            &'static str,
            crate::model::Level,
            &'static str,
            Option<&'static str>,
            bool,
        );
        let as_of = date("2020-07-01").unwrap();
        let options = GogenOptions {
            dismiss: vec!["11357".into()],
            reduce: vec!["11359".into(), "11360".into()],
            subject_under_21_at_conviction: true,
            subject_age_threshold: 57,
            years_since_conviction_threshold: 10,
            years_crime_free_threshold: 5,
            subject_has_only_prop64_charges: true,
            subject_is_deceased: true,
        };
        let cases: [Case; 10] = [
            (
                "gogen.misdemeanor_or_infraction",
                "1980-01-01",
                "11359 HS-SALE",
                Misdemeanor,
                "2015-01-01",
                None,
                false,
            ),
            (
                "gogen.dismiss_section",
                "1980-01-01",
                "11357(A) HS-POSSESS",
                Felony,
                "2015-01-01",
                None,
                false,
            ),
            (
                "gogen.under_21_at_conviction",
                "1995-01-01",
                "11359 HS-SALE",
                Felony,
                "2015-01-01",
                Some("2019-01-01"),
                false,
            ),
            (
                "gogen.age_threshold",
                "1960-01-01",
                "11359 HS-SALE",
                Felony,
                "2015-01-01",
                Some("2019-01-01"),
                false,
            ),
            (
                "gogen.years_since_conviction",
                "1980-01-01",
                "11359 HS-SALE",
                Felony,
                "2009-01-01",
                Some("2019-01-01"),
                false,
            ),
            (
                "gogen.crime_free",
                "1980-01-01",
                "11359 HS-SALE",
                Felony,
                "2014-01-01",
                None,
                false,
            ),
            (
                "gogen.only_prop64",
                "1980-01-01",
                "11359 HS-SALE",
                Felony,
                "2019-01-01",
                None,
                false,
            ),
            (
                "gogen.deceased",
                "1980-01-01",
                "11359 HS-SALE",
                Felony,
                "2019-01-01",
                Some("2019-02-01"),
                true,
            ),
            (
                "gogen.reduce_section",
                "1980-01-01",
                "11360(A) HS-SELL",
                Felony,
                "2019-01-01",
                Some("2019-02-01"),
                false,
            ),
            (
                "gogen.no_determination",
                "1980-01-01",
                "11358 HS-CULTIVATE",
                Felony,
                "2019-01-01",
                Some("2019-02-01"),
                false,
            ),
        ];
        for (rule, dob, offense, level, convicted, other, deceased) in cases {
            let mut subject = person(dob);
            subject.deceased = deceased;
            if let Some(other) = other {
                subject
                    .convictions
                    .push(conviction("459 PC-BURGLARY", Felony, other));
            }
            subject
                .convictions
                .push(conviction(offense, level, convicted));
            let this = subject.convictions.last().unwrap();
            let (_, reason, fired) = decide(&subject, this, &options, as_of);
            assert_eq!(fired, rule, "{offense} {level:?} {convicted}: {reason}");
        }
    }

    #[test]
    fn gogen_relief_the_statute_does_not_reach_goes_to_review() {
        let as_of = date("2020-07-01").unwrap();
        let options = GogenOptions {
            dismiss: vec!["11357".into()],
            ..GogenOptions::default()
        };
        let mut subject = person("1980-01-01");
        // 11357.5 (synthetic cannabinoids) matches gogen's unanchored pattern.
        subject
            .convictions
            .push(conviction("11357.5(A) HS-SYNTHETIC", Felony, "2015-01-01"));
        // An offence after Prop 64 took effect.
        subject
            .convictions
            .push(conviction("11357(C) HS-POSSESS", Felony, "2018-01-01"));
        // A count the statute reaches.
        subject
            .convictions
            .push(conviction("11357(B) HS-POSSESS", Felony, "2010-01-01"));
        let decisions: Vec<GogenDecision> = (0..3)
            .map(|index| {
                let (determination, reason, rule_id) =
                    decide(&subject, &subject.convictions[index], &options, as_of);
                GogenDecision {
                    person_index: 0,
                    conviction_index: index,
                    determination,
                    reason,
                    rule_id,
                }
            })
            .collect();
        assert!(
            decisions
                .iter()
                .all(|decision| decision.determination == DISMISSAL)
        );
        let determinations = to_determinations(std::slice::from_ref(&subject), &decisions, as_of);
        let outcomes: Vec<(Outcome, &str)> = determinations
            .iter()
            .map(|determination| {
                (
                    determination.outcome(),
                    determination.decision.rule_id.as_ref(),
                )
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                (Outcome::NeedsReview, "gogen.statute_denies"),
                (Outcome::NeedsReview, "gogen.statute_denies"),
                (Outcome::DismissAndSeal, "gogen.dismiss_section"),
            ]
        );
        assert!(
            determinations[0]
                .decision
                .reason
                .contains("not a Prop 64 offence")
        );
        assert!(determinations[1].decision.reason.contains("2016-11-09"));
    }

    #[test]
    fn years_since_matches_go() {
        let as_of = Date::from_ymd(2019, 11, 11).unwrap();
        assert_eq!(
            format_years(years_since(as_of, Date::from_ymd(1979, 6, 1).unwrap())),
            "40.4"
        );
        assert_eq!(
            format_years(years_since(as_of, Date::from_ymd(2019, 11, 11).unwrap())),
            "0.0"
        );
        assert_eq!(
            format_years(years_since(as_of, Date::from_ymd(2019, 11, 20).unwrap())),
            "-0.0"
        );
        assert_eq!(
            format_years(years_since(as_of, Date::from_ymd(2018, 11, 11).unwrap())),
            "1.0"
        );
        // A Go Duration saturates at about 292 years.
        assert_eq!(
            format_years(years_since(as_of, Date::from_ymd(1500, 1, 1).unwrap())),
            "292.3"
        );
    }

    #[test]
    fn possible_other_p64_charges_follows_gogen() {
        let cases: &[(&str, &str, &str)] = &[
            ("912", "11357(A)", "11357(A)"),
            ("11350", "11357(A)", "11357(A)"),
            ("", "11357(A)", ""),
            ("SEE COMMENT FOR CHARGE", "11357(A)", ""),
            ("11358", "11359", "11359"),
            ("11357(A)", "11358", "11358"),
            ("11358", "11357(C)", "11357(C)"),
            ("11357(A)", "11357(C)", "11357(C)"),
            ("11357(D)", "11357(B)", "11357(B)"),
            ("11357(A)", "11357(B)", ""),
            ("11357(D)", "11357(C)", ""),
            ("11357", "11357(C)", "11357(C)"),
            ("11357(C)", "11357", ""),
            ("11358 HS", "NOTHING", ""),
        ];
        for &(offense, comment, expected) in cases {
            assert_eq!(
                possible_other_p64_charges(offense.as_bytes(), comment.as_bytes()),
                expected.as_bytes(),
                "{offense:?} / {comment:?}"
            );
        }
    }
}
