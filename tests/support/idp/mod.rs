//! The identity-provider test double: Microsoft Entra's v2.0 endpoints on 127.0.0.1, so the app's
//! Microsoft code runs unchanged with the account's `authority` set to [`IdpHandle::authority`].
//!
//! Routes (`{tenant}` = GUID, a registered domain, `common`, `organizations` or `consumers`):
//! - `GET  /{tenant}/oauth2/v2.0/authorize`: checks and auto-approves (302 to the loopback redirect
//!   with `code` and `state`), or redirects with `error`/`error_description` (unknown tenant or
//!   client, bad scope, missing PKCE/state, forced error). A redirect URI that is missing or not
//!   registered gets a 400 page instead, as Entra can't redirect to it.
//! - `POST /{tenant}/oauth2/v2.0/token`: authorization_code (PKCE S256, single use, same
//!   redirect_uri), refresh_token (a new one each time; the old one stays valid, as in Entra),
//!   client_credentials, device_code. Client secret by form or HTTP Basic.
//! - `POST /{tenant}/oauth2/v2.0/devicecode`, `GET /{tenant}/v2.0/.well-known/openid-configuration`,
//!   `GET /{tenant}/discovery/v2.0/keys`, `GET /devicelogin` (a page; approval is automatic).
//! - `POST /introspect`: Dovecot's oauth2 passdb asks here (form `token=…`); see [`Introspection`].
//!
//! Errors have Entra's JSON shape ([`errors::MsError`]). Tests change behaviour through
//! [`IdpHandle::config`] at any time; the next request sees it.

mod config;
pub mod errors;
pub mod google;
mod grants;
mod mint;
mod pages;
pub mod tokens;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use anyhow::Result;
use axum::Router;
use axum::routing::{get, post};
use tokio::task::JoinHandle;

#[allow(unused_imports)] // for test crates that configure users
pub use config::{
    App, Config, Introspection, Issued, LoggedRequest, Subject, Tenant, User, defaults,
};
pub use errors::MsError;
use tokens::{Scopes, Signer};

/// A path's tenant, resolved.
#[derive(Debug, Clone)]
enum TenantRef {
    Specific(Tenant),
    /// `common`, `organizations` or `consumers`.
    Multi(String),
}

#[derive(Debug, Clone)]
struct Grant {
    client_id: String,
    scopes: Scopes,
    tenant_id: String,
    email: String,
}

struct CodeGrant {
    grant: Grant,
    redirect_uri: String,
    challenge: String,
    nonce: Option<String>,
    exp: u64,
}

struct RefreshGrant {
    grant: Grant,
    issued: u64,
    expired: bool,
}

struct DeviceGrant {
    grant: Grant,
    polls_left: u32,
    exp: u64,
    done: bool,
}

struct State {
    config: Config,
    access: HashMap<String, Issued>,
    refresh: HashMap<String, RefreshGrant>,
    codes: HashMap<String, CodeGrant>,
    redeemed: HashSet<String>,
    devices: HashMap<String, DeviceGrant>,
    log: Vec<LoggedRequest>,
    counter: u64,
    google: google::GoogleState,
}

impl State {
    fn next(&mut self) -> u64 {
        self.counter += 1;
        self.counter
    }

    fn resolve_tenant(&self, seg: &str) -> Result<TenantRef, MsError> {
        let lower = seg.to_ascii_lowercase();
        if matches!(lower.as_str(), "common" | "organizations" | "consumers") {
            return Ok(TenantRef::Multi(lower));
        }
        self.config
            .tenants
            .iter()
            .find(|t| {
                t.id.eq_ignore_ascii_case(seg)
                    || t.names.iter().any(|n| n.eq_ignore_ascii_case(seg))
            })
            .cloned()
            .map(TenantRef::Specific)
            .ok_or_else(|| MsError::unknown_tenant(seg))
    }

    fn resolve_app(&self, client_id: &str, tenant: &TenantRef) -> Result<App, MsError> {
        let found = self
            .config
            .apps
            .iter()
            .find(|a| a.client_id.eq_ignore_ascii_case(client_id));
        match (found, tenant) {
            (None, TenantRef::Specific(t)) => Err(MsError::unknown_client(client_id, &t.id)),
            (None, TenantRef::Multi(m)) => Err(MsError::unknown_client(client_id, m)),
            (Some(a), TenantRef::Specific(t)) if a.tenant_id != t.id && !a.multitenant => {
                Err(MsError::unknown_client(client_id, &t.id))
            }
            (Some(a), TenantRef::Multi(_)) if !a.multitenant => {
                Err(MsError::not_multitenant(client_id, &a.display_name))
            }
            (Some(a), _) => Ok(a.clone()),
        }
    }

    /// The `tid` of delegated tokens: the path's tenant, or the user's home for /common etc.
    fn user_tid(&self, tenant: &TenantRef) -> String {
        match tenant {
            TenantRef::Specific(t) => t.id.clone(),
            TenantRef::Multi(_) => self.config.user.tenant_id.clone(),
        }
    }
}

/// What the handlers share.
struct Shared {
    state: Mutex<State>,
    signer: Signer,
    base_url: String,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread can't leave the maps half-updated in a way that matters here.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn log(
        &self,
        method: &'static str,
        path: String,
        grant_type: Option<String>,
        client_id: Option<String>,
        status: u16,
        error_code: Option<u32>,
    ) {
        self.lock().log.push(LoggedRequest {
            method,
            path,
            grant_type,
            client_id,
            status,
            error_code,
            error: None,
            subject: None,
        });
    }

    /// A request to the Google side: its `error` is a word, and a JWT names its user.
    #[allow(clippy::too_many_arguments)]
    fn log_google(
        &self,
        method: &'static str,
        path: String,
        grant_type: Option<String>,
        client_id: Option<String>,
        status: u16,
        error: Option<&str>,
        subject: Option<String>,
    ) {
        self.lock().log.push(LoggedRequest {
            method,
            path,
            grant_type,
            client_id,
            status,
            error_code: None,
            error: error.map(str::to_owned),
            subject,
        });
    }
}

/// A cheap, cloneable handle to a running IdP: configure it, read its log, mint tokens directly.
#[derive(Clone)]
pub struct IdpHandle {
    shared: Arc<Shared>,
}

impl IdpHandle {
    /// `http://127.0.0.1:PORT`: the account's `authority`, and the base of every route.
    pub fn authority(&self) -> &str {
        &self.shared.base_url
    }
    pub fn introspect_url(&self) -> String {
        format!("{}/introspect", self.shared.base_url)
    }
    pub fn token_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/token", self.shared.base_url)
    }
    pub fn authorize_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/authorize", self.shared.base_url)
    }
    pub fn devicecode_url(&self, tenant: &str) -> String {
        format!("{}/{tenant}/oauth2/v2.0/devicecode", self.shared.base_url)
    }
    /// Google's token endpoint here (`https://oauth2.googleapis.com/token` in production): a
    /// service account key's `token_uri`, and the JWT's `aud`.
    pub fn google_token_url(&self) -> String {
        format!("{}/token", self.shared.base_url)
    }
    /// Google's authorize page here (`https://accounts.google.com/o/oauth2/v2/auth`).
    pub fn google_authorize_url(&self) -> String {
        format!("{}/o/oauth2/v2/auth", self.shared.base_url)
    }

    /// A new key for the service account `client_email` (registered with its client ID if it
    /// is new): the JSON key file's text, as Google Cloud hands it out.
    pub fn add_service_account_key(&self, client_email: &str, client_id: &str) -> Result<String> {
        let (json, key) =
            google::config::new_key(client_email, client_id, &self.google_token_url())?;
        self.config(|c| {
            let accounts = &mut c.google.service_accounts;
            match accounts.iter_mut().find(|s| s.client_email == client_email) {
                Some(sa) => sa.keys.push(key),
                None => accounts.push(google::ServiceAccount {
                    client_email: client_email.to_owned(),
                    client_id: client_id.to_owned(),
                    keys: vec![key],
                }),
            }
        });
        Ok(json)
    }
    /// The default service account ([`google::defaults::SERVICE_ACCOUNT`]) with a new key.
    pub fn service_account_key(&self) -> Result<String> {
        self.add_service_account_key(
            google::defaults::SERVICE_ACCOUNT,
            google::defaults::SERVICE_ACCOUNT_ID,
        )
    }
    /// Deletes every key of every service account, as the Cloud console's Keys tab would.
    pub fn delete_service_account_keys(&self) {
        self.config(|c| {
            for sa in &mut c.google.service_accounts {
                sa.keys.iter_mut().for_each(|k| k.deleted = true);
            }
        });
    }

    /// Reads or changes the configuration: `idp.config(|c| c.introspection = Introspection::Hang)`.
    pub fn config<R>(&self, f: impl FnOnce(&mut Config) -> R) -> R {
        f(&mut self.shared.lock().config)
    }
    /// Registers (or replaces, by client id) an app.
    pub fn add_app(&self, app: App) {
        self.config(|c| {
            c.apps.retain(|a| a.client_id != app.client_id);
            c.apps.push(app);
        });
    }
    pub fn add_tenant(&self, tenant: Tenant) {
        self.config(|c| c.tenants.push(tenant));
    }

    /// Every request so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.clone()
    }
    /// The IdP's record of an access token it issued (`None`: not one of ours).
    pub fn issued(&self, access_token: &str) -> Option<Issued> {
        self.shared.lock().access.get(access_token).cloned()
    }
    /// Revokes every access token issued so far (introspection then answers `active:false`).
    pub fn revoke_all(&self) {
        self.shared
            .lock()
            .access
            .values_mut()
            .for_each(|t| t.revoked = true);
    }
    /// Makes every access token issued so far expired.
    pub fn expire_access_tokens(&self) {
        let past = errors::now().saturating_sub(1);
        self.shared
            .lock()
            .access
            .values_mut()
            .for_each(|t| t.exp = past);
    }
    /// Makes every refresh token issued so far expired (AADSTS700082); new ones are fine.
    pub fn expire_refresh_tokens(&self) {
        self.shared
            .lock()
            .refresh
            .values_mut()
            .for_each(|r| r.expired = true);
    }
    /// Makes every device code issued so far expired (AADSTS70019).
    pub fn expire_device_codes(&self) {
        let past = errors::now().saturating_sub(1);
        self.shared
            .lock()
            .devices
            .values_mut()
            .for_each(|d| d.exp = past);
    }

    /// An app-only access token for a registered app, as client credentials would give it,
    /// without the HTTP round trip (for tests that are not about OAuth).
    pub fn issue_app_token(&self, client_id: &str, resource: &str) -> Result<String> {
        let mut st = self.shared.lock();
        let app = st
            .config
            .apps
            .iter()
            .find(|a| a.client_id == client_id)
            .cloned();
        let app = app.ok_or_else(|| anyhow::anyhow!("no app {client_id} registered"))?;
        let tid = app.tenant_id.clone();
        mint::mint_app(&mut st, &self.shared.signer, &app, &tid, resource)
    }
    /// A delegated access token for `email` through the default public client, with the
    /// IMAP/POP/SMTP scopes of `https://outlook.office.com`.
    pub fn issue_user_token(&self, email: &str) -> Result<String> {
        let mut st = self.shared.lock();
        let tenant = TenantRef::Specific(
            st.config
                .tenants
                .first()
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("no tenant"))?,
        );
        let app = st
            .resolve_app(defaults::PUBLIC_CLIENT_ID, &tenant)
            .map_err(|e| anyhow::anyhow!(e.message))?;
        let scopes = tokens::parse_delegated(
            "https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/POP.AccessAsUser.All https://outlook.office.com/SMTP.Send",
            "",
        )
        .map_err(|e| anyhow::anyhow!(e.message))?;
        let grant = Grant {
            client_id: app.client_id.clone(),
            scopes,
            tenant_id: st.user_tid(&tenant),
            email: email.to_owned(),
        };
        let (token, _) = mint::mint_user(&mut st, &self.shared.signer, &app, &grant)?;
        Ok(token)
    }
}

/// A running IdP. Derefs to [`IdpHandle`]; dropping it stops the server.
pub struct Idp {
    handle: IdpHandle,
    task: JoinHandle<()>,
}

impl std::ops::Deref for Idp {
    type Target = IdpHandle;
    fn deref(&self) -> &IdpHandle {
        &self.handle
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        // Not graceful: a hanging introspection must not hold the test up.
        self.task.abort();
    }
}

impl Idp {
    /// Starts an IdP with `config` on 127.0.0.1, on a free port.
    pub async fn start(config: Config) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let base_url = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
        let state = State {
            config,
            access: HashMap::new(),
            refresh: HashMap::new(),
            codes: HashMap::new(),
            redeemed: HashSet::new(),
            devices: HashMap::new(),
            log: Vec::new(),
            counter: 0,
            google: google::GoogleState::default(),
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(state),
            signer: Signer::new()?,
            base_url,
        });
        let router = Router::new()
            .route("/{tenant}/oauth2/v2.0/authorize", get(pages::authorize))
            .route("/{tenant}/oauth2/v2.0/token", post(grants::token))
            .route("/{tenant}/oauth2/v2.0/devicecode", post(pages::devicecode))
            .route(
                "/{tenant}/v2.0/.well-known/openid-configuration",
                get(pages::openid_configuration),
            )
            .route(
                "/{tenant}/.well-known/openid-configuration",
                get(pages::openid_configuration),
            )
            .route("/{tenant}/discovery/v2.0/keys", get(pages::jwks))
            .route("/introspect", post(pages::introspect))
            .route("/introspect/{service}", post(pages::introspect_service))
            .route("/devicelogin", get(pages::devicelogin))
            .route("/o/oauth2/v2/auth", get(google::authorize))
            .route("/token", post(google::token))
            .with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Ok(Self {
            handle: IdpHandle { shared },
            task,
        })
    }

    /// A cloneable handle that outlives borrows of the servers (it does not keep the server up).
    pub fn handle(&self) -> IdpHandle {
        self.handle.clone()
    }
}
