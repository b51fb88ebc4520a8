//! What went wrong in a connection test, as a type: the probe names each failure where it sees
//! it, and a server's reply line is sorted into a known refusal here, once, so that nothing after
//! the probe (the diagnosis, the checklist, the window) ever reads a server's wording again.
//! The catalogue of replies follows Microsoft's documentation and the trackers of mail clients
//! (docs/diagnosis.md lists them with the kind each leads to).

use serde::Serialize;

use super::{Step, TargetKind};

/// Where Exchange has SMTP AUTH switched off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Tenant,
    Mailbox,
}

/// What went wrong, as the probe saw it. [`Symptom::Reply`] and [`Symptom::AuthRefused`] are
/// what a protocol module reports; [`refine`] sorts their reply into the other variants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "symptom", rename_all = "snake_case")]
pub enum Symptom {
    /// A server reply this catalogue does not know, verbatim.
    Reply {
        reply: String,
    },
    /// The sign-in was refused: the final reply and the decoded error challenge, if any.
    AuthRefused {
        reply: String,
        challenge: Option<String>,
    },
    /// Exchange: `535 5.7.139 … SmtpClientAuthentication is disabled for the Tenant/Mailbox`.
    SmtpAuthDisabled {
        scope: Scope,
        reply: String,
    },
    /// `535 5.7.139 … locked by your organization's security defaults policy`.
    SecurityDefaults {
        reply: String,
    },
    /// `535 5.7.139 … the request did not meet the criteria to be authenticated successfully`.
    ConditionalAccess {
        reply: String,
    },
    /// `535 5.7.139 … basic authentication is disabled`.
    BasicAuthDisabled {
        reply: String,
    },
    /// `550 5.7.30 Basic authentication is not supported for Client Submission`.
    BasicAuthRetired {
        reply: String,
    },
    /// `504 5.7.4 Unrecognized authentication type`.
    MechanismUnrecognized {
        reply: String,
    },
    /// `530 5.7.57 Client not authenticated to send mail`.
    NotAuthenticatedToSend {
        reply: String,
    },
    /// `550 5.7.60 … send as this sender`.
    SendAsDenied {
        reply: String,
    },
    /// Signed in, but the mailbox cannot be used: Exchange's "User is authenticated but not
    /// connected", `430 4.2.0 STOREDRV … mailbox logon failure`, Dovecot's internal error at SELECT.
    NotConnected {
        reply: String,
    },
    /// Gmail: IMAP or POP is switched off for this user or the whole domain (`[ALERT] Your
    /// account is not enabled for IMAP use`, `IMAP access is disabled for your domain`).
    ProtocolDisabled {
        reply: String,
    },
    /// The server could not check the credentials right now (its identity provider failed).
    TemporaryAuthFailure {
        reply: String,
    },
    /// The server refuses sign-in without TLS.
    TlsRequired {
        reply: String,
    },
    /// LOGIN with a password refused.
    PasswordRefused {
        reply: String,
    },
    /// The server reported an internal error (not at the mailbox step).
    ServerError {
        reply: String,
    },
    DnsFailed,
    Refused,
    ConnectTimeout,
    Unreachable,
    CaFile,
    TlsUntrusted,
    TlsExpired,
    TlsWrongName,
    /// Implicit TLS was tried, the server spoke plain text.
    PlainPort,
    /// No answer to the TLS hello.
    TlsTimeout,
    /// No plain greeting, but the port answers TLS.
    TlsPort,
    NoGreeting,
    /// Something that is not this protocol's greeting.
    Garbage {
        line: String,
    },
    /// Closed before or during a command (not after sign-in).
    Closed,
    StartTlsNotOffered,
    MechanismNotOffered {
        mech: String,
        /// The server wants TLS before it offers any sign-in.
        tls_first: bool,
    },
    /// The connection closed right after a successful or silent sign-in.
    ClosedAfterAuth,
    /// A command got no answer in time.
    Timeout,
    /// A token or password would travel unencrypted to another computer.
    Unencrypted,
    /// The server sent more than any reply holds: the lines and bytes by the time the test
    /// stopped reading.
    Flood {
        lines: usize,
        bytes: usize,
    },
    /// The greeting refuses the session (SMTP `554`/`421`, POP3 `-ERR`, IMAP `* BYE`).
    GreetingRefused {
        reply: String,
    },
    /// A value (`what`: "sign-in name", "password", "host") holds a control character, so it
    /// was not sent: it would have injected a command.
    UnsafeValue {
        what: String,
    },
    Other,
}

impl Symptom {
    /// A reply line, for [`refine`] to sort.
    pub fn reply(line: impl Into<String>) -> Self {
        Symptom::Reply { reply: line.into() }
    }

    /// The symptom with every server text in it masked (secrets) and escaped (control
    /// characters), as it is kept and shown.
    #[must_use]
    pub fn cleaned(mut self) -> Self {
        use Symptom as S;
        let clean = |t: &mut String| *t = crate::redact::clean(t);
        match &mut self {
            S::Reply { reply }
            | S::SmtpAuthDisabled { reply, .. }
            | S::SecurityDefaults { reply }
            | S::ConditionalAccess { reply }
            | S::BasicAuthDisabled { reply }
            | S::BasicAuthRetired { reply }
            | S::MechanismUnrecognized { reply }
            | S::NotAuthenticatedToSend { reply }
            | S::SendAsDenied { reply }
            | S::NotConnected { reply }
            | S::ProtocolDisabled { reply }
            | S::TemporaryAuthFailure { reply }
            | S::TlsRequired { reply }
            | S::PasswordRefused { reply }
            | S::ServerError { reply }
            | S::GreetingRefused { reply }
            | S::Garbage { line: reply } => clean(reply),
            S::AuthRefused { reply, challenge } => {
                clean(reply);
                if let Some(c) = challenge {
                    clean(c);
                }
            }
            S::MechanismNotOffered { mech, .. } => clean(mech),
            _ => {}
        }
        self
    }

    /// The server's line behind this symptom, if one was read.
    pub fn reply_line(&self) -> Option<&str> {
        use Symptom as S;
        match self {
            S::Reply { reply }
            | S::AuthRefused { reply, .. }
            | S::SmtpAuthDisabled { reply, .. }
            | S::SecurityDefaults { reply }
            | S::ConditionalAccess { reply }
            | S::BasicAuthDisabled { reply }
            | S::BasicAuthRetired { reply }
            | S::MechanismUnrecognized { reply }
            | S::NotAuthenticatedToSend { reply }
            | S::SendAsDenied { reply }
            | S::NotConnected { reply }
            | S::ProtocolDisabled { reply }
            | S::TemporaryAuthFailure { reply }
            | S::TlsRequired { reply }
            | S::PasswordRefused { reply }
            | S::ServerError { reply } => Some(reply),
            S::Garbage { line } | S::GreetingRefused { reply: line } => Some(line),
            _ => None,
        }
    }
}

/// Sorts a reply (or a refusal's final reply) into the symptom it shows. Matching is on lower-case
/// text, so the case of a server's wording does not matter; the first entry that matches wins,
/// and the entries are ordered from the most specific wording to the most general.
pub fn refine(kind: TargetKind, step: Step, symptom: Symptom) -> Symptom {
    let (reply, challenge) = match symptom {
        Symptom::Reply { reply } => (reply, None),
        Symptom::AuthRefused { reply, challenge } => (reply, Some(challenge)),
        other => return other,
    };
    let r = reply.to_ascii_lowercase();
    let has = |s: &str| r.contains(s);
    let refused = |reply: String| match &challenge {
        Some(challenge) => Symptom::AuthRefused {
            reply,
            challenge: challenge.clone(),
        },
        None => Symptom::AuthRefused {
            reply,
            challenge: None,
        },
    };
    if has("user is authenticated but not connected")
        || has("4.2.0 storedrv")
        || has("mailbox logon failure")
    {
        return Symptom::NotConnected { reply };
    }
    if has("not enabled for imap")
        || has("not enabled for pop")
        || has("imap access is disabled")
        || has("pop access is disabled")
    {
        return Symptom::ProtocolDisabled { reply };
    }
    if has("smtpclientauthentication is disabled") || has("smtp_auth_disabled") {
        let scope = if has("for the mailbox") {
            Scope::Mailbox
        } else {
            Scope::Tenant
        };
        return Symptom::SmtpAuthDisabled { scope, reply };
    }
    if has("security defaults") {
        return Symptom::SecurityDefaults { reply };
    }
    if has("did not meet the criteria") {
        return Symptom::ConditionalAccess { reply };
    }
    if has("5.7.30") || has("basic authentication is not supported") {
        return Symptom::BasicAuthRetired { reply };
    }
    if has("basic authentication is disabled") {
        return Symptom::BasicAuthDisabled { reply };
    }
    if has("530 5.7.57")
        || has("client not authenticated")
        || (has("530 5.7.0") && has("authentication required"))
    {
        return Symptom::NotAuthenticatedToSend { reply };
    }
    if has("550 5.7.60") || has("send as this sender") {
        return Symptom::SendAsDenied { reply };
    }
    if has("504 5.7.4") || has("unrecognized authentication type") {
        return Symptom::MechanismUnrecognized { reply };
    }
    if has("temporary authentication failure") || r.starts_with("454 4.7.0") {
        return Symptom::TemporaryAuthFailure { reply };
    }
    if has("plaintext authentication")
        || has("[privacyrequired]")
        || has("523 5.7.10")
        || has("must issue a starttls")
        || has("530 5.7.0")
    {
        return Symptom::TlsRequired { reply };
    }
    if has("[serverbug]") || has("internal error occurred") {
        return if step == Step::Mailbox {
            Symptom::NotConnected { reply }
        } else {
            Symptom::ServerError { reply }
        };
    }
    if has("login failed") {
        return Symptom::PasswordRefused { reply };
    }
    if challenge.is_some()
        || has("5.7.139")
        || has("535 5.7.3")
        || has("535 5.7.8")
        || has("authenticate failed")
        || has("[authenticationfailed]")
        || has("-err [auth]")
        || has("authentication failed")
        || has("authentication failure")
        || has("authentication unsuccessful")
        || (kind == TargetKind::Smtp && r.starts_with("535"))
    {
        return refused(reply);
    }
    Symptom::Reply { reply }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sort(kind: TargetKind, step: Step, line: &str) -> Symptom {
        refine(kind, step, Symptom::reply(line))
    }

    #[test]
    #[allow(clippy::too_many_lines)] // the table
    fn exchange_and_dovecot_replies_are_sorted() {
        use Step::{Authenticate as A, Mailbox as M, Send as S};
        use TargetKind::{Imap, Pop3, Smtp};
        let cases: &[(TargetKind, Step, &str, &str)] = &[
            (
                Imap,
                M,
                "A2 BAD User is authenticated but not connected.",
                "not_connected",
            ),
            (
                Smtp,
                S,
                "430 4.2.0 STOREDRV; mailbox logon failure; MapiExceptionLogonFailed",
                "not_connected",
            ),
            (
                Imap,
                M,
                "A3 NO [SERVERBUG] Internal error occurred. Refer to server log",
                "not_connected",
            ),
            (
                Imap,
                A,
                "A3 NO [SERVERBUG] Internal error occurred.",
                "server_error",
            ),
            (
                Smtp,
                A,
                "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
                "smtp_auth_disabled",
            ),
            (
                Smtp,
                A,
                "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy.",
                "security_defaults",
            ),
            (
                Smtp,
                A,
                "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to be authenticated successfully.",
                "conditional_access",
            ),
            (
                Smtp,
                A,
                "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.",
                "basic_auth_disabled",
            ),
            (
                Smtp,
                A,
                "550 5.7.30 Basic authentication is not supported for Client Submission.",
                "basic_auth_retired",
            ),
            (
                Smtp,
                A,
                "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect.",
                "auth_refused",
            ),
            (
                Smtp,
                A,
                "535 5.7.3 Authentication unsuccessful [SN4PR0601CA0002.namprd06.prod.outlook.com]",
                "auth_refused",
            ),
            (
                Smtp,
                S,
                "530 5.7.57 Client not authenticated to send mail.",
                "not_authenticated_to_send",
            ),
            (
                Smtp,
                S,
                "530-5.7.0 Authentication Required. For more information, go to\r\n530 5.7.0  https://support.google.com/mail/?p=WantAuthError",
                "not_authenticated_to_send",
            ),
            (
                Smtp,
                A,
                "530 5.7.0 Must issue a STARTTLS command first.",
                "tls_required",
            ),
            (
                Smtp,
                S,
                "550 5.7.60 SMTP; Client does not have permissions to send as this sender",
                "send_as_denied",
            ),
            (
                Smtp,
                A,
                "504 5.7.4 Unrecognized authentication type",
                "mechanism_unrecognized",
            ),
            (
                Imap,
                A,
                "A1 NO [UNAVAILABLE] Temporary authentication failure. [host:2026-11-24 10:08:46]",
                "temporary_auth_failure",
            ),
            (
                Smtp,
                A,
                "454 4.7.0 Temporary authentication failure.",
                "temporary_auth_failure",
            ),
            (
                Smtp,
                A,
                "523 5.7.10 Plaintext authentication disabled.",
                "tls_required",
            ),
            (Imap, A, "A1 NO LOGIN failed.", "password_refused"),
            (
                Imap,
                A,
                "A1 NO [ALERT] Your account is not enabled for IMAP use. Please visit your Gmail settings page and enable your account for IMAP access. (Failure)",
                "protocol_disabled",
            ),
            (
                Imap,
                A,
                "A1 NO [ALERT] IMAP access is disabled for your domain. Please contact your domain administrator for questions about this feature. (Failure)",
                "protocol_disabled",
            ),
            (Imap, A, "A01 NO AUTHENTICATE failed.", "auth_refused"),
            (
                Pop3,
                A,
                "-ERR Authentication failure: unknown user name or bad password.",
                "auth_refused",
            ),
            (
                Pop3,
                A,
                "-ERR [AUTH] Authentication failed.",
                "auth_refused",
            ),
            (Imap, M, "A2 NO something new", "reply"),
        ];
        for (kind, step, line, want) in cases {
            let got = serde_json::to_value(sort(*kind, *step, line)).unwrap();
            assert_eq!(got["symptom"], *want, "{line}");
            assert_eq!(got.get("reply").and_then(|r| r.as_str()), Some(*line));
        }
    }

    #[test]
    fn a_refusal_keeps_its_challenge_and_other_symptoms_pass_through() {
        let s = refine(
            TargetKind::Imap,
            Step::Authenticate,
            Symptom::AuthRefused {
                reply: "A1 NO Invalid credentials (Failure)".into(),
                challenge: Some(r#"{"status":"400"}"#.into()),
            },
        );
        assert_eq!(
            s,
            Symptom::AuthRefused {
                reply: "A1 NO Invalid credentials (Failure)".into(),
                challenge: Some(r#"{"status":"400"}"#.into()),
            }
        );
        assert_eq!(
            refine(TargetKind::Imap, Step::Tls, Symptom::TlsUntrusted),
            Symptom::TlsUntrusted
        );
    }
}
