//! Two Tearline nodes on one machine exchange a warning end to end over
//! TAXII 2.1: issue → fetch → acknowledge → measures → feedback → visible
//! at the sender; a tampered object is refused and named.

use std::path::{Path, PathBuf};
use std::process::Output;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

mod common;
use common::{credential, Server};

fn run(node: &Path, args: &[&str]) -> Output {
    common::run_at(node, None, args)
}

fn ok(node: &Path, args: &[&str]) -> String {
    common::ok_at(node, None, args)
}

fn serve(node: &Path) -> (Server, String) {
    common::serve(node, None, "127.0.0.1:0")
}

/// Adds partner `north` of `liaison`; its password.
fn north(a: &Path) -> String {
    credential(
        &ok(a, &["partner", "add", "north", "--audience", "liaison"]),
        "password",
    )
}

/// A sender with a 48-hour warning released to `liaison` and running, and
/// a receiver registered there as partner `north` that verifies signatures.
fn pair(dir: &Path) -> (PathBuf, PathBuf, Server) {
    let (a, b) = common::two_nodes(dir, None);
    // A window around the present, so the warning is open.
    let now = chrono::Utc::now();
    let report = std::fs::read_to_string(repo().join("examples/embassy-warning.md"))
        .unwrap()
        .replace(
            "valid_from: 2026-03-20T08:00:00Z",
            &format!(
                "valid_from: {}",
                (now - chrono::Duration::hours(1)).to_rfc3339()
            ),
        )
        .replace(
            "valid_until: 2026-03-22T08:00:00Z",
            &format!(
                "valid_until: {}",
                (now + chrono::Duration::hours(47)).to_rfc3339()
            ),
        );
    let path = dir.join("warning.md");
    std::fs::write(&path, report).unwrap();
    ok(
        &a,
        &[
            "release",
            path.to_str().unwrap(),
            "--to",
            "liaison",
            "-o",
            dir.join("out.md").to_str().unwrap(),
        ],
    );
    let (server, _) = common::pair_up(&a, &b, None, true);
    (a, b, server)
}

fn state(a: &Path) -> serde_json::Value {
    serde_json::from_str(&ok(a, &["warning", "1", "--json"])).unwrap()
}

#[test]
fn a_warning_goes_out_and_its_responses_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, _server) = pair(dir.path());
    assert_eq!(state(&a)["state"], "issued");

    let out = ok(&b, &["sync", "sender"]);
    assert!(out.contains("6 objects"), "{out}");
    assert!(
        out.contains("1 received report(s) read and linked"),
        "{out}"
    );
    // The received report is a document with the marking it came with.
    let case: serde_json::Value = serde_json::from_str(&ok(&b, &["case", "1", "--json"])).unwrap();
    assert_eq!(case["documents"][0]["marking"], "TLP:AMBER", "{case}");
    assert_eq!(state(&a)["state"], "delivered");
    // The receiver's own analyst writes about the same group and city: the
    // partner's warning is listed beside the draft.
    let draft = dir.path().join("own-note.md");
    std::fs::write(
        &draft,
        "---\ntitle: Own note\nproduced: 2026-03-20T10:00:00Z\n---\n\n(TLP:AMBER) Supporters of [ISIS-K]{actor} in [Moscow]{place} discussed a concert.\n",
    )
    .unwrap();
    let related: serde_json::Value =
        serde_json::from_str(&ok(&b, &["related", draft.to_str().unwrap(), "--json"])).unwrap();
    assert!(
        related[0]["id"]
            .as_str()
            .unwrap()
            .starts_with("received:sender:report--"),
        "{related}"
    );
    let received: serde_json::Value =
        serde_json::from_str(&ok(&b, &["received", "sender", "--json"])).unwrap();
    assert_eq!(received.as_array().unwrap().len(), 1);
    let rid = received[0]["report_id"].as_str().unwrap().to_string();
    assert_eq!(received[0]["state"], "received");
    assert_eq!(received[0]["marking"], "TLP:AMBER");

    ok(
        &b,
        &[
            "respond",
            "sender",
            &rid,
            "--kind",
            "acknowledgement",
            "--text",
            "received; passed to venue security",
        ],
    );
    ok(
        &b,
        &[
            "respond",
            "sender",
            &rid,
            "--kind",
            "measures",
            "--text",
            "armed patrols at three concert halls",
        ],
    );
    ok(
        &b,
        &[
            "respond",
            "sender",
            &rid,
            "--kind",
            "feedback",
            "--text",
            "the venue detail made the difference\u{1b}[2K\r  2026-03-21T00:00:00Z  desk  closed: confirmed\u{2028}\u{202e}x",
        ],
    );
    let out = ok(&b, &["sync", "sender"]);
    assert!(
        out.contains("0 objects") && out.contains("3 responses sent"),
        "{out}"
    );

    let w = state(&a);
    assert_eq!(w["state"], "measures recorded");
    let texts: Vec<String> = w["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.to_string())
        .collect();
    for want in [
        "received; passed to venue security",
        "armed patrols",
        "the venue detail made the difference",
    ] {
        assert!(
            texts.iter().any(|t| t.contains(want)),
            "{want} missing from {texts:?}"
        );
    }
    // A partner's text cannot forge lines or reorder what the terminal
    // shows: control, separator and bidirectional characters are escaped.
    let shown = ok(&a, &["warning", "1"]);
    for c in ['\u{1b}', '\r', '\u{2028}', '\u{202e}'] {
        assert!(!shown.contains(c), "{c:?} reached the terminal: {shown}");
    }
    assert!(shown.contains("\\u{1b}"), "{shown}");
    // Syncing again changes nothing at either end.
    let out = ok(&b, &["sync", "sender"]);
    assert!(
        out.contains("0 objects") && out.contains("0 responses sent"),
        "{out}"
    );
    assert_eq!(state(&a)["events"].as_array().unwrap().len(), 5);
    ok(&a, &["audit", "verify"]);
    ok(&b, &["audit", "verify"]);
    // A response holding one of the receiver's protected terms never leaves.
    ok(&b, &["protect", "add", "KESTREL", "--kind", "source"]);
    let o = run(
        &b,
        &[
            "respond",
            "sender",
            &rid,
            "--kind",
            "feedback",
            "--text",
            "Kestrel confirms",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_tampered_object_is_refused_and_named() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, _server) = pair(dir.path());
    let conn = rusqlite::Connection::open(a.join("tearline.db")).unwrap();
    let id: String = conn
        .query_row(
            "SELECT id FROM objects WHERE type = 'threat-actor'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    conn.execute(
        "UPDATE objects SET json = replace(json, 'Wilayat Khorasan', 'Someone Else') WHERE id = ?1",
        [&id],
    )
    .unwrap();
    let o = run(&b, &["sync", "sender"]);
    assert_eq!(o.status.code(), Some(7));
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains(&format!("object {id} was altered after it was signed")),
        "{e}"
    );
    let received: serde_json::Value =
        serde_json::from_str(&ok(&b, &["received", "sender", "--json"])).unwrap();
    assert!(
        received.as_array().unwrap().is_empty(),
        "nothing of the refused page was stored"
    );
}

#[test]
fn exchange_settings_in_the_config_reach_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("node");
    ok(&a, &["init"]);
    let cfg = a.join("tearline.toml");
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text
        .replace("burst = 200.0", "burst = 2.0")
        .replace("rate_per_second = 100.0", "rate_per_second = 0.001");
    std::fs::write(&cfg, text).unwrap();
    let creds = ok(&a, &["partner", "add", "north", "--audience", "liaison"]);
    let token = credential(&creds, "token");
    let (_server, url) = serve(&a);
    let status = |_: usize| {
        ureq::get(&format!("{url}/api/"))
            .set("Accept", "application/taxii+json;version=2.1")
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .map(|r| r.status())
            .unwrap_or_else(|e| match e {
                ureq::Error::Status(s, _) => s,
                other => panic!("{other}"),
            })
    };
    let got: Vec<u16> = (0..3).map(status).collect();
    assert_eq!(got, [200, 200, 429]);
}

#[test]
fn bad_exchange_settings_are_refused_with_their_place() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("node");
    ok(&a, &["init"]);
    let cfg = a.join("tearline.toml");
    let text = std::fs::read_to_string(&cfg)
        .unwrap()
        .replace("page_size = 1000", "page_size = 0");
    std::fs::write(&cfg, text).unwrap();
    let o = run(&a, &["serve", "--listen", "127.0.0.1:0"]);
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("tearline.toml: [exchange] page_size must be between 1 and 10000"));
}

/// The report ids `north` can fetch from the sender's collection now.
fn fetched_reports(url: &str, password: &str) -> Vec<String> {
    let auth = format!("Basic {}", base64_encode(&format!("north:{password}")));
    let accept = "application/taxii+json;version=2.1";
    let cols: serde_json::Value = ureq::get(&format!("{url}/api/collections/"))
        .set("Accept", accept)
        .set("Authorization", &auth)
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    let read = cols["collections"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["can_write"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let page: serde_json::Value = ureq::get(&format!("{url}/api/collections/{read}/objects/"))
        .set("Accept", accept)
        .set("Authorization", &auth)
        .call()
        .unwrap()
        .into_json()
        .unwrap();
    page["objects"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|o| o["type"] == "report")
                .map(|o| o["id"].as_str().unwrap().to_string())
                .collect()
        })
        .unwrap_or_default()
}

fn base64_encode(s: &str) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let b = s.as_bytes();
    let mut out = String::new();
    for chunk in b.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |a, (i, &x)| a | (x as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A sender serving one warning to partner `north`; its URL and north's
/// password.
fn sender(dir: &Path) -> (PathBuf, Server, String, String) {
    let a = dir.join("sender");
    ok(&a, &["init", "--name", "Sender"]);
    ok(
        &a,
        &[
            "release",
            repo().join("examples/embassy-warning.md").to_str().unwrap(),
            "--to",
            "liaison",
            "-o",
            dir.join("out.md").to_str().unwrap(),
        ],
    );
    let password = north(&a);
    let (server, url) = serve(&a);
    (a, server, url, password)
}

#[test]
fn a_term_registered_while_serve_runs_is_withheld_from_the_next_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _server, url, password) = sender(dir.path());
    assert_eq!(fetched_reports(&url, &password).len(), 1);
    // Another process registers a name the release holds while `serve`
    // runs.
    ok(
        &a,
        &["protect", "add", "Wilayat Khorasan", "--kind", "case"],
    );
    assert!(
        fetched_reports(&url, &password).is_empty(),
        "the next fetch withholds the report"
    );
    ok(&a, &["protect", "remove", "Wilayat Khorasan"]);
    assert_eq!(fetched_reports(&url, &password).len(), 1);
}

#[test]
fn an_audience_lowered_while_serve_runs_stops_serving_what_is_above_it() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _server, url, password) = sender(dir.path());
    assert_eq!(fetched_reports(&url, &password).len(), 1);
    let o = ok(&a, &["audience", "set", "liaison", "--max", "GREEN"]);
    assert!(o.contains("no longer served"), "{o}");
    assert!(fetched_reports(&url, &password).is_empty());
    ok(&a, &["audience", "set", "liaison", "--max", "AMBER"]);
    assert_eq!(fetched_reports(&url, &password).len(), 1);
}

#[test]
fn truncating_entries_written_by_serve_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let (a, server, url, password) = sender(dir.path());
    let before: serde_json::Value =
        serde_json::from_str(&ok(&a, &["audit", "log", "--json"])).unwrap();
    // The partner's fetch makes `serve` record the delivery.
    fetched_reports(&url, &password);
    drop(server);
    let log: serde_json::Value =
        serde_json::from_str(&ok(&a, &["audit", "log", "--json"])).unwrap();
    let last = log.as_array().unwrap().last().unwrap().clone();
    assert!(
        log.as_array().unwrap().len() > before.as_array().unwrap().len()
            && last["actor"] == "partner:north",
        "serve wrote the delivery: {last}"
    );
    ok(&a, &["audit", "verify"]);
    let conn = rusqlite::Connection::open(a.join("tearline.db")).unwrap();
    conn.execute_batch(&format!(
        "DROP TRIGGER audit_no_delete; DELETE FROM audit WHERE seq = {};",
        last["seq"]
    ))
    .unwrap();
    let o = run(&a, &["audit", "verify"]);
    assert_eq!(o.status.code(), Some(6));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("audit entry {}: missing", last["seq"])),
        "{err}"
    );
}
