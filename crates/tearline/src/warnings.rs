//! `warnings`, `warning N`, `warning close`, `warning extend`.

use anyhow::Result;
use serde_json::json;
use tearline_lifecycle::{describe_time_left, Outcome, State};
use tearline_node::{stamp, Caller, Error, Node};

use crate::out;
use crate::releases;

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
                    "partners": r.partners.iter().map(|p| json!({"name": p.partner, "fetched": p.fetched, "acknowledged": p.state.acknowledged, "measures": p.state.measures, "needs": p.state.needs(), "decision": p.state.decision, "late": p.state.late})).collect::<Vec<_>>(),
                    "partners_summary": r.summary(),
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
            "partners": w.row.partners.iter().map(|p| json!({"name": p.partner, "fetched": p.fetched, "acknowledged": p.state.acknowledged, "measures": p.state.measures, "judgement": p.state.judgement, "needs": p.state.needs(), "decision": p.state.decision, "late": p.state.late})).collect::<Vec<_>>(),
            "costs": w.costs,
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
    if !w.row.partners.is_empty() {
        println!("  partners  {}", w.row.summary());
        for p in &w.row.partners {
            let mut parts = vec![if p.fetched { "fetched" } else { "not fetched" }.to_string()];
            if p.state.acknowledged {
                parts.push("acknowledged".into());
            }
            if p.state.measures {
                parts.push("measures".into());
            }
            if let Some(d) = &p.state.decision {
                parts.push(format!("measures {}", out::safe(d)));
            }
            if p.state.late {
                parts.push("late response".into());
            }
            println!("    {:<14} {}", p.partner, parts.join(", "));
            for v in p.state.needs() {
                println!(
                    "      needs more on {}: {}",
                    v.dimension,
                    out::safe(&v.need)
                );
            }
        }
    }
    if !w.costs.is_empty() {
        println!("  what this release's cuts cost:");
        for c in &w.costs {
            println!("    {}: {} → {} ({})", c.dimension, c.from, c.to, c.reason);
        }
    }
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

pub fn withdraw(n: &Node, me: &Caller, id: i64, note: &str) -> Result<u8> {
    n.withdraw_warning(me, id, note)?;
    println!("warning {id} withdrawn; partners see its report revoked at their next fetch");
    Ok(0)
}

/// `tearline warning reissue N REPORT`: a release of the updated report to
/// the warning's audience that supersedes it.
pub fn reissue(
    n: &Node,
    me: &Caller,
    id: i64,
    report: &std::path::Path,
    format: tearline_node::reports::Format,
    output: Option<&std::path::Path>,
) -> Result<u8> {
    let audience = n.warning(me, id)?.row.audience;
    releases::release(n, me, report, &audience, format, output, Some(id))
}

/// `tearline warning source N`.
pub fn source(n: &Node, me: &Caller, id: i64) -> Result<u8> {
    match n.warning_source(me, id)? {
        Some((_, text)) => {
            print!("{text}");
            Ok(0)
        }
        None => Err(Error::not_found(format!(
            "the source of warning {id} is not kept (it was released by an older Tearline)"
        ))
        .into()),
    }
}
