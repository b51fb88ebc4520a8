//! `mailcfg setup-result`: the set-up script's result from standard input (bounded) into the
//! account: IDs and the secret's expiry into the profile (one atomic save), the secret into the
//! OS keyring, never the profile. Then the checklist with the steps the script reported, and the
//! test to run next.

use std::io::Read;
use std::path::Path;
use std::time::SystemTime;

use super::output::{say, tell};
use super::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, load_account};
use crate::checklist::{self, State};
use crate::diagnosis::Evidence;
use crate::export::setup::result::{self, MAX_RESULT_BYTES};
use crate::profile;
use crate::secrets::{Kind, Secrets, account_entry};

/// Standard input, at most `limit` bytes (one more tells that there was more).
fn read_bounded(limit: usize) -> Result<Vec<u8>, std::io::Error> {
    let mut buf = Vec::new();
    std::io::stdin()
        .lock()
        .take(limit as u64 + 1)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

pub(super) fn run(path: &Path, account: &str) -> u8 {
    let Some((mut p, _)) = load_account(path, account) else {
        return EXIT_BAD_INPUT;
    };
    if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        tell!("Paste the lines the set-up script printed, then press Ctrl+D:");
    }
    let bytes = match read_bounded(MAX_RESULT_BYTES) {
        Ok(b) => b,
        Err(e) => {
            tell!("mailcfg setup-result: error: cannot read standard input: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let refused = |e: &result::ResultError| {
        tell!("mailcfg setup-result: error: {e}");
        tell!("    fix: {}", e.fix());
        EXIT_BAD_INPUT
    };
    if bytes.len() > MAX_RESULT_BYTES {
        return refused(&result::ResultError::TooLarge);
    }
    let Ok(text) = String::from_utf8(bytes) else {
        return refused(&result::ResultError::Malformed(
            "it is not UTF-8 text".into(),
        ));
    };
    let r = match result::parse(&text) {
        Ok(r) => r,
        Err(e) => return refused(&e),
    };
    if let Some(secret) = &r.client_secret {
        // Masked in every output from here on, whatever prints it.
        crate::redact::register(
            secrecy::ExposeSecret::expose_secret(secret),
            "(client secret)",
        );
    }
    let Some(acc) = p.accounts.iter_mut().find(|a| a.name == account) else {
        return EXIT_BAD_INPUT;
    };
    let applied = match result::apply(&r, acc) {
        Ok(a) => a,
        Err(e) => return refused(&e),
    };
    let acc = acc.clone();
    if applied.changes.is_empty() {
        say!("The profile has these values already.");
    } else {
        if let Err(e) = profile::save(&p, path) {
            tell!("mailcfg setup-result: error: {e}");
            tell!("    fix: check that the profile's folder is writable; nothing was changed");
            return EXIT_FAILED;
        }
        say!("Saved in {}:", path.display());
        for c in &applied.changes {
            say!("  {c}");
        }
    }
    let code = match &r.client_secret {
        Some(secret) => store_secret(&acc.name, secret),
        None => EXIT_OK,
    };
    print_checklist(&p, &acc, &r.reported());
    if let Some(step) = &r.failed_step {
        tell!("The script stopped at step {step}: fix what it said and run it again.");
        return EXIT_FAILED;
    }
    if code == EXIT_OK {
        say!(
            "Next: prove it with `mailcfg test --profile {}` (Exchange can take up to an hour to apply new permissions).",
            path.display()
        );
    }
    code
}

/// The new secret into the keyring; without one, kept for this run and said so.
fn store_secret(account: &str, secret: &secrecy::SecretString) -> u8 {
    let secrets = Secrets::open();
    match secrets.set(&account_entry(account), Kind::ClientSecret, Some(secret)) {
        Ok(()) if secrets.is_persistent() => {
            say!("Stored the new client secret of account \"{account}\" in the OS keyring.");
            EXIT_OK
        }
        Ok(()) => {
            tell!(
                "warning: {}",
                secrets.notice().unwrap_or("no OS keyring is available")
            );
            // A command line run ends here: "kept for this run" would be kept nowhere.
            tell!(
                "    The client secret was NOT stored: this command ends now, and there is no keyring to keep it in. Keep the script's output (Entra ID shows the Value only once) and store the secret with `mailcfg secret --profile P --account {account}` once a keyring is available, or give it as MAILCFG_CLIENT_SECRET."
            );
            EXIT_FAILED
        }
        Err(e) => {
            tell!("mailcfg setup-result: error: {e}");
            tell!(
                "    fix: unlock the keyring and paste the result again, or store the secret with `mailcfg secret`"
            );
            EXIT_FAILED
        }
    }
}

/// The account's checklist with what the script reported.
fn print_checklist(
    p: &crate::profile::Profile,
    acc: &crate::profile::Account,
    reported: &[crate::diagnosis::SetupStep],
) {
    let mut ev = Evidence::new(p, SystemTime::now());
    ev.setup_reported = reported.iter().map(|s| (acc.name.as_str(), s)).collect();
    say!("Set-up checklist of \"{}\":", acc.name);
    for (n, item) in checklist::checklist(&ev, acc, &[], SystemTime::now())
        .iter()
        .enumerate()
    {
        let state = match item.state {
            State::Done => "done",
            State::Failed => "FAILED",
            State::Warning => "warning",
            State::Unknown => "to check",
        };
        say!("  {:>2}. {:<8} {}", n + 1, state, item.title);
    }
}
