//! Grouping rows into people, one chunk of a file at a time, and merging chunks in file order.
//!
//! A chunk is read by its own [`PeopleBuilder`] with row indices and line numbers relative to
//! the chunk. [`PeopleBuilder::merge`] then appends a later chunk (or file) to an earlier one,
//! giving exactly what a single pass in file order gives: a person's name, DOB and CII come from
//! their first row; a conviction is the first row of its count, and later rows of the same count
//! add sentence parts; case numbers keep first-seen order.

use std::collections::HashMap;
use std::io::{self, BufRead};

use super::csv::{self, RawRecord};
use super::doj::{self, DojRow, FIELD_COUNT, SentenceUnit, column};
use super::encoding::{Encoding, NOT_UTF8_AS_TOLD, decode_windows_1252};
use super::{
    Compatibility, CountyTable, Diagnostic, HeaderLine, RejectedRow, RowStream, Severity,
    StreamItem,
};
use crate::model::{
    CaseNumber, Cii, Conviction, CountKey, CountyId, CourtCase, Date, Person, PersonName, RowRef,
    Sentence, SubjectId, Term, parse_offense,
};

/// What reading one chunk produced besides people.
#[derive(Debug, Default)]
pub(crate) struct ChunkOutcome {
    pub(crate) had_header: bool,
    pub(crate) accepted_rows: u32,
    pub(crate) physical_lines: u64,
    pub(crate) bytes: u64,
    /// Rejected rows, lines relative to the chunk.
    pub(crate) rejected: Vec<RejectedRow>,
    /// The chunk ended inside a quoted field: its end was not a record boundary.
    pub(crate) ended_inside_quote: bool,
    /// A byte order mark before the first row was skipped.
    pub(crate) skipped_bom: bool,
    /// The first line (relative to the chunk) that was not UTF-8 and was decoded as
    /// Windows-1252.
    pub(crate) first_windows_1252_line: Option<u64>,
}

struct PersonSlot {
    person: Person,
    /// Convictions before this index are not "seen" for sentence-part merging (gogen resets its
    /// seen-set for the blank subject on every row).
    seen_from: usize,
}

/// People built from rows, in order of first appearance.
pub(crate) struct PeopleBuilder {
    compatibility: Compatibility,
    encoding: Encoding,
    slots: Vec<PersonSlot>,
    index_by_subject: HashMap<Box<[u8]>, usize>,
    pub(crate) counties: CountyTable,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl PeopleBuilder {
    pub(crate) fn new(compatibility: Compatibility, encoding: Encoding) -> Self {
        PeopleBuilder {
            compatibility,
            encoding,
            slots: Vec::new(),
            index_by_subject: HashMap::new(),
            counties: CountyTable::default(),
            diagnostics: Vec::new(),
        }
    }

    /// Reads every record of `input`. Row indices and lines are relative to the chunk.
    pub(crate) fn read_chunk<R: BufRead>(
        &mut self,
        input: R,
        file_index: u16,
        display_name: &str,
        detect_header: bool,
        progress: &mut dyn FnMut(u64),
    ) -> io::Result<ChunkOutcome> {
        let header = if detect_header {
            HeaderLine::Detect(self.compatibility)
        } else {
            HeaderLine::Absent
        };
        let mut stream = RowStream::new(input, header)?;
        let mut outcome = ChunkOutcome {
            had_header: stream.had_header,
            skipped_bom: stream.skipped_bom,
            ..ChunkOutcome::default()
        };
        let mut last_progress = 0u64;
        while let Some(item) = stream.next_item()? {
            match item {
                StreamItem::Syntax(error) => {
                    let message = error.kind.describe().to_string();
                    outcome.ended_inside_quote =
                        error.kind == csv::SyntaxErrorKind::UnterminatedQuote;
                    self.diagnostics.push(Diagnostic {
                        severity: Severity::Error,
                        file: display_name.to_string(),
                        line: Some(error.line),
                        column: Some(error.column),
                        field: None,
                        message: message.clone(),
                    });
                    outcome.rejected.push(RejectedRow {
                        line: error.record_line,
                        reason: message,
                        text: Vec::new(),
                    });
                }
                StreamItem::Row { record } => {
                    outcome.ended_inside_quote = false;
                    let decoded;
                    let record = if self.encoding.needs_windows_1252(record.bytes()) {
                        outcome.first_windows_1252_line.get_or_insert(record.line);
                        decoded = decode_windows_1252_record(record);
                        &decoded
                    } else if self.encoding == Encoding::Utf8
                        && std::str::from_utf8(record.bytes()).is_err()
                    {
                        let message = format!("the row is {NOT_UTF8_AS_TOLD}");
                        self.diagnostics.push(Diagnostic {
                            severity: Severity::Error,
                            file: display_name.to_string(),
                            line: Some(record.line),
                            column: None,
                            field: None,
                            message: message.clone(),
                        });
                        outcome.rejected.push(RejectedRow {
                            line: record.line,
                            reason: message,
                            text: record.bytes().to_vec(),
                        });
                        continue;
                    } else {
                        record
                    };
                    match self.check_row(record, display_name) {
                        Err(rejected) => outcome.rejected.push(rejected),
                        Ok(count_key) => {
                            let source = RowRef {
                                file: file_index,
                                row: outcome.accepted_rows,
                                line: u32::try_from(record.line).unwrap_or(u32::MAX),
                            };
                            self.push_row(&DojRow(record), count_key, source, display_name);
                            outcome.accepted_rows =
                                outcome.accepted_rows.checked_add(1).ok_or_else(|| {
                                    io::Error::other("more than 4 billion rows in one file")
                                })?;
                        }
                    }
                }
            }
            let bytes_read = stream.bytes_read();
            if bytes_read - last_progress > (4 << 20) {
                progress(bytes_read - last_progress);
                last_progress = bytes_read;
            }
        }
        progress(stream.bytes_read() - last_progress);
        outcome.physical_lines = stream.lines_read();
        outcome.bytes = stream.bytes_read();
        Ok(outcome)
    }

    /// Validates a record's shape; a bad one becomes a diagnostic and a rejected row.
    fn check_row(
        &mut self,
        record: &RawRecord,
        display_name: &str,
    ) -> Result<Option<CountKey>, RejectedRow> {
        let problem = if record.len() == FIELD_COUNT {
            match validate_row(&DojRow(record), self.compatibility) {
                Ok(RowKey::Valid(key)) => return Ok(Some(key)),
                Ok(RowKey::Absent) => return Ok(None),
                Ok(RowKey::Malformed) => {
                    self.diagnostics.push(Diagnostic {
                        severity: Severity::Warning,
                        file: display_name.to_string(),
                        line: Some(record.line),
                        column: Some(column::CNT_ORDER as u64 + 1),
                        field: Some("CNT_ORDER"),
                        message: format!(
                            "CNT_ORDER is recorded but is not 12 digits ({}); the row is not a conviction, so it is used without a count key",
                            value_shape(DojRow(record).field(column::CNT_ORDER))
                        ),
                    });
                    return Ok(None);
                }
                Err(problem) => problem,
            }
        } else {
            (
                format!("expected {FIELD_COUNT} fields, found {}", record.len()),
                None,
            )
        };
        let (message, field_index) = problem;
        self.diagnostics.push(Diagnostic {
            severity: Severity::Error,
            file: display_name.to_string(),
            line: Some(record.line),
            column: field_index.map(|index| index as u64 + 1),
            field: field_index.map(|index| doj::COLUMN_NAMES[index]),
            message: message.clone(),
        });
        let mut text = Vec::new();
        csv::write_go_record(&mut text, record.iter());
        text.pop();
        Err(RejectedRow {
            line: record.line,
            reason: message,
            text,
        })
    }

    fn push_row(
        &mut self,
        row: &DojRow<'_>,
        count_key: Option<CountKey>,
        source: RowRef,
        display_name: &str,
    ) {
        let subject_key = row.field(column::SUBJECT_ID);
        let slot_index = if let Some(&index) = self.index_by_subject.get(subject_key) {
            index
        } else {
            let index = self.slots.len();
            self.index_by_subject.insert(subject_key.into(), index);
            let person = new_person(
                row,
                self.compatibility,
                source,
                display_name,
                &mut self.diagnostics,
            );
            self.slots.push(PersonSlot {
                person,
                seen_from: 0,
            });
            index
        };
        let compatibility = self.compatibility;
        let county = self.counties.intern(row.field(column::STP_ORI_CNTY_NAME));
        let slot = &mut self.slots[slot_index];
        if compatibility == Compatibility::Gogen && subject_key.is_empty() {
            // gogen re-initialises a subject whose ID is blank on every row: name and DOB come
            // from this row, and its seen counts and case numbers start over.
            let fresh = new_person(row, compatibility, source, display_name, &mut Vec::new());
            slot.person.name = fresh.name;
            slot.person.dob = fresh.dob;
            slot.person.court_cases.clear();
            slot.seen_from = slot.person.convictions.len();
        }
        let person = &mut slot.person;
        let convicted = row.was_convicted();
        let seen_index = match (convicted, count_key) {
            (true, Some(key)) => person.convictions[slot.seen_from..]
                .iter()
                .rposition(|conviction| conviction.count_key == key)
                .map(|offset| slot.seen_from + offset),
            _ => None,
        };
        if let Some(index) = seen_index {
            add_sentence_part(
                &mut person.convictions[index].sentence,
                row,
                source,
                display_name,
                &mut self.diagnostics,
            );
        }
        if row.step_type() == b"DECEASED" {
            person.deceased = true;
        }
        if row.is_court_action() {
            let ofn = row.field(column::OFN);
            let case_number = match compatibility {
                Compatibility::Gogen => (!ofn.is_empty()).then(|| lossy(ofn)),
                Compatibility::Clearance => {
                    let trimmed = ofn.trim_ascii();
                    (!trimmed.is_empty() && !trimmed.eq_ignore_ascii_case(b"NULL"))
                        .then(|| lossy(trimmed))
                }
            };
            if let (Some(case_number), Some(key)) = (case_number, count_key) {
                add_case_number(
                    &mut person.court_cases,
                    key.case_key(),
                    CaseNumber(case_number),
                );
            }
        }
        if row.is_pc290_registration() {
            person.pc290_registrations.push(row.event_date());
        }
        if convicted
            && seen_index.is_none()
            && let Some(count_key) = count_key
        {
            let conviction = new_conviction(
                row,
                count_key,
                county,
                source,
                (display_name, compatibility),
                &mut self.diagnostics,
            );
            person.convictions.push(conviction);
        }
    }

    /// Appends a later chunk or file: its rows come after all of this builder's rows, at
    /// `row_offset` rows and `line_offset` physical lines into `later`'s file.
    pub(crate) fn merge(&mut self, later: PeopleBuilder, row_offset: u32, line_offset: u64) {
        let county_map: Vec<CountyId> = (0..later.counties.len())
            .map(|index| {
                let id = CountyId(index as u16);
                self.counties.intern(later.counties.raw_name(id))
            })
            .collect();
        let line_offset_u32 = u32::try_from(line_offset).unwrap_or(u32::MAX);
        for mut diagnostic in later.diagnostics {
            diagnostic.line = diagnostic.line.map(|line| line + line_offset);
            self.diagnostics.push(diagnostic);
        }
        let blank_resets = self.compatibility == Compatibility::Gogen;
        let mut later_keys: Vec<(Box<[u8]>, usize)> = later.index_by_subject.into_iter().collect();
        later_keys.sort_unstable_by_key(|(_, index)| *index);
        let mut later_slots: Vec<Option<PersonSlot>> = later.slots.into_iter().map(Some).collect();
        for (subject_key, later_index) in later_keys {
            let Some(mut slot) = later_slots[later_index].take() else {
                continue;
            };
            for conviction in &mut slot.person.convictions {
                conviction.county = county_map[usize::from(conviction.county.0)];
                conviction.source.row += row_offset;
                conviction.source.line = conviction.source.line.saturating_add(line_offset_u32);
            }
            match self.index_by_subject.get(&subject_key) {
                None => {
                    self.index_by_subject.insert(subject_key, self.slots.len());
                    self.slots.push(slot);
                }
                Some(&existing_index) => {
                    let existing = &mut self.slots[existing_index];
                    let later_person = slot.person;
                    existing.person.deceased |= later_person.deceased;
                    existing
                        .person
                        .pc290_registrations
                        .extend(later_person.pc290_registrations);
                    if blank_resets && subject_key.is_empty() {
                        // Every row of the blank subject reset it, so the later chunk's state
                        // is the final one; convictions simply accumulate.
                        existing.person.name = later_person.name;
                        existing.person.dob = later_person.dob;
                        existing.person.court_cases = later_person.court_cases;
                        existing.seen_from = existing.person.convictions.len() + slot.seen_from;
                        existing.person.convictions.extend(later_person.convictions);
                        continue;
                    }
                    for case in later_person.court_cases {
                        for case_number in case.case_numbers {
                            add_case_number(
                                &mut existing.person.court_cases,
                                case.key,
                                case_number,
                            );
                        }
                    }
                    for conviction in later_person.convictions {
                        let seen = existing.person.convictions[existing.seen_from..]
                            .iter_mut()
                            .rev()
                            .find(|earlier| earlier.count_key == conviction.count_key);
                        match seen {
                            // Rows of a count already seen only add sentence parts.
                            Some(earlier) => earlier.sentence.add(&conviction.sentence),
                            None => existing.person.convictions.push(conviction),
                        }
                    }
                }
            }
        }
    }

    pub(crate) fn into_people(self) -> Vec<Person> {
        self.slots.into_iter().map(|slot| slot.person).collect()
    }
}

/// Why a row is unusable, if it is: (message, DOJ column index).
fn validate_row(
    row: &DojRow<'_>,
    compatibility: Compatibility,
) -> Result<RowKey, (String, Option<usize>)> {
    let count_text = row.field(column::CNT_ORDER);
    match compatibility {
        Compatibility::Clearance => {
            if row.field(column::SUBJECT_ID).trim_ascii().is_empty() {
                return Err((
                    "SUBJECT_ID is blank: the row cannot be attributed to a person".into(),
                    Some(column::SUBJECT_ID),
                ));
            }
            match CountKey::parse_strict(count_text) {
                Some(key) => Ok(RowKey::Valid(key)),
                // A row that is not a conviction needs no count key (an arrest, a deceased or
                // registration step): it is used, with a warning.
                None if !row.was_convicted() => Ok(RowKey::Malformed),
                None => Err((
                    format!(
                        "CNT_ORDER must be 12 digits (cycle, step, count), found {}: a conviction cannot be tied to its count and court case without it",
                        value_shape(count_text)
                    ),
                    Some(column::CNT_ORDER),
                )),
            }
        }
        Compatibility::Gogen => {
            // gogen slices CNT_ORDER[0:6] on court rows with a case number and [0:3] on
            // convictions and Prop 64 rows, and crashes when it is shorter. Reject exactly the
            // rows gogen cannot process; keep a key whenever one is needed.
            let needs_key = row.was_convicted()
                || (row.is_court_action() && !row.field(column::OFN).is_empty());
            let prop64_row = crate::eligibility::gogen_matches_prop64(row.raw_code_section());
            match CountKey::parse_lenient(count_text) {
                Some(key) => Ok(RowKey::Valid(key)),
                None if needs_key || prop64_row => Err((
                    format!(
                        "CNT_ORDER must be at least 6 characters (cycle and step), found {}",
                        count_text.len()
                    ),
                    Some(column::CNT_ORDER),
                )),
                None => Ok(RowKey::Absent),
            }
        }
    }
}

/// A usable row's count key.
enum RowKey {
    Valid(CountKey),
    /// Not needed and not there (gogen's mode).
    Absent,
    /// Present but malformed on a row that needs none: used, with a warning.
    Malformed,
}

/// The record with every field decoded from Windows-1252 to UTF-8.
fn decode_windows_1252_record(record: &RawRecord) -> RawRecord {
    let fields: Vec<String> = record.iter().map(decode_windows_1252).collect();
    let mut decoded = RawRecord::from_fields(fields.iter().map(String::as_bytes));
    decoded.line = record.line;
    decoded.byte_offset = record.byte_offset;
    decoded
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The shape of a field's value for a message, never the value itself (it may be personal):
/// `8 digits` or `6 characters, not all digits`.
fn value_shape(value: &[u8]) -> String {
    if value.iter().all(u8::is_ascii_digit) {
        format!("{} digits", value.len())
    } else {
        format!("{} characters, not all digits", value.len())
    }
}

/// A located warning about one field of a row that is otherwise used.
fn field_warning(
    display_name: &str,
    source: RowRef,
    column_index: usize,
    message: String,
) -> Diagnostic {
    Diagnostic {
        severity: Severity::Warning,
        file: display_name.to_string(),
        line: Some(u64::from(source.line)),
        column: Some(column_index as u64 + 1),
        field: Some(doj::COLUMN_NAMES[column_index]),
        message,
    }
}

/// A date field: blank is `(None, false)`; a calendar date is `(Some, false)`; anything else is
/// `(None, true)` with a warning in clearance's own mode (gogen's mode reads dates as gogen did).
fn date_field(
    row: &DojRow<'_>,
    column_index: usize,
    source: RowRef,
    (display_name, compatibility): (&str, Compatibility),
    consequence: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Option<Date>, bool) {
    let value = row.field(column_index);
    if value.trim_ascii().is_empty() {
        return (None, false);
    }
    if let Some(date) = Date::parse_yyyymmdd(value) {
        return (Some(date), false);
    }
    if compatibility == Compatibility::Clearance {
        diagnostics.push(field_warning(
            display_name,
            source,
            column_index,
            format!(
                "{} is recorded but is not a valid YYYYMMDD date ({}); {consequence}",
                doj::COLUMN_NAMES[column_index],
                value_shape(value)
            ),
        ));
    }
    (None, true)
}

fn new_person(
    row: &DojRow<'_>,
    compatibility: Compatibility,
    source: RowRef,
    display_name: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Person {
    let (mut dob, mut dob_invalid) = date_field(
        row,
        column::PRI_DOB,
        source,
        (display_name, compatibility),
        "the person's age is treated as unknown",
        diagnostics,
    );
    if compatibility == Compatibility::Clearance
        && let Some(birth) = dob
    {
        // A calendar date can still be impossible: before 1900, or after the person's own
        // arrest or court date on the same row.
        let row_dates = [column::CYC_DATE, column::STP_EVENT_DATE]
            .map(|index| Date::parse_yyyymmdd(row.field(index)));
        let why = if birth.year() < 1900 {
            Some("before 1900")
        } else if row_dates.iter().flatten().any(|date| *date < birth) {
            Some("after the arrest or court date on the same row")
        } else {
            None
        };
        if let Some(why) = why {
            diagnostics.push(field_warning(
                display_name,
                source,
                column::PRI_DOB,
                format!(
                    "PRI_DOB is recorded but is not a possible date of birth ({why}); the person's age is treated as unknown"
                ),
            ));
            dob = None;
            dob_invalid = true;
        }
    }
    Person {
        subject_id: SubjectId(lossy(row.field(column::SUBJECT_ID))),
        cii: Cii(lossy(row.field(column::CII_NUMBER).trim_ascii())),
        name: PersonName(lossy(row.field(column::PRI_NAME))),
        dob,
        dob_invalid,
        deceased: false,
        pc290_registrations: Vec::new(),
        convictions: Vec::new(),
        court_cases: Vec::new(),
    }
}

fn add_case_number(
    cases: &mut Vec<CourtCase>,
    key: crate::model::CaseKey,
    case_number: CaseNumber,
) {
    match cases.iter_mut().find(|case| case.key == key) {
        Some(case) => {
            if !case.case_numbers.contains(&case_number) {
                case.case_numbers.push(case_number);
            }
        }
        None => cases.push(CourtCase {
            key,
            case_numbers: vec![case_number],
        }),
    }
}

fn add_sentence_part(
    sentence: &mut Sentence,
    row: &DojRow<'_>,
    source: RowRef,
    display_name: &str,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let term = |length| match length {
        (length, SentenceUnit::Days) => Term {
            days: length,
            ..Term::default()
        },
        (length, SentenceUnit::Months) => Term {
            months: length,
            ..Term::default()
        },
        (length, SentenceUnit::Years) => Term {
            years: length,
            ..Term::default()
        },
    };
    match row.sentence_part() {
        None => {}
        Some(Ok(length)) => sentence.add_part(row.sentence_kind(), term(length)),
        Some(Err(())) => {
            sentence.has_unreadable_part = true;
            diagnostics.push(Diagnostic {
                severity: Severity::Warning,
                file: display_name.to_string(),
                line: Some(u64::from(source.line)),
                column: Some(column::SENT_LENGTH as u64 + 1),
                field: Some("SENT_LENGTH"),
                message: "sentence length or unit (SENT_TIME_CODE) unreadable; this part is ignored and the count is flagged".into(),
            });
        }
    }
}

fn new_conviction(
    row: &DojRow<'_>,
    count_key: CountKey,
    county: CountyId,
    source: RowRef,
    (display_name, compatibility): (&str, Compatibility),
    diagnostics: &mut Vec<Diagnostic>,
) -> Conviction {
    let (date, conviction_date_invalid) = date_field(
        row,
        column::STP_EVENT_DATE,
        source,
        (display_name, compatibility),
        "the conviction is treated as undated",
        diagnostics,
    );
    let (cycle_date, cycle_date_invalid) = date_field(
        row,
        column::CYC_DATE,
        source,
        (display_name, compatibility),
        "the offence date is taken from the conviction date",
        diagnostics,
    );
    let (charge_text, charge_from_comment) = row.charge_text();
    let charge_text = lossy(charge_text);
    let comment = row.field(column::COMMENT_TEXT);
    let comment_text = (!charge_from_comment && !comment.trim_ascii().is_empty())
        .then(|| lossy(comment).into_boxed_str());
    let mut sentence = Sentence::default();
    add_sentence_part(&mut sentence, row, source, display_name, diagnostics);
    Conviction {
        count_key,
        source,
        county,
        raw_code_section: lossy(row.raw_code_section()).into_boxed_str(),
        offense: parse_offense(&charge_text).section,
        offense_text: charge_text.into_boxed_str(),
        comment_text,
        charge_from_comment,
        level: row.level(),
        gogen_felony: row.gogen_felony(),
        date,
        cycle_date,
        age_at_cycle: row.age_at_cycle(),
        invalid_dates: crate::model::InvalidDates {
            conviction: conviction_date_invalid,
            cycle: cycle_date_invalid,
        },
        sentence,
        disposition: lossy(row.field(column::DISP_DESCR).trim_ascii()).into_boxed_str(),
    }
}
