//! The app's engine jobs: sign-ins, connection tests and keyring work started from actions, and
//! the engine's updates routed back into the runtime state. An update of a job the user has since
//! replaced or cancelled is dropped.

use std::path::PathBuf;

use super::App;
use crate::engine::{JobId, Update};
use crate::oauth::FlowEvent;
use crate::profile::{Account, Profile, Provider};
use crate::secrets::{self, Kind};
use crate::ui::action::TargetName;
use crate::ui::state::{AccountBasis, SignIn, SignInRun};

#[derive(Debug, Clone)]
pub(super) enum Job {
    SignIn(String),
    SignOut(String),
    CheckSecret(String),
    /// Stored (`removed` false) or removed an account's client secret.
    StoreSecret {
        account: String,
        removed: bool,
    },
    Password {
        removed: bool,
    },
    Pick,
    Load {
        import: bool,
    },
    Save {
        path: PathBuf,
        snapshot: Box<Profile>,
    },
    Export,
    /// Files nobody waits on (the draft, the last profile's path, window settings).
    Quiet,
    Probe(TargetName),
    Discover,
    /// A Google service account's key being imported for the account.
    KeyImport(String),
    /// The extra CA file at this path being checked.
    CaCheck(PathBuf),
}

impl App {
    pub(super) fn apply_updates(&mut self) {
        for (job, update) in self.engine.poll() {
            let Some(kind) = self.jobs.get(&job).cloned() else {
                continue;
            };
            let progress = matches!(
                update,
                Update::Flow(_) | Update::Probe(_) | Update::Discovery(_)
            );
            if !progress {
                self.jobs.remove(&job);
            }
            self.update(job, kind, update);
        }
    }

    fn update(&mut self, job: JobId, kind: Job, update: Update) {
        match (kind, update) {
            (Job::SignIn(account), Update::Flow(e)) => self.flow_event(job, &account, e),
            (Job::SignIn(account), Update::SignedIn(r)) => {
                let Some(run) = self.runtime.sign_ins.get_mut(&account) else {
                    return;
                };
                if !matches!(run.state, SignIn::Waiting { job: j, .. } if j == job) {
                    return;
                }
                let ok = r.is_ok();
                run.state = r.map_or_else(SignIn::Failed, |t| SignIn::Done(Box::new(t)));
                // A token (or a refusal) is new evidence for every test shown.
                self.runtime.rediagnose(&self.doc.profile);
                let then = self.after_sign_in.remove(&account).unwrap_or_default();
                if ok {
                    for t in then {
                        self.start_probe(t);
                    }
                }
            }
            (Job::SignOut(account), Update::SecretStored(r)) => {
                self.status = Some(match r {
                    Ok(()) => (
                        false,
                        format!("Signed out of \"{account}\": its tokens are forgotten."),
                    ),
                    Err(e) => (true, e),
                });
            }
            (Job::StoreSecret { account, removed }, Update::SecretStored(r)) => {
                let done = self.kept(removed);
                self.status = Some(match r {
                    Ok(()) => {
                        self.check_secret(&account);
                        (false, format!("Client secret of \"{account}\" {done}."))
                    }
                    Err(e) => (true, e),
                });
            }
            (Job::Password { removed }, Update::SecretStored(r)) => {
                let done = self.kept(removed);
                self.status =
                    Some(r.map_or_else(|e| (true, e), |()| (false, format!("Password {done}."))));
            }
            (Job::CaCheck(path), Update::CaChecked(finding)) => self.on_ca_checked(path, finding),
            (Job::CheckSecret(account), Update::SecretPresent(p)) => {
                self.runtime.secrets.insert(account, p);
            }
            (Job::Pick, Update::Picked(pick, picked)) => self.on_picked(pick, picked),
            (Job::Load { import }, Update::Loaded(r)) => match r {
                Ok(l) => self.on_loaded(l, import),
                Err(e) => self.status = Some((true, e)),
            },
            (Job::Save { path, snapshot }, Update::Written(r)) => match r {
                Ok(_) => self.on_saved(&path, *snapshot),
                Err(e) => self.status = Some((true, e)),
            },
            (Job::Export, Update::Written(r)) => {
                let secret = self.export_secrets && self.export_format.can_hold_secrets();
                let label = self.export_format.label();
                self.status = Some(match r {
                    Ok(p) if secret => (
                        true,
                        format!(
                            "Exported {label} to {}: it contains secrets, so keep it private (it is readable by you only)",
                            p.display()
                        ),
                    ),
                    Ok(p) => (false, format!("Exported {label} to {}", p.display())),
                    Err(e) => (true, e),
                });
            }
            (Job::Discover, u) => self.discovery_update(job, u),
            (Job::KeyImport(account), Update::KeyImported(r)) => self.key_imported(&account, r),
            (Job::Probe(target), u) => {
                let done = matches!(u, Update::Tested(_));
                if let Some(run) = self.runtime.probes.get_mut(&target)
                    && run.job == Some(job)
                {
                    run.apply(u);
                    if done {
                        self.runtime.rediagnose(&self.doc.profile);
                    }
                }
            }
            _ => {}
        }
    }

    /// Where a secret went, in words that agree with the keyring notice.
    fn kept(&self, removed: bool) -> &'static str {
        match (removed, self.engine.secrets().is_persistent()) {
            (true, _) => "removed",
            (false, true) => "saved in the OS keyring",
            (false, false) => "kept in memory for this session only (no OS keyring)",
        }
    }

    /// Progress of a sign-in: the address, the device code, the exchange.
    fn flow_event(&mut self, job: JobId, account: &str, e: FlowEvent) {
        let Some(SignInRun {
            state:
                SignIn::Waiting {
                    job: j,
                    url,
                    opened,
                    device,
                    exchanging,
                },
            ..
        }) = self.runtime.sign_ins.get_mut(account)
        else {
            return;
        };
        if *j != job {
            return;
        }
        match e {
            FlowEvent::Browser { url: u, opened: o } => {
                *url = Some(u);
                *opened = Some(o);
            }
            FlowEvent::DeviceCode {
                user_code,
                verification_uri,
                ..
            } => {
                *device = Some((user_code, verification_uri));
            }
            FlowEvent::Exchanging | FlowEvent::Refreshed | FlowEvent::Cached => *exchanging = true,
        }
    }

    /// The fields a sign-in needs that are still empty, by their labels.
    fn missing(a: &Account) -> Vec<&'static str> {
        let mut out = Vec::new();
        if a.provider == Provider::Microsoft
            && a.tenant.as_deref().is_none_or(|t| t.trim().is_empty())
        {
            out.push("Tenant (the Directory (tenant) ID from Entra ID → Overview)");
        }
        // Empty, or the placeholder of zeros a discovered draft carries: not the user's app.
        let id = a.client_id.trim();
        if id.is_empty() || id.chars().all(|c| c == '0' || c == '-') {
            out.push("Client ID (the Application (client) ID of your app registration)");
        }
        out
    }

    pub(super) fn sign_in(&mut self, name: &str, renew: bool) {
        if self.refused("sign in") {
            return;
        }
        let Some(a) = self.doc.profile.account(name).cloned() else {
            return;
        };
        let missing = Self::missing(&a);
        if !missing.is_empty() {
            self.input.fields.reveal = true;
            self.after_sign_in.remove(name);
            self.status = Some((
                true,
                format!(
                    "Cannot sign in with \"{name}\" yet: fill in {}.",
                    missing.join(" and ")
                ),
            ));
            return;
        }
        self.cancel_sign_in_job(name);
        // A service account's token is one mailbox user's: the one chosen in the form.
        let base = self.base_dir();
        let job = match self.input.sign_in_user.get(&a.name).cloned() {
            Some(user) if a.is_service_account() => {
                self.engine
                    .sign_in_as(&self.doc.profile, base.as_deref(), &a, Some(user), renew)
            }
            _ => self
                .engine
                .sign_in(&self.doc.profile, base.as_deref(), &a, renew),
        };
        self.jobs.insert(job, Job::SignIn(a.name.clone()));
        let state = SignIn::Waiting {
            job,
            url: None,
            opened: None,
            device: None,
            exchanging: false,
        };
        let basis = AccountBasis::of(&self.doc.profile, &a);
        self.runtime
            .sign_ins
            .insert(a.name, SignInRun { state, basis });
    }

    fn cancel_sign_in_job(&mut self, account: &str) -> bool {
        if let Some(SignInRun {
            state: SignIn::Waiting { job, .. },
            ..
        }) = self.runtime.sign_ins.get(account)
        {
            self.engine.cancel(*job);
            self.runtime.sign_ins.remove(account);
            return true;
        }
        false
    }

    pub(super) fn cancel_sign_in(&mut self, account: &str) {
        if self.cancel_sign_in_job(account) {
            self.after_sign_in.remove(account);
            self.status = Some((false, format!("Sign-in for \"{account}\" cancelled.")));
        }
    }

    pub(super) fn sign_out(&mut self, name: &str) {
        let Some(a) = self.doc.profile.account(name).cloned() else {
            return;
        };
        self.cancel_sign_in_job(name);
        self.runtime.sign_ins.remove(name);
        *self.runtime.sign_outs.entry(a.name.clone()).or_default() += 1;
        let job = self
            .engine
            .sign_out(&self.doc.profile, self.base_dir().as_deref(), &a);
        self.jobs.insert(job, Job::SignOut(a.name));
    }

    /// Stores (or with `None` removes) an account's client secret.
    pub(super) fn store_secret(&mut self, account: &str, secret: Option<secrecy::SecretString>) {
        let removed = secret.is_none();
        let entry = secrets::account_entry(account);
        let job = self.engine.store_secret(entry, Kind::ClientSecret, secret);
        let account = account.to_owned();
        self.jobs.insert(job, Job::StoreSecret { account, removed });
    }

    pub(super) fn store_password(&mut self, entry: String, secret: Option<secrecy::SecretString>) {
        let removed = secret.is_none();
        let job = self.engine.store_secret(entry, Kind::Password, secret);
        self.jobs.insert(job, Job::Password { removed });
    }

    pub(super) fn check_secret(&mut self, account: &str) {
        let job = self.engine.check_secret(account);
        self.jobs.insert(job, Job::CheckSecret(account.to_owned()));
    }
}
