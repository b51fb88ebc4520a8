//! The frame around the screens: the menu, the sidebar of accounts, transports, mailboxes and
//! pages (with a status dot each), the status bar with Undo, the summary of Test all, and the
//! dialogs (unsaved changes, saving a profile with errors, a path where no file dialog exists).
//! It draws what it is handed and returns actions, like every screen.

use std::fmt::Write as _;

use eframe::egui::{self, RichText};

use super::action::{Action, Actions, Kind, Nav, PathPrompt, Pending, TargetName, Theme};
use super::screens::start::StartScreen;
use super::screens::{self, MAX_WIDTH, Page};
use super::state::Summary;
use super::view::Ctx;
use super::widgets::{self, Dot};
use crate::engine::Pick;
use crate::export::ExportFormat;

/// A question the window waits on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dialog {
    Discard(Pending),
    /// Save although the profile has these errors?
    SaveAnyway(Vec<String>),
    Path(PathPrompt),
}

/// What the frame itself draws, borrowed from the app.
#[allow(clippy::struct_excessive_bools)] // what the frame shows, one switch each
pub struct Frame<'a> {
    pub nav: Nav,
    pub dirty: bool,
    pub status: Option<&'a (bool, String)>,
    pub undo: Option<&'a str>,
    pub draft_offered: bool,
    pub dialog: Option<&'a mut Dialog>,
    pub export_html: bool,
    pub export_secrets: bool,
    pub theme: Theme,
    pub summary: Option<Summary>,
    /// The start screen, while it is open.
    pub start: Option<&'a mut StartScreen>,
}

pub fn show(
    ui: &mut egui::Ui,
    f: Frame<'_>,
    ctx: &mut Ctx<'_>,
    pages: &mut [Box<dyn Page>],
) -> Actions {
    let mut out = Actions::default();
    egui::Panel::top("menu").show(ui, |ui| out.extend(menu(ui, &f)));
    egui::Panel::bottom("status").show(ui, |ui| out.extend(status_bar(ui, &f)));
    egui::Panel::left("sidebar")
        .resizable(true)
        .default_size(230.0)
        .min_size(170.0)
        .max_size(360.0)
        .show(ui, |ui| {
            egui::ScrollArea::vertical().show(ui, |ui| out.extend(sidebar(ui, f.nav, ctx, pages)));
        });
    egui::CentralPanel::default().show(ui, |ui| {
        // One scroll position per item: a newly selected item opens at its top.
        egui::ScrollArea::vertical()
            .id_salt(("screen", f.nav))
            .auto_shrink([false, false])
            .show(ui, |ui| {
                ui.set_max_width(MAX_WIDTH.min(ui.available_width()));
                if f.draft_offered {
                    out.extend(draft_offer(ui));
                }
                if let Some(s) = &f.summary {
                    out.extend(summary(ui, s, ctx));
                }
                out.extend(screens::show(ui, f.nav, ctx, pages));
            });
    });
    if let Some(d) = f.dialog {
        out.extend(dialog(ui.ctx(), d));
    } else if let Some(s) = f.start
        && let Some(a) = screens::start::show(ui.ctx(), s)
    {
        out.push(Action::Start(a));
    }
    out
}

fn menu(ui: &mut egui::Ui, f: &Frame<'_>) -> Actions {
    let mut out = Actions::default();
    egui::MenuBar::new().ui(ui, |ui| {
        ui.menu_button("File", |ui| {
            let item = |ui: &mut egui::Ui, label: &str, keys: &str| {
                ui.add(egui::Button::new(label).shortcut_text(keys)).clicked()
            };
            out.on(item(ui, "New…", "Ctrl+N"), Action::Ask(Pending::New));
            out.on(item(ui, "Open…", "Ctrl+O"), Action::Ask(Pending::Open));
            out.on(item(ui, "Save", "Ctrl+S"), Action::Save);
            out.on(ui.button("Save as…").clicked(), Action::SaveAs);
            ui.separator();
            out.on(ui.button("Import…").clicked(), Action::Ask(Pending::Import));
            ui.menu_button("Export", |ui| {
                for fmt in ExportFormat::ALL {
                    out.on(ui.button(format!("{}…", fmt.label())).clicked(), Action::Export(*fmt));
                }
                ui.separator();
                let mut html = f.export_html;
                if ui.checkbox(&mut html, "Sheets as HTML for printing").changed() {
                    out.push(Action::SetExportHtml(html));
                }
                let mut secrets = f.export_secrets;
                let r = ui
                    .checkbox(&mut secrets, "Include secrets (from the keyring)")
                    .on_hover_text("Off by default. The file is written readable by you only; keep it private.");
                if r.changed() {
                    out.push(Action::SetExportSecrets(secrets));
                }
            });
            ui.separator();
            out.on(ui.button("Quit").clicked(), Action::Ask(Pending::Quit));
        });
        ui.menu_button("Tests", |ui| {
            out.on(ui.button("Test all").clicked(), Action::ProbeAll);
            let cancel = ui.button("Cancel running tests and sign-ins (Esc)").clicked();
            out.on(cancel, Action::CancelAll);
        });
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            out.extend(theme_choice(ui, f.theme));
        });
    });
    out
}

/// System, light or dark, in words (egui's own switch draws emoji the default fonts lack).
fn theme_choice(ui: &mut egui::Ui, theme: Theme) -> Actions {
    let mut out = Actions::default();
    let name = |t: Theme| match t {
        Theme::System => "System theme",
        Theme::Light => "Light",
        Theme::Dark => "Dark",
    };
    egui::ComboBox::from_label("Theme")
        .selected_text(name(theme))
        .show_ui(ui, |ui| {
            for t in [Theme::System, Theme::Light, Theme::Dark] {
                out.on(
                    ui.selectable_label(theme == t, name(t)).clicked(),
                    Action::SetTheme(t),
                );
            }
        });
    out
}

fn status_bar(ui: &mut egui::Ui, f: &Frame<'_>) -> Actions {
    let mut out = Actions::default();
    ui.horizontal_wrapped(|ui| {
        if f.dirty {
            ui.label(RichText::new("Unsaved changes").color(ui.visuals().warn_fg_color));
        }
        if let Some((err, text)) = f.status {
            let c = if *err {
                ui.visuals().error_fg_color
            } else {
                ui.visuals().text_color()
            };
            ui.label(RichText::new(text).color(c));
        }
        if let Some(what) = f.undo {
            out.on(
                ui.button(format!("Undo: {what}"))
                    .on_hover_text("Ctrl+Z")
                    .clicked(),
                Action::Undo,
            );
        }
    });
    out
}

fn draft_offer(ui: &mut egui::Ui) -> Actions {
    let mut out = Actions::default();
    widgets::callout(ui, false, |ui| {
        ui.strong("Unsaved changes from last time were kept.");
        ui.horizontal_wrapped(|ui| {
            out.on(
                ui.button("Restore them").clicked(),
                Action::RestoreDraft(true),
            );
            out.on(ui.button("Discard").clicked(), Action::RestoreDraft(false));
        });
    });
    ui.add_space(8.0);
    out
}

/// The outcome of Test all: counts, and a button to each target that failed.
fn summary(ui: &mut egui::Ui, s: &Summary, ctx: &Ctx<'_>) -> Actions {
    let mut out = Actions::default();
    let failed = !s.failed.is_empty();
    widgets::callout(ui, failed, |ui| {
        ui.horizontal_wrapped(|ui| {
            let mut text = format!(
                "Test all: {} passed, {} failed",
                s.passed.len(),
                s.failed.len()
            );
            if s.running > 0 {
                let _ = write!(text, ", {} running", s.running);
            }
            ui.strong(text);
            out.on(ui.small_button("Dismiss").clicked(), Action::DismissSummary);
        });
        if failed {
            ui.horizontal_wrapped(|ui| {
                ui.label("Failed:");
                for t in &s.failed {
                    if ui.link(t.name()).clicked()
                        && let Some(nav) = nav_of(ctx, t)
                    {
                        out.push(Action::Select(nav));
                    }
                }
            });
        }
    });
    ui.add_space(8.0);
    out
}

fn nav_of(ctx: &Ctx<'_>, t: &TargetName) -> Option<Nav> {
    let p = ctx.profile;
    match t {
        TargetName::Mailbox(n) => p
            .mailboxes
            .iter()
            .position(|m| &m.name == n)
            .map(Nav::Mailbox),
        TargetName::Transport(n) => p
            .transports
            .iter()
            .position(|x| &x.name == n)
            .map(Nav::Transport),
    }
}

fn sidebar(ui: &mut egui::Ui, nav: Nav, ctx: &Ctx<'_>, pages: &[Box<dyn Page>]) -> Actions {
    let mut out = Actions::default();
    let (p, rt) = (ctx.profile, ctx.runtime);
    ui.add_space(4.0);
    out.extend(section_head(
        ui,
        "Connected accounts",
        "Add a connected account",
        Kind::Account,
    ));
    for (i, a) in p.accounts.iter().enumerate() {
        out.extend(item(
            ui,
            nav,
            Nav::Account(i),
            &a.name,
            rt.account_dot(p, a),
        ));
    }
    ui.add_space(10.0);
    out.extend(section_head(
        ui,
        "SMTP transports",
        "Add an SMTP transport",
        Kind::Transport,
    ));
    for (i, t) in p.transports.iter().enumerate() {
        let dot = rt.probe_dot(p, &TargetName::Transport(t.name.clone()));
        out.extend(item(ui, nav, Nav::Transport(i), &t.name, dot));
    }
    ui.add_space(10.0);
    out.extend(section_head(
        ui,
        "Mailboxes",
        "Add a mailbox",
        Kind::Mailbox,
    ));
    for (i, m) in p.mailboxes.iter().enumerate() {
        let dot = rt.probe_dot(p, &TargetName::Mailbox(m.name.clone()));
        out.extend(item(ui, nav, Nav::Mailbox(i), &m.name, dot));
    }
    ui.add_space(10.0);
    ui.separator();
    for page in pages {
        let this = Nav::Page(page.id());
        out.on(
            ui.selectable_label(nav == this, page.title()).clicked(),
            Action::Select(this),
        );
    }
    out
}

fn section_head(ui: &mut egui::Ui, title: &str, hover: &str, kind: Kind) -> Actions {
    let mut out = Actions::default();
    ui.horizontal(|ui| {
        ui.strong(title);
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            out.on(
                ui.small_button("+ Add").on_hover_text(hover).clicked(),
                Action::Add(kind),
            );
        });
    });
    out
}

fn item(ui: &mut egui::Ui, nav: Nav, this: Nav, name: &str, dot: Dot) -> Actions {
    let mut out = Actions::default();
    ui.horizontal(|ui| {
        widgets::dot(ui, dot);
        let shown = if name.is_empty() { "(unnamed)" } else { name };
        out.on(
            ui.selectable_label(nav == this, shown).clicked(),
            Action::Select(this),
        );
    });
    out
}

fn dialog(ctx: &egui::Context, d: &mut Dialog) -> Actions {
    let mut out = Actions::default();
    egui::Modal::new(egui::Id::unique("dialog")).show(ctx, |ui| {
        ui.set_max_width(520.0);
        let esc = ui.input(|i| i.key_pressed(egui::Key::Escape));
        match d {
            Dialog::Discard(what) => {
                let verb = match what {
                    Pending::New => "start a new profile",
                    Pending::Open => "open another profile",
                    Pending::Import => "import",
                    Pending::Quit => "quit",
                };
                ui.heading("Unsaved changes");
                ui.label(format!(
                    "This profile has changes that are not saved. Discard them and {verb}?"
                ));
                ui.horizontal_wrapped(|ui| {
                    out.on(
                        ui.button("Discard changes").clicked(),
                        Action::Discard(*what),
                    );
                    out.on(ui.button("Save first").clicked(), Action::Save);
                    out.on(ui.button("Cancel").clicked() || esc, Action::CloseDialog);
                });
            }
            Dialog::SaveAnyway(problems) => {
                ui.heading("Save a profile with errors?");
                ui.label(
                    "mailcfg opens it again, but tests and other systems refuse these values:",
                );
                for p in problems.iter() {
                    ui.add(egui::Label::new(format!("• {p}")).wrap());
                }
                ui.horizontal_wrapped(|ui| {
                    out.on(ui.button("Save anyway").clicked(), Action::SaveAnyway);
                    out.on(ui.button("Cancel").clicked() || esc, Action::CloseDialog);
                });
            }
            Dialog::Path(prompt) => out.extend(path_prompt(ui, prompt, esc)),
        }
    });
    out
}

fn path_prompt(ui: &mut egui::Ui, prompt: &mut PathPrompt, esc: bool) -> Actions {
    let mut out = Actions::default();
    let title = match prompt.pick {
        Pick::Open => "Open profile",
        Pick::SaveAs => "Save profile as",
        Pick::Import => "Import",
        Pick::Export => "Export to",
        Pick::CaFile => "CA certificate (PEM)",
        Pick::ServiceAccountKey => "Service account key (JSON)",
    };
    ui.heading(title);
    ui.add(
        egui::Label::new(format!(
            "{}. Type the file's path instead:",
            capital(&prompt.why)
        ))
        .wrap(),
    );
    let l = ui.label("Path");
    let r = ui
        .add(egui::TextEdit::singleline(&mut prompt.text).desired_width(f32::INFINITY))
        .labelled_by(l.id);
    let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
    let path = prompt.text.trim();
    ui.horizontal_wrapped(|ui| {
        let ok = ui
            .add_enabled(!path.is_empty(), egui::Button::new("OK"))
            .clicked();
        if (ok || enter) && !path.is_empty() {
            out.push(Action::PathTyped(prompt.pick, path.into()));
        }
        out.on(ui.button("Cancel").clicked() || esc, Action::CloseDialog);
    });
    out
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
