//! SMTP, a small client of ours rather than lettre's connection-level API. lettre 0.11 can take a
//! pre-made stream (`AsyncSmtpConnection::connect_with_transport`), but that call reads the
//! greeting and sends EHLO in one go (no separate greeting and capability steps to time and
//! report), STARTTLS there is lettre's own upgrade with its own TLS settings (not the probe's
//! verifier, which says why a certificate was refused and describes it), and its XOAUTH2 does not
//! answer a `334` error challenge (it fails with "mechanism does not expect a challenge"), so the
//! server's final `535 …` line, the one the diagnosis needs, never comes. The commands the test
//! needs (EHLO, STARTTLS, AUTH, MAIL, RCPT, RSET, DATA, QUIT) are few; this also keeps lettre out
//! of the dependency tree.

use super::diagnose::Symptom;
use super::lines::Lines;
use super::net::Conn;
use super::sasl;
use super::{Credential, Run, Started, Status, Step, Target, send};
use crate::profile::Encryption;

/// One SMTP reply: its code and its lines (text after the code).
pub(super) struct Reply {
    pub(super) code: u16,
    lines: Vec<String>,
}

impl Reply {
    pub(super) fn last(&self) -> String {
        format!(
            "{} {}",
            self.code,
            self.lines.last().map_or("", String::as_str)
        )
    }
    pub(super) fn positive(&self) -> bool {
        (200..400).contains(&self.code)
    }
}

pub(super) async fn reply(
    run: &mut Run<'_>,
    s: &Started,
    io: &mut Lines,
    what: &str,
) -> Option<Reply> {
    let mut lines = Vec::new();
    loop {
        let line = match run.timed(io.read_line()).await {
            None => {
                let detail = format!("no answer to {what} within {}", run.secs());
                run.fail(s, detail, &Symptom::Timeout);
                return None;
            }
            Some(Ok(Some(l))) => l,
            Some(Ok(None)) => {
                let (detail, symptom) = if matches!(s.step, Step::Authenticate | Step::Send) {
                    (
                        format!("the server closed the connection after {what}, with no reply"),
                        Symptom::ClosedAfterAuth,
                    )
                } else {
                    (
                        format!(
                            "the server closed the connection (waiting for the answer to {what})"
                        ),
                        Symptom::Closed,
                    )
                };
                run.fail(s, detail, &symptom);
                return None;
            }
            Some(Err(e)) => {
                run.fail(
                    s,
                    format!("reading the answer to {what}: {e}"),
                    &Symptom::Closed,
                );
                return None;
            }
        };
        let code = line.get(..3).and_then(|c| c.parse::<u16>().ok());
        let sep = line.as_bytes().get(3).copied();
        let Some(code) = code.filter(|_| matches!(sep, None | Some(b' ' | b'-'))) else {
            let symptom = if s.step == Step::Greeting {
                Symptom::Garbage(line.clone())
            } else {
                Symptom::Reply(line.clone())
            };
            run.fail(s, format!("not an SMTP reply: {line}"), &symptom);
            return None;
        };
        lines.push(line.get(4..).unwrap_or("").to_owned());
        if sep != Some(b'-') {
            return Some(Reply { code, lines });
        }
    }
}

async fn send(run: &mut Run<'_>, s: &Started, io: &mut Lines, text: &str) -> Option<()> {
    match run.timed(io.send(text)).await {
        Some(Ok(())) => Some(()),
        Some(Err(e)) => {
            run.fail(s, format!("sending failed: {e}"), &Symptom::Closed);
            None
        }
        None => {
            let detail = format!("could not send within {}", run.secs());
            run.fail(s, detail, &Symptom::Timeout);
            None
        }
    }
}

/// A command and its reply; a negative reply fails the step with the reply verbatim.
pub(super) async fn command(
    run: &mut Run<'_>,
    s: &Started,
    io: &mut Lines,
    cmd: &str,
    what: &str,
) -> Option<Reply> {
    send(run, s, io, cmd).await?;
    let r = reply(run, s, io, what).await?;
    if !r.positive() {
        let line = r.last();
        run.fail(s, format!("{what}: {line}"), &Symptom::Reply(line.clone()));
        return None;
    }
    Some(r)
}

pub(crate) async fn run(run: &mut Run<'_>, t: &Target<'_>, cred: &Credential) {
    let after_connect = [
        Step::Greeting,
        Step::Capabilities,
        Step::Authenticate,
        Step::Send,
        Step::Logout,
    ];
    let Some(conn) = run.open(t).await else {
        run.skip(&after_connect);
        return;
    };
    if session(run, t, cred, conn).await.is_none() {
        run.skip(&after_connect);
    }
}

/// EHLO; `secured` after STARTTLS, where the server no longer offers it (and need not).
async fn ehlo(run: &mut Run<'_>, io: &mut Lines, secured: bool) -> Option<Vec<String>> {
    let s = run.begin(Step::Capabilities);
    let r = command(run, &s, io, "EHLO mailcfg.localhost", "EHLO").await?;
    let caps: Vec<String> = r
        .lines
        .iter()
        .skip(1)
        .map(|l| l.to_ascii_uppercase())
        .collect();
    let mechs = auth_mechs(&caps);
    let auth = if mechs.is_empty() {
        "none offered".to_owned()
    } else {
        mechs.join(" ")
    };
    let detail = if secured {
        format!("AUTH: {auth} (EHLO again after STARTTLS)")
    } else {
        format!(
            "AUTH: {auth}; STARTTLS {}",
            if caps.iter().any(|c| c == "STARTTLS") {
                "offered"
            } else {
                "not offered"
            }
        )
    };
    run.ok(&s, detail);
    Some(caps)
}

fn auth_mechs(caps: &[String]) -> Vec<String> {
    caps.iter()
        .find_map(|c| c.strip_prefix("AUTH ").or_else(|| c.strip_prefix("AUTH=")))
        .map(|m| m.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

#[allow(clippy::too_many_lines)] // the steps in order, read top to bottom
async fn session(run: &mut Run<'_>, t: &Target<'_>, cred: &Credential, conn: Conn) -> Option<()> {
    let mut io = Lines::new(conn, run.rec.clone());

    // Greeting (may be several lines).
    let s = run.begin(Step::Greeting);
    match run.timed(io.read_line()).await {
        // Silence on a plain connection may mean an implicit-TLS port.
        None if t.encryption != Encryption::Tls => {
            run.no_greeting(&s, "SMTP").await;
            return None;
        }
        None => {
            let detail = format!("no SMTP greeting within {}", run.secs());
            run.fail(&s, detail, &Symptom::NoGreeting);
            return None;
        }
        Some(Ok(Some(line))) => {
            let g = finish_greeting(run, &s, &mut io, line).await?;
            run.ok(&s, g);
        }
        Some(Ok(None)) => {
            let detail = "the server closed the connection without a greeting";
            run.fail(&s, detail, &Symptom::Closed);
            return None;
        }
        Some(Err(e)) => {
            run.fail(&s, format!("reading the greeting: {e}"), &Symptom::Closed);
            return None;
        }
    }

    let mut caps = ehlo(run, &mut io, false).await?;

    if t.encryption == Encryption::StartTls {
        let s = run.begin(Step::StartTls);
        if !caps.iter().any(|c| c == "STARTTLS") {
            run.fail(
                &s,
                "the server does not offer STARTTLS",
                &Symptom::StartTlsNotOffered,
            );
            return None;
        }
        let r = command(run, &s, &mut io, "STARTTLS", "STARTTLS").await?;
        run.ok(&s, r.last());
        io = run.upgrade(io, t, "STARTTLS").await?;
        caps = ehlo(run, &mut io, true).await?;
    }

    // Authenticate.
    let s = run.begin(Step::Authenticate);
    if let Some(sasl) = sasl::prepare(cred, t.host, t.port, &run.rec) {
        let mechs = auth_mechs(&caps);
        let offered = |m: &str| mechs.iter().any(|x| x == m);
        if let Credential::Password { user, password } = cred
            && !offered("PLAIN")
            && offered("LOGIN")
        {
            // Exchange Online offers LOGIN and XOAUTH2, not PLAIN.
            if run.refuse_clear_text(&s, t) {
                return None;
            }
            auth_login(run, &s, &mut io, user, password).await?;
        } else if !offered(sasl.mech) {
            let tls_first = mechs.is_empty() && t.encryption == Encryption::None;
            run.fail_not_offered(&s, sasl.mech, &mechs, tls_first);
            return None;
        } else {
            if run.refuse_clear_text(&s, t) {
                return None;
            }
            // The initial response on the AUTH line saves a round trip, but a line over 500 octets
            // is refused by servers that keep RFC 5321's limit (Dovecot: "500 5.5.2 Line too long");
            // then the string goes on a line of its own after the server's empty 334 (RFC 4954).
            let one_line = format!("AUTH {} {}", sasl.mech, sasl.initial);
            let mut r = if one_line.len() <= 500 {
                send(run, &s, &mut io, &one_line).await?;
                reply(run, &s, &mut io, "AUTH").await?
            } else {
                send(run, &s, &mut io, &format!("AUTH {}", sasl.mech)).await?;
                let go = reply(run, &s, &mut io, "AUTH").await?;
                if go.code == 334 {
                    send(run, &s, &mut io, &sasl.initial).await?;
                    reply(run, &s, &mut io, "the SASL string").await?
                } else {
                    go
                }
            };
            let mut challenge = None;
            if r.code == 334 {
                challenge = sasl::decode_challenge(r.lines.last().map_or("", String::as_str));
                if let Some(c) = &challenge {
                    run.rec
                        .info(&format!("the server's challenge, decoded: {c}"));
                }
                send(run, &s, &mut io, sasl.error_answer).await?;
                r = reply(run, &s, &mut io, "the answer to the challenge").await?;
            }
            if r.code != 235 {
                let line = r.last();
                let detail = match &challenge {
                    Some(c) => format!("{line} (the server refused the token: {c})"),
                    None => line.clone(),
                };
                run.fail(
                    &s,
                    detail,
                    &Symptom::AuthRefused {
                        reply: line,
                        challenge,
                    },
                );
                return None;
            }
            run.ok(&s, format!("{} accepted: {}", sasl.mech, r.last()));
        }
    } else {
        run.end(
            &s,
            Status::Skipped,
            "no credential given: sending without sign-in",
        );
    }

    // Send: MAIL FROM and RCPT TO, then RSET, or a short message; then QUIT.
    let pipelined = caps.iter().any(|c| c == "PIPELINING");
    send::send_step(run, t, cred, pipelined, &mut io).await?;
    send::quit(run, &mut io, pipelined).await;
    Some(())
}

/// AUTH LOGIN: the user name and the password, each base64 on its own line after a `334`.
async fn auth_login(
    run: &mut Run<'_>,
    s: &Started,
    io: &mut Lines,
    user: &str,
    password: &secrecy::SecretString,
) -> Option<()> {
    use base64::Engine as _;
    use secrecy::ExposeSecret as _;
    let b64 = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
    let mut r = command(run, s, io, "AUTH LOGIN", "AUTH LOGIN").await?;
    for (value, what) in [
        (b64(user), "the user name"),
        (b64(password.expose_secret()), "the password"),
    ] {
        if r.code != 334 {
            break;
        }
        send(run, s, io, &value).await?;
        r = reply(run, s, io, what).await?;
    }
    if r.code != 235 {
        let line = r.last();
        let symptom = Symptom::AuthRefused {
            reply: line.clone(),
            challenge: None,
        };
        run.fail(s, line, &symptom);
        return None;
    }
    run.ok(s, format!("LOGIN accepted: {}", r.last()));
    Some(())
}

/// The rest of a greeting whose first line was read; the greeting's last line.
async fn finish_greeting(
    run: &mut Run<'_>,
    s: &Started,
    io: &mut Lines,
    first: String,
) -> Option<String> {
    let mut line = first;
    loop {
        let ok = line.len() >= 3 && line.starts_with("220");
        if !ok {
            let symptom = if line.starts_with('4') || line.starts_with('5') {
                Symptom::Reply(line.clone())
            } else {
                Symptom::Garbage(line.clone())
            };
            run.fail(s, format!("not an SMTP greeting: {line}"), &symptom);
            return None;
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return Some(line);
        }
        let Some(Ok(Some(next))) = run.timed(io.read_line()).await else {
            run.fail(s, "the greeting stopped midway", &Symptom::Closed);
            return None;
        };
        line = next;
    }
}
