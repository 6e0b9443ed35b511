//! The schema, one migration per version, applied in order.

/// The schema, one step per version. A node's database records the
/// number of steps applied (`PRAGMA user_version`).
pub const MIGRATIONS: [&str; 11] = [
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
    // v7: node state that lived in files moves into the store — who the
    // node is, its audiences, its remotes and the audit head — and a
    // generation counter tells a running server that the registry, the
    // audiences or the partners changed.
    "CREATE TABLE node (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    name TEXT NOT NULL,
                    created TEXT NOT NULL
                 );
                 CREATE TABLE audiences (
                    name TEXT PRIMARY KEY,
                    max TEXT NOT NULL,
                    sources INTEGER NOT NULL
                 );
                 CREATE TABLE remotes (
                    name TEXT PRIMARY KEY,
                    url TEXT NOT NULL,
                    user TEXT,
                    password TEXT,
                    token TEXT,
                    key TEXT,
                    collections TEXT NOT NULL,
                    added_at TEXT NOT NULL
                 );
                 CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
                 INSERT INTO meta (key, value) VALUES ('generation', 1);
                 CREATE TABLE audit_head (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    seq INTEGER NOT NULL,
                    hash TEXT NOT NULL
                 );
                 INSERT INTO audit_head (id, seq, hash)
                    SELECT 1, seq, hash FROM audit ORDER BY seq DESC LIMIT 1;
                 CREATE TRIGGER audit_head_forward BEFORE UPDATE ON audit_head WHEN NEW.seq < OLD.seq
                    BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END;
                 CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
                    BEGIN SELECT RAISE(ABORT, 'the audit head only moves forward'); END;",
    // v8: the receiver's half — received warnings and their timelines —
    // and the sources of released reports, so that the sender's later
    // changes to a warning pass the same leak check.
    "CREATE TABLE report_sources (
                    sha256 TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    text TEXT NOT NULL
                 );
                 CREATE TABLE received_warnings (
                    id INTEGER PRIMARY KEY,
                    remote TEXT NOT NULL,
                    report_id TEXT NOT NULL,
                    title TEXT NOT NULL,
                    marking TEXT,
                    valid_from TEXT,
                    valid_until TEXT NOT NULL,
                    received_at TEXT NOT NULL,
                    UNIQUE (remote, report_id)
                 );
                 CREATE TABLE received_events (
                    seq INTEGER PRIMARY KEY,
                    warning INTEGER NOT NULL REFERENCES received_warnings (id),
                    at TEXT NOT NULL,
                    actor TEXT NOT NULL,
                    event TEXT NOT NULL
                 );
                 CREATE INDEX received_events_by_warning ON received_events (warning, seq);
                 ALTER TABLE release_requests ADD COLUMN supersedes INTEGER;
                 ALTER TABLE release_requests ADD COLUMN name TEXT;",
    // v9: TLS. A partner may be bound to a client certificate (the
    // SHA-256 of its DER); a remote may carry its own CA and our client
    // certificate and key, as PEM, so that the node stays self-contained.
    "ALTER TABLE partners ADD COLUMN client_cert_sha256 TEXT;
                 ALTER TABLE remotes ADD COLUMN ca_pem TEXT;
                 ALTER TABLE remotes ADD COLUMN client_cert_pem TEXT;
                 ALTER TABLE remotes ADD COLUMN client_key_pem TEXT;",
    // v10: cases merge. A document's case is kept once, in `documents`
    // (postings read it from there), so a merge moves a case's documents
    // with one indexed update; each merge is recorded.
    "ALTER TABLE doc_keys DROP COLUMN case_id;
                 CREATE TABLE case_merges (
                    from_case INTEGER PRIMARY KEY,
                    into_case INTEGER NOT NULL,
                    at TEXT NOT NULL,
                    by_doc TEXT NOT NULL,
                    shared TEXT NOT NULL
                 );
                 CREATE INDEX case_merges_by_into ON case_merges (into_case);",
    // v11: a document's marking, when its source states one (a MISP
    // event's TLP tag, a report's highest portion).
    "ALTER TABLE documents ADD COLUMN marking TEXT;",
];
