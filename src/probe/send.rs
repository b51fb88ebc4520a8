//! SMTP's Send and Logout steps (smtp.rs runs the rest): MAIL FROM and RCPT TO, then RSET or
//! a short message through DATA, then QUIT. Where the server offers PIPELINING (RFC 2920) the
//! commands go in groups, each in one write and one round trip, and QUIT goes with the last
//! group, so that its answer costs nothing: MAIL + RCPT + RSET + QUIT, or MAIL + RCPT + DATA,
//! then the message + QUIT.

use super::diagnose::Symptom;
use super::lines::Lines;
use super::smtp::{Reply, command, reply};
use super::{Credential, Run, Started, Status, Step, Target};

/// QUIT, already sent with the last pipelined group or sent now, and its answer only if it
/// comes at once (`Run::logout_grace`); then the connection is closed (dropped).
pub(super) async fn quit(run: &mut Run<'_>, io: &mut Lines, pipelined: bool) {
    let s = run.begin(Step::Logout);
    let grace = run.logout_grace();
    let sent = if pipelined {
        "QUIT sent (pipelined with the last commands)"
    } else {
        if !matches!(run.timed(io.send("QUIT")).await, Some(Ok(()))) {
            run.end(&s, Status::Warning, "QUIT could not be sent");
            return;
        }
        "QUIT sent"
    };
    let answer = tokio::time::timeout(grace, io.read_line())
        .await
        .ok()
        .and_then(|r| r.ok().flatten());
    let ok = answer.as_deref().is_some_and(|r| r.starts_with("221"));
    run.logout_done(&s, sent, answer, ok, grace);
}

/// After a failure in a pipelined group that ended with QUIT: the Logout step says so.
fn quit_sent_anyway(run: &mut Run<'_>) {
    let s = run.begin(Step::Logout);
    run.ok(
        &s,
        "QUIT sent (pipelined with the last commands); the connection was closed after the failure",
    );
}

/// Reads the answers to a pipelined group, one per command in `whats`, up to the first refusal,
/// which fails the step (the connection is then closed, which also ends a DATA the server took);
/// the last answer.
async fn group_replies(
    run: &mut Run<'_>,
    s: &Started,
    io: &mut Lines,
    whats: &[&str],
) -> Option<Reply> {
    let mut last = None;
    for what in whats {
        let r = reply(run, s, io, what).await?;
        if !r.positive() {
            refused(run, s, what, &r);
            return None;
        }
        last = Some(r);
    }
    last
}

/// Sends a pipelined group in one write (a failure ends the step).
async fn send_group(run: &mut Run<'_>, s: &Started, io: &mut Lines, group: &str) -> Option<()> {
    if matches!(run.timed(io.send_raw(group.as_bytes())).await, Some(Ok(()))) {
        return Some(());
    }
    run.fail(s, "could not send MAIL FROM", &Symptom::Closed);
    None
}

fn refused(run: &mut Run<'_>, s: &Started, what: &str, r: &Reply) {
    let line = r.last();
    run.fail(s, format!("{what}: {line}"), &Symptom::Reply(line.clone()));
}

/// MAIL FROM and RCPT TO with the user's own address, then RSET; with `send_to`, a short message
/// through DATA instead, since Exchange reports a mailbox it may not use only at the end of DATA.
/// Where the server offers PIPELINING (RFC 2920) the commands go in groups, each in one write
/// and one round trip: MAIL, RCPT, RSET and QUIT; or MAIL, RCPT and DATA, then the message and
/// QUIT (QUIT's answer is read by the Logout step).
pub(super) async fn send_step(
    run: &mut Run<'_>,
    t: &Target<'_>,
    cred: &Credential,
    pipelined: bool,
    io: &mut Lines,
) -> Option<()> {
    let s = run.begin(Step::Send);
    let from = cred.user().unwrap_or(&run.ctx.mailbox).to_owned();
    let mail = format!("MAIL FROM:<{from}>");
    let Some(to) = run.opts.send_to.clone() else {
        let rcpt = format!("RCPT TO:<{from}>");
        if pipelined {
            send_group(
                run,
                &s,
                io,
                &format!("{mail}\r\n{rcpt}\r\nRSET\r\nQUIT\r\n"),
            )
            .await?;
            let whats = ["MAIL FROM", "RCPT TO", "RSET"];
            if group_replies(run, &s, io, &whats).await.is_none() {
                quit_sent_anyway(run);
                return None;
            }
            run.ok(
                &s,
                format!(
                    "MAIL FROM / RCPT TO <{from}> accepted, then RSET (nothing sent; pipelined)"
                ),
            );
        } else {
            command(run, &s, io, &mail, "MAIL FROM").await?;
            command(run, &s, io, &rcpt, "RCPT TO").await?;
            command(run, &s, io, "RSET", "RSET").await?;
            run.ok(
                &s,
                format!("MAIL FROM / RCPT TO <{from}> accepted, then RSET (nothing sent)"),
            );
        }
        return Some(());
    };
    let rcpt = format!("RCPT TO:<{to}>");
    if pipelined {
        send_group(run, &s, io, &format!("{mail}\r\n{rcpt}\r\nDATA\r\n")).await?;
        let go = group_replies(run, &s, io, &["MAIL FROM", "RCPT TO", "DATA"]).await?;
        if go.code != 354 {
            refused(run, &s, "DATA", &go);
            return None;
        }
    } else {
        command(run, &s, io, &mail, "MAIL FROM").await?;
        command(run, &s, io, &rcpt, "RCPT TO").await?;
        command(run, &s, io, "DATA", "DATA").await?;
    }
    let mut message = format!(
        "From: <{from}>\r\nTo: <{to}>\r\nSubject: mailcfg test message\r\nDate: {}\r\nMessage-ID: <{}@mailcfg.localhost>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThis is a test message sent by mailcfg to check that {from} can send through {}:{}.\r\n.\r\n",
        rfc2822_now(),
        message_id(),
        t.host,
        t.port
    );
    if pipelined {
        message.push_str("QUIT\r\n");
    }
    if !matches!(
        run.timed(io.send_raw(message.as_bytes())).await,
        Some(Ok(()))
    ) {
        run.fail(&s, "could not send the message body", &Symptom::Closed);
        return None;
    }
    let Some(r) = reply(run, &s, io, "the end of DATA").await else {
        if pipelined {
            quit_sent_anyway(run);
        }
        return None;
    };
    if !r.positive() {
        let line = r.last();
        run.fail(
            &s,
            format!("end of DATA: {line}"),
            &Symptom::Reply(line.clone()),
        );
        if pipelined {
            quit_sent_anyway(run);
        }
        return None;
    }
    let how = if pipelined { "; pipelined" } else { "" };
    run.ok(
        &s,
        format!(
            "MAIL FROM / RCPT TO <{to}> / DATA: message accepted: {}{how}",
            r.last()
        ),
    );
    Some(())
}

fn message_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("{}.{}", now.as_secs(), now.subsec_nanos())
}

/// The current time in RFC 2822 form (UTC).
fn rfc2822_now() -> String {
    chrono::Utc::now().to_rfc2822()
}
