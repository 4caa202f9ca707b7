//! The shipped policies (`samples/policies/`), each on cases written for it: the outcomes a county
//! published for its flow, reproduced through `clearance check --policy FILE`.

use crate::support::{Row, Workspace, csv, find, repository};

const SALE: &str = "11359 HS-POSSESS MARIJUANA FOR SALE";
const TRANSPORT: &str = "11360(A) HS-TRANSPORT/SELL MARIJUANA";

fn policy_path(name: &str) -> String {
    repository()
        .join("samples/policies")
        .join(name)
        .display()
        .to_string()
}

/// People written for the county flows (as of 2020-07-01, county San Francisco).
fn flow_rows() -> Vec<Row> {
    vec![
        // MISD: an adult's 11357(b) misdemeanor (the statute dismisses it).
        Row::conviction(
            "MISD",
            "001002001000",
            "20100101",
            "11357(B) HS-POSSESS 28.5 GRAMS OR LESS",
            "MISDEMEANOR",
        ),
        // CONC: a felony 11357(a) concentrate, and a burglary elsewhere.
        Row::conviction(
            "CONC",
            "001002001000",
            "20100101",
            "11357(A) HS-POSSESS CONCENTRATE",
            "FELONY",
        ),
        Row::conviction(
            "CONC",
            "002002001000",
            "20190101",
            "459 PC-BURGLARY",
            "FELONY",
        )
        .county("ALAMEDA"),
        // OVER: a felony 11357(c) by an adult (no statutory change).
        Row::conviction(
            "OVER",
            "001002001000",
            "20100101",
            "11357(C) HS-POSSESS OVER 28.5",
            "FELONY",
        ),
        // OLD: 55 years old, a felony sale, and a recent burglary (so only the age rule holds).
        Row::conviction("OLD", "001002001000", "20100101", SALE, "FELONY").dob("19650101"),
        Row::conviction(
            "OLD",
            "002002001000",
            "20190101",
            "459 PC-BURGLARY",
            "FELONY",
        )
        .dob("19650101"),
        // ONLY: only Prop 64 convictions, every sentence completed.
        Row::conviction("ONLY", "001002001000", "20100101", SALE, "FELONY")
            .dob("19800101")
            .set("SENT_LOC_DESCR", "PROBATION")
            .sentence("3", "Y"),
        // OPEN: only Prop 64 convictions, but one sentence still running (so not both).
        Row::conviction("OPEN", "001002001000", "20100101", SALE, "FELONY").dob("19800101"),
        Row::conviction(
            "OPEN",
            "002002001000",
            "20200101",
            "11357(B) HS-POSSESS",
            "INFRACTION",
        )
        .dob("19800101")
        .set("CYC_DATE", "20160101")
        .set("SENT_LOC_DESCR", "PROBATION")
        .sentence("1", "Y"),
        // PLAIN: 40, a felony transport and a recent burglary: no upgrade.
        Row::conviction("PLAIN", "001002001000", "20100101", TRANSPORT, "FELONY").dob("19800101"),
        Row::conviction(
            "PLAIN",
            "002002001000",
            "20190101",
            "459 PC-BURGLARY",
            "FELONY",
        )
        .dob("19800101"),
        // SERV: still serving a felony sale (prison 2016-06-01 + 5 years), offence in 2016.
        Row::conviction("SERV", "001002001000", "20160601", SALE, "FELONY")
            .dob("19800101")
            .set("CYC_DATE", "20160301")
            .set("SENT_LOC_DESCR", "PRISON")
            .sentence("5", "Y"),
        Row::conviction(
            "SERV",
            "002002001000",
            "20190101",
            "459 PC-BURGLARY",
            "FELONY",
        )
        .dob("19800101"),
        // MURD: a prior murder keeps a felony transport a felony.
        Row::conviction(
            "MURD",
            "001002001000",
            "19950101",
            "187 PC-MURDER",
            "FELONY",
        )
        .dob("19600101"),
        Row::conviction("MURD", "002002001000", "20100101", TRANSPORT, "FELONY").dob("19600101"),
    ]
}

/// (subject, count key, outcome, basis, rule id) for every count a policy is checked on.
type Expected = [(
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    &'static str,
)];

fn check_policy(policy: &str, expected: &Expected) -> Vec<serde_json::Value> {
    let workspace = Workspace::new();
    workspace.write("doj.csv", &csv(&flow_rows(), true));
    workspace
        .check(&["doj.csv"], &["--policy", &policy_path(policy)])
        .assert()
        .success();
    let determinations = workspace.determinations();
    for &(subject, key, outcome, basis, rule) in expected {
        let record = find(&determinations, subject, key)
            .unwrap_or_else(|| panic!("{policy}: no determination for {subject}"));
        assert_eq!(
            (
                record["outcome"].as_str().unwrap(),
                record["basis"].as_str().unwrap(),
                record["rule_id"].as_str().unwrap()
            ),
            (outcome, basis, rule),
            "{policy}, {subject}: {}",
            record["reason"]
        );
    }
    let summary = workspace.json("out/summary.json");
    assert_eq!(summary["rules"]["kind"], "policy");
    assert_eq!(summary["rules"]["sha256"].as_str().unwrap().len(), 64);
    determinations
}

#[test]
fn los_angeles_2019_flow() {
    let determinations = check_policy(
        "los-angeles-2019.toml",
        &[
            (
                "MISD",
                "001002001000",
                "needs_review",
                "policy",
                "policy.misdemeanors-to-city-attorneys",
            ),
            (
                "CONC",
                "001002001000",
                "dismiss_and_seal",
                "statute",
                "statute.11357a.concentrate_adult",
            ),
            (
                "OVER",
                "001002001000",
                "needs_review",
                "policy",
                "policy.other-possession",
            ),
            (
                "OLD",
                "001002001000",
                "dismiss_and_seal",
                "policy",
                "policy.age-50-or-older",
            ),
            (
                "ONLY",
                "001002001000",
                "dismiss_and_seal",
                "policy",
                "policy.only-prop64-and-sentences-completed",
            ),
            (
                "OPEN",
                "001002001000",
                "redesignate_misdemeanor",
                "statute",
                "statute.11359.felony_to_misdemeanor",
            ),
            (
                "PLAIN",
                "001002001000",
                "redesignate_misdemeanor",
                "statute",
                "statute.11360a.felony_to_misdemeanor",
            ),
            (
                "SERV",
                "001002001000",
                "needs_review",
                "policy",
                "policy.still-serving",
            ),
            (
                "MURD",
                "002002001000",
                "not_eligible",
                "statute",
                "statute.disqualified.superstrike_prior",
            ),
        ],
    );
    let old = find(&determinations, "OLD", "001002001000").unwrap();
    assert!(
        old["authority"]
            .as_str()
            .unwrap()
            .contains("HS 11361.8 and 11361.9"),
        "{old}"
    );
    assert_eq!(old["seal"], true);
    assert_eq!(old["statutory_outcome"], "redesignate_misdemeanor");
}

#[test]
fn san_francisco_2019_dismisses_and_seals_every_eligible_count() {
    let determinations = check_policy(
        "san-francisco-2019.toml",
        &[
            (
                "MISD",
                "001002001000",
                "dismiss_and_seal",
                "statute",
                "statute.11357b.adult_lawful",
            ),
            (
                "OVER",
                "001002001000",
                "not_eligible",
                "statute",
                "statute.11357c.no_change",
            ),
            (
                "OLD",
                "001002001000",
                "dismiss_and_seal",
                "policy",
                "policy.dismiss-and-seal-every-eligible-count",
            ),
            (
                "PLAIN",
                "001002001000",
                "dismiss_and_seal",
                "policy",
                "policy.dismiss-and-seal-every-eligible-count",
            ),
            (
                "SERV",
                "001002001000",
                "dismiss_and_seal",
                "policy",
                "policy.dismiss-and-seal-every-eligible-count",
            ),
            (
                "MURD",
                "002002001000",
                "not_eligible",
                "statute",
                "statute.disqualified.superstrike_prior",
            ),
        ],
    );
    let plain = find(&determinations, "PLAIN", "001002001000").unwrap();
    assert!(
        plain["authority"]
            .as_str()
            .unwrap()
            .contains("San Francisco DA, 2019"),
        "{plain}"
    );
    assert_eq!(plain["seal"], true);
}

#[test]
fn bear_defaults_dismiss_every_prop64_count_and_ignore_disqualifiers() {
    check_policy(
        "bear-defaults.toml",
        &[
            (
                "PLAIN",
                "001002001000",
                "dismiss_and_seal",
                "policy",
                "policy.dismiss-all-prop64",
            ),
            (
                "OVER",
                "001002001000",
                "dismiss_and_seal",
                "policy",
                "policy.dismiss-all-prop64",
            ),
            (
                "MURD",
                "002002001000",
                "dismiss_and_seal",
                "policy",
                "policy.dismiss-all-prop64",
            ),
        ],
    );
}

#[test]
fn the_statutory_policy_is_the_statute() {
    check_policy(
        "statutory.toml",
        &[
            (
                "PLAIN",
                "001002001000",
                "redesignate_misdemeanor",
                "statute",
                "statute.11360a.felony_to_misdemeanor",
            ),
            (
                "OLD",
                "001002001000",
                "redesignate_misdemeanor",
                "statute",
                "statute.11359.felony_to_misdemeanor",
            ),
            (
                "SERV",
                "001002001000",
                "redesignate_misdemeanor",
                "statute",
                "statute.11359.felony_to_misdemeanor",
            ),
        ],
    );
}

#[test]
fn a_policy_dismissing_without_authority_is_refused_naming_file_and_key() {
    let workspace = Workspace::new();
    workspace.write("doj.csv", &csv(&flow_rows(), true));
    workspace.write(
        "policy.toml",
        b"name = \"x\"\n[[rule]]\nid = \"felonies\"\nwhen.level = \"felony\"\naction = \"dismiss\"\nseal = true\n",
    );
    let assert = workspace
        .check(&["doj.csv"], &["--policy", "policy.toml"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
    assert!(
        stderr.contains("policy.toml") && stderr.contains("[[rule]] #1 (id \"felonies\")"),
        "{stderr}"
    );
    assert!(stderr.contains("authority"), "{stderr}");
}

#[test]
fn related_charges_can_go_to_review_with_the_relieved_count() {
    let workspace = Workspace::new();
    let rows = vec![
        Row::conviction(
            "R",
            "001002001000",
            "20100101",
            "11357(B) HS-POSSESS",
            "MISDEMEANOR",
        ),
        Row::conviction(
            "R",
            "001002002000",
            "20100101",
            "11364 HS-PARAPHERNALIA",
            "MISDEMEANOR",
        ),
        // In another case: not related.
        Row::conviction(
            "R",
            "002002001000",
            "20110101",
            "11364 HS-PARAPHERNALIA",
            "MISDEMEANOR",
        ),
    ];
    workspace.write("doj.csv", &csv(&rows, true));
    workspace.write(
        "policy.toml",
        b"name = \"related to review\"\n[related-charges]\naction = \"review\"\n",
    );
    workspace
        .check(&["doj.csv"], &["--policy", "policy.toml"])
        .assert()
        .success();
    let determinations = workspace.determinations();
    assert_eq!(determinations.len(), 2, "{determinations:?}");
    let related = find(&determinations, "R", "001002002000").unwrap();
    assert_eq!(related["outcome"], "needs_review");
    assert_eq!(related["rule_id"], "policy.related_charge_review");
    assert!(
        related["flags"]
            .as_array()
            .unwrap()
            .contains(&"related_charge".into())
    );
    assert!(find(&determinations, "R", "002002001000").is_none());
}

/// The figures behind summary.pdf, worked out by hand for four people.
#[test]
fn summary_statistics_count_people_as_the_report_says() {
    let workspace = Workspace::new();
    let rows = vec![
        // A: only an adult's possession: dismissed, left with no conviction at all.
        Row::conviction(
            "A",
            "001002001000",
            "20100101",
            "11357(B) HS-POSSESS",
            "MISDEMEANOR",
        ),
        // B: a felony sale (redesignated) and a burglary: still a felony on record.
        Row::conviction("B", "001002001000", "20100101", SALE, "FELONY"),
        Row::conviction("B", "002002001000", "20120101", "459 PC-BURGLARY", "FELONY"),
        // C: a transport kept a felony by a prior murder: no relief.
        Row::conviction("C", "001002001000", "19950101", "187 PC-MURDER", "FELONY"),
        Row::conviction("C", "002002001000", "20100101", TRANSPORT, "FELONY"),
        // D: one felony sale, redesignated: left with no felony.
        Row::conviction("D", "001002001000", "20100101", SALE, "FELONY"),
    ];
    workspace.write("doj.csv", &csv(&rows, true));
    workspace
        .run(&["doj.csv"], &["--no-letters"])
        .assert()
        .success();
    // The report's reasons: each rule id with its meaning in plain words beside it.
    let report = workspace.pdf("out/summary.pdf").text();
    for expected in [
        "What it means",
        "statute.disqualified.superstrike_prior A prior super-strike conviction keeps the felony: not eligible",
        "statute.11359.felony_to_misdemeanor Felony possession for sale: now a misdemeanor",
        "Adult possession of 28.5 grams or less: now lawful, dismissed and sealed",
    ] {
        assert!(report.contains(expected), "{expected:?} in {report}");
    }
    let statistics = &workspace.json("out/summary.json")["statistics"];
    assert_eq!(statistics["people"], 4);
    assert_eq!(statistics["determinations"], 4);
    assert_eq!(statistics["by_outcome"]["dismiss_and_seal"], 1);
    assert_eq!(statistics["by_outcome"]["redesignate_misdemeanor"], 2);
    assert_eq!(statistics["by_outcome"]["not_eligible"], 1);
    assert_eq!(
        statistics["by_section"]["HS 11359"]["redesignate_misdemeanor"],
        2
    );
    assert_eq!(statistics["by_level"]["felony"]["not_eligible"], 1);
    assert_eq!(
        statistics["by_rule"]["statute.disqualified.superstrike_prior"],
        1
    );
    let impact = &statistics["impact"];
    assert_eq!(impact["people_with_some_relief"], 3);
    assert_eq!(impact["people_left_with_no_felony"], 1, "D only");
    assert_eq!(impact["people_left_with_no_conviction"], 1, "A only");
    let all = &statistics["impact_if_all_prop64_dismissed"];
    assert_eq!(all["people_with_some_relief"], 4);
    assert_eq!(
        all["people_left_with_no_felony"], 1,
        "D; C keeps the murder"
    );
    assert_eq!(all["people_left_with_no_conviction"], 2, "A and D");

    // A policy's rules are described in the policy's own words.
    let policy = repository()
        .join("samples/policies/los-angeles-2019.toml")
        .display()
        .to_string();
    workspace
        .run(
            &["doj.csv"],
            &["--no-letters", "--policy", &policy, "--out", "policy"],
        )
        .assert()
        .success();
    let report = workspace.pdf("policy/summary.pdf").text();
    assert!(
        report.contains("policy.misdemeanors-to-city-attorneys County policy rule \"misdemeanors-to-city-attorneys\" (misdemeanor or infraction) sends the count to review"),
        "{report}"
    );
}
