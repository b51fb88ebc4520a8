//! What a field takes and says: text that is not a value stays in its field and stops Test and
//! Save, naming the field; an empty ID says what to paste and where to find it; a new item waits
//! with its errors until it is typed into; findings use the form's words; a new protocol brings its
//! port; delete, undo and duplicate.

use egui::accesskit::Role;
use egui_kittest::kittest::Queryable;
use mailcfg::profile::presets;
use mailcfg::secrets::Secrets;
use mailcfg::ui::{Action, Kind, Nav};

use crate::*;

#[test]
fn a_typed_port_that_is_no_port_stays_in_its_field_and_stops_test_and_save() {
    let cfg = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    let p = presets::microsoft365_profile();
    mailcfg::profile::save(&p, &path).unwrap();
    let mut a = app(cfg.path(), Some(&path), Secrets::memory_only());
    a.apply(Action::Select(Nav::Mailbox(0)));
    let mut h = harness(a);
    h.run();
    type_into(&mut h, "Port", "99999");
    h.get_by_label_contains("not a port: expected a whole number from 1 to 65535");
    let field = h.get_by_role_and_label(Role::TextInput, "Port");
    assert_eq!(
        field.value().as_deref(),
        Some("99999"),
        "the text stays as typed"
    );
    assert_eq!(
        h.state().profile().mailboxes[0].port,
        993,
        "not 9999, nor 99999"
    );
    assert!(
        !h.state().dirty(),
        "nothing the user did not mean reached the profile"
    );

    h.get_by_label("Test").click();
    h.step();
    let said = h.state().status().unwrap().1.clone();
    assert!(
        said.starts_with("Cannot test: the Port of mailbox \"Office365\" is \"99999\""),
        "{said}"
    );
    assert!(h.state().runtime().probes.is_empty(), "no test ran");
    let before = std::fs::read_to_string(&path).unwrap();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::S);
    h.run();
    let said = h.state().status().unwrap().1.clone();
    assert!(
        said.starts_with("Cannot save: the Port of mailbox"),
        "{said}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        before,
        "the file is untouched"
    );

    type_into(&mut h, "Port", "143");
    let why = "not a port: expected a whole number from 1 to 65535 (IMAP 993, POP3 995, SMTP 587)";
    assert!(h.query_by_label(why).is_none(), "the field's error is gone");
    assert_eq!(h.state().profile().mailboxes[0].port, 143);
    // The profile's own rule, at the same field: 143 with TLS is unusual.
    h.get_by_label_contains("port 143 normally starts in plain text");
}

#[test]
fn the_first_start_leaves_the_ids_empty_and_says_what_to_paste_where() {
    let cfg = tempfile::tempdir().unwrap();
    let mut h = harness(app(cfg.path(), None, Secrets::memory_only()));
    h.run();
    assert_eq!(h.state().profile(), &presets::microsoft365_start());
    assert_eq!(h.state().title(), "mailcfg — new profile");
    for field in ["Tenant", "Client ID"] {
        let v = h.get_by_role_and_label(Role::TextInput, field).value();
        assert_eq!(v.as_deref(), Some(""), "{field} holds no example value");
    }
    h.get_by_label_contains(
        "Set \"Tenant\" to your Directory (tenant) ID from Entra ID → Overview",
    );
    h.get_by_label_contains("Copy the Application (client) ID from Entra ID → App registrations");
    assert!(
        !has(&h, "has no tenant"),
        "not an error before anything was tried"
    );
    assert!(
        !has(&h, "''"),
        "no checklist command with an empty value (-AppId '')"
    );

    h.get_by_label("Get token").click();
    h.run();
    let said = h.state().status().unwrap().1.clone();
    assert!(
        said.starts_with("Cannot sign in with \"Office365\" yet: fill in Tenant"),
        "{said}"
    );
    assert!(said.contains("and Client ID"), "{said}");
    assert!(
        h.state().runtime().sign_ins.is_empty(),
        "no identity provider was asked"
    );
    h.get_by_label_contains("account \"Office365\" has no tenant");
}

#[test]
fn a_new_item_opens_without_errors_until_it_is_typed_into() {
    let cfg = tempfile::tempdir().unwrap();
    let mut h = harness(app(cfg.path(), None, Secrets::memory_only()));
    h.run();
    h.state_mut().apply(Action::Add(Kind::Mailbox));
    h.run();
    assert_eq!(h.state().nav(), Nav::Mailbox(1));
    h.get_by_label("Mailbox: Mailbox");
    assert!(!has(&h, "has no user"), "no error before typing");
    h.get_by_label_contains("Set \"User\" to the mailbox address");
    type_into(&mut h, "Host", "bad host");
    h.get_by_label_contains("the host \"bad host\" contains ` `");
}

#[test]
fn findings_speak_of_the_forms_fields_not_the_files_keys() {
    let cfg = tempfile::tempdir().unwrap();
    let mut p = presets::microsoft365_profile();
    p.tls.ca_file = Some("/nonexistent/ca.pem".into());
    let mut h = harness(app_with(
        cfg.path(),
        p,
        Nav::Page("settings"),
        Secrets::memory_only(),
    ));
    // The CA file is read on the engine, not on the UI thread: its finding comes a little later.
    shown_soon(&mut h, "the CA file /nonexistent/ca.pem does not exist");
    h.get_by_label_contains("or remove \"Extra CA file\"");
    assert!(!has(&h, "ca_file"), "no key names at the fields");

    // Each change is checked again: a file without a certificate, then a good one.
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("key.pem");
    std::fs::write(
        &key,
        "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----\n",
    )
    .unwrap();
    type_into(&mut h, "Extra CA file", &key.display().to_string());
    shown_soon(&mut h, "holds no certificate");
    assert!(!has(&h, "does not exist"), "the old path's finding is gone");
    let good = dir.path().join("ca.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ])
        .args([
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=mailcfg window test CA",
        ])
        .arg("-keyout")
        .arg(dir.path().join("ca.key"))
        .arg("-out")
        .arg(&good)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    type_into(&mut h, "Extra CA file", &good.display().to_string());
    let start = std::time::Instant::now();
    while has(&h, "holds no certificate") {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "the finding stays"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
        h.step();
    }
    h.run();
    assert!(!has(&h, "the CA file"), "a good CA file has no finding");
}

/// Steps the window until a label containing `text` is shown (10 s at most).
fn shown_soon(h: &mut egui_kittest::Harness<'_, mailcfg::ui::App>, text: &str) {
    let start = std::time::Instant::now();
    while h.query_by_label_contains(text).is_none() {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "never shown: {text}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
        h.step();
    }
    h.run();
}

#[test]
fn switching_imap_to_pop3_moves_the_standard_port() {
    let cfg = tempfile::tempdir().unwrap();
    let a = app_with(
        cfg.path(),
        presets::microsoft365_profile(),
        Nav::Mailbox(0),
        Secrets::memory_only(),
    );
    let mut h = harness(a);
    h.run();
    h.get_by_role_and_label(Role::ComboBox, "Protocol").click();
    h.run();
    h.get_by_label("POP3").click();
    h.run();
    let m = &h.state().profile().mailboxes[0];
    assert_eq!(
        (m.protocol, m.port),
        (mailcfg::profile::Protocol::Pop3, 995)
    );
    let v = h.get_by_role_and_label(Role::TextInput, "Port").value();
    assert_eq!(v.as_deref(), Some("995"));
}

#[test]
fn deleting_asks_nothing_but_can_be_undone() {
    let cfg = tempfile::tempdir().unwrap();
    let start = presets::microsoft365_start();
    let a = app_with(
        cfg.path(),
        start.clone(),
        Nav::Transport(0),
        Secrets::memory_only(),
    );
    let mut h = harness(a);
    h.run();
    h.get_by_label("Delete").click();
    h.run();
    assert!(h.state().profile().transports.is_empty());
    h.get_by_label_contains("Undo: delete SMTP transport")
        .click();
    h.run();
    assert_eq!(h.state().profile(), &start);
    // Ctrl+Z undoes a delete too, when no text field has the keyboard.
    h.get_by_label("Office365 SMTP").click();
    h.run();
    h.get_by_label("Delete").click();
    h.run();
    assert!(h.state().profile().transports.is_empty());
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Z);
    h.run();
    assert_eq!(h.state().profile(), &start, "Ctrl+Z brought it back");
    // Duplicate twice: free names, and the copy is selected.
    h.get_by_label("Office365 SMTP").click();
    h.run();
    h.get_by_label("Duplicate").click();
    h.run();
    h.get_by_label("Duplicate").click();
    h.run();
    let names: Vec<&str> = h
        .state()
        .profile()
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
    assert_eq!(h.state().nav(), Nav::Transport(2));
}

#[test]
fn a_line_break_in_a_username_and_a_send_to_that_is_no_address_are_said_at_their_fields() {
    let cfg = tempfile::tempdir().unwrap();
    let mut p = presets::microsoft365_profile();
    // As a paste would leave it: a line break that would inject a command.
    p.transports[0].username = Some("shared@contoso.com>\r\nRCPT TO:<injected@evil.example".into());
    let mut h = harness(app_with(
        cfg.path(),
        p,
        Nav::Transport(0),
        Secrets::memory_only(),
    ));
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
    let (error, said) = h.state().status().cloned().unwrap();
    assert!(error && said.starts_with("Not tested"), "{said}");
    assert!(h.state().runtime().probes.is_empty(), "nothing was sent");
    type_into(&mut h, "Send test to", "someone@example.com");
    assert!(!has(&h, "this is not a mail address"));
}
