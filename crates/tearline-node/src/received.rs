//! The receiver's half: warnings received from partners, followed until
//! someone here decides.
//!
//! After each `sync`, [`Node::follow`] reads what arrived — new warnings,
//! new versions of their reports (a later window, `revoked`), and the
//! sender's notes (closed, superseded) — into received warnings with their
//! lifecycle (`tearline_lifecycle::receiver`). The receiver's acts —
//! acknowledge, record measures, keep them until a new review date, lift
//! them, close, judge the warning's specificity — are recorded with the
//! matching response to the sender queued in the same transaction; `sync`
//! sends them. Measures in force are never lifted by the clock or by the
//! sender: the review falls due and waits for a person.

use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};
use tearline_lifecycle::apply::{apply_received, received, tick_received};
use tearline_lifecycle::receiver::{RecvKind, RecvOutcome, RecvState};
use tearline_lifecycle::Verdict;
use tearline_store::{
    Collection, NewObject, NewReceived, ObjectQuery, ReceivedRecord, VersionMatch,
};

use crate::warnings::verdicts_text;
use crate::{stamp, Caller, Error, Node, Result};

/// The order received warnings are listed in.
const ORDER: [&str; 5] = [
    "review due",
    "received",
    "acknowledged",
    "measures in force",
    "closed",
];

/// A received warning in a list.
#[derive(Debug, Clone)]
pub struct ReceivedRow {
    /// Its number at this node.
    pub id: i64,
    /// The remote it came from.
    pub remote: String,
    /// The sender's report id.
    pub report_id: String,
    /// Its title.
    pub title: String,
    /// Its TLP marking.
    pub marking: Option<String>,
    /// Where it stands.
    pub state: RecvState,
    /// The end of the sender's window, after its extensions.
    pub window_end: DateTime<Utc>,
    /// When the receiver must decide.
    pub review_at: DateTime<Utc>,
    /// Time left before the review (negative when overdue).
    pub time_left: chrono::Duration,
    /// Measures are in force.
    pub measures: bool,
    /// The received warning this one supersedes.
    pub supersedes: Option<i64>,
    /// The received warning that supersedes this one.
    pub superseded_by: Option<i64>,
}

/// One event of a received warning.
#[derive(Debug, Clone)]
pub struct RecvEventView {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// `sender`, `receiver` or `clock`.
    pub side: &'static str,
    /// What.
    pub kind: RecvKind,
    /// A short label.
    pub label: String,
    /// A sentence.
    pub text: String,
}

/// One received warning with its timeline at both ends.
#[derive(Debug, Clone)]
pub struct ReceivedView {
    /// The warning as listed.
    pub row: ReceivedRow,
    /// The start of the sender's window.
    pub valid_from: Option<String>,
    /// When it was received.
    pub received_at: String,
    /// The timeline, oldest first.
    pub events: Vec<RecvEventView>,
    /// The receiver's last judgement of its specificity.
    pub judgement: Vec<Verdict>,
}

/// What a person at the receiver does with a received warning.
#[derive(Debug, Clone)]
pub enum Act {
    /// Acknowledge it.
    Acknowledge {
        /// What to tell the sender.
        text: String,
    },
    /// Record the measures put in force.
    Measures {
        /// The measures.
        text: String,
    },
    /// Keep the measures until a new review date.
    Keep {
        /// The new review date.
        until: DateTime<Utc>,
        /// Why.
        text: String,
    },
    /// Lift the measures, with a reason (closes it).
    Lift {
        /// Why.
        reason: String,
    },
    /// Close it with an outcome.
    Close {
        /// How it ended.
        outcome: RecvOutcome,
        /// Why.
        note: String,
    },
    /// Judge, for each of who / what / where / when / how, whether it says
    /// enough to act.
    Judge {
        /// One verdict per dimension judged.
        verdicts: Vec<Verdict>,
    },
}

/// What following a remote's objects found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Followed {
    /// Warnings received for the first time.
    pub new: usize,
    /// Changes by the sender to warnings already followed.
    pub changed: usize,
}

/// A short label and a sentence for a received warning's event.
pub fn describe(kind: &RecvKind) -> (String, String) {
    let pair = |l: &str, t: String| (l.to_string(), t);
    match kind {
        RecvKind::Received { remote } => pair("received", format!("received from {remote}")),
        RecvKind::Acknowledged { text } => pair("acknowledged", format!("acknowledged: {text}")),
        RecvKind::Measures { text } => pair("measures", format!("measures in force: {text}")),
        RecvKind::CarriedOver { from } => pair(
            "measures carried over",
            format!("measures in force carried over from received warning {from}"),
        ),
        RecvKind::Kept { until, text } => pair(
            "kept",
            format!("measures kept until {}: {text}", stamp(*until)),
        ),
        RecvKind::Lifted { reason } => pair("lifted", format!("measures lifted: {reason}")),
        RecvKind::Closed { outcome, note } => pair(
            "closed",
            format!(
                "closed: {}{}",
                outcome.name(),
                if note.is_empty() {
                    String::new()
                } else {
                    format!(" ({note})")
                }
            ),
        ),
        RecvKind::Judged { verdicts } => {
            pair("judged", format!("judged: {}", verdicts_text(verdicts)))
        }
        RecvKind::ReviewDue => pair(
            "review due",
            "the review date passed without a decision: review due".into(),
        ),
        RecvKind::SenderExtended { until } => pair(
            "sender extended",
            format!("the sender extended the window to {}", stamp(*until)),
        ),
        RecvKind::SenderClosed { outcome } => {
            pair("sender closed", format!("the sender closed it: {outcome}"))
        }
        RecvKind::SenderWithdrawn => pair("sender withdrew", "the sender withdrew it".into()),
        RecvKind::Superseded { by } => pair(
            "superseded",
            format!("the sender re-issued it as received warning {by}"),
        ),
        RecvKind::SenderLate { text } => pair("sender noted", format!("the sender noted: {text}")),
    }
}

fn side_of(kind: &RecvKind, actor: &str) -> &'static str {
    match kind {
        RecvKind::ReviewDue => "clock",
        RecvKind::Received { .. }
        | RecvKind::SenderExtended { .. }
        | RecvKind::SenderClosed { .. }
        | RecvKind::SenderWithdrawn
        | RecvKind::Superseded { .. }
        | RecvKind::SenderLate { .. } => "sender",
        _ if actor.starts_with("sender:") => "sender",
        _ => "receiver",
    }
}

fn ext(v: &Value) -> &Value {
    &v["extensions"][tearline_stix::TEARLINE_EXTENSION]
}

fn time(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

impl Node {
    fn row_of(
        &self,
        rec: &ReceivedRecord,
        all: &[ReceivedRecord],
        now: DateTime<Utc>,
    ) -> Result<ReceivedRow> {
        let r = received(rec)?;
        let superseded_by = r.events.iter().find_map(|e| match e.kind {
            RecvKind::Superseded { by } => Some(by),
            _ => None,
        });
        let mut supersedes = None;
        for o in all {
            let superseded_here = received(o)?
                .events
                .iter()
                .any(|e| matches!(e.kind, RecvKind::Superseded { by } if by == rec.id));
            if superseded_here {
                supersedes = Some(o.id);
            }
        }
        Ok(ReceivedRow {
            id: rec.id,
            remote: rec.warning.remote.clone(),
            report_id: rec.warning.report_id.clone(),
            title: rec.warning.title.clone(),
            marking: rec.warning.marking.clone(),
            state: r.state(now),
            window_end: r.window_end(),
            review_at: r.review_at(),
            time_left: r.time_left(now),
            measures: r.measures_in_force(),
            supersedes,
            superseded_by,
        })
    }

    /// Records "review due" for received warnings whose review date passed.
    pub(crate) fn received_tick(&self) -> Result<()> {
        tick_received(&*self.store, self.now())?;
        Ok(())
    }

    /// Every received warning (of `remote`, when given), review due first,
    /// then by state, time left and number.
    pub fn received_warnings(
        &self,
        _caller: &Caller,
        remote: Option<&str>,
    ) -> Result<Vec<ReceivedRow>> {
        self.received_tick()?;
        let now = self.now();
        let all = self.store.received_warnings()?;
        let mut rows = all
            .iter()
            .filter(|r| remote.is_none_or(|x| r.warning.remote == x))
            .map(|r| self.row_of(r, &all, now))
            .collect::<Result<Vec<_>>>()?;
        rows.sort_by_key(|r| {
            (
                ORDER.iter().position(|o| *o == r.state.name()),
                r.time_left,
                r.id,
            )
        });
        Ok(rows)
    }

    /// How many received warnings are review due (the workbench's banner).
    pub fn received_due(&self) -> Result<usize> {
        self.received_tick()?;
        let now = self.now();
        let mut n = 0;
        for rec in self.store.received_warnings()? {
            if received(&rec)?.state(now) == RecvState::ReviewDue {
                n += 1;
            }
        }
        Ok(n)
    }

    fn find_received(&self, id: i64) -> Result<ReceivedRecord> {
        self.store.received_warning(id)?.ok_or_else(|| {
            Error::not_found(format!(
                "no received warning {id}: `tearline received` lists them"
            ))
        })
    }

    /// One received warning with the sender's and the receiver's events.
    pub fn received_warning(&self, _caller: &Caller, id: i64) -> Result<ReceivedView> {
        self.received_tick()?;
        let rec = self.find_received(id)?;
        let all = self.store.received_warnings()?;
        let r = received(&rec)?;
        let judgement = r
            .events
            .iter()
            .rev()
            .find_map(|e| match &e.kind {
                RecvKind::Judged { verdicts } => Some(verdicts.clone()),
                _ => None,
            })
            .unwrap_or_default();
        Ok(ReceivedView {
            row: self.row_of(&rec, &all, self.now())?,
            valid_from: rec.warning.valid_from.clone(),
            received_at: rec.warning.received_at.clone(),
            events: r
                .events
                .iter()
                .map(|e| {
                    let (label, text) = describe(&e.kind);
                    RecvEventView {
                        at: e.at,
                        actor: e.actor.clone(),
                        side: side_of(&e.kind, &e.actor),
                        kind: e.kind.clone(),
                        label,
                        text,
                    }
                })
                .collect(),
            judgement,
        })
    }

    /// Does `act` to a received warning: records it in the receiver's
    /// lifecycle and queues the matching response to the sender, in one
    /// transaction. Keeping, lifting and closing are a releaser's
    /// decisions.
    pub fn received_act(&self, caller: &Caller, id: i64, act: Act) -> Result<()> {
        let rec = self.find_received(id)?;
        let remote = rec.warning.remote.clone();
        let report = rec.warning.report_id.clone();
        let (kind, lifecycle, text, extra) = match act {
            Act::Acknowledge { text } => {
                let text = if text.trim().is_empty() {
                    "acknowledged".into()
                } else {
                    text
                };
                (
                    RecvKind::Acknowledged { text: text.clone() },
                    "acknowledgement",
                    text,
                    Map::new(),
                )
            }
            Act::Measures { text } => (
                RecvKind::Measures { text: text.clone() },
                "measures",
                text,
                Map::new(),
            ),
            Act::Keep { until, text } => {
                caller.may_decide("keep, lift or close measures on a received warning")?;
                let mut x = Map::new();
                x.insert("decision".into(), json!("kept"));
                x.insert("until".into(), json!(tearline_stix::stix_time(until)));
                let t = format!("measures kept until {}: {text}", stamp(until));
                (RecvKind::Kept { until, text }, "decision", t, x)
            }
            Act::Lift { reason } => {
                caller.may_decide("keep, lift or close measures on a received warning")?;
                let mut x = Map::new();
                x.insert("decision".into(), json!("lifted"));
                let t = format!("measures lifted: {reason}");
                (RecvKind::Lifted { reason }, "decision", t, x)
            }
            Act::Close { outcome, note } => {
                caller.may_decide("keep, lift or close measures on a received warning")?;
                let mut x = Map::new();
                x.insert(
                    "decision".into(),
                    json!(format!("closed: {}", outcome.name())),
                );
                let t = format!("closed at the receiver: {} {note}", outcome.name());
                (
                    RecvKind::Closed { outcome, note },
                    "decision",
                    t.trim().to_string(),
                    x,
                )
            }
            Act::Judge { verdicts } => {
                let mut x = Map::new();
                x.insert("judgement".into(), json!(verdicts));
                let t = format!("specificity judged: {}", verdicts_text(&verdicts));
                (RecvKind::Judged { verdicts }, "judgement", t, x)
            }
        };
        let now = self.now();
        // Refused acts are refused before anything is built.
        received(&rec)?
            .admit(&kind, now)
            .map_err(|e| Error::new(crate::Code::Conflict, e.to_string()))?;
        let response = self.response(&remote, &report, lifecycle, &text, extra)?;
        apply_received(&*self.store, id, kind, caller.name(), now, &[response])?;
        Ok(())
    }

    /// A response to a remote's report: a note with Tearline's extension
    /// (`lifecycle` and what goes with it), checked against this node's
    /// registry and signed with its key.
    pub(crate) fn response(
        &self,
        remote: &str,
        report_id: &str,
        lifecycle: &str,
        text: &str,
        extra: Map<String, Value>,
    ) -> Result<NewObject> {
        let st = tearline_stix::stix_time(self.now());
        let id = tearline_stix::StixId::random("note");
        let mut x = extra;
        x.insert("extension_type".into(), json!("property-extension"));
        x.insert("lifecycle".into(), json!(lifecycle));
        let mut bundle = json!({"type": "bundle", "id": tearline_stix::StixId::random("bundle"), "objects": [{
            "type": "note",
            "spec_version": "2.1",
            "id": id,
            "created": st,
            "modified": st,
            "content": text,
            "object_refs": [report_id],
            "extensions": { tearline_stix::TEARLINE_EXTENSION: Value::Object(x) },
        }]});
        // What we send a remote is checked against our registry too.
        let registry = self.registry()?;
        let hits = registry.find(&bundle.to_string());
        if !hits.is_empty() {
            let lines = hits
                .iter()
                .map(|(_, t)| format!("the response holds a registered {} term", t.kind))
                .collect();
            return Err(Error::new(
                crate::Code::Leak,
                format!(
                    "the response to `{remote}` was refused by the leak check; nothing was queued"
                ),
            )
            .with_details(lines));
        }
        tearline_stix::sign_bundle(&mut bundle, self.key());
        tearline_exchange::stix_object(&bundle["objects"][0])
            .map_err(|m| Error::new(crate::Code::Internal, format!("bug: {m}")))
    }

    /// Reads what arrived from `remote` since the last time into received
    /// warnings: new warnings, the sender's new versions (a later window,
    /// withdrawal) and notes (closed, superseded).
    pub(crate) fn follow(&self, remote: &str) -> Result<Followed> {
        let key = format!("follow/{remote}");
        let mut after: Option<i64> = self.store.cursor(&key)?.and_then(|c| c.parse().ok());
        let mut out = Followed::default();
        loop {
            let q = ObjectQuery {
                added_after: None,
                ids: vec![],
                types: vec!["report".into(), "note".into()],
                versions: VersionMatch::All,
                spec_versions: vec![],
                after_seq: after,
                limit: 500,
            };
            let page = self
                .store
                .objects(&Collection::Received(remote.to_string()), &q)?;
            for o in &page.objects {
                let Ok(v) = serde_json::from_str::<Value>(&o.object.json) else {
                    continue;
                };
                match o.object.object_type.as_str() {
                    "report" => self.follow_report(remote, &v, &mut out)?,
                    _ => self.follow_note(remote, &v, &mut out)?,
                }
            }
            let Some(last) = page.objects.last().map(|o| o.seq) else {
                break;
            };
            self.store.set_cursor(&key, &last.to_string())?;
            after = Some(last);
            if !page.more {
                break;
            }
        }
        Ok(out)
    }

    /// A version of a report from the sender.
    fn follow_report(&self, remote: &str, v: &Value, out: &mut Followed) -> Result<()> {
        let x = ext(v);
        let (Some(id), Some(until)) = (v["id"].as_str(), time(&x["valid_until"])) else {
            // Not a warning: nothing to follow.
            return Ok(());
        };
        let sender = format!("sender:{remote}");
        let now = self.now();
        let revoked = v["revoked"].as_bool() == Some(true);
        let rec = match self.store.received_for(remote, id)? {
            Some(rec) => rec,
            None => {
                let w = NewReceived {
                    remote: remote.to_string(),
                    report_id: id.to_string(),
                    title: v["name"].as_str().unwrap_or("").chars().take(300).collect(),
                    marking: x["marking"].as_str().map(str::to_string),
                    valid_from: time(&x["valid_from"]).map(stamp),
                    valid_until: stamp(until),
                    received_at: stamp(now),
                };
                let first = tearline_lifecycle::apply::stored_received(
                    &tearline_lifecycle::receiver::RecvEvent {
                        at: now,
                        actor: sender.clone(),
                        kind: RecvKind::Received {
                            remote: remote.to_string(),
                        },
                    },
                );
                if self.store.received_add(&w, &first)?.is_some() {
                    out.new += 1;
                }
                match self.store.received_for(remote, id)? {
                    Some(rec) => rec,
                    None => return Ok(()),
                }
            }
        };
        let r = received(&rec)?;
        if until > r.window_end() {
            let kind = RecvKind::SenderExtended { until };
            if apply_received(&*self.store, rec.id, kind, &sender, now, &[])? {
                out.changed += 1;
            }
        }
        let withdrawn = r
            .events
            .iter()
            .any(|e| matches!(e.kind, RecvKind::SenderWithdrawn));
        if revoked
            && !withdrawn
            && apply_received(
                &*self.store,
                rec.id,
                RecvKind::SenderWithdrawn,
                &sender,
                now,
                &[],
            )?
        {
            out.changed += 1;
        }
        Ok(())
    }

    /// A note from the sender: a warning closed, or re-issued.
    fn follow_note(&self, remote: &str, v: &Value, out: &mut Followed) -> Result<()> {
        let x = ext(v);
        let refs: Vec<&str> = v["object_refs"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let sender = format!("sender:{remote}");
        let now = self.now();
        match x["lifecycle"].as_str() {
            Some("closed") => {
                let outcome = x["outcome"]
                    .as_str()
                    .unwrap_or("closed")
                    .chars()
                    .take(60)
                    .collect();
                for r in refs {
                    if let Some(rec) = self.store.received_for(remote, r)? {
                        let kind = RecvKind::SenderClosed {
                            outcome: String::clone(&outcome),
                        };
                        if apply_received(&*self.store, rec.id, kind, &sender, now, &[])? {
                            out.changed += 1;
                        }
                    }
                }
            }
            Some("supersedes") => {
                let Some(old) = x["supersedes"].as_str() else {
                    return Ok(());
                };
                let Some(new) = refs.iter().find(|r| **r != old) else {
                    return Ok(());
                };
                let (Some(old_rec), Some(new_rec)) = (
                    self.store.received_for(remote, old)?,
                    self.store.received_for(remote, new)?,
                ) else {
                    return Ok(());
                };
                let measures = received(&old_rec)?.measures_in_force();
                if apply_received(
                    &*self.store,
                    old_rec.id,
                    RecvKind::Superseded { by: new_rec.id },
                    &sender,
                    now,
                    &[],
                )? {
                    out.changed += 1;
                }
                // Measures in force move to the new warning: a re-issue
                // never lifts them.
                if measures {
                    apply_received(
                        &*self.store,
                        new_rec.id,
                        RecvKind::CarriedOver { from: old_rec.id },
                        &sender,
                        now,
                        &[],
                    )?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Records what the sender said about responses it received (for
    /// example that one arrived after it closed the warning).
    pub(crate) fn notices(&self, remote: &str, notices: &[(String, String)]) -> Result<()> {
        for (note_id, message) in notices {
            let q = ObjectQuery {
                added_after: None,
                ids: vec![note_id.clone()],
                types: vec![],
                versions: VersionMatch::Last,
                spec_versions: vec![],
                after_seq: None,
                limit: 1,
            };
            let page = self
                .store
                .objects(&Collection::Outbox(remote.to_string()), &q)?;
            let Some(o) = page.objects.first() else {
                continue;
            };
            let Ok(v) = serde_json::from_str::<Value>(&o.object.json) else {
                continue;
            };
            for r in v["object_refs"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if let Some(rec) = self.store.received_for(remote, r)? {
                    let kind = RecvKind::SenderLate {
                        text: message.chars().take(500).collect(),
                    };
                    apply_received(
                        &*self.store,
                        rec.id,
                        kind,
                        &format!("sender:{remote}"),
                        self.now(),
                        &[],
                    )?;
                }
            }
        }
        Ok(())
    }
}
