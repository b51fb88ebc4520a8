//! The set-up checklist under a Microsoft or Google account: the portal and Exchange steps (or
//! Google Cloud's and the Admin console's) as they are handed in (their state comes from the
//! sign-in and the tests, see `state::Runtime::checklist`), the first failing step highlighted
//! with its PowerShell lines or the values to enter.

use eframe::egui::{self, RichText};

use crate::checklist::{Item, State};
use crate::profile::Provider;
use crate::ui::widgets::{self, Dot};

pub fn show(ui: &mut egui::Ui, items: &[Item], provider: Provider) {
    ui.add_space(12.0);
    ui.separator();
    ui.heading("Set-up checklist");
    ui.add(
        egui::Label::new(
            RichText::new(if provider == Provider::Google {
                "The Google Cloud and Google Workspace steps. Sign in and test to fill it in."
            } else {
                "The Entra ID and Exchange Online steps of the guides. Sign in and test to fill it in."
            })
            .weak(),
        )
        .wrap(),
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
    ui.horizontal_top(|ui| {
        widgets::dot(ui, dot);
        let title = RichText::new(format!("{}. {}", n + 1, item.title));
        ui.add(egui::Label::new(if open { title.strong() } else { title }).wrap());
    });
    ui.indent(("step", n), |ui| {
        ui.add(egui::Label::new(&item.how).wrap());
        ui.add(egui::Label::new(RichText::new(&item.evidence).weak()).wrap());
        if open || item.state != State::Done {
            for c in &item.commands {
                widgets::command(ui, c);
            }
        }
    });
    ui.add_space(6.0);
}
