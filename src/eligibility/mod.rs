//! Eligibility: what relief Prop 64 (HS 11361.8) and the county's policy give each conviction.
//!
//! Pure: no I/O, no clock, no environment; the as-of date is an argument. Two layers are kept
//! apart so a filing can say which basis applies: [`statute`] decides what § 11361.8 itself
//! gives (and why), then [`policy`] applies the county's choices, which can add relief or send a
//! count to review but never take statutory relief away. Every [`Determination`] names the rule
//! that fired, its authority and a reason a person can read. [`gogen`] reproduces Code for
//! America's gogen decisions for counties that want to check clearance against what they filed.
//!
//! Only convictions in the processed county are determined: a prosecutor and a court can act only
//! on their own cases. Convictions elsewhere still count as priors and in the statistics.

pub mod gogen;
pub mod matchers;
pub mod policy;
pub mod statute;
pub mod summary;

pub use matchers::gogen_matches_prop64;
pub use policy::{
    Conditions, Policy, PolicyAction, PolicyRule, RelatedCharges, RelatedChargesAction,
};

use crate::model::{Conviction, Date, Person};

/// What happens to a conviction count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Dismissed and sealed as legally invalid (§ 11361.8(e)–(f)); serving: sentence dismissed.
    DismissAndSeal,
    /// Felony redesignated (completed) or recalled and resentenced (serving) as a misdemeanor.
    RedesignateMisdemeanor,
    /// Redesignated or resentenced as an infraction.
    RedesignateInfraction,
    NotEligible,
    NeedsReview,
}

/// Whether a determination's rule found the offence to be under current law (committed after
/// Prop 64, or a subsection it created): no conviction § 11361.8 could relieve, so the notice of
/// challenge leaves it out of the People's challenges.
pub fn is_offense_under_current_law(rule_id: &str) -> bool {
    matches!(
        rule_id,
        "statute.post_prop64_offense" | "statute.post_prop64_subsection"
    )
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::DismissAndSeal => "dismiss_and_seal",
            Outcome::RedesignateMisdemeanor => "redesignate_misdemeanor",
            Outcome::RedesignateInfraction => "redesignate_infraction",
            Outcome::NotEligible => "not_eligible",
            Outcome::NeedsReview => "needs_review",
        }
    }

    /// The words gogen's CSVs use for this outcome.
    pub fn gogen_words(self) -> &'static str {
        match self {
            Outcome::DismissAndSeal => "Eligible for Dismissal",
            Outcome::RedesignateMisdemeanor | Outcome::RedesignateInfraction => {
                "Eligible for Reduction"
            }
            Outcome::NotEligible => "Not eligible",
            Outcome::NeedsReview => "Hand Review",
        }
    }

    /// How much relief: dismissal > infraction > misdemeanor > review > none. Policy may only
    /// move a count up this scale (or to review).
    pub fn relief_rank(self) -> u8 {
        match self {
            Outcome::DismissAndSeal => 4,
            Outcome::RedesignateInfraction => 3,
            Outcome::RedesignateMisdemeanor => 2,
            Outcome::NeedsReview => 1,
            Outcome::NotEligible => 0,
        }
    }

    /// Dismissal or redesignation: something a court order grants.
    pub fn grants_relief(self) -> bool {
        matches!(
            self,
            Outcome::DismissAndSeal
                | Outcome::RedesignateMisdemeanor
                | Outcome::RedesignateInfraction
        )
    }

    pub const ALL: [Outcome; 5] = [
        Outcome::DismissAndSeal,
        Outcome::RedesignateMisdemeanor,
        Outcome::RedesignateInfraction,
        Outcome::NotEligible,
        Outcome::NeedsReview,
    ];
}

/// Which procedure of § 11361.8 applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Track {
    /// Sentence completed: application, § 11361.8(e)–(g).
    Completed,
    /// Still serving on the as-of date: petition, § 11361.8(a)–(d).
    Serving,
}

impl Track {
    pub fn as_str(self) -> &'static str {
        match self {
            Track::Completed => "completed",
            Track::Serving => "serving",
        }
    }

    /// The subdivisions of § 11361.8 that govern this track.
    pub fn authority(self) -> &'static str {
        match self {
            Track::Completed => "HS 11361.8(e)-(f)",
            Track::Serving => "HS 11361.8(a)-(b)",
        }
    }
}

/// Where a paper's date stands against the People's last day to challenge relief for the
/// convictions DOJ identified (HS § 11361.9(b)): what a notice of challenge may say about the
/// convictions still under review depends on it, since the court shall reduce or dismiss any
/// conviction not challenged by that day (§ 11361.9(f)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChallengeTiming {
    /// The People may still challenge: convictions under review can be decided later.
    BeforeDeadline,
    /// The last day: whatever is not challenged now is conceded.
    OnDeadline,
    /// The day has passed: a challenge made now may be untimely.
    AfterDeadline,
}

impl ChallengeTiming {
    pub fn of(date: crate::model::Date) -> ChallengeTiming {
        match date.cmp(&crate::model::CHALLENGE_DEADLINE) {
            std::cmp::Ordering::Less => ChallengeTiming::BeforeDeadline,
            std::cmp::Ordering::Equal => ChallengeTiming::OnDeadline,
            std::cmp::Ordering::Greater => ChallengeTiming::AfterDeadline,
        }
    }
}

/// What the papers' date means for the convictions still in review and those the People
/// challenge, against the last day to challenge (HS § 11361.9(b)): the court shall reduce or
/// dismiss any conviction not challenged by then (§ 11361.9(f)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadlineFacts {
    /// The papers' date (the as-of date).
    pub as_of: crate::model::Date,
    /// Convictions still to decide (needs review).
    pub under_review: u64,
    /// Convictions determined not eligible: those the People would challenge.
    pub challenged: u64,
}

/// Something the office must act on before filing, because of the challenge deadline. The
/// words are the summary's ([`crate::render::documents::deadline_note_text`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeadlineNote {
    /// Dated on the last day, with convictions still in review: decide them today.
    DecideReviewToday { under_review: u64 },
    /// Dated after the last day, with convictions still in review: were they challenged in
    /// time? If not, they must be granted.
    ReviewAfterDeadline { under_review: u64 },
    /// Dated after the last day, with convictions determined not eligible: a challenge made
    /// now may be untimely.
    ChallengeAfterDeadline { challenged: u64 },
}

impl DeadlineFacts {
    /// The notes, in the order to read them; none before the last day.
    pub fn notes(self) -> Vec<DeadlineNote> {
        let timing = ChallengeTiming::of(self.as_of);
        let mut notes = Vec::new();
        if self.under_review > 0 {
            match timing {
                ChallengeTiming::BeforeDeadline => {}
                ChallengeTiming::OnDeadline => notes.push(DeadlineNote::DecideReviewToday {
                    under_review: self.under_review,
                }),
                ChallengeTiming::AfterDeadline => notes.push(DeadlineNote::ReviewAfterDeadline {
                    under_review: self.under_review,
                }),
            }
        }
        if timing == ChallengeTiming::AfterDeadline && self.challenged > 0 {
            notes.push(DeadlineNote::ChallengeAfterDeadline {
                challenged: self.challenged,
            });
        }
        notes
    }

    /// The facts of a run, from its statistics (`needs_review` and `challenged`).
    pub fn of_statistics(as_of: crate::model::Date, statistics: &summary::Statistics) -> Self {
        DeadlineFacts {
            as_of,
            under_review: statistics
                .by_outcome
                .get(Outcome::NeedsReview.as_str())
                .copied()
                .unwrap_or(0),
            challenged: statistics.challenged,
        }
    }
}

/// Why the outcome applies: the statute itself, or the county's policy beyond it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    Statute,
    Policy,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Statute => "statute",
            Basis::Policy => "policy",
        }
    }
}

/// Facts worth a human's attention, attached to a determination.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Flag {
    /// Recorded as an attempt under PC 664.
    Attempt,
    /// No level recorded; treated as the section's usual level.
    UnknownLevel,
    /// The conviction date is not recorded (or not valid).
    UnknownDate,
    /// A date of the record (conviction, arrest or citation, birth) is recorded but invalid; it
    /// is treated as unknown and a warning names the row and column.
    InvalidDate,
    /// The offence date is the conviction date: no arrest or citation date is recorded.
    OffenseDateFromConviction,
    /// Neither the date of birth nor the age at arrest is recorded.
    UnknownAge,
    /// The outcome rests on the presumption of eligibility about the age at the offence.
    PresumedAge,
    /// The outcome rests on the presumption of eligibility about the amount (grams).
    PresumedGrams,
    /// The outcome rests on the presumption of eligibility about the plant count.
    PresumedPlants,
    /// The amount or plant count decides between relief and none and is not in the record.
    UnknownQuantity,
    /// The sentence could not be read whole (a part's length, unit or kind, or the conviction
    /// date): the track (serving or completed) may be wrong.
    UnknownSentence,
    /// A possibly disqualifying prior conviction has no date.
    UnknownPriorDate,
    /// A possibly disqualifying conviction came after the offence but before this conviction.
    PriorAfterOffense,
    /// A prior disqualifies only in a form (subdivision, intent, gang term) the record does not
    /// show.
    DisqualifierFormUnknown,
    /// Prior cultivation convictions counted under HS 11358(d)(2) without a recorded plant count.
    PriorPlantsUnknown,
    /// The charge was read from COMMENT_TEXT (`SEE COMMENT FOR CHARGE`).
    ChargeFromComment,
    /// COMMENT_TEXT names a different Prop 64 charge than the offence text.
    PossibleP64InComment,
    /// HS 11361.5: records of old 11357(b)–(e) and 11360(b) more than two years old must be
    /// destroyed.
    RecordsDestruction113615,
    /// A post-Prop 64 subsection (11359(c)(3), 11359(d), 11360(a)(3)(C)/(D)).
    PostProp64Subsection,
    /// Section recorded without a subsection.
    NoSubsection,
    /// A Prop 64 section recorded under a code other than HS (`11357(A)PC`).
    UnexpectedCode,
    /// The person is recorded as deceased.
    Deceased,
    /// A related charge in the same case as a relieved Prop 64 count (policy).
    RelatedCharge,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Attempt => "attempt",
            Flag::UnknownLevel => "unknown_level",
            Flag::UnknownDate => "unknown_date",
            Flag::InvalidDate => "invalid_date",
            Flag::OffenseDateFromConviction => "offense_date_from_conviction",
            Flag::UnknownAge => "unknown_age",
            Flag::PresumedAge => "presumed_age",
            Flag::PresumedGrams => "presumed_grams",
            Flag::PresumedPlants => "presumed_plants",
            Flag::UnknownQuantity => "unknown_quantity",
            Flag::UnknownSentence => "unknown_sentence",
            Flag::UnknownPriorDate => "unknown_prior_date",
            Flag::PriorAfterOffense => "prior_after_offense",
            Flag::DisqualifierFormUnknown => "disqualifier_form_unknown",
            Flag::PriorPlantsUnknown => "prior_plants_unknown",
            Flag::ChargeFromComment => "charge_from_comment",
            Flag::PossibleP64InComment => "possible_p64_in_comment",
            Flag::RecordsDestruction113615 => "records_destruction_11361_5",
            Flag::PostProp64Subsection => "post_prop64_subsection",
            Flag::NoSubsection => "no_subsection",
            Flag::UnexpectedCode => "unexpected_code",
            Flag::Deceased => "deceased",
            Flag::RelatedCharge => "related_charge",
        }
    }

    /// The outcome rests on the presumption of eligibility (HS 11361.8(b), (f)).
    pub fn is_presumption(self) -> bool {
        matches!(
            self,
            Flag::PresumedAge | Flag::PresumedGrams | Flag::PresumedPlants
        )
    }
}

/// A decision with its explanation: outcome, the rule that fired, its authority and reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub outcome: Outcome,
    /// `statute.<rule>`, `policy.<rule id from the policy file>` or `gogen.<step>`.
    pub rule_id: std::borrow::Cow<'static, str>,
    pub authority: String,
    pub reason: String,
    /// A dismissal also seals the record: § 11361.8(f) on the application track, or the
    /// policy's own `seal` choice. Always false for other outcomes.
    pub seal: bool,
}

/// The determination for one conviction count.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Determination {
    /// Index into the people slice given to [`evaluate`].
    pub person_index: usize,
    /// Index into that person's convictions.
    pub conviction_index: usize,
    pub decision: Decision,
    pub basis: Basis,
    pub track: Track,
    pub sentence_end: Option<Date>,
    /// Sorted, without duplicates.
    pub flags: Vec<Flag>,
    /// The statutory decision, when policy changed the outcome.
    pub statutory: Option<Decision>,
}

impl Determination {
    pub fn outcome(&self) -> Outcome {
        self.decision.outcome
    }

    pub fn person<'a>(&self, people: &'a [Person]) -> &'a Person {
        &people[self.person_index]
    }

    pub fn conviction<'a>(&self, people: &'a [Person]) -> &'a Conviction {
        &people[self.person_index].convictions[self.conviction_index]
    }
}

/// What the run decides with: clearance's rules under a policy, or gogen's flow.
#[derive(Clone, Debug)]
pub enum Rules {
    Clearance(Policy),
    Gogen(gogen::GogenOptions),
}

/// Determines every conviction in the processed county under `policy` as of `as_of`.
/// `in_county[county_id]` says which recorded county names are the processed county.
pub fn evaluate(
    people: &[Person],
    in_county: &[bool],
    policy: &Policy,
    as_of: Date,
) -> Vec<Determination> {
    let mut determinations = Vec::new();
    for (person_index, person) in people.iter().enumerate() {
        let first_of_person = determinations.len();
        for (conviction_index, conviction) in person.convictions.iter().enumerate() {
            if !is_in_county(conviction, in_county) {
                continue;
            }
            let Some(section) = &conviction.offense else {
                continue;
            };
            if !matchers::is_prop64_section_any_code(section) {
                continue;
            }
            let statutory = statute::decide(person, conviction_index, as_of);
            let determination = policy::apply(policy, person, conviction_index, statutory, as_of);
            determinations.push(Determination {
                person_index,
                conviction_index,
                ..determination
            });
        }
        policy::add_related_charges(
            policy,
            person,
            person_index,
            in_county,
            &mut determinations,
            first_of_person,
            as_of,
        );
    }
    determinations
}

pub(crate) fn is_in_county(conviction: &Conviction, in_county: &[bool]) -> bool {
    in_county
        .get(usize::from(conviction.county.0))
        .copied()
        .unwrap_or(false)
}

/// The track of a conviction on the as-of date, and when its sentence ends.
pub fn track_of(conviction: &Conviction, as_of: Date) -> (Track, Option<Date>) {
    let Some(date) = conviction.date else {
        return (Track::Completed, None);
    };
    let end = conviction.sentence.end_date(date);
    let track = if end > as_of {
        Track::Serving
    } else {
        Track::Completed
    };
    (track, Some(end))
}

/// What a rule means in plain words, for the summary report's table of reasons (beside the
/// rule id, not instead of it). Statute and gogen rules only: a policy's rules are described
/// by the policy's own words. `None` for an id this table does not know.
pub fn plain_reason(rule_id: &str) -> Option<&'static str> {
    Some(match rule_id {
        "statute.11357.no_subsection" | "statute.11357b.adult_lawful" => {
            "Adult possession of 28.5 grams or less: now lawful, dismissed and sealed"
        }
        "statute.11357.no_subsection_18_20"
        | "statute.11357b.age_18_20"
        | "statute.11357a.age_18_20" => "Possession at age 18 to 20: now an infraction",
        "statute.11357.no_subsection_minor"
        | "statute.11357a.minor"
        | "statute.11357b.minor"
        | "statute.11357c.minor" => "Possession under 18: now an infraction",
        "statute.11357.unknown_subsection" | "statute.11360.unknown_subsection" => {
            "Subsection the rules do not know: a person must read the record"
        }
        "statute.11357a.concentrate_adult" => {
            "Adult possession of concentrated cannabis (amount presumed lawful): dismissed and sealed"
        }
        "statute.11357c.no_change" => {
            "Adult possession of more than 28.5 grams: still a misdemeanor, no change"
        }
        "statute.11357d.minor" | "statute.11357e.minor_school" => {
            "Possession on school grounds under 18: now an infraction"
        }
        "statute.11357d.school_no_change" | "statute.11357e.adult_no_change" => {
            "Adult possession on school grounds: still a misdemeanor, no change"
        }
        "statute.11358.six_plants_or_fewer" => {
            "Adult cultivation of six plants or fewer (count presumed): dismissed and sealed"
        }
        "statute.11358.age_18_20" => "Cultivation at age 18 to 20: now an infraction",
        "statute.11358.minor" => "Cultivation under 18: now an infraction",
        "statute.11358.plants_decide" => {
            "Plant count not recorded and it decides the outcome: needs review"
        }
        "statute.11359.felony_to_misdemeanor" => "Felony possession for sale: now a misdemeanor",
        "statute.11359.already_misdemeanor" | "statute.11360a.already_misdemeanor" => {
            "Already a misdemeanor or lower: no change"
        }
        "statute.11359.minor" | "statute.11360a.minor" => {
            "Sale or possession for sale under 18: now an infraction"
        }
        "statute.11360a.felony_to_misdemeanor" => "Felony sale or transport: now a misdemeanor",
        "statute.11360b.adult_lawful" => {
            "Adult giving away or transporting 28.5 grams or less: now lawful, dismissed and sealed"
        }
        "statute.11360b.under_21" => {
            "Giving away or transporting 28.5 grams or less under 21: now an infraction"
        }
        "statute.11362_1.lawful" => "Conduct now lawful for adults: dismissed and sealed",
        "statute.already_infraction" => "Already an infraction: no change",
        "statute.disqualified.superstrike_prior" => {
            "A prior super-strike conviction keeps the felony: not eligible"
        }
        "statute.disqualified.pc290_prior" | "statute.disqualified.pc290_registration" => {
            "A prior sex-offender registration offence keeps the felony: not eligible"
        }
        "statute.disqualified.two_priors" => {
            "Two prior convictions for the same offence keep the felony: not eligible"
        }
        "statute.disqualifier_form_unknown" => {
            "A prior that may disqualify is recorded without enough detail: needs review"
        }
        "statute.disqualifier_undated" => "A prior that may disqualify has no date: needs review",
        "statute.prior_after_offense" => {
            "A possibly disqualifying conviction came between offence and conviction: needs review"
        }
        "statute.not_prop64" => "Not a Prop 64 offence",
        "statute.post_prop64_offense" => {
            "Offence on or after November 9, 2016: already under current law"
        }
        "statute.post_prop64_subsection" => {
            "A felony subsection Prop 64 itself created: already under current law"
        }
        "statute.offense_date_unknown_after_prop64" | "statute.unknown_offense_date" => {
            "Whether the offence came before Prop 64 cannot be told: needs review"
        }
        "statute.unknown_age" => {
            "Age at the offence not recorded and it decides the outcome: needs review"
        }
        "gogen.misdemeanor_or_infraction" => "gogen option: dismiss misdemeanors and infractions",
        "gogen.dismiss_section" => "gogen option: dismiss this section",
        "gogen.reduce_section" => "gogen option: reduce this section",
        "gogen.age_threshold" => "gogen option: dismiss for people over the age threshold",
        "gogen.years_since_conviction" => "gogen option: dismiss old convictions",
        "gogen.crime_free" => "gogen option: dismiss after years without a conviction",
        "gogen.deceased" => "gogen option: dismiss for people who have died",
        "gogen.no_determination" => "gogen gives no determination",
        "gogen.statute_denies" => {
            "gogen would relieve, but the statute gives nothing: needs review"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod plain_reason_tests {
    /// Every rule id the statute's rules can fire has a plain-language meaning for the summary.
    #[test]
    fn every_statute_rule_has_a_plain_reason() {
        let source = include_str!("statute.rs");
        let mut missing = Vec::new();
        let mut seen = 0;
        for (start, _) in source.match_indices("\"statute.") {
            let rest = &source[start + 1..];
            let id = &rest[..rest.find('"').expect("a closing quote")];
            let is_rule_id = id.len() > "statute.".len()
                && id != "statute.rs"
                && id.bytes().all(|byte| {
                    byte.is_ascii_lowercase() || byte.is_ascii_digit() || b"._".contains(&byte)
                });
            if is_rule_id {
                seen += 1;
                if super::plain_reason(id).is_none() {
                    missing.push(id);
                }
            }
        }
        assert!(seen > 40, "{seen} rule ids found in statute.rs");
        assert!(missing.is_empty(), "no plain reason for {missing:?}");
        assert!(super::plain_reason("policy.anything").is_none());
    }
}

#[cfg(test)]
mod challenge_deadline_tests {
    use super::{ChallengeTiming, DeadlineFacts, DeadlineNote};
    use crate::model::Date;

    #[test]
    fn the_last_day_to_challenge_is_july_1_2020() {
        let day = |y, m, d| Date::from_ymd_const(y, m, d);
        assert_eq!(
            ChallengeTiming::of(day(2020, 6, 30)),
            ChallengeTiming::BeforeDeadline
        );
        assert_eq!(
            ChallengeTiming::of(day(2020, 7, 1)),
            ChallengeTiming::OnDeadline
        );
        assert_eq!(
            ChallengeTiming::of(day(2020, 7, 2)),
            ChallengeTiming::AfterDeadline
        );
    }

    #[test]
    fn the_office_is_told_only_what_it_must_act_on() {
        let day = |y, m, d| Date::from_ymd_const(y, m, d);
        let notes = |as_of, under_review, challenged| {
            DeadlineFacts {
                as_of,
                under_review,
                challenged,
            }
            .notes()
        };
        // Before the day, review counts may wait and a challenge is timely.
        assert!(notes(day(2020, 6, 30), 5, 9).is_empty());
        // On the day: review counts must be decided now; the challenge is in time.
        assert_eq!(
            notes(day(2020, 7, 1), 2, 9),
            [DeadlineNote::DecideReviewToday { under_review: 2 }]
        );
        assert!(notes(day(2020, 7, 1), 0, 9).is_empty());
        // After it: review counts can no longer be challenged, and a challenge may be late.
        assert_eq!(
            notes(day(2023, 1, 2), 1, 3),
            [
                DeadlineNote::ReviewAfterDeadline { under_review: 1 },
                DeadlineNote::ChallengeAfterDeadline { challenged: 3 }
            ]
        );
        assert!(notes(day(2023, 1, 2), 0, 0).is_empty());
    }
}
