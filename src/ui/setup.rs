//! "Set it up for me…" under a Microsoft 365 account: the set-up script for Azure Cloud Shell
//! (`crate::export::setup`) with Copy, the link to Cloud Shell, what the script will do (the same
//! plan the script is written from), and "Paste the result", which fills the account. The
//! secret goes to the keyring through the engine, off the UI thread. Drawing returns what the
//! user asked for ([`Action`]); [`apply`] carries it out, in the shape the window is moving to
//! (screens return actions, one place applies them).

use eframe::egui::{self, RichText};

use super::app::App;
use super::widgets;
use crate::export::setup::{self, CLOUD_SHELL_URL, SetupOptions, result};
use crate::profile::{Flow, Profile};

/// The set-up view of one account while it is open.
pub struct SetupView {
    pub account: String,
    pub secret_months: u32,
    /// What the user pasted: it holds the secret until "Fill the account" clears it.
    pub pasted: String,
    pub reveal: bool,
    /// The last paste's outcome: what changed, or why it was refused.
    pub outcome: Option<Result<Vec<String>, String>>,
    /// Just opened: scroll the form to it once.
    fresh: bool,
}

impl SetupView {
    pub fn new(account: &str) -> Self {
        Self {
            account: account.to_owned(),
            secret_months: setup::DEFAULT_SECRET_MONTHS,
            pasted: String::new(),
            reveal: false,
            outcome: None,
            fresh: true,
        }
    }
}

/// What the user asked for in the set-up view.
#[must_use]
pub enum Action {
    Open(String),
    Close,
    /// Read the pasted result into the account.
    Fill,
    /// Sign in and test everything, after a fill.
    Test,
}

/// Whether an account can be set up by the script (a Microsoft 365 work account).
fn applies(p: &Profile, account: &str) -> bool {
    setup::choose_account(p, Some(account)).is_ok()
}

/// The section under the account form: a button while closed, the view while open.
pub fn show(app: &mut App, ui: &mut egui::Ui, i: usize) {
    let name = app.profile.accounts[i].name.clone();
    if !applies(&app.profile, &name) {
        return;
    }
    let keyring = app.engine.secrets().is_persistent();
    // The form above can be wider than the window at 800 px: wrap to what is visible.
    let visible = (ui.clip_rect().right() - ui.cursor().left() - 8.0).max(300.0);
    let action = ui
        .scope(|ui| {
            ui.set_max_width(visible);
            match app.setup.as_mut().filter(|v| v.account == name) {
                Some(view) => draw(view, &app.profile, keyring, ui),
                None => closed(&name, ui),
            }
        })
        .inner;
    if let Some(a) = action {
        apply(app, a);
    }
}

fn closed(name: &str, ui: &mut egui::Ui) -> Option<Action> {
    ui.add_space(12.0);
    ui.separator();
    ui.heading("Set it up for me");
    ui.label(
        RichText::new(
            "One script for Azure Cloud Shell does every Entra ID and Exchange Online step of the checklist below; you paste its result back here.",
        )
        .weak(),
    );
    ui.button("Set it up for me…")
        .clicked()
        .then(|| Action::Open(name.to_owned()))
}

// One view, top to bottom in the order the admin goes through it.
#[allow(clippy::too_many_lines)]
fn draw(view: &mut SetupView, p: &Profile, keyring: bool, ui: &mut egui::Ui) -> Option<Action> {
    let mut action = None;
    ui.add_space(12.0);
    if std::mem::take(&mut view.fresh) {
        ui.scroll_to_cursor(Some(egui::Align::Min));
    }
    ui.separator();
    ui.horizontal(|ui| {
        ui.heading("Set it up for me");
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            if ui.button("Close").clicked() {
                action = Some(Action::Close);
            }
        });
    });
    let opts = |what_if| SetupOptions {
        account: Some(view.account.as_str()),
        secret_months: view.secret_months,
        what_if,
    };
    let plan = match setup::plan(p, &opts(false)) {
        Ok(plan) => plan,
        Err(e) => {
            widgets::callout(ui, true, |ui| {
                ui.label(format!("{e}"));
                ui.label(RichText::new(e.fix()).weak());
            });
            return action;
        }
    };
    let app_only = plan.account.flow == Flow::AppOnly;
    let (script, preview) = match (
        crate::export::export(
            p,
            crate::export::ExportFormat::Setup,
            &export_opts(opts(false)),
        ),
        crate::export::export(
            p,
            crate::export::ExportFormat::Setup,
            &export_opts(opts(true)),
        ),
    ) {
        (Ok(s), Ok(w)) => (s, w),
        (Err(e), _) | (_, Err(e)) => {
            widgets::callout(ui, true, |ui| {
                ui.label(format!("{e}"));
            });
            return action;
        }
    };
    ui.label("1. Open Azure Cloud Shell in PowerShell mode, signed in as an administrator of the tenant:");
    ui.indent("open", |ui| {
        ui.horizontal(|ui| {
            ui.hyperlink_to("Open Azure Cloud Shell", CLOUD_SHELL_URL);
            widgets::copy_button(ui, "Copy address", CLOUD_SHELL_URL);
            ui.label(RichText::new(CLOUD_SHELL_URL).monospace().weak());
        });
    });
    ui.label("2. Copy the script, paste it into Cloud Shell and press Enter:");
    ui.indent("copy", |ui| {
        ui.horizontal_wrapped(|ui| {
            if ui.button("Copy script").clicked() {
                ui.ctx().copy_text(script.clone());
            }
            if ui
                .button("Copy preview (-WhatIf)")
                .on_hover_text("The same script, ending with -WhatIf: it shows what it would change and changes nothing")
                .clicked()
            {
                ui.ctx().copy_text(preview.clone());
            }
            if app_only {
                let l = ui.label("New client secret valid for");
                ui.add(
                    egui::DragValue::new(&mut view.secret_months)
                        .range(1..=setup::MAX_SECRET_MONTHS)
                        .suffix(" months"),
                )
                .labelled_by(l.id);
            }
        });
    });
    ui.label("3. Paste the lines the script prints at its end into \"Paste the result\" below.");
    ui.add_space(6.0);
    ui.label(RichText::new("What this script will do").strong());
    for (n, s) in plan.steps.iter().enumerate() {
        ui.horizontal_wrapped(|ui| {
            ui.label(format!("{}. {}", n + 1, s.title));
            ui.label(RichText::new(&s.detail).small().weak());
        });
    }
    ui.label(
        RichText::new(
            "Each step checks first and says \"already done\" or \"done\"; the script stops at the first failure and names the step. It holds no secret; running it again is safe.",
        )
        .small()
        .weak(),
    );
    ui.add_space(6.0);
    egui::CollapsingHeader::new(format!("The script ({} lines)", script.lines().count()))
        .id_salt("setup-script")
        .show(ui, |ui| {
            egui::ScrollArea::vertical()
                .id_salt("setup-script-scroll")
                .min_scrolled_height(240.0)
                .max_height(320.0)
                .show(ui, |ui| {
                    let mut text = script.as_str();
                    let l = ui.label(RichText::new("PowerShell").small().weak());
                    ui.add(
                        egui::TextEdit::multiline(&mut text)
                            .code_editor()
                            .desired_width(f32::INFINITY),
                    )
                    .labelled_by(l.id);
                });
        });
    ui.add_space(6.0);
    let l = ui.label(RichText::new("Paste the result").strong());
    ui.horizontal(|ui| {
        ui.add(
            egui::TextEdit::multiline(&mut view.pasted)
                .password(!view.reveal)
                .hint_text(format!("{} … {}", setup::RESULT_BEGIN, setup::RESULT_END))
                .desired_rows(3)
                .desired_width((ui.available_width() - 80.0).max(200.0)),
        )
        .labelled_by(l.id);
        ui.checkbox(&mut view.reveal, "Show");
    });
    ui.horizontal(|ui| {
        if ui
            .add_enabled(
                !view.pasted.trim().is_empty(),
                egui::Button::new("Fill the account"),
            )
            .clicked()
        {
            action = Some(Action::Fill);
        }
        ui.label(
            RichText::new(if keyring {
                "The IDs go into the profile, the client secret into the OS keyring."
            } else {
                "No OS keyring: the client secret is kept for this session only."
            })
            .small()
            .weak(),
        );
    });
    match &view.outcome {
        Some(Ok(changes)) => widgets::callout(ui, false, |ui| {
            ui.label(RichText::new("The account is filled in.").strong());
            for c in changes {
                ui.label(c);
            }
            if ui.button("Sign in and test").clicked() {
                action = Some(Action::Test);
            }
        }),
        Some(Err(why)) => widgets::callout(ui, true, |ui| {
            ui.label(why);
        }),
        None => {}
    }
    action
}

fn export_opts(setup: SetupOptions<'_>) -> crate::export::ExportOptions<'_> {
    crate::export::ExportOptions {
        setup,
        ..crate::export::ExportOptions::default()
    }
}

/// Carries out what the set-up view asked for.
pub fn apply(app: &mut App, action: Action) {
    match action {
        Action::Open(name) => app.setup = Some(SetupView::new(&name)),
        Action::Close => app.setup = None,
        Action::Fill => fill(app),
        Action::Test => {
            if let Some(i) = app.setup.as_ref().and_then(|v| {
                app.profile
                    .accounts
                    .iter()
                    .position(|a| a.name == v.account)
            }) {
                app.sign_in(i);
            }
            super::view::test_all(app);
        }
    }
}

/// The pasted result into the account: checked, the IDs into the profile (saved at once when
/// nothing else was unsaved), the secret to the keyring, the reported steps to the checklist.
fn fill(app: &mut App) {
    let Some(view) = app.setup.as_mut() else {
        return;
    };
    let name = view.account.clone();
    // The pasted text holds the secret: it leaves the field whatever happens.
    let pasted = std::mem::take(&mut view.pasted);
    let outcome = fill_from(app, &name, &pasted);
    if let Some(view) = app.setup.as_mut() {
        view.outcome = Some(outcome);
    }
}

fn fill_from(app: &mut App, name: &str, pasted: &str) -> Result<Vec<String>, String> {
    let said = |e: &result::ResultError| format!("{e}.\nFix: {}", e.fix());
    let r = result::parse(pasted).map_err(|e| said(&e))?;
    let was_clean = !app.dirty();
    let Some(account) = app.profile.accounts.iter_mut().find(|a| a.name == name) else {
        return Err(format!(
            "the account \"{name}\" is no longer in the profile"
        ));
    };
    let applied = result::apply(&r, account).map_err(|e| said(&e))?;
    let mut said = applied.changes;
    if let Some(secret) = &r.client_secret {
        app.keep_client_secret(name, secret.clone());
        said.push(if app.engine.secrets().is_persistent() {
            "client secret: into the OS keyring".into()
        } else {
            "client secret: kept for this session only (no OS keyring)".into()
        });
    }
    app.setup_reported.insert(name.to_owned(), r.reported());
    if let Some(step) = &r.failed_step {
        said.push(format!(
            "The script stopped at step {step}: fix what it said and run it again."
        ));
    }
    if app.dirty() {
        if was_clean && app.path.is_some() {
            app.save(false);
            said.push("Saved the profile.".into());
        } else {
            said.push("Save the profile (Ctrl+S) to keep the IDs.".into());
        }
    }
    if said.is_empty() {
        said.push("The profile had these values already.".into());
    }
    Ok(said)
}
