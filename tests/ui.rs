//! The window, driven headless with egui_kittest and found by its labels, against the real test
//! servers: sign in app-only at the local identity provider, test a mailbox and a transport,
//! see a failure explained, an invalid port said at its field, save and reopen, the crash draft.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::many_single_char_names
)]

mod support;

use std::path::Path;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mailcfg::profile::{self, Profile, Protocol, presets};
use mailcfg::secrets::{Kind, Secrets, account_entry};
use mailcfg::ui::testview::Target;
use mailcfg::ui::{App, Options, Selected, SignIn};
use support::{TestServers, defaults};

fn harness(app: App) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(1100.0, 900.0))
        .with_max_steps(50)
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app)
}

fn app(config: &Path, open: Option<&Path>, secrets: Secrets) -> App {
    App::new(
        Options {
            open: open.map(Path::to_path_buf),
            config_dir: Some(config.to_path_buf()),
            ..Options::default()
        },
        secrets,
    )
    .unwrap()
}

/// Steps the window until `done` holds (the engine wakes it from its own threads).
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

/// Replaces a text field's content by typing, as a person would (select all, type).
fn type_into(h: &mut Harness<'_, App>, label: &str, text: &str) {
    h.get_by_role_and_label(Role::TextInput, label).focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run();
    h.get_by_role_and_label(Role::TextInput, label)
        .type_text(text);
    h.run();
}

/// The Microsoft 365 preset, pointed at the test servers: the account at the local identity
/// provider, the transport at submission, the mailbox still at Microsoft's host (the test types
/// the local one into the form).
fn preset_for(s: &TestServers) -> Profile {
    let mut p = presets::microsoft365_profile();
    let name = p.accounts[0].name.clone();
    let a = &mut p.accounts[0];
    a.tenant = Some(defaults::TENANT_ID.into());
    defaults::APP_CLIENT_ID.clone_into(&mut a.client_id);
    a.authority = Some(s.authority().to_owned());
    let mut t = presets::MICROSOFT365_SMTP.transport("Send", defaults::MAILBOX, Some(&name));
    "127.0.0.1".clone_into(&mut t.host);
    t.port = s.ports.submission;
    p.transports = vec![t];
    p.mailboxes = vec![presets::MICROSOFT365_IMAP.mailbox(
        "Inbox",
        Protocol::Imap,
        defaults::MAILBOX,
        Some(&name),
    )];
    p.tls.ca_file = Some(s.ca_file().to_owned());
    p
}

/// [`preset_for`] with the mailbox on the local IMAPS port too.
fn all_on_servers(s: &TestServers) -> Profile {
    let mut p = preset_for(s);
    "127.0.0.1".clone_into(&mut p.mailboxes[0].host);
    p.mailboxes[0].port = s.ports.imaps;
    p
}

fn secrets_with_app_secret(account: &str) -> Secrets {
    let s = Secrets::memory_only();
    s.set(
        &account_entry(account),
        Kind::ClientSecret,
        Some(&defaults::APP_SECRET.to_owned().into()),
    )
    .unwrap();
    s
}

fn servers() -> (tokio::runtime::Runtime, TestServers) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(TestServers::start()).unwrap();
    (rt, s)
}

#[test]
fn first_start_opens_on_the_microsoft_365_preset() {
    let cfg = tempfile::tempdir().unwrap();
    let mut h = harness(app(cfg.path(), None, Secrets::memory_only()));
    h.run();
    assert_eq!(h.state().profile, presets::microsoft365_profile());
    assert_eq!(h.state().title(), "mailcfg — new profile");
    h.get_by_role_and_label(Role::TextInput, "Client ID");
    h.get_by_label("Get token");
    h.get_by_label("Office365 SMTP");
}

#[test]
fn sign_in_app_only_then_test_the_mailbox_and_the_transport_all_green() {
    let (_rt, s) = servers();
    let cfg = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m365.toml");
    let p = preset_for(&s);
    profile::save(&p, &path).unwrap();
    let mut h = harness(app(
        cfg.path(),
        Some(&path),
        secrets_with_app_secret(&p.accounts[0].name),
    ));
    h.run();

    // Sign in app-only: the token card shows the roles and no problem.
    h.get_by_label("Get token").click();
    h.run();
    until(&mut h, "the token", |a| {
        matches!(
            a.sign_ins.get("Office365"),
            Some(SignIn::Done(_) | SignIn::Failed(_))
        )
    });
    if let Some(SignIn::Failed(e)) = h.state().sign_ins.get("Office365") {
        panic!("sign-in failed: {e}");
    }
    h.get_by_label("IMAP.AccessAsApp POP.AccessAsApp SMTP.SendAsApp");
    h.get_by_label_contains("The token carries what this account's mailboxes and transports need");

    // The mailbox: type the local server into the form, then Test.
    h.get_by_label("Inbox").click();
    h.run();
    type_into(&mut h, "Host", "127.0.0.1");
    type_into(&mut h, "Port", &s.ports.imaps.to_string());
    assert_eq!(h.state().profile.mailboxes[0].port, s.ports.imaps);
    assert!(h.state().dirty(), "edits mark the profile changed");
    assert!(h.state().title().ends_with('•'), "{}", h.state().title());
    h.get_by_label("Test").click();
    h.run();
    let inbox = Target::Mailbox("Inbox".into());
    until(&mut h, "the IMAP test", |a| {
        a.tests.get(&inbox).is_some_and(|t| !t.running())
    });
    let run = h.state().tests[&inbox].clone();
    let report = run
        .report
        .as_ref()
        .unwrap_or_else(|| panic!("no report: {:?}", run.not_started));
    assert!(report.ok, "{:#?}", report.steps);
    h.get_by_label_contains("Connected: every step passed");
    for step in [
        "DNS",
        "Connect",
        "TLS",
        "Greeting",
        "Authenticate",
        "Mailbox",
        "Logout",
    ] {
        h.get_by_label(step);
    }
    assert!(
        report
            .steps
            .iter()
            .all(|e| e.status != mailcfg::probe::Status::Failed)
    );

    // The transport, the same way.
    h.get_by_label("Send").click();
    h.run();
    h.get_by_label("Test").click();
    h.run();
    let send = Target::Transport("Send".into());
    until(&mut h, "the SMTP test", |a| {
        a.tests.get(&send).is_some_and(|t| !t.running())
    });
    let r = h.state().tests[&send].report.clone().unwrap();
    assert!(r.ok, "{:#?}", r.steps);
    // One token served both tests and the card: fetched once.
    assert_eq!(
        s.idp
            .requests()
            .iter()
            .filter(|r| r.grant_type.as_deref() == Some("client_credentials"))
            .count(),
        1
    );
}

#[test]
fn a_failed_test_shows_its_diagnosis() {
    let (_rt, s) = servers();
    s.make_mailbox_unreachable(defaults::MAILBOX).unwrap();
    let cfg = tempfile::tempdir().unwrap();
    let p = all_on_servers(&s);
    let name = p.accounts[0].name.clone();
    let mut a = app(cfg.path(), None, secrets_with_app_secret(&name));
    a.profile = p;
    a.selected = Selected::Mailbox(0);
    let mut h = harness(a);
    h.run();
    h.get_by_label("Test").click();
    h.run();
    let inbox = Target::Mailbox("Inbox".into());
    until(&mut h, "the IMAP test", |a| {
        a.tests.get(&inbox).is_some_and(|t| !t.running())
    });
    let report = h.state().tests[&inbox].report.clone().unwrap();
    assert!(!report.ok);
    let d = report.diagnosis.clone().expect("a diagnosis");
    h.get_by_label(&d.title);
    h.get_by_label_contains("Fix:");
    h.get_by_label_contains("Failed after");
}

#[test]
fn an_invalid_port_is_said_at_the_field_and_the_profile_keeps_the_last_good_one() {
    let cfg = tempfile::tempdir().unwrap();
    let mut a = app(cfg.path(), None, Secrets::memory_only());
    a.selected = Selected::Mailbox(0);
    let mut h = harness(a);
    h.run();
    type_into(&mut h, "Port", "99999");
    h.get_by_label_contains("\"99999\" is not a port: expected a whole number from 1 to 65535");
    assert_eq!(h.state().profile.mailboxes[0].port, 993);
    type_into(&mut h, "Port", "143");
    assert!(h.query_by_label_contains("is not a port").is_none());
    assert_eq!(h.state().profile.mailboxes[0].port, 143);
    // The profile's own rule, at the same field: 143 with TLS is unusual.
    h.get_by_label_contains("port 143 normally starts in plain text");
}

#[test]
fn a_line_break_in_a_username_and_a_send_to_that_is_no_address_are_said_at_their_fields() {
    let cfg = tempfile::tempdir().unwrap();
    let mut a = app(cfg.path(), None, Secrets::memory_only());
    a.selected = Selected::Transport(0);
    // As a paste would leave it: a line break that would inject a command.
    a.profile.transports[0].username =
        Some("shared@contoso.com>\r\nRCPT TO:<injected@evil.example".into());
    let mut h = harness(a);
    h.run();
    h.get_by_label_contains("contains the control character \\u{d}");
    type_into(
        &mut h,
        "Send test to",
        "someone@example.com, evil@example.test",
    );
    h.get_by_label_contains("this is not a mail address");
    h.get_by_label("Test").click();
    h.run();
    assert!(
        h.state()
            .status
            .as_ref()
            .is_some_and(|(error, s)| *error && s.starts_with("Not tested")),
        "{:?}",
        h.state().status
    );
    type_into(&mut h, "Send test to", "someone@example.com");
    assert!(
        h.query_by_label_contains("this is not a mail address")
            .is_none()
    );
}

#[test]
fn save_and_reopen_give_the_same_profile_and_the_last_one_is_reopened() {
    let cfg = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("saved.toml");
    let mut a = app(cfg.path(), None, Secrets::memory_only());
    a.path = Some(path.clone());
    let mut h = harness(a);
    h.run();
    type_into(&mut h, "Tenant", "fabrikam.onmicrosoft.com");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    h.run();
    until(&mut h, "the save", |a| !a.dirty());
    let saved = h.state().profile.clone();
    assert_eq!(
        saved.accounts[0].tenant.as_deref(),
        Some("fabrikam.onmicrosoft.com")
    );
    assert_eq!(profile::load(&path).unwrap().0, saved);
    // The secret never goes to the file, and the file is private.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("secret ="), "{text}");
    drop(h);
    // Wait for the last-profile note, written off the UI thread.
    let start = Instant::now();
    while !cfg.path().join("last-profile").exists() {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
    let again = app(cfg.path(), None, Secrets::memory_only());
    assert_eq!(again.path.as_deref(), Some(path.as_path()));
    assert_eq!(again.profile, saved);
    assert!(!again.dirty());
}

#[test]
fn unsaved_changes_survive_a_crash_as_a_draft_offered_at_the_next_start() {
    let cfg = tempfile::tempdir().unwrap();
    let mut h = harness(app(cfg.path(), None, Secrets::memory_only()));
    h.run();
    type_into(&mut h, "Client ID", "12345678-1234-1234-1234-123456789abc");
    let draft = cfg.path().join("draft.toml");
    until(&mut h, "the draft", |_| draft.exists());
    std::mem::forget(h); // a crash: nothing is saved on the way out
    let next = app(cfg.path(), None, Secrets::memory_only());
    let offered = next.draft_offer.clone().expect("the draft is offered");
    assert_eq!(
        offered.accounts[0].client_id,
        "12345678-1234-1234-1234-123456789abc"
    );
    let mut h = harness(next);
    h.run();
    h.get_by_label("Restore them").click();
    h.run();
    assert_eq!(
        h.state().profile.accounts[0].client_id,
        "12345678-1234-1234-1234-123456789abc"
    );
}

#[test]
fn deleting_asks_nothing_but_can_be_undone() {
    let cfg = tempfile::tempdir().unwrap();
    let mut a = app(cfg.path(), None, Secrets::memory_only());
    a.selected = Selected::Transport(0);
    let mut h = harness(a);
    h.run();
    h.get_by_label("Delete").click();
    h.run();
    assert!(h.state().profile.transports.is_empty());
    h.get_by_label_contains("Undo: delete SMTP transport")
        .click();
    h.run();
    assert_eq!(h.state().profile, presets::microsoft365_profile());
    // Duplicate twice: free names, and the copy is selected.
    h.get_by_label("Office365 SMTP").click();
    h.run();
    h.get_by_label("Duplicate").click();
    h.run();
    h.get_by_label("Duplicate").click();
    h.run();
    let names: Vec<&str> = h
        .state()
        .profile
        .transports
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    assert_eq!(
        names,
        [
            "Office365 SMTP",
            "Office365 SMTP copy",
            "Office365 SMTP copy copy"
        ]
    );
    assert_eq!(h.state().selected, Selected::Transport(2));
}

#[test]
fn the_checklist_points_at_the_missing_mailbox_permission_with_its_powershell_line() {
    let (_rt, s) = servers();
    s.make_mailbox_unreachable(defaults::MAILBOX).unwrap();
    let cfg = tempfile::tempdir().unwrap();
    let mut p = all_on_servers(&s);
    p.accounts[0].enterprise_object_id = Some(defaults::APP_OBJECT_ID.into());
    let name = p.accounts[0].name.clone();
    let mut a = app(cfg.path(), None, secrets_with_app_secret(&name));
    a.profile = p;
    let mut h = harness(a);
    h.run();
    h.get_by_label("Set-up checklist");
    h.get_by_label("Get token").click();
    h.run();
    until(&mut h, "the token", |a| {
        matches!(a.sign_ins.get("Office365"), Some(SignIn::Done(_)))
    });
    h.get_by_label("Tests").click();
    h.run();
    h.get_by_label("Test all").click();
    h.run();
    let inbox = Target::Mailbox("Inbox".into());
    until(&mut h, "the tests", |a| {
        !a.tests.is_empty() && a.tests.values().all(|t| !t.running())
    });
    assert!(!h.state().tests[&inbox].report.as_ref().unwrap().ok);
    // Registration, secret, permissions, consent and the service principal are proven; the
    // mailbox grant is the step to fix, with its line filled in.
    let shown = h.state().tests[&inbox]
        .report
        .as_ref()
        .unwrap()
        .diagnosis
        .clone();
    let shown = shown.expect("the Test panel's diagnosis");
    h.get_by_label_contains("Grant the app the mailbox mailbox@example.test");
    // The checklist's failed step carries the Test panel's diagnosis, word for word.
    h.get_by_label_contains(&shown.title);
    let line = format!(
        "Add-MailboxPermission -Identity 'mailbox@example.test' -User '{}' -AccessRights FullAccess",
        defaults::APP_OBJECT_ID
    );
    h.get_by_label(&line);
    h.get_by_label_contains("a mailbox accepted the app's token");

    // And `mailcfg test` on the same profile and servers names the same cause.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("p.toml");
    profile::save(&h.state().profile, &file).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mailcfg"))
        .args(["test", "--json", "--mailbox", "Inbox", "--profile"])
        .arg(&file)
        .env("MAILCFG_CLIENT_SECRET", defaults::APP_SECRET)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let cli_kind = stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "report" && v["target"] == "Inbox")
        .and_then(|v| v["diagnosis"]["kind"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no diagnosis in:\n{stdout}"));
    assert_eq!(
        cli_kind,
        shown.kind.as_str(),
        "the CLI and the window disagree"
    );
    assert_eq!(cli_kind, "mailbox_grant_missing");
}

#[test]
fn exports_leave_secrets_out_unless_asked_and_then_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let cfg = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let name = presets::microsoft365_profile().accounts[0].name.clone();
    let mut h = harness(app(cfg.path(), None, secrets_with_app_secret(&name)));
    h.run();
    h.state_mut().export_format = mailcfg::export::ExportFormat::Ce;
    let plain = dir.path().join("ce.md");
    h.state_mut().export_to(&plain);
    until(&mut h, "the export", |a| {
        a.status
            .as_ref()
            .is_some_and(|(_, t)| t.contains("Exported"))
    });
    let text = std::fs::read_to_string(&plain).unwrap();
    assert!(
        !text.contains(defaults::APP_SECRET) && text.contains(mailcfg::export::SECRET_PLACEHOLDER),
        "{text}"
    );

    h.state_mut().export_secrets = true;
    let with = dir.path().join("ce-with-secret.md");
    h.state_mut().export_to(&with);
    until(&mut h, "the export with secrets", |a| {
        a.status
            .as_ref()
            .is_some_and(|(_, t)| t.contains("ce-with-secret"))
    });
    assert!(
        std::fs::read_to_string(&with)
            .unwrap()
            .contains(defaults::APP_SECRET)
    );
    assert_eq!(
        std::fs::metadata(&with).unwrap().permissions().mode() & 0o777,
        0o600
    );
    h.get_by_label_contains("it contains secrets, so keep it private");
}

#[test]
fn a_mailbox_without_oauth_takes_a_masked_password_into_the_keyring_and_signs_in_with_it() {
    let (_rt, s) = servers();
    let cfg = tempfile::tempdir().unwrap();
    let mut p = all_on_servers(&s);
    p.mailboxes[0].account = None;
    let secrets = Secrets::memory_only();
    let mut a = app(cfg.path(), None, secrets.clone());
    a.profile = p;
    a.selected = Selected::Mailbox(0);
    let mut h = harness(a);
    h.run();
    h.get_by_role_and_label(Role::PasswordInput, "Password")
        .focus();
    h.run();
    h.get_by_role_and_label(Role::PasswordInput, "Password")
        .type_text(support::PLAIN_PASSWORD);
    h.run();
    assert!(
        h.query_by_label_contains(support::PLAIN_PASSWORD).is_none(),
        "the password is never shown"
    );
    h.get_by_label("Save to keyring").click();
    h.run();
    until(&mut h, "the password saved", |a| {
        a.status
            .as_ref()
            .is_some_and(|(_, t)| t.contains("Password saved"))
    });
    let stored = secrets
        .get(&mailcfg::secrets::mailbox_entry("Inbox"), Kind::Password)
        .unwrap()
        .unwrap();
    assert_eq!(
        secrecy::ExposeSecret::expose_secret(&stored),
        support::PLAIN_PASSWORD
    );
    h.get_by_label("Test").click();
    h.run();
    let inbox = Target::Mailbox("Inbox".into());
    until(&mut h, "the test", |a| {
        a.tests.get(&inbox).is_some_and(|t| !t.running())
    });
    let r = h.state().tests[&inbox].report.clone().unwrap();
    assert!(r.ok, "{:#?}", r.steps);
    let text: String = r.transcript.iter().map(ToString::to_string).collect();
    assert!(!text.contains(support::PLAIN_PASSWORD), "{text}");
}

#[test]
fn test_all_runs_at_most_probe_concurrency_tests_at_once() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // A server that accepts and never speaks: each test waits for its greeting until the timeout.
    let port = rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((c, _)) = l.accept().await {
                held.push(c);
            }
        });
        port
    });
    let cfg = tempfile::tempdir().unwrap();
    let mut p = presets::microsoft365_profile();
    p.transports.clear();
    let mut m = p.mailboxes[0].clone();
    "127.0.0.1".clone_into(&mut m.host);
    m.port = port;
    m.encryption = profile::Encryption::None;
    m.account = None;
    p.mailboxes = ["First", "Second"]
        .into_iter()
        .map(|n| {
            let mut m = m.clone();
            n.clone_into(&mut m.name);
            m
        })
        .collect();
    p.probe.concurrency = 1;
    p.probe.timeout_secs = 1;
    let mut a = app(cfg.path(), None, Secrets::memory_only());
    a.profile = p;
    let mut h = harness(a);
    h.run();
    h.get_by_label("Tests").click();
    h.run();
    h.get_by_label("Test all").click();
    h.run();
    let (first, second) = (
        Target::Mailbox("First".into()),
        Target::Mailbox("Second".into()),
    );
    let waiting_for_greeting = |t: &mailcfg::ui::testview::TestRun| {
        t.steps
            .iter()
            .any(|e| e.step == mailcfg::probe::Step::Greeting)
    };
    until(&mut h, "one test at the greeting", |a| {
        a.tests.values().any(waiting_for_greeting)
    });
    let state = h.state();
    let started: Vec<bool> = [&first, &second]
        .iter()
        .map(|t| !state.tests[*t].steps.is_empty())
        .collect();
    assert_eq!(
        started.iter().filter(|s| **s).count(),
        1,
        "the other waits for the slot: {started:?}"
    );
    until(&mut h, "both tests", |a| {
        a.tests.values().all(|t| !t.running())
    });
    for t in [&first, &second] {
        let r = h.state().tests[t].report.clone().unwrap();
        assert_eq!(
            r.failed_step().unwrap().step,
            mailcfg::probe::Step::Greeting,
            "{:#?}",
            r.steps
        );
    }
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
    let mut a = app(cfg.path(), Some(&file), secrets.clone());
    a.select("account:Office365");
    let mut h = harness(a);
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
    let acc = &h.state().profile.accounts[0];
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
        h.state().setup.as_ref().unwrap().pasted.is_empty(),
        "the pasted secret leaves the field"
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

/// Types into the masked "Paste the result" box (it holds the secret, so it is a password field).
fn paste_result(h: &mut Harness<'_, App>, text: &str) {
    h.get_by_role_and_label(Role::PasswordInput, "Paste the result")
        .focus();
    h.run();
    h.get_by_role_and_label(Role::PasswordInput, "Paste the result")
        .type_text(text);
    h.run();
}
