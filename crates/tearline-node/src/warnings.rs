//! Warnings at the sender: listing them by state, one warning's timeline,
//! and the decisions a person makes (close with an outcome, extend).
//!
//! Every read first records "review due" for warnings whose window has
//! ended, so what is shown is never a lapsed window that looks open. The
//! clock never closes a warning.

use chrono::{DateTime, Duration, Utc};
use tearline_lifecycle::apply::{apply, stored, tick, warning};
use tearline_lifecycle::{Event, EventKind, Outcome, State};
use tearline_store::{StoredEvent, WarningRecord};

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

/// A partner of the warning's audience, and whether it has fetched it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The partner.
    pub partner: String,
    /// It has fetched the warning.
    pub fetched: bool,
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
    /// The audience's partners and whether each has fetched it.
    pub partners: Vec<Delivery>,
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
    }
}

impl Node {
    /// Records "review due" for every warning whose window has ended.
    fn review_tick(&self) -> Result<()> {
        tick(&*self.store, self.now())?;
        Ok(())
    }

    fn row(&self, rec: &WarningRecord, now: DateTime<Utc>) -> Result<WarningRow> {
        let w = warning(rec)?;
        let fetched: Vec<&str> = w
            .events
            .iter()
            .filter_map(|e| match &e.kind {
                EventKind::Delivered { partner } => Some(partner.as_str()),
                _ => None,
            })
            .collect();
        let partners = self
            .store
            .partners()?
            .into_iter()
            .filter(|p| p.audience == rec.warning.audience)
            .map(|p| Delivery {
                fetched: fetched.contains(&p.name.as_str()),
                partner: p.name,
            })
            .collect();
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

    /// One warning with its timeline.
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
        })
    }

    /// Closes a warning with its outcome.
    pub fn close_warning(
        &self,
        caller: &Caller,
        id: i64,
        outcome: Outcome,
        note: &str,
    ) -> Result<()> {
        caller.may_decide("close or extend a warning")?;
        let kind = EventKind::Closed {
            outcome,
            note: note.trim().to_string(),
        };
        apply(&*self.store, id, kind, caller.name(), self.now())?;
        Ok(())
    }

    /// Extends a warning's window to `until`.
    pub fn extend_warning(&self, caller: &Caller, id: i64, until: DateTime<Utc>) -> Result<()> {
        caller.may_decide("close or extend a warning")?;
        apply(
            &*self.store,
            id,
            EventKind::Extended { until },
            caller.name(),
            self.now(),
        )?;
        Ok(())
    }
}
