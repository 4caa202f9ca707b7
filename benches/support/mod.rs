//! What both benchmark binaries share: where their generated inputs live.

use std::path::{Path, PathBuf};
use std::process::Command;

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
