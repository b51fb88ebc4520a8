//! Causes a hostile or broken server (or a hostile value) shows: a reply that never ends, a
//! greeting that refuses the session, a value that would have injected a command. Each follows
//! from the failing step's symptom alone.

use super::network::both_ports;
use super::{Case, proven};
use crate::diagnosis::Found;
use crate::probe::{Symptom, TargetKind};

pub(super) fn server_flooded(case: &Case<'_>) -> Option<Found> {
    let Some(Symptom::Flood { lines, bytes }) = case.symptom() else {
        return None;
    };
    let k = case
        .kind
        .map_or_else(|| "the protocol".into(), |k| k.to_string());
    let step = case
        .step()
        .map_or_else(|| "the test".into(), |s| s.to_string());
    Some(proven(
        case,
        "The server flooded the connection".into(),
        format!(
            "During {step} the server sent {lines} lines ({bytes} bytes) without ending its reply, more than any mail server's answer holds; the test stopped reading there. The port belongs to something else, or the server is broken or hostile."
        ),
        format!(
            "Check the host and port ({k} uses {}); if the server is yours, its administrator must look at its log.",
            both_ports(case)
        ),
        Vec::new(),
    ))
}

pub(super) fn greeting_refused(case: &Case<'_>) -> Option<Found> {
    let Some(Symptom::GreetingRefused { reply }) = case.symptom() else {
        return None;
    };
    // What the refusal means, in the words of the protocol that sent it.
    let meaning = match case.kind {
        Some(TargetKind::Smtp) => {
            " (554: this address is blocked or the service is off; 421: the server is busy or shutting down)"
        }
        Some(TargetKind::Imap) => " (IMAP's BYE: the server closes at once)",
        _ => "",
    };
    Some(proven(
        case,
        "The server refuses this connection".into(),
        format!(
            "The server answered the connection with a refusal instead of a greeting: {reply}. It takes no session from this computer{meaning}."
        ),
        "Check that this is the right server and port; if it is, ask its administrator whether this computer's address is allowed, or try again later.".into(),
        Vec::new(),
    ))
}

pub(super) fn unsafe_value(case: &Case<'_>) -> Option<Found> {
    let Some(Symptom::UnsafeValue { what }) = case.symptom() else {
        return None;
    };
    Some(proven(
        case,
        "A value would inject a command".into(),
        format!(
            "The {what} contains a line break or another control character: in a protocol line it would end the command and start one of its own, so the test sent nothing."
        ),
        match case.place {
            crate::diagnosis::Place::Cli { profile } => format!(
                "Correct the value in the profile: `mailcfg validate {}` names the field.",
                crate::diagnosis::shell_word(profile)
            ),
            crate::diagnosis::Place::Window => {
                "Correct the value: the form shows it at its field.".to_owned()
            }
        },
        Vec::new(),
    ))
}
