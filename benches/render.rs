//! Rendering benchmarks: `cargo bench --bench render`.
//!
//! In-process measurements of the document stage, on synthetic determinations made by the real
//! pipeline (`clearance check` on a generated DOJ file):
//! - single-document latency (p50, p99): one case's motion and order per compile;
//! - the service's single papers (`clearance::single_paper`, plan, render and cut) from one
//!   and from two threads at once: plain threads, one rayon pool's threads, and one-thread
//!   rayon pools (the service's way): how rendering scales across cores in one process;
//! - the omnibus filing with an Exhibit A of `BENCH_EXHIBIT_ROWS` counts (default 10,000), full
//!   and redacted: each part compiled and exported to PDF, one after the other (assembling the
//!   parts into the filing, with its page numbers and volumes, is timed by the pipeline
//!   benchmark's "omnibus filing" stage, not here).
//!
//! The end-to-end target (10,000 per-case PDFs plus all bundles) is measured by the pipeline
//! benchmark, `cargo bench --bench pipeline`, on the release binary. Numbers are printed, never
//! asserted.

mod support;

use std::process::Command;
use std::time::{Duration, Instant};

use clearance::config::Contacts;
use clearance::model::Date;
use clearance::output::DeterminationRecord;
use clearance::render::documents::{Letterhead, case_chunk, omnibus};
use clearance::render::{PdfSettings, Renderer, Templates};

const BINARY: &str = env!("CARGO_BIN_EXE_clearance");

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|line| line.starts_with("VmHWM:"))
                .and_then(|line| line.split_whitespace().nth(1))
                .and_then(|kib| kib.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn environment_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// Where the benchmark renders single papers.
#[derive(Clone, Copy, PartialEq)]
enum Threads {
    /// Plain threads (the service before 2026-11-30): typst's parallel parts go to rayon's
    /// global pool.
    Plain,
    /// One rayon pool, one loop per thread (as `clearance run` renders chunks).
    SharedPool,
    /// A rayon pool of one thread each (as the service renders single papers).
    OwnPools,
}

/// A rayon pool of `threads` threads with room on the stack for typst, as clearance makes them.
fn rayon_pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .stack_size(32 << 20)
        .build()
        .expect("rayon pool")
}

impl Threads {
    fn label(self) -> &'static str {
        match self {
            Threads::Plain => "plain thread(s)",
            Threads::SharedPool => "thread(s) of one rayon pool",
            Threads::OwnPools => "one-thread rayon pools",
        }
    }

    /// As `support::latencies_from_threads`, each thread's items run where `self` says.
    fn latencies(
        self,
        threads: usize,
        per_thread: usize,
        work: impl Fn(usize) -> Duration + Sync,
    ) -> (Vec<Duration>, Duration) {
        let shared = (self == Threads::SharedPool).then(|| rayon_pool(threads));
        support::latencies_from_threads_within(threads, per_thread, work, |items| {
            match (self, &shared) {
                (Threads::SharedPool, Some(pool)) => pool.install(items),
                (Threads::OwnPools, _) => rayon_pool(1).install(items),
                _ => items(),
            }
        })
    }
}

/// Determinations of a synthetic DOJ file with about `people` people, made by the binary.
fn determinations(directory: &std::path::Path, people: u64) -> Vec<DeterminationRecord> {
    let input = directory.join(format!("render_doj_{people}.csv"));
    if !input.exists() {
        let status = Command::new(BINARY)
            .args([
                "sample",
                "--people",
                &people.to_string(),
                "--seed",
                "77",
                "-o",
            ])
            .arg(&input)
            .status()
            .expect("generate sample");
        assert!(status.success());
    }
    let out = directory.join(format!("render_out_{people}"));
    let status = support::clearance_on_sample(BINARY, "check", &input, &out)
        .status()
        .expect("run check");
    assert!(status.success());
    let bytes = std::fs::read(out.join("results/determinations.json")).expect("determinations");
    serde_json::from_slice(&bytes).expect("determinations parse")
}

fn main() {
    if std::env::args().any(|argument| argument == "--list") {
        return;
    }
    let directory = support::bench_directory(BINARY);
    let office_path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/office.toml");
    let (office, _) = clearance::config::load_office(&office_path).expect("office profile");
    let as_of = Date::from_ymd_const(2020, 7, 1);
    // BENCH_TEMPLATES: a folder of template overrides, to compare layouts.
    let templates = match std::env::var_os("BENCH_TEMPLATES") {
        Some(folder) => {
            Templates::with_overrides(std::path::Path::new(&folder)).expect("templates")
        }
        None => Templates::built_in(),
    };
    let renderer = Renderer::new(&templates, as_of).expect("templates");
    let letterhead = Letterhead {
        office: &office,
        as_of,
        letter_mode: &clearance::plan::LetterMode::Notice,
    };

    // Single documents.
    let single_documents = environment_number("BENCH_DOCUMENTS", 300) as usize;
    let records = determinations(&directory, 300);
    let plans = clearance::plan::plan(&records, &Contacts::default(), false);
    let mut latencies = Vec::new();
    for case in plans.cases.iter().cycle().take(single_documents) {
        let started = Instant::now();
        let data = case_chunk(&renderer, &letterhead, std::slice::from_ref(case), "bench")
            .expect("case data");
        let (pdf, _) = renderer
            .render(
                "case.typ",
                &data,
                &PdfSettings {
                    ident: case.file_stem.clone(),
                    tagged: true,
                },
            )
            .expect("render");
        std::hint::black_box(pdf);
        latencies.push(started.elapsed());
    }
    latencies.sort();
    println!(
        "single case document (motion + order, one compile): {} documents, p50 {:.1} ms, p99 {:.1} ms, {:.0} documents/s; peak RSS {:.0} MB",
        latencies.len(),
        support::percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        support::percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.len() as f64 / latencies.iter().sum::<Duration>().as_secs_f64(),
        peak_rss_mb()
    );

    // The service's single papers (`clearance::single_paper`, as `POST /v1/documents/case`
    // renders them), from 1 and 2 threads at once: how rendering scales across the cores.
    let case_records: Vec<Vec<DeterminationRecord>> = {
        let mut by_case: std::collections::BTreeMap<(String, String), Vec<DeterminationRecord>> =
            std::collections::BTreeMap::new();
        for record in &records {
            if !record.case_numbers.is_empty() {
                by_case
                    .entry((record.case_numbers.join("; "), record.subject_id.clone()))
                    .or_default()
                    .push(record.clone());
            }
        }
        by_case
            .into_values()
            .filter(|records| {
                clearance::plan::plan(records, &Contacts::default(), false)
                    .cases
                    .len()
                    == 1
            })
            .collect()
    };
    assert!(
        !case_records.is_empty(),
        "no court case in the sample makes a single paper"
    );
    let single_paper = |item: usize| {
        let records = &case_records[item % case_records.len()];
        let started = Instant::now();
        let paper =
            clearance::single_paper(&renderer, &office, records, clearance::SinglePaper::Case)
                .expect("single paper");
        std::hint::black_box(paper);
        started.elapsed()
    };
    // Plain threads, as the service once did; the threads of one rayon pool; each thread a
    // one-thread rayon pool of its own, as the service does now (typst's, krilla's and lopdf's
    // own parallel parts then stay on the paper's thread).
    for threads in [1usize, 2] {
        for place in [Threads::Plain, Threads::SharedPool, Threads::OwnPools] {
            if threads == 1 && place == Threads::OwnPools {
                continue; // the same as one shared pool of one thread
            }
            let per_thread = single_documents / threads;
            let (latencies, wall) = place.latencies(threads, per_thread, single_paper);
            println!(
                "single papers as the service renders them, {threads} {}: p50 {:.1} ms, p99 {:.1} ms, {:.0} papers/s",
                place.label(),
                support::percentile(&latencies, 0.5).as_secs_f64() * 1e3,
                support::percentile(&latencies, 0.99).as_secs_f64() * 1e3,
                latencies.len() as f64 / wall.as_secs_f64(),
            );
        }
    }

    // Letters, in chunks of 40 as `clearance run` renders them.
    let contacts_path = directory.join("render_contacts_300.csv");
    let _ = std::fs::remove_file(&contacts_path);
    let status = Command::new(BINARY)
        .args(["sample", "--people", "300", "--seed", "77", "-o"])
        .arg(directory.join("render_doj_300.csv"))
        .arg("--contacts")
        .arg(&contacts_path)
        .status()
        .expect("generate contacts");
    assert!(status.success());
    let contacts = clearance::config::load_contacts(
        &contacts_path,
        clearance::ingest::encoding::Encoding::Auto,
    )
    .expect("contacts");
    let letter_plans = clearance::plan::plan(&records, &contacts, true).letters;
    let (mut compile_time, mut export_time, mut pages) = (Duration::ZERO, Duration::ZERO, 0);
    for chunk in letter_plans.chunks(40) {
        let data = clearance::render::documents::letter_chunk(&renderer, &letterhead, chunk)
            .expect("letter data");
        let started = Instant::now();
        let compiled = renderer.compile("letter.typ", &data).expect("compile");
        compile_time += started.elapsed();
        pages += compiled.page_count();
        let started = Instant::now();
        let pdf = renderer
            .export(
                &compiled,
                "letter.typ",
                &PdfSettings {
                    ident: "letters".into(),
                    tagged: false,
                },
            )
            .expect("export");
        export_time += started.elapsed();
        std::hint::black_box(pdf);
    }
    println!(
        "letters in chunks of 40: {} letters, {pages} pages; compile {:.2} ms and export {:.2} ms per letter",
        letter_plans.len(),
        compile_time.as_secs_f64() * 1e3 / letter_plans.len() as f64,
        export_time.as_secs_f64() * 1e3 / letter_plans.len() as f64,
    );

    // The omnibus filing.
    let wanted_rows = environment_number("BENCH_EXHIBIT_ROWS", 10_000) as usize;
    let rows_per_part = environment_number("BENCH_ROWS_PER_PART", 600) as usize;
    let people = (wanted_rows as u64 * 200).div_ceil(282) + 50;
    let records = determinations(&directory, people);
    let mut plans = clearance::plan::plan(&records, &Contacts::default(), false);
    let mut remaining = wanted_rows;
    for (_, rows) in &mut plans.omnibus.sections {
        rows.truncate(remaining);
        remaining -= rows.len();
    }
    for redacted in [false, true] {
        // The filing is rendered in parts (see `documents::write_filing`): the motion, runs of
        // exhibit rows, the order; here one after the other, to time and size them.
        let started = Instant::now();
        let data = omnibus(&renderer, &letterhead, &plans.omnibus, redacted).expect("omnibus data");
        let runs = data.exhibit_runs(rows_per_part);
        let mut pages = 0;
        let mut bytes = 0;
        let mut parts: Vec<Vec<u8>> = vec![data.motion()];
        parts.extend(runs.iter().map(|run| data.exhibit(run)));
        parts.push(data.order());
        let mut slowest = Duration::ZERO;
        for part in &parts {
            let part_started = Instant::now();
            let (pdf, part_pages) = renderer
                .render(
                    "omnibus.typ",
                    part,
                    &PdfSettings {
                        ident: "filing".into(),
                        tagged: false,
                    },
                )
                .expect("render");
            slowest = slowest.max(part_started.elapsed());
            pages += part_pages;
            bytes += pdf.len();
        }
        println!(
            "omnibus filing ({}), {} exhibit rows in {} parts: {} pages, {:.1} MB rendered in {:.2} s on one thread (slowest part {:.2} s); peak RSS {:.0} MB",
            if redacted { "redacted" } else { "full" },
            plans.omnibus.row_count(),
            parts.len(),
            pages,
            bytes as f64 / 1e6,
            started.elapsed().as_secs_f64(),
            slowest.as_secs_f64(),
            peak_rss_mb()
        );
    }
}
