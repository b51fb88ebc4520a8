//! An autoconfig answer (`config-v1.1.xml`, from the domain or the ISPDB) read with the
//! Thunderbird importer of `export/` and turned into claims: its first IMAP, POP3 and SMTP
//! server, their user names with Thunderbird's placeholders filled in, and who signs them in.

use std::fmt::Write as _;

use super::Address;
use super::Status;
use super::claims::{Fact, Origin, ServerFact, Service};
use super::classify::{self, Hosting};
use super::shown;
use super::sources::{Outcome, claim};
use crate::profile::{Profile, Provider};

/// Thunderbird's placeholders filled in before the importer reads the file, escaped for XML
/// (an address may hold `&` or `'`).
pub(super) fn fill_placeholders(text: &str, a: &Address) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('\'', "&apos;")
    };
    text.replace("%EMAILADDRESS%", &esc(&a.to_string()))
        .replace("%EMAILLOCALPART%", &esc(&a.local))
        .replace("%EMAILDOMAIN%", &esc(&a.domain))
}

/// The importer names the file it read; here it is the answer, which the step already names.
pub(super) fn strip_file(message: &str) -> String {
    let m = message.strip_prefix("config-v1.1.xml: ").unwrap_or(message);
    // What the importer expects of a file the user picked says nothing about a web answer.
    let m = m.split("; expected a mailcfg profile").next().unwrap_or(m);
    m.replace("this Thunderbird autoconfig cannot be imported: ", "")
        .replace("cannot import this file: ", "")
}

/// An imported autoconfig file as claims: its first IMAP, POP3 and SMTP server, and who signs
/// them in.
pub(super) fn outcome(p: &Profile, origin: Origin, evidence: &str, plain: bool) -> Outcome {
    let (servers, refused) = servers(p);
    let mut out = Outcome::new(Status::Found, String::new());
    if servers.is_empty() {
        out.status = Status::Refused;
        out.answer = format!("refused: {}", refused.join("; "));
        return out;
    }
    let claim_of = |fact| claim(fact, origin, evidence.to_owned());
    if let Some(h) = hosting(p, &servers) {
        out.claims.push(claim_of(Fact::Hosting(h)));
    } else if let Some(a) = p.accounts.first() {
        out.claims.push(claim_of(Fact::OAuth(Box::new(a.clone()))));
    }
    let found: Vec<String> = servers.iter().map(ServerFact::to_string).collect();
    out.answer = found.join(", ");
    if !refused.is_empty() {
        let _ = write!(out.answer, "; refused {}", refused.join("; "));
    }
    if plain {
        out.answer.push_str(" (over plain http)");
    }
    out.claims
        .extend(servers.into_iter().map(|s| claim_of(Fact::Server(s))));
    out
}

/// The first IMAP, POP3 and SMTP server, and why any other was refused.
fn servers(p: &Profile) -> (Vec<ServerFact>, Vec<String>) {
    use crate::profile::Protocol;
    let mut servers: Vec<ServerFact> = Vec::new();
    let mut refused = Vec::new();
    let mut add = |service, host: &str, port, encryption, user: &str, oauth| {
        // A user name reaches a protocol line and the terminal: one with a line break or another
        // control character is refused with its server, never passed on.
        if user.chars().any(crate::redact::is_unsafe_char) {
            refused.push(format!(
                "the user name \"{}\" holds control characters",
                shown(user, 60)
            ));
            return;
        }
        if let Some(host) = super::address::host_name(host) {
            let user = Some(user.to_owned()).filter(|u| !u.is_empty());
            servers.push(ServerFact {
                service,
                host,
                port,
                encryption,
                user,
                oauth,
            });
        } else {
            refused.push(format!(
                "the host \"{}\" is not a host name",
                shown(host, 60)
            ));
        }
    };
    for (protocol, service) in [
        (Protocol::Imap, Service::Imap),
        (Protocol::Pop3, Service::Pop3),
    ] {
        if let Some(m) = p.mailboxes.iter().find(|m| m.protocol == protocol) {
            add(
                service,
                &m.host,
                m.port,
                m.encryption,
                &m.user,
                m.account.is_some(),
            );
        }
    }
    if let Some(t) = p.transports.first() {
        let user = t.username.as_deref().unwrap_or_default();
        add(
            Service::Smtp,
            &t.host,
            t.port,
            t.encryption,
            user,
            t.account.is_some(),
        );
    }
    (servers, refused)
}

/// Who hosts the mail, by the servers' names or the importer's account. Outlook.com's servers
/// include Microsoft 365's IMAP host, so its own SMTP host decides.
fn hosting(p: &Profile, servers: &[ServerFact]) -> Option<Hosting> {
    let named: Vec<Hosting> = servers
        .iter()
        .filter_map(|s| classify::server_hosting(&s.host))
        .collect();
    let by_account = p.accounts.first().and_then(|a| match a.provider {
        Provider::Microsoft => Some(Hosting::Microsoft365),
        Provider::Google => Some(Hosting::Google),
        Provider::Generic => None,
    });
    named
        .iter()
        .copied()
        .find(|h| *h == Hosting::OutlookCom)
        .or_else(|| named.first().copied())
        .or(by_account)
}
