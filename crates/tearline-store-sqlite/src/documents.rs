//! Documents, their keys and cases.

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use tearline_store::{
    CaseMerge, CaseSummary, DocumentBatch, DocumentFeatures, DocumentIndex, DocumentStore,
    KeyPosting, NewAuditEntry, NewCaseMerge, NewDocument, Relinked, StoreError, StoredDocument,
    NO_DAY,
};

use crate::{db, SqliteStore};

/// Stores a document, replacing any with the same id, and keeps the key
/// counts; the caller's transaction makes it whole or absent.
pub(crate) fn insert_document(
    tx: &Connection,
    d: &NewDocument,
    case: Option<i64>,
) -> Result<(i64, i64), StoreError> {
    // A document with the same id is replaced whole.
    let old: Option<(i64, String)> = tx
        .prepare_cached("SELECT seq, keys FROM documents WHERE id = ?1")
        .and_then(|mut st| {
            st.query_row([&d.id], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()
        })
        .map_err(db)?;
    if let Some((seq, keys)) = old {
        tx.execute("UPDATE key_df SET df = df - 1 WHERE key = ''", [])
            .map_err(db)?;
        for k in keys.split('\n').filter(|k| !k.is_empty()) {
            tx.execute("UPDATE key_df SET df = df - 1 WHERE key = ?1", [k])
                .map_err(db)?;
            tx.execute(
                "DELETE FROM doc_keys WHERE key = ?1 AND doc = ?2",
                params![k, seq],
            )
            .map_err(db)?;
        }
        tx.execute("DELETE FROM documents WHERE seq = ?1", [seq])
            .map_err(db)?;
    }
    let case_id = match case {
        Some(c) => {
            tx.execute("INSERT OR IGNORE INTO cases (id) VALUES (?1)", [c])
                .map_err(db)?;
            c
        }
        None => {
            tx.execute("INSERT INTO cases DEFAULT VALUES", [])
                .map_err(db)?;
            tx.last_insert_rowid()
        }
    };
    tx.prepare_cached(
        "INSERT INTO documents (id, source, url, title, published, lang, sha256, text, extraction, keys,
                                from_day, until_day, places, case_id, ingested_at, marking)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
    )
    .map_err(db)?
    .execute(params![
        d.id,
        d.source,
        d.url,
        d.title,
        d.published,
        d.lang,
        d.sha256,
        d.text,
        d.extraction,
        d.keys.join("\n"),
        d.from_day,
        d.until_day,
        d.places.join("\n"),
        case_id,
        d.ingested_at,
        d.marking
    ])
    .map_err(db)?;
    let seq = tx.last_insert_rowid();
    insert_keys(tx, seq, &d.keys, d.from_day, d.until_day)?;
    Ok((seq, case_id))
}

fn row_document(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredDocument> {
    let lines = |s: String| -> Vec<String> {
        s.split('\n')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    };
    Ok(StoredDocument {
        seq: r.get(0)?,
        case_id: r.get(1)?,
        doc: NewDocument {
            id: r.get(2)?,
            source: r.get(3)?,
            url: r.get(4)?,
            title: r.get(5)?,
            published: r.get(6)?,
            lang: r.get(7)?,
            sha256: r.get(8)?,
            text: r.get(9)?,
            extraction: r.get(10)?,
            keys: lines(r.get(11)?),
            from_day: r.get(12)?,
            until_day: r.get(13)?,
            places: lines(r.get(14)?),
            ingested_at: r.get(15)?,
            marking: r.get(16)?,
        },
    })
}

const DOCUMENT_COLUMNS: &str = "seq, case_id, id, source, url, title, published, lang, sha256, text, extraction, keys, from_day, until_day, places, ingested_at, marking";

// The index reads, on any connection (pooled or inside a batch).

fn document_sha(c: &Connection, id: &str) -> Result<Option<String>, StoreError> {
    c.prepare_cached("SELECT sha256 FROM documents WHERE id = ?1")
        .and_then(|mut st| st.query_row([id], |r| r.get(0)).optional())
        .map_err(db)
}

fn document_seq(c: &Connection, id: &str) -> Result<Option<i64>, StoreError> {
    c.prepare_cached("SELECT seq FROM documents WHERE id = ?1")
        .and_then(|mut st| st.query_row([id], |r| r.get(0)).optional())
        .map_err(db)
}

fn key_df(c: &Connection, key: &str) -> Result<u64, StoreError> {
    Ok(c.prepare_cached("SELECT df FROM key_df WHERE key = ?1")
        .map_err(db)?
        .query_row([key], |r| r.get::<_, i64>(0))
        .optional()
        .map_err(db)?
        .unwrap_or(0)
        .max(0) as u64)
}

fn key_postings(
    c: &Connection,
    key: &str,
    from_min: i64,
    from_max: i64,
    until_min: i64,
    limit: usize,
) -> Result<Vec<KeyPosting>, StoreError> {
    let mut st = c
        .prepare_cached(
            "SELECT k.doc, d.case_id, k.from_day, k.until_day FROM doc_keys k
             JOIN documents d ON d.seq = k.doc
             WHERE k.key = ?1 AND k.from_day BETWEEN ?2 AND ?3 AND k.until_day >= ?4
             ORDER BY k.from_day DESC, k.doc DESC LIMIT ?5",
        )
        .map_err(db)?;
    let rows = st
        .query_map(
            params![key, from_min, from_max, until_min, limit as i64],
            |r| {
                Ok(KeyPosting {
                    doc: r.get(0)?,
                    case_id: r.get(1)?,
                    from_day: r.get(2)?,
                    until_day: r.get(3)?,
                })
            },
        )
        .map_err(db)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db)
}

fn key_documents(c: &Connection, key: &str, limit: usize) -> Result<Vec<i64>, StoreError> {
    let mut st = c
        .prepare_cached("SELECT doc FROM doc_keys WHERE key = ?1 ORDER BY doc DESC LIMIT ?2")
        .map_err(db)?;
    let rows = st
        .query_map(params![key, limit as i64], |r| r.get(0))
        .map_err(db)?;
    rows.collect::<Result<Vec<_>, _>>().map_err(db)
}

fn lines(s: String) -> Vec<String> {
    s.split('\n')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect()
}

fn document_profile(c: &Connection, doc: i64) -> Result<(Vec<String>, Vec<String>), StoreError> {
    let row: Option<(String, String)> = c
        .prepare_cached("SELECT keys, places FROM documents WHERE seq = ?1")
        .map_err(db)?
        .query_row([doc], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()
        .map_err(db)?;
    Ok(row.map_or((Vec::new(), Vec::new()), |(k, p)| (lines(k), lines(p))))
}

/// Writes a document's keys (postings and counts).
fn insert_keys(
    tx: &Connection,
    seq: i64,
    keys: &[String],
    from: Option<i64>,
    until: Option<i64>,
) -> Result<(), StoreError> {
    let (from, until) = (from.unwrap_or(NO_DAY), until.unwrap_or(NO_DAY));
    let mut key_st = tx
        .prepare_cached("INSERT OR IGNORE INTO doc_keys (key, from_day, until_day, doc) VALUES (?1, ?2, ?3, ?4)")
        .map_err(db)?;
    let mut df_st = tx
        .prepare_cached("INSERT INTO key_df (key, df) VALUES (?1, 1) ON CONFLICT (key) DO UPDATE SET df = df + 1")
        .map_err(db)?;
    for k in keys {
        key_st.execute(params![k, from, until, seq]).map_err(db)?;
        df_st.execute([k]).map_err(db)?;
    }
    // The empty key counts every document: COUNT(*) would scan the table.
    df_st.execute([""]).map_err(db)?;
    Ok(())
}

pub(crate) fn merge_cases(
    tx: &Transaction<'_>,
    m: &NewCaseMerge,
    audit: NewAuditEntry,
) -> Result<(), StoreError> {
    let exists = |case: i64| -> Result<bool, StoreError> {
        tx.query_row("SELECT 1 FROM cases WHERE id = ?1", [case], |_| Ok(()))
            .optional()
            .map_err(db)
            .map(|r| r.is_some())
    };
    if !exists(m.into)? {
        return Err(StoreError::Missing(format!("there is no case {}", m.into)));
    }
    for &from in &m.from {
        if from == m.into {
            continue;
        }
        if !exists(from)? {
            return Err(StoreError::Missing(format!("there is no case {from}")));
        }
        tx.execute(
            "UPDATE documents SET case_id = ?1 WHERE case_id = ?2",
            [m.into, from],
        )
        .map_err(db)?;
        tx.execute(
            "INSERT OR REPLACE INTO case_merges (from_case, into_case, at, by_doc, shared) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![from, m.into, m.at, m.by, m.shared.join("\n")],
        )
        .map_err(db)?;
        tx.execute("DELETE FROM cases WHERE id = ?1", [from])
            .map_err(db)?;
    }
    crate::append(tx, audit)?;
    Ok(())
}

fn document_places(c: &Connection, doc: i64) -> Result<Vec<String>, StoreError> {
    let s: Option<String> = c
        .prepare_cached("SELECT places FROM documents WHERE seq = ?1")
        .map_err(db)?
        .query_row([doc], |r| r.get(0))
        .optional()
        .map_err(db)?;
    Ok(s.unwrap_or_default()
        .split('\n')
        .filter(|x| !x.is_empty())
        .map(str::to_string)
        .collect())
}

/// Implements [`DocumentIndex`] by handing a connection to the functions
/// above.
macro_rules! index_via {
    ($ty:ty, $self:ident => $conn:expr) => {
        impl DocumentIndex for $ty {
            fn document_sha(&$self, id: &str) -> Result<Option<String>, StoreError> {
                document_sha(&$conn, id)
            }
            fn document_seq(&$self, id: &str) -> Result<Option<i64>, StoreError> {
                document_seq(&$conn, id)
            }
            fn document_count(&$self) -> Result<u64, StoreError> {
                key_df(&$conn, "")
            }
            fn key_df(&$self, key: &str) -> Result<u64, StoreError> {
                key_df(&$conn, key)
            }
            fn key_postings(
                &$self,
                key: &str,
                from_min: i64,
                from_max: i64,
                until_min: i64,
                limit: usize,
            ) -> Result<Vec<KeyPosting>, StoreError> {
                key_postings(&$conn, key, from_min, from_max, until_min, limit)
            }
            fn key_documents(&$self, key: &str, limit: usize) -> Result<Vec<i64>, StoreError> {
                key_documents(&$conn, key, limit)
            }
            fn document_places(&$self, doc: i64) -> Result<Vec<String>, StoreError> {
                document_places(&$conn, doc)
            }
            fn document_profile(&$self, doc: i64) -> Result<(Vec<String>, Vec<String>), StoreError> {
                document_profile(&$conn, doc)
            }
        }
    };
}

/// A batch of documents inside one transaction.
struct Batch<'a>(&'a Transaction<'a>);

index_via!(SqliteStore, self => *self.conn()?);
index_via!(Batch<'_>, self => *self.0);

impl DocumentBatch for Batch<'_> {
    fn merge_cases(&self, merge: &NewCaseMerge, audit: NewAuditEntry) -> Result<(), StoreError> {
        merge_cases(self.0, merge, audit)
    }

    fn add_document(&self, doc: &NewDocument, case: Option<i64>) -> Result<(i64, i64), StoreError> {
        // A savepoint keeps each document whole even if the batch goes on
        // after it failed.
        self.0.execute_batch("SAVEPOINT document").map_err(db)?;
        match insert_document(self.0, doc, case) {
            Ok(out) => {
                self.0.execute_batch("RELEASE document").map_err(db)?;
                Ok(out)
            }
            Err(e) => {
                self.0
                    .execute_batch("ROLLBACK TO document; RELEASE document")
                    .map_err(db)?;
                Err(e)
            }
        }
    }
}

impl DocumentStore for SqliteStore {
    fn case_merges(&self, case: i64) -> Result<Vec<CaseMerge>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare(
                "SELECT from_case, into_case, at, by_doc, shared FROM case_merges
                 WHERE into_case = ?1 ORDER BY at, from_case",
            )
            .map_err(db)?;
        let rows = st
            .query_map([case], |r| {
                Ok(CaseMerge {
                    from: r.get(0)?,
                    into: r.get(1)?,
                    at: r.get(2)?,
                    by: r.get(3)?,
                    shared: lines(r.get(4)?),
                })
            })
            .map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn document_features(&self) -> Result<Vec<DocumentFeatures>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare("SELECT seq, id, published, lang, extraction FROM documents ORDER BY seq")
            .map_err(db)?;
        let rows = st
            .query_map([], |r| {
                Ok(DocumentFeatures {
                    seq: r.get(0)?,
                    id: r.get(1)?,
                    published: r.get(2)?,
                    lang: r.get(3)?,
                    extraction: r.get(4)?,
                })
            })
            .map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn relink(&self, docs: &[Relinked], audit: NewAuditEntry) -> Result<(), StoreError> {
        self.write(|tx| {
            let stored: i64 = tx
                .query_row("SELECT COUNT(*) FROM documents", [], |r| r.get(0))
                .map_err(db)?;
            if stored != docs.len() as i64 {
                return Err(StoreError::Conflict(format!(
                    "a recomputation of cases must list every document: {} listed, {stored} stored",
                    docs.len()
                )));
            }
            // Every document gets its new case before the commit checks
            // the references.
            tx.execute_batch(
                "PRAGMA defer_foreign_keys = ON;
                 DELETE FROM doc_keys; DELETE FROM key_df; DELETE FROM case_merges; DELETE FROM cases;",
            )
            .map_err(db)?;
            for d in docs {
                tx.execute("INSERT OR IGNORE INTO cases (id) VALUES (?1)", [d.case])
                    .map_err(db)?;
                let n = tx
                    .prepare_cached(
                        "UPDATE documents SET keys = ?2, from_day = ?3, until_day = ?4, places = ?5, case_id = ?6
                         WHERE seq = ?1",
                    )
                    .map_err(db)?
                    .execute(params![
                        d.seq,
                        d.keys.join("\n"),
                        d.from_day,
                        d.until_day,
                        d.places.join("\n"),
                        d.case
                    ])
                    .map_err(db)?;
                if n != 1 {
                    return Err(StoreError::Missing(format!("there is no document {}", d.seq)));
                }
                insert_keys(tx, d.seq, &d.keys, d.from_day, d.until_day)?;
            }
            crate::append(tx, audit)?;
            Ok(())
        })
    }

    fn documents(
        &self,
        f: &mut dyn FnMut(&dyn DocumentBatch) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        f(&Batch(&tx))?;
        tx.commit().map_err(db)
    }

    fn document(&self, seq: i64) -> Result<Option<StoredDocument>, StoreError> {
        self.conn()?
            .query_row(
                &format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE seq = ?1"),
                [seq],
                row_document,
            )
            .optional()
            .map_err(db)
    }

    fn cases(&self) -> Result<Vec<CaseSummary>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare(
                "SELECT case_id, COUNT(*), MIN(from_day), MAX(until_day) FROM documents
                 GROUP BY case_id ORDER BY MAX(seq) DESC",
            )
            .map_err(db)?;
        let rows = st
            .query_map([], |r| {
                Ok(CaseSummary {
                    id: r.get(0)?,
                    documents: r.get(1)?,
                    from_day: r.get(2)?,
                    until_day: r.get(3)?,
                })
            })
            .map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn case_documents(&self, case: i64) -> Result<Vec<StoredDocument>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare(&format!(
                "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE case_id = ?1 ORDER BY seq"
            ))
            .map_err(db)?;
        let rows = st.query_map([case], row_document).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }
}
