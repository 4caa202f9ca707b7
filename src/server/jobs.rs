//! Durable batch jobs: an SQLite table in the data folder holds every accepted job and its
//! state; a job's inputs are on disk (`jobs/<id>/input/`) before the job is accepted, and its
//! output is committed into `jobs/<id>/out/` by the pipeline's atomic output folder. Workers
//! (plain threads: the pipeline is CPU-bound and has its own threads) take queued jobs in order.
//! On start, a job left `running` by a crash is queued again and re-runs from scratch; the
//! output folder never shows a half-written run.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OptionalExtension, params};

use crate::pipeline::{Cancellation, Observer, Progress};

/// What a batch was asked to do: the form's fields, validated when the job was accepted.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct BatchOptions {
    pub county: String,
    pub as_of: String,
    pub letters: bool,
    pub redacted_exhibits: bool,
    /// DOJ input files, as stored: `input/doj-1.csv`, ...
    pub inputs: Vec<String>,
    pub contacts: Option<String>,
    pub office: Option<String>,
    pub policy: Option<String>,
}

/// A job's state as the API reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl JobState {
    fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::Cancelled => "cancelled",
        }
    }

    fn parse(text: &str) -> JobState {
        match text {
            "running" => JobState::Running,
            "succeeded" => JobState::Succeeded,
            "failed" => JobState::Failed,
            "cancelled" => JobState::Cancelled,
            _ => JobState::Queued,
        }
    }
}

/// One job as stored.
#[derive(Clone, Debug)]
pub struct Job {
    pub id: String,
    pub state: JobState,
    pub created: String,
    pub options: BatchOptions,
    /// Why it failed, in a sentence (no personal data).
    pub error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("job store: {0}")]
    Store(#[from] rusqlite::Error),
    #[error("job files: {0}")]
    Files(#[from] std::io::Error),
    #[error("{folder} is in use by another clearance serve")]
    InUse { folder: String },
}

/// The job table, the jobs' folders, and the running jobs' progress and cancellation tokens.
pub struct Jobs {
    root: PathBuf,
    connection: Mutex<Connection>,
    live: Mutex<HashMap<String, (Option<Progress>, Cancellation)>>,
    /// Queued jobs are taken by workers woken through this.
    wake: std::sync::Condvar,
    wake_lock: Mutex<()>,
    /// Held (`flock`) while the service runs: one service per folder.
    _lock: std::fs::File,
}

impl Jobs {
    /// Opens (or creates) the store in `root`; jobs a crash left running are queued again, and
    /// folders no job owns (an upload cut off by a crash, a check's scratch folder) are removed.
    pub fn open(root: &Path) -> Result<Arc<Jobs>, JobError> {
        let created = !root.exists();
        std::fs::create_dir_all(root.join("jobs"))?;
        // Criminal-record data: a folder the service makes is the service user's alone (one
        // the user gave, such as a home folder, keeps its permissions), and `jobs/`, where the
        // uploads and papers are, always is.
        #[cfg(unix)]
        {
            let owner_only = || std::os::unix::fs::PermissionsExt::from_mode(0o700);
            if created {
                std::fs::set_permissions(root, owner_only())?;
            }
            std::fs::set_permissions(root.join("jobs"), owner_only())?;
        }
        // One service per folder: two would run, and re-queue, each other's jobs.
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(root.join("serve.lock"))?;
        // SAFETY: flock on a descriptor this process owns; the lock lives as long as `lock`.
        if unsafe {
            libc::flock(
                std::os::fd::AsRawFd::as_raw_fd(&lock),
                libc::LOCK_EX | libc::LOCK_NB,
            )
        } != 0
        {
            return Err(JobError::InUse {
                folder: root.display().to_string(),
            });
        }
        let connection = Connection::open(root.join("jobs.sqlite"))?;
        connection.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = FULL;
             CREATE TABLE IF NOT EXISTS jobs (
                 id TEXT PRIMARY KEY,
                 sequence INTEGER NOT NULL,
                 state TEXT NOT NULL,
                 created TEXT NOT NULL,
                 options TEXT NOT NULL,
                 error TEXT
             );
             UPDATE jobs SET state = 'queued', error = NULL WHERE state = 'running';",
        )?;
        let known: std::collections::HashSet<String> = connection
            .prepare("SELECT id FROM jobs")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        for entry in std::fs::read_dir(root.join("jobs"))? {
            let entry = entry?;
            if !known.contains(entry.file_name().to_string_lossy().as_ref()) {
                let removed = if entry.file_type()?.is_dir() {
                    std::fs::remove_dir_all(entry.path())
                } else {
                    std::fs::remove_file(entry.path())
                };
                // Left for the next start, said in the log (a folder id, no personal data).
                if let Err(error) = removed {
                    tracing::warn!(
                        folder = %entry.file_name().to_string_lossy(),
                        %error,
                        "could not remove a folder no job owns"
                    );
                }
            }
        }
        Ok(Arc::new(Jobs {
            root: root.to_path_buf(),
            connection: Mutex::new(connection),
            live: Mutex::new(HashMap::new()),
            wake: std::sync::Condvar::new(),
            wake_lock: Mutex::new(()),
            _lock: lock,
        }))
    }

    /// The folder of a job (inputs under `input/`, output under `out/`).
    pub fn folder(&self, id: &str) -> PathBuf {
        self.root.join("jobs").join(id)
    }

    fn connection(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records an accepted job whose inputs are already in its folder, and wakes a worker.
    pub fn accept(&self, id: &str, created: &str, options: &BatchOptions) -> Result<(), JobError> {
        let options = serde_json::to_string(options).expect("options serialize");
        // The inputs, their folder and its entry are on disk before the job is: after a crash
        // of the machine, a stored job never points at files that were only in memory.
        let input = self.folder(id).join("input");
        for entry in std::fs::read_dir(&input)? {
            std::fs::File::open(entry?.path())?.sync_all()?;
        }
        for folder in [input, self.folder(id), self.root.join("jobs")] {
            std::fs::File::open(folder)?.sync_all()?;
        }
        {
            let connection = self.connection();
            connection.execute(
                "INSERT INTO jobs (id, sequence, state, created, options)
                 VALUES (?1, (SELECT COALESCE(MAX(sequence), 0) + 1 FROM jobs), 'queued', ?2, ?3)",
                params![id, created, options],
            )?;
        }
        self.wake.notify_all();
        Ok(())
    }

    pub fn queued(&self) -> Result<usize, JobError> {
        let count: i64 = self.connection().query_row(
            "SELECT COUNT(*) FROM jobs WHERE state = 'queued'",
            [],
            |row| row.get(0),
        )?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    fn job_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Job> {
        let options: String = row.get(3)?;
        Ok(Job {
            id: row.get(0)?,
            state: JobState::parse(&row.get::<_, String>(1)?),
            created: row.get(2)?,
            options: serde_json::from_str(&options).unwrap_or_default(),
            error: row.get(4)?,
        })
    }

    pub fn get(&self, id: &str) -> Result<Option<Job>, JobError> {
        Ok(self
            .connection()
            .query_row(
                "SELECT id, state, created, options, error FROM jobs WHERE id = ?1",
                params![id],
                Jobs::job_from_row,
            )
            .optional()?)
    }

    /// Every job, newest first.
    pub fn list(&self) -> Result<Vec<Job>, JobError> {
        let connection = self.connection();
        let mut statement = connection.prepare(
            "SELECT id, state, created, options, error FROM jobs ORDER BY sequence DESC",
        )?;
        let jobs = statement
            .query_map([], Jobs::job_from_row)?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(jobs)
    }

    /// The progress of a running job.
    pub fn progress(&self, id: &str) -> Option<Progress> {
        self.live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
            .and_then(|(progress, _)| *progress)
    }

    fn set_state(&self, id: &str, state: JobState, error: Option<&str>) -> Result<(), JobError> {
        self.connection().execute(
            "UPDATE jobs SET state = ?2, error = ?3 WHERE id = ?1",
            params![id, state.as_str(), error],
        )?;
        Ok(())
    }

    /// Cancels a job (a running one stops at its next chunk) and removes it and every file of
    /// it, uploads included.
    pub fn delete(&self, id: &str) -> Result<bool, JobError> {
        if let Some((_, cancellation)) = self
            .live
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(id)
        {
            cancellation.cancel();
        }
        let removed = self
            .connection()
            .execute("DELETE FROM jobs WHERE id = ?1", params![id])?;
        let folder = self.folder(id);
        if folder.exists() {
            std::fs::remove_dir_all(&folder)?;
        }
        Ok(removed > 0)
    }

    /// Takes the oldest queued job, marking it running.
    fn take(&self) -> Result<Option<Job>, JobError> {
        let connection = self.connection();
        let id: Option<String> = connection
            .query_row(
                "UPDATE jobs SET state = 'running' WHERE id = (
                     SELECT id FROM jobs WHERE state = 'queued' ORDER BY sequence LIMIT 1
                 ) RETURNING id",
                [],
                |row| row.get(0),
            )
            .optional()?;
        drop(connection);
        match id {
            Some(id) => self.get(&id),
            None => Ok(None),
        }
    }

    /// A worker: runs queued jobs one after another, forever.
    pub fn work(
        self: &Arc<Jobs>,
        run: &(dyn Fn(&Job, &Observer<'_>) -> Result<(), String> + Sync),
    ) {
        loop {
            let job = match self.take() {
                Ok(Some(job)) => job,
                Ok(None) => {
                    let guard = self
                        .wake_lock
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    let _ = self
                        .wake
                        .wait_timeout(guard, std::time::Duration::from_millis(500));
                    continue;
                }
                Err(error) => {
                    tracing::error!(%error, "cannot read the job store");
                    std::thread::sleep(std::time::Duration::from_secs(1));
                    continue;
                }
            };
            let cancellation = Cancellation::new();
            self.live
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .insert(job.id.clone(), (None, cancellation.clone()));
            let report = |progress: Progress| {
                if let Some(entry) = self
                    .live
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get_mut(&job.id)
                {
                    entry.0 = Some(progress);
                }
            };
            let started = std::time::Instant::now();
            let outcome = run(&job, &Observer::new(&report, cancellation.clone()));
            self.live
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .remove(&job.id);
            let (state, error) = match outcome {
                _ if cancellation.is_cancelled() => (JobState::Cancelled, None),
                Ok(()) => (JobState::Succeeded, None),
                Err(message) => (JobState::Failed, Some(message)),
            };
            // A deleted job has no row left to update: nothing to do.
            if let Err(error) = self.set_state(&job.id, state, error.as_deref()) {
                tracing::error!(%error, "cannot record a job's end");
            }
            tracing::info!(
                job = %job.id,
                state = state.as_str(),
                seconds = started.elapsed().as_secs_f64(),
                "batch finished"
            );
        }
    }
}
