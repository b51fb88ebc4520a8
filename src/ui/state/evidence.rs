//! The window's side of the one diagnosis (`crate::diagnosis`): what the window has seen and that
//! still stands for the settings as they are (each account's sign-in, each target's last report)
//! as the diagnosis's evidence, so that the Test panel, the token card and the checklist all show
//! the same findings. A result made with other settings is no evidence.

use std::time::SystemTime;

use super::{Runtime, SignIn};
use crate::diagnosis::{self, Diagnosis, Evidence, Place, SignInSeen};
use crate::profile::{Account, Profile};

impl Runtime {
    /// Each account's finished sign-in that still stands, as evidence.
    fn sign_ins_seen(&self, p: &Profile) -> Vec<(String, SignInSeen)> {
        p.accounts
            .iter()
            .filter(|a| self.sign_in_stale(p, a).is_none())
            .filter_map(|a| {
                let seen = match &self.sign_ins.get(&a.name)?.state {
                    SignIn::Done(t) => SignInSeen::Token(t.seen.clone()),
                    SignIn::Failed(f) => SignInSeen::Failed(f.clone()),
                    SignIn::Waiting { .. } => return None,
                };
                Some((a.name.clone(), seen))
            })
            .collect()
    }

    /// Diagnoses every finished test that still stands again, with everything seen so far: a
    /// later test (or a new sign-in) can tell apart causes an earlier one could not.
    pub fn rediagnose(&mut self, p: &Profile) {
        let signed = self.sign_ins_seen(p);
        let found = {
            let mut ev = Evidence::new(p, SystemTime::now());
            ev.sign_ins = signed.iter().map(|(n, s)| (n.as_str(), s)).collect();
            ev.reports = self.current_reports(p);
            diagnosis::for_run(&ev, &Place::Window)
        };
        let current: Vec<_> = self
            .probes
            .keys()
            .filter(|t| self.probe_stale(p, t).is_none())
            .cloned()
            .collect();
        for t in current {
            if let Some(r) = self.probes.get_mut(&t).and_then(|run| run.report.as_mut()) {
                r.diagnosis = found
                    .iter()
                    .find(|(name, _)| *name == r.target)
                    .map(|(_, d)| d.clone());
            }
        }
    }

    /// The set-up checklist of a Microsoft account, from the same evidence and findings as the
    /// Test panel (the one place that gathers what the checklist is made from).
    pub fn checklist(
        &self,
        p: &Profile,
        account: &Account,
        now: SystemTime,
    ) -> Vec<crate::checklist::Item> {
        let signed = self.sign_ins_seen(p);
        let mut ev = Evidence::new(p, now);
        ev.sign_ins = signed.iter().map(|(n, s)| (n.as_str(), s)).collect();
        ev.reports = self.current_reports(p);
        if let Some(steps) = self.setup_reported.get(&account.name) {
            ev.setup_reported = steps.iter().map(|s| (account.name.as_str(), s)).collect();
        }
        let mut findings: Vec<Diagnosis> =
            diagnosis::for_account(&ev, &account.name, &Place::Window);
        findings.extend(
            ev.reports
                .iter()
                .filter(|r| r.account.as_deref() == Some(account.name.as_str()))
                .filter_map(|r| r.diagnosis.clone()),
        );
        crate::checklist::checklist(&ev, account, &findings, now)
    }
}
