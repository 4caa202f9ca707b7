//! `--policy gogen:FILE`: gogen v0.2.13's decisions and CSVs, byte for byte.
//!
//! The fixture exercises gogen's quirks: a 96-field header, blank SUBJECT_IDs (gogen resets such
//! a subject on every row), unknown dates (Go's zero time), `11357.5` matching 11357, a charge in
//! COMMENT_TEXT, a case number with a leading space, a name with a comma, an embedded quote.
//! Every expected cell below was derived by hand from gogen's code, not from clearance.

use crate::support::{Workspace, repository};

fn fixture(name: &str) -> String {
    repository()
        .join("tests/fixtures/gogen")
        .join(name)
        .display()
        .to_string()
}

fn run_gogen(workspace: &Workspace, inputs: &[&str], options: &str) {
    workspace
        .clearance()
        .arg("check")
        .args(inputs)
        .args([
            "--county",
            "SACRAMENTO",
            "--as-of",
            "2019-11-11",
            "--out",
            "out",
        ])
        .arg(format!("--policy=gogen:{options}"))
        .assert()
        .success();
}

/// (data row index, the 18 computed columns).
fn expected_rows() -> Vec<(usize, [&'static str; 18])> {
    const D: &str = "Eligible for Dismissal";
    const R: &str = "Eligible for Reduction";
    vec![
        (
            1,
            [
                "12345",
                "3",
                "",
                "N",
                "-",
                "-",
                "-",
                "06/01/1979",
                "40.4",
                "4.7",
                "3",
                "1",
                "0",
                "1",
                "1",
                "-",
                D,
                "21 years or younger",
            ],
        ),
        (
            3,
            [
                " 777",
                "3",
                "",
                "N",
                "-",
                "-",
                "-",
                "02/11/2014",
                "5.7",
                "4.7",
                "3",
                "1",
                "0",
                "1",
                "1",
                "-",
                D,
                "57 years or older",
            ],
        ),
        (
            6,
            [
                "NULL  ",
                "3",
                "",
                "N",
                "220 PC",
                "-",
                "Yes",
                "06/01/1999",
                "20.4",
                "16.9",
                "2",
                "1",
                "0",
                "1",
                "0",
                "Deceased",
                D,
                "Dismiss all HS 11357 convictions",
            ],
        ),
        (
            8,
            [
                "",
                "3",
                "",
                "N",
                "220 PC",
                "-",
                "Yes",
                "11/01/2001",
                "18.0",
                "16.9",
                "2",
                "1",
                "0",
                "1",
                "0",
                "Deceased",
                D,
                "21 years or younger",
            ],
        ),
        (
            10,
            [
                "",
                "5",
                "",
                "N",
                "-",
                "314(1) PC",
                "-",
                "04/11/1981",
                "38.6",
                "9.9",
                "4",
                "1",
                "2",
                "0",
                "1",
                "-",
                D,
                "Dismiss all HS 11358 convictions",
            ],
        ),
        (
            12,
            [
                "",
                "5",
                "",
                "N",
                "-",
                "314(1) PC",
                "-",
                "01/01/2010",
                "9.9",
                "9.9",
                "4",
                "1",
                "2",
                "0",
                "1",
                "-",
                D,
                "Misdemeanor or Infraction",
            ],
        ),
        (
            13,
            [
                "",
                "5",
                "11357(C) HS",
                "N",
                "-",
                "314(1) PC",
                "-",
                "02/11/1981",
                "38.7",
                "9.9",
                "4",
                "1",
                "2",
                "0",
                "1",
                "-",
                D,
                "21 years or younger",
            ],
        ),
        (
            15,
            [
                "",
                "2",
                "",
                "N",
                "-",
                "-",
                "-",
                "01/01/2000",
                "19.9",
                "18.9",
                "2",
                "0",
                "0",
                "1",
                "1",
                "-",
                D,
                "21 years or younger",
            ],
        ),
        (
            16,
            [
                "C2",
                "2",
                "",
                "N",
                "-",
                "-",
                "-",
                "01/01/2001",
                "18.9",
                "18.9",
                "2",
                "0",
                "0",
                "1",
                "1",
                "-",
                D,
                "21 years or younger",
            ],
        ),
        (
            17,
            [
                "",
                "1",
                "",
                "N",
                "-",
                "-",
                "-",
                "01/01/0001",
                "-1.0",
                "-1.0",
                "1",
                "0",
                "0",
                "1",
                "0",
                "-",
                D,
                "21 years or younger",
            ],
        ),
        (
            18,
            [
                "",
                "2",
                "",
                "N",
                "-",
                "-",
                "-",
                "01/01/2005",
                "14.9",
                "7.9",
                "2",
                "0",
                "0",
                "1",
                "1",
                "-",
                D,
                "Conviction occurred 10 or more years ago",
            ],
        ),
        (
            19,
            [
                "",
                "2",
                "",
                "N",
                "-",
                "-",
                "-",
                "01/01/2012",
                "7.9",
                "7.9",
                "2",
                "0",
                "0",
                "1",
                "1",
                "-",
                D,
                "Only has 11357-60 charges",
            ],
        ),
        (
            20,
            [
                "",
                "3",
                "",
                "N",
                "-",
                "-",
                "-",
                "01/01/2012",
                "7.9",
                "6.9",
                "2",
                "0",
                "1",
                "1",
                "0",
                "-",
                R,
                "Reduce all HS 11359 convictions",
            ],
        ),
        (
            22,
            [
                "",
                "3",
                "",
                "N",
                "-",
                "-",
                "-",
                "01/01/2013",
                "6.9",
                "6.9",
                "2",
                "0",
                "1",
                "1",
                "0",
                "-",
                D,
                "Misdemeanor or Infraction",
            ],
        ),
    ]
}

const HEADERS: [&str; 18] = [
    "Case Number",
    "# of convictions on record",
    "Possible Other P64 Charges",
    "Occurred after 11/9/2016",
    "Superstrike Code Section(s)",
    "PC290 Code Section(s)",
    "PC290 Registration",
    "Date of Conviction",
    "Years Since This Conviction",
    "Years Since Any Conviction",
    "# of Prop 64 convictions",
    "# of HS 11357 convictions",
    "# of HS 11358 convictions",
    "# of HS 11359 convictions",
    "# of HS 11360 convictions",
    "Deceased",
    "Eligibility Determination",
    "Eligibility Reason",
];

#[test]
fn all_results_reproduce_gogen_row_by_row() {
    let workspace = Workspace::new();
    run_gogen(
        &workspace,
        &[&fixture("input.csv")],
        &fixture("options.json"),
    );
    let rows = workspace.csv_rows("out/results/All_Results.csv");
    assert_eq!(&rows[0][95..], HEADERS);
    assert_eq!(rows.len(), 24, "header and all 23 rows");
    let expected = expected_rows();
    for (index, row) in rows[1..].iter().enumerate() {
        let computed: Vec<&str> = row[95..].iter().map(String::as_str).collect();
        match expected.iter().find(|(row_index, _)| *row_index == index) {
            Some((_, columns)) => assert_eq!(computed, columns, "data row {index}"),
            None => assert!(
                computed.iter().all(|value| value.is_empty()),
                "data row {index} is not evaluated: {computed:?}"
            ),
        }
    }

    let prop64 = workspace.csv_rows("out/results/Prop64_Results.csv");
    assert_eq!(prop64.len(), 1 + expected.len());
    for (row, (index, _)) in prop64[1..].iter().zip(&expected) {
        assert_eq!(
            row,
            &rows[1 + index],
            "Prop64_Results holds the evaluated rows in input order"
        );
    }

    let condensed = workspace.csv_rows("out/results/All_Results_Condensed.csv");
    let condensed_names = [
        "CII_NUMBER",
        "PRI_NAME",
        "GENDER",
        "PRI_DOB",
        "RACE_DESCR",
        "CYC_DATE",
        "STP_EVENT_DATE",
        "STP_ORI_DESCR",
        "STP_ORI_CNTY_NAME",
        "DISP_DATE",
        "OFN",
        "OFFENSE_DESCR",
        "DISP_DESCR",
        "CONV_STAT_DESCR",
        "SENT_LOC_DESCR",
        "SENT_LENGTH",
        "SENT_TIME_CODE",
        "CYC_AGE",
        "COMMENT_TEXT",
        "END_OF_REC",
    ];
    assert_eq!(&condensed[0][..20], condensed_names);
    assert_eq!(condensed[2][1], "SKYWALKER,LUKE S");
    assert_eq!(&condensed[2][20..], &rows[2][95..]);
}

#[test]
fn bytes_match_go_csv_quoting() {
    let workspace = Workspace::new();
    run_gogen(
        &workspace,
        &[&fixture("input.csv")],
        &fixture("options.json"),
    );
    let input = std::fs::read_to_string(fixture("input.csv")).unwrap();
    let output = workspace.read("out/results/All_Results.csv");
    let mut output_lines = output.split('\n');
    let header = output_lines.next().unwrap();
    assert!(header.starts_with("RECORD_ID,SUBJECT_STATUS,SUBJECT_ID,"));
    assert!(header.ends_with(",Deceased,Eligibility Determination,Eligibility Reason"));
    // The fixture is itself written with Go's quoting, so every input row comes back verbatim.
    for (input_line, output_line) in input.lines().skip(1).zip(output_lines) {
        assert!(
            output_line.starts_with(&format!("{input_line},")),
            "{output_line}"
        );
    }
    assert!(
        output.contains(",\"SKYWALKER,LUKE S\","),
        "a comma is quoted"
    );
    assert!(
        output.contains(",\"      \","),
        "a field starting with a space is quoted"
    );
    assert!(
        output.contains(",\"SAID \"\"HI\"\"\","),
        "quotes are doubled"
    );
    assert!(
        output.contains("\" 777\",3,,N,"),
        "a leading-space case number is quoted"
    );
    assert!(
        output.ends_with("Misdemeanor or Infraction\n"),
        "LF line ends, final newline"
    );
    assert!(!output.contains('\r'));
}

#[test]
fn crlf_input_gives_identical_output() {
    let crlf = Workspace::new();
    let input = std::fs::read_to_string(fixture("input.csv"))
        .unwrap()
        .replace('\n', "\r\n");
    let path = crlf.write("crlf.csv", input.as_bytes());
    run_gogen(
        &crlf,
        &[&path.display().to_string()],
        &fixture("options.json"),
    );
    let lf = Workspace::new();
    run_gogen(&lf, &[&fixture("input.csv")], &fixture("options.json"));
    for file in [
        "All_Results.csv",
        "All_Results_Condensed.csv",
        "Prop64_Results.csv",
    ] {
        assert_eq!(
            crlf.read(&format!("out/results/{file}")),
            lf.read(&format!("out/results/{file}")),
            "{file}"
        );
    }
}

#[test]
fn summary_matches_gogen_semantics() {
    let workspace = Workspace::new();
    run_gogen(
        &workspace,
        &[&fixture("input.csv")],
        &fixture("options.json"),
    );
    let summary: serde_json::Value =
        serde_json::from_str(&workspace.read("out/results/gogen_summary.json")).unwrap();
    let expected = serde_json::json!({
        "county": "SACRAMENTO",
        "earliestConviction": "0001-01-01T00:00:00Z",
        "lineCount": 23,
        "reliefWithCurrentEligibilityChoices": {"CountSubjectsNoConviction": 3, "CountSubjectsNoConvictionLast7Years": 0, "CountSubjectsNoFelony": 4},
        "reliefWithDismissAllProp64": {"CountSubjectsNoConviction": 3, "CountSubjectsNoConvictionLast7Years": 0, "CountSubjectsNoFelony": 4},
        "prop64ConvictionsCountInCountyByCodeSection": {"11357": 2, "11358": 2, "11359": 6, "11360": 4},
        "subjectsWithProp64ConvictionCountInCounty": 7,
        "prop64FelonyConvictionsCountInCounty": 12,
        "prop64NonFelonyConvictionsCountInCounty": 2,
        "subjectsWithSomeReliefCount": 7,
        "convictionDismissalCountByCodeSection": {"11357": 1, "11358": 1},
        "convictionReductionCountByCodeSection": {"11359": 1, "11360": 0},
        "convictionDismissalCountByAdditionalRelief": {
            "21 years or younger": 6, "57 years or older": 1,
            "Conviction occurred 10 or more years ago": 1, "Only has 11357-60 charges": 1
        }
    });
    assert_eq!(summary, expected);
    let text = workspace.read("out/results/gogen_summary.json");
    let positions: Vec<usize> = [
        "\"county\"",
        "\"earliestConviction\"",
        "\"lineCount\"",
        "\"reliefWithCurrentEligibilityChoices\"",
        "\"convictionDismissalCountByAdditionalRelief\"",
    ]
    .iter()
    .map(|key| text.find(key).unwrap())
    .collect();
    assert!(
        positions.windows(2).all(|pair| pair[0] < pair[1]),
        "gogen's field order"
    );
}

#[test]
fn determinations_exist_in_gogen_mode_too() {
    let workspace = Workspace::new();
    run_gogen(
        &workspace,
        &[&fixture("input.csv")],
        &fixture("options.json"),
    );
    let determinations = workspace.determinations();
    assert_eq!(determinations.len(), expected_rows().len());
    let reduced = determinations
        .iter()
        .find(|record| record["subject_id"] == "707" && record["count_key"] == "001002001000")
        .unwrap();
    assert_eq!(reduced["outcome"], "redesignate_misdemeanor");
    assert_eq!(reduced["rule_id"], "gogen.reduce_section");
    assert_eq!(reduced["basis"], "policy");
}

#[test]
fn unconfigured_felony_sections_get_a_blank_determination() {
    let workspace = Workspace::new();
    let options = workspace.write(
        "options.json",
        br#"{"baselineEligibility":{"dismiss":["11357"],"reduce":[]}}"#,
    );
    run_gogen(
        &workspace,
        &[&fixture("input.csv")],
        &options.display().to_string(),
    );
    let rows = workspace.csv_rows("out/results/All_Results.csv");
    let reduced_row = &rows[1 + 20];
    assert_eq!(
        (reduced_row[95 + 16].as_str(), reduced_row[95 + 17].as_str()),
        ("", "")
    );
    let determinations = workspace.determinations();
    let record = determinations
        .iter()
        .find(|record| record["subject_id"] == "707" && record["count_key"] == "001002001000")
        .unwrap();
    assert_eq!(record["outcome"], "needs_review");
}

#[test]
fn several_inputs_are_processed_apart_with_indexed_names() {
    let workspace = Workspace::new();
    run_gogen(
        &workspace,
        &[&fixture("input.csv"), &fixture("input.csv")],
        &fixture("options.json"),
    );
    for index in [1, 2] {
        for name in ["All_Results", "All_Results_Condensed", "Prop64_Results"] {
            assert!(
                workspace.exists(&format!("out/results/{name}_{index}.csv")),
                "{name}_{index}"
            );
        }
    }
    assert_eq!(
        workspace.read("out/results/All_Results_1.csv"),
        workspace.read("out/results/All_Results_2.csv")
    );
    let summary: serde_json::Value =
        serde_json::from_str(&workspace.read("out/results/gogen_summary.json")).unwrap();
    assert_eq!(summary["lineCount"], 46, "summed over files");
    assert_eq!(
        summary["subjectsWithProp64ConvictionCountInCounty"], 14,
        "people are not merged across files"
    );
}

#[test]
fn invalid_options_are_refused_like_gogen() {
    let workspace = Workspace::new();
    for (options, message) in [
        (
            r#"{"baselineEligibility":{"dismiss":["11362.1"]}}"#,
            "not one of",
        ),
        (
            r#"{"additionalRelief":{"subjectAgeThreshold":30}}"#,
            "must be 0 or 40..=65",
        ),
        (r#"{"additionalRelief":"#, "EOF"),
    ] {
        let path = workspace.write("options.json", options.as_bytes());
        let run = workspace
            .clearance()
            .args([
                "check",
                &fixture("input.csv"),
                "--county",
                "SACRAMENTO",
                "--out",
                "out",
            ])
            .arg(format!("--policy=gogen:{}", path.display()))
            .assert()
            .code(1);
        let stderr = String::from_utf8_lossy(&run.get_output().stderr).into_owned();
        assert!(stderr.contains(message), "{stderr}");
    }
}

/// The steps of gogen's flow the fixture does not reach — years crime free, deceased — and the
/// "Occurred after 11/9/2016" column; and the counts gogen would relieve that the statute does
/// not reach, which clearance's own determinations (and so the papers) send to review.
#[test]
fn crime_free_deceased_and_after_prop64_in_gogen_mode() {
    use crate::support::{Row, csv};
    let workspace = Workspace::new();
    let rows = vec![
        // CF: one old felony sale, nothing since: "No convictions in the past 5 years".
        Row::conviction("CF", "001002001000", "20120101", "11359 HS-SALE", "FELONY")
            .dob("19800101")
            .county("SACRAMENTO"),
        Row::conviction(
            "CF",
            "002002001000",
            "20120601",
            "459 PC-BURGLARY",
            "FELONY",
        )
        .dob("19800101")
        .county("SACRAMENTO"),
        // DC: a recent felony sale and a death step: "Individual is deceased".
        Row::conviction("DC", "001002001000", "20180101", "11359 HS-SALE", "FELONY")
            .dob("19800101")
            .set("CYC_DATE", "20160101")
            .county("SACRAMENTO"),
        Row::conviction(
            "DC",
            "002002001000",
            "20210101",
            "459 PC-BURGLARY",
            "FELONY",
        )
        .dob("19800101")
        .county("SACRAMENTO"),
        Row::conviction("DC", "003001001000", "20220601", "", "")
            .step("DECEASED")
            .disposition("")
            .county("SACRAMENTO"),
        // AF: possession convicted after Prop 64 (offence after it too), dismissed by gogen.
        Row::conviction(
            "AF",
            "001002001000",
            "20180301",
            "11357(B) HS-POSSESS",
            "MISDEMEANOR",
        )
        .county("SACRAMENTO"),
    ];
    workspace.write("doj.csv", &csv(&rows, true));
    workspace.write(
        "options.json",
        br#"{"baselineEligibility":{"dismiss":["11357"],"reduce":["11358","11359","11360"]},
            "additionalRelief":{"subjectUnder21AtConviction":false,"subjectAgeThreshold":0,
            "yearsSinceConvictionThreshold":0,"yearsCrimeFreeThreshold":5,
            "subjectHasOnlyProp64Charges":false,"subjectIsDeceased":true}}"#,
    );
    workspace
        .clearance()
        .args([
            "check",
            "doj.csv",
            "--county",
            "SACRAMENTO",
            "--as-of",
            "2024-07-01",
        ])
        .arg("--policy=gogen:options.json")
        .assert()
        .success();
    let results = workspace.csv_rows("out/results/Prop64_Results.csv");
    let header = &results[0];
    let column = |name: &str| header.iter().position(|field| field == name).unwrap();
    let row_of = |subject: &str| {
        results[1..]
            .iter()
            .find(|row| row[column("SUBJECT_ID")] == subject)
            .unwrap()
    };
    assert_eq!(
        row_of("CF")[column("Eligibility Reason")],
        "No convictions in the past 5 years"
    );
    assert_eq!(
        row_of("DC")[column("Eligibility Reason")],
        "Individual is deceased"
    );
    assert_eq!(row_of("DC")[column("Deceased")], "Deceased");
    assert_eq!(row_of("AF")[column("Occurred after 11/9/2016")], "Y");
    assert_eq!(row_of("CF")[column("Occurred after 11/9/2016")], "N");
    assert_eq!(
        row_of("AF")[column("Eligibility Determination")],
        "Eligible for Dismissal",
        "gogen's CSV says what gogen says"
    );
    let determinations = workspace.determinations();
    let after = determinations
        .iter()
        .find(|record| record["subject_id"] == "AF")
        .unwrap();
    assert_eq!(after["outcome"], "needs_review", "{after}");
    assert_eq!(after["rule_id"], "gogen.statute_denies");
    assert!(
        after["reason"].as_str().unwrap().contains("2016-11-09"),
        "{after}"
    );
}
