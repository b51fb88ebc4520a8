//! Items 8 and 9: nothing a server or a profile sends can drive the terminal (escape sequences,
//! BEL, CR are shown escaped; names with them are refused), and a closed or full standard
//! output ends the program quietly (EPIPE) or with an error (ENOSPC), never with a panic.

use super::support::child::Stdout;
use super::support::fake::{Answer, Fake};
use super::support::idp::{Config, Idp};
use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escape_sequences_from_servers_are_shown_escaped() {
    // A window title, a cleared screen, a line overwritten with a fake "ok", a bell.
    let pop3 = Fake::start(
        Answer::text("+OK \u{1b}]0;owned\u{7} ready\r\n"),
        |l| match l {
            "CAPA" => Answer::text("-ERR \u{1b}[2J\rok      fake  Mailbox  all good\u{9b}31m\r\n"),
            _ => Answer::text("-ERR no\u{7}\r\n"),
        },
    )
    .await;
    let smtp = Fake::start(Answer::text("220 fake\u{1b}[1A\u{1b}[2K ESMTP\r\n"), |l| {
        if l.starts_with("EHLO") {
            Answer::text("250-fake\u{1b}]0;t\u{7}\r\n250 SIZE\r\n")
        } else {
            Answer::text("554 5.7.1 \u{1b}[31mrefused\u{1b}[0m\r\n")
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let body = mailbox("pop3", pop3.port, None) + &transport(smtp.port, defaults::MAILBOX, None);
    let p = profile(dir.path(), &body);
    for json in [false, true] {
        let mut args = vec!["test", "--profile", p.to_str().unwrap()];
        if json {
            args.push("--json");
        }
        let o = run(mailcfg(&args)).await;
        // Before: ESC, BEL and CR from POP3/SMTP replies reached the terminal in step details.
        assert_eq!(o.code, Some(1), "{}", o.all());
        assert_no_controls(&o);
        assert!(
            o.stdout.contains("\\u{1b}]0;owned\\u{7}") || o.stdout.contains("\\\\u{1b}]0;owned"),
            "{}",
            o.stdout
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_with_an_escape_sequence_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let body = mailbox("imap", 993, None).replace(
        "name = \"fake\"",
        "name = \"Support\\u001b]0;owned\\u0007\"",
    );
    let p = profile(dir.path(), &body);
    for args in [
        vec!["validate", p.to_str().unwrap()],
        vec!["validate", p.to_str().unwrap(), "--json"],
        vec!["test", "--profile", p.to_str().unwrap()],
    ] {
        let o = run(mailcfg(&args)).await;
        // Before: it passed validation and was printed raw.
        assert_eq!(o.code, Some(2), "{}", o.all());
        assert!(o.all().contains("mailboxes[0].name"), "{}", o.all());
        assert_no_controls(&o);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_or_full_stdout_is_never_a_panic() {
    let idp = Idp::start(Config::default()).await.unwrap();
    let silent = Fake::start(Answer::Nothing, |_| Answer::Nothing).await;
    let dir = tempfile::tempdir().unwrap();
    let body = account(idp.authority()) + &mailbox("imap", silent.port, None);
    let p = profile(dir.path(), &body);
    let ps = p.to_str().unwrap();
    let export = ["export", "--profile", ps, "--format", "toml"];

    // `mailcfg export … | head -0`: before, exit 101 with "panicked … Broken pipe".
    let o = run(mailcfg(&export).stdout(Stdout::Closed)).await;
    assert_eq!(o.code, Some(141), "{}", o.all());
    for loud in ["panicked", "Broken pipe", "error"] {
        assert!(!o.stderr.contains(loud), "quiet: {}", o.stderr);
    }

    // `> /dev/full`: before, export and token --show-token panicked, test exited 0.
    for (args, env) in [
        (export.to_vec(), None),
        (
            vec!["token", "--profile", ps, "--account", "app", "--show-token"],
            Some(defaults::APP_SECRET),
        ),
        (vec!["validate", ps], None),
        (vec!["test", "--profile", ps], None),
    ] {
        let mut m = mailcfg(&args).stdout(Stdout::Full);
        if let Some(secret) = env {
            m = m.env("MAILCFG_CLIENT_SECRET", secret);
        }
        let o = run(m).await;
        assert_eq!(o.code, Some(1), "{args:?}: {}", o.all());
        assert!(
            o.stderr.contains("cannot write to standard output"),
            "{args:?}: {}",
            o.stderr
        );
        assert!(!o.stderr.contains("panicked"), "{}", o.stderr);
        assert_absent(&o, &[defaults::APP_SECRET]);
    }
}
