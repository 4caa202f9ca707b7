//! The California DOJ research file layout: the 95 columns and what a row says.

use crate::ingest::csv::RawRecord;
use crate::model::{Date, Level};

/// Number of fields in every data row.
pub const FIELD_COUNT: usize = 95;

/// All 95 column names, in file order.
pub const COLUMN_NAMES: [&str; FIELD_COUNT] = [
    "RECORD_ID",
    "SUBJECT_STATUS",
    "SUBJECT_ID",
    "REQ_SEG_SEP",
    "REQ_CII_NUMBER",
    "REQ_NAME",
    "REQ_GENDER",
    "REQ_DOB",
    "REQ_CDL",
    "REQ_SSN",
    "PII_SEG_SEP",
    "CII_NUMBER",
    "PRI_NAME",
    "GENDER",
    "PRI_DOB",
    "PRI_SSN",
    "PRI_CDL",
    "PRI_IDN",
    "PRI_INN",
    "FBI_NUMBER",
    "PDR_SEG_SEP",
    "RACE_CODE",
    "RACE_DESCR",
    "EYE_COLOR_CODE",
    "EYE_COLOR_DESCR",
    "HAIR_COLOR_CODE",
    "HAIR_COLOR_DESCR",
    "HEIGHT",
    "WEIGHT",
    "SINGLE_SOURCE",
    "MULTI_SOURCE",
    "POB_CODE",
    "POB_NAME",
    "POB_TYPE",
    "CITIZENSHIP_LIST",
    "CYC_SEG_SEP",
    "CYC_ORDER",
    "CYC_DATE",
    "STP_SEG_SEP",
    "STP_ORDER",
    "STP_EVENT_DATE",
    "STP_TYPE_CODE",
    "STP_TYPE_DESCR",
    "STP_ORI_TYPE",
    "STP_ORI_TYPE_DESCR",
    "STP_ORI_CODE",
    "STP_ORI_DESCR",
    "STP_ORI_CNTY_CODE",
    "STP_ORI_CNTY_NAME",
    "CNT_SEG_SEP",
    "CNT_ORDER",
    "DISP_DATE",
    "OFN",
    "OFFENSE_CODE",
    "OFFENSE_DESCR",
    "OFFENSE_TOC",
    "OFFENSE_QUAL_LST",
    "DISP_OFFENSE_CODE",
    "DISP_OFFENSE_DESCR",
    "DISP_OFFENSE_TOC",
    "DISP_OFFENSE_QUAL_LST",
    "CONV_OFFENSE_ORDER",
    "CONV_OFFENSE_CODE",
    "CONV_OFFENSE_DESCR",
    "CONV_OFFENSE_TOC",
    "CONV_OFFENSE_QUAL_LST",
    "FE_NUM_ORDER",
    "FE_NUM_ARR_AGY",
    "FE_NUM_BNCH_WARR",
    "FE_NUM_CITE",
    "FE_NUM_DOCKET",
    "FE_NUM_INCIDENT",
    "FE_NUM_BOOKING",
    "FE_NUM_NUMBER",
    "FE_NUM_REMAND",
    "FE_NUM_OOS_INN",
    "FE_NUM_CRT_CASE",
    "FE_NUM_WARRANT",
    "DISP_ORDER",
    "DISP_CODE",
    "DISP_DESCR",
    "CONV_STAT_CODE",
    "CONV_STAT_DESCR",
    "SENT_SEG_SEP",
    "SENT_ORDER",
    "SENT_LOC_CODE",
    "SENT_LOC_DESCR",
    "SENT_LENGTH",
    "SENT_TIME_CODE",
    "SENT_TIME_DESCR",
    "CYC_AGE",
    "CII_TYPE",
    "CII_TYPE_ALPHA",
    "COMMENT_TEXT",
    "END_OF_REC",
];

/// Column indices the logic reads (0-based), named as in the file.
#[allow(non_upper_case_globals, dead_code)]
pub mod column {
    pub const SUBJECT_ID: usize = 2;
    pub const CII_NUMBER: usize = 11;
    pub const PRI_NAME: usize = 12;
    pub const GENDER: usize = 13;
    pub const PRI_DOB: usize = 14;
    pub const RACE_DESCR: usize = 22;
    pub const CYC_DATE: usize = 37;
    pub const STP_EVENT_DATE: usize = 40;
    pub const STP_TYPE_DESCR: usize = 42;
    pub const STP_ORI_DESCR: usize = 46;
    pub const STP_ORI_CNTY_NAME: usize = 48;
    pub const CNT_ORDER: usize = 50;
    pub const DISP_DATE: usize = 51;
    pub const OFN: usize = 52;
    pub const OFFENSE_DESCR: usize = 54;
    pub const OFFENSE_TOC: usize = 55;
    pub const DISP_DESCR: usize = 80;
    pub const CONV_STAT_DESCR: usize = 82;
    pub const SENT_LOC_DESCR: usize = 86;
    pub const SENT_LENGTH: usize = 87;
    pub const SENT_TIME_CODE: usize = 88;
    pub const CYC_AGE: usize = 90;
    pub const COMMENT_TEXT: usize = 93;
    pub const END_OF_REC: usize = 94;
}

/// The 20 input columns of gogen's condensed output, in its order.
pub const CONDENSED_COLUMNS: [usize; 20] = [
    column::CII_NUMBER,
    column::PRI_NAME,
    column::GENDER,
    column::PRI_DOB,
    column::RACE_DESCR,
    column::CYC_DATE,
    column::STP_EVENT_DATE,
    column::STP_ORI_DESCR,
    column::STP_ORI_CNTY_NAME,
    column::DISP_DATE,
    column::OFN,
    column::OFFENSE_DESCR,
    column::DISP_DESCR,
    column::CONV_STAT_DESCR,
    column::SENT_LOC_DESCR,
    column::SENT_LENGTH,
    column::SENT_TIME_CODE,
    column::CYC_AGE,
    column::COMMENT_TEXT,
    column::END_OF_REC,
];

/// A data row of the DOJ file, read through named accessors.
pub struct DojRow<'a>(pub &'a RawRecord);

impl DojRow<'_> {
    pub fn field(&self, index: usize) -> &[u8] {
        self.0.get(index)
    }

    /// Convicted iff DISP_DESCR starts with `CONVICTED`.
    pub fn was_convicted(&self) -> bool {
        self.field(column::DISP_DESCR).starts_with(b"CONVICTED")
    }

    pub fn step_type(&self) -> &[u8] {
        self.field(column::STP_TYPE_DESCR)
    }

    pub fn is_court_action(&self) -> bool {
        self.step_type() == b"COURT ACTION"
    }

    /// A PC 290 registration step: type `REGISTRATION` and an offence starting with `290`.
    pub fn is_pc290_registration(&self) -> bool {
        self.step_type() == b"REGISTRATION" && self.field(column::OFFENSE_DESCR).starts_with(b"290")
    }

    /// The text that carries the charge: COMMENT_TEXT when OFFENSE_DESCR redirects to it.
    pub fn charge_text(&self) -> (&[u8], bool) {
        let offense = self.field(column::OFFENSE_DESCR);
        if crate::model::is_comment_redirect(offense) {
            (self.field(column::COMMENT_TEXT), true)
        } else {
            (offense, false)
        }
    }

    /// gogen's "code section": the charge text up to its first `-`, untrimmed.
    pub fn raw_code_section(&self) -> &[u8] {
        let (text, _) = self.charge_text();
        match memchr::memchr(b'-', text) {
            Some(index) => &text[..index],
            None => text,
        }
    }

    pub fn event_date(&self) -> Option<Date> {
        Date::parse_yyyymmdd(self.field(column::STP_EVENT_DATE))
    }

    /// gogen's felony test, exact: `FELONY`, or blank level with type of charge `F`.
    pub fn gogen_felony(&self) -> bool {
        let level = self.field(column::CONV_STAT_DESCR);
        level == b"FELONY" || (level.is_empty() && self.field(column::OFFENSE_TOC) == b"F")
    }

    /// The level of the conviction, tolerant of padding and case.
    pub fn level(&self) -> Level {
        let level = self.field(column::CONV_STAT_DESCR).trim_ascii();
        let from_description = match level.to_ascii_uppercase().as_slice() {
            b"FELONY" => Some(Level::Felony),
            b"MISDEMEANOR" => Some(Level::Misdemeanor),
            b"INFRACTION" => Some(Level::Infraction),
            _ => None,
        };
        if let Some(level) = from_description {
            return level;
        }
        match self.field(column::OFFENSE_TOC).trim_ascii() {
            b"F" | b"f" => Level::Felony,
            b"M" | b"m" => Level::Misdemeanor,
            b"I" | b"i" => Level::Infraction,
            _ => Level::Unknown,
        }
    }

    /// One sentence part: length and unit. `None` when the row has no sentence at all; an
    /// unreadable length or unit is reported as `Err`.
    pub fn sentence_part(&self) -> Option<Result<(u32, SentenceUnit), ()>> {
        // The kind of part (SENT_LOC_DESCR) is read by `sentence_kind`.
        let length = self.field(column::SENT_LENGTH).trim_ascii();
        let unit = self.field(column::SENT_TIME_CODE).trim_ascii();
        if length.is_empty() && unit.is_empty() {
            return None;
        }
        let parsed_length = std::str::from_utf8(length)
            .ok()
            .and_then(|text| text.parse::<u32>().ok());
        let parsed_unit = match unit {
            b"D" => Some(SentenceUnit::Days),
            b"M" => Some(SentenceUnit::Months),
            b"Y" => Some(SentenceUnit::Years),
            _ => None,
        };
        Some(match (parsed_length, parsed_unit) {
            (Some(length), Some(unit)) => Ok((length, unit)),
            _ => Err(()),
        })
    }

    /// What the sentence part is (jail, probation, parole, ...), from SENT_LOC_DESCR.
    pub fn sentence_kind(&self) -> crate::model::SentenceKind {
        crate::model::SentenceKind::from_location(self.field(column::SENT_LOC_DESCR))
    }

    pub fn age_at_cycle(&self) -> Option<u16> {
        std::str::from_utf8(self.field(column::CYC_AGE).trim_ascii())
            .ok()
            .and_then(|text| text.parse().ok())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentenceUnit {
    Days,
    Months,
    Years,
}

/// True when a file starts with the header row (after an optional UTF-8 byte order mark). gogen
/// recognises only a bare `RECORD_ID`; clearance also a quoted `"RECORD_ID"`, as spreadsheets
/// that quote every field write it.
pub fn starts_with_header(first_bytes: &[u8], compatibility: super::Compatibility) -> bool {
    let without_bom = first_bytes
        .strip_prefix(b"\xef\xbb\xbf")
        .unwrap_or(first_bytes);
    without_bom.starts_with(b"RECORD_ID")
        || (compatibility == super::Compatibility::Clearance
            && without_bom.starts_with(b"\"RECORD_ID\""))
}
