//! Reading and exchange: `extract`, `ingest`, `cases`, `case`, `related`,
//! `sync`, `respond`, `received`.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde_json::json;
use tearline_node::reading::{self, Progress, RelatedDoc};
use tearline_node::{Caller, Node};

use crate::out;

/// `tearline extract FILE`.
pub fn extract(
    file: &Path,
    published: Option<&str>,
    lang: Option<&str>,
    as_json: bool,
) -> Result<u8> {
    let x = reading::extract_file(file, published, lang)?;
    if as_json {
        return out::json(&x);
    }
    for e in &x.entities {
        let mut extra = Vec::new();
        if let Some(k) = e.place_kind {
            extra.push(format!("{k:?}").to_lowercase());
        }
        if let Some(p) = &e.parent_name {
            extra.push(format!("in {p}"));
        }
        if let Some(r) = &e.role {
            extra.push(format!("role: {r}"));
        }
        if let Some(f) = &e.figure {
            extra.push(reading::figure_text(f));
        }
        if let Some(s) = &e.speaker {
            extra.push(format!("by {s}"));
        }
        if let Some(s) = &e.according_to {
            extra.push(format!("according to {s}"));
        }
        if let Some(d) = &e.description {
            extra.push(format!("\"{d}\""));
        }
        let text: String = e.text.chars().take(70).collect();
        println!(
            "{:>5}-{:<5} {:<9} {:<40} {}{}",
            e.start,
            e.end,
            e.kind.name(),
            out::safe(&text.replace('\n', " ")),
            out::safe(&e.name),
            if extra.is_empty() {
                String::new()
            } else {
                format!("  ({})", extra.join(", "))
            }
        );
    }
    Ok(0)
}

/// `tearline ingest PATH...`: a progress bar in bytes on long runs, each
/// refused document named as it is met. Exit 3 if any was refused.
pub fn ingest(n: &Node, me: &Caller, paths: &[PathBuf], published: Option<&str>) -> Result<u8> {
    let bar = indicatif::ProgressBar::new(0);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let s = n.ingest(me, paths, published, &mut |p| match p {
        // Drawn on a terminal only, and only for runs worth watching.
        Progress::Start { files, bytes } => {
            bar.set_length(bytes);
            if bytes < 4 * 1024 * 1024 && files < 50 {
                bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
            }
        }
        Progress::Read(b) => bar.inc(b),
        Progress::Refused(msg) => bar.suspend(|| eprintln!("error: {msg}")),
        Progress::Stored(k) => bar.set_message(format!("{k} stored")),
    })?;
    bar.finish_and_clear();
    println!(
        "{} document(s) stored ({} joined an existing case, {} case(s) merged), {} unchanged, {} refused",
        s.stored, s.joined, s.merged, s.unchanged, s.refused
    );
    Ok(if s.refused > 0 {
        tearline_node::Code::BadInput.exit()
    } else {
        0
    })
}

/// `tearline cases`.
pub fn cases(n: &Node, as_json: bool) -> Result<u8> {
    let rows = n.cases()?;
    if as_json {
        return out::json(&rows);
    }
    if rows.is_empty() {
        println!("no cases yet: `tearline ingest PATH` reads documents in");
    }
    for r in &rows {
        println!(
            "case {:<5} {:>3} doc(s)  {} .. {}  {}",
            r.id,
            r.documents,
            r.from,
            r.until,
            r.key_entities.join(", ")
        );
        for t in &r.titles {
            println!("             - {}", out::safe(t));
        }
    }
    Ok(0)
}

/// `tearline cases rebuild`.
pub fn rebuild_cases(n: &Node, me: &Caller, as_json: bool) -> Result<u8> {
    let r = n.rebuild_cases(me)?;
    if as_json {
        return out::json(&r);
    }
    println!(
        "{} document(s) relinked: {} case(s) before, {} after; {} document(s) changed case",
        r.documents, r.cases_before, r.cases_after, r.moved
    );
    Ok(0)
}

/// `tearline case ID`.
pub fn case(n: &Node, id: i64, as_json: bool) -> Result<u8> {
    let v = n.case(id)?;
    if as_json {
        return out::json(&v);
    }
    println!("case {id}: {} document(s)", v.documents.len());
    for d in &v.documents {
        println!(
            "  [{}] {}{}  ({}, {})",
            d.seq,
            d.marking
                .as_deref()
                .map_or(String::new(), |m| format!("({}) ", out::safe(m))),
            out::safe(&d.title),
            out::safe(d.published.as_deref().unwrap_or("undated")),
            out::safe(&d.source)
        );
    }
    for m in &v.merged {
        println!(
            "  merged from case {} on {} by document {} (shares {})",
            m.from,
            out::safe(&m.at),
            out::safe(&m.by),
            out::safe(&m.shared.join(", "))
        );
    }
    println!("\nentities");
    for e in v.entities.iter().take(15) {
        println!(
            "  {:<40} {} doc(s)  {}  [{}]",
            out::safe(&e.name),
            e.documents,
            out::safe(&e.id),
            out::safe(&e.aliases.join(" / "))
        );
    }
    println!("\ntimeline");
    for t in &v.timeline {
        let text: String = t.text.chars().take(100).collect();
        println!(
            "  {} {:<12} {}  — {}",
            t.date,
            t.part_of_day.as_deref().unwrap_or(""),
            out::safe(&text.replace('\n', " ")),
            out::safe(&t.document)
        );
    }
    println!("\nfacts");
    for f in &v.facts {
        println!(
            "  {}{}",
            f.fact,
            if f.conflict {
                "  ** sources disagree **"
            } else {
                ""
            }
        );
        for c in &f.claims {
            println!("    {:<30} {}", out::safe(&c.value), out::safe(&c.doc));
        }
    }
    Ok(0)
}

/// Prints `related` as text.
pub fn print_related(rel: &[RelatedDoc]) {
    if rel.is_empty() {
        println!("nothing stored shares a distinctive entity with it");
        return;
    }
    for r in rel {
        let which = |w: &tearline_node::reading::RelatedWarning| match &w.received_from {
            Some(remote) => format!("received warning {} from {remote}", w.id),
            None => format!("warning {} to {}", w.id, w.audience),
        };
        let flag = match &r.warning {
            Some(w) if w.live => format!("  ** {} ({}; {}) **", which(w), w.state, w.note),
            Some(w) => format!("  ({}, {}; {})", which(w), w.state, w.note),
            None => String::new(),
        };
        println!(
            "  [{}] {} (case {}, {}){flag}\n        shares: {}",
            r.seq,
            out::safe(&r.title),
            r.case,
            out::safe(
                r.published
                    .as_deref()
                    .map(|p| p.get(..10).unwrap_or(p))
                    .unwrap_or("undated")
            ),
            out::safe(&r.shared.join(", "))
        );
    }
}

/// `tearline related DRAFT`.
pub fn related(n: &Node, path: &Path, as_json: bool) -> Result<u8> {
    let rel = n.related_file(path)?;
    if as_json {
        return out::json(&rel);
    }
    println!("related to {}:", path.display());
    print_related(&rel);
    Ok(0)
}

/// `tearline sync NAME`.
pub fn sync(n: &Node, me: &Caller, name: &str) -> Result<u8> {
    let s = n.sync(me, name)?;
    println!(
        "synced with `{name}`: {} objects in {} pages from {} collection(s); {} responses sent",
        s.pulled, s.pages, s.collections, s.pushed
    );
    if s.new_warnings > 0 || s.changed > 0 {
        println!(
            "{} new warning(s) received, {} change(s) by the sender: `tearline received` lists them",
            s.new_warnings, s.changed
        );
    }
    for m in &s.notices {
        println!("the sender says: {}", out::safe(m));
    }
    if s.linked > 0 {
        println!("{} received report(s) read and linked into cases", s.linked);
    }
    for m in &s.not_linked {
        eprintln!(
            "warning: a received report was not linked: {}",
            out::safe(m)
        );
    }
    // What the sync brought is announced at once; a channel that fails is
    // tried again later and does not fail the sync.
    match n.notify(me) {
        Ok(sent) => {
            if sent.delivered > 0 {
                println!("{} notification(s) sent", sent.delivered);
            }
            for f in &sent.failed {
                eprintln!("warning: {f} (tried again next time)");
            }
        }
        Err(e) => eprintln!("warning: notifications were not sent: {e}"),
    }
    Ok(0)
}

/// `tearline respond REMOTE REPORT --kind K --text T`.
pub fn respond(
    n: &Node,
    me: &Caller,
    remote: &str,
    report: &str,
    kind: &str,
    text: &str,
) -> Result<u8> {
    n.respond(me, remote, report, kind, text)?;
    println!("queued {kind} for {report}; `tearline sync {remote}` sends it");
    Ok(0)
}

/// `tearline received REMOTE`.
pub fn received(n: &Node, me: &Caller, remote: &str, as_json: bool) -> Result<u8> {
    let rows = n.received_reports(me, remote)?;
    if as_json {
        let v: Vec<_> = rows
            .iter()
            .map(|r| {
                json!({
                    "id": r.id,
                    "name": r.name,
                    "published": r.published,
                    "marking": r.marking,
                    "valid_until": r.valid_until,
                    "received": r.received,
                })
            })
            .collect();
        return out::json(&v);
    }
    for r in rows {
        println!(
            "{}  {}  {}  valid until {}",
            out::safe(&r.id),
            out::safe(r.marking.as_deref().unwrap_or("")),
            out::safe(&r.name),
            out::safe(r.valid_until.as_deref().unwrap_or("-"))
        );
    }
    Ok(0)
}
