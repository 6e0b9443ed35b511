"""Tearline's email notifications against a real SMTP server, aiosmtpd.

Usage: notify_smtp_check.py TEARLINE WORKDIR

Starts aiosmtpd on a free loopback port, asking for a login (AUTH PLAIN or
LOGIN, allowed without TLS on loopback), points a Tearline node's
`[[notify.email]]` at it, releases a warning with a three-hour window and
moves the node's clock with TEARLINE_NOW:

- 09:00, two hours before the window ends: one reminder, to both
  recipients, from the configured address, with the node's name in the
  subject;
- again at 09:00: nothing new is sent;
- 12:00, the window has ended, the server is down: `tearline notify` fails
  with exit 1 and says the channel will be tried again;
- 12:00, the server is back: the "review due" email arrives, once.
"""

import logging
import os
import socket
import subprocess
import sys
import warnings
from email import message_from_bytes

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

USER, PASSWORD = "notifier", "a relay password"

# Logging in without TLS is what this loopback test means to do.
warnings.filterwarnings("ignore", module="aiosmtpd")
logging.getLogger("mail.log").setLevel(logging.CRITICAL)


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}")
        sys.exit(1)


class Inbox:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content, session.authenticated))
        return "250 OK"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode() and auth_data.password == PASSWORD.encode()
    return AuthResult(success=ok)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(inbox, port):
    c = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_required=True,
        auth_require_tls=False,
    )
    c.start()
    return c


def tearline(tl, node, now, *args, ok=True):
    env = dict(os.environ, TEARLINE_NOW=now)
    env.pop("TEARLINE_HOME", None)
    p = subprocess.run([tl, "--node", node, *args], env=env, capture_output=True, text=True)
    if ok and p.returncode != 0:
        print(p.stdout, p.stderr)
        check(False, f"tearline {' '.join(args)} exited {p.returncode}")
    return p


def main():
    tl, work = sys.argv[1], sys.argv[2]
    os.makedirs(work, exist_ok=True)
    node = os.path.join(work, "node")
    inbox = Inbox()
    port = free_port()
    server = start(inbox, port)

    tearline(tl, node, "2026-03-20T09:00:00Z", "init", "--name", "Mail node")
    with open(os.path.join(node, "tearline.toml"), "a", encoding="utf-8") as f:
        f.write(
            "\n[[notify.email]]\n"
            f'smtp = "127.0.0.1:{port}"\n'
            'from = "tearline@desk.example"\n'
            'to = ["duty@desk.example", "lead@desk.example"]\n'
            f'user = "{USER}"\npassword = "{PASSWORD}"\n'
        )
    report = os.path.join(work, "report.md")
    with open(report, "w", encoding="utf-8") as f:
        f.write(
            "---\ntitle: Threat to concert venues\nproduced: 2026-03-20T08:00:00Z\n"
            "valid_from: 2026-03-20T08:00:00Z\nvalid_until: 2026-03-20T11:00:00Z\n---\n\n"
            "(TLP:CLEAR) [Wilayat Khorasan]{actor} plan to attack [concerts]{target} in [Moscow]{place}.\n\n"
            '(TLP:RED) [SAPPHIRE]{source sub="a source with direct access"} reported it.\n'
        )
    tearline(tl, node, "2026-03-20T08:30:00Z", "release", report, "--to", "liaison", "-o", os.path.join(work, "out.md"))

    p = tearline(tl, node, "2026-03-20T09:00:00Z", "notify")
    check("1 notification(s) sent" in p.stdout, f"one reminder: {p.stdout}")
    check(len(inbox.messages) == 1, f"one email, got {len(inbox.messages)}")
    mail_from, rcpt, content, authed = inbox.messages[0]
    check(authed, "the client logged in")
    check(mail_from == "tearline@desk.example", f"from {mail_from}")
    check(sorted(rcpt) == ["duty@desk.example", "lead@desk.example"], f"to {rcpt}")
    msg = message_from_bytes(content)
    check("[Tearline Mail node]" in msg["Subject"], f"subject {msg['Subject']}")
    body = msg.get_payload(decode=True).decode()
    check("event: window-ending" in body and "2026-03-20T11:00:00" in body, body)

    p = tearline(tl, node, "2026-03-20T09:00:00Z", "notify")
    check("0 notification(s) sent" in p.stdout, f"nothing twice: {p.stdout}")

    server.stop()
    p = tearline(tl, node, "2026-03-20T12:00:00Z", "notify", ok=False)
    check(p.returncode == 1, f"a failed channel exits 1, got {p.returncode}")
    check("tried again next time" in p.stderr, p.stderr)
    check(len(inbox.messages) == 1, "nothing arrived while down")

    server = start(inbox, port)
    try:
        p = tearline(tl, node, "2026-03-20T12:00:00Z", "notify")
        check("1 notification(s) sent" in p.stdout, f"the pending notice: {p.stdout}")
        check(len(inbox.messages) == 2, f"two emails in all, got {len(inbox.messages)}")
        body = message_from_bytes(inbox.messages[1][2]).get_payload(decode=True).decode()
        check("event: review-due" in body, body)
        p = tearline(tl, node, "2026-03-20T12:00:00Z", "notify")
        check("0 notification(s) sent" in p.stdout, f"once: {p.stdout}")
    finally:
        server.stop()
    print("email notifications: reminder, retry after an outage and review due delivered once each via aiosmtpd")


if __name__ == "__main__":
    main()
