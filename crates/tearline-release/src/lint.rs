//! The report linter behind `tearline check`, and the cost of each cut.

use serde::Serialize;
use tearline_model::{Audience, Level, Report, Segment, SpanKind};

use crate::matcher::TermMatcher;
use crate::normalize::Normalized;
use crate::profile::{Dimension, Profile};
use crate::release::{receives, sees_original, Registry, Release};

/// How serious a finding is. Errors stop `release`; warnings do not.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Worth a look; the release engine fails closed on it.
    Warning,
    /// The report must be fixed before it is released.
    Error,
}

/// One lint finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintFinding {
    /// Warning or error.
    pub severity: Severity,
    /// A stable identifier, e.g. `unmarked-portion`.
    pub code: &'static str,
    /// Line in the report, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
    /// The portion concerned.
    pub portion: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// Lints a report against the node's audiences and registry.
pub fn lint(report: &Report, audiences: &[Audience], registry: &Registry) -> Vec<LintFinding> {
    let mut out = Vec::new();
    let mut push = |sev, code, offset: usize, portion, message: String| {
        let pos = report.pos(offset);
        out.push(LintFinding {
            severity: sev,
            code,
            line: pos.line,
            column: pos.column,
            portion,
            message,
        });
    };
    let known = |name: &str| audiences.iter().any(|a| a.name() == name);

    // Originals that lower audiences must not see, to find them standing
    // unannotated elsewhere.
    let guarded = TermMatcher::new(
        report
            .spans()
            .filter(|(_, s)| s.kind().is_protected() || s.required_level().is_some())
            .map(|(_, s)| (s.text().to_string(), s)),
    );

    for (_, term_hit) in registry.find(&report.meta().title) {
        push(
            Severity::Warning,
            "registry-term-outside-span",
            report.meta().title_offset,
            None,
            format!("the title holds registered {} term `{}`; releases to audiences that may not see sources replace it", term_hit.kind, term_hit.term),
        );
    }

    for p in report.portions() {
        let n = Some(p.number());
        if !p.is_marked() {
            push(
                Severity::Warning,
                "unmarked-portion",
                p.offset(),
                n,
                format!(
                    "portion {} has no marking and is treated as TLP:RED",
                    p.number()
                ),
            );
        }
        for name in p.marking().rel_to() {
            if !known(name) {
                push(
                    Severity::Warning,
                    "unknown-audience",
                    p.offset(),
                    n,
                    format!("REL TO names `{name}`, which is not an audience of this node"),
                );
            }
        }
        if !audiences.iter().any(|a| receives(a, p)) {
            push(
                Severity::Warning,
                "unreachable-portion",
                p.offset(),
                n,
                format!(
                    "no audience of this node receives portion {} ({})",
                    p.number(),
                    p.marking()
                ),
            );
        }
        if p.plain_text().trim().is_empty() {
            push(
                Severity::Warning,
                "empty-portion",
                p.offset(),
                n,
                format!("portion {} has no text", p.number()),
            );
        }
        for seg in p.segments() {
            let (text, offset, own) = match seg {
                Segment::Text { text, offset } => (text.as_str(), *offset, None),
                Segment::Span(s) => {
                    if let SpanKind::Unknown(k) = s.kind() {
                        push(Severity::Error, "unknown-span-kind", s.offset(), n, format!("unknown span kind `{k}`: expected actor, person, org, place, venue, target, time, method, source or weapon"));
                    }
                    if !audiences
                        .iter()
                        .any(|a| receives(a, p) && sees_original(a, s))
                    {
                        push(
                            Severity::Warning,
                            "invisible-span",
                            s.offset(),
                            n,
                            format!(
                                "no audience of this node can see the original of span {} ({})",
                                s.number(),
                                s.kind()
                            ),
                        );
                    }
                    if let (Some(l), Some(_)) = (s.level(), s.sub()) {
                        if l <= p.marking().level() && !s.kind().is_protected() {
                            push(Severity::Warning, "unused-sub", s.offset(), n, format!("span {} has level {l}, not above its portion's {}: every audience that receives the portion sees the original, so its `sub` is never used", s.number(), p.marking().level()));
                        }
                    }
                    if s.kind().is_protected() || s.required_level().is_some() {
                        continue;
                    }
                    (s.text(), s.offset() + 1, Some(s.number()))
                }
            };
            let norm = Normalized::new(text);
            for (h, t) in registry.find_in(&norm) {
                push(Severity::Warning, "registry-term-outside-span", offset + h.start, n, format!("registered {} term `{}` stands outside a source or method span; releases to audiences that may not see sources replace it", t.kind, t.term));
            }
            for h in guarded.find_disjoint(&norm) {
                let span = *guarded.label(h.term);
                if Some(span.number()) == own {
                    continue;
                }
                // Only where it reaches someone who may not see the original.
                let exposed: Vec<&str> = audiences
                    .iter()
                    .filter(|a| receives(a, p) && !sees_original(a, span))
                    .map(|a| a.name())
                    .collect();
                if !exposed.is_empty() {
                    push(Severity::Warning, "exposed-original", offset + h.start, n, format!("the original of span {} also stands here unprotected; releases to {} will be refused", span.number(), exposed.join(", ")));
                }
            }
        }
    }
    out.sort_by_key(|f| (f.line, f.column));
    out
}

/// What one cut cost on one dimension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cost {
    /// The dimension.
    pub dimension: &'static str,
    /// The grade in the full report.
    pub from: &'static str,
    /// The grade in the release.
    pub to: &'static str,
    /// What caused the drop, e.g. `portion 3 withheld`.
    pub reason: String,
}

/// Each dimension on which `release` is less specific than the full report,
/// with the cut that caused it.
pub fn costs(full: &Profile, release: &Release) -> Vec<Cost> {
    let rp = release.profile();
    Dimension::ALL
        .into_iter()
        .filter(|&d| rp.grade(d) < full.grade(d))
        .map(|d| {
            let reason = match full.evidence(d) {
                Some(ev) if release.withheld().contains(&ev.portion) => {
                    format!("portion {} withheld", ev.portion)
                }
                Some(ev) => match ev.span {
                    Some(s) if release.generalised().contains(&s) => {
                        format!("span {s} generalised in portion {}", ev.portion)
                    }
                    _ => format!("portion {} reworded", ev.portion),
                },
                None => "detail removed".to_string(),
            };
            Cost {
                dimension: d.name(),
                from: full.grade_name(d),
                to: rp.grade_name(d),
                reason,
            }
        })
        .collect()
}

/// The audience that sees everything: used to profile the full report.
pub fn everything() -> Audience {
    // "full" is a valid audience name, so this cannot fail.
    Audience::new("full", Level::Red, true)
        .unwrap_or_else(|_| unreachable!("`full` is a valid name"))
}
