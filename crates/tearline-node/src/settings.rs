//! `tearline.toml`: the settings of the processes that run a node.
//!
//! The node itself — who it is, its audiences, registry, partners, remotes
//! and audit log — is in the store. The file holds how `tearline serve`
//! and the workbench behave. Older nodes kept `[node]` and `[[audience]]`
//! here; [`Legacy`] reads them once so that opening the node can move them
//! into the store.

use std::path::Path;

use serde::{Deserialize, Serialize};
use tearline_model::Audience;

use crate::error::{Error, Result};
use crate::files::atomic_write;

/// The settings file's name in a node directory.
pub const SETTINGS: &str = "tearline.toml";

/// Everything in `tearline.toml`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Settings {
    /// `[exchange]`: the TAXII server.
    #[serde(default)]
    pub exchange: ExchangeSettings,
    /// `[workbench]`: the web UI.
    #[serde(default)]
    pub workbench: WorkbenchSettings,
}

/// `[exchange]`: settings of `tearline serve`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct ExchangeSettings {
    /// The largest request body accepted, in bytes.
    pub max_content_length: usize,
    /// The most objects in one page.
    pub page_size: usize,
    /// Requests each partner may make per second, sustained.
    pub rate_per_second: f64,
    /// Requests a partner may make in a burst.
    pub burst: f64,
}

impl Default for ExchangeSettings {
    fn default() -> Self {
        let d = tearline_exchange::Config::default();
        ExchangeSettings {
            max_content_length: d.max_content_length,
            page_size: d.page_size,
            rate_per_second: d.rate_per_second,
            burst: d.burst,
        }
    }
}

/// `[workbench]`: settings of the web UI that `tearline serve` also serves,
/// and the two-person rule, which binds every front end.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkbenchSettings {
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

impl Default for WorkbenchSettings {
    fn default() -> Self {
        WorkbenchSettings {
            two_person_rule: false,
            secure_cookies: true,
            session_idle_minutes: 30,
            session_max_hours: 12,
        }
    }
}

/// What older nodes kept in the file and the store now holds.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Legacy {
    /// `[node]`: the organisation's name and when the node was created.
    pub node: Option<LegacyNode>,
    /// `[[audience]]`.
    #[serde(default, rename = "audience")]
    pub audiences: Vec<Audience>,
}

/// `[node]` of an older node.
#[derive(Debug, Clone, Deserialize)]
pub struct LegacyNode {
    /// The organisation's name.
    pub name: String,
    /// When the node was created.
    pub created: chrono::DateTime<chrono::Utc>,
}

impl Legacy {
    /// Whether the file still holds anything the store now keeps.
    pub fn is_empty(&self) -> bool {
        self.node.is_none() && self.audiences.is_empty()
    }
}

/// Reads and checks `tearline.toml` in `dir`, with what an older node kept
/// there.
pub fn read(dir: &Path) -> Result<(Settings, Legacy)> {
    let path = dir.join(SETTINGS);
    let name = path.display();
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::internal(format!("failed to read `{name}`"), e))?;
    let settings: Settings =
        toml::from_str(&text).map_err(|e| Error::bad(format!("{name}: {e}")))?;
    let legacy: Legacy = toml::from_str(&text).map_err(|e| Error::bad(format!("{name}: {e}")))?;
    check(&settings).map_err(|m| Error::bad(format!("{name}: {m}")))?;
    for a in &legacy.audiences {
        Audience::new(a.name(), a.max(), a.sees_sources())
            .map_err(|e| Error::bad(format!("{name}: {e}")))?;
    }
    Ok((settings, legacy))
}

/// Writes `tearline.toml` (atomically).
pub fn write(dir: &Path, settings: &Settings) -> Result<()> {
    let text = toml::to_string_pretty(settings)
        .map_err(|e| Error::internal("failed to serialise the settings", e))?;
    let header = "# Tearline node settings: how `tearline serve` and the workbench behave.\n# The node itself (name, audiences, registry, partners, remotes) is in its store.\n\n";
    atomic_write(&dir.join(SETTINGS), format!("{header}{text}").as_bytes())
}

fn check(s: &Settings) -> std::result::Result<(), &'static str> {
    let x = &s.exchange;
    if x.page_size == 0 || x.page_size > 10_000 {
        return Err("[exchange] page_size must be between 1 and 10000");
    }
    if x.max_content_length < 1024 {
        return Err("[exchange] max_content_length must be at least 1024 bytes");
    }
    if !(x.rate_per_second > 0.0 && x.burst >= 1.0) {
        return Err("[exchange] rate_per_second must be above 0 and burst at least 1");
    }
    let w = &s.workbench;
    if w.session_idle_minutes == 0 || w.session_max_hours == 0 {
        return Err("[workbench] session_idle_minutes and session_max_hours must be at least 1");
    }
    Ok(())
}
