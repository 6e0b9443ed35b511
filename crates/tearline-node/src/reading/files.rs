//! Reading documents from files: plain text, Markdown (Tearline reports
//! too), HTML, JSON Lines and MISP JSON (events and feeds, `misp.rs`),
//! with each bad document named by file, line and id (or event and field).

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

use tearline_misp::StatedGroup;

pub use super::misp::{Input, MAX_MISP_FILE_BYTES};
use tearline_model::Level;

use crate::{Error, Result};

/// The kinds of file `ingest` reads, for messages.
const KINDS: &str = ".txt, .md, .html, .jsonl or .json (MISP)";

/// Documents larger than this are refused.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// A document read from a file, before extraction.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    /// Its id, if it came with one (else one is derived from its text).
    pub id: Option<String>,
    /// Where it was read from (a path, `file.jsonl:12`, a remote).
    pub source: String,
    /// Its URL.
    pub url: Option<String>,
    /// Its title.
    pub title: String,
    /// When it was published (`YYYY-MM-DD` or RFC 3339).
    pub published: Option<String>,
    /// Its language (ISO 639-1).
    pub lang: Option<String>,
    /// Its text.
    pub text: String,
    /// A warning window stated outside the text (a report's front matter,
    /// a received warning's validity): first and last day, `YYYY-MM-DD`.
    /// It stands in for any window read from the text.
    pub window: Option<(Option<String>, String)>,
    /// Its marking, when its source states one (a MISP event's TLP tags,
    /// RED when it has none; a report's highest portion).
    pub marking: Option<Level>,
    /// Groups it names outside its text (MISP galaxy clusters and
    /// `threat-actor` attributes): entities besides what is read from it.
    pub groups: Vec<StatedGroup>,
}

/// Why one document could not be read.
#[derive(Debug)]
pub struct DocError {
    /// The document: a path, or `path:line` in JSON Lines, with its id if known.
    pub at: String,
    /// What is wrong with it.
    pub reason: String,
}

fn bad(at: impl Into<String>, reason: impl Into<String>) -> DocError {
    DocError {
        at: at.into(),
        reason: reason.into(),
    }
}

/// Decodes bytes as UTF-8 text, naming the first bad byte.
pub(crate) fn text_of(at: &str, bytes: &[u8]) -> Result<String, DocError> {
    if bytes.is_empty() {
        return Err(bad(at, "the file is empty"));
    }
    if bytes.len() > MAX_DOCUMENT_BYTES {
        return Err(bad(
            at,
            format!(
                "{} bytes is over the {} MiB limit for one document",
                bytes.len(),
                MAX_DOCUMENT_BYTES / (1024 * 1024)
            ),
        ));
    }
    let s = std::str::from_utf8(bytes).map_err(|e| {
        let off = e.valid_up_to();
        bad(
            at,
            format!(
                "not UTF-8 text: byte 0x{:02x} at offset {off} (convert it to UTF-8 first, e.g. with iconv)",
                bytes.get(off).copied().unwrap_or(0)
            ),
        )
    })?;
    if s.contains('\0') {
        return Err(bad(at, "a binary file (it contains NUL bytes), not text"));
    }
    let s = s.strip_prefix('\u{feff}').unwrap_or(s);
    if s.trim().is_empty() {
        return Err(bad(at, "the document has no text"));
    }
    Ok(s.to_string())
}

static SPAN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\[([^\]\n]*)\]\{[^}\n]*\}").unwrap_or_else(|e| panic!("bug: {e}"))
});
static MARKING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?m)^(#+\s*|[-*]\s+)?\(TLP:[A-Z+]+(?://[^)]*)?\)\s*")
        .unwrap_or_else(|e| panic!("bug: {e}"))
});
static TAG: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?is)<(script|style|noscript)\b.*?</(script|style|noscript)\s*>|<!--.*?-->|<[^>]*>",
    )
    .unwrap_or_else(|e| panic!("bug: {e}"))
});
static META_DATE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)<meta[^>]+(?:property|name)="(?:article:published_time|date|pubdate|dc\.date)"[^>]+content="([^"]+)"|<time[^>]+datetime="([^"]+)""#).unwrap_or_else(|e| panic!("bug: {e}"))
});
static TITLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?is)<title[^>]*>(.*?)</title>").unwrap_or_else(|e| panic!("bug: {e}"))
});

fn first_line(text: &str) -> String {
    let l = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("");
    let l = l.trim_start_matches('#').trim();
    l.chars().take(120).collect()
}

/// Plain text of HTML: scripts, styles and tags dropped, common entities
/// decoded, blocks kept apart by blank lines.
pub fn html_text(html: &str) -> String {
    let blocks =
        Regex::new(r"(?i)</?(p|div|br|h[1-6]|li|tr|section|article|header|footer)\b[^>]*>")
            .map(|re| re.replace_all(html, "\n\n").into_owned())
            .unwrap_or_else(|_| html.to_string());
    let text = TAG.replace_all(&blocks, " ");
    let text = text
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&rsquo;", "\u{2019}")
        .replace("&ldquo;", "\u{201c}")
        .replace("&rdquo;", "\u{201d}");
    let mut out = String::with_capacity(text.len());
    for para in text.split("\n\n") {
        let p = para.split_whitespace().collect::<Vec<_>>().join(" ");
        if !p.is_empty() {
            if !out.is_empty() {
                out.push_str("\n\n");
            }
            out.push_str(&p);
        }
    }
    out
}

/// The day (`YYYY-MM-DD`, UTC) of an RFC 3339 time or a date.
fn day_of(v: &str) -> Option<String> {
    match chrono::DateTime::parse_from_rfc3339(v) {
        Ok(t) => Some(t.with_timezone(&chrono::Utc).format("%Y-%m-%d").to_string()),
        Err(_) => parse_published(v).map(|d| d.to_string()),
    }
}

/// Plain text of Markdown; a Tearline report loses its markings and span
/// markup and gives its title and dates from the front matter.
pub(crate) fn markdown_doc(source: &str, text: &str) -> Doc {
    let mut doc = Doc {
        id: None,
        source: source.to_string(),
        url: None,
        title: String::new(),
        published: None,
        lang: None,
        text: String::new(),
        window: None,
        marking: None,
        groups: Vec::new(),
    };
    let mut body = text;
    let (mut from, mut until) = (None, None);
    if let Some(rest) = text.strip_prefix("---\n") {
        if let Some(end) = rest.find("\n---") {
            for line in rest[..end].lines() {
                if let Some((k, v)) = line.split_once(':') {
                    let v = v.trim().trim_matches('"').to_string();
                    match k.trim() {
                        "title" => doc.title = v,
                        "produced" | "produced_at" | "published" | "date" => {
                            doc.published = Some(v)
                        }
                        "lang" => doc.lang = Some(v),
                        "url" => doc.url = Some(v),
                        "id" => doc.id = Some(v),
                        "valid_from" => from = day_of(&v),
                        "valid_until" => until = day_of(&v),
                        _ => {}
                    }
                }
            }
            body = rest[end + 4..].trim_start_matches(['-', '\n']);
        }
    }
    doc.window = until.map(|u| (from, u));
    let plain = MARKING.replace_all(body, |c: &regex::Captures| {
        c.get(1).map_or(String::new(), |m| m.as_str().to_string())
    });
    doc.text = SPAN.replace_all(&plain, "$1").into_owned();
    if doc.title.is_empty() {
        doc.title = first_line(&doc.text);
    }
    doc
}

#[derive(serde::Deserialize)]
struct JsonDoc {
    id: Option<serde_json::Value>,
    url: Option<String>,
    published: Option<String>,
    lang: Option<String>,
    title: Option<String>,
    text: Option<String>,
}

/// Reads every document in a file (one, or one per JSON Lines line).
pub fn read_file(path: &Path) -> Vec<Result<Doc, DocError>> {
    DocStream::open(path).map(|(d, _)| d).collect()
}

fn is_misp_json(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

fn is_json_lines(path: &Path) -> bool {
    matches!(
        path.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("jsonl" | "ndjson")
    )
}

/// One document read (or why not) and the bytes it took.
pub type Read = (Result<Doc, DocError>, u64);

/// The documents of one file, one by one, each with the bytes it took.
/// JSON Lines are streamed, so a file may be far larger than memory;
/// other files hold one document. Blank JSON Lines are skipped.
pub struct DocStream {
    inner: Stream,
}

enum Stream {
    Lines {
        reader: Box<dyn std::io::BufRead + Send>,
        source: String,
        line: usize,
        any: bool,
    },
    Done(std::vec::IntoIter<Read>),
}

impl DocStream {
    /// Opens a file for reading.
    pub fn open(path: &Path) -> DocStream {
        DocStream::open_input(&Input::file(path.to_path_buf()))
    }

    /// Opens a file for reading, checked against the SHA-256 a MISP feed's
    /// manifest gives for it.
    pub fn open_input(input: &Input) -> DocStream {
        let path = input.path.as_path();
        let source = path.display().to_string();
        let done = |items: Vec<Read>| DocStream {
            inner: Stream::Done(items.into_iter()),
        };
        if is_misp_json(path) {
            let docs = match super::misp::read_bounded(path, MAX_MISP_FILE_BYTES) {
                Ok(bytes) => super::misp::documents(&source, &bytes, input.sha256.as_deref())
                    .into_iter()
                    .enumerate()
                    .map(|(i, d)| (d, if i == 0 { bytes.len() as u64 } else { 0 }))
                    .collect(),
                Err(e) => vec![(Err(bad(&source, e)), 0)],
            };
            return done(docs);
        }
        if is_json_lines(path) {
            return match std::fs::File::open(path) {
                Ok(file) => DocStream::json_lines(
                    &source,
                    Box::new(std::io::BufReader::with_capacity(1 << 20, file)),
                ),
                Err(e) => done(vec![(Err(bad(&source, format!("cannot read it: {e}"))), 0)]),
            };
        }
        match std::fs::read(path) {
            Ok(bytes) => {
                let size = bytes.len() as u64;
                done(
                    one_document(path, &source, &bytes)
                        .into_iter()
                        .map(|d| (d, size))
                        .collect(),
                )
            }
            Err(e) => done(vec![(Err(bad(&source, format!("cannot read it: {e}"))), 0)]),
        }
    }
}

impl DocStream {
    /// The documents of JSON Lines read from `reader`, named `source`.
    fn json_lines(source: &str, reader: Box<dyn std::io::BufRead + Send>) -> DocStream {
        DocStream {
            inner: Stream::Lines {
                reader,
                source: source.to_string(),
                line: 0,
                any: false,
            },
        }
    }
}

/// The documents of JSON Lines text held in memory, each with the bytes it
/// took, exactly as `ingest` reads a `.jsonl` file named `source`. Pure,
/// so it can be fuzzed.
pub fn json_lines(source: &str, bytes: &[u8]) -> Vec<Read> {
    DocStream::json_lines(source, Box::new(std::io::Cursor::new(bytes.to_vec()))).collect()
}

impl Iterator for DocStream {
    type Item = Read;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.inner {
            Stream::Done(items) => items.next(),
            Stream::Lines {
                reader,
                source,
                line,
                any,
            } => loop {
                let (item, finished) = next_line(reader, source, line, any);
                if finished {
                    let last = item;
                    self.inner = Stream::Done(Vec::new().into_iter());
                    return last;
                }
                match item {
                    Some(x) => return Some(x),
                    None => continue,
                }
            },
        }
    }
}

/// Reads one line of JSON Lines: the document it holds (or `None` for a
/// blank line), and whether the file is finished.
fn next_line(
    reader: &mut Box<dyn std::io::BufRead + Send>,
    source: &str,
    n: &mut usize,
    any: &mut bool,
) -> (Option<Read>, bool) {
    use std::io::{BufRead, Read};
    let mut line = Vec::new();
    // At most one document's worth plus the newline: a longer line is
    // refused, and the rest of it skipped.
    let read = reader
        .as_mut()
        .take(MAX_DOCUMENT_BYTES as u64 + 1)
        .read_until(b'\n', &mut line);
    let read = match read {
        Ok(0) if !*any => return (Some((Err(bad(source, "the file is empty")), 0)), true),
        Ok(0) => return (None, true),
        Ok(r) => r,
        Err(e) => {
            let at = format!("{source}:{}", *n + 1);
            return (
                Some((Err(bad(at, format!("cannot read it: {e}"))), 0)),
                true,
            );
        }
    };
    *n += 1;
    *any = true;
    let at = format!("{source}:{n}");
    if line.len() > MAX_DOCUMENT_BYTES && !line.ends_with(b"\n") {
        let mut skipped = read as u64;
        let mut sink = Vec::new();
        while let Ok(k) = reader.read_until(b'\n', &mut sink) {
            skipped += k as u64;
            if k == 0 || sink.ends_with(b"\n") {
                break;
            }
            sink.clear();
        }
        let why = format!(
            "the line is over the {} MiB limit for one document",
            MAX_DOCUMENT_BYTES / (1024 * 1024)
        );
        return (Some((Err(bad(at, why)), skipped)), false);
    }
    if line.iter().all(u8::is_ascii_whitespace) {
        return (None, false);
    }
    let doc = json_line(&at, line.strip_suffix(b"\n").unwrap_or(&line));
    (Some((doc, read as u64)), false)
}

fn one_document(path: &Path, source: &str, bytes: &[u8]) -> Vec<Result<Doc, DocError>> {
    let source = source.to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let bytes = bytes.to_vec();
    let text = match text_of(&source, &bytes) {
        Ok(t) => t,
        Err(e) => return vec![Err(e)],
    };
    let doc = match ext.as_str() {
        "md" | "markdown" => markdown_doc(&source, &text),
        "html" | "htm" => {
            let body = html_text(&text);
            let published = META_DATE
                .captures(&text)
                .and_then(|c| c.get(1).or_else(|| c.get(2)))
                .map(|m| m.as_str().to_string());
            let title = TITLE
                .captures(&text)
                .and_then(|c| c.get(1))
                .map(|m| html_text(m.as_str()))
                .filter(|t| !t.is_empty())
                .unwrap_or_else(|| first_line(&body));
            Doc {
                id: None,
                source: source.clone(),
                url: None,
                title,
                published,
                lang: None,
                text: body,
                window: None,
                marking: None,
                groups: Vec::new(),
            }
        }
        "txt" | "text" | "" => Doc {
            id: None,
            source: source.clone(),
            url: None,
            title: first_line(&text),
            published: None,
            lang: None,
            text,
            window: None,
            marking: None,
            groups: Vec::new(),
        },
        other => {
            let why = format!("unknown file type `.{other}`: expected {KINDS}");
            return vec![Err(bad(&source, why))];
        }
    };
    if doc.text.trim().is_empty() {
        return vec![Err(bad(&source, "the document has no text"))];
    }
    vec![Ok(doc)]
}

fn json_line(at: &str, line: &[u8]) -> Result<Doc, DocError> {
    let text = text_of(at, line)?;
    let j: JsonDoc = serde_json::from_str(&text).map_err(|e| {
        bad(
            at,
            format!("not a JSON object: {e} (column {})", e.column()),
        )
    })?;
    let id = match j.id {
        Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        None => None,
        Some(other) => {
            return Err(bad(
                at,
                format!("field `id` must be a string, found {other}"),
            ))
        }
    };
    let at = match &id {
        Some(id) => format!("{at} (id {id})"),
        None => at.to_string(),
    };
    let body = j
        .text
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| bad(&at, "field `text` is missing or empty"))?;
    if let Some(p) = &j.published {
        if parse_published(p).is_none() {
            return Err(bad(
                &at,
                format!("field `published`: `{p}` is not a date (YYYY-MM-DD or RFC 3339)"),
            ));
        }
    }
    Ok(Doc {
        id,
        source: at.clone(),
        url: j.url,
        title: j.title.unwrap_or_else(|| first_line(&body)),
        published: j.published,
        lang: j.lang,
        text: body,
        window: None,
        marking: None,
        groups: Vec::new(),
    })
}

/// The date of a `published` value.
pub fn parse_published(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// Every file under `paths` (directories are walked, sorted; only the
/// kinds `ingest` reads are taken from a directory). A directory holding a
/// `manifest.json` is a MISP feed: its files are the events the manifest
/// lists (given the manifest itself, the same).
pub fn files(paths: &[PathBuf]) -> Result<Vec<Input>> {
    let mut out = Vec::new();
    for p in paths {
        let feed_dir = if p.is_dir() {
            Some(p.as_path())
        } else if p.file_name().is_some_and(|n| n == super::misp::MANIFEST) {
            p.parent()
        } else {
            None
        };
        if let Some(dir) = feed_dir.filter(|d| super::misp::is_feed(d)) {
            out.extend(super::misp::feed(dir)?);
        } else if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| {
                    Error::bad(format!("failed to read directory `{}`: {e}", p.display()))
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            let (dirs, plain): (Vec<_>, Vec<_>) = entries.into_iter().partition(|e| e.is_dir());
            out.extend(
                plain
                    .into_iter()
                    .filter(|f| {
                        matches!(
                            f.extension()
                                .and_then(|e| e.to_str())
                                .map(str::to_ascii_lowercase)
                                .as_deref(),
                            Some(
                                "txt"
                                    | "md"
                                    | "markdown"
                                    | "html"
                                    | "htm"
                                    | "jsonl"
                                    | "ndjson"
                                    | "json"
                            )
                        )
                    })
                    .map(Input::file),
            );
            out.extend(files(&dirs)?);
        } else if p.exists() {
            out.push(Input::file(p.clone()));
        } else {
            return Err(Error::bad(format!("`{}` does not exist", p.display())));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_lines_in_memory_read_as_a_file_would() {
        let text = b"{\"id\": \"a\", \"text\": \"first\"}\n\n   \nnot json\n{\"id\": 7, \"text\": \"x\\u0000y\"}\n{\"text\": \"a\0b\"}\n{\"id\": [1], \"text\": \"t\"}\n{\"text\": \"last\", \"published\": \"2026-03-20\"}";
        let docs = json_lines("feed.jsonl", text);
        let got: Vec<String> = docs
            .iter()
            .map(|(d, _)| match d {
                Ok(d) => format!("ok {}", d.source),
                Err(e) => format!("err {}", e.at),
            })
            .collect();
        assert_eq!(
            got,
            [
                "ok feed.jsonl:1 (id a)",
                "err feed.jsonl:4",
                "ok feed.jsonl:5 (id 7)",
                "err feed.jsonl:6",
                "err feed.jsonl:7",
                "ok feed.jsonl:8",
            ]
        );
        let nul = docs[3].0.as_ref().err().unwrap();
        assert!(nul.reason.contains("NUL"), "{}", nul.reason);
        // Bytes taken add up to the input.
        let taken: u64 = docs.iter().map(|(_, n)| n).sum();
        assert_eq!(taken as usize, text.len() - 5, "blank lines are skipped");
        let empty = json_lines("e.jsonl", b"");
        assert_eq!(empty.len(), 1);
        assert!(empty[0].0.is_err());
    }
}
