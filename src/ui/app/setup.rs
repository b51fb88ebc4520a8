//! What "Set it up for me…" asks for (`screens/setup.rs` draws it): the pasted result of the
//! set-up script, checked, into the account (the IDs into the profile, saved at once when nothing
//! else was unsaved), the client secret into the keyring through the engine, and the steps it
//! reported done to the checklist.

use secrecy::{ExposeSecret, SecretString};

use super::App;
use crate::export::setup::result;

impl App {
    pub(super) fn setup_fill(&mut self, name: &str, pasted: &SecretString) {
        let outcome = self.fill_from(name, pasted.expose_secret());
        if let Some(view) = self.input.setup.as_mut().filter(|v| v.account == name) {
            view.outcome = Some(outcome);
        }
    }

    fn fill_from(&mut self, name: &str, pasted: &str) -> Result<Vec<String>, String> {
        let said = |e: &result::ResultError| format!("{e}.\nFix: {}", e.fix());
        let r = result::parse(pasted).map_err(|e| said(&e))?;
        let was_clean = !self.dirty();
        let Some(i) = self
            .doc
            .profile
            .accounts
            .iter()
            .position(|a| a.name == name)
        else {
            return Err(format!(
                "the account \"{name}\" is no longer in the profile"
            ));
        };
        let mut account = self.doc.profile.accounts[i].clone();
        let applied = result::apply(&r, &mut account).map_err(|e| said(&e))?;
        self.edit(crate::ui::action::Edit::Account(i, account));
        let mut said = applied.changes;
        if let Some(secret) = &r.client_secret {
            self.store_secret(name, Some(secret.clone()));
            said.push(if self.engine.secrets().is_persistent() {
                "client secret: into the OS keyring".into()
            } else {
                "client secret: kept for this session only (no OS keyring)".into()
            });
        }
        self.runtime
            .setup_reported
            .insert(name.to_owned(), r.reported());
        if let Some(step) = &r.failed_step {
            said.push(format!(
                "The script stopped at step {step}: fix what it said and run it again."
            ));
        }
        if self.dirty() {
            if was_clean && self.doc.path.is_some() {
                // Save may ask first (a profile with errors); the status bar says when it is written.
                self.save(false, false);
                said.push("Saving the profile: the status bar says when it is written.".into());
            } else {
                said.push("Save the profile (Ctrl+S) to keep the IDs.".into());
            }
        }
        if said.is_empty() {
            said.push("The profile had these values already.".into());
        }
        Ok(said)
    }
}
