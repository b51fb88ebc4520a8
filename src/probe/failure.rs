//! What a failed read means for a step: the words of its detail and the symptom the diagnosis
//! reads, for the line readers (lines.rs) and async-imap alike.

use super::symptom::Symptom;
use super::{Run, lines, thousands};

/// What a read error means for a step: the detail and the symptom. `what` names the command
/// answered; `after_auth`: a closed connection here follows a sign-in.
pub(crate) fn read_failure(
    e: &lines::ReadError,
    what: &str,
    after_auth: bool,
) -> (String, Symptom) {
    use lines::ReadError as E;
    match e {
        E::Closed if after_auth => (
            format!("the server closed the connection after {what}, with no reply"),
            Symptom::ClosedAfterAuth,
        ),
        E::Closed => (
            format!("the server closed the connection (waiting for the answer to {what})"),
            Symptom::Closed,
        ),
        E::TooLong => (
            format!(
                "the answer to {what} has a line longer than {} KiB (not a mail server's reply)",
                lines::MAX_LINE / 1024
            ),
            Symptom::Flood {
                lines: 1,
                bytes: lines::MAX_LINE,
            },
        ),
        E::Flood { lines, bytes } => (
            format!(
                "the server flooded the answer to {what}: {} lines ({} bytes) and no end; stopped reading",
                thousands(*lines),
                thousands(*bytes)
            ),
            Symptom::Flood {
                lines: *lines,
                bytes: *bytes,
            },
        ),
        E::Io(e) => (
            format!("reading the answer to {what}: {e}"),
            Symptom::Closed,
        ),
    }
}

/// The detail of a step whose deadline passed while the server was still answering.
pub(crate) fn timeout_detail(run: &Run<'_>, what: &str) -> String {
    let (lines, _) = run.rec.received();
    if lines > 0 {
        format!(
            "the answer to {what} did not end within {} ({} lines came, slowly)",
            run.secs(),
            thousands(lines)
        )
    } else {
        format!("no answer to {what} within {}", run.secs())
    }
}
