//! What a result was made with, and why it no longer stands: a connection test's [`Basis`] (the
//! target's settings, its account's, the CA, the timeout, sign-outs since) and a sign-in's
//! [`AccountBasis`], compared with the profile as it is now, in the form's words.

use std::path::PathBuf;

use super::{Runtime, SignIn, SignInRun};
use crate::probe::Target;
use crate::profile::{Account, Profile};
use crate::ui::action::TargetName;

/// What a sign-in depends on: the account's settings and the extra CA. The enterprise object ID
/// and the secret's expiry date are notes for the admin steps: a token does not depend on them.
#[derive(Debug, Clone, PartialEq)]
pub struct AccountBasis {
    pub account: Account,
    pub ca_file: Option<PathBuf>,
}

impl AccountBasis {
    pub fn of(p: &Profile, account: &Account) -> Self {
        let mut account = account.clone();
        account.enterprise_object_id = None;
        account.client_secret_expires = None;
        Self {
            account,
            ca_file: p.tls.ca_file.clone(),
        }
    }
}

/// What a connection test's result depends on: the target's settings, its account's, the extra
/// CA and the step timeout, and how many times the account was signed out before it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct Basis {
    pub target: Target,
    pub account: Option<AccountBasis>,
    pub ca_file: Option<PathBuf>,
    pub timeout_secs: u64,
    pub sign_outs: u64,
}

impl Runtime {
    /// The settings a test of `t` would be made with now; `None` if it is not in the profile.
    pub fn basis(&self, p: &Profile, t: &TargetName) -> Option<Basis> {
        let target = match t {
            TargetName::Mailbox(n) => p
                .mailboxes
                .iter()
                .find(|m| &m.name == n)
                .cloned()
                .map(Target::Mailbox)?,
            TargetName::Transport(n) => p
                .transports
                .iter()
                .find(|x| &x.name == n)
                .cloned()
                .map(Target::Transport)?,
        };
        let account = target.account().and_then(|a| p.account(a));
        Some(Basis {
            sign_outs: account.map_or(0, |a| self.sign_outs_of(&a.name)),
            account: account.map(|a| AccountBasis::of(p, a)),
            target,
            ca_file: p.tls.ca_file.clone(),
            timeout_secs: p.probe.timeout_secs,
        })
    }

    fn sign_outs_of(&self, account: &str) -> u64 {
        self.sign_outs.get(account).copied().unwrap_or(0)
    }

    /// Why the result of `t` no longer stands for the settings as they are, if it doesn't.
    pub fn probe_stale(&self, p: &Profile, t: &TargetName) -> Option<String> {
        let run = self.probes.get(t)?;
        if run.running() {
            return None;
        }
        let Some(now) = self.basis(p, t) else {
            return Some("it is no longer in the profile".into());
        };
        let old = &run.basis;
        let mut why = target_changes(&old.target, &now.target);
        if old.account != now.account {
            why.push(match (&old.account, &now.account) {
                (Some(a), Some(b)) => account_changes(&a.account, &b.account),
                _ => "the XOAuth2 account".into(),
            });
        }
        if old.ca_file != now.ca_file {
            why.push("the extra CA file".into());
        }
        if old.timeout_secs != now.timeout_secs {
            why.push(format!(
                "the step timeout ({} s → {} s)",
                old.timeout_secs, now.timeout_secs
            ));
        }
        if old.sign_outs != now.sign_outs {
            why.push("the account was signed out since".into());
        }
        let account = now.target.account();
        if let (Some(a), Some(done)) = (account, run.finished_at)
            && let Some(SignInRun {
                state: SignIn::Done(t),
                ..
            }) = self.sign_ins.get(a)
            && t.fetched_at > done
        {
            why.push("a new token was fetched since".into());
        }
        (!why.is_empty()).then(|| why.join("; "))
    }

    /// Why the account's sign-in no longer stands for its settings, if it doesn't.
    pub fn sign_in_stale(&self, p: &Profile, account: &Account) -> Option<String> {
        let run = self.sign_ins.get(&account.name)?;
        if matches!(run.state, SignIn::Waiting { .. }) {
            return None;
        }
        let now = AccountBasis::of(p, account);
        if run.basis == now {
            return None;
        }
        Some(if run.basis.ca_file == now.ca_file {
            account_changes(&run.basis.account, &now.account)
        } else {
            "the extra CA file".into()
        })
    }
}

/// "port 993 → 995", one phrase per changed setting of a target (its name aside).
fn target_changes(old: &Target, new: &Target) -> Vec<String> {
    fn diff<T: PartialEq + std::fmt::Display>(out: &mut Vec<String>, what: &str, a: &T, b: &T) {
        if a != b {
            out.push(format!("{what} {a} → {b}"));
        }
    }
    let show = |o: Option<&String>| o.map_or_else(|| "(none)".to_owned(), Clone::clone);
    let mut out = Vec::new();
    match (old, new) {
        (Target::Mailbox(a), Target::Mailbox(b)) => {
            diff(&mut out, "protocol", &a.protocol, &b.protocol);
            diff(&mut out, "host", &a.host, &b.host);
            diff(&mut out, "port", &a.port, &b.port);
            diff(&mut out, "encryption", &a.encryption, &b.encryption);
            diff(&mut out, "user", &a.user, &b.user);
            diff(
                &mut out,
                "account",
                &show(a.account.as_ref()),
                &show(b.account.as_ref()),
            );
        }
        (Target::Transport(a), Target::Transport(b)) => {
            diff(&mut out, "host", &a.host, &b.host);
            diff(&mut out, "port", &a.port, &b.port);
            diff(&mut out, "encryption", &a.encryption, &b.encryption);
            diff(&mut out, "sign-in", &a.auth, &b.auth);
            diff(
                &mut out,
                "username",
                &show(a.username.as_ref()),
                &show(b.username.as_ref()),
            );
            diff(
                &mut out,
                "account",
                &show(a.account.as_ref()),
                &show(b.account.as_ref()),
            );
        }
        _ => out.push("its kind".into()),
    }
    out
}

/// Which of an account's settings changed, in the form's words.
fn account_changes(a: &Account, b: &Account) -> String {
    let mut what = Vec::new();
    let mut check = |label: &str, changed: bool| {
        if changed {
            what.push(label.to_owned());
        }
    };
    check("provider", a.provider != b.provider);
    check("sign-in", a.flow != b.flow);
    check("tenant", a.tenant != b.tenant);
    check("client ID", a.client_id != b.client_id);
    check("scopes", a.scopes != b.scopes);
    check("authority", a.authority != b.authority);
    check(
        "endpoints",
        (
            &a.authorize_url,
            &a.token_url,
            &a.device_authorization_url,
            &a.issuer,
        ) != (
            &b.authorize_url,
            &b.token_url,
            &b.device_authorization_url,
            &b.issuer,
        ),
    );
    check("redirect URI", a.redirect_uri != b.redirect_uri);
    if what.is_empty() {
        "the account's settings".to_owned()
    } else {
        format!("the account's {}", what.join(", "))
    }
}
