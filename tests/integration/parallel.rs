//! The parallel reader on small files: `CLEARANCE_MIN_CHUNK_BYTES` (a test setting, not a user
//! option) makes a file of a few kilobytes split into as many chunks as `--jobs`, so the merge of
//! people across chunks and the chunked rewrite of gogen's CSVs run under test.

use std::collections::BTreeMap;

use crate::support::{Row, Workspace, csv, find, repository};

const SELL: &str = "11360(A) HS-SELL/TRANSPORT MARIJUANA";

/// X has a prior murder at the top of the file and the marijuana conviction at the bottom; Y's
/// one count has a sentence part near the top and another near the bottom; filler people sit
/// between, so with many chunks each person's rows fall in different chunks.
fn rows() -> Vec<Row> {
    let mut rows = vec![
        Row::conviction("X", "001002001000", "19950101", "187 PC-MURDER", "FELONY"),
        Row::conviction(
            "Y",
            "001002001000",
            "20160115",
            "11359 HS-POSSESS FOR SALE",
            "FELONY",
        )
        .set("CYC_DATE", "20160101")
        .set("SENT_LOC_DESCR", "PRISON")
        .sentence("2", "Y"),
    ];
    for index in 0..120 {
        let subject = format!("F{index:03}");
        rows.push(
            Row::conviction(
                &subject,
                "001002001000",
                "20100101",
                "11357(B) HS-POSSESS",
                "MISDEMEANOR",
            )
            .case_number(&format!("SCN{index:03}")),
        );
        rows.push(Row::conviction(
            &subject,
            "002002001000",
            "20120101",
            "459 PC-BURGLARY",
            "FELONY",
        ));
    }
    rows.push(
        Row::conviction(
            "Y",
            "001002001000",
            "20160115",
            "11359 HS-POSSESS FOR SALE",
            "FELONY",
        )
        .set("CYC_DATE", "20160101")
        .set("SENT_LOC_DESCR", "PRISON")
        .sentence("4", "Y"),
    );
    rows.push(Row::conviction("X", "002002001000", "20050101", SELL, "FELONY").case_number("SCNX"));
    rows
}

fn tree(workspace: &Workspace, folder: &str) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![workspace.path(folder)];
    while let Some(directory) = stack.pop() {
        for entry in std::fs::read_dir(&directory).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path.strip_prefix(workspace.path(folder)).unwrap();
                files.insert(
                    relative.display().to_string(),
                    std::fs::read(&path).unwrap(),
                );
            }
        }
    }
    files
}

#[test]
fn one_two_and_many_chunks_give_the_same_people_and_byte_identical_outputs() {
    let workspace = Workspace::new();
    workspace.write("doj.csv", &csv(&rows(), true));
    let options = repository()
        .join("samples/policies/bear-options.json")
        .display()
        .to_string();
    let gogen = format!("gogen:{options}");
    for (policy, label) in [(None, "statute"), (Some(gogen.as_str()), "gogen")] {
        let mut outputs = Vec::new();
        for (jobs, chunk_bytes) in [("1", None), ("2", Some("1")), ("8", Some("1"))] {
            let out = format!("{label}-{jobs}");
            let mut extra = vec!["--jobs", jobs, "--out", out.as_str()];
            if let Some(policy) = policy {
                extra.extend(["--policy", policy]);
            }
            let mut command = workspace.check(&["doj.csv"], &extra);
            if let Some(bytes) = chunk_bytes {
                command.env("CLEARANCE_MIN_CHUNK_BYTES", bytes);
            }
            command.assert().success();
            outputs.push((out.clone(), tree(&workspace, &out)));
        }
        let (first_name, first) = &outputs[0];
        for (name, files) in &outputs[1..] {
            let differing: std::collections::BTreeSet<&String> = first
                .keys()
                .chain(files.keys())
                .filter(|file| first.get(*file) != files.get(*file))
                .collect();
            assert!(
                differing.is_empty(),
                "{first_name} and {name} differ: {differing:?}"
            );
        }
        if label == "statute" {
            for (out, _) in &outputs {
                let determinations: Vec<serde_json::Value> = serde_json::from_str(
                    &workspace.read(&format!("{out}/results/determinations.json")),
                )
                .unwrap();
                let x = find(&determinations, "X", "002002001000").unwrap();
                assert_eq!(
                    x["rule_id"], "statute.disqualified.superstrike_prior",
                    "{out}: the prior in the first chunk counts"
                );
                let y = find(&determinations, "Y", "001002001000").unwrap();
                assert_eq!(y["track"], "serving", "{out}: both sentence parts add up");
                assert_eq!(y["sentence_end"], "2022-01-15", "{out}");
                assert_eq!(determinations.len(), 122, "{out}");
            }
        }
    }
}
