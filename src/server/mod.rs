//! `clearance serve`: the pipeline behind an HTTP API and a web page, for clerks and legal aid
//! who will not use a command line. The same [`crate::pipeline::run`] the CLI drives writes the
//! same outputs, byte for byte, into each job's folder under `--data`.
//!
//! - Versioned JSON API under `/v1`, errors as `application/problem+json`, an OpenAPI document
//!   at `/openapi.json` generated from the handlers (utoipa), `/healthz`.
//! - Durable jobs ([`jobs`]): inputs on disk and the job in SQLite before the `202`.
//! - Loopback by default; on any other address a bearer token (from `--token-file` or the
//!   `CLEARANCE_TOKEN` environment variable, never argv) is required on every route but
//!   `/healthz`.
//! - Output paths never leave the job folder; file names never come from user input; logs carry
//!   the route, status and duration, never request data.

mod api;
mod archive;
pub mod jobs;
mod page;
mod papers;
mod signin;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use jobs::{BatchOptions, Job, Jobs};

use crate::config;

/// How `serve` was started.
pub struct ServeConfig {
    pub addr: SocketAddr,
    pub data: PathBuf,
    pub workers: usize,
    pub max_upload_bytes: usize,
    /// Jobs waiting beyond this many are refused with `429`.
    pub max_queued: usize,
    pub token: Option<String>,
    /// The default office profile for batches that upload none.
    pub default_office: Option<PathBuf>,
    /// Threads each batch renders with.
    pub jobs_per_batch: usize,
    /// Single papers rendered at once, each on a paper thread of its own.
    pub paper_threads: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(
        "{addr} is not a loopback address: set a bearer token with --token-file FILE or the CLEARANCE_TOKEN environment variable"
    )]
    TokenRequired { addr: SocketAddr },
    #[error(transparent)]
    Jobs(#[from] jobs::JobError),
    #[error(transparent)]
    Office(#[from] config::ConfigError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the paper threads: {0}")]
    PaperThreads(rayon::ThreadPoolBuildError),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What every handler shares.
pub(crate) struct AppState {
    pub jobs: Arc<Jobs>,
    pub config: ServeConfig,
    /// Uploads whose rows are being checked at once (each holds its people in memory).
    pub validation_slots: Arc<tokio::sync::Semaphore>,
    /// What single documents are rendered with.
    pub papers: papers::Papers,
    /// Browsers signed in with the token (`signin`).
    pub sessions: signin::Sessions,
}

/// Starts the workers and serves until the process is stopped. Prints `listening on
/// http://ADDR` on stdout once bound (tests read the port from it).
pub fn serve(config: ServeConfig) -> Result<(), ServeError> {
    if !config.addr.ip().is_loopback() && config.token.is_none() {
        return Err(ServeError::TokenRequired { addr: config.addr });
    }
    let jobs = Jobs::open(&config.data)?;
    // The office profile single documents are signed with, loaded (and checked) once.
    let office = match &config.default_office {
        Some(path) => Some(config::load_office(path)?.0),
        None => None,
    };
    // Everything that can fail to start does so before any worker runs a batch.
    let papers =
        papers::Papers::new(office, config.paper_threads).map_err(ServeError::PaperThreads)?;
    let default_office = config.default_office.clone();
    let jobs_per_batch = config.jobs_per_batch;
    for _ in 0..config.workers.max(1) {
        let jobs = Arc::clone(&jobs);
        let default_office = default_office.clone();
        std::thread::spawn(move || {
            jobs.work(&|job, observer| {
                run_job(
                    job,
                    &jobs.folder(&job.id),
                    default_office.as_deref(),
                    jobs_per_batch,
                    observer,
                )
            });
        });
    }
    let state = Arc::new(AppState {
        jobs,
        config,
        validation_slots: Arc::new(tokio::sync::Semaphore::new(1)),
        papers,
        sessions: signin::Sessions::default(),
    });
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let addr = state.config.addr;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| ServeError::Bind { addr, source })?;
        let bound = listener.local_addr()?;
        println!("listening on http://{bound}");
        let _ = std::io::Write::flush(&mut std::io::stdout());
        axum::serve(listener, api::router(state)).await?;
        Ok(())
    })
}

/// Runs one batch with the pipeline, exactly as `clearance run` would with the same inputs.
fn run_job(
    job: &Job,
    folder: &std::path::Path,
    default_office: Option<&std::path::Path>,
    jobs_per_batch: usize,
    observer: &crate::pipeline::Observer<'_>,
) -> Result<(), String> {
    let options = &job.options;
    // Errors are shown to the batch's users: they name the batch's own files, never the
    // server's folders or its office profile's path.
    let redact = |message: String| {
        let mut message = redact_folder(&message, folder);
        if let Some(office) = default_office {
            message = message.replace(&office.display().to_string(), "the server's office profile");
        }
        message
    };
    let config = batch_config(options, folder, default_office, jobs_per_batch)
        .map_err(|error| redact(error.to_string()))?;
    match crate::pipeline::run(&config, observer) {
        Ok(report) if report.check.refused => Err(format!(
            "the input has {} bad row(s): see errors.json",
            report.check.errors
        )),
        Ok(_) => Ok(()),
        // The error's own words name files and lines, never personal data.
        Err(error) => Err(redact(error.to_string())),
    }
}

/// Error messages name files as the user knows them (`input/office.toml`), not by the
/// server's folders.
pub(crate) fn redact_folder(message: &str, folder: &std::path::Path) -> String {
    message.replace(&format!("{}/", folder.display()), "")
}

/// The pipeline's configuration for a batch, from its stored options and files.
pub(crate) fn batch_config(
    options: &BatchOptions,
    folder: &std::path::Path,
    default_office: Option<&std::path::Path>,
    jobs_per_batch: usize,
) -> Result<crate::RunConfig, config::ConfigError> {
    let county = config::County::parse(&options.county)?;
    // BEAR's options are JSON, read as `gogen:FILE` on the command line.
    let policy = options.policy.as_ref().map(|path| {
        let prefix = if path == "input/policy.json" {
            "gogen:"
        } else {
            ""
        };
        format!("{prefix}{}", folder.join(path).display())
    });
    let (rules, mut rules_source) = config::load_rules(policy.as_deref())?;
    // The manifest names the policy as the batch knows it, not by the server's folders.
    if rules_source.path.is_some() {
        rules_source.path.clone_from(&options.policy);
    }
    let as_of = config::parse_as_of(&options.as_of)?;
    let office_path = match (&options.office, default_office) {
        (Some(path), _) => folder.join(path),
        (None, Some(path)) => path.to_path_buf(),
        (None, None) => {
            return Err(config::ConfigError::Invalid {
                path: "office".into(),
                message: "no office profile: upload one with the batch".into(),
            });
        }
    };
    let (office, office_sha256) = config::load_office(&office_path)?;
    let contacts = match &options.contacts {
        Some(path) => {
            config::load_contacts(&folder.join(path), crate::ingest::encoding::Encoding::Auto)?
        }
        None => config::Contacts::default(),
    };
    Ok(crate::RunConfig {
        check: config::CheckConfig {
            inputs: options
                .inputs
                .iter()
                .map(|path| folder.join(path))
                .collect(),
            county,
            rules,
            rules_source,
            as_of,
            out_dir: folder.join("out"),
            output: crate::output::OutputOptions::default(),
            encoding: crate::ingest::encoding::Encoding::Auto,
            skip_bad_rows: false,
            jobs: jobs_per_batch,
            min_chunk_bytes: None,
            names_relative_to: Some(folder.to_path_buf()),
        },
        documents: crate::DocumentConfig {
            office,
            office_sha256,
            contacts,
            templates: crate::render::Templates::built_in(),
            letters: options.letters,
            letter_mode: crate::plan::LetterMode::Notice,
            full_exhibits: !options.redacted_exhibits,
            volume_limit_bytes: crate::VOLUME_LIMIT_BYTES,
            jobs: jobs_per_batch,
        },
    })
}
