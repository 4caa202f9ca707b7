//! `clearance run`, `render` and `templates check` end to end: the documents a court receives,
//! read back with lopdf.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::pdf::Pdf;
use crate::support::{Row, Workspace, csv, field_of_each, repository, sample_office};

const POSSESS: &str = "11357(B) HS-POSSESS MARIJUANA 28.5 GRMS OR LESS";
const SALE: &str = "11359 HS-POSSESS MARIJUANA FOR SALE";

fn office() -> String {
    sample_office()
}

/// Two court cases: A's possession, sentence completed (an application, no hearing); B's sale,
/// five years still being served (a petition, heard by the court).
fn completed_and_serving() -> Vec<Row> {
    vec![
        Row::conviction("A", "001002001000", "20100101", POSSESS, "MISDEMEANOR")
            .case_number("SCNA"),
        Row::conviction("B", "001002001000", "20190101", SALE, "FELONY")
            .set("CYC_DATE", "20160101")
            .sentence("5", "Y")
            .case_number("SCNB"),
    ]
}

impl Workspace {
    /// `clearance sample --people N --seed S -o doj.csv --contacts contacts.csv`.
    fn sample(&self, people: u32, seed: u32) {
        self.clearance()
            .args(["sample", "--people", &people.to_string()])
            .args(["--seed", &seed.to_string(), "-o", "doj.csv"])
            .args(["--contacts", "contacts.csv"])
            .assert()
            .success();
    }

    fn files_under(&self, relative: &str) -> BTreeSet<String> {
        let root = self.path(relative);
        let mut found = BTreeSet::new();
        let mut folders = vec![root.clone()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    folders.push(path);
                } else {
                    found.insert(path.strip_prefix(&root).unwrap().display().to_string());
                }
            }
        }
        found
    }
}

fn sha256_hex(path: &Path) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(std::fs::read(path).unwrap());
    clearance::config::hex(&digest)
}

/// The court cases with relief in a run's determinations: case numbers → defendant name as
/// recorded.
fn cases_with_relief(determinations: &[serde_json::Value]) -> BTreeMap<String, String> {
    determinations
        .iter()
        .filter(|record| {
            [
                "dismiss_and_seal",
                "redesignate_misdemeanor",
                "redesignate_infraction",
            ]
            .contains(&record["outcome"].as_str().unwrap())
        })
        .map(|record| {
            let numbers: Vec<&str> = record["case_numbers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|number| number.as_str().unwrap())
                .collect();
            (
                numbers.join(", "),
                record["name"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn natural_order(name: &str) -> String {
    match name.split_once(',') {
        Some((last, first)) => format!("{} {}", first.trim(), last.trim()),
        None => name.to_string(),
    }
}

#[test]
fn run_on_the_shipped_sample_writes_court_ready_documents() {
    let workspace = Workspace::new();
    let sample = repository()
        .join("samples/doj_sample.csv")
        .display()
        .to_string();
    let contacts = repository()
        .join("samples/contacts.csv")
        .display()
        .to_string();
    workspace
        .run(&[&sample], &["--contacts", &contacts])
        .assert()
        .success();
    for file in [
        "out/summary.pdf",
        "out/manifest.json",
        "out/bundles/filing.pdf",
        "out/bundles/filing-redacted.pdf",
        "out/bundles/case-packets.pdf",
        "out/bundles/letters.en.pdf",
        "out/bundles/letters.es.pdf",
        "out/bundles/letters.en-es.pdf",
        "out/bundles/mailing-list.csv",
    ] {
        assert!(workspace.exists(file), "{file} missing");
    }
    // poppler reads every PDF without a syntax error (it rejects `/Suspects false`).
    let summary_bytes = std::fs::read(workspace.path("out/summary.pdf")).unwrap();
    assert!(
        !summary_bytes
            .windows(15)
            .any(|window| window == b"/Suspects false")
    );
    // Every document rendered: errors.json holds only the sample's invalid-DOB warnings.
    let report = workspace.json("out/errors.json");
    assert_eq!(report["errors"], 0, "{report}");
    assert!(report.get("documents_not_rendered").is_none(), "{report}");

    // One motion and order per court case with relief, named by its case number.
    let determinations = workspace.determinations();
    let cases = cases_with_relief(&determinations);
    let case_files = workspace.files_under("out/cases");
    assert!(cases.len() > 100, "{} cases", cases.len());
    assert_eq!(case_files.len(), cases.len());
    for (index, (numbers, name)) in cases.iter().enumerate().step_by(25) {
        let file = format!("out/cases/{}.pdf", numbers.split(", ").next().unwrap());
        assert!(workspace.exists(&file), "{file} for case {index}");
        let pdf = workspace.pdf(&file);
        pdf.assert_court_ready();
        let text = pdf.text();
        assert!(
            text.contains(numbers.split(", ").next().unwrap()),
            "{file}: case number"
        );
        assert!(
            text.contains(&natural_order(name).to_uppercase()),
            "{file}: defendant {name}"
        );
        assert!(text.contains("IT IS SO ORDERED."), "{file}: order");
        // Pleading paper: every page numbered 1 to 28 at the left, and its page number.
        for (page_index, page) in pdf.pages().into_iter().enumerate() {
            let runs = pdf.page_runs(page);
            for line in 1..=28 {
                assert!(
                    runs.iter().any(|run| run == &line.to_string()),
                    "{file}: page {} lacks line number {line}",
                    page_index + 1
                );
            }
        }
        assert_eq!(
            pdf.bookmarks(),
            vec!["Motion", "[Proposed] order"],
            "{file}"
        );
        assert!(pdf.title().contains(numbers.split(", ").next().unwrap()));
    }

    // The packets bundle: an index, then every case, one bookmark each; labels i.. then 1...
    let packets = workspace.pdf("out/bundles/case-packets.pdf");
    packets.assert_court_ready();
    let bookmarks = packets.bookmarks();
    assert_eq!(bookmarks.len(), cases.len() + 1);
    assert_eq!(bookmarks[0], "Index");
    let labels = packets.page_labels();
    assert_eq!(labels[0], (0, "r".to_string(), 1, String::new()));
    assert_eq!(
        labels[1..],
        [(labels[1].0, "D".to_string(), 1, String::new())]
    );
    let case_pages: usize = case_files
        .iter()
        .map(|file| workspace.pdf(&format!("out/cases/{file}")).page_count())
        .sum();
    let index_pages = labels[1].0 as usize;
    assert_eq!(packets.page_count(), index_pages + case_pages);
    // Each case's bookmark points at the page the index cites for it: its label and the
    // "Packet page N" stamped on it are the index's number; the pleading page number printed in
    // its footer stays the paper's own.
    let pages = packets.pages();
    let index_runs: Vec<String> = pages
        .iter()
        .take(index_pages)
        .flat_map(|page| packets.page_runs(*page))
        .collect();
    for (title, page) in packets.bookmark_pages().into_iter().skip(1).step_by(7) {
        let label = packets.label_of(page);
        let runs = packets.page_runs(pages[page]);
        assert!(
            runs.iter()
                .any(|run| run.trim() == format!("Packet page {label}")),
            "{title}: label {label}, stamped {runs:?}"
        );
        let row = index_runs
            .iter()
            .position(|run| run.trim() == title.split(" — ").next().unwrap())
            .unwrap_or_else(|| panic!("{title} in the index"));
        assert!(
            index_runs[row + 1..row + 5]
                .iter()
                .any(|run| run.trim() == label),
            "{title}: the index cites {:?}, the page is labelled {label}",
            &index_runs[row..row + 5]
        );
        assert!(
            runs.iter().any(|run| run.trim() == "1"),
            "{title}: pleading page 1"
        );
    }
    let index_text: String = packets
        .pages()
        .into_iter()
        .take(index_pages)
        .map(|page| packets.page_runs(page).join(" "))
        .collect();
    for numbers in cases.keys().take(5) {
        assert!(index_text.contains(numbers.split(", ").next().unwrap()));
    }

    // The omnibus filing, full and redacted: motion, exhibits, order, numbered through.
    let filing = workspace.pdf("out/bundles/filing.pdf");
    filing.assert_court_ready();
    let bookmarks = filing.bookmarks();
    assert_eq!(
        bookmarks.first().unwrap(),
        "Notice of non-challenge and motion"
    );
    assert_eq!(bookmarks.last().unwrap(), "[Proposed] order");
    assert!(
        bookmarks
            .iter()
            .any(|title| title.starts_with("Exhibit A-1"))
    );
    assert_eq!(
        filing.page_labels(),
        vec![(0, "D".to_string(), 1, String::new())]
    );
    let filing_text = filing.text();
    assert!(filing_text.contains("Exhibit A-1 — page 1 of"));
    let redacted = workspace.pdf("out/bundles/filing-redacted.pdf");
    redacted.assert_court_ready();
    let redacted_text = redacted.text();
    for (numbers, name) in cases.iter().take(10) {
        let first = numbers.split(", ").next().unwrap();
        assert!(filing_text.contains(first), "filing lists {first}");
        assert!(
            redacted_text.contains(first),
            "redacted filing lists {first}"
        );
        assert!(
            filing_text.contains(&natural_order(name)),
            "filing names {name}"
        );
        assert!(
            !redacted_text.contains(&natural_order(name)),
            "redacted filing names {name}"
        );
    }

    // Letters: a file per person and language; bundles by ZIP; everyone on the mailing list.
    let mailing = workspace.csv_rows("out/bundles/mailing-list.csv");
    let header = &mailing[0];
    let column = |name: &str| header.iter().position(|field| field == name).unwrap();
    let statuses: BTreeSet<&str> = mailing[1..]
        .iter()
        .map(|row| row[column("status")].as_str())
        .collect();
    assert!(
        statuses.contains("ready") && statuses.contains("no_address"),
        "{statuses:?}"
    );
    for language in ["en", "es", "en-es"] {
        let mut rows: Vec<&Vec<String>> = mailing[1..]
            .iter()
            .filter(|row| row[column("bundle")] == format!("bundles/letters.{language}.pdf"))
            .collect();
        rows.sort_by_key(|row| row[column("bundle_page")].parse::<usize>().unwrap());
        let zips: Vec<&str> = rows.iter().map(|row| row[column("zip")].as_str()).collect();
        assert!(
            zips.windows(2).all(|pair| pair[0] <= pair[1]),
            "letters.{language} by ZIP"
        );
        let bundle = workspace.pdf(&format!("out/bundles/letters.{language}.pdf"));
        bundle.assert_court_ready();
        assert_eq!(bundle.bookmarks().len(), rows.len());
        for row in rows.iter().take(3) {
            let file = format!("out/{}", row[column("letter_file")]);
            let letter = workspace.pdf(&file);
            letter.assert_court_ready();
            let text = letter.text();
            assert!(text.contains(&row[column("zip")]), "{file}: address");
            if language != "es" {
                let plain = "This letter is not legal advice.";
                assert!(text.contains(plain), "{file}: {plain}");
            }
            if language != "en" {
                let plain = "Esta carta no es asesoramiento legal.";
                assert!(text.contains(plain), "{file}: {plain}");
            }
        }
    }

    // The summary report: no personal data.
    let summary = workspace.pdf("out/summary.pdf");
    summary.assert_court_ready();
    let summary_text = summary.text();
    assert!(summary_text.contains("What was processed"));
    for name in cases.values().take(20) {
        assert!(
            !summary_text.contains(&natural_order(name)),
            "summary names {name}"
        );
    }

    // The manifest: every file, its hash, size and pages; and what the run was made from.
    let manifest = workspace.json("out/manifest.json");
    assert_eq!(manifest["as_of"], "2020-07-01");
    assert_eq!(
        manifest["inputs"][0]["sha256"],
        sha256_hex(Path::new(&sample))
    );
    assert_eq!(
        manifest["contacts_sha256"],
        sha256_hex(Path::new(&contacts))
    );
    assert_eq!(manifest["office_sha256"], sha256_hex(Path::new(&office())));
    assert!(field_of_each(&manifest["templates"], "name").contains(&"case.typ"));
    let outputs = manifest["outputs"].as_array().unwrap();
    let listed: BTreeSet<String> = field_of_each(&manifest["outputs"], "path")
        .into_iter()
        .map(str::to_string)
        .collect();
    let mut on_disk = workspace.files_under("out");
    on_disk.remove("manifest.json");
    assert_eq!(listed, on_disk);
    for output in outputs.iter().step_by(37) {
        let path = workspace.path(&format!("out/{}", output["path"].as_str().unwrap()));
        assert_eq!(output["sha256"], sha256_hex(&path), "{path:?}");
        assert_eq!(output["size"], std::fs::metadata(&path).unwrap().len());
        if path.extension().is_some_and(|extension| extension == "pdf") {
            assert_eq!(output["pages"], Pdf::open(&path).page_count(), "{path:?}");
        }
    }
}

#[test]
fn documents_are_byte_identical_across_runs_and_thread_counts() {
    let workspace = Workspace::new();
    // Enough people for several chunks of cases and of letters, so that with three threads
    // chunks finish out of order and must still be appended to the bundles in sequence.
    workspace.sample(70, 9);
    for (out, jobs) in [("first", "1"), ("second", "3")] {
        workspace
            .run(
                &["doj.csv"],
                &["--contacts", "contacts.csv", "--out", out, "--jobs", jobs],
            )
            .assert()
            .success();
    }
    let first = workspace.files_under("first");
    assert_eq!(first, workspace.files_under("second"));
    let chunk = 40; // documents::DOCUMENTS_PER_CHUNK
    let cases = first
        .iter()
        .filter(|file| file.starts_with("cases/"))
        .count();
    let letters = first
        .iter()
        .filter(|file| file.starts_with("letters/"))
        .count();
    assert!(cases > 2 * chunk, "{cases} cases: more than two chunks");
    assert!(letters > chunk, "{letters} letters: more than one chunk");
    for file in &first {
        assert_eq!(
            std::fs::read(workspace.path(&format!("first/{file}"))).unwrap(),
            std::fs::read(workspace.path(&format!("second/{file}"))).unwrap(),
            "{file} differs"
        );
    }
}

/// Names that would break a template that spliced data into Typst markup.
const HOSTILE_LAST: &str = "O'BRIÉN ] ` \\ $ <x> @y";
const HOSTILE_FIRST: &str = "#set page(width: 1pt) ÑANDÚ";

#[test]
fn hostile_names_render_literally() {
    let workspace = Workspace::new();
    let rows = vec![
        Row::conviction("S1", "001002001000", "20100304", POSSESS, "MISDEMEANOR")
            .name(&format!("{HOSTILE_LAST},{HOSTILE_FIRST}"))
            .case_number("SCN#1<x>"),
        Row::conviction("S2", "001002001000", "20110506", SALE, "FELONY")
            .name("PEÑA,JOSÉ")
            .case_number("SCN200"),
    ];
    workspace.write("doj.csv", &csv(&rows, true));
    workspace.write(
        "contacts.csv",
        b"subject_id,cii,mailing_name,address_1,address_2,city,state,zip,language\nS1,,\"#set text(size: 1pt) \\\\ $x$\",1 MISSION ST,,SAN FRANCISCO,CA,94105,es\n",
    );
    workspace
        .run(&["doj.csv"], &["--contacts", "contacts.csv"])
        .assert()
        .success();
    let cases = workspace.files_under("out/cases");
    assert_eq!(cases.len(), 2, "{cases:?}");
    // File names come from ids with unsafe characters replaced.
    let hostile_file = cases
        .iter()
        .find(|file| file.starts_with("SCN") && file != &"SCN200.pdf")
        .unwrap();
    assert!(
        hostile_file
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || "-_.".contains(character)),
        "{hostile_file}"
    );
    let pdf = workspace.pdf(&format!("out/cases/{hostile_file}"));
    pdf.assert_court_ready();
    let text = pdf.text();
    for piece in [
        "#set page(width: 1pt) ÑANDÚ",
        "O'BRIÉN",
        "]",
        "`",
        "\\",
        "$",
        "<x>",
        "@y",
        "SCN#1<x>",
    ] {
        assert!(text.contains(piece), "case text lacks {piece:?}: {text}");
    }
    let filing = workspace.pdf("out/bundles/filing.pdf");
    filing.assert_court_ready();
    let filing_text = filing.text();
    for piece in ["#set page(width: 1pt)", "ÑANDÚ", "<x>", "@y", "PEÑA"] {
        assert!(filing_text.contains(piece), "filing lacks {piece:?}");
    }
    let letter = workspace.pdf("out/letters/S1.es.pdf");
    letter.assert_court_ready();
    let letter_text = letter.text();
    assert!(
        letter_text.contains("#set text(size: 1pt) \\\\ $x$"),
        "{letter_text}"
    );
}

/// Case SCN100 of a person whose name has Han characters, which no shipped font has.
fn unrenderable_case() -> Row {
    Row::conviction("S1", "001002001000", "20100304", POSSESS, "MISDEMEANOR")
        .name("WANG,张伟")
        .case_number("SCN100")
}

#[test]
fn a_glyph_no_shipped_font_has_fails_that_document_only() {
    let workspace = Workspace::new();
    let rows = vec![
        unrenderable_case(),
        Row::conviction("S2", "001002001000", "20110506", POSSESS, "MISDEMEANOR")
            .name("DOE,JANE")
            .case_number("SCN200"),
    ];
    workspace.write("doj.csv", &csv(&rows, true));
    workspace
        .run(&["doj.csv"], &["--no-letters"])
        .assert()
        .code(3)
        .stderr(predicates::str::contains("cases/SCN100.pdf: error"));
    assert!(
        workspace.exists("out/cases/SCN200.pdf"),
        "the other case is written"
    );
    assert!(
        !workspace.exists("out/cases/SCN100.pdf"),
        "no blank or tofu document"
    );
    let errors = workspace.json("out/errors.json");
    let failed = field_of_each(&errors["documents_not_rendered"], "file");
    assert!(failed.contains(&"cases/SCN100.pdf"), "{failed:?}");
    assert!(workspace.exists("out/manifest.json"));
    // Found at load, before rendering: located at the name's field, with the code points and
    // the documents it stops.
    let warning = errors["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|diagnostic| diagnostic["field"] == "PRI_NAME")
        .expect("a warning for the name");
    assert_eq!(warning["severity"], "warning");
    assert_eq!(warning["file"], "doj.csv");
    assert_eq!(warning["line"], 2);
    assert_eq!(warning["column"], 13);
    let message = warning["message"].as_str().unwrap();
    assert!(
        message.contains("张 (U+5F20)") && message.contains("伟 (U+4F1F)"),
        "{message}"
    );
    assert!(message.contains("cases/SCN100.pdf"), "{message}");
    assert!(!message.contains("SCN200"), "{message}");
}

#[test]
fn when_every_case_fails_no_empty_packets_bundle_is_left() {
    let workspace = Workspace::new();
    workspace.write("doj.csv", &csv(&[unrenderable_case()], true));
    workspace
        .run(&["doj.csv"], &["--no-letters"])
        .assert()
        .code(3);
    assert!(!workspace.exists("out/cases/SCN100.pdf"));
    assert!(!workspace.exists("out/bundles/case-packets.pdf"));
    let manifest = workspace.json("out/manifest.json");
    let listed = field_of_each(&manifest["outputs"], "path");
    assert!(!listed.contains(&"bundles/case-packets.pdf"), "{listed:?}");
    assert!(listed.contains(&"summary.pdf"), "{listed:?}");
}

#[test]
fn large_filings_are_split_into_volumes_with_covers() {
    let workspace = Workspace::new();
    workspace.sample(60, 3);
    workspace
        .run(&["doj.csv"], &["--no-letters", "--volume-limit-mb", "0.09"])
        .assert()
        .success();
    let bundles = workspace.files_under("out/bundles");
    let volumes: Vec<&String> = bundles
        .iter()
        .filter(|file| file.starts_with("filing-vol-"))
        .collect();
    assert!(volumes.len() >= 2, "{bundles:?}");
    assert!(!bundles.contains("filing.pdf"));
    let mut pages = Vec::new();
    for index in 1..=volumes.len() {
        let file = format!("out/bundles/filing-vol-{index}.pdf");
        assert!(
            std::fs::metadata(workspace.path(&file)).unwrap().len() <= 90_000,
            "{file}"
        );
        let pdf = workspace.pdf(&file);
        pdf.assert_court_ready();
        assert_eq!(pdf.bookmarks()[0], "Cover");
        let cover = pdf.page_runs(pdf.pages()[0]).join(" ");
        assert!(
            cover.contains(&format!("Volume {index} of {}", volumes.len())),
            "{cover}"
        );
        if index == 1 {
            assert!(
                cover.contains("Contents of the filing"),
                "the first cover indexes the filing"
            );
        }
        let labels = pdf.page_labels();
        assert_eq!(labels[0].3, "Cover");
        pages.push((labels[1].2, pdf.page_count() - 1));
    }
    // The volumes' pages run on: each starts where the last ended.
    for pair in pages.windows(2) {
        assert_eq!(pair[1].0, pair[0].0 + pair[0].1 as i64);
    }
    // The redacted filing is split the same way, each volume under the limit.
    let redacted: Vec<&String> = bundles
        .iter()
        .filter(|file| file.starts_with("filing-redacted-vol-"))
        .collect();
    assert!(redacted.len() >= 2, "{bundles:?}");
    assert!(!bundles.contains("filing-redacted.pdf"));
    for index in 1..=redacted.len() {
        let file = format!("out/bundles/filing-redacted-vol-{index}.pdf");
        assert!(
            std::fs::metadata(workspace.path(&file)).unwrap().len() <= 90_000,
            "{file}"
        );
        let pdf = workspace.pdf(&file);
        pdf.assert_court_ready();
        let cover = pdf.page_runs(pdf.pages()[0]).join(" ");
        assert!(
            cover.contains(&format!("Volume {index} of {}", redacted.len())),
            "{cover}"
        );
    }
}

#[test]
fn a_large_exhibit_is_numbered_through_its_parts() {
    // Enough relieved counts that Exhibit A-1 is rendered in several parts.
    let workspace = Workspace::new();
    let rows: Vec<Row> = (0..1300)
        .map(|index| {
            Row::conviction(
                &format!("P{index}"),
                "001002001000",
                "20100304",
                POSSESS,
                "MISDEMEANOR",
            )
            .name(&format!("PERSON{index},ANA"))
            .case_number(&format!("SCN{index:05}"))
        })
        .collect();
    workspace.write("doj.csv", &csv(&rows, true));
    workspace
        .run(&["doj.csv"], &["--no-letters", "--redacted-exhibits"])
        .assert()
        .success();
    let filing = workspace.pdf("out/bundles/filing-redacted.pdf");
    filing.assert_court_ready();
    let pages = filing.pages();
    let footers: Vec<String> = pages
        .iter()
        .map(|page| filing.page_runs(*page).join(" "))
        .filter(|text| text.contains("Exhibit A-1 — page"))
        .collect();
    let total = footers.len();
    assert!(total > 20, "{total} exhibit pages");
    for (index, text) in footers.iter().enumerate() {
        assert!(
            text.contains(&format!("Exhibit A-1 — page {} of {total}", index + 1)),
            "{text}"
        );
    }
    let text = filing.text();
    for index in [0, 599, 600, 1299] {
        assert!(text.contains(&format!("SCN{index:05}")), "row {index}");
    }
}

#[test]
fn render_from_determinations_gives_the_same_documents_as_run() {
    let workspace = Workspace::new();
    workspace.sample(15, 4);
    workspace
        .run(&["doj.csv"], &["--no-letters"])
        .assert()
        .success();
    workspace
        .clearance()
        .args([
            "render",
            "out/results/determinations.json",
            "--no-letters",
            "--out",
            "rendered",
            "--office",
            &office(),
        ])
        .assert()
        .success();
    let cases = workspace.files_under("out/cases");
    assert!(!cases.is_empty());
    assert_eq!(cases, workspace.files_under("rendered/cases"));
    for file in &cases {
        assert_eq!(
            std::fs::read(workspace.path(&format!("out/cases/{file}"))).unwrap(),
            std::fs::read(workspace.path(&format!("rendered/cases/{file}"))).unwrap(),
            "{file}"
        );
    }
    // The manifest names the determinations it was rendered from, with their hash.
    let manifest = workspace.json("rendered/manifest.json");
    assert_eq!(
        manifest["inputs"][0]["sha256"],
        sha256_hex(&workspace.path("out/results/determinations.json"))
    );
    assert_eq!(manifest["rules"]["kind"], "determinations");
}

#[test]
fn templates_check_names_the_template_and_line_of_an_error() {
    let workspace = Workspace::new();
    let office = office();
    std::fs::create_dir_all(workspace.path("tmp")).unwrap();
    let templates_check = |overrides: &[&str]| {
        let mut command = workspace.clearance();
        command
            .env("TMPDIR", workspace.path("tmp"))
            .args(["templates", "check", "--office", &office])
            .args(overrides);
        command.assert()
    };
    templates_check(&[])
        .success()
        .stdout(predicates::str::contains("templates ok"));
    let left: Vec<_> = std::fs::read_dir(workspace.path("tmp")).unwrap().collect();
    assert!(
        left.is_empty(),
        "the scratch folder and its lock file are removed: {left:?}"
    );

    let mut broken = std::fs::read_to_string(repository().join("templates/case.typ")).unwrap();
    broken.push_str("\n#let broken = (\n");
    let line = broken.lines().count();
    workspace.write("overrides/case.typ", broken.as_bytes());
    templates_check(&["--templates", "overrides"])
        .code(3)
        .stderr(predicates::str::contains(format!("case.typ:{line}:")));

    // A mistake in wording, and one only a notice dated before the challenge deadline takes
    // (the sample papers are dated on it): each found, and named.
    let wording_mistakes: [(&str, &str, &[u8]); 2] = [
        ("wording", "case-intro.hbs", b"The {{no_such_field}} moves."),
        (
            "before",
            "challenge.hbs",
            b"The People.{{#if before_deadline}}{{#if any_under_review}} {{no_such_field}}{{/if}}{{/if}}",
        ),
    ];
    for (folder, file, wording) in wording_mistakes {
        workspace.write(&format!("{folder}/wording/{file}"), wording);
        templates_check(&["--templates", folder])
            .code(3)
            .stderr(predicates::str::contains(format!("wording/{file}")));
    }
}

#[test]
fn the_mailing_list_marks_the_deceased_the_unrenderable_and_matches_contacts_by_cii() {
    let workspace = Workspace::new();
    let rows = vec![
        // D died: a letter is written for the record but not mailed.
        Row::conviction("D", "001002001000", "20100101", POSSESS, "MISDEMEANOR")
            .name("DEAD,DON")
            .case_number("SCND"),
        Row::conviction("D", "002001001000", "20190101", "DECEASED", "")
            .step("DECEASED")
            .disposition(""),
        // G's name has a character no shipped font has: the letter cannot be rendered.
        Row::conviction("G", "001002001000", "20100101", POSSESS, "MISDEMEANOR")
            .name("WANG,张伟")
            .set("CII_NUMBER", "2222222222")
            .case_number("SCNG"),
        // C has no contacts row under its SUBJECT_ID, only under its CII.
        Row::conviction("C", "001002001000", "20100101", POSSESS, "MISDEMEANOR")
            .name("CASE,CARLA")
            .set("CII_NUMBER", "3333333333")
            .case_number("SCNC"),
    ];
    workspace.write("doj.csv", &csv(&rows, true));
    workspace.write(
        "contacts.csv",
        b"subject_id,cii,mailing_name,address_1,address_2,city,state,zip,language\n\
          D,,,1 Elm St,,San Francisco,CA,94110,en\n\
          G,,,2 Oak St,,San Francisco,CA,94111,en\n\
          ,3333333333,,3 Pine St,,Oakland,CA,94612,en\n",
    );
    workspace
        .run(&["doj.csv"], &["--contacts", "contacts.csv"])
        .assert()
        .code(3);
    let mailing = workspace.csv_rows("out/bundles/mailing-list.csv");
    let header = &mailing[0];
    let column = |name: &str| header.iter().position(|field| field == name).unwrap();
    let row_of = |subject: &str| {
        mailing[1..]
            .iter()
            .find(|row| row[column("subject_id")] == subject)
            .unwrap_or_else(|| panic!("{subject} on the mailing list: {mailing:?}"))
    };
    assert_eq!(row_of("D")[column("status")], "deceased");
    assert_eq!(
        row_of("D")[column("bundle")],
        "",
        "the deceased are not mailed"
    );
    let failed = row_of("G");
    assert_eq!(failed[column("status")], "render_failed");
    assert_eq!(failed[column("letter_file")], "");
    let by_cii = row_of("C");
    assert_eq!(by_cii[column("status")], "ready");
    assert_eq!(by_cii[column("address_1")], "3 Pine St");
    assert_eq!(by_cii[column("zip")], "94612");
    assert!(
        !by_cii[column("bundle")].is_empty(),
        "mailable letters are bundled"
    );
    let errors = workspace.json("out/errors.json");
    let failed = field_of_each(&errors["documents_not_rendered"], "file");
    assert!(failed.contains(&"letters/G.en.pdf"), "{failed:?}");
}

/// `render` never reads the clock: an empty determinations file needs --as-of, and an --as-of
/// that disagrees with the file is refused.
#[test]
fn render_dates_documents_from_the_file_or_as_of_never_the_clock() {
    let workspace = Workspace::new();
    workspace.write("empty.json", b"[]");
    let render = |extra: &[&str]| {
        let mut command = workspace.clearance();
        command
            .args(["render", "empty.json", "--office", &office()])
            .args(extra);
        command.assert()
    };
    let refused = render(&["--out", "no-date"]).code(1);
    let stderr = String::from_utf8_lossy(&refused.get_output().stderr).into_owned();
    assert!(
        stderr.contains("empty.json: no determinations") && stderr.contains("--as-of"),
        "{stderr}"
    );
    assert!(!workspace.exists("no-date"));
    render(&["--as-of", "2020-07-01", "--out", "dated"]).success();
    assert_eq!(workspace.json("dated/manifest.json")["as_of"], "2020-07-01");

    workspace.write(
        "doj.csv",
        &csv(&[unrenderable_case().name("DOE,JANE")], true),
    );
    workspace
        .run(&["doj.csv"], &["--no-letters"])
        .assert()
        .success();
    let disagrees = workspace
        .clearance()
        .args([
            "render",
            "out/results/determinations.json",
            "--office",
            &office(),
        ])
        .args(["--as-of", "2021-01-01", "--out", "other"])
        .assert()
        .code(1);
    let stderr = String::from_utf8_lossy(&disagrees.get_output().stderr).into_owned();
    assert!(
        stderr.contains("as of 2020-07-01, but --as-of is 2021-01-01"),
        "{stderr}"
    );
}

/// An order finds a count "presumed eligible under § 11361.8" only when the statute gives it
/// relief; relief only a policy gives is decreed in its own paragraph on the policy's
/// authority, and sealed only when the policy seals.
#[test]
fn orders_never_find_policy_only_relief_eligible_under_the_statute() {
    let workspace = Workspace::new();
    let rows = vec![
        Row::conviction("M", "001002001000", "19950101", "187 PC-MURDER", "FELONY"),
        // Kept a felony by the prior murder: the statute gives nothing.
        Row::conviction(
            "M",
            "002002001000",
            "20100101",
            "11360(A) HS-SELL",
            "FELONY",
        )
        .case_number("SCNM"),
        // In the same case, possession the statute dismisses and seals.
        Row::conviction("M", "002002002000", "20100101", POSSESS, "MISDEMEANOR")
            .case_number("SCNM"),
    ];
    workspace.write("doj.csv", &csv(&rows, true));
    workspace.write(
        "policy.toml",
        b"name = \"dismiss all\"\ndisqualifiers-block-policy-relief = false\n\
          [[rule]]\nid = \"all\"\nwhen.section = [\"11360\"]\naction = \"dismiss\"\n\
          authority = \"Test authority 1\"\nseal = false\n",
    );
    workspace
        .run(&["doj.csv"], &["--no-letters", "--policy", "policy.toml"])
        .assert()
        .success();
    let text = workspace.pdf("out/cases/SCNM.pdf").text();
    assert!(
        text.contains("For count 2, the defendant is presumed eligible for relief under Health and Safety Code section 11361.8"),
        "{text}"
    );
    assert!(
        text.contains("For count 1, Health and Safety Code section 11361.8 gives no relief"),
        "{text}"
    );
    assert!(
        text.contains(
            "The conviction in count 1 (HS 11360(a), felony, convicted January 1, 2010) is dismissed (Test authority 1)."
        ),
        "{text}"
    );
    assert!(
        text.contains("The Court's record of conviction for count 2 is ordered sealed"),
        "{text}"
    );
    assert!(!text.contains("for count 1 is ordered sealed"), "{text}");
    // The filed order identifies the person for the DOJ's records, and asks for the records
    // HS 11361.5 does not allow to be kept to be destroyed.
    assert!(
        text.contains("The defendant is JANE Q DOE, born January 1, 1970, California Criminal Identification Index (CII) number 0123456789."),
        "{text}"
    );
    assert!(
        text.contains("for count 2 are records Health and Safety Code section 11361.5"),
        "{text}"
    );
    let redacted = workspace.pdf("out/bundles/filing-redacted.pdf").text();
    assert!(
        !redacted.contains("0123456789") && !redacted.contains("1970"),
        "{redacted}"
    );
}

/// No paper without a case number: the count goes to the office's review list (CSV and PDF),
/// the summary counts it, and no motion, exhibit row or letter is made for it.
#[test]
fn a_count_without_a_case_number_gets_no_paper_but_a_review_entry() {
    let workspace = Workspace::new();
    let rows = vec![
        Row::conviction("N", "001002001000", "20100101", POSSESS, "MISDEMEANOR").name("NONUM,NORA"),
        Row::conviction("W", "001002001000", "20100101", POSSESS, "MISDEMEANOR")
            .name("WITH,WALT")
            .case_number("SCNW"),
    ];
    workspace.write("doj.csv", &csv(&rows, true));
    workspace.run(&["doj.csv"], &[]).assert().success();
    let cases = workspace.files_under("out/cases");
    assert_eq!(cases.into_iter().collect::<Vec<_>>(), ["SCNW.pdf"]);
    let review = workspace.csv_rows("out/review/needs-case-number.csv");
    assert_eq!(review.len(), 2, "{review:?}");
    assert_eq!(review[1][0], "N");
    assert!(
        review[1]
            .last()
            .unwrap()
            .contains("case number (OFN) is not recorded")
    );
    let list = workspace.pdf("out/review/needs-case-number.pdf").text();
    assert!(
        list.contains("NORA NONUM") && list.contains("not for filing"),
        "{list}"
    );
    let filing = workspace.pdf("out/bundles/filing.pdf").text();
    assert!(
        !filing.contains("NONUM") && !filing.contains("NORA"),
        "{filing}"
    );
    assert!(
        filing.contains("To be assigned by the clerk"),
        "the filing's own number"
    );
    assert!(!workspace.exists("out/letters/N.en.pdf"));
    let summary = workspace.json("out/summary.json");
    assert_eq!(summary["statistics"]["relief_without_case_number"], 1);
}

/// CRC 2.111(1): the head of office first, then the filing attorney with the State Bar number;
/// the court title as the office writes it ("City and County of San Francisco"); the caption
/// says whether a hearing is asked for.
#[test]
fn attorney_block_court_title_and_hearing_line_in_the_caption() {
    let workspace = Workspace::new();
    let office = std::fs::read_to_string(office())
        .unwrap()
        .replace(
            "county = \"County of San Francisco\"",
            "county = \"City and County of San Francisco\"",
        )
        .replace(
            "head-of-office = \"ALEX RIVERA, District Attorney\"",
            "head-of-office = \"ALEX RIVERA, District Attorney\"\nhead-of-office-state-bar-number = \"111111\"",
        );
    workspace.write("office.toml", office.as_bytes());
    workspace.write("doj.csv", &csv(&completed_and_serving(), true));
    workspace
        .run(&["doj.csv"], &["--office", "office.toml", "--no-letters"])
        .assert()
        .success();
    let application = workspace.pdf("out/cases/SCNA.pdf").text();
    assert!(
        application.contains(
            "ALEX RIVERA, District Attorney (SBN 111111) JANE Q. PROSECUTOR (SBN 123456) Assistant District Attorney"
        ),
        "{application}"
    );
    assert!(
        application.contains("CITY AND COUNTY OF SAN FRANCISCO"),
        "{application}"
    );
    assert!(
        application.contains("No hearing requested"),
        "{application}"
    );
    let petition = workspace.pdf("out/cases/SCNB.pdf").text();
    assert!(petition.contains("Hearing date:"), "{petition}");
    assert!(!petition.contains("No hearing requested"), "{petition}");
    assert!(!petition.contains("No hearing is necessary"), "{petition}");
    assert!(
        petition.contains("unreasonable risk of danger to public safety"),
        "{petition}"
    );
    // The order finds no unreasonable risk and leaves the new term to the court, bounded by the
    // original (§ 11361.8(d)), instead of inventing one.
    assert!(
        petition.contains(
            "the Court finds that resentencing or dismissal would not pose an unreasonable risk"
        ),
        "{petition}"
    );
    // (The sentence may run onto the next page: its two halves are checked apart.)
    assert!(
        petition.contains("resentenced to a misdemeanor: a term of ____________, no longer than"),
        "{petition}"
    );
    assert!(
        petition.contains("original sentence (Health & Saf. Code, § 11361.8, subd. (d))"),
        "{petition}"
    );
}

/// A felony prior in 1995 (`prior`, as DOJ describes it), then a felony marijuana sale in court
/// case `case`: with a super strike prior (murder) the sale is not eligible; with a prior that
/// disqualifies only in a form the record does not show (kidnapping) it needs review.
fn prior_then_sale(subject: &str, prior: &str, sold: &str, case: &str) -> [Row; 2] {
    [
        Row::conviction(subject, "001002001000", "19950101", prior, "FELONY"),
        Row::conviction(subject, "002002001000", sold, "11360(A) HS-SELL", "FELONY")
            .case_number(case),
    ]
}

/// HS 11361.9(d): the People tell the court and the public defender which convictions they
/// challenge and why, and serve the notice; offences under current law are not listed.
#[test]
fn a_notice_of_challenge_lists_every_not_eligible_conviction_with_its_reason() {
    let workspace = Workspace::new();
    let mut rows = prior_then_sale("C", "187 PC-MURDER", "20100101", "SCNC").to_vec();
    rows.extend([
        // An offence after Prop 64: not a conviction the statute could relieve; not listed.
        Row::conviction("P", "001002001000", "20180101", POSSESS, "MISDEMEANOR")
            .case_number("SCNP"),
        Row::conviction("R", "001002001000", "20100101", POSSESS, "MISDEMEANOR")
            .case_number("SCNR"),
    ]);
    workspace.write("doj.csv", &csv(&rows, true));
    workspace
        .run(&["doj.csv"], &["--no-letters"])
        .assert()
        .success();
    let notice = workspace.pdf("out/bundles/notice-of-challenge.pdf");
    notice.assert_court_ready();
    let text = notice.body_text();
    assert!(text.contains("PEOPLE'S NOTICE OF CHALLENGE"), "{text}");
    assert!(
        text.contains("challenge relief for the one conviction of one person listed in Attachment A to this notice, “Convictions challenged.”"),
        "{text}"
    );
    // Dated on the last day to challenge: nothing is left "under review"; whatever the notice
    // does not challenge must be granted (§ 11361.9(f)).
    assert!(
        text.contains("This notice challenges no conviction other than those listed in Attachment A, and it withdraws no challenge the People have filed elsewhere, including the notices of challenge filed in the listed cases. The Court shall reduce or dismiss under section 11361.8 each conviction identified under section 11361.9 that the People do not challenge by July 1, 2020 (§ 11361.9, subd. (f))."),
        "{text}"
    );
    assert!(!text.contains("still reviewing"), "{text}");
    assert!(
        text.find("ATTACHMENT A: CONVICTIONS CHALLENGED") < text.find("PROOF OF SERVICE"),
        "the list before the proof of service: {text}"
    );
    assert!(
        text.contains("SCNC") && text.contains("PC 667(e)") && text.contains("(iv)(IV)"),
        "{text}"
    );
    assert!(!text.contains("SCNP") && !text.contains("SCNR"), "{text}");
    assert!(text.contains("PROOF OF SERVICE"), "{text}");

    // The same challenge filed in the defendant's own case, with its proof of service.
    assert_eq!(
        workspace.files_under("out/challenges"),
        BTreeSet::from(["SCNC.pdf".to_string()])
    );
    let notice = workspace.pdf("out/challenges/SCNC.pdf");
    notice.assert_court_ready();
    let text = notice.text();
    for expected in [
        "Case No.: SCNC",
        "PEOPLE'S NOTICE OF CHALLENGE",
        "the People challenge relief for the conviction of",
        "in this case listed in the table below",
        "for the reason stated beside it",
        "HS 11360(a) (Felony)",
        "(iv)(IV)",
        "does not meet the criteria of Health and Safety Code section 11361.8",
        "(§ 11361.9, subd. (c)(2))",
        "makes a reasonable effort to notify the defendant (§ 11361.9, subd. (e))",
        "PROOF OF SERVICE",
        "I served the People's notice of challenge in this case on the San Francisco Public Defender",
    ] {
        assert!(text.contains(expected), "{expected:?} in {text}");
    }
}

/// HS 11361.9(b), (f): the People have until July 1, 2020 to challenge, and whatever they have
/// not challenged by then must be granted. Before that day a notice may leave convictions under
/// review, saying by when they will be decided; from that day on the summary tells the office
/// to decide them before filing, and after it that a challenge may be untimely.
#[test]
fn the_notice_of_challenge_and_the_summary_follow_the_challenge_deadline() {
    let workspace = Workspace::new();
    // C: not eligible (a super strike prior keeps the sale a felony). N: needs review.
    let rows = [
        prior_then_sale("C", "187 PC-MURDER", "20100101", "SCNC"),
        prior_then_sale("N", "207(A) PC-KIDNAPPING", "20050101", "SCNN"),
    ]
    .concat();
    workspace.write("doj.csv", &csv(&rows, true));
    // The same with a second person whose conviction needs review.
    let mut two_in_review = rows.clone();
    two_in_review.extend(prior_then_sale(
        "M",
        "207(A) PC-KIDNAPPING",
        "20050101",
        "SCNM",
    ));
    workspace.write("doj-two.csv", &csv(&two_in_review, true));
    let office = sample_office();
    let run_on = |input: &str, as_of: &str, out: &str| {
        workspace
            .clearance()
            .args(["run", input, "--county", "SAN FRANCISCO", "--no-letters"])
            .args(["--as-of", as_of, "--out", out, "--office", &office])
            .assert()
            .success();
    };
    let run = |as_of: &str, out: &str| run_on("doj.csv", as_of, out);
    let notice_text = |out: &str| {
        workspace
            .pdf(&format!("{out}/bundles/notice-of-challenge.pdf"))
            .body_text()
    };
    let attention = |out: &str| -> Vec<String> {
        serde_json::from_value(workspace.json(&format!("{out}/summary.json"))["attention"].clone())
            .unwrap()
    };

    run("2020-03-02", "before");
    let text = notice_text("before");
    assert!(
        text.contains("The People are still reviewing one other conviction identified under section 11361.9; this notice does not state whether the People challenge relief for it. By July 1, 2020, the People will inform the Court and the San Francisco Public Defender whether they challenge relief for it (§ 11361.9, subds. (b), (d)). The Court shall reduce or dismiss under section 11361.8 any conviction identified under section 11361.9 that the People do not challenge by July 1, 2020 (§ 11361.9, subd. (f))."),
        "{text}"
    );
    assert!(attention("before").is_empty());
    run_on("doj-two.csv", "2020-03-02", "before-two");
    let text = notice_text("before-two");
    assert!(
        text.contains("The People are still reviewing two other convictions identified under section 11361.9; this notice does not state whether the People challenge relief for them. By July 1, 2020, the People will inform the Court and the San Francisco Public Defender whether they challenge relief for each of them"),
        "{text}"
    );
    assert!(
        !workspace
            .pdf("before/summary.pdf")
            .text()
            .contains("Before filing")
    );

    run("2020-07-01", "deadline");
    let text = notice_text("deadline");
    assert!(!text.contains("still reviewing"), "{text}");
    assert!(
        text.contains(
            "This notice challenges no conviction other than those listed in Attachment A"
        ),
        "{text}"
    );
    let notes = attention("deadline");
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with(
            "1 conviction needs review, and these papers are dated July 1, 2020, the last day"
        ) && notes[0].contains("decide it today. It is the determination marked needs_review"),
        "{notes:?}"
    );
    let summary = workspace.pdf("deadline/summary.pdf").text();
    assert!(
        summary.contains("Before filing") && summary.contains("1 conviction needs review"),
        "{summary}"
    );

    run("2021-01-04", "after");
    // `render`, which the notes send the office to, says the same from the determinations.
    let rendered = workspace
        .clearance()
        .args([
            "render",
            "after/results/determinations.json",
            "--no-letters",
        ])
        .args(["--out", "after-rendered", "--office", &office])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&rendered.get_output().stderr).into_owned();
    assert!(
        stderr.contains("before filing: 1 conviction needs review, and the last day")
            && stderr.contains("before filing: 1 conviction is determined not eligible"),
        "{stderr}"
    );
    let notes = attention("after");
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes[0].contains("has passed")
            && notes[0].contains("check whether it was challenged in time"),
        "{notes:?}"
    );
    assert!(
        notes[1].starts_with(
            "1 conviction is determined not eligible, and these papers are dated after July 1, 2020"
        ) && notes[1].contains("may be untimely"),
        "{notes:?}"
    );
}

/// What an order grants one count, from the paper's own words: relief and whether it is the
/// petition's (sentence) or the People's policy's.
fn relief_class(words: &str) -> &'static str {
    let words = words.to_ascii_lowercase();
    if words.contains("people's policy") || words.starts_with("dismissed (") {
        if words.contains("misdemeanor") {
            "policy misdemeanor"
        } else if words.contains("infraction") {
            "policy infraction"
        } else {
            "policy dismissal"
        }
    } else if words.contains("misdemeanor") {
        "misdemeanor"
    } else if words.contains("infraction") {
        "infraction"
    } else {
        "dismissal"
    }
}

/// The per-case orders and the omnibus order's exhibits, rendered for the same determinations,
/// grant every count the same relief (compared count by count, from the PDFs' text).
#[test]
fn per_case_orders_and_the_omnibus_exhibits_agree_count_by_count() {
    use std::collections::BTreeMap;
    let workspace = Workspace::new();
    let policy = repository()
        .join("samples/policies/los-angeles-2019.toml")
        .display()
        .to_string();
    let sample = repository()
        .join("samples/doj_sample.csv")
        .display()
        .to_string();
    workspace
        .run(&[&sample], &["--no-letters", "--policy", &policy])
        .assert()
        .success();
    // The exhibits of the redacted filing: case number, count, statute, level, date, relief.
    let exhibit_row = regex::Regex::new(
        r"(SCSF\d+) (\d+) ((?:PC 664/)?(?:[A-Z]{2} )?\S+) (?:Felony|Misdemeanor|Infraction|Unknown) (?:\d\d/\d\d/\d{4}|unknown) (Dismiss and seal \(legally invalid\)|Dismiss sentence \(legally invalid\)|Redesignate as misdemeanor|Redesignate as infraction|Recall and resentence as misdemeanor|Recall and resentence as infraction|Dismiss and seal \(People's policy\)|Dismiss \(People's policy\)|Reduce to misdemeanor \(People's policy\)|Reduce to infraction \(People's policy\))",
    )
    .unwrap();
    // Both omnibus filings: the application (no hearing) and the petition (still serving); a
    // count is in exactly one of them.
    let mut exhibits: BTreeMap<(String, String), &str> = BTreeMap::new();
    for bundle in ["filing-redacted", "petition-redacted"] {
        let filing = workspace.pdf(&format!("out/bundles/{bundle}.pdf")).text();
        for row in exhibit_row.captures_iter(&filing) {
            let previous = exhibits.insert(
                (row[1].to_string(), row[2].to_string()),
                relief_class(&row[4]),
            );
            assert!(previous.is_none(), "{} count {} twice", &row[1], &row[2]);
        }
    }
    assert!(exhibits.len() > 100, "{} exhibit rows read", exhibits.len());
    // The decrees of every per-case order.
    let decree = regex::Regex::new(
        r"(?:The convictions? in|The sentence for) (.+?) (?:is|are) (dismissed and sealed|dismissed as legally invalid|dismissed \(|redesignated as (?:an? )?(?:misdemeanors?|infractions?)|reduced to (?:an? )?(?:misdemeanors?|infractions?)|recalled and the defendant is resentenced to (?:an? )?(?:misdemeanor|infraction))",
    )
    .unwrap();
    let count = regex::Regex::new(r"count (\d+) \(").unwrap();
    let mut orders: BTreeMap<(String, String), &str> = BTreeMap::new();
    for file in workspace.files_under("out/cases") {
        let case = file.trim_end_matches(".pdf").to_string();
        let text = workspace.pdf(&format!("out/cases/{file}")).text();
        let order = &text[text.find("[PROPOSED] ORDER").expect("an order")..];
        for found in decree.captures_iter(order) {
            let mut class = relief_class(&found[2]);
            if found[2].starts_with("dismissed (") {
                class = "policy dismissal";
            } else if found[2].starts_with("reduced to") {
                class = if found[2].contains("misdemeanor") {
                    "policy misdemeanor"
                } else {
                    "policy infraction"
                };
            }
            for number in count.captures_iter(&found[1]) {
                orders.insert((case.clone(), number[1].to_string()), class);
            }
        }
    }
    let differing: Vec<_> = exhibits
        .iter()
        .filter(|(key, class)| orders.get(*key) != Some(*class))
        .map(|(key, class)| (key, *class, orders.get(key).copied()))
        .collect();
    assert!(
        differing.is_empty(),
        "{} differ, e.g. {:?}",
        differing.len(),
        &differing[..differing.len().min(5)]
    );
    // The statute's public-safety standard (§ 11361.8(b)) is never applied to relief the People
    // ask for on their policy alone: no finding on it without statutory petitions (A-4).
    let petition = workspace
        .pdf("out/bundles/petition-redacted.pdf")
        .body_text();
    assert!(
        petition.contains("EXHIBIT A-4") || !petition.contains("unreasonable risk"),
        "{petition}"
    );
    let missing: Vec<_> = orders
        .keys()
        .filter(|key| !exhibits.contains_key(*key))
        .collect();
    assert!(
        missing.is_empty(),
        "ordered but not read from an exhibit: {missing:?}"
    );
}

/// Sentences still being served are petitioned in their own omnibus filing, with a hearing
/// (the office profile's date and time, or blanks for the clerk) and the public-safety finding;
/// the no-hearing application never carries them.
#[test]
fn serving_sentences_are_petitioned_in_their_own_filing_and_full_exhibits_sealed() {
    let workspace = Workspace::new();
    let office = std::fs::read_to_string(office()).unwrap().replace(
        "judge-title = \"Judge of the Superior Court\"",
        "judge-title = \"Judge of the Superior Court\"\nhearing-date = \"January 15, 2021\"\nhearing-time = \"9:00 a.m.\"\nomnibus-petition-case-number = \"CPF-21-000123\"",
    );
    workspace.write("office.toml", office.as_bytes());
    workspace.write("doj.csv", &csv(&completed_and_serving(), true));
    workspace
        .run(&["doj.csv"], &["--office", "office.toml", "--no-letters"])
        .assert()
        .success();
    let application = workspace.pdf("out/bundles/filing.pdf");
    application.assert_court_ready();
    let application = application.text();
    assert!(application.contains("No hearing required"), "{application}");
    assert!(application.contains("SCNA"), "{application}");
    for absent in ["SCNB", "A-4", "Hearing date", "unreasonable risk"] {
        assert!(!application.contains(absent), "{absent} in {application}");
    }
    let petition = workspace.pdf("out/bundles/petition.pdf");
    petition.assert_court_ready();
    let petition = petition.body_text();
    for expected in [
        "PETITION FOR RECALL OR DISMISSAL OF SENTENCES",
        "Case No.: CPF-21-000123",
        "Hearing date: January 15, 2021",
        "Time: 9:00 a.m.",
        "EXHIBIT A-4",
        "SCNB",
        "[ ] Having heard the petition on ______________, [ ] on the written waiver of appearance of each person listed, filed ______________, the Court finds that recalling or dismissing each sentence listed in Exhibit A-4 would not pose an unreasonable risk of danger to public safety",
        "May Not Be Examined Without Court Order—Contains material from conditionally sealed record",
        "no longer than the original sentence",
    ] {
        assert!(petition.contains(expected), "{expected:?} in {petition}");
    }
    for absent in ["SCNA", "No hearing required", "No hearing is necessary"] {
        assert!(!petition.contains(absent), "{absent} in {petition}");
    }
    assert!(workspace.exists("out/bundles/petition-redacted.pdf"));
    // The per-case petition takes the same hearing from the profile.
    let case = workspace.pdf("out/cases/SCNB.pdf").text();
    assert!(case.contains("Hearing date: January 15, 2021"), "{case}");

    // The full exhibits are lodged under seal with an application to seal them (CRC 2.550-
    // 2.551): its declaration, proof of service, and an order naming the exhibits as attached.
    let sealing = workspace.pdf("out/bundles/sealing-application.pdf");
    sealing.assert_court_ready();
    let sealing = sealing.body_text();
    for expected in [
        "PEOPLE'S APPLICATION TO FILE EXHIBIT A CONDITIONALLY UNDER SEAL",
        "lodge the full exhibit conditionally under seal",
        "DECLARATION OF JANE Q. PROSECUTOR",
        "I declare under penalty of perjury",
        "PROOF OF SERVICE",
        "MEMORANDUM OF POINTS AND AUTHORITIES",
        "(rule 2.551(b)(4))",
        "[PROPOSED] ORDER SEALING EXHIBIT A",
        "1 of those convictions (Exhibit A-1) are to be sealed",
        "The overriding interest is the confidentiality of that information and the effectiveness of that sealing. (1) That interest overcomes the right of public access",
        "(5) no less restrictive means exist",
        "The full version of Exhibit A (Exhibit A-1) to the People's omnibus notice of",
        "Exhibit A (Exhibit A-4) to the People's omnibus notice of non-challenge and petition",
        "shall be filed under seal",
    ] {
        assert!(sealing.contains(expected), "{expected:?} in {sealing}");
    }
    // Nothing lodged, nothing to seal.
    workspace
        .run(
            &["doj.csv"],
            &[
                "--office",
                "office.toml",
                "--no-letters",
                "--redacted-exhibits",
                "--out",
                "public",
            ],
        )
        .assert()
        .success();
    assert!(!workspace.exists("public/bundles/sealing-application.pdf"));
    assert!(workspace.exists("public/bundles/petition-redacted.pdf"));
}

/// Pleading text sits on the numbered lines on every page: after the caption, after a table of
/// counts, and after a table that breaks across pages and repeats its header (18 counts).
#[test]
fn pleading_text_stays_on_the_numbered_lines_after_a_table_breaks() {
    let workspace = Workspace::new();
    let mut rows: Vec<Row> = (1..=18)
        .map(|count| {
            Row::conviction(
                "A",
                &format!("001002{count:03}000"),
                "20100101",
                POSSESS,
                "MISDEMEANOR",
            )
            .case_number("SCNA")
        })
        .collect();
    rows.push(
        Row::conviction("B", "001002001000", "20190101", SALE, "FELONY")
            .set("CYC_DATE", "20160101")
            .sentence("5", "Y")
            .case_number("SCNB"),
    );
    rows.push(Row::conviction(
        "C",
        "001002001000",
        "19950101",
        "187 PC-MURDER",
        "FELONY",
    ));
    rows.push(
        Row::conviction(
            "C",
            "002002001000",
            "20100101",
            "11360(A) HS-SELL",
            "FELONY",
        )
        .case_number("SCNC"),
    );
    workspace.write("doj.csv", &csv(&rows, true));
    workspace
        .run(&["doj.csv"], &["--no-letters"])
        .assert()
        .success();
    let long = workspace.pdf("out/cases/SCNA.pdf");
    assert!(long.page_count() >= 6, "the table of 18 counts breaks");
    for file in [
        "out/cases/SCNA.pdf",
        "out/cases/SCNB.pdf",
        "out/bundles/filing.pdf",
        "out/bundles/petition.pdf",
        "out/bundles/sealing-application.pdf",
        "out/bundles/notice-of-challenge.pdf",
        "out/challenges/SCNC.pdf",
        "out/bundles/case-packets.pdf",
    ] {
        workspace.pdf(file).assert_text_on_the_line_grid();
    }
}
