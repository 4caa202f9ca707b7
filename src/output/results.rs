//! clearance's own result files: `determinations.csv` / `.json`, `errors.json`, `rejects.csv`.

use serde::{Deserialize, Serialize};

use super::{OutputDir, OutputError};
use crate::eligibility::Determination;
use crate::ingest::csv::write_go_record;
use crate::ingest::{CountyTable, Diagnostic, InputFile, Severity};
use crate::model::{Date, Person, parse_offense};

/// One determination as written to `determinations.csv` and `.json` (and read back by
/// `clearance render`). Its schema is the one the service's OpenAPI document gives for
/// `POST /v1/documents/{kind}`, derived here so that it cannot drift from the record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DeterminationRecord {
    pub subject_id: String,
    pub cii: String,
    pub name: String,
    #[schema(value_type = Option<String>, format = Date, pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub dob: Option<Date>,
    pub case_numbers: Vec<String>,
    /// CNT_ORDER.
    pub count_key: String,
    /// The count number within its court step (CNT_ORDER digits 7–9).
    pub count_number: u32,
    /// The county recorded on the conviction.
    pub county: String,
    pub source_file: String,
    pub source_line: u32,
    /// The offence as recorded (OFFENSE_DESCR, or COMMENT_TEXT when redirected).
    pub offense_text: String,
    /// The clerk's description of the offence ("POSSESS MARIJUANA").
    pub offense_description: String,
    /// Parsed statute, canonical ("HS 11357(b)").
    pub statute: String,
    pub code: String,
    pub section: String,
    pub subsections: String,
    pub attempt: bool,
    pub level: String,
    #[schema(value_type = Option<String>, format = Date, pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub conviction_date: Option<Date>,
    #[schema(value_type = Option<String>, format = Date, pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub sentence_end: Option<Date>,
    #[schema(pattern = "^(completed|serving)$")]
    pub track: String,
    #[schema(
        pattern = "^(dismiss_and_seal|redesignate_misdemeanor|redesignate_infraction|not_eligible|needs_review)$"
    )]
    pub outcome: String,
    #[schema(pattern = "^(statute|policy)$")]
    pub basis: String,
    pub authority: String,
    /// A dismissal that also seals the record (the statute's, or the policy's own choice).
    #[serde(default)]
    pub seal: bool,
    pub rule_id: String,
    pub reason: String,
    pub flags: Vec<String>,
    #[schema(
        pattern = "^(dismiss_and_seal|redesignate_misdemeanor|redesignate_infraction|not_eligible|needs_review)$"
    )]
    pub statutory_outcome: Option<String>,
    pub statutory_rule_id: Option<String>,
    pub statutory_reason: Option<String>,
    pub deceased: bool,
    #[schema(value_type = String, format = Date, pattern = r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    pub as_of: Date,
}

const CSV_COLUMNS: [&str; 34] = [
    "subject_id",
    "cii",
    "name",
    "dob",
    "case_numbers",
    "count_key",
    "count_number",
    "county",
    "source_file",
    "source_line",
    "offense_text",
    "offense_description",
    "statute",
    "code",
    "section",
    "subsections",
    "attempt",
    "level",
    "conviction_date",
    "sentence_end",
    "track",
    "outcome",
    "basis",
    "authority",
    "seal",
    "rule_id",
    "reason",
    "flags",
    "statutory_outcome",
    "statutory_rule_id",
    "statutory_reason",
    "deceased",
    "as_of",
    "outcome_words",
];

impl DeterminationRecord {
    fn csv_values(&self) -> Vec<String> {
        let date = |date: Option<Date>| date.map(|date| date.to_string()).unwrap_or_default();
        let outcome_words = match self.outcome.as_str() {
            "dismiss_and_seal" => "Eligible for Dismissal",
            "redesignate_misdemeanor" | "redesignate_infraction" => "Eligible for Reduction",
            "not_eligible" => "Not eligible",
            _ => "Hand Review",
        };
        vec![
            self.subject_id.clone(),
            self.cii.clone(),
            self.name.clone(),
            date(self.dob),
            self.case_numbers.join("; "),
            self.count_key.clone(),
            self.count_number.to_string(),
            self.county.clone(),
            self.source_file.clone(),
            self.source_line.to_string(),
            self.offense_text.clone(),
            self.offense_description.clone(),
            self.statute.clone(),
            self.code.clone(),
            self.section.clone(),
            self.subsections.clone(),
            self.attempt.to_string(),
            self.level.clone(),
            date(self.conviction_date),
            date(self.sentence_end),
            self.track.clone(),
            self.outcome.clone(),
            self.basis.clone(),
            self.authority.clone(),
            self.seal.to_string(),
            self.rule_id.clone(),
            self.reason.clone(),
            self.flags.join(";"),
            self.statutory_outcome.clone().unwrap_or_default(),
            self.statutory_rule_id.clone().unwrap_or_default(),
            self.statutory_reason.clone().unwrap_or_default(),
            self.deceased.to_string(),
            self.as_of.to_string(),
            outcome_words.to_string(),
        ]
    }
}

/// Builds the records of one evaluation.
pub fn determination_records(
    people: &[Person],
    counties: &CountyTable,
    inputs: &[InputFile],
    determinations: &[Determination],
    as_of: Date,
) -> Vec<DeterminationRecord> {
    determinations
        .iter()
        .map(|determination| {
            let person = determination.person(people);
            let conviction = determination.conviction(people);
            let section = conviction.offense.as_ref();
            DeterminationRecord {
                subject_id: person.subject_id.to_string(),
                cii: person.cii.to_string(),
                name: person.name.to_string(),
                dob: person.dob,
                case_numbers: person
                    .case_numbers(conviction.count_key.case_key())
                    .iter()
                    .map(ToString::to_string)
                    .collect(),
                count_key: conviction.count_key.to_string(),
                count_number: conviction.count_key.count_number(),
                county: counties.name(conviction.county),
                source_file: inputs
                    .iter()
                    .find(|input| input.index == conviction.source.file)
                    .map(|input| input.display_name.clone())
                    .unwrap_or_default(),
                source_line: conviction.source.line,
                offense_text: conviction.offense_text.to_string(),
                offense_description: parse_offense(&conviction.offense_text).description,
                statute: section.map(ToString::to_string).unwrap_or_default(),
                code: section
                    .and_then(|section| section.code.as_ref())
                    .map(|code| code.abbreviation().to_string())
                    .unwrap_or_default(),
                section: section
                    .map(|section| section.section.to_string())
                    .unwrap_or_default(),
                subsections: section
                    .map(|section| section.subsections.to_string())
                    .unwrap_or_default(),
                attempt: section.is_some_and(|section| section.attempt),
                level: conviction.level.as_str().to_string(),
                conviction_date: conviction.date,
                sentence_end: determination.sentence_end,
                track: determination.track.as_str().to_string(),
                outcome: determination.outcome().as_str().to_string(),
                basis: determination.basis.as_str().to_string(),
                authority: determination.decision.authority.clone(),
                seal: determination.decision.seal,
                rule_id: determination.decision.rule_id.to_string(),
                reason: determination.decision.reason.clone(),
                flags: determination
                    .flags
                    .iter()
                    .map(|flag| flag.as_str().to_string())
                    .collect(),
                statutory_outcome: determination
                    .statutory
                    .as_ref()
                    .map(|decision| decision.outcome.as_str().to_string()),
                statutory_rule_id: determination
                    .statutory
                    .as_ref()
                    .map(|decision| decision.rule_id.to_string()),
                statutory_reason: determination
                    .statutory
                    .as_ref()
                    .map(|decision| decision.reason.clone()),
                deceased: person.deceased,
                as_of,
            }
        })
        .collect()
}

/// Writes `results/determinations.csv` and `results/determinations.json`.
pub fn write_determinations(
    output: &OutputDir,
    records: &[DeterminationRecord],
) -> Result<(), OutputError> {
    // A spreadsheet CSV: names and offence texts that look like formulas are neutralised.
    let csv = super::spreadsheet_csv(
        &CSV_COLUMNS,
        records.iter().map(DeterminationRecord::csv_values),
    );
    output.write("results/determinations.csv", &csv)?;
    write_json(output, "results/determinations.json", &records)
}

/// Writes pretty JSON with a trailing newline.
pub fn write_json<T: Serialize + ?Sized>(
    output: &OutputDir,
    relative: &str,
    value: &T,
) -> Result<(), OutputError> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(|error| OutputError::Write {
        path: relative.to_string(),
        source: std::io::Error::other(error),
    })?;
    bytes.push(b'\n');
    output.write(relative, &bytes)?;
    Ok(())
}

/// A document that could not be rendered.
#[derive(Clone, Debug, Serialize)]
pub struct DocumentFailure {
    /// The output file that was not written (`cases/SCN1.pdf`).
    pub file: String,
    pub message: String,
}

#[derive(Serialize)]
struct ErrorsFile<'a> {
    errors: usize,
    warnings: usize,
    diagnostics: &'a [Diagnostic],
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    documents_not_rendered: &'a [DocumentFailure],
}

/// Writes `errors.json` with every diagnostic and every document that could not be rendered.
pub fn write_errors(
    output: &OutputDir,
    diagnostics: &[Diagnostic],
    document_failures: &[DocumentFailure],
) -> Result<(), OutputError> {
    let errors = diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.severity == Severity::Error)
        .count();
    write_json(
        output,
        "errors.json",
        &ErrorsFile {
            errors,
            warnings: diagnostics.len() - errors,
            diagnostics,
            documents_not_rendered: document_failures,
        },
    )
}

/// Writes `rejects.csv`: every skipped row with file, line, reason and its text.
pub fn write_rejects(output: &OutputDir, inputs: &[InputFile]) -> Result<(), OutputError> {
    let mut csv = Vec::new();
    write_go_record(&mut csv, [&b"source_file"[..], b"line", b"reason", b"row"]);
    for input in inputs {
        for rejected in &input.rejected {
            let line = rejected.line.to_string();
            write_go_record(
                &mut csv,
                [
                    input.display_name.as_bytes(),
                    line.as_bytes(),
                    rejected.reason.as_bytes(),
                    &rejected.text,
                ],
            );
        }
    }
    output.write("rejects.csv", &csv)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use utoipa::PartialSchema;

    use super::DeterminationRecord;
    use crate::eligibility::{Basis, Outcome, Track};

    /// The schema's patterns name exactly the words the record carries: a new outcome, track
    /// or basis that the schema did not list would be refused by every schema-driven client.
    #[test]
    fn the_record_schema_lists_every_outcome_track_and_basis() {
        let schema = serde_json::to_value(DeterminationRecord::schema()).expect("schema");
        let words = |field: &str| -> Vec<String> {
            let pattern = schema["properties"][field]["pattern"]
                .as_str()
                .unwrap_or_else(|| panic!("{field}: {schema}"));
            pattern
                .trim_start_matches("^(")
                .trim_end_matches(")$")
                .split('|')
                .map(str::to_string)
                .collect()
        };
        let names = |list: Vec<&str>| list.into_iter().map(str::to_string).collect::<Vec<_>>();
        assert_eq!(
            words("outcome"),
            names(
                Outcome::ALL
                    .iter()
                    .map(|outcome| outcome.as_str())
                    .collect()
            )
        );
        // Lists the compiler checks: a new track or basis breaks the build here until it is
        // added to the list (and so to the schema).
        let every_track = [Track::Completed, Track::Serving].map(|track| match track {
            Track::Completed | Track::Serving => track.as_str(),
        });
        let every_basis = [Basis::Statute, Basis::Policy].map(|basis| match basis {
            Basis::Statute | Basis::Policy => basis.as_str(),
        });
        assert_eq!(words("track"), names(every_track.to_vec()));
        assert_eq!(words("basis"), names(every_basis.to_vec()));
        assert_eq!(words("statutory_outcome"), words("outcome"));
        // utoipa takes patterns as literals only, so the date's is written four times: the
        // same every time.
        let date = &schema["properties"]["as_of"]["pattern"];
        assert!(date.is_string());
        for field in ["dob", "conviction_date", "sentence_end"] {
            assert_eq!(&schema["properties"][field]["pattern"], date, "{field}");
        }
    }
}
