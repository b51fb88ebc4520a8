//! The window's Google account form, driven headless with egui_kittest against the real test
//! servers: a service account's JSON key imported through the path field (the private key to
//! the secret store, its address and key ID into the profile), Get token for the chosen user
//! (the token card), a green Test of another user's mailbox with that user's token; and the
//! Desktop app's note beside Gmail's client secret. Kept apart from tests/ui.rs while the window
//! is being rebuilt.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(unused_imports)] // the Microsoft defaults it re-exports are not needed here
mod support;

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mailcfg::profile::{self, Flow, Profile, Protocol, Provider, presets};
use mailcfg::secrets::{Kind, Secrets, account_entry};
use mailcfg::ui::testview::Target;
use mailcfg::ui::{App, Options, SignIn};
use support::TestServers;
use support::idp::google::defaults as g;

fn harness(app: App) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1100.0, 900.0))
        .with_max_steps(50)
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app)
}

fn until(h: &mut Harness<'_, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.run();
}

/// The Workspace account as the profile knows it before the import: no key, no address.
fn workspace(s: &TestServers, key_id: &str) -> Profile {
    let mut a = presets::account("Workspace", Provider::Google, Flow::AppOnly);
    a.client_id = g::SERVICE_ACCOUNT_ID.into();
    a.client_email = Some(g::SERVICE_ACCOUNT.into());
    a.private_key_id = Some(key_id.into());
    a.token_url = Some(s.idp.google_token_url());
    let mailbox = |u: &str| {
        let mut m = presets::GMAIL_IMAP.mailbox(
            &format!("{} IMAP", &u[..u.find('@').unwrap()]),
            Protocol::Imap,
            u,
            Some("Workspace"),
        );
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
fn a_service_account_key_is_imported_by_path_then_each_user_gets_a_token() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(TestServers::start()).unwrap();
    let key_json = s.idp.service_account_key().unwrap();
    let key_id = serde_json::from_str::<serde_json::Value>(&key_json).unwrap()["private_key_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key.json");
    std::fs::write(&key_file, &key_json).unwrap();
    // The profile names another key ID: the import replaces it.
    let path = dir.path().join("workspace.toml");
    profile::save(&workspace(&s, "an-old-key"), &path).unwrap();
    let secrets = Secrets::memory_only();
    let cfg = tempfile::tempdir().unwrap();
    let app = App::new(
        Options {
            open: Some(path.clone()),
            config_dir: Some(cfg.path().to_owned()),
            ..Options::default()
        },
        secrets.clone(),
    )
    .unwrap();
    let mut h = harness(app);
    h.run();
    h.get_by_label("Import key…");
    h.get_by_label("Copy client ID");
    // In the form and in the checklist.
    assert!(
        h.query_all_by_label_contains(
            "Security → Access and data control → API controls → Domain-wide delegation"
        )
        .count()
            >= 2
    );

    // The path field (where no file dialog opens), then Enter.
    h.get_by_role_and_label(Role::TextInput, "Key").focus();
    h.run();
    h.get_by_role_and_label(Role::TextInput, "Key")
        .type_text(key_file.to_str().unwrap());
    h.run();
    h.key_press(egui::Key::Enter);
    h.run();
    until(&mut h, "the import", |a| {
        a.profile.accounts[0].private_key_id.as_deref() == Some(key_id.as_str())
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
    let text = profile::to_string(&h.state().profile, profile::Format::Toml).unwrap();
    assert!(
        !text.contains("PRIVATE KEY") && text.contains(&key_id),
        "{text}"
    );

    // Get token: the first mailbox's user, Alice.
    h.get_by_label("Get token").click();
    h.run();
    until(&mut h, "the token", |a| {
        matches!(
            a.sign_ins.get("Workspace"),
            Some(SignIn::Done(_) | SignIn::Failed(_))
        )
    });
    if let Some(SignIn::Failed(e)) = h.state().sign_ins.get("Workspace") {
        panic!("sign-in failed: {e}");
    }
    h.get_by_label(g::MAIL_SCOPE);
    h.get_by_label(g::ALICE);
    h.get_by_label_contains("The token carries what this account's mailboxes and transports need");

    // Bob's mailbox, tested with Bob's token.
    h.get_by_label("bob IMAP").click();
    h.run();
    h.get_by_label("Test").click();
    h.run();
    let bob = Target::Mailbox("bob IMAP".into());
    until(&mut h, "Bob's test", |a| {
        a.tests.get(&bob).is_some_and(|t| t.report.is_some())
    });
    let report = h.state().tests[&bob].report.clone().unwrap();
    assert!(report.ok, "{report:?}");
    h.get_by_label_contains("Connected: every step passed");
    let subjects: Vec<Option<String>> = s
        .idp
        .requests()
        .into_iter()
        .filter(|r| r.status == 200 && r.subject.is_some())
        .map(|r| r.subject)
        .collect();
    assert_eq!(
        subjects,
        [Some(g::ALICE.to_owned()), Some(g::BOB.to_owned())]
    );
}

#[test]
fn gmails_client_secret_is_asked_for_and_said_not_to_be_secret() {
    let mut a = presets::account("Gmail", Provider::Google, Flow::Delegated);
    a.client_id = g::DESKTOP_CLIENT_ID.into();
    let p = Profile {
        accounts: vec![a],
        ..Profile::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gmail.toml");
    profile::save(&p, &path).unwrap();
    let cfg = tempfile::tempdir().unwrap();
    let app = App::new(
        Options {
            open: Some(path),
            config_dir: Some(cfg.path().to_owned()),
            ..Options::default()
        },
        Secrets::memory_only(),
    )
    .unwrap();
    let mut h = harness(app);
    h.run();
    h.get_by_label("Sign in in the browser");
    h.get_by_label_contains(
        "Google requires the client secret of a Desktop app client, though it is not secret",
    );
}
