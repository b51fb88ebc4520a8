//! SMTP, a small client of ours rather than lettre's connection-level API. lettre 0.11 can take a
//! pre-made stream (`AsyncSmtpConnection::connect_with_transport`), but that call reads the
//! greeting and sends EHLO in one go (no separate greeting and capability steps to time and
//! report), STARTTLS there is lettre's own upgrade with its own TLS settings (not the probe's
//! verifier, which says why a certificate was refused and describes it), and its XOAUTH2 does not
//! answer a `334` error challenge (it fails with "mechanism does not expect a challenge"), so the
//! server's final `535 …` line, the one the diagnosis needs, never comes. The commands the test
//! needs (EHLO, STARTTLS, AUTH, MAIL, RCPT, RSET, DATA, QUIT) are few. lettre serves for what it
//! does well without a transport: [`lettre::Address`] (the sender and recipient, so no line break
//! reaches MAIL FROM or RCPT TO) and the test message, built by its message builder and
//! dot-stuffed here for DATA.

use super::lines::{Line, Lines, ReadError};
use super::net::Conn;
use super::sasl;
use super::symptom::Symptom;
use super::{Credential, Endpoint, Run, Started, Status, Step, read_failure, timeout_detail};
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

/// The code of a reply line and whether more lines follow (`250-…`), or `None` for a line that
/// is not one.
fn reply_line(line: &str) -> Option<(u16, bool)> {
    let digits = line.get(..3)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code = digits.parse().ok()?;
    match line.as_bytes().get(3) {
        None | Some(b' ') => Some((code, false)),
        Some(b'-') => Some((code, true)),
        _ => None,
    }
}

/// The lines of one reply, however many, read as one wait (the step's deadline) and within the
/// reply caps; a line that is not a reply line ends it (and the caller says so).
async fn raw_reply(
    run: &mut Run<'_>,
    s: &Started,
    io: &mut Lines,
    what: &str,
) -> Option<Result<Vec<String>, ReadError>> {
    let read = io.read_until(|l| !matches!(reply_line(l), Some((_, true))));
    if let Some(r) = run.timed(read).await {
        return Some(r);
    }
    let detail = timeout_detail(run, what);
    run.fail(s, detail, &Symptom::Timeout);
    None
}

pub(super) async fn reply(
    run: &mut Run<'_>,
    s: &Started,
    io: &mut Lines,
    what: &str,
) -> Option<Reply> {
    let lines = match raw_reply(run, s, io, what).await? {
        Ok(l) => l,
        Err(e) => {
            let after_auth = matches!(s.step, Step::Authenticate | Step::Send);
            let (detail, symptom) = read_failure(&e, what, after_auth);
            run.fail(s, detail, &symptom);
            return None;
        }
    };
    let mut code = 0;
    let mut texts = Vec::with_capacity(lines.len());
    for line in &lines {
        let Some((c, _)) = reply_line(line) else {
            let symptom = if s.step == Step::Greeting {
                Symptom::Garbage { line: line.clone() }
            } else {
                Symptom::reply(line.clone())
            };
            run.fail(s, format!("not an SMTP reply: {line}"), &symptom);
            return None;
        };
        code = c;
        texts.push(line.get(4..).unwrap_or("").to_owned());
    }
    Some(Reply { code, lines: texts })
}

/// `lines` in one write (a pipelined group, or one command).
pub(super) async fn send(
    run: &mut Run<'_>,
    s: &Started,
    io: &mut Lines,
    lines: &[Line],
) -> Option<()> {
    match run.timed(io.send_all(lines)).await {
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
    cmd: &Line,
    what: &str,
) -> Option<Reply> {
    send(run, s, io, std::slice::from_ref(cmd)).await?;
    let r = reply(run, s, io, what).await?;
    if !r.positive() {
        let line = r.last();
        run.fail(s, format!("{what}: {line}"), &Symptom::reply(line.clone()));
        return None;
    }
    Some(r)
}

/// A line of base64 or of other text made by us: never holds a control character.
fn ours(text: &str) -> Line {
    Line::new(&[text]).unwrap_or_else(|_| Line::verb("NOOP"))
}

pub(crate) async fn run(run: &mut Run<'_>, t: &Endpoint<'_>, cred: &Credential) {
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
    let r = command(run, &s, io, &Line::verb("EHLO mailcfg.localhost"), "EHLO").await?;
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
async fn session(run: &mut Run<'_>, t: &Endpoint<'_>, cred: &Credential, conn: Conn) -> Option<()> {
    let mut io = Lines::new(conn, run.rec.clone());

    // Greeting (may be several lines).
    let s = run.begin(Step::Greeting);
    let read = io.read_until(|l| !matches!(reply_line(l), Some((_, true))));
    let lines = match run.timed(read).await {
        // Silence on a plain connection may mean an implicit-TLS port.
        None if t.encryption != Encryption::Tls && run.rec.received().0 == 0 => {
            run.no_greeting(&s, "SMTP").await;
            return None;
        }
        None if run.rec.received().0 == 0 => {
            let detail = format!("no SMTP greeting within {}", run.secs());
            run.fail(&s, detail, &Symptom::NoGreeting);
            return None;
        }
        None => {
            let detail = timeout_detail(run, "the connection (the greeting)");
            run.fail(&s, detail, &Symptom::NoGreeting);
            return None;
        }
        Some(Err(ReadError::Closed)) => {
            let detail = "the server closed the connection without a greeting";
            run.fail(&s, detail, &Symptom::Closed);
            return None;
        }
        Some(Err(e)) => {
            let (detail, symptom) = read_failure(&e, "the connection (the greeting)", false);
            run.fail(&s, detail, &symptom);
            return None;
        }
        Some(Ok(lines)) => lines,
    };
    let last = lines.last().cloned().unwrap_or_default();
    match reply_line(&last) {
        Some((220, false)) => run.ok(&s, last),
        // 554 "no SMTP service here", 421 "service not available": a refusal, in SMTP.
        Some((c, false)) if (400..600).contains(&c) => {
            let detail = format!("the server refused the session: {last}");
            run.fail(&s, detail, &Symptom::GreetingRefused { reply: last });
            return None;
        }
        _ => {
            let detail = format!("not an SMTP greeting: {last}");
            run.fail(&s, detail, &Symptom::Garbage { line: last });
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
        let r = command(run, &s, &mut io, &Line::verb("STARTTLS"), "STARTTLS").await?;
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
            let one_line = Line::new(&["AUTH", sasl.mech, &sasl.initial]).ok()?;
            let mut r = if one_line.as_str().len() <= 500 {
                send(run, &s, &mut io, &[one_line]).await?;
                reply(run, &s, &mut io, "AUTH").await?
            } else {
                let auth = Line::new(&["AUTH", sasl.mech]).ok()?;
                send(run, &s, &mut io, &[auth]).await?;
                let go = reply(run, &s, &mut io, "AUTH").await?;
                if go.code == 334 {
                    send(run, &s, &mut io, &[ours(&sasl.initial)]).await?;
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
                send(run, &s, &mut io, &[ours(sasl.error_answer)]).await?;
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

    // Send: MAIL FROM and RCPT TO, then RSET, or a short message; then QUIT (send.rs).
    let pipelined = caps.iter().any(|c| c == "PIPELINING");
    super::send::send_step(run, t, cred, pipelined, &mut io).await?;
    super::send::quit(run, &mut io, pipelined).await;
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
    let mut r = command(run, s, io, &Line::verb("AUTH LOGIN"), "AUTH LOGIN").await?;
    for (value, what) in [
        (b64(user), "the user name"),
        (b64(password.expose_secret()), "the password"),
    ] {
        if r.code != 334 {
            break;
        }
        send(run, s, io, &[ours(&value)]).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reply_lines_are_read_strictly() {
        assert_eq!(reply_line("250-PIPELINING"), Some((250, true)));
        assert_eq!(reply_line("250 OK"), Some((250, false)));
        assert_eq!(reply_line("221"), Some((221, false)));
        assert_eq!(reply_line("+12 x"), None);
        assert_eq!(reply_line("25O OK"), None);
        assert_eq!(reply_line("250_x"), None);
    }

    proptest::proptest! {
        /// Any reply line: parsed only when it is three digits and a space, a dash or nothing.
        #[test]
        fn reply_line_never_accepts_a_non_reply(line in "\\PC{0,12}") {
            if let Some((code, more)) = reply_line(&line) {
                proptest::prop_assert!(line.as_bytes()[..3].iter().all(u8::is_ascii_digit));
                proptest::prop_assert_eq!(u16::try_from(line[..3].parse::<u32>().unwrap()).unwrap(), code);
                proptest::prop_assert_eq!(more, line.as_bytes().get(3) == Some(&b'-'));
            }
        }
    }
}
