//! `tearline serve`: TAXII 2.1 for partners and the workbench for users,
//! on one port, over one node shared by every request.

use std::sync::Arc;

use anyhow::{Context, Result};
use tearline_exchange::{AppState, Config};
use tearline_node::{Error, Node};

pub fn serve(node: Node, listen: &str) -> Result<u8> {
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
        eprintln!("tearline serve: TAXII 2.1 on http://{addr}/taxii2/, the workbench on http://{addr}/ui/ (Ctrl-C to stop)");
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
        tearline_exchange::serve_with(listener, state, extra)
            .await
            .context("the server failed")?;
        Ok::<u8, anyhow::Error>(0)
    })
}
