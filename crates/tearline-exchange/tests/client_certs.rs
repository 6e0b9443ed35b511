//! A partner bound to a TLS client certificate, in-process: each request
//! carries the peer its connection came from (`ConnectInfo<Peer>`), as
//! `serve_tls_with` gives it; a bound partner needs its certificate and its
//! credential, an unbound one its credential alone.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::json;
use tearline_exchange::tls::Peer;
use tearline_exchange::{app, digest, inbox_collection_id, AppState, Config, TAXII_MEDIA_TYPE};
use tearline_model::Audience;
use tearline_store::{NewAuditEntry, NodeInfo, Partner, Store};
use tower::ServiceExt;

fn entry() -> NewAuditEntry {
    NewAuditEntry {
        at: "2026-03-20T09:00:00Z".into(),
        actor: "t".into(),
        action: "test".into(),
        subject: "x".into(),
        detail: "{}".into(),
    }
}

const BOUND: &str = "aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11aa11";
const OTHER: &str = "bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22bb22";

/// `north` is bound to certificate [`BOUND`], `south` to none.
fn fixture(dir: &std::path::Path) -> (Router, Arc<dyn Store>) {
    let store = tearline_store_sqlite::SqliteStore::open(&dir.join("t.db")).unwrap();
    let info = NodeInfo {
        name: "Test node".into(),
        created: "2026-03-20T08:00:00.000Z".into(),
    };
    store
        .create_node(&info, &Audience::defaults(), entry())
        .unwrap();
    for (name, cert) in [("north", Some(BOUND)), ("south", None)] {
        let p = Partner {
            name: name.into(),
            audience: "liaison".into(),
            password_sha256: digest(&format!("{name}-password")),
            token_sha256: digest(&format!("{name}-token")),
            created_at: "2026-03-20T09:00:00Z".into(),
            rotated_at: "2026-03-20T09:00:00Z".into(),
            client_cert_sha256: cert.map(str::to_string),
        };
        store.partner_add(&p, entry()).unwrap();
    }
    let store: Arc<dyn Store> = Arc::new(store);
    let state = AppState::new(store.clone(), Config::default());
    (app(Arc::new(state)), store)
}

async fn status(app: &Router, post: bool, token: &str, cert: Option<&str>) -> StatusCode {
    let uri = format!("/api/collections/{}/objects/", inbox_collection_id("north"));
    let r = Request::builder()
        .method(if post { "POST" } else { "GET" })
        .uri(if post {
            uri.as_str()
        } else {
            "/api/collections/"
        })
        .header("accept", TAXII_MEDIA_TYPE)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", TAXII_MEDIA_TYPE);
    let body = if post {
        json!({"objects": [{
            "type": "note", "spec_version": "2.1",
            "id": "note--11111111-1111-4111-8111-111111111111",
            "created": "2026-03-21T10:00:00.000Z", "modified": "2026-03-21T10:00:00.000Z",
            "content": "measures taken",
            "object_refs": ["report--11111111-1111-4111-8111-111111111111"]}]})
        .to_string()
    } else {
        String::new()
    };
    let mut req = r.body(Body::from(body)).unwrap();
    req.extensions_mut().insert(ConnectInfo(Peer {
        addr: "127.0.0.1:40000".parse().unwrap(),
        client_cert_sha256: cert.map(str::to_string),
    }));
    app.clone().oneshot(req).await.unwrap().status()
}

#[tokio::test]
async fn a_bound_partner_needs_its_certificate_and_its_credential() {
    let dir = tempfile::tempdir().unwrap();
    let (app, store) = fixture(dir.path());
    for post in [false, true] {
        let ok = if post {
            StatusCode::ACCEPTED
        } else {
            StatusCode::OK
        };
        assert_eq!(status(&app, post, "north-token", Some(BOUND)).await, ok);
        assert_eq!(
            status(&app, post, "north-token", None).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status(&app, post, "north-token", Some(OTHER)).await,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            status(&app, post, "wrong-token", Some(BOUND)).await,
            StatusCode::UNAUTHORIZED,
            "the certificate alone is not enough"
        );
    }
    // An unbound partner: its credential, whatever the connection showed.
    for cert in [None, Some(BOUND), Some(OTHER)] {
        assert_eq!(
            status(&app, false, "south-token", cert).await,
            StatusCode::OK
        );
    }
    // Unbinding holds from the next request; so does binding.
    store
        .partner_set_client_cert("north", None, entry())
        .unwrap();
    assert_eq!(
        status(&app, false, "north-token", None).await,
        StatusCode::OK
    );
    store
        .partner_set_client_cert("south", Some(OTHER), entry())
        .unwrap();
    assert_eq!(
        status(&app, false, "south-token", None).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status(&app, false, "south-token", Some(OTHER)).await,
        StatusCode::OK
    );
}
