//! The set-up checklist under a Microsoft or Google account: the portal and Exchange steps (or
//! Google Cloud's and the Admin console's) with their state from the last sign-in and tests, the
//! first failing step highlighted with its PowerShell lines or values to enter.

use eframe::egui::{self, RichText};

use super::app::App;
use super::widgets::{self, Dot};
use crate::checklist::{Item, State};
use crate::profile::Provider;

pub fn show(app: &App, ui: &mut egui::Ui, i: usize) {
    let a = &app.profile.accounts[i];
    if a.provider == Provider::Generic {
        return;
    }
    let items = super::evidence::checklist(
        &app.profile,
        &a.name,
        &app.sign_ins,
        &app.tests,
        &app.setup_reported,
    );
    ui.add_space(12.0);
    ui.separator();
    ui.heading("Set-up checklist");
    ui.label(
        RichText::new(if a.provider == Provider::Google {
            "The Google Cloud and Google Workspace steps. Sign in and test to fill it in."
        } else {
            "The Entra ID and Exchange Online steps of the guides. Sign in and test to fill it in."
        })
        .weak(),
    );
    ui.add_space(4.0);
    let first_failed = items.iter().position(|i| i.state == State::Failed);
    for (n, item) in items.iter().enumerate() {
        if Some(n) == first_failed {
            widgets::callout(ui, true, |ui| row(ui, n, item, true));
        } else {
            row(ui, n, item, false);
        }
    }
}

fn row(ui: &mut egui::Ui, n: usize, item: &Item, open: bool) {
    let dot = match item.state {
        State::Done => Dot::Ok,
        State::Failed => Dot::Failed,
        State::Warning => Dot::Warning,
        State::Unknown => Dot::None,
    };
    ui.horizontal(|ui| {
        widgets::dot(ui, dot);
        let title = RichText::new(format!("{}. {}", n + 1, item.title));
        ui.label(if open { title.strong() } else { title });
    });
    ui.indent(("step", n), |ui| {
        ui.label(RichText::new(&item.how).small());
        ui.label(RichText::new(&item.evidence).small().weak());
        if open || item.state != State::Done {
            for c in &item.commands {
                ui.horizontal_top(|ui| {
                    widgets::copy_button(ui, "Copy", c);
                    ui.add(egui::Label::new(RichText::new(c).monospace().small()).wrap());
                });
            }
        }
    });
    ui.add_space(4.0);
}
