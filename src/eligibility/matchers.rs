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

/// A Prop 64 section recorded under another code (`11357(A)PC`): treated as Prop 64, flagged.
pub fn is_prop64_with_unexpected_code(section: &CodeSection) -> bool {
    PROP64_SECTIONS.contains(&&*section.section)
        && !matches!(section.code, None | Some(LawCode::HealthAndSafety))
}

/// One entry of the disqualifying-offence table.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OffenseEntry {
    pub code: String,
    pub section: String,
    /// Allowed subsection prefixes; `None` allows any.
    #[serde(default)]
    pub subsections: Option<Vec<String>>,
    #[serde(default)]
    pub attempts: bool,
    #[serde(default)]
    pub with: Option<String>,
    pub note: String,
}

impl OffenseEntry {
    fn matches(&self, section: &CodeSection, offense_text: &str) -> bool {
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
        if let Some(required) = &self.with
            && !offense_text
                .to_ascii_uppercase()
                .contains(required.as_str())
        {
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
#[serde(deny_unknown_fields)]
struct OffenseTable {
    superstrike: Vec<OffenseEntry>,
    pc290: Vec<OffenseEntry>,
}

fn table() -> &'static OffenseTable {
    static TABLE: OnceLock<OffenseTable> = OnceLock::new();
    TABLE.get_or_init(|| {
        // The table is part of the program; a parse failure is a bug caught by the unit tests.
        toml::from_str(include_str!("disqualifying_offenses.toml"))
            .expect("disqualifying_offenses.toml is valid")
    })
}

/// The super-strike entry (PC 667(e)(2)(C)(iv)) an offence matches, if any.
pub fn superstrike(section: &CodeSection, offense_text: &str) -> Option<&'static OffenseEntry> {
    table()
        .superstrike
        .iter()
        .find(|entry| entry.matches(section, offense_text))
}

/// The PC 290(c) registrable-offence entry an offence matches, if any.
pub fn pc290_offense(section: &CodeSection, offense_text: &str) -> Option<&'static OffenseEntry> {
    table()
        .pc290
        .iter()
        .find(|entry| entry.matches(section, offense_text))
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

    #[test]
    fn the_table_loads_and_every_entry_is_reachable() {
        let table = table();
        assert!(table.superstrike.len() > 40);
        assert!(table.pc290.len() > 25);
        for entry in table.superstrike.iter().chain(&table.pc290) {
            let subsection = entry
                .subsections
                .as_ref()
                .and_then(|allowed| allowed.first().cloned())
                .unwrap_or_default();
            let text = format!(
                "{}{} {}{}",
                entry.section.to_ascii_uppercase(),
                subsection.to_ascii_uppercase(),
                entry.code,
                entry
                    .with
                    .as_ref()
                    .map(|with| format!(" {with}"))
                    .unwrap_or_default()
            );
            let parsed = section(&text);
            assert!(
                entry.matches(&parsed, &text),
                "{text} should match its own entry"
            );
        }
    }

    /// Positive and negative examples for the super-strike list (PC 667(e)(2)(C)(iv)).
    #[test]
    fn superstrike_examples() {
        let positives = [
            "37 PC-TREASON",
            "128 PC-PERJURY",
            "187 PC-MURDER:SECOND DEGREE",
            "664/187 PC-ATTEMPTED MURDER",
            "188 PC-MURDER",
            "189 PC-MURDER:FIRST DEGREE",
            "189.5 PC-MURDER",
            "190 PC-MURDER",
            "190.2(A)(17) PC-SPECIAL CIRCUMSTANCES",
            "191.5 PC-GROSS VEH MANSLAUGHTER",
            "191.5(A) PC-GROSS VEH MANSLAUGHTER",
            "205 PC-AGGRAVATED MAYHEM",
            "207 PC-KIDNAPPING",
            "209 PC-KIDNAP FOR RANSOM",
            "209.5 PC-KIDNAP DURING CARJACKING",
            "217.1 PC-ASSAULT PUBLIC OFFICIAL",
            "218 PC-TRAIN WRECKING",
            "219 PC-TRAIN WRECKING",
            "220 PC-ASSAULT W/INTENT MAYHEM",
            "245(D)(3) PC-ASLT W/MACHINEGUN ON OFFICER",
            "261 PC-RAPE",
            "261(A)(2) PC-RAPE BY FORCE",
            "262(A)(1) PC-SPOUSAL RAPE",
            "264.1 PC-RAPE IN CONCERT",
            "269 PC-AGG SEX ASLT CHILD",
            "273AB PC-ASSAULT CHILD CAUSING DEATH",
            "286(C)(2)(A) PC-SODOMY BY FORCE",
            "286(D)(1) PC-SODOMY IN CONCERT",
            "287 PC-ORAL COPULATION",
            "288(A) PC-LEWD ACT CHILD UNDER 14",
            "288(B)(1) PC-LEWD ACT CHILD BY FORCE",
            "288A(C)(2)(A) PC-ORAL COP BY FORCE",
            "288.5(A) PC-CONTINUOUS SEX ABUSE",
            "289(A)(1)(A) PC-SEXUAL PENETRATION BY FORCE",
            "289(J) PC-SEXUAL PENETRATION",
            "451.5 PC-AGGRAVATED ARSON",
            "653F PC-SOLICIT MURDER",
            "667.61 PC-ONE STRIKE",
            "4500 PC-ASSAULT BY LIFER",
            "11418(A)(1) PC-WEAPON MASS DESTRUCTION",
            "12308 PC-EXPLODE W/INTENT MURDER",
            "12310 PC-EXPLODE CAUSING DEATH",
            "18745 PC-EXPLODE W/INTENT MURDER",
            "18755 PC-EXPLODE CAUSING DEATH",
            "1672(A) MV-MILITARY CRIME",
            "215 PC 186.22(B)(4) PC-CARJACKING GANG",
        ];
        for text in positives {
            assert!(
                superstrike(&section(text), text).is_some(),
                "{text} is a super strike"
            );
        }
        let negatives = [
            "237 PC-FALSE IMPRISONMENT",
            "1128 PC-OTHER",
            "187.5 PC-NOT A SECTION",
            "664/207 PC-ATTEMPTED KIDNAPPING",
            "245(A)(1) PC-ASSAULT WITH DEADLY WEAPON",
            "261.5 PC-UNLAWFUL SEX WITH MINOR",
            "286(B)(1) PC-SODOMY WITH MINOR",
            "288(C)(1) PC-LEWD ACT CHILD 14-15",
            "288A(B)(1) PC-ORAL COP WITH MINOR",
            "289(H) PC-SEXUAL PENETRATION MINOR",
            "653F(B) PC-SOLICIT OTHER",
            "11418(C) PC-WEAPON",
            "215 PC-CARJACKING",
            "11357(C) HS-POSSESS MARIJUANA",
            "187 VC-NOT PENAL",
            "1672(B) MV-OTHER",
        ];
        for text in negatives {
            assert!(
                superstrike(&section(text), text).is_none(),
                "{text} is not a super strike"
            );
        }
    }

    /// Positive and negative examples for the PC 290(c) list.
    #[test]
    fn pc290_examples() {
        let positives = [
            "236.1(B) PC-HUMAN TRAFFICKING",
            "236.1(C)(1) PC-HUMAN TRAFFICKING MINOR",
            "243.4(A) PC-SEXUAL BATTERY",
            "243.4 PC-SEXUAL BATTERY",
            "261(A)(1) PC-RAPE",
            "262(A)(1) PC-SPOUSAL RAPE",
            "264.1(A) PC-RAPE IN CONCERT",
            "266 PC-ENTICE MINOR",
            "266C PC-SEX BY FALSE PRETENSE",
            "266H(B)(1) PC-PIMPING MINOR",
            "266I(B)(2) PC-PANDERING MINOR",
            "266J PC-PROCURE CHILD",
            "267 PC-ABDUCT MINOR",
            "269(A)(1) PC-AGG SEX ASLT CHILD",
            "272 PC-CONTRIBUTE DELINQUENCY",
            "285 PC-INCEST",
            "286(B)(1) PC-SODOMY WITH MINOR",
            "287(B)(1) PC-ORAL COPULATION MINOR",
            "288(C)(1) PC-LEWD ACT CHILD",
            "288A(B)(1) PC-ORAL COPULATION MINOR",
            "288.2 PC-HARMFUL MATTER TO MINOR",
            "288.3(A) PC-CONTACT MINOR",
            "288.4(B) PC-MEET MINOR",
            "288.5(A) PC-CONTINUOUS ABUSE",
            "288.7(A) PC-SEX WITH CHILD",
            "289(H) PC-SEXUAL PENETRATION",
            "311.1(A) PC-OBSCENE MATTER MINOR",
            "311.2(B) PC-DISTRIBUTE OBSCENE MINOR",
            "311.3(A) PC-SEXUAL EXPLOITATION CHILD",
            "311.4(C) PC-EMPLOY MINOR OBSCENE",
            "311.10 PC-ADVERTISE OBSCENE MINOR",
            "311.11(A) PC-POSSESS CHILD PORN",
            "314(1) PC-INDECENT EXPOSURE",
            "647.6(A)(1) PC-ANNOY CHILD",
            "647A PC-ANNOY CHILD",
            "653F(C) PC-SOLICIT SEX OFFENSE",
        ];
        for text in positives {
            assert!(
                pc290_offense(&section(text), text).is_some(),
                "{text} requires registration"
            );
        }
        let negatives = [
            "236.1(A) PC-HUMAN TRAFFICKING LABOR",
            "243 PC-BATTERY",
            "261.5 PC-UNLAWFUL SEX WITH MINOR",
            "262(B) PC-OTHER",
            "266H(A) PC-PIMPING",
            "266I(A) PC-PANDERING",
            "311.2(A) PC-DISTRIBUTE OBSCENE",
            "314 PC-INDECENT EXPOSURE OTHER",
            "647(F) PC-DISORDERLY CONDUCT",
            "653F(A) PC-SOLICIT ROBBERY",
            "451.5 PC-AGGRAVATED ARSON",
            "290 PC-REGISTRATION",
            "11360(A) HS-SELL MARIJUANA",
        ];
        for text in negatives {
            assert!(
                pc290_offense(&section(text), text).is_none(),
                "{text} does not require registration"
            );
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
