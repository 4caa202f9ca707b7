//! `clearance sample`: deterministic synthetic DOJ files.

use crate::support::Workspace;

#[test]
fn sample_is_deterministic_and_readable() {
    let workspace = Workspace::new();
    for name in ["a.csv", "b.csv"] {
        workspace
            .clearance()
            .args([
                "sample", "--people", "30", "--county", "yolo", "--seed", "5", "-o", name,
            ])
            .assert()
            .success();
    }
    assert_eq!(workspace.read("a.csv"), workspace.read("b.csv"));
    let text = workspace.read("a.csv");
    assert!(text.starts_with("RECORD_ID,SUBJECT_STATUS,SUBJECT_ID"));
    assert!(text.contains(",YOLO,"));
    workspace
        .clearance()
        .args([
            "check",
            "a.csv",
            "--county",
            "YOLO",
            "--as-of",
            "2020-07-01",
            "--out",
            "out",
        ])
        .assert()
        .success();
    let summary: serde_json::Value =
        serde_json::from_str(&workspace.read("out/summary.json")).unwrap();
    assert_eq!(summary["errors"], 0);
    assert_eq!(summary["statistics"]["people"], 30);
    assert!(
        summary["statistics"]["determinations"].as_u64().unwrap() >= 30,
        "everyone has a Prop 64 conviction in the county"
    );
}
