//! The node's configuration and its record: audiences, the protected-term
//! registry and the audit log.

use std::path::Path;

use serde_json::{json, Value};
use tearline_model::{Audience, Level, ProtectedTerm, TermKind};
use tearline_release::normalize::normalize_term;
use tearline_release::Registry;
use tearline_store::{verify_chain, verify_releases, AuditEntry, StoredTerm};

use crate::{Caller, Code, Error, Node, Result};

/// A term just registered.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The term.
    pub term: ProtectedTerm,
    /// It is very short and will match any word spelled the same.
    pub short: bool,
}

/// What an import of a registry file did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Imported {
    /// Terms added.
    pub added: usize,
    /// Terms already registered.
    pub known: usize,
}

/// The audit log verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Entries checked.
    pub entries: usize,
    /// Release records cross-checked.
    pub releases: usize,
    /// The last entry's hash.
    pub head: Option<String>,
}

impl std::fmt::Display for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "audit log verified: {} entries, {} releases; head {}",
            self.entries,
            self.releases,
            self.head.as_deref().unwrap_or("-")
        )
    }
}

/// Parses a TLP level.
pub fn parse_level(s: &str) -> Result<Level> {
    s.parse::<Level>().map_err(|e| Error::bad(e.to_string()))
}

/// A term checked for registration: its kind and normalised key.
fn checked_term(term: &str, kind: &str) -> std::result::Result<(ProtectedTerm, String), String> {
    let kind: TermKind = kind.parse()?;
    let term = term.trim();
    let key = normalize_term(term);
    if key.is_empty() {
        return Err(format!("protected term `{term}` has no letters or digits"));
    }
    Ok((
        ProtectedTerm {
            term: term.to_string(),
            kind,
        },
        key,
    ))
}

/// What replaces a registered term in anything the audit log exports.
pub const WITHHELD: &str = "[registered term withheld]";

/// What replaces a plain digest of a term, written by older versions, in
/// an exported entry: a dictionary would recover the term from it.
const OLD_DIGEST: &str = "[plain digest of an older version withheld]";

impl Node {
    /// Adds an audience.
    pub fn audience_add(
        &self,
        caller: &Caller,
        name: &str,
        max: Level,
        sources: bool,
    ) -> Result<Audience> {
        self.put_audience(caller, "audience.add", name, max, sources)
    }

    /// Changes an audience's highest level and whether it sees sources. A
    /// lower level holds at once, also for what was released to it
    /// before: `serve` stops sending anything marked above it.
    pub fn audience_set(
        &self,
        caller: &Caller,
        name: &str,
        max: Level,
        sources: bool,
    ) -> Result<Audience> {
        self.put_audience(caller, "audience.set", name, max, sources)
    }

    /// Adds (`audience.add`) or changes (`audience.set`) an audience.
    fn put_audience(
        &self,
        caller: &Caller,
        action: &str,
        name: &str,
        max: Level,
        sources: bool,
    ) -> Result<Audience> {
        caller.may_configure()?;
        let a = Audience::new(name, max, sources).map_err(|e| Error::bad(e.to_string()))?;
        let entry = self.entry(
            caller,
            action,
            a.name(),
            json!({ "max": max, "sources": sources }),
        );
        if action == "audience.add" {
            if !self.store.audience_add(&a, entry)? {
                return Err(Error::bad(format!(
                    "audience `{}` already exists",
                    a.name()
                )));
            }
        } else if !self.store.audience_update(&a, entry)? {
            return Err(Error::bad(format!("no audience `{name}`")));
        }
        Ok(a)
    }

    /// Removes an audience (refused while partners read its releases).
    pub fn audience_remove(&self, caller: &Caller, name: &str) -> Result<()> {
        caller.may_configure()?;
        let lower = name.to_lowercase();
        let entry = self.entry(caller, "audience.remove", &lower, json!({}));
        if !self.store.audience_remove(&lower, entry)? {
            return Err(Error::bad(format!("no audience `{name}`")));
        }
        Ok(())
    }

    /// Registers one term; the audit entry names its kind and a digest,
    /// never the term.
    fn register(&self, caller: &Caller, t: &ProtectedTerm, key: &str) -> Result<bool> {
        // The audit detail names the kind, not the term: the log is exported
        // for review more widely than the registry.
        let entry = self.entry(
            caller,
            "protect.add",
            &format!("{} term", t.kind),
            json!({ "key_hmac": self.term_digest(key) }),
        );
        Ok(self.store.protect_add(t, key, entry)?)
    }

    /// Registers a protected term of kind `source`, `method`, `asset` or
    /// `case`.
    pub fn protect_add(&self, caller: &Caller, term: &str, kind: &str) -> Result<Registered> {
        caller.may_configure()?;
        let (t, key) = checked_term(term, kind).map_err(Error::bad)?;
        if !self.register(caller, &t, &key)? {
            return Err(Error::bad(format!(
                "`{}` is already registered (terms match regardless of case, accents and punctuation)",
                t.term
            )));
        }
        Ok(Registered {
            short: key.chars().count() < 3,
            term: t,
        })
    }

    /// Registers every term of a file of `kind<TAB>term` lines (`#` starts a
    /// comment). The whole file is checked before anything is stored; a bad
    /// line is named with its file and line.
    pub fn protect_import(&self, caller: &Caller, file: &Path) -> Result<Imported> {
        caller.may_configure()?;
        let name = file.display();
        let text = std::fs::read_to_string(file)
            .map_err(|e| Error::bad(format!("failed to read `{name}`: {e}")))?;
        let mut terms = Vec::new();
        for (i, line) in text.lines().enumerate() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let (kind, term) = l.split_once('\t').ok_or_else(|| {
                Error::bad(format!("{name}:{}:1: expected `kind<TAB>term`", i + 1))
            })?;
            let checked = checked_term(term, kind)
                .map_err(|e| Error::bad(format!("{name}:{}:1: {e}", i + 1)))?;
            terms.push(checked);
        }
        let mut out = Imported { added: 0, known: 0 };
        for (t, key) in &terms {
            if self.register(caller, t, key)? {
                out.added += 1;
            } else {
                out.known += 1;
            }
        }
        Ok(out)
    }

    /// The registry, oldest first.
    pub fn protected_terms(&self, caller: &Caller) -> Result<Vec<StoredTerm>> {
        caller.may_configure()?;
        Ok(self.store.protected_terms()?)
    }

    /// Removes a term from the registry.
    pub fn protect_remove(&self, caller: &Caller, term: &str) -> Result<()> {
        caller.may_configure()?;
        let key = normalize_term(term);
        let entry = self.entry(
            caller,
            "protect.remove",
            "term",
            json!({ "key_hmac": self.term_digest(&key) }),
        );
        if !self.store.protect_remove(&key, entry)? {
            return Err(Error::bad(format!("`{term}` is not registered")));
        }
        Ok(())
    }

    /// Verifies the audit log: the hash chain up to its recorded head, and
    /// each release record against the entry that recorded it. An error of
    /// kind [`Code::Audit`] says where it breaks.
    pub fn verify_audit(&self, caller: &Caller) -> Result<Verified> {
        caller.may_audit()?;
        let log = self.store.audit_log()?;
        let head = self.store.audit_head()?;
        let entries = verify_chain(&log, head.as_ref().map(|(s, h)| (*s, h.as_str())))
            .map_err(|b| Error::new(Code::Audit, format!("audit log does not verify: {b}")))?;
        // An older node's head, from before it moved into the store: the
        // log must still hold that entry, unchanged.
        if let Some(legacy) = self.store.cursor(crate::LEGACY_HEAD_KEY)? {
            let mut it = legacy.split_whitespace();
            let seq: i64 = it.next().and_then(|n| n.parse().ok()).unwrap_or(0);
            let hash = it.next().unwrap_or("");
            verify_chain(&log, Some((seq, hash))).map_err(|b| {
                Error::new(
                    Code::Audit,
                    format!("audit log does not verify against the head kept before the node moved into its store: {b}"),
                )
            })?;
        }
        let releases = self.store.releases()?;
        verify_releases(&releases, &log)
            .map_err(|m| Error::new(Code::Audit, format!("audit log does not verify: {m}")))?;
        Ok(Verified {
            entries,
            releases: releases.len(),
            head: log.last().map(|e| e.hash.clone()),
        })
    }

    /// Verifies the audit log and records that it was verified, with the
    /// outcome, in the log itself. Returns the outcome's message and
    /// whether it verified.
    pub fn verify_audit_recorded(&self, caller: &Caller) -> Result<(bool, String)> {
        let (ok, text) = match self.verify_audit(caller) {
            Ok(v) => (true, v.to_string()),
            Err(e) if e.code() == Code::Audit => (false, e.message().to_string()),
            Err(e) => return Err(e),
        };
        let entry = self.entry(caller, "audit.verify", "", json!({ "result": text }));
        match self.store.audit(entry) {
            Ok(_) => Ok((ok, text)),
            // A log that does not verify may refuse new entries.
            Err(_) if !ok => Ok((
                false,
                format!("{text} (not recorded: the log takes no entries until it is restored)"),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// The whole audit log, oldest first.
    ///
    /// What it returns is what leaves the node when the log is read or
    /// exported, so it holds no registered term: every registered term in
    /// an entry's subject or detail (a title, a file name, a note) is
    /// replaced by [`WITHHELD`], and the plain term digests older versions
    /// wrote are withheld too. The stored log is unchanged and still
    /// verifies; `hash` and `prev_hash` are those of the stored entry.
    pub fn audit_log(&self, caller: &Caller) -> Result<Vec<AuditEntry>> {
        caller.may_audit()?;
        let registry = self.registry()?;
        Ok(self
            .store
            .audit_log()?
            .into_iter()
            .map(|e| exported(e, &registry))
            .collect())
    }

    /// A secret for one purpose, derived from the node's signing key
    /// (HMAC-SHA256 of the purpose): every process of the node derives the
    /// same, and nobody without the key can.
    pub fn derived_key(&self, purpose: &str) -> [u8; 32] {
        use hmac::{Hmac, Mac};
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&self.key().to_bytes())
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(purpose.as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// A keyed digest of a registered term's normal form, for the audit
    /// log: HMAC-SHA256 under a key derived from the node's signing key, so
    /// that nobody without the node's key can test a guess against it.
    pub(crate) fn term_digest(&self, key: &str) -> String {
        use hmac::{Hmac, Mac};
        let audit_key = self.derived_key("tearline audit-log term digest");
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(&audit_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes a key of any length"));
        mac.update(key.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

/// `text` with every registered term replaced by [`WITHHELD`].
pub(crate) fn redact(text: &str, registry: &Registry) -> String {
    let mut hits: Vec<(usize, usize)> = registry
        .find(text)
        .into_iter()
        .map(|(h, _)| (h.start, h.end))
        .collect();
    if hits.is_empty() {
        return text.to_string();
    }
    hits.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in hits {
        if start < at {
            // Overlapping hits: the earlier replacement covers this one.
            at = at.max(end);
            continue;
        }
        out.push_str(text.get(at..start).unwrap_or_default());
        out.push_str(WITHHELD);
        at = end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

/// Redacts every string in a JSON value; withholds old plain digests.
fn redact_value(v: &mut Value, registry: &Registry) {
    match v {
        Value::String(s) => *s = redact(s, registry),
        Value::Array(a) => a.iter_mut().for_each(|x| redact_value(x, registry)),
        Value::Object(o) => {
            if let Some(d) = o.get_mut("key_sha256") {
                *d = Value::String(OLD_DIGEST.into());
            }
            o.values_mut().for_each(|x| redact_value(x, registry));
        }
        _ => {}
    }
}

/// An audit entry as it may leave the node.
fn exported(mut e: AuditEntry, registry: &Registry) -> AuditEntry {
    e.entry.subject = redact(&e.entry.subject, registry);
    e.entry.actor = redact(&e.entry.actor, registry);
    e.entry.detail = match serde_json::from_str::<Value>(&e.entry.detail) {
        Ok(mut v) => {
            redact_value(&mut v, registry);
            v.to_string()
        }
        Err(_) => redact(&e.entry.detail, registry),
    };
    e
}
