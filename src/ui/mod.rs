//! The window. A screen draws state and returns what the user asked for; it never blocks and
//! never opens a socket. This first screen shows the profile being edited.

use std::path::PathBuf;

use eframe::egui;

use crate::cli::WindowArgs;
use crate::profile::{self, Profile};

const ICON_PNG: &[u8] = include_bytes!("../../icons/mailcfg-256.png");

/// Opens the window and runs until it closes.
pub fn run(args: &WindowArgs) -> eframe::Result<()> {
    let state = AppState::open(args.open.clone());
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(state.title())
        .with_app_id("mailcfg")
        .with_inner_size([960.0, 640.0])
        .with_min_inner_size([640.0, 400.0]);
    if let Ok(icon) = eframe::icon_data::from_png_bytes(ICON_PNG) {
        viewport = viewport.with_icon(icon);
    }
    let options = eframe::NativeOptions {
        viewport,
        ..Default::default()
    };
    let exit_after = args.exit_after_frames;
    eframe::run_native(
        "mailcfg",
        options,
        Box::new(move |_cc| {
            Ok(Box::new(App {
                state,
                frames: 0,
                exit_after,
            }))
        }),
    )
}

/// What the window shows: the profile and where it came from.
pub struct AppState {
    pub profile: Profile,
    pub path: Option<PathBuf>,
    /// Why the requested profile could not be opened, shown above the starting profile.
    pub problem: Option<String>,
}

impl AppState {
    /// The given profile, or the Microsoft 365 starting point (with the reason if the given one failed).
    pub fn open(path: Option<PathBuf>) -> Self {
        let Some(path) = path else {
            return Self {
                profile: profile::presets::microsoft365_profile(),
                path: None,
                problem: None,
            };
        };
        match profile::load(&path) {
            Ok((profile, _)) => Self {
                profile,
                path: Some(path),
                problem: None,
            },
            Err(e) => Self {
                profile: profile::presets::microsoft365_profile(),
                path: None,
                problem: Some(e.to_string()),
            },
        }
    }

    pub fn title(&self) -> String {
        match &self.path {
            Some(p) => format!(
                "mailcfg — {}",
                p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().into_owned()
                )
            ),
            None => "mailcfg — Microsoft 365 (new profile)".to_owned(),
        }
    }

    /// Draws the profile overview.
    pub fn ui(&self, ui: &mut egui::Ui) {
        ui.heading("mailcfg");
        ui.label("Set up, test and export mail accounts that sign in with OAuth2.");
        if let Some(problem) = &self.problem {
            ui.add_space(8.0);
            ui.colored_label(ui.visuals().error_fg_color, problem);
        }
        ui.add_space(12.0);
        section(
            ui,
            "Connected accounts",
            self.profile.accounts.iter().map(|a| {
                (
                    a.name.clone(),
                    format!(
                        "{} · {} · {}",
                        a.provider,
                        a.flow,
                        a.tenant.as_deref().unwrap_or("")
                    ),
                )
            }),
        );
        section(
            ui,
            "SMTP transports",
            self.profile.transports.iter().map(|t| {
                (
                    t.name.clone(),
                    format!("{}:{} · {}", t.host, t.port, t.encryption),
                )
            }),
        );
        section(
            ui,
            "Mailboxes",
            self.profile.mailboxes.iter().map(|m| {
                (
                    m.name.clone(),
                    format!(
                        "{} · {}:{} · {} · {}",
                        m.protocol, m.host, m.port, m.encryption, m.user
                    ),
                )
            }),
        );
    }
}

fn section(ui: &mut egui::Ui, title: &str, rows: impl Iterator<Item = (String, String)>) {
    ui.strong(title);
    egui::Grid::new(title)
        .num_columns(2)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            for (name, detail) in rows {
                ui.label(name);
                ui.label(detail);
                ui.end_row();
            }
        });
    ui.add_space(10.0);
}

struct App {
    state: AppState,
    frames: u64,
    exit_after: Option<u64>,
}

impl eframe::App for App {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        egui::CentralPanel::default().show(ui, |ui| self.state.ui(ui));
        self.frames += 1;
        if let Some(n) = self.exit_after {
            if self.frames >= n {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            } else {
                ui.ctx().request_repaint();
            }
        }
    }
}
