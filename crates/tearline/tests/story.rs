//! The story Tearline is built from, replayed at both ends: a sender and a
//! receiver as separate processes, TAXII on loopback, every process on a
//! clock set by `TEARLINE_NOW` (nobody sleeps through a window).
//!
//! release to liaison with a window → the receiver syncs, acknowledges and
//! records measures → the window ends: review due at both ends, on the
//! command line and in the workbench → the receiver judges "where: need
//! more" → the sender sees it for that partner beside what its cuts cost,
//! and re-issues a more specific release → the receiver sees the new
//! warning linked to the first, its measures carried over → the receiver
//! lifts its measures with a reason → the sender sees every step, and both
//! audit logs verify.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

const T0: &str = "2026-03-20T09:00:00Z";
const T0_10M: &str = "2026-03-20T09:10:00Z";
/// After the first window (08:00 to 11:00) ended.
const T3H: &str = "2026-03-20T12:00:00Z";
const T5H: &str = "2026-03-20T14:00:00Z";
const PASSWORD: &str = "a long enough password";

mod common;
use common::{ok_now as tl, Server};

fn json(node: &Path, now: &str, args: &[&str]) -> Value {
    serde_json::from_str(&tl(node, now, args)).unwrap()
}

fn user(node: &Path, name: &str) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tearline"))
        .arg("--node")
        .arg(node)
        .args([
            "user",
            "add",
            name,
            "--role",
            "releaser",
            "--password-stdin",
        ])
        .env("TEARLINE_NOW", T0)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    writeln!(c.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    assert!(c.wait().unwrap().success());
}

/// Serves a node on `listen` (`127.0.0.1:0` for any free port) and returns
/// its base URL.
fn serve(node: &Path, now: &str, listen: &str) -> (Server, String) {
    common::serve(node, Some(now), listen)
}

/// Signs in to a workbench and reads one page.
fn page(url: &str, name: &str, path: &str) -> String {
    let agent = ureq::AgentBuilder::new().redirects(0).build();
    let r = agent.post(&format!("{url}/ui/login")).send_form(&[
        ("name", name),
        ("password", PASSWORD),
        ("next", path),
    ]);
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("{e}"),
    };
    let cookie = resp
        .header("set-cookie")
        .and_then(|c| c.split(';').next())
        .unwrap_or_else(|| panic!("no session for {name}"))
        .to_string();
    agent
        .get(&format!("{url}{path}"))
        .set("Cookie", &cookie)
        .call()
        .unwrap()
        .into_string()
        .unwrap()
}

fn report(dir: &Path, name: &str, produced: &str, until: &str, venue_level: &str) -> PathBuf {
    let src = format!(
        "---\ntitle: Threat to concert venues\nproduced: {produced}\nvalid_from: 2026-03-20T08:00:00Z\nvalid_until: {until}\n---\n\n\
         (TLP:CLEAR) [Wilayat Khorasan]{{actor level=AMBER sub=\"Extremists linked to the Islamic State\"}} plan to attack [concerts]{{target}} in [Moscow]{{place}} within the [next hours]{{time}}.\n\n\
         (TLP:AMBER) The group has looked at the [Crocus City Hall]{{venue level={venue_level} sub=\"a large concert venue in the region\"}}.\n\n\
         (TLP:RED) [SAPPHIRE]{{source sub=\"a source with direct access\"}} reported it.\n"
    );
    let p = dir.join(name);
    std::fs::write(&p, src).unwrap();
    p
}

/// The first report: a window from 08:00 to 11:00, the venue generalised
/// for liaison.
fn first_report(dir: &Path) -> PathBuf {
    report(
        dir,
        "first.md",
        "2026-03-20T08:00:00Z",
        "2026-03-20T11:00:00Z",
        "RED",
    )
}

fn partner(w: &Value, name: &str) -> Value {
    w["partners"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no partner {name} in {w}"))
}

#[test]
fn a_warning_is_followed_at_both_ends_until_someone_decides() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = common::two_nodes(dir.path(), Some(T0));
    user(&a, "rhea");
    user(&b, "ana");
    // The first release generalises the venue for liaison.
    let first = first_report(dir.path());
    tl(
        &a,
        T0,
        &[
            "release",
            first.to_str().unwrap(),
            "--to",
            "liaison",
            "-o",
            dir.path().join("out1.md").to_str().unwrap(),
        ],
    );
    let (server, url) = common::pair_up(&a, &b, Some(T0), true);

    // The receiver syncs: the warning is followed.
    let out = tl(&b, T0, &["sync", "sender"]);
    assert!(out.contains("1 new warning(s) received"), "{out}");
    let r = json(&b, T0, &["received", "--json"]);
    assert_eq!(
        (r[0]["id"].as_i64(), r[0]["state"].as_str()),
        (Some(1), Some("received"))
    );
    assert_eq!(r[0]["window_end"], "2026-03-20T11:00:00.000Z");

    // Acknowledges and records measures; the sender hears at the next sync.
    tl(
        &b,
        T0_10M,
        &[
            "received",
            "acknowledge",
            "1",
            "--text",
            "passed to venue security",
        ],
    );
    tl(
        &b,
        T0_10M,
        &[
            "received",
            "measures",
            "1",
            "--text",
            "armed patrols at three concert halls",
        ],
    );
    assert_eq!(
        json(&b, T0_10M, &["received", "show", "1", "--json"])["state"],
        "measures in force"
    );
    tl(&b, T0_10M, &["sync", "sender"]);
    let w = json(&a, T0_10M, &["warning", "1", "--json"]);
    let north = partner(&w, "north");
    assert_eq!(
        (
            north["fetched"].as_bool(),
            north["acknowledged"].as_bool(),
            north["measures"].as_bool()
        ),
        (Some(true), Some(true), Some(true))
    );
    let list = json(&a, T0_10M, &["warnings", "--json"]);
    assert_eq!(list[0]["partners_summary"], "1 of 1 with measures");

    // The window ends: review due at both ends, never closed by the clock.
    assert_eq!(
        json(&a, T3H, &["warnings", "--json"])[0]["state"],
        "review due"
    );
    let r = json(&b, T3H, &["received", "--json"]);
    assert_eq!(r[0]["state"], "review due");
    assert_eq!(r[0]["measures_in_force"], true);
    // ... and in both workbenches.
    // The sender's server restarts on the same address with the later clock.
    drop(server);
    let (server, url) = serve(&a, T3H, url.trim_start_matches("http://"));
    let board = page(&url, "rhea", "/ui/warnings");
    let due = board
        .split("data-state=\"review due\"")
        .nth(1)
        .unwrap_or("");
    let due = due.split("data-state=").next().unwrap_or("");
    assert!(due.contains("#1 "), "the card is under review due: {board}");
    assert!(due.contains("1 of 1 with measures"), "{due}");
    {
        let (_rs, rurl) = serve(&b, T3H, "127.0.0.1:0");
        let received = page(&rurl, "ana", "/ui/received");
        assert!(
            received.contains("id=\"review-banner\""),
            "a banner: {received}"
        );
        assert!(
            received.contains("1 received warning due for review"),
            "{received}"
        );
        let due = received
            .split("data-state=\"review due\"")
            .nth(1)
            .unwrap_or("");
        assert!(due.contains("#1 "), "{received}");
        let drafts = page(&rurl, "ana", "/ui/drafts");
        assert!(drafts.contains("id=\"review-banner\""), "on every page");
    }

    // The receiver judges: who and when say enough; where and what do not.
    tl(
        &b,
        T3H,
        &[
            "received",
            "judge",
            "1",
            "--enough",
            "who,when",
            "--need",
            "where=which venues",
            "--need",
            "what=which concerts",
        ],
    );
    tl(&b, T3H, &["sync", "sender"]);
    let w = json(&a, T3H, &["warning", "1", "--json"]);
    let needs = partner(&w, "north")["needs"].clone();
    assert!(
        needs
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["dimension"] == "where" && v["need"] == "which venues"),
        "{w}"
    );
    // Beside it, what the release's cuts cost that audience.
    let costs = w["costs"].to_string();
    assert!(
        costs.contains("where") && costs.contains("venue"),
        "{costs}"
    );
    let warning_page = page(&url, "rhea", "/ui/warnings/1");
    assert!(
        warning_page.contains("which venues"),
        "the sender's page shows the judgement"
    );
    assert!(
        warning_page.contains("reissue-button"),
        "and offers the re-issue"
    );

    // The sender answers with a more specific release: the venue itself.
    let second = report(
        dir.path(),
        "second.md",
        "2026-03-20T12:00:00Z",
        "2026-03-21T12:00:00Z",
        "AMBER",
    );
    tl(
        &a,
        T3H,
        &[
            "warning",
            "reissue",
            "1",
            second.to_str().unwrap(),
            "-o",
            dir.path().join("out2.md").to_str().unwrap(),
        ],
    );
    assert!(std::fs::read_to_string(dir.path().join("out2.md"))
        .unwrap()
        .contains("Crocus City Hall"));
    let w1 = json(&a, T3H, &["warning", "1", "--json"]);
    assert_eq!(
        (w1["state"].as_str(), w1["outcome"].as_str()),
        (Some("closed"), Some("superseded"))
    );

    // The receiver sees the new warning linked to the first; its measures
    // carried over, never lifted by the re-issue.
    let out = tl(&b, T3H, &["sync", "sender"]);
    assert!(out.contains("1 new warning(s) received"), "{out}");
    let r2 = json(&b, T3H, &["received", "show", "2", "--json"]);
    assert_eq!(
        (r2["supersedes"].as_i64(), r2["state"].as_str()),
        (Some(1), Some("measures in force"))
    );
    let r1 = json(&b, T3H, &["received", "show", "1", "--json"]);
    assert_eq!(
        (
            r1["state"].as_str(),
            r1["outcome"].as_str(),
            r1["superseded_by"].as_i64()
        ),
        (Some("closed"), Some("superseded"), Some(2))
    );

    // The receiver lifts its measures, with a reason; the sender sees it.
    tl(
        &b,
        T5H,
        &[
            "received",
            "lift",
            "2",
            "--reason",
            "the threat was assessed as past",
        ],
    );
    assert_eq!(
        json(&b, T5H, &["received", "show", "2", "--json"])["outcome"],
        "measures-lifted"
    );
    tl(&b, T5H, &["sync", "sender"]);
    let w2 = json(&a, T5H, &["warning", "2", "--json"]);
    assert_eq!(partner(&w2, "north")["decision"], "lifted", "{w2}");
    let events = w2["events"].to_string();
    assert!(
        events.contains("the threat was assessed as past"),
        "{events}"
    );

    // Every step is in both audit logs, and both verify.
    let log = tl(&a, T5H, &["audit", "log", "--json"]);
    for needle in [
        "\\\"kind\\\":\\\"judgement\\\"",
        "\\\"kind\\\":\\\"decided\\\"",
        "\\\"kind\\\":\\\"reissued\\\"",
        "\\\"kind\\\":\\\"review-due\\\"",
    ] {
        assert!(log.contains(needle), "{needle} in the sender's log");
    }
    let rlog = tl(&b, T5H, &["audit", "log", "--json"]);
    for needle in [
        "\\\"kind\\\":\\\"measures\\\"",
        "\\\"kind\\\":\\\"review-due\\\"",
        "\\\"kind\\\":\\\"judged\\\"",
        "\\\"kind\\\":\\\"superseded\\\"",
        "\\\"kind\\\":\\\"carried-over\\\"",
        "\\\"kind\\\":\\\"lifted\\\"",
    ] {
        assert!(rlog.contains(needle), "{needle} in the receiver's log");
    }
    tl(&a, T5H, &["audit", "verify"]);
    tl(&b, T5H, &["audit", "verify"]);
    drop(server);
}

#[test]
fn the_senders_changes_reach_the_receiver_and_late_responses_are_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = common::two_nodes(dir.path(), Some(T0));
    let first = first_report(dir.path());
    tl(
        &a,
        T0,
        &["release", first.to_str().unwrap(), "--to", "liaison"],
    );
    // Released again to the same audience in another format: one warning.
    tl(
        &a,
        T0,
        &[
            "release",
            first.to_str().unwrap(),
            "--to",
            "liaison",
            "--format",
            "stix",
        ],
    );
    assert_eq!(
        json(&a, T0, &["warnings", "--json"])
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (_server, _) = common::pair_up(&a, &b, Some(T0), false);
    tl(&b, T0, &["sync", "sender"]);
    // A report id never received is refused.
    let o = common::run_at(
        &b,
        Some(T0),
        &[
            "respond",
            "sender",
            "report--99999999-9999-4999-8999-999999999999",
            "--kind",
            "feedback",
            "--text",
            "x",
        ],
    );
    assert_eq!(
        o.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );

    // The sender extends: the receiver sees the new window after sync.
    tl(
        &a,
        T0,
        &["warning", "extend", "1", "--until", "2026-03-20T20:00:00Z"],
    );
    tl(&b, T0, &["sync", "sender"]);
    let r = json(&b, T0, &["received", "show", "1", "--json"]);
    assert_eq!(r["window_end"], "2026-03-20T20:00:00.000Z", "{r}");
    assert_eq!(
        json(&b, T3H, &["received", "--json"])[0]["state"],
        "received",
        "the window is open again"
    );

    // The sender closes it; the receiver, with no measures, is due to
    // decide at once.
    tl(
        &a,
        T0,
        &[
            "warning",
            "close",
            "1",
            "--outcome",
            "not-confirmed",
            "--note",
            "no attack took place",
        ],
    );
    tl(&b, T0, &["sync", "sender"]);
    let r = json(&b, T0, &["received", "show", "1", "--json"]);
    assert_eq!(r["state"], "review due", "{r}");
    assert!(r["events"].to_string().contains("not-confirmed"), "{r}");

    // The receiver's acknowledgement arrives after the close: the sender
    // records it as late, and the receiver is told at that sync.
    tl(
        &b,
        T0,
        &["received", "acknowledge", "1", "--text", "seen, late"],
    );
    let out = tl(&b, T0, &["sync", "sender"]);
    assert!(out.contains("the sender says: late"), "{out}");
    let w = json(&a, T0, &["warning", "1", "--json"]);
    assert_eq!(partner(&w, "north")["late"], true, "{w}");
    assert!(json(&b, T0, &["received", "show", "1", "--json"])["events"]
        .to_string()
        .contains("late"));
    tl(
        &b,
        T0,
        &[
            "received",
            "close",
            "1",
            "--outcome",
            "ended",
            "--note",
            "nothing to lift",
        ],
    );
    assert_eq!(
        json(&b, T0, &["received", "show", "1", "--json"])["outcome"],
        "ended"
    );

    // A second warning, withdrawn by the sender: closed at the receiver
    // as withdrawn (no measures there), its report revoked.
    let other = report(
        dir.path(),
        "other.md",
        "2026-03-20T08:30:00Z",
        "2026-03-20T18:00:00Z",
        "RED",
    );
    tl(
        &a,
        T0,
        &["release", other.to_str().unwrap(), "--to", "liaison"],
    );
    tl(&b, T0, &["sync", "sender"]);
    let id = json(&b, T0, &["received", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["state"] == "received")
        .and_then(|r| r["id"].as_i64())
        .unwrap();
    let live = json(&a, T0, &["warnings", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["state"] != "closed")
        .and_then(|w| w["id"].as_i64())
        .unwrap()
        .to_string();
    tl(
        &a,
        T0,
        &["warning", "withdraw", &live, "--note", "source retracted"],
    );
    tl(&b, T0, &["sync", "sender"]);
    let r = json(&b, T0, &["received", "show", &id.to_string(), "--json"]);
    assert_eq!(
        (r["state"].as_str(), r["outcome"].as_str()),
        (Some("closed"), Some("withdrawn")),
        "{r}"
    );
    let reports = json(&b, T0, &["received", "reports", "sender", "--json"]).to_string();
    assert!(
        !reports.contains("retracted"),
        "the sender's free-text note stays in its note: {reports}"
    );
    tl(&a, T0, &["audit", "verify"]);
    tl(&b, T0, &["audit", "verify"]);
}
