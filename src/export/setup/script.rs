//! The PowerShell text of a [`Plan`]: the fixed helpers (head.ps1), the profile's values as
//! single-quoted literals in one `$settings` table, one `Step` per planned step in the plan's
//! order, and the result printed whatever happens (so a failure late in the script still hands
//! back what the steps before it made).

use std::fmt::Write;

use super::{
    Action, EXCHANGE_APP_ID, GRAPH_APP_ID, Plan, PlannedStep, is_placeholder_client_id,
    redirect_uri, sign_in_audience,
};
use crate::export::powershell::is_shared_tenant;
use crate::export::{
    add_mailbox_permission_line, connect_line, ms_tenant, new_service_principal_line, ps_quote,
    set_cas_mailbox_line,
};
use crate::profile::Flow;

const HEAD: &str = include_str!("head.ps1");

/// A PowerShell array of single-quoted strings.
fn ps_list(items: &[&str]) -> String {
    let quoted: Vec<String> = items.iter().map(|i| ps_quote(i)).collect();
    format!("@({})", quoted.join(", "))
}

/// The `-Report` table of a step: the checklist step (`crate::diagnosis::SetupStep` in JSON).
fn report(step: &PlannedStep) -> Option<String> {
    let json = serde_json::to_value(step.reports()?).ok()?;
    let kind = json.get("step")?.as_str()?.to_owned();
    Some(match json.get("for").and_then(|f| f.as_str()) {
        Some(target) => format!(
            "@{{ 'step' = {}; 'for' = {} }}",
            ps_quote(&kind),
            ps_quote(target)
        ),
        None => format!("@{{ 'step' = {} }}", ps_quote(&kind)),
    })
}

struct Out(String);

impl Out {
    fn line(&mut self, indent: usize, text: &str) {
        let _ = writeln!(self.0, "{:width$}{text}", "", width = indent * 4);
    }

    /// One `Step` call: its title (and target), what it reports, its check and its change.
    fn step(&mut self, s: &PlannedStep, target: Option<&str>, check: &[String], apply: &[String]) {
        let mut call = format!("Step -Title {}", ps_quote(title_of(s, target)));
        if let Some(t) = target {
            let _ = write!(call, " -Target {}", ps_quote(t));
        }
        if let Some(r) = report(s) {
            let _ = write!(call, " -Report {r}");
        }
        if check.is_empty() {
            call.push_str(" -ReadOnly -Apply {");
            self.line(2, &call);
        } else {
            call.push_str(" -Check {");
            self.line(2, &call);
            for c in check {
                self.line(3, c);
            }
            self.line(2, "} -Apply {");
        }
        for a in apply {
            self.line(3, a);
        }
        self.line(2, "}");
    }
}

/// A step's title without the address that `-Target` carries.
fn title_of<'a>(s: &'a PlannedStep, target: Option<&str>) -> &'a str {
    match target {
        Some(t) => s
            .title
            .strip_suffix(t)
            .map_or(s.title.as_str(), |t| t.trim_end_matches([' ', ':'])),
        None => &s.title,
    }
}

// One match over the plan's actions reads best as one function: each arm is a step's PowerShell.
#[allow(clippy::too_many_lines)]
pub(super) fn script(plan: &Plan<'_>) -> String {
    let a = plan.account;
    let app_only = a.flow == Flow::AppOnly;
    let tenant = ms_tenant(a);
    let specific_tenant = (!is_shared_tenant(tenant)).then_some(tenant);
    let client_id = if is_placeholder_client_id(&a.client_id) {
        ""
    } else {
        a.client_id.trim()
    };
    let mut o = Out(String::from(HEAD));
    o.line(1, "# The account's values, from the mailcfg profile.");
    o.line(1, "$settings = @{");
    for (key, value) in [
        ("Account", a.name.as_str()),
        ("Tenant", tenant),
        ("ClientId", client_id),
        ("DisplayName", a.name.as_str()),
        ("SignInAudience", sign_in_audience(a)),
        ("RedirectUri", redirect_uri(a)),
    ] {
        o.line(2, &format!("{key} = {}", ps_quote(value)));
    }
    o.line(2, &format!("SecretMonths = {}", plan.secret_months));
    o.line(1, "}");
    let (roles, scopes, graph): (&[&str], &[&str], &[&str]) = if app_only {
        (&plan.permissions, &[], &[])
    } else {
        (&[], &plan.permissions, &["offline_access"])
    };
    o.line(1, &format!("$roles = {}", ps_list(roles)));
    o.line(1, &format!("$scopes = {}", ps_list(scopes)));
    o.line(1, &format!("$graphScopes = {}", ps_list(graph)));
    o.line(0, "");
    o.line(1, "try {");
    let mut graph_scopes = vec![
        "Application.ReadWrite.All",
        "AppRoleAssignment.ReadWrite.All",
    ];
    if !app_only {
        graph_scopes.push("DelegatedPermissionGrant.ReadWrite.All");
    }
    for s in &plan.steps {
        match &s.action {
            Action::SignInGraph => {
                let tenant_arg =
                    specific_tenant.map_or_else(String::new, |t| format!(" -TenantId {}", ps_quote(t)));
                let quoted: Vec<String> = graph_scopes.iter().map(|g| ps_quote(g)).collect();
                o.step(
                    s,
                    None,
                    &[],
                    &[
                        format!(
                            "Connect-MgGraph{tenant_arg} -Scopes {} -NoWelcome",
                            quoted.join(", ")
                        ),
                        "$ctx.TenantId = [string](Get-MgContext).TenantId".into(),
                        format!(
                            "$ctx.Exchange = Get-MgServicePrincipal -Filter \"appId eq '{EXCHANGE_APP_ID}'\" | Select-Object -First 1"
                        ),
                        "if (-not $ctx.Exchange) { throw 'Office 365 Exchange Online is not in this tenant: it needs Exchange Online licences' }".into(),
                        format!(
                            "$ctx.Graph = Get-MgServicePrincipal -Filter \"appId eq '{GRAPH_APP_ID}'\" | Select-Object -First 1"
                        ),
                        "foreach ($value in $roles) { if (-not (Get-Permission $ctx.Exchange $value 'Role')) { throw ('Exchange Online offers no application permission {0}' -f $value) } }".into(),
                        "foreach ($value in $scopes) { if (-not (Get-Permission $ctx.Exchange $value 'Scope')) { throw ('Exchange Online offers no delegated permission {0}' -f $value) } }".into(),
                    ],
                );
            }
            Action::RegisterApp => {
                let check = if client_id.is_empty() {
                    vec![
                        "$found = Get-MgApplication -Filter ('displayName eq {0}' -f (ConvertTo-ODataString $settings.DisplayName)) -All".into(),
                        "$ctx.App = $found | Where-Object { $_.Tags -contains 'mailcfg' } | Select-Object -First 1".into(),
                        "$null -ne $ctx.App".into(),
                    ]
                } else {
                    vec![
                        "$ctx.App = Get-MgApplication -Filter ('appId eq {0}' -f (ConvertTo-ODataString $settings.ClientId)) | Select-Object -First 1".into(),
                        "if (-not $ctx.App) { throw ('there is no app with the client ID {0} in this tenant: check the account''s client ID and tenant in mailcfg, or empty the client ID to have this script register the app' -f $settings.ClientId) }".into(),
                        "$true".into(),
                    ]
                };
                let mut create = String::from(
                    "$ctx.App = New-MgApplication -DisplayName $settings.DisplayName -SignInAudience $settings.SignInAudience -Tags 'mailcfg' -RequiredResourceAccess @(Get-RequiredAccess)",
                );
                if !app_only {
                    create.push_str(" -PublicClient @{ RedirectUris = @($settings.RedirectUri) }");
                }
                if a.flow == Flow::DeviceCode {
                    create.push_str(" -IsFallbackPublicClient:$true");
                }
                o.step(s, None, &check, &[create]);
                o.line(2, "if ($ctx.App) { $appId = [string]$ctx.App.AppId }");
            }
            Action::PublicClient => {
                let mut update = String::from(
                    "Update-MgApplication -ApplicationId $ctx.App.Id -PublicClient @{ RedirectUris = @(@($ctx.App.PublicClient.RedirectUris) + $settings.RedirectUri | Where-Object { $_ } | Select-Object -Unique) }",
                );
                let mut check =
                    String::from("@($ctx.App.PublicClient.RedirectUris) -contains $settings.RedirectUri");
                if a.flow == Flow::DeviceCode {
                    update.push_str(" -IsFallbackPublicClient:$true");
                    check.push_str(" -and $ctx.App.IsFallbackPublicClient");
                }
                o.step(
                    s,
                    None,
                    &[check],
                    &[update, "$ctx.App = Get-MgApplication -ApplicationId $ctx.App.Id".into()],
                );
            }
            Action::ApiPermissions => o.step(
                s,
                None,
                &["Test-RequiredAccess".into()],
                &[
                    "Update-MgApplication -ApplicationId $ctx.App.Id -RequiredResourceAccess @(Join-RequiredAccess)".into(),
                    "$ctx.App = Get-MgApplication -ApplicationId $ctx.App.Id".into(),
                ],
            ),
            Action::EnterpriseApp => {
                o.step(
                    s,
                    None,
                    &[
                        "$ctx.Sp = Get-MgServicePrincipal -Filter ('appId eq {0}' -f (ConvertTo-ODataString $appId)) | Select-Object -First 1".into(),
                        "$null -ne $ctx.Sp".into(),
                    ],
                    &["$ctx.Sp = New-MgServicePrincipal -AppId $appId".into()],
                );
                o.line(2, "if ($ctx.Sp) { $objectId = [string]$ctx.Sp.Id }");
            }
            Action::AdminConsent => {
                let (check, apply) = if app_only {
                    (
                        "@(Get-MissingRole).Count -eq 0",
                        "Invoke-Retrying { foreach ($role in @(Get-MissingRole)) { New-MgServicePrincipalAppRoleAssignment -ServicePrincipalId $ctx.Sp.Id -PrincipalId $ctx.Sp.Id -ResourceId $ctx.Exchange.Id -AppRoleId $role.Id | Out-Null } }",
                    )
                } else {
                    (
                        "(Test-Grant $ctx.Exchange $scopes) -and (Test-Grant $ctx.Graph $graphScopes)",
                        "Invoke-Retrying { Set-Grant $ctx.Exchange $scopes; Set-Grant $ctx.Graph $graphScopes }",
                    )
                };
                o.step(s, None, &[check.into()], &[apply.into()]);
            }
            Action::SignInExchange => o.step(
                s,
                None,
                &[],
                &[format!("{} -ShowBanner:$false", connect_line(specific_tenant))],
            ),
            Action::ExchangeServicePrincipal => o.step(
                s,
                None,
                &[
                    "$existing = Get-ServicePrincipal -ErrorAction SilentlyContinue | Where-Object { [string]$_.AppId -eq $appId } | Select-Object -First 1".into(),
                    "if ($existing -and [string]$existing.ObjectId -ne $objectId) { throw ('Exchange Online knows this app with the object ID {0}, not its Enterprise application''s {1} (the App registration''s Object ID was probably used): remove it with Remove-ServicePrincipal -Identity {0}, then run this script again' -f $existing.ObjectId, $objectId) }".into(),
                    "$null -ne $existing".into(),
                ],
                &[format!(
                    "Invoke-Retrying {{ {} | Out-Null }}",
                    new_service_principal_line(None, None, &a.name)
                )],
            ),
            Action::MailboxGrant(user) => o.step(
                s,
                Some(user),
                &[
                    format!(
                        "$rights = Get-MailboxPermission -Identity {} -User $objectId -ErrorAction SilentlyContinue | Where-Object {{ -not $_.Deny -and (@($_.AccessRights) -join ',') -match 'FullAccess' }}",
                        ps_quote(user)
                    ),
                    "$null -ne $rights".into(),
                ],
                &[format!(
                    "Invoke-Retrying {{ {} | Out-Null }}",
                    add_mailbox_permission_line(user, None)
                )],
            ),
            Action::SmtpAuth(user) => o.step(
                s,
                Some(user),
                &[format!(
                    "(Get-CASMailbox -Identity {}).SmtpClientAuthenticationDisabled -eq $false",
                    ps_quote(user)
                )],
                &[set_cas_mailbox_line(user)],
            ),
            Action::ClientSecret => o.step(
                s,
                None,
                &[
                    "$app = Get-MgApplication -ApplicationId $ctx.App.Id".into(),
                    "$current = $app.PasswordCredentials | Where-Object { $_.DisplayName -eq 'mailcfg' -and $_.EndDateTime -gt (Get-Date).ToUniversalTime().AddDays(30) } | Sort-Object EndDateTime -Descending | Select-Object -First 1".into(),
                    "if ($current) { $ctx.SecretExpires = $current.EndDateTime.ToString('yyyy-MM-dd'); Write-Host '    a secret made by mailcfg is valid still; its Value was shown once, when it was made (delete it in the portal and run this again for a new one)' }".into(),
                    "$null -ne $current".into(),
                ],
                &[
                    "$end = (Get-Date).ToUniversalTime().AddMonths($settings.SecretMonths)".into(),
                    "$made = Add-MgApplicationPassword -ApplicationId $ctx.App.Id -PasswordCredential @{ DisplayName = 'mailcfg'; EndDateTime = $end }".into(),
                    "$ctx.Secret = [string]$made.SecretText".into(),
                    "$ctx.SecretExpires = $made.EndDateTime.ToString('yyyy-MM-dd')".into(),
                ],
            ),
        }
    }
    o.line(1, "} finally {");
    o.line(2, "Write-Result");
    o.line(1, "}");
    o.line(0, "}");
    o.line(0, "");
    o.line(
        0,
        if plan.what_if {
            "Invoke-MailcfgSetup -WhatIf"
        } else {
            "Invoke-MailcfgSetup"
        },
    );
    o.0
}
