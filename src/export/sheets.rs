//! The settings sheets for the systems in the set-up guides, field by field as their screens name
//! them: Cerb (Email Transports, Email Mailboxes), CE (Exchange Online gateway and OAuth settings)
//! and UM (tenant_id, client_id, client_secret, enterprise_object_id, mailbox_name).

use super::sheet::{Section, Sheet, Value};
use super::{ExportError, ExportFormat, ExportOptions, SecretOf, exchange_accounts, token_url};
use crate::profile::{Account, Encryption, Flow, Mailbox, Profile, Protocol, Transport};

const NO_ACCOUNT_FIX: &str = "add a Microsoft 365 account with your own tenant (work or school): this system talks to Exchange Online";
const SECRETS_INSIDE: &str =
    "This sheet contains secrets: keep it private, and delete it once the values are entered.";

fn secret(opts: &ExportOptions<'_>, which: SecretOf<'_>) -> Value {
    match opts.secret(which) {
        Ok(s) => Value::copy(s),
        Err(placeholder) => Value::note(placeholder),
    }
}

fn finish(mut sheet: Sheet, format: ExportFormat, opts: &ExportOptions<'_>) -> String {
    if opts.includes_secrets(format) {
        sheet.notes.insert(0, SECRETS_INSIDE.into());
    }
    sheet.render(opts.html)
}

pub(super) fn cerb(p: &Profile, opts: &ExportOptions<'_>) -> Result<String, ExportError> {
    if p.transports.is_empty() && p.mailboxes.is_empty() {
        return Err(ExportError::NotApplicable {
            format: ExportFormat::Cerb,
            needs: "a transport or a mailbox",
            fix: "add the SMTP transport or the IMAP/POP3 mailbox that Cerb should use",
        });
    }
    let mut sheet = Sheet {
        title: "Cerb settings".into(),
        notes: vec![
            "Written by mailcfg. In Cerb, open Search » Email Transports or Search » Email Mailboxes, create or edit one entry per section below, and fill in each field as shown.".into(),
            "XOAuth2 names the Cerb connected account to choose: set it up first (Search » Connected Accounts) with the same application (client) ID as the mailcfg account of that name.".into(),
        ],
        sections: Vec::new(),
    };
    for t in &p.transports {
        sheet.sections.push(cerb_transport(t, opts));
    }
    for m in &p.mailboxes {
        sheet.sections.push(cerb_mailbox(m, opts));
    }
    Ok(finish(sheet, ExportFormat::Cerb, opts))
}

fn cerb_transport(t: &Transport, opts: &ExportOptions<'_>) -> Section {
    let mut s = Section::new(format!("Email Transports: {}", t.name));
    let encryption = match t.encryption {
        Encryption::Tls => "SSL",
        Encryption::StartTls => "TLS",
        Encryption::None => "None",
    };
    let password = if t.account.is_some() || !t.auth {
        Value::note("(blank)")
    } else {
        secret(opts, SecretOf::TransportPassword(&t.name))
    };
    s.row("Name", Value::copy(&t.name))
        .row("Type", Value::copy("SMTP"))
        .row("Host", Value::copy(&t.host))
        .row("Port", Value::copy(t.port.to_string()))
        .row("Encryption", Value::copy(encryption))
        .row(
            "Authentication",
            Value::copy(if t.auth { "Enabled" } else { "Disabled" }),
        )
        .row(
            "Username",
            t.username
                .as_ref()
                .map_or_else(|| Value::note("(blank)"), Value::copy),
        )
        .row("Password", password)
        .row("XOAuth2", xoauth2(t.account.as_deref()));
    s
}

fn cerb_mailbox(m: &Mailbox, opts: &ExportOptions<'_>) -> Section {
    let mut s = Section::new(format!("Email Mailboxes: {}", m.name));
    let protocol = match (m.protocol, m.encryption) {
        (Protocol::Imap, Encryption::Tls) => "IMAP (TLS/SSL)",
        (Protocol::Imap, Encryption::StartTls) => "IMAP (STARTTLS)",
        (Protocol::Imap, Encryption::None) => "IMAP",
        (Protocol::Pop3, Encryption::Tls) => "POP3 (TLS/SSL)",
        (Protocol::Pop3, Encryption::StartTls) => "POP3 (STARTTLS)",
        (Protocol::Pop3, Encryption::None) => "POP3",
    };
    let password = if m.account.is_some() {
        Value::note("(blank)")
    } else {
        secret(opts, SecretOf::MailboxPassword(&m.name))
    };
    s.row("Name", Value::copy(&m.name))
        .row("Protocol", Value::copy(protocol))
        .row("Host", Value::copy(&m.host))
        .row("User", Value::copy(&m.user))
        .row("Password", password)
        .row("XOAuth2", xoauth2(m.account.as_deref()))
        .row("Port", Value::copy(m.port.to_string()));
    s
}

fn xoauth2(account: Option<&str>) -> Value {
    account.map_or_else(
        || Value::note("(none: signs in with the password)"),
        Value::copy,
    )
}

/// CE and UM sign in app-only; a delegated account still fills the form, with a warning.
fn flow_note(a: &Account, system: &str) -> Option<String> {
    (a.flow != Flow::AppOnly).then(|| {
        let how = if a.flow == Flow::DeviceCode {
            "with a device code"
        } else {
            "in the browser"
        };
        format!(
            "Account \"{}\" signs in as a person ({how}), but {system} signs in app-only (client credentials): register an app with the Office 365 Exchange Online application permissions (IMAP.AccessAsApp, POP.AccessAsApp, SMTP.SendAsApp), use the scope https://outlook.office365.com/.default, and add it as an app-only account.",
            a.name
        )
    })
}

fn ms_accounts(p: &Profile, format: ExportFormat) -> Result<Vec<&Account>, ExportError> {
    let all: Vec<&Account> = exchange_accounts(p).collect();
    if all.is_empty() {
        return Err(ExportError::NotApplicable {
            format,
            needs: "a Microsoft 365 account of a work or school tenant",
            fix: NO_ACCOUNT_FIX,
        });
    }
    Ok(all)
}

fn token_endpoint(a: &Account) -> Value {
    token_url(a).map_or_else(
        || Value::note("(not in the profile: set token_url)"),
        Value::copy,
    )
}

pub(super) fn ce(p: &Profile, opts: &ExportOptions<'_>) -> Result<String, ExportError> {
    let mut sheet = Sheet {
        title: "CE settings".into(),
        notes: vec![
            "Written by mailcfg. Enter these values in CE's Exchange Online gateway and its OAuth settings. CE uses OAuth to receive mail; outbound mail goes to the outbound host and port below.".into(),
        ],
        sections: Vec::new(),
    };
    for a in ms_accounts(p, ExportFormat::Ce)? {
        let inbound = first_of(&p.mailboxes, a, |m| m.account.as_deref());
        let outbound = first_of(&p.transports, a, |t| t.account.as_deref());
        let none = || Value::note("(none in this profile)");
        let mut g = Section::new(format!("Gateway: {}", a.name));
        g.row(
            "Inbound host",
            inbound.map_or_else(none, |m| Value::copy(&m.host)),
        )
        .row(
            "Inbound port",
            inbound.map_or_else(none, |m| Value::copy(m.port.to_string())),
        )
        .row(
            "Outbound host",
            outbound.map_or_else(none, |t| Value::copy(&t.host)),
        )
        .row(
            "Outbound port",
            outbound.map_or_else(none, |t| Value::copy(t.port.to_string())),
        );
        sheet.sections.push(g);
        let mut o = Section::new(format!("OAuth settings: {}", a.name));
        o.notes.extend(flow_note(a, "CE"));
        o.row("Use OAuth to receive emails", Value::note("ticked"))
            .row("Client ID", Value::copy(&a.client_id))
            .row(
                "Client secret",
                secret(opts, SecretOf::ClientSecret(&a.name)),
            )
            .row("Client scopes", Value::copy(a.scopes.join(" ")))
            .row("Token endpoint URL", token_endpoint(a));
        sheet.sections.push(o);
    }
    Ok(finish(sheet, ExportFormat::Ce, opts))
}

/// The first entry that signs in with this account, or else the first entry.
fn first_of<'p, T>(
    items: &'p [T],
    a: &Account,
    account: impl Fn(&T) -> Option<&str>,
) -> Option<&'p T> {
    items
        .iter()
        .find(|i| account(i) == Some(a.name.as_str()))
        .or_else(|| items.first())
}

pub(super) fn um(p: &Profile, opts: &ExportOptions<'_>) -> Result<String, ExportError> {
    let mut sheet = Sheet {
        title: "UM settings".into(),
        notes: vec![
            "Written by mailcfg. One section per mailbox: enter each field in UM's mail settings as shown.".into(),
            "If UM reports \"BAD User is authenticated but not connected\", Exchange has not given the app the mailbox: run the Add-MailboxPermission line of the PowerShell export (mailcfg export --format powershell).".into(),
        ],
        sections: Vec::new(),
    };
    for a in ms_accounts(p, ExportFormat::Um)? {
        let mailboxes: Vec<&Mailbox> = p
            .mailboxes
            .iter()
            .filter(|m| m.account.as_deref() == Some(a.name.as_str()))
            .collect();
        let names: Vec<(String, Value)> = if mailboxes.is_empty() {
            vec![(
                a.name.clone(),
                Value::note("(no mailbox in this profile signs in with this account)"),
            )]
        } else {
            mailboxes
                .iter()
                .map(|m| (m.name.clone(), Value::copy(&m.user)))
                .collect()
        };
        for (name, mailbox_name) in names {
            let mut s = Section::new(format!("Mailbox: {name} (account {})", a.name));
            s.notes.extend(flow_note(a, "UM"));
            s.row("tenant_id", Value::copy(a.tenant.clone().unwrap_or_default()))
                .row("client_id", Value::copy(&a.client_id))
                .row("client_secret", secret(opts, SecretOf::ClientSecret(&a.name)))
                .row(
                    "enterprise_object_id",
                    a.enterprise_object_id.as_ref().map_or_else(
                        || Value::note("(not in the profile: Entra ID » Enterprise applications » your app » Object ID)"),
                        Value::copy,
                    ),
                )
                .row("mailbox_name", mailbox_name);
            sheet.sections.push(s);
        }
    }
    Ok(finish(sheet, ExportFormat::Um, opts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{ExportSecrets, SECRET_PLACEHOLDER};
    use crate::profile::{Provider, presets};
    use secrecy::SecretString;

    fn md(
        f: fn(&Profile, &ExportOptions<'_>) -> Result<String, ExportError>,
        p: &Profile,
    ) -> String {
        f(p, &ExportOptions::default()).unwrap()
    }

    #[test]
    fn cerb_names_the_fields_as_its_screens_do() {
        let text = md(cerb, &presets::microsoft365_profile());
        for want in [
            "## Email Transports: Office365 SMTP",
            "| Type | `SMTP` |",
            "| Encryption | `TLS` |",
            "| Authentication | `Enabled` |",
            "| Password | (blank) |",
            "| XOAuth2 | `Office365` |",
            "## Email Mailboxes: Office365",
            "| Protocol | `IMAP (TLS/SSL)` |",
            "| Port | `993` |",
        ] {
            assert!(text.contains(want), "{want} missing in\n{text}");
        }
    }

    #[test]
    fn passwords_are_placeholders_unless_secrets_are_included() {
        let mut p = presets::microsoft365_profile();
        p.mailboxes[0].account = None;
        let text = md(cerb, &p);
        assert!(
            text.contains(&format!("| Password | {SECRET_PLACEHOLDER} |")),
            "{text}"
        );
        let mut s = ExportSecrets::default();
        s.set_mailbox_password("Office365", SecretString::from("pw-1"));
        s.set_client_secret("Office365", SecretString::from("cs-2"));
        let opts = ExportOptions {
            secrets: Some(&s),
            ..ExportOptions::default()
        };
        let text = cerb(&p, &opts).unwrap();
        assert!(text.contains("| Password | `pw-1` |"));
        assert!(text.contains("contains secrets"));
        let text = um(&p, &opts).unwrap();
        assert!(text.contains("| client_secret | `cs-2` |"), "{text}");
    }

    #[test]
    fn ce_and_um_fill_the_oauth_fields() {
        let mut p = presets::microsoft365_profile();
        p.accounts[0].enterprise_object_id = Some("11111111-1111-1111-1111-111111111111".into());
        let ce_text = md(ce, &p);
        for want in [
            "| Inbound host | `outlook.office365.com` |",
            "| Inbound port | `993` |",
            "| Outbound host | `smtp.office365.com` |",
            "| Outbound port | `587` |",
            "| Use OAuth to receive emails | ticked |",
            "| Client ID | `00000000-0000-0000-0000-000000000000` |",
            "| Client secret | (stored in the OS keyring) |",
            "| Client scopes | `https://outlook.office365.com/.default` |",
            "| Token endpoint URL | `https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token` |",
        ] {
            assert!(ce_text.contains(want), "{want} missing in\n{ce_text}");
        }
        let um_text = md(um, &p);
        for want in [
            "| tenant_id | `contoso.onmicrosoft.com` |",
            "| enterprise_object_id | `11111111-1111-1111-1111-111111111111` |",
            "| mailbox_name | `you@contoso.onmicrosoft.com` |",
        ] {
            assert!(um_text.contains(want), "{want} missing in\n{um_text}");
        }
        assert!(!um_text.contains("signs in as a person"));
    }

    #[test]
    fn delegated_accounts_get_a_warning_and_gmail_gets_none_of_it() {
        let mut p = presets::microsoft365_profile();
        p.accounts[0].flow = Flow::Delegated;
        assert!(
            md(um, &p).contains("signs in as a person (in the browser), but UM signs in app-only")
        );
        p.accounts[0] = presets::account("G", Provider::Google, Flow::Delegated);
        let e = ce(&p, &ExportOptions::default()).unwrap_err();
        assert!(
            e.to_string().contains("needs a Microsoft 365 account"),
            "{e}"
        );
        assert!(um(&p, &ExportOptions::default()).is_err());
    }

    #[test]
    fn sheets_print_as_html() {
        let opts = ExportOptions {
            html: true,
            ..ExportOptions::default()
        };
        let h = cerb(&presets::microsoft365_profile(), &opts).unwrap();
        assert!(
            h.contains("<tr><th>Encryption</th><td><code>TLS</code></td></tr>"),
            "{h}"
        );
    }
}
