//! Cases: listing them and showing one.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use tearline_extract::{EntityKind, Extraction};
use tearline_fuse::day_date;
use tearline_store::StoredDocument;

use crate::{Caller, Error, Node, Result};

fn day_text(d: Option<i64>) -> String {
    d.filter(|d| *d > tearline_store::NO_DAY)
        .map_or("-".into(), |d| day_date(d).to_string())
}

fn entities_of(doc: &StoredDocument) -> Result<Extraction> {
    let entities = serde_json::from_str(&doc.doc.extraction).map_err(|e| {
        Error::internal(
            format!("stored extraction of document {} is corrupt", doc.seq),
            e,
        )
    })?;
    Ok(Extraction { entities })
}

/// The most frequent keys of a case's documents, with their names.
fn key_entities(docs: &[(StoredDocument, Extraction)]) -> Vec<(String, String, usize)> {
    let mut count: HashMap<&str, (usize, &str)> = HashMap::new();
    for (d, x) in docs {
        for k in d
            .doc
            .keys
            .iter()
            .filter(|k| tearline_fuse::is_entity_key(k))
        {
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

/// A case as listed.
#[derive(Debug, Serialize)]
pub struct CaseRow {
    /// Its number.
    pub id: i64,
    /// How many documents it holds.
    pub documents: i64,
    /// The first day of its documents' events (`-` if undated).
    pub from: String,
    /// The last day.
    pub until: String,
    /// Its most frequent entities, by name.
    pub key_entities: Vec<String>,
    /// Its documents' titles.
    pub titles: Vec<String>,
}

/// A dated statement of a case's timeline.
#[derive(Debug, Serialize)]
pub struct TimelineRow {
    /// The date (`YYYY-MM-DD`).
    pub date: String,
    /// Part of the day, if the text gives it.
    pub part_of_day: Option<String>,
    /// The document's title.
    pub document: String,
    /// The sentence.
    pub text: String,
}

/// A case's key entity with every alias seen.
#[derive(Debug, Serialize)]
pub struct CaseEntity {
    /// Its canonical id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// How many documents carry it.
    pub documents: usize,
    /// Every surface form seen.
    pub aliases: Vec<String>,
}

/// A document of a case.
#[derive(Debug, Serialize)]
pub struct CaseDoc {
    /// Its number.
    pub seq: i64,
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Where it was read from.
    pub source: String,
    /// When it was published.
    pub published: Option<String>,
    /// Its marking (`TLP:AMBER`), when its source states one.
    pub marking: Option<String>,
}

/// One case: what `tearline case ID` and the case page show.
#[derive(Debug, Serialize)]
pub struct CaseView {
    /// Its number.
    pub id: i64,
    /// Its documents, oldest first.
    pub documents: Vec<CaseDoc>,
    /// Its key entities with aliases.
    pub entities: Vec<CaseEntity>,
    /// Dated statements, by date.
    pub timeline: Vec<TimelineRow>,
    /// What each source says, conflicts flagged.
    pub facts: Vec<tearline_fuse::Fact>,
    /// Cases merged into this one, each by a document that bridged them.
    pub merged: Vec<tearline_store::CaseMerge>,
}

/// What recomputing every case did.
#[derive(Debug, Serialize)]
pub struct Rebuilt {
    /// Documents linked.
    pub documents: usize,
    /// Cases before.
    pub cases_before: usize,
    /// Cases after.
    pub cases_after: usize,
    /// Documents whose case changed (by membership, not number).
    pub moved: usize,
}

impl Node {
    /// Every case with its key entities and document titles, newest first.
    pub fn cases(&self) -> Result<Vec<CaseRow>> {
        let mut rows = Vec::new();
        for c in self.store.cases()? {
            let docs = self.store.case_documents(c.id)?;
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

    /// One case: documents, key entities with aliases, timeline, facts.
    pub fn case(&self, id: i64) -> Result<CaseView> {
        let docs = self.store.case_documents(id)?;
        if docs.is_empty() {
            return Err(Error::not_found(format!(
                "there is no case {id}: `tearline cases` lists them"
            )));
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
                    marking: d.doc.marking.clone(),
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
            merged: self.store.case_merges(id)?,
        })
    }

    /// Recomputes every case from the stored extractions: each document's
    /// keys, span and places again, then the documents linked in a fixed
    /// order (publication date, then id), so the result depends only on
    /// what is stored. Cases are numbered by their first document in that
    /// order. Recorded in the audit log; one transaction.
    pub fn rebuild_cases(&self, caller: &Caller) -> Result<Rebuilt> {
        caller.may_configure()?;
        let cfg = tearline_fuse::Config::default();
        let mut docs = self.store.document_features()?;
        let before: HashMap<i64, i64> = self
            .store
            .cases()?
            .iter()
            .flat_map(|c| {
                self.store
                    .case_documents(c.id)
                    .map(|ds| ds.into_iter().map(|d| (d.seq, c.id)).collect::<Vec<_>>())
                    .unwrap_or_default()
            })
            .collect();
        let cases_before = before
            .values()
            .collect::<std::collections::HashSet<_>>()
            .len();
        docs.sort_by(|a, b| {
            let day = |d: &tearline_store::DocumentFeatures| {
                d.published
                    .as_deref()
                    .and_then(crate::reading::parse_published)
            };
            day(a).cmp(&day(b)).then(a.id.cmp(&b.id))
        });
        let mut index = tearline_fuse::MemoryIndex::default();
        let mut feats = Vec::with_capacity(docs.len());
        for d in &docs {
            let entities = serde_json::from_str(&d.extraction).map_err(|e| {
                Error::internal(
                    format!("stored extraction of document {} is corrupt", d.seq),
                    e,
                )
            })?;
            let x = Extraction { entities };
            let published = d
                .published
                .as_deref()
                .and_then(crate::reading::parse_published);
            let f = tearline_fuse::features(&x, published, &cfg);
            index.add(f.clone(), &cfg);
            feats.push(f);
        }
        // Number the cases by their first document.
        let mut number: HashMap<i64, i64> = HashMap::new();
        let relinked: Vec<tearline_store::Relinked> = index
            .cases()
            .into_iter()
            .zip(docs.iter().zip(feats))
            .map(|(c, (d, f))| {
                let next = number.len() as i64 + 1;
                let case = *number.entry(c).or_insert(next);
                tearline_store::Relinked {
                    seq: d.seq,
                    keys: f.keys,
                    from_day: f.from,
                    until_day: f.until,
                    places: f.places,
                    case,
                }
            })
            .collect();
        // A document moved when the set of documents it shares a case with
        // changed.
        let groups = |pairs: &mut dyn Iterator<Item = (i64, i64)>| {
            let mut g: HashMap<i64, Vec<i64>> = HashMap::new();
            for (doc, case) in pairs {
                g.entry(case).or_default().push(doc);
            }
            let mut of: HashMap<i64, Vec<i64>> = HashMap::new();
            for mut v in g.into_values() {
                v.sort();
                for d in &v {
                    of.insert(*d, v.clone());
                }
            }
            of
        };
        let old = groups(&mut before.iter().map(|(d, c)| (*d, *c)));
        let new = groups(&mut relinked.iter().map(|r| (r.seq, r.case)));
        let moved = new.iter().filter(|(d, v)| old.get(d) != Some(v)).count();
        let out = Rebuilt {
            documents: relinked.len(),
            cases_before,
            cases_after: number.len(),
            moved,
        };
        let audit = self.entry(
            caller,
            "cases.rebuild",
            "",
            serde_json::json!({
                "documents": out.documents,
                "cases_before": out.cases_before,
                "cases_after": out.cases_after,
                "moved": out.moved,
            }),
        );
        self.store.relink(&relinked, audit)?;
        Ok(out)
    }
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
