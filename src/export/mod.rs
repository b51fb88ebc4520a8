//! Exports: one profile in, one file out, in the format another system reads (the native TOML and
//! JSON, Thunderbird autoconfig, settings sheets for Cerb, CE and UM, the Exchange Online
//! PowerShell steps, the set-up script for Azure Cloud Shell, KEY=value lines), and imports back into a profile. Pure: no files, no network.

mod autoconfig;
mod env;
mod import;
mod native;
mod powershell;
pub mod setup;
mod sheet;
mod sheets;
mod thunderbird;

use crate::oauth::endpoints;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use secrecy::{ExposeSecret, SecretString};

use crate::profile::{Account, Profile, Provider};

pub use import::{ImportError, import};
pub use powershell::{
    add_mailbox_permission_line, add_recipient_permission_line, add_user_mailbox_permission_line,
    connect_line, enable_protocol_line, lookup_object_id_line, new_service_principal_line,
    ps_quote, set_cas_mailbox_line, transport_config_line,
};

/// What stands where a secret would be when the user did not ask for secrets.
pub const SECRET_PLACEHOLDER: &str = "(stored in the OS keyring)";

/// An export format. The names are a contract with scripts that call `mailcfg export --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExportFormat {
    Toml,
    Json,
    Thunderbird,
    Cerb,
    Ce,
    Um,
    Powershell,
    Env,
    Setup,
}

impl ExportFormat {
    pub const ALL: &[Self] = &[
        Self::Toml,
        Self::Json,
        Self::Thunderbird,
        Self::Cerb,
        Self::Ce,
        Self::Um,
        Self::Powershell,
        Self::Env,
        Self::Setup,
    ];

    /// The name on the command line (`--format NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Toml => "toml",
            Self::Json => "json",
            Self::Thunderbird => "thunderbird",
            Self::Cerb => "cerb",
            Self::Ce => "ce",
            Self::Um => "um",
            Self::Powershell => "powershell",
            Self::Env => "env",
            Self::Setup => "setup",
        }
    }

    /// What a person sees in a list of formats: the system by what it is and the screens the
    /// values go to, so that an admin who does not know the abbreviation knows where they belong.
    pub fn label(self) -> &'static str {
        match self {
            Self::Toml => "mailcfg profile (TOML)",
            Self::Json => "mailcfg profile (JSON)",
            Self::Thunderbird => "Thunderbird autoconfig (config-v1.1.xml)",
            Self::Cerb => "Cerb helpdesk: Email Transports and Mailboxes (sheet)",
            Self::Ce => "CE Exchange Online gateway: OAuth settings (sheet)",
            Self::Um => "UM: tenant_id, client_id, enterprise_object_id, mailbox_name (sheet)",
            Self::Powershell => "Exchange Online PowerShell steps",
            Self::Env => "KEY=value lines for scripts",
            Self::Setup => "Set-up script for Azure Cloud Shell (Entra ID and Exchange Online)",
        }
    }

    /// The settings sheets, which the window can also save as HTML for printing.
    pub fn is_sheet(self) -> bool {
        matches!(self, Self::Cerb | Self::Ce | Self::Um)
    }

    /// Whether the file can carry secrets when the user asks for them: only the sheets have a
    /// Password or client secret field. The others never contain one.
    pub fn can_hold_secrets(self) -> bool {
        self.is_sheet()
    }

    /// A file name to suggest when saving.
    pub fn file_name(self, html: bool) -> &'static str {
        match (self, html && self.is_sheet()) {
            (Self::Toml, _) => "profile.toml",
            (Self::Json, _) => "profile.json",
            (Self::Thunderbird, _) => "config-v1.1.xml",
            (Self::Cerb, false) => "cerb-settings.md",
            (Self::Cerb, true) => "cerb-settings.html",
            (Self::Ce, false) => "ce-settings.md",
            (Self::Ce, true) => "ce-settings.html",
            (Self::Um, false) => "um-settings.md",
            (Self::Um, true) => "um-settings.html",
            (Self::Powershell, _) => "exchange-online-setup.ps1",
            (Self::Env, _) => "mailcfg.env",
            (Self::Setup, _) => "mailcfg-setup.ps1",
        }
    }

    /// All names, for messages: "toml, json, …".
    pub fn names() -> String {
        Self::ALL
            .iter()
            .map(|f| f.name())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown export format \"{name}\"; use one of: {}",
    ExportFormat::names()
)]
pub struct UnknownFormat {
    pub name: String,
}

impl FromStr for ExportFormat {
    type Err = UnknownFormat;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .iter()
            .copied()
            .find(|f| f.name() == s)
            .ok_or_else(|| UnknownFormat { name: s.to_owned() })
    }
}

/// Secrets the user chose to include ("include secrets"), by the name of what they belong to.
/// Whoever fills it (the keyring, later) decides; the writers only look things up.
#[derive(Debug, Default)]
pub struct ExportSecrets {
    client_secrets: BTreeMap<String, SecretString>,
    transport_passwords: BTreeMap<String, SecretString>,
    mailbox_passwords: BTreeMap<String, SecretString>,
}

impl ExportSecrets {
    pub fn set_client_secret(&mut self, account: &str, secret: SecretString) {
        self.client_secrets.insert(account.to_owned(), secret);
    }
    pub fn set_transport_password(&mut self, transport: &str, password: SecretString) {
        self.transport_passwords
            .insert(transport.to_owned(), password);
    }
    pub fn set_mailbox_password(&mut self, mailbox: &str, password: SecretString) {
        self.mailbox_passwords.insert(mailbox.to_owned(), password);
    }
}

/// How to export. The default holds no secrets and writes Markdown sheets.
#[derive(Debug, Clone, Copy, Default)]
pub struct ExportOptions<'a> {
    /// `Some` when the user ticked "include secrets": the file must then be written 0600, with a
    /// warning. `None` puts [`SECRET_PLACEHOLDER`] where a secret would be.
    pub secrets: Option<&'a ExportSecrets>,
    /// The sheets as a printable HTML page instead of Markdown.
    pub html: bool,
    /// The `setup` script: which account, and the new client secret's lifetime.
    pub setup: setup::SetupOptions<'a>,
}

/// Which secret a sheet asks for.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SecretOf<'p> {
    ClientSecret(&'p str),
    TransportPassword(&'p str),
    MailboxPassword(&'p str),
}

impl ExportOptions<'_> {
    /// Whether this export of this format will contain secrets (so: 0600 and a warning).
    pub fn includes_secrets(&self, format: ExportFormat) -> bool {
        self.secrets.is_some() && format.can_hold_secrets()
    }

    /// The secret's text when included, otherwise the placeholder (`Err`).
    pub(crate) fn secret(&self, which: SecretOf<'_>) -> Result<String, &'static str> {
        let Some(s) = self.secrets else {
            return Err(SECRET_PLACEHOLDER);
        };
        let found = match which {
            SecretOf::ClientSecret(n) => s.client_secrets.get(n),
            SecretOf::TransportPassword(n) => s.transport_passwords.get(n),
            SecretOf::MailboxPassword(n) => s.mailbox_passwords.get(n),
        };
        found
            .map(|v| v.expose_secret().to_owned())
            .ok_or("(not found in the OS keyring)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExportError {
    /// The profile has nothing this format can describe (a Gmail profile as an Exchange script).
    #[error("the `{format}` export needs {needs}, and this profile has none")]
    NotApplicable {
        format: ExportFormat,
        needs: &'static str,
        fix: &'static str,
    },
    /// The `setup` script is for one account, and the profile has several.
    #[error("the profile has several Microsoft 365 accounts ({names}): say which one to set up")]
    AccountNeeded { names: String },
    #[error("the profile has no Microsoft 365 account named \"{name}\" (it has {names})")]
    NoSuchAccount { name: String, names: String },
    #[error("cannot write the profile as {format}: {message}")]
    Encode {
        format: ExportFormat,
        message: String,
    },
}

impl ExportError {
    /// What the user can do about it.
    pub fn fix(&self) -> &'static str {
        match self {
            Self::NotApplicable { fix, .. } => fix,
            Self::AccountNeeded { .. } | Self::NoSuchAccount { .. } => {
                "name the account with --account NAME (in the window: its \"Set it up for me…\")"
            }
            Self::Encode { .. } => "this is a bug in mailcfg; please report it with the profile",
        }
    }
}

/// The profile in the given format.
pub fn export(
    profile: &Profile,
    format: ExportFormat,
    opts: &ExportOptions<'_>,
) -> Result<String, ExportError> {
    match format {
        ExportFormat::Toml => native::toml(profile),
        ExportFormat::Json => native::json(profile),
        ExportFormat::Thunderbird => thunderbird::export(profile),
        ExportFormat::Cerb => sheets::cerb(profile, opts),
        ExportFormat::Ce => sheets::ce(profile, opts),
        ExportFormat::Um => sheets::um(profile, opts),
        ExportFormat::Powershell => powershell::export(profile),
        ExportFormat::Env => Ok(env::export(profile)),
        ExportFormat::Setup => setup::export(profile, &opts.setup),
    }
}

fn ms_tenant(a: &Account) -> &str {
    a.tenant
        .as_deref()
        .filter(|t| !t.is_empty())
        .unwrap_or("organizations")
}

/// Where the account gets its tokens, if the profile says.
pub(crate) fn token_url(a: &Account) -> Option<String> {
    if let Some(u) = &a.token_url {
        return Some(u.clone());
    }
    match a.provider {
        Provider::Microsoft => Some(endpoints::microsoft_url(a, "token")),
        Provider::Google => Some(endpoints::GOOGLE_TOKEN.to_owned()),
        Provider::Generic => None,
    }
}

/// Where a person signs in, if the profile says.
pub(crate) fn authorize_url(a: &Account) -> Option<String> {
    if let Some(u) = &a.authorize_url {
        return Some(u.clone());
    }
    match a.provider {
        Provider::Microsoft => Some(endpoints::microsoft_url(a, "authorize")),
        Provider::Google => Some(endpoints::GOOGLE_AUTHORIZE.to_owned()),
        Provider::Generic => None,
    }
}

/// Microsoft accounts of a work or school tenant: the ones Exchange Online admin steps apply to
/// (personal Outlook.com accounts sign in through "consumers" and have no admin).
pub(crate) fn exchange_accounts(profile: &Profile) -> impl Iterator<Item = &Account> {
    profile.accounts.iter().filter(|a| {
        a.provider == Provider::Microsoft && !ms_tenant(a).eq_ignore_ascii_case("consumers")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Flow, presets};

    #[test]
    fn the_format_names_are_the_contract() {
        let names: Vec<&str> = ExportFormat::ALL.iter().map(|f| f.name()).collect();
        assert_eq!(names, crate::cli::EXPORT_FORMATS);
        for f in ExportFormat::ALL {
            assert_eq!(f.name().parse::<ExportFormat>(), Ok(*f));
            assert_eq!(f.to_string(), f.name());
        }
        let e = "xml".parse::<ExportFormat>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "unknown export format \"xml\"; use one of: toml, json, thunderbird, cerb, ce, um, powershell, env, setup"
        );
        assert!("TOML".parse::<ExportFormat>().is_err(), "names are exact");
    }

    #[test]
    fn microsoft_endpoints_follow_the_authority_and_tenant() {
        let mut a = presets::account("A", Provider::Microsoft, Flow::AppOnly);
        assert_eq!(
            token_url(&a).unwrap(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        a.authority = Some("https://login.microsoftonline.us/".into());
        a.tenant = Some("fabrikam.us".into());
        assert_eq!(
            token_url(&a).unwrap(),
            "https://login.microsoftonline.us/fabrikam.us/oauth2/v2.0/token"
        );
        assert_eq!(
            authorize_url(&a).unwrap(),
            "https://login.microsoftonline.us/fabrikam.us/oauth2/v2.0/authorize"
        );
        let g = presets::account("G", Provider::Generic, Flow::Delegated);
        assert_eq!(token_url(&g), None);
    }

    #[test]
    fn secrets_are_placeholders_unless_included() {
        let none = ExportOptions::default();
        assert_eq!(
            none.secret(SecretOf::ClientSecret("A")),
            Err(SECRET_PLACEHOLDER)
        );
        assert!(!none.includes_secrets(ExportFormat::Cerb));
        let mut s = ExportSecrets::default();
        s.set_client_secret("A", SecretString::from("s3cret"));
        let with = ExportOptions {
            secrets: Some(&s),
            ..ExportOptions::default()
        };
        assert_eq!(
            with.secret(SecretOf::ClientSecret("A")).as_deref(),
            Ok("s3cret")
        );
        assert!(with.secret(SecretOf::ClientSecret("B")).is_err());
        assert!(with.secret(SecretOf::MailboxPassword("A")).is_err());
        assert!(with.includes_secrets(ExportFormat::Um));
        assert!(!with.includes_secrets(ExportFormat::Thunderbird));
        assert!(!format!("{s:?}").contains("s3cret"), "Debug never shows it");
    }
}
