//! The window's "Start from an e-mail address" (issue 14), against real servers: dnsmasq for DNS,
//! the test identity provider for tenant discovery, Dovecot for the Test. From the address to the
//! timeline, the draft in the forms with each field's source under it, app-only chosen as the
//! user would, and a green Test; Cancel on a DNS server that never answers; the start screen at
//! first start.

use std::path::Path;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mailcfg::profile::{self, Flow, Profile, presets};
use mailcfg::secrets::{Kind, Secrets, account_entry};
use mailcfg::ui::{App, Options, TargetName};

use crate::support::dns::{Dnsmasq, Records, Silent};
use crate::support::{self, TestServers, defaults};
use crate::*;

/// As [`until`], for a screen that animates while it waits (a spinner never lets it settle).
fn until_steps(h: &mut Harness<'_, App>, what: &str, done: impl Fn(&App) -> bool) {
    let start = Instant::now();
    while !done(h.state()) {
        assert!(
            start.elapsed() < Duration::from_secs(40),
            "timed out waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.run_steps(3);
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// A profile the user already has open: the servers' CA and where discovery looks.
fn base(dir: &Path, dns: &str, authority: &str) -> std::path::PathBuf {
    let mut p = Profile::default();
    p.discovery.dns = Some(dns.to_owned());
    p.discovery.authority = Some(authority.to_owned());
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    p.discovery.ispdb = Some(format!("http://127.0.0.1:{closed}/v1.1/"));
    let path = dir.join("base.toml");
    profile::save(&p, &path).unwrap();
    path
}

fn open_start_screen(h: &mut Harness<'_, App>) {
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::N);
    h.run();
    h.get_by_label("Start from an e-mail address");
}

#[test]
fn start_from_an_address_fills_the_forms_with_their_sources_and_tests_green() {
    let rt = runtime();
    let s = rt.block_on(TestServers::start()).unwrap();
    let records = Records::new()
        .mx("example.test", "mx1.filter.test", 10)
        .srv("_imaps._tcp.example.test", "localhost", s.ports.imaps, 0, 1)
        .srv(
            "_submission._tcp.example.test",
            "localhost",
            s.ports.submission,
            0,
            1,
        );
    let dns = rt.block_on(Dnsmasq::start(&records)).unwrap();
    let (cfg, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let path = base(dir.path(), &dns.addr.to_string(), s.authority());
    let (mut opened, _) = profile::load(&path).unwrap();
    opened.tls.ca_file = Some(s.ca_file().to_owned());
    profile::save(&opened, &path).unwrap();
    let secrets = Secrets::memory_only();
    secrets
        .set(
            &account_entry("example.test"),
            Kind::ClientSecret,
            Some(&defaults::APP_SECRET.to_owned().into()),
        )
        .unwrap();
    let opts = Options {
        open: Some(path.clone()),
        start_screen: true,
        ..Options::default()
    };
    let mut h = harness(with(cfg.path(), opts, secrets));
    h.run();
    assert!(
        h.state().start().is_none(),
        "a profile was opened: no start screen"
    );

    open_start_screen(&mut h);
    // Where to look comes from the open profile's [discovery].
    assert_eq!(h.state().start().unwrap().dns, dns.addr.to_string());
    type_into(&mut h, "E-mail address", defaults::MAILBOX);
    h.get_by_label("Find settings").click();
    h.step();
    until(&mut h, "the discovery", |a| {
        a.start().is_some_and(|s| s.report.is_some())
    });
    h.get_by_label_contains("Microsoft 365 for mailbox@example.test");
    h.get_by_label_contains(
        "Account example.test: microsoft (delegated), tenant 2f6a3c1e-7b4d-4e8a-9c0f-5d1b2a3e4f60",
    );
    h.get_by_label(&format!("Mailbox: imap localhost:{} (tls)", s.ports.imaps));
    h.get_by_label("Use this draft").click();
    h.run();

    let p = h.state().profile().clone();
    assert!(h.state().start().is_none());
    assert!(h.state().dirty(), "a draft is not saved yet");
    assert_eq!(p.accounts[0].tenant.as_deref(), Some(defaults::TENANT_ID));
    assert_eq!(p.accounts[0].authority.as_deref(), Some(s.authority()));
    assert_eq!(
        (p.mailboxes[0].host.as_str(), p.mailboxes[0].port),
        ("localhost", s.ports.imaps)
    );
    assert_eq!(p.transports[0].port, s.ports.submission);
    assert_eq!(p.tls, opened.tls, "the open profile's CA is kept");
    assert_eq!(
        p.discovery, opened.discovery,
        "where to look is kept with the draft"
    );
    // Each field says where its value came from, under it.
    h.get_by_label_contains("from tenant discovery: issuer of");
    h.get_by_label_contains("from default: a placeholder: paste your app registration");

    // The user's review: app-only for this service mailbox, and their app's client ID.
    h.get_by_role_and_label(Role::ComboBox, "Sign-in").click();
    h.run();
    h.get_by_label("App-only (client credentials)").click();
    h.run();
    assert_eq!(h.state().profile().accounts[0].flow, Flow::AppOnly);
    type_into(&mut h, "Client ID", defaults::APP_CLIENT_ID);
    assert_eq!(
        h.state().profile().accounts[0].client_id,
        defaults::APP_CLIENT_ID
    );

    h.get_by_label("example.test IMAP").click();
    h.run();
    // Host, port and encryption each say so.
    let srv = "from SRV records: SRV _imaps._tcp.example.test → localhost:";
    assert_eq!(h.get_all_by_label_contains(srv).count(), 3);
    h.get_by_label_contains("also outlook.office365.com from provider preset");
    h.get_by_label("Test").click();
    h.step();
    let target = TargetName::Mailbox("example.test IMAP".into());
    until(&mut h, "the IMAP test", |a| tested(a, &target));
    let r = report(h.state(), &target);
    assert!(r.ok, "{:#?}", r.steps);
    h.get_by_label_contains("Connected: every step passed");
}

#[test]
fn lookups_that_wait_on_a_silent_dns_server_can_be_cancelled() {
    let rt = runtime();
    let silent = Silent::start().unwrap();
    let idp = rt
        .block_on(support::idp::Idp::start(support::idp::Config::default()))
        .unwrap();
    let (cfg, dir) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let path = base(dir.path(), &silent.addr.to_string(), idp.authority());
    let mut h = harness(app(cfg.path(), Some(&path), Secrets::memory_only()));
    h.run();
    let before = h.state().profile().clone();
    open_start_screen(&mut h);
    type_into(&mut h, "E-mail address", "ivy@quiet.test");
    h.key_press(egui::Key::Enter);
    h.step();
    until_steps(&mut h, "the first answers", |a| {
        a.start().is_some_and(|s| {
            s.steps
                .iter()
                .any(|e| e.status != mailcfg::discover::Status::Running)
        })
    });
    assert!(
        h.state().start().unwrap().running(),
        "the DNS steps still wait"
    );
    h.get_by_label_contains("sources answered");
    h.get_by_label("Cancel").click();
    h.run();
    let s = h.state().start().unwrap();
    assert!(!s.running() && s.report.is_none());
    assert_eq!(s.message.as_deref(), Some("Cancelled."));
    // Nothing arrives later, and the open profile is untouched.
    std::thread::sleep(Duration::from_millis(300));
    h.run();
    assert!(h.state().start().unwrap().report.is_none());
    assert_eq!(h.state().profile(), &before);
    // Again, and Esc: the first stops the lookups, the second closes the screen.
    h.get_by_label("Find settings").click();
    h.step();
    assert!(h.state().start().unwrap().running());
    h.key_press(egui::Key::Escape);
    h.run();
    let s = h.state().start().expect("Esc while waiting only cancels");
    assert!(!s.running() && s.message.as_deref() == Some("Cancelled."));
    h.key_press(egui::Key::Escape);
    h.run();
    assert!(h.state().start().is_none(), "Esc closes the start screen");
}

#[test]
fn first_start_offers_the_address_beside_the_preset_and_open() {
    let cfg = tempfile::tempdir().unwrap();
    let opts = Options {
        start_screen: true,
        ..Options::default()
    };
    let mut h = harness(with(cfg.path(), opts, Secrets::memory_only()));
    h.run();
    h.get_by_label("Start from an e-mail address");
    h.get_by_label("Open a profile…");
    // A bad address is said at once, without asking anyone.
    type_into(&mut h, "E-mail address", "not an address");
    h.get_by_label("Find settings").click();
    h.run();
    h.get_by_label_contains("is not an e-mail address: it has no @");
    assert!(!h.state().start().unwrap().running());
    h.get_by_label("Microsoft 365 preset").click();
    h.run();
    assert!(
        h.state().start().is_none(),
        "{:?}",
        h.state().start().map(|s| &s.message)
    );
    assert_eq!(
        h.state().profile(),
        &presets::microsoft365_start(),
        "the preset, with the user's own IDs empty"
    );
}
