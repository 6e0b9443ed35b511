//! What the command-line tests share: running `tearline` against a node
//! (at a set time), serving a node on loopback, and reading the credentials
//! `partner add` prints.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// `tearline --node NODE ARGS`, as actor `desk`, at `now` when given.
pub fn run_at(node: &Path, now: Option<&str>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tearline"));
    c.arg("--node")
        .arg(node)
        .args(args)
        .env("TEARLINE_ACTOR", "desk")
        .env_remove("TEARLINE_HOME");
    if let Some(now) = now {
        c.env("TEARLINE_NOW", now);
    }
    c.output().unwrap()
}

/// Like [`run_at`], and it must succeed: its standard output.
pub fn ok_at(node: &Path, now: Option<&str>, args: &[&str]) -> String {
    let o = run_at(node, now, args);
    assert!(
        o.status.success(),
        "{args:?} at {now:?}: exit {:?}\n{}{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A running `tearline serve`, stopped when dropped.
pub struct Server(pub Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Serves `node` on `listen` (`127.0.0.1:0` for any free port), at `now`
/// when given; the server and its base URL.
pub fn serve(node: &Path, now: Option<&str>, listen: &str) -> (Server, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tearline"));
    c.arg("--node")
        .arg(node)
        .args(["serve", "--listen", listen])
        .stderr(Stdio::piped());
    if let Some(now) = now {
        c.env("TEARLINE_NOW", now);
    }
    let mut child = c.spawn().unwrap();
    let mut line = String::new();
    let mut log = BufReader::new(child.stderr.take().unwrap());
    log.read_line(&mut line).unwrap();
    // Keep reading the server's log so that it never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
    let url = line
        .split("on ")
        .nth(1)
        .and_then(|r| r.split("/taxii2/").next())
        .unwrap_or_else(|| panic!("no address in the server's first line: {line}"))
        .to_string();
    (Server(child), url)
}

/// One field (`password`, `token`, …) of what `partner add` printed.
pub fn credential(printed: &str, field: &str) -> String {
    printed
        .lines()
        .find_map(|l| l.trim().strip_prefix(field)?.strip_prefix(':'))
        .unwrap_or_else(|| panic!("no {field} in {printed}"))
        .trim()
        .to_string()
}

/// [`ok_at`] at a set time.
pub fn ok_now(node: &Path, now: &str, args: &[&str]) -> String {
    ok_at(node, Some(now), args)
}

/// [`run_at`] at a set time.
pub fn run_now(node: &Path, now: &str, args: &[&str]) -> Output {
    run_at(node, Some(now), args)
}

/// Makes `receiver` a partner of `sender`: partner `north` of `liaison` at
/// the sender, which is served on loopback, and remote `sender` at the
/// receiver (checking signatures with the sender's key when `key`). The
/// server and its base URL.
pub fn pair_up(sender: &Path, receiver: &Path, now: Option<&str>, key: bool) -> (Server, String) {
    let creds = ok_at(
        sender,
        now,
        &["partner", "add", "north", "--audience", "liaison"],
    );
    let password = credential(&creds, "password");
    let key = key.then(|| ok_at(sender, now, &["key", "export"]).trim().to_string());
    let (server, url) = serve(sender, now, "127.0.0.1:0");
    let mut args = vec![
        "remote",
        "add",
        "sender",
        &url,
        "--user",
        "north",
        "--password",
        &password,
    ];
    if let Some(k) = &key {
        args.extend(["--key", k.as_str()]);
    }
    ok_at(receiver, now, &args);
    (server, url)
}

/// Two new nodes under `dir`: `sender` (named Sender) and `receiver`
/// (named Receiver).
pub fn two_nodes(dir: &Path, now: Option<&str>) -> (std::path::PathBuf, std::path::PathBuf) {
    let (a, b) = (dir.join("sender"), dir.join("receiver"));
    ok_at(&a, now, &["init", "--name", "Sender"]);
    ok_at(&b, now, &["init", "--name", "Receiver"]);
    (a, b)
}
