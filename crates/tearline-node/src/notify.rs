//! Notifications: telling people, by webhook and by email, when a warning
//! needs them.
//!
//! Events, at both ends of a warning:
//!
//! | event | when |
//! | --- | --- |
//! | `received` | a partner's warning arrives |
//! | `window-ending` | a window (sent or received) ends within `window_ending_hours` |
//! | `review-due` | a review falls due (sent or received) |
//! | `judgement` | a partner judges a sent warning's specificity |
//! | `sender-change` | the sender of a received warning extends, closes, withdraws or re-issues it |
//! | `late` | a partner's response arrives after the warning was closed |
//!
//! The audit log is the source: every transition is there, so the notifier
//! reads it forward from a cursor of its own, per channel, and an event is
//! never lost to a crash or an unreachable endpoint — a channel that fails
//! keeps its place and is tried again at the next run (`tearline notify`,
//! after `sync`, and every 30 seconds in `serve`). Window reminders are
//! computed from the warnings and sent once per channel and window end.
//!
//! A webhook receives a JSON POST with `X-Tearline-Event` and
//! `X-Tearline-Signature: sha256=<hex HMAC-SHA256 of the body>` under the
//! channel's secret. An email goes over SMTP (a local relay; no TLS here).

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;
use tearline_lifecycle::receiver::RecvKind;
use tearline_lifecycle::{EventKind, State};
use tearline_store::AuditEntry;

use crate::settings::{EmailSettings, WebhookSettings};
use crate::{stamp, Caller, Code, Error, Node, Result};

/// The events a channel may ask for.
pub const EVENTS: [&str; 6] = [
    "received",
    "window-ending",
    "review-due",
    "judgement",
    "sender-change",
    "late",
];

/// One notification.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    /// One of [`EVENTS`].
    pub event: &'static str,
    /// When it happened.
    pub at: String,
    /// One line for people.
    pub text: String,
    /// The warning: `{"side": "sent"|"received", "id": N, ...}`.
    pub warning: Value,
}

impl Notice {
    fn body(&self, node: &str) -> Value {
        json!({
            "event": self.event,
            "at": self.at,
            "node": node,
            "text": self.text,
            "warning": self.warning,
        })
    }
}

/// What one run of the notifier did.
#[derive(Debug, Clone, Default)]
pub struct Sent {
    /// Notifications delivered.
    pub delivered: usize,
    /// Channels that failed, each with why (they are tried again next time).
    pub failed: Vec<String>,
}

/// A configured channel.
enum Channel<'a> {
    Webhook(&'a WebhookSettings),
    Email(&'a EmailSettings),
}

impl Channel<'_> {
    fn name(&self) -> String {
        match self {
            Channel::Webhook(w) => format!("webhook {}", w.url),
            Channel::Email(e) => format!("email via {} to {}", e.smtp, e.to.join(", ")),
        }
    }

    fn key(&self) -> String {
        use sha2::Digest;
        let h = sha2::Sha256::digest(self.name().as_bytes());
        format!("notify/{}", &hex::encode(h)[..16])
    }

    fn wants(&self, event: &str) -> bool {
        let events = match self {
            Channel::Webhook(w) => &w.events,
            Channel::Email(e) => &e.events,
        };
        events.is_empty() || events.iter().any(|e| e == event)
    }

    fn send(&self, node: &str, n: &Notice) -> std::result::Result<(), String> {
        match self {
            Channel::Webhook(w) => webhook(w, node, n),
            Channel::Email(e) => email(e, node, n),
        }
    }
}

/// The signature header's value for a body under `secret`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn webhook(w: &WebhookSettings, node: &str, n: &Notice) -> std::result::Result<(), String> {
    let body = n.body(node).to_string();
    let agent = ureq::AgentBuilder::new()
        .timeout(std::time::Duration::from_secs(20))
        .build();
    agent
        .post(&w.url)
        .set("Content-Type", "application/json")
        .set("X-Tearline-Event", n.event)
        .set(
            "X-Tearline-Signature",
            &signature(&w.secret, body.as_bytes()),
        )
        .send_string(&body)
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn email(e: &EmailSettings, node: &str, n: &Notice) -> std::result::Result<(), String> {
    use lettre::message::header::ContentType;
    use lettre::{Message, SmtpTransport, Transport};
    let (host, port) = e
        .smtp
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
        .ok_or("smtp must be host:port")?;
    let mut m = Message::builder()
        .from(e.from.parse().map_err(|x| format!("from: {x}"))?)
        .subject(format!(
            "[Tearline {node}] {}",
            n.text.chars().take(120).collect::<String>()
        ))
        .header(ContentType::TEXT_PLAIN);
    for t in &e.to {
        m = m.to(t.parse().map_err(|x| format!("to `{t}`: {x}"))?);
    }
    let text = format!(
        "{}\n\nevent: {}\nat: {}\nnode: {node}\nwarning: {}\n",
        n.text, n.event, n.at, n.warning
    );
    let msg = m.body(text).map_err(|x| x.to_string())?;
    let mut b = SmtpTransport::builder_dangerous(host)
        .port(port)
        .timeout(Some(std::time::Duration::from_secs(20)));
    if let (Some(u), Some(p)) = (&e.user, &e.password) {
        b = b.credentials(lettre::transport::smtp::authentication::Credentials::new(
            u.clone(),
            p.clone(),
        ));
    }
    b.build().send(&msg).map(|_| ()).map_err(|x| x.to_string())
}

/// The notification an audit entry makes, if any.
pub fn notice_of(e: &AuditEntry) -> Option<Notice> {
    let id = |prefix: &str| {
        e.entry
            .subject
            .strip_prefix(prefix)?
            .trim()
            .parse::<i64>()
            .ok()
    };
    let at = e.entry.at.clone();
    match e.entry.action.as_str() {
        "warning.event" => {
            let w = id("warning ")?;
            let ev: tearline_lifecycle::Event = serde_json::from_str(&e.entry.detail).ok()?;
            let (event, text) = match ev.kind {
                EventKind::ReviewDue => (
                    "review-due",
                    format!("warning {w}: its window ended without a decision — review due"),
                ),
                EventKind::Judgement { partner, verdicts } => (
                    "judgement",
                    format!(
                        "warning {w}: {partner} judged it: {}",
                        crate::warnings::verdicts_text(&verdicts)
                    ),
                ),
                EventKind::Late {
                    partner, response, ..
                } => (
                    "late",
                    format!("warning {w}: a late {response} from {partner}, after closing"),
                ),
                _ => return None,
            };
            Some(Notice {
                event,
                at,
                text,
                warning: json!({ "side": "sent", "id": w }),
            })
        }
        "received.event" => {
            let r = id("received ")?;
            let ev: tearline_lifecycle::receiver::RecvEvent =
                serde_json::from_str(&e.entry.detail).ok()?;
            let (event, text) = match ev.kind {
                RecvKind::Received { remote } => (
                    "received",
                    format!("received warning {r}: a new warning from {remote}"),
                ),
                RecvKind::ReviewDue => (
                    "review-due",
                    format!("received warning {r}: review due — keep or lift the measures"),
                ),
                k @ (RecvKind::SenderExtended { .. }
                | RecvKind::SenderClosed { .. }
                | RecvKind::SenderWithdrawn
                | RecvKind::Superseded { .. }) => (
                    "sender-change",
                    format!("received warning {r}: {}", crate::received::describe(&k).1),
                ),
                _ => return None,
            };
            Some(Notice {
                event,
                at,
                text,
                warning: json!({ "side": "received", "id": r }),
            })
        }
        _ => None,
    }
}

impl Node {
    fn channels(&self) -> Vec<Channel<'_>> {
        let n = &self.settings.notify;
        n.webhooks
            .iter()
            .map(Channel::Webhook)
            .chain(n.emails.iter().map(Channel::Email))
            .collect()
    }

    /// Sends what is pending on every configured channel: the events in
    /// the audit log since each channel's last run, and reminders of
    /// windows about to end. Reviews that fell due since anyone last
    /// looked are recorded first, so the clock alone is enough to be told.
    /// A failing channel keeps its place.
    pub fn notify(&self, _caller: &Caller) -> Result<Sent> {
        let mut sent = Sent::default();
        let channels = self.channels();
        if channels.is_empty() {
            return Ok(sent);
        }
        self.review_tick()?;
        self.received_tick()?;
        let ending = self.windows_ending()?;
        let registry = self.registry()?;
        for ch in &channels {
            match self.notify_channel(ch, &ending, &registry) {
                Ok(n) => sent.delivered += n,
                Err(e) => sent.failed.push(format!("{}: {e}", ch.name())),
            }
        }
        Ok(sent)
    }

    /// Gives each newly configured channel its place in the audit log:
    /// the head when the node is first opened with it, so it is told what
    /// happens from then on (the sync of that same command included) and
    /// not the whole history.
    pub(crate) fn start_channels(&self) -> Result<()> {
        for ch in self.channels() {
            let key = ch.key();
            if self.store.cursor(&key)?.is_none() {
                let head = self.store.audit_head()?.map_or(0, |(s, _)| s);
                self.store.set_cursor(&key, &head.to_string())?;
            }
        }
        Ok(())
    }

    fn notify_channel(
        &self,
        ch: &Channel<'_>,
        ending: &[(String, Notice)],
        registry: &tearline_release::Registry,
    ) -> Result<usize> {
        // A notice leaves the node: no registered term goes with it.
        let node_name = crate::admin::redact(&self.info.name, registry);
        let send = |n: &Notice| {
            let mut n = n.clone();
            n.text = crate::admin::redact(&n.text, registry);
            ch.send(&node_name, &n)
                .map_err(|m| Error::new(Code::Remote, m))
        };
        let key = ch.key();
        let mut delivered = 0;
        let mut after = match self.store.cursor(&key)?.and_then(|c| c.parse::<i64>().ok()) {
            Some(a) => a,
            None => self.store.audit_head()?.map_or(0, |(s, _)| s),
        };
        loop {
            let entries = self.store.audit_since(after, 200)?;
            let Some(last) = entries.last().map(|e| e.seq) else {
                break;
            };
            for e in &entries {
                if let Some(n) = notice_of(e).filter(|n| ch.wants(n.event)) {
                    send(&n)?;
                    delivered += 1;
                }
                self.store.set_cursor(&key, &e.seq.to_string())?;
            }
            after = last;
        }
        for (id, n) in ending.iter().filter(|(_, n)| ch.wants(n.event)) {
            let done = format!("{key}/ending/{id}");
            if self.store.cursor(&done)?.is_some() {
                continue;
            }
            send(n)?;
            self.store.set_cursor(&done, &n.at)?;
            delivered += 1;
        }
        Ok(delivered)
    }

    /// Reminders for open windows, sent and received, that end within
    /// `window_ending_hours`: `(a key for the window end, the notice)`.
    fn windows_ending(&self) -> Result<Vec<(String, Notice)>> {
        let hours = self.settings.notify.window_ending_hours as i64;
        if hours == 0 {
            return Ok(Vec::new());
        }
        let now = self.now();
        let soon = |end: DateTime<Utc>| end > now && end - now <= chrono::Duration::hours(hours);
        let mut out = Vec::new();
        for rec in self.store.warnings()? {
            let w = tearline_lifecycle::apply::warning(&rec)?;
            let end = w.window_end();
            if matches!(w.state(now), State::Closed(_)) || !soon(end) {
                continue;
            }
            out.push((
                format!("sent/{}/{}", rec.id, stamp(end)),
                Notice {
                    event: "window-ending",
                    at: stamp(now),
                    text: format!(
                        "warning {}: its window ends at {} — {}",
                        rec.id,
                        stamp(end),
                        rec.warning.title
                    ),
                    warning: json!({ "side": "sent", "id": rec.id }),
                },
            ));
        }
        for rec in self.store.received_warnings()? {
            let r = tearline_lifecycle::apply::received(&rec)?;
            let end = r.review_at();
            if !r.state(now).is_open() || !soon(end) {
                continue;
            }
            out.push((
                format!("received/{}/{}", rec.id, stamp(end)),
                Notice {
                    event: "window-ending",
                    at: stamp(now),
                    text: format!(
                        "received warning {}: review at {} — {}",
                        rec.id,
                        stamp(end),
                        rec.warning.title
                    ),
                    warning: json!({ "side": "received", "id": rec.id }),
                },
            ));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_of_the_body() {
        // RFC 4231, test case 2.
        let s = signature("Jefe", b"what do ya want for nothing?");
        assert_eq!(
            s,
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn audit_entries_make_the_notices_channels_ask_for() {
        let entry = |action: &str, subject: &str, detail: Value| AuditEntry {
            seq: 1,
            entry: tearline_store::NewAuditEntry {
                at: "2026-03-20T09:00:00.000Z".into(),
                actor: "x".into(),
                action: action.into(),
                subject: subject.into(),
                detail: detail.to_string(),
            },
            prev_hash: String::new(),
            hash: String::new(),
        };
        let due = entry(
            "warning.event",
            "warning 3",
            json!({"at": "2026-03-20T09:00:00Z", "actor": "clock", "kind": "review-due"}),
        );
        let n = notice_of(&due).unwrap();
        assert_eq!((n.event, n.warning["id"].as_i64()), ("review-due", Some(3)));
        let got = entry(
            "received.event",
            "received 7",
            json!({"at": "2026-03-20T09:00:00Z", "actor": "sender:s", "kind": "received", "remote": "s"}),
        );
        assert_eq!(notice_of(&got).unwrap().event, "received");
        let ack = entry(
            "received.event",
            "received 7",
            json!({"at": "2026-03-20T09:00:00Z", "actor": "ana", "kind": "acknowledged", "text": "ok"}),
        );
        assert!(
            notice_of(&ack).is_none(),
            "the node's own acts are not announced"
        );
        assert!(notice_of(&entry("release", "release 1", json!({}))).is_none());
    }
}
