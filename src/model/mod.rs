//! The domain model: people, their convictions and court cases, read from the DOJ file.
//!
//! Only what the rules, the documents and the statistics need is kept, so that a 500,000-row
//! county file fits in a few tens of megabytes. Every conviction remembers the row it came from
//! ([`RowRef`]) so outputs can point back to file and line.

mod code_section;
mod date;

pub use code_section::{CodeSection, LawCode, ParsedOffense, is_comment_redirect, parse_offense};
pub use date::{CHALLENGE_DEADLINE, Date, PROP64_EFFECTIVE_DATE, days_in_month, is_leap_year};

use std::fmt;

macro_rules! string_newtype {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, formatter)
            }
        }
    };
}

string_newtype!(
    /// The DOJ's person key (`SUBJECT_ID`).
    SubjectId
);
string_newtype!(
    /// California Criminal Identification Index number (`CII_NUMBER`), usually 10 characters.
    Cii
);
string_newtype!(
    /// A court case number from `OFN` on a court step (e.g. `SCN123456`).
    CaseNumber
);
string_newtype!(
    /// The person's name as the DOJ records it, `LAST,FIRST M`.
    PersonName
);

impl PersonName {
    /// `FIRST M LAST` for letters and captions; the DOJ form when there is no comma.
    pub fn natural_order(&self) -> String {
        match self.0.split_once(',') {
            Some((last, first)) if !first.trim().is_empty() => {
                format!("{} {}", first.trim(), last.trim())
            }
            _ => self.0.trim().to_string(),
        }
    }

    /// `First M Last` for letters: the DOJ's capitals are how a records system shouts, not how
    /// a person writes their name. Words are capitalised after spaces, hyphens and apostrophes
    /// ("O'Brien", "Garcia-Lopez"), "Mc" keeps its capital ("McDonald"), roman-numeral suffixes
    /// stay capitals ("III"). A name already in mixed case is the person's own spelling: kept.
    pub fn natural_case(&self) -> String {
        let natural = self.natural_order();
        if natural.chars().any(char::is_lowercase) {
            return natural;
        }
        natural
            .split(' ')
            .filter(|word| !word.is_empty())
            .map(natural_case_word)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn natural_case_word(word: &str) -> String {
    if matches!(word, "II" | "III" | "IV" | "VI" | "VII" | "VIII") {
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len());
    let mut start_of_part = true;
    for character in word.chars() {
        if start_of_part {
            out.extend(character.to_uppercase());
        } else {
            out.extend(character.to_lowercase());
        }
        start_of_part = matches!(character, '-' | '\'' | '’');
    }
    // "Mcdonald" → "McDonald" (but not "Mc" alone).
    if out.len() > 2 && out.starts_with("Mc") {
        let (head, tail) = out.split_at(2);
        let mut rest = tail.chars();
        if let Some(first) = rest.next() {
            return format!("{head}{}{}", first.to_uppercase(), rest.as_str());
        }
    }
    out
}

/// The count key `CNT_ORDER`, normally 12 digits `CCCSSSNNNxxx`: cycle, step, count.
///
/// clearance's own mode accepts exactly twelve digits ([`CountKey::parse_strict`]); the gogen
/// compatibility mode accepts what gogen accepts without crashing, 6 to 16 bytes
/// ([`CountKey::parse_lenient`]). Stored inline: the model keeps one per conviction.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CountKey {
    bytes: [u8; 16],
    length: u8,
}

impl CountKey {
    /// Accepts exactly twelve ASCII digits.
    pub fn parse_strict(text: &[u8]) -> Option<CountKey> {
        (text.len() == 12 && text.iter().all(u8::is_ascii_digit)).then(|| CountKey::inline(text))
    }

    /// Accepts 6 to 16 bytes of anything: long enough for gogen's `CNT_ORDER[0:6]`.
    pub fn parse_lenient(text: &[u8]) -> Option<CountKey> {
        (6..=16)
            .contains(&text.len())
            .then(|| CountKey::inline(text))
    }

    fn inline(text: &[u8]) -> CountKey {
        let mut bytes = [0u8; 16];
        bytes[..text.len()].copy_from_slice(text);
        CountKey {
            bytes,
            length: text.len() as u8,
        }
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.length)]
    }

    pub fn as_str(&self) -> String {
        String::from_utf8_lossy(self.as_bytes()).into_owned()
    }

    /// The court case this count belongs to: cycle + step (`CNT_ORDER[0..6]`).
    pub fn case_key(&self) -> CaseKey {
        let mut key = [0u8; 6];
        key.copy_from_slice(&self.bytes[..6]);
        CaseKey(key)
    }

    /// The arrest/citation cycle (`CNT_ORDER[0..3]`).
    pub fn cycle(&self) -> [u8; 3] {
        [self.bytes[0], self.bytes[1], self.bytes[2]]
    }

    /// The count number within the step (`CNT_ORDER[6..9]`), for the count table; 0 when the
    /// key is not the usual digits.
    pub fn count_number(&self) -> u32 {
        let digits = self.bytes.get(6..9).unwrap_or_default();
        if self.length < 9 || !digits.iter().all(u8::is_ascii_digit) {
            return 0;
        }
        digits
            .iter()
            .fold(0, |acc, digit| acc * 10 + u32::from(digit - b'0'))
    }
}

impl fmt::Display for CountKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&String::from_utf8_lossy(self.as_bytes()))
    }
}

impl fmt::Debug for CountKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, formatter)
    }
}

/// Cycle + step: one court case (`CNT_ORDER[0..6]`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct CaseKey(pub [u8; 6]);

/// Where a record came from: the input file (index into the run's file list), the 0-based data
/// row within that file (gogen's "Index") and the 1-based physical line it starts on.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct RowRef {
    pub file: u16,
    pub row: u32,
    pub line: u32,
}

/// Index of a county name in the run's county table (see `ingest::Ingested::counties`).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct CountyId(pub u16);

/// The level of a conviction, from `CONV_STAT_DESCR`, or `OFFENSE_TOC` when that is blank.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Felony,
    Misdemeanor,
    Infraction,
    Unknown,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Felony => "felony",
            Level::Misdemeanor => "misdemeanor",
            Level::Infraction => "infraction",
            Level::Unknown => "unknown",
        }
    }
}

/// One count the person was convicted of (first row of its `CNT_ORDER`; later rows of the same
/// count added their sentence parts).
#[derive(Clone, Debug)]
pub struct Conviction {
    pub count_key: CountKey,
    pub source: RowRef,
    pub county: CountyId,
    /// Text before the first `-` of the offence (or of COMMENT_TEXT when redirected), untrimmed:
    /// exactly what gogen calls the code section and lists in its superstrike columns.
    pub raw_code_section: Box<str>,
    /// The whole offence text as recorded (OFFENSE_DESCR, or COMMENT_TEXT when redirected).
    pub offense_text: Box<str>,
    pub offense: Option<CodeSection>,
    /// The charge came from COMMENT_TEXT (`SEE COMMENT FOR CHARGE`).
    pub charge_from_comment: bool,
    /// COMMENT_TEXT when it is not where the charge came from and is not blank (it sometimes
    /// names a different charge than the offence text).
    pub comment_text: Option<Box<str>>,
    pub level: Level,
    /// gogen's felony test: `CONV_STAT_DESCR == "FELONY"`, or blank with `OFFENSE_TOC == "F"`.
    pub gogen_felony: bool,
    /// STP_EVENT_DATE of the court step: the conviction (disposition) date.
    pub date: Option<Date>,
    /// CYC_DATE: the arrest or citation date, the best proxy for the date of the offence.
    pub cycle_date: Option<Date>,
    /// CYC_AGE, when recorded.
    pub age_at_cycle: Option<u16>,
    /// Dates recorded but invalid (the fields above are then `None`).
    pub invalid_dates: InvalidDates,
    pub sentence: Sentence,
    /// DISP_DESCR as recorded (`CONVICTED-PROBATION`), for display.
    pub disposition: Box<str>,
}

impl Conviction {
    /// The date of the offence, as best the record shows it: the cycle's arrest or citation date
    /// when recorded, else the conviction date (the offence was on or before it). One notion for
    /// every rule that asks "at the time of the offence" (Prop 64's date, age bands).
    pub fn offense_date(&self) -> Option<(Date, OffenseDateSource)> {
        match (self.cycle_date, self.date) {
            (Some(cycle), _) => Some((cycle, OffenseDateSource::ArrestOrCitation)),
            (None, Some(conviction)) => Some((conviction, OffenseDateSource::Conviction)),
            (None, None) => None,
        }
    }
}

/// What a sentence part is, from `SENT_LOC_DESCR`: parts of different kinds run from different
/// starts, so they are kept apart instead of being added up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentenceKind {
    /// Jail or prison (`JAIL`, `PRISON`, `CDC`): runs from the conviction date.
    Custody,
    /// Probation, formal or summary: runs from the conviction date, with any jail served as a
    /// condition of it inside that time.
    Probation,
    /// Parole, post-release community supervision (PRCS) or mandatory supervision: follows the
    /// custody term.
    Supervision,
    /// A location the rules do not know, or none: counted from the conviction date, flagged.
    Unknown,
}

/// Whether `haystack` contains `needle` in any ASCII case, without allocating an upper-cased
/// copy (this runs on every sentence row and every prior's offence text).
pub fn contains_ignoring_ascii_case(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|window| window.eq_ignore_ascii_case(needle))
}

impl SentenceKind {
    /// Classifies `SENT_LOC_DESCR` (`JAIL`, `PROBATION`, `PRISON`, `PAROLE`, `PRCS`, ...).
    pub fn from_location(location: &[u8]) -> SentenceKind {
        let has = |word: &[u8]| contains_ignoring_ascii_case(location, word);
        if has(b"PROB") {
            SentenceKind::Probation
        } else if has(b"PAROLE") || has(b"PRCS") || has(b"SUPERVISION") || has(b"POST RELEASE") {
            SentenceKind::Supervision
        } else if has(b"JAIL") || has(b"PRISON") || has(b"CDC") || has(b"CUSTODY") {
            SentenceKind::Custody
        } else {
            SentenceKind::Unknown
        }
    }
}

/// A length in calendar units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Term {
    pub days: u32,
    pub months: u32,
    pub years: u32,
}

impl Term {
    fn add(&mut self, other: Term) {
        self.days += other.days;
        self.months += other.months;
        self.years += other.years;
    }

    fn is_empty(self) -> bool {
        self.days == 0 && self.months == 0 && self.years == 0
    }

    /// The day this term ends when it starts on `start`, counting calendar years and months.
    pub fn end_from(self, start: Date) -> Date {
        start
            .add_months_clamped((self.years * 12 + self.months) as i32)
            .add_days(self.days as i32)
    }
}

/// The sentence of one count, by kind: parts of one kind add up (they are served one after the
/// other); kinds run from their own starts (see [`Sentence::end_date`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Sentence {
    pub custody: Term,
    pub probation: Term,
    pub supervision: Term,
    pub unknown_kind: Term,
    /// Some part had a length or unit that could not be read.
    pub has_unreadable_part: bool,
}

impl Sentence {
    /// The day the whole sentence ends. Custody and probation run from the conviction date
    /// (jail as a condition of probation is served within it); parole, PRCS and mandatory
    /// supervision follow the custody term; a part of unknown kind runs from the conviction
    /// date. The sentence ends when its last part does.
    pub fn end_date(&self, conviction_date: Date) -> Date {
        let custody_end = self.custody.end_from(conviction_date);
        let supervision_end = self.supervision.end_from(custody_end);
        let probation_end = self.probation.end_from(conviction_date);
        let unknown_end = self.unknown_kind.end_from(conviction_date);
        supervision_end.max(probation_end).max(unknown_end)
    }

    /// True when some part's kind or length could not be read: the end date may be wrong.
    pub fn is_uncertain(&self) -> bool {
        self.has_unreadable_part || !self.unknown_kind.is_empty()
    }

    /// Adds one part.
    pub fn add_part(&mut self, kind: SentenceKind, term: Term) {
        match kind {
            SentenceKind::Custody => self.custody.add(term),
            SentenceKind::Probation => self.probation.add(term),
            SentenceKind::Supervision => self.supervision.add(term),
            SentenceKind::Unknown => self.unknown_kind.add(term),
        }
    }

    /// Adds another part (or sum of parts) of the same count's sentence.
    pub fn add(&mut self, other: &Sentence) {
        self.custody.add(other.custody);
        self.probation.add(other.probation);
        self.supervision.add(other.supervision);
        self.unknown_kind.add(other.unknown_kind);
        self.has_unreadable_part |= other.has_unreadable_part;
    }
}

/// Where the offence date of a conviction comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffenseDateSource {
    /// The cycle's arrest or citation date (`CYC_DATE`).
    ArrestOrCitation,
    /// The conviction date, because no arrest or citation date is recorded: the offence was on
    /// or before it.
    Conviction,
}

/// Dates of a record that were present but not valid (`20191345`): kept apart from dates that
/// are not recorded, so reasons can say which.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InvalidDates {
    pub conviction: bool,
    pub cycle: bool,
}

/// A court case (cycle + step) and the case number(s) recorded on its court rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CourtCase {
    pub key: CaseKey,
    /// Distinct non-blank OFN values of the court step, in first-seen order, untrimmed.
    pub case_numbers: Vec<CaseNumber>,
}

/// One person of the DOJ file with everything the rules need.
#[derive(Clone, Debug)]
pub struct Person {
    pub subject_id: SubjectId,
    pub cii: Cii,
    pub name: PersonName,
    pub dob: Option<Date>,
    /// A date of birth was recorded but is not a possible one (not a calendar date, before 1900,
    /// or after the person's own record dates); `dob` is then `None`.
    pub dob_invalid: bool,
    /// Any `DECEASED` step.
    pub deceased: bool,
    /// Dates of `REGISTRATION` steps whose offence starts with `290` (None = undated).
    pub pc290_registrations: Vec<Option<Date>>,
    pub convictions: Vec<Conviction>,
    pub court_cases: Vec<CourtCase>,
}

impl Person {
    /// Case numbers of a court case, `; `-joined as gogen prints them.
    pub fn case_numbers_joined(&self, key: CaseKey) -> String {
        self.case_numbers(key)
            .iter()
            .map(CaseNumber::as_str)
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub fn case_numbers(&self, key: CaseKey) -> &[CaseNumber] {
        self.court_cases
            .iter()
            .find(|case| case.key == key)
            .map_or(&[], |case| &case.case_numbers)
    }

    /// The latest known conviction date of any kind in any county.
    pub fn most_recent_conviction_date(&self) -> Option<Date> {
        self.convictions.iter().filter_map(|c| c.date).max()
    }

    pub fn has_pc290_registration(&self) -> bool {
        !self.pc290_registrations.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_in_natural_case() {
        for (doj, natural) in [
            ("SMITH,JOHN Q", "John Q Smith"),
            ("O'BRIEN, MARY-KATE", "Mary-Kate O'Brien"),
            ("MCDONALD,RONALD III", "Ronald III McDonald"),
            ("GARCIA-LOPEZ,JOSÉ", "José Garcia-Lopez"),
            ("MC,AL", "Al Mc"),
            ("de la Cruz, Ana", "Ana de la Cruz"),
            ("PRINCE", "Prince"),
        ] {
            assert_eq!(PersonName(doj.into()).natural_case(), natural, "{doj}");
        }
    }

    #[test]
    fn count_keys_are_twelve_digits() {
        let key = CountKey::parse_strict(b"101002003000").unwrap();
        assert_eq!(key.case_key(), CaseKey(*b"101002"));
        assert_eq!(key.cycle(), *b"101");
        assert_eq!(key.count_number(), 3);
        for bad in [
            &b""[..],
            b"10100200300",
            b"1010020030000",
            b"10100200300x",
            b" 01002003000",
        ] {
            assert!(CountKey::parse_strict(bad).is_none(), "{bad:?}");
        }
        let lenient = CountKey::parse_lenient(b"101001").unwrap();
        assert_eq!(lenient.case_key(), CaseKey(*b"101001"));
        assert_eq!(lenient.count_number(), 0);
        assert!(CountKey::parse_lenient(b"10100").is_none());
    }

    #[test]
    fn names_in_natural_order() {
        assert_eq!(
            PersonName("SKYWALKER,LUKE S".into()).natural_order(),
            "LUKE S SKYWALKER"
        );
        assert_eq!(PersonName("CHER".into()).natural_order(), "CHER");
    }

    #[test]
    fn sentence_end_counts_calendar_units() {
        let date = Date::from_ymd(2015, 1, 31).unwrap();
        let mut sentence = Sentence::default();
        sentence.add_part(
            SentenceKind::Custody,
            Term {
                days: 10,
                months: 1,
                years: 1,
            },
        );
        assert_eq!(
            sentence.end_date(date),
            Date::from_ymd(2016, 3, 10).unwrap()
        );
    }

    #[test]
    fn sentence_parts_run_from_their_own_starts() {
        let date = Date::from_ymd(2015, 1, 1).unwrap();
        let months = |months| Term {
            months,
            ..Term::default()
        };
        // Six months of jail as a condition of three years' probation: three years, not 3.5.
        let mut probation = Sentence::default();
        probation.add_part(SentenceKind::Custody, months(6));
        probation.add_part(SentenceKind::Probation, months(36));
        assert_eq!(
            probation.end_date(date),
            Date::from_ymd(2018, 1, 1).unwrap()
        );
        // Two years of prison, then a year of parole.
        let mut prison = Sentence::default();
        prison.add_part(SentenceKind::Custody, months(24));
        prison.add_part(SentenceKind::Supervision, months(12));
        assert_eq!(prison.end_date(date), Date::from_ymd(2018, 1, 1).unwrap());
        assert!(!prison.is_uncertain());
        let mut unknown = Sentence::default();
        unknown.add_part(SentenceKind::Unknown, months(1));
        assert!(unknown.is_uncertain());
        for (location, kind) in [
            (&b"PROBATION"[..], SentenceKind::Probation),
            (b"COUNTY JAIL", SentenceKind::Custody),
            (b"PRISON", SentenceKind::Custody),
            (b"PAROLE", SentenceKind::Supervision),
            (b"MANDATORY SUPERVISION", SentenceKind::Supervision),
            (b"", SentenceKind::Unknown),
            (b"FINE", SentenceKind::Unknown),
            // Hand-typed lists: any case, any padding.
            (b" county jail ", SentenceKind::Custody),
            (b"Prcs", SentenceKind::Supervision),
        ] {
            assert_eq!(SentenceKind::from_location(location), kind, "{location:?}");
        }
    }
}

/// Builders for tests: people and convictions in a few words.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    /// `YYYY-MM-DD` or empty (unknown).
    pub(crate) fn date(text: &str) -> Option<Date> {
        if text.is_empty() {
            None
        } else {
            Some(Date::parse_iso(text).expect("test date"))
        }
    }

    pub(crate) fn person(dob: &str) -> Person {
        Person {
            subject_id: SubjectId("S1".into()),
            cii: Cii("0000000001".into()),
            name: PersonName("DOE,JANE".into()),
            dob: date(dob),
            dob_invalid: false,
            deceased: false,
            pc290_registrations: Vec::new(),
            convictions: Vec::new(),
            court_cases: Vec::new(),
        }
    }

    /// A conviction in county 0 (the processed county in tests), count key from `index`.
    pub(crate) fn conviction(offense: &str, level: Level, conviction_date: &str) -> Conviction {
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(1);
        let index = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 999 + 1;
        let key = format!("{index:03}002001000");
        Conviction {
            count_key: CountKey::parse_strict(key.as_bytes()).expect("test key"),
            source: RowRef {
                file: 0,
                row: index,
                line: index + 1,
            },
            county: CountyId(0),
            raw_code_section: offense.split('-').next().unwrap_or_default().into(),
            offense_text: offense.into(),
            offense: parse_offense(offense).section,
            charge_from_comment: false,
            comment_text: None,
            level,
            gogen_felony: level == Level::Felony,
            date: date(conviction_date),
            cycle_date: date(conviction_date).map(|date| date.add_days(-30)),
            age_at_cycle: None,
            invalid_dates: InvalidDates::default(),
            sentence: Sentence::default(),
            disposition: "CONVICTED-PROBATION".into(),
        }
    }
}
