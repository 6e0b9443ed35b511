//! The workbench: the web UI that `tearline serve` serves under `/ui` on
//! the TAXII port, for the node's own analysts and releasing officers.
//!
//! Pages are rendered on the server from Askama templates compiled into
//! the binary (`crates/tearline/templates/`); the style sheet and one small
//! script ship inside the binary too (`static/`), and every page works
//! without the script (it only refreshes the preview while typing).
//!
//! The workbench acts through the same functions as the command line —
//! `reports::issue` for a release, `warnings` for the lifecycle, `reading`
//! for cases — on its own connection to the node's store, with the signed-in
//! user as the audit actor. So every rule the command line keeps (the leak
//! check, the audit log, whole-or-absent writes) holds here as well.
//!
//! Routes: `auth` signs people in and out; `pages` holds one handler per
//! page or form; `preview` builds the side-by-side audience view; `svg`
//! draws the graphics.

pub mod auth;
mod pages;
mod preview;
mod svg;

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Router;

use crate::node::{Node, WorkbenchConfig};
use auth::{Role, Sessions, Signed};

/// The session cookie's name.
pub const COOKIE: &str = "tearline_session";

/// What every workbench handler shares.
pub struct Workbench {
    node: Mutex<Node>,
    sessions: Sessions,
    config: WorkbenchConfig,
}

impl Workbench {
    /// A workbench over its own handle on the node.
    pub fn new(node: Node) -> Workbench {
        let config = node.config.workbench.clone();
        Workbench {
            sessions: Sessions::new(
                Duration::from_secs(config.session_idle_minutes * 60),
                Duration::from_secs(config.session_max_hours * 3600),
            ),
            node: Mutex::new(node),
            config,
        }
    }

    /// The node, with `actor` as the audit actor of what is done with it.
    fn node(&self, actor: &str) -> Result<MutexGuard<'_, Node>, UiError> {
        let mut n = self
            .node
            .lock()
            .map_err(|_| UiError::Internal(anyhow::anyhow!("bug: the node lock is poisoned")))?;
        n.actor = actor.to_string();
        Ok(n)
    }

    fn cookie(&self, token: &str, max_age: u64) -> String {
        let secure = if self.config.secure_cookies {
            "; Secure"
        } else {
            ""
        };
        format!("{COOKIE}={token}; Path=/ui; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}")
    }
}

/// The workbench's routes, all under `/ui`.
pub fn router(wb: Arc<Workbench>) -> Router {
    pages::routes()
        .layer(axum::middleware::from_fn(same_origin))
        .layer(axum::middleware::map_response(headers))
        .with_state(wb)
}

/// What can go wrong in a handler, and the page that says so.
#[derive(Debug)]
pub enum UiError {
    /// Not signed in: go to the sign-in page, then back to `next`.
    SignIn(String),
    /// Signed in, but the role does not allow it.
    Forbidden(String),
    NotFound(String),
    BadRequest(String),
    /// Something failed inside: logged, and the page says only that.
    Internal(anyhow::Error),
}

impl From<anyhow::Error> for UiError {
    fn from(e: anyhow::Error) -> Self {
        // Errors the command line reports as bad input are the user's to fix.
        match crate::exit::code_of(&e) {
            crate::exit::BAD_INPUT => UiError::BadRequest(format!("{e:#}")),
            _ => UiError::Internal(e),
        }
    }
}

impl From<tearline_store::StoreError> for UiError {
    fn from(e: tearline_store::StoreError) -> Self {
        UiError::Internal(e.into())
    }
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
            UiError::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            UiError::NotFound(m) => (StatusCode::NOT_FOUND, m),
            UiError::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            UiError::Internal(e) => {
                eprintln!("tearline serve: workbench error: {e:#}");
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
        .map_err(|e| UiError::Internal(anyhow::anyhow!("bug: a template failed: {e}")))?;
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
        let Some(found) = wb.sessions.find(&token)? else {
            return Err(UiError::SignIn(next));
        };
        // The user is read again on every request: a removed user, a new
        // password or a changed role ends the session.
        let user = wb.node(&found.user)?.store.user(&found.user)?;
        match user {
            Some(u) if u.updated_at == found.stamp => {
                let role = Role::parse(&u.role).map_err(UiError::Internal)?;
                Ok(Signed::new(found, role))
            }
            _ => Err(UiError::SignIn(next)),
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
            return UiError::Forbidden("this form was sent from another site".into())
                .into_response();
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
        "app.css" => (
            include_str!("../../static/app.css"),
            "text/css; charset=utf-8",
        ),
        "app.js" => (
            include_str!("../../static/app.js"),
            "text/javascript; charset=utf-8",
        ),
        "favicon.svg" => (include_str!("../../static/favicon.svg"), "image/svg+xml"),
        _ => return UiError::NotFound(format!("no file `{name}`")).into_response(),
    };
    ([(header::CONTENT_TYPE, kind)], body).into_response()
}

/// Hands `State` to the page module without repeating the type.
type Wb = State<Arc<Workbench>>;

#[cfg(test)]
mod tests;
