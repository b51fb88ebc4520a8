//! The IdP's other routes: authorize (auto-approving), device code, discovery, JWKS, and the
//! introspection endpoint Dovecot asks.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::json;
use url::Url;

use super::errors::{MsError, now};
use super::grants::error_response;
use super::tokens::{self, Scopes};
use super::{App, CodeGrant, DeviceGrant, Grant, Introspection, Shared, TenantRef};

fn is_loopback_host(u: &Url) -> bool {
    matches!(u.host_str(), Some("localhost" | "127.0.0.1"))
}

/// Entra's matching: same scheme, host and path; the port counts except for localhost/127.0.0.1.
fn redirect_registered(app: &App, uri: &Url) -> bool {
    app.redirect_uris
        .iter()
        .filter_map(|r| Url::parse(r).ok())
        .any(|r| {
            r.scheme() == uri.scheme()
                && r.host_str() == uri.host_str()
                && r.path() == uri.path()
                && (is_loopback_host(&r)
                    || r.port_or_known_default() == uri.port_or_known_default())
        })
}

fn with_query(mut base: Url, params: &[(String, String)]) -> String {
    {
        let mut q = base.query_pairs_mut();
        for (k, v) in params {
            q.append_pair(k, v);
        }
    }
    base.to_string()
}

fn found(location: &str) -> Response {
    (
        StatusCode::FOUND,
        [
            (header::LOCATION, location.to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response()
}

/// Why an authorize request did not give a code: an error sent back to the app, or an error page
/// (when the redirect URI itself can't be trusted).
enum Refusal {
    Redirect(String, MsError),
    Page(MsError),
}

pub(super) async fn authorize(
    AxState(shared): AxState<Arc<Shared>>,
    Path(tenant): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = q.unwrap_or_default();
    let p: HashMap<String, String> = url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect();
    let result = authorize_inner(&shared, &tenant, &p);
    let path = format!("/{tenant}/oauth2/v2.0/authorize");
    let client = p.get("client_id").cloned();
    match result {
        Ok(location) => {
            shared.log("GET", path, None, client, 302, None);
            found(&location)
        }
        Err(Refusal::Redirect(location, e)) => {
            shared.log("GET", path, None, client, 302, Some(e.code));
            found(&location)
        }
        Err(Refusal::Page(e)) => {
            shared.log("GET", path, None, client, 400, Some(e.code));
            let text = e
                .redirect_params(None)
                .into_iter()
                .fold(String::new(), |mut t, (k, v)| {
                    let _ = write!(t, "<p>{k}: {v}</p>");
                    t
                });
            (StatusCode::BAD_REQUEST, Html(format!("<html><body><h1>Sign in</h1><p>Sorry, but we're having trouble signing you in.</p>{text}</body></html>"))).into_response()
        }
    }
}

fn authorize_inner(
    shared: &Shared,
    tenant_seg: &str,
    p: &HashMap<String, String>,
) -> Result<String, Refusal> {
    let mut st = shared.lock();
    let state = p.get("state").map(String::as_str);
    // Errors before the redirect is checked still go back to a loopback redirect (the test double
    // is kinder than Entra here, so that the app's error handling can be tested).
    let loopback = p
        .get("redirect_uri")
        .and_then(|r| Url::parse(r).ok())
        .filter(|u| u.scheme() == "http" && is_loopback_host(u));
    let fail = |e: MsError| match &loopback {
        Some(u) => Refusal::Redirect(with_query(u.clone(), &e.redirect_params(state)), e),
        None => Refusal::Page(e),
    };
    if let Some(e) = st.config.authorize_error.clone() {
        return Err(fail(e));
    }
    let tenant = st.resolve_tenant(tenant_seg).map_err(&fail)?;
    let client_id = p
        .get("client_id")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| fail(MsError::missing_param("client_id")))?;
    let app = st.resolve_app(client_id, &tenant).map_err(&fail)?;
    let redirect = p
        .get("redirect_uri")
        .ok_or_else(|| Refusal::Page(MsError::no_reply_address()))?;
    let redirect_url = Url::parse(redirect)
        .map_err(|_| Refusal::Page(MsError::redirect_not_registered(redirect, client_id)))?;
    if !redirect_registered(&app, &redirect_url) {
        return Err(Refusal::Page(MsError::redirect_not_registered(
            redirect, client_id,
        )));
    }
    let back = |e: MsError| {
        Refusal::Redirect(
            with_query(redirect_url.clone(), &e.redirect_params(state)),
            e,
        )
    };
    match p.get("response_type").map(String::as_str) {
        None => return Err(back(MsError::missing_param("response_type"))),
        Some("code") => {}
        Some(other) => return Err(back(MsError::unsupported_response_type(other))),
    }
    let scope = p
        .get("scope")
        .ok_or_else(|| back(MsError::missing_param("scope")))?;
    let scopes: Scopes = tokens::parse_delegated(scope, tenant_seg).map_err(&back)?;
    let state = state.ok_or_else(|| back(MsError::missing_param("state")))?;
    let challenge = p
        .get("code_challenge")
        .filter(|c| c.len() >= 43)
        .ok_or_else(|| back(MsError::pkce_required("code_challenge")))?;
    if p.get("code_challenge_method").map(String::as_str) != Some("S256") {
        return Err(back(MsError::pkce_required("code_challenge_method")));
    }
    let n = st.next();
    let code = tokens::opaque("code", n);
    let grant = Grant {
        client_id: app.client_id.clone(),
        scopes,
        tenant_id: st.user_tid(&tenant),
        email: st.config.user.email.clone(),
    };
    st.codes.insert(
        code.clone(),
        CodeGrant {
            grant,
            redirect_uri: redirect.clone(),
            challenge: challenge.clone(),
            nonce: p.get("nonce").cloned(),
            exp: now() + 600,
        },
    );
    let params = [
        ("code", code.as_str()),
        ("state", state),
        ("session_state", &super::errors::guid()),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()));
    Ok(with_query(redirect_url, &params))
}

pub(super) async fn devicecode(
    AxState(shared): AxState<Arc<Shared>>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let client = form.get("client_id").cloned();
    let path = format!("/{tenant}/oauth2/v2.0/devicecode");
    let result = devicecode_inner(&shared, &tenant, &form);
    match result {
        Ok(v) => {
            shared.log("POST", path, None, client, 200, None);
            Json(v).into_response()
        }
        Err(e) => {
            shared.log("POST", path, None, client, e.status, Some(e.code));
            error_response(&e)
        }
    }
}

fn devicecode_inner(
    shared: &Shared,
    tenant_seg: &str,
    form: &HashMap<String, String>,
) -> Result<serde_json::Value, MsError> {
    let mut st = shared.lock();
    let tenant = st.resolve_tenant(tenant_seg)?;
    let client_id = form
        .get("client_id")
        .filter(|c| !c.is_empty())
        .ok_or_else(|| MsError::missing_param("client_id"))?;
    let app = st.resolve_app(client_id, &tenant)?;
    let scope = form
        .get("scope")
        .ok_or_else(|| MsError::missing_param("scope"))?;
    let scopes = tokens::parse_delegated(scope, tenant_seg)?;
    let n = st.next();
    let device_code = tokens::opaque("dc", n);
    let mut raw = [0u8; 9];
    let _ = aws_lc_rs::rand::fill(&mut raw);
    let user_code: String = raw.iter().map(|b| char::from(b'A' + b % 26)).collect();
    let lifetime = st.config.device_code_lifetime.as_secs();
    let grant = Grant {
        client_id: app.client_id.clone(),
        scopes,
        tenant_id: st.user_tid(&tenant),
        email: st.config.user.email.clone(),
    };
    let polls_left = st.config.device_pending_polls;
    st.devices.insert(
        device_code.clone(),
        DeviceGrant {
            grant,
            polls_left,
            exp: now() + lifetime,
            done: false,
        },
    );
    let uri = format!("{}/devicelogin", shared.base_url);
    Ok(json!({
        "user_code": user_code,
        "device_code": device_code,
        "verification_uri": uri,
        "expires_in": lifetime,
        "interval": st.config.device_interval,
        "message": format!("To sign in, use a web browser to open the page {uri} and enter the code {user_code} to authenticate."),
    }))
}

pub(super) async fn openid_configuration(
    AxState(shared): AxState<Arc<Shared>>,
    Path(tenant): Path<String>,
) -> Response {
    let resolved = shared.lock().resolve_tenant(&tenant);
    let path = format!("/{tenant}/v2.0/.well-known/openid-configuration");
    let (issuer_tid, seg) = match resolved {
        Ok(TenantRef::Specific(t)) => (t.id.clone(), t.id),
        Ok(TenantRef::Multi(m)) => ("{tenantid}".to_owned(), m),
        Err(e) => {
            shared.log("GET", path, None, None, e.status, Some(e.code));
            return error_response(&e);
        }
    };
    shared.log("GET", path, None, None, 200, None);
    let b = &shared.base_url;
    Json(json!({
        "issuer": format!("{b}/{issuer_tid}/v2.0"),
        "authorization_endpoint": format!("{b}/{seg}/oauth2/v2.0/authorize"),
        "token_endpoint": format!("{b}/{seg}/oauth2/v2.0/token"),
        "device_authorization_endpoint": format!("{b}/{seg}/oauth2/v2.0/devicecode"),
        "jwks_uri": format!("{b}/{seg}/discovery/v2.0/keys"),
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
        "code_challenge_methods_supported": ["S256"],
        "tenant_region_scope": "EU",
        "cloud_instance_name": "microsoftonline.com",
    }))
    .into_response()
}

pub(super) async fn jwks(AxState(shared): AxState<Arc<Shared>>) -> Response {
    Json(shared.signer.jwks()).into_response()
}

pub(super) async fn devicelogin() -> Html<&'static str> {
    Html(
        "<html><body><h1>Enter code</h1><p>This test identity provider approves device codes by itself.</p></body></html>",
    )
}

pub(super) async fn introspect(AxState(shared): AxState<Arc<Shared>>, body: Bytes) -> Response {
    introspect_as(&shared, None, &body).await
}

/// Dovecot's per-protocol passdb asks here (`/introspect/imap`, …): as [`introspect`], plus
/// Exchange's own checks for that protocol ([`super::mint::exchange_allows`]).
pub(super) async fn introspect_service(
    AxState(shared): AxState<Arc<Shared>>,
    Path(service): Path<String>,
    body: Bytes,
) -> Response {
    introspect_as(&shared, Some(&service), &body).await
}

async fn introspect_as(shared: &Shared, service: Option<&str>, body: &[u8]) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let token = form.get("token").cloned().unwrap_or_default();
    let (mode, found) = {
        let st = shared.lock();
        let found = super::mint::introspect(&st, &token).filter(|(t, email)| {
            service.is_none_or(|s| super::mint::exchange_allows(&st, t, email.as_deref(), s))
        });
        (st.config.introspection, found)
    };
    let client = found.as_ref().map(|(t, _)| t.client_id.clone());
    let path = service.map_or_else(|| "/introspect".to_owned(), |s| format!("/introspect/{s}"));
    match mode {
        Introspection::Hang => {
            shared.log("POST", path, None, client, 0, None);
            tokio::time::sleep(Duration::from_hours(1)).await;
            StatusCode::GATEWAY_TIMEOUT.into_response()
        }
        Introspection::Error500 => {
            shared.log("POST", path, None, client, 500, None);
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({"error": "server_error"})),
            )
                .into_response()
        }
        Introspection::OmitEmail | Introspection::Normal => {
            shared.log("POST", path, None, client, 200, None);
            let body = match found {
                Some((t, _)) if mode == Introspection::OmitEmail => {
                    json!({"active": true, "client_id": t.client_id, "aud": t.aud, "exp": t.exp})
                }
                Some((t, Some(email))) => {
                    json!({"active": true, "email": email, "client_id": t.client_id, "aud": t.aud, "exp": t.exp})
                }
                _ => json!({"active": false}),
            };
            Json(body).into_response()
        }
    }
}
