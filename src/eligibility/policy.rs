//! The policy layer: a county's choices beyond the statute, as data.
//!
//! A policy can, per section (optionally subsection) and level, choose `dismiss`, `reduce`,
//! `statutory` or `review`; turn on "additional relief" that upgrades a reduction to a dismissal;
//! treat misdemeanors and infractions as always dismissed; and dismiss or review related charges
//! in the same case. It can only add relief or send a count to review: it never takes statutory
//! relief away, and it never touches a conviction under current law or one whose facts are
//! unknown. Whether statutory disqualifiers also bar policy relief is itself a policy choice.

use super::statute::{PolicyBarrier, StatutoryResult};
use super::{Basis, Decision, Determination, Flag, Outcome, is_in_county, matchers, track_of};
use crate::model::{Conviction, Date, Level, Person};

/// What a policy does with matching convictions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyAction {
    /// Dismiss and seal (in the interest of justice when the statute gives less).
    Dismiss,
    /// Redesignate one level down (felony → misdemeanor, misdemeanor → infraction).
    Reduce,
    /// Whatever the statute gives.
    Statutory,
    /// Send to a human.
    Review,
}

impl PolicyAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyAction::Dismiss => "dismiss",
            PolicyAction::Reduce => "reduce",
            PolicyAction::Statutory => "statutory",
            PolicyAction::Review => "review",
        }
    }
}

/// A per-section choice. More specific rules (with subsection, with level) win.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SectionRule {
    /// `11357`, `11358`, `11359`, `11360` or `11362.1`.
    pub section: String,
    /// Canonical subsection prefix such as `(b)`; `None` matches any.
    pub subsection: Option<String>,
    /// `None` matches any level.
    pub level: Option<Level>,
    pub action: PolicyAction,
}

impl SectionRule {
    fn matches(&self, conviction: &Conviction) -> bool {
        let Some(section) = &conviction.offense else {
            return false;
        };
        *section.section == *self.section
            && self
                .subsection
                .as_ref()
                .is_none_or(|prefix| section.subsections.starts_with(prefix.as_str()))
            && self.level.is_none_or(|level| level == conviction.level)
    }

    fn specificity(&self) -> u8 {
        u8::from(self.subsection.is_some()) * 2 + u8::from(self.level.is_some())
    }
}

/// Conditions that upgrade a reduction to a dismissal. Checked in this order; the first that
/// holds is the reason given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AdditionalRelief {
    pub under_21_at_conviction: bool,
    /// The person is at least this old on the as-of date (40..=65).
    pub age_at_least: Option<u32>,
    /// The conviction is at least this many years before the as-of date (1..=15).
    pub conviction_at_least_years_old: Option<u32>,
    /// No conviction of any kind in this many years before the as-of date (1..=15).
    pub crime_free_years: Option<u32>,
    /// The person's only convictions are HS 11357–11360.
    pub only_prop64_convictions: bool,
    pub deceased: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelatedChargesAction {
    Off,
    Dismiss,
    Review,
}

/// Charges in the same court case as a relieved Prop 64 count that the policy dismisses or
/// reviews with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RelatedCharges {
    pub action: RelatedChargesAction,
    /// (code, section, subsection prefix); empty prefix matches any subsection.
    pub sections: Vec<(String, String, String)>,
}

impl Default for RelatedCharges {
    fn default() -> Self {
        RelatedCharges {
            action: RelatedChargesAction::Off,
            sections: matchers::DEFAULT_RELATED_CHARGES
                .iter()
                .map(|(code, section, subsection)| ((*code).into(), (*section).into(), (*subsection).into()))
                .collect(),
        }
    }
}

/// A county policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    pub section_rules: Vec<SectionRule>,
    /// Dismiss every misdemeanor and infraction Prop 64 count (every pilot county did).
    pub misdemeanors_always_dismissed: bool,
    /// Statutory disqualifiers (super strike, PC 290, two priors) also bar policy relief.
    pub disqualifiers_block_policy_relief: bool,
    pub additional_relief: AdditionalRelief,
    pub related_charges: RelatedCharges,
}

impl Policy {
    /// The statute alone: no choices beyond it.
    pub fn statutory() -> Policy {
        Policy {
            name: "statutory (HS 11361.8 only)".into(),
            section_rules: Vec::new(),
            misdemeanors_always_dismissed: false,
            disqualifiers_block_policy_relief: true,
            additional_relief: AdditionalRelief::default(),
            related_charges: RelatedCharges::default(),
        }
    }

    fn action_for(&self, conviction: &Conviction) -> PolicyAction {
        self.section_rules
            .iter()
            .filter(|rule| rule.matches(conviction))
            .max_by_key(|rule| rule.specificity())
            .map_or(PolicyAction::Statutory, |rule| rule.action)
    }
}

/// Applies the policy to one statutory result.
pub fn apply(policy: &Policy, person: &Person, conviction_index: usize, statutory: StatutoryResult, as_of: Date) -> Determination {
    let conviction = &person.convictions[conviction_index];
    let StatutoryResult {
        decision: statutory_decision,
        flags,
        track,
        sentence_end,
        policy_barrier,
    } = statutory;
    let finish = |decision: Decision, basis: Basis| Determination {
        person_index: 0,
        conviction_index,
        statutory: (basis == Basis::Policy).then(|| statutory_decision.clone()),
        decision,
        basis,
        track,
        sentence_end,
        flags: flags.clone(),
    };
    let blocked = match policy_barrier {
        Some(PolicyBarrier::NotAProp64ReliefCase | PolicyBarrier::UnknownFacts) => true,
        Some(PolicyBarrier::Disqualified) => policy.disqualifiers_block_policy_relief,
        None => statutory_decision.outcome == Outcome::NeedsReview,
    };
    if blocked {
        return finish(statutory_decision.clone(), Basis::Statute);
    }

    let section_label = conviction
        .offense
        .as_ref()
        .map_or_else(|| "this section".to_string(), ToString::to_string);
    let level = conviction.level;
    let candidate = if matches!(level, Level::Misdemeanor | Level::Infraction) && policy.misdemeanors_always_dismissed {
        Some(Decision {
            outcome: Outcome::DismissAndSeal,
            rule_id: "policy.misdemeanor_dismissed",
            authority: "PC 1385".into(),
            reason: format!("county policy dismisses every {} Prop 64 conviction", level.as_str()),
        })
    } else {
        match policy.action_for(conviction) {
            PolicyAction::Statutory => None,
            PolicyAction::Dismiss => Some(Decision {
                outcome: Outcome::DismissAndSeal,
                rule_id: "policy.section_dismiss",
                authority: "PC 1385".into(),
                reason: format!("county policy dismisses {} convictions of this kind ({})", section_label, level.as_str()),
            }),
            PolicyAction::Reduce => reduce(level).map(|(outcome, authority)| Decision {
                outcome,
                rule_id: "policy.section_reduce",
                authority: authority.into(),
                reason: format!("county policy reduces {} convictions of this kind ({})", section_label, level.as_str()),
            }),
            PolicyAction::Review => {
                return finish(
                    Decision {
                        outcome: Outcome::NeedsReview,
                        rule_id: "policy.section_review",
                        authority: String::new(),
                        reason: format!(
                            "county policy sends {} convictions of this kind to review; the statute alone gives: {}",
                            section_label,
                            statutory_decision.outcome.as_str()
                        ),
                    },
                    Basis::Policy,
                );
            }
        }
    };

    // Policy only adds relief: keep the statutory decision unless the candidate is better.
    let mut decision = match candidate {
        Some(candidate) if candidate.outcome.relief_rank() > statutory_decision.outcome.relief_rank() => candidate,
        _ => statutory_decision.clone(),
    };
    if matches!(decision.outcome, Outcome::RedesignateMisdemeanor | Outcome::RedesignateInfraction) {
        if let Some((rule_id, reason)) = additional_relief(&policy.additional_relief, person, conviction, as_of) {
            decision = Decision {
                outcome: Outcome::DismissAndSeal,
                rule_id,
                authority: "PC 1385".into(),
                reason,
            };
        }
    }
    let basis = if decision == statutory_decision {
        Basis::Statute
    } else {
        Basis::Policy
    };
    finish(decision, basis)
}

/// One level down: felony → misdemeanor (PC 17(b)), misdemeanor → infraction (PC 17(d)).
fn reduce(level: Level) -> Option<(Outcome, &'static str)> {
    match level {
        Level::Felony | Level::Unknown => Some((Outcome::RedesignateMisdemeanor, "PC 17(b)")),
        Level::Misdemeanor => Some((Outcome::RedesignateInfraction, "PC 17(d)")),
        Level::Infraction => None,
    }
}

/// The first additional-relief condition that holds, as (rule id, reason).
fn additional_relief(
    relief: &AdditionalRelief,
    person: &Person,
    conviction: &Conviction,
    as_of: Date,
) -> Option<(&'static str, String)> {
    if relief.under_21_at_conviction {
        if let (Some(dob), Some(date)) = (person.dob, conviction.date) {
            if dob.add_years_normalized(21) > date {
                return Some(("policy.additional.under_21_at_conviction", "county policy dismisses convictions of people under 21 at conviction".into()));
            }
        }
    }
    if let (Some(years), Some(dob)) = (relief.age_at_least, person.dob) {
        if dob.add_years_normalized(years as i32) <= as_of {
            return Some(("policy.additional.age_threshold", format!("county policy dismisses when the person is {years} or older on {as_of}")));
        }
    }
    if let (Some(years), Some(date)) = (relief.conviction_at_least_years_old, conviction.date) {
        if date <= as_of.add_years_normalized(-(years as i32)) {
            return Some(("policy.additional.conviction_age", format!("county policy dismisses convictions {years} or more years old")));
        }
    }
    if let Some(years) = relief.crime_free_years {
        if let Some(latest) = person.most_recent_conviction_date() {
            if latest < as_of.add_years_normalized(-(years as i32)) {
                return Some(("policy.additional.crime_free", format!("county policy dismisses when the person has no conviction in the last {years} years")));
            }
        }
    }
    if relief.only_prop64_convictions
        && person.convictions.iter().all(|other| {
            other.offense.as_ref().is_some_and(|section| {
                matchers::is_prop64(section) && section.section.as_ref() != "11362.1"
            })
        })
    {
        return Some(("policy.additional.only_prop64", "county policy dismisses when the person's only convictions are HS 11357-11360".into()));
    }
    if relief.deceased && person.deceased {
        return Some(("policy.additional.deceased", "county policy dismisses when the person is deceased".into()));
    }
    None
}

/// Adds determinations for related charges of a person, once their Prop 64 counts (from
/// `determinations[first_of_person..]`) are decided.
pub(crate) fn add_related_charges(
    policy: &Policy,
    person: &Person,
    person_index: usize,
    in_county: &[bool],
    determinations: &mut Vec<Determination>,
    first_of_person: usize,
    as_of: Date,
) {
    let (outcome, rule_id) = match policy.related_charges.action {
        RelatedChargesAction::Off => return,
        RelatedChargesAction::Dismiss => (Outcome::DismissAndSeal, "policy.related_charge_dismiss"),
        RelatedChargesAction::Review => (Outcome::NeedsReview, "policy.related_charge_review"),
    };
    let relieved_cases: Vec<(crate::model::CaseKey, String)> = determinations[first_of_person..]
        .iter()
        .filter(|determination| determination.outcome().grants_relief())
        .map(|determination| {
            let conviction = &person.convictions[determination.conviction_index];
            let label = conviction.offense.as_ref().map(ToString::to_string).unwrap_or_default();
            (conviction.count_key.case_key(), label)
        })
        .collect();
    if relieved_cases.is_empty() {
        return;
    }
    for (conviction_index, conviction) in person.convictions.iter().enumerate() {
        if !is_in_county(conviction, in_county) {
            continue;
        }
        let Some(section) = &conviction.offense else { continue };
        if matchers::is_prop64(section) || matchers::is_prop64_with_unexpected_code(section) {
            continue;
        }
        let is_related = policy
            .related_charges
            .sections
            .iter()
            .any(|(code, number, subsection)| matchers::section_is(section, code, number, subsection));
        let case_key = conviction.count_key.case_key();
        let Some((_, prop64_label)) = relieved_cases.iter().find(|(key, _)| *key == case_key) else {
            continue;
        };
        if !is_related || conviction.date.is_none_or(|date| date >= crate::model::PROP64_EFFECTIVE_DATE) {
            continue;
        }
        let (track, sentence_end) = track_of(conviction, as_of);
        let mut flags = vec![Flag::RelatedCharge];
        if person.deceased {
            flags.push(Flag::Deceased);
        }
        let verb = if outcome == Outcome::DismissAndSeal { "dismisses" } else { "sends to review" };
        determinations.push(Determination {
            person_index,
            conviction_index,
            decision: Decision {
                outcome,
                rule_id,
                authority: if outcome == Outcome::DismissAndSeal { "PC 1385".into() } else { String::new() },
                reason: format!("county policy {verb} {section}, a related charge in the same case as the relieved {prop64_label} count"),
            },
            basis: Basis::Policy,
            track,
            sentence_end,
            flags,
            statutory: Some(Decision {
                outcome: Outcome::NotEligible,
                rule_id: "statute.not_prop64",
                authority: String::new(),
                reason: "not a Prop 64 offence".into(),
            }),
        });
    }
}
