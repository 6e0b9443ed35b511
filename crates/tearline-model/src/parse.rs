//! The report parser: front matter, blocks, markings, spans.
//!
//! Every error carries the file name, line and column, so a writer can go
//! straight to the mistake.

use std::borrow::Cow;

use chrono::{DateTime, FixedOffset};

use crate::report::{line_starts, pos_in, ColumnIndex, LineMarking};
use crate::{FrontMatter, Level, Marking, Portion, PortionKind, Report, Segment, Span, SpanKind};

/// The largest report the parser accepts, in bytes (10 MiB). A report is
/// prose; anything larger is a mistake or an attack.
pub const MAX_REPORT_BYTES: usize = 10 * 1024 * 1024;

/// The most annotated spans a report may hold (10,000). A report names
/// tens of things; every span becomes a term the leak check compiles into
/// its matcher for each audience, so the count is bounded.
pub const MAX_SPANS: usize = 10_000;

/// Why a report could not be parsed, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct ParseError {
    /// The report's display name.
    pub file: String,
    /// Line, from 1.
    pub line: usize,
    /// Column in characters, from 1.
    pub column: usize,
    /// What is wrong, as a lower-case phrase.
    pub message: String,
}

/// Parses a report from its bytes. `name` is used in error messages.
///
/// Lines may end in LF, CRLF or CR alone (old Mac files): CRLF and CR are
/// made LF before parsing, which keeps every line and column number as the
/// writer's editor shows them. A NUL byte is refused, as `ingest` refuses
/// binary files.
pub fn parse_report(name: &str, bytes: &[u8]) -> Result<Report, ParseError> {
    let at = |line: usize, column: usize, message: String| ParseError {
        file: name.to_string(),
        line,
        column,
        message,
    };
    if bytes.len() > MAX_REPORT_BYTES {
        return Err(at(
            1,
            1,
            format!(
                "report is {} bytes; the limit is {} bytes (10 MiB)",
                bytes.len(),
                MAX_REPORT_BYTES
            ),
        ));
    }
    let source = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            // The valid prefix is valid UTF-8 by definition.
            let prefix = std::str::from_utf8(good).unwrap_or_default();
            let (line, column) = raw_pos(prefix, prefix.len());
            return Err(at(
                line,
                column,
                format!(
                    "invalid UTF-8: byte 0x{:02x} at offset {} (reports must be UTF-8 text)",
                    bytes[e.valid_up_to()],
                    e.valid_up_to()
                ),
            ));
        }
    };
    if let Some(nul) = source.find('\0') {
        let (line, column) = raw_pos(source, nul);
        return Err(at(
            line,
            column,
            "the report holds a NUL byte (U+0000): it is a binary file, not text".to_string(),
        ));
    }
    let text = lf_line_ends(source);
    Parser::new(name, &text).parse()
}

/// Line and column (from 1, in characters) of byte `offset` in text whose
/// lines end in LF, CRLF or CR.
fn raw_pos(src: &str, offset: usize) -> (usize, usize) {
    let before = src.as_bytes().get(..offset).unwrap_or(src.as_bytes());
    let mut line = 1;
    let mut line_start = 0;
    let mut i = 0;
    while i < before.len() {
        match before[i] {
            b'\n' => {
                line += 1;
                line_start = i + 1;
            }
            b'\r' => {
                if before.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                line += 1;
                line_start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    let column = before[line_start.min(before.len())..]
        .iter()
        .filter(|&&b| b & 0xc0 != 0x80)
        .count()
        + 1;
    (line, column)
}

/// The text with CRLF and lone CR line ends made LF.
fn lf_line_ends(s: &str) -> Cow<'_, str> {
    if !s.contains('\r') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('\r') {
        out.push_str(&rest[..i]);
        out.push('\n');
        rest = &rest[i + 1..];
        if let Some(r) = rest.strip_prefix('\n') {
            rest = r;
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

struct Line {
    start: usize,
    /// End of the line's content, before its `\n`.
    end: usize,
}

struct Parser<'a> {
    name: &'a str,
    src: &'a str,
    starts: Vec<usize>,
    lines: Vec<Line>,
    span_count: usize,
}

enum BlockKind {
    Paragraph,
    Heading(u8),
    ListItem(String),
}

struct Block {
    kind: BlockKind,
    /// Offset of the block's first character (its marker, if any).
    start: usize,
    /// Offset where the portion's own text begins (after any marker).
    content_start: usize,
    /// Offset just past the last content character.
    end: usize,
    /// Index of its first line.
    first_line: usize,
    /// Index of its last line.
    last_line: usize,
}

/// The front-matter fields, by their canonical names.
const FIELDS: [&str; 5] = ["title", "produced", "valid_from", "valid_until", "author"];

/// A front-matter key's canonical name: `-` read as `_`, and `produced_at`
/// as `produced`.
fn canonical(key: &str) -> String {
    let k = key.replace('-', "_");
    if k == "produced_at" {
        "produced".to_string()
    } else {
        k
    }
}

/// A front-matter value as written: where it starts, its text, and
/// whether it may continue on indented lines (a plain value may).
struct Field {
    key: String,
    line: usize,
    key_at: usize,
    value_at: usize,
    value: String,
    plain: bool,
}

impl<'a> Parser<'a> {
    fn new(name: &'a str, src: &'a str) -> Parser<'a> {
        let starts = line_starts(src);
        let mut lines = Vec::with_capacity(starts.len());
        for (i, &s) in starts.iter().enumerate() {
            let end = match starts.get(i + 1) {
                Some(&next) => next - 1,
                None => src.len(),
            };
            lines.push(Line { start: s, end });
        }
        Parser {
            name,
            src,
            starts,
            lines,
            span_count: 0,
        }
    }

    fn err_at(&self, offset: usize, message: impl Into<String>) -> ParseError {
        let pos = pos_in(self.src, &self.starts, offset);
        ParseError {
            file: self.name.to_string(),
            line: pos.line,
            column: pos.column,
            message: message.into(),
        }
    }

    fn line_text(&self, i: usize) -> &'a str {
        &self.src[self.lines[i].start..self.lines[i].end]
    }

    fn parse(mut self) -> Result<Report, ParseError> {
        let bom = if self.src.starts_with('\u{feff}') {
            3
        } else {
            0
        };
        let first = self.line_text(0).get(bom..).unwrap_or("");
        if first.trim_end() != "---" {
            return Err(self.err_at(
                bom,
                "missing front matter: a report starts with a line `---`, then `title:` and `produced:`, then `---`",
            ));
        }
        let close = (1..self.lines.len())
            .find(|&i| matches!(self.line_text(i).trim_end(), "---" | "..."))
            .ok_or_else(|| {
                self.err_at(
                    bom,
                    "front matter opened here is never closed by a line `---`",
                )
            })?;
        let meta = self.front_matter(1, close)?;
        let blocks = self.blocks(close + 1);
        let mut portions = Vec::with_capacity(blocks.len());
        for (i, b) in blocks.into_iter().enumerate() {
            portions.push(self.portion(i + 1, b)?);
        }
        Ok(Report {
            name: self.name.to_string(),
            meta,
            portions,
            columns: ColumnIndex::new(self.src),
            line_starts: self.starts,
            source: self.src.to_string(),
        })
    }

    // ---- front matter -------------------------------------------------

    /// Reads the `key: value` lines between the two `---` lines (indices
    /// `from..to`). Values are plain text, `"double-quoted"` (with YAML's
    /// backslash escapes) or `'single-quoted'`; a plain value may go on in
    /// indented lines. Blank lines and `#` comments are skipped. Nothing
    /// else of YAML is read: no lists, maps, anchors, aliases, tags or
    /// block scalars, so reading it takes one pass.
    fn front_matter(&self, from: usize, to: usize) -> Result<FrontMatter, ParseError> {
        let mut fields: Vec<Field> = Vec::new();
        for i in from..to {
            let l = &self.lines[i];
            let text = self.line_text(i);
            let trimmed = text.trim_start_matches([' ', '\t']);
            if trimmed.is_empty() || trimmed.starts_with('#') {
                continue;
            }
            let indent = text.len() - trimmed.len();
            if indent > 0 {
                match fields.last_mut() {
                    Some(f) if f.plain => {
                        let more = strip_comment(trimmed);
                        if !more.is_empty() {
                            if !f.value.is_empty() {
                                f.value.push(' ');
                            }
                            f.value.push_str(more);
                        }
                        continue;
                    }
                    _ => {
                        return Err(self.err_at(
                            l.start + indent,
                            "malformed front matter: expected `key: value` at the start of the line (only a plain value may go on in indented lines)",
                        ))
                    }
                }
            }
            let field = self.front_matter_line(i, text)?;
            let canon = canonical(&field.key);
            if !FIELDS.contains(&canon.as_str()) {
                return Err(self.err_at(
                    field.key_at,
                    format!(
                        "unknown front matter field `{}`: expected title, produced, valid_from, valid_until or author",
                        field.key
                    ),
                ));
            }
            // At most one field of each of the five: a short search.
            if let Some(first) = fields.iter().find(|f| canonical(&f.key) == canon) {
                let same = if first.key == field.key {
                    String::new()
                } else {
                    format!(" (as `{}`)", first.key)
                };
                return Err(self.err_at(
                    field.key_at,
                    format!(
                        "duplicate front matter field `{}`: it is already given on line {}{same}",
                        field.key, first.line
                    ),
                ));
            }
            fields.push(field);
        }
        let mut title: Option<(String, usize)> = None;
        let mut produced = None;
        let mut valid_from = None;
        let mut valid_until = None;
        let mut author = None;
        let mut until_at = 0;
        for f in &fields {
            let value = (!f.value.is_empty()).then(|| f.value.clone());
            match canonical(&f.key).as_str() {
                "title" => {
                    let t = value.unwrap_or_default();
                    if t.trim().is_empty() {
                        return Err(self.err_at(f.key_at, "front matter field `title` is empty"));
                    }
                    title = Some((t, f.value_at));
                }
                "produced" => produced = self.timestamp(f)?,
                "valid_from" => valid_from = self.timestamp(f)?,
                "valid_until" => {
                    valid_until = self.timestamp(f)?;
                    until_at = f.key_at;
                }
                _ => author = value,
            }
        }
        let front = self.lines[0].start;
        let (title, title_offset) =
            title.ok_or_else(|| self.err_at(front, "front matter has no `title`"))?;
        let produced = produced.ok_or_else(|| {
            self.err_at(
                front,
                "front matter has no `produced` (an RFC 3339 timestamp, e.g. 2026-03-20T08:00:00Z)",
            )
        })?;
        if let (Some(f), Some(u)) = (valid_from, valid_until) {
            if u <= f {
                return Err(self.err_at(until_at, "`valid_until` is not after `valid_from`"));
            }
        }
        Ok(FrontMatter {
            title,
            produced,
            valid_from,
            valid_until,
            author,
            title_offset,
        })
    }

    /// One `key: value` line of the front matter (line index `i`).
    fn front_matter_line(&self, i: usize, text: &str) -> Result<Field, ParseError> {
        let start = self.lines[i].start;
        let key_len = text
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-'))
            .count();
        let after_key = &text[key_len..];
        let colon = key_len + (after_key.len() - after_key.trim_start_matches([' ', '\t']).len());
        if key_len == 0 || !text[colon..].starts_with(':') {
            return Err(self.err_at(
                start,
                "malformed front matter: expected `key: value`, the key a name such as `title`",
            ));
        }
        let rest = &text[colon + 1..];
        if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
            return Err(self.err_at(
                start + colon + 1,
                "malformed front matter: a space must follow the `:` after a key",
            ));
        }
        let key = text[..key_len].to_string();
        let lead = rest.len() - rest.trim_start_matches([' ', '\t']).len();
        let value_at = start + colon + 1 + lead;
        let raw = &rest[lead..];
        let (value, plain) = match raw.as_bytes().first() {
            None | Some(b'#') => (String::new(), true),
            Some(b'"') | Some(b'\'') => {
                let (v, used) = if raw.starts_with('"') {
                    double_quoted(raw)
                } else {
                    single_quoted(raw)
                }
                .map_err(|(o, m)| self.err_at(value_at + o, format!("front matter field `{key}`: {m}")))?;
                if !strip_comment(&raw[used..]).is_empty() {
                    return Err(self.err_at(
                        value_at + used,
                        format!("front matter field `{key}`: text after the closing quote"),
                    ));
                }
                (v, false)
            }
            Some(b'[' | b'{' | b'&' | b'*' | b'!' | b'|' | b'>' | b'%' | b'@' | b'`') => {
                return Err(self.err_at(
                    value_at,
                    format!("malformed front matter: field `{key}` must be text, plain or in quotes (YAML lists, maps, anchors, aliases, tags and block text are not read)"),
                ))
            }
            Some(_) => (strip_comment(raw).to_string(), true),
        };
        Ok(Field {
            key,
            line: i + 1,
            key_at: start,
            value_at,
            value,
            plain,
        })
    }

    fn timestamp(&self, f: &Field) -> Result<Option<DateTime<FixedOffset>>, ParseError> {
        if f.value.is_empty() {
            return Ok(None);
        }
        let s = &f.value;
        let key = &f.key;
        DateTime::parse_from_rfc3339(s.trim()).map(Some).map_err(|e| {
            self.err_at(
                f.value_at,
                format!("front matter field `{key}`: `{s}` is not an RFC 3339 timestamp such as 2026-03-20T08:00:00Z ({e})"),
            )
        })
    }

    // ---- blocks --------------------------------------------------------

    fn blocks(&self, from: usize) -> Vec<Block> {
        let mut out: Vec<Block> = Vec::new();
        let mut open = false;
        for i in from..self.lines.len() {
            let l = &self.lines[i];
            let text = self.line_text(i);
            let trimmed = text.trim();
            if trimmed.is_empty() || is_thematic_break(trimmed) {
                open = false;
                continue;
            }
            let indent = text.len() - text.trim_start().len();
            let lead = &text[indent..];
            if indent <= 3 {
                if let Some((depth, skip)) = heading(lead) {
                    out.push(Block {
                        kind: BlockKind::Heading(depth),
                        start: l.start + indent,
                        content_start: l.start + indent + skip,
                        end: l.end,
                        first_line: i,
                        last_line: i,
                    });
                    open = false;
                    continue;
                }
                if let Some((marker, skip)) = list_marker(lead) {
                    out.push(Block {
                        kind: BlockKind::ListItem(marker),
                        start: l.start + indent,
                        content_start: l.start + indent + skip,
                        end: l.end,
                        first_line: i,
                        last_line: i,
                    });
                    open = true;
                    continue;
                }
            }
            match out.last_mut() {
                Some(b) if open => {
                    b.end = l.end;
                    b.last_line = i;
                }
                _ => {
                    out.push(Block {
                        kind: BlockKind::Paragraph,
                        start: l.start + indent,
                        content_start: l.start + indent,
                        end: l.end,
                        first_line: i,
                        last_line: i,
                    });
                    open = true;
                }
            }
        }
        out
    }

    // ---- portions ------------------------------------------------------

    fn portion(&mut self, number: usize, b: Block) -> Result<Portion, ParseError> {
        let content = &self.src[b.content_start..b.end];
        let lead_ws = content.len() - content.trim_start_matches([' ', '\t']).len();
        let at = b.content_start + lead_ws;
        let rest = &self.src[at..b.end];
        let (marking, marked, text_start) = if looks_like_marking(rest) {
            let (m, len) = self.marking(at)?;
            let after = &self.src[at + len..b.end];
            let ws = after.len() - after.trim_start_matches([' ', '\t']).len();
            (m, true, at + len + ws)
        } else {
            (Marking::new(Level::Red, Vec::new()), false, at)
        };
        let line_markings = self.line_markings(&b)?;
        let segments = self.segments(text_start, b.end)?;
        let kind = match b.kind {
            BlockKind::Paragraph => PortionKind::Paragraph,
            BlockKind::Heading(d) => PortionKind::Heading(d),
            BlockKind::ListItem(m) => PortionKind::ListItem(m),
        };
        let level = line_markings
            .iter()
            .map(|l| l.marking.level())
            .fold(marking.level(), Level::max);
        Ok(Portion {
            number,
            kind,
            marking,
            marked,
            line_markings,
            level,
            segments,
            offset: b.start,
        })
    }

    /// Markings at the start of a line after the block's first: the writer
    /// meant a new portion but left out the blank line. A line is read the
    /// way a portion's first line is (after indentation, a list marker or
    /// heading hashes), so a marking the parser would accept at the start of
    /// a portion is found here too, in any case or spacing; one that does
    /// not parse is an error, as at the start of a portion.
    fn line_markings(&self, b: &Block) -> Result<Vec<LineMarking>, ParseError> {
        let mut out = Vec::new();
        for i in b.first_line + 1..=b.last_line {
            let text = self.line_text(i);
            let lead = text.trim_start_matches([' ', '\t']);
            let skip = list_marker(lead)
                .map(|(_, n)| n)
                .or_else(|| heading(lead).map(|(_, n)| n))
                .unwrap_or(0);
            let after = &lead[skip..];
            let rest = after.trim_start_matches([' ', '\t']);
            if !looks_like_marking(rest) {
                continue;
            }
            let at = self.lines[i].start + (text.len() - rest.len());
            let (marking, _) = self.marking(at)?;
            out.push(LineMarking {
                marking,
                offset: at,
            });
        }
        Ok(out)
    }

    /// Parses `(TLP:LEVEL[//REL TO a, b])` at `at`; returns the marking and
    /// its length in bytes.
    fn marking(&self, at: usize) -> Result<(Marking, usize), ParseError> {
        let line_end = self.src[at..].find('\n').map_or(self.src.len(), |i| at + i);
        let line = &self.src[at..line_end];
        let close = line.find(')').ok_or_else(|| {
            self.err_at(
                at,
                "unclosed marking: `(TLP:...` needs a closing `)` on the same line",
            )
        })?;
        let inner = &line[1..close];
        let mut parts = inner.split("//");
        let level_text = parts.next().unwrap_or("");
        let level: Level = level_text
            .parse()
            .map_err(|e: crate::MarkingError| self.err_at(at + 1, e.to_string()))?;
        let mut rel_to = Vec::new();
        let mut part_at = at + 1 + level_text.len();
        for q in parts {
            part_at += 2;
            let qt = q.trim();
            let names = strip_prefix_ci(qt, "rel to").ok_or_else(|| {
                self.err_at(
                    part_at,
                    format!("unknown marking qualifier `//{qt}`: expected `//REL TO name, name`"),
                )
            })?;
            if !rel_to.is_empty() {
                return Err(self.err_at(part_at, "marking has more than one `//REL TO`"));
            }
            rel_to.reserve(names.bytes().filter(|&b| b == b',').count() + 1);
            for n in names.split(',') {
                let n = n.trim();
                if n.is_empty() {
                    return Err(self.err_at(part_at, "empty audience name in `REL TO` list"));
                }
                rel_to.push(n.to_string());
            }
            part_at += q.len();
        }
        Ok((Marking::new(level, rel_to), close + 1))
    }

    /// Splits a portion's text into plain text and spans, in one pass: the
    /// unescaped brackets are listed first, so finding the `]` that closes a
    /// `[` (or the `}` that closes its attributes) is a binary search, not a
    /// scan to the end of the portion for every `[`.
    fn segments(&mut self, start: usize, end: usize) -> Result<Vec<Segment>, ParseError> {
        let src = self.src;
        let bytes = src.as_bytes();
        let brackets = Brackets::scan(bytes, start, end);
        let mut segs = Vec::new();
        let mut text_start = start;
        let mut i = start;
        let flush = |segs: &mut Vec<Segment>, from: usize, to: usize| {
            if to > from {
                segs.push(Segment::Text {
                    text: src[from..to].to_string(),
                    offset: from,
                });
            }
        };
        while i < end {
            match bytes[i] {
                b'\\' if i + 1 < end && b"[]{}\\".contains(&bytes[i + 1]) => {
                    flush(&mut segs, text_start, i);
                    segs.push(Segment::Text {
                        text: src[i + 1..i + 2].to_string(),
                        offset: i + 1,
                    });
                    i += 2;
                    text_start = i;
                }
                b'[' => {
                    let close = first_from(&brackets.close, i + 1).ok_or_else(|| {
                        self.err_at(i, "unclosed span: `[` is never closed by `]` in this portion (write `\\[` for a literal bracket)")
                    })?;
                    if close + 1 < end && bytes[close + 1] == b'{' {
                        let attr_close = first_from(&brackets.attr_close, close + 2).ok_or_else(|| {
                            self.err_at(close + 1, "unclosed span attributes: `{` is never closed by `}` in this portion")
                        })?;
                        if let Some(nested) =
                            first_from(&brackets.open, i + 1).filter(|&o| o < close)
                        {
                            return Err(
                                self.err_at(nested, "spans cannot be nested: `[` inside a span")
                            );
                        }
                        flush(&mut segs, text_start, i);
                        let span = self.span(i, close, attr_close)?;
                        segs.push(Segment::Span(span));
                        i = attr_close + 1;
                        text_start = i;
                    } else {
                        i += 1;
                    }
                }
                _ => i += 1,
            }
        }
        flush(&mut segs, text_start, end);
        Ok(segs)
    }

    /// `open` is the `[`, `close` the `]`, `attr_close` the `}`.
    fn span(&mut self, open: usize, close: usize, attr_close: usize) -> Result<Span, ParseError> {
        let text = unescape(&self.src[open + 1..close]);
        if text.trim().is_empty() {
            return Err(self.err_at(open, "empty span: `[]` has no text"));
        }
        let attrs_at = close + 2;
        let attrs = &self.src[attrs_at..attr_close];
        let mut toks = Tokens { s: attrs, i: 0 };
        let (kind_at, kind_tok) = toks
            .next_token()
            .map_err(|(o, m)| self.err_at(attrs_at + o, m))?
            .ok_or_else(|| self.err_at(close + 1, "span has no kind: write e.g. `{place}`"))?;
        if kind_tok.contains('=') {
            return Err(self.err_at(
                attrs_at + kind_at,
                "span attributes must start with the kind, e.g. `{venue sub=\"a venue\"}`",
            ));
        }
        let kind = SpanKind::from_name(&kind_tok);
        let mut sub = None;
        let mut level = None;
        while let Some((o, tok)) = toks
            .next_token()
            .map_err(|(o, m)| self.err_at(attrs_at + o, m))?
        {
            let (key, value) = tok.split_once('=').ok_or_else(|| {
                self.err_at(
                    attrs_at + o,
                    format!("span attribute `{tok}` needs a value: `sub=\"...\"` or `level=LEVEL`"),
                )
            })?;
            match key {
                "sub" => {
                    if sub.is_some() {
                        return Err(self.err_at(attrs_at + o, "span has `sub` twice"));
                    }
                    if value.trim().is_empty() {
                        return Err(self.err_at(attrs_at + o, "span `sub` is empty"));
                    }
                    sub = Some(value.to_string());
                }
                "level" => {
                    if level.is_some() {
                        return Err(self.err_at(attrs_at + o, "span has `level` twice"));
                    }
                    level = Some(
                        value
                            .parse::<Level>()
                            .map_err(|e| self.err_at(attrs_at + o + 6, e.to_string()))?,
                    );
                }
                _ => {
                    return Err(self.err_at(
                        attrs_at + o,
                        format!("unknown span attribute `{key}`: expected `sub` or `level`"),
                    ))
                }
            }
        }
        if self.span_count >= MAX_SPANS {
            return Err(self.err_at(
                open,
                format!("too many spans: a report holds at most {MAX_SPANS} annotated spans"),
            ));
        }
        self.span_count += 1;
        Ok(Span {
            number: self.span_count,
            kind,
            text,
            sub,
            level,
            offset: open,
        })
    }
}

/// Whitespace-separated tokens; a `"`-quoted value may hold spaces and
/// `\"`.
struct Tokens<'s> {
    s: &'s str,
    i: usize,
}

impl Tokens<'_> {
    fn next_token(&mut self) -> Result<Option<(usize, String)>, (usize, String)> {
        let b = self.s.as_bytes();
        while self.i < b.len() && b[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
        if self.i >= b.len() {
            return Ok(None);
        }
        let start = self.i;
        let mut out = String::new();
        while self.i < b.len() && !b[self.i].is_ascii_whitespace() {
            if b[self.i] == b'"' {
                let q = self.i;
                self.i += 1;
                let mut closed = false;
                while self.i < b.len() {
                    match b[self.i] {
                        b'\\' if self.i + 1 < b.len() => {
                            let c = self.s[self.i + 1..].chars().next().unwrap_or('\\');
                            out.push(c);
                            self.i += 1 + c.len_utf8();
                        }
                        b'"' => {
                            self.i += 1;
                            closed = true;
                            break;
                        }
                        _ => {
                            let c = self.s[self.i..].chars().next().unwrap_or(' ');
                            out.push(c);
                            self.i += c.len_utf8();
                        }
                    }
                }
                if !closed {
                    return Err((q, "unclosed quote in span attributes".to_string()));
                }
            } else {
                let c = self.s[self.i..].chars().next().unwrap_or(' ');
                out.push(c);
                self.i += c.len_utf8();
            }
        }
        Ok(Some((start, out)))
    }
}

/// The unescaped `[`, `]` and `}` of a portion's text, in order. A `\\`
/// and the byte after it are skipped together, as the span parser reads
/// them.
struct Brackets {
    open: Vec<usize>,
    close: Vec<usize>,
    attr_close: Vec<usize>,
}

impl Brackets {
    fn scan(bytes: &[u8], start: usize, end: usize) -> Brackets {
        let mut b = Brackets {
            open: Vec::new(),
            close: Vec::new(),
            attr_close: Vec::new(),
        };
        let mut i = start;
        while i < end {
            match bytes[i] {
                b'\\' => {
                    i += 2;
                    continue;
                }
                b'[' => b.open.push(i),
                b']' => b.close.push(i),
                b'}' => b.attr_close.push(i),
                _ => {}
            }
            i += 1;
        }
        b
    }
}

/// The first position in the sorted `list` at or after `from`.
fn first_from(list: &[usize], from: usize) -> Option<usize> {
    list.get(list.partition_point(|&x| x < from)).copied()
}

/// Whether a line (after its indentation and any block marker) starts with
/// what the parser reads as a marking: `(`, optional spaces, `TLP` in any
/// case.
fn looks_like_marking(s: &str) -> bool {
    let Some(rest) = s.strip_prefix('(') else {
        return false;
    };
    starts_with_ci(rest.trim_start_matches([' ', '\t']), "tlp")
}

/// A plain front-matter value without its ` # comment` and trailing
/// spaces.
fn strip_comment(s: &str) -> &str {
    let b = s.as_bytes();
    let cut = (0..b.len())
        .find(|&i| b[i] == b'#' && (i == 0 || matches!(b[i - 1], b' ' | b'\t')))
        .unwrap_or(b.len());
    s[..cut].trim_end_matches([' ', '\t'])
}

/// A `"double-quoted"` front-matter value at the start of `s`, with YAML's
/// escapes: the text and the bytes it took; or where and why it is wrong.
fn double_quoted(s: &str) -> Result<(String, usize), (usize, String)> {
    let mut out = String::new();
    let mut it = s.char_indices().skip(1);
    while let Some((i, c)) = it.next() {
        match c {
            '"' => return Ok((out, i + 1)),
            '\\' => {
                let Some((_, e)) = it.next() else { break };
                let hex = |n: usize, it: &mut std::iter::Skip<std::str::CharIndices>| {
                    let digits: String = it.by_ref().take(n).map(|(_, c)| c).collect();
                    u32::from_str_radix(&digits, 16)
                        .ok()
                        .filter(|_| digits.len() == n)
                        .and_then(char::from_u32)
                        .ok_or((i, format!("`\\{e}{digits}` is not a character")))
                };
                out.push(match e {
                    '0' => '\0',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    't' | '\t' => '\t',
                    'n' => '\n',
                    'v' => '\u{b}',
                    'f' => '\u{c}',
                    'r' => '\r',
                    'e' => '\u{1b}',
                    ' ' => ' ',
                    '"' => '"',
                    '/' => '/',
                    '\\' => '\\',
                    'N' => '\u{85}',
                    '_' => '\u{a0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' => hex(2, &mut it)?,
                    'u' => hex(4, &mut it)?,
                    'U' => hex(8, &mut it)?,
                    other => return Err((i, format!("unknown escape `\\{other}` in quotes"))),
                });
            }
            c => out.push(c),
        }
    }
    Err((0, "the quote is not closed on its line".to_string()))
}

/// A `'single-quoted'` front-matter value at the start of `s` (`''` is a
/// quote): the text and the bytes it took.
fn single_quoted(s: &str) -> Result<(String, usize), (usize, String)> {
    let mut out = String::new();
    let mut it = s.char_indices().skip(1).peekable();
    while let Some((i, c)) = it.next() {
        if c == '\'' {
            if it.peek().is_some_and(|&(_, n)| n == '\'') {
                it.next();
                out.push('\'');
                continue;
            }
            return Ok((out, i + 1));
        }
        out.push(c);
    }
    Err((0, "the quote is not closed on its line".to_string()))
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c == '\\' {
            if let Some(&n) = it.peek() {
                if "[]{}\\".contains(n) {
                    out.push(n);
                    it.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

fn starts_with_ci(s: &str, prefix: &str) -> bool {
    s.len() >= prefix.len()
        && s.is_char_boundary(prefix.len())
        && s[..prefix.len()].eq_ignore_ascii_case(prefix)
}

fn strip_prefix_ci<'s>(s: &'s str, prefix: &str) -> Option<&'s str> {
    starts_with_ci(s, prefix).then(|| &s[prefix.len()..])
}

fn is_thematic_break(t: &str) -> bool {
    let mut chars = t.chars().filter(|c| !c.is_whitespace());
    let Some(first) = chars.next().filter(|c| matches!(c, '-' | '*' | '_')) else {
        return false;
    };
    let mut n = 1;
    for c in chars {
        if c != first {
            return false;
        }
        n += 1;
    }
    n >= 3
}

/// `## Title` → (2, bytes before the title).
fn heading(s: &str) -> Option<(u8, usize)> {
    let hashes = s.bytes().take_while(|&b| b == b'#').count();
    if hashes == 0 || hashes > 6 {
        return None;
    }
    match s.as_bytes().get(hashes) {
        None => Some((hashes as u8, hashes)),
        Some(b' ') | Some(b'\t') => Some((hashes as u8, hashes + 1)),
        _ => None,
    }
}

/// `- item`, `* item`, `+ item`, `12. item`, `3) item` → (marker, bytes
/// before the item's text).
fn list_marker(s: &str) -> Option<(String, usize)> {
    let b = s.as_bytes();
    if matches!(b.first(), Some(b'-' | b'*' | b'+')) && matches!(b.get(1), Some(b' ' | b'\t')) {
        return Some((s[..1].to_string(), 2));
    }
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    if (1..=9).contains(&digits)
        && matches!(b.get(digits), Some(b'.' | b')'))
        && matches!(b.get(digits + 1), Some(b' ' | b'\t'))
    {
        return Some((s[..digits + 1].to_string(), digits + 2));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "---\ntitle: T\nproduced: 2026-03-20T08:00:00Z\n---\n";

    fn parse(body: &str) -> Result<Report, ParseError> {
        parse_report("r.md", format!("{HEAD}{body}").as_bytes())
    }

    #[test]
    fn portions_markings_and_spans() {
        let r = parse(
            "\n# (TLP:CLEAR) Heading\n\n(TLP:AMBER//REL TO liaison, Partner-B) The group is\n[Wilayat Khorasan]{actor level=AMBER sub=\"a group\"}.\n\n- (TLP:RED) item one [X]{source}\n- unmarked item\n  continued\n",
        )
        .unwrap();
        let p = r.portions();
        assert_eq!(p.len(), 4);
        assert_eq!(p[0].kind(), &PortionKind::Heading(1));
        assert_eq!(p[1].marking().rel_to(), ["liaison", "partner-b"]);
        let span = p[1].spans().next().unwrap();
        assert_eq!(span.text(), "Wilayat Khorasan");
        assert_eq!(span.sub(), Some("a group"));
        assert_eq!(span.level(), Some(Level::Amber));
        assert_eq!(r.pos(span.offset()).line, 9);
        assert_eq!(p[2].kind(), &PortionKind::ListItem("-".into()));
        assert!(!p[3].is_marked());
        assert_eq!(p[3].marking().level(), Level::Red);
        assert_eq!(p[3].plain_text(), "unmarked item\n  continued");
    }

    #[test]
    fn escapes_and_links_are_literal() {
        let r = parse("(TLP:CLEAR) see \\[note\\] and [the site](http://x) now\n").unwrap();
        assert_eq!(
            r.portions()[0].plain_text(),
            "see [note] and [the site](http://x) now"
        );
        assert_eq!(r.portions()[0].spans().count(), 0);
    }

    fn err(body: &str) -> ParseError {
        parse(body).unwrap_err()
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = err("\n(TLP:PURPLE) x\n");
        assert_eq!((e.line, e.column), (6, 2), "{e}");
        assert!(e.message.contains("unknown marking"), "{e}");
        let e = err("\n(TLP:CLEAR) a [Moscow{place} b\n");
        assert_eq!((e.line, e.column), (6, 15), "{e}");
        assert!(e.message.contains("unclosed span"), "{e}");
        let e = err("\n(TLP:CLEAR) a [Moscow]{place b\n");
        assert!(e.message.contains("unclosed span attributes"), "{e}");
        let e = err("(TLP:CLEAR) [a]{place lvl=RED}\n");
        assert!(e.message.contains("unknown span attribute `lvl`"), "{e}");
        let e = err("(TLP:WHITE) x\n");
        assert!(e.message.contains("TLP:CLEAR"), "{e}");
        let e = err("(TLP:CLEAR x\n");
        assert!(e.message.contains("unclosed marking"), "{e}");
        let e = err("(TLP:AMBER//NOFORN) x\n");
        assert!(e.message.contains("qualifier"), "{e}");
    }

    #[test]
    fn front_matter_errors() {
        let e = parse_report("r.md", b"# no front matter\n").unwrap_err();
        assert!(e.message.contains("missing front matter"), "{e}");
        let e = parse_report("r.md", b"---\ntitle: x\n").unwrap_err();
        assert!(e.message.contains("never closed"), "{e}");
        let e = parse_report("r.md", b"---\ntitle: x\nproduced: yesterday\n---\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        assert!(e.message.contains("RFC 3339"), "{e}");
        let e = parse_report("r.md", b"---\ntitle: x\nproduced: 2026-01-01T00:00:00Z\nvalid_unti: 2026-01-02T00:00:00Z\n---\n").unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(
            e.message
                .contains("unknown front matter field `valid_unti`"),
            "{e}"
        );
        let e = parse_report(
            "r.md",
            b"---\ntitle: [x\nproduced: 2026-01-01T00:00:00Z\n---\n",
        )
        .unwrap_err();
        assert!(e.message.contains("malformed front matter"), "{e}");
        let e = parse_report("r.md", b"---\nproduced: 2026-01-01T00:00:00Z\n---\n").unwrap_err();
        assert!(e.message.contains("no `title`"), "{e}");
        let e = parse_report(
            "r.md",
            b"---\ntitle: x\nproduced: 2026-01-01T00:00:00Z\nvalid_from: 2026-01-02T00:00:00Z\nvalid_until: 2026-01-01T00:00:00Z\n---\n",
        )
        .unwrap_err();
        assert!(e.message.contains("not after"), "{e}");
    }

    #[test]
    fn invalid_utf8_and_size() {
        let mut b = format!("{HEAD}\n(TLP:CLEAR) ab").into_bytes();
        b.push(0xff);
        let e = parse_report("r.md", &b).unwrap_err();
        assert_eq!((e.line, e.column), (6, 15), "{e}");
        assert!(e.message.contains("invalid UTF-8"), "{e}");
        let big = vec![b'a'; MAX_REPORT_BYTES + 1];
        let e = parse_report("r.md", &big).unwrap_err();
        assert!(e.message.contains("limit"), "{e}");
    }

    #[test]
    fn crlf_and_bom_are_accepted() {
        let src = "\u{feff}---\r\ntitle: T\r\nproduced: 2026-03-20T08:00:00Z\r\n---\r\n\r\n(TLP:GREEN) one\r\n";
        let r = parse_report("r.md", src.as_bytes()).unwrap();
        assert_eq!(r.portions()[0].plain_text(), "one");
        assert_eq!(r.meta().title, "T");
    }

    #[test]
    fn a_marking_at_a_line_start_inside_a_portion_is_found() {
        let r = parse("(TLP:CLEAR) Public text.\n(TLP:RED) Secret text.\n\n- (TLP:GREEN) item\n  ( tlp : amber//rel to Liaison ) more\n\n# (TLP:CLEAR) Heading\n")
            .unwrap();
        let p = r.portions();
        assert_eq!(p.len(), 3, "no blank line: one portion");
        assert_eq!(p[0].marking().level(), Level::Clear);
        let lm = p[0].line_markings();
        assert_eq!(lm.len(), 1);
        assert_eq!(lm[0].marking().level(), Level::Red);
        assert_eq!(
            r.pos(lm[0].offset()),
            crate::SourcePos { line: 6, column: 1 }
        );
        assert_eq!(p[0].level(), Level::Red, "the highest marking decides");
        // Odd case and spacing are read as at the start of a portion.
        let lm = p[1].line_markings();
        assert_eq!(lm.len(), 1);
        assert_eq!(lm[0].marking().level(), Level::Amber);
        assert_eq!(lm[0].marking().rel_to(), ["liaison"]);
        assert_eq!(
            r.pos(lm[0].offset()),
            crate::SourcePos { line: 9, column: 3 }
        );
        assert_eq!(p[1].level(), Level::Amber);
        assert!(p[2].line_markings().is_empty());
        assert_eq!(p[2].level(), Level::Clear);
        // After a list marker on a continuation line, too.
        let r = parse("- (TLP:CLEAR) a\n      - (TLP:RED) b\n").unwrap();
        assert_eq!(r.portions()[0].level(), Level::Red);
        // Text that merely mentions a marking mid-line is not one.
        let r = parse("(TLP:CLEAR) see\nthe (TLP:RED) part\n").unwrap();
        assert!(r.portions()[0].line_markings().is_empty());
        // A line marking that does not parse fails as a portion's would.
        let e = err("(TLP:CLEAR) a\n(TLP:PURPLE) b\n");
        assert_eq!((e.line, e.column), (6, 2), "{e}");
        assert!(e.message.contains("unknown marking"), "{e}");
        // Odd spacing at the start of a portion is read the same way.
        let r = parse("(  TLP : Red ) x\n").unwrap();
        assert!(r.portions()[0].is_marked());
        assert_eq!(r.portions()[0].marking().level(), Level::Red);
    }

    #[test]
    fn duplicate_front_matter_fields_name_the_key_and_lines() {
        let e = parse_report(
            "r.md",
            b"---\ntitle: a\nproduced: 2026-01-01T00:00:00Z\ntitle: b\n---\n",
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (4, 1), "{e}");
        assert_eq!(
            e.message,
            "duplicate front matter field `title`: it is already given on line 2"
        );
        let e = parse_report(
            "r.md",
            b"---\ntitle: a\nproduced: 2026-01-01T00:00:00Z\nproduced-at: 2026-01-01T00:00:00Z\n---\n",
        )
        .unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("`produced-at`"), "{e}");
        assert!(e.message.contains("line 3 (as `produced`)"), "{e}");
        assert!(!e.to_string().contains("String("), "no debug text: {e}");
    }

    #[test]
    fn front_matter_values_plain_quoted_and_continued() {
        let r = parse_report(
            "r.md",
            "---\n# a comment\ntitle: \"Threat: \\\"concerts\\\" \\u00e9\" # note\nauthor: 'Duty officer''s desk'\n\nproduced: 2026-01-01T00:00:00Z # UTC\nvalid_from: 2026-01-01T00:00:00Z\nvalid_until:\n---\n(TLP:CLEAR) x\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(r.meta().title, "Threat: \"concerts\" é");
        assert_eq!(r.meta().author.as_deref(), Some("Duty officer's desk"));
        assert!(r.meta().valid_until.is_none());
        let r = parse_report(
            "r.md",
            b"---\ntitle: A long\n  title, continued\nproduced: 2026-01-01T00:00:00Z\n---\n",
        )
        .unwrap();
        assert_eq!(r.meta().title, "A long title, continued");
        for (bad, line, what) in [
            ("title: &a x", 2, "must be text"),
            ("title: *a", 2, "must be text"),
            ("title: {a: b}", 2, "must be text"),
            ("title: |", 2, "must be text"),
            ("title: \"open", 2, "not closed"),
            ("title: \"a\" b", 2, "after the closing quote"),
            ("title: \"\\q\"", 2, "unknown escape"),
            ("title:x", 2, "space must follow"),
            ("  title: x", 2, "start of the line"),
            ("- title", 2, "expected `key: value`"),
        ] {
            let src = format!("---\n{bad}\nproduced: 2026-01-01T00:00:00Z\n---\n");
            let e = parse_report("r.md", src.as_bytes()).unwrap_err();
            assert_eq!(e.line, line, "{bad}: {e}");
            assert!(e.message.contains(what), "{bad}: {e}");
        }
    }

    #[test]
    fn cr_only_line_ends_are_read_as_lines() {
        let src = "---\rtitle: T\rproduced: 2026-03-20T08:00:00Z\r---\r\r(TLP:GREEN) one\rtwo\r\r(TLP:CLEAR) three\r";
        let r = parse_report("r.md", src.as_bytes()).unwrap();
        assert_eq!(r.portions().len(), 2);
        assert_eq!(r.portions()[0].plain_text(), "one\ntwo");
        assert_eq!(r.pos(r.portions()[1].offset()).line, 9);
        // Errors count CR-only lines as the editor shows them.
        let e = parse_report(
            "r.md",
            "---\rtitle: T\rproduced: 2026-03-20T08:00:00Z\r---\r\r(TLP:CLEAR) a [b\r".as_bytes(),
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (6, 15), "{e}");
        // Mixed: CRLF and CR.
        let r = parse_report(
            "r.md",
            "---\r\ntitle: T\rproduced: 2026-03-20T08:00:00Z\r\n---\n\r\n(TLP:CLEAR) a\r(TLP:RED) b\r\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(r.portions()[0].level(), Level::Red);
        assert_eq!(r.pos(r.portions()[0].line_markings()[0].offset()).line, 7);
    }

    #[test]
    fn a_nul_byte_is_refused_with_its_place() {
        let e = parse("(TLP:CLEAR) ab\0cd\n").unwrap_err();
        assert_eq!((e.file.as_str(), e.line, e.column), ("r.md", 5, 15), "{e}");
        assert!(e.message.contains("NUL"), "{e}");
        let e = parse_report("r.md", b"---\rtitle: \0\r").unwrap_err();
        assert_eq!((e.line, e.column), (2, 8), "{e}");
    }

    #[test]
    fn bracket_pathologies_parse_to_the_same_result() {
        // Every `[` before a single `]` with no `{`: plain text.
        let body = format!("(TLP:CLEAR) {}]\n", "[".repeat(5000));
        let r = parse(&body).unwrap();
        assert_eq!(r.portions()[0].spans().count(), 0);
        assert_eq!(r.portions()[0].plain_text().len(), 5001);
        // No `]` at all: the first `[` is the error.
        let e = err(&format!("(TLP:CLEAR) {}\n", "[".repeat(5000)));
        assert_eq!((e.line, e.column), (5, 13), "{e}");
        // `]{` with no `}`.
        let e = err(&format!("(TLP:CLEAR) {}\n", "[a]{".repeat(500)));
        assert!(e.message.contains("unclosed span attributes"), "{e}");
        // Escapes are skipped in pairs: `\\[` is an escaped backslash, then
        // a real `[`.
        let r = parse("(TLP:CLEAR) \\\\[x]{place} \\[y]{z} [a\\]b]{org}\n").unwrap();
        let spans: Vec<&str> = r.portions()[0].spans().map(|s| s.text()).collect();
        assert_eq!(spans, ["x", "a]b"]);
        assert_eq!(r.portions()[0].plain_text(), "\\x [y]{z} a]b");
        // Nested: found however far the closing bracket is.
        let e = err(&format!(
            "(TLP:CLEAR) [a {}[b]{{place}} c\n",
            "x ".repeat(1000)
        ));
        assert!(e.message.contains("nested"), "{e}");
        assert_eq!(e.column, 2016, "{e}");
    }

    #[test]
    fn the_span_count_is_bounded() {
        let ok = "[a]{place} ".repeat(MAX_SPANS);
        assert!(parse(&format!("(TLP:CLEAR) {ok}\n")).is_ok());
        let e = err(&format!("(TLP:CLEAR) {ok}[b]{{place}}\n"));
        assert!(e.message.contains("too many spans"), "{e}");
        assert_eq!(e.column, 13 + 11 * MAX_SPANS, "{e}");
    }

    #[test]
    fn columns_on_long_non_ascii_lines() {
        let line = "é[a]{place}".repeat(300);
        let r = parse(&format!("(TLP:CLEAR) {line}\n")).unwrap();
        for s in r.portions()[0].spans() {
            let naive = r.source()[..s.offset()]
                .rsplit('\n')
                .next()
                .unwrap()
                .chars()
                .count()
                + 1;
            assert_eq!(r.pos(s.offset()).column, naive);
        }
    }

    proptest::proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,200}") {
            let _ = parse_report("r.md", format!("{HEAD}{s}").as_bytes());
            let _ = parse_report("r.md", s.as_bytes());
        }
    }
}
