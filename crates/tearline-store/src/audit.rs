//! The audit log: entries, the hash chain, and its verification.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ReleaseRecord;

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

/// Recomputes the chain. `head` is the `(seq, hash)` the store recorded
/// with its last append ([`crate::Store::audit_head`]), if any: the log
/// must reach it with that hash, which detects a log cut short or
/// rewritten from some point on. Returns the number of entries checked.
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
