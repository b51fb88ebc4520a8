//! The OAuth2 grants, on the `oauth2` crate over our reqwest client: client credentials,
//! authorization code with PKCE (S256) and state through the loopback listener, device code, and
//! refresh. Each returns a [`TokenSet`] or an error explained in plain words.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use oauth2::basic::{
    BasicErrorResponse, BasicRevocationErrorResponse, BasicTokenIntrospectionResponse,
    BasicTokenType,
};
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    DeviceAuthorizationUrl, EndpointMaybeSet, EndpointNotSet, EndpointSet, ExtraTokenFields,
    PkceCodeChallenge, RedirectUrl, RefreshToken, RequestTokenError, Scope, StandardRevocableToken,
    StandardTokenResponse, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use super::endpoints::Endpoints;
use super::explain::{Context, IdpError, explain};
use super::loopback::{Listener, Redirect};
use super::{FlowEvent, OAuthError, TokenSet, network_error};
use crate::profile::{Account, Provider};

/// Microsoft and Google send an `id_token` when `openid` was asked for: it names the user.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct IdTokenField {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
}
impl ExtraTokenFields for IdTokenField {}

type Response = StandardTokenResponse<IdTokenField, BasicTokenType>;
type Client = oauth2::Client<
    BasicErrorResponse,
    Response,
    BasicTokenIntrospectionResponse,
    StandardRevocableToken,
    BasicRevocationErrorResponse,
    EndpointSet,
    EndpointMaybeSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointSet,
>;

/// Everything a grant needs from the account, resolved.
pub struct Request<'a> {
    pub account: &'a Account,
    pub endpoints: &'a Endpoints,
    pub secret: Option<SecretString>,
    pub http: &'a reqwest::Client,
    /// A refresh token is stored for the account (Google is asked for consent again only
    /// without one).
    pub has_refresh_token: bool,
}

impl Request<'_> {
    fn client(&self, redirect: Option<&str>) -> Result<Client, OAuthError> {
        let e = self.endpoints;
        let url_err = |field: &'static str| {
            move |err: url::ParseError| OAuthError::Config {
                field,
                message: err.to_string(),
                fix: "check the address".into(),
            }
        };
        let mut c = oauth2::Client::new(ClientId::new(self.account.client_id.clone()))
            .set_auth_uri(AuthUrl::from_url(e.authorize.clone()))
            .set_token_uri(TokenUrl::from_url(e.token.clone()))
            .set_device_authorization_url_option(
                e.device.clone().map(DeviceAuthorizationUrl::from_url),
            )
            // Entra and Google both take the secret in the form body (client_secret_post).
            .set_auth_type(AuthType::RequestBody);
        if let Some(s) = &self.secret {
            c = c.set_client_secret(ClientSecret::new(s.expose_secret().to_owned()));
        }
        if let Some(r) = redirect {
            c = c
                .set_redirect_uri(RedirectUrl::new(r.to_owned()).map_err(url_err("redirect_uri"))?);
        }
        Ok(c)
    }

    /// The account's scopes; delegated sign-ins also ask for `openid email` to learn the address.
    fn scopes(&self, interactive: bool) -> Vec<Scope> {
        let mut s: Vec<String> = self.account.scopes.clone();
        if interactive && self.account.provider != Provider::Generic {
            for extra in ["openid", "email"] {
                if !s.iter().any(|x| x == extra) {
                    s.push(extra.to_owned());
                }
            }
        }
        s.into_iter()
            .filter(|x| !x.trim().is_empty())
            .map(Scope::new)
            .collect()
    }

    fn context(&self) -> Context<'_> {
        Context {
            secret_has_blanks: self.secret.as_ref().is_some_and(|s| {
                let s = s.expose_secret();
                s.trim() != s
            }),
            ..Context::of(self.account)
        }
    }

    /// The HTTP client for `oauth2`, which also keeps the body of an error reply: `oauth2`'s
    /// standard error type drops Microsoft's `error_codes`, `trace_id` and `correlation_id`.
    fn http(&self) -> (impl Fn(oauth2::HttpRequest) -> HttpFuture, ErrorBody) {
        let last_error = Arc::new(Mutex::new(None));
        let keep = last_error.clone();
        let http = self.http.clone();
        let f = move |req: oauth2::HttpRequest| -> HttpFuture {
            let http = http.clone();
            let keep = keep.clone();
            Box::pin(async move {
                let (parts, body) = req.into_parts();
                let url = parts.uri.to_string();
                let resp = http
                    .request(parts.method, &url)
                    .headers(parts.headers)
                    .body(body)
                    .send()
                    .await
                    .map_err(|e| network_error(&url, &e))?;
                let status = resp.status();
                if status.is_redirection() {
                    // Token endpoints answer directly (RFC 6749 §3.2); a redirect means the
                    // address is not the token endpoint (a login page, a proxy, a moved host).
                    let to = resp
                        .headers()
                        .get(reqwest::header::LOCATION)
                        .and_then(|l| l.to_str().ok())
                        .map(|l| crate::redact::shorten(l, 200));
                    return Err(OAuthError::Protocol(format!(
                        "the identity provider at {url} answered {status} with a redirect{}, where a token endpoint answers directly\n    fix: check the account's authority, token_url or issuer: it must be the token endpoint itself",
                        to.map(|t| format!(" to {t}")).unwrap_or_default()
                    )));
                }
                let mut b = oauth2::http::Response::builder().status(status);
                for (k, v) in resp.headers() {
                    b = b.header(k, v);
                }
                let bytes = resp
                    .bytes()
                    .await
                    .map_err(|e| network_error(&url, &e))?
                    .to_vec();
                if !status.is_success()
                    && let Ok(mut k) = keep.lock()
                {
                    *k = Some(bytes.clone());
                }
                b.body(bytes)
                    .map_err(|e| OAuthError::Protocol(format!("unreadable reply from {url}: {e}")))
            })
        };
        (f, last_error)
    }

    fn fail(
        &self,
        err: RequestTokenError<OAuthError, impl oauth2::ErrorResponse + 'static>,
        raw: &Mutex<Option<Vec<u8>>>,
        what: &str,
    ) -> OAuthError {
        match err {
            RequestTokenError::Request(e) => e,
            RequestTokenError::ServerResponse(_) | RequestTokenError::Parse(..) => {
                let body = raw.lock().ok().and_then(|mut b| b.take());
                match body.as_deref().and_then(IdpError::from_json) {
                    Some(idp) => OAuthError::Idp(Box::new(explain(&idp, &self.context()))),
                    // Never echo an unparsed body: a malformed success could hold a token.
                    None => OAuthError::Protocol(format!(
                        "the identity provider's answer to the {what} request could not be read as OAuth2 ({})",
                        self.endpoints.token
                    )),
                }
            }
            RequestTokenError::Other(m) => OAuthError::Protocol(m),
        }
    }
}

/// The body of the last error reply, kept for [`IdpError::from_json`].
type ErrorBody = Arc<Mutex<Option<Vec<u8>>>>;
type HttpFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, OAuthError>> + Send>,
>;

/// App-only: the client-credentials grant with the account's secret.
pub async fn client_credentials(req: &Request<'_>) -> Result<TokenSet, OAuthError> {
    if req.secret.is_none() {
        return Err(missing_secret(req.account));
    }
    let client = req.client(None)?;
    let (http, raw) = req.http();
    let resp = client
        .exchange_client_credentials()
        .add_scopes(req.scopes(false))
        .request_async(&http)
        .await
        .map_err(|e| req.fail(e, &raw, "client credentials"))?;
    Ok(token_set(&resp))
}

/// Exchanges a refresh token for new tokens (rotated when the provider sends a new one).
pub async fn refresh(
    req: &Request<'_>,
    refresh_token: &SecretString,
) -> Result<TokenSet, OAuthError> {
    let client = req.client(None)?;
    let (http, raw) = req.http();
    let token = RefreshToken::new(refresh_token.expose_secret().to_owned());
    let resp = client
        .exchange_refresh_token(&token)
        .add_scopes(req.scopes(false))
        .request_async(&http)
        .await
        .map_err(|e| req.fail(e, &raw, "refresh"))?;
    Ok(token_set(&resp))
}

/// Delegated: authorization code with PKCE in the system browser, redirect to the loopback.
/// `on_event` learns the address to open (always shown, so it can be opened by hand).
pub async fn authorization_code(
    req: &Request<'_>,
    wait: Duration,
    on_event: &(dyn Fn(FlowEvent) + Send + Sync),
) -> Result<TokenSet, OAuthError> {
    if req.account.provider == Provider::Generic
        && req.account.authorize_url.is_none()
        && req.account.issuer.is_none()
    {
        return Err(OAuthError::Config {
            field: "authorize_url",
            message: format!(
                "account \"{}\" has no authorize_url for a browser sign-in",
                req.account.name
            ),
            fix: "set `authorize_url`, or `issuer` to read it from the provider".into(),
        });
    }
    let listener = Listener::bind(req.account.redirect_uri.as_deref()).await?;
    let client = req.client(Some(listener.redirect_uri()))?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut auth = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(req.scopes(true))
        .set_pkce_challenge(challenge);
    if req.account.provider == Provider::Google {
        // Google sends a refresh token only when asked for offline access, and again only when
        // the user consents again: with none stored, ask for both.
        auth = auth.add_extra_param("access_type", "offline");
        if !req.has_refresh_token {
            auth = auth.add_extra_param("prompt", "consent");
        }
    }
    let (url, state) = auth.url();
    let opened = super::browser::open(url.as_str()).await;
    on_event(FlowEvent::Browser {
        url: url.to_string(),
        opened,
    });
    let redirect = tokio::time::timeout(wait, listener.wait(state.secret()))
        .await
        .map_err(|_| OAuthError::TimedOut {
            what: "the browser sign-in",
            secs: wait.as_secs(),
        })??;
    let code = match redirect {
        Redirect::Code(c) => {
            crate::redact::register(&c, "<authorization code: masked>");
            crate::redact::register(verifier.secret(), "<PKCE verifier: masked>");
            c
        }
        Redirect::Error {
            error,
            description,
            uri,
        } => {
            let idp = IdpError::from_redirect(&error, description.as_deref(), uri.as_deref());
            return Err(OAuthError::Idp(Box::new(explain(&idp, &req.context()))));
        }
    };
    on_event(FlowEvent::Exchanging);
    let (http, raw) = req.http();
    let resp = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .map_err(|e| req.fail(e, &raw, "authorization code"))?;
    Ok(token_set(&resp))
}

/// Device code, for a machine without a browser: shows the code, polls at the server's interval,
/// stops on expiry (or when the caller drops it).
pub async fn device_code(
    req: &Request<'_>,
    on_event: &(dyn Fn(FlowEvent) + Send + Sync),
) -> Result<TokenSet, OAuthError> {
    let client = req.client(None)?;
    let (http, raw) = req.http();
    let details: oauth2::StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .map_err(|_| OAuthError::Config {
            field: "device_authorization_url",
            message: format!(
                "account \"{}\" has no device authorization address",
                req.account.name
            ),
            fix: "set `device_authorization_url`, or choose the delegated (browser) flow".into(),
        })?
        .add_scopes(req.scopes(true))
        .request_async(&http)
        .await
        .map_err(|e| req.fail(e, &raw, "device code"))?;
    crate::redact::register(details.device_code().secret(), "<device code: masked>");
    let expires_in = details.expires_in();
    on_event(FlowEvent::DeviceCode {
        user_code: details.user_code().secret().clone(),
        verification_uri: details.verification_uri().to_string(),
        expires_in_secs: expires_in.as_secs(),
    });
    let resp = client
        .exchange_device_access_token(&details)
        .request_async(&http, tokio::time::sleep, Some(expires_in))
        .await
        .map_err(|e| req.fail(e, &raw, "device code"))?;
    Ok(token_set(&resp))
}

fn token_set(resp: &Response) -> TokenSet {
    // Masked in every output from now on, whatever echoes them.
    crate::redact::register(resp.access_token().secret(), "<access token: masked>");
    if let Some(r) = resp.refresh_token() {
        crate::redact::register(r.secret(), "<refresh token: masked>");
    }
    if let Some(id) = &resp.extra_fields().id_token {
        crate::redact::register(id, "<ID token: masked>");
    }
    TokenSet {
        access_token: SecretString::from(resp.access_token().secret().clone()),
        expires_at: resp.expires_in().map(|d| SystemTime::now() + d),
        refresh_token: resp
            .refresh_token()
            .map(|r| SecretString::from(r.secret().clone())),
        id_token: resp.extra_fields().id_token.clone(),
        scopes: resp
            .scopes()
            .map(|s| s.iter().map(|x| x.to_string()).collect()),
    }
}

fn missing_secret(account: &Account) -> OAuthError {
    OAuthError::Config {
        field: "client secret",
        message: format!(
            "account \"{}\" signs in app-only, which needs its client secret, and none is stored",
            account.name
        ),
        fix: format!(
            "enter the secret's Value (from Entra ID → App registrations → your app → Certificates & secrets) in the account's form, \
             or set {} for headless use",
            crate::secrets::CLIENT_SECRET_ENV
        ),
    }
}
