//! The profile's own rules, beyond what the file's shape already guarantees. Each finding names
//! the key, says what is wrong, and says how to fix it; the file layer adds the file and line.

use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::net::IpAddr;
use std::path::Path;

use serde::Serialize;

use super::locate::{Position, Seg};
use super::values::shown;
use super::{Account, Encryption, Flow, Profile, Protocol, Provider};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// One problem found in a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    /// The file's name as the user gave it (empty until the file layer fills it in).
    pub file: String,
    #[serde(rename = "key", serialize_with = "serialize_key")]
    pub path: Vec<Seg>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    pub message: String,
    pub fix: String,
    #[serde(skip)]
    pub(super) offset: Option<usize>,
}

impl Finding {
    pub fn error(path: Vec<Seg>, message: String, fix: &str) -> Self {
        Self::new(Severity::Error, path, message, fix)
    }

    pub fn warning(path: Vec<Seg>, message: String, fix: &str) -> Self {
        Self::new(Severity::Warning, path, message, fix)
    }

    fn new(severity: Severity, path: Vec<Seg>, message: String, fix: &str) -> Self {
        Self {
            severity,
            file: String::new(),
            path,
            position: None,
            message,
            fix: fix.to_owned(),
            offset: None,
        }
    }

    /// The key as a dotted path, e.g. `mailboxes[1].port`; empty for the whole file.
    pub fn key(&self) -> String {
        path_key(&self.path)
    }
}

fn path_key(path: &[Seg]) -> String {
    let mut s = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) if s.is_empty() => s.push_str(k),
            Seg::Key(k) => {
                s.push('.');
                s.push_str(k);
            }
            Seg::Index(i) => {
                let _ = write!(s, "[{i}]");
            }
        }
    }
    s
}

fn serialize_key<S: serde::Serializer>(path: &[Seg], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&path_key(path))
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.file.is_empty() {
            write!(f, "{}:", self.file)?;
            if let Some(p) = self.position {
                write!(f, "{}:{}:", p.line, p.column)?;
            }
            f.write_str(" ")?;
        }
        let level = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{level}: ")?;
        let key = self.key();
        if !key.is_empty() {
            write!(f, "{key}: ")?;
        }
        write!(f, "{}\n    fix: {}", self.message, self.fix)
    }
}

/// Checks a parsed profile. `base_dir` is the profile's folder, for relative file paths.
pub fn validate(profile: &Profile, base_dir: Option<&Path>) -> Vec<Finding> {
    checked(profile, Files::Read(base_dir))
}

/// [`validate`] without reading any file: the window runs this on its UI thread on every
/// change, and the CA file's check ([`ca_file_finding`]) on the engine.
pub fn validate_in_memory(profile: &Profile) -> Vec<Finding> {
    checked(profile, Files::Skip)
}

/// The extra CA file's problem, if it has one (the file is read: not for the UI thread).
pub fn ca_file_finding(ca_file: &Path) -> Option<Finding> {
    let why = super::ca::certificates(ca_file).err()?;
    Some(Finding::error(
        vec![Seg::Key("tls".into()), Seg::Key("ca_file".into())],
        format!(
            "the CA file {} {why}",
            shown(&ca_file.display().to_string())
        ),
        "give the path of a PEM certificate file (relative paths start at the profile's folder), or remove `ca_file`",
    ))
}

/// Whether the files a profile names are read (relative paths from the profile's folder).
#[derive(Clone, Copy)]
enum Files<'a> {
    Read(Option<&'a Path>),
    Skip,
}

fn checked(profile: &Profile, files: Files<'_>) -> Vec<Finding> {
    let mut out = Vec::new();
    duplicates(
        profile.accounts.iter().map(|a| a.name.as_str()),
        "accounts",
        &mut out,
    );
    duplicates(
        profile.transports.iter().map(|t| t.name.as_str()),
        "transports",
        &mut out,
    );
    duplicates(
        profile.mailboxes.iter().map(|m| m.name.as_str()),
        "mailboxes",
        &mut out,
    );
    for (i, a) in profile.accounts.iter().enumerate() {
        check_account(a, &|field| at("accounts", i, field), &mut out);
    }
    check_transports(profile, &mut out);
    check_mailboxes(profile, &mut out);
    super::google::check(profile, &mut out);
    check_settings(profile, files, &mut out);
    super::values::check_text(profile, &mut out);
    out
}

/// The path of one field of one entry, e.g. `mailboxes[1].port`.
pub(super) fn at(section: &str, i: usize, field: &str) -> Vec<Seg> {
    vec![
        Seg::Key(section.into()),
        Seg::Index(i),
        Seg::Key(field.into()),
    ]
}

fn account_ref(profile: &Profile, name: Option<&String>, path: Vec<Seg>, out: &mut Vec<Finding>) {
    if let Some(n) = name
        && profile.account(n).is_none()
    {
        let known: Vec<&str> = profile.accounts.iter().map(|a| a.name.as_str()).collect();
        out.push(Finding::error(
            path,
            format!("`{}` names no connected account in this profile", shown(n)),
            &if known.is_empty() {
                "add an [[accounts]] entry with this name, or remove `account` to use a password"
                    .to_owned()
            } else {
                format!("use one of: {}", known.join(", "))
            },
        ));
    }
}

/// Whether the target's account signs a user in (delegated, device code): an empty user name then
/// means the signed-in user, whom the sign-in names.
fn signs_in_as_user(profile: &Profile, account: Option<&str>) -> bool {
    account
        .and_then(|a| profile.account(a))
        .is_some_and(|a| a.flow != crate::profile::Flow::AppOnly)
}

fn check_transports(profile: &Profile, out: &mut Vec<Finding>) {
    for (i, t) in profile.transports.iter().enumerate() {
        let here = |field: &str| at("transports", i, field);
        check_name(&t.name, here("name"), out);
        check_host(&t.host, here("host"), out);
        check_encryption(t.port, t.encryption, Service::Smtp, here("encryption"), out);
        account_ref(profile, t.account.as_ref(), here("account"), out);
        super::values::check_sender(t, here("username"), out);
        if t.auth
            && t.username.as_deref().is_none_or(|u| u.trim().is_empty())
            && !signs_in_as_user(profile, t.account.as_deref())
        {
            out.push(Finding::error(
                here("username"),
                format!("transport \"{}\" authenticates but has no username", shown(&t.name)),
                "set `username` to the mailbox address that signs in (for XOAUTH2, the address the token acts for)",
            ));
        }
        if !t.auth && t.account.is_some() {
            out.push(Finding::warning(
                here("auth"),
                format!(
                    "transport \"{}\" names an account but `auth = false`, so no token is sent",
                    shown(&t.name)
                ),
                "set `auth = true` to sign in with XOAUTH2, or remove `account`",
            ));
        }
    }
}

fn check_mailboxes(profile: &Profile, out: &mut Vec<Finding>) {
    for (i, m) in profile.mailboxes.iter().enumerate() {
        let here = |field: &str| at("mailboxes", i, field);
        check_name(&m.name, here("name"), out);
        check_host(&m.host, here("host"), out);
        let service = match m.protocol {
            Protocol::Imap => Service::Imap,
            Protocol::Pop3 => Service::Pop3,
        };
        check_encryption(m.port, m.encryption, service, here("encryption"), out);
        account_ref(profile, m.account.as_ref(), here("account"), out);
        if m.user.trim().is_empty() && !signs_in_as_user(profile, m.account.as_deref()) {
            out.push(Finding::error(
                here("user"),
                format!("mailbox \"{}\" has no user", shown(&m.name)),
                "set `user` to the mailbox address (for app-only access, the mailbox the app was granted)",
            ));
        }
    }
}

fn check_settings(profile: &Profile, files: Files<'_>, out: &mut Vec<Finding>) {
    let key = |a: &str, b: &str| vec![Seg::Key(a.into()), Seg::Key(b.into())];
    if let (Some(ca), Files::Read(base_dir)) = (&profile.tls.ca_file, files) {
        let full = base_dir.map_or_else(|| ca.clone(), |d| d.join(ca));
        out.extend(ca_file_finding(&full));
    }
    if !(1..=600).contains(&profile.probe.timeout_secs) {
        out.push(Finding::error(
            key("probe", "timeout_secs"),
            format!(
                "a step timeout of {} s is out of range",
                profile.probe.timeout_secs
            ),
            "use a value from 1 to 600 seconds (the default is 15)",
        ));
    }
    check_discovery(&profile.discovery, out);
    if !(1..=256).contains(&profile.probe.concurrency) {
        out.push(Finding::error(
            key("probe", "concurrency"),
            format!("concurrency {} is out of range", profile.probe.concurrency),
            "use a value from 1 to 256 (the default is 8)",
        ));
    }
}

fn check_discovery(d: &super::DiscoverySettings, out: &mut Vec<Finding>) {
    let key = |b: &str| vec![Seg::Key("discovery".into()), Seg::Key(b.into())];
    if let Some(dns) = &d.dns
        && let Err(e) = super::parse_dns(dns)
    {
        out.push(Finding::error(key("dns"), e, "give the DNS server's IP address, optionally with a port, or remove `dns` to use this computer's"));
    }
    for (field, value) in [("authority", &d.authority), ("ispdb", &d.ispdb)] {
        if let Some(v) = value
            && let Err(message) = check_url(v, false)
        {
            out.push(Finding::error(key(field), message, "give a full https:// address (http only for this computer), or remove it for the default"));
        }
    }
}

fn duplicates<'a>(names: impl Iterator<Item = &'a str>, section: &str, out: &mut Vec<Finding>) {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (i, name) in names.enumerate() {
        if let Some(first) = seen.insert(name, i) {
            seen.insert(name, first);
            out.push(Finding::error(
                vec![
                    Seg::Key(section.into()),
                    Seg::Index(i),
                    Seg::Key("name".into()),
                ],
                format!(
                    "the name \"{}\" is used twice in {section} (entries {} and {})",
                    shown(name),
                    first + 1,
                    i + 1
                ),
                "give each entry its own name: other entries refer to them by name",
            ));
        }
    }
}

fn check_name(name: &str, path: Vec<Seg>, out: &mut Vec<Finding>) {
    if name.trim().is_empty() {
        out.push(Finding::error(
            path,
            "the name is empty".into(),
            "give the entry a short name, e.g. \"Office365\"",
        ));
    }
}

fn check_account(a: &Account, here: &dyn Fn(&str) -> Vec<Seg>, out: &mut Vec<Finding>) {
    check_name(&a.name, here("name"), out);
    let who = format!("account \"{}\"", shown(&a.name));
    if a.provider == Provider::Microsoft {
        match a.tenant.as_deref() {
            None | Some("") => out.push(Finding::error(
                here("tenant"),
                format!("{who} has no tenant"),
                "set `tenant` to your Directory (tenant) ID from Entra ID → Overview, or your domain such as contoso.onmicrosoft.com",
            )),
            Some(t) => check_tenant(t, a.flow, here("tenant"), &who, out),
        }
        if !is_guid(&a.client_id) {
            let looks_like_mail = a.client_id.contains('@');
            out.push(Finding::error(
                here("client_id"),
                if looks_like_mail {
                    format!("{who}: the client ID \"{}\" is an email address, not an application ID", shown(&a.client_id))
                } else if looks_like_secret(&a.client_id) {
                    // Never echoed: this file gets mailed and pasted into tickets.
                    format!("{who}: the client ID is not a GUID, and it looks like a client secret's Value ({} characters, not shown); if it is one, create a new secret, since this one was exposed", a.client_id.chars().count())
                } else {
                    format!("{who}: the client ID \"{}\" is not a GUID", shown(&a.client_id))
                },
                "copy the Application (client) ID from Entra ID → App registrations → your app → Overview (it looks like 00000000-0000-0000-0000-000000000000)",
            ));
        }
        if a.client_id.chars().all(|c| c == '0' || c == '-') && is_guid(&a.client_id) {
            // A draft's placeholder (mailcfg discover): the file is valid, the sign-in is not yet.
            out.push(Finding::warning(
                here("client_id"),
                format!("{who}: the client ID is the placeholder of all zeros, not an app's"),
                "paste the Application (client) ID from Entra ID → App registrations → your app → Overview; sign-in refuses the placeholder",
            ));
        }
        if let Some(date) = &a.client_secret_expires {
            secret_expiry(date, here("client_secret_expires"), &who, out);
        }
        if let Some(id) = &a.enterprise_object_id
            && !is_guid(id)
        {
            out.push(Finding::error(
                here("enterprise_object_id"),
                format!("{who}: the enterprise object ID \"{}\" is not a GUID", shown(id)),
                "copy the Object ID from Entra ID → Enterprise applications → your app (not the one under App registrations)",
            ));
        }
    } else if a.client_id.trim().is_empty() {
        out.push(Finding::error(
            here("client_id"),
            format!("{who} has no client ID"),
            if a.is_service_account() {
                "import the service account's JSON key (it carries the client ID), or copy the service account's Unique ID from Google Cloud → IAM & Admin → Service accounts"
            } else {
                "copy the OAuth client ID from your provider's console"
            },
        ));
    }
    check_scopes(a, here, &who, out);
    for field in [
        "authority",
        "authorize_url",
        "token_url",
        "device_authorization_url",
        "issuer",
        "redirect_uri",
    ] {
        let value = match field {
            "authority" => &a.authority,
            "authorize_url" => &a.authorize_url,
            "token_url" => &a.token_url,
            "device_authorization_url" => &a.device_authorization_url,
            "issuer" => &a.issuer,
            _ => &a.redirect_uri,
        };
        if let Some(url) = value
            && let Err(why) = check_url(url, field == "redirect_uri")
        {
            out.push(Finding::error(
                here(field),
                format!("{who}: {field} {why}"),
                "use an https:// address (http:// only for localhost, 127.0.0.1 or ::1)",
            ));
        }
    }
    if a.provider == Provider::Generic && a.token_url.is_none() && a.issuer.is_none() {
        out.push(Finding::error(
            here("token_url"),
            format!("{who} is generic but says neither where tokens come from (`token_url`) nor its `issuer`"),
            "set `issuer` to read the endpoints from its .well-known/openid-configuration, or give `token_url` (and `authorize_url`)",
        ));
    }
}

fn check_tenant(t: &str, flow: Flow, path: Vec<Seg>, who: &str, out: &mut Vec<Finding>) {
    let shared = ["common", "organizations", "consumers"];
    if shared.contains(&t.to_ascii_lowercase().as_str()) {
        if flow == Flow::AppOnly {
            out.push(Finding::error(
                path,
                format!("{who}: app-only sign-in needs your own tenant, not \"{}\" (Entra answers AADSTS9001023)", shown(t)),
                "set `tenant` to your Directory (tenant) ID or your domain, e.g. contoso.onmicrosoft.com",
            ));
        }
    } else if !is_guid(t) && !is_domain(t) {
        out.push(Finding::error(
            path,
            format!("{who}: the tenant \"{}\" is neither a GUID nor a domain name", shown(t)),
            "use the Directory (tenant) ID from Entra ID → Overview, or a verified domain such as contoso.onmicrosoft.com (\"organizations\" or \"common\" for delegated sign-in)",
        ));
    }
}

fn check_scopes(a: &Account, here: &dyn Fn(&str) -> Vec<Seg>, who: &str, out: &mut Vec<Finding>) {
    let typical = super::presets::scopes(a.provider, a.flow).join("\", \"");
    if a.scopes.iter().all(|s| s.trim().is_empty()) {
        out.push(Finding::error(
            here("scopes"),
            format!("{who} asks for no scopes"),
            &format!("set `scopes = [\"{typical}\"]`"),
        ));
        return;
    }
    if a.provider == Provider::Microsoft
        && a.flow == Flow::AppOnly
        && !a.scopes.iter().any(|s| s.ends_with("/.default"))
    {
        out.push(Finding::error(
            here("scopes"),
            format!("{who}: app-only (client credentials) scopes must be a resource's `/.default`"),
            &format!("set `scopes = [\"{typical}\"]`: the app's roles come from its API permissions, not from the request"),
        ));
    }
    if a.provider == Provider::Microsoft
        && a.scopes.iter().any(|s| s.contains("graph.microsoft.com"))
    {
        out.push(Finding::warning(
            here("scopes"),
            format!("{who} asks for Microsoft Graph scopes; Exchange refuses Graph tokens (\"AUTHENTICATE failed\")"),
            &format!("ask for the Outlook resource instead: \"{typical}\""),
        ));
    }
    if a.provider == Provider::Microsoft
        && a.flow != Flow::AppOnly
        && !a.scopes.iter().any(|s| s == "offline_access")
    {
        out.push(Finding::warning(
            here("scopes"),
            format!("{who} lacks `offline_access`, so it gets no refresh token and must sign in again every hour"),
            "add \"offline_access\" to `scopes`",
        ));
    }
}

#[derive(Clone, Copy)]
enum Service {
    Imap,
    Pop3,
    Smtp,
}

/// Days a client secret's expiry is announced ahead.
pub const SECRET_EXPIRY_WARNING_DAYS: i64 = 30;

/// The days from today until `date` (`YYYY-MM-DD`), negative once past; `None` if it is no date.
pub fn days_until(date: &str, now: std::time::SystemTime) -> Option<i64> {
    let day = chrono::NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    let today = chrono::DateTime::<chrono::Utc>::from(now).date_naive();
    Some((day - today).num_days())
}

fn secret_expiry(date: &str, path: Vec<Seg>, who: &str, out: &mut Vec<Finding>) {
    let fix = "create a new client secret in Entra ID → App registrations → your app → Certificates & secrets, store its Value, and enter its new expiry date";
    match days_until(date, std::time::SystemTime::now()) {
        None => out.push(Finding::error(
            path,
            format!("{who}: the secret's expiry \"{}\" is not a date", shown(date)),
            "write it as YYYY-MM-DD, e.g. 2027-06-30 (the Expires column under Certificates & secrets)",
        )),
        Some(d) if d < 0 => out.push(Finding::warning(path, format!("{who}: the client secret expired on {date}: sign-ins fail with AADSTS7000222"), fix)),
        Some(d) if d <= SECRET_EXPIRY_WARNING_DAYS => {
            out.push(Finding::warning(path, format!("{who}: the client secret expires on {date}, in {d} days"), fix));
        }
        Some(_) => {}
    }
}

/// Ports whose encryption is fixed by convention: a mismatch is the classic "wrong port" mistake.
fn check_encryption(
    port: u16,
    enc: Encryption,
    service: Service,
    path: Vec<Seg>,
    out: &mut Vec<Finding>,
) {
    let (implicit, starttls) = match service {
        Service::Imap => (993, 143),
        Service::Pop3 => (995, 110),
        Service::Smtp => (465, 587),
    };
    let advice = match (enc, port) {
        (Encryption::StartTls, p) if p == implicit => Some(format!(
            "port {p} normally speaks TLS from the first byte, not STARTTLS"
        )),
        (Encryption::Tls, p) if p == starttls || (matches!(service, Service::Smtp) && p == 25) => {
            Some(format!(
                "port {p} normally starts in plain text and upgrades with STARTTLS, not implicit TLS"
            ))
        }
        _ => None,
    };
    if let Some(why) = advice {
        out.push(Finding::warning(
            path,
            why,
            &format!("the usual pairs are {implicit} with `encryption = \"tls\"` and {starttls} with `encryption = \"starttls\"`"),
        ));
    } else if enc == Encryption::None {
        out.push(Finding::warning(
            path,
            "without encryption, tokens and mail cross the network in clear text".into(),
            &format!(
                "use `encryption = \"tls\"` on port {implicit}, or \"starttls\" on port {starttls}"
            ),
        ));
    }
}

fn check_host(host: &str, path: Vec<Seg>, out: &mut Vec<Finding>) {
    if let Err(why) = host_syntax(host) {
        out.push(Finding::error(
            path,
            format!("the host \"{}\" {why}", shown(host)),
            "give a host name such as outlook.office365.com, or an IP address, without a scheme, port or path",
        ));
    }
}

/// RFC 1123 host names and IP addresses, in the forms the test can connect to: IPv4 as four
/// numbers (`127.1` and `2130706433` resolve on some systems and not on others, and no
/// certificate names them) and IPv6 without brackets (the brackets belong to URLs).
pub fn host_syntax(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("is empty".into());
    }
    if host.contains("://") {
        return Err("is a URL, not a host name".into());
    }
    if let Some(bare) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return Err(if bare.parse::<std::net::Ipv6Addr>().is_ok() {
            format!("is an IPv6 address in brackets; write it without them: {bare}")
        } else {
            "is in brackets; give a host name or an IP address without them".into()
        });
    }
    if host.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    if host.contains(':') {
        return Err("contains a `:`; the port goes in its own field".into());
    }
    if host.len() > 253 {
        return Err(format!(
            "is {} characters long; a host name has at most 253",
            host.len()
        ));
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    let numeric = |l: &str| {
        !l.is_empty()
            && (l.chars().all(|c| c.is_ascii_digit())
                || l.strip_prefix("0x")
                    .or_else(|| l.strip_prefix("0X"))
                    .is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit())))
    };
    if name.split('.').all(numeric) {
        return Err(
            "is an IPv4 address in a short or numeric form; write it as four numbers, such as 127.0.0.1"
                .into(),
        );
    }
    for label in name.split('.') {
        if label.is_empty() {
            return Err("has an empty part between dots".into());
        }
        if label.len() > 63 {
            return Err("has a part longer than 63 characters".into());
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err("has a part that starts or ends with `-`".into());
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Err(format!(
                "contains `{}`, which a host name cannot",
                c.escape_default()
            ));
        }
    }
    Ok(())
}

/// What an Entra client secret's Value looks like: about 40 characters with a `~` in them (the
/// portal's current form) or otherwise long and mixed, where a client ID is a GUID.
fn looks_like_secret(s: &str) -> bool {
    let n = s.chars().count();
    let charset = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '~' | '.' | '_' | '-'));
    charset
        && (30..=48).contains(&n)
        && (s.contains('~') || (s.chars().any(|c| c.is_ascii_digit()) && !s.contains('-')))
}

pub fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

fn is_domain(s: &str) -> bool {
    s.contains('.') && host_syntax(s).is_ok() && s.parse::<IpAddr>().is_err()
}

/// `http` is allowed for loopback hosts only (local identity providers, tests).
fn check_url(url: &str, redirect: bool) -> Result<(), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!(
            "\"{}\" is not an address (no http:// or https://)",
            shown(url)
        ));
    };
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    match scheme {
        "https" if !host.is_empty() => Ok(()),
        "http"
            if host == "localhost" || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback()) =>
        {
            Ok(())
        }
        "http" => Err(format!(
            "\"{}\" uses http for a host that is not this computer",
            shown(url)
        )),
        _ if redirect && !host.is_empty() => Ok(()), // custom-scheme redirects are the provider's call
        _ => Err(format!(
            "\"{}\" has an unsupported scheme `{}`",
            shown(url),
            shown(scheme)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_settings_are_checked() {
        let mut p = Profile::default();
        p.discovery.dns = Some("10.0.0.53:5353".into());
        p.discovery.ispdb = Some("https://ispdb.example.com/v1.1/".into());
        assert!(validate(&p, None).is_empty());
        p.discovery.dns = Some("dns.example.com".into());
        p.discovery.authority = Some("http://login.example.com".into());
        let keys: Vec<String> = validate(&p, None).iter().map(Finding::key).collect();
        assert_eq!(keys, ["discovery.dns", "discovery.authority"]);
    }

    #[test]
    fn host_names() {
        for ok in [
            "outlook.office365.com",
            "localhost",
            "127.0.0.1",
            "::1",
            "mail-1.example.org.",
            "1password.example",
        ] {
            assert_eq!(host_syntax(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "imap://x",
            "x..y",
            "-a.b",
            "a_b.c",
            "host:993",
            "exa mple.com",
            "[::1]",
            "127.1",
            "2130706433",
            "0x7f000001",
            "mail\r\nhost",
        ] {
            assert!(host_syntax(bad).is_err(), "{bad}");
        }
        assert!(looks_like_secret(
            "Lab8Q~abcdefghijklmnopqrstuvwxyz0123456789"
        ));
        assert!(!looks_like_secret("9e5f94bc-e8a4-4e73-b8be-63364c29d753"));
        assert!(!looks_like_secret("my-app"));
    }

    #[test]
    fn guids() {
        assert!(is_guid("9e5f94bc-e8a4-4e73-b8be-63364c29d753"));
        assert!(!is_guid("9e5f94bc-e8a4-4e73-b8be-63364c29d75"));
        assert!(!is_guid("you@example.com"));
    }

    #[test]
    fn urls() {
        assert!(check_url("https://login.microsoftonline.com", false).is_ok());
        assert!(check_url("http://127.0.0.1:8080", false).is_ok());
        assert!(check_url("http://localhost", true).is_ok());
        assert!(check_url("http://[::1]:9", false).is_ok());
        assert!(check_url("http://login.example.com", false).is_err());
        assert!(check_url("login.example.com", false).is_err());
    }

    #[test]
    fn secret_expiry_dates_are_read_and_announced() {
        use std::time::{Duration, UNIX_EPOCH};
        let now = UNIX_EPOCH + Duration::from_secs(1_795_000_000); // 2026-11-18
        assert_eq!(days_until("2026-11-18", now), Some(0));
        assert_eq!(days_until("2026-12-10", now), Some(22));
        assert_eq!(days_until("2024-02-29", now), Some(-993));
        assert_eq!(days_until("2026-13-01", now), None);
        assert_eq!(days_until("next year", now), None);
        let mut out = Vec::new();
        secret_expiry("2020-01-01", Vec::new(), "account \"A\"", &mut out);
        assert!(
            out[0].message.contains("expired on 2020-01-01")
                && out[0].message.contains("AADSTS7000222")
        );
        secret_expiry("30/06/2027", Vec::new(), "account \"A\"", &mut out);
        assert_eq!(out[1].severity, Severity::Error);
    }
}
