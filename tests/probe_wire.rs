//! What the probe puts on the wire, seen by small servers of ours behind TLS 1.3 that count the
//! records the client sends (their headers, below the server's TLS): each command leaves in one
//! record, so in one write; SMTP's commands go in pipelined groups, one record each, where the
//! server offers PIPELINING (RFC 2920); LOGOUT and QUIT do not hold the report for an answer.
//! (TCP_NODELAY on the probe's sockets is checked by the unit tests of `src/probe/net.rs`.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use mailcfg::probe::{self, Credential, Report, Status, Step};
use mailcfg::profile::{Encryption, Mailbox, Protocol, Transport};
use secrecy::SecretString;
use support::defaults::MAILBOX;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::io::{ReadBuf, ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;

/// Counts the TLS records passing from the client, by their 5-byte headers. In TLS 1.3 the
/// client's first encrypted record (outer type 23) is its Finished; every one after it is data.
struct Records<S> {
    inner: S,
    head: Vec<u8>,
    left: usize,
    encrypted: Arc<AtomicUsize>,
}

impl<S: AsyncRead + Unpin> AsyncRead for Records<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        let mut new = &buf.filled()[before..];
        while !new.is_empty() {
            if self.left > 0 {
                let n = self.left.min(new.len());
                self.left -= n;
                new = &new[n..];
                continue;
            }
            self.head.push(new[0]);
            new = &new[1..];
            if self.head.len() == 5 {
                if self.head[0] == 23 {
                    self.encrypted.fetch_add(1, Ordering::SeqCst);
                }
                self.left = usize::from(u16::from_be_bytes([self.head[3], self.head[4]]));
                self.head.clear();
            }
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Records<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// Every line the server received, with how many data records had arrived when it was read.
type Log = Arc<Mutex<Vec<(String, usize)>>>;

struct Conn {
    r: BufReader<ReadHalf<TlsStream<Records<TcpStream>>>>,
    w: WriteHalf<TlsStream<Records<TcpStream>>>,
    encrypted: Arc<AtomicUsize>,
    log: Log,
}

impl Conn {
    /// The next line (without its end), logged with the data records so far; `None` at the end.
    async fn line(&mut self) -> Option<String> {
        let mut l = String::new();
        if self.r.read_line(&mut l).await.ok()? == 0 {
            return None;
        }
        let l = l.trim_end().to_owned();
        let records = self.encrypted.load(Ordering::SeqCst).saturating_sub(1);
        self.log.lock().unwrap().push((l.clone(), records));
        Some(l)
    }
    async fn say(&mut self, text: &str) {
        let _ = self.w.write_all(text.as_bytes()).await;
        let _ = self.w.flush().await;
    }
}

/// A TLS 1.3 server on 127.0.0.1 running `session` for each connection; its CA file and port.
async fn tls_server<F, Fut>(session: F) -> (tempfile::TempDir, std::path::PathBuf, u16, Log)
where
    F: Fn(Conn) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let dir = tempfile::tempdir().unwrap();
    let pki = support::pki::make(dir.path()).await.unwrap();
    let acceptor = support::tls::acceptor(&pki.cert, &pki.key).unwrap();
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let log: Log = Arc::default();
    let (log2, session) = (log.clone(), Arc::new(session));
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let encrypted = Arc::new(AtomicUsize::new(0));
            let counted = Records {
                inner: tcp,
                head: Vec::new(),
                left: 0,
                encrypted: encrypted.clone(),
            };
            let Ok(tls) = acceptor.accept(counted).await else {
                continue;
            };
            let (r, w) = tokio::io::split(tls);
            let conn = Conn {
                r: BufReader::new(r),
                w,
                encrypted,
                log: log2.clone(),
            };
            tokio::spawn(session(conn));
        }
    });
    (dir, pki.ca, port, log)
}

/// For each line: how many records arrived with it (0: it came in the record of the line before).
fn records_per_line(log: &Log) -> Vec<(String, usize)> {
    let mut before = 0;
    log.lock()
        .unwrap()
        .iter()
        .map(|(l, n)| {
            let new = n - before;
            before = *n;
            (l.split(' ').take(2).collect::<Vec<_>>().join(" "), new)
        })
        .collect()
}

fn opts(ca: &std::path::Path) -> probe::Options {
    probe::Options {
        timeout: Duration::from_secs(20),
        ca_file: Some(ca.to_owned()),
        send_to: None,
    }
}

fn cred() -> Credential {
    Credential::XOAuth2 {
        user: MAILBOX.into(),
        token: SecretString::from("tok".to_owned()),
    }
}

fn mailbox(protocol: Protocol, port: u16) -> Mailbox {
    Mailbox {
        name: "m".into(),
        protocol,
        host: "localhost".into(),
        port,
        encryption: Encryption::Tls,
        user: MAILBOX.into(),
        account: Some("a".into()),
    }
}

fn transport(port: u16) -> Transport {
    Transport {
        name: "t".into(),
        host: "localhost".into(),
        port,
        encryption: Encryption::Tls,
        auth: true,
        username: Some(MAILBOX.into()),
        account: Some("a".into()),
    }
}

async fn mailbox_report(m: &Mailbox, o: &probe::Options) -> Report {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    probe::test_mailbox(m, cred(), o, &tx).await
}

async fn transport_report(t: &Transport, o: &probe::Options) -> Report {
    let (tx, _rx) = tokio::sync::mpsc::unbounded_channel();
    probe::test_transport(t, cred(), o, &tx).await
}

fn step(r: &Report, s: Step) -> &probe::Event {
    r.steps.iter().find(|e| e.step == s).unwrap()
}

/// The Logout step's detail: the answer (`answered`) where this server's answers came fast
/// enough to wait for one (loopback, mostly), else that the connection was closed without it; a
/// machine too busy to answer within 5 ms gets the second.
fn answered_or_closed(detail: &str, answered: &str) -> bool {
    detail.contains(answered) || detail.contains("closed without")
}

fn explain(r: &Report) -> String {
    let steps: Vec<String> = r
        .steps
        .iter()
        .map(|e| format!("{} {} {}", e.status, e.step, e.detail))
        .collect();
    let lines: Vec<String> = r.transcript.iter().map(ToString::to_string).collect();
    format!("{}\n{}", steps.join("\n"), lines.join("\n"))
}

/// IMAP: `sasl_ir` offers SASL-IR (else the string follows the `+`); `logout_answered` answers
/// LOGOUT (else says nothing and keeps the connection open).
async fn imap_session(mut c: Conn, sasl_ir: bool, logout_answered: bool) {
    let caps = if sasl_ir { "SASL-IR " } else { "" };
    c.say(&format!(
        "* OK [CAPABILITY IMAP4rev1 {caps}AUTH=XOAUTH2] fake ready\r\n"
    ))
    .await;
    while let Some(l) = c.line().await {
        let tag = l.split(' ').next().unwrap_or("*").to_owned();
        let verb = l.split(' ').nth(1).unwrap_or("").to_ascii_uppercase();
        match verb.as_str() {
            "AUTHENTICATE" => {
                if !sasl_ir {
                    c.say("+ \r\n").await;
                    c.line().await;
                }
                c.say(&format!("{tag} OK signed in\r\n")).await;
            }
            "EXAMINE" => {
                c.say(&format!(
                    "* 2 EXISTS\r\n* 0 RECENT\r\n{tag} OK [READ-ONLY] done\r\n"
                ))
                .await;
            }
            "LOGOUT" if logout_answered => {
                c.say(&format!("* BYE bye\r\n{tag} OK logged out\r\n"))
                    .await;
                return;
            }
            "LOGOUT" => tokio::time::sleep(Duration::from_mins(1)).await,
            _ => c.say(&format!("{tag} BAD what\r\n")).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_imap_command_leaves_in_one_tls_record() {
    for sasl_ir in [true, false] {
        let (_dir, ca, port, log) = tls_server(move |c| imap_session(c, sasl_ir, true)).await;
        let r = mailbox_report(&mailbox(Protocol::Imap, port), &opts(&ca)).await;
        assert!(r.ok, "{}", explain(&r));
        let mut expected = vec![("A0001 AUTHENTICATE".to_owned(), 1)];
        if !sasl_ir {
            // The SASL string after the `+`: async-imap writes it and its CRLF apart.
            use base64::Engine as _;
            let sasl = format!("user={MAILBOX}\x01auth=Bearer tok\x01\x01");
            let sasl = base64::engine::general_purpose::STANDARD.encode(sasl);
            expected.push((sasl, 1));
        }
        expected.push(("A0002 EXAMINE".into(), 1));
        expected.push(("A0003 LOGOUT".into(), 1));
        assert_eq!(records_per_line(&log), expected, "{}", explain(&r));
        let logout = step(&r, Step::Logout);
        assert_eq!(logout.status, Status::Ok, "{}", explain(&r));
        assert!(
            answered_or_closed(&logout.detail, "LOGOUT sent; answered: A0003 OK logged out"),
            "{}",
            logout.detail
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_is_not_held_for_an_answer_that_does_not_come() {
    let (_dir, ca, port, log) = tls_server(|c| imap_session(c, true, false)).await;
    let r = mailbox_report(&mailbox(Protocol::Imap, port), &opts(&ca)).await;
    assert!(r.ok, "{}", explain(&r));
    let logout = step(&r, Step::Logout);
    assert_eq!(logout.status, Status::Ok, "{}", explain(&r));
    assert!(
        logout.detail.starts_with("LOGOUT sent;") && logout.detail.contains("closed without"),
        "{}",
        logout.detail
    );
    assert_eq!(records_per_line(&log).last().unwrap().0, "A0003 LOGOUT");
}

/// SMTP over implicit TLS; `pipelining` offers PIPELINING; `quit_answered` answers QUIT.
async fn smtp_session(mut c: Conn, pipelining: bool, quit_answered: bool) {
    c.say("220 fake.test ready\r\n").await;
    while let Some(l) = c.line().await {
        let verb = l
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" if pipelining => {
                c.say("250-fake.test\r\n250-AUTH XOAUTH2\r\n250 PIPELINING\r\n")
                    .await;
            }
            "EHLO" => c.say("250-fake.test\r\n250 AUTH XOAUTH2\r\n").await,
            "AUTH" => c.say("235 2.7.0 accepted\r\n").await,
            "MAIL" | "RCPT" | "RSET" => c.say("250 2.0.0 ok\r\n").await,
            "DATA" => {
                c.say("354 go ahead\r\n").await;
                while let Some(body) = c.line().await {
                    if body == "." {
                        break;
                    }
                }
                c.say("250 2.0.0 queued\r\n").await;
            }
            "QUIT" if quit_answered => {
                c.say("221 2.0.0 bye\r\n").await;
                return;
            }
            "QUIT" => tokio::time::sleep(Duration::from_mins(1)).await,
            _ => c.say("502 what\r\n").await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn smtp_commands_leave_in_one_record_each_and_pipelined_groups_in_one() {
    // With PIPELINING: MAIL, RCPT, RSET and QUIT in one record, one round trip.
    let (_dir, ca, port, log) = tls_server(|c| smtp_session(c, true, true)).await;
    let r = transport_report(&transport(port), &opts(&ca)).await;
    assert!(r.ok, "{}", explain(&r));
    assert_eq!(
        records_per_line(&log),
        [
            ("EHLO mailcfg.localhost".to_owned(), 1),
            ("AUTH XOAUTH2".into(), 1),
            (format!("MAIL FROM:<{MAILBOX}>"), 1),
            (format!("RCPT TO:<{MAILBOX}>"), 0),
            ("RSET".into(), 0),
            ("QUIT".into(), 0),
        ],
        "{}",
        explain(&r)
    );
    let logout = step(&r, Step::Logout);
    assert_eq!(logout.status, Status::Ok, "{}", explain(&r));
    assert!(
        answered_or_closed(&logout.detail, "answered: 221 2.0.0 bye"),
        "{}",
        logout.detail
    );
    assert!(logout.detail.contains("pipelined"), "{}", logout.detail);

    // Without: one command per record and round trip; QUIT unanswered is not waited for.
    let (_dir, ca, port, log) = tls_server(|c| smtp_session(c, false, false)).await;
    let r = transport_report(&transport(port), &opts(&ca)).await;
    assert!(r.ok, "{}", explain(&r));
    let per_line = records_per_line(&log);
    assert!(per_line.iter().all(|(_, n)| *n == 1), "{per_line:?}");
    assert_eq!(per_line.len(), 6, "{per_line:?}");
    let logout = step(&r, Step::Logout);
    assert_eq!(logout.status, Status::Ok, "{}", explain(&r));
    assert!(
        logout.detail.starts_with("QUIT sent;") && logout.detail.contains("closed without"),
        "{}",
        logout.detail
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sending_pipelines_mail_rcpt_data_then_the_message_with_quit() {
    let (_dir, ca, port, log) = tls_server(|c| smtp_session(c, true, true)).await;
    let mut o = opts(&ca);
    o.send_to = Some("you@example.test".parse().unwrap());
    let r = transport_report(&transport(port), &o).await;
    assert!(r.ok, "{}", explain(&r));
    let per_line = records_per_line(&log);
    let lines: Vec<&str> = per_line.iter().map(|(l, _)| l.as_str()).collect();
    let at = |what: &str| lines.iter().position(|l| l.starts_with(what)).unwrap();
    let (mail, data, dot, quit) = (at("MAIL FROM"), at("DATA"), at("."), at("QUIT"));
    assert_eq!(
        (
            data,
            per_line[mail].1,
            per_line[mail + 1].1,
            per_line[data].1
        ),
        (mail + 2, 1, 0, 0),
        "MAIL, RCPT and DATA in one record: {per_line:?}"
    );
    // The message (From: … up to the dot) and QUIT: one more record, all of it.
    let group: Vec<usize> = per_line[data + 1..=quit].iter().map(|(_, n)| *n).collect();
    assert_eq!(group.iter().sum::<usize>(), 1, "{per_line:?}");
    assert_eq!(group[0], 1, "{per_line:?}");
    assert_eq!(quit, dot + 1, "{per_line:?}");
    assert!(
        step(&r, Step::Send).detail.contains("pipelined"),
        "{}",
        explain(&r)
    );
}

async fn pop3_session(mut c: Conn) {
    c.say("+OK fake ready\r\n").await;
    while let Some(l) = c.line().await {
        match l.split(' ').next().unwrap_or("") {
            "CAPA" => c.say("+OK\r\nSASL XOAUTH2\r\nUSER\r\n.\r\n").await,
            "AUTH" => {
                c.say("+ \r\n").await;
                c.line().await;
                c.say("+OK signed in\r\n").await;
            }
            "STAT" => c.say("+OK 2 320\r\n").await,
            "QUIT" => {
                c.say("+OK bye\r\n").await;
                return;
            }
            _ => c.say("-ERR what\r\n").await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_pop3_command_leaves_in_one_tls_record() {
    let (_dir, ca, port, log) = tls_server(pop3_session).await;
    let r = mailbox_report(&mailbox(Protocol::Pop3, port), &opts(&ca)).await;
    assert!(r.ok, "{}", explain(&r));
    let per_line = records_per_line(&log);
    assert_eq!(per_line.len(), 5, "{per_line:?}");
    assert!(per_line.iter().all(|(_, n)| *n == 1), "{per_line:?}");
    let logout = step(&r, Step::Logout);
    assert!(
        answered_or_closed(&logout.detail, "QUIT sent; answered: +OK bye"),
        "{}",
        explain(&r)
    );
}
