//! Building one audience's release of a report.

use chrono::{DateTime, FixedOffset, SecondsFormat};
use serde_json::{json, Value};
use tearline_model::{
    Audience, Level, Marking, Portion, PortionKind, ProtectedTerm, Report, Segment, Span, SpanKind,
    TermKind,
};

use crate::matcher::{Hit, TermMatcher};
use crate::normalize::Normalized;
use crate::profile::{Evidence, Profile};

/// The node's protected-term registry, compiled for matching.
#[derive(Debug, Clone)]
pub struct Registry {
    terms: Vec<ProtectedTerm>,
    matcher: TermMatcher<usize>,
}

impl Registry {
    /// Compiles the registry. Terms without letters or digits match nothing;
    /// the store refuses them on entry. A node compiles its registry once
    /// and searches every release with it.
    pub fn new(terms: Vec<ProtectedTerm>) -> Registry {
        let matcher =
            TermMatcher::long_lived(terms.iter().enumerate().map(|(i, t)| (t.term.clone(), i)));
        Registry { terms, matcher }
    }

    /// The registered terms.
    pub fn terms(&self) -> &[ProtectedTerm] {
        &self.terms
    }

    /// Non-overlapping occurrences of registered terms in `text`, with the
    /// term each one is.
    pub fn find(&self, text: &str) -> Vec<(Hit, &ProtectedTerm)> {
        self.find_in(&Normalized::new(text))
    }

    pub(crate) fn find_in(&self, n: &Normalized) -> Vec<(Hit, &ProtectedTerm)> {
        self.matcher
            .find_disjoint(n)
            .into_iter()
            .map(|h| (h, &self.terms[*self.matcher.label(h.term)]))
            .collect()
    }
}

/// Whether an audience receives a portion: its level is within the
/// audience's maximum, and any `REL TO` list names the audience (the
/// node's own staff, who may see sources, are not restricted by `REL TO`).
/// A portion with a marking at the start of a line inside it (a lint
/// error) must pass every one of its markings: the highest level and each
/// `REL TO` list.
pub fn receives(audience: &Audience, portion: &Portion) -> bool {
    portion.markings().all(|m| admits(audience, m))
}

/// Whether one marking admits an audience.
fn admits(audience: &Audience, m: &Marking) -> bool {
    m.level() <= audience.max()
        && (m.rel_to().is_empty()
            || audience.sees_sources()
            || m.rel_to().iter().any(|n| n == audience.name()))
}

/// Whether an audience sees a span's original text (otherwise it gets the
/// substitute). Sources, methods and spans of unknown kind need an audience
/// that may see sources; a span's `level` (or TLP:RED, for a `sub` without
/// a `level`) must be within the audience's maximum.
pub fn sees_original(audience: &Audience, span: &Span) -> bool {
    let protected = span.kind().is_protected() || matches!(span.kind(), SpanKind::Unknown(_));
    if protected && !audience.sees_sources() {
        return false;
    }
    span.required_level().is_none_or(|l| l <= audience.max())
}

/// A piece of released text and where it came from, for mapping a
/// position in the release back to the report source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece {
    /// Byte offset in the released text where the piece starts.
    pub out: usize,
    /// Byte offset in the report source.
    pub src: usize,
    /// Whether the piece is copied from the source byte for byte (so
    /// offsets inside it map one to one).
    pub verbatim: bool,
}

/// An entity named in the release with its original text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entity {
    /// What it is.
    pub kind: SpanKind,
    /// Its name as released.
    pub name: String,
}

/// One portion as an audience receives it.
#[derive(Debug, Clone)]
pub struct ReleasedPortion {
    source: usize,
    kind: PortionKind,
    level: Level,
    text: String,
    pieces: Vec<Piece>,
    entities: Vec<Entity>,
}

impl ReleasedPortion {
    /// The portion's number in the report.
    pub fn source_number(&self) -> usize {
        self.source
    }
    /// Paragraph, heading or list item.
    pub fn kind(&self) -> &PortionKind {
        &self.kind
    }
    /// The portion's level.
    pub fn level(&self) -> Level {
        self.level
    }
    /// The released text.
    pub fn text(&self) -> &str {
        &self.text
    }
    /// The source map of the text.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }
    /// Entities released under their own names.
    pub fn entities(&self) -> &[Entity] {
        &self.entities
    }

    /// The source byte offset of released byte `at`.
    pub fn source_offset(&self, at: usize) -> usize {
        let i = self
            .pieces
            .partition_point(|p| p.out <= at)
            .saturating_sub(1);
        match self.pieces.get(i) {
            Some(p) if p.verbatim => p.src + (at - p.out),
            Some(p) => p.src,
            None => 0,
        }
    }
}

/// One audience's version of a report. Building a release never fails;
/// whether it may leave the node is decided by [`crate::clear`].
#[derive(Debug, Clone)]
pub struct Release {
    audience: Audience,
    title: String,
    produced: DateTime<FixedOffset>,
    valid_from: Option<DateTime<FixedOffset>>,
    valid_until: Option<DateTime<FixedOffset>>,
    author: Option<String>,
    level: Level,
    portions: Vec<ReleasedPortion>,
    withheld: Vec<usize>,
    generalised: Vec<usize>,
    terms_replaced: usize,
    profile: Profile,
}

impl Release {
    /// Derives `audience`'s release of `report`: portions it may not
    /// receive are withheld; spans whose original it may not see get their
    /// substitute; registry terms are replaced for an audience that may not
    /// see sources.
    pub fn build(report: &Report, audience: &Audience, registry: &Registry) -> Release {
        let meta = report.meta();
        let mut b = Builder {
            audience,
            registry,
            terms_replaced: 0,
        };
        let (title, _) = b.text(&meta.title, meta.title_offset);
        let mut portions = Vec::new();
        let mut withheld = Vec::new();
        let mut generalised = Vec::new();
        let mut profile = Profile::default();
        for p in report.portions() {
            if !receives(audience, p) {
                withheld.push(p.number());
                continue;
            }
            let mut rp = ReleasedPortion {
                source: p.number(),
                kind: p.kind().clone(),
                level: p.level(),
                text: String::new(),
                pieces: Vec::new(),
                entities: Vec::new(),
            };
            for seg in p.segments() {
                match seg {
                    Segment::Text { text, offset } => b.append(&mut rp, text, *offset),
                    Segment::Span(sp) => {
                        let at = rp.text.len();
                        if sees_original(audience, sp) {
                            b.append(&mut rp, sp.text(), sp.offset() + 1);
                            if !sp.kind().is_protected() {
                                rp.entities.push(Entity {
                                    kind: sp.kind().clone(),
                                    name: rp.text[at..].to_string(),
                                });
                            }
                        } else {
                            generalised.push(sp.number());
                            b.append_substitute(&mut rp, sp.substitute(), sp.offset());
                        }
                        let ev = Evidence {
                            portion: p.number(),
                            span: Some(sp.number()),
                        };
                        profile.observe_span(sp.kind(), &rp.text[at..], ev);
                    }
                }
            }
            let ev = Evidence {
                portion: p.number(),
                span: None,
            };
            // A portion nobody annotated is graded by what the extractor
            // reads in it; annotated ones by their spans and cue words.
            if p.spans().next().is_none() {
                profile.observe_unannotated(&rp.text, ev);
            } else {
                profile.observe_text(&rp.text, ev);
            }
            portions.push(rp);
        }
        let level = portions
            .iter()
            .map(|p| p.level)
            .max()
            .unwrap_or(Level::Clear);
        Release {
            audience: audience.clone(),
            title,
            produced: meta.produced,
            valid_from: meta.valid_from,
            valid_until: meta.valid_until,
            author: if audience.sees_sources() {
                meta.author.clone()
            } else {
                None
            },
            level,
            portions,
            withheld,
            generalised,
            terms_replaced: b.terms_replaced,
            profile,
        }
    }

    /// The audience.
    pub fn audience(&self) -> &Audience {
        &self.audience
    }
    /// The released title.
    pub fn title(&self) -> &str {
        &self.title
    }
    /// When the report was produced.
    pub fn produced(&self) -> DateTime<FixedOffset> {
        self.produced
    }
    /// Start of the validity window.
    pub fn valid_from(&self) -> Option<DateTime<FixedOffset>> {
        self.valid_from
    }
    /// End of the validity window.
    pub fn valid_until(&self) -> Option<DateTime<FixedOffset>> {
        self.valid_until
    }
    /// The author, for audiences that may see sources.
    pub fn author(&self) -> Option<&str> {
        self.author.as_deref()
    }
    /// The highest level among the released portions.
    pub fn level(&self) -> Level {
        self.level
    }
    /// The released portions.
    pub fn portions(&self) -> &[ReleasedPortion] {
        &self.portions
    }
    /// Numbers of the withheld portions.
    pub fn withheld(&self) -> &[usize] {
        &self.withheld
    }
    /// Numbers of the spans that were given their substitute.
    pub fn generalised(&self) -> &[usize] {
        &self.generalised
    }
    /// How many registry terms were replaced.
    pub fn terms_replaced(&self) -> usize {
        self.terms_replaced
    }
    /// The specificity profile of what is released.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }
    /// Every entity released under its own name, first mention first.
    pub fn entities(&self) -> Vec<&Entity> {
        let mut seen = std::collections::HashSet::new();
        self.portions
            .iter()
            .flat_map(|p| p.entities.iter())
            .filter(|e| seen.insert((e.kind.name().to_string(), e.name.to_lowercase())))
            .collect()
    }
}

struct Builder<'a> {
    audience: &'a Audience,
    registry: &'a Registry,
    terms_replaced: usize,
}

impl Builder<'_> {
    /// `text` with registry terms replaced (for an audience that may not
    /// see sources) and carriage returns dropped; with its pieces.
    fn text(&mut self, text: &str, src: usize) -> (String, Vec<Piece>) {
        let mut out = String::with_capacity(text.len());
        let mut pieces = Vec::new();
        let hits = if self.audience.sees_sources() || self.registry.terms.is_empty() {
            Vec::new()
        } else {
            self.registry.find(text)
        };
        let mut at = 0;
        for (h, term) in hits {
            verbatim(&mut out, &mut pieces, &text[at..h.start], src + at);
            pieces.push(Piece {
                out: out.len(),
                src: src + h.start,
                verbatim: false,
            });
            let before = text[..h.start].trim_end();
            let sentence_start = before.is_empty() || before.ends_with(['.', '!', '?', ':']);
            out.push_str(&replacement(
                term.kind,
                &text[h.start..h.end],
                sentence_start,
            ));
            self.terms_replaced += 1;
            at = h.end;
        }
        verbatim(&mut out, &mut pieces, &text[at..], src + at);
        (out, pieces)
    }

    fn append(&mut self, rp: &mut ReleasedPortion, text: &str, src: usize) {
        let (t, pieces) = self.text(text, src);
        let base = rp.text.len();
        rp.pieces.extend(pieces.into_iter().map(|p| Piece {
            out: p.out + base,
            ..p
        }));
        rp.text.push_str(&t);
    }

    fn append_substitute(&mut self, rp: &mut ReleasedPortion, sub: &str, src: usize) {
        let (t, _) = self.text(sub, src);
        rp.pieces.push(Piece {
            out: rp.text.len(),
            src,
            verbatim: false,
        });
        rp.text.push_str(&t);
    }
}

/// Copies `text` to `out`, leaving out carriage returns, recording pieces.
fn verbatim(out: &mut String, pieces: &mut Vec<Piece>, text: &str, src: usize) {
    let mut at = 0;
    for part in text.split('\r') {
        if !part.is_empty() {
            pieces.push(Piece {
                out: out.len(),
                src: src + at,
                verbatim: true,
            });
            out.push_str(part);
        }
        at += part.len() + 1;
    }
}

/// What a registry term becomes: the kind's generic substitute, with a
/// capital when the term began a sentence.
fn replacement(kind: TermKind, original: &str, sentence_start: bool) -> String {
    let sub = kind.generic_substitute();
    let upper = original.chars().next().is_some_and(char::is_uppercase);
    if upper && sentence_start {
        let mut c = sub.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect())
            .unwrap_or_default()
    } else {
        sub.to_string()
    }
}

/// The release as Markdown: front matter, then each portion with its
/// level. `REL TO` lists are not repeated: they name other recipients.
pub fn render_markdown(r: &Release) -> String {
    let mut s = String::new();
    s.push_str("---\n");
    s.push_str(&format!("title: {}\n", yaml_str(r.title())));
    s.push_str(&format!("produced: {}\n", ts(r.produced())));
    if let Some(v) = r.valid_from() {
        s.push_str(&format!("valid_from: {}\n", ts(v)));
    }
    if let Some(v) = r.valid_until() {
        s.push_str(&format!("valid_until: {}\n", ts(v)));
    }
    if let Some(a) = r.author() {
        s.push_str(&format!("author: {}\n", yaml_str(a)));
    }
    s.push_str(&format!("audience: {}\n", r.audience().name()));
    s.push_str(&format!("marking: {}\n", r.level()));
    s.push_str("---\n\n");
    s.push_str(&render_markdown_body(r));
    s
}

/// The released portions as Markdown, each with its level.
pub fn render_markdown_body(r: &Release) -> String {
    let mut s = String::new();
    for (i, p) in r.portions().iter().enumerate() {
        if i > 0 {
            s.push('\n');
        }
        match p.kind() {
            PortionKind::Heading(d) => {
                s.push_str(&"#".repeat(*d as usize));
                s.push(' ');
            }
            PortionKind::ListItem(m) => {
                s.push_str(m);
                s.push(' ');
            }
            PortionKind::Paragraph => {}
        }
        s.push_str(&format!("({}) {}\n", p.level(), p.text()));
    }
    s
}

/// The release as JSON: the released text and its specificity profile.
pub fn render_json(r: &Release) -> Value {
    let portions: Vec<Value> = r
        .portions()
        .iter()
        .map(|p| {
            let kind = match p.kind() {
                PortionKind::Paragraph => "paragraph".to_string(),
                PortionKind::Heading(d) => format!("heading{d}"),
                PortionKind::ListItem(_) => "list_item".to_string(),
            };
            json!({"kind": kind, "marking": p.level().to_string(), "text": p.text()})
        })
        .collect();
    let mut v = json!({
        "title": r.title(),
        "produced": ts(r.produced()),
        "audience": r.audience().name(),
        "marking": r.level().to_string(),
        "portions": portions,
        "specificity": r.profile(),
    });
    if let Value::Object(m) = &mut v {
        if let Some(f) = r.valid_from() {
            m.insert("valid_from".into(), ts(f).into());
        }
        if let Some(u) = r.valid_until() {
            m.insert("valid_until".into(), ts(u).into());
        }
        if let Some(a) = r.author() {
            m.insert("author".into(), a.into());
        }
    }
    v
}

/// An RFC 3339 timestamp in UTC with second precision.
pub fn ts(t: DateTime<FixedOffset>) -> String {
    t.with_timezone(&chrono::Utc)
        .to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn yaml_str(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_alphanumeric() || " -_.,()/'".contains(c))
        && !s.starts_with([' ', '-', '\''])
        && !s.ends_with(' ');
    if plain {
        s.to_string()
    } else {
        serde_json::to_string(s).unwrap_or_default()
    }
}
