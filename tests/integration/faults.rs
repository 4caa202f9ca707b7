//! The output folder under faults: `kill -9` at any moment, two runs into one folder, owner-only
//! permissions, and cells a spreadsheet would run. Each test drives the real binary.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Row, Workspace, csv, sample_office};

/// Every file under `folder` (relative path → bytes).
fn tree(folder: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, folder: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
        for entry in std::fs::read_dir(folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, files);
            } else {
                let relative = path.strip_prefix(root).unwrap().display().to_string();
                files.insert(relative, std::fs::read(&path).unwrap());
            }
        }
    }
    let mut files = BTreeMap::new();
    walk(folder, folder, &mut files);
    files
}

/// The files two trees disagree on, for a readable failure.
fn differing(left: &BTreeMap<String, Vec<u8>>, right: &BTreeMap<String, Vec<u8>>) -> Vec<String> {
    left.keys()
        .chain(right.keys())
        .filter(|name| left.get(*name) != right.get(*name))
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// Names beside the output folder that dead runs may leave (staging, set-aside outputs).
fn leftovers(workspace: &Workspace) -> Vec<String> {
    std::fs::read_dir(workspace.dir.path())
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".partial-") || name.contains(".previous-"))
        .collect()
}

/// A synthetic county file big enough that a run takes a while.
fn big_input(workspace: &Workspace, people: u32) {
    workspace
        .clearance()
        .args(["sample", "--people", &people.to_string(), "--seed", "11"])
        .args(["-o", "doj.csv", "--contacts", "contacts.csv"])
        .assert()
        .success();
}

fn spawn(workspace: &Workspace, arguments: &[&str]) -> Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_clearance"))
        .current_dir(workspace.dir.path())
        .args(arguments)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start clearance")
}

fn check_args<'a>(as_of: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "check",
        "doj.csv",
        "--county",
        "SAN FRANCISCO",
        "--as-of",
        as_of,
        "--out",
        out,
    ]
}

fn run_args<'a>(office: &'a str, as_of: &'a str, out: &'a str) -> Vec<&'a str> {
    vec![
        "run",
        "doj.csv",
        "--county",
        "SAN FRANCISCO",
        "--as-of",
        as_of,
        "--out",
        out,
        "--office",
        office,
        "--contacts",
        "contacts.csv",
    ]
}

/// Kills the command at each delay (SIGKILL) with `out` holding the output of `before`; after
/// each kill `out` must be exactly `before` or `after` (never missing, never a mix), and the next
/// run clears what the killed one left and says so.
fn kill_at_moments(
    workspace: &Workspace,
    arguments: &dyn Fn(&str, &str) -> Vec<String>,
    delays: &[u64],
) {
    let run_to_end = |as_of: &str, out: &str| {
        let arguments = arguments(as_of, out);
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_clearance"))
            .current_dir(workspace.dir.path())
            .args(&arguments)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    run_to_end("2020-07-01", "reference-before");
    run_to_end("2021-07-01", "reference-after");
    let before = tree(&workspace.path("reference-before"));
    let after = tree(&workspace.path("reference-after"));
    assert_ne!(
        before, after,
        "the two as-of dates must give different outputs"
    );
    let mut killed_with_leftovers = 0;
    for &delay in delays {
        run_to_end("2020-07-01", "out");
        assert!(leftovers(workspace).is_empty());
        let arguments = arguments("2021-07-01", "out");
        let arguments: Vec<&str> = arguments.iter().map(String::as_str).collect();
        let mut child = spawn(workspace, &arguments);
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill();
        child.wait().unwrap();
        assert!(
            workspace.exists("out"),
            "after a kill at {delay} ms there is no output folder"
        );
        let now = tree(&workspace.path("out"));
        assert!(
            now == before || now == after,
            "after a kill at {delay} ms the output folder is neither the old nor the new output: {:?} differ from the old, {:?} from the new",
            differing(&now, &before),
            differing(&now, &after)
        );
        let left = leftovers(workspace);
        let stderr = run_to_end("2021-07-01", "out");
        if !left.is_empty() {
            killed_with_leftovers += 1;
            assert!(stderr.contains("note: cleared"), "{stderr}");
        }
        assert!(
            leftovers(workspace).is_empty(),
            "the next run cleared {left:?}"
        );
        assert_eq!(tree(&workspace.path("out")), after);
    }
    assert!(
        killed_with_leftovers > 0,
        "no kill landed while the run was writing; the delays are too long for this machine"
    );
}

#[test]
fn kill_9_during_check_leaves_the_old_or_the_new_output_and_the_next_run_cleans_up() {
    let workspace = Workspace::new();
    big_input(&workspace, 400);
    let arguments = |as_of: &str, out: &str| {
        check_args(as_of, out)
            .into_iter()
            .map(String::from)
            .collect()
    };
    kill_at_moments(&workspace, &arguments, &[20, 80, 160, 250, 350, 500, 700]);
}

#[test]
fn kill_9_during_run_leaves_the_old_or_the_new_output_and_the_next_run_cleans_up() {
    let workspace = Workspace::new();
    big_input(&workspace, 150);
    let office = sample_office();
    let arguments = |as_of: &str, out: &str| {
        run_args(&office, as_of, out)
            .into_iter()
            .map(String::from)
            .collect()
    };
    kill_at_moments(&workspace, &arguments, &[300, 900, 1800]);
}

/// Waits until a run has taken the folder (its staging folder exists).
fn wait_for_staging(workspace: &Workspace, child: &mut Child) {
    let started = Instant::now();
    while leftovers(workspace).is_empty() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the first run ended too soon"
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the first run never started"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_second_run_into_a_folder_being_written_fails_at_once_or_waits() {
    let workspace = Workspace::new();
    big_input(&workspace, 400);
    let mut first = spawn(&workspace, &check_args("2020-07-01", "out"));
    wait_for_staging(&workspace, &mut first);
    let started = Instant::now();
    let second = workspace
        .clearance()
        .args(check_args("2021-07-01", "out"))
        .assert()
        .code(1);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refused at once"
    );
    let stderr = String::from_utf8_lossy(&second.get_output().stderr).into_owned();
    assert!(
        stderr.contains("out is being written by another clearance run"),
        "{stderr}"
    );
    assert!(first.wait().unwrap().success());
    assert_eq!(workspace.json("out/summary.json")["as_of"], "2020-07-01");

    // With --wait the second run queues behind the first and its output is the one left.
    let mut first = spawn(&workspace, &check_args("2020-07-01", "out"));
    wait_for_staging(&workspace, &mut first);
    let mut waiting = check_args("2021-07-01", "out");
    waiting.push("--wait");
    workspace.clearance().args(waiting).assert().success();
    assert!(first.wait().unwrap().success());
    assert_eq!(workspace.json("out/summary.json")["as_of"], "2021-07-01");
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn outputs_are_private_to_the_owner_unless_the_office_chooses_group_access() {
    let workspace = Workspace::new();
    workspace.write(
        "doj.csv",
        &csv(
            &[Row::conviction(
                "A",
                "001002001000",
                "20100101",
                "11357(B) HS-POSSESS",
                "MISDEMEANOR",
            )],
            true,
        ),
    );
    workspace
        .check(&["doj.csv"], &["--out", "nested/out"])
        .assert()
        .success();
    assert_eq!(mode(&workspace.path("nested")), 0o700);
    assert_eq!(mode(&workspace.path("nested/out")), 0o700);
    assert_eq!(mode(&workspace.path("nested/out/results")), 0o700);
    assert_eq!(mode(&workspace.path("nested/out/summary.json")), 0o600);
    assert_eq!(
        mode(&workspace.path("nested/out/results/determinations.csv")),
        0o600
    );
    assert_eq!(mode(&workspace.path("nested/.out.lock")), 0o600);

    workspace
        .check(&["doj.csv"], &["--out", "shared", "--group-readable"])
        .assert()
        .success();
    assert_eq!(mode(&workspace.path("shared")), 0o750);
    assert_eq!(
        mode(&workspace.path("shared/results/determinations.json")),
        0o640
    );
}

#[test]
fn cells_a_spreadsheet_would_run_are_neutralised_in_clearances_own_csvs_only() {
    let workspace = Workspace::new();
    let hostile = "=HYPERLINK(\"http://example.invalid/x\",\"click\")";
    workspace.write(
        "doj.csv",
        &csv(
            &[
                Row::conviction(
                    "A",
                    "001002001000",
                    "20100101",
                    "11357(B) HS-POSSESS",
                    "MISDEMEANOR",
                )
                .name(hostile)
                .case_number("SCN1"),
                Row::conviction(
                    "B",
                    "001002001000",
                    "20100101",
                    "11357(B) HS-POSSESS",
                    "MISDEMEANOR",
                )
                .name("SMITH,=1+2")
                .case_number("SCN2"),
            ],
            true,
        ),
    );
    workspace.run(&["doj.csv"], &[]).assert().success();
    let determinations = workspace.csv_rows("out/results/determinations.csv");
    let name_column = determinations[0]
        .iter()
        .position(|name| name == "name")
        .unwrap();
    assert_eq!(determinations[1][name_column], format!("'{hostile}"));
    let mailing = workspace.csv_rows("out/bundles/mailing-list.csv");
    let name_column = mailing[0].iter().position(|name| name == "name").unwrap();
    assert!(
        mailing[1..]
            .iter()
            .any(|row| row[name_column].starts_with("'=1+2")),
        "{mailing:?}"
    );
    assert!(
        mailing[1..]
            .iter()
            .all(|row| !row[name_column].starts_with('='))
    );
    // gogen's CSVs stay as gogen writes them (byte-identical to gogen): the name as recorded.
    let all_results = workspace.read("out/results/All_Results.csv");
    assert!(
        all_results.contains(",\"=HYPERLINK(\"\"http://example.invalid/x\"\",\"\"click\"\")\",")
    );
}
