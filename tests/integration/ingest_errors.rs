//! Malformed DOJ files: every bad row is reported with file, line and reason; a file with bad
//! rows is refused whole (exit 2, only errors.json) unless --skip-bad-rows.

use crate::support::{Row, Workspace, csv};

fn good(subject: &str, count: &str) -> Row {
    Row::conviction(
        subject,
        count,
        "20100301",
        "11357(B) HS-POSSESS MARIJUANA",
        "MISDEMEANOR",
    )
}

fn errors(workspace: &Workspace) -> serde_json::Value {
    serde_json::from_str(&workspace.read("out/errors.json")).expect("errors.json")
}

fn assert_refused(workspace: &Workspace, output: &assert_cmd::assert::Assert) {
    let output = output.get_output();
    assert_eq!(
        output.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let entries: Vec<String> = std::fs::read_dir(workspace.path("out"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        entries,
        ["errors.json"],
        "nothing but errors.json is written"
    );
}

#[test]
fn wrong_field_counts_are_refused_naming_line_and_count() {
    let workspace = Workspace::new();
    let rows = [
        good("1", "001002001000"),
        good("1", "002002001000").with_field_count(94),
        good("2", "001002001000"),
        good("2", "002002001000").with_field_count(97),
    ];
    workspace.write("doj.csv", &csv(&rows, true));
    let run = workspace.check(&["doj.csv"], &[]).assert();
    assert_refused(&workspace, &run);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(
        stderr.contains("doj.csv:3: error: expected 95 fields, found 94"),
        "{stderr}"
    );
    assert!(
        stderr.contains("doj.csv:5: error: expected 95 fields, found 97"),
        "{stderr}"
    );
    let report = errors(&workspace);
    assert_eq!(report["errors"], 2, "every bad row, not just the first");
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics[0]["line"], 3);
    assert_eq!(diagnostics[0]["file"], "doj.csv");
    assert!(
        diagnostics[1]["message"]
            .as_str()
            .unwrap()
            .contains("found 97")
    );
}

#[test]
fn csv_syntax_errors_name_line_and_column() {
    let workspace = Workspace::new();
    let mut bytes = csv(&[good("1", "001002001000")], false);
    bytes.extend_from_slice(&csv(
        &[good("2", "001002001000").name("DOE,JOHN \"JJ\"")],
        false,
    ));
    // Turn the quoted name into a bare quote inside an unquoted field.
    let text = String::from_utf8(bytes)
        .unwrap()
        .replace("\"DOE,JOHN \"\"JJ\"\"\"", "DOE JOHN \"JJ\"");
    workspace.write("doj.csv", text.as_bytes());
    let run = workspace.check(&["doj.csv"], &[]).assert();
    assert_refused(&workspace, &run);
    let diagnostic = &errors(&workspace)["diagnostics"][0];
    assert_eq!(diagnostic["line"], 2);
    assert!(diagnostic["column"].as_u64().unwrap() > 1);
    assert!(
        diagnostic["message"].as_str().unwrap().contains("bare \""),
        "{diagnostic}"
    );
}

#[test]
fn bad_keys_are_row_errors_not_crashes() {
    let workspace = Workspace::new();
    let rows = [
        good("1", "001002001000"),
        good("1", "00100"),
        good("", "002002001000"),
        good("2", "0010020010XX"),
    ];
    workspace.write("doj.csv", &csv(&rows, true));
    let run = workspace.check(&["doj.csv"], &[]).assert();
    assert_refused(&workspace, &run);
    let report = errors(&workspace);
    let diagnostics = report["diagnostics"].as_array().unwrap();
    assert_eq!(diagnostics.len(), 3);
    assert_eq!(diagnostics[0]["field"], "CNT_ORDER");
    assert_eq!(diagnostics[0]["line"], 3);
    assert_eq!(diagnostics[1]["field"], "SUBJECT_ID");
    assert_eq!(diagnostics[2]["field"], "CNT_ORDER");
    assert!(
        diagnostics[2]["message"]
            .as_str()
            .unwrap()
            .contains("not all digits")
    );
}

#[test]
fn skip_bad_rows_keeps_going_and_lists_the_rejects() {
    let workspace = Workspace::new();
    let rows = [
        good("1", "001002001000"),
        good("1", "002002001000").with_field_count(90),
        good("2", "001002001000"),
    ];
    workspace.write("doj.csv", &csv(&rows, true));
    workspace
        .check(&["doj.csv"], &["--skip-bad-rows"])
        .assert()
        .success();
    let determinations = workspace.determinations();
    assert_eq!(determinations.len(), 2, "the good rows are determined");
    let rejects = workspace.csv_rows("out/rejects.csv");
    assert_eq!(rejects[0], ["source_file", "line", "reason", "row"]);
    assert_eq!(rejects[1][0], "doj.csv");
    assert_eq!(rejects[1][1], "3");
    assert!(rejects[1][2].contains("found 90"));
    assert!(
        rejects[1][3].contains("002002001000"),
        "the rejected row's text is kept"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&workspace.read("out/summary.json")).unwrap();
    assert_eq!(summary["rejected_rows"], 1);
    assert_eq!(summary["input_rows"], 2);
    let all_results = workspace.csv_rows("out/results/All_Results.csv");
    assert_eq!(all_results.len(), 3, "header and the two accepted rows");
}

#[test]
fn header_variants_crlf_and_blank_lines_read_the_same() {
    let rows = [
        good("1", "001002001000"),
        good("2", "001002001000").case_number("SCN1"),
    ];
    let plain = csv(&rows, true);
    let variants: Vec<(&str, Vec<u8>)> = vec![
        ("no header", csv(&rows, false)),
        ("96-field header", {
            let text = String::from_utf8(plain.clone()).unwrap();
            text.replacen("END_OF_REC\n", "END_OF_REC,\n", 1)
                .into_bytes()
        }),
        (
            "CRLF",
            String::from_utf8(plain.clone())
                .unwrap()
                .replace('\n', "\r\n")
                .into_bytes(),
        ),
        (
            "blank lines",
            String::from_utf8(plain.clone())
                .unwrap()
                .replace('\n', "\n\n")
                .into_bytes(),
        ),
        (
            "byte order mark",
            [b"\xef\xbb\xbf".as_slice(), &plain].concat(),
        ),
        ("no final newline", plain[..plain.len() - 1].to_vec()),
    ];
    let without_lines = |workspace: &Workspace| {
        let mut records = workspace.determinations();
        for record in &mut records {
            record.as_object_mut().unwrap().remove("source_line");
        }
        records
    };
    let reference = {
        let workspace = Workspace::new();
        workspace.write("doj.csv", &plain);
        workspace.check(&["doj.csv"], &[]).assert().success();
        without_lines(&workspace)
    };
    assert_eq!(reference.len(), 2);
    for (name, bytes) in variants {
        let workspace = Workspace::new();
        workspace.write("doj.csv", &bytes);
        workspace.check(&["doj.csv"], &[]).assert().success();
        assert_eq!(without_lines(&workspace), reference, "{name}");
    }
}

#[test]
fn a_missing_input_file_is_an_error_naming_it() {
    let workspace = Workspace::new();
    let run = workspace.check(&["nowhere.csv"], &[]).assert().code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(stderr.contains("cannot read nowhere.csv"), "{stderr}");
    assert!(!workspace.exists("out"));
}

/// The README's exit codes, each from the command that should give it.
#[test]
fn exit_codes_are_the_ones_the_readme_lists() {
    let workspace = Workspace::new();
    let run = |inputs: &str, extra: &[&str]| workspace.run(&[inputs], extra).assert();
    workspace.write("good.csv", &csv(&[good("1", "001002001000")], true));
    // 2: run refuses a file with bad rows; only errors.json is written.
    workspace.write(
        "bad.csv",
        &csv(&[good("1", "001002001000"), good("2", "00100")], true),
    );
    run("bad.csv", &["--out", "refused"]).code(2);
    let written: Vec<_> = std::fs::read_dir(workspace.path("refused"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(written, ["errors.json"]);
    // 1: a wording template with a syntax error, found before any input is read, located.
    workspace.write(
        "broken/wording/case-request.hbs",
        b"For {{counts}}:\n{{#if broken}\n",
    );
    let broken = run("good.csv", &["--templates", "broken", "--out", "never"]).code(1);
    let stderr = String::from_utf8_lossy(&broken.get_output().stderr).into_owned();
    assert!(
        stderr.contains("wording/case-request.hbs") && stderr.contains(":2:"),
        "{stderr}"
    );
    assert!(!workspace.exists("never"), "nothing written");
    // 1: a layout template with a Typst syntax error: file, line and column.
    workspace.write("typst/case.typ", b"#let ok = 1\n#let broken = (\n");
    let broken = run("good.csv", &["--templates", "typst", "--out", "never"]).code(1);
    let stderr = String::from_utf8_lossy(&broken.get_output().stderr).into_owned();
    assert!(stderr.contains("case.typ:2:"), "{stderr}");
    assert!(!workspace.exists("never"));
    // 1: the output cannot be written (its parent is a file), named.
    workspace.write("a-file", b"");
    let unwritable = workspace
        .check(&["good.csv"], &["--out", "a-file/out"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&unwritable.get_output().stderr).into_owned();
    assert!(stderr.contains("cannot write a-file"), "{stderr}");
    // 0: all well.
    run("good.csv", &["--out", "fine"]).code(0);
}

#[test]
fn no_personal_data_in_error_messages() {
    let workspace = Workspace::new();
    let rows = [good("1", "0010").name("SECRETNAME,PERSON").dob("19661231")];
    workspace.write("doj.csv", &csv(&rows, false));
    let run = workspace.check(&["doj.csv"], &[]).assert().code(2);
    let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
    assert!(
        !stderr.contains("SECRETNAME") && !stderr.contains("19661231"),
        "{stderr}"
    );
    let report = workspace.read("out/errors.json");
    assert!(!report.contains("SECRETNAME") && !report.contains("19661231"));
}
