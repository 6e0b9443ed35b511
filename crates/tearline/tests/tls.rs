//! `tearline serve` over HTTPS, with client certificates for partners
//! bound to one, and `tearline sync` trusting a remote's own CA and
//! presenting our certificate. The certificates are made by each test.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod common;
use common::{cert_sha256, credential, ok_at, run_at, serve_with, Pki, Server};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn ok(node: &Path, args: &[&str]) -> String {
    ok_at(node, None, args)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A sender with a release to `liaison`, and a receiver.
fn nodes(dir: &Path) -> (PathBuf, PathBuf) {
    let (a, b) = common::two_nodes(dir, None);
    let example = repo().join("examples/embassy-warning.md");
    let out = dir.join("liaison.md");
    ok(
        &a,
        &["release", s(&example), "--to", "liaison", "-o", s(&out)],
    );
    (a, b)
}

/// Adds partner `name` of `liaison` at the sender (with `more` arguments);
/// its password and token.
fn partner(a: &Path, name: &str, more: &[&str]) -> (String, String) {
    let mut args = vec!["partner", "add", name, "--audience", "liaison"];
    args.extend(more);
    let printed = ok(a, &args);
    (
        credential(&printed, "password"),
        credential(&printed, "token"),
    )
}

fn serve_tls(a: &Path, pki: &Pki, mutual: bool) -> (Server, String) {
    let args = pki.serve_args(mutual);
    serve_with(a, None, "127.0.0.1:0", &args)
}

/// `remote add NAME URL --user U --password P` and `more`, at the receiver.
fn remote(b: &Path, name: &str, url: &str, user: &str, password: &str, more: &[&OsStr]) {
    let first = [
        "remote",
        "add",
        name,
        url,
        "--user",
        user,
        "--password",
        password,
    ];
    let mut args: Vec<&OsStr> = first.iter().map(OsStr::new).collect();
    args.extend(more);
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_tearline"))
        .arg("--node")
        .arg(b)
        .args(&args)
        .env("TEARLINE_ACTOR", "desk")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn synced(b: &Path, name: &str) -> String {
    ok(b, &["sync", name])
}

/// `tearline sync NAME` fails: its exit code and standard error.
fn sync_fails(b: &Path, name: &str) -> (i32, String) {
    let o = run_at(b, None, &["sync", name]);
    assert!(!o.status.success(), "sync with `{name}` succeeded");
    (
        o.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A rustls client trusting `ca`, presenting `identity` when given.
fn client(ca: &Path, identity: Option<(&Path, &Path)>) -> ureq::Agent {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(ca).unwrap())
        .unwrap();
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots);
    let config = match identity {
        Some((cert, key)) => builder
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_file(cert).unwrap()],
                PrivateKeyDer::from_pem_file(key).unwrap(),
            )
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    ureq::AgentBuilder::new()
        .tls_config(Arc::new(config))
        .build()
}

/// The status of `GET /api/collections/` with a bearer token.
fn collections(agent: &ureq::Agent, url: &str, token: &str) -> Result<u16, String> {
    match agent
        .get(&format!("{url}/api/collections/"))
        .set("Accept", "application/taxii+json;version=2.1")
        .set("Authorization", &format!("Bearer {token}"))
        .call()
    {
        Ok(r) => Ok(r.status()),
        Err(ureq::Error::Status(code, _)) => Ok(code),
        Err(ureq::Error::Transport(t)) => Err(t.to_string()),
    }
}

#[test]
fn sync_runs_over_https_with_the_remotes_ca_and_fails_clearly_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(&dir.path().join("pki"));
    let (a, b) = nodes(dir.path());
    let (password, _) = partner(&a, "north", &[]);
    let (_server, url) = serve_tls(&a, &pki, false);
    assert!(url.starts_with("https://127.0.0.1:"), "{url}");

    // With the sender's CA, the sync pulls the release.
    remote(
        &b,
        "sender",
        &url,
        "north",
        &password,
        &[OsStr::new("--ca"), pki.ca.as_os_str()],
    );
    let out = synced(&b, "sender");
    assert!(out.contains("6 objects"), "{out}");
    let list = ok(&b, &["remote", "list"]);
    assert!(list.contains("its own CA"), "{list}");

    // Without it, the server's certificate is not trusted, and the error
    // says so and what to do.
    remote(&b, "untrusted", &url, "north", &password, &[]);
    let (code, err) = sync_fails(&b, "untrusted");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("certificate was not accepted"), "{err}");
    assert!(err.contains("UnknownIssuer"), "{err}");
    assert!(err.contains("--ca FILE"), "{err}");

    // Another CA is no better.
    remote(
        &b,
        "wrong-ca",
        &url,
        "north",
        &password,
        &[OsStr::new("--ca"), pki.other_ca.as_os_str()],
    );
    let (_, err) = sync_fails(&b, "wrong-ca");
    assert!(err.contains("certificate was not accepted"), "{err}");
}

#[test]
fn plain_http_to_the_https_port_fails() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(&dir.path().join("pki"));
    let (a, b) = nodes(dir.path());
    let (password, token) = partner(&a, "north", &[]);
    let (_server, url) = serve_tls(&a, &pki, false);
    let plain = url.replace("https://", "http://");

    // A plain HTTP request is answered 400, saying to use https://, and
    // nothing is served.
    let r = ureq::get(&format!("{plain}/api/collections/"))
        .set("Authorization", &format!("Bearer {token}"))
        .call();
    match r {
        Err(ureq::Error::Status(400, resp)) => {
            let body = resp.into_string().unwrap();
            assert!(body.contains("use https://"), "{body}");
        }
        other => panic!("plain HTTP was not refused: {other:?}"),
    }
    // So is a sync over http://.
    remote(&b, "plain", &plain, "north", &password, &[]);
    let (_, err) = sync_fails(&b, "plain");
    assert!(
        err.contains("HTTP 400") && err.contains("https://"),
        "{err}"
    );

    // The server goes on serving HTTPS.
    assert_eq!(collections(&client(&pki.ca, None), &url, &token), Ok(200));
}

#[test]
fn a_partner_bound_to_a_client_certificate_is_served_only_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(&dir.path().join("pki"));
    let (a, b) = nodes(dir.path());
    // `north` is bound from its PEM file, `west` by fingerprint (as
    // openssl prints it), `south` not at all.
    let (north_pw, north_token) = partner(&a, "north", &["--client-cert", s(&pki.north_cert)]);
    let colons: Vec<String> = cert_sha256(&pki.north_cert)
        .to_uppercase()
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let openssl_line = format!("sha256 Fingerprint={}", colons.join(":"));
    let (_, west_token) = partner(&a, "west", &["--client-cert-fingerprint", &openssl_line]);
    let (_, south_token) = partner(&a, "south", &[]);
    let listed: serde_json::Value =
        serde_json::from_str(&ok(&a, &["partner", "list", "--json"])).unwrap();
    let fp = cert_sha256(&pki.north_cert);
    for (i, want) in [(0, Some(&fp)), (1, None), (2, Some(&fp))] {
        assert_eq!(
            listed[i]["client_cert_sha256"].as_str(),
            want.map(String::as_str)
        );
    }
    let (_server, url) = serve_tls(&a, &pki, true);

    let anonymous = client(&pki.ca, None);
    let with_north = client(&pki.ca, Some((&pki.north_cert, &pki.north_key)));
    let with_stranger = client(&pki.ca, Some((&pki.stranger_cert, &pki.stranger_key)));
    let with_forger = client(&pki.ca, Some((&pki.forger_cert, &pki.forger_key)));

    // Bound: the credential alone, or with another certificate, is 401;
    // with its certificate, 200. The certificate alone is not enough.
    assert_eq!(collections(&anonymous, &url, &north_token), Ok(401));
    assert_eq!(collections(&with_stranger, &url, &north_token), Ok(401));
    assert_eq!(collections(&with_north, &url, &north_token), Ok(200));
    assert_eq!(collections(&with_north, &url, "not-a-token"), Ok(401));
    assert_eq!(collections(&with_north, &url, &west_token), Ok(200));
    assert_eq!(collections(&anonymous, &url, &west_token), Ok(401));
    // Not bound: served with or without a certificate.
    assert_eq!(collections(&anonymous, &url, &south_token), Ok(200));
    assert_eq!(collections(&with_stranger, &url, &south_token), Ok(200));
    // A certificate the CA did not issue fails the handshake itself.
    let e = collections(&with_forger, &url, &south_token).unwrap_err();
    assert!(
        e.to_lowercase().contains("certificate") || e.contains("alert"),
        "{e}"
    );

    // End to end: the receiver syncs as `north` without its certificate
    // (refused), then with it.
    let ca = [OsStr::new("--ca"), pki.ca.as_os_str()];
    remote(&b, "no-cert", &url, "north", &north_pw, &ca);
    let (code, err) = sync_fails(&b, "no-cert");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("HTTP 401"), "{err}");
    let mut with_cert = ca.to_vec();
    with_cert.extend([
        OsStr::new("--client-cert"),
        pki.north_cert.as_os_str(),
        OsStr::new("--client-key"),
        pki.north_key.as_os_str(),
    ]);
    remote(&b, "sender", &url, "north", &north_pw, &with_cert);
    let out = synced(&b, "sender");
    assert!(out.contains("6 objects"), "{out}");
    // The store keeps the certificate and key, not the files' paths.
    std::fs::remove_file(&pki.north_key).unwrap();
    let out = synced(&b, "sender");
    assert!(out.contains("synced with `sender`"), "{out}");

    // Unbinding: the credential alone suffices again.
    let said = ok(&a, &["partner", "cert", "north", "--clear"]);
    assert!(said.contains("no longer bound"), "{said}");
    assert_eq!(collections(&anonymous, &url, &north_token), Ok(200));
    // Binding by fingerprint holds from the next request.
    ok(&a, &["partner", "cert", "south", "--fingerprint", &fp]);
    assert_eq!(collections(&anonymous, &url, &south_token), Ok(401));
    assert_eq!(collections(&with_north, &url, &south_token), Ok(200));
}

#[test]
fn bad_tls_files_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(&dir.path().join("pki"));
    let (a, b) = nodes(dir.path());
    let serve = |args: &[&str]| {
        let mut all = vec!["serve", "--listen", "127.0.0.1:0"];
        all.extend(args);
        let o = run_at(&a, None, &all);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let missing = dir.path().join("missing.pem");
    let (code, err) = serve(&["--tls-cert", s(&missing), "--tls-key", s(&pki.server_key)]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!("--tls-cert `{}`: cannot read", missing.display())),
        "{err}"
    );

    // The key of another certificate.
    let (code, err) = serve(&[
        "--tls-cert",
        s(&pki.server_cert),
        "--tls-key",
        s(&pki.north_key),
    ]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "`{}`: is not the private key of the certificate in `{}`",
            pki.north_key.display(),
            pki.server_cert.display()
        )),
        "{err}"
    );
    // Certificate and key swapped.
    let (code, err) = serve(&[
        "--tls-cert",
        s(&pki.server_key),
        "--tls-key",
        s(&pki.server_cert),
    ]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "`{}`: holds a private key, not a certificate",
            pki.server_key.display()
        )),
        "{err}"
    );
    // Not PEM at all.
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").unwrap();
    let (code, err) = serve(&["--tls-cert", s(&pki.server_cert), "--tls-key", s(&junk)]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!("`{}`: holds no private key", junk.display())),
        "{err}"
    );
    let (code, err) = serve(&[
        "--tls-cert",
        s(&pki.server_cert),
        "--tls-key",
        s(&pki.server_key),
        "--tls-client-ca",
        s(&junk),
    ]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains(&format!("`{}`: holds no certificate", junk.display())),
        "{err}"
    );
    // A client CA needs a server certificate; a certificate needs its key.
    let (code, err) = serve(&["--tls-client-ca", s(&pki.ca)]);
    assert_eq!(code, Some(3), "{err}");
    assert!(
        err.contains("--tls-client-ca needs a server certificate and key"),
        "{err}"
    );
    let (code, _) = serve(&["--tls-cert", s(&pki.server_cert)]);
    assert_eq!(code, Some(2), "a usage error");

    // A client key that is not the client certificate's is refused by
    // `remote add`, naming both files.
    let o = run_at(
        &b,
        None,
        &[
            "remote",
            "add",
            "x",
            "https://127.0.0.1:1",
            "--token",
            "t",
            "--client-cert",
            s(&pki.north_cert),
            "--client-key",
            s(&pki.stranger_key),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "--client-key `{}`: is not the private key of the certificate in --client-cert `{}`",
            pki.stranger_key.display(),
            pki.north_cert.display()
        )),
        "{err}"
    );
    let o = run_at(
        &b,
        None,
        &[
            "remote",
            "add",
            "x",
            "http://127.0.0.1:1",
            "--token",
            "t",
            "--ca",
            s(&pki.ca),
        ],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("for an https:// URL"));
    // Generated secrets may start with `-`; `remote add` takes them as
    // they are.
    ok(
        &b,
        &[
            "remote",
            "add",
            "dash",
            "https://127.0.0.1:1",
            "--user",
            "u",
            "--password",
            "-2abc",
        ],
    );
    ok(
        &b,
        &[
            "remote",
            "add",
            "dash2",
            "https://127.0.0.1:1",
            "--token",
            "-xyz",
        ],
    );
    // A fingerprint that is not one.
    let o = run_at(
        &a,
        None,
        &[
            "partner",
            "add",
            "p",
            "--audience",
            "liaison",
            "--client-cert-fingerprint",
            "abc",
        ],
    );
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is not a SHA-256 fingerprint"));
}

#[test]
fn tls_settings_in_tearline_toml_are_resolved_against_the_node() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _) = nodes(dir.path());
    // The certificates live in the node directory, named relatively.
    let pki = Pki::new(&a.join("tls"));
    let settings = a.join("tearline.toml");
    let text = std::fs::read_to_string(&settings).unwrap();
    let with = |extra: &str| {
        let t = if text.contains("[exchange]") {
            text.replace("[exchange]", &format!("[exchange]\n{extra}"))
        } else {
            format!("{text}\n[exchange]\n{extra}")
        };
        std::fs::write(&settings, t).unwrap();
    };
    with("tls_cert = \"tls/server.pem\"\ntls_key = \"tls/server.key\"\ntls_client_ca = \"tls/ca.pem\"\n");
    let (_, token) = partner(&a, "north", &["--client-cert", s(&pki.north_cert)]);
    let (server, url) = serve_with(&a, None, "127.0.0.1:0", &[]);
    assert!(url.starts_with("https://"), "{url}");
    let with_north = client(&pki.ca, Some((&pki.north_cert, &pki.north_key)));
    assert_eq!(collections(&with_north, &url, &token), Ok(200));
    assert_eq!(collections(&client(&pki.ca, None), &url, &token), Ok(401));
    drop(server);

    // A certificate without its key is refused when the node is opened.
    with("tls_cert = \"tls/server.pem\"\n");
    let o = run_at(&a, None, &["serve", "--listen", "127.0.0.1:0"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(err.contains("tls_cert and tls_key go together"), "{err}");

    // A file that is not there is named with its setting.
    with("tls_cert = \"tls/gone.pem\"\ntls_key = \"tls/server.key\"\n");
    let o = run_at(&a, None, &["serve", "--listen", "127.0.0.1:0"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains(&format!(
            "[exchange] tls_cert `{}`: cannot read",
            a.join("tls/gone.pem").display()
        )),
        "{err}"
    );
}
