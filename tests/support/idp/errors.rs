//! Microsoft Entra's error replies, byte for byte in shape: the app's error explanations parse these
//! fields (`error_codes` above all), so the test double must not invent a simpler format.
//!
//! JSON (token and device-code endpoints), status 400, or 401 for `invalid_client`:
//! ```json
//! {"error":"invalid_client",
//!  "error_description":"AADSTS7000215: Invalid client secret provided. ...\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: 2026-11-24 10:04:32Z",
//!  "error_codes":[7000215],"timestamp":"2026-11-24 10:04:32Z","trace_id":"…","correlation_id":"…",
//!  "error_uri":"https://login.microsoftonline.com/error?code=7000215"}
//! ```
//! The authorize endpoint sends the same `error`/`error_description`/`error_uri` as query parameters
//! of the redirect. The codes and wordings are Entra's (see /work/shared/facts.md).

use std::fmt::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// One Entra error. `message` is the text after `AADSTSnnnn: `; the trace lines are added when it
/// is rendered, fresh each time, as Entra does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MsError {
    pub status: u16,
    pub error: String,
    pub code: u32,
    pub message: String,
}

impl MsError {
    pub fn new(status: u16, error: &str, code: u32, message: impl Into<String>) -> Self {
        Self {
            status,
            error: error.to_owned(),
            code,
            message: message.into(),
        }
    }
    fn bad(error: &str, code: u32, message: impl Into<String>) -> Self {
        Self::new(400, error, code, message)
    }
    fn client(code: u32, message: impl Into<String>) -> Self {
        Self::new(401, "invalid_client", code, message)
    }

    pub fn missing_param(name: &str) -> Self {
        Self::bad(
            "invalid_request",
            900_144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    }
    pub fn unknown_tenant(name: &str) -> Self {
        Self::bad(
            "invalid_request",
            90_002,
            format!(
                "Tenant '{name}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
            ),
        )
    }
    pub fn unknown_client(client_id: &str, tenant: &str) -> Self {
        Self::bad(
            "unauthorized_client",
            700_016,
            format!(
                "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
            ),
        )
    }
    pub fn not_multitenant(client_id: &str, name: &str) -> Self {
        Self::bad(
            "invalid_request",
            50_194,
            format!(
                "Application '{client_id}'({name}) is not configured as a multi-tenant application. Usage of the /common endpoint is not supported for such applications created after '10/15/2018'. Use a tenant-specific endpoint or configure the application to be multi-tenant."
            ),
        )
    }
    pub fn wrong_secret(client_id: &str) -> Self {
        Self::client(
            7_000_215,
            format!(
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
            ),
        )
    }
    pub fn missing_secret() -> Self {
        Self::client(
            7_000_218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        )
    }
    pub fn secret_to_public_client() -> Self {
        Self::client(
            700_025,
            "Client is public so neither 'client_assertion' nor 'client_secret' should be presented.",
        )
    }
    pub fn invalid_scope(scope: &str) -> Self {
        Self::bad(
            "invalid_scope",
            70_011,
            format!(
                "The provided value for the input parameter 'scope' is not valid. The scope '{scope}' is not valid."
            ),
        )
    }
    /// Client credentials with a scope that is not `<resource>/.default` (Entra's current code;
    /// older tenants answered AADSTS70011).
    pub fn scope_not_default(scope: &str) -> Self {
        Self::bad(
            "invalid_scope",
            1_002_012,
            format!(
                "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
            ),
        )
    }
    pub fn unknown_resource(resource: &str, tenant: &str) -> Self {
        Self::bad(
            "invalid_resource",
            500_011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
            ),
        )
    }
    pub fn grant_needs_tenant() -> Self {
        Self::bad(
            "invalid_request",
            9_001_023,
            "The grant type isn't supported over the /common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint.",
        )
    }
    pub fn unsupported_grant(grant: &str) -> Self {
        Self::bad(
            "unsupported_grant_type",
            70_003,
            format!("The app requested an unsupported grant type '{grant}'."),
        )
    }
    pub fn unsupported_response_type(kind: &str) -> Self {
        Self::bad(
            "unsupported_response_type",
            70_005,
            format!("response_type '{kind}' is not supported."),
        )
    }
    pub fn pkce_required(what: &str) -> Self {
        Self::bad(
            "invalid_request",
            900_144,
            format!("The request body must contain the following parameter: '{what}' (S256)."),
        )
    }
    pub fn code_redeemed() -> Self {
        Self::bad(
            "invalid_grant",
            54_005,
            "OAuth2 Authorization code was already redeemed, please retry with a new valid code or use an existing refresh token.",
        )
    }
    pub fn code_expired() -> Self {
        Self::bad(
            "invalid_grant",
            70_008,
            "The provided authorization code or refresh token has expired due to inactivity. Send a new interactive authorization request for this user and resource.",
        )
    }
    pub fn malformed_grant() -> Self {
        Self::bad(
            "invalid_grant",
            9_002_313,
            "Invalid request. Request is malformed or invalid.",
        )
    }
    pub fn grant_for_other_client() -> Self {
        Self::bad(
            "invalid_grant",
            70_000,
            "Provided grant is invalid or malformed.",
        )
    }
    pub fn pkce_mismatch() -> Self {
        Self::bad(
            "invalid_grant",
            501_481,
            "The Code_Verifier does not match the code_challenge supplied in the authorization request.",
        )
    }
    pub fn no_reply_address() -> Self {
        Self::bad("invalid_request", 900_971, "No reply address provided.")
    }
    pub fn redirect_not_registered(uri: &str, client_id: &str) -> Self {
        Self::bad(
            "invalid_request",
            50_011,
            format!(
                "The redirect URI '{uri}' specified in the request does not match the redirect URIs configured for the application '{client_id}'. Make sure the redirect URI sent in the request matches one added to your application in the Azure portal. Navigate to https://aka.ms/redirectUriMismatchError to learn more about how to fix this."
            ),
        )
    }
    pub fn redirect_mismatch(sent: &str, at_authorize: &str) -> Self {
        Self::bad(
            "invalid_grant",
            500_112,
            format!(
                "The reply address '{sent}' does not match the reply address '{at_authorize}' provided when requesting Authorization code."
            ),
        )
    }
    pub fn refresh_expired(issued: u64) -> Self {
        Self::bad(
            "invalid_grant",
            700_082,
            format!(
                "The refresh token has expired due to inactivity. The token was issued on {} and was inactive for 90.00:00:00.",
                timestamp_at(issued)
            ),
        )
    }
    pub fn authorization_pending() -> Self {
        Self::bad(
            "authorization_pending",
            70_016,
            "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
        )
    }
    pub fn device_code_expired() -> Self {
        Self::bad("expired_token", 70_019, "Verification code expired.")
    }

    /// `AADSTSnnnn: message\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …`, with the ids
    /// and time used in the rest of the reply.
    fn description(&self, trace: &str, correlation: &str, timestamp: &str) -> String {
        format!(
            "AADSTS{}: {}\r\nTrace ID: {trace}\r\nCorrelation ID: {correlation}\r\nTimestamp: {timestamp}",
            self.code, self.message
        )
    }

    pub fn error_uri(&self) -> String {
        format!("https://login.microsoftonline.com/error?code={}", self.code)
    }

    /// The JSON body of a token or device-code error.
    pub fn to_json(&self) -> Value {
        let (trace, correlation, ts) = (guid(), guid(), timestamp_at(now()));
        json!({
            "error": self.error,
            "error_description": self.description(&trace, &correlation, &ts),
            "error_codes": [self.code],
            "timestamp": ts,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": self.error_uri(),
        })
    }

    /// The query parameters of an authorize error redirect (state echoed when the app sent one).
    pub fn redirect_params(&self, state: Option<&str>) -> Vec<(String, String)> {
        let (trace, correlation, ts) = (guid(), guid(), timestamp_at(now()));
        let mut p = vec![
            ("error".to_owned(), self.error.clone()),
            (
                "error_description".to_owned(),
                self.description(&trace, &correlation, &ts),
            ),
            ("error_uri".to_owned(), self.error_uri()),
        ];
        if let Some(s) = state {
            p.push(("state".to_owned(), s.to_owned()));
        }
        p
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A random GUID-shaped id (trace ids, object ids, device codes).
pub fn guid() -> String {
    let mut b = [0u8; 16];
    // The system RNG does not fail on Linux; a zero id would still be well-formed.
    let _ = aws_lc_rs::rand::fill(&mut b);
    let h = b.iter().fold(String::with_capacity(32), |mut h, x| {
        let _ = write!(h, "{x:02x}");
        h
    });
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `2026-11-24 10:04:32Z`, Entra's timestamp format (UTC), without a date crate.
pub fn timestamp_at(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
