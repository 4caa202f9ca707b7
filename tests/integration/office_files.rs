//! The files offices really have: spreadsheet exports with a byte order mark or in
//! Windows-1252, contacts headers as people write them, and a first run outside the checkout
//! with `clearance init`.

use crate::pdf::Pdf;
use crate::support::{Row, Workspace, csv};

const POSSESS: &str = "11357(B) HS-POSSESS MARIJUANA";

/// One person with a Spanish name, convicted in San Francisco.
fn doj_rows() -> Vec<Row> {
    vec![
        Row::conviction("S1", "001002001000", "20100304", POSSESS, "MISDEMEANOR")
            .name("PENA,JOSE")
            .case_number("SCN100"),
    ]
}

fn run(workspace: &Workspace, extra: &[&str]) -> assert_cmd::assert::Assert {
    workspace.run(&["doj.csv"], extra).assert()
}

fn letter_text(workspace: &Workspace) -> String {
    let letters: Vec<_> = std::fs::read_dir(workspace.path("out/letters"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    letters.iter().map(|path| Pdf::open(path).text()).collect()
}

#[test]
fn contacts_saved_as_csv_utf8_with_a_byte_order_mark_and_headers_as_people_write_them() {
    let workspace = Workspace::new();
    workspace.write("doj.csv", &csv(&doj_rows(), true));
    let mut contacts = b"\xef\xbb\xbf".to_vec();
    contacts.extend_from_slice(
        " Language ,ZIP,City,State,Address_1, Mailing_Name ,Subject_ID,Notes\n\
         es,94103-1234,San Francisco,CA,1 Calle Mayor,José Peña Núñez,S1,call first\n"
            .as_bytes(),
    );
    workspace.write("contacts.csv", &contacts);
    let assert = run(&workspace, &["--contacts", "contacts.csv"]).success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("contacts.csv:1: column \"Notes\" ignored"),
        "{stderr}"
    );
    let text = letter_text(&workspace);
    assert!(text.contains("José Peña Núñez"), "{text}");
    assert!(text.contains("94103-1234"), "{text}");
    let mailing = workspace.read("out/bundles/mailing-list.csv");
    assert!(mailing.contains("José Peña Núñez"), "{mailing}");
}

#[test]
fn contacts_saved_as_windows_csv_keep_their_accents() {
    let workspace = Workspace::new();
    let mut rows = doj_rows();
    rows.push(
        Row::conviction("S2", "001002001000", "20100304", POSSESS, "MISDEMEANOR")
            .name("NUNEZ,ANA")
            .case_number("SCN200"),
    );
    workspace.write("doj.csv", &csv(&rows, true));
    // "PEÑA, JOSÉ" in Windows-1252, and a line already in UTF-8 that must stay as it is.
    let mut contacts = b"subject_id,cii,mailing_name,address_1,address_2,city,state,zip,language\n\
        S1,,PE\xd1A JOS\xc9,1 Main St,,San Francisco,CA,94103,en\n"
        .to_vec();
    contacts.extend_from_slice("S2,,Ana Núñez,2 Main St,,San Francisco,CA,94103,en\n".as_bytes());
    workspace.write("contacts.csv", &contacts);
    let assert = run(&workspace, &["--contacts", "contacts.csv"]).success();
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("contacts.csv:2: lines that are not valid UTF-8")
            && stderr.contains("decoded as Windows-1252"),
        "{stderr}"
    );
    let text = letter_text(&workspace);
    assert!(text.contains("PEÑA JOSÉ"), "{text}");
    assert!(!text.contains('\u{FFFD}'));
    let mailing = workspace.read("out/bundles/mailing-list.csv");
    assert!(
        mailing.contains("PEÑA JOSÉ") && mailing.contains(",ready,"),
        "{mailing}"
    );

    // Told the file is UTF-8, it is refused, naming the line.
    let refused = run(
        &workspace,
        &[
            "--encoding",
            "utf-8",
            "--contacts",
            "contacts.csv",
            "--out",
            "refused",
        ],
    )
    .code(1);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        stderr.contains("contacts.csv:2: not valid UTF-8"),
        "{stderr}"
    );
}

#[test]
fn a_contacts_header_without_a_required_column_names_it() {
    let workspace = Workspace::new();
    workspace.write("doj.csv", &csv(&doj_rows(), true));
    workspace.write(
        "contacts.csv",
        b"subject_id,address_1,city,state\nS1,1 Main,SF,CA\n",
    );
    let assert = run(&workspace, &["--contacts", "contacts.csv"]).code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("contacts.csv:1: the header has no zip column"),
        "{stderr}"
    );
    workspace.write(
        "contacts.csv",
        b"subject_id,address_1,city,state,zip\nS1,1 Main,SF,CA,9410\n",
    );
    let assert = run(&workspace, &["--contacts", "contacts.csv"]).code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("contacts.csv:2: zip must be five digits or ZIP+4"),
        "{stderr}"
    );
}

#[test]
fn doj_files_with_a_byte_order_mark_or_a_windows_1252_name() {
    let workspace = Workspace::new();
    // A byte order mark and no header: the first row is still a row.
    let mut bom = b"\xef\xbb\xbf".to_vec();
    bom.extend_from_slice(&csv(&doj_rows(), false));
    workspace.write("bom.csv", &bom);
    workspace.check(&["bom.csv"], &[]).assert().success();
    let determinations = workspace.determinations();
    assert_eq!(determinations.len(), 1);
    assert_eq!(determinations[0]["subject_id"], "S1");

    // A Windows-1252 name: decoded, with one located warning for the file.
    let mut latin = csv(&doj_rows(), true);
    let at = latin
        .windows(9)
        .position(|window| window == b"PENA,JOSE")
        .unwrap();
    latin.splice(at..at + 9, b"PE\xd1A,JOS\xc9".iter().copied());
    workspace.write("latin.csv", &latin);
    workspace
        .check(&["latin.csv"], &["--out", "latin"])
        .assert()
        .success();
    let determinations: Vec<serde_json::Value> =
        serde_json::from_str(&workspace.read("latin/results/determinations.json")).unwrap();
    assert_eq!(determinations[0]["name"], "PEÑA,JOSÉ");
    let errors = workspace.json("latin/errors.json");
    let warnings = errors["diagnostics"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["line"], 2);
    assert!(
        warnings[0]["message"]
            .as_str()
            .unwrap()
            .contains("decoded as Windows-1252")
    );
    // gogen's CSVs keep the input's bytes.
    let all_results = std::fs::read(workspace.path("latin/results/All_Results.csv")).unwrap();
    assert!(
        all_results
            .windows(9)
            .any(|window| window == b"PE\xd1A,JOS\xc9")
    );

    // With --encoding utf-8 the row is refused, naming the line.
    let refused = workspace
        .check(&["latin.csv"], &["--encoding", "utf-8", "--out", "strict"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        stderr.contains("latin.csv:2: error") && stderr.contains("not valid UTF-8"),
        "{stderr}"
    );
}

#[test]
fn init_writes_a_starter_that_is_refused_until_edited() {
    let workspace = Workspace::new();
    workspace.write("doj.csv", &csv(&doj_rows(), true));
    // Outside the checkout, without --office: the error says what to do.
    let assert = workspace
        .clearance()
        .args([
            "run",
            "doj.csv",
            "--county",
            "SAN FRANCISCO",
            "--as-of",
            "2020-07-01",
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("pass --office FILE, or run `clearance init"),
        "{stderr}"
    );

    workspace
        .clearance()
        .args(["init", "--county", "san francisco", "office"])
        .assert()
        .success();
    for file in [
        "office/office.toml",
        "office/contacts.csv",
        "office/policy.toml",
    ] {
        assert!(workspace.exists(file), "{file}");
    }
    // Never over an existing file.
    workspace
        .clearance()
        .args(["init", "--county", "san francisco", "office"])
        .assert()
        .code(1);
    // `run` with the files `init` wrote.
    let run_with_starter = || {
        workspace
            .run(
                &["doj.csv"],
                &[
                    "--office",
                    "office/office.toml",
                    "--policy",
                    "office/policy.toml",
                    "--contacts",
                    "office/contacts.csv",
                ],
            )
            .assert()
    };
    let unedited = run_with_starter().code(1);
    let stderr = String::from_utf8_lossy(&unedited.get_output().stderr).into_owned();
    assert!(
        stderr.contains("office/office.toml: still has placeholder values")
            && stderr.contains("attorney.state-bar-number"),
        "{stderr}"
    );
    workspace
        .clearance()
        .args(["templates", "check", "--office", "office/office.toml"])
        .assert()
        .code(1);

    // Edited: every placeholder replaced, a real State Bar number.
    let text = workspace.read("office/office.toml");
    let mut edited = String::new();
    let mut rest = text.as_str();
    while let Some(start) = rest.find("[EDIT") {
        edited.push_str(&rest[..start]);
        let end = start + rest[start..].find(']').unwrap() + 1;
        edited.push_str("Edited value");
        rest = &rest[end..];
    }
    edited.push_str(rest);
    let edited = edited.replace("\"000000\"", "\"654321\"");
    workspace.write("office/office.toml", edited.as_bytes());
    run_with_starter().success();
    assert!(workspace.exists("out/cases/SCN100.pdf"));
}
