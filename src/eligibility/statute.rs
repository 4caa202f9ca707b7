//! The statutory layer: what HS § 11361.8 itself gives a conviction, with the rule that fired.
//!
//! Records carry the pre-Prop 64 subsections in force at the offence, so the rules map *old*
//! subsection → conduct → relief under the law as Prop 64 amended it. Whether Prop 64 applies is
//! decided by the date of the **offence** (§ 11361.8(a), (e): "at the time of the offense"): the
//! cycle's arrest or citation date, else the conviction date (flagged). Age bands use the same
//! offence date.
//!
//! **One presumption, applied everywhere.** The court presumes eligibility unless the People
//! show otherwise by clear and convincing evidence (§ 11361.8(b), (f)). Where a fact that decides
//! between two outcomes is absent from the record — grams, plants, age among adults — the rule
//! takes the more favourable outcome and flags `presumed_<fact>`. Minority is never presumed (a
//! conviction in the adult record is of an adult unless the record says otherwise): where being
//! under 18 would give more relief than any adult reading, the count goes to review instead.
//!
//! Disqualifiers (a prior super strike, a prior PC 290(c) offence or registration, two priors
//! under the subdivision the statute names), each counted only when dated before this
//! conviction, keep a *felony* 11358, 11359 or 11360 a felony. They never block relief for 11357
//! or for conduct that is now lawful. A prior that disqualifies only in a form the record does
//! not show, or a possible disqualifier without a date, sends the count to review.

use std::fmt::Write as _;

use super::{Decision, Flag, Outcome, Track, matchers, track_of};
use crate::model::{
    CodeSection, Conviction, Date, Level, OffenseDateSource, PROP64_EFFECTIVE_DATE, Person,
    contains_ignoring_ascii_case,
};

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
    /// An offence under current law, or a post-Prop 64 subsection: not a Prop 64 relief case.
    NotAProp64ReliefCase,
    /// A fact the decision needs is unknown: nothing can be decided automatically.
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
}

/// Age at the offence: from DOB and the offence date (see [`Conviction::offense_date`]), else the
/// recorded age at the cycle. `None` when the record cannot tell (decided for every band, see
/// `with_unknown_age`).
pub fn age_band(person: &Person, conviction: &Conviction) -> Option<AgeBand> {
    let age = match (person.dob, conviction.offense_date()) {
        (Some(dob), Some((offense_date, _))) => Some(dob.whole_years_until(offense_date)),
        _ => conviction.age_at_cycle.map(i32::from),
    };
    match age {
        // An offence before the recorded birth is an impossible record, not a child's offence.
        None => None,
        Some(age) if age < 0 => None,
        Some(age) if age < 18 => Some(AgeBand::Under18),
        Some(age) if age < 21 => Some(AgeBand::From18To20),
        Some(_) => Some(AgeBand::AtLeast21),
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
    if conviction.invalid_dates.conviction || conviction.invalid_dates.cycle || person.dob_invalid {
        flags.push(Flag::InvalidDate);
    }
    if conviction.charge_from_comment {
        flags.push(Flag::ChargeFromComment);
    }
    if comment_names_other_prop64_charge(conviction, section) {
        flags.push(Flag::PossibleP64InComment);
    }
    // Without a conviction date, or with a sentence part that cannot be read, whether the
    // sentence is complete (the track) is not certain.
    if conviction.sentence.is_uncertain() || conviction.date.is_none() {
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

/// "not recorded" or "recorded but invalid", for reasons about a missing fact.
fn absence(invalid: bool) -> &'static str {
    if invalid {
        "recorded but invalid"
    } else {
        "not recorded"
    }
}

/// The words of an outcome inside a reason.
fn outcome_words(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::DismissAndSeal => "dismissed and sealed",
        Outcome::RedesignateMisdemeanor => "redesignated as a misdemeanor",
        Outcome::RedesignateInfraction => "redesignated as an infraction",
        Outcome::NotEligible => "left as it is",
        Outcome::NeedsReview => "sent to review",
    }
}

const PRESUMPTION: &str = "the presumption of eligibility (HS 11361.8(b), (f))";

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
            rule_id: rule_id.into(),
            authority,
            reason,
            // § 11361.8(f) seals a dismissed conviction on the application track; on the
            // petition track (a)–(b) dismiss the sentence and say nothing of sealing.
            seal: outcome == Outcome::DismissAndSeal && self.track == Track::Completed,
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

    fn review(&self, rule_id: &'static str, substantive: &str, reason: String) -> RuleResult {
        (
            self.decision(Outcome::NeedsReview, rule_id, substantive, reason),
            Some(PolicyBarrier::UnknownFacts),
        )
    }

    fn decide(&self, flags: &mut Vec<Flag>) -> RuleResult {
        let invalid = self.conviction.invalid_dates;
        let Some((offense_date, source)) = self.conviction.offense_date() else {
            return self.review(
                "statute.unknown_offense_date",
                "HS 11361.8(a), (e)",
                format!(
                    "the arrest or citation date (CYC_DATE) is {} and the conviction date (STP_EVENT_DATE) is {}, so whether the offence predates Prop 64 (2016-11-09) cannot be told",
                    absence(invalid.cycle),
                    absence(invalid.conviction)
                ),
            );
        };
        if source == OffenseDateSource::Conviction {
            flags.push(Flag::OffenseDateFromConviction);
        }
        if offense_date >= PROP64_EFFECTIVE_DATE {
            return match source {
                OffenseDateSource::ArrestOrCitation => (
                    self.decision(
                        Outcome::NotEligible,
                        "statute.post_prop64_offense",
                        "HS 11361.8(a), (e)",
                        format!(
                            "the offence was on or after 2016-11-09, when Prop 64 took effect (arrest or citation date {offense_date}): the conviction is already under current law"
                        ),
                    ),
                    Some(PolicyBarrier::NotAProp64ReliefCase),
                ),
                OffenseDateSource::Conviction => self.review(
                    "statute.offense_date_unknown_after_prop64",
                    "HS 11361.8(a), (e)",
                    format!(
                        "convicted on {offense_date}, after Prop 64 took effect (2016-11-09), and the arrest or citation date (CYC_DATE) is {}: whether the offence came before 2016-11-09 cannot be told from the record",
                        absence(invalid.cycle)
                    ),
                ),
            };
        }
        if is_post_prop64_subsection(self.section) {
            flags.push(Flag::PostProp64Subsection);
            return (
                self.decision(
                    Outcome::NotEligible,
                    "statute.post_prop64_subsection",
                    "HS 11361.8(a), (e)",
                    format!(
                        "{} is a felony subsection created by Prop 64 itself; the conviction is under current law",
                        self.section
                    ),
                ),
                Some(PolicyBarrier::NotAProp64ReliefCase),
            );
        }
        match age_band(self.person, self.conviction) {
            None => self.with_unknown_age(flags),
            Some(known) => self.by_section(known, flags),
        }
    }

    /// The age at the offence is not recorded. Among adults, the more favourable reading is
    /// presumed; minority is never presumed, so where it would give more relief than any adult
    /// reading the count goes to review.
    fn with_unknown_age(&self, flags: &mut Vec<Flag>) -> RuleResult {
        let evaluate = |band| {
            let mut band_flags = Vec::new();
            let result = self.by_section(band, &mut band_flags);
            (result, band_flags)
        };
        let (from_21, flags_21) = evaluate(AgeBand::AtLeast21);
        let (from_18, flags_18) = evaluate(AgeBand::From18To20);
        let (minor, _) = evaluate(AgeBand::Under18);
        let adults_differ = from_18.0.outcome != from_21.0.outcome;
        let ((mut best, barrier), best_flags) =
            if from_18.0.outcome.relief_rank() > from_21.0.outcome.relief_rank() {
                (from_18, flags_18)
            } else {
                (from_21, flags_21)
            };
        flags.push(Flag::UnknownAge);
        let age_absence = absence(self.person.dob_invalid);
        if minor.0.outcome.relief_rank() > best.outcome.relief_rank() {
            return self.review(
                "statute.unknown_age",
                "",
                format!(
                    "{} would be {} if the person was under 18 at the offence, and {} as an adult; the date of birth is {age_absence} and no age at arrest is recorded, and minority is not presumed for a conviction in the adult record",
                    self.section,
                    outcome_words(minor.0.outcome),
                    outcome_words(best.outcome)
                ),
            );
        }
        flags.extend(best_flags);
        if adults_differ {
            flags.push(Flag::PresumedAge);
            let _ = write!(
                best.reason,
                "; the date of birth is {age_absence}, and {PRESUMPTION} takes the more favourable adult age"
            );
        }
        (best, barrier)
    }

    fn by_section(&self, age: AgeBand, flags: &mut Vec<Flag>) -> RuleResult {
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
                if age != AgeBand::Under18 {
                    flags.push(Flag::PresumedGrams);
                }
                match age {
                    AgeBand::AtLeast21 => self.relief(
                        Outcome::DismissAndSeal,
                        "statute.11357.no_subsection",
                        "HS 11362.1(a)(1)",
                        format!("HS 11357 recorded without a subsection; {PRESUMPTION} treats it as possession of 28.5 grams or less, now lawful for adults (HS 11362.1(a)(1))"),
                    ),
                    AgeBand::From18To20 => self.to_infraction(level, "statute.11357.no_subsection_18_20", "HS 11357(a)(2)", &format!("HS 11357 recorded without a subsection; {PRESUMPTION} treats it as possession of 28.5 grams or less, at age 18 to 20 now an infraction (HS 11357(a)(2))")),
                    AgeBand::Under18 => self.to_infraction(level, "statute.11357.no_subsection_minor", "HS 11357(a)(1)", "HS 11357 recorded without a subsection; possession by a person under 18 is now an infraction whatever the amount (HS 11357(a)(1), (b)(1))"),
                }
            }
            Some("a") => match age {
                AgeBand::AtLeast21 => {
                    flags.push(Flag::PresumedGrams);
                    self.relief(
                        Outcome::DismissAndSeal,
                        "statute.11357a.concentrate_adult",
                        "HS 11362.1(a)(2)",
                        format!("possession of concentrated cannabis by an adult; the amount is not in the record and {PRESUMPTION} treats it as the 8 grams or less now lawful (HS 11362.1(a)(2))"),
                    )
                }
                AgeBand::From18To20 => {
                    flags.push(Flag::PresumedGrams);
                    self.to_infraction(level, "statute.11357a.age_18_20", "HS 11357(a)(2)", &format!("possession of 8 grams or less of concentrated cannabis at age 18 to 20 is now an infraction (HS 11357(a)(2)); the amount is not in the record and {PRESUMPTION} treats it as 8 grams or less"))
                }
                AgeBand::Under18 => self.to_infraction(level, "statute.11357a.minor", "HS 11357(a)(1)", "possession of concentrated cannabis under age 18 is now an infraction whatever the amount (HS 11357(a)(1), (b)(1))"),
            },
            Some("b") => match age {
                AgeBand::AtLeast21 => self.relief(
                    Outcome::DismissAndSeal,
                    "statute.11357b.adult_lawful",
                    "HS 11362.1(a)(1)",
                    "possession of 28.5 grams or less by an adult is now lawful (HS 11362.1(a)(1)); the conviction is legally invalid".into(),
                ),
                AgeBand::From18To20 => self.to_infraction(level, "statute.11357b.age_18_20", "HS 11357(a)(2)", "possession of 28.5 grams or less at age 18 to 20 is now an infraction (HS 11357(a)(2))"),
                AgeBand::Under18 => self.to_infraction(level, "statute.11357b.minor", "HS 11357(a)(1)", "possession of 28.5 grams or less under age 18 is now an infraction (HS 11357(a)(1))"),
            },
            Some("c") => match age {
                AgeBand::Under18 => self.to_infraction(level, "statute.11357c.minor", "HS 11357(b)(1)", "possession of more than 28.5 grams by a person under 18 is now an infraction (HS 11357(b)(1))"),
                _ => self.relief(
                    Outcome::NotEligible,
                    "statute.11357c.no_change",
                    "HS 11357(b)(2)",
                    "possession of more than 28.5 grams by a person 18 or older remains a misdemeanor (HS 11357(b)(2)); Prop 64 gives no statutory change".into(),
                ),
            },
            Some("d") => match age {
                AgeBand::Under18 => self.to_infraction(level, "statute.11357d.minor", "HS 11357(d)", "possession on school grounds by a person under 18 is now an infraction (HS 11357(d))"),
                _ => self.relief(
                    Outcome::NotEligible,
                    "statute.11357d.school_no_change",
                    "HS 11357(c)",
                    "possession on school grounds by a person 18 or older remains a misdemeanor (HS 11357(c)); Prop 64 gives no statutory change".into(),
                ),
            },
            Some("e") => match age {
                AgeBand::Under18 => self.to_infraction(level, "statute.11357e.minor_school", "HS 11357(d)", "possession on school grounds by a person under 18 is now an infraction (HS 11357(d))"),
                _ => self.relief(
                    Outcome::NotEligible,
                    "statute.11357e.adult_no_change",
                    "HS 11357(c)",
                    "old HS 11357(e) was the offence of a minor, but the record shows the person was 18 or older at the offence; possession on school grounds by an adult remains a misdemeanor (HS 11357(c))".into(),
                ),
            },
            Some(other) => self.review(
                "statute.11357.unknown_subsection",
                "",
                format!("HS 11357({other}) is not a subsection the rules know; a person must read the record"),
            ),
        }
    }

    /// HS 11358, cultivation (old law: a straight felony). The plant count, which the record
    /// never has, decides: six or fewer is lawful for adults 21 and over (HS 11362.1(a)(3)) and an
    /// infraction at 18 to 20 (HS 11358(b)); more is a misdemeanor (HS 11358(c)), or a felony with
    /// a disqualifying prior (HS 11358(d)). The presumption takes six or fewer, unless a
    /// disqualifier makes the count decide between relief and none: then review.
    fn cultivation(&self, age: AgeBand, flags: &mut Vec<Flag>) -> RuleResult {
        let level = self.conviction.level;
        if age == AgeBand::Under18 {
            return self.to_infraction(
                level,
                "statute.11358.minor",
                "HS 11358(a)",
                "cultivation under age 18 is now an infraction whatever the plant count (HS 11358(a))",
            );
        }
        if let Some((disqualified, _)) =
            self.disqualifier(flags, "HS 11358(d)(1)", "HS 11358(d)(2)")
        {
            flags.push(Flag::UnknownQuantity);
            return self.review(
                "statute.11358.plants_decide",
                "HS 11358(c)-(d); HS 11362.1(a)(3)",
                format!(
                    "the plant count is not in the record and decides this count: six plants or fewer is now lawful or an infraction (HS 11362.1(a)(3), 11358(b)); more than six would stay a felony because {}",
                    disqualified.reason
                ),
            );
        }
        flags.push(Flag::PresumedPlants);
        match age {
            AgeBand::From18To20 => self.to_infraction(
                level,
                "statute.11358.age_18_20",
                "HS 11358(b)",
                &format!("cultivation of six plants or fewer at age 18 to 20 is now an infraction (HS 11358(b)); the plant count is not in the record and {PRESUMPTION} treats it as six or fewer"),
            ),
            _ => self.relief(
                Outcome::DismissAndSeal,
                "statute.11358.six_plants_or_fewer",
                "HS 11362.1(a)(3)",
                format!("cultivation of six plants or fewer by an adult is now lawful (HS 11362.1(a)(3)); the plant count is not in the record and {PRESUMPTION} treats it as six or fewer"),
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
                AgeBand::AtLeast21 => self.relief(
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
            Some(other) => self.review(
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

    /// True when `prior` is a conviction under the subdivision whose repetition disqualifies:
    /// HS 11358(d)(2) two priors under 11358(c) (cultivation over six plants; old records have
    /// no plant count, so every prior 11358 counts, flagged); 11359(c)(2) two priors under
    /// 11359(b) (possession for sale, any old 11359); 11360(a)(3)(B) two priors under 11360(a)
    /// (sale or transport; a gift of 28.5 grams or less under 11360(b) does not count).
    fn is_named_prior(&self, prior: &CodeSection) -> bool {
        if !matchers::is_prop64(prior) || prior.section != self.section.section {
            return false;
        }
        match &*self.section.section {
            "11360" => matches!(prior.first_subsection(), None | Some("a")),
            _ => true,
        }
    }

    /// A disqualifier that keeps a felony 11358/11359/11360 a felony, if any: `not_eligible`
    /// naming the prior and the clause, or `needs_review` when a prior disqualifies only in a
    /// form the record does not show or a possible disqualifier has no date. Priors must be
    /// dated before the offence; one between the offence and this conviction goes to review.
    /// `prior_offense_authority` is the subdivision for super-strike and PC 290 priors,
    /// `two_priors_authority` the one for two priors under the named subdivision.
    fn disqualifier(
        &self,
        flags: &mut Vec<Flag>,
        prior_offense_authority: &str,
        two_priors_authority: &str,
    ) -> Option<RuleResult> {
        // A prior is a conviction before the offence. One entered after the offence but before
        // this conviction may or may not count (the statute says "prior conviction"; Code for
        // America counted up to the conviction date): review, never a silent answer.
        let (offense_date, _) = self.conviction.offense_date()?;
        let conviction_date = self.conviction.date.unwrap_or(offense_date);
        let mut undated_possible = Vec::new();
        let mut between = Vec::new();
        // Priors under the named subdivision in that window matter only if, with the ones
        // before the offence, they could make two.
        let mut between_named = Vec::new();
        let mut form_unknown = Vec::new();
        let mut named_priors = Vec::new();
        for (index, prior) in self.person.convictions.iter().enumerate() {
            if index == self.conviction_index {
                continue;
            }
            let Some(prior_section) = &prior.offense else {
                continue;
            };
            let shows_form = |marker: &str| {
                let case = prior.count_key.case_key();
                self.person.convictions.iter().any(|count| {
                    count.count_key.case_key() == case
                        && contains_ignoring_ascii_case(
                            count.offense_text.as_bytes(),
                            marker.as_bytes(),
                        )
                })
            };
            let classified = matchers::prior_offense(prior_section, shows_form);
            match prior.date {
                None => {
                    if let Some(found) = classified {
                        undated_possible.push(format!(
                            "{prior_section} ({}, {})",
                            found.entry().note,
                            found.entry().clause
                        ));
                    }
                }
                Some(prior_date) if prior_date >= conviction_date => {}
                Some(prior_date) if prior_date >= offense_date => {
                    let described = format!(
                        "{prior_section}, convicted {prior_date}, after the offence ({offense_date}) and before this conviction ({conviction_date})"
                    );
                    if classified.is_some() {
                        between.push(described);
                    } else if self.is_named_prior(prior_section) {
                        between_named.push(described);
                    }
                }
                Some(prior_date) => match classified {
                    Some(matchers::PriorOffense::Disqualifying { list, entry }) => {
                        let rule_id = match list {
                            matchers::DisqualifierList::Superstrike => {
                                "statute.disqualified.superstrike_prior"
                            }
                            matchers::DisqualifierList::Pc290 => "statute.disqualified.pc290_prior",
                        };
                        return Some(self.disqualified(
                            rule_id,
                            &format!("{prior_offense_authority}; {}", entry.clause),
                            format!(
                                "a prior conviction for {} ({prior_section}, convicted {prior_date}) is a disqualifying offence under {}, so the offence may still be punished as a felony and is not reduced",
                                entry.note, entry.clause
                            ),
                        ));
                    }
                    Some(matchers::PriorOffense::FormUnknown(entry)) => form_unknown.push(format!(
                        "a prior conviction for {} ({prior_section}, convicted {prior_date}) disqualifies under {} only in one form: {}",
                        entry.note,
                        entry.clause,
                        entry.form.as_deref().unwrap_or_default()
                    )),
                    None => {
                        if self.is_named_prior(prior_section) {
                            named_priors.push(prior_date);
                        }
                    }
                },
            }
        }
        for registration in &self.person.pc290_registrations {
            match registration {
                Some(date) if *date >= offense_date && *date < conviction_date => between.push(format!(
                    "PC 290 registration on {date}, after the offence ({offense_date}) and before this conviction ({conviction_date})"
                )),
                Some(date) if *date < offense_date => {
                    return Some(self.disqualified(
                        "statute.disqualified.pc290_registration",
                        &format!("{prior_offense_authority}; PC 290(c)(1)"),
                        format!("the person was registered under PC 290 on {date}, before this conviction, so the offence may still be punished as a felony and is not reduced"),
                    ));
                }
                None => undated_possible.push("PC 290 registration".into()),
                Some(_) => {}
            }
        }
        if named_priors.len() >= 2 {
            if &*self.section.section == "11358" {
                // Counted as cultivation over six plants (HS 11358(c)) without a plant count.
                flags.push(Flag::PriorPlantsUnknown);
            }
            named_priors.sort_unstable();
            let dates = named_priors
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
            let named = match &*self.section.section {
                "11358" => {
                    "HS 11358 (cultivation; the plant counts are not recorded, and each is counted as over six plants under HS 11358(c))"
                }
                "11360" => "HS 11360(a) (sale or transport)",
                _ => "HS 11359 (possession for sale)",
            };
            return Some(self.disqualified(
                "statute.disqualified.two_priors",
                two_priors_authority,
                format!(
                    "{} prior convictions under {named} ({dates}) mean the offence may still be punished as a felony under {two_priors_authority}",
                    named_priors.len(),
                ),
            ));
        }
        if named_priors.len() + between_named.len() >= 2 {
            between.extend(between_named);
        }
        // What the record leaves open, most specific first: each goes to review with its flag.
        let open_questions = [
            (
                between,
                Flag::PriorAfterOffense,
                "statute.prior_after_offense",
                "a possibly disqualifying conviction came after the offence but before this conviction, so whether it is a prior must be decided from the court file: ",
                "",
            ),
            (
                form_unknown,
                Flag::DisqualifierFormUnknown,
                "statute.disqualifier_form_unknown",
                "",
                "; the record does not show which form, so whether this conviction stays a felony must be decided from the court file",
            ),
            (
                undated_possible,
                Flag::UnknownPriorDate,
                "statute.disqualifier_undated",
                "a possibly disqualifying record has no date, so whether it came before this conviction is unknown: ",
                "",
            ),
        ];
        for (found, flag, rule_id, before, after) in open_questions {
            if !found.is_empty() {
                flags.push(flag);
                return Some(self.review(
                    rule_id,
                    prior_offense_authority,
                    format!("{before}{}{after}", found.join("; ")),
                ));
            }
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
    use crate::model::{SentenceKind, Term};

    struct Case {
        name: &'static str,
        dob: &'static str,
        offense: &'static str,
        level: Level,
        date: &'static str,
        /// CYC_DATE: `None` keeps the fixture's (30 days before the conviction); `Some("")` none.
        cycle: Option<&'static str>,
        /// Other convictions of the person: (offence, level, date).
        priors: &'static [(&'static str, Level, &'static str)],
        registrations: &'static [&'static str],
        /// Custody in months.
        sentence_months: u32,
        outcome: Outcome,
        rule: &'static str,
        flags: &'static [Flag],
    }

    fn case(
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
            cycle: None,
            priors: &[],
            registrations: &[],
            sentence_months: 0,
            outcome,
            rule,
            flags: &[],
        }
    }

    impl Case {
        fn flags(self, flags: &'static [Flag]) -> Case {
            Case { flags, ..self }
        }
        fn priors(self, priors: &'static [(&'static str, Level, &'static str)]) -> Case {
            Case { priors, ..self }
        }
        fn cycle(self, cycle: &'static str) -> Case {
            Case {
                cycle: Some(cycle),
                ..self
            }
        }
        fn registrations(self, registrations: &'static [&'static str]) -> Case {
            Case {
                registrations,
                ..self
            }
        }
    }

    const AS_OF: &str = "2020-07-01";
    use Outcome::{
        DismissAndSeal as DS, NeedsReview as NR, NotEligible as NE, RedesignateInfraction as RI,
        RedesignateMisdemeanor as RM,
    };
    const ADULT: &str = "1970-01-01";
    const SALE: &str = "11360(A) HS-SELL";
    const FOR_SALE: &str = "11359 HS-POSSESS FOR SALE";
    const CULTIVATE: &str = "11358 HS-CULTIVATE";

    fn cases() -> Vec<Case> {
        vec![
            // --- HS 11357 possession, by old subsection and age at the offence
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
            case(
                "11357(b) unknown age: presumed adult 21+",
                "",
                "11357(B) HS-POSSESS",
                Misdemeanor,
                "2009-06-01",
                DS,
                "statute.11357b.adult_lawful",
            )
            .flags(&[Flag::UnknownAge, Flag::PresumedAge]),
            case(
                "11357(a) adult concentrate",
                ADULT,
                "11357(A) HS-CONCENTRATE",
                Felony,
                "2005-01-01",
                DS,
                "statute.11357a.concentrate_adult",
            )
            .flags(&[Flag::PresumedGrams]),
            case(
                "11357(a) age 19",
                "1986-01-01",
                "11357(A) HS-CONCENTRATE",
                Misdemeanor,
                "2005-06-01",
                RI,
                "statute.11357a.age_18_20",
            )
            .flags(&[Flag::PresumedGrams]),
            case(
                "11357(a) minor",
                "1990-01-01",
                "11357(A) HS-CONCENTRATE",
                Misdemeanor,
                "2006-01-01",
                RI,
                "statute.11357a.minor",
            ),
            case(
                "11357(c) adult: no change",
                ADULT,
                "11357(C) HS-OVER 28.5",
                Misdemeanor,
                "2005-01-01",
                NE,
                "statute.11357c.no_change",
            ),
            case(
                "11357(c) under 18 at the offence: infraction today",
                "1990-03-01",
                "11357(C) HS-OVER 28.5",
                Misdemeanor,
                "2007-01-01",
                RI,
                "statute.11357c.minor",
            ),
            case(
                "11357(c) unknown age: review",
                "",
                "11357(C) HS-OVER 28.5",
                Misdemeanor,
                "2007-01-01",
                NR,
                "statute.unknown_age",
            )
            .flags(&[Flag::UnknownAge]),
            case(
                "11357(d) adult on school grounds",
                ADULT,
                "11357(D) HS-POSSESS SCHOOL",
                Misdemeanor,
                "2005-01-01",
                NE,
                "statute.11357d.school_no_change",
            ),
            case(
                "11357(d) under 18",
                "1990-03-01",
                "11357(D) HS-POSSESS SCHOOL",
                Misdemeanor,
                "2007-01-01",
                RI,
                "statute.11357d.minor",
            ),
            case(
                "11357(e) minor on school grounds",
                "1990-03-01",
                "11357(E) HS-POSSESS SCHOOL",
                Misdemeanor,
                "2007-01-01",
                RI,
                "statute.11357e.minor_school",
            ),
            case(
                "11357(e) but an adult at the offence",
                ADULT,
                "11357(E) HS-POSSESS SCHOOL",
                Misdemeanor,
                "2007-01-01",
                NE,
                "statute.11357e.adult_no_change",
            ),
            case(
                "11357(e) unknown age: review",
                "",
                "11357(E) HS-POSSESS SCHOOL",
                Misdemeanor,
                "2007-01-01",
                NR,
                "statute.unknown_age",
            ),
            case(
                "11357 no subsection",
                ADULT,
                "11357 HS-POSSESS",
                Misdemeanor,
                "2005-01-01",
                DS,
                "statute.11357.no_subsection",
            )
            .flags(&[Flag::NoSubsection, Flag::PresumedGrams]),
            case(
                "11357 no subsection, age 19",
                "1986-01-01",
                "11357 HS-POSSESS",
                Misdemeanor,
                "2005-06-01",
                RI,
                "statute.11357.no_subsection_18_20",
            ),
            case(
                "11357 no subsection, minor",
                "1990-01-01",
                "11357 HS-POSSESS",
                Misdemeanor,
                "2006-01-01",
                RI,
                "statute.11357.no_subsection_minor",
            ),
            case(
                "11357 unknown subsection",
                ADULT,
                "11357(F) HS-X",
                Misdemeanor,
                "2005-01-01",
                NR,
                "statute.11357.unknown_subsection",
            ),
            // --- HS 11358 cultivation: the presumption takes six plants or fewer
            case(
                "11358 felony adult: six plants or fewer presumed",
                ADULT,
                CULTIVATE,
                Felony,
                "2005-01-01",
                DS,
                "statute.11358.six_plants_or_fewer",
            )
            .flags(&[Flag::PresumedPlants]),
            case(
                "11358 unknown level",
                ADULT,
                CULTIVATE,
                Unknown,
                "2005-01-01",
                DS,
                "statute.11358.six_plants_or_fewer",
            )
            .flags(&[Flag::UnknownLevel, Flag::PresumedPlants]),
            case(
                "11358 age 19",
                "1986-01-01",
                CULTIVATE,
                Felony,
                "2005-06-01",
                RI,
                "statute.11358.age_18_20",
            )
            .flags(&[Flag::PresumedPlants]),
            case(
                "11358 minor",
                "1990-01-01",
                CULTIVATE,
                Felony,
                "2006-01-01",
                RI,
                "statute.11358.minor",
            ),
            case(
                "11358 unknown age: presumed adult 21+",
                "",
                CULTIVATE,
                Felony,
                "2006-01-01",
                DS,
                "statute.11358.six_plants_or_fewer",
            )
            .flags(&[Flag::PresumedAge, Flag::PresumedPlants]),
            case(
                "11358 with a disqualifying prior: the plant count decides",
                ADULT,
                CULTIVATE,
                Felony,
                "2005-01-01",
                NR,
                "statute.11358.plants_decide",
            )
            .priors(&[("314(1) PC-INDECENT EXPOSURE", Misdemeanor, "1995-01-01")])
            .flags(&[Flag::UnknownQuantity]),
            case(
                "11358 with two prior cultivations (plants unknown)",
                ADULT,
                CULTIVATE,
                Felony,
                "2005-01-01",
                NR,
                "statute.11358.plants_decide",
            )
            .priors(&[
                (CULTIVATE, Felony, "1995-01-01"),
                (CULTIVATE, Felony, "1999-01-01"),
            ])
            .flags(&[Flag::UnknownQuantity, Flag::PriorPlantsUnknown]),
            case(
                "11358 with a PC 290 offence after it",
                ADULT,
                CULTIVATE,
                Felony,
                "2005-01-01",
                DS,
                "statute.11358.six_plants_or_fewer",
            )
            .priors(&[("314(1) PC-INDECENT EXPOSURE", Misdemeanor, "2006-01-01")]),
            // --- HS 11359 possession for sale
            case(
                "11359 felony adult",
                ADULT,
                FOR_SALE,
                Felony,
                "2005-01-01",
                RM,
                "statute.11359.felony_to_misdemeanor",
            ),
            case(
                "11359 misdemeanor",
                ADULT,
                FOR_SALE,
                Misdemeanor,
                "2005-01-01",
                NE,
                "statute.11359.already_misdemeanor",
            ),
            case(
                "11359 minor",
                "1990-01-01",
                FOR_SALE,
                Felony,
                "2006-01-01",
                RI,
                "statute.11359.minor",
            ),
            case(
                "11359 unknown age: minority not presumed",
                "",
                FOR_SALE,
                Felony,
                "2006-01-01",
                NR,
                "statute.unknown_age",
            )
            .flags(&[Flag::UnknownAge]),
            case(
                "11359 two prior possessions for sale",
                ADULT,
                FOR_SALE,
                Felony,
                "2005-01-01",
                NE,
                "statute.disqualified.two_priors",
            )
            .priors(&[
                (FOR_SALE, Felony, "1995-01-01"),
                (FOR_SALE, Felony, "1999-01-01"),
            ]),
            // --- HS 11360 sale, transport, gift
            case(
                "11360(a) felony adult",
                ADULT,
                SALE,
                Felony,
                "2005-01-01",
                RM,
                "statute.11360a.felony_to_misdemeanor",
            ),
            case(
                "11360 no subsection felony",
                ADULT,
                "11360 HS-TRANSPORT",
                Felony,
                "2005-01-01",
                RM,
                "statute.11360a.felony_to_misdemeanor",
            )
            .flags(&[Flag::NoSubsection]),
            case(
                "11360(a) misdemeanor",
                ADULT,
                SALE,
                Misdemeanor,
                "2005-01-01",
                NE,
                "statute.11360a.already_misdemeanor",
            ),
            case(
                "11360(a) minor",
                "1990-01-01",
                SALE,
                Felony,
                "2006-01-01",
                RI,
                "statute.11360a.minor",
            ),
            case(
                "11360(b) adult",
                ADULT,
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
                ADULT,
                "11360(C) HS-X",
                Felony,
                "2005-01-01",
                NR,
                "statute.11360.unknown_subsection",
            ),
            case(
                "two prior 11360(a) sales",
                ADULT,
                SALE,
                Felony,
                "2005-01-01",
                NE,
                "statute.disqualified.two_priors",
            )
            .priors(&[(SALE, Felony, "1995-01-01"), (SALE, Felony, "1999-01-01")]),
            case(
                "two prior 11360(b) gifts do not count for 11360(a)(3)(B)",
                ADULT,
                SALE,
                Felony,
                "2005-01-01",
                RM,
                "statute.11360a.felony_to_misdemeanor",
            )
            .priors(&[
                ("11360(B) HS-GIVE 28.5 OR LESS", Misdemeanor, "1995-01-01"),
                ("11360(B) HS-GIVE 28.5 OR LESS", Misdemeanor, "1999-01-01"),
            ]),
            case(
                "one prior before, one after",
                ADULT,
                SALE,
                Felony,
                "2005-01-01",
                RM,
                "statute.11360a.felony_to_misdemeanor",
            )
            .priors(&[(SALE, Felony, "1995-01-01"), (SALE, Felony, "2009-01-01")]),
            case(
                "priors of other sections do not count",
                ADULT,
                SALE,
                Felony,
                "2005-01-01",
                RM,
                "statute.11360a.felony_to_misdemeanor",
            )
            .priors(&[
                ("11359 HS-SALE", Felony, "1995-01-01"),
                ("11358 HS-CULT", Felony, "1999-01-01"),
            ]),
            // --- HS 11362.1
            case(
                "11362.1 before Prop 64",
                ADULT,
                "11362.1 HS-POSSESS",
                Infraction,
                "2016-11-08",
                DS,
                "statute.11362_1.lawful",
            ),
            // --- the offence date decides, not the conviction date
            case(
                "offence before Prop 64, convicted after it",
                ADULT,
                FOR_SALE,
                Felony,
                "2017-03-01",
                RM,
                "statute.11359.felony_to_misdemeanor",
            )
            .cycle("2016-10-01"),
            case(
                "offence on the day Prop 64 took effect",
                ADULT,
                "11357(B) HS-POSSESS",
                Misdemeanor,
                "2017-01-09",
                NE,
                "statute.post_prop64_offense",
            )
            .cycle("2016-11-09"),
            case(
                "no arrest date, convicted before Prop 64: the conviction date bounds the offence",
                ADULT,
                "11357(B) HS-POSSESS",
                Misdemeanor,
                "2016-11-08",
                DS,
                "statute.11357b.adult_lawful",
            )
            .cycle("")
            .flags(&[Flag::OffenseDateFromConviction]),
            case(
                "no arrest date, convicted after Prop 64: review",
                ADULT,
                FOR_SALE,
                Felony,
                "2017-03-01",
                NR,
                "statute.offense_date_unknown_after_prop64",
            )
            .cycle("")
            .flags(&[Flag::OffenseDateFromConviction]),
            case(
                "no date at all",
                ADULT,
                FOR_SALE,
                Felony,
                "",
                NR,
                "statute.unknown_offense_date",
            )
            .flags(&[Flag::UnknownDate]),
            case(
                "conviction date unknown, offence dated before Prop 64",
                ADULT,
                FOR_SALE,
                Felony,
                "",
                RM,
                "statute.11359.felony_to_misdemeanor",
            )
            .cycle("2010-01-01")
            .flags(&[Flag::UnknownDate, Flag::UnknownSentence]),
            case(
                "age at the offence, not at conviction: 17 at arrest, 18 at conviction",
                "1992-06-01",
                "11357(C) HS-OVER 28.5",
                Misdemeanor,
                "2010-07-01",
                RI,
                "statute.11357c.minor",
            )
            .cycle("2010-05-01"),
            case(
                "11359(c)(3) is post-Prop 64",
                ADULT,
                "11359(C)(3) HS-SELL TO MINOR",
                Felony,
                "2015-01-01",
                NE,
                "statute.post_prop64_subsection",
            )
            .flags(&[Flag::PostProp64Subsection]),
            case(
                "11360(a)(3)(d) is post-Prop 64",
                ADULT,
                "11360(A)(3)(D) HS-EXPORT",
                Felony,
                "2015-01-01",
                NE,
                "statute.post_prop64_subsection",
            )
            .flags(&[Flag::PostProp64Subsection]),
            // --- disqualifiers
            case(
                "super strike before: felony stays",
                ADULT,
                FOR_SALE,
                Felony,
                "2005-01-01",
                NE,
                "statute.disqualified.superstrike_prior",
            )
            .priors(&[("187 PC-MURDER", Felony, "1995-01-01")]),
            case(
                "super strike after: not a prior",
                ADULT,
                FOR_SALE,
                Felony,
                "2005-01-01",
                RM,
                "statute.11359.felony_to_misdemeanor",
            )
            .priors(&[("187 PC-MURDER", Felony, "2010-01-01")]),
            case(
                "super strike the same day: not a prior",
                ADULT,
                FOR_SALE,
                Felony,
                "2005-01-01",
                RM,
                "statute.11359.felony_to_misdemeanor",
            )
            .priors(&[("187 PC-MURDER", Felony, "2005-01-01")]),
            case(
                "super strike after the offence, before the conviction: review",
                ADULT,
                FOR_SALE,
                Felony,
                "2005-01-01",
                NR,
                "statute.prior_after_offense",
            )
            .priors(&[("187 PC-MURDER", Felony, "2004-12-20")])
            .flags(&[Flag::PriorAfterOffense]),
            case(
                "super strike never blocks 11357",
                ADULT,
                "11357(B) HS-POSSESS",
                Misdemeanor,
                "2005-01-01",
                DS,
                "statute.11357b.adult_lawful",
            )
            .priors(&[("187 PC-MURDER", Felony, "1995-01-01")]),
            case(
                "237 is not 37",
                ADULT,
                SALE,
                Felony,
                "2005-01-01",
                RM,
                "statute.11360a.felony_to_misdemeanor",
            )
            .priors(&[("237 PC-FALSE IMPRISONMENT", Felony, "1995-01-01")]),
            case(
                "attempted lewd act: a PC 290(c) offence",
                ADULT,
                SALE,
                Felony,
                "2005-01-01",
                NE,
                "statute.disqualified.pc290_prior",
            )
            .priors(&[("664/288(A) PC-ATTEMPTED LEWD ACT", Felony, "1995-01-01")]),
            case(
                "solicitation of murder: super strike",
                ADULT,
                SALE,
                Felony,
                "2005-01-01",
                NE,
                "statute.disqualified.superstrike_prior",
            )
            .priors(&[("653F(B) PC-SOLICIT MURDER", Felony, "1995-01-01")]),
            case(
                "kidnapping: form unknown, review",
                ADULT,
                SALE,
                Felony,
                "2005-01-01",
                NR,
                "statute.disqualifier_form_unknown",
            )
            .priors(&[("207(A) PC-KIDNAPPING", Felony, "1995-01-01")])
            .flags(&[Flag::DisqualifierFormUnknown]),
            case(
                "kidnapping for ransom: super strike",
                ADULT,
                SALE,
                Felony,
                "2005-01-01",
                NE,
                "statute.disqualified.superstrike_prior",
            )
            .priors(&[("209(A) PC-KIDNAP FOR RANSOM", Felony, "1995-01-01")]),
            case(
                "PC 290 offence before",
                ADULT,
                FOR_SALE,
                Felony,
                "2005-01-01",
                NE,
                "statute.disqualified.pc290_prior",
            )
            .priors(&[("314(1) PC-INDECENT EXPOSURE", Misdemeanor, "1995-01-01")]),
            case(
                "PC 290 registration before",
                ADULT,
                FOR_SALE,
                Felony,
                "2005-01-01",
                NE,
                "statute.disqualified.pc290_registration",
            )
            .registrations(&["2001-01-01"]),
            case(
                "PC 290 registration after",
                ADULT,
                FOR_SALE,
                Felony,
                "2005-01-01",
                RM,
                "statute.11359.felony_to_misdemeanor",
            )
            .registrations(&["2007-01-01"]),
            case(
                "undated PC 290 registration",
                ADULT,
                FOR_SALE,
                Felony,
                "2005-01-01",
                NR,
                "statute.disqualifier_undated",
            )
            .registrations(&[""])
            .flags(&[Flag::UnknownPriorDate]),
            case(
                "undated super strike: review",
                ADULT,
                FOR_SALE,
                Felony,
                "2005-01-01",
                NR,
                "statute.disqualifier_undated",
            )
            .priors(&[("187 PC-MURDER", Felony, "")])
            .flags(&[Flag::UnknownPriorDate]),
            // --- flags
            case(
                "attempt under PC 664",
                ADULT,
                "664-11357(B) HS",
                Misdemeanor,
                "2005-01-01",
                DS,
                "statute.11357b.adult_lawful",
            )
            .flags(&[Flag::Attempt]),
            case(
                "Prop 64 section under PC letters",
                ADULT,
                "11357(B)PC",
                Misdemeanor,
                "2005-01-01",
                DS,
                "statute.11357b.adult_lawful",
            )
            .flags(&[Flag::UnexpectedCode]),
            case(
                "old 11357(b) record older than two years",
                ADULT,
                "11357(B) HS-POSSESS",
                Misdemeanor,
                "2010-01-01",
                DS,
                "statute.11357b.adult_lawful",
            )
            .flags(&[Flag::RecordsDestruction113615]),
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
        if let Some(cycle) = case.cycle {
            this.cycle_date = date(cycle);
        }
        this.sentence.add_part(
            SentenceKind::Custody,
            Term {
                months: case.sentence_months,
                ..Term::default()
            },
        );
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
                !result.decision.reason.is_empty() && !result.decision.authority.is_empty(),
                "{}",
                case.name
            );
            // A presumption flag appears exactly when relief rests on it.
            if result.flags.iter().any(|flag| flag.is_presumption()) {
                assert!(result.decision.outcome.grants_relief(), "{}", case.name);
                assert!(result.decision.reason.contains("presum"), "{}", case.name);
            }
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
                ADULT,
                FOR_SALE,
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
    fn reasons_name_the_disqualifying_prior_and_its_clause() {
        let murder = run(
            &case("x", ADULT, SALE, Felony, "2005-01-01", NE, "").priors(&[(
                "187 PC-MURDER",
                Felony,
                "1995-01-01",
            )]),
        );
        let reason = &murder.decision.reason;
        assert!(
            reason.contains("PC 187") && reason.contains("1995-01-01"),
            "{reason}"
        );
        assert!(reason.contains("PC 667(e)(2)(C)(iv)(IV)"), "{reason}");
        assert!(
            murder.decision.authority.contains("HS 11360(a)(3)(A)"),
            "{}",
            murder.decision.authority
        );
        let solicitation = run(
            &case("x", ADULT, SALE, Felony, "2005-01-01", NE, "").priors(&[(
                "653F(B) PC-SOLICIT MURDER",
                Felony,
                "1995-01-01",
            )]),
        );
        assert!(
            solicitation
                .decision
                .reason
                .contains("PC 667(e)(2)(C)(iv)(V)"),
            "{}",
            solicitation.decision.reason
        );
        let kidnapping = run(
            &case("x", ADULT, SALE, Felony, "2005-01-01", NR, "").priors(&[(
                "207(A) PC-KIDNAPPING",
                Felony,
                "1995-01-01",
            )]),
        );
        let reason = &kidnapping.decision.reason;
        assert!(
            reason.contains("PC 207(a)") && reason.contains("PC 290(c)(1)"),
            "{reason}"
        );
        let two = run(&case("x", ADULT, SALE, Felony, "2005-01-01", NE, "")
            .priors(&[(SALE, Felony, "1995-01-01"), (SALE, Felony, "1999-01-01")]));
        assert!(
            two.decision
                .reason
                .contains("HS 11360(a) (sale or transport)"),
            "{}",
            two.decision.reason
        );
    }

    #[test]
    fn a_gang_term_in_the_same_case_shows_the_form() {
        let mut subject = person(ADULT);
        let carjacking = conviction("215(A) PC-CARJACKING", Felony, "1995-01-01");
        let mut enhancement = conviction("186.22(B)(4) PC-GANG", Felony, "1995-01-01");
        enhancement.count_key = carjacking.count_key;
        subject.convictions.push(carjacking);
        let alone = {
            let mut subject = subject.clone();
            subject
                .convictions
                .push(conviction(SALE, Felony, "2005-01-01"));
            decide(&subject, 1, date(AS_OF).unwrap())
        };
        assert_eq!(alone.decision.outcome, NR);
        subject.convictions.push(enhancement);
        subject
            .convictions
            .push(conviction(SALE, Felony, "2005-01-01"));
        let shown = decide(&subject, 2, date(AS_OF).unwrap());
        assert_eq!(shown.decision.outcome, NE, "{:?}", shown.decision);
        assert_eq!(
            shown.decision.rule_id,
            "statute.disqualified.superstrike_prior"
        );
    }

    #[test]
    fn invalid_dates_are_told_apart_from_missing_ones() {
        let mut subject = person(ADULT);
        let mut this = conviction(FOR_SALE, Felony, "");
        this.cycle_date = None;
        this.invalid_dates.conviction = true;
        subject.convictions.push(this);
        let result = decide(&subject, 0, date(AS_OF).unwrap());
        assert_eq!(result.decision.outcome, NR);
        assert!(result.flags.contains(&Flag::InvalidDate));
        let reason = &result.decision.reason;
        assert!(
            reason.contains("conviction date (STP_EVENT_DATE) is recorded but invalid")
                && reason.contains("CYC_DATE) is not recorded"),
            "{reason}"
        );
    }
}
