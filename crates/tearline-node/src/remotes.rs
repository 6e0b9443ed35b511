//! Remotes: TAXII servers this node reads releases from — pulling with
//! `sync`, answering with acknowledgements, measures and feedback, and
//! listing what was received.

use std::path::PathBuf;

use serde_json::json;
use tearline_exchange::tls::{self, Identity, Pem};
use tearline_exchange::{Auth, Remote, SyncError};
use tearline_model::{Audience, Level};
use tearline_store::{Collection, ObjectQuery, RemoteRecord, VersionMatch};

use crate::reading::{Doc, Ingested};
use crate::{stamp, Caller, Code, Error, Node, Result};

/// A remote to add.
#[derive(Debug, Clone, Default)]
pub struct RemoteInput {
    /// Our name for it.
    pub name: String,
    /// Its URL.
    pub url: String,
    /// HTTP Basic user name (with `password`).
    pub user: Option<String>,
    /// HTTP Basic password.
    pub password: Option<String>,
    /// A bearer token (instead of Basic).
    pub token: Option<String>,
    /// Its public key: pulled objects must carry valid signatures.
    pub key: Option<String>,
    /// Collections to pull (default: every collection we may read but not
    /// write).
    pub collections: Vec<String>,
    /// A CA (PEM file) its server certificate must chain to, instead of
    /// the public roots.
    pub ca: Option<PathBuf>,
    /// Our client certificate chain (PEM file), presented to it.
    pub client_cert: Option<PathBuf>,
    /// The private key (PEM file) of `client_cert`.
    pub client_key: Option<PathBuf>,
}

/// A remote as listed (never its secrets).
#[derive(Debug, Clone)]
pub struct RemoteView {
    /// Its name.
    pub name: String,
    /// Its URL.
    pub url: String,
    /// `basic` or `bearer`.
    pub auth: &'static str,
    /// Its public key, if objects are verified.
    pub key: Option<String>,
    /// The collections pulled (empty: every readable one).
    pub collections: Vec<String>,
    /// Its server certificate is checked against its own CA.
    pub own_ca: bool,
    /// We present a client certificate to it.
    pub client_cert: bool,
}

/// What a sync did.
#[derive(Debug, Clone)]
pub struct Synced {
    /// Objects received.
    pub pulled: usize,
    /// Pages fetched.
    pub pages: usize,
    /// Collections read.
    pub collections: usize,
    /// Responses sent.
    pub pushed: usize,
    /// Received reports read and linked into cases.
    pub linked: usize,
    /// Warnings received for the first time.
    pub new_warnings: usize,
    /// Changes by the sender to warnings already followed.
    pub changed: usize,
    /// What the sender said about our responses.
    pub notices: Vec<String>,
    /// Received reports that could not be linked, and why.
    pub not_linked: Vec<String>,
}

/// A report received from a remote.
#[derive(Debug, Clone)]
pub struct ReceivedReport {
    /// Its STIX id.
    pub id: String,
    /// Its title.
    pub name: String,
    /// When it was published.
    pub published: Option<String>,
    /// Its TLP marking, as the sender's extension gives it.
    pub marking: Option<String>,
    /// The end of its validity window, if it is a warning.
    pub valid_until: Option<String>,
    /// When this node received it.
    pub received: String,
}

fn remote_of(r: RemoteRecord) -> Result<Remote> {
    let name = r.name.clone();
    let auth = match (r.user, r.password, r.token) {
        (_, _, Some(t)) => Auth::Bearer(t),
        (Some(user), Some(password), None) => Auth::Basic { user, password },
        _ => return Err(Error::bad(format!("remote `{name}` has no credentials"))),
    };
    let key = r
        .key
        .as_deref()
        .map(tearline_stix::import_key)
        .transpose()
        .map_err(|m| Error::bad(format!("remote `{name}`: {m}")))?;
    let tls = remote_tls(&name, &r.ca_pem, &r.client_cert_pem, &r.client_key_pem)
        .map_err(|e| Error::bad(e.to_string()))?;
    Ok(Remote {
        name: r.name,
        url: r.url,
        auth,
        key,
        collections: r.collections,
        tls,
    })
}

/// The TLS client configuration of a remote with its own CA or our client
/// certificate (None: the defaults). Errors name the remote and the item.
fn remote_tls(
    name: &str,
    ca: &Option<String>,
    cert: &Option<String>,
    key: &Option<String>,
) -> std::result::Result<Option<std::sync::Arc<tls::ClientConfig>>, tls::TlsError> {
    if ca.is_none() && cert.is_none() {
        return Ok(None);
    }
    let ca_name = format!("remote `{name}`: its CA");
    let cert_name = format!("remote `{name}`: our client certificate");
    let key_name = format!("remote `{name}`: our client key");
    let identity = match (cert, key) {
        (Some(c), Some(k)) => Some(Identity {
            cert: Pem {
                name: &cert_name,
                text: c,
            },
            key: Pem {
                name: &key_name,
                text: k,
            },
        }),
        (None, None) => None,
        _ => {
            return Err(tls::TlsError {
                what: format!("remote `{name}`"),
                problem:
                    "has a client certificate without its key, or a key without its certificate"
                        .into(),
            })
        }
    };
    let ca = ca.as_deref().map(|text| Pem {
        name: &ca_name,
        text,
    });
    tls::client_config(ca, identity).map(Some)
}

/// Reads a PEM file given with `flag`; the error names both.
fn pem_file(flag: &str, path: &Option<PathBuf>) -> Result<Option<String>> {
    path.as_ref()
        .map(|p| tls::read_pem_file(p).map_err(|e| Error::bad(format!("{flag}: {e}"))))
        .transpose()
}

/// The id under which a report received from `remote` is stored as a
/// document.
pub fn received_document_id(remote: &str, report_id: &str) -> String {
    format!("received:{remote}:{report_id}")
}

fn text(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(str::to_string)
}

impl Node {
    fn remote_record(&self, name: &str) -> Result<RemoteRecord> {
        self.store
            .remotes()?
            .into_iter()
            .find(|r| r.name == name)
            .ok_or_else(|| {
                Error::bad(format!(
                    "no remote `{name}`: add one with `tearline remote add`"
                ))
            })
    }

    /// Adds a remote; its credentials are kept in the store.
    pub fn remote_add(&self, caller: &Caller, r: &RemoteInput) -> Result<()> {
        caller.may_configure()?;
        let name = Audience::new(&r.name, Level::Clear, false)
            .map_err(|e| Error::bad(e.to_string().replace("audience name", "remote name")))?
            .name()
            .to_string();
        if !(r.url.starts_with("http://") || r.url.starts_with("https://")) {
            return Err(Error::bad(format!(
                "remote URL `{}` must start with http:// or https://",
                r.url
            )));
        }
        match (&r.user, &r.password, &r.token) {
            (Some(_), Some(_), None) | (None, None, Some(_)) => {}
            _ => return Err(Error::bad("give either --user and --password, or --token")),
        }
        if let Some(k) = &r.key {
            tearline_stix::import_key(k).map_err(|m| Error::bad(format!("--key: {m}")))?;
        }
        if r.client_cert.is_some() != r.client_key.is_some() {
            return Err(Error::bad(
                "--client-cert and --client-key go together: give both or neither",
            ));
        }
        let uses_tls = r.ca.is_some() || r.client_cert.is_some();
        if uses_tls && !r.url.starts_with("https://") {
            return Err(Error::bad(format!(
                "--ca, --client-cert and --client-key are for an https:// URL, not `{}`",
                r.url
            )));
        }
        let ca_pem = pem_file("--ca", &r.ca)?;
        let client_cert_pem = pem_file("--client-cert", &r.client_cert)?;
        let client_key_pem = pem_file("--client-key", &r.client_key)?;
        // The files are checked now, named as given; the store keeps their
        // contents, so the node does not depend on them later.
        let named = |flag: &str, p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| format!("{flag} `{}`", p.display()))
                .unwrap_or_default()
        };
        let (ca_name, cert_name, key_name) = (
            named("--ca", &r.ca),
            named("--client-cert", &r.client_cert),
            named("--client-key", &r.client_key),
        );
        let identity = match (&client_cert_pem, &client_key_pem) {
            (Some(c), Some(k)) => Some(Identity {
                cert: Pem {
                    name: &cert_name,
                    text: c,
                },
                key: Pem {
                    name: &key_name,
                    text: k,
                },
            }),
            _ => None,
        };
        let ca = ca_pem.as_deref().map(|text| Pem {
            name: &ca_name,
            text,
        });
        if uses_tls {
            tls::client_config(ca, identity).map_err(|e| Error::bad(e.to_string()))?;
        }
        let rec = RemoteRecord {
            name: name.clone(),
            url: r.url.clone(),
            user: r.user.clone(),
            password: r.password.clone(),
            token: r.token.clone(),
            key: r.key.clone(),
            collections: r.collections.clone(),
            added_at: stamp(self.now()),
            ca_pem,
            client_cert_pem,
            client_key_pem,
        };
        let entry = self.entry(
            caller,
            "remote.add",
            &name,
            json!({
                "url": r.url,
                "verifies_signatures": r.key.is_some(),
                "own_ca": r.ca.is_some(),
                "client_cert": r.client_cert.is_some(),
            }),
        );
        self.store.remote_add(&rec, entry).map_err(|e| match e {
            tearline_store::StoreError::Conflict(m) => Error::bad(m),
            other => other.into(),
        })
    }

    /// Every remote, by name.
    pub fn remotes(&self, _caller: &Caller) -> Result<Vec<RemoteView>> {
        Ok(self
            .store
            .remotes()?
            .into_iter()
            .map(|r| RemoteView {
                auth: if r.token.is_some() { "bearer" } else { "basic" },
                own_ca: r.ca_pem.is_some(),
                client_cert: r.client_cert_pem.is_some(),
                name: r.name,
                url: r.url,
                key: r.key,
                collections: r.collections,
            })
            .collect())
    }

    /// Removes a remote.
    pub fn remote_remove(&self, caller: &Caller, name: &str) -> Result<()> {
        caller.may_configure()?;
        let entry = self.entry(caller, "remote.remove", name, json!({}));
        if !self.store.remote_remove(name, entry)? {
            return Err(Error::bad(format!("no remote `{name}`")));
        }
        Ok(())
    }

    /// Pulls a remote's releases to this node (signatures verified when its
    /// key is known), pushes our queued responses, and reads the received
    /// reports into cases.
    pub fn sync(&self, caller: &Caller, name: &str) -> Result<Synced> {
        let remote = remote_of(self.remote_record(name)?)?;
        let rep = match remote.sync(&*self.store, self.now(), 1000) {
            Ok(rep) => rep,
            Err(SyncError::Tampered { url, source }) => {
                return Err(Error::new(
                    Code::Signature,
                    format!("sync with `{name}` refused a page from {url}: {source}"),
                ))
            }
            Err(SyncError::Store(e)) => return Err(e.into()),
            Err(e) => {
                return Err(Error::new(
                    Code::Remote,
                    format!("sync with `{name}` failed: {e}"),
                ))
            }
        };
        self.store.audit(self.entry(
            caller,
            "remote.sync",
            name,
            json!({ "pulled": rep.pulled, "pushed": rep.pushed, "pages": rep.pages }),
        ))?;
        let followed = self.follow(name)?;
        self.notices(name, &rep.notices)?;
        let (linked, not_linked) = self.link_received(name)?;
        Ok(Synced {
            pulled: rep.pulled,
            pages: rep.pages,
            collections: rep.collections.len(),
            pushed: rep.pushed,
            linked,
            not_linked,
            new_warnings: followed.new,
            changed: followed.changed,
            notices: rep.notices.into_iter().map(|(_, m)| m).collect(),
        })
    }

    /// The latest version of every report received from `name`.
    fn received_objects(&self, name: &str) -> Result<Vec<tearline_store::StoredObject>> {
        let q = ObjectQuery {
            added_after: None,
            ids: vec![],
            types: vec!["report".into()],
            versions: VersionMatch::Last,
            spec_versions: vec![],
            after_seq: None,
            limit: 100_000,
        };
        Ok(self
            .store
            .objects(&Collection::Received(name.to_string()), &q)?
            .objects)
    }

    /// Reads every report received from `name` into the node's documents,
    /// so that a partner's warning is linked to the node's own reporting on
    /// the same threat. Unchanged reports are skipped.
    fn link_received(&self, name: &str) -> Result<(usize, Vec<String>)> {
        let at = stamp(self.now());
        let mut docs = Vec::new();
        for o in self.received_objects(name)? {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&o.object.json) else {
                continue;
            };
            let title = v["name"].as_str().unwrap_or("").to_string();
            let body = v["description"].as_str().unwrap_or("");
            if title.is_empty() && body.is_empty() {
                continue;
            }
            let ext = &v["extensions"][tearline_stix::TEARLINE_EXTENSION];
            let day = |x: &serde_json::Value| {
                x.as_str()
                    .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
                    .map(|t| t.with_timezone(&chrono::Utc).format("%Y-%m-%d").to_string())
            };
            docs.push(Doc {
                id: Some(received_document_id(name, &o.object.id)),
                source: format!("remote {name}: {}", o.object.id),
                url: None,
                published: text(&v["published"]).or_else(|| text(&v["created"])),
                lang: text(&v["lang"]),
                text: format!("{title}\n\n{body}"),
                title,
                window: day(&ext["valid_until"]).map(|u| (day(&ext["valid_from"]), u)),
                marking: Some(stix_level(&v)),
                groups: Vec::new(),
            });
        }
        let (mut stored, mut failed) = (0, Vec::new());
        for d in &docs {
            match crate::reading::ingest_one(&*self.store, d, &at, &format!("remote {name}")) {
                Ok(Ingested::Stored { .. }) => stored += 1,
                Ok(Ingested::Unchanged) => {}
                Err(e) => failed.push(format!("{}: {e}", d.source)),
            }
        }
        Ok((stored, failed))
    }

    /// Queues an acknowledgement, measures taken or feedback on a report
    /// received from `remote`; `sync` sends it. The response is checked
    /// against this node's registry and signed with its key. A report never
    /// received from `remote` is refused. For a received warning, the acts
    /// of `tearline received` record the receiver's lifecycle as well.
    pub fn respond(
        &self,
        caller: &Caller,
        remote: &str,
        report_id: &str,
        kind: &str,
        text: &str,
    ) -> Result<String> {
        self.remote_record(remote)?;
        if !matches!(kind, "acknowledgement" | "measures" | "feedback") {
            return Err(Error::bad(format!(
                "--kind `{kind}`: expected acknowledgement, measures or feedback"
            )));
        }
        let _: tearline_stix::StixId = report_id
            .parse()
            .ok()
            .filter(|id: &tearline_stix::StixId| id.object_type() == "report")
            .ok_or_else(|| Error::bad(format!("`{report_id}` is not a report id (report--...)")))?;
        if !self
            .received_objects(remote)?
            .iter()
            .any(|o| o.object.id == report_id)
        {
            return Err(Error::not_found(format!(
                "`{report_id}` was never received from `{remote}`: `tearline received reports {remote}` lists what was"
            )));
        }
        let obj = self.response(remote, report_id, kind, text, serde_json::Map::new())?;
        let id = obj.id.clone();
        let entry = self.entry(
            caller,
            "remote.respond",
            remote,
            json!({ "kind": kind, "report": report_id, "note": id }),
        );
        self.store
            .queue_responses(remote, &[obj], &stamp(self.now()), entry)?;
        Ok(id)
    }

    /// The reports received from `remote` (every report, warning or not).
    pub fn received_reports(&self, _caller: &Caller, remote: &str) -> Result<Vec<ReceivedReport>> {
        self.remote_record(remote)?;
        let mut rows = Vec::new();
        for o in self.received_objects(remote)? {
            let v: serde_json::Value = serde_json::from_str(&o.object.json).unwrap_or_default();
            let ext = &v["extensions"][tearline_stix::TEARLINE_EXTENSION];
            rows.push(ReceivedReport {
                id: o.object.id,
                name: v["name"].as_str().unwrap_or("").to_string(),
                published: text(&v["published"]),
                marking: text(&ext["marking"]),
                valid_until: text(&ext["valid_until"]),
                received: o.date_added,
            });
        }
        Ok(rows)
    }
}

/// The TLP level a received STIX object is marked with: the highest of its
/// TLP 2.0 marking references; TLP:RED when it has none (fail closed).
fn stix_level(o: &serde_json::Value) -> tearline_model::Level {
    o["object_marking_refs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r.as_str())
        .filter_map(|r| {
            tearline_model::Level::ALL
                .into_iter()
                .find(|&l| tearline_stix::tlp_marking_id(l) == r)
        })
        .max()
        .unwrap_or(tearline_model::Level::Red)
}
