//! The window's state and the one place that changes it. What is saved (the profile, the window
//! settings) is kept apart from what lives only while the window runs (jobs, tokens, results in
//! [`Runtime`]). Each frame the screens draw from borrowed state and return actions, and
//! [`App::apply`] handles each in one match: it edits the profile, starts engine jobs, opens and
//! saves files. Engine updates are routed in `jobs.rs`, files in `files.rs`, the consequences of
//! an edit in `edit.rs`.

mod close;
mod edit;
mod files;
mod findings;
mod google;
mod items;
mod jobs;
mod probes;
mod setup;
mod start;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Instant, SystemTime};

use eframe::egui;

use super::action::{self, Action, Nav, TargetName, Theme};
use super::frame::{self, Dialog};
use super::screens::start::StartScreen;
use super::screens::{self, Page};
use super::state::Runtime;
use super::view::{Ctx, Input, Keyring};
use crate::engine::{Engine, JobId, Pick};
use crate::export::ExportFormat;
use crate::profile::{Finding, Profile, Severity};
use crate::secrets::Secrets;
pub use files::WindowSettings;

/// How the window starts.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Open this profile (else the last one, else the Microsoft 365 starting point).
    pub open: Option<PathBuf>,
    /// Start with this profile, unsaved (tests, and a profile made by another screen).
    pub profile: Option<Profile>,
    /// Where the last profile's path, the window settings and the crash draft are kept (default:
    /// the platform's config folder). Tests give their own.
    pub config_dir: Option<PathBuf>,
    /// Test everything on the first frame.
    pub test_all: bool,
    /// `account:NAME`, `transport:NAME`, `mailbox:NAME`, `setup:NAME` (the account with "Set it up
    /// for me…" open) or a page's id (`settings`): shown first.
    pub select: Option<String>,
    /// The theme, over the one in the window settings.
    pub theme: Option<Theme>,
    /// Ask for paths in a field instead of native file dialogs (tests; set by itself where no
    /// dialog can be shown).
    pub no_file_dialogs: bool,
    /// Offer the start screen ("Start from an e-mail address") when no profile was opened.
    pub start_screen: bool,
}

/// The profile being edited, as saved and as it is now.
struct Document {
    profile: Profile,
    path: Option<PathBuf>,
    /// The profile as last opened or saved: unsaved changes are the difference.
    saved: Profile,
}

#[allow(clippy::struct_excessive_bools)] // independent switches of the window
pub struct App {
    doc: Document,
    window: WindowSettings,
    runtime: Runtime,
    engine: Engine,
    jobs: HashMap<JobId, jobs::Job>,
    ctx: Arc<OnceLock<egui::Context>>,
    nav: Nav,
    input: Input,
    pages: Vec<Box<dyn Page>>,
    dialog: Option<Dialog>,
    /// The last message for the status bar; `true` marks an error.
    status: Option<(bool, String)>,
    undo: Option<(String, Profile, Nav)>,
    findings: Vec<Finding>,
    validated: Option<Profile>,
    files: files::Files,
    export_format: ExportFormat,
    export_secrets: bool,
    /// Save as was asked (the profile-with-errors question comes first).
    saving_as: bool,
    /// Accounts whose keyring entry was looked at.
    secret_asked: std::collections::HashSet<String>,
    /// Tests to start once an account's new token is there ("retest").
    after_sign_in: HashMap<String, Vec<TargetName>>,
    title_sent: String,
    quitting: bool,
    /// The extra CA file's check, run on the engine.
    ca: findings::CaCheck,
    /// A close waits for writes under way since then (app/close.rs).
    closing: Option<Instant>,
    test_all_at_start: bool,
    /// The start screen, while it is open (screens/start.rs, app/start.rs).
    start: Option<StartScreen>,
    /// Where the fields of a discovered draft came from, shown under them.
    field_sources: Vec<crate::discover::FieldNote>,
}

impl App {
    pub fn new(opts: Options, secrets: Secrets) -> std::io::Result<Self> {
        let ctx: Arc<OnceLock<egui::Context>> = Arc::default();
        let wake = ctx.clone();
        let engine = Engine::new(
            secrets,
            Arc::new(move || {
                if let Some(c) = wake.get() {
                    c.request_repaint();
                }
            }),
        )?;
        let mut files = files::Files::new(opts.config_dir.clone(), opts.no_file_dialogs);
        let mut window = files.window_settings();
        if let Some(t) = opts.theme {
            window.theme = t;
        }
        let mut status = engine.secrets().notice().map(|_| {
            let text = "No OS keyring: secrets are kept for this session only (see Settings).";
            (false, text.to_owned())
        });
        let given = opts.profile.is_some();
        let (profile, path, clean, reveal) =
            files.first_profile(opts.profile, opts.open, &mut status);
        let nothing_opened = !given && path.is_none();
        files.offer_draft(&profile);
        let saved = if clean {
            profile.clone()
        } else {
            Profile::default()
        };
        let mut app = Self {
            doc: Document {
                profile,
                path,
                saved,
            },
            window,
            runtime: Runtime::default(),
            engine,
            jobs: HashMap::new(),
            ctx,
            nav: Nav::Account(0),
            input: Input::default(),
            pages: screens::pages(),
            dialog: None,
            status,
            undo: None,
            findings: Vec::new(),
            validated: None,
            files,
            export_format: ExportFormat::Powershell,
            export_secrets: false,
            saving_as: false,
            secret_asked: std::collections::HashSet::new(),
            after_sign_in: HashMap::new(),
            title_sent: String::new(),
            quitting: false,
            closing: None,
            ca: findings::CaCheck::default(),
            test_all_at_start: opts.test_all,
            start: None,
            field_sources: Vec::new(),
        };
        app.input.fields.reveal = reveal;
        if opts.start_screen && nothing_opened {
            app.open_start();
        }
        if let Some(sel) = opts.select.as_deref() {
            app.select(sel);
        }
        Ok(app)
    }

    pub fn profile(&self) -> &Profile {
        &self.doc.profile
    }
    pub fn path(&self) -> Option<&Path> {
        self.doc.path.as_deref()
    }
    pub fn nav(&self) -> Nav {
        self.nav
    }
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }
    pub fn status(&self) -> Option<&(bool, String)> {
        self.status.as_ref()
    }
    /// The start screen, while it is open.
    pub fn start(&self) -> Option<&StartScreen> {
        self.start.as_ref()
    }
    pub fn draft_offer(&self) -> Option<&Profile> {
        self.files.draft_offer.as_ref()
    }
    pub fn dirty(&self) -> bool {
        self.doc.profile != self.doc.saved
    }

    pub fn title(&self) -> String {
        let name = self
            .doc
            .path
            .as_ref()
            .and_then(|p| p.file_name())
            .map_or_else(
                || "new profile".to_owned(),
                |n| n.to_string_lossy().into_owned(),
            );
        format!("mailcfg — {name}{}", if self.dirty() { " •" } else { "" })
    }

    fn base_dir(&self) -> Option<PathBuf> {
        self.doc
            .path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
    }

    /// One frame: apply the engine's updates, draw, apply what was asked, keep title and draft.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if self.ctx.set(ui.ctx().clone()).is_ok() {
            files::add_fallback_font(ui.ctx());
            super::theme::install(ui.ctx());
            super::theme::set(ui.ctx(), self.window.theme);
        }
        if std::mem::take(&mut self.test_all_at_start) {
            for a in self.doc.profile.accounts.clone() {
                self.apply(Action::SignIn {
                    account: a.name,
                    renew: false,
                });
            }
            self.apply(Action::ProbeAll);
        }
        self.apply_updates();
        for a in action::shortcuts(ui.ctx()) {
            self.apply(a);
        }
        self.handle_close(ui.ctx());
        if let Nav::Account(i) = self.nav
            && let Some(a) = self.doc.profile.accounts.get(i)
            && self.secret_asked.insert(a.name.clone())
        {
            let name = a.name.clone();
            self.check_secret(&name);
        }
        self.refresh_findings();
        let secrets = self.engine.secrets();
        let sources = start::source_notes(&self.doc.profile, &self.field_sources);
        let mut ctx = Ctx {
            profile: &self.doc.profile,
            findings: &self.findings,
            sources: &sources,
            runtime: &self.runtime,
            keyring: Keyring {
                persistent: secrets.is_persistent(),
                notice: secrets.notice(),
            },
            now: SystemTime::now(),
            input: &mut self.input,
        };
        let f = frame::Frame {
            nav: self.nav,
            dirty: self.doc.profile != self.doc.saved,
            status: self.status.as_ref(),
            undo: self.undo.as_ref().map(|(what, _, _)| what.as_str()),
            draft_offered: self.files.draft_offer.is_some(),
            dialog: self.dialog.as_mut(),
            export_html: self.window.export_html,
            export_secrets: self.export_secrets,
            theme: self.window.theme,
            summary: self.runtime.summary(),
            start: self.start.as_mut(),
        };
        let actions = frame::show(ui, f, &mut ctx, &mut self.pages);
        for a in actions {
            self.apply(a);
        }
        let title = self.title();
        if title != self.title_sent {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title_sent = title;
        }
        self.keep_draft(ui.ctx());
    }

    /// The one place where what the user asked for happens.
    pub fn apply(&mut self, action: Action) {
        match action {
            Action::Select(nav) => {
                self.nav = nav;
                self.input.secret.clear();
                self.input.reveal_secret = false;
            }
            Action::Edit(e) => self.edit(e),
            Action::Add(kind) => self.add(kind),
            Action::Duplicate(nav) => self.duplicate(nav),
            Action::Delete(nav) => self.delete(nav),
            Action::Undo => self.undo(),
            Action::Ask(what) if self.dirty() => self.dialog = Some(Dialog::Discard(what)),
            Action::Ask(what) | Action::Discard(what) => self.proceed(what),
            Action::Save => self.save(false, false),
            Action::SaveAs => self.save(true, false),
            Action::SaveAnyway => self.save(self.saving_as, true),
            Action::Export(format) => {
                self.export_format = format;
                self.pick(Pick::Export);
            }
            Action::SetExportHtml(on) => {
                self.window.export_html = on;
                self.save_window_settings();
            }
            Action::SetExportSecrets(on) => self.export_secrets = on,
            Action::Pick(pick) => self.pick(pick),
            Action::PathTyped(pick, path) => {
                self.dialog = None;
                self.picked(pick, path);
            }
            Action::CloseDialog => self.dialog = None,
            Action::RestoreDraft(take) => self.restore_draft(take),
            Action::SetTheme(t) => {
                self.window.theme = t;
                if let Some(c) = self.ctx.get() {
                    super::theme::set(c, t);
                }
                self.save_window_settings();
            }
            Action::SignIn { account, renew } => self.sign_in(&account, renew),
            Action::CancelSignIn(account) => self.cancel_sign_in(&account),
            Action::SignOut(account) => self.sign_out(&account),
            Action::StoreSecret { account, secret } => self.store_secret(&account, Some(secret)),
            Action::RemoveSecret(account) => self.store_secret(&account, None),
            Action::StorePassword { entry, secret } => self.store_password(entry, secret),
            Action::Probe(t) => {
                if self.refused("test") {
                    return;
                }
                self.start_probe(t);
            }
            Action::ProbeAll => self.probe_all(),
            Action::CancelProbe(t) => self.cancel_probe(&t),
            Action::CancelAll => self.cancel_all(),
            Action::Retest(targets) => self.retest(targets),
            Action::DismissSummary => self.runtime.batch = None,
            Action::Start(a) => self.start_action(a),
            Action::SetupFill { account, pasted } => self.setup_fill(&account, &pasted),
            Action::SetupTest(account) => {
                self.apply(Action::SignIn {
                    account,
                    renew: false,
                });
                self.apply(Action::ProbeAll);
            }
        }
    }

    /// Refuses to `what` ("save", "test") while a field holds text that is not a value; says
    /// which, and from now on shows every error at its field.
    fn refused(&mut self, what: &str) -> bool {
        let Some(field) = self.input.fields.first_invalid() else {
            return false;
        };
        self.input.fields.reveal = true;
        self.status = Some((
            true,
            format!("Cannot {what}: {field}. Correct the field first."),
        ));
        true
    }

    /// The profile's errors in words, for the question before saving them.
    fn errors(&mut self) -> Vec<String> {
        self.refresh_findings();
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| super::fields::in_form_words(&format!("{}: {}", f.key(), f.message)))
            .collect()
    }
}
