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
        ("not_eligible".into(), "statute.post_prop64_offense".into())
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
        b"name = \"dismiss sales\"\n[[rule]]\nid = \"sales\"\nwhen.section = \"11359\"\naction = \"dismiss\"\nauthority = \"PC 1203.4\"\nseal = true\n",
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
    assert_eq!(b["authority"], "PC 1203.4", "the policy's own authority");
    assert_eq!(b["seal"], true);
    assert_eq!(b["rule_id"], "policy.sales");
    let a = find(&determinations, "A", "002002001000").unwrap();
    assert_eq!(
        a["outcome"], "not_eligible",
        "disqualifiers block policy relief by default"
    );
}

const SELL: &str = "11360(A) HS-SELL/TRANSPORT MARIJUANA";

/// The subtle statutory cases, as a user meets them: DOJ rows through `clearance check`.
fn subtle_rows() -> Vec<Row> {
    vec![
        // K: arrested before Prop 64, convicted after it: the offence date decides.
        Row::conviction("K", "001002001000", "20170301", SALE, "FELONY")
            .set("CYC_DATE", "20161001"),
        // L: a prior attempted lewd act on a child (PC 664/288): a PC 290(c) offence.
        Row::conviction(
            "L",
            "001002001000",
            "19950101",
            "664/288(A) PC-ATTEMPT LEWD ACT",
            "FELONY",
        ),
        Row::conviction("L", "002002001000", "20050101", SELL, "FELONY"),
        // M: a prior solicitation of murder (PC 653f(b)): a super strike, clause (V).
        Row::conviction(
            "M",
            "001002001000",
            "19950101",
            "653F(B) PC-SOLICIT MURDER",
            "FELONY",
        ),
        Row::conviction("M", "002002001000", "20050101", SELL, "FELONY"),
        // N: a prior kidnapping (PC 207): disqualifying only with sexual intent, not shown.
        Row::conviction(
            "N",
            "001002001000",
            "19950101",
            "207(A) PC-KIDNAPPING",
            "FELONY",
        ),
        Row::conviction("N", "002002001000", "20050101", SELL, "FELONY"),
        // O: a prior kidnapping for ransom (PC 209): life, a super strike.
        Row::conviction(
            "O",
            "001002001000",
            "19950101",
            "209(A) PC-KIDNAP FOR RANSOM",
            "FELONY",
        ),
        Row::conviction("O", "002002001000", "20050101", SELL, "FELONY"),
        // P: two prior gifts under 11360(b) do not make an 11360(a) sale a felony.
        Row::conviction(
            "P",
            "001002001000",
            "19950101",
            "11360(B) HS-GIVE AWAY 28.5 GRAMS",
            "MISDEMEANOR",
        ),
        Row::conviction(
            "P",
            "002002001000",
            "19990101",
            "11360(B) HS-GIVE AWAY 28.5 GRAMS",
            "MISDEMEANOR",
        ),
        Row::conviction("P", "003002001000", "20050101", SELL, "FELONY"),
        // Q: more than 28.5 grams at 16: an infraction today.
        Row::conviction(
            "Q",
            "001002001000",
            "20080101",
            "11357(C) HS-POSSESS OVER 28.5 GRAMS",
            "MISDEMEANOR",
        )
        .dob("19911201"),
        // R: a conviction date that is recorded but impossible (month 13), no arrest date.
        Row::conviction("R", "001002001000", "20191345", SALE, "FELONY").set("CYC_DATE", ""),
        // S: cultivation: the plant count is unknown, the presumption takes six or fewer.
        Row::conviction(
            "S",
            "001002001000",
            "20050101",
            "11358 HS-CULTIVATE MARIJUANA",
            "FELONY",
        ),
        // T: six months of jail within three years' probation from 2018-01-15: serving on
        // 2020-07-01 (probation runs to 2021-01-15), though the jail ended long ago.
        Row::conviction("T", "001002001000", "20180115", SALE, "FELONY")
            .set("CYC_DATE", "20160301")
            .set("SENT_LOC_DESCR", "JAIL")
            .sentence("6", "M"),
        Row::conviction("T", "001002001000", "20180115", SALE, "FELONY")
            .set("CYC_DATE", "20160301")
            .set("SENT_LOC_DESCR", "PROBATION")
            .sentence("3", "Y"),
    ]
}

#[test]
fn the_subtle_statutory_cases_through_check() {
    let workspace = Workspace::new();
    workspace.write("doj.csv", &csv(&subtle_rows(), true));
    workspace.check(&["doj.csv"], &[]).assert().success();
    let determinations = workspace.determinations();
    let get = |subject: &str, key: &str| {
        find(&determinations, subject, key)
            .unwrap_or_else(|| panic!("no determination for {subject} {key}"))
    };
    let expect = |subject: &str, key: &str, outcome: &str, rule: &str| {
        let record = get(subject, key);
        assert_eq!(record["outcome"], outcome, "{subject}: {record}");
        assert_eq!(record["rule_id"], rule, "{subject}: {record}");
        record
    };
    expect(
        "K",
        "001002001000",
        "redesignate_misdemeanor",
        "statute.11359.felony_to_misdemeanor",
    );
    let attempted_lewd = expect(
        "L",
        "002002001000",
        "not_eligible",
        "statute.disqualified.pc290_prior",
    );
    assert!(
        attempted_lewd["reason"]
            .as_str()
            .unwrap()
            .contains("PC 290(c)"),
        "{attempted_lewd}"
    );
    let solicitation = expect(
        "M",
        "002002001000",
        "not_eligible",
        "statute.disqualified.superstrike_prior",
    );
    assert!(
        solicitation["reason"]
            .as_str()
            .unwrap()
            .contains("PC 667(e)(2)(C)(iv)(V)"),
        "{solicitation}"
    );
    let kidnapping = expect(
        "N",
        "002002001000",
        "needs_review",
        "statute.disqualifier_form_unknown",
    );
    assert!(
        kidnapping["flags"]
            .as_array()
            .unwrap()
            .contains(&"disqualifier_form_unknown".into())
    );
    assert!(
        kidnapping["reason"].as_str().unwrap().contains("PC 207(a)"),
        "{kidnapping}"
    );
    expect(
        "O",
        "002002001000",
        "not_eligible",
        "statute.disqualified.superstrike_prior",
    );
    expect(
        "P",
        "003002001000",
        "redesignate_misdemeanor",
        "statute.11360a.felony_to_misdemeanor",
    );
    expect(
        "Q",
        "001002001000",
        "redesignate_infraction",
        "statute.11357c.minor",
    );
    let invalid = expect(
        "R",
        "001002001000",
        "needs_review",
        "statute.unknown_offense_date",
    );
    assert!(
        invalid["reason"]
            .as_str()
            .unwrap()
            .contains("recorded but invalid"),
        "{invalid}"
    );
    assert!(
        invalid["flags"]
            .as_array()
            .unwrap()
            .contains(&"invalid_date".into())
    );
    let cultivation = expect(
        "S",
        "001002001000",
        "dismiss_and_seal",
        "statute.11358.six_plants_or_fewer",
    );
    assert!(
        cultivation["flags"]
            .as_array()
            .unwrap()
            .contains(&"presumed_plants".into())
    );
    let probation = expect(
        "T",
        "001002001000",
        "redesignate_misdemeanor",
        "statute.11359.felony_to_misdemeanor",
    );
    assert_eq!(probation["track"], "serving");
    assert_eq!(probation["sentence_end"], "2021-01-15");

    // The invalid date is a located warning, and the value itself is not repeated.
    let errors = workspace.json("out/errors.json");
    let warning = errors["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|diagnostic| diagnostic["field"] == "STP_EVENT_DATE")
        .expect("a warning for the invalid date");
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["file"], "doj.csv");
    assert!(warning["line"].as_u64().unwrap() > 1);
    assert!(warning["column"].as_u64().is_some());
    assert!(!warning["message"].as_str().unwrap().contains("20191345"));

    // Relief resting on a presumption is counted.
    let summary = workspace.json("out/summary.json");
    assert_eq!(
        summary["statistics"]["relief_resting_on_presumption"], 1,
        "{}",
        summary["statistics"]
    );
}

#[test]
fn a_quoted_header_is_a_header_and_a_file_without_rows_is_refused() {
    let workspace = Workspace::new();
    let mut quoted = Vec::new();
    let names: Vec<String> = clearance::ingest::doj::COLUMN_NAMES
        .iter()
        .map(|name| format!("\"{name}\""))
        .collect();
    quoted.extend_from_slice(names.join(",").as_bytes());
    quoted.push(b'\n');
    let body = csv(
        &[Row::conviction(
            "A",
            "001002001000",
            "20100101",
            SALE,
            "FELONY",
        )],
        false,
    );
    let mut with_row = quoted.clone();
    with_row.extend_from_slice(&body);
    workspace.write("quoted.csv", &with_row);
    workspace.check(&["quoted.csv"], &[]).assert().success();
    assert_eq!(workspace.determinations().len(), 1);

    workspace.write("header-only.csv", &quoted);
    let refused = workspace
        .check(&["header-only.csv"], &["--out", "refused"])
        .assert()
        .code(2);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(stderr.contains("no data rows"), "{stderr}");
    workspace.write("empty.csv", b"");
    workspace
        .check(&["empty.csv"], &["--out", "refused-too"])
        .assert()
        .code(2);
}
