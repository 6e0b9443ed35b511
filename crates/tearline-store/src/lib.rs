//! The storage interface of a Tearline node.
//!
//! Domain code talks to storage only through the [`Store`] trait; the
//! embedded SQLite implementation lives in `tearline-store-sqlite`, and a
//! PostgreSQL one can follow without touching any domain crate. Only
//! `tearline-store-*` crates know SQL.
//!
//! Two rules every implementation keeps:
//!
//! 1. **Atomic writes.** Each mutating call is one transaction: the change
//!    and its audit entry are stored together or not at all, and a call
//!    that returned `Ok` survives a crash.
//! 2. **An append-only, hash-chained audit log.** Every change appends an
//!    [`AuditEntry`] whose hash covers its own fields and the previous
//!    entry's hash ([`entry_hash`]). [`verify_chain`] recomputes the chain
//!    and names the first entry that does not fit, so an edit to any row is
//!    detected.
#![deny(missing_docs)]

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tearline_model::ProtectedTerm;

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(String),
    /// The stored data is not what this version of Tearline wrote.
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// The request conflicts with what is stored.
    #[error("{0}")]
    Conflict(String),
}

/// A release about to be recorded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRelease {
    /// The audience it was cleared for.
    pub audience: String,
    /// `md`, `json` or `stix`.
    pub format: String,
    /// The report's file name or path.
    pub report_name: String,
    /// The report's title.
    pub report_title: String,
    /// SHA-256 of the report source, hex.
    pub report_sha256: String,
    /// SHA-256 of the released bytes, hex.
    pub content_sha256: String,
    /// Where it was written, if to a file.
    pub output: Option<String>,
}

/// A recorded release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRecord {
    /// Its number at this node.
    pub id: i64,
    /// When it was recorded (RFC 3339).
    pub released_at: String,
    /// Who released it.
    pub actor: String,
    /// What was released.
    #[serde(flatten)]
    pub release: NewRelease,
}

/// A protected term with who added it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredTerm {
    /// The term.
    #[serde(flatten)]
    pub term: ProtectedTerm,
    /// When it was added (RFC 3339).
    pub added_at: String,
    /// Who added it.
    pub added_by: String,
}

/// An audit entry to append.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// What happened, e.g. `release`, `protect.add`.
    pub action: String,
    /// What it happened to.
    pub subject: String,
    /// Details as a JSON object.
    pub detail: String,
}

/// One entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 1, without gaps.
    pub seq: i64,
    /// The entry's content.
    #[serde(flatten)]
    pub entry: NewAuditEntry,
    /// The previous entry's hash (64 zeros for the first).
    pub prev_hash: String,
    /// This entry's hash.
    pub hash: String,
}

/// The hash before the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash of an entry: SHA-256 over the previous hash and each field,
/// each length-prefixed so no two different entries hash alike.
pub fn entry_hash(seq: i64, e: &NewAuditEntry, prev_hash: &str) -> String {
    let mut h = Sha256::new();
    let seq_s = seq.to_string();
    for part in [
        prev_hash, &seq_s, &e.at, &e.actor, &e.action, &e.subject, &e.detail,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// Builds the entry that follows `prev` (or starts the log).
pub fn chain(prev: Option<&AuditEntry>, e: NewAuditEntry) -> AuditEntry {
    let (seq, prev_hash) = match prev {
        Some(p) => (p.seq + 1, p.hash.clone()),
        None => (1, GENESIS.to_string()),
    };
    let hash = entry_hash(seq, &e, &prev_hash);
    AuditEntry {
        seq,
        entry: e,
        prev_hash,
        hash,
    }
}

/// Where the audit chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit entry {seq}: {reason}")]
pub struct ChainBreak {
    /// The first entry that does not fit.
    pub seq: i64,
    /// Why.
    pub reason: String,
}

/// Recomputes the chain. `head` is the last `(seq, hash)` recorded outside
/// the database, if any: the log must reach it with that hash, which
/// detects a log cut short or rewritten from some point on. Returns the
/// number of entries checked.
pub fn verify_chain(
    entries: &[AuditEntry],
    head: Option<(i64, &str)>,
) -> Result<usize, ChainBreak> {
    let mut prev = GENESIS.to_string();
    for (i, e) in entries.iter().enumerate() {
        let want_seq = i as i64 + 1;
        if e.seq != want_seq {
            return Err(ChainBreak {
                seq: want_seq,
                reason: format!("missing (the next stored entry is {})", e.seq),
            });
        }
        if e.prev_hash != prev {
            return Err(ChainBreak {
                seq: e.seq,
                reason: "does not follow the entry before it (previous hash differs)".into(),
            });
        }
        if entry_hash(e.seq, &e.entry, &e.prev_hash) != e.hash {
            return Err(ChainBreak {
                seq: e.seq,
                reason: "content does not match its hash (the row was edited)".into(),
            });
        }
        prev = e.hash.clone();
    }
    if let Some((seq, hash)) = head {
        match entries.get((seq - 1).max(0) as usize) {
            Some(e) if e.seq == seq && e.hash == hash => {}
            Some(e) if e.seq == seq => {
                return Err(ChainBreak {
                    seq,
                    reason: "differs from the recorded head of the log (the log was rewritten)"
                        .into(),
                })
            }
            _ => {
                return Err(ChainBreak {
                    seq,
                    reason: format!(
                        "missing: the recorded head is entry {seq} but the log ends at {}",
                        entries.len()
                    ),
                })
            }
        }
    }
    Ok(entries.len())
}

/// A STIX object held in a TAXII collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewObject {
    /// The STIX id.
    pub id: String,
    /// The STIX type.
    pub object_type: String,
    /// Its version: `modified`, else `created`.
    pub version: String,
    /// `spec_version`.
    pub spec_version: String,
    /// The object, serialised.
    pub json: String,
}

/// A stored object with the time the collection received it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredObject {
    /// Position in the store, for paging.
    pub seq: i64,
    /// The object.
    #[serde(flatten)]
    pub object: NewObject,
    /// When it was added to the collection (RFC 3339, microseconds, unique
    /// and increasing within the collection).
    pub date_added: String,
}

/// Which versions of each object a query returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionMatch {
    /// The newest version of each object.
    Last,
    /// The oldest.
    First,
    /// Every version.
    All,
    /// Versions equal to one of these.
    Exact(Vec<String>),
}

/// A query over one collection. Empty lists mean "any".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectQuery {
    /// Only objects added after this time.
    pub added_after: Option<String>,
    /// Only these ids.
    pub ids: Vec<String>,
    /// Only these types.
    pub types: Vec<String>,
    /// Which versions.
    pub versions: VersionMatch,
    /// Only these spec versions.
    pub spec_versions: Vec<String>,
    /// Continue after this `seq` (from a `next` token).
    pub after_seq: Option<i64>,
    /// At most this many.
    pub limit: usize,
}

/// A page of objects, and whether more follow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectPage {
    /// The objects, in the order they were added.
    pub objects: Vec<StoredObject>,
    /// Whether more objects match.
    pub more: bool,
}

/// The status of a POST of objects to a collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeStatus {
    /// The status id.
    pub id: String,
    /// Who posted it (partner name).
    pub owner: String,
    /// When the request arrived.
    pub request_timestamp: String,
    /// Ids and versions stored.
    pub successes: Vec<(String, String)>,
    /// Ids that failed, with the reason.
    pub failures: Vec<(String, String)>,
}

/// A partner: a named recipient with credentials, bound to one audience.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partner {
    /// The partner's name; also its HTTP Basic user name.
    pub name: String,
    /// The audience whose releases it reads.
    pub audience: String,
    /// SHA-256 (hex) of its password.
    pub password_sha256: String,
    /// SHA-256 (hex) of its bearer token.
    pub token_sha256: String,
    /// When it was added (RFC 3339).
    pub created_at: String,
    /// When its credentials were last set (RFC 3339).
    pub rotated_at: String,
}

/// A warning about to be created with its release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewWarning {
    /// The STIX id of the released report.
    pub report_id: String,
    /// The audience it was released to.
    pub audience: String,
    /// The report's title as released.
    pub title: String,
    /// Start of the validity window (RFC 3339).
    pub valid_from: Option<String>,
    /// End of the validity window (RFC 3339).
    pub valid_until: String,
}

/// One event in a warning's timeline, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEvent {
    /// When (RFC 3339).
    pub at: String,
    /// Who.
    pub actor: String,
    /// The event, as JSON (the lifecycle crate gives it meaning).
    pub event: String,
}

/// A stored warning and its timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningRecord {
    /// The warning's number: the number of the release that issued it.
    pub id: i64,
    /// What was warned.
    #[serde(flatten)]
    pub warning: NewWarning,
    /// The timeline, oldest first.
    pub events: Vec<StoredEvent>,
}

/// A document read into entities, about to be stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewDocument {
    /// Its id: the one it came with, else derived from its content.
    pub id: String,
    /// Where it was read from (a path, a URL, `file.jsonl:12`).
    pub source: String,
    /// Its URL, if it has one.
    pub url: Option<String>,
    /// Its title (the first line, or a report's title).
    pub title: String,
    /// When it was published (`YYYY-MM-DD` or RFC 3339).
    pub published: Option<String>,
    /// Its language (ISO 639-1), if known.
    pub lang: Option<String>,
    /// SHA-256 of its text, hex.
    pub sha256: String,
    /// Its text.
    pub text: String,
    /// What was read from it (the extractor's JSON).
    pub extraction: String,
    /// The keys it is linked by.
    pub keys: Vec<String>,
    /// First day of its events (days since 1970-01-01).
    pub from_day: Option<i64>,
    /// Last day of its events.
    pub until_day: Option<i64>,
    /// Its cities and countries.
    pub places: Vec<String>,
    /// When it was stored (RFC 3339).
    pub ingested_at: String,
}

/// A stored document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredDocument {
    /// Its number at this node.
    pub seq: i64,
    /// The case it belongs to.
    pub case_id: i64,
    /// The document.
    #[serde(flatten)]
    pub doc: NewDocument,
}

/// A stored document carrying a key, for linking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPosting {
    /// The document's number.
    pub doc: i64,
    /// Its case.
    pub case_id: i64,
    /// Its first day.
    pub from_day: i64,
    /// Its last day.
    pub until_day: i64,
}

/// A case and its extent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseSummary {
    /// Its number.
    pub id: i64,
    /// How many documents it holds.
    pub documents: i64,
    /// First day of its documents' events (`YYYY-MM-DD` as days since 1970).
    pub from_day: Option<i64>,
    /// Last day.
    pub until_day: Option<i64>,
}

/// The day stored for the keys of a document with no date: far outside any
/// window a linker asks about.
pub const NO_DAY: i64 = -1_000_000;

/// Documents and cases: what fusion reads and writes.
pub trait DocumentStore {
    /// The SHA-256 of the stored document with this id.
    fn document_sha(&self, id: &str) -> Result<Option<String>, StoreError>;
    /// Stores a document in a case (`None`: a new case), replacing any
    /// stored document with the same id, in one transaction. Returns the
    /// document's number and its case.
    fn add_document(
        &mut self,
        doc: &NewDocument,
        case: Option<i64>,
    ) -> Result<(i64, i64), StoreError>;
    /// Opens a batch: documents added until [`commit_documents`] are
    /// committed together (each still whole or absent), and are visible to
    /// the linker meanwhile. A crash loses the uncommitted batch, never part
    /// of a document.
    ///
    /// [`commit_documents`]: DocumentStore::commit_documents
    fn begin_documents(&mut self) -> Result<(), StoreError>;
    /// Commits the open batch, if any.
    fn commit_documents(&mut self) -> Result<(), StoreError>;
    /// Stores many documents with known cases in one transaction (bulk
    /// loads).
    fn add_documents(&mut self, docs: &[(NewDocument, i64)]) -> Result<(), StoreError>;
    /// How many documents are stored.
    fn document_count(&self) -> Result<u64, StoreError>;
    /// How many documents carry `key`.
    fn key_df(&self, key: &str) -> Result<u64, StoreError>;
    /// Up to `limit` documents carrying `key` whose first day lies in
    /// `from_min..=from_max` and whose last day is at least `until_min`.
    fn key_postings(
        &self,
        key: &str,
        from_min: i64,
        from_max: i64,
        until_min: i64,
        limit: usize,
    ) -> Result<Vec<KeyPosting>, StoreError>;
    /// Up to `limit` documents carrying `key`, newest first, whatever their
    /// days.
    fn key_documents(&self, key: &str, limit: usize) -> Result<Vec<i64>, StoreError>;
    /// A document's places.
    fn document_places(&self, doc: i64) -> Result<Vec<String>, StoreError>;
    /// One document.
    fn document(&self, seq: i64) -> Result<Option<StoredDocument>, StoreError>;
    /// Every case, newest first.
    fn cases(&self) -> Result<Vec<CaseSummary>, StoreError>;
    /// The documents of one case, oldest first.
    fn case_documents(&self, case: i64) -> Result<Vec<StoredDocument>, StoreError>;
}

/// A person who signs in to the workbench.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// The sign-in name.
    pub name: String,
    /// `analyst`, `releaser` or `admin` (the workbench gives it meaning).
    pub role: String,
    /// The password hash in PHC string form (never the password).
    pub password_hash: String,
    /// When the user was added (RFC 3339).
    pub created_at: String,
    /// When the password was last set (RFC 3339).
    pub updated_at: String,
}

/// A report being written in the workbench.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// Its number.
    pub id: i64,
    /// Its title, as the report's front matter gives it when it parses.
    pub title: String,
    /// The report source (Markdown with markings).
    pub body: String,
    /// Who created it.
    pub author: String,
    /// When it was created (RFC 3339).
    pub created_at: String,
    /// When it was last saved.
    pub updated_at: String,
    /// Who saved it last.
    pub updated_by: String,
}

/// A release waiting for a second releaser (the two-person rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseRequest {
    /// Its number.
    pub id: i64,
    /// The draft it was made from, if any.
    pub draft_id: Option<i64>,
    /// The exact report source to be released.
    pub body: String,
    /// SHA-256 (hex) of `body`: what the approver approves.
    pub report_sha256: String,
    /// The audience.
    pub audience: String,
    /// Who asked.
    pub requested_by: String,
    /// When (RFC 3339).
    pub requested_at: String,
    /// `pending`, `approved`, `rejected`, `released` or `failed`.
    pub state: String,
    /// Who decided.
    pub decided_by: Option<String>,
    /// When.
    pub decided_at: Option<String>,
    /// The decision's note, or why the release failed.
    pub note: Option<String>,
    /// The release it became.
    pub release_id: Option<i64>,
}

/// What the workbench keeps: its users, drafts and release requests, and
/// when each partner was last in contact.
pub trait WorkbenchStore {
    /// Adds a user; a conflict if the name is taken.
    fn user_add(&mut self, user: &User, audit: NewAuditEntry) -> Result<(), StoreError>;
    /// A user by name.
    fn user(&self, name: &str) -> Result<Option<User>, StoreError>;
    /// Every user, by name.
    fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Replaces a user's password hash (and role). False if no such user.
    fn user_update(
        &mut self,
        name: &str,
        role: &str,
        password_hash: &str,
        at: &str,
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// Removes a user. False if no such user.
    fn user_remove(&mut self, name: &str, audit: NewAuditEntry) -> Result<bool, StoreError>;

    /// Creates a draft (`id` None) or replaces one's title and body;
    /// returns its number. A conflict if `id` names no draft.
    fn draft_save(
        &mut self,
        id: Option<i64>,
        title: &str,
        body: &str,
        by: &str,
        at: &str,
        audit: NewAuditEntry,
    ) -> Result<i64, StoreError>;
    /// A draft by number.
    fn draft(&self, id: i64) -> Result<Option<Draft>, StoreError>;
    /// Every draft, most recently saved first.
    fn drafts(&self) -> Result<Vec<Draft>, StoreError>;

    /// Records a release request; returns its number.
    fn request_add(
        &mut self,
        request: &ReleaseRequest,
        audit: NewAuditEntry,
    ) -> Result<i64, StoreError>;
    /// A request by number.
    fn request(&self, id: i64) -> Result<Option<ReleaseRequest>, StoreError>;
    /// Every request, newest first.
    fn requests(&self) -> Result<Vec<ReleaseRequest>, StoreError>;
    /// Moves a request from state `from` to `to`, recording who, when, the
    /// note and the release; false (and nothing written) if it was not in
    /// state `from` — so two approvers cannot both approve.
    #[allow(clippy::too_many_arguments)]
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
    ) -> Result<bool, StoreError>;

    /// Records that a partner was in contact at `at`.
    fn partner_seen(&mut self, name: &str, at: &str) -> Result<(), StoreError>;
    /// When each partner was last in contact, by name.
    fn partners_seen(&self) -> Result<Vec<(String, String)>, StoreError>;
}

/// Everything a node stores. Each mutating call is atomic and appends its
/// audit entry in the same transaction.
pub trait Store: DocumentStore + WorkbenchStore {
    /// Adds a protected term; `key` is its normalised form, unique in the
    /// registry. Returns false if a term with that key is already there.
    fn protect_add(
        &mut self,
        term: &ProtectedTerm,
        key: &str,
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// Removes the term with normalised form `key`. Returns false if there
    /// was none.
    fn protect_remove(&mut self, key: &str, audit: NewAuditEntry) -> Result<bool, StoreError>;
    /// The registry, oldest first.
    fn protected_terms(&self) -> Result<Vec<StoredTerm>, StoreError>;
    /// Records a release and its audit entry.
    fn record_release(
        &mut self,
        release: &NewRelease,
        actor: &str,
        at: &str,
    ) -> Result<ReleaseRecord, StoreError>;
    /// Every recorded release, oldest first.
    fn releases(&self) -> Result<Vec<ReleaseRecord>, StoreError>;
    /// Appends an entry to the audit log on its own.
    fn audit(&mut self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError>;
    /// The whole audit log, in order.
    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError>;

    /// Records a release, publishes its STIX objects to `collection` and
    /// appends the audit entry, all in one transaction.
    fn record_release_published(
        &mut self,
        release: &NewRelease,
        actor: &str,
        at: &str,
        collection: &str,
        objects: &[NewObject],
        warning: Option<(&NewWarning, &StoredEvent)>,
    ) -> Result<ReleaseRecord, StoreError>;
    /// Appends an event to a warning's timeline, with its audit entry.
    fn warning_event(
        &mut self,
        warning: i64,
        event: &StoredEvent,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// Every warning with its timeline, newest first.
    fn warnings(&self) -> Result<Vec<WarningRecord>, StoreError>;
    /// One warning.
    fn warning(&self, id: i64) -> Result<Option<WarningRecord>, StoreError>;
    /// The warning that released report `report_id` to `audience`.
    fn warning_for_report(
        &self,
        report_id: &str,
        audience: &str,
    ) -> Result<Option<WarningRecord>, StoreError>;
    /// Adds objects to a collection and records the envelope's status, in
    /// one transaction. An object whose id and version the collection
    /// already holds is counted a success and not stored twice.
    fn add_objects(
        &mut self,
        collection: &str,
        objects: &[NewObject],
        status: &mut EnvelopeStatus,
    ) -> Result<(), StoreError>;
    /// Objects of a collection matching a query.
    fn objects(&self, collection: &str, query: &ObjectQuery) -> Result<ObjectPage, StoreError>;
    /// Deletes every version of an object (or those in `versions`, when not
    /// empty) from a collection; returns how many were deleted.
    fn delete_object(
        &mut self,
        collection: &str,
        id: &str,
        versions: &[String],
        audit: NewAuditEntry,
    ) -> Result<usize, StoreError>;
    /// A stored envelope status.
    fn status(&self, id: &str) -> Result<Option<EnvelopeStatus>, StoreError>;

    /// Adds a partner.
    fn partner_add(&mut self, partner: &Partner, audit: NewAuditEntry) -> Result<(), StoreError>;
    /// Replaces a partner's credentials.
    fn partner_rotate(
        &mut self,
        name: &str,
        password_sha256: &str,
        token_sha256: &str,
        at: &str,
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// Removes a partner.
    fn partner_remove(&mut self, name: &str, audit: NewAuditEntry) -> Result<bool, StoreError>;
    /// Every partner, by name.
    fn partners(&self) -> Result<Vec<Partner>, StoreError>;

    /// A sync cursor (e.g. the remote's last `date_added` for a
    /// collection).
    fn cursor(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Stores objects pulled from a remote into `collection` and moves the
    /// cursor, in one transaction: an interrupted sync resumes where the
    /// last stored page ended.
    fn add_pulled(
        &mut self,
        collection: &str,
        objects: &[NewObject],
        at: &str,
        cursor_key: &str,
        cursor: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Adds objects to a local collection (e.g. an outbox), with an audit
    /// entry, in one transaction.
    fn add_local(
        &mut self,
        collection: &str,
        objects: &[NewObject],
        at: &str,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// Moves a cursor on its own.
    fn set_cursor(&mut self, key: &str, value: &str) -> Result<(), StoreError>;
}

/// The audit entry that records a release.
pub fn release_audit(r: &ReleaseRecord) -> NewAuditEntry {
    NewAuditEntry {
        at: r.released_at.clone(),
        actor: r.actor.clone(),
        action: "release".into(),
        subject: format!("release {}", r.id),
        detail: serde_json::to_string(&r.release).unwrap_or_default(),
    }
}

/// Cross-checks recorded releases against their audit entries: a release
/// row edited after the fact no longer matches the entry that recorded it.
pub fn verify_releases(releases: &[ReleaseRecord], log: &[AuditEntry]) -> Result<(), String> {
    for r in releases {
        let want = release_audit(r);
        let subject = format!("release {}", r.id);
        match log
            .iter()
            .find(|e| e.entry.action == "release" && e.entry.subject == subject)
        {
            Some(e) if e.entry == want => {}
            Some(e) => {
                return Err(format!(
                "release {} does not match audit entry {} that recorded it (the row was edited)",
                r.id, e.seq
            ))
            }
            None => return Err(format!("release {} has no audit entry", r.id)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(n: &str) -> NewAuditEntry {
        NewAuditEntry {
            at: "2026-01-01T00:00:00Z".into(),
            actor: "a".into(),
            action: n.into(),
            subject: "s".into(),
            detail: "{}".into(),
        }
    }

    #[test]
    fn chain_verifies_and_edits_are_found() {
        let mut log: Vec<AuditEntry> = Vec::new();
        for n in ["one", "two", "three"] {
            let next = chain(log.last(), e(n));
            log.push(next);
        }
        assert_eq!(verify_chain(&log, Some((3, &log[2].hash.clone()))), Ok(3));
        let mut edited = log.clone();
        edited[1].entry.actor = "mallory".into();
        assert_eq!(verify_chain(&edited, None).unwrap_err().seq, 2);
        let mut gap = log.clone();
        gap.remove(1);
        assert_eq!(verify_chain(&gap, None).unwrap_err().seq, 2);
        let head = log[2].hash.clone();
        let cut = &log[..2];
        assert_eq!(verify_chain(cut, Some((3, &head))).unwrap_err().seq, 3);
    }
}
