//! Run statistics: counts by section, level, outcome and rule, and the impact on people, under the
//! chosen rules and under "dismiss all Prop 64" for comparison. No personal data.

use std::collections::BTreeMap;

use super::{Determination, Outcome, is_in_county, matchers};
use crate::model::{Level, Person};

/// Figures about people after relief.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Impact {
    /// People with at least one dismissal or redesignation.
    pub people_with_some_relief: u64,
    /// People with at least one felony conviction, all of whose felonies get relief.
    pub people_left_with_no_felony: u64,
    /// People all of whose convictions (any county, any offence) are dismissed.
    pub people_left_with_no_conviction: u64,
}

/// Everything `summary.json` says about the decisions.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Statistics {
    pub people: u64,
    pub people_with_prop64_conviction_in_county: u64,
    pub convictions: u64,
    pub prop64_convictions_in_county: u64,
    /// Prop 64 convictions recorded in other counties: not determined here, but counted as priors.
    pub prop64_convictions_in_other_counties: u64,
    pub determinations: u64,
    pub by_outcome: BTreeMap<&'static str, u64>,
    /// Section (e.g. `HS 11357`) → outcome → count.
    pub by_section: BTreeMap<String, BTreeMap<&'static str, u64>>,
    /// Level → outcome → count.
    pub by_level: BTreeMap<&'static str, BTreeMap<&'static str, u64>>,
    pub by_track: BTreeMap<&'static str, u64>,
    pub by_basis: BTreeMap<&'static str, u64>,
    /// Rule id → count: the reasons, by the rule that fired.
    pub by_rule: BTreeMap<String, u64>,
    pub by_flag: BTreeMap<&'static str, u64>,
    /// Counts granted relief that rests on the presumption of eligibility (HS 11361.8(b), (f)):
    /// a fact the record lacks (grams, plants, age) was taken the favourable way.
    pub relief_resting_on_presumption: u64,
    /// The same, by the fact presumed (`presumed_plants` → count).
    pub relief_resting_on_presumption_by_fact: BTreeMap<&'static str, u64>,
    /// Counts granted relief whose court case number is not recorded: no paper is filed for
    /// them; they go to the office's review list.
    pub relief_without_case_number: u64,
    /// Counts the notice of challenge lists: not eligible, other than offences under current law.
    pub challenged: u64,
    pub impact: Impact,
    /// The same figures if every Prop 64 conviction in the county were dismissed.
    pub impact_if_all_prop64_dismissed: Impact,
}

/// Computes the statistics of a run.
pub fn statistics(
    people: &[Person],
    in_county: &[bool],
    determinations: &[Determination],
) -> Statistics {
    let mut statistics = Statistics {
        people: people.len() as u64,
        ..Statistics::default()
    };
    for outcome in Outcome::ALL {
        statistics.by_outcome.insert(outcome.as_str(), 0);
    }
    for determination in determinations {
        let conviction = determination.conviction(people);
        let outcome = determination.outcome().as_str();
        statistics.determinations += 1;
        *statistics.by_outcome.entry(outcome).or_default() += 1;
        let section = conviction.offense.as_ref().map_or_else(
            || "unknown".to_string(),
            |section| {
                section_key(
                    section
                        .code
                        .as_ref()
                        .map(crate::model::LawCode::abbreviation),
                    section.section.as_ref(),
                )
            },
        );
        *statistics
            .by_section
            .entry(section)
            .or_default()
            .entry(outcome)
            .or_default() += 1;
        *statistics
            .by_level
            .entry(conviction.level.as_str())
            .or_default()
            .entry(outcome)
            .or_default() += 1;
        *statistics
            .by_track
            .entry(determination.track.as_str())
            .or_default() += 1;
        *statistics
            .by_basis
            .entry(determination.basis.as_str())
            .or_default() += 1;
        // Looked up before inserting: a key is allocated once per rule, not once per count.
        let rule_id: &str = &determination.decision.rule_id;
        match statistics.by_rule.get_mut(rule_id) {
            Some(counted) => *counted += 1,
            None => {
                statistics.by_rule.insert(rule_id.to_owned(), 1);
            }
        }
        for flag in &determination.flags {
            *statistics.by_flag.entry(flag.as_str()).or_default() += 1;
        }
        if determination.outcome() == Outcome::NotEligible
            && !super::is_offense_under_current_law(&determination.decision.rule_id)
        {
            statistics.challenged += 1;
        }
        if determination.outcome().grants_relief()
            && determination
                .person(people)
                .case_numbers(conviction.count_key.case_key())
                .is_empty()
        {
            statistics.relief_without_case_number += 1;
        }
        if determination.outcome().grants_relief() {
            let mut presumed = determination
                .flags
                .iter()
                .filter(|flag| flag.is_presumption())
                .peekable();
            if presumed.peek().is_some() {
                statistics.relief_resting_on_presumption += 1;
            }
            for flag in presumed {
                *statistics
                    .relief_resting_on_presumption_by_fact
                    .entry(flag.as_str())
                    .or_default() += 1;
            }
        }
    }

    let mut outcomes: Vec<Vec<Option<Outcome>>> = people
        .iter()
        .map(|person| vec![None; person.convictions.len()])
        .collect();
    for determination in determinations {
        outcomes[determination.person_index][determination.conviction_index] =
            Some(determination.outcome());
    }
    let mut all_dismissed: Vec<Vec<Option<Outcome>>> = Vec::with_capacity(people.len());
    for person in people {
        let mut has_prop64_in_county = false;
        let mut row = Vec::with_capacity(person.convictions.len());
        for conviction in &person.convictions {
            statistics.convictions += 1;
            let prop64 = conviction.offense.as_ref().is_some_and(matchers::is_prop64);
            let in_county = is_in_county(conviction, in_county);
            if prop64 && in_county {
                statistics.prop64_convictions_in_county += 1;
                has_prop64_in_county = true;
            } else if prop64 {
                statistics.prop64_convictions_in_other_counties += 1;
            }
            row.push((prop64 && in_county).then_some(Outcome::DismissAndSeal));
        }
        statistics.people_with_prop64_conviction_in_county += u64::from(has_prop64_in_county);
        all_dismissed.push(row);
    }
    statistics.impact = impact(people, &outcomes);
    statistics.impact_if_all_prop64_dismissed = impact(people, &all_dismissed);
    statistics
}

fn impact(people: &[Person], outcomes: &[Vec<Option<Outcome>>]) -> Impact {
    let mut impact = Impact::default();
    for (person, outcomes) in people.iter().zip(outcomes) {
        let relieved = |index: usize| outcomes[index].is_some_and(Outcome::grants_relief);
        let dismissed = |index: usize| outcomes[index] == Some(Outcome::DismissAndSeal);
        if (0..outcomes.len()).any(relieved) {
            impact.people_with_some_relief += 1;
        }
        let felonies: Vec<usize> = person
            .convictions
            .iter()
            .enumerate()
            .filter(|(_, conviction)| conviction.level == Level::Felony)
            .map(|(index, _)| index)
            .collect();
        if !felonies.is_empty() && felonies.iter().all(|&index| relieved(index)) {
            impact.people_left_with_no_felony += 1;
        }
        if !person.convictions.is_empty() && (0..outcomes.len()).all(dismissed) {
            impact.people_left_with_no_conviction += 1;
        }
    }
    impact
}

impl Impact {
    fn add(&mut self, other: Impact) {
        self.people_with_some_relief += other.people_with_some_relief;
        self.people_left_with_no_felony += other.people_left_with_no_felony;
        self.people_left_with_no_conviction += other.people_left_with_no_conviction;
    }
}

impl Statistics {
    /// Adds the statistics of another part of the run (gogen mode evaluates files apart).
    pub fn merge(&mut self, other: Statistics) {
        fn add_counts<K: Ord>(target: &mut BTreeMap<K, u64>, source: BTreeMap<K, u64>) {
            for (key, value) in source {
                *target.entry(key).or_default() += value;
            }
        }
        self.people += other.people;
        self.people_with_prop64_conviction_in_county +=
            other.people_with_prop64_conviction_in_county;
        self.convictions += other.convictions;
        self.prop64_convictions_in_county += other.prop64_convictions_in_county;
        self.prop64_convictions_in_other_counties += other.prop64_convictions_in_other_counties;
        self.determinations += other.determinations;
        add_counts(&mut self.by_outcome, other.by_outcome);
        for (section, outcomes) in other.by_section {
            add_counts(self.by_section.entry(section).or_default(), outcomes);
        }
        for (level, outcomes) in other.by_level {
            add_counts(self.by_level.entry(level).or_default(), outcomes);
        }
        add_counts(&mut self.by_track, other.by_track);
        add_counts(&mut self.by_basis, other.by_basis);
        add_counts(&mut self.by_rule, other.by_rule);
        add_counts(&mut self.by_flag, other.by_flag);
        self.relief_resting_on_presumption += other.relief_resting_on_presumption;
        self.relief_without_case_number += other.relief_without_case_number;
        self.challenged += other.challenged;
        add_counts(
            &mut self.relief_resting_on_presumption_by_fact,
            other.relief_resting_on_presumption_by_fact,
        );
        self.impact.add(other.impact);
        self.impact_if_all_prop64_dismissed
            .add(other.impact_if_all_prop64_dismissed);
    }
}

/// The key `by_section` counts a conviction under: its code ("HS" when the record names none)
/// and section, without subdivisions ("HS 11357").
pub fn section_key(code: Option<&str>, section: &str) -> String {
    format!("{} {section}", code.unwrap_or("HS"))
}
