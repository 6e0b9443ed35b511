//! The side-by-side view of a draft: what each audience would receive,
//! with withheld portions and substitutions marked, leak findings at the
//! portion they are in, the lint findings, and each audience's specificity
//! against the full report's.
//!
//! The view is built by the same code that releases (`Release::build`,
//! `reports::cleared`, the leak check), so what it shows is what a release
//! would carry; it only never leaves the node.

use anyhow::Result;
use tearline_model::{parse_report, PortionKind, Report};
use tearline_release::{costs, everything, lint, Release, Severity};

use super::auth::Role;
use super::svg;
use crate::node::Node;
use crate::reports;
use crate::Format;

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

/// Parses a draft and builds every audience's view.
pub fn preview(node: &mut Node, name: &str, body: &str, role: Role) -> Result<Preview> {
    let report = match parse_report(name, body.as_bytes()) {
        Ok(r) => r,
        Err(e) => {
            return Ok(Preview {
                error: Some(e.to_string()),
                lint: Vec::new(),
                audiences: Vec::new(),
                portions: 0,
                spans: 0,
            })
        }
    };
    let registry = node.registry()?;
    let lint = lint(&report, &node.config.audiences, &registry)
        .into_iter()
        .map(|f| LintView {
            error: f.severity == Severity::Error,
            at: format!("line {}, column {}", f.line, f.column),
            message: f.message,
            code: f.code,
        })
        .collect();
    let full = Release::build(&report, &everything(), &registry);
    let producer = reports::producer(node);
    let key = node.signing_key()?;
    let mut audiences = Vec::new();
    for a in node.config.audiences.clone() {
        let (rel, outcome) =
            reports::cleared(&report, &a, &registry, Format::Md, &producer, &key, None)?;
        let findings = outcome.err().unwrap_or_default();
        let mut portions = Vec::new();
        let mut kept = rel.portions().iter().peekable();
        for p in report.portions() {
            let n = p.number();
            let leaks: Vec<String> = findings
                .iter()
                .filter(|f| f.portion == Some(n))
                .map(|f| f.to_string())
                .collect();
            let level = p.marking().level().name();
            match kept.peek() {
                Some(r) if r.source_number() == n => {
                    let parts = parts_of(r.text(), r.pieces());
                    portions.push(PortionView {
                        number: n,
                        level,
                        class: class_of(r.kind()),
                        withheld: false,
                        parts,
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
        audiences.push(AudienceView {
            name: a.name().to_string(),
            max: a.max().name(),
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
            profile_svg: svg::profile(a.name(), full.profile(), rel.profile()),
            costs: costs(full.profile(), &rel)
                .into_iter()
                .map(|c| format!("{}: {} → {} ({})", c.dimension, c.from, c.to, c.reason))
                .collect(),
            may_release: role.may_release(a.name()),
        });
    }
    Ok(Preview {
        error: None,
        lint,
        audiences,
        portions: report.portions().len(),
        spans: report.spans().count(),
    })
}

/// The report a draft's body parses to, for a release.
pub fn parse(name: &str, body: &str) -> Result<Report> {
    parse_report(name, body.as_bytes()).map_err(|e| {
        crate::exit::coded(
            crate::exit::BAD_INPUT,
            format!("the draft does not parse: {e}"),
        )
    })
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
