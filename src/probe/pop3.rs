//! POP3, a small client of ours. No maintained async (tokio) POP3 crate does what the test needs:
//! Exchange Online refuses the one-line `AUTH XOAUTH2 <string>` (RFC 5034's initial response) with
//! `-ERR Authentication failure`, and wants `AUTH XOAUTH2`, the server's `+`, then the string on a
//! line of its own; a refused token then comes as a `+ <base64 JSON>` challenge that must be
//! answered with an empty line before the final `-ERR`. `async-pop` was the candidate; the test
//! also needs every line recorded and timed per step, which a client over our own stream gives.
//! The protocol part needed here (greeting, CAPA, STLS, AUTH, USER/PASS, STAT, QUIT) is small.

use super::lines::{Line, Lines};
use super::net::Conn;
use super::sasl;
use super::symptom::Symptom;
use super::{Credential, Endpoint, Run, Started, Status, Step, read_failure, timeout_detail};
use crate::profile::Encryption;

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

/// One reply line in time; `None` after the step was failed (timeout, closed, error).
async fn line(run: &mut Run<'_>, s: &Started, io: &mut Lines, what: &str) -> Option<String> {
    match run.timed(io.read_line()).await {
        None => {
            let detail = timeout_detail(run, what);
            let symptom = if s.step == Step::Greeting {
                Symptom::NoGreeting
            } else {
                Symptom::Timeout
            };
            run.fail(s, detail, &symptom);
            None
        }
        Some(Ok(l)) => Some(l),
        Some(Err(e)) => {
            let after_auth = matches!(s.step, Step::Authenticate | Step::Mailbox);
            let (detail, symptom) = read_failure(&e, what, after_auth);
            run.fail(s, detail, &symptom);
            None
        }
    }
}

/// The lines of a multi-line answer up to its terminating `.` (not included), within the caps.
async fn dot_list(
    run: &mut Run<'_>,
    s: &Started,
    io: &mut Lines,
    what: &str,
) -> Option<Vec<String>> {
    match run.timed(io.read_until(|l| l == ".")).await {
        None => {
            let detail = timeout_detail(run, what);
            run.fail(s, detail, &Symptom::Timeout);
            None
        }
        Some(Ok(mut lines)) => {
            lines.pop();
            Some(lines)
        }
        Some(Err(e)) => {
            let (detail, symptom) = read_failure(&e, what, false);
            run.fail(s, detail, &symptom);
            None
        }
    }
}

async fn send(run: &mut Run<'_>, s: &Started, io: &mut Lines, line: &Line) -> Option<()> {
    match run.timed(io.send(line)).await {
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

/// `verb value` as a line, or the step failed because `value` (the `what`) would break it.
fn checked(run: &mut Run<'_>, s: &Started, verb: &str, value: &str, what: &str) -> Option<Line> {
    if let Ok(l) = Line::new(&[verb, value]) {
        return Some(l);
    }
    let detail = format!(
        "not sent: the {what} contains a control character (a line break would inject a command)"
    );
    run.fail(
        s,
        detail,
        &Symptom::UnsafeValue {
            what: what.to_owned(),
        },
    );
    None
}

/// CAPA: the capability lines up to the terminating `.`.
async fn capa(run: &mut Run<'_>, io: &mut Lines) -> Option<Vec<String>> {
    let s = run.begin(Step::Capabilities);
    send(run, &s, io, &Line::verb("CAPA")).await?;
    let first = line(run, &s, io, "CAPA").await?;
    let mut caps = Vec::new();
    if first.starts_with("+OK") {
        caps = dot_list(run, &s, io, "CAPA")
            .await?
            .iter()
            .map(|l| l.to_ascii_uppercase())
            .collect();
    }
    let sasl: Vec<&str> = caps
        .iter()
        .find_map(|c| c.strip_prefix("SASL "))
        .map(|m| m.split_whitespace().collect())
        .unwrap_or_default();
    let detail = format!(
        "SASL: {}; STLS {}{}",
        if sasl.is_empty() {
            "none offered".to_owned()
        } else {
            sasl.join(" ")
        },
        if caps.iter().any(|c| c == "STLS") {
            "offered"
        } else {
            "not offered"
        },
        if first.starts_with("+OK") {
            String::new()
        } else {
            format!(" (CAPA refused: {first})")
        }
    );
    run.ok(&s, detail);
    Some(caps)
}

#[allow(clippy::too_many_lines)] // the steps in order, read top to bottom
async fn session(run: &mut Run<'_>, t: &Endpoint<'_>, cred: &Credential, conn: Conn) -> Option<()> {
    let mut io = Lines::new(conn, run.rec.clone());

    // Greeting.
    let s = run.begin(Step::Greeting);
    let greeting = match run.timed(io.read_line()).await {
        None if t.encryption != Encryption::Tls => {
            run.no_greeting(&s, "POP3").await;
            return None;
        }
        None => {
            let detail = format!("no POP3 greeting within {}", run.secs());
            run.fail(&s, detail, &Symptom::NoGreeting);
            return None;
        }
        Some(Ok(l)) => l,
        Some(Err(super::lines::ReadError::Closed)) => {
            run.fail(
                &s,
                "the server closed the connection without a greeting",
                &Symptom::Closed,
            );
            return None;
        }
        Some(Err(e)) => {
            let (detail, symptom) = read_failure(&e, "the connection (the greeting)", false);
            run.fail(&s, detail, &symptom);
            return None;
        }
    };
    if !greeting.starts_with("+OK") {
        let symptom = if greeting.starts_with("-ERR") {
            Symptom::GreetingRefused {
                reply: greeting.clone(),
            }
        } else {
            Symptom::Garbage {
                line: greeting.clone(),
            }
        };
        run.fail(&s, format!("not a POP3 greeting: {greeting}"), &symptom);
        return None;
    }
    run.ok(&s, greeting);

    let mut caps = capa(run, &mut io).await?;

    if t.encryption == Encryption::StartTls {
        let s = run.begin(Step::StartTls);
        if !caps.iter().any(|c| c == "STLS") {
            run.fail(
                &s,
                "the server does not offer STLS (POP3's STARTTLS)",
                &Symptom::StartTlsNotOffered,
            );
            return None;
        }
        send(run, &s, &mut io, &Line::verb("STLS")).await?;
        let reply = line(run, &s, &mut io, "STLS").await?;
        if !reply.starts_with("+OK") {
            run.fail(&s, format!("STLS: {reply}"), &Symptom::reply(reply.clone()));
            return None;
        }
        run.ok(&s, reply);
        io = run.upgrade(io, t, "STLS").await?;
        caps = capa(run, &mut io).await?;
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
    let mechs: Vec<String> = caps
        .iter()
        .find_map(|c| c.strip_prefix("SASL "))
        .map(|m| m.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if run.refuse_clear_text(&s, t) {
        return None;
    }
    let reply = if let Credential::Password { user, password } = cred {
        use secrecy::ExposeSecret as _;
        let l = checked(run, &s, "USER", user, "sign-in name")?;
        send(run, &s, &mut io, &l).await?;
        let r = line(run, &s, &mut io, "USER").await?;
        if !r.starts_with("+OK") {
            run.fail(&s, format!("USER: {r}"), &Symptom::reply(r.clone()));
            return None;
        }
        let l = checked(run, &s, "PASS", password.expose_secret(), "password")?;
        send(run, &s, &mut io, &l).await?;
        line(run, &s, &mut io, "PASS").await?
    } else {
        if !caps.is_empty() && !mechs.iter().any(|m| m == sasl.mech) {
            let tls_first = mechs.is_empty() && t.encryption == Encryption::None;
            run.fail_not_offered(&s, sasl.mech, &mechs, tls_first);
            return None;
        }
        // Two steps, as Exchange requires.
        send(run, &s, &mut io, &Line::new(&["AUTH", sasl.mech]).ok()?).await?;
        let go = line(run, &s, &mut io, "AUTH").await?;
        if !go.starts_with('+') || go.starts_with("+OK") {
            run.fail(&s, format!("AUTH: {go}"), &refusal(go.clone(), None));
            return None;
        }
        send(run, &s, &mut io, &Line::new(&[&sasl.initial]).ok()?).await?;
        let mut r = line(run, &s, &mut io, "the SASL string").await?;
        let mut challenge = None;
        if let Some(c) = r.strip_prefix("+ ").or_else(|| (r == "+").then_some("")) {
            challenge = sasl::decode_challenge(c);
            if let Some(c) = &challenge {
                run.rec
                    .info(&format!("the server's challenge, decoded: {c}"));
            }
            send(run, &s, &mut io, &Line::new(&[sasl.error_answer]).ok()?).await?;
            r = line(run, &s, &mut io, "the answer to the challenge").await?;
        }
        if !r.starts_with("+OK") {
            let detail = match &challenge {
                Some(c) => format!("{r} (the server refused the token: {c})"),
                None => r.clone(),
            };
            run.fail(&s, detail, &refusal(r, challenge));
            return None;
        }
        r
    };
    if !reply.starts_with("+OK") {
        run.fail(&s, reply.clone(), &refusal(reply, None));
        return None;
    }
    run.ok(&s, format!("{} accepted: {reply}", sasl.mech));

    // Mailbox: STAT.
    let s = run.begin(Step::Mailbox);
    send(run, &s, &mut io, &Line::verb("STAT")).await?;
    let stat = line(run, &s, &mut io, "STAT").await?;
    let mut parts = stat.split_whitespace();
    if parts.next() != Some("+OK") {
        run.fail(&s, format!("STAT: {stat}"), &Symptom::reply(stat.clone()));
        return None;
    }
    let count = parts.next().unwrap_or("?");
    let size = parts.next().unwrap_or("?");
    run.ok(
        &s,
        format!(
            "STAT: {count} message{}, {size} bytes",
            if count == "1" { "" } else { "s" }
        ),
    );

    // QUIT, and its answer only if it comes at once (`Run::logout_grace`).
    let s = run.begin(Step::Logout);
    let grace = run.logout_grace();
    if !matches!(run.timed(io.send(&Line::verb("QUIT"))).await, Some(Ok(()))) {
        run.end(&s, Status::Warning, "QUIT could not be sent");
        return Some(());
    }
    let answer = tokio::time::timeout(grace, io.read_line())
        .await
        .ok()
        .and_then(Result::ok);
    let ok = answer.as_deref().is_some_and(|r| r.starts_with("+OK"));
    run.logout_done(&s, "QUIT sent", answer, ok, grace);
    Some(())
}

/// A `-ERR` answer to the sign-in is the server's refusal; anything else is no POP3 at all and
/// says nothing of the credentials (a broken or hostile server).
fn refusal(reply: String, challenge: Option<String>) -> Symptom {
    if reply.starts_with("-ERR") {
        Symptom::AuthRefused { reply, challenge }
    } else {
        Symptom::Garbage { line: reply }
    }
}
