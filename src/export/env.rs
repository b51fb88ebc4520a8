//! `KEY=value` lines for scripts: every account, transport and mailbox as numbered variables
//! (`MAILCFG_MAILBOX_1_HOST=…`), quoted so that a POSIX shell can `source` the file. No secrets.

use std::fmt::Write;

use super::token_url;
use crate::profile::Profile;

pub(super) fn export(p: &Profile) -> String {
    let mut out = String::from(
        "# mailcfg profile as KEY=value lines for scripts (POSIX shell quoting; `. ./mailcfg.env`).\n\
         # No secrets: the client secret and passwords stay in the OS keyring.\n",
    );
    let mut line = |key: String, value: &str| {
        let _ = writeln!(out, "{key}={}", sh_quote(value));
    };
    line(
        "MAILCFG_ACCOUNT_COUNT".into(),
        &p.accounts.len().to_string(),
    );
    for (i, a) in p.accounts.iter().enumerate() {
        let k = |f: &str| format!("MAILCFG_ACCOUNT_{}_{f}", i + 1);
        line(k("NAME"), &a.name);
        line(k("PROVIDER"), a.provider.as_str());
        line(k("FLOW"), a.flow.as_str());
        let optional = [
            ("TENANT", a.tenant.clone()),
            ("CLIENT_ID", Some(a.client_id.clone())),
            ("SCOPES", Some(a.scopes.join(" "))),
            ("ENTERPRISE_OBJECT_ID", a.enterprise_object_id.clone()),
            ("REDIRECT_URI", a.redirect_uri.clone()),
            ("AUTHORITY", a.authority.clone()),
            ("AUTHORIZE_URL", a.authorize_url.clone()),
            ("TOKEN_URL", token_url(a)),
            (
                "DEVICE_AUTHORIZATION_URL",
                a.device_authorization_url.clone(),
            ),
            ("ISSUER", a.issuer.clone()),
            // A Google service account: who signs, and with which key (the key is in the keyring).
            ("CLIENT_EMAIL", a.client_email.clone()),
            ("PRIVATE_KEY_ID", a.private_key_id.clone()),
        ];
        for (f, v) in optional {
            if let Some(v) = v {
                line(k(f), &v);
            }
        }
    }
    line(
        "MAILCFG_TRANSPORT_COUNT".into(),
        &p.transports.len().to_string(),
    );
    for (i, t) in p.transports.iter().enumerate() {
        let k = |f: &str| format!("MAILCFG_TRANSPORT_{}_{f}", i + 1);
        line(k("NAME"), &t.name);
        line(k("HOST"), &t.host);
        line(k("PORT"), &t.port.to_string());
        line(k("ENCRYPTION"), t.encryption.as_str());
        line(k("AUTH"), if t.auth { "true" } else { "false" });
        if let Some(u) = &t.username {
            line(k("USERNAME"), u);
        }
        if let Some(a) = &t.account {
            line(k("ACCOUNT"), a);
        }
    }
    line(
        "MAILCFG_MAILBOX_COUNT".into(),
        &p.mailboxes.len().to_string(),
    );
    for (i, m) in p.mailboxes.iter().enumerate() {
        let k = |f: &str| format!("MAILCFG_MAILBOX_{}_{f}", i + 1);
        line(k("NAME"), &m.name);
        line(k("PROTOCOL"), m.protocol.as_str());
        line(k("HOST"), &m.host);
        line(k("PORT"), &m.port.to_string());
        line(k("ENCRYPTION"), m.encryption.as_str());
        line(k("USER"), &m.user);
        if let Some(a) = &m.account {
            line(k("ACCOUNT"), a);
        }
    }
    out
}

/// A value as the shell reads it back unchanged: bare when it holds only harmless characters,
/// otherwise in single quotes (a quote inside becomes `'\''`).
pub(crate) fn sh_quote(v: &str) -> String {
    let harmless = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./_-".contains(c);
    if !v.is_empty() && v.chars().all(harmless) {
        v.to_owned()
    } else {
        format!("'{}'", v.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::presets;

    #[test]
    fn quoting_is_shell_safe() {
        assert_eq!(sh_quote("smtp.office365.com"), "smtp.office365.com");
        assert_eq!(sh_quote("you@contoso.com"), "you@contoso.com");
        assert_eq!(sh_quote(""), "''");
        assert_eq!(sh_quote("Me at work"), "'Me at work'");
        assert_eq!(sh_quote("it's $HOME `x`"), r"'it'\''s $HOME `x`'");
        assert_eq!(sh_quote("a\nb"), "'a\nb'");
    }

    #[test]
    fn every_part_has_numbered_lines() {
        let mut p = presets::microsoft365_profile();
        p.mailboxes[0].name = "Bob's box".into();
        let text = export(&p);
        for want in [
            "MAILCFG_ACCOUNT_COUNT=1",
            "MAILCFG_ACCOUNT_1_NAME=Office365",
            "MAILCFG_ACCOUNT_1_FLOW=app-only",
            "MAILCFG_ACCOUNT_1_TENANT=contoso.onmicrosoft.com",
            "MAILCFG_ACCOUNT_1_SCOPES=https://outlook.office365.com/.default",
            "MAILCFG_ACCOUNT_1_TOKEN_URL=https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
            "MAILCFG_TRANSPORT_1_HOST=smtp.office365.com",
            "MAILCFG_TRANSPORT_1_PORT=587",
            "MAILCFG_TRANSPORT_1_ENCRYPTION=starttls",
            "MAILCFG_TRANSPORT_1_AUTH=true",
            "MAILCFG_MAILBOX_1_NAME='Bob'\\''s box'",
            "MAILCFG_MAILBOX_1_PROTOCOL=imap",
            "MAILCFG_MAILBOX_1_USER=you@contoso.onmicrosoft.com",
        ] {
            assert!(text.lines().any(|l| l == want), "{want} missing in\n{text}");
        }
        assert!(!text.to_ascii_lowercase().contains("secret="));
    }
}
