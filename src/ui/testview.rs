//! The visual connection test: a row per step (status, name, time, detail) that fills in live,
//! the failed step's diagnosis with copyable admin commands, and the masked transcript in a
//! folding monospace panel.

use std::path::Path;

use eframe::egui::{self, RichText};

use super::widgets::{self, Dot};
use crate::engine::{self, Engine, JobId, Update};
use crate::probe::{Event, Report, Status, Step, TranscriptLine};
use crate::profile::Profile;

/// Which mailbox or transport, by name (names are unique in a profile).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Target {
    Mailbox(String),
    Transport(String),
}

/// One test: live rows while it runs, the report when done.
#[derive(Debug, Clone, Default)]
pub struct TestRun {
    pub job: Option<JobId>,
    /// The latest event of each step, in the order the steps started.
    pub steps: Vec<Event>,
    pub transcript: Vec<TranscriptLine>,
    pub report: Option<Report>,
    pub not_started: Option<String>,
    pub was_cancelled: bool,
}

impl TestRun {
    pub fn new(job: JobId) -> Self {
        Self {
            job: Some(job),
            ..Self::default()
        }
    }

    pub fn running(&self) -> bool {
        self.job.is_some() && self.report.is_none() && self.not_started.is_none()
    }

    pub fn cancelled(&mut self) {
        self.was_cancelled = true;
        for s in &mut self.steps {
            if s.status == Status::Running {
                s.status = Status::Skipped;
                "cancelled".clone_into(&mut s.detail);
            }
        }
    }

    pub fn apply(&mut self, u: Update) {
        match u {
            Update::Probe(e) => {
                self.transcript.extend(e.transcript.iter().cloned());
                match self.steps.iter_mut().find(|s| s.step == e.step) {
                    Some(s) => *s = e,
                    None => self.steps.push(e),
                }
            }
            Update::Tested(r) => {
                self.steps.clone_from(&r.steps);
                self.transcript.clone_from(&r.transcript);
                self.report = Some(*r);
                self.job = None;
            }
            Update::TestNotStarted(e) => {
                self.not_started = Some(e);
                self.job = None;
            }
            _ => {}
        }
    }

    /// The sidebar dot.
    pub fn dot(&self) -> Dot {
        if self.running() {
            Dot::Running
        } else if self.not_started.is_some() {
            Dot::Failed
        } else {
            match &self.report {
                Some(r) if r.ok && r.steps.iter().any(|s| s.status == Status::Warning) => {
                    Dot::Warning
                }
                Some(r) if r.ok => Dot::Ok,
                Some(_) => Dot::Failed,
                None => Dot::None,
            }
        }
    }
}

/// Starts a test of the named target on the engine.
pub fn start(
    engine: &mut Engine,
    profile: &Profile,
    base_dir: Option<&Path>,
    target: &Target,
    send_to: Option<lettre::Address>,
) -> JobId {
    let t = match target {
        Target::Mailbox(n) => profile
            .mailboxes
            .iter()
            .find(|m| &m.name == n)
            .cloned()
            .map(engine::Target::Mailbox),
        Target::Transport(n) => profile
            .transports
            .iter()
            .find(|t| &t.name == n)
            .cloned()
            .map(engine::Target::Transport),
    };
    match t {
        Some(t) => engine.test(profile, base_dir, t, send_to),
        // The target was renamed or deleted meanwhile: a test that says so at once.
        None => engine.test_missing(),
    }
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

/// Draws the test's timeline, diagnosis and transcript.
pub fn show(ui: &mut egui::Ui, run: &TestRun) {
    if let Some(e) = &run.not_started {
        widgets::callout(ui, true, |ui| {
            ui.strong("The test could not start");
            ui.label(e);
        });
        return;
    }
    // Rows, not a grid: a long detail (a server's greeting, a certificate) wraps in its column.
    for s in &run.steps {
        ui.horizontal_top(|ui| {
            widgets::dot(ui, step_dot(s.status));
            let time = if s.status == Status::Running {
                "…".to_owned()
            } else {
                format!("{} ms", s.elapsed.as_millis())
            };
            // Fixed-width columns, left-aligned: the label, then the space left over.
            let r = ui.label(step_name(s.step));
            ui.add_space((104.0 - r.rect.width()).max(0.0));
            let r = ui.label(RichText::new(time).weak());
            ui.add_space((60.0 - r.rect.width()).max(0.0));
            ui.add(egui::Label::new(&s.detail).wrap());
        });
    }
    if run.running() {
        ui.horizontal(|ui| {
            ui.spinner();
            ui.label("Testing… (Esc cancels)");
        });
    }
    if let Some(r) = &run.report {
        ui.add_space(6.0);
        let verdict = if r.ok {
            RichText::new(format!(
                "Connected: every step passed in {} ms.",
                r.total.as_millis()
            ))
            .color(widgets::status_color(ui, Dot::Ok))
        } else {
            RichText::new(format!("Failed after {} ms.", r.total.as_millis()))
                .color(ui.visuals().error_fg_color)
        };
        ui.label(verdict.strong());
        if let Some(d) = &r.diagnosis {
            ui.add_space(4.0);
            widgets::callout(ui, true, |ui| {
                ui.strong(&d.title);
                ui.label(format!("Cause: {}", d.cause));
                for e in &d.evidence {
                    ui.label(RichText::new(format!("Because {e}.")).weak());
                }
                ui.label(format!("Fix: {}", d.fix));
                for c in &d.commands {
                    ui.horizontal_top(|ui| {
                        widgets::copy_button(ui, "Copy", c);
                        ui.add(egui::Label::new(RichText::new(c).monospace()).wrap());
                    });
                }
                if !d.alternatives.is_empty() {
                    ui.label(RichText::new("The evidence cannot rule out:").strong());
                    for a in &d.alternatives {
                        ui.label(format!(
                            "{} — to tell them apart, {}",
                            a.title, a.tell_apart
                        ));
                    }
                }
            });
        }
    }
    if !run.transcript.is_empty() {
        ui.add_space(6.0);
        egui::CollapsingHeader::new(format!(
            "Transcript ({} lines, secrets masked)",
            run.transcript.len()
        ))
        .id_salt("transcript")
        .show(ui, |ui| {
            let text = run
                .transcript
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n");
            widgets::copy_button(ui, "Copy transcript", &text);
            egui::ScrollArea::vertical()
                .max_height(260.0)
                .stick_to_bottom(true)
                .show(ui, |ui| {
                    ui.add(egui::Label::new(RichText::new(text).monospace()).wrap());
                });
        });
    }
}

fn step_name(s: Step) -> String {
    s.to_string()
}
