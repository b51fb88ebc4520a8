//! The window, driven headless with egui_kittest and found by its labels and roles, against the
//! real test servers where it talks to one (Dovecot and the local identity provider). One test
//! crate, a file per area:
//! - `real.rs`: sign in, test mailboxes and transports, diagnoses, the checklist, passwords,
//!   concurrency, exports;
//! - `fields.rs`: what a field takes and says (ports, empty IDs, new items, wording, protocols);
//! - `files.rs`: open (any profile that parses), save (asking about errors), drafts, path fields;
//! - `results.rs`: results that go stale, Test all's summary, new tokens, retest, keyring words;
//! - `layout.rs`: 800×600 to 1920×1080, the transcript and long greetings;
//! - `discover.rs`: "Start from an e-mail address" (issue 14), against DNS, the identity provider
//!   and Dovecot;
//! - `setup.rs`: "Set it up for me…" (issue 20), the script and its pasted result;
//! - `google.rs`: Google's account form (issue 16): a service account's key imported, a token per
//!   user, Gmail's Desktop app secret.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::many_single_char_names
)]

#[path = "../support/mod.rs"]
mod support;

mod discover;
mod fields;
mod files;
mod google;
mod layout;
mod real;
mod results;
mod setup;

use std::path::Path;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mailcfg::profile::{Profile, Protocol, presets};
use mailcfg::secrets::{Kind, Secrets, account_entry};
use mailcfg::ui::{Action, App, Nav, Options, TargetName};
use support::{TestServers, defaults};

pub fn harness(app: App) -> Harness<'static, App> {
    sized(app, 1100.0, 900.0)
}

pub fn sized(app: App, w: f32, h: f32) -> Harness<'static, App> {
    Harness::builder()
        .with_size(egui::vec2(w, h))
        .with_max_steps(50)
        .build_ui_state(|ui, app: &mut App| app.ui(ui), app)
}

/// A window with its own config folder, paths typed instead of file dialogs.
pub fn app(config: &Path, open: Option<&Path>, secrets: Secrets) -> App {
    with(
        config,
        Options {
            open: open.map(Path::to_path_buf),
            ..Options::default()
        },
        secrets,
    )
}

/// A window that starts with `p` (unsaved) and shows `nav`.
pub fn app_with(config: &Path, p: Profile, nav: Nav, secrets: Secrets) -> App {
    let mut a = with(
        config,
        Options {
            profile: Some(p),
            ..Options::default()
        },
        secrets,
    );
    a.apply(Action::Select(nav));
    a
}

pub fn with(config: &Path, opts: Options, secrets: Secrets) -> App {
    let opts = Options {
        config_dir: Some(config.to_path_buf()),
        no_file_dialogs: true,
        ..opts
    };
    App::new(opts, secrets).unwrap()
}

/// Steps the window until `done` holds (the engine wakes it from its own threads).
pub fn until(h: &mut Harness<'_, App>, what: &str, done: impl Fn(&App) -> bool) {
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
pub fn type_into(h: &mut Harness<'_, App>, label: &str, text: &str) {
    h.get_by_role_and_label(Role::TextInput, label).focus();
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.run();
    h.get_by_role_and_label(Role::TextInput, label)
        .type_text(text);
    h.run();
}

/// Whether the connection test of `t` is done (or never started).
pub fn tested(a: &App, t: &TargetName) -> bool {
    a.runtime().probes.get(t).is_some_and(|r| !r.running())
}

/// The report of `t`'s last test.
pub fn report(a: &App, t: &TargetName) -> mailcfg::probe::Report {
    let run = &a.runtime().probes[t];
    run.report
        .clone()
        .unwrap_or_else(|| panic!("no report: {:?}", run.not_started))
}

pub fn inbox() -> TargetName {
    TargetName::Mailbox("Inbox".into())
}

pub fn send() -> TargetName {
    TargetName::Transport("Send".into())
}

/// The Microsoft 365 preset, pointed at the test servers: the account at the local identity
/// provider, the transport at submission, the mailbox still at Microsoft's host (a test types the
/// local one into the form).
pub fn preset_for(s: &TestServers) -> Profile {
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
pub fn all_on_servers(s: &TestServers) -> Profile {
    let mut p = preset_for(s);
    "127.0.0.1".clone_into(&mut p.mailboxes[0].host);
    p.mailboxes[0].port = s.ports.imaps;
    p
}

/// [`app_with`], with the app-only secret of `p`'s first account in a memory keyring.
pub fn app_with_secret(config: &Path, p: Profile, nav: Nav) -> App {
    let name = p.accounts[0].name.clone();
    app_with(config, p, nav, secrets_with_app_secret(&name))
}

pub fn secrets_with_app_secret(account: &str) -> Secrets {
    let s = Secrets::memory_only();
    s.set(
        &account_entry(account),
        Kind::ClientSecret,
        Some(&defaults::APP_SECRET.to_owned().into()),
    )
    .unwrap();
    s
}

pub fn servers() -> (tokio::runtime::Runtime, TestServers) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = rt.block_on(TestServers::start()).unwrap();
    (rt, s)
}

/// How many client-credentials tokens the identity provider handed out.
pub fn app_tokens(s: &TestServers) -> usize {
    s.idp
        .requests()
        .iter()
        .filter(|r| r.grant_type.as_deref() == Some("client_credentials"))
        .count()
}

/// Signs in with the account by its button and waits for the token card.
pub fn get_token(h: &mut Harness<'_, App>, label: &str) {
    h.get_by_label(label).click();
    h.run();
    until(h, "the token", |a| {
        matches!(
            a.runtime().sign_ins.get("Office365").map(|r| &r.state),
            Some(mailcfg::ui::state::SignIn::Done(_) | mailcfg::ui::state::SignIn::Failed(_))
        )
    });
    if let Some(mailcfg::ui::state::SignIn::Failed(e)) = h
        .state()
        .runtime()
        .sign_ins
        .get("Office365")
        .map(|r| &r.state)
    {
        panic!("sign-in failed: {e}");
    }
}

pub fn has(h: &Harness<'_, App>, text: &str) -> bool {
    h.query_by_label_contains(text).is_some()
}
