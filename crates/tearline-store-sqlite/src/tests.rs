use std::cell::Cell;

use tearline_store::{verify_chain, NewAuditEntry, Store};

use super::*;

fn entry(action: &str) -> NewAuditEntry {
    NewAuditEntry {
        at: "2026-01-01T00:00:00Z".into(),
        actor: "t".into(),
        action: action.into(),
        subject: "x".into(),
        detail: "{}".into(),
    }
}

fn head_of(s: &SqliteStore) -> Option<(i64, String)> {
    s.audit_head().unwrap()
}

#[test]
fn sqlite_keeps_the_store_contract() {
    let dir = tempfile::tempdir().unwrap();
    let n = Cell::new(0);
    tearline_store::testing::conformance(&|| {
        n.set(n.get() + 1);
        Box::new(SqliteStore::open(&dir.path().join(format!("{}.db", n.get()))).unwrap())
    });
}

#[test]
fn audit_rows_cannot_be_changed_through_sql_and_edits_are_detected() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    s.audit(entry("one")).unwrap();
    s.audit(entry("two")).unwrap();
    let conn = s.conn().unwrap();
    assert!(conn
        .execute("UPDATE audit SET actor = 'm' WHERE seq = 1", [])
        .is_err());
    assert!(conn.execute("DELETE FROM audit WHERE seq = 2", []).is_err());
    assert!(conn
        .execute("UPDATE audit_head SET seq = 1 WHERE id = 1", [])
        .is_err());
    assert!(conn.execute("DELETE FROM audit_head", []).is_err());
    // Someone who drops the trigger can edit the row; the chain shows it.
    conn.execute_batch("DROP TRIGGER audit_no_update; UPDATE audit SET actor = 'm' WHERE seq = 1;")
        .unwrap();
    drop(conn);
    assert_eq!(
        verify_chain(&s.audit_log().unwrap(), None).unwrap_err().seq,
        1
    );
}

#[test]
fn a_log_cut_short_is_detected_and_not_extended() {
    let dir = tempfile::tempdir().unwrap();
    let s = SqliteStore::open(&dir.path().join("t.db")).unwrap();
    for a in ["one", "two", "three"] {
        s.audit(entry(a)).unwrap();
    }
    let conn = s.conn().unwrap();
    conn.execute_batch("DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = 3;")
        .unwrap();
    drop(conn);
    let head = head_of(&s).unwrap();
    let log = s.audit_log().unwrap();
    let b = verify_chain(&log, Some((head.0, &head.1))).unwrap_err();
    assert_eq!(b.seq, 3);
    assert!(b.reason.contains("missing"), "{b}");
    // Writing on would hide the cut: refused.
    let e = s.audit(entry("four")).unwrap_err();
    assert!(e.to_string().contains("cut short"), "{e}");
}

#[test]
fn the_head_starts_at_the_last_entry_of_an_older_database() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    // A database at schema 6 with two audit entries and no head.
    {
        let mut conn = Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        for sql in &MIGRATIONS[..6] {
            tx.execute_batch(sql).unwrap();
        }
        tx.pragma_update(None, "user_version", 6).unwrap();
        let first = tearline_store::chain(None, entry("one"));
        let second = tearline_store::chain(Some(&first), entry("two"));
        for a in [&first, &second] {
            tx.execute(
                "INSERT INTO audit (seq, at, actor, action, subject, detail, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![a.seq, a.entry.at, a.entry.actor, a.entry.action, a.entry.subject, a.entry.detail, a.prev_hash, a.hash],
            )
            .unwrap();
        }
        tx.commit().unwrap();
    }
    let s = SqliteStore::open(&path).unwrap();
    let log = s.audit_log().unwrap();
    assert_eq!(head_of(&s), Some((2, log[1].hash.clone())));
    assert_eq!(
        s.node().unwrap(),
        None,
        "no node row until the node migrates"
    );
    s.audit(entry("three")).unwrap();
    assert_eq!(head_of(&s).unwrap().0, 3);
}

#[test]
fn writers_on_many_threads_keep_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let s = std::sync::Arc::new(SqliteStore::open(&dir.path().join("t.db")).unwrap());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    s.audit(entry(&format!("t{t}.{i}"))).unwrap();
                    s.audit_log().unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let log = s.audit_log().unwrap();
    let head = head_of(&s).unwrap();
    assert_eq!(verify_chain(&log, Some((head.0, &head.1))), Ok(100));
}

#[cfg(unix)]
#[test]
fn the_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    SqliteStore::open(&path).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "mode {mode:o}");
    // An older database that others could read is made its owner's only.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    SqliteStore::open(&path).unwrap();
    for f in ["t.db", "t.db-wal", "t.db-shm"] {
        let p = dir.path().join(f);
        if p.exists() {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "{f}: mode {mode:o}");
        }
    }
}

#[test]
fn two_openers_of_an_older_database_both_succeed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.db");
    {
        let mut conn = Connection::open(&path).unwrap();
        let tx = conn.transaction().unwrap();
        for sql in &MIGRATIONS[..6] {
            tx.execute_batch(sql).unwrap();
        }
        tx.pragma_update(None, "user_version", 6).unwrap();
        tx.commit().unwrap();
    }
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let p = path.clone();
            std::thread::spawn(move || SqliteStore::open(&p).map(|_| ()))
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
}
