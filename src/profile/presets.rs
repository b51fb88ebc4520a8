//! Provider presets from the set-up guides: the servers, ports, encryption and scopes that a
//! Microsoft 365, Gmail or Outlook.com account uses, so a user fills in only what is theirs.

use super::{Account, Encryption, Flow, Mailbox, Profile, Protocol, Provider, Transport};

pub const MS_APP_ONLY_SCOPE: &str = "https://outlook.office365.com/.default";
pub const MS_DELEGATED_SCOPES: &[&str] = &[
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/POP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
    "offline_access",
];
pub const GOOGLE_SCOPE: &str = crate::provider::google::MAIL_SCOPE;

/// The scopes a new account of this kind asks for (the provider table's).
pub fn scopes(provider: Provider, flow: Flow) -> Vec<&'static str> {
    (crate::provider::info(provider).scopes)(flow).to_vec()
}

/// A server preset: one mail service of one provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Server {
    pub label: &'static str,
    pub host: &'static str,
    pub port: u16,
    pub encryption: Encryption,
}

pub const MICROSOFT365_SMTP: Server = server(
    "Microsoft 365 SMTP",
    "smtp.office365.com",
    587,
    Encryption::StartTls,
);
pub const MICROSOFT365_IMAP: Server = server(
    "Microsoft 365 IMAP",
    "outlook.office365.com",
    993,
    Encryption::Tls,
);
pub const MICROSOFT365_POP3: Server = server(
    "Microsoft 365 POP3",
    "outlook.office365.com",
    995,
    Encryption::Tls,
);
pub const GMAIL_SMTP: Server = crate::provider::google::SMTP;
pub const GMAIL_IMAP: Server = crate::provider::google::IMAP;
pub const GMAIL_POP3: Server = crate::provider::google::POP3;
// Outlook.com (personal accounts) shares Microsoft 365's hosts; Microsoft does not answer on 465.
pub const OUTLOOK_COM_SMTP: Server = server(
    "Outlook.com SMTP",
    "smtp-mail.outlook.com",
    587,
    Encryption::StartTls,
);
pub const OUTLOOK_COM_IMAP: Server = server(
    "Outlook.com IMAP",
    "outlook.office365.com",
    993,
    Encryption::Tls,
);
pub const OUTLOOK_COM_POP3: Server = server(
    "Outlook.com POP3",
    "outlook.office365.com",
    995,
    Encryption::Tls,
);

// Microsoft 365 in the national clouds, for tenants that tenant discovery places there: GCC
// High / DoD (office365.us) and the one operated by 21Vianet (partner.outlook.cn). The hosts
// are documented only in part (docs/discovery.md); discovery says so beside them.
pub const MICROSOFT365_USGOV_IMAP: Server = server(
    "Microsoft 365 US Government IMAP",
    "outlook.office365.us",
    993,
    Encryption::Tls,
);
pub const MICROSOFT365_USGOV_SMTP: Server = server(
    "Microsoft 365 US Government SMTP",
    "smtp.office365.us",
    587,
    Encryption::StartTls,
);
pub const MICROSOFT365_CHINA_IMAP: Server = server(
    "Microsoft 365 China IMAP",
    "partner.outlook.cn",
    993,
    Encryption::Tls,
);
pub const MICROSOFT365_CHINA_SMTP: Server = server(
    "Microsoft 365 China SMTP",
    "smtp.partner.outlook.cn",
    587,
    Encryption::StartTls,
);

pub const SMTP_SERVERS: &[Server] = &[MICROSOFT365_SMTP, GMAIL_SMTP, OUTLOOK_COM_SMTP];
pub const IMAP_SERVERS: &[Server] = &[MICROSOFT365_IMAP, GMAIL_IMAP, OUTLOOK_COM_IMAP];
pub const POP3_SERVERS: &[Server] = &[MICROSOFT365_POP3, GMAIL_POP3, OUTLOOK_COM_POP3];

const fn server(
    label: &'static str,
    host: &'static str,
    port: u16,
    encryption: Encryption,
) -> Server {
    Server {
        label,
        host,
        port,
        encryption,
    }
}

impl Server {
    pub fn transport(self, name: &str, username: &str, account: Option<&str>) -> Transport {
        Transport {
            name: name.to_owned(),
            host: self.host.to_owned(),
            port: self.port,
            encryption: self.encryption,
            auth: true,
            username: Some(username.to_owned()),
            account: account.map(str::to_owned),
        }
    }

    pub fn mailbox(
        self,
        name: &str,
        protocol: Protocol,
        user: &str,
        account: Option<&str>,
    ) -> Mailbox {
        Mailbox {
            name: name.to_owned(),
            protocol,
            host: self.host.to_owned(),
            port: self.port,
            encryption: self.encryption,
            user: user.to_owned(),
            account: account.map(str::to_owned),
        }
    }
}

/// A connected account with the provider's defaults; the user adds tenant and client ID.
pub fn account(name: &str, provider: Provider, flow: Flow) -> Account {
    Account {
        name: name.to_owned(),
        provider,
        flow,
        tenant: (provider == Provider::Microsoft).then(|| {
            if flow == Flow::AppOnly {
                "contoso.onmicrosoft.com"
            } else {
                "organizations"
            }
            .to_owned()
        }),
        client_id: String::new(),
        scopes: scopes(provider, flow)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        enterprise_object_id: None,
        client_secret_expires: None,
        redirect_uri: None,
        authority: None,
        authorize_url: None,
        token_url: None,
        device_authorization_url: None,
        issuer: None,
        client_email: None,
        private_key_id: None,
    }
}

/// What the window opens on the first time (and File > New): the Microsoft 365 app-only set-up
/// of the guides with the user's own values left empty. Examples belong in the fields' hints: a
/// value that looks filled in but is not the user's (a tenant of Contoso, a client ID of zeros)
/// is only refused later, by the identity provider.
pub fn microsoft365_start() -> Profile {
    let mut p = microsoft365_profile();
    for a in &mut p.accounts {
        a.tenant = None;
        a.client_id.clear();
    }
    for t in &mut p.transports {
        t.username = None;
    }
    for m in &mut p.mailboxes {
        m.user.clear();
    }
    p
}

/// The Microsoft 365 app-only set-up of the guides, with Contoso's example values where the
/// user's own go: examples and tests start from it.
pub fn microsoft365_profile() -> Profile {
    let mut account = account("Office365", Provider::Microsoft, Flow::AppOnly);
    "00000000-0000-0000-0000-000000000000".clone_into(&mut account.client_id);
    let user = "you@contoso.onmicrosoft.com";
    Profile {
        accounts: vec![account],
        transports: vec![MICROSOFT365_SMTP.transport("Office365 SMTP", user, Some("Office365"))],
        mailboxes: vec![MICROSOFT365_IMAP.mailbox(
            "Office365",
            Protocol::Imap,
            user,
            Some("Office365"),
        )],
        ..Profile::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_start_profile_is_valid() {
        let p = microsoft365_profile();
        // Valid; its only finding is the placeholder client ID, which it says is one.
        let findings = crate::profile::validate(&p, None);
        assert!(
            findings
                .iter()
                .all(|f| f.severity == crate::profile::Severity::Warning
                    && f.message.contains("placeholder")),
            "{findings:?}"
        );
        assert_eq!(p.transports[0].port, 587);
        assert_eq!(p.transports[0].encryption, Encryption::StartTls);
        assert_eq!(p.mailboxes[0].host, "outlook.office365.com");
        assert_eq!(p.accounts[0].scopes, vec![MS_APP_ONLY_SCOPE]);
    }

    #[test]
    fn the_window_starts_with_the_users_own_values_empty() {
        let p = microsoft365_start();
        let a = &p.accounts[0];
        assert_eq!((a.tenant.as_deref(), a.client_id.as_str()), (None, ""));
        assert_eq!(p.mailboxes[0].user, "");
        assert_eq!(p.transports[0].username, None);
        let keys: Vec<String> = crate::profile::validate(&p, None)
            .iter()
            .map(crate::profile::Finding::key)
            .collect();
        for want in [
            "accounts[0].tenant",
            "accounts[0].client_id",
            "mailboxes[0].user",
        ] {
            assert!(keys.iter().any(|k| k == want), "{want} not in {keys:?}");
        }
    }
}
