//! What a running command tells its driver, and how the driver stops it: named stages with
//! done/total counts for the CLI's progress bar and the service's event stream, and a
//! cancellation token the pipeline checks between stages and between chunks of documents.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::PipelineError;

/// A stage of a command, in pipeline order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// Reading the DOJ file(s): bytes.
    Reading,
    /// Deciding every conviction and writing the results: one step.
    Deciding,
    /// `render`: reading a determinations file: one step.
    ReadingDeterminations,
    /// The office's review list, the county-wide notice of challenge and the per-case notices:
    /// notices.
    Challenges,
    /// Per-case motions and orders and the packets bundle: cases.
    Cases,
    /// The omnibus application and petition: parts of the filings.
    Filings,
    /// Notification letters and their bundles: letters.
    Letters,
    /// The summary report, the manifest and the commit of the output folder: one step.
    Finishing,
}

impl Stage {
    /// How the stage is named to a person ("reading", "cases").
    pub fn label(self) -> &'static str {
        match self {
            Stage::Reading => "reading",
            Stage::Deciding => "deciding",
            Stage::ReadingDeterminations => "reading determinations",
            Stage::Challenges => "challenges",
            Stage::Cases => "cases",
            Stage::Filings => "filings",
            Stage::Letters => "letters",
            Stage::Finishing => "finishing",
        }
    }
}

/// Where a command is: its stage, and how much of it is done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Progress {
    pub stage: Stage,
    pub done: u64,
    pub total: u64,
}

/// Stops a command: set from any thread, checked by the pipeline between stages and chunks. A
/// cancelled command returns [`PipelineError::Cancelled`] and commits nothing.
#[derive(Clone, Debug, Default)]
pub struct Cancellation(Arc<AtomicBool>);

impl Cancellation {
    pub fn new() -> Cancellation {
        Cancellation::default()
    }

    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// `Err(Cancelled)` once cancelled.
    pub fn check(&self) -> Result<(), PipelineError> {
        if self.is_cancelled() {
            Err(PipelineError::Cancelled)
        } else {
            Ok(())
        }
    }
}

/// What a running command reports to, and the token that stops it.
pub struct Observer<'a> {
    progress: &'a (dyn Fn(Progress) + Sync),
    pub cancellation: Cancellation,
}

impl<'a> Observer<'a> {
    pub fn new(progress: &'a (dyn Fn(Progress) + Sync), cancellation: Cancellation) -> Self {
        Observer {
            progress,
            cancellation,
        }
    }

    /// Reports nothing and is never cancelled.
    pub fn silent() -> Observer<'static> {
        Observer {
            progress: &|_| {},
            cancellation: Cancellation::new(),
        }
    }

    pub fn report(&self, stage: Stage, done: u64, total: u64) {
        (self.progress)(Progress { stage, done, total });
    }

    /// Between stages and chunks: stop here if cancelled.
    pub fn check(&self) -> Result<(), PipelineError> {
        self.cancellation.check()
    }

    /// A counter for a stage of `total` items, reported as items are done (from any thread).
    pub fn stage(&self, stage: Stage, total: u64) -> StageCounter<'_, 'a> {
        self.report(stage, 0, total);
        StageCounter {
            observer: self,
            stage,
            total,
            done: AtomicU64::new(0),
        }
    }
}

/// Counts the items of one stage as workers finish them.
pub struct StageCounter<'o, 'a> {
    observer: &'o Observer<'a>,
    stage: Stage,
    total: u64,
    done: AtomicU64,
}

impl StageCounter<'_, '_> {
    pub fn advance(&self, items: u64) {
        let done = self.done.fetch_add(items, Ordering::SeqCst) + items;
        self.observer
            .report(self.stage, done.min(self.total), self.total);
    }

    /// Between chunks: stop here if cancelled.
    pub fn check(&self) -> Result<(), PipelineError> {
        self.observer.check()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::config::{self, County};
    use crate::model::Date;

    /// A `run` on a small synthetic file, observed: every progress event, and the token.
    fn run_observed(
        folder: &std::path::Path,
        cancel_at: Option<Stage>,
        jobs: usize,
    ) -> (Result<crate::RunReport, PipelineError>, Vec<Progress>) {
        let input = folder.join("doj.csv");
        let mut file = std::fs::File::create(&input).expect("input");
        crate::sample::generate(
            &crate::sample::SampleOptions {
                people: 120,
                county: County::parse("SAN FRANCISCO").expect("county"),
                seed: 7,
            },
            &mut file,
        )
        .expect("sample");
        let (rules, rules_source) = config::load_rules(None).expect("rules");
        let repository = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let (office, office_sha256) =
            config::load_office(&repository.join("samples/office.toml")).expect("office");
        let config = crate::RunConfig {
            check: config::CheckConfig {
                inputs: vec![input],
                county: County::parse("SAN FRANCISCO").expect("county"),
                rules,
                rules_source,
                as_of: Date::from_ymd_const(2020, 7, 1),
                out_dir: folder.join("out"),
                output: crate::output::OutputOptions::default(),
                encoding: crate::ingest::encoding::Encoding::Auto,
                skip_bad_rows: false,
                jobs,
                min_chunk_bytes: None,
                names_relative_to: None,
            },
            documents: crate::DocumentConfig {
                office,
                office_sha256,
                contacts: config::Contacts::default(),
                templates: crate::render::Templates::built_in(),
                letters: true,
                letter_mode: crate::plan::LetterMode::Notice,
                full_exhibits: true,
                volume_limit_bytes: crate::VOLUME_LIMIT_BYTES,
                jobs,
            },
        };
        let events = Mutex::new(Vec::new());
        let cancellation = Cancellation::new();
        let record = |progress: Progress| {
            events.lock().expect("events").push(progress);
            if Some(progress.stage) == cancel_at && progress.done > 0 {
                cancellation.cancel();
            }
        };
        let result = crate::run(&config, &Observer::new(&record, cancellation.clone()));
        (result, events.into_inner().expect("events"))
    }

    #[test]
    fn a_run_reports_its_stages_in_order_each_to_its_total() {
        let folder = tempfile::tempdir().expect("folder");
        let (result, events) = run_observed(folder.path(), None, 2);
        result.expect("run");
        let stages: Vec<Stage> = events.iter().map(|event| event.stage).collect();
        assert!(
            stages.windows(2).all(|pair| pair[0] <= pair[1]),
            "stages in pipeline order: {stages:?}"
        );
        for stage in [
            Stage::Reading,
            Stage::Deciding,
            Stage::Challenges,
            Stage::Cases,
            Stage::Filings,
            Stage::Letters,
            Stage::Finishing,
        ] {
            let last = events
                .iter()
                .rev()
                .find(|event| event.stage == stage)
                .unwrap_or_else(|| panic!("{stage:?} reported: {events:?}"));
            assert!(last.total > 0, "{last:?}");
            assert_eq!(last.done, last.total, "{stage:?} finishes: {last:?}");
        }
        assert!(folder.path().join("out/manifest.json").exists());
    }

    #[test]
    fn a_cancelled_run_stops_at_the_next_chunk_and_commits_nothing() {
        let folder = tempfile::tempdir().expect("folder");
        // One thread: the chunk after the one that reported is never started.
        let (result, events) = run_observed(folder.path(), Some(Stage::Cases), 1);
        assert!(
            matches!(result, Err(PipelineError::Cancelled)),
            "{result:?}"
        );
        assert!(
            !events.iter().any(|event| event.stage > Stage::Cases),
            "no stage after the cancelled one starts: {events:?}"
        );
        let cases = events
            .iter()
            .filter(|event| event.stage == Stage::Cases)
            .map(|event| event.done)
            .max()
            .unwrap_or_default();
        let total = events
            .iter()
            .find(|event| event.stage == Stage::Cases)
            .map_or(0, |event| event.total);
        assert!(
            total > 40 && cases == 40,
            "stopped after the first chunk of 40: {cases} of {total}"
        );
        assert!(!folder.path().join("out").exists(), "nothing committed");
    }
}
