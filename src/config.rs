//! Configuration files and validated run settings: county names, policy files (TOML), BEAR/gogen
//! options (JSON). File formats are boundary types here; they are validated and converted to the
//! domain types of `eligibility` so the rules never see an unchecked value.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::eligibility::gogen::GogenOptions;
use crate::eligibility::{
    Conditions, Outcome, Policy, PolicyAction, PolicyRule, RelatedCharges, RelatedChargesAction,
    Rules, Track, matchers,
};
use crate::model::{Date, Level};

/// A configuration problem: the user must fix a file or a flag.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    #[error("cannot read {path}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("unknown county {name:?}: not one of California's 58 counties{}", suggestions_text(.suggestions))]
    UnknownCounty {
        name: String,
        suggestions: Vec<String>,
    },
    #[error("invalid date {text:?}: expected YYYY-MM-DD")]
    InvalidDate { text: String },
    #[error(
        "--order-date {order_date} is after the documents' date {as_of}: a letter cannot report an order not yet made (pass --as-of on or after the order date)"
    )]
    OrderAfterDocuments { order_date: Date, as_of: Date },
}

fn suggestions_text(suggestions: &[String]) -> String {
    if suggestions.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", suggestions.join(", "))
    }
}

/// California's 58 counties, as the DOJ writes them in `STP_ORI_CNTY_NAME`.
pub const CALIFORNIA_COUNTIES: [&str; 58] = [
    "ALAMEDA",
    "ALPINE",
    "AMADOR",
    "BUTTE",
    "CALAVERAS",
    "COLUSA",
    "CONTRA COSTA",
    "DEL NORTE",
    "EL DORADO",
    "FRESNO",
    "GLENN",
    "HUMBOLDT",
    "IMPERIAL",
    "INYO",
    "KERN",
    "KINGS",
    "LAKE",
    "LASSEN",
    "LOS ANGELES",
    "MADERA",
    "MARIN",
    "MARIPOSA",
    "MENDOCINO",
    "MERCED",
    "MODOC",
    "MONO",
    "MONTEREY",
    "NAPA",
    "NEVADA",
    "ORANGE",
    "PLACER",
    "PLUMAS",
    "RIVERSIDE",
    "SACRAMENTO",
    "SAN BENITO",
    "SAN BERNARDINO",
    "SAN DIEGO",
    "SAN FRANCISCO",
    "SAN JOAQUIN",
    "SAN LUIS OBISPO",
    "SAN MATEO",
    "SANTA BARBARA",
    "SANTA CLARA",
    "SANTA CRUZ",
    "SHASTA",
    "SIERRA",
    "SISKIYOU",
    "SOLANO",
    "SONOMA",
    "STANISLAUS",
    "SUTTER",
    "TEHAMA",
    "TRINITY",
    "TULARE",
    "TUOLUMNE",
    "VENTURA",
    "YOLO",
    "YUBA",
];

/// A validated county: its DOJ spelling in upper case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct County(String);

impl County {
    /// Accepts any case and surrounding spaces; refuses names that are not a California county,
    /// suggesting close ones.
    pub fn parse(text: &str) -> Result<County, ConfigError> {
        let normalized = text
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .to_uppercase();
        if CALIFORNIA_COUNTIES.contains(&normalized.as_str()) {
            return Ok(County(normalized));
        }
        let mut scored: Vec<(usize, &str)> = CALIFORNIA_COUNTIES
            .iter()
            .map(|county| (edit_distance(&normalized, county), *county))
            .filter(|(distance, county)| *distance <= 3 || county.starts_with(normalized.as_str()))
            .collect();
        scored.sort_unstable();
        Err(ConfigError::UnknownCounty {
            name: text.to_string(),
            suggestions: scored
                .into_iter()
                .take(3)
                .map(|(_, county)| county.to_string())
                .collect(),
        })
    }

    pub fn name(&self) -> &str {
        &self.0
    }

    /// California's 58 counties, in alphabetical order (the service's county list).
    pub fn all() -> Vec<County> {
        CALIFORNIA_COUNTIES
            .iter()
            .map(|name| County((*name).to_string()))
            .collect()
    }

    /// Title case of another county name ("SAN MATEO" → "San Mateo").
    pub fn title_case_of(&self, name: &str) -> String {
        County(name.to_string()).title_case()
    }

    /// "San Francisco", for documents.
    pub fn title_case(&self) -> String {
        self.0
            .split(' ')
            .map(|word| {
                let mut characters = word.chars();
                characters.next().map_or_else(String::new, |first| {
                    first.to_string() + &characters.as_str().to_lowercase()
                })
            })
            .collect::<Vec<_>>()
            .join(" ")
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b_chars: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b_chars.len()).collect();
    for (i, a_char) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, b_char) in b_chars.iter().enumerate() {
            let substitution = previous[j] + usize::from(a_char != *b_char);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b_chars.len()]
}

/// Parses `--as-of`.
pub fn parse_as_of(text: &str) -> Result<Date, ConfigError> {
    Date::parse_iso(text).ok_or_else(|| ConfigError::InvalidDate {
        text: text.to_string(),
    })
}

/// Where the rules came from, for the summary and the manifest.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct RulesSource {
    /// `statutory`, `policy`, or `gogen`.
    pub kind: &'static str,
    pub name: String,
    pub path: Option<String>,
    /// SHA-256 of the file, hex.
    pub sha256: Option<String>,
}

/// Loads `--policy`: absent → the statute alone; `gogen:FILE` → BEAR/gogen options; else a
/// policy TOML file.
pub fn load_rules(argument: Option<&str>) -> Result<(Rules, RulesSource), ConfigError> {
    let Some(argument) = argument else {
        let policy = Policy::statutory();
        return Ok((
            Rules::Clearance(policy.clone()),
            RulesSource {
                kind: "statutory",
                name: policy.name,
                path: None,
                sha256: None,
            },
        ));
    };
    if let Some(path) = argument.strip_prefix("gogen:") {
        let bytes = read(Path::new(path))?;
        let options = parse_gogen_options(&bytes, path)?;
        return Ok((
            Rules::Gogen(options),
            RulesSource {
                kind: "gogen",
                name: "BEAR/gogen eligibility options".into(),
                path: Some(path.to_string()),
                sha256: Some(sha256_hex(&bytes)),
            },
        ));
    }
    let bytes = read(Path::new(argument))?;
    let text = String::from_utf8(bytes.clone()).map_err(|_| ConfigError::Parse {
        path: argument.to_string(),
        message: "not UTF-8 text".into(),
    })?;
    let policy = parse_policy(&text, argument)?;
    Ok((
        Rules::Clearance(policy.clone()),
        RulesSource {
            kind: "policy",
            name: policy.name,
            path: Some(argument.to_string()),
            sha256: Some(sha256_hex(&bytes)),
        },
    ))
}

pub fn read(path: &Path) -> Result<Vec<u8>, ConfigError> {
    std::fs::read(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut text, byte| {
            let _ = write!(text, "{byte:02x}");
            text
        })
}

// ---------------------------------------------------------------------------------------------
// Policy TOML

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct PolicyFile {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default = "default_true")]
    disqualifiers_block_policy_relief: bool,
    #[serde(default)]
    rule: Vec<RuleFile>,
    #[serde(default)]
    related_charges: Option<RelatedChargesFile>,
}

fn default_true() -> bool {
    true
}

/// A value written either alone or as a list: `level = "felony"` or `level = ["felony", ...]`.
#[derive(Debug, serde::Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RuleFile {
    id: String,
    #[serde(default)]
    when: ConditionsFile,
    action: String,
    #[serde(default)]
    authority: Option<String>,
    #[serde(default)]
    seal: Option<bool>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct ConditionsFile {
    section: Option<OneOrMany>,
    subsection: Option<OneOrMany>,
    level: Option<OneOrMany>,
    track: Option<String>,
    statutory_outcome: Option<OneOrMany>,
    under_21_at_conviction: Option<bool>,
    age_at_least: Option<u32>,
    conviction_at_least_years_old: Option<u32>,
    crime_free_years: Option<u32>,
    only_prop64_convictions: Option<bool>,
    all_sentences_completed: Option<bool>,
    deceased: Option<bool>,
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct RelatedChargesFile {
    action: String,
    #[serde(default)]
    sections: Option<Vec<String>>,
    #[serde(default)]
    authority: Option<String>,
    #[serde(default)]
    seal: Option<bool>,
}

/// The legal authority a dismissal or a reduction names (required). `key` names the table for
/// the message.
fn relief_authority(key: &str, action: &str, authority: Option<&String>) -> Result<String, String> {
    let authority = authority
        .map(|text| text.trim().to_string())
        .unwrap_or_default();
    if authority.is_empty() {
        return Err(format!(
            "{key}: action \"{action}\" gives relief beyond the statute and must name its legal authority (authority = \"...\"); clearance does not choose one (PC 17(b)/(d) reach only wobblers and listed misdemeanors, PC 1385 no completed sentence)"
        ));
    }
    Ok(authority)
}

/// Whether a dismissal seals the record: required, clearance does not choose.
fn dismissal_seal(key: &str, seal: Option<bool>) -> Result<bool, String> {
    seal.ok_or_else(|| {
        format!("{key}: a dismissal must say whether it seals the record (seal = true or false)")
    })
}

fn parse_conditions(when: ConditionsFile, key: &str) -> Result<Conditions, String> {
    let sections = when.section.map(OneOrMany::into_vec).unwrap_or_default();
    for section in &sections {
        if !matchers::PROP64_SECTIONS.contains(&section.as_str()) {
            return Err(format!(
                "{key}.when.section: {section:?} is not a Prop 64 section ({})",
                matchers::PROP64_SECTIONS.join(", ")
            ));
        }
    }
    let subsections = when
        .subsection
        .map(OneOrMany::into_vec)
        .unwrap_or_default()
        .iter()
        .map(|text| {
            if text.trim().is_empty() {
                return Ok(String::new());
            }
            canonical_subsection(text).ok_or_else(|| {
                format!("{key}.when.subsection: {text:?} must look like \"(b)\" or \"(a)(3)\", or \"\" for none")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let levels = when
        .level
        .map(OneOrMany::into_vec)
        .unwrap_or_default()
        .iter()
        .map(|text| match text.as_str() {
            "felony" => Ok(Level::Felony),
            "misdemeanor" => Ok(Level::Misdemeanor),
            "infraction" => Ok(Level::Infraction),
            "unknown" => Ok(Level::Unknown),
            other => Err(format!(
                "{key}.when.level: {other:?} must be felony, misdemeanor, infraction or unknown"
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    let track = match when.track.as_deref() {
        None => None,
        Some("serving") => Some(Track::Serving),
        Some("completed") => Some(Track::Completed),
        Some(other) => {
            return Err(format!(
                "{key}.when.track: {other:?} must be serving or completed"
            ));
        }
    };
    let statutory_outcomes = when
        .statutory_outcome
        .map(OneOrMany::into_vec)
        .unwrap_or_default()
        .iter()
        .map(|text| {
            Outcome::ALL
                .into_iter()
                .find(|outcome| outcome.as_str() == text)
                .ok_or_else(|| {
                    format!(
                        "{key}.when.statutory-outcome: {text:?} must be one of {}",
                        Outcome::ALL.map(Outcome::as_str).join(", ")
                    )
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    check_range(
        when.age_at_least,
        40..=65,
        &format!("{key}.when.age-at-least"),
    )?;
    check_range(
        when.conviction_at_least_years_old,
        1..=15,
        &format!("{key}.when.conviction-at-least-years-old"),
    )?;
    check_range(
        when.crime_free_years,
        1..=15,
        &format!("{key}.when.crime-free-years"),
    )?;
    Ok(Conditions {
        sections,
        subsections,
        levels,
        track,
        statutory_outcomes,
        under_21_at_conviction: when.under_21_at_conviction,
        age_at_least: when.age_at_least,
        conviction_at_least_years_old: when.conviction_at_least_years_old,
        crime_free_years: when.crime_free_years,
        only_prop64_convictions: when.only_prop64_convictions,
        all_sentences_completed: when.all_sentences_completed,
        deceased: when.deceased,
    })
}

/// Parses and validates a policy file. Every error names the file and the key.
pub fn parse_policy(text: &str, path: &str) -> Result<Policy, ConfigError> {
    let file: PolicyFile = toml::from_str(text).map_err(|error| ConfigError::Parse {
        path: path.to_string(),
        message: error.to_string().trim().replace('\n', " "),
    })?;
    let invalid = |message: String| ConfigError::Invalid {
        path: path.to_string(),
        message,
    };
    let _ = file.description;
    let mut rules: Vec<PolicyRule> = Vec::new();
    for (index, rule) in file.rule.into_iter().enumerate() {
        let key = format!("[[rule]] #{} (id {:?})", index + 1, rule.id);
        let id_ok = !rule.id.is_empty()
            && rule
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !id_ok {
            return Err(invalid(format!(
                "{key}: id must be lower-case letters, digits and dashes"
            )));
        }
        if rules.iter().any(|earlier| earlier.id == rule.id) {
            return Err(invalid(format!("{key}: id is used by an earlier rule")));
        }
        if rule.action == "reduce" && rule.seal.is_some() {
            return Err(invalid(format!(
                "{key}: seal belongs to dismiss, not reduce"
            )));
        }
        let action = match rule.action.as_str() {
            "dismiss" => {
                let authority =
                    relief_authority(&key, "dismiss", rule.authority.as_ref()).map_err(invalid)?;
                let seal = dismissal_seal(&key, rule.seal).map_err(invalid)?;
                PolicyAction::Dismiss { authority, seal }
            }
            "reduce" => PolicyAction::Reduce {
                authority: relief_authority(&key, "reduce", rule.authority.as_ref())
                    .map_err(invalid)?,
            },
            "statutory" | "review" => {
                if rule.authority.is_some() || rule.seal.is_some() {
                    return Err(invalid(format!(
                        "{key}: authority and seal belong to dismiss and reduce, not {:?}",
                        rule.action
                    )));
                }
                if rule.action == "review" {
                    PolicyAction::Review
                } else {
                    PolicyAction::Statutory
                }
            }
            other => {
                return Err(invalid(format!(
                    "{key}: action {other:?} must be dismiss, reduce, statutory or review"
                )));
            }
        };
        let when = parse_conditions(rule.when, &key).map_err(invalid)?;
        rules.push(PolicyRule {
            id: rule.id,
            when,
            action,
        });
    }
    let related_charges = match &file.related_charges {
        None => RelatedCharges::default(),
        Some(related) => {
            let action = match related.action.as_str() {
                "off" => RelatedChargesAction::Off,
                "dismiss" => RelatedChargesAction::Dismiss,
                "review" => RelatedChargesAction::Review,
                other => {
                    return Err(invalid(format!(
                        "related-charges.action {other:?} must be off, dismiss or review"
                    )));
                }
            };
            let (authority, seal) = if action == RelatedChargesAction::Dismiss {
                (
                    relief_authority("related-charges", "dismiss", related.authority.as_ref())
                        .map_err(invalid)?,
                    dismissal_seal("related-charges", related.seal).map_err(invalid)?,
                )
            } else {
                (String::new(), false)
            };
            let sections = match &related.sections {
                None => RelatedCharges::default().sections,
                Some(list) => list
                    .iter()
                    .map(|text| {
                        parse_section_reference(text).ok_or_else(|| {
                            invalid(format!(
                                "related-charges.sections: {text:?} must look like \"PC 647(f)\""
                            ))
                        })
                    })
                    .collect::<Result<_, _>>()?,
            };
            RelatedCharges {
                action,
                sections,
                authority,
                seal,
            }
        }
    };
    Ok(Policy {
        name: file.name,
        rules,
        disqualifiers_block_policy_relief: file.disqualifiers_block_policy_relief,
        related_charges,
    })
}

fn check_range(
    value: Option<u32>,
    range: std::ops::RangeInclusive<u32>,
    key: &str,
) -> Result<(), String> {
    match value {
        Some(value) if !range.contains(&value) => Err(format!(
            "{key} = {value} is out of range ({}..={})",
            range.start(),
            range.end()
        )),
        _ => Ok(()),
    }
}

/// `(B)`, `(a)(3)` → `(b)`, `(a)(3)`.
fn canonical_subsection(text: &str) -> Option<String> {
    let lower = text.trim().to_ascii_lowercase();
    let mut rest = lower.as_str();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let inner = rest.strip_prefix('(')?;
        let close = inner.find(')')?;
        if close == 0 || !inner[..close].chars().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        rest = &inner[close + 1..];
    }
    Some(lower)
}

/// `PC 647(f)` → (`PC`, `647`, `(f)`).
fn parse_section_reference(text: &str) -> Option<(String, String, String)> {
    let (code, rest) = text.trim().split_once(' ')?;
    let rest = rest.trim();
    let (section, subsection) = match rest.find('(') {
        Some(index) => (&rest[..index], canonical_subsection(&rest[index..])?),
        None => (rest, String::new()),
    };
    if section.is_empty() || !code.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    Some((
        code.to_ascii_uppercase(),
        section.to_ascii_lowercase(),
        subsection,
    ))
}

// ---------------------------------------------------------------------------------------------
// BEAR/gogen options JSON

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GogenOptionsFile {
    #[serde(default)]
    baseline_eligibility: Option<GogenBaseline>,
    #[serde(default)]
    additional_relief: Option<GogenAdditionalRelief>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct GogenBaseline {
    #[serde(default)]
    dismiss: Option<Vec<String>>,
    #[serde(default)]
    reduce: Option<Vec<String>>,
}

#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct GogenAdditionalRelief {
    #[serde(default)]
    subject_under21_at_conviction: Option<bool>,
    #[serde(default)]
    subject_age_threshold: Option<u32>,
    #[serde(default)]
    years_since_conviction_threshold: Option<u32>,
    #[serde(default)]
    years_crime_free_threshold: Option<u32>,
    #[serde(default)]
    subject_has_only_prop64_charges: Option<bool>,
    #[serde(default)]
    subject_is_deceased: Option<bool>,
}

/// Parses a BEAR/gogen options file. Unknown keys are ignored (BEAR sends UI keys); values are
/// validated as gogen validates them, and section keys gogen would crash on are refused.
pub fn parse_gogen_options(bytes: &[u8], path: &str) -> Result<GogenOptions, ConfigError> {
    let file: GogenOptionsFile =
        serde_json::from_slice(bytes).map_err(|error| ConfigError::Parse {
            path: path.to_string(),
            message: error.to_string(),
        })?;
    let invalid = |message: String| ConfigError::Invalid {
        path: path.to_string(),
        message,
    };
    let baseline = file.baseline_eligibility.unwrap_or_default();
    let relief = file.additional_relief.unwrap_or_default();
    let dismiss = baseline.dismiss.unwrap_or_default();
    let reduce = baseline.reduce.unwrap_or_default();
    for section in dismiss.iter().chain(&reduce) {
        if !["11357", "11358", "11359", "11360"].contains(&section.as_str()) {
            return Err(invalid(format!(
                "baselineEligibility: {section:?} is not one of \"11357\", \"11358\", \"11359\", \"11360\""
            )));
        }
    }
    let options = GogenOptions {
        dismiss,
        reduce,
        subject_under_21_at_conviction: relief.subject_under21_at_conviction.unwrap_or(false),
        subject_age_threshold: relief.subject_age_threshold.unwrap_or(0),
        years_since_conviction_threshold: relief.years_since_conviction_threshold.unwrap_or(0),
        years_crime_free_threshold: relief.years_crime_free_threshold.unwrap_or(0),
        subject_has_only_prop64_charges: relief.subject_has_only_prop64_charges.unwrap_or(false),
        subject_is_deceased: relief.subject_is_deceased.unwrap_or(false),
    };
    let zero_or = |value: u32, range: std::ops::RangeInclusive<u32>, key: &str| {
        if value == 0 || range.contains(&value) {
            Ok(())
        } else {
            Err(invalid(format!(
                "additionalRelief.{key} = {value} must be 0 or {}..={}",
                range.start(),
                range.end()
            )))
        }
    };
    zero_or(
        options.subject_age_threshold,
        40..=65,
        "subjectAgeThreshold",
    )?;
    zero_or(
        options.years_since_conviction_threshold,
        1..=15,
        "yearsSinceConvictionThreshold",
    )?;
    zero_or(
        options.years_crime_free_threshold,
        1..=15,
        "yearsCrimeFreeThreshold",
    )?;
    Ok(options)
}

/// Validated settings of `clearance check`.
#[derive(Clone, Debug)]
pub struct CheckConfig {
    pub inputs: Vec<PathBuf>,
    pub county: County,
    pub rules: Rules,
    pub rules_source: RulesSource,
    pub as_of: Date,
    pub out_dir: PathBuf,
    /// Whether to wait for another run writing the same folder.
    pub output: crate::output::OutputOptions,
    /// How the DOJ files' text is encoded.
    pub encoding: crate::ingest::encoding::Encoding,
    pub skip_bad_rows: bool,
    /// Threads for reading and writing large files.
    pub jobs: usize,
    /// The smallest chunk a file is split into for parallel reading (`None`: the default). Not
    /// a user option: tests set it with the `CLEARANCE_MIN_CHUNK_BYTES` environment variable so
    /// that small files are read in many chunks.
    pub min_chunk_bytes: Option<u64>,
    /// Outputs and diagnostics name the inputs relative to this folder (the service names a
    /// batch's upload `input/doj-1.csv`, never the server's own folders); `None`: as given.
    pub names_relative_to: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counties_are_validated_with_suggestions() {
        assert_eq!(
            County::parse(" san  francisco ").unwrap().name(),
            "SAN FRANCISCO"
        );
        assert_eq!(
            County::parse("SAN JOAQUIN").unwrap().title_case(),
            "San Joaquin"
        );
        let error = County::parse("San Fransisco").unwrap_err();
        assert!(error.to_string().contains("SAN FRANCISCO"), "{error}");
        assert!(County::parse("Gotham").is_err());
    }

    #[test]
    fn parses_a_full_policy() {
        let policy = parse_policy(
            r#"
name = "test"
[[rule]]
id = "misdemeanors-to-review"
when.level = ["misdemeanor", "infraction"]
action = "review"
[[rule]]
id = "possession"
when = { section = "11357", subsection = ["(A)", "(b)", ""] }
action = "dismiss"
authority = "PC 1203.4"
seal = true
[[rule]]
id = "only-prop64-and-done"
when = { level = "felony", only-prop64-convictions = true, all-sentences-completed = true, age-at-least = 50, track = "completed", statutory-outcome = "redesignate_misdemeanor" }
action = "reduce"
authority = "HS 11361.8(f)"
[related-charges]
action = "dismiss"
sections = ["PC 647(f)", "hs 11364"]
authority = "PC 1203.4"
seal = false
"#,
            "test.toml",
        )
        .unwrap();
        assert_eq!(policy.rules.len(), 3);
        assert_eq!(
            policy.rules[0].when.levels,
            [Level::Misdemeanor, Level::Infraction]
        );
        assert_eq!(policy.rules[1].when.subsections, ["(a)", "(b)", ""]);
        assert_eq!(
            policy.rules[1].action,
            PolicyAction::Dismiss {
                authority: "PC 1203.4".into(),
                seal: true
            }
        );
        let combined = &policy.rules[2].when;
        assert_eq!(combined.only_prop64_convictions, Some(true));
        assert_eq!(combined.all_sentences_completed, Some(true));
        assert_eq!(combined.age_at_least, Some(50));
        assert_eq!(combined.track, Some(Track::Completed));
        assert_eq!(
            combined.statutory_outcomes,
            [Outcome::RedesignateMisdemeanor]
        );
        assert_eq!(
            policy.related_charges.sections,
            vec![
                ("PC".into(), "647".into(), "(f)".into()),
                ("HS".into(), "11364".into(), String::new())
            ]
        );
        assert_eq!(policy.related_charges.authority, "PC 1203.4");
    }

    #[test]
    fn policy_errors_name_the_file_and_the_key() {
        for (text, expected) in [
            ("name = \"x\"\nbogus = 1", "unknown field"),
            (
                "name = \"x\"\n[[rule]]\nid = \"a\"\nwhen.section = \"11350\"\naction = \"review\"",
                "[[rule]] #1 (id \"a\").when.section: \"11350\" is not a Prop 64 section",
            ),
            (
                "name = \"x\"\n[[rule]]\nid = \"a\"\naction = \"pardon\"",
                "action \"pardon\"",
            ),
            (
                "name = \"x\"\n[[rule]]\nid = \"a\"\nwhen.age-at-least = 30\naction = \"review\"",
                "when.age-at-least = 30 is out of range",
            ),
            (
                "name = \"x\"\n[[rule]]\nid = \"a\"\nwhen.subsection = \"b\"\naction = \"review\"",
                "when.subsection",
            ),
            (
                "name = \"x\"\n[[rule]]\nid = \"felonies\"\nwhen.level = \"felony\"\naction = \"dismiss\"\nseal = true",
                "[[rule]] #1 (id \"felonies\"): action \"dismiss\" gives relief beyond the statute and must name its legal authority",
            ),
            (
                "name = \"x\"\n[[rule]]\nid = \"felonies\"\naction = \"reduce\"",
                "must name its legal authority",
            ),
            (
                "name = \"x\"\n[[rule]]\nid = \"felonies\"\naction = \"dismiss\"\nauthority = \"PC 1203.4\"",
                "must say whether it seals",
            ),
            (
                "name = \"x\"\n[related-charges]\naction = \"dismiss\"",
                "related-charges: action \"dismiss\" gives relief beyond the statute",
            ),
            (
                "name = \"x\"\n[[rule]]\nid = \"a\"\naction = \"review\"\n[[rule]]\nid = \"a\"\naction = \"review\"",
                "used by an earlier rule",
            ),
            (
                "name = \"x\"\nmisdemeanors-always-dismissed = true",
                "unknown field",
            ),
            (
                "name = \"x\"\n[[rule]]\nid = \"r\"\naction = \"reduce\"\nauthority = \"A\"\nseal = true",
                "[[rule]] #1 (id \"r\"): seal belongs to dismiss, not reduce",
            ),
        ] {
            let error = parse_policy(text, "p.toml").unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
            assert!(error.starts_with("p.toml"), "{error}");
        }
    }

    #[test]
    fn the_starter_profile_parses_but_is_refused_until_edited() {
        let county = County::parse("SAN FRANCISCO").unwrap();
        let [(_, office), (_, contacts), (_, policy)] = starter_files(&county);
        let raw: OfficeProfile = toml::from_str(&office).expect("the starter is a valid profile");
        let placeholders = office_placeholders(&raw);
        assert!(placeholders.contains(&"attorney.state-bar-number".to_string()));
        assert!(placeholders.contains(&"agency.name".to_string()));
        assert!(placeholders.contains(&"court.address[0]".to_string()));
        let error = parse_office(&office, "office.toml")
            .unwrap_err()
            .to_string();
        assert!(
            error.starts_with("office.toml: still has placeholder values"),
            "{error}"
        );
        assert!(office.contains("county = \"County of San Francisco\""));
        assert!(contacts.starts_with("subject_id,cii,"));
        let policy = parse_policy(&policy, "policy.toml").expect("the starter policy parses");
        assert!(policy.rules.is_empty());
        // The shipped sample profile has no placeholder.
        let sample: OfficeProfile = toml::from_str(include_str!("../samples/office.toml")).unwrap();
        assert!(office_placeholders(&sample).is_empty());
    }

    #[test]
    fn parses_gogen_options_like_gogen() {
        let options = parse_gogen_options(
            br#"{"baselineEligibility":{"dismiss":["11357","11358"],"reduce":["11359","11360"]},
                "additionalRelief":{"subjectUnder21AtConviction":true,"subjectAgeThreshold":57,
                "yearsSinceConvictionThreshold":10,"yearsCrimeFreeThreshold":0,
                "subjectHasOnlyProp64Charges":true,"subjectIsDeceased":true,
                "dismissYearsSinceConvictionThreshold":true}}"#,
            "options.json",
        )
        .unwrap();
        assert_eq!(options.dismiss, ["11357", "11358"]);
        assert_eq!(options.subject_age_threshold, 57);
        assert!(
            parse_gogen_options(br#"{"baselineEligibility":{"dismiss":["11362.1"]}}"#, "o")
                .is_err()
        );
        assert!(
            parse_gogen_options(br#"{"additionalRelief":{"subjectAgeThreshold":30}}"#, "o")
                .is_err()
        );
        assert_eq!(
            parse_gogen_options(b"{}", "o").unwrap(),
            GogenOptions::default()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Office profile (TOML)

/// Who files, where, and who signs: everything documents say about the office and the court.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OfficeProfile {
    pub agency: Agency,
    pub attorney: Attorney,
    pub court: Court,
    pub service: Service,
    pub letters: LetterContacts,
}

/// How the public defender is served with notice (HS 11361.9(d)): the declarant of every
/// paper's proof of service, and where and how it is served.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Service {
    /// The person who serves and signs the proof of service.
    pub declarant: String,
    pub declarant_title: String,
    /// "by electronic service to pdnotice@example.org", "by personal delivery".
    pub method: String,
    /// The public defender's service address, lines.
    pub public_defender_address: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Agency {
    /// "San Francisco District Attorney's Office".
    pub name: String,
    /// Street address lines.
    pub address: Vec<String>,
    pub phone: String,
    pub email: String,
    /// The public defender who receives notice under HS 11361.9(d).
    pub public_defender: String,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Attorney {
    pub name: String,
    pub title: String,
    pub state_bar_number: String,
    /// Electronic signature, e.g. "/s/ Jane Q. Prosecutor" (CRC 2.257).
    pub signature: String,
    /// The elected head of office, first in the attorney block, e.g. "ALEX RIVERA, District
    /// Attorney".
    #[serde(default)]
    pub head_of_office: Option<String>,
    /// The head of office's State Bar number, printed beside the name when given.
    #[serde(default)]
    pub head_of_office_state_bar_number: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Court {
    /// "County of San Francisco" (the county line of the court title).
    pub county: String,
    pub address: Vec<String>,
    #[serde(default)]
    pub department: Option<String>,
    /// "Judge of the Superior Court" or "Presiding Judge of the Superior Court".
    #[serde(default = "default_judge_title")]
    pub judge_title: String,
    /// The case number the court gave the omnibus filing, if it has one; otherwise the filing's
    /// caption says the clerk assigns one.
    #[serde(default)]
    pub omnibus_case_number: Option<String>,
    /// The same for the omnibus petition (sentences still being served).
    #[serde(default)]
    pub omnibus_petition_case_number: Option<String>,
    /// The hearing the court set for petitions ("January 15, 2021"), printed in their captions;
    /// blank lines for the clerk when absent.
    #[serde(default)]
    pub hearing_date: Option<String>,
    /// "9:00 a.m."
    #[serde(default)]
    pub hearing_time: Option<String>,
}

fn default_judge_title() -> String {
    "Judge of the Superior Court".into()
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LetterContacts {
    /// Who the letter is from ("Clean Slate Unit").
    pub unit: String,
    pub phone: String,
    pub email: String,
    pub hours_en: String,
    pub hours_es: String,
    /// Who signs the letter.
    pub signer: String,
    pub signer_title_en: String,
    pub signer_title_es: String,
    /// The public defender's number for free legal help: the first line of the letters'
    /// legal-help list ([`Agency::public_defender`] names the office). The prosecutor's
    /// own unit is never on that list (Rules Prof. Conduct, rule 4.3); its number is only for
    /// questions about the letter.
    pub public_defender_phone: String,
    #[serde(default)]
    pub public_defender_website: Option<String>,
    /// The Spanish letters' names for the office ("Fiscalía de San Francisco"), the unit
    /// ("Unidad Clean Slate") and the public defender ("Defensoría Pública de San Francisco");
    /// the English names when absent.
    #[serde(default)]
    pub agency_name_es: Option<String>,
    #[serde(default)]
    pub unit_es: Option<String>,
    #[serde(default)]
    pub public_defender_name_es: Option<String>,
    #[serde(default)]
    pub legal_aid: Vec<LegalAid>,
}

#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct LegalAid {
    pub name: String,
    pub phone: String,
    #[serde(default)]
    pub website: Option<String>,
}

/// Reads and validates an office profile.
pub fn load_office(path: &Path) -> Result<(OfficeProfile, String), ConfigError> {
    let bytes = read(path)?;
    let display = path.display().to_string();
    let text = String::from_utf8(bytes.clone()).map_err(|_| ConfigError::Parse {
        path: display.clone(),
        message: "not UTF-8 text".into(),
    })?;
    Ok((parse_office(&text, &display)?, sha256_hex(&bytes)))
}

/// Parses and checks an office profile; `path` names it in errors.
pub fn parse_office(text: &str, path: &str) -> Result<OfficeProfile, ConfigError> {
    let office: OfficeProfile = toml::from_str(text).map_err(|error| ConfigError::Parse {
        path: path.to_string(),
        message: error.to_string().trim().replace('\n', " "),
    })?;
    let invalid = |message: &str| ConfigError::Invalid {
        path: path.to_string(),
        message: message.to_string(),
    };
    if office.agency.address.is_empty() || office.court.address.is_empty() {
        return Err(invalid(
            "agency.address and court.address need at least one line",
        ));
    }
    if office.agency.address.len() > 4 {
        return Err(invalid(
            "agency.address has more than 4 lines: the attorney block must fit pleading lines 1-7",
        ));
    }
    if office.attorney.state_bar_number.trim().is_empty() {
        return Err(invalid(
            "attorney.state-bar-number is required on the first page of a paper (CRC 2.111)",
        ));
    }
    let placeholders = office_placeholders(&office);
    if !placeholders.is_empty() {
        return Err(invalid(&format!(
            "still has placeholder values from `clearance init`: {}; replace them before anything is filed",
            placeholders.join(", ")
        )));
    }
    Ok(office)
}

/// The marker of a value `clearance init` wrote for the office to replace.
const PLACEHOLDER_MARKER: &str = "[EDIT";

/// Keys of the profile that still hold a placeholder: a value containing `[EDIT`, or a State
/// Bar number of zeros.
fn office_placeholders(office: &OfficeProfile) -> Vec<String> {
    fn walk(prefix: &str, value: &toml::Value, found: &mut Vec<String>) {
        match value {
            toml::Value::String(text) if text.contains(PLACEHOLDER_MARKER) => {
                found.push(prefix.to_string());
            }
            toml::Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    walk(&format!("{prefix}[{index}]"), item, found);
                }
            }
            toml::Value::Table(table) => {
                for (key, item) in table {
                    let path = if prefix.is_empty() {
                        key.clone()
                    } else {
                        format!("{prefix}.{key}")
                    };
                    walk(&path, item, found);
                }
            }
            _ => {}
        }
    }
    let mut found = Vec::new();
    if let Ok(value) = toml::Value::try_from(office) {
        walk("", &value, &mut found);
    }
    let bar = office.attorney.state_bar_number.trim();
    if !bar.is_empty() && bar.bytes().all(|byte| byte == b'0') {
        found.push("attorney.state-bar-number".into());
    }
    found
}

/// The county a court's county line names: "County of San Francisco" and "City and County of
/// San Francisco" both name San Francisco.
pub fn county_of_court(county_line: &str) -> &str {
    let line = county_line.trim();
    line.strip_prefix("City and County of ")
        .or_else(|| line.strip_prefix("County of "))
        .unwrap_or(line)
        .trim()
}

/// The files `clearance init` writes for an office to edit: (file name, contents).
pub fn starter_files(county: &County) -> [(&'static str, String); 3] {
    let title = county.title_case();
    [
        (
            "office.toml",
            include_str!("../templates/starter/office.toml").replace("{{COUNTY}}", &title),
        ),
        (
            "contacts.csv",
            include_str!("../templates/starter/contacts.csv").to_string(),
        ),
        (
            "policy.toml",
            include_str!("../templates/starter/policy.toml").replace("{{COUNTY}}", &title),
        ),
    ]
}

// ---------------------------------------------------------------------------------------------
// Contacts CSV

/// A language a letter can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    En,
    Es,
}

impl Language {
    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
        }
    }

    pub const ALL: [Language; 2] = [Language::En, Language::Es];
}

/// A mailing address and preferred language for a person.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Contact {
    /// The name to print on the envelope; the DOJ name when absent.
    pub mailing_name: Option<String>,
    pub address_lines: Vec<String>,
    pub city: String,
    pub state: String,
    pub zip: String,
    pub language: Option<Language>,
    /// The line of the contacts file it came from (0 when not from a file), for messages.
    #[serde(skip)]
    pub source_line: u64,
}

/// Contacts keyed by SUBJECT_ID and by CII.
#[derive(Clone, Debug, Default)]
pub struct Contacts {
    by_subject: std::collections::HashMap<String, Contact>,
    by_cii: std::collections::HashMap<String, Contact>,
    pub sha256: Option<String>,
    /// The file the contacts came from, as given, for messages.
    pub file: Option<String>,
    /// Located warnings from reading the file (`contacts.csv:1: ...`).
    pub warnings: Vec<String>,
    /// The 0-based column of each known contact column in the file (subject_id, cii,
    /// mailing_name, address_1, address_2, city, state, zip, language), if present.
    pub columns: [Option<usize>; 9],
}

impl Contacts {
    /// Adds a contact under its SUBJECT_ID and/or CII (blank keys are not indexed).
    pub fn insert(&mut self, subject_id: &str, cii: &str, contact: Contact) {
        if !subject_id.is_empty() {
            self.by_subject
                .insert(subject_id.to_string(), contact.clone());
        }
        if !cii.is_empty() {
            self.by_cii.insert(cii.to_string(), contact);
        }
    }

    /// The contact for a person: by SUBJECT_ID, else by CII.
    pub fn find(&self, subject_id: &str, cii: &str) -> Option<&Contact> {
        self.by_subject
            .get(subject_id)
            .or_else(|| self.by_cii.get(cii))
    }

    pub fn len(&self) -> usize {
        self.by_subject.len() + self.by_cii.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The columns of a contacts CSV, and whether each is required.
pub const CONTACT_COLUMNS: [(&str, bool); 9] = [
    ("subject_id", false),
    ("cii", false),
    ("mailing_name", false),
    ("address_1", true),
    ("address_2", false),
    ("city", true),
    ("state", true),
    ("zip", true),
    ("language", false),
];

/// A ZIP code as the Postal Service writes it: five digits, or ZIP+4 (`94103-1234`).
fn is_zip(text: &str) -> bool {
    let digits = |part: &str, count: usize| {
        part.len() == count && part.bytes().all(|byte| byte.is_ascii_digit())
    };
    match text.split_once('-') {
        None => digits(text, 5),
        Some((zip, plus_four)) => digits(zip, 5) && digits(plus_four, 4),
    }
}

/// Reads a contacts CSV, as people save them from spreadsheets: a UTF-8 byte order mark is
/// accepted; text that is not UTF-8 is decoded as Windows-1252 with a warning (`--encoding`
/// decides otherwise); header names are matched in any order, case and surrounding spaces;
/// extra columns are ignored with a warning naming them; a missing required column is named.
/// Columns: `subject_id`, `cii` (at least one of the two), `mailing_name`, `address_1`,
/// `address_2`, `city`, `state`, `zip` (five digits or ZIP+4), `language` (`en`, `es` or blank).
pub fn load_contacts(
    path: &Path,
    encoding: crate::ingest::encoding::Encoding,
) -> Result<Contacts, ConfigError> {
    use crate::ingest::encoding::{self, Encoding};
    let bytes = read(path)?;
    let display = path.display().to_string();
    let invalid = |line: u64, message: String| ConfigError::Invalid {
        path: format!("{display}:{line}"),
        message,
    };
    let mut contacts = Contacts {
        sha256: Some(sha256_hex(&bytes)),
        file: Some(display.clone()),
        ..Contacts::default()
    };
    let body = bytes.strip_prefix(encoding::BOM).unwrap_or(&bytes);
    // Line by line, as DOJ rows are read: one Windows-1252 line never garbles the UTF-8 ones.
    let text = if encoding == Encoding::Windows1252 {
        encoding::decode_windows_1252(body)
    } else if let Ok(text) = std::str::from_utf8(body) {
        text.to_string()
    } else {
        let line = encoding::first_non_utf8_line(body).unwrap_or(1);
        if encoding == Encoding::Utf8 {
            return Err(invalid(line, encoding::NOT_UTF8_AS_TOLD.into()));
        }
        contacts.warnings.push(format!(
            "{display}:{line}: lines that are not valid UTF-8 (the first here) were decoded as Windows-1252 (a spreadsheet's \"CSV\" export): check the names, or pass --encoding"
        ));
        body.split_inclusive(|byte| *byte == b'\n')
            .map(|line| match std::str::from_utf8(line) {
                Ok(text) => text.to_string(),
                Err(_) => encoding::decode_windows_1252(line),
            })
            .collect()
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(false)
        .from_reader(text.as_bytes());
    let csv_error = |error: csv::Error| {
        let line = error.position().map_or(1, csv::Position::line);
        let message = match error.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => format!("expected {expected_len} fields, found {len}"),
            _ => error.to_string(),
        };
        invalid(line, message)
    };
    let header = reader.headers().map_err(csv_error)?.clone();
    let normalized: Vec<String> = header
        .iter()
        .map(|name| name.trim().to_ascii_lowercase().replace(' ', "_"))
        .collect();
    let mut columns = [None; 9];
    for (slot, (name, _)) in columns.iter_mut().zip(CONTACT_COLUMNS) {
        *slot = normalized.iter().position(|found| found == name);
    }
    let missing: Vec<&str> = CONTACT_COLUMNS
        .iter()
        .zip(&columns)
        .filter(|((_, required), found)| *required && found.is_none())
        .map(|((name, _), _)| *name)
        .collect();
    if !missing.is_empty() {
        return Err(invalid(
            1,
            format!(
                "the header has no {} column{}; the columns are {} (any order, any case)",
                missing.join(", "),
                if missing.len() == 1 { "" } else { "s" },
                CONTACT_COLUMNS.map(|(name, _)| name).join(",")
            ),
        ));
    }
    if columns[0].is_none() && columns[1].is_none() {
        return Err(invalid(
            1,
            "the header needs a subject_id or a cii column to match people".into(),
        ));
    }
    let extra: Vec<&str> = header
        .iter()
        .zip(&normalized)
        .filter(|(_, name)| !CONTACT_COLUMNS.iter().any(|(known, _)| known == name))
        .map(|(original, _)| original.trim())
        .collect();
    if !extra.is_empty() {
        contacts.warnings.push(format!(
            "{display}:1: column{} {} ignored (not one clearance reads)",
            if extra.len() == 1 { "" } else { "s" },
            extra
                .iter()
                .map(|name| format!("{name:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    contacts.columns = columns;
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, csv::Position::line);
        let field = |index: usize| {
            columns[index]
                .and_then(|column| record.get(column))
                .unwrap_or_default()
                .trim()
                .to_string()
        };
        if record.iter().all(|cell| cell.trim().is_empty()) {
            continue;
        }
        let language = match field(8).to_lowercase().as_str() {
            "" => None,
            "en" | "english" => Some(Language::En),
            "es" | "spanish" | "español" => Some(Language::Es),
            other => {
                return Err(invalid(
                    line,
                    format!("language {other:?} must be en, es or blank"),
                ));
            }
        };
        let (subject_id, cii) = (field(0), field(1));
        if subject_id.is_empty() && cii.is_empty() {
            return Err(invalid(
                line,
                "a contact needs a subject_id or a cii".into(),
            ));
        }
        let mailing_name = field(2);
        let contact = Contact {
            mailing_name: (!mailing_name.is_empty()).then_some(mailing_name),
            address_lines: [field(3), field(4)]
                .into_iter()
                .filter(|line| !line.is_empty())
                .collect(),
            city: field(5),
            state: field(6),
            zip: field(7),
            language,
            source_line: line,
        };
        // address_1 itself, not just some address line: address_2 alone would print in its place.
        if field(3).is_empty() || contact.city.is_empty() || contact.zip.is_empty() {
            return Err(invalid(line, "address_1, city and zip are required".into()));
        }
        if !is_zip(&contact.zip) {
            return Err(invalid(
                line,
                "zip must be five digits or ZIP+4 (94103 or 94103-1234)".into(),
            ));
        }
        contacts.insert(&subject_id, &cii, contact);
    }
    Ok(contacts)
}
