//! The fault suite of issue 13 ("hostile input"): one test per item, each against a fake server
//! from tests/support/fake.rs (or a file that is not one) and the real `mailcfg` binary, asserting
//! the bounded time, the bounded memory (peak RSS of the child) where it applies, the exit code,
//! the diagnosis, and that no secret, token or control character reaches any output.
//!
//! - [`reads`]: endless and trickling replies (POP3 CAPA, SMTP EHLO, IMAP AUTHENTICATE).
//! - [`injection`]: CR/LF in a username, `--send-to`, a sign-in name; the test message.
//! - [`files`]: FIFOs, /dev/zero, folders and huge files as the profile or `tls.ca_file`;
//!   `export --output` onto what is not a regular file.
//! - [`masking`]: tokens and client secrets echoed by servers and identity providers.
//! - [`terminal`]: escape sequences from servers and profiles; a closed or full stdout.
//! - [`low`]: the "Low" list.
//! - [`properties`]: property tests of the profile parser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod files;
mod injection;
mod low;
mod masking;
mod properties;
mod reads;
mod terminal;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::child::{Mailcfg, Outcome};
use support::defaults;

/// The step timeout of every profile here.
const STEP: Duration = Duration::from_secs(3);
/// What a `mailcfg test` of one small target may use (the binary alone is about 20 MiB); the
/// floods of the issue reached 2.7–4.8 GB.
const MEMORY_BOUND_KIB: u64 = 200 * 1024;

/// The binary under test: this build's, or `MAILCFG_TEST_BIN` (an older build, to see the
/// "before" of each item fail).
fn mailcfg(args: &[&str]) -> Mailcfg {
    let bin = std::env::var_os("MAILCFG_TEST_BIN").map_or_else(
        || PathBuf::from(env!("CARGO_BIN_EXE_mailcfg")),
        PathBuf::from,
    );
    Mailcfg::new(&bin, args).limit(Duration::from_secs(20))
}

async fn run(m: Mailcfg) -> Outcome {
    tokio::task::spawn_blocking(move || m.run()).await.unwrap()
}

/// A profile file in `dir` with `body` (sections) and a 3 s step timeout.
fn profile(dir: &Path, body: &str) -> PathBuf {
    let p = dir.join("profile.toml");
    std::fs::write(
        &p,
        format!(
            "version = 1\n\n{body}\n[probe]\ntimeout_secs = {}\n",
            STEP.as_secs()
        ),
    )
    .unwrap();
    p
}

/// A mailbox on 127.0.0.1 without encryption (loopback, so sign-in is allowed).
fn mailbox(protocol: &str, port: u16, account: Option<&str>) -> String {
    format!(
        "[[mailboxes]]\nname = \"fake\"\nprotocol = \"{protocol}\"\nhost = \"127.0.0.1\"\nport = {port}\nencryption = \"none\"\nuser = \"{}\"\n{}\n",
        defaults::MAILBOX,
        account
            .map(|a| format!("account = \"{a}\"\n"))
            .unwrap_or_default()
    )
}

/// A transport on 127.0.0.1 without encryption.
fn transport(port: u16, username: &str, account: Option<&str>) -> String {
    format!(
        "[[transports]]\nname = \"fake smtp\"\nhost = \"127.0.0.1\"\nport = {port}\nencryption = \"none\"\nauth = {}\nusername = \"{username}\"\n{}\n",
        account.is_some(),
        account
            .map(|a| format!("account = \"{a}\"\n"))
            .unwrap_or_default()
    )
}

/// The test IdP's app-only account, signing in at `authority`.
fn account(authority: &str) -> String {
    format!(
        "[[accounts]]\nname = \"app\"\nprovider = \"microsoft\"\nflow = \"app-only\"\ntenant = \"{}\"\nclient_id = \"{}\"\nscopes = [\"https://outlook.office365.com/.default\"]\nauthority = \"{authority}\"\n\n",
        defaults::TENANT_ID,
        defaults::APP_CLIENT_ID
    )
}

/// The JSON lines of a `--json` run.
fn json_lines(o: &Outcome) -> Vec<serde_json::Value> {
    o.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The `report` line of a `--json` run of one target.
fn report(o: &Outcome) -> serde_json::Value {
    json_lines(o)
        .into_iter()
        .find(|v| v["type"] == "report")
        .unwrap_or_else(|| panic!("no report in {}", o.all()))
}

/// No control character but line ends in anything the run printed.
fn assert_no_controls(o: &Outcome) {
    for (i, c) in o.all().char_indices() {
        assert!(
            c == '\n' || !mailcfg::redact::is_unsafe_char(c),
            "control character {:?} at {i} in:\n{}",
            c,
            o.all()
        );
    }
}

/// None of `secrets` anywhere in what the run printed.
fn assert_absent(o: &Outcome, secrets: &[&str]) {
    let all = o.all();
    for s in secrets {
        assert!(!s.is_empty());
        assert!(!all.contains(s), "{s:?} leaked into:\n{all}");
    }
}

fn assert_bounded(o: &Outcome, within: Duration) {
    // Shown with --nocapture: the figures the before/after list quotes.
    eprintln!(
        "measured: {:?}, peak RSS {} KiB, exit {:?}, {} bytes printed",
        o.elapsed,
        o.peak_rss_kib,
        o.code,
        o.stdout.len() + o.stderr.len()
    );
    assert!(!o.timed_out, "still running at the limit:\n{}", o.all());
    assert!(
        o.elapsed < within,
        "took {:?} (bound {within:?}):\n{}",
        o.elapsed,
        o.all()
    );
    assert!(
        o.peak_rss_kib < MEMORY_BOUND_KIB,
        "peak RSS {} KiB (bound {MEMORY_BOUND_KIB} KiB)",
        o.peak_rss_kib
    );
}
