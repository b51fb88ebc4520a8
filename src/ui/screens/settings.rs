//! The settings page: the extra CA file, the step timeout and how many tests run at once, and
//! where secrets are kept.

use eframe::egui::{self, RichText};

use super::{Page, grid};
use crate::engine::Pick;
use crate::ui::action::{Action, Actions, Edit};
use crate::ui::fields::{Form, parse_concurrency, parse_seconds};
use crate::ui::view::Ctx;
use crate::ui::widgets;

pub struct Settings;

impl Page for Settings {
    fn id(&self) -> &'static str {
        "settings"
    }

    fn title(&self) -> &'static str {
        "Settings (TLS, timeouts)"
    }

    fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx<'_>) -> Actions {
        let mut out = Actions::default();
        ui.heading("Settings");
        ui.add_space(6.0);
        let p = ctx.profile;
        let (mut tls, mut probe) = (p.tls.clone(), p.probe.clone());
        let mut tls_form = Form {
            fields: &mut ctx.input.fields,
            findings: ctx.findings,
            sources: ctx.sources,
            prefix: "tls".into(),
            item: "the settings".into(),
        };
        grid(ui, "settings", |ui| {
            let mut ca = tls.ca_file.as_ref().map(|f| f.display().to_string());
            if tls_form.opt(
                ui,
                "ca_file",
                "Extra CA file",
                &mut ca,
                "PEM file trusted besides the system roots (private CAs)",
            ) {
                tls.ca_file = ca.map(std::path::PathBuf::from);
            }
            ui.label("");
            out.on(ui.button("Browse…").clicked(), Action::Pick(Pick::CaFile));
            ui.end_row();
            let mut f = Form {
                fields: &mut *tls_form.fields,
                findings: tls_form.findings,
                sources: tls_form.sources,
                prefix: "probe".into(),
                item: "the settings".into(),
            };
            f.parsed(
                ui,
                "timeout_secs",
                "Step timeout (s)",
                &mut probe.timeout_secs,
                "15",
                parse_seconds,
            );
            f.parsed(
                ui,
                "concurrency",
                "Tests at once",
                &mut probe.concurrency,
                "8",
                parse_concurrency,
            );
        });
        // Paths compare equal with and without a trailing slash; the text typed is what counts.
        let text =
            |t: &crate::profile::TlsSettings| t.ca_file.as_ref().map(|f| f.as_os_str().to_owned());
        if tls != p.tls || text(&tls) != text(&p.tls) {
            out.push(Action::Edit(Edit::Tls(tls)));
        }
        if probe != p.probe {
            out.push(Action::Edit(Edit::Probe(probe)));
        }
        ui.add_space(8.0);
        ui.label(
            RichText::new(
                "Certificates are always verified; an extra CA is trusted only when set here.",
            )
            .weak(),
        );
        if let Some(notice) = ctx.keyring.notice {
            ui.add_space(8.0);
            widgets::callout(ui, false, |ui| {
                ui.add(egui::Label::new(notice).wrap());
            });
        }
        out
    }
}
