//! The embedded SQLite store: one file per node, no server to run.
//!
//! Each mutating call runs in one `IMMEDIATE` transaction that also appends
//! the audit entry, so a change and its record are stored together or not
//! at all. The database runs in WAL mode with `synchronous=FULL`: a call
//! that returned has reached the disk.
#![deny(missing_docs)]

use std::path::Path;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use tearline_model::{ProtectedTerm, TermKind};
use tearline_store::{
    chain, release_audit, AuditEntry, CaseSummary, DocumentStore, EnvelopeStatus, KeyPosting,
    NewAuditEntry, NewDocument, NewObject, NewRelease, NewWarning, ObjectPage, ObjectQuery,
    Partner, ReleaseRecord, Store, StoreError, StoredDocument, StoredEvent, StoredObject,
    StoredTerm, VersionMatch, WarningRecord, NO_DAY,
};
use tearline_store::{Draft, ReleaseRequest, User, WorkbenchStore};

/// The schema version: the number of migrations.
const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The schema, one step per version.
const MIGRATIONS: [&str; 6] = [
    "CREATE TABLE protected_terms (
                    key TEXT PRIMARY KEY,
                    term TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    added_at TEXT NOT NULL,
                    added_by TEXT NOT NULL
                 );
                 CREATE TABLE releases (
                    id INTEGER PRIMARY KEY,
                    released_at TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    audience TEXT NOT NULL,
                    format TEXT NOT NULL,
                    report_name TEXT NOT NULL,
                    report_title TEXT NOT NULL,
                    report_sha256 TEXT NOT NULL,
                    content_sha256 TEXT NOT NULL,
                    output TEXT
                 );
                 CREATE TABLE audit (
                    seq INTEGER PRIMARY KEY,
                    at TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    subject TEXT NOT NULL,
                    detail TEXT NOT NULL,
                    prev_hash TEXT NOT NULL,
                    hash TEXT NOT NULL
                 );
                 CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
                 CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
                    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;",
    "CREATE TABLE objects (
                    seq INTEGER PRIMARY KEY,
                    collection TEXT NOT NULL,
                    id TEXT NOT NULL,
                    type TEXT NOT NULL,
                    version TEXT NOT NULL,
                    version_key TEXT NOT NULL,
                    spec_version TEXT NOT NULL,
                    date_added TEXT NOT NULL,
                    json TEXT NOT NULL,
                    UNIQUE (collection, id, version_key)
                 );
                 CREATE INDEX objects_by_id ON objects (collection, id, version_key);
                 CREATE INDEX objects_by_seq ON objects (collection, seq);
                 CREATE TABLE statuses (
                    id TEXT PRIMARY KEY,
                    owner TEXT NOT NULL,
                    request_timestamp TEXT NOT NULL,
                    successes TEXT NOT NULL,
                    failures TEXT NOT NULL
                 );
                 CREATE TABLE partners (
                    name TEXT PRIMARY KEY,
                    audience TEXT NOT NULL,
                    password_sha256 TEXT NOT NULL,
                    token_sha256 TEXT NOT NULL UNIQUE,
                    created_at TEXT NOT NULL,
                    rotated_at TEXT NOT NULL
                 );",
    "CREATE TABLE warnings (
                    id INTEGER PRIMARY KEY REFERENCES releases (id),
                    report_id TEXT NOT NULL,
                    audience TEXT NOT NULL,
                    title TEXT NOT NULL,
                    valid_from TEXT,
                    valid_until TEXT NOT NULL
                 );
                 CREATE INDEX warnings_by_report ON warnings (report_id, audience);
                 CREATE TABLE warning_events (
                    seq INTEGER PRIMARY KEY,
                    warning INTEGER NOT NULL REFERENCES warnings (id),
                    at TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    event TEXT NOT NULL
                 );
                 CREATE INDEX warning_events_by_warning ON warning_events (warning, seq);",
    "CREATE TABLE cursors (key TEXT PRIMARY KEY, value TEXT NOT NULL);",
    "CREATE TABLE cases (id INTEGER PRIMARY KEY);
                 CREATE TABLE documents (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    source TEXT NOT NULL,
                    url TEXT,
                    title TEXT NOT NULL,
                    published TEXT,
                    lang TEXT,
                    sha256 TEXT NOT NULL,
                    text TEXT NOT NULL,
                    extraction TEXT NOT NULL,
                    keys TEXT NOT NULL,
                    from_day INTEGER,
                    until_day INTEGER,
                    places TEXT NOT NULL,
                    case_id INTEGER NOT NULL REFERENCES cases (id),
                    ingested_at TEXT NOT NULL
                 );
                 CREATE INDEX documents_by_case ON documents (case_id, seq);
                 CREATE TABLE doc_keys (
                    key TEXT NOT NULL,
                    from_day INTEGER NOT NULL,
                    until_day INTEGER NOT NULL,
                    doc INTEGER NOT NULL,
                    case_id INTEGER NOT NULL,
                    PRIMARY KEY (key, from_day, doc)
                 ) WITHOUT ROWID;
                 CREATE INDEX doc_keys_by_doc ON doc_keys (key, doc);
                 CREATE TABLE key_df (key TEXT PRIMARY KEY, df INTEGER NOT NULL) WITHOUT ROWID;",
    "CREATE TABLE users (
                    name TEXT PRIMARY KEY,
                    role TEXT NOT NULL,
                    password_hash TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL
                 );
                 CREATE TABLE drafts (
                    id INTEGER PRIMARY KEY,
                    title TEXT NOT NULL,
                    body TEXT NOT NULL,
                    author TEXT NOT NULL,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    updated_by TEXT NOT NULL
                 );
                 CREATE TABLE release_requests (
                    id INTEGER PRIMARY KEY,
                    draft_id INTEGER,
                    body TEXT NOT NULL,
                    report_sha256 TEXT NOT NULL,
                    audience TEXT NOT NULL,
                    requested_by TEXT NOT NULL,
                    requested_at TEXT NOT NULL,
                    state TEXT NOT NULL,
                    decided_by TEXT,
                    decided_at TEXT,
                    note TEXT,
                    release_id INTEGER
                 );
                 CREATE TABLE partner_contact (name TEXT PRIMARY KEY, last_seen TEXT NOT NULL);",
];

/// A node's SQLite database.
pub struct SqliteStore {
    conn: Connection,
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let conn = Connection::open(path).map_err(db)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(db)?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
        let mut s = SqliteStore { conn };
        s.migrate()?;
        Ok(s)
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let v: i64 = self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .map_err(db)?;
        if v > SCHEMA_VERSION {
            return Err(StoreError::Corrupt(format!(
                "database schema version {v} is newer than this Tearline understands ({SCHEMA_VERSION})"
            )));
        }
        // Each migration runs in its own transaction with its version.
        for (i, sql) in MIGRATIONS.iter().enumerate() {
            let version = i as i64 + 1;
            if v < version {
                let tx = self
                    .conn
                    .transaction_with_behavior(TransactionBehavior::Immediate)
                    .map_err(db)?;
                tx.execute_batch(sql).map_err(db)?;
                tx.pragma_update(None, "user_version", version)
                    .map_err(db)?;
                tx.commit().map_err(db)?;
            }
        }
        Ok(())
    }

    /// Runs one statement; when it changed a row, appends the audit entry
    /// in the same transaction. Returns whether anything changed.
    fn change_audited(
        &mut self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let tx = self.write()?;
        let n = tx.execute(sql, args).map_err(db)?;
        if n == 0 {
            return Ok(false);
        }
        append(&tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(true)
    }

    fn write(&mut self) -> Result<Transaction<'_>, StoreError> {
        self.conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)
    }
}

fn last_entry(tx: &Transaction<'_>) -> Result<Option<AuditEntry>, StoreError> {
    tx.query_row(
        "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit ORDER BY seq DESC LIMIT 1",
        [],
        row_entry,
    )
    .optional()
    .map_err(db)
}

fn row_entry(r: &rusqlite::Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: r.get(0)?,
        entry: NewAuditEntry {
            at: r.get(1)?,
            actor: r.get(2)?,
            action: r.get(3)?,
            subject: r.get(4)?,
            detail: r.get(5)?,
        },
        prev_hash: r.get(6)?,
        hash: r.get(7)?,
    })
}

fn append(tx: &Transaction<'_>, e: NewAuditEntry) -> Result<AuditEntry, StoreError> {
    let prev = last_entry(tx)?;
    let a = chain(prev.as_ref(), e);
    tx.execute(
        "INSERT INTO audit (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![a.seq, a.entry.at, a.entry.actor, a.entry.action, a.entry.subject, a.entry.detail, a.prev_hash, a.hash],
    )
    .map_err(db)?;
    Ok(a)
}

/// A timestamp in one fixed form (UTC, microseconds), so that text order is
/// time order. Text that is not a timestamp is kept as it is.
pub fn timestamp_key(t: &str) -> String {
    match chrono::DateTime::parse_from_rfc3339(t) {
        Ok(d) => d
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string(),
        Err(_) => t.to_string(),
    }
}

/// Stores objects not already in the collection, in order, each with a
/// `date_added` unique and increasing within the collection (`now`, or one
/// microsecond after the collection's last, whichever is later). Returns
/// `(id, version)` of each, stored or already there.
fn insert_objects(
    tx: &Transaction<'_>,
    collection: &str,
    objects: &[NewObject],
    now: &str,
) -> Result<Vec<(String, String)>, StoreError> {
    let last: Option<String> = tx
        .prepare_cached(
            "SELECT date_added FROM objects WHERE collection = ?1 ORDER BY seq DESC LIMIT 1",
        )
        .and_then(|mut st| st.query_row([collection], |r| r.get(0)).optional())
        .map_err(db)?;
    let now = chrono::DateTime::parse_from_rfc3339(now)
        .map_err(|e| StoreError::Conflict(format!("bad timestamp `{now}`: {e}")))?
        .with_timezone(&chrono::Utc);
    let mut next = match last.and_then(|l| chrono::DateTime::parse_from_rfc3339(&l).ok()) {
        Some(l) if l.with_timezone(&chrono::Utc) >= now => {
            l.with_timezone(&chrono::Utc) + chrono::Duration::microseconds(1)
        }
        _ => now,
    };
    let mut insert = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO objects (collection, id, type, version, version_key, spec_version, date_added, json)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )
        .map_err(db)?;
    let mut done = Vec::with_capacity(objects.len());
    for o in objects {
        let added = next.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        let n = insert
            .execute(params![
                collection,
                o.id,
                o.object_type,
                o.version,
                timestamp_key(&o.version),
                o.spec_version,
                added,
                o.json
            ])
            .map_err(db)?;
        if n == 1 {
            next += chrono::Duration::microseconds(1);
        }
        done.push((o.id.clone(), o.version.clone()));
    }
    Ok(done)
}

fn save_status(tx: &Transaction<'_>, st: &EnvelopeStatus) -> Result<(), StoreError> {
    let json = |v: &Vec<(String, String)>| serde_json::to_string(v).unwrap_or_else(|_| "[]".into());
    tx.execute(
        "INSERT INTO statuses (id, owner, request_timestamp, successes, failures) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![st.id, st.owner, st.request_timestamp, json(&st.successes), json(&st.failures)],
    )
    .map_err(db)?;
    Ok(())
}

fn row_object(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredObject> {
    Ok(StoredObject {
        seq: r.get(0)?,
        object: NewObject {
            id: r.get(1)?,
            object_type: r.get(2)?,
            version: r.get(3)?,
            spec_version: r.get(4)?,
            json: r.get(6)?,
        },
        date_added: r.get(5)?,
    })
}

fn row_partner(r: &rusqlite::Row<'_>) -> rusqlite::Result<Partner> {
    Ok(Partner {
        name: r.get(0)?,
        audience: r.get(1)?,
        password_sha256: r.get(2)?,
        token_sha256: r.get(3)?,
        created_at: r.get(4)?,
        rotated_at: r.get(5)?,
    })
}

fn insert_release(
    tx: &Transaction<'_>,
    release: &NewRelease,
    actor: &str,
    at: &str,
) -> Result<ReleaseRecord, StoreError> {
    tx.execute(
        "INSERT INTO releases (released_at, actor, audience, format, report_name, report_title, report_sha256, content_sha256, output)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            at,
            actor,
            release.audience,
            release.format,
            release.report_name,
            release.report_title,
            release.report_sha256,
            release.content_sha256,
            release.output
        ],
    )
    .map_err(db)?;
    Ok(ReleaseRecord {
        id: tx.last_insert_rowid(),
        released_at: at.to_string(),
        actor: actor.to_string(),
        release: release.clone(),
    })
}

fn set_cursor(tx: &Transaction<'_>, key: &str, value: &str) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO cursors (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        params![key, value],
    )
    .map_err(db)?;
    Ok(())
}

fn insert_event(tx: &Transaction<'_>, warning: i64, e: &StoredEvent) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO warning_events (warning, at, actor, event) VALUES (?1, ?2, ?3, ?4)",
        params![warning, e.at, e.actor, e.event],
    )
    .map_err(db)?;
    Ok(())
}

fn event_audit(warning: i64, e: &StoredEvent) -> NewAuditEntry {
    NewAuditEntry {
        at: e.at.clone(),
        actor: e.actor.clone(),
        action: "warning.event".into(),
        subject: format!("warning {warning}"),
        detail: e.event.clone(),
    }
}

fn load_warnings(
    conn: &Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<WarningRecord>, StoreError> {
    let sql = format!("SELECT id, report_id, audience, title, valid_from, valid_until FROM warnings {filter} ORDER BY id DESC");
    let mut st = conn.prepare(&sql).map_err(db)?;
    let rows = st
        .query_map(args, |r| {
            Ok(WarningRecord {
                id: r.get(0)?,
                warning: NewWarning {
                    report_id: r.get(1)?,
                    audience: r.get(2)?,
                    title: r.get(3)?,
                    valid_from: r.get(4)?,
                    valid_until: r.get(5)?,
                },
                events: Vec::new(),
            })
        })
        .map_err(db)?;
    let mut out = rows.collect::<Result<Vec<_>, _>>().map_err(db)?;
    let mut ev = conn
        .prepare("SELECT at, actor, event FROM warning_events WHERE warning = ?1 ORDER BY seq")
        .map_err(db)?;
    for w in &mut out {
        let rows = ev
            .query_map([w.id], |r| {
                Ok(StoredEvent {
                    at: r.get(0)?,
                    actor: r.get(1)?,
                    event: r.get(2)?,
                })
            })
            .map_err(db)?;
        w.events = rows.collect::<Result<Vec<_>, _>>().map_err(db)?;
    }
    Ok(out)
}

impl Store for SqliteStore {
    fn protect_add(
        &mut self,
        term: &ProtectedTerm,
        key: &str,
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let tx = self.write()?;
        let exists: bool = tx
            .query_row(
                "SELECT 1 FROM protected_terms WHERE key = ?1",
                [key],
                |_| Ok(true),
            )
            .optional()
            .map_err(db)?
            .unwrap_or(false);
        if exists {
            return Ok(false);
        }
        tx.execute(
            "INSERT INTO protected_terms (key, term, kind, added_at, added_by) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![key, term.term, term.kind.name(), audit.at, audit.actor],
        )
        .map_err(db)?;
        append(&tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(true)
    }

    fn protect_remove(&mut self, key: &str, audit: NewAuditEntry) -> Result<bool, StoreError> {
        self.change_audited("DELETE FROM protected_terms WHERE key = ?1", &[&key], audit)
    }

    fn protected_terms(&self) -> Result<Vec<StoredTerm>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT term, kind, added_at, added_by FROM protected_terms ORDER BY rowid")
            .map_err(db)?;
        let rows = st
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get(2)?,
                    r.get(3)?,
                ))
            })
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (term, kind, added_at, added_by) = row.map_err(db)?;
            let kind: TermKind = kind.parse().map_err(|e: String| {
                StoreError::Corrupt(format!("protected term `{term}`: {e}"))
            })?;
            out.push(StoredTerm {
                term: ProtectedTerm { term, kind },
                added_at,
                added_by,
            });
        }
        Ok(out)
    }

    fn record_release(
        &mut self,
        release: &NewRelease,
        actor: &str,
        at: &str,
    ) -> Result<ReleaseRecord, StoreError> {
        let tx = self.write()?;
        let rec = insert_release(&tx, release, actor, at)?;
        append(&tx, release_audit(&rec))?;
        tx.commit().map_err(db)?;
        Ok(rec)
    }

    fn releases(&self) -> Result<Vec<ReleaseRecord>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT id, released_at, actor, audience, format, report_name, report_title, report_sha256, content_sha256, output
                 FROM releases ORDER BY id",
            )
            .map_err(db)?;
        let rows = st
            .query_map([], |r| {
                Ok(ReleaseRecord {
                    id: r.get(0)?,
                    released_at: r.get(1)?,
                    actor: r.get(2)?,
                    release: NewRelease {
                        audience: r.get(3)?,
                        format: r.get(4)?,
                        report_name: r.get(5)?,
                        report_title: r.get(6)?,
                        report_sha256: r.get(7)?,
                        content_sha256: r.get(8)?,
                        output: r.get(9)?,
                    },
                })
            })
            .map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn audit(&mut self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        let tx = self.write()?;
        let a = append(&tx, entry)?;
        tx.commit().map_err(db)?;
        Ok(a)
    }

    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit ORDER BY seq")
            .map_err(db)?;
        let rows = st.query_map([], row_entry).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn record_release_published(
        &mut self,
        release: &NewRelease,
        actor: &str,
        at: &str,
        collection: &str,
        objects: &[NewObject],
        warning: Option<(&NewWarning, &StoredEvent)>,
    ) -> Result<ReleaseRecord, StoreError> {
        let tx = self.write()?;
        let rec = insert_release(&tx, release, actor, at)?;
        insert_objects(&tx, collection, objects, at)?;
        append(&tx, release_audit(&rec))?;
        if let Some((w, issued)) = warning {
            tx.execute(
                "INSERT INTO warnings (id, report_id, audience, title, valid_from, valid_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![rec.id, w.report_id, w.audience, w.title, w.valid_from, w.valid_until],
            )
            .map_err(db)?;
            insert_event(&tx, rec.id, issued)?;
            append(&tx, event_audit(rec.id, issued))?;
        }
        tx.commit().map_err(db)?;
        Ok(rec)
    }

    fn add_objects(
        &mut self,
        collection: &str,
        objects: &[NewObject],
        status: &mut EnvelopeStatus,
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        let done = insert_objects(&tx, collection, objects, &status.request_timestamp)?;
        status.successes.extend(done);
        save_status(&tx, status)?;
        tx.commit().map_err(db)
    }

    fn objects(&self, collection: &str, q: &ObjectQuery) -> Result<ObjectPage, StoreError> {
        let mut sql = String::from(
            "SELECT seq, id, type, version, spec_version, date_added, json FROM objects o WHERE collection = ?",
        );
        let mut args: Vec<String> = vec![collection.to_string()];
        if let Some(a) = &q.added_after {
            sql.push_str(" AND date_added > ?");
            args.push(timestamp_key(a));
        }
        if let Some(s) = q.after_seq {
            sql.push_str(&format!(" AND seq > {s}"));
        }
        let mut any_of = |col: &str, vals: &[String], key: bool| {
            if vals.is_empty() {
                return;
            }
            sql.push_str(&format!(
                " AND {col} IN ({})",
                vec!["?"; vals.len()].join(", ")
            ));
            args.extend(
                vals.iter()
                    .map(|v| if key { timestamp_key(v) } else { v.clone() }),
            );
        };
        any_of("id", &q.ids, false);
        any_of("type", &q.types, false);
        any_of("spec_version", &q.spec_versions, false);
        match &q.versions {
            VersionMatch::All => {}
            VersionMatch::Last => sql.push_str(
                " AND version_key = (SELECT max(version_key) FROM objects o2 WHERE o2.collection = o.collection AND o2.id = o.id)",
            ),
            VersionMatch::First => sql.push_str(
                " AND version_key = (SELECT min(version_key) FROM objects o2 WHERE o2.collection = o.collection AND o2.id = o.id)",
            ),
            VersionMatch::Exact(v) => any_of("version_key", v, true),
        }
        sql.push_str(&format!(
            " ORDER BY seq LIMIT {}",
            q.limit.saturating_add(1)
        ));
        let mut st = self.conn.prepare_cached(&sql).map_err(db)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(args.iter()), row_object)
            .map_err(db)?;
        let mut objects = rows.collect::<Result<Vec<_>, _>>().map_err(db)?;
        let more = objects.len() > q.limit;
        objects.truncate(q.limit);
        Ok(ObjectPage { objects, more })
    }

    fn delete_object(
        &mut self,
        collection: &str,
        id: &str,
        versions: &[String],
        audit: NewAuditEntry,
    ) -> Result<usize, StoreError> {
        let tx = self.write()?;
        let n = if versions.is_empty() {
            tx.execute(
                "DELETE FROM objects WHERE collection = ?1 AND id = ?2",
                params![collection, id],
            )
            .map_err(db)?
        } else {
            let mut n = 0;
            for v in versions {
                n += tx
                    .execute(
                        "DELETE FROM objects WHERE collection = ?1 AND id = ?2 AND version_key = ?3",
                        params![collection, id, timestamp_key(v)],
                    )
                    .map_err(db)?;
            }
            n
        };
        if n > 0 {
            append(&tx, audit)?;
        }
        tx.commit().map_err(db)?;
        Ok(n)
    }

    fn status(&self, id: &str) -> Result<Option<EnvelopeStatus>, StoreError> {
        let row = self
            .conn
            .query_row(
                "SELECT id, owner, request_timestamp, successes, failures FROM statuses WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get::<_, String>(3)?, r.get::<_, String>(4)?)),
            )
            .optional()
            .map_err(db)?;
        let Some((id, owner, request_timestamp, ok, bad)) = row else {
            return Ok(None);
        };
        let parse = |s: &str| -> Result<Vec<(String, String)>, StoreError> {
            serde_json::from_str(s).map_err(|e| StoreError::Corrupt(format!("status {id}: {e}")))
        };
        Ok(Some(EnvelopeStatus {
            successes: parse(&ok)?,
            failures: parse(&bad)?,
            id,
            owner,
            request_timestamp,
        }))
    }

    fn partner_add(&mut self, p: &Partner, audit: NewAuditEntry) -> Result<(), StoreError> {
        let tx = self.write()?;
        let exists = tx
            .query_row("SELECT 1 FROM partners WHERE name = ?1", [&p.name], |_| {
                Ok(())
            })
            .optional()
            .map_err(db)?
            .is_some();
        if exists {
            return Err(StoreError::Conflict(format!(
                "partner `{}` already exists",
                p.name
            )));
        }
        tx.execute(
            "INSERT INTO partners (name, audience, password_sha256, token_sha256, created_at, rotated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![p.name, p.audience, p.password_sha256, p.token_sha256, p.created_at, p.rotated_at],
        )
        .map_err(db)?;
        append(&tx, audit)?;
        tx.commit().map_err(db)
    }

    fn partner_rotate(
        &mut self,
        name: &str,
        password_sha256: &str,
        token_sha256: &str,
        at: &str,
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError> {
        self.change_audited(
            "UPDATE partners SET password_sha256 = ?2, token_sha256 = ?3, rotated_at = ?4 WHERE name = ?1",
            &[&name, &password_sha256, &token_sha256, &at],
            audit,
        )
    }

    fn partner_remove(&mut self, name: &str, audit: NewAuditEntry) -> Result<bool, StoreError> {
        self.change_audited("DELETE FROM partners WHERE name = ?1", &[&name], audit)
    }

    fn warning_event(
        &mut self,
        warning: i64,
        event: &StoredEvent,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        insert_event(&tx, warning, event)?;
        append(&tx, audit)?;
        tx.commit().map_err(db)
    }

    fn warnings(&self) -> Result<Vec<WarningRecord>, StoreError> {
        load_warnings(&self.conn, "", &[])
    }

    fn warning(&self, id: i64) -> Result<Option<WarningRecord>, StoreError> {
        Ok(load_warnings(&self.conn, "WHERE id = ?1", &[&id])?
            .into_iter()
            .next())
    }

    fn warning_for_report(
        &self,
        report_id: &str,
        audience: &str,
    ) -> Result<Option<WarningRecord>, StoreError> {
        Ok(load_warnings(
            &self.conn,
            "WHERE report_id = ?1 AND audience = ?2",
            &[&report_id, &audience],
        )?
        .into_iter()
        .next())
    }

    fn cursor(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM cursors WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)
    }

    fn add_pulled(
        &mut self,
        collection: &str,
        objects: &[NewObject],
        at: &str,
        cursor_key: &str,
        cursor: Option<&str>,
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        insert_objects(&tx, collection, objects, at)?;
        if let Some(c) = cursor {
            set_cursor(&tx, cursor_key, c)?;
        }
        tx.commit().map_err(db)
    }

    fn add_local(
        &mut self,
        collection: &str,
        objects: &[NewObject],
        at: &str,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        let tx = self.write()?;
        insert_objects(&tx, collection, objects, at)?;
        append(&tx, audit)?;
        tx.commit().map_err(db)
    }

    fn set_cursor(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        let tx = self.write()?;
        set_cursor(&tx, key, value)?;
        tx.commit().map_err(db)
    }

    fn partners(&self) -> Result<Vec<Partner>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT name, audience, password_sha256, token_sha256, created_at, rotated_at FROM partners ORDER BY name")
            .map_err(db)?;
        let rows = st.query_map([], row_partner).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }
}

fn insert_document(
    tx: &Connection,
    d: &NewDocument,
    case: Option<i64>,
) -> Result<(i64, i64), StoreError> {
    // A document with the same id is replaced whole.
    let old: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, keys FROM documents WHERE id = ?1",
            [&d.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
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
                                from_day, until_day, places, case_id, ingested_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
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
        d.ingested_at
    ])
    .map_err(db)?;
    let seq = tx.last_insert_rowid();
    let (from, until) = (d.from_day.unwrap_or(NO_DAY), d.until_day.unwrap_or(NO_DAY));
    let mut key_st = tx
        .prepare_cached("INSERT OR IGNORE INTO doc_keys (key, from_day, until_day, doc, case_id) VALUES (?1, ?2, ?3, ?4, ?5)")
        .map_err(db)?;
    let mut df_st = tx
        .prepare_cached("INSERT INTO key_df (key, df) VALUES (?1, 1) ON CONFLICT (key) DO UPDATE SET df = df + 1")
        .map_err(db)?;
    for k in &d.keys {
        key_st
            .execute(params![k, from, until, seq, case_id])
            .map_err(db)?;
        df_st.execute([k]).map_err(db)?;
    }
    // The empty key counts every document: COUNT(*) would scan the table.
    df_st.execute([""]).map_err(db)?;
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
        },
    })
}

const DOCUMENT_COLUMNS: &str = "seq, case_id, id, source, url, title, published, lang, sha256, text, extraction, keys, from_day, until_day, places, ingested_at";

impl DocumentStore for SqliteStore {
    fn document_sha(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT sha256 FROM documents WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)
    }

    fn add_document(
        &mut self,
        doc: &NewDocument,
        case: Option<i64>,
    ) -> Result<(i64, i64), StoreError> {
        if self.conn.is_autocommit() {
            let tx = self.write()?;
            let out = insert_document(&tx, doc, case)?;
            tx.commit().map_err(db)?;
            return Ok(out);
        }
        // Inside a batch: the document is still whole or absent.
        let sp = self.conn.savepoint().map_err(db)?;
        let out = insert_document(&sp, doc, case)?;
        sp.commit().map_err(db)?;
        Ok(out)
    }

    fn begin_documents(&mut self) -> Result<(), StoreError> {
        if self.conn.is_autocommit() {
            self.conn.execute_batch("BEGIN IMMEDIATE").map_err(db)?;
        }
        Ok(())
    }

    fn commit_documents(&mut self) -> Result<(), StoreError> {
        if !self.conn.is_autocommit() {
            self.conn.execute_batch("COMMIT").map_err(db)?;
        }
        Ok(())
    }

    fn add_documents(&mut self, docs: &[(NewDocument, i64)]) -> Result<(), StoreError> {
        let tx = self.write()?;
        for (d, case) in docs {
            insert_document(&tx, d, Some(*case))?;
        }
        tx.commit().map_err(db)
    }

    fn document_count(&self) -> Result<u64, StoreError> {
        self.key_df("")
    }

    fn key_df(&self, key: &str) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .prepare_cached("SELECT df FROM key_df WHERE key = ?1")
            .map_err(db)?
            .query_row([key], |r| r.get::<_, i64>(0))
            .optional()
            .map_err(db)?
            .unwrap_or(0)
            .max(0) as u64)
    }

    fn key_postings(
        &self,
        key: &str,
        from_min: i64,
        from_max: i64,
        until_min: i64,
        limit: usize,
    ) -> Result<Vec<KeyPosting>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached(
                "SELECT doc, case_id, from_day, until_day FROM doc_keys
                 WHERE key = ?1 AND from_day BETWEEN ?2 AND ?3 AND until_day >= ?4
                 ORDER BY from_day DESC LIMIT ?5",
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

    fn key_documents(&self, key: &str, limit: usize) -> Result<Vec<i64>, StoreError> {
        let mut st = self
            .conn
            .prepare_cached("SELECT doc FROM doc_keys WHERE key = ?1 ORDER BY doc DESC LIMIT ?2")
            .map_err(db)?;
        let rows = st
            .query_map(params![key, limit as i64], |r| r.get(0))
            .map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn document_places(&self, doc: i64) -> Result<Vec<String>, StoreError> {
        let s: Option<String> = self
            .conn
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

    fn document(&self, seq: i64) -> Result<Option<StoredDocument>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {DOCUMENT_COLUMNS} FROM documents WHERE seq = ?1"),
                [seq],
                row_document,
            )
            .optional()
            .map_err(db)
    }

    fn cases(&self) -> Result<Vec<CaseSummary>, StoreError> {
        let mut st = self
            .conn
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
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {DOCUMENT_COLUMNS} FROM documents WHERE case_id = ?1 ORDER BY seq"
            ))
            .map_err(db)?;
        let rows = st.query_map([case], row_document).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }
}

fn row_user(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        name: r.get(0)?,
        role: r.get(1)?,
        password_hash: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
    })
}

fn row_draft(r: &rusqlite::Row<'_>) -> rusqlite::Result<Draft> {
    Ok(Draft {
        id: r.get(0)?,
        title: r.get(1)?,
        body: r.get(2)?,
        author: r.get(3)?,
        created_at: r.get(4)?,
        updated_at: r.get(5)?,
        updated_by: r.get(6)?,
    })
}

const REQUEST_COLUMNS: &str = "id, draft_id, body, report_sha256, audience, requested_by, requested_at, state, decided_by, decided_at, note, release_id";

fn row_request(r: &rusqlite::Row<'_>) -> rusqlite::Result<ReleaseRequest> {
    Ok(ReleaseRequest {
        id: r.get(0)?,
        draft_id: r.get(1)?,
        body: r.get(2)?,
        report_sha256: r.get(3)?,
        audience: r.get(4)?,
        requested_by: r.get(5)?,
        requested_at: r.get(6)?,
        state: r.get(7)?,
        decided_by: r.get(8)?,
        decided_at: r.get(9)?,
        note: r.get(10)?,
        release_id: r.get(11)?,
    })
}

impl WorkbenchStore for SqliteStore {
    fn user_add(&mut self, u: &User, audit: NewAuditEntry) -> Result<(), StoreError> {
        let tx = self.write()?;
        let n = tx
            .execute(
                "INSERT INTO users (name, role, password_hash, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (name) DO NOTHING",
                params![u.name, u.role, u.password_hash, u.created_at, u.updated_at],
            )
            .map_err(db)?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "user `{}` already exists",
                u.name
            )));
        }
        append(&tx, audit)?;
        tx.commit().map_err(db)
    }

    fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.conn
            .query_row(
                "SELECT name, role, password_hash, created_at, updated_at FROM users WHERE name = ?1",
                [name],
                row_user,
            )
            .optional()
            .map_err(db)
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        let mut st = self
            .conn
            .prepare(
                "SELECT name, role, password_hash, created_at, updated_at FROM users ORDER BY name",
            )
            .map_err(db)?;
        let rows = st.query_map([], row_user).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn user_update(
        &mut self,
        name: &str,
        role: &str,
        password_hash: &str,
        at: &str,
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError> {
        self.change_audited(
            "UPDATE users SET role = ?2, password_hash = ?3, updated_at = ?4 WHERE name = ?1",
            &[&name, &role, &password_hash, &at],
            audit,
        )
    }

    fn user_remove(&mut self, name: &str, audit: NewAuditEntry) -> Result<bool, StoreError> {
        self.change_audited("DELETE FROM users WHERE name = ?1", &[&name], audit)
    }

    fn draft_save(
        &mut self,
        id: Option<i64>,
        title: &str,
        body: &str,
        by: &str,
        at: &str,
        mut audit: NewAuditEntry,
    ) -> Result<i64, StoreError> {
        let tx = self.write()?;
        let id = match id {
            Some(id) => {
                let n = tx
                    .execute(
                        "UPDATE drafts SET title = ?2, body = ?3, updated_at = ?4, updated_by = ?5 WHERE id = ?1",
                        params![id, title, body, at, by],
                    )
                    .map_err(db)?;
                if n == 0 {
                    return Err(StoreError::Conflict(format!("there is no draft {id}")));
                }
                id
            }
            None => {
                tx.execute(
                    "INSERT INTO drafts (title, body, author, created_at, updated_at, updated_by) VALUES (?1, ?2, ?3, ?4, ?4, ?3)",
                    params![title, body, by, at],
                )
                .map_err(db)?;
                tx.last_insert_rowid()
            }
        };
        if audit.subject.is_empty() {
            audit.subject = format!("draft {id}");
        }
        append(&tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(id)
    }

    fn draft(&self, id: i64) -> Result<Option<Draft>, StoreError> {
        self.conn
            .query_row(
                "SELECT id, title, body, author, created_at, updated_at, updated_by FROM drafts WHERE id = ?1",
                [id],
                row_draft,
            )
            .optional()
            .map_err(db)
    }

    fn drafts(&self) -> Result<Vec<Draft>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT id, title, body, author, created_at, updated_at, updated_by FROM drafts ORDER BY updated_at DESC, id DESC")
            .map_err(db)?;
        let rows = st.query_map([], row_draft).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn request_add(
        &mut self,
        r: &ReleaseRequest,
        mut audit: NewAuditEntry,
    ) -> Result<i64, StoreError> {
        let tx = self.write()?;
        tx.execute(
            "INSERT INTO release_requests (draft_id, body, report_sha256, audience, requested_by, requested_at, state) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')",
            params![r.draft_id, r.body, r.report_sha256, r.audience, r.requested_by, r.requested_at],
        )
        .map_err(db)?;
        let id = tx.last_insert_rowid();
        if audit.subject.is_empty() {
            audit.subject = format!("request {id}");
        }
        append(&tx, audit)?;
        tx.commit().map_err(db)?;
        Ok(id)
    }

    fn request(&self, id: i64) -> Result<Option<ReleaseRequest>, StoreError> {
        self.conn
            .query_row(
                &format!("SELECT {REQUEST_COLUMNS} FROM release_requests WHERE id = ?1"),
                [id],
                row_request,
            )
            .optional()
            .map_err(db)
    }

    fn requests(&self) -> Result<Vec<ReleaseRequest>, StoreError> {
        let mut st = self
            .conn
            .prepare(&format!(
                "SELECT {REQUEST_COLUMNS} FROM release_requests ORDER BY id DESC"
            ))
            .map_err(db)?;
        let rows = st.query_map([], row_request).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn request_move(
        &mut self,
        id: i64,
        from: &str,
        to: &str,
        by: &str,
        at: &str,
        note: Option<&str>,
        release_id: Option<i64>,
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError> {
        self.change_audited(
            "UPDATE release_requests SET state = ?3, decided_by = COALESCE(decided_by, ?4), decided_at = COALESCE(decided_at, ?5), note = COALESCE(?6, note), release_id = COALESCE(?7, release_id) WHERE id = ?1 AND state = ?2",
            &[&id, &from, &to, &by, &at, &note, &release_id],
            audit,
        )
    }

    fn partner_seen(&mut self, name: &str, at: &str) -> Result<(), StoreError> {
        self.conn
            .execute(
                "INSERT INTO partner_contact (name, last_seen) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen)",
                params![name, at],
            )
            .map_err(db)?;
        Ok(())
    }

    fn partners_seen(&self) -> Result<Vec<(String, String)>, StoreError> {
        let mut st = self
            .conn
            .prepare("SELECT name, last_seen FROM partner_contact ORDER BY name")
            .map_err(db)?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tearline_store::verify_chain;

    fn entry(action: &str) -> NewAuditEntry {
        NewAuditEntry {
            at: "2026-01-01T00:00:00Z".into(),
            actor: "t".into(),
            action: action.into(),
            subject: "x".into(),
            detail: "{}".into(),
        }
    }

    #[test]
    fn terms_releases_and_audit_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut s = SqliteStore::open(&path).unwrap();
        let t = ProtectedTerm {
            term: "SAPPHIRE".into(),
            kind: TermKind::Source,
        };
        assert!(s.protect_add(&t, "sapphire", entry("protect.add")).unwrap());
        assert!(!s.protect_add(&t, "sapphire", entry("protect.add")).unwrap());
        let rel = NewRelease {
            audience: "public".into(),
            format: "md".into(),
            report_name: "r.md".into(),
            report_title: "T".into(),
            report_sha256: "aa".into(),
            content_sha256: "bb".into(),
            output: None,
        };
        let rec = s.record_release(&rel, "t", "2026-01-01T00:00:01Z").unwrap();
        assert_eq!(rec.id, 1);
        drop(s);
        let s = SqliteStore::open(&path).unwrap();
        assert_eq!(s.protected_terms().unwrap()[0].term, t);
        assert_eq!(s.releases().unwrap(), vec![rec]);
        let log = s.audit_log().unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(verify_chain(&log, None), Ok(2));
    }

    #[test]
    fn audit_rows_cannot_be_updated_through_sql_and_edits_are_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let mut s = SqliteStore::open(&path).unwrap();
        s.audit(entry("one")).unwrap();
        s.audit(entry("two")).unwrap();
        assert!(s
            .conn
            .execute("UPDATE audit SET actor = 'm' WHERE seq = 1", [])
            .is_err());
        // Someone who drops the trigger can edit the row; the chain shows it.
        s.conn
            .execute_batch(
                "DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'm' WHERE seq = 1;",
            )
            .unwrap();
        assert_eq!(
            verify_chain(&s.audit_log().unwrap(), None).unwrap_err().seq,
            1
        );
    }
}

#[cfg(test)]
mod document_tests {
    use super::*;

    fn doc(id: &str, text: &str, keys: &[&str], day: i64) -> NewDocument {
        NewDocument {
            id: id.into(),
            source: "t".into(),
            url: None,
            title: id.into(),
            published: Some("2024-03-23".into()),
            lang: None,
            sha256: format!("{:x}", text.len()),
            text: text.into(),
            extraction: "[]".into(),
            keys: keys.iter().map(|k| k.to_string()).collect(),
            from_day: Some(day),
            until_day: Some(day + 1),
            places: vec!["city:1".into(), "country:RU".into()],
            ingested_at: "2026-01-01T00:00:00Z".into(),
        }
    }

    #[test]
    fn documents_keys_and_cases() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = SqliteStore::open(&dir.path().join("t.db")).unwrap();
        let (a, case_a) = s
            .add_document(&doc("a", "x", &["group:is", "city:1"], 100), None)
            .unwrap();
        let (_, case_b) = s
            .add_document(&doc("b", "yy", &["group:is"], 130), Some(case_a))
            .unwrap();
        assert_eq!(case_a, case_b);
        let (_, case_c) = s
            .add_document(&doc("c", "zzz", &["city:1"], 500), None)
            .unwrap();
        assert_ne!(case_c, case_a);
        assert_eq!(s.document_count().unwrap(), 3);
        assert_eq!(s.key_df("group:is").unwrap(), 2);
        // Postings are bounded by first day.
        let p = s.key_postings("group:is", 90, 110, 0, 10).unwrap();
        assert_eq!(p.iter().map(|p| p.doc).collect::<Vec<_>>(), [a]);
        assert_eq!(s.key_postings("group:is", 0, 1000, 0, 1).unwrap().len(), 1);
        assert_eq!(s.document_places(a).unwrap(), ["city:1", "country:RU"]);
        assert_eq!(s.document_sha("a").unwrap().as_deref(), Some("1"));
        // Replacing a document by id replaces its keys and counts.
        s.add_document(&doc("a", "changed", &["venue:x"], 100), None)
            .unwrap();
        assert_eq!(s.document_count().unwrap(), 3);
        assert_eq!(s.key_df("group:is").unwrap(), 1);
        assert_eq!(s.key_df("venue:x").unwrap(), 1);
        assert!(s
            .key_postings("group:is", 90, 110, 0, 10)
            .unwrap()
            .is_empty());
        let cases = s.cases().unwrap();
        assert_eq!(cases.iter().map(|c| c.documents).sum::<i64>(), 3);
        assert_eq!(s.case_documents(case_a).unwrap().len(), 1);
    }
}
