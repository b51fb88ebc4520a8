//! Selecting, editing, adding, duplicating and deleting the profile's items: a free name for each new one, the new
//! item selected (and its errors held back until it is typed into), Undo for a delete.

use super::App;
use super::edit::{self, Renamed};
use super::jobs::Job;
use crate::profile::{self, Provider, presets};
use crate::ui::action::{Action, Edit, Kind, Nav};
use crate::ui::screens;

impl App {
    /// Selects an item by `kind:name` (`account`, `transport`, `mailbox`) or a page by its id.
    pub(super) fn select(&mut self, what: &str) {
        let (kind, name) = what.split_once(':').unwrap_or((what, ""));
        let p = &self.doc.profile;
        let found = match kind {
            "account" => p
                .accounts
                .iter()
                .position(|a| a.name == name)
                .map(Nav::Account),
            "transport" => p
                .transports
                .iter()
                .position(|t| t.name == name)
                .map(Nav::Transport),
            "mailbox" => p
                .mailboxes
                .iter()
                .position(|m| m.name == name)
                .map(Nav::Mailbox),
            "setup" => {
                let at = p.accounts.iter().position(|a| a.name == name);
                self.input.setup = Some(screens::setup::SetupView::new(name));
                at.map(Nav::Account)
            }
            id => self
                .pages
                .iter()
                .find(|pg| pg.id() == id)
                .map(|pg| Nav::Page(pg.id())),
        };
        if let Some(n) = found {
            self.nav = n;
        }
    }

    /// A form's edit, with its consequences; what was seen or is running under a changed name
    /// keeps to it.
    pub(super) fn edit(&mut self, e: Edit) {
        // Undo puts back the profile as it was before a delete: after an edit that would throw
        // the edit away, so the offer ends here.
        self.undo = None;
        for r in edit::apply(&mut self.doc.profile, e) {
            match r {
                Renamed::Account { old, new } => {
                    // The keyring entry is named by the account: it moves with the name, on the
                    // keyring's lane, before the lookup under the new name that follows.
                    let j = self.engine.move_secret(&old, &new);
                    self.jobs.insert(j, Job::Quiet);
                    self.runtime.rename_account(&old, &new);
                    if let Some(t) = self.after_sign_in.remove(&old) {
                        self.after_sign_in.insert(new.clone(), t);
                    }
                    for job in self.jobs.values_mut() {
                        if let Job::SignIn(a) = job
                            && *a == old
                        {
                            new.clone_into(a);
                        }
                    }
                }
                Renamed::Target { old, new } => {
                    self.runtime.rename_target(&old, &new);
                    for job in self.jobs.values_mut() {
                        if let Job::Probe(t) = job
                            && *t == old
                        {
                            *t = new.clone();
                        }
                    }
                }
            }
        }
    }

    pub(super) fn add(&mut self, kind: Kind) {
        let p = &mut self.doc.profile;
        let account = p.accounts.first().map(|a| a.name.clone());
        let (section, nav) = match kind {
            Kind::Account => {
                let n = unique(p.accounts.iter().map(|a| &a.name), "Account");
                let mut a =
                    presets::account(&n, Provider::Microsoft, crate::profile::Flow::AppOnly);
                a.tenant = None;
                p.accounts.push(a);
                ("accounts", Nav::Account(p.accounts.len() - 1))
            }
            Kind::Transport => {
                let n = unique(p.transports.iter().map(|t| &t.name), "SMTP");
                let mut t = presets::MICROSOFT365_SMTP.transport(&n, "", account.as_deref());
                t.username = None;
                p.transports.push(t);
                ("transports", Nav::Transport(p.transports.len() - 1))
            }
            Kind::Mailbox => {
                let n = unique(p.mailboxes.iter().map(|m| &m.name), "Mailbox");
                let m = presets::MICROSOFT365_IMAP.mailbox(
                    &n,
                    profile::Protocol::Imap,
                    "",
                    account.as_deref(),
                );
                p.mailboxes.push(m);
                ("mailboxes", Nav::Mailbox(p.mailboxes.len() - 1))
            }
        };
        let i = match nav {
            Nav::Account(i) | Nav::Transport(i) | Nav::Mailbox(i) => i,
            Nav::Page(_) => 0,
        };
        self.input.fields.fresh(format!("{section}[{i}]"));
        self.apply(Action::Select(nav));
    }

    pub(super) fn duplicate(&mut self, nav: Nav) {
        let p = &mut self.doc.profile;
        let copy =
            |name: &str, taken: Vec<&String>| unique(taken.into_iter(), &format!("{name} copy"));
        let nav = match nav {
            Nav::Account(i) if i < p.accounts.len() => {
                let mut a = p.accounts[i].clone();
                a.name = copy(&a.name, p.accounts.iter().map(|x| &x.name).collect());
                p.accounts.push(a);
                Nav::Account(p.accounts.len() - 1)
            }
            Nav::Transport(i) if i < p.transports.len() => {
                let mut t = p.transports[i].clone();
                t.name = copy(&t.name, p.transports.iter().map(|x| &x.name).collect());
                p.transports.push(t);
                Nav::Transport(p.transports.len() - 1)
            }
            Nav::Mailbox(i) if i < p.mailboxes.len() => {
                let mut m = p.mailboxes[i].clone();
                m.name = copy(&m.name, p.mailboxes.iter().map(|x| &x.name).collect());
                p.mailboxes.push(m);
                Nav::Mailbox(p.mailboxes.len() - 1)
            }
            _ => return,
        };
        self.apply(Action::Select(nav));
    }

    /// Deletes at once; Undo in the status bar brings it back.
    pub(super) fn delete(&mut self, nav: Nav) {
        let before = self.doc.profile.clone();
        let p = &mut self.doc.profile;
        let (what, section, i) = match nav {
            Nav::Account(i) if i < p.accounts.len() => (
                format!("connected account \"{}\"", p.accounts.remove(i).name),
                "accounts",
                i,
            ),
            Nav::Transport(i) if i < p.transports.len() => (
                format!("SMTP transport \"{}\"", p.transports.remove(i).name),
                "transports",
                i,
            ),
            Nav::Mailbox(i) if i < p.mailboxes.len() => (
                format!("mailbox \"{}\"", p.mailboxes.remove(i).name),
                "mailboxes",
                i,
            ),
            _ => return,
        };
        self.input.fields.removed(section, i);
        self.undo = Some((format!("delete {what}"), before, nav));
        let next = match nav {
            Nav::Transport(_) if !p.transports.is_empty() => Nav::Transport(i.saturating_sub(1)),
            Nav::Mailbox(_) if !p.mailboxes.is_empty() => Nav::Mailbox(i.saturating_sub(1)),
            Nav::Account(_) if !p.accounts.is_empty() => Nav::Account(i.saturating_sub(1)),
            _ => Nav::Page("settings"),
        };
        self.apply(Action::Select(next));
    }

    pub(super) fn undo(&mut self) {
        if let Some((_, p, nav)) = self.undo.take() {
            self.doc.profile = p;
            self.nav = nav;
            self.input.fields.clear();
        }
    }
}

/// `base`, or `base 2`, `base 3`… whichever is free.
fn unique<'a>(taken: impl Iterator<Item = &'a String>, base: &str) -> String {
    let taken: Vec<&String> = taken.collect();
    if !taken.iter().any(|t| *t == base) {
        return base.to_owned();
    }
    (2..10_000)
        .map(|i| format!("{base} {i}"))
        .find(|n| !taken.contains(&n))
        .unwrap_or_else(|| base.to_owned())
}
