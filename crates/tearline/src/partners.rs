//! Partners and the TAXII server.

use std::sync::Arc;

use anyhow::{Context, Result};
use serde_json::json;
use tearline_exchange::{
    digest, inbox_collection_id, new_secret, read_collection_id, AppState, Config,
};
use tearline_model::Audience;
use tearline_store::{Partner, StoreError};

use crate::exit::{coded, BAD_INPUT};
use crate::node::{self, Node};

struct Secrets {
    password: String,
    token: String,
}

fn secrets() -> Result<Secrets> {
    let password =
        new_secret().map_err(|e| anyhow::anyhow!("failed to draw a random secret: {e}"))?;
    let token = new_secret().map_err(|e| anyhow::anyhow!("failed to draw a random secret: {e}"))?;
    Ok(Secrets { password, token })
}

fn print_secrets(name: &str, s: &Secrets) {
    println!("  user:      {name}");
    println!("  password:  {}", s.password);
    println!("  token:     {}", s.token);
    println!(
        "These secrets are shown once and stored only as digests: hand them to the partner now."
    );
}

pub fn add(node: &mut Node, name: &str, audience: &str) -> Result<u8> {
    // Partner names follow the rules of audience names.
    let name = Audience::new(name, tearline_model::Level::Clear, false)
        .map_err(|e| {
            coded(
                BAD_INPUT,
                e.to_string().replace("audience name", "partner name"),
            )
        })?
        .name()
        .to_string();
    let aud = node.audience(audience)?.name().to_string();
    let s = secrets()?;
    let at = node::stamp(node::now()?);
    let p = Partner {
        name: name.clone(),
        audience: aud.clone(),
        password_sha256: digest(&s.password),
        token_sha256: digest(&s.token),
        created_at: at.clone(),
        rotated_at: at,
    };
    let entry = node.entry("partner.add", &name, json!({ "audience": aud }))?;
    node.store.partner_add(&p, entry).map_err(|e| match e {
        StoreError::Conflict(m) => coded(BAD_INPUT, m),
        other => anyhow::Error::new(other).context("failed to store the partner"),
    })?;
    node.write_head()?;
    println!("added partner `{name}` for audience `{aud}`");
    println!("  reads collection  {}", read_collection_id(&aud));
    println!("  writes to inbox   {}", inbox_collection_id(&name));
    print_secrets(&name, &s);
    Ok(0)
}

pub fn list(node: &Node, as_json: bool) -> Result<u8> {
    let ps = node.store.partners().context("failed to read partners")?;
    if as_json {
        let v: Vec<_> = ps
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "audience": p.audience,
                    "created_at": p.created_at,
                    "rotated_at": p.rotated_at,
                    "read_collection": read_collection_id(&p.audience),
                    "inbox_collection": inbox_collection_id(&p.name),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    println!(
        "{:<20} {:<16} {:<26} credentials set",
        "partner", "audience", "added"
    );
    for p in ps {
        println!(
            "{:<20} {:<16} {:<26} {}",
            p.name, p.audience, p.created_at, p.rotated_at
        );
    }
    Ok(0)
}

pub fn remove(node: &mut Node, name: &str) -> Result<u8> {
    let entry = node.entry("partner.remove", name, json!({}))?;
    if !node
        .store
        .partner_remove(name, entry)
        .context("failed to remove the partner")?
    {
        return Err(coded(BAD_INPUT, format!("no partner `{name}`")));
    }
    node.write_head()?;
    println!("removed partner `{name}`");
    Ok(0)
}

pub fn rotate(node: &mut Node, name: &str) -> Result<u8> {
    let s = secrets()?;
    let at = node::stamp(node::now()?);
    let entry = node.entry("partner.rotate", name, json!({}))?;
    if !node
        .store
        .partner_rotate(name, &digest(&s.password), &digest(&s.token), &at, entry)
        .context("failed to store the new credentials")?
    {
        return Err(coded(BAD_INPUT, format!("no partner `{name}`")));
    }
    node.write_head()?;
    println!("new credentials for partner `{name}`; the old ones no longer work");
    print_secrets(name, &s);
    Ok(0)
}

/// Serves TAXII to partners and the workbench to the node's users, on one
/// port; `ui` is a second handle on the same node, for the workbench.
pub fn serve(node: Node, ui: Node, listen: &str) -> Result<u8> {
    let registry = node.registry()?;
    let x = &node.config.exchange;
    let config = Config {
        title: node.config.node.name.clone(),
        max_content_length: x.max_content_length,
        page_size: x.page_size,
        rate_per_second: x.rate_per_second,
        burst: x.burst,
    };
    let audiences = node.config.audiences.clone();
    let state = Arc::new(AppState::new(node.store, config, audiences, registry));
    let workbench = Arc::new(crate::workbench::Workbench::new(ui));
    let rt = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| coded(BAD_INPUT, format!("cannot listen on {listen}: {e}")))?;
        let addr = listener
            .local_addr()
            .context("failed to read the bound address")?;
        eprintln!("tearline serve: TAXII 2.1 on http://{addr}/taxii2/, the workbench on http://{addr}/ui/ (Ctrl-C to stop)");
        let extra = crate::workbench::router(workbench);
        tearline_exchange::serve_with(listener, state, extra)
            .await
            .context("the server failed")?;
        Ok::<u8, anyhow::Error>(0)
    })
}
