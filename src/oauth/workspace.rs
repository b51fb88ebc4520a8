//! The token source's side of Google Workspace service accounts: the key from the keyring (or
//! `MAILCFG_SERVICE_ACCOUNT_KEY`), checked against the profile, a JWT signed for one mailbox user
//! and redeemed (`service_account.rs` reads keys, signs and redeems).

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::SystemTime;

use secrecy::SecretString;

use super::{AccessToken, OAuthError, TokenSource, endpoints, explain, service_account};
use crate::profile::Account;
use crate::secrets::{self, Kind};

impl TokenSource {
    /// A Google service account's token for one mailbox user: the key from the keyring (or
    /// `MAILCFG_SERVICE_ACCOUNT_KEY`), a JWT signed for the user, the jwt-bearer grant.
    pub(super) async fn fetch_for_user(
        &self,
        account: &Account,
        user: &str,
    ) -> Result<AccessToken, OAuthError> {
        let key = self.service_account_key(account)?;
        let token_url = account
            .token_url
            .as_deref()
            .unwrap_or(crate::provider::google::TOKEN_URL);
        endpoints::parse("token_url", token_url)?;
        let client_email = account.client_email.as_deref().unwrap_or_default();
        let key_id = account.private_key_id.as_deref().unwrap_or_default();
        let scopes: Vec<String> = if account.scopes.iter().all(|s| s.trim().is_empty()) {
            vec![crate::provider::google::MAIL_SCOPE.to_owned()]
        } else {
            account.scopes.clone()
        };
        let signing = service_account::Signing {
            client_email,
            key_id,
            scopes: &scopes,
            token_url,
            user,
        };
        let jwt = service_account::sign(&signing, &key, SystemTime::now())?;
        let cx = explain::Context {
            user: Some(user),
            scopes: &scopes,
            ..explain::Context::of(account)
        };
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let set = service_account::redeem(&self.http, token_url, &jwt, &cx).await?;
        Ok(AccessToken {
            secret: set.access_token,
            expires_at: set.expires_at,
            user: Some(user.to_owned()),
            fetched_at: SystemTime::now(),
            scopes: set.scopes.or(Some(scopes)),
            acts_for: Some(user.to_owned()),
        })
    }

    /// The service account's private key: `MAILCFG_SERVICE_ACCOUNT_KEY` (a key file), else the
    /// keyring. A key whose ID is not the profile's is refused: the profile and the key must
    /// describe the same service account.
    fn service_account_key(&self, account: &Account) -> Result<SecretString, OAuthError> {
        let import = format!(
            "import the service account's JSON key: `mailcfg secret --profile PROFILE --account {} --service-account-key KEY.json`, or Import key… in the account's form",
            account.name
        );
        if let Some(path) =
            std::env::var_os(service_account::KEY_FILE_ENV).filter(|p| !p.is_empty())
        {
            let key = service_account::read_key_file(Path::new(&path)).map_err(|e| {
                OAuthError::Config {
                    field: "service account key",
                    message: format!(
                        "{} ({}) cannot be used: {}",
                        service_account::KEY_FILE_ENV,
                        Path::new(&path).display(),
                        e.message
                    ),
                    fix: e.fix.clone(),
                }
            })?;
            if account.private_key_id.as_deref() != Some(key.private_key_id.as_str())
                || account.client_email.as_deref() != Some(key.client_email.as_str())
            {
                return Err(OAuthError::Config {
                    field: "private_key_id",
                    message: format!(
                        "the key in {} is {}'s key {}, and account \"{}\" names {}'s key {}",
                        service_account::KEY_FILE_ENV,
                        key.client_email,
                        key.private_key_id,
                        account.name,
                        account
                            .client_email
                            .as_deref()
                            .unwrap_or("(no service account)"),
                        account.private_key_id.as_deref().unwrap_or("(none)")
                    ),
                    fix: import,
                });
            }
            return Ok(key.private_key);
        }
        let entry = secrets::account_entry(&account.name);
        self.secrets
            .get(&entry, Kind::ServiceAccountKey)?
            .ok_or(OAuthError::Config {
                field: "service account key",
                message: format!(
                    "account \"{}\" signs in with a Google service account, and its key is not in the keyring",
                    account.name
                ),
                fix: format!("{import}; headless, set {} to the key file's path", service_account::KEY_FILE_ENV),
            })
    }
}

/// The user a service account's token is for: the one asked, or why there is none.
pub(super) fn mailbox_user(account: &Account, user: Option<&str>) -> Result<String, OAuthError> {
    match user.map(str::trim).filter(|u| !u.is_empty()) {
        Some(u) if account.client_email.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(u)) => {
            Err(OAuthError::Config {
                field: "user",
                message: format!(
                    "account \"{}\" would sign in as its service account {u} itself, which has no mailbox",
                    account.name
                ),
                fix: "sign in as a user of the domain: the service account only signs for them".into(),
            })
        }
        Some(u) => Ok(u.to_lowercase()),
        None => Err(OAuthError::Config {
            field: "user",
            message: format!(
                "account \"{}\" is a Google service account, which gets a token for one mailbox user at a time, and no user was named",
                account.name
            ),
            fix: "name the mailbox user (`mailcfg token … --user ADDRESS`), or give the mailbox or transport its user".into(),
        }),
    }
}
