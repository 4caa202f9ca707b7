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
use crate::ingest::Diagnostic;
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
    /// The text encoding of CSV inputs (DOJ files, contacts): auto (UTF-8, else Windows-1252
    /// with a warning), utf-8 (refuse anything else) or windows-1252. A UTF-8 byte order mark is
    /// always accepted.
    #[arg(long, global = true, default_value = "auto", value_parser = parse_encoding)]
    encoding: crate::ingest::encoding::Encoding,
}

fn parse_encoding(text: &str) -> Result<crate::ingest::encoding::Encoding, String> {
    crate::ingest::encoding::Encoding::parse(text)
        .ok_or_else(|| format!("{text:?} is not auto, utf-8 or windows-1252"))
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decide eligibility for every Prop 64 conviction in DOJ files.
    ///
    /// Writes results/determinations.csv and .json, gogen-compatible CSVs and summary.json into
    /// the output folder. A file with bad rows is refused as a whole (exit code 2, only
    /// errors.json written) unless --skip-bad-rows is given.
    Check(CheckArgs),
    /// The whole pipeline: decide every conviction, then write the court papers, bundles,
    /// letters and summary.
    ///
    /// Writes what check writes, plus cases/<CASE>.pdf (motion and proposed order per court
    /// case), letters/<SUBJECT_ID>.<lang>.pdf, bundles/ (filing, case packets, letters,
    /// mailing list), summary.pdf and manifest.json.
    Run(RunArgs),
    /// Write the documents for a determinations.json made earlier (and perhaps reviewed).
    ///
    /// Writes cases/, letters/, bundles/ and manifest.json into the output folder, dated with
    /// the determinations' as-of date.
    Render(RenderArgs),
    /// Check templates: render every document from built-in synthetic data and report the
    /// first error of each template with its file, line and column.
    Templates(TemplatesArgs),
    /// Write a synthetic DOJ research file (deterministic for a seed).
    Sample(SampleArgs),
    /// Serve the pipeline over HTTP: a JSON API under /v1 with durable batch jobs, and a web
    /// page at / for clerks and legal aid.
    ///
    /// Binds to loopback by default; on any other address a bearer token is required, read from
    /// --token-file or the CLEARANCE_TOKEN environment variable (never from the command line).
    Serve(ServeArgs),
    /// Write a starter office profile, contacts template and policy into DIR for the office to
    /// edit. Its placeholders ([EDIT ...], State Bar number 000000) are refused by run, render
    /// and templates check until replaced.
    Init(InitArgs),
}

#[derive(Debug, Args)]
struct InitArgs {
    /// The county the office files in (one of California's 58).
    #[arg(long, env = "CLEARANCE_COUNTY")]
    county: Option<String>,
    /// Where to write office.toml, contacts.csv and policy.toml (created if missing).
    #[arg(default_value = ".", value_name = "DIR")]
    directory: PathBuf,
}

#[derive(Debug, Args)]
struct DocumentArgs {
    /// The office profile (agency, attorney, court, letter contacts). Default:
    /// samples/office.toml when it is there (the repository's example).
    #[arg(long, value_name = "FILE")]
    office: Option<PathBuf>,
    /// Mailing addresses and languages, keyed by SUBJECT_ID or CII.
    #[arg(long, value_name = "FILE")]
    contacts: Option<PathBuf>,
    /// A folder of templates overriding the built-in ones, file by file.
    #[arg(long, value_name = "DIR")]
    templates: Option<PathBuf>,
    /// Do not write notification letters.
    #[arg(long)]
    no_letters: bool,
    /// Write the letters for after the judge signed: the date of the court's order,
    /// YYYY-MM-DD. Without it the letters are notices sent at filing ("the District Attorney
    /// has asked the court to ...").
    #[arg(long, value_name = "YYYY-MM-DD")]
    order_date: Option<String>,
    /// The judge who signed the order, named in the post-order letters.
    #[arg(long, value_name = "NAME", requires = "order_date")]
    judge: Option<String>,
    /// Write only the redacted filing (case numbers only), not the one with full exhibits.
    #[arg(long)]
    redacted_exhibits: bool,
    /// Split the omnibus filing (bundles/filing.pdf and filing-redacted.pdf) into volumes of at
    /// most this many megabytes (10^6 bytes), each behind a cover, when it is larger (e-filing
    /// size limits). The case-packets and letters bundles are for printing and are never split.
    #[arg(long, default_value_t = 25.0, value_name = "MB")]
    volume_limit_mb: f64,
}

/// Where and how a command writes its output folder.
#[derive(Debug, Args)]
struct OutputArgs {
    /// Output folder; replaced as a whole when the run succeeds.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// When another run is writing the same output folder, wait for it instead of failing.
    #[arg(long)]
    wait: bool,
    /// Let the owner's group read the output (folders 0750, files 0640). Default: the owner
    /// only (0700 and 0600): the output is confidential criminal-record information.
    #[arg(long)]
    group_readable: bool,
}

impl OutputArgs {
    /// Sets the permissions of everything created from here on, and the folder options.
    fn prepare(&self) -> crate::output::OutputOptions {
        crate::output::restrict_new_files(self.group_readable);
        crate::output::OutputOptions { wait: self.wait }
    }
}

#[derive(Debug, Args)]
struct RunArgs {
    #[command(flatten)]
    check: CheckArgs,
    #[command(flatten)]
    documents: DocumentArgs,
}

#[derive(Debug, Args)]
struct RenderArgs {
    /// A results/determinations.json written by `clearance check` or `run`.
    #[arg(value_name = "DETERMINATIONS_JSON")]
    determinations: PathBuf,
    /// The date on the documents, YYYY-MM-DD. Default: the determinations' own as-of date; an
    /// empty determinations file needs it.
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<String>,
    #[command(flatten)]
    documents: DocumentArgs,
    #[command(flatten)]
    output: OutputArgs,
    /// Print the wall time of each stage on stderr (for benchmarks).
    #[arg(long)]
    timings: bool,
    /// Threads to use. Default: all cores.
    #[arg(long, value_name = "N")]
    jobs: Option<usize>,
}

#[derive(Debug, Args)]
struct TemplatesArgs {
    #[command(subcommand)]
    command: TemplatesCommand,
}

#[derive(Debug, Subcommand)]
enum TemplatesCommand {
    /// Render every template from synthetic data; exit code 3 when one fails.
    Check {
        /// A folder of templates overriding the built-in ones, file by file.
        #[arg(long, value_name = "DIR")]
        templates: Option<PathBuf>,
        /// The office profile to render with. Default: samples/office.toml when it is there.
        #[arg(long, value_name = "FILE")]
        office: Option<PathBuf>,
    },
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
    #[command(flatten)]
    output: OutputArgs,
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
    /// Also write a contacts CSV (synthetic mailing addresses and languages) for the people.
    #[arg(long, value_name = "FILE")]
    contacts: Option<PathBuf>,
}

/// Exit codes.
const EXIT_USAGE: u8 = 1;
const EXIT_BAD_INPUT: u8 = 2;
const EXIT_RENDER: u8 = 3;

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
        Some(PipelineError::Render(_) | PipelineError::Assemble(_)) => EXIT_RENDER,
        _ => EXIT_USAGE,
    }
}

/// Runs one command.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let encoding = cli.encoding;
    match cli.command {
        Command::Check(arguments) => check(arguments, encoding),
        Command::Run(arguments) => run_all(arguments, encoding),
        Command::Render(arguments) => render(arguments, encoding),
        Command::Templates(TemplatesArgs {
            command: TemplatesCommand::Check { templates, office },
        }) => check_templates(templates.as_deref(), office.as_deref()),
        Command::Sample(arguments) => write_sample(&arguments),
        Command::Init(arguments) => init(&arguments),
        Command::Serve(arguments) => serve(arguments),
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
    /// Address to listen on. Port 0 picks a free port (printed on stdout).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// Folder for the job store, uploads and outputs (confidential: owner-only permissions).
    #[arg(long, default_value = "clearance-data", value_name = "DIR")]
    data: PathBuf,
    /// Batches run at once.
    #[arg(long, default_value_t = 1, value_name = "N")]
    workers: usize,
    /// Largest upload accepted, in megabytes (10^6 bytes).
    #[arg(long, default_value_t = 512, value_name = "MB")]
    max_upload_mb: usize,
    /// Batches that may wait in the queue before new ones are refused (429).
    #[arg(long, default_value_t = 16, value_name = "N")]
    max_queued: usize,
    /// A file holding the bearer token clients must send.
    #[arg(long, value_name = "FILE")]
    token_file: Option<PathBuf>,
    /// The office profile for batches that upload none. Default: samples/office.toml when it
    /// is there.
    #[arg(long, value_name = "FILE")]
    office: Option<PathBuf>,
    /// Single papers (`POST /v1/documents/...`) rendered at once, each on a thread of its own.
    /// Default: one per core.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    paper_threads: Option<u16>,
}

fn serve(arguments: ServeArgs) -> anyhow::Result<ExitCode> {
    let token = match &arguments.token_file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .map_err(|error| anyhow::anyhow!("{}: {error}", path.display()))?
                .trim()
                .to_string(),
        ),
        None => std::env::var("CLEARANCE_TOKEN")
            .ok()
            .map(|token| token.trim().to_string()),
    }
    .filter(|token| !token.is_empty());
    let default_office = arguments.office.clone().or_else(|| {
        let sample = PathBuf::from(SAMPLE_OFFICE);
        sample.exists().then_some(sample)
    });
    if let Some(office) = &default_office {
        config::load_office(office)?;
    }
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    crate::server::serve(crate::server::ServeConfig {
        addr: arguments.addr,
        data: arguments.data,
        workers: arguments.workers,
        max_upload_bytes: arguments.max_upload_mb.saturating_mul(1_000_000),
        max_queued: arguments.max_queued,
        token,
        default_office,
        jobs_per_batch: crate::ingest::default_jobs(),
        paper_threads: arguments
            .paper_threads
            .map_or_else(crate::ingest::default_jobs, usize::from),
    })?;
    Ok(ExitCode::SUCCESS)
}

fn check_config(
    arguments: CheckArgs,
    encoding: crate::ingest::encoding::Encoding,
) -> anyhow::Result<(CheckConfig, bool)> {
    let county = County::parse(&arguments.county)?;
    let (rules, rules_source) = config::load_rules(arguments.policy.as_deref())?;
    let as_of = match &arguments.as_of {
        Some(text) => config::parse_as_of(text)?,
        None => Date::today_utc(),
    };
    let show_timings = arguments.timings;
    let output = arguments.output.prepare();
    let config = CheckConfig {
        inputs: arguments.inputs,
        county,
        rules,
        rules_source,
        as_of,
        output,
        encoding,
        out_dir: arguments.output.out,
        skip_bad_rows: arguments.skip_bad_rows,
        jobs: arguments.jobs.unwrap_or_else(crate::ingest::default_jobs),
        // For tests of the parallel reader only (see CheckConfig::min_chunk_bytes).
        min_chunk_bytes: std::env::var("CLEARANCE_MIN_CHUNK_BYTES")
            .ok()
            .and_then(|text| text.parse().ok()),
        names_relative_to: None,
    };
    Ok((config, show_timings))
}

fn check(
    arguments: CheckArgs,
    encoding: crate::ingest::encoding::Encoding,
) -> anyhow::Result<ExitCode> {
    let (config, show_timings) = check_config(arguments, encoding)?;
    let report = with_progress(|observer| crate::check(&config, observer))?;
    report_check(&config, &report, show_timings)
}

/// The example profile used when no `--office` is given, if it is there.
const SAMPLE_OFFICE: &str = "samples/office.toml";

/// The office profile, checked against the county when one is given. Without `--office`, the
/// repository's example when present; else an error that says how to get one.
fn load_office(
    path: Option<&std::path::Path>,
    county: Option<&County>,
) -> anyhow::Result<(config::OfficeProfile, String)> {
    let path = match path {
        Some(path) => path,
        None if std::path::Path::new(SAMPLE_OFFICE).is_file() => {
            std::path::Path::new(SAMPLE_OFFICE)
        }
        None => anyhow::bail!(
            "no office profile: pass --office FILE, or run `clearance init --county NAME` to write one to edit"
        ),
    };
    let (office, office_sha256) = config::load_office(path)?;
    let office_county = config::county_of_court(&office.court.county).to_uppercase();
    if let Some(county) = county
        && office_county != county.name()
    {
        anyhow::bail!(
            "{}: the office profile is for the County of {} but --county is {}",
            path.display(),
            county.title_case_of(&office_county),
            county.name()
        );
    }
    Ok((office, office_sha256))
}

fn templates_from(directory: Option<&std::path::Path>) -> anyhow::Result<crate::render::Templates> {
    Ok(match directory {
        Some(directory) => crate::render::Templates::with_overrides(directory)?,
        None => crate::render::Templates::built_in(),
    })
}

fn document_config(
    arguments: &DocumentArgs,
    county: Option<&County>,
    jobs: usize,
    encoding: crate::ingest::encoding::Encoding,
) -> anyhow::Result<crate::DocumentConfig> {
    let (office, office_sha256) = load_office(arguments.office.as_deref(), county)?;
    let contacts = match &arguments.contacts {
        Some(path) => config::load_contacts(path, encoding)?,
        None => config::Contacts::default(),
    };
    let mut stderr = std::io::stderr().lock();
    for warning in &contacts.warnings {
        writeln!(stderr, "warning: {warning}")?;
    }
    drop(stderr);
    if !(arguments.volume_limit_mb.is_finite() && arguments.volume_limit_mb >= 0.01) {
        anyhow::bail!("--volume-limit-mb must be at least 0.01");
    }
    // A template with a syntax error is a configuration error (exit 1) found before any input
    // is read, naming its file, line and column; `templates check` renders to find the rest.
    let templates = templates_from(arguments.templates.as_deref())?;
    templates.check_syntax()?;
    let letter_mode = match &arguments.order_date {
        None => crate::plan::LetterMode::Notice,
        Some(text) => crate::plan::LetterMode::PostOrder {
            order_date: config::parse_as_of(text)
                .map_err(|error| anyhow::anyhow!("--order-date: {error}"))?,
            judge: arguments
                .judge
                .as_deref()
                .map(str::trim)
                .filter(|judge| !judge.is_empty())
                .map(str::to_string),
        },
    };
    Ok(crate::DocumentConfig {
        office,
        office_sha256,
        contacts,
        templates,
        letters: !arguments.no_letters,
        letter_mode,
        full_exhibits: !arguments.redacted_exhibits,
        volume_limit_bytes: (arguments.volume_limit_mb * 1e6).round() as u64,
        jobs,
    })
}

fn run_all(
    arguments: RunArgs,
    encoding: crate::ingest::encoding::Encoding,
) -> anyhow::Result<ExitCode> {
    let (check, show_timings) = check_config(arguments.check, encoding)?;
    let documents = document_config(
        &arguments.documents,
        Some(&check.county),
        check.jobs,
        encoding,
    )?;
    let config = crate::RunConfig { check, documents };
    let report = with_progress(|observer| crate::run(&config, observer))?;
    let code = report_check(&config.check, &report.check, show_timings)?;
    if report.check.refused {
        return Ok(code);
    }
    let documents_code = report_documents(&report.documents)?;
    Ok(if documents_code == ExitCode::SUCCESS {
        code
    } else {
        documents_code
    })
}

fn render(
    arguments: RenderArgs,
    encoding: crate::ingest::encoding::Encoding,
) -> anyhow::Result<ExitCode> {
    let jobs = arguments.jobs.unwrap_or_else(crate::ingest::default_jobs);
    let output = arguments.output.prepare();
    let as_of = arguments
        .as_of
        .as_deref()
        .map(config::parse_as_of)
        .transpose()?;
    let config = crate::RenderConfig {
        determinations: arguments.determinations,
        as_of,
        out_dir: arguments.output.out,
        output,
        documents: document_config(&arguments.documents, None, jobs, encoding)?,
    };
    let report = with_progress(|observer| crate::render_determinations(&config, observer))?;
    let mut stderr = std::io::stderr().lock();
    report_leftovers(&mut stderr, &report.leftovers)?;
    if arguments.timings {
        for (stage, duration) in &report.timings {
            writeln!(stderr, "timing: {stage}: {:.3} s", duration.as_secs_f64())?;
        }
    }
    writeln!(
        std::io::stdout().lock(),
        "{} determinations read; documents in {}",
        report.determinations,
        report.out_dir.display()
    )?;
    if let Some(facts) = report.documents.deadline {
        print_deadline_notes(&mut stderr, facts)?;
    }
    drop(stderr);
    report_documents(&report.documents)
}

/// Says which leftovers of interrupted runs were cleared before this run wrote anything.
fn report_leftovers(
    stderr: &mut impl Write,
    leftovers: &[std::path::PathBuf],
) -> anyhow::Result<()> {
    for path in leftovers {
        writeln!(
            stderr,
            "note: cleared {}, left by a clearance run that was interrupted",
            path.display()
        )?;
    }
    Ok(())
}

/// Prints how many documents were written and which failed; exit code 3 when some failed.
fn report_documents(report: &crate::DocumentsReport) -> anyhow::Result<ExitCode> {
    let mut stderr = std::io::stderr().lock();
    for warning in &report.warnings {
        writeln!(stderr, "{warning}")?;
    }
    drop(stderr);
    let pages: usize = report.written.values().map(|document| document.pages).sum();
    writeln!(
        std::io::stdout().lock(),
        "{} PDF files written, {pages} pages",
        report.written.len()
    )?;
    if report.failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    let mut stderr = std::io::stderr().lock();
    for failure in report.failures.iter().take(20) {
        writeln!(stderr, "{}: error: {}", failure.file, failure.message)?;
    }
    writeln!(
        stderr,
        "{} document(s) could not be rendered; listed in errors.json",
        report.failures.len()
    )?;
    Ok(ExitCode::from(EXIT_RENDER))
}

fn check_templates(
    directory: Option<&std::path::Path>,
    office: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let templates = templates_from(directory)?;
    let (office, office_sha256) = load_office(office, None)?;
    let config = crate::DocumentConfig {
        office,
        office_sha256,
        contacts: config::Contacts::default(),
        templates,
        letters: true,
        letter_mode: crate::plan::LetterMode::Notice,
        full_exhibits: true,
        volume_limit_bytes: crate::VOLUME_LIMIT_BYTES,
        jobs: crate::ingest::default_jobs(),
    };
    let report = crate::check_templates(&config)?;
    let mut stdout = std::io::stdout().lock();
    for file in &config.templates.files {
        let origin = file
            .overridden_from
            .as_ref()
            .map_or_else(|| "built in".to_string(), |path| path.display().to_string());
        writeln!(stdout, "{:28} {origin}", file.name)?;
    }
    if report.failures.is_empty() {
        writeln!(
            stdout,
            "templates ok: {} documents rendered from synthetic data",
            report.written.len()
        )?;
        return Ok(ExitCode::SUCCESS);
    }
    drop(stdout);
    let mut stderr = std::io::stderr().lock();
    let mut seen = std::collections::BTreeSet::new();
    for failure in &report.failures {
        if seen.insert(failure.message.clone()) {
            writeln!(
                stderr,
                "error: {} (rendering {})",
                failure.message, failure.file
            )?;
        }
    }
    Ok(ExitCode::from(EXIT_RENDER))
}

fn report_check(
    config: &CheckConfig,
    report: &crate::CheckReport,
    show_timings: bool,
) -> anyhow::Result<ExitCode> {
    let as_of = config.as_of;
    let mut stderr = std::io::stderr().lock();
    report_leftovers(&mut stderr, &report.leftovers)?;
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
        // What must be done before filing (the challenge deadline), as summary.pdf says it.
        print_deadline_notes(
            &mut stderr,
            crate::eligibility::DeadlineFacts::of_statistics(as_of, statistics),
        )?;
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

/// Prints what must be done before filing because of the challenge deadline (HS 11361.9(b),
/// (f)), as the summary report words it.
fn print_deadline_notes(
    stderr: &mut impl Write,
    facts: crate::eligibility::DeadlineFacts,
) -> anyhow::Result<()> {
    for note in crate::render::documents::deadline_notes_text(facts) {
        writeln!(stderr, "before filing: {note}")?;
    }
    Ok(())
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

/// `clearance init`: the starter files, never over an existing file.
fn init(arguments: &InitArgs) -> anyhow::Result<ExitCode> {
    let county = match &arguments.county {
        Some(name) => County::parse(name)?,
        None => {
            anyhow::bail!("clearance init needs --county NAME (the county the office files in)")
        }
    };
    let files = config::starter_files(&county);
    for (name, _) in &files {
        let path = arguments.directory.join(name);
        if path.exists() {
            anyhow::bail!(
                "{} exists already; clearance init never overwrites a file",
                path.display()
            );
        }
    }
    std::fs::create_dir_all(&arguments.directory)?;
    let mut stdout = std::io::stdout().lock();
    for (name, text) in &files {
        let path = arguments.directory.join(name);
        // create_new: a file that appeared since the check above is still never overwritten.
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|error| anyhow::anyhow!("cannot write {}: {error}", path.display()))?;
        file.write_all(text.as_bytes())?;
        writeln!(stdout, "wrote {}", path.display())?;
    }
    writeln!(
        stdout,
        "edit every [EDIT ...] value and the State Bar number in office.toml, then: clearance templates check --office {}",
        arguments.directory.join("office.toml").display()
    )?;
    Ok(ExitCode::SUCCESS)
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
    let contacts_temporary = arguments
        .contacts
        .as_ref()
        .map(|path| path.with_file_name(format!(".contacts.partial-{}", std::process::id())));
    let stats = {
        let mut file = std::fs::File::create(&temporary)?;
        let mut contacts_file = contacts_temporary
            .as_ref()
            .map(std::fs::File::create)
            .transpose()?;
        let stats = sample::generate_with_contacts(
            &options,
            &mut file,
            contacts_file.as_mut().map(|file| file as &mut dyn Write),
        );
        if stats.is_err() {
            let _ = std::fs::remove_file(&temporary);
            if let Some(path) = &contacts_temporary {
                let _ = std::fs::remove_file(path);
            }
        }
        stats?
    };
    std::fs::rename(&temporary, output)?;
    if let (Some(temporary), Some(path)) = (&contacts_temporary, &arguments.contacts) {
        std::fs::rename(temporary, path)?;
    }
    println!(
        "wrote {} rows for {} synthetic people to {}",
        stats.rows,
        stats.people,
        output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Runs a pipeline command with the progress bar reading its events (never cancelled: the
/// command line stops with Ctrl-C, which leaves the output folder as it was).
fn with_progress<T>(
    command: impl FnOnce(&crate::Observer<'_>) -> Result<T, crate::PipelineError>,
) -> Result<T, crate::PipelineError> {
    let mut progress = ProgressDisplay::new();
    let result = command(&crate::Observer::new(
        &|update| progress.update(update),
        crate::Cancellation::new(),
    ));
    progress.finish();
    result
}

/// A progress bar on stderr, shown only on a terminal (quiet in CI and pipes).
struct ProgressDisplay {
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressDisplay {
    fn new() -> ProgressDisplay {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{msg:22} [{bar:40}] {percent:>3}% ({eta})",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar
        });
        ProgressDisplay { bar }
    }

    /// The pipeline's progress events, the same the service streams.
    fn update(&self, progress: crate::Progress) {
        if let Some(bar) = &self.bar {
            bar.set_message(progress.stage.label());
            bar.set_length(progress.total);
            bar.set_position(progress.done);
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}
