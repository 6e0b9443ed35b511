//! Reading documents in and linking them into cases.
//!
//! Every document — an article, an analyst's note, a released report, a
//! report received from a partner — is read into entities
//! (`tearline_extract`), given keys and a time span (`tearline_fuse`),
//! linked to the case of the stored documents it shares the most
//! distinctive entities with, and stored with its keys and case in one
//! transaction. [`Node::ingest`] reads files in batches of 1,000 (each
//! batch one transaction); [`Node::cases`], [`Node::case`] and
//! [`Node::related`] read them back.

mod cases;
mod extract;
mod files;
mod misp;
mod related;

use std::path::PathBuf;

use sha2::{Digest, Sha256};
use tearline_extract::{extract, Context};
use tearline_fuse::{features, link, Config, Index, Posting};
use tearline_model::Report;
use tearline_store::{
    DocumentBatch, DocumentIndex, NewAuditEntry, NewCaseMerge, NewDocument, Placement, StoreError,
};

pub use cases::{CaseDoc, CaseEntity, CaseRow, CaseView, Rebuilt, TimelineRow};
pub use extract::{extract_file, figure_text, Extracted};
pub use files::{
    files, html_text, json_lines, parse_published, read_file, Doc, DocError, DocStream, Input,
    Read, MAX_DOCUMENT_BYTES, MAX_MISP_FILE_BYTES,
};
pub use related::{RelatedDoc, RelatedWarning};

use crate::{stamp, Caller, Error, Node, Result};

/// Documents committed together when ingesting.
const BATCH: usize = 1000;

/// The extraction context of a document: its date and language.
fn context_of(doc: &Doc) -> Context {
    Context {
        published: doc.published.as_deref().and_then(parse_published),
        lang: doc.lang.clone(),
    }
}

/// The linker's view of a store or a batch.
pub struct StoreIndex<'a>(pub &'a dyn DocumentIndex);

impl Index for StoreIndex<'_> {
    type Error = StoreError;
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
    fn profile(&self, doc: i64) -> Result<(Vec<String>, Vec<String>), StoreError> {
        self.0.document_profile(doc)
    }
}

/// What ingesting one document did.
#[derive(Debug, PartialEq, Eq)]
pub enum Ingested {
    /// Stored, in this case (new or joined).
    Stored {
        /// Its case.
        case: i64,
        /// It joined a case that was there before.
        joined: bool,
        /// Cases it bridged, merged into `case`.
        merged: Vec<i64>,
    },
    /// The same document is already stored.
    Unchanged,
}

/// Reads a document into entities and decides its place against `index`:
/// the document to store, the case it joins and the cases it bridges, or
/// `None` when the same document (same id, same text) is already stored.
/// `actor` is who the merge, if any, is recorded for.
pub fn prepare(
    index: &dyn DocumentIndex,
    doc: &Doc,
    at: &str,
    actor: &str,
) -> Result<Option<(NewDocument, Placement)>> {
    let cfg = Config::default();
    let sha = hex::encode(Sha256::digest(doc.text.as_bytes()));
    let id = doc
        .id
        .clone()
        .unwrap_or_else(|| format!("sha256:{}", &sha[..32]));
    if index.document_sha(&id)?.as_deref() == Some(sha.as_str()) {
        return Ok(None);
    }
    let ctx = context_of(doc);
    let mut x = extract(&doc.text, &ctx);
    // A window stated with the document (front matter, a received
    // warning's validity) is the window; none is guessed from its text.
    if let Some((from, until)) = &doc.window {
        x.entities
            .retain(|e| e.kind != tearline_extract::EntityKind::Window);
        x.entities.push(tearline_extract::Entity::stated_window(
            from.as_deref(),
            until,
            "the warning's stated validity",
        ));
    }
    // Groups the document names outside its text (MISP galaxy clusters).
    for g in &doc.groups {
        x.entities
            .push(tearline_extract::Entity::stated_group(&g.name, &g.synonyms));
    }
    let f = features(&x, ctx.published, &cfg);
    let decision = link(&StoreIndex(index), &f, &cfg)?;
    let extraction = serde_json::to_string(&x.entities)
        .map_err(|e| Error::internal("failed to serialise an extraction", e))?;
    let merge = match decision.case {
        Some(into) if !decision.merge.is_empty() => {
            let m = NewCaseMerge {
                into,
                from: decision.merge.clone(),
                at: at.to_string(),
                by: id.clone(),
                shared: decision.shared.clone(),
            };
            let audit = NewAuditEntry {
                at: at.to_string(),
                actor: actor.to_string(),
                action: "case.merge".into(),
                subject: format!("case {into}"),
                detail: serde_json::json!({
                    "merged": m.from,
                    "by_document": m.by,
                    "shared": m.shared,
                })
                .to_string(),
            };
            Some((m, audit))
        }
        _ => None,
    };
    let new = NewDocument {
        id,
        source: doc.source.clone(),
        url: doc.url.clone(),
        title: doc.title.clone(),
        published: doc.published.clone(),
        lang: doc.lang.clone(),
        sha256: sha,
        text: doc.text.clone(),
        extraction,
        keys: f.keys,
        from_day: f.from,
        until_day: f.until,
        places: f.places,
        ingested_at: at.to_string(),
        marking: doc.marking.map(|l| l.to_string()),
    };
    Ok(Some((
        new,
        Placement {
            case: decision.case,
            merge,
        },
    )))
}

/// Extracts, links and stores one document in a batch, merging the cases
/// it bridges.
pub fn ingest_doc(batch: &dyn DocumentBatch, doc: &Doc, at: &str, actor: &str) -> Result<Ingested> {
    let Some((new, place)) = prepare(batch, doc, at, actor)? else {
        return Ok(Ingested::Unchanged);
    };
    let merged = match &place.merge {
        Some((m, audit)) => {
            batch.merge_cases(m, audit.clone())?;
            m.from.clone()
        }
        None => Vec::new(),
    };
    let (_, stored) = batch.add_document(&new, place.case)?;
    Ok(Ingested::Stored {
        case: stored,
        joined: place.case.is_some(),
        merged,
    })
}

/// Extracts, links and stores one document in its own transaction (used
/// for documents that arrive one at a time).
pub fn ingest_one(
    store: &dyn tearline_store::Store,
    doc: &Doc,
    at: &str,
    actor: &str,
) -> Result<Ingested> {
    let mut out = Ingested::Unchanged;
    let mut failed = None;
    store.documents(&mut |b| {
        match ingest_doc(b, doc, at, actor) {
            Ok(i) => out = i,
            Err(e) => failed = Some(e),
        }
        Ok(())
    })?;
    match failed {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// The id under which a released report's text is stored as a document:
/// one per report source, whatever audiences it went to.
pub fn report_document_id(report_sha256: &str) -> String {
    format!(
        "report:{}",
        report_sha256.get(..32).unwrap_or(report_sha256)
    )
}

/// A parsed report as a document: its title and date from the front
/// matter, its text the portions' text without markings or span markup.
pub fn report_doc(report: &Report, report_sha256: &str) -> Doc {
    let text = report
        .portions()
        .iter()
        .map(|p| p.plain_text())
        .collect::<Vec<_>>()
        .join("\n\n");
    let day = |t: chrono::DateTime<chrono::FixedOffset>| {
        t.with_timezone(&chrono::Utc).format("%Y-%m-%d").to_string()
    };
    let meta = report.meta();
    Doc {
        id: Some(report_document_id(report_sha256)),
        source: report.name().to_string(),
        url: None,
        title: meta.title.clone(),
        published: Some(stamp(meta.produced.with_timezone(&chrono::Utc))),
        lang: None,
        text,
        window: meta.valid_until.map(|u| (meta.valid_from.map(day), day(u))),
        // The full report: its highest portion (an unmarked one is RED).
        marking: report.portions().iter().map(|p| p.level()).max(),
        groups: Vec::new(),
    }
}

/// What ingest reports as it goes.
pub enum Progress<'a> {
    /// About to read this many files of this many bytes.
    Start {
        /// Files.
        files: usize,
        /// Bytes.
        bytes: u64,
    },
    /// Bytes read.
    Read(u64),
    /// A document was refused: where and why.
    Refused(&'a str),
    /// Documents stored so far.
    Stored(usize),
}

/// What an ingest did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestSummary {
    /// Documents stored.
    pub stored: usize,
    /// Of those, documents that joined an existing case.
    pub joined: usize,
    /// Cases merged into others by documents that bridged them.
    pub merged: usize,
    /// Documents already stored unchanged.
    pub unchanged: usize,
    /// Documents refused (each reported through the progress callback).
    pub refused: usize,
}

impl Node {
    /// Reads documents (.txt, .md, .html, .jsonl, MISP .json; directories
    /// are walked, MISP feed directories read by their manifest) and links
    /// them into cases, in batches of 1,000 documents (each whole:
    /// an interrupted run is simply run again). `published` dates documents
    /// that give no date. A bad document is reported and the rest are read.
    pub fn ingest(
        &self,
        caller: &Caller,
        paths: &[PathBuf],
        published: Option<&str>,
        progress: &mut dyn FnMut(Progress<'_>),
    ) -> Result<IngestSummary> {
        if let Some(p) = published {
            if parse_published(p).is_none() {
                return Err(Error::bad(format!(
                    "--published `{p}` is not a date (YYYY-MM-DD)"
                )));
            }
        }
        let files = files(paths)?;
        let bytes = files
            .iter()
            .filter_map(|f| std::fs::metadata(&f.path).ok())
            .map(|m| m.len())
            .sum();
        progress(Progress::Start {
            files: files.len(),
            bytes,
        });
        let at = stamp(self.now());
        let mut docs = files.iter().flat_map(DocStream::open_input);
        let mut sum = IngestSummary::default();
        let mut failure: Option<Error> = None;
        loop {
            let mut more = false;
            let written = self.store.documents(&mut |batch| {
                let mut stored = 0;
                while stored < BATCH {
                    let Some((doc, read)) = docs.next() else {
                        return Ok(());
                    };
                    progress(Progress::Read(read));
                    let outcome =
                        doc.map_err(|e| format!("{}: {}", e.at, e.reason))
                            .and_then(|mut d| {
                                if d.published.is_none() {
                                    d.published = published.map(str::to_string);
                                }
                                ingest_doc(batch, &d, &at, caller.name()).map_err(|e| {
                                    if e.code() == crate::Code::Internal {
                                        failure.get_or_insert(e);
                                        String::new()
                                    } else {
                                        format!("{}: {e}", d.source)
                                    }
                                })
                            });
                    match outcome {
                        Ok(Ingested::Stored { joined, merged, .. }) => {
                            sum.stored += 1;
                            sum.joined += usize::from(joined);
                            sum.merged += merged.len();
                            stored += 1;
                            progress(Progress::Stored(sum.stored));
                        }
                        Ok(Ingested::Unchanged) => sum.unchanged += 1,
                        Err(_) if failure.is_some() => {
                            return Err(StoreError::Aborted("a store failure".into()))
                        }
                        Err(msg) => {
                            sum.refused += 1;
                            progress(Progress::Refused(&msg));
                        }
                    }
                }
                more = true;
                Ok(())
            });
            if let Err(e) = written {
                return Err(failure.take().unwrap_or_else(|| e.into()));
            }
            if !more {
                break;
            }
        }
        Ok(sum)
    }
}
