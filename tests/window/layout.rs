//! Layout from 800×600 to 1920×1080: every control inside the window (the rest reachable by
//! scrolling), forms no wider than a reader follows, a new item opened at its top, the transcript
//! tall enough to read, a long greeting wrapped inside the panel.

use egui::accesskit::Role;
use egui_kittest::kittest::{NodeT, Queryable};
use mailcfg::profile::presets;
use mailcfg::ui::{Action, Kind, Nav};

use crate::*;

/// Every button and text field lies inside the window's width.
fn nothing_cut_off(h: &egui_kittest::Harness<'_, mailcfg::ui::App>, width: f32) {
    for role in [
        Role::Button,
        Role::TextInput,
        Role::PasswordInput,
        Role::ComboBox,
    ] {
        for node in h.query_all_by_role(role) {
            let r = node.rect();
            assert!(
                r.right() <= width + 0.5,
                "{role:?} {:?} ends at {} in a {width} px window",
                node.accesskit_node().label(),
                r.right()
            );
        }
    }
}

#[test]
fn at_800_by_600_every_control_fits_and_the_checklist_is_reached_by_scrolling() {
    let (_rt, s) = servers();
    let cfg = tempfile::tempdir().unwrap();
    let p = all_on_servers(&s);
    let mut h = sized(
        app_with_secret(cfg.path(), p, Nav::Account(0)),
        800.0,
        600.0,
    );
    h.run();
    get_token(&mut h, "Get token");
    until(&mut h, "the keyring lookup", |a| {
        a.runtime().secrets.contains_key("Office365")
    });
    h.get_by_label("Remove");
    nothing_cut_off(&h, 800.0);
    let heading = h.get_by_label("Set-up checklist");
    assert!(
        heading.rect().top() > 600.0,
        "below the fold at first: {:?}",
        heading.rect()
    );
    heading.scroll_to_me();
    h.run();
    let r = h.get_by_label("Set-up checklist").rect();
    assert!(
        r.top() >= 0.0 && r.bottom() <= 600.0,
        "scrolled into view: {r:?}"
    );
    nothing_cut_off(&h, 800.0);
    h.state_mut().apply(Action::Select(Nav::Mailbox(0)));
    h.run();
    nothing_cut_off(&h, 800.0);
}

#[test]
fn at_1920_wide_the_form_keeps_a_readable_width() {
    let cfg = tempfile::tempdir().unwrap();
    let a = app_with(
        cfg.path(),
        presets::microsoft365_profile(),
        Nav::Mailbox(0),
        mailcfg::secrets::Secrets::memory_only(),
    );
    let mut h = sized(a, 1920.0, 1080.0);
    h.run();
    let host = h.get_by_role_and_label(Role::TextInput, "Host").rect();
    assert!(host.width() < 760.0, "Host is {} px wide", host.width());
    assert!(host.width() > 300.0, "Host is {} px wide", host.width());
}

#[test]
fn a_new_item_opens_at_its_top() {
    let cfg = tempfile::tempdir().unwrap();
    let a = app_with(
        cfg.path(),
        presets::microsoft365_profile(),
        Nav::Account(0),
        mailcfg::secrets::Secrets::memory_only(),
    );
    let mut h = sized(a, 800.0, 600.0);
    h.run();
    h.get_by_label("Set-up checklist").scroll_to_me();
    h.run();
    assert!(
        h.get_by_label("Connected account: Office365")
            .rect()
            .bottom()
            < 0.0,
        "scrolled down"
    );
    h.state_mut().apply(Action::Add(Kind::Account));
    h.run();
    let r = h.get_by_label("Connected account: Account").rect();
    assert!(
        r.top() >= 0.0 && r.top() < 120.0,
        "the new item starts at its top: {r:?}"
    );
}

#[test]
fn the_transcript_shows_many_lines_and_a_long_greeting_wraps_inside_the_panel() {
    let (_rt, s) = servers();
    let cfg = tempfile::tempdir().unwrap();
    let p = all_on_servers(&s);
    let mut h = sized(
        app_with_secret(cfg.path(), p, Nav::Mailbox(0)),
        800.0,
        600.0,
    );
    h.run();
    h.get_by_label("Test").click();
    h.step();
    until(&mut h, "the test", |a| tested(a, &inbox()));
    let lines = report(h.state(), &inbox()).transcript.len();
    assert!(lines > 5, "{lines}");
    let header = format!("Transcript ({lines} lines, secrets masked)");
    h.get_by_label(&header).scroll_to_me();
    h.run();
    h.get_by_label(&header).click();
    h.run();
    h.get_by_label("Copy transcript").scroll_to_me();
    h.run();
    let body = h.get_by_label_contains("S: * OK [CAPABILITY").rect();
    assert!(
        body.height() > 15.0 * 14.0,
        "the transcript is {} px tall",
        body.height()
    );
    // The greeting's detail (a capability list with few breaks) stays inside the window.
    for node in h.query_all_by_label_contains("Dovecot") {
        assert!(node.rect().right() <= 800.5, "{:?}", node.rect());
    }
}

#[test]
fn exchanges_base64_greeting_tag_wraps_inside_a_narrow_column() {
    let greeting = "* OK The Microsoft Exchange IMAP4 service is ready. [TQBXADQAUABSADEAMABDAEEAMAAwADAANAAuAG4AYQBtAHAAcgBkADEAMAAuAHAAcgBvAGQALgBvAHUAdABsAG8AbwBrAC4AYwBvAG0A]";
    let mut h = egui_kittest::Harness::builder()
        .with_size(egui::vec2(300.0, 400.0))
        .build_ui(|ui| {
            ui.horizontal_top(|ui| {
                ui.label("Greeting");
                mailcfg::ui::widgets::wrapped(ui, greeting);
            });
            mailcfg::ui::widgets::code(ui, greeting);
        });
    h.run();
    let nodes: Vec<_> = h
        .query_all_by_label_contains("TQBXADQAUABSADEAMABD")
        .collect();
    assert_eq!(nodes.len(), 2, "the row's detail and the code line");
    for node in nodes {
        let r = node.rect();
        assert!(r.right() <= 300.5, "runs off the edge: {r:?}");
    }
}
