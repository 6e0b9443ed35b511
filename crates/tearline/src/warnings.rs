//! `warnings`, `warning N`, `warning close`, `warning extend`, and
//! re-issue.

use anyhow::{Context, Result};
use serde_json::json;
use tearline_lifecycle::apply::{apply, tick, warning, ApplyError};
use tearline_lifecycle::{describe_time_left, EventKind, Outcome, State};
use tearline_store::WarningRecord;

use crate::exit::{coded, BAD_INPUT};
use crate::node::{self, Node};

fn applied(e: ApplyError) -> anyhow::Error {
    match e {
        ApplyError::Lifecycle(l) => coded(BAD_INPUT, l.to_string()),
        other => anyhow::Error::new(other),
    }
}

fn find(node: &Node, id: i64) -> Result<WarningRecord> {
    node.store
        .warning(id)
        .context("failed to read warnings")?
        .ok_or_else(|| {
            coded(
                BAD_INPUT,
                format!("no warning {id}: `tearline warnings` lists them"),
            )
        })
}

/// A warning that is still open, or an error saying why not.
pub fn open_warning(node: &Node, id: i64) -> Result<WarningRecord> {
    let rec = find(node, id)?;
    let state = warning(&rec).map_err(applied)?.state(node::now()?);
    if !state.is_open() {
        return Err(coded(BAD_INPUT, format!("warning {id} is already {state}")));
    }
    Ok(rec)
}

/// Closes warning `old` as superseded by release `by`.
pub fn supersede(node: &mut Node, old: i64, by: i64) -> Result<()> {
    let now = node::now()?;
    let rec = find(node, old)?;
    apply(
        node.store.as_mut(),
        &rec,
        EventKind::Reissued { by },
        &node.actor,
        now,
    )
    .map_err(applied)?;
    let rec = find(node, old)?;
    let note = format!("re-issued as release {by}");
    apply(
        node.store.as_mut(),
        &rec,
        EventKind::Closed {
            outcome: Outcome::Superseded,
            note,
        },
        &node.actor,
        now,
    )
    .map_err(applied)?;
    node.write_head()?;
    eprintln!("warning {old} closed: superseded by release {by}");
    Ok(())
}

const ORDER: [&str; 6] = [
    "review due",
    "issued",
    "delivered",
    "acknowledged",
    "measures recorded",
    "closed",
];

pub fn list(node: &mut Node, as_json: bool) -> Result<u8> {
    let now = node::now()?;
    let due = tick(node.store.as_mut(), now).map_err(applied)?;
    if due > 0 {
        node.write_head()?;
    }
    let mut rows = Vec::new();
    for rec in node.store.warnings().context("failed to read warnings")? {
        let w = warning(&rec).map_err(applied)?;
        rows.push((rec, w.state(now), w.time_left(now), w.window_end()));
    }
    rows.sort_by_key(|(r, s, left, _)| (ORDER.iter().position(|o| *o == s.name()), *left, r.id));
    if as_json {
        let v: Vec<_> = rows
            .iter()
            .map(|(r, s, left, end)| {
                json!({
                    "id": r.id,
                    "state": s.name(),
                    "outcome": match s { State::Closed(o) => Some(o.name()), _ => None },
                    "audience": r.warning.audience,
                    "title": r.warning.title,
                    "window_end": node::stamp(*end),
                    "seconds_left": left.num_seconds(),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    if rows.is_empty() {
        println!("no warnings: a release of a report with `valid_until` is followed here");
        return Ok(0);
    }
    let mut current = "";
    for (r, s, left, _) in &rows {
        if s.name() != current {
            current = s.name();
            println!("\n{}", current.to_uppercase());
        }
        let when = if s.is_open() {
            describe_time_left(*left)
        } else {
            s.to_string()
        };
        println!(
            "  {:>4}  {:<16} {:<18} {}",
            r.id, r.warning.audience, when, r.warning.title
        );
    }
    Ok(0)
}

pub fn show(node: &mut Node, id: i64, as_json: bool) -> Result<u8> {
    let now = node::now()?;
    if tick(node.store.as_mut(), now).map_err(applied)? > 0 {
        node.write_head()?;
    }
    let rec = find(node, id)?;
    let w = warning(&rec).map_err(applied)?;
    let state = w.state(now);
    if as_json {
        let v = json!({
            "id": rec.id,
            "report_id": rec.warning.report_id,
            "audience": rec.warning.audience,
            "title": rec.warning.title,
            "state": state.name(),
            "outcome": match state { State::Closed(o) => Some(o.name()), _ => None },
            "valid_from": rec.warning.valid_from,
            "window_end": node::stamp(w.window_end()),
            "events": w.events,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    println!("warning {}: {}", rec.id, rec.warning.title);
    println!("  audience  {}", rec.warning.audience);
    println!("  report    {}", rec.warning.report_id);
    println!(
        "  window    {} → {}",
        rec.warning.valid_from.as_deref().unwrap_or("(issue)"),
        node::stamp(w.window_end())
    );
    let when = if state.is_open() {
        format!(", {}", describe_time_left(w.time_left(now)))
    } else {
        String::new()
    };
    println!("  state     {state}{when}");
    println!();
    for e in &w.events {
        let what = match &e.kind {
            EventKind::Issued => "issued".to_string(),
            EventKind::Delivered { partner } => format!("delivered to {partner}"),
            EventKind::Acknowledged { partner, text } => {
                format!("acknowledged by {partner}: {text}")
            }
            EventKind::Measures { partner, text } => {
                format!("measures recorded by {partner}: {text}")
            }
            EventKind::Feedback { partner, text } => format!("feedback from {partner}: {text}"),
            EventKind::Extended { until } => format!("window extended to {}", node::stamp(*until)),
            EventKind::ReviewDue => "window ended without a decision: review due".to_string(),
            EventKind::Reissued { by } => format!("re-issued as release {by}"),
            EventKind::Closed { outcome, note } if note.is_empty() => {
                format!("closed: {}", outcome.name())
            }
            EventKind::Closed { outcome, note } => format!("closed: {} ({note})", outcome.name()),
        };
        println!("  {}  {:<14} {what}", node::stamp(e.at), e.actor);
    }
    if state == State::ReviewDue {
        println!("\nnext: `tearline warning close {id} --outcome ...` or `tearline warning extend {id} --until ...`");
    }
    Ok(0)
}

pub fn close(node: &mut Node, id: i64, outcome: &str, note: &str) -> Result<u8> {
    let outcome: Outcome = outcome.parse().map_err(|e: String| coded(BAD_INPUT, e))?;
    let rec = find(node, id)?;
    let now = node::now()?;
    let kind = EventKind::Closed {
        outcome,
        note: note.to_string(),
    };
    apply(node.store.as_mut(), &rec, kind, &node.actor, now).map_err(applied)?;
    node.write_head()?;
    println!("warning {id} closed: {}", outcome.name());
    Ok(0)
}

pub fn extend(node: &mut Node, id: i64, until: &str) -> Result<u8> {
    let until = chrono::DateTime::parse_from_rfc3339(until)
        .map_err(|e| {
            coded(
                BAD_INPUT,
                format!("--until `{until}` is not an RFC 3339 timestamp: {e}"),
            )
        })?
        .with_timezone(&chrono::Utc);
    let rec = find(node, id)?;
    let now = node::now()?;
    apply(
        node.store.as_mut(),
        &rec,
        EventKind::Extended { until },
        &node.actor,
        now,
    )
    .map_err(applied)?;
    node.write_head()?;
    println!("warning {id} now runs until {}", node::stamp(until));
    Ok(0)
}
