//! Secrets (client secrets, refresh tokens, passwords) in the OS keyring, service `mailcfg`, one
//! entry per account. Where no keyring is reachable (a Linux box without a Secret Service), they are
//! kept in memory for this session only, and [`Secrets::notice`] says so once: never in a file.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

/// The keyring service name shared by all entries.
pub const SERVICE: &str = "mailcfg";
/// Overrides the keyring's client secret for the account in use (headless use, CI), as Azure's own
/// SDKs read `AZURE_CLIENT_SECRET`.
pub const CLIENT_SECRET_ENV: &str = "MAILCFG_CLIENT_SECRET";

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the OS keyring refused to {action} the entry for {entry}: {reason}")]
    Keyring {
        action: &'static str,
        entry: String,
        reason: String,
    },
    #[error("the keyring entry for {entry} is damaged; delete it and enter the secret again")]
    Damaged { entry: String },
}

/// What one account keeps in its keyring entry.
#[derive(Default, Serialize, Deserialize)]
struct Stored {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    password: Option<String>,
    /// A Google service account's private key (PEM), from its JSON key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service_account_key: Option<String>,
}

/// Which secret of an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    ClientSecret,
    RefreshToken,
    Password,
    /// A Google service account's private key (PEM).
    ServiceAccountKey,
}

impl Kind {
    /// What stands in for this secret wherever it would be shown.
    fn shown(self) -> &'static str {
        match self {
            Kind::ClientSecret => "<client secret: masked>",
            Kind::RefreshToken => "<refresh token: masked>",
            Kind::Password => "<password: masked>",
            Kind::ServiceAccountKey => "<service account key: masked>",
        }
    }

    fn slot(self, s: &mut Stored) -> &mut Option<String> {
        match self {
            Kind::ClientSecret => &mut s.client_secret,
            Kind::RefreshToken => &mut s.refresh_token,
            Kind::Password => &mut s.password,
            Kind::ServiceAccountKey => &mut s.service_account_key,
        }
    }
}

/// The secret store of this process: the OS keyring, or memory when there is none.
#[derive(Clone)]
pub struct Secrets {
    os: bool,
    notice: Option<String>,
    /// Why there is no OS keyring, when there is none.
    reason: Option<String>,
    /// Memory fallback, and what the keyring refused to store this session.
    memory: Arc<Mutex<HashMap<String, String>>>,
}

impl Secrets {
    /// Opens the platform keyring once per process; falls back to memory with a notice.
    pub fn open() -> Self {
        static STATUS: OnceLock<Result<(), String>> = OnceLock::new();
        let status = STATUS.get_or_init(|| match keyring::Entry::store_status() {
            Ok(()) => Ok(()),
            Err(e) => {
                // keyring's own constructor refuses every entry once its store failed; with
                // keyring-core's in-memory store as the default, entries live for this process.
                if let Ok(store) = keyring_core::mock::Store::new() {
                    keyring_core::set_default_store(store);
                }
                Err(e.to_string())
            }
        });
        match status {
            Ok(()) => Self::with_backend(true, None),
            Err(reason) => Self::with_backend(false, Some(reason.clone())),
        }
    }

    /// A store that never touches the OS keyring (tests, and `--no-keyring` use).
    pub fn memory_only() -> Self {
        Self::with_backend(false, Some("memory-only mode was chosen".to_owned()))
    }

    /// `reason`: why there is no OS keyring (`None` when there is one).
    fn with_backend(os: bool, reason: Option<String>) -> Self {
        Self {
            os,
            notice: reason.as_deref().map(no_keyring_notice),
            reason,
            memory: Arc::default(),
        }
    }

    /// Why no OS keyring could be used, when none could.
    pub fn unavailable_reason(&self) -> Option<&str> {
        self.reason.as_deref()
    }

    /// Said once where secrets cannot be kept beyond this session.
    pub fn notice(&self) -> Option<&str> {
        self.notice.as_deref()
    }

    pub fn is_persistent(&self) -> bool {
        self.os
    }

    /// The client secret for an account: `MAILCFG_CLIENT_SECRET` first, then the keyring.
    pub fn client_secret(&self, entry: &str) -> Result<Option<SecretString>, SecretError> {
        match client_secret_from_env() {
            Some(s) => Ok(Some(s)),
            None => self.get(entry, Kind::ClientSecret),
        }
    }

    pub fn get(&self, entry: &str, kind: Kind) -> Result<Option<SecretString>, SecretError> {
        let mut stored = self.read(entry)?;
        let value = kind.slot(&mut stored).take();
        if let Some(v) = &value {
            register(v, kind);
        }
        Ok(value.map(SecretString::from))
    }

    /// Stores (or with `None`, removes) one secret of an entry, keeping the others.
    pub fn set(
        &self,
        entry: &str,
        kind: Kind,
        value: Option<&SecretString>,
    ) -> Result<(), SecretError> {
        let mut stored = self.read(entry)?;
        if let Some(v) = value {
            register(v.expose_secret(), kind);
        }
        *kind.slot(&mut stored) = value.map(|v| v.expose_secret().to_owned());
        self.write(entry, &stored)
    }

    /// Moves everything kept under `from` to `to` (an account renamed), leaving `from` empty.
    /// Nothing under `from`: nothing is done (`to` keeps what it has).
    pub fn rename(&self, from: &str, to: &str) -> Result<(), SecretError> {
        let stored = self.read(from)?;
        let empty = stored.client_secret.is_none()
            && stored.refresh_token.is_none()
            && stored.password.is_none()
            && stored.service_account_key.is_none();
        if empty || from == to {
            return Ok(());
        }
        self.write(to, &stored)?;
        self.write(from, &Stored::default())
    }

    fn read(&self, entry: &str) -> Result<Stored, SecretError> {
        let raw = if let Some(v) = self.memory_get(entry) {
            Some(v)
        } else if self.os {
            let e = os_entry(entry, "read")?;
            match e.get_password() {
                Ok(v) => Some(v),
                Err(keyring_core::Error::NoEntry) => None,
                Err(err) => return Err(keyring_error("read", entry, &err)),
            }
        } else {
            None
        };
        match raw {
            None => Ok(Stored::default()),
            Some(json) => serde_json::from_str(&json).map_err(|_| SecretError::Damaged {
                entry: entry.to_owned(),
            }),
        }
    }

    fn write(&self, entry: &str, stored: &Stored) -> Result<(), SecretError> {
        let empty = stored.client_secret.is_none()
            && stored.refresh_token.is_none()
            && stored.password.is_none()
            && stored.service_account_key.is_none();
        let json = serde_json::to_string(stored).map_err(|_| SecretError::Damaged {
            entry: entry.to_owned(),
        })?;
        if !self.os {
            self.memory_put(entry, (!empty).then_some(json));
            return Ok(());
        }
        let e = os_entry(entry, "write")?;
        let result = if empty {
            match e.delete_credential() {
                Err(keyring_core::Error::NoEntry) => Ok(()),
                other => other,
            }
        } else {
            e.set_password(&json)
        };
        if let Err(err) = result {
            // The secret still works for this session; the caller tells the user it was not kept.
            self.memory_put(entry, (!empty).then_some(json));
            return Err(keyring_error("write", entry, &err));
        }
        self.memory_put(entry, None);
        Ok(())
    }

    fn memory_get(&self, entry: &str) -> Option<String> {
        self.memory.lock().ok()?.get(entry).cloned()
    }

    fn memory_put(&self, entry: &str, value: Option<String>) {
        if let Ok(mut m) = self.memory.lock() {
            match value {
                Some(v) => m.insert(entry.to_owned(), v),
                None => m.remove(entry),
            };
        }
    }
}

/// Masks a secret from now on; a PEM key also line by line and as its one-line body, the forms
/// in which a part of it could be quoted.
fn register(value: &str, kind: Kind) {
    crate::redact::register(value, kind.shown());
    if kind == Kind::ServiceAccountKey {
        crate::redact::register_pem(value, kind.shown());
    }
}

fn os_entry(entry: &str, action: &'static str) -> Result<keyring_core::Entry, SecretError> {
    keyring_core::Entry::new(SERVICE, entry).map_err(|e| keyring_error(action, entry, &e))
}

fn keyring_error(action: &'static str, entry: &str, err: &keyring_core::Error) -> SecretError {
    // keyring errors describe the store, never the secret: safe to show.
    SecretError::Keyring {
        action,
        entry: entry.to_owned(),
        reason: err.to_string(),
    }
}

fn no_keyring_notice(reason: &str) -> String {
    format!(
        "No OS keyring is available ({reason}), so secrets are kept in memory for this session only and \
         must be entered again next time. On Linux, start a Secret Service (GNOME Keyring or KWallet) \
         and unlock it; headless, set {CLIENT_SECRET_ENV} (a Google service account: MAILCFG_SERVICE_ACCOUNT_KEY, its key file's path)."
    )
}

/// The systemd credential (`LoadCredential=mailcfg-client-secret:…`) that stands for
/// `MAILCFG_CLIENT_SECRET` in a service: the secret never enters the unit's environment.
pub const CLIENT_SECRET_CREDENTIAL: &str = "mailcfg-client-secret";

/// `MAILCFG_CLIENT_SECRET` when it is set and not empty, else the systemd credential
/// `mailcfg-client-secret` when the service has one: either overrides the keyring.
pub fn client_secret_from_env() -> Option<SecretString> {
    if let Some(v) = std::env::var(CLIENT_SECRET_ENV)
        .ok()
        .filter(|v| !v.is_empty())
    {
        crate::redact::register(&v, Kind::ClientSecret.shown());
        return Some(SecretString::from(v));
    }
    let dir = std::env::var_os("CREDENTIALS_DIRECTORY")?;
    read_credential(&std::path::Path::new(&dir).join(CLIENT_SECRET_CREDENTIAL))
}

/// A credential file: a regular file of at most 4 KiB, its last line break dropped.
fn read_credential(path: &std::path::Path) -> Option<SecretString> {
    let bytes = crate::files::read_limited(path, 4096).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let text = text.strip_suffix('\n').unwrap_or(&text);
    let text = text.strip_suffix('\r').unwrap_or(text);
    if text.is_empty() {
        return None;
    }
    crate::redact::register(text, Kind::ClientSecret.shown());
    Some(SecretString::from(text.to_owned()))
}

/// The keyring entry name of a connected account.
pub fn account_entry(name: &str) -> String {
    format!("account:{name}")
}

/// The keyring entry of a mailbox that signs in with a password.
pub fn mailbox_entry(name: &str) -> String {
    format!("mailbox:{name}")
}

/// The keyring entry of a transport that signs in with a password.
pub fn transport_entry(name: &str) -> String {
    format!("transport:{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_keeps_each_secret_of_an_entry_apart() {
        let s = Secrets::memory_only();
        assert!(s.notice().is_some_and(|n| n.contains("this session only")));
        let e = account_entry("A");
        s.set(&e, Kind::ClientSecret, Some(&SecretString::from("cs")))
            .unwrap();
        s.set(&e, Kind::RefreshToken, Some(&SecretString::from("rt")))
            .unwrap();
        assert_eq!(
            s.get(&e, Kind::ClientSecret)
                .unwrap()
                .unwrap()
                .expose_secret(),
            "cs"
        );
        s.set(&e, Kind::ClientSecret, None).unwrap();
        assert!(s.get(&e, Kind::ClientSecret).unwrap().is_none());
        assert_eq!(
            s.get(&e, Kind::RefreshToken)
                .unwrap()
                .unwrap()
                .expose_secret(),
            "rt"
        );
        assert!(
            s.get(&account_entry("B"), Kind::RefreshToken)
                .unwrap()
                .is_none()
        );
    }
}
