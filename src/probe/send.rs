//! SMTP's Send and Logout steps (smtp.rs runs the rest): MAIL FROM and RCPT TO, then RSET or
//! a short message through DATA, then QUIT. Where the server offers PIPELINING (RFC 2920) the
//! commands go in groups, each in one write and one round trip, and QUIT goes with the last
//! group, so that its answer costs nothing: MAIL + RCPT + RSET + QUIT, or MAIL + RCPT + DATA,
//! then the message + QUIT.

use super::lines::{Line, Lines};
use super::message::{mail_from, rcpt_to, test_message};
use super::smtp::{Reply, command, reply, send};
use super::symptom::Symptom;
use super::{Credential, Endpoint, Run, Started, Status, Step};

/// QUIT, already sent with the last pipelined group or sent now, and its answer only if it
/// comes at once (`Run::logout_grace`); then the connection is closed (dropped).
pub(super) async fn quit(run: &mut Run<'_>, io: &mut Lines, pipelined: bool) {
    let s = run.begin(Step::Logout);
    let grace = run.logout_grace();
    let sent = if pipelined {
        "QUIT sent (pipelined with the last commands)"
    } else {
        if !matches!(run.timed(io.send(&Line::verb("QUIT"))).await, Some(Ok(()))) {
            run.end(&s, Status::Warning, "QUIT could not be sent");
            return;
        }
        "QUIT sent"
    };
    let answer = tokio::time::timeout(grace, io.read_line())
        .await
        .ok()
        .and_then(Result::ok);
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

fn refused(run: &mut Run<'_>, s: &Started, what: &str, r: &Reply) {
    let line = r.last();
    run.fail(s, format!("{what}: {line}"), &Symptom::reply(line.clone()));
}

/// MAIL FROM and RCPT TO with the user's own address, then RSET; with `send_to`, a short message
/// through DATA instead, since Exchange reports a mailbox it may not use only at the end of DATA.
/// Both addresses are [`lettre::Address`]es: a sender that is not one is refused before anything
/// is sent. Where the server offers PIPELINING (RFC 2920) the commands go in groups, each in one
/// write and one round trip: MAIL, RCPT, RSET and QUIT; or MAIL, RCPT and DATA, then the message
/// and QUIT (QUIT's answer is read by the Logout step).
pub(super) async fn send_step(
    run: &mut Run<'_>,
    t: &Endpoint<'_>,
    cred: &Credential,
    pipelined: bool,
    io: &mut Lines,
) -> Option<()> {
    let s = run.begin(Step::Send);
    let sender = cred.user().unwrap_or(&run.sender).to_owned();
    let from = if sender.is_empty() {
        None
    } else {
        match crate::profile::mail_address(&sender) {
            Ok(a) => Some(a),
            // A password's login name that is no address (`apikey`): nothing to send from.
            Err(_) if matches!(cred, Credential::Password { .. }) => {
                let detail = format!(
                    "not checked: the login name \"{}\" is no mail address to send from (MAIL FROM needs one)",
                    crate::profile::shown(&sender)
                );
                run.end(&s, Status::Skipped, detail);
                return Some(());
            }
            Err(why) => {
                let detail = format!(
                    "not sent: the sender \"{}\" {why}",
                    crate::profile::shown(&sender)
                );
                run.fail(&s, detail, &Symptom::Other);
                return None;
            }
        }
    };
    let mail = mail_from(from.as_ref());
    let Some(to) = run.opts.send_to.clone() else {
        let Some(from) = from else {
            let detail =
                "no address to check: the transport has no username and no --send-to was given";
            run.end(&s, Status::Skipped, detail);
            return Some(());
        };
        return check_recipient(run, &s, io, mail, &from, pipelined).await;
    };
    let mut message = match test_message(from.as_ref(), &to, t) {
        Ok(m) => m,
        Err(e) => {
            run.fail(
                &s,
                format!("cannot build the test message: {e}"),
                &Symptom::Other,
            );
            return None;
        }
    };
    if pipelined {
        send(run, &s, io, &[mail, rcpt_to(&to), Line::verb("DATA")]).await?;
        let go = group_replies(run, &s, io, &["MAIL FROM", "RCPT TO", "DATA"]).await?;
        if go.code != 354 {
            refused(run, &s, "DATA", &go);
            return None;
        }
        message.extend_from_slice(b"QUIT\r\n");
    } else {
        command(run, &s, io, &mail, "MAIL FROM").await?;
        command(run, &s, io, &rcpt_to(&to), "RCPT TO").await?;
        command(run, &s, io, &Line::verb("DATA"), "DATA").await?;
    }
    if !matches!(run.timed(io.send_raw(&message)).await, Some(Ok(()))) {
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
            &Symptom::reply(line.clone()),
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

/// MAIL FROM and RCPT TO with the user's own address, then RSET: nothing is sent.
async fn check_recipient(
    run: &mut Run<'_>,
    s: &Started,
    io: &mut Lines,
    mail: Line,
    from: &lettre::Address,
    pipelined: bool,
) -> Option<()> {
    let rcpt = rcpt_to(from);
    if pipelined {
        let group = [mail, rcpt, Line::verb("RSET"), Line::verb("QUIT")];
        if send(run, s, io, &group).await.is_none()
            || group_replies(run, s, io, &["MAIL FROM", "RCPT TO", "RSET"])
                .await
                .is_none()
        {
            quit_sent_anyway(run);
            return None;
        }
        run.ok(
            s,
            format!("MAIL FROM / RCPT TO <{from}> accepted, then RSET (nothing sent; pipelined)"),
        );
    } else {
        command(run, s, io, &mail, "MAIL FROM").await?;
        command(run, s, io, &rcpt, "RCPT TO").await?;
        command(run, s, io, &Line::verb("RSET"), "RSET").await?;
        run.ok(
            s,
            format!("MAIL FROM / RCPT TO <{from}> accepted, then RSET (nothing sent)"),
        );
    }
    Some(())
}
