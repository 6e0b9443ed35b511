//! The report parser: front matter, blocks, markings, spans.
//!
//! Every error carries the file name, line and column, so a writer can go
//! straight to the mistake.

use chrono::{DateTime, FixedOffset};
use yaml_rust2::{Yaml, YamlLoader};

use crate::report::{line_starts, pos_in};
use crate::{FrontMatter, Level, Marking, Portion, PortionKind, Report, Segment, Span, SpanKind};

/// The largest report the parser accepts, in bytes (10 MiB). A report is
/// prose; anything larger is a mistake or an attack.
pub const MAX_REPORT_BYTES: usize = 10 * 1024 * 1024;

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
pub fn parse_report(name: &str, bytes: &[u8]) -> Result<Report, ParseError> {
    if bytes.len() > MAX_REPORT_BYTES {
        return Err(ParseError {
            file: name.to_string(),
            line: 1,
            column: 1,
            message: format!(
                "report is {} bytes; the limit is {} bytes (10 MiB)",
                bytes.len(),
                MAX_REPORT_BYTES
            ),
        });
    }
    let source = match std::str::from_utf8(bytes) {
        Ok(s) => s,
        Err(e) => {
            let good = &bytes[..e.valid_up_to()];
            // The valid prefix is valid UTF-8 by definition.
            let prefix = std::str::from_utf8(good).unwrap_or_default();
            let starts = line_starts(prefix);
            let pos = pos_in(prefix, &starts, prefix.len());
            return Err(ParseError {
                file: name.to_string(),
                line: pos.line,
                column: pos.column,
                message: format!(
                    "invalid UTF-8: byte 0x{:02x} at offset {} (reports must be UTF-8 text)",
                    bytes[e.valid_up_to()],
                    e.valid_up_to()
                ),
            });
        }
    };
    Parser::new(name, source).parse()
}

struct Line {
    start: usize,
    /// End of the line's content, before `\r\n` or `\n`.
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
}

impl<'a> Parser<'a> {
    fn new(name: &'a str, src: &'a str) -> Parser<'a> {
        let starts = line_starts(src);
        let mut lines = Vec::with_capacity(starts.len());
        for (i, &s) in starts.iter().enumerate() {
            let next = starts.get(i + 1).copied().unwrap_or(src.len());
            let mut end = next;
            if src[s..end].ends_with('\n') {
                end -= 1;
            }
            if src[s..end].ends_with('\r') {
                end -= 1;
            }
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
            line_starts: self.starts,
            source: self.src.to_string(),
        })
    }

    // ---- front matter -------------------------------------------------

    fn front_matter(&self, from: usize, to: usize) -> Result<FrontMatter, ParseError> {
        let yaml_start = self.lines.get(from).map_or(self.src.len(), |l| l.start);
        let yaml_end = self.lines[to].start;
        let text = &self.src[yaml_start..yaml_end];
        let docs = YamlLoader::load_from_str(text).map_err(|e| {
            let m = e.marker();
            // Marker lines count from 1, columns from 0, within `text`.
            let line = m.line().max(1) + from;
            let column = m.col() + 1;
            ParseError {
                file: self.name.to_string(),
                line,
                column,
                message: format!("malformed front matter: {}", e.info()),
            }
        })?;
        let empty = Yaml::Null;
        let doc = docs.first().unwrap_or(&empty);
        let map = match doc {
            Yaml::Hash(h) => h.clone(),
            Yaml::Null => Default::default(),
            _ => {
                return Err(self.err_at(
                    yaml_start,
                    "malformed front matter: expected `key: value` lines",
                ))
            }
        };
        let mut title: Option<(String, usize)> = None;
        let mut produced = None;
        let mut valid_from = None;
        let mut valid_until = None;
        let mut author = None;
        for (k, v) in &map {
            let key = match k {
                Yaml::String(s) => s.as_str(),
                _ => {
                    return Err(
                        self.err_at(yaml_start, "malformed front matter: keys must be names")
                    )
                }
            };
            let at = self.key_offset(from, to, key);
            let canon = key.replace('-', "_");
            match canon.as_str() {
                "title" => {
                    let t = self.scalar(v, key, at)?.unwrap_or_default();
                    if t.trim().is_empty() {
                        return Err(self.err_at(at, "front matter field `title` is empty"));
                    }
                    title = Some((t, self.value_offset(at)));
                }
                "produced" | "produced_at" => produced = self.timestamp(v, key, at)?,
                "valid_from" => valid_from = self.timestamp(v, key, at)?,
                "valid_until" => valid_until = self.timestamp(v, key, at)?,
                "author" => author = self.scalar(v, key, at)?,
                _ => {
                    return Err(self.err_at(
                        at,
                        format!(
                            "unknown front matter field `{key}`: expected title, produced, valid_from, valid_until or author"
                        ),
                    ))
                }
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
                let at = self.key_offset(from, to, "valid_until");
                return Err(self.err_at(at, "`valid_until` is not after `valid_from`"));
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

    /// Offset of `key:` at the start of a front-matter line, for messages.
    fn key_offset(&self, from: usize, to: usize, key: &str) -> usize {
        (from..to)
            .find(|&i| {
                let l = self.line_text(i);
                l.strip_prefix(key)
                    .is_some_and(|r| r.trim_start().starts_with(':'))
            })
            .map_or(self.lines[from.min(to)].start, |i| self.lines[i].start)
    }

    fn value_offset(&self, key_at: usize) -> usize {
        let line_end = self.src[key_at..]
            .find('\n')
            .map_or(self.src.len(), |i| key_at + i);
        let line = &self.src[key_at..line_end];
        match line.find(':') {
            Some(c) => {
                let after = &line[c + 1..];
                key_at + c + 1 + (after.len() - after.trim_start().len())
            }
            None => key_at,
        }
    }

    fn scalar(&self, v: &Yaml, key: &str, at: usize) -> Result<Option<String>, ParseError> {
        match v {
            Yaml::String(s) => Ok(Some(s.clone())),
            Yaml::Integer(i) => Ok(Some(i.to_string())),
            Yaml::Real(r) => Ok(Some(r.clone())),
            Yaml::Null => Ok(None),
            _ => Err(self.err_at(at, format!("front matter field `{key}` must be text"))),
        }
    }

    fn timestamp(
        &self,
        v: &Yaml,
        key: &str,
        at: usize,
    ) -> Result<Option<DateTime<FixedOffset>>, ParseError> {
        let Some(s) = self.scalar(v, key, at)? else {
            return Ok(None);
        };
        DateTime::parse_from_rfc3339(s.trim()).map(Some).map_err(|e| {
            self.err_at(
                self.value_offset(at),
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
                    });
                    open = true;
                    continue;
                }
            }
            match out.last_mut() {
                Some(b) if open => b.end = l.end,
                _ => {
                    out.push(Block {
                        kind: BlockKind::Paragraph,
                        start: l.start + indent,
                        content_start: l.start + indent,
                        end: l.end,
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
        let (marking, marked, text_start) = if starts_with_ci(rest, "(tlp") {
            let (m, len) = self.marking(at)?;
            let after = &self.src[at + len..b.end];
            let ws = after.len() - after.trim_start_matches([' ', '\t']).len();
            (m, true, at + len + ws)
        } else {
            (Marking::new(Level::Red, Vec::new()), false, at)
        };
        let segments = self.segments(text_start, b.end)?;
        let kind = match b.kind {
            BlockKind::Paragraph => PortionKind::Paragraph,
            BlockKind::Heading(d) => PortionKind::Heading(d),
            BlockKind::ListItem(m) => PortionKind::ListItem(m),
        };
        Ok(Portion {
            number,
            kind,
            marking,
            marked,
            segments,
            offset: b.start,
        })
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

    fn segments(&mut self, start: usize, end: usize) -> Result<Vec<Segment>, ParseError> {
        let src = self.src;
        let bytes = src.as_bytes();
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
                    let close = find_unescaped(bytes, i + 1, end, b']').ok_or_else(|| {
                        self.err_at(i, "unclosed span: `[` is never closed by `]` in this portion (write `\\[` for a literal bracket)")
                    })?;
                    if close + 1 < end && bytes[close + 1] == b'{' {
                        let attr_close = find_unescaped(bytes, close + 2, end, b'}').ok_or_else(|| {
                            self.err_at(close + 1, "unclosed span attributes: `{` is never closed by `}` in this portion")
                        })?;
                        if let Some(nested) = find_unescaped(bytes, i + 1, close, b'[') {
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

fn find_unescaped(bytes: &[u8], from: usize, end: usize, want: u8) -> Option<usize> {
    let mut i = from;
    while i < end {
        if bytes[i] == b'\\' {
            i += 2;
            continue;
        }
        if bytes[i] == want {
            return Some(i);
        }
        i += 1;
    }
    None
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

    proptest::proptest! {
        #[test]
        fn parser_never_panics(s in "\\PC{0,200}") {
            let _ = parse_report("r.md", format!("{HEAD}{s}").as_bytes());
            let _ = parse_report("r.md", s.as_bytes());
        }
    }
}
