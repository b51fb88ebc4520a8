//! Results and the keyring: a result belongs to the settings it was made with (an edit or a sign
//! out marks it stale, and the checklist stops counting it); Get token asks for a new token and
//! says when it was fetched; "I've done it: retest" gets a new token and shows what changed; Test
//! all sums up; Remove removes; the keyring's words agree with each other.

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mailcfg::profile::presets;
use mailcfg::secrets::{Kind, Secrets, account_entry};
use mailcfg::ui::widgets::Dot;
use mailcfg::ui::{Action, Nav, TargetName};

use crate::support::defaults;
use crate::*;

#[test]
fn a_changed_setting_or_a_sign_out_marks_the_result_stale() {
    let (_rt, s) = servers();
    let cfg = tempfile::tempdir().unwrap();
    let p = all_on_servers(&s);
    let mut h = harness(app_with_secret(cfg.path(), p, Nav::Account(0)));
    h.run();
    get_token(&mut h, "Get token");
    h.state_mut().apply(Action::Select(Nav::Mailbox(0)));
    h.run();
    h.get_by_label("Test").click();
    h.step();
    until(&mut h, "the test", |a| tested(a, &inbox()));
    let dot = |h: &egui_kittest::Harness<'_, mailcfg::ui::App>| {
        h.state().runtime().probe_dot(h.state().profile(), &inbox())
    };
    let stands = |d: Dot| matches!(d, Dot::Ok | Dot::Warning);
    assert!(stands(dot(&h)), "{:?}", dot(&h));
    h.state_mut().apply(Action::Select(Nav::Account(0)));
    h.run();
    h.get_by_label_contains("a mailbox accepted the app's token");

    h.state_mut().apply(Action::Select(Nav::Mailbox(0)));
    h.run();
    let port = s.ports.imaps;
    type_into(&mut h, "Port", &(port + 1).to_string());
    assert_eq!(dot(&h), Dot::Stale);
    h.get_by_label_contains(&format!(
        "made with other settings (port {port} → {})",
        port + 1
    ));
    h.state_mut().apply(Action::Select(Nav::Account(0)));
    h.run();
    assert!(
        !has(&h, "a mailbox accepted the app's token"),
        "the checklist no longer counts it"
    );

    // Back to the port it was made with: it stands again; a sign-out makes it stale for good.
    h.state_mut().apply(Action::Select(Nav::Mailbox(0)));
    h.run();
    type_into(&mut h, "Port", &port.to_string());
    assert!(stands(dot(&h)), "{:?}", dot(&h));
    h.state_mut().apply(Action::Select(Nav::Account(0)));
    h.run();
    h.get_by_label("Sign out").click();
    h.run();
    assert_eq!(dot(&h), Dot::Stale);
    let why = h
        .state()
        .runtime()
        .probe_stale(h.state().profile(), &inbox())
        .unwrap();
    assert_eq!(why, "the account was signed out since");
}

#[test]
fn get_token_asks_for_a_new_token_and_says_when_it_was_fetched() {
    let (_rt, s) = servers();
    let set_roles = |roles: &[&str]| {
        s.idp.config(|c| {
            let app = c
                .apps
                .iter_mut()
                .find(|a| a.client_id == defaults::APP_CLIENT_ID)
                .unwrap();
            app.roles = roles.iter().map(|r| (*r).to_owned()).collect();
        });
    };
    set_roles(&["IMAP.AccessAsApp"]);
    let cfg = tempfile::tempdir().unwrap();
    let p = all_on_servers(&s);
    let mut h = harness(app_with_secret(cfg.path(), p, Nav::Account(0)));
    h.run();
    get_token(&mut h, "Get token");
    h.get_by_label("IMAP.AccessAsApp");
    h.get_by_label_contains("UTC (less than a minute ago)");
    assert!(
        h.query_all_by_label_contains("lacks SMTP.SendAsApp")
            .count()
            > 0
    );

    // The admin grants the other permissions: a new token carries them.
    set_roles(&["IMAP.AccessAsApp", "POP.AccessAsApp", "SMTP.SendAsApp"]);
    get_token(&mut h, "Get a new token");
    h.get_by_label("IMAP.AccessAsApp POP.AccessAsApp SMTP.SendAsApp");
    assert!(!has(&h, "lacks SMTP.SendAsApp"));
    assert_eq!(app_tokens(&s), 2, "fetched again, not shown from the cache");
}

#[test]
fn retest_gets_a_new_token_and_says_what_changed() {
    let (_rt, s) = servers();
    let cfg = tempfile::tempdir().unwrap();
    let p = all_on_servers(&s);
    let mut h = harness(app_with_secret(cfg.path(), p, Nav::Mailbox(0)));
    h.run();
    h.get_by_label("Test").click();
    h.step();
    until(&mut h, "the first test", |a| tested(a, &inbox()));
    assert!(report(h.state(), &inbox()).ok);
    // The token is revoked: a plain Test reuses it from the cache and is refused.
    s.idp.revoke_all();
    h.get_by_label("Test").click();
    h.step();
    until(&mut h, "the second test", |a| tested(a, &inbox()));
    assert!(!report(h.state(), &inbox()).ok);
    assert_eq!(app_tokens(&s), 1);
    h.get_by_label("I've done it: retest").click();
    h.step(); // the test's spinner keeps the window busy: no settling here
    until(&mut h, "the retest", |a| {
        tested(a, &inbox())
            && !a.runtime().probes[&inbox()].previous.is_empty()
            && a.runtime().probes[&inbox()]
                .report
                .as_ref()
                .is_some_and(|r| r.ok)
    });
    assert_eq!(app_tokens(&s), 2, "a new token first");
    h.get_by_label("Since the run before:");
    h.get_by_label_contains("Authenticate: FAILED → ok");
}

#[test]
fn test_all_sums_up_and_leads_to_what_failed() {
    let (_rt, s) = servers();
    let cfg = tempfile::tempdir().unwrap();
    let mut p = all_on_servers(&s);
    let mut sales = p.mailboxes[0].clone();
    "Sales".clone_into(&mut sales.name);
    "sales@example.test".clone_into(&mut sales.user);
    p.mailboxes.push(sales);
    let mut h = harness(app_with_secret(cfg.path(), p, Nav::Account(0)));
    h.run();
    h.get_by_label("Tests").click();
    h.run();
    h.get_by_label("Test all").click();
    h.step();
    let sales = TargetName::Mailbox("Sales".into());
    until(&mut h, "every test", |a| {
        tested(a, &inbox()) && tested(a, &send()) && tested(a, &sales)
    });
    h.get_by_label("Test all: 2 passed, 1 failed");
    h.get_by_role_and_label(Role::Link, "Sales").click();
    h.run();
    assert_eq!(h.state().nav(), Nav::Mailbox(1));
}

#[test]
fn remove_removes_the_stored_secret_whatever_is_typed() {
    let cfg = tempfile::tempdir().unwrap();
    let p = presets::microsoft365_profile();
    let secrets = secrets_with_app_secret(&p.accounts[0].name);
    let mut h = harness(app_with(cfg.path(), p, Nav::Account(0), secrets.clone()));
    h.run();
    until(&mut h, "the keyring lookup", |a| {
        a.runtime().secrets.contains_key("Office365")
    });
    h.get_by_role_and_label(Role::PasswordInput, "Client secret")
        .focus();
    h.run();
    h.get_by_role_and_label(Role::PasswordInput, "Client secret")
        .type_text("typed-but-not-meant");
    h.run();
    h.get_by_label("Remove").click();
    h.run();
    until(&mut h, "the removal", |a| {
        a.status().is_some_and(|(_, t)| t.contains("removed"))
    });
    let left = secrets
        .get(&account_entry("Office365"), Kind::ClientSecret)
        .unwrap();
    assert!(
        left.is_none(),
        "removed, and the typed text was not stored instead"
    );
}

#[test]
fn without_a_keyring_every_message_says_session_only() {
    let cfg = tempfile::tempdir().unwrap();
    let p = presets::microsoft365_profile();
    let mut h = harness(app_with(
        cfg.path(),
        p,
        Nav::Account(0),
        Secrets::memory_only(),
    ));
    h.run();
    h.get_by_label_contains("No OS keyring: secrets are kept for this session only");
    h.get_by_role_and_label(Role::PasswordInput, "Client secret")
        .focus();
    h.run();
    h.get_by_role_and_label(Role::PasswordInput, "Client secret")
        .type_text("s3cret");
    h.run();
    h.get_by_label("Keep for this session").click();
    h.run();
    until(&mut h, "the secret kept", |a| {
        a.status().is_some_and(|(_, t)| t.contains("Client secret"))
    });
    let said = h.state().status().unwrap().1.clone();
    assert_eq!(
        said,
        "Client secret of \"Office365\" kept in memory for this session only (no OS keyring)."
    );
    until(&mut h, "the lookup", |a| {
        a.runtime()
            .secrets
            .get("Office365")
            .is_some_and(|s| *s == mailcfg::engine::SecretSource::Keyring)
    });
    h.get_by_label_contains("kept in memory for this session (no OS keyring)");
    assert!(!has(&h, "Saved in the keyring") && !has(&h, "stored in the OS keyring"));
}

#[test]
fn the_window_shows_the_expiries_check_judges() {
    let (_rt, s) = servers();
    let cfg = tempfile::tempdir().unwrap();
    let mut p = all_on_servers(&s);
    let in_twelve = chrono::Utc::now().date_naive() + chrono::Days::new(12);
    p.accounts[0].client_secret_expires = Some(in_twelve.format("%Y-%m-%d").to_string());
    let mut h = harness(app_with_secret(cfg.path(), p, Nav::Account(0)));
    h.run();
    // 12 days left: a warning, as `mailcfg check` says with its default --warn-days 30.
    h.get_by_label(&format!(
        "The client secret expires on {}, in 12 days",
        in_twelve.format("%Y-%m-%d")
    ));
    h.state_mut().apply(Action::Select(Nav::Mailbox(0)));
    h.run();
    h.get_by_label("Test").click();
    h.step();
    until(&mut h, "the test", |a| tested(a, &inbox()));
    // The test CA's certificate lives a week: fewer than 7 days left is critical for check.
    // It was made moments ago, to the second: judged within that same second, exactly 7 whole
    // days are left (not fewer), so it is judged a second on, when 6 are.
    h.get_by_label_contains("The server's certificate expires on");
    let r = report(h.state(), &inbox());
    let e = mailcfg::monitor::certificate(
        &r,
        mailcfg::monitor::Thresholds::default(),
        std::time::SystemTime::now() + std::time::Duration::from_secs(1),
    )
    .unwrap();
    assert_eq!(e.state, mailcfg::monitor::State::Critical, "{e:?}");
}

#[test]
fn renaming_an_account_moves_its_secret_in_the_keyring() {
    let cfg = tempfile::tempdir().unwrap();
    let p = presets::microsoft365_profile();
    let name = p.accounts[0].name.clone();
    let secrets = secrets_with_app_secret(&name);
    let mut h = harness(app_with(cfg.path(), p, Nav::Account(0), secrets.clone()));
    h.run();
    type_into(&mut h, "Name", &format!("{name} renamed"));
    let new = format!("{name} renamed");
    until(&mut h, "the lookup under the new name", |a| {
        a.runtime().secrets.contains_key(&new)
    });
    assert_eq!(
        h.state().runtime().secrets[&new],
        mailcfg::engine::SecretSource::Keyring,
        "the secret moved with the name"
    );
    assert!(
        secrets
            .get(&account_entry(&name), Kind::ClientSecret)
            .unwrap()
            .is_none()
    );
    assert!(
        secrets
            .get(&account_entry(&new), Kind::ClientSecret)
            .unwrap()
            .is_some()
    );
}
