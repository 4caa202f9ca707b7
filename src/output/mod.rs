//! Output: the only stage (with `cli` and `server`) that writes files.
//!
//! Everything for a run is written into a private staging folder next to the target, then
//! swapped into place with renames, so an interrupted run never leaves a half-written or mixed
//! folder and readers see either the old results or the new ones. Same inputs and as-of date give
//! byte-identical files: nothing here reads the clock.

mod gogen_csv;
mod manifest;
mod results;

pub use gogen_csv::{GogenCsvNames, RowResult, write_gogen_csvs};
pub use manifest::{
    ManifestHeader, ManifestInput, ManifestTemplate, OutputDocument, hash_file, write_manifest,
};
pub use results::{
    DeterminationRecord, DocumentFailure, determination_records, write_determinations,
    write_errors, write_json, write_rejects,
};

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Writing outputs failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OutputError {
    #[error("cannot write {path}")]
    Write {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot re-read input {path}")]
    Reread {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot read back {path} to hash it")]
    ReadBack {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("input {path} changed while it was being processed (row {row} differs); run again")]
    InputChanged { path: String, row: u64 },
}

pub(crate) fn write_error(path: &Path) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Write {
        path: path.display().to_string(),
        source,
    }
}

/// Like [`write_error`] for a path given as text.
pub(crate) fn write_error_for(path: &str) -> impl FnOnce(io::Error) -> OutputError + '_ {
    move |source| OutputError::Write {
        path: path.to_string(),
        source,
    }
}

/// A run's output folder under construction.
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
}

impl OutputDir {
    /// Prepares a fresh staging folder beside `target` (which need not exist yet).
    pub fn create(target: &Path) -> Result<OutputDir, OutputError> {
        let parent = match target.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        fs::create_dir_all(&parent).map_err(write_error(&parent))?;
        let name = target
            .file_name()
            .map_or_else(|| "out".into(), |name| name.to_string_lossy().into_owned());
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        if staging.exists() {
            fs::remove_dir_all(&staging).map_err(write_error(&staging))?;
        }
        fs::create_dir_all(&staging).map_err(write_error(&staging))?;
        Ok(OutputDir {
            target: target.to_path_buf(),
            staging,
            committed: false,
        })
    }

    /// Where files go before the commit.
    pub fn staging(&self) -> &Path {
        &self.staging
    }

    pub fn target(&self) -> &Path {
        &self.target
    }

    /// A path inside the staging folder, creating parent folders.
    pub fn path(&self, relative: &str) -> Result<PathBuf, OutputError> {
        let path = self.staging.join(relative);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(write_error(parent))?;
        }
        Ok(path)
    }

    /// Writes a whole file into the staging folder.
    pub fn write(&self, relative: &str, bytes: &[u8]) -> Result<PathBuf, OutputError> {
        let path = self.path(relative)?;
        fs::write(&path, bytes).map_err(write_error(&path))?;
        Ok(path)
    }

    /// Creates a file in the staging folder to be written as a stream (a bundle).
    pub fn create_file(&self, relative: &str) -> Result<fs::File, OutputError> {
        let path = self.path(relative)?;
        fs::File::create(&path).map_err(write_error(&path))
    }

    /// Removes a file that turned out to have nothing in it (a bundle whose every document
    /// failed; the failures are reported instead).
    pub fn remove(&self, relative: &str) -> Result<(), OutputError> {
        let path = self.staging.join(relative);
        fs::remove_file(&path).map_err(write_error(&path))
    }

    /// Swaps the staging folder into place. The previous folder, if any, is moved aside first
    /// and deleted only after the new one is in place.
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let parent = self
            .staging
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let name = self
            .target
            .file_name()
            .map_or_else(|| "out".into(), |name| name.to_string_lossy().into_owned());
        let previous = parent.join(format!(".{name}.previous-{}", std::process::id()));
        let had_previous = self.target.exists();
        if had_previous {
            fs::rename(&self.target, &previous).map_err(write_error(&self.target))?;
        }
        if let Err(source) = fs::rename(&self.staging, &self.target) {
            if had_previous {
                // Put the old results back rather than leave nothing.
                let _ = fs::rename(&previous, &self.target);
            }
            return Err(OutputError::Write {
                path: self.target.display().to_string(),
                source,
            });
        }
        self.committed = true;
        if had_previous {
            fs::remove_dir_all(&previous).map_err(write_error(&previous))?;
        }
        Ok(self.target.clone())
    }
}

impl Drop for OutputDir {
    fn drop(&mut self) {
        if !self.committed {
            // An abandoned run leaves nothing behind.
            let _ = fs::remove_dir_all(&self.staging);
        }
    }
}

/// SHA-256 (hex) and size of files already written, by path, so the manifest need not read
/// them back.
pub type KnownHashes = std::collections::HashMap<PathBuf, (String, u64)>;

/// Writes files on a dedicated thread, so workers that produce many small files do not wait for
/// the file system (or contend for the directory) while they could be rendering. Hashes each
/// file for the manifest while its bytes are at hand.
pub struct BackgroundWriter {
    sender: Option<std::sync::mpsc::SyncSender<(PathBuf, Vec<u8>)>>,
    thread: Option<std::thread::JoinHandle<Result<KnownHashes, OutputError>>>,
}

impl BackgroundWriter {
    /// Starts the writer thread; at most `queue` files wait in memory.
    pub fn start(queue: usize) -> BackgroundWriter {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<(PathBuf, Vec<u8>)>(queue);
        let thread = std::thread::spawn(move || {
            use sha2::Digest;
            let mut created: std::collections::HashSet<PathBuf> = std::collections::HashSet::new();
            let mut hashes = KnownHashes::new();
            for (path, bytes) in receiver {
                if let Some(parent) = path.parent()
                    && created.insert(parent.to_path_buf())
                {
                    fs::create_dir_all(parent).map_err(write_error(parent))?;
                }
                fs::write(&path, &bytes).map_err(write_error(&path))?;
                let sha256 = crate::config::hex(&sha2::Sha256::digest(&bytes));
                hashes.insert(path, (sha256, bytes.len() as u64));
            }
            Ok(hashes)
        });
        BackgroundWriter {
            sender: Some(sender),
            thread: Some(thread),
        }
    }

    /// Queues a file (blocks while the queue is full).
    pub fn write(&self, path: PathBuf, bytes: Vec<u8>) -> Result<(), OutputError> {
        let sender = self
            .sender
            .as_ref()
            .expect("the writer is open until finished");
        sender
            .send((path, bytes))
            .map_err(|error| OutputError::Write {
                path: error.0.0.display().to_string(),
                source: io::Error::other("the file writer stopped"),
            })
    }

    /// Waits for every queued file to be written; returns their hashes.
    pub fn finish(mut self) -> Result<KnownHashes, OutputError> {
        self.sender.take();
        match self.thread.take().map(std::thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
            None => Ok(KnownHashes::new()),
        }
    }
}

impl Drop for BackgroundWriter {
    fn drop(&mut self) {
        self.sender.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A buffered file writer that reports the path on failure.
pub(crate) struct FileSink {
    path: PathBuf,
    writer: io::BufWriter<fs::File>,
}

impl FileSink {
    pub(crate) fn create(path: PathBuf) -> Result<FileSink, OutputError> {
        let file = fs::File::create(&path).map_err(write_error(&path))?;
        Ok(FileSink {
            writer: io::BufWriter::with_capacity(1 << 20, file),
            path,
        })
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        self.writer
            .write_all(bytes)
            .map_err(write_error(&self.path))
    }

    /// Appends the whole of another sink's file (an in-kernel copy on Linux) and deletes it.
    pub(crate) fn append_file(&mut self, part: FileSink) -> Result<(), OutputError> {
        let part_path = part.path.clone();
        part.finish()?;
        let mut reader = fs::File::open(&part_path).map_err(write_error(&part_path))?;
        io::copy(&mut reader, &mut self.writer).map_err(write_error(&self.path))?;
        fs::remove_file(&part_path).map_err(write_error(&part_path))
    }

    /// Flushes the buffer. No fsync: atomicity comes from the folder rename at commit, and
    /// forcing 600 MB to disk would triple the run time of a county file.
    pub(crate) fn finish(mut self) -> Result<(), OutputError> {
        self.writer.flush().map_err(write_error(&self.path))
    }
}

/// Replaces characters that are unsafe in file names; used for names derived from ids.
pub fn safe_file_stem(text: &str) -> String {
    let stem: String = text
        .trim()
        .chars()
        .map(|character| {
            if character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.') {
                character
            } else {
                '_'
            }
        })
        .collect();
    let stem = stem.trim_start_matches('.').to_string();
    if stem.is_empty() {
        "_".to_string()
    } else {
        stem
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_the_previous_folder_whole() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        fs::create_dir_all(target.join("old")).unwrap();
        fs::write(target.join("stale.txt"), "old").unwrap();
        let output = OutputDir::create(&target).unwrap();
        output.write("results/new.txt", b"new").unwrap();
        assert!(
            !target.join("results").exists(),
            "nothing visible before the commit"
        );
        output.commit().unwrap();
        assert_eq!(
            fs::read_to_string(target.join("results/new.txt")).unwrap(),
            "new"
        );
        assert!(!target.join("stale.txt").exists());
        let leftovers: Vec<_> = fs::read_dir(root.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no staging or previous folders left");
    }

    #[test]
    fn an_abandoned_run_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        {
            let output = OutputDir::create(&target).unwrap();
            output.write("x.txt", b"partial").unwrap();
        }
        assert_eq!(fs::read_dir(root.path()).unwrap().count(), 0);
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(safe_file_stem("SCN 123/45"), "SCN_123_45");
        assert_eq!(safe_file_stem("../../etc"), "_.._etc");
        assert_eq!(safe_file_stem(""), "_");
    }
}
