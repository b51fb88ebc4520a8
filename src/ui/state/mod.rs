//! The window's runtime state, kept apart from what is saved: sign-ins and connection tests under
//! way or done, each with the settings it was made with (its [`Basis`]), so that changed settings
//! mark a result stale instead of leaving an old green dot; and what the keyring holds. Nothing
//! here is written to a file. The set-up checklist, the token card and the test panels draw from
//! the one diagnosis of what still stands (`evidence.rs`), so they cannot disagree.

use std::collections::HashMap;
use std::time::SystemTime;

use super::action::TargetName;
use super::widgets::Dot;
use crate::engine::{JobId, SecretSource, SignInFailure, TokenInfo, Update};
use crate::probe::{Event, Report, Status, Step, TranscriptLine};
use crate::profile::{Account, Profile};

mod basis;
mod evidence;
pub use basis::{AccountBasis, Basis};

/// A sign-in in progress or done.
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
    Failed(SignInFailure),
}

/// A sign-in with the account settings it was made with.
#[derive(Debug, Clone)]
pub struct SignInRun {
    pub state: SignIn,
    pub basis: AccountBasis,
}

/// One connection test: live rows while it runs, the report when done.
#[derive(Debug, Clone)]
pub struct ProbeRun {
    pub job: Option<JobId>,
    pub basis: Basis,
    /// The latest event of each step, in the order the steps started.
    pub steps: Vec<Event>,
    pub transcript: Vec<TranscriptLine>,
    pub report: Option<Report>,
    pub not_started: Option<String>,
    pub was_cancelled: bool,
    pub finished_at: Option<SystemTime>,
    /// The steps of the run before this one, to say what changed on a retest.
    pub previous: Vec<(Step, Status)>,
}

impl ProbeRun {
    pub fn new(job: JobId, basis: Basis, previous: Option<&ProbeRun>) -> Self {
        Self {
            job: Some(job),
            basis,
            steps: Vec::new(),
            transcript: Vec::new(),
            report: None,
            not_started: None,
            was_cancelled: false,
            finished_at: None,
            previous: previous
                .and_then(|p| p.report.as_ref())
                .map(|r| r.steps.iter().map(|e| (e.step, e.status)).collect())
                .unwrap_or_default(),
        }
    }

    pub fn running(&self) -> bool {
        self.job.is_some() && self.report.is_none() && self.not_started.is_none()
    }

    pub fn cancelled(&mut self) {
        self.job = None;
        self.was_cancelled = true;
        for s in &mut self.steps {
            if s.status == Status::Running {
                s.status = Status::Skipped;
                "cancelled".clone_into(&mut s.detail);
            }
        }
    }

    pub fn apply(&mut self, u: Update) {
        match u {
            Update::Probe(e) => {
                self.transcript.extend(e.transcript.iter().cloned());
                match self.steps.iter_mut().find(|s| s.step == e.step) {
                    Some(s) => *s = e,
                    None => self.steps.push(e),
                }
            }
            Update::Tested(r) => {
                self.steps.clone_from(&r.steps);
                self.transcript.clone_from(&r.transcript);
                self.report = Some(*r);
                self.job = None;
                self.finished_at = Some(SystemTime::now());
            }
            Update::TestNotStarted(e) => {
                self.not_started = Some(e);
                self.job = None;
                self.finished_at = Some(SystemTime::now());
            }
            _ => {}
        }
    }

    /// The result's mark, not counting staleness.
    pub fn dot(&self) -> Dot {
        if self.running() {
            Dot::Running
        } else if self.not_started.is_some() {
            Dot::Failed
        } else {
            match &self.report {
                Some(r) if r.ok && r.steps.iter().any(|s| s.status == Status::Warning) => {
                    Dot::Warning
                }
                Some(r) if r.ok => Dot::Ok,
                Some(_) => Dot::Failed,
                None => Dot::None,
            }
        }
    }

    /// What changed since the previous run, step by step ("Authenticate: failed → ok").
    pub fn changes(&self) -> Vec<String> {
        let Some(r) = &self.report else {
            return Vec::new();
        };
        if self.previous.is_empty() {
            return Vec::new();
        }
        r.steps
            .iter()
            .filter_map(|e| {
                let before = self.previous.iter().find(|(s, _)| *s == e.step);
                match before {
                    Some((_, b)) if *b != e.status => {
                        Some(format!("{}: {b} → {}", e.step, e.status))
                    }
                    None => Some(format!("{}: new, {}", e.step, e.status)),
                    _ => None,
                }
            })
            .collect()
    }
}

/// How a Test all went, for its summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: Vec<TargetName>,
    pub failed: Vec<TargetName>,
    pub running: usize,
}

#[derive(Debug, Default)]
pub struct Runtime {
    /// By account name.
    pub sign_ins: HashMap<String, SignInRun>,
    pub probes: HashMap<TargetName, ProbeRun>,
    /// Where each account's client secret comes from, once looked up.
    pub secrets: HashMap<String, SecretSource>,
    /// How many times each account was signed out: results from before are stale.
    pub sign_outs: HashMap<String, u64>,
    /// The targets of the last Test all, for its summary.
    pub batch: Option<Vec<TargetName>>,
    /// What the set-up script reported done, by account: checklist evidence for this session.
    pub setup_reported: HashMap<String, Vec<crate::diagnosis::SetupStep>>,
}

impl Runtime {
    pub fn probe_dot(&self, p: &Profile, t: &TargetName) -> Dot {
        match self.probes.get(t) {
            None => Dot::None,
            Some(_) if self.probe_stale(p, t).is_some() => Dot::Stale,
            Some(run) => run.dot(),
        }
    }

    pub fn account_dot(&self, p: &Profile, account: &Account) -> Dot {
        let Some(run) = self.sign_ins.get(&account.name) else {
            return Dot::None;
        };
        if self.sign_in_stale(p, account).is_some() {
            return Dot::Stale;
        }
        match &run.state {
            SignIn::Waiting { .. } => Dot::Running,
            SignIn::Done(t) if t.problems.is_empty() => Dot::Ok,
            SignIn::Done(_) => Dot::Warning,
            SignIn::Failed(_) => Dot::Failed,
        }
    }

    /// The reports that still stand for the settings as they are.
    pub fn current_reports(&self, p: &Profile) -> Vec<&Report> {
        let mut names: Vec<&TargetName> = self.probes.keys().collect();
        names.sort();
        names
            .into_iter()
            .filter(|t| self.probe_stale(p, t).is_none())
            .filter_map(|t| self.probes[t].report.as_ref())
            .collect()
    }

    /// How the last Test all went, while its targets are still in the profile.
    pub fn summary(&self) -> Option<Summary> {
        let batch = self.batch.as_ref()?;
        let mut s = Summary::default();
        for t in batch {
            match self.probes.get(t) {
                Some(r) if r.running() => s.running += 1,
                Some(r) if matches!(r.dot(), Dot::Ok | Dot::Warning) => s.passed.push(t.clone()),
                Some(_) => s.failed.push(t.clone()),
                None => {}
            }
        }
        Some(s)
    }

    /// Keeps what was seen for an account under its new name.
    pub fn rename_account(&mut self, old: &str, new: &str) {
        if let Some(r) = self.sign_ins.remove(old) {
            self.sign_ins.insert(new.to_owned(), r);
        }
        // The keyring entry is named by the account: look again under the new name.
        self.secrets.remove(old);
        if let Some(n) = self.sign_outs.remove(old) {
            self.sign_outs.insert(new.to_owned(), n);
        }
    }

    /// Keeps a target's result under its new name.
    pub fn rename_target(&mut self, old: &TargetName, new: &TargetName) {
        if let Some(r) = self.probes.remove(old) {
            self.probes.insert(new.clone(), r);
        }
        if let Some(b) = &mut self.batch {
            for t in b.iter_mut().filter(|t| *t == old) {
                *t = new.clone();
            }
        }
    }
}
