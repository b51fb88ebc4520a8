//! The set-up steps of the guides as a live checklist (Entra ID and Exchange Online here, Google's
//! in `checklist/google.rs`): a view of the
//! steps with the diagnosis's findings placed on them. A step fails only where a finding of
//! `crate::diagnosis` lands (so the checklist and the Test panel cannot disagree), is done where
//! the run proves it (a token issued, a mailbox opened), and is unknown otherwise. Steps that the
//! guides need only sometimes (a protocol switched back on, the token's resource) appear when a
//! finding lands on them. Pure: the caller hands in the evidence and the findings.

use std::time::SystemTime;

use crate::diagnosis::{Diagnosis, Evidence, Kind, SetupStep, SignInSeen};
use crate::export::{
    add_mailbox_permission_line, connect_line, new_service_principal_line, set_cas_mailbox_line,
};
use crate::probe::{Status, Step as ProbeStep};
use crate::profile::{Account, Flow, Protocol};
use crate::profile::{SECRET_EXPIRY_WARNING_DAYS, days_until};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Proven by what the app saw.
    Done,
    /// A finding of the diagnosis lands here.
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
    /// The kind of the finding placed here, if any (the same as the Test panel's diagnosis).
    pub kind: Option<Kind>,
    /// The set-up step this item is, for findings and for what the set-up script reported.
    pub step: Option<SetupStep>,
}

impl Item {
    fn new(title: impl Into<String>, how: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            how: how.into(),
            state: State::Unknown,
            evidence: String::new(),
            commands: Vec::new(),
            kind: None,
            step: None,
        }
    }

    fn of(mut self, step: SetupStep) -> Self {
        self.step = Some(step);
        self
    }

    fn done(mut self, evidence: impl Into<String>) -> Self {
        self.state = State::Done;
        self.evidence = evidence.into();
        self
    }

    fn unknown(mut self, evidence: impl Into<String>) -> Self {
        self.state = State::Unknown;
        self.evidence = evidence.into();
        self
    }

    fn with(mut self, commands: Vec<String>) -> Self {
        self.commands = commands;
        self
    }

    /// Places a finding on the step: failed, with its evidence and commands.
    fn failed(mut self, d: &Diagnosis) -> Self {
        self.state = State::Failed;
        let mut why = vec![d.title.clone()];
        why.extend(d.evidence.iter().cloned());
        self.evidence = why.join("; ");
        if !d.commands.is_empty() {
            self.commands.clone_from(&d.commands);
        }
        self.kind = Some(d.kind);
        self
    }
}

/// The checklist of a Microsoft account. `findings` are the diagnosis's findings of this run:
/// the account's own (before any test) and those of its failed targets.
// One list of steps in the guides' order reads best top to bottom, in one function.
#[allow(clippy::too_many_lines)]
pub fn checklist(
    ev: &Evidence<'_>,
    account: &Account,
    findings: &[Diagnosis],
    now: SystemTime,
) -> Vec<Item> {
    if account.provider == crate::profile::Provider::Google {
        return google::checklist(ev, account, findings);
    }
    let on = |step: &SetupStep| {
        findings
            .iter()
            .find(|d| d.setup_step.as_ref() == Some(step))
    };
    let token = match ev.sign_in(&account.name) {
        Some(SignInSeen::Token(t)) => Some(t),
        _ => None,
    };
    let claims = token.and_then(|t| t.claims.as_ref().ok());
    let app_only = account.flow == Flow::AppOnly;
    let ids_known = !account.client_id.trim().is_empty();
    let reports: Vec<_> = ev
        .reports
        .iter()
        .filter(|r| r.account.as_deref() == Some(account.name.as_str()))
        .collect();
    let mut items = Vec::new();

    let register = Item::new(
        "Register the app",
        if app_only {
            "Entra ID → App registrations → New registration; copy the Application (client) ID and the Directory (tenant) ID into the account"
        } else {
            "Entra ID → App registrations → New registration; under Authentication add \"Mobile and desktop applications\" with http://localhost and allow public client flows"
        },
    );
    let register = register.of(SetupStep::RegisterApp);
    items.push(match (on(&SetupStep::RegisterApp), token) {
        (Some(d), _) => register.failed(d),
        (None, Some(_)) => register.done("a token was issued for this client ID and tenant"),
        _ => register.unknown("sign in to check"),
    });
    if let Some(d) = on(&SetupStep::Token) {
        items.push(
            Item::new(
                "Ask for a token of Exchange Online",
                "the account's scopes in mailcfg, and this computer's clock",
            )
            .failed(d),
        );
    }
    if app_only {
        items.push(secret_item(
            account,
            token.is_some(),
            on(&SetupStep::ClientSecret),
            now,
        ));
    }

    let mut perms: Vec<&str> = crate::oauth::claims::needs(ev.profile, &account.name)
        .iter()
        .map(|n| n.service.permission(account.flow))
        .collect();
    perms.sort_unstable();
    perms.dedup();
    let perms = perms.join(", ");
    let consent = on(&SetupStep::AdminConsent);
    let permissions = Item::new(
        "Add the API permissions",
        if app_only {
            format!(
                "API permissions → Add a permission → APIs my organization uses → Office 365 Exchange Online → Application permissions: {perms}"
            )
        } else {
            format!(
                "API permissions → Add a permission → Microsoft Graph → Delegated permissions: {perms}, offline_access"
            )
        },
    );
    let permissions = permissions.of(SetupStep::ApiPermissions);
    items.push(match (on(&SetupStep::ApiPermissions), consent, claims) {
        (Some(d), _, _) => permissions.failed(d),
        (None, Some(_), _) => permissions
            .unknown("the token shows the permissions only after consent: grant it, then check"),
        (None, None, Some(_)) => permissions.done(format!("the token carries {perms}")),
        _ => permissions.unknown("sign in to check the token's permissions"),
    });
    let grant = Item::new(
        "Grant admin consent",
        "API permissions → Grant admin consent for your organization",
    )
    .of(SetupStep::AdminConsent);
    items.push(match (consent, claims) {
        (Some(d), _) => grant.failed(d),
        (None, Some(c)) if !c.roles.is_empty() || !c.scopes.is_empty() => {
            grant.done("the token carries permissions, so consent was given")
        }
        _ => grant.unknown("sign in to check"),
    });

    if app_only {
        let oid = account
            .enterprise_object_id
            .as_deref()
            .or_else(|| claims?.object_id.as_deref());
        let accepted = reports
            .iter()
            .any(|r| r.step_is(ProbeStep::Authenticate, Status::Ok));
        let sp = Item::new(
            "Register the service principal in Exchange Online",
            "Exchange Online PowerShell, with the Enterprise application's Object ID (not the App registration's)",
        )
        .of(SetupStep::ServicePrincipal)
        .with(if ids_known {
            vec![
                connect_line(account.tenant.as_deref()),
                new_service_principal_line(Some(&account.client_id), oid, &account.name),
            ]
        } else {
            Vec::new()
        });
        items.push(match on(&SetupStep::ServicePrincipal) {
            Some(d) => sp.failed(d),
            None if accepted => sp.done("a mailbox accepted the app's token"),
            None => sp.unknown("test a mailbox to check"),
        });
        for m in ev
            .profile
            .mailboxes
            .iter()
            .filter(|m| m.account.as_deref() == Some(account.name.as_str()))
        {
            let proto = if m.protocol == Protocol::Imap {
                "IMAP"
            } else {
                "POP3"
            };
            let grant = Item::new(
                format!("Grant the app the mailbox {}", m.user),
                format!(
                    "FullAccess for the service principal ({} via {proto})",
                    m.user
                ),
            )
            .of(SetupStep::MailboxGrant(m.user.clone()))
            .with(if m.user.trim().is_empty() {
                Vec::new()
            } else {
                vec![add_mailbox_permission_line(&m.user, oid)]
            });
            let report = reports.iter().find(|r| r.target == m.name);
            items.push(
                match (on(&SetupStep::MailboxGrant(m.user.clone())), report) {
                    (Some(d), _) => grant.failed(d),
                    (None, Some(r)) if r.step_is(ProbeStep::Mailbox, Status::Ok) => {
                        grant.done(format!("{proto} opened {}", m.user))
                    }
                    (None, Some(_)) => grant.unknown("the last test did not reach the mailbox"),
                    (None, None) => grant.unknown("test this mailbox to check"),
                },
            );
        }
    }
    for d in findings {
        if let Some(SetupStep::ProtocolEnabled(user)) = &d.setup_step {
            items.push(
                Item::new(
                    format!("Turn the protocol back on for {user}"),
                    "Microsoft 365 admin center → Users → the user → Mail → Manage email apps",
                )
                .failed(d),
            );
        }
    }
    for t in ev
        .profile
        .transports
        .iter()
        .filter(|t| t.auth && t.account.as_deref() == Some(account.name.as_str()))
    {
        // An empty user name signs in as the token's user (delegated): the row is that user's.
        let user = t
            .username
            .clone()
            .filter(|u| !u.trim().is_empty())
            .or_else(|| token.and_then(|t| t.user()).map(str::to_owned))
            .unwrap_or_default();
        let smtp = Item::new(
            format!("Allow authenticated SMTP for {user}"),
            "Microsoft 365 admin center → user → Mail → Manage email apps → Authenticated SMTP",
        )
        .of(SetupStep::SmtpAuth(user.clone()))
        .with(if user.trim().is_empty() {
            Vec::new()
        } else {
            vec![set_cas_mailbox_line(&user)]
        });
        let report = reports.iter().find(|r| r.target == t.name);
        items.push(match (on(&SetupStep::SmtpAuth(user.clone())), report) {
            (Some(d), _) => smtp.failed(d),
            (None, Some(r)) if r.step_is(ProbeStep::Authenticate, Status::Ok) => {
                smtp.done(format!("{user} signed in to SMTP"))
            }
            (None, Some(_)) => smtp.unknown("the last test did not reach the sign-in"),
            (None, None) => smtp.unknown("test this transport to check"),
        });
    }
    // What the run found that no step above took (the network, a user name, a step this account
    // has no row for): said, not lost, so that the checklist never shows less than the Test panel.
    for d in findings {
        let placed = items
            .iter()
            .any(|i| i.kind == Some(d.kind) && i.evidence.starts_with(&d.title));
        if !placed {
            items.push(Item::new("Something else stands in the way", d.fix.clone()).failed(d));
        }
    }
    // The set-up script's word counts where the run has shown nothing yet; a finding or a proof
    // of this run stays as it is.
    for item in &mut items {
        if item.state == State::Unknown
            && item
                .step
                .as_ref()
                .is_some_and(|s| ev.setup_reported(&account.name, s))
        {
            item.state = State::Done;
            item.evidence =
                "reported done by the set-up script; sign in and test to prove it".into();
        }
    }
    items
}

fn secret_item(account: &Account, got: bool, finding: Option<&Diagnosis>, now: SystemTime) -> Item {
    let item = Item::new(
        "Create a client secret",
        "Certificates & secrets → New client secret; copy its Value (not its Secret ID) and note its expiry date",
    )
    .of(SetupStep::ClientSecret);
    if let Some(d) = finding {
        return item.failed(d);
    }
    let date = account.client_secret_expires.clone().unwrap_or_default();
    match account
        .client_secret_expires
        .as_deref()
        .and_then(|d| days_until(d, now))
    {
        Some(d) if d < 0 => Item {
            state: State::Failed,
            evidence: format!("the secret expired on {date}"),
            ..item
        },
        Some(d) if d <= SECRET_EXPIRY_WARNING_DAYS => Item {
            state: State::Warning,
            evidence: format!("the secret expires on {date}, in {d} days: create the next one now"),
            ..item
        },
        Some(d) if got => item.done(format!("accepted; it expires on {date} ({d} days)")),
        None if got => item
            .done("accepted (enter its expiry date in the account to be reminded 30 days before)"),
        _ => item.unknown("sign in to check"),
    }
}

mod google;
#[cfg(test)]
mod tests;
