//! What a reader sees: the texts the leak check scans for one output
//! field, each with a map back to the field's own text.
//!
//! A field is scanned as it is written and as it reads once rendered:
//!
//! - **Markdown rendered** with a CommonMark parser (`pulldown-cmark`): the
//!   text of every inline element is joined as it displays, so a term
//!   split by emphasis (`SAP*PH*IRE`), a link (`[SAP](x)PHIRE`) or a code
//!   span is whole again; character references are decoded; link and
//!   image targets and titles are read as text of their own.
//! - **Decoded** until nothing changes: HTML character references
//!   (decimal, hexadecimal, named, with or without the semicolon, by the
//!   `htmlize` crate), percent-encoding (`percent-encoding`), and HTML tags
//!   and comments removed. An inline tag or a comment inside a word joins
//!   the word (`SAP<b></b>PHIRE`); a tag that breaks the line or the block
//!   (`<br>`, `<p>`, `<li>`, ...) separates words. The field as written is
//!   decoded the same way when it holds `&`, `%` or `<`.
//! - **Directional overrides reversed**: a right-to-left (or left-to-right)
//!   override displays its run in reverse order, so each view holding one
//!   is also read with every override's run reversed. An override that
//!   holds another directional control is ambiguous and reported as such.
//!
//! The bidirectional controls themselves, like every invisible character,
//! vanish in normalisation ([`crate::normalize`]).

use std::borrow::Cow;
use std::ops::Range;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// A stretch of a view: from byte `out` of the view (to the next piece),
/// taken from byte `src` of the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    out: usize,
    src: usize,
    /// Copied byte for byte, so offsets inside it map one to one.
    verbatim: bool,
}

/// A text derived from an original, with a map back to it.
#[derive(Debug, Clone, Default)]
pub(crate) struct View<'a> {
    /// The text as a reader would see it.
    pub(crate) text: Cow<'a, str>,
    pieces: Vec<Piece>,
}

impl<'a> View<'a> {
    /// The original itself.
    fn identity(s: &'a str) -> View<'a> {
        View {
            text: Cow::Borrowed(s),
            pieces: vec![Piece {
                out: 0,
                src: 0,
                verbatim: true,
            }],
        }
    }

    /// The byte offset in the original of byte `at` of the view.
    pub(crate) fn original(&self, at: usize) -> usize {
        let i = self
            .pieces
            .partition_point(|p| p.out <= at)
            .saturating_sub(1);
        match self.pieces.get(i) {
            Some(p) if p.verbatim => p.src + at.saturating_sub(p.out),
            Some(p) => p.src,
            None => 0,
        }
    }
}

/// Builds a view piece by piece, in the coordinates of its parent text.
#[derive(Default)]
struct Builder {
    text: String,
    pieces: Vec<Piece>,
}

impl Builder {
    /// Appends `s`, copied from byte `src` of the parent.
    fn copy(&mut self, s: &str, src: usize) {
        if s.is_empty() {
            return;
        }
        let contiguous = self
            .pieces
            .last()
            .is_some_and(|l| l.verbatim && l.src + (self.text.len() - l.out) == src);
        if !contiguous {
            self.pieces.push(Piece {
                out: self.text.len(),
                src,
                verbatim: true,
            });
        }
        self.text.push_str(s);
    }

    /// Appends `s`, which stands for the parent's text at byte `src`.
    fn put(&mut self, s: &str, src: usize) {
        if s.is_empty() {
            return;
        }
        self.pieces.push(Piece {
            out: self.text.len(),
            src,
            verbatim: false,
        });
        self.text.push_str(s);
    }

    /// Appends a line break (a separator) standing for byte `src`.
    fn sep(&mut self, src: usize) {
        if !self.text.is_empty() && !self.text.ends_with('\n') {
            self.put("\n", src);
        }
    }

    /// Appends another builder over the same parent.
    fn append(&mut self, other: Builder) {
        let base = self.text.len();
        self.pieces.extend(other.pieces.into_iter().map(|p| Piece {
            out: p.out + base,
            ..p
        }));
        self.text.push_str(&other.text);
    }

    /// The view, its map composed with the parent's map to the original.
    fn over(self, parent: &View) -> View<'static> {
        let mut pieces = Vec::with_capacity(self.pieces.len());
        for (k, p) in self.pieces.iter().enumerate() {
            if !p.verbatim {
                pieces.push(Piece {
                    src: parent.original(p.src),
                    ..*p
                });
                continue;
            }
            // A copied stretch may span several pieces of the parent.
            let len = self
                .pieces
                .get(k + 1)
                .map_or(self.text.len(), |n| n.out)
                .saturating_sub(p.out);
            let end = p.src + len;
            let mut i = parent
                .pieces
                .partition_point(|q| q.out <= p.src)
                .saturating_sub(1);
            let mut at = p.src;
            while at < end || at == p.src {
                let Some(q) = parent.pieces.get(i) else {
                    break;
                };
                let start = at.max(q.out);
                pieces.push(Piece {
                    out: p.out + (start - p.src),
                    src: if q.verbatim {
                        q.src + (start - q.out)
                    } else {
                        q.src
                    },
                    verbatim: q.verbatim,
                });
                at = parent
                    .pieces
                    .get(i + 1)
                    .map_or(usize::MAX, |n| n.out)
                    .max(start + 1);
                i += 1;
            }
        }
        View {
            text: Cow::Owned(self.text),
            pieces,
        }
    }
}

/// The views of one field's text, and the places where its display is
/// ambiguous.
pub(crate) struct Views<'a> {
    /// The text as written, then as rendered and decoded, then each with
    /// its directional overrides reversed.
    pub(crate) views: Vec<View<'a>>,
    /// Byte offsets (in the text) of directional overrides that hold
    /// another directional control.
    pub(crate) ambiguous: Vec<usize>,
}

/// Whether `s` holds characters that make the rendered text differ from
/// the text as written in more than separators, and whether it holds `&`,
/// `%` or `<` (so that the text as written decodes differently). An
/// underscore is no such character: it never opens or closes emphasis
/// inside a word, so it never joins two words.
fn markup(s: &str) -> (bool, bool) {
    let mut renders = false;
    for &b in s.as_bytes() {
        match b {
            b'&' | b'<' | b'%' => return (true, true),
            b'*' | b'[' | b']' | b'`' | b'\\' | b'~' => renders = true,
            _ => {}
        }
    }
    (renders, false)
}

/// The views of `text` to scan (see the module documentation).
pub(crate) fn views(text: &str) -> Views<'_> {
    let raw = View::identity(text);
    let mut views = Vec::new();
    let (renders, decodes) = markup(text);
    if renders {
        let mut r = rendered(text).over(&raw);
        for _ in 0..4 {
            match decoded(&r) {
                Some(d) => r = d,
                None => break,
            }
        }
        views.push(r);
        if decodes {
            let mut d = View::identity(text);
            for _ in 0..4 {
                match decoded(&d) {
                    Some(next) => d = next,
                    None => break,
                }
            }
            views.push(d);
        }
    }
    views.insert(0, raw);
    let mut ambiguous = Vec::new();
    if views.iter().any(|v| has_override(&v.text)) {
        let reversed: Vec<View> = views
            .iter()
            .filter(|v| has_override(&v.text))
            .map(|v| {
                let (b, amb) = reverse_overrides(&v.text);
                ambiguous.extend(amb.into_iter().map(|a| v.original(a)));
                b.over(v)
            })
            .collect();
        views.extend(reversed);
        ambiguous.sort_unstable();
        ambiguous.dedup();
    }
    Views { views, ambiguous }
}

/// Whether `s` holds a directional override (U+202D or U+202E, encoded
/// E2 80 AD and E2 80 AE).
fn has_override(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while let Some(k) = b[i..].iter().position(|&x| x == 0xE2) {
        i += k + 1;
        if b.get(i) == Some(&0x80) && matches!(b.get(i + 1), Some(0xAD | 0xAE)) {
            return true;
        }
    }
    false
}

/// Markdown as it reads once rendered: the text of inline elements joined,
/// blocks and line breaks as separators, then every link and image target
/// and title.
fn rendered(src: &str) -> Builder {
    let opts = Options::ENABLE_TABLES
        | Options::ENABLE_STRIKETHROUGH
        | Options::ENABLE_FOOTNOTES
        | Options::ENABLE_TASKLISTS
        | Options::ENABLE_YAML_STYLE_METADATA_BLOCKS;
    let mut b = Builder::default();
    let mut targets = Builder::default();
    for (ev, range) in Parser::new_ext(src, opts).into_offset_iter() {
        match ev {
            Event::Text(t)
            | Event::Code(t)
            | Event::InlineMath(t)
            | Event::DisplayMath(t)
            | Event::Html(t)
            | Event::InlineHtml(t) => text(&mut b, src, &t, range),
            Event::FootnoteReference(t) => {
                b.sep(range.start);
                text(&mut b, src, &t, range.clone());
                b.sep(range.start);
            }
            Event::SoftBreak | Event::HardBreak | Event::Rule | Event::TaskListMarker(_) => {
                b.sep(range.start)
            }
            Event::Start(Tag::Link {
                dest_url, title, ..
            })
            | Event::Start(Tag::Image {
                dest_url, title, ..
            }) => {
                text(&mut targets, src, &dest_url, range.clone());
                targets.sep(range.start);
                text(&mut targets, src, &title, range.clone());
                targets.sep(range.start);
            }
            Event::Start(_) => {}
            Event::End(tag) => {
                let inline = matches!(
                    tag,
                    TagEnd::Emphasis
                        | TagEnd::Strong
                        | TagEnd::Strikethrough
                        | TagEnd::Superscript
                        | TagEnd::Subscript
                        | TagEnd::Link
                        | TagEnd::Image
                );
                if !inline {
                    b.sep(range.end.saturating_sub(1));
                }
            }
        }
    }
    b.sep(src.len());
    b.append(targets);
    b
}

/// Appends an event's text `t` from `src[range]`: copied when it stands
/// there as it is, else standing for the range's start.
fn text(b: &mut Builder, src: &str, t: &str, range: Range<usize>) {
    let here = src.get(range.clone());
    if here == Some(t) {
        return b.copy(t, range.start);
    }
    match here.and_then(|s| s.find(t)) {
        Some(i) => b.copy(t, range.start + i),
        None => b.put(t, range.start),
    }
}

/// One round of decoding: character references, then percent-encoding,
/// then tags and comments. `None` when nothing changed.
fn decoded(v: &View) -> Option<View<'static>> {
    let mut out: Option<View<'static>> = None;
    for pass in [entities, percent, tags] {
        let next = {
            let cur = out.as_ref().unwrap_or(v);
            pass(&cur.text).map(|b| b.over(cur))
        };
        if next.is_some() {
            out = next;
        }
    }
    out
}

/// HTML character references decoded, as a browser decodes them in text.
fn entities(s: &str) -> Option<Builder> {
    if !s.contains('&') {
        return None;
    }
    let mut b = Builder::default();
    let mut changed = false;
    let amps: Vec<usize> = s.match_indices('&').map(|(i, _)| i).collect();
    b.copy(&s[..amps[0]], 0);
    for (k, &i) in amps.iter().enumerate() {
        let j = amps.get(k + 1).copied().unwrap_or(s.len());
        let seg = &s[i..j];
        let dec = htmlize::unescape(seg);
        if dec == seg {
            b.copy(seg, i);
            continue;
        }
        changed = true;
        // The decoded reference, then the rest of the segment as it was.
        let mut tail = 0;
        for (x, y) in seg[1..].chars().rev().zip(dec.chars().rev()) {
            if x != y || tail + x.len_utf8() > dec.len() {
                break;
            }
            tail += x.len_utf8();
        }
        b.put(&dec[..dec.len() - tail], i);
        b.copy(&seg[seg.len() - tail..], j - tail);
    }
    changed.then_some(b)
}

/// Percent-encoded bytes decoded (as UTF-8, invalid sequences replaced).
fn percent(s: &str) -> Option<Builder> {
    let bytes = s.as_bytes();
    let is_escape = |i: usize| {
        bytes.get(i) == Some(&b'%')
            && bytes.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
            && bytes.get(i + 2).is_some_and(u8::is_ascii_hexdigit)
    };
    let mut b = Builder::default();
    let mut changed = false;
    let (mut last, mut i) = (0, 0);
    while i < bytes.len() {
        if !is_escape(i) {
            i += 1;
            continue;
        }
        let start = i;
        while is_escape(i) {
            i += 3;
        }
        let dec = percent_encoding::percent_decode(&bytes[start..i]).decode_utf8_lossy();
        b.copy(&s[last..start], last);
        b.put(&dec, start);
        last = i;
        changed = true;
    }
    b.copy(&s[last..], last);
    changed.then_some(b)
}

/// Elements that display on a line (or a block) of their own: their tags
/// separate words. Every other tag, and a comment, joins what is around it.
const BLOCK_TAGS: &[&str] = &[
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "dd",
    "details",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "summary",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "tr",
    "ul",
];

/// HTML tags and comments removed: an inline tag or a comment joins the
/// text around it; a block tag separates it.
fn tags(s: &str) -> Option<Builder> {
    if !s.contains('<') {
        return None;
    }
    let mut b = Builder::default();
    let mut changed = false;
    let mut last = 0;
    let mut i = 0;
    // The first `>` at or after the tag being read, found once for all the
    // `<` before it: looking for it from every `<` again would be
    // quadratic in a text of many `<` and no `>`.
    let mut gt = s.find('>');
    while let Some(k) = s[i..].find('<') {
        let at = i + k;
        let rest = &s[at..];
        let end = if let Some(body) = rest.strip_prefix("<!--") {
            // An unclosed comment hides the rest of the document.
            Some(body.find("-->").map_or(s.len(), |e| at + 4 + e + 3))
        } else if rest[1..]
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || matches!(c, '/' | '!' | '?'))
        {
            if gt.is_some_and(|g| g < at) {
                gt = s[at..].find('>').map(|e| at + e);
            }
            gt.map(|g| g + 1)
        } else {
            None
        };
        let Some(end) = end else {
            i = at + 1;
            continue;
        };
        b.copy(&s[last..at], last);
        let name: String = s[at + 1..end]
            .trim_start_matches('/')
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if BLOCK_TAGS.contains(&name.as_str()) {
            b.put("\n", at);
        }
        changed = true;
        last = end;
        i = end;
    }
    b.copy(&s[last..], last);
    changed.then_some(b)
}

/// Every directional override's run (up to its pop, or the end of the
/// paragraph) reversed, as it displays; with the offsets of overrides that
/// hold another directional control.
fn reverse_overrides(s: &str) -> (Builder, Vec<usize>) {
    let mut b = Builder::default();
    let mut ambiguous = Vec::new();
    let chars: Vec<(usize, char)> = s.char_indices().collect();
    let mut k = 0;
    while k < chars.len() {
        let (at, c) = chars[k];
        if !matches!(c, '\u{202D}' | '\u{202E}') {
            b.copy(&s[at..at + c.len_utf8()], at);
            k += 1;
            continue;
        }
        let start = k + 1;
        let mut end = start;
        while let Some(&(_, d)) = chars.get(end) {
            if matches!(d, '\u{202C}' | '\n' | '\r' | '\u{2029}' | '\u{0085}') {
                break;
            }
            if matches!(d, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}') {
                ambiguous.push(at);
            }
            end += 1;
        }
        for &(o, d) in chars[start..end].iter().rev() {
            b.copy(&s[o..o + d.len_utf8()], o);
        }
        k = end;
    }
    ambiguous.dedup();
    (b, ambiguous)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<String> {
        views(s)
            .views
            .into_iter()
            .map(|v| v.text.into_owned())
            .collect()
    }

    fn reads(s: &str, want: &str) -> bool {
        texts(s).iter().any(|t| t.contains(want))
    }

    #[test]
    fn markdown_renders_joined() {
        for s in [
            "a [SAP](x)PHIRE b",
            "a SAP*PH*IRE b",
            "a SAP`PH`IRE b",
            "a SAP<b></b>PHIRE b",
            "a SAP<!-- x -->PHIRE b",
            "a &#83;APPHIRE b",
            "a &#x53;APPHIRE b",
            "a &#83APPHIRE b",
            "a %53APPHIRE b",
            "a %2553APPHIRE b",
            "a &amp;#83;APPHIRE b",
            "a SAP&shy;PHIRE b",
            "<div>SAP<b></b>PHIRE</div>",
            "a SAP&lt;b&gt;&lt;/b&gt;PHIRE b",
        ] {
            assert!(
                reads(s, "SAPPHIRE") || reads(s, "SAP\u{ad}PHIRE"),
                "{s:?}: {:?}",
                texts(s)
            );
        }
        assert!(reads("OPAL&nbsp;HARBOR", "OPAL\u{a0}HARBOR"));
        assert!(reads("[x](https://e.org/%53APPHIRE)", "SAPPHIRE"));
        assert!(reads(
            "![x](https://e.org/a.png \"SAP&#80;HIRE\")",
            "SAPPHIRE"
        ));
    }

    #[test]
    fn block_tags_separate() {
        assert!(reads("the<br>cell<p>plans", "the\ncell\nplans"));
    }

    #[test]
    fn a_tag_ends_at_the_next_closing_bracket() {
        // Every `<` before one `>` opens a tag that ends there; with no `>`
        // left, a `<` is text.
        let b = tags("a<b c<d>e <f g").unwrap();
        assert_eq!(b.text, "ae <f g");
        let many = format!("x{}y", "<a ".repeat(10_000));
        assert!(tags(&many).is_none());
        let b = tags(&format!("{many}>z")).unwrap();
        assert_eq!(b.text, "xz");
    }

    #[test]
    fn plain_text_has_one_view() {
        assert_eq!(texts("(TLP:CLEAR) plain text, no markup.").len(), 1);
    }

    #[test]
    fn maps_back_to_the_original() {
        let s = "a *SAP*&#80;HIRE here";
        let v = &views(s).views[1];
        let at = v.text.find("HIRE").unwrap();
        assert_eq!(&s[v.original(at)..v.original(at) + 4], "HIRE");
        let at = v.text.find("SAP").unwrap();
        assert_eq!(&s[v.original(at)..v.original(at) + 3], "SAP");
        let at = v.text.rfind('P').unwrap();
        assert_eq!(v.original(at), s.find('&').unwrap());
    }

    #[test]
    fn overrides_are_read_reversed() {
        let s = "see \u{202E}ERIHPPAS\u{202C} now";
        assert!(reads(s, "SAPPHIRE"));
        assert!(views(s).ambiguous.is_empty());
        let nested = "\u{202E}ERIH\u{2066}PPAS\u{2069}\u{202C}";
        assert_eq!(views(nested).ambiguous, [0]);
    }
}
