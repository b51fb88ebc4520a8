#!/usr/bin/env python3
"""The Python side of bench/run.sh: the same steps as `mailcfg test`, with the standard library only.

Usage (the client secret comes from MAILCFG_CLIENT_SECRET, as for mailcfg):
  py_client.py token   TOKEN_URL CLIENT_ID SCOPE
  py_client.py imap    TOKEN_URL CLIENT_ID SCOPE HOST PORT USER CA_FILE
  py_client.py smtp    TOKEN_URL CLIENT_ID SCOPE HOST PORT USER CA_FILE [--send]
  py_client.py profile TOKEN_URL CLIENT_ID SCOPE HOST IMAPS_PORT SMTP_PORT USER CA_FILE
With TOKEN_URL "-", the token is read from MAILCFG_BENCH_TOKEN instead (a pre-fetched token).

imap:    token (client credentials, HTTP POST), IMAPS, AUTHENTICATE XOAUTH2, EXAMINE INBOX, LOGOUT.
smtp:    token, SMTP, EHLO, STARTTLS, EHLO, AUTH XOAUTH2 (initial response if the line stays within 500
         octets, else after the 334), MAIL FROM + RCPT TO
         (the user's own address) + RSET, QUIT; --send: a short message through DATA instead of RSET.
profile: one token, then imap, then smtp (one after the other: the standard library has no
         concurrency of its own without threads).
Exits 0 when every step succeeded; any failure raises (exit 1).
"""

import base64
import imaplib
import json
import os
import smtplib
import ssl
import sys
import urllib.parse
import urllib.request


def token(token_url, client_id, scope):
    if token_url == "-":
        return os.environ["MAILCFG_BENCH_TOKEN"]
    body = urllib.parse.urlencode(
        {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": os.environ["MAILCFG_CLIENT_SECRET"],
            "scope": scope,
        }
    ).encode()
    with urllib.request.urlopen(urllib.request.Request(token_url, data=body), timeout=15) as r:
        return json.load(r)["access_token"]


def sasl(user, tok):
    return f"user={user}\x01auth=Bearer {tok}\x01\x01"


def imap(host, port, user, ca, tok):
    ctx = ssl.create_default_context(cafile=ca)
    m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx, timeout=15)
    m.authenticate("XOAUTH2", lambda _challenge: sasl(user, tok).encode())
    typ, _ = m.select("INBOX", readonly=True)  # EXAMINE
    if typ != "OK":
        raise SystemExit(f"EXAMINE failed: {typ}")
    m.logout()


def smtp(host, port, user, ca, tok, send=False):
    ctx = ssl.create_default_context(cafile=ca)
    s = smtplib.SMTP(host, int(port), timeout=15)
    s.ehlo()
    s.starttls(context=ctx)
    s.ehlo()
    ir = base64.b64encode(sasl(user, tok).encode()).decode()
    if len("AUTH XOAUTH2 " + ir) <= 500:  # RFC 4954: no initial response past the line limit
        code, resp = s.docmd("AUTH", "XOAUTH2 " + ir)
    else:  # (Dovecot answers a longer line "500 5.5.2 Line too long")
        code, resp = s.docmd("AUTH", "XOAUTH2")
        if code == 334:
            code, resp = s.docmd(ir)
    if code != 235:
        raise SystemExit(f"AUTH failed: {code} {resp!r}")
    if send:
        msg = f"From: {user}\r\nTo: {user}\r\nSubject: mailcfg benchmark\r\n\r\nbenchmark message\r\n"
        s.sendmail(user, [user], msg)
    else:
        code, resp = s.mail(user)
        if code != 250:
            raise SystemExit(f"MAIL FROM failed: {code} {resp!r}")
        code, resp = s.rcpt(user)
        if code not in (250, 251):
            raise SystemExit(f"RCPT TO failed: {code} {resp!r}")
        s.rset()
    s.quit()


def main(argv):
    kind = argv[1]
    token_url, client_id, scope = argv[2:5]
    tok = token(token_url, client_id, scope)
    if kind == "token":
        return
    if kind == "imap":
        host, port, user, ca = argv[5:9]
        imap(host, port, user, ca, tok)
    elif kind == "smtp":
        host, port, user, ca = argv[5:9]
        smtp(host, port, user, ca, tok, send="--send" in argv[9:])
    elif kind == "profile":
        host, imaps, smtp_port, user, ca = argv[5:10]
        imap(host, imaps, user, ca, tok)
        smtp(host, smtp_port, user, ca, tok)
    else:
        raise SystemExit(f"unknown test {kind}")


if __name__ == "__main__":
    main(sys.argv)
