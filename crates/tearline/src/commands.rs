//! Node administration: init, audiences, the registry, the audit log.

use std::path::Path;

use anyhow::{Context, Result};
use serde_json::json;
use tearline_model::{Audience, ProtectedTerm, TermKind};
use tearline_release::normalize::normalize_term;
use tearline_store::{verify_chain, verify_releases};

use crate::exit::{coded, AUDIT, BAD_INPUT};
use crate::node::{self, Node};

pub fn init(dir: &Path, name: &str) -> Result<u8> {
    if dir.join(node::CONFIG).exists() {
        let node = Node::open(dir)?;
        println!(
            "`{}` is already Tearline node `{}`; nothing changed",
            dir.display(),
            node.config.node.name
        );
        return Ok(0);
    }
    let node = Node::init(dir, name)?;
    println!("created Tearline node `{}` in {}", name, dir.display());
    println!("audiences:");
    for a in &node.config.audiences {
        println!(
            "  {:<10} up to {:<17} sources: {}",
            a.name(),
            a.max().to_string(),
            yes_no(a.sees_sources())
        );
    }
    Ok(0)
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

pub fn audience_add(node: &mut Node, name: &str, max: &str, sources: bool) -> Result<u8> {
    let level = node::parse_level(max)?;
    let a = Audience::new(name, level, sources).map_err(|e| coded(BAD_INPUT, e.to_string()))?;
    if node.config.audiences.iter().any(|x| x.name() == a.name()) {
        return Err(coded(
            BAD_INPUT,
            format!("audience `{}` already exists", a.name()),
        ));
    }
    node.config.audiences.push(a.clone());
    node.save_config(
        "audience.add",
        a.name(),
        json!({ "max": level, "sources": sources }),
    )?;
    println!(
        "added audience `{}` (up to {level}, sources: {})",
        a.name(),
        yes_no(sources)
    );
    Ok(0)
}

pub fn audience_list(node: &Node, as_json: bool) -> Result<u8> {
    if as_json {
        println!("{}", serde_json::to_string_pretty(&node.config.audiences)?);
        return Ok(0);
    }
    println!("{:<16} {:<17} sources", "audience", "max");
    for a in &node.config.audiences {
        println!(
            "{:<16} {:<17} {}",
            a.name(),
            a.max().to_string(),
            yes_no(a.sees_sources())
        );
    }
    Ok(0)
}

pub fn audience_remove(node: &mut Node, name: &str) -> Result<u8> {
    let lower = name.to_lowercase();
    let before = node.config.audiences.len();
    node.config.audiences.retain(|a| a.name() != lower);
    if node.config.audiences.len() == before {
        return Err(coded(BAD_INPUT, format!("no audience `{name}`")));
    }
    node.save_config("audience.remove", &lower, json!({}))?;
    println!("removed audience `{lower}`");
    Ok(0)
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

/// Stores one term; false if it was already registered.
fn register(node: &mut Node, t: &ProtectedTerm, key: &str) -> Result<bool> {
    // The audit detail names the kind, not the term: the log is exported
    // for review more widely than the registry.
    let entry = node.entry(
        "protect.add",
        &format!("{} term", t.kind),
        json!({ "key_sha256": sha(key) }),
    )?;
    let added = node
        .store
        .protect_add(t, key, entry)
        .context("failed to store the protected term")?;
    if added && key.chars().count() < 3 {
        eprintln!(
            "warning: `{}` is very short; it will match any word spelled the same",
            t.term
        );
    }
    Ok(added)
}

pub fn protect_add(node: &mut Node, term: &str, kind: &str) -> Result<u8> {
    let (t, key) = checked_term(term, kind).map_err(|e| coded(BAD_INPUT, e))?;
    if !register(node, &t, &key)? {
        return Err(coded(BAD_INPUT, format!("`{}` is already registered (terms match regardless of case, accents and punctuation)", t.term)));
    }
    node.write_head()?;
    println!("registered {} term `{}`", t.kind, t.term);
    Ok(0)
}

/// Imports `kind<TAB>term` lines. The whole file is checked before
/// anything is stored.
pub fn protect_import(node: &mut Node, file: &Path) -> Result<u8> {
    let name = file.display();
    let text = std::fs::read_to_string(file)
        .map_err(|e| coded(BAD_INPUT, format!("failed to read `{name}`: {e}")))?;
    let mut terms = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        let (kind, term) = l.split_once('\t').ok_or_else(|| {
            coded(
                BAD_INPUT,
                format!("{name}:{}:1: expected `kind<TAB>term`", i + 1),
            )
        })?;
        let checked = checked_term(term, kind)
            .map_err(|e| coded(BAD_INPUT, format!("{name}:{}:1: {e}", i + 1)))?;
        terms.push(checked);
    }
    let (mut added, mut known) = (0, 0);
    for (t, key) in &terms {
        if register(node, t, key)? {
            added += 1;
        } else {
            known += 1;
        }
    }
    node.write_head()?;
    println!("registered {added} terms from `{name}` ({known} already registered)");
    Ok(0)
}

fn sha(s: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(s.as_bytes()))
}

pub fn protect_list(node: &Node, as_json: bool) -> Result<u8> {
    let terms = node
        .store
        .protected_terms()
        .context("failed to read the registry")?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&terms)?);
        return Ok(0);
    }
    println!("{:<32} {:<8} {:<26} added by", "term", "kind", "added");
    for t in terms {
        println!(
            "{:<32} {:<8} {:<26} {}",
            t.term.term,
            t.term.kind.name(),
            t.added_at,
            t.added_by
        );
    }
    Ok(0)
}

pub fn protect_remove(node: &mut Node, term: &str) -> Result<u8> {
    let key = normalize_term(term);
    let entry = node.entry("protect.remove", "term", json!({ "key_sha256": sha(&key) }))?;
    if !node
        .store
        .protect_remove(&key, entry)
        .context("failed to update the registry")?
    {
        return Err(coded(BAD_INPUT, format!("`{term}` is not registered")));
    }
    node.write_head()?;
    println!("removed `{term}` from the registry");
    Ok(0)
}

/// Verifies the audit log's chain, its recorded head and the release
/// records; the summary line, or an error coded `AUDIT` that says where
/// it breaks.
pub fn verify_audit(node: &Node) -> Result<String> {
    let log = node
        .store
        .audit_log()
        .context("failed to read the audit log")?;
    let head = node.read_head()?;
    let n = verify_chain(&log, head.as_ref().map(|(s, h)| (*s, h.as_str())))
        .map_err(|b| coded(AUDIT, format!("audit log does not verify: {b}")))?;
    let releases = node
        .store
        .releases()
        .context("failed to read the release records")?;
    verify_releases(&releases, &log)
        .map_err(|m| coded(AUDIT, format!("audit log does not verify: {m}")))?;
    let last = log.last().map_or("-".to_string(), |e| e.hash.clone());
    Ok(format!(
        "audit log verified: {n} entries, {} releases; head {last}",
        releases.len()
    ))
}

pub fn audit_verify(node: &Node) -> Result<u8> {
    println!("{}", verify_audit(node)?);
    Ok(0)
}

pub fn audit_log(node: &Node, as_json: bool) -> Result<u8> {
    let log = node
        .store
        .audit_log()
        .context("failed to read the audit log")?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&log)?);
        return Ok(0);
    }
    for e in log {
        println!(
            "{:>5} {} {:<12} {:<16} {} {}",
            e.seq, e.entry.at, e.entry.actor, e.entry.action, e.entry.subject, e.entry.detail
        );
    }
    Ok(0)
}
