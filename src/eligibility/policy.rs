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
                .map(|(code, section, subsection)| {
                    ((*code).into(), (*section).into(), (*subsection).into())
                })
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
pub fn apply(
    policy: &Policy,
    person: &Person,
    conviction_index: usize,
    statutory: StatutoryResult,
    as_of: Date,
) -> Determination {
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
    let candidate = if matches!(level, Level::Misdemeanor | Level::Infraction)
        && policy.misdemeanors_always_dismissed
    {
        Some(Decision {
            outcome: Outcome::DismissAndSeal,
            rule_id: "policy.misdemeanor_dismissed",
            authority: "PC 1385".into(),
            reason: format!(
                "county policy dismisses every {} Prop 64 conviction",
                level.as_str()
            ),
        })
    } else {
        match policy.action_for(conviction) {
            PolicyAction::Statutory => None,
            PolicyAction::Dismiss => Some(Decision {
                outcome: Outcome::DismissAndSeal,
                rule_id: "policy.section_dismiss",
                authority: "PC 1385".into(),
                reason: format!(
                    "county policy dismisses {} convictions of this kind ({})",
                    section_label,
                    level.as_str()
                ),
            }),
            PolicyAction::Reduce => reduce(level).map(|(outcome, authority)| Decision {
                outcome,
                rule_id: "policy.section_reduce",
                authority: authority.into(),
                reason: format!(
                    "county policy reduces {} convictions of this kind ({})",
                    section_label,
                    level.as_str()
                ),
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
        Some(candidate)
            if candidate.outcome.relief_rank() > statutory_decision.outcome.relief_rank() =>
        {
            candidate
        }
        _ => statutory_decision.clone(),
    };
    if matches!(
        decision.outcome,
        Outcome::RedesignateMisdemeanor | Outcome::RedesignateInfraction
    ) && let Some((rule_id, reason)) =
        additional_relief(&policy.additional_relief, person, conviction, as_of)
    {
        decision = Decision {
            outcome: Outcome::DismissAndSeal,
            rule_id,
            authority: "PC 1385".into(),
            reason,
        };
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
    if relief.under_21_at_conviction
        && let (Some(dob), Some(date)) = (person.dob, conviction.date)
        && dob.add_years_normalized(21) > date
    {
        return Some((
            "policy.additional.under_21_at_conviction",
            "county policy dismisses convictions of people under 21 at conviction".into(),
        ));
    }
    if let (Some(years), Some(dob)) = (relief.age_at_least, person.dob)
        && dob.add_years_normalized(years as i32) <= as_of
    {
        return Some((
            "policy.additional.age_threshold",
            format!("county policy dismisses when the person is {years} or older on {as_of}"),
        ));
    }
    if let (Some(years), Some(date)) = (relief.conviction_at_least_years_old, conviction.date)
        && date <= as_of.add_years_normalized(-(years as i32))
    {
        return Some((
            "policy.additional.conviction_age",
            format!("county policy dismisses convictions {years} or more years old"),
        ));
    }
    if let Some(years) = relief.crime_free_years
        && let Some(latest) = person.most_recent_conviction_date()
        && latest < as_of.add_years_normalized(-(years as i32))
    {
        return Some((
            "policy.additional.crime_free",
            format!(
                "county policy dismisses when the person has no conviction in the last {years} years"
            ),
        ));
    }
    if relief.only_prop64_convictions
        && person.convictions.iter().all(|other| {
            other.offense.as_ref().is_some_and(|section| {
                matchers::is_prop64(section) && section.section.as_ref() != "11362.1"
            })
        })
    {
        return Some((
            "policy.additional.only_prop64",
            "county policy dismisses when the person's only convictions are HS 11357-11360".into(),
        ));
    }
    if relief.deceased && person.deceased {
        return Some((
            "policy.additional.deceased",
            "county policy dismisses when the person is deceased".into(),
        ));
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
            let label = conviction
                .offense
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default();
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
        let Some(section) = &conviction.offense else {
            continue;
        };
        if matchers::is_prop64(section) || matchers::is_prop64_with_unexpected_code(section) {
            continue;
        }
        let is_related =
            policy
                .related_charges
                .sections
                .iter()
                .any(|(code, number, subsection)| {
                    matchers::section_is(section, code, number, subsection)
                });
        let case_key = conviction.count_key.case_key();
        let Some((_, prop64_label)) = relieved_cases.iter().find(|(key, _)| *key == case_key)
        else {
            continue;
        };
        if !is_related
            || conviction
                .date
                .is_none_or(|date| date >= crate::model::PROP64_EFFECTIVE_DATE)
        {
            continue;
        }
        let (track, sentence_end) = track_of(conviction, as_of);
        let mut flags = vec![Flag::RelatedCharge];
        if person.deceased {
            flags.push(Flag::Deceased);
        }
        let verb = if outcome == Outcome::DismissAndSeal {
            "dismisses"
        } else {
            "sends to review"
        };
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eligibility::{evaluate, statute};
    use crate::model::Level::{Felony, Misdemeanor};
    use crate::model::fixtures::{conviction, date, person};

    const AS_OF: &str = "2020-07-01";

    /// Decides the last conviction of `subject` under `policy`.
    fn decide(policy: &Policy, subject: &Person) -> Determination {
        let index = subject.convictions.len() - 1;
        let as_of = date(AS_OF).unwrap();
        apply(
            policy,
            subject,
            index,
            statute::decide(subject, index, as_of),
            as_of,
        )
    }

    fn one(dob: &str, offense: &str, level: Level, conviction_date: &str) -> Person {
        let mut subject = person(dob);
        subject
            .convictions
            .push(conviction(offense, level, conviction_date));
        subject
    }

    fn with_rule(
        section: &str,
        subsection: Option<&str>,
        level: Option<Level>,
        action: PolicyAction,
    ) -> Policy {
        Policy {
            section_rules: vec![SectionRule {
                section: section.into(),
                subsection: subsection.map(Into::into),
                level,
                action,
            }],
            ..Policy::statutory()
        }
    }

    #[test]
    fn statutory_policy_changes_nothing() {
        let subject = one("1970-01-01", "11359 HS-SALE", Felony, "2005-01-01");
        let determination = decide(&Policy::statutory(), &subject);
        assert_eq!(determination.outcome(), Outcome::RedesignateMisdemeanor);
        assert_eq!(determination.basis, Basis::Statute);
        assert_eq!(determination.statutory, None);
    }

    #[test]
    fn misdemeanors_always_dismissed() {
        let subject = one(
            "1970-01-01",
            "11357(C) HS-OVER 28.5",
            Misdemeanor,
            "2005-01-01",
        );
        let on = Policy {
            misdemeanors_always_dismissed: true,
            ..Policy::statutory()
        };
        let determination = decide(&on, &subject);
        assert_eq!(determination.outcome(), Outcome::DismissAndSeal);
        assert_eq!(determination.basis, Basis::Policy);
        assert_eq!(
            determination.decision.rule_id,
            "policy.misdemeanor_dismissed"
        );
        assert_eq!(
            determination
                .statutory
                .as_ref()
                .map(|decision| decision.outcome),
            Some(Outcome::NotEligible)
        );
        assert_eq!(
            decide(&Policy::statutory(), &subject).outcome(),
            Outcome::NotEligible
        );
        // A felony is not a misdemeanor.
        let felony = one("1970-01-01", "11359 HS-SALE", Felony, "2005-01-01");
        assert_eq!(
            decide(&on, &felony).outcome(),
            Outcome::RedesignateMisdemeanor
        );
    }

    #[test]
    fn section_dismiss_and_its_negative() {
        let policy = with_rule("11359", None, None, PolicyAction::Dismiss);
        let sale = decide(
            &policy,
            &one("1970-01-01", "11359 HS-SALE", Felony, "2005-01-01"),
        );
        assert_eq!(
            (sale.outcome(), sale.decision.rule_id, sale.basis),
            (
                Outcome::DismissAndSeal,
                "policy.section_dismiss",
                Basis::Policy
            )
        );
        assert_eq!(sale.decision.authority, "PC 1385");
        let cultivation = decide(
            &policy,
            &one("1970-01-01", "11358 HS-CULT", Felony, "2005-01-01"),
        );
        assert_eq!(cultivation.outcome(), Outcome::RedesignateMisdemeanor);
    }

    #[test]
    fn section_reduce_adds_relief_but_never_removes_it() {
        let policy = with_rule("11359", None, None, PolicyAction::Reduce);
        let misdemeanor = decide(
            &policy,
            &one("1970-01-01", "11359 HS-SALE", Misdemeanor, "2005-01-01"),
        );
        assert_eq!(
            (misdemeanor.outcome(), misdemeanor.decision.rule_id),
            (Outcome::RedesignateInfraction, "policy.section_reduce")
        );
        let felony = decide(
            &policy,
            &one("1970-01-01", "11359 HS-SALE", Felony, "2005-01-01"),
        );
        assert_eq!(
            (felony.outcome(), felony.basis),
            (Outcome::RedesignateMisdemeanor, Basis::Statute)
        );
        let reduce_possession = with_rule("11357", None, None, PolicyAction::Reduce);
        let lawful = decide(
            &reduce_possession,
            &one(
                "1970-01-01",
                "11357(B) HS-POSSESS",
                Misdemeanor,
                "2005-01-01",
            ),
        );
        assert_eq!(
            (lawful.outcome(), lawful.basis),
            (Outcome::DismissAndSeal, Basis::Statute)
        );
    }

    #[test]
    fn section_review_keeps_the_statutory_outcome_beside_it() {
        let policy = with_rule("11360", None, None, PolicyAction::Review);
        let determination = decide(
            &policy,
            &one("1970-01-01", "11360(A) HS-SELL", Felony, "2005-01-01"),
        );
        assert_eq!(determination.outcome(), Outcome::NeedsReview);
        assert_eq!(
            determination.statutory.map(|decision| decision.outcome),
            Some(Outcome::RedesignateMisdemeanor)
        );
        let other = decide(
            &policy,
            &one("1970-01-01", "11359 HS-SALE", Felony, "2005-01-01"),
        );
        assert_eq!(other.outcome(), Outcome::RedesignateMisdemeanor);
    }

    #[test]
    fn the_most_specific_rule_wins() {
        let policy = Policy {
            section_rules: vec![
                SectionRule {
                    section: "11357".into(),
                    subsection: None,
                    level: Some(Misdemeanor),
                    action: PolicyAction::Review,
                },
                SectionRule {
                    section: "11357".into(),
                    subsection: Some("(c)".into()),
                    level: None,
                    action: PolicyAction::Dismiss,
                },
            ],
            ..Policy::statutory()
        };
        let over = decide(
            &policy,
            &one("1970-01-01", "11357(C) HS-OVER", Misdemeanor, "2005-01-01"),
        );
        assert_eq!(over.outcome(), Outcome::DismissAndSeal);
        let school = decide(
            &policy,
            &one(
                "1970-01-01",
                "11357(D) HS-SCHOOL",
                Misdemeanor,
                "2005-01-01",
            ),
        );
        assert_eq!(school.outcome(), Outcome::NeedsReview);
    }

    fn with_relief(relief: AdditionalRelief) -> Policy {
        Policy {
            additional_relief: relief,
            ..Policy::statutory()
        }
    }

    /// (switches, a person they upgrade, a person they do not, the rule id).
    type Check = (AdditionalRelief, Person, Person, &'static str);

    #[test]
    fn additional_relief_each_switch() {
        let reduction =
            |dob: &str, conviction_date: &str| one(dob, "11359 HS-SALE", Felony, conviction_date);
        let cases: Vec<Check> = vec![
            (
                AdditionalRelief {
                    under_21_at_conviction: true,
                    ..Default::default()
                },
                reduction("1985-06-01", "2005-01-01"),
                reduction("1980-06-01", "2005-01-01"),
                "policy.additional.under_21_at_conviction",
            ),
            (
                AdditionalRelief {
                    age_at_least: Some(50),
                    ..Default::default()
                },
                reduction("1970-07-01", "2005-01-01"),
                reduction("1970-07-02", "2005-01-01"),
                "policy.additional.age_threshold",
            ),
            (
                AdditionalRelief {
                    conviction_at_least_years_old: Some(10),
                    ..Default::default()
                },
                reduction("1970-01-01", "2010-07-01"),
                reduction("1970-01-01", "2010-07-02"),
                "policy.additional.conviction_age",
            ),
            (
                AdditionalRelief {
                    crime_free_years: Some(5),
                    ..Default::default()
                },
                reduction("1970-01-01", "2015-06-30"),
                reduction("1970-01-01", "2015-07-01"),
                "policy.additional.crime_free",
            ),
            (
                AdditionalRelief {
                    only_prop64_convictions: true,
                    ..Default::default()
                },
                reduction("1970-01-01", "2005-01-01"),
                {
                    let mut subject = person("1970-01-01");
                    subject
                        .convictions
                        .push(conviction("459 PC-BURGLARY", Felony, "1999-01-01"));
                    subject
                        .convictions
                        .push(conviction("11359 HS-SALE", Felony, "2005-01-01"));
                    subject
                },
                "policy.additional.only_prop64",
            ),
            (
                AdditionalRelief {
                    deceased: true,
                    ..Default::default()
                },
                {
                    let mut subject = reduction("1970-01-01", "2005-01-01");
                    subject.deceased = true;
                    subject
                },
                reduction("1970-01-01", "2005-01-01"),
                "policy.additional.deceased",
            ),
        ];
        for (relief, positive, negative, rule) in cases {
            let policy = with_relief(relief);
            let upgraded = decide(&policy, &positive);
            assert_eq!(
                (upgraded.outcome(), upgraded.decision.rule_id),
                (Outcome::DismissAndSeal, rule)
            );
            assert_eq!(
                upgraded.statutory.map(|decision| decision.outcome),
                Some(Outcome::RedesignateMisdemeanor)
            );
            let unchanged = decide(&policy, &negative);
            assert_eq!(
                unchanged.outcome(),
                Outcome::RedesignateMisdemeanor,
                "{rule} negative"
            );
        }
    }

    #[test]
    fn disqualifiers_block_policy_relief_only_when_the_policy_says_so() {
        let mut subject = person("1970-01-01");
        subject
            .convictions
            .push(conviction("187 PC-MURDER", Felony, "1995-01-01"));
        subject
            .convictions
            .push(conviction("11359 HS-SALE", Felony, "2005-01-01"));
        let blocking = with_rule("11359", None, None, PolicyAction::Dismiss);
        assert_eq!(decide(&blocking, &subject).outcome(), Outcome::NotEligible);
        let bear_like = Policy {
            disqualifiers_block_policy_relief: false,
            ..blocking
        };
        assert_eq!(
            decide(&bear_like, &subject).outcome(),
            Outcome::DismissAndSeal
        );
    }

    #[test]
    fn policy_never_touches_current_law_or_unknown_facts() {
        let everything = Policy {
            misdemeanors_always_dismissed: true,
            disqualifiers_block_policy_relief: false,
            section_rules: vec![SectionRule {
                section: "11359".into(),
                subsection: None,
                level: None,
                action: PolicyAction::Dismiss,
            }],
            ..Policy::statutory()
        };
        let recent = decide(
            &everything,
            &one("1970-01-01", "11359 HS-SALE", Felony, "2017-01-01"),
        );
        assert_eq!(
            (recent.outcome(), recent.basis),
            (Outcome::NotEligible, Basis::Statute)
        );
        let undated = decide(&everything, &one("1970-01-01", "11359 HS-SALE", Felony, ""));
        assert_eq!(undated.outcome(), Outcome::NeedsReview);
    }

    #[test]
    fn related_charges_in_the_same_case() {
        let mut subject = person("1970-01-01");
        let possession = conviction("11357(B) HS-POSSESS", Misdemeanor, "2005-01-01");
        let mut related = conviction(
            "647(F) PC-DISORDERLY CONDUCT:INTOX",
            Misdemeanor,
            "2005-01-01",
        );
        related.count_key = crate::model::CountKey::parse_strict(
            format!(
                "{}002000",
                std::str::from_utf8(&possession.count_key.case_key().0).unwrap()
            )
            .as_bytes(),
        )
        .unwrap();
        let unrelated_case = conviction(
            "647(F) PC-DISORDERLY CONDUCT:INTOX",
            Misdemeanor,
            "2006-01-01",
        );
        subject.convictions = vec![possession, related, unrelated_case];
        let in_county = [true];
        let as_of = date(AS_OF).unwrap();
        let off = evaluate(
            std::slice::from_ref(&subject),
            &in_county,
            &Policy::statutory(),
            as_of,
        );
        assert_eq!(off.len(), 1);
        let dismissing = Policy {
            related_charges: RelatedCharges {
                action: RelatedChargesAction::Dismiss,
                ..RelatedCharges::default()
            },
            ..Policy::statutory()
        };
        let determinations = evaluate(
            std::slice::from_ref(&subject),
            &in_county,
            &dismissing,
            as_of,
        );
        assert_eq!(determinations.len(), 2, "only the 647(f) in the same case");
        assert_eq!(determinations[1].conviction_index, 1);
        assert_eq!(
            determinations[1].decision.rule_id,
            "policy.related_charge_dismiss"
        );
        assert!(determinations[1].flags.contains(&Flag::RelatedCharge));
        // No relieved Prop 64 count in the case: no related-charge relief.
        subject.convictions[0] = conviction("11357(C) HS-OVER", Misdemeanor, "2005-01-01");
        subject.convictions[0].count_key = subject.convictions[1].count_key;
        let none = evaluate(
            std::slice::from_ref(&subject),
            &in_county,
            &dismissing,
            as_of,
        );
        assert_eq!(none.len(), 1);
    }
}
