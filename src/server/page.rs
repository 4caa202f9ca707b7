//! The web page at `/`: server-rendered HTML, no script, so the basic flow works with the
//! keyboard and with JavaScript off. Upload, choose the county and date, submit; the batch page
//! refreshes itself until the batch is done, then links its files.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::AppState;
use super::api::{Refusal, accept_upload, output_file, problem, read_rest};
use super::jobs::JobState;

/// Escapes text for HTML (every value on the page is data).
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

pub(super) fn layout(title: &str, body: &str, refresh: bool) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{}\
         <title>{} · clearance</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         label{{display:block;margin-top:.8rem;font-weight:600}}\
         input,select,button{{font-size:1rem}} button{{margin-top:1rem;padding:.4rem 1rem}}\
         table{{border-collapse:collapse;width:100%}} td,th{{border-bottom:1px solid #ccc;padding:.3rem;text-align:left;vertical-align:top}}\
         .scroll td{{white-space:nowrap}} .scroll td.reason{{white-space:normal;min-width:22rem}}\
         .scroll td.rule{{white-space:normal;overflow-wrap:anywhere;min-width:9rem}} td.bar{{width:45%}} .scroll{{overflow-x:auto}}\
         .attention{{border:2px solid #b35c00;padding:.3rem .8rem;margin:1rem 0}}\
         :focus{{outline:3px solid #1a5fb4}}</style></head><body><main>{}</main></body></html>",
        if refresh {
            "<meta http-equiv=\"refresh\" content=\"2\">"
        } else {
            ""
        },
        escape(title),
        body
    ))
}

pub(crate) async fn index(State(state): State<Arc<AppState>>) -> Html<String> {
    let mut counties = String::new();
    for county in crate::config::County::all() {
        let name = county.name();
        let selected = if name == "SAN FRANCISCO" {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            counties,
            "<option value=\"{0}\"{selected}>{1}</option>",
            escape(name),
            escape(&county.title_case())
        );
    }
    let mut policies = String::new();
    for policy in &super::api::SHIPPED_POLICIES {
        let _ = write!(
            policies,
            "<option value=\"{}\">{}</option>",
            escape(policy.name),
            escape(policy.label)
        );
    }
    let today = crate::model::Date::today_utc().to_string();
    let mut batches = String::new();
    for job in state.jobs.list().unwrap_or_default() {
        let _ = write!(
            batches,
            "<tr><td><a href=\"/batches/{0}\">{0}</a></td><td>{1}</td><td>{2}</td><td>{3:?}</td></tr>",
            escape(&job.id),
            escape(&job.created),
            escape(&job.options.county),
            job.state
        );
    }
    let sign_out = super::signin::sign_out_button(&state);
    layout(
        "New batch",
        &format!(
            "<h1>Prop 64 relief: new batch</h1>\
             <form method=\"post\" action=\"/batches\" enctype=\"multipart/form-data\">\
             <label for=\"doj\">DOJ file(s)</label><input id=\"doj\" name=\"doj\" type=\"file\" multiple required>\
             <label for=\"contacts\">Contacts (CSV, optional)</label><input id=\"contacts\" name=\"contacts\" type=\"file\">\
             <label for=\"office\">Office profile (TOML, optional when the server has one)</label><input id=\"office\" name=\"office\" type=\"file\">\
             <label for=\"shipped_policy\">County policy</label><select id=\"shipped_policy\" name=\"shipped_policy\">\
             <option value=\"\" selected>None: the statute alone</option>{policies}</select>\
             <label for=\"policy\">or upload a policy (clearance TOML, or BEAR options JSON)</label><input id=\"policy\" name=\"policy\" type=\"file\">\
             <label for=\"county\">County</label><select id=\"county\" name=\"county\">{counties}</select>\
             <label for=\"as_of\">As of</label><input id=\"as_of\" name=\"as_of\" type=\"date\" value=\"{today}\" required>\
             <label><input type=\"checkbox\" name=\"redacted_exhibits\" value=\"true\"> Public (redacted) exhibits only</label>\
             <button type=\"submit\">Start</button></form>\
             <h2>Batches</h2><table><thead><tr><th>Batch</th><th>Created</th><th>County</th><th>State</th></tr></thead><tbody>{batches}</tbody></table>{sign_out}"
        ),
        false,
    )
}

/// The form's post (same-origin only, as every post: `api::refuse_cross_site`), then a
/// redirect to the batch's page.
pub(crate) async fn submit(
    State(state): State<Arc<AppState>>,
    mut multipart: Multipart,
) -> Response {
    match accept_upload(&state, &mut multipart).await {
        Ok(job) => Redirect::to(&format!("/batches/{}", job.id)).into_response(),
        Err(refusal) => {
            // A browser shows a reset connection, not this page, when the server closes with
            // the upload unread (a full queue refuses before reading anything).
            read_rest(&mut multipart).await;
            refusal_page(&refusal)
        }
    }
}

/// A form another site's page made the browser post here, refused (`api::refuse_cross_site`).
pub(super) fn cross_site_page() -> Response {
    let heading = "Not accepted: this form came from another site";
    let body = format!(
        "<h1>{heading}</h1><p role=\"alert\">Your browser was sent here by a page of another \
         site, which may not start, change or delete anything in clearance. Nothing was done.</p>\
         <p><a href=\"/\">Go to clearance's own page</a></p>"
    );
    (StatusCode::FORBIDDEN, layout(heading, &body, false)).into_response()
}

/// A refused upload as a page: what is wrong, every bad row located (file, line, column,
/// field), and the way back to the form.
fn refusal_page(refusal: &Refusal) -> Response {
    let mut rows = String::new();
    for diagnostic in &refusal.diagnostics {
        let _ = write!(
            rows,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&diagnostic.severity),
            escape(&diagnostic.file),
            diagnostic
                .line
                .map(|line| line.to_string())
                .unwrap_or_default(),
            diagnostic
                .column
                .map(|column| column.to_string())
                .unwrap_or_default(),
            escape(diagnostic.field.as_deref().unwrap_or("")),
            escape(&diagnostic.message)
        );
    }
    let table = if rows.is_empty() {
        String::new()
    } else {
        format!(
            "<table><thead><tr><th>Severity</th><th>File</th><th>Line</th><th>Column</th>\
             <th>Field</th><th>Problem</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    };
    // Said for the person at the form, not in HTTP's words.
    let heading = match refusal.status {
        StatusCode::UNPROCESSABLE_ENTITY => "Not accepted: the upload has problems to fix",
        StatusCode::PAYLOAD_TOO_LARGE => "Not accepted: the upload is too large",
        StatusCode::TOO_MANY_REQUESTS => {
            "Not accepted: too many batches are waiting; try again in a minute"
        }
        _ => "Not accepted",
    };
    let files_note = if rows.is_empty() {
        ""
    } else {
        "<p><code>input/doj-1.csv</code> is the first DOJ file you chose, \
         <code>input/doj-2.csv</code> the second, and so on. Lines are the file's own line numbers (a header is line 1).</p>"
    };
    let mut response = layout(
        heading,
        &format!(
            "<h1>{}</h1><p role=\"alert\">{}</p>{files_note}{table}<p><a href=\"/\">Back to the form</a></p>",
            escape(heading),
            escape(&refusal.detail)
        ),
        false,
    )
    .into_response();
    *response.status_mut() = refusal.status;
    response
}

pub(crate) async fn batch(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let Ok(Some(job)) = state.jobs.get(&id) else {
        return problem(StatusCode::NOT_FOUND, "no such batch");
    };
    let progress = state.jobs.progress(&job.id);
    let running = matches!(job.state, JobState::Queued | JobState::Running);
    let mut body = format!(
        "<h1>Batch {}</h1><p>County {} · as of {} · <strong>{:?}</strong></p>",
        escape(&job.id),
        escape(&job.options.county),
        escape(&job.options.as_of),
        job.state
    );
    if let Some(progress) = progress {
        let _ = write!(
            body,
            "<p><label for=\"progress\">{}</label><progress id=\"progress\" max=\"{}\" value=\"{}\"></progress></p>",
            escape(progress.stage.label()),
            progress.total.max(1),
            progress.done
        );
    }
    if let Some(error) = &job.error {
        let _ = write!(body, "<p role=\"alert\">{}</p>", escape(error));
    }
    if job.state == JobState::Succeeded {
        body.push_str(&summary_html(&state, &job.id));
        let _ = write!(
            body,
            "<p><a href=\"/batches/{}/determinations\">Determinations, those needing review first</a></p>",
            escape(&job.id)
        );
        body.push_str(&files_html(&state, &job.id));
    }
    if !running {
        let _ = write!(
            body,
            "<p><a href=\"/batches/{}/delete\">Delete this batch and all its files…</a></p>",
            escape(&job.id)
        );
    }
    body.push_str(super::signin::sign_out_button(&state));
    layout(&format!("Batch {}", job.id), &body, running).into_response()
}

/// Every bundle and report of a finished batch, named for a clerk, then the zip. Per-case
/// papers and letters are linked from the determinations table.
fn files_html(state: &AppState, id: &str) -> String {
    const LABELS: [(&str, &str); 14] = [
        ("summary.pdf", "Summary report"),
        (
            "bundles/filing-redacted.pdf",
            "Omnibus filing (public, redacted)",
        ),
        (
            "bundles/filing.pdf",
            "Omnibus filing (full, to lodge under seal)",
        ),
        (
            "bundles/petition-redacted.pdf",
            "Omnibus petition (public, redacted)",
        ),
        (
            "bundles/petition.pdf",
            "Omnibus petition (full, to lodge under seal)",
        ),
        (
            "bundles/sealing-application.pdf",
            "Application to file under seal",
        ),
        ("bundles/notice-of-challenge.pdf", "Notice of challenge"),
        (
            "bundles/case-packets.pdf",
            "Case packets (every case's motion and order)",
        ),
        ("bundles/letters.en.pdf", "Letters in English"),
        ("bundles/letters.es.pdf", "Letters in Spanish"),
        (
            "bundles/letters.en-es.pdf",
            "Letters in English and Spanish",
        ),
        ("bundles/mailing-list.csv", "Mailing list"),
        ("results/determinations.csv", "Determinations (CSV)"),
        ("errors.json", "Warnings about the input"),
    ];
    let out = state.jobs.folder(id).join("out");
    let mut paths: Vec<String> = LABELS.iter().map(|(path, _)| (*path).to_string()).collect();
    // Split volumes and anything else in the bundle and review folders, by name.
    for folder in ["bundles", "review"] {
        let mut names: Vec<String> = std::fs::read_dir(out.join(folder))
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|entry| format!("{folder}/{}", entry.file_name().to_string_lossy()))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names.retain(|name| !paths.contains(name));
        paths.extend(names);
    }
    let mut html = String::from("<h2>Files</h2><ul>");
    for path in &paths {
        if output_file(state, id, path).is_none() {
            continue;
        }
        let label = LABELS
            .iter()
            .find(|(known, _)| known == path)
            .map_or(path.as_str(), |(_, label)| label);
        let _ = write!(
            html,
            "<li><a href=\"/v1/batches/{}/files/{}\">{}</a></li>",
            escape(id),
            escape(path),
            escape(label)
        );
    }
    let _ = write!(
        html,
        "<li><a href=\"/v1/batches/{}/archive.zip\">Everything, as one zip file</a></li></ul>",
        escape(id)
    );
    html
}

/// The confirmation before a batch is deleted (a link cannot delete anything).
pub(crate) async fn confirm_delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> Response {
    let Ok(Some(job)) = state.jobs.get(&id) else {
        return problem(StatusCode::NOT_FOUND, "no such batch");
    };
    layout(
        "Delete batch",
        &format!(
            "<h1>Delete batch {0}?</h1><p>Every file of this batch goes: the uploaded DOJ files \
             and contacts, the papers, the letters. This cannot be undone.</p>\
             <form method=\"post\" action=\"/batches/{0}/delete\"><button type=\"submit\">Delete for good</button></form>\
             <p><a href=\"/batches/{0}\">Keep it</a></p>",
            escape(&job.id)
        ),
        false,
    )
    .into_response()
}

/// The confirmed deletion (same-origin only, as every post), then back to the list.
pub(crate) async fn delete(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    match state.jobs.get(&id) {
        Ok(Some(job)) => match state.jobs.delete(&job.id) {
            Ok(_) => Redirect::to("/").into_response(),
            Err(error) => problem(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
        },
        _ => problem(StatusCode::NOT_FOUND, "no such batch"),
    }
}

/// The summary's numbers as HTML: outcomes with a bar each (no script, no image).
fn summary_html(state: &AppState, id: &str) -> String {
    let Some(path) = output_file(state, id, "summary.json") else {
        return String::new();
    };
    let Ok(summary) = std::fs::read(&path)
        .map_err(|_| ())
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|_| ()))
    else {
        return String::new();
    };
    let statistics = &summary["statistics"];
    let total = statistics["determinations"].as_u64().unwrap_or(0).max(1);
    let mut html = String::from("<h2>Summary</h2>");
    // The challenge deadline's notes come first: they are what must be done before filing.
    let attention = summary["attention"].as_array().cloned().unwrap_or_default();
    if !attention.is_empty() {
        html.push_str("<div class=\"attention\" role=\"note\"><strong>Before filing</strong>");
        for note in attention.iter().filter_map(serde_json::Value::as_str) {
            let _ = write!(html, "<p>{}</p>", escape(note));
        }
        html.push_str("</div>");
    }
    let _ = write!(
        html,
        "<p>Rules: {} · {} DOJ rows read · {} warning(s) about the input</p>\
         <table><thead><tr><th>Outcome</th><th>Counts</th><th></th></tr></thead><tbody>",
        escape(summary["rules"]["name"].as_str().unwrap_or("unknown")),
        summary["input_rows"].as_u64().unwrap_or(0),
        summary["warnings"].as_u64().unwrap_or(0),
    );
    for (key, label) in crate::render::documents::OUTCOME_LABELS {
        let count = statistics["by_outcome"][key].as_u64().unwrap_or(0);
        let _ = write!(
            html,
            "<tr><td><a href=\"/batches/{}/determinations?outcome={key}\">{label}</a></td><td>{count}</td>\
             <td class=\"bar\"><div style=\"background:#1a5fb4;height:.8rem;width:{}%\"></div></td></tr>",
            escape(id),
            count * 100 / total
        );
    }
    let _ = write!(
        html,
        "</tbody></table><p>{} people in the file; {} counts decided; {} challenged; {} with relief but no case number.</p>",
        statistics["people"].as_u64().unwrap_or(0),
        statistics["determinations"].as_u64().unwrap_or(0),
        statistics["challenged"].as_u64().unwrap_or(0),
        statistics["relief_without_case_number"]
            .as_u64()
            .unwrap_or(0),
    );
    by_section_html(&mut html, id, statistics);
    impact_html(&mut html, statistics);
    html
}

/// A value for a query string: every byte but unreserved ones percent-encoded.
fn query_value(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(char::from(byte));
        } else {
            let _ = write!(encoded, "%{byte:02X}");
        }
    }
    encoded
}

/// The outcomes in the summary report's order ([`crate::render::documents::OUTCOME_LABELS`]),
/// with short labels for the section table's columns and `summary.typ`'s chart colours.
const OUTCOME_COLUMNS: [(&str, &str, &str); 5] = [
    ("dismiss_and_seal", "Dismiss and seal", "#1b6e3a"),
    ("redesignate_misdemeanor", "Misdemeanor", "#4a90c2"),
    ("redesignate_infraction", "Infraction", "#8ec3e8"),
    ("not_eligible", "Not eligible", "#b8b8b8"),
    ("needs_review", "Needs review", "#d98c1f"),
];

/// Decisions by code section, as `summary.pdf` charts them: the numbers in cells (what a screen
/// reader reads) and a stacked bar beside them, scaled to the largest section.
fn by_section_html(html: &mut String, id: &str, statistics: &serde_json::Value) {
    let Some(sections) = statistics["by_section"].as_object() else {
        return;
    };
    let count = |counts: &serde_json::Value, key: &str| counts[key].as_u64().unwrap_or(0);
    let total_of = |counts: &serde_json::Value| -> u64 {
        OUTCOME_COLUMNS
            .iter()
            .map(|(key, _, _)| count(counts, key))
            .sum()
    };
    let largest = sections.values().map(total_of).max().unwrap_or(0).max(1);
    html.push_str(
        "<h3>Decisions by section</h3><div class=\"scroll\"><table><thead><tr><th>Section</th>",
    );
    for (_, label, _) in OUTCOME_COLUMNS {
        let _ = write!(html, "<th>{label}</th>");
    }
    html.push_str("<th>Total</th><th aria-hidden=\"true\"></th></tr></thead><tbody>");
    for (section, counts) in sections {
        let total = total_of(counts);
        let _ = write!(
            html,
            "<tr><td><a href=\"/batches/{}/determinations?section={}\">{}</a></td>",
            escape(id),
            escape(&query_value(section)),
            escape(section)
        );
        for (key, _, _) in OUTCOME_COLUMNS {
            let _ = write!(html, "<td>{}</td>", count(counts, key));
        }
        let _ = write!(
            html,
            "<td>{total}</td><td class=\"bar\" aria-hidden=\"true\"><div style=\"display:flex;height:.8rem;width:{}%\">",
            total * 100 / largest
        );
        for (key, label, colour) in OUTCOME_COLUMNS {
            let value = count(counts, key);
            if value > 0 {
                let _ = write!(
                    html,
                    "<div title=\"{label}: {value}\" style=\"background:{colour};flex:{value}\"></div>"
                );
            }
        }
        html.push_str("</div></td></tr>");
    }
    html.push_str("</tbody></table></div><p class=\"legend\">");
    for (_, label, colour) in OUTCOME_COLUMNS {
        let _ = write!(
            html,
            "<span><span style=\"display:inline-block;width:.8rem;height:.8rem;background:{colour}\"></span> {label}</span> "
        );
    }
    html.push_str("</p>");
}

/// What the decisions do for people, beside what dismissing every Prop 64 conviction would do.
fn impact_html(html: &mut String, statistics: &serde_json::Value) {
    let chosen = &statistics["impact"];
    let all = &statistics["impact_if_all_prop64_dismissed"];
    html.push_str(
        "<h3>Impact on people</h3><table><thead><tr><th></th><th>These decisions</th>\
         <th>Dismiss all Prop 64</th></tr></thead><tbody>",
    );
    for (key, label) in [
        (
            "people_with_some_relief",
            "People with at least one dismissal or reduction",
        ),
        (
            "people_left_with_no_felony",
            "People left with no felony conviction",
        ),
        (
            "people_left_with_no_conviction",
            "People left with no conviction at all",
        ),
    ] {
        let _ = write!(
            html,
            "<tr><td>{label}</td><td>{}</td><td>{}</td></tr>",
            chosen[key].as_u64().unwrap_or(0),
            all[key].as_u64().unwrap_or(0)
        );
    }
    html.push_str("</tbody></table>");
}

/// Each court case's paper, by (case numbers joined with "; ", SUBJECT_ID): the file stems the
/// batch gave its `cases/` files.
fn case_files(
    records: &[crate::output::DeterminationRecord],
) -> std::collections::HashMap<(String, String), String> {
    crate::plan::plan(records, &crate::config::Contacts::default(), false)
        .cases
        .into_iter()
        .map(|case| {
            (
                (case.case_numbers.join("; "), case.subject_id),
                case.file_stem,
            )
        })
        .collect()
}

/// A filter's value, when one is given.
fn wanted(value: Option<&String>) -> Option<&str> {
    value
        .map(String::as_str)
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// The table's filters, from the query string.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct TableQuery {
    outcome: Option<String>,
    flag: Option<String>,
    section: Option<String>,
    case: Option<String>,
    page: Option<usize>,
}

const ROWS_PER_PAGE: usize = 100;

/// The determinations of a batch as a table: those needing review first, then by case number;
/// filtered by outcome, flag, section and case number; paginated on the server.
pub(crate) async fn determinations(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    axum::extract::Query(query): axum::extract::Query<TableQuery>,
) -> Response {
    let Some(path) = output_file(&state, &id, "results/determinations.json") else {
        return problem(StatusCode::NOT_FOUND, "no determinations for that batch");
    };
    // Tens of thousands of rows: read (once, typed) and planned off the async threads.
    let loaded = tokio::task::spawn_blocking(move || {
        let bytes = std::fs::read(&path).ok()?;
        let records: Vec<crate::output::DeterminationRecord> =
            serde_json::from_slice(&bytes).ok()?;
        let case_files = case_files(&records);
        Some((records, case_files))
    })
    .await;
    let Ok(Some((records, case_files))) = loaded else {
        return problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unreadable determinations",
        );
    };
    let case_wanted = wanted(query.case.as_ref()).map(str::to_uppercase);
    let mut rows: Vec<&crate::output::DeterminationRecord> = records
        .iter()
        .filter(|record| {
            wanted(query.outcome.as_ref()).is_none_or(|outcome| record.outcome == outcome)
        })
        .filter(|record| {
            wanted(query.section.as_ref()).is_none_or(|section| {
                record.statute.contains(section)
                    || crate::eligibility::summary::section_key(
                        Some(record.code.as_str()).filter(|code| !code.is_empty()),
                        &record.section,
                    ) == section
            })
        })
        .filter(|record| {
            wanted(query.flag.as_ref())
                .is_none_or(|flag| record.flags.iter().any(|each| each == flag))
        })
        .filter(|record| {
            case_wanted.as_ref().is_none_or(|case| {
                record
                    .case_numbers
                    .iter()
                    .any(|number| number.to_uppercase().contains(case.as_str()))
            })
        })
        .collect();
    rows.sort_by_key(|record| {
        (
            record.outcome != "needs_review",
            record.case_numbers.join("; "),
            record.count_key.clone(),
        )
    });
    let pages = rows.len().div_ceil(ROWS_PER_PAGE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let mut body = format!(
        "<h1>Determinations</h1><p><a href=\"/batches/{0}\">Back to the batch</a></p>\
         <form method=\"get\"><label for=\"outcome\">Outcome</label><select id=\"outcome\" name=\"outcome\"><option value=\"\">any</option>",
        escape(&id)
    );
    for outcome in [
        "needs_review",
        "dismiss_and_seal",
        "redesignate_misdemeanor",
        "redesignate_infraction",
        "not_eligible",
    ] {
        let selected = if wanted(query.outcome.as_ref()) == Some(outcome) {
            " selected"
        } else {
            ""
        };
        let _ = write!(body, "<option{selected}>{outcome}</option>");
    }
    let value = |field: &Option<String>| escape(field.as_deref().unwrap_or_default());
    let _ = write!(
        body,
        "</select><label for=\"flag\">Flag</label><input id=\"flag\" name=\"flag\" value=\"{}\">\
         <label for=\"section\">Section</label><input id=\"section\" name=\"section\" value=\"{}\">\
         <label for=\"case\">Case number</label><input id=\"case\" name=\"case\" value=\"{}\">\
         <button type=\"submit\">Filter</button></form><p>{} counts; page {page} of {pages}.</p>\
         <div class=\"scroll\"><table><thead><tr><th>Case</th><th>Count</th><th>Statute</th><th>Outcome</th><th>Track</th><th>Rule</th><th>Reason</th><th>Letter</th></tr></thead><tbody>",
        value(&query.flag),
        value(&query.section),
        value(&query.case),
        rows.len()
    );
    for record in rows
        .iter()
        .skip((page - 1) * ROWS_PER_PAGE)
        .take(ROWS_PER_PAGE)
    {
        let cases = record.case_numbers.join("; ");
        // The case numbers link the person's motion and order in that case, named as the batch
        // named the file (`plan` settles names that several cases share).
        let case_key = (cases.clone(), record.subject_id.clone());
        let case_cell = match case_files
            .get(&case_key)
            .filter(|stem| output_file(&state, &id, &format!("cases/{stem}.pdf")).is_some())
        {
            Some(stem) => format!(
                "<a href=\"/v1/batches/{}/files/cases/{}.pdf\">{}</a>",
                escape(&id),
                escape(stem),
                escape(&cases)
            ),
            None => escape(&cases),
        };
        let letter = ["en", "es", "en-es"]
            .iter()
            .map(|language| {
                format!(
                    "letters/{}.{language}.pdf",
                    crate::output::safe_file_stem(&record.subject_id)
                )
            })
            .find(|path| output_file(&state, &id, path).is_some())
            .map(|path| {
                format!(
                    "<a href=\"/v1/batches/{}/files/{}\">Letter</a>",
                    escape(&id),
                    escape(&path)
                )
            })
            .unwrap_or_default();
        let _ = write!(
            body,
            "<tr><td>{case_cell}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"rule\">{}</td><td class=\"reason\">{}</td><td>{letter}</td></tr>",
            record.count_number,
            escape(&record.statute),
            escape(&record.outcome),
            escape(&record.track),
            escape(&record.rule_id),
            escape(&record.reason),
        );
    }
    body.push_str("</tbody></table></div><nav>");
    // In a link, a filter is percent-encoded ("HS 11357", "A&B") and then escaped for HTML.
    let parameter =
        |field: &Option<String>| escape(&query_value(field.as_deref().unwrap_or_default()));
    let link = |to: usize| {
        format!(
            "/batches/{}/determinations?outcome={}&amp;flag={}&amp;section={}&amp;case={}&amp;page={to}",
            escape(&id),
            parameter(&query.outcome),
            parameter(&query.flag),
            parameter(&query.section),
            parameter(&query.case)
        )
    };
    if page > 1 {
        let _ = write!(body, "<a href=\"{}\">Previous</a> ", link(page - 1));
    }
    if page < pages {
        let _ = write!(body, "<a href=\"{}\">Next</a>", link(page + 1));
    }
    body.push_str("</nav>");
    body.push_str(super::signin::sign_out_button(&state));
    layout("Determinations", &body, false).into_response()
}

#[cfg(test)]
mod tests {
    #[test]
    fn query_values_are_percent_encoded() {
        assert_eq!(super::query_value("HS 11357"), "HS%2011357");
        assert_eq!(super::query_value("A&B#\"é~"), "A%26B%23%22%C3%A9~");
    }
}
