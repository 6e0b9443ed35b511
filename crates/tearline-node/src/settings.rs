//! `tearline.toml`: the settings of the processes that run a node.
//!
//! The node itself — who it is, its audiences, registry, partners, remotes
//! and audit log — is in the store. The file holds how `tearline serve`
//! and the workbench behave. Older nodes kept `[node]` and `[[audience]]`
//! here; [`Legacy`] reads them once so that opening the node can move them
//! into the store.

use std::path::{Path, PathBuf};

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
    /// `[notify]`: webhooks and email about warnings.
    #[serde(default)]
    pub notify: NotifySettings,
    /// `[misp]`: how releases are written as MISP events.
    #[serde(default)]
    pub misp: MispSettings,
}

/// `[misp]`: how `release --format misp` writes an event.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MispSettings {
    /// How a release to a partner audience — neither the public (TLP:CLEAR
    /// only, always "all communities") nor the node's own staff (may see
    /// sources, always "your organisation only") — is distributed.
    pub distribution: MispDistribution,
}

/// `[misp] distribution`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MispDistribution {
    /// A sharing group named after the audience (MISP distribution 4).
    #[default]
    SharingGroup,
    /// This community only (1).
    Community,
    /// The receiving organisation only (0).
    Organisation,
}

impl From<MispDistribution> for tearline_misp::Restricted {
    fn from(d: MispDistribution) -> Self {
        match d {
            MispDistribution::SharingGroup => tearline_misp::Restricted::SharingGroup,
            MispDistribution::Community => tearline_misp::Restricted::Community,
            MispDistribution::Organisation => tearline_misp::Restricted::Organisation,
        }
    }
}

/// `[notify]`: who is told when a warning arrives, its window is about to
/// end, its review falls due, a partner judges it, or its sender changes
/// it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NotifySettings {
    /// Remind this many hours before a window ends (0: no reminder).
    pub window_ending_hours: u64,
    /// Webhooks: a JSON POST signed with HMAC-SHA256.
    #[serde(rename = "webhook", skip_serializing_if = "Vec::is_empty")]
    pub webhooks: Vec<WebhookSettings>,
    /// Email over SMTP.
    #[serde(rename = "email", skip_serializing_if = "Vec::is_empty")]
    pub emails: Vec<EmailSettings>,
}

impl Default for NotifySettings {
    fn default() -> Self {
        NotifySettings {
            window_ending_hours: 6,
            webhooks: Vec::new(),
            emails: Vec::new(),
        }
    }
}

/// `[[notify.webhook]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// The URL POSTed to.
    pub url: String,
    /// The key of the `X-Tearline-Signature` HMAC-SHA256 over the body.
    pub secret: String,
    /// Only these events (default: all): received, window-ending,
    /// review-due, judgement, sender-change, late.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
}

/// `[[notify.email]]`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    /// The SMTP server, `host:port`.
    pub smtp: String,
    /// The sender address.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
    /// SMTP user name, if the server asks for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// SMTP password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// Only these events (default: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
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
    /// The server's certificate chain (PEM); with `tls_key`, `serve`
    /// speaks HTTPS. A relative path is relative to the node directory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `tls_cert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// A CA (PEM): `serve` asks clients for a certificate and verifies it
    /// against this CA. Partners bound to a certificate need it; others
    /// may still come without one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_ca: Option<PathBuf>,
}

impl Default for ExchangeSettings {
    fn default() -> Self {
        let d = tearline_exchange::Config::default();
        ExchangeSettings {
            max_content_length: d.max_content_length,
            page_size: d.page_size,
            rate_per_second: d.rate_per_second,
            burst: d.burst,
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
        }
    }
}

/// The TLS files `serve` uses, each checked readable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM).
    pub key: PathBuf,
    /// The CA of client certificates (PEM), if client certificates are
    /// asked for.
    pub client_ca: Option<PathBuf>,
}

/// TLS files given on the command line, which take the place of the
/// settings' (relative paths are relative to the current directory).
#[derive(Debug, Clone, Default)]
pub struct TlsFlags {
    /// `--tls-cert`.
    pub cert: Option<PathBuf>,
    /// `--tls-key`.
    pub key: Option<PathBuf>,
    /// `--tls-client-ca`.
    pub client_ca: Option<PathBuf>,
}

impl ExchangeSettings {
    /// The TLS files of `serve`: each flag given takes the place of its
    /// setting; settings' relative paths are resolved against the node
    /// directory `dir`. None: plain HTTP. An error names the flag or
    /// setting and the file: a certificate without its key (or the other
    /// way round), a client CA without a certificate, a file that cannot
    /// be read.
    pub fn tls_files(&self, dir: &Path, flags: &TlsFlags) -> Result<Option<TlsFiles>> {
        let pick = |flag: &Option<PathBuf>,
                    name: &'static str,
                    setting: &Option<PathBuf>,
                    key: &'static str| {
            match (flag, setting) {
                (Some(f), _) => Some((f.clone(), name.to_string())),
                (None, Some(s)) => Some((dir.join(s), format!("[exchange] {key}"))),
                (None, None) => None,
            }
        };
        let (cert, key) = match (&flags.cert, &flags.key) {
            (Some(_), None) => return Err(Error::bad("--tls-cert needs --tls-key")),
            (None, Some(_)) => return Err(Error::bad("--tls-key needs --tls-cert")),
            (Some(_), Some(_)) => (
                pick(&flags.cert, "--tls-cert", &None, "tls_cert"),
                pick(&flags.key, "--tls-key", &None, "tls_key"),
            ),
            (None, None) => (
                pick(&None, "--tls-cert", &self.tls_cert, "tls_cert"),
                pick(&None, "--tls-key", &self.tls_key, "tls_key"),
            ),
        };
        let client_ca = pick(
            &flags.client_ca,
            "--tls-client-ca",
            &self.tls_client_ca,
            "tls_client_ca",
        );
        let (cert, key) = match (cert, key) {
            (Some(c), Some(k)) => (c, k),
            (None, None) => {
                return match client_ca {
                    Some((_, from)) => Err(Error::bad(format!(
                        "{from} needs a server certificate and key (--tls-cert and --tls-key, or [exchange] tls_cert and tls_key)"
                    ))),
                    None => Ok(None),
                }
            }
            // `check` refuses a settings file with one of the two.
            _ => {
                return Err(Error::bad(
                    "[exchange] tls_cert and tls_key go together: give both or neither",
                ))
            }
        };
        for (path, from) in [Some(&cert), Some(&key), client_ca.as_ref()]
            .into_iter()
            .flatten()
        {
            readable(path).map_err(|m| Error::bad(format!("{from} `{}`: {m}", path.display())))?;
        }
        Ok(Some(TlsFiles {
            cert: cert.0,
            key: key.0,
            client_ca: client_ca.map(|c| c.0),
        }))
    }
}

/// Whether a file can be read: an error says why not.
fn readable(path: &Path) -> std::result::Result<(), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read: {e}"))?;
    if !meta.is_file() {
        return Err("is not a file".into());
    }
    std::fs::File::open(path)
        .map(|_| ())
        .map_err(|e| format!("cannot read: {e}"))
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
    /// Host names (or addresses) the workbench answers to besides
    /// loopback (`localhost`, `127.0.0.1`, `[::1]`); a request naming any
    /// other host is refused, so that a page on another site cannot reach
    /// the workbench through a name it controls (DNS rebinding).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub allowed_hosts: Vec<String>,
    /// The largest report the workbench previews or saves as a draft, in
    /// bytes (default 1 MiB); a larger one is refused with 413.
    pub max_report_bytes: usize,
}

/// The default of `[workbench] max_report_bytes`: 1 MiB.
pub const DEFAULT_MAX_REPORT_BYTES: usize = 1024 * 1024;

impl Default for WorkbenchSettings {
    fn default() -> Self {
        WorkbenchSettings {
            two_person_rule: false,
            secure_cookies: true,
            session_idle_minutes: 30,
            session_max_hours: 12,
            allowed_hosts: Vec::new(),
            max_report_bytes: DEFAULT_MAX_REPORT_BYTES,
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

fn check(s: &Settings) -> std::result::Result<(), String> {
    let x = &s.exchange;
    if x.page_size == 0 || x.page_size > 10_000 {
        return Err("[exchange] page_size must be between 1 and 10000".into());
    }
    if x.max_content_length < 1024 {
        return Err("[exchange] max_content_length must be at least 1024 bytes".into());
    }
    if !(x.rate_per_second > 0.0 && x.burst >= 1.0) {
        return Err("[exchange] rate_per_second must be above 0 and burst at least 1".into());
    }
    if x.tls_cert.is_some() != x.tls_key.is_some() {
        return Err("[exchange] tls_cert and tls_key go together: give both or neither".into());
    }
    if x.tls_client_ca.is_some() && x.tls_cert.is_none() {
        return Err("[exchange] tls_client_ca needs tls_cert and tls_key".into());
    }
    let w = &s.workbench;
    if w.session_idle_minutes == 0 || w.session_max_hours == 0 {
        return Err(
            "[workbench] session_idle_minutes and session_max_hours must be at least 1".into(),
        );
    }
    if w.max_report_bytes < 1024 || w.max_report_bytes > tearline_model::MAX_REPORT_BYTES {
        return Err(format!(
            "[workbench] max_report_bytes must be between 1024 and {} (10 MiB, the largest report Tearline reads)",
            tearline_model::MAX_REPORT_BYTES
        ));
    }
    let unknown = |table: &str, events: &[String]| match events
        .iter()
        .find(|e| !crate::notify::EVENTS.contains(&e.as_str()))
    {
        Some(e) => Err(format!(
            "{table} events: unknown event `{e}`; expected {}",
            crate::notify::EVENTS.join(", ")
        )),
        None => Ok(()),
    };
    for h in &s.notify.webhooks {
        if !(h.url.starts_with("http://") || h.url.starts_with("https://")) {
            return Err("[[notify.webhook]] url must start with http:// or https://".into());
        }
        if h.secret.len() < 16 {
            return Err("[[notify.webhook]] secret must be at least 16 characters".into());
        }
        unknown("[[notify.webhook]]", &h.events)?;
    }
    for e in &s.notify.emails {
        if e.smtp
            .rsplit_once(':')
            .and_then(|(_, p)| p.parse::<u16>().ok())
            .is_none()
        {
            return Err("[[notify.email]] smtp must be host:port".into());
        }
        if e.to.is_empty() || !e.from.contains('@') || e.to.iter().any(|t| !t.contains('@')) {
            return Err("[[notify.email]] needs a from address and at least one to address".into());
        }
        unknown("[[notify.email]]", &e.events)?;
    }
    Ok(())
}

#[cfg(test)]
mod misp_tests {
    use super::*;

    #[test]
    fn misp_distribution_is_read_and_an_unknown_value_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS);
        std::fs::write(&path, "").unwrap();
        let (s, _) = read(dir.path()).unwrap();
        assert_eq!(s.misp.distribution, MispDistribution::SharingGroup);
        std::fs::write(&path, "[misp]\ndistribution = \"community\"\n").unwrap();
        let (s, _) = read(dir.path()).unwrap();
        assert_eq!(s.misp.distribution, MispDistribution::Community);
        std::fs::write(&path, "[misp]\ndistribution = \"everyone\"\n").unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("unknown variant `everyone`")
                && e.contains("`sharing-group`, `community`, `organisation`"),
            "{e}"
        );
        std::fs::write(&path, "[misp]\ndistrib = \"community\"\n").unwrap();
        let e = read(dir.path()).unwrap_err().to_string();
        assert!(e.contains("unknown field `distrib`"), "{e}");
    }
}

#[cfg(test)]
mod tls_tests {
    use super::*;

    fn files(dir: &Path, names: &[&str]) {
        for n in names {
            std::fs::create_dir_all(dir.join(n).parent().unwrap()).unwrap();
            std::fs::write(dir.join(n), "pem").unwrap();
        }
    }

    #[test]
    fn tls_files_come_from_flags_over_settings_resolved_against_the_node() {
        let dir = tempfile::tempdir().unwrap();
        let node = dir.path();
        files(node, &["tls/c.pem", "tls/k.pem", "tls/ca.pem", "flag.pem"]);
        let x = ExchangeSettings {
            tls_cert: Some("tls/c.pem".into()),
            tls_key: Some("tls/k.pem".into()),
            tls_client_ca: Some("tls/ca.pem".into()),
            ..ExchangeSettings::default()
        };
        let none = TlsFlags::default();
        assert_eq!(
            x.tls_files(node, &none).unwrap(),
            Some(TlsFiles {
                cert: node.join("tls/c.pem"),
                key: node.join("tls/k.pem"),
                client_ca: Some(node.join("tls/ca.pem")),
            })
        );
        // A flag takes the place of its setting only.
        let flag = node.join("flag.pem");
        let ca = TlsFlags {
            client_ca: Some(flag.clone()),
            ..TlsFlags::default()
        };
        assert_eq!(
            x.tls_files(node, &ca).unwrap().unwrap().client_ca,
            Some(flag.clone())
        );
        // No TLS at all, and a client CA with no certificate.
        let plain = ExchangeSettings::default();
        assert_eq!(plain.tls_files(node, &none).unwrap(), None);
        let e = plain.tls_files(node, &ca).unwrap_err();
        assert!(e.to_string().contains("--tls-client-ca needs"), "{e}");
        // A file that is not there is named with its setting and path.
        let gone = ExchangeSettings {
            tls_key: Some("tls/gone.pem".into()),
            ..x.clone()
        };
        let e = gone.tls_files(node, &none).unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "[exchange] tls_key `{}`: cannot read",
                node.join("tls/gone.pem").display()
            )),
            "{e}"
        );
        let e = x
            .tls_files(
                node,
                &TlsFlags {
                    cert: Some(node.join("tls")),
                    key: Some(flag),
                    client_ca: None,
                },
            )
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("--tls-cert") && e.contains("is not a file"),
            "{e}"
        );
    }

    #[test]
    fn a_settings_file_with_half_of_tls_is_refused() {
        let half = Settings {
            exchange: ExchangeSettings {
                tls_cert: Some("c.pem".into()),
                ..ExchangeSettings::default()
            },
            ..Settings::default()
        };
        assert!(check(&half).unwrap_err().contains("go together"));
        let ca_only = Settings {
            exchange: ExchangeSettings {
                tls_client_ca: Some("ca.pem".into()),
                ..ExchangeSettings::default()
            },
            ..Settings::default()
        };
        assert!(check(&ca_only).unwrap_err().contains("needs tls_cert"));
    }
}
