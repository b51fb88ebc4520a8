//! An access token's claims, decoded without verifying the signature (the mail server verifies
//! it; we only read it to explain), and what the account's mailboxes and transports need from
//! it (`crate::diagnosis` compares the two). Hand-written: a JWT crate would verify, and
//! here there is nothing to verify against; a base64 decode and a JSON read are all it takes.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::profile::{Flow, Profile, Protocol};

/// Exchange Online's resource, as an address and as its well-known application ID.
pub const EXCHANGE_AUDIENCES: &[&str] = &[
    "https://outlook.office365.com",
    "https://outlook.office.com",
    "00000002-0000-0ff1-ce00-000000000000",
    // The resource asked for comes back as the audience: the multi-tenant consent scope and
    // the national clouds' hosts.
    "https://ps.outlook.com",
    "https://outlook.office365.us",
    "https://outlook-dod.office365.us",
    "https://partner.outlook.cn",
];
/// Microsoft Graph: the wrong resource for IMAP, POP and SMTP.
pub const GRAPH_AUDIENCES: &[&str] = &[
    "https://graph.microsoft.com",
    "00000003-0000-0000-c000-000000000000",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ClaimsError {
    #[error(
        "the access token is not a JWT (the provider issues opaque tokens), so its claims cannot be shown"
    )]
    Opaque,
    #[error("the access token looks like a JWT but its claims cannot be read ({0})")]
    Unreadable(String),
}

/// What an access token (or id_token) says about itself.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Claims {
    pub audience: Vec<String>,
    pub issuer: Option<String>,
    pub tenant: Option<String>,
    pub app_id: Option<String>,
    pub app_name: Option<String>,
    /// Application permissions (app-only tokens).
    pub roles: Vec<String>,
    /// Delegated permissions (`scp`, space-separated in the token).
    pub scopes: Vec<String>,
    /// The signed-in user's address (delegated tokens and id_tokens).
    pub user: Option<String>,
    /// The service principal or user object ID.
    pub object_id: Option<String>,
    /// Seconds since the Unix epoch.
    pub expires: Option<u64>,
    pub issued: Option<u64>,
    /// Not read from the token (Google's access tokens are opaque) but from the identity
    /// provider's answer: the scopes granted, the user, the expiry.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub opaque: bool,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize)]
struct Raw {
    aud: Option<OneOrMany>,
    iss: Option<String>,
    tid: Option<String>,
    appid: Option<String>,
    azp: Option<String>,
    app_displayname: Option<String>,
    #[serde(default)]
    roles: Vec<String>,
    scp: Option<String>,
    upn: Option<String>,
    preferred_username: Option<String>,
    email: Option<String>,
    unique_name: Option<String>,
    oid: Option<String>,
    exp: Option<u64>,
    iat: Option<u64>,
}

/// Reads a JWT's payload. No signature check: this is for explaining, never for trusting.
pub fn decode(token: &str) -> Result<Claims, ClaimsError> {
    let mut parts = token.split('.');
    let (Some(_), Some(payload), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ClaimsError::Opaque);
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| ClaimsError::Unreadable(format!("base64: {e}")))?;
    let raw: Raw = serde_json::from_slice(&bytes)
        .map_err(|e| ClaimsError::Unreadable(format!("JSON: {e}")))?;
    Ok(Claims {
        audience: match raw.aud {
            Some(OneOrMany::One(a)) => vec![a],
            Some(OneOrMany::Many(v)) => v,
            None => Vec::new(),
        },
        issuer: raw.iss,
        tenant: raw.tid,
        app_id: raw.appid.or(raw.azp),
        app_name: raw.app_displayname,
        roles: raw.roles,
        scopes: raw
            .scp
            .map(|s| s.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default(),
        user: raw
            .upn
            .or(raw.preferred_username)
            .or(raw.email)
            .or(raw.unique_name),
        object_id: raw.oid,
        expires: raw.exp,
        issued: raw.iat,
        opaque: false,
    })
}

/// What is known of an opaque token (Google's): the scopes, user and expiry the identity
/// provider's answer gave with it.
pub fn from_answer(scopes: &[String], user: Option<&str>, expires: Option<u64>) -> Claims {
    Claims {
        scopes: scopes.to_vec(),
        user: user.map(str::to_owned),
        expires,
        opaque: true,
        ..Claims::default()
    }
}

/// A service a mailbox or transport uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Service {
    Imap,
    Pop3,
    Smtp,
}

impl Service {
    /// The Exchange Online permission: application role (app-only) or delegated scope.
    pub fn permission(self, flow: Flow) -> &'static str {
        match (self, flow == Flow::AppOnly) {
            (Service::Imap, true) => "IMAP.AccessAsApp",
            (Service::Pop3, true) => "POP.AccessAsApp",
            (Service::Smtp, true) => "SMTP.SendAsApp",
            (Service::Imap, false) => "IMAP.AccessAsUser.All",
            (Service::Pop3, false) => "POP.AccessAsUser.All",
            (Service::Smtp, false) => "SMTP.Send",
        }
    }
}

/// One mailbox or transport that signs in with the account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Need {
    pub service: Service,
    /// The mailbox's or transport's name.
    pub target: String,
}

/// What the account's mailboxes and transports need from its token.
pub fn needs(profile: &Profile, account: &str) -> Vec<Need> {
    let mailboxes = profile
        .mailboxes
        .iter()
        .filter(|m| m.account.as_deref() == Some(account))
        .map(|m| Need {
            service: match m.protocol {
                Protocol::Imap => Service::Imap,
                Protocol::Pop3 => Service::Pop3,
            },
            target: m.name.clone(),
        });
    let transports = profile
        .transports
        .iter()
        .filter(|t| t.auth && t.account.as_deref() == Some(account))
        .map(|t| Need {
            service: Service::Smtp,
            target: t.name.clone(),
        });
    mailboxes.chain(transports).collect()
}

impl Claims {
    /// The summary a person reads: audience, tenant, app, permissions, user, expiry.
    pub fn summary_lines(&self, now: SystemTime) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_owned()
            } else {
                v.join(" ")
            }
        };
        if self.opaque {
            out.push((
                "token",
                "opaque (not a JWT): what the identity provider said when it gave it".to_owned(),
            ));
            out.push(("scopes", list(&self.scopes)));
            if let Some(u) = &self.user {
                out.push(("user", u.clone()));
            }
            if let Some(exp) = self.expires {
                out.push(("expires", expiry_words(exp, now)));
            }
            return out;
        }
        out.push((
            "audience",
            if self.audience.is_empty() {
                "(none)".into()
            } else {
                self.audience.join(", ")
            },
        ));
        if let Some(t) = &self.tenant {
            out.push(("tenant", t.clone()));
        }
        match (&self.app_id, &self.app_name) {
            (Some(id), Some(name)) => out.push(("app", format!("{name} ({id})"))),
            (Some(id), None) => out.push(("app ID", id.clone())),
            _ => {}
        }
        if !self.roles.is_empty() || self.scopes.is_empty() {
            out.push(("roles", list(&self.roles)));
        }
        if !self.scopes.is_empty() {
            out.push(("scopes", list(&self.scopes)));
        }
        if let Some(u) = &self.user {
            out.push(("user", u.clone()));
        }
        if let Some(exp) = self.expires {
            out.push(("expires", expiry_words(exp, now)));
        }
        out
    }
}

/// "in 59 min (2026-12-01 06:04 UTC)" or "3 min ago (…)".
pub fn expiry_words(exp: u64, now: SystemTime) -> String {
    let now = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let when = utc(exp);
    if exp > now {
        format!("in {} ({when})", span(exp - now))
    } else {
        format!("{} ago ({when})", span(now - exp))
    }
}

/// A duration in words: `45 s`, `10 min`, `3 h 5 min`, `2 days`.
pub fn span(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs} s"),
        60..7200 => format!("{} min", secs / 60),
        7200..172_800 => format!("{} h {} min", secs / 3600, secs % 3600 / 60),
        _ => format!("{} days", secs / 86_400),
    }
}

/// A Unix time as `YYYY-MM-DD HH:MM UTC`.
pub fn utc(secs: u64) -> String {
    i64::try_from(secs)
        .ok()
        .and_then(|s| chrono::DateTime::from_timestamp(s, 0))
        .map_or_else(
            || format!("{secs} s after 1970"),
            |d| d.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn jwt(payload: &serde_json::Value) -> String {
        let b = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.sig",
            b(br#"{"alg":"none"}"#),
            b(payload.to_string().as_bytes())
        )
    }

    #[test]
    fn decodes_microsoft_app_only_and_delegated_tokens() {
        let c = decode(&jwt(&serde_json::json!({"aud":"https://outlook.office365.com","tid":"t","appid":"a","roles":["IMAP.AccessAsApp"],"exp":100}))).unwrap();
        assert_eq!(c.audience, ["https://outlook.office365.com"]);
        assert_eq!(c.roles, ["IMAP.AccessAsApp"]);
        let d = decode(&jwt(&serde_json::json!({"aud":["x","y"],"scp":"IMAP.AccessAsUser.All SMTP.Send","upn":"alice@example.test"}))).unwrap();
        assert_eq!(d.scopes, ["IMAP.AccessAsUser.All", "SMTP.Send"]);
        assert_eq!(d.user.as_deref(), Some("alice@example.test"));
        assert_eq!(decode("ya29.opaque-google-token"), Err(ClaimsError::Opaque));
        assert!(matches!(decode("a.!!!.c"), Err(ClaimsError::Unreadable(_))));
    }

    #[test]
    fn dates_and_summaries() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(1_795_000_000), "2026-11-18 11:06 UTC");
        let c = Claims {
            audience: vec!["a".into()],
            scopes: vec!["SMTP.Send".into()],
            user: Some("u@x".into()),
            expires: Some(4600),
            ..Claims::default()
        };
        let lines = c.summary_lines(UNIX_EPOCH + Duration::from_secs(1000));
        assert!(
            lines.contains(&("expires", "in 60 min (1970-01-01 01:16 UTC)".to_owned())),
            "{lines:?}"
        );
        assert!(lines.iter().any(|(k, v)| *k == "user" && v == "u@x"));
    }
}
