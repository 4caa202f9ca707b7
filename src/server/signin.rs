//! Signing in from a browser. With a token (any address but loopback needs one) every route
//! asks for `Authorization: Bearer …`, which curl sends and a browser cannot. A clerk signs in
//! once on `/signin` with the same token and gets a session cookie: random, kept in memory
//! only, `HttpOnly` and `SameSite=Strict`, good for one working day, ended by "Sign out" or a
//! restart. Posts stay refused cross-site (`api::refuse_cross_site`), cookie or not.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};

use super::AppState;
use super::page::{escape, layout};

/// The cookie's name.
const COOKIE: &str = "clearance_session";
/// How long a session lasts: a working day.
const LIFETIME: Duration = Duration::from_hours(12);
/// How long a wrong token on the form is answered after: nothing to a person who mistyped,
/// a brake on a script guessing through the form (the token itself must be long and random).
const WRONG_TOKEN_DELAY: Duration = Duration::from_secs(1);

/// The sessions signed in, by their random id (hex), with when each ends.
#[derive(Default)]
pub(crate) struct Sessions {
    ends: Mutex<HashMap<String, Instant>>,
}

impl Sessions {
    /// A new session's id: 32 random bytes from the system, in hex.
    fn start(&self) -> Result<String, getrandom::Error> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)?;
        let id = bytes
            .iter()
            .fold(String::with_capacity(64), |mut id, byte| {
                let _ = write!(id, "{byte:02x}");
                id
            });
        let mut ends = self
            .ends
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        ends.retain(|_, end| *end > now);
        ends.insert(id.clone(), now + LIFETIME);
        Ok(id)
    }

    /// Whether the request carries the cookie of a session that has not ended.
    pub(crate) fn signed_in(&self, headers: &HeaderMap) -> bool {
        let Some(id) = session_cookie(headers) else {
            return false;
        };
        let ends = self
            .ends
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        ends.get(id).is_some_and(|end| *end > Instant::now())
    }

    fn end(&self, headers: &HeaderMap) {
        if let Some(id) = session_cookie(headers) {
            let mut ends = self
                .ends
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            ends.remove(id);
        }
    }
}

/// The session id in the request's cookies, if any.
fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, id)| id)
}

/// Whether a request that lacks the token is a person at a browser (sent to sign in) rather
/// than a program calling the API or a path that does not exist (answered `401`): a page of
/// the page's own, or any navigation the browser says it is making (a download link, a form
/// posted after the session ended).
pub(crate) fn wants_a_page(method: &axum::http::Method, path: &str, headers: &HeaderMap) -> bool {
    is_navigation(headers)
        || (method == axum::http::Method::GET && (path == "/" || path.starts_with("/batches")))
}

/// Whether the browser says the request is a navigation (a link followed, a form posted): a
/// person will see the answer, so it should be a page.
pub(crate) fn is_navigation(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-mode")
        .is_some_and(|mode| mode.as_bytes() == b"navigate")
}

/// `Secure` when the office's TLS proxy says the browser came over https: the cookie is then
/// never sent over plain http (the service itself speaks plain http, so it cannot always be).
fn secure_attribute(headers: &HeaderMap) -> &'static str {
    let https = headers
        .get("x-forwarded-proto")
        .is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https"));
    if https { "; Secure" } else { "" }
}

/// The "Sign out" button every page ends with when the service has a token (a browser is then
/// signed in, and a shared computer needs a way out); nothing without one.
pub(crate) fn sign_out_button(state: &AppState) -> &'static str {
    if state.config.token.is_some() {
        "<form method=\"post\" action=\"/signout\"><button type=\"submit\">Sign out</button></form>"
    } else {
        ""
    }
}

fn form(message: &str) -> String {
    let alert = if message.is_empty() {
        String::new()
    } else {
        format!("<p role=\"alert\">{}</p>", escape(message))
    };
    format!(
        "<h1>Sign in to clearance</h1>{alert}\
         <p>This service holds criminal-record data. Sign in with its access token: whoever \
         runs the service for the office has it.</p>\
         <form method=\"post\" action=\"/signin\">\
         <label for=\"token\">Access token</label>\
         <input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required autofocus>\
         <button type=\"submit\">Sign in</button></form>"
    )
}

/// `GET /signin`: the form (or, with no token to ask for or a session already, the page).
pub(crate) async fn show(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if state.config.token.is_none() || state.sessions.signed_in(&headers) {
        return Redirect::to("/").into_response();
    }
    layout("Sign in", &form(""), false).into_response()
}

#[derive(serde::Deserialize)]
pub(crate) struct SignIn {
    token: String,
}

/// `POST /signin`: the right token starts a session; a wrong one is said so, slowly.
pub(crate) async fn submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    axum::Form(sign_in): axum::Form<SignIn>,
) -> Response {
    let Some(token) = &state.config.token else {
        return Redirect::to("/").into_response();
    };
    if !super::api::token_matches(sign_in.token.trim(), token) {
        tokio::time::sleep(WRONG_TOKEN_DELAY).await;
        let page = layout("Sign in", &form("That is not the access token."), false);
        return (StatusCode::UNAUTHORIZED, page).into_response();
    }
    let Ok(id) = state.sessions.start() else {
        return super::api::problem(
            StatusCode::INTERNAL_SERVER_ERROR,
            "no random numbers for a session",
        );
    };
    let cookie = format!(
        "{COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        LIFETIME.as_secs(),
        secure_attribute(&headers)
    );
    with_cookie(Redirect::to("/").into_response(), &cookie)
}

/// `POST /signout`: the session ends here and in the browser.
pub(crate) async fn sign_out(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    state.sessions.end(&headers);
    let cookie = format!(
        "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{}",
        secure_attribute(&headers)
    );
    with_cookie(Redirect::to("/signin").into_response(), &cookie)
}

fn with_cookie(mut response: Response, cookie: &str) -> Response {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cookie(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(value).expect("header"),
        );
        headers
    }

    #[test]
    fn a_session_is_known_by_its_cookie_until_it_ends() {
        let sessions = Sessions::default();
        let id = sessions.start().expect("random");
        assert_eq!(id.len(), 64);
        assert_ne!(
            sessions.start().expect("random"),
            id,
            "each session its own id"
        );
        let headers = cookie(&format!("theme=dark; {COOKIE}={id}"));
        assert!(sessions.signed_in(&headers));
        assert!(!sessions.signed_in(&cookie(&format!("{COOKIE}={id}0"))));
        assert!(!sessions.signed_in(&cookie(&format!("other_{COOKIE}={id}"))));
        assert!(!sessions.signed_in(&HeaderMap::new()));
        sessions.end(&headers);
        assert!(!sessions.signed_in(&headers));
    }

    #[test]
    fn an_ended_session_is_refused_and_forgotten() {
        let sessions = Sessions::default();
        let id = sessions.start().expect("random");
        let past = Instant::now()
            .checked_sub(Duration::from_secs(1))
            .expect("a second ago");
        sessions.ends.lock().expect("lock").insert(id.clone(), past);
        assert!(!sessions.signed_in(&cookie(&format!("{COOKIE}={id}"))));
        sessions.start().expect("random");
        assert!(!sessions.ends.lock().expect("lock").contains_key(&id));
    }

    #[test]
    fn pages_and_navigations_go_to_sign_in_and_the_api_gets_401() {
        let (get, post) = (axum::http::Method::GET, axum::http::Method::POST);
        let none = HeaderMap::new();
        assert!(wants_a_page(&get, "/", &none));
        assert!(wants_a_page(&get, "/batches/abc", &none));
        for path in ["/v1/batches", "/metrics", "/openapi.json", "/v2/anything"] {
            assert!(!wants_a_page(&get, path, &none), "{path}");
        }
        assert!(!wants_a_page(&post, "/batches", &none));
        // A download link or a form posted from the page after the session ended.
        let mut navigation = HeaderMap::new();
        navigation.insert("sec-fetch-mode", HeaderValue::from_static("navigate"));
        assert!(wants_a_page(
            &get,
            "/v1/batches/x/files/bundles/filing.pdf",
            &navigation
        ));
        assert!(wants_a_page(&post, "/batches", &navigation));
    }

    #[test]
    fn the_cookie_is_secure_when_the_proxy_says_https() {
        let mut headers = HeaderMap::new();
        assert_eq!(secure_attribute(&headers), "");
        headers.insert("x-forwarded-proto", HeaderValue::from_static("HTTPS"));
        assert_eq!(secure_attribute(&headers), "; Secure");
    }
}
