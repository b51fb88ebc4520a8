//! What the answers mean, without any I/O: who hosts a domain's mail from its MX hosts, the
//! tenant and cloud from Microsoft's OpenID configuration, and which SRV record to use.
//! Sources: docs/discovery.md (the MX names, the tenant document, RFC 6186 and RFC 8314).

use serde::Deserialize;

use super::address::host_name;
use crate::profile::presets::{self, Server};

/// Who hosts the mail, as far as the answers tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hosting {
    Microsoft365,
    /// Microsoft's personal accounts (outlook.com, hotmail.com, live.com…).
    OutlookCom,
    Google,
}

impl Hosting {
    pub fn label(self) -> &'static str {
        match self {
            Hosting::Microsoft365 => "Microsoft 365",
            Hosting::OutlookCom => "Outlook.com",
            Hosting::Google => "Google",
        }
    }

    pub fn provider(self) -> crate::profile::Provider {
        match self {
            Hosting::Microsoft365 | Hosting::OutlookCom => crate::profile::Provider::Microsoft,
            Hosting::Google => crate::profile::Provider::Google,
        }
    }

    /// The provider's own IMAP and SMTP servers (the presets), in the tenant's cloud.
    pub fn servers(self, cloud: Cloud) -> (Server, Server) {
        match (self, cloud) {
            (Hosting::Microsoft365, Cloud::UsGov) => (
                presets::MICROSOFT365_USGOV_IMAP,
                presets::MICROSOFT365_USGOV_SMTP,
            ),
            (Hosting::Microsoft365, Cloud::China) => (
                presets::MICROSOFT365_CHINA_IMAP,
                presets::MICROSOFT365_CHINA_SMTP,
            ),
            (Hosting::Microsoft365, Cloud::Global) => {
                (presets::MICROSOFT365_IMAP, presets::MICROSOFT365_SMTP)
            }
            (Hosting::OutlookCom, _) => (presets::OUTLOOK_COM_IMAP, presets::OUTLOOK_COM_SMTP),
            (Hosting::Google, _) => (presets::GMAIL_IMAP, presets::GMAIL_SMTP),
        }
    }
}

/// Who receives a domain's mail, from one MX host. `None`: someone else (or a gateway).
pub fn mx_hosting(exchange: &str) -> Option<Hosting> {
    let h = host_name(exchange)?;
    let under = |suffix: &str| h.ends_with(suffix) && h.len() > suffix.len();
    if under(".olc.protection.outlook.com") {
        // Outlook.com's own domains: hotmail-com.olc.protection.outlook.com and the like.
        Some(Hosting::OutlookCom)
    } else if under(".mail.protection.outlook.com") || under(".mx.microsoft") {
        // *.mx.microsoft: accepted domains added from July 2026 on (MC1048624).
        Some(Hosting::Microsoft365)
    } else if h == "smtp.google.com"
        || h == "aspmx.l.google.com"
        || under(".aspmx.l.google.com")
        || (h.starts_with("aspmx") && h.ends_with(".googlemail.com"))
    {
        Some(Hosting::Google)
    } else {
        None
    }
}

/// The provider a mail server's host name belongs to (an autoconfig or SRV answer that names
/// the provider's servers outright).
pub fn server_hosting(host: &str) -> Option<Hosting> {
    match host_name(host)?.as_str() {
        "smtp-mail.outlook.com" => Some(Hosting::OutlookCom),
        "outlook.office365.com" | "smtp.office365.com" | "outlook.office.com" => {
            Some(Hosting::Microsoft365)
        }
        "imap.gmail.com" | "smtp.gmail.com" | "pop.gmail.com" => Some(Hosting::Google),
        _ => None,
    }
}

/// The Microsoft cloud a tenant lives in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cloud {
    #[default]
    Global,
    /// GCC High and DoD (login.microsoftonline.us).
    UsGov,
    /// Operated by 21Vianet (login.partner.microsoftonline.cn).
    China,
}

impl Cloud {
    /// The sign-in authority of this cloud; `None` for the global one (the account's default).
    pub fn authority(self) -> Option<&'static str> {
        match self {
            Cloud::Global => None,
            Cloud::UsGov => Some("https://login.microsoftonline.us"),
            Cloud::China => Some("https://login.partner.microsoftonline.cn"),
        }
    }
}

/// A Microsoft tenant, from `{authority}/{domain}/v2.0/.well-known/openid-configuration`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Tenant {
    pub id: String,
    pub cloud: Cloud,
    /// `tenant_region_scope`: NA, EU, AS, OC, USGov…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

#[derive(Deserialize)]
struct OpenIdConfiguration {
    issuer: String,
    tenant_region_scope: Option<String>,
    cloud_instance_name: Option<String>,
}

#[derive(Deserialize)]
struct IdpError {
    error: Option<String>,
    error_description: Option<String>,
}

/// What the tenant document says: the tenant, or that the domain is none (`Ok(None)`, with the
/// identity provider's words), or that the answer is not such a document (`Err`).
pub fn tenant(status: u16, body: &[u8]) -> Result<Result<Tenant, String>, String> {
    if status == 200 {
        let doc: OpenIdConfiguration = serde_json::from_slice(body)
            .map_err(|e| format!("the answer is not an OpenID configuration ({e})"))?;
        let id = url::Url::parse(&doc.issuer)
            .ok()
            .and_then(|u| u.path_segments()?.next().map(str::to_owned))
            .filter(|s| is_guid(s))
            .ok_or_else(|| {
                format!(
                    "its issuer \"{}\" holds no tenant ID",
                    super::shown(&doc.issuer, 120)
                )
            })?;
        let cloud = match doc.cloud_instance_name.as_deref() {
            Some("microsoftonline.us") => Cloud::UsGov,
            Some("partner.microsoftonline.cn" | "chinacloudapi.cn") => Cloud::China,
            _ => Cloud::Global,
        };
        let region = doc
            .tenant_region_scope
            .filter(|r| r.len() <= 16 && r.chars().all(|c| c.is_ascii_alphanumeric()));
        return Ok(Ok(Tenant {
            id: id.to_ascii_lowercase(),
            cloud,
            region,
        }));
    }
    // Entra answers 400 with AADSTS90002 (invalid_tenant) for a domain that is no tenant.
    let e: IdpError = serde_json::from_slice(body)
        .map_err(|_| format!("HTTP {status}, and the answer is not Entra's error JSON"))?;
    let text = e.error_description.unwrap_or_default();
    let code = e.error.unwrap_or_default();
    if status == 400 && (text.starts_with("AADSTS90002") || code == "invalid_tenant") {
        let first = text.split(['\r', '\n']).next().unwrap_or_default();
        let short = first.split(". ").next().unwrap_or(first);
        Ok(Err(super::shown(short, 200)))
    } else {
        Err(format!(
            "HTTP {status}: {}",
            super::shown(&format!("{code} {text}"), 200)
        ))
    }
}

/// `8-4-4-4-12` hexadecimal digits.
pub fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// An SRV answer for one service, as RFC 2782 orders it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SrvChoice {
    Use {
        host: String,
        port: u16,
    },
    /// Target `.`: the domain says it does not offer the service.
    Unavailable,
    /// Only records whose target is not a host name (refused).
    Refused(String),
}

/// The record to use: lowest priority, then highest weight (RFC 2782; the weights only spread
/// load, so the heaviest is as good as a random pick and keeps the result repeatable).
pub fn best_srv(records: &[(u16, u16, u16, String)]) -> Option<SrvChoice> {
    let mut sorted: Vec<&(u16, u16, u16, String)> = records.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
    let first = sorted.first()?;
    if first.3 == "." || first.3.is_empty() {
        return Some(SrvChoice::Unavailable);
    }
    for (_, _, port, target) in &sorted {
        if let Some(host) = host_name(target)
            && *port != 0
        {
            return Some(SrvChoice::Use { host, port: *port });
        }
    }
    Some(SrvChoice::Refused(format!(
        "the target \"{}\" is not a host name and port",
        super::shown(&first.3, 80)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mx_hosts_name_their_provider() {
        for (mx, want) in [
            (
                "contoso-com.mail.protection.outlook.com.",
                Some(Hosting::Microsoft365),
            ),
            ("contoso-com.r-v1.mx.microsoft", Some(Hosting::Microsoft365)),
            (
                "hotmail-com.olc.protection.outlook.com",
                Some(Hosting::OutlookCom),
            ),
            ("ASPMX.L.GOOGLE.COM.", Some(Hosting::Google)),
            ("alt3.aspmx.l.google.com", Some(Hosting::Google)),
            ("smtp.google.com", Some(Hosting::Google)),
            ("aspmx2.googlemail.com", Some(Hosting::Google)),
            ("mail.protection.outlook.com", None),
            ("mx.evil-google.com", None),
            ("mx1.mimecast.com", None),
            ("mail.protection.outlook.com.evil.example", None),
        ] {
            assert_eq!(mx_hosting(mx), want, "{mx}");
        }
    }

    #[test]
    fn tenant_document_and_refusals() {
        let doc = br#"{"issuer":"https://login.microsoftonline.com/2F6A3C1E-7b4d-4e8a-9c0f-5d1b2a3e4f60/v2.0","tenant_region_scope":"EU","cloud_instance_name":"microsoftonline.com"}"#;
        let t = tenant(200, doc).unwrap().unwrap();
        assert_eq!(t.id, "2f6a3c1e-7b4d-4e8a-9c0f-5d1b2a3e4f60");
        assert_eq!((t.cloud, t.region.as_deref()), (Cloud::Global, Some("EU")));
        let gov = br#"{"issuer":"https://login.microsoftonline.us/2f6a3c1e-7b4d-4e8a-9c0f-5d1b2a3e4f60/v2.0","cloud_instance_name":"microsoftonline.us"}"#;
        assert_eq!(tenant(200, gov).unwrap().unwrap().cloud, Cloud::UsGov);
        let none = br#"{"error":"invalid_tenant","error_description":"AADSTS90002: Tenant 'x.example' not found. Check to make sure you have the correct tenant ID.\r\nTrace ID: 1"}"#;
        assert_eq!(
            tenant(400, none).unwrap().unwrap_err(),
            "AADSTS90002: Tenant 'x.example' not found"
        );
        assert!(
            tenant(200, b"<html>")
                .unwrap_err()
                .contains("not an OpenID")
        );
        let no_id = br#"{"issuer":"https://login.microsoftonline.com/{tenantid}/v2.0"}"#;
        assert!(tenant(200, no_id).unwrap_err().contains("no tenant ID"));
        assert!(tenant(500, b"oops").unwrap_err().contains("HTTP 500"));
    }

    #[test]
    fn srv_order_and_the_dot() {
        let r = |p, w, port, t: &str| (p, w, port, t.to_owned());
        assert_eq!(
            best_srv(&[
                r(10, 1, 993, "b.example."),
                r(5, 1, 993, "a.example."),
                r(5, 9, 994, "c.example.")
            ]),
            Some(SrvChoice::Use {
                host: "c.example".into(),
                port: 994
            })
        );
        assert_eq!(best_srv(&[r(0, 0, 0, ".")]), Some(SrvChoice::Unavailable));
        assert!(matches!(
            best_srv(&[r(0, 0, 993, "bad host.")]),
            Some(SrvChoice::Refused(_))
        ));
        assert_eq!(best_srv(&[]), None);
    }
}
