//! The policy layer: a county's choices beyond the statute, as data.
//!
//! A policy is an ordered list of rules. Each rule has conditions that must all hold (section,
//! subsection, level, track, the statutory outcome, the person's age, how old the conviction is,
//! years without a conviction, only Prop 64 convictions, every sentence completed, death) and an
//! action: `dismiss` (naming its legal authority and whether it seals), `reduce` (naming its
//! authority), `statutory` or `review`. The first rule whose conditions hold decides; a count no
//! rule matches gets what the statute gives. This expresses the pilot counties' flows as they
//! wrote them (Los Angeles 2019: misdemeanors to the city attorneys, dismiss old 11357(a)/(b),
//! other 11357 to review, dismiss felonies of people with only Prop 64 convictions *and* every
//! sentence completed, ...), with no code per county.
//!
//! A policy can only add relief or send a count to review: it never takes statutory relief away,
//! and it never touches an offence under current law or a count whose facts are unknown. Whether
//! statutory disqualifiers also bar policy relief is itself a policy choice. Relief beyond the
//! statute cites the authority the policy names, never one chosen here: PC 17(b)/(d) reach only
//! wobblers and listed misdemeanors (old 11358, 11359 and 11360(a) were straight felonies) and
//! PC 1385 does not reach a completed sentence (People v. Chavez (2018) 4 Cal.5th 771).

use std::borrow::Cow;
use std::fmt::Write as _;

use super::statute::{PolicyBarrier, StatutoryResult};
use super::{
    Basis, Decision, Determination, Flag, Outcome, Track, is_in_county, matchers, track_of,
};
use crate::model::{Conviction, Date, Level, Person};

/// What a rule does with matching convictions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PolicyAction {
    /// Dismiss, on the named authority, sealing or not as the policy says.
    Dismiss { authority: String, seal: bool },
    /// Redesignate one level down (felony → misdemeanor, misdemeanor → infraction) on the named
    /// authority.
    Reduce { authority: String },
    /// Whatever the statute gives.
    Statutory,
    /// Send to a human.
    Review,
}

/// Conditions of a rule; every one that is set must hold. Boolean conditions hold when the fact
/// equals the value (`deceased = false` holds for the living).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Conditions {
    /// `11357`, `11358`, `11359`, `11360` or `11362.1`; empty matches any.
    pub sections: Vec<String>,
    /// Canonical subsection prefixes such as `(b)`; empty matches any. `""` matches a section
    /// recorded without a subsection.
    pub subsections: Vec<String>,
    /// Empty matches any level.
    pub levels: Vec<Level>,
    pub track: Option<Track>,
    /// The outcome the statute alone gives; empty matches any.
    pub statutory_outcomes: Vec<Outcome>,
    pub under_21_at_conviction: Option<bool>,
    /// The person is at least this old on the as-of date (40..=65).
    pub age_at_least: Option<u32>,
    /// The conviction is at least this many years before the as-of date (1..=15).
    pub conviction_at_least_years_old: Option<u32>,
    /// No conviction of any kind in this many years before the as-of date (1..=15).
    pub crime_free_years: Option<u32>,
    /// The person's only convictions (any county) are HS 11357–11360.
    pub only_prop64_convictions: Option<bool>,
    /// Every sentence of the person's convictions (any county) has ended by the as-of date; a
    /// sentence that cannot be read or dated counts as not completed.
    pub all_sentences_completed: Option<bool>,
    pub deceased: Option<bool>,
}

/// One rule of a policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyRule {
    /// A short id (`age-50-or-older`): the determination's rule id is `policy.<id>`.
    pub id: String,
    pub when: Conditions,
    pub action: PolicyAction,
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
    /// The authority a dismissal of a related charge cites, and whether it seals.
    pub authority: String,
    pub seal: bool,
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
            authority: String::new(),
            seal: false,
        }
    }
}

/// A county policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    pub name: String,
    /// Tried in order; the first whose conditions hold decides.
    pub rules: Vec<PolicyRule>,
    /// Statutory disqualifiers (super strike, PC 290, two priors) also bar policy relief.
    pub disqualifiers_block_policy_relief: bool,
    pub related_charges: RelatedCharges,
}

impl Policy {
    /// The statute alone: no choices beyond it.
    pub fn statutory() -> Policy {
        Policy {
            name: "statutory (HS 11361.8 only)".into(),
            rules: Vec::new(),
            disqualifiers_block_policy_relief: true,
            related_charges: RelatedCharges::default(),
        }
    }
}

/// What the conditions are evaluated against.
struct Facts<'a> {
    person: &'a Person,
    conviction: &'a Conviction,
    track: Track,
    statutory_outcome: Outcome,
    as_of: Date,
}

impl Conditions {
    fn hold(&self, facts: &Facts<'_>) -> bool {
        let conviction = facts.conviction;
        let person = facts.person;
        let Some(section) = &conviction.offense else {
            return false;
        };
        // A condition holds only on a fact the record has: an unknown fact (no date of birth,
        // an undated conviction, a sentence that cannot be read) never gives policy relief,
        // whichever value the rule asks for.
        // Each fact is looked up only when the rule asks about it: the person-wide ones scan every
        // conviction, and this runs for every rule on every Prop 64 count.
        let equals = |wanted: Option<bool>, actual: &dyn Fn() -> Option<bool>| {
            wanted.is_none_or(|want| actual() == Some(want))
        };
        (self.sections.is_empty()
            || self
                .sections
                .iter()
                .any(|wanted| **wanted == *section.section))
            && (self.subsections.is_empty()
                || self.subsections.iter().any(|prefix| {
                    if prefix.is_empty() {
                        section.subsections.is_empty()
                    } else {
                        section.subsections.starts_with(prefix.as_str())
                    }
                }))
            && (self.levels.is_empty() || self.levels.contains(&conviction.level))
            && self.track.is_none_or(|track| track == facts.track)
            && (self.statutory_outcomes.is_empty()
                || self.statutory_outcomes.contains(&facts.statutory_outcome))
            && equals(
                self.under_21_at_conviction,
                &|| match (person.dob, conviction.date) {
                    (Some(dob), Some(date)) => Some(dob.add_years_normalized(21) > date),
                    _ => None,
                },
            )
            && self.age_at_least.is_none_or(|years| {
                person
                    .dob
                    .is_some_and(|dob| dob.add_years_normalized(years as i32) <= facts.as_of)
            })
            && self.conviction_at_least_years_old.is_none_or(|years| {
                conviction
                    .date
                    .is_some_and(|date| date <= facts.as_of.add_years_normalized(-(years as i32)))
            })
            && self.crime_free_years.is_none_or(|years| {
                person.convictions.iter().all(|other| other.date.is_some())
                    && person.most_recent_conviction_date().is_some_and(|latest| {
                        latest < facts.as_of.add_years_normalized(-(years as i32))
                    })
            })
            && equals(self.only_prop64_convictions, &|| {
                Some(only_prop64_convictions(person))
            })
            && equals(self.all_sentences_completed, &|| {
                all_sentences_completed(person, facts.as_of)
            })
            && equals(self.deceased, &|| Some(person.deceased))
    }

    /// The conditions in words, for the reason: `HS 11359; felony; 50 or older on 2020-07-01`.
    fn describe(&self, as_of: Date) -> String {
        let mut parts: Vec<String> = Vec::new();
        if !self.sections.is_empty() {
            let subsections = if self.subsections.is_empty() {
                String::new()
            } else {
                self.subsections
                    .iter()
                    .map(|prefix| {
                        if prefix.is_empty() {
                            "(no subsection)"
                        } else {
                            prefix
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" or ")
            };
            parts.push(format!("HS {}{subsections}", self.sections.join(" or ")));
        } else if !self.subsections.is_empty() {
            parts.push(format!("subsection {}", self.subsections.join(" or ")));
        }
        if !self.levels.is_empty() {
            parts.push(
                self.levels
                    .iter()
                    .map(|level| level.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
            );
        }
        if let Some(track) = self.track {
            parts.push(match track {
                Track::Serving => "sentence still being served".into(),
                Track::Completed => "sentence completed".into(),
            });
        }
        if !self.statutory_outcomes.is_empty() {
            parts.push(format!(
                "the statute gives {}",
                self.statutory_outcomes
                    .iter()
                    .map(|outcome| outcome.as_str())
                    .collect::<Vec<_>>()
                    .join(" or ")
            ));
        }
        let flag = |parts: &mut Vec<String>, value: Option<bool>, yes: &str, no: &str| {
            if let Some(value) = value {
                parts.push(if value { yes } else { no }.to_string());
            }
        };
        flag(
            &mut parts,
            self.under_21_at_conviction,
            "under 21 at conviction",
            "21 or older at conviction",
        );
        if let Some(years) = self.age_at_least {
            parts.push(format!("the person is {years} or older on {as_of}"));
        }
        if let Some(years) = self.conviction_at_least_years_old {
            parts.push(format!("convicted {years} or more years ago"));
        }
        if let Some(years) = self.crime_free_years {
            parts.push(format!("no conviction in the last {years} years"));
        }
        flag(
            &mut parts,
            self.only_prop64_convictions,
            "the person's only convictions are HS 11357-11360",
            "the person has convictions other than HS 11357-11360",
        );
        flag(
            &mut parts,
            self.all_sentences_completed,
            "every sentence of the person completed",
            "some sentence of the person not completed",
        );
        flag(
            &mut parts,
            self.deceased,
            "the person is deceased",
            "the person is living",
        );
        if parts.is_empty() {
            "every count".into()
        } else {
            parts.join("; ")
        }
    }
}

/// The person's only convictions (any county, any offence) are HS 11357–11360.
fn only_prop64_convictions(person: &Person) -> bool {
    person.convictions.iter().all(|other| {
        other.offense.as_ref().is_some_and(|section| {
            matchers::is_prop64(section) && section.section.as_ref() != "11362.1"
        })
    })
}

/// Whether every sentence of every conviction of the person has ended by `as_of`: `Some(false)`
/// when one is known to run past it, `None` when one cannot be dated or read (and none is
/// known to run past it).
fn all_sentences_completed(person: &Person, as_of: Date) -> Option<bool> {
    let mut unknown = false;
    for conviction in &person.convictions {
        match track_of(conviction, as_of) {
            (Track::Serving, _) => return Some(false),
            (Track::Completed, Some(_)) if !conviction.sentence.is_uncertain() => {}
            _ => unknown = true,
        }
    }
    (!unknown).then_some(true)
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
    let facts = Facts {
        person,
        conviction,
        track,
        statutory_outcome: statutory_decision.outcome,
        as_of,
    };
    let Some(rule) = policy.rules.iter().find(|rule| rule.when.hold(&facts)) else {
        return finish(statutory_decision.clone(), Basis::Statute);
    };
    let rule_id = Cow::Owned(format!("policy.{}", rule.id));
    let mut reason = format!(
        "county policy rule \"{}\" ({})",
        rule.id,
        rule.when.describe(as_of)
    );
    let candidate = match &rule.action {
        PolicyAction::Statutory => None,
        PolicyAction::Review => {
            let _ = write!(
                reason,
                " sends the count to review; the statute alone gives: {}",
                statutory_decision.outcome.as_str()
            );
            return finish(
                Decision {
                    outcome: Outcome::NeedsReview,
                    rule_id,
                    authority: String::new(),
                    reason,
                    seal: false,
                },
                Basis::Policy,
            );
        }
        PolicyAction::Dismiss { authority, seal } => {
            let _ = write!(
                reason,
                " dismisses the conviction{} on the authority of {authority}",
                if *seal { " and seals the record" } else { "" }
            );
            Some(Decision {
                outcome: Outcome::DismissAndSeal,
                rule_id,
                authority: authority.clone(),
                reason,
                seal: *seal,
            })
        }
        PolicyAction::Reduce { authority } => reduced(conviction.level).map(|(outcome, words)| {
            let _ = write!(
                reason,
                " reduces the conviction to {words} on the authority of {authority}"
            );
            Decision {
                outcome,
                rule_id,
                authority: authority.clone(),
                reason,
                seal: false,
            }
        }),
    };
    // Policy only adds relief: keep the statutory decision unless the candidate is better.
    match candidate {
        Some(candidate)
            if candidate.outcome.relief_rank() > statutory_decision.outcome.relief_rank() =>
        {
            finish(candidate, Basis::Policy)
        }
        _ => finish(statutory_decision.clone(), Basis::Statute),
    }
}

/// One level down: felony → misdemeanor, misdemeanor → infraction.
fn reduced(level: Level) -> Option<(Outcome, &'static str)> {
    match level {
        Level::Felony | Level::Unknown => Some((Outcome::RedesignateMisdemeanor, "a misdemeanor")),
        Level::Misdemeanor => Some((Outcome::RedesignateInfraction, "an infraction")),
        Level::Infraction => None,
    }
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
        if matchers::is_prop64_section_any_code(section) {
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
                rule_id: rule_id.into(),
                authority: if outcome == Outcome::DismissAndSeal {
                    policy.related_charges.authority.clone()
                } else {
                    String::new()
                },
                reason: format!("county policy {verb} {section}, a related charge in the same case as the relieved {prop64_label} count"),
                seal: outcome == Outcome::DismissAndSeal && policy.related_charges.seal,
            },
            basis: Basis::Policy,
            track,
            sentence_end,
            flags,
            statutory: Some(Decision {
                outcome: Outcome::NotEligible,
                rule_id: "statute.not_prop64".into(),
                authority: String::new(),
                reason: "not a Prop 64 offence".into(),
                seal: false,
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

    fn dismiss() -> PolicyAction {
        PolicyAction::Dismiss {
            authority: "PC 1203.4".into(),
            seal: true,
        }
    }

    fn rule(id: &str, when: Conditions, action: PolicyAction) -> PolicyRule {
        PolicyRule {
            id: id.into(),
            when,
            action,
        }
    }

    fn with_rules(rules: Vec<PolicyRule>) -> Policy {
        Policy {
            rules,
            ..Policy::statutory()
        }
    }

    fn felony_sale() -> Person {
        one("1970-01-01", "11359 HS-SALE", Felony, "2005-01-01")
    }

    #[test]
    fn statutory_policy_changes_nothing() {
        let determination = decide(&Policy::statutory(), &felony_sale());
        assert_eq!(determination.outcome(), Outcome::RedesignateMisdemeanor);
        assert_eq!(determination.basis, Basis::Statute);
        assert_eq!(determination.statutory, None);
    }

    #[test]
    fn a_dismissal_carries_the_policys_authority_and_seal_choice() {
        let policy = with_rules(vec![rule(
            "sales",
            Conditions {
                sections: vec!["11359".into()],
                levels: vec![Felony],
                ..Conditions::default()
            },
            PolicyAction::Dismiss {
                authority: "PC 1203.4; People's non-opposition".into(),
                seal: false,
            },
        )]);
        let determination = decide(&policy, &felony_sale());
        assert_eq!(determination.outcome(), Outcome::DismissAndSeal);
        assert_eq!(determination.basis, Basis::Policy);
        assert_eq!(determination.decision.rule_id, "policy.sales");
        assert_eq!(
            determination.decision.authority,
            "PC 1203.4; People's non-opposition"
        );
        assert!(!determination.decision.seal);
        assert!(
            determination.decision.reason.contains("HS 11359; felony"),
            "{}",
            determination.decision.reason
        );
        assert_eq!(
            determination
                .statutory
                .as_ref()
                .map(|decision| decision.outcome),
            Some(Outcome::RedesignateMisdemeanor)
        );
        // Negative: another section is untouched.
        let other = decide(
            &policy,
            &one("1970-01-01", "11360(A) HS-SELL", Felony, "2005-01-01"),
        );
        assert_eq!(
            (other.outcome(), other.basis),
            (Outcome::RedesignateMisdemeanor, Basis::Statute)
        );
    }

    #[test]
    fn statutory_dismissals_seal_on_the_application_track_only() {
        let completed = decide(
            &Policy::statutory(),
            &one(
                "1970-01-01",
                "11357(B) HS-POSSESS",
                Misdemeanor,
                "2005-01-01",
            ),
        );
        assert!(completed.decision.seal);
        assert_eq!(
            completed.decision.authority,
            "HS 11361.8(e)-(f); HS 11362.1(a)(1)"
        );
        let mut serving = one(
            "1970-01-01",
            "11357(B) HS-POSSESS",
            Misdemeanor,
            "2019-01-01",
        );
        serving.convictions[0].cycle_date = date("2016-01-01");
        serving.convictions[0].sentence.add_part(
            crate::model::SentenceKind::Probation,
            crate::model::Term {
                years: 3,
                ..crate::model::Term::default()
            },
        );
        let serving = decide(&Policy::statutory(), &serving);
        assert_eq!(serving.track, Track::Serving);
        assert_eq!(serving.outcome(), Outcome::DismissAndSeal);
        assert!(!serving.decision.seal);
    }

    #[test]
    fn reduce_adds_relief_but_never_removes_it() {
        let reduce = PolicyAction::Reduce {
            authority: "county authority".into(),
        };
        let misdemeanor_sale = one("1970-01-01", "11359 HS-SALE", Misdemeanor, "2005-01-01");
        let policy = with_rules(vec![rule("all", Conditions::default(), reduce)]);
        let reduced = decide(&policy, &misdemeanor_sale);
        assert_eq!(reduced.outcome(), Outcome::RedesignateInfraction);
        assert_eq!(reduced.decision.authority, "county authority");
        // The statute dismisses adult 11357(b): reducing must not take that away.
        let kept = decide(
            &policy,
            &one(
                "1970-01-01",
                "11357(B) HS-POSSESS",
                Misdemeanor,
                "2005-01-01",
            ),
        );
        assert_eq!(
            (kept.outcome(), kept.basis),
            (Outcome::DismissAndSeal, Basis::Statute)
        );
    }

    #[test]
    fn review_keeps_the_statutory_outcome_beside_it() {
        let policy = with_rules(vec![rule(
            "misdemeanors",
            Conditions {
                levels: vec![Misdemeanor, Level::Infraction],
                ..Conditions::default()
            },
            PolicyAction::Review,
        )]);
        let determination = decide(
            &policy,
            &one(
                "1970-01-01",
                "11357(B) HS-POSSESS",
                Misdemeanor,
                "2005-01-01",
            ),
        );
        assert_eq!(determination.outcome(), Outcome::NeedsReview);
        assert_eq!(
            determination.statutory.as_ref().map(|d| d.outcome),
            Some(Outcome::DismissAndSeal)
        );
        assert!(determination.decision.reason.contains("dismiss_and_seal"));
        // Negative: a felony is not a misdemeanor.
        assert_eq!(
            decide(&policy, &felony_sale()).outcome(),
            Outcome::RedesignateMisdemeanor
        );
    }

    #[test]
    fn the_first_matching_rule_decides() {
        let possession = |subsections: &[&str]| Conditions {
            sections: vec!["11357".into()],
            subsections: subsections.iter().map(|text| (*text).to_string()).collect(),
            ..Conditions::default()
        };
        // Los Angeles: 11357(a)/(b) dismissed, any other 11357 reviewed.
        let policy = with_rules(vec![
            rule("possession-a-b", possession(&["(a)", "(b)"]), dismiss()),
            rule("other-possession", possession(&[]), PolicyAction::Review),
        ]);
        // At 19 the statute gives an infraction; the county dismisses.
        let a = decide(
            &policy,
            &one(
                "1986-01-01",
                "11357(A) HS-CONCENTRATE",
                Felony,
                "2005-06-01",
            ),
        );
        assert_eq!(a.decision.rule_id, "policy.possession-a-b");
        let c = decide(
            &policy,
            &one(
                "1970-01-01",
                "11357(C) HS-OVER 28.5",
                Misdemeanor,
                "2005-01-01",
            ),
        );
        assert_eq!(
            (c.outcome(), c.decision.rule_id.as_ref()),
            (Outcome::NeedsReview, "policy.other-possession")
        );
        // "" matches a section recorded without a subsection, and only that.
        let bare = with_rules(vec![rule("bare", possession(&[""]), PolicyAction::Review)]);
        assert_eq!(
            decide(
                &bare,
                &one("1970-01-01", "11357 HS-POSSESS", Misdemeanor, "2005-01-01")
            )
            .outcome(),
            Outcome::NeedsReview
        );
        assert_eq!(
            decide(
                &bare,
                &one("1970-01-01", "11357(B) HS", Misdemeanor, "2005-01-01")
            )
            .outcome(),
            Outcome::DismissAndSeal
        );
    }

    /// Each condition, on a felony sale the statute reduces: the rule dismisses when the
    /// condition holds (positive) and leaves the statute's reduction when it does not.
    #[test]
    fn each_condition_positive_and_negative() {
        type Setup = fn(&mut Person);
        let no_change: Setup = |_| {};
        let cases: Vec<(&str, Conditions, Setup, Setup)> = vec![
            (
                "under 21 at conviction",
                Conditions {
                    under_21_at_conviction: Some(true),
                    ..Conditions::default()
                },
                |person| person.dob = date("1985-06-01"),
                no_change,
            ),
            (
                "age at least 50",
                Conditions {
                    age_at_least: Some(50),
                    ..Conditions::default()
                },
                no_change,
                |person| person.dob = date("1980-01-01"),
            ),
            (
                "conviction 10 years old",
                Conditions {
                    conviction_at_least_years_old: Some(10),
                    ..Conditions::default()
                },
                no_change,
                |person| {
                    person.convictions[0].date = date("2012-01-01");
                    person.convictions[0].cycle_date = date("2011-12-01");
                },
            ),
            (
                "crime free 10 years",
                Conditions {
                    crime_free_years: Some(10),
                    ..Conditions::default()
                },
                no_change,
                |person| {
                    person
                        .convictions
                        .insert(0, conviction("459 PC-BURGLARY", Felony, "2015-01-01"));
                },
            ),
            (
                "only Prop 64 convictions",
                Conditions {
                    only_prop64_convictions: Some(true),
                    ..Conditions::default()
                },
                no_change,
                |person| {
                    person
                        .convictions
                        .insert(0, conviction("459 PC-BURGLARY", Felony, "1995-01-01"));
                },
            ),
            (
                "every sentence completed",
                Conditions {
                    all_sentences_completed: Some(true),
                    ..Conditions::default()
                },
                no_change,
                |person| {
                    let mut other = conviction("459 PC-BURGLARY", Felony, "2019-01-01");
                    other.sentence.add_part(
                        crate::model::SentenceKind::Probation,
                        crate::model::Term {
                            years: 3,
                            ..crate::model::Term::default()
                        },
                    );
                    person.convictions.insert(0, other);
                },
            ),
            (
                "deceased",
                Conditions {
                    deceased: Some(true),
                    ..Conditions::default()
                },
                |person| person.deceased = true,
                no_change,
            ),
            (
                "completed track",
                Conditions {
                    track: Some(Track::Completed),
                    ..Conditions::default()
                },
                no_change,
                |person| {
                    person.convictions[0].date = date("2016-06-01");
                    person.convictions[0].cycle_date = date("2016-01-01");
                    person.convictions[0].sentence.add_part(
                        crate::model::SentenceKind::Custody,
                        crate::model::Term {
                            years: 5,
                            ..crate::model::Term::default()
                        },
                    );
                },
            ),
            (
                "statutory outcome",
                Conditions {
                    statutory_outcomes: vec![Outcome::RedesignateMisdemeanor],
                    ..Conditions::default()
                },
                no_change,
                |person| {
                    person.convictions[0] =
                        conviction("11360(A) HS-SELL", Misdemeanor, "2005-01-01");
                },
            ),
        ];
        for (name, when, make_hold, make_fail) in cases {
            let policy = with_rules(vec![rule("upgrade", when, dismiss())]);
            let mut holds = felony_sale();
            make_hold(&mut holds);
            let determination = decide(&policy, &holds);
            assert_eq!(
                (determination.outcome(), determination.basis),
                (Outcome::DismissAndSeal, Basis::Policy),
                "{name}: {:?}",
                determination.decision
            );
            let mut fails = felony_sale();
            make_fail(&mut fails);
            let determination = decide(&policy, &fails);
            assert_ne!(
                determination.decision.rule_id, "policy.upgrade",
                "{name} should not hold: {:?}",
                determination.decision
            );
        }
    }

    #[test]
    fn an_unknown_fact_never_holds_whatever_the_rule_asks() {
        for wanted in [true, false] {
            let policy = with_rules(vec![rule(
                "age",
                Conditions {
                    under_21_at_conviction: Some(wanted),
                    ..Conditions::default()
                },
                dismiss(),
            )]);
            let mut no_dob = felony_sale();
            no_dob.dob = None;
            no_dob.convictions[0].age_at_cycle = Some(30);
            assert_ne!(decide(&policy, &no_dob).decision.rule_id, "policy.age");
        }
        let crime_free = with_rules(vec![rule(
            "crime-free",
            Conditions {
                crime_free_years: Some(5),
                ..Conditions::default()
            },
            dismiss(),
        )]);
        let mut undated_other = felony_sale();
        undated_other
            .convictions
            .insert(0, conviction("459 PC-BURGLARY", Felony, ""));
        assert_ne!(
            decide(&crime_free, &undated_other).decision.rule_id,
            "policy.crime-free",
            "an undated conviction might be recent"
        );
        assert_eq!(
            decide(&crime_free, &felony_sale()).decision.rule_id,
            "policy.crime-free"
        );
    }

    #[test]
    fn conditions_combine_all_of() {
        // Los Angeles: only Prop 64 convictions AND every sentence completed.
        let policy = with_rules(vec![rule(
            "only-prop64-and-completed",
            Conditions {
                only_prop64_convictions: Some(true),
                all_sentences_completed: Some(true),
                ..Conditions::default()
            },
            dismiss(),
        )]);
        assert_eq!(
            decide(&policy, &felony_sale()).outcome(),
            Outcome::DismissAndSeal
        );
        let mut serving_elsewhere = felony_sale();
        let mut other = conviction("11357(B) HS-POSSESS", Misdemeanor, "2020-01-01");
        other.sentence.add_part(
            crate::model::SentenceKind::Probation,
            crate::model::Term {
                years: 1,
                ..crate::model::Term::default()
            },
        );
        serving_elsewhere.convictions.insert(0, other);
        assert_eq!(
            decide(&policy, &serving_elsewhere).outcome(),
            Outcome::RedesignateMisdemeanor,
            "only one of the two conditions holds"
        );
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
        let mut policy = with_rules(vec![rule("all", Conditions::default(), dismiss())]);
        let blocked = decide(&policy, &subject);
        assert_eq!(blocked.outcome(), Outcome::NotEligible);
        policy.disqualifiers_block_policy_relief = false;
        let allowed = decide(&policy, &subject);
        assert_eq!(allowed.outcome(), Outcome::DismissAndSeal);
        assert_eq!(allowed.basis, Basis::Policy);
    }

    #[test]
    fn policy_never_touches_current_law_or_unknown_facts() {
        let mut everything = with_rules(vec![rule("all", Conditions::default(), dismiss())]);
        everything.disqualifiers_block_policy_relief = false;
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
                authority: "PC 1203.4".into(),
                seal: true,
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
        assert_eq!(determinations[1].decision.authority, "PC 1203.4");
        assert!(determinations[1].decision.seal);
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
