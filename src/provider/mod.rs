//! What a provider is, in one place: its endpoints, the scopes of each flow, its server presets,
//! the issuer its exports name, and (for Google) its error catalogue and set-up steps. A new
//! provider is one entry of [`info`] and, where it has its own knowledge, one file beside this.
//! Pure data: no network, no egui.
//!
//! Microsoft's catalogue of AADSTS codes and its checklist predate this table and still live in
//! `oauth/explain.rs` and `checklist.rs`; Google's are here ([`google`]).

pub mod google;

use crate::profile::presets::{self, Server};
use crate::profile::{Flow, Provider};

/// One provider's facts.
#[derive(Debug, Clone, Copy)]
pub struct Info {
    pub provider: Provider,
    /// How people call it.
    pub name: &'static str,
    /// Fixed endpoints (Microsoft's depend on the tenant and the cloud: `oauth/endpoints.rs`).
    pub authorize_url: Option<&'static str>,
    pub token_url: Option<&'static str>,
    pub device_url: Option<&'static str>,
    /// The OAuth2 issuer that Thunderbird's autoconfig names.
    pub issuer: Option<&'static str>,
    /// The scopes a new account of each flow asks for.
    pub scopes: fn(Flow) -> &'static [&'static str],
    /// The flows that can reach its mailboxes (Google's device flow excludes the Gmail scope).
    pub flows: &'static [Flow],
    pub smtp: Option<Server>,
    pub imap: Option<Server>,
    pub pop3: Option<Server>,
}

const MICROSOFT: Info = Info {
    provider: Provider::Microsoft,
    name: "Microsoft 365",
    authorize_url: None,
    token_url: None,
    device_url: None,
    issuer: Some("login.microsoftonline.com"),
    scopes: |flow| match flow {
        Flow::AppOnly => &[presets::MS_APP_ONLY_SCOPE],
        _ => presets::MS_DELEGATED_SCOPES,
    },
    flows: &[Flow::AppOnly, Flow::Delegated, Flow::DeviceCode],
    smtp: Some(presets::MICROSOFT365_SMTP),
    imap: Some(presets::MICROSOFT365_IMAP),
    pop3: Some(presets::MICROSOFT365_POP3),
};

const GOOGLE: Info = Info {
    provider: Provider::Google,
    name: "Google",
    authorize_url: Some(google::AUTHORIZE_URL),
    token_url: Some(google::TOKEN_URL),
    device_url: Some(google::DEVICE_URL),
    issuer: Some(google::ISSUER),
    scopes: |_| &[google::MAIL_SCOPE],
    flows: &[Flow::Delegated, Flow::AppOnly],
    smtp: Some(google::SMTP),
    imap: Some(google::IMAP),
    pop3: Some(google::POP3),
};

const GENERIC: Info = Info {
    provider: Provider::Generic,
    name: "OAuth2 provider",
    authorize_url: None,
    token_url: None,
    device_url: None,
    issuer: None,
    scopes: |_| &[],
    flows: &[Flow::Delegated, Flow::AppOnly, Flow::DeviceCode],
    smtp: None,
    imap: None,
    pop3: None,
};

/// The table.
pub fn info(provider: Provider) -> &'static Info {
    match provider {
        Provider::Microsoft => &MICROSOFT,
        Provider::Google => &GOOGLE,
        Provider::Generic => &GENERIC,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_provider_has_an_entry_of_its_own() {
        for p in Provider::ALL {
            assert_eq!(info(*p).provider, *p);
        }
        assert_eq!(
            (info(Provider::Google).scopes)(Flow::AppOnly),
            ["https://mail.google.com/"]
        );
        assert!(!info(Provider::Google).flows.contains(&Flow::DeviceCode));
    }
}
