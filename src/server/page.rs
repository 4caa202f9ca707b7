//! The web page at `/`: server-rendered HTML, no script, so the basic flow works with the
//! keyboard and with JavaScript off. Upload, choose the county and date, submit; the batch page
//! refreshes itself until the batch is done, then links its files.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};

use super::AppState;
use super::api::{accept_upload, output_file, problem};
use super::jobs::JobState;

/// Escapes text for HTML (every value on the page is data).
fn escape(text: &str) -> String {
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

fn layout(title: &str, body: &str, refresh: bool) -> Html<String> {
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">{}\
         <title>{} · clearance</title><style>\
         body{{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;padding:0 1rem;line-height:1.5}}\
         label{{display:block;margin-top:.8rem;font-weight:600}}\
         input,select,button{{font-size:1rem}} button{{margin-top:1rem;padding:.4rem 1rem}}\
         table{{border-collapse:collapse;width:100%}} td,th{{border-bottom:1px solid #ccc;padding:.3rem;text-align:left}}\
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
    layout(
        "New batch",
        &format!(
            "<h1>Prop 64 relief: new batch</h1>\
             <form method=\"post\" action=\"/batches\" enctype=\"multipart/form-data\">\
             <label for=\"doj\">DOJ file(s)</label><input id=\"doj\" name=\"doj\" type=\"file\" multiple required>\
             <label for=\"contacts\">Contacts (CSV, optional)</label><input id=\"contacts\" name=\"contacts\" type=\"file\">\
             <label for=\"office\">Office profile (TOML, optional when the server has one)</label><input id=\"office\" name=\"office\" type=\"file\">\
             <label for=\"policy\">County policy (TOML, optional: the statute alone)</label><input id=\"policy\" name=\"policy\" type=\"file\">\
             <label for=\"county\">County</label><select id=\"county\" name=\"county\">{counties}</select>\
             <label for=\"as_of\">As of</label><input id=\"as_of\" name=\"as_of\" type=\"date\" value=\"{today}\" required>\
             <label><input type=\"checkbox\" name=\"redacted_exhibits\" value=\"true\"> Public (redacted) exhibits only</label>\
             <button type=\"submit\">Start</button></form>\
             <h2>Batches</h2><table><thead><tr><th>Batch</th><th>Created</th><th>County</th><th>State</th></tr></thead><tbody>{batches}</tbody></table>"
        ),
        false,
    )
}

/// The form's post: same-origin only (a cross-site form post is refused), then a redirect to
/// the batch's page.
pub(crate) async fn submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok());
    let origin = headers
        .get(header::ORIGIN)
        .and_then(|value| value.to_str().ok());
    let same_origin = match (origin, host) {
        (None, _) => true,
        (Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        (Some(_), None) => false,
    };
    if !same_origin {
        return problem(StatusCode::FORBIDDEN, "cross-site form posts are refused");
    }
    match accept_upload(&state, multipart).await {
        Ok(job) => Redirect::to(&format!("/batches/{}", job.id)).into_response(),
        Err(response) => response,
    }
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
        body.push_str("<h2>Files</h2><ul>");
        for (label, path) in [
            ("Summary report", "summary.pdf"),
            ("Omnibus filing (public)", "bundles/filing-redacted.pdf"),
            (
                "Omnibus filing (full, to lodge under seal)",
                "bundles/filing.pdf",
            ),
            ("Case packets", "bundles/case-packets.pdf"),
            ("Mailing list", "bundles/mailing-list.csv"),
            ("Determinations", "results/determinations.csv"),
            ("Needs a case number", "review/needs-case-number.pdf"),
        ] {
            if output_file(&state, &job.id, path).is_some() {
                let _ = write!(
                    body,
                    "<li><a href=\"/v1/batches/{}/files/{}\">{}</a></li>",
                    escape(&job.id),
                    escape(path),
                    escape(label)
                );
            }
        }
        let _ = write!(
            body,
            "<li><a href=\"/v1/batches/{}/archive.zip\">Everything, as one zip file</a></li>",
            escape(&job.id)
        );
        body.push_str("</ul>");
    }
    layout(&format!("Batch {}", job.id), &body, running).into_response()
}
