//! `mailcfg secret`: an account's client secret into the OS keyring (from standard input, never
//! the command line), a Google service account's JSON key (its private key into the keyring, its
//! address, key ID and token endpoint into the profile), or `--delete` for all of them.

use std::path::Path;

use super::output::{say, tell};
use super::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, load_account};
use crate::oauth::service_account::{self, ServiceAccountKey};
use crate::profile::{self, Account, Profile};
use crate::secrets::{Kind, Secrets, account_entry};

/// What `mailcfg secret` was asked to do.
pub(super) enum What<'a> {
    ClientSecret,
    ServiceAccountKey(&'a Path),
    Delete,
}

pub(super) fn run(path: &Path, account: &str, what: &What<'_>) -> u8 {
    let loaded = match what {
        What::ServiceAccountKey(_) => load_for_import(path, account),
        _ => load_account(path, account),
    };
    let Some((p, acc)) = loaded else {
        return EXIT_BAD_INPUT;
    };
    // The key file is checked before the keyring is opened: a bad file is bad input anywhere.
    let key = match what {
        What::ServiceAccountKey(file) => match read_key(file, &acc) {
            Ok(k) => Some(k),
            Err(code) => return code,
        },
        _ => None,
    };
    let secrets = Secrets::open();
    if !secrets.is_persistent() {
        // Storing in this process's memory would end with the process: say it plainly.
        tell!(
            "mailcfg secret: error: no OS keyring is available ({}), so nothing was stored",
            secrets
                .unavailable_reason()
                .unwrap_or("no Secret Service answered")
        );
        tell!(
            "    fix: run it in a desktop session with an unlocked keyring (GNOME Keyring or KWallet), or, headless, give the secret to each command in {} (a service account's key file in {})",
            crate::secrets::CLIENT_SECRET_ENV,
            service_account::KEY_FILE_ENV
        );
        return EXIT_FAILED;
    }
    let entry = account_entry(&acc.name);
    match what {
        What::Delete => delete(&secrets, &entry, &acc),
        What::ClientSecret => client_secret(&secrets, &entry, &acc),
        What::ServiceAccountKey(_) => match key {
            Some(k) => import(&secrets, &entry, path, p, &acc, &k),
            None => EXIT_FAILED,
        },
    }
}

fn delete(secrets: &Secrets, entry: &str, acc: &Account) -> u8 {
    let result = [
        Kind::ClientSecret,
        Kind::RefreshToken,
        Kind::ServiceAccountKey,
    ]
    .into_iter()
    .try_for_each(|k| secrets.set(entry, k, None));
    match result {
        Ok(()) => {
            say!(
                "Removed the client secret, service account key and saved sign-in of account \"{}\" from the OS keyring.",
                acc.name
            );
            EXIT_OK
        }
        Err(e) => {
            tell!("mailcfg secret: error: {e}");
            EXIT_FAILED
        }
    }
}

fn client_secret(secrets: &Secrets, entry: &str, acc: &Account) -> u8 {
    if acc.is_service_account() {
        tell!(
            "mailcfg secret: error: account \"{}\" is a Google service account, which signs with its key, not a client secret",
            acc.name
        );
        tell!(
            "    fix: import its JSON key: `mailcfg secret --profile … --account {} --service-account-key KEY.json`",
            acc.name
        );
        return EXIT_BAD_INPUT;
    }
    let line = match read_secret_line() {
        Ok(l) => l,
        Err(why) => {
            tell!("mailcfg secret: error: {why}");
            return EXIT_BAD_INPUT;
        }
    };
    let line = line.trim_end_matches(['\r', '\n']);
    if line.is_empty() {
        tell!("mailcfg secret: error: standard input held no secret");
        tell!(
            "    fix: pipe the secret's Value in, e.g. `secret-tool lookup …  | mailcfg secret --profile P --account A`, or type it and press Enter"
        );
        return EXIT_BAD_INPUT;
    }
    let value = secrecy::SecretString::from(line.to_owned());
    match secrets.set(entry, Kind::ClientSecret, Some(&value)) {
        Ok(()) => {
            say!(
                "Stored the client secret of account \"{}\" in the OS keyring (service \"{}\", entry \"{entry}\").",
                acc.name,
                crate::secrets::SERVICE
            );
            EXIT_OK
        }
        Err(e) => {
            tell!("mailcfg secret: error: {e}; nothing was stored");
            EXIT_FAILED
        }
    }
}

/// The profile and account a key is imported into: the fields the import sets may be missing
/// (that is what it is for); any other error is said, and `None`.
fn load_for_import(path: &Path, account: &str) -> Option<(Profile, Account)> {
    let (p, findings) = match profile::read(path) {
        Ok(x) => x,
        Err(e) => {
            super::print_findings(&e.findings);
            return None;
        }
    };
    let i = p.accounts.iter().position(|a| a.name == account);
    let set_by_import = |f: &profile::Finding| {
        i.is_some_and(|i| {
            ["client_email", "private_key_id", "client_id"]
                .iter()
                .any(|k| f.key() == format!("accounts[{i}].{k}"))
        })
    };
    let blocking: Vec<profile::Finding> = findings
        .iter()
        .filter(|f| f.severity == profile::Severity::Error && !set_by_import(f))
        .cloned()
        .collect();
    if !blocking.is_empty() {
        super::print_findings(&findings);
        return None;
    }
    let Some(acc) = p.account(account).cloned() else {
        tell!(
            "{}: error: no connected account named \"{account}\"",
            path.display()
        );
        tell!(
            "    fix: use one of: {}",
            super::names(p.accounts.iter().map(|a| a.name.as_str()))
        );
        return None;
    };
    Some((p, acc))
}

/// The key file, read and checked; a refusal is said (naming the field) and is bad input.
fn read_key(file: &Path, acc: &Account) -> Result<ServiceAccountKey, u8> {
    if !acc.is_service_account() {
        tell!(
            "mailcfg secret: error: account \"{}\" is not a Google service account (provider = \"{}\", flow = \"{}\")",
            acc.name,
            acc.provider,
            acc.flow
        );
        tell!(
            "    fix: set `provider = \"google\"` and `flow = \"app-only\"` for a Google Workspace service account with domain-wide delegation"
        );
        return Err(EXIT_BAD_INPUT);
    }
    service_account::read_key_file(file).map_err(|e| {
        tell!("{}: error: {e}", file.display());
        EXIT_BAD_INPUT
    })
}

/// The private key into the keyring, the rest into the profile (only what changed, written
/// atomically).
fn import(
    secrets: &Secrets,
    entry: &str,
    path: &Path,
    mut p: Profile,
    acc: &Account,
    key: &ServiceAccountKey,
) -> u8 {
    if let Err(e) = secrets.set(entry, Kind::ServiceAccountKey, Some(&key.private_key)) {
        tell!("mailcfg secret: error: {e}; nothing was stored");
        return EXIT_FAILED;
    }
    say!(
        "Stored the private key {} of {} in the OS keyring (service \"{}\", entry \"{entry}\"); it is never written to the profile.",
        key.private_key_id,
        key.client_email,
        crate::secrets::SERVICE
    );
    let Some(a) = p.accounts.iter_mut().find(|a| a.name == acc.name) else {
        return EXIT_FAILED;
    };
    let changed = apply_key(a, key);
    if changed.is_empty() {
        say!("The profile already names this service account and key.");
        return EXIT_OK;
    }
    match profile::save(&p, path) {
        Ok(()) => {
            say!("Updated account \"{}\" in {}:", acc.name, path.display());
            for (field, value) in &changed {
                say!("  {field} = \"{value}\"");
            }
            // What the profile still lacks, now that the key's fields are in.
            for f in profile::validate(&p, path.parent()) {
                tell!("{}: {f}", path.display());
            }
            say!(
                "Domain-wide delegation: in the Admin console → Security → Access and data control → API controls → Domain-wide delegation, add the Client ID {} with the scope {}.",
                key.client_id,
                crate::provider::google::MAIL_SCOPE
            );
            EXIT_OK
        }
        Err(e) => {
            tell!("{}: error: cannot update the profile: {e}", path.display());
            tell!(
                "    fix: set these in account \"{}\" by hand: {}",
                acc.name,
                changed
                    .iter()
                    .map(|(k, v)| format!("{k} = \"{v}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            EXIT_FAILED
        }
    }
}

/// Sets the account's service-account fields from the key; returns what changed.
pub fn apply_key(a: &mut Account, key: &ServiceAccountKey) -> Vec<(&'static str, String)> {
    let mut changed = Vec::new();
    let mut set = |field: &'static str, slot: &mut Option<String>, value: &str| {
        if slot.as_deref() != Some(value) {
            *slot = Some(value.to_owned());
            changed.push((field, value.to_owned()));
        }
    };
    set("client_email", &mut a.client_email, &key.client_email);
    set("private_key_id", &mut a.private_key_id, &key.private_key_id);
    // Google's own endpoint is the default; another (a test identity provider) is kept.
    let default = a.token_url.is_none() && key.token_uri == crate::provider::google::TOKEN_URL;
    if !default {
        set("token_url", &mut a.token_url, &key.token_uri);
    }
    if a.client_id != key.client_id {
        a.client_id.clone_from(&key.client_id);
        changed.push(("client_id", key.client_id.clone()));
    }
    changed
}

/// Longest secret read from standard input (an Entra secret is 40 characters).
const MAX_SECRET_BYTES: u64 = 64 * 1024;

/// The first line of standard input, read no further than [`MAX_SECRET_BYTES`].
fn read_secret_line() -> Result<String, String> {
    use std::io::{BufRead as _, Read as _};
    let mut line = Vec::new();
    std::io::stdin()
        .lock()
        .take(MAX_SECRET_BYTES + 1)
        .read_until(b'\n', &mut line)
        .map_err(|e| format!("cannot read the secret from standard input: {e}"))?;
    if line.len() as u64 > MAX_SECRET_BYTES {
        return Err(format!(
            "standard input holds more than {} KB before its first line end: that is not a secret",
            MAX_SECRET_BYTES / 1024
        ));
    }
    String::from_utf8(line).map_err(|_| "the secret is not UTF-8 text".to_owned())
}
