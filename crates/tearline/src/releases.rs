//! `check`, `release`, `request` and `verify`.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;
use tearline_node::reports::{self, Assessment, Format, Issued, ReleaseInput, Released};
use tearline_node::{Caller, Node};
use tearline_release::{Dimension, Severity};

use crate::out::{self, plural};

/// The exit code of a release held for a second person's approval.
pub const HELD: u8 = 9;

/// `tearline check REPORT`: lint, and every audience's release side by
/// side. Exit 5 on lint errors, 4 when some audience would be refused.
pub fn check(n: &Node, path: &Path, as_json: bool) -> Result<u8> {
    let (report, _) = reports::read_report(path)?;
    let a = n.assess(report)?;
    let related = n.related_file(path)?;
    if as_json {
        print_json(&a, &related)?;
    } else {
        print_check(&a);
        println!();
        println!("related warnings and documents:");
        crate::reading::print_related(&related);
    }
    Ok(if a.has_errors() {
        tearline_node::Code::Lint.exit()
    } else if a.has_leaks() {
        tearline_node::Code::Leak.exit()
    } else {
        0
    })
}

fn print_json(a: &Assessment, related: &[tearline_node::reading::RelatedDoc]) -> Result<u8> {
    let audiences: Vec<_> = a
        .audiences
        .iter()
        .map(|x| {
            let rel = &x.release;
            json!({
                "audience": x.audience.name(),
                "max": x.audience.max(),
                "portions_kept": rel.portions().iter().map(|p| p.source_number()).collect::<Vec<_>>(),
                "portions_withheld": rel.withheld(),
                "spans_generalised": rel.generalised(),
                "terms_replaced": rel.terms_replaced(),
                "specificity": rel.profile(),
                "costs": x.costs,
                "leak_check": if x.leaks.is_empty() { "pass" } else { "refused" },
                "leaks": x.leak_lines,
            })
        })
        .collect();
    out::json(&json!({
        "report": a.report.name(),
        "related": related,
        "title": a.report.meta().title,
        "portions": a.report.portions().len(),
        "spans": a.report.spans().count(),
        "findings": a.lint,
        "full": { "specificity": a.full },
        "audiences": audiences,
    }))
}

fn print_lint(a: &Assessment) {
    for f in &a.lint {
        let sev = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        eprintln!("{sev}: {}", reports::lint_line(&a.report, f));
    }
}

fn print_check(a: &Assessment) {
    let report = &a.report;
    print_lint(a);
    if !a.lint.is_empty() {
        eprintln!();
    }
    println!(
        "{}: {} portions, {} spans",
        report.name(),
        report.portions().len(),
        report.spans().count()
    );
    let n = report.portions().len();
    let mut header = vec!["".to_string(), "full report".to_string()];
    header.extend(
        a.audiences
            .iter()
            .map(|x| format!("{} (≤{})", x.audience.name(), x.audience.max().name())),
    );
    let mut kept = vec!["portions".to_string(), format!("{n} of {n}")];
    kept.extend(
        a.audiences
            .iter()
            .map(|x| format!("{} of {n}", x.release.portions().len())),
    );
    let mut gen = vec!["generalised".to_string(), "-".to_string()];
    gen.extend(a.audiences.iter().map(|x| {
        format!(
            "{}, {}",
            plural(x.release.generalised().len(), "span"),
            plural(x.release.terms_replaced(), "term")
        )
    }));
    let mut table = vec![header, kept, gen];
    for d in Dimension::ALL {
        let mut row = vec![d.name().to_string(), a.full.grade_name(d).to_string()];
        row.extend(a.audiences.iter().map(|x| {
            let p = x.release.profile();
            if p.grade(d) < a.full.grade(d) {
                format!("{} ↓", p.grade_name(d))
            } else {
                p.grade_name(d).to_string()
            }
        }));
        table.push(row);
    }
    let mut leak = vec!["leak check".to_string(), "-".to_string()];
    leak.extend(a.audiences.iter().map(|x| {
        if x.leaks.is_empty() {
            "pass".to_string()
        } else {
            format!("REFUSED ({})", x.leaks.len())
        }
    }));
    table.push(leak);
    println!();
    out::table(&table);
    for x in &a.audiences {
        if !x.costs.is_empty() {
            println!();
            println!("{} loses:", x.audience.name());
            for c in &x.costs {
                println!("  {}: {} → {} ({})", c.dimension, c.from, c.to, c.reason);
            }
        }
        if !x.leaks.is_empty() {
            println!();
            println!("{} would be refused:", x.audience.name());
            for l in &x.leak_lines {
                println!("  {l}");
            }
        }
    }
}

/// Prints an issued release: to standard output, or a line saying where
/// it went.
fn print_issued(report_name: &str, to: &str, output: Option<&Path>, i: &Issued) -> Result<()> {
    match output {
        Some(p) => eprintln!(
            "released `{report_name}` to `{to}` as {} ({} of {} portions, {} withheld; release {}; {} objects in collection {})",
            p.display(),
            i.kept,
            i.total,
            i.withheld,
            i.record.id,
            i.objects,
            i.collection
        ),
        None => {
            let mut out = std::io::stdout().lock();
            out.write_all(&i.bytes)
                .and_then(|_| out.flush())
                .context("failed to write the release to standard output")?;
        }
    }
    if let Some(old) = i.superseded {
        eprintln!(
            "warning {old} closed: superseded by release {}",
            i.record.id
        );
    }
    Ok(())
}

/// `tearline release REPORT --to AUDIENCE`.
pub fn release(
    n: &Node,
    me: &Caller,
    path: &Path,
    to: &str,
    format: Format,
    output: Option<&Path>,
    supersedes: Option<i64>,
) -> Result<u8> {
    let (report, bytes) = reports::read_report(path)?;
    let input = ReleaseInput {
        report: &report,
        source: &bytes,
        audience: to,
        format,
        output,
        supersedes,
        draft: None,
    };
    match n.release(me, &input)? {
        Released::Issued(i) => {
            print_issued(report.name(), to, output, &i)?;
            Ok(0)
        }
        Released::Requested(r) => {
            eprintln!(
                "the two-person rule holds releases outside `internal`: request {} waits for a second person (`tearline request approve {}`, run by someone other than {}); nothing was released yet",
                r.id, r.id, r.requested_by
            );
            Ok(HELD)
        }
    }
}

/// `tearline request list`.
pub fn requests(n: &Node, me: &Caller, as_json: bool) -> Result<u8> {
    let rs = n.requests(me)?;
    if as_json {
        return out::json(&rs);
    }
    if rs.is_empty() {
        println!("no release requests");
    }
    for r in rs {
        println!(
            "{:>4}  {:<9} to {:<14} by {:<12} {}  sha256 {}",
            r.id,
            r.state,
            r.audience,
            r.requested_by,
            r.requested_at,
            r.report_sha256.get(..12).unwrap_or(&r.report_sha256)
        );
    }
    Ok(0)
}

/// `tearline request approve N`.
pub fn approve(
    n: &Node,
    me: &Caller,
    id: i64,
    note: &str,
    format: Format,
    output: Option<&Path>,
) -> Result<u8> {
    let i = n.approve(me, id, note, format, output)?;
    let name = format!("request {id}");
    print_issued(&name, &i.record.release.audience, output, &i)?;
    Ok(0)
}

/// `tearline request reject N`.
pub fn reject(n: &Node, me: &Caller, id: i64, note: &str) -> Result<u8> {
    n.reject(me, id, note)?;
    println!("request {id} rejected; nothing was released");
    Ok(0)
}

/// `tearline verify BUNDLE --key PUB`.
pub fn verify(path: &Path, key: &str) -> Result<u8> {
    let (count, key_id) = reports::verify_bundle(path, key)?;
    println!(
        "{}: all {count} objects verified with key {key_id}",
        path.display()
    );
    Ok(0)
}
