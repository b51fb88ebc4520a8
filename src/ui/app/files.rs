//! Files of the window: opening (any profile that parses, with its findings at the fields),
//! saving (asking first when the profile has errors), exports, the file dialog or, where none can
//! be shown, a path field; the last profile's path, the window settings, and a crash draft of
//! unsaved changes. All reading and writing after start-up runs on the engine.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use eframe::egui;

use super::jobs::Job;
use super::{App, Document};
use crate::engine::{Loaded, Pick, Picked};
use crate::profile::{self, Finding, Format, Profile, Severity, presets};
use crate::ui::action::{Nav, PathPrompt, Pending, Theme};
use crate::ui::frame::Dialog;

const DRAFT_FILE: &str = "draft.toml";
const LAST_FILE: &str = "last-profile";
const WINDOW_FILE: &str = "window.toml";
const DRAFT_EVERY: Duration = Duration::from_secs(2);

/// The window's own settings, kept between runs (never in the profile).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct WindowSettings {
    pub theme: Theme,
    /// Export the settings sheets as HTML for printing.
    pub export_html: bool,
}

/// Where the window keeps its files, and the draft's state.
pub(super) struct Files {
    dir: Option<PathBuf>,
    /// Paths are typed into a field (no native dialog here, or a test).
    pub path_field: Option<String>,
    pub draft_offer: Option<Profile>,
    draft_written: Option<Profile>,
    last_draft: Option<Instant>,
}

impl Files {
    pub fn new(dir: Option<PathBuf>, no_file_dialogs: bool) -> Self {
        Self {
            dir: dir.or_else(config_dir),
            path_field: no_file_dialogs.then(|| "file dialogs are turned off".to_owned()),
            draft_offer: None,
            draft_written: None,
            last_draft: None,
        }
    }

    pub fn window_settings(&self) -> WindowSettings {
        self.dir
            .as_ref()
            .and_then(|d| read_small(&d.join(WINDOW_FILE)))
            .and_then(|t| toml::from_str(&t).ok())
            .unwrap_or_default()
    }

    pub fn last_profile(&self) -> Option<PathBuf> {
        let d = self.dir.as_ref()?;
        let s = read_small(&d.join(LAST_FILE))?;
        Some(PathBuf::from(s.trim()))
    }

    /// What the window starts with: the given profile (unsaved), else the file to open or the last
    /// one, else the Microsoft 365 starting point. Returns the profile, its path, whether it is
    /// as on disk, and whether its errors show at once (a file's do); says in `status` what
    /// happened.
    pub fn first_profile(
        &self,
        given: Option<Profile>,
        open: Option<PathBuf>,
        status: &mut Option<(bool, String)>,
    ) -> (Profile, Option<PathBuf>, bool, bool) {
        if let Some(p) = given {
            return (p, None, false, false);
        }
        let Some(path) = open.or_else(|| self.last_profile()) else {
            return (presets::microsoft365_start(), None, true, false);
        };
        match profile::read(&path) {
            Ok((p, findings)) => {
                *status = Some(opened_status(&path, &findings, false));
                (p, Some(path), true, has_errors(&findings))
            }
            Err(e) => {
                *status = Some((true, format!("{e}")));
                (presets::microsoft365_start(), None, true, false)
            }
        }
    }

    /// A draft left by a crash is offered when it differs from what was opened.
    pub fn offer_draft(&mut self, opened: &Profile) {
        self.draft_offer = self
            .dir
            .as_ref()
            .and_then(|d| profile::read(&d.join(DRAFT_FILE)).ok())
            .map(|(p, _)| p)
            .filter(|d| d != opened);
    }
}

/// One of the window's own small files, as text: a regular file only, read bounded (another
/// program could have put a FIFO or a huge file there).
fn read_small(path: &Path) -> Option<String> {
    let bytes = crate::files::read_limited(path, 64 * 1024).ok()?;
    String::from_utf8(bytes).ok()
}

/// What the status bar says after opening: the file, and how many problems were found in it.
pub(super) fn opened_status(path: &Path, findings: &[Finding], import: bool) -> (bool, String) {
    let verb = if import { "Imported" } else { "Opened" };
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    match errors {
        0 => (false, format!("{verb} {}", path.display())),
        n => (
            true,
            format!(
                "{verb} {}: {n} value{} to correct, shown at {}",
                path.display(),
                if n == 1 { "" } else { "s" },
                if n == 1 { "its field" } else { "their fields" }
            ),
        ),
    }
}

pub(super) fn has_errors(findings: &[Finding]) -> bool {
    findings.iter().any(|f| f.severity == Severity::Error)
}

impl App {
    pub(super) fn proceed(&mut self, what: Pending) {
        self.dialog = None;
        match what {
            // The start screen offers the address, the preset and Open (screens/start.rs).
            Pending::New => self.open_start(),
            Pending::Open => self.pick(Pick::Open),
            Pending::Import => self.pick(Pick::Import),
            Pending::Quit => {
                self.quitting = true;
                if let Some(c) = self.ctx.get() {
                    c.send_viewport_cmd(egui::ViewportCommand::Close);
                }
            }
        }
    }

    /// Shows another profile. `clean`: it is what is on disk (opened, or a fresh preset); an
    /// imported profile is not saved yet, so it counts as changed.
    pub(super) fn replace(&mut self, p: Profile, path: Option<PathBuf>, clean: bool) {
        let saved = if clean { p.clone() } else { Profile::default() };
        self.field_sources.clear();
        self.doc = Document {
            profile: p,
            path,
            saved,
        };
        self.nav = Nav::Account(0);
        self.input = crate::ui::view::Input::default();
        self.runtime = crate::ui::state::Runtime::default();
        // What the keyring holds is asked again for the new profile's accounts.
        self.secret_asked.clear();
        self.undo = None;
    }

    /// A native file dialog off the UI thread, or the path field where none can be shown.
    pub(super) fn pick(&mut self, pick: Pick) {
        if let Some(why) = self.files.path_field.clone() {
            self.dialog = Some(Dialog::Path(PathPrompt::new(pick, why, self.base_dir())));
            return;
        }
        let mut d = rfd::AsyncFileDialog::new();
        if let Some(dir) = self.base_dir() {
            d = d.set_directory(dir);
        }
        d = match pick {
            Pick::Open => d
                .set_title("Open profile")
                .add_filter("Profile", &["toml", "json"]),
            Pick::Import => d.set_title("Import").add_filter(
                "Profile or Thunderbird autoconfig",
                &["toml", "json", "xml"],
            ),
            Pick::SaveAs => d
                .set_title("Save profile as")
                .add_filter("Profile", &["toml", "json"])
                .set_file_name("profile.toml"),
            Pick::Export => d
                .set_title("Export")
                .set_file_name(self.export_format.file_name(self.window.export_html)),
            Pick::CaFile => d
                .set_title("CA certificate (PEM)")
                .add_filter("PEM", &["pem", "crt", "cer"]),
            Pick::ServiceAccountKey => d
                .set_title("Service account key (JSON)")
                .add_filter("JSON key", &["json"]),
        };
        let job = self.engine.pick(pick, d);
        self.jobs.insert(job, Job::Pick);
    }

    pub(super) fn on_picked(&mut self, pick: Pick, picked: Picked) {
        match picked {
            Picked::Path(path) => self.picked(pick, path),
            Picked::Cancelled => {}
            Picked::Unavailable(why) => {
                // From now on, this session asks for paths in the field.
                self.files.path_field = Some(why.clone());
                self.dialog = Some(Dialog::Path(PathPrompt::new(pick, why, self.base_dir())));
            }
        }
    }

    pub(super) fn picked(&mut self, pick: Pick, path: PathBuf) {
        match pick {
            Pick::Open | Pick::Import => {
                let import = pick == Pick::Import;
                let job = self.engine.load(path, import);
                self.jobs.insert(job, Job::Load { import });
            }
            Pick::SaveAs => self.save_to(path),
            Pick::Export => {
                let p = &self.doc.profile;
                let job = self.engine.export(
                    p,
                    self.export_format,
                    self.window.export_html,
                    self.export_secrets,
                    path,
                );
                self.jobs.insert(job, Job::Export);
            }
            Pick::ServiceAccountKey => self.import_key(path),
            Pick::CaFile => {
                let mut tls = self.doc.profile.tls.clone();
                tls.ca_file = Some(path);
                self.apply(crate::ui::action::Action::Edit(
                    crate::ui::action::Edit::Tls(tls),
                ));
            }
        }
    }

    /// Saves to the profile's file (or asks where first), atomically, off the UI thread. Text
    /// that is not a value stops it; errors in the profile are asked about first (`checked`:
    /// the user said to save anyway).
    pub(super) fn save(&mut self, ask_path: bool, checked: bool) {
        self.dialog = None;
        self.saving_as = ask_path;
        if self.refused("save") {
            return;
        }
        let errors = self.errors();
        if !checked && !errors.is_empty() {
            self.input.fields.reveal = true;
            self.dialog = Some(Dialog::SaveAnyway(errors));
            return;
        }
        match self.doc.path.clone() {
            Some(path) if !ask_path => self.save_to(path),
            _ => self.pick(Pick::SaveAs),
        }
    }

    fn save_to(&mut self, path: PathBuf) {
        self.saving_as = false;
        match profile::to_string(&self.doc.profile, Format::from_path(&path)) {
            Ok(text) => {
                let job = self.engine.write(path.clone(), text.into_bytes());
                let snapshot = Box::new(self.doc.profile.clone());
                self.jobs.insert(job, Job::Save { path, snapshot });
            }
            Err(e) => self.status = Some((true, format!("cannot save: {e}"))),
        }
    }

    pub(super) fn on_saved(&mut self, path: &Path, snapshot: Profile) {
        self.doc.saved = snapshot;
        self.doc.path = Some(path.to_path_buf());
        self.remember(path);
        if let Some(d) = &self.files.dir {
            self.engine.remove(d.join(DRAFT_FILE));
        }
        self.files.draft_written = None;
        self.status = Some((false, format!("Saved {}", path.display())));
    }

    pub(super) fn on_loaded(&mut self, l: Loaded, import: bool) {
        self.status = Some(opened_status(&l.path, &l.findings, import));
        self.replace(l.profile, (!import).then(|| l.path.clone()), !import);
        // A file's errors are the user's to correct now: shown as errors, not as hints.
        self.input.fields.reveal = has_errors(&l.findings);
        if !import {
            self.remember(&l.path);
        }
    }

    /// Remembers the last profile so that the next start reopens it.
    fn remember(&mut self, path: &Path) {
        if let Some(d) = &self.files.dir {
            let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            let _ = std::fs::create_dir_all(d);
            let j = self.engine.write(
                d.join(LAST_FILE),
                abs.to_string_lossy().into_owned().into_bytes(),
            );
            self.jobs.insert(j, Job::Quiet);
        }
    }

    pub(super) fn save_window_settings(&mut self) {
        let Some(d) = self.files.dir.clone() else {
            return;
        };
        if let Ok(text) = toml::to_string(&self.window) {
            let _ = std::fs::create_dir_all(&d);
            let j = self.engine.write(d.join(WINDOW_FILE), text.into_bytes());
            self.jobs.insert(j, Job::Quiet);
        }
    }

    /// Keeps unsaved changes in a draft (at most every 2 s) so a crash or kill loses nothing.
    pub(super) fn keep_draft(&mut self, ctx: &egui::Context) {
        let Some(dir) = self.files.dir.clone() else {
            return;
        };
        let f = &mut self.files;
        if self.doc.profile == self.doc.saved || f.draft_written.as_ref() == Some(&self.doc.profile)
        {
            return;
        }
        if let Some(t) = f.last_draft
            && t.elapsed() < DRAFT_EVERY
        {
            ctx.request_repaint_after(DRAFT_EVERY.saturating_sub(t.elapsed()));
            return;
        }
        if let Ok(text) = profile::to_string(&self.doc.profile, Format::Toml) {
            let _ = std::fs::create_dir_all(&dir);
            let j = self.engine.write(dir.join(DRAFT_FILE), text.into_bytes());
            self.jobs.insert(j, Job::Quiet);
            f.draft_written = Some(self.doc.profile.clone());
            f.last_draft = Some(Instant::now());
        }
    }

    pub(super) fn restore_draft(&mut self, take: bool) {
        if let Some(d) = self.files.draft_offer.take() {
            if take {
                self.doc.profile = d;
                self.status = Some((false, "Restored the unsaved changes from last time.".into()));
            } else if let Some(dir) = &self.files.dir {
                self.engine.remove(dir.join(DRAFT_FILE));
            }
        }
    }
}

/// DejaVu Sans after egui's own fonts, for the arrows, bullets and marks that the identity
/// providers' and servers' messages (and ours) use and egui's default fonts lack.
pub(super) fn add_fallback_font(ctx: &egui::Context) {
    static DEJAVU: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
    ctx.add_font(egui::epaint::text::FontInsert {
        name: "DejaVuSans".into(),
        data: egui::FontData::from_static(DEJAVU),
        families: [egui::FontFamily::Proportional, egui::FontFamily::Monospace]
            .into_iter()
            .map(|family| egui::epaint::text::InsertFontFamily {
                family,
                priority: egui::epaint::text::FontPriority::Lowest,
            })
            .collect(),
    });
}

/// The platform's config folder for mailcfg. Hand-written (three environment variables) rather
/// than a crate for one path.
fn config_dir() -> Option<PathBuf> {
    let base = if cfg!(windows) {
        std::env::var_os("APPDATA").map(PathBuf::from)
    } else if cfg!(target_os = "macos") {
        std::env::var_os("HOME").map(|h| PathBuf::from(h).join("Library/Application Support"))
    } else {
        std::env::var_os("XDG_CONFIG_HOME")
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
    };
    base.map(|b| b.join("mailcfg"))
}
