//! The frame around the forms: the File menu, the sidebar of accounts, transports and
//! mailboxes (with add, duplicate, delete and a status dot), the status bar with Undo, and the
//! dialogs that ask before unsaved changes are dropped.

use eframe::egui::{self, RichText};

use super::app::{App, Pending, Selected, SignIn};
use super::testview::Target;
use super::widgets::{self, Dot};
use crate::engine::Pick;
use crate::export::ExportFormat;
use crate::profile::{Flow, Protocol, Provider, presets};

pub fn frame(app: &mut App, ui: &mut egui::Ui) {
    egui::Panel::top("menu").show(ui, |ui| menu(app, ui));
    egui::Panel::bottom("status").show(ui, |ui| status_bar(app, ui));
    egui::Panel::left("sidebar")
        .resizable(true)
        .default_size(240.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| sidebar(app, ui));
        });
    egui::CentralPanel::default().show(ui, |ui| {
        egui::ScrollArea::vertical().show(ui, |ui| {
            if app.draft_offer.is_some() {
                widgets::callout(ui, false, |ui| {
                    ui.strong("Unsaved changes from last time were kept.");
                    ui.horizontal(|ui| {
                        if ui.button("Restore them").clicked() {
                            app.restore_draft(true);
                        }
                        if ui.button("Discard").clicked() {
                            app.restore_draft(false);
                        }
                    });
                });
                ui.add_space(8.0);
            }
            super::forms::show(app, ui);
        });
    });
    if let Some(what) = app.confirm {
        confirm(app, ui.ctx(), what);
    } else if let Some(s) = app.start.as_mut()
        && let Some(a) = super::discover::show(ui.ctx(), s)
    {
        app.start_action(a);
    }
}

fn menu(app: &mut App, ui: &mut egui::Ui) {
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            if ui
                .add(egui::Button::new("New…").shortcut_text("Ctrl+N"))
                .clicked()
            {
                app.ask(Pending::New);
            }
            if ui
                .add(egui::Button::new("Open…").shortcut_text("Ctrl+O"))
                .clicked()
            {
                app.ask(Pending::Open);
            }
            if ui
                .add(egui::Button::new("Save").shortcut_text("Ctrl+S"))
                .clicked()
            {
                app.save(false);
            }
            if ui.button("Save as…").clicked() {
                app.save(true);
            }
            ui.separator();
            if ui.button("Import…").clicked() {
                app.ask(Pending::Import);
            }
            ui.menu_button("Export", |ui| {
                for f in ExportFormat::ALL {
                    if ui.button(format!("{}…", f.label())).clicked() {
                        app.export_format = *f;
                        app.pick(Pick::Export);
                    }
                }
                ui.separator();
                ui.checkbox(&mut app.export_html, "Sheets as HTML for printing");
                ui.checkbox(
                    &mut app.export_secrets,
                    "Include secrets (from the keyring)",
                )
                .on_hover_text(
                    "Off by default. The file is written readable by you only; keep it private.",
                );
            });
            ui.separator();
            if ui.button("Quit").clicked() {
                app.ask(Pending::Quit);
            }
        });
        ui.menu_button("Tests", |ui| {
            if ui.button("Test all").clicked() {
                test_all(app);
            }
            if ui
                .button("Cancel running tests and sign-ins (Esc)")
                .clicked()
            {
                app.cancel_all();
            }
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            theme_choice(ui);
        });
    });
}

/// System, light or dark, in words (egui's own switch draws emoji the default fonts lack).
fn theme_choice(ui: &mut egui::Ui) {
    let mut pref = ui.ctx().options(|o| o.theme_preference);
    let before = pref;
    let name = |p: egui::ThemePreference| match p {
        egui::ThemePreference::System => "System theme",
        egui::ThemePreference::Light => "Light",
        egui::ThemePreference::Dark => "Dark",
    };
    egui::ComboBox::from_label("Theme")
        .selected_text(name(pref))
        .show_ui(ui, |ui| {
            for p in [
                egui::ThemePreference::System,
                egui::ThemePreference::Light,
                egui::ThemePreference::Dark,
            ] {
                ui.selectable_value(&mut pref, p, name(p));
            }
        });
    if pref != before {
        ui.ctx().set_theme(pref);
    }
}

pub fn test_all(app: &mut App) {
    let targets: Vec<Target> = app
        .profile
        .mailboxes
        .iter()
        .map(|m| Target::Mailbox(m.name.clone()))
        .chain(
            app.profile
                .transports
                .iter()
                .map(|t| Target::Transport(t.name.clone())),
        )
        .collect();
    for t in targets {
        app.start_test(t);
    }
}

fn status_bar(app: &mut App, ui: &mut egui::Ui) {
    ui.horizontal(|ui| {
        if app.dirty() {
            ui.label(RichText::new("Unsaved changes").color(ui.visuals().warn_fg_color));
        }
        if let Some((err, text)) = &app.status {
            let c = if *err {
                ui.visuals().error_fg_color
            } else {
                ui.visuals().text_color()
            };
            ui.label(RichText::new(text).color(c));
        }
        if let Some((what, _, _)) = &app.undo {
            let label = format!("Undo: {what}");
            if ui.button(label).clicked()
                && let Some((_, p, sel)) = app.undo.take()
            {
                app.profile = p;
                app.selected = sel;
            }
        }
    });
}

fn confirm(app: &mut App, ctx: &egui::Context, what: Pending) {
    let verb = match what {
        Pending::New => "start a new profile",
        Pending::Open => "open another profile",
        Pending::Import => "import",
        Pending::Quit => "quit",
    };
    egui::Modal::new(egui::Id::unique("confirm-discard")).show(ctx, |ui| {
        ui.heading("Unsaved changes");
        ui.label(format!(
            "This profile has changes that are not saved. Discard them and {verb}?"
        ));
        ui.horizontal(|ui| {
            if ui.button("Discard changes").clicked() {
                app.proceed(what);
            }
            if ui.button("Save first").clicked() {
                app.confirm = None;
                app.save(false);
            }
            if ui.button("Cancel").clicked() || ui.input(|i| i.key_pressed(egui::Key::Escape)) {
                app.confirm = None;
            }
        });
    });
}

fn sidebar(app: &mut App, ui: &mut egui::Ui) {
    ui.add_space(4.0);
    section_head(ui, "Connected accounts", |ui| {
        if ui
            .small_button("+ Add")
            .on_hover_text("Add a connected account")
            .clicked()
        {
            let n = unique(
                &app.profile
                    .accounts
                    .iter()
                    .map(|a| a.name.clone())
                    .collect::<Vec<_>>(),
                "Account",
            );
            app.profile
                .accounts
                .push(presets::account(&n, Provider::Microsoft, Flow::AppOnly));
            app.selected = Selected::Account(app.profile.accounts.len() - 1);
        }
    });
    for i in 0..app.profile.accounts.len() {
        let name = app.profile.accounts[i].name.clone();
        let dot = match app.sign_ins.get(&name) {
            Some(SignIn::Waiting { .. }) => Dot::Running,
            Some(SignIn::Done(t)) if t.problems.is_empty() => Dot::Ok,
            Some(SignIn::Done(_)) => Dot::Warning,
            Some(SignIn::Failed(_)) => Dot::Failed,
            None => Dot::None,
        };
        item(app, ui, Selected::Account(i), &name, dot);
    }
    ui.add_space(10.0);
    targets(app, ui);
    ui.add_space(10.0);
    ui.separator();
    if ui
        .selectable_label(
            app.selected == Selected::Settings,
            "Settings (TLS, timeouts)",
        )
        .clicked()
    {
        app.selected = Selected::Settings;
    }
}

/// The transports and mailboxes, each with the dot of its last test.
fn targets(app: &mut App, ui: &mut egui::Ui) {
    section_head(ui, "SMTP transports", |ui| {
        if ui
            .small_button("+ Add")
            .on_hover_text("Add an SMTP transport")
            .clicked()
        {
            let n = unique(
                &app.profile
                    .transports
                    .iter()
                    .map(|t| t.name.clone())
                    .collect::<Vec<_>>(),
                "SMTP",
            );
            let account = app.profile.accounts.first().map(|a| a.name.clone());
            app.profile
                .transports
                .push(presets::MICROSOFT365_SMTP.transport(&n, "", account.as_deref()));
            app.selected = Selected::Transport(app.profile.transports.len() - 1);
        }
    });
    for i in 0..app.profile.transports.len() {
        let name = app.profile.transports[i].name.clone();
        let dot = app
            .tests
            .get(&Target::Transport(name.clone()))
            .map_or(Dot::None, super::testview::TestRun::dot);
        item(app, ui, Selected::Transport(i), &name, dot);
    }
    ui.add_space(10.0);
    section_head(ui, "Mailboxes", |ui| {
        if ui
            .small_button("+ Add")
            .on_hover_text("Add a mailbox")
            .clicked()
        {
            let n = unique(
                &app.profile
                    .mailboxes
                    .iter()
                    .map(|m| m.name.clone())
                    .collect::<Vec<_>>(),
                "Mailbox",
            );
            let account = app.profile.accounts.first().map(|a| a.name.clone());
            app.profile
                .mailboxes
                .push(presets::MICROSOFT365_IMAP.mailbox(
                    &n,
                    Protocol::Imap,
                    "",
                    account.as_deref(),
                ));
            app.selected = Selected::Mailbox(app.profile.mailboxes.len() - 1);
        }
    });
    for i in 0..app.profile.mailboxes.len() {
        let name = app.profile.mailboxes[i].name.clone();
        let dot = app
            .tests
            .get(&Target::Mailbox(name.clone()))
            .map_or(Dot::None, super::testview::TestRun::dot);
        item(app, ui, Selected::Mailbox(i), &name, dot);
    }
}

fn section_head(ui: &mut egui::Ui, title: &str, add: impl FnOnce(&mut egui::Ui)) {
    ui.horizontal(|ui| {
        ui.strong(title);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), add);
    });
}

fn item(app: &mut App, ui: &mut egui::Ui, which: Selected, name: &str, dot: Dot) {
    ui.horizontal(|ui| {
        widgets::dot(ui, dot);
        let shown = if name.is_empty() { "(unnamed)" } else { name };
        if ui.selectable_label(app.selected == which, shown).clicked() {
            app.selected = which;
            app.secret_input.clear();
            app.reveal_secret = false;
        }
    });
}

/// `base`, or `base 2`, `base 3`… whichever is free.
pub fn unique(taken: &[String], base: &str) -> String {
    if !taken.iter().any(|t| t == base) {
        return base.to_owned();
    }
    (2..10_000)
        .map(|i| format!("{base} {i}"))
        .find(|n| !taken.contains(n))
        .unwrap_or_else(|| base.to_owned())
}
