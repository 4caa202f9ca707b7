//! The command line: clap arguments (raw flags) → validated configuration → pipeline → exit code.
//!
//! Exit codes: 0 success; 1 usage or configuration error; 2 bad input (diagnostics printed and
//! written to `errors.json`); 3 rendering failure. Progress goes to stderr, and only when stderr
//! is a terminal. Nothing printed contains personal data: counts, paths, line numbers.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

use crate::config::{self, CheckConfig, County};
use crate::ingest::{Diagnostic, Progress};
use crate::model::Date;
use crate::{PipelineError, sample};

/// Prop 64 / AB 1793 conviction relief: read the California DOJ bulk file, decide relief for
/// every marijuana conviction, and explain each decision.
///
/// clearance is a tool for prosecutors, courts and legal aid. It is not legal advice.
#[derive(Debug, Parser)]
#[command(name = "clearance", version, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decide eligibility for every Prop 64 conviction in DOJ files.
    ///
    /// Writes results/determinations.csv and .json, gogen-compatible CSVs and summary.json into
    /// the output folder. A file with bad rows is refused as a whole (exit code 2, only
    /// errors.json written) unless --skip-bad-rows is given.
    Check(CheckArgs),
    /// Write a synthetic DOJ research file (deterministic for a seed).
    Sample(SampleArgs),
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// DOJ research files (95-column CSV, with or without header).
    #[arg(required = true, value_name = "DOJ_FILE")]
    inputs: Vec<PathBuf>,
    /// The county whose convictions are determined (one of California's 58).
    #[arg(long, env = "CLEARANCE_COUNTY")]
    county: String,
    /// A policy TOML file, or gogen:FILE for a BEAR/gogen options JSON. Default: the statute
    /// alone.
    #[arg(long, value_name = "FILE | gogen:FILE")]
    policy: Option<String>,
    /// The date eligibility is decided at, YYYY-MM-DD. Default: today.
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<String>,
    /// Output folder; replaced as a whole when the run succeeds.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Leave bad rows out (listed in rejects.csv) instead of refusing the file.
    #[arg(long)]
    skip_bad_rows: bool,
    /// Print the wall time of each stage on stderr (for benchmarks).
    #[arg(long)]
    timings: bool,
    /// Threads to use. Default: all cores.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
}

#[derive(Debug, Args)]
struct SampleArgs {
    /// Number of people.
    #[arg(long)]
    people: u32,
    /// The county most cases are in.
    #[arg(long, default_value = "SAN FRANCISCO")]
    county: String,
    /// Random seed; the same seed gives the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Where to write the file.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
}

/// Exit codes.
const EXIT_USAGE: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;

/// Parses the process arguments and runs the command.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return if error.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(exit_code_for(&error))
        }
    }
}

fn exit_code_for(error: &anyhow::Error) -> u8 {
    match error.downcast_ref::<PipelineError>() {
        Some(PipelineError::Ingest(_)) => EXIT_BAD_INPUT,
        _ => EXIT_USAGE,
    }
}

/// Runs one command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check(arguments) => check(arguments),
        Command::Sample(arguments) => write_sample(&arguments),
    }
}

fn check(arguments: CheckArgs) -> anyhow::Result<ExitCode> {
    let county = County::parse(&arguments.county)?;
    let (rules, rules_source) = config::load_rules(arguments.policy.as_deref())?;
    let as_of = match &arguments.as_of {
        Some(text) => config::parse_as_of(text)?,
        None => Date::today_utc(),
    };
    let show_timings = arguments.timings;
    let config = CheckConfig {
        inputs: arguments.inputs,
        county,
        rules,
        rules_source,
        as_of,
        out_dir: arguments.out,
        skip_bad_rows: arguments.skip_bad_rows,
        jobs: arguments.jobs.unwrap_or_else(crate::ingest::default_jobs),
    };
    let mut progress = ProgressDisplay::new("reading");
    let report = crate::check(&config, &|update| progress.update(update))?;
    progress.finish();
    let mut stderr = std::io::stderr().lock();
    if show_timings {
        for (stage, duration) in &report.timings {
            writeln!(stderr, "timing: {stage}: {:.3} s", duration.as_secs_f64())?;
        }
    }
    if report.refused {
        let errors_path = report.out_dir.join("errors.json");
        print_diagnostics(&mut stderr, &errors_path)?;
        writeln!(
            stderr,
            "refused: {} bad row(s); nothing but {} was written (use --skip-bad-rows to leave them out)",
            report.errors,
            errors_path.display()
        )?;
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    }
    let mut stdout = std::io::stdout().lock();
    if let Some(statistics) = &report.statistics {
        writeln!(
            stdout,
            "{} determinations as of {as_of} for {} ({} people with some relief); results in {}",
            statistics.determinations,
            config.county.name(),
            statistics.impact.people_with_some_relief,
            report.out_dir.display()
        )?;
        let outcomes: Vec<String> = statistics
            .by_outcome
            .iter()
            .map(|(outcome, count)| format!("{outcome} {count}"))
            .collect();
        writeln!(stdout, "  {}", outcomes.join(", "))?;
    }
    if report.rejected_rows > 0 {
        writeln!(
            stderr,
            "skipped {} bad row(s), listed in {}",
            report.rejected_rows,
            report.out_dir.join("rejects.csv").display()
        )?;
    }
    if report.warnings > 0 {
        writeln!(
            stderr,
            "{} warning(s), listed in {}",
            report.warnings,
            report.out_dir.join("errors.json").display()
        )?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints up to 20 diagnostics from `errors.json` in compiler style.
fn print_diagnostics(out: &mut dyn Write, errors_path: &std::path::Path) -> anyhow::Result<()> {
    const SHOWN: usize = 20;
    #[derive(serde::Deserialize)]
    struct ErrorsFile {
        diagnostics: Vec<StoredDiagnostic>,
    }
    #[derive(serde::Deserialize)]
    struct StoredDiagnostic {
        severity: String,
        file: String,
        line: Option<u64>,
        column: Option<u64>,
        field: Option<String>,
        message: String,
    }
    let errors: ErrorsFile = serde_json::from_slice(&std::fs::read(errors_path)?)?;
    for diagnostic in errors.diagnostics.iter().take(SHOWN) {
        let location = match (diagnostic.line, diagnostic.column) {
            (Some(line), Some(column)) => format!(":{line}:{column}"),
            (Some(line), None) => format!(":{line}"),
            _ => String::new(),
        };
        let field = diagnostic
            .field
            .as_ref()
            .map(|field| format!("{field}: "))
            .unwrap_or_default();
        writeln!(
            out,
            "{}{location}: {}: {field}{}",
            diagnostic.file, diagnostic.severity, diagnostic.message
        )?;
    }
    if errors.diagnostics.len() > SHOWN {
        writeln!(
            out,
            "... and {} more in {}",
            errors.diagnostics.len() - SHOWN,
            errors_path.display()
        )?;
    }
    Ok(())
}

/// Formats a diagnostic for the terminal.
pub fn format_diagnostic(diagnostic: &Diagnostic) -> String {
    diagnostic.to_string()
}

fn write_sample(arguments: &SampleArgs) -> anyhow::Result<ExitCode> {
    let options = sample::SampleOptions {
        people: arguments.people,
        county: County::parse(&arguments.county)?,
        seed: arguments.seed,
    };
    let output = &arguments.output;
    let directory = output
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty());
    if let Some(directory) = directory {
        std::fs::create_dir_all(directory)?;
    }
    let temporary = output.with_file_name(format!(
        ".{}.partial-{}",
        output
            .file_name()
            .map_or_else(|| "sample".into(), |name| name.to_string_lossy()),
        std::process::id()
    ));
    let stats = {
        let mut file = std::fs::File::create(&temporary)?;
        let stats = sample::generate(&options, &mut file);
        if stats.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        stats?
    };
    std::fs::rename(&temporary, output)?;
    println!(
        "wrote {} rows for {} synthetic people to {}",
        stats.rows,
        stats.people,
        output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// A progress bar on stderr, shown only on a terminal (quiet in CI and pipes).
struct ProgressDisplay {
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressDisplay {
    fn new(stage: &'static str) -> ProgressDisplay {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg:10} [{bar:40}] {bytes}/{total_bytes} ({eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message(stage);
            bar
        });
        ProgressDisplay { bar }
    }

    fn update(&self, progress: Progress) {
        if let Some(bar) = &self.bar {
            bar.set_length(progress.file_bytes);
            bar.set_position(progress.bytes_read);
            bar.set_message(format!("file {}", progress.file_index + 1));
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
