//! Google Workspace app-only: a service account with domain-wide delegation. Its JSON key is
//! read (bounded, checked field by field), the private key kept in the keyring; for each mailbox
//! user mailcfg signs an RS256 JWT (iss = the service account, sub = the user, aud = the token
//! endpoint, at most an hour long) and redeems it with the jwt-bearer grant (RFC 7523). The
//! token is the user's: IMAP and SMTP sign in as the user, never as the service account.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::explain::{Context, IdpError, explain};
use super::{OAuthError, TokenSet, network_error};
use crate::provider::google::{JWT_BEARER, MAX_JWT_LIFETIME_SECS, TOKEN_URL};

/// A key file is about 2.3 KB; anything past this is not one.
pub const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;
/// The longest token endpoint answer read.
const MAX_ANSWER_BYTES: usize = 64 * 1024;
/// What stands in for the signed JWT wherever it would be shown.
const ASSERTION_SHOWN: &str = "<service account JWT: masked>";
const KEY_SHOWN: &str = "<service account key: masked>";
/// Headless use (CI, a monitoring service): the path of the JSON key, instead of the keyring.
pub const KEY_FILE_ENV: &str = "MAILCFG_SERVICE_ACCOUNT_KEY";

/// A key file that cannot be used, by the field that is wrong (`type`, `private_key`, …).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}\n    fix: {fix}")]
pub struct KeyError {
    /// The key file's field, or `file` for the file as a whole.
    pub field: &'static str,
    pub message: String,
    pub fix: String,
}

fn key_error(field: &'static str, message: impl Into<String>, fix: impl Into<String>) -> KeyError {
    KeyError {
        field,
        message: message.into(),
        fix: fix.into(),
    }
}

const GET_A_KEY: &str = "download a key of the service account: Google Cloud console → IAM & Admin → Service accounts → the account → Keys → Add key → Create new key → JSON";

/// A service account's JSON key, read and checked. The private key never leaves as text but to
/// the keyring and the signer.
pub struct ServiceAccountKey {
    pub client_email: String,
    pub client_id: String,
    pub private_key_id: String,
    pub token_uri: String,
    pub project_id: Option<String>,
    pub private_key: SecretString,
}

impl std::fmt::Debug for ServiceAccountKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceAccountKey")
            .field("client_email", &self.client_email)
            .field("private_key_id", &self.private_key_id)
            .field("private_key", &KEY_SHOWN)
            .finish_non_exhaustive()
    }
}

/// Reads a key file: a regular file of at most [`MAX_KEY_FILE_BYTES`].
pub fn read_key_file(path: &Path) -> Result<ServiceAccountKey, KeyError> {
    let bytes = crate::files::read_limited(path, MAX_KEY_FILE_BYTES)
        .map_err(|e| key_error("file", format!("cannot read it: {e}"), GET_A_KEY))?;
    parse_key(&bytes)
}

/// Checks a key file's text: JSON, `type` = `service_account`, and each field mailcfg uses.
pub fn parse_key(bytes: &[u8]) -> Result<ServiceAccountKey, KeyError> {
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|e| key_error("file", format!("is not JSON ({e})"), GET_A_KEY))?;
    let Some(map) = value.as_object() else {
        return Err(key_error(
            "file",
            "is JSON but not an object of fields",
            GET_A_KEY,
        ));
    };
    // The private key first: masked before anything could quote it.
    if let Some(pk) = map.get("private_key").and_then(|v| v.as_str()) {
        crate::redact::register(pk, KEY_SHOWN);
        crate::redact::register_pem(pk, KEY_SHOWN);
    }
    check_type(map)?;
    let text = |field: &'static str| -> Result<String, KeyError> {
        match map.get(field) {
            Some(serde_json::Value::String(s)) if !s.trim().is_empty() => {
                if s.chars().any(crate::redact::is_unsafe_char) && field != "private_key" {
                    return Err(key_error(field, "contains a control character", GET_A_KEY));
                }
                Ok(s.trim().to_owned())
            }
            Some(serde_json::Value::String(_)) => Err(key_error(field, "is empty", GET_A_KEY)),
            Some(_) => Err(key_error(field, "is not a text", GET_A_KEY)),
            None => Err(key_error(field, "is missing", GET_A_KEY)),
        }
    };
    let client_email = text("client_email")?;
    if crate::profile::mail_address(&client_email).is_err() {
        return Err(key_error(
            "client_email",
            format!(
                "\"{}\" is not an address",
                crate::redact::shorten(&client_email, 80)
            ),
            GET_A_KEY,
        ));
    }
    let client_id = text("client_id")?;
    let private_key_id = text("private_key_id")?;
    let token_uri = match map.get("token_uri") {
        None => TOKEN_URL.to_owned(),
        Some(_) => text("token_uri")?,
    };
    if super::endpoints::parse("token_uri", &token_uri).is_err() {
        return Err(key_error(
            "token_uri",
            format!(
                "\"{}\" is not an https address",
                crate::redact::shorten(&token_uri, 80)
            ),
            GET_A_KEY,
        ));
    }
    let private_key = SecretString::from(text("private_key")?);
    check_private_key(&private_key)?;
    Ok(ServiceAccountKey {
        client_email,
        client_id,
        private_key_id,
        token_uri,
        project_id: map
            .get("project_id")
            .and_then(|v| v.as_str())
            .map(str::to_owned),
        private_key,
    })
}

/// `type` must be `service_account`; the other files people pick by mistake are named.
fn check_type(map: &serde_json::Map<String, serde_json::Value>) -> Result<(), KeyError> {
    match map.get("type").and_then(|t| t.as_str()) {
        Some("service_account") => Ok(()),
        None if map.contains_key("installed") || map.contains_key("web") => Err(key_error(
            "type",
            "is missing: this is an OAuth client's file (client_secret_….json), which signs users in through the browser, not a service account key",
            "for a browser sign-in, choose the delegated flow and enter that file's client_id and client_secret; for app-only, download the service account's JSON key instead",
        )),
        None => Err(key_error(
            "type",
            "is missing; a service account key says \"type\": \"service_account\"",
            GET_A_KEY,
        )),
        Some(other) => {
            let what = match other {
                "authorized_user" => {
                    " (a user's saved sign-in, as gcloud auth application-default login writes it)"
                }
                "external_account" => {
                    " (a workload identity federation configuration, which holds no key)"
                }
                "impersonated_service_account" => {
                    " (gcloud's impersonation settings, which hold no key)"
                }
                _ => "",
            };
            Err(key_error(
                "type",
                format!(
                    "is \"{}\"{what}, not \"service_account\"",
                    crate::redact::shorten(other, 60)
                ),
                GET_A_KEY,
            ))
        }
    }
}

/// The key must be an RSA private key in PEM that signs: one signature proves it.
fn check_private_key(pem: &SecretString) -> Result<(), KeyError> {
    let fix = "the key file is damaged or edited: download a new JSON key of the service account and import that";
    if !pem.expose_secret().contains("-----BEGIN PRIVATE KEY-----") {
        return Err(key_error(
            "private_key",
            "is not a PEM private key (it does not start with -----BEGIN PRIVATE KEY-----); not shown",
            fix,
        ));
    }
    let key =
        jsonwebtoken::EncodingKey::from_rsa_pem(pem.expose_secret().as_bytes()).map_err(|_| {
            key_error(
                "private_key",
                "is not a readable RSA private key; not shown",
                fix,
            )
        })?;
    jsonwebtoken::crypto::sign(b"mailcfg", &key, jsonwebtoken::Algorithm::RS256).map_err(|_| {
        key_error(
            "private_key",
            "cannot sign (not an RSA key of at least 2048 bits); not shown",
            fix,
        )
    })?;
    Ok(())
}

/// What a service account's JWT says.
#[derive(Debug, Serialize, Deserialize)]
struct Assertion<'a> {
    iss: &'a str,
    scope: String,
    aud: &'a str,
    iat: u64,
    exp: u64,
    sub: &'a str,
}

/// Who signs, for whom, with what: everything the JWT needs but the key.
pub struct Signing<'a> {
    pub client_email: &'a str,
    pub key_id: &'a str,
    pub scopes: &'a [String],
    pub token_url: &'a str,
    pub user: &'a str,
}

/// Signs the JWT for `s.user`, issued `now`, valid the longest Google allows (one hour).
pub fn sign(
    s: &Signing<'_>,
    private_key: &SecretString,
    now: SystemTime,
) -> Result<SecretString, OAuthError> {
    let iat = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let claims = Assertion {
        iss: s.client_email,
        scope: s.scopes.join(" "),
        aud: s.token_url,
        iat,
        exp: iat + MAX_JWT_LIFETIME_SECS,
        sub: s.user,
    };
    let bad_key = || OAuthError::Config {
        field: "service account key",
        message: "the service account key in the keyring cannot sign".into(),
        fix: "import the service account's JSON key again".into(),
    };
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key.expose_secret().as_bytes())
        .map_err(|_| bad_key())?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    header.kid = Some(s.key_id.to_owned());
    let jwt = jsonwebtoken::encode(&header, &claims, &key).map_err(|_| bad_key())?;
    crate::redact::register(&jwt, ASSERTION_SHOWN);
    Ok(SecretString::from(jwt))
}

#[derive(Deserialize)]
struct Answer {
    access_token: String,
    expires_in: Option<u64>,
    scope: Option<String>,
}

/// Redeems the signed JWT at the token endpoint. A refusal is explained with `cx`, and with how
/// far this computer's clock is from the endpoint's (its `Date`) when that is what it says.
pub async fn redeem(
    http: &reqwest::Client,
    token_url: &str,
    assertion: &SecretString,
    cx: &Context<'_>,
) -> Result<TokenSet, OAuthError> {
    let resp = http
        .post(token_url)
        .form(&[
            ("grant_type", JWT_BEARER),
            ("assertion", assertion.expose_secret()),
        ])
        .send()
        .await
        .map_err(|e| network_error(token_url, &e))?;
    let status = resp.status();
    if status.is_redirection() {
        return Err(OAuthError::Protocol(format!(
            "the identity provider at {token_url} answered {status} with a redirect, where a token endpoint answers directly\n    fix: check the account's token_url (the key's token_uri): it must be the token endpoint itself"
        )));
    }
    let skew = resp
        .headers()
        .get(reqwest::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
        .map(|d| chrono::Utc::now().timestamp() - d.timestamp());
    let body = read_bounded(resp, token_url).await?;
    if status.is_success() {
        let a: Answer = serde_json::from_slice(&body).map_err(|_| {
            OAuthError::Protocol(format!(
                "the answer of {token_url} to the service account's JWT is not a token"
            ))
        })?;
        crate::redact::register(&a.access_token, "<access token: masked>");
        return Ok(TokenSet {
            access_token: SecretString::from(a.access_token),
            expires_at: a
                .expires_in
                .map(|s| SystemTime::now() + Duration::from_secs(s)),
            refresh_token: None,
            id_token: None,
            scopes: a
                .scope
                .map(|s| s.split_whitespace().map(str::to_owned).collect()),
        });
    }
    match IdpError::from_json(&body) {
        Some(idp) => {
            let cx = Context {
                clock_skew: skew,
                ..*cx
            };
            Err(OAuthError::Idp(Box::new(explain(&idp, &cx))))
        }
        None => Err(OAuthError::Protocol(format!(
            "the identity provider at {token_url} answered HTTP {status} to the service account's JWT, in a form that is not OAuth2"
        ))),
    }
}

async fn read_bounded(mut resp: reqwest::Response, url: &str) -> Result<Vec<u8>, OAuthError> {
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| network_error(url, &e))? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER_BYTES {
            return Err(OAuthError::Protocol(format!(
                "the identity provider at {url} sent more than {} KB where a token answer is a few hundred bytes",
                MAX_ANSWER_BYTES / 1024
            )));
        }
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_files_are_refused_by_the_field_that_is_wrong() {
        let field = |text: &str| parse_key(text.as_bytes()).map(|_| ()).unwrap_err().field;
        assert_eq!(field("{\"type\": \"service_account\", "), "file");
        assert_eq!(field("[1, 2]"), "file");
        assert_eq!(field(r#"{"installed": {"client_id": "x"}}"#), "type");
        let e = parse_key(br#"{"type": "authorized_user", "client_id": "x"}"#).unwrap_err();
        assert!(
            e.message.contains("authorized_user") && e.message.contains("gcloud"),
            "{e}"
        );
        assert_eq!(field(r#"{"type": "service_account"}"#), "client_email");
        assert_eq!(
            field(
                r#"{"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com", "client_id": "1", "private_key_id": "k", "private_key": "-----BEGIN RSA KEY-----\nAAAA\n"}"#
            ),
            "private_key"
        );
        let e = parse_key(br#"{"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com", "client_id": "1", "private_key_id": "k", "private_key": "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n-----END PRIVATE KEY-----\n"}"#).unwrap_err();
        assert_eq!(e.field, "private_key");
        assert!(!e.to_string().contains("MIIEvQ"), "{e}");
        assert_eq!(
            field(
                r#"{"type": "service_account", "client_email": "a@b.iam.gserviceaccount.com", "client_id": 1}"#
            ),
            "client_id"
        );
    }
}
