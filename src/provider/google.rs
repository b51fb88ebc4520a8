//! Google: Gmail and Google Workspace. The endpoints of the installed-app flow, the one mail
//! scope, the server presets, where things are in Google Cloud and the Admin console, and the
//! token endpoint's refusals with their cause and fix (facts from Google's OAuth2 and XOAUTH2
//! documentation and the trackers of mail clients; docs/google.md tells the set-up).

use serde::Serialize;

use crate::profile::Encryption;
use crate::profile::presets::Server;

pub const AUTHORIZE_URL: &str = "https://accounts.google.com/o/oauth2/v2/auth";
pub const TOKEN_URL: &str = "https://oauth2.googleapis.com/token";
pub const DEVICE_URL: &str = "https://oauth2.googleapis.com/device/code";
/// The issuer Thunderbird's autoconfig names for Google sign-ins.
pub const ISSUER: &str = "accounts.google.com";
/// IMAP, POP3 and SMTP accept tokens with this scope, delegated or through a service account.
pub const MAIL_SCOPE: &str = "https://mail.google.com/";
/// The grant type of a service account's signed JWT (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
/// Google refuses a JWT whose `exp` is more than an hour after its `iat`.
pub const MAX_JWT_LIFETIME_SECS: u64 = 3600;

pub const SMTP: Server = Server {
    label: "Gmail SMTP",
    host: "smtp.gmail.com",
    port: 587,
    encryption: Encryption::StartTls,
};
pub const IMAP: Server = Server {
    label: "Gmail IMAP",
    host: "imap.gmail.com",
    port: 993,
    encryption: Encryption::Tls,
};
pub const POP3: Server = Server {
    label: "Gmail POP3",
    host: "pop.gmail.com",
    port: 995,
    encryption: Encryption::Tls,
};

/// Where the set-up happens, as the consoles name it.
pub const CREDENTIALS_PAGE: &str = "Google Cloud console → APIs & Services → Credentials";
pub const SERVICE_ACCOUNTS_PAGE: &str = "Google Cloud console → IAM & Admin → Service accounts";
pub const CONSENT_PAGE: &str = "Google Cloud console → Google Auth Platform (OAuth consent screen): Branding, Audience, Data access";
pub const DELEGATION_PAGE: &str = "Admin console (admin.google.com) → Security → Access and data control → API controls → Domain-wide delegation";
pub const APP_ACCESS_PAGE: &str = "Admin console → Security → Access and data control → API controls → App access control → Manage Third-Party App Access";
pub const IMAP_ACCESS_PAGE: &str = "Admin console → Apps → Google Workspace → Gmail → End User Access → POP and IMAP access (a personal Gmail account: Gmail → Settings → Forwarding and POP/IMAP)";

/// What the catalogue recognised in a refusal, for the diagnosis to name its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Case {
    /// The JWT's `iat`/`exp` are outside Google's clock: this computer's clock is off.
    ClockSkew,
    /// The key that signed the JWT is unknown to Google (deleted, disabled, another account's).
    KeyRefused,
    /// The JWT's `sub` is not a user of the Workspace domain.
    NotADomainUser,
    /// Domain-wide delegation is not granted for the client ID and scope.
    DelegationNotGranted,
    /// The consent screen (audience, test users, publishing) or an admin's app policy.
    ConsentScreen,
    /// The OAuth client itself (wrong, deleted, disabled, not a Desktop app).
    Client,
    /// The scope the account asks for.
    Scope,
}

/// Who signs in, for the rows that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Any,
    ServiceAccount,
    User,
}

/// One row: Google's `error`, optionally a phrase of its `error_description` (lower case), and
/// the explanation. `{client_id}`, `{client_email}`, `{key_id}`, `{user}`, `{scope}` and
/// `{skew}` are filled in from the account and the sign-in.
pub struct Row {
    pub error: &'static str,
    pub says: &'static [&'static str],
    pub who: Who,
    pub case: Option<Case>,
    pub title: &'static str,
    pub cause: &'static str,
    pub fix: &'static str,
}

const fn row(
    error: &'static str,
    says: &'static [&'static str],
    who: Who,
    recognised: Option<Case>,
    [title, cause, fix]: [&'static str; 3],
) -> Row {
    Row {
        error,
        says,
        who,
        case: recognised,
        title,
        cause,
        fix,
    }
}

/// The catalogue, most specific rows first (the first that matches explains).
pub const ERRORS: &[Row] = &[
    row(
        "invalid_grant",
        &["iat and exp", "reasonable timeframe", "short-lived token"],
        Who::ServiceAccount,
        Some(Case::ClockSkew),
        [
            "this computer's clock is off",
            "Google takes a service account's JWT only while its iat and exp fit Google's own clock (issued now, expiring at most an hour later); the JWT mailcfg signed with this computer's clock does not{skew}",
            "set this computer's clock right (turn on time synchronisation: `timedatectl set-ntp true`, or the system's date and time settings), then sign in again",
        ],
    ),
    row(
        "invalid_grant",
        &[
            "invalid jwt signature",
            "invalid signature",
            "no valid verifier",
        ],
        Who::ServiceAccount,
        Some(Case::KeyRefused),
        [
            "Google does not accept the service account's key",
            "the JWT was signed with the key {key_id} of {client_email}, and Google has no such key for that service account: it was deleted or disabled in Google Cloud, or the key imported belongs to another service account",
            "in Google Cloud console → IAM & Admin → Service accounts → {client_email} → Keys, check that the key {key_id} is listed and enabled; if not, add a new JSON key there and import it into mailcfg (a deleted key cannot be recovered)",
        ],
    ),
    row(
        "invalid_grant",
        &["invalid email or user id", "not a valid email", "user id"],
        Who::ServiceAccount,
        Some(Case::NotADomainUser),
        [
            "the mailbox user is not a user of the domain",
            "the service account signs in for {user}, and Google knows no user of the Workspace domain by that address: a typo, a group or alias instead of a user's primary address, a suspended or deleted user, or a personal Gmail address (domain-wide delegation works only for users of the domain that granted it)",
            "set the mailbox's user to the primary address of a user of the Workspace domain (Admin console → Directory → Users), then test again",
        ],
    ),
    row(
        "invalid_grant",
        &[],
        Who::ServiceAccount,
        None,
        [
            "Google refused the service account's JWT",
            "the token endpoint refused the signed JWT of {client_email} for {user}",
            "check the service account's key (import a new JSON key if in doubt), this computer's clock, and that {user} is a user of the domain",
        ],
    ),
    row(
        "invalid_grant",
        &[],
        Who::User,
        None,
        [
            "the saved sign-in is no longer valid",
            "the refresh token was revoked (the user removed the app's access, or changed the password), or it expired: an app whose consent screen is in Testing gets refresh tokens that expire after 7 days",
            "sign in again; to keep sign-ins beyond 7 days, publish the app (Google Auth Platform → Audience → Publish app) or make its audience Internal",
        ],
    ),
    row(
        "unauthorized_client",
        &[],
        Who::ServiceAccount,
        Some(Case::DelegationNotGranted),
        [
            "domain-wide delegation is not granted for this client ID and scope",
            "the Workspace domain has not authorised the service account's client ID {client_id} for the scope {scope}, so Google will not hand out tokens for its users (a new or changed entry can take from minutes up to 24 hours to apply)",
            "a super administrator opens the Admin console (admin.google.com) → Security → Access and data control → API controls → Domain-wide delegation → Add new, enters the Client ID {client_id} and the OAuth scope {scope}, and presses Authorize; then sign in again",
        ],
    ),
    row(
        "unauthorized_client",
        &[],
        Who::User,
        Some(Case::Client),
        [
            "this OAuth client may not sign in this way",
            "the OAuth client is not of the type Desktop app (a Web application client cannot use the loopback redirect), or it is not allowed this grant",
            "create an OAuth client of the type Desktop app in Google Cloud console → APIs & Services → Credentials and enter its client ID and secret in the account",
        ],
    ),
    row(
        "access_denied",
        &[],
        Who::Any,
        Some(Case::ConsentScreen),
        [
            "the sign-in was declined",
            "the user pressed Cancel on Google's consent page, or the app's consent screen is in Testing and this user is not one of its test users",
            "sign in again and allow access to Gmail; for an app in Testing, add the user under Google Auth Platform → Audience → Test users",
        ],
    ),
    row(
        "admin_policy_enforced",
        &[],
        Who::Any,
        Some(Case::ConsentScreen),
        [
            "the Workspace administrator blocks this app",
            "the domain's administrator restricts which third-party apps may reach Google data (API access controls), and the OAuth client {client_id} is not trusted",
            "an administrator opens Admin console → Security → Access and data control → API controls → App access control → Manage Third-Party App Access, adds the app by its client ID {client_id} and sets it to Trusted",
        ],
    ),
    row(
        "org_internal",
        &[],
        Who::Any,
        Some(Case::ConsentScreen),
        [
            "the app is for its own organisation only",
            "the app's audience is Internal, so only users of the Google Workspace organisation that owns its Cloud project may sign in",
            "sign in with a user of that organisation, or set the audience to External (Google Auth Platform → Audience) and add the user as a test user or publish the app",
        ],
    ),
    row(
        "invalid_scope",
        &[],
        Who::ServiceAccount,
        Some(Case::Scope),
        [
            "the scope is not valid",
            "Google does not accept the scope asked for ({scope}); IMAP, POP3 and SMTP need https://mail.google.com/",
            "set the account's scopes to https://mail.google.com/, and authorise exactly that scope for the client ID {client_id} under Domain-wide delegation",
        ],
    ),
    row(
        "invalid_scope",
        &[],
        Who::User,
        Some(Case::Scope),
        [
            "the scope is not valid",
            "Google does not accept the scope asked for ({scope}); IMAP, POP3 and SMTP need https://mail.google.com/",
            "set the account's scopes to https://mail.google.com/ and add it to the consent screen (Google Auth Platform → Data access → Add or remove scopes)",
        ],
    ),
    row(
        "invalid_client",
        &[],
        Who::ServiceAccount,
        Some(Case::KeyRefused),
        [
            "Google does not know this service account",
            "the JWT names {client_email} as its issuer, and Google has no such service account (deleted, or a typo in the imported key)",
            "check the service account in Google Cloud console → IAM & Admin → Service accounts, add a new JSON key and import it",
        ],
    ),
    row(
        "invalid_client",
        &[],
        Who::User,
        Some(Case::Client),
        [
            "the OAuth client was not accepted",
            "the client ID or the client secret is wrong, or the client was deleted (\"The OAuth client was not found\")",
            "copy the client ID and client secret of the Desktop app client from Google Cloud console → APIs & Services → Credentials (a Desktop app's secret is not confidential, but Google requires it)",
        ],
    ),
    row(
        "deleted_client",
        &[],
        Who::Any,
        Some(Case::Client),
        [
            "the OAuth client was deleted",
            "the client {client_id} was deleted in its Cloud project",
            "create a new OAuth client of the type Desktop app in Google Cloud console → APIs & Services → Credentials, or restore the deleted one there within 30 days",
        ],
    ),
    row(
        "disabled_client",
        &[],
        Who::Any,
        Some(Case::Client),
        [
            "the OAuth client is disabled",
            "the client {client_id} is disabled in its Cloud project",
            "enable it in Google Cloud console → APIs & Services → Credentials, or create a new Desktop app client",
        ],
    ),
    row(
        "redirect_uri_mismatch",
        &[],
        Who::Any,
        Some(Case::Client),
        [
            "the redirect address is not allowed for this client",
            "only clients of the type Desktop app accept a loopback redirect (http://127.0.0.1 with any port); this client is of another type",
            "create an OAuth client of the type Desktop app (Google Cloud console → APIs & Services → Credentials) and use its client ID",
        ],
    ),
];

/// The row that explains a refusal, if any.
pub fn explain(error: &str, description: &str, service_account: bool) -> Option<&'static Row> {
    let said = description.to_ascii_lowercase();
    ERRORS.iter().find(|r| {
        r.error == error
            && match r.who {
                Who::Any => true,
                Who::ServiceAccount => service_account,
                Who::User => !service_account,
            }
            && (r.says.is_empty() || r.says.iter().any(|s| said.contains(s)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_found_by_error_phrase_and_kind_of_account() {
        let clock = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
        assert_eq!(
            explain("invalid_grant", clock, true).and_then(|r| r.case),
            Some(Case::ClockSkew)
        );
        assert_eq!(
            explain("invalid_grant", "Invalid JWT Signature.", true).and_then(|r| r.case),
            Some(Case::KeyRefused)
        );
        assert_eq!(
            explain("invalid_grant", "Invalid email or User ID", true).and_then(|r| r.case),
            Some(Case::NotADomainUser)
        );
        assert_eq!(
            explain("invalid_grant", "Token has been expired or revoked.", false).map(|r| r.title),
            Some("the saved sign-in is no longer valid")
        );
        assert_eq!(
            explain("unauthorized_client", "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.", true).and_then(|r| r.case),
            Some(Case::DelegationNotGranted)
        );
        for e in [
            "access_denied",
            "admin_policy_enforced",
            "org_internal",
            "invalid_scope",
        ] {
            assert!(
                explain(e, "", false).is_some() && explain(e, "", true).is_some(),
                "{e}"
            );
        }
        assert!(explain("something_new", "", true).is_none());
    }
}
