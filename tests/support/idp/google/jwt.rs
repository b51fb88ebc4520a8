//! The jwt-bearer grant of a service account, checked as Google checks it, in its order: the
//! JWT's shape, the issuer (a known service account), the key (its `kid`, not deleted) and the
//! RS256 signature, `aud`, the times by the IdP's clock, the scope, the user, the delegation.

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use super::{GError, Outcome, Shared, err, issue, now};

const TIMEFRAME: &str = "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. Check your iat and exp values in the JWT claim.";
const BAD_SIGNATURE: &str = "Invalid JWT Signature.";
/// Google's leeway for a JWT issued a little in the future.
const LEEWAY_SECS: i64 = 60;

// Google's checks in Google's order read best as one list.
#[allow(clippy::too_many_lines)]
pub(super) fn jwt_bearer(shared: &Shared, form: &HashMap<String, String>) -> Outcome {
    let assertion = form.get("assertion").cloned().unwrap_or_default();
    let mut st = shared.lock();
    let header = jsonwebtoken::decode_header(&assertion).map_err(|_| {
        (
            err(
                400,
                "invalid_grant",
                "Invalid JWT: the assertion is not a JWT.",
            ),
            None,
            None,
        )
    })?;
    let unverified: Value = jsonwebtoken::dangerous::insecure_decode::<Value>(&assertion)
        .map(|d| d.claims)
        .map_err(|_| {
            (
                err(
                    400,
                    "invalid_grant",
                    "Invalid JWT: the claims cannot be read.",
                ),
                None,
                None,
            )
        })?;
    let field = |k: &str| unverified.get(k).and_then(Value::as_str).map(str::to_owned);
    let sub = field("sub");
    let fail = |e: GError, client: Option<String>| Err((e, client, sub.clone()));
    let iss = field("iss").unwrap_or_default();
    let Some(sa) = st
        .config
        .google
        .service_accounts
        .iter()
        .find(|s| s.client_email == iss)
        .cloned()
    else {
        return fail(
            err(401, "invalid_client", "The OAuth client was not found."),
            None,
        );
    };
    let client = Some(sa.client_id.clone());
    if header.alg != Algorithm::RS256 {
        return fail(err(400, "invalid_grant", BAD_SIGNATURE), client);
    }
    let key = header
        .kid
        .as_deref()
        .and_then(|kid| sa.keys.iter().find(|k| k.id == kid && !k.deleted));
    let Some(key) = key else {
        return fail(err(400, "invalid_grant", BAD_SIGNATURE), client);
    };
    let mut v = Validation::new(Algorithm::RS256);
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    if jsonwebtoken::decode::<Value>(&assertion, &DecodingKey::from_rsa_der(&key.public_der), &v)
        .is_err()
    {
        return fail(err(400, "invalid_grant", BAD_SIGNATURE), client);
    }
    let token_url = format!("{}/token", shared.base_url);
    if field("aud").as_deref() != Some(token_url.as_str()) {
        return fail(
            err(
                400,
                "invalid_grant",
                format!("Invalid JWT: the audience must be {token_url}."),
            ),
            client,
        );
    }
    let time = |k: &str| unverified.get(k).and_then(Value::as_i64);
    let t = now(&st);
    match (time("iat"), time("exp")) {
        (Some(iat), Some(exp))
            if iat <= t + LEEWAY_SECS && exp > t && exp - iat <= 3600 && exp > iat => {}
        _ => return fail(err(400, "invalid_grant", TIMEFRAME), client),
    }
    let scopes: Vec<String> = field("scope")
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    if scopes.is_empty()
        || scopes
            .iter()
            .any(|s| !super::KNOWN_SCOPES.contains(&s.as_str()))
    {
        return fail(
            err(
                400,
                "invalid_scope",
                "Invalid OAuth scope or ID token audience provided.",
            ),
            client,
        );
    }
    let Some(user) = sub.clone().filter(|u| {
        st.config
            .google
            .domain_users
            .iter()
            .any(|d| d.eq_ignore_ascii_case(u))
    }) else {
        return fail(
            err(400, "invalid_grant", "Invalid email or User ID"),
            client,
        );
    };
    let granted = st
        .config
        .google
        .delegation
        .iter()
        .find(|(c, _)| *c == sa.client_id)
        .is_some_and(|(_, g)| scopes.iter().all(|s| g.contains(s)));
    if !granted {
        return fail(
            err(
                401,
                "unauthorized_client",
                "Client is unauthorized to retrieve access tokens using this method, or client not authorized for any of the scopes requested.",
            ),
            client,
        );
    }
    let out = issue(&mut st, &sa.client_id, &user.to_lowercase(), &scopes);
    Ok((out, sa.client_id, Some(user)))
}
