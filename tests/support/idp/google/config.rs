//! What a test can set up in the IdP's Google side: Desktop app clients, the user who signs in
//! in the browser and how they answer the consent page, service accounts with their keys, the
//! Workspace domain's users, domain-wide delegation, and the IdP's clock.

use std::fmt::Write as _;

use anyhow::{Context as _, Result};
use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::{KeyPair, KeySize};
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

/// Fixed values, so that scripts and tests can name them.
pub mod defaults {
    /// A Desktop app client: its secret is not confidential, but Google still requires it.
    pub const DESKTOP_CLIENT_ID: &str = "1029384756-mailcfgtest.apps.googleusercontent.com";
    pub const DESKTOP_SECRET: &str = "GOCSPX-mailcfg_Test-Desktop-Secret01";
    /// The Workspace domain and its users (service-account tokens are for them only).
    pub const DOMAIN: &str = "workspace.test";
    pub const ALICE: &str = "alice@workspace.test";
    pub const BOB: &str = "bob@workspace.test";
    /// Who signs in in the browser.
    pub const CAROL: &str = "carol@workspace.test";
    pub const SERVICE_ACCOUNT: &str = "mail-sync@mailcfg-test.iam.gserviceaccount.com";
    /// The service account's numeric Unique ID: what domain-wide delegation is granted to.
    pub const SERVICE_ACCOUNT_ID: &str = "112233445566778899001";
    pub const PROJECT: &str = "mailcfg-test";
    pub const MAIL_SCOPE: &str = "https://mail.google.com/";
}

/// How the user answers Google's consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Consent {
    #[default]
    Allow,
    /// Cancel: `error=access_denied`.
    Deny,
    /// Allows, but leaves the Gmail box unticked (granular consent): the token lacks the scope.
    UntickGmail,
    /// The app's audience is Internal and the user is from elsewhere: `org_internal`.
    OrgInternal,
    /// The Workspace admin does not trust the app: `admin_policy_enforced`.
    AdminPolicy,
}

/// A service account key: its ID, the public half, and whether it was deleted in the console.
#[derive(Debug, Clone)]
pub struct Key {
    pub id: String,
    /// PKCS#1 RSAPublicKey DER.
    pub public_der: Vec<u8>,
    pub deleted: bool,
}

#[derive(Debug, Clone)]
pub struct ServiceAccount {
    pub client_email: String,
    pub client_id: String,
    pub keys: Vec<Key>,
}

#[derive(Debug, Clone)]
pub struct GoogleConfig {
    /// Desktop app clients: `(client_id, secret)`.
    pub clients: Vec<(String, String)>,
    pub user: String,
    pub consent: Consent,
    pub service_accounts: Vec<ServiceAccount>,
    /// The users of the Workspace domain: a JWT's `sub` must be one of them.
    pub domain_users: Vec<String>,
    /// Domain-wide delegation: a client ID and the scopes granted to it.
    pub delegation: Vec<(String, Vec<String>)>,
    /// The IdP's clock against the real one, seconds (negative: the IdP is behind, so this
    /// computer looks ahead of Google).
    pub clock_offset_secs: i64,
    pub token_lifetime_secs: u64,
    /// The user consented to the client before: Google then sends a refresh token only when
    /// the sign-in asks for consent again (`prompt=consent`).
    pub consented_before: bool,
}

impl Default for GoogleConfig {
    fn default() -> Self {
        use defaults::{
            ALICE, BOB, CAROL, DESKTOP_CLIENT_ID, DESKTOP_SECRET, MAIL_SCOPE, SERVICE_ACCOUNT_ID,
        };
        Self {
            clients: vec![(DESKTOP_CLIENT_ID.to_owned(), DESKTOP_SECRET.to_owned())],
            user: CAROL.to_owned(),
            consent: Consent::Allow,
            service_accounts: Vec::new(),
            domain_users: [ALICE, BOB, CAROL].map(str::to_owned).to_vec(),
            delegation: vec![(SERVICE_ACCOUNT_ID.to_owned(), vec![MAIL_SCOPE.to_owned()])],
            clock_offset_secs: 0,
            token_lifetime_secs: 3599,
            consented_before: false,
        }
    }
}

/// A new service account key, as Google Cloud hands it out: the JSON key file's text (with the
/// private key) and the [`Key`] the IdP keeps.
pub fn new_key(client_email: &str, client_id: &str, token_uri: &str) -> Result<(String, Key)> {
    let pair = KeyPair::generate(KeySize::Rsa2048)
        .map_err(|_| anyhow::anyhow!("cannot generate an RSA key"))?;
    let pkcs8 = pair
        .as_der()
        .map_err(|_| anyhow::anyhow!("cannot encode the RSA key"))?;
    let b64 = STANDARD.encode(pkcs8.as_ref());
    let mut pem = String::from("-----BEGIN PRIVATE KEY-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(chunk).context("base64")?);
        pem.push('\n');
    }
    pem.push_str("-----END PRIVATE KEY-----\n");
    let mut raw = [0u8; 20];
    let _ = aws_lc_rs::rand::fill(&mut raw);
    let id = raw.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    });
    let json = serde_json::json!({
        "type": "service_account",
        "project_id": defaults::PROJECT,
        "private_key_id": id,
        "private_key": pem,
        "client_email": client_email,
        "client_id": client_id,
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": format!("https://www.googleapis.com/robot/v1/metadata/x509/{}", client_email.replace('@', "%40")),
        "universe_domain": "googleapis.com",
    });
    let key = Key {
        id,
        public_der: pair.public_key().as_ref().to_vec(),
        deleted: false,
    };
    Ok((serde_json::to_string_pretty(&json)?, key))
}
