//! The identity provider's refusals in plain words: its `error`, `error_description` (with
//! Entra's `AADSTSnnnn` code), `error_codes` and `error_uri` mapped to a cause and a fix, from the
//! catalogue in `shared/facts.md`. Hand-written: no crate knows these codes.

// AADSTS codes are searched for as Microsoft writes them, without separators.
#![allow(clippy::unreadable_literal)]

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::profile::{Flow, Provider};

/// An OAuth2 error reply, with Microsoft's extra fields where present.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdpError {
    pub error: String,
    #[serde(
        default,
        rename = "error_description",
        skip_serializing_if = "Option::is_none"
    )]
    pub description: Option<String>,
    #[serde(default, rename = "error_codes", skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<u32>,
    #[serde(default, rename = "error_uri", skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correlation_id: Option<String>,
}

impl IdpError {
    /// Reads a token endpoint's JSON error body; `None` when it is not one (no `error` field).
    pub fn from_json(body: &[u8]) -> Option<Self> {
        let e: Self = serde_json::from_slice(body).ok()?;
        (!e.error.is_empty()).then_some(e)
    }

    /// The error a browser redirect carried (`?error=…&error_description=…&error_uri=…`).
    pub fn from_redirect(error: &str, description: Option<&str>, uri: Option<&str>) -> Self {
        Self {
            error: error.to_owned(),
            description: description.map(str::to_owned),
            uri: uri.map(str::to_owned),
            ..Self::default()
        }
    }

    /// Entra's code: the first of `error_codes`, else the `AADSTSnnnn` in the description.
    pub fn aadsts(&self) -> Option<u32> {
        self.codes.first().copied().or_else(|| {
            let d = self.description.as_deref()?;
            let at = d.find("AADSTS")? + "AADSTS".len();
            let digits: String = d[at..].chars().take_while(char::is_ascii_digit).collect();
            digits.parse().ok()
        })
    }
}

/// What is known about the sign-in that failed, to name values in the fix.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub tenant: Option<&'a str>,
    pub client_id: &'a str,
    pub flow: Flow,
    pub provider: Provider,
    /// The client secret sent begins or ends with a space or line break (copied with the line).
    pub secret_has_blanks: bool,
    /// The scopes asked for.
    pub scopes: &'a [String],
    /// Google service accounts: who signs (`client_email`), with which key, for which user.
    pub client_email: Option<&'a str>,
    pub key_id: Option<&'a str>,
    pub user: Option<&'a str>,
    /// How many seconds this computer's clock is ahead of the identity provider's (its HTTP
    /// `Date`), when its answer said.
    pub clock_skew: Option<i64>,
}

impl<'a> Context<'a> {
    /// What an account says about itself; the sign-in adds the rest.
    pub fn of(account: &'a crate::profile::Account) -> Self {
        Self {
            tenant: account.tenant.as_deref(),
            client_id: &account.client_id,
            flow: account.flow,
            provider: account.provider,
            secret_has_blanks: false,
            scopes: &account.scopes,
            client_email: account.client_email.as_deref(),
            key_id: account.private_key_id.as_deref(),
            user: None,
            clock_skew: None,
        }
    }
}

/// A refusal explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// One line: what went wrong.
    pub title: String,
    pub cause: String,
    pub fix: String,
    /// True when the fault is mailcfg's own (a code used twice, a PKCE mismatch), not the setup.
    pub ours: bool,
    /// The provider's reference address for the error, if it gave one.
    pub uri: Option<String>,
    /// `AADSTS7000215`, or the OAuth2 `error` where there is no Entra code.
    pub code: String,
    /// What the provider said, first line, for the record and for searching.
    pub server_said: String,
    pub trace_id: Option<String>,
    pub correlation_id: Option<String>,
    /// What Google's catalogue recognised (the diagnosis names its own kind for it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case: Option<crate::provider::google::Case>,
}

impl fmt::Display for Explanation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "sign-in refused: {} ({})", self.title, self.code)?;
        writeln!(f, "    cause: {}", self.cause)?;
        write!(f, "    fix: {}", self.fix)?;
        if !self.server_said.is_empty() {
            write!(f, "\n    the identity provider said: {}", self.server_said)?;
        }
        if let Some(t) = &self.trace_id {
            write!(f, "\n    trace ID {t}")?;
            if let Some(c) = &self.correlation_id {
                write!(f, ", correlation ID {c}")?;
            }
        }
        Ok(())
    }
}

/// One catalogue entry: the Entra codes it covers, then title, cause and fix. `{tenant}` and
/// `{client_id}` in the texts are filled from the [`Context`].
struct Entry {
    codes: &'static [u32],
    title: &'static str,
    cause: &'static str,
    fix: &'static str,
    ours: bool,
}

const fn e(
    codes: &'static [u32],
    title: &'static str,
    cause: &'static str,
    fix: &'static str,
) -> Entry {
    Entry {
        codes,
        title,
        cause,
        fix,
        ours: false,
    }
}

const ENTRA: &[Entry] = &[
    e(
        &[7000215],
        "the client secret is wrong",
        "the secret sent is not the secret's Value: the secret ID was probably pasted instead (both are shown side by side in the portal), or it has a typo",
        "in Entra ID → App registrations → your app → Certificates & secrets, create a new client secret and copy its Value (shown only once), then paste it into the account",
    ),
    e(
        &[7000222],
        "the client secret has expired",
        "client secrets live at most 24 months, and this one is past its expiry date",
        "create a new client secret in Entra ID → App registrations → your app → Certificates & secrets, enter its Value in the account, and note the new expiry date",
    ),
    e(
        &[7000218],
        "a client secret is required but none was sent",
        "the app is registered as a confidential (Web) app, or \"Allow public client flows\" is off, so the identity provider wants a secret for this flow",
        "enter the app's client secret in the account; or, for a public sign-in without a secret, register the redirect under \"Mobile and desktop applications\" and set \"Allow public client flows\" to Yes (Authentication page)",
    ),
    e(
        &[700025],
        "a secret was sent for a public client",
        "the app is registered as a public client, which must not send a client secret",
        "remove the client secret from the account (or register the app as a Web app if it should be confidential)",
    ),
    e(
        &[700011],
        "the app has no enterprise application in this tenant",
        "tenant {tenant} has no service principal (enterprise application) for the app {client_id}, or it was deleted: the app was never consented there",
        "grant admin consent for the app in this tenant (Entra ID → App registrations → the app → API permissions → \"Grant admin consent\"), which creates its enterprise application; check that the client ID is the app's Application (client) ID",
    ),
    e(
        &[700016],
        "the application was not found in this tenant",
        "no app with client ID {client_id} exists in tenant {tenant}: the client ID is mistyped (an e-mail address or the object ID instead of the Application (client) ID), the tenant is the wrong one, or the app was never consented in this tenant",
        "copy the Application (client) ID from Entra ID → App registrations → your app → Overview, and the Directory (tenant) ID from the same page",
    ),
    e(
        &[90002],
        "the tenant was not found",
        "tenant \"{tenant}\" does not exist here: a typo in the tenant ID or domain, or the tenant lives in another cloud",
        "copy the Directory (tenant) ID from Entra ID → Overview (or use the tenant's verified domain); for a national cloud set the account's authority (e.g. https://login.microsoftonline.us)",
    ),
    e(
        &[90038],
        "the tenant lives in another cloud",
        "tenant \"{tenant}\" belongs to a national cloud, not to the one this account's authority points at",
        "set the account's authority to that cloud's sign-in address (e.g. https://login.partner.microsoftonline.cn or https://login.microsoftonline.us)",
    ),
    e(
        &[1002012, 70011, 700022],
        "the requested scope is not valid",
        "the scope is malformed or mixes resources (Microsoft Graph with Outlook); app-only sign-in takes exactly one `.default` scope",
        "app-only: use only https://outlook.office365.com/.default; delegated: https://outlook.office.com/IMAP.AccessAsUser.All, …/POP.AccessAsUser.All, …/SMTP.Send and offline_access",
    ),
    e(
        &[65001],
        "consent has not been given",
        "neither the user nor an administrator has consented to the permissions this app asks for",
        "an administrator grants consent in Entra ID → App registrations → your app → API permissions → \"Grant admin consent\", or opens https://login.microsoftonline.com/{tenant}/adminconsent?client_id={client_id}",
    ),
    e(
        &[90094, 90095],
        "administrator approval is required",
        "the tenant does not let users consent to apps themselves",
        "an administrator grants consent in Entra ID → Enterprise applications → the app → Permissions → \"Grant admin consent\"",
    ),
    e(
        &[500011],
        "Exchange Online is not in this tenant",
        "the resource in the scope (Office 365 Exchange Online) has no service principal in the tenant: the tenant has no Exchange Online licence, or the scope's host is wrong",
        "check that the scope's host is outlook.office365.com (app-only) or outlook.office.com (delegated), and that the tenant has Exchange Online",
    ),
    e(
        &[700082, 70043, 50173, 50089, 70008],
        "the saved sign-in has expired",
        "the refresh token expired (unused for about 90 days, a password reset, or a Conditional Access sign-in frequency rule)",
        "sign in again; mailcfg keeps the new refresh token in the keyring",
    ),
    e(
        &[50076, 50079],
        "multi-factor authentication is required",
        "a Conditional Access policy or Security Defaults require MFA (or MFA registration) for this user",
        "sign in again interactively in the browser and complete MFA; an admin can also exclude this app or user from the policy",
    ),
    e(
        &[53003, 530035],
        "blocked by a sign-in policy",
        "Conditional Access (or Security Defaults) blocked this sign-in",
        "ask an administrator to check Entra ID → Sign-in logs for this attempt and adjust the policy, or exclude this app",
    ),
    e(
        &[50011, 900971, 500113],
        "the redirect address does not match the app registration",
        "the redirect URI mailcfg sent is not registered for this app (scheme http/https, path or trailing slash differ)",
        "in Entra ID → App registrations → your app → Authentication, add the platform \"Mobile and desktop applications\" with the redirect URI http://localhost (any port matches), or set the account's redirect_uri to the URI registered",
    ),
    e(
        &[500119],
        "urn: redirect addresses are not allowed",
        "the legacy out-of-band redirect urn:ietf:wg:oauth:2.0:oob is prohibited",
        "register http://localhost as the redirect URI and clear the account's redirect_uri",
    ),
    e(
        &[50194],
        "the app is single-tenant but /common was used",
        "a single-tenant app must sign in at its own tenant's address",
        "set the account's tenant to the Directory (tenant) ID or domain instead of common",
    ),
    e(
        &[9001023],
        "client credentials cannot use /common or /consumers",
        "app-only sign-in needs the tenant's own token address",
        "set the account's tenant to the Directory (tenant) ID or a verified domain (not common, organizations or consumers)",
    ),
    e(
        &[50020, 500208],
        "this kind of account cannot sign in to this app",
        "a personal Microsoft account was used with a work-only app, or the reverse",
        "sign in with an account of the type the app supports, or change \"Supported account types\" in the app registration",
    ),
    e(
        &[7000112],
        "the application is disabled",
        "the app's enterprise application (service principal) is disabled in this tenant, by your administrators or by its publisher (an app that is not yours, such as an old mail client's client ID, cannot be enabled again)",
        "for your own app, enable it in Entra ID → Enterprise applications → the app → Properties → \"Enabled for users to sign in\"; for someone else's client ID, register an app of your own and use its client ID",
    ),
    e(
        &[7000229],
        "the app has no service principal in this tenant",
        "the app {client_id} is registered, but tenant {tenant} has no enterprise application (service principal) for it, and since 2026 Entra refuses tokens to such apps",
        "grant admin consent for the app (Entra ID → App registrations → the app → API permissions → \"Grant admin consent\"), which creates its service principal; or create it with `New-MgServicePrincipal -AppId {client_id}`",
    ),
    e(
        &[70016],
        "waiting for the user to enter the code",
        "the device-code sign-in has not been completed yet",
        "enter the code at the address shown; mailcfg keeps asking until it expires",
    ),
    e(
        &[70018],
        "the code entered was wrong",
        "the code typed on the sign-in page does not match the one mailcfg showed (a typo, or an older code)",
        "start the sign-in again and type the code mailcfg shows now",
    ),
    e(
        &[70019, 70020],
        "the device code expired",
        "nobody completed the device-code sign-in in time",
        "start the sign-in again and enter the new code promptly",
    ),
    e(
        &[70000],
        "the authorization grant is invalid",
        "the code or token sent is invalid, expired or revoked",
        "sign in again",
    ),
    Entry {
        codes: &[54005, 70002],
        title: "the sign-in code was used twice",
        cause: "the authorization code was already redeemed (this is mailcfg's fault, not your setup's)",
        fix: "sign in again; please report this to mailcfg",
        ours: true,
    },
    Entry {
        codes: &[501481, 500112],
        title: "the PKCE proof did not match",
        cause: "the code verifier sent does not match the challenge of this sign-in (this is mailcfg's fault, not your setup's)",
        fix: "sign in again; please report this to mailcfg",
        ours: true,
    },
];

/// Plain OAuth2 errors (RFC 6749, RFC 8628), for Google, generic providers, and Entra replies
/// whose code is not in the catalogue.
fn by_error(error: &str, cx: &Context<'_>) -> (&'static str, &'static str, String) {
    let secret_fix = if cx.flow == Flow::AppOnly {
        "check the account's client ID and client secret (a new secret's Value, not its ID)"
    } else {
        "check the account's client ID, and its client secret if the app has one"
    };
    match error {
        "invalid_client" => ("the client was not accepted", "the client ID or the client secret is wrong, or the app is disabled", secret_fix.into()),
        "unauthorized_client" => (
            "this app may not use this sign-in flow",
            "the app registration does not allow this grant type",
            "enable the flow for the app (for device code or public clients: \"Allow public client flows\")".into(),
        ),
        "invalid_grant" => (
            "the saved sign-in is no longer valid",
            "the code or refresh token was expired, revoked, or issued to another app",
            "sign in again".into(),
        ),
        "invalid_scope" => (
            "the requested scope is not valid",
            "the provider does not know one of the scopes, or does not allow it for this app",
            if cx.provider == Provider::Google {
                "use the scope https://mail.google.com/ and add it to the app's OAuth consent screen".into()
            } else {
                "check the account's scopes against what the provider documents".into()
            },
        ),
        "access_denied" => ("sign-in was declined", "the user or an administrator declined the request", "sign in again and accept, or ask an administrator to grant consent".into()),
        "consent_required" | "interaction_required" | "login_required" => (
            "the user must sign in interactively",
            "the provider needs the user to sign in or consent in the browser",
            "use the delegated (browser) sign-in".into(),
        ),
        "expired_token" => ("the device code expired", "nobody completed the device-code sign-in in time", "start the sign-in again".into()),
        "unsupported_grant_type" => (
            "the provider does not support this flow",
            "the token endpoint refused the grant type",
            "choose another flow for the account, or check the token address".into(),
        ),
        "temporarily_unavailable" | "server_error" => (
            "the identity provider had a problem",
            "the identity provider failed on its side",
            "try again in a minute".into(),
        ),
        _ => ("the identity provider refused the sign-in", "the provider gave a reason mailcfg does not know (shown below)", "read the provider's message below; its code can be searched".into()),
    }
}

/// The cause and fix for an identity provider's refusal.
pub fn explain(err: &IdpError, cx: &Context<'_>) -> Explanation {
    let skew = cx
        .clock_skew
        .filter(|s| s.abs() >= 60)
        .map_or_else(String::new, |s| {
            format!(
                ": by the time in its answer (HTTP Date), this computer's clock is {} {} Google's",
                crate::oauth::claims::span(s.unsigned_abs()),
                if s > 0 { "ahead of" } else { "behind" }
            )
        });
    let scope = if cx.scopes.is_empty() {
        crate::provider::google::MAIL_SCOPE.to_owned()
    } else {
        cx.scopes.join(" ")
    };
    let fill = |s: &str| {
        s.replace("{tenant}", cx.tenant.unwrap_or("organizations"))
            .replace("{client_id}", cx.client_id)
            .replace(
                "{client_email}",
                cx.client_email.unwrap_or("the service account"),
            )
            .replace("{key_id}", cx.key_id.unwrap_or("(unnamed)"))
            .replace("{user}", cx.user.unwrap_or("the mailbox user"))
            .replace("{scope}", &scope)
            .replace("{skew}", &skew)
    };
    // The provider's words may quote the request (the client secret, URL-encoded) or a token:
    // masked, escaped and shortened before they are kept.
    let said = |s: &str| crate::redact::shorten(&crate::redact::mask(s), 400);
    let server_said = {
        let d = err.description.as_deref().unwrap_or_default();
        let first = d.lines().next().unwrap_or_default().trim();
        if first.is_empty() {
            said(&err.error)
        } else {
            said(&format!("{}: {first}", err.error))
        }
    };
    let code = err.aadsts();
    let entry = code.and_then(|c| ENTRA.iter().find(|e| e.codes.contains(&c)));
    let google = (cx.provider == Provider::Google)
        .then(|| {
            crate::provider::google::explain(
                &err.error,
                err.description.as_deref().unwrap_or_default(),
                cx.flow == Flow::AppOnly,
            )
        })
        .flatten();
    let (title, mut cause, fix, ours) = if let Some(r) = google {
        (r.title.to_owned(), fill(r.cause), fill(r.fix), false)
    } else if let Some(e) = entry {
        (e.title.to_owned(), fill(e.cause), fill(e.fix), e.ours)
    } else {
        let (t, c, f) = by_error(&err.error, cx);
        (t.to_owned(), c.to_owned(), f, false)
    };
    let secret_refused = code == Some(7000215) || (code.is_none() && err.error == "invalid_client");
    if secret_refused && cx.secret_has_blanks {
        // Not a pasted secret ID: the value itself carries a space or line break at an end.
        "the secret sent begins or ends with a space or a line break (copied or piped in with the end of the line): the identity provider compares it character by character".clone_into(&mut cause);
    }
    Explanation {
        title,
        cause,
        fix,
        ours,
        uri: err.uri.as_deref().map(said),
        code: code.map_or_else(|| said(&err.error), |c| format!("AADSTS{c}")),
        server_said,
        trace_id: err.trace_id.as_deref().map(said),
        correlation_id: err.correlation_id.as_deref().map(said),
        case: google.and_then(|r| r.case),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CX: Context<'static> = Context {
        tenant: Some("contoso.example"),
        client_id: "11111111-2222-3333-4444-555555555555",
        flow: Flow::AppOnly,
        provider: Provider::Microsoft,
        secret_has_blanks: false,
        scopes: &[],
        client_email: None,
        key_id: None,
        user: None,
        clock_skew: None,
    };

    #[test]
    fn microsoft_json_with_codes_is_explained() {
        let body = br#"{"error":"invalid_client","error_description":"AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.\r\nTrace ID: t","error_codes":[7000215],"timestamp":"x","trace_id":"t-1","correlation_id":"c-1","error_uri":"https://login.microsoftonline.com/error?code=7000215"}"#;
        let e = IdpError::from_json(body).unwrap();
        let x = explain(&e, &CX);
        assert_eq!(x.code, "AADSTS7000215");
        assert!(x.cause.contains("secret ID"), "{x}");
        assert!(x.fix.contains("Value"));
        let shown = x.to_string();
        assert!(
            shown.contains("trace ID t-1, correlation ID c-1"),
            "{shown}"
        );
        assert!(
            !shown.contains("\r\nTrace"),
            "only the first line of the description: {shown}"
        );
    }

    #[test]
    fn the_code_is_read_from_the_description_of_a_redirect() {
        let e = IdpError::from_redirect(
            "invalid_request",
            Some("AADSTS50011: The redirect URI 'http://localhost:1' specified…"),
            None,
        );
        assert_eq!(e.aadsts(), Some(50011));
        let x = explain(&e, &CX);
        assert!(x.fix.contains("Mobile and desktop applications"));
    }

    #[test]
    fn context_fills_the_fix_and_every_issue_code_is_known() {
        let x = explain(
            &IdpError {
                error: "invalid_grant".into(),
                codes: vec![65001],
                ..IdpError::default()
            },
            &CX,
        );
        assert!(
            x.fix
                .contains("contoso.example/adminconsent?client_id=11111111-2222"),
            "{}",
            x.fix
        );
        for code in [
            7000215, 700016, 90002, 1002012, 70011, 7000218, 65001, 500011, 700082, 50076, 50079,
            50011, 7000222, 9001023, 54005, 501481, 500112, 700011, 7000112, 7000229, 70016, 70018,
            70019,
        ] {
            assert!(
                ENTRA.iter().any(|e| e.codes.contains(&code)),
                "AADSTS{code} is not in the catalogue"
            );
        }
        // Apps without a service principal (blocked since 2026): consent creates it.
        let x = explain(
            &IdpError {
                error: "invalid_client".into(),
                codes: vec![7000229],
                ..IdpError::default()
            },
            &CX,
        );
        assert!(
            x.fix.contains("Grant admin consent") && x.fix.contains("New-MgServicePrincipal"),
            "{}",
            x.fix
        );
        assert!(
            explain(
                &IdpError {
                    error: "x".into(),
                    codes: vec![54005],
                    ..IdpError::default()
                },
                &CX
            )
            .ours
        );
    }

    #[test]
    fn a_secret_with_a_line_break_is_named_as_such_and_echoes_are_masked() {
        let e = IdpError {
            error: "invalid_client".into(),
            description: Some("AADSTS7000215: Invalid client secret provided. Got client_secret=Lab8Q%7Eexplain-test-secret-value-123 and eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.sig".into()),
            codes: vec![7000215],
            ..IdpError::default()
        };
        crate::redact::register(
            "Lab8Q~explain-test-secret-value-123",
            "<client secret: masked>",
        );
        let cx = Context {
            secret_has_blanks: true,
            ..CX
        };
        let x = explain(&e, &cx);
        assert!(x.cause.contains("line break"), "{}", x.cause);
        assert!(!x.cause.contains("secret ID"), "{}", x.cause);
        assert!(!x.server_said.contains("Lab8Q"), "{}", x.server_said);
        assert!(
            x.server_said.contains("<client secret: masked>"),
            "{}",
            x.server_said
        );
        assert!(x.server_said.contains("<JWT: masked>"), "{}", x.server_said);
        assert!(explain(&e, &CX).cause.contains("secret ID"));
    }

    #[test]
    fn google_refusals_name_the_console_the_client_id_the_scope_and_the_clock() {
        let scopes = ["https://mail.google.com/".to_owned()];
        let cx = Context {
            tenant: None,
            client_id: "112233445566778899001",
            flow: Flow::AppOnly,
            provider: Provider::Google,
            scopes: &scopes,
            client_email: Some("sync@p.iam.gserviceaccount.com"),
            key_id: Some("k1"),
            user: Some("alice@example.com"),
            clock_skew: Some(601),
            ..CX
        };
        let dwd = explain(
            &IdpError::from_redirect(
                "unauthorized_client",
                Some(
                    "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
                ),
                None,
            ),
            &cx,
        );
        assert_eq!(dwd.code, "unauthorized_client");
        assert_eq!(
            dwd.case,
            Some(crate::provider::google::Case::DelegationNotGranted)
        );
        assert!(
            dwd.fix.contains(
                "Security → Access and data control → API controls → Domain-wide delegation"
            ) && dwd.fix.contains("Client ID 112233445566778899001")
                && dwd.fix.contains("the OAuth scope https://mail.google.com/"),
            "{}",
            dwd.fix
        );
        let clock = explain(
            &IdpError::from_redirect(
                "invalid_grant",
                Some(
                    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.",
                ),
                None,
            ),
            &cx,
        );
        assert!(
            clock
                .cause
                .contains("this computer's clock is 10 min ahead of Google's"),
            "{}",
            clock.cause
        );
        let user = explain(
            &IdpError::from_redirect("invalid_grant", Some("Invalid email or User ID"), None),
            &cx,
        );
        assert!(user.cause.contains("alice@example.com"), "{}", user.cause);
        // The same words from a delegated sign-in are a refresh token gone bad.
        let delegated = Context {
            flow: Flow::Delegated,
            ..cx
        };
        let gone = explain(
            &IdpError::from_redirect(
                "invalid_grant",
                Some("Token has been expired or revoked."),
                None,
            ),
            &delegated,
        );
        assert!(gone.cause.contains("7 days"), "{}", gone.cause);
        assert_eq!(gone.case, None);
    }

    #[test]
    fn plain_oauth_errors_and_unknown_ones() {
        let x = explain(&IdpError::from_redirect("access_denied", None, None), &CX);
        assert_eq!(x.code, "access_denied");
        assert_eq!(x.title, "sign-in was declined");
        let y = explain(
            &IdpError::from_redirect("weird", Some("AADSTS99999999: new thing"), None),
            &CX,
        );
        assert_eq!(y.code, "AADSTS99999999");
        assert!(y.server_said.contains("new thing"));
        assert!(IdpError::from_json(b"{\"access_token\":\"x\"}").is_none());
        assert!(IdpError::from_json(b"<html>").is_none());
    }
}
