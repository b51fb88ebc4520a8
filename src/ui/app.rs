//! The window's state and the one place that applies what the user asked for: it starts engine
//! jobs, routes their updates, saves and opens files, and keeps a crash draft. Drawing lives in
//! `view.rs`, `forms.rs` and `signin.rs`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use eframe::egui;

use super::testview::TestRun;
use crate::engine::{Engine, JobId, Pick, TokenInfo, Update};
use crate::oauth::FlowEvent;
use crate::profile::{self, Finding, Format, Profile};
use crate::secrets::Secrets;

/// How the window starts.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Open this profile (else the last one, else the Microsoft 365 starting point).
    pub open: Option<PathBuf>,
    /// Where the last profile's path and the crash draft are kept (default: the platform's
    /// config folder). Tests give their own.
    pub config_dir: Option<PathBuf>,
    /// Test everything on the first frame.
    pub test_all: bool,
    /// `account:NAME`, `transport:NAME`, `mailbox:NAME`, `setup:NAME` or `settings`: shown first.
    pub select: Option<String>,
    /// Offer the start screen ("Start from an e-mail address") when no profile was opened.
    pub start_screen: bool,
}

/// What the sidebar has selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selected {
    Account(usize),
    Transport(usize),
    Mailbox(usize),
    Settings,
}

/// A sign-in in progress or done, per account.
#[derive(Debug, Clone)]
pub enum SignIn {
    Waiting {
        job: JobId,
        url: Option<String>,
        opened: Option<Result<(), String>>,
        device: Option<(String, String)>,
        exchanging: bool,
    },
    Done(Box<TokenInfo>),
    Failed(crate::engine::SignInFailure),
}

/// Something that waits for the user to agree to drop unsaved changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    New,
    Open,
    Import,
    Quit,
}

#[derive(Debug, Clone)]
pub(super) enum Job {
    SignIn(String),
    Secret(String),
    Password,
    Pick,
    Load {
        import: bool,
    },
    Save {
        path: PathBuf,
        snapshot: Box<Profile>,
    },
    Export,
    Draft,
    Test(super::testview::Target),
    Discover,
    /// A Google service account's key being imported for the account.
    KeyImport(String),
}

#[allow(clippy::struct_excessive_bools)] // independent switches of the window
pub struct App {
    pub profile: Profile,
    pub path: Option<PathBuf>,
    /// The profile as last opened or saved: unsaved changes are the difference.
    saved: Profile,
    pub selected: Selected,
    /// The last message for the status bar; `true` marks an error.
    pub status: Option<(bool, String)>,
    pub engine: Engine,
    ctx: Arc<OnceLock<egui::Context>>,
    pub(super) jobs: HashMap<JobId, Job>,
    pub sign_ins: HashMap<String, SignIn>,
    pub secret_input: String,
    pub reveal_secret: bool,
    pub secret_present: HashMap<String, crate::engine::SecretSource>,
    /// Accounts whose keyring entry was looked at (once each).
    pub secret_asked: std::collections::HashSet<String>,
    /// Port fields as typed, so that a bad port can be shown at the field.
    pub ports: HashMap<String, String>,
    findings: Vec<Finding>,
    validated: Option<Profile>,
    pub confirm: Option<Pending>,
    pub undo: Option<(String, Profile, Selected)>,
    config_dir: Option<PathBuf>,
    pub draft_offer: Option<Profile>,
    draft_written: Option<Profile>,
    last_draft: Option<Instant>,
    title_sent: String,
    pub export_format: crate::export::ExportFormat,
    pub export_html: bool,
    /// "Include secrets" in exports (off by default; the file is 0600 and the user is warned).
    pub export_secrets: bool,
    pub tests: HashMap<super::testview::Target, TestRun>,
    pub send_to: String,
    /// "Set it up for me…" of one account, while open (src/ui/setup.rs).
    pub setup: Option<super::setup::SetupView>,
    /// What the set-up script reported done, by account: checklist evidence for this session.
    pub setup_reported: HashMap<String, Vec<crate::diagnosis::SetupStep>>,
    quitting: bool,
    test_all_at_start: bool,
    /// The start screen, while it is open (src/ui/discover.rs).
    pub start: Option<super::discover::StartScreen>,
    /// Where the fields of a discovered draft came from, shown under them.
    pub field_sources: Vec<crate::discover::FieldNote>,
    /// Google service accounts (src/ui/google.rs): a key file's path typed by hand, and the
    /// mailbox user each account's token is got for.
    pub key_path: String,
    pub sign_in_user: HashMap<String, String>,
}

const DRAFT_FILE: &str = "draft.toml";
const LAST_FILE: &str = "last-profile";
const DRAFT_EVERY: Duration = Duration::from_secs(2);

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
        let config_dir = opts.config_dir.or_else(config_dir);
        let mut status = engine.secrets().notice().map(|_| {
            (
                false,
                "No OS keyring: secrets are kept for this session only (see Settings).".to_owned(),
            )
        });
        let last = config_dir
            .as_ref()
            .and_then(|d| crate::files::read_limited(&d.join(LAST_FILE), 64 * 1024).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .map(|s| PathBuf::from(s.trim()));
        let opened = opts.open.is_some() || last.is_some();
        let (profile, path) = match opts.open.or(last) {
            Some(p) => match profile::load(&p) {
                Ok((profile, _)) => (profile, Some(p)),
                Err(e) => {
                    status = Some((true, format!("{e}")));
                    (profile::presets::microsoft365_profile(), None)
                }
            },
            None => (profile::presets::microsoft365_profile(), None),
        };
        let draft_offer = config_dir
            .as_ref()
            .and_then(|d| profile::load(&d.join(DRAFT_FILE)).ok())
            .map(|(p, _)| p)
            .filter(|d| *d != profile);
        Ok(Self {
            saved: profile.clone(),
            profile,
            path,
            selected: Selected::Account(0),
            status,
            engine,
            ctx,
            jobs: HashMap::new(),
            sign_ins: HashMap::new(),
            secret_input: String::new(),
            reveal_secret: false,
            secret_present: HashMap::new(),
            secret_asked: std::collections::HashSet::new(),
            ports: HashMap::new(),
            findings: Vec::new(),
            validated: None,
            confirm: None,
            undo: None,
            config_dir,
            draft_offer,
            draft_written: None,
            last_draft: None,
            title_sent: String::new(),
            export_format: crate::export::ExportFormat::Powershell,
            export_html: false,
            export_secrets: false,
            tests: HashMap::new(),
            key_path: String::new(),
            sign_in_user: HashMap::new(),
            send_to: String::new(),
            setup: None,
            setup_reported: HashMap::new(),
            quitting: false,
            test_all_at_start: opts.test_all,
            start: None,
            field_sources: Vec::new(),
        })
        .map(|mut app| {
            if opts.start_screen && !opened {
                app.open_start();
            }
            if let Some(sel) = opts.select.as_deref() {
                app.select(sel);
            }
            app
        })
    }

    /// Selects an item by `kind:name` (`account`, `transport`, `mailbox`) or `settings`.
    pub fn select(&mut self, what: &str) {
        let (kind, name) = what.split_once(':').unwrap_or((what, ""));
        let p = &self.profile;
        let found = match kind {
            "account" => p
                .accounts
                .iter()
                .position(|a| a.name == name)
                .map(Selected::Account),
            "transport" => p
                .transports
                .iter()
                .position(|t| t.name == name)
                .map(Selected::Transport),
            "mailbox" => p
                .mailboxes
                .iter()
                .position(|m| m.name == name)
                .map(Selected::Mailbox),
            "settings" => Some(Selected::Settings),
            "setup" => {
                self.setup = Some(super::setup::SetupView::new(name));
                p.accounts
                    .iter()
                    .position(|a| a.name == name)
                    .map(Selected::Account)
            }
            _ => None,
        };
        if let Some(s) = found {
            self.selected = s;
        }
    }

    pub fn dirty(&self) -> bool {
        self.profile != self.saved
    }

    pub fn title(&self) -> String {
        let name = self.path.as_ref().and_then(|p| p.file_name()).map_or_else(
            || "new profile".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        format!("mailcfg — {name}{}", if self.dirty() { " •" } else { "" })
    }

    pub fn base_dir(&self) -> Option<PathBuf> {
        self.path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
    }

    /// The profile's findings, recomputed only when it changed.
    pub fn findings(&mut self) -> &[Finding] {
        if self.validated.as_ref() != Some(&self.profile) {
            self.findings = profile::validate(&self.profile, self.base_dir().as_deref());
            self.validated = Some(self.profile.clone());
        }
        &self.findings
    }

    /// One frame: apply updates, draw, keep the title and the draft current.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if self.ctx.set(ui.ctx().clone()).is_ok() {
            add_fallback_font(ui.ctx());
        }
        if std::mem::take(&mut self.test_all_at_start) {
            for i in 0..self.profile.accounts.len() {
                self.sign_in(i);
            }
            super::view::test_all(self);
        }
        self.apply_updates();
        self.shortcuts(ui.ctx());
        if ui.ctx().input(|i| i.viewport().close_requested()) && self.dirty() && !self.quitting {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::CancelClose);
            self.confirm = Some(Pending::Quit);
        }
        super::view::frame(self, ui);
        let title = self.title();
        if title != self.title_sent {
            ui.ctx()
                .send_viewport_cmd(egui::ViewportCommand::Title(title.clone()));
            self.title_sent = title;
        }
        self.keep_draft(ui.ctx());
    }

    fn shortcuts(&mut self, ctx: &egui::Context) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let (save, open, new, esc) = ctx.input_mut(|i| {
            (
                i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::S)),
                i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::O)),
                i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, Key::N)),
                i.key_pressed(Key::Escape),
            )
        });
        if save {
            self.save(false);
        }
        if open {
            self.ask(Pending::Open);
        }
        if new {
            self.ask(Pending::New);
        }
        if esc {
            self.cancel_all();
        }
    }

    /// Cancels every wait: sign-ins and running tests.
    pub fn cancel_all(&mut self) {
        let waiting: Vec<String> = self
            .sign_ins
            .iter()
            .filter(|(_, s)| matches!(s, SignIn::Waiting { .. }))
            .map(|(k, _)| k.clone())
            .collect();
        for account in waiting {
            self.cancel_sign_in(&account);
        }
        let running: Vec<_> = self
            .tests
            .iter()
            .filter(|(_, t)| t.running())
            .map(|(k, _)| k.clone())
            .collect();
        for t in running {
            self.cancel_test(&t);
        }
    }

    /// Does `what` now, or first asks whether unsaved changes may go.
    pub fn ask(&mut self, what: Pending) {
        if self.dirty() {
            self.confirm = Some(what);
        } else {
            self.proceed(what);
        }
    }

    pub fn proceed(&mut self, what: Pending) {
        self.confirm = None;
        match what {
            // The start screen offers the address, the preset and Open (src/ui/discover.rs).
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
        self.field_sources.clear();
        self.saved = if clean { p.clone() } else { Profile::default() };
        self.profile = p;
        self.path = path;
        self.selected = Selected::Account(0);
        self.ports.clear();
        self.sign_ins.clear();
        self.tests.clear();
        self.setup = None;
        self.setup_reported.clear();
        self.undo = None;
    }

    pub fn pick(&mut self, pick: Pick) {
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
                .set_file_name(self.export_format.file_name(self.export_html)),
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

    /// Saves to the profile's file (or asks where first), atomically, off the UI thread.
    pub fn save(&mut self, ask: bool) {
        match self.path.clone() {
            Some(path) if !ask => self.save_to(path),
            _ => self.pick(Pick::SaveAs),
        }
    }

    pub fn save_to(&mut self, path: PathBuf) {
        match profile::to_string(&self.profile, Format::from_path(&path)) {
            Ok(text) => {
                let job = self.engine.write(path.clone(), text.into_bytes());
                self.jobs.insert(
                    job,
                    Job::Save {
                        path,
                        snapshot: Box::new(self.profile.clone()),
                    },
                );
            }
            Err(e) => self.status = Some((true, format!("cannot save: {e}"))),
        }
    }

    /// Writes the chosen export (never with secrets from the window's default).
    /// Writes the chosen export; secrets only when "include secrets" is ticked.
    pub fn export_to(&mut self, path: &Path) {
        let job = self.engine.export(
            &self.profile,
            self.export_format,
            self.export_html,
            self.export_secrets,
            path.to_path_buf(),
        );
        self.jobs.insert(job, Job::Export);
    }

    pub fn sign_in(&mut self, account: usize) {
        let Some(a) = self.profile.accounts.get(account).cloned() else {
            return;
        };
        if let Some(SignIn::Waiting { job, .. }) = self.sign_ins.get(&a.name) {
            self.engine.cancel(*job);
        }
        let base = self.base_dir();
        let job = match self.sign_in_user.get(&a.name).cloned() {
            Some(user) => self
                .engine
                .sign_in_as(&self.profile, base.as_deref(), &a, Some(user)),
            None => self.engine.sign_in(&self.profile, base.as_deref(), &a),
        };
        self.jobs.insert(job, Job::SignIn(a.name.clone()));
        self.sign_ins.insert(
            a.name,
            SignIn::Waiting {
                job,
                url: None,
                opened: None,
                device: None,
                exchanging: false,
            },
        );
    }

    pub fn cancel_sign_in(&mut self, account: &str) {
        if let Some(SignIn::Waiting { job, .. }) = self.sign_ins.remove(account) {
            self.engine.cancel(job);
            self.status = Some((false, format!("Sign-in for \"{account}\" cancelled.")));
        }
    }

    pub fn sign_out(&mut self, account: usize) {
        let Some(a) = self.profile.accounts.get(account).cloned() else {
            return;
        };
        self.sign_ins.remove(&a.name);
        let job = self
            .engine
            .sign_out(&self.profile, self.base_dir().as_deref(), &a);
        self.jobs.insert(job, Job::Secret(a.name));
    }

    pub fn store_secret(&mut self, account: &str) {
        let secret = std::mem::take(&mut self.secret_input);
        let value = (!secret.trim().is_empty())
            .then(|| secrecy::SecretString::from(secret.trim().to_owned()));
        self.keep_secret(account, value);
    }

    /// Stores an account's client secret in the keyring, off the UI thread.
    pub fn keep_client_secret(&mut self, account: &str, secret: secrecy::SecretString) {
        self.keep_secret(account, Some(secret));
    }

    fn keep_secret(&mut self, account: &str, value: Option<secrecy::SecretString>) {
        let job = self.engine.store_secret(
            crate::secrets::account_entry(account),
            crate::secrets::Kind::ClientSecret,
            value,
        );
        self.jobs.insert(job, Job::Secret(account.to_owned()));
    }

    /// Stores (or with an empty field removes) the password of a mailbox or transport without an
    /// XOAuth2 account, from the masked field.
    pub fn store_password(&mut self, entry: String) {
        let secret = std::mem::take(&mut self.secret_input);
        let value = (!secret.is_empty()).then(|| secrecy::SecretString::from(secret));
        let job = self
            .engine
            .store_secret(entry, crate::secrets::Kind::Password, value);
        self.jobs.insert(job, Job::Password);
    }

    pub fn check_secret(&mut self, account: &str) {
        let job = self.engine.check_secret(account);
        self.jobs.insert(job, Job::Secret(account.to_owned()));
    }

    pub fn start_test(&mut self, target: super::testview::Target) {
        if let Some(run) = self.tests.get(&target)
            && let Some(job) = run.job
        {
            self.engine.cancel(job);
        }
        let send_to = match send_to_address(&self.send_to) {
            Ok(a) => a,
            Err(why) => {
                // The field shows why (forms.rs); nothing is sent to an address that is not one.
                self.status = Some((true, format!("Not tested: \"Send test to\" {why}.")));
                return;
            }
        };
        let base_dir = self.base_dir();
        let job = super::testview::start(
            &mut self.engine,
            &self.profile,
            base_dir.as_deref(),
            &target,
            send_to,
        );
        self.jobs.insert(job, Job::Test(target.clone()));
        self.tests.insert(target, TestRun::new(job));
    }

    pub fn cancel_test(&mut self, target: &super::testview::Target) {
        if let Some(run) = self.tests.get_mut(target)
            && let Some(job) = run.job.take()
        {
            self.engine.cancel(job);
            run.cancelled();
        }
    }

    fn apply_updates(&mut self) {
        for (job, update) in self.engine.poll() {
            let Some(kind) = self.jobs.get(&job).cloned() else {
                continue;
            };
            let finished = !matches!(
                update,
                Update::Flow(_) | Update::Probe(_) | Update::Discovery(_)
            );
            if finished {
                self.jobs.remove(&job);
            }
            self.apply(job, kind, update);
        }
    }

    /// Progress of a sign-in: the address, the device code, the exchange.
    fn flow_event(&mut self, job: JobId, account: &str, e: FlowEvent) {
        if let Some(SignIn::Waiting {
            job: j,
            url,
            opened,
            device,
            exchanging,
        }) = self.sign_ins.get_mut(account)
            && *j == job
        {
            match e {
                FlowEvent::Browser { url: u, opened: o } => {
                    *url = Some(u);
                    *opened = Some(o);
                }
                FlowEvent::DeviceCode {
                    user_code,
                    verification_uri,
                    ..
                } => *device = Some((user_code, verification_uri)),
                FlowEvent::Exchanging | FlowEvent::Refreshed | FlowEvent::Cached => {
                    *exchanging = true;
                }
            }
        }
    }

    /// A sign-in ended: its token (or refusal) is new evidence for every test shown.
    fn signed_in(
        &mut self,
        job: JobId,
        account: String,
        r: Result<TokenInfo, crate::engine::SignInFailure>,
    ) {
        let current = matches!(self.sign_ins.get(&account), Some(SignIn::Waiting { job: j, .. }) if *j == job);
        if current {
            self.sign_ins.insert(
                account,
                r.map_or_else(SignIn::Failed, |t| SignIn::Done(Box::new(t))),
            );
            super::evidence::rediagnose(&self.profile, &self.sign_ins, &mut self.tests);
        }
    }

    fn apply(&mut self, job: JobId, kind: Job, update: Update) {
        match (kind, update) {
            (Job::SignIn(account), Update::Flow(e)) => self.flow_event(job, &account, e),
            (Job::SignIn(account), Update::SignedIn(r)) => self.signed_in(job, account, *r),
            (Job::Secret(account), Update::SecretStored(r)) => {
                self.status = Some(match r {
                    Ok(()) => {
                        self.check_secret(&account);
                        (false, format!("Saved in the keyring for \"{account}\"."))
                    }
                    Err(e) => (true, e),
                });
            }
            (Job::Password, Update::SecretStored(r)) => {
                self.status = Some(match r {
                    Ok(()) => (false, "Password saved in the keyring.".to_owned()),
                    Err(e) => (true, e),
                });
            }
            (Job::Secret(account), Update::SecretPresent(p)) => {
                self.secret_present.insert(account, p);
            }
            (Job::Pick, Update::Picked(pick, Some(path))) => match pick {
                Pick::Open | Pick::Import => {
                    let j = self.engine.load(path, pick == Pick::Import);
                    self.jobs.insert(
                        j,
                        Job::Load {
                            import: pick == Pick::Import,
                        },
                    );
                }
                Pick::SaveAs => self.save_to(path),
                Pick::Export => self.export_to(&path),
                Pick::CaFile => self.profile.tls.ca_file = Some(path),
                Pick::ServiceAccountKey => super::google::import(self, path),
            },
            (Job::KeyImport(account), Update::KeyImported(r)) => {
                super::google::key_imported(self, &account, r);
            }
            (Job::Load { import }, Update::Loaded(r)) => match r {
                Ok((path, p)) => {
                    self.replace(p, (!import).then(|| path.clone()), !import);
                    self.remember(&path, import);
                    self.status = Some((
                        false,
                        format!(
                            "{} {}",
                            if import { "Imported" } else { "Opened" },
                            path.display()
                        ),
                    ));
                }
                Err(e) => self.status = Some((true, e)),
            },
            (Job::Save { path, snapshot }, Update::Written(r)) => match r {
                Ok(_) => {
                    self.saved = *snapshot;
                    self.path = Some(path.clone());
                    self.remember(&path, false);
                    if let Some(d) = &self.config_dir {
                        self.engine.remove(d.join(DRAFT_FILE));
                    }
                    self.draft_written = None;
                    self.status = Some((false, format!("Saved {}", path.display())));
                }
                Err(e) => self.status = Some((true, e)),
            },
            (Job::Export, Update::Written(r)) => {
                let secret = self.export_secrets && self.export_format.can_hold_secrets();
                self.status = Some(match r {
                    Ok(p) if secret => (
                        true,
                        format!(
                            "Exported {} to {}: it contains secrets, so keep it private (it is readable by you only)",
                            self.export_format.label(),
                            p.display()
                        ),
                    ),
                    Ok(p) => (
                        false,
                        format!("Exported {} to {}", self.export_format.label(), p.display()),
                    ),
                    Err(e) => (true, e),
                });
            }
            (Job::Discover, u) => self.discovery_update(job, u),
            (Job::Test(target), u) => {
                let done = matches!(u, Update::Tested(_));
                if let Some(run) = self.tests.get_mut(&target)
                    && run.job == Some(job)
                {
                    run.apply(u);
                    if done {
                        super::evidence::rediagnose(&self.profile, &self.sign_ins, &mut self.tests);
                    }
                }
            }
            _ => {}
        }
    }

    /// Remembers the last profile so that the next start reopens it.
    fn remember(&mut self, path: &Path, import: bool) {
        if import {
            return;
        }
        if let Some(d) = &self.config_dir {
            let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
            let _ = std::fs::create_dir_all(d);
            let j = self.engine.write(
                d.join(LAST_FILE),
                abs.to_string_lossy().into_owned().into_bytes(),
            );
            self.jobs.insert(j, Job::Draft);
        }
    }

    /// Keeps unsaved changes in a draft (at most every 2 s) so a crash or kill loses nothing.
    fn keep_draft(&mut self, ctx: &egui::Context) {
        let Some(dir) = self.config_dir.clone() else {
            return;
        };
        if !self.dirty() || self.draft_written.as_ref() == Some(&self.profile) {
            return;
        }
        if let Some(t) = self.last_draft
            && t.elapsed() < DRAFT_EVERY
        {
            ctx.request_repaint_after(DRAFT_EVERY.saturating_sub(t.elapsed()));
            return;
        }
        if let Ok(text) = profile::to_string(&self.profile, Format::Toml) {
            let _ = std::fs::create_dir_all(&dir);
            let j = self.engine.write(dir.join(DRAFT_FILE), text.into_bytes());
            self.jobs.insert(j, Job::Draft);
            self.draft_written = Some(self.profile.clone());
            self.last_draft = Some(Instant::now());
        }
    }

    pub fn restore_draft(&mut self, take: bool) {
        if let Some(d) = self.draft_offer.take() {
            if take {
                self.profile = d;
                self.status = Some((false, "Restored the unsaved changes from last time.".into()));
            } else if let Some(dir) = &self.config_dir {
                self.engine.remove(dir.join(DRAFT_FILE));
            }
        }
    }
}

/// DejaVu Sans after egui's own fonts, for the arrows, bullets and marks that the identity
/// providers' and servers' messages (and ours) use and egui's default fonts lack.
fn add_fallback_font(ctx: &egui::Context) {
    static DEJAVU: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
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

/// The "Send test to" field: empty is no message; anything else must be a mail address.
pub fn send_to_address(text: &str) -> Result<Option<lettre::Address>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    crate::profile::mail_address(t).map(Some)
}
