//! Many tests at once: the mailboxes and transports of a profile (one token per account, got by
//! the caller), at most `concurrency` at a time. Dropping the future cancels every test.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::sync::mpsc::UnboundedSender;

use super::{Credential, Event, Options, Report};
use crate::profile::{Mailbox, Transport};

/// What one test checks.
#[derive(Debug, Clone)]
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
