//! `warnings`, `warning N`, `warning close`, `warning extend`.

use anyhow::Result;
use serde_json::json;
use tearline_lifecycle::{describe_time_left, Outcome, State};
use tearline_node::{stamp, Caller, Error, Node};

use crate::out;

fn outcome_of(s: State) -> Option<&'static str> {
    match s {
        State::Closed(o) => Some(o.name()),
        _ => None,
    }
}

pub fn list(n: &Node, me: &Caller, as_json: bool) -> Result<u8> {
    let rows = n.warnings(me)?;
    if as_json {
        let v: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "state": r.state.name(),
                    "outcome": outcome_of(r.state),
                    "audience": r.audience,
                    "title": r.title,
                    "window_end": stamp(r.window_end),
                    "seconds_left": r.time_left.num_seconds(),
                    "partners": r.partners.iter().map(|p| json!({"name": p.partner, "fetched": p.fetched})).collect::<Vec<_>>(),
                })
            })
            .collect();
        return out::json(&v);
    }
    if rows.is_empty() {
        println!("no warnings: a release of a report with `valid_until` is followed here");
        return Ok(0);
    }
    let mut current = "";
    for r in &rows {
        if r.state.name() != current {
            current = r.state.name();
            println!("\n{}", current.to_uppercase());
        }
        let when = if r.state.is_open() {
            describe_time_left(r.time_left)
        } else {
            r.state.to_string()
        };
        println!(
            "  {:>4}  {:<16} {:<18} {}",
            r.id,
            r.audience,
            when,
            out::safe(&r.title)
        );
    }
    Ok(0)
}

pub fn show(n: &Node, me: &Caller, id: i64, as_json: bool) -> Result<u8> {
    let w = n.warning(me, id)?;
    let state = w.row.state;
    if as_json {
        let events: Vec<_> = w
            .events
            .iter()
            .map(|e| tearline_lifecycle::Event {
                at: e.at,
                actor: e.actor.clone(),
                kind: e.kind.clone(),
            })
            .collect();
        return out::json(&json!({
            "id": w.row.id,
            "report_id": w.report_id,
            "audience": w.row.audience,
            "title": w.row.title,
            "state": state.name(),
            "outcome": outcome_of(state),
            "valid_from": w.valid_from,
            "window_end": stamp(w.row.window_end),
            "events": events,
        }));
    }
    println!("warning {}: {}", w.row.id, out::safe(&w.row.title));
    println!("  audience  {}", w.row.audience);
    println!("  report    {}", w.report_id);
    println!(
        "  window    {} → {}",
        w.valid_from.as_deref().unwrap_or("(issue)"),
        stamp(w.row.window_end)
    );
    let when = if state.is_open() {
        format!(", {}", describe_time_left(w.row.time_left))
    } else {
        String::new()
    };
    println!("  state     {state}{when}");
    println!();
    for e in &w.events {
        println!(
            "  {}  {:<14} {}",
            stamp(e.at),
            out::safe(&e.actor),
            out::safe(&e.text)
        );
    }
    if state == State::ReviewDue {
        println!("\nnext: `tearline warning close {id} --outcome ...` or `tearline warning extend {id} --until ...`");
    }
    Ok(0)
}

pub fn close(n: &Node, me: &Caller, id: i64, outcome: &str, note: &str) -> Result<u8> {
    let outcome: Outcome = outcome.parse().map_err(Error::bad)?;
    n.close_warning(me, id, outcome, note)?;
    println!("warning {id} closed: {}", outcome.name());
    Ok(0)
}

pub fn extend(n: &Node, me: &Caller, id: i64, until: &str) -> Result<u8> {
    let until = chrono::DateTime::parse_from_rfc3339(until)
        .map_err(|e| {
            Error::bad(format!(
                "--until `{until}` is not an RFC 3339 timestamp: {e}"
            ))
        })?
        .with_timezone(&chrono::Utc);
    n.extend_warning(me, id, until)?;
    println!("warning {id} now runs until {}", stamp(until));
    Ok(0)
}
