//! Google in the account form, against the real servers: a service account's JSON key imported
//! through Import key… (the path field where no file dialog can be shown), its private key to the
//! secret store and its address and key ID into the profile; Get token for the first mailbox's
//! user (the token card); another user's mailbox tested green with that user's token; and the
//! Desktop app's note beside Gmail's client secret.

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mailcfg::profile::{self, Flow, Profile, Protocol, Provider, presets};
use mailcfg::secrets::{Kind, Secrets, account_entry};
use mailcfg::ui::state::SignIn;
use mailcfg::ui::{Nav, TargetName};

use crate::support::TestServers;
use crate::support::idp::google::defaults as g;
use crate::*;

/// The Workspace account as a profile knows it from another machine: its address and an old key
/// ID, no key here.
fn workspace(s: &TestServers) -> Profile {
    let mut a = presets::account("Workspace", Provider::Google, Flow::AppOnly);
    a.client_id = g::SERVICE_ACCOUNT_ID.into();
    a.client_email = Some(g::SERVICE_ACCOUNT.into());
    a.private_key_id = Some("an-old-key".into());
    a.token_url = Some(s.idp.google_token_url());
    let mailbox = |u: &str| {
        let name = format!("{} IMAP", u.split('@').next().unwrap_or(u));
        let mut m = presets::GMAIL_IMAP.mailbox(&name, Protocol::Imap, u, Some("Workspace"));
        m.host = "localhost".into();
        m.port = s.ports.imaps;
        m
    };
    let mut p = Profile {
        accounts: vec![a],
        mailboxes: vec![mailbox(g::ALICE), mailbox(g::BOB)],
        ..Profile::default()
    };
    p.tls.ca_file = Some(s.ca_file().to_owned());
    p
}

#[test]
fn a_service_account_key_is_imported_then_each_user_gets_a_token_of_their_own() {
    let (_rt, s) = servers();
    let key_json = s.idp.service_account_key().unwrap();
    let key: serde_json::Value = serde_json::from_str(&key_json).unwrap();
    let key_id = key["private_key_id"].as_str().unwrap().to_owned();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key.json");
    std::fs::write(&key_file, &key_json).unwrap();
    let secrets = Secrets::memory_only();
    let cfg = tempfile::tempdir().unwrap();
    let mut h = harness(app_with(
        cfg.path(),
        workspace(&s),
        Nav::Account(0),
        secrets.clone(),
    ));
    h.run();
    h.get_by_label("Copy client ID");
    h.get_by_label("Copy scope");

    // Import key…: no file dialog here, so the path field.
    h.get_by_label("Import key…").click();
    h.run();
    h.get_by_label("Service account key (JSON)");
    type_into(&mut h, "Path", &key_file.display().to_string());
    h.get_by_role_and_label(Role::TextInput, "Path").focus();
    h.key_press(egui::Key::Enter);
    h.run();
    until(&mut h, "the import", |a| {
        a.profile().accounts[0].private_key_id.as_deref() == Some(key_id.as_str())
    });
    assert!(
        secrets
            .get(&account_entry("Workspace"), Kind::ServiceAccountKey)
            .unwrap()
            .is_some()
    );
    assert!(
        h.state().dirty(),
        "the imported fields are an unsaved change"
    );
    let text = profile::to_string(h.state().profile(), profile::Format::Toml).unwrap();
    assert!(
        !text.contains("PRIVATE KEY") && text.contains(&key_id),
        "{text}"
    );
    h.get_by_label_contains(&format!("Key {key_id}:"));

    // Get token: the first mailbox's user, Alice; the card shows what Google's answer said.
    h.get_by_label("Get token").click();
    h.run();
    until(&mut h, "the token", |a| {
        matches!(
            a.runtime().sign_ins.get("Workspace").map(|r| &r.state),
            Some(SignIn::Done(_) | SignIn::Failed(_))
        )
    });
    if let Some(SignIn::Failed(e)) = h
        .state()
        .runtime()
        .sign_ins
        .get("Workspace")
        .map(|r| &r.state)
    {
        panic!("sign-in failed: {e}");
    }
    h.get_by_label(g::MAIL_SCOPE);
    h.get_by_label(g::ALICE);
    h.get_by_label_contains("The token carries what this account's mailboxes and transports need");

    // Bob's mailbox, tested with Bob's own token.
    h.get_by_label("bob IMAP").click();
    h.run();
    h.get_by_label("Test").click();
    h.step();
    let bob = TargetName::Mailbox("bob IMAP".into());
    until(&mut h, "Bob's test", |a| tested(a, &bob));
    let r = report(h.state(), &bob);
    assert!(r.ok, "{:#?}", r.steps);
    h.get_by_label_contains("Connected: every step passed");
    let users: Vec<Option<String>> = s
        .idp
        .requests()
        .into_iter()
        .filter(|r| r.status == 200 && r.subject.is_some())
        .map(|r| r.subject)
        .collect();
    assert_eq!(users, [Some(g::ALICE.to_owned()), Some(g::BOB.to_owned())]);
}

#[test]
fn gmails_client_secret_is_asked_for_and_said_not_to_be_secret() {
    let mut a = presets::account("Gmail", Provider::Google, Flow::Delegated);
    a.client_id = g::DESKTOP_CLIENT_ID.into();
    let p = Profile {
        accounts: vec![a],
        ..Profile::default()
    };
    let cfg = tempfile::tempdir().unwrap();
    let mut h = harness(app_with(
        cfg.path(),
        p,
        Nav::Account(0),
        Secrets::memory_only(),
    ));
    h.run();
    h.get_by_label("Sign in in the browser");
    h.get_by_label_contains(
        "Google requires the client secret of a Desktop app client, though it is not secret",
    );
    h.get_by_label("Set-up checklist");
    h.get_by_label_contains("Create the project and an OAuth client of the type Desktop app");
}
