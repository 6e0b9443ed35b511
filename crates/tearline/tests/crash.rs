//! `tearline serve` killed with SIGKILL while receiving 10,000 objects
//! loses nothing it answered 202 for, and keeps no partial envelope.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const ENVELOPES: usize = 100;
const PER_ENVELOPE: usize = 100;

mod common;
use common::credential;

fn tl(node: &Path, args: &[&str]) -> String {
    common::ok_at(node, None, args)
}

/// Starts the server on a free port; returns it and its address.
fn serve(node: &Path) -> (common::Server, String) {
    let (server, url) = common::serve(node, None, "127.0.0.1:0");
    (server, url.trim_start_matches("http://").to_string())
}

/// One HTTP/1.1 request; returns the status and body.
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    let body = body.unwrap_or("");
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/taxii+json;version=2.1\r\nContent-Type: application/taxii+json;version=2.1\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let status = resp
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

fn envelope(n: usize) -> String {
    let objects: Vec<String> = (0..PER_ENVELOPE)
        .map(|i| {
            format!(
                r#"{{"type":"note","spec_version":"2.1","id":"note--{n:08x}-{i:04x}-4000-8000-000000000000","created":"2026-03-21T10:00:00.000Z","content":"measure {n}/{i}","object_refs":["report--11111111-1111-4111-8111-111111111111"]}}"#
            )
        })
        .collect();
    format!(r#"{{"objects":[{}]}}"#, objects.join(","))
}

#[test]
fn sigkill_while_receiving_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let node = dir.path().join("node");
    tl(&node, &["init"]);
    let creds = tl(&node, &["partner", "add", "north", "--audience", "liaison"]);
    let token = credential(&creds, "token");
    let inbox = creds
        .lines()
        .find_map(|l| l.trim().strip_prefix("writes to inbox"))
        .unwrap()
        .trim()
        .to_string();

    let (mut server, addr) = serve(&node);
    let acked = Arc::new(AtomicUsize::new(0));
    let poster = {
        let (acked, addr, token, inbox) =
            (acked.clone(), addr.clone(), token.clone(), inbox.clone());
        std::thread::spawn(move || {
            let mut answered = Vec::new();
            for n in 0..ENVELOPES {
                match http(
                    &addr,
                    "POST",
                    &format!("/api/collections/{inbox}/objects/"),
                    &token,
                    Some(&envelope(n)),
                ) {
                    Ok((202, _)) => {
                        answered.push(n);
                        acked.fetch_add(1, Ordering::SeqCst);
                    }
                    Ok((429, _)) => std::thread::sleep(Duration::from_millis(50)),
                    _ => break,
                }
            }
            answered
        })
    };
    let start = Instant::now();
    while acked.load(Ordering::SeqCst) < ENVELOPES / 3 && start.elapsed() < Duration::from_secs(120)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    server.0.kill().unwrap(); // SIGKILL
    server.0.wait().unwrap();
    let answered = poster.join().unwrap();
    assert!(
        !answered.is_empty() && answered.len() < ENVELOPES,
        "the kill landed mid-stream ({} answered)",
        answered.len()
    );

    eprintln!(
        "killed after {} of {ENVELOPES} envelopes were answered 202",
        answered.len()
    );
    let (server, addr) = serve(&node);
    let mut present = std::collections::HashMap::<usize, usize>::new();
    let mut next: Option<String> = None;
    loop {
        let q = match &next {
            Some(n) => format!("?limit=1000&next={n}"),
            None => "?limit=1000".to_string(),
        };
        let (status, body) = http(
            &addr,
            "GET",
            &format!("/api/collections/{inbox}/manifest/{q}"),
            &token,
            None,
        )
        .unwrap();
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        for o in v["objects"].as_array().cloned().unwrap_or_default() {
            let id = o["id"].as_str().unwrap();
            let n = usize::from_str_radix(&id[6..14], 16).unwrap();
            *present.entry(n).or_default() += 1;
        }
        if v["more"] != true {
            break;
        }
        next = v["next"].as_str().map(str::to_string);
    }
    drop(server);
    for n in &answered {
        assert_eq!(
            present.get(n),
            Some(&PER_ENVELOPE),
            "envelope {n} was answered 202 but is not wholly stored"
        );
    }
    for (n, count) in &present {
        assert_eq!(*count, PER_ENVELOPE, "envelope {n} is partly stored");
    }
    eprintln!(
        "after restart: {} envelopes stored whole, none partly",
        present.len()
    );
    tl(&node, &["audit", "verify"]);
}
