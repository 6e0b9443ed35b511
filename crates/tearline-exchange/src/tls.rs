//! TLS for the exchange, on both sides.
//!
//! - **Serving.** [`server_config`] reads the server's certificate chain
//!   and private key (PEM) and, optionally, a CA whose client certificates
//!   are verified. Client certificates are asked for, not required: a
//!   partner without one still authenticates with its password or token,
//!   unless it is bound to a certificate. A client that presents a
//!   certificate the CA did not issue fails the handshake.
//! - **Listening.** [`TlsListener`] completes each handshake in a task of
//!   its own (with a time limit), so a slow or silent client never holds
//!   up the next one; a client that speaks plain HTTP to it is told to use
//!   `https://`.
//! - **Who is calling.** Every request carries [`Peer`] (as axum's
//!   `ConnectInfo`): the address and, over TLS, the SHA-256 fingerprint of
//!   the client certificate its connection presented. Authentication
//!   checks it against the partner's binding.
//! - **The sync client.** [`client_config`] builds the rustls client
//!   configuration of a remote: its own CA instead of the public roots,
//!   and our client certificate.
//!
//! Every error names the file (or the stored item) and what is wrong
//! with it.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::{IncomingStream, Listener};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
pub use rustls::{ClientConfig, ServerConfig};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// A TLS set-up problem: what (a file, or a stored item) and what is
/// wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what}: {problem}")]
pub struct TlsError {
    /// The file, or the stored item, e.g. `` `server.pem` ``.
    pub what: String,
    /// What is wrong.
    pub problem: String,
}

impl TlsError {
    fn new(what: &str, problem: impl Into<String>) -> TlsError {
        TlsError {
            what: what.to_string(),
            problem: problem.into(),
        }
    }
}

/// PEM text and its name in error messages (`` `ca.pem` ``, or
/// ``remote `north`: stored CA``).
#[derive(Debug, Clone, Copy)]
pub struct Pem<'a> {
    /// What it is called in messages.
    pub name: &'a str,
    /// Its text.
    pub text: &'a str,
}

/// The one crypto provider of the process: ring, as ureq uses.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads a PEM file; the error names it.
pub fn read_pem_file(path: &Path) -> Result<String, TlsError> {
    let name = format!("`{}`", path.display());
    let bytes =
        std::fs::read(path).map_err(|e| TlsError::new(&name, format!("cannot read: {e}")))?;
    String::from_utf8(bytes)
        .map_err(|_| TlsError::new(&name, "is not a PEM text file (it is not UTF-8 text)"))
}

fn pem_problem(e: pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "is not valid PEM: a section has no `{}` line",
            String::from_utf8_lossy(&end_marker)
        ),
        pem::Error::IllegalSectionStart { line } => format!(
            "is not valid PEM: bad section start `{}`",
            String::from_utf8_lossy(&line)
        ),
        pem::Error::Base64Decode(m) => format!("is not valid PEM: bad base64 ({m})"),
        other => format!("is not valid PEM: {other}"),
    }
}

/// The certificates of a PEM text, in order; at least one.
pub fn certificates(p: Pem<'_>) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(p.text.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::new(p.name, pem_problem(e)))?;
    if certs.is_empty() {
        let hint = if p.text.contains("PRIVATE KEY-----") {
            "holds a private key, not a certificate (were the certificate and the key swapped?)"
        } else {
            "holds no certificate (a PEM `-----BEGIN CERTIFICATE-----` section)"
        };
        return Err(TlsError::new(p.name, hint));
    }
    Ok(certs)
}

/// The private key of a PEM text (PKCS#8, PKCS#1 or SEC1, unencrypted).
pub fn private_key(p: Pem<'_>) -> Result<PrivateKeyDer<'static>, TlsError> {
    match PrivateKeyDer::from_pem_slice(p.text.as_bytes()) {
        Ok(k) => Ok(k),
        Err(pem::Error::NoItemsFound) => Err(TlsError::new(
            p.name,
            if p.text.contains("ENCRYPTED PRIVATE KEY") {
                "holds an encrypted private key; give it unencrypted (e.g. `openssl pkey -in KEY -out plain.pem`) and keep the file readable by the node's owner only"
            } else if p.text.contains("CERTIFICATE-----") {
                "holds a certificate, not a private key (were the certificate and the key swapped?)"
            } else {
                "holds no private key (a PEM `PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY` section)"
            },
        )),
        Err(e) => Err(TlsError::new(p.name, pem_problem(e))),
    }
}

/// The SHA-256 fingerprint (lowercase hex) of a certificate's DER: what a
/// partner is bound to, and what `openssl x509 -noout -fingerprint
/// -sha256` prints (with colons, in upper case).
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

/// The fingerprint of the first certificate of a PEM text.
pub fn certificate_fingerprint(p: Pem<'_>) -> Result<String, TlsError> {
    let certs = certificates(p)?;
    Ok(fingerprint(&certs[0]))
}

/// A SHA-256 fingerprint as typed: hex, with or without colons, in either
/// case, optionally as `openssl x509 -fingerprint` prints it
/// (`sha256 Fingerprint=AB:CD:…`). Lowercase hex without colons.
pub fn parse_fingerprint(s: &str) -> Result<String, String> {
    let t = s.trim();
    let t = match t.split_once('=') {
        Some((label, rest)) if label.to_ascii_lowercase().contains("fingerprint") => rest.trim(),
        _ => t,
    };
    let hex: String = t
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!(
            "`{s}` is not a SHA-256 fingerprint: expected 64 hex digits (colons allowed), as `openssl x509 -noout -fingerprint -sha256 -in CERT` prints"
        ));
    }
    Ok(hex)
}

/// What the server reads for TLS.
#[derive(Debug, Clone, Copy)]
pub struct ServerFiles<'a> {
    /// The certificate chain (PEM), the server's own certificate first.
    pub cert: &'a Path,
    /// Its private key (PEM).
    pub key: &'a Path,
    /// A CA (PEM) whose client certificates are verified; none: client
    /// certificates are not asked for.
    pub client_ca: Option<&'a Path>,
}

/// The server's TLS configuration (HTTP/1.1).
pub fn server_config(files: ServerFiles<'_>) -> Result<Arc<ServerConfig>, TlsError> {
    let cert_name = format!("`{}`", files.cert.display());
    let key_name = format!("`{}`", files.key.display());
    let cert_text = read_pem_file(files.cert)?;
    let key_text = read_pem_file(files.key)?;
    let chain = certificates(Pem {
        name: &cert_name,
        text: &cert_text,
    })?;
    let key = private_key(Pem {
        name: &key_name,
        text: &key_text,
    })?;
    let provider = provider();
    let builder = ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::new("TLS", e.to_string()))?;
    let builder = match files.client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let ca_name = format!("`{}`", ca.display());
            let ca_text = read_pem_file(ca)?;
            let roots = root_store(Pem {
                name: &ca_name,
                text: &ca_text,
            })?;
            let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                .allow_unauthenticated()
                .build()
                .map_err(|e| {
                    TlsError::new(&ca_name, format!("cannot verify client certificates: {e}"))
                })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key)
        .map_err(|e| key_problem(&cert_name, &key_name, e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// A rustls refusal of a certificate and key, said with both files.
fn key_problem(cert: &str, key: &str, e: rustls::Error) -> TlsError {
    match e {
        rustls::Error::InconsistentKeys(_) => TlsError::new(
            key,
            format!("is not the private key of the certificate in {cert}"),
        ),
        rustls::Error::InvalidCertificate(c) => {
            TlsError::new(cert, format!("is not a usable certificate: {c:?}"))
        }
        other => TlsError::new(key, format!("is not a usable private key: {other}")),
    }
}

/// A root store holding every certificate of a PEM text.
fn root_store(p: Pem<'_>) -> Result<RootCertStore, TlsError> {
    let mut roots = RootCertStore::empty();
    for (i, c) in certificates(p)?.into_iter().enumerate() {
        roots.add(c).map_err(|e| {
            TlsError::new(
                p.name,
                format!("certificate {} is not a usable CA certificate: {e}", i + 1),
            )
        })?;
    }
    Ok(roots)
}

/// Our client certificate chain and its private key, as PEM.
#[derive(Debug, Clone, Copy)]
pub struct Identity<'a> {
    /// The chain, our certificate first.
    pub cert: Pem<'a>,
    /// Its private key.
    pub key: Pem<'a>,
}

/// The client's TLS configuration for one remote: its server certificate
/// must chain to `ca` (instead of the public roots, when given), and we
/// present `identity` when asked for a client certificate.
pub fn client_config(
    ca: Option<Pem<'_>>,
    identity: Option<Identity<'_>>,
) -> Result<Arc<ClientConfig>, TlsError> {
    let roots = match ca {
        Some(p) => root_store(p)?,
        None => RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::new("TLS", e.to_string()))?
        .with_root_certificates(roots);
    let config = match identity {
        None => builder.with_no_client_auth(),
        Some(id) => {
            let chain = certificates(id.cert)?;
            let key = private_key(id.key)?;
            builder
                .with_client_auth_cert(chain, key)
                .map_err(|e| key_problem(id.cert.name, id.key.name, e))?
        }
    };
    Ok(Arc::new(config))
}

// ---- serving -------------------------------------------------------------

/// Where a request came from: its address and, over TLS, the SHA-256
/// fingerprint of the client certificate its connection presented (which
/// the client CA verified). Handlers find it as `ConnectInfo<Peer>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// The client's address.
    pub addr: SocketAddr,
    /// The client certificate's fingerprint (lowercase hex), if one was
    /// presented.
    pub client_cert_sha256: Option<String>,
}

impl Connected<IncomingStream<'_, TcpListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TcpListener>) -> Peer {
        Peer {
            addr: *stream.remote_addr(),
            client_cert_sha256: None,
        }
    }
}

impl Connected<IncomingStream<'_, TlsListener>> for Peer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Peer {
        let (_, session) = stream.io().get_ref();
        Peer {
            addr: *stream.remote_addr(),
            client_cert_sha256: session
                .peer_certificates()
                .and_then(|chain| chain.first())
                .map(|c| fingerprint(c)),
        }
    }
}

/// How long a client has to complete its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; past this, new connections wait in the
/// kernel's backlog.
const MAX_HANDSHAKES: usize = 512;

/// A TCP listener that hands out connections after their TLS handshake.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<(SocketAddr, Result<TlsStream<TcpStream>, String>)>,
}

impl TlsListener {
    /// TLS with `config` on a bound listener.
    pub fn new(tcp: TcpListener, config: Arc<ServerConfig>) -> TlsListener {
        TlsListener {
            tcp,
            acceptor: TlsAcceptor::from(config),
            handshakes: JoinSet::new(),
        }
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept(), if self.handshakes.len() < MAX_HANDSHAKES => {
                    match accepted {
                        Ok((stream, addr)) => {
                            let acceptor = self.acceptor.clone();
                            self.handshakes.spawn(async move { (addr, handshake(acceptor, stream).await) });
                        }
                        Err(e) if is_connection_error(&e) => {}
                        Err(e) => {
                            // Out of file descriptors and the like: wait,
                            // as axum's own listener does.
                            tracing::error!("accepting a connection failed: {e}");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    match done {
                        Ok((addr, Ok(stream))) => return (stream, addr),
                        Ok((addr, Err(e))) => tracing::warn!("TLS handshake with {addr} failed: {e}"),
                        Err(e) => tracing::error!("a TLS handshake task failed: {e}"),
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.tcp.local_addr()
    }
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// The TLS handshake of one connection, within [`HANDSHAKE_TIMEOUT`]. A
/// client that opens with plain HTTP instead gets a 400 saying to use
/// `https://`, and the connection is closed.
async fn handshake(
    acceptor: TlsAcceptor,
    stream: TcpStream,
) -> Result<TlsStream<TcpStream>, String> {
    let run = async move {
        let mut first = [0u8; 1];
        let n = stream
            .peek(&mut first)
            .await
            .map_err(|e| format!("the connection failed: {e}"))?;
        if n == 0 {
            return Err("the client closed the connection".to_string());
        }
        // Every TLS connection starts with a handshake record (22).
        if first[0] != 22 {
            if first[0].is_ascii_uppercase() {
                refuse_plain_http(stream).await;
                return Err("the client spoke plain HTTP to the HTTPS port".to_string());
            }
            return Err("the client did not start a TLS handshake".to_string());
        }
        acceptor.accept(stream).await.map_err(|e| e.to_string())
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, run)
        .await
        .unwrap_or_else(|_| Err(format!("no handshake within {HANDSHAKE_TIMEOUT:?}")))
}

/// Answers a plain-HTTP request on the TLS port with a 400 that says so.
async fn refuse_plain_http(mut stream: TcpStream) {
    // Read the request's head first, so that closing does not reset the
    // connection before the client reads the answer.
    let mut buf = [0u8; 8192];
    let _ = tokio::time::timeout(Duration::from_secs(1), stream.read(&mut buf)).await;
    let body = "This Tearline node serves HTTPS on this port: use https:// in the URL.\n";
    let answer = format!(
        "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(answer.as_bytes()).await;
    let _ = stream.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_read_as_openssl_prints_them() {
        let hex = "ab".repeat(32);
        let colons = vec!["AB"; 32].join(":");
        assert_eq!(parse_fingerprint(&hex).unwrap(), hex);
        assert_eq!(parse_fingerprint(&colons).unwrap(), hex);
        assert_eq!(
            parse_fingerprint(&format!("sha256 Fingerprint={colons}\n")).unwrap(),
            hex
        );
        assert_eq!(
            parse_fingerprint(&format!("SHA256 Fingerprint={colons}")).unwrap(),
            hex
        );
        assert!(parse_fingerprint("abc")
            .unwrap_err()
            .contains("64 hex digits"));
        assert!(parse_fingerprint(&"zz".repeat(32)).is_err());
    }

    #[test]
    fn bad_pem_is_named_with_what_is_wrong() {
        let p = |text| Pem {
            name: "`x.pem`",
            text,
        };
        let e = certificates(p("hello")).unwrap_err();
        assert_eq!(e.what, "`x.pem`");
        assert!(e.problem.contains("no certificate"), "{e}");
        let e = certificates(p(
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ))
        .unwrap_err();
        assert!(e.problem.contains("swapped"), "{e}");
        let e = certificates(p("-----BEGIN CERTIFICATE-----\nAAAA\n")).unwrap_err();
        assert!(e.problem.contains("not valid PEM"), "{e}");
        let e = private_key(p(
            "-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n",
        ))
        .unwrap_err();
        assert!(e.problem.contains("encrypted"), "{e}");
        let e = private_key(p("")).unwrap_err();
        assert!(e.problem.contains("no private key"), "{e}");
        let e = read_pem_file(Path::new("/nonexistent/tearline.pem")).unwrap_err();
        assert_eq!(e.what, "`/nonexistent/tearline.pem`");
        assert!(e.problem.starts_with("cannot read"), "{e}");
    }
}
