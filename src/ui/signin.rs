//! Signing in from the account form: the client secret (kept in the keyring, masked unless
//! revealed), the sign-in button, the waiting state with Cancel and the address to open by hand,
//! the device code shown big, and the token card: user, audience, permissions, expiry, and what the
//! account's mailboxes and transports still lack.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use eframe::egui::{self, RichText};

use super::app::{App, SignIn};
use super::widgets;
use crate::engine::{SecretSource, TokenInfo};
use crate::profile::{Flow, Provider};

pub fn show(app: &mut App, ui: &mut egui::Ui, i: usize) {
    let a = app.profile.accounts[i].clone();
    ui.separator();
    ui.heading("Sign in");
    ui.add_space(4.0);
    if !app.secret_asked.contains(&a.name) {
        app.secret_asked.insert(a.name.clone());
        app.check_secret(&a.name);
    }
    if a.is_service_account() {
        super::google::service_account(app, ui, i);
    } else {
        secret_row(app, ui, &a);
    }
    ui.add_space(8.0);
    let state = app.sign_ins.get(&a.name).cloned();
    ui.horizontal(|ui| {
        let waiting = matches!(state, Some(SignIn::Waiting { .. }));
        if waiting {
            if ui.button("Cancel").clicked() {
                app.cancel_sign_in(&a.name);
            }
        } else {
            let label = match a.flow {
                Flow::AppOnly => "Get token",
                Flow::Delegated => "Sign in in the browser",
                Flow::DeviceCode => "Sign in with a code",
            };
            if ui.button(RichText::new(label).strong()).clicked() {
                app.sign_in(i);
            }
            if matches!(state, Some(SignIn::Done(_)))
                && ui
                    .button("Sign out")
                    .on_hover_text("Forget the tokens, here and in the keyring")
                    .clicked()
            {
                app.sign_out(i);
            }
        }
    });
    match state {
        None => {}
        Some(SignIn::Waiting {
            url,
            opened,
            device,
            exchanging,
            ..
        }) => waiting(
            ui,
            url.as_deref(),
            opened.as_ref(),
            device.as_ref(),
            exchanging,
        ),
        Some(SignIn::Failed(e)) => {
            ui.add_space(6.0);
            widgets::callout(ui, true, |ui| {
                ui.strong("Sign-in failed");
                ui.label(&e.text);
            });
        }
        Some(SignIn::Done(t)) => card(ui, &t),
    }
}

/// The client secret: stored in the keyring, masked unless revealed.
fn secret_row(app: &mut App, ui: &mut egui::Ui, a: &crate::profile::Account) {
    egui::Grid::new("secret").num_columns(2).spacing([14.0, 8.0]).min_col_width(150.0).show(ui, |ui| {
        let l = ui.label("Client secret");
        ui.vertical(|ui| {
            ui.horizontal(|ui| {
                let hint = match app.secret_present.get(&a.name) {
                    Some(SecretSource::Keyring) => "stored in the keyring (type to replace)",
                    Some(SecretSource::Environment) => "from MAILCFG_CLIENT_SECRET",
                    _ if a.flow == Flow::AppOnly => "the secret's Value (not its ID)",
                    _ if a.provider == Provider::Google => "the Desktop app client's secret (required)",
                    _ => "only for confidential apps",
                };
                ui.add(egui::TextEdit::singleline(&mut app.secret_input).password(!app.reveal_secret).hint_text(hint).desired_width(320.0))
                    .labelled_by(l.id);
                ui.checkbox(&mut app.reveal_secret, "Show");
                if ui.add_enabled(!app.secret_input.trim().is_empty(), egui::Button::new("Save to keyring")).clicked() {
                    app.store_secret(&a.name);
                }
                if app.secret_present.get(&a.name) == Some(&SecretSource::Keyring) && ui.button("Remove").clicked() {
                    app.store_secret(&a.name);
                }
            });
            let said = match app.secret_present.get(&a.name) {
                Some(SecretSource::Keyring) => "A client secret is stored in the OS keyring; it is never written to the profile.",
                Some(SecretSource::Environment) => "The client secret comes from MAILCFG_CLIENT_SECRET, which overrides the keyring.",
                Some(SecretSource::None) if a.flow == Flow::AppOnly => {
                    "No client secret stored yet: app-only sign-in needs one (or MAILCFG_CLIENT_SECRET)."
                }
                Some(SecretSource::None) if a.provider == Provider::Google => {
                    "No client secret stored yet: Google requires the Desktop app client's secret (GOCSPX-…)."
                }
                Some(SecretSource::None) => "No client secret stored (not needed for public clients).",
                None => "Looking in the keyring…",
            };
            ui.label(RichText::new(said).small().weak());
        });
        ui.end_row();
    });
    if a.provider == crate::profile::Provider::Google {
        super::google::desktop_secret_note(ui);
    }
}

fn waiting(
    ui: &mut egui::Ui,
    url: Option<&str>,
    opened: Option<&Result<(), String>>,
    device: Option<&(String, String)>,
    exchanging: bool,
) {
    ui.add_space(6.0);
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label(if exchanging {
            "Getting the tokens…"
        } else if device.is_some() {
            "Waiting for the code to be entered…"
        } else if url.is_some() {
            "Waiting for the sign-in in the browser… (Esc cancels)"
        } else {
            "Signing in…"
        });
    });
    if let Some((code, uri)) = device {
        ui.label(format!("Open {uri} on any device and enter this code:"));
        ui.horizontal(|ui| {
            ui.label(RichText::new(code).size(32.0).monospace().strong());
            widgets::copy_button(ui, "Copy code", code);
        });
    }
    if let Some(url) = url {
        match opened {
            Some(Err(why)) => {
                ui.label(
                    RichText::new(format!(
                        "No browser could be opened ({why}). Open this address by hand:"
                    ))
                    .color(ui.visuals().warn_fg_color),
                );
            }
            _ => {
                ui.label("If the browser did not open, open this address by hand:");
            }
        }
        ui.horizontal(|ui| {
            widgets::copy_button(ui, "Copy address", url);
            ui.hyperlink_to("Open again", url);
        });
        ui.add(egui::Label::new(RichText::new(url).monospace().small()).truncate());
    }
}

fn card(ui: &mut egui::Ui, t: &TokenInfo) {
    ui.add_space(6.0);
    egui::Frame::group(ui.style())
        .inner_margin(10.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.strong("Token");
            match &t.claims {
                Ok(c) => {
                    egui::Grid::new("token-card")
                        .num_columns(2)
                        .spacing([14.0, 4.0])
                        .show(ui, |ui| {
                            for (k, v) in c.summary_lines(SystemTime::now()) {
                                ui.label(RichText::new(k).weak());
                                ui.label(v);
                                ui.end_row();
                            }
                            if c.user.is_none()
                                && let Some(u) = &t.user
                            {
                                ui.label(RichText::new("user").weak());
                                ui.label(u);
                                ui.end_row();
                            }
                        });
                    if let Some(exp) = c.expires {
                        // The countdown moves by the minute: wake once a minute, not every frame.
                        let now = SystemTime::now()
                            .duration_since(UNIX_EPOCH)
                            .map_or(0, |d| d.as_secs());
                        let next = 60 - (exp.saturating_sub(now) % 60);
                        ui.ctx()
                            .request_repaint_after(Duration::from_secs(next.max(1)));
                    }
                }
                Err(e) => {
                    ui.label(e);
                }
            }
            if t.problems.is_empty() {
                ui.label(
                    RichText::new(
                        "The token carries what this account's mailboxes and transports need.",
                    )
                    .color(widgets::status_color(ui, widgets::Dot::Ok)),
                );
            } else {
                for p in &t.problems {
                    problem(ui, p);
                }
            }
        });
}

fn problem(ui: &mut egui::Ui, p: &crate::diagnosis::Diagnosis) {
    widgets::callout(ui, true, |ui| {
        ui.strong(&p.title);
        for e in &p.evidence {
            ui.label(format!("Because {e}."));
        }
        ui.label(format!("Fix: {}", p.fix));
    });
}
