//! `tearline serve`: TAXII 2.1 for partners and the workbench for users,
//! on one port, over one node shared by every request — over HTTPS when
//! given a certificate and key.

use std::sync::Arc;

use anyhow::{Context, Result};
use tearline_exchange::tls::{server_config, ServerFiles};
use tearline_exchange::{AppState, Config};
use tearline_node::{Caller, Error, Node, TlsFiles, TlsFlags};

pub fn serve(node: Node, listen: &str, flags: &TlsFlags) -> Result<u8> {
    // TLS is read and checked before anything listens: a bad certificate
    // or key is a usage error naming the file.
    let files = node.settings().exchange.tls_files(node.dir(), flags)?;
    let tls = match &files {
        Some(f) => Some(
            server_config(ServerFiles {
                cert: &f.cert,
                key: &f.key,
                client_ca: f.client_ca.as_deref(),
            })
            .map_err(|e| Error::bad(format!("cannot serve HTTPS: {e}")))?,
        ),
        None => None,
    };
    let notes = advice(&node, files.as_ref())?;
    // The server's log: one line per event, to standard error; a write
    // that fails (nobody reads any more) is dropped, never fatal.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(false)
        .try_init();
    let x = &node.settings().exchange;
    let config = Config {
        title: node.info().name.clone(),
        max_content_length: x.max_content_length,
        page_size: x.page_size,
        rate_per_second: x.rate_per_second,
        burst: x.burst,
        paging_key: node.derived_key("tearline paging tokens"),
    };
    let clock = node.clock();
    let state = Arc::new(AppState::new(node.store(), config).with_clock(move || clock()));
    let node = Arc::new(node);
    let workbench = Arc::new(tearline_workbench::Workbench::new(node.clone()));
    let rt = tokio::runtime::Runtime::new().context("failed to start the async runtime")?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Error::bad(format!("cannot listen on {listen}: {e}")))?;
        let addr = listener
            .local_addr()
            .context("failed to read the bound address")?;
        let scheme = if tls.is_some() { "https" } else { "http" };
        eprintln!("tearline serve: TAXII 2.1 on {scheme}://{addr}/taxii2/, the workbench on {scheme}://{addr}/ui/ (Ctrl-C to stop)");
        for line in &notes {
            eprintln!("tearline serve: {line}");
        }
        // Notifications go out every 30 seconds, on the blocking pool.
        let notifier = node.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(30));
            loop {
                every.tick().await;
                let n = notifier.clone();
                let run = tokio::task::spawn_blocking(move || {
                    n.notify(&tearline_node::Caller::operator("serve"))
                })
                .await;
                match run {
                    Ok(Ok(sent)) => {
                        for f in &sent.failed {
                            tracing::warn!("notification: {f}");
                        }
                    }
                    Ok(Err(e)) => tracing::error!("notifications failed: {e}"),
                    Err(e) => tracing::error!("the notifier stopped: {e}"),
                }
            }
        });
        let extra = tearline_workbench::router(workbench);
        match tls {
            Some(config) => tearline_exchange::serve_tls_with(listener, config, state, extra).await,
            None => tearline_exchange::serve_with(listener, state, extra).await,
        }
        .context("the server failed")?;
        Ok::<u8, anyhow::Error>(0)
    })
}

/// What the operator should know about how TLS is set up: where client
/// certificates are verified, partners bound to a certificate that cannot
/// present it, a private key others may read.
fn advice(node: &Node, files: Option<&TlsFiles>) -> Result<Vec<String>> {
    let mut lines = Vec::new();
    let asks = files.and_then(|f| f.client_ca.as_ref());
    if let Some(ca) = asks {
        lines.push(format!(
            "client certificates are asked for and verified against `{}`",
            ca.display()
        ));
    }
    let bound: Vec<String> = node
        .partners(&Caller::operator("serve"))?
        .into_iter()
        .filter(|p| p.client_cert_sha256.is_some())
        .map(|p| format!("`{}`", p.name))
        .collect();
    if !bound.is_empty() && asks.is_none() {
        lines.push(format!(
            "warning: partner(s) {} are bound to a client certificate, but this server does not ask for one (--tls-client-ca): they will be refused",
            bound.join(", ")
        ));
    }
    #[cfg(unix)]
    if let Some(f) = files {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(meta) = std::fs::metadata(&f.key) {
            if meta.permissions().mode() & 0o077 != 0 {
                lines.push(format!(
                    "warning: the private key `{}` is readable by others than its owner (chmod 600 it)",
                    f.key.display()
                ));
            }
        }
    }
    Ok(lines)
}
