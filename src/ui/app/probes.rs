//! The connection tests the app starts, cancels and runs again: one, all (Test all, with its
//! summary), and "I've done it: retest" (a new token for each account involved first).

use super::App;
use super::jobs::Job;
use crate::ui::action::TargetName;
use crate::ui::state::{ProbeRun, SignIn};

impl App {
    pub(super) fn start_probe(&mut self, t: TargetName) {
        if let Some(job) = self.runtime.probes.get(&t).and_then(|r| r.job) {
            self.engine.cancel(job);
        }
        let Some(basis) = self.runtime.basis(&self.doc.profile, &t) else {
            // Renamed or deleted meanwhile: a test that says so at once.
            return;
        };
        let send_to = match crate::ui::fields::parse_send_to(&self.input.send_to) {
            Ok(a) => a,
            Err(why) => {
                // The field shows why; nothing is sent to an address that is not one.
                self.status = Some((true, format!("Not tested: \"Send test to\" {why}.")));
                return;
            }
        };
        let base_dir = self.base_dir();
        let job = self.engine.test(
            &self.doc.profile,
            base_dir.as_deref(),
            basis.target.clone(),
            send_to,
        );
        self.jobs.insert(job, Job::Probe(t.clone()));
        let run = ProbeRun::new(job, basis, self.runtime.probes.get(&t));
        self.runtime.probes.insert(t, run);
    }

    pub(super) fn probe_all(&mut self) {
        if self.refused("test") {
            return;
        }
        let p = &self.doc.profile;
        let all: Vec<TargetName> = p
            .mailboxes
            .iter()
            .map(|m| TargetName::Mailbox(m.name.clone()))
            .chain(
                p.transports
                    .iter()
                    .map(|t| TargetName::Transport(t.name.clone())),
            )
            .collect();
        self.runtime.batch = Some(all.clone());
        for t in all {
            self.start_probe(t);
        }
    }

    pub(super) fn cancel_probe(&mut self, t: &TargetName) {
        if let Some(run) = self.runtime.probes.get_mut(t)
            && let Some(job) = run.job
        {
            self.engine.cancel(job);
            run.cancelled();
        }
    }

    /// Cancels every wait: sign-ins and running tests.
    pub(super) fn cancel_all(&mut self) {
        let waiting: Vec<String> = self
            .runtime
            .sign_ins
            .iter()
            .filter(|(_, s)| matches!(s.state, SignIn::Waiting { .. }))
            .map(|(k, _)| k.clone())
            .collect();
        for account in waiting {
            self.cancel_sign_in(&account);
        }
        let running: Vec<TargetName> = self
            .runtime
            .probes
            .iter()
            .filter(|(_, r)| r.running())
            .map(|(k, _)| k.clone())
            .collect();
        for t in running {
            self.cancel_probe(&t);
        }
    }

    /// "I've done it: retest": the given targets and every other failed one of the same accounts,
    /// each account with a new token first (a fixed permission reaches only a new token).
    pub(super) fn retest(&mut self, targets: Vec<TargetName>) {
        if self.refused("test") {
            return;
        }
        let account_of = |app: &Self, t: &TargetName| {
            app.runtime
                .basis(&app.doc.profile, t)
                .and_then(|b| b.target.account().map(str::to_owned))
        };
        let accounts: Vec<String> = targets.iter().filter_map(|t| account_of(self, t)).collect();
        let mut all = targets;
        for (t, run) in &self.runtime.probes {
            let failed = run.report.as_ref().is_some_and(|r| !r.ok) || run.not_started.is_some();
            if failed
                && !all.contains(t)
                && account_of(self, t).is_some_and(|a| accounts.contains(&a))
            {
                all.push(t.clone());
            }
        }
        for t in all {
            match account_of(self, &t) {
                Some(a) => self.after_sign_in.entry(a).or_default().push(t),
                None => self.start_probe(t),
            }
        }
        let waiting: Vec<String> = self.after_sign_in.keys().cloned().collect();
        for a in waiting {
            self.sign_in(&a, true);
        }
    }
}
