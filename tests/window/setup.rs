//! "Set it up for me…" (issue 20): the script and its plan under the account, and a pasted result
//! that fills the account (IDs into the profile, saved; the secret into the keyring, never the
//! file), the checklist told what the script did, another tenant's result refused.

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mailcfg::secrets::{Kind, Secrets, account_entry};
use mailcfg::ui::Options;

use crate::support::defaults;
use crate::*;

/// Types into the masked "Paste the result" box (it holds the secret, so it is a password field).
fn paste_result(h: &mut egui_kittest::Harness<'_, mailcfg::ui::App>, text: &str) {
    h.get_by_role_and_label(Role::PasswordInput, "Paste the result")
        .focus();
    h.run();
    h.get_by_role_and_label(Role::PasswordInput, "Paste the result")
        .type_text(text);
    h.run();
}

#[test]
fn set_it_up_for_me_shows_the_script_and_a_pasted_result_fills_the_account() {
    let cfg = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.toml");
    std::fs::copy(
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/assets/microsoft365-app-only.toml"
        ),
        &file,
    )
    .unwrap();
    let secrets = Secrets::memory_only();
    let opts = Options {
        open: Some(file.clone()),
        select: Some("account:Office365".into()),
        ..Options::default()
    };
    let mut h = harness(with(cfg.path(), opts, secrets.clone()));
    h.run();
    h.get_by_label("Set it up for me…").click();
    h.run();
    h.get_by_label("What this script will do");
    h.get_by_label("Copy script");
    h.get_by_label("Open Azure Cloud Shell");
    h.get_by_label("11. Create a client secret");
    h.get_by_label("8. Grant the app the mailbox support@contoso.com");
    // A result as Cloud Shell prints it, on one line for typing.
    let result = format!(
        "-----BEGIN MAILCFG SETUP RESULT----- {{\"mailcfg_setup\": 1, \"account\": \"Office365\", \"tenant\": \"contoso.onmicrosoft.com\", \"tenant_id\": \"{}\", \"client_id\": \"{}\", \"enterprise_object_id\": \"{}\", \"client_secret\": \"ui~Secret.Value-1\", \"client_secret_expires\": \"2027-06-30\", \"steps_done\": [{{\"step\": \"register_app\"}}], \"steps_already_done\": [], \"failed_step\": null, \"what_if\": false}} -----END MAILCFG SETUP RESULT-----",
        defaults::TENANT_ID,
        defaults::APP_CLIENT_ID,
        defaults::APP_OBJECT_ID
    );
    paste_result(&mut h, &result);
    h.get_by_label("Fill the account").click();
    h.run();
    until(&mut h, "the secret in the keyring", |_| {
        secrets
            .get(&account_entry("Office365"), Kind::ClientSecret)
            .unwrap()
            .is_some()
    });
    let acc = &h.state().profile().accounts[0];
    assert_eq!(acc.client_id, defaults::APP_CLIENT_ID);
    assert_eq!(
        acc.enterprise_object_id.as_deref(),
        Some(defaults::APP_OBJECT_ID)
    );
    assert_eq!(acc.client_secret_expires.as_deref(), Some("2027-06-30"));
    h.get_by_label("The account is filled in.");
    h.get_by_label("Sign in and test");
    h.get_by_label_contains("reported done by the set-up script");
    assert!(
        !has(&h, "ui~Secret.Value-1"),
        "the pasted secret left the field"
    );
    // The profile was clean, so the IDs are saved at once, and never the secret.
    until(&mut h, "the save", |a| !a.dirty());
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains(defaults::APP_CLIENT_ID));
    assert!(!saved.contains("ui~Secret.Value-1"));
    // Another tenant's result is refused, naming it.
    let other = result.replace("contoso.onmicrosoft.com", "fabrikam.onmicrosoft.com");
    paste_result(&mut h, &other);
    h.get_by_label("Fill the account").click();
    h.run();
    h.get_by_label_contains(
        "tenant \"fabrikam.onmicrosoft.com\", and the account has \"contoso.onmicrosoft.com\"",
    );
}
