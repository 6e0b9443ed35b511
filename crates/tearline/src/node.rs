//! A node on disk: its directory, config file, store and audit head.
//!
//! ```text
//! NODE/
//!   tearline.toml   the config: node name, audiences
//!   tearline.db     the SQLite store: registry, releases, audit log
//!   audit.head      the last audit entry's number and hash
//!   node.key        the node's Ed25519 signing key (hex; readable by its owner only)
//! ```

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use tearline_model::{Audience, Level};
use tearline_release::Registry;
use tearline_store::{NewAuditEntry, Store};
use tearline_store_sqlite::SqliteStore;

use crate::exit::{coded, BAD_INPUT};

pub const CONFIG: &str = "tearline.toml";
pub const DATABASE: &str = "tearline.db";
pub const HEAD: &str = "audit.head";
pub const KEY: &str = "node.key";

/// The config file.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    pub node: NodeConfig,
    #[serde(default)]
    pub exchange: ExchangeConfig,
    #[serde(default)]
    pub workbench: WorkbenchConfig,
    #[serde(default, rename = "audience")]
    pub audiences: Vec<Audience>,
}

/// `[exchange]`: settings of `tearline serve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ExchangeConfig {
    /// The largest request body accepted, in bytes.
    pub max_content_length: usize,
    /// The most objects in one page.
    pub page_size: usize,
    /// Requests each partner may make per second, sustained.
    pub rate_per_second: f64,
    /// Requests a partner may make in a burst.
    pub burst: f64,
}

impl Default for ExchangeConfig {
    fn default() -> Self {
        let d = tearline_exchange::Config::default();
        ExchangeConfig {
            max_content_length: d.max_content_length,
            page_size: d.page_size,
            rate_per_second: d.rate_per_second,
            burst: d.burst,
        }
    }
}

/// `[workbench]`: settings of the web UI that `tearline serve` also serves.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkbenchConfig {
    /// A release outside `internal` needs a second releaser's approval.
    pub two_person_rule: bool,
    /// Session cookies carry `Secure` (sent only over HTTPS, or to
    /// localhost). Turn off only behind a proxy that cannot do TLS.
    pub secure_cookies: bool,
    /// A session ends after this many minutes without a request.
    pub session_idle_minutes: u64,
    /// A session ends this many hours after sign-in, whatever happens.
    pub session_max_hours: u64,
}

impl Default for WorkbenchConfig {
    fn default() -> Self {
        WorkbenchConfig {
            two_person_rule: false,
            secure_cookies: true,
            session_idle_minutes: 30,
            session_max_hours: 12,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeConfig {
    /// The organisation's name, published as the STIX producer identity.
    pub name: String,
    /// When the node was created.
    pub created: DateTime<Utc>,
}

pub struct Node {
    pub dir: PathBuf,
    pub config: Config,
    pub store: Box<dyn Store + Send>,
    pub actor: String,
}

/// Where to look for the node: `--node`, else `TEARLINE_HOME`, else the
/// current directory.
pub fn locate(flag: Option<&Path>) -> PathBuf {
    if let Some(p) = flag {
        return p.to_path_buf();
    }
    match std::env::var_os("TEARLINE_HOME") {
        Some(h) if !h.is_empty() => PathBuf::from(h),
        _ => PathBuf::from("."),
    }
}

/// The actor recorded in the audit log: `TEARLINE_ACTOR`, else the login
/// name.
pub fn actor() -> String {
    ["TEARLINE_ACTOR", "USER", "USERNAME"]
        .iter()
        .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".to_string())
}

/// The current time; `TEARLINE_NOW` (RFC 3339) fixes it, for reproducible
/// output and tests.
pub fn now() -> Result<DateTime<Utc>> {
    match std::env::var("TEARLINE_NOW") {
        Ok(s) if !s.is_empty() => Ok(DateTime::parse_from_rfc3339(&s)
            .map_err(|e| {
                coded(
                    BAD_INPUT,
                    format!("TEARLINE_NOW `{s}` is not an RFC 3339 timestamp: {e}"),
                )
            })?
            .with_timezone(&Utc)),
        _ => Ok(Utc::now()),
    }
}

pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Node {
    /// Creates a node in `dir`.
    pub fn init(dir: &Path, name: &str) -> Result<Node> {
        let cfg_path = dir.join(CONFIG);
        if cfg_path.exists() || dir.join(DATABASE).exists() {
            bail!(coded(
                BAD_INPUT,
                format!(
                    "`{}` already holds a Tearline store or config",
                    dir.display()
                )
            ));
        }
        std::fs::create_dir_all(dir)
            .with_context(|| format!("failed to create node directory `{}`", dir.display()))?;
        let config = Config {
            node: NodeConfig {
                name: name.to_string(),
                created: now()?,
            },
            exchange: ExchangeConfig::default(),
            workbench: WorkbenchConfig::default(),
            audiences: Audience::defaults(),
        };
        write_config(dir, &config)?;
        let store = SqliteStore::open(&dir.join(DATABASE))
            .with_context(|| format!("failed to create the store in `{}`", dir.display()))?;
        let mut node = Node {
            dir: dir.to_path_buf(),
            config,
            store: Box::new(store),
            actor: actor(),
        };
        node.audit(
            "node.init",
            name,
            serde_json::json!({ "audiences": node.config.audiences }),
        )?;
        node.signing_key()?;
        Ok(node)
    }

    /// Opens the node in `dir`.
    pub fn open(dir: &Path) -> Result<Node> {
        let cfg_path = dir.join(CONFIG);
        if !cfg_path.exists() {
            bail!(coded(
                BAD_INPUT,
                format!(
                    "no Tearline node at `{}` (no {CONFIG}): create one with `tearline init DIR`, or point to one with --node DIR or TEARLINE_HOME",
                    dir.display()
                )
            ));
        }
        let text = std::fs::read_to_string(&cfg_path)
            .with_context(|| format!("failed to read `{}`", cfg_path.display()))?;
        let config: Config = toml::from_str(&text)
            .map_err(|e| coded(BAD_INPUT, format!("{}: {e}", cfg_path.display())))?;
        let x = &config.exchange;
        let bad = if x.page_size == 0 || x.page_size > 10_000 {
            Some("page_size must be between 1 and 10000")
        } else if x.max_content_length < 1024 {
            Some("max_content_length must be at least 1024 bytes")
        } else if !(x.rate_per_second > 0.0 && x.burst >= 1.0) {
            Some("rate_per_second must be above 0 and burst at least 1")
        } else {
            None
        };
        if let Some(m) = bad {
            bail!(coded(
                BAD_INPUT,
                format!("{}: [exchange] {m}", cfg_path.display())
            ));
        }
        let w = &config.workbench;
        if w.session_idle_minutes == 0 || w.session_max_hours == 0 {
            bail!(coded(
                BAD_INPUT,
                format!(
                    "{}: [workbench] session_idle_minutes and session_max_hours must be at least 1",
                    cfg_path.display()
                )
            ));
        }
        for a in &config.audiences {
            Audience::new(a.name(), a.max(), a.sees_sources())
                .map_err(|e| coded(BAD_INPUT, format!("{}: {e}", cfg_path.display())))?;
        }
        let store = SqliteStore::open(&dir.join(DATABASE))
            .with_context(|| format!("failed to open the store in `{}`", dir.display()))?;
        Ok(Node {
            dir: dir.to_path_buf(),
            config,
            store: Box::new(store),
            actor: actor(),
        })
    }

    /// The node's signing key, created (and the creation audited) the
    /// first time it is needed.
    pub fn signing_key(&mut self) -> Result<tearline_stix::SigningKey> {
        let path = self.dir.join(KEY);
        if path.exists() {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("failed to read `{}`", path.display()))?;
            let bytes = hex::decode(text.trim())
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok());
            let Some(bytes) = bytes else {
                bail!(
                    "`{}` is not a key this node wrote (expected 64 hex digits)",
                    path.display()
                );
            };
            return Ok(tearline_stix::SigningKey::from_bytes(&bytes));
        }
        let mut seed = [0u8; 32];
        getrandom::getrandom(&mut seed)
            .map_err(|e| anyhow::anyhow!("failed to draw a random key: {e}"))?;
        let key = tearline_stix::SigningKey::from_bytes(&seed);
        write_private(&path, hex::encode(seed).as_bytes())?;
        let public = tearline_stix::export_key(&key.verifying_key());
        self.audit(
            "key.create",
            &tearline_stix::key_id(&key.verifying_key()),
            serde_json::json!({ "public_key": public }),
        )?;
        Ok(key)
    }

    pub fn audience(&self, name: &str) -> Result<&Audience> {
        let lower = name.to_lowercase();
        self.config
            .audiences
            .iter()
            .find(|a| a.name() == lower)
            .ok_or_else(|| {
                let known: Vec<&str> = self.config.audiences.iter().map(|a| a.name()).collect();
                coded(
                    BAD_INPUT,
                    format!(
                        "unknown audience `{name}`: this node has {}",
                        known.join(", ")
                    ),
                )
            })
    }

    pub fn registry(&self) -> Result<Registry> {
        let terms = self
            .store
            .protected_terms()
            .context("failed to read the protected-term registry")?;
        Ok(Registry::new(terms.into_iter().map(|t| t.term).collect()))
    }

    /// Saves the config (atomically) and records the change.
    pub fn save_config(
        &mut self,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<()> {
        write_config(&self.dir, &self.config)?;
        self.audit(action, subject, detail)
    }

    pub fn audit(&mut self, action: &str, subject: &str, detail: serde_json::Value) -> Result<()> {
        let e = self.entry(action, subject, detail)?;
        self.store
            .audit(e)
            .context("failed to write the audit log")?;
        self.write_head()
    }

    pub fn entry(
        &self,
        action: &str,
        subject: &str,
        detail: serde_json::Value,
    ) -> Result<NewAuditEntry> {
        Ok(NewAuditEntry {
            at: stamp(now()?),
            actor: self.actor.clone(),
            action: action.to_string(),
            subject: subject.to_string(),
            detail: detail.to_string(),
        })
    }

    /// Records the last audit entry outside the database, so that a log
    /// cut short is detected.
    pub fn write_head(&self) -> Result<()> {
        let log = self
            .store
            .audit_log()
            .context("failed to read the audit log")?;
        if let Some(last) = log.last() {
            atomic_write(
                &self.dir.join(HEAD),
                format!("{} {}\n", last.seq, last.hash).as_bytes(),
            )?;
        }
        Ok(())
    }

    pub fn read_head(&self) -> Result<Option<(i64, String)>> {
        let p = self.dir.join(HEAD);
        if !p.exists() {
            return Ok(None);
        }
        let s = std::fs::read_to_string(&p)
            .with_context(|| format!("failed to read `{}`", p.display()))?;
        let mut it = s.split_whitespace();
        match (it.next().and_then(|n| n.parse().ok()), it.next()) {
            (Some(seq), Some(h)) => Ok(Some((seq, h.to_string()))),
            _ => bail!("`{}` is malformed: expected `SEQ HASH`", p.display()),
        }
    }
}

fn write_config(dir: &Path, config: &Config) -> Result<()> {
    let text = toml::to_string_pretty(config).context("failed to serialise the config")?;
    let header = "# Tearline node configuration.\n# Audiences: name, highest TLP level (max), whether they may see sources.\n\n";
    atomic_write(&dir.join(CONFIG), format!("{header}{text}").as_bytes())
}

/// Writes a file so that it is either wholly replaced or left as it was.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    use std::io::Write;
    tmp.write_all(bytes)
        .and_then(|_| tmp.as_file().sync_all())
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("failed to write `{}`", path.display()))?;
    Ok(())
}

/// Writes a secret file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .with_context(|| format!("failed to create `{}`", path.display()))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .with_context(|| format!("failed to write `{}`", path.display()))
}

pub fn parse_level(s: &str) -> Result<Level> {
    s.parse::<Level>()
        .map_err(|e| coded(BAD_INPUT, e.to_string()))
}
