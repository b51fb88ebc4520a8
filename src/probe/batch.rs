//! Many tests at once: the mailboxes and transports of a profile (one token per account, got by
//! the caller), at most `concurrency` at a time. Dropping the future cancels every test.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;

use super::{Credential, Event, Options, Report};
use crate::oauth::AccessToken;
use crate::profile::{Mailbox, Transport};
use crate::secrets::{Kind, Secrets};

/// What one connection test checks: a mailbox or a transport, with the settings it is tested with.
/// The one `Target` of the crate: the CLI and the window run it, and the window keeps the one
/// each result was made with, so that changed settings mark the result stale.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Mailbox(Mailbox),
    Transport(Transport),
}

impl Target {
    pub fn name(&self) -> &str {
        match self {
            Target::Mailbox(m) => &m.name,
            Target::Transport(t) => &t.name,
        }
    }

    /// The connected account it signs in with (XOAUTH2), if any.
    pub fn account(&self) -> Option<&str> {
        match self {
            Target::Mailbox(m) => m.account.as_deref(),
            Target::Transport(t) => t.account.as_deref(),
        }
    }
}

/// The name a target signs in as (a mailbox's user, a transport's username), if it has one: a
/// Google service account's token is asked for this user.
pub fn sign_in_name(target: &Target) -> Option<String> {
    match target {
        Target::Mailbox(m) => Some(m.user.clone()),
        Target::Transport(t) => t.username.clone(),
    }
    .filter(|u| !u.trim().is_empty())
}

/// How a target signs in: XOAUTH2 with its account's token (`token`, got by the caller), else a
/// password from the keyring, else not at all (the test stops before sign-in).
pub fn credential(
    target: &Target,
    token: Option<&AccessToken>,
    secrets: &Secrets,
) -> Result<Credential, String> {
    let (user, entry) = match target {
        Target::Mailbox(m) => (Some(m.user.clone()), crate::secrets::mailbox_entry(&m.name)),
        Target::Transport(t) if !t.auth => return Ok(Credential::None),
        Target::Transport(t) => (t.username.clone(), crate::secrets::transport_entry(&t.name)),
    };
    // An empty user name signs in as the signed-in user (delegated sign-ins know it).
    let user = user.filter(|u| !u.trim().is_empty());
    if let Some(name) = target.account() {
        let Some(token) = token else {
            return Err(format!("sign-in for account \"{name}\" failed"));
        };
        let Some(user) = user.or_else(|| token.user.clone()) else {
            return Err(
                "no user name: set the mailbox's or transport's user (the address it signs in as), or sign in delegated so that the signed-in user is known".into(),
            );
        };
        return Ok(Credential::XOAuth2 {
            user,
            token: token.secret.clone(),
        });
    }
    let password = secrets.get(&entry, Kind::Password).ok().flatten();
    Ok(match (user, password) {
        (Some(user), Some(password)) => Credential::Password { user, password },
        _ => Credential::None,
    })
}

/// One test to run: the target and how to sign in.
#[derive(Debug, Clone)]
pub struct Job {
    pub target: Target,
    pub cred: Credential,
}

/// Runs every job, at most `concurrency` at once; the reports come back in the jobs' order.
pub async fn run_all(
    jobs: Vec<Job>,
    opts: &Options,
    concurrency: usize,
    events: &UnboundedSender<Event>,
) -> Vec<Report> {
    let permits = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut set = tokio::task::JoinSet::new();
    let count = jobs.len();
    for (i, job) in jobs.into_iter().enumerate() {
        let permits = permits.clone();
        let opts = opts.clone();
        let events = events.clone();
        set.spawn(async move {
            // The semaphore is never closed, so acquiring only waits.
            let _permit = permits.acquire_owned().await.ok();
            let report = match &job.target {
                Target::Mailbox(m) => super::test_mailbox(m, job.cred, &opts, &events).await,
                Target::Transport(t) => super::test_transport(t, job.cred, &opts, &events).await,
            };
            (i, report)
        });
    }
    let mut reports: Vec<Option<Report>> = vec![None; count];
    while let Some(done) = set.join_next().await {
        if let Ok((i, report)) = done
            && let Some(slot) = reports.get_mut(i)
        {
            *slot = Some(report);
        }
    }
    reports.into_iter().flatten().collect()
}
