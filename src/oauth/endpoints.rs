//! Where an account's tokens come from: Microsoft's per-tenant endpoints (any cloud, or a local
//! identity provider through `authority`), Google's fixed ones, or a generic provider's, given by
//! hand or read from its issuer's `.well-known/openid-configuration`.

use serde::Deserialize;
use url::Url;

use super::OAuthError;
use crate::profile::{Account, Provider};

pub const MICROSOFT_AUTHORITY: &str = "https://login.microsoftonline.com";
pub const GOOGLE_AUTHORIZE: &str = crate::provider::google::AUTHORIZE_URL;
pub const GOOGLE_TOKEN: &str = crate::provider::google::TOKEN_URL;
pub const GOOGLE_DEVICE: &str = crate::provider::google::DEVICE_URL;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub authorize: Url,
    pub token: Url,
    pub device: Option<Url>,
}

/// The endpoints known without asking the network; `None` for a generic provider that gives
/// only its issuer (then [`discover`] asks it).
pub fn known(account: &Account) -> Result<Option<Endpoints>, OAuthError> {
    match account.provider {
        Provider::Microsoft => {
            let at = |what: &str| parse("authority", &microsoft_url(account, what));
            Ok(Some(Endpoints { authorize: at("authorize")?, token: at("token")?, device: Some(at("devicecode")?) }))
        }
        Provider::Google => Ok(Some(Endpoints {
            authorize: parse("authorize_url", account.authorize_url.as_deref().unwrap_or(GOOGLE_AUTHORIZE))?,
            token: parse("token_url", account.token_url.as_deref().unwrap_or(GOOGLE_TOKEN))?,
            device: Some(parse(
                "device_authorization_url",
                account.device_authorization_url.as_deref().unwrap_or(GOOGLE_DEVICE),
            )?),
        })),
        Provider::Generic => match (&account.authorize_url, &account.token_url) {
            (authorize, Some(token)) => Ok(Some(Endpoints {
                // Client credentials need no authorize URL; the token URL stands in so that the
                // client can be built, and a browser sign-in without one is refused before use.
                authorize: parse("authorize_url", authorize.as_deref().unwrap_or(token))?,
                token: parse("token_url", token)?,
                device: account.device_authorization_url.as_deref().map(|u| parse("device_authorization_url", u)).transpose()?,
            })),
            (_, None) if account.issuer.is_some() => Ok(None),
            _ => Err(OAuthError::Config {
                field: "token_url",
                message: format!("account \"{}\" says neither its token_url nor its issuer", account.name),
                fix: "set `issuer` (its .well-known/openid-configuration is read), or `token_url` and `authorize_url`".into(),
            }),
        },
    }
}

/// A Microsoft endpoint of the account's tenant (`token`, `authorize`, `devicecode`) at its
/// authority (another cloud, or a local identity provider), unchecked. Also what the exports show.
pub fn microsoft_url(account: &Account, what: &str) -> String {
    let authority = account
        .authority
        .as_deref()
        .unwrap_or(MICROSOFT_AUTHORITY)
        .trim_end_matches('/');
    let tenant = account
        .tenant
        .as_deref()
        .filter(|t| !t.is_empty())
        .unwrap_or("organizations");
    format!("{authority}/{tenant}/oauth2/v2.0/{what}")
}

#[derive(Deserialize)]
#[allow(clippy::struct_field_names)] // the names of the OpenID discovery document
struct Discovery {
    authorization_endpoint: Option<String>,
    token_endpoint: String,
    device_authorization_endpoint: Option<String>,
}

/// Reads a generic provider's endpoints from `{issuer}/.well-known/openid-configuration`.
pub async fn discover(account: &Account, http: &reqwest::Client) -> Result<Endpoints, OAuthError> {
    let issuer = account
        .issuer
        .as_deref()
        .unwrap_or_default()
        .trim_end_matches('/');
    let url = format!("{issuer}/.well-known/openid-configuration");
    let resp = http
        .get(&url)
        .send()
        .await
        .map_err(|e| super::network_error(&url, &e))?;
    if !resp.status().is_success() {
        return Err(OAuthError::Discovery {
            url,
            problem: format!("it answered HTTP {}", resp.status()),
        });
    }
    let d: Discovery = resp.json().await.map_err(|e| OAuthError::Discovery {
        url: url.clone(),
        problem: format!("its answer is not an OpenID configuration ({e})"),
    })?;
    let token = parse("token_url", &d.token_endpoint)?;
    Ok(Endpoints {
        authorize: d
            .authorization_endpoint
            .as_deref()
            .map_or_else(|| Ok(token.clone()), |u| parse("authorize_url", u))?,
        device: d
            .device_authorization_endpoint
            .as_deref()
            .map(|u| parse("device_authorization_url", u))
            .transpose()?,
        token,
    })
}

pub(crate) fn parse(field: &'static str, url: &str) -> Result<Url, OAuthError> {
    let parsed = Url::parse(url).map_err(|e| OAuthError::Config {
        field,
        message: format!("\"{url}\" is not a valid address ({e})"),
        fix: "give a full address such as https://login.example.com/oauth2/token".into(),
    })?;
    let loopback = match parsed.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    };
    if parsed.scheme() == "https" || (parsed.scheme() == "http" && loopback) {
        Ok(parsed)
    } else {
        Err(OAuthError::Config {
            field,
            message: format!(
                "\"{url}\" must use https (http is allowed only for this computer: localhost, 127.0.0.1, ::1)"
            ),
            fix: "use the https:// address of the identity provider".into(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Flow, presets};

    #[test]
    fn microsoft_endpoints_follow_tenant_and_authority() {
        let mut a = presets::account("A", Provider::Microsoft, Flow::AppOnly);
        a.tenant = Some("contoso.onmicrosoft.com".into());
        let e = known(&a).unwrap().unwrap();
        assert_eq!(
            e.token.as_str(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        assert_eq!(
            e.device.unwrap().as_str(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/devicecode"
        );
        a.authority = Some("https://login.microsoftonline.us/".into());
        assert_eq!(
            known(&a).unwrap().unwrap().authorize.as_str(),
            "https://login.microsoftonline.us/contoso.onmicrosoft.com/oauth2/v2.0/authorize"
        );
        a.authority = Some("http://127.0.0.1:8080".into());
        assert!(known(&a).is_ok());
        a.authority = Some("http://login.example.com".into());
        assert!(matches!(
            known(&a),
            Err(OAuthError::Config {
                field: "authority",
                ..
            })
        ));
    }

    #[test]
    fn generic_needs_token_url_or_issuer() {
        let mut a = presets::account("G", Provider::Generic, Flow::Delegated);
        assert!(known(&a).is_err());
        a.issuer = Some("https://id.example.com".into());
        assert_eq!(known(&a).unwrap(), None);
        a.token_url = Some("https://id.example.com/token".into());
        assert_eq!(
            known(&a).unwrap().unwrap().token.as_str(),
            "https://id.example.com/token"
        );
    }
}
