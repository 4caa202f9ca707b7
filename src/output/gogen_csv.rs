//! gogen's three CSVs: `All_Results.csv` (every input row), `All_Results_Condensed.csv` (20 input
//! columns) and `Prop64_Results.csv` (evaluated rows only), each followed by the 18 computed
//! columns, written with Go's quoting rules.
//!
//! The input is streamed a second time rather than held in memory: a county file is hundreds of
//! megabytes and the model keeps only what the rules need. The second pass skips exactly the rows
//! the first pass rejected, so row indices agree.

use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};

use super::{FileSink, OutputDir, OutputError};
use crate::eligibility::gogen::{COMPUTED_HEADERS, possible_other_p64_charges};
use crate::ingest::csv::{
    write_go_field, write_go_record, write_record_fields, write_selected_fields,
};
use crate::ingest::doj::{COLUMN_NAMES, CONDENSED_COLUMNS, DojRow, FIELD_COUNT, column};
use crate::ingest::{ChunkStart, HeaderLine, InputFile, RowStream, StreamItem};
use crate::model::RowRef;

/// The computed columns for one evaluated row (column 3 left empty; it is derived from the row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowResult {
    pub row: RowRef,
    pub columns: [String; 18],
}

/// File names for one set of CSVs (gogen adds `_<n>` when several inputs are processed apart).
#[derive(Clone, Debug)]
pub struct GogenCsvNames {
    pub all_results: String,
    pub condensed: String,
    pub prop64: String,
}

impl GogenCsvNames {
    /// `results/All_Results.csv`, or `results/All_Results_2.csv` for the second of several
    /// inputs in gogen mode.
    pub fn new(index: Option<usize>) -> GogenCsvNames {
        let suffix = index.map(|index| format!("_{index}")).unwrap_or_default();
        GogenCsvNames {
            all_results: format!("results/All_Results{suffix}.csv"),
            condensed: format!("results/All_Results_Condensed{suffix}.csv"),
            prop64: format!("results/Prop64_Results{suffix}.csv"),
        }
    }
}

/// The three output files (or one chunk's part of them).
struct Sinks {
    all_results: FileSink,
    condensed: FileSink,
    prop64: FileSink,
}

impl Sinks {
    fn create(
        output: &OutputDir,
        names: &GogenCsvNames,
        suffix: &str,
    ) -> Result<Sinks, OutputError> {
        Ok(Sinks {
            all_results: FileSink::create(output.path(&format!("{}{suffix}", names.all_results))?)?,
            condensed: FileSink::create(output.path(&format!("{}{suffix}", names.condensed))?)?,
            prop64: FileSink::create(output.path(&format!("{}{suffix}", names.prop64))?)?,
        })
    }

    /// Appends another set of sinks' files (chunk parts) and deletes them.
    fn append(&mut self, parts: Sinks) -> Result<(), OutputError> {
        for (target, part) in [
            (&mut self.all_results, parts.all_results),
            (&mut self.condensed, parts.condensed),
            (&mut self.prop64, parts.prop64),
        ] {
            target.append_file(part)?;
        }
        Ok(())
    }

    fn finish(self) -> Result<(), OutputError> {
        self.all_results.finish()?;
        self.condensed.finish()?;
        self.prop64.finish()
    }
}

/// Streams `inputs` again and writes the three CSVs. `results` must be sorted by row. The chunks
/// found by ingest are written in parallel and their parts appended in order.
pub fn write_gogen_csvs(
    output: &OutputDir,
    names: &GogenCsvNames,
    inputs: &[&InputFile],
    results: &[RowResult],
) -> Result<(), OutputError> {
    let mut sinks = Sinks::create(output, names, "")?;
    let mut line = Vec::with_capacity(4096);
    let full_header = COLUMN_NAMES
        .iter()
        .chain(COMPUTED_HEADERS.iter())
        .map(|name| name.as_bytes());
    write_go_record(&mut line, full_header);
    sinks.all_results.write_all(&line)?;
    sinks.prop64.write_all(&line)?;
    line.clear();
    let condensed_header = CONDENSED_COLUMNS
        .iter()
        .map(|&index| COLUMN_NAMES[index].as_bytes())
        .chain(COMPUTED_HEADERS.iter().map(|name| name.as_bytes()));
    write_go_record(&mut line, condensed_header);
    sinks.condensed.write_all(&line)?;

    for input in inputs {
        let file_results = {
            let start = results.partition_point(|result| result.row.file < input.index);
            let end = results.partition_point(|result| result.row.file <= input.index);
            &results[start..end]
        };
        let chunk_count = input.chunks.len().max(1);
        let mut parts: Vec<Option<Sinks>> = (1..chunk_count)
            .map(|chunk_index| {
                Sinks::create(output, names, &format!(".part{chunk_index}")).map(Some)
            })
            .collect::<Result<_, _>>()?;
        let outcomes: Vec<Result<(), OutputError>> = std::thread::scope(|scope| {
            let mut handles = Vec::new();
            let first_sinks = &mut sinks;
            handles.push(scope.spawn(move || write_chunk(input, 0, file_results, first_sinks)));
            for (offset, part) in parts.iter_mut().enumerate() {
                let part = part.as_mut().expect("parts are created above");
                handles
                    .push(scope.spawn(move || write_chunk(input, offset + 1, file_results, part)));
            }
            handles
                .into_iter()
                .map(|handle| {
                    handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        });
        for outcome in outcomes {
            outcome?;
        }
        for part in parts.into_iter().flatten() {
            sinks.append(part)?;
        }
    }
    sinks.finish()
}

/// Writes one chunk of one input file.
fn write_chunk(
    input: &InputFile,
    chunk_index: usize,
    file_results: &[RowResult],
    sinks: &mut Sinks,
) -> Result<(), OutputError> {
    let reread_error = |source| OutputError::Reread {
        path: input.display_name.clone(),
        source,
    };
    let default_chunk = ChunkStart {
        byte_offset: 0,
        first_row: 0,
        lines_before: 0,
    };
    let chunk = input
        .chunks
        .get(chunk_index)
        .copied()
        .unwrap_or(default_chunk);
    let next = input.chunks.get(chunk_index + 1).copied();
    let end_row = next.map_or(input.accepted_rows, |next| next.first_row);
    let mut file = File::open(&input.path).map_err(reread_error)?;
    file.seek(SeekFrom::Start(chunk.byte_offset))
        .map_err(reread_error)?;
    let limited = file.take(next.map_or(u64::MAX, |next| next.byte_offset - chunk.byte_offset));
    let header = if chunk_index == 0 {
        HeaderLine::Known {
            header: input.had_header,
            bom: input.had_bom,
        }
    } else {
        HeaderLine::Absent
    };
    let mut stream =
        RowStream::new(BufReader::with_capacity(1 << 20, limited), header).map_err(reread_error)?;
    let rejected_lines = input.rejected_lines();

    let first = file_results.partition_point(|result| result.row.row < chunk.first_row);
    let mut next_result = file_results[first..].iter().peekable();
    let empty_columns: [String; 18] = Default::default();
    let mut line = Vec::with_capacity(4096);
    let mut row_index = chunk.first_row;
    while let Some(item) = stream.next_item().map_err(reread_error)? {
        let StreamItem::Row { record } = item else {
            continue;
        };
        let absolute_line = record.line + chunk.lines_before;
        if record.len() != FIELD_COUNT || rejected_lines.contains(&absolute_line) {
            continue;
        }
        let row = DojRow(record);
        let this_row = next_result.next_if(|result| result.row.row == row_index);
        if let Some(result) = this_row
            && u64::from(result.row.line) != absolute_line
        {
            return Err(OutputError::InputChanged {
                path: input.display_name.clone(),
                row: u64::from(row_index) + 1,
            });
        }
        let computed = this_row.map_or(&empty_columns, |result| &result.columns);
        let possible_other = possible_other_p64_charges(
            row.field(column::OFFENSE_DESCR),
            row.field(column::COMMENT_TEXT),
        );

        line.clear();
        write_record_fields(&mut line, record);
        write_computed(&mut line, computed, possible_other);
        sinks.all_results.write_all(&line)?;
        if this_row.is_some() {
            sinks.prop64.write_all(&line)?;
        }
        line.clear();
        write_selected_fields(&mut line, record, &CONDENSED_COLUMNS);
        write_computed(&mut line, computed, possible_other);
        sinks.condensed.write_all(&line)?;
        row_index += 1;
    }
    if row_index != end_row {
        return Err(OutputError::InputChanged {
            path: input.display_name.clone(),
            row: u64::from(row_index.min(end_row)) + 1,
        });
    }
    Ok(())
}

/// Appends `,` and the 18 computed columns (column 3 from the row) and the line end.
fn write_computed(line: &mut Vec<u8>, computed: &[String; 18], possible_other: &[u8]) {
    if possible_other.is_empty() && computed.iter().all(String::is_empty) {
        // Most rows are not evaluated: 18 empty columns.
        line.extend_from_slice(b",,,,,,,,,,,,,,,,,,\n");
        return;
    }
    for (index, value) in computed.iter().enumerate() {
        line.push(b',');
        write_go_field(
            line,
            if index == 2 {
                possible_other
            } else {
                value.as_bytes()
            },
        );
    }
    line.push(b'\n');
}
