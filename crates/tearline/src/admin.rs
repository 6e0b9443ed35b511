//! Node administration: init, audiences, the registry, the audit log,
//! partners, users and remotes.

use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::json;
use tearline_node::admin::parse_level;
use tearline_node::partners::ClientCert;
use tearline_node::remotes::RemoteInput;
use tearline_node::{Caller, Clock, Node};

use crate::out::{self, yes_no};

pub fn init(dir: &Path, name: &str, me: &Caller, clock: Clock) -> Result<u8> {
    if dir.join(tearline_node::SETTINGS).exists() {
        let node = Node::open(dir, clock)?;
        println!(
            "`{}` is already Tearline node `{}`; nothing changed",
            dir.display(),
            node.info().name
        );
        return Ok(0);
    }
    let node = Node::init(dir, name, me, clock)?;
    println!("created Tearline node `{}` in {}", name, dir.display());
    println!("audiences:");
    for a in node.audiences()? {
        println!(
            "  {:<10} up to {:<17} sources: {}",
            a.name(),
            a.max().to_string(),
            yes_no(a.sees_sources())
        );
    }
    Ok(0)
}

pub fn audience_add(n: &Node, me: &Caller, name: &str, max: &str, sources: bool) -> Result<u8> {
    let a = n.audience_add(me, name, parse_level(max)?, sources)?;
    println!(
        "added audience `{}` (up to {}, sources: {})",
        a.name(),
        a.max(),
        yes_no(sources)
    );
    Ok(0)
}

pub fn audience_set(n: &Node, me: &Caller, name: &str, max: &str, sources: bool) -> Result<u8> {
    let a = n.audience_set(me, name, parse_level(max)?, sources)?;
    println!(
        "audience `{}` now receives up to {} (sources: {}); what was released to it above that is no longer served",
        a.name(),
        a.max(),
        yes_no(sources)
    );
    Ok(0)
}

pub fn audience_list(n: &Node, as_json: bool) -> Result<u8> {
    let all = n.audiences()?;
    if as_json {
        return out::json(&all);
    }
    println!("{:<16} {:<17} sources", "audience", "max");
    for a in all {
        println!(
            "{:<16} {:<17} {}",
            a.name(),
            a.max().to_string(),
            yes_no(a.sees_sources())
        );
    }
    Ok(0)
}

pub fn audience_remove(n: &Node, me: &Caller, name: &str) -> Result<u8> {
    n.audience_remove(me, name)?;
    println!("removed audience `{}`", name.to_lowercase());
    Ok(0)
}

pub fn protect_add(n: &Node, me: &Caller, term: &str, kind: &str) -> Result<u8> {
    let r = n.protect_add(me, term, kind)?;
    if r.short {
        eprintln!(
            "warning: `{}` is very short; it will match any word spelled the same",
            r.term.term
        );
    }
    println!("registered {} term `{}`", r.term.kind, r.term.term);
    Ok(0)
}

pub fn protect_import(n: &Node, me: &Caller, file: &Path) -> Result<u8> {
    let r = n.protect_import(me, file)?;
    println!(
        "registered {} terms from `{}` ({} already registered)",
        r.added,
        file.display(),
        r.known
    );
    Ok(0)
}

pub fn protect_list(n: &Node, me: &Caller, as_json: bool) -> Result<u8> {
    let terms = n.protected_terms(me)?;
    if as_json {
        return out::json(&terms);
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

pub fn protect_remove(n: &Node, me: &Caller, term: &str) -> Result<u8> {
    n.protect_remove(me, term)?;
    println!("removed `{term}` from the registry");
    Ok(0)
}

pub fn audit_verify(n: &Node, me: &Caller) -> Result<u8> {
    println!("{}", n.verify_audit(me)?);
    Ok(0)
}

pub fn audit_log(n: &Node, me: &Caller, as_json: bool) -> Result<u8> {
    let log = n.audit_log(me)?;
    if as_json {
        return out::json(&log);
    }
    for e in log {
        println!(
            "{:>5} {} {:<12} {:<16} {} {}",
            e.seq,
            e.entry.at,
            out::safe(&e.entry.actor),
            e.entry.action,
            out::safe(&e.entry.subject),
            out::safe(&e.entry.detail)
        );
    }
    Ok(0)
}

fn print_credentials(c: &tearline_node::partners::Credentials) {
    println!("  user:      {}", c.user);
    println!("  password:  {}", c.password);
    println!("  token:     {}", c.token);
    println!(
        "These secrets are shown once and stored only as digests: hand them to the partner now."
    );
}

/// The client certificate of `--client-cert-fingerprint` (or
/// `--fingerprint`) or `--client-cert`, if either was given.
pub fn client_cert(fingerprint: Option<String>, file: Option<PathBuf>) -> Option<ClientCert> {
    fingerprint
        .map(ClientCert::Fingerprint)
        .or(file.map(ClientCert::File))
}

pub fn partner_add(
    n: &Node,
    me: &Caller,
    name: &str,
    audience: &str,
    with_sources: bool,
    cert: Option<&ClientCert>,
) -> Result<u8> {
    let p = n.partner_add(me, name, audience, with_sources, cert)?;
    println!("added partner `{}` for audience `{}`", p.name, p.audience);
    if p.sees_sources {
        println!(
            "  NOTE: `{}` sees sources and methods: this partner receives releases that name them",
            p.audience
        );
    }
    println!("  reads collection  {}", p.read_collection);
    println!("  writes to inbox   {}", p.inbox_collection);
    if let Some(fp) = &p.client_cert_sha256 {
        println!("  client cert       sha256 {fp} (required, with the password or token)");
    }
    print_credentials(&p.credentials);
    Ok(0)
}

pub fn partner_cert(n: &Node, me: &Caller, name: &str, cert: Option<&ClientCert>) -> Result<u8> {
    match n.partner_cert(me, name, cert)? {
        Some(fp) => println!(
            "partner `{name}` is bound to the client certificate with SHA-256 {fp}: from its next request it must present it, with its password or token"
        ),
        None => println!(
            "partner `{name}` is no longer bound to a client certificate: its password or token alone suffice"
        ),
    }
    Ok(0)
}

pub fn partner_list(n: &Node, me: &Caller, as_json: bool) -> Result<u8> {
    let ps = n.partners(me)?;
    if as_json {
        let v: Vec<_> = ps
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "audience": p.audience,
                    "created_at": p.created_at,
                    "rotated_at": p.rotated_at,
                    "read_collection": p.read_collection,
                    "inbox_collection": p.inbox_collection,
                    "last_contact": p.last_contact,
                    "client_cert_sha256": p.client_cert_sha256,
                })
            })
            .collect();
        return out::json(&v);
    }
    println!(
        "{:<20} {:<16} {:<26} {:<26} client cert (SHA-256)",
        "partner", "audience", "added", "credentials set"
    );
    for p in ps {
        println!(
            "{:<20} {:<16} {:<26} {:<26} {}",
            p.name,
            p.audience,
            p.created_at,
            p.rotated_at,
            p.client_cert_sha256.as_deref().unwrap_or("-")
        );
    }
    Ok(0)
}

pub fn partner_remove(n: &Node, me: &Caller, name: &str) -> Result<u8> {
    n.partner_remove(me, name)?;
    println!("removed partner `{name}`");
    Ok(0)
}

pub fn partner_rotate(n: &Node, me: &Caller, name: &str) -> Result<u8> {
    let c = n.partner_rotate(me, name)?;
    println!("new credentials for partner `{name}`; the old ones no longer work");
    print_credentials(&c);
    Ok(0)
}

/// The password on standard input (one line), when asked for.
fn stdin_password(from_stdin: bool) -> Result<Option<String>> {
    if !from_stdin {
        return Ok(None);
    }
    let mut s = String::new();
    std::io::stdin()
        .take(4096)
        .read_to_string(&mut s)
        .context("failed to read the password from standard input")?;
    Ok(Some(s.lines().next().unwrap_or("").to_string()))
}

pub fn user_add(n: &Node, me: &Caller, name: &str, role: &str, from_stdin: bool) -> Result<u8> {
    let pw = stdin_password(from_stdin)?;
    let u = n.user_add(me, name, role, pw.as_deref())?;
    println!("added {} `{name}`", u.role.name());
    if let Some(p) = u.generated {
        println!("password (shown once): {p}");
    }
    Ok(0)
}

pub fn user_passwd(
    n: &Node,
    me: &Caller,
    name: &str,
    role: Option<&str>,
    from_stdin: bool,
) -> Result<u8> {
    let pw = stdin_password(from_stdin)?;
    let u = n.user_passwd(me, name, role, pw.as_deref())?;
    println!(
        "new password for `{name}` ({}); their open sessions end at their next request",
        u.role.name()
    );
    if let Some(p) = u.generated {
        println!("password (shown once): {p}");
    }
    Ok(0)
}

pub fn user_remove(n: &Node, me: &Caller, name: &str) -> Result<u8> {
    n.user_remove(me, name)?;
    println!("removed user `{name}`");
    Ok(0)
}

pub fn user_list(n: &Node, me: &Caller, as_json: bool) -> Result<u8> {
    let users = n.users(me)?;
    if as_json {
        let v: Vec<_> = users
            .iter()
            .map(|u| json!({ "name": u.name, "role": u.role, "created_at": u.created_at, "updated_at": u.updated_at }))
            .collect();
        return out::json(&v);
    }
    if users.is_empty() {
        println!("no users: `tearline user add NAME --role analyst|releaser|admin`");
        return Ok(0);
    }
    println!("{:<24} {:<10} {:<26} password set", "user", "role", "added");
    for u in users {
        println!(
            "{:<24} {:<10} {:<26} {}",
            u.name, u.role, u.created_at, u.updated_at
        );
    }
    Ok(0)
}

pub fn remote_add(n: &Node, me: &Caller, r: &RemoteInput) -> Result<u8> {
    n.remote_add(me, r)?;
    let mut notes = Vec::new();
    if r.key.is_some() {
        notes.push("signatures verified");
    }
    if r.ca.is_some() {
        notes.push("its own CA");
    }
    if r.client_cert.is_some() {
        notes.push("client certificate");
    }
    println!(
        "added remote `{}` at {}{}",
        r.name.to_lowercase(),
        r.url,
        if notes.is_empty() {
            String::new()
        } else {
            format!(" ({})", notes.join(", "))
        }
    );
    Ok(0)
}

pub fn remote_list(n: &Node, me: &Caller, as_json: bool) -> Result<u8> {
    let rs = n.remotes(me)?;
    if as_json {
        let v: Vec<_> = rs
            .iter()
            .map(|r| json!({"name": r.name, "url": r.url, "auth": r.auth, "key": r.key, "collections": r.collections, "own_ca": r.own_ca, "client_cert": r.client_cert}))
            .collect();
        return out::json(&v);
    }
    for r in &rs {
        let mut notes = Vec::new();
        if r.key.is_some() {
            notes.push("verifies signatures");
        }
        if r.own_ca {
            notes.push("its own CA");
        }
        if r.client_cert {
            notes.push("client certificate");
        }
        println!("{:<16} {:<40} {}", r.name, r.url, notes.join(", "));
    }
    Ok(0)
}

pub fn remote_remove(n: &Node, me: &Caller, name: &str) -> Result<u8> {
    n.remote_remove(me, name)?;
    println!("removed remote `{name}`");
    Ok(0)
}

/// `tearline notify`: send pending notifications now.
pub fn notify(n: &Node, me: &Caller) -> Result<u8> {
    let s = n.notify(me)?;
    println!("{} notification(s) sent", s.delivered);
    for f in &s.failed {
        eprintln!("warning: {f} (tried again next time)");
    }
    Ok(if s.failed.is_empty() {
        0
    } else {
        tearline_node::Code::Remote.exit()
    })
}
