"""Drives `tearline serve` over HTTPS with the OASIS taxii2-client, as a
partner across the internet would, with and without a client certificate.

Usage: taxii2_client_tls_check.py TEARLINE

Makes a CA, a server certificate for 127.0.0.1 and localhost and a client
certificate with the `cryptography` package; starts a node with one release
to `liaison`, partner `south` (password only) and partner `north` (bound to
the client certificate), served with --tls-cert, --tls-key and
--tls-client-ca. Checks that taxii2-client reads and posts over HTTPS with
`verify=CA`, that the server's certificate is refused without it, that
`north` is refused without its certificate and served with it
(`cert=(cert, key)`), that a certificate from another CA fails the
handshake, and that plain HTTP to the port is refused. Exits non-zero on
the first failure.
"""

import datetime
import ipaddress
import os
import re
import subprocess
import sys
import tempfile
import time

import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from taxii2client.v21 import Server, as_pages

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def write(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)
    return path


def key_pem(key):
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_ca(cn):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert, key


def make_leaf(cn, ca, usage, sans=()):
    ca_cert, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.timezone.utc)
    b = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
    )
    if sans:
        b = b.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return b.sign(ca_key, hashes.SHA256()), key


def pki(d):
    ca = make_ca("Interop CA")
    other = make_ca("Another CA")
    server = make_leaf(
        "tearline node", ca, ExtendedKeyUsageOID.SERVER_AUTH,
        [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    north = make_leaf("north", ca, ExtendedKeyUsageOID.CLIENT_AUTH)
    forger = make_leaf("north", other, ExtendedKeyUsageOID.CLIENT_AUTH)
    pem = lambda c: c.public_bytes(serialization.Encoding.PEM)
    files = {
        "ca": write(f"{d}/ca.pem", pem(ca[0])),
        "server_cert": write(f"{d}/server.pem", pem(server[0])),
        "server_key": write(f"{d}/server.key", key_pem(server[1])),
        "north_cert": write(f"{d}/north.pem", pem(north[0])),
        "north_key": write(f"{d}/north.key", key_pem(north[1])),
        "forger_cert": write(f"{d}/forger.pem", pem(forger[0])),
        "forger_key": write(f"{d}/forger.key", key_pem(forger[1])),
    }
    files["north_sha256"] = north[0].fingerprint(hashes.SHA256()).hex()
    return files


def tearline(tl, node, *args):
    r = subprocess.run([tl, "--node", node, *args], capture_output=True, text=True)
    if r.returncode != 0:
        print(r.stdout, r.stderr)
        sys.exit(f"FAILED: tearline {' '.join(args)}")
    return r.stdout


def field(printed, key):
    return next(l.split(":", 1)[1].strip() for l in printed.splitlines() if l.strip().startswith(key + ":"))


def main():
    tl = sys.argv[1]
    # requests lets these variables take the place of a session's `verify`
    # (which is how taxii2-client passes it on): without them, `verify=CA`
    # is what a partner's client uses.
    for v in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        os.environ.pop(v, None)
    with tempfile.TemporaryDirectory() as work:
        serve_and_check(tl, work)


def serve_and_check(tl, work):
    node = f"{work}/node"
    f = pki(work)
    tearline(tl, node, "init", "--name", "Interop TLS node")
    tearline(tl, node, "release", f"{ROOT}/examples/embassy-warning.md", "--to", "liaison", "-o", f"{work}/liaison.md")
    south = tearline(tl, node, "partner", "add", "south", "--audience", "liaison")
    # The fingerprint as openssl prints it: upper case with colons.
    openssl_style = ":".join(re.findall("..", f["north_sha256"].upper()))
    north = tearline(tl, node, "partner", "add", "north", "--audience", "liaison",
                     "--client-cert-fingerprint", openssl_style)
    check(f["north_sha256"] in north, "partner north is bound to its certificate's SHA-256")

    log = open(f"{work}/serve.log", "w+")
    server = subprocess.Popen(
        [tl, "--node", node, "serve", "--listen", "127.0.0.1:0",
         "--tls-cert", f["server_cert"], "--tls-key", f["server_key"], "--tls-client-ca", f["ca"]],
        stderr=log,
    )
    try:
        url = None
        for _ in range(100):
            log.seek(0)
            m = re.search(r"TAXII 2\.1 on (https://[^/]+)/taxii2/", log.read())
            if m:
                url = m.group(1)
                break
            time.sleep(0.1)
        check(url is not None, f"the server says it serves HTTPS ({url})")
        run(url, f, field(south, "password"), field(north, "password"))
    finally:
        server.terminate()
        server.wait()


def run(url, f, south_password, north_password):
    ca = f["ca"]
    # An unbound partner: Basic over HTTPS, the server checked against the CA.
    root = Server(f"{url}/taxii2/", user="south", password=south_password, verify=ca).api_roots[0]
    cols = root.collections
    check(len(cols) == 2, "south sees two collections over HTTPS")
    releases = next(c for c in cols if not c.can_write)
    objects = [o for env in as_pages(releases.get_objects, per_request=3) for o in env.get("objects", [])]
    check(any(o["type"] == "report" for o in objects), f"as_pages over HTTPS reads the release ({len(objects)} objects)")

    # Without the CA, the server's certificate is not trusted.
    try:
        Server(f"{url}/taxii2/", user="south", password=south_password).title
        check(False, "the server's certificate is refused without verify=CA")
    except requests.exceptions.SSLError:
        check(True, "the server's certificate is refused without verify=CA")

    # The bound partner without its certificate: 401.
    try:
        Server(f"{url}/taxii2/", user="north", password=north_password, verify=ca).title
        check(False, "north without its certificate is refused")
    except requests.exceptions.HTTPError as e:
        check(e.response.status_code == 401, f"north without its certificate is refused ({e.response.status_code})")

    # With it: reads, and posts to its inbox.
    cert = (f["north_cert"], f["north_key"])
    root = Server(f"{url}/taxii2/", user="north", password=north_password, verify=ca, cert=cert).api_roots[0]
    cols = root.collections
    inbox = next(c for c in cols if c.can_write)
    status = inbox.add_objects({"objects": [{
        "type": "note", "spec_version": "2.1",
        "id": "note--0000abcd-1111-4111-8111-111111111111",
        "created": "2026-03-21T10:00:00.000Z", "modified": "2026-03-21T10:00:00.000Z",
        "content": "measures in force", "object_refs": ["report--11111111-1111-4111-8111-111111111111"],
    }]})
    check(status.status == "complete" and status.success_count == 1, "north with its certificate posts to its inbox")
    got = inbox.get_objects()
    check(len(got.get("objects", [])) == 1, "north with its certificate reads its inbox back")

    # The same name on a certificate from another CA fails the handshake.
    try:
        Server(f"{url}/taxii2/", user="north", password=north_password, verify=ca,
               cert=(f["forger_cert"], f["forger_key"])).title
        check(False, "a certificate from another CA is refused")
    except (requests.exceptions.SSLError, requests.exceptions.ConnectionError):
        check(True, "a certificate from another CA is refused")

    # Plain HTTP to the HTTPS port.
    r = requests.get(url.replace("https://", "http://") + "/taxii2/", timeout=10)
    check(r.status_code == 400 and "https://" in r.text, "plain HTTP to the HTTPS port gets 400 saying to use https://")
    print("taxii2-client over HTTPS: all checks passed")


if __name__ == "__main__":
    main()
