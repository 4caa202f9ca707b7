//! A streaming RFC 4180 reader and writer with the exact semantics of Go's `encoding/csv`.
//!
//! The DOJ file is read the way gogen reads it (Go `encoding/csv`, `LazyQuotes = false`), because
//! the gogen compatibility mode is judged byte for byte and a county's history was produced by
//! that reader:
//! - lines end in LF or CRLF; CRLF is normalised to LF everywhere, including inside quoted fields;
//! - lines that are completely empty are skipped; a line of spaces is a one-field record;
//! - a `"` inside an unquoted field is an error (bare quote), as is any character other than `,`
//!   or end of line after a closing quote, and a quoted field still open at end of file;
//! - fields are bytes, never trimmed or re-encoded.
//!
//! Unlike Go, the reader does not stop at the first bad record: it reports the error with its
//! line and column, skips to the end of the physical line and carries on, so a run can list every
//! bad row. The field count is the caller's concern.
//!
//! The writer quotes a field exactly when Go's would: it contains `,` `"` CR or LF, it starts
//! with a Unicode space, or it is `\.`.

use std::io::{self, BufRead};

/// One record: its fields (bytes, unescaped) and where it starts.
#[derive(Clone, Debug, Default)]
pub struct RawRecord {
    data: Vec<u8>,
    /// Start and end of each field in `data`.
    bounds: Vec<(u32, u32)>,
    /// `data` starts with the record's own line and every field points into it: unquoted
    /// fields as they are, quoted ones just inside their quotes (they contain no escaped quote).
    in_place: bool,
    /// Bit `i`: field `i` was quoted in the input (fields 128 and up count as quoted).
    quoted: u128,
    /// The line holds a carriage return (inside some field).
    has_carriage_return: bool,
    /// 1-based physical line number of the record's first line.
    pub line: u64,
    /// Byte offset of the record's first line in the input.
    pub byte_offset: u64,
}

impl RawRecord {
    pub fn len(&self) -> usize {
        self.bounds.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bounds.is_empty()
    }

    /// The field at `index`; empty when out of range.
    pub fn get(&self, index: usize) -> &[u8] {
        match self.bounds.get(index) {
            Some(&(start, end)) => &self.data[start as usize..end as usize],
            None => &[],
        }
    }

    /// The record's bytes as read (with its separators when read in place): what encoding
    /// checks look at.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    pub fn iter(&self) -> impl Iterator<Item = &[u8]> + Clone {
        self.bounds
            .iter()
            .map(|&(start, end)| &self.data[start as usize..end as usize])
    }

    fn was_quoted(&self, index: usize) -> bool {
        index >= 128 || self.quoted & (1 << index) != 0
    }

    /// Builds a record from fields (tests and the sample generator).
    pub fn from_fields<'a>(fields: impl IntoIterator<Item = &'a [u8]>) -> RawRecord {
        let mut record = RawRecord::default();
        for field in fields {
            let start = record.data.len() as u32;
            record.data.extend_from_slice(field);
            record.bounds.push((start, record.data.len() as u32));
        }
        record.quoted = u128::MAX;
        record
    }

    fn clear(&mut self) {
        self.data.clear();
        self.bounds.clear();
        self.in_place = false;
        self.quoted = 0;
        self.has_carriage_return = false;
    }

    /// Ends the field that started at `start`.
    fn end_field(&mut self, start: usize) {
        self.bounds.push((start as u32, self.data.len() as u32));
    }
}

/// Why a record could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyntaxErrorKind {
    /// `"` inside an unquoted field.
    BareQuote,
    /// A character other than `,` or end of line after a closing quote.
    TextAfterClosingQuote,
    /// End of file inside a quoted field.
    UnterminatedQuote,
}

impl SyntaxErrorKind {
    pub fn describe(self) -> &'static str {
        match self {
            SyntaxErrorKind::BareQuote => "bare \" in non-quoted field",
            SyntaxErrorKind::TextAfterClosingQuote => "extraneous or missing \" in quoted field",
            SyntaxErrorKind::UnterminatedQuote => "quoted field not closed before end of file",
        }
    }
}

/// A record-level syntax error with its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub kind: SyntaxErrorKind,
    /// Line the record starts on.
    pub record_line: u64,
    /// Line and 1-based byte column of the offending character.
    pub line: u64,
    pub column: u64,
    /// Byte offset of the record's first line.
    pub byte_offset: u64,
}

/// What one call to [`RecordReader::read`] produced.
#[derive(Debug)]
pub enum ReadResult {
    Record,
    SyntaxError(SyntaxError),
    EndOfInput,
}

/// Streams records out of a buffered reader, one at a time, reusing its buffers.
pub struct RecordReader<R> {
    input: R,
    line: Vec<u8>,
    lines_read: u64,
    bytes_read: u64,
}

impl<R: BufRead> RecordReader<R> {
    pub fn new(input: R) -> Self {
        RecordReader {
            input,
            line: Vec::with_capacity(4096),
            lines_read: 0,
            bytes_read: 0,
        }
    }

    /// Lines consumed so far (physical lines, the header included).
    pub fn lines_read(&self) -> u64 {
        self.lines_read
    }

    /// Bytes consumed so far.
    pub fn bytes_read(&self) -> u64 {
        self.bytes_read
    }

    /// Discards one physical line without parsing it (the header). Returns false at end of input.
    pub fn skip_line(&mut self) -> io::Result<bool> {
        Ok(self.read_line()?.is_some())
    }

    /// Gives access to the underlying reader (to peek at the start of the file).
    pub fn input_mut(&mut self) -> &mut R {
        &mut self.input
    }

    /// Reads one physical line into `self.line`, normalising CRLF to LF. Returns whether the line
    /// ended with a newline, or `None` at end of input.
    fn read_line(&mut self) -> io::Result<Option<bool>> {
        self.line.clear();
        let size = self.input.read_until(b'\n', &mut self.line)?;
        if size == 0 {
            return Ok(None);
        }
        self.lines_read += 1;
        self.bytes_read += size as u64;
        let ends_with_newline = self.line.last() == Some(&b'\n');
        if ends_with_newline {
            let length = self.line.len();
            if length >= 2 && self.line[length - 2] == b'\r' {
                self.line[length - 2] = b'\n';
                self.line.truncate(length - 1);
            }
        } else if self.line.last() == Some(&b'\r') {
            // Go drops a lone trailing CR before end of file.
            self.line.pop();
        }
        Ok(Some(ends_with_newline))
    }

    /// Reads the next record into `record`.
    pub fn read(&mut self, record: &mut RawRecord) -> io::Result<ReadResult> {
        // Skip empty lines.
        let start_offset = loop {
            let offset = self.bytes_read;
            match self.read_line()? {
                None => return Ok(ReadResult::EndOfInput),
                Some(_) if self.line.as_slice() == b"\n" => {}
                Some(_) => break offset,
            }
        };
        record.clear();
        record.line = self.lines_read;
        record.byte_offset = start_offset;
        let record_line = self.lines_read;
        let syntax_error = |kind, line, column| {
            Ok(ReadResult::SyntaxError(SyntaxError {
                kind,
                record_line,
                line,
                column,
                byte_offset: start_offset,
            }))
        };

        let had_newline = self.line.last() == Some(&b'\n');
        let content_length = self.line.len() - usize::from(had_newline);
        std::mem::swap(&mut record.data, &mut self.line);
        record.data.truncate(content_length);
        if split_in_place(record) {
            return Ok(ReadResult::Record);
        }
        // Escaped quotes, a field spanning lines, or an error: parse this record the careful
        // way, from its first line.
        std::mem::swap(&mut record.data, &mut self.line);
        if had_newline {
            self.line.push(b'\n');
        }
        record.clear();

        // `position` walks the current line (0-based); columns reported are 1-based.
        let mut position = 0usize;
        let mut current_line = record_line;
        loop {
            let rest = &self.line[position..];
            let field_start = record.data.len();
            if rest.first() != Some(&b'"') {
                // Unquoted field: up to the next comma or the end of the line.
                let comma = memchr::memchr(b',', rest);
                let field = match comma {
                    Some(index) => &rest[..index],
                    None => rest.strip_suffix(b"\n").unwrap_or(rest),
                };
                if let Some(quote) = memchr::memchr(b'"', field) {
                    return syntax_error(
                        SyntaxErrorKind::BareQuote,
                        current_line,
                        (position + quote + 1) as u64,
                    );
                }
                record.data.extend_from_slice(field);
                record.end_field(field_start);
                match comma {
                    Some(index) => position += index + 1,
                    None => return Ok(ReadResult::Record),
                }
                continue;
            }

            // Quoted field, possibly spanning lines.
            let field_index = record.bounds.len();
            if field_index < 128 {
                record.quoted |= 1 << field_index;
            }
            position += 1;
            loop {
                let rest = &self.line[position..];
                if let Some(quote) = memchr::memchr(b'"', rest) {
                    record.data.extend_from_slice(&rest[..quote]);
                    position += quote + 1;
                    match self.line.get(position) {
                        Some(b'"') => {
                            record.data.push(b'"');
                            position += 1;
                        }
                        Some(b',') => {
                            position += 1;
                            record.end_field(field_start);
                            break;
                        }
                        None | Some(b'\n') if position + 1 >= self.line.len() => {
                            record.end_field(field_start);
                            return Ok(ReadResult::Record);
                        }
                        _ => {
                            return syntax_error(
                                SyntaxErrorKind::TextAfterClosingQuote,
                                current_line,
                                position as u64,
                            );
                        }
                    }
                } else if !rest.is_empty() {
                    // The field continues on the next line; the newline is part of it.
                    record.data.extend_from_slice(rest);
                    match self.read_line()? {
                        Some(_) => {
                            current_line = self.lines_read;
                            position = 0;
                        }
                        None => {
                            return syntax_error(
                                SyntaxErrorKind::UnterminatedQuote,
                                current_line,
                                (self.line.len() + 1) as u64,
                            );
                        }
                    }
                } else {
                    return syntax_error(
                        SyntaxErrorKind::UnterminatedQuote,
                        current_line,
                        (position + 1) as u64,
                    );
                }
            }
        }
    }
}

/// Splits a one-line record held in `record.data` into fields without copying. Returns false,
/// leaving the record to the careful parser, when a field has escaped quotes, spans lines or is
/// malformed.
fn split_in_place(record: &mut RawRecord) -> bool {
    let data = &record.data;
    let length = data.len();
    let mut position = 0usize;
    loop {
        if data.get(position) == Some(&b'"') {
            let Some(close) = memchr::memchr(b'"', &data[position + 1..]) else {
                return false;
            };
            let close = position + 1 + close;
            match data.get(close + 1) {
                None => {
                    mark_quoted(&mut record.quoted, record.bounds.len());
                    record.bounds.push(((position + 1) as u32, close as u32));
                    break;
                }
                Some(b',') => {
                    mark_quoted(&mut record.quoted, record.bounds.len());
                    record.bounds.push(((position + 1) as u32, close as u32));
                    position = close + 2;
                }
                Some(_) => return false,
            }
        } else {
            let mut end = position;
            while end < length {
                match data[end] {
                    b',' => break,
                    b'"' => return false,
                    _ => end += 1,
                }
            }
            record.bounds.push((position as u32, end as u32));
            if end == length {
                break;
            }
            position = end + 1;
        }
    }
    record.has_carriage_return = memchr::memchr(b'\r', &record.data).is_some();
    record.in_place = true;
    true
}

fn mark_quoted(quoted: &mut u128, field_index: usize) {
    if field_index < 128 {
        *quoted |= 1 << field_index;
    }
}

/// True when Go's `encoding/csv` writer would quote this field.
pub fn go_field_needs_quotes(field: &[u8]) -> bool {
    if field.is_empty() {
        return false;
    }
    if field == b"\\." {
        return true;
    }
    if field
        .iter()
        .any(|&byte| matches!(byte, b',' | b'"' | b'\r' | b'\n'))
    {
        return true;
    }
    first_char_is_space(field)
}

/// Go's `unicode.IsSpace` on the first rune (invalid UTF-8 decodes to U+FFFD, not a space).
fn first_char_is_space(field: &[u8]) -> bool {
    let first = field[0];
    if first < 0x80 {
        return matches!(first, b'\t' | b'\n' | 0x0b | 0x0c | b'\r' | b' ');
    }
    let width = match first {
        0xc0..=0xdf => 2,
        0xe0..=0xef => 3,
        0xf0..=0xf7 => 4,
        _ => return false,
    };
    field
        .get(..width)
        .and_then(|bytes| std::str::from_utf8(bytes).ok())
        .and_then(|text| text.chars().next())
        .is_some_and(char::is_whitespace)
}

/// Appends one field to `output` as Go's writer would, without separator.
pub fn write_go_field(output: &mut Vec<u8>, field: &[u8]) {
    if !go_field_needs_quotes(field) {
        output.extend_from_slice(field);
        return;
    }
    output.push(b'"');
    let mut rest = field;
    while let Some(index) = memchr::memchr(b'"', rest) {
        output.extend_from_slice(&rest[..=index]);
        output.push(b'"');
        rest = &rest[index + 1..];
    }
    output.extend_from_slice(rest);
    output.push(b'"');
}

/// Appends a whole record (comma-separated, LF-terminated) as Go's writer would.
pub fn write_go_record<'a>(output: &mut Vec<u8>, fields: impl IntoIterator<Item = &'a [u8]>) {
    for (index, field) in fields.into_iter().enumerate() {
        if index > 0 {
            output.push(b',');
        }
        write_go_field(output, field);
    }
    output.push(b'\n');
}

/// Whether Go would quote a field of `record`, cheaply: a field that was not quoted in the input
/// holds no comma, quote or newline, so only its first character (and a rare CR) matters.
fn record_field_needs_quotes(record: &RawRecord, index: usize, field: &[u8]) -> bool {
    if record.was_quoted(index) || record.has_carriage_return {
        return go_field_needs_quotes(field);
    }
    !field.is_empty() && (first_char_is_space(field) || field == b"\\.")
}

/// Appends the fields of `record` as Go would write them, without a line end.
///
/// A record read in place keeps its input line, in which consecutive fields are separated by
/// exactly one comma. So a run of fields that Go writes exactly as they were read (unquoted and
/// needing no quotes, or quoted and needing them) is copied from the line in one piece.
pub fn write_record_fields(output: &mut Vec<u8>, record: &RawRecord) {
    if !record.in_place {
        for (index, field) in record.iter().enumerate() {
            if index > 0 {
                output.push(b',');
            }
            write_go_field(output, field);
        }
        return;
    }
    let mut run: Option<(usize, usize)> = None;
    for (index, &(start, end)) in record.bounds.iter().enumerate() {
        let (start, end) = (start as usize, end as usize);
        let field = &record.data[start..end];
        let quoted_in_input = record.was_quoted(index);
        if record_field_needs_quotes(record, index, field) == quoted_in_input {
            let (text_start, text_end) = if quoted_in_input {
                (start - 1, end + 1)
            } else {
                (start, end)
            };
            if let Some((run_start, _)) = run {
                run = Some((run_start, text_end));
            } else {
                if index > 0 {
                    output.push(b',');
                }
                run = Some((text_start, text_end));
            }
        } else {
            if let Some((run_start, run_end)) = run.take() {
                output.extend_from_slice(&record.data[run_start..run_end]);
            }
            if index > 0 {
                output.push(b',');
            }
            write_go_field(output, field);
        }
    }
    if let Some((run_start, run_end)) = run {
        output.extend_from_slice(&record.data[run_start..run_end]);
    }
}

/// Appends the fields at `indices` of `record` as Go would write them (comma-separated, no
/// line end).
pub fn write_selected_fields(output: &mut Vec<u8>, record: &RawRecord, indices: &[usize]) {
    for (position, &index) in indices.iter().enumerate() {
        if position > 0 {
            output.push(b',');
        }
        let field = record.get(index);
        if record.in_place && !record_field_needs_quotes(record, index, field) {
            output.extend_from_slice(field);
        } else {
            write_go_field(output, field);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Each record's start line and fields, or its syntax error.
    type ReadRecord = Result<(u64, Vec<Vec<u8>>), SyntaxError>;

    fn read_all(input: &[u8]) -> Vec<ReadRecord> {
        let mut reader = RecordReader::new(input);
        let mut record = RawRecord::default();
        let mut results = Vec::new();
        loop {
            match reader.read(&mut record).unwrap() {
                ReadResult::Record => results.push(Ok((
                    record.line,
                    record.iter().map(<[u8]>::to_vec).collect(),
                ))),
                ReadResult::SyntaxError(error) => results.push(Err(error)),
                ReadResult::EndOfInput => return results,
            }
        }
    }

    fn fields(result: &ReadRecord) -> Vec<String> {
        result
            .as_ref()
            .unwrap()
            .1
            .iter()
            .map(|field| String::from_utf8(field.clone()).unwrap())
            .collect()
    }

    #[test]
    fn reads_plain_quoted_and_multiline_fields() {
        let results =
            read_all(b"a,b,c\n\"x,y\",\"say \"\"hi\"\"\",\r\n\n\"two\r\nlines\",z\nlast,row");
        assert_eq!(results.len(), 4);
        assert_eq!(fields(&results[0]), ["a", "b", "c"]);
        assert_eq!(fields(&results[1]), ["x,y", "say \"hi\"", ""]);
        assert_eq!(results[1].as_ref().unwrap().0, 2);
        assert_eq!(fields(&results[2]), ["two\nlines", "z"]);
        assert_eq!(results[2].as_ref().unwrap().0, 4);
        assert_eq!(fields(&results[3]), ["last", "row"]);
        assert_eq!(results[3].as_ref().unwrap().0, 6);
    }

    #[test]
    fn keeps_spaces_and_lone_carriage_returns() {
        let results = read_all(b"  ,a\rb, c \n   \n");
        assert_eq!(fields(&results[0]), ["  ", "a\rb", " c "]);
        assert_eq!(fields(&results[1]), ["   "]);
    }

    #[test]
    fn drops_trailing_cr_at_end_of_file() {
        let results = read_all(b"a,b\r");
        assert_eq!(fields(&results[0]), ["a", "b"]);
    }

    #[test]
    fn reports_errors_and_continues() {
        let results = read_all(b"ok,1\nbad\"quote,2\n\"x\"y,3\nok,4\n\"open,5\n");
        assert_eq!(fields(&results[0]), ["ok", "1"]);
        let bare = *results[1].as_ref().unwrap_err();
        assert_eq!(
            (bare.kind, bare.line, bare.column),
            (SyntaxErrorKind::BareQuote, 2, 4)
        );
        let after = *results[2].as_ref().unwrap_err();
        assert_eq!(
            (after.kind, after.line, after.column),
            (SyntaxErrorKind::TextAfterClosingQuote, 3, 3)
        );
        assert_eq!(fields(&results[3]), ["ok", "4"]);
        assert_eq!(
            results[4].as_ref().unwrap_err().kind,
            SyntaxErrorKind::UnterminatedQuote
        );
        assert_eq!(results.len(), 5);
    }

    #[test]
    fn quotes_like_go() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("plain", "plain"),
            (" leading", "\" leading\""),
            ("trailing ", "trailing "),
            ("\tTab", "\"\tTab\""),
            ("a,b", "\"a,b\""),
            ("say \"x\"", "\"say \"\"x\"\"\""),
            ("line\nbreak", "\"line\nbreak\""),
            ("cr\rhere", "\"cr\rhere\""),
            ("\\.", "\"\\.\""),
            ("\u{a0}nbsp", "\"\u{a0}nbsp\""),
            ("\u{3000}ideographic", "\"\u{3000}ideographic\""),
            ("ñandú", "ñandú"),
        ];
        for &(field, expected) in cases {
            let mut output = Vec::new();
            write_go_field(&mut output, field.as_bytes());
            assert_eq!(String::from_utf8(output).unwrap(), expected, "{field:?}");
        }
        let mut output = Vec::new();
        write_go_field(&mut output, b"\xff invalid");
        assert_eq!(output, b"\xff invalid");
    }

    fn field_strategy() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                Just(b','),
                Just(b'"'),
                Just(b'\n'),
                Just(b' '),
                Just(b'\t'),
                Just(b'a'),
                Just(b'Z'),
                Just(b'1'),
                Just(0xc3),
                Just(0xb1),
            ],
            0..12,
        )
    }

    proptest! {
        /// Whatever the writer produces, the reader reads back unchanged (for records that are not
        /// a lone empty field, which CSV cannot distinguish from a blank line).
        #[test]
        fn writer_output_reads_back(records in prop::collection::vec(
            prop::collection::vec(field_strategy(), 1..6), 1..8)
        ) {
            let records: Vec<Vec<Vec<u8>>> = records
                .into_iter()
                .filter(|record| !(record.len() == 1 && record[0].is_empty()))
                .collect();
            let mut encoded = Vec::new();
            for record in &records {
                write_go_record(&mut encoded, record.iter().map(Vec::as_slice));
            }
            let decoded: Vec<Vec<Vec<u8>>> = read_all(&encoded)
                .into_iter()
                .map(|result| result.expect("writer output must parse").1)
                .collect();
            prop_assert_eq!(decoded, records);
        }

        /// The plain-record fast path writes exactly what the general writer writes.
        #[test]
        fn fast_path_writes_like_the_general_writer(records in prop::collection::vec(
            prop::collection::vec(field_strategy(), 1..6), 1..6)
        ) {
            let mut encoded = Vec::new();
            for record in &records {
                write_go_record(&mut encoded, record.iter().map(Vec::as_slice));
            }
            let mut reader = RecordReader::new(encoded.as_slice());
            let mut record = RawRecord::default();
            while let ReadResult::Record = reader.read(&mut record).unwrap() {
                let mut general = Vec::new();
                write_go_record(&mut general, record.iter());
                let mut fast = Vec::new();
                write_record_fields(&mut fast, &record);
                fast.push(b'\n');
                prop_assert_eq!(fast, general);
            }
        }

        /// On any input at all, every record that parses is written by the in-place fast paths
        /// exactly as by the general writer (unnecessary quotes, lone CRs, leading spaces).
        #[test]
        fn fast_paths_agree_on_arbitrary_input(input in prop::collection::vec(
            prop_oneof![
                Just(b'a'), Just(b' '), Just(b','), Just(b'"'), Just(b'\r'), Just(b'\n'),
                Just(b'\t'), Just(b'\\'), Just(b'.'), Just(0xc2), Just(0xa0),
            ],
            0..120,
        )) {
            let mut reader = RecordReader::new(input.as_slice());
            let mut record = RawRecord::default();
            loop {
                match reader.read(&mut record).unwrap() {
                    ReadResult::EndOfInput => break,
                    ReadResult::SyntaxError(_) => {}
                    ReadResult::Record => {
                        let mut general = Vec::new();
                        write_go_record(&mut general, record.iter());
                        let mut fast = Vec::new();
                        write_record_fields(&mut fast, &record);
                        fast.push(b'\n');
                        prop_assert_eq!(&fast, &general);
                        let indices: Vec<usize> = (0..record.len()).rev().collect();
                        let mut selected = Vec::new();
                        write_selected_fields(&mut selected, &record, &indices);
                        let mut general_selected = Vec::new();
                        write_go_record(&mut general_selected, indices.iter().map(|&index| record.get(index)));
                        selected.push(b'\n');
                        prop_assert_eq!(selected, general_selected);
                    }
                }
            }
        }

        /// CRLF line endings read exactly like LF ones.
        #[test]
        fn crlf_equals_lf(records in prop::collection::vec(
            prop::collection::vec(field_strategy(), 1..5), 1..6)
        ) {
            let mut encoded = Vec::new();
            for record in &records {
                write_go_record(&mut encoded, record.iter().map(Vec::as_slice));
            }
            let crlf: Vec<u8> = encoded
                .iter()
                .flat_map(|&byte| if byte == b'\n' { vec![b'\r', b'\n'] } else { vec![byte] })
                .collect();
            let lf_results: Vec<_> = read_all(&encoded).into_iter().map(|r| r.map(|(_, f)| f)).collect();
            let crlf_results: Vec<_> = read_all(&crlf).into_iter().map(|r| r.map(|(_, f)| f)).collect();
            prop_assert_eq!(lf_results, crlf_results);
        }

        /// Arbitrary bytes never panic, and every input byte is accounted for.
        #[test]
        fn arbitrary_bytes_never_panic(input in prop::collection::vec(any::<u8>(), 0..200)) {
            let mut reader = RecordReader::new(input.as_slice());
            let mut record = RawRecord::default();
            loop {
                match reader.read(&mut record).unwrap() {
                    ReadResult::EndOfInput => break,
                    ReadResult::Record | ReadResult::SyntaxError(_) => {}
                }
            }
            prop_assert_eq!(reader.bytes_read(), input.len() as u64);
        }
    }
}
