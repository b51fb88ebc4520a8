//! The set-up script's result read back: the JSON object between [`RESULT_BEGIN`] and
//! [`RESULT_END`] (the rest of a pasted Cloud Shell transcript is ignored), checked against the
//! account it is for (another tenant, app or account is refused, naming what differs), then
//! put into the account. The client secret is handed back apart, for the keyring: it never goes
//! into the profile. Pure: the caller reads the input (bounded) and saves.

use secrecy::SecretString;
use serde::Deserialize;

use super::{RESULT_BEGIN, RESULT_END, is_placeholder_client_id, is_shared_tenant};
use crate::diagnosis::SetupStep;
use crate::export::ms_tenant;
use crate::profile::{Account, Flow};

/// The most a pasted result (with the transcript around it) may hold; a result is about 1 KiB.
pub const MAX_RESULT_BYTES: usize = 64 * 1024;

/// The result as the script prints it (PowerShell's ConvertTo-Json of one ordered table).
/// No `Debug`: it holds the secret as a plain string until [`parse`] wraps it.
#[derive(Deserialize)]
struct Raw {
    mailcfg_setup: u32,
    #[serde(default)]
    account: Option<String>,
    #[serde(default)]
    tenant: Option<String>,
    #[serde(default)]
    tenant_id: Option<String>,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    enterprise_object_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    client_secret_expires: Option<String>,
    #[serde(default)]
    steps_done: Vec<SetupStep>,
    #[serde(default)]
    steps_already_done: Vec<SetupStep>,
    #[serde(default)]
    failed_step: Option<String>,
    #[serde(default)]
    what_if: bool,
}

/// What one run of the script reports. `Debug` shows the secret as redacted (secrecy).
#[derive(Debug, Clone)]
pub struct SetupResult {
    pub account: Option<String>,
    /// The tenant the script was written for (the profile's, echoed).
    pub tenant: Option<String>,
    /// The tenant the admin signed in to (a GUID).
    pub tenant_id: Option<String>,
    pub client_id: Option<String>,
    pub enterprise_object_id: Option<String>,
    /// Only when the script created a secret in this run.
    pub client_secret: Option<SecretString>,
    pub client_secret_expires: Option<String>,
    /// The steps this run changed, and those it found done already.
    pub steps_done: Vec<SetupStep>,
    pub steps_already_done: Vec<SetupStep>,
    /// The step the script stopped at, if it did.
    pub failed_step: Option<String>,
}

impl SetupResult {
    /// Every step the script reported done, changed now or before.
    pub fn reported(&self) -> Vec<SetupStep> {
        let mut all = self.steps_done.clone();
        all.extend(self.steps_already_done.iter().cloned());
        all
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResultError {
    #[error("the result is larger than {limit} KiB, so it is not the set-up script's", limit = MAX_RESULT_BYTES / 1024)]
    TooLarge,
    #[error("no set-up result found: the text has no line \"{RESULT_BEGIN}\"")]
    NotFound,
    #[error("the result is cut off: \"{RESULT_BEGIN}\" has no \"{RESULT_END}\" after it")]
    CutOff,
    #[error("the result is not the set-up script's JSON: {0}")]
    Malformed(String),
    #[error("this is the result of a -WhatIf run, which changed nothing")]
    WhatIf,
    #[error("{field} \"{value}\" in the result is not {expected}")]
    BadValue {
        field: &'static str,
        value: String,
        expected: &'static str,
    },
    #[error("the result is for {field} \"{result}\", and the account has \"{profile}\"")]
    Mismatch {
        field: &'static str,
        profile: String,
        result: String,
    },
}

impl ResultError {
    pub fn fix(&self) -> &'static str {
        match self {
            Self::TooLarge | Self::NotFound | Self::CutOff | Self::Malformed(_) => {
                "copy everything from the BEGIN line to the END line that the script printed, and paste only that"
            }
            Self::WhatIf => "run the script again without -WhatIf, then paste its result",
            Self::BadValue { .. } => {
                "paste the result exactly as the script printed it; if it was, run the script again"
            }
            Self::Mismatch { .. } => {
                "paste the result into the account the script was made for, or make the script again from this account (\"Set it up for me…\" or `mailcfg export --format setup --account NAME`)"
            }
        }
    }
}

/// The result inside `text`: the last BEGIN…END block, or the whole text if it is the JSON alone.
pub fn parse(text: &str) -> Result<SetupResult, ResultError> {
    if text.len() > MAX_RESULT_BYTES {
        return Err(ResultError::TooLarge);
    }
    let json = match text.rfind(RESULT_BEGIN) {
        Some(start) => {
            let body = &text[start + RESULT_BEGIN.len()..];
            let end = body.find(RESULT_END).ok_or(ResultError::CutOff)?;
            &body[..end]
        }
        None if text.trim_start().starts_with('{') => text,
        None => return Err(ResultError::NotFound),
    };
    let de = &mut serde_json::Deserializer::from_str(json);
    let raw: Raw = serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        // serde's messages quote the value they refused: never the secret's.
        if path.starts_with("client_secret") && !path.starts_with("client_secret_") {
            ResultError::Malformed("client_secret is not a string".into())
        } else if path == "." {
            ResultError::Malformed(e.inner().to_string())
        } else {
            ResultError::Malformed(format!("{path}: {}", e.inner()))
        }
    })?;
    if raw.mailcfg_setup != 1 {
        return Err(ResultError::Malformed(format!(
            "mailcfg_setup is {}, and this mailcfg reads version 1: update mailcfg",
            raw.mailcfg_setup
        )));
    }
    if raw.what_if {
        return Err(ResultError::WhatIf);
    }
    let guid = |field: &'static str, v: Option<String>| -> Result<Option<String>, ResultError> {
        match v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()) {
            Some(s) if is_guid(&s) => Ok(Some(s.to_ascii_lowercase())),
            Some(s) => Err(ResultError::BadValue {
                field,
                value: shown(&s),
                expected: "a GUID (00000000-0000-0000-0000-000000000000)",
            }),
            None => Ok(None),
        }
    };
    let expires = match raw.client_secret_expires.filter(|s| !s.trim().is_empty()) {
        Some(d) if chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").is_ok() => {
            Some(d.trim().to_owned())
        }
        Some(d) => {
            return Err(ResultError::BadValue {
                field: "client_secret_expires",
                value: shown(&d),
                expected: "a date (YYYY-MM-DD)",
            });
        }
        None => None,
    };
    let secret = match raw.client_secret.filter(|s| !s.is_empty()) {
        // Entra's secrets are 16 to 64 printable characters.
        Some(s) if s.len() <= 256 && s.chars().all(|c| c.is_ascii_graphic()) => {
            Some(SecretString::from(s))
        }
        Some(_) => {
            return Err(ResultError::BadValue {
                field: "client_secret",
                value: "(not shown)".into(),
                expected: "a client secret's Value (printable characters, as Entra ID makes them)",
            });
        }
        None => None,
    };
    Ok(SetupResult {
        account: raw.account.map(|s| shown(&s)),
        tenant: raw.tenant.map(|s| shown(&s)),
        tenant_id: guid("tenant_id", raw.tenant_id)?,
        client_id: guid("client_id", raw.client_id)?,
        enterprise_object_id: guid("enterprise_object_id", raw.enterprise_object_id)?,
        client_secret: secret,
        client_secret_expires: expires,
        steps_done: raw.steps_done,
        steps_already_done: raw.steps_already_done,
        failed_step: raw.failed_step.map(|s| shown(&s)),
    })
}

/// A value from the input, made safe for a terminal and short enough for a message.
fn shown(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).take(200).collect()
}

fn is_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
}

/// What reading a result changed in the account, each as a sentence for the user.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applied {
    pub changes: Vec<String>,
}

/// Checks that `r` is a result for `account`, without changing anything.
pub fn check(r: &SetupResult, account: &Account) -> Result<(), ResultError> {
    let differs = |a: &str, b: &str| !a.trim().eq_ignore_ascii_case(b.trim());
    if let Some(name) = r.account.as_deref().filter(|n| *n != account.name) {
        return Err(ResultError::Mismatch {
            field: "the account",
            profile: account.name.clone(),
            result: name.to_owned(),
        });
    }
    let tenant = ms_tenant(account);
    if let Some(t) = r.tenant.as_deref().filter(|t| differs(t, tenant)) {
        return Err(ResultError::Mismatch {
            field: "the tenant",
            profile: tenant.to_owned(),
            result: t.to_owned(),
        });
    }
    if let Some(id) = r.tenant_id.as_deref()
        && is_guid(tenant.trim())
        && differs(id, tenant)
    {
        return Err(ResultError::Mismatch {
            field: "the tenant ID",
            profile: tenant.to_owned(),
            result: id.to_owned(),
        });
    }
    if let Some(id) = r.client_id.as_deref()
        && !is_placeholder_client_id(&account.client_id)
        && differs(id, &account.client_id)
    {
        return Err(ResultError::Mismatch {
            field: "the client ID",
            profile: account.client_id.trim().to_owned(),
            result: id.to_owned(),
        });
    }
    Ok(())
}

/// Puts a checked result into the account: the tenant where it had none that works, the client
/// ID where it had a placeholder, the enterprise object ID, the secret's expiry.
pub fn apply(r: &SetupResult, account: &mut Account) -> Result<Applied, ResultError> {
    check(r, account)?;
    let mut changes = Vec::new();
    let tenant = ms_tenant(account).to_owned();
    let tenant_unusable = account
        .tenant
        .as_deref()
        .is_none_or(|t| t.trim().is_empty())
        || (account.flow == Flow::AppOnly && is_shared_tenant(&tenant));
    if let Some(id) = r.tenant_id.as_deref().filter(|_| tenant_unusable) {
        changes.push(format!("tenant: {id} (was {tenant})"));
        account.tenant = Some(id.to_owned());
    }
    if let Some(id) = r.client_id.as_deref()
        && is_placeholder_client_id(&account.client_id)
    {
        changes.push(format!("client ID: {id}"));
        id.clone_into(&mut account.client_id);
    }
    if let Some(oid) = r.enterprise_object_id.as_deref() {
        match account.enterprise_object_id.as_deref() {
            Some(old) if old.eq_ignore_ascii_case(oid) => {}
            Some(old) => {
                changes.push(format!(
                    "enterprise object ID: {oid} (was {old}, probably the App registration's Object ID)"
                ));
                account.enterprise_object_id = Some(oid.to_owned());
            }
            None => {
                changes.push(format!("enterprise object ID: {oid}"));
                account.enterprise_object_id = Some(oid.to_owned());
            }
        }
    }
    if let Some(d) = &r.client_secret_expires
        && account.client_secret_expires.as_ref() != Some(d)
    {
        changes.push(format!("client secret expires: {d}"));
        account.client_secret_expires = Some(d.clone());
    }
    Ok(Applied { changes })
}
