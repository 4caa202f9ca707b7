//! The web page in a real browser: headless Chromium driven over WebDriver (Debian's `chromium`
//! and `chromium-driver`, which `.ci/run` installs) uploads a DOJ file, waits for the batch to
//! finish, filters the determinations table and downloads the filing. The WebDriver
//! calls are plain W3C JSON over HTTP, made with the service tests' own client.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::http::request_to;
use crate::server::start_with;
use crate::support::Workspace;

/// A chromedriver on a free port, killed when dropped.
struct Driver {
    child: Child,
    addr: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
    let child = std::process::Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver is installed (Debian: apt-get install chromium chromium-driver; .ci/run does)");
    let driver = Driver {
        child,
        addr: format!("127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&driver.addr).is_err() {
        assert!(Instant::now() < deadline, "chromedriver did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    driver
}

/// A WebDriver call: the reply's `value`.
fn call(driver: &Driver, method: &str, path: &str, body: &serde_json::Value) -> serde_json::Value {
    let bytes = serde_json::to_vec(body).expect("JSON");
    let reply = request_to(
        &driver.addr,
        method,
        path,
        &[("Content-Type", "application/json")],
        if method == "GET" { b"" } else { &bytes },
    );
    let value = reply.json();
    assert!(
        reply.status == 200,
        "{method} {path}: {}",
        serde_json::to_string(&value).unwrap_or_default()
    );
    value["value"].clone()
}

struct Session<'a> {
    driver: &'a Driver,
    id: String,
}

impl Session<'_> {
    fn path(&self, rest: &str) -> String {
        format!("/session/{}{rest}", self.id)
    }

    fn go(&self, url: &str) {
        call(
            self.driver,
            "POST",
            &self.path("/url"),
            &serde_json::json!({ "url": url }),
        );
    }

    fn find(&self, css: &str) -> String {
        let element = call(
            self.driver,
            "POST",
            &self.path("/element"),
            &serde_json::json!({ "using": "css selector", "value": css }),
        );
        element
            .as_object()
            .and_then(|object| object.values().next())
            .and_then(serde_json::Value::as_str)
            .expect("an element reference")
            .to_string()
    }

    fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        call(
            self.driver,
            "POST",
            &self.path(&format!("/element/{element}/value")),
            &serde_json::json!({ "text": text }),
        );
    }

    fn click(&self, css: &str) {
        let element = self.find(css);
        call(
            self.driver,
            "POST",
            &self.path(&format!("/element/{element}/click")),
            &serde_json::json!({}),
        );
    }

    fn script(&self, script: &str) -> serde_json::Value {
        call(
            self.driver,
            "POST",
            &self.path("/execute/sync"),
            &serde_json::json!({ "script": script, "args": [] }),
        )
    }

    fn text(&self) -> String {
        self.script("return document.body.innerText;")
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until the page's address contains `needle` (a navigation has happened).
    fn wait_for_url(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_mins(1);
        loop {
            let url = call(
                self.driver,
                "GET",
                &self.path("/url"),
                &serde_json::Value::Null,
            );
            if url.as_str().is_some_and(|url| url.contains(needle)) {
                return;
            }
            assert!(Instant::now() < deadline, "never at {needle:?}: {url}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_for_text(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_mins(5);
        loop {
            let text = self.text();
            if text.contains(needle) {
                return text;
            }
            assert!(Instant::now() < deadline, "{needle:?} never shown: {text}");
            std::thread::sleep(Duration::from_millis(500));
        }
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = request_to(&self.driver.addr, "DELETE", &self.path(""), &[], b"");
    }
}

#[test]
fn a_clerk_runs_a_batch_in_a_real_browser() {
    let workspace = Workspace::new();
    workspace
        .clearance()
        .args(["sample", "--people", "12", "--seed", "9", "-o", "doj.csv"])
        .assert()
        .success();
    let downloads = workspace.path("downloads");
    std::fs::create_dir_all(&downloads).expect("downloads folder");
    // With a token, as a service off loopback must have: the clerk signs in on the page and
    // the browser's session cookie carries the rest (the page, its refreshes, the download).
    // Without one, on loopback, the same pages need no sign-in (the server tests).
    let token = "browser-token-5d1c";
    let server = start_with(&workspace, &[], Some(token));
    let driver = driver();
    let created = call(
        &driver,
        "POST",
        "/session",
        &serde_json::json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
                "prefs": {
                    "download.default_directory": downloads.display().to_string(),
                    "download.prompt_for_download": false,
                    "plugins.always_open_pdf_externally": true
                }
            }
        }}}),
    );
    let session = Session {
        driver: &driver,
        id: created["sessionId"]
            .as_str()
            .expect("a session")
            .to_string(),
    };

    session.go(&format!("http://{}/", server.addr));
    session.wait_for_url("/signin");
    session.type_into("#token", token);
    session.click("button[type=submit]");
    session.wait_for_text("new batch");
    session.type_into("#doj", &workspace.path("doj.csv").display().to_string());
    session.script("document.getElementById('as_of').value = '2020-07-01';");
    session.click("button[type=submit]");
    // The batch page refreshes itself until the batch is done.
    let done = session.wait_for_text("Succeeded");
    assert!(done.contains("Dismiss and seal"), "the summary: {done}");
    assert!(done.contains("Sign out"), "a way out on every page: {done}");

    // The review-first table, filtered to one outcome.
    session.click("a[href$='/determinations']");
    session.wait_for_url("/determinations");
    session.script("document.getElementById('outcome').value = 'not_eligible';");
    session.click("button[type=submit]");
    session.wait_for_url("outcome=not_eligible");
    let table = session.wait_for_text("page 1 of");
    let outcomes: Vec<String> = session
        .script("return Array.from(document.querySelectorAll('tbody tr td:nth-child(4)')).map(cell => cell.innerText);")
        .as_array()
        .expect("cells")
        .iter()
        .map(|cell| cell.as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!outcomes.is_empty(), "{table}");
    assert!(
        outcomes.iter().all(|outcome| outcome == "not_eligible"),
        "{outcomes:?}"
    );

    // Back to the batch, and download the filing.
    let batch_page = session
        .script("return document.querySelector('a[href^=\"/batches/\"]').getAttribute('href');")
        .as_str()
        .expect("the link back to the batch")
        .to_string();
    session.go(&format!("http://{}{batch_page}", server.addr));
    session.wait_for_text("Files");
    session.click("a[href$='bundles/filing.pdf']");
    let downloaded = downloads.join("filing.pdf");
    let deadline = Instant::now() + Duration::from_mins(1);
    while !downloaded.exists() {
        assert!(Instant::now() < deadline, "the filing never downloaded");
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_millis(500));
    let jobs: Vec<_> = std::fs::read_dir(workspace.path("data/jobs"))
        .expect("jobs")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(jobs.len(), 1);
    let served = jobs[0].path().join("out/bundles/filing.pdf");
    assert_eq!(
        std::fs::read(&downloaded).expect("download"),
        std::fs::read(&served).expect("served")
    );

    // Signing out ends the session: the batch page now asks for the token again.
    session.click("form[action='/signout'] button");
    session.wait_for_url("/signin");
    session.go(&format!("http://{}{batch_page}", server.addr));
    session.wait_for_url("/signin");
}
