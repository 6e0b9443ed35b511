//! The report linter behind `tearline check`, and the cost of each cut.

use std::fmt;

use serde::Serialize;
use tearline_model::{Audience, Level, Marking, Portion, Report, Segment, Span, SpanKind};

use crate::matcher::TermMatcher;
use crate::normalize::{normalize_term, Normalized};
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
    // One term per distinct original and set of audiences barred from it,
    // so that a span repeated many times is matched once, not once per
    // copy at every place it stands.
    let mut seen = std::collections::HashSet::new();
    let guarded = TermMatcher::new(
        report
            .spans()
            .filter(|(_, s)| s.kind().is_protected() || s.required_level().is_some())
            .filter(|(_, s)| {
                let barred: Vec<bool> = audiences.iter().map(|a| !sees_original(a, s)).collect();
                seen.insert((normalize_term(s.text()), barred))
            })
            .map(|(_, s)| (s.text().to_string(), s)),
    );
    title_terms(&mut out, registry);
    for p in report.portions() {
        // Who receives the portion, worked out once: a `REL TO` list may be
        // long, and each span and finding asks again.
        let reach = Reach {
            portion: p,
            audiences: audiences.iter().filter(|a| receives(a, p)).collect(),
        };
        portion_findings(&mut out, &reach, audiences);
        for seg in p.segments() {
            if let Segment::Span(s) = seg {
                span_findings(&mut out, &reach, s);
            }
            let Some(open) = open_text(seg) else {
                continue;
            };
            stray_terms(&mut out, registry, &open, p);
            exposed_originals(&mut out, &guarded, &open, &reach);
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

/// A marking as a finding's message shows it: a long `REL TO` list is cut
/// after a few names, so that a message does not repeat the whole list
/// (once for each marking inside the portion).
struct Short<'a>(&'a Marking);

impl fmt::Display for Short<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 5;
        let names = self.0.rel_to();
        if names.len() <= SHOWN {
            return write!(f, "{}", self.0);
        }
        write!(
            f,
            "{}//REL TO {}, and {} more",
            self.0.level(),
            names[..SHOWN].join(", "),
            names.len() - SHOWN
        )
    }
}

/// A portion and the audiences that receive it.
struct Reach<'a> {
    portion: &'a Portion,
    audiences: Vec<&'a Audience>,
}

/// A portion's marking, reach and text: unmarked, a marking inside it,
/// unknown audience, unreachable, empty.
fn portion_findings(out: &mut Findings, reach: &Reach, audiences: &[Audience]) {
    let p = reach.portion;
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
    for lm in p.line_markings() {
        out.push(
            Severity::Error,
            "marking-inside-portion",
            lm.offset(),
            n,
            format!(
                "the marking ({}) starts a line inside portion {} ({}), so it does not start a portion of its own: put a blank line before it; until then the whole portion is released only where {} may go",
                Short(lm.marking()),
                p.number(),
                Short(p.marking()),
                p.level()
            ),
        );
    }
    // Names are checked once each, however many markings repeat them. A
    // list may name hundreds of thousands: the set and the findings are
    // sized once, and each message is put together without formatting.
    let names = p.markings().map(|m| m.rel_to().len()).sum();
    let mut named = std::collections::HashSet::with_capacity(names);
    out.list.reserve(names);
    for name in p.markings().flat_map(|m| m.rel_to()) {
        if !audiences.iter().any(|a| a.name() == name) && named.insert(name.as_str()) {
            out.push(
                Severity::Warning,
                "unknown-audience",
                p.offset(),
                n,
                [
                    "REL TO names `",
                    name,
                    "`, which is not an audience of this node",
                ]
                .concat(),
            );
        }
    }
    if reach.audiences.is_empty() {
        out.push(
            Severity::Warning,
            "unreachable-portion",
            p.offset(),
            n,
            format!(
                "no audience of this node receives portion {} ({})",
                p.number(),
                Short(p.marking())
            ),
        );
    }
    if p.segments().iter().all(|s| match s {
        Segment::Text { text, .. } => text.trim().is_empty(),
        Segment::Span(sp) => sp.text().trim().is_empty(),
    }) {
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
fn span_findings(out: &mut Findings, reach: &Reach, s: &Span) {
    let p = reach.portion;
    let n = Some(p.number());
    if let SpanKind::Unknown(k) = s.kind() {
        out.push(Severity::Error, "unknown-span-kind", s.offset(), n, format!("unknown span kind `{k}`: expected actor, person, org, place, venue, target, time, method, source or weapon"));
    }
    if !reach.audiences.iter().any(|a| sees_original(a, s)) {
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
        if l <= p.level() && !s.kind().is_protected() {
            out.push(Severity::Warning, "unused-sub", s.offset(), n, format!("span {} has level {l}, not above its portion's {}: every audience that receives the portion sees the original, so its `sub` is never used", s.number(), p.level()));
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
    reach: &Reach,
) {
    let p = reach.portion;
    for h in guarded.find_disjoint(&open.norm) {
        let span = *guarded.label(h.term);
        if Some(span.number()) == open.own {
            continue;
        }
        // Only where it reaches someone who may not see the original.
        let exposed: Vec<&str> = reach
            .audiences
            .iter()
            .filter(|a| !sees_original(a, span))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{clear, render_markdown, LeakGuard, Rendered};
    use tearline_model::parse_report;

    const HEAD: &str = "---\ntitle: T\nproduced: 2026-03-20T08:00:00Z\n---\n\n";

    fn audiences() -> Vec<Audience> {
        Audience::defaults()
    }

    #[test]
    fn a_marking_inside_a_portion_is_an_error_and_withholds_it() {
        let src = format!(
            "{HEAD}(TLP:CLEAR) The embassy is open.\n(tlp:Red) SAPPHIRE reports an attack on Friday.\n\n(TLP:CLEAR) Stay alert.\n"
        );
        let report = parse_report("r.md", src.as_bytes()).unwrap();
        let registry = Registry::new(vec![]);
        let findings = lint(&report, &audiences(), &registry);
        let f = findings
            .iter()
            .find(|f| f.code == "marking-inside-portion")
            .expect("a finding");
        assert_eq!(f.severity, Severity::Error);
        assert_eq!((f.line, f.column, f.portion), (7, 1, Some(1)));
        assert!(f.message.contains("TLP:RED"), "{}", f.message);
        assert!(f.message.contains("blank line"), "{}", f.message);
        // Defence in depth: no audience below RED receives the portion, and
        // the leak check refuses its words in anything sent to them.
        for a in audiences() {
            let release = Release::build(&report, &a, &registry);
            let text = render_markdown(&release);
            if a.max() < Level::Red {
                assert_eq!(release.withheld(), [1], "{}", a.name());
                assert!(!text.contains("SAPPHIRE"), "{}: {text}", a.name());
                let guard = LeakGuard::new(&report, &a, &registry);
                assert!(clear(&guard, &release, Rendered::Text(text), None).is_ok());
            } else {
                assert!(release.withheld().is_empty(), "{}", a.name());
                assert_eq!(release.portions()[0].level(), Level::Red);
                assert!(text.contains("(TLP:RED) The embassy"), "{text}");
            }
        }
    }

    #[test]
    fn every_rel_to_of_a_portion_must_admit_the_audience() {
        let src = format!("{HEAD}(TLP:AMBER//REL TO liaison) a\n(TLP:GREEN//REL TO nobody) b\n");
        let report = parse_report("r.md", src.as_bytes()).unwrap();
        let registry = Registry::new(vec![]);
        let liaison = Audience::new("liaison", Level::Amber, false).unwrap();
        assert!(!receives(&liaison, &report.portions()[0]));
        let findings = lint(&report, &audiences(), &registry);
        assert!(findings
            .iter()
            .any(|f| f.code == "unknown-audience" && f.message.contains("`nobody`")));
    }

    #[test]
    fn a_long_rel_to_list_and_many_spans_are_linted_once() {
        // Findings are the same whatever the list's length; this exercises
        // the per-portion reach used by every span.
        let names: Vec<String> = (0..2000).map(|i| format!("p{i}")).collect();
        let spans = "[x]{place level=RED} ".repeat(500);
        let src = format!(
            "{HEAD}(TLP:GREEN//REL TO {}, liaison) {spans}\n",
            names.join(", ")
        );
        let report = parse_report("r.md", src.as_bytes()).unwrap();
        let findings = lint(&report, &audiences(), &Registry::new(vec![]));
        assert_eq!(
            findings
                .iter()
                .filter(|f| f.code == "unknown-audience")
                .count(),
            2000
        );
        // internal (RED, sees sources) sees them all: no invisible span.
        assert!(!findings.iter().any(|f| f.code == "invisible-span"));
    }

    #[test]
    fn a_long_rel_to_list_is_cut_in_messages() {
        let names: Vec<String> = (0..2000).map(|i| format!("p{i}")).collect();
        let src = format!(
            "{HEAD}(TLP:AMBER//REL TO {}) a\n(tlp:red) b\n",
            names.join(", ")
        );
        let report = parse_report("r.md", src.as_bytes()).unwrap();
        let findings = lint(&report, &audiences(), &Registry::new(vec![]));
        let inside = findings
            .iter()
            .find(|f| f.code == "marking-inside-portion")
            .expect("a finding");
        assert!(
            inside
                .message
                .contains("(TLP:AMBER//REL TO p0, p1, p2, p3, p4, and 1995 more)"),
            "{}",
            inside.message
        );
        assert!(inside.message.len() < 300, "{}", inside.message);
    }
}
