//! The window's side of the one diagnosis: what the window has seen (each account's sign-in, each
//! target's last report) as the diagnosis's evidence, so that the Test panel, the token card and
//! the checklist all show the same findings (`crate::diagnosis`).

use std::collections::HashMap;
use std::time::SystemTime;

use super::app::SignIn;
use super::testview::{Target, TestRun};
use crate::diagnosis::{self, Diagnosis, Evidence, Place, SignInSeen};
use crate::profile::Profile;

/// Each account's sign-in as evidence (accounts waiting or never signed in are left out).
pub fn sign_ins(seen: &HashMap<String, SignIn>) -> Vec<(String, SignInSeen)> {
    seen.iter()
        .filter_map(|(name, s)| {
            let s = match s {
                SignIn::Done(t) => SignInSeen::Token(t.seen.clone()),
                SignIn::Failed(f) => SignInSeen::Failed(f.clone()),
                SignIn::Waiting { .. } => return None,
            };
            Some((name.clone(), s))
        })
        .collect()
}

/// Diagnoses every finished test again with everything seen so far: a later test (or a new
/// sign-in) can tell apart causes an earlier one could not.
pub fn rediagnose(
    profile: &Profile,
    seen: &HashMap<String, SignIn>,
    tests: &mut HashMap<Target, TestRun>,
) {
    let signed = sign_ins(seen);
    let found = {
        let mut ev = Evidence::new(profile, SystemTime::now());
        ev.sign_ins = signed.iter().map(|(n, s)| (n.as_str(), s)).collect();
        ev.reports = tests.values().filter_map(|t| t.report.as_ref()).collect();
        diagnosis::for_run(&ev, &Place::Window)
    };
    for run in tests.values_mut() {
        if let Some(r) = run.report.as_mut() {
            r.diagnosis = found
                .iter()
                .find(|(t, _)| *t == r.target)
                .map(|(_, d)| d.clone());
        }
    }
}

/// The checklist of an account, from the same evidence and findings as the Test panel.
pub fn checklist(
    profile: &Profile,
    account: &str,
    seen: &HashMap<String, SignIn>,
    tests: &HashMap<Target, TestRun>,
    reported: &HashMap<String, Vec<crate::diagnosis::SetupStep>>,
) -> Vec<crate::checklist::Item> {
    let Some(a) = profile.account(account) else {
        return Vec::new();
    };
    let signed = sign_ins(seen);
    let mut ev = Evidence::new(profile, SystemTime::now());
    ev.sign_ins = signed.iter().map(|(n, s)| (n.as_str(), s)).collect();
    ev.reports = tests.values().filter_map(|t| t.report.as_ref()).collect();
    if let Some(steps) = reported.get(account) {
        ev.setup_reported = steps.iter().map(|s| (account, s)).collect();
    }
    let mut findings: Vec<Diagnosis> = diagnosis::for_account(&ev, account, &Place::Window);
    findings.extend(
        ev.reports
            .iter()
            .filter(|r| r.account.as_deref() == Some(account))
            .filter_map(|r| r.diagnosis.clone()),
    );
    crate::checklist::checklist(&ev, a, &findings, SystemTime::now())
}
