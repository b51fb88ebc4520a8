//! Causes read from the sign-in and the token itself: the identity provider's refusal, and the
//! token's audience, roles or scopes, expiry and user against what the targets need.

use std::time::{SystemTime, UNIX_EPOCH};

use super::{Case, proven, same_user};
use crate::diagnosis::{Confidence, Found, SetupStep, SignInSeen};
use crate::export::{add_recipient_permission_line, add_user_mailbox_permission_line};
use crate::oauth::claims::{self, Claims, EXCHANGE_AUDIENCES, GRAPH_AUDIENCES};
use crate::probe::TargetKind;
use crate::profile::{Flow, Provider};

/// Google's one scope for IMAP, POP3 and SMTP.
const GMAIL_SCOPE: &str = crate::provider::google::MAIL_SCOPE;

fn found(title: String, cause: String, fix: String, evidence: Vec<String>) -> Found {
    Found {
        confidence: Confidence::Proven,
        title,
        cause,
        fix,
        commands: Vec::new(),
        evidence,
        step: None,
    }
}

/// The set-up step an identity provider's code points at.
// AADSTS codes are written as Microsoft writes them, without separators.
#[allow(clippy::unreadable_literal)]
/// `app_only`: only app-only accounts have a secret step; for the others a secret asked for or
/// refused is the registration's doing (public client flows, the redirect's platform).
fn step_of_code(code: &str, app_only: bool) -> Option<SetupStep> {
    let n: u32 = code.strip_prefix("AADSTS")?.parse().ok()?;
    Some(match n {
        700016 | 90002 | 700011 | 50194 | 7000112 | 90038 | 50011 | 900971 | 500119 => {
            SetupStep::RegisterApp
        }
        7000215 | 7000222 | 7000218 | 700025 if app_only => SetupStep::ClientSecret,
        7000218 | 700025 => SetupStep::RegisterApp,
        65001 | 90094 => SetupStep::AdminConsent,
        _ => return None,
    })
}

pub(super) fn sign_in_refused(case: &Case<'_>) -> Option<Found> {
    let Some(SignInSeen::Failed(f)) = case.sign_in else {
        return None;
    };
    let x = f.explanation.as_ref()?;
    if case.failure.is_some() || super::google::has_own_kind(x.case) {
        return None;
    }
    let mut evidence = vec![format!(
        "the identity provider refused the sign-in: {}",
        x.code
    )];
    if !x.server_said.is_empty() {
        evidence.push(format!("it said: {}", x.server_said));
    }
    let mut d = found(
        format!("Sign-in refused: {} ({})", x.title, x.code),
        x.cause.clone(),
        x.fix.clone(),
        evidence,
    );
    d.step = step_of_code(&x.code, case.app_only()).or_else(|| {
        use crate::provider::google::Case as G;
        Some(match x.case? {
            G::ConsentScreen => SetupStep::ConsentScreen,
            G::Client => SetupStep::RegisterApp,
            G::Scope => SetupStep::Token,
            _ => return None,
        })
    });
    Some(d)
}

pub(super) fn sign_in_failed(case: &Case<'_>) -> Option<Found> {
    let Some(SignInSeen::Failed(f)) = case.sign_in else {
        return None;
    };
    if f.explanation.is_some() || case.failure.is_some() {
        return None;
    }
    let first = f.text.lines().next().unwrap_or_default().to_owned();
    Some(found(
        format!("Sign-in failed: {first}"),
        first.clone(),
        f.text
            .lines()
            .find_map(|l| l.trim().strip_prefix("fix: "))
            .unwrap_or("check the account's settings and the network, then sign in again")
            .to_owned(),
        vec![format!("the sign-in ended with: {first}")],
    ))
}

/// The token is for Exchange Online, or says nothing of its audience.
fn for_exchange(c: &Claims) -> bool {
    c.audience.is_empty() || audience_is(c, EXCHANGE_AUDIENCES)
}

fn audience_is(c: &Claims, known: &[&str]) -> bool {
    c.audience
        .iter()
        .any(|a| known.contains(&a.trim_end_matches('/')))
}

/// The scopes the account asks for, for the evidence.
fn asked(case: &Case<'_>) -> String {
    match case.account {
        Some(a) if !a.scopes.is_empty() => a.scopes.join(" "),
        Some(a) => format!(
            "no scopes of its own (mailcfg's default for {} {})",
            a.provider, a.flow
        ),
        None => "nothing".into(),
    }
}

pub(super) fn wrong_resource(case: &Case<'_>) -> Option<Found> {
    if !case.judging_token() || !case.microsoft() {
        return None;
    }
    let c = case.claims()?;
    if c.audience.is_empty() || audience_is(c, EXCHANGE_AUDIENCES) {
        return None;
    }
    let aud = c.audience.join(", ");
    let graph = audience_is(c, GRAPH_AUDIENCES);
    let right = if case.app_only() {
        "https://outlook.office365.com/.default"
    } else {
        "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access"
    };
    let mut d = found(
        if graph {
            "The token is for Microsoft Graph, not for Exchange Online".into()
        } else {
            format!("The token is for {aud}, not for Exchange Online")
        },
        format!(
            "IMAP, POP3 and SMTP accept only tokens for Exchange Online (https://outlook.office365.com), and this one was issued for {aud}: the scopes the account asks for name the wrong resource{}.",
            if graph && !case.app_only() {
                " (the portal lists the mail permissions under Microsoft Graph, but the token must be requested for Outlook)"
            } else {
                ""
            }
        ),
        format!(
            "Set the account's scopes to {right}, then get a new token (permissions in the portal need no change for this)."
        ),
        vec![
            format!("the token's audience (aud) is {aud}"),
            format!("the account asks for {}", asked(case)),
        ],
    );
    d.step = Some(SetupStep::Token);
    Some(d)
}

pub(super) fn admin_consent_missing(case: &Case<'_>) -> Option<Found> {
    if !case.judging_token() || !case.microsoft() || !case.app_only() {
        return None;
    }
    let c = case.claims()?;
    // Roles belong to one resource: a token for another has none of Exchange's (wrong_resource).
    if !c.roles.is_empty() || case.needs.is_empty() || !for_exchange(c) {
        return None;
    }
    // SMTP may rest on App RBAC (a role assignment in Exchange), which puts no role in the
    // token: an SMTP-only account without roles is no proof of missing consent.
    let perms: Vec<String> = needed(case, Flow::AppOnly)
        .into_iter()
        .filter(|p| p != SMTP_ROLE)
        .collect();
    if perms.is_empty() {
        return None;
    }
    let mut d = found(
        "Admin consent has not been granted".into(),
        format!(
            "The app-only token carries no roles at all, so no application permission of this app has been consented in the tenant; Exchange refuses such a token. The permissions ({}) may already be added to the app: without consent they never reach the token.",
            perms.join(", ")
        ),
        format!(
            "In Entra ID → App registrations → the app {} → API permissions, check that the application permissions {} of \"Office 365 Exchange Online\" appear there (add them under APIs my organization uses if not), press \"Grant admin consent for …\" and wait until every row says Granted; then get a new token.",
            case.account.map_or("", |a| a.client_id.as_str()),
            perms.join(", ")
        ),
        vec!["the token carries no roles claim".into()],
    );
    d.step = Some(SetupStep::AdminConsent);
    Some(d)
}

/// SMTP's application permission, which App RBAC can replace.
const SMTP_ROLE: &str = "SMTP.SendAsApp";

/// A granted permission names the needed one: bare (`IMAP.AccessAsUser.All`, as a JWT's `scp`)
/// or as a full scope (`https://outlook.office.com/IMAP.AccessAsUser.All`, as an identity
/// provider's answer gives an opaque token's scopes).
fn grants(granted: &str, needed: &str) -> bool {
    granted
        .rsplit('/')
        .next()
        .is_some_and(|g| g.eq_ignore_ascii_case(needed))
}

/// The permissions the case's needs call for, without repeats.
fn needed(case: &Case<'_>, flow: Flow) -> Vec<String> {
    let mut v: Vec<String> = case
        .needs
        .iter()
        .map(|n| n.service.permission(flow).to_owned())
        .collect();
    v.dedup();
    v.sort();
    v.dedup();
    v
}

pub(super) fn permission_missing(case: &Case<'_>) -> Option<Found> {
    if !case.judging_token() {
        return None;
    }
    let account = case.account?;
    if account.provider == Provider::Google {
        return gmail_scope_missing(case);
    }
    if account.provider != Provider::Microsoft {
        return None;
    }
    let c = case.claims()?;
    if !for_exchange(c) {
        return None; // its permissions are another resource's: wrong_resource says so
    }
    let app_only = case.app_only();
    let (granted, what) = if app_only {
        (&c.roles, "roles")
    } else {
        (&c.scopes, "scopes (scp)")
    };
    if app_only && granted.is_empty() {
        return None; // no consent at all: admin_consent_missing
    }
    let flow = if app_only {
        Flow::AppOnly
    } else {
        account.flow
    };
    let missing: Vec<String> = needed(case, flow)
        .into_iter()
        .filter(|p| !granted.iter().any(|g| grants(g, p)))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let users: Vec<String> = case
        .needs
        .iter()
        .filter(|n| missing.iter().any(|m| m == n.service.permission(flow)))
        .map(|n| n.target.clone())
        .collect();
    let list = missing.join(", ");
    let fix = if app_only {
        format!(
            "In Entra ID → App registrations → the app {} → API permissions, add the application permission {list} of \"Office 365 Exchange Online\" (APIs my organization uses), press \"Grant admin consent\" again, then get a new token.",
            account.client_id
        )
    } else {
        format!(
            "Add the delegated permission {list} in the app's API permissions (listed under Microsoft Graph), grant consent, and make the account's scopes include {}; then sign in again.",
            missing
                .iter()
                .map(|m| format!("https://outlook.office.com/{m}"))
                .collect::<Vec<_>>()
                .join(" ")
        )
    };
    let mut d = found(
        format!("The token lacks {list}"),
        format!(
            "{} needs {list}, and the token's {what} do not include it, so the server refuses the token.",
            super::and_list(&users)
        ),
        fix,
        vec![format!(
            "the token's {what}: {}",
            if granted.is_empty() {
                "none".to_owned()
            } else {
                granted.join(" ")
            }
        )],
    );
    if app_only && missing.iter().all(|m| m == SMTP_ROLE) {
        // Sending app-only can rest on App RBAC instead, with no Entra permission at all: the
        // role is the usual way, not the only one.
        d.confidence = Confidence::Likely;
        d.fix.push_str(
            " Or, without any Entra permission, give the app's service principal the App RBAC role in Exchange Online PowerShell: New-ManagementRoleAssignment -App <the service principal's app ID> -Role 'Application SMTP.SendAsApp'.",
        );
    }
    d.step = Some(SetupStep::ApiPermissions);
    Some(d)
}

fn gmail_scope_missing(case: &Case<'_>) -> Option<Found> {
    let account = case.account?;
    // The token's own scopes, where the answer said them: a user may untick Gmail on Google's
    // consent page (granular consent), and the token then lacks it.
    if let Some(c) = case.claims().filter(|c| c.opaque)
        && account.scopes.iter().any(|s| s == GMAIL_SCOPE)
        && !c.scopes.iter().any(|s| s == GMAIL_SCOPE)
    {
        let mut d = found(
            format!("The token lacks {GMAIL_SCOPE}"),
            format!(
                "The account asked for {GMAIL_SCOPE}, and Google granted only {}: {}",
                if c.scopes.is_empty() {
                    "nothing".to_owned()
                } else {
                    c.scopes.join(" ")
                },
                if account.flow == Flow::AppOnly {
                    "the service account's domain-wide delegation does not cover it."
                } else {
                    "the Gmail permission (\"Read, compose, send and permanently delete all your email from Gmail\") was left unticked on Google's consent page."
                }
            ),
            if account.flow == Flow::AppOnly {
                format!(
                    "Authorise {GMAIL_SCOPE} for the client ID {} under {}.",
                    account.client_id,
                    crate::provider::google::DELEGATION_PAGE
                )
            } else {
                "Sign in again and tick the Gmail permission on Google's consent page.".to_owned()
            },
            vec![format!(
                "the token's scopes, as Google's answer gave them: {}",
                c.scopes.join(" ")
            )],
        );
        d.step = Some(if account.flow == Flow::AppOnly {
            SetupStep::DomainWideDelegation
        } else {
            SetupStep::ConsentScreen
        });
        return Some(d);
    }
    if account.scopes.is_empty() || account.scopes.iter().any(|s| s == GMAIL_SCOPE) {
        return None;
    }
    let mut d = found(
        format!("The account does not ask for {GMAIL_SCOPE}"),
        format!(
            "Gmail's IMAP, POP3 and SMTP accept only tokens with the scope {GMAIL_SCOPE}; the account asks for {}.",
            account.scopes.join(" ")
        ),
        format!("Add {GMAIL_SCOPE} to the account's scopes, then sign in again."),
        vec![format!("the account asks for {}", account.scopes.join(" "))],
    );
    d.step = Some(SetupStep::Token);
    Some(d)
}

fn unix(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

fn words(secs: u64) -> String {
    match secs {
        0..120 => format!("{secs} s"),
        120..7200 => format!("{} min", secs / 60),
        _ => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
    }
}

/// How far this computer's clock is from the identity provider's, when it shows: the token's
/// `iat` against the time it arrived. `Some(+n)`: this computer is `n` s ahead.
fn clock_skew(case: &Case<'_>, c: &Claims) -> Option<i64> {
    let iat = i64::try_from(c.issued?).ok()?;
    let arrived = i64::try_from(unix(case.token()?.fetched_at)).ok()?;
    let skew = arrived - iat;
    (skew.abs() > 120).then_some(skew)
}

pub(super) fn token_expired(case: &Case<'_>) -> Option<Found> {
    if !case.judging_token() {
        return None;
    }
    let used = case.used_at();
    // The answer's expires_in, counted from the token's arrival, is this computer's clock at
    // both ends: unlike `exp` (the provider's clock), a skewed clock cannot make it look expired.
    let exp = match (
        case.token()?.expires_at,
        case.claims().and_then(|c| c.expires),
    ) {
        (Some(at), _) => unix(at),
        (None, Some(e)) => e,
        (None, None) => return None,
    };
    if exp > unix(used) {
        return None;
    }
    let mut evidence = vec![format!(
        "the token expired at {} (exp), {} before it was used at {}",
        claims::utc(exp),
        words(unix(used) - exp),
        claims::utc(unix(used))
    )];
    let (cause, fix);
    let c = case.claims();
    let born_expired = c.and_then(|c| c.issued).is_some_and(|iat| exp <= iat + 60);
    if let Some(skew) = c.and_then(|c| clock_skew(case, c)) {
        let ahead = if skew > 0 { "ahead of" } else { "behind" };
        evidence.push(format!(
            "the token says it was issued at {}; it arrived at {} by this computer's clock: this computer is {} {ahead} the identity provider",
            claims::utc(c.and_then(|c| c.issued).unwrap_or_default()),
            claims::utc(unix(case.token().map_or(used, |t| t.fetched_at))),
            words(skew.unsigned_abs())
        ));
        cause = format!(
            "This computer's clock is {} {ahead} the identity provider's, so a token that is fresh by the provider's clock is already expired by this one's (or the server's).",
            words(skew.unsigned_abs())
        );
        fix = "Set this computer's clock right (turn on time synchronisation, NTP), then get a new token.".to_owned();
    } else if born_expired {
        evidence.push(format!(
            "the identity provider issued it already expired: issued at {}, expires at {}",
            claims::utc(c.and_then(|c| c.issued).unwrap_or_default()),
            claims::utc(exp)
        ));
        cause = "The identity provider hands out tokens that are already expired when they arrive: a token lifetime policy of zero, or the provider's own clock is wrong.".to_owned();
        fix = "Check the token lifetime policies that apply to the app (and the identity provider's clock); a token must live for minutes, not seconds.".to_owned();
    } else {
        cause = "The token had expired by the time the server got it: it was got long before the test, or the test waited too long.".to_owned();
        fix = format!(
            "Get a new token ({}); mailcfg refreshes tokens 2 minutes before they expire, then {}.",
            case.place.token_check(case.account_name()),
            case.place.retest()
        );
    }
    let mut d = found("The token has expired".into(), cause, fix, evidence);
    d.step = Some(SetupStep::Token);
    Some(d)
}

pub(super) fn user_mismatch(case: &Case<'_>) -> Option<Found> {
    let account = case.account?;
    if account.flow == Flow::AppOnly {
        return None;
    }
    let token_user = case.token()?.user()?.to_owned();
    let refused = case.token_refused() || case.not_connected();
    if case.failure.is_some() && !refused {
        return None;
    }
    // Before any test: the transports of the account that sign in as someone else.
    let named = case.user.as_deref().filter(|u| !u.trim().is_empty());
    let (user, smtp) = if let (Some(u), Some(k)) = (named, case.kind) {
        (u.to_owned(), k == TargetKind::Smtp)
    } else if case.kind.is_some() {
        return None; // no name of its own: it signs in as the token's user
    } else {
        let t = case.ev.profile.transports.iter().find(|t| {
            t.auth
                && t.account.as_deref() == Some(account.name.as_str())
                && t.username
                    .as_deref()
                    .is_some_and(|u| !u.trim().is_empty() && !same_user(u, &token_user))
        })?;
        (t.username.clone()?, true)
    };
    if same_user(&user, &token_user) {
        return None;
    }
    let evidence = vec![
        format!("the token is {token_user}'s (the signed-in user)"),
        format!("{} signs in as {user}", case.who()),
    ];
    if smtp {
        let mut d = proven(
            case,
            format!("SMTP signs in as {user}, but the token is {token_user}'s"),
            format!(
                "Exchange accepts SMTP AUTH only as the user the token belongs to: the transport's user {user} is not the signed-in user {token_user} (unless {user} is only another address of the same mailbox, an alias: then too, sign in as {token_user})."
            ),
            format!(
                "Set the transport's user to {token_user}. To send as {user}, keep {user} as the sender address and give {token_user} Send As on it."
            ),
            vec![add_recipient_permission_line(&user, &token_user)],
        );
        // Names differ; whether they are two mailboxes or two addresses of one, only the
        // directory knows.
        d.confidence = Confidence::Likely;
        d.evidence.extend(evidence);
        return Some(d);
    }
    Some(Found {
        confidence: Confidence::Likely,
        title: format!("The mailbox {user} is opened with {token_user}'s token"),
        cause: format!(
            "The mailbox signs in as {user} with a token of {token_user}: that works only for a shared mailbox that {token_user} has FullAccess to."
        ),
        fix: format!(
            "If {user} is a shared mailbox, give {token_user} FullAccess to it; otherwise set the mailbox's user to {token_user} or sign in as {user}."
        ),
        commands: vec![add_user_mailbox_permission_line(&user, &token_user)],
        evidence,
        step: Some(SetupStep::MailboxGrant(user)),
    })
}

/// Whether the token's claims can be read and nothing in them explains a refusal: the audience,
/// the roles or scopes and the expiry are right.
pub(super) fn token_fine(case: &Case<'_>) -> bool {
    case.claims().is_some()
        && wrong_resource(case).is_none()
        && admin_consent_missing(case).is_none()
        && permission_missing(case).is_none_or(|f| f.confidence != Confidence::Proven)
        && token_expired(case).is_none()
}

/// What the token shows, for the evidence of a cause beyond it.
pub(super) fn token_summary(case: &Case<'_>) -> Option<String> {
    let c = case.claims()?;
    let perms = if case.app_only() { &c.roles } else { &c.scopes };
    let left = c
        .expires
        .map(|e| {
            let used = unix(case.used_at());
            if e > used {
                format!("valid for {} more", words(e - used))
            } else {
                "expired".to_owned()
            }
        })
        .unwrap_or_default();
    Some(format!(
        "the token is right for it: audience {}, {} {}, {left}",
        c.audience.join(", "),
        if case.app_only() { "roles" } else { "scopes" },
        perms.join(" ")
    ))
}
