//! A parsed report: front matter and portions.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::{Level, Marking, Span};

/// A line and column in the report source, both counting from 1; the
/// column counts characters, not bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SourcePos {
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
}

/// The YAML front matter of a report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FrontMatter {
    /// The report's title.
    pub title: String,
    /// When it was produced.
    pub produced: DateTime<FixedOffset>,
    /// Start of the warning's validity window.
    pub valid_from: Option<DateTime<FixedOffset>>,
    /// End of the warning's validity window.
    pub valid_until: Option<DateTime<FixedOffset>>,
    /// The author.
    pub author: Option<String>,
    /// Byte offset of the title's value in the source.
    #[serde(skip)]
    pub title_offset: usize,
}

/// What kind of Markdown block a portion is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PortionKind {
    /// A paragraph.
    Paragraph,
    /// A heading of the given depth (1 to 6).
    Heading(u8),
    /// A list item; the marker as written (`-`, `*`, `+`, `1.`).
    ListItem(String),
}

/// A piece of a portion's text: plain text, or an annotated span.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// Plain text, exactly as it stands in the source at `offset`.
    Text {
        /// The text.
        text: String,
        /// Byte offset of its first character in the source.
        offset: usize,
    },
    /// An annotated span.
    Span(Span),
}

/// A marking that starts a line inside a portion instead of starting a
/// portion of its own (the writer left out the blank line before it). It
/// is a lint error, and until it is fixed the portion is released only to
/// audiences that every one of its markings admits.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LineMarking {
    pub(crate) marking: Marking,
    pub(crate) offset: usize,
}

impl LineMarking {
    /// The marking as parsed.
    pub fn marking(&self) -> &Marking {
        &self.marking
    }
    /// Byte offset of its `(` in the source.
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// One marked paragraph, heading or list item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Portion {
    pub(crate) number: usize,
    pub(crate) kind: PortionKind,
    pub(crate) marking: Marking,
    pub(crate) marked: bool,
    pub(crate) line_markings: Vec<LineMarking>,
    /// The highest of `marking` and `line_markings`, worked out once.
    pub(crate) level: Level,
    pub(crate) segments: Vec<Segment>,
    pub(crate) offset: usize,
}

impl Portion {
    /// The portion's number in the report, counting from 1.
    pub fn number(&self) -> usize {
        self.number
    }
    /// Paragraph, heading or list item.
    pub fn kind(&self) -> &PortionKind {
        &self.kind
    }
    /// Its marking; TLP:RED when the writer gave none.
    pub fn marking(&self) -> &Marking {
        &self.marking
    }
    /// False when the portion had no marking and was treated as TLP:RED.
    pub fn is_marked(&self) -> bool {
        self.marked
    }
    /// Markings found at the start of a line inside the portion (after its
    /// first line); each is a lint error.
    pub fn line_markings(&self) -> &[LineMarking] {
        &self.line_markings
    }
    /// Its marking, then every marking at the start of a line inside it.
    /// An audience receives the portion only if each of them admits it.
    pub fn markings(&self) -> impl Iterator<Item = &Marking> {
        std::iter::once(&self.marking).chain(self.line_markings.iter().map(|l| &l.marking))
    }
    /// The level that decides who receives the portion: the highest of its
    /// marking and of any marking at the start of a line inside it.
    pub fn level(&self) -> Level {
        self.level
    }
    /// Its text and spans, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }
    /// The spans in the portion.
    pub fn spans(&self) -> impl Iterator<Item = &Span> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Span(sp) => Some(sp),
            Segment::Text { .. } => None,
        })
    }
    /// The full original text, with span brackets removed.
    pub fn plain_text(&self) -> String {
        let mut out = String::new();
        for seg in &self.segments {
            match seg {
                Segment::Text { text, .. } => out.push_str(text),
                Segment::Span(sp) => out.push_str(sp.text()),
            }
        }
        out
    }
    /// Byte offset in the source where the portion starts (its block
    /// marker, or its marking).
    pub fn offset(&self) -> usize {
        self.offset
    }
}

/// A parsed report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub(crate) name: String,
    pub(crate) meta: FrontMatter,
    pub(crate) portions: Vec<Portion>,
    pub(crate) line_starts: Vec<usize>,
    pub(crate) columns: ColumnIndex,
    pub(crate) source: String,
}

impl Report {
    /// The display name the report was parsed under (usually its path).
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The front matter.
    pub fn meta(&self) -> &FrontMatter {
        &self.meta
    }
    /// The portions, in order.
    pub fn portions(&self) -> &[Portion] {
        &self.portions
    }
    /// Every span, in order.
    pub fn spans(&self) -> impl Iterator<Item = (&Portion, &Span)> {
        self.portions
            .iter()
            .flat_map(|p| p.spans().map(move |s| (p, s)))
    }
    /// The source text.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Line and column of a byte offset in the source.
    pub fn pos(&self, offset: usize) -> SourcePos {
        self.columns.pos(&self.source, &self.line_starts, offset)
    }
}

/// Turns byte offsets into character columns in constant time, however
/// long the line: the number of UTF-8 continuation bytes before every
/// multiple of [`ColumnIndex::STRIDE`] bytes, so that a column is a
/// subtraction and a scan of at most one stride. (Counting characters from
/// the line's start each time would make many findings on one long line
/// quadratic.)
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct ColumnIndex {
    continuation: Vec<usize>,
}

impl ColumnIndex {
    const STRIDE: usize = 64;

    pub(crate) fn new(src: &str) -> ColumnIndex {
        let mut continuation = Vec::with_capacity(src.len() / Self::STRIDE + 1);
        let mut count = 0;
        for chunk in src.as_bytes().chunks(Self::STRIDE) {
            continuation.push(count);
            count += chunk.iter().filter(|&&b| is_continuation(b)).count();
        }
        continuation.push(count);
        ColumnIndex { continuation }
    }

    /// Continuation bytes before byte `at`.
    fn before(&self, src: &[u8], at: usize) -> usize {
        let k = at / Self::STRIDE;
        let base = self.continuation.get(k).copied().unwrap_or(0);
        base + src[k * Self::STRIDE..at]
            .iter()
            .filter(|&&b| is_continuation(b))
            .count()
    }

    pub(crate) fn pos(&self, src: &str, line_starts: &[usize], offset: usize) -> SourcePos {
        let offset = offset.min(src.len());
        let line_idx = match line_starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i.saturating_sub(1),
        };
        let start = line_starts.get(line_idx).copied().unwrap_or(0).min(offset);
        let bytes = src.as_bytes();
        let chars = (offset - start) - (self.before(bytes, offset) - self.before(bytes, start));
        SourcePos {
            line: line_idx + 1,
            column: chars + 1,
        }
    }
}

fn is_continuation(b: u8) -> bool {
    b & 0xc0 == 0x80
}

pub(crate) fn line_starts(src: &str) -> Vec<usize> {
    let mut v = vec![0];
    v.extend(src.match_indices('\n').map(|(i, _)| i + 1));
    v
}

pub(crate) fn pos_in(src: &str, line_starts: &[usize], offset: usize) -> SourcePos {
    let offset = offset.min(src.len());
    let line_idx = match line_starts.binary_search(&offset) {
        Ok(i) => i,
        Err(i) => i.saturating_sub(1),
    };
    let start = line_starts.get(line_idx).copied().unwrap_or(0);
    let column = src
        .get(start..offset)
        .map(|s| s.chars().count())
        .unwrap_or(0)
        + 1;
    SourcePos {
        line: line_idx + 1,
        column,
    }
}
