//! Reading documents in and linking them into cases: `extract`, `ingest`,
//! `cases`, `case`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use anyhow::{Context as _, Result};
use chrono::NaiveDate;
use regex::Regex;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tearline_extract::{extract, Context, EntityKind, Extraction};
use tearline_fuse::{day_date, features, link, Config, Index, Posting};
use tearline_store::{DocumentStore, NewDocument, StoreError, StoredDocument};

use crate::exit::{coded, BAD_INPUT};
use crate::node::{now, stamp, Node};

/// Documents larger than this are refused.
pub const MAX_DOCUMENT_BYTES: usize = 16 * 1024 * 1024;

/// A document read from a file, before extraction.
#[derive(Debug, Clone, Default)]
pub struct Doc {
    pub id: Option<String>,
    pub source: String,
    pub url: Option<String>,
    pub title: String,
    pub published: Option<String>,
    pub lang: Option<String>,
    pub text: String,
}

impl Doc {
    /// A blank line of JSON Lines: nothing to read.
    fn skip() -> Doc {
        Doc::default()
    }

    fn is_skip(&self) -> bool {
        self.text.is_empty() && self.source.is_empty()
    }
}

/// Why one document could not be read.
#[derive(Debug)]
pub struct DocError {
    /// The document: a path, or `path:line` in JSON Lines, with its id if known.
    pub at: String,
    pub reason: String,
}

fn bad(at: impl Into<String>, reason: impl Into<String>) -> DocError {
    DocError {
        at: at.into(),
        reason: reason.into(),
    }
}

/// Decodes bytes as UTF-8 text, naming the first bad byte.
fn text_of(at: &str, bytes: &[u8]) -> Result<String, DocError> {
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

/// Plain text of Markdown; a Tearline report loses its markings and span
/// markup and gives its title and dates from the front matter.
fn markdown_doc(source: &str, text: &str) -> Doc {
    let mut doc = Doc {
        id: None,
        source: source.to_string(),
        url: None,
        title: String::new(),
        published: None,
        lang: None,
        text: String::new(),
    };
    let mut body = text;
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
                        _ => {}
                    }
                }
            }
            body = rest[end + 4..].trim_start_matches(['-', '\n']);
        }
    }
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
    let mut out = Vec::new();
    for_each_doc(path, &mut |d, _| out.push(d));
    out
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

/// Reads the documents of a file one by one, calling `f` with each and the
/// bytes it took. JSON Lines are streamed, so a file may be far larger than
/// memory; other files hold one document.
pub fn for_each_doc(path: &Path, f: &mut dyn FnMut(Result<Doc, DocError>, u64)) {
    use std::io::{BufRead, Read};
    let source = path.display().to_string();
    if is_json_lines(path) {
        let file = match std::fs::File::open(path) {
            Ok(file) => file,
            Err(e) => return f(Err(bad(&source, format!("cannot read it: {e}"))), 0),
        };
        let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
        let (mut line, mut n, mut any) = (Vec::new(), 0usize, false);
        loop {
            line.clear();
            // At most one document's worth plus the newline: a longer line
            // is refused, and the rest of it skipped.
            let read = (&mut reader)
                .take(MAX_DOCUMENT_BYTES as u64 + 1)
                .read_until(b'\n', &mut line);
            let read = match read {
                Ok(0) => break,
                Ok(r) => r,
                Err(e) => {
                    return f(
                        Err(bad(
                            format!("{source}:{}", n + 1),
                            format!("cannot read it: {e}"),
                        )),
                        0,
                    )
                }
            };
            n += 1;
            any = true;
            let at = format!("{source}:{n}");
            if line.len() > MAX_DOCUMENT_BYTES && !line.ends_with(b"\n") {
                let mut skipped = read as u64;
                let mut sink = Vec::new();
                while let Ok(k) = reader.read_until(b'\n', &mut sink) {
                    if k == 0 || sink.ends_with(b"\n") {
                        skipped += k as u64;
                        break;
                    }
                    skipped += k as u64;
                    sink.clear();
                }
                f(
                    Err(bad(
                        at,
                        format!(
                            "the line is over the {} MiB limit for one document",
                            MAX_DOCUMENT_BYTES / (1024 * 1024)
                        ),
                    )),
                    skipped,
                );
                continue;
            }
            if line.iter().all(u8::is_ascii_whitespace) {
                f(Ok(Doc::skip()), read as u64);
                continue;
            }
            f(
                json_line(&at, line.strip_suffix(b"\n").unwrap_or(&line)),
                read as u64,
            );
        }
        if !any {
            f(Err(bad(&source, "the file is empty")), 0);
        }
        return;
    }
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => return f(Err(bad(&source, format!("cannot read it: {e}"))), 0),
    };
    let size = bytes.len() as u64;
    for d in one_document(path, &source, &bytes) {
        f(d, size);
    }
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
        },
        other => {
            return vec![Err(bad(
                &source,
                format!("unknown file type `.{other}`: expected .txt, .md, .html or .jsonl"),
            ))]
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
    })
}

/// The date of a `published` value.
pub fn parse_published(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// Every file under `paths` (directories are walked, sorted).
fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut entries: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| format!("failed to read directory `{}`", p.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect();
            entries.sort();
            let (dirs, plain): (Vec<_>, Vec<_>) = entries.into_iter().partition(|e| e.is_dir());
            out.extend(plain.into_iter().filter(|f| {
                matches!(
                    f.extension()
                        .and_then(|e| e.to_str())
                        .map(str::to_ascii_lowercase)
                        .as_deref(),
                    Some("txt" | "md" | "markdown" | "html" | "htm" | "jsonl" | "ndjson")
                )
            }));
            out.extend(files(&dirs)?);
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(coded(
                BAD_INPUT,
                format!("`{}` does not exist", p.display()),
            ));
        }
    }
    Ok(out)
}

fn context_of(doc: &Doc) -> Context {
    Context {
        published: doc.published.as_deref().and_then(parse_published),
        lang: doc.lang.clone(),
    }
}

/// `tearline extract FILE`.
pub fn extract_cmd(
    file: &Path,
    published: Option<&str>,
    lang: Option<&str>,
    json: bool,
) -> Result<u8> {
    let mut docs = read_file(file);
    if docs.len() != 1 {
        return Err(coded(
            BAD_INPUT,
            format!(
                "`{}` holds {} documents; `extract` reads one (use `ingest` for JSON Lines)",
                file.display(),
                docs.len()
            ),
        ));
    }
    let mut doc = docs
        .pop()
        .unwrap_or_else(|| Err(bad(file.display().to_string(), "no document")))
        .map_err(|e| coded(BAD_INPUT, format!("{}: {}", e.at, e.reason)))?;
    if let Some(p) = published {
        if parse_published(p).is_none() {
            return Err(coded(
                BAD_INPUT,
                format!("--published `{p}` is not a date (YYYY-MM-DD)"),
            ));
        }
        doc.published = Some(p.to_string());
    }
    if let Some(l) = lang {
        doc.lang = Some(l.to_string());
    }
    let x = extract(&doc.text, &context_of(&doc));
    if json {
        #[derive(Serialize)]
        struct Out<'a> {
            source: &'a str,
            published: Option<&'a str>,
            text: &'a str,
            entities: &'a [tearline_extract::Entity],
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&Out {
                source: &doc.source,
                published: doc.published.as_deref(),
                text: &doc.text,
                entities: &x.entities,
            })?
        );
        return Ok(0);
    }
    for e in &x.entities {
        let mut extra = Vec::new();
        if let Some(k) = e.place_kind {
            extra.push(format!("{k:?}").to_lowercase());
        }
        if let Some(p) = &e.parent_name {
            extra.push(format!("in {p}"));
        }
        if let Some(r) = &e.role {
            extra.push(format!("role: {r}"));
        }
        if let Some(f) = &e.figure {
            extra.push(figure_text(f));
        }
        if let Some(s) = &e.speaker {
            extra.push(format!("by {s}"));
        }
        if let Some(s) = &e.according_to {
            extra.push(format!("according to {s}"));
        }
        if let Some(d) = &e.description {
            extra.push(format!("\"{d}\""));
        }
        let text: String = e.text.chars().take(70).collect();
        println!(
            "{:>5}-{:<5} {:<9} {:<40} {}{}",
            e.start,
            e.end,
            e.kind.name(),
            text.replace('\n', " "),
            e.name,
            if extra.is_empty() {
                String::new()
            } else {
                format!("  ({})", extra.join(", "))
            }
        );
    }
    Ok(0)
}

fn figure_text(f: &tearline_extract::Figure) -> String {
    let kind = match f.counts {
        tearline_extract::Casualty::Killed => "killed",
        tearline_extract::Casualty::Injured => "injured",
    };
    match (f.min, f.max, f.exact) {
        (Some(v), _, _) => format!("{kind} >= {v}"),
        (_, Some(v), _) => format!("{kind} <= {v}"),
        (_, _, Some(v)) if f.approximate => format!("{kind} ~ {v}"),
        (_, _, Some(v)) => format!("{kind} = {v}"),
        _ => kind.to_string(),
    }
}

/// The linker's view of a store.
pub struct StoreIndex<'a, S: DocumentStore + ?Sized>(pub &'a S);

impl<S: DocumentStore + ?Sized> Index for StoreIndex<'_, S> {
    type Error = StoreError;
    fn doc_count(&self) -> Result<u64, StoreError> {
        self.0.document_count()
    }
    fn doc_freq(&self, key: &str) -> Result<u64, StoreError> {
        self.0.key_df(key)
    }
    fn postings(
        &self,
        key: &str,
        from_min: i64,
        from_max: i64,
        until_min: i64,
        limit: usize,
    ) -> Result<Vec<Posting>, StoreError> {
        Ok(self
            .0
            .key_postings(key, from_min, from_max, until_min, limit)?
            .into_iter()
            .map(|p| Posting {
                doc: p.doc,
                case: p.case_id,
                from: p.from_day,
                until: p.until_day,
            })
            .collect())
    }
    fn places(&self, doc: i64) -> Result<Vec<String>, StoreError> {
        self.0.document_places(doc)
    }
}

/// What ingesting one document did.
#[derive(Debug, PartialEq, Eq)]
pub enum Ingested {
    /// Stored, in this case (new or joined).
    Stored { case: i64, joined: bool },
    /// The same document is already stored.
    Unchanged,
}

/// Extracts, links and stores one document.
pub fn ingest_doc<S: DocumentStore + ?Sized>(
    store: &mut S,
    doc: &Doc,
    at: &str,
    cfg: &Config,
) -> Result<Ingested> {
    let sha = hex::encode(Sha256::digest(doc.text.as_bytes()));
    let id = doc
        .id
        .clone()
        .unwrap_or_else(|| format!("sha256:{}", &sha[..32]));
    if store.document_sha(&id)?.as_deref() == Some(sha.as_str()) {
        return Ok(Ingested::Unchanged);
    }
    let ctx = context_of(doc);
    let x = extract(&doc.text, &ctx);
    let f = features(&x, ctx.published, cfg);
    let decision = link(&StoreIndex(&*store), &f, cfg)?;
    let new = NewDocument {
        id,
        source: doc.source.clone(),
        url: doc.url.clone(),
        title: doc.title.clone(),
        published: doc.published.clone(),
        lang: doc.lang.clone(),
        sha256: sha,
        text: doc.text.clone(),
        extraction: serde_json::to_string(&x.entities)?,
        keys: f.keys,
        from_day: f.from,
        until_day: f.until,
        places: f.places,
        ingested_at: at.to_string(),
    };
    let (_, case) = store.add_document(&new, decision.case)?;
    Ok(Ingested::Stored {
        case,
        joined: decision.case.is_some(),
    })
}

/// `tearline ingest PATH...`.
pub fn ingest(node: &mut Node, paths: &[PathBuf], published: Option<&str>) -> Result<u8> {
    if let Some(p) = published {
        if parse_published(p).is_none() {
            return Err(coded(
                BAD_INPUT,
                format!("--published `{p}` is not a date (YYYY-MM-DD)"),
            ));
        }
    }
    let files = files(paths)?;
    let at = stamp(now()?);
    let cfg = Config::default();
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    // Drawn on a terminal only, and only for runs worth watching.
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {msg} ({eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    if total < 4 * 1024 * 1024 && files.len() < 50 {
        bar.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let (mut stored, mut joined, mut unchanged, mut failed) = (0, 0, 0, 0);
    // Documents are committed in batches (a crash loses at most the batch
    // being read, which the next run reads again); the summary is printed
    // only after the last commit.
    let mut in_batch = 0usize;
    node.store.begin_documents()?;
    let mut result: Result<()> = Ok(());
    for file in &files {
        for_each_doc(file, &mut |doc, bytes| {
            bar.inc(bytes);
            if result.is_err() || doc.as_ref().is_ok_and(Doc::is_skip) {
                return;
            }
            let outcome = doc
                .map_err(|e| format!("{}: {}", e.at, e.reason))
                .and_then(|mut d| {
                    if d.published.is_none() {
                        d.published = published.map(str::to_string);
                    }
                    ingest_doc(&mut *node.store, &d, &at, &cfg)
                        .map_err(|e| format!("{}: {e:#}", d.source))
                });
            match outcome {
                Ok(Ingested::Stored { joined: j, .. }) => {
                    stored += 1;
                    joined += usize::from(j);
                    in_batch += 1;
                }
                Ok(Ingested::Unchanged) => unchanged += 1,
                Err(msg) => {
                    failed += 1;
                    bar.suspend(|| eprintln!("error: {msg}"));
                }
            }
            if in_batch >= 1000 {
                result = node
                    .store
                    .commit_documents()
                    .and_then(|_| node.store.begin_documents())
                    .map_err(Into::into);
                in_batch = 0;
            }
            bar.set_message(format!("{stored} stored"));
        });
        result.as_ref().map_err(|e| anyhow::anyhow!("{e:#}"))?;
    }
    node.store.commit_documents()?;
    bar.finish_and_clear();
    println!(
        "{stored} document(s) stored ({joined} joined an existing case), {unchanged} unchanged, {failed} refused"
    );
    Ok(if failed > 0 { BAD_INPUT } else { 0 })
}

fn day_text(d: Option<i64>) -> String {
    d.filter(|d| *d > tearline_store::NO_DAY)
        .map_or("-".into(), |d| day_date(d).to_string())
}

fn entities_of(doc: &StoredDocument) -> Result<Extraction> {
    let entities = serde_json::from_str(&doc.doc.extraction)
        .with_context(|| format!("stored extraction of document {} is corrupt", doc.seq))?;
    Ok(Extraction { entities })
}

/// The most frequent keys of a case's documents, with their names.
fn key_entities(docs: &[(StoredDocument, Extraction)]) -> Vec<(String, String, usize)> {
    let mut count: HashMap<&str, (usize, &str)> = HashMap::new();
    for (d, x) in docs {
        for k in &d.doc.keys {
            let name = x
                .entities
                .iter()
                .find(|e| &e.id == k)
                .map(|e| e.name.as_str())
                .or_else(|| {
                    tearline_extract::Kb::builtin()
                        .get(k)
                        .map(|e| e.name.as_str())
                })
                .unwrap_or(k.as_str());
            let c = count.entry(k).or_insert((0, name));
            c.0 += 1;
        }
    }
    let mut v: Vec<(String, String, usize)> = count
        .into_iter()
        .map(|(k, (n, name))| (k.to_string(), name.to_string(), n))
        .collect();
    v.sort_by(|a, b| {
        b.2.cmp(&a.2)
            .then(tearline_fuse::kind_weight(&b.0).total_cmp(&tearline_fuse::kind_weight(&a.0)))
            .then(a.0.cmp(&b.0))
    });
    v
}

#[derive(Serialize)]
pub struct CaseRow {
    pub id: i64,
    pub documents: i64,
    pub from: String,
    pub until: String,
    pub key_entities: Vec<String>,
    pub titles: Vec<String>,
}

/// Every case with its key entities and document titles.
pub fn case_rows(node: &Node) -> Result<Vec<CaseRow>> {
    let mut rows = Vec::new();
    for c in node.store.cases()? {
        let docs = node.store.case_documents(c.id)?;
        let docs: Vec<(StoredDocument, Extraction)> = docs
            .into_iter()
            .map(|d| entities_of(&d).map(|x| (d, x)))
            .collect::<Result<_>>()?;
        rows.push(CaseRow {
            id: c.id,
            documents: c.documents,
            from: day_text(c.from_day),
            until: day_text(c.until_day),
            key_entities: key_entities(&docs)
                .into_iter()
                .take(5)
                .map(|k| k.1)
                .collect(),
            titles: docs.iter().map(|d| d.0.doc.title.clone()).collect(),
        });
    }
    Ok(rows)
}

/// `tearline cases`.
pub fn cases(node: &Node, json: bool) -> Result<u8> {
    let rows = case_rows(node)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(0);
    }
    if rows.is_empty() {
        println!("no cases yet: `tearline ingest PATH` reads documents in");
    }
    for r in &rows {
        println!(
            "case {:<5} {:>3} doc(s)  {} .. {}  {}",
            r.id,
            r.documents,
            r.from,
            r.until,
            r.key_entities.join(", ")
        );
        for t in &r.titles {
            println!("             - {t}");
        }
    }
    Ok(0)
}

#[derive(Serialize)]
pub struct TimelineRow {
    pub date: String,
    pub part_of_day: Option<String>,
    pub document: String,
    pub text: String,
}

/// A case's key entity with every alias seen.
#[derive(Serialize)]
pub struct CaseEntity {
    pub id: String,
    pub name: String,
    pub documents: usize,
    pub aliases: Vec<String>,
}

/// A document of a case.
#[derive(Serialize)]
pub struct CaseDoc {
    pub seq: i64,
    pub id: String,
    pub title: String,
    pub source: String,
    pub published: Option<String>,
}

/// Everything `tearline case ID` shows.
#[derive(Serialize)]
pub struct CaseView {
    pub id: i64,
    pub documents: Vec<CaseDoc>,
    pub entities: Vec<CaseEntity>,
    pub timeline: Vec<TimelineRow>,
    pub facts: Vec<tearline_fuse::Fact>,
}

/// One case: documents, key entities with aliases, timeline, facts.
pub fn case_view(node: &Node, id: i64) -> Result<CaseView> {
    let docs = node.store.case_documents(id)?;
    if docs.is_empty() {
        return Err(coded(
            BAD_INPUT,
            format!("there is no case {id}: `tearline cases` lists them"),
        ));
    }
    let docs: Vec<(StoredDocument, Extraction)> = docs
        .into_iter()
        .map(|d| entities_of(&d).map(|x| (d, x)))
        .collect::<Result<_>>()?;
    let keys = key_entities(&docs);
    // Aliases: every surface form of each key entity.
    let mut aliases: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (_, x) in &docs {
        for e in &x.entities {
            if keys.iter().any(|k| k.0 == e.id) {
                let v = aliases.entry(e.id.clone()).or_default();
                if !v.contains(&e.text) {
                    v.push(e.text.clone());
                }
            }
        }
    }
    let mut timeline = Vec::new();
    for (d, x) in &docs {
        for e in x.of(EntityKind::Date) {
            let Some(date) = &e.date else { continue };
            let sentence = x
                .of(EntityKind::Statement)
                .find(|s| s.byte_start <= e.byte_start && e.byte_end <= s.byte_end)
                .map(|s| s.text.clone())
                .unwrap_or_else(|| sentence_around(&d.doc.text, e.byte_start, e.byte_end));
            timeline.push(TimelineRow {
                date: date.clone(),
                part_of_day: e.part_of_day.clone(),
                document: d.doc.title.clone(),
                text: sentence,
            });
        }
    }
    timeline.sort_by(|a, b| a.date.cmp(&b.date));
    let facts = tearline_fuse::facts(
        &docs
            .iter()
            .map(|(d, x)| (d.doc.title.clone(), x.clone()))
            .collect::<Vec<_>>(),
    );
    Ok(CaseView {
        id,
        documents: docs
            .iter()
            .map(|(d, _)| CaseDoc {
                seq: d.seq,
                id: d.doc.id.clone(),
                title: d.doc.title.clone(),
                source: d.doc.source.clone(),
                published: d.doc.published.clone(),
            })
            .collect(),
        entities: keys
            .into_iter()
            .map(|(id, name, n)| CaseEntity {
                aliases: aliases.remove(&id).unwrap_or_default(),
                id,
                name,
                documents: n,
            })
            .collect(),
        timeline,
        facts,
    })
}

/// `tearline case ID`.
pub fn case(node: &Node, id: i64, json: bool) -> Result<u8> {
    let v = case_view(node, id)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    println!("case {id}: {} document(s)", v.documents.len());
    for d in &v.documents {
        println!(
            "  [{}] {}  ({}, {})",
            d.seq,
            d.title,
            d.published.as_deref().unwrap_or("undated"),
            d.source
        );
    }
    println!("\nentities");
    for e in v.entities.iter().take(15) {
        println!(
            "  {:<40} {} doc(s)  {}  [{}]",
            e.name,
            e.documents,
            e.id,
            e.aliases.join(" / ")
        );
    }
    println!("\ntimeline");
    for t in &v.timeline {
        let text: String = t.text.chars().take(100).collect();
        println!(
            "  {} {:<12} {}  — {}",
            t.date,
            t.part_of_day.as_deref().unwrap_or(""),
            text.replace('\n', " "),
            t.document
        );
    }
    println!("\nfacts");
    for f in &v.facts {
        println!(
            "  {}{}",
            f.fact,
            if f.conflict {
                "  ** sources disagree **"
            } else {
                ""
            }
        );
        for c in &f.claims {
            println!("    {:<30} {}", c.value, c.doc);
        }
    }
    Ok(0)
}

/// The sentence holding `text[s..e]`, on one line.
fn sentence_around(text: &str, s: usize, e: usize) -> String {
    let is_end = |c: char| matches!(c, '.' | '!' | '?' | '\n');
    let start = text[..s]
        .char_indices()
        .rev()
        .find(|&(i, c)| is_end(c) && text[i + c.len_utf8()..].starts_with(char::is_whitespace))
        .map_or(0, |(i, c)| i + c.len_utf8());
    let end = text[e..]
        .char_indices()
        .find(|&(_, c)| is_end(c))
        .map_or(text.len(), |(i, c)| e + i + c.len_utf8());
    text[start..end]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The id under which a released report's text is stored as a document:
/// one per report source, whatever audiences it went to.
pub fn report_document_id(report_sha256: &str) -> String {
    format!(
        "report:{}",
        report_sha256.get(..32).unwrap_or(report_sha256)
    )
}

/// Stores a released report's full text as a document, linked into cases
/// like any other (an unchanged report is not stored twice).
pub fn ingest_report(
    node: &mut Node,
    name: &str,
    bytes: &[u8],
    report_sha256: &str,
    at: &str,
) -> Result<()> {
    let text = text_of(name, bytes).map_err(|e| anyhow::anyhow!("{}: {}", e.at, e.reason))?;
    let mut doc = markdown_doc(name, &text);
    doc.id = Some(report_document_id(report_sha256));
    ingest_doc(&mut *node.store, &doc, at, &Config::default())?;
    Ok(())
}

/// A stored document related to a draft.
#[derive(Debug, Serialize)]
pub struct RelatedDoc {
    pub seq: i64,
    pub id: String,
    pub title: String,
    pub case: i64,
    pub published: Option<String>,
    pub score: f64,
    /// Names of the entities it shares with the draft.
    pub shared: Vec<String>,
    /// If it was released as a warning: its number, state and window.
    pub warning: Option<RelatedWarning>,
}

#[derive(Debug, Serialize)]
pub struct RelatedWarning {
    pub id: i64,
    pub audience: String,
    pub state: String,
    pub window_end: String,
    /// The window is open, or ended within the last 30 days.
    pub live: bool,
    pub note: String,
}

/// Documents and warnings sharing distinctive entities with `doc`, best
/// first.
pub fn related_to(node: &mut Node, doc: &Doc) -> Result<Vec<RelatedDoc>> {
    let ctx = context_of(doc);
    let cfg = Config::default();
    let x = extract(&doc.text, &ctx);
    let f = features(&x, ctx.published, &cfg);
    let names: HashMap<&str, &str> = x
        .entities
        .iter()
        .map(|e| (e.id.as_str(), e.name.as_str()))
        .collect();
    let n = node.store.document_count()?;
    let own_id = doc.id.clone();
    let mut score: HashMap<i64, (f64, Vec<String>)> = HashMap::new();
    for key in &f.keys {
        let Some(w) = tearline_fuse::key_weight(key, node.store.key_df(key)?, n, &cfg) else {
            continue;
        };
        for d in node.store.key_documents(key, 200)? {
            let s = score.entry(d).or_default();
            s.0 += w;
            s.1.push(key.clone());
        }
    }
    let mut ranked: Vec<(i64, (f64, Vec<String>))> = score
        .into_iter()
        .filter(|(_, (_, shared))| tearline_fuse::shares_enough(shared))
        .map(|(d, (s, keys))| {
            let names = keys
                .iter()
                .map(|k| names.get(k.as_str()).map_or(k.clone(), |n| n.to_string()))
                .collect();
            (d, (s, names))
        })
        .collect();
    ranked.sort_by(|a, b| b.1 .0.total_cmp(&a.1 .0).then(b.0.cmp(&a.0)));
    // Warnings by the document their report was stored as.
    let now = now()?;
    let releases = node.store.releases()?;
    let mut warnings: HashMap<String, Vec<RelatedWarning>> = HashMap::new();
    for rec in node.store.warnings()? {
        let Some(release) = releases.iter().find(|r| r.id == rec.id) else {
            continue;
        };
        let w = tearline_lifecycle::apply::warning(&rec).map_err(|e| anyhow::anyhow!("{e}"))?;
        let end = w.window_end();
        let state = w.state(now);
        let ended_ago = (now - end).num_days();
        let live = state.is_open() && (now < end || ended_ago <= 30);
        let note = if now < end {
            format!("window open, ends {}", end.format("%Y-%m-%d %H:%M UTC"))
        } else {
            format!("window ended {ended_ago} day(s) ago")
        };
        warnings
            .entry(report_document_id(&release.release.report_sha256))
            .or_default()
            .push(RelatedWarning {
                id: rec.id,
                audience: rec.warning.audience.clone(),
                state: state.to_string(),
                window_end: stamp(end),
                live,
                note,
            });
    }
    let mut out = Vec::new();
    for (seq, (s, shared)) in ranked.into_iter().take(40) {
        let Some(d) = node.store.document(seq)? else {
            continue;
        };
        if own_id.as_deref() == Some(d.doc.id.as_str()) {
            continue;
        }
        let mut ws = warnings.remove(&d.doc.id).unwrap_or_default();
        ws.sort_by_key(|w| std::cmp::Reverse(w.id));
        out.push(RelatedDoc {
            seq,
            id: d.doc.id,
            title: d.doc.title,
            case: d.case_id,
            published: d.doc.published,
            score: s,
            shared,
            warning: ws.into_iter().next(),
        });
        if out.len() == 15 {
            break;
        }
    }
    // Live warnings first, then by score.
    out.sort_by(|a, b| {
        let live = |r: &RelatedDoc| r.warning.as_ref().is_some_and(|w| w.live);
        live(b).cmp(&live(a)).then(b.score.total_cmp(&a.score))
    });
    Ok(out)
}

/// Prints `related` as text.
pub fn print_related(rel: &[RelatedDoc]) {
    if rel.is_empty() {
        println!("nothing stored shares a distinctive entity with it");
        return;
    }
    for r in rel {
        let flag = match &r.warning {
            Some(w) if w.live => format!(
                "  ** warning {} to {} ({}; {}) **",
                w.id, w.audience, w.state, w.note
            ),
            Some(w) => format!(
                "  (warning {} to {}, {}; {})",
                w.id, w.audience, w.state, w.note
            ),
            None => String::new(),
        };
        println!(
            "  [{}] {} (case {}, {}){flag}\n        shares: {}",
            r.seq,
            r.title,
            r.case,
            r.published
                .as_deref()
                .map(|p| p.get(..10).unwrap_or(p))
                .unwrap_or("undated"),
            r.shared.join(", ")
        );
    }
}

/// What the node holds on the same threat as the draft at `path` (one
/// document; undated drafts are dated now; the draft's own stored copy,
/// if it was released, is left out).
pub fn related_for(node: &mut Node, path: &Path) -> Result<Vec<RelatedDoc>> {
    let mut docs = read_file(path);
    let doc = match docs.pop() {
        Some(Ok(d)) if docs.is_empty() => d,
        Some(Err(e)) => return Err(coded(BAD_INPUT, format!("{}: {}", e.at, e.reason))),
        _ => {
            return Err(coded(
                BAD_INPUT,
                format!("`{}` must hold one document", path.display()),
            ))
        }
    };
    let bytes =
        std::fs::read(path).with_context(|| format!("failed to read `{}`", path.display()))?;
    related_of(node, doc, &bytes)
}

/// Documents and warnings related to a draft report held in memory.
pub fn related_for_text(node: &mut Node, name: &str, bytes: &[u8]) -> Result<Vec<RelatedDoc>> {
    let text =
        text_of(name, bytes).map_err(|e| coded(BAD_INPUT, format!("{}: {}", e.at, e.reason)))?;
    related_of(node, markdown_doc(name, &text), bytes)
}

fn related_of(node: &mut Node, mut doc: Doc, bytes: &[u8]) -> Result<Vec<RelatedDoc>> {
    if doc.published.is_none() {
        doc.published = Some(stamp(now()?));
    }
    doc.id = Some(report_document_id(&hex::encode(Sha256::digest(bytes))));
    related_to(node, &doc)
}

/// `tearline related DRAFT`.
pub fn related(node: &mut Node, path: &Path, json: bool) -> Result<u8> {
    let rel = related_for(node, path)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rel)?);
    } else {
        println!("related to {}:", path.display());
        print_related(&rel);
    }
    Ok(0)
}
