//! Google's side of the identity-provider test double, at Google-like paths on the same server:
//! - `GET /o/oauth2/v2/auth`: the installed-app authorize page (Desktop app clients, loopback
//!   redirect on any port, PKCE S256 required here, `access_type=offline`, `prompt=consent`),
//!   answering as [`Consent`] says. Unlike Google, every refusal after the client and redirect
//!   are known goes back to the app (Google shows some on its own page), so the app's
//!   explanation can be tested.
//! - `POST /token`: `authorization_code` (secret required, as Google requires even for Desktop
//!   apps), `refresh_token` (Google does not rotate it), and the service account's
//!   `urn:ietf:params:oauth:grant-type:jwt-bearer`: the RS256 signature against the key's public
//!   half, `aud` = this endpoint, `iat`/`exp` within an hour and not in the future by the IdP's
//!   clock ([`GoogleConfig::clock_offset_secs`]), `sub` a user of the domain, delegation granted
//!   for the client ID and every scope asked.
//!
//! Access tokens are opaque (`ya29.…`), as Google's are; the introspection endpoint answers for
//! them with the user's address, so Dovecot takes them. Errors have Google's shape:
//! `{"error": "…", "error_description": "…"}`; every answer carries the IdP's clock in `Date`.

pub mod config;
mod jwt;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{RawQuery, State as AxState};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde_json::{Value, json};
use url::Url;

pub use config::{Consent, GoogleConfig, ServiceAccount, defaults};

use super::errors::now as real_now;
use super::tokens;
use super::{Issued, Shared, State, Subject};

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const KNOWN_SCOPES: [&str; 5] = [
    defaults::MAIL_SCOPE,
    "https://www.googleapis.com/auth/gmail.imap_admin",
    "openid",
    "email",
    "profile",
];

/// A refusal in Google's shape.
#[derive(Debug, Clone)]
pub struct GError {
    pub status: u16,
    pub error: &'static str,
    pub description: String,
}

fn err(status: u16, error: &'static str, description: impl Into<String>) -> GError {
    GError {
        status,
        error,
        description: description.into(),
    }
}

pub(super) struct Code {
    client_id: String,
    redirect_uri: String,
    challenge: String,
    scopes: Vec<String>,
    user: String,
    offline: bool,
    consented_again: bool,
}

pub(super) struct Refresh {
    client_id: String,
    scopes: Vec<String>,
    user: String,
}

#[derive(Default)]
pub(super) struct GoogleState {
    codes: HashMap<String, Code>,
    refresh: HashMap<String, Refresh>,
    /// `(client, user)` pairs that consented once: Google then sends no new refresh token unless
    /// asked for consent again.
    consented: HashSet<(String, String)>,
}

/// The IdP's clock, which a test may set off from the real one.
pub(super) fn now(st: &State) -> i64 {
    i64::try_from(real_now()).unwrap_or(i64::MAX) + st.config.google.clock_offset_secs
}

fn date_header(st: &State) -> HeaderValue {
    let text = chrono::DateTime::from_timestamp(now(st), 0)
        .map(|d| d.format("%a, %d %b %Y %H:%M:%S GMT").to_string())
        .unwrap_or_default();
    HeaderValue::from_str(&text)
        .unwrap_or(HeaderValue::from_static("Thu, 01 Jan 1970 00:00:00 GMT"))
}

fn answer(shared: &Shared, status: StatusCode, body: Value) -> Response {
    let date = date_header(&shared.lock());
    (
        status,
        [
            (header::DATE, date),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        Json(body),
    )
        .into_response()
}

pub(super) async fn authorize(
    AxState(shared): AxState<Arc<Shared>>,
    RawQuery(q): RawQuery,
) -> Response {
    let q = q.unwrap_or_default();
    let p: HashMap<String, String> = url::form_urlencoded::parse(q.as_bytes())
        .into_owned()
        .collect();
    let client = p.get("client_id").cloned();
    let path = "/o/oauth2/v2/auth".to_owned();
    match authorize_inner(&shared, &p) {
        Ok(location) => {
            shared.log_google("GET", path, None, client, 302, None, None);
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
        Err((Some(location), e)) => {
            shared.log_google("GET", path, None, client, 302, Some(e.error), None);
            (StatusCode::FOUND, [(header::LOCATION, location)]).into_response()
        }
        Err((None, e)) => {
            shared.log_google("GET", path, None, client, e.status, Some(e.error), None);
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            (status, Html(format!("<html><body><h1>Access blocked: authorisation error</h1><p>Error {}: {}</p><p>{}</p></body></html>", e.status, e.error, e.description))).into_response()
        }
    }
}

type Refusal = (Option<String>, GError);

// The authorize page's checks, in order, read best as one list.
#[allow(clippy::too_many_lines)]
fn authorize_inner(shared: &Shared, p: &HashMap<String, String>) -> Result<String, Refusal> {
    let mut st = shared.lock();
    let page = |e: GError| (None, e);
    let client_id = p.get("client_id").cloned().unwrap_or_default();
    if !st
        .config
        .google
        .clients
        .iter()
        .any(|(c, _)| *c == client_id)
    {
        return Err(page(err(
            401,
            "invalid_client",
            "The OAuth client was not found.",
        )));
    }
    let redirect = p.get("redirect_uri").cloned().unwrap_or_default();
    let redirect_url = Url::parse(&redirect)
        .ok()
        .filter(|u| u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")))
        .ok_or_else(|| page(err(400, "redirect_uri_mismatch", format!("You can't sign in to this app because it doesn't comply with Google's OAuth 2.0 policy. redirect_uri={redirect}"))))?;
    let state = p.get("state").cloned();
    let back = |e: GError| {
        let mut u = redirect_url.clone();
        {
            let mut q = u.query_pairs_mut();
            q.append_pair("error", e.error);
            q.append_pair("error_description", &e.description);
            if let Some(s) = &state {
                q.append_pair("state", s);
            }
        }
        (Some(u.to_string()), e)
    };
    if p.get("response_type").map(String::as_str) != Some("code") {
        return Err(back(err(
            400,
            "unsupported_response_type",
            "Invalid response_type.",
        )));
    }
    let asked: Vec<String> = p
        .get("scope")
        .map(|s| s.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default();
    if asked.is_empty() || asked.iter().any(|s| !KNOWN_SCOPES.contains(&s.as_str())) {
        return Err(back(err(
            400,
            "invalid_scope",
            format!("Some requested scopes were invalid. {{invalid={asked:?}}}"),
        )));
    }
    let challenge = p.get("code_challenge").filter(|c| c.len() >= 43).cloned();
    let (Some(challenge), Some("S256")) = (
        challenge,
        p.get("code_challenge_method").map(String::as_str),
    ) else {
        return Err(back(err(
            400,
            "invalid_request",
            "code_challenge with code_challenge_method=S256 is required by this test identity provider",
        )));
    };
    let Some(state) = state.clone() else {
        return Err(back(err(
            400,
            "invalid_request",
            "state is required by this test identity provider",
        )));
    };
    let g = st.config.google.clone();
    let mut granted = asked.clone();
    match g.consent {
        Consent::Allow => {}
        Consent::Deny => return Err(back(err(403, "access_denied", "The user denied access."))),
        Consent::OrgInternal => {
            return Err(back(err(
                403,
                "org_internal",
                "This client is restricted to users within its organization.",
            )));
        }
        Consent::AdminPolicy => {
            return Err(back(err(
                400,
                "admin_policy_enforced",
                "The user's Google Workspace administrator has restricted access to this app.",
            )));
        }
        Consent::UntickGmail => granted.retain(|s| s != defaults::MAIL_SCOPE),
    }
    let n = st.next();
    let code = tokens::opaque("4/0A", n);
    st.google.codes.insert(
        code.clone(),
        Code {
            client_id,
            redirect_uri: redirect,
            challenge,
            scopes: granted,
            user: g.user,
            offline: p.get("access_type").map(String::as_str) == Some("offline"),
            consented_again: p
                .get("prompt")
                .is_some_and(|v| v.split_whitespace().any(|x| x == "consent")),
        },
    );
    let mut u = redirect_url;
    u.query_pairs_mut()
        .append_pair("state", &state)
        .append_pair("code", &code)
        .append_pair("scope", &asked.join(" "));
    Ok(u.to_string())
}

pub(super) async fn token(AxState(shared): AxState<Arc<Shared>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let grant = form.get("grant_type").cloned();
    let result = token_inner(&shared, &form);
    let path = "/token".to_owned();
    match result {
        Ok((v, client, sub)) => {
            shared.log_google("POST", path, grant, Some(client), 200, None, sub);
            answer(&shared, StatusCode::OK, v)
        }
        Err((e, client, sub)) => {
            shared.log_google("POST", path, grant, client, e.status, Some(e.error), sub);
            let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
            answer(
                &shared,
                status,
                json!({"error": e.error, "error_description": e.description}),
            )
        }
    }
}

/// Success: the answer, the client and (jwt-bearer) the user; refusal: the error, the client
/// and the user where known.
type Outcome = Result<(Value, String, Option<String>), (GError, Option<String>, Option<String>)>;

// The token endpoint's checks, in order, read best as one list.
#[allow(clippy::too_many_lines)]
fn token_inner(shared: &Shared, form: &HashMap<String, String>) -> Outcome {
    let grant = form.get("grant_type").map_or("", String::as_str);
    if grant == JWT_BEARER {
        return jwt::jwt_bearer(shared, form);
    }
    let client = form.get("client_id").cloned();
    let fail = |e: GError| Err((e, client.clone(), None));
    let mut st = shared.lock();
    let Some((_, secret)) = st
        .config
        .google
        .clients
        .iter()
        .find(|(c, _)| Some(c) == client.as_ref())
        .cloned()
    else {
        return fail(err(
            401,
            "invalid_client",
            "The OAuth client was not found.",
        ));
    };
    match form.get("client_secret").filter(|s| !s.is_empty()) {
        None => return fail(err(400, "invalid_request", "client_secret is missing.")),
        Some(s) if *s != secret => return fail(err(401, "invalid_client", "Unauthorized")),
        Some(_) => {}
    }
    let client_id = client.clone().unwrap_or_default();
    let (scopes, user, refresh) = match grant {
        "authorization_code" => {
            let code = form.get("code").cloned().unwrap_or_default();
            let Some(c) = st.google.codes.remove(&code) else {
                return fail(err(400, "invalid_grant", "Malformed auth code."));
            };
            if c.client_id != client_id {
                return fail(err(400, "invalid_grant", "Malformed auth code."));
            }
            if form.get("redirect_uri") != Some(&c.redirect_uri) {
                return fail(err(400, "redirect_uri_mismatch", "Bad Request"));
            }
            if form
                .get("code_verifier")
                .is_none_or(|v| tokens::s256(v) != c.challenge)
            {
                return fail(err(400, "invalid_grant", "Invalid code verifier."));
            }
            // A refresh token only for offline access, and only at the first consent or when
            // the user consented again.
            let first = st
                .google
                .consented
                .insert((client_id.clone(), c.user.clone()));
            let refresh = c.offline && (first || c.consented_again);
            (c.scopes, c.user, refresh)
        }
        "refresh_token" => {
            let rt = form.get("refresh_token").cloned().unwrap_or_default();
            let Some(r) = st
                .google
                .refresh
                .get(&rt)
                .filter(|r| r.client_id == client_id)
            else {
                return fail(err(
                    400,
                    "invalid_grant",
                    "Token has been expired or revoked.",
                ));
            };
            (r.scopes.clone(), r.user.clone(), false)
        }
        other => {
            return fail(err(
                400,
                "unsupported_grant_type",
                format!("Invalid grant_type: {other}"),
            ));
        }
    };
    let mut out = issue(&mut st, &client_id, &user, &scopes);
    if refresh {
        let n = st.next();
        let rt = tokens::opaque("1//0g", n);
        st.google.refresh.insert(
            rt.clone(),
            Refresh {
                client_id: client_id.clone(),
                scopes: scopes.clone(),
                user: user.clone(),
            },
        );
        out["refresh_token"] = json!(rt);
    }
    if scopes.iter().any(|s| s == "openid") {
        let iat = now(&st);
        let claims = json!({
            "iss": "https://accounts.google.com",
            "azp": client_id, "aud": client_id, "sub": "1098765432101234567890",
            "email": user, "email_verified": true, "iat": iat, "exp": iat + 3600,
        });
        match shared.signer.sign(&claims) {
            Ok(id) => out["id_token"] = json!(id),
            Err(e) => return fail(err(500, "internal_failure", e.to_string())),
        }
    }
    Ok((out, client_id, None))
}

/// An opaque access token for `user`, recorded for introspection.
fn issue(st: &mut State, client_id: &str, user: &str, scopes: &[String]) -> Value {
    let n = st.next();
    let token = tokens::opaque("ya29.a0", n);
    let life = st.config.google.token_lifetime_secs;
    st.access.insert(
        token.clone(),
        Issued {
            subject: Subject::User {
                email: user.to_owned(),
            },
            client_id: client_id.to_owned(),
            aud: if scopes.iter().any(|s| s == defaults::MAIL_SCOPE) {
                defaults::MAIL_SCOPE.to_owned()
            } else {
                "https://www.googleapis.com/".to_owned()
            },
            // Introspection compares it with the real clock.
            exp: real_now() + life,
            revoked: false,
            permissions: scopes.to_vec(),
        },
    );
    json!({
        "access_token": token,
        "expires_in": life,
        "scope": scopes.join(" "),
        "token_type": "Bearer",
    })
}
