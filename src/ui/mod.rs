//! The window. A map of this folder, to read first:
//! - `action.rs`: what a screen can ask for ([`Action`]) and how the window names what it shows.
//! - `app/`: [`App`], the state and the one place that changes it (`App::apply`): the engine's
//!   updates (`jobs.rs`), connection tests (`probes.rs`), files, items and an edit's consequences,
//!   the start screen's and the set-up view's actions.
//! - `state/`: the runtime state (sign-ins, connection tests) with the settings each result was
//!   made with; `view.rs`: what a screen is handed; `fields.rs`: text as typed, notes at fields.
//! - `frame.rs`: menu, sidebar, status bar, dialogs; `screens/`: the forms, the pages, the start
//!   screen and "Set it up for me…".
//! - `widgets.rs`, `theme.rs`: shared widgets, readable colours and sizes.
//!
//! Screens draw borrowed state and return actions; only the app changes state and talks to the
//! [`crate::engine`], which does all the waiting off the UI thread. The window never blocks and
//! never opens a socket itself.

pub mod action;
mod app;
mod fields;
mod frame;
mod screens;
pub mod state;
mod theme;
mod view;
pub mod widgets;

use eframe::egui;

pub use action::{Action, Edit, Kind, Nav, Pending, TargetName, Theme};
pub use app::{App, Options, WindowSettings};
pub use screens::start::{StartAction, StartScreen};

use crate::cli::WindowArgs;

const ICON_PNG: &[u8] = include_bytes!("../../icons/mailcfg-256.png");

/// Set (to anything) to have the window print, at its first frame, the wall-clock time (Unix
/// milliseconds) and the time since [`run`] began, to stderr (`bench/run.sh` reads it).
const FIRST_FRAME_ENV: &str = "MAILCFG_FIRST_FRAME_REPORT";

/// Opens the window and runs until it closes.
pub fn run(args: &WindowArgs) -> eframe::Result<()> {
    let began = std::time::Instant::now();
    let report_first_frame = std::env::var_os(FIRST_FRAME_ENV).is_some();
    let secrets = crate::secrets::Secrets::open();
    let app = App::new(
        Options {
            open: args.open.clone(),
            config_dir: None,
            test_all: args.test_all,
            select: args.select.clone(),
            theme: args.theme,
            start_screen: true,
            ..Options::default()
        },
        secrets,
    )
    .map_err(|e| eframe::Error::AppCreation(Box::new(e)))?;
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(app.title())
        .with_app_id("mailcfg")
        .with_inner_size([1040.0, 720.0])
        .with_min_inner_size([640.0, 420.0]);
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
            Ok(Box::new(Window {
                app,
                frames: 0,
                exit_after,
                first_frame_report: report_first_frame.then_some(began),
            }))
        }),
    )
}

struct Window {
    app: App,
    frames: u64,
    exit_after: Option<u64>,
    /// `Some(start of run)`: print the first frame's time (see [`FIRST_FRAME_ENV`]).
    first_frame_report: Option<std::time::Instant>,
}

impl eframe::App for Window {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        self.app.ui(ui);
        self.frames += 1;
        if let Some(began) = self.first_frame_report.take() {
            let unix_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            eprintln!(
                "mailcfg: first frame at unix_ms={unix_ms}, {} ms after the window began",
                began.elapsed().as_millis()
            );
        }
        if let Some(n) = self.exit_after {
            if self.frames >= n {
                ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
            } else {
                ui.ctx().request_repaint();
            }
        }
    }
}
