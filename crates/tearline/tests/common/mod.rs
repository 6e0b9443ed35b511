//! What the command-line tests share: running `tearline` against a node
//! (at a set time), serving a node on loopback (over HTTP or HTTPS), reading
//! the credentials `partner add` prints, and a small PKI for TLS.

// Each test binary uses its own part of this module.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
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
    serve_with(node, now, listen, &[])
}

/// [`serve`] with more arguments (`--tls-cert FILE` …); the base URL is
/// `https://…` when the server speaks TLS.
pub fn serve_with(
    node: &Path,
    now: Option<&str>,
    listen: &str,
    more: &[&std::ffi::OsStr],
) -> (Server, String) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_tearline"));
    c.arg("--node")
        .arg(node)
        .args(["serve", "--listen", listen])
        .args(more)
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

/// A small PKI made for one test: a CA, a server certificate for
/// `127.0.0.1` and `localhost`, two client certificates from the CA
/// (`north` and `stranger`), and a client certificate from another CA
/// (`forger`). Each is a PEM file in `dir`.
pub struct Pki {
    pub ca: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub north_cert: PathBuf,
    pub north_key: PathBuf,
    pub stranger_cert: PathBuf,
    pub stranger_key: PathBuf,
    pub forger_cert: PathBuf,
    pub forger_key: PathBuf,
    pub other_ca: PathBuf,
}

impl Pki {
    /// Makes the certificates and keys under `dir`.
    pub fn new(dir: &Path) -> Pki {
        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
            KeyUsagePurpose,
        };
        std::fs::create_dir_all(dir).unwrap();
        let write = |name: &str, text: String| {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let ca = |cn: &str| {
            let key = KeyPair::generate().unwrap();
            let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
            p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            p.distinguished_name.push(DnType::CommonName, cn);
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            let cert = p.self_signed(&key).unwrap();
            (cert, key)
        };
        let leaf = |names: Vec<String>,
                    cn: &str,
                    usage: ExtendedKeyUsagePurpose,
                    issuer: &(rcgen::Certificate, KeyPair)| {
            let key = KeyPair::generate().unwrap();
            let mut p = CertificateParams::new(names).unwrap();
            p.distinguished_name.push(DnType::CommonName, cn);
            p.extended_key_usages = vec![usage];
            let cert = p.signed_by(&key, &issuer.0, &issuer.1).unwrap();
            (cert.pem(), key.serialize_pem())
        };
        let root = ca("Tearline test CA");
        let other = ca("Another CA");
        let server = leaf(
            vec!["127.0.0.1".into(), "localhost".into()],
            "tearline node",
            ExtendedKeyUsagePurpose::ServerAuth,
            &root,
        );
        let client =
            |cn: &str, issuer| leaf(vec![], cn, ExtendedKeyUsagePurpose::ClientAuth, issuer);
        let north = client("north", &root);
        let stranger = client("stranger", &root);
        let forger = client("north", &other);
        Pki {
            ca: write("ca.pem", root.0.pem()),
            other_ca: write("other-ca.pem", other.0.pem()),
            server_cert: write("server.pem", server.0),
            server_key: write("server.key", server.1),
            north_cert: write("north.pem", north.0),
            north_key: write("north.key", north.1),
            stranger_cert: write("stranger.pem", stranger.0),
            stranger_key: write("stranger.key", stranger.1),
            forger_cert: write("forger.pem", forger.0),
            forger_key: write("forger.key", forger.1),
        }
    }

    /// `--tls-cert … --tls-key …`, and `--tls-client-ca …` when `mutual`.
    pub fn serve_args(&self, mutual: bool) -> Vec<&std::ffi::OsStr> {
        let mut a = vec![
            std::ffi::OsStr::new("--tls-cert"),
            self.server_cert.as_os_str(),
            std::ffi::OsStr::new("--tls-key"),
            self.server_key.as_os_str(),
        ];
        if mutual {
            a.extend([std::ffi::OsStr::new("--tls-client-ca"), self.ca.as_os_str()]);
        }
        a
    }
}

/// The SHA-256 of the DER of the first certificate in a PEM file, in hex.
pub fn cert_sha256(pem: &Path) -> String {
    use rustls::pki_types::pem::PemObject;
    use sha2::Digest;
    let der = rustls::pki_types::CertificateDer::from_pem_file(pem).unwrap();
    hex::encode(sha2::Sha256::digest(&der))
}
