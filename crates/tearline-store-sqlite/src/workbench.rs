//! The workbench's users, drafts and release requests, and partners' last
//! contact.

use rusqlite::{params, OptionalExtension};
use tearline_store::{
    Draft, NewAuditEntry, ReleaseRequest, RequestMove, StoreError, User, WorkbenchStore,
};

use crate::{append, db, SqliteStore};

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

const REQUEST_COLUMNS: &str = "id, draft_id, body, report_sha256, audience, requested_by, requested_at, state, decided_by, decided_at, note, release_id, supersedes, name";

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
        supersedes: r.get(12)?,
        name: r.get(13)?,
    })
}

impl WorkbenchStore for SqliteStore {
    fn user_add(&self, u: &User, audit: NewAuditEntry) -> Result<(), StoreError> {
        self.write(|tx| {
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
            append(tx, audit)?;
            Ok(())
        })
    }

    fn user(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.conn()?
            .prepare_cached(
                "SELECT name, role, password_hash, created_at, updated_at FROM users WHERE name = ?1",
            )
            .and_then(|mut st| st.query_row([name], row_user).optional())
            .map_err(db)
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare(
                "SELECT name, role, password_hash, created_at, updated_at FROM users ORDER BY name",
            )
            .map_err(db)?;
        let rows = st.query_map([], row_user).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn user_update(
        &self,
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
            false,
        )
    }

    fn user_remove(&self, name: &str, audit: NewAuditEntry) -> Result<bool, StoreError> {
        self.change_audited("DELETE FROM users WHERE name = ?1", &[&name], audit, false)
    }

    fn draft_save(
        &self,
        id: Option<i64>,
        title: &str,
        body: &str,
        by: &str,
        at: &str,
        mut audit: NewAuditEntry,
    ) -> Result<i64, StoreError> {
        self.write(|tx| {
            let id = match id {
                Some(id) => {
                    let n = tx
                        .execute(
                            "UPDATE drafts SET title = ?2, body = ?3, updated_at = ?4, updated_by = ?5 WHERE id = ?1",
                            params![id, title, body, at, by],
                        )
                        .map_err(db)?;
                    if n == 0 {
                        return Err(StoreError::Missing(format!("there is no draft {id}")));
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
            append(tx, audit)?;
            Ok(id)
        })
    }

    fn draft(&self, id: i64) -> Result<Option<Draft>, StoreError> {
        self.conn()?
            .query_row(
                "SELECT id, title, body, author, created_at, updated_at, updated_by FROM drafts WHERE id = ?1",
                [id],
                row_draft,
            )
            .optional()
            .map_err(db)
    }

    fn drafts(&self) -> Result<Vec<Draft>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare("SELECT id, title, body, author, created_at, updated_at, updated_by FROM drafts ORDER BY updated_at DESC, id DESC")
            .map_err(db)?;
        let rows = st.query_map([], row_draft).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn request_add(&self, r: &ReleaseRequest, mut audit: NewAuditEntry) -> Result<i64, StoreError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO release_requests (draft_id, body, report_sha256, audience, requested_by, requested_at, state, supersedes, name) VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending', ?7, ?8)",
                params![r.draft_id, r.body, r.report_sha256, r.audience, r.requested_by, r.requested_at, r.supersedes, r.name],
            )
            .map_err(db)?;
            let id = tx.last_insert_rowid();
            if audit.subject.is_empty() {
                audit.subject = format!("request {id}");
            }
            append(tx, audit)?;
            Ok(id)
        })
    }

    fn request(&self, id: i64) -> Result<Option<ReleaseRequest>, StoreError> {
        self.conn()?
            .query_row(
                &format!("SELECT {REQUEST_COLUMNS} FROM release_requests WHERE id = ?1"),
                [id],
                row_request,
            )
            .optional()
            .map_err(db)
    }

    fn requests(&self) -> Result<Vec<ReleaseRequest>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare(&format!(
                "SELECT {REQUEST_COLUMNS} FROM release_requests ORDER BY id DESC"
            ))
            .map_err(db)?;
        let rows = st.query_map([], row_request).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn request_move(&self, m: &RequestMove<'_>, audit: NewAuditEntry) -> Result<bool, StoreError> {
        self.change_audited(
            "UPDATE release_requests SET state = ?3, decided_by = COALESCE(decided_by, ?4), decided_at = COALESCE(decided_at, ?5), note = COALESCE(?6, note) WHERE id = ?1 AND state = ?2",
            &[&m.id, &m.from, &m.to, &m.by, &m.at, &m.note],
            audit,
            false,
        )
    }

    fn partner_seen(&self, name: &str, at: &str) -> Result<(), StoreError> {
        self.conn()?
            .execute(
                "INSERT INTO partner_contact (name, last_seen) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET last_seen = MAX(last_seen, excluded.last_seen)",
                params![name, at],
            )
            .map_err(db)?;
        Ok(())
    }

    fn partners_seen(&self) -> Result<Vec<(String, String)>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare("SELECT name, last_seen FROM partner_contact ORDER BY name")
            .map_err(db)?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }
}
