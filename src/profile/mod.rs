//! The settings as types: connected accounts (where OAuth2 tokens come from), SMTP transports and
//! mailboxes (IMAP or POP3). The key names and values are a contract with users and outside checks
//! (see README, "Profile file"); this module knows nothing of the network.

pub mod ca;
mod file;
mod google;
mod locate;
pub mod presets;
mod validate;
mod values;

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Deserializer, Serialize};

pub use file::{
    Format, LoadError, MAX_FILE_BYTES, SaveError, load, load_str, read, read_str, save, to_string,
    write_atomic, write_atomic_mode,
};
pub use locate::{Position, Seg};
pub use validate::{
    Finding, SECRET_EXPIRY_WARNING_DAYS, Severity, ca_file_finding, days_until, is_guid, validate,
    validate_in_memory,
};
pub use values::{mail_address, shown};

/// The newest file `version` this build reads and writes.
pub const CURRENT_VERSION: u32 = 1;

/// One profile: everything a user set up, as stored in the profile file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub version: u32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accounts: Vec<Account>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub transports: Vec<Transport>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mailboxes: Vec<Mailbox>,
    #[serde(default, skip_serializing_if = "TlsSettings::is_default")]
    pub tls: TlsSettings,
    #[serde(default, skip_serializing_if = "ProbeSettings::is_default")]
    pub probe: ProbeSettings,
    #[serde(default, skip_serializing_if = "DiscoverySettings::is_default")]
    pub discovery: DiscoverySettings,
}

impl Default for Profile {
    fn default() -> Self {
        Self {
            version: CURRENT_VERSION,
            accounts: Vec::new(),
            transports: Vec::new(),
            mailboxes: Vec::new(),
            tls: TlsSettings::default(),
            probe: ProbeSettings::default(),
            discovery: DiscoverySettings::default(),
        }
    }
}

impl Profile {
    /// The account a transport or mailbox names, if any.
    pub fn account(&self, name: &str) -> Option<&Account> {
        self.accounts.iter().find(|a| a.name == name)
    }

    /// The users the account's mailboxes, then transports, sign in as (a service account's
    /// tokens are for them), in order, without empty ones or repeats.
    pub fn users_of(&self, account: &str) -> Vec<String> {
        let of = |a: &Option<String>| a.as_deref() == Some(account);
        let mut out: Vec<String> = Vec::new();
        let names = self
            .mailboxes
            .iter()
            .filter(|m| of(&m.account))
            .map(|m| m.user.clone())
            .chain(
                self.transports
                    .iter()
                    .filter(|t| of(&t.account))
                    .filter_map(|t| t.username.clone()),
            );
        for u in names {
            let u = u.trim().to_owned();
            if !u.is_empty() && !out.iter().any(|o| o.eq_ignore_ascii_case(&u)) {
                out.push(u);
            }
        }
        out
    }
}

/// A connected account: an OAuth2 application registration that hands out tokens.
/// The client secret and refresh tokens are never part of it: they live in the OS keyring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Account {
    pub name: String,
    pub provider: Provider,
    pub flow: Flow,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<String>,
    pub client_id: String,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Microsoft: the service principal's object ID (Enterprise applications), for the
    /// PowerShell export and the set-up checklist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enterprise_object_id: Option<String>,
    /// When the client secret expires (`YYYY-MM-DD`, as the portal shows it): a reminder, since
    /// secrets live at most 24 months. The secret itself is in the keyring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret_expires: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_uri: Option<String>,
    /// Microsoft: another cloud's login host, or a local identity provider in tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authorize_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_authorization_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Google app-only: the service account's address (`client_email` of its JSON key), the
    /// issuer of the JWT it signs. The key itself is in the keyring; its token endpoint
    /// (`token_uri`) is `token_url`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_email: Option<String>,
    /// Google app-only: the ID of the service account's key (`private_key_id`), sent as the
    /// JWT's `kid` and compared with the key in the keyring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub private_key_id: Option<String>,
}

impl Account {
    /// A Google service account with domain-wide delegation: it signs a JWT for each mailbox
    /// user and gets that user's token.
    pub fn is_service_account(&self) -> bool {
        self.provider == Provider::Google && self.flow == Flow::AppOnly
    }
}

/// An SMTP server that sends mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transport {
    pub name: String,
    pub host: String,
    #[serde(deserialize_with = "port")]
    pub port: u16,
    pub encryption: Encryption,
    #[serde(default = "yes")]
    pub auth: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// XOAUTH2 through this connected account; without it, a password from the keyring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

/// An IMAP or POP3 mailbox that receives mail.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mailbox {
    pub name: String,
    pub protocol: Protocol,
    pub host: String,
    #[serde(deserialize_with = "port")]
    pub port: u16,
    pub encryption: Encryption,
    /// The address it signs in as; empty (or absent) with a delegated account: the signed-in user.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSettings {
    /// An extra CA certificate (PEM) to trust besides the system roots: mail servers and the
    /// identity provider alike. A relative path is relative to the profile file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
}

impl TlsSettings {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProbeSettings {
    /// The time limit of each step of a connection test.
    #[serde(default = "ProbeSettings::default_timeout")]
    pub timeout_secs: u64,
    /// How many mailboxes are tested at once.
    #[serde(default = "ProbeSettings::default_concurrency")]
    pub concurrency: u32,
}

impl ProbeSettings {
    pub const DEFAULT_TIMEOUT_SECS: u64 = 15;
    pub const DEFAULT_CONCURRENCY: u32 = 8;
    fn default_timeout() -> u64 {
        Self::DEFAULT_TIMEOUT_SECS
    }
    fn default_concurrency() -> u32 {
        Self::DEFAULT_CONCURRENCY
    }
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

impl Default for ProbeSettings {
    fn default() -> Self {
        Self {
            timeout_secs: Self::DEFAULT_TIMEOUT_SECS,
            concurrency: Self::DEFAULT_CONCURRENCY,
        }
    }
}

/// Where "Start from an e-mail address" asks (docs/discovery.md); each unset one is the default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscoverySettings {
    /// A DNS server (`IP` or `IP:PORT`) to ask instead of the system's: split DNS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<String>,
    /// Microsoft's sign-in authority for tenant discovery (another cloud, a local identity provider).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// The ISPDB's base URL (an organisation's mirror).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ispdb: Option<String>,
}

impl DiscoverySettings {
    fn is_default(&self) -> bool {
        *self == Self::default()
    }
}

/// A DNS server as the user gives it: `IP`, `IP:PORT` or `[IPv6]:PORT` (port 53 if none).
/// An IP, not a name: the name of the server that answers names cannot be looked up first.
pub fn parse_dns(s: &str) -> Result<std::net::SocketAddr, String> {
    let t = s.trim();
    if let Ok(a) = t.parse::<std::net::SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = t
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<std::net::IpAddr>()
    {
        return Ok(std::net::SocketAddr::new(ip, 53));
    }
    let shown: String = t.chars().take(80).flat_map(char::escape_debug).collect();
    Err(format!(
        "\"{shown}\" is not a DNS server address: give an IP address and optionally a port, e.g. 192.168.1.1 or 127.0.0.1:5353"
    ))
}

/// Defines a closed set of lower-case names read from and written to the file.
macro_rules! names {
    ($(#[$m:meta])* $ty:ident { $($variant:ident = $name:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $ty {
            $(#[serde(rename = $name)] $variant),+
        }
        impl $ty {
            pub const ALL: &[Self] = &[$(Self::$variant),+];
            /// The name used in the profile file.
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $name),+ }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

names!(
    /// Who issues the tokens.
    Provider { Microsoft = "microsoft", Google = "google", Generic = "generic" }
);
names!(
    /// How the account gets its tokens.
    Flow { Delegated = "delegated", AppOnly = "app-only", DeviceCode = "device-code" }
);
names!(
    /// How the connection is protected.
    Encryption { Tls = "tls", StartTls = "starttls", None = "none" }
);
names!(
    /// The mailbox protocol.
    Protocol { Imap = "imap", Pop3 = "pop3" }
);

fn yes() -> bool {
    true
}

/// Reads a port as any integer so that 0 or 70000 gets a message about ports, not about `u16`.
fn port<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let n = i64::deserialize(d)?;
    u16::try_from(n).ok().filter(|p| *p != 0).ok_or_else(|| {
        serde::de::Error::custom(format!(
            "port {n} is out of range: a port is a whole number from 1 to 65535"
        ))
    })
}
