//! The receiver's half: a warning received from a partner, followed until
//! someone at the receiving node decides.
//!
//! ```text
//! received → acknowledged → measures in force
//!          ↘ (review date passes, no decision) → review due
//! measures in force ──keep (with a new review date)──▶ measures in force
//! any open state ──(a person decides: lift, close)──▶ closed(outcome)
//! ```
//!
//! The review date is the end of the sender's window (after the sender's
//! extensions), or the date the receiver last chose to keep its measures
//! until. When the sender closes or withdraws the warning, the review is
//! due at once. **Measures in force are never lifted by the clock, nor by
//! the sender**: only a person at the receiver lifts them, with a reason,
//! or keeps them, with a new review date. A warning with no measures that
//! the sender withdraws closes as withdrawn; one the sender supersedes
//! closes as superseded, and its measures carry over to the new one.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Verdict;

/// How a received warning ended at the receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecvOutcome {
    /// The receiver lifted its measures.
    MeasuresLifted,
    /// The warned-of event occurred.
    EventOccurred,
    /// The window ended; no measures were in force.
    Ended,
    /// The sender re-issued it; its measures moved to the new warning.
    Superseded,
    /// The sender withdrew it.
    Withdrawn,
}

impl RecvOutcome {
    /// The outcome's name.
    pub fn name(self) -> &'static str {
        match self {
            RecvOutcome::MeasuresLifted => "measures-lifted",
            RecvOutcome::EventOccurred => "event-occurred",
            RecvOutcome::Ended => "ended",
            RecvOutcome::Superseded => "superseded",
            RecvOutcome::Withdrawn => "withdrawn",
        }
    }
}

impl FromStr for RecvOutcome {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "measures-lifted" | "lifted" => Ok(RecvOutcome::MeasuresLifted),
            "event-occurred" => Ok(RecvOutcome::EventOccurred),
            "ended" => Ok(RecvOutcome::Ended),
            "superseded" => Ok(RecvOutcome::Superseded),
            "withdrawn" => Ok(RecvOutcome::Withdrawn),
            _ => Err(format!(
                "unknown outcome `{s}`: expected measures-lifted, event-occurred, ended, superseded or withdrawn"
            )),
        }
    }
}

/// Where a received warning stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RecvState {
    /// Received; nobody has acknowledged it.
    Received,
    /// Acknowledged; no measures recorded.
    Acknowledged,
    /// Measures are in force.
    MeasuresInForce,
    /// The review date has passed (or the sender ended it) and no one has
    /// decided.
    ReviewDue,
    /// Someone decided, or the sender superseded or withdrew it.
    Closed(RecvOutcome),
}

impl RecvState {
    /// The state's name, as listed.
    pub fn name(self) -> &'static str {
        match self {
            RecvState::Received => "received",
            RecvState::Acknowledged => "acknowledged",
            RecvState::MeasuresInForce => "measures in force",
            RecvState::ReviewDue => "review due",
            RecvState::Closed(_) => "closed",
        }
    }

    /// Whether it is still open.
    pub fn is_open(self) -> bool {
        !matches!(self, RecvState::Closed(_))
    }
}

impl fmt::Display for RecvState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RecvState::Closed(o) => write!(f, "closed ({})", o.name()),
            s => f.write_str(s.name()),
        }
    }
}

/// What happened to a received warning, at either end.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum RecvKind {
    /// It arrived from the sender.
    Received {
        /// The remote it came from.
        remote: String,
    },
    /// The receiver acknowledged it.
    Acknowledged {
        /// What it said.
        text: String,
    },
    /// The receiver put measures in force.
    Measures {
        /// The measures.
        text: String,
    },
    /// Measures in force on the warning this one supersedes carried over.
    CarriedOver {
        /// The superseded received warning.
        from: i64,
    },
    /// The receiver keeps its measures until a new review date.
    Kept {
        /// The new review date.
        until: DateTime<Utc>,
        /// Why.
        text: String,
    },
    /// The receiver lifted its measures (closes it).
    Lifted {
        /// Why.
        reason: String,
    },
    /// The receiver closed it with an outcome.
    Closed {
        /// How it ended.
        outcome: RecvOutcome,
        /// Why.
        note: String,
    },
    /// The receiver judged its specificity.
    Judged {
        /// One verdict per dimension judged.
        verdicts: Vec<Verdict>,
    },
    /// The review date passed with no decision (recorded when first seen).
    ReviewDue,
    /// The sender extended the window.
    SenderExtended {
        /// The new end.
        until: DateTime<Utc>,
    },
    /// The sender closed it with its outcome.
    SenderClosed {
        /// The sender's outcome.
        outcome: String,
    },
    /// The sender withdrew it.
    SenderWithdrawn,
    /// The sender re-issued it as another received warning.
    Superseded {
        /// The received warning that replaces it.
        by: i64,
    },
    /// The sender recorded a response that arrived after it had closed the
    /// warning.
    SenderLate {
        /// What the sender said.
        text: String,
    },
}

/// One event of a received warning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecvEvent {
    /// When.
    pub at: DateTime<Utc>,
    /// Who (a user at the receiver, or `sender:REMOTE`).
    pub actor: String,
    /// What.
    #[serde(flatten)]
    pub kind: RecvKind,
}

/// A refused act on a received warning.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecvError {
    /// Nothing may be decided after closing.
    #[error("the received warning is closed ({0})")]
    Closed(&'static str),
    /// Keeping or lifting needs measures in force.
    #[error("no measures are in force: record them first (`measures`)")]
    NoMeasures,
    /// Closing with measures in force needs a decision about them.
    #[error("measures are in force: lift them (with a reason) or keep them (with a new review date); closing does not end them")]
    MeasuresInForce,
    /// A new review date must be in the future.
    #[error("the new review date {0} is not after now")]
    NotLater(String),
    /// Some outcomes are the sender's to cause.
    #[error("`{0}` follows from the sender's act, not from a close")]
    SendersOutcome(&'static str),
}

/// A received warning: the sender's window and the events at both ends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// Start of the sender's window.
    pub valid_from: Option<DateTime<Utc>>,
    /// End of the sender's window as first received.
    pub valid_until: DateTime<Utc>,
    /// The timeline, oldest first.
    pub events: Vec<RecvEvent>,
}

impl Received {
    fn has(&self, f: impl Fn(&RecvKind) -> bool) -> bool {
        self.events.iter().any(|e| f(&e.kind))
    }

    /// The end of the sender's window, after its extensions.
    pub fn window_end(&self) -> DateTime<Utc> {
        self.events
            .iter()
            .filter_map(|e| match e.kind {
                RecvKind::SenderExtended { until } => Some(until),
                _ => None,
            })
            .fold(self.valid_until, |a, b| a.max(b))
    }

    /// When the receiver must decide: the end of the sender's window or
    /// the date it last kept its measures until, whichever is later; at
    /// once when the sender closed or withdrew it (unless the receiver kept
    /// its measures after that).
    pub fn review_at(&self) -> DateTime<Utc> {
        let kept = self.events.iter().rev().find_map(|e| match e.kind {
            RecvKind::Kept { until, .. } => Some((e.at, until)),
            _ => None,
        });
        let base = kept.map_or(self.window_end(), |(_, k)| k.max(self.window_end()));
        let ended = self.events.iter().find_map(|e| match e.kind {
            RecvKind::SenderClosed { .. } | RecvKind::SenderWithdrawn => Some(e.at),
            _ => None,
        });
        match (ended, kept) {
            (Some(t), Some((kept_at, _))) if kept_at >= t => base,
            (Some(t), _) => base.min(t),
            (None, _) => base,
        }
    }

    /// Whether measures are in force.
    pub fn measures_in_force(&self) -> bool {
        self.has(|k| matches!(k, RecvKind::Measures { .. } | RecvKind::CarriedOver { .. }))
    }

    /// The state at `now`.
    pub fn state(&self, now: DateTime<Utc>) -> RecvState {
        for e in self.events.iter().rev() {
            match &e.kind {
                RecvKind::Closed { outcome, .. } => return RecvState::Closed(*outcome),
                RecvKind::Lifted { .. } => return RecvState::Closed(RecvOutcome::MeasuresLifted),
                RecvKind::Superseded { .. } => return RecvState::Closed(RecvOutcome::Superseded),
                _ => {}
            }
        }
        let measures = self.measures_in_force();
        if self.has(|k| matches!(k, RecvKind::SenderWithdrawn)) && !measures {
            return RecvState::Closed(RecvOutcome::Withdrawn);
        }
        if now >= self.review_at() {
            return RecvState::ReviewDue;
        }
        if measures {
            RecvState::MeasuresInForce
        } else if self.has(|k| matches!(k, RecvKind::Acknowledged { .. })) {
            RecvState::Acknowledged
        } else {
            RecvState::Received
        }
    }

    /// Time left before the review (negative when overdue).
    pub fn time_left(&self, now: DateTime<Utc>) -> chrono::Duration {
        self.review_at() - now
    }

    /// Checks that `kind` may happen at `now`; `None` when it would change
    /// nothing (a second review-due for the same date).
    pub fn admit(&self, kind: &RecvKind, now: DateTime<Utc>) -> Result<Option<()>, RecvError> {
        let state = self.state(now);
        let sender_act = matches!(
            kind,
            RecvKind::SenderExtended { .. }
                | RecvKind::SenderClosed { .. }
                | RecvKind::SenderWithdrawn
                | RecvKind::SenderLate { .. }
                | RecvKind::Superseded { .. }
                | RecvKind::Received { .. }
                | RecvKind::CarriedOver { .. }
        );
        if let RecvState::Closed(o) = state {
            // The sender's acts are still recorded; the receiver's judgement
            // is still welcome; nothing else.
            return match kind {
                _ if sender_act => Ok(Some(())),
                RecvKind::Judged { .. } => Ok(Some(())),
                RecvKind::ReviewDue => Ok(None),
                _ => Err(RecvError::Closed(o.name())),
            };
        }
        match kind {
            RecvKind::Kept { until, .. } => {
                if !self.measures_in_force() {
                    return Err(RecvError::NoMeasures);
                }
                if *until <= now {
                    return Err(RecvError::NotLater(until.to_rfc3339()));
                }
            }
            RecvKind::Lifted { .. } if !self.measures_in_force() => {
                return Err(RecvError::NoMeasures)
            }
            RecvKind::Closed { outcome, .. } => match outcome {
                RecvOutcome::Superseded => return Err(RecvError::SendersOutcome("superseded")),
                RecvOutcome::Withdrawn if !self.has(|k| matches!(k, RecvKind::SenderWithdrawn)) => {
                    return Err(RecvError::SendersOutcome("withdrawn"))
                }
                RecvOutcome::MeasuresLifted if !self.measures_in_force() => {
                    return Err(RecvError::NoMeasures)
                }
                RecvOutcome::Ended | RecvOutcome::Withdrawn if self.measures_in_force() => {
                    return Err(RecvError::MeasuresInForce)
                }
                _ => {}
            },
            RecvKind::ReviewDue => {
                let at = self.review_at();
                let recorded = self
                    .events
                    .iter()
                    .any(|e| matches!(e.kind, RecvKind::ReviewDue) && e.at >= at);
                if state != RecvState::ReviewDue || recorded {
                    return Ok(None);
                }
            }
            _ => {}
        }
        Ok(Some(()))
    }
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

    fn ev(h: i64, kind: RecvKind) -> RecvEvent {
        RecvEvent {
            at: t(h),
            actor: "desk".into(),
            kind,
        }
    }

    fn received() -> Received {
        Received {
            valid_from: Some(t(0)),
            valid_until: t(48),
            events: vec![ev(
                1,
                RecvKind::Received {
                    remote: "sender".into(),
                },
            )],
        }
    }

    fn push(r: &mut Received, h: i64, k: RecvKind) {
        assert_eq!(r.admit(&k, t(h)), Ok(Some(())), "{k:?} at {h}");
        r.events.push(ev(h, k));
    }

    #[test]
    fn measures_are_never_lifted_by_the_clock() {
        let mut r = received();
        assert_eq!(r.state(t(2)), RecvState::Received);
        push(&mut r, 2, RecvKind::Acknowledged { text: "ok".into() });
        assert_eq!(r.state(t(3)), RecvState::Acknowledged);
        push(
            &mut r,
            3,
            RecvKind::Measures {
                text: "patrols".into(),
            },
        );
        assert_eq!(r.state(t(4)), RecvState::MeasuresInForce);
        // The window ends: review due, however long nobody decides.
        assert_eq!(r.state(t(48)), RecvState::ReviewDue);
        assert_eq!(r.state(t(48 * 300)), RecvState::ReviewDue);
        // Closing as if nothing were in force is refused.
        let close = RecvKind::Closed {
            outcome: RecvOutcome::Ended,
            note: String::new(),
        };
        assert_eq!(r.admit(&close, t(50)), Err(RecvError::MeasuresInForce));
        // Keep them, with a new review date.
        push(
            &mut r,
            50,
            RecvKind::Kept {
                until: t(96),
                text: "festival".into(),
            },
        );
        assert_eq!(r.state(t(60)), RecvState::MeasuresInForce);
        assert_eq!(r.state(t(96)), RecvState::ReviewDue);
        // Lift them, with a reason.
        push(
            &mut r,
            97,
            RecvKind::Lifted {
                reason: "threat assessed as past".into(),
            },
        );
        assert_eq!(
            r.state(t(98)),
            RecvState::Closed(RecvOutcome::MeasuresLifted)
        );
        assert!(matches!(
            r.admit(
                &RecvKind::Acknowledged {
                    text: String::new()
                },
                t(99)
            ),
            Err(RecvError::Closed(_))
        ));
    }

    #[test]
    fn the_senders_acts_move_the_review() {
        let mut r = received();
        push(&mut r, 2, RecvKind::SenderExtended { until: t(72) });
        assert_eq!(r.window_end(), t(72));
        assert_eq!(r.state(t(60)), RecvState::Received);
        // A withdrawal with no measures closes it.
        let mut w = r.clone();
        push(&mut w, 3, RecvKind::SenderWithdrawn);
        assert_eq!(w.state(t(4)), RecvState::Closed(RecvOutcome::Withdrawn));
        // With measures in force it is due for a decision at once.
        push(
            &mut r,
            3,
            RecvKind::Measures {
                text: "guards".into(),
            },
        );
        push(&mut r, 4, RecvKind::SenderWithdrawn);
        assert_eq!(r.state(t(5)), RecvState::ReviewDue);
        push(
            &mut r,
            6,
            RecvKind::Closed {
                outcome: RecvOutcome::EventOccurred,
                note: String::new(),
            },
        );
        assert_eq!(r.state(t(7)), RecvState::Closed(RecvOutcome::EventOccurred));
    }

    #[test]
    fn review_due_is_recorded_once_per_date_and_outcomes_are_checked() {
        let mut r = received();
        assert_eq!(r.admit(&RecvKind::ReviewDue, t(10)), Ok(None), "not yet");
        push(&mut r, 49, RecvKind::ReviewDue);
        assert_eq!(r.admit(&RecvKind::ReviewDue, t(50)), Ok(None), "once");
        assert_eq!(
            r.admit(
                &RecvKind::Kept {
                    until: t(100),
                    text: String::new()
                },
                t(50)
            ),
            Err(RecvError::NoMeasures)
        );
        assert!(matches!(
            r.admit(
                &RecvKind::Closed {
                    outcome: RecvOutcome::Superseded,
                    note: String::new()
                },
                t(50)
            ),
            Err(RecvError::SendersOutcome(_))
        ));
        push(
            &mut r,
            50,
            RecvKind::Closed {
                outcome: RecvOutcome::Ended,
                note: "nothing happened".into(),
            },
        );
        assert_eq!(r.state(t(51)), RecvState::Closed(RecvOutcome::Ended));
        // Judgement and the sender's acts are still recorded after closing.
        assert_eq!(
            r.admit(&RecvKind::Judged { verdicts: vec![] }, t(52)),
            Ok(Some(()))
        );
        assert_eq!(
            r.admit(&RecvKind::SenderLate { text: "x".into() }, t(52)),
            Ok(Some(()))
        );
    }
}
