//! Discovery: from an e-mail address to a draft profile. Every source is a step of a timeline
//! like the connection test's (what was asked, what came back, how long it took): the domain's
//! MX records, Microsoft's tenant discovery, Thunderbird autoconfig (the domain's own file, its
//! `.well-known` copy, the ISPDB for the domain and for the provider its MX records name) and
//! the SRV records of RFC 6186 / RFC 8314. All run at once,
//! each within its own time limit, so one that fails or hangs never holds up the others. The
//! answers become claims that [`draft::compose`] turns into a profile whose every field says
//! where it came from. How sources rank and why: docs/discovery.md.

pub mod address;
mod autoconfig;
pub mod claims;
pub mod classify;
mod dns;
pub mod draft;
mod fetch;
mod sources;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Serialize, Serializer};
use tokio::sync::mpsc::UnboundedSender;

pub use address::{Address, AddressError};
pub use draft::{Draft, FieldNote, Origin};

use crate::profile::TlsSettings;

/// Thunderbird's ISPDB; a setting, since organisations mirror it and tests serve their own.
pub const DEFAULT_ISPDB: &str = "https://autoconfig.thunderbird.net/v1.1/";
/// Each step's limit unless set: long enough for a slow DNS server or web host, short enough
/// that "found nothing" does not keep a person waiting.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(8);

/// What a discovery asks whom.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Ask this DNS server (IP and port) instead of the system's.
    pub dns: Option<SocketAddr>,
    /// Microsoft's sign-in authority for tenant discovery; `None`: the global one.
    pub authority: Option<String>,
    /// The ISPDB's base URL (the domain is appended).
    pub ispdb: String,
    pub timeout: Duration,
    /// Trust for the HTTPS fetches (and `ca_file` goes into the draft, as the user gave it).
    pub tls: TlsSettings,
    pub base_dir: Option<PathBuf>,
    /// Test and expert override: the ports of the autoconfig URLs at the domain
    /// (`autoconfig.{domain}` and `{domain}/.well-known`) instead of 80 and 443, so that tests
    /// need no privileged port. Never set by default.
    pub autoconfig_http_port: Option<u16>,
    pub autoconfig_https_port: Option<u16>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            dns: None,
            authority: None,
            ispdb: DEFAULT_ISPDB.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            tls: TlsSettings::default(),
            base_dir: None,
            autoconfig_http_port: None,
            autoconfig_https_port: None,
        }
    }
}

/// One source of the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Mx,
    Tenant,
    AutoconfigHttps,
    AutoconfigHttp,
    WellKnownHttps,
    WellKnownHttp,
    Ispdb,
    /// The ISPDB asked for the domain the MX records point to (a provider hosting the domain).
    IspdbMx,
    SrvImaps,
    SrvImap,
    SrvPop3s,
    SrvSubmissions,
    SrvSubmission,
}

impl Step {
    /// Every step, in the order the timeline lists them (and claims of one rank are taken).
    pub const ALL: &[Step] = &[
        Step::Mx,
        Step::Tenant,
        Step::AutoconfigHttps,
        Step::AutoconfigHttp,
        Step::WellKnownHttps,
        Step::WellKnownHttp,
        Step::Ispdb,
        Step::IspdbMx,
        Step::SrvImaps,
        Step::SrvImap,
        Step::SrvPop3s,
        Step::SrvSubmissions,
        Step::SrvSubmission,
    ];
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Mx => "MX",
            Step::Tenant => "Tenant",
            Step::AutoconfigHttps => "Autoconfig",
            Step::AutoconfigHttp => "Autoconfig (http)",
            Step::WellKnownHttps => "Well-known",
            Step::WellKnownHttp => "Well-known (http)",
            Step::Ispdb => "ISPDB",
            Step::IspdbMx => "ISPDB (by MX)",
            Step::SrvImaps => "SRV imaps",
            Step::SrvImap => "SRV imap",
            Step::SrvPop3s => "SRV pop3s",
            Step::SrvSubmissions => "SRV submissions",
            Step::SrvSubmission => "SRV submission",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Running,
    /// The source answered with something usable.
    Found,
    /// The source answered that there is nothing (no record, no file, no tenant).
    Nothing,
    /// The source answered, and the answer was refused (too large, malformed, a redirect loop).
    Refused,
    /// The question could not be asked or answered (connection refused, DNS error).
    Failed,
    TimedOut,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Running => "running",
            Status::Found => "found",
            Status::Nothing => "none",
            Status::Refused => "REFUSED",
            Status::Failed => "failed",
            Status::TimedOut => "timeout",
        })
    }
}

/// A step started (`Running`) or ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub step: Step,
    pub status: Status,
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
    /// What was asked: the DNS question or the URL.
    pub asked: String,
    /// What came back, in words (server-given text escaped).
    pub answer: String,
}

/// The whole discovery.
#[derive(Debug, Clone)]
pub struct Report {
    pub address: Address,
    /// The final event of each step, in [`Step::ALL`] order.
    pub steps: Vec<Event>,
    pub draft: Draft,
    pub total: Duration,
}

impl Report {
    /// Something to set up was found: a provider, or servers.
    pub fn found(&self) -> bool {
        self.draft.profile.is_some()
    }
}

fn millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Runs every source at once and composes the draft. Each step sends its `Running` and final
/// events through `tx` as they happen. Cancel by dropping the future: the steps stop with it.
pub async fn discover(
    address: &Address,
    settings: &Settings,
    tx: &UnboundedSender<Event>,
) -> Report {
    let started = Instant::now();
    let dns = Arc::new(dns::Dns::new(settings.dns, settings.timeout));
    let fetcher = fetch::Fetcher::new(
        &settings.tls,
        settings.base_dir.as_deref(),
        dns.clone(),
        settings.timeout,
    );
    let ctx = Arc::new(sources::Ctx {
        address: address.clone(),
        dns,
        fetcher,
        settings: settings.clone(),
        mx: tokio::sync::OnceCell::new(),
    });
    let mut set = tokio::task::JoinSet::new();
    for (i, step) in Step::ALL.iter().copied().enumerate() {
        let ctx = ctx.clone();
        let tx = tx.clone();
        set.spawn(async move {
            let asked = ctx.asked(step);
            let _ = tx.send(Event {
                step,
                status: Status::Running,
                elapsed: Duration::ZERO,
                asked: asked.clone(),
                answer: String::new(),
            });
            let t0 = Instant::now();
            // The step's own lookups and fetches are bounded a little tighter; this is the net.
            let limit = ctx.settings.timeout + Duration::from_millis(500);
            let outcome = match tokio::time::timeout(limit, ctx.run(step)).await {
                Ok(o) => o,
                Err(_) => sources::Outcome::new(
                    Status::TimedOut,
                    format!(
                        "no answer within {} s",
                        ctx.settings.timeout.as_secs().max(1)
                    ),
                ),
            };
            let event = Event {
                step,
                status: outcome.status,
                elapsed: t0.elapsed(),
                asked,
                answer: outcome.answer,
            };
            let _ = tx.send(event.clone());
            (i, event, outcome.claims)
        });
    }
    let mut results: Vec<Option<(Event, Vec<draft::Claim>)>> = vec![None; Step::ALL.len()];
    while let Some(done) = set.join_next().await {
        if let Ok((i, event, claims)) = done {
            results[i] = Some((event, claims));
        }
    }
    let mut steps = Vec::new();
    let mut claims = Vec::new();
    for (event, c) in results.into_iter().flatten() {
        steps.push(event);
        claims.extend(c);
    }
    let given = draft::Given {
        authority: settings.authority.clone(),
    };
    let mut draft = draft::compose(address, &claims, &given);
    if let (Some(p), Some(ca)) = (draft.profile.as_mut(), &settings.tls.ca_file) {
        let full = settings
            .base_dir
            .as_ref()
            .map_or_else(|| ca.clone(), |d| d.join(ca));
        p.tls.ca_file = Some(std::path::absolute(&full).unwrap_or(full));
        draft.notes.push(FieldNote {
            key: "tls.ca_file".into(),
            value: ca.display().to_string(),
            origin: Origin::Setting,
            evidence: "the CA discovery was told to trust".into(),
            others: Vec::new(),
            why: None,
        });
    }
    Report {
        address: address.clone(),
        steps,
        draft,
        total: started.elapsed(),
    }
}

/// Server-given text made safe to show: control characters escaped, at most `max` characters.
pub(crate) fn shown(s: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i >= max {
            out.push('…');
            break;
        }
        if c.is_control()
            || matches!(c, '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
        {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

pub use crate::profile::parse_dns;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_servers_and_shown_text() {
        assert_eq!(parse_dns("127.0.0.1:5353").unwrap().port(), 5353);
        assert_eq!(parse_dns("10.0.0.1").unwrap().port(), 53);
        assert_eq!(parse_dns("[::1]:54").unwrap().port(), 54);
        assert_eq!(parse_dns("::1").unwrap().port(), 53);
        assert!(
            parse_dns("dns.example.com:53")
                .unwrap_err()
                .contains("not a DNS server")
        );
        assert_eq!(shown("a\u{1b}[2Jb\r\n", 100), "a\\u{1b}[2Jb\\r\\n");
        assert_eq!(shown("abcdef", 3), "abc…");
        assert_eq!(shown("x\u{202e}y", 10), "x\\u{202e}y");
    }
}
