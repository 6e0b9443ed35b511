//! One handler per page or form. Pages are GETs; every form is a POST that
//! checks the session's CSRF token, calls one service function as the
//! signed-in user, leaves a message for the next page, and redirects (so a
//! reload never repeats an action). Roles and the two-person rule are the
//! service layer's to check.

use std::sync::Arc;

use askama::Template;
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Form, Router};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use tearline_lifecycle::{describe_time_left, Outcome, State as WState};
use tearline_node::reading::{CaseRow, CaseView, RelatedDoc};
use tearline_node::received::{Act, ReceivedRow};
use tearline_node::reports::{Issued, Released};
use tearline_node::users::{draft_name, draft_sha, draft_title, Flash, Session};
use tearline_node::warnings::{PartnerPart, WarningRow};
use tearline_node::{Code, Node, INTERNAL};
use tearline_store::{Draft, ReleaseRequest};

use super::preview::Preview;
use super::svg::{self, Mark};
use super::{asset, page, see_other, Signed, UiError, Wb, Workbench};

/// The routes. `max_report_bytes` is `[workbench] max_report_bytes`: a
/// form body may be up to three times that (a text area is sent
/// percent-encoded), and the report in it is checked against the setting
/// itself once decoded.
pub fn routes(max_report_bytes: usize) -> Router<Arc<Workbench>> {
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
        .route("/ui/warnings/{id}/withdraw", post(withdraw))
        .route("/ui/warnings/{id}/reissue", post(reissue))
        .route("/ui/received", get(received_board))
        .route("/ui/received/{id}", get(received_page))
        .route("/ui/received/{id}/{act}", post(received_act))
        .route("/ui/cases", get(cases))
        .route("/ui/cases/{id}", get(case_page))
        .route("/ui/partners", get(partners))
        .route("/ui/audit", get(audit))
        .route("/ui/audit/verify", post(verify))
        .route("/ui/users", get(users))
        .layer(axum::extract::DefaultBodyLimit::max(
            max_report_bytes.saturating_mul(3) + 64 * 1024,
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
    /// Received warnings due for review: a banner on every page.
    pub received_due: usize,
}

fn chrome(n: &Node, s: &Session, active: &'static str) -> Result<Chrome, UiError> {
    let two_person = n.settings().workbench.two_person_rule;
    let role = s.caller.role();
    Ok(Chrome {
        user: s.caller.name().to_string(),
        role: role.name(),
        csrf: s.csrf.clone(),
        flash: s.flash.clone(),
        active,
        audit: role.may_audit(),
        admin: role.may_admin(),
        two_person,
        pending: if two_person { n.pending_requests()? } else { 0 },
        received_due: n.received_due()?,
    })
}

fn csrf(s: &Session, token: &str) -> Result<(), UiError> {
    if s.csrf_ok(token) {
        Ok(())
    } else {
        Err(UiError::forbidden(
            "the form's security token is missing or stale: reload the page and try again",
        ))
    }
}

/// Runs a service call as the signed-in user on the blocking pool, with the
/// page's frame.
async fn with_chrome<T, F>(
    wb: &Workbench,
    s: Signed,
    active: &'static str,
    f: F,
) -> Result<(Chrome, T), UiError>
where
    T: Send + 'static,
    F: FnOnce(&Node, &Session) -> Result<T, UiError> + Send + 'static,
{
    wb.call(move |n| {
        let c = chrome(n, &s, active)?;
        Ok((c, f(n, &s)?))
    })
    .await
}

/// Checks the form's token, runs `f` as the signed-in user, leaves its
/// message for the next page, and redirects where `f` says. A refusal of a
/// kind in `flashed` (one the user fixes on the page they came from) is
/// left as an error message on `back`; any other error is a page with its
/// status.
async fn act<F>(
    wb: &Workbench,
    s: Signed,
    token: String,
    back: String,
    flashed: &'static [Code],
    f: F,
) -> Result<Response, UiError>
where
    F: FnOnce(&Node, &Session) -> Result<(String, String), tearline_node::Error> + Send + 'static,
{
    csrf(&s, &token)?;
    wb.call(move |n| match f(n, &s) {
        Ok((text, to)) => {
            n.flash(&s, "ok", text)?;
            Ok(see_other(&to))
        }
        Err(e) if flashed.contains(&e.code()) => {
            let mut text = e.public_message();
            for d in e.details() {
                text.push('\n');
                text.push_str(d);
            }
            n.flash(&s, "error", text)?;
            Ok(see_other(&back))
        }
        Err(e) => Err(e.into()),
    })
    .await
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

/// Only a workbench path may follow a sign-in; one holding control
/// characters (a header split) is refused before anything happens.
fn safe_next(next: Option<&str>) -> Result<String, UiError> {
    match next {
        Some(n) if n.chars().any(char::is_control) => Err(UiError::Page(
            StatusCode::BAD_REQUEST,
            "the page to return to holds control characters".into(),
        )),
        Some(n) if n.starts_with("/ui/") && !n.starts_with("//") && !n.contains('\\') => {
            Ok(n.to_string())
        }
        _ => Ok("/ui/warnings".to_string()),
    }
}

async fn login_page(Query(q): Query<NextQuery>) -> Result<Response, UiError> {
    page(LoginPage {
        next: safe_next(q.next.as_deref())?,
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
    let next = safe_next(f.next.as_deref())?;
    let (name, password) = (f.name.clone(), f.password);
    let signed = wb.call(move |n| Ok(n.sign_in(&name, &password))).await?;
    let signed = match signed {
        Ok(s) => s,
        Err(e) if matches!(e.code(), Code::Unauthorized | Code::Throttled) => {
            let mut r = page(LoginPage {
                next,
                error: Some(e.public_message()),
                name: f.name,
            })?;
            *r.status_mut() =
                StatusCode::from_u16(e.code().status()).unwrap_or(StatusCode::UNAUTHORIZED);
            return Ok(r);
        }
        Err(e) => return Err(e.into()),
    };
    let mut r = see_other(&next);
    let cookie = wb.cookie(&signed.token, signed.max_age.as_secs());
    r.headers_mut().insert(
        header::SET_COOKIE,
        cookie
            .parse()
            .map_err(|e| UiError::Internal(format!("bug: bad cookie header: {e}")))?,
    );
    Ok(r)
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout(State(wb): Wb, s: Signed, Form(f): Form<CsrfForm>) -> Result<Response, UiError> {
    csrf(&s, &f.csrf)?;
    wb.call(move |n| Ok(n.sign_out(&s)?)).await?;
    let mut r = see_other("/ui/login");
    r.headers_mut().insert(
        header::SET_COOKIE,
        wb.cookie("", 0)
            .parse()
            .map_err(|e| UiError::Internal(format!("bug: bad cookie header: {e}")))?,
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
    let (chrome, drafts) = with_chrome(&wb, s, "write", |n, s| Ok(n.drafts(&s.caller)?)).await?;
    page(DraftsPage { chrome, drafts })
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
    /// The warning this draft re-issues.
    supersedes: Option<i64>,
    /// Someone else wrote the draft: saving makes a new one.
    other_author: Option<String>,
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

/// A draft's preview: every audience's view, or why it does not parse.
fn preview_of(n: &Node, s: &Session, name: &str, body: &str) -> Result<Preview, UiError> {
    match tearline_node::reports::parse(name, body.as_bytes()) {
        Ok(report) => Ok(Preview::of(&n.assess(report)?, s.caller.role())),
        Err(e) if e.code() == Code::BadInput => Ok(Preview::unparsed(e.message().to_string())),
        Err(e) => Err(e.into()),
    }
}

async fn write_page(
    wb: &Workbench,
    s: Signed,
    id: Option<i64>,
    supersedes: Option<i64>,
) -> Result<Response, UiError> {
    let (chrome, page_) = with_chrome(wb, s, "write", move |n, s| {
        let (body, author) = match id {
            Some(id) => {
                let d = n.draft(&s.caller, id)?;
                (d.body, Some(d.author))
            }
            None => (starter(n.now()), None),
        };
        let other_author = author.filter(|a| a != s.caller.name());
        let name = draft_name(id);
        let pv = preview_of(n, s, &name, &body)?;
        let (related, related_error) = match n.related_text(&name, body.as_bytes()) {
            Ok(r) => (r, None),
            Err(e) => (Vec::new(), Some(e.public_message())),
        };
        let two_person = n.settings().workbench.two_person_rule;
        let role = s.caller.role();
        let audiences = n
            .audiences()?
            .iter()
            .map(|a| {
                let allowed = role.may_release(a.name());
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
            .collect::<Vec<_>>();
        let preview = pv
            .render()
            .map_err(|e| UiError::Internal(format!("bug: a template failed: {e}")))?;
        let title = draft_title(&name, &body);
        Ok((
            body,
            title,
            preview,
            related,
            related_error,
            audiences,
            other_author,
        ))
    })
    .await?;
    let (body, title, preview, related, related_error, audiences, other_author) = page_;
    page(WritePage {
        chrome,
        id,
        title,
        sha: draft_sha(&body),
        body,
        preview,
        related,
        related_error,
        audiences,
        supersedes,
        other_author,
    })
}

async fn new_draft(State(wb): Wb, s: Signed) -> Result<Response, UiError> {
    write_page(&wb, s, None, None).await
}

#[derive(Deserialize)]
struct DraftQuery {
    supersedes: Option<i64>,
}

async fn draft_page(
    State(wb): Wb,
    s: Signed,
    Path(id): Path<i64>,
    Query(q): Query<DraftQuery>,
) -> Result<Response, UiError> {
    write_page(&wb, s, Some(id), q.supersedes).await
}

#[derive(Deserialize)]
struct BodyForm {
    csrf: String,
    body: String,
}

/// A form holding a report, or why it could not be read: a body over the
/// size limit is answered 413 with the limit named.
fn body_form(
    wb: &Workbench,
    f: Result<Form<BodyForm>, FormRejection>,
) -> Result<BodyForm, UiError> {
    match f {
        Ok(Form(f)) => Ok(f),
        Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(UiError::Page(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the report is too large: the workbench takes reports of at most {} bytes ([workbench] max_report_bytes in tearline.toml)",
                wb.max_report_bytes()
            ),
        )),
        Err(e) => Err(UiError::Page(e.status(), e.body_text())),
    }
}

async fn create_draft(
    State(wb): Wb,
    s: Signed,
    f: Result<Form<BodyForm>, FormRejection>,
) -> Result<Response, UiError> {
    let f = body_form(&wb, f)?;
    saved(&wb, s, None, f).await
}

async fn save_draft(
    State(wb): Wb,
    s: Signed,
    Path(id): Path<i64>,
    f: Result<Form<BodyForm>, FormRejection>,
) -> Result<Response, UiError> {
    let f = body_form(&wb, f)?;
    saved(&wb, s, Some(id), f).await
}

/// Checks the form, saves the draft, and goes to its page.
async fn saved(
    wb: &Workbench,
    s: Signed,
    id: Option<i64>,
    f: BodyForm,
) -> Result<Response, UiError> {
    csrf(&s, &f.csrf)?;
    wb.call(move |n| {
        let id = n.save_draft(&s.caller, id, &f.body)?;
        n.flash(&s, "ok", format!("saved draft {id}"))?;
        Ok(see_other(&format!("/ui/drafts/{id}")))
    })
    .await
}

/// The preview pane alone, for the script that refreshes it while typing.
///
/// The assessment runs on the blocking pool through the service layer
/// ([`Node::assess`]), which holds no lock of the node while it works, so
/// a large preview delays no other request; the report is refused with 413
/// over `[workbench] max_report_bytes`.
async fn preview_fragment(
    State(wb): Wb,
    s: Signed,
    f: Result<Form<BodyForm>, FormRejection>,
) -> Result<Response, UiError> {
    let f = body_form(&wb, f)?;
    csrf(&s, &f.csrf)?;
    let pv = wb
        .call(move |n| {
            let body = n.clean_body(&f.body)?;
            preview_of(n, &s, "draft.md", &body)
        })
        .await?;
    page(pv)
}

#[derive(Deserialize)]
struct ReleaseForm {
    csrf: String,
    audience: String,
    sha: String,
    supersedes: Option<i64>,
}

async fn release(
    State(wb): Wb,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<ReleaseForm>,
) -> Result<Response, UiError> {
    let back = format!("/ui/drafts/{id}");
    let flashed = &[Code::Leak, Code::Lint, Code::Conflict];
    act(&wb, s, f.csrf.clone(), back, flashed, move |n, s| {
        match n.release_draft(&s.caller, id, &f.audience, &f.sha, f.supersedes)? {
            Released::Issued(i) => Ok(issued(&i, "/ui/warnings")),
            Released::Requested(r) => Ok((
                format!(
                    "request {}: the release to `{}` waits for a second releaser's approval",
                    r.id, r.audience
                ),
                "/ui/requests".into(),
            )),
        }
    })
    .await
}

/// What to tell the user about an issued release, and where to send them:
/// its warning's page, else `otherwise`.
fn issued(i: &Issued, otherwise: &str) -> (String, String) {
    let mut text = format!(
        "released to `{}`: release {}, {} of {} portions, {} withheld, {} STIX objects in its collection",
        i.record.release.audience, i.record.id, i.kept, i.total, i.withheld, i.objects
    );
    let to = match i.warning {
        Some(w) => {
            text.push_str(&format!("; warning {w} is followed on the board"));
            format!("/ui/warnings/{w}")
        }
        None => otherwise.to_string(),
    };
    (text, to)
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
    let may_decide = s.caller.role().may_decide();
    let user = s.caller.name().to_string();
    let (chrome, requests) =
        with_chrome(&wb, s, "requests", |n, s| Ok(n.requests(&s.caller)?)).await?;
    page(RequestsPage {
        chrome,
        requests,
        may_decide,
        user,
    })
}

#[derive(Deserialize)]
struct DecideForm {
    csrf: String,
    #[serde(default)]
    note: String,
}

async fn approve(
    State(wb): Wb,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Result<Response, UiError> {
    let flashed = &[Code::Leak, Code::Lint];
    act(
        &wb,
        s,
        f.csrf.clone(),
        "/ui/requests".into(),
        flashed,
        move |n, s| {
            let i = n.approve(
                &s.caller,
                id,
                &f.note,
                tearline_node::reports::Format::Stix,
                None,
            )?;
            Ok(issued(&i, "/ui/requests"))
        },
    )
    .await
}

async fn reject(
    State(wb): Wb,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<DecideForm>,
) -> Result<Response, UiError> {
    act(
        &wb,
        s,
        f.csrf.clone(),
        "/ui/requests".into(),
        &[],
        move |n, s| {
            n.reject(&s.caller, id, &f.note)?;
            Ok((format!("request {id} rejected"), "/ui/requests".into()))
        },
    )
    .await
}

// ---- warnings --------------------------------------------------------------

struct Card {
    id: i64,
    title: String,
    audience: String,
    partners: Vec<(String, bool)>,
    summary: String,
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

fn pairs(p: &[PartnerPart]) -> Vec<(String, bool)> {
    p.iter().map(|d| (d.partner.clone(), d.fetched)).collect()
}

fn when(r: &WarningRow) -> (String, bool) {
    match r.state {
        WState::Closed(o) => (format!("closed: {}", o.name()), false),
        _ => (
            describe_time_left(r.time_left),
            r.time_left < chrono::Duration::zero(),
        ),
    }
}

async fn board(State(wb): Wb, s: Signed) -> Result<Response, UiError> {
    let (chrome, (mut rows, now)) = with_chrome(&wb, s, "warnings", |n, s| {
        Ok((n.warnings(&s.caller)?, n.now()))
    })
    .await?;
    rows.sort_by_key(|r| (r.time_left, r.id));
    let mut columns: Vec<Column> = COLUMNS
        .iter()
        .map(|n| Column {
            name: n,
            cards: Vec::new(),
        })
        .collect();
    for r in rows {
        let (when, overdue) = when(&r);
        let card = Card {
            id: r.id,
            partners: pairs(&r.partners),
            summary: r.summary(),
            title: r.title.clone(),
            audience: r.audience.clone(),
            when,
            overdue,
            detail: r.state.name().to_string(),
        };
        if let Some(c) = columns.iter_mut().find(|c| c.name == column_of(r.state)) {
            c.cards.push(card);
        }
    }
    page(BoardPage {
        chrome,
        columns,
        now: tearline_node::stamp(now),
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
    summary: String,
    parts: Vec<PartRow>,
    costs: Vec<String>,
    can_reissue: bool,
    svg: String,
    events: Vec<EventRow>,
    open: bool,
    may_decide: bool,
    review_due: bool,
    suggested_until: String,
}

/// One partner's row on a warning's page.
struct PartRow {
    name: String,
    fetched: bool,
    acknowledged: bool,
    measures: bool,
    /// `(dimension, enough, what is needed)`.
    verdicts: Vec<(String, bool, String)>,
    decision: Option<String>,
    late: bool,
}

async fn warning_page(State(wb): Wb, s: Signed, Path(id): Path<i64>) -> Result<Response, UiError> {
    let may_decide = s.caller.role().may_decide();
    let (chrome, (w, now, has_source)) = with_chrome(&wb, s, "warnings", move |n, s| {
        let w = n.warning(&s.caller, id)?;
        let has_source = n.warning_source(&s.caller, id)?.is_some();
        Ok((w, n.now(), has_source))
    })
    .await?;
    let state = w.row.state;
    let mut marks: Vec<Mark> = w
        .events
        .iter()
        .map(|e| Mark {
            at: e.at,
            label: e.label.clone(),
            kind: "event",
        })
        .collect();
    marks.push(Mark {
        at: w.row.window_end,
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
    let suggested = std::cmp::max(now, w.row.window_end) + chrono::Duration::hours(24);
    page(WarningPage {
        chrome,
        id,
        svg: svg::timeline(&format!("Timeline of warning {id}"), &marks),
        title: w.row.title.clone(),
        audience: w.row.audience.clone(),
        report_id: w.report_id.clone(),
        state: state.to_string(),
        when: if state.is_open() {
            describe_time_left(w.row.time_left)
        } else {
            String::new()
        },
        window: format!(
            "{} → {}",
            w.valid_from.as_deref().unwrap_or("issue"),
            tearline_node::stamp(w.row.window_end)
        ),
        partners: pairs(&w.row.partners),
        summary: w.row.summary(),
        parts: w
            .row
            .partners
            .iter()
            .map(|p| PartRow {
                name: p.partner.clone(),
                fetched: p.fetched,
                acknowledged: p.state.acknowledged,
                measures: p.state.measures,
                verdicts: p
                    .state
                    .judgement
                    .iter()
                    .map(|v| (v.dimension.clone(), v.enough, v.need.clone()))
                    .collect(),
                decision: p.state.decision.clone(),
                late: p.state.late,
            })
            .collect(),
        costs: w
            .costs
            .iter()
            .map(|c| format!("{}: {} → {} ({})", c.dimension, c.from, c.to, c.reason))
            .collect(),
        can_reissue: has_source && state.is_open(),
        events: w
            .events
            .iter()
            .map(|e| EventRow {
                at: tearline_node::stamp(e.at),
                actor: e.actor.clone(),
                what: e.text.clone(),
            })
            .collect(),
        open: state.is_open(),
        may_decide,
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

async fn close(
    State(wb): Wb,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<CloseForm>,
) -> Result<Response, UiError> {
    csrf(&s, &f.csrf)?;
    let outcome: Outcome = f
        .outcome
        .parse()
        .map_err(|m| UiError::Page(StatusCode::BAD_REQUEST, m))?;
    let back = format!("/ui/warnings/{id}");
    act(&wb, s, f.csrf.clone(), back.clone(), &[], move |n, s| {
        n.close_warning(&s.caller, id, outcome, &f.note)?;
        Ok((format!("warning {id} closed: {}", outcome.name()), back))
    })
    .await
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
            UiError::Page(
                StatusCode::BAD_REQUEST,
                format!("`{s}` is not a date and time (YYYY-MM-DDTHH:MM, UTC)"),
            )
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
    let back = format!("/ui/warnings/{id}");
    act(&wb, s, f.csrf.clone(), back.clone(), &[], move |n, s| {
        n.extend_warning(&s.caller, id, until)?;
        Ok((
            format!(
                "warning {id} now runs until {}",
                tearline_node::stamp(until)
            ),
            back,
        ))
    })
    .await
}

#[derive(Deserialize)]
struct NoteForm {
    csrf: String,
    #[serde(default)]
    note: String,
}

async fn withdraw(
    State(wb): Wb,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<NoteForm>,
) -> Result<Response, UiError> {
    let back = format!("/ui/warnings/{id}");
    act(
        &wb,
        s,
        f.csrf.clone(),
        back.clone(),
        &[Code::Leak],
        move |n, s| {
            n.withdraw_warning(&s.caller, id, &f.note)?;
            Ok((format!("warning {id} withdrawn"), back))
        },
    )
    .await
}

/// Opens the warning's report as a new draft, to be issued as its
/// re-issue.
async fn reissue(
    State(wb): Wb,
    s: Signed,
    Path(id): Path<i64>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, UiError> {
    let back = format!("/ui/warnings/{id}");
    act(
        &wb,
        s,
        f.csrf.clone(),
        back,
        &[Code::NotFound],
        move |n, s| {
            let d = n.draft_from_warning(&s.caller, id)?;
            Ok((
                format!(
                    "draft {d} holds warning {id}'s report: make it more specific, then issue it"
                ),
                format!("/ui/drafts/{d}?supersedes={id}"),
            ))
        },
    )
    .await
}

// ---- received warnings -----------------------------------------------------

struct RecvCard {
    id: i64,
    title: String,
    remote: String,
    marking: Option<String>,
    measures: bool,
    when: String,
    overdue: bool,
}

struct RecvColumn {
    name: &'static str,
    cards: Vec<RecvCard>,
}

#[derive(Template)]
#[template(path = "received.html")]
struct ReceivedPage {
    chrome: Chrome,
    columns: Vec<RecvColumn>,
    now: String,
}

const RECV_COLUMNS: [&str; 5] = [
    "received",
    "acknowledged",
    "measures in force",
    "review due",
    "closed",
];

fn recv_when(r: &ReceivedRow) -> (String, bool) {
    if r.state.is_open() {
        (
            format!("review {}", describe_time_left(r.time_left)),
            r.time_left < chrono::Duration::zero(),
        )
    } else {
        (r.state.to_string(), false)
    }
}

async fn received_board(State(wb): Wb, s: Signed) -> Result<Response, UiError> {
    let (chrome, (rows, now)) = with_chrome(&wb, s, "received", |n, s| {
        Ok((n.received_warnings(&s.caller, None)?, n.now()))
    })
    .await?;
    let mut columns: Vec<RecvColumn> = RECV_COLUMNS
        .iter()
        .map(|n| RecvColumn {
            name: n,
            cards: Vec::new(),
        })
        .collect();
    for r in rows {
        let (when, overdue) = recv_when(&r);
        if let Some(c) = columns.iter_mut().find(|c| c.name == r.state.name()) {
            c.cards.push(RecvCard {
                id: r.id,
                title: r.title,
                remote: r.remote,
                marking: r.marking,
                measures: r.measures,
                when,
                overdue,
            });
        }
    }
    page(ReceivedPage {
        chrome,
        columns,
        now: tearline_node::stamp(now),
    })
}

/// One dimension of the judgement form.
struct DimRow {
    name: &'static str,
    enough: bool,
    need: bool,
    what: String,
}

#[derive(Template)]
#[template(path = "received_warning.html")]
struct ReceivedWarningPage {
    chrome: Chrome,
    id: i64,
    title: String,
    remote: String,
    marking: Option<String>,
    report_id: String,
    state: String,
    when: String,
    window: String,
    review_at: String,
    supersedes: Option<i64>,
    superseded_by: Option<i64>,
    svg: String,
    events: Vec<RecvEventRow>,
    open: bool,
    review_due: bool,
    measures: bool,
    withdrawn: bool,
    may_decide: bool,
    suggested_until: String,
    dims: Vec<DimRow>,
}

struct RecvEventRow {
    at: String,
    side: &'static str,
    actor: String,
    what: String,
}

async fn received_page(State(wb): Wb, s: Signed, Path(id): Path<i64>) -> Result<Response, UiError> {
    let may_decide = s.caller.role().may_decide();
    let (chrome, (v, now)) = with_chrome(&wb, s, "received", move |n, s| {
        Ok((n.received_warning(&s.caller, id)?, n.now()))
    })
    .await?;
    let r = &v.row;
    let mut marks: Vec<Mark> = v
        .events
        .iter()
        .map(|e| Mark {
            at: e.at,
            label: e.label.clone(),
            kind: if e.side == "sender" {
                "sender"
            } else {
                "event"
            },
        })
        .collect();
    marks.push(Mark {
        at: r.review_at,
        label: "review".into(),
        kind: "end",
    });
    if r.state.is_open() {
        marks.push(Mark {
            at: now,
            label: "now".into(),
            kind: "now",
        });
    }
    let (when, _) = recv_when(r);
    let dims = tearline_lifecycle::DIMENSIONS
        .iter()
        .map(|d| {
            let v = v.judgement.iter().find(|x| x.dimension == *d);
            DimRow {
                name: d,
                enough: v.is_some_and(|x| x.enough),
                need: v.is_some_and(|x| !x.enough),
                what: v.map(|x| x.need.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let suggested = std::cmp::max(now, r.review_at) + chrono::Duration::hours(24);
    page(ReceivedWarningPage {
        chrome,
        id,
        title: r.title.clone(),
        remote: r.remote.clone(),
        marking: r.marking.clone(),
        report_id: r.report_id.clone(),
        state: r.state.to_string(),
        when: if r.state.is_open() {
            when
        } else {
            String::new()
        },
        window: format!(
            "{} → {}",
            v.valid_from.as_deref().unwrap_or("received"),
            tearline_node::stamp(r.window_end)
        ),
        review_at: tearline_node::stamp(r.review_at),
        supersedes: r.supersedes,
        superseded_by: r.superseded_by,
        svg: svg::timeline(&format!("Timeline of received warning {id}"), &marks),
        events: v
            .events
            .iter()
            .map(|e| RecvEventRow {
                at: tearline_node::stamp(e.at),
                side: e.side,
                actor: e.actor.clone(),
                what: e.text.clone(),
            })
            .collect(),
        open: r.state.is_open(),
        review_due: r.state == tearline_lifecycle::receiver::RecvState::ReviewDue,
        measures: r.measures,
        withdrawn: v.events.iter().any(|e| {
            matches!(
                e.kind,
                tearline_lifecycle::receiver::RecvKind::SenderWithdrawn
            )
        }),
        may_decide,
        suggested_until: suggested.format("%Y-%m-%dT%H:%M").to_string(),
        dims,
    })
}

/// The act a form asks for, from its fields.
fn act_of(name: &str, f: &std::collections::HashMap<String, String>) -> Result<Act, UiError> {
    let field = |k: &str| f.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
    let bad = |m: String| UiError::Page(StatusCode::BAD_REQUEST, m);
    Ok(match name {
        "acknowledge" => Act::Acknowledge {
            text: field("text"),
        },
        "measures" => Act::Measures {
            text: field("text"),
        },
        "keep" => Act::Keep {
            until: parse_until(&field("until"))?,
            text: field("text"),
        },
        "lift" => Act::Lift {
            reason: field("reason"),
        },
        "close" => Act::Close {
            outcome: field("outcome").parse().map_err(bad)?,
            note: field("note"),
        },
        "judge" => {
            let verdicts: Vec<tearline_lifecycle::Verdict> = tearline_lifecycle::DIMENSIONS
                .iter()
                .filter_map(|d| {
                    let v = f.get(*d)?;
                    Some(tearline_lifecycle::Verdict {
                        dimension: d.to_string(),
                        enough: v == "enough",
                        need: if v == "enough" {
                            String::new()
                        } else {
                            field(&format!("{d}_need"))
                        },
                    })
                })
                .collect();
            if verdicts.is_empty() {
                return Err(bad("judge at least one dimension".into()));
            }
            Act::Judge { verdicts }
        }
        other => return Err(UiError::not_found(format!("no act `{other}`"))),
    })
}

async fn received_act(
    State(wb): Wb,
    s: Signed,
    Path((id, name)): Path<(i64, String)>,
    Form(f): Form<std::collections::HashMap<String, String>>,
) -> Result<Response, UiError> {
    let token = f.get("csrf").cloned().unwrap_or_default();
    csrf(&s, &token)?;
    let a = act_of(&name, &f)?;
    let back = format!("/ui/received/{id}");
    act(
        &wb,
        s,
        token,
        back.clone(),
        &[Code::Conflict, Code::Leak, Code::BadInput],
        move |n, s| {
            n.received_act(&s.caller, id, a)?;
            Ok((
                format!(
                    "received warning {id}: {name} recorded; the sender is told at the next sync"
                ),
                back,
            ))
        },
    )
    .await
}

// ---- cases -----------------------------------------------------------------

#[derive(Template)]
#[template(path = "cases.html")]
struct CasesPage {
    chrome: Chrome,
    cases: Vec<CaseRow>,
}

async fn cases(State(wb): Wb, s: Signed) -> Result<Response, UiError> {
    let (chrome, cases) = with_chrome(&wb, s, "cases", |n, _| Ok(n.cases()?)).await?;
    page(CasesPage { chrome, cases })
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    chrome: Chrome,
    case: CaseView,
    svg: String,
}

async fn case_page(State(wb): Wb, s: Signed, Path(id): Path<i64>) -> Result<Response, UiError> {
    let (chrome, case) = with_chrome(&wb, s, "cases", move |n, _| match n.case(id) {
        Ok(c) => Ok(c),
        Err(e) if e.code() == Code::NotFound => {
            Err(UiError::not_found(format!("there is no case {id}")))
        }
        Err(e) => Err(e.into()),
    })
    .await?;
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
    let (chrome, list) = with_chrome(&wb, s, "partners", |n, s| Ok(n.partners(&s.caller)?)).await?;
    let partners = list
        .into_iter()
        .map(|p| PartnerRow {
            last_contact: p.last_contact.unwrap_or_else(|| "never".into()),
            name: p.name,
            audience: p.audience,
            added: p.created_at,
            rotated: p.rotated_at,
        })
        .collect();
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
    let (chrome, log) = with_chrome(&wb, s, "audit", |n, s| Ok(n.audit_log(&s.caller)?)).await?;
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
    wb.call(move |n| {
        let (ok, text) = n.verify_audit_recorded(&s.caller)?;
        n.flash(&s, if ok { "ok" } else { "error" }, text)?;
        Ok(see_other("/ui/audit"))
    })
    .await
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    chrome: Chrome,
    users: Vec<tearline_store::User>,
}

async fn users(State(wb): Wb, s: Signed) -> Result<Response, UiError> {
    let (chrome, users) = with_chrome(&wb, s, "users", |n, s| Ok(n.users(&s.caller)?)).await?;
    page(UsersPage { chrome, users })
}
