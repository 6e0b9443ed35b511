//! One handler per page or form. Pages are GETs; every form is a POST that
//! checks the session's CSRF token and the role, does one thing through the
//! same functions as the command line, leaves a message for the next page,
//! and redirects (so a reload never repeats an action).

use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use tearline_lifecycle::apply::{apply, tick, warning, ApplyError};
use tearline_lifecycle::{describe_time_left, EventKind, Outcome, State as WState};
use tearline_model::MAX_REPORT_BYTES;
use tearline_store::{Draft, ReleaseRequest, WarningRecord};

use super::auth::{self, Flash, Signed, INTERNAL};
use super::preview::{self, Preview};
use super::svg::{self, Mark};
use super::{asset, page, see_other, UiError, Wb, Workbench};
use crate::node::{self, Node};
use crate::reading::RelatedDoc;
use crate::reports::{self, Refused};
use crate::Format;

pub fn routes() -> Router<Arc<Workbench>> {
    Router::new()
        .route("/ui", get(|| async { see_other("/ui/warnings") }))
        .route("/ui/", get(|| async { see_other("/ui/warnings") }))
        .route("/ui/static/{name}", get(asset))
        .route("/ui/login", get(login_page).post(login))
        .route("/ui/logout", post(logout))
        .route("/ui/drafts", get(drafts).post(create_draft))
        .route("/ui/drafts/new", get(new_draft))
        .route("/ui/drafts/{id}", get(draft_page).post(save_draft))
        .route("/ui/drafts/{id}/release", post(release))
        .route("/ui/preview", post(preview_fragment))
        .route("/ui/requests", get(requests))
        .route("/ui/requests/{id}/approve", post(approve))
        .route("/ui/requests/{id}/reject", post(reject))
        .route("/ui/warnings", get(board))
        .route("/ui/warnings/{id}", get(warning_page))
        .route("/ui/warnings/{id}/close", post(close))
        .route("/ui/warnings/{id}/extend", post(extend))
        .route("/ui/cases", get(cases))
        .route("/ui/cases/{id}", get(case_page))
        .route("/ui/partners", get(partners))
        .route("/ui/audit", get(audit))
        .route("/ui/audit/verify", post(verify))
        .route("/ui/users", get(users))
        .layer(axum::extract::DefaultBodyLimit::max(
            MAX_REPORT_BYTES + 64 * 1024,
        ))
}

/// The frame around every signed-in page.
pub struct Chrome {
    pub user: String,
    pub role: &'static str,
    pub csrf: String,
    pub flash: Option<Flash>,
    pub active: &'static str,
    pub audit: bool,
    pub admin: bool,
    pub two_person: bool,
    pub pending: usize,
}

fn chrome(wb: &Workbench, s: &Signed, active: &'static str) -> Result<Chrome, UiError> {
    let pending = if wb.config.two_person_rule {
        wb.node(&s.user)?
            .store
            .requests()?
            .iter()
            .filter(|r| r.state == "pending")
            .count()
    } else {
        0
    };
    Ok(Chrome {
        user: s.user.clone(),
        role: s.role.name(),
        csrf: s.csrf.clone(),
        flash: s.flash.clone(),
        active,
        audit: s.role.may_audit(),
        admin: s.role.may_admin(),
        two_person: wb.config.two_person_rule,
        pending,
    })
}

fn csrf(s: &Signed, token: &str) -> Result<(), UiError> {
    if s.csrf_ok(token) {
        Ok(())
    } else {
        Err(UiError::Forbidden(
            "the form's security token is missing or stale: reload the page and try again".into(),
        ))
    }
}

fn flash(
    wb: &Workbench,
    s: &Signed,
    kind: &'static str,
    text: impl Into<String>,
) -> Result<(), UiError> {
    wb.sessions.flash(s, kind, text).map_err(UiError::Internal)
}

// ---- sign-in ---------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    next: String,
    error: Option<String>,
    name: String,
}

#[derive(Deserialize)]
struct NextQuery {
    next: Option<String>,
}

/// Only a workbench path may follow a sign-in.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with("/ui/") && !n.starts_with("//") && !n.contains('\\') => {
            n.to_string()
        }
        _ => "/ui/warnings".to_string(),
    }
}

async fn login_page(Query(q): Query<NextQuery>) -> Result<Response, UiError> {
    page(LoginPage {
        next: safe_next(q.next.as_deref()),
        error: None,
        name: String::new(),
    })
}

#[derive(Deserialize)]
struct LoginForm {
    name: String,
    password: String,
    next: Option<String>,
}

async fn login(State(wb): Wb, Form(f): Form<LoginForm>) -> Result<Response, UiError> {
    let next = safe_next(f.next.as_deref());
    let again = |error: String, status| -> Result<Response, UiError> {
        let mut r = page(LoginPage {
            next: next.clone(),
            error: Some(error),
            name: f.name.clone(),
        })?;
        *r.status_mut() = status;
        Ok(r)
    };
    if let Some(min) = wb.sessions.locked(&f.name) {
        return again(
            format!("too many failed sign-ins for this name: try again in {min} minute(s)"),
            axum::http::StatusCode::TOO_MANY_REQUESTS,
        );
    }
    let user = wb.node(&f.name)?.store.user(&f.name)?;
    let role = auth::check_login(user.as_ref(), &f.password);
    let mut node = wb.node(&f.name)?;
    let (Some(user), Some(role)) = (user, role) else {
        wb.sessions.failed(&f.name);
        node.actor = "anonymous".into();
        node.audit("ui.login.failed", &f.name, json!({}))?;
        drop(node);
        return again(
            "the name or the password is wrong".into(),
            axum::http::StatusCode::UNAUTHORIZED,
        );
    };
    wb.sessions.succeeded(&f.name);
    node.audit("ui.login", &user.name, json!({ "role": role.name() }))?;
    let token = wb.sessions.start(&user.name, &user.updated_at)?;
    let mut r = see_other(&next);
    let cookie = wb.cookie(&token, wb.sessions.max_age().as_secs());
    r.headers_mut().insert(
        header::SET_COOKIE,
        cookie
            .parse()
            .map_err(|e| UiError::Internal(anyhow::anyhow!("bug: bad cookie header: {e}")))?,
    );
    Ok(r)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(State(wb): Wb, s: Signed, Form(f): Form<CsrfForm>) -> Result<Response, UiError> {
    csrf(&s, &f.csrf)?;
    wb.sessions.end(&s)?;
    wb.node(&s.user)?.audit("ui.logout", &s.user, json!({}))?;
    let mut r = see_other("/ui/login");
    r.headers_mut().insert(
        header::SET_COOKIE,
        wb.cookie("", 0)
            .parse()
            .map_err(|e| UiError::Internal(anyhow::anyhow!("bug: bad cookie header: {e}")))?,
    );
    Ok(r)
}

// ---- writing ---------------------------------------------------------------

#[derive(Template)]
#[template(path = "drafts.html")]
struct DraftsPage {
    chrome: Chrome,
    drafts: Vec<Draft>,
}

async fn drafts(State(wb): Wb, s: Signed) -> Result<Response, UiError> {
    let drafts = wb.node(&s.user)?.store.drafts()?;
    page(DraftsPage {
        chrome: chrome(&wb, &s, "write")?,
        drafts,
    })
}

/// An audience in the release form.
struct AudienceOption {
    name: String,
    allowed: bool,
    note: &'static str,
}

#[derive(Template)]
#[template(path = "write.html")]
struct WritePage {
    chrome: Chrome,
    id: Option<i64>,
    title: String,
    body: String,
    sha: String,
    preview: String,
    related: Vec<RelatedDoc>,
    related_error: Option<String>,
    audiences: Vec<AudienceOption>,
}

fn starter(now: DateTime<Utc>) -> String {
    let at = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!(
        "---\ntitle: New warning\nproduced: {}\nvalid_from: {}\nvalid_until: {}\n---\n\n(TLP:CLEAR) Write each paragraph with its marking.\n",
        at(now),
        at(now),
        at(now + chrono::Duration::hours(48))
    )
}

fn draft_name(id: Option<i64>) -> String {
    match id {
        Some(id) => format!("draft-{id}.md"),
        None => "new-draft.md".into(),
    }
}

fn sha(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

fn write_page(
    wb: &Workbench,
    s: &Signed,
    id: Option<i64>,
    body: String,
) -> Result<Response, UiError> {
    let chrome = chrome(wb, s, "write")?;
    let mut node = wb.node(&s.user)?;
    let name = draft_name(id);
    let pv = preview::preview(&mut node, &name, &body, s.role)?;
    let title = title_of(&name, &body);
    let (related, related_error) =
        match crate::reading::related_for_text(&mut node, &name, body.as_bytes()) {
            Ok(r) => (r, None),
            Err(e) => (Vec::new(), Some(format!("{e:#}"))),
        };
    let two_person = wb.config.two_person_rule;
    let audiences = node
        .config
        .audiences
        .iter()
        .map(|a| {
            let allowed = s.role.may_release(a.name());
            AudienceOption {
                name: a.name().to_string(),
                allowed,
                note: if !allowed {
                    "only a releaser may release here"
                } else if two_person && a.name() != INTERNAL {
                    "needs a second releaser's approval"
                } else {
                    ""
                },
            }
        })
        .collect();
    drop(node);
    page(WritePage {
        chrome,
        id,
        title,
        sha: sha(&body),
        body,
        preview: pv
            .render()
            .map_err(|e| UiError::Internal(anyhow::anyhow!("bug: a template failed: {e}")))?,
        related,
        related_error,
        audiences,
    })
}

fn title_of(name: &str, body: &str) -> String {
    match tearline_model::parse_report(name, body.as_bytes()) {
        Ok(r) if !r.meta().title.trim().is_empty() => r.meta().title.clone(),
        _ => "untitled draft".into(),
    }
}

async fn new_draft(State(wb): Wb, s: Signed) -> Result<Response, UiError> {
    let body = starter(node::now()?);
    write_page(&wb, &s, None, body)
}

async fn draft_page(State(wb): Wb, s: Signed, Path(id): Path<i64>) -> Result<Response, UiError> {
    let d = find_draft(&wb, &s, id)?;
    write_page(&wb, &s, Some(id), d.body)
}

fn find_draft(wb: &Workbench, s: &Signed, id: i64) -> Result<Draft, UiError> {
    wb.node(&s.user)?
        .store
        .draft(id)?
        .ok_or_else(|| UiError::NotFound(format!("there is no draft {id}")))
}

#[derive(Deserialize)]
struct BodyForm {
    csrf: String,
    body: String,
}

/// Browsers send a text area's lines with CRLF; reports are stored with LF.
fn clean_body(body: &str) -> Result<String, UiError> {
    let b = body.replace("\r\n", "\n");
    if b.len() > MAX_REPORT_BYTES {
        return Err(UiError::BadRequest(format!(
            "the report is {} bytes; the limit is {MAX_REPORT_BYTES} bytes",
            b.len()
        )));
    }
    Ok(b)
}

fn save(wb: &Workbench, s: &Signed, id: Option<i64>, body: &str) -> Result<i64, UiError> {
    let body = clean_body(body)?;
    let title = title_of(&draft_name(id), &body);
    let mut node = wb.node(&s.user)?;
    let at = node::stamp(node::now()?);
    let entry = node.entry(
        "draft.save",
        &id.map(|i| format!("draft {i}")).unwrap_or_default(),
        json!({ "title": title, "sha256": sha(&body) }),
    )?;
    let id = node
        .store
        .draft_save(id, &title, &body, &s.user, &at, entry)
        .map_err(|e| match e {
            tearline_store::StoreError::Conflict(m) => UiError::NotFound(m),
            e => e.into(),
        })?;
    node.write_head()?;
    Ok(id)
}

async fn create_draft(
    State(wb): Wb,
    s: Signed,
    Form(f): Form<BodyForm>,
) -> Result<Response, UiError> {
    saved(&wb, &s, None, &f)
}

async fn save_draft(
    State(wb): Wb,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<BodyForm>,
) -> Result<Response, UiError> {
    saved(&wb, &s, Some(id), &f)
}

/// Checks the form, saves the draft, and goes to its page.
fn saved(wb: &Workbench, s: &Signed, id: Option<i64>, f: &BodyForm) -> Result<Response, UiError> {
    csrf(s, &f.csrf)?;
    let id = save(wb, s, id, &f.body)?;
    flash(wb, s, "ok", format!("saved draft {id}"))?;
    Ok(see_other(&format!("/ui/drafts/{id}")))
}

/// The preview pane alone, for the script that refreshes it while typing.
async fn preview_fragment(
    State(wb): Wb,
    s: Signed,
    Form(f): Form<BodyForm>,
) -> Result<Response, UiError> {
    csrf(&s, &f.csrf)?;
    let body = clean_body(&f.body)?;
    let pv: Preview = preview::preview(&mut *wb.node(&s.user)?, "draft.md", &body, s.role)?;
    page(pv)
}

#[derive(Deserialize)]
struct ReleaseForm {
    csrf: String,
    audience: String,
    sha: String,
}

async fn release(
    State(wb): Wb,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<ReleaseForm>,
) -> Result<Response, UiError> {
    csrf(&s, &f.csrf)?;
    let d = find_draft(&wb, &s, id)?;
    let back = format!("/ui/drafts/{id}");
    if sha(&d.body) != f.sha {
        flash(
            &wb,
            &s,
            "error",
            "the draft changed since this page was loaded: review the preview and issue again",
        )?;
        return Ok(see_other(&back));
    }
    if !s.role.may_release(&f.audience) {
        return Err(UiError::Forbidden(format!(
            "only a releaser may release to `{}`; an {} may release to `{INTERNAL}`",
            f.audience,
            s.role.name()
        )));
    }
    let mut node = wb.node(&s.user)?;
    node.audience(&f.audience)?;
    if wb.config.two_person_rule && f.audience != INTERNAL {
        let at = node::stamp(node::now()?);
        let entry = node.entry(
            "release.request",
            "",
            json!({ "draft": id, "audience": f.audience, "report_sha256": f.sha }),
        )?;
        let rid = node.store.request_add(
            &ReleaseRequest {
                id: 0,
                draft_id: Some(id),
                body: d.body.clone(),
                report_sha256: f.sha.clone(),
                audience: f.audience.clone(),
                requested_by: s.user.clone(),
                requested_at: at,
                state: "pending".into(),
                decided_by: None,
                decided_at: None,
                note: None,
                release_id: None,
            },
            entry,
        )?;
        node.write_head()?;
        drop(node);
        flash(
            &wb,
            &s,
            "ok",
            format!(
                "request {rid}: the release to `{}` waits for a second releaser's approval",
                f.audience
            ),
        )?;
        return Ok(see_other("/ui/requests"));
    }
    let outcome = issue(&mut node, &draft_name(Some(id)), &d.body, &f.audience)?;
    drop(node);
    match outcome {
        Ok(done) => {
            flash(&wb, &s, "ok", done.text)?;
            Ok(see_other(&done.to))
        }
        Err(text) => {
            flash(&wb, &s, "error", text)?;
            Ok(see_other(&back))
        }
    }
}

/// A release issued from the workbench: what to tell the user, where to
/// send them, and its number.
struct Done {
    text: String,
    to: String,
    release: i64,
}

/// Issues a release of `body` to `audience` as the node's current actor,
/// or says why it was refused.
fn issue(
    node: &mut Node,
    name: &str,
    body: &str,
    audience: &str,
) -> Result<Result<Done, String>, UiError> {
    let report = preview::parse(name, body)?;
    match reports::issue(node, &report, body.as_bytes(), audience, Format::Stix, None, None)? {
        Ok(i) => {
            let mut text = format!(
                "released to `{audience}`: release {}, {} of {} portions, {} withheld, {} STIX objects in its collection",
                i.record.id,
                i.kept,
                report.portions().len(),
                i.withheld,
                i.objects
            );
            let to = if i.warning {
                text.push_str(&format!("; warning {} is followed on the board", i.record.id));
                format!("/ui/warnings/{}", i.record.id)
            } else {
                "/ui/warnings".into()
            };
            Ok(Ok(Done {
                text,
                to,
                release: i.record.id,
            }))
        }
        Err(Refused::Lint(errors)) => Ok(Err(format!(
            "not released: the report has {} lint error(s):\n{}",
            errors.len(),
            errors
                .iter()
                .map(|e| format!("line {}, column {}: {} [{}]", e.line, e.column, e.message, e.code))
                .collect::<Vec<_>>()
                .join("\n")
        ))),
        Err(Refused::Leak { lines, .. }) => Ok(Err(format!(
            "not released: the leak check refused the release to `{audience}`; nothing was written:\n{}",
            lines.join("\n")
        ))),
    }
}

// ---- the two-person rule ---------------------------------------------------

#[derive(Template)]
#[template(path = "requests.html")]
struct RequestsPage {
    chrome: Chrome,
    requests: Vec<ReleaseRequest>,
    may_decide: bool,
    user: String,
}

async fn requests(State(wb): Wb, s: Signed) -> Result<Response, UiError> {
    let requests = wb.node(&s.user)?.store.requests()?;
    page(RequestsPage {
        chrome: chrome(&wb, &s, "requests")?,
        requests,
        may_decide: s.role.may_decide(),
        user: s.user.clone(),
    })
}

#[derive(Deserialize)]
struct DecideForm {
    csrf: String,
    #[serde(default)]
    note: String,
}

fn pending_request(wb: &Workbench, s: &Signed, id: i64) -> Result<ReleaseRequest, UiError> {
    if !s.role.may_decide() {
        return Err(UiError::Forbidden(
            "only a releaser may approve or reject a release".into(),
        ));
    }
    let r = wb
        .node(&s.user)?
        .store
        .request(id)?
        .ok_or_else(|| UiError::NotFound(format!("there is no request {id}")))?;
    if r.requested_by == s.user {
        return Err(UiError::Forbidden(
            "a second releaser must decide: you asked for this release".into(),
        ));
    }
    if r.state != "pending" {
        return Err(UiError::BadRequest(format!(
            "request {id} is already {}",
            r.state
        )));
    }
    Ok(r)
}

/// Checks the form and the request, and moves it from pending to `to`
/// (approved or rejected) with its audit entry; the node is still held,
/// with the request and the time. A request decided meanwhile is refused.
fn decide_request<'a>(
    wb: &'a Workbench,
    s: &Signed,
    id: i64,
    f: &DecideForm,
    to: &str,
    action: &str,
) -> Result<(std::sync::MutexGuard<'a, Node>, ReleaseRequest, String), UiError> {
    csrf(s, &f.csrf)?;
    let r = pending_request(wb, s, id)?;
    let mut node = wb.node(&s.user)?;
    let at = node::stamp(node::now()?);
    let detail = json!({ "requested_by": r.requested_by, "audience": r.audience, "report_sha256": r.report_sha256, "note": f.note });
    let entry = node.entry(action, &format!("request {id}"), detail)?;
    if !node
        .store
        .request_move(id, "pending", to, &s.user, &at, Some(&f.note), None, entry)?
    {
        return Err(UiError::BadRequest(format!(
            "request {id} was decided meanwhile"
        )));
    }
    node.write_head()?;
    Ok((node, r, at))
}

async fn approve(
    State(wb): Wb,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Result<Response, UiError> {
    // Claiming the request first means two approvers cannot both release it.
    let (mut node, r, at) = decide_request(&wb, &s, id, &f, "approved", "release.approve")?;
    let name = format!("request-{id}.md");
    let outcome = issue(&mut node, &name, &r.body, &r.audience);
    let (to, text, release, page_to) = match &outcome {
        Ok(Ok(d)) => ("released", d.text.clone(), Some(d.release), d.to.clone()),
        Ok(Err(why)) => ("failed", why.clone(), None, "/ui/requests".to_string()),
        Err(e) => ("failed", format!("{e:?}"), None, "/ui/requests".to_string()),
    };
    let entry = node.entry(
        &format!("release.request.{to}"),
        &format!("request {id}"),
        json!({ "release": release }),
    )?;
    let note = (to == "failed").then_some(text.as_str());
    node.store
        .request_move(id, "approved", to, &s.user, &at, note, release, entry)?;
    node.write_head()?;
    drop(node);
    let _released = outcome?;
    flash(
        &wb,
        &s,
        if release.is_some() { "ok" } else { "error" },
        text,
    )?;
    Ok(see_other(&page_to))
}

async fn reject(
    State(wb): Wb,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Result<Response, UiError> {
    drop(decide_request(
        &wb,
        &s,
        id,
        &f,
        "rejected",
        "release.reject",
    )?);
    flash(&wb, &s, "ok", format!("request {id} rejected"))?;
    Ok(see_other("/ui/requests"))
}

// ---- warnings --------------------------------------------------------------

struct Card {
    id: i64,
    title: String,
    audience: String,
    partners: Vec<(String, bool)>,
    when: String,
    overdue: bool,
    detail: String,
}

struct Column {
    name: &'static str,
    cards: Vec<Card>,
}

#[derive(Template)]
#[template(path = "board.html")]
struct BoardPage {
    chrome: Chrome,
    columns: Vec<Column>,
    now: String,
}

const COLUMNS: [&str; 5] = [
    "issued",
    "delivered",
    "acknowledged",
    "review due",
    "closed",
];

fn column_of(s: WState) -> &'static str {
    match s {
        WState::Issued => "issued",
        WState::Delivered => "delivered",
        WState::Acknowledged | WState::MeasuresRecorded => "acknowledged",
        WState::ReviewDue => "review due",
        WState::Closed(_) => "closed",
    }
}

fn lifecycle(e: ApplyError) -> UiError {
    match e {
        ApplyError::Lifecycle(l) => UiError::BadRequest(l.to_string()),
        other => UiError::Internal(anyhow::Error::new(other)),
    }
}

/// Records "review due" for every warning whose window has ended, as the
/// command line does before listing.
fn review_tick(node: &mut Node, now: DateTime<Utc>) -> Result<(), UiError> {
    if tick(node.store.as_mut(), now).map_err(lifecycle)? > 0 {
        node.write_head()?;
    }
    Ok(())
}

fn delivered_to(rec: &WarningRecord, node: &Node) -> Result<Vec<(String, bool)>, UiError> {
    let w = warning(rec).map_err(lifecycle)?;
    let fetched: Vec<&str> = w
        .events
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Delivered { partner } => Some(partner.as_str()),
            _ => None,
        })
        .collect();
    Ok(node
        .store
        .partners()?
        .into_iter()
        .filter(|p| p.audience == rec.warning.audience)
        .map(|p| {
            let f = fetched.contains(&p.name.as_str());
            (p.name, f)
        })
        .collect())
}

async fn board(State(wb): Wb, s: Signed) -> Result<Response, UiError> {
    let chrome = chrome(&wb, &s, "warnings")?;
    let mut node = wb.node(&s.user)?;
    let now = node::now()?;
    review_tick(&mut node, now)?;
    let mut columns: Vec<Column> = COLUMNS
        .iter()
        .map(|n| Column {
            name: n,
            cards: Vec::new(),
        })
        .collect();
    let mut rows = Vec::new();
    for rec in node.store.warnings()? {
        let w = warning(&rec).map_err(lifecycle)?;
        rows.push((w.time_left(now), rec, w));
    }
    rows.sort_by_key(|(left, rec, _)| (*left, rec.id));
    for (left, rec, w) in rows {
        let state = w.state(now);
        let (when, overdue) = match state {
            WState::Closed(o) => (format!("closed: {}", o.name()), false),
            _ => (describe_time_left(left), left < chrono::Duration::zero()),
        };
        let card = Card {
            id: rec.id,
            partners: delivered_to(&rec, &node)?,
            title: rec.warning.title.clone(),
            audience: rec.warning.audience.clone(),
            when,
            overdue,
            detail: state.name().to_string(),
        };
        if let Some(c) = columns.iter_mut().find(|c| c.name == column_of(state)) {
            c.cards.push(card);
        }
    }
    drop(node);
    page(BoardPage {
        chrome,
        columns,
        now: node::stamp(now),
    })
}

struct EventRow {
    at: String,
    actor: String,
    what: String,
}

#[derive(Template)]
#[template(path = "warning.html")]
struct WarningPage {
    chrome: Chrome,
    id: i64,
    title: String,
    audience: String,
    report_id: String,
    state: String,
    when: String,
    window: String,
    partners: Vec<(String, bool)>,
    svg: String,
    events: Vec<EventRow>,
    open: bool,
    may_decide: bool,
    review_due: bool,
    suggested_until: String,
}

fn describe(kind: &EventKind) -> (String, String) {
    match kind {
        EventKind::Issued => ("issued".into(), "issued".into()),
        EventKind::Delivered { partner } => (
            format!("delivered: {partner}"),
            format!("delivered to {partner}"),
        ),
        EventKind::Acknowledged { partner, text } => (
            format!("acknowledged: {partner}"),
            format!("acknowledged by {partner}: {text}"),
        ),
        EventKind::Measures { partner, text } => (
            format!("measures: {partner}"),
            format!("measures recorded by {partner}: {text}"),
        ),
        EventKind::Feedback { partner, text } => (
            format!("feedback: {partner}"),
            format!("feedback from {partner}: {text}"),
        ),
        EventKind::Extended { until } => (
            "extended".into(),
            format!("window extended to {}", node::stamp(*until)),
        ),
        EventKind::ReviewDue => (
            "review due".into(),
            "window ended without a decision: review due".into(),
        ),
        EventKind::Reissued { by } => ("re-issued".into(), format!("re-issued as release {by}")),
        EventKind::Closed { outcome, note } if note.is_empty() => (
            format!("closed: {}", outcome.name()),
            format!("closed: {}", outcome.name()),
        ),
        EventKind::Closed { outcome, note } => (
            format!("closed: {}", outcome.name()),
            format!("closed: {} ({note})", outcome.name()),
        ),
    }
}

async fn warning_page(State(wb): Wb, s: Signed, Path(id): Path<i64>) -> Result<Response, UiError> {
    let chrome = chrome(&wb, &s, "warnings")?;
    let mut node = wb.node(&s.user)?;
    let now = node::now()?;
    review_tick(&mut node, now)?;
    let rec = node
        .store
        .warning(id)?
        .ok_or_else(|| UiError::NotFound(format!("there is no warning {id}")))?;
    let w = warning(&rec).map_err(lifecycle)?;
    let state = w.state(now);
    let mut marks: Vec<Mark> = w
        .events
        .iter()
        .map(|e| Mark {
            at: e.at,
            label: describe(&e.kind).0,
            kind: "event",
        })
        .collect();
    marks.push(Mark {
        at: w.window_end(),
        label: "window end".into(),
        kind: "end",
    });
    if state.is_open() {
        marks.push(Mark {
            at: now,
            label: "now".into(),
            kind: "now",
        });
    }
    let partners = delivered_to(&rec, &node)?;
    drop(node);
    let suggested = std::cmp::max(now, w.window_end()) + chrono::Duration::hours(24);
    page(WarningPage {
        chrome,
        id,
        svg: svg::timeline(&format!("Timeline of warning {id}"), &marks),
        title: rec.warning.title.clone(),
        audience: rec.warning.audience.clone(),
        report_id: rec.warning.report_id.clone(),
        state: state.to_string(),
        when: if state.is_open() {
            describe_time_left(w.time_left(now))
        } else {
            String::new()
        },
        window: format!(
            "{} → {}",
            rec.warning.valid_from.as_deref().unwrap_or("issue"),
            node::stamp(w.window_end())
        ),
        partners,
        events: w
            .events
            .iter()
            .map(|e| EventRow {
                at: node::stamp(e.at),
                actor: e.actor.clone(),
                what: describe(&e.kind).1,
            })
            .collect(),
        open: state.is_open(),
        may_decide: s.role.may_decide(),
        review_due: state == WState::ReviewDue,
        suggested_until: suggested.format("%Y-%m-%dT%H:%M").to_string(),
    })
}

#[derive(Deserialize)]
struct CloseForm {
    csrf: String,
    outcome: String,
    #[serde(default)]
    note: String,
}

fn decide(wb: &Workbench, s: &Signed, id: i64, kind: EventKind) -> Result<(), UiError> {
    if !s.role.may_decide() {
        return Err(UiError::Forbidden(
            "only a releaser may close or extend a warning".into(),
        ));
    }
    let mut node = wb.node(&s.user)?;
    let rec = node
        .store
        .warning(id)?
        .ok_or_else(|| UiError::NotFound(format!("there is no warning {id}")))?;
    let now = node::now()?;
    apply(node.store.as_mut(), &rec, kind, &s.user, now).map_err(lifecycle)?;
    node.write_head()?;
    Ok(())
}

async fn close(
    State(wb): Wb,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<CloseForm>,
) -> Result<Response, UiError> {
    csrf(&s, &f.csrf)?;
    let outcome: Outcome = f.outcome.parse().map_err(UiError::BadRequest)?;
    decide(
        &wb,
        &s,
        id,
        EventKind::Closed {
            outcome,
            note: f.note.trim().to_string(),
        },
    )?;
    flash(
        &wb,
        &s,
        "ok",
        format!("warning {id} closed: {}", outcome.name()),
    )?;
    Ok(see_other(&format!("/ui/warnings/{id}")))
}

#[derive(Deserialize)]
struct ExtendForm {
    csrf: String,
    until: String,
}

/// A `datetime-local` value (read as UTC) or an RFC 3339 timestamp.
fn parse_until(s: &str) -> Result<DateTime<Utc>, UiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        .iter()
        .find_map(|f| chrono::NaiveDateTime::parse_from_str(s, f).ok())
        .map(|t| t.and_utc())
        .ok_or_else(|| {
            UiError::BadRequest(format!(
                "`{s}` is not a date and time (YYYY-MM-DDTHH:MM, UTC)"
            ))
        })
}

async fn extend(
    State(wb): Wb,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<ExtendForm>,
) -> Result<Response, UiError> {
    csrf(&s, &f.csrf)?;
    let until = parse_until(f.until.trim())?;
    decide(&wb, &s, id, EventKind::Extended { until })?;
    flash(
        &wb,
        &s,
        "ok",
        format!("warning {id} now runs until {}", node::stamp(until)),
    )?;
    Ok(see_other(&format!("/ui/warnings/{id}")))
}

// ---- cases -----------------------------------------------------------------

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    chrome: Chrome,
    cases: Vec<crate::reading::CaseRow>,
}

async fn cases(State(wb): Wb, s: Signed) -> Result<Response, UiError> {
    let chrome = chrome(&wb, &s, "cases")?;
    let cases = crate::reading::case_rows(&*wb.node(&s.user)?)?;
    page(CasesPage { chrome, cases })
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    case: crate::reading::CaseView,
    svg: String,
}

async fn case_page(State(wb): Wb, s: Signed, Path(id): Path<i64>) -> Result<Response, UiError> {
    let chrome = chrome(&wb, &s, "cases")?;
    let case = match crate::reading::case_view(&*wb.node(&s.user)?, id) {
        Ok(c) => c,
        Err(e) if crate::exit::code_of(&e) == crate::exit::BAD_INPUT => {
            return Err(UiError::NotFound(format!("there is no case {id}")))
        }
        Err(e) => return Err(e.into()),
    };
    let dates: Vec<(NaiveDate, String)> = case
        .timeline
        .iter()
        .filter_map(|t| {
            let d = NaiveDate::parse_from_str(t.date.get(..10)?, "%Y-%m-%d").ok()?;
            Some((d, format!("{} — {}", t.text, t.document)))
        })
        .collect();
    page(CasePage {
        chrome,
        svg: svg::days(&format!("Timeline of case {id}"), &dates),
        case,
    })
}

// ---- partners, audit, users ------------------------------------------------

struct PartnerRow {
    name: String,
    audience: String,
    added: String,
    rotated: String,
    last_contact: String,
}

#[derive(Template)]
#[template(path = "partners.html")]
struct PartnersPage {
    chrome: Chrome,
    partners: Vec<PartnerRow>,
}

async fn partners(State(wb): Wb, s: Signed) -> Result<Response, UiError> {
    let chrome = chrome(&wb, &s, "partners")?;
    let node = wb.node(&s.user)?;
    let seen: std::collections::HashMap<String, String> =
        node.store.partners_seen()?.into_iter().collect();
    let partners = node
        .store
        .partners()?
        .into_iter()
        .map(|p| PartnerRow {
            last_contact: seen.get(&p.name).cloned().unwrap_or_else(|| "never".into()),
            name: p.name,
            audience: p.audience,
            added: p.created_at,
            rotated: p.rotated_at,
        })
        .collect();
    drop(node);
    page(PartnersPage { chrome, partners })
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<tearline_store::AuditEntry>,
    older: Option<i64>,
    total: usize,
}

#[derive(Deserialize)]
struct AuditQuery {
    before: Option<i64>,
}

const AUDIT_PAGE: usize = 100;

async fn audit(State(wb): Wb, s: Signed, Query(q): Query<AuditQuery>) -> Result<Response, UiError> {
    if !s.role.may_audit() {
        return Err(UiError::Forbidden(
            "only a releaser or an admin may read the audit log".into(),
        ));
    }
    let chrome = chrome(&wb, &s, "audit")?;
    let log = wb.node(&s.user)?.store.audit_log()?;
    let total = log.len();
    let mut entries: Vec<_> = log
        .into_iter()
        .rev()
        .filter(|e| q.before.is_none_or(|b| e.seq < b))
        .take(AUDIT_PAGE + 1)
        .collect();
    let older = (entries.len() > AUDIT_PAGE).then(|| entries[AUDIT_PAGE - 1].seq);
    entries.truncate(AUDIT_PAGE);
    page(AuditPage {
        chrome,
        entries,
        older,
        total,
    })
}

async fn verify(State(wb): Wb, s: Signed, Form(f): Form<CsrfForm>) -> Result<Response, UiError> {
    csrf(&s, &f.csrf)?;
    if !s.role.may_audit() {
        return Err(UiError::Forbidden(
            "only a releaser or an admin may verify the audit log".into(),
        ));
    }
    let mut node = wb.node(&s.user)?;
    let (kind, text) = match crate::commands::verify_audit(&node) {
        Ok(m) => ("ok", m),
        Err(e) => ("error", format!("{e:#}")),
    };
    node.audit("audit.verify", "", json!({ "result": text }))?;
    drop(node);
    flash(&wb, &s, kind, text)?;
    Ok(see_other("/ui/audit"))
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<tearline_store::User>,
}

async fn users(State(wb): Wb, s: Signed) -> Result<Response, UiError> {
    if !s.role.may_admin() {
        return Err(UiError::Forbidden("only an admin may list users".into()));
    }
    let chrome = chrome(&wb, &s, "users")?;
    let users = wb.node(&s.user)?.store.users()?;
    page(UsersPage { chrome, users })
}
