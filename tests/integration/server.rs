//! `clearance serve` as a client sees it: the real binary on an ephemeral loopback port, driven
//! over HTTP/1.1 with a small client written here (no HTTP library between the test and the
//! bytes on the wire).

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::http::{Reply, listening_address, multipart, request_to};
use crate::support::{Workspace, sample_office};

const TOKEN: &str = "test-token-7f3a";

/// A running server, killed when dropped.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(workspace: &Workspace, extra: &[&str]) -> Server {
    start_with(workspace, extra, Some(TOKEN))
}

pub(crate) fn start_with(workspace: &Workspace, extra: &[&str], token: Option<&str>) -> Server {
    let mut command = std::process::Command::new(assert_cmd::cargo::cargo_bin("clearance"));
    command
        .current_dir(workspace.path(""))
        .args(["serve", "--addr", "127.0.0.1:0", "--data", "data"])
        .args(["--office", &sample_office()])
        .args(extra)
        .env_remove("CLEARANCE_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(token) = token {
        command.env("CLEARANCE_TOKEN", token);
    }
    let mut child = command.spawn().expect("serve starts");
    let addr = listening_address(&mut child);
    Server { child, addr }
}

/// One request to the server.
fn request(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    request_to(&server.addr, method, path, headers, body)
}

const AUTH: (&str, &str) = ("Authorization", "Bearer test-token-7f3a");

/// A synthetic DOJ file of `people` people, written as `doj.csv` in the workspace.
fn sample_doj(workspace: &Workspace, people: u32, seed: u32) -> Vec<u8> {
    workspace
        .clearance()
        .args([
            "sample",
            "--people",
            &people.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .args(["-o", "doj.csv"])
        .assert()
        .success();
    std::fs::read(workspace.path("doj.csv")).expect("sample")
}

/// A GET with the token.
fn get(server: &Server, path: &str) -> Reply {
    request(server, "GET", path, &[AUTH], b"")
}

/// A multipart form posted with the token (and `headers`).
fn post_form(
    server: &Server,
    path: &str,
    parts: &[(&str, Option<&str>, &[u8])],
    headers: &[(&str, &str)],
) -> Reply {
    let (content_type, body) = multipart(parts);
    let mut all = vec![AUTH, ("Content-Type", content_type.as_str())];
    all.extend_from_slice(headers);
    request(server, "POST", path, &all, &body)
}

/// The form most tests send: one DOJ file, San Francisco, as of July 1, 2020.
fn usual_form(doj: &[u8]) -> Vec<(&str, Option<&str>, &[u8])> {
    vec![
        ("doj", Some("doj.csv"), doj),
        ("county", None, b"SAN FRANCISCO"),
        ("as_of", None, b"2020-07-01"),
    ]
}

fn submit(server: &Server, doj: &[u8], county: &str) -> Reply {
    post_form(
        server,
        "/v1/batches",
        &[
            // A hostile uploaded file name: never used for a file on disk.
            ("doj", Some("../../etc/passwd"), doj),
            ("county", None, county.as_bytes()),
            ("as_of", None, b"2020-07-01"),
        ],
        &[],
    )
}

/// A deleted batch: no file of it left, and the API no longer knows it.
fn assert_batch_gone(server: &Server, workspace: &Workspace, id: &str) {
    assert!(!workspace.path(&format!("data/jobs/{id}")).exists());
    assert_eq!(get(server, &format!("/v1/batches/{id}")).status, 404);
}

/// No job folder at all: nothing kept of a refused batch, uploads included.
fn assert_nothing_kept(workspace: &Workspace) {
    let kept: Vec<_> = std::fs::read_dir(workspace.path("data/jobs"))
        .expect("jobs folder")
        .collect();
    assert!(kept.is_empty(), "nothing kept of a refused batch");
}

fn wait_for(server: &Server, id: &str, done: &[&str]) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_mins(5);
    loop {
        let reply = get(server, &format!("/v1/batches/{id}"));
        assert_eq!(
            reply.status,
            200,
            "{}",
            String::from_utf8_lossy(&reply.body)
        );
        let batch = reply.json();
        if done.contains(&batch["state"].as_str().unwrap_or_default()) {
            return batch;
        }
        assert!(Instant::now() < deadline, "batch never finished: {batch}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The (name, data) of each entry of a stored (uncompressed) zip, in order, checked against the
/// central directory's count.
fn zip_entries(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    let u32_at = |at: usize| {
        u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
    };
    let mut entries = Vec::new();
    let mut at = 0;
    while u32_at(at) == 0x0403_4b50 {
        assert_eq!(u16_at(at + 8), 0, "stored");
        let size = u32_at(at + 18);
        let name_length = u16_at(at + 26);
        let extra = u16_at(at + 28);
        let name = String::from_utf8(bytes[at + 30..at + 30 + name_length].to_vec()).expect("name");
        let start = at + 30 + name_length + extra;
        let data = bytes[start..start + size].to_vec();
        assert_eq!(
            crc32fast::hash(&data) as usize,
            u32_at(at + 14),
            "{name} CRC"
        );
        entries.push((name, data));
        at = start + size;
    }
    let end = bytes.len() - 22;
    assert_eq!(u32_at(end), 0x0605_4b50, "end of central directory");
    assert_eq!(
        u16_at(end + 10),
        entries.len(),
        "entries in the central directory"
    );
    entries
}

fn files(root: &std::path::Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("folder") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else {
                found.push(
                    path.strip_prefix(root)
                        .expect("under root")
                        .display()
                        .to_string(),
                );
            }
        }
    }
    found.sort();
    found
}

/// The whole batch flow: accepted with 202, run, every output byte-identical to `clearance run`
/// on the same input; bad input 422, no token 401, path escapes 404, deletion removes
/// everything, and the OpenAPI document describes the routes.
#[test]
fn a_batch_through_the_service_matches_clearance_run_byte_for_byte() {
    let workspace = Workspace::new();
    let doj = sample_doj(&workspace, 12, 3);
    let server = start(&workspace, &["--max-upload-mb", "1"]);

    assert_eq!(request(&server, "GET", "/healthz", &[], b"").status, 200);
    let refused = request(&server, "GET", "/v1/batches", &[], b"");
    assert_eq!(refused.status, 401, "no token");
    assert!(
        refused.headers.contains("application/problem+json"),
        "{}",
        refused.headers
    );

    let bad = submit(&server, &doj, "GOTHAM");
    assert_eq!(bad.status, 422);
    assert!(
        bad.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("GOTHAM"),
        "{}",
        bad.json()
    );
    let too_large = submit(&server, &vec![b'x'; 1_200_000], "SAN FRANCISCO");
    assert_eq!(too_large.status, 413);

    let accepted = submit(&server, &doj, "SAN FRANCISCO");
    assert_eq!(
        accepted.status,
        202,
        "{}",
        String::from_utf8_lossy(&accepted.body)
    );
    let id = accepted.json()["id"].as_str().expect("id").to_string();
    let batch = wait_for(&server, &id, &["succeeded", "failed"]);
    assert_eq!(batch["state"], "succeeded", "{batch}");
    // A finished batch shows its summary's numbers.
    let summary: serde_json::Value = serde_json::from_slice(
        &std::fs::read(workspace.path(&format!("data/jobs/{id}/out/summary.json")))
            .expect("summary"),
    )
    .expect("JSON");
    assert_eq!(batch["summary"], summary["statistics"], "{batch}");
    assert!(
        batch["summary"]["people"].as_u64().unwrap_or(0) > 0,
        "{batch}"
    );

    // The same input through the command line, run beside the stored upload so that it names
    // the input as the service does (`input/doj-1.csv`, never the server's folders).
    let job_folder = workspace.path(&format!("data/jobs/{id}"));
    assert_eq!(
        std::fs::read(job_folder.join("input/doj-1.csv")).expect("stored upload"),
        doj
    );
    workspace
        .clearance()
        .current_dir(&job_folder)
        .args(["run", "input/doj-1.csv"])
        .args(["--county", "SAN FRANCISCO", "--as-of", "2020-07-01"])
        .args(["--office", &sample_office(), "--out"])
        .arg(workspace.path("cli"))
        .assert()
        .success();
    let manifest = std::fs::read_to_string(job_folder.join("out/manifest.json")).expect("manifest");
    assert!(manifest.contains("\"input/doj-1.csv\""), "{manifest}");
    assert!(!manifest.contains("data/jobs"), "{manifest}");
    let served = workspace.path(&format!("data/jobs/{id}/out"));
    let cli = workspace.path("cli");
    assert_eq!(files(&served), files(&cli));
    for file in files(&cli) {
        let (served_bytes, cli_bytes) = (
            std::fs::read(served.join(&file)).expect("served"),
            std::fs::read(cli.join(&file)).expect("cli"),
        );
        assert!(
            served_bytes == cli_bytes,
            "{file} differs:\n{}\n---\n{}",
            String::from_utf8_lossy(&served_bytes)
                .chars()
                .take(1500)
                .collect::<String>(),
            String::from_utf8_lossy(&cli_bytes)
                .chars()
                .take(1500)
                .collect::<String>()
        );
    }

    // The whole output as one zip: every file, byte for byte, read back entry by entry.
    let archive = get(&server, &format!("/v1/batches/{id}/archive.zip"));
    assert_eq!(archive.status, 200);
    assert!(
        archive.headers.contains("application/zip"),
        "{}",
        archive.headers
    );
    let entries = zip_entries(&archive.body);
    assert_eq!(
        entries
            .iter()
            .map(|(name, _)| name.clone())
            .collect::<Vec<_>>(),
        files(&cli)
    );
    for (name, data) in &entries {
        assert!(
            *data == std::fs::read(cli.join(name)).expect("cli file"),
            "{name} in the zip"
        );
    }

    // Files come back with their type and by range; nothing outside the job's output does.
    let filing = get(
        &server,
        &format!("/v1/batches/{id}/files/bundles/filing-redacted.pdf"),
    );
    assert_eq!(filing.status, 200);
    assert!(
        filing.headers.contains("application/pdf"),
        "{}",
        filing.headers
    );
    assert_eq!(
        filing.body,
        std::fs::read(cli.join("bundles/filing-redacted.pdf")).expect("cli")
    );
    let range = request(
        &server,
        "GET",
        &format!("/v1/batches/{id}/files/summary.json"),
        &[AUTH, ("Range", "bytes=0-9")],
        b"",
    );
    assert_eq!(range.status, 206);
    assert_eq!(range.body.len(), 10);
    for escape in [
        "../input/doj-1.csv",
        "%2e%2e/input/doj-1.csv",
        "..%2finput%2fdoj-1.csv",
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
        ".lock",
    ] {
        let reply = get(&server, &format!("/v1/batches/{id}/files/{escape}"));
        assert_eq!(reply.status, 404, "{escape}");
    }

    // Progress as Server-Sent Events: a second batch, watched from its start to its end.
    let second = submit(&server, &doj, "SAN FRANCISCO");
    assert_eq!(second.status, 202);
    let second = second.json()["id"].as_str().expect("id").to_string();
    let events = get(&server, &format!("/v1/batches/{second}/events"));
    assert_eq!(events.status, 200);
    assert!(
        events.headers.contains("text/event-stream"),
        "{}",
        events.headers
    );
    let events = String::from_utf8_lossy(&events.body).to_string();
    assert!(events.contains("event: progress"), "{events}");
    assert!(
        events.trim_end().ends_with('}')
            && events.contains("event: state")
            && events.contains("\"state\":\"succeeded\""),
        "{events}"
    );
    let metrics = get(&server, "/metrics");
    let metrics = String::from_utf8_lossy(&metrics.body).to_string();
    assert!(
        metrics.contains("clearance_batches{state=\"succeeded\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("clearance_queue_depth 0"), "{metrics}");

    // A small file checked synchronously: the determinations `clearance run` wrote.
    let checked = post_form(&server, "/v1/check", &usual_form(&doj), &[]);
    assert_eq!(
        checked.status,
        200,
        "{}",
        String::from_utf8_lossy(&checked.body)
    );
    let from_run: serde_json::Value = serde_json::from_slice(
        &std::fs::read(cli.join("results/determinations.json")).expect("cli determinations"),
    )
    .expect("JSON");
    let records = |value: &serde_json::Value| -> Vec<(String, String, String)> {
        value
            .as_array()
            .expect("determinations")
            .iter()
            .map(|record| {
                (
                    record["count_key"].to_string(),
                    record["outcome"].to_string(),
                    record["rule_id"].to_string(),
                )
            })
            .collect()
    };
    assert_eq!(records(&checked.json()), records(&from_run));

    let openapi = get(&server, "/openapi.json").json();
    for path in [
        "/v1/batches",
        "/v1/batches/{id}",
        "/v1/batches/{id}/files/{path}",
        "/healthz",
    ] {
        assert!(openapi["paths"].get(path).is_some(), "{path} in {openapi}");
    }
    // A fuzzer generates bodies from these schemas: the single-paper body is the records'
    // own schema (every field `run` writes, and nothing else required), never an empty list;
    // a batch needs at least one DOJ file.
    let schemas = &openapi["components"]["schemas"];
    assert_eq!(schemas["CaseDeterminations"]["minItems"], 1);
    assert_eq!(schemas["BatchForm"]["properties"]["doj"]["minItems"], 1);
    let record = &schemas["DeterminationRecord"];
    let written = from_run[0].as_object().expect("a record");
    for key in written.keys() {
        assert!(record["properties"].get(key).is_some(), "{key}: {record}");
    }
    for key in record["required"].as_array().expect("required fields") {
        assert!(written.contains_key(key.as_str().expect("a name")), "{key}");
    }
    assert_eq!(
        record["properties"]["outcome"]["pattern"],
        "^(dismiss_and_seal|redesignate_misdemeanor|redesignate_infraction|not_eligible|needs_review)$"
    );
    let page = get(&server, "/");
    assert_eq!(page.status, 200);
    assert!(
        String::from_utf8_lossy(&page.body).contains("<form method=\"post\" action=\"/batches\"")
    );
    assert!(
        page.headers.contains("content-security-policy"),
        "{}",
        page.headers
    );

    // The batch page: the summary as HTML, and the determinations table, review first,
    // filtered on the server; every value escaped.
    let page = get(&server, &format!("/batches/{id}"));
    let page = String::from_utf8_lossy(&page.body).to_string();
    assert!(
        page.contains("<h2>Summary</h2>") && page.contains("Dismiss and seal"),
        "{page}"
    );
    // Dated on the challenge deadline, but no count is left in review: nothing to warn of.
    assert!(!page.contains("Before filing"), "{page}");
    // The summary report's chart by section and its impact table, as HTML: each section's
    // numbers in cells, linked to its determinations.
    let summary = get(&server, &format!("/v1/batches/{id}/files/summary.json")).json();
    let hs_11357 = &summary["statistics"]["by_section"]["HS 11357"];
    let mut cells = String::new();
    for outcome in [
        "dismiss_and_seal",
        "redesignate_misdemeanor",
        "redesignate_infraction",
        "not_eligible",
        "needs_review",
    ] {
        let count = hs_11357[outcome].as_u64().unwrap_or(0);
        cells += "<td>";
        cells += &count.to_string();
        cells += "</td>";
    }
    assert!(
        page.contains("<h3>Decisions by section</h3>")
            && page.contains(&format!(
                "<a href=\"/batches/{id}/determinations?section=HS%2011357\">HS 11357</a></td>{cells}"
            ))
            && page.contains("<h3>Impact on people</h3>")
            && page.contains(&format!(
                "People left with no felony conviction</td><td>{}</td>",
                summary["statistics"]["impact"]["people_left_with_no_felony"]
            )),
        "{page}"
    );
    assert!(
        page.contains(&format!("/v1/batches/{id}/archive.zip")),
        "{page}"
    );
    let determinations: Vec<serde_json::Value> = serde_json::from_slice(
        &std::fs::read(cli.join("results/determinations.json")).expect("cli determinations"),
    )
    .expect("JSON");
    let not_eligible = determinations
        .iter()
        .filter(|record| record["outcome"] == "not_eligible")
        .count();
    let table = get(
        &server,
        &format!("/batches/{id}/determinations?outcome=not_eligible&case=%3Cscript%3E"),
    );
    let table = String::from_utf8_lossy(&table.body).to_string();
    assert!(
        table.contains("0 counts"),
        "no case number matches: {table}"
    );
    assert!(
        table.contains("&lt;script&gt;") && !table.contains("<script>"),
        "{table}"
    );
    let table = get(
        &server,
        &format!("/batches/{id}/determinations?outcome=not_eligible"),
    );
    let table = String::from_utf8_lossy(&table.body).to_string();
    assert!(table.contains(&format!("{not_eligible} counts")), "{table}");
    assert_eq!(
        table.matches("<td>not_eligible</td>").count(),
        not_eligible.min(100),
        "{table}"
    );

    // One paper now: a court case's determinations in, its motion and order out, the same
    // bytes `clearance run` wrote for that case.
    let case = determinations
        .iter()
        .find(|record| record["outcome"] == "dismiss_and_seal")
        .expect("a dismissal")["case_numbers"]
        .clone();
    let subject = determinations
        .iter()
        .find(|record| record["case_numbers"] == case)
        .expect("the case")["subject_id"]
        .clone();
    let one_case: Vec<&serde_json::Value> = determinations
        .iter()
        .filter(|record| record["case_numbers"] == case && record["subject_id"] == subject)
        .collect();
    let body = serde_json::to_vec(&one_case).expect("JSON");
    let paper = request(
        &server,
        "POST",
        "/v1/documents/case",
        &[AUTH, ("Content-Type", "application/json")],
        &body,
    );
    assert_eq!(
        paper.status,
        200,
        "{}",
        String::from_utf8_lossy(&paper.body)
    );
    assert!(
        paper.headers.contains("application/pdf"),
        "{}",
        paper.headers
    );
    // Rendered alone, its fonts are subset for it alone: the same paper (text, pages), not the
    // same bytes as the batch's, which shares its fonts with the other cases of its chunk.
    let stem = case[0].as_str().expect("case number");
    workspace.write("single.pdf", &paper.body);
    let single = workspace.pdf("single.pdf");
    single.assert_court_ready();
    let batch_paper = workspace.pdf(&format!("cli/cases/{stem}.pdf"));
    assert_eq!(single.page_count(), batch_paper.page_count());
    assert_eq!(single.body_text(), batch_paper.body_text());
    let everything = serde_json::to_vec(&determinations).expect("JSON");
    let refused = request(
        &server,
        "POST",
        "/v1/documents/case",
        &[AUTH, ("Content-Type", "application/json")],
        &everything,
    );
    assert_eq!(refused.status, 422, "several cases are refused");
    assert_eq!(
        request(
            &server,
            "POST",
            "/v1/documents/brief",
            &[AUTH, ("Content-Type", "application/json")],
            b"[]"
        )
        .status,
        404
    );

    // Deleting removes the job and every file of it, uploads included.
    assert_eq!(
        request(
            &server,
            "DELETE",
            &format!("/v1/batches/{id}"),
            &[AUTH],
            b""
        )
        .status,
        204
    );
    assert_batch_gone(&server, &workspace, &id);
}

/// The page's form with a 48 MB DOJ file, as a browser sends it: the whole body, then the
/// answer. A server that answers before reading it all makes this write fail with a reset
/// connection, where a browser would show no page at all.
fn post_large_page_form(server: &Server) -> Reply {
    let large = vec![b'x'; 48 << 20];
    post_form(
        server,
        "/batches",
        &usual_form(&large),
        &[("Sec-Fetch-Site", "same-origin")],
    )
}

/// A full queue refuses new batches with 429 and Retry-After (and keeps no file of them).
#[test]
fn a_full_queue_answers_429() {
    let workspace = Workspace::new();
    let server = start(&workspace, &["--max-queued", "0"]);
    let reply = submit(&server, b"not even read", "SAN FRANCISCO");
    assert_eq!(
        reply.status,
        429,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(
        reply
            .headers
            .to_ascii_lowercase()
            .contains("retry-after: 60"),
        "{}",
        reply.headers
    );
    // The page's form, refused the same way while the browser is still sending a large file.
    let page = post_large_page_form(&server);
    assert_eq!(page.status, 429);
    assert!(
        String::from_utf8_lossy(&page.body).contains("too many batches are waiting"),
        "{}",
        String::from_utf8_lossy(&page.body)
    );
    assert_nothing_kept(&workspace);
}

/// An upload over `--max-upload-mb` is refused with 413: on the API a problem document; on the
/// page, which reads the rest of the upload first, a page that says so (this write of 48 MB
/// fails with a reset connection if the server stops reading at the limit).
#[test]
fn a_too_large_upload_gets_the_refusal_page_not_a_reset() {
    let workspace = Workspace::new();
    let server = start(&workspace, &["--max-upload-mb", "1"]);
    let page = post_large_page_form(&server);
    assert_eq!(page.status, 413);
    let text = String::from_utf8_lossy(&page.body);
    assert!(
        text.contains("Not accepted: the upload is too large")
            && text.contains("larger than 1 MB (--max-upload-mb)"),
        "{text}"
    );
    let api = submit(&server, &vec![b'x'; 1_200_000], "SAN FRANCISCO");
    assert_eq!(api.status, 413);
    assert!(
        api.headers.contains("application/problem+json"),
        "{}",
        api.headers
    );
    assert_nothing_kept(&workspace);
}

/// `clearance serve` with `arguments` (no token in the environment), expected to refuse to
/// start: its error output.
fn serve_refusal(workspace: &Workspace, arguments: &[&str]) -> String {
    let output = workspace
        .clearance()
        .args(["serve", "--data", "data"])
        .args(arguments)
        .env_remove("CLEARANCE_TOKEN")
        .output()
        .expect("serve runs");
    assert!(!output.status.success());
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Off loopback the service refuses to start without a token.
#[test]
fn serve_refuses_a_public_address_without_a_token() {
    let workspace = Workspace::new();
    let stderr = serve_refusal(&workspace, &["--addr", "0.0.0.0:0"]);
    assert!(stderr.contains("not a loopback address"), "{stderr}");
}

/// No paper threads is no service: refused before anything starts.
#[test]
fn serve_refuses_zero_paper_threads() {
    let workspace = Workspace::new();
    let stderr = serve_refusal(
        &workspace,
        &["--addr", "127.0.0.1:0", "--paper-threads", "0"],
    );
    assert!(stderr.contains("--paper-threads"), "{stderr}");
    assert!(!workspace.path("data").exists(), "nothing created");
}

/// A batch interrupted by `kill -9` is run again, from scratch, when the service restarts.
#[test]
fn an_interrupted_batch_completes_after_a_restart() {
    let workspace = Workspace::new();
    let doj = sample_doj(&workspace, 400, 5);
    let server = start(&workspace, &[]);
    let accepted = submit(&server, &doj, "SAN FRANCISCO");
    assert_eq!(accepted.status, 202);
    let id = accepted.json()["id"].as_str().expect("id").to_string();
    let before = wait_for(&server, &id, &["running", "succeeded"]);
    assert_eq!(before["state"], "running", "killed while running: {before}");
    drop(server); // SIGKILL
    assert!(
        !workspace
            .path(&format!("data/jobs/{id}/out/manifest.json"))
            .exists(),
        "nothing committed before the kill"
    );
    // An upload the crash cut off: its folder has no job, and goes at the restart.
    let orphan = workspace.path("data/jobs/00000000000000000000000000000000/input");
    std::fs::create_dir_all(&orphan).expect("orphan folder");
    std::fs::write(orphan.join("doj-1.csv"), &doj).expect("orphan upload");
    let server = start(&workspace, &[]);
    assert!(
        !workspace
            .path("data/jobs/00000000000000000000000000000000")
            .exists(),
        "an upload no job owns is removed at start"
    );
    // One service per data folder.
    let second = workspace
        .clearance()
        .args(["serve", "--addr", "127.0.0.1:0", "--data", "data"])
        .timeout(Duration::from_secs(20))
        .output()
        .expect("a second serve runs");
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("in use by another clearance serve"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    let batch = wait_for(&server, &id, &["succeeded", "failed"]);
    assert_eq!(batch["state"], "succeeded", "{batch}");
    assert!(
        workspace
            .path(&format!("data/jobs/{id}/out/manifest.json"))
            .exists()
    );
}

/// A client that goes away in the middle of an upload leaves nothing of it on disk.
#[test]
fn an_abandoned_upload_leaves_nothing_behind() {
    use std::io::Write as _;
    let workspace = Workspace::new();
    let server = start(&workspace, &[]);
    let boundary = "abandoned-boundary";
    let mut stream = std::net::TcpStream::connect(&server.addr).expect("connect");
    write!(
        stream,
        "POST /v1/batches HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: 10000000\r\n\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"doj\"; filename=\"doj.csv\"\r\n\r\n",
        server.addr
    )
    .expect("send the head");
    stream
        .write_all(&vec![b'x'; 200_000])
        .expect("send part of the file");
    stream.flush().expect("flush");
    // The upload has begun: its folder exists while the file arrives.
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(workspace.path("data/jobs")).map_or(0, Iterator::count) == 0 {
        assert!(Instant::now() < deadline, "the upload never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(stream);
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::fs::read_dir(workspace.path("data/jobs")).map_or(0, Iterator::count) > 0 {
        assert!(
            Instant::now() < deadline,
            "the abandoned upload's folder is still there"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(request(&server, "GET", "/healthz", &[], b"").status, 200);
}

/// Bad rows refuse a batch at upload with `422` and every located diagnostic (file as the
/// batch names it, line, field), nothing queued or kept; the form shows them as a page, and
/// `/v1/check` answers the same way.
#[test]
fn bad_rows_are_refused_at_upload_with_every_diagnostic() {
    let workspace = Workspace::new();
    let text = String::from_utf8(sample_doj(&workspace, 3, 8)).expect("UTF-8 sample");
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    // Line 3 loses its last column; line 5 gets a date that is not one.
    lines[2] = lines[2].rsplit_once(',').expect("columns").0.to_string();
    let fields = lines[4].split(',').count();
    assert!(fields > 90, "a DOJ row");
    lines[4] = lines[4].replacen(",20", ",2X", 1);
    let bad = format!("{}\n", lines.join("\n"));
    let server = start(&workspace, &[]);

    let reply = submit(&server, bad.as_bytes(), "SAN FRANCISCO");
    assert_eq!(
        reply.status,
        422,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
    assert!(reply.headers.contains("application/problem+json"));
    let problem = reply.json();
    let diagnostics = problem["diagnostics"].as_array().expect("diagnostics");
    let located: Vec<(String, u64)> = diagnostics
        .iter()
        .filter(|diagnostic| diagnostic["severity"] == "error")
        .map(|diagnostic| {
            (
                diagnostic["file"].as_str().expect("file").to_string(),
                diagnostic["line"].as_u64().expect("line"),
            )
        })
        .collect();
    assert!(
        located.contains(&("input/doj-1.csv".to_string(), 3)),
        "{problem}"
    );
    assert!(
        problem["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("bad row"),
        "{problem}"
    );
    assert_nothing_kept(&workspace);
    let listed = get(&server, "/v1/batches").json();
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");

    // The same upload through the page's form: an HTML page listing the rows.
    let form = usual_form(bad.as_bytes());
    let page = post_form(&server, "/batches", &form, &[]);
    assert_eq!(page.status, 422);
    assert!(
        page.headers
            .to_ascii_lowercase()
            .contains("content-type: text/html"),
        "{}",
        page.headers
    );
    let html = String::from_utf8_lossy(&page.body);
    assert!(
        html.contains("<td>input/doj-1.csv</td><td>3</td>"),
        "{html}"
    );
    assert!(html.contains("Back to the form"), "{html}");

    // `/v1/check` refuses the same rows the same way.
    let checked = post_form(&server, "/v1/check", &form, &[]);
    assert_eq!(checked.status, 422);
    let lines: Vec<u64> = checked.json()["diagnostics"]
        .as_array()
        .expect("diagnostics")
        .iter()
        .filter(|diagnostic| diagnostic["severity"] == "error")
        .filter_map(|diagnostic| diagnostic["line"].as_u64())
        .collect();
    assert!(lines.contains(&3), "{}", checked.json());
}

/// The page's whole flow without script: a shipped county policy chosen on the form, the batch
/// page linking every bundle, a case number linking its papers, and deletion only after a
/// confirmation, refused cross-site.
#[test]
fn the_page_runs_a_shipped_policy_and_deletes_after_confirmation() {
    let workspace = Workspace::new();
    let doj = sample_doj(&workspace, 12, 3);
    let server = start(&workspace, &[]);
    let posted = post_form(
        &server,
        "/batches",
        &[
            ("doj", Some("doj.csv"), &doj),
            ("county", None, b"SAN FRANCISCO"),
            ("shipped_policy", None, b"san-francisco-2019"),
            // After the challenge deadline: the page warns that a challenge may be late.
            ("as_of", None, b"2021-01-04"),
        ],
        &[("Sec-Fetch-Site", "same-origin")],
    );
    assert_eq!(
        posted.status,
        303,
        "{}",
        String::from_utf8_lossy(&posted.body)
    );
    let id = posted
        .header("location")
        .and_then(|location| location.strip_prefix("/batches/"))
        .expect("redirect to the batch page")
        .to_string();
    let batch = wait_for(&server, &id, &["succeeded", "failed"]);
    assert_eq!(batch["state"], "succeeded", "{batch}");
    let manifest = get(&server, &format!("/v1/batches/{id}/files/manifest.json")).json();
    assert_eq!(manifest["rules"]["kind"], "policy", "{manifest}");
    assert!(
        manifest["rules"]["name"]
            .as_str()
            .unwrap_or_default()
            .contains("San Francisco"),
        "{manifest}"
    );

    let page = get(&server, &format!("/batches/{id}"));
    let html = String::from_utf8_lossy(&page.body);
    for label in [
        "Omnibus filing (public, redacted)",
        "Case packets",
        "Everything, as one zip file",
        "<strong>Before filing</strong>",
        "determined not eligible, and these papers are dated after July 1, 2020",
    ] {
        assert!(html.contains(label), "{label} in {html}");
    }
    let table = get(
        &server,
        &format!("/batches/{id}/determinations?outcome=dismiss_and_seal"),
    );
    let table = String::from_utf8_lossy(&table.body).to_string();
    let link = format!("<a href=\"/v1/batches/{id}/files/cases/");
    let start = table.find(&link).expect("a case number links its papers") + link.len() - 6;
    let path = &table[start..start + table[start..].find('"').expect("link end")];
    let paper = get(&server, &format!("/v1/batches/{id}/files/{path}"));
    assert_eq!(paper.status, 200, "{path}");
    assert!(paper.body.starts_with(b"%PDF"), "{path}");

    // BEAR's eligibility options (JSON) are a policy too: the batch runs the gogen rules.
    let bear =
        std::fs::read(crate::support::repository().join("samples/policies/bear-options.json"))
            .expect("BEAR options");
    let mut form = usual_form(&doj);
    form.push(("policy", Some("options.json"), &bear));
    let accepted = post_form(&server, "/v1/batches", &form, &[]);
    assert_eq!(
        accepted.status,
        202,
        "{}",
        String::from_utf8_lossy(&accepted.body)
    );
    let bear_id = accepted.json()["id"].as_str().expect("id").to_string();
    let bear_batch = wait_for(&server, &bear_id, &["succeeded", "failed"]);
    assert_eq!(bear_batch["state"], "succeeded", "{bear_batch}");
    let bear_manifest = get(
        &server,
        &format!("/v1/batches/{bear_id}/files/manifest.json"),
    )
    .json();
    assert_eq!(bear_manifest["rules"]["kind"], "gogen", "{bear_manifest}");

    // A link never deletes: it asks first; a cross-site post is refused; the confirmed post
    // removes every file of the batch.
    let confirm = get(&server, &format!("/batches/{id}/delete"));
    assert_eq!(confirm.status, 200);
    assert!(String::from_utf8_lossy(&confirm.body).contains("cannot be undone"));
    assert!(workspace.path(&format!("data/jobs/{id}")).exists());
    let cross_site = request(
        &server,
        "POST",
        &format!("/batches/{id}/delete"),
        &[AUTH, ("Sec-Fetch-Site", "cross-site")],
        b"",
    );
    assert_eq!(cross_site.status, 403);
    assert!(cross_site.headers.contains("application/problem+json"));
    // A person sent here by another site's form sees a page saying so.
    let navigated = request(
        &server,
        "POST",
        &format!("/batches/{id}/delete"),
        &[
            AUTH,
            ("Sec-Fetch-Site", "cross-site"),
            ("Sec-Fetch-Mode", "navigate"),
        ],
        b"",
    );
    assert_eq!(navigated.status, 403);
    assert!(
        navigated.headers.contains("text/html"),
        "{}",
        navigated.headers
    );
    assert!(String::from_utf8_lossy(&navigated.body).contains("came from another site"));
    assert!(workspace.path(&format!("data/jobs/{id}")).exists());
    let deleted = request(
        &server,
        "POST",
        &format!("/batches/{id}/delete"),
        &[AUTH, ("Sec-Fetch-Site", "same-origin")],
        b"",
    );
    assert_eq!(deleted.status, 303);
    assert_batch_gone(&server, &workspace, &id);
}

/// Batches submitted at the same moment are each accepted once, run one after another by the
/// worker, and each gives the same outputs as the others (same input, same bytes), while
/// single-document requests are served alongside.
#[test]
fn concurrent_submissions_each_run_once_with_identical_outputs() {
    let workspace = Workspace::new();
    let doj = sample_doj(&workspace, 8, 21);
    // More paper threads than this machine's cores: the burst below still gets the same bytes.
    let server = start(&workspace, &["--paper-threads", "3"]);
    let ids: Vec<String> = std::thread::scope(|scope| {
        let submissions: Vec<_> = (0..4)
            .map(|_| {
                scope.spawn(|| {
                    let reply = submit(&server, &doj, "SAN FRANCISCO");
                    assert_eq!(
                        reply.status,
                        202,
                        "{}",
                        String::from_utf8_lossy(&reply.body)
                    );
                    reply.json()["id"].as_str().expect("id").to_string()
                })
            })
            .collect();
        // Meanwhile, health and listings answer.
        for _ in 0..5 {
            assert_eq!(get(&server, "/v1/batches").status, 200);
        }
        submissions
            .into_iter()
            .map(|submission| submission.join().expect("submission"))
            .collect()
    });
    let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), 4, "four batches, four ids: {ids:?}");
    let listed = get(&server, "/v1/batches").json();
    assert_eq!(listed.as_array().map(Vec::len), Some(4), "{listed}");
    for id in &ids {
        let batch = wait_for(&server, id, &["succeeded", "failed"]);
        assert_eq!(batch["state"], "succeeded", "{batch}");
    }
    let first = workspace.path(&format!("data/jobs/{}/out", ids[0]));
    let expected = files(&first);

    // A burst of single-document requests for one case: every one served, the same bytes each
    // time, each counted in the render latency histogram.
    let determinations: serde_json::Value = serde_json::from_slice(
        &std::fs::read(first.join("results/determinations.json")).expect("determinations"),
    )
    .expect("JSON");
    let records = determinations.as_array().expect("records");
    let relief = records
        .iter()
        .find(|record| record["outcome"] == "dismiss_and_seal")
        .expect("a dismissal");
    let one_case: Vec<&serde_json::Value> = records
        .iter()
        .filter(|record| {
            record["case_numbers"] == relief["case_numbers"]
                && record["subject_id"] == relief["subject_id"]
        })
        .collect();
    let body = serde_json::to_vec(&one_case).expect("JSON");
    let papers: Vec<Vec<u8>> = std::thread::scope(|scope| {
        let requests: Vec<_> = (0..12)
            .map(|_| {
                scope.spawn(|| {
                    let reply = request(
                        &server,
                        "POST",
                        "/v1/documents/case",
                        &[AUTH, ("Content-Type", "application/json")],
                        &body,
                    );
                    assert_eq!(
                        reply.status,
                        200,
                        "{}",
                        String::from_utf8_lossy(&reply.body)
                    );
                    reply.body
                })
            })
            .collect();
        requests
            .into_iter()
            .map(|paper| paper.join().expect("request"))
            .collect()
    });
    assert!(
        papers.iter().all(|paper| paper == &papers[0]),
        "same paper every time"
    );
    let metrics = get(&server, "/metrics");
    let metrics = String::from_utf8_lossy(&metrics.body);
    assert!(
        metrics.contains("clearance_document_render_seconds_count 12"),
        "{metrics}"
    );
    assert!(expected.iter().any(|file| file.starts_with("cases/")));
    for id in &ids[1..] {
        let other = workspace.path(&format!("data/jobs/{id}/out"));
        assert_eq!(files(&other), expected, "{id}");
        for file in &expected {
            assert!(
                std::fs::read(first.join(file)).expect("first")
                    == std::fs::read(other.join(file)).expect("other"),
                "{file} differs between batches {} and {id}",
                ids[0]
            );
        }
    }
}

/// Garbage in, never a 5xx: every route meets wrong methods, broken forms, wrong content types,
/// bad JSON, odd ids and paths, and each error answer is a problem document with the status it
/// carries, one the OpenAPI document declares for that operation.
#[test]
fn the_api_answers_garbage_with_declared_problems_never_a_server_error() {
    let workspace = Workspace::new();
    let server = start(&workspace, &[]);
    let openapi = get(&server, "/openapi.json").json();
    assert_eq!(
        openapi["components"]["securitySchemes"]["bearer"]["scheme"], "bearer",
        "this server has a token, so the document says so"
    );
    // Links from a new batch name operations that exist (as `operationId`, the spelling
    // OpenAPI readers follow).
    let operation_ids: Vec<&str> = openapi["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|item| item.as_object().expect("path item").values())
        .filter_map(|operation| operation["operationId"].as_str())
        .collect();
    let links = openapi["paths"]["/v1/batches"]["post"]["responses"]["202"]["links"]
        .as_object()
        .expect("links from a new batch");
    assert!(links.len() >= 4, "{links:?}");
    for link in links.values() {
        let target = link["operationId"].as_str().expect("operationId");
        assert!(
            operation_ids.contains(&target),
            "{target} in {operation_ids:?}"
        );
    }
    let id = "0123456789abcdef0123456789abcdef";
    let broken_form = (
        "multipart/form-data; boundary=xyz",
        &b"--xyz\r\nContent-Disposition: form-data; name=\"doj\"\r\n\r\nunterminated"[..],
    );
    let cases: Vec<(&str, String, &str, Vec<u8>, &str)> = vec![
        (
            "POST",
            "/v1/batches".into(),
            broken_form.0,
            broken_form.1.to_vec(),
            "/v1/batches",
        ),
        (
            "POST",
            "/v1/batches".into(),
            "text/plain",
            b"hello".to_vec(),
            "/v1/batches",
        ),
        (
            "POST",
            "/v1/batches".into(),
            "multipart/form-data",
            b"no boundary".to_vec(),
            "/v1/batches",
        ),
        (
            "POST",
            "/v1/check".into(),
            "application/json",
            b"{}".to_vec(),
            "/v1/check",
        ),
        (
            "POST",
            "/v1/check".into(),
            broken_form.0,
            broken_form.1.to_vec(),
            "/v1/check",
        ),
        (
            "POST",
            "/v1/documents/case".into(),
            "application/json",
            b"{not json".to_vec(),
            "/v1/documents/{kind}",
        ),
        (
            "POST",
            "/v1/documents/case".into(),
            "application/json",
            b"[]".to_vec(),
            "/v1/documents/{kind}",
        ),
        (
            "POST",
            "/v1/documents/case".into(),
            "application/json",
            b"[1, \"a\", null]".to_vec(),
            "/v1/documents/{kind}",
        ),
        (
            "POST",
            "/v1/documents/poster".into(),
            "application/json",
            b"[]".to_vec(),
            "/v1/documents/{kind}",
        ),
        (
            "GET",
            format!("/v1/batches/{id}"),
            "",
            Vec::new(),
            "/v1/batches/{id}",
        ),
        (
            "GET",
            "/v1/batches/not-an-id".into(),
            "",
            Vec::new(),
            "/v1/batches/{id}",
        ),
        (
            "DELETE",
            "/v1/batches/..%2f..".into(),
            "",
            Vec::new(),
            "/v1/batches/{id}",
        ),
        (
            "GET",
            format!("/v1/batches/{id}/events"),
            "",
            Vec::new(),
            "/v1/batches/{id}/events",
        ),
        (
            "GET",
            format!("/v1/batches/{id}/archive.zip"),
            "",
            Vec::new(),
            "/v1/batches/{id}/archive.zip",
        ),
        (
            "GET",
            format!("/v1/batches/{id}/files/%00"),
            "",
            Vec::new(),
            "/v1/batches/{id}/files/{path}",
        ),
        (
            "GET",
            format!("/v1/batches/{id}/files/{}", "a/".repeat(500)),
            "",
            Vec::new(),
            "/v1/batches/{id}/files/{path}",
        ),
        ("PUT", "/v1/batches".into(), "", Vec::new(), "/v1/batches"),
        ("PATCH", "/v1/check".into(), "", Vec::new(), "/v1/check"),
        ("GET", "/v2/anything".into(), "", Vec::new(), ""),
    ];
    for (method, path, content_type, body, operation) in cases {
        let mut headers = vec![AUTH];
        if !content_type.is_empty() {
            headers.push(("Content-Type", content_type));
        }
        let reply = request(&server, method, &path, &headers, &body);
        let what = format!(
            "{method} {path}: {} {}",
            reply.status,
            String::from_utf8_lossy(&reply.body)
        );
        assert!((400..500).contains(&reply.status), "{what}");
        assert!(
            reply
                .headers
                .to_ascii_lowercase()
                .contains("content-type: application/problem+json"),
            "{what}\n{}",
            reply.headers
        );
        let problem = reply.json();
        assert_eq!(problem["status"], reply.status, "{what}");
        assert!(
            problem["title"].is_string() && problem["detail"].is_string(),
            "{what}"
        );
        if operation.is_empty() {
            continue;
        }
        let item = &openapi["paths"][operation];
        let declared = ["get", "post", "delete"]
            .iter()
            .filter_map(|verb| item.get(*verb))
            .any(|operation| {
                operation["responses"]
                    .get(reply.status.to_string())
                    .is_some()
            });
        assert!(declared, "{what}: status not declared for {operation}");
    }
    // Another site's page cannot queue a batch, run a check or get a paper rendered: its
    // browser marks the post cross-site, and a post it may send without asking is not JSON.
    for path in ["/v1/batches", "/v1/check"] {
        let reply = post_form(
            &server,
            path,
            &[("county", None, b"SAN FRANCISCO")],
            &[("Sec-Fetch-Site", "cross-site")],
        );
        assert_eq!(reply.status, 403, "{path}");
    }
    // Two policies at once are refused, whichever way they come.
    let two_policies = post_form(
        &server,
        "/v1/batches",
        &[
            ("doj", Some("doj.csv"), b"x"),
            ("policy", Some("a.toml"), b"name = \"a\""),
            ("policy", Some("b.toml"), b"name = \"b\""),
        ],
        &[],
    );
    assert_eq!(two_policies.status, 422);
    assert!(
        two_policies.json()["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("one policy")
    );
    let plain = request(
        &server,
        "POST",
        "/v1/documents/case",
        &[AUTH, ("Content-Type", "text/plain")],
        b"[]",
    );
    assert_eq!(plain.status, 415);
    // Unknown paths ask for the token first, like every route.
    assert_eq!(
        request(&server, "GET", "/v2/anything", &[], b"").status,
        401
    );
    // The server is still there.
    assert_eq!(request(&server, "GET", "/healthz", &[], b"").status, 200);
}

/// Without a token the service answers only to its loopback names: a page elsewhere that
/// rebinds its own name to 127.0.0.1 (DNS rebinding) sends that name as the Host, and is
/// refused.
#[test]
fn without_a_token_only_loopback_hosts_are_served() {
    let workspace = Workspace::new();
    let server = start_with(&workspace, &[], None);
    let port = server.addr.rsplit(':').next().expect("port").to_string();
    for host in ["evil.example", "evil.example:80", "10.0.0.5"] {
        let reply = request(&server, "GET", "/v1/batches", &[("Host", host)], b"");
        assert_eq!(reply.status, 403, "{host}");
    }
    for host in [
        format!("localhost:{port}"),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ] {
        let reply = request(&server, "GET", "/v1/batches", &[("Host", &host)], b"");
        assert_eq!(reply.status, 200, "{host}");
    }
    let openapi = request(&server, "GET", "/openapi.json", &[], b"").json();
    assert!(
        openapi["components"]["securitySchemes"].is_null(),
        "no token, no security scheme declared: {}",
        openapi["components"]
    );
}

/// With a token, a browser cannot send `Authorization`: a clerk signs in on `/signin` with the
/// token and gets a session cookie, which the page and its downloads accept until signing out.
#[test]
fn a_browser_signs_in_with_the_token_and_out_again() {
    let workspace = Workspace::new();
    let server = start_with(&workspace, &[], Some(TOKEN));
    let form = ("Content-Type", "application/x-www-form-urlencoded");
    let same_site = ("Sec-Fetch-Site", "same-origin");

    // A page is sent to sign in; the API and unknown paths still answer 401.
    let page = request(&server, "GET", "/", &[], b"");
    assert_eq!(page.status, 303);
    assert_eq!(page.header("location"), Some("/signin"));
    assert_eq!(request(&server, "GET", "/v1/batches", &[], b"").status, 401);
    assert_eq!(
        request(&server, "GET", "/v2/anything", &[], b"").status,
        401
    );
    let signin = request(&server, "GET", "/signin", &[], b"");
    assert_eq!(signin.status, 200);
    let text = String::from_utf8_lossy(&signin.body).to_string();
    assert!(text.contains("type=\"password\"") && text.contains("Access token"));

    // A wrong token: said so, no cookie.
    let wrong = request(
        &server,
        "POST",
        "/signin",
        &[form, same_site],
        b"token=guess",
    );
    assert_eq!(wrong.status, 401);
    assert!(String::from_utf8_lossy(&wrong.body).contains("not the access token"));
    assert_eq!(wrong.header("set-cookie"), None);
    // Another site's page cannot sign a browser in.
    let body = format!("token={TOKEN}");
    let cross = [form, ("Sec-Fetch-Site", "cross-site")];
    let refused = request(&server, "POST", "/signin", &cross, body.as_bytes());
    assert_eq!(refused.status, 403);
    assert_eq!(refused.header("set-cookie"), None);

    // The right token: a session cookie only the server reads, for this site only.
    let signed = request(
        &server,
        "POST",
        "/signin",
        &[form, same_site],
        body.as_bytes(),
    );
    assert_eq!(signed.status, 303);
    let cookie = signed.header("set-cookie").expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=43200"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains(TOKEN), "the cookie is not the token");
    let session = cookie.split(';').next().expect("name=value").to_string();
    let with_session = [("Cookie", session.as_str())];
    let index = request(&server, "GET", "/", &with_session, b"");
    assert_eq!(index.status, 200);
    assert!(String::from_utf8_lossy(&index.body).contains("action=\"/signout\""));
    // No copy of criminal-record pages kept by the browser (Back after signing out).
    assert!(
        index.headers.contains("cache-control: no-store"),
        "{}",
        index.headers
    );
    assert_eq!(
        request(&server, "GET", "/v1/batches", &with_session, b"").status,
        200
    );
    // Signed in already, the sign-in page goes on to the page.
    assert_eq!(
        request(&server, "GET", "/signin", &with_session, b"").status,
        303
    );

    // Signing out ends the session on the server, not only in the browser.
    let out = request(
        &server,
        "POST",
        "/signout",
        &[with_session[0], same_site],
        b"",
    );
    assert_eq!(out.status, 303);
    assert!(
        out.header("set-cookie")
            .expect("cleared")
            .contains("Max-Age=0")
    );
    assert_eq!(request(&server, "GET", "/", &with_session, b"").status, 303);
    assert_eq!(
        request(&server, "GET", "/v1/batches", &with_session, b"").status,
        401
    );
    // A download link followed after the session ended: the browser says it navigates, and
    // is sent to sign in rather than shown a 401 document.
    let navigate = [with_session[0], ("Sec-Fetch-Mode", "navigate")];
    let link = request(&server, "GET", "/v1/batches", &navigate, b"");
    assert_eq!(link.status, 303);
    assert_eq!(link.header("location"), Some("/signin"));

    // Behind the office's TLS proxy the cookie is never sent over plain http.
    let proxied = [form, same_site, ("X-Forwarded-Proto", "https")];
    let signed = request(&server, "POST", "/signin", &proxied, body.as_bytes());
    assert!(
        signed
            .header("set-cookie")
            .expect("a session cookie")
            .ends_with("; Secure")
    );
}
