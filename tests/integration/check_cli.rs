//! `clearance check` end to end on the shipped sample.

use crate::support::{Workspace, repository};

fn sample_path() -> String {
    repository()
        .join("samples/doj_sample.csv")
        .display()
        .to_string()
}

#[test]
fn check_on_the_shipped_sample_writes_every_result() {
    let workspace = Workspace::new();
    workspace.check(&[&sample_path()], &[]).assert().success();
    for file in [
        "out/summary.json",
        "out/results/determinations.csv",
        "out/results/determinations.json",
        "out/results/All_Results.csv",
        "out/results/All_Results_Condensed.csv",
        "out/results/Prop64_Results.csv",
    ] {
        assert!(workspace.exists(file), "{file} missing");
    }
    // The sample records a few dates of birth as "x" (recorded, not a date): warnings only.
    let report = workspace.json("out/errors.json");
    assert_eq!(report["errors"], 0, "{report}");
    for diagnostic in report["diagnostics"].as_array().unwrap() {
        assert_eq!(diagnostic["severity"], "warning", "{diagnostic}");
        assert_eq!(diagnostic["field"], "PRI_DOB", "{diagnostic}");
    }

    let determinations = workspace.determinations();
    assert!(
        determinations.len() > 200,
        "{} determinations",
        determinations.len()
    );
    let outcomes = [
        "dismiss_and_seal",
        "redesignate_misdemeanor",
        "redesignate_infraction",
        "not_eligible",
        "needs_review",
    ];
    for record in &determinations {
        let outcome = record["outcome"].as_str().unwrap();
        assert!(outcomes.contains(&outcome), "{outcome}");
        assert!(!record["rule_id"].as_str().unwrap().is_empty());
        assert!(!record["reason"].as_str().unwrap().is_empty());
        assert!(["statute", "policy"].contains(&record["basis"].as_str().unwrap()));
        assert!(["completed", "serving"].contains(&record["track"].as_str().unwrap()));
        if outcome != "needs_review" {
            assert!(
                record["authority"]
                    .as_str()
                    .unwrap()
                    .starts_with("HS 11361.8"),
                "{record}"
            );
        }
        assert_eq!(
            record["county"], "SAN FRANCISCO",
            "only the processed county is determined"
        );
        assert_eq!(record["count_key"].as_str().unwrap().len(), 12);
    }
    for outcome in [
        "dismiss_and_seal",
        "redesignate_misdemeanor",
        "not_eligible",
    ] {
        assert!(
            determinations
                .iter()
                .any(|record| record["outcome"] == outcome),
            "sample has {outcome}"
        );
    }

    let csv = workspace.csv_rows("out/results/determinations.csv");
    let header = &csv[0];
    for column in [
        "subject_id",
        "count_key",
        "outcome",
        "track",
        "basis",
        "authority",
        "rule_id",
        "reason",
        "flags",
    ] {
        assert!(
            header.contains(&column.to_string()),
            "determinations.csv has {column}"
        );
    }
    assert_eq!(csv.len() - 1, determinations.len());

    let summary: serde_json::Value =
        serde_json::from_str(&workspace.read("out/summary.json")).unwrap();
    assert_eq!(summary["as_of"], "2020-07-01");
    assert_eq!(summary["county"], "SAN FRANCISCO");
    assert_eq!(
        summary["input_rows"].as_u64().unwrap() + 1,
        csv_line_count(&sample_path())
    );
    assert_eq!(
        summary["statistics"]["determinations"].as_u64().unwrap() as usize,
        determinations.len()
    );

    let all_results = workspace.csv_rows("out/results/All_Results.csv");
    assert_eq!(all_results[0].len(), 95 + 18);
    assert_eq!(
        all_results.len() as u64,
        csv_line_count(&sample_path()),
        "every input row, plus the header"
    );
    let prop64 = workspace.csv_rows("out/results/Prop64_Results.csv");
    assert_eq!(prop64.len() - 1, determinations.len());
    let condensed = workspace.csv_rows("out/results/All_Results_Condensed.csv");
    assert_eq!(condensed[0].len(), 20 + 18);
}

fn csv_line_count(path: &str) -> u64 {
    std::fs::read_to_string(path).unwrap().matches('\n').count() as u64
}

#[test]
fn the_same_input_gives_byte_identical_outputs() {
    let workspace = Workspace::new();
    workspace
        .check(&[&sample_path()], &["--out", "first", "--jobs", "1"])
        .assert()
        .success();
    workspace
        .check(&[&sample_path()], &["--out", "second", "--jobs", "2"])
        .assert()
        .success();
    for file in [
        "summary.json",
        "results/determinations.csv",
        "results/determinations.json",
        "results/All_Results.csv",
        "results/All_Results_Condensed.csv",
        "results/Prop64_Results.csv",
    ] {
        assert_eq!(
            workspace.read(&format!("first/{file}")),
            workspace.read(&format!("second/{file}")),
            "{file} differs"
        );
    }
}

#[test]
fn a_rerun_replaces_the_output_folder_whole() {
    let workspace = Workspace::new();
    workspace.write("out/stale-from-an-old-run.txt", b"old");
    workspace.check(&[&sample_path()], &[]).assert().success();
    assert!(!workspace.exists("out/stale-from-an-old-run.txt"));
    assert!(workspace.exists("out/summary.json"));
    let mut leftovers: Vec<String> = std::fs::read_dir(workspace.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    leftovers.sort();
    assert_eq!(
        leftovers,
        [".out.lock", "out"],
        "no staging folders left behind, only the (released) lock file"
    );
}

#[test]
fn configuration_errors_exit_1_with_a_clear_message() {
    let workspace = Workspace::new();
    let sample = sample_path();
    let county = workspace
        .clearance()
        .args([
            "check",
            &sample,
            "--county",
            "San Fransisco",
            "--out",
            "out",
        ])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&county.get_output().stderr).into_owned();
    assert!(
        stderr.contains("unknown county") && stderr.contains("SAN FRANCISCO"),
        "{stderr}"
    );

    let date = workspace
        .check(&[&sample], &["--as-of", "2020-02-30"])
        .assert()
        .code(1);
    assert!(String::from_utf8_lossy(&date.get_output().stderr).contains("invalid date"));

    workspace.write(
        "bad.toml",
        b"name = \"x\"\n[[rule]]\nid = \"x\"\nwhen.section = \"11350\"\naction = \"review\"\n",
    );
    let policy = workspace
        .check(&[&sample], &["--policy", "bad.toml"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&policy.get_output().stderr).into_owned();
    assert!(
        stderr.contains("bad.toml") && stderr.contains("not a Prop 64 section"),
        "{stderr}"
    );
    assert!(
        !workspace.exists("out"),
        "nothing written on a configuration error"
    );

    workspace
        .clearance()
        .args(["check", "--county", "SAN FRANCISCO"])
        .assert()
        .code(1);
}

#[test]
fn the_gogen_options_sample_runs() {
    let workspace = Workspace::new();
    let options = repository()
        .join("samples/policies/bear-options.json")
        .display()
        .to_string();
    workspace
        .check(
            &[&sample_path()],
            &["--policy", &format!("gogen:{options}")],
        )
        .assert()
        .success();
    assert!(workspace.exists("out/results/gogen_summary.json"));
}
