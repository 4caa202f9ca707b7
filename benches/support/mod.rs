//! What the benchmark binaries share: where their generated inputs live, how a child process
//! is measured, percentiles.

// Each bench binary includes this module and uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// A child process's wall time and peak memory.
pub(crate) struct Measurement {
    pub(crate) wall: Duration,
    pub(crate) peak_rss_kib: u64,
}

/// Runs a command to completion and measures it. Peak RSS comes from `wait4`'s rusage, which
/// covers exactly this child.
pub(crate) fn measure(command: &mut Command) -> Measurement {
    let started = Instant::now();
    let child = command.spawn().expect("start clearance");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: `usage` is a plain C struct that wait4 fills; the pid is our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let waited = unsafe { libc::wait4(pid, &raw mut status, 0, &raw mut usage) };
    let wall = started.elapsed();
    assert_eq!(waited, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "clearance failed: status {status}"
    );
    std::mem::forget(child);
    Measurement {
        wall,
        peak_rss_kib: usage.ru_maxrss as u64,
    }
}

/// Calls `work(item)` from `threads` threads at once, each thread taking `per_thread` items
/// in turn (items `thread * per_thread ..`), and returns the latencies `work` reports, sorted,
/// with the wall time of the whole.
pub(crate) fn latencies_from_threads(
    threads: usize,
    per_thread: usize,
    work: impl Fn(usize) -> Duration + Sync,
) -> (Vec<Duration>, Duration) {
    latencies_from_threads_within(threads, per_thread, work, |items| items())
}

/// As [`latencies_from_threads`], each thread running its items through `within` (to run them
/// on a pool of its own, say).
pub(crate) fn latencies_from_threads_within(
    threads: usize,
    per_thread: usize,
    work: impl Fn(usize) -> Duration + Sync,
    within: impl Fn(&(dyn Fn() -> Vec<Duration> + Sync)) -> Vec<Duration> + Sync,
) -> (Vec<Duration>, Duration) {
    let started = Instant::now();
    let mut latencies: Vec<Duration> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|thread| {
                let (work, within) = (&work, &within);
                scope.spawn(move || {
                    within(&|| {
                        (0..per_thread)
                            .map(|index| work(thread * per_thread + index))
                            .collect::<Vec<_>>()
                    })
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|handle| handle.join().expect("thread"))
            .collect()
    });
    let wall = started.elapsed();
    latencies.sort();
    (latencies, wall)
}

/// The value at `fraction` (0.5: the median) of sorted durations.
pub(crate) fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * fraction).round() as usize]
}

/// The folder for generated inputs and outputs: `BENCH_DIR`, or a folder under the system temp
/// dir named after the generator's output, so inputs kept from an earlier version of the
/// generator are never measured by mistake (a changed generator gives a new folder).
pub(crate) fn bench_directory(binary: &str) -> PathBuf {
    if let Some(directory) = std::env::var_os("BENCH_DIR") {
        let directory = PathBuf::from(directory);
        std::fs::create_dir_all(&directory).expect("bench folder");
        return directory;
    }
    let root = std::env::temp_dir().join("clearance-bench");
    std::fs::create_dir_all(&root).expect("bench folder");
    let directory = root.join(format!(
        "generator-{:016x}",
        generator_fingerprint(binary, &root)
    ));
    std::fs::create_dir_all(&directory).expect("bench folder");
    directory
}

/// `clearance SUBCOMMAND INPUT --county "SAN FRANCISCO" --as-of 2020-07-01 --out OUT`, stdout
/// silenced: the invocation every benchmark measures, to which it adds its own options.
pub(crate) fn clearance_on_sample(
    binary: &str,
    subcommand: &str,
    input: &Path,
    out: &Path,
) -> Command {
    let mut command = Command::new(binary);
    command
        .arg(subcommand)
        .arg(input)
        .args([
            "--county",
            "SAN FRANCISCO",
            "--as-of",
            "2020-07-01",
            "--out",
        ])
        .arg(out)
        .stdout(std::process::Stdio::null());
    command
}

/// A synthetic DOJ file of `people` people (seed 500), and their contacts when asked, unless
/// they are there already.
pub(crate) fn generate_people(binary: &str, people: u64, path: &Path, contacts: Option<&Path>) {
    if path.exists() && contacts.is_none_or(Path::exists) {
        return;
    }
    let mut command = Command::new(binary);
    command
        .args([
            "sample",
            "--people",
            &people.to_string(),
            "--seed",
            "500",
            "-o",
        ])
        .arg(path);
    if let Some(contacts) = contacts {
        command.arg("--contacts").arg(contacts);
    }
    let status = command.status().expect("generate sample");
    assert!(status.success());
}

/// A hash of what the generator writes for a small fixed sample.
fn generator_fingerprint(binary: &str, root: &Path) -> u64 {
    let probe = root.join(format!("fingerprint-{}.csv", std::process::id()));
    let status = Command::new(binary)
        .args(["sample", "--people", "40", "--seed", "500", "-o"])
        .arg(&probe)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("generate the fingerprint sample");
    assert!(status.success(), "clearance sample failed");
    let bytes = std::fs::read(&probe).expect("fingerprint sample");
    let _ = std::fs::remove_file(&probe);
    let digest = <sha2::Sha256 as sha2::Digest>::digest(&bytes);
    digest[..8]
        .iter()
        .fold(0, |fingerprint, byte| fingerprint << 8 | u64::from(*byte))
}
