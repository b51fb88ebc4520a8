//! The profile's findings as the window shows them: checked in memory on every change, and the
//! extra CA file (which means reading it) checked on the engine, its finding joining the others
//! when it is back. Nothing here reads a file on the UI thread.

use std::path::PathBuf;

use super::{App, jobs};
use crate::profile::{self, Finding};

/// The extra CA file's last check, and whether one is under way.
#[derive(Default)]
pub(super) struct CaCheck {
    /// The path checked and its problem, if it has one.
    last: Option<(PathBuf, Option<Finding>)>,
    checking: bool,
    /// A check came back with news: the findings are recomputed.
    arrived: bool,
}

impl App {
    /// The extra CA file's full path (relative paths start at the profile's folder).
    fn ca_path(&self) -> Option<PathBuf> {
        let f = self.doc.profile.tls.ca_file.as_ref()?;
        Some(self.base_dir().map_or_else(|| f.clone(), |d| d.join(f)))
    }

    /// The profile's findings, recomputed only when it changed (or the CA file's check came
    /// back). Nothing here reads a file: the CA file is checked on the engine, again after each
    /// change, and its finding joins the others when it is there.
    pub(super) fn refresh_findings(&mut self) {
        let changed = self.validated.as_ref() != Some(&self.doc.profile);
        if !changed && !std::mem::take(&mut self.ca.arrived) {
            return;
        }
        let path = self.ca_path();
        if changed
            && let Some(p) = &path
            && !self.ca.checking
        {
            self.ca.checking = true;
            let j = self.engine.check_ca(p.clone());
            self.jobs.insert(j, jobs::Job::CaCheck(p.clone()));
        }
        let mut findings = profile::validate_in_memory(&self.doc.profile);
        if let (Some(p), Some((checked, finding))) = (&path, &self.ca.last)
            && p == checked
        {
            findings.extend(finding.iter().cloned());
        }
        self.findings = findings;
        self.validated = Some(self.doc.profile.clone());
    }

    pub(super) fn on_ca_checked(&mut self, path: PathBuf, finding: Option<Finding>) {
        self.ca.checking = false;
        let now = Some((path, finding));
        if self.ca.last != now {
            self.ca.last = now;
            self.ca.arrived = true;
        }
        if self.ca.last.as_ref().map(|(p, _)| p) != self.ca_path().as_ref() {
            // The path changed while this one was read: check the new one.
            self.validated = None;
        }
    }
}
