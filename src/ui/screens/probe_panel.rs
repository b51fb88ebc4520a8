//! The connection test of a mailbox or transport, drawn from its run as handed in: a row per step
//! (status, name, time, detail) that fills in live, the verdict, the failed step's diagnosis with
//! copyable admin commands and links to the portal pages, "I've done it: retest", what changed
//! since the run before, and the masked transcript. A result made with other settings says so.

use eframe::egui::{self, RichText};

use crate::probe::{Report, Status, Step};
use crate::profile::{Account, Provider};
use crate::ui::action::{Action, Actions, TargetName};
use crate::ui::state::ProbeRun;
use crate::ui::view::Ctx;
use crate::ui::widgets::{self, Dot};

pub fn show(ui: &mut egui::Ui, ctx: &Ctx<'_>, target: &TargetName) -> Actions {
    let mut out = Actions::default();
    let run = ctx.runtime.probes.get(target);
    ui.add_space(12.0);
    ui.separator();
    ui.horizontal_wrapped(|ui| {
        ui.heading("Connection test");
        if run.is_some_and(ProbeRun::running) {
            out.on(
                ui.button("Cancel").clicked(),
                Action::CancelProbe(target.clone()),
            );
        } else {
            let test = ui
                .button(RichText::new("Test").strong())
                .on_hover_text("DNS, connect, TLS, greeting, capabilities, sign-in, INBOX, logout");
            out.on(test.clicked(), Action::Probe(target.clone()));
        }
    });
    let Some(run) = run else {
        let hint = "Press Test to check every step, from DNS to logout.";
        ui.label(RichText::new(hint).weak());
        return out;
    };
    if let Some(why) = ctx.runtime.probe_stale(ctx.profile, target) {
        widgets::callout(ui, false, |ui| {
            ui.add(
                egui::Label::new(format!(
                    "These results were made with other settings ({why}): test again to see what the settings give now."
                ))
                .wrap(),
            );
        });
        ui.add_space(4.0);
    }
    if let Some(e) = &run.not_started {
        widgets::callout(ui, true, |ui| {
            ui.strong("The test could not start");
            ui.add(egui::Label::new(crate::ui::fields::in_form_words(e)).wrap());
        });
        return out;
    }
    steps(ui, run);
    if run.running() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Testing… (Esc cancels)");
        });
    }
    if let Some(r) = &run.report {
        let account = run.basis.account.as_ref().map(|a| &a.account);
        out.extend(verdict(ui, r, account, target));
        if let Some(e) =
            crate::monitor::certificate(r, crate::monitor::Thresholds::default(), ctx.now)
        {
            widgets::expiry(ui, "The server's certificate", &e);
        }
        let changes = run.changes();
        if !changes.is_empty() {
            ui.add_space(4.0);
            ui.label(RichText::new("Since the run before:").strong());
            for c in changes {
                ui.label(format!("  {c}"));
            }
        }
    }
    transcript(ui, run);
    out
}

fn step_dot(s: Status) -> Dot {
    match s {
        Status::Running => Dot::Running,
        Status::Ok => Dot::Ok,
        Status::Warning => Dot::Warning,
        Status::Failed => Dot::Failed,
        Status::Skipped => Dot::None,
    }
}

/// Rows, not a grid: a long detail (a server's greeting, a certificate) wraps in its column.
fn steps(ui: &mut egui::Ui, run: &ProbeRun) {
    for s in &run.steps {
        ui.horizontal_top(|ui| {
            widgets::dot(ui, step_dot(s.status));
            let time = if s.status == Status::Running {
                "…".to_owned()
            } else {
                format!("{} ms", s.elapsed.as_millis())
            };
            fixed(ui, 104.0, |ui| {
                ui.label(s.step.to_string());
            });
            fixed(ui, 64.0, |ui| {
                ui.label(RichText::new(time).weak());
            });
            widgets::wrapped(ui, &s.detail);
        });
    }
}

/// A column of a fixed width at the start of a row.
fn fixed(ui: &mut egui::Ui, width: f32, add: impl FnOnce(&mut egui::Ui)) {
    let h = ui.spacing().interact_size.y;
    ui.allocate_ui_with_layout(
        egui::vec2(width, h),
        egui::Layout::left_to_right(egui::Align::Min),
        |ui| {
            ui.set_min_width(width);
            add(ui);
        },
    );
}

fn verdict(
    ui: &mut egui::Ui,
    r: &Report,
    account: Option<&Account>,
    target: &TargetName,
) -> Actions {
    let mut out = Actions::default();
    ui.add_space(6.0);
    let text = if r.ok {
        RichText::new(format!(
            "Connected: every step passed in {} ms.",
            r.total.as_millis()
        ))
        .color(widgets::status_color(ui, Dot::Ok))
    } else {
        RichText::new(format!("Failed after {} ms.", r.total.as_millis()))
            .color(ui.visuals().error_fg_color)
    };
    ui.label(text.strong());
    let Some(d) = &r.diagnosis else {
        return out;
    };
    ui.add_space(4.0);
    widgets::callout(ui, true, |ui| {
        ui.strong(&d.title);
        ui.add(egui::Label::new(format!("Cause: {}", d.cause)).wrap());
        for e in &d.evidence {
            ui.add(egui::Label::new(RichText::new(crate::ui::widgets::because(e)).weak()).wrap());
        }
        ui.add(egui::Label::new(format!("Fix: {}", d.fix)).wrap());
        for c in &d.commands {
            widgets::command(ui, c);
        }
        if !d.alternatives.is_empty() {
            ui.label(RichText::new("The evidence cannot rule out:").strong());
            for a in &d.alternatives {
                let text = format!("{} — to tell them apart, {}", a.title, a.tell_apart);
                ui.add(egui::Label::new(text).wrap());
            }
        }
        ui.add_space(4.0);
        ui.horizontal_wrapped(|ui| {
            for (label, url) in portal_links(account, r) {
                ui.hyperlink_to(label, url);
            }
            let retest = ui.button("I've done it: retest").on_hover_text(
                "Gets a new token (so that new permissions count), then tests again",
            );
            out.on(retest.clicked(), Action::Retest(vec![target.clone()]));
        });
    });
    out
}

/// The portal pages where a failed sign-in or mailbox step is fixed, for this app.
fn portal_links(account: Option<&Account>, r: &Report) -> Vec<(&'static str, String)> {
    let Some(a) = account.filter(|a| a.provider == Provider::Microsoft) else {
        return Vec::new();
    };
    let step = r.failed_step().map(|e| e.step);
    if !matches!(step, Some(Step::Authenticate | Step::Mailbox | Step::Send)) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if !a.client_id.trim().is_empty() {
        out.push((
            "The app in Entra ID (API permissions)",
            format!(
                "https://entra.microsoft.com/#view/Microsoft_AAD_RegisteredApps/ApplicationMenuBlade/~/CallAnAPI/appId/{}",
                url_part(&a.client_id)
            ),
        ));
    }
    out.push((
        "Exchange admin center (mailboxes)",
        "https://admin.exchange.microsoft.com/#/mailboxes".to_owned(),
    ));
    out
}

/// A client ID inside a URL: only the characters a GUID has, so that nothing else gets in.
fn url_part(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

/// Past this many lines the transcript scrolls in a pane of its own.
const LONG_TRANSCRIPT: usize = 200;

fn transcript(ui: &mut egui::Ui, run: &ProbeRun) {
    if run.transcript.is_empty() {
        return;
    }
    let text = run
        .transcript
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    let lines = text.lines().count();
    ui.add_space(6.0);
    let title = format!(
        "Transcript ({lines} line{}, secrets masked)",
        if lines == 1 { "" } else { "s" }
    );
    egui::CollapsingHeader::new(title)
        .id_salt("transcript")
        .show(ui, |ui| {
            widgets::copy_button(ui, "Copy transcript", &text);
            egui::Frame::group(ui.style()).show(ui, |ui| {
                ui.set_width(ui.available_width());
                if lines <= LONG_TRANSCRIPT {
                    // In the page, which scrolls: a scroll area of its own inside the page's got
                    // only what was left of the window (four lines at the bottom of the screen).
                    widgets::code(ui, &text);
                } else {
                    egui::ScrollArea::vertical()
                        .id_salt("transcript-lines")
                        .min_scrolled_height(400.0)
                        .max_height(400.0)
                        .stick_to_bottom(true)
                        .show(ui, |ui| {
                            widgets::code(ui, &text);
                        });
                }
            });
        });
}
