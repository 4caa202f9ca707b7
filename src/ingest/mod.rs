//! Ingest: DOJ research files → people, convictions and court cases, plus diagnostics.
//!
//! Files are streamed row by row; only what the rules need is kept (see `model`). Every problem
//! with a row becomes a [`Diagnostic`] carrying file, line, column and reason, and all of them are
//! collected rather than stopping at the first. Whether bad rows refuse the run or are skipped is
//! the caller's choice; skipped rows are kept as [`RejectedRow`]s so nothing is silently lost.
//!
//! Two groupings exist. clearance's own merges a person across files and validates `CNT_ORDER`
//! and `SUBJECT_ID` strictly. The gogen-compatible one ([`Compatibility::Gogen`]) accepts exactly
//! what gogen accepts and reproduces its grouping quirks, because that mode is judged byte for
//! byte against gogen's outputs.

pub mod csv;
pub mod doj;
pub mod encoding;
mod group;

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::model::{CountyId, Person};
use csv::{RawRecord, ReadResult, RecordReader, SyntaxError};
use group::{ChunkOutcome, PeopleBuilder};

/// Which reader behaviour to reproduce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compatibility {
    /// clearance's own rules: strict keys, people merged across files.
    Clearance,
    /// gogen v0.2.13: lenient keys, its grouping quirks, one file at a time.
    Gogen,
}

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The row cannot be used; the run is refused unless bad rows are skipped.
    Error,
    /// The row is used, but something in it could not be read and was treated as unknown.
    Warning,
}

/// A problem found in an input, located precisely enough to fix it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub file: String,
    /// 1-based physical line (the header counts as line 1).
    pub line: Option<u64>,
    /// 1-based column: a byte column for syntax errors, a field number otherwise.
    pub column: Option<u64>,
    /// The DOJ column name when the problem is in one field.
    pub field: Option<&'static str>,
    pub message: String,
}

impl std::fmt::Display for Diagnostic {
    /// `file:line:column: error: message`, compiler style.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(formatter, "{}", self.file)?;
        if let Some(line) = self.line {
            write!(formatter, ":{line}")?;
            if let Some(column) = self.column {
                write!(formatter, ":{column}")?;
            }
        }
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(formatter, ": {severity}: ")?;
        if let Some(field) = self.field {
            write!(formatter, "{field}: ")?;
        }
        formatter.write_str(&self.message)
    }
}

/// A row left out of the run (`--skip-bad-rows`), kept verbatim for `rejects.csv`.
#[derive(Clone, Debug)]
pub struct RejectedRow {
    pub line: u64,
    pub reason: String,
    /// The record re-encoded as CSV, or the raw physical line when it could not be parsed.
    pub text: Vec<u8>,
}

/// What was read from one input file.
#[derive(Clone, Debug)]
pub struct InputFile {
    /// Position in the run's list of inputs (`RowRef::file` of its rows).
    pub index: u16,
    pub path: PathBuf,
    /// The path as the user gave it; used in diagnostics.
    pub display_name: String,
    pub had_header: bool,
    /// A byte order mark before the first row (no header) was skipped.
    pub had_bom: bool,
    /// Data rows accepted (gogen's `lineCount`).
    pub accepted_rows: u32,
    pub physical_lines: u64,
    pub bytes: u64,
    pub rejected: Vec<RejectedRow>,
    /// Where the file was split for parallel reading; the second pass uses the same splits.
    pub chunks: Vec<ChunkStart>,
}

/// The start of a chunk of a file: a record boundary.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkStart {
    pub byte_offset: u64,
    /// Accepted data rows before the chunk.
    pub first_row: u32,
    /// Physical lines before the chunk.
    pub lines_before: u64,
}

impl InputFile {
    /// Start lines of rejected records, for the second pass to skip the same rows.
    pub fn rejected_lines(&self) -> std::collections::HashSet<u64> {
        self.rejected.iter().map(|row| row.line).collect()
    }
}

/// County names as recorded (`STP_ORI_CNTY_NAME`), interned.
#[derive(Clone, Debug, Default)]
pub struct CountyTable {
    names: Vec<Box<[u8]>>,
    lookup: HashMap<Box<[u8]>, CountyId>,
}

impl CountyTable {
    pub fn intern(&mut self, name: &[u8]) -> CountyId {
        if let Some(&id) = self.lookup.get(name) {
            return id;
        }
        let id = CountyId(u16::try_from(self.names.len()).unwrap_or(u16::MAX));
        self.names.push(name.into());
        self.lookup.insert(name.into(), id);
        id
    }

    pub fn len(&self) -> usize {
        self.names.len()
    }

    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    pub fn raw_name(&self, id: CountyId) -> &[u8] {
        self.names.get(usize::from(id.0)).map_or(&[], |name| name)
    }

    pub fn name(&self, id: CountyId) -> String {
        self.names
            .get(usize::from(id.0))
            .map(|name| String::from_utf8_lossy(name).into_owned())
            .unwrap_or_default()
    }

    /// For each county id, whether it is the processed county. gogen compares bytes exactly;
    /// clearance ignores case and surrounding spaces.
    pub fn matches(&self, county: &str, compatibility: Compatibility) -> Vec<bool> {
        self.names
            .iter()
            .map(|name| match compatibility {
                Compatibility::Gogen => name.as_ref() == county.as_bytes(),
                Compatibility::Clearance => name
                    .trim_ascii()
                    .eq_ignore_ascii_case(county.trim().as_bytes()),
            })
            .collect()
    }
}

/// Everything ingest produced.
#[derive(Debug, Default)]
pub struct Ingested {
    pub people: Vec<Person>,
    pub counties: CountyTable,
    pub files: Vec<InputFile>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Ingested {
    pub fn error_count(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|diagnostic| diagnostic.severity == Severity::Error)
            .count()
    }

    /// Renumbers the files (and every row reference) to start at `first_index`; used when files
    /// are read one at a time, as gogen does, but reported as one run.
    pub fn renumber_files(&mut self, first_index: u16) {
        for file in &mut self.files {
            file.index += first_index;
        }
        for person in &mut self.people {
            for conviction in &mut person.convictions {
                conviction.source.file += first_index;
            }
        }
    }

    pub fn total_accepted_rows(&self) -> u64 {
        self.files
            .iter()
            .map(|file| u64::from(file.accepted_rows))
            .sum()
    }
}

/// An input could not be read at all (missing file, I/O failure).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    #[error("cannot read {path}")]
    Io {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error("{path}: more than 65,535 input files or 4 billion rows are not supported")]
    TooLarge { path: String },
}

/// Progress report: bytes read so far in the current file and its size.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub file_index: usize,
    pub bytes_read: u64,
    pub file_bytes: u64,
}

/// How to read inputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadOptions {
    pub compatibility: Compatibility,
    /// How the text of the file is encoded.
    pub encoding: encoding::Encoding,
    /// Threads to read a large file with (and, later, to write the gogen CSVs with).
    pub jobs: usize,
    /// A file is split only into chunks of at least this many bytes; splitting small files
    /// costs more than it saves.
    pub min_chunk_bytes: u64,
}

impl ReadOptions {
    pub fn new(compatibility: Compatibility, jobs: usize) -> ReadOptions {
        ReadOptions {
            compatibility,
            encoding: encoding::Encoding::Auto,
            jobs: jobs.max(1),
            min_chunk_bytes: 8 << 20,
        }
    }
}

/// All cores.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// Reads DOJ files into one set of people (a person appearing in several files is one person,
/// except in gogen mode, where callers read one file at a time as gogen does).
///
/// Large files are split at line boundaries and the chunks read on all cores; the result is
/// identical to reading in one pass (see `group`).
pub fn read_doj_files(
    paths: &[PathBuf],
    options: ReadOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<Ingested, IngestError> {
    let compatibility = options.compatibility;
    let mut builder = PeopleBuilder::new(compatibility, options.encoding);
    let mut files = Vec::with_capacity(paths.len());
    for (file_index, path) in paths.iter().enumerate() {
        let display_name = path.display().to_string();
        let io_error = |source| IngestError::Io {
            path: display_name.clone(),
            source,
        };
        let file_index_u16 = u16::try_from(file_index).map_err(|_| IngestError::TooLarge {
            path: display_name.clone(),
        })?;
        let file_bytes = std::fs::metadata(path).map_err(io_error)?.len();
        let read_so_far = AtomicU64::new(0);
        let report = |bytes: u64| {
            let total = read_so_far.fetch_add(bytes, Ordering::Relaxed) + bytes;
            progress(Progress {
                file_index,
                bytes_read: total,
                file_bytes,
            });
        };
        let chunk_count =
            (file_bytes / options.min_chunk_bytes.max(1)).clamp(1, options.jobs as u64) as usize;
        let splits = if chunk_count > 1 {
            split_points(path, file_bytes, chunk_count).map_err(io_error)?
        } else {
            Vec::new()
        };
        let chunks = read_chunks(
            path,
            file_index_u16,
            &display_name,
            options,
            &splits,
            &report,
        )
        .map_err(io_error)?;
        let chunks = match chunks {
            Some(chunks) => chunks,
            // A split fell inside a quoted field that spans lines: read the file in one pass.
            None => read_chunks(path, file_index_u16, &display_name, options, &[], &report)
                .map_err(io_error)?
                .expect("a single chunk always ends at a record boundary"),
        };
        let mut input_file = InputFile {
            index: file_index_u16,
            path: path.clone(),
            display_name: display_name.clone(),
            had_header: false,
            had_bom: false,
            accepted_rows: 0,
            physical_lines: 0,
            bytes: 0,
            rejected: Vec::new(),
            chunks: Vec::new(),
        };
        let mut first_windows_1252_line: Option<u64> = None;
        for (chunk_index, (chunk_builder, outcome, byte_offset)) in chunks.into_iter().enumerate() {
            if chunk_index == 0 {
                input_file.had_header = outcome.had_header;
                input_file.had_bom = outcome.skipped_bom;
            }
            if let Some(line) = outcome.first_windows_1252_line {
                let line = line + input_file.physical_lines;
                first_windows_1252_line =
                    Some(first_windows_1252_line.map_or(line, |seen| seen.min(line)));
            }
            input_file.chunks.push(ChunkStart {
                byte_offset,
                first_row: input_file.accepted_rows,
                lines_before: input_file.physical_lines,
            });
            builder.merge(
                chunk_builder,
                input_file.accepted_rows,
                input_file.physical_lines,
            );
            for mut rejected in outcome.rejected {
                rejected.line += input_file.physical_lines;
                input_file.rejected.push(rejected);
            }
            input_file.accepted_rows = input_file
                .accepted_rows
                .checked_add(outcome.accepted_rows)
                .ok_or_else(|| IngestError::TooLarge {
                    path: display_name.clone(),
                })?;
            input_file.physical_lines += outcome.physical_lines;
            input_file.bytes += outcome.bytes;
        }
        if let (Some(line), encoding::Encoding::Auto) = (first_windows_1252_line, options.encoding)
        {
            builder.diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                file: display_name.clone(),
                line: Some(line),
                column: None,
                field: None,
                message: "rows that are not valid UTF-8 (the first on this line) were decoded as Windows-1252 (a spreadsheet's \"CSV\" export): check the names, or pass --encoding utf-8 or --encoding windows-1252".into(),
            });
        }
        if compatibility == Compatibility::Clearance
            && input_file.accepted_rows == 0
            && input_file.rejected.is_empty()
        {
            builder.diagnostics.push(Diagnostic {
                severity: Severity::Error,
                file: display_name.clone(),
                line: None,
                column: None,
                field: None,
                message: if input_file.had_header {
                    "the file has a header but no data rows: nothing to decide".into()
                } else {
                    "the file is empty: no data rows to decide".into()
                },
            });
        }
        files.push(input_file);
    }
    Ok(Ingested {
        diagnostics: std::mem::take(&mut builder.diagnostics),
        counties: std::mem::take(&mut builder.counties),
        people: builder.into_people(),
        files,
    })
}

/// Byte offsets just after a newline near each `1/threads` of the file.
fn split_points(path: &Path, file_bytes: u64, threads: usize) -> io::Result<Vec<u64>> {
    let mut file = File::open(path)?;
    let mut splits = Vec::new();
    let mut buffer = vec![0u8; 1 << 16];
    for part in 1..threads as u64 {
        let mut offset = file_bytes * part / threads as u64;
        file.seek(SeekFrom::Start(offset))?;
        loop {
            let read = file.read(&mut buffer)?;
            if read == 0 {
                return Ok(splits);
            }
            if let Some(newline) = memchr::memchr(b'\n', &buffer[..read]) {
                offset += newline as u64 + 1;
                break;
            }
            offset += read as u64;
        }
        if offset < file_bytes && splits.last().is_none_or(|&last| offset > last) {
            splits.push(offset);
        }
    }
    Ok(splits)
}

type ChunkResult = (PeopleBuilder, ChunkOutcome, u64);

/// Reads the chunks between `splits` in parallel. `None` when a split was not a record boundary.
fn read_chunks(
    path: &Path,
    file_index: u16,
    display_name: &str,
    options: ReadOptions,
    splits: &[u64],
    report: &(dyn Fn(u64) + Sync),
) -> io::Result<Option<Vec<ChunkResult>>> {
    let mut bounds = vec![0u64];
    bounds.extend_from_slice(splits);
    let read_one = |chunk_index: usize| -> io::Result<ChunkResult> {
        let start = bounds[chunk_index];
        let end = bounds.get(chunk_index + 1).copied();
        let mut file = File::open(path)?;
        file.seek(SeekFrom::Start(start))?;
        let limited = file.take(end.map_or(u64::MAX, |end| end - start));
        let mut builder = PeopleBuilder::new(options.compatibility, options.encoding);
        let outcome = builder.read_chunk(
            BufReader::with_capacity(1 << 20, limited),
            file_index,
            display_name,
            chunk_index == 0,
            &mut |bytes| report(bytes),
        )?;
        Ok((builder, outcome, start))
    };
    let results: Vec<io::Result<ChunkResult>> = if bounds.len() == 1 {
        vec![read_one(0)]
    } else {
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..bounds.len())
                .map(|chunk_index| scope.spawn(move || read_one(chunk_index)))
                .collect();
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    let results: Vec<ChunkResult> = results.into_iter().collect::<io::Result<_>>()?;
    let chunk_count = results.len();
    let boundaries_ok = results
        .iter()
        .take(chunk_count - 1)
        .all(|(_, outcome, _)| !outcome.ended_inside_quote);
    Ok(boundaries_ok.then_some(results))
}

/// Reads DOJ data already in memory (the HTTP service, tests).
pub fn read_doj_bytes(
    name: &str,
    bytes: &[u8],
    compatibility: Compatibility,
) -> Result<Ingested, IngestError> {
    let mut builder = PeopleBuilder::new(compatibility, encoding::Encoding::Auto);
    let outcome = builder
        .read_chunk(bytes, 0, name, true, &mut |_| {})
        .map_err(|source| IngestError::Io {
            path: name.to_string(),
            source,
        })?;
    Ok(Ingested {
        diagnostics: std::mem::take(&mut builder.diagnostics),
        counties: std::mem::take(&mut builder.counties),
        people: builder.into_people(),
        files: vec![InputFile {
            index: 0,
            path: PathBuf::from(name),
            display_name: name.to_string(),
            had_header: outcome.had_header,
            had_bom: outcome.skipped_bom,
            accepted_rows: outcome.accepted_rows,
            physical_lines: outcome.physical_lines,
            bytes: outcome.bytes,
            rejected: outcome.rejected,
            chunks: vec![ChunkStart {
                byte_offset: 0,
                first_row: 0,
                lines_before: 0,
            }],
        }],
    })
}

/// One item of a [`RowStream`].
pub enum StreamItem<'a> {
    /// A record the CSV layer could parse (its field count is not checked yet).
    Row { record: &'a RawRecord },
    /// A record the CSV layer could not parse.
    Syntax(SyntaxError),
}

/// Streams the records of a DOJ file or chunk: skips the header line, reports syntax errors.
/// Shared by both passes so they see the same rows.
pub struct RowStream<R> {
    reader: RecordReader<R>,
    record: RawRecord,
    pub had_header: bool,
    /// A UTF-8 byte order mark before the first row was skipped (clearance's mode only: gogen
    /// keeps it as part of the first field).
    pub skipped_bom: bool,
}

/// Whether a stream starts with the header line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeaderLine {
    /// The start of a file read for the first time: look.
    Detect(Compatibility),
    /// Known from the first pass (the second pass must skip exactly what the first skipped).
    Known { header: bool, bom: bool },
    /// A later chunk of a file.
    Absent,
}

impl<R: BufRead> RowStream<R> {
    pub fn new(mut input: R, header: HeaderLine) -> io::Result<RowStream<R>> {
        let (had_header, skip_bom) = match header {
            HeaderLine::Detect(compatibility) => {
                let start = input.fill_buf()?;
                let header = doj::starts_with_header(start, compatibility);
                let bom = compatibility == Compatibility::Clearance
                    && !header
                    && start.starts_with(encoding::BOM);
                (header, bom)
            }
            HeaderLine::Known { header, bom } => (header, bom && !header),
            HeaderLine::Absent => (false, false),
        };
        if skip_bom {
            input.fill_buf()?;
            input.consume(encoding::BOM.len());
        }
        let mut reader = RecordReader::new(input);
        if had_header {
            // Like gogen, the header line is discarded unparsed, so a 96-field header with a
            // trailing comma (a known DOJ variant) is accepted.
            reader.skip_line()?;
        }
        Ok(RowStream {
            reader,
            record: RawRecord::default(),
            had_header,
            skipped_bom: skip_bom,
        })
    }

    pub fn next_item(&mut self) -> io::Result<Option<StreamItem<'_>>> {
        Ok(match self.reader.read(&mut self.record)? {
            ReadResult::EndOfInput => None,
            ReadResult::SyntaxError(error) => Some(StreamItem::Syntax(error)),
            ReadResult::Record => Some(StreamItem::Row {
                record: &self.record,
            }),
        })
    }

    pub fn bytes_read(&self) -> u64 {
        self.reader.bytes_read()
    }

    pub fn lines_read(&self) -> u64 {
        self.reader.lines_read()
    }
}
