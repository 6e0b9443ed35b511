//! Tearline's exchange: a TAXII 2.1 server over a node's store.
//!
//! Partners are named recipients with credentials (HTTP Basic or a bearer
//! token), each bound to one audience. A partner sees exactly two
//! collections:
//!
//! - the **read collection** of its audience, holding the STIX objects of
//!   every release to that audience (readable, not writable);
//! - its own **inbox**, where it posts acknowledgements and feedback
//!   (readable and writable by that partner alone).
//!
//! Anything else — another audience's collection, another partner's inbox
//! or status, an object not released to it — is answered with the same
//! 404 as an id that does not exist; a request without valid credentials
//! gets 401. Every object was leak-checked for its audience when it was
//! released; at send time the server checks each object of a read
//! collection again against the node as it is now — the registry may have
//! grown, the audience's level may have been lowered, its partners
//! changed — and withholds any object that holds a registered term or is
//! marked above the audience's level. The server reads the registry and
//! the audiences again whenever the store's generation changes, so a
//! change made while it runs holds from the next request.
//!
//! A partner may be bound to a TLS client certificate; its requests then
//! need the certificate and its credential (see [`tls`]).
//!
//! Only this crate knows HTTP and TAXII envelopes. [`app`] builds the
//! router, so tests call it in-process; [`serve`] binds it to a socket,
//! [`serve_tls_with`] over TLS.
#![deny(missing_docs)]

mod auth;
mod client;
mod error;
pub mod tls;

use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use tearline_lifecycle::EventKind;
use tearline_model::{Audience, Level};
use tearline_release::Registry;
use tearline_stix::StixId;
use tearline_store::{
    Collection as Stored, EnvelopeStatus, NewAuditEntry, NewObject, ObjectQuery, Partner, Store,
    StoredObject, VersionMatch,
};

use auth::Presented;
pub use auth::{digest, new_secret};
pub use client::{Auth, Remote, SyncError, SyncReport};
pub use error::ApiError;

/// The TAXII 2.1 media type.
pub const TAXII_MEDIA_TYPE: &str = "application/taxii+json;version=2.1";
/// The STIX 2.1 media type.
pub const STIX_MEDIA_TYPE: &str = "application/stix+json;version=2.1";

/// Server settings.
#[derive(Debug, Clone)]
pub struct Config {
    /// The title in discovery and the API root.
    pub title: String,
    /// The largest request body accepted, in bytes.
    pub max_content_length: usize,
    /// The most objects in one page (and the default page size).
    pub page_size: usize,
    /// Requests each partner may make per second, sustained.
    pub rate_per_second: f64,
    /// Requests a partner may make in a burst.
    pub burst: f64,
    /// The key that seals paging tokens (`next`). Processes serving one
    /// node share it, so a token from one is good at another.
    pub paging_key: [u8; 32],
}

impl Default for Config {
    fn default() -> Self {
        Config {
            title: "Tearline node".into(),
            max_content_length: 10 * 1024 * 1024,
            page_size: 1000,
            rate_per_second: 100.0,
            burst: 200.0,
            paging_key: random_key(),
        }
    }
}

/// A fresh random key (a process that is not told a key seals tokens that
/// only it can open).
fn random_key() -> [u8; 32] {
    let mut k = [0u8; 32];
    if getrandom::getrandom(&mut k).is_err() {
        // Without randomness the tokens are still sealed and checked, but
        // predictable; the node always passes its own key.
        k = *b"tearline paging tokens, no rng!!";
    }
    k
}

/// Seals a position in a collection as an opaque `next` token: XChaCha20-
/// Poly1305 under the paging key, bound to the collection, so that a token
/// says nothing about other collections and is good for this one only.
fn seal_next(key: &[u8; 32], collection: &str, seq: i64) -> String {
    use base64::Engine;
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};
    let cipher = XChaCha20Poly1305::new(key.into());
    let mut nonce = [0u8; 24];
    let _ = getrandom::getrandom(&mut nonce);
    let sealed = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &seq.to_be_bytes(),
                aad: collection.as_bytes(),
            },
        )
        .unwrap_or_default();
    let mut out = nonce.to_vec();
    out.extend(sealed);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
}

/// Opens a `next` token sealed for `collection`.
fn open_next(key: &[u8; 32], collection: &str, token: &str) -> Option<i64> {
    use base64::Engine;
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    use chacha20poly1305::{XChaCha20Poly1305, XNonce};
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token)
        .ok()?;
    if raw.len() < 24 {
        return None;
    }
    let (nonce, sealed) = raw.split_at(24);
    let plain = XChaCha20Poly1305::new(key.into())
        .decrypt(
            XNonce::from_slice(nonce),
            Payload {
                msg: sealed,
                aad: collection.as_bytes(),
            },
        )
        .ok()?;
    Some(i64::from_be_bytes(plain.try_into().ok()?))
}

type Clock = Box<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The registry and audiences as of one store generation.
struct View {
    generation: i64,
    registry: Arc<Registry>,
    audiences: Arc<Vec<Audience>>,
}

/// What every handler shares. It holds no lock across a request: the
/// store is shared, and the cached view of the registry and audiences is
/// swapped whole when the store's generation changes.
pub struct AppState {
    store: Arc<dyn Store>,
    view: Mutex<Option<View>>,
    buckets: Mutex<std::collections::HashMap<String, (f64, std::time::Instant)>>,
    seen: Mutex<std::collections::HashMap<String, std::time::Instant>>,
    config: Config,
    clock: Clock,
}

impl AppState {
    /// State over a node's store.
    pub fn new(store: Arc<dyn Store>, config: Config) -> AppState {
        AppState {
            store,
            view: Mutex::new(None),
            buckets: Mutex::new(std::collections::HashMap::new()),
            seen: Mutex::new(std::collections::HashMap::new()),
            config,
            clock: Box::new(Utc::now),
        }
    }

    /// Replaces the clock (for tests, and a node with a fixed time).
    pub fn with_clock(
        mut self,
        clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static,
    ) -> AppState {
        self.clock = Box::new(clock);
        self
    }

    fn store(&self) -> &dyn Store {
        &*self.store
    }

    /// The registry and audiences as the store holds them now: read again
    /// when the store's generation has moved.
    fn view(&self) -> Result<(Arc<Registry>, Arc<Vec<Audience>>), ApiError> {
        let generation = self.store.generation()?;
        {
            let v = self
                .view
                .lock()
                .map_err(|_| ApiError::Internal("the view lock is poisoned".into()))?;
            if let Some(v) = v.as_ref().filter(|v| v.generation == generation) {
                return Ok((v.registry.clone(), v.audiences.clone()));
            }
        }
        let terms = self.store.protected_terms()?;
        let registry = Arc::new(Registry::new(terms.into_iter().map(|t| t.term).collect()));
        let audiences = Arc::new(self.store.audiences()?);
        let mut v = self
            .view
            .lock()
            .map_err(|_| ApiError::Internal("the view lock is poisoned".into()))?;
        *v = Some(View {
            generation,
            registry: registry.clone(),
            audiences: audiences.clone(),
        });
        Ok((registry, audiences))
    }

    /// Takes one request from the partner's token bucket.
    fn admit(&self, partner: &str) -> Result<(), ApiError> {
        let mut b = self
            .buckets
            .lock()
            .map_err(|_| ApiError::Internal("the rate table lock is poisoned".into()))?;
        let now = std::time::Instant::now();
        let (tokens, last) = b
            .entry(partner.to_string())
            .or_insert((self.config.burst, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * self.config.rate_per_second)
            .min(self.config.burst);
        *last = now;
        if *tokens < 1.0 {
            return Err(ApiError::TooManyRequests);
        }
        *tokens -= 1.0;
        Ok(())
    }

    /// Records the partner's contact in the store, at most once a minute
    /// per partner, so that the request path stays a read.
    fn contact(&self, partner: &str) -> Result<(), ApiError> {
        let due = {
            let mut seen = self
                .seen
                .lock()
                .map_err(|_| ApiError::Internal("the contact table lock is poisoned".into()))?;
            let now = std::time::Instant::now();
            match seen.get(partner) {
                Some(t) if now.duration_since(*t) < std::time::Duration::from_secs(60) => false,
                _ => {
                    seen.insert(partner.to_string(), now);
                    true
                }
            }
        };
        if due {
            let at = (self.clock)().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            self.store().partner_seen(partner, &at)?;
        }
        Ok(())
    }

    /// Records the first delivery of each warning among `objects` to the
    /// partner.
    fn delivered(
        &self,
        p: &Partner,
        c: &Collection,
        objects: &[StoredObject],
    ) -> Result<(), ApiError> {
        let Stored::Read(aud) = &c.stored else {
            return Ok(());
        };
        let now = (self.clock)();
        for o in objects.iter().filter(|o| o.object.object_type == "report") {
            if let Some(rec) = self.store().warning_for_report(&o.object.id, aud)? {
                let kind = EventKind::Delivered {
                    partner: p.name.clone(),
                };
                lifecycle_apply(
                    self.store(),
                    rec.id,
                    kind,
                    &format!("partner:{}", p.name),
                    now,
                )?;
            }
        }
        Ok(())
    }

    /// Applies acknowledgements, measures, feedback, judgements and
    /// decisions among posted objects to the warnings they refer to — only
    /// warnings released to the partner's audience; references to anything
    /// else change nothing. An acknowledgement or measures arriving after
    /// the warning was closed is recorded as late, and the partner told in
    /// the answer: `(object id, message)` for each such object.
    fn feedback(
        &self,
        p: &Partner,
        objects: &[NewObject],
    ) -> Result<Vec<(String, String)>, ApiError> {
        let now = (self.clock)();
        let actor = format!("partner:{}", p.name);
        let mut notices = Vec::new();
        // Only objects that carry a lifecycle property need reading.
        for o in objects.iter().filter(|o| o.json.contains("\"lifecycle\"")) {
            let Ok(v) = serde_json::from_str::<Value>(&o.json) else {
                continue;
            };
            let Some(event) = partner_event(&p.name, &v) else {
                continue;
            };
            for r in report_refs(&v) {
                let Some(rec) = self.store().warning_for_report(&r, &p.audience)? else {
                    continue;
                };
                let closed = tearline_lifecycle::apply::warning(&rec)
                    .map(|w| w.state(now))
                    .ok()
                    .filter(|s| !s.is_open());
                let (event, late) = match (event.clone(), closed) {
                    (
                        EventKind::Acknowledged { partner, text }
                        | EventKind::Measures { partner, text },
                        Some(state),
                    ) => {
                        let response = if matches!(event, EventKind::Acknowledged { .. }) {
                            "acknowledgement"
                        } else {
                            "measures"
                        };
                        let notice = format!(
                            "late: the sender had closed this warning ({state}) before your {response} arrived; it is recorded"
                        );
                        (
                            EventKind::Late {
                                partner,
                                response: response.into(),
                                text,
                            },
                            Some(notice),
                        )
                    }
                    (e, _) => (e, None),
                };
                lifecycle_apply(self.store(), rec.id, event, &actor, now)?;
                if let Some(n) = late {
                    notices.push((o.id.clone(), n));
                }
            }
        }
        Ok(notices)
    }

    /// Records "review due" for warnings — sent and received — whose
    /// review date has passed.
    pub fn tick(&self) -> Result<usize, ApiError> {
        let now = (self.clock)();
        let sent = tearline_lifecycle::apply::tick(self.store(), now)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let received = tearline_lifecycle::apply::tick_received(self.store(), now)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        Ok(sent + received)
    }
}

/// The lifecycle event a partner's posted object carries, if any: its
/// `lifecycle` (acknowledgement, measures, feedback, decision, judgement)
/// and what goes with it.
fn partner_event(partner: &str, v: &Value) -> Option<EventKind> {
    let ext = v.pointer(&format!(
        "/extensions/{}",
        tearline_stix::TEARLINE_EXTENSION
    ))?;
    let kind = ext.get("lifecycle").and_then(Value::as_str)?;
    let text = ["content", "explanation", "abstract"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
        .unwrap_or("")
        .to_string();
    let partner = partner.to_string();
    Some(match kind {
        "acknowledgement" => EventKind::Acknowledged { partner, text },
        "measures" => EventKind::Measures { partner, text },
        "feedback" => EventKind::Feedback { partner, text },
        "decision" => EventKind::Decided {
            partner,
            decision: ext
                .get("decision")
                .and_then(Value::as_str)?
                .chars()
                .take(200)
                .collect(),
            until: ext
                .get("until")
                .and_then(Value::as_str)
                .and_then(|u| DateTime::parse_from_rfc3339(u).ok())
                .map(|u| u.with_timezone(&Utc)),
            text,
        },
        "judgement" => EventKind::Judgement {
            partner,
            verdicts: serde_json::from_value::<Vec<tearline_lifecycle::Verdict>>(
                ext.get("judgement")?.clone(),
            )
            .ok()?
            .into_iter()
            .filter(|x| tearline_lifecycle::DIMENSIONS.contains(&x.dimension.as_str()))
            .collect(),
        },
        _ => return None,
    })
}

/// The report ids an object refers to.
fn report_refs(v: &Value) -> Vec<String> {
    v.get("object_refs")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .filter(|r| r.starts_with("report--"))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The id of the read collection of an audience.
pub fn read_collection_id(audience: &str) -> String {
    Stored::Read(audience.to_string()).id()
}

/// The id of a partner's inbox collection.
pub fn inbox_collection_id(partner: &str) -> String {
    Stored::Inbox(partner.to_string()).id()
}

/// The router: TAXII discovery at `/taxii2/`, one API root at `/api/`.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/taxii2/", get(discovery))
        .route("/api/", get(api_root))
        .route("/api/status/{status}/", get(status))
        .route("/api/collections/", get(collections))
        .route("/api/collections/{collection}/", get(collection))
        .route(
            "/api/collections/{collection}/objects/",
            get(get_objects).post(post_objects),
        )
        .route(
            "/api/collections/{collection}/objects/{object}/",
            get(get_object).delete(delete_object),
        )
        .route(
            "/api/collections/{collection}/objects/{object}/versions/",
            get(versions),
        )
        .route("/api/collections/{collection}/manifest/", get(manifest))
        .fallback(|| async { ApiError::NotFound })
        .with_state(state)
}

/// Serves the app on a bound listener until Ctrl-C.
pub async fn serve(listener: tokio::net::TcpListener, state: Arc<AppState>) -> std::io::Result<()> {
    serve_with(listener, state, Router::new()).await
}

/// Serves the app and `extra` routes (which must not overlap TAXII's) on
/// one listener until Ctrl-C.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    state: Arc<AppState>,
    extra: Router,
) -> std::io::Result<()> {
    run(listener, state, extra).await
}

/// Like [`serve_with`], over TLS: HTTPS with `config` (see
/// [`tls::server_config`]); each request carries the client certificate
/// its connection presented, if any.
pub async fn serve_tls_with(
    listener: tokio::net::TcpListener,
    config: Arc<rustls::ServerConfig>,
    state: Arc<AppState>,
    extra: Router,
) -> std::io::Result<()> {
    run(tls::TlsListener::new(listener, config), state, extra).await
}

/// Serves on any listener whose connections say who the peer is, until
/// Ctrl-C.
async fn run<L>(listener: L, state: Arc<AppState>, extra: Router) -> std::io::Result<()>
where
    L: axum::serve::Listener,
    L::Addr: std::fmt::Debug,
    tls::Peer: for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    review_ticker(&state);
    let service = app(state)
        .merge(extra)
        .into_make_service_with_connect_info::<tls::Peer>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}

/// Warnings whose window ends while the server runs become "review due"
/// within a minute, recorded in the audit log.
fn review_ticker(state: &Arc<AppState>) {
    let ticker = state.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(std::time::Duration::from_secs(60));
        loop {
            every.tick().await;
            let t = ticker.clone();
            match tokio::task::spawn_blocking(move || t.tick()).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::error!("review check failed: {e}"),
                Err(e) => tracing::error!("the review check stopped: {e}"),
            }
        }
    });
}

/// Applies a lifecycle event; a refused transition (e.g. on a closed
/// warning) is logged at the node, not an error for the partner.
fn lifecycle_apply(
    store: &dyn Store,
    id: i64,
    kind: EventKind,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    match tearline_lifecycle::apply::apply(store, id, kind, actor, now) {
        Ok(_) => Ok(()),
        Err(tearline_lifecycle::apply::ApplyError::Lifecycle(e)) => {
            tracing::warn!("warning {id}: {e}");
            Ok(())
        }
        Err(e) => Err(ApiError::Internal(e.to_string())),
    }
}

// ---- collections a partner sees -------------------------------------------

struct Collection {
    id: String,
    title: String,
    description: String,
    can_read: bool,
    can_write: bool,
    /// Where its objects are kept.
    stored: Stored,
}

fn collections_of(p: &Partner) -> [Collection; 2] {
    let read = Stored::Read(p.audience.clone());
    let inbox = Stored::Inbox(p.name.clone());
    [
        Collection {
            id: read.id(),
            title: format!("Releases to {}", p.audience),
            description: "Warnings and reports released to your audience".into(),
            can_read: true,
            can_write: false,
            stored: read,
        },
        Collection {
            id: inbox.id(),
            title: format!("Inbox of {}", p.name),
            description: "Your acknowledgements, measures taken and feedback".into(),
            can_read: true,
            can_write: true,
            stored: inbox,
        },
    ]
}

fn find_collection(p: &Partner, id: &str) -> Result<Collection, ApiError> {
    collections_of(p)
        .into_iter()
        .find(|c| c.id == id)
        .ok_or(ApiError::NotFound)
}

fn collection_json(c: &Collection) -> Value {
    json!({
        "id": c.id,
        "title": c.title,
        "description": c.description,
        "can_read": c.can_read,
        "can_write": c.can_write,
        "media_types": [STIX_MEDIA_TYPE],
    })
}

// ---- media types ---------------------------------------------------------

fn is_taxii(media: &str) -> bool {
    let m: String = media
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase();
    let mut parts = m.split(';');
    let base = parts.next().unwrap_or("");
    if base != "application/taxii+json" {
        return false;
    }
    parts.all(|p| match p.split_once('=') {
        Some(("version", v)) => v == "2.1",
        _ => true,
    })
}

fn check_accept(h: &HeaderMap) -> Result<(), ApiError> {
    let Some(v) = h.get(header::ACCEPT) else {
        return Ok(());
    };
    let v = v.to_str().map_err(|_| ApiError::NotAcceptable)?;
    let ok = v.split(',').any(|r| {
        let base = r.split(';').next().unwrap_or("").trim();
        is_taxii(r) || base == "*/*" || base == "application/*"
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::NotAcceptable)
    }
}

/// Checks `Accept` and credentials (with the client certificate of a
/// partner bound to one): the common start of every handler.
fn begin(s: &AppState, h: &Presented) -> Result<Partner, ApiError> {
    check_accept(&h.headers)?;
    let p = auth::authenticate(s.store(), h)?;
    s.admit(&p.name)?;
    s.contact(&p.name)?;
    Ok(p)
}

fn taxii(status: StatusCode, body: Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(TAXII_MEDIA_TYPE),
    );
    r
}

fn with_added_headers(mut r: Response, objects: &[StoredObject]) -> Response {
    if let (Some(first), Some(last)) = (objects.first(), objects.last()) {
        for (name, v) in [
            ("x-taxii-date-added-first", &first.date_added),
            ("x-taxii-date-added-last", &last.date_added),
        ] {
            if let Ok(v) = HeaderValue::from_str(v) {
                r.headers_mut().insert(name, v);
            }
        }
    }
    r
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

// ---- query filters -------------------------------------------------------

fn query(
    s: &AppState,
    collection: &str,
    params: &[(String, String)],
    default_versions: VersionMatch,
) -> Result<ObjectQuery, ApiError> {
    let mut q = ObjectQuery {
        added_after: None,
        ids: Vec::new(),
        types: Vec::new(),
        versions: default_versions,
        spec_versions: Vec::new(),
        after_seq: None,
        limit: s.config.page_size,
    };
    let list = |v: &str| {
        v.split(',')
            .map(|x| x.trim().to_string())
            .filter(|x| !x.is_empty())
            .collect::<Vec<_>>()
    };
    for (k, v) in params {
        match k.as_str() {
            "added_after" => {
                DateTime::parse_from_rfc3339(v).map_err(|_| {
                    ApiError::BadRequest(format!("added_after `{v}` is not an RFC 3339 timestamp"))
                })?;
                q.added_after = Some(v.clone());
            }
            "limit" => {
                let n: usize = v.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
                    ApiError::BadRequest(format!("limit `{v}` is not a positive whole number"))
                })?;
                q.limit = n.min(s.config.page_size);
            }
            "next" => {
                let n = open_next(&s.config.paging_key, collection, v).ok_or_else(|| {
                    ApiError::BadRequest(format!(
                        "next `{v}` is not a token this server issued for this collection"
                    ))
                })?;
                q.after_seq = Some(n);
            }
            "match[id]" => q.ids.extend(list(v)),
            "match[type]" => q.types.extend(list(v)),
            "match[spec_version]" => q.spec_versions.extend(list(v)),
            "match[version]" => {
                let vals = list(v);
                let keywords: Vec<&str> = vals
                    .iter()
                    .map(String::as_str)
                    .filter(|x| matches!(*x, "first" | "last" | "all"))
                    .collect();
                let stamps: Vec<String> = vals
                    .iter()
                    .filter(|x| !matches!(x.as_str(), "first" | "last" | "all"))
                    .cloned()
                    .collect();
                for t in &stamps {
                    DateTime::parse_from_rfc3339(t).map_err(|_| {
                        ApiError::BadRequest(format!(
                            "match[version] `{t}` is not first, last, all or a timestamp"
                        ))
                    })?;
                }
                q.versions = match (keywords.as_slice(), stamps.is_empty()) {
                    ([], false) => VersionMatch::Exact(stamps),
                    (["last"], true) => VersionMatch::Last,
                    (["first"], true) => VersionMatch::First,
                    _ => VersionMatch::All,
                };
            }
            _ => {}
        }
    }
    Ok(q)
}

/// Objects that may be sent. In a read collection, checked against the
/// node as it is now: an object marked above the audience's level (it may
/// have been lowered) is withheld, and so is one holding a registered term
/// when the audience may not see sources (the registry may have grown). A
/// read collection whose audience no longer exists sends nothing.
fn sendable(
    s: &AppState,
    c: &Collection,
    objects: Vec<StoredObject>,
) -> Result<Vec<StoredObject>, ApiError> {
    let Stored::Read(name) = &c.stored else {
        return Ok(objects);
    };
    let (registry, audiences) = s.view()?;
    let Some(audience) = audiences.iter().find(|a| a.name() == name) else {
        return Ok(Vec::new());
    };
    let scan = !audience.sees_sources() && !registry.terms().is_empty();
    Ok(objects
        .into_iter()
        .filter(|o| {
            let level = marked_level(&o.object.json);
            if level.is_some_and(|l| l > audience.max()) {
                tracing::warn!(
                    "withheld {} from collection {}: it is marked above {}",
                    o.object.id,
                    c.id,
                    audience.max()
                );
                return false;
            }
            if scan && !registry.find(&o.object.json).is_empty() {
                tracing::warn!(
                    "withheld {} from collection {}: it holds a registered term",
                    o.object.id,
                    c.id
                );
                return false;
            }
            true
        })
        .collect())
}

/// The highest TLP level among an object's `object_marking_refs`.
fn marked_level(json: &str) -> Option<Level> {
    if !json.contains("object_marking_refs") {
        return None;
    }
    let v: Value = serde_json::from_str(json).ok()?;
    v.get("object_marking_refs")?
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|r| {
            Level::ALL
                .into_iter()
                .find(|l| tearline_stix::tlp_marking_id(*l) == r)
        })
        .max()
}

fn parse_stored(o: &StoredObject) -> Result<Value, ApiError> {
    serde_json::from_str(&o.object.json)
        .map_err(|e| ApiError::Internal(format!("stored object {} is not JSON: {e}", o.object.id)))
}

fn page_body(
    s: &AppState,
    c: &Collection,
    more: bool,
    next: Option<i64>,
    key: &str,
    items: Vec<Value>,
) -> Value {
    let mut v = json!({ "more": more });
    if let (true, Some(n)) = (more, next) {
        v["next"] = json!(seal_next(&s.config.paging_key, &c.id, n));
    }
    if !items.is_empty() {
        v[key] = Value::Array(items);
    }
    v
}

// ---- handlers --------------------------------------------------------------

/// Runs a handler's store work on the blocking pool, so that a slow write
/// (another process holding the database) never stalls the server's
/// worker threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::Internal(format!("a request task failed: {e}")))?
}

async fn discovery(State(s): State<Arc<AppState>>, h: Presented) -> Result<Response, ApiError> {
    blocking(move || {
        begin(&s, &h)?;
        Ok(taxii(
            StatusCode::OK,
            json!({
                "title": s.config.title,
                "description": "Tearline threat-warning exchange",
                "default": "/api/",
                "api_roots": ["/api/"],
            }),
        ))
    })
    .await
}

async fn api_root(State(s): State<Arc<AppState>>, h: Presented) -> Result<Response, ApiError> {
    blocking(move || {
        begin(&s, &h)?;
        Ok(taxii(
            StatusCode::OK,
            json!({
                "title": s.config.title,
                "description": "Releases to partners, and partners' inboxes",
                "versions": [TAXII_MEDIA_TYPE],
                "max_content_length": s.config.max_content_length,
            }),
        ))
    })
    .await
}

async fn collections(State(s): State<Arc<AppState>>, h: Presented) -> Result<Response, ApiError> {
    blocking(move || {
        let p = begin(&s, &h)?;
        let list: Vec<Value> = collections_of(&p).iter().map(collection_json).collect();
        Ok(taxii(StatusCode::OK, json!({ "collections": list })))
    })
    .await
}

async fn collection(
    State(s): State<Arc<AppState>>,
    h: Presented,
    Path(cid): Path<String>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let p = begin(&s, &h)?;
        let c = find_collection(&p, &cid)?;
        Ok(taxii(StatusCode::OK, collection_json(&c)))
    })
    .await
}

fn readable(p: &Partner, cid: &str) -> Result<Collection, ApiError> {
    let c = find_collection(p, cid)?;
    if !c.can_read {
        return Err(ApiError::Forbidden("this collection cannot be read".into()));
    }
    Ok(c)
}

async fn get_objects(
    State(s): State<Arc<AppState>>,
    h: Presented,
    Path(cid): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let p = begin(&s, &h)?;
        let c = readable(&p, &cid)?;
        let q = query(&s, &c.id, &params, VersionMatch::Last)?;
        objects_envelope(&s, &p, &c, &q, false)
    })
    .await
}

async fn get_object(
    State(s): State<Arc<AppState>>,
    h: Presented,
    Path((cid, oid)): Path<(String, String)>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let p = begin(&s, &h)?;
        let c = readable(&p, &cid)?;
        let mut q = query(&s, &c.id, &params, VersionMatch::Last)?;
        q.ids = vec![oid];
        objects_envelope(&s, &p, &c, &q, true)
    })
    .await
}

/// An envelope of the objects matching `q`; with `one`, an empty result is
/// a 404 (the object does not exist, or is not released to the caller).
fn objects_envelope(
    s: &AppState,
    p: &Partner,
    c: &Collection,
    q: &ObjectQuery,
    one: bool,
) -> Result<Response, ApiError> {
    let page = s.store().objects(&c.stored, q)?;
    let next = page.objects.last().map(|o| o.seq);
    let objects = sendable(s, c, page.objects)?;
    if one && objects.is_empty() {
        return Err(ApiError::NotFound);
    }
    s.delivered(p, c, &objects)?;
    let items = objects
        .iter()
        .map(parse_stored)
        .collect::<Result<Vec<_>, _>>()?;
    let r = taxii(
        StatusCode::OK,
        page_body(s, c, page.more, next, "objects", items),
    );
    Ok(with_added_headers(r, &objects))
}

async fn versions(
    State(s): State<Arc<AppState>>,
    h: Presented,
    Path((cid, oid)): Path<(String, String)>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let p = begin(&s, &h)?;
        let c = readable(&p, &cid)?;
        let mut q = query(&s, &c.id, &params, VersionMatch::All)?;
        q.ids = vec![oid];
        q.versions = VersionMatch::All;
        let page = s.store().objects(&c.stored, &q)?;
        let next = page.objects.last().map(|o| o.seq);
        let objects = sendable(&s, &c, page.objects)?;
        if objects.is_empty() {
            return Err(ApiError::NotFound);
        }
        let items = objects.iter().map(|o| json!(o.object.version)).collect();
        let r = taxii(
            StatusCode::OK,
            page_body(&s, &c, page.more, next, "versions", items),
        );
        Ok(with_added_headers(r, &objects))
    })
    .await
}

async fn manifest(
    State(s): State<Arc<AppState>>,
    h: Presented,
    Path(cid): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let p = begin(&s, &h)?;
        let c = readable(&p, &cid)?;
        let q = query(&s, &c.id, &params, VersionMatch::Last)?;
        let page = s.store().objects(&c.stored, &q)?;
        let next = page.objects.last().map(|o| o.seq);
        let objects = sendable(&s, &c, page.objects)?;
        let items = objects
            .iter()
            .map(|o| json!({"id": o.object.id, "date_added": o.date_added, "version": o.object.version, "media_type": STIX_MEDIA_TYPE}))
            .collect();
        let r = taxii(StatusCode::OK, page_body(&s, &c, page.more, next, "objects", items));
        Ok(with_added_headers(r, &objects))
    })
    .await
}

async fn delete_object(
    State(s): State<Arc<AppState>>,
    h: Presented,
    Path((cid, oid)): Path<(String, String)>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let p = begin(&s, &h)?;
        let c = find_collection(&p, &cid)?;
        if !(c.can_read && c.can_write) {
            return Err(ApiError::Forbidden(
                "objects in this collection cannot be deleted".into(),
            ));
        }
        let versions = match query(&s, &c.id, &params, VersionMatch::All)?.versions {
            VersionMatch::Exact(v) => v,
            _ => Vec::new(),
        };
        let audit = NewAuditEntry {
            at: stamp((s.clock)()),
            actor: format!("partner:{}", p.name),
            action: "exchange.delete".into(),
            subject: oid.clone(),
            detail: json!({ "collection": c.id, "versions": versions }).to_string(),
        };
        let n = s.store().delete_object(&c.stored, &oid, &versions, audit)?;
        if n == 0 {
            return Err(ApiError::NotFound);
        }
        Ok(taxii(StatusCode::OK, json!({})))
    })
    .await
}

async fn status(
    State(s): State<Arc<AppState>>,
    h: Presented,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let p = begin(&s, &h)?;
        let st = s
            .store()
            .status(&id)?
            .filter(|st| st.owner == p.name)
            .ok_or(ApiError::NotFound)?;
        Ok(taxii(StatusCode::OK, status_json(&st)))
    })
    .await
}

fn status_json(st: &EnvelopeStatus) -> Value {
    let entries = |v: &[(String, String)], key: &str| -> Vec<Value> {
        v.iter()
            .map(|(id, x)| json!({ "id": id, key: x }))
            .collect()
    };
    let mut v = json!({
        "id": st.id,
        "status": "complete",
        "request_timestamp": st.request_timestamp,
        "total_count": st.successes.len() + st.failures.len(),
        "success_count": st.successes.len(),
        "failure_count": st.failures.len(),
        "pending_count": 0,
    });
    if !st.successes.is_empty() {
        v["successes"] = Value::Array(entries(&st.successes, "version"));
    }
    if !st.failures.is_empty() {
        v["failures"] = Value::Array(entries(&st.failures, "message"));
    }
    v
}

async fn post_objects(
    State(s): State<Arc<AppState>>,
    h: Presented,
    Path(cid): Path<String>,
    body: Body,
) -> Result<Response, ApiError> {
    let max = s.config.max_content_length;
    let st = s.clone();
    let (p, c, h) = blocking(move || {
        let p = begin(&st, &h)?;
        let c = find_collection(&p, &cid)?;
        if !c.can_write {
            return Err(ApiError::Forbidden(
                "this collection cannot be written to".into(),
            ));
        }
        Ok((p, c, h.headers))
    })
    .await?;
    let ct = h
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !is_taxii(ct) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let declared = h
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(ApiError::TooLarge(max));
    }
    let bytes = axum::body::to_bytes(body, max)
        .await
        .map_err(|_| ApiError::TooLarge(max))?;
    blocking(move || {
        let objects = parse_envelope(&bytes)?;
        let mut st = EnvelopeStatus {
            id: uuid::Uuid::new_v4().to_string(),
            owner: p.name.clone(),
            request_timestamp: stamp((s.clock)()),
            successes: Vec::new(),
            failures: Vec::new(),
        };
        s.store().add_objects(&c.stored, &objects, &mut st)?;
        let notices = s.feedback(&p, &objects)?;
        let mut body = status_json(&st);
        // Messages for the partner about its objects (a late response) ride
        // on their success entries.
        if let Some(list) = body.get_mut("successes").and_then(Value::as_array_mut) {
            for e in list.iter_mut() {
                if let Some((_, m)) = notices.iter().find(|(id, _)| e["id"] == id.as_str()) {
                    e["message"] = json!(m);
                }
            }
        }
        Ok(taxii(StatusCode::ACCEPTED, body))
    })
    .await
}

/// Parses a POSTed envelope (the request body) and checks its objects:
/// malformed JSON is a bad request, an invalid envelope or object is
/// unprocessable. Pure, so it can be fuzzed.
pub fn parse_envelope(bytes: &[u8]) -> Result<Vec<NewObject>, ApiError> {
    let envelope: Value = serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("the body is not JSON: {e}")))?;
    validate_envelope(&envelope)
}

/// Checks an envelope of STIX objects; any invalid object rejects the
/// whole envelope, so nothing of it is stored.
pub fn validate_envelope(envelope: &Value) -> Result<Vec<NewObject>, ApiError> {
    let list = envelope
        .get("objects")
        .and_then(Value::as_array)
        .ok_or_else(|| ApiError::Unprocessable("the envelope has no `objects` list".into()))?;
    let mut out = Vec::with_capacity(list.len());
    for (i, o) in list.iter().enumerate() {
        out.push(
            stix_object(o).map_err(|m| ApiError::Unprocessable(format!("objects[{i}]: {m}")))?,
        );
    }
    Ok(out)
}

/// One STIX 2.1 object, checked for what the store relies on.
pub fn stix_object(o: &Value) -> Result<NewObject, String> {
    let obj = o.as_object().ok_or("not a JSON object")?;
    let ty = obj.get("type").and_then(Value::as_str).ok_or("no `type`")?;
    let id_s = obj.get("id").and_then(Value::as_str).ok_or("no `id`")?;
    let id: StixId = id_s.parse().map_err(|e| format!("{e}"))?;
    if id.object_type() != ty {
        return Err(format!("`id` {id_s} does not match `type` {ty}"));
    }
    let spec = obj
        .get("spec_version")
        .and_then(Value::as_str)
        .ok_or("no `spec_version`")?;
    if spec != "2.1" {
        return Err(format!("`spec_version` {spec} is not 2.1"));
    }
    let version = obj
        .get("modified")
        .or_else(|| obj.get("created"))
        .and_then(Value::as_str)
        .ok_or("neither `modified` nor `created`")?;
    DateTime::parse_from_rfc3339(version)
        .map_err(|_| format!("`{version}` is not a STIX timestamp"))?;
    Ok(NewObject {
        id: id_s.to_string(),
        object_type: ty.to_string(),
        version: version.to_string(),
        spec_version: spec.to_string(),
        json: o.to_string(),
    })
}
