//! A Google service account's key, imported from the window: read off the UI thread (the engine
//! stores its private key), then its address, key ID, client ID and token endpoint go into the
//! account as an edit like any other.

use std::path::PathBuf;

use super::App;
use super::jobs::Job;
use crate::engine::{KeyFacts, SecretSource};
use crate::ui::action::{Action, Edit, Nav};

impl App {
    /// Imports the key at `path` for the account shown.
    pub(super) fn import_key(&mut self, path: PathBuf) {
        let Nav::Account(i) = self.nav else {
            return;
        };
        let Some(a) = self.doc.profile.accounts.get(i) else {
            return;
        };
        let name = a.name.clone();
        self.status = Some((false, format!("Importing the key {}…", path.display())));
        let job = self.engine.import_key(&name, path);
        self.jobs.insert(job, Job::KeyImport(name));
    }

    /// The private key is stored: the rest of the key goes into the account (an unsaved change).
    pub(super) fn key_imported(&mut self, account: &str, r: Result<KeyFacts, String>) {
        let facts = match r {
            Ok(f) => f,
            Err(e) => {
                self.status = Some((true, format!("The key was not imported: {e}")));
                return;
            }
        };
        let Some(i) = self
            .doc
            .profile
            .accounts
            .iter()
            .position(|a| a.name == account)
        else {
            return;
        };
        let mut a = self.doc.profile.accounts[i].clone();
        a.client_email = Some(facts.client_email.clone());
        a.private_key_id = Some(facts.private_key_id.clone());
        a.client_id.clone_from(&facts.client_id);
        // Google's own endpoint is the default; another (a test identity provider) is kept.
        if a.token_url.is_some() || facts.token_uri != crate::provider::google::TOKEN_URL {
            a.token_url = Some(facts.token_uri.clone());
        }
        self.apply(Action::Edit(Edit::Account(i, a)));
        self.runtime
            .secrets
            .insert(account.to_owned(), SecretSource::Keyring);
        let kept = if self.engine.secrets().is_persistent() {
            "the private key is in the OS keyring"
        } else {
            "with no OS keyring, the private key is kept for this session only"
        };
        self.status = Some((
            false,
            format!(
                "Imported the key {} of {}: {kept}; save the profile to keep its address and key ID.",
                facts.private_key_id, facts.client_email
            ),
        ));
    }
}
