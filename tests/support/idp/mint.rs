//! The tokens the IdP mints: Entra v1-shaped access tokens (app-only with `roles`, delegated with
//! `scp`/`upn`), refresh tokens, id tokens, and the record introspection answers from.

use serde_json::{Value, json};

use super::errors::{guid, now};
use super::tokens::{self, Signer, is_exchange};
use super::{App, Grant, Issued, RefreshGrant, State, Subject};

fn iss(tid: &str) -> String {
    format!("https://sts.windows.net/{tid}/")
}

/// The claims every v1 access token has.
fn common_claims(
    st: &mut State,
    app: &App,
    tid: &str,
    aud: &str,
) -> (serde_json::Map<String, Value>, u64) {
    let iat = now();
    let exp = iat + st.config.token_lifetime.as_secs();
    let n = st.next();
    let mut c = serde_json::Map::new();
    for (k, v) in [
        ("aud", json!(aud)),
        ("iss", json!(iss(tid))),
        ("iat", json!(iat)),
        ("nbf", json!(iat)),
        ("exp", json!(exp)),
        ("aio", json!(tokens::opaque("aio", n))),
        ("app_displayname", json!(app.display_name)),
        ("appid", json!(app.client_id)),
        (
            "appidacr",
            json!(if app.secret.is_some() { "1" } else { "0" }),
        ),
        ("idp", json!(iss(tid))),
        ("rh", json!(format!("0.{}", tokens::opaque("rh", n)))),
        ("tid", json!(tid)),
        ("uti", json!(tokens::opaque("uti", n))),
        ("ver", json!("1.0")),
    ] {
        c.insert(k.to_owned(), v);
    }
    (c, exp)
}

/// Signs and records an app-only access token for `resource` (or the configured audience).
pub(super) fn mint_app(
    st: &mut State,
    signer: &Signer,
    app: &App,
    tid: &str,
    resource: &str,
) -> anyhow::Result<String> {
    let aud = st
        .config
        .audience
        .clone()
        .unwrap_or_else(|| resource.to_owned());
    let (mut c, exp) = common_claims(st, app, tid, &aud);
    c.insert("idtyp".to_owned(), json!("app"));
    c.insert("oid".to_owned(), json!(app.object_id));
    c.insert("sub".to_owned(), json!(app.object_id));
    if !app.roles.is_empty() {
        c.insert("roles".to_owned(), json!(app.roles));
    }
    let subject = Subject::App {
        client_id: app.client_id.clone(),
    };
    let roles = app.roles.clone();
    sign_and_record(st, signer, c, (subject, roles), app, aud, exp)
}

/// Signs and records a delegated access token for the grant's user. Returns it and `exp`.
pub(super) fn mint_user(
    st: &mut State,
    signer: &Signer,
    app: &App,
    g: &Grant,
) -> anyhow::Result<(String, u64)> {
    let aud = st
        .config
        .audience
        .clone()
        .unwrap_or_else(|| g.scopes.resource.clone());
    let (mut c, exp) = common_claims(st, app, &g.tenant_id, &aud);
    let user = st.config.user.clone();
    for (k, v) in [
        ("idtyp", json!("user")),
        ("acr", json!("1")),
        ("amr", json!(["pwd"])),
        ("ipaddr", json!("127.0.0.1")),
        ("name", json!(user.name)),
        ("oid", json!(user.oid)),
        ("sub", json!(user.oid)),
        ("scp", json!(g.scopes.scp())),
        ("sid", json!(guid())),
        ("unique_name", json!(g.email)),
        ("upn", json!(g.email)),
    ] {
        c.insert(k.to_owned(), v);
    }
    let subject = Subject::User {
        email: g.email.clone(),
    };
    let scp = g.scopes.scp().split(' ').map(str::to_owned).collect();
    let token = sign_and_record(st, signer, c, (subject, scp), app, aud, exp)?;
    Ok((token, exp))
}

/// The answer to a delegated grant: access token, refresh token with `offline_access`, id token
/// with `openid`.
pub(super) fn delegated_response(
    st: &mut State,
    signer: &Signer,
    base_url: &str,
    app: &App,
    g: &Grant,
    nonce: Option<&str>,
) -> anyhow::Result<Value> {
    let (access, exp) = mint_user(st, signer, app, g)?;
    let life = st.config.token_lifetime.as_secs();
    let granted = g.scopes.granted();
    let mut out = json!({
        "token_type": "Bearer",
        "scope": if granted.is_empty() { g.scopes.scp() } else { granted },
        "expires_in": life,
        "ext_expires_in": life,
        "access_token": access,
    });
    if g.scopes.has("offline_access") {
        let n = st.next();
        let rt = tokens::opaque("rt", n);
        st.refresh.insert(
            rt.clone(),
            RefreshGrant {
                grant: g.clone(),
                issued: now(),
                expired: false,
            },
        );
        out["refresh_token"] = json!(rt);
    }
    if g.scopes.has("openid") {
        let user = &st.config.user;
        let mut claims = json!({
            "aud": app.client_id,
            "iss": format!("{base_url}/{}/v2.0", g.tenant_id),
            "iat": now(),
            "nbf": now(),
            "exp": exp,
            "email": g.email,
            "name": user.name,
            "oid": user.oid,
            "preferred_username": g.email,
            "sub": user.oid,
            "tid": g.tenant_id,
            "ver": "2.0",
        });
        if let Some(n) = nonce {
            claims["nonce"] = json!(n);
        }
        out["id_token"] = json!(signer.sign(&claims)?);
    }
    Ok(out)
}

/// Whether introspection should call the token active, and for which mailbox.
pub(super) fn introspect(st: &State, token: &str) -> Option<(Issued, Option<String>)> {
    let t = st.access.get(token)?;
    // Exchange's audiences, or Google's mail scope (Google's tokens carry no audience; the IdP
    // records the scope they were granted for).
    if t.revoked
        || now() >= t.exp
        || !(is_exchange(&t.aud) || t.aud == super::google::defaults::MAIL_SCOPE)
    {
        return None;
    }
    let email = match &t.subject {
        Subject::User { email } => Some(email.clone()),
        Subject::App { client_id } => st
            .config
            .apps
            .iter()
            .find(|a| &a.client_id == client_id)
            .and_then(|a| a.app_mailbox.clone()),
    };
    Some((t.clone(), email))
}

/// Signs the claims and records the token, so that introspection knows whom it stands for.
fn sign_and_record(
    st: &mut State,
    signer: &Signer,
    claims: serde_json::Map<String, Value>,
    (subject, permissions): (Subject, Vec<String>),
    app: &App,
    aud: String,
    exp: u64,
) -> anyhow::Result<String> {
    let token = signer.sign(&Value::Object(claims))?;
    st.access.insert(
        token.clone(),
        Issued {
            subject,
            client_id: app.client_id.clone(),
            aud,
            exp,
            revoked: false,
            permissions,
        },
    );
    Ok(token)
}

/// Exchange's own checks of a token that is valid as such, for one protocol (`imap`, `pop3`,
/// `submission`): the protocol's role (app-only) or scope (delegated), the app's service principal
/// in Exchange, and the protocol switched on for the mailbox. `false`: Exchange refuses it.
pub(super) fn exchange_allows(st: &State, t: &Issued, email: Option<&str>, service: &str) -> bool {
    let (role, scope) = match service {
        "imap" => ("IMAP.AccessAsApp", "IMAP.AccessAsUser.All"),
        "pop3" => ("POP.AccessAsApp", "POP.AccessAsUser.All"),
        _ => ("SMTP.SendAsApp", "SMTP.Send"),
    };
    let permitted = match &t.subject {
        Subject::App { client_id } => {
            t.permissions.iter().any(|p| p == role)
                && st
                    .config
                    .apps
                    .iter()
                    .any(|a| &a.client_id == client_id && a.exchange_registered)
        }
        Subject::User { .. } => t.permissions.iter().any(|p| p == scope),
    };
    let off = email.is_some_and(|e| {
        st.config
            .protocols_off
            .iter()
            .any(|(s, m)| s == service && m.eq_ignore_ascii_case(e))
    });
    permitted && !off
}
