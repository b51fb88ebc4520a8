//! Item 2: no line break reaches an SMTP (or POP3) command: validation refuses it naming the
//! field (exit 2), `--send-to` is a `lettre::Address`, the probe refuses a credential that would
//! inject (nothing is sent), and the test message comes from lettre's builder.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use mailcfg::probe::{self, Credential, Options, Step, Symptom};
use mailcfg::profile::{Encryption, Mailbox, Protocol, Transport};
use secrecy::SecretString;

use super::support::fake::{Answer, Fake};
use super::*;

const INJECTED: &str = "shared@example.test>\r\nRCPT TO:<injected@evil.example";

/// An SMTP server that accepts everything, and a message through DATA.
async fn accepting_smtp() -> Fake {
    let in_data = Arc::new(AtomicBool::new(false));
    Fake::start(Answer::text("220 fake ESMTP\r\n"), move |l| {
        if in_data.load(Ordering::SeqCst) {
            if l == "." {
                in_data.store(false, Ordering::SeqCst);
                return Answer::text("250 2.0.0 queued\r\n");
            }
            return Answer::Nothing;
        }
        match l.split(' ').next().unwrap_or_default() {
            "EHLO" => Answer::text("250-fake\r\n250 8BITMIME\r\n"),
            "DATA" => {
                in_data.store(true, Ordering::SeqCst);
                Answer::text("354 go ahead\r\n")
            }
            "QUIT" => Answer::text("221 bye\r\n"),
            _ => Answer::text("250 OK\r\n"),
        }
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_username_with_a_line_break_is_refused_naming_the_field() {
    let fake = accepting_smtp().await;
    let dir = tempfile::tempdir().unwrap();
    let escaped = INJECTED.replace('\r', "\\r").replace('\n', "\\n");
    let p = profile(dir.path(), &transport(fake.port, &escaped, None));
    let o = run(mailcfg(&["validate", p.to_str().unwrap()])).await;
    // Before: valid, and the server received a separate RCPT TO:<injected@evil.example>.
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(o.stdout.contains("transports[0].username"), "{}", o.stdout);
    assert!(o.stdout.contains("control character"), "{}", o.stdout);
    assert_no_controls(&o);
    let o = run(mailcfg(&["test", "--profile", p.to_str().unwrap()])).await;
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(fake.seen().is_empty(), "the server got {:?}", fake.seen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_to_with_a_line_break_is_refused_before_anything_is_sent() {
    let fake = accepting_smtp().await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &transport(fake.port, defaults::MAILBOX, None));
    for bad in [
        "someone@example.test\r\nRCPT TO:<injected@evil.example>",
        "someone@example.test>\nTo: injected@evil.example",
        "Someone <someone@example.test>",
        "not an address",
    ] {
        let o = run(mailcfg(&[
            "test",
            "--profile",
            p.to_str().unwrap(),
            "--send-to",
            bad,
        ]))
        .await;
        assert_eq!(o.code, Some(2), "{bad:?}: {}", o.all());
        assert!(o.stderr.contains("--send-to"), "{}", o.stderr);
        assert_no_controls(&o);
    }
    assert!(fake.seen().is_empty(), "the server got {:?}", fake.seen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_name_that_would_inject_is_never_sent() {
    // Past validation (a library caller, or a name from a token): the probe refuses it itself.
    let smtp = accepting_smtp().await;
    let pop3 = Fake::start(Answer::text("+OK ready\r\n"), |l| match l {
        "CAPA" => Answer::text("+OK\r\nUSER\r\n.\r\n"),
        _ => Answer::text("+OK\r\n"),
    })
    .await;
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    let opts = Options {
        timeout: STEP,
        ..Options::default()
    };
    let password = || Credential::Password {
        user: INJECTED.to_owned(),
        password: SecretString::from("pw"),
    };
    let t = Transport {
        name: "smtp".into(),
        host: "127.0.0.1".into(),
        port: smtp.port,
        encryption: Encryption::None,
        auth: true,
        username: Some(INJECTED.into()),
        account: None,
    };
    let r = probe::test_transport(&t, password(), &opts, &tx).await;
    let m = Mailbox {
        name: "pop3".into(),
        protocol: Protocol::Pop3,
        host: "127.0.0.1".into(),
        port: pop3.port,
        encryption: Encryption::None,
        user: INJECTED.into(),
        account: None,
    };
    let r2 = probe::test_mailbox(&m, password(), &opts, &tx).await;
    for r in [&r, &r2] {
        assert!(!r.ok);
        assert_eq!(r.failed_step().unwrap().step, Step::Authenticate);
        assert_eq!(
            r.failure.as_ref().unwrap().symptom,
            Symptom::UnsafeValue {
                what: "sign-in name".into()
            }
        );
        assert!(
            !r.failed_step().unwrap().detail.contains('\r'),
            "{}",
            r.failed_step().unwrap().detail
        );
    }
    assert!(smtp.seen().is_empty(), "{:?}", smtp.seen());
    assert!(pop3.seen().is_empty(), "{:?}", pop3.seen());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_message_has_one_recipient_and_ends_as_data_must() {
    let fake = accepting_smtp().await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &transport(fake.port, defaults::MAILBOX, None));
    let o = run(mailcfg(&[
        "test",
        "--profile",
        p.to_str().unwrap(),
        "--send-to",
        "someone@example.test",
    ]))
    .await;
    assert_eq!(o.code, Some(0), "{}", o.all());
    let seen = fake.seen();
    let rcpts: Vec<&String> = seen.iter().filter(|l| l.starts_with("RCPT")).collect();
    assert_eq!(rcpts, ["RCPT TO:<someone@example.test>"], "{seen:?}");
    assert!(
        seen.contains(&format!("MAIL FROM:<{}>", defaults::MAILBOX)),
        "{seen:?}"
    );
    let data = seen.iter().position(|l| l == "DATA").unwrap();
    let end = seen.iter().rposition(|l| l == ".").unwrap();
    let message = &seen[data + 1..end];
    let to: Vec<&String> = message.iter().filter(|l| l.starts_with("To:")).collect();
    assert_eq!(to, ["To: someone@example.test"], "{message:?}");
    assert!(message.iter().any(|l| l.starts_with("Message-ID: <")));
    assert!(message.iter().any(|l| l.starts_with("Date: ")));
    // Dot-stuffed: no line of the message is a lone "." or starts with a single ".".
    assert!(
        message
            .iter()
            .all(|l| !l.starts_with('.') || l.starts_with("..")),
        "{message:?}"
    );
}
