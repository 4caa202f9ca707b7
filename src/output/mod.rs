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
    #[error(transparent)]
    Busy(#[from] FolderBusy),
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

/// An output folder whose files are thrown away (`templates check`). It lives, lock file
/// included, in a private temporary folder removed on drop, so checks leave nothing behind.
pub struct ScratchOutput {
    // Dropped first (fields drop in order): the uncommitted folder is discarded, then the
    // temporary parent with the lock file goes.
    pub output: OutputDir,
    _parent: tempfile::TempDir,
}

impl ScratchOutput {
    pub fn create(prefix: &str) -> Result<ScratchOutput, OutputError> {
        let parent = tempfile::Builder::new()
            .prefix(prefix)
            .tempdir()
            .map_err(write_error(&std::env::temp_dir()))?;
        let output = OutputDir::create(&parent.path().join("out"), OutputOptions::default())?;
        Ok(ScratchOutput {
            output,
            _parent: parent,
        })
    }
}

/// How a run takes its output folder.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutputOptions {
    /// Wait for another run writing the same folder to finish, instead of failing at once.
    pub wait: bool,
}

/// A run's output folder under construction.
///
/// While it exists the run holds an advisory lock (`flock`) on `.<name>.lock` beside the target,
/// so one run at a time writes a folder; the operating system releases the lock when the
/// process dies, so a crash never leaves the folder locked. Holding the lock proves that every
/// staging folder of this target is a dead run's: they are removed (and a previous output that a
/// crash left aside is put back) before anything is written. See ARCHITECTURE.md for the commit.
#[derive(Debug)]
pub struct OutputDir {
    target: PathBuf,
    staging: PathBuf,
    committed: bool,
    leftovers: Vec<PathBuf>,
    /// Held for the life of the run; dropping it releases the lock.
    _lock: fs::File,
}

/// The folder of `target` and its file name.
fn parent_and_name(target: &Path) -> (PathBuf, String) {
    let parent = match target.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = target
        .file_name()
        .map_or_else(|| "out".into(), |name| name.to_string_lossy().into_owned());
    (parent, name)
}

/// The kind of a run's leftover beside the target: `.<name>.partial-<pid>` (staging, or the old
/// output after the exchange) or `.<name>.previous-<pid>` (the old output moved aside by the
/// fallback commit).
fn leftover_kind(entry_name: &str, name: &str) -> Option<&'static str> {
    let rest = entry_name.strip_prefix('.')?.strip_prefix(name)?;
    for kind in ["partial", "previous"] {
        if let Some(pid) = rest
            .strip_prefix('.')
            .and_then(|rest| rest.strip_prefix(kind))
            .and_then(|rest| rest.strip_prefix('-'))
            && !pid.is_empty()
            && pid.bytes().all(|byte| byte.is_ascii_digit())
        {
            return Some(kind);
        }
    }
    None
}

/// The output folder is being written by another run.
#[derive(Debug, thiserror::Error)]
#[error("{path} is being written by another clearance run; wait for it to finish, or pass --wait")]
pub struct FolderBusy {
    pub path: String,
}

impl OutputDir {
    /// Takes the lock on `target` (failing at once when another run holds it, unless
    /// `options.wait`), clears what dead runs left, and prepares a fresh staging folder beside
    /// `target` (which need not exist yet).
    pub fn create(target: &Path, options: OutputOptions) -> Result<OutputDir, OutputError> {
        let (parent, name) = parent_and_name(target);
        fs::create_dir_all(&parent).map_err(write_error(&parent))?;
        let lock_path = parent.join(format!(".{name}.lock"));
        let lock = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(write_error(&lock_path))?;
        if options.wait {
            lock.lock().map_err(write_error(&lock_path))?;
        } else if let Err(error) = lock.try_lock() {
            return Err(match error {
                fs::TryLockError::WouldBlock => OutputError::Busy(FolderBusy {
                    path: target.display().to_string(),
                }),
                fs::TryLockError::Error(source) => OutputError::Write {
                    path: lock_path.display().to_string(),
                    source,
                },
            });
        }
        let leftovers = Self::clear_leftovers(target, &parent, &name)?;
        let staging = parent.join(format!(".{name}.partial-{}", std::process::id()));
        fs::create_dir_all(&staging).map_err(write_error(&staging))?;
        Ok(OutputDir {
            target: target.to_path_buf(),
            staging,
            committed: false,
            leftovers,
            _lock: lock,
        })
    }

    /// Under the lock: puts back a previous output that a crash left aside (the target missing),
    /// then removes every other leftover of dead runs. Returns what it removed or restored.
    fn clear_leftovers(
        target: &Path,
        parent: &Path,
        name: &str,
    ) -> Result<Vec<PathBuf>, OutputError> {
        let mut found: Vec<(PathBuf, &'static str)> = Vec::new();
        for entry in fs::read_dir(parent).map_err(write_error(parent))? {
            let entry = entry.map_err(write_error(parent))?;
            let entry_name = entry.file_name();
            if let Some(kind) = leftover_kind(&entry_name.to_string_lossy(), name) {
                found.push((entry.path(), kind));
            }
        }
        found.sort();
        let mut handled = Vec::new();
        if !target.exists()
            && let Some(index) = found.iter().position(|(_, kind)| *kind == "previous")
        {
            let (previous, _) = found.remove(index);
            fs::rename(&previous, target).map_err(write_error(target))?;
            handled.push(previous);
        }
        for (path, _) in found {
            fs::remove_dir_all(&path).map_err(write_error(&path))?;
            handled.push(path);
        }
        Ok(handled)
    }

    /// Leftovers of runs that died (staging folders, a previous output set aside) that were
    /// removed, or put back in place, before this run started.
    pub fn leftovers(&self) -> &[PathBuf] {
        &self.leftovers
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

    /// Puts the staging folder in place of the target so that, at every instant, the target
    /// path holds either the complete previous output or the complete new one. With a previous
    /// output, the two are exchanged in one atomic `renameat2(RENAME_EXCHANGE)` and the old one,
    /// now under the staging name, is deleted; without one, a plain rename. Where the file
    /// system cannot exchange, the old output is renamed aside first and a crash in between is
    /// repaired by the next run (it puts the old output back).
    pub fn commit(mut self) -> Result<PathBuf, OutputError> {
        let had_previous = self.target.exists();
        if had_previous {
            match exchange(&self.staging, &self.target) {
                Ok(()) => {
                    self.committed = true;
                    // The old output is now at the staging path.
                    fs::remove_dir_all(&self.staging).map_err(write_error(&self.staging))?;
                    return Ok(self.target.clone());
                }
                Err(error) if matches!(error.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {
                }
                Err(source) => {
                    return Err(OutputError::Write {
                        path: self.target.display().to_string(),
                        source,
                    });
                }
            }
        }
        let (parent, name) = parent_and_name(&self.target);
        let previous = parent.join(format!(".{name}.previous-{}", std::process::id()));
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

/// Atomically exchanges two paths (Linux `renameat2` with `RENAME_EXCHANGE`). Elsewhere it
/// reports "not supported", and the commit takes its two-rename path.
#[cfg(not(target_os = "linux"))]
fn exchange(_first: &Path, _second: &Path) -> io::Result<()> {
    Err(io::Error::from_raw_os_error(libc::ENOSYS))
}

/// Atomically exchanges two paths (Linux `renameat2` with `RENAME_EXCHANGE`).
#[cfg(target_os = "linux")]
fn exchange(first: &Path, second: &Path) -> io::Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let to_c = |path: &Path| {
        std::ffi::CString::new(path.as_os_str().as_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
    };
    let (first, second) = (to_c(first)?, to_c(second)?);
    // SAFETY: both are valid NUL-terminated paths that outlive the call; AT_FDCWD resolves them
    // relative to the working directory like std's own file calls.
    let result = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            first.as_ptr(),
            libc::AT_FDCWD,
            second.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Makes every file and folder this process creates private to its owner (0600 and 0700), or
/// readable by its group too (0640 and 0750) when the office chooses group access: the outputs
/// are confidential criminal-offender record information (PC 11142). Sets the process umask, so
/// it covers every file whoever creates it; call it before writing anything.
pub fn restrict_new_files(group_readable: bool) {
    let mask = if group_readable { 0o027 } else { 0o077 };
    // SAFETY: umask only replaces the process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(mask);
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

/// A CSV for people to open in a spreadsheet (clearance's own results, review lists, the
/// mailing list), written with the `csv` crate. A cell a spreadsheet would run as a formula —
/// starting with `=`, `+`, `-`, `@`, a tab or a carriage return (OWASP's rule) — is prefixed with
/// a single quote, so a name such as `=HYPERLINK(...)` shows as text. gogen's CSVs are exempt
/// (they must be byte-identical to gogen's) and `rejects.csv` keeps rows verbatim.
pub fn spreadsheet_csv<I, R>(header: &[&str], rows: I) -> Vec<u8>
where
    I: IntoIterator<Item = R>,
    R: IntoIterator,
    R::Item: AsRef<str>,
{
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let write = |writer: &mut csv::Writer<Vec<u8>>, cells: Vec<String>| {
        writer
            .write_record(cells)
            .expect("writing CSV into memory cannot fail");
    };
    write(
        &mut writer,
        header.iter().map(|cell| neutralise_cell(cell)).collect(),
    );
    for row in rows {
        write(
            &mut writer,
            row.into_iter()
                .map(|cell| neutralise_cell(cell.as_ref()))
                .collect(),
        );
    }
    writer
        .into_inner()
        .expect("flushing CSV into memory cannot fail")
}

/// `'` before a cell a spreadsheet would execute.
pub fn neutralise_cell(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}")
    } else {
        cell.to_string()
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
        let output = OutputDir::create(&target, OutputOptions::default()).unwrap();
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
        let mut left: Vec<String> = fs::read_dir(root.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [".out.lock", "out"],
            "no staging or previous folders left"
        );
    }

    #[test]
    fn an_abandoned_run_leaves_nothing() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        {
            let output = OutputDir::create(&target, OutputOptions::default()).unwrap();
            output.write("x.txt", b"partial").unwrap();
        }
        let left: Vec<_> = fs::read_dir(root.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(left, [".out.lock"], "only the (unlocked) lock file");
    }

    #[test]
    fn one_run_at_a_time_per_folder() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        let first = OutputDir::create(&target, OutputOptions::default()).unwrap();
        let error = OutputDir::create(&target, OutputOptions::default()).unwrap_err();
        assert!(matches!(error, OutputError::Busy(_)), "{error}");
        assert!(
            error
                .to_string()
                .contains("out is being written by another clearance run")
        );
        // Another folder beside it is free.
        let other = OutputDir::create(&root.path().join("other"), OutputOptions::default());
        assert!(other.is_ok());
        drop(first);
        assert!(OutputDir::create(&target, OutputOptions::default()).is_ok());
    }

    #[test]
    fn leftovers_of_dead_runs_are_cleared_and_a_set_aside_output_restored() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("out");
        // A dead run's staging, another's old output set aside with the target missing, and a
        // folder of another target that merely looks alike.
        fs::create_dir_all(root.path().join(".out.partial-999999/results")).unwrap();
        fs::create_dir_all(root.path().join(".out.previous-999998")).unwrap();
        fs::write(root.path().join(".out.previous-999998/summary.json"), "old").unwrap();
        fs::create_dir_all(root.path().join(".out.partial-x.partial-5")).unwrap();
        let output = OutputDir::create(&target, OutputOptions::default()).unwrap();
        assert_eq!(output.leftovers().len(), 2);
        assert_eq!(
            fs::read_to_string(target.join("summary.json")).unwrap(),
            "old"
        );
        assert!(!root.path().join(".out.partial-999999").exists());
        assert!(root.path().join(".out.partial-x.partial-5").exists());
        output.write("summary.json", b"new").unwrap();
        output.commit().unwrap();
        assert_eq!(
            fs::read_to_string(target.join("summary.json")).unwrap(),
            "new"
        );
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_neutralised() {
        let csv = spreadsheet_csv(
            &["name", "note"],
            [
                vec!["=HYPERLINK(\"http://x\",\"y\")", "+1"],
                vec!["-2", "@SUM(A1)"],
                vec!["\tTAB", "O'BRIEN, ZOË"],
            ],
        );
        let text = String::from_utf8(csv).unwrap();
        assert_eq!(
            text,
            "name,note\n\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",'+1\n'-2,'@SUM(A1)\n'\tTAB,\"O'BRIEN, ZOË\"\n"
        );
    }

    #[test]
    fn file_stems_are_safe() {
        assert_eq!(safe_file_stem("SCN 123/45"), "SCN_123_45");
        assert_eq!(safe_file_stem("../../etc"), "_.._etc");
        assert_eq!(safe_file_stem(""), "_");
    }
}
