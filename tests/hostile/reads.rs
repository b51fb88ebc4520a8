//! Items 1 and 7: replies that never end, or end too slowly, are bounded in lines, bytes and
//! time, and named: "the server flooded".

use std::time::Duration;

use super::support::defaults;
use super::support::fake::{Answer, Fake};
use super::support::idp::{Config, Idp};
use super::*;

fn pop3_flooding_capa() -> impl Fn(&str) -> Answer + Send + Sync + 'static {
    |l| match l {
        "CAPA" => Answer::Flood {
            first: b"+OK Capability list follows\r\n".to_vec(),
            line: b"X-ENDLESS-CAPABILITY\r\n".to_vec(),
        },
        _ => Answer::text("-ERR no\r\n"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pop3_capa_that_never_ends_is_stopped_as_a_flood() {
    let fake = Fake::start(
        Answer::text("+OK fake POP3 ready\r\n"),
        pop3_flooding_capa(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &mailbox("pop3", fake.port, None));
    let o = run(mailcfg(&[
        "test",
        "--profile",
        p.to_str().unwrap(),
        "--json",
    ]))
    .await;
    // Before: still running at 90 s with 2.7–4.8 GB resident.
    assert_bounded(&o, 3 * STEP);
    assert_eq!(o.code, Some(1), "{}", o.all());
    let r = report(&o);
    assert_eq!(r["diagnosis"]["kind"], "server_flooded", "{r}");
    assert_eq!(r["failure"]["symptom"], "flood", "{r}");
    assert_eq!(
        r["diagnosis"]["title"], "The server flooded the connection",
        "{r}"
    );
    let failed = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["status"] == "failed")
        .unwrap();
    assert_eq!(failed["step"], "capabilities");
    assert!(
        failed["detail"].as_str().unwrap().contains("flooded"),
        "{failed}"
    );
    assert_no_controls(&o);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_ehlo_that_never_ends_is_stopped_as_a_flood() {
    let fake = Fake::start(Answer::text("220 fake ESMTP\r\n"), |l| {
        if l.starts_with("EHLO") {
            Answer::Flood {
                first: b"250-fake\r\n".to_vec(),
                line: b"250-X-ENDLESS\r\n".to_vec(),
            }
        } else {
            Answer::text("221 bye\r\n")
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &transport(fake.port, defaults::MAILBOX, None));
    let o = run(mailcfg(&["test", "--profile", p.to_str().unwrap()])).await;
    assert_bounded(&o, 3 * STEP);
    assert_eq!(o.code, Some(1), "{}", o.all());
    assert!(
        o.stdout
            .contains("diagnosis: The server flooded the connection"),
        "{}",
        o.stdout
    );
    // The failed step's transcript is cut: first and last lines, and a count.
    assert!(
        o.stdout.contains("lines of this step left out"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.len() < 64 * 1024,
        "{} bytes of output",
        o.stdout.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reply_that_trickles_cannot_stretch_its_step() {
    // One line every second: each line comes well within the 3 s timeout, the reply never ends.
    let fake = Fake::start(Answer::text("+OK fake POP3 ready\r\n"), |l| match l {
        "CAPA" => Answer::Trickle {
            first: b"+OK Capability list follows\r\n".to_vec(),
            line: b"X-SLOW\r\n".to_vec(),
            every: Duration::from_secs(1),
        },
        _ => Answer::text("-ERR no\r\n"),
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &mailbox("pop3", fake.port, None));
    let o = run(mailcfg(&[
        "test",
        "--profile",
        p.to_str().unwrap(),
        "--json",
    ]))
    .await;
    // Before: a 3 s step stretched to 40 s. Now the step ends at its timeout.
    assert_bounded(&o, 3 * STEP);
    assert_eq!(o.code, Some(1), "{}", o.all());
    let r = report(&o);
    let caps = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "capabilities")
        .unwrap();
    assert_eq!(caps["status"], "failed", "{caps}");
    let ms = caps["elapsed_ms"].as_u64().unwrap();
    assert!(
        u128::from(ms) < STEP.as_millis() + 1000,
        "the step took {ms} ms with a {STEP:?} timeout"
    );
    assert!(
        caps["detail"]
            .as_str()
            .unwrap()
            .contains("did not end within 3 s"),
        "{caps}"
    );
    assert_eq!(r["diagnosis"]["title"], "No answer in time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_untagged_imap_lines_during_authenticate_is_cut_short() {
    let idp = Idp::start(Config::default()).await.unwrap();
    let fake = Fake::start(
        Answer::text("* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] fake IMAP ready\r\n"),
        |l| {
            if l.contains("AUTHENTICATE") {
                Answer::Flood {
                    first: Vec::new(),
                    line: b"* 1 EXISTS\r\n".to_vec(),
                }
            } else {
                Answer::Close
            }
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let body = account(idp.authority()) + &mailbox("imap", fake.port, Some("app"));
    let p = profile(dir.path(), &body);
    let human = mailcfg(&["test", "--profile", p.to_str().unwrap()])
        .env("MAILCFG_CLIENT_SECRET", defaults::APP_SECRET);
    let o = run(human).await;
    // Before: 388,000 lines, 17–25 MB printed, 160–200 MB resident for a 3 s timeout.
    assert_bounded(&o, 3 * STEP);
    assert_eq!(o.code, Some(1), "{}", o.all());
    assert!(
        o.stdout
            .contains("diagnosis: The server flooded the connection"),
        "{}",
        o.stdout
    );
    assert!(
        o.stdout.len() < 32 * 1024,
        "{} bytes printed",
        o.stdout.len()
    );
    let shown = o.stdout.matches("* 1 EXISTS").count();
    assert!((1..=2 * 20).contains(&shown), "{shown} flood lines shown");
    assert!(
        o.stdout.contains("lines of this step left out"),
        "{}",
        o.stdout
    );
    assert_absent(&o, &[defaults::APP_SECRET]);

    let json = mailcfg(&["test", "--profile", p.to_str().unwrap(), "--json"])
        .env("MAILCFG_CLIENT_SECRET", defaults::APP_SECRET);
    let o = run(json).await;
    assert_bounded(&o, 3 * STEP);
    let r = report(&o);
    let lines = r["transcript"].as_array().unwrap();
    assert!(lines.len() < 100, "{} transcript lines kept", lines.len());
    assert!(
        lines.iter().any(|l| l["text"]
            .as_str()
            .unwrap()
            .contains("lines of this step left out")),
        "{r}"
    );
}
