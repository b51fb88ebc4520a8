//! Google in the account form: a service account's JSON key (Import key… opens a file dialog, or
//! the path field where none can be shown), where its private key is kept, the mailbox user whose
//! token Get token fetches, and the client ID and scope domain-wide delegation takes; for a
//! Desktop app client, why its secret is asked for although it is not secret.

use eframe::egui::{self, RichText};

use crate::engine::{Pick, SecretSource};
use crate::profile::{Account, Flow};
use crate::provider::google::{DELEGATION_PAGE, MAIL_SCOPE, SERVICE_ACCOUNTS_PAGE};
use crate::ui::action::{Action, Actions};
use crate::ui::view::Ctx;
use crate::ui::widgets;

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

/// The service account's key and the user to sign in as, in place of the client secret's row.
pub fn service_account(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, a: &Account) -> Actions {
    let mut out = Actions::default();
    let present = ctx.runtime.secrets.get(&a.name).copied();
    let kept = if ctx.keyring.persistent {
        "its private key is in the OS keyring, never in the profile"
    } else {
        "its private key is kept in memory for this session only (no OS keyring), never in the profile"
    };
    let said = match (present, a.private_key_id.as_deref()) {
        (Some(SecretSource::Keyring), Some(id)) => format!("Key {id}: {kept}."),
        (Some(SecretSource::Environment), _) => {
            "The key comes from the key file in MAILCFG_SERVICE_ACCOUNT_KEY.".to_owned()
        }
        (None, _) => "Looking in the keyring…".to_owned(),
        _ => "No key stored: import the service account's JSON key.".to_owned(),
    };
    ui.horizontal_wrapped(|ui| {
        ui.label("Service account");
        ui.strong(a.client_email.as_deref().unwrap_or("not imported yet"));
    });
    ui.horizontal_wrapped(|ui| {
        let import = ui
            .button("Import key…")
            .on_hover_text("The JSON key downloaded from Google Cloud");
        out.on(import.clicked(), Action::Pick(Pick::ServiceAccountKey));
        ui.add(egui::Label::new(said).wrap());
    });
    let how =
        format!("{SERVICE_ACCOUNTS_PAGE} → the account → Keys → Add key → Create new key → JSON.");
    ui.add(egui::Label::new(RichText::new(how).weak()).wrap());

    let users = ctx.profile.users_of(&a.name);
    let chosen = ctx
        .input
        .sign_in_user
        .get(&a.name)
        .cloned()
        .filter(|u| users.contains(u))
        .or_else(|| users.first().cloned())
        .unwrap_or_default();
    let mut pick = chosen.clone();
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Get token for");
        egui::ComboBox::from_id_salt(("sign-in-user", &a.name))
            .selected_text(if pick.is_empty() { "(no mailbox user yet)" } else { pick.as_str() })
            .show_ui(ui, |ui| {
                for u in &users {
                    ui.selectable_value(&mut pick, u.clone(), u);
                }
            })
            .response
            .labelled_by(l.id)
            .on_hover_text("A service account gets one token per mailbox user; IMAP and SMTP sign in as that user");
    });
    if !pick.is_empty() {
        ctx.input.sign_in_user.insert(a.name.clone(), pick);
    }

    ui.horizontal_wrapped(|ui| {
        ui.label("Domain-wide delegation:");
        ui.label(format!("Client ID {}", a.client_id));
        widgets::copy_button(ui, "Copy client ID", &a.client_id);
        ui.label(format!("scope {MAIL_SCOPE}"));
        widgets::copy_button(ui, "Copy scope", MAIL_SCOPE);
    });
    ui.add(egui::Label::new(RichText::new(DELEGATION_PAGE).weak()).wrap());
    out
}

/// Under a Google Desktop app's client secret: why it is asked for.
pub fn desktop_secret_note(ui: &mut egui::Ui) {
    ui.add(
        egui::Label::new(
            RichText::new(
                "Google requires the client secret of a Desktop app client, though it is not secret: Google's own documentation says a Desktop app cannot keep one. It is kept in the keyring like any secret.",
            )
            .weak(),
        )
        .wrap(),
    );
}
