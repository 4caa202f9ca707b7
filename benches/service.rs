//! Service benchmark: `cargo bench --bench service`.
//!
//! Starts the real `clearance serve` on a loopback port and measures, printing numbers and
//! asserting none (targets live in the issue notes, not in tests):
//!
//! - **single documents**: `POST /v1/documents/case` latency (p50, p99, max) and throughput at
//!   1, 8 and 32 concurrent clients, each request a real court case's determinations from a
//!   synthetic DOJ file, each on its own connection;
//! - **a batch through the service against `clearance run`**: the same synthetic file of
//!   `BENCH_DOCUMENT_PEOPLE` people (default 7,100: about 10,000 court cases with relief, the
//!   pipeline benchmark's input) with contacts, uploaded as a multipart form and waited for
//!   (from the first byte of the upload to the batch seen succeeded), against `clearance run`
//!   on the same files; runs alternate so that both see the same machine; peak memory of both.
//!
//! Environment: `BENCH_RUNS` (default 3), `BENCH_DOCUMENT_PEOPLE`, `BENCH_DIR` (see the pipeline
//! benchmark), `BENCH_ONLY=documents` or `BENCH_ONLY=batch` runs one part, `BENCH_SERVER` another
//! build of `clearance` to serve (to compare two versions side by side).

mod support;

#[path = "../tests/integration/http.rs"]
mod http;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_clearance");
const TOKEN: &str = "bench-token";

fn office() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("samples/office.toml")
}

/// A running `clearance serve`, killed when dropped.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(data: &Path) -> Server {
        // BENCH_SERVER: another build of clearance to serve, to compare two versions on the
        // same machine minutes apart.
        let binary =
            std::env::var_os("BENCH_SERVER").map_or_else(|| PathBuf::from(BINARY), PathBuf::from);
        let mut child = Command::new(binary)
            .args(["serve", "--addr", "127.0.0.1:0", "--max-upload-mb", "2048"])
            .arg("--data")
            .arg(data)
            .arg("--office")
            .arg(office())
            .env("CLEARANCE_TOKEN", TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve starts");
        let addr = http::listening_address(&mut child);
        Server { child, addr }
    }

    /// The server's peak resident memory so far, in MB (`VmHWM`).
    fn peak_memory_mb(&self) -> f64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmHWM:"))
            .and_then(|value| {
                value
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .map_or(0.0, |kib| kib / 1024.0)
    }

    fn get_json(&self, path: &str) -> serde_json::Value {
        let reply = http::request_to(&self.addr, "GET", path, &[authorization()], b"");
        assert_eq!(reply.status, 200, "{path}");
        reply.json()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn authorization() -> (&'static str, &'static str) {
    ("Authorization", "Bearer bench-token")
}

/// Request bodies for `POST /v1/documents/case`: the determinations of each court case with
/// relief in a synthetic file, one case per body.
fn case_bodies(directory: &Path) -> Vec<Vec<u8>> {
    let input = directory.join("service_doj_people_300.csv");
    support::generate_people(BINARY, 300, &input, None);
    let out = directory.join("service_check");
    let _ = std::fs::remove_dir_all(&out);
    let status = support::clearance_on_sample(BINARY, "check", &input, &out)
        .status()
        .expect("check");
    assert!(status.success());
    let records: Vec<serde_json::Value> = serde_json::from_slice(
        &std::fs::read(out.join("results/determinations.json")).expect("determinations"),
    )
    .expect("determinations.json: an array of records");
    let mut cases: std::collections::BTreeMap<String, Vec<serde_json::Value>> =
        std::collections::BTreeMap::new();
    for record in records {
        let Some(case) = record["case_numbers"]
            .as_array()
            .and_then(|numbers| numbers.first())
            .and_then(serde_json::Value::as_str)
        else {
            continue;
        };
        let key = format!("{}|{case}", record["subject_id"]);
        cases.entry(key).or_default().push(record);
    }
    let bodies: Vec<Vec<u8>> = cases
        .into_values()
        .filter(|records| {
            records.iter().any(|record| {
                matches!(
                    record["outcome"].as_str(),
                    Some("dismiss_and_seal" | "redesignate_misdemeanor" | "redesignate_infraction")
                )
            })
        })
        .map(|records| serde_json::to_vec(&records).expect("JSON"))
        .collect();
    let _ = std::fs::remove_dir_all(&out);
    assert!(!bodies.is_empty(), "no case with relief in the sample");
    bodies
}

fn bench_documents(directory: &Path) {
    let bodies = case_bodies(directory);
    let data = directory.join("service_documents_data");
    let _ = std::fs::remove_dir_all(&data);
    let server = Server::start(&data);
    let post = |body: &[u8]| {
        let started = Instant::now();
        let reply = http::request_to(
            &server.addr,
            "POST",
            "/v1/documents/case",
            &[authorization(), ("Content-Type", "application/json")],
            body,
        );
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        assert!(reply.body.starts_with(b"%PDF"));
        started.elapsed()
    };
    // Warm up: fonts and templates loaded, pages of the allocator touched.
    for body in bodies.iter().cycle().take(8) {
        post(body);
    }
    println!(
        "single documents: POST /v1/documents/case, {} distinct court cases",
        bodies.len()
    );
    for clients in [1usize, 8, 32] {
        let per_client = (400 / clients).max(10);
        let (latencies, wall) = support::latencies_from_threads(clients, per_client, |request| {
            post(&bodies[request % bodies.len()])
        });
        println!(
            "  {clients:>2} client(s): {:>4} requests  p50 {:>6.1} ms  p99 {:>6.1} ms  max {:>6.1} ms  {:>5.1} documents/s",
            latencies.len(),
            support::percentile(&latencies, 0.50).as_secs_f64() * 1000.0,
            support::percentile(&latencies, 0.99).as_secs_f64() * 1000.0,
            latencies.last().expect("requests").as_secs_f64() * 1000.0,
            latencies.len() as f64 / wall.as_secs_f64()
        );
    }
    println!("  server peak memory {:.1} MB", server.peak_memory_mb());
    drop(server);
    let _ = std::fs::remove_dir_all(&data);
}

/// Uploads a batch as a browser would (multipart), streaming the files from disk, and returns
/// the batch id.
fn upload(server: &Server, doj: &Path, contacts: &Path) -> String {
    let boundary = "clearance-bench-boundary-7c1e";
    let file_head = |name: &str, file: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\nContent-Type: text/csv\r\n\r\n"
        )
    };
    let field = |name: &str, value: &str| {
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        )
    };
    let fields = format!(
        "{}{}",
        field("county", "SAN FRANCISCO"),
        field("as_of", "2020-07-01")
    );
    let (doj_head, contacts_head) = (
        file_head("doj", "doj.csv"),
        file_head("contacts", "contacts.csv"),
    );
    let tail = format!("--{boundary}--\r\n");
    let size = |path: &Path| std::fs::metadata(path).expect("input").len();
    let length = fields.len() as u64
        + doj_head.len() as u64
        + size(doj)
        + 2
        + contacts_head.len() as u64
        + size(contacts)
        + 2
        + tail.len() as u64;
    let mut stream = std::net::TcpStream::connect(&server.addr).expect("connect");
    write!(
        stream,
        "POST /v1/batches HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\r\n{fields}{doj_head}",
        server.addr
    )
    .expect("upload");
    std::io::copy(&mut std::fs::File::open(doj).expect("doj"), &mut stream).expect("upload");
    write!(stream, "\r\n{contacts_head}").expect("upload");
    std::io::copy(
        &mut std::fs::File::open(contacts).expect("contacts"),
        &mut stream,
    )
    .expect("upload");
    write!(stream, "\r\n{tail}").expect("upload");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("reply");
    let reply = String::from_utf8_lossy(&reply);
    assert!(reply.starts_with("HTTP/1.1 202"), "{reply}");
    let body = &reply[reply.find("\r\n\r\n").expect("body") + 4..];
    let view: serde_json::Value = serde_json::from_str(body).expect("JSON");
    view["id"].as_str().expect("id").to_string()
}

fn bench_batch(directory: &Path, runs: usize) {
    let people = std::env::var("BENCH_DOCUMENT_PEOPLE")
        .ok()
        .and_then(|value| value.parse::<u64>().ok())
        .unwrap_or(7_100);
    let input = directory.join(format!("doj_people_{people}.csv"));
    let contacts = directory.join(format!("contacts_people_{people}.csv"));
    support::generate_people(BINARY, people, &input, Some(&contacts));
    let (mut run_walls, mut served_walls) = (Vec::new(), Vec::new());
    let (mut run_memory, mut served_memory) = (0.0f64, 0.0f64);
    for run in 1..=runs {
        // `clearance run`, exactly as the pipeline benchmark runs it.
        let out = directory.join(format!("service_run_out_{run}"));
        let _ = std::fs::remove_dir_all(&out);
        let mut command = support::clearance_on_sample(BINARY, "run", &input, &out);
        command
            .arg("--contacts")
            .arg(&contacts)
            .arg("--office")
            .arg(office())
            .stderr(Stdio::null());
        let measured = support::measure(&mut command);
        run_walls.push(measured.wall);
        run_memory = run_memory.max(measured.peak_rss_kib as f64 / 1024.0);

        // The same files through the service, into a fresh data folder.
        let data = directory.join(format!("service_batch_data_{run}"));
        let _ = std::fs::remove_dir_all(&data);
        let server = Server::start(&data);
        let started = Instant::now();
        let id = upload(&server, &input, &contacts);
        let accepted = started.elapsed();
        let batch = loop {
            let batch = server.get_json(&format!("/v1/batches/{id}"));
            if batch["state"] != "queued" && batch["state"] != "running" {
                break batch;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let wall = started.elapsed();
        assert_eq!(batch["state"], "succeeded", "{batch}");
        served_walls.push(wall);
        served_memory = served_memory.max(server.peak_memory_mb());
        println!(
            "  run {run}: clearance run {:.1} s; service {:.1} s (upload and row check {:.1} s)",
            run_walls[run - 1].as_secs_f64(),
            wall.as_secs_f64(),
            accepted.as_secs_f64()
        );
        drop(server);
        // Same outputs (the service names its input input/doj-1.csv; the manifest differs in
        // that name only): compare the case folder's file count as a sanity check.
        let count = |folder: &Path| std::fs::read_dir(folder).map_or(0, Iterator::count);
        assert_eq!(
            count(&out.join("cases")),
            count(&data.join(format!("jobs/{id}/out/cases"))),
            "the service made the same papers"
        );
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_dir_all(&data);
    }
    // Runs alternate, so each pair saw the same machine: the overhead is taken over the pairs
    // (total service time against total `run` time), which the VM's drift affects least.
    let total = |walls: &[Duration]| walls.iter().map(Duration::as_secs_f64).sum::<f64>();
    let overhead = (total(&served_walls) / total(&run_walls) - 1.0) * 100.0;
    run_walls.sort();
    served_walls.sort();
    let median = |walls: &[Duration]| walls[walls.len() / 2].as_secs_f64();
    println!(
        "batch of {people} people ({} MB DOJ file) with contacts and letters, {runs} pair(s):\n  \
         clearance run  median {:>6.1} s  min {:>6.1} s  peak memory {run_memory:>6.1} MB\n  \
         service        median {:>6.1} s  min {:>6.1} s  peak memory {served_memory:>6.1} MB\n  \
         overhead over the pairs {overhead:+.1}%",
        std::fs::metadata(&input).map_or(0, |metadata| metadata.len()) / 1_000_000,
        median(&run_walls),
        run_walls[0].as_secs_f64(),
        median(&served_walls),
        served_walls[0].as_secs_f64(),
    );
}

fn main() {
    if std::env::args().any(|argument| argument == "--list") {
        return;
    }
    let runs = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|value| value.parse::<usize>().ok())
        .unwrap_or(3)
        .max(1);
    let directory = support::bench_directory(BINARY);
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only != "batch" {
        bench_documents(&directory);
    }
    if only != "documents" {
        bench_batch(&directory, runs);
    }
}
