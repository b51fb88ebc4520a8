//! The Azure and Exchange Online set-up steps of the guides as a live checklist: each step's state
//! comes from what the app has seen (a token, its roles, a connection test), the first failing
//! step is the one to fix, and the Exchange steps carry their PowerShell line, filled in. Pure:
//! the window feeds it what it saw.

use std::time::SystemTime;

use crate::export::{
    add_mailbox_permission_line, connect_line, new_service_principal_line, set_cas_mailbox_line,
};
use crate::oauth::claims::{self, Problem};
use crate::probe::{Report, Status, Step as ProbeStep};
use crate::profile::{Account, Flow, Profile, Protocol};
use crate::profile::{SECRET_EXPIRY_WARNING_DAYS, days_until};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Proven by what the app saw.
    Done,
    /// What the app saw says this step is missing or wrong.
    Failed,
    /// Done, but needs attention soon (a secret about to expire).
    Warning,
    /// Not known yet: sign in or test to find out.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    pub title: String,
    /// Where in the portal, or what the command does.
    pub how: String,
    pub state: State,
    /// Why this state: what the app saw.
    pub evidence: String,
    /// Exchange Online PowerShell lines for this step, ready to copy.
    pub commands: Vec<String>,
}

/// What a sign-in with the account gave.
#[derive(Debug, Clone, Copy)]
pub enum SignInSeen<'a> {
    NotYet,
    /// The identity provider's code when it refused (`AADSTS7000215`), `None` for other failures
    /// (network, configuration).
    Failed(Option<&'a str>),
    Token {
        problems: &'a [Problem],
    },
}

/// The checklist of a Microsoft account, from what was seen. `reports` are the last test reports
/// of the profile's mailboxes and transports (any account; those of others are ignored).
// One list of steps in the guides' order reads best top to bottom, in one function.
#[allow(clippy::too_many_lines)]
pub fn checklist(
    profile: &Profile,
    account: &Account,
    sign_in: SignInSeen<'_>,
    reports: &[&Report],
    now: SystemTime,
) -> Vec<Item> {
    let needs = claims::needs(profile, &account.name);
    let code_in =
        |codes: &[&str]| matches!(sign_in, SignInSeen::Failed(Some(code)) if codes.contains(&code));
    let got = matches!(sign_in, SignInSeen::Token { .. });
    let missing: Vec<&Problem> = match sign_in {
        SignInSeen::Token { problems } => problems
            .iter()
            .filter(|p| p.title.contains("lacks"))
            .collect(),
        _ => Vec::new(),
    };
    let app_only = account.flow == Flow::AppOnly;
    let mut items = Vec::new();

    let (state, evidence) = if got {
        (
            State::Done,
            "a token was issued for this client ID and tenant".to_owned(),
        )
    } else if code_in(&["AADSTS700016", "AADSTS90002", "AADSTS700011", "AADSTS50194"]) {
        (
            State::Failed,
            "the sign-in says the app or the tenant was not found".to_owned(),
        )
    } else {
        (State::Unknown, "sign in to check".to_owned())
    };
    items.push(Item {
        title: "Register the app".into(),
        how: if app_only {
            "Entra ID → App registrations → New registration; copy the Application (client) ID and the Directory (tenant) ID into the account".into()
        } else {
            "Entra ID → App registrations → New registration; under Authentication add \"Mobile and desktop applications\" with http://localhost and allow public client flows".into()
        },
        state,
        evidence,
        commands: Vec::new(),
    });

    if app_only {
        items.push(secret_item(
            account,
            got,
            code_in(&["AADSTS7000215", "AADSTS7000222", "AADSTS7000218"]),
            now,
        ));
    }

    let perms: Vec<&str> = {
        let mut v: Vec<&str> = needs
            .iter()
            .map(|n| n.service.permission(account.flow))
            .collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let (state, evidence) = if !missing.is_empty() {
        (
            State::Failed,
            missing
                .iter()
                .map(|p| p.title.clone())
                .collect::<Vec<_>>()
                .join("; "),
        )
    } else if got {
        (
            State::Done,
            format!(
                "the token carries {}",
                if perms.is_empty() {
                    "what is needed".to_owned()
                } else {
                    perms.join(", ")
                }
            ),
        )
    } else {
        (
            State::Unknown,
            "sign in to check the token's permissions".to_owned(),
        )
    };
    items.push(Item {
        title: "Add the API permissions".into(),
        how: if app_only {
            format!(
                "API permissions → Add a permission → APIs my organization uses → Office 365 Exchange Online → Application permissions: {}",
                perms.join(", ")
            )
        } else {
            format!("API permissions → Add a permission → Microsoft Graph → Delegated permissions: {}, offline_access", perms.join(", "))
        },
        state,
        evidence: evidence.clone(),
        commands: Vec::new(),
    });
    let (state, evidence) = if code_in(&["AADSTS65001", "AADSTS90094"]) {
        (
            State::Failed,
            "the sign-in says consent has not been given".to_owned(),
        )
    } else if !missing.is_empty() {
        (
            State::Failed,
            "permissions reach the token only after consent: grant it after adding them".to_owned(),
        )
    } else if got {
        (
            State::Done,
            "the token carries the permissions, so consent was given".to_owned(),
        )
    } else {
        (State::Unknown, "sign in to check".to_owned())
    };
    items.push(Item {
        title: "Grant admin consent".into(),
        how: "API permissions → Grant admin consent for your organization".into(),
        state,
        evidence,
        commands: Vec::new(),
    });

    let mine = |name: &str| reports.iter().copied().find(|r| r.target == name);
    let mailboxes: Vec<_> = profile
        .mailboxes
        .iter()
        .filter(|m| m.account.as_deref() == Some(&account.name))
        .collect();
    let transports: Vec<_> = profile
        .transports
        .iter()
        .filter(|t| t.auth && t.account.as_deref() == Some(&account.name))
        .collect();
    if app_only {
        let mailbox_reports: Vec<&Report> =
            mailboxes.iter().filter_map(|m| mine(&m.name)).collect();
        let authenticated = mailbox_reports
            .iter()
            .any(|r| step_is(r, ProbeStep::Authenticate, Status::Ok));
        let refused = mailbox_reports
            .iter()
            .any(|r| step_is(r, ProbeStep::Authenticate, Status::Failed));
        let (state, evidence) = if authenticated {
            (State::Done, "a mailbox accepted the app's token".to_owned())
        } else if refused && got && missing.is_empty() {
            (State::Failed, "the token is right, yet the server refused it: Exchange does not know the app's service principal".to_owned())
        } else {
            (State::Unknown, "test a mailbox to check".to_owned())
        };
        let oid = account.enterprise_object_id.as_deref();
        let mut commands = vec![
            connect_line(account.tenant.as_deref()),
            new_service_principal_line(&account.client_id, oid, &account.name),
        ];
        if oid.is_none() {
            commands.insert(
                1,
                format!("$objectId = (Get-MgServicePrincipal -Filter \"appId eq '{}'\").Id   # Microsoft Graph PowerShell", account.client_id),
            );
        }
        items.push(Item {
            title: "Register the service principal in Exchange Online".into(),
            how: "Exchange Online PowerShell, with the Enterprise application's Object ID (not the App registration's)".into(),
            state,
            evidence,
            commands,
        });
        for m in &mailboxes {
            let (state, evidence) = match mine(&m.name) {
                Some(r) if r.ok => (
                    State::Done,
                    format!("{} opened {}", m.protocol.as_str().to_uppercase(), m.user),
                ),
                Some(r) if step_is(r, ProbeStep::Mailbox, Status::Failed) => (
                    State::Failed,
                    format!(
                        "signed in, but {} could not be opened: the app has no permission on it",
                        m.user
                    ),
                ),
                // Accepted for another mailbox, refused for this one: this mailbox is the difference.
                Some(r) if authenticated && step_is(r, ProbeStep::Authenticate, Status::Failed) => {
                    (
                        State::Failed,
                        format!(
                            "the server refused the token for {} while it accepted it for another mailbox: grant the app this one, or check the address",
                            m.user
                        ),
                    )
                }
                Some(_) => (
                    State::Unknown,
                    "the last test failed before the mailbox step".to_owned(),
                ),
                None => (State::Unknown, "test this mailbox to check".to_owned()),
            };
            items.push(Item {
                title: format!("Grant the app the mailbox {}", m.user),
                how: format!(
                    "FullAccess for the service principal ({} via {})",
                    m.user,
                    if m.protocol == Protocol::Imap {
                        "IMAP"
                    } else {
                        "POP3"
                    }
                ),
                state,
                evidence,
                commands: vec![add_mailbox_permission_line(&m.user, oid)],
            });
        }
    }
    for t in &transports {
        let user = t.username.clone().unwrap_or_default();
        let (state, evidence) = match mine(&t.name) {
            Some(r) if r.ok => (
                State::Done,
                format!("{user} signed in to SMTP and was accepted as sender"),
            ),
            Some(r)
                if step_is(r, ProbeStep::Authenticate, Status::Failed) && smtp_auth_disabled(r) =>
            {
                (
                    State::Failed,
                    "the server says SMTP AUTH is disabled for this mailbox or tenant".to_owned(),
                )
            }
            Some(_) => (
                State::Unknown,
                "the last test failed for another reason".to_owned(),
            ),
            None => (State::Unknown, "test this transport to check".to_owned()),
        };
        items.push(Item {
            title: format!("Allow authenticated SMTP for {user}"),
            how:
                "Microsoft 365 admin center → user → Mail → Manage email apps → Authenticated SMTP"
                    .into(),
            state,
            evidence,
            commands: vec![set_cas_mailbox_line(&user)],
        });
    }
    for item in &mut items {
        withhold_empty(item);
    }
    items
}

/// A command with an empty value (`-AppId ''`) would fail or, worse, act on the wrong object: it
/// is not offered, and the step says which field to fill in first.
fn withhold_empty(item: &mut Item) {
    let mut missing: Vec<String> = Vec::new();
    for c in &item.commands {
        let words: Vec<&str> = c.split_whitespace().collect();
        for pair in words.windows(2) {
            if pair[1] == "''" {
                let field = match pair[0] {
                    "-AppId" => "the account's Client ID",
                    "-Organization" => "the account's Tenant",
                    "-ObjectId" | "-User" => "the account's Enterprise object ID",
                    "-Identity" => "the mailbox address (User, or the transport's Username)",
                    other => other,
                };
                if !missing.iter().any(|m| m == field) {
                    missing.push(field.to_owned());
                }
            }
        }
    }
    if !missing.is_empty() {
        item.commands.clear();
        item.evidence = format!(
            "{}; fill in {} to get its PowerShell line",
            item.evidence,
            missing.join(" and ")
        );
    }
}

fn secret_item(account: &Account, got: bool, refused: bool, now: SystemTime) -> Item {
    let days = account
        .client_secret_expires
        .as_deref()
        .and_then(|d| days_until(d, now));
    let date = account.client_secret_expires.clone().unwrap_or_default();
    let (state, evidence) = match days {
        Some(d) if d < 0 => (State::Failed, format!("the secret expired on {date}")),
        _ if refused => (
            State::Failed,
            "the identity provider refused the secret".to_owned(),
        ),
        Some(d) if d <= SECRET_EXPIRY_WARNING_DAYS => (
            State::Warning,
            format!("the secret expires on {date}, in {d} days: create the next one now"),
        ),
        Some(d) if got => (
            State::Done,
            format!("accepted; it expires on {date} ({d} days)"),
        ),
        None if got => (
            State::Done,
            "accepted (enter its expiry date in the account to be reminded 30 days before)"
                .to_owned(),
        ),
        _ => (State::Unknown, "sign in to check".to_owned()),
    };
    Item {
        title: "Create a client secret".into(),
        how: "Certificates & secrets → New client secret; copy its Value (not its Secret ID) and note its expiry date".into(),
        state,
        evidence,
        commands: Vec::new(),
    }
}

fn step_is(r: &Report, step: ProbeStep, status: Status) -> bool {
    r.steps.iter().any(|e| e.step == step && e.status == status)
}

fn smtp_auth_disabled(r: &Report) -> bool {
    r.steps
        .iter()
        .any(|e| e.detail.contains("5.7.139") || e.detail.contains("SmtpClientAuthentication"))
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use super::*;
    use crate::probe::{Event, TargetKind};
    use crate::profile::presets;

    fn report(target: &str, failed_at: Option<ProbeStep>) -> Report {
        let steps = [ProbeStep::Authenticate, ProbeStep::Mailbox]
            .into_iter()
            .map(|step| Event {
                target: target.into(),
                step,
                status: if Some(step) == failed_at {
                    Status::Failed
                } else {
                    Status::Ok
                },
                elapsed: Duration::ZERO,
                detail: String::new(),
                transcript: Vec::new(),
            })
            .collect();
        Report {
            target: target.into(),
            kind: TargetKind::Imap,
            steps,
            transcript: Vec::new(),
            diagnosis: None,
            ok: failed_at.is_none(),
            total: Duration::ZERO,
        }
    }

    fn state(items: &[Item], title: &str) -> State {
        match items.iter().find(|i| i.title.starts_with(title)) {
            Some(i) => i.state,
            None => panic!("no step {title}: {items:#?}"),
        }
    }

    #[test]
    #[allow(clippy::many_single_char_names)]
    fn each_step_takes_its_state_from_what_was_seen() {
        let mut p = presets::microsoft365_profile();
        p.accounts[0].client_secret_expires = Some("2026-12-10".into());
        let a = p.accounts[0].clone();
        let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000); // 2026-11-18
        let nothing = checklist(&p, &a, SignInSeen::NotYet, &[], now);
        assert!(
            nothing
                .iter()
                .all(|i| i.state == State::Unknown || i.title == "Create a client secret"),
            "{nothing:#?}"
        );
        assert_eq!(
            state(&nothing, "Create a client secret"),
            State::Warning,
            "2026-12-10 is 22 days away"
        );

        let refused = checklist(&p, &a, SignInSeen::Failed(Some("AADSTS7000215")), &[], now);
        assert_eq!(state(&refused, "Create a client secret"), State::Failed);
        assert_eq!(state(&refused, "Register the app"), State::Unknown);

        let lacking = [Problem {
            title: "the token lacks SMTP.SendAsApp, which SMTP needs".into(),
            fix: String::new(),
        }];
        let l = checklist(&p, &a, SignInSeen::Token { problems: &lacking }, &[], now);
        assert_eq!(state(&l, "Register the app"), State::Done);
        assert_eq!(state(&l, "Add the API permissions"), State::Failed);
        assert_eq!(state(&l, "Grant admin consent"), State::Failed);

        let mailbox = p.mailboxes[0].name.clone();
        let r = report(&mailbox, Some(ProbeStep::Mailbox));
        let c = checklist(&p, &a, SignInSeen::Token { problems: &[] }, &[&r], now);
        assert_eq!(
            state(&c, "Register the service principal"),
            State::Done,
            "the token was accepted"
        );
        let grant = c
            .iter()
            .find(|i| i.title.starts_with("Grant the app the mailbox"))
            .unwrap();
        assert_eq!(grant.state, State::Failed);
        assert!(
            grant.commands[0].starts_with("Add-MailboxPermission -Identity '"),
            "{:?}",
            grant.commands
        );

        let r = report(&mailbox, Some(ProbeStep::Authenticate));
        let c = checklist(&p, &a, SignInSeen::Token { problems: &[] }, &[&r], now);
        let sp = c
            .iter()
            .find(|i| i.title.starts_with("Register the service principal"))
            .unwrap();
        assert_eq!(sp.state, State::Failed);
        assert!(
            sp.commands
                .iter()
                .any(|c| c.starts_with("New-ServicePrincipal -AppId")),
            "{:?}",
            sp.commands
        );
        assert!(
            sp.commands
                .iter()
                .any(|c| c.contains("Get-MgServicePrincipal")),
            "no object ID in the profile: looked up"
        );

        let mut two = p.clone();
        let mut other = two.mailboxes[0].clone();
        "Other".clone_into(&mut other.name);
        "other@contoso.example".clone_into(&mut other.user);
        two.mailboxes.push(other);
        let (good, refused) = (
            report(&mailbox, None),
            report("Other", Some(ProbeStep::Authenticate)),
        );
        let c = checklist(
            &two,
            &a,
            SignInSeen::Token { problems: &[] },
            &[&good, &refused],
            now,
        );
        assert_eq!(
            state(&c, "Grant the app the mailbox other@contoso.example"),
            State::Failed
        );
        assert_eq!(state(&c, "Register the service principal"), State::Done);

        let ok = report(&mailbox, None);
        let c = checklist(&p, &a, SignInSeen::Token { problems: &[] }, &[&ok], now);
        assert_eq!(state(&c, "Grant the app the mailbox"), State::Done);
    }

    #[test]
    fn no_command_is_offered_with_an_empty_value() {
        let p = presets::microsoft365_start();
        let a = p.accounts[0].clone();
        let items = checklist(&p, &a, SignInSeen::NotYet, &[], SystemTime::now());
        for i in &items {
            for c in &i.commands {
                assert!(!c.contains("''"), "{c}");
            }
        }
        let sp = items
            .iter()
            .find(|i| i.title.starts_with("Register the service principal"))
            .unwrap();
        assert!(sp.commands.is_empty());
        assert!(
            sp.evidence.contains("fill in the account's Client ID"),
            "{}",
            sp.evidence
        );
    }
}
