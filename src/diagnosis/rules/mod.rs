//! The rule table: every cause mailcfg can name, each with its stable kind, what evidence it
//! needs, its rank among causes of the same confidence, what would tell it apart from the others,
//! and the check that finds it (with the cause, fix and commands filled in from the evidence).
//! Adding a rule is one entry here, its check in one of the files beside this one, and its line
//! in docs/diagnosis.md (a test holds the three together).

// `case` and `cause` are the two words of this domain; they stay.
#![allow(clippy::similar_names)]

mod google;
mod hostile;
mod network;
mod servers;
mod token;

use std::time::SystemTime;

use serde::Serialize;

use super::evidence::{Evidence, SignInSeen, TokenSeen};
use super::{Found, Place};
use crate::oauth::claims::{Claims, Need};
use crate::probe::{Failure, Report, Step, Symptom, TargetKind};
use crate::profile::{Account, Flow, Provider};

impl Kind {
    /// The snake_case name of the JSON contract.
    pub fn as_str(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.as_str())
    }
}

/// One cause mailcfg can name.
pub struct Rule {
    pub kind: Kind,
    /// The evidence it rests on (docs/diagnosis.md says the same, at more length).
    pub needs: &'static str,
    /// Among findings of the same confidence, the higher rank is the cause: the one whose fix
    /// must come first (a token for the wrong resource stays refused however fresh it is).
    pub rank: u8,
    /// What would prove or rule it out, said when the evidence cannot choose.
    pub tell_apart: &'static str,
    pub(crate) check: fn(&Case<'_>) -> Option<Found>,
    /// Named only when no other rule finds anything, and never as an alternative: a cause that
    /// says no more than the symptom does.
    pub fallback: bool,
}

const fn rule(
    kind: Kind,
    rank: u8,
    check: fn(&Case<'_>) -> Option<Found>,
    needs: &'static str,
    tell_apart: &'static str,
) -> Rule {
    Rule {
        kind,
        needs,
        rank,
        tell_apart,
        check,
        fallback: false,
    }
}

impl Rule {
    const fn fallback(mut self) -> Self {
        self.fallback = true;
        self
    }
}

/// Defines [`Kind`] and [`RULES`] from one list, so a rule and its kind cannot drift apart:
/// `Kind => rank, check, the evidence it needs, what tells it apart[, fallback];`.
macro_rules! rules {
    ($($kind:ident => $rank:literal, $check:path, $needs:literal, $tell:literal $(, $fallback:ident)?;)+) => {
        /// A cause, by a name that stays: part of the JSON contract (`diagnosis.kind`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Kind { $($kind),+ }

        /// The table. Order carries no meaning: confidence, then rank, decides.
        pub static RULES: &[Rule] = &[
            $(rules!(@rule $kind, $rank, $check, $needs, $tell $(, $fallback)?)),+
        ];
    };
    (@rule $kind:ident, $rank:literal, $check:path, $needs:literal, $tell:literal) => {
        rule(Kind::$kind, $rank, $check, $needs, $tell)
    };
    (@rule $kind:ident, $rank:literal, $check:path, $needs:literal, $tell:literal, fallback) => {
        rule(Kind::$kind, $rank, $check, $needs, $tell).fallback()
    };
}

#[rustfmt::skip]
rules! {
    SignInRefused => 100, token::sign_in_refused, "the identity provider's refusal and its code", "";
    SignInFailed => 99, token::sign_in_failed, "a sign-in that failed without a refusal (network, configuration)", "";
    WrongResource => 95, token::wrong_resource, "the token's aud claim (Microsoft)", "";
    AdminConsentMissing => 90, token::admin_consent_missing, "an app-only token with no roles claim (Microsoft)", "";
    PermissionMissing => 85, token::permission_missing, "the token's roles (app-only) or scp (delegated) against what the target needs", "";
    TokenExpired => 80, token::token_expired, "the token's exp claim against the time it was used", "";
    UserMismatch => 75, token::user_mismatch, "a delegated token's user against the name the target signs in as", "signing in as the token's user shows whether the name is the difference";
    ProtocolDisabled => 60, servers::protocol_disabled, "another protocol opening the same mailbox with the account's token", "a test of the same mailbox over another protocol (IMAP or POP3) that opens it proves it";
    ServicePrincipalWrongObjectId => 58, servers::wrong_object_id, "the profile's enterprise object ID against the token's oid, and no mailbox of the account opened", "`Get-ServicePrincipal | Where-Object AppId -eq <client ID>` shows the object ID Exchange has: it must be the token's oid";
    MailboxGrantMissing => 55, servers::mailbox_grant_missing, "an app-only token the server accepted, and the mailbox refused (or another mailbox of the account opened)", "`Get-MailboxPermission -Identity <mailbox>` lists the app's service principal when the grant exists";
    ServicePrincipalMissing => 50, servers::service_principal_missing, "an app-only token with the right audience, roles and expiry refused by every target of the account", "`Get-ServicePrincipal | Where-Object AppId -eq <client ID>` finds nothing when it is missing; a second mailbox that accepts the token rules it out";
    MailboxUnavailable => 20, servers::mailbox_unavailable, "a delegated sign-in accepted, then the mailbox refused", "signing in to the mailbox in Outlook on the web shows whether it exists and is licensed";
    TokenRefused => 10, servers::token_refused, "a refused token whose claims cannot be read or checked", "the token's claims (audience, permissions, expiry, user) tell the causes apart", fallback;
    PasswordRefused => 96, servers::password_refused, "a password sign-in refused", "";
    SmtpAuthDisabledTenant => 97, servers::smtp_auth_disabled_tenant, "Exchange's 5.7.139 reply naming the tenant", "";
    SmtpAuthDisabledMailbox => 97, servers::smtp_auth_disabled_mailbox, "Exchange's 5.7.139 reply naming the mailbox", "";
    SecurityDefaults => 97, servers::security_defaults, "Exchange's 5.7.139 reply naming security defaults", "";
    ConditionalAccess => 97, servers::conditional_access, "Exchange's 5.7.139 reply that the request did not meet the criteria", "";
    BasicAuthDisabled => 97, servers::basic_auth_disabled, "Exchange's 5.7.139 reply that basic authentication is disabled", "";
    BasicAuthRetired => 97, servers::basic_auth_retired, "Exchange's 550 5.7.30 reply to a password sign-in", "";
    MechanismUnrecognized => 97, servers::mechanism_unrecognized, "a 504 5.7.4 reply to AUTH", "";
    NotAuthenticatedToSend => 97, servers::not_authenticated_to_send, "a 530 5.7.57 reply to MAIL FROM", "";
    SendAsDenied => 97, servers::send_as_denied, "a 550 5.7.60 reply to MAIL FROM or the message", "";
    TemporaryAuthFailure => 96, servers::temporary_auth_failure, "a temporary failure reply to the sign-in", "";
    TlsRequired => 96, servers::tls_required, "a reply refusing sign-in without TLS, or no mechanism offered before TLS", "";
    ServerError => 96, servers::server_error, "an internal-error reply outside the mailbox step", "";
    DnsFailed => 100, network::dns_failed, "the DNS step", "";
    ConnectionRefused => 100, network::connection_refused, "the connect step: refused", "";
    ConnectTimeout => 100, network::connect_timeout, "the connect step: no answer", "";
    Unreachable => 100, network::unreachable, "the connect step: no route", "";
    CaFileUnusable => 100, network::ca_file_unusable, "the TLS step: the CA file", "";
    CertificateUntrusted => 100, network::certificate_untrusted, "the TLS step: the certificate's issuer", "";
    CertificateExpired => 100, network::certificate_expired, "the TLS step: the certificate's dates", "";
    CertificateWrongName => 100, network::certificate_wrong_name, "the TLS step: the certificate's names", "";
    PortExpectsStarttls => 100, network::port_expects_starttls, "a plain-text answer to the TLS hello", "";
    PortExpectsTls => 100, network::port_expects_tls, "no plain greeting, and a TLS answer on a second try", "";
    TlsNoAnswer => 100, network::tls_no_answer, "no answer to the TLS hello", "";
    NoGreeting => 100, network::no_greeting, "no greeting in time", "";
    NotThisProtocol => 100, network::not_this_protocol, "a first line that is not this protocol's greeting", "";
    ConnectionClosed => 100, network::connection_closed, "the connection closed before sign-in", "";
    StarttlsNotOffered => 100, network::starttls_not_offered, "the capabilities: no STARTTLS", "";
    MechanismNotOffered => 100, network::mechanism_not_offered, "the capabilities: no XOAUTH2 (or the password mechanism)", "";
    ClosedAfterSignIn => 15, network::closed_after_sign_in, "the connection closed right after the sign-in", "the server's log names the reason it closed the connection", fallback;
    Timeout => 100, network::timeout, "a command that got no answer in time", "";
    UnencryptedRefused => 100, network::unencrypted_refused, "a sign-in that would cross the network unencrypted", "";
    ServerFlooded => 100, hostile::server_flooded, "a reply past the line or byte caps", "";
    GreetingRefused => 100, hostile::greeting_refused, "a greeting that refuses the session (554, 421, -ERR, * BYE)", "";
    UnsafeValue => 100, hostile::unsafe_value, "a sign-in name, password or host with a control character, not sent", "";
    DelegationNotGranted => 100, google::delegation_not_granted, "Google's unauthorized_client to a service account's JWT", "";
    ClockSkew => 100, google::clock_skew, "Google's invalid_grant naming the JWT's iat and exp, and the time of its answer", "";
    ServiceAccountKeyRefused => 100, google::service_account_key_refused, "Google's refusal of the JWT's signature or issuer", "";
    NotADomainUser => 100, google::not_a_domain_user, "Google's invalid_grant for the JWT's sub (the mailbox user)", "";
    GmailProtocolDisabled => 97, google::gmail_protocol_disabled, "Gmail's alert that IMAP or POP is not enabled", "";
}

/// One failure (or one account before any test), with the run around it, as the rules see it.
pub(crate) struct Case<'a> {
    pub ev: &'a Evidence<'a>,
    pub place: &'a Place,
    pub report: Option<&'a Report>,
    pub failure: Option<&'a Failure>,
    pub account: Option<&'a Account>,
    pub sign_in: Option<&'a SignInSeen>,
    /// What the target (or every target of the account) needs from the token.
    pub needs: Vec<Need>,
    pub kind: Option<TargetKind>,
    /// The name the target signs in as.
    pub user: Option<String>,
    pub target: Option<String>,
}

impl Case<'_> {
    pub fn symptom(&self) -> Option<&Symptom> {
        self.failure.map(|f| &f.symptom)
    }

    pub fn step(&self) -> Option<Step> {
        self.failure.map(|f| f.step)
    }

    pub fn token(&self) -> Option<&TokenSeen> {
        match self.sign_in? {
            SignInSeen::Token(t) => Some(t),
            SignInSeen::Failed(_) => None,
        }
    }

    pub fn claims(&self) -> Option<&Claims> {
        self.token()?.claims.as_ref().ok()
    }

    pub fn microsoft(&self) -> bool {
        self.account
            .is_some_and(|a| a.provider == Provider::Microsoft)
    }

    pub fn app_only(&self) -> bool {
        self.account.is_some_and(|a| a.flow == Flow::AppOnly)
    }

    /// The account's name, or empty when the target signs in without one.
    pub fn account_name(&self) -> &str {
        self.account.map_or("", |a| a.name.as_str())
    }

    /// Whether the token is on trial: the account is checked before any test, or the server
    /// refused the token at sign-in. (A token the server accepted cannot be the cause.)
    pub fn judging_token(&self) -> bool {
        match self.symptom() {
            None | Some(Symptom::AuthRefused { .. }) => self.token().is_some(),
            Some(_) => false,
        }
    }

    /// The server refused the sign-in with an XOAUTH2 token (not a password).
    pub fn token_refused(&self) -> bool {
        matches!(self.symptom(), Some(Symptom::AuthRefused { .. })) && self.account.is_some()
    }

    /// The server accepted the sign-in, then could not serve the mailbox.
    pub fn not_connected(&self) -> bool {
        matches!(
            self.symptom(),
            Some(Symptom::NotConnected { .. } | Symptom::ClosedAfterAuth)
        )
    }

    /// When the token was used: the sign-in step of the test, or now for an account check.
    pub fn used_at(&self) -> SystemTime {
        self.report
            .map_or(self.ev.now, |r| r.time_of(Step::Authenticate))
    }

    /// `"Lab IMAP" (IMAP)`, or the account's name for an account check.
    pub fn who(&self) -> String {
        match (&self.target, self.kind) {
            (Some(t), Some(k)) => format!("\"{t}\" ({k})"),
            _ => format!("the account \"{}\"", self.account_name()),
        }
    }

    /// The sibling reports: the same account, another target.
    pub fn siblings(&self) -> Vec<&Report> {
        self.report.map_or_else(Vec::new, |r| self.ev.siblings(r))
    }

    /// The server's line behind the failure, for the evidence.
    pub fn reply(&self) -> Option<&str> {
        self.symptom().and_then(Symptom::reply_line)
    }
}

/// A finding with the server's words as its first evidence.
pub(crate) fn proven(
    case: &Case<'_>,
    title: String,
    cause: String,
    fix: String,
    commands: Vec<String>,
) -> Found {
    let mut evidence = Vec::new();
    if let (Some(step), Some(reply)) = (case.step(), case.reply()) {
        evidence.push(format!("{step}: the server answered \"{reply}\""));
    }
    Found {
        confidence: super::Confidence::Proven,
        title,
        cause,
        fix,
        commands,
        evidence,
        step: None,
    }
}

/// Whether an address is the same mailbox (case-insensitive, as Exchange and Dovecot compare).
pub(crate) fn same_user(a: &str, b: &str) -> bool {
    a.trim().eq_ignore_ascii_case(b.trim())
}

/// `"a"`, `"a and b"`, `"a, b and c"`.
pub(crate) fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
