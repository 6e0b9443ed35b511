//! `received`: warnings received from partners, and the receiver's acts.

use anyhow::Result;
use serde_json::json;
use tearline_lifecycle::describe_time_left;
use tearline_lifecycle::receiver::RecvOutcome;
use tearline_lifecycle::{Verdict, DIMENSIONS};
use tearline_node::received::{Act, ReceivedRow};
use tearline_node::{stamp, Caller, Error, Node};

use crate::out;
use crate::ReceivedCmd;

fn row_json(r: &ReceivedRow) -> serde_json::Value {
    json!({
        "id": r.id,
        "remote": r.remote,
        "report_id": r.report_id,
        "title": r.title,
        "marking": r.marking,
        "state": r.state.name(),
        "outcome": match r.state {
            tearline_lifecycle::receiver::RecvState::Closed(o) => Some(o.name()),
            _ => None,
        },
        "window_end": stamp(r.window_end),
        "review_at": stamp(r.review_at),
        "seconds_left": r.time_left.num_seconds(),
        "measures_in_force": r.measures,
        "supersedes": r.supersedes,
        "superseded_by": r.superseded_by,
    })
}

/// `tearline received [REMOTE]`.
pub fn list(n: &Node, me: &Caller, remote: Option<&str>, as_json: bool) -> Result<u8> {
    let rows = n.received_warnings(me, remote)?;
    if as_json {
        return out::json(&rows.iter().map(row_json).collect::<Vec<_>>());
    }
    if rows.is_empty() {
        println!(
            "no received warnings: `tearline sync REMOTE` pulls what partners release to this node"
        );
        return Ok(0);
    }
    let mut current = "";
    for r in &rows {
        if r.state.name() != current {
            current = r.state.name();
            println!("\n{}", current.to_uppercase());
        }
        let when = if r.state.is_open() {
            format!("review {}", describe_time_left(r.time_left))
        } else {
            r.state.to_string()
        };
        println!(
            "  {:>4}  {:<12} {:<22} {}",
            r.id,
            r.remote,
            when,
            out::safe(&r.title)
        );
    }
    Ok(0)
}

/// `tearline received show ID`.
pub fn show(n: &Node, me: &Caller, id: i64, as_json: bool) -> Result<u8> {
    let v = n.received_warning(me, id)?;
    if as_json {
        let mut j = row_json(&v.row);
        j["valid_from"] = json!(v.valid_from);
        j["received_at"] = json!(v.received_at);
        j["judgement"] = json!(v.judgement);
        j["events"] = v
            .events
            .iter()
            .map(|e| {
                let mut x = serde_json::to_value(&e.kind).unwrap_or_default();
                x["at"] = json!(stamp(e.at));
                x["actor"] = json!(e.actor);
                x["side"] = json!(e.side);
                x
            })
            .collect();
        return out::json(&j);
    }
    let r = &v.row;
    println!("received warning {}: {}", r.id, out::safe(&r.title));
    println!("  from      {} ({})", r.remote, out::safe(&r.report_id));
    println!(
        "  marking   {}",
        out::safe(r.marking.as_deref().unwrap_or("-"))
    );
    println!(
        "  window    {} → {}",
        v.valid_from.as_deref().unwrap_or("(received)"),
        stamp(r.window_end)
    );
    let when = if r.state.is_open() {
        format!(
            ", review {} ({})",
            describe_time_left(r.time_left),
            stamp(r.review_at)
        )
    } else {
        String::new()
    };
    println!("  state     {}{when}", r.state);
    if let Some(s) = r.supersedes {
        println!("  re-issues received warning {s}");
    }
    if let Some(b) = r.superseded_by {
        println!("  re-issued as received warning {b}");
    }
    println!();
    for e in &v.events {
        println!(
            "  {}  {:<8} {:<16} {}",
            stamp(e.at),
            e.side,
            out::safe(&e.actor),
            out::safe(&e.text)
        );
    }
    if r.state == tearline_lifecycle::receiver::RecvState::ReviewDue {
        println!(
            "\nnext: `tearline received keep {id} --until ...` or `tearline received lift {id} --reason ...`{}",
            if r.measures { "" } else { " or `tearline received close ... --outcome ended`" }
        );
    }
    Ok(0)
}

fn time(s: &str, what: &str) -> Result<chrono::DateTime<chrono::Utc>> {
    Ok(chrono::DateTime::parse_from_rfc3339(s)
        .map_err(|e| Error::bad(format!("{what} `{s}` is not an RFC 3339 timestamp: {e}")))?
        .with_timezone(&chrono::Utc))
}

/// The verdicts of `--enough` and `--need`.
fn verdicts(enough: &[String], need: &[String]) -> Result<Vec<Verdict>> {
    let dim = |d: &str| -> Result<String> {
        let d = d.trim().to_lowercase();
        if DIMENSIONS.contains(&d.as_str()) {
            Ok(d)
        } else {
            Err(Error::bad(format!(
                "`{d}` is not a dimension: expected who, what, where, when or how"
            ))
            .into())
        }
    };
    let mut out = Vec::new();
    for e in enough.iter().filter(|e| !e.trim().is_empty()) {
        out.push(Verdict {
            dimension: dim(e)?,
            enough: true,
            need: String::new(),
        });
    }
    for n in need {
        let (d, what) = n.split_once('=').unwrap_or((n.as_str(), ""));
        out.push(Verdict {
            dimension: dim(d)?,
            enough: false,
            need: what.trim().to_string(),
        });
    }
    if out.is_empty() {
        return Err(Error::bad(
            "judge at least one dimension: --enough who,when or --need \"where=which venues\"",
        )
        .into());
    }
    Ok(out)
}

/// One of the receiver's acts.
pub fn act(n: &Node, me: &Caller, cmd: ReceivedCmd) -> Result<u8> {
    let (id, act, done) = match cmd {
        ReceivedCmd::Acknowledge { id, text } => (id, Act::Acknowledge { text }, "acknowledged"),
        ReceivedCmd::Measures { id, text } => (id, Act::Measures { text }, "measures recorded"),
        ReceivedCmd::Keep { id, until, text } => {
            let until = time(&until, "--until")?;
            (id, Act::Keep { until, text }, "measures kept")
        }
        ReceivedCmd::Lift { id, reason } => (id, Act::Lift { reason }, "measures lifted"),
        ReceivedCmd::Close { id, outcome, note } => {
            let outcome: RecvOutcome = outcome.parse().map_err(Error::bad)?;
            (id, Act::Close { outcome, note }, "closed")
        }
        ReceivedCmd::Judge { id, enough, need } => (
            id,
            Act::Judge {
                verdicts: verdicts(&enough, &need)?,
            },
            "judged",
        ),
        ReceivedCmd::Show { .. } | ReceivedCmd::Reports { .. } => {
            return Err(anyhow::anyhow!("bug: not an act"))
        }
    };
    n.received_act(me, id, act)?;
    println!("received warning {id}: {done}; the response goes to the sender at the next `tearline sync`");
    Ok(0)
}
