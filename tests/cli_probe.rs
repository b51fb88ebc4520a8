//! `mailcfg test` through the real binary against the real servers: a profile in a tempdir whose
//! account signs in at the test IdP, `tls.ca_file` = the servers' CA, the client secret from
//! MAILCFG_CLIENT_SECRET. Exit codes, JSON lines, the diagnosis with the app's IDs filled in, one
//! token for many mailboxes, and no secret or token in any output.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use support::{TestServers, defaults};

const BIN: &str = env!("CARGO_BIN_EXE_mailcfg");

fn profile(s: &TestServers, dir: &Path) -> PathBuf {
    let text = format!(
        r#"version = 1

[[accounts]]
name = "app"
provider = "microsoft"
flow = "app-only"
tenant = "{tenant}"
client_id = "{client}"
scopes = ["https://outlook.office365.com/.default"]
enterprise_object_id = "{oid}"
authority = "{authority}"

[[mailboxes]]
name = "Support IMAP"
protocol = "imap"
host = "localhost"
port = {imaps}
encryption = "tls"
user = "{mailbox}"
account = "app"

[[mailboxes]]
name = "Support IMAP STARTTLS"
protocol = "imap"
host = "127.0.0.2"
port = {imap_remote}
encryption = "starttls"
user = "{mailbox}"
account = "app"

[[mailboxes]]
name = "Support POP3"
protocol = "pop3"
host = "localhost"
port = {pop3s}
encryption = "tls"
user = "{mailbox}"
account = "app"

[[transports]]
name = "Submission"
host = "localhost"
port = {submission}
encryption = "starttls"
auth = true
username = "{mailbox}"
account = "app"

[tls]
ca_file = "{ca}"

[probe]
timeout_secs = 10
concurrency = 8
"#,
        tenant = defaults::TENANT_ID,
        client = defaults::APP_CLIENT_ID,
        oid = defaults::APP_OBJECT_ID,
        authority = s.authority(),
        imaps = s.ports.imaps,
        imap_remote = s.ports.imap_remote,
        pop3s = s.ports.pop3s,
        submission = s.ports.submission,
        mailbox = defaults::MAILBOX,
        ca = s.ca_file().display(),
    );
    let path = dir.join("profile.toml");
    std::fs::write(&path, text).unwrap();
    path
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

async fn mailcfg(args: &[&str]) -> Run {
    let out = tokio::process::Command::new(BIN)
        .args(args)
        .env("MAILCFG_CLIENT_SECRET", defaults::APP_SECRET)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .await
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    run
}

/// A JWT (`eyJ….eyJ….sig`) anywhere in the text.
fn has_jwt(text: &str) -> bool {
    text.match_indices("eyJ").any(|(i, _)| {
        let rest = &text[i..];
        let token: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        token.matches('.').count() >= 2
    })
}

fn assert_no_secret(run: &Run) {
    for text in [&run.stdout, &run.stderr] {
        assert!(
            !text.contains(defaults::APP_SECRET),
            "the client secret leaked"
        );
        assert!(!has_jwt(text), "a token leaked:\n{text}");
        assert!(!text.contains("auth=Bearer"), "a SASL string leaked");
    }
}

fn lines(run: &Run) -> Vec<Value> {
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[test]
fn jwt_check_finds_a_jwt() {
    assert!(has_jwt("x eyJhbGciOi.eyJzdWIiOi.c2ln y"));
    assert!(!has_jwt("S: + eyJzdGF0dXMiOiI0MDEifQ=="));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_run_of_a_whole_profile_passes_with_one_token() {
    let s = TestServers::start().await.unwrap();
    s.deliver(defaults::MAILBOX, "Subject: hi\n\nbody\n")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = profile(&s, dir.path());
    let started = Instant::now();
    let run = mailcfg(&["test", "--profile", p.to_str().unwrap(), "--json"]).await;
    let took = started.elapsed();
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let all = lines(&run);
    let of = |t: &'static str| all.iter().filter(move |v| v["type"] == t);
    // Every step of every target: a running and a final event.
    assert!(of("event").count() >= 2 * (8 + 9 + 8 + 9) - 4);
    assert!(of("event").all(|e| e["target"].is_string() && e["elapsed_ms"].is_u64()));
    let reports: Vec<&Value> = of("report").collect();
    assert_eq!(reports.len(), 4);
    assert!(reports.iter().all(|r| r["ok"] == true));
    let imap = reports
        .iter()
        .find(|r| r["target"] == "Support IMAP")
        .unwrap();
    let mailbox_step = imap["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["step"] == "mailbox")
        .unwrap();
    assert_eq!(mailbox_step["detail"], "EXAMINE INBOX: 1 message");
    let summary = of("summary").next().unwrap();
    assert_eq!(summary["passed"], 4);
    assert_eq!(summary["failed"], 0);
    // One token fetch served the four tests.
    let fetches = s
        .idp
        .requests()
        .iter()
        .filter(|r| r.grant_type.as_deref() == Some("client_credentials"))
        .count();
    assert_eq!(fetches, 1);
    assert_no_secret(&run);
    eprintln!(
        "mailcfg test of a 4-target profile on loopback: {} ms (process included)",
        took.as_millis()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_prints_the_diagnosis_with_the_apps_ids_and_exits_1() {
    let s = TestServers::start().await.unwrap();
    s.make_mailbox_unreachable(defaults::MAILBOX).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = profile(&s, dir.path());
    let run = mailcfg(&[
        "test",
        "--profile",
        p.to_str().unwrap(),
        "--mailbox",
        "Support IMAP",
        "--transport",
        "Submission",
    ])
    .await;
    assert_eq!(run.code, 1, "{}\n{}", run.stdout, run.stderr);
    let out = &run.stdout;
    assert!(
        out.contains("Support IMAP (IMAP) failed at Mailbox"),
        "{out}"
    );
    assert!(
        out.contains(&format!(
            "diagnosis: The app has no access to the mailbox {} [mailbox_grant_missing]",
            defaults::MAILBOX
        )),
        "{out}"
    );
    // The object ID is the token's oid (the Enterprise application's), quoted for PowerShell.
    assert!(
        out.contains(&format!(
            "Add-MailboxPermission -Identity '{}' -User '{}' -AccessRights FullAccess",
            defaults::MAILBOX,
            defaults::APP_OBJECT_ID
        )),
        "{out}"
    );
    // SMTP signed in as the same mailbox: that proves the token, not access to the mailbox, so
    // a switched-off protocol is not the diagnosis (it stays among what cannot be ruled out, as
    // a wrong object ID does).
    assert!(
        !out.lines()
            .any(|l| l.trim_start().starts_with("diagnosis:") && l.ends_with("[protocol_disabled]")),
        "{out}"
    );
    assert!(out.contains("[service_principal_wrong_object_id]"), "{out}");
    assert!(out.contains("Summary: 1 of 2 passed"), "{out}");
    // Only the selected targets ran.
    assert!(!out.contains("Support POP3"), "{out}");
    assert_no_secret(&run);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_to_delivers_and_bad_input_exits_2() {
    let s = TestServers::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = profile(&s, dir.path());
    let p = p.to_str().unwrap();
    let run = mailcfg(&[
        "test",
        "--profile",
        p,
        "--transport",
        "Submission",
        "--send-to",
        "someone@example.test",
    ])
    .await;
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("Summary: 1 of 1 passed"),
        "{}",
        run.stdout
    );
    let got = s.sink.wait_for(1, Duration::from_secs(10)).await.unwrap();
    assert_eq!(got[0].rcpt_to, ["<someone@example.test>"]);
    assert_no_secret(&run);

    let run = mailcfg(&["test", "--profile", p, "--send-to", "nobody"]).await;
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("is not a mail address"),
        "{}",
        run.stderr
    );
    let run = mailcfg(&["test", "--profile", p, "--mailbox", "Nope"]).await;
    assert_eq!(run.code, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_client_secret_fails_the_sign_in_without_testing() {
    let s = TestServers::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = profile(&s, dir.path());
    let out = tokio::process::Command::new(BIN)
        .args(["test", "--profile", p.to_str().unwrap(), "--json"])
        .env("MAILCFG_CLIENT_SECRET", "wrong-secret-value")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("\"type\":\"sign_in_failed\""), "{stdout}");
    assert!(stdout.contains("AADSTS7000215"), "{stdout}");
    assert!(stdout.contains("\"not_tested\":4"), "{stdout}");
    assert!(!stdout.contains("wrong-secret-value"));
}
