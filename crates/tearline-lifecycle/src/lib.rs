//! The warning lifecycle.
//!
//! A warning is a release with a validity window. What happens to it is a
//! list of [`Event`]s — issued, delivered (first fetch by a partner),
//! acknowledged, measures recorded, feedback, window extended, re-issued,
//! review due, closed with an [`Outcome`] — and its [`State`] is computed
//! from them and the time:
//!
//! ```text
//! issued → delivered → acknowledged → measures recorded
//!                                   ↘ (window ends, no decision) → review due
//! any open state ──(a person decides)──▶ closed(outcome)
//! ```
//!
//! The rule the crate exists for: **the clock never closes a warning**.
//! When the window ends without a decision the warning becomes *review due*
//! and stays so until a person closes or extends it. Pure: time is a
//! parameter.
#![deny(missing_docs)]

pub mod receiver;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a warning ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The threat was confirmed.
    Confirmed,
    /// The threat was not confirmed.
    NotConfirmed,
    /// The warned-of event occurred.
    EventOccurred,
    /// A newer warning replaced it.
    Superseded,
    /// The sender withdrew it.
    Withdrawn,
}

impl Outcome {
    /// The outcome's name.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Confirmed => "confirmed",
            Outcome::NotConfirmed => "not-confirmed",
            Outcome::EventOccurred => "event-occurred",
            Outcome::Superseded => "superseded",
            Outcome::Withdrawn => "withdrawn",
        }
    }
}

impl FromStr for Outcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "confirmed" => Ok(Outcome::Confirmed),
            "not-confirmed" => Ok(Outcome::NotConfirmed),
            "event-occurred" => Ok(Outcome::EventOccurred),
            "superseded" => Ok(Outcome::Superseded),
            "withdrawn" => Ok(Outcome::Withdrawn),
            _ => Err(format!("unknown outcome `{s}`: expected confirmed, not-confirmed, event-occurred, superseded or withdrawn")),
        }
    }
}

/// Where a warning stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Released; no partner has fetched it yet.
    Issued,
    /// A partner has fetched it.
    Delivered,
    /// A partner has acknowledged it.
    Acknowledged,
    /// A partner has recorded measures taken.
    MeasuresRecorded,
    /// The window has ended and no one has decided.
    ReviewDue,
    /// A person closed it.
    Closed(Outcome),
}

impl State {
    /// The state's name, as listed.
    pub fn name(self) -> &'static str {
        match self {
            State::Issued => "issued",
            State::Delivered => "delivered",
            State::Acknowledged => "acknowledged",
            State::MeasuresRecorded => "measures recorded",
            State::ReviewDue => "review due",
            State::Closed(_) => "closed",
        }
    }

    /// Whether the warning is still open.
    pub fn is_open(self) -> bool {
        !matches!(self, State::Closed(_))
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            State::Closed(o) => write!(f, "closed ({})", o.name()),
            s => f.write_str(s.name()),
        }
    }
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum EventKind {
    /// The warning was released.
    Issued,
    /// A partner fetched it for the first time.
    Delivered {
        /// The partner.
        partner: String,
    },
    /// A partner acknowledged it.
    Acknowledged {
        /// The partner.
        partner: String,
        /// What they said.
        text: String,
    },
    /// A partner recorded measures taken.
    Measures {
        /// The partner.
        partner: String,
        /// The measures.
        text: String,
    },
    /// A partner sent feedback.
    Feedback {
        /// The partner.
        partner: String,
        /// The feedback.
        text: String,
    },
    /// The window was extended.
    Extended {
        /// The new end.
        until: DateTime<Utc>,
    },
    /// The window ended without a decision (recorded when first seen).
    ReviewDue,
    /// A newer release replaced it.
    Reissued {
        /// The release that replaces it.
        by: i64,
    },
    /// A person closed it.
    Closed {
        /// How it ended.
        outcome: Outcome,
        /// Why.
        note: String,
    },
    /// A partner judged, for each of who / what / where / when / how,
    /// whether the warning says enough to act on.
    Judgement {
        /// The partner.
        partner: String,
        /// One verdict per dimension judged.
        verdicts: Vec<Verdict>,
    },
    /// A partner decided about its measures at the end of the window.
    Decided {
        /// The partner.
        partner: String,
        /// `kept`, `lifted` or `closed: OUTCOME`.
        decision: String,
        /// Until when measures are kept.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        until: Option<DateTime<Utc>>,
        /// Why.
        text: String,
    },
    /// A partner's acknowledgement or measures arrived after the warning
    /// was closed: recorded, and the partner told.
    Late {
        /// The partner.
        partner: String,
        /// What it sent: `acknowledgement` or `measures`.
        response: String,
        /// What it said.
        text: String,
    },
}

/// A partner's verdict on one dimension of a warning's specificity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// `who`, `what`, `where`, `when` or `how`.
    pub dimension: String,
    /// The warning says enough on this dimension to act.
    pub enough: bool,
    /// What more it needs ("which venues").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub need: String,
}

/// The dimensions a verdict may name, in order.
pub const DIMENSIONS: [&str; 5] = ["who", "what", "where", "when", "how"];

/// One event in a warning's timeline.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (a user, or `partner:NAME`).
    pub actor: String,
    /// What.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// A refused transition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    /// Nothing may follow a closing.
    #[error("warning is closed ({0}); re-issue it to warn again")]
    Closed(&'static str),
    /// An extension must move the end later.
    #[error("the new end {0} is not after the current end {1}")]
    NotLater(String, String),
}

/// A warning: its window and its events.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// Start of the window.
    pub valid_from: Option<DateTime<Utc>>,
    /// End of the window as issued.
    pub valid_until: DateTime<Utc>,
    /// The timeline, oldest first.
    pub events: Vec<Event>,
}

impl Warning {
    /// The end of the window, after any extensions.
    pub fn window_end(&self) -> DateTime<Utc> {
        self.events
            .iter()
            .filter_map(|e| match e.kind {
                EventKind::Extended { until } => Some(until),
                _ => None,
            })
            .fold(self.valid_until, |a, b| a.max(b))
    }

    /// The state at `now`.
    pub fn state(&self, now: DateTime<Utc>) -> State {
        if let Some(o) = self.events.iter().rev().find_map(|e| match &e.kind {
            EventKind::Closed { outcome, .. } => Some(*outcome),
            _ => None,
        }) {
            return State::Closed(o);
        }
        if now >= self.window_end() {
            return State::ReviewDue;
        }
        let has = |f: fn(&EventKind) -> bool| self.events.iter().any(|e| f(&e.kind));
        if has(|k| matches!(k, EventKind::Measures { .. })) {
            State::MeasuresRecorded
        } else if has(|k| matches!(k, EventKind::Acknowledged { .. })) {
            State::Acknowledged
        } else if has(|k| matches!(k, EventKind::Delivered { .. })) {
            State::Delivered
        } else {
            State::Issued
        }
    }

    /// Checks that `kind` may happen at `now`; returns `None` when it would
    /// change nothing (a second delivery to the same partner, a second
    /// review-due).
    pub fn admit(
        &self,
        kind: &EventKind,
        now: DateTime<Utc>,
    ) -> Result<Option<()>, LifecycleError> {
        let state = self.state(now);
        if let State::Closed(o) = state {
            // Feedback after closing is still welcome; nothing else is.
            return match kind {
                EventKind::Feedback { .. }
                | EventKind::Delivered { .. }
                | EventKind::Judgement { .. }
                | EventKind::Decided { .. }
                | EventKind::Late { .. } => Ok(self.fresh(kind).then_some(())),
                // A closed warning is never due.
                EventKind::ReviewDue => Ok(None),
                _ => Err(LifecycleError::Closed(o.name())),
            };
        }
        if let EventKind::Extended { until } = kind {
            if *until <= self.window_end() {
                return Err(LifecycleError::NotLater(
                    until.to_rfc3339(),
                    self.window_end().to_rfc3339(),
                ));
            }
        }
        if matches!(kind, EventKind::ReviewDue) && state != State::ReviewDue {
            return Ok(None);
        }
        Ok(self.fresh(kind).then_some(()))
    }

    /// Whether an event adds something: deliveries are recorded once per
    /// partner, review-due once per window end.
    fn fresh(&self, kind: &EventKind) -> bool {
        match kind {
            EventKind::Delivered { partner } => !self
                .events
                .iter()
                .any(|e| matches!(&e.kind, EventKind::Delivered { partner: p } if p == partner)),
            EventKind::ReviewDue => {
                let end = self.window_end();
                !self
                    .events
                    .iter()
                    .any(|e| matches!(e.kind, EventKind::ReviewDue) && e.at >= end)
            }
            _ => true,
        }
    }

    /// Time left in the window (negative when overdue).
    pub fn time_left(&self, now: DateTime<Utc>) -> chrono::Duration {
        self.window_end() - now
    }
}

/// One partner's part in a warning, as its events tell it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PartnerState {
    /// When it first fetched the warning.
    pub delivered: Option<DateTime<Utc>>,
    /// It acknowledged the warning.
    pub acknowledged: bool,
    /// It recorded measures.
    pub measures: bool,
    /// Its last judgement of the warning's specificity.
    pub judgement: Vec<Verdict>,
    /// Its last decision about its measures (`kept`, `lifted`, ...).
    pub decision: Option<String>,
    /// A response of it arrived after the warning was closed.
    pub late: bool,
}

impl PartnerState {
    /// The dimensions it judged not enough to act on, with what it needs.
    pub fn needs(&self) -> Vec<&Verdict> {
        self.judgement.iter().filter(|v| !v.enough).collect()
    }
}

impl Warning {
    /// Each partner that took part, by name.
    pub fn partner_states(&self) -> std::collections::BTreeMap<String, PartnerState> {
        let mut out: std::collections::BTreeMap<String, PartnerState> = Default::default();
        for e in &self.events {
            match &e.kind {
                EventKind::Delivered { partner } => {
                    out.entry(partner.clone()).or_default().delivered = Some(e.at)
                }
                EventKind::Acknowledged { partner, .. } => {
                    out.entry(partner.clone()).or_default().acknowledged = true
                }
                EventKind::Measures { partner, .. } => {
                    out.entry(partner.clone()).or_default().measures = true
                }
                EventKind::Judgement { partner, verdicts } => {
                    out.entry(partner.clone()).or_default().judgement = verdicts.clone()
                }
                EventKind::Decided {
                    partner,
                    decision,
                    until,
                    ..
                } => {
                    out.entry(partner.clone()).or_default().decision = Some(match until {
                        Some(u) => format!("{decision} until {}", u.format("%Y-%m-%d %H:%M UTC")),
                        None => decision.clone(),
                    })
                }
                EventKind::Late { partner, .. } => {
                    out.entry(partner.clone()).or_default().late = true
                }
                _ => {}
            }
        }
        out
    }
}

/// "2d 3h left" or "5h overdue".
pub fn describe_time_left(d: chrono::Duration) -> String {
    let (abs, suffix) = if d < chrono::Duration::zero() {
        (-d, "overdue")
    } else {
        (d, "left")
    };
    let days = abs.num_days();
    let hours = abs.num_hours() % 24;
    let minutes = abs.num_minutes() % 60;
    let text = if days > 0 {
        format!("{days}d {hours}h")
    } else if hours > 0 {
        format!("{hours}h {minutes}m")
    } else {
        format!("{minutes}m")
    };
    format!("{text} {suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(h: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-03-20T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
            + chrono::Duration::hours(h)
    }

    fn ev(h: i64, kind: EventKind) -> Event {
        Event {
            at: t(h),
            actor: "x".into(),
            kind,
        }
    }

    fn warning() -> Warning {
        Warning {
            valid_from: Some(t(0)),
            valid_until: t(48),
            events: vec![ev(0, EventKind::Issued)],
        }
    }

    #[test]
    fn states_follow_events_and_the_clock_never_closes() {
        let mut w = warning();
        assert_eq!(w.state(t(1)), State::Issued);
        w.events.push(ev(
            2,
            EventKind::Delivered {
                partner: "north".into(),
            },
        ));
        assert_eq!(w.state(t(3)), State::Delivered);
        w.events.push(ev(
            3,
            EventKind::Acknowledged {
                partner: "north".into(),
                text: "received".into(),
            },
        ));
        assert_eq!(w.state(t(4)), State::Acknowledged);
        w.events.push(ev(
            5,
            EventKind::Measures {
                partner: "north".into(),
                text: "patrols doubled".into(),
            },
        ));
        assert_eq!(w.state(t(6)), State::MeasuresRecorded);
        // The window ends: review due, for as long as no one decides.
        assert_eq!(w.state(t(48)), State::ReviewDue);
        assert_eq!(w.state(t(48 * 365)), State::ReviewDue);
        w.events.push(ev(50, EventKind::Extended { until: t(72) }));
        assert_eq!(w.state(t(51)), State::MeasuresRecorded);
        assert_eq!(w.state(t(72)), State::ReviewDue);
        w.events.push(ev(
            73,
            EventKind::Closed {
                outcome: Outcome::NotConfirmed,
                note: "no attack".into(),
            },
        ));
        assert_eq!(w.state(t(74)), State::Closed(Outcome::NotConfirmed));
        assert!(!w.state(t(74)).is_open());
    }

    #[test]
    fn transitions_are_checked() {
        let mut w = warning();
        let d = EventKind::Delivered {
            partner: "north".into(),
        };
        assert_eq!(w.admit(&d, t(1)), Ok(Some(())));
        w.events.push(ev(1, d.clone()));
        assert_eq!(w.admit(&d, t(2)), Ok(None), "one delivery per partner");
        assert_eq!(
            w.admit(&EventKind::ReviewDue, t(2)),
            Ok(None),
            "not due before the end"
        );
        assert_eq!(w.admit(&EventKind::ReviewDue, t(49)), Ok(Some(())));
        w.events.push(ev(49, EventKind::ReviewDue));
        assert_eq!(
            w.admit(&EventKind::ReviewDue, t(50)),
            Ok(None),
            "recorded once"
        );
        assert!(matches!(
            w.admit(&EventKind::Extended { until: t(40) }, t(50)),
            Err(LifecycleError::NotLater(..))
        ));
        w.events.push(ev(
            50,
            EventKind::Closed {
                outcome: Outcome::Confirmed,
                note: String::new(),
            },
        ));
        assert!(matches!(
            w.admit(
                &EventKind::Acknowledged {
                    partner: "n".into(),
                    text: String::new()
                },
                t(51)
            ),
            Err(LifecycleError::Closed(_))
        ));
        assert_eq!(
            w.admit(
                &EventKind::Feedback {
                    partner: "n".into(),
                    text: "thanks".into()
                },
                t(51)
            ),
            Ok(Some(()))
        );
        assert_eq!(
            w.admit(&EventKind::ReviewDue, t(500)),
            Ok(None),
            "a closed warning is never due"
        );
    }

    #[test]
    fn time_left_reads_well() {
        assert_eq!(
            describe_time_left(chrono::Duration::hours(50)),
            "2d 2h left"
        );
        assert_eq!(
            describe_time_left(chrono::Duration::minutes(-90)),
            "1h 30m overdue"
        );
    }
}

/// Applying events to stored warnings.
pub mod apply {
    use chrono::{DateTime, SecondsFormat, Utc};
    use tearline_store::{
        NewObject, Outgoing, ReceivedRecord, Store, StoreError, StoredEvent, WarningRecord,
    };

    use crate::receiver::{Received, RecvError, RecvEvent, RecvKind};
    use crate::{Event, EventKind, LifecycleError, Warning};

    /// Why an event could not be applied.
    #[derive(Debug, thiserror::Error)]
    pub enum ApplyError {
        /// The lifecycle does not allow it.
        #[error(transparent)]
        Lifecycle(#[from] LifecycleError),
        /// The receiver's lifecycle does not allow it.
        #[error(transparent)]
        Received(#[from] RecvError),
        /// The store failed.
        #[error(transparent)]
        Store(#[from] StoreError),
        /// A stored warning does not read back.
        #[error("warning {0} is corrupt: {1}")]
        Corrupt(i64, String),
        /// There is no such warning.
        #[error("no warning {0}: `tearline warnings` lists them")]
        Missing(i64),
        /// Other writers kept changing the warning.
        #[error("warning {0} kept changing while this change was being recorded: try again")]
        Busy(i64),
    }

    fn time(id: i64, s: &str) -> Result<DateTime<Utc>, ApplyError> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| ApplyError::Corrupt(id, format!("`{s}`: {e}")))
    }

    /// The lifecycle view of a stored warning.
    pub fn warning(rec: &WarningRecord) -> Result<Warning, ApplyError> {
        let events = rec
            .events
            .iter()
            .map(|e| {
                serde_json::from_str::<Event>(&e.event)
                    .map_err(|x| ApplyError::Corrupt(rec.id, x.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Warning {
            valid_from: rec
                .warning
                .valid_from
                .as_deref()
                .map(|v| time(rec.id, v))
                .transpose()?,
            valid_until: time(rec.id, &rec.warning.valid_until)?,
            events,
        })
    }

    /// The stored form of an event.
    pub fn stored(e: &Event) -> StoredEvent {
        StoredEvent {
            at: e.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            actor: e.actor.clone(),
            event: serde_json::to_string(e).unwrap_or_default(),
        }
    }

    /// Applies `kind` to warning `id` if the lifecycle allows it at `now`;
    /// the store records the event and its audit entry together, and only
    /// if no other event arrived since the warning was read (otherwise the
    /// warning is read again and the event checked again). Returns false
    /// when the event would change nothing.
    pub fn apply(
        store: &dyn Store,
        id: i64,
        kind: EventKind,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, ApplyError> {
        apply_with(store, id, kind, actor, now, &Outgoing::default())
    }

    /// [`apply`], sending `out` (objects for the audience, a reply to a
    /// partner) in the event's transaction.
    pub fn apply_with(
        store: &dyn Store,
        id: i64,
        kind: EventKind,
        actor: &str,
        now: DateTime<Utc>,
        out: &Outgoing<'_>,
    ) -> Result<bool, ApplyError> {
        for _ in 0..16 {
            let rec = store.warning(id)?.ok_or(ApplyError::Missing(id))?;
            if !admit(&rec, &kind, now)? {
                return Ok(false);
            }
            let e = stored(&Event {
                at: now,
                actor: actor.to_string(),
                kind: kind.clone(),
            });
            if store.warning_event(id, rec.events.len(), &e, out)? {
                return Ok(true);
            }
        }
        Err(ApplyError::Busy(id))
    }

    /// Whether the lifecycle lets `kind` happen to a stored warning now;
    /// false when it would change nothing.
    fn admit(
        rec: &WarningRecord,
        kind: &EventKind,
        now: DateTime<Utc>,
    ) -> Result<bool, ApplyError> {
        Ok(warning(rec)?.admit(kind, now)?.is_some())
    }

    /// Records "review due" for every open warning whose window has ended;
    /// returns how many became due. The clock never closes a warning.
    pub fn tick(store: &dyn Store, now: DateTime<Utc>) -> Result<usize, ApplyError> {
        let mut n = 0;
        for rec in store.warnings()? {
            if admit(&rec, &EventKind::ReviewDue, now)?
                && apply(store, rec.id, EventKind::ReviewDue, "clock", now)?
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// The lifecycle view of a received warning.
    pub fn received(rec: &ReceivedRecord) -> Result<Received, ApplyError> {
        let events = rec
            .events
            .iter()
            .map(|e| {
                serde_json::from_str::<RecvEvent>(&e.event)
                    .map_err(|x| ApplyError::Corrupt(rec.id, x.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Received {
            valid_from: rec
                .warning
                .valid_from
                .as_deref()
                .map(|v| time(rec.id, v))
                .transpose()?,
            valid_until: time(rec.id, &rec.warning.valid_until)?,
            events,
        })
    }

    /// The stored form of a received warning's event.
    pub fn stored_received(e: &RecvEvent) -> StoredEvent {
        StoredEvent {
            at: e.at.to_rfc3339_opts(SecondsFormat::Millis, true),
            actor: e.actor.clone(),
            event: serde_json::to_string(e).unwrap_or_default(),
        }
    }

    /// Applies `kind` to received warning `id` if the receiver's lifecycle
    /// allows it at `now`, queuing `responses` to the sender in the same
    /// transaction; serialised like [`apply`]. Returns false when it would
    /// change nothing.
    pub fn apply_received(
        store: &dyn Store,
        id: i64,
        kind: RecvKind,
        actor: &str,
        now: DateTime<Utc>,
        responses: &[NewObject],
    ) -> Result<bool, ApplyError> {
        for _ in 0..16 {
            let rec = store.received_warning(id)?.ok_or(ApplyError::Missing(id))?;
            if received(&rec)?.admit(&kind, now)?.is_none() {
                return Ok(false);
            }
            let e = stored_received(&RecvEvent {
                at: now,
                actor: actor.to_string(),
                kind: kind.clone(),
            });
            if store.received_event(id, rec.events.len(), &e, responses)? {
                return Ok(true);
            }
        }
        Err(ApplyError::Busy(id))
    }

    /// Records "review due" for every open received warning whose review
    /// date has passed; returns how many became due. The clock never lifts
    /// measures.
    pub fn tick_received(store: &dyn Store, now: DateTime<Utc>) -> Result<usize, ApplyError> {
        let mut n = 0;
        for rec in store.received_warnings()? {
            if received(&rec)?.admit(&RecvKind::ReviewDue, now)?.is_some()
                && apply_received(store, rec.id, RecvKind::ReviewDue, "clock", now, &[])?
            {
                n += 1;
            }
        }
        Ok(n)
    }
}
