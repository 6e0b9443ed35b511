//! The node's state, releases, warnings, collections, partners and remotes.

use rusqlite::{params, Connection, OptionalExtension, Transaction};
use tearline_model::{Audience, Level, ProtectedTerm, TermKind};
use tearline_release::ClearedObjects;
use tearline_store::{
    event_audit, received_audit, release_audit, AuditEntry, Collection, EnvelopeStatus,
    NewAuditEntry, NewObject, NewReceived, NewRelease, NewWarning, NodeInfo, ObjectPage,
    ObjectQuery, Outgoing, Partner, ReceivedRecord, ReleaseRecord, ReleaseWrite, RemoteRecord,
    Store, StoreError, StoredEvent, StoredObject, StoredTerm, VersionMatch, WarningRecord,
};

use crate::documents::insert_document;
use crate::{append, bump_generation, db, head, row_entry, timestamp_key, SqliteStore};

/// One object to store: id, type, version, spec_version, JSON.
type Row<'a> = (&'a str, &'a str, &'a str, &'a str, &'a str);

/// Stores objects not already in the collection, in order, each with a
/// `date_added` unique and increasing within the collection (`now`, or one
/// microsecond after the collection's last, whichever is later). Returns
/// `(id, version)` of each, stored or already there.
fn insert_objects<'a>(
    tx: &Transaction<'_>,
    collection: &str,
    objects: impl Iterator<Item = Row<'a>>,
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
    let mut done = Vec::new();
    for (id, ty, version, spec, json) in objects {
        let added = next.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        let n = insert
            .execute(params![
                collection,
                id,
                ty,
                version,
                timestamp_key(version),
                spec,
                added,
                json
            ])
            .map_err(db)?;
        if n == 1 {
            next += chrono::Duration::microseconds(1);
        }
        done.push((id.to_string(), version.to_string()));
    }
    Ok(done)
}

/// Stores cleared objects in a collection.
fn insert_cleared(
    tx: &Transaction<'_>,
    collection: &Collection,
    objects: &ClearedObjects,
    at: &str,
) -> Result<(), StoreError> {
    let rows = objects.objects().iter().map(|o| {
        (
            o.id(),
            o.object_type(),
            o.version(),
            o.spec_version(),
            o.json(),
        )
    });
    insert_objects(tx, &collection.id(), rows, at)?;
    Ok(())
}

/// Sends what a sender's change to a warning sends: objects for the
/// warning's audience, a reply for one partner; each must be cleared for
/// the audience it goes to.
fn send(
    tx: &Transaction<'_>,
    warning: i64,
    out: &Outgoing<'_>,
    at: &str,
) -> Result<(), StoreError> {
    if let Some(objects) = out.publish {
        let audience: String = tx
            .query_row(
                "SELECT audience FROM warnings WHERE id = ?1",
                [warning],
                |r| r.get(0),
            )
            .map_err(db)?;
        if objects.audience() != audience {
            return Err(StoreError::Corrupt(format!(
                "bug: warning {warning} went to `{audience}`, not `{}`",
                objects.audience()
            )));
        }
        insert_cleared(tx, &Collection::Read(audience), objects, at)?;
    }
    if let Some((partner, objects)) = out.reply {
        let audience: Option<String> = tx
            .query_row(
                "SELECT audience FROM partners WHERE name = ?1",
                [partner],
                |r| r.get(0),
            )
            .optional()
            .map_err(db)?;
        match audience {
            Some(a) if a == objects.audience() => {
                insert_cleared(tx, &Collection::Inbox(partner.to_string()), objects, at)?
            }
            // A partner removed meanwhile gets nothing.
            None => {}
            Some(a) => {
                return Err(StoreError::Corrupt(format!(
                    "bug: a reply cleared for `{}` to partner `{partner}` of `{a}`",
                    objects.audience()
                )))
            }
        }
    }
    Ok(())
}

fn rows(objects: &[NewObject]) -> impl Iterator<Item = Row<'_>> {
    objects.iter().map(|o| {
        (
            o.id.as_str(),
            o.object_type.as_str(),
            o.version.as_str(),
            o.spec_version.as_str(),
            o.json.as_str(),
        )
    })
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
        client_cert_sha256: r.get(6)?,
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

fn event_count(tx: &Transaction<'_>, warning: i64) -> Result<Option<usize>, StoreError> {
    let exists = tx
        .query_row(
            "SELECT 1 FROM warnings WHERE id = ?1",
            [warning],
            |_| Ok(()),
        )
        .optional()
        .map_err(db)?;
    if exists.is_none() {
        return Ok(None);
    }
    let n: i64 = tx
        .query_row(
            "SELECT COUNT(*) FROM warning_events WHERE warning = ?1",
            [warning],
            |r| r.get(0),
        )
        .map_err(db)?;
    Ok(Some(n as usize))
}

fn insert_event(tx: &Transaction<'_>, warning: i64, e: &StoredEvent) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO warning_events (warning, at, actor, event) VALUES (?1, ?2, ?3, ?4)",
        params![warning, e.at, e.actor, e.event],
    )
    .map_err(db)?;
    append(tx, event_audit(warning, e))?;
    Ok(())
}

fn insert_received_event(tx: &Transaction<'_>, id: i64, e: &StoredEvent) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO received_events (warning, at, actor, event) VALUES (?1, ?2, ?3, ?4)",
        params![id, e.at, e.actor, e.event],
    )
    .map_err(db)?;
    append(tx, received_audit(id, e))?;
    Ok(())
}

fn load_received(
    conn: &Connection,
    filter: &str,
    args: &[&dyn rusqlite::ToSql],
) -> Result<Vec<ReceivedRecord>, StoreError> {
    let sql = format!("SELECT id, remote, report_id, title, marking, valid_from, valid_until, received_at FROM received_warnings {filter} ORDER BY id DESC");
    let mut st = conn.prepare(&sql).map_err(db)?;
    let rows = st
        .query_map(args, |r| {
            Ok(ReceivedRecord {
                id: r.get(0)?,
                warning: NewReceived {
                    remote: r.get(1)?,
                    report_id: r.get(2)?,
                    title: r.get(3)?,
                    marking: r.get(4)?,
                    valid_from: r.get(5)?,
                    valid_until: r.get(6)?,
                    received_at: r.get(7)?,
                },
                events: Vec::new(),
            })
        })
        .map_err(db)?;
    let mut out = rows.collect::<Result<Vec<_>, _>>().map_err(db)?;
    let mut ev = conn
        .prepare_cached(
            "SELECT at, actor, event FROM received_events WHERE warning = ?1 ORDER BY seq",
        )
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
        .prepare_cached(
            "SELECT at, actor, event FROM warning_events WHERE warning = ?1 ORDER BY seq",
        )
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

fn audience_of(name: String, max: String, sources: bool) -> Result<Audience, StoreError> {
    let level: Level = max
        .parse()
        .map_err(|e| StoreError::Corrupt(format!("audience `{name}`: {e}")))?;
    Audience::new(&name, level, sources)
        .map_err(|e| StoreError::Corrupt(format!("audience `{name}`: {e}")))
}

fn row_remote(r: &rusqlite::Row<'_>) -> rusqlite::Result<RemoteRecord> {
    let collections: String = r.get(6)?;
    Ok(RemoteRecord {
        name: r.get(0)?,
        url: r.get(1)?,
        user: r.get(2)?,
        password: r.get(3)?,
        token: r.get(4)?,
        key: r.get(5)?,
        collections: collections
            .split('\n')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
        added_at: r.get(7)?,
        ca_pem: r.get(8)?,
        client_cert_pem: r.get(9)?,
        client_key_pem: r.get(10)?,
    })
}

/// Writes one release: see [`ReleaseWrite`].
fn write_release(
    tx: &Transaction<'_>,
    w: &ReleaseWrite<'_>,
    finish: &mut dyn FnMut() -> Result<(), String>,
) -> Result<ReleaseRecord, StoreError> {
    if w.release.audience != w.objects.audience() {
        return Err(StoreError::Corrupt(format!(
            "bug: a release to `{}` carries objects cleared for `{}`",
            w.release.audience,
            w.objects.audience()
        )));
    }
    let rec = insert_release(tx, w.release, w.actor, w.at)?;
    insert_cleared(
        tx,
        &Collection::Read(w.objects.audience().to_string()),
        w.objects,
        w.at,
    )?;
    append(tx, release_audit(&rec))?;
    if let Some((name, text)) = w.source {
        tx.execute(
            "INSERT OR IGNORE INTO report_sources (sha256, name, text) VALUES (?1, ?2, ?3)",
            params![w.release.report_sha256, name, text],
        )
        .map_err(db)?;
    }
    if let Some((warning, issued)) = w.warning {
        tx.execute(
            "INSERT INTO warnings (id, report_id, audience, title, valid_from, valid_until) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![rec.id, warning.report_id, warning.audience, warning.title, warning.valid_from, warning.valid_until],
        )
        .map_err(db)?;
        insert_event(tx, rec.id, issued)?;
    }
    if let Some(s) = &w.supersedes {
        match event_count(tx, s.warning)? {
            None => return Err(StoreError::Missing(format!("no warning {}", s.warning))),
            Some(n) if n != s.events_seen => {
                return Err(StoreError::Conflict(format!(
                "warning {} changed while it was being re-issued: look at it again and re-issue",
                s.warning
            )))
            }
            Some(_) => {}
        }
        for e in (s.events)(rec.id) {
            insert_event(tx, s.warning, &e)?;
        }
    }
    if let Some(a) = &w.request {
        let n = tx
            .execute(
                "UPDATE release_requests SET state = 'released', release_id = ?2, decided_by = ?3, decided_at = ?4, note = ?5
                 WHERE id = ?1 AND state = 'pending'",
                params![a.id, rec.id, a.audit.actor, a.audit.at, a.note],
            )
            .map_err(db)?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "request {} is not pending: it was decided meanwhile",
                a.id
            )));
        }
        append(tx, a.audit.clone())?;
        append(
            tx,
            NewAuditEntry {
                at: w.at.to_string(),
                actor: w.actor.to_string(),
                action: "release.request.released".into(),
                subject: format!("request {}", a.id),
                detail: serde_json::json!({ "release": rec.id }).to_string(),
            },
        )?;
    }
    if let Some((doc, place)) = w.document {
        if let Some((m, audit)) = &place.merge {
            crate::documents::merge_cases(tx, m, audit.clone())?;
        }
        insert_document(tx, doc, place.case)?;
    }
    finish().map_err(StoreError::Aborted)?;
    Ok(rec)
}

impl Store for SqliteStore {
    fn node(&self) -> Result<Option<NodeInfo>, StoreError> {
        self.conn()?
            .query_row("SELECT name, created FROM node WHERE id = 1", [], |r| {
                Ok(NodeInfo {
                    name: r.get(0)?,
                    created: r.get(1)?,
                })
            })
            .optional()
            .map_err(db)
    }

    fn create_node(
        &self,
        info: &NodeInfo,
        audiences: &[Audience],
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "INSERT INTO node (id, name, created) VALUES (1, ?1, ?2) ON CONFLICT (id) DO NOTHING",
                    params![info.name, info.created],
                )
                .map_err(db)?;
            if n == 0 {
                return Ok(false);
            }
            for a in audiences {
                tx.execute(
                    "INSERT INTO audiences (name, max, sources) VALUES (?1, ?2, ?3)",
                    params![a.name(), a.max().name(), a.sees_sources()],
                )
                .map_err(db)?;
            }
            bump_generation(tx)?;
            append(tx, audit)?;
            Ok(true)
        })
    }

    fn generation(&self) -> Result<i64, StoreError> {
        self.conn()?
            .prepare_cached("SELECT value FROM meta WHERE key = 'generation'")
            .and_then(|mut st| st.query_row([], |r| r.get(0)))
            .map_err(db)
    }

    fn audiences(&self) -> Result<Vec<Audience>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare_cached("SELECT name, max, sources FROM audiences ORDER BY rowid")
            .map_err(db)?;
        let rows = st
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .map_err(db)?;
        let mut out = Vec::new();
        for row in rows {
            let (name, max, sources) = row.map_err(db)?;
            out.push(audience_of(name, max, sources)?);
        }
        Ok(out)
    }

    fn audience_add(&self, a: &Audience, audit: NewAuditEntry) -> Result<bool, StoreError> {
        self.change_audited(
            "INSERT INTO audiences (name, max, sources) VALUES (?1, ?2, ?3) ON CONFLICT (name) DO NOTHING",
            &[&a.name(), &a.max().name(), &a.sees_sources()],
            audit,
            true,
        )
    }

    fn audience_update(&self, a: &Audience, audit: NewAuditEntry) -> Result<bool, StoreError> {
        self.change_audited(
            "UPDATE audiences SET max = ?2, sources = ?3 WHERE name = ?1",
            &[&a.name(), &a.max().name(), &a.sees_sources()],
            audit,
            true,
        )
    }

    fn audience_remove(&self, name: &str, audit: NewAuditEntry) -> Result<bool, StoreError> {
        self.write(|tx| {
            let partners: Vec<String> = {
                let mut st = tx
                    .prepare("SELECT name FROM partners WHERE audience = ?1 ORDER BY name")
                    .map_err(db)?;
                let rows = st.query_map([name], |r| r.get(0)).map_err(db)?;
                rows.collect::<Result<_, _>>().map_err(db)?
            };
            if !partners.is_empty() {
                return Err(StoreError::Conflict(format!(
                    "partners read the releases to `{name}`: {}; remove them first (`tearline partner remove NAME`)",
                    partners.join(", ")
                )));
            }
            let n = tx
                .execute("DELETE FROM audiences WHERE name = ?1", [name])
                .map_err(db)?;
            if n == 0 {
                return Ok(false);
            }
            bump_generation(tx)?;
            append(tx, audit)?;
            Ok(true)
        })
    }

    fn protect_add(
        &self,
        term: &ProtectedTerm,
        key: &str,
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError> {
        let (at, by) = (audit.at.clone(), audit.actor.clone());
        self.change_audited(
            "INSERT INTO protected_terms (key, term, kind, added_at, added_by) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (key) DO NOTHING",
            &[&key, &term.term, &term.kind.name(), &at, &by],
            audit,
            true,
        )
    }

    fn protect_remove(&self, key: &str, audit: NewAuditEntry) -> Result<bool, StoreError> {
        self.change_audited(
            "DELETE FROM protected_terms WHERE key = ?1",
            &[&key],
            audit,
            true,
        )
    }

    fn protected_terms(&self) -> Result<Vec<StoredTerm>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare_cached(
                "SELECT term, kind, added_at, added_by FROM protected_terms ORDER BY rowid",
            )
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
                StoreError::Corrupt(format!("protected term of kind `{kind}`: {e}"))
            })?;
            out.push(StoredTerm {
                term: ProtectedTerm { term, kind },
                added_at,
                added_by,
            });
        }
        Ok(out)
    }

    fn audit(&self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError> {
        self.write(|tx| append(tx, entry))
    }

    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare("SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit ORDER BY seq")
            .map_err(db)?;
        let rows = st.query_map([], row_entry).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn audit_since(&self, after: i64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare_cached("SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2")
            .map_err(db)?;
        let rows = st
            .query_map(params![after, limit as i64], row_entry)
            .map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError> {
        head(&*self.conn()?)
    }

    fn release(
        &self,
        w: &ReleaseWrite<'_>,
        finish: &mut dyn FnMut() -> Result<(), String>,
    ) -> Result<ReleaseRecord, StoreError> {
        self.write(|tx| write_release(tx, w, finish))
    }

    fn releases(&self) -> Result<Vec<ReleaseRecord>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
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

    fn warning_event(
        &self,
        warning: i64,
        events_seen: usize,
        event: &StoredEvent,
        out: &Outgoing<'_>,
    ) -> Result<bool, StoreError> {
        self.write(|tx| match event_count(tx, warning)? {
            None => Err(StoreError::Missing(format!("no warning {warning}"))),
            Some(n) if n != events_seen => Ok(false),
            Some(_) => {
                insert_event(tx, warning, event)?;
                send(tx, warning, out, &event.at)?;
                Ok(true)
            }
        })
    }

    fn report_source(&self, sha256: &str) -> Result<Option<(String, String)>, StoreError> {
        self.conn()?
            .query_row(
                "SELECT name, text FROM report_sources WHERE sha256 = ?1",
                [sha256],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db)
    }

    fn received_add(
        &self,
        w: &NewReceived,
        first: &StoredEvent,
    ) -> Result<Option<i64>, StoreError> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "INSERT INTO received_warnings (remote, report_id, title, marking, valid_from, valid_until, received_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (remote, report_id) DO NOTHING",
                    params![w.remote, w.report_id, w.title, w.marking, w.valid_from, w.valid_until, w.received_at],
                )
                .map_err(db)?;
            if n == 0 {
                return Ok(None);
            }
            let id = tx.last_insert_rowid();
            insert_received_event(tx, id, first)?;
            Ok(Some(id))
        })
    }

    fn received_event(
        &self,
        id: i64,
        events_seen: usize,
        event: &StoredEvent,
        responses: &[NewObject],
    ) -> Result<bool, StoreError> {
        self.write(|tx| {
            let remote: Option<String> = tx
                .query_row(
                    "SELECT remote FROM received_warnings WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .optional()
                .map_err(db)?;
            let Some(remote) = remote else {
                return Err(StoreError::Missing(format!("no received warning {id}")));
            };
            let n: i64 = tx
                .query_row(
                    "SELECT COUNT(*) FROM received_events WHERE warning = ?1",
                    [id],
                    |r| r.get(0),
                )
                .map_err(db)?;
            if n as usize != events_seen {
                return Ok(false);
            }
            insert_received_event(tx, id, event)?;
            if !responses.is_empty() {
                insert_objects(
                    tx,
                    &Collection::Outbox(remote).id(),
                    rows(responses),
                    &event.at,
                )?;
            }
            Ok(true)
        })
    }

    fn received_warnings(&self) -> Result<Vec<ReceivedRecord>, StoreError> {
        load_received(&*self.conn()?, "", &[])
    }

    fn received_warning(&self, id: i64) -> Result<Option<ReceivedRecord>, StoreError> {
        Ok(load_received(&*self.conn()?, "WHERE id = ?1", &[&id])?
            .into_iter()
            .next())
    }

    fn received_for(
        &self,
        remote: &str,
        report_id: &str,
    ) -> Result<Option<ReceivedRecord>, StoreError> {
        Ok(load_received(
            &*self.conn()?,
            "WHERE remote = ?1 AND report_id = ?2",
            &[&remote, &report_id],
        )?
        .into_iter()
        .next())
    }

    fn warnings(&self) -> Result<Vec<WarningRecord>, StoreError> {
        load_warnings(&*self.conn()?, "", &[])
    }

    fn warning(&self, id: i64) -> Result<Option<WarningRecord>, StoreError> {
        Ok(load_warnings(&*self.conn()?, "WHERE id = ?1", &[&id])?
            .into_iter()
            .next())
    }

    fn warning_for_report(
        &self,
        report_id: &str,
        audience: &str,
    ) -> Result<Option<WarningRecord>, StoreError> {
        Ok(load_warnings(
            &*self.conn()?,
            "WHERE report_id = ?1 AND audience = ?2",
            &[&report_id, &audience],
        )?
        .into_iter()
        .next())
    }

    fn add_objects(
        &self,
        collection: &Collection,
        objects: &[NewObject],
        status: &mut EnvelopeStatus,
    ) -> Result<(), StoreError> {
        if collection.is_read() {
            return Err(StoreError::Conflict(
                "an audience's collection holds only cleared releases".into(),
            ));
        }
        let id = collection.id();
        self.write(|tx| {
            let done = insert_objects(tx, &id, rows(objects), &status.request_timestamp)?;
            status.successes.extend(done);
            save_status(tx, status)
        })
    }

    fn objects(&self, collection: &Collection, q: &ObjectQuery) -> Result<ObjectPage, StoreError> {
        let mut sql = String::from(
            "SELECT seq, id, type, version, spec_version, date_added, json FROM objects o WHERE collection = ?",
        );
        let mut args: Vec<String> = vec![collection.id()];
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
        let conn = self.conn()?;
        let mut st = conn.prepare_cached(&sql).map_err(db)?;
        let rows = st
            .query_map(rusqlite::params_from_iter(args.iter()), row_object)
            .map_err(db)?;
        let mut objects = rows.collect::<Result<Vec<_>, _>>().map_err(db)?;
        let more = objects.len() > q.limit;
        objects.truncate(q.limit);
        Ok(ObjectPage { objects, more })
    }

    fn delete_object(
        &self,
        collection: &Collection,
        id: &str,
        versions: &[String],
        audit: NewAuditEntry,
    ) -> Result<usize, StoreError> {
        let cid = collection.id();
        self.write(|tx| {
            let n = if versions.is_empty() {
                tx.execute(
                    "DELETE FROM objects WHERE collection = ?1 AND id = ?2",
                    params![cid, id],
                )
                .map_err(db)?
            } else {
                let mut n = 0;
                for v in versions {
                    n += tx
                        .execute(
                            "DELETE FROM objects WHERE collection = ?1 AND id = ?2 AND version_key = ?3",
                            params![cid, id, timestamp_key(v)],
                        )
                        .map_err(db)?;
                }
                n
            };
            if n > 0 {
                append(tx, audit)?;
            }
            Ok(n)
        })
    }

    fn status(&self, id: &str) -> Result<Option<EnvelopeStatus>, StoreError> {
        let row = self
            .conn()?
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

    fn add_pulled(
        &self,
        remote: &str,
        objects: &[NewObject],
        at: &str,
        cursor_key: &str,
        cursor: Option<&str>,
    ) -> Result<(), StoreError> {
        let cid = Collection::Received(remote.to_string()).id();
        self.write(|tx| {
            insert_objects(tx, &cid, rows(objects), at)?;
            if let Some(c) = cursor {
                set_cursor(tx, cursor_key, c)?;
            }
            Ok(())
        })
    }

    fn queue_responses(
        &self,
        remote: &str,
        objects: &[NewObject],
        at: &str,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError> {
        let cid = Collection::Outbox(remote.to_string()).id();
        self.write(|tx| {
            insert_objects(tx, &cid, rows(objects), at)?;
            append(tx, audit)?;
            Ok(())
        })
    }

    fn cursor(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn()?
            .query_row("SELECT value FROM cursors WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(db)
    }

    fn set_cursor(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.write(|tx| set_cursor(tx, key, value))
    }

    fn partner_add(&self, p: &Partner, audit: NewAuditEntry) -> Result<(), StoreError> {
        self.write(|tx| {
            let audience = tx
                .query_row("SELECT 1 FROM audiences WHERE name = ?1", [&p.audience], |_| Ok(()))
                .optional()
                .map_err(db)?;
            if audience.is_none() {
                return Err(StoreError::Missing(format!("no audience `{}`", p.audience)));
            }
            let n = tx
                .execute(
                    "INSERT INTO partners (name, audience, password_sha256, token_sha256, created_at, rotated_at, client_cert_sha256) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (name) DO NOTHING",
                    params![p.name, p.audience, p.password_sha256, p.token_sha256, p.created_at, p.rotated_at, p.client_cert_sha256],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Conflict(format!(
                    "partner `{}` already exists",
                    p.name
                )));
            }
            bump_generation(tx)?;
            append(tx, audit)?;
            Ok(())
        })
    }

    fn partner_rotate(
        &self,
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
            true,
        )
    }

    fn partner_set_client_cert(
        &self,
        name: &str,
        sha256: Option<&str>,
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError> {
        self.change_audited(
            "UPDATE partners SET client_cert_sha256 = ?2 WHERE name = ?1",
            &[&name, &sha256],
            audit,
            true,
        )
    }

    fn partner_remove(&self, name: &str, audit: NewAuditEntry) -> Result<bool, StoreError> {
        self.change_audited(
            "DELETE FROM partners WHERE name = ?1",
            &[&name],
            audit,
            true,
        )
    }

    fn partners(&self) -> Result<Vec<Partner>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare_cached("SELECT name, audience, password_sha256, token_sha256, created_at, rotated_at, client_cert_sha256 FROM partners ORDER BY name")
            .map_err(db)?;
        let rows = st.query_map([], row_partner).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }

    fn remote_add(&self, r: &RemoteRecord, audit: NewAuditEntry) -> Result<(), StoreError> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "INSERT INTO remotes (name, url, user, password, token, key, collections, added_at, ca_pem, client_cert_pem, client_key_pem)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (name) DO NOTHING",
                    params![
                        r.name,
                        r.url,
                        r.user,
                        r.password,
                        r.token,
                        r.key,
                        r.collections.join("\n"),
                        r.added_at,
                        r.ca_pem,
                        r.client_cert_pem,
                        r.client_key_pem
                    ],
                )
                .map_err(db)?;
            if n == 0 {
                return Err(StoreError::Conflict(format!(
                    "remote `{}` already exists",
                    r.name
                )));
            }
            append(tx, audit)?;
            Ok(())
        })
    }

    fn remote_remove(&self, name: &str, audit: NewAuditEntry) -> Result<bool, StoreError> {
        self.change_audited(
            "DELETE FROM remotes WHERE name = ?1",
            &[&name],
            audit,
            false,
        )
    }

    fn remotes(&self) -> Result<Vec<RemoteRecord>, StoreError> {
        let conn = self.conn()?;
        let mut st = conn
            .prepare_cached(
                "SELECT name, url, user, password, token, key, collections, added_at, ca_pem, client_cert_pem, client_key_pem FROM remotes ORDER BY name",
            )
            .map_err(db)?;
        let rows = st.query_map([], row_remote).map_err(db)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(db)
    }
}
