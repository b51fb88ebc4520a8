//! Google in the account form: a service account's JSON key (a file dialog, or a path typed by
//! hand where no dialog opens), where it is kept, the user whose token Get token fetches, and
//! the values domain-wide delegation takes; for a Desktop app client, why its secret is asked
//! although it is not secret. Kept in a file of its own while the window is being rebuilt.

use eframe::egui::{self, RichText};

use super::app::{App, Job, Selected};
use super::widgets;
use crate::engine::{KeyFacts, Pick, SecretSource};
use crate::profile::Flow;
use crate::provider::google::{DELEGATION_PAGE, MAIL_SCOPE};

/// Google's flows, as the form offers them: its device flow excludes the Gmail scope, and
/// app-only is a service account with domain-wide delegation.
pub const FLOWS: &[(Flow, &str)] = &[
    (
        Flow::Delegated,
        "Delegated (browser sign-in, Desktop app client)",
    ),
    (
        Flow::AppOnly,
        "App-only (service account, domain-wide delegation)",
    ),
];

/// The service account's key and sign-in user, in place of the client secret's row.
pub fn service_account(app: &mut App, ui: &mut egui::Ui, i: usize) {
    let a = app.profile.accounts[i].clone();
    let stored = app.secret_present.get(&a.name).copied();
    let kept = if app.engine.secrets().is_persistent() {
        "the private key is in the OS keyring, never in the profile"
    } else {
        "no OS keyring: the private key is kept for this session only, never in the profile"
    };
    egui::Grid::new("service-account")
        .num_columns(2)
        .spacing([14.0, 8.0])
        .min_col_width(150.0)
        .show(ui, |ui| {
            ui.label("Service account");
            ui.label(a.client_email.as_deref().unwrap_or("not imported yet"));
            ui.end_row();

            let l = ui.label("Key");
            ui.vertical(|ui| {
                let said = match (stored, a.private_key_id.as_deref()) {
                    (Some(SecretSource::Keyring), Some(id)) => format!("{id}: {kept}"),
                    (Some(SecretSource::Environment), _) => {
                        "from the key file in MAILCFG_SERVICE_ACCOUNT_KEY".to_owned()
                    }
                    (None, _) => "looking in the keyring…".to_owned(),
                    _ => "no key stored: import the service account's JSON key".to_owned(),
                };
                ui.label(said);
                ui.horizontal(|ui| {
                    if ui
                        .button("Import key…")
                        .on_hover_text("Choose the JSON key downloaded from Google Cloud")
                        .clicked()
                    {
                        app.pick(Pick::ServiceAccountKey);
                    }
                    // Room for the Import button beside it, also at 800 × 600.
                    let width = (ui.available_width() - 70.0).clamp(120.0, 260.0);
                    let path = egui::TextEdit::singleline(&mut app.key_path)
                        .hint_text("or type the key file's path")
                        .desired_width(width);
                    let r = ui.add(path).labelled_by(l.id);
                    let enter = r.lost_focus() && ui.input(|x| x.key_pressed(egui::Key::Enter));
                    let typed = app.key_path.trim().to_owned();
                    if (ui
                        .add_enabled(!typed.is_empty(), egui::Button::new("Import"))
                        .clicked()
                        || enter)
                        && !typed.is_empty()
                    {
                        import(app, typed.into());
                    }
                });
                ui.label(
                    RichText::new(
                        "Google Cloud console → IAM & Admin → Service accounts → the account → Keys → Add key → JSON.",
                    )
                    .small()
                    .weak(),
                );
            });
            ui.end_row();

            let users = app.profile.users_of(&a.name);
            let l = ui.label("Get token for");
            let mut chosen = app
                .sign_in_user
                .get(&a.name)
                .cloned()
                .or_else(|| users.first().cloned())
                .unwrap_or_default();
            egui::ComboBox::from_id_salt("sign-in-user")
                .selected_text(if chosen.is_empty() {
                    "(no mailbox user yet)"
                } else {
                    chosen.as_str()
                })
                .show_ui(ui, |ui| {
                    for u in &users {
                        ui.selectable_value(&mut chosen, u.clone(), u);
                    }
                })
                .response
                .labelled_by(l.id)
                .on_hover_text("A service account gets one token per mailbox user; IMAP and SMTP sign in as that user");
            if !chosen.is_empty() {
                app.sign_in_user.insert(a.name.clone(), chosen);
            }
            ui.end_row();

            ui.label("Domain-wide delegation");
            ui.vertical(|ui| {
                ui.horizontal(|ui| {
                    ui.label(format!("Client ID {}", a.client_id));
                    widgets::copy_button(ui, "Copy client ID", &a.client_id);
                });
                ui.horizontal(|ui| {
                    ui.label(format!("Scope {MAIL_SCOPE}"));
                    widgets::copy_button(ui, "Copy scope", MAIL_SCOPE);
                });
                ui.label(RichText::new(DELEGATION_PAGE).small().weak());
            });
            ui.end_row();
        });
}

/// Under a Google Desktop app's client secret: why it is asked for.
pub fn desktop_secret_note(ui: &mut egui::Ui) {
    ui.label(
        RichText::new(
            "Google requires the client secret of a Desktop app client, though it is not secret: Google's own documentation says a Desktop app cannot keep one. It is kept in the keyring like any secret.",
        )
        .small()
        .weak(),
    );
}

/// Imports the key at `path` for the selected account (off the UI thread).
pub fn import(app: &mut App, path: std::path::PathBuf) {
    let Selected::Account(i) = app.selected else {
        return;
    };
    let Some(a) = app.profile.accounts.get(i) else {
        return;
    };
    let name = a.name.clone();
    app.status = Some((false, format!("Importing the key {}…", path.display())));
    let job = app.engine.import_key(&name, path);
    app.jobs.insert(job, Job::KeyImport(name));
}

/// The key is in the keyring: its address, ID and token endpoint go into the account (an
/// unsaved change, as any edit).
pub fn key_imported(app: &mut App, account: &str, r: Result<KeyFacts, String>) {
    let facts = match r {
        Ok(f) => f,
        Err(e) => {
            app.status = Some((true, format!("The key was not imported: {e}")));
            return;
        }
    };
    app.key_path.clear();
    if let Some(a) = app.profile.accounts.iter_mut().find(|a| a.name == account) {
        a.client_email = Some(facts.client_email.clone());
        a.private_key_id = Some(facts.private_key_id.clone());
        a.client_id.clone_from(&facts.client_id);
        let default =
            a.token_url.is_none() && facts.token_uri == crate::provider::google::TOKEN_URL;
        if !default {
            a.token_url = Some(facts.token_uri.clone());
        }
    }
    app.secret_present
        .insert(account.to_owned(), SecretSource::Keyring);
    let kept = if app.engine.secrets().is_persistent() {
        "the private key is in the OS keyring"
    } else {
        "with no OS keyring, the private key is kept for this session only"
    };
    app.status = Some((
        false,
        format!(
            "Imported the key {} of {}: {kept}; save the profile to keep its address and key ID.",
            facts.private_key_id, facts.client_email
        ),
    ));
}
