//! Causes on the way to the sign-in: the name, the connection, TLS and its certificate, the
//! greeting and the capabilities. Each follows from the failing step's symptom alone.

use super::{Case, proven};
use crate::diagnosis::Found;
use crate::export::transport_config_line;
use crate::probe::{Step, Symptom, TargetKind};

/// The ports of a protocol: (implicit TLS, STARTTLS).
pub(super) fn ports(kind: Option<TargetKind>) -> (u16, u16) {
    match kind {
        Some(TargetKind::Pop3) => (995, 110),
        Some(TargetKind::Smtp) => (465, 587),
        _ => (993, 143),
    }
}

/// SMTP at Exchange Online, which has no implicit-TLS port (587 with STARTTLS only).
fn microsoft_smtp(case: &Case<'_>) -> bool {
    case.kind == Some(TargetKind::Smtp) && {
        let (host, _) = endpoint(case);
        let h = host.to_ascii_lowercase();
        h.ends_with(".office365.com") || h.ends_with(".outlook.com") || h.ends_with(".office365.us")
    }
}

/// "993 with TLS or 143 with STARTTLS", in the target's protocol (Exchange's SMTP: 587 only).
pub(super) fn both_ports(case: &Case<'_>) -> String {
    if microsoft_smtp(case) {
        return "587 with STARTTLS (Exchange Online offers no implicit-TLS port for SMTP)".into();
    }
    let (tls, starttls) = ports(case.kind);
    format!("{tls} with TLS or {starttls} with STARTTLS")
}

/// The encrypted choices: "STARTTLS, or TLS on port 993" (Exchange's SMTP: STARTTLS on 587).
pub(super) fn tls_choice(case: &Case<'_>) -> String {
    if microsoft_smtp(case) {
        return "STARTTLS on port 587".into();
    }
    format!("STARTTLS, or TLS on port {}", ports(case.kind).0)
}

/// The host and port the target connects to, by the profile.
fn endpoint(case: &Case<'_>) -> (String, u16) {
    let p = case.ev.profile;
    let name = case.target.as_deref().unwrap_or_default();
    p.mailboxes
        .iter()
        .find(|m| m.name == name)
        .map(|m| (m.host.clone(), m.port))
        .or_else(|| {
            p.transports
                .iter()
                .find(|t| t.name == name)
                .map(|t| (t.host.clone(), t.port))
        })
        .unwrap_or_default()
}

fn kind_name(case: &Case<'_>) -> String {
    case.kind
        .map_or_else(|| "the server".into(), |k| k.to_string())
}

/// A finding for a symptom that names its own cause.
fn when(
    case: &Case<'_>,
    hit: bool,
    title: &str,
    cause: String,
    fix: String,
    commands: Vec<String>,
) -> Option<Found> {
    hit.then(|| proven(case, title.to_owned(), cause, fix, commands))
}

fn is(case: &Case<'_>, f: fn(&Symptom) -> bool) -> bool {
    case.symptom().is_some_and(f)
}

pub(super) fn dns_failed(case: &Case<'_>) -> Option<Found> {
    let (host, _) = endpoint(case);
    when(case, is(case, |s| matches!(s, Symptom::DnsFailed)), "The server name does not resolve",
        format!("DNS has no address for \"{host}\": a typo in the host name, or this computer's DNS does not answer."),
        "Check the host name (Microsoft 365: outlook.office365.com for IMAP/POP3, smtp.office365.com for SMTP) and this computer's network.".into(),
        Vec::new())
}

pub(super) fn connection_refused(case: &Case<'_>) -> Option<Found> {
    let (host, port) = endpoint(case);
    when(
        case,
        is(case, |s| matches!(s, Symptom::Refused)),
        "Connection refused",
        format!("Nothing listens on {host} port {port}, or a firewall rejects the connection."),
        format!(
            "Check the port ({} uses {}).",
            kind_name(case),
            both_ports(case)
        ),
        Vec::new(),
    )
}

pub(super) fn connect_timeout(case: &Case<'_>) -> Option<Found> {
    let (host, port) = endpoint(case);
    when(
        case,
        is(case, |s| matches!(s, Symptom::ConnectTimeout)),
        "Connection timed out",
        format!(
            "{host} port {port} did not answer: a firewall drops the packets, or the address is wrong. Microsoft 365 does not answer on port 465."
        ),
        "Check the port and any firewall or proxy between this computer and the server.".into(),
        Vec::new(),
    )
}

pub(super) fn unreachable(case: &Case<'_>) -> Option<Found> {
    when(
        case,
        is(case, |s| matches!(s, Symptom::Unreachable)),
        "Server unreachable",
        "This computer has no route to the server's address.".into(),
        "Check the network connection, VPN or proxy.".into(),
        Vec::new(),
    )
}

pub(super) fn ca_file_unusable(case: &Case<'_>) -> Option<Found> {
    when(case, is(case, |s| matches!(s, Symptom::CaFile)), "The CA file cannot be used",
        "The extra CA file (CA file in the settings, tls.ca_file in the profile) cannot be read or holds no PEM certificate.".into(),
        "Give the path of a PEM certificate as the CA file, or remove the setting to use the system's roots only.".into(),
        Vec::new())
}

pub(super) fn certificate_untrusted(case: &Case<'_>) -> Option<Found> {
    when(case, is(case, |s| matches!(s, Symptom::TlsUntrusted)), "Certificate not trusted",
        "The server's certificate was issued by a CA that neither this computer nor the extra CA file trusts (a private CA, or something intercepting TLS).".into(),
        "If the server uses a private CA, give its certificate (PEM) as the CA file; otherwise check that the host name is the real server's.".into(),
        Vec::new())
}

pub(super) fn certificate_expired(case: &Case<'_>) -> Option<Found> {
    when(case, is(case, |s| matches!(s, Symptom::TlsExpired)), "Certificate expired",
        "The server's certificate is outside its validity period (or this computer's clock is wrong).".into(),
        "The server's administrator must renew the certificate; check this computer's date and time.".into(),
        Vec::new())
}

pub(super) fn certificate_wrong_name(case: &Case<'_>) -> Option<Found> {
    let (host, _) = endpoint(case);
    when(case, is(case, |s| matches!(s, Symptom::TlsWrongName)), "Certificate is for another name",
        format!("The certificate does not name \"{host}\": the host name is an alias (for example a custom domain in front of Microsoft 365)."),
        "Use the host name the certificate was issued for (Microsoft 365: outlook.office365.com, smtp.office365.com).".into(),
        Vec::new())
}

pub(super) fn port_expects_starttls(case: &Case<'_>) -> Option<Found> {
    let (_, port) = endpoint(case);
    when(
        case,
        is(case, |s| matches!(s, Symptom::PlainPort)),
        "This port expects STARTTLS",
        format!(
            "Port {port} speaks plain text first (it sent a greeting instead of a TLS answer), so implicit TLS cannot work there."
        ),
        if microsoft_smtp(case) {
            "This port expects STARTTLS; choose STARTTLS on port 587.".to_owned()
        } else {
            format!(
                "This port expects STARTTLS; choose STARTTLS, or port {} with TLS.",
                ports(case.kind).0
            )
        },
        Vec::new(),
    )
}

pub(super) fn port_expects_tls(case: &Case<'_>) -> Option<Found> {
    let (_, port) = endpoint(case);
    let (_, starttls) = ports(case.kind);
    when(
        case,
        is(case, |s| matches!(s, Symptom::TlsPort)),
        "This port expects implicit TLS",
        format!(
            "Port {port} stays silent until a TLS handshake starts: it uses implicit TLS, not plain text or STARTTLS."
        ),
        format!(
            "This port expects TLS from the first byte; choose TLS, or port {starttls} with STARTTLS."
        ),
        Vec::new(),
    )
}

pub(super) fn tls_no_answer(case: &Case<'_>) -> Option<Found> {
    let (_, port) = endpoint(case);
    when(
        case,
        is(case, |s| matches!(s, Symptom::TlsTimeout)),
        "No answer to TLS",
        format!("Port {port} accepted the connection but did not answer the TLS hello."),
        format!(
            "Check the port: {} uses {}.",
            kind_name(case),
            both_ports(case)
        ),
        Vec::new(),
    )
}

pub(super) fn no_greeting(case: &Case<'_>) -> Option<Found> {
    let k = kind_name(case);
    when(
        case,
        is(case, |s| matches!(s, Symptom::NoGreeting)),
        "No greeting",
        format!(
            "The server accepted the connection but sent no {k} greeting in time: it is overloaded, or the port belongs to another service."
        ),
        format!(
            "Check the port ({k} uses {}) and try again later.",
            both_ports(case)
        ),
        Vec::new(),
    )
}

pub(super) fn not_this_protocol(case: &Case<'_>) -> Option<Found> {
    let k = kind_name(case);
    let line = match case.symptom() {
        Some(Symptom::Garbage { line }) => line.clone(),
        _ => return None,
    };
    let cause = match case.step() {
        Some(Step::Greeting) | None => {
            format!("The server's first line is not a {k} greeting: {line}")
        }
        Some(step) => format!(
            "The server answered {step} with something that is not {k}: {line}. That says nothing of the token or password; the server is broken, or something else answers on this port."
        ),
    };
    when(case, true, &format!("The server does not speak {k}"),
        cause,
        "Check the host and port: they belong to another service, or the server's administrator must look at its log.".into(),
        Vec::new())
}

pub(super) fn connection_closed(case: &Case<'_>) -> Option<Found> {
    when(
        case,
        is(case, |s| matches!(s, Symptom::Closed)),
        "Connection closed",
        "The server closed the connection before the test ended.".into(),
        "Try again; if it repeats, the server or a firewall in between drops the connection."
            .into(),
        Vec::new(),
    )
}

pub(super) fn starttls_not_offered(case: &Case<'_>) -> Option<Found> {
    let (_, port) = endpoint(case);
    let (tls, _) = ports(case.kind);
    when(
        case,
        is(case, |s| matches!(s, Symptom::StartTlsNotOffered)),
        "STARTTLS not offered",
        format!(
            "The server on port {port} does not offer STARTTLS, so the connection would stay unencrypted."
        ),
        if microsoft_smtp(case) {
            "Check the host and port: smtp.office365.com offers STARTTLS on port 587.".to_owned()
        } else {
            format!("Choose TLS on port {tls}, or check that the host and port are right.")
        },
        Vec::new(),
    )
}

pub(super) fn mechanism_not_offered(case: &Case<'_>) -> Option<Found> {
    let Some(Symptom::MechanismNotOffered {
        mech,
        tls_first: false,
    }) = case.symptom()
    else {
        return None;
    };
    let smtp = case.kind == Some(TargetKind::Smtp);
    let k = kind_name(case);
    when(
        case,
        true,
        &format!("{mech} not offered"),
        format!(
            "The server does not list {mech} among its sign-in methods: a wrong host or port, or OAuth2 is not enabled for {k}."
        ),
        format!(
            "Check the host and port (Microsoft 365: outlook.office365.com {}, smtp.office365.com 587). For SMTP in Microsoft 365, authenticated SMTP must be on.",
            if case.kind == Some(TargetKind::Pop3) {
                995
            } else {
                993
            }
        ),
        if smtp {
            vec![transport_config_line()]
        } else {
            Vec::new()
        },
    )
}

pub(super) fn closed_after_sign_in(case: &Case<'_>) -> Option<Found> {
    let user = case.user.clone().unwrap_or_default();
    when(
        case,
        is(case, |s| matches!(s, Symptom::ClosedAfterAuth)),
        "The server closed the connection after the sign-in",
        format!(
            "The server accepted the sign-in as {user} and then closed the connection: the identity may not open this mailbox, or the mailbox does not exist on this server."
        ),
        "Check the mailbox address; the server's log names the reason.".into(),
        Vec::new(),
    )
}

pub(super) fn timeout(case: &Case<'_>) -> Option<Found> {
    let step = case.step()?;
    when(
        case,
        is(case, |s| matches!(s, Symptom::Timeout)),
        "No answer in time",
        format!("The server stopped answering during {step}."),
        "Try again; raise the step timeout (probe.timeout_secs) if the server is slow.".into(),
        Vec::new(),
    )
}

pub(super) fn unencrypted_refused(case: &Case<'_>) -> Option<Found> {
    let (host, _) = endpoint(case);
    when(
        case,
        is(case, |s| matches!(s, Symptom::Unencrypted)),
        "Sign-in without encryption refused",
        format!(
            "The connection to {host} is not encrypted, so the token or password would cross the network readable by anyone in between; the test did not send it."
        ),
        format!("Choose {}.", tls_choice(case)),
        Vec::new(),
    )
}
