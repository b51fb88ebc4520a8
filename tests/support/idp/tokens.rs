//! What the IdP signs and how it reads scopes.
//!
//! Access tokens are real JWTs shaped like Entra's v1 tokens for Exchange Online, so code that
//! decodes a token to explain a failure (wrong `aud`, missing `roles`/`scp`) sees what it would see
//! in production. They are signed ES256 with a key made per IdP (fast to generate; published at
//! the JWKS address), and the IdP also remembers each one: introspection answers from that record,
//! not from the signature, so a test can revoke or expire tokens at will.

use anyhow::{Context as _, Result};
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair as _};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use super::errors::MsError;

/// Exchange Online's resource names, all accepted by the mail servers.
pub const EXCHANGE_RESOURCES: [&str; 3] = [
    "https://outlook.office365.com",
    "https://outlook.office.com",
    "https://ps.outlook.com",
];
pub const GRAPH: &str = "https://graph.microsoft.com";
/// OpenID Connect scopes, which name no resource.
pub const OIDC_SCOPES: [&str; 4] = ["openid", "email", "profile", "offline_access"];
/// Delegated permissions Exchange knows (others are refused as AADSTS70011).
const EXCHANGE_DELEGATED: [&str; 9] = [
    "IMAP.AccessAsUser.All",
    "POP.AccessAsUser.All",
    "SMTP.Send",
    "EWS.AccessAsUser.All",
    "Mail.Read",
    "Mail.ReadWrite",
    "Mail.Send",
    "User.Read",
    ".default",
];

/// The ES256 key that signs every token of one IdP.
pub struct Signer {
    key: EncodingKey,
    kid: String,
    x: String,
    y: String,
}

impl Signer {
    pub fn new() -> Result<Self> {
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| anyhow::anyhow!("cannot generate the IdP signing key"))?;
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref())
            .map_err(|_| anyhow::anyhow!("cannot read the IdP signing key"))?;
        // Uncompressed point: 0x04 || X (32) || Y (32).
        let point = pair.public_key().as_ref();
        anyhow::ensure!(
            point.len() == 65,
            "unexpected P-256 public key length {}",
            point.len()
        );
        Ok(Self {
            key: EncodingKey::from_ec_der(pkcs8.as_ref()),
            kid: super::errors::guid(),
            x: URL_SAFE_NO_PAD.encode(&point[1..33]),
            y: URL_SAFE_NO_PAD.encode(&point[33..65]),
        })
    }

    pub fn sign(&self, claims: &Value) -> Result<String> {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.key).context("signing a token")
    }

    /// The JWKS document (`jwks_uri`).
    pub fn jwks(&self) -> Value {
        json!({"keys": [{"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": self.kid, "x": self.x, "y": self.y}]})
    }
}

/// A scope string read the way Entra reads it: one resource, its permissions, and OIDC extras.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scopes {
    /// `https://outlook.office365.com` etc.; Graph when only OIDC scopes or bare names were asked.
    pub resource: String,
    /// Short permission names (`IMAP.AccessAsUser.All`, `.default`).
    pub permissions: Vec<String>,
    pub oidc: Vec<String>,
}

impl Scopes {
    pub fn has(&self, oidc: &str) -> bool {
        self.oidc.iter().any(|s| s == oidc)
    }
    /// The `scope` of a token response: the resource permissions in full form.
    pub fn granted(&self) -> String {
        self.permissions
            .iter()
            .map(|p| format!("{}/{p}", self.resource))
            .collect::<Vec<_>>()
            .join(" ")
    }
    /// The `scp` claim: short names, space-separated (`.default` stands for the Exchange set).
    pub fn scp(&self) -> String {
        let mut out: Vec<&str> = Vec::new();
        for p in &self.permissions {
            if p == ".default" {
                out.extend(["IMAP.AccessAsUser.All", "POP.AccessAsUser.All", "SMTP.Send"]);
            } else {
                out.push(p);
            }
        }
        if out.is_empty() {
            out.extend(self.oidc.iter().map(String::as_str));
        }
        out.join(" ")
    }
}

/// `https://outlook.office.com/` and `https://outlook.office.com` are the same resource.
fn known_resource(r: &str) -> Option<&'static str> {
    let r = r.trim_end_matches('/').to_ascii_lowercase();
    EXCHANGE_RESOURCES
        .iter()
        .chain(std::iter::once(&GRAPH))
        .find(|k| **k == r)
        .copied()
}

pub fn is_exchange(resource: &str) -> bool {
    EXCHANGE_RESOURCES.contains(&resource)
}

/// Reads a delegated scope string (authorize, device code, refresh). Mixed resources and unknown
/// Exchange permissions are AADSTS70011; unknown resources AADSTS500011.
pub fn parse_delegated(scope: &str, tenant: &str) -> Result<Scopes, MsError> {
    let mut resource: Option<&'static str> = None;
    let (mut permissions, mut oidc) = (Vec::new(), Vec::new());
    for item in scope.split_whitespace() {
        if OIDC_SCOPES.contains(&item) {
            oidc.push(item.to_owned());
            continue;
        }
        // Bare names (`Mail.Read`) are Graph's, as in Entra's v2 endpoint.
        let (res, perm) = match item.rfind('/') {
            Some(i) if item.contains("://") => (&item[..i], &item[i + 1..]),
            _ => (GRAPH, item),
        };
        let Some(res) = known_resource(res) else {
            return Err(MsError::unknown_resource(res, tenant));
        };
        if resource.is_some_and(|r| r != res) {
            return Err(MsError::invalid_scope(scope));
        }
        if is_exchange(res) && !EXCHANGE_DELEGATED.contains(&perm) {
            return Err(MsError::invalid_scope(scope));
        }
        resource = Some(res);
        permissions.push(perm.to_owned());
    }
    Ok(Scopes {
        resource: resource.unwrap_or(GRAPH).to_owned(),
        permissions,
        oidc,
    })
}

/// Reads a client-credentials scope: exactly one `<resource>/.default`. Returns the resource.
pub fn parse_app_only(scope: &str, tenant: &str) -> Result<String, MsError> {
    let items: Vec<&str> = scope.split_whitespace().collect();
    let [one] = items.as_slice() else {
        return Err(MsError::invalid_scope(scope));
    };
    let Some(res) = one.strip_suffix("/.default") else {
        return Err(MsError::scope_not_default(scope));
    };
    known_resource(res)
        .map(str::to_owned)
        .ok_or_else(|| MsError::unknown_resource(res, tenant))
}

/// The PKCE S256 transform: BASE64URL(SHA256(verifier)).
pub fn s256(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(
        &aws_lc_rs::digest::SHA256,
        verifier.as_bytes(),
    ))
}

/// A random opaque value (codes, refresh tokens): `prefix` + counter + 128 random bits.
pub fn opaque(prefix: &str, counter: u64) -> String {
    let mut b = [0u8; 16];
    let _ = aws_lc_rs::rand::fill(&mut b);
    format!("{prefix}.{counter}.{}", URL_SAFE_NO_PAD.encode(b))
}
