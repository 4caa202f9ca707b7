//! The routes: the JSON API under `/v1`, the OpenAPI document, health, and the web page.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use utoipa::OpenApi;

use super::jobs::{BatchOptions, Job, JobState};
use super::{AppState, redact_folder};

/// `application/problem+json` (RFC 9457).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Problem {
    /// A short, human-readable summary.
    title: String,
    status: u16,
    /// What exactly is wrong, with file and field where known; never personal data.
    detail: String,
    /// Bad input rows, located as in `errors.json` (present only when rows are at fault).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    diagnostics: Vec<DiagnosticView>,
}

/// One problem found in an input file, as `errors.json` lists it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub(crate) struct DiagnosticView {
    /// `error` (the row cannot be used) or `warning` (a field was treated as unknown).
    pub severity: String,
    /// The file as uploaded into the batch (`input/doj-1.csv`).
    pub file: String,
    /// 1-based physical line (the header is line 1).
    pub line: Option<u64>,
    /// 1-based column: a byte column for syntax errors, a field number otherwise.
    pub column: Option<u64>,
    /// The DOJ column, when one field is at fault.
    pub field: Option<String>,
    pub message: String,
}

impl From<&crate::ingest::Diagnostic> for DiagnosticView {
    fn from(diagnostic: &crate::ingest::Diagnostic) -> DiagnosticView {
        DiagnosticView {
            severity: match diagnostic.severity {
                crate::ingest::Severity::Error => "error",
                crate::ingest::Severity::Warning => "warning",
            }
            .to_string(),
            file: diagnostic.file.clone(),
            line: diagnostic.line,
            column: diagnostic.column,
            field: diagnostic.field.map(str::to_string),
            message: diagnostic.message.clone(),
        }
    }
}

pub(crate) fn problem(status: StatusCode, detail: impl Into<String>) -> Response {
    Refusal::new(status, detail).into_problem()
}

/// Why a request was refused, before it is shown: as `application/problem+json` to the API,
/// as a page to the form.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub status: StatusCode,
    pub detail: String,
    pub diagnostics: Vec<DiagnosticView>,
}

impl Refusal {
    pub(crate) fn new(status: StatusCode, detail: impl Into<String>) -> Refusal {
        Refusal {
            status,
            detail: detail.into(),
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn title(&self) -> &'static str {
        self.status.canonical_reason().unwrap_or("error")
    }

    pub(crate) fn into_problem(self) -> Response {
        let status = self.status;
        let body = Problem {
            title: self.title().to_string(),
            status: status.as_u16(),
            detail: self.detail,
            diagnostics: self.diagnostics,
        };
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            serde_json::to_vec(&body).expect("problem serializes"),
        )
            .into_response();
        if status == StatusCode::TOO_MANY_REQUESTS {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("60"));
        }
        response
    }
}

/// A batch as the API shows it.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct BatchView {
    id: String,
    state: JobState,
    created: String,
    county: String,
    as_of: String,
    /// While running: the pipeline stage and how far through it.
    stage: Option<String>,
    done: Option<u64>,
    total: Option<u64>,
    /// Why it failed.
    error: Option<String>,
    /// When it succeeded: the summary's numbers (`summary.json`'s `statistics`: outcomes,
    /// sections, people; no personal data). Shown for one batch, not in the list.
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<serde_json::Value>,
    /// Links: itself and, when done, its summary and files.
    links: Vec<String>,
}

fn view(state: &AppState, job: &Job) -> BatchView {
    let progress = state.jobs.progress(&job.id);
    let base = format!("/v1/batches/{}", job.id);
    let mut links = vec![base.clone()];
    if job.state == JobState::Succeeded {
        links.push(format!("{base}/files/summary.json"));
        links.push(format!("{base}/files/manifest.json"));
        links.push(format!("{base}/files/bundles/filing-redacted.pdf"));
    }
    BatchView {
        id: job.id.clone(),
        state: job.state,
        created: job.created.clone(),
        county: job.options.county.clone(),
        as_of: job.options.as_of.clone(),
        stage: progress.map(|progress| progress.stage.label().to_string()),
        done: progress.map(|progress| progress.done),
        total: progress.map(|progress| progress.total),
        error: job.error.clone(),
        summary: None,
        links,
    }
}

/// One batch's view with, once it succeeded, its summary's numbers.
fn view_with_summary(state: &AppState, job: &Job) -> BatchView {
    let mut view = view(state, job);
    if job.state == JobState::Succeeded {
        view.summary = output_file(state, &job.id, "summary.json")
            .and_then(|path| std::fs::read(path).ok())
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .map(|summary| summary["statistics"].clone());
    }
    view
}

/// The batch form (`multipart/form-data`) as the OpenAPI document describes it; the handler
/// reads it field by field ([`accept_upload`]), so the struct itself is never built.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct BatchForm {
    /// DOJ bulk criminal-history files (the 95-column CSV): the field repeats, one per file.
    #[schema(value_type = Vec<String>, format = Binary, min_items = 1)]
    doj: Vec<Vec<u8>>,
    /// People's mailing addresses and languages (CSV), for letters.
    #[schema(value_type = Option<String>, format = Binary)]
    contacts: Option<Vec<u8>>,
    /// The office profile (TOML); the server's own (`--office`) when left out.
    #[schema(value_type = Option<String>, format = Binary)]
    office: Option<Vec<u8>>,
    /// A county policy: clearance's TOML or BEAR's eligibility options (JSON).
    #[schema(value_type = Option<String>, format = Binary)]
    policy: Option<Vec<u8>>,
    /// A policy shipped with clearance instead.
    #[schema(value_type = Option<ShippedPolicyName>)]
    shipped_policy: Option<String>,
    /// The county whose convictions are decided, e.g. "SAN FRANCISCO".
    #[schema(value_type = CountyName)]
    county: String,
    /// The date the determinations and papers are made as of (YYYY-MM-DD).
    #[schema(format = Date, pattern = r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    as_of: String,
    /// Write letters (default true).
    letters: Option<bool>,
    /// Public (redacted) exhibits only (default false).
    redacted_exhibits: Option<bool>,
}

/// One of California's 58 counties as the DOJ file names them, in the OpenAPI document.
struct CountyName;

impl utoipa::PartialSchema for CountyName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(
                crate::config::County::all()
                    .into_iter()
                    .map(|county| county.name().to_string()),
            ))
            .into()
    }
}

impl utoipa::ToSchema for CountyName {}

/// The names of the policies shipped with clearance, in the OpenAPI document.
struct ShippedPolicyName;

impl utoipa::PartialSchema for ShippedPolicyName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(SHIPPED_POLICIES.iter().map(|policy| policy.name)))
            .into()
    }
}

impl utoipa::ToSchema for ShippedPolicyName {}

/// One Server-Sent Event of `/v1/batches/{id}/events`, in the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct BatchEvent {
    /// `progress` while the batch runs, `state` once at the end.
    #[schema(pattern = "^(progress|state)$")]
    event: String,
    /// JSON: a `progress` event's stage, done and total; a `state` event's batch as
    /// `GET /v1/batches/{id}` shows it.
    data: String,
}

/// The body of `POST /v1/documents/{kind}`, in the OpenAPI document: the records of one court
/// case (the handler reads them as `Vec<DeterminationRecord>`).
struct CaseDeterminations;

impl utoipa::PartialSchema for CaseDeterminations {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ArrayBuilder::new()
            .items(utoipa::openapi::Ref::from_schema_name(
                "DeterminationRecord",
            ))
            .min_items(Some(1))
            .into()
    }
}

impl utoipa::ToSchema for CaseDeterminations {}

/// A file's bytes, in the OpenAPI document.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
struct Binary(Vec<u8>);

/// The check form (`multipart/form-data`), as [`BatchForm`] but one DOJ file and no papers.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
struct CheckForm {
    /// One DOJ bulk file (the 95-column CSV).
    #[schema(value_type = String, format = Binary)]
    doj: Vec<u8>,
    /// A county policy: clearance's TOML.
    #[schema(value_type = Option<String>, format = Binary)]
    policy: Option<Vec<u8>>,
    #[schema(value_type = CountyName)]
    county: String,
    #[schema(format = Date, pattern = r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")]
    as_of: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "clearance",
        description = "Prop 64 relief: batches of DOJ files in, court papers and letters out."
    ),
    paths(
        create_batch,
        list_batches,
        show_batch,
        delete_batch,
        batch_file,
        batch_events,
        batch_archive,
        check_file,
        document,
        metrics,
        healthz
    ),
    components(schemas(
        BatchView,
        Problem,
        DiagnosticView,
        JobState,
        BatchForm,
        CheckForm,
        CaseDeterminations,
        crate::output::DeterminationRecord,
        Binary
    ))
)]
struct ApiDoc;

pub(crate) fn router(state: Arc<AppState>) -> Router {
    let limit = state.config.max_upload_bytes;
    let api = Router::new()
        .route("/v1/batches", get(list_batches).post(create_batch))
        .route("/v1/batches/{id}", get(show_batch).delete(delete_batch))
        .route("/v1/batches/{id}/files/{*path}", get(batch_file))
        .route("/v1/batches/{id}/events", get(batch_events))
        .route("/v1/batches/{id}/archive.zip", get(batch_archive))
        .route("/v1/check", axum::routing::post(check_file))
        .route("/v1/documents/{kind}", axum::routing::post(document))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
        .route("/", get(super::page::index))
        // The page's form may send more than the limit: refused, the rest of it is read and
        // thrown away (up to as much again as the limit, or 1 GB if that is more), so that the
        // browser shows the refusal page, not a reset connection.
        .route(
            "/batches",
            axum::routing::post(super::page::submit).layer(DefaultBodyLimit::max(
                limit.saturating_add(limit.max(1_000_000_000)),
            )),
        )
        .route("/batches/{id}", get(super::page::batch))
        .route(
            "/batches/{id}/delete",
            get(super::page::confirm_delete).post(super::page::delete),
        )
        .route(
            "/batches/{id}/determinations",
            get(super::page::determinations),
        )
        // Unknown paths answer after the token check, like every other route.
        .fallback(|| async { problem(StatusCode::NOT_FOUND, "no such path") })
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(refuse_cross_site))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&state),
            authorize,
        ));
    // Signing in needs no token (it is where a browser gives it), but is a post like any other.
    let signin = Router::new()
        .route(
            "/signin",
            get(super::signin::show).post(super::signin::submit),
        )
        .route("/signout", axum::routing::post(super::signin::sign_out))
        .layer(middleware::from_fn(refuse_cross_site));
    Router::new()
        .route("/healthz", get(healthz))
        .merge(signin)
        .merge(api)
        .layer(middleware::from_fn(problems_only))
        .layer(middleware::from_fn(log_and_secure))
        .with_state(state)
}

/// Every route but `/healthz`, `/signin` and `/signout` needs, when a token is set, the bearer
/// token or a browser's session cookie (`signin`).
async fn authorize(
    State(state): State<Arc<AppState>>,
    request: axum::extract::Request,
    next: Next,
) -> Response {
    // Without a token the service is for this machine only: a page elsewhere that rebinds its
    // own name to 127.0.0.1 (DNS rebinding) sends its own name as the Host, and is refused.
    if state.config.token.is_none() {
        let host = request
            .headers()
            .get(header::HOST)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        if !is_loopback_host(host) {
            return problem(
                StatusCode::FORBIDDEN,
                "this service answers to its loopback address only (localhost, 127.0.0.1, [::1])",
            );
        }
    }
    if let Some(token) = &state.config.token {
        let given = request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "));
        let signed_in = || state.sessions.signed_in(request.headers());
        if !given.is_some_and(|given| token_matches(given, token)) && !signed_in() {
            // A person at a browser is asked to sign in; a program is told what it lacks.
            if super::signin::wants_a_page(
                request.method(),
                request.uri().path(),
                request.headers(),
            ) {
                return axum::response::Redirect::to("/signin").into_response();
            }
            let mut response = problem(StatusCode::UNAUTHORIZED, "a bearer token is required");
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return response;
        }
    }
    next.run(request).await
}

/// `localhost`, `127.0.0.1` or `[::1]`, with or without a port; an absent Host (HTTP/1.0) is
/// a local client's.
fn is_loopback_host(host: &str) -> bool {
    if host.is_empty() {
        return true;
    }
    let name = if let Some(bracketed) = host.strip_prefix('[') {
        bracketed.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(name, _)| name)
    };
    matches!(
        name.to_ascii_lowercase().as_str(),
        "localhost" | "127.0.0.1" | "::1"
    )
}

/// Every post and delete comes from this site or from no browser: another site's page must not
/// queue batches, run checks, render papers or delete anything, least of all on a loopback
/// service without a token.
async fn refuse_cross_site(request: axum::extract::Request, next: Next) -> Response {
    let changes = matches!(
        *request.method(),
        axum::http::Method::POST | axum::http::Method::DELETE
    );
    if changes && !same_origin(request.headers()) {
        // A person whose browser was sent here by another site's form gets a page that says
        // what happened; a program gets the problem document.
        if super::signin::is_navigation(request.headers()) {
            return super::page::cross_site_page();
        }
        return problem(StatusCode::FORBIDDEN, "cross-site posts are refused");
    }
    next.run(request).await
}

/// Whether a request comes from this site: the browser's own word first (Sec-Fetch-Site),
/// then the Origin against the Host; a request with neither (curl, scripts) is no browser's
/// cross-site request.
fn same_origin(headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    match (text("sec-fetch-site"), text("origin"), text("host")) {
        (Some(site), _, _) => site == "same-origin" || site == "none",
        (None, None, _) => true,
        (None, Some(origin), Some(host)) => origin
            .split_once("://")
            .is_some_and(|(_, rest)| rest == host),
        (None, Some(_), None) => false,
    }
}

/// Whether a token given equals the service's, in time that depends on neither: both are
/// hashed first, so not even the token's length shows in how long a refusal takes.
pub(super) fn token_matches(given: &str, token: &str) -> bool {
    use sha2::Digest as _;
    constant_time_equal(&sha2::Sha256::digest(given), &sha2::Sha256::digest(token))
}

fn constant_time_equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Logs route, status and duration (never request data) and sets the security headers.
async fn log_and_secure(request: axum::extract::Request, next: Next) -> Response {
    // A request id, in the log line and the response, so a user's report finds the log line.
    static NEXT_REQUEST: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let request_id = NEXT_REQUEST.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let started = std::time::Instant::now();
    let method = request.method().clone();
    // The route's shape, not the ids or paths in it.
    let route = request
        .uri()
        .path()
        .split('/')
        .take(3)
        .collect::<Vec<_>>()
        .join("/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; style-src 'self' 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        // "same-origin", not "no-referrer": with no referrer a browser sends `Origin: null` on
        // the page's own form posts, which the CSRF check would then refuse.
        HeaderValue::from_static("same-origin"),
    );
    // Criminal-record data: no browser or proxy keeps a copy (after "Sign out", Back shows
    // nothing of it).
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Ok(value) = HeaderValue::from_str(&request_id.to_string()) {
        headers.insert("x-request-id", value);
    }
    tracing::info!(
        request_id,
        %method,
        route,
        status = response.status().as_u16(),
        ms = started.elapsed().as_millis() as u64,
        "request"
    );
    response
}

#[utoipa::path(get, path = "/healthz", responses((status = 200, description = "The service is up", content_type = "text/plain", body = String)))]
async fn healthz() -> &'static str {
    "ok"
}

async fn openapi(State(state): State<Arc<AppState>>) -> Response {
    let mut document = serde_json::to_value(api_document(state.config.token.is_some()))
        .expect("OpenAPI serializes");
    add_links(&mut document);
    (
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string_pretty(&document).expect("OpenAPI serializes"),
    )
        .into_response()
}

/// A new batch's id leads to the operations on it (clients and API fuzzers follow these).
/// Written as JSON: utoipa 5 spells a link's `operationId` as `operation_id`.
fn add_links(document: &mut serde_json::Value) {
    let mut links = serde_json::Map::new();
    for (name, operation_id, file) in [
        ("show", "show_batch", None),
        ("events", "batch_events", None),
        ("summary", "batch_file", Some("summary.json")),
        ("archive", "batch_archive", None),
        ("delete", "delete_batch", None),
    ] {
        let mut parameters = serde_json::json!({ "id": "$response.body#/id" });
        if let Some(file) = file {
            parameters["path"] = serde_json::Value::from(file);
        }
        links.insert(
            name.to_string(),
            serde_json::json!({ "operationId": operation_id, "parameters": parameters }),
        );
    }
    if let Some(accepted) = document
        .pointer_mut("/paths/~1v1~1batches/post/responses/202")
        .and_then(serde_json::Value::as_object_mut)
    {
        accepted.insert("links".to_string(), serde_json::Value::Object(links));
    }
}

/// The OpenAPI document: the handlers' own annotations, completed with what holds for every
/// route, so that it cannot drift from the code: the bearer token when this server has one (all
/// routes but `/healthz`), and the errors any request can meet (a malformed request, a missing
/// token, an unknown path, a body too large), all `application/problem+json`.
pub(crate) fn api_document(token_required: bool) -> utoipa::openapi::OpenApi {
    use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
    use utoipa::openapi::{ContentBuilder, Ref, ResponseBuilder};
    let mut document = ApiDoc::openapi();
    if token_required {
        let components = document.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
        document.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
    let problem_response = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                PROBLEM_JSON,
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
    };
    for (path, item) in &mut document.paths.paths {
        let public = path == "/healthz";
        for (changes, operation) in [
            (false, item.get.as_mut()),
            (true, item.post.as_mut()),
            (true, item.delete.as_mut()),
        ]
        .into_iter()
        .filter_map(|(changes, operation)| operation.map(|operation| (changes, operation)))
        {
            let responses = &mut operation.responses.responses;
            // Errors are problem documents whatever the annotation's default content type.
            for (status, response) in responses.iter_mut() {
                if let utoipa::openapi::RefOr::T(response) = response
                    && !status.starts_with('2')
                    && let Some(content) = response.content.shift_remove("application/json")
                {
                    response.content.insert(PROBLEM_JSON.to_string(), content);
                }
            }
            let mut add = |status: &str, description: &str| {
                responses
                    .entry(status.to_string())
                    .or_insert_with(|| problem_response(description).into());
            };
            add("400", "Malformed request (a broken form or header)");
            if path.contains('{') {
                add("404", "No such batch, file or kind");
            }
            add("405", "Method not allowed on this path");
            if public && token_required {
                operation.security = Some(vec![SecurityRequirement::default()]);
            } else if token_required {
                add("401", "A bearer token is required");
            }
            if operation.request_body.is_some() {
                add("413", "The upload is larger than --max-upload-mb");
            }
            if changes {
                add(
                    "403",
                    "A cross-site post or delete (from another site's page)",
                );
            }
            if !token_required && !public {
                add("403", "A Host that is not this loopback service's own");
            }
            if path == "/v1/documents/{kind}" {
                add("415", "Not application/json");
            }
        }
    }
    document
}

const PROBLEM_JSON: &str = "application/problem+json";

/// Every error answer is a problem document (RFC 9457): errors from axum's own extractors and
/// routing (`400`, `404`, `405`, `413`, `415`) come as plain text or empty, and are rewritten
/// here, keeping their headers (`Allow`, `Retry-After`, `WWW-Authenticate`).
async fn problems_only(request: axum::extract::Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    // Problem documents, and the page's own error pages (HTML for a person at the form), stay
    // as they are.
    let written_here = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| {
            value.as_bytes() == PROBLEM_JSON.as_bytes()
                || value.as_bytes().starts_with(b"text/html")
        });
    if !(status.is_client_error() || status.is_server_error()) || written_here {
        return response;
    }
    let (parts, body) = response.into_parts();
    // axum's own messages say what is wrong with the request and hold no personal data; cap
    // them so a large body is never echoed.
    let detail = axum::body::to_bytes(body, 4096)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).trim().to_string())
        .unwrap_or_default();
    let detail = if detail.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        detail
    };
    let mut rewritten = problem(status, detail);
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            rewritten.headers_mut().append(name.clone(), value.clone());
        }
    }
    rewritten
}

fn new_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_nanos());
    let mut first = std::collections::hash_map::RandomState::new().build_hasher();
    first.write_u128(nanos);
    let mut second = std::collections::hash_map::RandomState::new().build_hasher();
    second.write_u64(first.finish());
    format!("{:016x}{:016x}", first.finish(), second.finish())
}

/// An upload's folder, removed when dropped unless kept: a refused, failed or abandoned upload
/// (a client that goes away mid-request drops the handler) leaves none of its confidential
/// files behind.
struct UploadFolder {
    path: std::path::PathBuf,
    keep: bool,
}

impl Drop for UploadFolder {
    fn drop(&mut self) {
        if !self.keep {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Form fields that are not files are short: longer ones are refused, not buffered.
const TEXT_FIELD_LIMIT: usize = 1024;

/// A short text field, read whole; `Ok(None)` when it is longer than [`TEXT_FIELD_LIMIT`].
async fn short_text(
    mut field: axum::extract::multipart::Field<'_>,
) -> Result<Option<String>, axum::extract::multipart::MultipartError> {
    let mut bytes = Vec::new();
    while let Some(chunk) = field.chunk().await? {
        if bytes.len() + chunk.len() > TEXT_FIELD_LIMIT {
            return Ok(None);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(String::from_utf8_lossy(&bytes).trim().to_string()))
}

fn queue_full(state: &AppState) -> Option<Refusal> {
    (state.jobs.queued().unwrap_or(0) >= state.config.max_queued)
        .then(|| Refusal::new(StatusCode::TOO_MANY_REQUESTS, "the queue is full"))
}

/// The uploaded form of a batch: files saved under the job's `input/` with names clearance
/// chooses (never the uploader's), and the fields. Nothing is queued, and nothing kept, unless
/// the form and every DOJ row are good.
pub(crate) async fn accept_upload(
    state: &AppState,
    multipart: &mut Multipart,
) -> Result<Job, Refusal> {
    // A full queue is refused before anything is read.
    if let Some(refusal) = queue_full(state) {
        return Err(refusal);
    }
    let id = new_id();
    let folder = UploadFolder {
        path: state.jobs.folder(&id),
        keep: false,
    };
    let server_error = |error: &dyn std::fmt::Display| {
        Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string())
    };
    std::fs::create_dir_all(folder.path.join("input")).map_err(|error| server_error(&error))?;
    let form = read_form(
        multipart,
        &folder.path,
        |field, earlier| match field {
            "doj" => Some(format!("input/doj-{}.csv", earlier + 1)),
            "contacts" => Some("input/contacts.csv".into()),
            "office" => Some("input/office.toml".into()),
            // Named .toml or .json once its first byte is known.
            "policy" => Some("input/policy".into()),
            _ => None,
        },
        &[
            "county",
            "as_of",
            "letters",
            "redacted_exhibits",
            "shipped_policy",
        ],
        state.config.max_upload_bytes,
    )
    .await?;
    let mut options = BatchOptions {
        letters: true,
        ..BatchOptions::default()
    };
    // One policy at most: a file, or a shipped one by name.
    let policy_fields = form
        .files
        .iter()
        .filter(|file| file.field == "policy" && file.size > 0)
        .count()
        + form
            .texts
            .iter()
            .filter(|(name, text)| name == "shipped_policy" && !text.is_empty())
            .count();
    if policy_fields > 1 {
        return Err(Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "policy: give one policy, a shipped one or a file, not both",
        ));
    }
    for file in form.files.iter().filter(|file| file.size > 0) {
        match file.field.as_str() {
            "doj" => options.inputs.push(file.path.clone()),
            "contacts" => options.contacts = Some(file.path.clone()),
            "office" => options.office = Some(file.path.clone()),
            _ => {
                // A policy: clearance's TOML, or BEAR's eligibility options (JSON).
                let named = if file.first_byte == Some(b'{') {
                    "input/policy.json"
                } else {
                    "input/policy.toml"
                };
                std::fs::rename(folder.path.join(&file.path), folder.path.join(named))
                    .map_err(|error| server_error(&error))?;
                options.policy = Some(named.to_string());
            }
        }
    }
    for (name, text) in form.texts {
        match name.as_str() {
            "county" => options.county = text,
            "as_of" => options.as_of = text,
            "letters" => {
                options.letters = !matches!(text.as_str(), "false" | "no" | "off" | "0");
            }
            "redacted_exhibits" => {
                options.redacted_exhibits = matches!(text.as_str(), "true" | "yes" | "on" | "1");
            }
            _ if text.is_empty() => {}
            _ => {
                let Some(shipped) = shipped_policy(&text) else {
                    return Err(Refusal::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        format!(
                            "shipped_policy: not one of {}",
                            SHIPPED_POLICIES
                                .iter()
                                .map(|policy| policy.name)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                };
                std::fs::write(folder.path.join("input/policy.toml"), shipped)
                    .map_err(|error| server_error(&error))?;
                options.policy = Some("input/policy.toml".into());
            }
        }
    }
    if options.inputs.is_empty() {
        return Err(Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "doj: at least one DOJ file is required",
        ));
    }
    if let Some(refusal) = queue_full(state) {
        return Err(refusal);
    }
    // Everything is checked now, the DOJ rows too, so that bad input is a 422 with every
    // located diagnostic, not a failed job.
    let config = super::batch_config(
        &options,
        &folder.path,
        state.config.default_office.as_deref(),
        state.config.jobs_per_batch,
    )
    .map_err(|error| {
        Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            redact_folder(&error.to_string(), &folder.path),
        )
    })?;
    let check = config.check;
    // One upload is read at a time: each holds its people in memory while it is checked. The
    // permit goes with the check, so a client that hangs up does not free it early.
    let Ok(permit) = Arc::clone(&state.validation_slots).acquire_owned().await else {
        return Err(Refusal::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting down",
        ));
    };
    let diagnostics = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        crate::pipeline::validate_inputs(&check)
    })
    .await
    .map_err(|_| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "the check stopped"))?
    .map_err(|error| {
        Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            redact_folder(&error.to_string(), &folder.path),
        )
    })?;
    let errors = diagnostics
        .iter()
        .filter(|diagnostic| diagnostic.severity == crate::ingest::Severity::Error)
        .count();
    if errors > 0 {
        let mut refusal = Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the DOJ input has {errors} bad row(s); nothing was queued"),
        );
        refusal.diagnostics = diagnostics.iter().map(DiagnosticView::from).collect();
        return Err(refusal);
    }
    let created = crate::model::Date::today_utc().to_string();
    let jobs = Arc::clone(&state.jobs);
    let accepted_id = id.clone();
    // The job's files are fsynced and its row written (blocking work) off the async threads.
    // The folder's guard goes along and is told to keep the folder there, once the row is
    // written: a client hanging up meanwhile cannot leave a job without its inputs.
    tokio::task::spawn_blocking(move || {
        let mut folder = folder;
        jobs.accept(&accepted_id, &created, &options)?;
        folder.keep = true;
        Ok::<_, super::jobs::JobError>(())
    })
    .await
    .map_err(|_| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "the job was not stored"))?
    .map_err(|error| server_error(&error))?;
    state
        .jobs
        .get(&id)
        .ok()
        .flatten()
        .ok_or_else(|| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "the job was not stored"))
}

/// A county policy shipped with clearance, offered by name.
pub(crate) struct ShippedPolicy {
    pub name: &'static str,
    /// As the page's list shows it.
    pub label: &'static str,
    pub text: &'static str,
}

/// The county policies shipped with clearance.
pub(crate) const SHIPPED_POLICIES: [ShippedPolicy; 3] = [
    ShippedPolicy {
        name: "statutory",
        label: "The statute alone (HS 11361.8), written as a policy file",
        text: include_str!("../../samples/policies/statutory.toml"),
    },
    ShippedPolicy {
        name: "san-francisco-2019",
        label: "San Francisco District Attorney, 2019 (modelled)",
        text: include_str!("../../samples/policies/san-francisco-2019.toml"),
    },
    ShippedPolicy {
        name: "los-angeles-2019",
        label: "Los Angeles County District Attorney, 2019 (modelled)",
        text: include_str!("../../samples/policies/los-angeles-2019.toml"),
    },
];

fn shipped_policy(name: &str) -> Option<&'static str> {
    SHIPPED_POLICIES
        .iter()
        .find(|policy| policy.name == name)
        .map(|policy| policy.text)
}

/// One file field of a form as saved.
struct SavedFile {
    field: String,
    /// Where it was saved, relative to the form's folder.
    path: String,
    size: u64,
    /// The first byte that is not white space (tells JSON from TOML).
    first_byte: Option<u8>,
}

/// A multipart form as read: its files on disk, its short text fields, in the order sent.
struct Form {
    /// Every file field, empty ones (inputs the form left blank: their file is removed) too.
    files: Vec<SavedFile>,
    texts: Vec<(String, String)>,
}

impl Form {
    /// The last file sent in `field`, if it was not empty.
    fn last_file(&self, field: &str) -> Option<&SavedFile> {
        self.files
            .iter()
            .rev()
            .find(|file| file.field == field)
            .filter(|file| file.size > 0)
    }
}

/// Reads a multipart form into `folder`. A file field is streamed to disk as it arrives (a DOJ
/// file can be hundreds of megabytes) at the path `file_path` gives it (from the field's name
/// and how many non-empty files that field already brought), never a name the uploader chose;
/// a field in `text_fields` is read whole, up to [`TEXT_FIELD_LIMIT`]; any other field is read
/// past and never kept. More than `limit` bytes of fields in all is refused (`413`): the page's
/// form may send more than that (see `router`), to be read past and answered with a page.
async fn read_form(
    multipart: &mut Multipart,
    folder: &std::path::Path,
    file_path: impl Fn(&str, usize) -> Option<String>,
    text_fields: &[&str],
    limit: usize,
) -> Result<Form, Refusal> {
    use tokio::io::AsyncWriteExt;
    let upload_error = |error: axum::extract::multipart::MultipartError| {
        Refusal::new(upload_status(&error), error.body_text())
    };
    let disk_error =
        |error: std::io::Error| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string());
    let mut form = Form {
        files: Vec::new(),
        texts: Vec::new(),
    };
    let mut total = 0usize;
    let mut count = |bytes: usize| {
        total = total.saturating_add(bytes);
        if total > limit {
            Err(Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the upload is larger than {} MB (--max-upload-mb)",
                    limit / 1_000_000
                ),
            ))
        } else {
            Ok(())
        }
    };
    while let Some(mut field) = multipart.next_field().await.map_err(upload_error)? {
        let name = field.name().unwrap_or_default().to_string();
        let earlier = form
            .files
            .iter()
            .filter(|file| file.field == name && file.size > 0)
            .count();
        if let Some(path) = file_path(&name, earlier) {
            let target = folder.join(&path);
            let mut file = tokio::fs::File::create(&target).await.map_err(disk_error)?;
            let (mut size, mut first_byte) = (0u64, None);
            while let Some(chunk) = field.chunk().await.map_err(upload_error)? {
                if first_byte.is_none() {
                    first_byte = chunk
                        .iter()
                        .copied()
                        .find(|byte| !byte.is_ascii_whitespace());
                }
                size += chunk.len() as u64;
                count(chunk.len())?;
                file.write_all(&chunk).await.map_err(disk_error)?;
            }
            file.flush().await.map_err(disk_error)?;
            if size == 0 {
                drop(file);
                let _ = std::fs::remove_file(&target);
            }
            form.files.push(SavedFile {
                field: name,
                path,
                size,
                first_byte,
            });
        } else if text_fields.contains(&name.as_str()) {
            let Some(text) = short_text(field).await.map_err(upload_error)? else {
                return Err(Refusal::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    format!("{name}: longer than {TEXT_FIELD_LIMIT} bytes"),
                ));
            };
            count(text.len())?;
            form.texts.push((name, text));
        } else {
            while let Some(chunk) = field.chunk().await.map_err(upload_error)? {
                count(chunk.len())?;
            }
        }
    }
    Ok(form)
}

/// Reads what is left of a refused form and throws it away, so that a browser still sending
/// it gets the refusal page instead of a reset connection. Stops at the first error (the body
/// limit ends a too-large upload).
pub(crate) async fn read_rest(multipart: &mut Multipart) {
    while let Ok(Some(mut field)) = multipart.next_field().await {
        while let Ok(Some(_)) = field.chunk().await {}
    }
}

/// A broken upload: too large (`413`), or malformed (`400`).
fn upload_status(error: &axum::extract::multipart::MultipartError) -> StatusCode {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        StatusCode::PAYLOAD_TOO_LARGE
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// Submit a batch: DOJ file(s) and optional contacts, office profile and policy, with the
/// county and as-of date.
#[utoipa::path(
    post,
    path = "/v1/batches",
    request_body(content = BatchForm, content_type = "multipart/form-data"),
    responses(
        (status = 202, description = "Accepted: the job is queued", body = BatchView),
        (status = 413, description = "Upload too large", body = Problem),
        (status = 422, description = "Bad input", body = Problem),
        (status = 429, description = "Queue full", body = Problem),
    )
)]
async fn create_batch(State(state): State<Arc<AppState>>, mut multipart: Multipart) -> Response {
    match accept_upload(&state, &mut multipart).await {
        Ok(job) => {
            let view = view(&state, &job);
            let mut response = (StatusCode::ACCEPTED, Json(view)).into_response();
            if let Ok(location) = HeaderValue::from_str(&format!("/v1/batches/{}", job.id)) {
                response.headers_mut().insert(header::LOCATION, location);
            }
            response
        }
        Err(refusal) => refusal.into_problem(),
    }
}

/// Every batch, newest first.
#[utoipa::path(get, path = "/v1/batches", responses((status = 200, body = Vec<BatchView>)))]
async fn list_batches(State(state): State<Arc<AppState>>) -> Response {
    match state.jobs.list() {
        Ok(jobs) => {
            Json(jobs.iter().map(|job| view(&state, job)).collect::<Vec<_>>()).into_response()
        }
        Err(error) => problem(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}

/// One batch: its state, progress while running, and links when done.
#[utoipa::path(
    get,
    path = "/v1/batches/{id}",
    params(("id" = String, Path, description = "The batch id", pattern = "^[0-9a-f]{32}$")),
    responses((status = 200, body = BatchView), (status = 404, body = Problem))
)]
async fn show_batch(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    match state.jobs.get(&id) {
        Ok(Some(job)) => Json(view_with_summary(&state, &job)).into_response(),
        Ok(None) => problem(StatusCode::NOT_FOUND, "no such batch"),
        Err(error) => problem(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}

/// Cancel a batch and remove every file of it, uploads included.
#[utoipa::path(
    delete,
    path = "/v1/batches/{id}",
    params(("id" = String, Path, description = "The batch id", pattern = "^[0-9a-f]{32}$")),
    responses((status = 204, description = "Cancelled and removed"), (status = 404, body = Problem))
)]
async fn delete_batch(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    if !is_job_id(&id) {
        return problem(StatusCode::NOT_FOUND, "no such batch");
    }
    match state.jobs.delete(&id) {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => problem(StatusCode::NOT_FOUND, "no such batch"),
        Err(error) => problem(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()),
    }
}

fn is_job_id(id: &str) -> bool {
    id.len() == 32 && id.bytes().all(|byte| byte.is_ascii_hexdigit())
}

/// The file at `path` in a finished batch's output, if the path is one clearance could have
/// written: relative, no `..`, no hidden or odd characters, no symbolic link on the way.
pub(crate) fn output_file(state: &AppState, id: &str, path: &str) -> Option<std::path::PathBuf> {
    if !is_job_id(id) {
        return None;
    }
    let safe = !path.is_empty()
        && path.split('/').all(|part| {
            !part.is_empty()
                && !part.starts_with('.')
                && part
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || b"._-".contains(&byte))
        });
    if !safe {
        return None;
    }
    let out = state.jobs.folder(id).join("out");
    let mut current = out.clone();
    for part in path.split('/') {
        current.push(part);
        let metadata = std::fs::symlink_metadata(&current).ok()?;
        if metadata.file_type().is_symlink() {
            return None;
        }
    }
    current.is_file().then_some(current)
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next() {
        Some("pdf") => "application/pdf",
        Some("json") => "application/json",
        Some("csv") => "text/csv; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// A file of a finished batch (any output), with its content type; byte ranges for large
/// bundles.
#[utoipa::path(
    get,
    path = "/v1/batches/{id}/files/{path}",
    params(("id" = String, Path, description = "The batch id", pattern = "^[0-9a-f]{32}$"), ("path" = String, Path, description = "A path in the output, e.g. bundles/filing.pdf")),
    responses((status = 200, description = "The file"), (status = 206, description = "A byte range of it"), (status = 404, body = Problem))
)]
async fn batch_file(
    State(state): State<Arc<AppState>>,
    Path((id, path)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(file) = output_file(&state, &id, &path) else {
        return problem(StatusCode::NOT_FOUND, "no such file");
    };
    // Streamed from disk: a case-packets bundle can be hundreds of megabytes.
    let Ok(opened) = tokio::fs::File::open(&file).await else {
        return problem(StatusCode::NOT_FOUND, "no such file");
    };
    let Ok(total) = opened.metadata().await.map(|metadata| metadata.len()) else {
        return problem(StatusCode::NOT_FOUND, "no such file");
    };
    let kind = content_type(&path);
    // One range, `bytes=START-END` or `bytes=START-`; any other is ignored (the whole file).
    let range = headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("bytes="))
        .and_then(|value| value.split_once('-'))
        .and_then(|(start, end)| {
            let start: u64 = start.parse().ok()?;
            let end: u64 = if end.is_empty() {
                total.checked_sub(1)?
            } else {
                end.parse::<u64>().ok()?.min(total.checked_sub(1)?)
            };
            (start <= end).then_some((start, end))
        });
    let (status, start, length) = match range {
        Some((start, end)) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        None => (StatusCode::OK, 0, total),
    };
    let Ok(body) = file_stream(opened, start, length).await else {
        return problem(StatusCode::NOT_FOUND, "no such file");
    };
    let mut response = (
        status,
        [
            (header::CONTENT_TYPE, kind.to_string()),
            (header::ACCEPT_RANGES, "bytes".to_string()),
            (header::CONTENT_LENGTH, length.to_string()),
        ],
        body,
    )
        .into_response();
    if status == StatusCode::PARTIAL_CONTENT
        && let Ok(value) =
            HeaderValue::from_str(&format!("bytes {start}-{}/{total}", start + length - 1))
    {
        response.headers_mut().insert(header::CONTENT_RANGE, value);
    }
    response
}

/// `length` bytes of `file` from `start`, read as the client takes them.
async fn file_stream(mut file: tokio::fs::File, start: u64, length: u64) -> std::io::Result<Body> {
    use tokio::io::{AsyncReadExt, AsyncSeekExt};
    file.seek(std::io::SeekFrom::Start(start)).await?;
    let chunks = futures_util::stream::unfold((file, length), |(mut file, left)| async move {
        if left == 0 {
            return None;
        }
        let mut buffer = vec![0u8; left.min(256 * 1024) as usize];
        match file.read(&mut buffer).await {
            Ok(0) => None,
            Ok(read) => {
                buffer.truncate(read);
                Some((Ok::<_, std::io::Error>(buffer), (file, left - read as u64)))
            }
            Err(error) => Some((Err(error), (file, 0))),
        }
    });
    Ok(Body::from_stream(chunks))
}

/// Progress as Server-Sent Events: `progress` events (stage, done, total) while the batch runs,
/// then one `state` event with the final state, and the stream ends.
#[utoipa::path(
    get,
    path = "/v1/batches/{id}/events",
    params(("id" = String, Path, description = "The batch id", pattern = "^[0-9a-f]{32}$")),
    responses((status = 200, description = "Progress and state events", content_type = "text/event-stream", body = BatchEvent), (status = 404, body = Problem))
)]
async fn batch_events(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    use axum::response::sse::{Event, KeepAlive, Sse};
    if !matches!(state.jobs.get(&id), Ok(Some(_))) {
        return problem(StatusCode::NOT_FOUND, "no such batch");
    }
    // (state, id, the last progress sent, whether the final event went out)
    let stream = futures_util::stream::unfold(
        (state, id, None, false),
        |(state, id, last, finished)| async move {
            if finished {
                return None;
            }
            loop {
                let Some(job) = state.jobs.get(&id).ok().flatten() else {
                    let event = Event::default()
                        .event("state")
                        .data("{\"state\":\"deleted\"}");
                    return Some((
                        Ok::<_, std::convert::Infallible>(event),
                        (state, id, last, true),
                    ));
                };
                if !matches!(job.state, JobState::Queued | JobState::Running) {
                    let data =
                        serde_json::to_string(&view_with_summary(&state, &job)).unwrap_or_default();
                    let event = Event::default().event("state").data(data);
                    return Some((Ok(event), (state, id, last, true)));
                }
                let progress = state.jobs.progress(&id);
                if progress.is_some() && progress != last {
                    let data = serde_json::to_string(&progress).unwrap_or_default();
                    let event = Event::default().event("progress").data(data);
                    return Some((Ok(event), (state, id, progress, false)));
                }
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
        },
    );
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}

/// Prometheus text: batches by state and the queue depth.
#[utoipa::path(get, path = "/metrics", responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    use std::fmt::Write as _;
    let jobs = state.jobs.list().unwrap_or_default();
    let mut text = String::from(
        "# HELP clearance_batches Batches by state.\n# TYPE clearance_batches gauge\n",
    );
    for (each, name) in [
        (JobState::Queued, "queued"),
        (JobState::Running, "running"),
        (JobState::Succeeded, "succeeded"),
        (JobState::Failed, "failed"),
        (JobState::Cancelled, "cancelled"),
    ] {
        let count = jobs.iter().filter(|job| job.state == each).count();
        let _ = writeln!(text, "clearance_batches{{state=\"{name}\"}} {count}");
    }
    let _ = writeln!(
        text,
        "# HELP clearance_queue_depth Batches waiting for a worker.\n# TYPE clearance_queue_depth gauge\nclearance_queue_depth {}",
        state.jobs.queued().unwrap_or(0)
    );
    text.push_str(&state.papers.latency_metrics());
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}

/// Determinations for a small DOJ file, synchronously: the same `check` the command line runs,
/// into a scratch folder removed afterwards.
#[utoipa::path(
    post,
    path = "/v1/check",
    request_body(content = CheckForm, content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "results/determinations.json: one record per conviction count", content_type = "application/json", body = Vec<serde_json::Value>),
        (status = 413, body = Problem),
        (status = 422, description = "Bad input: the form, or errors.json with every located diagnostic", body = Problem),
    )
)]
async fn check_file(State(state): State<Arc<AppState>>, mut multipart: Multipart) -> Response {
    let Ok(scratch) = tempfile::tempdir_in(state.jobs.folder("")) else {
        return problem(StatusCode::INTERNAL_SERVER_ERROR, "no scratch folder");
    };
    let form = match read_form(
        &mut multipart,
        scratch.path(),
        |field, _| match field {
            "doj" => Some("doj.csv".into()),
            "policy" => Some("policy.toml".into()),
            _ => None,
        },
        &["county", "as_of"],
        state.config.max_upload_bytes,
    )
    .await
    {
        Ok(form) => form,
        Err(refusal) => return refusal.into_problem(),
    };
    // A repeated field replaces the file: the last one counts.
    if form.last_file("doj").is_none() {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "doj: a DOJ file is required",
        );
    }
    let policy = form
        .last_file("policy")
        .map(|file| scratch.path().join(&file.path).display().to_string());
    let text = |wanted: &str| {
        form.texts
            .iter()
            .rev()
            .find(|(name, _)| name == wanted)
            .map(|(_, text)| text.clone())
            .unwrap_or_default()
    };
    let (county, as_of) = (text("county"), text("as_of"));
    // Checks share the uploads' limit (each holds its people in memory); the permit and the
    // scratch folder go with the check, so a client hanging up frees neither early.
    let Ok(permit) = Arc::clone(&state.validation_slots).acquire_owned().await else {
        return problem(StatusCode::SERVICE_UNAVAILABLE, "shutting down");
    };
    let outcome = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let checked = check_in(scratch.path(), &county, &as_of, policy.as_deref());
        checked.map_err(|mut refusal| {
            refusal.detail = redact_folder(&refusal.detail, scratch.path());
            refusal
        })
    })
    .await;
    match outcome {
        Ok(Ok(json)) => ([(header::CONTENT_TYPE, "application/json")], json).into_response(),
        Ok(Err(refusal)) => refusal.into_problem(),
        Err(_) => problem(StatusCode::INTERNAL_SERVER_ERROR, "the check stopped"),
    }
}

/// `check` of `folder/doj.csv` into `folder/out`: the determinations JSON, or why not.
fn check_in(
    folder: &std::path::Path,
    county: &str,
    as_of: &str,
    policy: Option<&str>,
) -> Result<Vec<u8>, Refusal> {
    let unprocessable = |error: crate::config::ConfigError| {
        Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string())
    };
    let (rules, rules_source) = crate::config::load_rules(policy).map_err(unprocessable)?;
    let config = crate::config::CheckConfig {
        inputs: vec![folder.join("doj.csv")],
        county: crate::config::County::parse(county).map_err(unprocessable)?,
        rules,
        rules_source,
        as_of: crate::config::parse_as_of(as_of).map_err(unprocessable)?,
        out_dir: folder.join("out"),
        output: crate::output::OutputOptions::default(),
        encoding: crate::ingest::encoding::Encoding::Auto,
        skip_bad_rows: false,
        jobs: 1,
        min_chunk_bytes: None,
        names_relative_to: Some(folder.to_path_buf()),
    };
    let report = crate::pipeline::check(&config, &crate::pipeline::Observer::silent())
        .map_err(|error| Refusal::new(StatusCode::UNPROCESSABLE_ENTITY, error.to_string()))?;
    if report.refused {
        // Every bad row, located, as errors.json says it.
        #[derive(serde::Deserialize)]
        struct ErrorsFile {
            diagnostics: Vec<DiagnosticView>,
        }
        let errors = std::fs::read(folder.join("out/errors.json")).unwrap_or_default();
        let mut refusal = Refusal::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("the DOJ input has {} bad row(s)", report.errors),
        );
        refusal.diagnostics = serde_json::from_slice::<ErrorsFile>(&errors)
            .map(|file| file.diagnostics)
            .unwrap_or_default();
        return Err(refusal);
    }
    std::fs::read(folder.join("out/results/determinations.json"))
        .map_err(|error| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, error.to_string()))
}

/// A batch's whole output as one zip file (entries stored, in path order, dated 1980-01-01 so
/// the same output gives the same archive; ZIP64 where it must be), streamed as it is built.
#[utoipa::path(
    get,
    path = "/v1/batches/{id}/archive.zip",
    params(("id" = String, Path, description = "The batch id", pattern = "^[0-9a-f]{32}$")),
    responses((status = 200, description = "Every output file, stored", content_type = "application/zip", body = Binary), (status = 404, body = Problem))
)]
async fn batch_archive(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    let finished = matches!(state.jobs.get(&id), Ok(Some(job)) if job.state == JobState::Succeeded);
    if !is_job_id(&id) || !finished {
        return problem(StatusCode::NOT_FOUND, "no finished batch with that id");
    }
    let out = state.jobs.folder(&id).join("out");
    let (sender, receiver) = tokio::sync::mpsc::channel::<std::io::Result<Vec<u8>>>(4);
    tokio::task::spawn_blocking(move || {
        let send = |bytes: Vec<u8>| sender.blocking_send(Ok(bytes)).is_ok();
        if let Err(error) = super::archive::write_zip(&out, &send) {
            let _ = sender.blocking_send(Err(error));
        }
    });
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    (
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"clearance-{id}.zip\""),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// One paper now, for case-management systems: the determinations of one court case (records
/// as in `results/determinations.json`) in, its motion and proposed order (`case`) or the
/// person's notification letter (`letter`) out: the paper `clearance render` writes for the
/// case, word for word and page for page (its fonts subset for it alone).
#[utoipa::path(
    post,
    path = "/v1/documents/{kind}",
    params(("kind" = String, Path, description = "case (a motion and order) or letter", pattern = "^(case|letter)$")),
    request_body(content = CaseDeterminations, content_type = "application/json", description = "the determination records of one court case, as in results/determinations.json"),
    responses(
        (status = 200, description = "The paper", content_type = "application/pdf", body = Binary),
        (status = 404, description = "Unknown kind", body = Problem),
        (status = 422, description = "Not the records of exactly one court case", body = Problem),
    )
)]
async fn document(
    State(state): State<Arc<AppState>>,
    Path(kind): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let kind = match kind.as_str() {
        "case" => crate::SinglePaper::Case,
        "letter" => crate::SinglePaper::Letter,
        _ => return problem(StatusCode::NOT_FOUND, "kind is case or letter"),
    };
    // JSON only: a cross-site page can send a text/plain post without asking, never JSON.
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|value| value.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the determinations as application/json",
        );
    }
    let records: Vec<crate::output::DeterminationRecord> = match serde_json::from_slice(&body) {
        Ok(records) => records,
        Err(error) => return problem(StatusCode::UNPROCESSABLE_ENTITY, format!("body: {error}")),
    };
    let Some(first) = records.first() else {
        return problem(StatusCode::UNPROCESSABLE_ENTITY, "no determinations");
    };
    let Some(office) = state.papers.office.clone() else {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            "the server has no office profile (start it with --office)",
        );
    };
    let as_of = first.as_of;
    let papers = Arc::clone(&state);
    let rendered = state
        .papers
        .on_paper_thread(move || {
            let started = std::time::Instant::now();
            let renderer = papers.papers.renderer(as_of)?;
            let paper = crate::single_paper(&renderer, &office, &records, kind)
                .map_err(|error| error.to_string());
            papers.papers.record_latency(started.elapsed());
            paper
        })
        .await;
    match rendered {
        Some(Ok(pdf)) => ([(header::CONTENT_TYPE, "application/pdf")], pdf).into_response(),
        Some(Err(detail)) => problem(StatusCode::UNPROCESSABLE_ENTITY, detail),
        None => problem(StatusCode::INTERNAL_SERVER_ERROR, "rendering stopped"),
    }
}
