//! The forms: connected account, SMTP transport, mailbox and settings, with the fields of the
//! guides, provider presets, and the profile's own validation shown at each field.

use std::collections::HashMap;

use eframe::egui::{self, RichText};

use super::app::{App, Selected};
use super::testview::{self, Target};
use super::widgets::{self, Note, choice_row, opt_row, text_row};
use crate::profile::presets::{self, Server};
use crate::profile::{Encryption, Flow, Protocol, Provider, Severity};

const PROVIDERS: &[(Provider, &str)] = &[
    (Provider::Microsoft, "Microsoft 365 / Exchange Online"),
    (Provider::Google, "Google (Gmail)"),
    (Provider::Generic, "Other (OAuth2 endpoints)"),
];
const FLOWS: &[(Flow, &str)] = &[
    (Flow::AppOnly, "App-only (client credentials)"),
    (Flow::Delegated, "Delegated (browser sign-in)"),
    (Flow::DeviceCode, "Device code (no browser here)"),
];
const ENCRYPTIONS: &[(Encryption, &str)] = &[
    (Encryption::Tls, "TLS (implicit)"),
    (Encryption::StartTls, "STARTTLS"),
    (Encryption::None, "None"),
];
const PROTOCOLS: &[(Protocol, &str)] = &[(Protocol::Imap, "IMAP"), (Protocol::Pop3, "POP3")];

/// Findings of the profile by key (`mailboxes[0].port`), as notes for the fields.
fn notes_by_key(app: &mut App) -> HashMap<String, Vec<Note>> {
    // A discovered draft's fields say where their values came from (src/ui/discover.rs).
    let mut m = super::discover::source_notes(app);
    for f in app.findings() {
        let text = format!("{} — {}", f.message, f.fix);
        let note = if f.severity == Severity::Error {
            Note::error(text)
        } else {
            Note::warning(text)
        };
        m.entry(f.key()).or_default().push(note);
    }
    m
}

pub fn show(app: &mut App, ui: &mut egui::Ui) {
    let notes = notes_by_key(app);
    let n = |k: String| notes.get(&k).cloned().unwrap_or_default();
    match app.selected {
        Selected::Account(i) if i < app.profile.accounts.len() => account(app, ui, i, &n),
        Selected::Transport(i) if i < app.profile.transports.len() => transport(app, ui, i, &n),
        Selected::Mailbox(i) if i < app.profile.mailboxes.len() => mailbox(app, ui, i, &n),
        Selected::Settings => settings(app, ui, &n),
        _ => {
            ui.heading("Nothing selected");
            ui.label(
                "Choose or add a connected account, an SMTP transport or a mailbox on the left.",
            );
        }
    }
}

/// The heading of a form with Duplicate and Delete (Undo in the status bar).
fn header(app: &mut App, ui: &mut egui::Ui, kind: &str, which: Selected) -> bool {
    let mut gone = false;
    ui.horizontal(|ui| {
        let name = match which {
            Selected::Account(i) => app.profile.accounts[i].name.clone(),
            Selected::Transport(i) => app.profile.transports[i].name.clone(),
            Selected::Mailbox(i) => app.profile.mailboxes[i].name.clone(),
            Selected::Settings => String::new(),
        };
        ui.heading(format!("{kind}: {name}"));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Delete").clicked() {
                app.undo = Some((
                    format!("delete {kind} \"{name}\""),
                    app.profile.clone(),
                    which,
                ));
                let p = &mut app.profile;
                match which {
                    Selected::Account(i) => drop(p.accounts.remove(i)),
                    Selected::Transport(i) => drop(p.transports.remove(i)),
                    Selected::Mailbox(i) => drop(p.mailboxes.remove(i)),
                    Selected::Settings => {}
                }
                app.selected = Selected::Settings;
                app.status = Some((false, format!("Deleted {kind} \"{name}\".")));
                gone = true;
            }
            if ui.button("Duplicate").clicked() {
                let p = &mut app.profile;
                app.selected = match which {
                    Selected::Account(i) => {
                        Selected::Account(duplicate(&mut p.accounts, i, |a| &mut a.name))
                    }
                    Selected::Transport(i) => {
                        Selected::Transport(duplicate(&mut p.transports, i, |t| &mut t.name))
                    }
                    Selected::Mailbox(i) => {
                        Selected::Mailbox(duplicate(&mut p.mailboxes, i, |m| &mut m.name))
                    }
                    Selected::Settings => Selected::Settings,
                };
            }
        });
    });
    ui.add_space(6.0);
    gone
}

/// Appends a copy of `items[i]` under a free name ("Name copy", "Name copy 2"…); its index.
fn duplicate<T: Clone>(items: &mut Vec<T>, i: usize, name: fn(&mut T) -> &mut String) -> usize {
    let taken: Vec<String> = items.iter_mut().map(|t| name(t).clone()).collect();
    let mut copy = items[i].clone();
    let new = super::view::unique(&taken, &format!("{} copy", name(&mut copy)));
    *name(&mut copy) = new;
    items.push(copy);
    items.len() - 1
}

fn grid(ui: &mut egui::Ui, id: &str, add: impl FnOnce(&mut egui::Ui)) {
    egui::Grid::new(id)
        .num_columns(2)
        .spacing([14.0, 8.0])
        .min_col_width(150.0)
        .show(ui, add);
}

fn account(app: &mut App, ui: &mut egui::Ui, i: usize, notes: &dyn Fn(String) -> Vec<Note>) {
    if header(app, ui, "Connected account", Selected::Account(i)) {
        return;
    }
    let k = |f: &str| notes(format!("accounts[{i}].{f}"));
    let old_name = app.profile.accounts[i].name.clone();
    let a = &mut app.profile.accounts[i];
    let (old_provider, old_flow) = (a.provider, a.flow);
    grid(ui, "account", |ui| {
        text_row(ui, "Name", &mut a.name, "e.g. Office365", &k("name"));
        choice_row(ui, "Provider", &mut a.provider, PROVIDERS, &k("provider"));
        let flows = if a.provider == Provider::Google {
            super::google::FLOWS
        } else {
            FLOWS
        };
        choice_row(ui, "Sign-in", &mut a.flow, flows, &k("flow"));
        if a.provider == Provider::Microsoft {
            opt_row(
                ui,
                "Tenant",
                &mut a.tenant,
                "Directory (tenant) ID or domain, e.g. contoso.onmicrosoft.com",
                &k("tenant"),
            );
        }
        text_row(
            ui,
            "Client ID",
            &mut a.client_id,
            "Application (client) ID",
            &k("client_id"),
        );
        let mut scopes = a.scopes.join(" ");
        if text_row(ui, "Scopes", &mut scopes, "space-separated", &k("scopes")) {
            a.scopes = scopes.split_whitespace().map(str::to_owned).collect();
        }
        if a.provider == Provider::Microsoft {
            opt_row(
                ui,
                "Enterprise object ID",
                &mut a.enterprise_object_id,
                "Enterprise application's Object ID (for the PowerShell steps)",
                &k("enterprise_object_id"),
            );
            if a.flow == Flow::AppOnly {
                opt_row(
                    ui,
                    "Secret expires",
                    &mut a.client_secret_expires,
                    "YYYY-MM-DD: a reminder 30 days before",
                    &k("client_secret_expires"),
                );
            }
            opt_row(
                ui,
                "Authority",
                &mut a.authority,
                "https://login.microsoftonline.com (other clouds: change)",
                &k("authority"),
            );
        }
        if a.provider == Provider::Generic {
            generic_fields(ui, a, &k);
        }
        if a.flow != Flow::AppOnly {
            opt_row(
                ui,
                "Redirect URI",
                &mut a.redirect_uri,
                "http://localhost (any port)",
                &k("redirect_uri"),
            );
        }
    });
    // A new provider or flow brings its standard scopes.
    if (a.provider, a.flow) != (old_provider, old_flow) {
        a.scopes = presets::scopes(a.provider, a.flow)
            .into_iter()
            .map(str::to_owned)
            .collect();
    }
    let new_name = a.name.clone();
    if new_name != old_name {
        rename_account(app, &old_name, &new_name);
    }
    ui.add_space(10.0);
    super::signin::show(app, ui, i);
    super::setup::show(app, ui, i);
    super::checklist_view::show(app, ui, i);
}

/// A generic provider's endpoints, by hand or from its issuer.
fn generic_fields(
    ui: &mut egui::Ui,
    a: &mut crate::profile::Account,
    k: &dyn Fn(&str) -> Vec<Note>,
) {
    opt_row(
        ui,
        "Issuer",
        &mut a.issuer,
        "reads .well-known/openid-configuration",
        &k("issuer"),
    );
    opt_row(
        ui,
        "Authorize URL",
        &mut a.authorize_url,
        "",
        &k("authorize_url"),
    );
    opt_row(ui, "Token URL", &mut a.token_url, "", &k("token_url"));
    opt_row(
        ui,
        "Device URL",
        &mut a.device_authorization_url,
        "",
        &k("device_authorization_url"),
    );
}

/// Keeps transports and mailboxes pointing at a renamed account.
fn rename_account(app: &mut App, old: &str, new: &str) {
    for t in &mut app.profile.transports {
        if t.account.as_deref() == Some(old) {
            t.account = Some(new.to_owned());
        }
    }
    for m in &mut app.profile.mailboxes {
        if m.account.as_deref() == Some(old) {
            m.account = Some(new.to_owned());
        }
    }
}

/// A preset picker that fills host, port and encryption.
fn preset_row(ui: &mut egui::Ui, id: &str, servers: &[Server]) -> Option<Server> {
    let l = ui.label("Preset");
    let mut chosen = None;
    egui::ComboBox::from_id_salt(id)
        .selected_text("Fill from a provider…")
        .width(220.0)
        .show_ui(ui, |ui| {
            for s in servers {
                if ui.selectable_label(false, s.label).clicked() {
                    chosen = Some(*s);
                }
            }
        })
        .response
        .labelled_by(l.id);
    ui.end_row();
    chosen
}

/// The port as typed: a bad one is said at the field and the profile keeps the last good one.
fn port_row(
    ui: &mut egui::Ui,
    ports: &mut HashMap<String, String>,
    key: String,
    port: &mut u16,
    mut notes: Vec<Note>,
) {
    let text = ports.entry(key).or_insert_with(|| port.to_string());
    if let Ok(v) = text.trim().parse::<u16>()
        && v != 0
        && v != *port
    {
        *text = port.to_string(); // changed elsewhere (a preset)
    }
    let valid = text.trim().parse::<u16>().ok().filter(|v| *v != 0);
    if valid.is_none() {
        notes.insert(0, Note::error(format!("\"{}\" is not a port: expected a whole number from 1 to 65535 (IMAP 993, POP3 995, SMTP 587)", text.trim())));
    }
    if text_row(ui, "Port", text, "993", &notes)
        && let Some(v) = text.trim().parse::<u16>().ok().filter(|v| *v != 0)
    {
        *port = v;
    }
}

/// A password for a server without OAuth2, masked, saved to the keyring (never the profile).
/// Returns whether "Save to keyring" was pressed.
fn password_row(ui: &mut egui::Ui, input: &mut String) -> bool {
    let l = ui.label("Password");
    let saved = ui
        .horizontal(|ui| {
            ui.add(
                egui::TextEdit::singleline(input)
                    .password(true)
                    .hint_text("kept in the OS keyring")
                    .desired_width(260.0),
            )
            .labelled_by(l.id);
            ui.button("Save to keyring")
                .on_hover_text("An empty field removes the stored password")
                .clicked()
        })
        .inner;
    ui.end_row();
    saved
}

fn account_choice(ui: &mut egui::Ui, accounts: &[String], value: &mut Option<String>) {
    let l = ui.label("XOAuth2 account");
    let shown = value
        .clone()
        .unwrap_or_else(|| "(none: password)".to_owned());
    egui::ComboBox::from_id_salt("xoauth2-account")
        .selected_text(shown)
        .width(220.0)
        .show_ui(ui, |ui| {
            for a in accounts {
                if ui
                    .selectable_label(value.as_deref() == Some(a), a)
                    .clicked()
                {
                    *value = Some(a.clone());
                }
            }
            if ui
                .selectable_label(value.is_none(), "(none: password)")
                .clicked()
            {
                *value = None;
            }
        })
        .response
        .labelled_by(l.id);
    ui.end_row();
}

fn transport(app: &mut App, ui: &mut egui::Ui, i: usize, notes: &dyn Fn(String) -> Vec<Note>) {
    if header(app, ui, "SMTP transport", Selected::Transport(i)) {
        return;
    }
    let k = |f: &str| notes(format!("transports[{i}].{f}"));
    let accounts: Vec<String> = app
        .profile
        .accounts
        .iter()
        .map(|a| a.name.clone())
        .collect();
    let t = &mut app.profile.transports[i];
    let mut save_pw = false;
    grid(ui, "transport", |ui| {
        text_row(ui, "Name", &mut t.name, "", &k("name"));
        if let Some(s) = preset_row(ui, "smtp-preset", presets::SMTP_SERVERS) {
            (t.host, t.port, t.encryption) = (s.host.to_owned(), s.port, s.encryption);
        }
        text_row(ui, "Host", &mut t.host, "smtp.office365.com", &k("host"));
        port_row(
            ui,
            &mut app.ports,
            format!("transports[{i}].port"),
            &mut t.port,
            k("port"),
        );
        choice_row(
            ui,
            "Encryption",
            &mut t.encryption,
            ENCRYPTIONS,
            &k("encryption"),
        );
        let l = ui.label("Authentication");
        ui.checkbox(&mut t.auth, "Sign in (SMTP AUTH)")
            .labelled_by(l.id);
        ui.end_row();
        opt_row(
            ui,
            "Username",
            &mut t.username,
            "the mailbox that sends, e.g. support@contoso.com",
            &k("username"),
        );
        account_choice(ui, &accounts, &mut t.account);
        if t.auth && t.account.is_none() {
            save_pw = password_row(ui, &mut app.secret_input);
        }
        let send_to_note: Vec<Note> = super::app::send_to_address(&app.send_to)
            .err()
            .map(|why| Note::error(format!("this {why}")))
            .into_iter()
            .collect();
        text_row(
            ui,
            "Send test to",
            &mut app.send_to,
            "optional: an address that gets a short test message",
            &send_to_note,
        );
    });
    let target = Target::Transport(t.name.clone());
    if save_pw {
        let entry = crate::secrets::transport_entry(&t.name);
        app.store_password(entry);
    }
    test_section(app, ui, &target);
}

fn mailbox(app: &mut App, ui: &mut egui::Ui, i: usize, notes: &dyn Fn(String) -> Vec<Note>) {
    if header(app, ui, "Mailbox", Selected::Mailbox(i)) {
        return;
    }
    let k = |f: &str| notes(format!("mailboxes[{i}].{f}"));
    let accounts: Vec<String> = app
        .profile
        .accounts
        .iter()
        .map(|a| a.name.clone())
        .collect();
    let m = &mut app.profile.mailboxes[i];
    let mut save_pw = false;
    grid(ui, "mailbox", |ui| {
        text_row(ui, "Name", &mut m.name, "", &k("name"));
        choice_row(ui, "Protocol", &mut m.protocol, PROTOCOLS, &k("protocol"));
        let servers = if m.protocol == Protocol::Imap {
            presets::IMAP_SERVERS
        } else {
            presets::POP3_SERVERS
        };
        if let Some(s) = preset_row(ui, "mailbox-preset", servers) {
            (m.host, m.port, m.encryption) = (s.host.to_owned(), s.port, s.encryption);
        }
        text_row(ui, "Host", &mut m.host, "outlook.office365.com", &k("host"));
        port_row(
            ui,
            &mut app.ports,
            format!("mailboxes[{i}].port"),
            &mut m.port,
            k("port"),
        );
        choice_row(
            ui,
            "Encryption",
            &mut m.encryption,
            ENCRYPTIONS,
            &k("encryption"),
        );
        text_row(
            ui,
            "User",
            &mut m.user,
            "the mailbox address, e.g. support@contoso.com",
            &k("user"),
        );
        account_choice(ui, &accounts, &mut m.account);
        if m.account.is_none() {
            save_pw = password_row(ui, &mut app.secret_input);
        }
    });
    let target = Target::Mailbox(m.name.clone());
    if save_pw {
        let entry = crate::secrets::mailbox_entry(&m.name);
        app.store_password(entry);
    }
    test_section(app, ui, &target);
}

fn test_section(app: &mut App, ui: &mut egui::Ui, target: &Target) {
    ui.add_space(12.0);
    ui.separator();
    ui.horizontal(|ui| {
        ui.heading("Connection test");
        let running = app
            .tests
            .get(target)
            .is_some_and(testview::TestRun::running);
        if running {
            if ui.button("Cancel").clicked() {
                app.cancel_test(target);
            }
        } else if ui
            .button(RichText::new("Test").strong())
            .on_hover_text("DNS, connect, TLS, greeting, capabilities, sign-in, INBOX, logout")
            .clicked()
        {
            app.start_test(target.clone());
        }
    });
    match app.tests.get(target) {
        Some(run) => testview::show(ui, run),
        None => {
            ui.label(RichText::new("Press Test to check every step, from DNS to logout.").weak());
        }
    }
}

fn settings(app: &mut App, ui: &mut egui::Ui, notes: &dyn Fn(String) -> Vec<Note>) {
    ui.heading("Settings");
    ui.add_space(6.0);
    let mut timeout = app.profile.probe.timeout_secs.to_string();
    let mut concurrency = app.profile.probe.concurrency.to_string();
    let mut browse = false;
    grid(ui, "settings", |ui| {
        let mut ca = app
            .profile
            .tls
            .ca_file
            .as_ref()
            .map(|p| p.display().to_string());
        if opt_row(
            ui,
            "Extra CA file",
            &mut ca,
            "PEM file trusted besides the system roots (private CAs)",
            &notes("tls.ca_file".into()),
        ) {
            app.profile.tls.ca_file = ca.map(std::path::PathBuf::from);
        }
        ui.label("");
        browse = ui.button("Browse…").clicked();
        ui.end_row();
        if text_row(
            ui,
            "Step timeout (s)",
            &mut timeout,
            "15",
            &notes("probe.timeout_secs".into()),
        ) && let Ok(v) = timeout.trim().parse()
        {
            app.profile.probe.timeout_secs = v;
        }
        if text_row(
            ui,
            "Tests at once",
            &mut concurrency,
            "8",
            &notes("probe.concurrency".into()),
        ) && let Ok(v) = concurrency.trim().parse()
        {
            app.profile.probe.concurrency = v;
        }
    });
    if browse {
        app.pick(crate::engine::Pick::CaFile);
    }
    ui.add_space(8.0);
    ui.label(
        RichText::new(
            "Certificates are always verified; an extra CA is trusted only when set here.",
        )
        .weak(),
    );
    if let Some(notice) = app.engine.secrets().notice() {
        ui.add_space(8.0);
        widgets::callout(ui, false, |ui| {
            ui.label(notice);
        });
    }
}
