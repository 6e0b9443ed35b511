//! The leak check: nothing leaves a node without passing it.
//!
//! For one report and one audience, the [`LeakGuard`] knows what must not
//! appear in anything sent to that audience:
//!
//! - registry terms, when the audience may not see sources;
//! - the original text of every span the audience may not see the original
//!   of (sources and methods, and generalised spans above its level),
//!   wherever in the report the span stands;
//! - any run of [`RUN_WORDS`] or more consecutive words of a portion
//!   withheld from the audience — or, in scripts written without spaces
//!   (Chinese, Japanese, Thai, ...), [`RUN_CHARS`] or more characters; a
//!   window may mix both (a word weighs as much as one and a half
//!   characters). The run check also reads the released title and
//!   portions as one text with the portion breaks left out, so a run split
//!   across two released portions is found too.
//!
//! Each field is read as written and as a reader would see it (see
//! `view.rs`): Markdown rendered with its inline elements joined, HTML
//! character references, percent-encoding, tags and comments decoded or
//! removed, directional overrides read reversed (an override holding
//! another directional control is refused as ambiguous). Every reading is
//! then matched on normalised text (see [`crate::normalize`]), so case
//! (full case folding), compatibility forms, diacritics, look-alike letters
//! of other scripts and small capitals, invisible characters (bidirectional
//! controls, the tatweel), line breaks, Hangul fillers and punctuation
//! inside a term do not hide it; registry and span terms also match with a
//! plural or possessive ending.
//!
//! [`clear`] is the only way to obtain a [`Cleared`] output, and a
//! `Cleared` is the only thing the store records and the binary writes.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};

use serde_json::Value;
use tearline_model::{Audience, Report, SourcePos, SpanKind, TermKind};

use crate::matcher::TermMatcher;
use crate::normalize::Normalized;
use crate::release::{receives, sees_original, Registry, Release};
use crate::view::views;

/// The length of a run of words from a withheld portion that counts as a
/// leak.
pub const RUN_WORDS: usize = 8;

/// The length of a run of characters of a script written without spaces
/// (Han, Hiragana, Katakana, Thai, ...) from a withheld portion that
/// counts as a leak.
pub const RUN_CHARS: usize = 12;

/// What a word of a spaced script weighs in a run.
const WORD_UNITS: usize = RUN_CHARS / 4;
/// What a character of an unspaced script weighs in a run.
const CHAR_UNITS: usize = RUN_WORDS / 4;
/// A run's weight: [`RUN_WORDS`] words, or [`RUN_CHARS`] characters.
const RUN_UNITS: usize = RUN_WORDS * WORD_UNITS;
const _: () = assert!(RUN_CHARS * CHAR_UNITS == RUN_UNITS);

/// What kind of protected material was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Protected {
    /// A registered protected term.
    Term {
        /// The term as registered.
        term: String,
        /// Its kind.
        kind: TermKind,
    },
    /// The original text of a span the audience may not see.
    Span {
        /// The span's number.
        number: usize,
        /// The span's kind.
        kind: SpanKind,
        /// The span's portion.
        portion: usize,
    },
    /// A run of words from a withheld portion.
    WithheldRun {
        /// The withheld portion's number.
        portion: usize,
    },
    /// Output that cannot be checked (not what it claims to be).
    Malformed(String),
    /// Text whose display is ambiguous, so that what a reader sees cannot
    /// be checked (a directional override holding another directional
    /// control).
    Ambiguous(String),
}

impl fmt::Display for Protected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Protected::Term { term, kind } => write!(f, "registered {kind} term `{term}`"),
            Protected::Span {
                number,
                kind,
                portion,
            } if kind.is_protected() => {
                write!(
                    f,
                    "original of protected {kind} span {number} (portion {portion})"
                )
            }
            Protected::Span {
                number,
                kind,
                portion,
            } => {
                write!(
                    f,
                    "original of generalised {kind} span {number} (portion {portion})"
                )
            }
            Protected::WithheldRun { portion } => {
                write!(
                    f,
                    "a run of {RUN_WORDS} or more words from withheld portion {portion} (or of {RUN_CHARS} characters, in scripts written without spaces)"
                )
            }
            Protected::Malformed(m) => write!(f, "output that cannot be checked: {m}"),
            Protected::Ambiguous(m) => write!(f, "text whose display is ambiguous: {m}"),
        }
    }
}

/// One piece of protected material found in an output field.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LeakFinding {
    /// The output field, e.g. `title`, `portion 3`, `objects[2].name`,
    /// `output file name`.
    pub field: String,
    /// The report portion the text came from, when known.
    pub portion: Option<usize>,
    /// Where the text came from in the report source, when known;
    /// otherwise the line and column inside the field.
    pub pos: SourcePos,
    /// Whether `pos` is in the report source (true) or inside the field.
    pub in_source: bool,
    /// What was found.
    pub item: Protected,
}

impl fmt::Display for LeakFinding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let SourcePos { line, column } = self.pos;
        match (self.in_source, self.portion) {
            (true, Some(p)) => write!(
                f,
                "{line}:{column}: portion {p}: {} in {}",
                self.item, self.field
            ),
            (true, None) => write!(f, "{line}:{column}: {} in {}", self.item, self.field),
            (false, _) => write!(
                f,
                "{} at line {line}, column {column}: {}",
                self.field, self.item
            ),
        }
    }
}

/// What must not reach one audience from one report.
pub struct LeakGuard<'a> {
    report: &'a Report,
    /// The audience it guards: its output is cleared for this audience only.
    audience: String,
    registry: Option<&'a Registry>,
    spans: TermMatcher<Protected>,
    runs: HashMap<u64, usize, BuildHasherDefault<PassThrough>>,
}

/// The run table's keys are already hashes: use them as they are.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ b as u64;
        }
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl<'a> LeakGuard<'a> {
    /// The guard for `audience` and `report`.
    pub fn new(report: &'a Report, audience: &Audience, registry: &'a Registry) -> LeakGuard<'a> {
        let spans = TermMatcher::new(
            report
                .spans()
                .filter(|(_, s)| !sees_original(audience, s))
                .map(|(p, s)| {
                    let item = Protected::Span {
                        number: s.number(),
                        kind: s.kind().clone(),
                        portion: p.number(),
                    };
                    (s.text().to_string(), item)
                }),
        );
        let mut runs = HashMap::default();
        for p in report.portions().iter().filter(|p| !receives(audience, p)) {
            let text = p.plain_text();
            for v in views(&text).views {
                let n = Normalized::new(&v.text);
                let shape = n.shape_variant();
                for n in std::iter::once(&n).chain(shape.as_ref()) {
                    for h in run_hashes(n) {
                        runs.entry(h.0).or_insert(p.number());
                    }
                }
            }
        }
        let registry = (!audience.sees_sources()).then_some(registry);
        LeakGuard {
            report,
            audience: audience.name().to_string(),
            registry,
            spans,
            runs,
        }
    }

    /// The guard when the report is not at hand: registered terms only
    /// (for an audience that may not see sources).
    pub fn registry_only(audience: &Audience, registry: &'a Registry) -> LeakGuard<'a> {
        static EMPTY: std::sync::LazyLock<Report> = std::sync::LazyLock::new(|| {
            tearline_model::parse_report(
                "",
                b"---\ntitle: -\nproduced: 1970-01-01T00:00:00Z\n---\n",
            )
            .unwrap_or_else(|e| panic!("bug: the empty report does not parse: {e}"))
        });
        LeakGuard::new(&EMPTY, audience, registry)
    }

    /// The audience this guard checks for.
    pub fn audience(&self) -> &str {
        &self.audience
    }

    /// Protected material in one text, as written and as a reader sees it
    /// (see the module documentation): `(byte offset, item)` pairs.
    pub fn scan(&self, text: &str) -> Vec<(usize, Protected)> {
        let v = views(text);
        let mut out: Vec<(usize, Protected)> = v
            .ambiguous
            .into_iter()
            .map(|at| {
                (
                    at,
                    Protected::Ambiguous(
                        "a directional override holds another directional control".into(),
                    ),
                )
            })
            .collect();
        for view in &v.views {
            let n = Normalized::new(&view.text);
            for (at, item) in self.scan_normalized(&n) {
                out.push((view.original(at), item));
            }
        }
        let mut out = first_of_each(out);
        out.sort_by_key(|(o, _)| *o);
        out
    }

    /// Protected material in one normalised text: `(byte offset, item)`
    /// pairs, offsets in the text that was normalised.
    fn scan_normalized(&self, n: &Normalized) -> Vec<(usize, Protected)> {
        let mut out = Vec::new();
        if let Some(reg) = self.registry {
            for (h, t) in reg.find_in(n) {
                out.push((
                    h.start,
                    Protected::Term {
                        term: t.term.clone(),
                        kind: t.kind,
                    },
                ));
            }
        }
        for h in self.spans.find_disjoint(n) {
            out.push((h.start, self.spans.label(h.term).clone()));
        }
        out.extend(self.runs_in(n));
        out
    }

    /// Runs of withheld words in one normalised text and its shape variant:
    /// one finding per stretch of consecutive matching windows.
    fn runs_in(&self, n: &Normalized) -> Vec<(usize, Protected)> {
        let mut out = Vec::new();
        if self.runs.is_empty() {
            return out;
        }
        let shape = n.shape_variant();
        for n in std::iter::once(n).chain(shape.as_ref()) {
            let mut previous_matched = false;
            for (h, start) in run_hashes(n) {
                let hit = self.runs.get(&h);
                if let (Some(&portion), false) = (hit, previous_matched) {
                    let (os, _) = n.original_range(start, start + 1);
                    out.push((os, Protected::WithheldRun { portion }));
                }
                previous_matched = hit.is_some();
            }
        }
        first_of_each(out)
    }

    /// Runs of withheld words across the released title and portions, read
    /// as one text with the portion breaks left out (a run may end one
    /// portion and begin the next), placed in the report source.
    pub fn check_runs_across(&self, release: &Release) -> Vec<LeakFinding> {
        let mut out = Vec::new();
        if self.runs.is_empty() || release.portions().is_empty() {
            return out;
        }
        // Where each part starts in the joined text: the title, then each
        // portion.
        let mut joined = String::from(release.title());
        let mut starts = vec![0];
        for p in release.portions() {
            joined.push_str("\n\n");
            starts.push(joined.len());
            joined.push_str(p.text());
        }
        for v in views(&joined).views {
            let n = Normalized::new(&v.text);
            for (at, item) in self.runs_in(&n) {
                let at = v.original(at);
                let k = starts.partition_point(|&s| s <= at).saturating_sub(1);
                let found = match k.checked_sub(1).and_then(|i| release.portions().get(i)) {
                    Some(p) => LeakFinding {
                        field: format!("portion {}", p.source_number()),
                        portion: Some(p.source_number()),
                        pos: self.report.pos(p.source_offset(at - starts[k])),
                        in_source: true,
                        item,
                    },
                    None => LeakFinding {
                        field: "title".into(),
                        portion: None,
                        pos: self.report.pos(self.report.meta().title_offset),
                        in_source: true,
                        item,
                    },
                };
                out.push(found);
            }
        }
        first_of_each(out)
    }

    /// Checks the structured release: its title and every portion, each on
    /// its own and all as one text for runs, with findings placed in the
    /// report source.
    pub fn check_release(&self, release: &Release) -> Vec<LeakFinding> {
        let mut out = Vec::new();
        let title_at = self.report.meta().title_offset;
        for (_, item) in self.scan(release.title()) {
            out.push(LeakFinding {
                field: "title".into(),
                portion: None,
                pos: self.report.pos(title_at),
                in_source: true,
                item,
            });
        }
        for p in release.portions() {
            for (at, item) in self.scan(p.text()) {
                out.push(LeakFinding {
                    field: format!("portion {}", p.source_number()),
                    portion: Some(p.source_number()),
                    pos: self.report.pos(p.source_offset(at)),
                    in_source: true,
                    item,
                });
            }
        }
        out.extend(self.check_runs_across(release));
        first_of_each(out)
    }

    /// Checks one output text field, placing findings inside the field.
    pub fn check_field(&self, field: &str, text: &str) -> Vec<LeakFinding> {
        let mut place = FieldPos::new(text);
        self.scan(text)
            .into_iter()
            .map(|(at, item)| LeakFinding {
                field: field.to_string(),
                portion: None,
                pos: place.at(at),
                in_source: false,
                item,
            })
            .collect()
    }

    /// Checks every key and string value of a JSON document.
    pub fn check_json(&self, v: &Value) -> Vec<LeakFinding> {
        let mut out = Vec::new();
        walk_json(v, &mut String::new(), &mut |path, s| {
            out.extend(self.check_field(path, s))
        });
        out
    }
}

fn walk_json(v: &Value, path: &mut String, f: &mut dyn FnMut(&str, &str)) {
    match v {
        Value::String(s) => f(path, s),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                walk_json(x, path, f);
                path.truncate(len);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
                f(&format!("{path} (key)"), k);
                walk_json(x, path, f);
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

/// The items without repeats, each kept where it first stands. Comparing
/// each new finding with all before it would be quadratic in their number,
/// and a hostile report can make thousands.
fn first_of_each<T: Eq + Hash>(items: Vec<T>) -> Vec<T> {
    let keep: Vec<bool> = {
        let mut seen = HashSet::with_capacity(items.len());
        items.iter().map(|x| seen.insert(x)).collect()
    };
    items
        .into_iter()
        .zip(keep)
        .filter_map(|(x, k)| k.then_some(x))
        .collect()
}

/// Lines and columns (in characters, from 1) of byte offsets inside one
/// field, read in one pass when the offsets ascend: counting from the start
/// of the field for each finding would be quadratic on a long field with
/// many findings.
struct FieldPos<'a> {
    text: &'a str,
    /// The byte offset reached, on a character boundary, and its position.
    at: usize,
    pos: SourcePos,
}

impl<'a> FieldPos<'a> {
    fn new(text: &'a str) -> FieldPos<'a> {
        FieldPos {
            text,
            at: 0,
            pos: SourcePos { line: 1, column: 1 },
        }
    }

    /// The position of byte `at` (of the character holding it).
    fn at(&mut self, at: usize) -> SourcePos {
        let mut at = at.min(self.text.len());
        while !self.text.is_char_boundary(at) {
            at -= 1;
        }
        if at < self.at {
            *self = FieldPos::new(self.text);
        }
        for c in self.text[self.at..at].chars() {
            if c == '\n' {
                self.pos.line += 1;
                self.pos.column = 1;
            } else {
                self.pos.column += 1;
            }
        }
        self.at = at;
        self.pos
    }
}

/// Hashes of every run window, with the normalised offset where the window
/// starts. A window is the shortest stretch of consecutive words starting
/// at a word that weighs a run: [`RUN_WORDS`] words of spaced scripts,
/// [`RUN_CHARS`] characters of unspaced ones, or a mix.
fn run_hashes(n: &Normalized<'_>) -> Vec<(u64, usize)> {
    const P: u64 = 0x100_0000_01b3;
    const MAX: usize = RUN_UNITS / CHAR_UNITS;
    let text = n.as_str();
    let words: Vec<(u64, usize, usize)> = n
        .words()
        .map(|(s, e)| {
            let units = if n.is_unspaced(s) {
                CHAR_UNITS
            } else {
                WORD_UNITS
            };
            (fnv(&text[s..e]), s, units)
        })
        .collect();
    // prefix[i]: the polynomial hash of words[..i].
    let mut prefix = Vec::with_capacity(words.len() + 1);
    let mut h: u64 = 0;
    prefix.push(h);
    for w in &words {
        h = h.wrapping_mul(P).wrapping_add(w.0);
        prefix.push(h);
    }
    let mut pow = [1u64; MAX + 1];
    for i in 1..=MAX {
        pow[i] = pow[i - 1].wrapping_mul(P);
    }
    let mut out = Vec::new();
    let (mut end, mut units) = (0, 0);
    for (i, w) in words.iter().enumerate() {
        while end < words.len() && units < RUN_UNITS {
            units += words[end].2;
            end += 1;
        }
        if units < RUN_UNITS {
            break;
        }
        let len = end - i;
        let h = prefix[end].wrapping_sub(prefix[i].wrapping_mul(pow[len.min(MAX)]));
        out.push((h, w.1));
        units -= w.2;
    }
    out
}

fn fnv(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x100_0000_01b3);
    }
    h
}

/// A release's bytes in their final form, ready to be leak-checked.
pub enum Rendered {
    /// A text document (Markdown), checked as a whole.
    Text(String),
    /// A JSON document, checked key by key and value by value, and written
    /// pretty-printed.
    Json(Value),
}

/// Output that has passed the leak check. Only [`clear`] makes one.
#[derive(Debug, Clone)]
pub struct Cleared {
    bytes: Vec<u8>,
    audience: String,
    file_name: Option<String>,
}

impl Cleared {
    /// The bytes to write or send.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    /// The audience it was cleared for.
    pub fn audience(&self) -> &str {
        &self.audience
    }
    /// The output file name it was cleared with, if any.
    pub fn file_name(&self) -> Option<&str> {
        self.file_name.as_deref()
    }

    /// The objects of a cleared STIX bundle, each as compact JSON, for the
    /// audience's collection. Fails when the output is not a bundle of
    /// objects that each name their `type`, `id`, `spec_version` and a
    /// version (`modified`, else `created`).
    pub fn stix_objects(&self) -> Result<ClearedObjects, String> {
        let v: Value = serde_json::from_slice(&self.bytes)
            .map_err(|e| format!("the cleared output is not JSON: {e}"))?;
        let list = v
            .get("objects")
            .and_then(Value::as_array)
            .ok_or("the cleared output is not a STIX bundle")?;
        let mut objects = Vec::with_capacity(list.len());
        for (i, o) in list.iter().enumerate() {
            let field = |k: &str| {
                o.get(k)
                    .and_then(Value::as_str)
                    .map(str::to_string)
                    .ok_or_else(|| format!("objects[{i}] has no `{k}`"))
            };
            let version = field("modified").or_else(|_| field("created"))?;
            objects.push(ClearedObject {
                id: field("id")?,
                object_type: field("type")?,
                version,
                spec_version: field("spec_version")?,
                json: o.to_string(),
            });
        }
        Ok(ClearedObjects {
            audience: self.audience.clone(),
            objects,
        })
    }
}

/// Clears STIX objects that are not a release's rendering — a lifecycle
/// note, a new version of an object already released — for the audience
/// `guard` was made for: every key and string of every object is checked. Returns the objects (each with `type`, `id`, `spec_version`
/// and a version), or every finding.
pub fn clear_objects(
    guard: &LeakGuard<'_>,
    objects: &[Value],
) -> Result<ClearedObjects, Vec<LeakFinding>> {
    let findings: Vec<LeakFinding> = objects.iter().flat_map(|o| guard.check_json(o)).collect();
    if !findings.is_empty() {
        return Err(findings);
    }
    let mut b = serde_json::to_vec(&serde_json::json!({ "objects": objects })).unwrap_or_default();
    b.push(b'\n');
    let cleared = Cleared {
        bytes: b,
        audience: guard.audience.clone(),
        file_name: None,
    };
    cleared.stix_objects().map_err(|m| {
        vec![LeakFinding {
            field: "objects".into(),
            portion: None,
            pos: SourcePos { line: 1, column: 1 },
            in_source: false,
            item: Protected::Malformed(m),
        }]
    })
}

/// The finding for a guard made for one audience used on another's
/// release: a bug in the caller, refused like a leak.
fn mismatch(guard: &str, release: &str) -> LeakFinding {
    LeakFinding {
        field: "release".into(),
        portion: None,
        pos: SourcePos { line: 1, column: 1 },
        in_source: false,
        item: Protected::Malformed(format!(
            "a release to `{release}` checked with the guard for `{guard}`"
        )),
    }
}

/// The STIX objects of a release that passed the leak check for one
/// audience. Only [`Cleared::stix_objects`] makes one, so a store that
/// takes `ClearedObjects` for an audience's collection can only ever
/// publish what was cleared for that audience.
#[derive(Debug, Clone)]
pub struct ClearedObjects {
    audience: String,
    objects: Vec<ClearedObject>,
}

impl ClearedObjects {
    /// The audience they were cleared for.
    pub fn audience(&self) -> &str {
        &self.audience
    }
    /// The objects, in bundle order.
    pub fn objects(&self) -> &[ClearedObject] {
        &self.objects
    }
    /// The id of the release's report object, if it has one.
    pub fn report_id(&self) -> Option<&str> {
        self.objects
            .iter()
            .find(|o| o.object_type == "report")
            .map(|o| o.id.as_str())
    }
}

/// One cleared STIX object.
#[derive(Debug, Clone)]
pub struct ClearedObject {
    id: String,
    object_type: String,
    version: String,
    spec_version: String,
    json: String,
}

impl ClearedObject {
    /// Its STIX id.
    pub fn id(&self) -> &str {
        &self.id
    }
    /// Its STIX type.
    pub fn object_type(&self) -> &str {
        &self.object_type
    }
    /// Its version: `modified`, else `created`.
    pub fn version(&self) -> &str {
        &self.version
    }
    /// Its `spec_version`.
    pub fn spec_version(&self) -> &str {
        &self.spec_version
    }
    /// The object as compact JSON.
    pub fn json(&self) -> &str {
        &self.json
    }
}

/// Runs the leak check on a release and its rendered form (and the output
/// file name, if there is one). Returns the output when nothing protected
/// was found, else every finding.
pub fn clear(
    guard: &LeakGuard<'_>,
    release: &Release,
    rendered: Rendered,
    file_name: Option<&str>,
) -> Result<Cleared, Vec<LeakFinding>> {
    if guard.audience != release.audience().name() {
        return Err(vec![mismatch(&guard.audience, release.audience().name())]);
    }
    // Every byte of the output is scanned. The rendered output contains the
    // title and every released portion, so when it is clean so are they;
    // when it is not, the structured pass places each finding in the report
    // source, and anything the rendering itself added is reported by field.
    // The output is checked as a whole; the release's text is also read
    // as one text across portion breaks for runs of withheld words.
    let (mut findings, bytes) = match rendered {
        Rendered::Text(t) => (guard.check_field("output", &t), t.into_bytes()),
        Rendered::Json(v) => {
            let f = guard.check_json(&v);
            let mut b = serde_json::to_vec_pretty(&v).unwrap_or_default();
            b.push(b'\n');
            (f, b)
        }
    };
    if findings.is_empty() {
        findings = guard.check_runs_across(release);
    } else {
        let placed = guard.check_release(release);
        if !placed.is_empty() {
            findings = placed;
        }
    }
    if let Some(name) = file_name {
        findings.extend(guard.check_field("output file name", name));
    }
    if findings.is_empty() {
        Ok(Cleared {
            bytes,
            audience: guard.audience.clone(),
            file_name: file_name.map(str::to_string),
        })
    } else {
        Err(findings)
    }
}

#[cfg(test)]
mod guard_tests {
    use super::*;
    use tearline_model::{parse_report, Level};

    #[test]
    fn a_span_text_repeated_is_found_once_at_each_place() {
        let spans = "[a]{source} ".repeat(300);
        let src =
            format!("---\ntitle: T\nproduced: 2026-03-20T08:00:00Z\n---\n\n(TLP:GREEN) {spans}\n");
        let report = parse_report("t.md", src.as_bytes()).unwrap();
        let registry = Registry::new(vec![]);
        let public = Audience::new("public", Level::Green, false).unwrap();
        let guard = LeakGuard::new(&report, &public, &registry);
        let text = "a b\nc a a";
        let f = guard.check_field("notes", text);
        let places: Vec<(usize, usize)> = f.iter().map(|f| (f.pos.line, f.pos.column)).collect();
        assert_eq!(places, [(1, 1), (2, 3), (2, 5)]);
        // The first span of that text stands for them all.
        assert!(f
            .iter()
            .all(|f| matches!(f.item, Protected::Span { number: 1, .. })));
    }

    #[test]
    fn a_guard_clears_only_for_its_own_audience() {
        let src = "---\ntitle: T\nproduced: 2026-03-20T08:00:00Z\n---\n\n(TLP:CLEAR) text\n\n(TLP:RED) [SAPPHIRE]{source} saw it.\n";
        let report = parse_report("t.md", src.as_bytes()).unwrap();
        let registry = Registry::new(vec![]);
        let internal = Audience::new("internal", Level::Red, true).unwrap();
        let public = Audience::new("public", Level::Clear, false).unwrap();
        let release = Release::build(&report, &public, &registry);
        let wrong = LeakGuard::new(&report, &internal, &registry);
        let out = Rendered::Text(crate::render_markdown(&release));
        assert!(clear(&wrong, &release, out, None).is_err());
        let right = LeakGuard::new(&report, &public, &registry);
        let out = Rendered::Text(crate::render_markdown(&release));
        assert_eq!(
            clear(&right, &release, out, None).unwrap().audience(),
            "public"
        );
        let note = serde_json::json!({"type": "note", "id": "note--1", "spec_version": "2.1", "created": "2026-03-20T08:00:00Z", "content": "SAPPHIRE saw it."});
        assert!(
            clear_objects(&right, std::slice::from_ref(&note)).is_err(),
            "the span's original"
        );
        let fine = serde_json::json!({"type": "note", "id": "note--1", "spec_version": "2.1", "created": "2026-03-20T08:00:00Z", "content": "closed"});
        assert_eq!(clear_objects(&right, &[fine]).unwrap().audience(), "public");
    }
}

#[cfg(test)]
mod disguise_tests {
    use super::*;
    use tearline_model::{parse_report, Level, ProtectedTerm};

    const SECRET: &str =
        "(TLP:RED) the cell plans an attack on crowded venues in the city during the week.";

    fn report(body: &str) -> Report {
        let src = format!("---\ntitle: T\nproduced: 2026-03-20T08:00:00Z\n---\n\n{body}\n");
        parse_report("t.md", src.as_bytes()).unwrap()
    }

    fn registry(terms: &[&str]) -> Registry {
        Registry::new(
            terms
                .iter()
                .map(|t| ProtectedTerm {
                    term: t.to_string(),
                    kind: TermKind::Source,
                })
                .collect(),
        )
    }

    fn public() -> Audience {
        Audience::new("public", Level::Clear, false).unwrap()
    }

    /// What the public guard finds in `text`, for a report holding `body`
    /// and a registry of `terms`.
    fn found(body: &str, terms: &[&str], text: &str) -> Vec<(usize, Protected)> {
        let report = report(body);
        let registry = registry(terms);
        let guard = LeakGuard::new(&report, &public(), &registry);
        guard.scan(text)
    }

    fn term_found(terms: &[&str], text: &str) -> bool {
        found("(TLP:CLEAR) nothing", terms, text)
            .iter()
            .any(|(_, p)| matches!(p, Protected::Term { .. }))
    }

    fn run_found(body: &str, text: &str) -> bool {
        found(body, &[], text)
            .iter()
            .any(|(_, p)| matches!(p, Protected::WithheldRun { .. }))
    }

    #[test]
    fn greek_case_accents_and_final_sigma() {
        for text in [
            "ο Οδυσσέας ήρθε",
            "Ο ΟΔΥΣΣΕΑΣ ΗΡΘΕ",
            "ο οδυσσεας ήρθε",
            "ο ΟδυσσέαΣ ήρθε",
        ] {
            assert!(term_found(&["ΟΔΥΣΣΕΑΣ"], text), "{text}");
            assert!(term_found(&["οδυσσέας"], text), "{text}");
        }
        // Greek text with other words.
        assert!(!term_found(&["ΟΔΥΣΣΕΑΣ"], "ο Οδυσσέως και η Αθήνα"));
        assert!(!term_found(&["ΟΔΥΣΣΕΑΣ"], "Οι ύποπτοι σχεδιάζουν επίθεση."));
    }

    #[test]
    fn a_withheld_greek_sentence_in_capitals() {
        let body = "(TLP:CLEAR) ok\n\n(TLP:RED) οι ύποπτοι σχεδιάζουν επίθεση στην πόλη κατά τη διάρκεια της εβδομάδας.";
        assert!(run_found(
            body,
            "ΟΙ ΥΠΟΠΤΟΙ ΣΧΕΔΙΑΖΟΥΝ ΕΠΙΘΕΣΗ ΣΤΗΝ ΠΟΛΗ ΚΑΤΑ ΤΗ ΔΙΑΡΚΕΙΑ"
        ));
        assert!(!run_found(body, "ΟΙ ΥΠΟΠΤΟΙ ΣΧΕΔΙΑΖΟΥΝ ΕΠΙΘΕΣΗ ΣΤΗΝ ΑΘΗΝΑ"));
    }

    #[test]
    fn terms_inside_text_without_spaces() {
        for text in [
            "据报道SAPPHIRE已经抵达",
            "情報源のSAPPHIREは到着した",
            "รายงานว่าSAPPHIREมาถึงแล้ว",
            "据报道ＳＡＰＰＨＩＲＥ已经抵达",
        ] {
            assert!(term_found(&["SAPPHIRE"], text), "{text}");
        }
        assert!(term_found(&["蓝宝石"], "他说蓝宝石已经来了"));
        assert!(term_found(&["サファイア"], "情報源のサファイアは到着した"));
        assert!(term_found(&["ไพลิน"], "แหล่งข่าวไพลินยืนยัน"));
        // A Chinese sentence without the term; Latin word boundaries hold.
        assert!(!term_found(&["蓝宝石"], "他说红宝石已经来了"));
        assert!(!term_found(&["SAPPHIRE"], "据报道SAPPHIREX已经抵达"));
        assert!(!term_found(&["ARCHER"], "据报道ARCHERY已经抵达"));
    }

    #[test]
    fn span_originals_inside_text_without_spaces() {
        let body = "(TLP:CLEAR) [蓝宝石]{source sub=\"消息来源\"}说了。";
        let hits = found(body, &[], "据报道蓝宝石已经抵达");
        assert!(
            matches!(hits.as_slice(), [(9, Protected::Span { .. })]),
            "{hits:?}"
        );
    }

    #[test]
    fn a_withheld_chinese_sentence_copied() {
        let body = "(TLP:CLEAR) 好\n\n(TLP:RED) 该组织计划在周末袭击市中心人群聚集的场所。";
        assert!(run_found(body, "报告：该组织计划在周末袭击市中心人群"));
        assert!(run_found(body, "他们在周末袭击市中心人群聚集的场所吗"));
        // Eleven characters in a row are not a run.
        assert!(!run_found(body, "报告：该组织计划在周末袭击市"));
        assert!(!run_found(body, "今天天气很好，我们去公园散步吧。"));
    }

    #[test]
    fn what_a_reader_sees_of_markup() {
        for text in [
            "x &#83;APPHIRE y",
            "x &#x53;APPHIRE y",
            "x &#83APPHIRE y",
            "x SAP&shy;PHIRE y",
            "x SAP<b></b>PHIRE y",
            "x SAP<!-- x -->PHIRE y",
            "x [SAP](x)PHIRE y",
            "x SAP*PH*IRE y",
            "x SAP**PH**IRE y",
            "x SAP`PH`IRE y",
            "x %53APPHIRE y",
            "x %2553APPHIRE y",
            "x &amp;#83;APPHIRE y",
            "x SAP&lt;b&gt;&lt;/b&gt;PHIRE y",
            "[a link](https://example.org/%53APPHIRE)",
            "![an image](/img/%53APPHIRE.png)",
            "<div>\nSAP<i></i>PHIRE\n</div>",
            "x \u{202E}ERIHPPAS\u{202C} y",
            "x SAP\u{0640}PHIRE y",
            "x SAP\u{200E}PH\u{2067}IRE\u{2069} y",
        ] {
            assert!(term_found(&["SAPPHIRE"], text), "{text:?}");
        }
        assert!(term_found(&["OPAL HARBOR"], "x OPAL&nbsp;HARBOR y"));
        // Markup that hides nothing.
        assert!(!term_found(
            &["SAPPHIRE"],
            "a *bold* claim &amp; 50% more <b>blue</b>x [SAP](x)-y PHIRE"
        ));
        assert!(!term_found(&["SAPPHIRE"], "SAP <b>x</b> PHIRE"));
    }

    #[test]
    fn findings_in_markup_map_back_to_the_field() {
        let text = "x SAP*PH*IRE y";
        let hits = found("(TLP:CLEAR) nothing", &["SAPPHIRE"], text);
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!(hits[0].0, 2);
        let text = "abc &#83;APPHIRE";
        assert_eq!(found("(TLP:CLEAR) nothing", &["SAPPHIRE"], text)[0].0, 4);
    }

    #[test]
    fn an_override_holding_other_controls_is_refused() {
        let hits = found(
            "(TLP:CLEAR) nothing",
            &[],
            "x \u{202E}ab\u{2066}cd\u{2069}\u{202C}",
        );
        assert!(
            matches!(hits.as_slice(), [(2, Protected::Ambiguous(_))]),
            "{hits:?}"
        );
        assert!(found(
            "(TLP:CLEAR) nothing",
            &[],
            "\u{202E}abc\u{202C} \u{2067}שלום\u{2069}"
        )
        .is_empty());
    }

    #[test]
    fn look_alikes_and_small_capitals() {
        for text in [
            "x S\u{0410}PPHIRE y",
            "x s\u{0430}pphire y",
            "x ꜱᴀᴘᴘʜɪʀᴇ y",
            "x \u{0405}\u{0391}\u{03A1}\u{0420}\u{0397}\u{0399}R\u{0395} y",
            "x ѕаррһіrе y",
        ] {
            assert!(term_found(&["SAPPHIRE"], text), "{text:?}");
        }
        // ASCII letters are their own prototype.
        assert!(!term_found(&["CORN"], "see the com site"));
        assert!(!term_found(&["HAIL"], "the town hall"));
        assert!(!term_found(&["SAPPHIRE"], "Sapphíra, café, résumé, naïve"));
    }

    #[test]
    fn hangul_fillers_for_spaces() {
        let body = format!("(TLP:CLEAR) ok\n\n{SECRET}");
        let text = "the\u{3164}cell\u{3164}plans\u{FFA0}an\u{115F}attack\u{1160}on\u{3164}crowded\u{3164}venues";
        assert!(run_found(&body, text));
    }

    #[test]
    fn a_run_split_across_two_released_portions() {
        let src = "---\ntitle: T\nproduced: 2026-03-20T08:00:00Z\n---\n\n\
            (TLP:RED) the cell plans an attack on crowded venues in the city during the week.\n\n\
            (TLP:CLEAR) Partners report that the cell plans an attack on\n\n\
            (TLP:CLEAR) crowded venues in the city during the weekend.\n";
        let report = parse_report("t.md", src.as_bytes()).unwrap();
        let registry = registry(&[]);
        let a = public();
        let release = Release::build(&report, &a, &registry);
        let guard = LeakGuard::new(&report, &a, &registry);
        for out in [
            Rendered::Text(crate::render_markdown(&release)),
            Rendered::Json(crate::render_json(&release)),
        ] {
            let findings = clear(&guard, &release, out, None).unwrap_err();
            assert_eq!(findings.len(), 1, "{findings:?}");
            let f = &findings[0];
            assert_eq!(f.item, Protected::WithheldRun { portion: 1 });
            assert_eq!(
                (f.field.as_str(), f.portion, f.in_source),
                ("portion 2", Some(2), true)
            );
            assert_eq!((f.pos.line, f.pos.column), (8, 34), "{f}");
        }
        // Half a run on each side of a withheld portion is no run.
        let src = src.replace("(TLP:CLEAR) crowded", "(TLP:RED) x\n\n(TLP:CLEAR) venues");
        let report = parse_report("t.md", src.as_bytes()).unwrap();
        let release = Release::build(&report, &a, &registry);
        let guard = LeakGuard::new(&report, &a, &registry);
        let out = Rendered::Text(crate::render_markdown(&release));
        assert!(clear(&guard, &release, out, None).is_ok());
    }

    #[test]
    fn an_output_file_name_is_read_decoded() {
        let report = report("(TLP:CLEAR) nothing");
        let registry = registry(&["SAPPHIRE"]);
        let guard = LeakGuard::new(&report, &public(), &registry);
        let release = Release::build(&report, &public(), &registry);
        for name in [
            "%53APPHIRE.md",
            "s\u{0430}pphire.md",
            "SAP\u{202E}ERIHP\u{202C}.md",
            "sapphire.json",
        ] {
            let out = Rendered::Text(crate::render_markdown(&release));
            let findings = clear(&guard, &release, out, Some(name)).unwrap_err();
            assert!(
                findings.iter().any(|f| f.field == "output file name"),
                "{name}: {findings:?}"
            );
        }
        let out = Rendered::Text(crate::render_markdown(&release));
        assert!(clear(&guard, &release, out, Some("warning-public.md")).is_ok());
    }

    #[test]
    fn json_and_stix_fields_are_read_decoded() {
        let report = report("(TLP:CLEAR) nothing");
        let registry = registry(&["SAPPHIRE"]);
        let guard = LeakGuard::new(&report, &public(), &registry);
        for content in [
            "&#83;APPHIRE",
            "SAP<b></b>PHIRE",
            "%53APPHIRE",
            "[SAP](x)PHIRE",
        ] {
            let note = serde_json::json!({"type": "note", "id": "note--1", "spec_version": "2.1", "created": "2026-03-20T08:00:00Z", "content": content});
            assert!(clear_objects(&guard, &[note]).is_err(), "{content}");
        }
        let f = guard.check_json(&serde_json::json!({"labels": ["a", "x &#x53;APPHIRE"]}));
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].field, "labels[1]");
        assert_eq!((f[0].pos.line, f[0].pos.column), (1, 3));
    }
}
