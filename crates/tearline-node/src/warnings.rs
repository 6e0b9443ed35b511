//! Warnings at the sender: listing them by state with each partner's part,
//! one warning's timeline beside what each cut of its release cost, and
//! the decisions a person makes — close with an outcome, extend, withdraw,
//! re-issue.
//!
//! Every read first records "review due" for warnings whose window has
//! ended, so what is shown is never a lapsed window that looks open. The
//! clock never closes a warning.
//!
//! A decision reaches the partners in standard STIX, in the same
//! transaction as the event: a new version of the report (`modified`
//! later, the window's end in Tearline's extension, `revoked` when
//! withdrawn) and a `note` whose extension says what changed. Both pass
//! the leak check for the warning's audience, built from the stored report
//! source, like the release itself.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};
use tearline_lifecycle::apply::{apply_with, stored, tick, warning};
use tearline_lifecycle::{Event, EventKind, Outcome, PartnerState, State, Verdict};
use tearline_release::{clear_objects, ClearedObjects, Cost, LeakGuard};
use tearline_store::{Collection, ObjectQuery, Outgoing, StoredEvent, VersionMatch, WarningRecord};

use crate::{stamp, Caller, Code, Error, Node, Result};

/// The order states are listed in.
const ORDER: [&str; 6] = [
    "review due",
    "issued",
    "delivered",
    "acknowledged",
    "measures recorded",
    "closed",
];

/// A partner of the warning's audience and its part in the warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerPart {
    /// The partner.
    pub partner: String,
    /// It has fetched the warning.
    pub fetched: bool,
    /// What its events say: acknowledged, measures, judgement, decision.
    pub state: PartnerState,
}

/// A warning in a list.
#[derive(Debug, Clone)]
pub struct WarningRow {
    /// Its number (the release that issued it).
    pub id: i64,
    /// The released title.
    pub title: String,
    /// The audience it was released to.
    pub audience: String,
    /// Where it stands now.
    pub state: State,
    /// The end of its window, after extensions.
    pub window_end: DateTime<Utc>,
    /// Time left in the window (negative when overdue).
    pub time_left: Duration,
    /// The audience's partners (and any partner that took part since) and
    /// each one's part.
    pub partners: Vec<PartnerPart>,
}

impl WarningRow {
    /// How far the partners got, in words: "2 of 3 acknowledged".
    pub fn summary(&self) -> String {
        let n = self.partners.len();
        if n == 0 {
            return "no partner of this audience".into();
        }
        let count = |f: fn(&PartnerPart) -> bool| self.partners.iter().filter(|p| f(p)).count();
        let measures = count(|p| p.state.measures);
        let acked = count(|p| p.state.acknowledged || p.state.measures);
        let fetched = count(|p| p.fetched);
        let needs = count(|p| !p.state.needs().is_empty());
        let mut parts = vec![if measures > 0 {
            format!("{measures} of {n} with measures")
        } else if acked > 0 {
            format!("{acked} of {n} acknowledged")
        } else {
            format!("{fetched} of {n} fetched")
        }];
        if needs > 0 {
            parts.push(format!("{needs} need more"));
        }
        parts.join(", ")
    }
}

/// One event of a warning's timeline.
#[derive(Debug, Clone)]
pub struct EventView {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (a user, `partner:NAME` or `clock`).
    pub actor: String,
    /// What.
    pub kind: EventKind,
    /// A short label ("delivered: north").
    pub label: String,
    /// A sentence ("delivered to north").
    pub text: String,
}

/// One warning with its timeline.
#[derive(Debug, Clone)]
pub struct WarningView {
    /// The warning as listed.
    pub row: WarningRow,
    /// The released report's STIX id.
    pub report_id: String,
    /// The start of the window as issued.
    pub valid_from: Option<String>,
    /// The timeline, oldest first.
    pub events: Vec<EventView>,
    /// What each cut of this release cost, against the full report (empty
    /// when the report's source is not kept).
    pub costs: Vec<Cost>,
}

/// An event by `caller` at `now`, as stored.
pub(crate) fn event(caller: &Caller, now: DateTime<Utc>, kind: EventKind) -> StoredEvent {
    stored(&Event {
        at: now,
        actor: caller.name().to_string(),
        kind,
    })
}

/// The events that close a warning re-issued as release `by`.
pub(crate) fn superseded_events(caller: &Caller, now: DateTime<Utc>, by: i64) -> Vec<StoredEvent> {
    vec![
        event(caller, now, EventKind::Reissued { by }),
        event(
            caller,
            now,
            EventKind::Closed {
                outcome: Outcome::Superseded,
                note: format!("re-issued as release {by}"),
            },
        ),
    ]
}

/// Verdicts in words: "where: need more (which venues); who: enough".
pub fn verdicts_text(verdicts: &[Verdict]) -> String {
    verdicts
        .iter()
        .map(|v| {
            if v.enough {
                format!("{}: enough", v.dimension)
            } else if v.need.is_empty() {
                format!("{}: need more", v.dimension)
            } else {
                format!("{}: need more ({})", v.dimension, v.need)
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A short label and a sentence for an event.
pub fn describe(kind: &EventKind) -> (String, String) {
    match kind {
        EventKind::Issued => ("issued".into(), "issued".into()),
        EventKind::Delivered { partner } => (
            format!("delivered: {partner}"),
            format!("delivered to {partner}"),
        ),
        EventKind::Acknowledged { partner, text } => (
            format!("acknowledged: {partner}"),
            format!("acknowledged by {partner}: {text}"),
        ),
        EventKind::Measures { partner, text } => (
            format!("measures: {partner}"),
            format!("measures recorded by {partner}: {text}"),
        ),
        EventKind::Feedback { partner, text } => (
            format!("feedback: {partner}"),
            format!("feedback from {partner}: {text}"),
        ),
        EventKind::Extended { until } => (
            "extended".into(),
            format!("window extended to {}", stamp(*until)),
        ),
        EventKind::ReviewDue => (
            "review due".into(),
            "window ended without a decision: review due".into(),
        ),
        EventKind::Reissued { by } => ("re-issued".into(), format!("re-issued as release {by}")),
        EventKind::Closed { outcome, note } if note.is_empty() => (
            format!("closed: {}", outcome.name()),
            format!("closed: {}", outcome.name()),
        ),
        EventKind::Closed { outcome, note } => (
            format!("closed: {}", outcome.name()),
            format!("closed: {} ({note})", outcome.name()),
        ),
        EventKind::Judgement { partner, verdicts } => (
            format!("judgement: {partner}"),
            format!("{partner} judged it: {}", verdicts_text(verdicts)),
        ),
        EventKind::Decided {
            partner,
            decision,
            until,
            text,
        } => {
            // A partner's note says the decision in its own words
            // ("measures lifted: …"); without a note, the decision is shown.
            let what = if text.trim().is_empty() {
                let until = until.map_or(String::new(), |u| format!(" until {}", stamp(u)));
                format!("measures {decision}{until}")
            } else {
                text.clone()
            };
            (format!("decision: {partner}"), format!("{partner}: {what}"))
        }
        EventKind::Late {
            partner,
            response,
            text,
        } => (
            format!("late: {partner}"),
            format!("late {response} from {partner} (after closing): {text}"),
        ),
    }
}

/// A sender's decision about a warning and what partners are told.
struct Decision {
    /// The event at the sender.
    kind: EventKind,
    /// The `lifecycle` of the note partners get: closed, extended,
    /// withdrawn.
    lifecycle: &'static str,
    /// The note's text.
    text: String,
    /// More properties of the note's extension.
    extra: Map<String, Value>,
    /// How the report object is revised.
    revise: Revision,
}

/// How a sender's change revises the released report object.
enum Revision {
    /// It does not.
    None,
    /// The window now ends then.
    Until(DateTime<Utc>),
    /// It is withdrawn.
    Revoked,
}

impl Node {
    /// Records "review due" for every warning whose window has ended.
    pub(crate) fn review_tick(&self) -> Result<()> {
        tick(&*self.store, self.now())?;
        Ok(())
    }

    fn row(&self, rec: &WarningRecord, now: DateTime<Utc>) -> Result<WarningRow> {
        let w = warning(rec)?;
        let mut states = w.partner_states();
        let mut partners: Vec<PartnerPart> = self
            .store
            .partners()?
            .into_iter()
            .filter(|p| p.audience == rec.warning.audience)
            .map(|p| {
                let state = states.remove(&p.name).unwrap_or_default();
                PartnerPart {
                    fetched: state.delivered.is_some(),
                    partner: p.name,
                    state,
                }
            })
            .collect();
        // Partners that took part and have since left the audience.
        partners.extend(states.into_iter().map(|(partner, state)| PartnerPart {
            fetched: state.delivered.is_some(),
            partner,
            state,
        }));
        Ok(WarningRow {
            id: rec.id,
            title: rec.warning.title.clone(),
            audience: rec.warning.audience.clone(),
            state: w.state(now),
            window_end: w.window_end(),
            time_left: w.time_left(now),
            partners,
        })
    }

    /// Every warning, review due first, then by state, time left and
    /// number.
    pub fn warnings(&self, _caller: &Caller) -> Result<Vec<WarningRow>> {
        self.review_tick()?;
        let now = self.now();
        let mut rows = self
            .store
            .warnings()?
            .iter()
            .map(|rec| self.row(rec, now))
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

    fn find_warning(&self, id: i64) -> Result<WarningRecord> {
        self.store.warning(id)?.ok_or_else(|| {
            Error::not_found(format!("no warning {id}: `tearline warnings` lists them"))
        })
    }

    /// A warning that is still open, or an error saying why not.
    pub(crate) fn open_warning(&self, id: i64) -> Result<WarningRecord> {
        let rec = self.find_warning(id)?;
        let state = warning(&rec)?.state(self.now());
        if !state.is_open() {
            return Err(Error::new(
                Code::Conflict,
                format!("warning {id} is already {state}"),
            ));
        }
        Ok(rec)
    }

    /// One warning with its timeline and what its cuts cost.
    pub fn warning(&self, _caller: &Caller, id: i64) -> Result<WarningView> {
        self.review_tick()?;
        let rec = self.find_warning(id)?;
        let now = self.now();
        let w = warning(&rec)?;
        let events = w
            .events
            .iter()
            .map(|e| {
                let (label, text) = describe(&e.kind);
                EventView {
                    at: e.at,
                    actor: e.actor.clone(),
                    kind: e.kind.clone(),
                    label,
                    text,
                }
            })
            .collect();
        Ok(WarningView {
            row: self.row(&rec, now)?,
            report_id: rec.warning.report_id.clone(),
            valid_from: rec.warning.valid_from.clone(),
            events,
            costs: self.costs_of(&rec)?,
        })
    }

    /// The stored source of the report a warning released, if kept.
    pub fn warning_source(&self, _caller: &Caller, id: i64) -> Result<Option<(String, String)>> {
        let rec = self.find_warning(id)?;
        self.source_of(&rec)
    }

    fn source_of(&self, rec: &WarningRecord) -> Result<Option<(String, String)>> {
        let Some(release) = self.store.releases()?.into_iter().find(|r| r.id == rec.id) else {
            return Ok(None);
        };
        Ok(self.store.report_source(&release.release.report_sha256)?)
    }

    /// What each cut of the warning's release cost its audience.
    fn costs_of(&self, rec: &WarningRecord) -> Result<Vec<Cost>> {
        let Some((name, text)) = self.source_of(rec)? else {
            return Ok(Vec::new());
        };
        let Ok(report) = crate::reports::parse(&name, text.as_bytes()) else {
            return Ok(Vec::new());
        };
        let a = self.assess(report)?;
        Ok(a.audiences
            .into_iter()
            .find(|x| x.audience.name() == rec.warning.audience)
            .map(|x| x.costs)
            .unwrap_or_default())
    }

    /// Closes a warning with its outcome; partners see a note saying so.
    pub fn close_warning(
        &self,
        caller: &Caller,
        id: i64,
        outcome: Outcome,
        note: &str,
    ) -> Result<()> {
        caller.may_decide("close, extend or withdraw a warning")?;
        if outcome == Outcome::Withdrawn {
            return self.withdraw_warning(caller, id, note);
        }
        let kind = EventKind::Closed {
            outcome,
            note: note.trim().to_string(),
        };
        let text = match note.trim() {
            "" => format!("The sender closed this warning: {}.", outcome.name()),
            n => format!("The sender closed this warning: {}. {n}", outcome.name()),
        };
        let mut extra = Map::new();
        extra.insert("outcome".into(), json!(outcome.name()));
        self.decide(
            caller,
            id,
            Decision {
                kind,
                lifecycle: "closed",
                text,
                extra,
                revise: Revision::None,
            },
        )
    }

    /// Extends a warning's window to `until`; partners see the report's new
    /// version and a note.
    pub fn extend_warning(&self, caller: &Caller, id: i64, until: DateTime<Utc>) -> Result<()> {
        caller.may_decide("close, extend or withdraw a warning")?;
        let text = format!(
            "The sender extended this warning's window to {}.",
            stamp(until)
        );
        let mut extra = Map::new();
        extra.insert("valid_until".into(), json!(tearline_stix::stix_time(until)));
        self.decide(
            caller,
            id,
            Decision {
                kind: EventKind::Extended { until },
                lifecycle: "extended",
                text,
                extra,
                revise: Revision::Until(until),
            },
        )
    }

    /// Withdraws a warning: it is closed as withdrawn, and partners get
    /// the report's new version marked `revoked` and a note.
    pub fn withdraw_warning(&self, caller: &Caller, id: i64, note: &str) -> Result<()> {
        caller.may_decide("close, extend or withdraw a warning")?;
        let kind = EventKind::Closed {
            outcome: Outcome::Withdrawn,
            note: note.trim().to_string(),
        };
        let text = match note.trim() {
            "" => "The sender withdrew this warning.".to_string(),
            n => format!("The sender withdrew this warning. {n}"),
        };
        self.decide(
            caller,
            id,
            Decision {
                kind,
                lifecycle: "withdrawn",
                text,
                extra: Map::new(),
                revise: Revision::Revoked,
            },
        )
    }

    /// Records a sender's decision and publishes what it changes, in one
    /// transaction.
    fn decide(&self, caller: &Caller, id: i64, d: Decision) -> Result<()> {
        let rec = self.find_warning(id)?;
        // Refused transitions are refused before anything is built.
        let admitted = warning(&rec)?
            .admit(&d.kind, self.now())
            .map_err(|e| Error::new(Code::Conflict, e.to_string()))?;
        if admitted.is_none() {
            return Ok(());
        }
        let objects = self.change_objects(&rec, d.lifecycle, &d.text, d.extra, d.revise)?;
        let out = Outgoing {
            publish: objects.as_ref(),
            reply: None,
        };
        apply_with(&*self.store, id, d.kind, caller.name(), self.now(), &out)?;
        Ok(())
    }

    /// The objects a change to a warning publishes to its audience — the
    /// report's new version (when revised) and a note — signed, and
    /// cleared for the audience by the leak check built from the report's
    /// stored source (the registry alone when the source is not kept).
    /// `None` when the audience no longer exists.
    fn change_objects(
        &self,
        rec: &WarningRecord,
        lifecycle: &str,
        text: &str,
        extra: Map<String, Value>,
        revise: Revision,
    ) -> Result<Option<ClearedObjects>> {
        let Some(audience) = self
            .audiences()?
            .into_iter()
            .find(|a| a.name() == rec.warning.audience)
        else {
            return Ok(None);
        };
        let now = self.now();
        let report = self.latest_report(&rec.warning.audience, &rec.warning.report_id)?;
        let previous = report
            .as_ref()
            .and_then(|r| r.get("modified").and_then(Value::as_str))
            .and_then(|m| DateTime::parse_from_rfc3339(m).ok())
            .map(|m| m.with_timezone(&Utc));
        // A new version must be later than the one it replaces.
        let at = match previous {
            Some(p) if p >= now => p + Duration::milliseconds(1),
            _ => now,
        };
        let modified = tearline_stix::stix_time(at);
        let mut objects = Vec::new();
        let marking = report
            .as_ref()
            .and_then(|r| r.get("object_marking_refs").cloned())
            .unwrap_or_else(|| json!([tearline_stix::tlp_marking_id(audience.max())]));
        let creator = report
            .as_ref()
            .and_then(|r| r.get("created_by_ref").cloned());
        if let Some(mut r) = report {
            match revise {
                Revision::None => {}
                Revision::Until(until) => {
                    r["modified"] = json!(modified);
                    r["extensions"][tearline_stix::TEARLINE_EXTENSION]["valid_until"] =
                        json!(tearline_stix::stix_time(until));
                    objects.push(r);
                }
                Revision::Revoked => {
                    r["modified"] = json!(modified);
                    r["revoked"] = json!(true);
                    objects.push(r);
                }
            }
        }
        let mut ext = extra;
        ext.insert("extension_type".into(), json!("property-extension"));
        ext.insert("lifecycle".into(), json!(lifecycle));
        let note_id = tearline_stix::StixId::derived(
            "note",
            &format!("{}/{lifecycle}/{modified}", rec.warning.report_id),
        );
        let mut note = json!({
            "type": "note",
            "spec_version": "2.1",
            "id": note_id,
            "created": modified,
            "modified": modified,
            "content": text,
            "object_refs": [rec.warning.report_id],
            "object_marking_refs": marking,
            "extensions": { tearline_stix::TEARLINE_EXTENSION: Value::Object(ext) },
        });
        if let Some(c) = creator {
            note["created_by_ref"] = c;
        }
        objects.push(note);
        let mut bundle = json!({ "type": "bundle", "id": tearline_stix::StixId::random("bundle"), "objects": objects });
        tearline_stix::sign_bundle(&mut bundle, self.key());
        let objects = bundle["objects"].as_array().cloned().unwrap_or_default();
        let registry = self.registry()?;
        let source = self.source_of(rec)?;
        let parsed = source
            .as_ref()
            .and_then(|(name, text)| crate::reports::parse(name, text.as_bytes()).ok());
        let guard = match &parsed {
            Some(r) => LeakGuard::new(r, &audience, &registry),
            None => LeakGuard::registry_only(&audience, &registry),
        };
        let cleared = clear_objects(&guard, &objects).map_err(|findings| {
            Error::new(
                Code::Leak,
                format!(
                    "what this change would send to `{}` was refused by the leak check; nothing was changed",
                    audience.name()
                ),
            )
            .with_details(findings.iter().map(|f| f.to_string()).collect())
        })?;
        Ok(Some(cleared))
    }

    /// The newest version of a report object in an audience's collection.
    fn latest_report(&self, audience: &str, report_id: &str) -> Result<Option<Value>> {
        let q = ObjectQuery {
            added_after: None,
            ids: vec![report_id.to_string()],
            types: vec![],
            versions: VersionMatch::Last,
            spec_versions: vec![],
            after_seq: None,
            limit: 1,
        };
        let page = self
            .store
            .objects(&Collection::Read(audience.to_string()), &q)?;
        Ok(page
            .objects
            .first()
            .and_then(|o| serde_json::from_str(&o.object.json).ok()))
    }
}
