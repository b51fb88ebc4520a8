//! DNS for discovery through hickory-resolver: the system's resolver settings by default
//! (`/etc/resolv.conf` and the hosts file), or one server given by the user (split DNS, tests).
//! The same resolver answers the HTTP client's name lookups, so `--dns` covers every question a
//! discovery asks. Answers come back as plain values; failures as words a person can act on.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RData;

/// Why a lookup gave nothing.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LookupError {
    #[error("the name {0} does not exist (NXDOMAIN)")]
    NoSuchName(String),
    #[error("{0} has no {1} records")]
    NoRecords(String, &'static str),
    #[error("the DNS server {server} gave no answer for {name} within {secs:.1} s")]
    TimedOut {
        name: String,
        server: String,
        secs: f64,
    },
    #[error("the DNS server {server} answered {code} for {name}")]
    Refused {
        name: String,
        server: String,
        code: String,
    },
    #[error("the lookup of {name} failed: {detail}")]
    Failed { name: String, detail: String },
}

impl LookupError {
    /// "Nothing there", as opposed to a server that did not answer or refused.
    pub fn is_negative(&self) -> bool {
        matches!(self, Self::NoSuchName(_) | Self::NoRecords(..))
    }
}

/// The resolver a discovery uses, cheap to clone.
#[derive(Clone)]
pub struct Dns {
    resolver: Result<TokioResolver, String>,
    server: String,
    timeout: Duration,
}

impl Dns {
    /// `server`: ask only this one (UDP, then TCP for long answers); `None`: the system's.
    pub fn new(server: Option<SocketAddr>, timeout: Duration) -> Self {
        let provider = TokioRuntimeProvider::default();
        let (builder, shown) = match server {
            Some(addr) => {
                let mut ns = NameServerConfig::udp_and_tcp(addr.ip());
                for c in &mut ns.connections {
                    c.port = addr.port();
                }
                let config = ResolverConfig::from_name_servers(vec![ns]);
                (
                    Ok(TokioResolver::builder_with_config(config, provider)),
                    addr.to_string(),
                )
            }
            None => (
                TokioResolver::builder(provider).map_err(|e| {
                    format!("cannot read this computer's DNS settings (/etc/resolv.conf): {e}")
                }),
                "of this computer".to_owned(),
            ),
        };
        let resolver = builder.and_then(|mut b| {
            let opts: &mut ResolverOpts = b.options_mut();
            // One try within the step's time: the step's own timeout is the bound either way,
            // and a retry would only move the answer past it.
            opts.timeout = dns_limit(timeout);
            opts.attempts = 0;
            b.build().map_err(|e| format!("cannot set up DNS: {e}"))
        });
        Self {
            resolver,
            server: shown,
            timeout,
        }
    }

    /// The server asked, as the timeline shows it.
    pub fn server(&self) -> &str {
        &self.server
    }

    fn resolver(&self, name: &str) -> Result<&TokioResolver, LookupError> {
        self.resolver.as_ref().map_err(|e| LookupError::Failed {
            name: name.to_owned(),
            detail: e.clone(),
        })
    }

    /// MX records: (preference, exchange), as the server gave them.
    pub async fn mx(&self, domain: &str) -> Result<Vec<(u16, String)>, LookupError> {
        let r = self.resolver(domain)?;
        let answer = r
            .mx_lookup(fqdn(domain))
            .await
            .map_err(|e| self.error(domain, "MX", &e))?;
        Ok(answer
            .answers()
            .iter()
            .filter_map(|rec| match &rec.data {
                RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii())),
                _ => None,
            })
            .collect())
    }

    /// SRV records: (priority, weight, port, target).
    pub async fn srv(&self, name: &str) -> Result<Vec<(u16, u16, u16, String)>, LookupError> {
        let r = self.resolver(name)?;
        let answer = r
            .srv_lookup(fqdn(name))
            .await
            .map_err(|e| self.error(name, "SRV", &e))?;
        Ok(answer
            .answers()
            .iter()
            .filter_map(|rec| match &rec.data {
                RData::SRV(s) => Some((s.priority, s.weight, s.port, s.target.to_ascii())),
                _ => None,
            })
            .collect())
    }

    async fn ips(&self, host: &str) -> Result<Vec<IpAddr>, LookupError> {
        let r = self.resolver(host)?;
        let answer = r
            .lookup_ip(fqdn(host))
            .await
            .map_err(|e| self.error(host, "address", &e))?;
        Ok(answer.iter().collect())
    }

    fn error(&self, name: &str, kind: &'static str, e: &NetError) -> LookupError {
        match e {
            NetError::Dns(DnsError::NoRecordsFound(n))
                if n.response_code == ResponseCode::NXDomain =>
            {
                LookupError::NoSuchName(name.to_owned())
            }
            NetError::Dns(DnsError::NoRecordsFound(_)) => {
                LookupError::NoRecords(name.to_owned(), kind)
            }
            NetError::Timeout => LookupError::TimedOut {
                name: name.to_owned(),
                server: self.server.clone(),
                secs: dns_limit(self.timeout).as_secs_f64(),
            },
            NetError::Dns(DnsError::ResponseCode(code)) => LookupError::Refused {
                name: name.to_owned(),
                server: self.server.clone(),
                code: code.to_string(),
            },
            other => LookupError::Failed {
                name: name.to_owned(),
                detail: other.to_string(),
            },
        }
    }
}

/// A lookup's time within a step's: a little less, so that a server that does not answer is
/// reported as DNS that timed out, not as the whole step's time running out.
fn dns_limit(step: Duration) -> Duration {
    step.saturating_sub(step / 5)
        .max(Duration::from_millis(500))
}

/// A trailing dot: the name as given, never with the system's search domains appended.
fn fqdn(name: &str) -> String {
    format!("{}.", name.trim_end_matches('.'))
}

/// The HTTP client's name lookups go through the same resolver (reqwest's hook for it).
pub struct ForHttp(pub Arc<Dns>);

impl reqwest::dns::Resolve for ForHttp {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let dns = self.0.clone();
        Box::pin(async move {
            let ips = dns
                .ips(name.as_str())
                .await
                .map_err(|e| -> Box<dyn std::error::Error + Send + Sync> { Box::new(e) })?;
            let addrs: reqwest::dns::Addrs = Box::new(
                ips.into_iter()
                    .map(|ip| SocketAddr::new(ip, 0))
                    .collect::<Vec<_>>()
                    .into_iter(),
            );
            Ok(addrs)
        })
    }
}
