//! The connection test against the real servers (Dovecot IMAP/POP3/submission with the test IdP),
//! and against small misbehaving servers written here for faults the real ones cannot show
//! (Exchange's own replies, silence, plain text where TLS is expected).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::many_single_char_names
)]

mod support;

use std::time::{Duration, Instant};

use mailcfg::diagnosis::{self, Evidence, Kind, Place, SignInSeen, TokenSeen};
use mailcfg::probe::{self, Credential, Dir, Event, Options, Report, Status, Step, TargetKind};
use mailcfg::profile::{
    Encryption, Flow, Mailbox, Profile, Protocol, Provider, Transport, presets,
};
use secrecy::{ExposeSecret as _, SecretString};
use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use support::{TestServers, defaults};

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;

fn mailbox(protocol: Protocol, port: u16, encryption: Encryption) -> Mailbox {
    Mailbox {
        name: format!("{protocol}-{port}"),
        protocol,
        host: "localhost".into(),
        port,
        encryption,
        user: defaults::MAILBOX.into(),
        account: Some("app".into()),
    }
}

fn transport(port: u16, encryption: Encryption) -> Transport {
    Transport {
        name: format!("smtp-{port}"),
        host: "localhost".into(),
        port,
        encryption,
        auth: true,
        username: Some(defaults::MAILBOX.into()),
        account: Some("app".into()),
    }
}

fn opts(s: &TestServers) -> Options {
    Options {
        timeout: Duration::from_secs(10),
        ca_file: Some(s.ca_file().to_owned()),
        send_to: None,
    }
}

fn xoauth2(token: &str) -> Credential {
    Credential::XOAuth2 {
        user: defaults::MAILBOX.into(),
        token: SecretString::from(token.to_owned()),
    }
}

fn app_token(s: &TestServers) -> String {
    s.idp
        .issue_app_token(defaults::APP_CLIENT_ID, "https://outlook.office365.com")
        .unwrap()
}

/// The report diagnosed as `mailcfg test` would: the profile holds this one target of the app-only
/// account "app", and the token of `cred` is the run's evidence.
fn diagnosed(mut r: Report, p: &Profile, cred: &Credential) -> Report {
    let seen = match cred {
        Credential::XOAuth2 { token, .. } | Credential::OAuthBearer { token, .. } => {
            Some(SignInSeen::Token(TokenSeen {
                claims: mailcfg::oauth::claims::decode(token.expose_secret())
                    .map_err(|e| e.to_string()),
                fetched_at: std::time::SystemTime::now(),
                expires_at: None,
                user: None,
            }))
        }
        _ => None,
    };
    let found = {
        let mut ev = Evidence::new(p, std::time::SystemTime::now());
        if let Some(s) = &seen {
            ev.sign_ins.push(("app", s));
        }
        ev.reports = vec![&r];
        diagnosis::for_run(&ev, &Place::Window)
    };
    diagnosis::assign(std::slice::from_mut(&mut r), &found);
    r
}

fn app_profile() -> Profile {
    let mut a = presets::account("app", Provider::Microsoft, Flow::AppOnly);
    a.client_id = defaults::APP_CLIENT_ID.into();
    a.tenant = Some(defaults::TENANT_ID.into());
    Profile {
        accounts: vec![a],
        ..Profile::default()
    }
}

async fn check_mailbox(m: &Mailbox, cred: Credential, o: &Options) -> (Report, Vec<Event>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut p = app_profile();
    p.mailboxes.push(m.clone());
    let report = diagnosed(
        probe::test_mailbox(m, cred.clone(), o, &tx).await,
        &p,
        &cred,
    );
    drop(tx);
    let mut events = Vec::new();
    while let Some(e) = rx.recv().await {
        events.push(e);
    }
    (report, events)
}

async fn check_transport(t: &Transport, cred: Credential, o: &Options) -> (Report, Vec<Event>) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut p = app_profile();
    p.transports.push(t.clone());
    let report = diagnosed(
        probe::test_transport(t, cred.clone(), o, &tx).await,
        &p,
        &cred,
    );
    drop(tx);
    let mut events = Vec::new();
    while let Some(e) = rx.recv().await {
        events.push(e);
    }
    (report, events)
}

/// The token (and its base64 forms) appear nowhere in what the probe hands out.
fn assert_no_secret(report: &Report, events: &[Event], token: &str) {
    use base64::Engine as _;
    let json = serde_json::to_string(report).unwrap() + &serde_json::to_string(events).unwrap();
    let debug = format!("{report:?}{events:?}");
    let sasl = base64::engine::general_purpose::STANDARD.encode(format!(
        "user={}\x01auth=Bearer {token}\x01\x01",
        defaults::MAILBOX
    ));
    for text in [&json, &debug] {
        assert!(!text.contains(token), "the token leaked: {text}");
        assert!(!text.contains(&sasl), "the SASL string leaked");
    }
}

fn step(r: &Report, step: Step) -> &Event {
    r.steps
        .iter()
        .find(|e| e.step == step)
        .unwrap_or_else(|| panic!("no step {step} in {:#?}", r.steps))
}

fn explain(r: &Report) -> String {
    let mut out = String::new();
    for e in &r.steps {
        let _ = writeln!(out, "{} {} {}", e.status, e.step, e.detail);
    }
    for l in &r.transcript {
        let _ = writeln!(out, "{l}");
    }
    let _ = write!(out, "{:#?}", r.diagnosis);
    out
}

fn assert_all_ok(r: &Report) {
    assert!(r.ok, "not ok:\n{}", explain(r));
    for e in &r.steps {
        // The test CA's certificates live a week: the TLS step warns of the near expiry.
        let few_days = e
            .detail
            .split_once(" days left)")
            .and_then(|(head, _)| head.rsplit('(').next()?.parse::<i64>().ok())
            .is_some_and(|d| d < 14);
        let expected = if e.step == Step::Tls && few_days {
            Status::Warning
        } else {
            Status::Ok
        };
        assert_eq!(e.status, expected, "{}", explain(r));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_over_tls_is_all_green_with_the_message_count() {
    let s = TestServers::start().await.unwrap();
    s.deliver(defaults::MAILBOX, "Subject: one\n\nbody\n")
        .unwrap();
    s.deliver(defaults::MAILBOX, "Subject: two\n\nbody\n")
        .unwrap();
    let token = app_token(&s);
    let m = mailbox(Protocol::Imap, s.ports.imaps, Encryption::Tls);
    let started = Instant::now();
    let (r, events) = check_mailbox(&m, xoauth2(&token), &opts(&s)).await;
    let took = started.elapsed();
    assert_all_ok(&r);
    assert_eq!(r.kind, TargetKind::Imap);
    let order: Vec<Step> = r.steps.iter().map(|e| e.step).collect();
    assert_eq!(
        order,
        [
            Step::Dns,
            Step::Connect,
            Step::Tls,
            Step::Greeting,
            Step::Capabilities,
            Step::Authenticate,
            Step::Mailbox,
            Step::Logout
        ]
    );
    assert_eq!(step(&r, Step::Mailbox).detail, "EXAMINE INBOX: 2 messages");
    let tls = &step(&r, Step::Tls).detail;
    assert!(tls.contains("TLS 1.3"), "{tls}");
    assert!(tls.contains("name matches \"localhost\""), "{tls}");
    assert!(tls.contains("expires"), "{tls}");
    assert!(step(&r, Step::Authenticate).detail.contains("SASL-IR"));
    // The masked SASL line, as the issue shows it.
    let shown = format!(
        "AUTHENTICATE XOAUTH2 <user={}, bearer token of {} bytes: masked>",
        defaults::MAILBOX,
        token
            .len()
            .to_string()
            .as_bytes()
            .rchunks(3)
            .rev()
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect::<Vec<_>>()
            .join(",")
    );
    assert!(
        r.transcript
            .iter()
            .any(|l| l.dir == Dir::Sent && l.text.ends_with(&shown)),
        "{}",
        explain(&r)
    );
    // Each step started (Running) and ended, in order.
    let running = events
        .iter()
        .filter(|e| e.status == Status::Running)
        .count();
    assert_eq!(running, r.steps.len());
    assert_no_secret(&r, &events, &token);
    eprintln!(
        "IMAP over TLS on loopback: {} ms (report total {} ms)",
        took.as_millis(),
        r.total.as_millis()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn imap_with_starttls_is_all_green() {
    let s = TestServers::start().await.unwrap();
    let token = app_token(&s);
    // 127.0.0.2: Dovecot wants STARTTLS before any AUTH there.
    let mut m = mailbox(Protocol::Imap, s.ports.imap_remote, Encryption::StartTls);
    m.host = "127.0.0.2".into();
    let (r, events) = check_mailbox(&m, xoauth2(&token), &opts(&s)).await;
    assert_all_ok(&r);
    let order: Vec<Step> = r.steps.iter().map(|e| e.step).collect();
    assert_eq!(
        order,
        [
            Step::Dns,
            Step::Connect,
            Step::Greeting,
            Step::Capabilities,
            Step::StartTls,
            Step::Tls,
            Step::Authenticate,
            Step::Mailbox,
            Step::Logout
        ]
    );
    assert_eq!(step(&r, Step::Mailbox).detail, "EXAMINE INBOX: 0 messages");
    assert!(step(&r, Step::Capabilities).detail.contains("XOAUTH2"));
    assert_no_secret(&r, &events, &token);
}

fn failed(r: &Report) -> &Event {
    r.failed_step()
        .unwrap_or_else(|| panic!("nothing failed:\n{}", explain(r)))
}

fn diagnosis_title(r: &Report) -> String {
    r.diagnosis
        .as_ref()
        .unwrap_or_else(|| panic!("no diagnosis:\n{}", explain(r)))
        .title
        .clone()
}

fn kind(r: &Report) -> Kind {
    r.diagnosis
        .as_ref()
        .unwrap_or_else(|| panic!("no diagnosis:\n{}", explain(r)))
        .kind
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_over_tls_and_stls_are_green() {
    let s = TestServers::start().await.unwrap();
    s.deliver(defaults::MAILBOX, "Subject: one\n\nbody\n")
        .unwrap();
    let token = app_token(&s);
    let m = mailbox(Protocol::Pop3, s.ports.pop3s, Encryption::Tls);
    let (r, events) = check_mailbox(&m, xoauth2(&token), &opts(&s)).await;
    assert_all_ok(&r);
    assert_eq!(r.kind, TargetKind::Pop3);
    assert!(
        step(&r, Step::Mailbox)
            .detail
            .starts_with("STAT: 1 message, "),
        "{}",
        explain(&r)
    );
    // Two-step AUTH: the mechanism alone, then the string on its own line.
    assert!(
        r.transcript
            .iter()
            .any(|l| l.dir == Dir::Sent && l.text == "AUTH XOAUTH2")
    );
    assert!(r.transcript.iter().any(|l| {
        l.dir == Dir::Sent
            && l.text
                .starts_with("<user=mailbox@example.test, bearer token of ")
    }));
    assert_no_secret(&r, &events, &token);

    let mut m = mailbox(Protocol::Pop3, s.ports.pop3_remote, Encryption::StartTls);
    m.host = "127.0.0.2".into();
    let (r, events) = check_mailbox(&m, xoauth2(&token), &opts(&s)).await;
    assert_all_ok(&r);
    assert!(r.steps.iter().any(|e| e.step == Step::StartTls));
    assert_no_secret(&r, &events, &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_submission_with_starttls_checks_the_recipient_without_sending() {
    let s = TestServers::start().await.unwrap();
    let token = app_token(&s);
    let mut t = transport(s.ports.submission_remote, Encryption::StartTls);
    t.host = "127.0.0.2".into();
    let (r, events) = check_transport(&t, xoauth2(&token), &opts(&s)).await;
    assert_all_ok(&r);
    assert_eq!(r.kind, TargetKind::Smtp);
    let order: Vec<Step> = r.steps.iter().map(|e| e.step).collect();
    assert_eq!(
        order,
        [
            Step::Dns,
            Step::Connect,
            Step::Greeting,
            Step::Capabilities,
            Step::StartTls,
            Step::Tls,
            Step::Authenticate,
            Step::Send,
            Step::Logout
        ]
    );
    assert!(step(&r, Step::Send).detail.contains("RSET"));
    assert!(
        r.transcript
            .iter()
            .any(|l| l.text == format!("RCPT TO:<{}>", defaults::MAILBOX))
    );
    assert_no_secret(&r, &events, &token);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(s.sink.messages().is_empty(), "nothing may be sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_with_send_to_delivers_a_test_message() {
    let s = TestServers::start().await.unwrap();
    let token = app_token(&s);
    let t = transport(s.ports.submission, Encryption::StartTls);
    let mut o = opts(&s);
    o.send_to = Some("someone@example.test".parse().unwrap());
    let (r, events) = check_transport(&t, xoauth2(&token), &o).await;
    assert_all_ok(&r);
    assert!(step(&r, Step::Send).detail.contains("DATA"));
    let got = s.sink.wait_for(1, Duration::from_secs(10)).await.unwrap();
    assert_eq!(got[0].rcpt_to, ["<someone@example.test>"]);
    assert!(got[0].data.contains("Subject: mailcfg test message"));
    assert_no_secret(&r, &events, &token);

    // Implicit TLS (submissions) too.
    let t = transport(s.ports.submissions, Encryption::Tls);
    let (r, _) = check_transport(&t, xoauth2(&token), &opts(&s)).await;
    assert_all_ok(&r);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauthbearer_works_too() {
    let s = TestServers::start().await.unwrap();
    let token = app_token(&s);
    let cred = Credential::OAuthBearer {
        user: defaults::MAILBOX.into(),
        token: SecretString::from(token.clone()),
    };
    let m = mailbox(Protocol::Imap, s.ports.imaps, Encryption::Tls);
    let (r, events) = check_mailbox(&m, cred, &opts(&s)).await;
    assert_all_ok(&r);
    assert!(r.transcript.iter().any(|l| {
        l.text
            .contains("AUTHENTICATE OAUTHBEARER <a=mailbox@example.test, bearer token of ")
    }));
    assert_no_secret(&r, &events, &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_another_audience_is_refused_with_the_decoded_challenge() {
    let s = TestServers::start().await.unwrap();
    let token = s
        .idp
        .issue_app_token(defaults::APP_CLIENT_ID, "https://graph.microsoft.com")
        .unwrap();
    let m = mailbox(Protocol::Imap, s.ports.imaps, Encryption::Tls);
    let (r, events) = check_mailbox(&m, xoauth2(&token), &opts(&s)).await;
    assert!(!r.ok);
    let f = failed(&r);
    assert_eq!(f.step, Step::Authenticate, "{}", explain(&r));
    assert!(f.detail.contains("[AUTHENTICATIONFAILED]"), "{}", f.detail);
    assert!(f.detail.contains(r#"{"status":"401""#), "{}", f.detail);
    // The token's own audience names the cause, not the server's words.
    assert_eq!(kind(&r), Kind::WrongResource, "{}", explain(&r));
    assert_eq!(step(&r, Step::Mailbox).status, Status::Skipped);
    assert_no_secret(&r, &events, &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_is_refused_on_smtp_and_pop3() {
    let s = TestServers::start().await.unwrap();
    // Born expired: the identity provider's lifetime of zero.
    s.idp.config(|c| c.token_lifetime = Duration::ZERO);
    let token = app_token(&s);
    let t = transport(s.ports.submission, Encryption::StartTls);
    let (r, events) = check_transport(&t, xoauth2(&token), &opts(&s)).await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Authenticate, "{}", explain(&r));
    assert!(f.detail.starts_with("535 5.7.8"), "{}", f.detail);
    assert_eq!(kind(&r), Kind::TokenExpired, "{}", explain(&r));
    assert_no_secret(&r, &events, &token);

    let m = mailbox(Protocol::Pop3, s.ports.pop3s, Encryption::Tls);
    let (r, events) = check_mailbox(&m, xoauth2(&token), &opts(&s)).await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Authenticate, "{}", explain(&r));
    assert!(f.detail.starts_with("-ERR"), "{}", f.detail);
    assert_eq!(kind(&r), Kind::TokenExpired, "{}", explain(&r));
    assert_no_secret(&r, &events, &token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_mailbox_fails_at_the_mailbox_step() {
    let s = TestServers::start().await.unwrap();
    let token = app_token(&s);
    s.make_mailbox_unreachable(defaults::MAILBOX).unwrap();
    let m = mailbox(Protocol::Imap, s.ports.imaps, Encryption::Tls);
    let (r, _) = check_mailbox(&m, xoauth2(&token), &opts(&s)).await;
    let f = failed(&r);
    // Dovecot's counterpart of Exchange's "authenticated but not connected".
    assert_eq!(f.step, Step::Mailbox, "{}", explain(&r));
    assert_eq!(step(&r, Step::Authenticate).status, Status::Ok);
    assert_eq!(kind(&r), Kind::MailboxGrantMissing, "{}", explain(&r));
    let d = r.diagnosis.as_ref().unwrap();
    assert!(
        d.commands
            .iter()
            .any(|c| c.contains("Add-MailboxPermission -Identity 'mailbox@example.test'")),
        "{d:#?}"
    );

    let m = mailbox(Protocol::Pop3, s.ports.pop3s, Encryption::Tls);
    let (r, _) = check_mailbox(&m, xoauth2(&token), &opts(&s)).await;
    assert!(!r.ok, "{}", explain(&r));
    assert_eq!(kind(&r), Kind::MailboxGrantMissing, "{}", explain(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mailbox_the_server_does_not_know_closes_after_sign_in() {
    let s = TestServers::start_with(support::Options {
        mailboxes_only: Some(vec!["other@example.test".into()]),
        ..support::Options::default()
    })
    .await
    .unwrap();
    let token = app_token(&s);
    let m = mailbox(Protocol::Imap, s.ports.imaps, Encryption::Tls);
    let (r, _) = check_mailbox(&m, xoauth2(&token), &opts(&s)).await;
    let f = failed(&r);
    assert!(
        f.detail.contains("closed the connection"),
        "{}",
        explain(&r)
    );
    assert_eq!(kind(&r), Kind::MailboxGrantMissing, "{}", explain(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_fails_the_tls_step() {
    let s = TestServers::start().await.unwrap();
    let m = mailbox(Protocol::Imap, s.ports.imaps, Encryption::Tls);
    let mut o = opts(&s);
    o.ca_file = Some(s.untrusted_ca().to_owned());
    let (r, _) = check_mailbox(&m, Credential::None, &o).await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Tls);
    assert!(
        f.detail.starts_with("certificate not trusted"),
        "{}",
        f.detail
    );
    assert!(
        f.detail.contains("issuer CN=mailcfg test CA"),
        "{}",
        f.detail
    );
    assert_eq!(diagnosis_title(&r), "Certificate not trusted");
    for later in [Step::Greeting, Step::Authenticate, Step::Mailbox] {
        assert_eq!(step(&r, later).status, Status::Skipped);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_on_a_starttls_port_and_the_reverse_are_named() {
    let s = TestServers::start().await.unwrap();
    let m = mailbox(Protocol::Imap, s.ports.imap, Encryption::Tls);
    let (r, _) = check_mailbox(&m, Credential::None, &opts(&s)).await;
    assert_eq!(failed(&r).step, Step::Tls, "{}", explain(&r));
    assert_eq!(
        r.diagnosis.as_ref().unwrap().fix,
        "This port expects STARTTLS; choose STARTTLS, or port 993 with TLS."
    );

    let m = mailbox(Protocol::Imap, s.ports.imaps, Encryption::StartTls);
    let mut o = opts(&s);
    o.timeout = Duration::from_millis(700);
    let started = Instant::now();
    let (r, _) = check_mailbox(&m, Credential::None, &o).await;
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(failed(&r).step, Step::Greeting, "{}", explain(&r));
    assert_eq!(diagnosis_title(&r), "This port expects implicit TLS");
    assert!(
        r.diagnosis
            .as_ref()
            .unwrap()
            .fix
            .contains("port 143 with STARTTLS")
    );

    let t = transport(s.ports.submissions, Encryption::StartTls);
    let (r, _) = check_transport(&t, Credential::None, &o).await;
    assert_eq!(diagnosis_title(&r), "This port expects implicit TLS");
}

#[tokio::test]
async fn a_closed_port_is_refused() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let mut m = mailbox(Protocol::Imap, port, Encryption::Tls);
    m.host = "127.0.0.1".into();
    let (r, _) = check_mailbox(&m, Credential::None, &Options::default()).await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Connect);
    assert_eq!(f.detail, format!("127.0.0.1:{port}: refused"));
    assert_eq!(diagnosis_title(&r), "Connection refused");
}

#[tokio::test]
async fn an_unknown_host_fails_at_dns() {
    let mut m = mailbox(Protocol::Imap, 993, Encryption::Tls);
    m.host = "no-such-host.invalid".into();
    let (r, _) = check_mailbox(&m, Credential::None, &Options::default()).await;
    assert_eq!(failed(&r).step, Step::Dns);
    assert_eq!(diagnosis_title(&r), "The server name does not resolve");
}

#[tokio::test]
async fn a_silent_server_times_out_at_the_greeting() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((c, _)) = l.accept().await {
            keep.lock().unwrap().push(c);
        }
    });
    for protocol in [Protocol::Imap, Protocol::Pop3] {
        let mut m = mailbox(protocol, port, Encryption::None);
        m.host = "127.0.0.1".into();
        let o = Options {
            timeout: Duration::from_millis(500),
            ..Options::default()
        };
        let started = Instant::now();
        let (r, _) = check_mailbox(&m, Credential::None, &o).await;
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        let f = failed(&r);
        assert_eq!(f.step, Step::Greeting);
        assert!(f.detail.contains("sent no"), "{}", f.detail);
        assert_eq!(diagnosis_title(&r), "No greeting");
    }
}

type Seen = Arc<Mutex<Vec<String>>>;

/// A small misbehaving server for faults the real ones cannot show: sends `greeting`, then
/// answers each line with `answer(line)`: `Some(reply)` (may hold several lines), or `None` to
/// close. Returns its port and the lines it received.
async fn fake(
    greeting: &'static str,
    answer: impl Fn(&str) -> Option<String> + Send + Sync + 'static,
) -> (u16, Seen) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((c, _)) = l.accept().await {
            let log = log.clone();
            let answer = answer.clone();
            tokio::spawn(async move {
                let (r, mut w) = c.into_split();
                let mut r = BufReader::new(r);
                w.write_all(greeting.as_bytes()).await.unwrap();
                let mut line = String::new();
                while r.read_line(&mut line).await.unwrap_or(0) > 0 {
                    let l = line.trim_end().to_owned();
                    log.lock().unwrap().push(l.clone());
                    let Some(reply) = answer(&l) else { break };
                    if w.write_all(reply.as_bytes()).await.is_err() {
                        break;
                    }
                    line.clear();
                }
            });
        }
    });
    (port, seen)
}

fn plain_mailbox(protocol: Protocol, port: u16) -> Mailbox {
    let mut m = mailbox(protocol, port, Encryption::None);
    m.host = "127.0.0.1".into();
    m
}

fn quick() -> Options {
    Options {
        timeout: Duration::from_secs(3),
        ..Options::default()
    }
}

fn tag(line: &str) -> &str {
    line.split(' ').next().unwrap_or("*")
}

#[tokio::test]
async fn exchange_smtp_auth_disabled_gets_the_admin_commands() {
    let (port, _) = fake("220 fake.outlook.test ready\r\n", |l| {
        Some(if l.starts_with("EHLO") {
            "250-fake.outlook.test\r\n250-AUTH LOGIN XOAUTH2\r\n250 8BITMIME\r\n".into()
        } else if l.starts_with("AUTH") {
            "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. [AM0PR01CA0000.eurprd01.prod.exchangelabs.com]\r\n".into()
        } else {
            "221 bye\r\n".into()
        })
    })
    .await;
    let mut t = transport(port, Encryption::None);
    t.host = "127.0.0.1".into();
    let token = "eyJ0eXAi.fake-token-for-the-fake-server.sig";
    let (r, events) = check_transport(&t, xoauth2(token), &quick()).await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Authenticate);
    assert!(f.detail.starts_with(
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled"
    ));
    let d = r.diagnosis.as_ref().unwrap();
    assert_eq!(d.kind, Kind::SmtpAuthDisabledTenant);
    assert!(d.commands.contains(&"Set-CASMailbox -Identity 'mailbox@example.test' -SmtpClientAuthenticationDisabled $false".to_owned()), "{d:#?}");
    assert!(
        d.commands
            .contains(&"Set-TransportConfig -SmtpClientAuthenticationDisabled $false".to_owned())
    );
    assert_no_secret(&r, &events, token);
}

#[tokio::test]
async fn exchange_authenticated_but_not_connected_at_examine() {
    let (port, _) = fake(
        "* OK The Microsoft Exchange IMAP4 service is ready. [fake]\r\n",
        |l| {
            let t = tag(l);
            Some(if l.contains("CAPABILITY") {
                format!("* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS MOVE ID UNSELECT CHILDREN IDLE NAMESPACE LITERAL+\r\n{t} OK CAPABILITY completed.\r\n")
            } else if l.contains("AUTHENTICATE") {
                format!("{t} OK AUTHENTICATE completed.\r\n")
            } else if l.contains("EXAMINE") || l.contains("SELECT") {
                format!("{t} BAD User is authenticated but not connected.\r\n")
            } else {
                format!("* BYE\r\n{t} OK LOGOUT completed.\r\n")
            })
        },
    )
    .await;
    let token = "fake-token-1234567890";
    let (r, events) = check_mailbox(
        &plain_mailbox(Protocol::Imap, port),
        xoauth2(token),
        &quick(),
    )
    .await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Mailbox, "{}", explain(&r));
    assert_eq!(
        f.detail,
        "EXAMINE INBOX: A0003 BAD User is authenticated but not connected."
    );
    let d = r.diagnosis.as_ref().unwrap();
    assert_eq!(d.kind, Kind::MailboxGrantMissing, "{d:#?}");
    assert!(
        d.commands
            .iter()
            .any(|c| c.contains("-AccessRights FullAccess"))
    );
    // With one mailbox, a service principal registered with the wrong object ID looks the same.
    assert!(
        d.alternatives
            .iter()
            .any(|a| a.kind == Kind::ServicePrincipalWrongObjectId),
        "{d:#?}"
    );
    assert_no_secret(&r, &events, token);
}

#[tokio::test]
async fn gmail_style_error_challenge_is_answered_decoded_and_explained() {
    use base64::Engine as _;
    let json = r#"{"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"}"#;
    let challenge = base64::engine::general_purpose::STANDARD.encode(json);
    let (port, seen) = fake("220 smtp.gmail.test ESMTP ready\r\n", move |l| {
        Some(if l.starts_with("EHLO") {
            "250-smtp.gmail.test at your service\r\n250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER XOAUTH\r\n250 SMTPUTF8\r\n".into()
        } else if l.starts_with("AUTH") {
            format!("334 {challenge}\r\n")
        } else if l.is_empty() {
            "535-5.7.8 Username and Password not accepted. For more information, go to\r\n535 5.7.8  https://support.google.com/mail/?p=BadCredentials\r\n".into()
        } else {
            "221 bye\r\n".into()
        })
    })
    .await;
    let mut t = transport(port, Encryption::None);
    t.host = "127.0.0.1".into();
    let token = "ya29.fake-google-token";
    let (r, events) = check_transport(&t, xoauth2(token), &quick()).await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Authenticate);
    assert!(f.detail.contains(json), "{}", f.detail);
    // The empty answer that makes the server send its final reply.
    assert!(seen.lock().unwrap().iter().any(String::is_empty));
    assert!(
        r.transcript
            .iter()
            .any(|l| l.dir == Dir::Info && l.text.contains(json))
    );
    let d = r.diagnosis.as_ref().unwrap();
    assert_eq!(
        d.kind,
        Kind::TokenRefused,
        "an opaque token: nothing narrows it"
    );
    assert!(
        d.evidence
            .iter()
            .any(|e| e.contains("status 400") && e.contains("https://mail.google.com/")),
        "{d:?}"
    );
    assert_no_secret(&r, &events, token);
}

#[tokio::test]
async fn pop3_auth_is_two_steps_and_exchange_refusal_is_explained() {
    let (port, seen) = fake(
        "+OK The Microsoft Exchange POP3 service is ready.\r\n",
        |l| {
            Some(if l == "CAPA" {
                "+OK\r\nTOP\r\nUIDL\r\nSASL PLAIN XOAUTH2\r\nUSER\r\n.\r\n".into()
            } else if l == "AUTH XOAUTH2" {
                "+ \r\n".into()
            } else if l.starts_with("AUTH") {
                // A one-line AUTH gets Exchange's protocol error.
                "-ERR Protocol error. 14\r\n".into()
            } else if l.starts_with("QUIT") {
                "+OK bye\r\n".into()
            } else {
                "-ERR Authentication failure: unknown user name or bad password.\r\n".into()
            })
        },
    )
    .await;
    let token = "fake-pop-token";
    let (r, events) = check_mailbox(
        &plain_mailbox(Protocol::Pop3, port),
        xoauth2(token),
        &quick(),
    )
    .await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Authenticate, "{}", explain(&r));
    assert_eq!(
        f.detail,
        "-ERR Authentication failure: unknown user name or bad password."
    );
    assert_eq!(seen.lock().unwrap()[1], "AUTH XOAUTH2");
    assert_eq!(kind(&r), Kind::TokenRefused, "{}", explain(&r));
    assert_no_secret(&r, &events, token);
}

#[tokio::test]
async fn garbage_and_a_connection_closed_during_sign_in_end_cleanly() {
    let (port, _) = fake("HTTP/1.1 400 Bad Request\r\n", |_| None).await;
    let (r, _) = check_mailbox(
        &plain_mailbox(Protocol::Imap, port),
        Credential::None,
        &quick(),
    )
    .await;
    assert_eq!(failed(&r).step, Step::Greeting, "{}", explain(&r));
    assert_eq!(diagnosis_title(&r), "The server does not speak IMAP");

    let (port, _) = fake("+OK ready\r\n", |l| {
        if l == "CAPA" {
            Some("+OK\r\nSASL XOAUTH2\r\n.\r\n".into())
        } else if l.starts_with("AUTH") {
            Some("+ \r\n".into())
        } else {
            None
        }
    })
    .await;
    let (r, _) = check_mailbox(
        &plain_mailbox(Protocol::Pop3, port),
        xoauth2("t-1"),
        &quick(),
    )
    .await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Authenticate, "{}", explain(&r));
    assert!(f.detail.contains("closed the connection"));
}

#[tokio::test]
async fn a_server_trickling_one_byte_at_a_time_ends_within_the_timeout() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut c, _)) = l.accept().await {
            tokio::spawn(async move {
                for b in b"* OK slow server ready\r\n" {
                    if c.write_all(&[*b]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            });
        }
    });
    let o = Options {
        timeout: Duration::from_secs(1),
        ..Options::default()
    };
    let started = Instant::now();
    let (r, _) = check_mailbox(&plain_mailbox(Protocol::Imap, port), Credential::None, &o).await;
    assert!(started.elapsed() < Duration::from_secs(4));
    assert_eq!(failed(&r).step, Step::Greeting, "{}", explain(&r));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_sign_in_is_masked_too() {
    let s = TestServers::start().await.unwrap();
    let password = support::PLAIN_PASSWORD;
    let cred = || Credential::Password {
        user: defaults::MAILBOX.into(),
        password: SecretString::from(password.to_owned()),
    };
    let m = mailbox(Protocol::Imap, s.ports.imaps, Encryption::Tls);
    let (r, events) = check_mailbox(&m, cred(), &opts(&s)).await;
    assert_all_ok(&r);
    assert!(
        r.transcript.iter().any(|l| l
            .text
            .contains("AUTHENTICATE PLAIN <user=mailbox@example.test, password: masked>")),
        "{}",
        explain(&r)
    );
    let m = mailbox(Protocol::Pop3, s.ports.pop3s, Encryption::Tls);
    let (r2, events2) = check_mailbox(&m, cred(), &opts(&s)).await;
    assert_all_ok(&r2);
    assert!(
        r2.transcript
            .iter()
            .any(|l| l.text == "PASS <password: masked>"),
        "{}",
        explain(&r2)
    );
    let t = transport(s.ports.submissions, Encryption::Tls);
    let (r3, events3) = check_transport(&t, cred(), &opts(&s)).await;
    assert_all_ok(&r3);
    for (r, e) in [(&r, &events), (&r2, &events2), (&r3, &events3)] {
        let all = serde_json::to_string(r).unwrap() + &serde_json::to_string(e).unwrap();
        assert!(!all.contains(password), "the password leaked");
    }
}

/// The round trips of a successful test, after TCP and TLS: every line the probe sends waits for
/// one answer, except the SMTP pipeline (three commands, one wait).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trips_are_few() {
    let s = TestServers::start().await.unwrap();
    let token = app_token(&s);
    let sent = |r: &Report| -> Vec<String> {
        r.transcript
            .iter()
            .filter(|l| l.dir == Dir::Sent)
            .map(|l| l.text.split(' ').take(2).collect::<Vec<_>>().join(" "))
            .collect()
    };
    let m = mailbox(Protocol::Imap, s.ports.imaps, Encryption::Tls);
    let (r, _) = check_mailbox(&m, xoauth2(&token), &opts(&s)).await;
    assert_eq!(
        sent(&r),
        ["A0001 AUTHENTICATE", "A0002 EXAMINE", "A0003 LOGOUT"]
    );
    let m = mailbox(Protocol::Pop3, s.ports.pop3s, Encryption::Tls);
    let (r, _) = check_mailbox(&m, xoauth2(&token), &opts(&s)).await;
    assert_eq!(
        sent(&r),
        [
            "CAPA",
            "AUTH XOAUTH2",
            "<user=mailbox@example.test, bearer",
            "STAT",
            "QUIT"
        ]
    );
    let t = transport(s.ports.submissions, Encryption::Tls);
    let (r, _) = check_transport(&t, xoauth2(&token), &opts(&s)).await;
    // The token makes the AUTH line longer than 500 octets: the string follows on its own line.
    assert_eq!(
        sent(&r),
        [
            "EHLO mailcfg.localhost",
            "AUTH XOAUTH2",
            "<user=mailbox@example.test, bearer",
            "MAIL FROM:<mailbox@example.test>",
            "RCPT TO:<mailbox@example.test>",
            "RSET",
            "QUIT"
        ]
    );
    assert!(step(&r, Step::Send).detail.contains("pipelined"));
}

#[tokio::test]
async fn a_token_is_not_sent_in_clear_text_to_another_computer() {
    // This computer's own non-loopback address (no packet is sent to find it).
    let Some(ip) = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|u| u.connect("192.0.2.1:9").map(|()| u))
        .and_then(|u| u.local_addr())
        .ok()
        .map(|a| a.ip())
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
    else {
        eprintln!("no non-loopback address here: skipped");
        return;
    };
    let l = TcpListener::bind((ip, 0)).await.unwrap();
    let port = l.local_addr().unwrap().port();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((c, _)) = l.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let (r, mut w) = c.into_split();
                let mut r = BufReader::new(r);
                w.write_all(b"* OK [CAPABILITY IMAP4rev1 SASL-IR AUTH=XOAUTH2] ready\r\n")
                    .await
                    .unwrap();
                let mut line = String::new();
                while r.read_line(&mut line).await.unwrap_or(0) > 0 {
                    log.lock().unwrap().push(line.clone());
                    line.clear();
                }
            });
        }
    });
    let mut m = mailbox(Protocol::Imap, port, Encryption::None);
    m.host = ip.to_string();
    let token = "token-that-must-stay-home";
    let (r, _) = check_mailbox(&m, xoauth2(token), &quick()).await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Authenticate, "{}", explain(&r));
    assert_eq!(diagnosis_title(&r), "Sign-in without encryption refused");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .all(|l| !l.contains("AUTHENTICATE"))
    );
}

/// The time of one full profile test on loopback (IMAP, POP3, SMTP at once), median of 20.
/// `cargo test --test probe -- --ignored --nocapture full_profile_median`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn full_profile_median_of_20() {
    use mailcfg::probe::batch::{Job, Target, run_all};
    let s = TestServers::start().await.unwrap();
    let token = app_token(&s);
    let jobs = vec![
        Job {
            target: Target::Mailbox(mailbox(Protocol::Imap, s.ports.imaps, Encryption::Tls)),
            cred: xoauth2(&token),
        },
        Job {
            target: Target::Mailbox(mailbox(Protocol::Pop3, s.ports.pop3s, Encryption::Tls)),
            cred: xoauth2(&token),
        },
        Job {
            target: Target::Transport(transport(s.ports.submission, Encryption::StartTls)),
            cred: xoauth2(&token),
        },
    ];
    let o = opts(&s);
    let mut times = Vec::new();
    for _ in 0..20 {
        let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
        let started = Instant::now();
        let reports = run_all(jobs.clone(), &o, 8, &tx).await;
        times.push(started.elapsed());
        assert!(reports.iter().all(|r| r.ok));
    }
    times.sort();
    eprintln!(
        "full profile (IMAP TLS + POP3 TLS + SMTP STARTTLS at once) on loopback: median {} ms, min {} ms, max {} ms",
        times[10].as_millis(),
        times[0].as_millis(),
        times[19].as_millis()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_without_xoauth2_says_so_before_sending_the_token() {
    let s = TestServers::start_with(support::Options {
        auth_mechanisms: "plain".into(),
        ..support::Options::default()
    })
    .await
    .unwrap();
    let token = app_token(&s);
    let m = mailbox(Protocol::Imap, s.ports.imaps, Encryption::Tls);
    let (r, events) = check_mailbox(&m, xoauth2(&token), &opts(&s)).await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Authenticate, "{}", explain(&r));
    assert_eq!(
        f.detail,
        "the server does not offer XOAUTH2 (it offers: PLAIN)"
    );
    assert_eq!(diagnosis_title(&r), "XOAUTH2 not offered");
    assert!(!r.transcript.iter().any(|l| l.text.contains("AUTHENTICATE")));
    assert_no_secret(&r, &events, &token);

    let t = transport(s.ports.submission, Encryption::StartTls);
    let (r, _) = check_transport(&t, xoauth2(&token), &opts(&s)).await;
    assert_eq!(diagnosis_title(&r), "XOAUTH2 not offered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_oauthbearer_token_gets_its_final_reply() {
    let s = TestServers::start().await.unwrap();
    let token = app_token(&s);
    s.idp.revoke_all();
    let cred = Credential::OAuthBearer {
        user: defaults::MAILBOX.into(),
        token: SecretString::from(token.clone()),
    };
    let t = transport(s.ports.submission, Encryption::StartTls);
    let (r, events) = check_transport(&t, cred, &opts(&s)).await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Authenticate, "{}", explain(&r));
    // RFC 7628: the error challenge is answered with `AQ==` (0x01), then the final reply comes.
    assert!(
        r.transcript
            .iter()
            .any(|l| l.dir == Dir::Sent && l.text == "AQ==")
    );
    assert!(f.detail.starts_with("535 5.7.8"), "{}", f.detail);
    assert!(f.detail.contains("invalid_token"), "{}", f.detail);
    // Revoked behind the token's back: its claims look right, so Exchange's set-up is suspected.
    assert_eq!(kind(&r), Kind::ServicePrincipalMissing, "{}", explain(&r));
    assert_no_secret(&r, &events, &token);
}

#[tokio::test]
async fn starttls_not_offered_stops_before_sign_in() {
    let (port, _) = fake(
        "* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] plain only\r\n",
        |l| Some(format!("{} BAD unexpected\r\n", tag(l))),
    )
    .await;
    let mut m = plain_mailbox(Protocol::Imap, port);
    m.encryption = Encryption::StartTls;
    let (r, _) = check_mailbox(&m, xoauth2("tok-x"), &quick()).await;
    let f = failed(&r);
    assert_eq!(f.step, Step::StartTls, "{}", explain(&r));
    assert_eq!(diagnosis_title(&r), "STARTTLS not offered");
    assert_eq!(step(&r, Step::Authenticate).status, Status::Skipped);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_for_another_name_is_said_plainly() {
    // A name of this computer, other than localhost, that reaches 127.0.0.1 (the test
    // certificate names only localhost, 127.0.0.1 and 127.0.0.2).
    let mut candidates: Vec<String> = vec!["vm".into(), "runsc".into()];
    if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
        candidates.insert(0, h.trim().to_owned());
    }
    let mut name = None;
    for c in candidates
        .into_iter()
        .filter(|c| !c.is_empty() && c != "localhost")
    {
        let here = tokio::net::lookup_host((c.as_str(), 1))
            .await
            .is_ok_and(|mut addrs| addrs.any(|a| a.ip() == std::net::Ipv4Addr::LOCALHOST));
        if here {
            name = Some(c);
            break;
        }
    }
    let Some(name) = name else {
        eprintln!("no other name for 127.0.0.1 here: skipped");
        return;
    };
    let s = TestServers::start().await.unwrap();
    let mut m = mailbox(Protocol::Imap, s.ports.imaps, Encryption::Tls);
    m.host = name.clone();
    let (r, _) = check_mailbox(&m, Credential::None, &opts(&s)).await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Tls, "{}", explain(&r));
    assert!(
        f.detail
            .starts_with(&format!("certificate is for another name, not \"{name}\"")),
        "{}",
        f.detail
    );
    assert!(f.detail.contains("subject CN=localhost"), "{}", f.detail);
    assert_eq!(diagnosis_title(&r), "Certificate is for another name");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_for_another_user_is_refused() {
    let s = TestServers::start().await.unwrap();
    let token = app_token(&s);
    let m = mailbox(Protocol::Imap, s.ports.imaps, Encryption::Tls);
    let cred = Credential::XOAuth2 {
        user: "someone.else@example.test".into(),
        token: SecretString::from(token.clone()),
    };
    let (r, events) = check_mailbox(&m, cred, &opts(&s)).await;
    assert_eq!(failed(&r).step, Step::Authenticate, "{}", explain(&r));
    // One target alone cannot tell a missing service principal from a missing mailbox grant:
    // both are said, with what tells them apart.
    let d = r.diagnosis.as_ref().unwrap();
    assert_eq!(d.kind, Kind::ServicePrincipalMissing, "{d:#?}");
    assert!(
        d.alternatives
            .iter()
            .any(|a| a.kind == Kind::MailboxGrantMissing),
        "{d:#?}"
    );
    assert_no_secret(&r, &events, &token);
}

#[tokio::test]
async fn dropping_the_test_cancels_it_at_once() {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((c, _)) = l.accept().await {
            keep.lock().unwrap().push(c);
        }
    });
    let m = plain_mailbox(Protocol::Imap, port);
    let o = Options::default(); // 15 s per step
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let started = Instant::now();
    let test = probe::test_mailbox(&m, Credential::None, &o, &tx);
    assert!(
        tokio::time::timeout(Duration::from_millis(300), test)
            .await
            .is_err()
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    drop(tx);
    let mut last = None;
    while let Some(e) = rx.recv().await {
        last = Some(e);
    }
    // It was waiting for the greeting when dropped.
    let last = last.unwrap();
    assert_eq!((last.step, last.status), (Step::Greeting, Status::Running));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_mailboxes_run_at_once_within_the_bound() {
    use mailcfg::probe::batch::{Job, Target, run_all};
    let s = TestServers::start().await.unwrap();
    let token = app_token(&s);
    let jobs: Vec<Job> = (0..6)
        .map(|i| {
            let mut m = mailbox(Protocol::Imap, s.ports.imaps, Encryption::Tls);
            m.name = format!("box {i}");
            Job {
                target: Target::Mailbox(m),
                cred: xoauth2(&token),
            }
        })
        .collect();
    // One at a time: each test's events come together.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let reports = run_all(jobs.clone(), &opts(&s), 1, &tx).await;
    drop(tx);
    assert_eq!(reports.len(), 6);
    assert!(reports.iter().all(|r| r.ok));
    let names: Vec<&str> = reports.iter().map(|r| r.target.as_str()).collect();
    assert_eq!(
        names,
        ["box 0", "box 1", "box 2", "box 3", "box 4", "box 5"]
    );
    let mut order = Vec::new();
    while let Some(e) = rx.recv().await {
        if order.last() != Some(&e.target) {
            order.push(e.target);
        }
    }
    assert_eq!(
        order.len(),
        6,
        "tests overlapped with concurrency 1: {order:?}"
    );
    // All at once: they overlap.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let reports = run_all(jobs, &opts(&s), 8, &tx).await;
    drop(tx);
    assert!(reports.iter().all(|r| r.ok));
    let mut switches = 0;
    let mut prev = String::new();
    while let Some(e) = rx.recv().await {
        if e.target != prev {
            switches += 1;
            prev = e.target;
        }
    }
    assert!(switches > 6, "tests did not overlap with concurrency 8");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_certificate_is_said_plainly() {
    let s = TestServers::start().await.unwrap();
    // The test CA signs the servers' request again, valid for no time at all.
    let dir = s.dir();
    support::pki::openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "0",
            "-extfile",
            "server.ext",
            "-out",
            "expired.pem",
        ],
    )
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let acceptor =
        support::tls::acceptor(&dir.join("expired.pem"), &dir.join("server.key")).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((c, _)) = l.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                if let Ok(mut tls) = acceptor.accept(c).await {
                    let _ = tls.write_all(b"* OK ready\r\n").await;
                }
            });
        }
    });
    let m = mailbox(Protocol::Imap, port, Encryption::Tls);
    let (r, _) = check_mailbox(&m, Credential::None, &opts(&s)).await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Tls, "{}", explain(&r));
    assert!(f.detail.starts_with("certificate expired"), "{}", f.detail);
    assert!(f.detail.contains("subject CN=localhost"), "{}", f.detail);
    assert_eq!(diagnosis_title(&r), "Certificate expired");
}

#[tokio::test]
async fn smtp_password_sign_in_uses_login_where_plain_is_not_offered() {
    use base64::Engine as _;
    let b64 = |v: &str| base64::engine::general_purpose::STANDARD.encode(v);
    let password = "pa\"ss\\word";
    let (user_b64, pass_b64) = (b64(defaults::MAILBOX), b64(password));
    // Exchange Online offers `AUTH LOGIN XOAUTH2`.
    let (port, seen) = fake("220 fake.outlook.test ready\r\n", move |l| {
        Some(if l.starts_with("EHLO") {
            "250-fake.outlook.test\r\n250-AUTH LOGIN XOAUTH2\r\n250 PIPELINING\r\n".into()
        } else if l == "AUTH LOGIN" {
            "334 VXNlcm5hbWU6\r\n".into()
        } else if l == user_b64 {
            "334 UGFzc3dvcmQ6\r\n".into()
        } else if l == pass_b64 {
            "235 2.7.0 Authentication successful\r\n".into()
        } else if l.starts_with("QUIT") {
            "221 2.0.0 Service closing transmission channel\r\n".into()
        } else {
            "250 2.0.0 OK\r\n".into()
        })
    })
    .await;
    let cred = Credential::Password {
        user: defaults::MAILBOX.into(),
        password: SecretString::from(password.to_owned()),
    };
    let mut t = transport(port, Encryption::None);
    t.host = "127.0.0.1".into();
    let (r, events) = check_transport(&t, cred, &quick()).await;
    assert!(r.ok, "{}", explain(&r));
    assert!(
        step(&r, Step::Authenticate)
            .detail
            .starts_with("LOGIN accepted")
    );
    assert!(
        r.transcript.iter().any(|l| l.text == "<password: masked>"),
        "{}",
        explain(&r)
    );
    assert_eq!(seen.lock().unwrap()[1], "AUTH LOGIN");
    // Raw texts (JSON would escape the quote and the backslash, hiding a leak).
    let mut texts: Vec<&str> = r.transcript.iter().map(|l| l.text.as_str()).collect();
    for e in r.steps.iter().chain(&events) {
        texts.push(&e.detail);
        texts.extend(e.transcript.iter().map(|l| l.text.as_str()));
    }
    for t in texts {
        assert!(
            !t.contains(password) && !t.contains(&b64(password)),
            "leaked: {t}"
        );
    }
}

#[tokio::test]
async fn imap_login_with_a_quoted_password_is_masked() {
    let password = "pa\"ss\\word";
    let (port, seen) = fake("* OK [CAPABILITY IMAP4rev1] ready\r\n", |l| {
        let t = tag(l);
        Some(if l.contains(" LOGIN ") {
            format!("{t} OK LOGIN completed\r\n")
        } else if l.contains("EXAMINE") {
            format!("* 3 EXISTS\r\n* 0 RECENT\r\n{t} OK [READ-ONLY] EXAMINE completed\r\n")
        } else {
            format!("* BYE\r\n{t} OK LOGOUT completed\r\n")
        })
    })
    .await;
    let cred = Credential::Password {
        user: defaults::MAILBOX.into(),
        password: SecretString::from(password.to_owned()),
    };
    let (r, events) = check_mailbox(&plain_mailbox(Protocol::Imap, port), cred, &quick()).await;
    assert!(r.ok, "{}", explain(&r));
    assert_eq!(step(&r, Step::Mailbox).detail, "EXAMINE INBOX: 3 messages");
    // The server got the escaped form; the transcript shows neither.
    assert!(
        seen.lock()
            .unwrap()
            .iter()
            .any(|l| l.contains(r#""pa\"ss\\word""#))
    );
    let mut texts: Vec<&str> = r.transcript.iter().map(|l| l.text.as_str()).collect();
    for e in r.steps.iter().chain(&events) {
        texts.extend(e.transcript.iter().map(|l| l.text.as_str()));
    }
    assert!(
        texts
            .iter()
            .any(|t| t.ends_with("LOGIN \"mailbox@example.test\" \"<password: masked>\"")),
        "{}",
        explain(&r)
    );
    for t in texts {
        assert!(
            !t.contains("pa\\\"ss") && !t.contains(password),
            "leaked: {t}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pop3_and_smtp_port_mix_ups_are_named_too() {
    let s = TestServers::start().await.unwrap();
    let m = mailbox(Protocol::Pop3, s.ports.pop3, Encryption::Tls);
    let (r, _) = check_mailbox(&m, Credential::None, &opts(&s)).await;
    assert_eq!(
        r.diagnosis.as_ref().unwrap().fix,
        "This port expects STARTTLS; choose STARTTLS, or port 995 with TLS.",
        "{}",
        explain(&r)
    );
    let t = transport(s.ports.submission, Encryption::Tls);
    let (r, _) = check_transport(&t, Credential::None, &opts(&s)).await;
    assert_eq!(
        r.diagnosis.as_ref().unwrap().fix,
        "This port expects STARTTLS; choose STARTTLS, or port 465 with TLS.",
        "{}",
        explain(&r)
    );
    let mut o = opts(&s);
    o.timeout = Duration::from_millis(700);
    let m = mailbox(Protocol::Pop3, s.ports.pop3s, Encryption::StartTls);
    let (r, _) = check_mailbox(&m, Credential::None, &o).await;
    assert!(
        r.diagnosis
            .as_ref()
            .unwrap()
            .fix
            .contains("port 110 with STARTTLS"),
        "{}",
        explain(&r)
    );
}

#[tokio::test]
async fn bytes_sent_with_the_starttls_answer_are_refused_as_a_possible_injection() {
    // A server (or a man in the middle) that answers STARTTLS and appends a reply in clear text:
    // it would be read as if it came over TLS (CVE-2011-0411 class). The test must stop there.
    let (port, seen) = fake("220 fake.example ready\r\n", |l| {
        Some(if l.starts_with("EHLO") {
            "250-fake.example\r\n250-STARTTLS\r\n250 AUTH XOAUTH2\r\n".into()
        } else if l == "STARTTLS" {
            "220 2.0.0 Ready to start TLS\r\n235 2.7.0 injected before TLS\r\n".into()
        } else {
            "221 bye\r\n".into()
        })
    })
    .await;
    let mut t = transport(port, Encryption::StartTls);
    t.host = "127.0.0.1".into();
    let token = "eyJ0eXAi.fake-token-for-the-injection-test.sig";
    let (r, _) = check_transport(&t, xoauth2(token), &quick()).await;
    let f = failed(&r);
    assert_eq!(f.step, Step::Tls, "{:#?}", r.steps);
    assert!(f.detail.contains("possible injection"), "{}", f.detail);
    let lines = seen.lock().unwrap().clone();
    assert!(
        !lines.iter().any(|l| l.starts_with("AUTH")),
        "no sign-in after it: {lines:?}"
    );
}

#[tokio::test]
async fn an_answer_to_the_sign_in_that_is_no_protocol_at_all_is_not_a_refused_token() {
    // Not IMAP's tagged NO or BAD, nor POP3's -ERR: nothing said of the token, so nothing blamed on
    // Exchange's set-up.
    let (port, _) = fake(
        "* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR] fake\r\n",
        |_| Some("%%% not imap at all %%%\r\n".into()),
    )
    .await;
    let token = "fake-token-for-garbage";
    let (r, _) = check_mailbox(
        &plain_mailbox(Protocol::Imap, port),
        xoauth2(token),
        &quick(),
    )
    .await;
    assert_eq!(failed(&r).step, Step::Authenticate, "{}", explain(&r));
    assert_eq!(kind(&r), Kind::NotThisProtocol, "{}", explain(&r));

    let (port, _) = fake("+OK fake POP3\r\n", |l| {
        Some(if l == "CAPA" {
            "+OK\r\nSASL XOAUTH2\r\n.\r\n".into()
        } else if l == "AUTH XOAUTH2" {
            "+ \r\n".into()
        } else {
            "garbage that is no POP3\r\n".into()
        })
    })
    .await;
    let (r, _) = check_mailbox(
        &plain_mailbox(Protocol::Pop3, port),
        xoauth2(token),
        &quick(),
    )
    .await;
    assert_eq!(failed(&r).step, Step::Authenticate, "{}", explain(&r));
    assert_eq!(kind(&r), Kind::NotThisProtocol, "{}", explain(&r));
}
