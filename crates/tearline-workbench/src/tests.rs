//! The workbench in-process: the router over a node in a temporary
//! directory, driven request by request. The browser-level tests are in
//! `tests/e2e/` (playwright-core and chromium against `tearline serve`).

use std::sync::Arc;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use tower::ServiceExt;

use tearline_node::{Caller, Node};

use super::{router, Workbench};

const PASSWORD: &str = "a long enough password";

struct Bench {
    dir: tempfile::TempDir,
    app: Router,
}

fn operator() -> Caller {
    Caller::operator("tester")
}

fn bench(two_person: bool) -> Bench {
    let dir = tempfile::tempdir().unwrap();
    let clock = tearline_node::system_clock();
    let node = Node::init(dir.path(), "Test node", &operator(), clock.clone()).unwrap();
    if two_person {
        std::fs::write(
            dir.path().join(tearline_node::SETTINGS),
            "[workbench]\ntwo_person_rule = true\n",
        )
        .unwrap();
    }
    for (name, role) in [
        ("ana", "analyst"),
        ("rhea", "releaser"),
        ("ravi", "releaser"),
        ("adam", "admin"),
    ] {
        node.user_add(&operator(), name, role, Some(PASSWORD))
            .unwrap();
    }
    let node = Node::open(dir.path(), clock).unwrap();
    let app = router(Arc::new(Workbench::new(Arc::new(node))));
    Bench { dir, app }
}

struct Reply {
    status: StatusCode,
    location: String,
    cookie: String,
    headers: axum::http::HeaderMap,
    body: String,
}

impl Bench {
    async fn send(&self, req: Request<Body>) -> Reply {
        let r = self.app.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let get = |h| {
            headers
                .get(h)
                .map(|v: &axum::http::HeaderValue| v.to_str().unwrap().to_string())
                .unwrap_or_default()
        };
        let location = get(header::LOCATION);
        let cookie = get(header::SET_COOKIE);
        let body =
            String::from_utf8(r.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
        Reply {
            status,
            location,
            cookie,
            headers,
            body,
        }
    }

    async fn get(&self, path: &str, cookie: &str) -> Reply {
        self.send(
            Request::get(path)
                .header(header::COOKIE, cookie)
                .header(header::HOST, "127.0.0.1:8080")
                .body(Body::empty())
                .unwrap(),
        )
        .await
    }

    async fn post(&self, path: &str, cookie: &str, form: &[(&str, &str)]) -> Reply {
        let body: String = form
            .iter()
            .map(|(k, v)| format!("{k}={}", urlencode_form(v)))
            .collect::<Vec<_>>()
            .join("&");
        self.send(
            Request::post(path)
                .header(header::COOKIE, cookie)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::HOST, "127.0.0.1:8080")
                .body(Body::from(body))
                .unwrap(),
        )
        .await
    }

    /// Signs in; the cookie to send and the session's CSRF token.
    async fn sign_in(&self, name: &str) -> (String, String) {
        let r = self
            .post("/ui/login", "", &[("name", name), ("password", PASSWORD)])
            .await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.body);
        let cookie = r.cookie.split(';').next().unwrap().to_string();
        let page = self.get("/ui/drafts", &cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        let csrf = page
            .body
            .split("name=\"csrf\" value=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap()
            .to_string();
        (cookie, csrf)
    }

    fn node(&self) -> Node {
        Node::open(self.dir.path(), tearline_node::system_clock()).unwrap()
    }

    fn actions(&self) -> Vec<String> {
        self.node()
            .store()
            .audit_log()
            .unwrap()
            .into_iter()
            .map(|e| e.entry.action)
            .collect()
    }
}

fn urlencode_form(s: &str) -> String {
    super::urlencode(s).replace('/', "%2F")
}

const REPORT: &str = "---
title: Threat to a concert venue
produced: 2026-03-20T08:00:00Z
valid_until: 2026-03-23T08:00:00Z
---

(TLP:CLEAR) An armed group intends to attack [Crocus City Hall]{venue level=AMBER sub=\"a large concert venue\"} this week.

(TLP:RED) [SAPPHIRE]{source sub=\"a source\"} reported the plan.
";

fn sha(s: &str) -> String {
    tearline_node::users::draft_sha(s)
}

#[tokio::test]
async fn sign_in_sets_a_hardened_cookie_and_every_page_needs_it() {
    let b = bench(false);
    let r = b.get("/ui/warnings", "").await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/ui/login?next=/ui/warnings");
    let r = b
        .post(
            "/ui/login",
            "",
            &[("name", "rhea"), ("password", "wrong one")],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(r.cookie.is_empty());
    let r = b
        .post(
            "/ui/login",
            "",
            &[("name", "nobody"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let r = b
        .post(
            "/ui/login",
            "",
            &[
                ("name", "rhea"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/ui/warnings", "only a workbench path follows");
    for flag in ["HttpOnly", "SameSite=Strict", "Secure", "Path=/ui"] {
        assert!(r.cookie.contains(flag), "{flag} in {}", r.cookie);
    }
    let cookie = r.cookie.split(';').next().unwrap();
    let r = b.get("/ui/warnings", cookie).await;
    assert_eq!(r.status, StatusCode::OK);
    let csp = r.headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert_eq!(r.headers["x-frame-options"], "DENY");
    assert!(
        b.get("/ui/warnings", "tearline_session=forged")
            .await
            .status
            == StatusCode::SEE_OTHER
    );
    let actions = b.actions();
    assert_eq!(
        actions.iter().filter(|a| *a == "ui.login.failed").count(),
        2
    );
    assert!(actions.contains(&"ui.login".to_string()));
}

#[tokio::test]
async fn five_failures_lock_a_name_for_a_while() {
    let b = bench(false);
    for _ in 0..5 {
        let r = b
            .post(
                "/ui/login",
                "",
                &[("name", "ana"), ("password", "guess guess")],
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = b
        .post("/ui/login", "", &[("name", "ana"), ("password", PASSWORD)])
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(r.body.contains("too many failed sign-ins"));
    // Another name is not affected.
    b.sign_in("rhea").await;
}

#[tokio::test]
async fn forms_need_the_session_token_and_the_same_origin() {
    let b = bench(false);
    let (cookie, csrf) = b.sign_in("ana").await;
    let r = b
        .post(
            "/ui/drafts",
            &cookie,
            &[("csrf", "forged"), ("body", REPORT)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let cross = Request::post("/ui/drafts")
        .header(header::COOKIE, &cookie)
        .header(header::HOST, "127.0.0.1:8080")
        .header(header::ORIGIN, "http://evil.example")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!("csrf={csrf}&body=x")))
        .unwrap();
    assert_eq!(b.send(cross).await.status, StatusCode::FORBIDDEN);
    assert!(
        b.node().store().drafts().unwrap().is_empty(),
        "nothing saved"
    );
    let r = b
        .post("/ui/drafts", &cookie, &[("csrf", &csrf), ("body", REPORT)])
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.location, "/ui/drafts/1");
    assert_eq!(b.node().store().draft(1).unwrap().unwrap().body, REPORT);
    // Sign-out ends the session.
    let r = b.post("/ui/logout", &cookie, &[("csrf", &csrf)]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(r.cookie.contains("Max-Age=0"));
    assert_eq!(
        b.get("/ui/drafts", &cookie).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn only_a_releaser_releases_outside_internal() {
    let b = bench(false);
    let (cookie, csrf) = b.sign_in("ana").await;
    b.post("/ui/drafts", &cookie, &[("csrf", &csrf), ("body", REPORT)])
        .await;
    let hash = sha(REPORT);
    let r = b
        .post(
            "/ui/drafts/1/release",
            &cookie,
            &[("csrf", &csrf), ("audience", "public"), ("sha", &hash)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert!(b.node().store().releases().unwrap().is_empty());
    let r = b
        .post(
            "/ui/drafts/1/release",
            &cookie,
            &[("csrf", &csrf), ("audience", "internal"), ("sha", &hash)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(b.node().store().releases().unwrap().len(), 1);

    let (cookie, csrf) = b.sign_in("rhea").await;
    // A stale page (the draft changed since) releases nothing.
    let r = b
        .post(
            "/ui/drafts/1/release",
            &cookie,
            &[("csrf", &csrf), ("audience", "public"), ("sha", "stale")],
        )
        .await;
    assert_eq!(r.location, "/ui/drafts/1");
    assert_eq!(b.node().store().releases().unwrap().len(), 1);
    let r = b
        .post(
            "/ui/drafts/1/release",
            &cookie,
            &[("csrf", &csrf), ("audience", "public"), ("sha", &hash)],
        )
        .await;
    assert_eq!(r.location, "/ui/warnings/2");
    let node = b.node();
    let rel = node.store().releases().unwrap();
    assert_eq!(rel[1].release.audience, "public");
    assert_eq!(rel[1].actor, "rhea");
    let page = b.get("/ui/warnings/2", &cookie).await;
    assert!(page.body.contains("released to `public`: release 2"));
    assert!(page.body.contains("<svg class=\"timeline\""));
    node.verify_audit(&operator()).unwrap();
}

#[tokio::test]
async fn a_second_releaser_must_approve_under_the_two_person_rule() {
    let b = bench(true);
    let (rhea, rhea_csrf) = b.sign_in("rhea").await;
    b.post(
        "/ui/drafts",
        &rhea,
        &[("csrf", &rhea_csrf), ("body", REPORT)],
    )
    .await;
    let hash = sha(REPORT);
    let r = b
        .post(
            "/ui/drafts/1/release",
            &rhea,
            &[
                ("csrf", &rhea_csrf),
                ("audience", "liaison"),
                ("sha", &hash),
            ],
        )
        .await;
    assert_eq!(r.location, "/ui/requests");
    assert!(b.node().store().releases().unwrap().is_empty(), "not yet");
    // The one who asked may not approve.
    let r = b
        .post("/ui/requests/1/approve", &rhea, &[("csrf", &rhea_csrf)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // Nor may an analyst.
    let (ana, ana_csrf) = b.sign_in("ana").await;
    let r = b
        .post("/ui/requests/1/approve", &ana, &[("csrf", &ana_csrf)])
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    // A second releaser may.
    let (ravi, ravi_csrf) = b.sign_in("ravi").await;
    let page = b.get("/ui/requests", &ravi).await;
    assert!(page.body.contains("Approve and release"));
    let r = b
        .post(
            "/ui/requests/1/approve",
            &ravi,
            &[("csrf", &ravi_csrf), ("note", "checked")],
        )
        .await;
    assert_eq!(r.location, "/ui/warnings/1");
    let node = b.node();
    let req = node.store().request(1).unwrap().unwrap();
    assert_eq!(req.state, "released");
    assert_eq!(req.decided_by.as_deref(), Some("ravi"));
    assert_eq!(req.release_id, Some(1));
    assert_eq!(node.store().releases().unwrap()[0].actor, "ravi");
    // Approving again does nothing.
    let r = b
        .post("/ui/requests/1/approve", &ravi, &[("csrf", &ravi_csrf)])
        .await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(node.store().releases().unwrap().len(), 1);
    let actions = b.actions();
    for a in [
        "release.request",
        "release.approve",
        "release",
        "release.request.released",
    ] {
        assert!(actions.iter().any(|x| x == a), "{a} in {actions:?}");
    }
    // A rejected request releases nothing.
    b.post(
        "/ui/drafts/1/release",
        &rhea,
        &[("csrf", &rhea_csrf), ("audience", "public"), ("sha", &hash)],
    )
    .await;
    let r = b
        .post(
            "/ui/requests/2/reject",
            &ravi,
            &[("csrf", &ravi_csrf), ("note", "too specific")],
        )
        .await;
    assert_eq!(r.location, "/ui/requests");
    let req = b.node().store().request(2).unwrap().unwrap();
    assert_eq!((req.state.as_str(), req.release_id), ("rejected", None));
    assert_eq!(b.node().store().releases().unwrap().len(), 1);
    // Internal releases need no second person.
    let r = b
        .post(
            "/ui/drafts/1/release",
            &rhea,
            &[
                ("csrf", &rhea_csrf),
                ("audience", "internal"),
                ("sha", &hash),
            ],
        )
        .await;
    assert_eq!(r.location, "/ui/warnings/2");
}

#[tokio::test]
async fn what_users_write_is_escaped() {
    let b = bench(false);
    let (cookie, csrf) = b.sign_in("ana").await;
    let body = REPORT.replace(
        "Threat to a concert venue",
        "<script>alert(1)</script> venue",
    );
    b.post("/ui/drafts", &cookie, &[("csrf", &csrf), ("body", &body)])
        .await;
    for path in ["/ui/drafts", "/ui/drafts/1"] {
        let page = b.get(path, &cookie).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(!page.body.contains("<script>alert"), "{path}");
        assert!(
            page.body.contains("&#60;script&#62;alert(1)"),
            "{path}: {}",
            page.body
        );
    }
}

#[tokio::test]
async fn a_new_password_or_a_removed_user_ends_the_session() {
    let b = bench(false);
    let (cookie, _) = b.sign_in("ana").await;
    let node = b.node();
    node.user_passwd(&operator(), "ana", None, Some("another password"))
        .unwrap();
    assert_eq!(
        b.get("/ui/drafts", &cookie).await.status,
        StatusCode::SEE_OTHER
    );
    let (cookie, _) = b.sign_in("rhea").await;
    node.user_remove(&operator(), "rhea").unwrap();
    assert_eq!(
        b.get("/ui/drafts", &cookie).await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn every_page_renders_for_the_roles_that_may_see_it() {
    let b = bench(false);
    let (cookie, csrf) = b.sign_in("rhea").await;
    b.post("/ui/drafts", &cookie, &[("csrf", &csrf), ("body", REPORT)])
        .await;
    b.post(
        "/ui/drafts/1/release",
        &cookie,
        &[
            ("csrf", &csrf),
            ("audience", "liaison"),
            ("sha", &sha(REPORT)),
        ],
    )
    .await;
    for path in [
        "/ui/drafts",
        "/ui/drafts/new",
        "/ui/drafts/1",
        "/ui/warnings",
        "/ui/warnings/1",
        "/ui/cases",
        "/ui/cases/1",
        "/ui/partners",
        "/ui/audit",
        "/ui/requests",
        "/ui/static/app.css",
        "/ui/static/app.js",
    ] {
        let r = b.get(path, &cookie).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
    }
    for path in [
        "/ui/warnings/99",
        "/ui/cases/99",
        "/ui/drafts/99",
        "/ui/static/x",
    ] {
        assert_eq!(
            b.get(path, &cookie).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    // A second draft on the same venue lists the live warning beside it.
    let second = REPORT.replace("this week", "on Friday night");
    b.post("/ui/drafts", &cookie, &[("csrf", &csrf), ("body", &second)])
        .await;
    let page = b.get("/ui/drafts/2", &cookie).await;
    let related = page.body.split("<aside").nth(1).unwrap();
    assert!(related.contains("href=\"/ui/warnings/1\""), "{related}");
    assert!(related.contains("Crocus City Hall"), "{related}");
    // Roles: the audit log is for releasers and admins, users for admins.
    assert_eq!(
        b.get("/ui/users", &cookie).await.status,
        StatusCode::FORBIDDEN
    );
    let (ana, _) = b.sign_in("ana").await;
    assert_eq!(b.get("/ui/audit", &ana).await.status, StatusCode::FORBIDDEN);
    let page = b.get("/ui/warnings/1", &ana).await;
    assert!(page.body.contains("A releaser may close"));
    let (adam, adam_csrf) = b.sign_in("adam").await;
    assert_eq!(b.get("/ui/users", &adam).await.status, StatusCode::OK);
    let r = b
        .post("/ui/audit/verify", &adam, &[("csrf", &adam_csrf)])
        .await;
    assert_eq!(r.location, "/ui/audit");
    let page = b.get("/ui/audit", &adam).await;
    assert!(page.body.contains("audit log verified"), "{}", page.body);
    // Closing a warning is a releaser's decision.
    let r = b
        .post(
            "/ui/warnings/1/close",
            &adam,
            &[("csrf", &adam_csrf), ("outcome", "confirmed")],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = b
        .post(
            "/ui/warnings/1/extend",
            &cookie,
            &[("csrf", &csrf), ("until", "2026-03-30T08:00")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = b
        .post(
            "/ui/warnings/1/close",
            &cookie,
            &[
                ("csrf", &csrf),
                ("outcome", "confirmed"),
                ("note", "arrests"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let page = b.get("/ui/warnings/1", &cookie).await;
    assert!(page.body.contains("closed (confirmed)"));
    assert!(page
        .body
        .contains("window extended to 2026-03-30T08:00:00.000Z"));
}

#[tokio::test]
async fn only_known_hosts_are_answered_and_a_split_header_signs_no_one_in() {
    let b = bench(false);
    let get = |host: &'static str| {
        Request::get("/ui/login")
            .header(header::HOST, host)
            .body(Body::empty())
            .unwrap()
    };
    for host in ["127.0.0.1:8080", "localhost", "[::1]:9", "LOCALHOST."] {
        assert_eq!(b.send(get(host)).await.status, StatusCode::OK, "{host}");
    }
    for host in ["evil.example", "127.0.0.1.evil.example:8080", ""] {
        let r = b.send(get(host)).await;
        assert_eq!(r.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(r.body.contains("allowed_hosts"), "{}", r.body);
    }
    // A configured name is answered.
    let settings = b.dir.path().join(tearline_node::SETTINGS);
    let text = std::fs::read_to_string(&settings).unwrap();
    std::fs::write(
        &settings,
        text.replace(
            "[workbench]\n",
            "[workbench]\nallowed_hosts = [\"Tearline.Example.org\"]\n",
        ),
    )
    .unwrap();
    let node = Node::open(b.dir.path(), tearline_node::system_clock()).unwrap();
    let app = router(Arc::new(Workbench::new(Arc::new(node))));
    let r = app.oneshot(get("tearline.example.org:443")).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);

    // CR/LF in the page to return to: refused before signing in.
    let r = b
        .post(
            "/ui/login",
            "",
            &[
                ("name", "ana"),
                ("password", PASSWORD),
                ("next", "/ui/cases\r\nSet-Cookie: x=y"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.body);
    assert!(r.cookie.is_empty(), "no session cookie: {}", r.cookie);
    assert!(
        !b.actions().iter().any(|a| a == "ui.login"),
        "nobody signed in"
    );
}

#[tokio::test]
async fn only_its_author_saves_over_a_draft() {
    let b = bench(false);
    let (ana, ana_csrf) = b.sign_in("ana").await;
    b.post("/ui/drafts", &ana, &[("csrf", &ana_csrf), ("body", REPORT)])
        .await;
    let (rhea, csrf) = b.sign_in("rhea").await;
    let changed = REPORT.replace("this week", "tonight");
    let r = b
        .post(
            "/ui/drafts/1",
            &rhea,
            &[("csrf", &csrf), ("body", &changed)],
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(r.body.contains("only its author"), "{}", r.body);
    assert_eq!(b.node().draft(&operator(), 1).unwrap().body, REPORT);
    // Her page says so and saves to a new draft of hers.
    let page = b.get("/ui/drafts/1", &rhea).await;
    assert!(page.body.contains("id=\"other-author\""), "{}", page.body);
    assert!(page.body.contains("action=\"/ui/drafts\""));
    // The author still saves over it.
    let r = b
        .post(
            "/ui/drafts/1",
            &ana,
            &[("csrf", &ana_csrf), ("body", &changed)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(b
        .node()
        .draft(&operator(), 1)
        .unwrap()
        .body
        .contains("tonight"));
}

#[tokio::test]
async fn the_preview_and_drafts_refuse_reports_over_the_cap() {
    let b = bench(false);
    std::fs::write(
        b.dir.path().join(tearline_node::SETTINGS),
        "[workbench]\nmax_report_bytes = 2048\n",
    )
    .unwrap();
    let node = Node::open(b.dir.path(), tearline_node::system_clock()).unwrap();
    let b = Bench {
        app: router(Arc::new(Workbench::new(Arc::new(node)))),
        dir: b.dir,
    };
    let (cookie, csrf) = b.sign_in("ana").await;
    let small = "---\ntitle: T\nproduced: 2026-03-20T08:00:00Z\n---\n\n(TLP:CLEAR) fine\n";
    let r = b
        .post("/ui/preview", &cookie, &[("csrf", &csrf), ("body", small)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Over the cap once decoded: the service layer's 413.
    let big = format!("{small}{}", "x".repeat(3000));
    for path in ["/ui/preview", "/ui/drafts", "/ui/drafts/1"] {
        let r = b
            .post(path, &cookie, &[("csrf", &csrf), ("body", &big)])
            .await;
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}: {}",
            r.body
        );
        assert!(r.body.contains("at most 2048 bytes"), "{path}: {}", r.body);
    }
    // Over the body limit before decoding: refused as clearly.
    let huge = "x".repeat(3 * 2048 + 64 * 1024 + 1);
    for path in ["/ui/preview", "/ui/drafts"] {
        let r = b
            .post(path, &cookie, &[("csrf", &csrf), ("body", &huge)])
            .await;
        assert_eq!(
            r.status,
            StatusCode::PAYLOAD_TOO_LARGE,
            "{path}: {}",
            r.body
        );
        assert!(
            r.body.contains("the report is too large"),
            "{path}: {}",
            r.body
        );
        assert!(r.body.contains("max_report_bytes"), "{path}: {}", r.body);
    }
    assert!(b.node().drafts(&operator()).unwrap().is_empty());
}

#[tokio::test]
async fn the_preview_withholds_a_portion_with_a_marking_inside_it() {
    let b = bench(false);
    let (cookie, csrf) = b.sign_in("ana").await;
    let body = "---\ntitle: T\nproduced: 2026-03-20T08:00:00Z\n---\n\n(TLP:CLEAR) The embassy is open.\n(TLP:RED) SAPPHIRE saw the cell.\n";
    let r = b
        .post("/ui/preview", &cookie, &[("csrf", &csrf), ("body", body)])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.contains("marking-inside-portion"), "{}", r.body);
    assert!(
        r.body.contains("Portion 1 (TLP:RED) withheld"),
        "{}",
        r.body
    );
}
