//! Pipeline benchmarks: `cargo bench --bench pipeline`.
//!
//! Generates synthetic DOJ files with the real generator, runs the real release binary on them
//! and reports wall time and peak memory (the child's maximum resident set size). Numbers are
//! printed, never asserted: targets live in the issue notes, not in tests.
//!
//! Two parts:
//! - `check` on 100k and 500k rows (statutory and gogen-options rules);
//! - `run` (the whole pipeline with documents: per-case motions and orders, the case-packets
//!   bundle, the omnibus filing full and redacted, letters and their bundles, summary,
//!   manifest) on a synthetic file of `BENCH_DOCUMENT_PEOPLE` people (default 7,100: about
//!   10,000 court cases with relief) with contacts, printing the stage timings.
//!
//! Environment: `BENCH_ROWS` (default 500000), `BENCH_RUNS` (default 3), `BENCH_DOCUMENT_PEOPLE`,
//! `BENCH_DIR` (default a folder under the system temp dir named after the generator's output,
//! kept between runs so inputs are generated once per generator version). `BENCH_ONLY=check` or
//! `BENCH_ONLY=run` runs one part.

mod support;

use std::path::{Path, PathBuf};

const BINARY: &str = env!("CARGO_BIN_EXE_clearance");

/// Rows per synthetic person, measured on the generator (used to pick the people count).
const ROWS_PER_PERSON: f64 = 82.0;

fn generate(rows: u64, path: &Path) {
    let people = ((rows as f64) / ROWS_PER_PERSON).ceil() as u64;
    support::generate_people(BINARY, people, path, None);
}

/// `clearance run` with documents on about 10,000 court cases.
fn bench_documents(directory: &Path, runs: usize) {
    let people = environment_number("BENCH_DOCUMENT_PEOPLE", 7_100);
    let input = directory.join(format!("doj_people_{people}.csv"));
    let contacts = directory.join(format!("contacts_people_{people}.csv"));
    support::generate_people(BINARY, people, &input, Some(&contacts));
    let office = Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/office.toml");
    let timings = directory.join("run_timings.txt");
    // Each run writes into its own fresh folder (see `fresh_folders`).
    let folders = fresh_folders(directory, "out_documents", runs);
    let mut measurements = Vec::with_capacity(runs);
    for out in &folders {
        let mut command = support::clearance_on_sample(BINARY, "run", &input, out);
        command
            .arg("--timings")
            .arg("--contacts")
            .arg(&contacts)
            .arg("--office")
            .arg(&office)
            .stderr(std::fs::File::create(&timings).expect("timings file"));
        measurements.push(support::measure(&mut command));
    }
    let out = folders.last().expect("at least one run");
    let count = |folder: &str| std::fs::read_dir(out.join(folder)).map_or(0, Iterator::count);
    println!(
        "input: {} ({people} people): {} case PDFs, {} letter PDFs, bundles: {:?}",
        input.display(),
        count("cases"),
        count("letters"),
        std::fs::read_dir(out.join("bundles"))
            .map(|entries| entries
                .filter_map(|entry| entry
                    .ok()
                    .map(|entry| entry.file_name().to_string_lossy().into_owned()))
                .collect::<std::collections::BTreeSet<_>>())
            .unwrap_or_default()
    );
    report(
        "run with documents (last run's stages below)",
        &mut measurements,
    );
    print_timings(&timings);
    for folder in &folders {
        let _ = std::fs::remove_dir_all(folder);
    }
}

/// One output folder per run, none of them there yet. Each run writes into its own and they are
/// deleted only after the last run: ext4 allocates inodes slowly next to thousands it deleted a
/// moment ago, which would add time to every run after the first without measuring clearance.
fn fresh_folders(directory: &Path, prefix: &str, runs: usize) -> Vec<PathBuf> {
    let folders: Vec<PathBuf> = (1..=runs)
        .map(|run| directory.join(format!("{prefix}_{run}")))
        .collect();
    for folder in &folders {
        let _ = std::fs::remove_dir_all(folder);
    }
    folders
}

/// The `timing:` lines a run printed on stderr.
fn print_timings(path: &Path) {
    for line in std::fs::read_to_string(path).unwrap_or_default().lines() {
        if line.starts_with("timing:") {
            println!("    {line}");
        }
    }
}

fn report(name: &str, runs: &mut [support::Measurement]) {
    runs.sort_by_key(|run| run.wall);
    let median = &runs[runs.len() / 2];
    let peak = runs.iter().map(|run| run.peak_rss_kib).max().unwrap_or(0);
    println!(
        "{name:<44} median {:>7.3} s  (min {:.3}, max {:.3})  peak RSS {:>6.1} MB",
        median.wall.as_secs_f64(),
        runs[0].wall.as_secs_f64(),
        runs[runs.len() - 1].wall.as_secs_f64(),
        peak as f64 / 1024.0
    );
}

/// Counts lines without holding the file in memory (a large parent process would inflate the
/// child's measured peak memory: a spawned child starts in the parent's address space).
fn count_lines(path: &Path) -> usize {
    use std::io::Read;
    let mut file = std::fs::File::open(path).expect("input");
    let mut buffer = vec![0u8; 1 << 20];
    let mut lines = 0;
    loop {
        let read = file.read(&mut buffer).expect("read input");
        if read == 0 {
            return lines;
        }
        lines += String::from_utf8_lossy(&buffer[..read])
            .matches('\n')
            .count();
    }
}

fn environment_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::args().any(|argument| argument == "--list") {
        return;
    }
    let rows = environment_number("BENCH_ROWS", 500_000);
    let runs = environment_number("BENCH_RUNS", 3).max(1) as usize;
    let directory = support::bench_directory(BINARY);
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only != "check" {
        bench_documents(&directory, runs);
    }
    if only == "run" {
        return;
    }

    for target_rows in [rows / 5, rows] {
        let input = directory.join(format!("doj_{target_rows}.csv"));
        generate(target_rows, &input);
        let bytes = std::fs::metadata(&input).map_or(0, |metadata| metadata.len());
        let lines = count_lines(&input);
        println!(
            "input: {} ({} data rows, {:.0} MB)",
            input.display(),
            lines.saturating_sub(1),
            bytes as f64 / 1e6
        );
        for (label, policy) in [("statutory", None), ("gogen options", Some("gogen"))] {
            // A fresh folder for every run, deleted after the last (see `fresh_folders`).
            let folders = fresh_folders(&directory, &format!("out_{target_rows}"), runs);
            let timings = directory.join("check_timings.txt");
            let mut measurements = Vec::with_capacity(runs);
            for out in &folders {
                let mut command = support::clearance_on_sample(BINARY, "check", &input, out);
                command
                    .arg("--timings")
                    .stderr(std::fs::File::create(&timings).expect("timings file"));
                if policy.is_some() {
                    let options = Path::new(env!("CARGO_MANIFEST_DIR"))
                        .join("samples/policies/bear-options.json");
                    command.arg(format!("--policy=gogen:{}", options.display()));
                }
                measurements.push(support::measure(&mut command));
            }
            report(
                &format!("check {target_rows} rows, {label} (last run's stages below)"),
                &mut measurements,
            );
            print_timings(&timings);
            for folder in &folders {
                let _ = std::fs::remove_dir_all(folder);
            }
        }
    }
}
