//! The storage contract of a Tearline node.
//!
//! Everything a node keeps — who it is, its audiences, its protected-term
//! registry, releases, the TAXII collections, warnings, partners, remotes,
//! documents and cases, workbench users, drafts and release requests, and
//! the audit log — is kept behind the [`Store`] trait. The embedded SQLite
//! implementation lives in `tearline-store-sqlite`; a PostgreSQL one
//! implements the same trait. Only `tearline-store-*` crates know SQL.
//!
//! The contract keeps the node's invariants itself, so that no caller can
//! forget them:
//!
//! 1. **Whole or absent.** Each mutating call is one transaction: the
//!    change and its audit entry are stored together or not at all, and a
//!    call that returned `Ok` survives a crash. A release
//!    ([`Store::release`]) writes its record, its audit entry, its STIX
//!    objects, the warning it opens or supersedes, the request it fulfils
//!    and its document in one transaction, and runs the caller's last step
//!    (moving the output file into place) before it commits.
//! 2. **One hash-chained audit log with a head.** Every append chains the
//!    new entry to the previous one ([`entry_hash`]) and moves the recorded
//!    head ([`Store::audit_head`]) in the same transaction, whoever writes:
//!    the command line, the exchange, the lifecycle or the workbench.
//!    [`verify_chain`] recomputes the chain against the head, so an edited
//!    row and a log cut short are both detected.
//! 3. **Only cleared objects reach an audience.** An audience's read
//!    collection is written only by [`Store::release`], which takes
//!    [`tearline_release::ClearedObjects`] — a type only the leak check
//!    makes — and files them under the audience they were cleared for.
//!    [`Store::add_objects`] refuses read collections.
//! 4. **Serialised state changes.** A warning's event is appended only if
//!    the timeline is still what the caller read
//!    ([`Store::warning_event`]); a release request moves only from the
//!    state the caller saw ([`WorkbenchStore::request_move`]). Two writers
//!    cannot both decide.
//! 5. **Change is visible.** [`Store::generation`] changes whenever the
//!    registry, the audiences or the partners change, so a long-running
//!    server re-reads them before its next answer.
//!
//! Batches are scoped: [`DocumentStore::documents`] runs a closure inside
//! one transaction and commits when it returns `Ok`; nothing is left open
//! on a connection.
//!
//! The `testing` feature adds [`testing::conformance`], a suite that any
//! implementation must pass.
#![deny(missing_docs)]

mod audit;
mod collections;
mod records;
#[cfg(feature = "testing")]
pub mod testing;

pub use audit::{
    chain, entry_hash, release_audit, verify_chain, verify_releases, AuditEntry, ChainBreak,
    NewAuditEntry, GENESIS,
};
pub use collections::Collection;
pub use records::*;

use tearline_model::{Audience, ProtectedTerm};

/// A storage failure.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(String),
    /// The stored data is not what this version of Tearline wrote.
    #[error("store is corrupt: {0}")]
    Corrupt(String),
    /// The request conflicts with what is stored (a name taken, a state
    /// moved meanwhile).
    #[error("{0}")]
    Conflict(String),
    /// The request names something the store does not hold.
    #[error("{0}")]
    Missing(String),
    /// The caller's last step of a release failed; nothing was stored.
    #[error("{0}")]
    Aborted(String),
}

/// The audit entry that records one warning event.
pub fn event_audit(warning: i64, e: &StoredEvent) -> NewAuditEntry {
    NewAuditEntry {
        at: e.at.clone(),
        actor: e.actor.clone(),
        action: "warning.event".into(),
        subject: format!("warning {warning}"),
        detail: e.event.clone(),
    }
}

/// The audit entry that records one event of a received warning.
pub fn received_audit(id: i64, e: &StoredEvent) -> NewAuditEntry {
    NewAuditEntry {
        at: e.at.clone(),
        actor: e.actor.clone(),
        action: "received.event".into(),
        subject: format!("received {id}"),
        detail: e.event.clone(),
    }
}

/// What linking reads: document frequencies and postings by key. A store
/// offers it outside a batch, and a batch offers it inside (so the linker
/// sees documents added earlier in the same batch).
pub trait DocumentIndex {
    /// The SHA-256 of the stored document with this id.
    fn document_sha(&self, id: &str) -> Result<Option<String>, StoreError>;
    /// The number of the stored document with this id.
    fn document_seq(&self, id: &str) -> Result<Option<i64>, StoreError>;
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
    /// A document's keys and places.
    fn document_profile(&self, doc: i64) -> Result<(Vec<String>, Vec<String>), StoreError>;
}

/// One batch of documents, inside a transaction.
pub trait DocumentBatch: DocumentIndex {
    /// Stores a document in a case (`None`: a new case), replacing any
    /// stored document with the same id; the document is whole or absent
    /// even if the batch goes on. Returns its number and its case.
    fn add_document(&self, doc: &NewDocument, case: Option<i64>) -> Result<(i64, i64), StoreError>;
    /// Merges cases: every document of `merge.from` moves to `merge.into`,
    /// the merge is recorded (see [`DocumentStore::case_merges`]) and
    /// `audit` is appended to the audit log, all in the batch's
    /// transaction.
    fn merge_cases(&self, merge: &NewCaseMerge, audit: NewAuditEntry) -> Result<(), StoreError>;
}

/// Documents and cases: what fusion reads and writes.
pub trait DocumentStore: DocumentIndex {
    /// Runs `f` over one batch: everything it adds is committed together
    /// when it returns `Ok`, and nothing when it fails. A crash loses the
    /// batch being written, never part of a document.
    fn documents(
        &self,
        f: &mut dyn FnMut(&dyn DocumentBatch) -> Result<(), StoreError>,
    ) -> Result<(), StoreError>;
    /// One document.
    fn document(&self, seq: i64) -> Result<Option<StoredDocument>, StoreError>;
    /// Every case, newest first.
    fn cases(&self) -> Result<Vec<CaseSummary>, StoreError>;
    /// The documents of one case, oldest first.
    fn case_documents(&self, case: i64) -> Result<Vec<StoredDocument>, StoreError>;
    /// The merges into one case, oldest first.
    fn case_merges(&self, case: i64) -> Result<Vec<CaseMerge>, StoreError>;
    /// Every document's linking features, by number (for recomputing
    /// cases).
    fn document_features(&self) -> Result<Vec<DocumentFeatures>, StoreError>;
    /// Replaces every document's keys, span, places and case at once (a
    /// recomputation of every case): the merge records go, and `audit` is
    /// appended, in one transaction. Documents not listed keep theirs.
    fn relink(&self, docs: &[Relinked], audit: NewAuditEntry) -> Result<(), StoreError>;
}

/// What the workbench keeps: its users, drafts and release requests, and
/// when each partner was last in contact.
pub trait WorkbenchStore {
    /// Adds a user; a conflict if the name is taken.
    fn user_add(&self, user: &User, audit: NewAuditEntry) -> Result<(), StoreError>;
    /// A user by name.
    fn user(&self, name: &str) -> Result<Option<User>, StoreError>;
    /// Every user, by name.
    fn users(&self) -> Result<Vec<User>, StoreError>;
    /// Replaces a user's role and password hash, stamped `at`. False if no
    /// such user.
    fn user_update(
        &self,
        name: &str,
        role: &str,
        password_hash: &str,
        at: &str,
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// Removes a user. False if no such user.
    fn user_remove(&self, name: &str, audit: NewAuditEntry) -> Result<bool, StoreError>;

    /// Creates a draft (`id` None) or replaces one's title and body;
    /// returns its number. A missing-error if `id` names no draft. The
    /// audit entry's subject is filled in with the draft's number when
    /// empty.
    fn draft_save(
        &self,
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

    /// Records a pending release request; returns its number. The audit
    /// entry's subject is filled in with the request's number when empty.
    fn request_add(
        &self,
        request: &ReleaseRequest,
        audit: NewAuditEntry,
    ) -> Result<i64, StoreError>;
    /// A request by number.
    fn request(&self, id: i64) -> Result<Option<ReleaseRequest>, StoreError>;
    /// Every request, newest first.
    fn requests(&self) -> Result<Vec<ReleaseRequest>, StoreError>;
    /// Moves a request between states, recording who, when and the note;
    /// false (and nothing written) if it was not in state `from` — so two
    /// approvers cannot both approve.
    fn request_move(&self, m: &RequestMove<'_>, audit: NewAuditEntry) -> Result<bool, StoreError>;

    /// Records that a partner was in contact at `at`.
    fn partner_seen(&self, name: &str, at: &str) -> Result<(), StoreError>;
    /// When each partner was last in contact, by name.
    fn partners_seen(&self) -> Result<Vec<(String, String)>, StoreError>;
}

/// Everything a node stores. Each mutating call is atomic and appends its
/// audit entry, and moves the audit head, in the same transaction.
pub trait Store: DocumentStore + WorkbenchStore + Send + Sync {
    // ---- the node ----------------------------------------------------------

    /// Who the node is; `None` before [`Store::create_node`].
    fn node(&self) -> Result<Option<NodeInfo>, StoreError>;
    /// Records who the node is and its first audiences. False (and nothing
    /// written) if the node already exists.
    fn create_node(
        &self,
        info: &NodeInfo,
        audiences: &[Audience],
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// A number that changes whenever the registry, the audiences or the
    /// partners change.
    fn generation(&self) -> Result<i64, StoreError>;

    // ---- audiences ---------------------------------------------------------

    /// The audiences, in the order they were added.
    fn audiences(&self) -> Result<Vec<Audience>, StoreError>;
    /// Adds an audience. False if one with its name exists.
    fn audience_add(&self, audience: &Audience, audit: NewAuditEntry) -> Result<bool, StoreError>;
    /// Replaces an audience's level and source rule. False if there is
    /// none of that name.
    fn audience_update(
        &self,
        audience: &Audience,
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// Removes an audience. False if there is none of that name; a
    /// conflict while partners read its releases.
    fn audience_remove(&self, name: &str, audit: NewAuditEntry) -> Result<bool, StoreError>;

    // ---- the registry ------------------------------------------------------

    /// Adds a protected term; `key` is its normalised form, unique in the
    /// registry. Returns false if a term with that key is already there.
    fn protect_add(
        &self,
        term: &ProtectedTerm,
        key: &str,
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// Removes the term with normalised form `key`. Returns false if there
    /// was none.
    fn protect_remove(&self, key: &str, audit: NewAuditEntry) -> Result<bool, StoreError>;
    /// The registry, oldest first.
    fn protected_terms(&self) -> Result<Vec<StoredTerm>, StoreError>;

    // ---- the audit log -----------------------------------------------------

    /// Appends an entry on its own.
    fn audit(&self, entry: NewAuditEntry) -> Result<AuditEntry, StoreError>;
    /// The whole audit log, in order.
    fn audit_log(&self) -> Result<Vec<AuditEntry>, StoreError>;
    /// Up to `limit` entries after entry `after`, in order.
    fn audit_since(&self, after: i64, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;
    /// The `(seq, hash)` of the last entry appended, as recorded with it.
    fn audit_head(&self) -> Result<Option<(i64, String)>, StoreError>;
    // ---- releases ----------------------------------------------------------

    /// Records a release and everything that goes with it (see
    /// [`ReleaseWrite`]) in one transaction. `finish` runs last, before the
    /// commit; if it fails, nothing is stored and the error is
    /// [`StoreError::Aborted`]. A release whose audience differs from its
    /// objects', or whose superseded warning moved meanwhile, is refused.
    fn release(
        &self,
        write: &ReleaseWrite<'_>,
        finish: &mut dyn FnMut() -> Result<(), String>,
    ) -> Result<ReleaseRecord, StoreError>;
    /// Every recorded release, oldest first.
    fn releases(&self) -> Result<Vec<ReleaseRecord>, StoreError>;

    // ---- warnings ----------------------------------------------------------

    /// Appends an event (and its audit entry, [`event_audit`]) to a
    /// warning's timeline if the timeline still holds `events_seen` events,
    /// and sends what the change sends ([`Outgoing`]) in the same
    /// transaction; returns false, writing nothing, if the timeline has
    /// changed meanwhile. Published objects must be cleared for the
    /// warning's audience, a reply for its partner's.
    fn warning_event(
        &self,
        warning: i64,
        events_seen: usize,
        event: &StoredEvent,
        out: &Outgoing<'_>,
    ) -> Result<bool, StoreError>;
    /// Every warning with its timeline, newest first.
    fn warnings(&self) -> Result<Vec<WarningRecord>, StoreError>;
    /// One warning.
    fn warning(&self, id: i64) -> Result<Option<WarningRecord>, StoreError>;
    /// The newest warning that released report `report_id` to `audience`.
    fn warning_for_report(
        &self,
        report_id: &str,
        audience: &str,
    ) -> Result<Option<WarningRecord>, StoreError>;

    /// The source of a released report, by the SHA-256 of its text.
    fn report_source(&self, sha256: &str) -> Result<Option<(String, String)>, StoreError>;

    // ---- received warnings -------------------------------------------------

    /// Starts following a warning received from a remote, with its first
    /// event and audit entry. `None` (nothing written) if that remote's
    /// report is already followed.
    fn received_add(
        &self,
        warning: &NewReceived,
        first: &StoredEvent,
    ) -> Result<Option<i64>, StoreError>;
    /// Appends an event (and its audit entry, [`received_audit`]) to a
    /// received warning's timeline if it still holds `events_seen` events,
    /// and queues `responses` for the remote in the same transaction;
    /// false, writing nothing, if it has changed meanwhile.
    fn received_event(
        &self,
        id: i64,
        events_seen: usize,
        event: &StoredEvent,
        responses: &[NewObject],
    ) -> Result<bool, StoreError>;
    /// Every received warning with its timeline, newest first.
    fn received_warnings(&self) -> Result<Vec<ReceivedRecord>, StoreError>;
    /// One received warning.
    fn received_warning(&self, id: i64) -> Result<Option<ReceivedRecord>, StoreError>;
    /// The received warning of a remote's report.
    fn received_for(
        &self,
        remote: &str,
        report_id: &str,
    ) -> Result<Option<ReceivedRecord>, StoreError>;

    // ---- collections -------------------------------------------------------

    /// Adds objects to an inbox, received or outbox collection and records
    /// the envelope's status, in one transaction. An object whose id and
    /// version the collection already holds is counted a success and not
    /// stored twice. A read collection is refused: only
    /// [`Store::release`] writes there.
    fn add_objects(
        &self,
        collection: &Collection,
        objects: &[NewObject],
        status: &mut EnvelopeStatus,
    ) -> Result<(), StoreError>;
    /// Objects of a collection matching a query.
    fn objects(
        &self,
        collection: &Collection,
        query: &ObjectQuery,
    ) -> Result<ObjectPage, StoreError>;
    /// Deletes every version of an object (or those in `versions`, when not
    /// empty) from a collection; returns how many were deleted.
    fn delete_object(
        &self,
        collection: &Collection,
        id: &str,
        versions: &[String],
        audit: NewAuditEntry,
    ) -> Result<usize, StoreError>;
    /// A stored envelope status.
    fn status(&self, id: &str) -> Result<Option<EnvelopeStatus>, StoreError>;
    /// Stores objects pulled from a remote into its received collection and
    /// moves the cursor, in one transaction: an interrupted sync resumes
    /// where the last stored page ended.
    fn add_pulled(
        &self,
        remote: &str,
        objects: &[NewObject],
        at: &str,
        cursor_key: &str,
        cursor: Option<&str>,
    ) -> Result<(), StoreError>;
    /// Queues responses for a remote in its outbox, with an audit entry.
    fn queue_responses(
        &self,
        remote: &str,
        objects: &[NewObject],
        at: &str,
        audit: NewAuditEntry,
    ) -> Result<(), StoreError>;
    /// A sync cursor.
    fn cursor(&self, key: &str) -> Result<Option<String>, StoreError>;
    /// Moves a cursor on its own.
    fn set_cursor(&self, key: &str, value: &str) -> Result<(), StoreError>;

    // ---- partners and remotes ----------------------------------------------

    /// Adds a partner; a conflict if the name is taken, missing if its
    /// audience is not one of the node's.
    fn partner_add(&self, partner: &Partner, audit: NewAuditEntry) -> Result<(), StoreError>;
    /// Replaces a partner's credentials. False if no such partner.
    fn partner_rotate(
        &self,
        name: &str,
        password_sha256: &str,
        token_sha256: &str,
        at: &str,
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// Binds a partner to a TLS client certificate (the SHA-256 of its
    /// DER, lowercase hex), or unbinds it with `None`. False if no such
    /// partner.
    fn partner_set_client_cert(
        &self,
        name: &str,
        sha256: Option<&str>,
        audit: NewAuditEntry,
    ) -> Result<bool, StoreError>;
    /// Removes a partner. False if no such partner.
    fn partner_remove(&self, name: &str, audit: NewAuditEntry) -> Result<bool, StoreError>;
    /// Every partner, by name.
    fn partners(&self) -> Result<Vec<Partner>, StoreError>;

    /// Adds a remote; a conflict if the name is taken.
    fn remote_add(&self, remote: &RemoteRecord, audit: NewAuditEntry) -> Result<(), StoreError>;
    /// Removes a remote. False if no such remote.
    fn remote_remove(&self, name: &str, audit: NewAuditEntry) -> Result<bool, StoreError>;
    /// Every remote, by name.
    fn remotes(&self) -> Result<Vec<RemoteRecord>, StoreError>;
}
