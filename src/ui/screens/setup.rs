//! "Set it up for me…" under a Microsoft 365 account: the set-up script for Azure Cloud Shell
//! (`crate::export::setup`) with Copy, the link to Cloud Shell, what the script will do (the same
//! plan the script is written from), and "Paste the result", which fills the account. The
//! secret goes to the keyring through the engine, off the UI thread. The view's state (what is
//! pasted, the secret's months) is the form's own (`Input::setup`); filling the account and
//! testing come back as actions (`app/setup.rs` applies them).

use eframe::egui::{self, RichText};

use crate::export::setup::{self, CLOUD_SHELL_URL, SetupOptions};
use crate::profile::{Flow, Profile};
use crate::ui::action::{Action, Actions};
use crate::ui::view::Ctx;
use crate::ui::widgets;

/// The set-up view of one account while it is open.
#[derive(Debug)]
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

/// What the view does itself: open and close (its own state).
enum Local {
    Open(String),
    Close,
}

/// Whether an account can be set up by the script (a Microsoft 365 work account).
fn applies(p: &Profile, account: &str) -> bool {
    setup::choose_account(p, Some(account)).is_ok()
}

/// The section under the account form: a button while closed, the view while open.
pub fn show(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, i: usize) -> Actions {
    let p = ctx.profile;
    let name = p.accounts[i].name.clone();
    let mut out = Actions::default();
    if !applies(p, &name) {
        return out;
    }
    let keyring = ctx.keyring.persistent;
    let slot = &mut ctx.input.setup;
    let local = match slot.as_mut().filter(|v| v.account == name) {
        Some(view) => draw(view, p, keyring, ui, &mut out),
        None => closed(&name, ui),
    };
    match local {
        Some(Local::Open(account)) => *slot = Some(SetupView::new(&account)),
        Some(Local::Close) => *slot = None,
        None => {}
    }
    out
}

fn closed(name: &str, ui: &mut egui::Ui) -> Option<Local> {
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
        .then(|| Local::Open(name.to_owned()))
}

// One view, top to bottom in the order the admin goes through it.
#[allow(clippy::too_many_lines)]
fn draw(
    view: &mut SetupView,
    p: &Profile,
    keyring: bool,
    ui: &mut egui::Ui,
    out: &mut Actions,
) -> Option<Local> {
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
                action = Some(Local::Close);
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
            ui.label(RichText::new(&s.detail).weak());
        });
    }
    ui.label(
        RichText::new(
            "Each step checks first and says \"already done\" or \"done\"; the script stops at the first failure and names the step. It holds no secret; running it again is safe.",
        )
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
                    let l = ui.label(RichText::new("PowerShell").weak());
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
            // The pasted text holds the secret: it leaves the field whatever happens.
            let pasted = std::mem::take(&mut view.pasted);
            out.push(Action::SetupFill {
                account: view.account.clone(),
                pasted: pasted.into(),
            });
        }
        ui.label(
            RichText::new(if keyring {
                "The IDs go into the profile, the client secret into the OS keyring."
            } else {
                "No OS keyring: the client secret is kept for this session only."
            })
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
                out.push(Action::SetupTest(view.account.clone()));
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
