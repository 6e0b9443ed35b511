//! The TAXII 2.1 client: pulls what a remote node has released to us into
//! the store, and pushes our responses (acknowledgements, measures,
//! feedback) to our inbox at the remote.
//!
//! Pulling pages through each readable collection with `limit` and `next`,
//! starting after the remote's last `date_added` we stored
//! (`X-TAXII-Date-Added-Last`), and stores each page together with that
//! cursor, so a sync that is interrupted resumes where it stopped and a
//! repeated sync stores nothing twice. When the remote's public key is
//! known, every object must carry a valid signature; a page with an altered
//! object is refused and the object named.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use tearline_stix::VerifyingKey;
use tearline_store::{Collection, ObjectQuery, Store, StoreError, VersionMatch};

use crate::{stix_object, TAXII_MEDIA_TYPE};

/// How to authenticate at a remote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    /// HTTP Basic.
    Basic {
        /// User name.
        user: String,
        /// Password.
        password: String,
    },
    /// A bearer token.
    Bearer(String),
}

/// A remote TAXII 2.1 server.
#[derive(Debug, Clone)]
pub struct Remote {
    /// Our name for it.
    pub name: String,
    /// Its base URL (`http://host:port`) or discovery URL (`.../taxii2/`).
    pub url: String,
    /// Our credentials there.
    pub auth: Auth,
    /// Its public key, when it is a Tearline node whose releases we verify.
    pub key: Option<VerifyingKey>,
    /// The collections to pull; empty means every collection we may read
    /// but not write (a Tearline node's releases to us).
    pub collections: Vec<String>,
    /// TLS towards it (see [`crate::tls::client_config`]): its own CA, our
    /// client certificate. None: the public roots, no client certificate.
    pub tls: Option<Arc<rustls::ClientConfig>>,
}

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The remote answered with an error.
    #[error("{url}: HTTP {status}: {body}")]
    Http {
        /// The request URL.
        url: String,
        /// The status.
        status: u16,
        /// What it said.
        body: String,
    },
    /// The remote could not be reached.
    #[error("{url}: {message}")]
    Transport {
        /// The request URL.
        url: String,
        /// What went wrong.
        message: String,
    },
    /// The remote's answer is not what TAXII 2.1 promises.
    #[error("{url}: {message}")]
    Protocol {
        /// The request URL.
        url: String,
        /// What was wrong.
        message: String,
    },
    /// An object failed signature verification; nothing of its page was
    /// stored.
    #[error("refused a page from {url}: {source}")]
    Tampered {
        /// The request URL.
        url: String,
        /// Which object, and why.
        source: tearline_stix::SignatureError,
    },
    /// The local store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    /// Objects received (including ones already stored).
    pub pulled: usize,
    /// Pages fetched.
    pub pages: usize,
    /// Objects sent to our inbox at the remote.
    pub pushed: usize,
    /// The remote collections read.
    pub collections: Vec<String>,
    /// What the remote said about objects we sent: `(object id, message)`
    /// (for example that a response arrived after it closed the warning).
    pub notices: Vec<(String, String)>,
}

/// What went wrong on the way to a remote, with what to do about a
/// certificate that was not accepted, on either side.
fn transport_message(t: &ureq::Transport) -> String {
    match std::error::Error::source(t).and_then(rustls_error) {
        Some(rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer)) => {
            "the server's TLS certificate was not accepted (UnknownIssuer: no trusted CA issued it); if the remote's certificate is issued by its own CA, give that CA with `tearline remote add ... --ca FILE`".into()
        }
        Some(rustls::Error::InvalidCertificate(c)) => {
            format!("the server's TLS certificate was not accepted ({c:?})")
        }
        Some(rustls::Error::AlertReceived(a)) => format!(
            "the server ended the TLS handshake ({a:?}); it may want a client certificate that its CA issued (`tearline remote add ... --client-cert FILE --client-key FILE`)"
        ),
        Some(other) => format!("TLS failed: {other}"),
        None => t.to_string(),
    }
}

/// The rustls error behind an error, if any (an I/O error carries it
/// inside, not as its source).
fn rustls_error(e: &(dyn std::error::Error + 'static)) -> Option<rustls::Error> {
    if let Some(r) = e.downcast_ref::<rustls::Error>() {
        return Some(r.clone());
    }
    if let Some(inner) = e
        .downcast_ref::<std::io::Error>()
        .and_then(|io| io.get_ref())
    {
        return rustls_error(inner);
    }
    e.source().and_then(rustls_error)
}

/// The key of the pull cursor of one remote collection.
fn pull_cursor(remote: &str, collection: &str) -> String {
    format!("pull/{remote}/{collection}")
}

fn push_cursor(remote: &str) -> String {
    format!("push/{remote}")
}

struct Answer {
    body: Value,
    last_added: Option<String>,
}

impl Remote {
    fn agent(&self) -> ureq::Agent {
        let b = ureq::AgentBuilder::new().timeout(Duration::from_secs(60));
        match &self.tls {
            Some(c) => b.tls_config(c.clone()),
            None => b,
        }
        .build()
    }

    fn authorize(&self, r: ureq::Request) -> ureq::Request {
        let value = match &self.auth {
            Auth::Basic { user, password } => {
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
                )
            }
            Auth::Bearer(t) => format!("Bearer {t}"),
        };
        r.set("Accept", TAXII_MEDIA_TYPE)
            .set("Authorization", &value)
    }

    /// One request, retried while the remote answers 429.
    fn call(&self, method: &str, url: &str, body: Option<&Value>) -> Result<Answer, SyncError> {
        let agent = self.agent();
        for attempt in 0.. {
            let req = self.authorize(agent.request(method, url));
            let result = match body {
                Some(b) => req
                    .set("Content-Type", TAXII_MEDIA_TYPE)
                    .send_string(&b.to_string()),
                None => req.call(),
            };
            match result {
                Ok(resp) => {
                    let last_added = resp.header("X-TAXII-Date-Added-Last").map(str::to_string);
                    let text = resp.into_string().map_err(|e| SyncError::Transport {
                        url: url.to_string(),
                        message: e.to_string(),
                    })?;
                    let body = if text.trim().is_empty() {
                        json!({})
                    } else {
                        serde_json::from_str(&text).map_err(|e| SyncError::Protocol {
                            url: url.to_string(),
                            message: format!("the answer is not JSON: {e}"),
                        })?
                    };
                    return Ok(Answer { body, last_added });
                }
                Err(ureq::Error::Status(429, resp)) if attempt < 20 => {
                    let wait = resp
                        .header("Retry-After")
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1u64);
                    std::thread::sleep(Duration::from_secs(wait.min(10)));
                }
                Err(ureq::Error::Status(status, resp)) => {
                    let body = resp.into_string().unwrap_or_default();
                    return Err(SyncError::Http {
                        url: url.to_string(),
                        status,
                        body: body.chars().take(500).collect(),
                    });
                }
                Err(ureq::Error::Transport(t)) => {
                    return Err(SyncError::Transport {
                        url: url.to_string(),
                        message: transport_message(&t),
                    });
                }
            }
        }
        unreachable!("the retry loop returns")
    }

    fn discovery_url(&self) -> String {
        let u = self.url.trim_end_matches('/');
        if u.ends_with("/taxii2") {
            format!("{u}/")
        } else {
            format!("{u}/taxii2/")
        }
    }

    /// Resolves a URL from an answer against the server's origin.
    fn resolve(&self, base: &str, link: &str) -> String {
        if link.starts_with("http://") || link.starts_with("https://") {
            return link.to_string();
        }
        let origin_end = base
            .find("://")
            .map(|i| i + 3)
            .and_then(|i| base[i..].find('/').map(|j| i + j))
            .unwrap_or(base.len());
        if link.starts_with('/') {
            format!("{}{link}", &base[..origin_end])
        } else {
            format!("{}/{link}", base.trim_end_matches('/'))
        }
    }

    /// The API root: discovery's `default`, else its first `api_roots`.
    fn api_root(&self) -> Result<String, SyncError> {
        let url = self.discovery_url();
        let d = self.call("GET", &url, None)?.body;
        let root = d
            .get("default")
            .and_then(Value::as_str)
            .or_else(|| {
                d.get("api_roots")
                    .and_then(|r| r.get(0))
                    .and_then(Value::as_str)
            })
            .ok_or_else(|| SyncError::Protocol {
                url: url.clone(),
                message: "discovery names no API root".into(),
            })?;
        let mut r = self.resolve(&url, root);
        if !r.ends_with('/') {
            r.push('/');
        }
        Ok(r)
    }

    /// Pulls every readable collection, then pushes our outbox. `page` is
    /// the page size asked for.
    pub fn sync(
        &self,
        store: &dyn Store,
        now: DateTime<Utc>,
        page: usize,
    ) -> Result<SyncReport, SyncError> {
        let root = self.api_root()?;
        let url = format!("{root}collections/");
        let cols = self.call("GET", &url, None)?.body;
        let cols = cols
            .get("collections")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut report = SyncReport::default();
        let mut inbox = None;
        for c in &cols {
            let id = c
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            let can_read = c.get("can_read").and_then(Value::as_bool).unwrap_or(false);
            let can_write = c.get("can_write").and_then(Value::as_bool).unwrap_or(false);
            let chosen = if self.collections.is_empty() {
                can_read && !can_write
            } else {
                self.collections.contains(&id)
            };
            if can_write && !chosen && inbox.is_none() {
                inbox = Some(id.clone());
            }
            if chosen && can_read && !id.is_empty() {
                self.pull(store, &root, &id, now, page, &mut report)?;
                report.collections.push(id);
            }
        }
        if let Some(missing) = self
            .collections
            .iter()
            .find(|c| !report.collections.contains(c))
        {
            return Err(SyncError::Protocol {
                url,
                message: format!("no readable collection `{missing}` at the remote"),
            });
        }
        if let Some(inbox) = inbox {
            let (pushed, notices) = self.push(store, &root, &inbox, page)?;
            report.pushed = pushed;
            report.notices = notices;
        }
        Ok(report)
    }

    fn pull(
        &self,
        store: &dyn Store,
        root: &str,
        collection: &str,
        now: DateTime<Utc>,
        page: usize,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let key = pull_cursor(&self.name, collection);
        let at = now.to_rfc3339_opts(SecondsFormat::Micros, true);
        let since = store.cursor(&key)?;
        let mut next: Option<String> = None;
        loop {
            let mut url = format!("{root}collections/{collection}/objects/?limit={page}");
            if let Some(s) = &since {
                url.push_str(&format!("&added_after={}", encode(s)));
            }
            if let Some(n) = &next {
                url.push_str(&format!("&next={}", encode(n)));
            }
            let a = self.call("GET", &url, None)?;
            report.pages += 1;
            let objects = a
                .body
                .get("objects")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            let mut stored = Vec::with_capacity(objects.len());
            for o in &objects {
                if let Some(k) = &self.key {
                    tearline_stix::verify_object(o, k).map_err(|source| SyncError::Tampered {
                        url: url.clone(),
                        source,
                    })?;
                }
                stored.push(stix_object(o).map_err(|m| SyncError::Protocol {
                    url: url.clone(),
                    message: format!("invalid object: {m}"),
                })?);
            }
            report.pulled += stored.len();
            let more = a.body.get("more").and_then(Value::as_bool).unwrap_or(false);
            let token = a
                .body
                .get("next")
                .and_then(Value::as_str)
                .map(str::to_string);
            // Within one run, paging continues by `next`; the cursor moves
            // with each stored page so a later run resumes after it.
            store.add_pulled(&self.name, &stored, &at, &key, a.last_added.as_deref())?;
            match (more, token) {
                (true, Some(t)) => next = Some(t),
                _ => break,
            }
        }
        Ok(())
    }

    fn push(
        &self,
        store: &dyn Store,
        root: &str,
        inbox: &str,
        page: usize,
    ) -> Result<(usize, Vec<(String, String)>), SyncError> {
        let key = push_cursor(&self.name);
        let mut notices = Vec::new();
        let outbox = Collection::Outbox(self.name.clone());
        let mut pushed = 0;
        loop {
            let after = store.cursor(&key)?.and_then(|c| c.parse().ok());
            let q = ObjectQuery {
                added_after: None,
                ids: vec![],
                types: vec![],
                versions: VersionMatch::All,
                spec_versions: vec![],
                after_seq: after,
                limit: page,
            };
            let batch = store.objects(&outbox, &q)?;
            let Some(last) = batch.objects.last().map(|o| o.seq) else {
                break;
            };
            let objects: Vec<Value> = batch
                .objects
                .iter()
                .filter_map(|o| serde_json::from_str(&o.object.json).ok())
                .collect();
            let url = format!("{root}collections/{inbox}/objects/");
            let status = self
                .call("POST", &url, Some(&json!({ "objects": objects })))?
                .body;
            let failed = status
                .get("failure_count")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            if failed > 0 {
                return Err(SyncError::Protocol {
                    url,
                    message: format!("the remote refused {failed} of our objects: {status}"),
                });
            }
            pushed += objects.len();
            notices.extend(
                status
                    .get("successes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|e| {
                        let id = e.get("id")?.as_str()?;
                        let m = e.get("message")?.as_str()?;
                        Some((id.to_string(), m.chars().take(500).collect()))
                    }),
            );
            store.set_cursor(&key, &last.to_string())?;
            if !batch.more {
                break;
            }
        }
        Ok((pushed, notices))
    }
}

/// Percent-encodes a query value.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
