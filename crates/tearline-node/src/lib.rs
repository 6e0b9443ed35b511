//! Tearline's service layer: a node and every operation on it.
//!
//! The command line and the workbench are front ends: they parse what the
//! user asked for, call one function here, and print or render the view
//! struct it returns. Everything else lives in this crate, once:
//!
//! - **the node**: creating and opening it ([`Node::init`], [`Node::open`]),
//!   its settings file, its signing key, its clock, and moving state that
//!   older nodes kept in files into the store;
//! - **policy**: every operation takes a [`Caller`] and checks its
//!   [`Role`] here; the two-person rule is enforced here, so it binds the
//!   command line as well as the workbench ([`requests`]);
//! - **operations**, one module each: the registry, audiences and the audit
//!   log ([`admin`]); assessing a report for every audience and issuing a
//!   release ([`reports`]); warnings ([`warnings`]); partners
//!   ([`partners`]); remotes, sync and responses ([`remotes`]); warnings
//!   received from partners and the receiver's acts ([`received`]); reading
//!   documents, ingest, cases and related material ([`reading`]); users,
//!   passwords, sessions and drafts ([`users`]);
//! - **errors**: one [`Error`] type whose [`Code`] gives both the exit code
//!   and the HTTP status.
//!
//! The crate prints nothing. Long operations report progress through a
//! callback; results are plain structs with public fields that both front
//! ends read.
//!
//! ```no_run
//! use tearline_node::{Caller, Node};
//! let dir = std::path::Path::new("demo");
//! let node = Node::open(dir, tearline_node::system_clock())?;
//! let me = Caller::operator("ana");
//! for w in node.warnings(&me)? {
//!     println!("{} {} {}", w.id, w.state, w.title);
//! }
//! # Ok::<(), tearline_node::Error>(())
//! ```
#![deny(missing_docs)]

pub mod admin;
mod error;
mod files;
pub mod notify;
pub mod partners;
mod policy;
pub mod reading;
pub mod received;
pub mod remotes;
pub mod reports;
pub mod requests;
mod settings;
pub mod users;
pub mod warnings;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use tearline_model::Audience;
use tearline_release::Registry;
use tearline_stix::SigningKey;
use tearline_store::{NewAuditEntry, NodeInfo, RemoteRecord, Store};
use tearline_store_sqlite::SqliteStore;

pub use error::{Code, Error, ErrorCode, Result};
pub use policy::{Caller, Role, INTERNAL};
pub use settings::{
    EmailSettings, ExchangeSettings, NotifySettings, Settings, TlsFiles, TlsFlags, WebhookSettings,
    WorkbenchSettings, DEFAULT_MAX_REPORT_BYTES, SETTINGS,
};

/// The database file in a node directory.
pub const DATABASE: &str = "tearline.db";
/// The signing key file in a node directory.
pub const KEY: &str = "node.key";
/// Where older nodes kept the audit head (moved into the store).
const LEGACY_HEAD: &str = "audit.head";
/// Where older nodes kept remotes (moved into the store).
const LEGACY_REMOTES: &str = "remotes.toml";
/// Where the head an older node kept in `audit.head` is kept in the store.
pub(crate) const LEGACY_HEAD_KEY: &str = "audit/legacy-head";

/// The node's clock.
pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    Arc::new(Utc::now)
}

/// A clock stopped at `t` (for reproducible output and tests).
pub fn fixed_clock(t: DateTime<Utc>) -> Clock {
    Arc::new(move || t)
}

/// A timestamp as the node records it: RFC 3339, UTC, milliseconds.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A node: its directory, settings, store, identity, key and clock. Shared
/// by every request of a server (it is `Send + Sync` and holds no lock
/// across an operation).
pub struct Node {
    dir: PathBuf,
    settings: Settings,
    store: Arc<dyn Store>,
    info: NodeInfo,
    key: SigningKey,
    clock: Clock,
    registry: Mutex<Option<(i64, Arc<Registry>)>>,
    sessions: users::Sessions,
}

impl Node {
    /// Whether `dir` already holds a node.
    pub fn exists(dir: &Path) -> bool {
        dir.join(SETTINGS).exists() || dir.join(DATABASE).exists()
    }

    /// Creates a node in `dir`, named `name` (published as the producer of
    /// its releases), with the default audiences and a new signing key.
    pub fn init(dir: &Path, name: &str, caller: &Caller, clock: Clock) -> Result<Node> {
        if Node::exists(dir) {
            return Err(Error::bad(format!(
                "`{}` already holds a Tearline store or settings",
                dir.display()
            )));
        }
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::internal(
                format!("failed to create node directory `{}`", dir.display()),
                e,
            )
        })?;
        settings::write(dir, &Settings::default())?;
        let store = open_store(dir)?;
        let info = NodeInfo {
            name: name.to_string(),
            created: stamp(clock()),
        };
        let audiences = Audience::defaults();
        let entry = audit_entry(
            &clock,
            caller.name(),
            "node.init",
            name,
            serde_json::json!({ "audiences": audiences }),
        );
        store.create_node(&info, &audiences, entry)?;
        Node::assemble(dir, Settings::default(), store, info, caller, clock)
    }

    /// Opens the node in `dir`, moving into the store anything an older
    /// node kept in files.
    pub fn open(dir: &Path, clock: Clock) -> Result<Node> {
        if !dir.join(SETTINGS).exists() {
            return Err(Error::bad(format!(
                "no Tearline node at `{}` (no {SETTINGS}): create one with `tearline init DIR`, or point to one with --node DIR or TEARLINE_HOME",
                dir.display()
            )));
        }
        let (settings, legacy) = settings::read(dir)?;
        let store = open_store(dir)?;
        let operator = Caller::operator("tearline");
        let info = migrate(dir, &*store, &settings, &legacy, &clock)?;
        let node = Node::assemble(dir, settings, store, info, &operator, clock)?;
        node.start_channels()?;
        Ok(node)
    }

    fn assemble(
        dir: &Path,
        settings: Settings,
        store: Arc<dyn Store>,
        info: NodeInfo,
        caller: &Caller,
        clock: Clock,
    ) -> Result<Node> {
        let key = signing_key(dir, &*store, caller, &clock)?;
        let w = &settings.workbench;
        let sessions = users::Sessions::new(
            std::time::Duration::from_secs(w.session_idle_minutes * 60),
            std::time::Duration::from_secs(w.session_max_hours * 3600),
        );
        Ok(Node {
            dir: dir.to_path_buf(),
            settings,
            store,
            info,
            key,
            clock,
            registry: Mutex::new(None),
            sessions,
        })
    }

    /// The node's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The settings from `tearline.toml`.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Who the node is.
    pub fn info(&self) -> &NodeInfo {
        &self.info
    }

    /// The store, for the exchange that `serve` runs beside the workbench.
    pub fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// The node's clock.
    pub fn clock(&self) -> Clock {
        self.clock.clone()
    }

    /// The time now, by the node's clock.
    pub fn now(&self) -> DateTime<Utc> {
        (self.clock)()
    }

    /// The node's public key, as `tearline key export` prints it.
    pub fn public_key(&self) -> String {
        tearline_stix::export_key(&self.key.verifying_key())
    }

    pub(crate) fn key(&self) -> &SigningKey {
        &self.key
    }

    /// The node's audiences, in the order they were added.
    pub fn audiences(&self) -> Result<Vec<Audience>> {
        Ok(self.store.audiences()?)
    }

    /// One audience by name (any case), or an error naming the known ones.
    pub fn audience(&self, name: &str) -> Result<Audience> {
        let lower = name.to_lowercase();
        let all = self.audiences()?;
        let known: Vec<&str> = all.iter().map(|a| a.name()).collect();
        let msg = format!(
            "unknown audience `{name}`: this node has {}",
            known.join(", ")
        );
        all.iter()
            .find(|a| a.name() == lower)
            .cloned()
            .ok_or_else(|| Error::bad(msg))
    }

    /// The protected-term registry as the store holds it now (compiled once
    /// per change). The cache's lock is held only to look and to store: the
    /// registry is read and compiled outside it, and callers (an
    /// assessment, a release) hold their own `Arc`, so no request waits on
    /// another's work.
    pub fn registry(&self) -> Result<Arc<Registry>> {
        let generation = self.store.generation()?;
        let poisoned = || Error::new(Code::Internal, "bug: the registry cache lock is poisoned");
        {
            let cache = self.registry.lock().map_err(|_| poisoned())?;
            if let Some((g, r)) = cache.as_ref() {
                if *g == generation {
                    return Ok(r.clone());
                }
            }
        }
        let terms = self.store.protected_terms()?;
        let r = Arc::new(Registry::new(terms.into_iter().map(|t| t.term).collect()));
        let mut cache = self.registry.lock().map_err(|_| poisoned())?;
        // Another request may have compiled a newer generation meanwhile.
        if cache.as_ref().is_none_or(|(g, _)| *g <= generation) {
            *cache = Some((generation, r.clone()));
        }
        Ok(r)
    }

    /// An audit entry by `caller`, now.
    pub(crate) fn entry(
        &self,
        caller: &Caller,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> NewAuditEntry {
        audit_entry(&self.clock, caller.name(), action, subject, detail)
    }
}

fn audit_entry(
    clock: &Clock,
    actor: &str,
    action: &str,
    subject: &str,
    detail: serde_json::Value,
) -> NewAuditEntry {
    NewAuditEntry {
        at: stamp(clock()),
        actor: actor.to_string(),
        action: action.to_string(),
        subject: subject.to_string(),
        detail: detail.to_string(),
    }
}

fn open_store(dir: &Path) -> Result<Arc<dyn Store>> {
    let store = SqliteStore::open(&dir.join(DATABASE)).map_err(|e| {
        Error::internal(
            format!("failed to open the store in `{}`", dir.display()),
            e,
        )
    })?;
    Ok(Arc::new(store))
}

/// The node's signing key, created (and the creation audited) the first
/// time it is needed.
fn signing_key(
    dir: &Path,
    store: &dyn Store,
    caller: &Caller,
    clock: &Clock,
) -> Result<SigningKey> {
    let path = dir.join(KEY);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| Error::internal(format!("failed to read `{}`", path.display()), e))?;
        let bytes = hex::decode(text.trim())
            .ok()
            .and_then(|b| <[u8; 32]>::try_from(b).ok());
        return match bytes {
            Some(b) => Ok(SigningKey::from_bytes(&b)),
            None => Err(Error::new(
                Code::Internal,
                format!(
                    "`{}` is not a key this node wrote (expected 64 hex digits)",
                    path.display()
                ),
            )),
        };
    }
    let mut seed = [0u8; 32];
    getrandom::getrandom(&mut seed)
        .map_err(|e| Error::new(Code::Internal, format!("failed to draw a random key: {e}")))?;
    let key = SigningKey::from_bytes(&seed);
    files::write_private(&path, hex::encode(seed).as_bytes())?;
    let public = tearline_stix::export_key(&key.verifying_key());
    store.audit(audit_entry(
        clock,
        caller.name(),
        "key.create",
        &tearline_stix::key_id(&key.verifying_key()),
        serde_json::json!({ "public_key": public }),
    ))?;
    Ok(key)
}

/// Moves what an older node kept in files into the store: the audit head
/// (`audit.head`), who it is and its audiences (`tearline.toml`) and its
/// remotes (`remotes.toml`). The head comes first, before anything is
/// appended to the log, so that a log cut short or rewritten before the
/// move is still detected by `tearline audit verify`. Each step is stored
/// before its file changes, and each is skipped when already done, so an
/// interrupted migration finishes at the next open. Returns who the node
/// is.
fn migrate(
    dir: &Path,
    store: &dyn Store,
    settings: &Settings,
    legacy: &settings::Legacy,
    clock: &Clock,
) -> Result<NodeInfo> {
    migrate_head(dir, store)?;
    let info = match store.node()? {
        Some(info) => info,
        None => {
            let Some(node) = &legacy.node else {
                return Err(Error::bad(format!(
                    "`{}` holds no node record: it was not created by `tearline init`",
                    dir.display()
                )));
            };
            let info = NodeInfo {
                name: node.name.clone(),
                created: stamp(node.created),
            };
            // Exactly what the file held: an older node whose operator
            // removed every audience has none.
            let audiences = legacy.audiences.clone();
            let entry = audit_entry(
                clock,
                "tearline",
                "node.migrate",
                &info.name,
                serde_json::json!({ "moved": ["node", "audiences"], "audiences": audiences }),
            );
            store.create_node(&info, &audiences, entry)?;
            info
        }
    };
    migrate_remotes(dir, store, clock)?;
    if !legacy.is_empty() {
        settings::write(dir, settings)?;
    }
    Ok(info)
}

#[derive(serde::Deserialize)]
struct LegacyRemotes {
    #[serde(default, rename = "remote")]
    remotes: Vec<LegacyRemote>,
}

#[derive(serde::Deserialize)]
struct LegacyRemote {
    name: String,
    url: String,
    user: Option<String>,
    password: Option<String>,
    token: Option<String>,
    key: Option<String>,
    #[serde(default)]
    collections: Vec<String>,
}

fn migrate_remotes(dir: &Path, store: &dyn Store, clock: &Clock) -> Result<()> {
    let path = dir.join(LEGACY_REMOTES);
    if !path.exists() {
        return Ok(());
    }
    let name = path.display();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::internal(format!("failed to read `{name}`"), e))?;
    let file: LegacyRemotes =
        toml::from_str(&text).map_err(|e| Error::bad(format!("{name}: {e}")))?;
    let known: Vec<String> = store.remotes()?.into_iter().map(|r| r.name).collect();
    for r in file
        .remotes
        .into_iter()
        .filter(|r| !known.contains(&r.name))
    {
        let rec = RemoteRecord {
            name: r.name.clone(),
            url: r.url.clone(),
            user: r.user,
            password: r.password,
            token: r.token,
            key: r.key,
            collections: r.collections,
            added_at: stamp(clock()),
            ca_pem: None,
            client_cert_pem: None,
            client_key_pem: None,
        };
        let entry = audit_entry(
            clock,
            "tearline",
            "remote.migrate",
            &r.name,
            serde_json::json!({ "url": r.url, "from": LEGACY_REMOTES }),
        );
        store.remote_add(&rec, entry)?;
    }
    std::fs::remove_file(&path)
        .map_err(|e| Error::internal(format!("failed to remove `{name}`"), e))
}

fn migrate_head(dir: &Path, store: &dyn Store) -> Result<()> {
    let path = dir.join(LEGACY_HEAD);
    if !path.exists() {
        return Ok(());
    }
    let name = path.display();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::internal(format!("failed to read `{name}`"), e))?;
    let mut it = text.split_whitespace();
    let (Some(seq), Some(hash)) = (it.next().and_then(|n| n.parse::<i64>().ok()), it.next()) else {
        return Err(Error::new(
            Code::Audit,
            format!("`{name}` is malformed: expected `SEQ HASH`"),
        ));
    };
    // Kept beside the log: `verify_audit` checks that the log still holds
    // this entry with this hash.
    store.set_cursor(LEGACY_HEAD_KEY, &format!("{seq} {hash}"))?;
    std::fs::remove_file(&path)
        .map_err(|e| Error::internal(format!("failed to remove `{name}`"), e))
}

#[cfg(test)]
mod tests;
