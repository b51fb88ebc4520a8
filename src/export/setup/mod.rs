//! The whole Entra ID and Exchange Online set-up of one Microsoft 365 account as one PowerShell 7
//! script for Azure Cloud Shell (the `setup` export), the list of what it will do (built from the
//! same steps, for the admin to read first), and the script's result read back ([`result`]).
//! Every value from the profile is a single-quoted literal ([`super::ps_quote`]); the Exchange
//! lines come from the `powershell` export's builders. docs/setup.md describes the script.

pub mod result;
mod script;

use super::powershell::is_shared_tenant;
use super::{ExportError, ExportFormat, exchange_accounts, ms_tenant};
use crate::diagnosis::SetupStep;
use crate::oauth::claims::{self, Service};
use crate::profile::{Account, Flow, Profile};

/// Where the admin runs the script: Microsoft.Graph and ExchangeOnlineManagement are ready there.
pub const CLOUD_SHELL_URL: &str = "https://shell.azure.com";
/// The lines around the script's result; [`result::parse`] reads what is between them.
pub const RESULT_BEGIN: &str = "-----BEGIN MAILCFG SETUP RESULT-----";
pub const RESULT_END: &str = "-----END MAILCFG SETUP RESULT-----";
/// Office 365 Exchange Online, the resource whose app roles and scopes the app needs.
pub const EXCHANGE_APP_ID: &str = "00000002-0000-0ff1-ce00-000000000000";
/// Microsoft Graph, which holds the `offline_access` scope of delegated sign-ins.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// The portal allows client secrets of up to 24 months.
pub const MAX_SECRET_MONTHS: u32 = 24;
pub const DEFAULT_SECRET_MONTHS: u32 = 12;

/// What the `setup` export is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetupOptions<'a> {
    /// The account to set up; `None`: the profile's only Microsoft 365 work account.
    pub account: Option<&'a str>,
    /// How long the new client secret lives (app-only), 1 to [`MAX_SECRET_MONTHS`].
    pub secret_months: u32,
    /// The script's last line runs it with `-WhatIf`: a preview that changes nothing.
    pub what_if: bool,
}

impl Default for SetupOptions<'_> {
    fn default() -> Self {
        Self {
            account: None,
            secret_months: DEFAULT_SECRET_MONTHS,
            what_if: false,
        }
    }
}

/// One thing the script does, in its order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    SignInGraph,
    RegisterApp,
    /// Delegated: the app signs in through `http://localhost` as a public client.
    PublicClient,
    ApiPermissions,
    /// The app's service principal in Entra ID (its Enterprise application).
    EnterpriseApp,
    AdminConsent,
    SignInExchange,
    ExchangeServicePrincipal,
    MailboxGrant(String),
    SmtpAuth(String),
    ClientSecret,
}

/// A step of the script as the admin reads it before running it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedStep {
    pub action: Action,
    pub title: String,
    /// What it checks and what it changes.
    pub detail: String,
}

impl PlannedStep {
    /// The checklist step that the script reports when this one is done.
    pub fn reports(&self) -> Option<SetupStep> {
        Some(match &self.action {
            Action::RegisterApp => SetupStep::RegisterApp,
            Action::ApiPermissions => SetupStep::ApiPermissions,
            Action::AdminConsent => SetupStep::AdminConsent,
            Action::ExchangeServicePrincipal => SetupStep::ServicePrincipal,
            Action::MailboxGrant(u) => SetupStep::MailboxGrant(u.clone()),
            Action::SmtpAuth(u) => SetupStep::SmtpAuth(u.clone()),
            Action::ClientSecret => SetupStep::ClientSecret,
            Action::SignInGraph
            | Action::PublicClient
            | Action::EnterpriseApp
            | Action::SignInExchange => return None,
        })
    }
}

/// The set-up of one account: what it needs and the steps that get it there.
#[derive(Debug, Clone)]
pub struct Plan<'p> {
    pub account: &'p Account,
    /// The Exchange Online app roles (app-only) or scopes (delegated) the targets need.
    pub permissions: Vec<&'static str>,
    pub steps: Vec<PlannedStep>,
    pub secret_months: u32,
    pub what_if: bool,
}

/// A client ID that stands for "not registered yet": empty, or the examples' all-zero GUID.
pub fn is_placeholder_client_id(id: &str) -> bool {
    let id = id.trim();
    id.is_empty() || id.chars().all(|c| c == '0' || c == '-')
}

fn not_applicable() -> ExportError {
    ExportError::NotApplicable {
        format: ExportFormat::Setup,
        needs: "a Microsoft 365 account of a work or school tenant",
        fix: "the set-up script registers an app in Entra ID and sets up Exchange Online; Gmail and personal Outlook.com accounts need neither",
    }
}

/// The account the script is for.
pub fn choose_account<'p>(p: &'p Profile, name: Option<&str>) -> Result<&'p Account, ExportError> {
    let candidates: Vec<&Account> = exchange_accounts(p).collect();
    let names = || {
        candidates
            .iter()
            .map(|a| format!("\"{}\"", a.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(n) => match candidates.iter().find(|a| a.name == n) {
            Some(a) => Ok(a),
            None if p.account(n).is_some() => Err(not_applicable()),
            None => Err(ExportError::NoSuchAccount {
                name: n.to_owned(),
                names: names(),
            }),
        },
        None => match candidates.as_slice() {
            [] => Err(not_applicable()),
            [one] => Ok(one),
            _ => Err(ExportError::AccountNeeded { names: names() }),
        },
    }
}

/// The addresses of the account's targets: mailboxes it reads, senders it signs in for.
fn targets(p: &Profile, a: &Account) -> (Vec<String>, Vec<String>) {
    let mine = |acc: Option<&String>| acc.is_some_and(|n| *n == a.name);
    let mut mailboxes: Vec<String> = Vec::new();
    let mut senders: Vec<String> = Vec::new();
    let push = |list: &mut Vec<String>, u: &str| {
        let u = u.trim();
        if !u.is_empty() && !list.iter().any(|x| x.eq_ignore_ascii_case(u)) {
            list.push(u.to_owned());
        }
    };
    for m in p.mailboxes.iter().filter(|m| mine(m.account.as_ref())) {
        push(&mut mailboxes, &m.user);
    }
    for t in p
        .transports
        .iter()
        .filter(|t| t.auth && mine(t.account.as_ref()))
    {
        if let Some(u) = &t.username {
            push(&mut senders, u);
        }
    }
    (mailboxes, senders)
}

/// The steps for one account, in the order the script runs them.
// One list of steps in the script's order reads best top to bottom, in one function.
#[allow(clippy::too_many_lines)]
pub fn plan<'p>(p: &'p Profile, opts: &SetupOptions<'_>) -> Result<Plan<'p>, ExportError> {
    let a = choose_account(p, opts.account)?;
    let app_only = a.flow == Flow::AppOnly;
    let mut permissions: Vec<&'static str> = claims::needs(p, &a.name)
        .iter()
        .map(|n| n.service.permission(a.flow))
        .collect();
    if permissions.is_empty() {
        // An account no target uses yet: set it up for reading mail over IMAP.
        permissions.push(Service::Imap.permission(a.flow));
    }
    permissions.sort_unstable();
    permissions.dedup();
    let (mut mailboxes, senders) = targets(p, a);
    if app_only {
        // An app sends as a mailbox only with FullAccess to it (430 4.2.0 STOREDRV otherwise).
        for s in &senders {
            if !mailboxes.iter().any(|m| m.eq_ignore_ascii_case(s)) {
                mailboxes.push(s.clone());
            }
        }
    }
    let tenant = ms_tenant(a);
    let mut steps = Vec::new();
    let mut step = |action: Action, title: String, detail: String| {
        steps.push(PlannedStep {
            action,
            title,
            detail,
        });
    };
    let delegated_scopes = if app_only {
        ""
    } else {
        ", DelegatedPermissionGrant.ReadWrite.All"
    };
    step(
        Action::SignInGraph,
        "Sign in to Microsoft Graph".into(),
        format!(
            "as an administrator of {} (Application.ReadWrite.All, AppRoleAssignment.ReadWrite.All{delegated_scopes}), and read Office 365 Exchange Online's permissions",
            if is_shared_tenant(tenant) {
                "your own tenant".to_owned()
            } else {
                tenant.to_owned()
            }
        ),
    );
    step(
        Action::RegisterApp,
        "Register the app".into(),
        if is_placeholder_client_id(&a.client_id) {
            format!(
                "find the app \"{}\" made by mailcfg, or register it for {}",
                a.name,
                if sign_in_audience(a) == "AzureADMyOrg" {
                    "this tenant's accounts only"
                } else {
                    "work accounts of any tenant (the account's tenant is \"organizations\")"
                }
            )
        } else {
            format!("find the app with client ID {}", a.client_id.trim())
        },
    );
    if !app_only {
        step(
            Action::PublicClient,
            "Let the app sign in through the browser".into(),
            format!(
                "add {} as a \"Mobile and desktop applications\" redirect{}",
                redirect_uri(a),
                if a.flow == Flow::DeviceCode {
                    ", and allow public client flows (device code)"
                } else {
                    ""
                }
            ),
        );
    }
    step(
        Action::ApiPermissions,
        "Add the API permissions".into(),
        format!(
            "Office 365 Exchange Online, {}: {}{}",
            if app_only {
                "application permissions"
            } else {
                "delegated permissions"
            },
            permissions.join(", "),
            if app_only {
                ""
            } else {
                "; Microsoft Graph: offline_access"
            }
        ),
    );
    step(
        Action::EnterpriseApp,
        "Create the Enterprise application".into(),
        "the app's service principal in this tenant, if it has none; its Object ID is the one Exchange needs".into(),
    );
    step(
        Action::AdminConsent,
        "Grant admin consent".into(),
        if app_only {
            "assign each application permission to the Enterprise application".into()
        } else {
            "consent to the delegated permissions for all users of the tenant".into()
        },
    );
    let exchange = app_only || !senders.is_empty();
    if exchange {
        step(
            Action::SignInExchange,
            "Sign in to Exchange Online".into(),
            "as an Exchange administrator of the same tenant".into(),
        );
    }
    if app_only {
        step(
            Action::ExchangeServicePrincipal,
            "Register the service principal in Exchange Online".into(),
            "New-ServicePrincipal with the Enterprise application's Object ID, if Exchange has none for the app".into(),
        );
        for m in &mailboxes {
            step(
                Action::MailboxGrant(m.clone()),
                format!("Grant the app the mailbox {m}"),
                "Add-MailboxPermission … -AccessRights FullAccess, if the app has none".into(),
            );
        }
    }
    for s in &senders {
        step(
            Action::SmtpAuth(s.clone()),
            format!("Allow authenticated SMTP for {s}"),
            "Set-CASMailbox … -SmtpClientAuthenticationDisabled $false, if it is not so already"
                .into(),
        );
    }
    let months = opts.secret_months.clamp(1, MAX_SECRET_MONTHS);
    if app_only {
        step(
            Action::ClientSecret,
            "Create a client secret".into(),
            format!(
                "valid {months} months, unless one made by mailcfg is valid for 30 days more; last, so that a failure above never loses its Value, which is shown once"
            ),
        );
    }
    Ok(Plan {
        account: a,
        permissions,
        steps,
        secret_months: months,
        what_if: opts.what_if,
    })
}

/// Who may sign in to a new app: a delegated account of "organizations" signs in anywhere.
fn sign_in_audience(a: &Account) -> &'static str {
    if a.flow != Flow::AppOnly && is_shared_tenant(ms_tenant(a)) {
        "AzureADMultipleOrgs"
    } else {
        "AzureADMyOrg"
    }
}

/// The redirect a delegated app registers: the profile's, if it is a loopback one.
fn redirect_uri(a: &Account) -> &str {
    a.redirect_uri
        .as_deref()
        .filter(|u| u.starts_with("http://localhost"))
        .unwrap_or("http://localhost")
}

/// The script for the account the options name.
pub(super) fn export(p: &Profile, opts: &SetupOptions<'_>) -> Result<String, ExportError> {
    Ok(script::script(&plan(p, opts)?))
}

#[cfg(test)]
mod tests;
