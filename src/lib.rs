//! clearance turns the California DOJ bulk criminal-history file into Prop 64 relief.
//!
//! The pipeline, one stage per module:
//! 1. [`ingest`] streams the DOJ file(s) into people, convictions and court cases, collecting a
//!    diagnostic for every bad row;
//! 2. [`eligibility`] decides each conviction under HS 11361.8 and the county's policy (or
//!    reproduces gogen), naming the rule and authority of every decision — pure, with the as-of
//!    date as an argument;
//! 3. [`output`] writes the results atomically: determinations, gogen-compatible CSVs, summary.
//!
//! Later stages (`plan`, `render`, `assemble`) turn determinations into court documents. The
//! binary in `main.rs` only parses arguments and calls [`cli::run`].

pub mod cli;
pub mod config;
pub mod eligibility;
pub mod ingest;
pub mod model;
pub mod output;
pub mod sample;

use std::path::PathBuf;

use config::{CheckConfig, RulesSource};
use eligibility::gogen::{self, GogenSummary};
use eligibility::summary::Statistics;
use eligibility::{Determination, Rules};
use ingest::{Compatibility, Diagnostic, Ingested, Severity};
use model::Date;
use output::{GogenCsvNames, OutputDir, RowResult};

/// The tool's version, written into every output.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A pipeline failure that is not about the input's rows (those are diagnostics).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    #[error(transparent)]
    Output(#[from] output::OutputError),
    #[error(transparent)]
    Config(#[from] config::ConfigError),
}

/// The people of some inputs and what was decided for them. clearance's own rules give one part
/// for all inputs (a person is one person across files); gogen mode gives one part per file.
#[derive(Debug)]
pub struct EvaluatedPart {
    pub ingested: Ingested,
    pub in_county: Vec<bool>,
    pub determinations: Vec<Determination>,
    /// Computed columns of the rows that were evaluated, sorted by row.
    pub row_results: Vec<RowResult>,
    pub gogen_summary: Option<GogenSummary>,
}

/// Everything a run decided.
#[derive(Debug)]
pub struct Evaluation {
    pub parts: Vec<EvaluatedPart>,
    pub as_of: Date,
    pub county: config::County,
    pub rules_source: RulesSource,
}

impl Evaluation {
    pub fn diagnostics(&self) -> impl Iterator<Item = &Diagnostic> {
        self.parts
            .iter()
            .flat_map(|part| &part.ingested.diagnostics)
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics()
            .filter(|diagnostic| diagnostic.severity == Severity::Error)
            .count()
    }

    pub fn determination_records(&self) -> Vec<output::DeterminationRecord> {
        self.parts
            .iter()
            .flat_map(|part| {
                output::determination_records(
                    &part.ingested.people,
                    &part.ingested.counties,
                    &part.ingested.files,
                    &part.determinations,
                    self.as_of,
                )
            })
            .collect()
    }

    pub fn statistics(&self) -> Statistics {
        let mut total = Statistics::default();
        for part in &self.parts {
            let statistics = eligibility::summary::statistics(
                &part.ingested.people,
                &part.in_county,
                &part.determinations,
            );
            total.merge(statistics);
        }
        total
    }
}

/// Reads the inputs and decides every conviction: stages 1 and 2.
pub fn evaluate_inputs(
    inputs: &[PathBuf],
    county: &config::County,
    rules: &Rules,
    rules_source: &RulesSource,
    as_of: Date,
    jobs: usize,
    progress: &(dyn Fn(ingest::Progress) + Sync),
) -> Result<Evaluation, PipelineError> {
    let parts = match rules {
        Rules::Clearance(policy) => {
            let ingested = ingest::read_doj_files(
                inputs,
                ingest::ReadOptions::new(Compatibility::Clearance, jobs),
                progress,
            )?;
            let in_county = ingested
                .counties
                .matches(county.name(), Compatibility::Clearance);
            let determinations = eligibility::evaluate(&ingested.people, &in_county, policy, as_of);
            let row_results = row_results_for(&ingested, &determinations, as_of, |determination| {
                (
                    determination.outcome().gogen_words().to_string(),
                    determination.decision.reason.clone(),
                )
            });
            vec![EvaluatedPart {
                ingested,
                in_county,
                determinations,
                row_results,
                gogen_summary: None,
            }]
        }
        Rules::Gogen(options) => {
            let mut parts = Vec::with_capacity(inputs.len());
            for (file_index, input) in inputs.iter().enumerate() {
                // gogen evaluates each file on its own: a person is not merged across files.
                let mut ingested = ingest::read_doj_files(
                    std::slice::from_ref(input),
                    ingest::ReadOptions::new(Compatibility::Gogen, jobs),
                    progress,
                )?;
                ingested.renumber_files(u16::try_from(file_index).unwrap_or(u16::MAX));
                let in_county = ingested
                    .counties
                    .matches(county.name(), Compatibility::Gogen);
                let decisions = gogen::evaluate(&ingested.people, &in_county, options, as_of);
                let determinations = gogen::to_determinations(&ingested.people, &decisions, as_of);
                let words: std::collections::HashMap<(usize, usize), (&str, &str)> = decisions
                    .iter()
                    .map(|decision| {
                        (
                            (decision.person_index, decision.conviction_index),
                            (decision.determination, decision.reason.as_str()),
                        )
                    })
                    .collect();
                let row_results =
                    row_results_for(&ingested, &determinations, as_of, |determination| {
                        let (words, reason) =
                            words[&(determination.person_index, determination.conviction_index)];
                        (words.to_string(), reason.to_string())
                    });
                let summary = gogen::summarize(
                    &ingested.people,
                    &in_county,
                    &decisions,
                    options,
                    county.name(),
                    ingested.total_accepted_rows(),
                    as_of,
                );
                parts.push(EvaluatedPart {
                    ingested,
                    in_county,
                    determinations,
                    row_results,
                    gogen_summary: Some(summary),
                });
            }
            parts
        }
    };
    Ok(Evaluation {
        parts,
        as_of,
        county: county.clone(),
        rules_source: rules_source.clone(),
    })
}

fn row_results_for(
    ingested: &Ingested,
    determinations: &[Determination],
    as_of: Date,
    words: impl Fn(&Determination) -> (String, String),
) -> Vec<RowResult> {
    let mut results: Vec<RowResult> = determinations
        .iter()
        .map(|determination| {
            let person = determination.person(&ingested.people);
            let conviction = determination.conviction(&ingested.people);
            let (determination_words, reason) = words(determination);
            RowResult {
                row: conviction.source,
                columns: gogen::computed_columns(
                    person,
                    conviction,
                    as_of,
                    &determination_words,
                    &reason,
                )
                .values(""),
            }
        })
        .collect();
    results.sort_by_key(|result| result.row);
    results
}

/// What `check` did.
#[derive(Debug)]
pub struct CheckReport {
    pub out_dir: PathBuf,
    /// The run was refused because of bad rows (only `errors.json` was written).
    pub refused: bool,
    pub errors: usize,
    pub warnings: usize,
    pub rejected_rows: usize,
    pub statistics: Option<Statistics>,
    /// Wall time of each stage, for benchmarks (never written into outputs).
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// `clearance check`: eligibility only, results and summary written atomically.
pub fn check(
    config: &CheckConfig,
    progress: &(dyn Fn(ingest::Progress) + Sync),
) -> Result<CheckReport, PipelineError> {
    let mut timings = Vec::new();
    let started = std::time::Instant::now();
    let evaluation = evaluate_inputs(
        &config.inputs,
        &config.county,
        &config.rules,
        &config.rules_source,
        config.as_of,
        config.jobs,
        progress,
    )?;
    timings.push(("ingest and eligibility", started.elapsed()));
    let diagnostics: Vec<Diagnostic> = evaluation.diagnostics().cloned().collect();
    let errors = evaluation.error_count();
    let warnings = diagnostics.len() - errors;
    let rejected_rows: usize = evaluation
        .parts
        .iter()
        .flat_map(|part| &part.ingested.files)
        .map(|file| file.rejected.len())
        .sum();
    let output = OutputDir::create(&config.out_dir)?;
    if errors > 0 && !config.skip_bad_rows {
        output::write_errors(&output, &diagnostics)?;
        let out_dir = output.commit()?;
        return Ok(CheckReport {
            out_dir,
            refused: true,
            errors,
            warnings,
            rejected_rows,
            statistics: None,
            timings,
        });
    }
    let started = std::time::Instant::now();
    let statistics = write_results(&output, &evaluation, config.skip_bad_rows)?;
    let out_dir = output.commit()?;
    timings.push(("outputs", started.elapsed()));
    Ok(CheckReport {
        out_dir,
        refused: false,
        errors,
        warnings,
        rejected_rows,
        statistics: Some(statistics),
        timings,
    })
}

/// Writes the `results/` folder, `summary.json`, and `errors.json` / `rejects.csv` when there
/// were diagnostics. Returns the statistics written.
pub fn write_results(
    output: &OutputDir,
    evaluation: &Evaluation,
    skipped_bad_rows: bool,
) -> Result<Statistics, PipelineError> {
    let diagnostics: Vec<Diagnostic> = evaluation.diagnostics().cloned().collect();
    let records = evaluation.determination_records();
    output::write_determinations(output, &records)?;

    let several_gogen_parts = evaluation.parts.len() > 1;
    for (index, part) in evaluation.parts.iter().enumerate() {
        let names = GogenCsvNames::new(several_gogen_parts.then_some(index + 1));
        let inputs: Vec<&ingest::InputFile> = part.ingested.files.iter().collect();
        output::write_gogen_csvs(output, &names, &inputs, &part.row_results)?;
    }
    let gogen_summary = evaluation
        .parts
        .iter()
        .filter_map(|part| part.gogen_summary.clone())
        .reduce(|mut total, next| {
            total.accumulate(next);
            total
        });
    if let Some(summary) = &gogen_summary {
        output::write_json(
            output,
            "results/gogen_summary.json",
            &summary_json::gogen(summary),
        )?;
    }

    let statistics = evaluation.statistics();
    let summary = summary_json::Summary::new(evaluation, &statistics, &diagnostics);
    output::write_json(output, "summary.json", &summary)?;
    if !diagnostics.is_empty() {
        output::write_errors(output, &diagnostics)?;
    }
    if skipped_bad_rows && summary.rejected_rows > 0 {
        let inputs: Vec<ingest::InputFile> = evaluation
            .parts
            .iter()
            .flat_map(|part| part.ingested.files.iter().cloned())
            .collect();
        output::write_rejects(output, &inputs)?;
    }
    Ok(statistics)
}

/// The shapes of `summary.json` and `gogen_summary.json`.
pub mod summary_json {
    use std::collections::BTreeMap;

    use serde::Serialize;

    use super::{Evaluation, VERSION};
    use crate::config::RulesSource;
    use crate::eligibility::gogen::GogenSummary;
    use crate::eligibility::summary::Statistics;
    use crate::ingest::{Diagnostic, Severity};
    use crate::model::Date;

    #[derive(Serialize)]
    pub struct InputSummary {
        pub file: String,
        pub data_rows: u32,
        pub physical_lines: u64,
        pub bytes: u64,
        pub had_header: bool,
        pub rejected_rows: usize,
    }

    #[derive(Serialize)]
    pub struct Summary<'a> {
        pub tool: &'static str,
        pub version: &'static str,
        pub as_of: Date,
        pub county: &'a str,
        pub rules: &'a RulesSource,
        pub inputs: Vec<InputSummary>,
        pub input_rows: u64,
        pub rejected_rows: usize,
        pub errors: usize,
        pub warnings: usize,
        pub statistics: &'a Statistics,
    }

    impl<'a> Summary<'a> {
        pub fn new(
            evaluation: &'a Evaluation,
            statistics: &'a Statistics,
            diagnostics: &[Diagnostic],
        ) -> Summary<'a> {
            let inputs: Vec<InputSummary> = evaluation
                .parts
                .iter()
                .flat_map(|part| &part.ingested.files)
                .map(|file| InputSummary {
                    file: file.display_name.clone(),
                    data_rows: file.accepted_rows,
                    physical_lines: file.physical_lines,
                    bytes: file.bytes,
                    had_header: file.had_header,
                    rejected_rows: file.rejected.len(),
                })
                .collect();
            let errors = diagnostics
                .iter()
                .filter(|diagnostic| diagnostic.severity == Severity::Error)
                .count();
            Summary {
                tool: "clearance",
                version: VERSION,
                as_of: evaluation.as_of,
                county: evaluation.county.name(),
                rules: &evaluation.rules_source,
                input_rows: inputs.iter().map(|input| u64::from(input.data_rows)).sum(),
                rejected_rows: inputs.iter().map(|input| input.rejected_rows).sum(),
                inputs,
                errors,
                warnings: diagnostics.len() - errors,
                statistics,
            }
        }
    }

    /// gogen's summary keys, in its order (maps sorted, as Go's encoder sorts them).
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    pub struct GogenSummaryJson {
        county: String,
        earliest_conviction: String,
        line_count: u64,
        relief_with_current_eligibility_choices: BTreeMap<&'static str, u64>,
        relief_with_dismiss_all_prop64: BTreeMap<&'static str, u64>,
        prop64_convictions_count_in_county_by_code_section: BTreeMap<String, u64>,
        subjects_with_prop64_conviction_count_in_county: u64,
        prop64_felony_convictions_count_in_county: u64,
        prop64_non_felony_convictions_count_in_county: u64,
        subjects_with_some_relief_count: u64,
        conviction_dismissal_count_by_code_section: BTreeMap<String, u64>,
        conviction_reduction_count_by_code_section: BTreeMap<String, u64>,
        conviction_dismissal_count_by_additional_relief: BTreeMap<String, u64>,
    }

    pub fn gogen(summary: &GogenSummary) -> GogenSummaryJson {
        let relief = |counts: crate::eligibility::gogen::ReliefCounts| {
            BTreeMap::from([
                ("CountSubjectsNoConviction", counts.no_conviction),
                (
                    "CountSubjectsNoConvictionLast7Years",
                    counts.no_conviction_last_7_years,
                ),
                ("CountSubjectsNoFelony", counts.no_felony),
            ])
        };
        GogenSummaryJson {
            county: summary.county.clone(),
            earliest_conviction: summary
                .earliest_conviction
                .map(|date| format!("{date}T00:00:00Z"))
                .unwrap_or_default(),
            line_count: summary.line_count,
            relief_with_current_eligibility_choices: relief(summary.relief_with_current_choices),
            relief_with_dismiss_all_prop64: relief(summary.relief_with_dismiss_all_prop64),
            prop64_convictions_count_in_county_by_code_section: summary
                .prop64_convictions_in_county_by_section
                .clone(),
            subjects_with_prop64_conviction_count_in_county: summary
                .subjects_with_prop64_conviction_in_county,
            prop64_felony_convictions_count_in_county: summary.prop64_felony_convictions_in_county,
            prop64_non_felony_convictions_count_in_county: summary
                .prop64_non_felony_convictions_in_county,
            subjects_with_some_relief_count: summary.subjects_with_some_relief,
            conviction_dismissal_count_by_code_section: summary.dismissals_by_section.clone(),
            conviction_reduction_count_by_code_section: summary.reductions_by_section.clone(),
            conviction_dismissal_count_by_additional_relief: summary
                .dismissals_by_additional_relief
                .clone(),
        }
    }
}
