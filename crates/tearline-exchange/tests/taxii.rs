//! The TAXII 2.1 interface, in-process (`oneshot`) over a store reached
//! only through the `Store` contract, plus one test on a real socket.
//! Releases reach read collections the way they do at a node: built, leak
//! checked and cleared.

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use base64::Engine;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tearline_exchange::{
    app, digest, inbox_collection_id, read_collection_id, AppState, Config, TAXII_MEDIA_TYPE,
};
use tearline_model::{parse_report, Audience, Level, ProtectedTerm, TermKind};
use tearline_release::{clear, LeakGuard, Registry, Release, Rendered};
use tearline_store::{
    Collection, EnvelopeStatus, NewAuditEntry, NodeInfo, Partner, ReleaseWrite, Store,
};
use tower::ServiceExt;

const NORTH_TOKEN: &str = "north-token-0123456789";
const SOUTH_TOKEN: &str = "south-token-0123456789";

fn entry() -> NewAuditEntry {
    NewAuditEntry {
        at: "2026-03-20T09:00:00Z".into(),
        actor: "t".into(),
        action: "test".into(),
        subject: "x".into(),
        detail: "{}".into(),
    }
}

/// A report id referred to by notes in inboxes.
const A: &str = "report--11111111-1111-4111-8111-111111111111";

/// The one place a store is made: a fresh node with the default audiences.
/// Everything else speaks the `Store` contract.
fn new_store(dir: &std::path::Path) -> Arc<dyn Store> {
    let store = tearline_store_sqlite::SqliteStore::open(&dir.join("t.db")).unwrap();
    let info = NodeInfo {
        name: "Test node".into(),
        created: "2026-03-20T08:00:00.000Z".into(),
    };
    store
        .create_node(&info, &Audience::defaults(), entry())
        .unwrap();
    Arc::new(store)
}

/// Releases a one-portion report marked `level` to `audience` (with a
/// 48-hour window when `warning`), the way a node does: built, leak
/// checked, cleared, recorded. Returns the report id and the release
/// number.
fn release(
    store: &dyn Store,
    audience: &str,
    level: &str,
    title: &str,
    warning: bool,
) -> (String, i64) {
    let window = if warning {
        "valid_from: 2026-03-20T08:00:00Z\nvalid_until: 2026-03-22T08:00:00Z\n"
    } else {
        ""
    };
    let src = format!(
        "---\ntitle: {title}\nproduced: 2026-03-20T08:00:00Z\n{window}---\n\n(TLP:{level}) Extremists plan to attack [concerts]{{target}} in [Moscow]{{place}}.\n"
    );
    let report = parse_report("w.md", src.as_bytes()).unwrap();
    let aud = store
        .audiences()
        .unwrap()
        .into_iter()
        .find(|a| a.name() == audience)
        .unwrap();
    let registry = Registry::new(vec![]);
    let rel = Release::build(&report, &aud, &registry);
    let guard = LeakGuard::new(&report, &aud, &registry);
    let at = chrono::DateTime::parse_from_rfc3339("2026-03-20T09:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let producer = tearline_stix::Producer::new("Test node", at);
    let bundle = tearline_stix::bundle(&rel, &producer, at);
    let objects = clear(&guard, &rel, Rendered::Json(bundle), None)
        .unwrap()
        .stix_objects()
        .unwrap();
    let report_id = objects.report_id().unwrap().to_string();
    let w = tearline_store::NewWarning {
        report_id: report_id.clone(),
        audience: audience.into(),
        title: title.into(),
        valid_from: Some("2026-03-20T08:00:00.000Z".into()),
        valid_until: "2026-03-22T08:00:00.000Z".into(),
    };
    let issued = tearline_lifecycle::apply::stored(&tearline_lifecycle::Event {
        at,
        actor: "desk".into(),
        kind: tearline_lifecycle::EventKind::Issued,
    });
    let rec = store
        .release(
            &ReleaseWrite {
                release: &tearline_store::NewRelease {
                    audience: audience.into(),
                    format: "stix".into(),
                    report_name: "w.md".into(),
                    report_title: title.into(),
                    report_sha256: "00".into(),
                    content_sha256: "11".into(),
                    output: None,
                },
                actor: "desk",
                at: "2026-03-20T09:00:00.000Z",
                objects: &objects,
                warning: warning.then_some((&w, &issued)),
                supersedes: None,
                request: None,
                document: None,
                source: None,
            },
            &mut || Ok(()),
        )
        .unwrap();
    (report_id, rec.id)
}

struct Fixture {
    app: Router,
    store: Arc<dyn Store>,
    /// The report released to `liaison` (marked AMBER).
    a: String,
    /// The report released to `public` (marked CLEAR).
    b: String,
    _dir: tempfile::TempDir,
}

/// `north` (audience `liaison`) and `south` (audience `public`).
fn add_partners(store: &dyn Store) {
    for (name, aud, token) in [
        ("north", "liaison", NORTH_TOKEN),
        ("south", "public", SOUTH_TOKEN),
    ] {
        let p = Partner {
            name: name.into(),
            audience: aud.into(),
            password_sha256: digest(&format!("{name}-password")),
            token_sha256: digest(token),
            created_at: "2026-03-20T09:00:00Z".into(),
            rotated_at: "2026-03-20T09:00:00Z".into(),
            client_cert_sha256: None,
        };
        store.partner_add(&p, entry()).unwrap();
    }
}

/// Two partners: `north` reads the `liaison` collection, which holds
/// release A; `south` reads the `public` collection, which holds release
/// B; and a status owned by nobody the partners are.
fn fixture(config: Config, registry: Vec<ProtectedTerm>) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    add_partners(&*store);
    for t in &registry {
        store
            .protect_add(t, &t.term.to_lowercase(), entry())
            .unwrap();
    }
    let (a, _) = release(&*store, "liaison", "AMBER", "Warning A", false);
    let (b, _) = release(&*store, "public", "CLEAR", "Warning B", false);
    let mut st = EnvelopeStatus {
        id: "seed-node-a".into(),
        owner: "node-a".into(),
        request_timestamp: "2026-03-20T09:00:00Z".into(),
        successes: vec![],
        failures: vec![],
    };
    store
        .add_objects(&Collection::Inbox("node-a".into()), &[], &mut st)
        .unwrap();
    let state = AppState::new(store.clone(), config);
    Fixture {
        app: app(Arc::new(state)),
        store,
        a,
        b,
        _dir: dir,
    }
}

/// The report ids among a listing's objects.
fn reports(v: &Value) -> Vec<String> {
    v["objects"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|o| o["type"] == "report")
                .map(|o| o["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Caller {
    Nobody,
    North,
    South,
}

fn auth(c: Caller) -> Option<String> {
    match c {
        Caller::Nobody => None,
        Caller::North => Some(format!("Bearer {NORTH_TOKEN}")),
        Caller::South => {
            let b = base64::engine::general_purpose::STANDARD.encode("south:south-password");
            Some(format!("Basic {b}"))
        }
    }
}

async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    who: Caller,
    body: Option<Value>,
) -> (StatusCode, axum::http::HeaderMap, Value) {
    let mut r = Request::builder()
        .method(method)
        .uri(uri)
        .header("accept", TAXII_MEDIA_TYPE);
    if let Some(a) = auth(who) {
        r = r.header("authorization", a);
    }
    let req = match body {
        Some(b) => r
            .header("content-type", TAXII_MEDIA_TYPE)
            .body(Body::from(b.to_string()))
            .unwrap(),
        None => r.body(Body::empty()).unwrap(),
    };
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).unwrap_or(Value::Null)
    };
    if status != StatusCode::ACCEPTED && status.is_success() {
        assert_eq!(headers["content-type"], TAXII_MEDIA_TYPE, "{uri}");
    }
    (status, headers, v)
}

/// Every endpoint × (no credentials, the object's partner, another
/// partner) × (object released to the caller or not): each cell asserted.
#[tokio::test]
async fn authorization_matrix() {
    let f = fixture(Config::default(), vec![]);
    let (a, b) = (f.a.clone(), f.b.clone());
    let home = |o: &str| if o == a { "liaison" } else { "public" };
    let owner = |o: &str| if o == a { Caller::North } else { Caller::South };
    let mut cells = 0;
    for obj in [a.as_str(), b.as_str()] {
        let c = read_collection_id(home(obj));
        let endpoints: Vec<(&str, String, Option<Value>)> = vec![
            ("GET", format!("/api/collections/{c}/"), None),
            ("GET", format!("/api/collections/{c}/objects/"), None),
            ("GET", format!("/api/collections/{c}/objects/{obj}/"), None),
            (
                "GET",
                format!("/api/collections/{c}/objects/{obj}/versions/"),
                None,
            ),
            ("GET", format!("/api/collections/{c}/manifest/"), None),
            (
                "POST",
                format!("/api/collections/{c}/objects/"),
                Some(json!({"objects": []})),
            ),
            (
                "DELETE",
                format!("/api/collections/{c}/objects/{obj}/"),
                None,
            ),
        ];
        for (method, uri, body) in &endpoints {
            for who in [Caller::Nobody, Caller::North, Caller::South] {
                let (status, _, v) = call(&f.app, method, uri, who, body.clone()).await;
                let want = if who == Caller::Nobody {
                    StatusCode::UNAUTHORIZED
                } else if who != owner(obj) {
                    // Not released to this caller: the same answer as for
                    // something that does not exist.
                    StatusCode::NOT_FOUND
                } else if *method == "GET" {
                    StatusCode::OK
                } else {
                    // Its own read collection: visible, not writable.
                    StatusCode::FORBIDDEN
                };
                assert_eq!(status, want, "{method} {uri} as {who:?}");
                if !status.is_success() {
                    assert_eq!(
                        v["http_status"],
                        status.as_u16().to_string(),
                        "TAXII error body for {method} {uri}"
                    );
                }
                if status == StatusCode::OK && uri.ends_with("/objects/") {
                    assert_eq!(reports(&v), [obj], "{uri} as {who:?}");
                }
                cells += 1;
            }
        }
        // The same 404 for an id that exists nowhere.
        let (s, _, v) = call(
            &f.app,
            "GET",
            &format!("/api/collections/{c}/objects/report--99999999-9999-4999-8999-999999999999/"),
            owner(obj),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let (s2, _, v2) = call(
            &f.app,
            "GET",
            &format!(
                "/api/collections/{}/objects/{obj}/",
                read_collection_id(home(if obj == a { &b } else { &a }))
            ),
            owner(obj),
            None,
        )
        .await;
        assert_eq!(
            (s2, &v2),
            (StatusCode::NOT_FOUND, &v),
            "not-released and absent must look alike"
        );
    }
    for who in [Caller::Nobody, Caller::North, Caller::South] {
        for uri in [
            "/taxii2/",
            "/api/",
            "/api/collections/",
            "/api/status/seed-node-a/",
        ] {
            let (status, _, _) = call(&f.app, "GET", uri, who, None).await;
            let want = match (who, uri) {
                (Caller::Nobody, _) => StatusCode::UNAUTHORIZED,
                (_, "/api/status/seed-node-a/") => StatusCode::NOT_FOUND,
                _ => StatusCode::OK,
            };
            assert_eq!(status, want, "GET {uri} as {who:?}");
            cells += 1;
        }
    }
    assert_eq!(cells, 54);
    // Collections list only the caller's own two.
    let (_, _, v) = call(&f.app, "GET", "/api/collections/", Caller::North, None).await;
    let ids: Vec<&str> = v["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [read_collection_id("liaison"), inbox_collection_id("north")]
    );
    // Wrong credentials are no credentials.
    let req = Request::get("/api/")
        .header("authorization", "Bearer wrong")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        f.app.clone().oneshot(req).await.unwrap().status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn inbox_post_status_paging_filters_and_delete() {
    let f = fixture(
        Config {
            page_size: 100,
            ..Config::default()
        },
        vec![],
    );
    let inbox = inbox_collection_id("north");
    let objs: Vec<Value> = (0..250)
        .map(|i| {
            json!({"type": "note", "spec_version": "2.1", "id": format!("note--{:08x}-0000-4000-8000-000000000000", i),
                   "created": "2026-03-21T10:00:00.000Z", "modified": "2026-03-21T10:00:00.000Z", "content": format!("ack {i}"), "object_refs": [A]})
        })
        .collect();
    let (s, _, st) = call(
        &f.app,
        "POST",
        &format!("/api/collections/{inbox}/objects/"),
        Caller::North,
        Some(json!({"objects": objs})),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(
        (st["status"].as_str(), st["success_count"].as_u64()),
        (Some("complete"), Some(250))
    );
    let sid = st["id"].as_str().unwrap().to_string();
    let (s, _, st2) = call(
        &f.app,
        "GET",
        &format!("/api/status/{sid}/"),
        Caller::North,
        None,
    )
    .await;
    assert_eq!(
        (s, st2["total_count"].as_u64()),
        (StatusCode::OK, Some(250))
    );
    let (s, _, _) = call(
        &f.app,
        "GET",
        &format!("/api/status/{sid}/"),
        Caller::South,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "another partner's status");

    // Paging: 100 + 100 + 50, following `next`.
    let mut seen = Vec::new();
    let mut tokens = Vec::new();
    let mut uri = format!("/api/collections/{inbox}/objects/?limit=100");
    loop {
        let (s, h, v) = call(&f.app, "GET", &uri, Caller::North, None).await;
        assert_eq!(s, StatusCode::OK);
        let page: Vec<String> = v["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect();
        assert!(
            h.contains_key("x-taxii-date-added-first") && h.contains_key("x-taxii-date-added-last")
        );
        seen.extend(page);
        if !v["more"].as_bool().unwrap() {
            assert!(v.get("next").is_none());
            break;
        }
        tokens.push(v["next"].as_str().unwrap().to_string());
        uri = format!(
            "/api/collections/{inbox}/objects/?limit=100&next={}",
            v["next"].as_str().unwrap()
        );
    }
    assert_eq!(seen.len(), 250);
    // Tokens are opaque (no sequence number to count what other
    // collections receive) and good for their own collection only.
    assert_eq!(tokens.len(), 2);
    for t in &tokens {
        assert!(t.parse::<i64>().is_err() && t.len() >= 40, "{t}");
    }
    let other = read_collection_id("liaison");
    let (s, _, v) = call(
        &f.app,
        "GET",
        &format!("/api/collections/{other}/objects/?next={}", tokens[0]),
        Caller::North,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let mut forged = tokens[0].clone();
    forged.replace_range(30..31, if &forged[30..31] == "A" { "B" } else { "A" });
    let (s, _, _) = call(
        &f.app,
        "GET",
        &format!("/api/collections/{inbox}/objects/?next={forged}"),
        Caller::North,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "an altered token");
    let mut dedup = seen.clone();
    dedup.dedup();
    assert_eq!(dedup.len(), 250);

    // added_after: only what came later.
    let (_, h, _) = call(
        &f.app,
        "GET",
        &format!("/api/collections/{inbox}/objects/?limit=10"),
        Caller::North,
        None,
    )
    .await;
    let last = h["x-taxii-date-added-last"].to_str().unwrap().to_string();
    let (_, _, v) = call(
        &f.app,
        "GET",
        &format!("/api/collections/{inbox}/manifest/?added_after={last}&limit=1000"),
        Caller::North,
        None,
    )
    .await;
    // 240 match; the server's page size (100) caps the client's limit.
    assert_eq!(v["objects"].as_array().unwrap().len(), 100);
    assert_eq!(v["more"], true);

    // A new version, then version filters.
    let id = "note--00000000-0000-4000-8000-000000000000";
    let v2 = json!({"type": "note", "spec_version": "2.1", "id": id, "created": "2026-03-21T10:00:00.000Z", "modified": "2026-03-22T10:00:00.000Z", "content": "ack, revised", "object_refs": [A]});
    let (s, _, _) = call(
        &f.app,
        "POST",
        &format!("/api/collections/{inbox}/objects/"),
        Caller::North,
        Some(json!({"objects": [v2]})),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let base = format!("/api/collections/{inbox}/objects/{id}/");
    let (_, _, v) = call(&f.app, "GET", &base, Caller::North, None).await;
    assert_eq!(v["objects"][0]["content"], "ack, revised");
    let (_, _, v) = call(
        &f.app,
        "GET",
        &format!("{base}?match[version]=first"),
        Caller::North,
        None,
    )
    .await;
    assert_eq!(v["objects"][0]["content"], "ack 0");
    let (_, _, v) = call(
        &f.app,
        "GET",
        &format!("{base}?match[version]=all"),
        Caller::North,
        None,
    )
    .await;
    assert_eq!(v["objects"].as_array().unwrap().len(), 2);
    let (_, _, v) = call(
        &f.app,
        "GET",
        &format!("{base}?match[version]=2026-03-21T10:00:00Z"),
        Caller::North,
        None,
    )
    .await;
    assert_eq!(
        v["objects"][0]["content"], "ack 0",
        "exact versions match whatever their precision"
    );
    let (_, _, v) = call(
        &f.app,
        "GET",
        &format!("{base}versions/"),
        Caller::North,
        None,
    )
    .await;
    assert_eq!(
        v["versions"],
        json!(["2026-03-21T10:00:00.000Z", "2026-03-22T10:00:00.000Z"])
    );
    let (_, _, v) = call(
        &f.app,
        "GET",
        &format!("/api/collections/{inbox}/objects/?match[type]=report"),
        Caller::North,
        None,
    )
    .await;
    assert!(v.get("objects").is_none());
    let (_, _, v) = call(
        &f.app,
        "GET",
        &format!("/api/collections/{inbox}/objects/?match[id]={id}&match[version]=all"),
        Caller::North,
        None,
    )
    .await;
    assert_eq!(v["objects"].as_array().unwrap().len(), 2);

    // Posting the same objects again stores nothing twice.
    let (s, _, st) = call(
        &f.app,
        "POST",
        &format!("/api/collections/{inbox}/objects/"),
        Caller::North,
        Some(json!({"objects": [objs_first()]})),
    )
    .await;
    assert_eq!(
        (s, st["success_count"].as_u64()),
        (StatusCode::ACCEPTED, Some(1))
    );
    let (_, _, v) = call(
        &f.app,
        "GET",
        &format!("{base}versions/"),
        Caller::North,
        None,
    )
    .await;
    assert_eq!(v["versions"].as_array().unwrap().len(), 2);

    // Delete one version, then the rest.
    let (s, _, _) = call(
        &f.app,
        "DELETE",
        &format!("{base}?match[version]=2026-03-22T10:00:00.000Z"),
        Caller::North,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let (_, _, v) = call(
        &f.app,
        "GET",
        &format!("{base}versions/"),
        Caller::North,
        None,
    )
    .await;
    assert_eq!(v["versions"].as_array().unwrap().len(), 1);
    let (s, _, _) = call(&f.app, "DELETE", &base, Caller::North, None).await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, _) = call(&f.app, "GET", &base, Caller::North, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

fn objs_first() -> Value {
    json!({"type": "note", "spec_version": "2.1", "id": "note--00000000-0000-4000-8000-000000000000",
           "created": "2026-03-21T10:00:00.000Z", "modified": "2026-03-21T10:00:00.000Z", "content": "ack 0", "object_refs": [A]})
}

async fn raw(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let s = resp.status();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string());
    let b = resp.into_body().collect().await.unwrap().to_bytes();
    assert_eq!(
        ct.as_deref(),
        Some(TAXII_MEDIA_TYPE),
        "every answer, errors too, is TAXII"
    );
    (s, serde_json::from_slice(&b).unwrap_or(Value::Null))
}

#[tokio::test]
async fn bad_requests_get_taxii_errors_and_store_nothing() {
    let f = fixture(
        Config {
            max_content_length: 2048,
            ..Config::default()
        },
        vec![],
    );
    let inbox = inbox_collection_id("north");
    let uri = format!("/api/collections/{inbox}/objects/");
    let post = |ct: &str, body: String| {
        Request::post(&uri)
            .header("accept", TAXII_MEDIA_TYPE)
            .header("content-type", ct)
            .header("authorization", format!("Bearer {NORTH_TOKEN}"))
            .body(Body::from(body))
            .unwrap()
    };
    let (s, v) = raw(&f.app, post("application/json", "{}".into())).await;
    assert_eq!(
        (s, v["http_status"].as_str()),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, Some("415"))
    );
    let (s, _) = raw(&f.app, post(TAXII_MEDIA_TYPE, "{not json".into())).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = raw(&f.app, post(TAXII_MEDIA_TYPE, "x".repeat(4096))).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    let good = objs_first();
    let bad = json!({"type": "note", "spec_version": "2.1", "id": "indicator--00000000-0000-4000-8000-000000000000", "created": "2026-03-21T10:00:00.000Z"});
    let (s, v) = raw(
        &f.app,
        post(
            TAXII_MEDIA_TYPE,
            json!({"objects": [good, bad]}).to_string(),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        v["description"].as_str().unwrap().contains("objects[1]"),
        "{v}"
    );
    let (s, _) = raw(
        &f.app,
        post(
            TAXII_MEDIA_TYPE,
            json!({"objects": [{"type": "note"}]}).to_string(),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, _, v) = call(&f.app, "GET", &uri, Caller::North, None).await;
    assert!(
        v.get("objects").is_none(),
        "nothing from a rejected envelope is stored: {v}"
    );

    let req = Request::get("/api/")
        .header("accept", "text/html")
        .header("authorization", format!("Bearer {NORTH_TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(raw(&f.app, req).await.0, StatusCode::NOT_ACCEPTABLE);
    let req = Request::get("/api/")
        .header("accept", "application/taxii+json;version=2.0")
        .header("authorization", format!("Bearer {NORTH_TOKEN}"))
        .body(Body::empty())
        .unwrap();
    assert_eq!(raw(&f.app, req).await.0, StatusCode::NOT_ACCEPTABLE);
    for q in [
        "limit=0",
        "limit=x",
        "added_after=yesterday",
        "next=abc",
        "match[version]=soon",
    ] {
        let (s, _, _) = call(&f.app, "GET", &format!("{uri}?{q}"), Caller::North, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{q}");
    }
    let (s, _, _) = call(&f.app, "GET", "/nowhere", Caller::North, None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
}

async fn list(f: &Fixture, audience: &str, who: Caller) -> (StatusCode, Value) {
    let c = read_collection_id(audience);
    let (s, _, v) = call(
        &f.app,
        "GET",
        &format!("/api/collections/{c}/objects/"),
        who,
        None,
    )
    .await;
    (s, v)
}

#[tokio::test]
async fn a_term_registered_while_serving_is_withheld_from_the_next_fetch() {
    let f = fixture(Config::default(), vec![]);
    let (s, v) = list(&f, "liaison", Caller::North).await;
    assert_eq!((s, reports(&v)), (StatusCode::OK, vec![f.a.clone()]));
    // The registry grows while the server runs: the release's title is now
    // a protected term.
    let term = ProtectedTerm {
        term: "Warning A".into(),
        kind: TermKind::Case,
    };
    f.store.protect_add(&term, "warning a", entry()).unwrap();
    let (s, v) = list(&f, "liaison", Caller::North).await;
    assert_eq!(s, StatusCode::OK);
    assert!(reports(&v).is_empty(), "{v}");
    let c = read_collection_id("liaison");
    let (s, _, _) = call(
        &f.app,
        "GET",
        &format!("/api/collections/{c}/objects/{}/", f.a),
        Caller::North,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // Removing the term serves it again.
    f.store.protect_remove("warning a", entry()).unwrap();
    assert_eq!(
        reports(&list(&f, "liaison", Caller::North).await.1),
        vec![f.a.clone()]
    );
}

#[tokio::test]
async fn a_term_registered_before_serving_is_withheld_too() {
    let term = ProtectedTerm {
        term: "Warning A".into(),
        kind: TermKind::Case,
    };
    let f = fixture(Config::default(), vec![term]);
    let (s, v) = list(&f, "liaison", Caller::North).await;
    assert_eq!(s, StatusCode::OK);
    assert!(reports(&v).is_empty(), "{v}");
}

#[tokio::test]
async fn an_audience_lowered_while_serving_gets_nothing_above_its_new_level() {
    let f = fixture(Config::default(), vec![]);
    assert_eq!(
        reports(&list(&f, "liaison", Caller::North).await.1),
        vec![f.a.clone()]
    );
    // `liaison` goes down from AMBER to GREEN: the AMBER release stays
    // stored but is no longer served to it.
    let lowered = Audience::new("liaison", Level::Green, false).unwrap();
    f.store.audience_update(&lowered, entry()).unwrap();
    let (s, v) = list(&f, "liaison", Caller::North).await;
    assert_eq!(s, StatusCode::OK);
    assert!(reports(&v).is_empty(), "{v}");
    // Its CLEAR marking definition and the published objects still are.
    assert!(v["objects"].as_array().is_some_and(|o| !o.is_empty()));
    // Another audience is untouched.
    assert_eq!(
        reports(&list(&f, "public", Caller::South).await.1),
        vec![f.b.clone()]
    );
}

#[tokio::test]
async fn a_partner_removed_while_serving_is_refused_at_once() {
    let f = fixture(Config::default(), vec![]);
    assert_eq!(list(&f, "liaison", Caller::North).await.0, StatusCode::OK);
    f.store.partner_remove("north", entry()).unwrap();
    assert_eq!(
        list(&f, "liaison", Caller::North).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(list(&f, "public", Caller::South).await.0, StatusCode::OK);
}

#[tokio::test]
async fn serves_on_a_real_socket() {
    let f = fixture(Config::default(), vec![]);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move { axum::serve(listener, f.app).await });
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut sock = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "GET /api/collections/ HTTP/1.1\r\nHost: {addr}\r\nAccept: {TAXII_MEDIA_TYPE}\r\nAuthorization: Bearer {NORTH_TOKEN}\r\nConnection: close\r\n\r\n"
    );
    sock.write_all(req.as_bytes()).await.unwrap();
    let mut resp = String::new();
    sock.read_to_string(&mut resp).await.unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    assert!(resp.contains(&read_collection_id("liaison")), "{resp}");
    server.abort();
}

#[tokio::test]
async fn each_credential_has_its_own_rate_limit() {
    let f = fixture(
        Config {
            rate_per_second: 0.001,
            burst: 3.0,
            ..Config::default()
        },
        vec![],
    );
    for _ in 0..3 {
        assert_eq!(
            call(&f.app, "GET", "/api/", Caller::North, None).await.0,
            StatusCode::OK
        );
    }
    let (s, h, v) = call(&f.app, "GET", "/api/", Caller::North, None).await;
    assert_eq!(
        (s, v["http_status"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("429"))
    );
    assert_eq!(h["retry-after"], "1");
    // Another partner is not slowed by the first.
    assert_eq!(
        call(&f.app, "GET", "/api/", Caller::South, None).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn partners_move_a_warning_through_its_lifecycle() {
    let dir = tempfile::tempdir().unwrap();
    let store = new_store(dir.path());
    add_partners(&*store);
    let (report, id) = release(&*store, "liaison", "AMBER", "Warning W", true);
    let clock = || {
        chrono::DateTime::parse_from_rfc3339("2026-03-20T12:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc)
    };
    let state = AppState::new(store.clone(), Config::default()).with_clock(clock);
    let app = app(Arc::new(state));
    let state_of = || {
        let rec = store.warning(id).unwrap().unwrap();
        tearline_lifecycle::apply::warning(&rec)
            .unwrap()
            .state(clock())
            .name()
    };
    assert_eq!(state_of(), "issued");
    let (s, _, _) = call(
        &app,
        "GET",
        &format!(
            "/api/collections/{}/objects/",
            read_collection_id("liaison")
        ),
        Caller::North,
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(state_of(), "delivered");

    let ext = tearline_stix::TEARLINE_EXTENSION;
    let note = |n: u32, kind: &str, text: &str| {
        json!({"type": "note", "spec_version": "2.1", "id": format!("note--{n:08x}-2222-4222-8222-222222222222"),
               "created": "2026-03-20T11:00:00.000Z", "content": text, "object_refs": [report],
               "extensions": {ext: {"extension_type": "property-extension", "lifecycle": kind}}})
    };
    // Another audience's partner cannot touch a warning not released to it.
    let south_inbox = inbox_collection_id("south");
    call(
        &app,
        "POST",
        &format!("/api/collections/{south_inbox}/objects/"),
        Caller::South,
        Some(json!({"objects": [note(1, "measures", "fake")]})),
    )
    .await;
    assert_eq!(state_of(), "delivered");

    let inbox = inbox_collection_id("north");
    let (s, _, _) = call(
        &app,
        "POST",
        &format!("/api/collections/{inbox}/objects/"),
        Caller::North,
        Some(
            json!({"objects": [note(2, "acknowledgement", "received, passing to venue security")]}),
        ),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    assert_eq!(state_of(), "acknowledged");
    call(
        &app,
        "POST",
        &format!("/api/collections/{inbox}/objects/"),
        Caller::North,
        Some(json!({"objects": [note(3, "measures", "armed patrols at three concert halls")]})),
    )
    .await;
    assert_eq!(state_of(), "measures recorded");
    let s = &*store;
    let events = s.warning(id).unwrap().unwrap().events;
    assert!(
        events
            .iter()
            .any(|e| e.event.contains("armed patrols") && e.actor == "partner:north"),
        "{events:?}"
    );
    assert!(!events.iter().any(|e| e.event.contains("fake")));
    let log = s.audit_log().unwrap();
    assert_eq!(
        log.iter()
            .filter(|e| e.entry.action == "warning.event")
            .count(),
        4,
        "issued, delivered, acknowledged, measures"
    );
    let head = s.audit_head().unwrap().unwrap();
    assert_eq!(
        tearline_store::verify_chain(&log, Some((head.0, &head.1))).map(|_| ()),
        Ok(()),
        "entries written by the exchange move the audit head"
    );
}
