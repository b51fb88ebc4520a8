//! Closing the window. Unsaved changes are asked about; writes still under way (a save, the
//! draft, an export, a secret on its way to the keyring) finish first, so that closing right
//! after Ctrl+S, or right after typing a secret, loses nothing.

use std::time::{Duration, Instant};

use super::App;
use super::jobs::Job;
use crate::ui::action::Pending;
use crate::ui::frame::Dialog;

/// How long a close waits for writes under way before it closes anyway.
const FINISH_WITHIN: Duration = Duration::from_secs(10);

impl App {
    /// A job that writes a file or the keyring is still under way.
    pub(super) fn writing(&self) -> bool {
        self.jobs.values().any(|j| {
            matches!(
                j,
                Job::Save { .. }
                    | Job::Quiet
                    | Job::Export
                    | Job::StoreSecret { .. }
                    | Job::Password { .. }
                    | Job::KeyImport(_)
                    | Job::SignOut(_)
            )
        })
    }

    /// The profile as it is now is being saved: once that lands, nothing is unsaved.
    fn saving_what_is_shown(&self) -> bool {
        self.jobs
            .values()
            .any(|j| matches!(j, Job::Save { snapshot, .. } if **snapshot == self.doc.profile))
    }

    /// Called once a frame: the window's close button (or Alt+F4, or Quit) and a close that
    /// waits for writes.
    pub(super) fn handle_close(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.viewport().close_requested()) {
            let unsaved = self.dirty() && !self.quitting && !self.saving_what_is_shown();
            if unsaved {
                ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
                self.dialog = Some(Dialog::Discard(Pending::Quit));
            } else if self.writing() {
                ctx.send_viewport_cmd(egui::ViewportCommand::CancelClose);
                self.closing.get_or_insert_with(Instant::now);
                self.status = Some((false, "Finishing saving, then closing…".into()));
            }
            return;
        }
        let Some(since) = self.closing else {
            return;
        };
        let waited = since.elapsed();
        if self.writing() && waited < FINISH_WITHIN {
            // The engine wakes the window when a job ends; this wakes it at the limit.
            ctx.request_repaint_after(FINISH_WITHIN.saturating_sub(waited));
            return;
        }
        self.closing = None;
        if self.dirty() && !self.quitting {
            // The save failed (its error is in the status bar): ask, as for any unsaved change.
            self.dialog = Some(Dialog::Discard(Pending::Quit));
        } else {
            self.quitting = true;
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
        }
    }

    /// A close is waiting for writes to finish.
    pub fn closing(&self) -> bool {
        self.closing.is_some()
    }
}
