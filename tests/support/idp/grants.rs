//! `POST /{tenant}/oauth2/v2.0/token`: the four grants, checked in Entra's order (tenant, grant
//! type, client, client authentication, then the grant itself). Minting is in `mint.rs`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State as AxState};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

use super::errors::{MsError, now};
use super::mint::{delegated_response, mint_app};
use super::tokens::{self, Signer};
use super::{App, Grant, Shared, State, TenantRef};

const CLIENT_CREDENTIALS: &str = "client_credentials";
const AUTHORIZATION_CODE: &str = "authorization_code";
const REFRESH_TOKEN: &str = "refresh_token";
const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

pub(super) async fn token(
    AxState(shared): AxState<Arc<Shared>>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let basic = basic_auth(&headers);
    let grant_type = form.get("grant_type").cloned();
    let client_id = form
        .get("client_id")
        .cloned()
        .or_else(|| basic.as_ref().map(|b| b.0.clone()));
    let result = token_grant(&shared, &tenant, &form, basic.as_ref());
    let path = format!("/{tenant}/oauth2/v2.0/token");
    match result {
        Ok(v) => {
            shared.log("POST", path, grant_type, client_id, 200, None);
            ([(header::CACHE_CONTROL, "no-store, no-cache")], Json(v)).into_response()
        }
        Err(e) => {
            shared.log("POST", path, grant_type, client_id, e.status, Some(e.code));
            error_response(&e)
        }
    }
}

/// An Entra error as an HTTP answer.
pub(super) fn error_response(e: &MsError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [(header::CACHE_CONTROL, "no-store, no-cache")],
        Json(e.to_json()),
    )
        .into_response()
}

/// `Authorization: Basic base64(urlencode(id):urlencode(secret))` (RFC 6749 §2.3.1).
fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b64 = value
        .strip_prefix("Basic ")
        .or_else(|| value.strip_prefix("basic "))?;
    let raw = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .ok()?,
    )
    .ok()?;
    let (id, secret) = raw.split_once(':')?;
    let dec = |s: &str| {
        url::form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
    };
    Some((dec(id)?, dec(secret)?))
}

fn internal(e: &anyhow::Error) -> MsError {
    MsError::new(
        500,
        "server_error",
        50_000,
        format!("There was an error issuing a token: {e}"),
    )
}

fn token_grant(
    shared: &Shared,
    tenant_seg: &str,
    form: &HashMap<String, String>,
    basic: Option<&(String, String)>,
) -> Result<Value, MsError> {
    let mut st = shared.lock();
    if let Some(e) = st.config.token_error.clone() {
        return Err(e);
    }
    let tenant = st.resolve_tenant(tenant_seg)?;
    let grant = form
        .get("grant_type")
        .filter(|g| !g.is_empty())
        .ok_or_else(|| MsError::missing_param("grant_type"))?;
    if ![
        CLIENT_CREDENTIALS,
        AUTHORIZATION_CODE,
        REFRESH_TOKEN,
        DEVICE_CODE,
    ]
    .contains(&grant.as_str())
    {
        return Err(MsError::unsupported_grant(grant));
    }
    if grant == CLIENT_CREDENTIALS && matches!(tenant, TenantRef::Multi(_)) {
        return Err(MsError::grant_needs_tenant());
    }
    let client_id = form
        .get("client_id")
        .or(basic.map(|b| &b.0))
        .filter(|c| !c.is_empty());
    let client_id = client_id.ok_or_else(|| MsError::missing_param("client_id"))?;
    let app = st.resolve_app(client_id, &tenant)?;
    let sent = form
        .get("client_secret")
        .or(basic.map(|b| &b.1))
        .filter(|s| !s.is_empty());
    match (&app.secret, sent) {
        (None, Some(_)) => return Err(MsError::secret_to_public_client()),
        (None, None) if grant == CLIENT_CREDENTIALS => return Err(MsError::missing_secret()),
        (Some(_), None) if grant != DEVICE_CODE => return Err(MsError::missing_secret()),
        (Some(want), Some(got)) if want != got => {
            return Err(MsError::wrong_secret(&app.client_id));
        }
        _ => {}
    }
    let signer = &shared.signer;
    let (grant, nonce) = match grant.as_str() {
        CLIENT_CREDENTIALS => {
            return client_credentials(&mut st, signer, &app, &tenant, tenant_seg, form);
        }
        AUTHORIZATION_CODE => redeem_code(&mut st, &app, form)?,
        REFRESH_TOKEN => (redeem_refresh(&st, &app, tenant_seg, form)?, None),
        _ => (redeem_device_code(&mut st, &app, form)?, None),
    };
    delegated_response(
        &mut st,
        signer,
        &shared.base_url,
        &app,
        &grant,
        nonce.as_deref(),
    )
    .map_err(|e| internal(&e))
}

fn client_credentials(
    st: &mut State,
    signer: &Signer,
    app: &App,
    tenant: &TenantRef,
    tenant_seg: &str,
    form: &HashMap<String, String>,
) -> Result<Value, MsError> {
    let scope = form
        .get("scope")
        .ok_or_else(|| MsError::missing_param("scope"))?;
    let resource = tokens::parse_app_only(scope, tenant_seg)?;
    let TenantRef::Specific(t) = tenant else {
        return Err(MsError::grant_needs_tenant());
    };
    let token = mint_app(st, signer, app, &t.id, &resource).map_err(|e| internal(&e))?;
    let life = st.config.token_lifetime.as_secs();
    Ok(json!({
        "token_type": "Bearer",
        "expires_in": life,
        "ext_expires_in": life,
        "access_token": token,
    }))
}

/// An authorization code: single use, same client, unexpired, same redirect_uri, PKCE verifier.
/// Returns the grant and the authorize request's nonce.
fn redeem_code(
    st: &mut State,
    app: &App,
    form: &HashMap<String, String>,
) -> Result<(Grant, Option<String>), MsError> {
    let code = form
        .get("code")
        .ok_or_else(|| MsError::missing_param("code"))?;
    if st.redeemed.contains(code) {
        return Err(MsError::code_redeemed());
    }
    // Any use spends the code, as in Entra: a retry after an error needs a new sign-in.
    let c = st.codes.remove(code).ok_or_else(MsError::malformed_grant)?;
    st.redeemed.insert(code.clone());
    if !c.grant.client_id.eq_ignore_ascii_case(&app.client_id) {
        return Err(MsError::grant_for_other_client());
    }
    if now() >= c.exp {
        return Err(MsError::code_expired());
    }
    let sent_redirect = form.get("redirect_uri").map_or("", String::as_str);
    if sent_redirect != c.redirect_uri {
        return Err(MsError::redirect_mismatch(sent_redirect, &c.redirect_uri));
    }
    if form
        .get("code_verifier")
        .is_none_or(|v| tokens::s256(v) != c.challenge)
    {
        return Err(MsError::pkce_mismatch());
    }
    Ok((c.grant, c.nonce))
}

/// A refresh token: same client, not expired; an optional new scope (any resource, as in Entra).
fn redeem_refresh(
    st: &State,
    app: &App,
    tenant_seg: &str,
    form: &HashMap<String, String>,
) -> Result<Grant, MsError> {
    let rt = form
        .get("refresh_token")
        .ok_or_else(|| MsError::missing_param("refresh_token"))?;
    let r = st.refresh.get(rt).ok_or_else(MsError::malformed_grant)?;
    if !r.grant.client_id.eq_ignore_ascii_case(&app.client_id) {
        return Err(MsError::grant_for_other_client());
    }
    if r.expired || st.config.refresh_tokens_expired {
        return Err(MsError::refresh_expired(r.issued));
    }
    let mut g = r.grant.clone();
    if let Some(scope) = form.get("scope").filter(|s| !s.trim().is_empty()) {
        g.scopes = tokens::parse_delegated(scope, tenant_seg)?;
    }
    // Refreshing always gives a new refresh token.
    if !g.scopes.has("offline_access") {
        g.scopes.oidc.push("offline_access".to_owned());
    }
    Ok(g)
}

/// A device code: `authorization_pending` for the configured number of polls, then the grant.
fn redeem_device_code(
    st: &mut State,
    app: &App,
    form: &HashMap<String, String>,
) -> Result<Grant, MsError> {
    let dc = form
        .get("device_code")
        .or_else(|| form.get("code"))
        .ok_or_else(|| MsError::missing_param("device_code"))?;
    let d = st
        .devices
        .get_mut(dc)
        .ok_or_else(MsError::malformed_grant)?;
    if !d.grant.client_id.eq_ignore_ascii_case(&app.client_id) || d.done {
        return Err(MsError::grant_for_other_client());
    }
    if now() >= d.exp {
        return Err(MsError::device_code_expired());
    }
    if d.polls_left > 0 {
        d.polls_left -= 1;
        return Err(MsError::authorization_pending());
    }
    d.done = true;
    Ok(d.grant.clone())
}
