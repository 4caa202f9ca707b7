//! Statute references ("HS 11357(c)") parsed out of DOJ offence texts.
//!
//! The DOJ writes offences as `"<section><code>-<description>"` with every variation a clerk can
//! type: `11357(C)HS-POSSESS MARIJUANA`, `11359HS-INTENT SELL`, ` 148 PC - RESISTING`,
//! `664-11357(C) HS` (an attempt), `11357(A)` (no code letters). This module parses them into
//! code, section, subsections and an attempt flag, keeping the raw text. Parsing is exact where
//! it matters: `11357.5` (synthetic cannabinoids) is its own section, not `11357`.

use std::fmt;

/// The California code a section belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum LawCode {
    HealthAndSafety,
    Penal,
    Vehicle,
    BusinessAndProfessions,
    WelfareAndInstitutions,
    MilitaryAndVeterans,
    /// Any other code letters, upper-cased as recorded (`FG`, `GC`, `RT`, …).
    Other(Box<str>),
}

impl LawCode {
    /// Recognises code letters (case-insensitive); `None` for text that is not a code.
    fn from_letters(letters: &str) -> Option<LawCode> {
        let upper = letters.to_ascii_uppercase();
        Some(match upper.as_str() {
            "HS" => LawCode::HealthAndSafety,
            "PC" => LawCode::Penal,
            "VC" => LawCode::Vehicle,
            "BP" => LawCode::BusinessAndProfessions,
            "WI" => LawCode::WelfareAndInstitutions,
            "MV" => LawCode::MilitaryAndVeterans,
            // Other two- and three-letter code abbreviations that appear on RAP sheets.
            "FG" | "GC" | "RT" | "CC" | "EC" | "PR" | "UI" | "HN" | "LC" | "FA" | "CCP" | "ED"
            | "IC" | "PUC" | "WC" | "ST" | "MC" | "CO" | "FC" | "AG" => {
                LawCode::Other(upper.into_boxed_str())
            }
            _ => return None,
        })
    }

    /// The abbreviation used on RAP sheets and in our outputs (`HS`, `PC`, …).
    pub fn abbreviation(&self) -> &str {
        match self {
            LawCode::HealthAndSafety => "HS",
            LawCode::Penal => "PC",
            LawCode::Vehicle => "VC",
            LawCode::BusinessAndProfessions => "BP",
            LawCode::WelfareAndInstitutions => "WI",
            LawCode::MilitaryAndVeterans => "MV",
            LawCode::Other(letters) => letters,
        }
    }

    /// The full name, for documents ("Health and Safety Code").
    pub fn full_name(&self) -> &str {
        match self {
            LawCode::HealthAndSafety => "Health and Safety Code",
            LawCode::Penal => "Penal Code",
            LawCode::Vehicle => "Vehicle Code",
            LawCode::BusinessAndProfessions => "Business and Professions Code",
            LawCode::WelfareAndInstitutions => "Welfare and Institutions Code",
            LawCode::MilitaryAndVeterans => "Military and Veterans Code",
            LawCode::Other(letters) => letters,
        }
    }
}

/// A parsed statute reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct CodeSection {
    /// `None` when the record has no (recognisable) code letters, e.g. `11357(A)`.
    pub code: Option<LawCode>,
    /// The section number with any letter suffix in lower case: `11357`, `11362.1`, `288a`.
    pub section: Box<str>,
    /// Subsections in canonical lower-case form, concatenated: `(c)`, `(a)(3)(c)`, or empty.
    pub subsections: Box<str>,
    /// Recorded as an attempt under PC 664 (`664-11357(C) HS`, `664/11357`, `66411357`).
    pub attempt: bool,
}

impl CodeSection {
    /// The first subsection letter or number without parentheses (`c` for `(c)(3)`).
    pub fn first_subsection(&self) -> Option<&str> {
        let rest = self.subsections.strip_prefix('(')?;
        rest.split(')').next()
    }

    /// True when the subsections start with the given canonical prefix, e.g. `(a)(3)`.
    pub fn subsections_start_with(&self, prefix: &str) -> bool {
        self.subsections.starts_with(prefix)
    }

    /// True when the code is the given one, or missing (clerks often omit the letters).
    pub fn code_is_or_missing(&self, code: &LawCode) -> bool {
        self.code.as_ref().is_none_or(|recorded| recorded == code)
    }
}

impl fmt::Display for CodeSection {
    /// `HS 11357(c)`, `PC 664/HS 11357(c)` for attempts, `11357(a)` without code letters.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.attempt {
            formatter.write_str("PC 664/")?;
        }
        if let Some(code) = &self.code {
            write!(formatter, "{} ", code.abbreviation())?;
        }
        write!(formatter, "{}{}", self.section, self.subsections)
    }
}

/// An offence text split into the statute and the clerk's description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedOffense {
    pub section: Option<CodeSection>,
    /// The words after the first `-` following the statute ("POSSESS MARIJUANA"), trimmed.
    pub description: String,
}

/// Parses one offence text. Never fails: text that names no statute gives `section: None`.
pub fn parse_offense(raw: &str) -> ParsedOffense {
    let text = raw.trim();
    let mut cursor = Cursor::new(text);
    let attempt = cursor.eat_attempt_prefix();
    let Some(section) = cursor.eat_section_number() else {
        return ParsedOffense {
            section: None,
            description: text.to_string(),
        };
    };
    let (section, mut code) = split_code_suffix(&section);
    cursor.skip_spaces();
    let subsections = cursor.eat_subsections();
    cursor.skip_spaces();
    if code.is_none() {
        code = cursor.eat_code_letters();
    }
    let description = cursor
        .rest()
        .trim_start()
        .strip_prefix('-')
        .unwrap_or_else(|| cursor.rest())
        .trim()
        .to_string();
    ParsedOffense {
        section: Some(CodeSection {
            code,
            section: section.into_boxed_str(),
            subsections: subsections.into_boxed_str(),
            attempt,
        }),
        description,
    }
}

/// True when the offence text redirects to COMMENT_TEXT (blank or `SEE COMMENT FOR CHARGE`).
pub fn is_comment_redirect(offense_text: &[u8]) -> bool {
    let trimmed = offense_text.trim_ascii();
    trimmed.is_empty() || trimmed == b"SEE COMMENT FOR CHARGE"
}

/// `11359HS` is section 11359 with code HS; `288A` is section 288a. Letters glued to the digits
/// are code letters only when they spell a known code.
fn split_code_suffix(section_with_letters: &str) -> (String, Option<LawCode>) {
    let letters_start = section_with_letters
        .find(|character: char| character.is_ascii_alphabetic())
        .unwrap_or(section_with_letters.len());
    let (number, letters) = section_with_letters.split_at(letters_start);
    if letters.is_empty() {
        return (number.to_string(), None);
    }
    match LawCode::from_letters(letters) {
        Some(code) => (number.to_string(), Some(code)),
        None => (section_with_letters.to_ascii_lowercase(), None),
    }
}

struct Cursor<'a> {
    text: &'a str,
    position: usize,
}

impl<'a> Cursor<'a> {
    fn new(text: &'a str) -> Self {
        Cursor { text, position: 0 }
    }

    fn rest(&self) -> &'a str {
        &self.text[self.position..]
    }

    fn skip_spaces(&mut self) {
        let rest = self.rest();
        self.position += rest.len() - rest.trim_start_matches(' ').len();
    }

    /// `664-`, `664/`, `664.`, `664 ` followed by a section, or `664` glued to a five-digit
    /// Prop 64 section (`66411357`). PC 664 on its own is not an attempt prefix.
    fn eat_attempt_prefix(&mut self) -> bool {
        let rest = self.rest();
        let Some(after) = rest.strip_prefix("664") else {
            return false;
        };
        let separator_length = after.len() - after.trim_start_matches(['-', '/', '.', ' ']).len();
        let after_separator = &after[separator_length..];
        let next_is_digit = after_separator.starts_with(|c: char| c.is_ascii_digit());
        if separator_length > 0 && next_is_digit {
            // `664.1` is not a section people write; a dot followed by one digit and then a
            // non-digit is ambiguous, so require the attempted section to have 3+ digits.
            let digits = after_separator
                .chars()
                .take_while(char::is_ascii_digit)
                .count();
            if digits >= 3 {
                self.position += 3 + separator_length;
                return true;
            }
            return false;
        }
        if separator_length == 0 && after.len() >= 5 {
            let glued = &after[..5];
            if matches!(glued, "11357" | "11358" | "11359" | "11360")
                && !after[5..].starts_with(|c: char| c.is_ascii_digit())
            {
                self.position += 3;
                return true;
            }
        }
        false
    }

    /// Digits, optionally `.digits`, optionally letters: `11357`, `11362.1`, `288A`, `11359HS`.
    fn eat_section_number(&mut self) -> Option<String> {
        let rest = self.rest();
        let digits = rest.chars().take_while(char::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        let mut length = digits;
        if let Some(after_dot) = rest[length..].strip_prefix('.') {
            let decimals = after_dot.chars().take_while(char::is_ascii_digit).count();
            if decimals > 0 {
                length += 1 + decimals;
            }
        }
        let letters = rest[length..]
            .chars()
            .take_while(char::is_ascii_alphabetic)
            .count();
        // Only glue letters that end at a boundary; `11357 HS` keeps its space, `187PC-` glues.
        length += letters;
        self.position += length;
        Some(rest[..length].to_string())
    }

    /// `(C)`, `(a)(3)(C)`, also with spaces between groups; canonicalised to lower case.
    fn eat_subsections(&mut self) -> String {
        let mut canonical = String::new();
        loop {
            let rest = self.rest();
            let Some(inner_start) = rest.strip_prefix('(') else {
                break;
            };
            let Some(close) = inner_start.find(')') else {
                break;
            };
            let inner = &inner_start[..close];
            if inner.is_empty() || !inner.chars().all(|c| c.is_ascii_alphanumeric()) {
                break;
            }
            canonical.push('(');
            canonical.push_str(&inner.to_ascii_lowercase());
            canonical.push(')');
            self.position += close + 2;
            self.skip_spaces();
        }
        canonical
    }

    fn eat_code_letters(&mut self) -> Option<LawCode> {
        let rest = self.rest();
        let letters = rest.chars().take_while(char::is_ascii_alphabetic).count();
        if letters == 0 {
            return None;
        }
        let boundary_ok =
            rest[letters..].is_empty() || rest[letters..].starts_with([' ', '-', '/', ',', ';']);
        let code = if boundary_ok {
            LawCode::from_letters(&rest[..letters])
        } else {
            None
        };
        if code.is_some() {
            self.position += letters;
        }
        code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> CodeSection {
        parse_offense(text)
            .section
            .unwrap_or_else(|| panic!("no section in {text:?}"))
    }

    #[test]
    fn parses_the_forms_seen_in_doj_files() {
        // text, code, section, subsections, attempt, description
        type Case<'a> = (&'a str, Option<&'a str>, &'a str, &'a str, bool, &'a str);
        let cases: &[Case] = &[
            (
                "11357(C)HS-POSSESS MARIJUANA",
                Some("HS"),
                "11357",
                "(c)",
                false,
                "POSSESS MARIJUANA",
            ),
            (
                "11357(b)HS-POSSESS MARIJUANA",
                Some("HS"),
                "11357",
                "(b)",
                false,
                "POSSESS MARIJUANA",
            ),
            (
                "503 VC-TAKE CAR W/OUT OWNERS CONSENT",
                Some("VC"),
                "503",
                "",
                false,
                "TAKE CAR W/OUT OWNERS CONSENT",
            ),
            (
                "4149 BP - UNLICENSED SALE OF NEEDLES",
                Some("BP"),
                "4149",
                "",
                false,
                "UNLICENSED SALE OF NEEDLES",
            ),
            (
                " 148 PC - RESISTING A PEACE OFFICER",
                Some("PC"),
                "148",
                "",
                false,
                "RESISTING A PEACE OFFICER",
            ),
            (
                "11359HS-INTENT SELL CANNABIS",
                Some("HS"),
                "11359",
                "",
                false,
                "INTENT SELL CANNABIS",
            ),
            (
                "11360(A)(3)(C) HS-SELL TO MINOR",
                Some("HS"),
                "11360",
                "(a)(3)(c)",
                false,
                "SELL TO MINOR",
            ),
            (
                "11357.5 HS-SYNTHETIC CANNABINOIDS",
                Some("HS"),
                "11357.5",
                "",
                false,
                "SYNTHETIC CANNABINOIDS",
            ),
            (
                "11362.1 HS-POSSESS",
                Some("HS"),
                "11362.1",
                "",
                false,
                "POSSESS",
            ),
            ("664-11357(C) HS", Some("HS"), "11357", "(c)", true, ""),
            (
                "664/11357 HS-ATTEMPT",
                Some("HS"),
                "11357",
                "",
                true,
                "ATTEMPT",
            ),
            ("66411357(A) HS", Some("HS"), "11357", "(a)", true, ""),
            ("664.11357(c)", None, "11357", "(c)", true, ""),
            (
                "664 PC-ATTEMPTED CRIME",
                Some("PC"),
                "664",
                "",
                false,
                "ATTEMPTED CRIME",
            ),
            ("11357(A)", None, "11357", "(a)", false, ""),
            ("11357(A)PC", Some("PC"), "11357", "(a)", false, ""),
            (
                "288A PC-ORAL COPULATION",
                Some("PC"),
                "288a",
                "",
                false,
                "ORAL COPULATION",
            ),
            ("653F PC-SOLICIT", Some("PC"), "653f", "", false, "SOLICIT"),
            (
                "266H(B) PC-PIMPING",
                Some("PC"),
                "266h",
                "(b)",
                false,
                "PIMPING",
            ),
            (
                "647(F) PC-DISORDERLY CONDUCT:INTOX",
                Some("PC"),
                "647",
                "(f)",
                false,
                "DISORDERLY CONDUCT:INTOX",
            ),
            (
                "187 PC-MURDER:SECOND DEGREE",
                Some("PC"),
                "187",
                "",
                false,
                "MURDER:SECOND DEGREE",
            ),
            (
                "220 PC- COMMIT MAYHEM",
                Some("PC"),
                "220",
                "",
                false,
                "COMMIT MAYHEM",
            ),
            (
                "11360(A) HS-GIVE/ETC MARIJ OVER 1 OZ/28.5 GRM",
                Some("HS"),
                "11360",
                "(a)",
                false,
                "GIVE/ETC MARIJ OVER 1 OZ/28.5 GRM",
            ),
            (
                "11358 hs-cultivate",
                Some("HS"),
                "11358",
                "",
                false,
                "cultivate",
            ),
            (
                "1672(A) MV-WEAPON",
                Some("MV"),
                "1672",
                "(a)",
                false,
                "WEAPON",
            ),
            (
                "245(D)(3) PC-ASSAULT",
                Some("PC"),
                "245",
                "(d)(3)",
                false,
                "ASSAULT",
            ),
        ];
        for &(text, code, section, subsections, attempt, description) in cases {
            let offense = parse_offense(text);
            let parsed = offense.section.unwrap_or_else(|| panic!("{text}"));
            assert_eq!(
                parsed.code.as_ref().map(LawCode::abbreviation),
                code,
                "{text}"
            );
            assert_eq!(&*parsed.section, section, "{text}");
            assert_eq!(&*parsed.subsections, subsections, "{text}");
            assert_eq!(parsed.attempt, attempt, "{text}");
            assert_eq!(offense.description, description, "{text}");
        }
    }

    #[test]
    fn texts_without_a_statute_have_no_section() {
        for text in [
            "SEE COMMENT FOR CHARGE",
            "",
            "   ",
            "UNKNOWN OFFENSE",
            "NULL",
        ] {
            assert_eq!(parse_offense(text).section, None, "{text:?}");
        }
    }

    #[test]
    fn displays_canonically() {
        assert_eq!(parsed("11357(C)HS-X").to_string(), "HS 11357(c)");
        assert_eq!(parsed("664-11357(C) HS").to_string(), "PC 664/HS 11357(c)");
        assert_eq!(parsed("11357(A)").to_string(), "11357(a)");
        assert_eq!(parsed("11360(A)(3)(C) HS").first_subsection(), Some("a"));
    }

    #[test]
    fn comment_redirects() {
        assert!(is_comment_redirect(b"SEE COMMENT FOR CHARGE"));
        assert!(is_comment_redirect(b"  SEE COMMENT FOR CHARGE "));
        assert!(is_comment_redirect(b"   "));
        assert!(!is_comment_redirect(b"11357 HS"));
    }
}
