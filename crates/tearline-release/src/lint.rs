//! The report linter behind `tearline check`, and the cost of each cut.

use serde::Serialize;
use tearline_model::{Audience, Level, Portion, Report, Segment, Span, SpanKind};

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
    let mut out = Findings {
        report,
        list: Vec::new(),
    };
    // Originals that lower audiences must not see, to find them standing
    // unannotated elsewhere.
    let guarded = TermMatcher::new(
        report
            .spans()
            .filter(|(_, s)| s.kind().is_protected() || s.required_level().is_some())
            .map(|(_, s)| (s.text().to_string(), s)),
    );
    title_terms(&mut out, registry);
    for p in report.portions() {
        portion_findings(&mut out, p, audiences);
        for seg in p.segments() {
            if let Segment::Span(s) = seg {
                span_findings(&mut out, p, s, audiences);
            }
            let Some(open) = open_text(seg) else {
                continue;
            };
            stray_terms(&mut out, registry, &open, p);
            exposed_originals(&mut out, &guarded, &open, p, audiences);
        }
    }
    out.list.sort_by_key(|f| (f.line, f.column));
    out.list
}

/// The findings on one report, as they are found.
struct Findings<'a> {
    /// The report, to turn offsets into lines and columns.
    report: &'a Report,
    /// The findings so far.
    list: Vec<LintFinding>,
}

impl Findings<'_> {
    /// Records a finding at byte `offset` of the report.
    fn push(
        &mut self,
        severity: Severity,
        code: &'static str,
        offset: usize,
        portion: Option<usize>,
        message: String,
    ) {
        let pos = self.report.pos(offset);
        self.list.push(LintFinding {
            severity,
            code,
            line: pos.line,
            column: pos.column,
            portion,
            message,
        });
    }
}

/// Registered terms in the title (`registry-term-outside-span`).
fn title_terms(out: &mut Findings, registry: &Registry) {
    let meta = out.report.meta();
    for (_, term_hit) in registry.find(&meta.title) {
        out.push(
            Severity::Warning,
            "registry-term-outside-span",
            meta.title_offset,
            None,
            format!("the title holds registered {} term `{}`; releases to audiences that may not see sources replace it", term_hit.kind, term_hit.term),
        );
    }
}

/// A portion's marking, reach and text: unmarked, unknown audience, unreachable, empty.
fn portion_findings(out: &mut Findings, p: &Portion, audiences: &[Audience]) {
    let n = Some(p.number());
    if !p.is_marked() {
        out.push(
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
        if !audiences.iter().any(|a| a.name() == name) {
            out.push(
                Severity::Warning,
                "unknown-audience",
                p.offset(),
                n,
                format!("REL TO names `{name}`, which is not an audience of this node"),
            );
        }
    }
    if !audiences.iter().any(|a| receives(a, p)) {
        out.push(
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
        out.push(
            Severity::Warning,
            "empty-portion",
            p.offset(),
            n,
            format!("portion {} has no text", p.number()),
        );
    }
}

/// A span's kind and annotations: `unknown-span-kind`, `invisible-span`, `unused-sub`.
fn span_findings(out: &mut Findings, p: &Portion, s: &Span, audiences: &[Audience]) {
    let n = Some(p.number());
    if let SpanKind::Unknown(k) = s.kind() {
        out.push(Severity::Error, "unknown-span-kind", s.offset(), n, format!("unknown span kind `{k}`: expected actor, person, org, place, venue, target, time, method, source or weapon"));
    }
    if !audiences
        .iter()
        .any(|a| receives(a, p) && sees_original(a, s))
    {
        out.push(
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
            out.push(Severity::Warning, "unused-sub", s.offset(), n, format!("span {} has level {l}, not above its portion's {}: every audience that receives the portion sees the original, so its `sub` is never used", s.number(), p.marking().level()));
        }
    }
}

/// Text that stands unprotected in a portion: plain text, or a span that guards nothing.
struct OpenText<'a> {
    /// The text, normalised for matching.
    norm: Normalized<'a>,
    /// Byte offset of the text in the report.
    offset: usize,
    /// The span's number, if the text is a span's.
    own: Option<usize>,
}

/// A segment's text if it stands unprotected; `None` for a span that guards its original.
fn open_text(seg: &Segment) -> Option<OpenText<'_>> {
    let (text, offset, own) = match seg {
        Segment::Text { text, offset } => (text.as_str(), *offset, None),
        Segment::Span(s) => {
            if s.kind().is_protected() || s.required_level().is_some() {
                return None;
            }
            (s.text(), s.offset() + 1, Some(s.number()))
        }
    };
    Some(OpenText {
        norm: Normalized::new(text),
        offset,
        own,
    })
}

/// Registered terms standing in open text (`registry-term-outside-span`).
fn stray_terms(out: &mut Findings, registry: &Registry, open: &OpenText, p: &Portion) {
    for (h, t) in registry.find_in(&open.norm) {
        out.push(Severity::Warning, "registry-term-outside-span", open.offset + h.start, Some(p.number()), format!("registered {} term `{}` stands outside a source or method span; releases to audiences that may not see sources replace it", t.kind, t.term));
    }
}

/// Guarded originals in open text that reaches audiences barred from them (`exposed-original`).
fn exposed_originals(
    out: &mut Findings,
    guarded: &TermMatcher<&Span>,
    open: &OpenText,
    p: &Portion,
    audiences: &[Audience],
) {
    for h in guarded.find_disjoint(&open.norm) {
        let span = *guarded.label(h.term);
        if Some(span.number()) == open.own {
            continue;
        }
        // Only where it reaches someone who may not see the original.
        let exposed: Vec<&str> = audiences
            .iter()
            .filter(|a| receives(a, p) && !sees_original(a, span))
            .map(|a| a.name())
            .collect();
        if !exposed.is_empty() {
            out.push(Severity::Warning, "exposed-original", open.offset + h.start, Some(p.number()), format!("the original of span {} also stands here unprotected; releases to {} will be refused", span.number(), exposed.join(", ")));
        }
    }
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
