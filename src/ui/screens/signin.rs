//! Signing in from the account form: the client secret (kept in the keyring, masked unless
//! revealed), the sign-in button, the waiting state with Cancel and the address to open by hand,
//! the device code shown big, and the token card: when it was fetched, user, audience,
//! permissions, expiry, and what the account's mailboxes and transports still lack.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use eframe::egui::{self, RichText};

use crate::engine::{SecretSource, TokenInfo};
use crate::profile::{Account, Flow, Provider};
use crate::ui::action::{Action, Actions};
use crate::ui::state::SignIn;
use crate::ui::view::{Ctx, Input};
use crate::ui::widgets::{self, Dot};

pub fn show(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, i: usize) -> Actions {
    let a = &ctx.profile.accounts[i];
    let name = a.name.clone();
    let mut out = Actions::default();
    ui.separator();
    ui.heading("Sign in");
    ui.add_space(4.0);
    let present = ctx.runtime.secrets.get(&name).copied();
    if a.is_service_account() {
        out.extend(super::google::service_account(ui, ctx, a));
    } else {
        out.extend(secret_row(
            ui,
            a,
            present,
            ctx.keyring.persistent,
            ctx.input,
        ));
        if a.provider == Provider::Google {
            super::google::desktop_secret_note(ui);
        }
    }
    ui.add_space(8.0);
    let run = ctx.runtime.sign_ins.get(&name);
    let state = run.map(|r| &r.state);
    ui.horizontal_wrapped(|ui| {
        if matches!(state, Some(SignIn::Waiting { .. })) {
            out.on(ui.button("Cancel").clicked(), Action::CancelSignIn(name.clone()));
            return;
        }
        let label = match (a.flow, state) {
            (Flow::AppOnly, Some(SignIn::Done(_))) => "Get a new token",
            (Flow::AppOnly, _) => "Get token",
            (Flow::Delegated, _) => "Sign in in the browser",
            (Flow::DeviceCode, _) => "Sign in with a code",
        };
        let clicked = ui
            .button(RichText::new(label).strong())
            .on_hover_text("Asks the identity provider for a new token, so that it carries the permissions as they are now")
            .clicked();
        out.on(clicked, Action::SignIn { account: name.clone(), renew: true });
        if matches!(state, Some(SignIn::Done(_))) {
            let clicked = ui
                .button("Sign out")
                .on_hover_text("Forget the tokens, here and in the keyring")
                .clicked();
            out.on(clicked, Action::SignOut(name.clone()));
        }
    });
    if let Some(why) = ctx.runtime.sign_in_stale(ctx.profile, a) {
        ui.add_space(6.0);
        widgets::callout(ui, false, |ui| {
            ui.label(format!(
                "This result was made before {why} changed: sign in again to see what the settings give now."
            ));
        });
    }
    match state {
        None => {}
        Some(SignIn::Waiting {
            url,
            opened,
            device,
            exchanging,
            ..
        }) => {
            waiting(
                ui,
                url.as_deref(),
                opened.as_ref(),
                device.as_ref(),
                *exchanging,
            );
        }
        Some(SignIn::Failed(e)) => {
            ui.add_space(6.0);
            widgets::callout(ui, true, |ui| {
                ui.strong("Sign-in failed");
                ui.add(egui::Label::new(crate::ui::fields::in_form_words(&e.text)).wrap());
            });
        }
        Some(SignIn::Done(t)) => card(ui, t, ctx.now),
    }
    out
}

/// The client secret: typed masked, kept in the keyring, removed on request.
fn secret_row(
    ui: &mut egui::Ui,
    a: &Account,
    present: Option<SecretSource>,
    persistent: bool,
    input: &mut Input,
) -> Actions {
    let mut out = Actions::default();
    let name = &a.name;
    // Not in the form's grid: a grid cell does not wrap, and this row must at 800 px.
    ui.horizontal_wrapped(|ui| {
        let l = ui.label("Client secret");
        let hint = match present {
            Some(SecretSource::Keyring) => "stored (type to replace)",
            Some(SecretSource::Environment) => "from MAILCFG_CLIENT_SECRET",
            _ if a.flow == Flow::AppOnly => "the secret's Value (not its ID)",
            _ if a.provider == Provider::Google => "the Desktop app client's secret (required)",
            _ => "only for confidential apps",
        };
        let field = egui::TextEdit::singleline(&mut input.secret)
            .password(!input.reveal_secret)
            .hint_text(hint)
            .desired_width(280.0);
        ui.add(field).labelled_by(l.id);
        ui.checkbox(&mut input.reveal_secret, "Show");
        let typed = !input.secret.trim().is_empty();
        let store = if persistent {
            "Save to keyring"
        } else {
            "Keep for this session"
        };
        if ui.add_enabled(typed, egui::Button::new(store)).clicked() {
            let secret = std::mem::take(&mut input.secret).trim().to_owned();
            out.push(Action::StoreSecret {
                account: name.clone(),
                secret: secret.into(),
            });
        }
        if present == Some(SecretSource::Keyring) {
            let remove = ui
                .button("Remove")
                .on_hover_text("Delete the stored client secret");
            out.on(remove.clicked(), Action::RemoveSecret(name.clone()));
        }
    });
    let said = match present {
        Some(SecretSource::Keyring) if persistent => {
            "A client secret is stored in the OS keyring; it is never written to the profile."
        }
        Some(SecretSource::Keyring) => {
            "A client secret is kept in memory for this session (no OS keyring); it is never written to the profile."
        }
        Some(SecretSource::Environment) => {
            "The client secret comes from MAILCFG_CLIENT_SECRET, which overrides the keyring."
        }
        Some(SecretSource::None) if a.flow == Flow::AppOnly => {
            "No client secret stored yet: app-only sign-in needs one (or MAILCFG_CLIENT_SECRET)."
        }
        Some(SecretSource::None) if a.provider == Provider::Google => {
            "No client secret stored yet: Google requires the Desktop app client's secret (GOCSPX-…)."
        }
        Some(SecretSource::None) => "No client secret stored (not needed for public clients).",
        None => "Looking in the keyring…",
    };
    ui.add(egui::Label::new(RichText::new(said).weak()).wrap());
    out
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
        ui.horizontal_wrapped(|ui| {
            ui.label(RichText::new(code).size(32.0).monospace().strong());
            widgets::copy_button(ui, "Copy code", code);
        });
    }
    if let Some(url) = url {
        match opened {
            Some(Err(why)) => {
                let text =
                    format!("No browser could be opened ({why}). Open this address by hand:");
                ui.add(
                    egui::Label::new(RichText::new(text).color(ui.visuals().warn_fg_color)).wrap(),
                );
            }
            _ => {
                ui.label("If the browser did not open, open this address by hand:");
            }
        }
        ui.horizontal_wrapped(|ui| {
            widgets::copy_button(ui, "Copy address", url);
            ui.hyperlink_to("Open again", url);
        });
        widgets::code(ui, url);
    }
}

/// "12:04:31 UTC (3 min ago)"; the card is redrawn once a minute.
fn when(at: SystemTime, now: SystemTime) -> String {
    let secs = at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let clock = chrono::DateTime::from_timestamp(i64::try_from(secs).unwrap_or(0), 0)
        .map(|d| d.format("%H:%M:%S UTC").to_string())
        .unwrap_or_default();
    let ago = now.duration_since(at).unwrap_or_default().as_secs();
    let ago = match ago / 60 {
        0 => "less than a minute ago".to_owned(),
        m => format!("{m} min ago"),
    };
    format!("{clock} ({ago})")
}

fn card(ui: &mut egui::Ui, t: &TokenInfo, now: SystemTime) {
    ui.add_space(6.0);
    egui::Frame::group(ui.style())
        .inner_margin(10.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            ui.strong("Token");
            egui::Grid::new("token-card")
                .num_columns(2)
                .spacing([14.0, 4.0])
                .show(ui, |ui| {
                    ui.label(RichText::new("fetched").weak());
                    let from = if t.cached { ", from the cache" } else { "" };
                    ui.label(format!("{}{from}", when(t.fetched_at, now)));
                    ui.end_row();
                    match &t.claims {
                        Ok(c) => {
                            for (k, v) in c.summary_lines(now) {
                                ui.label(RichText::new(k).weak());
                                ui.add(egui::Label::new(v).wrap());
                                ui.end_row();
                            }
                            if c.user.is_none()
                                && let Some(u) = &t.user
                            {
                                ui.label(RichText::new("user").weak());
                                ui.label(u);
                                ui.end_row();
                            }
                        }
                        Err(e) => {
                            ui.label(RichText::new("claims").weak());
                            ui.add(egui::Label::new(e).wrap());
                            ui.end_row();
                        }
                    }
                });
            // The countdown and "ago" move by the minute: wake once a minute, not every frame.
            let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
            ui.ctx()
                .request_repaint_after(Duration::from_secs(60 - secs % 60));
            if t.problems.is_empty() {
                let ok = "The token carries what this account's mailboxes and transports need.";
                ui.label(RichText::new(ok).color(widgets::status_color(ui, Dot::Ok)));
            } else {
                for p in &t.problems {
                    widgets::callout(ui, true, |ui| {
                        ui.strong(&p.title);
                        for e in &p.evidence {
                            ui.add(egui::Label::new(crate::ui::widgets::because(e)).wrap());
                        }
                        ui.add(egui::Label::new(format!("Fix: {}", p.fix)).wrap());
                    });
                }
            }
        });
}
