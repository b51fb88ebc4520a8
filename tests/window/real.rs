//! Against the real servers: sign in app-only at the local identity provider, test a mailbox and
//! a transport, see a failure explained and the checklist point at the fix, a password mailbox,
//! Test all's concurrency, exports.

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mailcfg::engine::Pick;
use mailcfg::profile::{self, presets};
use mailcfg::secrets::{Kind, Secrets};
use mailcfg::ui::{Action, Nav, TargetName};

use crate::support::{self, defaults};
use crate::*;

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
    get_token(&mut h, "Get token");
    h.get_by_label("IMAP.AccessAsApp POP.AccessAsApp SMTP.SendAsApp");
    h.get_by_label_contains("The token carries what this account's mailboxes and transports need");

    // The mailbox: type the local server into the form, then Test.
    h.get_by_label("Inbox").click();
    h.run();
    type_into(&mut h, "Host", "127.0.0.1");
    type_into(&mut h, "Port", &s.ports.imaps.to_string());
    assert_eq!(h.state().profile().mailboxes[0].port, s.ports.imaps);
    assert!(h.state().dirty(), "edits mark the profile changed");
    assert!(h.state().title().ends_with('•'), "{}", h.state().title());
    h.get_by_label("Test").click();
    h.step();
    until(&mut h, "the IMAP test", |a| tested(a, &inbox()));
    let r0 = report(h.state(), &inbox());
    assert!(r0.ok, "{:#?}", r0.steps);
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
        r0.steps
            .iter()
            .all(|e| e.status != mailcfg::probe::Status::Failed)
    );

    // The transport, the same way.
    h.get_by_label("Send").click();
    h.run();
    h.get_by_label("Test").click();
    h.step();
    until(&mut h, "the SMTP test", |a| tested(a, &send()));
    let r = report(h.state(), &send());
    assert!(r.ok, "{:#?}", r.steps);
    // One token served both tests and the card: fetched once.
    assert_eq!(app_tokens(&s), 1);
}

#[test]
fn a_failed_test_shows_its_diagnosis() {
    let (_rt, s) = servers();
    s.make_mailbox_unreachable(defaults::MAILBOX).unwrap();
    let cfg = tempfile::tempdir().unwrap();
    let p = all_on_servers(&s);
    let a = app_with_secret(cfg.path(), p, Nav::Mailbox(0));
    let mut h = harness(a);
    h.run();
    h.get_by_label("Test").click();
    h.step();
    until(&mut h, "the IMAP test", |a| tested(a, &inbox()));
    let r = report(h.state(), &inbox());
    assert!(!r.ok);
    let d = r.diagnosis.clone().expect("a diagnosis");
    h.get_by_label(&d.title);
    h.get_by_label_contains("Fix:");
    h.get_by_label_contains("Failed after");
}

#[test]
fn the_checklist_points_at_the_missing_mailbox_permission_with_its_powershell_line() {
    let (_rt, s) = servers();
    s.make_mailbox_unreachable(defaults::MAILBOX).unwrap();
    let cfg = tempfile::tempdir().unwrap();
    let mut p = all_on_servers(&s);
    p.accounts[0].enterprise_object_id = Some(defaults::APP_OBJECT_ID.into());
    let a = app_with_secret(cfg.path(), p, Nav::Account(0));
    let mut h = harness(a);
    h.run();
    h.get_by_label("Set-up checklist");
    get_token(&mut h, "Get token");
    h.get_by_label("Tests").click();
    h.run();
    h.get_by_label("Test all").click();
    h.step();
    until(&mut h, "the tests", |a| {
        tested(a, &inbox()) && tested(a, &send())
    });
    assert!(!report(h.state(), &inbox()).ok);
    // Registration, secret, permissions, consent and the service principal are proven; the
    // mailbox grant is the step to fix, with its line filled in.
    let shown = report(h.state(), &inbox())
        .diagnosis
        .expect("the Test panel's diagnosis");
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
    profile::save(h.state().profile(), &file).unwrap();
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
    let export = |h: &mut egui_kittest::Harness<'_, mailcfg::ui::App>, path: &std::path::Path| {
        h.state_mut()
            .apply(Action::Export(mailcfg::export::ExportFormat::Ce));
        h.state_mut()
            .apply(Action::PathTyped(Pick::Export, path.to_path_buf()));
        h.run();
    };
    let plain = dir.path().join("ce.md");
    export(&mut h, &plain);
    until(&mut h, "the export", |a| {
        a.status().is_some_and(|(_, t)| t.contains("Exported"))
    });
    let text = std::fs::read_to_string(&plain).unwrap();
    assert!(
        !text.contains(defaults::APP_SECRET) && text.contains(mailcfg::export::SECRET_PLACEHOLDER),
        "{text}"
    );

    h.state_mut().apply(Action::SetExportSecrets(true));
    let with = dir.path().join("ce-with-secret.md");
    export(&mut h, &with);
    until(&mut h, "the export with secrets", |a| {
        a.status()
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
    let a = app_with(cfg.path(), p, Nav::Mailbox(0), secrets.clone());
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
    // memory_only: no OS keyring, and the button says so.
    assert!(h.query_by_label("Save to keyring").is_none());
    h.get_by_label("Keep for this session").click();
    h.run();
    until(&mut h, "the password kept", |a| {
        a.status().is_some_and(|(_, t)| t.contains("Password kept"))
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
    h.step();
    until(&mut h, "the test", |a| tested(a, &inbox()));
    let r = report(h.state(), &inbox());
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
    // Settings shows no spinner, so the harness settles while the tests wait.
    let a = app_with(cfg.path(), p, Nav::Page("settings"), Secrets::memory_only());
    let mut h = harness(a);
    h.run();
    h.get_by_label("Tests").click();
    h.run();
    h.get_by_label("Test all").click();
    h.step();
    let (first, second) = (
        TargetName::Mailbox("First".into()),
        TargetName::Mailbox("Second".into()),
    );
    let waiting_for_greeting = |t: &mailcfg::ui::state::ProbeRun| {
        t.steps
            .iter()
            .any(|e| e.step == mailcfg::probe::Step::Greeting)
    };
    until(&mut h, "one test at the greeting", |a| {
        a.runtime().probes.values().any(waiting_for_greeting)
    });
    let state = h.state();
    let started: Vec<bool> = [&first, &second]
        .iter()
        .map(|t| !state.runtime().probes[*t].steps.is_empty())
        .collect();
    assert_eq!(
        started.iter().filter(|s| **s).count(),
        1,
        "the other waits for the slot: {started:?}"
    );
    until(&mut h, "both tests", |a| {
        tested(a, &first) && tested(a, &second)
    });
    for t in [&first, &second] {
        let r = report(h.state(), t);
        assert_eq!(
            r.failed_step().unwrap().step,
            mailcfg::probe::Step::Greeting,
            "{:#?}",
            r.steps
        );
    }
}
