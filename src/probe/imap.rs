//! IMAP through async-imap, over the probe's own (recorded) stream.
//!
//! async-imap has no SASL-IR; sending the mechanism name together with the initial response as
//! `authenticate`'s "mechanism" gives `AUTHENTICATE XOAUTH2 <b64>` on the wire, one round trip,
//! and its authenticator is then called only for an error challenge, which it answers with the
//! mechanism's empty answer so that the server's final reply comes. async-imap's errors describe a
//! reply in Debug form, so the server's line itself is taken from the transcript. Capabilities are
//! read from the transcript too (the greeting's `[CAPABILITY …]`, or a `* CAPABILITY` line).

use async_imap::error::Error as ImapError;
use async_imap::{Client, imap_proto};
use std::sync::{Arc, Mutex, PoisonError};

use super::net::Conn;
use super::sasl::{self, Sasl};
use super::symptom::Symptom;
use super::transcript::Recorded;
use super::{Credential, Endpoint, Run, Status, Step};
use crate::profile::Encryption;

type Stream = Recorded<Conn>;

pub(crate) async fn run(run: &mut Run<'_>, t: &Endpoint<'_>, cred: &Credential) {
    let after_connect = [
        Step::Greeting,
        Step::Capabilities,
        Step::Authenticate,
        Step::Mailbox,
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

/// `None`: a step failed (and said so).
#[allow(clippy::too_many_lines)] // the steps in order, read top to bottom
async fn session(run: &mut Run<'_>, t: &Endpoint<'_>, cred: &Credential, conn: Conn) -> Option<()> {
    // Greeting.
    let s = run.begin(Step::Greeting);
    let mut client = Client::new(Recorded::new(conn, run.rec.clone()));
    match run.timed(client.read_response()).await {
        None => {
            if t.encryption == Encryption::Tls {
                let detail = format!("no IMAP greeting within {}", run.secs());
                run.fail(&s, detail, &Symptom::NoGreeting);
            } else {
                run.no_greeting(&s, "IMAP").await;
            }
            return None;
        }
        Some(Ok(Some(_))) => {
            let line = run.reply(&s);
            if line.starts_with("* OK") || line.starts_with("* PREAUTH") {
                run.ok(&s, short_caps(&line));
            } else if line.starts_with("* BYE") {
                let detail = format!("the server refused the session: {line}");
                run.fail(&s, detail, &Symptom::GreetingRefused { reply: line });
                return None;
            } else {
                run.fail(&s, line.clone(), &Symptom::reply(line));
                return None;
            }
        }
        Some(Ok(None)) => {
            let detail = "the server closed the connection without a greeting";
            run.fail(&s, detail, &Symptom::Closed);
            return None;
        }
        Some(Err(e)) => {
            if flood(run, &s, &ImapError::Io(e), "the connection (the greeting)") {
                return None;
            }
            let line = run.reply(&s);
            run.fail(
                &s,
                format!("not an IMAP greeting: {line}"),
                &Symptom::Garbage { line: line.clone() },
            );
            return None;
        }
    }

    // Capabilities (from the greeting, else asked).
    let mut caps = capabilities(run, &mut client).await?;

    if t.encryption == Encryption::StartTls {
        let s = run.begin(Step::StartTls);
        if !caps.iter().any(|c| c == "STARTTLS") {
            run.fail(
                &s,
                format!(
                    "the server does not offer STARTTLS (capabilities: {})",
                    caps.join(" ")
                ),
                &Symptom::StartTlsNotOffered,
            );
            return None;
        }
        match run
            .timed(client.run_command_and_check_ok("STARTTLS", None))
            .await
        {
            None => {
                let detail = format!("no answer to STARTTLS within {}", run.secs());
                run.fail(&s, detail, &Symptom::Timeout);
                return None;
            }
            Some(Err(e)) => {
                if flood(run, &s, &e, "STARTTLS") {
                    return None;
                }
                let line = run.reply(&s);
                run.fail(&s, line.clone(), &Symptom::reply(line));
                return None;
            }
            Some(Ok(())) => run.ok(&s, run.reply(&s)),
        }
        let Conn::Plain(tcp) = client.into_inner().into_inner() else {
            return None;
        };
        let conn = run.tls(tcp, t.host, true).await?;
        client = Client::new(Recorded::new(conn, run.rec.clone()));
        caps = ask_capabilities(run, &mut client).await?;
    }

    // Authenticate.
    let s = run.begin(Step::Authenticate);
    let Some(sasl) = sasl::prepare(cred, t.host, t.port, &run.rec) else {
        let detail =
            "no credential given: stopped before sign-in, so nothing proves that signing in works";
        run.end(&s, Status::Warning, detail);
        run.skip_because(&[Step::Mailbox, Step::Logout], "not run: no sign-in");
        return Some(());
    };
    let wanted = format!("AUTH={}", sasl.mech);
    let offered = caps.contains(&wanted);
    if !offered && !matches!(cred, Credential::Password { .. }) {
        let mechs: Vec<&str> = caps
            .iter()
            .filter_map(|c| c.strip_prefix("AUTH="))
            .collect();
        let disabled = caps.iter().any(|c| c == "LOGINDISABLED");
        let tls_first = disabled || (mechs.is_empty() && t.encryption == Encryption::None);
        run.fail_not_offered(&s, sasl.mech, &mechs, tls_first);
        return None;
    }
    if run.refuse_clear_text(&s, t) {
        return None;
    }
    let ir = caps.iter().any(|c| c == "SASL-IR");
    let challenges = Arc::new(Mutex::new(Vec::new()));
    let auth = Answer {
        first: (!ir).then(|| sasl.raw.clone()),
        on_error: error_answer_raw(&sasl),
        challenges: challenges.clone(),
    };
    let command = if ir {
        format!("{} {}", sasl.mech, sasl.initial)
    } else {
        sasl.mech.to_owned()
    };
    let result = if let Credential::Password { user, password } = cred {
        if offered {
            run.timed(client.authenticate(command, auth)).await
        } else {
            use secrecy::ExposeSecret as _;
            run.timed(client.login(user, password.expose_secret()))
                .await
        }
    } else {
        run.timed(client.authenticate(command, auth)).await
    };
    let decoded: Vec<String> = challenges
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    for c in &decoded {
        run.rec
            .info(&format!("the server's challenge, decoded: {c}"));
    }
    let mut session = match result {
        None => {
            let detail = super::timeout_detail(run, "AUTHENTICATE");
            run.fail(&s, detail, &Symptom::Timeout);
            return None;
        }
        Some(Err((e, _))) => {
            auth_failed(run, &s, &e, decoded.first().cloned());
            return None;
        }
        Some(Ok(session)) => {
            let how = if ir {
                "with SASL-IR, 1 round trip"
            } else {
                "2 round trips (no SASL-IR)"
            };
            let reply = short_caps(&run.reply(&s));
            run.ok(&s, format!("{} accepted ({how}): {reply}", sasl.mech));
            session
        }
    };

    // Mailbox: EXAMINE, so that no flag changes.
    let s = run.begin(Step::Mailbox);
    match run.timed(session.examine("INBOX")).await {
        None => {
            let detail = super::timeout_detail(run, "EXAMINE INBOX");
            run.fail(&s, detail, &Symptom::Timeout);
            return None;
        }
        Some(Err(e)) => {
            if flood(run, &s, &e, "EXAMINE INBOX") {
                return None;
            }
            let line = run.reply(&s);
            let symptom = if lost(&e) {
                Symptom::ClosedAfterAuth
            } else {
                Symptom::reply(line.clone())
            };
            let detail = if lost(&e) {
                format!(
                    "EXAMINE INBOX: the server closed the connection after sign-in (last line: {line})"
                )
            } else {
                format!("EXAMINE INBOX: {line}")
            };
            run.fail(&s, detail, &symptom);
            return None;
        }
        Some(Ok(mb)) => {
            let n = mb.exists;
            run.ok(
                &s,
                format!(
                    "EXAMINE INBOX: {n} message{}",
                    if n == 1 { "" } else { "s" }
                ),
            );
        }
    }

    logout(run, &mut session).await;
    Some(())
}

/// LOGOUT, and its answer only if it comes at once (`Run::logout_grace`); then the connection
/// is closed (dropped).
async fn logout(run: &mut Run<'_>, session: &mut async_imap::Session<Stream>) {
    let s = run.begin(Step::Logout);
    let grace = run.logout_grace();
    if !matches!(run.timed(session.run_command("LOGOUT")).await, Some(Ok(_))) {
        run.end(&s, Status::Warning, "LOGOUT could not be sent");
        return;
    }
    let answer = async {
        loop {
            match session.read_response().await {
                Ok(Some(r)) if matches!(r.parsed(), imap_proto::Response::Done { .. }) => {
                    return true;
                }
                Ok(Some(_)) => {}
                _ => return false,
            }
        }
    };
    let answered = tokio::time::timeout(grace, answer).await.unwrap_or(false);
    let line = answered.then(|| run.reply(&s));
    let ok = line
        .as_deref()
        .is_some_and(|l| l.split(' ').nth(1) == Some("OK"));
    run.logout_done(&s, "LOGOUT sent", line, ok, grace);
}

fn lost(e: &ImapError) -> bool {
    match e {
        ImapError::ConnectionLost => true,
        ImapError::Io(io) => matches!(
            io.kind(),
            std::io::ErrorKind::UnexpectedEof
                | std::io::ErrorKind::ConnectionReset
                | std::io::ErrorKind::BrokenPipe
        ),
        _ => false,
    }
}

/// Fails the step if `e` is the transcript's flood error (too many lines or bytes in one step).
fn flood(run: &mut Run<'_>, s: &super::Started, e: &ImapError, what: &str) -> bool {
    let ImapError::Io(io) = e else {
        return false;
    };
    let Some((lines, bytes)) = super::transcript::flooded(io) else {
        return false;
    };
    let (detail, symptom) = super::read_failure(
        &super::lines::ReadError::Flood { lines, bytes },
        what,
        false,
    );
    run.fail(s, detail, &symptom);
    true
}

fn auth_failed(run: &mut Run<'_>, s: &super::Started, e: &ImapError, challenge: Option<String>) {
    if flood(run, s, e, "AUTHENTICATE") {
        return;
    }
    if lost(e) {
        let detail = "the server closed the connection right after AUTHENTICATE, with no reply";
        run.fail(s, detail, &Symptom::ClosedAfterAuth);
        return;
    }
    let reply = run.reply(s);
    // Only a tagged NO or BAD is the server's refusal; a line that is no IMAP at all says
    // nothing of the token (a broken or hostile server).
    if !matches!(e, ImapError::No(_) | ImapError::Bad(_)) {
        let detail = format!("AUTHENTICATE: an answer that is not IMAP: {reply}");
        run.fail(s, detail, &Symptom::Garbage { line: reply });
        return;
    }
    let detail = match &challenge {
        Some(c) => format!("{reply} (the server refused the token: {c})"),
        None => reply.clone(),
    };
    run.fail(s, detail, &Symptom::AuthRefused { reply, challenge });
}

/// The greeting's capabilities, or those a CAPABILITY command gets.
async fn capabilities(run: &mut Run<'_>, client: &mut Client<Stream>) -> Option<Vec<String>> {
    let greeting = run.rec.since(0);
    if let Some(caps) = greeting.iter().rev().find_map(|l| parse_caps(&l.text)) {
        let s = run.begin(Step::Capabilities);
        run.ok(&s, describe(&caps) + " (from the greeting)");
        return Some(caps);
    }
    ask_capabilities(run, client).await
}

async fn ask_capabilities(run: &mut Run<'_>, client: &mut Client<Stream>) -> Option<Vec<String>> {
    let s = run.begin(Step::Capabilities);
    let from = run.rec.len();
    match run
        .timed(client.run_command_and_check_ok("CAPABILITY", None))
        .await
    {
        None => {
            let detail = super::timeout_detail(run, "CAPABILITY");
            run.fail(&s, detail, &Symptom::Timeout);
            None
        }
        Some(Err(e)) => {
            if flood(run, &s, &e, "CAPABILITY") {
                return None;
            }
            let line = run.reply(&s);
            let symptom = if lost(&e) {
                Symptom::Closed
            } else {
                Symptom::reply(line.clone())
            };
            run.fail(&s, format!("CAPABILITY: {line}"), &symptom);
            None
        }
        Some(Ok(())) => {
            let caps = run
                .rec
                .since(from)
                .iter()
                .find_map(|l| parse_caps(&l.text))
                .unwrap_or_default();
            run.ok(&s, describe(&caps));
            Some(caps)
        }
    }
}

fn describe(caps: &[String]) -> String {
    let mechs: Vec<&str> = caps
        .iter()
        .filter_map(|c| c.strip_prefix("AUTH="))
        .collect();
    let has = |c: &str| caps.iter().any(|x| x == c);
    format!(
        "SASL: {}; SASL-IR {}; STARTTLS {}",
        if mechs.is_empty() {
            "none offered".to_owned()
        } else {
            mechs.join(" ")
        },
        if has("SASL-IR") { "yes" } else { "no" },
        if has("STARTTLS") {
            "offered"
        } else {
            "not offered"
        },
    )
}

/// A status line with its `[CAPABILITY …]` list shortened (the list has its own step).
fn short_caps(line: &str) -> String {
    match (line.find("[CAPABILITY "), line.find(']')) {
        (Some(a), Some(b)) if b > a => format!("{}[CAPABILITY …]{}", &line[..a], &line[b + 1..]),
        _ => line.to_owned(),
    }
}

/// `[CAPABILITY a b]` in a status line, or a `* CAPABILITY a b` line, upper-cased.
pub(crate) fn parse_caps(line: &str) -> Option<Vec<String>> {
    let list = if let Some(rest) = line.strip_prefix("* CAPABILITY ") {
        rest
    } else {
        let start = line.find("[CAPABILITY ")? + "[CAPABILITY ".len();
        let end = line[start..].find(']')? + start;
        &line[start..end]
    };
    Some(
        list.split_whitespace()
            .map(str::to_ascii_uppercase)
            .collect(),
    )
}

fn error_answer_raw(sasl: &Sasl) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(sasl.error_answer)
        .unwrap_or_default()
}

/// async-imap's authenticator: the initial response when the server asks for it (no SASL-IR),
/// then the empty answer to an error challenge, which it keeps (decoded) for the report.
struct Answer {
    first: Option<Vec<u8>>,
    on_error: Vec<u8>,
    challenges: Arc<Mutex<Vec<String>>>,
}

impl async_imap::Authenticator for Answer {
    type Response = Vec<u8>;
    fn process(&mut self, challenge: &[u8]) -> Vec<u8> {
        if let Some(first) = self.first.take() {
            return first;
        }
        if !challenge.is_empty() {
            self.challenges
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(String::from_utf8_lossy(challenge).into_owned());
        }
        self.on_error.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capabilities_from_greeting_and_command() {
        let g =
            "* OK [CAPABILITY IMAP4rev1 SASL-IR STARTTLS AUTH=XOAUTH2 auth=plain] Dovecot ready.";
        assert_eq!(
            parse_caps(g).unwrap(),
            [
                "IMAP4REV1",
                "SASL-IR",
                "STARTTLS",
                "AUTH=XOAUTH2",
                "AUTH=PLAIN"
            ]
        );
        assert_eq!(
            parse_caps("* CAPABILITY IMAP4rev1 AUTH=OAUTHBEARER").unwrap(),
            ["IMAP4REV1", "AUTH=OAUTHBEARER"]
        );
        assert!(parse_caps("* OK ready").is_none());
        assert_eq!(short_caps(g), "* OK [CAPABILITY …] Dovecot ready.");
    }
}
