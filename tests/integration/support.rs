//! Test support: synthetic DOJ rows built in a few words, and running the real binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use clearance::ingest::csv::write_go_record;
use clearance::ingest::doj::{COLUMN_NAMES, FIELD_COUNT};

/// One DOJ row; starts from a plausible court conviction and is changed field by field.
#[derive(Clone, Debug)]
pub(crate) struct Row {
    fields: Vec<String>,
}

fn column(name: &str) -> usize {
    COLUMN_NAMES
        .iter()
        .position(|column| *column == name)
        .unwrap_or_else(|| panic!("no column {name}"))
}

impl Row {
    /// A convicted count in San Francisco: person, count key, date (YYYYMMDD), offence, level.
    pub(crate) fn conviction(
        subject: &str,
        count_key: &str,
        date: &str,
        offense: &str,
        level: &str,
    ) -> Row {
        let mut fields = vec![String::new(); FIELD_COUNT];
        let defaults = [
            ("RECORD_ID", "1"),
            ("SUBJECT_ID", subject),
            ("REQ_SEG_SEP", "#"),
            ("PII_SEG_SEP", "#"),
            ("CII_NUMBER", "0123456789"),
            ("PRI_NAME", "DOE,JANE Q"),
            ("PRI_DOB", "19700101"),
            ("CYC_DATE", date),
            ("STP_EVENT_DATE", date),
            ("STP_TYPE_DESCR", "COURT ACTION"),
            ("STP_ORI_DESCR", "CASCSAN FRANCISCO"),
            ("STP_ORI_CNTY_NAME", "SAN FRANCISCO"),
            ("CNT_ORDER", count_key),
            ("OFFENSE_DESCR", offense),
            ("OFFENSE_TOC", if level == "FELONY" { "F" } else { "M" }),
            ("DISP_DESCR", "CONVICTED-PROBATION"),
            ("CONV_STAT_DESCR", level),
            ("END_OF_REC", "#"),
        ];
        for (name, value) in defaults {
            fields[column(name)] = value.to_string();
        }
        Row { fields }
    }

    /// Sets a field by its DOJ column name.
    pub(crate) fn set(mut self, name: &str, value: &str) -> Row {
        self.fields[column(name)] = value.to_string();
        self
    }

    pub(crate) fn name(self, name: &str) -> Row {
        self.set("PRI_NAME", name)
    }

    pub(crate) fn dob(self, dob: &str) -> Row {
        self.set("PRI_DOB", dob)
    }

    pub(crate) fn county(self, county: &str) -> Row {
        self.set("STP_ORI_CNTY_NAME", county)
    }

    pub(crate) fn case_number(self, number: &str) -> Row {
        self.set("OFN", number)
    }

    pub(crate) fn sentence(self, length: &str, unit: &str) -> Row {
        self.set("SENT_LENGTH", length).set("SENT_TIME_CODE", unit)
    }

    pub(crate) fn disposition(self, disposition: &str) -> Row {
        self.set("DISP_DESCR", disposition)
    }

    pub(crate) fn step(self, step_type: &str) -> Row {
        self.set("STP_TYPE_DESCR", step_type)
    }

    /// Drops or adds fields at the end (malformed rows).
    pub(crate) fn with_field_count(mut self, count: usize) -> Row {
        self.fields.resize(count, String::new());
        self
    }
}

/// CSV text of rows (Go quoting), with the header line when asked.
pub(crate) fn csv(rows: &[Row], header: bool) -> Vec<u8> {
    let mut bytes = Vec::new();
    if header {
        write_go_record(&mut bytes, COLUMN_NAMES.iter().map(|name| name.as_bytes()));
    }
    for row in rows {
        write_go_record(&mut bytes, row.fields.iter().map(String::as_bytes));
    }
    bytes
}

/// A temporary folder with helpers to write inputs and run the binary.
pub(crate) struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub(crate) fn new() -> Workspace {
        Workspace {
            dir: tempfile::tempdir().expect("temporary folder"),
        }
    }

    pub(crate) fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    pub(crate) fn write(&self, relative: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub(crate) fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path(relative))
            .unwrap_or_else(|error| panic!("{relative}: {error}"))
    }

    pub(crate) fn exists(&self, relative: &str) -> bool {
        self.path(relative).exists()
    }

    /// `clearance` with the working directory set to the workspace.
    pub(crate) fn clearance(&self) -> Command {
        let mut command = Command::cargo_bin("clearance").expect("binary built");
        command.current_dir(self.dir.path());
        command.env_remove("CLEARANCE_COUNTY");
        command
    }

    /// `clearance check FILE --county "SAN FRANCISCO" --as-of 2020-07-01 --out out` plus extras;
    /// an extra `--as-of` or `--out` replaces the default.
    pub(crate) fn check(&self, inputs: &[&str], extra: &[&str]) -> Command {
        let mut command = self.clearance();
        command
            .arg("check")
            .args(inputs)
            .args(["--county", "SAN FRANCISCO"]);
        if !extra.contains(&"--as-of") {
            command.args(["--as-of", "2020-07-01"]);
        }
        if !extra.contains(&"--out") {
            command.args(["--out", "out"]);
        }
        command.args(extra);
        command
    }

    /// `clearance run FILE --county "SAN FRANCISCO" --as-of 2020-07-01` plus extras, with the
    /// sample office profile and `--out out` unless the extras give their own.
    pub(crate) fn run(&self, inputs: &[&str], extra: &[&str]) -> Command {
        let mut command = self.clearance();
        command.arg("run").args(inputs).args([
            "--county",
            "SAN FRANCISCO",
            "--as-of",
            "2020-07-01",
        ]);
        if !extra.contains(&"--office") {
            command.args(["--office", &sample_office()]);
        }
        if !extra.contains(&"--out") {
            command.args(["--out", "out"]);
        }
        command.args(extra);
        command
    }

    /// A JSON file the run wrote.
    /// A PDF of the workspace, to read back.
    pub(crate) fn pdf(&self, relative: &str) -> crate::pdf::Pdf {
        crate::pdf::Pdf::open(&self.path(relative))
    }

    pub(crate) fn json(&self, relative: &str) -> serde_json::Value {
        serde_json::from_str(&self.read(relative))
            .unwrap_or_else(|error| panic!("{relative}: {error}"))
    }

    /// The determinations written by a run, as JSON values.
    pub(crate) fn determinations(&self) -> Vec<serde_json::Value> {
        serde_json::from_str(&self.read("out/results/determinations.json"))
            .expect("determinations.json")
    }

    /// Rows of a results CSV as records of strings (header included).
    pub(crate) fn csv_rows(&self, relative: &str) -> Vec<Vec<String>> {
        let text = std::fs::read(self.path(relative)).unwrap();
        let mut reader = clearance::ingest::csv::RecordReader::new(text.as_slice());
        let mut record = clearance::ingest::csv::RawRecord::default();
        let mut rows = Vec::new();
        loop {
            match reader.read(&mut record).unwrap() {
                clearance::ingest::csv::ReadResult::Record => rows.push(
                    record
                        .iter()
                        .map(|field| String::from_utf8_lossy(field).into_owned())
                        .collect(),
                ),
                clearance::ingest::csv::ReadResult::EndOfInput => return rows,
                clearance::ingest::csv::ReadResult::SyntaxError(error) => {
                    panic!("{relative}: {error:?}")
                }
            }
        }
    }
}

/// The string `field` of every object in the JSON array `list`.
pub(crate) fn field_of_each<'a>(list: &'a serde_json::Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|item| item[field].as_str().expect("a string field"))
        .collect()
}

/// The shipped example office profile.
pub(crate) fn sample_office() -> String {
    repository()
        .join("samples/office.toml")
        .display()
        .to_string()
}

/// The repository root (for `samples/`).
pub(crate) fn repository() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Determinations of one subject's count, found by count key.
pub(crate) fn find<'a>(
    determinations: &'a [serde_json::Value],
    subject: &str,
    count_key: &str,
) -> Option<&'a serde_json::Value> {
    determinations
        .iter()
        .find(|record| record["subject_id"] == subject && record["count_key"] == count_key)
}
