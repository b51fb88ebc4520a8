//! Causes that need the server's answer: what other targets of the same account saw (the same
//! token accepted elsewhere, the same mailbox opened over another protocol), Exchange's set-up
//! (service principal, mailbox grants, protocols, SMTP AUTH) and the servers' own refusals.

use std::fmt::Write as _;

use super::token::{token_fine, token_summary};
use super::{Case, and_list, proven, same_user};
use crate::diagnosis::{Confidence, Found, SetupStep};
use crate::export::{
    add_mailbox_permission_line, add_recipient_permission_line, connect_line, enable_protocol_line,
    new_service_principal_line, set_cas_mailbox_line, transport_config_line,
};
use crate::probe::{Report, Status, Step, Symptom, TargetKind};
use crate::profile::{Protocol, Provider};

/// The target's test signed in (the server accepted the token or password).
fn accepted(r: &Report) -> bool {
    r.step_is(Step::Authenticate, Status::Ok)
}

/// The target's test opened the mailbox (EXAMINE or STAT). An SMTP sign-in proves the token and
/// the service principal, not access to the mailbox (Exchange checks that only at the end of DATA).
fn opened(r: &Report) -> bool {
    r.kind != TargetKind::Smtp && r.step_is(Step::Mailbox, Status::Ok)
}

/// The server refused the target's sign-in (the token, not the way there).
fn refused_at_sign_in(r: &Report) -> bool {
    r.failure.as_ref().is_some_and(|f| {
        f.step == Step::Authenticate && matches!(f.symptom, Symptom::AuthRefused { .. })
    })
}

/// The target got far enough to say something about the token: accepted or refused at sign-in.
/// One that failed on the way (DNS, TLS, a flood) is no evidence either way.
fn reached_sign_in(r: &Report) -> bool {
    accepted(r) || refused_at_sign_in(r)
}

/// The same kind of failure at the same step (another mailbox failing alike).
fn fails_alike(r: &Report, case: &Case<'_>) -> bool {
    match (r.failure.as_ref(), case.failure) {
        (Some(a), Some(b)) => {
            a.step == b.step
                && std::mem::discriminant(&a.symptom) == std::mem::discriminant(&b.symptom)
        }
        _ => false,
    }
}

fn label(r: &Report) -> String {
    format!("\"{}\" ({})", r.target, r.kind)
}

fn user_of(r: &Report) -> &str {
    r.user.as_deref().unwrap_or("(unknown)")
}

fn likely(title: String, cause: String, fix: String, commands: Vec<String>) -> Found {
    Found {
        confidence: Confidence::Likely,
        title,
        cause,
        fix,
        commands,
        evidence: Vec::new(),
        step: None,
    }
}

/// What this case's failure was, for the evidence.
fn what_failed(case: &Case<'_>) -> Option<String> {
    let step = case.step()?;
    Some(match case.reply() {
        Some(r) => format!("{} failed at {step}: \"{r}\"", case.who()),
        None => format!("{} failed at {step}", case.who()),
    })
}

/// The app's service principal object ID: the token's `oid` (app-only tokens carry the
/// Enterprise application's), else the profile's, else `None` (the commands use `$objectId`).
fn object_id<'c>(case: &'c Case<'_>) -> Option<&'c str> {
    case.claims()
        .and_then(|c| c.object_id.as_deref())
        .or_else(|| case.account?.enterprise_object_id.as_deref())
}

/// The commands' opening: sign in to Exchange, and where the object ID is unknown, look it up
/// into `$objectId` (which the lines after it use) with Microsoft Graph PowerShell.
fn opening(case: &Case<'_>, oid: Option<&str>) -> Vec<String> {
    let mut c = vec![connect_line(tenant(case))];
    if let (None, Some(a)) = (oid, case.account) {
        c.push(match a.tenant.as_deref() {
            Some(t) => format!(
                "Connect-MgGraph -TenantId {} -Scopes 'Application.Read.All' -NoWelcome",
                crate::export::ps_quote(t)
            ),
            None => "Connect-MgGraph -Scopes 'Application.Read.All' -NoWelcome".to_owned(),
        });
        c.push(crate::export::lookup_object_id_line(&a.client_id));
    }
    c
}

fn tenant<'c>(case: &'c Case<'_>) -> Option<&'c str> {
    case.account?.tenant.as_deref()
}

pub(super) fn protocol_disabled(case: &Case<'_>) -> Option<Found> {
    if !(case.token_refused() || case.not_connected()) {
        return None;
    }
    if case.account.is_some_and(|a| a.provider == Provider::Google) {
        return None; // Gmail says so in its own words (gmail_protocol_disabled)
    }
    let (user, kind) = (case.user.as_deref()?, case.kind?);
    if kind == TargetKind::Smtp && case.microsoft() {
        // Exchange names SMTP AUTH turned off in its reply (5.7.139): the rules for those
        // words say so; a plain refusal is not it.
        return None;
    }
    // Other protocols' tests of the same mailbox that got as far as the sign-in.
    let other: Vec<&Report> = case
        .siblings()
        .into_iter()
        .filter(|r| {
            r.kind != kind
                && r.user.as_deref().is_some_and(|u| same_user(u, user))
                && (reached_sign_in(r) || r.failure.is_none())
        })
        .collect();
    let by = other.iter().find(|r| opened(r));
    // Another protocol signed in as the same user (SMTP, say): the token is right for the
    // mailbox, and only this protocol refuses it.
    let signed_in = other.iter().find(|r| accepted(r));
    let other_refused = other.iter().any(|r| refused_at_sign_in(r));
    let alike = case.siblings().iter().any(|r| fails_alike(r, case));
    if by.is_none()
        && signed_in.is_none()
        && (other_refused || alike || (case.token_refused() && !token_fine(case)))
    {
        // Another protocol failed too, other mailboxes fail alike, or the token explains it:
        // nothing points at a switch of this one mailbox.
        return None;
    }
    let ms = case.microsoft();
    // Exchange's switch for IMAP or POP3 (its SMTP never gets here: see above).
    let commands = match (ms, kind) {
        (true, TargetKind::Imap) => vec![
            connect_line(tenant(case)),
            enable_protocol_line(user, Protocol::Imap),
        ],
        (true, TargetKind::Pop3) => vec![
            connect_line(tenant(case)),
            enable_protocol_line(user, Protocol::Pop3),
        ],
        _ => Vec::new(),
    };
    let mut f = likely(
        format!("{kind} is turned off for the mailbox {user}"),
        match (by, signed_in) {
            (Some(o), _) => format!(
                "{} opened {user} with a token of the same account, so the token, the app's set-up and its access to the mailbox are right; only {kind} refuses it: {kind} is disabled for this mailbox.",
                label(o)
            ),
            (None, Some(o)) => format!(
                "{} signed in as {user} with a token of the same account, so the token is right for this mailbox; only {kind} refuses it: {kind} is probably disabled for this mailbox.",
                label(o)
            ),
            (None, None) => format!(
                "The server refuses {kind} for {user} although nothing in the token explains it: {kind} may be disabled for this mailbox."
            ),
        },
        if ms {
            format!(
                "Turn {kind} on for {user} (Microsoft 365 admin center → Users → the user → Mail → Manage email apps), or run the command; it takes effect within minutes."
            )
        } else {
            format!("Ask the server's administrator to enable {kind} for {user}.")
        },
        commands,
    );
    if let Some(o) = by {
        f.evidence.push(format!(
            "{} opened {} ({}: ok)",
            label(o),
            user_of(o),
            Step::Mailbox
        ));
    } else if let Some(o) = signed_in {
        f.evidence.push(format!(
            "{} signed in as {} ({}: ok)",
            label(o),
            user_of(o),
            Step::Authenticate
        ));
        if case.app_only() {
            // An app-only SMTP sign-in proves the token and the service principal, not the
            // app's grant on the mailbox, which this refusal may as well mean.
            f.confidence = Confidence::Possible;
        }
    } else {
        f.confidence = Confidence::Possible;
    }
    f.evidence.extend(what_failed(case));
    f.step = Some(SetupStep::ProtocolEnabled(user.to_owned()));
    Some(f)
}

pub(super) fn wrong_object_id(case: &Case<'_>) -> Option<Found> {
    if !(case.app_only() && case.microsoft()) || !(case.token_refused() || case.not_connected()) {
        return None;
    }
    if case.siblings().iter().any(|r| opened(r)) {
        return None; // Exchange serves another mailbox to this app: its service principal is right
    }
    let account = case.account?;
    let token_oid = case.claims().and_then(|c| c.object_id.as_deref());
    let profile_oid = account.enterprise_object_id.as_deref();
    let mismatch = match (profile_oid, token_oid) {
        (Some(p), Some(t)) => !p.eq_ignore_ascii_case(t),
        _ => false,
    };
    if !mismatch && !case.not_connected() {
        return None;
    }
    let good = token_oid.or(profile_oid);
    let mut commands = opening(case, good);
    commands.push(format!(
        "Get-ServicePrincipal | Where-Object AppId -eq {}",
        crate::export::ps_quote(&account.client_id)
    ));
    commands.push(new_service_principal_line(
        Some(&account.client_id),
        good,
        &account.name,
    ));
    if let Some(u) = &case.user {
        commands.push(add_mailbox_permission_line(u, good));
    }
    let mut f = likely(
        "The service principal was registered with the wrong object ID".into(),
        match (profile_oid, token_oid) {
            (Some(p), Some(t)) if mismatch => format!(
                "The profile's enterprise object ID {p} is not the token's oid {t}. {t} is the object ID of the app's Enterprise application (its service principal); {p} is probably the App registration's, which Exchange cannot match to the app's tokens. Commands run with {p} registered and granted the wrong object."
            ),
            _ => "Exchange accepted the token but cannot connect the app to the mailbox: the service principal may have been registered with the App registration's object ID instead of the Enterprise application's.".to_owned(),
        },
        format!(
            "Register the service principal with the Enterprise application's object ID{} and grant the mailboxes to it; put the same ID into the account's enterprise object ID.",
            good.map_or_else(String::new, |g| format!(" {g}"))
        ),
        commands,
    );
    if mismatch {
        f.evidence.push(format!(
            "the profile's enterprise object ID is {}, the token's oid is {}",
            profile_oid.unwrap_or_default(),
            token_oid.unwrap_or_default()
        ));
    } else {
        f.confidence = Confidence::Possible;
    }
    f.evidence.extend(what_failed(case));
    f.step = Some(SetupStep::ServicePrincipal);
    Some(f)
}

pub(super) fn mailbox_grant_missing(case: &Case<'_>) -> Option<Found> {
    // Exchange's grant. (A Google service account gets a token per user: one accepted for
    // another user says nothing of this one's.)
    if !case.app_only() || !case.microsoft() || !(case.token_refused() || case.not_connected()) {
        return None;
    }
    let user = case.user.as_deref()?;
    let siblings = case.siblings();
    if siblings
        .iter()
        .any(|r| opened(r) && r.user.as_deref().is_some_and(|u| same_user(u, user)))
    {
        return None; // the same mailbox opened with this app's token: the grant exists
    }
    let elsewhere = siblings
        .iter()
        .find(|r| accepted(r) && !r.user.as_deref().is_some_and(|u| same_user(u, user)));
    if case.token_refused() && !token_fine(case) {
        return None;
    }
    // Refused, and no other target of the account to compare with: possible, not pointed to.
    let alone = case.token_refused() && elsewhere.is_none();
    if alone && siblings.iter().any(|r| refused_at_sign_in(r)) {
        return None; // other mailboxes refused alike: the cause is the account's, not this one's
    }
    let smtp = case.kind == Some(TargetKind::Smtp);
    let oid = object_id(case);
    let cause = match (elsewhere, case.token_refused()) {
        (Some(o), true) => format!(
            "The server accepted a token of the same account for {} ({}) but refused it for {user}: the app, its token and its service principal are right, and what differs is this mailbox. The app has no FullAccess grant on {user} (or {user} is not a mailbox).",
            user_of(o),
            label(o)
        ),
        _ if smtp => format!(
            "Exchange accepted the app's token, then could not log on to the mailbox {user} to send: sending app-only needs the app's service principal to have FullAccess on the sending mailbox (or an App RBAC role assignment for SMTP)."
        ),
        _ => format!(
            "Exchange accepted the app's token and then could not connect it to the mailbox {user}: the app's service principal has no FullAccess on it (one Add-MailboxPermission per mailbox)."
        ),
    };
    let mut f = likely(
        format!("The app has no access to the mailbox {user}"),
        cause,
        format!(
            "Grant the app's service principal{} FullAccess on {user}, wait a few minutes for Exchange to apply it, then {}.",
            oid.map_or_else(String::new, |o| format!(" ({o})")),
            case.place.retest()
        ),
        {
            let mut c = opening(case, oid);
            c.push(add_mailbox_permission_line(user, oid));
            c
        },
    );
    if let Some(o) = elsewhere {
        f.evidence.push(format!(
            "{} signed in as {} with a token of the same account",
            label(o),
            user_of(o)
        ));
    }
    f.evidence.extend(what_failed(case));
    if case.not_connected() {
        f.evidence
            .push(format!("the server accepted the sign-in as {user} first"));
    }
    if alone {
        f.confidence = Confidence::Possible;
    }
    f.step = Some(SetupStep::MailboxGrant(user.to_owned()));
    Some(f)
}

pub(super) fn service_principal_missing(case: &Case<'_>) -> Option<Found> {
    if !(case.app_only() && case.microsoft() && case.token_refused() && token_fine(case)) {
        return None;
    }
    let siblings = case.siblings();
    if siblings.iter().any(|r| accepted(r)) {
        return None; // Exchange accepted the app's token elsewhere: it knows the app
    }
    let account = case.account?;
    let token_oid = case.claims().and_then(|c| c.object_id.as_deref());
    let oid = object_id(case);
    // Only targets that reached the sign-in speak of the token; the others failed on the way.
    let mut refused: Vec<String> = vec![case.who()];
    refused.extend(
        siblings
            .iter()
            .filter(|r| refused_at_sign_in(r))
            .map(|r| label(r)),
    );
    let silent = siblings.iter().filter(|r| !reached_sign_in(r)).count();
    let mut f = likely(
        "Exchange has no service principal for the app".into(),
        format!(
            "The token is right (audience, roles and expiry), yet the server refused it{}: Exchange Online does not know the app. Its service principal must be registered in Exchange with New-ServicePrincipal, using the Enterprise application's object ID{}.",
            if refused.len() > 1 {
                " for every target of the account"
            } else {
                ""
            },
            token_oid.map_or_else(String::new, |o| format!(" — the token's oid, {o}"))
        ),
        format!(
            "Register the service principal in Exchange Online PowerShell with the Enterprise application's object ID{}, then grant it each mailbox; then {}.",
            oid.map_or_else(String::new, |o| format!(" ({o})")),
            case.place.retest()
        ),
        {
            let mut c = opening(case, oid);
            c.push(new_service_principal_line(
                Some(&account.client_id),
                oid,
                &account.name,
            ));
            if let Some(u) = &case.user {
                c.push(add_mailbox_permission_line(u, oid));
            }
            c
        },
    );
    f.evidence.extend(token_summary(case));
    f.evidence.push(if refused.len() > 1 {
        format!(
            "every target of the account that reached the sign-in refused the token: {}",
            and_list(&refused)
        )
    } else {
        "it is the only target of the account that reached the sign-in in this run".to_owned()
    });
    if silent > 0 {
        f.evidence.push(format!(
            "{silent} other target{} of the account failed before the sign-in and say nothing of the token",
            if silent == 1 { "" } else { "s" }
        ));
    }
    if let Some(o) = token_oid {
        f.evidence.push(format!(
            "the token's oid {o} is the Enterprise application's object ID"
        ));
    }
    if refused.len() == 1 && case.kind == Some(TargetKind::Pop3) {
        // POP3 answers a missing grant with the same "-ERR Authentication failure" as an
        // unknown app (IMAP says "not connected" for the grant): one POP3 mailbox cannot tell.
        f.confidence = Confidence::Possible;
    }
    f.step = Some(SetupStep::ServicePrincipal);
    Some(f)
}

pub(super) fn mailbox_unavailable(case: &Case<'_>) -> Option<Found> {
    if case.app_only() || case.account.is_none() || !case.not_connected() {
        return None;
    }
    let user = case.user.clone()?;
    let token_user = case.token().and_then(|t| t.user());
    if token_user.is_some_and(|t| !same_user(t, &user)) {
        return None; // a shared mailbox: user_mismatch
    }
    if case
        .siblings()
        .iter()
        .any(|r| opened(r) && r.user.as_deref().is_some_and(|u| same_user(u, &user)))
    {
        return None; // another protocol opened it: it exists and is licensed (protocol_disabled)
    }
    let mut f = likely(
        format!("The mailbox {user} cannot be opened"),
        format!(
            "The server accepted the sign-in as {user}, then could not open the mailbox: it may be unlicensed, not provisioned yet, or have this protocol turned off."
        ),
        format!(
            "Check that {user} has a mailbox with a licence (sign in to Outlook on the web as {user}), and that the protocol is on for it."
        ),
        Vec::new(),
    );
    f.evidence.extend(what_failed(case));
    Some(f)
}

pub(super) fn token_refused(case: &Case<'_>) -> Option<Found> {
    if !case.token_refused() {
        return None;
    }
    let account = case.account?;
    let mut f = likely(
        "The server refused the token".into(),
        match case.claims() {
            None => "The server refused the token, and its claims cannot be read here (the provider issues opaque tokens), so the cause cannot be narrowed: it may be expired, lack the needed scope, or belong to another user than the sign-in name.".to_owned(),
            Some(_) => "The server refused the token although its audience, permissions and expiry look right here.".to_owned(),
        },
        format!(
            "Get a new token ({}){}, and check that the sign-in name is the token's user.",
            case.place.token_check(&account.name),
            if account.provider == Provider::Google {
                " with the scope https://mail.google.com/"
            } else {
                ""
            }
        ),
        Vec::new(),
    );
    f.confidence = Confidence::Possible;
    if let Some(Symptom::AuthRefused {
        challenge: Some(c), ..
    }) = case.symptom()
    {
        f.evidence.push(challenge_words(c));
        if account.provider == Provider::Google
            && let Some(words) = gmail_status(c, case.user.as_deref())
        {
            f.cause = words;
        }
    }
    f.evidence.extend(what_failed(case));
    Some(f)
}

/// What Gmail's XOAUTH2 error challenge means (Google's XOAUTH2 protocol page): 401 a token it
/// does not take for this user, 400 a request it cannot read.
fn gmail_status(json: &str, user: Option<&str>) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let user = user.unwrap_or("the sign-in name");
    Some(match v.get("status")?.as_str()? {
        "401" => format!(
            "Gmail answered 401: it does not take this token for {user}. The token expired or was revoked, lacks https://mail.google.com/, or belongs to another user (a service account's token is for the user in its JWT's sub; a delegated one for the signed-in user)."
        ),
        "400" => "Gmail answered 400: it could not read the sign-in (the XOAUTH2 string is malformed, or names no user).".to_owned(),
        _ => return None,
    })
}

/// The error challenge of XOAUTH2/OAUTHBEARER (`{"status":"400","scope":"…"}`) in words.
fn challenge_words(json: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    let field = |k: &str| {
        v.get(k)
            .and_then(|s| s.as_str())
            .unwrap_or_default()
            .to_owned()
    };
    let (status, scope) = (field("status"), field("scope"));
    if status.is_empty() {
        return format!("the server's error challenge says: {json}");
    }
    let mut out = format!("the server's error challenge says status {status}");
    if !scope.is_empty() {
        let _ = write!(out, ", scope needed {scope}");
    }
    out
}

pub(super) fn password_refused(case: &Case<'_>) -> Option<Found> {
    let refused = match case.symptom()? {
        Symptom::PasswordRefused { .. } => true,
        Symptom::AuthRefused { .. } => case.account.is_none(),
        _ => false,
    };
    if !refused {
        return None;
    }
    Some(proven(
        case,
        "The password was refused".into(),
        "The server refused the user name and password. Microsoft 365 accepts no passwords for IMAP and POP3, and turns SMTP AUTH with passwords off by default at the end of December 2026.".into(),
        "Check the user and password; for Microsoft 365 or Gmail, connect the mailbox or transport to a connected account so that it signs in with XOAUTH2.".into(),
        Vec::new(),
    ))
}

/// The SMTP refusals Exchange words precisely, one finding each.
fn smtp(case: &Case<'_>, want: fn(&Symptom) -> bool) -> bool {
    case.symptom().is_some_and(want)
}

fn sender(case: &Case<'_>) -> String {
    case.user.clone().unwrap_or_else(|| "the sender".into())
}

pub(super) fn smtp_auth_disabled_tenant(case: &Case<'_>) -> Option<Found> {
    use crate::probe::symptom::Scope;
    smtp(case, |s| matches!(s, Symptom::SmtpAuthDisabled { scope: Scope::Tenant, .. })).then(|| {
        let mut f = proven(case, "Authenticated SMTP is off for the whole organization".into(),
            "Exchange Online has SMTP AUTH (SmtpClientAuthentication) disabled for the tenant, so no sign-in to SMTP can succeed, whatever the token.".into(),
            "Turn authenticated SMTP on for the organization (Exchange admin center → Settings → Mail flow → uncheck \"Turn off SMTP AUTH protocol for your organization\"), or leave it off and turn it on only for this mailbox.".into(),
            vec![connect_line(tenant(case)), transport_config_line(), set_cas_mailbox_line(&sender(case))]);
        f.step = Some(SetupStep::SmtpAuth(sender(case)));
        f
    })
}

pub(super) fn smtp_auth_disabled_mailbox(case: &Case<'_>) -> Option<Found> {
    use crate::probe::symptom::Scope;
    smtp(case, |s| matches!(s, Symptom::SmtpAuthDisabled { scope: Scope::Mailbox, .. })).then(|| {
        let u = sender(case);
        let mut f = proven(case, format!("Authenticated SMTP is off for {u}"),
            format!("Exchange Online has SMTP AUTH disabled for the mailbox {u}, so it cannot sign in to SMTP, whatever the token."),
            format!("Turn on Authenticated SMTP for {u} (Microsoft 365 admin center → Users → {u} → Mail → Manage email apps)."),
            vec![connect_line(tenant(case)), set_cas_mailbox_line(&u)]);
        f.step = Some(SetupStep::SmtpAuth(u));
        f
    })
}

pub(super) fn security_defaults(case: &Case<'_>) -> Option<Found> {
    smtp(case, |s| matches!(s, Symptom::SecurityDefaults { .. })).then(|| {
        let mut f = proven(case, "Blocked by Security Defaults".into(),
            "The tenant's Security Defaults block authenticated SMTP for this account.".into(),
            "Replace Security Defaults with Conditional Access policies (Entra ID → Properties → Manage security defaults), or use an app-only account for sending.".into(),
            Vec::new());
        f.step = Some(SetupStep::SmtpAuth(sender(case)));
        f
    })
}

pub(super) fn conditional_access(case: &Case<'_>) -> Option<Found> {
    smtp(case, |s| matches!(s, Symptom::ConditionalAccess { .. })).then(|| {
        let mut f = proven(case, "Blocked by a Conditional Access policy".into(),
            "The sign-in did not meet the tenant's Conditional Access criteria (location, device or authentication strength).".into(),
            "Find the policy in Entra ID → Sign-in logs (this sign-in, Conditional Access tab) and exclude the account or app, or meet its conditions.".into(),
            Vec::new());
        f.step = Some(SetupStep::SmtpAuth(sender(case)));
        f
    })
}

pub(super) fn basic_auth_disabled(case: &Case<'_>) -> Option<Found> {
    smtp(case, |s| matches!(s, Symptom::BasicAuthDisabled { .. })).then(|| proven(case,
        "Basic authentication is disabled".into(),
        "The tenant refuses sign-in with a password (basic authentication) to SMTP.".into(),
        "Sign in with OAuth2 instead: connect the transport to a connected account (XOAUTH2), which mailcfg sets up and tests.".into(),
        Vec::new()))
}

pub(super) fn basic_auth_retired(case: &Case<'_>) -> Option<Found> {
    smtp(case, |s| matches!(s, Symptom::BasicAuthRetired { .. })).then(|| proven(case,
        "Password sign-in to SMTP is no longer supported".into(),
        "Exchange Online no longer accepts a password (basic authentication) for client submission: SMTP AUTH Basic is off by default from the end of December 2026.".into(),
        "Move the transport to OAuth2: connect it to a connected account so that it signs in with XOAUTH2 (app-only needs SMTP.SendAsApp, delegated SMTP.Send).".into(),
        Vec::new()))
}

pub(super) fn mechanism_unrecognized(case: &Case<'_>) -> Option<Found> {
    smtp(case, |s| matches!(s, Symptom::MechanismUnrecognized { .. })).then(|| proven(case,
        "The server does not accept this sign-in method".into(),
        "504 5.7.4: the server does not take this mechanism here: the sign-in came before STARTTLS (Exchange Online offers XOAUTH2 only after it), or the host is another server.".into(),
        "Use smtp.office365.com port 587 with STARTTLS: mailcfg signs in after STARTTLS and a second EHLO. If that is so already, turn authenticated SMTP on for the mailbox.".into(),
        vec![connect_line(tenant(case)), set_cas_mailbox_line(&sender(case))]))
}

pub(super) fn not_authenticated_to_send(case: &Case<'_>) -> Option<Found> {
    smtp(case, |s| matches!(s, Symptom::NotAuthenticatedToSend { .. })).then(|| proven(case,
        "Not signed in before sending".into(),
        "The server requires a sign-in before MAIL FROM (530 5.7.57 Client not authenticated): the transport did not sign in, or the sign-in did not succeed.".into(),
        "Turn on authentication for the transport and connect it to a connected account (XOAUTH2).".into(),
        Vec::new()))
}

pub(super) fn send_as_denied(case: &Case<'_>) -> Option<Found> {
    smtp(case, |s| matches!(s, Symptom::SendAsDenied { .. })).then(|| {
        let u = sender(case);
        // App-only: the app's service principal sends; delegated: the signed-in user.
        let trustee = if case.app_only() {
            object_id(case).map_or_else(|| u.clone(), str::to_owned)
        } else {
            case.token()
                .and_then(|t| t.user())
                .map_or_else(|| u.clone(), str::to_owned)
        };
        proven(case, format!("Not allowed to send as {u}"),
            format!("The signed-in identity may not send as {u} (550 5.7.60)."),
            format!("Send as the signed-in mailbox, or grant Send As on {u} to the identity that signs in."),
            vec![connect_line(tenant(case)), add_recipient_permission_line(&u, &trustee)])
    })
}

pub(super) fn temporary_auth_failure(case: &Case<'_>) -> Option<Found> {
    smtp(case, |s| matches!(s, Symptom::TemporaryAuthFailure { .. })).then(|| proven(case,
        "The server could not check the sign-in right now".into(),
        "The mail server had a temporary failure checking the token (its identity provider did not answer in time).".into(),
        format!("Wait a few minutes and {}; if it persists, the server's administrator must check its OAuth2 set-up.", case.place.retest()),
        Vec::new()))
}

pub(super) fn tls_required(case: &Case<'_>) -> Option<Found> {
    let hit = smtp(case, |s| {
        matches!(
            s,
            Symptom::TlsRequired { .. }
                | Symptom::MechanismNotOffered {
                    tls_first: true,
                    ..
                }
        )
    });
    hit.then(|| {
        proven(
            case,
            "Sign-in needs TLS first".into(),
            "The server refuses sign-in on an unencrypted connection.".into(),
            format!("Choose {}.", super::network::tls_choice(case)),
            Vec::new(),
        )
    })
}

pub(super) fn server_error(case: &Case<'_>) -> Option<Found> {
    smtp(case, |s| matches!(s, Symptom::ServerError { .. })).then(|| proven(case,
        "Server error".into(),
        "The server reported an internal error.".into(),
        format!("Try again later ({}); if it repeats, the server's administrator must check its log.", case.place.retest()),
        Vec::new()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn gmails_error_challenge_is_read_by_its_status() {
        let c = r#"{"status":"401","schemes":"bearer mac","scope":"https://mail.google.com/"}"#;
        let words = super::gmail_status(c, Some("alice@example.com")).unwrap();
        assert!(
            words.contains("401") && words.contains("alice@example.com"),
            "{words}"
        );
        assert!(
            super::gmail_status(r#"{"status":"400"}"#, None)
                .unwrap()
                .contains("400")
        );
        assert_eq!(
            super::gmail_status(r#"{"status":"invalid_token"}"#, None),
            None
        );
        assert!(
            super::challenge_words(c).contains("status 401, scope needed https://mail.google.com/")
        );
    }
}
