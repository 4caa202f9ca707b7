//! Which statutes an offence is: Prop 64 sections, super strikes, PC 290 offences, related
//! charges.
//!
//! Two families live here on purpose. clearance's own matchers work on parsed [`CodeSection`]s and
//! a data table (`disqualifying_offenses.toml`), so `11357.5` is not `11357` and `237 PC` is not
//! `37 PC`. The gogen matchers reproduce Code for America's unanchored regular expressions byte
//! for byte, false positives included, because the compatibility mode must decide as gogen did.

use std::sync::OnceLock;

use regex::bytes::Regex as BytesRegex;
use regex::{Regex, RegexSet};

use crate::model::{CodeSection, LawCode};

// ---------------------------------------------------------------------------------------------
// clearance's matchers

/// The sections Prop 64 relief reaches (HS 11361.8).
pub const PROP64_SECTIONS: [&str; 5] = ["11357", "11358", "11359", "11360", "11362.1"];

/// True for a conviction under HS 11357–11360 or 11362.1 (attempts included; records without
/// code letters included, since clerks often omit them).
pub fn is_prop64(section: &CodeSection) -> bool {
    PROP64_SECTIONS.contains(&&*section.section)
        && matches!(section.code, None | Some(LawCode::HealthAndSafety))
}

/// A Prop 64 section under any code: clearance's own (`is_prop64`) or recorded under another
/// code (`is_prop64_with_unexpected_code`).
pub fn is_prop64_section_any_code(section: &CodeSection) -> bool {
    PROP64_SECTIONS.contains(&&*section.section)
}

/// A Prop 64 section recorded under another code (`11357(A)PC`): treated as Prop 64, flagged.
pub fn is_prop64_with_unexpected_code(section: &CodeSection) -> bool {
    PROP64_SECTIONS.contains(&&*section.section)
        && !matches!(section.code, None | Some(LawCode::HealthAndSafety))
}

/// Which disqualifier a prior offence falls under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DisqualifierList {
    /// PC 667(e)(2)(C)(iv), the "super strikes".
    Superstrike,
    /// Offences requiring registration under PC 290(c).
    Pc290,
}

/// One entry of the disqualifying-offence table (`disqualifying_offenses.toml`).
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OffenseEntry {
    /// Only in `[[form-unknown]]`: which list the offence belongs to in its disqualifying form.
    #[serde(default)]
    pub list: Option<DisqualifierList>,
    pub code: String,
    pub section: String,
    /// Allowed subsection prefixes; `None` allows any.
    #[serde(default)]
    pub subsections: Option<Vec<String>>,
    #[serde(default)]
    pub attempts: bool,
    /// The clause that makes the offence disqualifying (`PC 667(e)(2)(C)(iv)(V)`).
    pub clause: String,
    pub note: String,
    /// Only in `[[form-unknown]]`: the form in which the offence disqualifies.
    #[serde(default)]
    pub form: Option<String>,
    /// Only in `[[form-unknown]]`: text that, in the offence or in another count of the same
    /// court case, shows the disqualifying form.
    #[serde(default)]
    pub shown_by: Option<String>,
    /// An offence text the entry must match (checked by the table test).
    pub positive: String,
    /// An offence text the entry must not match (checked by the table test).
    pub negative: String,
}

impl OffenseEntry {
    fn matches(&self, section: &CodeSection) -> bool {
        if *section.section != *self.section {
            return false;
        }
        let code_matches = section
            .code
            .as_ref()
            .is_none_or(|code| code.abbreviation() == self.code);
        if !code_matches || (section.attempt && !self.attempts) {
            return false;
        }
        match &self.subsections {
            None => true,
            Some(allowed) => allowed.iter().any(|prefix| {
                if prefix.is_empty() {
                    section.subsections.is_empty()
                } else {
                    section.subsections.starts_with(prefix.as_str())
                }
            }),
        }
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct OffenseTable {
    superstrike: Vec<OffenseEntry>,
    pc290: Vec<OffenseEntry>,
    form_unknown: Vec<OffenseEntry>,
}

fn table() -> &'static OffenseTable {
    static TABLE: OnceLock<OffenseTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        // The table is part of the program; a parse failure is a bug caught by the unit tests.
        toml::from_str(include_str!("disqualifying_offenses.toml"))
            .expect("disqualifying_offenses.toml is valid")
    })
}

/// What a prior conviction's offence means for the disqualifiers.
#[derive(Clone, Copy, Debug)]
pub enum PriorOffense {
    /// The offence disqualifies under `list`; the entry names the clause.
    Disqualifying {
        list: DisqualifierList,
        entry: &'static OffenseEntry,
    },
    /// The offence disqualifies only in a form the record does not show.
    FormUnknown(&'static OffenseEntry),
}

impl PriorOffense {
    pub fn entry(self) -> &'static OffenseEntry {
        match self {
            PriorOffense::Disqualifying { entry, .. } | PriorOffense::FormUnknown(entry) => entry,
        }
    }
}

/// Classifies a prior offence: a super strike first, then a PC 290(c) offence, then an offence
/// that disqualifies only in a form the record must show. `shows_form(text)` says whether the
/// record shows a form's marker text (in the offence or in another count of its court case).
pub fn prior_offense(
    section: &CodeSection,
    shows_form: impl Fn(&str) -> bool,
) -> Option<PriorOffense> {
    let table = table();
    let definite = |list: DisqualifierList, entries: &'static [OffenseEntry]| {
        entries
            .iter()
            .find(|entry| entry.matches(section))
            .map(|entry| PriorOffense::Disqualifying { list, entry })
    };
    if let Some(found) = definite(DisqualifierList::Superstrike, &table.superstrike)
        .or_else(|| definite(DisqualifierList::Pc290, &table.pc290))
    {
        return Some(found);
    }
    let entry = table
        .form_unknown
        .iter()
        .find(|entry| entry.matches(section))?;
    match (&entry.shown_by, entry.list) {
        (Some(marker), Some(list)) if shows_form(marker) => {
            Some(PriorOffense::Disqualifying { list, entry })
        }
        _ => Some(PriorOffense::FormUnknown(entry)),
    }
}

/// Charges often filed alongside a marijuana count that some counties dismiss with it.
pub const DEFAULT_RELATED_CHARGES: [(&str, &str, &str); 13] = [
    ("PC", "647", "(f)"),
    ("PC", "602", ""),
    ("PC", "148", ""),
    ("PC", "148.9", ""),
    ("PC", "466", ""),
    ("PC", "1320", ""),
    ("HS", "11364", ""),
    ("HS", "11550", ""),
    ("BP", "4060", ""),
    ("BP", "4140", ""),
    ("BP", "4149", ""),
    ("VC", "40508", ""),
    ("PC", "32", ""),
];

/// True when `section` is `code section subsection-prefix` (empty prefix: any subsection).
pub fn section_is(
    section: &CodeSection,
    code: &str,
    number: &str,
    subsection_prefix: &str,
) -> bool {
    *section.section == *number
        && section
            .code
            .as_ref()
            .is_none_or(|recorded| recorded.abbreviation() == code)
        && section.subsections.starts_with(subsection_prefix)
}

// ---------------------------------------------------------------------------------------------
// gogen's matchers, reproduced exactly

fn gogen_prop64_regex() -> &'static BytesRegex {
    static REGEX: OnceLock<BytesRegex> = OnceLock::new();
    REGEX.get_or_init(|| BytesRegex::new("11357|11358|11359|11360").expect("valid regex"))
}

/// gogen's `IsProp64Charge`: the unanchored `(11357|11358|11359|11360)`. Matches attempts and
/// missing letters, and also, falsely, `11357.5`.
pub fn gogen_matches_prop64(code_section: &[u8]) -> bool {
    gogen_prop64_regex().is_match(code_section)
}

/// gogen's `ExtractProp64Section`: the first of the four numbers found.
pub fn gogen_prop64_section(code_section: &str) -> Option<&'static str> {
    let found = gogen_prop64_regex().find(code_section.as_bytes())?;
    ["11357", "11358", "11359", "11360"]
        .into_iter()
        .find(|section| section.as_bytes() == found.as_bytes())
}

/// gogen's `Extract11357SubSection`: `11357\(([A-D])\)`, upper case only.
pub fn gogen_11357_subsection(code_section: &str) -> Option<char> {
    static REGEX: OnceLock<Regex> = OnceLock::new();
    let regex = REGEX.get_or_init(|| Regex::new(r"11357\(([A-D])\)").expect("valid regex"));
    regex
        .captures(code_section)
        .and_then(|captures| captures.get(1))
        .and_then(|letter| letter.as_str().chars().next())
}

/// gogen's superstrike patterns. Go's `\d` is ASCII-only, hence `[0-9]`.
const GOGEN_SUPERSTRIKE_PATTERNS: [&str; 38] = [
    r"37 PC",
    r"128 PC",
    r"((136\.1)|(215)|(213\(A\)\(1\)\(A\))|(246)|(519)|(12022\.55)).*186\.22\(B\)\(4\) PC",
    r"186\.22\(B\)\(4\).*((136\.1)|(215)|(213\(A\)\(1\)\(A\))|(246)|(519)|(12022\.55)) PC",
    r"187 PC",
    r"188 PC",
    r"189(\.[15])? PC",
    r"190(\.[0-9]{1,2})?(\(.*\))? PC",
    r"191(\.5)? PC",
    r"205 PC",
    r"207 PC",
    r"209(\.5)? PC",
    r"217\.1 PC",
    r"218 PC",
    r"219 PC",
    r"220 PC",
    r"245\(D\)\(3\) PC",
    r"261(\(.*\))? PC",
    r"262(\(.*\))? PC",
    r"264\.1 PC",
    r"269 PC",
    r"273AB(\(.*\))? PC",
    r"286((\(C\)\([123]\)(\([ABC]\))?)|(\(D\)\([123]\)))? PC",
    r"287 PC",
    r"288((\(A\))|(\(B\)\([12]\)))? PC",
    r"288A((\(D\))|(\(C\)\(1\))|(\(C\)\(2\)\([ABC]\)))? PC",
    r"288\.5(\(A\))? PC",
    r"289((\(J\))|(\(A\)\(1\)\([ABC]\))|(\(A\)\(2\)\(C\)))? PC",
    r"451\.5 PC",
    r"653F PC",
    r"667\.(61|7|71) PC",
    r"4500 PC",
    r"11418((\(A\)\(1\))|(\(B\)\([12]\))) PC",
    r"12308 PC",
    r"12310 PC",
    r"18745 PC",
    r"18755 PC",
    r"1672\(A\) MV",
];

const GOGEN_PC290_PATTERNS: [&str; 30] = [
    r"236\.1\([BC]\)(.*) PC",
    r"243\.4(.*) PC",
    r"261 PC",
    r"261(\(|\.|[a-zA-Z])+(.*) PC",
    r"262\(A\)(\(1\))? PC",
    r"264\.1(\((.*))? PC",
    r"266 PC",
    r"266C PC",
    r"266H\(B\)(.*) PC",
    r"266I\(B\)(.*) PC",
    r"266J PC",
    r"267 PC",
    r"269 PC",
    r"269(\(|\.|[a-zA-Z])+(.*) PC",
    r"272 PC",
    r"285 PC",
    r"287 PC",
    r"286([^\.]*) PC",
    r"288 PC",
    r"288A(.*) PC",
    r"288\.[23457](.*) PC",
    r"289([^\.]*) PC",
    r"311\.1(.*) PC",
    r"311\.2\([BCD]\) PC",
    r"311\.([34]|10|11)(.*) PC",
    r"314\([12]\) PC",
    r"451\.5 PC",
    r"647\.6(.*) PC",
    r"647A(.*) PC",
    r"653F\([BC]\) PC",
];

/// gogen's `IsSuperstrike` on a raw code section.
pub fn gogen_is_superstrike(code_section: &str) -> bool {
    static SET: OnceLock<RegexSet> = OnceLock::new();
    SET.get_or_init(|| RegexSet::new(GOGEN_SUPERSTRIKE_PATTERNS).expect("valid regexes"))
        .is_match(code_section)
}

/// gogen's `IsPC290` on a raw code section.
pub fn gogen_is_pc290(code_section: &str) -> bool {
    static SET: OnceLock<RegexSet> = OnceLock::new();
    SET.get_or_init(|| RegexSet::new(GOGEN_PC290_PATTERNS).expect("valid regexes"))
        .is_match(code_section)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::parse_offense;

    fn section(text: &str) -> CodeSection {
        parse_offense(text).section.unwrap()
    }

    fn classify(text: &str) -> Option<PriorOffense> {
        let upper = text.to_ascii_uppercase();
        prior_offense(&section(text), |marker| upper.contains(marker))
    }

    /// Every entry's own positive example matches it and its negative example does not; the
    /// positive one is classified by that entry (no earlier entry shadows it).
    #[test]
    fn every_entry_has_a_positive_and_a_negative_example() {
        let table = table();
        assert!(table.superstrike.len() > 40);
        assert!(table.pc290.len() > 30);
        assert!(table.form_unknown.len() >= 10);
        for entry in table
            .superstrike
            .iter()
            .chain(&table.pc290)
            .chain(&table.form_unknown)
        {
            assert!(
                entry.matches(&section(&entry.positive)),
                "{} should match its entry {} {}",
                entry.positive,
                entry.code,
                entry.section
            );
            assert!(
                !entry.matches(&section(&entry.negative)),
                "{} should not match its entry {} {}",
                entry.negative,
                entry.code,
                entry.section
            );
            let found = classify(&entry.positive).expect("positive example is classified");
            assert!(
                std::ptr::eq(found.entry(), entry)
                    || table
                        .superstrike
                        .iter()
                        .any(|earlier| std::ptr::eq(earlier, found.entry())),
                "{} is classified by another entry: {:?}",
                entry.positive,
                found.entry()
            );
            assert!(entry.clause.starts_with("PC "), "{}", entry.clause);
            assert_eq!(
                entry.list.is_some(),
                entry.form.is_some(),
                "list and form go together: {}",
                entry.section
            );
        }
        for entry in &table.form_unknown {
            assert!(
                entry.list.is_some() && entry.form.is_some(),
                "{}",
                entry.section
            );
        }
    }

    fn list_of(text: &str) -> Option<DisqualifierList> {
        match classify(text)? {
            PriorOffense::Disqualifying { list, .. } => Some(list),
            PriorOffense::FormUnknown(_) => None,
        }
    }

    fn form_unknown(text: &str) -> bool {
        matches!(classify(text), Some(PriorOffense::FormUnknown(_)))
    }

    #[test]
    fn attempts_of_pc290_offences_disqualify_but_attempts_of_most_super_strikes_do_not() {
        for text in [
            "664/288(A) PC-ATTEMPTED LEWD ACT",
            "664/261(A)(2) PC-ATTEMPTED RAPE",
            "664/286(C)(2) PC-ATTEMPTED SODOMY",
        ] {
            assert_eq!(list_of(text), Some(DisqualifierList::Pc290), "{text}");
            assert!(
                classify(text).unwrap().entry().clause.contains("290(c)"),
                "{text}"
            );
        }
        assert_eq!(
            list_of("664/187 PC-ATTEMPTED MURDER"),
            Some(DisqualifierList::Superstrike)
        );
        assert!(classify("664/451.5 PC-ATTEMPTED AGG ARSON").is_none());
        assert!(classify("664/209 PC-ATTEMPTED KIDNAP FOR RANSOM").is_none());
    }

    #[test]
    fn solicitation_of_murder_is_a_super_strike_under_clause_v_not_pc290() {
        let murder = classify("653F(B) PC-SOLICIT MURDER").unwrap();
        assert!(matches!(
            murder,
            PriorOffense::Disqualifying {
                list: DisqualifierList::Superstrike,
                ..
            }
        ));
        assert_eq!(murder.entry().clause, "PC 667(e)(2)(C)(iv)(V)");
        let sex = classify("653F(C) PC-SOLICIT SEX OFFENSE").unwrap();
        assert_eq!(sex.entry().clause, "PC 290(c)(1)");
        assert!(classify("653F(A) PC-SOLICIT ROBBERY").is_none());
        assert!(form_unknown("653F PC-SOLICIT"));
    }

    #[test]
    fn offences_that_disqualify_only_in_some_forms_need_the_form() {
        // Kidnapping: registrable only with sexual intent, which the record does not show.
        assert!(form_unknown("207(A) PC-KIDNAPPING"));
        // Kidnapping for ransom or robbery carries life: always a super strike.
        assert_eq!(
            list_of("209(A) PC-KIDNAP FOR RANSOM"),
            Some(DisqualifierList::Superstrike)
        );
        assert!(classify("217.1(A) PC-ASSAULT PUBLIC OFFICIAL").is_none());
        assert_eq!(
            list_of("217.1(B) PC-ATTEMPT MURDER OFFICIAL"),
            Some(DisqualifierList::Superstrike)
        );
        assert!(form_unknown("217.1 PC-ASSAULT PUBLIC OFFICIAL"));
        assert_eq!(
            list_of("220(B) PC-ASLT W/INT RAPE DURING BURGLARY"),
            Some(DisqualifierList::Superstrike)
        );
        assert!(form_unknown("220(A)(1) PC-ASSAULT W/INTENT MAYHEM/RAPE"));
        assert!(form_unknown("220 PC-ASSAULT W/INTENT"));
        // Gang-enhanced felonies: the marker in the record shows the life term.
        assert!(form_unknown("136.1(C)(1) PC-DISSUADE WITNESS"));
        assert_eq!(
            list_of("136.1(C)(1) PC 186.22(B)(4) PC-DISSUADE WITNESS GANG"),
            Some(DisqualifierList::Superstrike)
        );
        assert!(form_unknown("215(A) PC-CARJACKING"));
    }

    #[test]
    fn ordinary_offences_are_not_disqualifying() {
        for text in [
            "237 PC-FALSE IMPRISONMENT",
            "245(A)(1) PC-ASSAULT WITH DEADLY WEAPON",
            "261.5 PC-UNLAWFUL SEX WITH MINOR",
            "647(F) PC-DISORDERLY CONDUCT",
            "290 PC-REGISTRATION",
            "11360(A) HS-SELL MARIJUANA",
            "187 VC-NOT PENAL",
            "459 PC-BURGLARY",
        ] {
            assert!(classify(text).is_none(), "{text}");
        }
    }

    #[test]
    fn prop64_scope_is_exact() {
        for text in [
            "11357(B) HS",
            "11358 HS",
            "11359HS",
            "11360(A) HS",
            "11362.1 HS",
            "664/11357 HS",
            "11357(A)",
        ] {
            assert!(is_prop64(&section(text)), "{text}");
        }
        for text in [
            "11357.5 HS",
            "11350 HS",
            "11364 HS",
            "11366 HS",
            "1135 HS",
            "11357(A)PC",
        ] {
            assert!(!is_prop64(&section(text)), "{text}");
        }
        assert!(is_prop64_with_unexpected_code(&section("11357(A)PC")));
    }

    #[test]
    fn gogen_matchers_keep_gogen_quirks() {
        assert!(gogen_matches_prop64(b"11357.5 HS"));
        assert!(gogen_matches_prop64(b"66411357(A) HS"));
        assert!(!gogen_matches_prop64(b"664"));
        assert_eq!(gogen_prop64_section("664/11360(A) HS"), Some("11360"));
        assert_eq!(gogen_11357_subsection("11357(C)HS"), Some('C'));
        assert_eq!(gogen_11357_subsection("11357(c)HS"), None);
        assert!(gogen_is_superstrike("237 PC"));
        assert!(gogen_is_superstrike("220 PC"));
        assert!(!gogen_is_superstrike("187PC"));
        assert!(gogen_is_superstrike("190.2(A) PC"));
        assert!(gogen_is_pc290("314(1) PC"));
        assert!(gogen_is_pc290("261.5 PC"));
        assert!(!gogen_is_pc290("653F(A) PC"));
    }
}
