//! What a test can set up in the IdP (tenants, apps, the signed-in user, lifetimes, forced
//! errors, introspection behaviour) and what it can read back (request log, issued tokens).

use std::time::Duration;

use super::errors::{self, MsError};
/// The ready-made directory every IdP starts with. Fixed values, so scripts and tests can name
/// them; each IdP instance is separate, so tests can't see each other's tokens.
pub mod defaults {
    pub const TENANT_ID: &str = "2f6a3c1e-7b4d-4e8a-9c0f-5d1b2a3e4f60";
    pub const TENANT_DOMAIN: &str = "example.test";
    pub const TENANT_ONMICROSOFT: &str = "example.onmicrosoft.com";
    /// Confidential, app-only: roles IMAP.AccessAsApp POP.AccessAsApp SMTP.SendAsApp, opens [`MAILBOX`].
    pub const APP_CLIENT_ID: &str = "6c1b7e2a-0d3f-4a59-8e6b-1f2c3d4e5a60";
    pub const APP_SECRET: &str = "mQ8~Test.Secret_Value-0123456789abcdefGHIJ";
    /// The app's service principal (Enterprise application) object id: the `oid` of its tokens.
    pub const APP_OBJECT_ID: &str = "9d8e7f60-5a4b-4c3d-8e2f-1a0b9c8d7e6f";
    /// Public client for delegated sign-in (browser or device code); redirects http://localhost and
    /// http://127.0.0.1, any port.
    pub const PUBLIC_CLIENT_ID: &str = "3b5d7f91-2c4e-4a6b-8d0f-e1c3a5b7d9f2";
    /// The mailbox app-only tokens open.
    pub const MAILBOX: &str = "mailbox@example.test";
    /// The user who "signs in" in delegated flows.
    pub const USER_EMAIL: &str = "alice@example.test";
    pub const USER_OID: &str = "0a1b2c3d-4e5f-4a6b-9c8d-7e6f5a4b3c2d";
}

/// A directory (tenant): its GUID and the names (domains) that find it in URLs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub id: String,
    pub names: Vec<String>,
}

/// An app registration (with its service principal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub client_id: String,
    pub display_name: String,
    /// Home tenant GUID.
    pub tenant_id: String,
    /// `Some`: confidential client (secret required, except for device code); `None`: public client.
    pub secret: Option<String>,
    /// `false`: /common and /organizations give AADSTS50194, other tenants AADSTS700016.
    pub multitenant: bool,
    /// Registered redirect URIs; the port is ignored for localhost/127.0.0.1, as in Entra.
    pub redirect_uris: Vec<String>,
    /// Application permissions granted (the `roles` claim of app-only tokens).
    pub roles: Vec<String>,
    // The name the rest of the project uses, though it repeats the struct's.
    #[allow(clippy::struct_field_names)]
    /// The mailbox an app-only token opens: introspection answers it as `email`. `None`: the
    /// token opens nothing (introspection answers `active:false`). Read at introspection time, so
    /// changing it affects tokens already issued.
    pub app_mailbox: Option<String>,
    /// Service principal object id (`oid` of app-only tokens).
    pub object_id: String,
    /// Exchange knows the app's service principal (`New-ServicePrincipal` was run). `false`:
    /// the per-protocol introspection refuses its app-only tokens everywhere.
    pub exchange_registered: bool,
}

impl App {
    /// A public client (no secret) in the default tenant, redirects http://localhost and http://127.0.0.1.
    pub fn public(client_id: &str) -> Self {
        Self {
            client_id: client_id.to_owned(),
            display_name: format!("mailcfg test app {client_id}"),
            tenant_id: defaults::TENANT_ID.to_owned(),
            secret: None,
            multitenant: true,
            redirect_uris: vec!["http://localhost".to_owned(), "http://127.0.0.1".to_owned()],
            roles: Vec::new(),
            app_mailbox: None,
            object_id: errors::guid(),
            exchange_registered: true,
        }
    }
    /// A confidential client with `secret`, otherwise as [`App::public`].
    pub fn confidential(client_id: &str, secret: &str) -> Self {
        Self {
            secret: Some(secret.to_owned()),
            ..Self::public(client_id)
        }
    }
}

/// The signed-in user of delegated flows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub email: String,
    pub name: String,
    pub oid: String,
    /// Home tenant: the `tid` of tokens got through /common or /organizations.
    pub tenant_id: String,
}

/// How `/introspect` answers Dovecot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Introspection {
    /// `{"active":true,"email":…}` for an issued, unrevoked, unexpired token with an Exchange
    /// audience and a mailbox; `{"active":false}` otherwise (Dovecot refuses: "Authentication failed").
    #[default]
    Normal,
    /// HTTP 500 (Dovecot: temporary failure).
    Error500,
    /// Active, but no `email` (Dovecot: "No username returned", a temporary failure).
    OmitEmail,
    /// Never answers (Dovecot gives up after `timeout_msecs` = 5 s: temporary failure).
    Hang,
}

/// Everything a test may change. [`Config::default`] is the ready-made directory of [`defaults`].
#[derive(Debug, Clone)]
pub struct Config {
    pub tenants: Vec<Tenant>,
    pub apps: Vec<App>,
    pub user: User,
    /// Access (and id) token lifetime, `expires_in`. Zero: tokens are born expired.
    pub token_lifetime: Duration,
    /// Overrides `aud` of every access token (e.g. `https://graph.microsoft.com`).
    pub audience: Option<String>,
    /// How many device-code polls answer `authorization_pending` before tokens come.
    pub device_pending_polls: u32,
    pub device_code_lifetime: Duration,
    /// `interval` of the device-code answer, seconds (Entra says 5; 1 keeps tests quick).
    pub device_interval: u64,
    /// Every refresh token is expired (AADSTS700082).
    pub refresh_tokens_expired: bool,
    /// Answer every authorize request with this error (redirected to the app).
    pub authorize_error: Option<MsError>,
    /// Answer every token request with this error.
    pub token_error: Option<MsError>,
    pub introspection: Introspection,
    /// Protocols switched off per mailbox, as `(service, address)` with service `imap`, `pop3`
    /// or `submission`: the per-protocol introspection refuses tokens for that mailbox there.
    pub protocols_off: Vec<(String, String)>,
    /// Google's side: clients, consent, service accounts, the domain, delegation, the clock.
    pub google: super::google::GoogleConfig,
}

impl Default for Config {
    fn default() -> Self {
        use defaults::{
            APP_CLIENT_ID, APP_OBJECT_ID, APP_SECRET, MAILBOX, PUBLIC_CLIENT_ID, TENANT_ID,
        };
        let app = App {
            display_name: "mailcfg test app-only".to_owned(),
            roles: ["IMAP.AccessAsApp", "POP.AccessAsApp", "SMTP.SendAsApp"]
                .map(str::to_owned)
                .to_vec(),
            app_mailbox: Some(MAILBOX.to_owned()),
            object_id: APP_OBJECT_ID.to_owned(),
            ..App::confidential(APP_CLIENT_ID, APP_SECRET)
        };
        let public = App {
            display_name: "mailcfg test desktop".to_owned(),
            ..App::public(PUBLIC_CLIENT_ID)
        };
        Self {
            tenants: vec![Tenant {
                id: TENANT_ID.to_owned(),
                names: vec![
                    defaults::TENANT_DOMAIN.to_owned(),
                    defaults::TENANT_ONMICROSOFT.to_owned(),
                ],
            }],
            apps: vec![app, public],
            user: User {
                email: defaults::USER_EMAIL.to_owned(),
                name: "Alice Example".to_owned(),
                oid: defaults::USER_OID.to_owned(),
                tenant_id: TENANT_ID.to_owned(),
            },
            token_lifetime: Duration::from_hours(1),
            audience: None,
            device_pending_polls: 1,
            device_code_lifetime: Duration::from_mins(15),
            device_interval: 1,
            refresh_tokens_expired: false,
            authorize_error: None,
            token_error: None,
            introspection: Introspection::Normal,
            protocols_off: Vec::new(),
            google: super::google::GoogleConfig::default(),
        }
    }
}

/// One request the IdP saw. Never holds a secret, code or token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoggedRequest {
    pub method: &'static str,
    pub path: String,
    pub grant_type: Option<String>,
    pub client_id: Option<String>,
    pub status: u16,
    /// The AADSTS code of an error answer (also of an authorize error redirect).
    pub error_code: Option<u32>,
    /// Google's side: the `error` of an error answer.
    pub error: Option<String>,
    /// Google's jwt-bearer grant: the JWT's `sub` (the mailbox user).
    pub subject: Option<String>,
}

/// Whom an access token speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    App { client_id: String },
    User { email: String },
}

/// The IdP's record of an access token it issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub subject: Subject,
    pub client_id: String,
    pub aud: String,
    pub exp: u64,
    pub revoked: bool,
    /// The `roles` (app-only) or `scp` (delegated) it carries.
    pub permissions: Vec<String>,
}
