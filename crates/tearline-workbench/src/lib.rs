//! The workbench: the web UI that `tearline serve` serves under `/ui` on
//! the TAXII port, for the node's own analysts and releasing officers.
//!
//! It is a front end and nothing more: each handler checks the form,
//! calls one function of the service layer (`tearline_node`) as the
//! signed-in user, and renders the view struct it returns. Roles, the
//! two-person rule, the leak check, the audit log and whole-or-absent
//! writes are all kept there, so they hold here exactly as at the command
//! line. Service calls run on the blocking pool, so a slow preview never
//! holds up another request, and nothing locks the node across a request.
//!
//! Pages are rendered on the server from Askama templates compiled into
//! the binary (`templates/`); the style sheet and one small script ship
//! inside the binary too (`static/`), and every page works without the
//! script (it only refreshes the preview while typing).
//!
//! Modules: `pages` holds one handler per page or form; `preview` turns an
//! assessment into the side-by-side audience view; `svg` draws the
//! graphics. Errors become pages with the status their kind gives
//! (`tearline_node::Code::status`); an internal error's details go to the
//! server's log only.
#![deny(missing_docs)]

mod pages;
mod preview;
mod svg;

use std::sync::Arc;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Router;
use tearline_node::users::Session;
use tearline_node::Node;

/// The session cookie's name.
pub const COOKIE: &str = "tearline_session";

/// What every workbench handler shares: the node.
pub struct Workbench {
    node: Arc<Node>,
}

impl Workbench {
    /// A workbench over a node (shared with the exchange in `serve`).
    pub fn new(node: Arc<Node>) -> Workbench {
        Workbench { node }
    }

    fn cookie(&self, token: &str, max_age: u64) -> String {
        let secure = if self.node.settings().workbench.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        format!("{COOKIE}={token}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
    }

    /// `[workbench] max_report_bytes`.
    fn max_report_bytes(&self) -> usize {
        self.node.settings().workbench.max_report_bytes
    }

    /// Runs a service call on the blocking pool.
    async fn call<T, F>(&self, f: F) -> Result<T, UiError>
    where
        T: Send + 'static,
        F: FnOnce(&Node) -> Result<T, UiError> + Send + 'static,
    {
        let node = self.node.clone();
        tokio::task::spawn_blocking(move || f(&node))
            .await
            .map_err(|e| UiError::Internal(format!("a workbench task failed: {e}")))?
    }
}

/// The workbench's routes, all under `/ui`.
pub fn router(wb: Arc<Workbench>) -> Router {
    pages::routes(wb.max_report_bytes())
        .layer(axum::middleware::from_fn(same_origin))
        .layer(axum::middleware::from_fn_with_state(wb.clone(), known_host))
        .layer(axum::middleware::map_response(headers))
        .with_state(wb)
}

/// The host a request names, without its port, lower-cased.
fn host_name(host: &str) -> String {
    let h = host.trim();
    let name = if let Some(rest) = h.strip_prefix('[') {
        // [::1]:8080
        rest.split(']').next().unwrap_or("")
    } else {
        h.rsplit_once(':')
            .filter(|(_, port)| port.chars().all(|c| c.is_ascii_digit()))
            .map_or(h, |(name, _)| name)
    };
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// Whether the workbench answers to `host`: loopback, or a configured name.
fn host_allowed(host: &str, allowed: &[String]) -> bool {
    let name = host_name(host);
    let loopback = name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    loopback
        || allowed
            .iter()
            .any(|a| host_name(a) == name && !name.is_empty())
}

/// Refuses a request whose `Host` is not one the workbench answers to.
async fn known_host(State(wb): State<Arc<Workbench>>, req: Request, next: Next) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()))
        .unwrap_or("");
    if !host_allowed(host, &wb.node.settings().workbench.allowed_hosts) {
        return UiError::Page(
            StatusCode::MISDIRECTED_REQUEST,
            format!(
                "this workbench does not answer to the host `{}`: add it to [workbench] allowed_hosts in tearline.toml",
                host_name(host)
            ),
        )
        .into_response();
    }
    next.run(req).await
}

/// What can go wrong in a handler, and the page that says so.
#[derive(Debug)]
pub enum UiError {
    /// Not signed in: go to the sign-in page, then back to `next`.
    SignIn(String),
    /// Something the user can read about: the status and the message.
    Page(StatusCode, String),
    /// Something failed inside: logged, and the page says only that.
    Internal(String),
}

impl UiError {
    fn forbidden(m: impl Into<String>) -> UiError {
        UiError::Page(StatusCode::FORBIDDEN, m.into())
    }

    fn not_found(m: impl Into<String>) -> UiError {
        UiError::Page(StatusCode::NOT_FOUND, m.into())
    }
}

impl From<tearline_node::Error> for UiError {
    fn from(e: tearline_node::Error) -> Self {
        if e.code() == tearline_node::Code::Internal {
            return UiError::Internal(format!("{e}: {}", chain(&e)));
        }
        let status =
            StatusCode::from_u16(e.code().status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut message = e.public_message();
        for d in e.details() {
            message.push('\n');
            message.push_str(d);
        }
        UiError::Page(status, message)
    }
}

/// An error's causes, for the log.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = Vec::new();
    let mut cur = e.source();
    while let Some(c) = cur {
        out.push(c.to_string());
        cur = c.source();
    }
    out.join(": ")
}

#[derive(askama::Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    status: u16,
    reason: &'a str,
    message: &'a str,
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            UiError::SignIn(next) => {
                let to = format!("/ui/login?next={}", urlencode(&next));
                return Redirect::to(&to).into_response();
            }
            UiError::Page(status, m) => (status, m),
            UiError::Internal(detail) => {
                tracing::error!("workbench error: {detail}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "something failed inside Tearline; the server log says what".to_string(),
                )
            }
        };
        let page = ErrorPage {
            status: status.as_u16(),
            reason: status.canonical_reason().unwrap_or(""),
            message: &message,
        };
        match askama::Template::render(&page) {
            Ok(html) => (status, Html(html)).into_response(),
            Err(_) => (status, message).into_response(),
        }
    }
}

/// Percent-encodes a path for a query value.
pub fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Renders a template to a response.
fn page(t: impl askama::Template) -> Result<Response, UiError> {
    let html = t
        .render()
        .map_err(|e| UiError::Internal(format!("bug: a template failed: {e}")))?;
    Ok(Html(html).into_response())
}

/// Where a form goes after it is handled (the POST-redirect-GET pattern).
fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

fn session_cookie(h: &HeaderMap) -> Option<String> {
    h.get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// A signed-in request's session.
pub struct Signed(Session);

impl std::ops::Deref for Signed {
    type Target = Session;
    fn deref(&self) -> &Session {
        &self.0
    }
}

impl FromRequestParts<Arc<Workbench>> for Signed {
    type Rejection = UiError;

    async fn from_request_parts(
        parts: &mut Parts,
        wb: &Arc<Workbench>,
    ) -> Result<Self, Self::Rejection> {
        let next = if parts.method == Method::GET {
            parts.uri.path().to_string()
        } else {
            "/ui/".to_string()
        };
        let Some(token) = session_cookie(&parts.headers) else {
            return Err(UiError::SignIn(next));
        };
        // The service layer reads the user again: a removed user, a new
        // password or a changed role ends the session.
        match wb.call(move |n| Ok(n.session(&token)?)).await? {
            Some(s) => Ok(Signed(s)),
            None => Err(UiError::SignIn(next)),
        }
    }
}

/// Refuses a state-changing request that a browser says came from another
/// site (the CSRF token is checked as well, by each handler).
async fn same_origin(req: Request, next: Next) -> Response {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let h = req.headers();
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
        let origin_ok = match (h.get(header::ORIGIN).and_then(|v| v.to_str().ok()), host) {
            (Some(o), Some(host)) => {
                o == format!("http://{host}") || o == format!("https://{host}")
            }
            (Some(_), None) => false,
            (None, _) => !matches!(
                h.get("sec-fetch-site").and_then(|v| v.to_str().ok()),
                Some("cross-site" | "same-site")
            ),
        };
        if !origin_ok {
            return UiError::forbidden("this form was sent from another site").into_response();
        }
    }
    next.run(req).await
}

/// Headers on every workbench response: no framing, no sniffing, no
/// caching, and scripts, styles and images only from the workbench itself.
async fn headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    for (k, v) in [
        (
            "content-security-policy",
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "same-origin"),
        ("cache-control", "no-store"),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    r
}

/// The style sheet and the script, compiled into the binary.
async fn asset(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "app.css" => (include_str!("../static/app.css"), "text/css; charset=utf-8"),
        "app.js" => (
            include_str!("../static/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "favicon.svg" => (include_str!("../static/favicon.svg"), "image/svg+xml"),
        _ => return UiError::not_found(format!("no file `{name}`")).into_response(),
    };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

/// Hands `State` to the page module without repeating the type.
type Wb = State<Arc<Workbench>>;

#[cfg(test)]
mod tests;
