//! Google's set-up steps: the Cloud project with its OAuth client (delegated) or service account
//! (app-only), the consent screen, domain-wide delegation with the exact client ID and scope,
//! and IMAP (or POP) on for each mailbox user; each with its state from what the run saw.

use super::Item;
use crate::diagnosis::{Diagnosis, Evidence, SetupStep, SignInSeen};
use crate::probe::{Status, Step as ProbeStep};
use crate::profile::{Account, Protocol};
use crate::provider::google::{
    CONSENT_PAGE, CREDENTIALS_PAGE, DELEGATION_PAGE, IMAP_ACCESS_PAGE, MAIL_SCOPE,
    SERVICE_ACCOUNTS_PAGE,
};

/// What the run saw of the account, for the steps.
struct Seen<'a> {
    /// The users a service account got tokens for.
    tokens: Vec<&'a str>,
    /// Any token at all: the account's own, or one of its users'.
    got: bool,
    scope: String,
}

pub(super) fn checklist(ev: &Evidence<'_>, account: &Account, findings: &[Diagnosis]) -> Vec<Item> {
    let mut tokens: Vec<&str> = ev
        .user_sign_ins
        .iter()
        .filter(|(a, _, s)| *a == account.name && matches!(s, SignInSeen::Token(_)))
        .map(|(_, u, _)| *u)
        .collect();
    if let Some(SignInSeen::Token(t)) = ev.sign_in(&account.name)
        && let Some(u) = t.user()
        && !tokens.iter().any(|x| x.eq_ignore_ascii_case(u))
    {
        tokens.push(u);
    }
    let seen = Seen {
        got: matches!(ev.sign_in(&account.name), Some(SignInSeen::Token(_))) || !tokens.is_empty(),
        tokens,
        scope: if account.scopes.is_empty() {
            MAIL_SCOPE.to_owned()
        } else {
            account.scopes.join(" ")
        },
    };
    let mut items = if account.is_service_account() {
        service_account(account, findings, &seen)
    } else {
        desktop_client(findings, &seen)
    };
    if let Some(d) = on(findings, &SetupStep::Token) {
        items.push(
            Item::new(
                "Ask for the token right",
                format!("the scope {MAIL_SCOPE}, and this computer's clock"),
            )
            .failed(d),
        );
    }
    users(ev, account, findings, &mut items);
    for d in findings.iter().filter(|d| d.setup_step.is_none()) {
        items.push(Item::new("Something else stands in the way", d.fix.clone()).failed(d));
    }
    items
}

fn on<'a>(findings: &'a [Diagnosis], step: &SetupStep) -> Option<&'a Diagnosis> {
    findings
        .iter()
        .find(|d| d.setup_step.as_ref() == Some(step))
}

fn service_account(account: &Account, findings: &[Diagnosis], seen: &Seen<'_>) -> Vec<Item> {
    let create = Item::new(
        "Create the project and the service account, and import its key",
        format!(
            "{SERVICE_ACCOUNTS_PAGE} → Create service account (it needs no roles); then its Keys → Add key → Create new key → JSON, and import that file here (the private key goes to the keyring)"
        ),
    );
    let create = match (
        on(findings, &SetupStep::ClientSecret),
        &account.client_email,
    ) {
        (Some(d), _) => create.failed(d),
        (None, Some(e)) if seen.got => create.done(format!(
            "Google accepted a JWT of {e} signed with the key {}",
            account.private_key_id.as_deref().unwrap_or("(unnamed)")
        )),
        (None, Some(e)) => {
            create.unknown(format!("the profile names {e}: sign in to check its key"))
        }
        (None, None) => create.unknown("no key imported yet"),
    };
    let id = if account.client_id.is_empty() {
        "(the service account's Unique ID)"
    } else {
        account.client_id.as_str()
    };
    let delegate = Item::new(
        "Grant domain-wide delegation",
        format!(
            "{DELEGATION_PAGE} → Add new: Client ID {id}, OAuth scopes {} → Authorize (a super administrator; it can take minutes to apply)",
            seen.scope
        ),
    )
    .with(if account.client_id.trim().is_empty() {
        Vec::new()
    } else {
        vec![account.client_id.clone(), seen.scope.clone()]
    });
    let delegate = match on(findings, &SetupStep::DomainWideDelegation) {
        Some(d) => delegate.failed(d),
        None if seen.got => delegate.done(format!(
            "Google handed out tokens for {}",
            if seen.tokens.is_empty() {
                "a user".to_owned()
            } else {
                seen.tokens.join(", ")
            }
        )),
        None => delegate.unknown("sign in (Get token) to check"),
    };
    vec![create, delegate]
}

fn desktop_client(findings: &[Diagnosis], seen: &Seen<'_>) -> Vec<Item> {
    let client = Item::new(
        "Create the project and an OAuth client of the type Desktop app",
        format!(
            "{CREDENTIALS_PAGE} → Create credentials → OAuth client ID → Desktop app; enter its client ID and client secret in the account (a Desktop app's secret is not confidential, but Google requires it)"
        ),
    );
    let client = match on(findings, &SetupStep::RegisterApp) {
        Some(d) => client.failed(d),
        None if seen.got => client.done("Google issued a token to this client"),
        None => client.unknown("sign in to check"),
    };
    let consent = Item::new(
        "Configure the OAuth consent screen",
        format!(
            "{CONSENT_PAGE}: audience Internal (Google Workspace) or External with the users as test users; under Data access add {MAIL_SCOPE}. An External app in Testing gets refresh tokens that expire after 7 days: publish it to keep sign-ins"
        ),
    );
    let consent = match on(findings, &SetupStep::ConsentScreen) {
        Some(d) => consent.failed(d),
        None if seen.got => consent.done(format!("the user consented to {}", seen.scope)),
        None => consent.unknown("sign in to check"),
    };
    vec![client, consent]
}

/// One step per mailbox user (IMAP or POP on, and a user of the domain for a service account),
/// and per sending transport.
fn users(ev: &Evidence<'_>, account: &Account, findings: &[Diagnosis], items: &mut Vec<Item>) {
    let on = |step: &SetupStep| on(findings, step);
    let mine = |a: &Option<String>| a.as_deref() == Some(account.name.as_str());
    let report = |name: &str| {
        ev.reports
            .iter()
            .find(|r| r.target == name && r.account.as_deref() == Some(account.name.as_str()))
    };
    for m in ev.profile.mailboxes.iter().filter(|m| mine(&m.account)) {
        let proto = if m.protocol == Protocol::Imap {
            "IMAP"
        } else {
            "POP"
        };
        let user = if m.user.is_empty() {
            "the signed-in user".to_owned()
        } else {
            m.user.clone()
        };
        let item = Item::new(
            if account.is_service_account() {
                format!("{user}: a user of the domain, with {proto} on")
            } else {
                format!("{proto} on for {user}")
            },
            IMAP_ACCESS_PAGE,
        );
        let finding = on(&SetupStep::DomainUser(m.user.to_lowercase()))
            .or_else(|| on(&SetupStep::DomainUser(m.user.clone())))
            .or_else(|| on(&SetupStep::ProtocolEnabled(m.user.clone())));
        items.push(match (finding, report(&m.name)) {
            (Some(d), _) => item.failed(d),
            (None, Some(r)) if r.step_is(ProbeStep::Mailbox, Status::Ok) => {
                item.done(format!("{proto} opened the mailbox of {user}"))
            }
            (None, Some(_)) => item.unknown("the last test did not reach the mailbox"),
            (None, None) => item.unknown("test this mailbox to check"),
        });
    }
    for t in ev
        .profile
        .transports
        .iter()
        .filter(|t| t.auth && mine(&t.account))
    {
        let user = t.username.clone().unwrap_or_default();
        let item = Item::new(
            format!("Send as {user} through Gmail's SMTP"),
            "nothing to switch on: SMTP takes the same token as IMAP",
        );
        let finding = on(&SetupStep::DomainUser(user.to_lowercase()));
        items.push(match (finding, report(&t.name)) {
            (Some(d), _) => item.failed(d),
            (None, Some(r)) if r.step_is(ProbeStep::Authenticate, Status::Ok) => {
                item.done(format!("{user} signed in to SMTP"))
            }
            (None, Some(_)) => item.unknown("the last test did not reach the sign-in"),
            (None, None) => item.unknown("test this transport to check"),
        });
    }
}
