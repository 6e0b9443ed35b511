//! The embedded SQLite store: one file per node, no server to run.
//!
//! Each mutating call runs in one `IMMEDIATE` transaction that also appends
//! its audit entry and moves the audit head, so a change and its record
//! are stored together or not at all. The database runs in WAL mode with
//! `synchronous=FULL`: a call that returned has reached the disk. The
//! database file is created readable by its owner only (it holds remotes'
//! credentials).
//!
//! The store is shared by many threads: each call takes a connection from
//! a small pool and gives it back, so readers never wait for one another
//! and a writer waits only for another writer (SQLite's busy timeout).
//! Nothing is ever left open on a connection: batches are closures
//! ([`tearline_store::DocumentStore::documents`]).
//!
//! Triggers refuse `UPDATE` and `DELETE` on the audit log and any move of
//! the audit head backwards; an append also refuses to extend a log that
//! does not reach its recorded head (it was cut short), so tampering stops
//! the node's writes until the log is restored.
#![deny(missing_docs)]

mod documents;
mod migrations;
mod store;
mod workbench;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use tearline_store::{chain, AuditEntry, NewAuditEntry, StoreError};

use migrations::MIGRATIONS;

/// The schema version: the number of migrations.
const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Connections kept open for reuse.
const IDLE_CONNECTIONS: usize = 8;

/// A node's SQLite database.
pub struct SqliteStore {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Database(e.to_string())
}

/// A connection taken from the pool; it goes back when dropped.
struct Pooled<'a> {
    store: &'a SqliteStore,
    conn: Option<Connection>,
}

impl std::ops::Deref for Pooled<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
            .as_ref()
            .unwrap_or_else(|| unreachable!("a pooled connection is present until dropped"))
    }
}

impl std::ops::DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .unwrap_or_else(|| unreachable!("a pooled connection is present until dropped"))
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let (Some(c), Ok(mut idle)) = (self.conn.take(), self.store.idle.lock()) {
            // A connection dropped inside a transaction rolls it back
            // first; only clean connections are reused.
            if c.is_autocommit() && idle.len() < IDLE_CONNECTIONS {
                idle.push(c);
            }
        }
    }
}

fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .map_err(db)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(db)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db)?;
    conn.pragma_update(None, "foreign_keys", "ON").map_err(db)?;
    Ok(conn)
}

/// Creates an empty file readable by its owner only, if there is none;
/// an existing database (and its WAL and shared-memory files) that others
/// may read is made its owner's only — it holds remotes' credentials.
fn create_private(path: &Path) -> Result<(), StoreError> {
    if path.exists() {
        return owner_only(path);
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    match opts.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Database(format!(
            "cannot create `{}`: {e}",
            path.display()
        ))),
    }
}

#[cfg(unix)]
fn owner_only(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::PermissionsExt;
    let mut files = vec![path.to_path_buf()];
    for ext in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(ext);
        files.push(PathBuf::from(p));
    }
    for f in files.iter().filter(|f| f.exists()) {
        let mode = std::fs::metadata(f)
            .map_err(|e| StoreError::Database(format!("cannot read `{}`: {e}", f.display())))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(mode & 0o700)).map_err(
                |e| {
                    StoreError::Database(format!(
                        "`{}` may be read by others and cannot be made its owner's only: {e}",
                        f.display()
                    ))
                },
            )?;
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn owner_only(_: &Path) -> Result<(), StoreError> {
    Ok(())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`, applying any
    /// migrations it lacks.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        create_private(path)?;
        let mut conn = connect(path)?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            idle: Mutex::new(vec![conn]),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> Result<Pooled<'_>, StoreError> {
        let reused = self
            .idle
            .lock()
            .map_err(|_| StoreError::Database("the connection pool lock is poisoned".into()))?
            .pop();
        let conn = match reused {
            Some(c) => c,
            None => connect(&self.path)?,
        };
        Ok(Pooled {
            store: self,
            conn: Some(conn),
        })
    }

    /// Runs `f` in one `IMMEDIATE` transaction and commits when it returns
    /// `Ok`; an error rolls everything back.
    fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.conn()?;
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        let out = f(&tx)?;
        tx.commit().map_err(db)?;
        Ok(out)
    }

    /// Runs one statement; when it changed a row, appends the audit entry
    /// (and bumps the generation when `generation`) in the same
    /// transaction. Returns whether anything changed.
    fn change_audited(
        &self,
        sql: &str,
        args: &[&dyn rusqlite::ToSql],
        audit: NewAuditEntry,
        generation: bool,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx.execute(sql, args).map_err(db)?;
            if n == 0 {
                return Ok(false);
            }
            if generation {
                bump_generation(tx)?;
            }
            append(tx, audit)?;
            Ok(true)
        })
    }
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let v: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(db)?;
    if v > SCHEMA_VERSION {
        return Err(StoreError::Corrupt(format!(
            "database schema version {v} is newer than this Tearline understands ({SCHEMA_VERSION})"
        )));
    }
    // Each migration runs in its own transaction with its version. The
    // version is read again inside it: another process opening the same
    // database may have applied it meanwhile.
    for (i, sql) in MIGRATIONS.iter().enumerate() {
        let version = i as i64 + 1;
        if v < version {
            let tx = conn
                .transaction_with_behavior(TransactionBehavior::Immediate)
                .map_err(db)?;
            let now: i64 = tx
                .pragma_query_value(None, "user_version", |r| r.get(0))
                .map_err(db)?;
            if now < version {
                tx.execute_batch(sql).map_err(db)?;
                tx.pragma_update(None, "user_version", version)
                    .map_err(db)?;
            }
            tx.commit().map_err(db)?;
        }
    }
    Ok(())
}

fn last_entry(conn: &Connection) -> Result<Option<AuditEntry>, StoreError> {
    conn.prepare_cached(
        "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit ORDER BY seq DESC LIMIT 1",
    )
    .and_then(|mut st| st.query_row([], row_entry).optional())
    .map_err(db)
}

fn head(conn: &Connection) -> Result<Option<(i64, String)>, StoreError> {
    conn.prepare_cached("SELECT seq, hash FROM audit_head WHERE id = 1")
        .and_then(|mut st| st.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
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

/// Appends an entry to the log and moves the head to it. A log that does
/// not reach its recorded head was cut short or rewritten: nothing is
/// appended to it.
fn append(tx: &Transaction<'_>, e: NewAuditEntry) -> Result<AuditEntry, StoreError> {
    let prev = last_entry(tx)?;
    if let Some((seq, hash)) = head(tx)? {
        let reaches = prev
            .as_ref()
            .is_some_and(|p| p.seq == seq && p.hash == hash);
        if !reaches {
            return Err(StoreError::Corrupt(format!(
                "the audit log does not reach its recorded head (entry {seq}): it was cut short or rewritten, so nothing more is written; `tearline audit verify` says where it breaks"
            )));
        }
    }
    let a = chain(prev.as_ref(), e);
    tx.prepare_cached(
        "INSERT INTO audit (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut st| {
        st.execute(params![
            a.seq,
            a.entry.at,
            a.entry.actor,
            a.entry.action,
            a.entry.subject,
            a.entry.detail,
            a.prev_hash,
            a.hash
        ])
    })
    .map_err(db)?;
    tx.prepare_cached(
        "INSERT INTO audit_head (id, seq, hash) VALUES (1, ?1, ?2)
         ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash",
    )
    .and_then(|mut st| st.execute(params![a.seq, a.hash]))
    .map_err(db)?;
    Ok(a)
}

fn bump_generation(tx: &Transaction<'_>) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE meta SET value = value + 1 WHERE key = 'generation'",
        [],
    )
    .map_err(db)?;
    Ok(())
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

#[cfg(test)]
mod tests;
