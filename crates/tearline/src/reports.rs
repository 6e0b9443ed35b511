//! `check` and `release`.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;
use sha2::{Digest, Sha256};
use tearline_model::{parse_report, Audience, Report, MAX_REPORT_BYTES};
use tearline_release::{
    clear, costs, everything, lint, render_json, render_markdown, Cleared, Dimension, LeakFinding,
    LeakGuard, LintFinding, Registry, Release, Rendered, Severity,
};
use tearline_stix::{Producer, SigningKey};
use tearline_store::NewRelease;

use crate::exit::{coded, BAD_INPUT, LEAK, LINT, SIGNATURE};
use crate::node::{self, Node};
use crate::Format;

/// Reads and parses a report, refusing oversized files before reading them.
pub fn read_report(path: &Path) -> Result<(Report, Vec<u8>)> {
    let name = path.display().to_string();
    let meta = std::fs::metadata(path)
        .map_err(|e| coded(BAD_INPUT, format!("failed to read report `{name}`: {e}")))?;
    if meta.len() > MAX_REPORT_BYTES as u64 {
        return Err(coded(
            BAD_INPUT,
            format!(
                "{name}:1:1: report is {} bytes; the limit is {MAX_REPORT_BYTES} bytes (10 MiB)",
                meta.len()
            ),
        ));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| coded(BAD_INPUT, format!("failed to read report `{name}`: {e}")))?;
    let report = parse_report(&name, &bytes).map_err(|e| coded(BAD_INPUT, e.to_string()))?;
    Ok((report, bytes))
}

/// Renders and leak-checks one audience's release.
pub fn cleared(
    report: &Report,
    audience: &Audience,
    registry: &Registry,
    format: Format,
    producer: &Producer,
    key: &SigningKey,
    file_name: Option<&str>,
) -> Result<(Release, Result<Cleared, Vec<LeakFinding>>)> {
    let release = Release::build(report, audience, registry);
    let guard = LeakGuard::new(report, audience, registry);
    let rendered = match format {
        Format::Md => Rendered::Text(render_markdown(&release)),
        Format::Json => Rendered::Json(render_json(&release)),
        Format::Stix => {
            let mut b = tearline_stix::bundle(&release, producer, node::now()?);
            tearline_stix::sign_bundle(&mut b, key);
            Rendered::Json(b)
        }
    };
    let outcome = clear(&guard, &release, rendered, file_name);
    Ok((release, outcome))
}

pub fn producer(node: &Node) -> Producer {
    Producer::new(&node.config.node.name, node.config.node.created)
}

fn print_lint(report: &Report, findings: &[LintFinding]) {
    for f in findings {
        let sev = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        eprintln!(
            "{sev}: {}:{}:{}: {} [{}]",
            report.name(),
            f.line,
            f.column,
            f.message,
            f.code
        );
    }
}

pub fn leak_lines(report: &Report, findings: &[LeakFinding]) -> Vec<String> {
    findings
        .iter()
        .map(|f| {
            if f.in_source {
                format!("{}:{f}", report.name())
            } else {
                f.to_string()
            }
        })
        .collect()
}

/// Why a release was not issued.
pub enum Refused {
    /// The report has lint errors.
    Lint(Vec<LintFinding>),
    /// The leak check refused the release (each finding as a line); `stix`
    /// when it was the STIX form delivered to the collection.
    Leak { lines: Vec<String>, stix: bool },
}

/// A release that was recorded and delivered.
pub struct Issued {
    pub cleared: Cleared,
    pub record: tearline_store::ReleaseRecord,
    pub kept: usize,
    pub withheld: usize,
    pub objects: usize,
    pub collection: String,
    pub warning: bool,
}

/// Releases a parsed report to one audience: lint, build, leak check,
/// record with its audit entry, deliver its STIX form to the audience's
/// collection, open a warning when it has a window, link the report into
/// cases, and move a staged output file into place. Nothing is written
/// when it is refused.
#[allow(clippy::too_many_arguments)]
pub fn issue(
    node: &mut Node,
    report: &Report,
    bytes: &[u8],
    to: &str,
    format: Format,
    output: Option<&Path>,
    supersedes: Option<i64>,
) -> Result<std::result::Result<Issued, Refused>> {
    if let Some(old) = supersedes {
        // Check before anything is written.
        crate::warnings::open_warning(node, old)?;
    }
    let audience = node.audience(to)?.clone();
    let registry = node.registry()?;
    let errors: Vec<_> = lint(report, &node.config.audiences, &registry)
        .into_iter()
        .filter(|f| f.severity == Severity::Error)
        .collect();
    if !errors.is_empty() {
        return Ok(Err(Refused::Lint(errors)));
    }
    let file_name = output
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().to_string());
    let key = node.signing_key()?;
    let (rel, outcome) = cleared(
        report,
        &audience,
        &registry,
        format,
        &producer(node),
        &key,
        file_name.as_deref(),
    )?;
    let cleared = match outcome {
        Ok(c) => c,
        Err(leaks) => {
            return Ok(Err(Refused::Leak {
                lines: leak_lines(report, &leaks),
                stix: false,
            }))
        }
    };
    // Stage the file next to its destination, record the release, then
    // move the file into place: a failure at any step leaves no partial
    // output and no record of an output that was not written.
    let staged = match output {
        Some(p) => {
            let dir = p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            let mut tmp = tempfile::NamedTempFile::new_in(dir)
                .with_context(|| format!("failed to write `{}`", p.display()))?;
            use std::io::Write;
            tmp.write_all(cleared.bytes())
                .and_then(|_| tmp.as_file().sync_all())
                .with_context(|| format!("failed to write `{}`", p.display()))?;
            Some((tmp, p))
        }
        None => None,
    };
    let record = NewRelease {
        audience: cleared.audience().to_string(),
        format: format.name().to_string(),
        report_name: report.name().to_string(),
        report_title: report.meta().title.clone(),
        report_sha256: hex::encode(Sha256::digest(bytes)),
        content_sha256: hex::encode(Sha256::digest(cleared.bytes())),
        output: output.map(|p| p.display().to_string()),
    };
    // The release is also delivered: its STIX objects, cleared for the
    // same audience, go into the audience's TAXII collection.
    let objects = if format == Format::Stix {
        stix_objects(cleared.bytes())?
    } else {
        match self::cleared(
            report,
            &audience,
            &registry,
            Format::Stix,
            &producer(node),
            &key,
            None,
        )?
        .1
        {
            Ok(c) => stix_objects(c.bytes())?,
            Err(leaks) => {
                return Ok(Err(Refused::Leak {
                    lines: leak_lines(report, &leaks),
                    stix: true,
                }))
            }
        }
    };
    let collection = tearline_exchange::read_collection_id(audience.name());
    let now = node::now()?;
    let at = node::stamp(now);
    // A report with a validity window is a warning, followed until a
    // person closes it.
    let warning = match report.meta().valid_until {
        Some(until) => {
            let report_id = objects
                .iter()
                .find(|o| o.object_type == "report")
                .map(|o| o.id.clone())
                .context("bug: a STIX release has no report object")?;
            Some(tearline_store::NewWarning {
                report_id,
                audience: audience.name().to_string(),
                title: rel.title().to_string(),
                valid_from: report
                    .meta()
                    .valid_from
                    .map(|t| node::stamp(t.with_timezone(&chrono::Utc))),
                valid_until: node::stamp(until.with_timezone(&chrono::Utc)),
            })
        }
        None => None,
    };
    let issued = tearline_lifecycle::apply::stored(&tearline_lifecycle::Event {
        at: now,
        actor: node.actor.clone(),
        kind: tearline_lifecycle::EventKind::Issued,
    });
    let rec = node
        .store
        .record_release_published(
            &record,
            &node.actor,
            &at,
            &collection,
            &objects,
            warning.as_ref().map(|w| (w, &issued)),
        )
        .context("failed to record the release")?;
    node.write_head()?;
    if let Some(old) = supersedes {
        crate::warnings::supersede(node, old, rec.id)?;
    }
    // The full report joins the node's documents, so that later reports
    // and articles on the same threat are linked to it.
    if let Err(e) =
        crate::reading::ingest_report(node, report.name(), bytes, &record.report_sha256, &at)
    {
        eprintln!("warning: the release stands, but its report was not linked into cases: {e:#}");
    }
    if let Some((tmp, p)) = staged {
        tmp.persist(p)
            .map_err(|e| e.error)
            .with_context(|| format!("failed to write `{}`", p.display()))?;
    }
    Ok(Ok(Issued {
        cleared,
        record: rec,
        kept: rel.portions().len(),
        withheld: rel.withheld().len(),
        objects: objects.len(),
        collection,
        warning: warning.is_some(),
    }))
}

pub fn release(
    node: &mut Node,
    path: &Path,
    to: &str,
    format: Format,
    output: Option<&Path>,
    supersedes: Option<i64>,
) -> Result<u8> {
    let (report, bytes) = read_report(path)?;
    let issued = match issue(node, &report, &bytes, to, format, output, supersedes)? {
        Ok(i) => i,
        Err(Refused::Lint(errors)) => {
            print_lint(&report, &errors);
            return Err(coded(
                LINT,
                format!(
                    "`{}` has {} lint error(s); nothing was released",
                    report.name(),
                    errors.len()
                ),
            ));
        }
        Err(Refused::Leak { lines, stix }) => {
            for l in &lines {
                eprintln!("leak: {l}");
            }
            let what = if stix {
                format!("the STIX form of the release to `{to}` was refused by the leak check")
            } else {
                format!(
                    "release of `{}` to `{to}` refused by the leak check: {} finding(s)",
                    report.name(),
                    lines.len()
                )
            };
            return Err(coded(LEAK, format!("{what}; nothing was written")));
        }
    };
    match output {
        Some(p) => eprintln!(
            "released `{}` to `{to}` as {} ({} of {} portions, {} withheld; release {}; {} objects in collection {})",
            report.name(),
            p.display(),
            issued.kept,
            report.portions().len(),
            issued.withheld,
            issued.record.id,
            issued.objects,
            issued.collection
        ),
        None => {
            use std::io::Write;
            let mut out = std::io::stdout().lock();
            out.write_all(issued.cleared.bytes())
                .and_then(|_| out.flush())
                .context("failed to write the release to standard output")?;
        }
    }
    Ok(0)
}

pub fn check(node: &mut Node, path: &Path, as_json: bool) -> Result<u8> {
    let (report, _) = read_report(path)?;
    let registry = node.registry()?;
    let findings = lint(&report, &node.config.audiences, &registry);
    let full = Release::build(&report, &everything(), &registry);
    let producer = producer(node);
    let key = node.signing_key()?;
    let mut rows = Vec::new();
    for a in &node.config.audiences {
        let (rel, outcome) = cleared(&report, a, &registry, Format::Md, &producer, &key, None)?;
        let leaks = outcome.err().unwrap_or_default();
        rows.push((a, rel, leaks));
    }
    let has_errors = findings.iter().any(|f| f.severity == Severity::Error);
    let has_leaks = rows.iter().any(|(_, _, l)| !l.is_empty());

    if as_json {
        let audiences: Vec<_> = rows
            .iter()
            .map(|(a, rel, leaks)| {
                json!({
                    "audience": a.name(),
                    "max": a.max(),
                    "portions_kept": rel.portions().iter().map(|p| p.source_number()).collect::<Vec<_>>(),
                    "portions_withheld": rel.withheld(),
                    "spans_generalised": rel.generalised(),
                    "terms_replaced": rel.terms_replaced(),
                    "specificity": rel.profile(),
                    "costs": costs(full.profile(), rel),
                    "leak_check": if leaks.is_empty() { "pass" } else { "refused" },
                    "leaks": leak_lines(&report, leaks),
                })
            })
            .collect();
        let related = crate::reading::related_for(node, path)?;
        let v = json!({
            "report": report.name(),
            "related": related,
            "title": report.meta().title,
            "portions": report.portions().len(),
            "spans": report.spans().count(),
            "findings": findings,
            "full": { "specificity": full.profile() },
            "audiences": audiences,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print_lint(&report, &findings);
        if !findings.is_empty() {
            eprintln!();
        }
        println!(
            "{}: {} portions, {} spans",
            report.name(),
            report.portions().len(),
            report.spans().count()
        );
        let mut header = vec!["".to_string(), "full report".to_string()];
        header.extend(
            rows.iter()
                .map(|(a, _, _)| format!("{} (≤{})", a.name(), a.max().name())),
        );
        let mut table = vec![header];
        let n = report.portions().len();
        let mut kept = vec!["portions".to_string(), format!("{n} of {n}")];
        kept.extend(
            rows.iter()
                .map(|(_, r, _)| format!("{} of {n}", r.portions().len())),
        );
        table.push(kept);
        let mut gen = vec!["generalised".to_string(), "-".to_string()];
        gen.extend(rows.iter().map(|(_, r, _)| {
            format!(
                "{}, {}",
                plural(r.generalised().len(), "span"),
                plural(r.terms_replaced(), "term")
            )
        }));
        table.push(gen);
        for d in Dimension::ALL {
            let mut row = vec![
                d.name().to_string(),
                full.profile().grade_name(d).to_string(),
            ];
            row.extend(rows.iter().map(|(_, r, _)| {
                let g = r.profile().grade_name(d);
                if r.profile().grade(d) < full.profile().grade(d) {
                    format!("{g} ↓")
                } else {
                    g.to_string()
                }
            }));
            table.push(row);
        }
        let mut leak = vec!["leak check".to_string(), "-".to_string()];
        leak.extend(rows.iter().map(|(_, _, l)| {
            if l.is_empty() {
                "pass".to_string()
            } else {
                format!("REFUSED ({})", l.len())
            }
        }));
        table.push(leak);
        println!();
        print_table(&table);
        for (a, rel, leaks) in &rows {
            let c = costs(full.profile(), rel);
            if !c.is_empty() {
                println!();
                println!("{} loses:", a.name());
                for x in c {
                    println!("  {}: {} → {} ({})", x.dimension, x.from, x.to, x.reason);
                }
            }
            if !leaks.is_empty() {
                println!();
                println!("{} would be refused:", a.name());
                for l in leak_lines(&report, leaks) {
                    println!("  {l}");
                }
            }
        }
        println!();
        println!("related warnings and documents:");
        crate::reading::print_related(&crate::reading::related_for(node, path)?);
    }
    Ok(if has_errors {
        LINT
    } else if has_leaks {
        LEAK
    } else {
        0
    })
}

/// The objects of a cleared STIX bundle, as the store holds them.
fn stix_objects(bundle: &[u8]) -> Result<Vec<tearline_store::NewObject>> {
    let v: serde_json::Value =
        serde_json::from_slice(bundle).context("bug: a cleared bundle is not JSON")?;
    let list = v["objects"]
        .as_array()
        .context("bug: a cleared bundle has no objects")?;
    list.iter()
        .map(|o| {
            tearline_exchange::stix_object(o)
                .map_err(|m| anyhow::anyhow!("bug: a released STIX object is invalid: {m}"))
        })
        .collect()
}

/// `tearline verify BUNDLE --key PUB`.
pub fn verify(path: &Path, key: &str) -> Result<u8> {
    let key =
        tearline_stix::import_key(key).map_err(|e| coded(BAD_INPUT, format!("--key: {e}")))?;
    let name = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| coded(BAD_INPUT, format!("failed to read `{name}`: {e}")))?;
    let bundle: serde_json::Value = serde_json::from_slice(&bytes)
        .map_err(|e| coded(BAD_INPUT, format!("{name}: not JSON: {e}")))?;
    if bundle.get("type").and_then(|t| t.as_str()) != Some("bundle") {
        return Err(coded(BAD_INPUT, format!("{name}: not a STIX bundle")));
    }
    match tearline_stix::verify_bundle(&bundle, &key) {
        Ok(n) => {
            println!(
                "{name}: all {n} objects verified with key {}",
                tearline_stix::key_id(&key)
            );
            Ok(0)
        }
        Err(errors) => {
            for e in &errors {
                eprintln!("{name}: {e}");
            }
            Err(coded(
                SIGNATURE,
                format!("{name}: {} object(s) failed verification", errors.len()),
            ))
        }
    }
}

fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn print_table(rows: &[Vec<String>]) {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for r in rows {
        let line: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, s)| format!("{s}{}", " ".repeat(widths[i] - s.chars().count())))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
}
