//! Files: save and reopen; a profile with errors opens with its findings at the fields and is
//! saved only when the user says so; a crash leaves a draft; where no file dialog can be shown,
//! a path field does the job.

use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use mailcfg::profile::{self, presets};
use mailcfg::secrets::Secrets;
use mailcfg::ui::{Action, Nav};

use crate::*;

/// Waits for the last-profile note, written off the UI thread.
fn wait_for_last_profile(cfg: &Path) {
    let start = Instant::now();
    while !cfg.join("last-profile").exists() {
        assert!(start.elapsed() < Duration::from_secs(10));
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn save_and_reopen_give_the_same_profile_and_the_last_one_is_reopened() {
    let cfg = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("saved.toml");
    let a = app_with(
        cfg.path(),
        presets::microsoft365_profile(),
        Nav::Account(0),
        Secrets::memory_only(),
    );
    let mut h = harness(a);
    h.run();
    type_into(&mut h, "Tenant", "fabrikam.onmicrosoft.com");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    h.run();
    // No file yet, and no file dialog in tests: the path field asks.
    h.get_by_label("Save profile as");
    type_into(&mut h, "Path", &path.display().to_string());
    h.get_by_label("OK").click();
    h.run();
    until(&mut h, "the save", |a| !a.dirty());
    let saved = h.state().profile().clone();
    assert_eq!(
        saved.accounts[0].tenant.as_deref(),
        Some("fabrikam.onmicrosoft.com")
    );
    assert_eq!(profile::load(&path).unwrap().0, saved);
    // The secret never goes to the file.
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("secret ="), "{text}");
    drop(h);
    wait_for_last_profile(cfg.path());
    let again = app(cfg.path(), None, Secrets::memory_only());
    assert_eq!(again.path(), Some(path.as_path()));
    assert_eq!(again.profile(), &saved);
    assert!(!again.dirty());
}

#[test]
fn a_profile_with_errors_opens_with_them_at_the_fields_and_saves_only_when_asked() {
    let cfg = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wip.toml");
    let mut p = presets::microsoft365_profile();
    p.accounts[0].tenant = None;
    "outlook office365.com".clone_into(&mut p.mailboxes[0].host);
    std::fs::write(
        &path,
        profile::to_string(&p, profile::Format::Toml).unwrap(),
    )
    .unwrap();
    assert!(
        profile::load(&path).is_err(),
        "the strict reader refuses it"
    );

    let mut h = harness(app(cfg.path(), Some(&path), Secrets::memory_only()));
    h.run();
    assert_eq!(
        h.state().profile(),
        &p,
        "opened as it is, not a blank preset"
    );
    let said = h.state().status().unwrap().1.clone();
    assert!(
        said.ends_with("2 values to correct, shown at their fields"),
        "{said}"
    );
    h.get_by_label_contains("account \"Office365\" has no tenant");
    h.state_mut().apply(Action::Select(Nav::Mailbox(0)));
    h.run();
    h.get_by_label_contains("the host \"outlook office365.com\" contains");

    type_into(&mut h, "User", "someone@contoso.com");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    h.run();
    h.get_by_label("Save a profile with errors?");
    h.get_by_label_contains("mailboxes[0].host: the host \"outlook office365.com\"");
    h.get_by_label("Cancel").click();
    h.run();
    assert!(h.state().dirty(), "Cancel saved nothing");
    assert!(
        !std::fs::read_to_string(&path)
            .unwrap()
            .contains("someone@contoso.com")
    );
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    h.run();
    h.get_by_label("Save anyway").click();
    h.run();
    until(&mut h, "the save", |a| !a.dirty());
    assert!(
        std::fs::read_to_string(&path)
            .unwrap()
            .contains("someone@contoso.com")
    );
    drop(h);
    wait_for_last_profile(cfg.path());
    let again = app(cfg.path(), None, Secrets::memory_only());
    assert_eq!(
        again.path(),
        Some(path.as_path()),
        "the next start reopens it too"
    );
}

#[test]
fn open_asks_for_a_path_where_no_file_dialog_can_be_shown() {
    let cfg = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.toml");
    let mut other = presets::microsoft365_profile();
    "Other".clone_into(&mut other.accounts[0].name);
    for m in &mut other.mailboxes {
        m.account = Some("Other".into());
    }
    for t in &mut other.transports {
        t.account = Some("Other".into());
    }
    profile::save(&other, &path).unwrap();
    let mut h = harness(app(cfg.path(), None, Secrets::memory_only()));
    h.run();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::O);
    h.run();
    h.get_by_label("Open profile");
    h.get_by_label_contains("Type the file's path instead");
    type_into(&mut h, "Path", &path.display().to_string());
    h.get_by_role_and_label(Role::TextInput, "Path").focus();
    h.key_press(egui::Key::Enter);
    h.run();
    until(&mut h, "the profile", |a| a.path() == Some(path.as_path()));
    assert_eq!(h.state().profile(), &other);
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
    let offered = next.draft_offer().cloned().expect("the draft is offered");
    assert_eq!(
        offered.accounts[0].client_id,
        "12345678-1234-1234-1234-123456789abc"
    );
    let mut h = harness(next);
    h.run();
    h.get_by_label("Restore them").click();
    h.run();
    assert_eq!(
        h.state().profile().accounts[0].client_id,
        "12345678-1234-1234-1234-123456789abc"
    );
}

#[test]
fn the_export_menu_names_each_system_by_what_it_is() {
    let cfg = tempfile::tempdir().unwrap();
    let mut h = harness(app(cfg.path(), None, Secrets::memory_only()));
    h.run();
    h.get_by_label("File").click();
    h.run();
    h.get_by_label("Export").click();
    h.run();
    for label in [
        "Cerb helpdesk: Email Transports and Mailboxes (sheet)…",
        "CE Exchange Online gateway: OAuth settings (sheet)…",
        "UM: tenant_id, client_id, enterprise_object_id, mailbox_name (sheet)…",
    ] {
        h.get_by_label(label);
    }
    assert!(!has(&h, "CE settings sheet"));
}

/// Ctrl+S and the window's close button in one frame, as a quick hand does: the save is under
/// way when the close comes.
fn save_and_close_at_once(h: &mut Harness<'_, App>) {
    let input = h.input_mut();
    input
        .events
        .push(egui::Event::ModifiersChanged(egui::Modifiers::COMMAND));
    input.events.push(egui::Event::Key {
        key: egui::Key::S,
        physical_key: None,
        pressed: true,
        repeat: false,
        modifiers: egui::Modifiers::COMMAND,
    });
    input
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .events
        .push(egui::ViewportEvent::Close);
    input
        .events
        .push(egui::Event::ModifiersChanged(egui::Modifiers::default()));
    h.step();
}

/// Steps frame by frame until the close stops waiting (10 s at most), so that the last frame's
/// output holds what that frame asked of the window (`until` runs further frames).
fn step_until_closed(h: &mut Harness<'_, App>) {
    let start = Instant::now();
    while h.state().closing() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the save never ended"
        );
        std::thread::sleep(Duration::from_millis(10));
        h.step();
    }
}

fn commands(h: &Harness<'_, App>) -> Vec<egui::ViewportCommand> {
    h.output()
        .viewport_output
        .get(&egui::ViewportId::ROOT)
        .map(|v| v.commands.clone())
        .unwrap_or_default()
}

#[test]
fn closing_right_after_a_save_waits_for_it_and_a_failed_save_asks_first() {
    let cfg = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quick.toml");
    let p = presets::microsoft365_profile();
    std::fs::write(
        &path,
        profile::to_string(&p, profile::Format::Toml).unwrap(),
    )
    .unwrap();
    let mut h = harness(app(cfg.path(), Some(&path), Secrets::memory_only()));
    h.run();
    type_into(&mut h, "Tenant", "fabrikam.onmicrosoft.com");
    assert!(h.state().dirty());

    save_and_close_at_once(&mut h);
    let now = commands(&h);
    assert!(
        now.contains(&egui::ViewportCommand::CancelClose),
        "the close waits: {now:?}"
    );
    assert!(h.state().closing(), "a close waits for the save");
    assert!(
        h.query_by_label("Discard changes").is_none(),
        "what is being saved is not 'unsaved'"
    );
    step_until_closed(&mut h);
    assert!(
        commands(&h).contains(&egui::ViewportCommand::Close),
        "once saved, the window closes: {:?}",
        commands(&h)
    );
    assert!(!h.state().dirty());
    assert_eq!(
        profile::load(&path).unwrap().0.accounts[0]
            .tenant
            .as_deref(),
        Some("fabrikam.onmicrosoft.com"),
        "the file has the change"
    );

    // The same, but the save fails (its folder is gone): the window stays and asks.
    let mut h = harness(app(cfg.path(), Some(&path), Secrets::memory_only()));
    h.run();
    type_into(&mut h, "Tenant", "contoso.onmicrosoft.com");
    std::fs::remove_dir_all(dir.path()).unwrap();
    save_and_close_at_once(&mut h);
    step_until_closed(&mut h);
    assert!(
        !commands(&h).contains(&egui::ViewportCommand::Close),
        "a failed save does not close the window"
    );
    h.run();
    assert!(h.state().dirty(), "the change is still there");
    h.get_by_label("Discard changes");
    let status = h.state().status().cloned().unwrap();
    assert!(status.0 && status.1.contains("cannot"), "{status:?}");
}
