//! The Exchange Online admin steps of the set-up guides as a PowerShell script filled with the
//! profile's values: connect, register the app's service principal, grant each mailbox, enable
//! SMTP AUTH. The one-line builders are public so that the set-up checklist can offer one step.

use std::fmt::Write;

use super::{ExportError, ExportFormat, exchange_accounts, ms_tenant};
use crate::profile::{Account, Flow, Profile, Protocol};

/// A PowerShell single-quoted string: nothing inside is expanded. PowerShell also takes the
/// typographic single quotes as quotes, so every kind is doubled.
pub fn ps_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// Signs in to Exchange Online; a shared tenant name ("organizations") means the admin's own.
pub fn connect_line(tenant: Option<&str>) -> String {
    match tenant.filter(|t| !t.trim().is_empty() && !is_shared_tenant(t)) {
        Some(t) => format!("Connect-ExchangeOnline -Organization {}", ps_quote(t)),
        None => "Connect-ExchangeOnline".to_owned(),
    }
}

/// Sets `$objectId` to the Enterprise application's object ID of the app (Microsoft Graph
/// PowerShell, after `Connect-MgGraph`), for the lines that need it when the profile lacks it.
pub fn lookup_object_id_line(client_id: &str) -> String {
    let filter = if client_id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        format!("\"appId eq '{client_id}'\"")
    } else {
        // Not a GUID: pass it through a format string, which PowerShell never re-parses.
        format!(
            "(\"appId eq '{{0}}'\" -f {})",
            ps_quote(&client_id.replace('\'', "''"))
        )
    };
    format!("$objectId = (Get-MgServicePrincipal -Filter {filter}).Id")
}

/// `app_id` `None` refers to `$appId` and `object_id` `None` to `$objectId`: values the script
/// looks up (or, in the `setup` script, creates) before this line.
pub fn new_service_principal_line(
    app_id: Option<&str>,
    object_id: Option<&str>,
    display_name: &str,
) -> String {
    format!(
        "New-ServicePrincipal -AppId {} -ObjectId {} -DisplayName {}",
        app_id.map_or_else(|| "$appId".to_owned(), ps_quote),
        object_id.map_or_else(|| "$objectId".to_owned(), ps_quote),
        ps_quote(display_name)
    )
}

pub fn add_mailbox_permission_line(mailbox: &str, object_id: Option<&str>) -> String {
    format!(
        "Add-MailboxPermission -Identity {} -User {} -AccessRights FullAccess",
        ps_quote(mailbox),
        object_id.map_or_else(|| "$objectId".to_owned(), ps_quote)
    )
}

pub fn set_cas_mailbox_line(user: &str) -> String {
    format!(
        "Set-CASMailbox -Identity {} -SmtpClientAuthenticationDisabled $false",
        ps_quote(user)
    )
}

/// The accounts grouped by tenant, in the profile's order. A tenant's GUID and a domain cannot be
/// told apart offline, so they go together unless that is certainly wrong: two different GUIDs,
/// or two different domains, are two tenants.
fn by_tenant(accounts: Vec<&Account>) -> Vec<Vec<&Account>> {
    let certainly_other = |a: &str, b: &str| !a.eq_ignore_ascii_case(b) && is_guid(a) == is_guid(b);
    let mut groups: Vec<Vec<&Account>> = Vec::new();
    for a in accounts {
        let t = ms_tenant(a);
        match groups
            .iter_mut()
            .find(|g| g.iter().all(|b| !certainly_other(t, ms_tenant(b))))
        {
            Some(g) => g.push(a),
            None => groups.push(vec![a]),
        }
    }
    groups
}

fn is_guid(s: &str) -> bool {
    crate::profile::is_guid(s)
}

/// Turns IMAP or POP3 on for one mailbox.
pub fn enable_protocol_line(user: &str, protocol: Protocol) -> String {
    let switch = match protocol {
        Protocol::Imap => "-ImapEnabled",
        Protocol::Pop3 => "-PopEnabled",
    };
    format!("Set-CASMailbox -Identity {} {switch} $true", ps_quote(user))
}

/// Turns authenticated SMTP on for the whole organization.
pub fn transport_config_line() -> String {
    "Set-TransportConfig -SmtpClientAuthenticationDisabled $false".to_owned()
}

/// Lets `trustee` (a user, or a service principal's object ID) send as `mailbox`.
pub fn add_recipient_permission_line(mailbox: &str, trustee: &str) -> String {
    format!(
        "Add-RecipientPermission -Identity {} -Trustee {} -AccessRights SendAs",
        ps_quote(mailbox),
        ps_quote(trustee)
    )
}

/// FullAccess to `mailbox` for a user (a shared mailbox opened with the user's own token).
pub fn add_user_mailbox_permission_line(mailbox: &str, user: &str) -> String {
    format!(
        "Add-MailboxPermission -Identity {} -User {} -AccessRights FullAccess",
        ps_quote(mailbox),
        ps_quote(user)
    )
}

pub(super) fn is_shared_tenant(t: &str) -> bool {
    ["common", "organizations", "consumers"]
        .iter()
        .any(|s| s.eq_ignore_ascii_case(t))
}

/// Text from the profile inside a `#` comment: a line break would end the comment.
fn comment_text(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

struct Script {
    out: String,
    step: u32,
}

impl Script {
    /// A numbered step: its comment lines (the first names the step), then its commands.
    fn step(&mut self, why: &[&str], commands: &[String]) {
        self.step += 1;
        let _ = write!(self.out, "\n# Step {}: ", self.step);
        for (i, line) in why.iter().enumerate() {
            let lead = if i == 0 { "" } else { "#   " };
            let _ = writeln!(self.out, "{lead}{line}");
        }
        for c in commands {
            let _ = writeln!(self.out, "{c}");
        }
    }
    fn comment(&mut self, text: &str) {
        let _ = writeln!(self.out, "\n# {}", comment_text(text));
    }
}

pub(super) fn export(p: &Profile) -> Result<String, ExportError> {
    let accounts: Vec<&Account> = exchange_accounts(p).collect();
    if accounts.is_empty() {
        return Err(ExportError::NotApplicable {
            format: ExportFormat::Powershell,
            needs: "a Microsoft 365 account of a work or school tenant",
            fix: "the PowerShell steps set up Exchange Online; Gmail and personal Outlook.com accounts need no admin steps",
        });
    }
    let tenants = by_tenant(accounts);
    let mut s = Script {
        out: String::from(
            "# Exchange Online set-up for the mail accounts of a mailcfg profile, written by mailcfg.\n\
             # Run it in PowerShell 7 (or Windows PowerShell 5.1) as an Exchange administrator.\n\
             # Before it, in the Entra admin center: register the app, create its client secret, add\n\
             # the API permissions and grant admin consent. The client secret is not in this script.\n\
             $ErrorActionPreference = 'Stop'\n",
        ),
        step: 0,
    };
    s.step(
        &["the Exchange Online PowerShell module (once per computer)."],
        &[
            "Install-Module -Name ExchangeOnlineManagement -Scope CurrentUser".into(),
            "Import-Module ExchangeOnlineManagement".into(),
        ],
    );
    for group in &tenants {
        // -Organization takes the tenant's domain: a domain form wins over a GUID.
        let tenant = group
            .iter()
            .filter_map(|a| a.tenant.as_deref())
            .find(|t| !is_guid(t))
            .or_else(|| group[0].tenant.as_deref());
        let mut names: Vec<&str> = Vec::new();
        for t in group.iter().filter_map(|a| a.tenant.as_deref()) {
            if !names.iter().any(|n| n.eq_ignore_ascii_case(t)) {
                names.push(t);
            }
        }
        s.comment(&format!(
            "---- Tenant {} ----",
            if names.is_empty() {
                "(not set in the profile)".to_owned()
            } else {
                names.join(" = ")
            }
        ));
        if names.len() > 1 {
            s.comment("The accounts below write this tenant two ways (its ID and a domain): one sign-in serves them. If they are two tenants, run this section once in each.");
        }
        let why = if tenant.is_some_and(|t| !is_shared_tenant(t)) {
            "sign in to this tenant's Exchange Online as an administrator."
        } else {
            "sign in as an administrator of the organization that holds the mailboxes."
        };
        s.step(&[why], &[connect_line(tenant)]);
        let mut graph = false;
        for a in group {
            graph |= account_steps(&mut s, p, a);
        }
        s.step(
            &["sign out."],
            &["Disconnect-ExchangeOnline -Confirm:$false".into()],
        );
        if graph {
            s.out.push_str("Disconnect-MgGraph\n");
        }
    }
    Ok(s.out)
}

/// The steps of one account. Returns whether they signed in to Microsoft Graph.
fn account_steps(s: &mut Script, p: &Profile, a: &Account) -> bool {
    let uses = |name: Option<&String>| name.is_some_and(|n| *n == a.name);
    let mut senders: Vec<&str> = Vec::new();
    for t in &p.transports {
        if let Some(u) = t
            .username
            .as_deref()
            .filter(|_| t.auth && uses(t.account.as_ref()))
        {
            push_unique(&mut senders, u);
        }
    }
    s.comment(&format!("Account \"{}\" ({})", a.name, a.flow));
    let mut graph = false;
    if a.flow == Flow::AppOnly {
        let object_id = a.enterprise_object_id.as_deref();
        if object_id.is_none() {
            graph = true;
            let connect = match a.tenant.as_deref() {
                Some(t) => format!(
                    "Connect-MgGraph -TenantId {} -Scopes 'Application.Read.All' -NoWelcome",
                    ps_quote(t)
                ),
                None => "Connect-MgGraph -Scopes 'Application.Read.All' -NoWelcome".to_owned(),
            };
            s.step(
                &[
                    "the app's enterprise object ID is not in the profile: look it up with Microsoft Graph",
                    "PowerShell (the AzureAD module that older guides use is retired). It is the Object ID",
                    "under Entra ID » Enterprise applications, not the one under App registrations.",
                ],
                &[
                    "Install-Module -Name Microsoft.Graph.Applications -Scope CurrentUser".into(),
                    "Import-Module Microsoft.Graph.Applications".into(),
                    connect,
                    lookup_object_id_line(&a.client_id),
                ],
            );
        }
        s.step(
            &[
                "register the app's service principal in Exchange Online: Exchange grants mailboxes",
                "to it, not to the app registration (older guides write -ServiceId for -ObjectId).",
            ],
            &[new_service_principal_line(
                Some(&a.client_id),
                object_id,
                &a.name,
            )],
        );
        let mut mailboxes: Vec<&str> = Vec::new();
        for m in p.mailboxes.iter().filter(|m| uses(m.account.as_ref())) {
            push_unique(&mut mailboxes, &m.user);
        }
        for u in &senders {
            push_unique(&mut mailboxes, u);
        }
        if !mailboxes.is_empty() {
            s.step(
                &[
                    "give the app each mailbox it reads or sends from. Without it IMAP answers \"BAD User",
                    "is authenticated but not connected\" and POP3 \"-ERR Authentication failure\".",
                ],
                &mailboxes
                    .iter()
                    .map(|m| add_mailbox_permission_line(m, object_id))
                    .collect::<Vec<_>>(),
            );
        }
    }
    if !senders.is_empty() {
        s.step(
            &[
                "allow authenticated SMTP (SMTP AUTH) for each mailbox that sends: tenants created since",
                "2020 have it off, and Exchange then answers 5.7.139 \"SmtpClientAuthentication is disabled\".",
            ],
            &senders
                .iter()
                .map(|u| set_cas_mailbox_line(u))
                .collect::<Vec<_>>(),
        );
    } else if a.flow != Flow::AppOnly {
        s.comment("Nothing to do in Exchange for this account: it signs in as the user, and the admin consent happens in Entra ID.");
    }
    graph
}

fn push_unique<'a>(list: &mut Vec<&'a str>, item: &'a str) {
    if !list.iter().any(|i| i.eq_ignore_ascii_case(item)) {
        list.push(item);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Provider, presets};

    #[test]
    fn quoting_doubles_every_kind_of_single_quote() {
        assert_eq!(ps_quote("a@b.com"), "'a@b.com'");
        assert_eq!(ps_quote("O'Brien"), "'O''Brien'");
        assert_eq!(ps_quote("x\u{2019}y"), "'x\u{2019}\u{2019}y'");
        assert_eq!(ps_quote("$(rm -r /)`\""), "'$(rm -r /)`\"'");
        assert_eq!(
            connect_line(Some("organizations")),
            "Connect-ExchangeOnline"
        );
    }

    #[test]
    fn app_only_steps_name_every_mailbox() {
        let mut p = presets::microsoft365_profile();
        p.accounts[0].enterprise_object_id = Some("11111111-1111-1111-1111-111111111111".into());
        let mut second = p.mailboxes[0].clone();
        second.name = "Second".into();
        second.user = "O'Brien@contoso.com".into();
        p.mailboxes.push(second);
        let text = export(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for want in [
            "$ErrorActionPreference = 'Stop'",
            "Install-Module -Name ExchangeOnlineManagement -Scope CurrentUser",
            "Import-Module ExchangeOnlineManagement",
            "Connect-ExchangeOnline -Organization 'contoso.onmicrosoft.com'",
            "New-ServicePrincipal -AppId '00000000-0000-0000-0000-000000000000' -ObjectId '11111111-1111-1111-1111-111111111111' -DisplayName 'Office365'",
            "Add-MailboxPermission -Identity 'you@contoso.onmicrosoft.com' -User '11111111-1111-1111-1111-111111111111' -AccessRights FullAccess",
            "Add-MailboxPermission -Identity 'O''Brien@contoso.com' -User '11111111-1111-1111-1111-111111111111' -AccessRights FullAccess",
            "Set-CASMailbox -Identity 'you@contoso.onmicrosoft.com' -SmtpClientAuthenticationDisabled $false",
            "Disconnect-ExchangeOnline -Confirm:$false",
        ] {
            assert!(lines.contains(&want), "{want} missing in\n{text}");
        }
        assert_eq!(
            text.matches("Add-MailboxPermission").count(),
            2,
            "no repeats"
        );
        assert!(!text.contains("Get-MgServicePrincipal"));
        assert!(!text.contains("AzureAD\n") && !text.contains("Connect-AzureAD"));
    }

    #[test]
    fn a_missing_object_id_is_looked_up_with_graph() {
        let p = presets::microsoft365_profile();
        let text = export(&p).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        for want in [
            "Connect-MgGraph -TenantId 'contoso.onmicrosoft.com' -Scopes 'Application.Read.All' -NoWelcome",
            "$objectId = (Get-MgServicePrincipal -Filter \"appId eq '00000000-0000-0000-0000-000000000000'\").Id",
            "New-ServicePrincipal -AppId '00000000-0000-0000-0000-000000000000' -ObjectId $objectId -DisplayName 'Office365'",
            "Add-MailboxPermission -Identity 'you@contoso.onmicrosoft.com' -User $objectId -AccessRights FullAccess",
            "Disconnect-MgGraph",
        ] {
            assert!(lines.contains(&want), "{want} missing in\n{text}");
        }
    }

    #[test]
    fn delegated_needs_smtp_auth_only_and_names_cannot_break_comments() {
        let mut p = presets::microsoft365_profile();
        p.accounts[0].flow = Flow::Delegated;
        p.accounts[0].tenant = Some("organizations".into());
        p.accounts[0].name = "Evil\nRemove-Item C:\\".into();
        p.transports[0].account = Some(p.accounts[0].name.clone());
        p.mailboxes[0].account = Some(p.accounts[0].name.clone());
        let text = export(&p).unwrap();
        assert!(text.lines().any(|l| l == "Connect-ExchangeOnline"));
        assert!(!text.contains("New-ServicePrincipal"));
        assert!(text.contains("Set-CASMailbox -Identity 'you@contoso.onmicrosoft.com'"));
        assert!(
            !text.lines().any(|l| l.starts_with("Remove-Item")),
            "{text}"
        );
    }

    #[test]
    fn one_tenant_written_as_guid_and_as_domain_is_one_section() {
        let mut p = presets::microsoft365_profile();
        let mut second = p.accounts[0].clone();
        "Second".clone_into(&mut second.name);
        second.tenant = Some("2f6a3c1e-7b4d-4e8a-9c0f-5d1b2a3e4f60".into());
        p.accounts.insert(0, second);
        p.mailboxes[0].account = Some("Second".into());
        let text = export(&p).unwrap();
        assert_eq!(text.matches("Connect-ExchangeOnline").count(), 1, "{text}");
        assert!(
            text.contains("Connect-ExchangeOnline -Organization 'contoso.onmicrosoft.com'"),
            "{text}"
        );
        assert!(
            text.contains("Tenant 2f6a3c1e-7b4d-4e8a-9c0f-5d1b2a3e4f60 = contoso.onmicrosoft.com"),
            "{text}"
        );
        // Two different domains stay two tenants.
        p.accounts[0].tenant = Some("fabrikam.onmicrosoft.com".into());
        let text = export(&p).unwrap();
        assert_eq!(
            text.matches("Connect-ExchangeOnline -Organization").count(),
            2,
            "{text}"
        );
    }

    #[test]
    fn no_exchange_account_no_script() {
        let mut p = presets::microsoft365_profile();
        p.accounts[0] = presets::account("G", Provider::Google, Flow::Delegated);
        assert!(export(&p).is_err());
        p.accounts[0] = presets::account("O", Provider::Microsoft, Flow::Delegated);
        p.accounts[0].tenant = Some("consumers".into());
        assert!(export(&p).is_err());
    }
}
