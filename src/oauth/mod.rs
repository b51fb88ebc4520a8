//! Sign-in: how a connected account gets its tokens, for the window and `mailcfg token` alike.
//! [`TokenSource`] serves access tokens from memory while they are fresh, refreshes them shortly
//! before expiry with the refresh token from the keyring, and otherwise runs the account's flow
//! (app-only client credentials, delegated browser sign-in with PKCE, or device code).

mod browser;
pub mod claims;
pub mod endpoints;
pub mod explain;
pub mod flows;
pub mod loopback;
pub mod service_account;
mod workspace;

use std::collections::HashMap;
use std::error::Error as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime};

use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

use crate::profile::{Account, Flow, TlsSettings};
use crate::secrets::{self, Kind, Secrets};

/// Access tokens this close to expiry are refreshed before use.
pub const REFRESH_MARGIN: Duration = Duration::from_mins(2);
/// How long a browser sign-in waits for the redirect.
pub const DEFAULT_SIGN_IN_WAIT: Duration = Duration::from_mins(5);

#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{message}\n    fix: {fix}")]
    Config {
        field: &'static str,
        message: String,
        fix: String,
    },
    /// The identity provider refused, explained.
    #[error("{0}")]
    Idp(Box<explain::Explanation>),
    #[error("{what} failed at {url}: {detail}\n    fix: {fix}")]
    Network {
        url: String,
        what: &'static str,
        detail: String,
        fix: &'static str,
    },
    #[error("{what} did not finish within {secs} s; start it again when ready")]
    TimedOut { what: &'static str, secs: u64 },
    #[error("the sign-in listener on this computer failed: {0}")]
    Listener(String),
    #[error("{0}")]
    Protocol(String),
    #[error(
        "cannot read the OpenID configuration at {url}: {problem}\n    fix: check the account's `issuer`, or give token_url and authorize_url"
    )]
    Discovery { url: String, problem: String },
    #[error(
        "cannot use the CA file {path}: {problem}\n    fix: give a PEM certificate file in `tls.ca_file`"
    )]
    CaFile { path: String, problem: String },
    #[error("{0}")]
    Secret(#[from] secrets::SecretError),
    /// A check that may not ask anyone found no stored sign-in to refresh.
    #[error(
        "account \"{account}\" signs in as a user and has no stored sign-in to refresh, and this run may not open a browser\n    fix: sign in once interactively as the user this check runs as (`mailcfg token --profile PROFILE --account {account}`); its refresh token is kept in the keyring"
    )]
    NeedsSignIn { account: String },
}

/// What the identity provider handed out.
pub struct TokenSet {
    pub access_token: SecretString,
    pub expires_at: Option<SystemTime>,
    pub refresh_token: Option<SecretString>,
    pub id_token: Option<String>,
    /// The scopes granted, when the answer says (Google's tokens are opaque: this is what is
    /// known of them).
    pub scopes: Option<Vec<String>>,
}

/// Progress a person must see during an interactive sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowEvent {
    /// The address of the sign-in page, and whether a browser was opened with it.
    Browser {
        url: String,
        opened: Result<(), String>,
    },
    /// The browser came back; the code is being exchanged.
    Exchanging,
    DeviceCode {
        user_code: String,
        verification_uri: String,
        expires_in_secs: u64,
    },
    /// Served from memory, or refreshed silently: no person needed.
    Cached,
    Refreshed,
}

/// A usable access token and what is known about it.
#[derive(Clone)]
pub struct AccessToken {
    pub secret: SecretString,
    pub expires_at: Option<SystemTime>,
    /// The signed-in user's address, from the id_token (delegated sign-ins).
    pub user: Option<String>,
    /// When it arrived, by this computer's clock (the diagnosis compares it with the token's
    /// own `iat` to see a clock that is off); a cached token keeps its first time.
    pub fetched_at: SystemTime,
    /// The scopes granted, as the identity provider's answer said (`None`: it did not say).
    pub scopes: Option<Vec<String>>,
    /// A Google service account's token: the mailbox user it acts for (the JWT's `sub`).
    pub acts_for: Option<String>,
}

/// Where a cached token belongs: the account, for a Google service account the mailbox user it
/// acts for (one token per user), and the account's settings as they were (a token got with
/// another client ID, tenant or scopes is not this account's any more).
type SlotKey = (String, Option<String>, String);

/// Hands out access tokens per account (per account and mailbox user for a service account):
/// cached, refreshed, or fetched by the account's flow. Requests for one token wait for each
/// other, so one run never fetches the same token twice.
pub struct TokenSource {
    http: reqwest::Client,
    secrets: Secrets,
    slots: std::sync::Mutex<HashMap<SlotKey, Arc<Mutex<Option<AccessToken>>>>>,
    fetches: AtomicUsize,
    /// `false`: never a browser or device code; a refused refresh is an error (monitoring).
    interactive: bool,
}

impl TokenSource {
    pub fn new(
        tls: &TlsSettings,
        base_dir: Option<&Path>,
        secrets: Secrets,
    ) -> Result<Self, OAuthError> {
        Ok(Self {
            http: http_client(tls, base_dir)?,
            secrets,
            slots: std::sync::Mutex::default(),
            fetches: AtomicUsize::new(0),
            interactive: true,
        })
    }

    /// A source that never asks a person: delegated accounts only refresh their stored sign-in,
    /// and a refused refresh is the error (AADSTS700082 and the like), not a new sign-in.
    #[must_use]
    pub fn non_interactive(mut self) -> Self {
        self.interactive = false;
        self
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// How many times a token was fetched from the identity provider (not served from memory).
    pub fn fetch_count(&self) -> usize {
        self.fetches.load(Ordering::Relaxed)
    }

    /// A usable access token for the account: the cached one while it is fresh, else a new one.
    /// A Google service account needs the mailbox user it acts for: [`TokenSource::token_for`].
    pub async fn token(
        &self,
        account: &Account,
        on_event: &(dyn Fn(FlowEvent) + Send + Sync),
    ) -> Result<AccessToken, OAuthError> {
        self.get(account, None, false, on_event).await
    }

    /// [`TokenSource::token`] to sign in as `user`: a service account gets the token of that user
    /// (cached per user); other accounts ignore `user` (their token is the signed-in user's or the
    /// app's, whichever mailbox it opens).
    pub async fn token_for(
        &self,
        account: &Account,
        user: Option<&str>,
        on_event: &(dyn Fn(FlowEvent) + Send + Sync),
    ) -> Result<AccessToken, OAuthError> {
        self.get(account, user, false, on_event).await
    }

    /// A new access token from the identity provider even when a cached one is still fresh: after
    /// an admin granted consent or a permission, only a new token carries it. Delegated accounts
    /// use their refresh token, so no person is asked again.
    pub async fn new_token(
        &self,
        account: &Account,
        on_event: &(dyn Fn(FlowEvent) + Send + Sync),
    ) -> Result<AccessToken, OAuthError> {
        self.get(account, None, true, on_event).await
    }

    /// [`TokenSource::new_token`] for a service account's mailbox user.
    pub async fn new_token_for(
        &self,
        account: &Account,
        user: Option<&str>,
        on_event: &(dyn Fn(FlowEvent) + Send + Sync),
    ) -> Result<AccessToken, OAuthError> {
        self.get(account, user, true, on_event).await
    }

    async fn get(
        &self,
        account: &Account,
        user: Option<&str>,
        renew: bool,
        on_event: &(dyn Fn(FlowEvent) + Send + Sync),
    ) -> Result<AccessToken, OAuthError> {
        let sub = if account.is_service_account() {
            Some(workspace::mailbox_user(account, user)?)
        } else {
            None
        };
        let slot = {
            let mut slots = self
                .slots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let settings = serde_json::to_string(account).unwrap_or_default();
            slots
                .entry((account.name.clone(), sub.clone(), settings))
                .or_default()
                .clone()
        };
        let mut cached = slot.lock().await;
        if let Some(t) = cached.as_ref()
            && fresh(t.expires_at)
            && !renew
        {
            on_event(FlowEvent::Cached);
            return Ok(t.clone());
        }
        let token = match &sub {
            Some(sub) => self.fetch_for_user(account, sub).await,
            None => self.fetch(account, on_event).await,
        };
        // A refused renewal says the cached token is no good either.
        let token = token.inspect_err(|_| *cached = None)?;
        *cached = Some(token.clone());
        Ok(token)
    }

    /// Forgets the account's cached access tokens and stored refresh token (sign out).
    pub async fn forget(&self, account: &Account) -> Result<(), OAuthError> {
        let gone: Vec<_> = {
            let mut slots = self
                .slots
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let keys: Vec<SlotKey> = slots
                .keys()
                .filter(|(a, _, _)| *a == account.name)
                .cloned()
                .collect();
            keys.iter().filter_map(|k| slots.remove(k)).collect()
        };
        for s in gone {
            *s.lock().await = None;
        }
        self.secrets.set(
            &secrets::account_entry(&account.name),
            Kind::RefreshToken,
            None,
        )?;
        Ok(())
    }

    async fn fetch(
        &self,
        account: &Account,
        on_event: &(dyn Fn(FlowEvent) + Send + Sync),
    ) -> Result<AccessToken, OAuthError> {
        if is_placeholder_id(&account.client_id) {
            return Err(OAuthError::Config {
                field: "client ID",
                message: format!(
                    "account \"{}\" has no client ID of its own yet: the one in the profile is the placeholder of all zeros",
                    account.name
                ),
                fix: "paste your app's Application (client) ID (Entra ID → App registrations → your app → Overview) into the account".into(),
            });
        }
        let endpoints = match endpoints::known(account)? {
            Some(e) => e,
            None => endpoints::discover(account, &self.http).await?,
        };
        let entry = secrets::account_entry(&account.name);
        let secret = self.secrets.client_secret(&entry)?;
        let mut req = flows::Request {
            account,
            endpoints: &endpoints,
            secret,
            http: &self.http,
            has_refresh_token: false,
        };
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let set = match account.flow {
            Flow::AppOnly => flows::client_credentials(&req).await?,
            Flow::Delegated | Flow::DeviceCode => {
                let stored = self.secrets.get(&entry, Kind::RefreshToken)?;
                if !self.interactive {
                    let Some(rt) = stored else {
                        return Err(OAuthError::NeedsSignIn {
                            account: account.name.clone(),
                        });
                    };
                    let set = flows::refresh(&req, &rt).await?;
                    on_event(FlowEvent::Refreshed);
                    return Ok(self.keep(&entry, set));
                }
                let refreshed = match stored {
                    // A refused refresh token (expired, revoked) falls through to a new sign-in,
                    // which then asks for consent again (Google: a new refresh token).
                    Some(rt) => flows::refresh(&req, &rt).await.ok(),
                    None => None,
                };
                req.has_refresh_token = false;
                if let Some(set) = refreshed {
                    on_event(FlowEvent::Refreshed);
                    set
                } else if account.flow == Flow::Delegated {
                    flows::authorization_code(&req, DEFAULT_SIGN_IN_WAIT, on_event).await?
                } else {
                    flows::device_code(&req, on_event).await?
                }
            }
        };
        Ok(self.keep(&entry, set))
    }

    /// Keeps the refresh token of a new token set, and hands out its access token.
    fn keep(&self, entry: &str, set: TokenSet) -> AccessToken {
        if let Some(rt) = &set.refresh_token {
            // Not fatal: the token works for this session even where the keyring refused it.
            let _ = self.secrets.set(entry, Kind::RefreshToken, Some(rt));
        }
        let user = set
            .id_token
            .as_deref()
            .and_then(|t| claims::decode(t).ok())
            .and_then(|c| c.user);
        AccessToken {
            secret: set.access_token,
            expires_at: set.expires_at,
            user,
            fetched_at: SystemTime::now(),
            scopes: set.scopes,
            acts_for: None,
        }
    }
}

/// A client ID that is a placeholder (empty, or the GUID of zeros a discovered draft carries):
/// asking an identity provider with it would only earn a refusal for an app that is not theirs.
fn is_placeholder_id(id: &str) -> bool {
    let id = id.trim();
    !id.is_empty() && id.chars().all(|c| c == '0' || c == '-')
}

fn fresh(expires_at: Option<SystemTime>) -> bool {
    expires_at.is_none_or(|t| t > SystemTime::now() + REFRESH_MARGIN)
}

/// The one HTTP client for identity providers: rustls, the system roots plus `tls.ca_file`, no
/// redirects (as OAuth2 token endpoints require), bounded times.
pub fn http_client(
    tls: &TlsSettings,
    base_dir: Option<&Path>,
) -> Result<reqwest::Client, OAuthError> {
    http_builder(tls, base_dir)?
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| OAuthError::Protocol(format!("cannot set up HTTPS: {e}")))
}

/// What every HTTP client of the app shares (TLS trust, user agent, time limits); the caller
/// adds its redirect policy (none for token endpoints, a few for discovery) and builds it.
pub fn http_builder(
    tls: &TlsSettings,
    base_dir: Option<&Path>,
) -> Result<reqwest::ClientBuilder, OAuthError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(30))
        // reqwest's default too, said here because it matters: a request leaves in one go,
        // never held by Nagle's algorithm for an ACK the server delays.
        .tcp_nodelay(true)
        .user_agent(concat!("mailcfg/", env!("CARGO_PKG_VERSION")));
    if let Some(ca) = &tls.ca_file {
        let path = base_dir.map_or_else(|| ca.clone(), |d| d.join(ca));
        let shown = crate::profile::shown(&path.display().to_string());
        // The same bounded, regular-file-only reading as validation and the probe.
        let ders = crate::profile::ca::certificates(&path).map_err(|why| OAuthError::CaFile {
            path: shown.clone(),
            problem: format!("it {why}"),
        })?;
        let mut certs = Vec::with_capacity(ders.len());
        for der in ders {
            certs.push(
                reqwest::Certificate::from_der(&der).map_err(|e| OAuthError::CaFile {
                    path: shown.clone(),
                    problem: e.to_string(),
                })?,
            );
        }
        b = b.tls_certs_merge(certs);
    }
    Ok(b)
}

/// A network failure in words: which address, and what failed (DNS, connect, TLS, timeout).
pub(crate) fn network_error(url: &str, e: &reqwest::Error) -> OAuthError {
    let mut chain = String::new();
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(s) = src {
        chain.push_str(&s.to_string().to_lowercase());
        chain.push(' ');
        src = s.source();
    }
    let (what, fix) = if e.is_timeout() {
        (
            "the request timed out",
            "check that the address is right and reachable from this network",
        )
    } else if chain.contains("dns")
        || chain.contains("failed to lookup")
        || chain.contains("name or service not known")
    {
        (
            "the name lookup (DNS)",
            "check the host name in the address, and this computer's DNS",
        )
    } else if chain.contains("certificate") || chain.contains("tls") || chain.contains("handshake")
    {
        (
            "the TLS handshake",
            "if the server uses a private CA, set `tls.ca_file`; otherwise check the address",
        )
    } else if e.is_connect() {
        (
            "connecting",
            "check the address and port, and any firewall or proxy in between",
        )
    } else {
        (
            "the request",
            "try again; if it persists, check the address",
        )
    };
    // reqwest's messages name the URL and the cause, never a request body (where secrets travel).
    let detail = e
        .source()
        .map_or_else(|| e.to_string(), ToString::to_string);
    OAuthError::Network {
        url: url.to_owned(),
        what,
        detail,
        fix,
    }
}

/// The raw secret of an access token, for the SASL string and `--show-token` only.
pub fn expose(token: &AccessToken) -> &str {
    token.secret.expose_secret()
}
