//! Remotes (TAXII servers this node reads from), `sync`, `respond` and
//! `received`.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tearline_exchange::{outbox_collection_id, received_collection_id, Auth, Remote, SyncError};
use tearline_store::{ObjectQuery, VersionMatch};

use crate::exit::{coded, BAD_INPUT, LEAK, SIGNATURE};
use crate::node::{self, Node};

pub const REMOTES: &str = "remotes.toml";

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RemotesFile {
    #[serde(default, rename = "remote")]
    remotes: Vec<RemoteEntry>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct RemoteEntry {
    name: String,
    url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    user: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    collections: Vec<String>,
}

fn load(dir: &Path) -> Result<RemotesFile> {
    let p = dir.join(REMOTES);
    if !p.exists() {
        return Ok(RemotesFile::default());
    }
    let text =
        std::fs::read_to_string(&p).with_context(|| format!("failed to read `{}`", p.display()))?;
    toml::from_str(&text).map_err(|e| coded(BAD_INPUT, format!("{}: {e}", p.display())))
}

fn save(dir: &Path, f: &RemotesFile) -> Result<()> {
    let text = toml::to_string_pretty(f).context("failed to serialise remotes")?;
    let header = "# Remotes this node syncs with. Holds credentials: keep it readable by its owner only.\n\n";
    // Written through a temporary file, which is created readable by its
    // owner only, and renamed into place.
    node::atomic_write(&dir.join(REMOTES), format!("{header}{text}").as_bytes())
}

fn remote(node: &Node, name: &str) -> Result<Remote> {
    let f = load(&node.dir)?;
    let e = f
        .remotes
        .into_iter()
        .find(|r| r.name == name)
        .ok_or_else(|| {
            coded(
                BAD_INPUT,
                format!("no remote `{name}`: add one with `tearline remote add`"),
            )
        })?;
    let auth = match (e.user, e.password, e.token) {
        (_, _, Some(t)) => Auth::Bearer(t),
        (Some(user), Some(password), None) => Auth::Basic { user, password },
        _ => {
            return Err(coded(
                BAD_INPUT,
                format!("remote `{name}` has no credentials"),
            ))
        }
    };
    let key = e
        .key
        .as_deref()
        .map(tearline_stix::import_key)
        .transpose()
        .map_err(|m| coded(BAD_INPUT, format!("remote `{name}`: {m}")))?;
    Ok(Remote {
        name: e.name,
        url: e.url,
        auth,
        key,
        collections: e.collections,
    })
}

#[allow(clippy::too_many_arguments)]
pub fn add(
    node: &mut Node,
    name: &str,
    url: &str,
    user: Option<String>,
    password: Option<String>,
    token: Option<String>,
    key: Option<String>,
    collections: Vec<String>,
) -> Result<u8> {
    let name = tearline_model::Audience::new(name, tearline_model::Level::Clear, false)
        .map_err(|e| {
            coded(
                BAD_INPUT,
                e.to_string().replace("audience name", "remote name"),
            )
        })?
        .name()
        .to_string();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(coded(
            BAD_INPUT,
            format!("remote URL `{url}` must start with http:// or https://"),
        ));
    }
    match (&user, &password, &token) {
        (Some(_), Some(_), None) | (None, None, Some(_)) => {}
        _ => {
            return Err(coded(
                BAD_INPUT,
                "give either --user and --password, or --token",
            ))
        }
    }
    if let Some(k) = &key {
        tearline_stix::import_key(k).map_err(|m| coded(BAD_INPUT, format!("--key: {m}")))?;
    }
    let mut f = load(&node.dir)?;
    if f.remotes.iter().any(|r| r.name == name) {
        return Err(coded(BAD_INPUT, format!("remote `{name}` already exists")));
    }
    f.remotes.push(RemoteEntry {
        name: name.clone(),
        url: url.to_string(),
        user,
        password,
        token,
        key: key.clone(),
        collections,
    });
    save(&node.dir, &f)?;
    node.audit(
        "remote.add",
        &name,
        json!({ "url": url, "verifies_signatures": key.is_some() }),
    )?;
    println!(
        "added remote `{name}` at {url}{}",
        if key.is_some() {
            " (signatures verified)"
        } else {
            ""
        }
    );
    Ok(0)
}

pub fn list(node: &Node, as_json: bool) -> Result<u8> {
    let f = load(&node.dir)?;
    if as_json {
        let v: Vec<_> = f
            .remotes
            .iter()
            .map(|r| json!({"name": r.name, "url": r.url, "auth": if r.token.is_some() { "bearer" } else { "basic" }, "key": r.key}))
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    for r in &f.remotes {
        println!(
            "{:<16} {:<40} {}",
            r.name,
            r.url,
            if r.key.is_some() {
                "verifies signatures"
            } else {
                ""
            }
        );
    }
    Ok(0)
}

pub fn remove(node: &mut Node, name: &str) -> Result<u8> {
    let mut f = load(&node.dir)?;
    let before = f.remotes.len();
    f.remotes.retain(|r| r.name != name);
    if f.remotes.len() == before {
        return Err(coded(BAD_INPUT, format!("no remote `{name}`")));
    }
    save(&node.dir, &f)?;
    node.audit("remote.remove", name, json!({}))?;
    println!("removed remote `{name}`");
    Ok(0)
}

pub fn sync(node: &mut Node, name: &str) -> Result<u8> {
    let r = remote(node, name)?;
    let now = node::now()?;
    match r.sync(node.store.as_mut(), now, 1000) {
        Ok(rep) => {
            node.audit(
                "remote.sync",
                name,
                json!({ "pulled": rep.pulled, "pushed": rep.pushed, "pages": rep.pages }),
            )?;
            println!(
                "synced with `{name}`: {} objects in {} pages from {} collection(s); {} responses sent",
                rep.pulled,
                rep.pages,
                rep.collections.len(),
                rep.pushed
            );
            let linked = link_received(node, name)?;
            if linked > 0 {
                println!("{linked} received report(s) read and linked into cases");
            }
            Ok(0)
        }
        Err(SyncError::Tampered { url, source }) => Err(coded(
            SIGNATURE,
            format!("sync with `{name}` refused a page from {url}: {source}"),
        )),
        Err(e) => Err(anyhow::Error::new(e).context(format!("sync with `{name}` failed"))),
    }
}

pub fn respond(node: &mut Node, name: &str, report_id: &str, kind: &str, text: &str) -> Result<u8> {
    remote(node, name)?;
    if !matches!(kind, "acknowledgement" | "measures" | "feedback") {
        return Err(coded(
            BAD_INPUT,
            format!("--kind `{kind}`: expected acknowledgement, measures or feedback"),
        ));
    }
    let _: tearline_stix::StixId = report_id
        .parse()
        .ok()
        .filter(|id: &tearline_stix::StixId| id.object_type() == "report")
        .ok_or_else(|| {
            coded(
                BAD_INPUT,
                format!("`{report_id}` is not a report id (report--...)"),
            )
        })?;
    let now = node::now()?;
    let stamp = tearline_stix::stix_time(now);
    let id = tearline_stix::StixId::random("note");
    let mut bundle = json!({"type": "bundle", "id": tearline_stix::StixId::random("bundle"), "objects": [{
        "type": "note",
        "spec_version": "2.1",
        "id": id,
        "created": stamp,
        "modified": stamp,
        "content": text,
        "object_refs": [report_id],
        "extensions": { tearline_stix::TEARLINE_EXTENSION: { "extension_type": "property-extension", "lifecycle": kind } },
    }]});
    // What we send a remote is checked against our registry too.
    let registry = node.registry()?;
    let hits = registry.find(&bundle.to_string());
    if !hits.is_empty() {
        for (_, t) in &hits {
            eprintln!("leak: the response holds a registered {} term", t.kind);
        }
        return Err(coded(
            LEAK,
            "response refused by the leak check; nothing was queued",
        ));
    }
    let key = node.signing_key()?;
    tearline_stix::sign_bundle(&mut bundle, &key);
    let obj = tearline_exchange::stix_object(&bundle["objects"][0])
        .map_err(|m| anyhow::anyhow!("bug: {m}"))?;
    let audit = node.entry(
        "remote.respond",
        name,
        json!({ "kind": kind, "report": report_id, "note": id }),
    )?;
    node.store
        .add_local(
            &outbox_collection_id(name),
            &[obj],
            &node::stamp(now),
            audit,
        )
        .context("failed to queue the response")?;
    node.write_head()?;
    println!("queued {kind} for {report_id}; `tearline sync {name}` sends it");
    Ok(0)
}

/// The latest version of every report received from `name`.
fn received_reports(node: &Node, name: &str) -> Result<tearline_store::ObjectPage> {
    let q = ObjectQuery {
        added_after: None,
        ids: vec![],
        types: vec!["report".into()],
        versions: VersionMatch::Last,
        spec_versions: vec![],
        after_seq: None,
        limit: 100_000,
    };
    node.store
        .objects(&received_collection_id(name), &q)
        .context("failed to read received objects")
}

/// Reads every report received from `name` into the node's documents, so
/// that a partner's warning is linked to the node's own reporting on the
/// same threat. Unchanged reports are skipped; returns how many were stored.
fn link_received(node: &mut Node, name: &str) -> Result<usize> {
    let page = received_reports(node, name)?;
    let at = node::stamp(node::now()?);
    let cfg = tearline_fuse::Config::default();
    let mut stored = 0;
    for o in &page.objects {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&o.object.json) else {
            continue;
        };
        let title = v["name"].as_str().unwrap_or("").to_string();
        let body = v["description"].as_str().unwrap_or("");
        if title.is_empty() && body.is_empty() {
            continue;
        }
        let doc = crate::reading::Doc {
            id: Some(format!("received:{name}:{}", o.object.id)),
            source: format!("remote {name}: {}", o.object.id),
            url: None,
            title: title.clone(),
            published: v["published"]
                .as_str()
                .or(v["created"].as_str())
                .map(str::to_string),
            lang: v["lang"].as_str().map(str::to_string),
            text: format!("{title}\n\n{body}"),
        };
        match crate::reading::ingest_doc(&mut *node.store, &doc, &at, &cfg) {
            Ok(crate::reading::Ingested::Stored { .. }) => stored += 1,
            Ok(crate::reading::Ingested::Unchanged) => {}
            Err(e) => eprintln!(
                "warning: received report {} was not linked: {e:#}",
                o.object.id
            ),
        }
    }
    Ok(stored)
}

pub fn received(node: &Node, name: &str, as_json: bool) -> Result<u8> {
    remote(node, name)?;
    let page = received_reports(node, name)?;
    let mut rows = Vec::new();
    for o in &page.objects {
        let v: serde_json::Value = serde_json::from_str(&o.object.json).unwrap_or_default();
        let ext = &v["extensions"][tearline_stix::TEARLINE_EXTENSION];
        rows.push(json!({
            "id": o.object.id,
            "name": v["name"],
            "published": v["published"],
            "marking": ext["marking"],
            "valid_until": ext["valid_until"],
            "received": o.date_added,
        }));
    }
    if as_json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(0);
    }
    for r in rows {
        println!(
            "{}  {}  {}  valid until {}",
            r["id"].as_str().unwrap_or(""),
            r["marking"].as_str().unwrap_or(""),
            r["name"].as_str().unwrap_or(""),
            r["valid_until"].as_str().unwrap_or("-")
        );
    }
    Ok(0)
}
