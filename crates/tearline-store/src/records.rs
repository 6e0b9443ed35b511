//! The records a store keeps, as plain data.

use serde::{Deserialize, Serialize};
use tearline_model::ProtectedTerm;

use crate::NewAuditEntry;

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
    /// SHA-256 (lowercase hex) of the DER of the TLS client certificate it
    /// is bound to: when set, its requests must come over a connection
    /// that presented this certificate, besides its password or token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_sha256: Option<String>,
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
    /// Its TLP level (`TLP:AMBER`) when its source states one: a MISP
    /// event's TLP tag (TLP:RED for an untagged event), a report's highest
    /// portion. `None` for text that carries no marking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marking: Option<String>,
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

/// A merge of cases about to be made: a document related to documents of
/// several cases bridges them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCaseMerge {
    /// The case that remains.
    pub into: i64,
    /// The cases merged into it.
    pub from: Vec<i64>,
    /// When (RFC 3339).
    pub at: String,
    /// The id of the document that bridged them.
    pub by: String,
    /// The keys it shares with them.
    pub shared: Vec<String>,
}

/// Where a new document goes: the case it joins (`None`: a new case) and
/// the cases it bridges, merged into that one first, with the audit entry
/// that records the merge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// The case it joins.
    pub case: Option<i64>,
    /// The merge it makes.
    pub merge: Option<(NewCaseMerge, NewAuditEntry)>,
}

/// A recorded merge of one case into another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseMerge {
    /// The case merged.
    pub from: i64,
    /// The case it went into.
    pub into: i64,
    /// When (RFC 3339).
    pub at: String,
    /// The id of the document that bridged them.
    pub by: String,
    /// The keys it shares with them.
    pub shared: Vec<String>,
}

/// What linking needs of a stored document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentFeatures {
    /// Its number.
    pub seq: i64,
    /// Its id.
    pub id: String,
    /// When it was published.
    pub published: Option<String>,
    /// Its language.
    pub lang: Option<String>,
    /// Its extraction (JSON).
    pub extraction: String,
}

/// A document's recomputed linking: keys, span, places and case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relinked {
    /// Its number.
    pub seq: i64,
    /// Its keys.
    pub keys: Vec<String>,
    /// Its first day.
    pub from_day: Option<i64>,
    /// Its last day.
    pub until_day: Option<i64>,
    /// Its places.
    pub places: Vec<String>,
    /// Its case.
    pub case: i64,
}

/// The day stored for the keys of a document with no date: far outside any
/// window a linker asks about.
pub const NO_DAY: i64 = -1_000_000;

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
    /// The warning the release re-issues, if it does.
    #[serde(default)]
    pub supersedes: Option<i64>,
    /// The report's name as the requester gave it.
    #[serde(default)]
    pub name: Option<String>,
}

/// Who a node is: the organisation named as the producer of its releases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeInfo {
    /// The organisation's name.
    pub name: String,
    /// When the node was created (RFC 3339).
    pub created: String,
}

/// A TAXII server this node reads releases from, with our credentials
/// there.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteRecord {
    /// Our name for it.
    pub name: String,
    /// Its URL.
    pub url: String,
    /// HTTP Basic user name.
    pub user: Option<String>,
    /// HTTP Basic password.
    pub password: Option<String>,
    /// A bearer token (used instead of Basic when present).
    pub token: Option<String>,
    /// Its public key (`ed25519:...`): pulled objects must carry valid
    /// signatures.
    pub key: Option<String>,
    /// The collections to pull; empty: every collection we may read but
    /// not write.
    pub collections: Vec<String>,
    /// When it was added (RFC 3339).
    pub added_at: String,
    /// The certificates (PEM) that its server certificate must chain to,
    /// instead of the usual public roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
    /// Our TLS client certificate chain (PEM), presented to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_cert_pem: Option<String>,
    /// The private key (PEM) of our client certificate: a secret, kept
    /// like the password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_key_pem: Option<String>,
}

/// An earlier warning that a release re-issues: the events that close it,
/// written in the release's transaction.
pub struct Supersede<'a> {
    /// The warning re-issued.
    pub warning: i64,
    /// How many events its timeline held when the release was decided:
    /// if another event arrived meanwhile the release is refused.
    pub events_seen: usize,
    /// The events to append (each with its audit entry), given the new
    /// release's number.
    pub events: &'a dyn Fn(i64) -> Vec<StoredEvent>,
}

/// Everything one release writes, in one transaction: its record and audit
/// entry, its cleared STIX objects in its audience's read collection, the
/// warning it opens (with its first event), the warning it supersedes, the
/// request it fulfils, and its report as a document for fusion.
pub struct ReleaseWrite<'a> {
    /// The release record.
    pub release: &'a NewRelease,
    /// Who released it.
    pub actor: &'a str,
    /// When (RFC 3339).
    pub at: &'a str,
    /// Its STIX objects, cleared for `release.audience`.
    pub objects: &'a tearline_release::ClearedObjects,
    /// The warning it opens, with its first event.
    pub warning: Option<(&'a NewWarning, &'a StoredEvent)>,
    /// The warning it re-issues.
    pub supersedes: Option<Supersede<'a>>,
    /// The request (the two-person rule) it fulfils: approved and released
    /// in this transaction, so it is decided once.
    pub request: Option<Approval<'a>>,
    /// The report as a document for fusion, with where it goes.
    pub document: Option<(&'a NewDocument, &'a Placement)>,
    /// The report's source (name and text), kept so that the sender can
    /// later publish changes to the warning through the leak check, and
    /// re-issue it.
    pub source: Option<(&'a str, &'a str)>,
}

/// What a sender's change to a warning sends, in the change's transaction.
#[derive(Default)]
pub struct Outgoing<'a> {
    /// New objects (a new version of the report, a note) for the warning's
    /// audience, cleared for it.
    pub publish: Option<&'a tearline_release::ClearedObjects>,
    /// A reply to one partner, into its inbox, cleared for its audience.
    pub reply: Option<(&'a str, &'a tearline_release::ClearedObjects)>,
}

/// A warning received from a remote, about to be followed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewReceived {
    /// The remote it came from.
    pub remote: String,
    /// The STIX id of its report.
    pub report_id: String,
    /// Its title.
    pub title: String,
    /// Its TLP marking, as the sender's extension gives it.
    pub marking: Option<String>,
    /// Start of the sender's window (RFC 3339).
    pub valid_from: Option<String>,
    /// End of the sender's window as first received (RFC 3339).
    pub valid_until: String,
    /// When this node received it (RFC 3339).
    pub received_at: String,
}

/// A received warning and its timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceivedRecord {
    /// Its number at this node.
    pub id: i64,
    /// What was received.
    #[serde(flatten)]
    pub warning: NewReceived,
    /// The timeline, oldest first (the event JSON is the lifecycle's).
    pub events: Vec<StoredEvent>,
}

/// A second person's approval of a pending release request.
pub struct Approval<'a> {
    /// The request.
    pub id: i64,
    /// The approver's note.
    pub note: &'a str,
    /// The approval's audit entry (its actor is the approver).
    pub audit: NewAuditEntry,
}

/// A release request moving from one state to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestMove<'a> {
    /// The request.
    pub id: i64,
    /// The state it must be in.
    pub from: &'a str,
    /// The state it moves to.
    pub to: &'a str,
    /// Who decided.
    pub by: &'a str,
    /// When (RFC 3339).
    pub at: &'a str,
    /// The decision's note, or why a release failed.
    pub note: Option<&'a str>,
}
