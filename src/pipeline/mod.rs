//! The pipeline as one API that `cli` and `server` both drive: ingest → eligibility → plan →
//! render → assemble → output, as the commands `check` (results only), `run` (results and
//! documents), `render` (documents from saved determinations) and `templates check`.
//!
//! Each command reports its stages as they go ([`Stage`], with done and total counts) to a
//! [`Progress`] observer, and checks a [`Cancellation`] between stages and between chunks of
//! documents: a cancelled command stops at the next chunk with [`PipelineError::Cancelled`] and
//! leaves the output folder as it was (nothing is committed).

use crate::{assemble, config, eligibility, ingest, model, output, plan, render, sample};

use std::path::PathBuf;

use config::{CheckConfig, RulesSource};
use eligibility::gogen::{self, GogenSummary};
use eligibility::summary::Statistics;
use eligibility::{Determination, Rules};
use ingest::{Compatibility, Diagnostic, Ingested, Severity};
use model::Date;
use output::{GogenCsvNames, OutputDir, RowResult};

pub use documents::{SinglePaper, SinglePaperError, VOLUME_LIMIT_BYTES, single_paper};
pub use progress::{Cancellation, Observer, Progress, Stage, StageCounter};

mod documents;
mod progress;

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
    #[error(transparent)]
    Render(#[from] render::RenderError),
    #[error(transparent)]
    Assemble(#[from] assemble::AssembleError),
    #[error(transparent)]
    Determinations(#[from] DeterminationsError),
    /// The driver cancelled the command; nothing was committed.
    #[error("cancelled")]
    Cancelled,
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

    /// Renames the inputs (and the diagnostics naming them) relative to `folder`.
    pub fn name_inputs_relative_to(&mut self, folder: &std::path::Path) {
        for part in &mut self.parts {
            name_inputs_relative_to(&mut part.ingested, folder);
        }
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

fn name_inputs_relative_to(ingested: &mut Ingested, folder: &std::path::Path) {
    for file in &mut ingested.files {
        let Ok(relative) = file.path.strip_prefix(folder) else {
            continue;
        };
        let name = relative.display().to_string();
        for diagnostic in &mut ingested.diagnostics {
            if diagnostic.file == file.display_name {
                diagnostic.file.clone_from(&name);
            }
        }
        file.display_name = name;
    }
}

/// Reads the inputs as `check` would, without deciding anything, and returns every diagnostic
/// (errors and warnings): the service refuses a batch whose rows `run` would refuse before
/// accepting it.
pub fn validate_inputs(config: &CheckConfig) -> Result<Vec<Diagnostic>, PipelineError> {
    let options = |compatibility| ingest::ReadOptions {
        encoding: config.encoding,
        ..ingest::ReadOptions::new(compatibility, config.jobs)
    };
    let files: Vec<&[PathBuf]> = match config.rules {
        Rules::Clearance(_) => vec![&config.inputs],
        // gogen reads each file on its own (see `evaluate_inputs`).
        Rules::Gogen(_) => config.inputs.chunks(1).collect(),
    };
    let compatibility = match config.rules {
        Rules::Clearance(_) => Compatibility::Clearance,
        Rules::Gogen(_) => Compatibility::Gogen,
    };
    let mut diagnostics = Vec::new();
    for inputs in files {
        let mut ingested = ingest::read_doj_files(inputs, options(compatibility), &|_| {})?;
        if let Some(folder) = &config.names_relative_to {
            name_inputs_relative_to(&mut ingested, folder);
        }
        diagnostics.append(&mut ingested.diagnostics);
    }
    Ok(diagnostics)
}

/// Reads the inputs and decides every conviction: stages 1 and 2.
pub fn evaluate_inputs(
    inputs: &[PathBuf],
    county: &config::County,
    rules: &Rules,
    rules_source: &RulesSource,
    as_of: Date,
    reading: &ReadSettings,
    observer: &Observer<'_>,
) -> Result<Evaluation, PipelineError> {
    observer.check()?;
    // The reading stage counts bytes through all the inputs.
    let sizes: Vec<u64> = inputs
        .iter()
        .map(|input| std::fs::metadata(input).map_or(0, |metadata| metadata.len()))
        .collect();
    let total_bytes: u64 = sizes.iter().sum();
    let sizes = &sizes;
    let reading_progress = |offset: usize| {
        let before: u64 = sizes[..offset.min(sizes.len())].iter().sum();
        move |update: ingest::Progress| {
            let earlier: u64 = sizes[offset..(offset + update.file_index).min(sizes.len())]
                .iter()
                .sum();
            observer.report(
                Stage::Reading,
                (before + earlier + update.bytes_read).min(total_bytes),
                total_bytes,
            );
        }
    };
    let read_options = |compatibility| {
        let defaults = ingest::ReadOptions::new(compatibility, reading.jobs);
        ingest::ReadOptions {
            encoding: reading.encoding,
            min_chunk_bytes: reading.min_chunk_bytes.unwrap_or(defaults.min_chunk_bytes),
            ..defaults
        }
    };
    let parts = match rules {
        Rules::Clearance(policy) => {
            let ingested = ingest::read_doj_files(
                inputs,
                read_options(Compatibility::Clearance),
                &reading_progress(0),
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
                    read_options(Compatibility::Gogen),
                    &reading_progress(file_index),
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

/// How the DOJ files are read.
#[derive(Clone, Copy, Debug)]
pub struct ReadSettings {
    pub jobs: usize,
    pub encoding: ingest::encoding::Encoding,
    /// Split a file for parallel reading only into chunks of at least this many bytes; `None`
    /// for the default. Tests make it small so that small files are read in many chunks.
    pub min_chunk_bytes: Option<u64>,
}

/// What `check` did.
#[derive(Debug)]
pub struct CheckReport {
    pub out_dir: PathBuf,
    /// Leftovers of dead runs removed (or a set-aside output put back) before writing.
    pub leftovers: Vec<PathBuf>,
    /// The run was refused because of bad rows (only `errors.json` was written).
    pub refused: bool,
    pub errors: usize,
    pub warnings: usize,
    pub rejected_rows: usize,
    pub statistics: Option<Statistics>,
    /// Wall time of each stage, for benchmarks (never written into outputs).
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// The first half shared by `check` and `run`: decide, then either refuse (bad rows, only
/// `errors.json` written and committed) or write the results into a staging folder.
enum Decided {
    Refused(Box<CheckReport>),
    Accepted(Box<Accepted>),
}

struct Accepted {
    evaluation: Evaluation,
    output: OutputDir,
    statistics: Statistics,
    diagnostics: Vec<Diagnostic>,
    report: CheckReport,
}

fn decide_and_write_results(
    config: &CheckConfig,
    observer: &Observer<'_>,
) -> Result<Decided, PipelineError> {
    // The output folder is taken first: a second run into it fails before reading anything.
    let output = OutputDir::create(&config.out_dir, config.output)?;
    let mut timings = Vec::new();
    let started = std::time::Instant::now();
    let evaluation = evaluate_inputs(
        &config.inputs,
        &config.county,
        &config.rules,
        &config.rules_source,
        config.as_of,
        &ReadSettings {
            jobs: config.jobs,
            encoding: config.encoding,
            min_chunk_bytes: config.min_chunk_bytes,
        },
        observer,
    )?;
    let mut evaluation = evaluation;
    if let Some(folder) = &config.names_relative_to {
        evaluation.name_inputs_relative_to(folder);
    }
    timings.push(("ingest and eligibility", started.elapsed()));
    observer.report(Stage::Deciding, 0, 1);
    let diagnostics: Vec<Diagnostic> = evaluation.diagnostics().cloned().collect();
    let errors = evaluation.error_count();
    let warnings = diagnostics.len() - errors;
    let rejected_rows: usize = evaluation
        .parts
        .iter()
        .flat_map(|part| &part.ingested.files)
        .map(|file| file.rejected.len())
        .sum();
    let mut report = CheckReport {
        out_dir: config.out_dir.clone(),
        leftovers: output.leftovers().to_vec(),
        refused: false,
        errors,
        warnings,
        rejected_rows,
        statistics: None,
        timings,
    };
    if errors > 0 && !config.skip_bad_rows {
        output::write_errors(&output, &diagnostics, &[])?;
        report.out_dir = output.commit()?;
        report.refused = true;
        return Ok(Decided::Refused(Box::new(report)));
    }
    let started = std::time::Instant::now();
    let statistics = write_results(&output, &evaluation, config.skip_bad_rows)?;
    report.timings.push(("results", started.elapsed()));
    observer.report(Stage::Deciding, 1, 1);
    report.statistics = Some(statistics.clone());
    Ok(Decided::Accepted(Box::new(Accepted {
        evaluation,
        output,
        statistics,
        diagnostics,
        report,
    })))
}

/// `clearance check`: eligibility only, results and summary written atomically.
pub fn check(config: &CheckConfig, observer: &Observer<'_>) -> Result<CheckReport, PipelineError> {
    match decide_and_write_results(config, observer)? {
        Decided::Refused(report) => Ok(*report),
        Decided::Accepted(accepted) => {
            let Accepted {
                output, mut report, ..
            } = *accepted;
            report.out_dir = output.commit()?;
            Ok(report)
        }
    }
}

/// What documents to make, and from what, besides the determinations.
pub struct DocumentConfig {
    pub office: config::OfficeProfile,
    pub office_sha256: String,
    pub contacts: config::Contacts,
    pub templates: render::Templates,
    /// Write notification letters.
    pub letters: bool,
    /// Notices at filing, or letters after the order.
    pub letter_mode: plan::LetterMode,
    /// Also write the filing with full (unredacted) exhibits, to be lodged under seal.
    pub full_exhibits: bool,
    /// Court bundles larger than this are split into volumes.
    pub volume_limit_bytes: u64,
    pub jobs: usize,
}

/// Validated settings of `clearance run`: `check`'s, plus what documents need.
pub struct RunConfig {
    pub check: CheckConfig,
    pub documents: DocumentConfig,
}

/// What the document stage did.
#[derive(Debug, Default)]
pub struct DocumentsReport {
    /// Documents that could not be rendered (also in errors.json).
    pub failures: Vec<output::DocumentFailure>,
    /// Found before rendering: data that no shipped font can show, located, with the documents
    /// it will stop (also in errors.json).
    pub warnings: Vec<Diagnostic>,
    /// PDFs written, by output path.
    pub written: std::collections::BTreeMap<String, output::OutputDocument>,
    /// Hashes of the files written by the writer thread.
    pub hashes: output::KnownHashes,
    /// The papers' date against the challenge deadline, counted from what was planned (for
    /// `render`, which has no statistics; `run` reports the same from its statistics).
    pub deadline: Option<crate::eligibility::DeadlineFacts>,
}

/// What `run` did.
#[derive(Debug)]
pub struct RunReport {
    pub check: CheckReport,
    pub documents: DocumentsReport,
}

/// `clearance run`: the whole pipeline, results and documents, written atomically.
pub fn run(config: &RunConfig, observer: &Observer<'_>) -> Result<RunReport, PipelineError> {
    let check = &config.check;
    let Accepted {
        evaluation,
        output,
        statistics,
        diagnostics,
        report: mut check_report,
    } = match decide_and_write_results(check, observer)? {
        Decided::Refused(report) => {
            return Ok(RunReport {
                check: *report,
                documents: DocumentsReport::default(),
            });
        }
        Decided::Accepted(accepted) => *accepted,
    };
    let rejected_rows = check_report.rejected_rows;
    let mut timings = std::mem::take(&mut check_report.timings);
    let records = evaluation.determination_records();
    let files: Vec<(PathBuf, String, u32)> = evaluation
        .parts
        .iter()
        .flat_map(|part| &part.ingested.files)
        .map(|file| {
            (
                file.path.clone(),
                file.display_name.clone(),
                file.accepted_rows,
            )
        })
        .collect();
    // The people and rows are not needed for documents: free them before rendering.
    drop(evaluation);
    let facts = render::documents::SummaryFacts {
        statistics: &statistics,
        county: check.county.name(),
        rules_kind: check.rules_source.kind,
        rules_name: &check.rules_source.name,
        rules_sha256: check.rules_source.sha256.as_deref(),
        input_files: files.len(),
        input_rows: files.iter().map(|(_, _, rows)| u64::from(*rows)).sum(),
        rejected_rows,
        documents: Vec::new(),
        policy_rules: render::documents::policy_rule_descriptions(&records),
    };
    let mut documents = write_documents(
        &output,
        &records,
        check.as_of,
        &config.documents,
        Some(facts),
        &mut timings,
        observer,
    )?;
    check_report.out_dir = finish_documents(
        output,
        &diagnostics,
        &mut documents,
        config.documents.jobs,
        &mut timings,
        || {
            let inputs = files
                .iter()
                .map(|(path, display_name, _)| manifest_input(path, display_name))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(manifest_header(
                check.as_of,
                check.county.name(),
                inputs,
                &check.rules_source,
                &config.documents,
            ))
        },
        observer,
    )?;
    check_report.timings = timings;
    Ok(RunReport {
        check: check_report,
        documents,
    })
}

/// Settings of `clearance render`: documents from a `determinations.json` written earlier.
pub struct RenderConfig {
    pub determinations: PathBuf,
    /// The date the documents carry when the file has no determinations to take it from.
    pub as_of: Option<Date>,
    pub out_dir: PathBuf,
    pub output: output::OutputOptions,
    pub documents: DocumentConfig,
}

/// What `render` did.
#[derive(Debug)]
pub struct RenderReport {
    pub out_dir: PathBuf,
    /// Leftovers of dead runs removed (or a set-aside output put back) before writing.
    pub leftovers: Vec<PathBuf>,
    pub determinations: usize,
    pub documents: DocumentsReport,
    pub timings: Vec<(&'static str, std::time::Duration)>,
}

/// Errors reading a determinations file for `clearance render`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DeterminationsError {
    #[error("{path}: cannot read determinations")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{column}: not a clearance determinations.json: {message}")]
    Parse {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{path}: determinations have different as-of dates ({first} and {other})")]
    MixedAsOf {
        path: String,
        first: Date,
        other: Date,
    },
    #[error("{path}: the determinations are as of {file}, but --as-of is {given}")]
    AsOfDisagrees {
        path: String,
        file: Date,
        given: Date,
    },
    #[error("{path}: no determinations, so nothing to date the documents with; pass --as-of")]
    EmptyNeedsAsOf { path: String },
}

/// `clearance render`: the documents for determinations made earlier (and perhaps edited by a
/// reviewer), dated with the determinations' as-of date, written atomically.
pub fn render_determinations(
    config: &RenderConfig,
    observer: &Observer<'_>,
) -> Result<RenderReport, PipelineError> {
    let output = OutputDir::create(&config.out_dir, config.output)?;
    observer.report(Stage::ReadingDeterminations, 0, 1);
    let leftovers = output.leftovers().to_vec();
    let path = config.determinations.display().to_string();
    let mut timings = Vec::new();
    let started = std::time::Instant::now();
    let bytes =
        std::fs::read(&config.determinations).map_err(|source| DeterminationsError::Read {
            path: path.clone(),
            source,
        })?;
    let records: Vec<output::DeterminationRecord> =
        serde_json::from_slice(&bytes).map_err(|error| DeterminationsError::Parse {
            path: path.clone(),
            line: error.line(),
            column: error.column(),
            // serde_json's messages name the field and expected type, never the value.
            message: error.to_string(),
        })?;
    // Hashed from the bytes already read, for the manifest.
    let determinations_input = output::ManifestInput {
        path: path.clone(),
        sha256: config::sha256_hex(&bytes),
        size: bytes.len() as u64,
    };
    drop(bytes);
    // The documents are dated with the determinations' as-of date, never the clock: an empty
    // file needs --as-of, and one that disagrees with the file is refused.
    let as_of = match (records.first(), config.as_of) {
        (Some(first), given) => {
            if let Some(other) = records.iter().find(|record| record.as_of != first.as_of) {
                return Err(DeterminationsError::MixedAsOf {
                    path,
                    first: first.as_of,
                    other: other.as_of,
                }
                .into());
            }
            if let Some(given) = given
                && given != first.as_of
            {
                return Err(DeterminationsError::AsOfDisagrees {
                    path,
                    file: first.as_of,
                    given,
                }
                .into());
            }
            first.as_of
        }
        (None, Some(given)) => given,
        (None, None) => return Err(DeterminationsError::EmptyNeedsAsOf { path }.into()),
    };
    timings.push(("read determinations", started.elapsed()));
    observer.report(Stage::ReadingDeterminations, 1, 1);
    let mut documents = write_documents(
        &output,
        &records,
        as_of,
        &config.documents,
        None,
        &mut timings,
        observer,
    )?;
    let out_dir = finish_documents(
        output,
        &[],
        &mut documents,
        config.documents.jobs,
        &mut timings,
        || {
            let county = records
                .first()
                .map_or_else(String::new, |record| record.county.clone());
            let inputs = vec![determinations_input];
            let rules = RulesSource {
                kind: "determinations",
                name: path.clone(),
                path: Some(path.clone()),
                sha256: None,
            };
            Ok(manifest_header(
                as_of,
                &county,
                inputs,
                &rules,
                &config.documents,
            ))
        },
        observer,
    )?;
    Ok(RenderReport {
        out_dir,
        leftovers,
        determinations: records.len(),
        documents,
        timings,
    })
}

/// The end of every run that writes documents: `errors.json` when documents failed (with the
/// input's diagnostics), `manifest.json` (its header built by `header`, timed with it), then
/// the output folder swapped into place. Failures come back sorted by file.
fn finish_documents(
    output: OutputDir,
    diagnostics: &[Diagnostic],
    documents: &mut DocumentsReport,
    jobs: usize,
    timings: &mut Vec<(&'static str, std::time::Duration)>,
    header: impl FnOnce() -> Result<output::ManifestHeader, PipelineError>,
    observer: &Observer<'_>,
) -> Result<PathBuf, PipelineError> {
    observer.check()?;
    observer.report(Stage::Finishing, 0, 1);
    if !documents.failures.is_empty() || !documents.warnings.is_empty() {
        let all: Vec<Diagnostic> = diagnostics
            .iter()
            .chain(&documents.warnings)
            .cloned()
            .collect();
        output::write_errors(&output, &all, &documents.failures)?;
    }
    let started = std::time::Instant::now();
    let header = header()?;
    output::write_manifest(
        &output,
        &header,
        &documents.written,
        &documents.hashes,
        jobs,
    )?;
    timings.push(("manifest", started.elapsed()));
    let started = std::time::Instant::now();
    // The last chance to stop: after the commit the output is the new one.
    observer.check()?;
    let out_dir = output.commit()?;
    timings.push(("commit the output folder", started.elapsed()));
    observer.report(Stage::Finishing, 1, 1);
    documents.failures.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(out_dir)
}

fn manifest_input(
    path: &std::path::Path,
    display_name: &str,
) -> Result<output::ManifestInput, PipelineError> {
    let (sha256, size) = output::hash_file(path)?;
    Ok(output::ManifestInput {
        path: display_name.to_string(),
        sha256,
        size,
    })
}

fn manifest_header(
    as_of: Date,
    county: &str,
    inputs: Vec<output::ManifestInput>,
    rules: &RulesSource,
    documents: &DocumentConfig,
) -> output::ManifestHeader {
    output::ManifestHeader {
        tool: "clearance",
        version: crate::VERSION,
        as_of: as_of.to_string(),
        county: county.to_string(),
        inputs,
        rules: serde_json::json!({
            "kind": rules.kind,
            "name": rules.name,
            "sha256": rules.sha256,
        }),
        office_sha256: documents.office_sha256.clone(),
        contacts_sha256: documents.contacts.sha256.clone(),
        letters: match &documents.letter_mode {
            plan::LetterMode::Notice => serde_json::json!({
                "written": documents.letters,
                "mode": "notice",
            }),
            plan::LetterMode::PostOrder { order_date, judge } => serde_json::json!({
                "written": documents.letters,
                "mode": "post-order",
                "order_date": order_date.to_string(),
                "judge": judge,
            }),
        },
        templates: documents
            .templates
            .files
            .iter()
            .map(|file| output::ManifestTemplate {
                name: file.name.clone(),
                sha256: config::sha256_hex(file.text.as_bytes()),
                overridden: file.overridden_from.is_some(),
            })
            .collect(),
    }
}

/// `clearance templates check`: renders every document from [`sample::template_records`] into a
/// scratch folder that is removed afterwards, and reports what failed.
pub fn check_templates(config: &DocumentConfig) -> Result<DocumentsReport, PipelineError> {
    let as_of = Date::from_ymd_const(2020, 7, 1);
    let (records, contacts) = sample::template_records(as_of);
    // Never committed: dropping it removes everything rendered into it.
    let scratch = output::ScratchOutput::create("clearance-templates-check-")?;
    let config = DocumentConfig {
        office: config.office.clone(),
        office_sha256: config.office_sha256.clone(),
        contacts,
        templates: config.templates.clone(),
        letters: true,
        letter_mode: plan::LetterMode::Notice,
        full_exhibits: true,
        volume_limit_bytes: config.volume_limit_bytes,
        jobs: config.jobs,
    };
    let statistics = Statistics::default();
    let facts = render::documents::SummaryFacts {
        statistics: &statistics,
        county: "SAN FRANCISCO",
        rules_kind: "statutory",
        rules_name: "statute",
        rules_sha256: None,
        input_files: 1,
        input_rows: records.len() as u64,
        rejected_rows: 0,
        documents: Vec::new(),
        policy_rules: std::collections::BTreeMap::new(),
    };
    let report = write_documents(
        &scratch.output,
        &records,
        as_of,
        &config,
        Some(facts),
        &mut Vec::new(),
        &Observer::silent(),
    )?;
    // The letters' wording in the other mode too (after the order, with a judge), so a field
    // misspelt in a branch only that mode takes is found here, not on the day of the order.
    let plans = plan::plan(&records, &config.contacts, true);
    let renderer = render::Renderer::new(&config.templates, as_of)?;
    let post_order = plan::LetterMode::PostOrder {
        order_date: as_of,
        judge: Some("Sample Judge".into()),
    };
    let letterhead = render::documents::Letterhead {
        office: &config.office,
        as_of,
        letter_mode: &post_order,
    };
    render::documents::letter_chunk(&renderer, &letterhead, &plans.letters)?;
    // The notice of challenge dated before the last day to challenge too, with one and with
    // several convictions still under review: wording only that date takes.
    let before_deadline = render::documents::Letterhead {
        office: &config.office,
        as_of: crate::model::CHALLENGE_DEADLINE.add_days(-1),
        letter_mode: &plan::LetterMode::Notice,
    };
    for under_review in [1, 2] {
        render::documents::notice_of_challenge(
            &renderer,
            &before_deadline,
            &plans.challenges,
            under_review,
        )?;
    }
    Ok(report)
}

/// Plans and renders every document for `records` into `output`: per-case motions and orders,
/// the case-packets bundle, the omnibus filing (full and redacted), letters and their bundles,
/// and the summary report when `summary` is given.
pub fn write_documents(
    output: &OutputDir,
    records: &[output::DeterminationRecord],
    as_of: Date,
    config: &DocumentConfig,
    summary: Option<render::documents::SummaryFacts<'_>>,
    timings: &mut Vec<(&'static str, std::time::Duration)>,
    observer: &Observer<'_>,
) -> Result<DocumentsReport, PipelineError> {
    observer.check()?;
    let started = std::time::Instant::now();
    if let plan::LetterMode::PostOrder { order_date, .. } = &config.letter_mode
        && *order_date > as_of
    {
        return Err(config::ConfigError::OrderAfterDocuments {
            order_date: *order_date,
            as_of,
        }
        .into());
    }
    let plans = plan::plan(records, &config.contacts, config.letters);
    let warnings = characters_no_font_can_draw(records, &config.contacts, &plans);
    let renderer = render::Renderer::new(&config.templates, as_of)?;
    let stamp_font = renderer.stamp_font()?;
    timings.push(("plan and load templates", started.elapsed()));
    let files = output::BackgroundWriter::start(256);
    let run = documents::DocumentRun {
        output,
        files: &files,
        renderer: &renderer,
        stamp_font: &stamp_font,
        letterhead: render::documents::Letterhead {
            office: &config.office,
            as_of,
            letter_mode: &config.letter_mode,
        },
        jobs: config.jobs,
        failures: std::sync::Mutex::default(),
        written: std::sync::Mutex::default(),
    };
    let started = std::time::Instant::now();
    let challenges = observer.stage(
        Stage::Challenges,
        (plans.challenge_cases.len() + usize::from(!plans.challenges.is_empty())) as u64,
    );
    if !plans.needs_case_number.is_empty() {
        // No paper without a case number: the office's review list instead, as a spreadsheet
        // and as a PDF.
        output.write(
            "review/needs-case-number.csv",
            &output::spreadsheet_csv(
                &plan::ReviewItem::CSV_COLUMNS,
                plans
                    .needs_case_number
                    .iter()
                    .map(plan::ReviewItem::csv_values),
            ),
        )?;
        let data = render::documents::review_list(&run.letterhead, &plans.needs_case_number);
        run.write_single("review/needs-case-number.pdf", "review-list.typ", &data)?;
    }
    if !plans.challenges.is_empty() {
        let data = render::documents::notice_of_challenge(
            run.renderer,
            &run.letterhead,
            &plans.challenges,
            plans.under_review,
        )?;
        run.write_single("bundles/notice-of-challenge.pdf", "challenge.typ", &data)?;
        challenges.advance(1);
        run.write_challenge_cases(&plans.challenge_cases, &challenges)?;
    }
    timings.push(("review list and notice of challenge", started.elapsed()));
    let started = std::time::Instant::now();
    run.write_cases(
        &plans.cases,
        &observer.stage(Stage::Cases, plans.cases.len() as u64),
    )?;
    timings.push(("case documents and packets bundle", started.elapsed()));
    let started = std::time::Instant::now();
    // The application (completed sentences, no hearing) and the petition (sentences still
    // being served, heard by the court) are separate filings, each full (when asked) and
    // redacted.
    let filings: Vec<(&plan::OmnibusPlan, bool)> = [&plans.omnibus, &plans.petition]
        .into_iter()
        .filter(|filing| filing.row_count() > 0)
        .flat_map(|filing| {
            [(filing, false), (filing, true)]
                .into_iter()
                .filter(|(_, redacted)| *redacted || config.full_exhibits)
        })
        .collect();
    let filing_stage = observer.stage(Stage::Filings, filings.len() as u64);
    for (filing, redacted) in filings {
        filing_stage.check()?;
        run.write_filing(filing, redacted, config.volume_limit_bytes)?;
        filing_stage.advance(1);
    }
    // The full exhibits are lodged conditionally under seal: the application to seal them,
    // with its declaration and proposed order (CRC 2.550-2.551), goes with them.
    if config.full_exhibits && plans.omnibus.row_count() + plans.petition.row_count() > 0 {
        let data = render::documents::sealing_application(
            run.renderer,
            &run.letterhead,
            &[&plans.omnibus, &plans.petition],
        )?;
        run.write_single("bundles/sealing-application.pdf", "sealing.typ", &data)?;
    }
    timings.push(("omnibus filings", started.elapsed()));
    let started = std::time::Instant::now();
    if config.letters {
        // Letters to the deceased are planned (for the mailing list) but never rendered.
        let rendered = plans
            .letters
            .iter()
            .filter(|letter| letter.status != plan::MailingStatus::Deceased)
            .count();
        run.write_letters(
            &plans.letters,
            &observer.stage(Stage::Letters, rendered as u64),
        )?;
    }
    observer.check()?;
    timings.push(("letters", started.elapsed()));
    if let Some(mut facts) = summary {
        let started = std::time::Instant::now();
        let letters = plans
            .letters
            .iter()
            .filter(|letter| letter.status != plan::MailingStatus::Deceased)
            .count();
        facts.documents = vec![
            (
                "Per-case motions and proposed orders".into(),
                plans.cases.len() as u64,
            ),
            (
                "Counts in the omnibus application's Exhibit A (no hearing)".into(),
                plans.omnibus.row_count() as u64,
            ),
            (
                "Counts in the omnibus petition's Exhibit A (hearing)".into(),
                plans.petition.row_count() as u64,
            ),
            ("Notification letters".into(), letters as u64),
        ];
        let data = render::documents::summary(&run.letterhead, &facts);
        run.write_single("summary.pdf", "summary.typ", &data)?;
        timings.push(("summary report", started.elapsed()));
    }
    let failures = run.failures.into_inner().unwrap_or_default();
    let written = run.written.into_inner().unwrap_or_default();
    let started = std::time::Instant::now();
    let hashes = files.finish()?;
    timings.push(("finish writing", started.elapsed()));
    Ok(DocumentsReport {
        failures,
        warnings,
        written,
        hashes,
        deadline: Some(crate::eligibility::DeadlineFacts {
            as_of,
            under_review: plans.under_review,
            challenged: plans.challenges.len() as u64,
        }),
    })
}

/// Every name, address and free text that will reach a PDF, checked against the shipped fonts
/// before rendering: a character no font can draw is a located warning (file, line, column, code
/// point) naming the documents of that person it will stop.
fn characters_no_font_can_draw(
    records: &[output::DeterminationRecord],
    contacts: &config::Contacts,
    plans: &plan::Plans,
) -> Vec<Diagnostic> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut documents: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    for case in &plans.cases {
        documents
            .entry(&case.subject_id)
            .or_default()
            .insert(format!("cases/{}.pdf", case.file_stem));
    }
    for letter in &plans.letters {
        documents
            .entry(&letter.subject_id)
            .or_default()
            .insert(format!("letters/{}.pdf", letter.file_stem()));
    }
    let mut warnings = Vec::new();
    let mut seen = BTreeSet::new();
    let mut check = |subject_id: &str,
                     file: &str,
                     line: u64,
                     column: Option<(usize, &'static str)>,
                     text: &str| {
        let missing = render::characters_no_font_can_draw(text);
        if missing.is_empty() || !seen.insert((file.to_string(), line, column)) {
            return;
        }
        let Some(affected) = documents.get(subject_id) else {
            return;
        };
        warnings.push(Diagnostic {
            severity: ingest::Severity::Warning,
            file: file.to_string(),
            line: Some(line),
            column: column.map(|(index, _)| index as u64 + 1),
            field: column.map(|(_, name)| name),
            message: format!(
                "{} cannot be shown in the fonts clearance embeds, so these documents will not be rendered: {}",
                render::with_code_points(&missing),
                affected.iter().cloned().collect::<Vec<_>>().join(", ")
            ),
        });
    };
    let column = |index: usize| Some((index, ingest::doj::COLUMN_NAMES[index]));
    for record in records {
        let line = u64::from(record.source_line);
        check(
            &record.subject_id,
            &record.source_file,
            line,
            column(ingest::doj::column::PRI_NAME),
            &record.name,
        );
        check(
            &record.subject_id,
            &record.source_file,
            line,
            column(ingest::doj::column::OFFENSE_DESCR),
            &record.offense_text,
        );
        for case_number in &record.case_numbers {
            check(
                &record.subject_id,
                &record.source_file,
                line,
                column(ingest::doj::column::OFN),
                case_number,
            );
        }
    }
    let contacts_file = contacts.file.as_deref().unwrap_or("contacts");
    for letter in &plans.letters {
        let Some(contact) = &letter.contact else {
            continue;
        };
        let fields = [
            (2, contact.mailing_name.clone().unwrap_or_default()),
            (
                3,
                contact.address_lines.first().cloned().unwrap_or_default(),
            ),
            (4, contact.address_lines.get(1).cloned().unwrap_or_default()),
            (5, contact.city.clone()),
            (6, contact.state.clone()),
        ];
        for (index, text) in fields {
            let located =
                contacts.columns[index].map(|column| (column, config::CONTACT_COLUMNS[index].0));
            check(
                &letter.subject_id,
                contacts_file,
                contact.source_line,
                located,
                &text,
            );
        }
    }
    warnings
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
        output::write_errors(output, &diagnostics, &[])?;
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

    use super::Evaluation;
    use crate::VERSION;
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
        /// What the office must act on before filing (the challenge deadline, HS 11361.9(b),
        /// (f)), as the summary report says it; empty when nothing.
        pub attention: Vec<String>,
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
                attention: crate::render::documents::deadline_notes_text(
                    crate::eligibility::DeadlineFacts::of_statistics(evaluation.as_of, statistics),
                ),
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
