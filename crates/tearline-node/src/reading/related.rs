//! What the node already holds on the same threat as a draft: stored
//! documents and warnings sharing distinctive entities with it.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tearline_extract::extract;
use tearline_fuse::{features, Config};

use super::files::{markdown_doc, text_of};
use super::{context_of, read_file, report_document_id, Doc};
use crate::{stamp, Error, Node, Result};

/// A stored document related to a draft.
#[derive(Debug, Serialize)]
pub struct RelatedDoc {
    /// Its number.
    pub seq: i64,
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its case.
    pub case: i64,
    /// When it was published.
    pub published: Option<String>,
    /// How much it shares with the draft (rarity-weighted).
    pub score: f64,
    /// Names of the entities it shares with the draft.
    pub shared: Vec<String>,
    /// If it was released as a warning: its number, state and window.
    pub warning: Option<RelatedWarning>,
}

/// A related document that is a warning: released by this node, or
/// received from a partner.
#[derive(Debug, Serialize)]
pub struct RelatedWarning {
    /// The warning's number (a received warning's number when
    /// `received_from` is set).
    pub id: i64,
    /// The audience it was released to (empty for a received warning).
    pub audience: String,
    /// The remote it was received from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_from: Option<String>,
    /// Its state.
    pub state: String,
    /// The end of its window.
    pub window_end: String,
    /// It is open and its window is open, ended within the last 30 days,
    /// or is due for review.
    pub live: bool,
    /// The window in words.
    pub note: String,
}

impl Node {
    /// Documents and warnings sharing distinctive entities with `doc`, best
    /// first.
    fn related_to(&self, doc: &Doc) -> Result<Vec<RelatedDoc>> {
        let ctx = context_of(doc);
        let cfg = Config::default();
        let x = extract(&doc.text, &ctx);
        let f = features(&x, ctx.published, &cfg);
        let names: HashMap<&str, &str> = x
            .entities
            .iter()
            .map(|e| (e.id.as_str(), e.name.as_str()))
            .collect();
        let n = self.store.document_count()?;
        let own_id = doc.id.clone();
        let mut score: HashMap<i64, (f64, Vec<String>)> = HashMap::new();
        for key in &f.keys {
            let Some(w) = tearline_fuse::key_weight(key, self.store.key_df(key)?, n, &cfg) else {
                continue;
            };
            for d in self.store.key_documents(key, 200)? {
                let s = score.entry(d).or_default();
                s.0 += w;
                s.1.push(key.clone());
            }
        }
        // Live warnings are scored from their own keys: no cap on the
        // postings read per key, and no key too common to count, keeps one
        // out, however many documents the store holds on the same group or
        // city. A common key adds little to the score but still counts as
        // shared.
        let warnings = self.warnings_by_document()?;
        let mut live: HashSet<i64> = HashSet::new();
        for (id, w) in &warnings {
            if !w.live {
                continue;
            }
            let Some(seq) = self.store.document_seq(id)? else {
                continue;
            };
            live.insert(seq);
            let Some(stored) = self.store.document(seq)? else {
                continue;
            };
            let mut s = (0.0, Vec::new());
            for key in f
                .keys
                .iter()
                .filter(|k| tearline_fuse::is_entity_key(k) && stored.doc.keys.contains(k))
            {
                let df = self.store.key_df(key)?;
                s.0 += tearline_fuse::key_weight(key, df, n, &cfg).unwrap_or(0.1);
                s.1.push(key.clone());
            }
            if !s.1.is_empty() {
                score.insert(seq, s);
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
        // Live warnings come first whatever their score.
        ranked.sort_by(|a, b| {
            live.contains(&b.0)
                .cmp(&live.contains(&a.0))
                .then(b.1 .0.total_cmp(&a.1 .0))
                .then(b.0.cmp(&a.0))
        });
        let mut warnings = warnings;
        let mut out = Vec::new();
        for (seq, (s, shared)) in ranked.into_iter().take(40) {
            let Some(d) = self.store.document(seq)? else {
                continue;
            };
            if own_id.as_deref() == Some(d.doc.id.as_str()) {
                continue;
            }
            out.push(RelatedDoc {
                warning: warnings.remove(&d.doc.id),
                seq,
                id: d.doc.id,
                title: d.doc.title,
                case: d.case_id,
                published: d.doc.published,
                score: s,
                shared,
            });
            if out.len() == 15 {
                break;
            }
        }
        Ok(out)
    }

    /// The warnings known here — the node's own and those received from
    /// partners — by the id of the document their report is stored as (the
    /// newest warning of a report).
    fn warnings_by_document(&self) -> Result<HashMap<String, RelatedWarning>> {
        let now = self.now();
        let live = |open: bool, due: bool, end: chrono::DateTime<chrono::Utc>| {
            open && (now < end || due || (now - end).num_days() <= 30)
        };
        let note = |end: chrono::DateTime<chrono::Utc>| {
            if now < end {
                format!("window open, ends {}", end.format("%Y-%m-%d %H:%M UTC"))
            } else {
                format!("window ended {} day(s) ago", (now - end).num_days())
            }
        };
        let mut out: HashMap<String, RelatedWarning> = HashMap::new();
        let releases = self.store.releases()?;
        for rec in self.store.warnings()? {
            let Some(release) = releases.iter().find(|r| r.id == rec.id) else {
                continue;
            };
            let w = tearline_lifecycle::apply::warning(&rec)?;
            let (end, state) = (w.window_end(), w.state(now));
            let due = state == tearline_lifecycle::State::ReviewDue;
            out.entry(report_document_id(&release.release.report_sha256))
                .or_insert(RelatedWarning {
                    id: rec.id,
                    audience: rec.warning.audience.clone(),
                    received_from: None,
                    state: state.to_string(),
                    window_end: stamp(end),
                    live: live(state.is_open(), due, end),
                    note: note(end),
                });
        }
        for rec in self.store.received_warnings()? {
            let r = tearline_lifecycle::apply::received(&rec)?;
            let (end, state) = (r.window_end(), r.state(now));
            let due = state == tearline_lifecycle::receiver::RecvState::ReviewDue;
            let doc =
                crate::remotes::received_document_id(&rec.warning.remote, &rec.warning.report_id);
            out.entry(doc).or_insert(RelatedWarning {
                id: rec.id,
                audience: String::new(),
                received_from: Some(rec.warning.remote.clone()),
                state: state.to_string(),
                window_end: stamp(end),
                live: live(state.is_open(), due, end),
                note: note(end),
            });
        }
        Ok(out)
    }

    /// What the node holds on the same threat as the draft at `path` (one
    /// document; undated drafts are dated now; the draft's own stored copy,
    /// if it was released, is left out).
    pub fn related_file(&self, path: &Path) -> Result<Vec<RelatedDoc>> {
        let mut docs = read_file(path);
        let doc = match docs.pop() {
            Some(Ok(d)) if docs.is_empty() => d,
            Some(Err(e)) => return Err(Error::bad(format!("{}: {}", e.at, e.reason))),
            _ => {
                return Err(Error::bad(format!(
                    "`{}` must hold one document",
                    path.display()
                )))
            }
        };
        let bytes = std::fs::read(path)
            .map_err(|e| Error::bad(format!("failed to read `{}`: {e}", path.display())))?;
        self.related_of(doc, &bytes)
    }

    /// Documents and warnings related to a draft report held in memory (it
    /// need not parse as a report).
    pub fn related_text(&self, name: &str, bytes: &[u8]) -> Result<Vec<RelatedDoc>> {
        let text =
            text_of(name, bytes).map_err(|e| Error::bad(format!("{}: {}", e.at, e.reason)))?;
        self.related_of(markdown_doc(name, &text), bytes)
    }

    fn related_of(&self, mut doc: Doc, bytes: &[u8]) -> Result<Vec<RelatedDoc>> {
        if doc.published.is_none() {
            doc.published = Some(stamp(self.now()));
        }
        doc.id = Some(report_document_id(&hex::encode(Sha256::digest(bytes))));
        self.related_to(&doc)
    }
}
