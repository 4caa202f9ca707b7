//! Hand-written scenarios through the real binary: one person per scenario, read from DOJ rows.

use crate::support::{Row, Workspace, csv, find};

const SALE: &str = "11359 HS-POSSESS MARIJUANA FOR SALE";
const POSSESS: &str = "11357(B) HS-POSSESS MARIJUANA 28.5 GRMS OR LESS";

fn scenario_rows() -> Vec<Row> {
    vec![
        // A: super strike before the 11359 conviction.
        Row::conviction(
            "A",
            "001002001000",
            "19950101",
            "187 PC-MURDER:SECOND DEGREE",
            "FELONY",
        )
        .county("LOS ANGELES"),
        Row::conviction("A", "002002001000", "20050101", SALE, "FELONY").case_number("SCNA1"),
        // B: the same super strike after it.
        Row::conviction("B", "001002001000", "20050101", SALE, "FELONY"),
        Row::conviction(
            "B",
            "002002001000",
            "20100101",
            "187 PC-MURDER:SECOND DEGREE",
            "FELONY",
        ),
        // C: PC 290 registration step before the conviction.
        Row::conviction(
            "C",
            "001001001000",
            "20000101",
            "290 PC-REGISTRATION OF SEX OFFENDER",
            "",
        )
        .step("REGISTRATION")
        .disposition(""),
        Row::conviction("C", "002002001000", "20050101", SALE, "FELONY"),
        // D: convicted after Prop 64 took effect.
        Row::conviction("D", "001002001000", "20170301", POSSESS, "MISDEMEANOR"),
        // E: 11357.5 (synthetic cannabinoids) is not Prop 64.
        Row::conviction(
            "E",
            "001002001000",
            "20100101",
            "11357.5(A) HS-SELL SYNTHETIC CANNABINOID",
            "MISDEMEANOR",
        ),
        // F: a Prop 64 count in another county: a prior, not determined here.
        Row::conviction("F", "001002001000", "20100101", SALE, "FELONY").county("ALAMEDA"),
        Row::conviction("F", "002002001000", "20110101", POSSESS, "MISDEMEANOR"),
        // G: a dismissed count is not a conviction.
        Row::conviction("G", "001002001000", "20100101", SALE, "FELONY")
            .disposition("DISMISSED/CHARGE DROPPED"),
        Row::conviction("G", "001002002000", "20100101", POSSESS, "MISDEMEANOR"),
        // H: the charge only in COMMENT_TEXT.
        Row::conviction(
            "H",
            "001002001000",
            "20100101",
            "SEE COMMENT FOR CHARGE",
            "FELONY",
        )
        .set("COMMENT_TEXT", "11360(A) HS-TRANSPORT/SELL MARIJUANA"),
        // I: still serving on the as-of date (conviction 2016-01-15, 5 years + 6 months).
        Row::conviction("I", "001002001000", "20160115", SALE, "FELONY").sentence("5", "Y"),
        Row::conviction("I", "001002001000", "20160115", SALE, "FELONY").sentence("6", "M"),
        // J: two prior 11360 convictions before, and the person died.
        Row::conviction(
            "J",
            "001002001000",
            "19900101",
            "11360(A) HS-SELL",
            "FELONY",
        ),
        Row::conviction(
            "J",
            "002002001000",
            "19920101",
            "11360(A) HS-SELL",
            "FELONY",
        ),
        Row::conviction(
            "J",
            "003002001000",
            "20000101",
            "11360(A) HS-SELL",
            "FELONY",
        ),
        Row::conviction("J", "004001001000", "20190101", "", "")
            .step("DECEASED")
            .disposition(""),
        // K: aged 19 at the offence, misdemeanor 11357(b).
        Row::conviction("K", "001002001000", "20090601", POSSESS, "MISDEMEANOR").dob("19900101"),
    ]
}

#[test]
fn statutory_scenarios() {
    let workspace = Workspace::new();
    workspace.write("doj.csv", &csv(&scenario_rows(), true));
    workspace.check(&["doj.csv"], &[]).assert().success();
    let determinations = workspace.determinations();
    let outcome = |subject: &str, count: &str| {
        let record = find(&determinations, subject, count)
            .unwrap_or_else(|| panic!("{subject} {count} determined"));
        (
            record["outcome"].as_str().unwrap().to_string(),
            record["rule_id"].as_str().unwrap().to_string(),
        )
    };

    assert_eq!(
        outcome("A", "002002001000"),
        (
            "not_eligible".into(),
            "statute.disqualified.superstrike_prior".into()
        )
    );
    assert_eq!(
        find(&determinations, "A", "002002001000").unwrap()["case_numbers"][0],
        "SCNA1"
    );
    assert!(
        find(&determinations, "A", "001002001000").is_none(),
        "murder is not a Prop 64 count"
    );
    assert_eq!(
        outcome("B", "001002001000"),
        (
            "redesignate_misdemeanor".into(),
            "statute.11359.felony_to_misdemeanor".into()
        )
    );
    assert_eq!(
        outcome("C", "002002001000"),
        (
            "not_eligible".into(),
            "statute.disqualified.pc290_registration".into()
        )
    );
    assert_eq!(
        outcome("D", "001002001000"),
        (
            "not_eligible".into(),
            "statute.post_prop64_conviction".into()
        )
    );
    assert!(
        find(&determinations, "E", "001002001000").is_none(),
        "11357.5 is not Prop 64"
    );
    assert!(
        find(&determinations, "F", "001002001000").is_none(),
        "another county's count is not determined"
    );
    assert_eq!(
        outcome("F", "002002001000"),
        (
            "dismiss_and_seal".into(),
            "statute.11357b.adult_lawful".into()
        )
    );
    assert!(
        find(&determinations, "G", "001002001000").is_none(),
        "a dismissed count is not a conviction"
    );
    assert_eq!(outcome("G", "001002002000").0, "dismiss_and_seal");

    let comment = find(&determinations, "H", "001002001000").expect("comment charge determined");
    assert_eq!(comment["section"], "11360");
    assert_eq!(comment["outcome"], "redesignate_misdemeanor");
    assert!(
        comment["flags"]
            .as_array()
            .unwrap()
            .contains(&"charge_from_comment".into())
    );

    let serving = find(&determinations, "I", "001002001000").unwrap();
    assert_eq!(serving["track"], "serving");
    assert_eq!(
        serving["sentence_end"], "2021-07-15",
        "both sentence parts count"
    );
    assert!(
        serving["authority"]
            .as_str()
            .unwrap()
            .starts_with("HS 11361.8(a)-(b)")
    );
    assert_eq!(
        determinations
            .iter()
            .filter(|record| record["subject_id"] == "I")
            .count(),
        1,
        "sentence parts are not counts"
    );

    let two_priors = find(&determinations, "J", "003002001000").unwrap();
    assert_eq!(two_priors["rule_id"], "statute.disqualified.two_priors");
    assert_eq!(two_priors["deceased"], true);
    assert!(
        two_priors["flags"]
            .as_array()
            .unwrap()
            .contains(&"deceased".into())
    );
    assert_eq!(outcome("J", "001002001000").0, "redesignate_misdemeanor");

    assert_eq!(
        outcome("K", "001002001000"),
        (
            "redesignate_infraction".into(),
            "statute.11357b.age_18_20".into()
        )
    );

    // The other county's and the dismissed rows still appear in All_Results, undetermined.
    let all_results = workspace.csv_rows("out/results/All_Results.csv");
    assert_eq!(all_results.len(), scenario_rows().len() + 1);
    let determination_column = all_results[0]
        .iter()
        .position(|name| name == "Eligibility Determination")
        .unwrap();
    let f_row = all_results
        .iter()
        .find(|row| row[2] == "F" && row[50] == "001002001000")
        .unwrap();
    assert_eq!(f_row[determination_column], "");
    let a_row = all_results
        .iter()
        .find(|row| row[2] == "A" && row[50] == "002002001000")
        .unwrap();
    assert_eq!(a_row[determination_column], "Not eligible");
    assert_eq!(
        a_row[determination_column - 12],
        "187 PC",
        "superstrike column lists the prior"
    );
}

#[test]
fn a_person_in_two_files_is_one_person() {
    let workspace = Workspace::new();
    let first = [
        Row::conviction("P", "001002001000", "19950101", "187 PC-MURDER", "FELONY")
            .county("LOS ANGELES"),
    ];
    let second = [Row::conviction(
        "P",
        "002002001000",
        "20050101",
        SALE,
        "FELONY",
    )];
    workspace.write("one.csv", &csv(&first, true));
    workspace.write("two.csv", &csv(&second, true));
    workspace
        .check(&["one.csv", "two.csv"], &[])
        .assert()
        .success();
    let determinations = workspace.determinations();
    assert_eq!(determinations.len(), 1);
    assert_eq!(
        determinations[0]["rule_id"], "statute.disqualified.superstrike_prior",
        "the prior in the other file counts"
    );
    assert_eq!(determinations[0]["source_file"], "two.csv");
    let all_results = workspace.csv_rows("out/results/All_Results.csv");
    assert_eq!(all_results.len(), 3, "one All_Results for both files");
}

#[test]
fn policy_relief_is_marked_as_policy() {
    let workspace = Workspace::new();
    workspace.write("doj.csv", &csv(&scenario_rows(), true));
    workspace.write(
        "policy.toml",
        b"name = \"dismiss sales\"\n[[section]]\nsection = \"11359\"\naction = \"dismiss\"\n",
    );
    workspace
        .check(&["doj.csv"], &["--policy", "policy.toml"])
        .assert()
        .success();
    let determinations = workspace.determinations();
    let b = find(&determinations, "B", "001002001000").unwrap();
    assert_eq!(b["outcome"], "dismiss_and_seal");
    assert_eq!(b["basis"], "policy");
    assert_eq!(b["statutory_outcome"], "redesignate_misdemeanor");
    assert_eq!(b["authority"], "PC 1385");
    let a = find(&determinations, "A", "002002001000").unwrap();
    assert_eq!(
        a["outcome"], "not_eligible",
        "disqualifiers block policy relief by default"
    );
}
