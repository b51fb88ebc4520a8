//! The engine behind the window: a tokio runtime on its own threads that signs in, tests, talks
//! to the keyring and opens file dialogs, and reports through a channel. The window calls these
//! methods (they return at once with a job id), drains [`Engine::poll`] each frame, and is woken
//! by the `repaint` callback when something arrives, so an idle window does no work.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::SystemTime;

use secrecy::SecretString;

use crate::diagnosis::{self, Diagnosis, Evidence, Place, SignInSeen, TokenSeen};
use crate::oauth::{self, FlowEvent, TokenSource, claims};
pub use crate::probe::Target;
use crate::probe::{self, batch};
use crate::profile::{Account, Profile};
use crate::secrets::{self, Kind, Secrets};

pub type JobId = u64;

/// What a sign-in learned, for the token card. The token itself stays in the engine.
#[derive(Debug, Clone)]
pub struct TokenInfo {
    pub account: String,
    pub user: Option<String>,
    pub expires_at: Option<SystemTime>,
    /// When the identity provider issued it, and whether this sign-in took it from the cache.
    pub fetched_at: SystemTime,
    pub cached: bool,
    pub claims: Result<claims::Claims, String>,
    /// What the token lacks for the account's mailboxes and transports (the diagnosis's
    /// account findings), empty when it is right for all of them.
    pub problems: Vec<Diagnosis>,
    /// The token as evidence for the diagnosis of later tests.
    pub seen: TokenSeen,
}

pub use crate::diagnosis::SignInFailure;

/// Where an account's client secret comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    None,
    Keyring,
    /// `MAILCFG_CLIENT_SECRET`, which overrides the keyring.
    Environment,
}

/// Which file dialog answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    Open,
    SaveAs,
    Import,
    Export,
    CaFile,
    /// A Google service account's JSON key.
    ServiceAccountKey,
}

/// What a service account's key says, besides its private key (which stays in the keyring).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFacts {
    pub client_email: String,
    pub client_id: String,
    pub private_key_id: String,
    pub token_uri: String,
}

/// What a file dialog gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Picked {
    Path(PathBuf),
    Cancelled,
    /// No dialog could be shown (no desktop portal, no zenity): the window asks for a path.
    Unavailable(String),
}

/// A dialog that "answers" faster than this was not shown: rfd reports a missing portal or
/// zenity as a cancel (its errors go to the `log` crate only), and no person cancels this fast.
const DIALOG_FAILED_WITHIN: std::time::Duration = std::time::Duration::from_millis(250);

/// Why no native file dialog can be shown here, if it can't: on Linux rfd needs a session bus
/// (for the xdg desktop portal) or the `zenity` program. `var` reads the environment.
pub fn file_dialog_unavailable(var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let bus = var("DBUS_SESSION_BUS_ADDRESS").is_some_and(|v| !v.is_empty())
        || var("XDG_RUNTIME_DIR").is_some_and(|d| Path::new(&d).join("bus").exists());
    let zenity =
        var("PATH").is_some_and(|p| std::env::split_paths(&p).any(|d| d.join("zenity").is_file()));
    (!bus && !zenity).then(|| {
        "no file dialog is available here (no desktop portal on a session bus, and no zenity)"
            .to_owned()
    })
}

/// A profile read off the UI thread, with what its validation found (errors too: the window opens
/// any profile that parses and shows the findings at the fields).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub path: PathBuf,
    pub profile: Profile,
    pub findings: Vec<crate::profile::Finding>,
}

/// One report from the engine.
#[derive(Debug)]
pub enum Update {
    Flow(FlowEvent),
    SignedIn(Box<Result<TokenInfo, SignInFailure>>),
    SecretStored(Result<(), String>),
    SecretPresent(SecretSource),
    Picked(Pick, Picked),
    /// A file written off the UI thread (saves, exports, drafts).
    Written(Result<PathBuf, String>),
    /// A profile read off the UI thread: native, or imported from another format.
    Loaded(Result<Loaded, String>),
    /// A step of a connection test started or ended.
    Probe(probe::Event),
    /// The connection test's report.
    Tested(Box<probe::Report>),
    /// The test could not start: no token, no password.
    TestNotStarted(String),
    /// A step of a discovery started or ended.
    Discovery(crate::discover::Event),
    /// The discovery's report, with the draft.
    Discovered(Box<crate::discover::Report>),
    /// A service account's key was read and its private key stored: what the profile takes
    /// from it (or why the file was refused).
    KeyImported(Result<KeyFacts, String>),
    /// The extra CA file was read: its problem, if it has one.
    CaChecked(Option<crate::profile::Finding>),
}

/// A token source and the CA file (its full path) it was made for.
type SourceFor = (Option<PathBuf>, Arc<TokenSource>);

/// One piece of keyring work for the keyring's lane.
type KeyringOp = Box<dyn FnOnce(&Secrets) + Send>;

pub struct Engine {
    rt: tokio::runtime::Runtime,
    tx: mpsc::Sender<(JobId, Update)>,
    rx: mpsc::Receiver<(JobId, Update)>,
    jobs: HashMap<JobId, tokio::task::JoinHandle<()>>,
    next: JobId,
    repaint: Arc<dyn Fn() + Send + Sync>,
    secrets: Secrets,
    /// One token source per TLS setting (the CA file changes the HTTP client), made in a job.
    tokens: Arc<tokio::sync::Mutex<Option<SourceFor>>>,
    /// Tests at once, as the profile's `probe.concurrency` says; the others wait for a slot.
    slots: (u32, Arc<tokio::sync::Semaphore>),
    /// The keyring's lane: one thread that does every keyring read and write of the window in
    /// the order they were asked for, so that a secret stored (or moved by a rename) is what the
    /// next lookup finds, and a slow Secret Service never holds a runtime thread.
    keyring: mpsc::Sender<KeyringOp>,
}

impl Engine {
    /// Starts the runtime. `repaint` wakes the window (egui's `request_repaint`).
    pub fn new(secrets: Secrets, repaint: Arc<dyn Fn() + Send + Sync>) -> std::io::Result<Self> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("mailcfg-engine")
            .enable_all()
            .build()?;
        crate::probe::warm_up(None);
        let (tx, rx) = mpsc::channel();
        let (keyring, lane) = mpsc::channel::<KeyringOp>();
        let lane_secrets = secrets.clone();
        std::thread::Builder::new()
            .name("mailcfg-keyring".into())
            .spawn(move || {
                for op in lane {
                    op(&lane_secrets);
                }
            })?;
        Ok(Self {
            rt,
            tx,
            rx,
            jobs: HashMap::new(),
            next: 1,
            repaint,
            secrets,
            tokens: Arc::default(),
            slots: (0, Arc::new(tokio::sync::Semaphore::new(0))),
            keyring,
        })
    }

    /// Runs `op` on the keyring's lane (after every keyring job asked for before it) as a job.
    fn on_keyring(&mut self, op: impl FnOnce(&Secrets) -> Update + Send + 'static) -> JobId {
        let job = self.next;
        self.next += 1;
        let send = Sender {
            job,
            tx: self.tx.clone(),
            repaint: self.repaint.clone(),
        };
        let run = Box::new(move |s: &Secrets| send.send(op(s)));
        if self.keyring.send(run).is_err() {
            // The lane's thread is gone (it never panics by itself): say so rather than wait.
            let _ = self.tx.send((
                job,
                Update::SecretStored(Err("the keyring's thread has stopped".into())),
            ));
        }
        job
    }

    /// Moves an account's keyring entry to its new name (a rename), in order with the lookups.
    pub fn move_secret(&mut self, from: &str, to: &str) -> JobId {
        let (from, to) = (secrets::account_entry(from), secrets::account_entry(to));
        self.on_keyring(move |s| {
            Update::SecretStored(s.rename(&from, &to).map_err(|e| e.to_string()))
        })
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Runs `work` as a job whose updates go through `send`.
    fn spawn<F, Fut>(&mut self, work: F) -> JobId
    where
        F: FnOnce(Sender) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let job = self.next;
        self.next += 1;
        let send = Sender {
            job,
            tx: self.tx.clone(),
            repaint: self.repaint.clone(),
        };
        let handle = self.rt.spawn(work(send));
        self.jobs.retain(|_, h| !h.is_finished());
        self.jobs.insert(job, handle);
        job
    }

    /// Stops a job (closing its sockets and listeners); its late updates are never sent.
    pub fn cancel(&mut self, job: JobId) {
        if let Some(h) = self.jobs.remove(&job) {
            h.abort();
        }
    }

    /// Everything that arrived since the last call.
    pub fn poll(&mut self) -> Vec<(JobId, Update)> {
        self.rx.try_iter().collect()
    }

    /// The token source for the profile's TLS settings, made (the CA file and the system's
    /// roots read) on the engine, never on the UI thread: the future is awaited in the job.
    fn token_source(
        &self,
        profile: &Profile,
        base_dir: Option<&Path>,
    ) -> impl Future<Output = Result<Arc<TokenSource>, String>> + Send + 'static {
        let key = profile
            .tls
            .ca_file
            .as_ref()
            .map(|f| base_dir.map_or_else(|| f.clone(), |d| d.join(f)));
        let tls = profile.tls.clone();
        let base = base_dir.map(Path::to_path_buf);
        let secrets = self.secrets.clone();
        let cell = self.tokens.clone();
        async move {
            let mut held = cell.lock().await;
            if let Some((k, s)) = &*held
                && *k == key
            {
                return Ok(s.clone());
            }
            let made = tokio::task::spawn_blocking(move || {
                TokenSource::new(&tls, base.as_deref(), secrets).map_err(|e| e.to_string())
            })
            .await
            .map_err(|e| e.to_string())??;
            let source = Arc::new(made);
            *held = Some((key, source.clone()));
            Ok(source)
        }
    }

    /// Signs in with the account (cache, refresh, or its flow) and explains the token. `renew`
    /// skips the cached token: the user asked for a new one (after granting consent, say). A
    /// Google service account gets its first mailbox user's token: [`Engine::sign_in_as`].
    pub fn sign_in(
        &mut self,
        profile: &Profile,
        base_dir: Option<&Path>,
        account: &Account,
        renew: bool,
    ) -> JobId {
        let user = first_user(profile, &account.name);
        self.sign_in_as(profile, base_dir, account, user, renew)
    }

    /// [`Engine::sign_in`] for a chosen mailbox user (a service account's token is one user's).
    pub fn sign_in_as(
        &mut self,
        profile: &Profile,
        base_dir: Option<&Path>,
        account: &Account,
        user: Option<String>,
        renew: bool,
    ) -> JobId {
        let source = self.token_source(profile, base_dir);
        let account = account.clone();
        let profile = profile.clone();
        self.spawn(move |send| async move {
            let result = match source.await {
                Err(text) => Err(SignInFailure {
                    text,
                    code: None,
                    explanation: None,
                    needs_input: true,
                    acts_for: None,
                }),
                Ok(source) => {
                    let flow_send = send.clone();
                    let cached = Arc::new(std::sync::atomic::AtomicBool::new(false));
                    let saw_cache = cached.clone();
                    let on_event = move |e: FlowEvent| {
                        if e == FlowEvent::Cached {
                            saw_cache.store(true, std::sync::atomic::Ordering::Relaxed);
                        }
                        flow_send.send(Update::Flow(e));
                    };
                    let user = user.as_deref();
                    let token = if renew {
                        source.new_token_for(&account, user, &on_event).await
                    } else {
                        source.token_for(&account, user, &on_event).await
                    };
                    match token {
                        Ok(t) => {
                            let cached = cached.load(std::sync::atomic::Ordering::Relaxed);
                            Ok(token_info(&profile, &account, &t, cached))
                        }
                        Err(e) => Err(SignInFailure::from_error(&e).for_user(user)),
                    }
                }
            };
            send.send(Update::SignedIn(Box::new(result)));
        })
    }

    /// Forgets the account's tokens (memory and keyring): the next sign-in starts afresh.
    pub fn sign_out(
        &mut self,
        profile: &Profile,
        base_dir: Option<&Path>,
        account: &Account,
    ) -> JobId {
        let source = self.token_source(profile, base_dir);
        let account = account.clone();
        self.spawn(move |send| async move {
            let r = match source.await {
                Ok(s) => s.forget(&account).await.map_err(|e| e.to_string()),
                Err(e) => Err(e),
            };
            send.send(Update::SecretStored(r));
        })
    }

    /// Stores (or with `None` removes) an account's client secret in the keyring, off the UI thread.
    pub fn store_secret(
        &mut self,
        entry: String,
        kind: Kind,
        secret: Option<SecretString>,
    ) -> JobId {
        self.on_keyring(move |s| {
            Update::SecretStored(
                s.set(&entry, kind, secret.as_ref())
                    .map_err(|e| e.to_string()),
            )
        })
    }

    /// Where the account's client secret (a service account's key) would come from: the
    /// environment, the keyring, nowhere.
    pub fn check_secret(&mut self, account: &str) -> JobId {
        let entry = secrets::account_entry(account);
        self.on_keyring(move |secrets| {
            let stored = |k: Kind| secrets.get(&entry, k).ok().flatten().is_some();
            let source = if secrets::client_secret_from_env().is_some()
                || std::env::var_os(oauth::service_account::KEY_FILE_ENV).is_some()
            {
                SecretSource::Environment
            } else if stored(Kind::ClientSecret) || stored(Kind::ServiceAccountKey) {
                SecretSource::Keyring
            } else {
                SecretSource::None
            };
            Update::SecretPresent(source)
        })
    }

    /// Reads a service account's JSON key (bounded, checked field by field) and stores its private
    /// key in the account's keyring entry, off the UI thread. The window puts the rest into the
    /// profile.
    pub fn import_key(&mut self, account: &str, path: PathBuf) -> JobId {
        let secrets = self.secrets.clone();
        let entry = secrets::account_entry(account);
        self.spawn(move |send| async move {
            let r = tokio::task::spawn_blocking(move || -> Result<KeyFacts, String> {
                let key = oauth::service_account::read_key_file(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                secrets
                    .set(&entry, Kind::ServiceAccountKey, Some(&key.private_key))
                    .map_err(|e| e.to_string())?;
                Ok(KeyFacts {
                    client_email: key.client_email,
                    client_id: key.client_id,
                    private_key_id: key.private_key_id,
                    token_uri: key.token_uri,
                })
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
            send.send(Update::KeyImported(r));
        })
    }

    /// A native file dialog (xdg portal or zenity on Linux), run off the UI thread. Where none can
    /// be shown it says so ([`Picked::Unavailable`]) instead of looking cancelled.
    pub fn pick(&mut self, pick: Pick, dialog: rfd::AsyncFileDialog) -> JobId {
        let unavailable = file_dialog_unavailable(&|k| std::env::var(k).ok());
        self.spawn(move |send| async move {
            if let Some(why) = unavailable {
                return send.send(Update::Picked(pick, Picked::Unavailable(why)));
            }
            let began = std::time::Instant::now();
            let file = match pick {
                Pick::SaveAs | Pick::Export => dialog.save_file().await,
                Pick::Open | Pick::Import | Pick::CaFile | Pick::ServiceAccountKey => {
                    dialog.pick_file().await
                }
            };
            let picked = match file {
                Some(f) => Picked::Path(f.path().to_path_buf()),
                None if began.elapsed() < DIALOG_FAILED_WITHIN => Picked::Unavailable(
                    "the file dialog closed at once: no desktop portal or zenity answered".into(),
                ),
                None => Picked::Cancelled,
            };
            send.send(Update::Picked(pick, picked));
        })
    }

    /// Writes a file atomically, off the UI thread.
    pub fn write(&mut self, path: PathBuf, bytes: Vec<u8>) -> JobId {
        self.spawn(move |send| async move {
            let p = path.clone();
            let r = tokio::task::spawn_blocking(move || crate::profile::write_atomic(&p, &bytes))
                .await
                .map_err(|e| e.to_string())
                .and_then(|r| r.map_err(|e| format!("cannot write {}: {e}", path.display())))
                .map(|()| path);
            send.send(Update::Written(r));
        })
    }

    /// Checks the extra CA file (read bounded, every certificate parsed) off the UI thread.
    pub fn check_ca(&mut self, path: PathBuf) -> JobId {
        self.spawn(move |send| async move {
            let r = tokio::task::spawn_blocking(move || crate::profile::ca_file_finding(&path))
                .await
                .unwrap_or(None);
            send.send(Update::CaChecked(r));
        })
    }

    /// Reads a profile file off the UI thread; `import` also takes Thunderbird autoconfig XML.
    pub fn load(&mut self, path: PathBuf, import: bool) -> JobId {
        self.spawn(move |send| async move {
            let p = path.clone();
            let r = tokio::task::spawn_blocking(move || -> Result<(Profile, Vec<_>), String> {
                if import {
                    // Regular files only, and never more than a profile's limit (a FIFO or
                    // /dev/zero picked in the dialog must not hang or fill memory).
                    let bytes = crate::files::read_limited(&p, crate::profile::MAX_FILE_BYTES)
                        .map_err(|e| format!("cannot read {}: {e}", p.display()))?;
                    let name = p
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    crate::export::import(&bytes, &name)
                        .map(|p| (p, Vec::new()))
                        .map_err(|e| e.to_string())
                } else {
                    crate::profile::read(&p).map_err(|e| e.to_string())
                }
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r)
            .map(|(profile, findings)| Loaded {
                path,
                profile,
                findings,
            });
            send.send(Update::Loaded(r));
        })
    }

    /// Writes an export. With `include_secrets`, the secrets are read from the keyring (off the UI
    /// thread) into the file, which is written 0600 like every file mailcfg writes.
    pub fn export(
        &mut self,
        profile: &Profile,
        format: crate::export::ExportFormat,
        html: bool,
        include_secrets: bool,
        path: PathBuf,
    ) -> JobId {
        let profile = profile.clone();
        let secrets = self.secrets.clone();
        self.spawn(move |send| async move {
            let p = path.clone();
            let r = tokio::task::spawn_blocking(move || -> Result<PathBuf, String> {
                let mut found = crate::export::ExportSecrets::default();
                if include_secrets {
                    for a in &profile.accounts {
                        if let Ok(Some(s)) = secrets.client_secret(&secrets::account_entry(&a.name))
                        {
                            found.set_client_secret(&a.name, s);
                        }
                    }
                    for t in &profile.transports {
                        if let Ok(Some(s)) =
                            secrets.get(&secrets::transport_entry(&t.name), Kind::Password)
                        {
                            found.set_transport_password(&t.name, s);
                        }
                    }
                    for m in &profile.mailboxes {
                        if let Ok(Some(s)) =
                            secrets.get(&secrets::mailbox_entry(&m.name), Kind::Password)
                        {
                            found.set_mailbox_password(&m.name, s);
                        }
                    }
                }
                let opts = crate::export::ExportOptions {
                    secrets: include_secrets.then_some(&found),
                    html,
                    setup: crate::export::setup::SetupOptions::default(),
                };
                let text = crate::export::export(&profile, format, &opts)
                    .map_err(|e| format!("{e}\n    fix: {}", e.fix()))?;
                crate::profile::write_atomic(&p, text.as_bytes())
                    .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
                Ok(p)
            })
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
            send.send(Update::Written(r));
        })
    }

    /// Deletes a file if it exists (the crash draft after a save), off the UI thread.
    pub fn remove(&self, path: PathBuf) {
        self.rt.spawn_blocking(move || {
            let _ = std::fs::remove_file(path);
        });
    }

    /// Tests one mailbox or transport: its account's token (from the cache when fresh), then the
    /// probe, step by step.
    pub fn test(
        &mut self,
        profile: &Profile,
        base_dir: Option<&Path>,
        target: Target,
        send_to: Option<lettre::Address>,
    ) -> JobId {
        let source = self.token_source(profile, base_dir);
        let profile = profile.clone();
        let ca_file = profile
            .tls
            .ca_file
            .as_ref()
            .map(|f| base_dir.map_or_else(|| f.clone(), |d| d.join(f)));
        let opts = probe::Options {
            timeout: std::time::Duration::from_secs(profile.probe.timeout_secs),
            ca_file,
            send_to,
        };
        let want = profile.probe.concurrency.max(1);
        if self.slots.0 != want {
            // A new limit applies to the tests started from now on.
            self.slots = (want, Arc::new(tokio::sync::Semaphore::new(want as usize)));
        }
        let slots = self.slots.1.clone();
        self.spawn(move |send| async move {
            // Never closed, so this only waits; dropped with the job when it is cancelled.
            let _slot = slots.acquire_owned().await.ok();
            let cred = match source.await {
                Ok(source) => credential(&profile, &target, &source).await,
                Err(e) => Err(e),
            };
            let cred = match cred {
                Ok(c) => c,
                Err(e) => return send.send(Update::TestNotStarted(e)),
            };
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let forward = send.clone();
            let pump = tokio::spawn(async move {
                while let Some(e) = rx.recv().await {
                    forward.send(Update::Probe(e));
                }
            });
            let report = match &target {
                Target::Mailbox(m) => probe::test_mailbox(m, cred, &opts, &tx).await,
                Target::Transport(t) => probe::test_transport(t, cred, &opts, &tx).await,
            };
            drop(tx);
            let _ = pump.await;
            // The window diagnoses it with the rest of what it has seen.
            send.send(Update::Tested(Box::new(report)));
        })
    }

    /// Discovery from an address: every source at once, each step reported as it starts and ends.
    pub fn discover(
        &mut self,
        address: crate::discover::Address,
        settings: crate::discover::Settings,
    ) -> JobId {
        self.spawn(move |send| async move {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let forward = send.clone();
            let pump = tokio::spawn(async move {
                while let Some(e) = rx.recv().await {
                    forward.send(Update::Discovery(e));
                }
            });
            let report = crate::discover::discover(&address, &settings, &tx).await;
            drop(tx);
            let _ = pump.await;
            send.send(Update::Discovered(Box::new(report)));
        })
    }
}

/// The user of the account's first mailbox (or transport), for a service account's token.
fn first_user(profile: &Profile, account: &str) -> Option<String> {
    profile
        .account(account)
        .filter(|a| a.is_service_account())
        .and_then(|_| profile.users_of(account).into_iter().next())
}

fn token_info(
    profile: &Profile,
    account: &Account,
    t: &oauth::AccessToken,
    cached: bool,
) -> TokenInfo {
    let seen = TokenSeen::of(t);
    let signed_in = SignInSeen::Token(seen.clone());
    let mut ev = Evidence::new(profile, SystemTime::now());
    ev.sign_ins.push((&account.name, &signed_in));
    let problems = diagnosis::for_account(&ev, &account.name, &Place::Window);
    TokenInfo {
        account: account.name.clone(),
        user: seen.user().map(str::to_owned),
        expires_at: t.expires_at,
        fetched_at: t.fetched_at,
        cached,
        claims: seen.claims.clone(),
        problems,
        seen,
    }
}

/// A target's token (from the cache when fresh), then its credential.
async fn credential(
    profile: &Profile,
    target: &Target,
    source: &TokenSource,
) -> Result<probe::Credential, String> {
    let token = match target.account() {
        Some(name) => {
            let a = profile
                .account(name)
                .ok_or_else(|| format!("the XOAuth2 account \"{name}\" is not in this profile"))?;
            // A service account's token is the mailbox user's.
            let user = batch::sign_in_name(target);
            Some(
                source
                    .token_for(a, user.as_deref(), &|_| {})
                    .await
                    .map_err(|e| format!("sign-in with \"{name}\" failed: {e}"))?,
            )
        }
        None => None,
    };
    batch::credential(target, token.as_ref(), source.secrets())
}

/// A job's way back to the window.
#[derive(Clone)]
pub struct Sender {
    job: JobId,
    tx: mpsc::Sender<(JobId, Update)>,
    repaint: Arc<dyn Fn() + Send + Sync>,
}

impl Sender {
    pub fn send(&self, u: Update) {
        // The window may be gone (closing): nothing to tell.
        let _ = self.tx.send((self.job, u));
        (self.repaint)();
    }
}

#[cfg(test)]
mod tests {
    use super::file_dialog_unavailable;

    #[test]
    fn a_file_dialog_needs_a_session_bus_or_zenity() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| (*v).to_owned())
            }
        };
        if !cfg!(target_os = "linux") {
            return;
        }
        let none = env(&[
            ("PATH", "/nonexistent"),
            ("XDG_RUNTIME_DIR", "/nonexistent"),
        ]);
        let why = file_dialog_unavailable(&none).expect("no bus, no zenity: no dialog");
        assert!(
            why.contains("no desktop portal") && why.contains("zenity"),
            "{why}"
        );
        let bus = env(&[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/run/user/0/bus")]);
        assert_eq!(file_dialog_unavailable(&bus), None);
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("zenity"), "").unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().display().to_string();
        let zenity = move |k: &str| (k == "PATH").then(|| path.clone());
        assert_eq!(file_dialog_unavailable(&zenity), None);
    }
}
