//! The sources, one function per kind of question: what to ask ([`Ctx::asked`]) and what the
//! answer means ([`Ctx::run`]), as an [`Outcome`] with the claims the draft is made from.

use std::fmt::Write as _;
use std::sync::Arc;

use url::Url;

use super::classify::{self, Hosting, SrvChoice};
use super::dns::{Dns, LookupError};
use super::draft::{Claim, Fact, Origin, ServerFact, Service};
use super::fetch::{FetchError, Fetcher};
use super::{Address, Settings, Status, Step, shown};
use crate::oauth::endpoints::MICROSOFT_AUTHORITY;
use crate::profile::Encryption;

/// Autoconfig files are a few kilobytes; the importer takes at most 1 MB.
const AUTOCONFIG_CAP: usize = 1024 * 1024;
/// An OpenID configuration is about 2 KB.
const TENANT_CAP: usize = 64 * 1024;
/// The personal-accounts tenant: tenant discovery of outlook.com, hotmail.com… names it.
const CONSUMER_TENANT: &str = "9188040d-6c67-4c5b-b112-36a304b66dad";

pub(super) struct Ctx {
    pub address: Address,
    pub dns: Arc<Dns>,
    pub fetcher: Result<Fetcher, String>,
    pub settings: Settings,
    /// The MX lookup, shared by the MX step and the ISPDB-by-MX step.
    pub mx: tokio::sync::OnceCell<Result<Vec<(u16, String)>, LookupError>>,
}

pub(super) struct Outcome {
    pub status: Status,
    pub answer: String,
    pub claims: Vec<Claim>,
}

impl Outcome {
    pub fn new(status: Status, answer: String) -> Self {
        Self {
            status,
            answer,
            claims: Vec::new(),
        }
    }
}

impl Ctx {
    /// What the step asks, as the timeline shows it.
    pub fn asked(&self, step: Step) -> String {
        match step {
            Step::Mx => format!("MX {} (DNS {})", self.address.domain, self.dns.server()),
            Step::IspdbMx => self.ispdb_at(&format!("<the domain of MX {}>", self.address.domain)),
            _ => match srv_service(step) {
                Some((label, ..)) => format!("SRV {label}.{}", self.address.domain),
                None => self.url(step).map_or_else(|e| e, |u| u.to_string()),
            },
        }
    }

    /// The ISPDB's address for a domain (the base URL is a setting).
    fn ispdb_at(&self, domain: &str) -> String {
        format!("{}/{domain}", self.settings.ispdb.trim_end_matches('/'))
    }

    fn url(&self, step: Step) -> Result<Url, String> {
        let d = &self.address.domain;
        let s = &self.settings;
        let (text, port) = match step {
            Step::AutoconfigHttps => (
                format!("https://autoconfig.{d}/mail/config-v1.1.xml"),
                s.autoconfig_https_port,
            ),
            Step::AutoconfigHttp => (
                format!("http://autoconfig.{d}/mail/config-v1.1.xml"),
                s.autoconfig_http_port,
            ),
            Step::WellKnownHttps => (
                format!("https://{d}/.well-known/autoconfig/mail/config-v1.1.xml"),
                s.autoconfig_https_port,
            ),
            Step::WellKnownHttp => (
                format!("http://{d}/.well-known/autoconfig/mail/config-v1.1.xml"),
                s.autoconfig_http_port,
            ),
            Step::Ispdb => (self.ispdb_at(d), None),
            Step::Tenant => {
                let a = s
                    .authority
                    .as_deref()
                    .unwrap_or(MICROSOFT_AUTHORITY)
                    .trim_end_matches('/');
                (
                    format!("{a}/{d}/v2.0/.well-known/openid-configuration"),
                    None,
                )
            }
            _ => return Err(String::new()),
        };
        let mut url = Url::parse(&text).map_err(|e| format!("{text} is not a valid URL: {e}"))?;
        if let Some(p) = port {
            let _ = url.set_port(Some(p));
        }
        if step == Step::AutoconfigHttps || step == Step::AutoconfigHttp {
            url.query_pairs_mut()
                .append_pair("emailaddress", &self.address.to_string());
        }
        Ok(url)
    }

    pub async fn run(&self, step: Step) -> Outcome {
        match step {
            Step::Mx => self.mx().await,
            Step::IspdbMx => self.ispdb_by_mx().await,
            Step::Tenant => self.tenant().await,
            Step::AutoconfigHttps
            | Step::AutoconfigHttp
            | Step::WellKnownHttps
            | Step::WellKnownHttp
            | Step::Ispdb => self.autoconfig(step).await,
            _ => self.srv(step).await,
        }
    }

    /// The domain's MX records, looked up once for the steps that need them.
    async fn mx_records(&self) -> Result<Vec<(u16, String)>, LookupError> {
        self.mx
            .get_or_init(|| self.dns.mx(&self.address.domain))
            .await
            .clone()
    }

    /// RFC 7505's null MX: the domain says it takes no mail.
    fn null_mx() -> Outcome {
        Outcome::new(
            Status::Nothing,
            "a null MX: the domain accepts no mail (RFC 7505)".into(),
        )
    }

    async fn mx(&self) -> Outcome {
        let mut records = match self.mx_records().await {
            Ok(r) => r,
            Err(e) => return lookup_failed(&e),
        };
        records.sort_by_key(|r| r.0);
        if records.len() == 1 && records[0].1.trim_end_matches('.').is_empty() {
            return Self::null_mx();
        }
        for r in &mut records {
            r.1 = r.1.trim_end_matches('.').to_owned();
        }
        let shown_mx: Vec<String> = records
            .iter()
            .take(3)
            .map(|(p, h)| format!("{p} {}", shown(h, 80)))
            .collect();
        let more = records.len().saturating_sub(3);
        let mut answer = shown_mx.join(", ");
        if more > 0 {
            let _ = write!(answer, " and {more} more");
        }
        let verdict = records
            .iter()
            .find_map(|(p, h)| classify::mx_hosting(h).map(|k| (k, *p, h)));
        let mut out = Outcome::new(Status::Found, String::new());
        match verdict {
            Some((h, p, host)) => {
                out.answer = format!("{answer}: {}", h.label());
                out.claims.push(claim(
                    Fact::Hosting(h),
                    Origin::Mx,
                    format!("MX {p} {}", shown(host, 80)),
                ));
            }
            None => {
                out.answer = format!(
                    "{answer}: not a provider mailcfg knows (the domain's own servers, or a gateway)"
                );
            }
        }
        out
    }

    async fn tenant(&self) -> Outcome {
        let fetched = match self.fetch(Step::Tenant, TENANT_CAP).await {
            Ok(f) => f,
            Err(o) => return o,
        };
        match classify::tenant(fetched.status, &fetched.body) {
            Ok(Ok(t)) => {
                let region = t
                    .region
                    .as_deref()
                    .map(|r| format!(", region {r}"))
                    .unwrap_or_default();
                let hosting = if t.id == CONSUMER_TENANT {
                    Hosting::OutlookCom
                } else {
                    Hosting::Microsoft365
                };
                let mut out = Outcome::new(
                    Status::Found,
                    format!(
                        "tenant {} ({:?} cloud{region}): {}",
                        t.id,
                        t.cloud,
                        hosting.label()
                    ),
                );
                let evidence = format!("issuer of {}", fetched.url);
                out.claims.push(claim(
                    Fact::Hosting(hosting),
                    Origin::Tenant,
                    format!("tenant {}", t.id),
                ));
                out.claims
                    .push(claim(Fact::Tenant(t), Origin::Tenant, evidence));
                out
            }
            Ok(Err(why)) => Outcome::new(
                Status::Nothing,
                format!("not a Microsoft 365 tenant ({why})"),
            ),
            Err(why) => Outcome::new(Status::Refused, why),
        }
    }

    /// Thunderbird's fallback when the domain publishes nothing: the ISPDB's entry for the
    /// provider the MX records point to, asked by the MX host's parent domain and then its base
    /// domain (`mx1.mail.example.net` → `mail.example.net`, `example.net`).
    async fn ispdb_by_mx(&self) -> Outcome {
        let records = match self.mx_records().await {
            Ok(r) => r,
            Err(e) => return lookup_failed(&e),
        };
        let Some(host) = records
            .iter()
            .min_by_key(|r| r.0)
            .map(|r| r.1.trim_end_matches('.').to_ascii_lowercase())
            .filter(|h| !h.is_empty())
        else {
            return Self::null_mx();
        };
        let mx = shown(&host, 80);
        if let Some(h) = classify::mx_hosting(&host) {
            return Outcome::new(
                Status::Nothing,
                format!(
                    "MX {mx} is {}'s: its preset applies, the ISPDB is not asked",
                    h.label()
                ),
            );
        }
        let candidates = mx_domains(&host, &self.address.domain);
        if candidates.is_empty() {
            return Outcome::new(
                Status::Nothing,
                format!("MX {mx} is the domain's own: the ISPDB step asks for the domain"),
            );
        }
        let mut tried = Vec::new();
        for d in &candidates {
            let text = self.ispdb_at(d);
            let Ok(url) = Url::parse(&text) else {
                tried.push(format!("{}: not a valid URL", shown(&text, 120)));
                continue;
            };
            let fetched = match self.get(&url, AUTOCONFIG_CAP).await {
                Ok(f) => f,
                Err(mut o) => {
                    o.answer = format!("MX {mx} → {}: {}", shown(d, 80), o.answer);
                    return o;
                }
            };
            if fetched.status == 404 || fetched.status == 410 {
                tried.push(format!("{} (HTTP {})", shown(d, 80), fetched.status));
                continue;
            }
            let mut out = self.parsed(&fetched, Origin::IspdbMx);
            out.answer = format!("MX {mx} → {}: {}", shown(d, 80), out.answer);
            return out;
        }
        Outcome::new(
            Status::Nothing,
            format!("MX {mx}; no ISPDB entry for {}", tried.join(", ")),
        )
    }

    async fn autoconfig(&self, step: Step) -> Outcome {
        let fetched = match self.fetch(step, AUTOCONFIG_CAP).await {
            Ok(f) => f,
            Err(o) => return o,
        };
        let origin = match step {
            Step::Ispdb => Origin::Ispdb,
            Step::WellKnownHttps | Step::WellKnownHttp => Origin::WellKnown,
            _ => Origin::Autoconfig,
        };
        self.parsed(&fetched, origin)
    }

    /// An autoconfig file's answer as claims (or why it is refused).
    fn parsed(&self, fetched: &super::fetch::Fetched, origin: Origin) -> Outcome {
        if fetched.status == 404 || fetched.status == 410 {
            return Outcome::new(
                Status::Nothing,
                format!("HTTP {}: no file there", fetched.status),
            );
        }
        if fetched.status != 200 {
            return Outcome::new(Status::Failed, format!("HTTP {}", fetched.status));
        }
        let Ok(text) = std::str::from_utf8(&fetched.body) else {
            return Outcome::new(
                Status::Refused,
                "refused: the answer is not UTF-8 text".into(),
            );
        };
        let text = super::autoconfig::fill_placeholders(text, &self.address);
        let profile = match crate::export::import(text.as_bytes(), "config-v1.1.xml") {
            Ok(p) => p,
            Err(e) => {
                return Outcome::new(
                    Status::Refused,
                    format!(
                        "refused: {}",
                        shown(&super::autoconfig::strip_file(&e.to_string()), 300)
                    ),
                );
            }
        };
        let plain = fetched.url.starts_with("http:");
        let evidence = if plain {
            format!(
                "{} (over plain http: anyone on the way could have changed it)",
                shown(&fetched.url, 160)
            )
        } else {
            shown(&fetched.url, 160)
        };
        super::autoconfig::outcome(&profile, origin, &evidence, plain)
    }

    async fn srv(&self, step: Step) -> Outcome {
        let Some((label, service, encryption)) = srv_service(step) else {
            return Outcome::new(Status::Failed, "not an SRV step".into());
        };
        let name = format!("{label}.{}", self.address.domain);
        let records = match self.dns.srv(&name).await {
            Ok(r) => r,
            Err(e) => return lookup_failed(&e),
        };
        match classify::best_srv(&records) {
            None => Outcome::new(Status::Nothing, format!("{name} has no SRV records")),
            Some(SrvChoice::Unavailable) => Outcome::new(
                Status::Nothing,
                "target \".\": the domain says it does not offer this service".into(),
            ),
            Some(SrvChoice::Refused(why)) => {
                Outcome::new(Status::Refused, format!("refused: {why}"))
            }
            Some(SrvChoice::Use { host, port }) => {
                let mut out = Outcome::new(Status::Found, format!("{host}:{port} ({encryption})"));
                let evidence = format!("SRV {name} → {host}:{port}");
                if let Some(h) = classify::server_hosting(&host) {
                    out.claims
                        .push(claim(Fact::Hosting(h), Origin::Srv, evidence.clone()));
                }
                let fact = ServerFact {
                    service,
                    host,
                    port,
                    encryption,
                    user: None,
                    oauth: false,
                };
                out.claims
                    .push(claim(Fact::Server(fact), Origin::Srv, evidence));
                out
            }
        }
    }

    async fn fetch(&self, step: Step, cap: usize) -> Result<super::fetch::Fetched, Outcome> {
        let url = self
            .url(step)
            .map_err(|e| Outcome::new(Status::Failed, e))?;
        self.get(&url, cap).await
    }

    async fn get(&self, url: &Url, cap: usize) -> Result<super::fetch::Fetched, Outcome> {
        let fetcher = self
            .fetcher
            .as_ref()
            .map_err(|e| Outcome::new(Status::Failed, e.clone()))?;
        fetcher.get(url, cap).await.map_err(|e| match e {
            FetchError::NoSuchHost(why) => Outcome::new(Status::Nothing, why),
            FetchError::TimedOut(why) => Outcome::new(Status::TimedOut, why),
            FetchError::TooLarge(_) | FetchError::Redirect(_) => {
                Outcome::new(Status::Refused, e.to_string())
            }
            FetchError::Failed(why) => Outcome::new(Status::Failed, why),
        })
    }
}

/// The SRV name, the service it offers and how it is protected (RFC 6186, RFC 8314).
fn srv_service(step: Step) -> Option<(&'static str, Service, Encryption)> {
    Some(match step {
        Step::SrvImaps => ("_imaps._tcp", Service::Imap, Encryption::Tls),
        Step::SrvImap => ("_imap._tcp", Service::Imap, Encryption::StartTls),
        Step::SrvPop3s => ("_pop3s._tcp", Service::Pop3, Encryption::Tls),
        Step::SrvSubmissions => ("_submissions._tcp", Service::Smtp, Encryption::Tls),
        Step::SrvSubmission => ("_submission._tcp", Service::Smtp, Encryption::StartTls),
        _ => return None,
    })
}

/// The domains to ask the ISPDB for a provider's MX host, in Thunderbird's order: the host's
/// parent domain, then its base domain (two labels; three under a country's `co.`, `com.`…),
/// leaving out the address's own domain (the ISPDB step asks for it) and its subdomains.
fn mx_domains(host: &str, own: &str) -> Vec<String> {
    // A name from DNS goes into the ISPDB's URL: a host name's characters only.
    let Some(host) = super::address::host_name(host) else {
        return Vec::new();
    };
    let labels: Vec<&str> = host.split('.').filter(|l| !l.is_empty()).collect();
    if labels.len() < 2 {
        return Vec::new();
    }
    let n = labels.len();
    let second_level = ["co", "com", "net", "org", "ac", "gov", "edu", "ne", "or"];
    let base_len = if n >= 3 && labels[n - 1].len() == 2 && second_level.contains(&labels[n - 2]) {
        3
    } else {
        2
    };
    let mut out: Vec<String> = Vec::new();
    if n > base_len + 1 {
        out.push(labels[1..].join("."));
    }
    if n >= base_len {
        out.push(labels[n - base_len..].join("."));
    }
    let own = own.trim_end_matches('.').to_ascii_lowercase();
    out.retain(|d| *d != own && !d.ends_with(&format!(".{own}")));
    out.dedup();
    out
}

fn lookup_failed(e: &LookupError) -> Outcome {
    let status = match e {
        LookupError::NoSuchName(_) | LookupError::NoRecords(..) => Status::Nothing,
        LookupError::TimedOut { .. } => Status::TimedOut,
        LookupError::Refused { .. } | LookupError::Failed { .. } => Status::Failed,
    };
    Outcome::new(status, shown(&e.to_string(), 300))
}

pub(super) fn claim(fact: Fact, origin: Origin, evidence: String) -> Claim {
    Claim {
        fact,
        origin,
        evidence,
    }
}

#[cfg(test)]
mod tests {
    use super::mx_domains;

    #[test]
    fn an_mx_host_gives_its_parent_then_its_base_domain() {
        assert_eq!(
            mx_domains("mx1.mail.example.net", "customer.org"),
            ["mail.example.net", "example.net"]
        );
        assert_eq!(
            mx_domains("in1-smtp.messagingengine.com", "me.org"),
            ["messagingengine.com"]
        );
        assert_eq!(
            mx_domains("mx.provider.co.uk", "shop.example"),
            ["provider.co.uk"]
        );
        assert_eq!(
            mx_domains("a.b.provider.co.uk", "x.example"),
            ["b.provider.co.uk", "provider.co.uk"]
        );
        assert_eq!(mx_domains("provider.net.", "x.example"), ["provider.net"]);
        // The domain's own MX: the ISPDB step asks for the domain already.
        assert!(mx_domains("mail.example.com", "example.com").is_empty());
        assert!(mx_domains("mx.corp.example.com", "example.com").is_empty());
        assert!(mx_domains("localhost", "example.com").is_empty());
        assert!(mx_domains("mx.../../admin?x", "example.com").is_empty());
    }
}
