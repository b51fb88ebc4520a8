//! Runs the test servers until SIGTERM or SIGINT, for manual use and benchmarks
//! (tests/servers/start.sh starts it, stop.sh stops it).
//!
//! `test-servers --state-dir DIR` writes `DIR/env` (shell `KEY=value` lines: ports, CA, authority,
//! a ready app-only client, Google's paths, Desktop client and a service account whose JSON key is
//! `DIR/google-service-account.json`) once every server greets, and removes it on the way out. Messages
//! relayed by submission land in `DIR/sink/`. `--app-opens-domain`: the app-only token opens every
//! mailbox `…@example.test`, not just `MAILCFG_TEST_MAILBOX` (benchmarks of many mailboxes).
//! `MAILCFG_TEST_SPLIT_*_PORT`: the split-write front (tests/support/split.rs) before Dovecot.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context as _, Result};
use support::idp::google::defaults as g;
use support::{Options, TestServers, defaults};
use tokio::signal::unix::{SignalKind, signal};

/// `--state-dir DIR` and whether `--app-opens-domain` was given.
fn parse_args() -> Result<(PathBuf, bool)> {
    let args: Vec<String> = std::env::args().collect();
    let state = args
        .iter()
        .position(|a| a == "--state-dir")
        .and_then(|i| args.get(i + 1))
        .context("usage: test-servers --state-dir DIR [--app-opens-domain]")?;
    let app_opens_domain = args.iter().any(|a| a == "--app-opens-domain");
    Ok((PathBuf::from(state), app_opens_domain))
}

/// Google's side: its paths at the IdP, the Desktop app client, the user who signs in in the
/// browser, and the service account (its key in `key`, the domain's users it signs for).
fn google_env(
    servers: &TestServers,
    state: &std::path::Path,
) -> Result<Vec<(&'static str, String)>> {
    // A key of the test service account, as Google Cloud hands it out.
    let key = state.join(GOOGLE_KEY_FILE);
    std::fs::write(&key, servers.idp.service_account_key()?)?;
    Ok(vec![
        (
            "MAILCFG_TEST_GOOGLE_TOKEN_URL",
            servers.idp.google_token_url(),
        ),
        (
            "MAILCFG_TEST_GOOGLE_AUTHORIZE_URL",
            servers.idp.google_authorize_url(),
        ),
        (
            "MAILCFG_TEST_GOOGLE_CLIENT_ID",
            g::DESKTOP_CLIENT_ID.to_owned(),
        ),
        (
            "MAILCFG_TEST_GOOGLE_CLIENT_SECRET",
            g::DESKTOP_SECRET.to_owned(),
        ),
        ("MAILCFG_TEST_GOOGLE_USER", g::CAROL.to_owned()),
        ("MAILCFG_TEST_GOOGLE_SA_KEY", key.display().to_string()),
        (
            "MAILCFG_TEST_GOOGLE_SA_EMAIL",
            g::SERVICE_ACCOUNT.to_owned(),
        ),
        (
            "MAILCFG_TEST_GOOGLE_SA_CLIENT_ID",
            g::SERVICE_ACCOUNT_ID.to_owned(),
        ),
        (
            "MAILCFG_TEST_GOOGLE_SA_USERS",
            format!("{},{}", g::ALICE, g::BOB),
        ),
    ])
}

/// The service account's JSON key, in the state folder.
const GOOGLE_KEY_FILE: &str = "google-service-account.json";

#[tokio::main]
#[allow(clippy::too_many_lines)] // the env file's lines are one table
async fn main() -> Result<()> {
    let (state, app_opens_domain) = parse_args()?;
    std::fs::create_dir_all(&state)?;
    // Listen for the signals before anything starts, so an early stop.sh is not lost.
    let (mut term, mut int) = (
        signal(SignalKind::terminate())?,
        signal(SignalKind::interrupt())?,
    );
    let began = Instant::now();
    let servers = TestServers::start_with(Options {
        sink_spool: Some(state.join("sink")),
        app_opens_domain,
        ..Options::default()
    })
    .await?;
    let split = servers.split_front().await?;
    let took = began.elapsed();
    let env = env_text(&servers, &split, &state, took, app_opens_domain)?;
    // Written whole, then renamed: start.sh waits for this file and must never see half of it.
    let tmp = state.join("env.tmp");
    std::fs::write(&tmp, env)?;
    std::fs::rename(&tmp, state.join("env"))?;
    eprintln!("test servers ready in {} ms", took.as_millis());
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    let _ = std::fs::remove_file(state.join("env"));
    let _ = std::fs::remove_file(state.join(GOOGLE_KEY_FILE));
    drop(split);
    drop(servers);
    eprintln!("test servers stopped");
    Ok(())
}

/// The env file: shell `KEY=value` lines.
fn env_text(
    servers: &TestServers,
    split: &support::split::SplitFront,
    state: &std::path::Path,
    took: std::time::Duration,
    app_opens_domain: bool,
) -> Result<String> {
    let p = servers.ports;
    let mut env = String::new();
    for (k, v) in [
        ("MAILCFG_TEST_PID", std::process::id().to_string()),
        (
            "MAILCFG_TEST_DOVECOT_PID",
            servers.dovecot_pid().to_string(),
        ),
        ("MAILCFG_TEST_AUTHORITY", servers.authority().to_owned()),
        ("MAILCFG_TEST_TENANT", defaults::TENANT_ID.to_owned()),
        (
            "MAILCFG_TEST_TENANT_DOMAIN",
            defaults::TENANT_DOMAIN.to_owned(),
        ),
        ("MAILCFG_TEST_CLIENT_ID", defaults::APP_CLIENT_ID.to_owned()),
        (
            "MAILCFG_TEST_CLIENT_SECRET",
            defaults::APP_SECRET.to_owned(),
        ),
        (
            "MAILCFG_TEST_SCOPE",
            "https://outlook.office365.com/.default".to_owned(),
        ),
        ("MAILCFG_TEST_MAILBOX", defaults::MAILBOX.to_owned()),
        (
            "MAILCFG_TEST_PUBLIC_CLIENT_ID",
            defaults::PUBLIC_CLIENT_ID.to_owned(),
        ),
        ("MAILCFG_TEST_USER", defaults::USER_EMAIL.to_owned()),
        (
            "MAILCFG_TEST_PLAIN_PASSWORD",
            support::PLAIN_PASSWORD.to_owned(),
        ),
        ("MAILCFG_TEST_HOST", "localhost".to_owned()),
        ("MAILCFG_TEST_IMAP_PORT", p.imap.to_string()),
        ("MAILCFG_TEST_IMAPS_PORT", p.imaps.to_string()),
        ("MAILCFG_TEST_POP3_PORT", p.pop3.to_string()),
        ("MAILCFG_TEST_POP3S_PORT", p.pop3s.to_string()),
        ("MAILCFG_TEST_SUBMISSION_PORT", p.submission.to_string()),
        ("MAILCFG_TEST_SUBMISSIONS_PORT", p.submissions.to_string()),
        (
            "MAILCFG_TEST_REMOTE_HOST",
            support::dovecot::REMOTE.to_string(),
        ),
        ("MAILCFG_TEST_IMAP_REMOTE_PORT", p.imap_remote.to_string()),
        ("MAILCFG_TEST_POP3_REMOTE_PORT", p.pop3_remote.to_string()),
        (
            "MAILCFG_TEST_SUBMISSION_REMOTE_PORT",
            p.submission_remote.to_string(),
        ),
        ("MAILCFG_TEST_SINK_PORT", p.sink.to_string()),
        ("MAILCFG_TEST_SPLIT_IMAPS_PORT", split.imaps.to_string()),
        (
            "MAILCFG_TEST_SPLIT_SUBMISSION_PORT",
            split.submission.to_string(),
        ),
        (
            "MAILCFG_TEST_SINK_DIR",
            state.join("sink").display().to_string(),
        ),
        ("MAILCFG_TEST_CA", servers.ca_file().display().to_string()),
        (
            "MAILCFG_TEST_UNTRUSTED_CA",
            servers.untrusted_ca().display().to_string(),
        ),
        (
            "MAILCFG_TEST_DOVECOT_LOG",
            servers.dovecot_log().display().to_string(),
        ),
        ("MAILCFG_TEST_START_MS", took.as_millis().to_string()),
        (
            "MAILCFG_TEST_APP_OPENS_DOMAIN",
            u8::from(app_opens_domain).to_string(),
        ),
    ]
    .into_iter()
    .chain(google_env(servers, state)?)
    {
        let _ = writeln!(env, "{k}={v}");
    }
    Ok(env)
}
