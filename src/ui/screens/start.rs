//! "Start from an e-mail address": the first screen (and File → New). The user types an
//! address; the engine asks every source at once and the timeline fills in as they answer
//! (Cancel or Esc stops it); the draft then opens in the forms, each field saying under it where
//! its value came from. The screen draws its state and returns what the user asked for
//! ([`StartAction`]), wrapped in `Action::Start`; the app applies it (`src/ui/app/start.rs`).

use eframe::egui::{self, RichText};

use crate::discover::{self, Event, Report, Status, Step};
use crate::engine::JobId;
use crate::profile::{DiscoverySettings, Profile};
use crate::ui::widgets::{self, Dot};

/// The start screen's state: what is typed, the running discovery, its result.
#[derive(Debug, Clone, Default)]
pub struct StartScreen {
    pub address: String,
    /// Where to look, as typed (empty: the default); from the open profile's `[discovery]`.
    pub dns: String,
    pub authority: String,
    pub ispdb: String,
    pub job: Option<JobId>,
    /// The latest event of each step.
    pub steps: Vec<Event>,
    pub report: Option<Box<Report>>,
    /// Why the lookups could not start (a bad address or setting), or that they were cancelled.
    pub message: Option<String>,
    pub(crate) focused: bool,
    /// Move the keyboard focus to "Use this draft" once (Enter finds, Enter again uses it).
    pub(crate) focus_use: bool,
}

impl StartScreen {
    pub fn new(settings: &DiscoverySettings) -> Self {
        Self {
            dns: settings.dns.clone().unwrap_or_default(),
            authority: settings.authority.clone().unwrap_or_default(),
            ispdb: settings.ispdb.clone().unwrap_or_default(),
            ..Self::default()
        }
    }

    pub fn running(&self) -> bool {
        self.job.is_some()
    }

    /// The settings as typed, empty ones left out.
    pub(crate) fn settings(&self) -> DiscoverySettings {
        let opt = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        DiscoverySettings {
            dns: opt(&self.dns),
            authority: opt(&self.authority),
            ispdb: opt(&self.ispdb),
        }
    }
}

/// What the user asked for on the start screen.
#[must_use]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartAction {
    Find,
    Cancel,
    UseDraft,
    Preset,
    Open,
    Close,
}

/// Draws the start screen over the window.
pub fn show(ctx: &egui::Context, s: &mut StartScreen) -> Option<StartAction> {
    let mut action = None;
    let screen = ctx.content_rect();
    let id = egui::Id::unique("start-screen");
    // Anchored at the top, so that it grows downwards as answers come in and no button moves.
    let top = (screen.height() * 0.06).min(40.0);
    let area = egui::Modal::default_area(id).anchor(egui::Align2::CENTER_TOP, [0.0, top]);
    egui::Modal::new(id).area(area).show(ctx, |ui| {
        let width = (screen.width() - 80.0).clamp(360.0, 760.0);
        ui.set_width(width);
        action = body(ui, s, width);
    });
    if ctx.input(|i| i.key_pressed(egui::Key::Escape)) {
        action = Some(if s.running() {
            StartAction::Cancel
        } else {
            StartAction::Close
        });
    }
    action
}

fn body(ui: &mut egui::Ui, s: &mut StartScreen, width: f32) -> Option<StartAction> {
    let mut action = None;
    {
        ui.heading("Start from an e-mail address");
        ui.label("mailcfg looks up the provider, the Microsoft tenant and the servers, and fills in a profile for you to review.");
        ui.add_space(6.0);
        let running = s.running();
        ui.horizontal(|ui| {
            let l = ui.label("E-mail address");
            let edit = egui::TextEdit::singleline(&mut s.address)
                .hint_text("you@contoso.com")
                .desired_width((width - 260.0).max(160.0));
            let r = ui.add_enabled(!running, edit).labelled_by(l.id);
            if !s.focused {
                r.request_focus();
                s.focused = true;
            }
            let enter = r.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
            if running {
                if ui
                    .button("Cancel")
                    .on_hover_text("Stop the lookups (Esc)")
                    .clicked()
                {
                    action = Some(StartAction::Cancel);
                }
            } else if ui.button("Find settings").clicked() || enter {
                action = Some(StartAction::Find);
            }
        });
        egui::CollapsingHeader::new("Where to look (DNS server, Microsoft authority, ISPDB)")
            .default_open(!(s.dns.is_empty() && s.authority.is_empty() && s.ispdb.is_empty()))
            .show(ui, |ui| {
                egui::Grid::new("start-where")
                    .num_columns(2)
                    .show(ui, |ui| {
                        let row = |ui: &mut egui::Ui, label: &str, v: &mut String, hint: &str| {
                            widgets::text_row(ui, label, v, hint, &[]);
                        };
                        row(
                            ui,
                            "DNS server",
                            &mut s.dns,
                            "this computer's; or an IP such as 192.168.1.1 or 127.0.0.1:5353",
                        );
                        row(
                            ui,
                            "Microsoft authority",
                            &mut s.authority,
                            crate::oauth::endpoints::MICROSOFT_AUTHORITY,
                        );
                        row(ui, "ISPDB", &mut s.ispdb, discover::DEFAULT_ISPDB);
                    });
            });
        if let Some(m) = &s.message {
            ui.colored_label(ui.visuals().warn_fg_color, m);
        }
        if !s.steps.is_empty() {
            ui.separator();
            timeline(ui, s);
        }
        if let Some(r) = &s.report {
            ui.add_space(4.0);
            if result(ui, r, &mut s.focus_use) {
                action = Some(StartAction::UseDraft);
            }
        }
        ui.separator();
        ui.horizontal_wrapped(|ui| {
            ui.label("Or start from:");
            if ui.button("Microsoft 365 preset").clicked() {
                action = Some(StartAction::Preset);
            }
            if ui.button("Open a profile…").clicked() {
                action = Some(StartAction::Open);
            }
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui.button("Close").clicked() {
                    action = Some(StartAction::Close);
                }
            });
        });
    }
    action
}

fn timeline(ui: &mut egui::Ui, s: &StartScreen) {
    let done = s
        .steps
        .iter()
        .filter(|e| e.status != Status::Running)
        .count();
    if s.running() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label(format!("{done} of {} sources answered…", Step::ALL.len()));
        });
    }
    // From 800x600 up: the timeline scrolls in what the rest of the screen leaves.
    let max = (ui.ctx().content_rect().height() - 430.0).clamp(110.0, 640.0);
    egui::ScrollArea::vertical()
        .max_height(max)
        .id_salt("start-steps")
        .show(ui, |ui| steps(ui, s));
}

fn steps(ui: &mut egui::Ui, s: &StartScreen) {
    egui::Grid::new("start-timeline")
        .num_columns(4)
        .striped(true)
        .show(ui, |ui| {
            for step in Step::ALL {
                // Every source has its row from the start: rows fill in, none jumps.
                let waiting = Event {
                    step: *step,
                    status: Status::Running,
                    elapsed: std::time::Duration::ZERO,
                    asked: String::new(),
                    answer: String::new(),
                };
                let e = s.steps.iter().find(|e| e.step == *step).unwrap_or(&waiting);
                let stopped = e.status == Status::Running && !s.running();
                let dot = match e.status {
                    Status::Running if stopped => Dot::None,
                    Status::Running => Dot::Running,
                    Status::Found => Dot::Ok,
                    Status::Nothing => Dot::None,
                    Status::TimedOut => Dot::Warning,
                    Status::Refused | Status::Failed => Dot::Failed,
                };
                widgets::dot(ui, dot).on_hover_text(e.status.to_string());
                ui.label(RichText::new(step.to_string()).strong());
                ui.label(if e.status == Status::Running {
                    String::new()
                } else {
                    format!("{} ms", e.elapsed.as_millis())
                });
                ui.vertical(|ui| {
                    if stopped {
                        ui.label("cancelled");
                    } else if e.status != Status::Running {
                        ui.add(egui::Label::new(&e.answer).wrap());
                    }
                    let asked = RichText::new(&e.asked).color(ui.visuals().weak_text_color());
                    ui.add(egui::Label::new(asked).wrap());
                });
                ui.end_row();
            }
        });
}

/// The result in a sentence or two; returns whether "Use this draft" was clicked.
fn result(ui: &mut egui::Ui, r: &Report, focus: &mut bool) -> bool {
    let Some(p) = &r.draft.profile else {
        widgets::callout(ui, true, |ui| {
            ui.strong(format!("Found nothing for {}.", r.address));
            ui.label("Every source above was asked. Check the address, or start from a preset and enter the servers.");
        });
        return false;
    };
    let mut used = false;
    let green = widgets::status_color(ui, Dot::Ok);
    egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(1.5, green))
        .fill(ui.visuals().extreme_bg_color)
        .inner_margin(10.0)
        .show(ui, |ui| {
        ui.set_width(ui.available_width());
        let who = r.draft.hosting.map_or("Servers", |h| h.label());
        ui.strong(format!("{who} for {}", r.address));
        for line in summary(p) {
            ui.label(line);
        }
        let conflicts = r.draft.notes.iter().filter(|n| !n.others.is_empty()).count();
        if conflicts > 0 {
            ui.label(format!("{conflicts} field(s) got different answers; the forms show which was chosen and why."));
        }
        let b = ui.button(RichText::new("Use this draft").strong());
        if std::mem::take(focus) {
            b.request_focus();
        }
        if b.clicked() {
            used = true;
        }
    });
    used
}

fn summary(p: &Profile) -> Vec<String> {
    let mut out = Vec::new();
    for a in &p.accounts {
        let tenant = a
            .tenant
            .as_deref()
            .map(|t| format!(", tenant {t}"))
            .unwrap_or_default();
        out.push(format!(
            "Account {}: {} ({}){tenant}",
            a.name, a.provider, a.flow
        ));
    }
    for m in &p.mailboxes {
        out.push(format!(
            "Mailbox: {} {}:{} ({})",
            m.protocol, m.host, m.port, m.encryption
        ));
    }
    for t in &p.transports {
        out.push(format!(
            "Transport: SMTP {}:{} ({})",
            t.host, t.port, t.encryption
        ));
    }
    out
}
