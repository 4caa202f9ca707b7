//! The statutory layer: what HS § 11361.8 itself gives a conviction, with the rule that fired.
//!
//! Records carry the pre-Prop 64 subsections in force at conviction, so the rules map *old*
//! subsection → conduct → relief under the law as Prop 64 amended it. The court must presume
//! eligibility (§ 11361.8(b), (f)); facts the DOJ data does not have (grams, plants, sale to a
//! minor) therefore favour relief, and the determination is flagged so a human can see why.
//!
//! Disqualifiers (a prior super strike, a prior PC 290 offence or registration, two priors of the
//! same section), each counted only when dated before this conviction, keep a *felony* 11358,
//! 11359 or 11360 a felony. They never block relief for 11357 or for conduct that is now lawful.

use std::fmt::Write as _;

use super::{Decision, Flag, Outcome, Track, matchers, track_of};
use crate::model::{CodeSection, Conviction, Date, Level, PROP64_EFFECTIVE_DATE, Person};

/// The statutory result for one conviction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatutoryResult {
    pub decision: Decision,
    pub flags: Vec<Flag>,
    pub track: Track,
    pub sentence_end: Option<Date>,
    /// Why policy may not change this result, if it may not.
    pub policy_barrier: Option<PolicyBarrier>,
}

/// Results policy must leave alone (or may, depending on the policy's own setting).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyBarrier {
    /// Convicted under current law, or a post-Prop 64 subsection: not a Prop 64 relief case.
    NotAProp64ReliefCase,
    /// The conviction date is unknown: nothing can be decided automatically.
    UnknownFacts,
    /// A statutory disqualifier keeps the felony a felony.
    Disqualified,
}

/// The person's age band at the offence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgeBand {
    Under18,
    From18To20,
    AtLeast21,
    Unknown,
}

/// Age at the offence: from DOB and the arrest (cycle) date, else DOB and the conviction date,
/// else the recorded age at the cycle.
pub fn age_band(person: &Person, conviction: &Conviction) -> AgeBand {
    let age = match (person.dob, conviction.cycle_date.or(conviction.date)) {
        (Some(dob), Some(offense_date)) => Some(dob.whole_years_until(offense_date)),
        _ => conviction.age_at_cycle.map(i32::from),
    };
    match age {
        None => AgeBand::Unknown,
        Some(age) if age < 18 => AgeBand::Under18,
        Some(age) if age < 21 => AgeBand::From18To20,
        Some(_) => AgeBand::AtLeast21,
    }
}

/// Decides one conviction (which must be a Prop 64 section) under the statute alone.
pub fn decide(person: &Person, conviction_index: usize, as_of: Date) -> StatutoryResult {
    let conviction = &person.convictions[conviction_index];
    let section = conviction
        .offense
        .as_ref()
        .expect("only Prop 64 convictions are decided");
    let mut flags = base_flags(person, conviction, section, as_of);
    let (track, sentence_end) = track_of(conviction, as_of);
    let rules = Rules {
        person,
        conviction,
        conviction_index,
        section,
        track,
    };
    let (decision, policy_barrier) = rules.decide(&mut flags);
    flags.sort_unstable();
    flags.dedup();
    StatutoryResult {
        decision,
        flags,
        track,
        sentence_end,
        policy_barrier,
    }
}

fn base_flags(
    person: &Person,
    conviction: &Conviction,
    section: &CodeSection,
    as_of: Date,
) -> Vec<Flag> {
    let mut flags = Vec::new();
    if section.attempt {
        flags.push(Flag::Attempt);
    }
    if conviction.level == Level::Unknown {
        flags.push(Flag::UnknownLevel);
    }
    if conviction.date.is_none() {
        flags.push(Flag::UnknownDate);
    }
    if conviction.charge_from_comment {
        flags.push(Flag::ChargeFromComment);
    }
    if comment_names_other_prop64_charge(conviction, section) {
        flags.push(Flag::PossibleP64InComment);
    }
    if conviction.sentence.has_unreadable_part {
        flags.push(Flag::UnknownSentence);
    }
    if matchers::is_prop64_with_unexpected_code(section) {
        flags.push(Flag::UnexpectedCode);
    }
    if person.deceased {
        flags.push(Flag::Deceased);
    }
    if subject_to_records_destruction(section)
        && conviction
            .date
            .is_some_and(|date| date <= as_of.add_years_normalized(-2))
    {
        flags.push(Flag::RecordsDestruction113615);
    }
    flags
}

/// HS 11361.5(a): old 11357(b)–(e) and 11360(b) records are kept at most two years.
fn subject_to_records_destruction(section: &CodeSection) -> bool {
    let subsection = section.first_subsection();
    match &*section.section {
        "11357" => matches!(subsection, Some("b" | "c" | "d" | "e")),
        "11360" => subsection == Some("b"),
        _ => false,
    }
}

/// COMMENT_TEXT names a Prop 64 statute other than the one convicted.
fn comment_names_other_prop64_charge(conviction: &Conviction, section: &CodeSection) -> bool {
    let Some(comment) = &conviction.comment_text else {
        return false;
    };
    let Some(comment_section) = crate::model::parse_offense(comment).section else {
        return false;
    };
    matchers::is_prop64(&comment_section)
        && (comment_section.section != section.section
            || comment_section.first_subsection() != section.first_subsection())
}

struct Rules<'a> {
    person: &'a Person,
    conviction: &'a Conviction,
    conviction_index: usize,
    section: &'a CodeSection,
    track: Track,
}

type RuleResult = (Decision, Option<PolicyBarrier>);

impl Rules<'_> {
    fn decision(
        &self,
        outcome: Outcome,
        rule_id: &'static str,
        substantive: &str,
        reason: String,
    ) -> Decision {
        let authority = if substantive.is_empty() {
            self.track.authority().to_string()
        } else {
            format!("{}; {substantive}", self.track.authority())
        };
        Decision {
            outcome,
            rule_id,
            authority,
            reason,
        }
    }

    fn relief(
        &self,
        outcome: Outcome,
        rule_id: &'static str,
        substantive: &str,
        reason: String,
    ) -> RuleResult {
        (self.decision(outcome, rule_id, substantive, reason), None)
    }

    fn decide(&self, flags: &mut Vec<Flag>) -> RuleResult {
        let Some(date) = self.conviction.date else {
            return (
                Decision {
                    outcome: Outcome::NeedsReview,
                    rule_id: "statute.unknown_conviction_date",
                    authority: "HS 11361.8".into(),
                    reason: "the conviction date (STP_EVENT_DATE) is not recorded, so whether the conviction predates Prop 64 (2016-11-09) cannot be determined".into(),
                },
                Some(PolicyBarrier::UnknownFacts),
            );
        };
        if date >= PROP64_EFFECTIVE_DATE {
            return (
                Decision {
                    outcome: Outcome::NotEligible,
                    rule_id: "statute.post_prop64_conviction",
                    authority: "HS 11361.8(a), (e)".into(),
                    reason: format!(
                        "convicted on {date}, on or after Prop 64 took effect (2016-11-09): the conviction is already under current law"
                    ),
                },
                Some(PolicyBarrier::NotAProp64ReliefCase),
            );
        }
        if is_post_prop64_subsection(self.section) {
            flags.push(Flag::PostProp64Subsection);
            return (
                Decision {
                    outcome: Outcome::NotEligible,
                    rule_id: "statute.post_prop64_subsection",
                    authority: "HS 11361.8(a), (e)".into(),
                    reason: format!(
                        "{} is a felony subsection created by Prop 64 itself; the conviction is under current law",
                        self.section
                    ),
                },
                Some(PolicyBarrier::NotAProp64ReliefCase),
            );
        }
        let age = age_band(self.person, self.conviction);
        if age == AgeBand::Unknown {
            flags.push(Flag::UnknownAge);
        }
        match &*self.section.section {
            "11362.1" => self.relief(
                Outcome::DismissAndSeal,
                "statute.11362_1.lawful",
                "HS 11362.1",
                "the conduct is lawful for adults under HS 11362.1; the conviction is legally invalid".into(),
            ),
            "11357" => self.possession(age, flags),
            "11358" => self.cultivation(age, flags),
            "11359" => self.possession_for_sale(age, flags),
            "11360" => self.transport_or_sale(age, flags),
            _ => unreachable!("only Prop 64 sections reach the statutory rules"),
        }
    }

    /// HS 11357, possession, by old subsection.
    fn possession(&self, age: AgeBand, flags: &mut Vec<Flag>) -> RuleResult {
        let level = self.conviction.level;
        match self.section.first_subsection() {
            None => {
                flags.push(Flag::NoSubsection);
                self.relief(
                    Outcome::DismissAndSeal,
                    "statute.11357.no_subsection",
                    "HS 11362.1(a)(1)",
                    "HS 11357 recorded without a subsection; under the presumption of eligibility it is treated as possession now lawful for adults (HS 11362.1)".into(),
                )
            }
            Some("a") => match age {
                AgeBand::AtLeast21 | AgeBand::Unknown => {
                    flags.push(Flag::UnknownQuantity);
                    self.relief(
                        Outcome::DismissAndSeal,
                        "statute.11357a.concentrate_adult",
                        "HS 11362.1(a)(2)",
                        "possession of concentrated cannabis by an adult; the amount is not in the record and the presumption of eligibility treats it as the 8 grams or less now lawful (HS 11362.1(a)(2))".into(),
                    )
                }
                AgeBand::From18To20 => self.to_infraction(level, "statute.11357a.age_18_20", "HS 11357(a)(2)", "possession of concentrated cannabis at age 18 to 20 is now an infraction (HS 11357(a)(2))"),
                AgeBand::Under18 => self.to_infraction(level, "statute.11357a.minor", "HS 11357(a)(1)", "possession of concentrated cannabis under age 18 is now an infraction (HS 11357(a)(1))"),
            },
            Some("b") => match age {
                AgeBand::AtLeast21 | AgeBand::Unknown => self.relief(
                    Outcome::DismissAndSeal,
                    "statute.11357b.adult_lawful",
                    "HS 11362.1(a)(1)",
                    "possession of 28.5 grams or less by an adult is now lawful (HS 11362.1(a)(1)); the conviction is legally invalid".into(),
                ),
                AgeBand::From18To20 => self.to_infraction(level, "statute.11357b.age_18_20", "HS 11357(a)(2)", "possession of 28.5 grams or less at age 18 to 20 is now an infraction (HS 11357(a)(2))"),
                AgeBand::Under18 => self.to_infraction(level, "statute.11357b.minor", "HS 11357(a)(1)", "possession of 28.5 grams or less under age 18 is now an infraction (HS 11357(a)(1))"),
            },
            Some("c") => self.relief(
                Outcome::NotEligible,
                "statute.11357c.no_change",
                "HS 11357(b)(2)",
                "possession of more than 28.5 grams remains a misdemeanor for adults (HS 11357(b)(2)); Prop 64 gives no statutory change".into(),
            ),
            Some("d") => self.relief(
                Outcome::NotEligible,
                "statute.11357d.school_no_change",
                "HS 11357(c)",
                "possession on school grounds by an adult remains a misdemeanor (HS 11357(c)); Prop 64 gives no statutory change".into(),
            ),
            Some("e") => self.to_infraction(level, "statute.11357e.minor_school", "HS 11357(d)", "possession on school grounds by a minor is now an infraction (HS 11357(d))"),
            Some(other) => self.relief(
                Outcome::NeedsReview,
                "statute.11357.unknown_subsection",
                "",
                format!("HS 11357({other}) is not a subsection the rules know; a person must read the record"),
            ),
        }
    }

    /// HS 11358, cultivation (old law: a straight felony).
    fn cultivation(&self, age: AgeBand, flags: &mut Vec<Flag>) -> RuleResult {
        if age == AgeBand::Under18 {
            return self.to_infraction(
                self.conviction.level,
                "statute.11358.minor",
                "HS 11358(a)",
                "cultivation under age 18 is now an infraction (HS 11358(a))",
            );
        }
        match self.conviction.level {
            Level::Felony | Level::Unknown => {
                if let Some(disqualified) = self.disqualifier(flags, "HS 11358(d)(1)", "HS 11358(d)(2)") {
                    return disqualified;
                }
                flags.push(Flag::UnknownQuantity);
                self.relief(
                    Outcome::RedesignateMisdemeanor,
                    "statute.11358.felony_to_misdemeanor",
                    "HS 11358(c)",
                    "felony cultivation is now a misdemeanor (HS 11358(c)); dismissal as lawful (six plants or fewer, HS 11362.1(a)(3)) would need a plant count the record does not have".into(),
                )
            }
            Level::Misdemeanor | Level::Infraction => self.relief(
                Outcome::NeedsReview,
                "statute.11358.misdemeanor_plants_unknown",
                "HS 11358(c); HS 11362.1(a)(3)",
                "a misdemeanor cultivation is now lawful (six plants or fewer, age 21 or over) or still a misdemeanor (more than six); the plant count is not in the record".into(),
            ),
        }
    }

    /// HS 11359, possession for sale (old law: a straight felony).
    fn possession_for_sale(&self, age: AgeBand, flags: &mut Vec<Flag>) -> RuleResult {
        if age == AgeBand::Under18 {
            return self.to_infraction(
                self.conviction.level,
                "statute.11359.minor",
                "HS 11359(a)",
                "possession for sale under age 18 is now an infraction (HS 11359(a))",
            );
        }
        match self.conviction.level {
            Level::Felony | Level::Unknown => {
                if let Some(disqualified) = self.disqualifier(flags, "HS 11359(c)(1)", "HS 11359(c)(2)") {
                    return disqualified;
                }
                self.relief(
                    Outcome::RedesignateMisdemeanor,
                    "statute.11359.felony_to_misdemeanor",
                    "HS 11359(b)",
                    "felony possession for sale is now a misdemeanor (HS 11359(b))".into(),
                )
            }
            Level::Misdemeanor | Level::Infraction => self.relief(
                Outcome::NotEligible,
                "statute.11359.already_misdemeanor",
                "HS 11359(b)",
                format!(
                    "possession for sale by an adult remains a misdemeanor (HS 11359(b)); this {} conviction is already at or below that level",
                    self.conviction.level.as_str()
                ),
            ),
        }
    }

    /// HS 11360, transport, sale or giving away.
    fn transport_or_sale(&self, age: AgeBand, flags: &mut Vec<Flag>) -> RuleResult {
        let level = self.conviction.level;
        match self.section.first_subsection() {
            Some("b") => match age {
                AgeBand::AtLeast21 | AgeBand::Unknown => self.relief(
                    Outcome::DismissAndSeal,
                    "statute.11360b.adult_lawful",
                    "HS 11362.1(a)(1)",
                    "giving away or transporting 28.5 grams or less by an adult is now lawful (HS 11362.1(a)(1)); the conviction is legally invalid".into(),
                ),
                AgeBand::From18To20 | AgeBand::Under18 => self.to_infraction(level, "statute.11360b.under_21", "HS 11360(b)", "giving away or transporting 28.5 grams or less under age 21 is now an infraction (HS 11360(b))"),
            },
            None | Some("a") => {
                if self.section.first_subsection().is_none() {
                    flags.push(Flag::NoSubsection);
                }
                if age == AgeBand::Under18 {
                    return self.to_infraction(level, "statute.11360a.minor", "HS 11360(a)(1)", "sale or transport under age 18 is now an infraction (HS 11360(a)(1))");
                }
                match level {
                    Level::Felony | Level::Unknown => {
                        if let Some(disqualified) = self.disqualifier(flags, "HS 11360(a)(3)(A)", "HS 11360(a)(3)(B)") {
                            return disqualified;
                        }
                        self.relief(
                            Outcome::RedesignateMisdemeanor,
                            "statute.11360a.felony_to_misdemeanor",
                            "HS 11360(a)(2)",
                            "felony sale or transport of cannabis is now a misdemeanor (HS 11360(a)(2))".into(),
                        )
                    }
                    Level::Misdemeanor | Level::Infraction => self.relief(
                        Outcome::NotEligible,
                        "statute.11360a.already_misdemeanor",
                        "HS 11360(a)(2)",
                        format!(
                            "sale or transport by an adult remains a misdemeanor (HS 11360(a)(2)); this {} conviction is already at or below that level",
                            level.as_str()
                        ),
                    ),
                }
            }
            Some(other) => self.relief(
                Outcome::NeedsReview,
                "statute.11360.unknown_subsection",
                "",
                format!("HS 11360({other}) is not a subsection the rules know; a person must read the record"),
            ),
        }
    }

    /// Redesignation as an infraction, unless the conviction already is one.
    fn to_infraction(
        &self,
        level: Level,
        rule_id: &'static str,
        substantive: &str,
        reason: &str,
    ) -> RuleResult {
        if level == Level::Infraction {
            return self.relief(
                Outcome::NotEligible,
                "statute.already_infraction",
                substantive,
                format!("{reason}; the conviction already is an infraction, so the statute changes nothing"),
            );
        }
        self.relief(
            Outcome::RedesignateInfraction,
            rule_id,
            substantive,
            reason.to_string(),
        )
    }

    /// A disqualifier that keeps a felony 11358/11359/11360 a felony, if any. Priors must be
    /// dated before this conviction; an undated possible disqualifier sends the count to review.
    /// `prior_offense_authority` is the subdivision for super-strike and PC 290 priors,
    /// `two_priors_authority` the one for two priors of the same section.
    fn disqualifier(
        &self,
        flags: &mut Vec<Flag>,
        prior_offense_authority: &str,
        two_priors_authority: &str,
    ) -> Option<RuleResult> {
        let this_date = self.conviction.date?;
        let others = self
            .person
            .convictions
            .iter()
            .enumerate()
            .filter(|(index, _)| *index != self.conviction_index)
            .map(|(_, conviction)| conviction);

        let mut undated_possible = Vec::new();
        let mut same_section_priors = Vec::new();
        for prior in others {
            let Some(prior_section) = &prior.offense else {
                continue;
            };
            let superstrike = matchers::superstrike(prior_section, &prior.offense_text);
            let pc290 = matchers::pc290_offense(prior_section, &prior.offense_text);
            match prior.date {
                Some(prior_date) if prior_date < this_date => {
                    if let Some(entry) = superstrike {
                        return Some(self.disqualified(
                            "statute.disqualified.superstrike_prior",
                            &format!("{prior_offense_authority}; PC 667(e)(2)(C)(iv)"),
                            format!(
                                "a prior conviction for a PC 667(e)(2)(C)(iv) offence ({}, {}, convicted {prior_date}) keeps this conviction a felony",
                                prior_section, entry.note
                            ),
                        ));
                    }
                    if let Some(entry) = pc290 {
                        return Some(self.disqualified(
                            "statute.disqualified.pc290_prior",
                            &format!("{prior_offense_authority}; PC 290(c)"),
                            format!(
                                "a prior conviction for an offence requiring registration under PC 290(c) ({}, {}, convicted {prior_date}) keeps this conviction a felony",
                                prior_section, entry.note
                            ),
                        ));
                    }
                    if prior_section.section == self.section.section {
                        same_section_priors.push(prior_date);
                    }
                }
                None if superstrike.is_some() || pc290.is_some() => {
                    undated_possible.push(prior_section.to_string());
                }
                _ => {}
            }
        }
        for registration in &self.person.pc290_registrations {
            match registration {
                Some(date) if *date < this_date => {
                    return Some(self.disqualified(
                        "statute.disqualified.pc290_registration",
                        &format!("{prior_offense_authority}; PC 290(c)"),
                        format!("the person was registered under PC 290 on {date}, before this conviction, which keeps it a felony"),
                    ));
                }
                None => undated_possible.push("PC 290 registration".into()),
                Some(_) => {}
            }
        }
        if same_section_priors.len() >= 2 {
            same_section_priors.sort_unstable();
            let mut dates = String::new();
            for (index, date) in same_section_priors.iter().enumerate() {
                if index > 0 {
                    dates.push_str(", ");
                }
                let _ = write!(dates, "{date}");
            }
            return Some(self.disqualified(
                "statute.disqualified.two_priors",
                two_priors_authority,
                format!(
                    "{} prior convictions under HS {} ({dates}) keep this conviction a felony",
                    same_section_priors.len(),
                    self.section.section
                ),
            ));
        }
        if !undated_possible.is_empty() {
            flags.push(Flag::UnknownPriorDate);
            return Some((
                self.decision(
                    Outcome::NeedsReview,
                    "statute.disqualifier_undated",
                    prior_offense_authority,
                    format!(
                        "a possibly disqualifying record has no date, so whether it came before this conviction is unknown: {}",
                        undated_possible.join("; ")
                    ),
                ),
                None,
            ));
        }
        None
    }

    fn disqualified(&self, rule_id: &'static str, substantive: &str, reason: String) -> RuleResult {
        (
            self.decision(Outcome::NotEligible, rule_id, substantive, reason),
            Some(PolicyBarrier::Disqualified),
        )
    }
}

/// 11359(c)(3), 11359(d), 11360(a)(3)(C), 11360(a)(3)(D): felony subsections Prop 64 created.
fn is_post_prop64_subsection(section: &CodeSection) -> bool {
    match &*section.section {
        "11359" => {
            section.subsections_start_with("(c)(3)") || section.subsections_start_with("(d)")
        }
        "11360" => {
            section.subsections_start_with("(a)(3)(c)")
                || section.subsections_start_with("(a)(3)(d)")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Level::{Felony, Infraction, Misdemeanor, Unknown};
    use crate::model::fixtures::{conviction, date, person};

    struct Case {
        name: &'static str,
        dob: &'static str,
        offense: &'static str,
        level: Level,
        date: &'static str,
        /// Other convictions of the person: (offence, level, date).
        priors: &'static [(&'static str, Level, &'static str)],
        registrations: &'static [&'static str],
        /// Sentence in months.
        sentence_months: u32,
        outcome: Outcome,
        rule: &'static str,
        flags: &'static [Flag],
    }

    const fn case(
        name: &'static str,
        dob: &'static str,
        offense: &'static str,
        level: Level,
        date: &'static str,
        outcome: Outcome,
        rule: &'static str,
    ) -> Case {
        Case {
            name,
            dob,
            offense,
            level,
            date,
            priors: &[],
            registrations: &[],
            sentence_months: 0,
            outcome,
            rule,
            flags: &[],
        }
    }

    const AS_OF: &str = "2020-07-01";
    use Outcome::{
        DismissAndSeal as DS, NeedsReview as NR, NotEligible as NE, RedesignateInfraction as RI,
        RedesignateMisdemeanor as RM,
    };

    fn cases() -> Vec<Case> {
        vec![
            case(
                "11357(b) adult",
                "1980-01-01",
                "11357(B) HS-POSSESS",
                Misdemeanor,
                "2010-05-01",
                DS,
                "statute.11357b.adult_lawful",
            ),
            case(
                "11357(b) age 19 misdemeanor",
                "1990-01-01",
                "11357(B) HS-POSSESS",
                Misdemeanor,
                "2009-06-01",
                RI,
                "statute.11357b.age_18_20",
            ),
            case(
                "11357(b) age 19 already an infraction",
                "1990-01-01",
                "11357(B) HS-POSSESS",
                Infraction,
                "2009-06-01",
                NE,
                "statute.already_infraction",
            ),
            case(
                "11357(b) age 16",
                "1993-01-01",
                "11357(B) HS-POSSESS",
                Misdemeanor,
                "2009-06-01",
                RI,
                "statute.11357b.minor",
            ),
            Case {
                flags: &[Flag::UnknownAge],
                ..case(
                    "11357(b) unknown age: presumption",
                    "",
                    "11357(B) HS-POSSESS",
                    Misdemeanor,
                    "2009-06-01",
                    DS,
                    "statute.11357b.adult_lawful",
                )
            },
            Case {
                flags: &[Flag::UnknownQuantity],
                ..case(
                    "11357(a) adult concentrate",
                    "1970-01-01",
                    "11357(A) HS-CONCENTRATE",
                    Felony,
                    "2005-01-01",
                    DS,
                    "statute.11357a.concentrate_adult",
                )
            },
            case(
                "11357(a) age 19",
                "1986-01-01",
                "11357(A) HS-CONCENTRATE",
                Misdemeanor,
                "2005-06-01",
                RI,
                "statute.11357a.age_18_20",
            ),
            case(
                "11357(a) age 17",
                "1988-01-01",
                "11357(A) HS-CONCENTRATE",
                Misdemeanor,
                "2005-06-01",
                RI,
                "statute.11357a.minor",
            ),
            case(
                "11357(c) over 28.5 g",
                "1970-01-01",
                "11357(C) HS-POSSESS OVER 28.5",
                Misdemeanor,
                "2005-01-01",
                NE,
                "statute.11357c.no_change",
            ),
            case(
                "11357(d) school grounds adult",
                "1970-01-01",
                "11357(D) HS-SCHOOL",
                Misdemeanor,
                "2005-01-01",
                NE,
                "statute.11357d.school_no_change",
            ),
            case(
                "11357(e) school grounds minor",
                "1990-01-01",
                "11357(E) HS-SCHOOL MINOR",
                Misdemeanor,
                "2005-01-01",
                RI,
                "statute.11357e.minor_school",
            ),
            Case {
                flags: &[Flag::NoSubsection],
                ..case(
                    "11357 without subsection",
                    "1970-01-01",
                    "11357 HS-POSSESS",
                    Misdemeanor,
                    "2005-01-01",
                    DS,
                    "statute.11357.no_subsection",
                )
            },
            case(
                "11357 unknown subsection",
                "1970-01-01",
                "11357(F) HS-X",
                Misdemeanor,
                "2005-01-01",
                NR,
                "statute.11357.unknown_subsection",
            ),
            Case {
                flags: &[Flag::UnknownQuantity],
                ..case(
                    "11358 felony adult",
                    "1970-01-01",
                    "11358 HS-CULTIVATE",
                    Felony,
                    "2005-01-01",
                    RM,
                    "statute.11358.felony_to_misdemeanor",
                )
            },
            Case {
                flags: &[Flag::UnknownLevel, Flag::UnknownQuantity],
                ..case(
                    "11358 unknown level treated as felony",
                    "1970-01-01",
                    "11358 HS-CULTIVATE",
                    Unknown,
                    "2005-01-01",
                    RM,
                    "statute.11358.felony_to_misdemeanor",
                )
            },
            case(
                "11358 misdemeanor: plants unknown",
                "1970-01-01",
                "11358 HS-CULTIVATE",
                Misdemeanor,
                "2005-01-01",
                NR,
                "statute.11358.misdemeanor_plants_unknown",
            ),
            case(
                "11358 minor",
                "1990-01-01",
                "11358 HS-CULTIVATE",
                Felony,
                "2006-01-01",
                RI,
                "statute.11358.minor",
            ),
            case(
                "11359 felony",
                "1970-01-01",
                "11359 HS-POSSESS FOR SALE",
                Felony,
                "2005-01-01",
                RM,
                "statute.11359.felony_to_misdemeanor",
            ),
            case(
                "11359 misdemeanor stays",
                "1970-01-01",
                "11359 HS-POSSESS FOR SALE",
                Misdemeanor,
                "2005-01-01",
                NE,
                "statute.11359.already_misdemeanor",
            ),
            case(
                "11359 minor",
                "1990-01-01",
                "11359 HS-POSSESS FOR SALE",
                Felony,
                "2006-01-01",
                RI,
                "statute.11359.minor",
            ),
            case(
                "11360(a) felony",
                "1970-01-01",
                "11360(A) HS-GIVE/ETC MARIJ OVER 1 OZ",
                Felony,
                "2005-01-01",
                RM,
                "statute.11360a.felony_to_misdemeanor",
            ),
            Case {
                flags: &[Flag::NoSubsection],
                ..case(
                    "11360 without subsection",
                    "1970-01-01",
                    "11360 HS-SELL",
                    Felony,
                    "2005-01-01",
                    RM,
                    "statute.11360a.felony_to_misdemeanor",
                )
            },
            case(
                "11360(a) misdemeanor stays",
                "1970-01-01",
                "11360(A) HS-SELL",
                Misdemeanor,
                "2005-01-01",
                NE,
                "statute.11360a.already_misdemeanor",
            ),
            case(
                "11360(a) minor",
                "1990-01-01",
                "11360(A) HS-SELL",
                Felony,
                "2006-01-01",
                RI,
                "statute.11360a.minor",
            ),
            case(
                "11360(b) adult",
                "1970-01-01",
                "11360(B) HS-GIVE 28.5 OR LESS",
                Misdemeanor,
                "2005-01-01",
                DS,
                "statute.11360b.adult_lawful",
            ),
            case(
                "11360(b) age 19",
                "1986-01-01",
                "11360(B) HS-GIVE 28.5 OR LESS",
                Misdemeanor,
                "2005-06-01",
                RI,
                "statute.11360b.under_21",
            ),
            case(
                "11360 unknown subsection",
                "1970-01-01",
                "11360(C) HS-X",
                Felony,
                "2005-01-01",
                NR,
                "statute.11360.unknown_subsection",
            ),
            case(
                "11362.1 before Prop 64",
                "1970-01-01",
                "11362.1 HS-POSSESS",
                Infraction,
                "2016-11-08",
                DS,
                "statute.11362_1.lawful",
            ),
            case(
                "convicted on the day Prop 64 took effect",
                "1970-01-01",
                "11357(B) HS-POSSESS",
                Misdemeanor,
                "2016-11-09",
                NE,
                "statute.post_prop64_conviction",
            ),
            case(
                "convicted the day before Prop 64",
                "1970-01-01",
                "11357(B) HS-POSSESS",
                Misdemeanor,
                "2016-11-08",
                DS,
                "statute.11357b.adult_lawful",
            ),
            Case {
                flags: &[Flag::PostProp64Subsection],
                ..case(
                    "11359(c)(3) is post-Prop 64",
                    "1970-01-01",
                    "11359(C)(3) HS-SELL TO MINOR",
                    Felony,
                    "2015-01-01",
                    NE,
                    "statute.post_prop64_subsection",
                )
            },
            Case {
                flags: &[Flag::PostProp64Subsection],
                ..case(
                    "11360(a)(3)(d) is post-Prop 64",
                    "1970-01-01",
                    "11360(A)(3)(D) HS-EXPORT",
                    Felony,
                    "2015-01-01",
                    NE,
                    "statute.post_prop64_subsection",
                )
            },
            Case {
                flags: &[Flag::UnknownDate],
                ..case(
                    "unknown conviction date",
                    "1970-01-01",
                    "11359 HS-POSSESS FOR SALE",
                    Felony,
                    "",
                    NR,
                    "statute.unknown_conviction_date",
                )
            },
            Case {
                priors: &[("187 PC-MURDER", Felony, "1995-01-01")],
                ..case(
                    "super strike before: felony stays",
                    "1970-01-01",
                    "11359 HS-POSSESS FOR SALE",
                    Felony,
                    "2005-01-01",
                    NE,
                    "statute.disqualified.superstrike_prior",
                )
            },
            Case {
                priors: &[("187 PC-MURDER", Felony, "2010-01-01")],
                ..case(
                    "super strike after: not a prior",
                    "1970-01-01",
                    "11359 HS-POSSESS FOR SALE",
                    Felony,
                    "2005-01-01",
                    RM,
                    "statute.11359.felony_to_misdemeanor",
                )
            },
            Case {
                priors: &[("187 PC-MURDER", Felony, "2005-01-01")],
                ..case(
                    "super strike the same day: not a prior",
                    "1970-01-01",
                    "11359 HS-POSSESS FOR SALE",
                    Felony,
                    "2005-01-01",
                    RM,
                    "statute.11359.felony_to_misdemeanor",
                )
            },
            Case {
                priors: &[("187 PC-MURDER", Felony, "1995-01-01")],
                ..case(
                    "super strike never blocks 11357",
                    "1970-01-01",
                    "11357(B) HS-POSSESS",
                    Misdemeanor,
                    "2005-01-01",
                    DS,
                    "statute.11357b.adult_lawful",
                )
            },
            Case {
                priors: &[("237 PC-FALSE IMPRISONMENT", Felony, "1995-01-01")],
                ..case(
                    "237 is not 37",
                    "1970-01-01",
                    "11360(A) HS-SELL",
                    Felony,
                    "2005-01-01",
                    RM,
                    "statute.11360a.felony_to_misdemeanor",
                )
            },
            Case {
                priors: &[("314(1) PC-INDECENT EXPOSURE", Misdemeanor, "1995-01-01")],
                ..case(
                    "PC 290 offence before",
                    "1970-01-01",
                    "11358 HS-CULTIVATE",
                    Felony,
                    "2005-01-01",
                    NE,
                    "statute.disqualified.pc290_prior",
                )
            },
            Case {
                priors: &[("314(1) PC-INDECENT EXPOSURE", Misdemeanor, "2006-01-01")],
                flags: &[Flag::UnknownQuantity],
                ..case(
                    "PC 290 offence after",
                    "1970-01-01",
                    "11358 HS-CULTIVATE",
                    Felony,
                    "2005-01-01",
                    RM,
                    "statute.11358.felony_to_misdemeanor",
                )
            },
            Case {
                registrations: &["2001-01-01"],
                ..case(
                    "PC 290 registration before",
                    "1970-01-01",
                    "11359 HS-POSSESS FOR SALE",
                    Felony,
                    "2005-01-01",
                    NE,
                    "statute.disqualified.pc290_registration",
                )
            },
            Case {
                registrations: &["2007-01-01"],
                ..case(
                    "PC 290 registration after",
                    "1970-01-01",
                    "11359 HS-POSSESS FOR SALE",
                    Felony,
                    "2005-01-01",
                    RM,
                    "statute.11359.felony_to_misdemeanor",
                )
            },
            Case {
                registrations: &[""],
                flags: &[Flag::UnknownPriorDate],
                ..case(
                    "undated PC 290 registration",
                    "1970-01-01",
                    "11359 HS-POSSESS FOR SALE",
                    Felony,
                    "2005-01-01",
                    NR,
                    "statute.disqualifier_undated",
                )
            },
            Case {
                priors: &[
                    ("11360(A) HS-SELL", Felony, "1995-01-01"),
                    ("11360(A) HS-SELL", Felony, "1999-01-01"),
                ],
                ..case(
                    "two priors of the same section",
                    "1970-01-01",
                    "11360(A) HS-SELL",
                    Felony,
                    "2005-01-01",
                    NE,
                    "statute.disqualified.two_priors",
                )
            },
            Case {
                priors: &[
                    ("11360(A) HS-SELL", Felony, "1995-01-01"),
                    ("11360(A) HS-SELL", Felony, "2009-01-01"),
                ],
                ..case(
                    "one prior before, one after",
                    "1970-01-01",
                    "11360(A) HS-SELL",
                    Felony,
                    "2005-01-01",
                    RM,
                    "statute.11360a.felony_to_misdemeanor",
                )
            },
            Case {
                priors: &[
                    ("11359 HS-SALE", Felony, "1995-01-01"),
                    ("11358 HS-CULT", Felony, "1999-01-01"),
                ],
                ..case(
                    "priors of other sections do not count",
                    "1970-01-01",
                    "11360(A) HS-SELL",
                    Felony,
                    "2005-01-01",
                    RM,
                    "statute.11360a.felony_to_misdemeanor",
                )
            },
            Case {
                priors: &[("187 PC-MURDER", Felony, "")],
                flags: &[Flag::UnknownPriorDate],
                ..case(
                    "undated super strike: review",
                    "1970-01-01",
                    "11359 HS-POSSESS FOR SALE",
                    Felony,
                    "2005-01-01",
                    NR,
                    "statute.disqualifier_undated",
                )
            },
            Case {
                flags: &[Flag::Attempt],
                ..case(
                    "attempt under PC 664",
                    "1970-01-01",
                    "664-11357(B) HS",
                    Misdemeanor,
                    "2005-01-01",
                    DS,
                    "statute.11357b.adult_lawful",
                )
            },
            Case {
                flags: &[Flag::UnexpectedCode],
                ..case(
                    "Prop 64 section under PC letters",
                    "1970-01-01",
                    "11357(B)PC",
                    Misdemeanor,
                    "2005-01-01",
                    DS,
                    "statute.11357b.adult_lawful",
                )
            },
            Case {
                flags: &[Flag::RecordsDestruction113615],
                ..case(
                    "old 11357(b) record older than two years",
                    "1970-01-01",
                    "11357(B) HS-POSSESS",
                    Misdemeanor,
                    "2010-01-01",
                    DS,
                    "statute.11357b.adult_lawful",
                )
            },
        ]
    }

    fn run(case: &Case) -> StatutoryResult {
        let mut subject = person(case.dob);
        for &(offense, level, prior_date) in case.priors {
            subject
                .convictions
                .push(conviction(offense, level, prior_date));
        }
        subject.pc290_registrations = case.registrations.iter().map(|text| date(text)).collect();
        let mut this = conviction(case.offense, case.level, case.date);
        this.sentence.months = case.sentence_months;
        subject.convictions.push(this);
        let index = subject.convictions.len() - 1;
        decide(&subject, index, date(AS_OF).unwrap())
    }

    #[test]
    fn every_statutory_rule_row() {
        for case in cases() {
            let result = run(&case);
            assert_eq!(
                result.decision.outcome, case.outcome,
                "{}: {:?}",
                case.name, result.decision
            );
            assert_eq!(result.decision.rule_id, case.rule, "{}", case.name);
            for flag in case.flags {
                assert!(
                    result.flags.contains(flag),
                    "{}: missing {flag:?} in {:?}",
                    case.name,
                    result.flags
                );
            }
            assert!(
                !result.decision.reason.is_empty() && !result.decision.authority.is_empty()
                    || case.outcome == NR,
                "{}",
                case.name
            );
        }
    }

    #[test]
    fn every_rule_id_is_exercised() {
        let source = include_str!("statute.rs");
        let tested: std::collections::HashSet<&str> =
            cases().iter().map(|case| case.rule).collect();
        let is_rule_id = |text: &&str| {
            text.len() > "statute.".len()
                && text.starts_with("statute.")
                && !std::path::Path::new(text)
                    .extension()
                    .is_some_and(|extension| extension.eq_ignore_ascii_case("rs"))
                && text
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '_')
        };
        for rule in source.split('"').filter(is_rule_id) {
            assert!(tested.contains(rule), "rule {rule} has no table case");
        }
    }

    #[test]
    fn serving_track_uses_the_petition_subdivisions() {
        let serving = Case {
            sentence_months: 72,
            ..case(
                "serving",
                "1970-01-01",
                "11359 HS-POSSESS FOR SALE",
                Felony,
                "2015-01-01",
                RM,
                "statute.11359.felony_to_misdemeanor",
            )
        };
        let result = run(&serving);
        assert_eq!(result.track, Track::Serving);
        assert_eq!(result.sentence_end, date("2021-01-01"));
        assert!(
            result.decision.authority.starts_with("HS 11361.8(a)-(b)"),
            "{}",
            result.decision.authority
        );
        let completed = run(&Case {
            sentence_months: 12,
            ..serving
        });
        assert_eq!(completed.track, Track::Completed);
        assert!(
            completed
                .decision
                .authority
                .starts_with("HS 11361.8(e)-(f)")
        );
    }

    #[test]
    fn reasons_name_the_disqualifying_prior() {
        let result = run(&Case {
            priors: &[("187 PC-MURDER", Felony, "1995-01-01")],
            ..case(
                "x",
                "1970-01-01",
                "11360(A) HS-SELL",
                Felony,
                "2005-01-01",
                NE,
                "",
            )
        });
        assert!(
            result.decision.reason.contains("PC 187"),
            "{}",
            result.decision.reason
        );
        assert!(
            result.decision.reason.contains("1995-01-01"),
            "{}",
            result.decision.reason
        );
        assert!(
            result.decision.authority.contains("HS 11360(a)(3)(A)"),
            "{}",
            result.decision.authority
        );
    }
}
