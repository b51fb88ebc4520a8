//! What a failure means: the server's words (or the network's silence) mapped to a cause, a fix in
//! plain words and, where there is one, the admin command (Exchange Online PowerShell). The
//! catalogue follows `facts.md` (Microsoft's documentation and the trackers of mail clients).
//! A reply that matches nothing gets no diagnosis: the failing step shows it verbatim.

use serde::Serialize;

use super::{Step, TargetKind};
use crate::profile::Encryption;

/// A cause and a fix.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnosis {
    pub title: String,
    pub cause: String,
    pub fix: String,
    /// Copyable admin lines (Exchange Online PowerShell); may be empty.
    pub commands: Vec<String>,
}

impl Diagnosis {
    /// Fills the app's IDs into the admin commands, where the profile knows them.
    #[must_use]
    pub fn with_app(mut self, client_id: &str, enterprise_object_id: Option<&str>) -> Self {
        for c in &mut self.commands {
            *c = c.replace("<APPLICATION_CLIENT_ID>", client_id);
            if let Some(oid) = enterprise_object_id {
                *c = c.replace("<ENTERPRISE_APP_OBJECT_ID>", oid);
            }
        }
        self
    }
}

/// What the test knew about the target when it failed.
#[derive(Debug, Clone)]
pub struct Context {
    pub kind: TargetKind,
    pub host: String,
    pub port: u16,
    pub encryption: Encryption,
    /// The mailbox signed in to (the SASL user).
    pub mailbox: String,
}

/// What went wrong, as the probe saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Symptom {
    /// A server reply line, verbatim.
    Reply(String),
    /// Authentication refused: the final reply and the decoded error challenge, if any.
    AuthRefused {
        reply: String,
        challenge: Option<String>,
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
    Garbage(String),
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
    /// The server sent more than any reply holds (lines, bytes by the time the test stopped).
    Flood {
        lines: usize,
        bytes: usize,
    },
    /// The server's greeting refuses the session (SMTP `554`/`421`, POP3 `-ERR`, IMAP `* BYE`).
    GreetingRefused(String),
    /// A value (`what`: "sign-in name", "password", "host") holds a control character, so it
    /// was not sent: it would have injected a command.
    UnsafeValue {
        what: String,
    },
    Other,
}

const SP_NEW: &str =
    "New-ServicePrincipal -AppId <APPLICATION_CLIENT_ID> -ObjectId <ENTERPRISE_APP_OBJECT_ID>";

fn d(title: &str, cause: &str, fix: &str, commands: Vec<String>) -> Diagnosis {
    Diagnosis {
        title: title.to_owned(),
        cause: cause.to_owned(),
        fix: fix.to_owned(),
        commands,
    }
}

fn full_access(mailbox: &str) -> String {
    format!(
        "Add-MailboxPermission -Identity \"{mailbox}\" -User <ENTERPRISE_APP_OBJECT_ID> -AccessRights FullAccess"
    )
}

/// The ports of the other encryption, for "choose … or port N".
fn ports(kind: TargetKind) -> (u16, u16) {
    // (implicit TLS, STARTTLS)
    match kind {
        TargetKind::Imap => (993, 143),
        TargetKind::Pop3 => (995, 110),
        TargetKind::Smtp => (465, 587),
    }
}

#[allow(clippy::too_many_lines)] // the catalogue, one arm per symptom
pub fn diagnose(ctx: &Context, step: Step, symptom: &Symptom) -> Option<Diagnosis> {
    let (tls_port, starttls_port) = ports(ctx.kind);
    let host = &ctx.host;
    let port = ctx.port;
    Some(match symptom {
        Symptom::Reply(reply) => return reply_diagnosis(ctx, step, reply),
        Symptom::AuthRefused { reply, challenge } => {
            let generic = token_refused(ctx);
            let by_reply = reply_diagnosis(ctx, step, reply);
            let by_challenge = challenge.as_deref().and_then(challenge_diagnosis);
            if let Some(found) = &by_reply
                && (found.title != generic.title || by_challenge.is_none())
            {
                return by_reply;
            }
            // The decoded challenge says more than a generic "authentication failed".
            if let Some(mut found) = by_challenge {
                let google = host.contains("gmail") || host.contains("google");
                if !google {
                    found.cause = format!("{} {}", found.cause, generic.cause);
                    found.fix = generic.fix;
                    found.commands = generic.commands;
                }
                return Some(found);
            }
            generic
        }
        Symptom::DnsFailed => d(
            "The server name does not resolve",
            &format!(
                "DNS has no address for \"{host}\": a typo in the host name, or this computer's DNS does not answer."
            ),
            "Check the host name (Microsoft 365: outlook.office365.com for IMAP/POP3, smtp.office365.com for SMTP) and this computer's network.",
            Vec::new(),
        ),
        Symptom::Refused => d(
            "Connection refused",
            &format!(
                "Nothing listens on {host} port {port}, or a firewall rejects the connection."
            ),
            &format!(
                "Check the port ({} uses {tls_port} with TLS or {starttls_port} with STARTTLS).",
                ctx.kind
            ),
            Vec::new(),
        ),
        Symptom::ConnectTimeout => d(
            "Connection timed out",
            &format!(
                "{host} port {port} did not answer: a firewall drops the packets, or the address is wrong. Microsoft 365 does not answer on port 465."
            ),
            "Check the port and any firewall or proxy between this computer and the server.",
            Vec::new(),
        ),
        Symptom::Unreachable => d(
            "Server unreachable",
            "This computer has no route to the server's address.",
            "Check the network connection, VPN or proxy.",
            Vec::new(),
        ),
        Symptom::CaFile => d(
            "The CA file cannot be used",
            "tls.ca_file names a file that cannot be read or holds no PEM certificate.",
            "Give the path of a PEM certificate in tls.ca_file, or remove the setting to use the system roots only.",
            Vec::new(),
        ),
        Symptom::TlsUntrusted => d(
            "Certificate not trusted",
            "The server's certificate was issued by a CA that neither this computer nor tls.ca_file trusts (a private CA, or something intercepting TLS).",
            "If the server uses a private CA, put its certificate (PEM) in tls.ca_file; otherwise check that the host name is the real server's.",
            Vec::new(),
        ),
        Symptom::TlsExpired => d(
            "Certificate expired",
            "The server's certificate is outside its validity period (or this computer's clock is wrong).",
            "The server's administrator must renew the certificate; check this computer's date and time.",
            Vec::new(),
        ),
        Symptom::TlsWrongName => d(
            "Certificate is for another name",
            &format!(
                "The certificate does not name \"{host}\": the host name is an alias (for example a custom domain in front of Microsoft 365)."
            ),
            "Use the host name the certificate was issued for (Microsoft 365: outlook.office365.com, smtp.office365.com).",
            Vec::new(),
        ),
        Symptom::PlainPort => d(
            "This port expects STARTTLS",
            &format!(
                "Port {port} speaks plain text first (it sent a greeting instead of a TLS answer), so implicit TLS cannot work there."
            ),
            &format!("This port expects STARTTLS; choose STARTTLS, or port {tls_port} with TLS."),
            Vec::new(),
        ),
        Symptom::TlsPort => d(
            "This port expects implicit TLS",
            &format!(
                "Port {port} stays silent until a TLS handshake starts: it uses implicit TLS, not plain text or STARTTLS."
            ),
            &format!(
                "This port expects TLS from the first byte; choose TLS, or port {starttls_port} with STARTTLS."
            ),
            Vec::new(),
        ),
        Symptom::TlsTimeout => d(
            "No answer to TLS",
            &format!("Port {port} accepted the connection but did not answer the TLS hello."),
            &format!(
                "Check the port: {} uses {tls_port} with TLS or {starttls_port} with STARTTLS.",
                ctx.kind
            ),
            Vec::new(),
        ),
        Symptom::NoGreeting => d(
            "No greeting",
            &format!(
                "The server accepted the connection but sent no {} greeting in time: it is overloaded, or the port belongs to another service.",
                ctx.kind
            ),
            &format!(
                "Check the port ({} uses {tls_port} with TLS or {starttls_port} with STARTTLS) and try again later.",
                ctx.kind
            ),
            Vec::new(),
        ),
        Symptom::Garbage(line) => d(
            &format!("The server does not speak {}", ctx.kind),
            &format!(
                "The server's first line is not a {} greeting: {line}",
                ctx.kind
            ),
            "Check the host and port: they belong to another service.",
            Vec::new(),
        ),
        Symptom::Closed => d(
            "Connection closed",
            "The server closed the connection before the test ended.",
            "Try again; if it repeats, the server or a firewall in between drops the connection.",
            Vec::new(),
        ),
        Symptom::StartTlsNotOffered => d(
            "STARTTLS not offered",
            &format!(
                "The server on port {port} does not offer STARTTLS, so the connection would stay unencrypted."
            ),
            &format!("Choose TLS on port {tls_port}, or check that the host and port are right."),
            Vec::new(),
        ),
        Symptom::MechanismNotOffered { mech, tls_first } => {
            if *tls_first {
                d(
                    "Sign-in needs TLS first",
                    "The server offers no sign-in on an unencrypted connection.",
                    &format!("Choose STARTTLS, or TLS on port {tls_port}."),
                    Vec::new(),
                )
            } else {
                d(
                    &format!("{mech} not offered"),
                    &format!(
                        "The server does not list {mech} among its sign-in methods: a wrong host or port, or OAuth2 is not enabled for {}.",
                        ctx.kind
                    ),
                    &format!(
                        "Check the host and port (Microsoft 365: outlook.office365.com {}, smtp.office365.com 587). For SMTP in Microsoft 365, authenticated SMTP must be on.",
                        if ctx.kind == TargetKind::Pop3 {
                            995
                        } else {
                            993
                        }
                    ),
                    if ctx.kind == TargetKind::Smtp {
                        vec![
                            "Set-TransportConfig -SmtpClientAuthenticationDisabled $false"
                                .to_owned(),
                        ]
                    } else {
                        Vec::new()
                    },
                )
            }
        }
        Symptom::ClosedAfterAuth => not_connected(ctx, true),
        Symptom::Unencrypted => d(
            "Sign-in without encryption refused",
            &format!(
                "The connection to {host} is not encrypted, so the token or password would cross the network readable by anyone in between; the test did not send it."
            ),
            &format!("Choose STARTTLS, or TLS on port {tls_port}."),
            Vec::new(),
        ),
        Symptom::Timeout => d(
            "No answer in time",
            &format!("The server stopped answering during {step}."),
            "Try again; raise probe.timeout_secs if the server is slow.",
            Vec::new(),
        ),
        Symptom::Flood { lines, bytes } => d(
            "The server flooded the connection",
            &format!(
                "During {step} the server sent {} lines ({} bytes) without ending its reply, more than any mail server's answer holds; the test stopped reading there. The port belongs to something else, or the server is broken or hostile.",
                super::thousands(*lines),
                super::thousands(*bytes)
            ),
            &format!(
                "Check the host and port ({} uses {tls_port} with TLS or {starttls_port} with STARTTLS); if the server is yours, its administrator must look at its log.",
                ctx.kind
            ),
            Vec::new(),
        ),
        Symptom::GreetingRefused(line) => d(
            "The server refuses this connection",
            &format!(
                "{host} answered the connection with a refusal instead of a greeting: {line}. It takes no session from this computer (SMTP 554: this address is blocked or the service is off; 421: the server is busy or shutting down)."
            ),
            "Check that this is the right server and port; if it is, ask its administrator whether this computer's address is allowed, or try again later.",
            Vec::new(),
        ),
        Symptom::UnsafeValue { what } => d(
            "A value would inject a command",
            &format!(
                "The {what} contains a line break or another control character: in a protocol line it would end the command and start one of its own, so the test sent nothing."
            ),
            "Correct the value in the profile: `mailcfg validate` names the field.",
            Vec::new(),
        ),
        Symptom::Other => return None,
    })
}

fn token_refused(ctx: &Context) -> Diagnosis {
    let mbx = &ctx.mailbox;
    let (what, enable) = match ctx.kind {
        TargetKind::Imap => (
            "IMAP.AccessAsApp (app-only) or IMAP.AccessAsUser.All (delegated)",
            format!("Set-CASMailbox -Identity \"{mbx}\" -ImapEnabled $true"),
        ),
        TargetKind::Pop3 => (
            "POP.AccessAsApp (app-only) or POP.AccessAsUser.All (delegated)",
            format!("Set-CASMailbox -Identity \"{mbx}\" -PopEnabled $true"),
        ),
        TargetKind::Smtp => (
            "SMTP.SendAsApp (app-only) or SMTP.Send (delegated)",
            format!("Set-CASMailbox -Identity \"{mbx}\" -SmtpClientAuthenticationDisabled $false"),
        ),
    };
    d(
        "The server refused the token",
        &format!(
            "The token is expired, or for the wrong audience (it must be for https://outlook.office365.com, not Graph), or lacks {what} with admin consent; or the sign-in name \"{mbx}\" is not the token's user; or (app-only) Exchange has no service principal for the app; or {} is disabled for the mailbox.",
            ctx.kind
        ),
        "Run `mailcfg token` and check aud, roles/scp and expiry; grant the permission and admin consent; register the app's service principal in Exchange with the Enterprise application's Object ID; enable the protocol for the mailbox.",
        vec![SP_NEW.to_owned(), enable],
    )
}

fn not_connected(ctx: &Context, closed: bool) -> Diagnosis {
    let mbx = &ctx.mailbox;
    let cause = if closed {
        format!(
            "The server accepted the sign-in and then closed the connection: the identity may not open the mailbox \"{mbx}\" (Exchange: the service principal lacks FullAccess, or the mailbox does not exist)."
        )
    } else {
        format!(
            "The token was accepted, but the mailbox \"{mbx}\" cannot be opened with it: the app's service principal lacks FullAccess to it, the service principal was created with the App registration's ID instead of the Enterprise application's Object ID, the address is wrong, or the mailbox is unlicensed or has the protocol disabled."
        )
    };
    d(
        "Authenticated but not connected to the mailbox",
        &cause,
        "Grant the app's Exchange service principal FullAccess to this mailbox (one Add-MailboxPermission per mailbox), created with the Enterprise application's Object ID; check the mailbox address.",
        vec![SP_NEW.to_owned(), full_access(mbx)],
    )
}

/// The catalogue of known replies. Matching is on lower-case text, so the exact case of a
/// server's wording does not matter.
#[allow(clippy::too_many_lines)] // the catalogue, one entry per known reply
fn reply_diagnosis(ctx: &Context, step: Step, reply: &str) -> Option<Diagnosis> {
    let r = reply.to_ascii_lowercase();
    let mbx = &ctx.mailbox;
    let has = |s: &str| r.contains(s);
    if has("user is authenticated but not connected") {
        return Some(not_connected(ctx, false));
    }
    if has("smtpclientauthentication is disabled") || has("smtp_auth_disabled") {
        let scope = if has("for the mailbox") {
            "this mailbox"
        } else {
            "the whole organisation (tenant)"
        };
        return Some(d(
            "Authenticated SMTP is turned off",
            &format!(
                "Exchange Online has SMTP AUTH (SmtpClientAuthentication) disabled for {scope}, so no sign-in to SMTP can succeed, whatever the token."
            ),
            "Turn on authenticated SMTP for the mailbox (admin center: user → Mail → Manage email apps → Authenticated SMTP), and for the tenant if it is off there.",
            vec![
                format!(
                    "Set-CASMailbox -Identity \"{mbx}\" -SmtpClientAuthenticationDisabled $false"
                ),
                "Set-TransportConfig -SmtpClientAuthenticationDisabled $false".to_owned(),
            ],
        ));
    }
    if has("security defaults") {
        return Some(d(
            "Blocked by Security Defaults",
            "The tenant's Security Defaults block this sign-in to SMTP.",
            "Replace Security Defaults with Conditional Access policies, or exclude this account.",
            Vec::new(),
        ));
    }
    if has("5.7.139") || has("535 5.7.3") || has("535 5.7.8") {
        return Some(token_refused(ctx));
    }
    if has("530 5.7.57") {
        return Some(d(
            "Not signed in before sending",
            "The server requires a sign-in before MAIL FROM (530 5.7.57 Client not authenticated): AUTH did not happen or did not succeed.",
            "Enable authentication for the transport (auth = true, XOAUTH2 through the connected account).",
            Vec::new(),
        ));
    }
    if has("4.2.0 storedrv") || has("mailbox logon failure") {
        return Some(not_connected(ctx, false));
    }
    if has("550 5.7.60") || has("send as this sender") {
        return Some(d(
            "Not allowed to send as this sender",
            &format!("The signed-in identity may not send as \"{mbx}\" (550 5.7.60)."),
            "Use the signed-in mailbox as the sender, or grant Send As on the mailbox to the app or user.",
            vec![format!(
                "Add-RecipientPermission -Identity \"{mbx}\" -Trustee <ENTERPRISE_APP_OBJECT_ID> -AccessRights SendAs"
            )],
        ));
    }
    if has("504 5.7.4") || has("unrecognized authentication type") {
        return Some(d(
            "The server does not accept this sign-in method",
            "504 5.7.4 Unrecognized authentication type: XOAUTH2 is not enabled here (authenticated SMTP off for the tenant, or another server).",
            "Turn on authenticated SMTP for the tenant and mailbox; check the host is smtp.office365.com port 587.",
            vec![
                "Set-TransportConfig -SmtpClientAuthenticationDisabled $false".to_owned(),
                format!(
                    "Set-CASMailbox -Identity \"{mbx}\" -SmtpClientAuthenticationDisabled $false"
                ),
            ],
        ));
    }
    if has("-err authentication failure") {
        let mut found = token_refused(ctx);
        found.cause.push_str(" (POP3 also refuses a one-line AUTH XOAUTH2 <string>: the string must follow the server's '+' on a line of its own, as this test does.)");
        return Some(found);
    }
    if has("authenticate failed")
        || has("[authenticationfailed]")
        || has("-err [auth]")
        || has("authentication failed")
    {
        return Some(token_refused(ctx));
    }
    if has("temporary authentication failure") || r.starts_with("454 4.7.0") {
        return Some(d(
            "The server could not check the token right now",
            "The mail server had a temporary failure checking the token (its identity provider did not answer).",
            "Try again in a few minutes; if it persists, the server's administrator must check its OAuth2 set-up.",
            Vec::new(),
        ));
    }
    if has("[serverbug]") || has("internal error occurred") {
        return Some(if matches!(step, Step::Mailbox) {
            not_connected(ctx, false)
        } else {
            d(
                "Server error",
                "The server reported an internal error.",
                "Try again; if it repeats, the server's administrator must check its log.",
                Vec::new(),
            )
        });
    }
    if has("plaintext authentication")
        || has("[privacyrequired]")
        || has("523 5.7.10")
        || has("must issue a starttls")
        || has("530 5.7.0")
    {
        return Some(d(
            "Sign-in needs TLS first",
            "The server refuses sign-in on an unencrypted connection.",
            &format!("Choose STARTTLS, or TLS on port {}.", ports(ctx.kind).0),
            Vec::new(),
        ));
    }
    if has("login failed") {
        return Some(d(
            "Password sign-in refused",
            "The server refused LOGIN with a password (Microsoft 365 no longer accepts passwords for IMAP and POP3).",
            "Use OAuth2: connect the mailbox to a connected account so that the test signs in with XOAUTH2.",
            Vec::new(),
        ));
    }
    None
}

/// Google's (and Dovecot's) XOAUTH2 error challenge: `{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}`.
fn challenge_diagnosis(json: &str) -> Option<Diagnosis> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let status = v.get("status").and_then(|s| s.as_str()).unwrap_or("");
    let scope = v.get("scope").and_then(|s| s.as_str()).unwrap_or("");
    let cause = match status {
        "400" => format!(
            "The server refused the token (status 400): it is malformed or was issued for another user than the sign-in name. It wants a token with the scope \"{scope}\"."
        ),
        "401" | "invalid_token" => format!(
            "The server refused the token (status {status}): it is expired, revoked, issued for another user than the sign-in name, or not valid for this server{}.",
            if scope.is_empty() {
                String::new()
            } else {
                format!(" (scope needed: \"{scope}\")")
            }
        ),
        "403" | "insufficient_scope" => format!("The token lacks the needed scope \"{scope}\"."),
        _ => format!("The server refused the token and said: {json}"),
    };
    Some(d(
        "The server refused the token",
        &cause,
        "Get a new token with the right scope (Google: https://mail.google.com/) for the same user as the sign-in name, and try again.",
        Vec::new(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(kind: TargetKind) -> Context {
        Context {
            kind,
            host: "outlook.office365.com".into(),
            port: 993,
            encryption: Encryption::Tls,
            mailbox: "mailbox@example.test".into(),
        }
    }

    fn reply(kind: TargetKind, step: Step, line: &str) -> Diagnosis {
        diagnose(&ctx(kind), step, &Symptom::Reply(line.into()))
            .unwrap_or_else(|| panic!("no diagnosis for {line}"))
    }

    #[test]
    fn imap_authenticate_failed_names_audience_and_service_principal() {
        let d = reply(
            TargetKind::Imap,
            Step::Authenticate,
            "A01 NO AUTHENTICATE failed.",
        );
        assert_eq!(d.title, "The server refused the token");
        assert!(d.cause.contains("audience"));
        assert!(
            d.commands
                .iter()
                .any(|c| c.starts_with("New-ServicePrincipal"))
        );
        assert!(d.commands.iter().any(|c| c.contains("-ImapEnabled $true")));
    }

    #[test]
    fn authenticated_but_not_connected_gives_full_access() {
        let d = reply(
            TargetKind::Imap,
            Step::Mailbox,
            "A2 BAD User is authenticated but not connected.",
        );
        assert_eq!(d.title, "Authenticated but not connected to the mailbox");
        assert!(d.commands.contains(&"Add-MailboxPermission -Identity \"mailbox@example.test\" -User <ENTERPRISE_APP_OBJECT_ID> -AccessRights FullAccess".to_owned()));
        assert!(
            d.commands
                .iter()
                .any(|c| c.starts_with("New-ServicePrincipal"))
        );
    }

    #[test]
    fn smtp_auth_disabled_tenant_and_mailbox() {
        let d = reply(
            TargetKind::Smtp,
            Step::Authenticate,
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information.",
        );
        assert_eq!(d.title, "Authenticated SMTP is turned off");
        assert!(d.cause.contains("tenant"));
        assert!(d.commands.contains(&"Set-CASMailbox -Identity \"mailbox@example.test\" -SmtpClientAuthenticationDisabled $false".to_owned()));
        assert!(
            d.commands.contains(
                &"Set-TransportConfig -SmtpClientAuthenticationDisabled $false".to_owned()
            )
        );
        let d = reply(
            TargetKind::Smtp,
            Step::Authenticate,
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_disabled for more information.",
        );
        assert!(d.cause.contains("this mailbox"));
    }

    #[test]
    fn smtp_catalogue() {
        let t = |l: &str| reply(TargetKind::Smtp, Step::Authenticate, l).title;
        assert_eq!(
            t(
                "535 5.7.139 Authentication unsuccessful, user is locked by your organization's security defaults policy."
            ),
            "Blocked by Security Defaults"
        );
        assert_eq!(
            t("535 5.7.139 Authentication unsuccessful, the user credentials were incorrect."),
            "The server refused the token"
        );
        assert_eq!(
            t("535 5.7.3 Authentication unsuccessful"),
            "The server refused the token"
        );
        assert_eq!(
            t(
                "530 5.7.57 Client not authenticated to send mail. [SN4PR0601CA0002.namprd06.prod.outlook.com]"
            ),
            "Not signed in before sending"
        );
        assert_eq!(
            reply(
                TargetKind::Smtp,
                Step::Send,
                "430 4.2.0 STOREDRV; mailbox logon failure"
            )
            .title,
            "Authenticated but not connected to the mailbox"
        );
        let d = reply(
            TargetKind::Smtp,
            Step::Send,
            "550 5.7.60 SMTP; Client does not have permissions to send as this sender",
        );
        assert!(d.commands[0].starts_with("Add-RecipientPermission"));
        let d = reply(
            TargetKind::Smtp,
            Step::Authenticate,
            "504 5.7.4 Unrecognized authentication type",
        );
        assert!(
            d.commands
                .iter()
                .any(|c| c.starts_with("Set-TransportConfig"))
        );
    }

    #[test]
    fn pop3_authentication_failure_mentions_two_steps() {
        let d = reply(
            TargetKind::Pop3,
            Step::Authenticate,
            "-ERR Authentication failure: unknown user name or bad password.",
        );
        assert_eq!(d.title, "The server refused the token");
        assert!(d.cause.contains("line of its own"));
        assert!(d.commands.iter().any(|c| c.contains("-PopEnabled $true")));
    }

    #[test]
    fn dovecot_replies() {
        assert_eq!(
            reply(
                TargetKind::Imap,
                Step::Authenticate,
                "A1 NO [AUTHENTICATIONFAILED] Authentication failed."
            )
            .title,
            "The server refused the token"
        );
        assert_eq!(
            reply(
                TargetKind::Pop3,
                Step::Authenticate,
                "-ERR [AUTH] Authentication failed."
            )
            .title,
            "The server refused the token"
        );
        assert_eq!(
            reply(
                TargetKind::Smtp,
                Step::Authenticate,
                "535 5.7.8 Authentication failed."
            )
            .title,
            "The server refused the token"
        );
        assert_eq!(
            reply(
                TargetKind::Imap,
                Step::Authenticate,
                "A1 NO [UNAVAILABLE] Temporary authentication failure. [host:2026-11-24 10:08:46]"
            )
            .title,
            "The server could not check the token right now"
        );
        assert_eq!(reply(TargetKind::Imap, Step::Mailbox, "A3 NO [SERVERBUG] Internal error occurred. Refer to server log for more information. [2026-11-24 10:20:28]").title, "Authenticated but not connected to the mailbox");
        assert_eq!(
            reply(
                TargetKind::Smtp,
                Step::Authenticate,
                "523 5.7.10 Plaintext authentication disabled."
            )
            .title,
            "Sign-in needs TLS first"
        );
        assert_eq!(
            reply(TargetKind::Imap, Step::Authenticate, "A1 NO LOGIN failed.").title,
            "Password sign-in refused"
        );
    }

    #[test]
    fn gmail_challenge_is_explained() {
        let d = diagnose(
            &ctx(TargetKind::Imap),
            Step::Authenticate,
            &Symptom::AuthRefused {
                reply: "A1 NO Invalid credentials (Failure)".into(),
                challenge: Some(
                    r#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#
                        .into(),
                ),
            },
        )
        .unwrap();
        assert!(d.cause.contains("status 400"));
        assert!(d.cause.contains("https://mail.google.com/"));
    }

    #[test]
    fn network_and_port_mix_ups() {
        let c = ctx(TargetKind::Imap);
        let fix = |s: Symptom| diagnose(&c, Step::Tls, &s).unwrap().fix;
        assert_eq!(
            fix(Symptom::PlainPort),
            "This port expects STARTTLS; choose STARTTLS, or port 993 with TLS."
        );
        assert!(fix(Symptom::TlsPort).contains("port 143 with STARTTLS"));
        assert!(
            diagnose(&c, Step::Dns, &Symptom::DnsFailed)
                .unwrap()
                .title
                .contains("resolve")
        );
        assert_eq!(
            diagnose(&c, Step::Connect, &Symptom::Refused)
                .unwrap()
                .title,
            "Connection refused"
        );
        assert_eq!(
            diagnose(&c, Step::Tls, &Symptom::TlsUntrusted)
                .unwrap()
                .title,
            "Certificate not trusted"
        );
        assert_eq!(
            diagnose(
                &c,
                Step::Capabilities,
                &Symptom::MechanismNotOffered {
                    mech: "XOAUTH2".into(),
                    tls_first: false
                }
            )
            .unwrap()
            .title,
            "XOAUTH2 not offered"
        );
        assert!(diagnose(&c, Step::StartTls, &Symptom::StartTlsNotOffered).is_some());
    }

    #[test]
    fn unknown_reply_has_no_diagnosis() {
        assert!(
            diagnose(
                &ctx(TargetKind::Imap),
                Step::Mailbox,
                &Symptom::Reply("A2 NO something new".into())
            )
            .is_none()
        );
    }
}
