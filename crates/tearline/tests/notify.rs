//! Notifications by webhook, end to end: a receiver on loopback that checks
//! each POST's signature, two nodes exchanging a warning over TAXII, and
//! the clock moved by `TEARLINE_NOW`.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Duration;

use serde_json::Value;

const T0: &str = "2026-03-20T09:00:00Z";
const T3H: &str = "2026-03-20T12:00:00Z";
const SECRET: &str = "a webhook secret of some length";

mod common;
use common::{ok_now as tl, run_now as run};

/// One POST the hook received.
#[derive(Debug)]
struct Hook {
    event: String,
    signature: String,
    body: Vec<u8>,
}

impl Hook {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A webhook endpoint on loopback. While `fail` is set it answers 500.
struct Endpoint {
    url: String,
    got: mpsc::Receiver<Hook>,
    fail: Arc<AtomicBool>,
}

impl Endpoint {
    fn start() -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let (tx, got) = mpsc::channel();
        let fail = Arc::new(AtomicBool::new(false));
        let failing = fail.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut r = BufReader::new(stream.try_clone().unwrap());
                let (mut len, mut event, mut signature) = (0usize, String::new(), String::new());
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                assert!(line.starts_with("POST /hook "), "{line}");
                loop {
                    line.clear();
                    r.read_line(&mut line).unwrap();
                    let l = line.trim_end();
                    if l.is_empty() {
                        break;
                    }
                    let (k, v) = l.split_once(':').unwrap();
                    match k.to_ascii_lowercase().as_str() {
                        "content-length" => len = v.trim().parse().unwrap(),
                        "x-tearline-event" => event = v.trim().to_string(),
                        "x-tearline-signature" => signature = v.trim().to_string(),
                        _ => {}
                    }
                }
                let mut body = vec![0; len];
                r.read_exact(&mut body).unwrap();
                let status = if failing.load(Ordering::SeqCst) {
                    "500 Internal Server Error"
                } else {
                    let _ = tx.send(Hook {
                        event,
                        signature,
                        body,
                    });
                    "200 OK"
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                );
            }
        });
        Endpoint { url, got, fail }
    }

    /// Everything received so far.
    fn drain(&self) -> Vec<Hook> {
        let mut v = Vec::new();
        while let Ok(h) = self.got.recv_timeout(Duration::from_millis(200)) {
            v.push(h);
        }
        v
    }
}

fn configure(node: &Path, url: &str, events: &[&str]) {
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(node.join("tearline.toml"))
        .unwrap();
    let events: Vec<String> = events.iter().map(|e| format!("\"{e}\"")).collect();
    writeln!(
        f,
        "\n[[notify.webhook]]\nurl = \"{url}\"\nsecret = \"{SECRET}\"\nevents = [{}]",
        events.join(", ")
    )
    .unwrap();
}

fn report(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("report.md");
    std::fs::write(
        &p,
        "---\ntitle: Threat to concert venues\nproduced: 2026-03-20T08:00:00Z\nvalid_from: 2026-03-20T08:00:00Z\nvalid_until: 2026-03-20T11:00:00Z\n---\n\n\
         (TLP:CLEAR) [Wilayat Khorasan]{actor} plan to attack [concerts]{target} in [Moscow]{place}.\n\n\
         (TLP:RED) [SAPPHIRE]{source sub=\"a source with direct access\"} reported it.\n",
    )
    .unwrap();
    p
}

#[test]
fn webhooks_tell_each_end_what_needs_it_once_and_retry_after_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = common::two_nodes(dir.path(), Some(T0));
    let (sender_hook, receiver_hook) = (Endpoint::start(), Endpoint::start());
    configure(&a, &sender_hook.url, &["judgement", "late"]);
    configure(&b, &receiver_hook.url, &[]);
    // The history before a channel existed is not sent to it.
    tl(
        &a,
        T0,
        &[
            "release",
            report(dir.path()).to_str().unwrap(),
            "--to",
            "liaison",
        ],
    );
    assert!(tl(&a, T0, &["notify"]).contains("0 notification(s) sent"));
    let (_server, _) = common::pair_up(&a, &b, Some(T0), false);

    // The sync announces the new warning and, with 2 hours left of its
    // window (reminders 6 hours ahead), that it is about to end.
    let out = tl(&b, T0, &["sync", "sender"]);
    assert!(out.contains("2 notification(s) sent"), "{out}");
    let hooks = receiver_hook.drain();
    let events: Vec<&str> = hooks.iter().map(|h| h.event.as_str()).collect();
    assert_eq!(events, ["received", "window-ending"]);
    for h in &hooks {
        assert_eq!(
            h.signature,
            tearline_node::notify::signature(SECRET, &h.body),
            "signed with the channel's secret"
        );
        let j = h.json();
        assert_eq!(
            (j["node"].as_str(), j["event"].as_str()),
            (Some("Receiver"), Some(h.event.as_str()))
        );
        assert_eq!(
            (j["warning"]["side"].as_str(), j["warning"]["id"].as_i64()),
            (Some("received"), Some(1))
        );
    }
    assert!(hooks[1].json()["text"]
        .as_str()
        .unwrap()
        .contains("2026-03-20T11:00:00"));
    // Nothing is sent twice.
    assert!(tl(&b, T0, &["notify"]).contains("0 notification(s) sent"));

    // The window ends while the endpoint is down: the run fails, says so,
    // and the notice waits for the next run.
    receiver_hook.fail.store(true, Ordering::SeqCst);
    let o = run(&b, T3H, &["notify"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("tried again next time"));
    receiver_hook.fail.store(false, Ordering::SeqCst);
    assert!(tl(&b, T3H, &["notify"]).contains("1 notification(s) sent"));
    let hooks = receiver_hook.drain();
    assert_eq!(hooks.len(), 1);
    assert_eq!(hooks[0].event, "review-due");
    assert!(hooks[0].json()["text"]
        .as_str()
        .unwrap()
        .contains("review due"));

    // The receiver judges; the sender's channel asked only for judgements
    // and late responses, so its own review falling due is not sent.
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
        ],
    );
    tl(&b, T3H, &["sync", "sender"]);
    assert!(tl(&a, T3H, &["notify"]).contains("1 notification(s) sent"));
    let hooks = sender_hook.drain();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    let j = hooks[0].json();
    assert_eq!(
        (j["event"].as_str(), j["warning"]["side"].as_str()),
        (Some("judgement"), Some("sent"))
    );
    assert!(j["text"].as_str().unwrap().contains("north"), "{j}");
    assert!(j["text"].as_str().unwrap().contains("which venues"), "{j}");
}

#[test]
fn a_channel_with_an_unknown_event_is_refused_with_where() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("node");
    tl(&a, T0, &["init"]);
    configure(&a, "http://127.0.0.1:9/hook", &["recieved"]);
    let o = run(&a, T0, &["warnings"]);
    assert_eq!(o.status.code(), Some(3));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("tearline.toml")
            && err.contains("[[notify.webhook]] events: unknown event `recieved`"),
        "{err}"
    );
}
