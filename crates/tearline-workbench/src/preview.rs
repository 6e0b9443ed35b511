//! The side-by-side view of a draft: what each audience would receive,
//! with withheld portions and substitutions marked, leak findings at the
//! portion they are in, the lint findings, and each audience's specificity
//! against the full report's.
//!
//! The view is drawn from the service layer's assessment
//! (`Node::assess`) — the same per-audience release and leak check as
//! `tearline check` — so what it shows is what a release would carry; it
//! only never leaves the node.

use tearline_model::{PortionKind, Report};
use tearline_node::reports::{Assessment, AudienceAssessment};
use tearline_node::Role;
use tearline_release::{Profile, Severity};

use crate::svg;

/// A piece of released text; `sub` when the audience gets a substitute
/// there instead of the original.
pub struct Part {
    pub text: String,
    pub sub: bool,
}

pub struct PortionView {
    pub number: usize,
    pub level: &'static str,
    /// `h` for a heading, `li` for a list item, `p` for a paragraph.
    pub class: &'static str,
    pub withheld: bool,
    pub parts: Vec<Part>,
    pub leaks: Vec<String>,
}

pub struct AudienceView {
    pub name: String,
    pub max: &'static str,
    pub title: String,
    pub kept: usize,
    pub total: usize,
    pub generalised: usize,
    pub terms: usize,
    pub leak_ok: bool,
    /// Leak findings outside any portion (title, file name).
    pub leaks: Vec<String>,
    pub portions: Vec<PortionView>,
    pub profile_svg: String,
    pub costs: Vec<String>,
    /// Whether the viewer may issue this release.
    pub may_release: bool,
}

pub struct LintView {
    pub error: bool,
    pub at: String,
    pub message: String,
    pub code: &'static str,
}

/// Everything the preview pane shows.
#[derive(askama::Template)]
#[template(path = "preview.html")]
pub struct Preview {
    /// Why the report does not parse, with line and column.
    pub error: Option<String>,
    pub lint: Vec<LintView>,
    pub audiences: Vec<AudienceView>,
    pub portions: usize,
    pub spans: usize,
}

impl Preview {
    /// The preview of a draft that does not parse: why, with line and
    /// column.
    pub fn unparsed(error: String) -> Preview {
        Preview {
            error: Some(error),
            lint: Vec::new(),
            audiences: Vec::new(),
            portions: 0,
            spans: 0,
        }
    }

    /// Every audience's view of an assessed draft, for a viewer of `role`.
    pub fn of(a: &Assessment, role: Role) -> Preview {
        let report = &a.report;
        let lint = a
            .lint
            .iter()
            .map(|f| LintView {
                error: f.severity == Severity::Error,
                at: format!("line {}, column {}", f.line, f.column),
                message: f.message.clone(),
                code: f.code,
            })
            .collect();
        let audiences = a
            .audiences
            .iter()
            .map(|x| audience_view(report, &a.full, x, role))
            .collect();
        Preview {
            error: None,
            lint,
            audiences,
            portions: report.portions().len(),
            spans: report.spans().count(),
        }
    }
}

/// One audience's column.
fn audience_view(
    report: &Report,
    full: &Profile,
    x: &AudienceAssessment,
    role: Role,
) -> AudienceView {
    let rel = &x.release;
    let findings = &x.leaks;
    let mut portions = Vec::new();
    let mut kept = rel.portions().iter().peekable();
    for p in report.portions() {
        let n = p.number();
        let leaks: Vec<String> = findings
            .iter()
            .filter(|f| f.portion == Some(n))
            .map(|f| f.to_string())
            .collect();
        let level = p.level().name();
        match kept.peek() {
            Some(r) if r.source_number() == n => {
                portions.push(PortionView {
                    number: n,
                    level,
                    class: class_of(r.kind()),
                    withheld: false,
                    parts: parts_of(r.text(), r.pieces()),
                    leaks,
                });
                kept.next();
            }
            _ => portions.push(PortionView {
                number: n,
                level,
                class: class_of(p.kind()),
                withheld: true,
                parts: Vec::new(),
                leaks,
            }),
        }
    }
    AudienceView {
        name: x.audience.name().to_string(),
        max: x.audience.max().name(),
        title: rel.title().to_string(),
        kept: rel.portions().len(),
        total: report.portions().len(),
        generalised: rel.generalised().len(),
        terms: rel.terms_replaced(),
        leak_ok: findings.is_empty(),
        leaks: findings
            .iter()
            .filter(|f| f.portion.is_none())
            .map(|f| f.to_string())
            .collect(),
        portions,
        profile_svg: svg::profile(x.audience.name(), full, rel.profile()),
        costs: x
            .costs
            .iter()
            .map(|c| format!("{}: {} → {} ({})", c.dimension, c.from, c.to, c.reason))
            .collect(),
        may_release: role.may_release(x.audience.name()),
    }
}

fn class_of(k: &PortionKind) -> &'static str {
    match k {
        PortionKind::Heading(_) => "h",
        PortionKind::ListItem(_) => "li",
        PortionKind::Paragraph => "p",
    }
}

/// Splits released text at its source map: verbatim pieces are the
/// original, the others substitutes.
fn parts_of(text: &str, pieces: &[tearline_release::Piece]) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::new();
    for (i, p) in pieces.iter().enumerate() {
        let end = pieces.get(i + 1).map_or(text.len(), |q| q.out);
        let Some(t) = text.get(p.out..end) else {
            continue;
        };
        if t.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.sub != p.verbatim => last.text.push_str(t),
            _ => out.push(Part {
                text: t.to_string(),
                sub: !p.verbatim,
            }),
        }
    }
    if out.is_empty() && !text.is_empty() {
        out.push(Part {
            text: text.to_string(),
            sub: false,
        });
    }
    out
}
