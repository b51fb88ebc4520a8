//! The connection test ("probe"): proves that a mailbox (IMAP, POP3) or a transport (SMTP) works,
//! step by step, the way a mail system will use it: name lookup, TCP, TLS, greeting, capabilities,
//! authentication, then a real use of the mailbox (EXAMINE INBOX / STAT) or of sending (MAIL FROM
//! and RCPT TO, or a short message). AUTH success alone proves little: Exchange accepts the token
//! of an app it has not connected to the mailbox, and says so only at the next command.
//!
//! Every step sends an [`Event`] when it starts and when it ends, with its time and the transcript
//! lines it produced (masked before anyone sees them). Every wait is bounded by [`Options::timeout`]; a
//! test is cancelled by dropping its future. A failure ends in a [`Diagnosis`] where the reply is
//! known ([`diagnose`]), and otherwise the server's reply verbatim as the failing step's detail.
//!
//! Round trips on a success, after TCP and TLS and the greeting (the tests `round_trips_are_few`
//! and tests/probe_wire.rs check them): IMAP 2 (AUTHENTICATE with SASL-IR, EXAMINE; the
//! capabilities come with the greeting); POP3 4 (CAPA, AUTH, the SASL string on its own line as
//! Exchange requires, STAT); SMTP 3 (EHLO, AUTH with the initial response, MAIL FROM + RCPT TO +
//! RSET + QUIT pipelined where offered), one more when the AUTH line would pass 500 octets (a
//! real token does: the string then follows the server's `334`). LOGOUT and QUIT are sent but
//! not waited for ([`Run::logout_grace`]). STARTTLS adds the command, the handshake and a second
//! capability request. Each command leaves in one write (`wire`), on sockets with TCP_NODELAY
//! (`net::connect`); docs/probe.md, "On the wire".

pub mod batch;
mod cert;
pub mod diagnose;
mod imap;
mod lines;
mod net;
mod pop3;
mod sasl;
mod send;
mod smtp;
mod transcript;
mod wire;

use std::fmt::{self, Write as _};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde::{Serialize, Serializer};
use tokio::sync::mpsc::UnboundedSender;

use crate::profile::{Encryption, Mailbox, Protocol, Transport};
pub use cert::Summary as CertSummary;

/// Gets the slow first-use work of TLS done on threads of its own while the caller signs in:
/// AWS-LC seeds its random number generator at first use from a CPU-jitter source (about 30 ms of
/// CPU, BENCHMARKS.md section 1), and the verifier reads and parses every system root. Otherwise
/// both land in the first test's TLS step. Call it as `mailcfg test` or the window starts.
pub fn warm_up(ca_file: Option<PathBuf>) {
    std::thread::spawn(|| {
        let mut seed = [0u8; 1];
        let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider()
            .secure_random
            .fill(&mut seed);
    });
    std::thread::spawn(move || {
        // A bad CA file is reported by the test that uses it.
        let _ = net::Tls::new(ca_file.as_deref());
    });
}
pub use diagnose::Diagnosis;
use diagnose::Symptom;
use transcript::Recorder;

/// One step of a connection test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Dns,
    Connect,
    Tls,
    Greeting,
    Capabilities,
    StartTls,
    Authenticate,
    Mailbox,
    Send,
    Logout,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Step::Dns => "DNS",
            Step::Connect => "Connect",
            Step::Tls => "TLS",
            Step::Greeting => "Greeting",
            Step::Capabilities => "Capabilities",
            Step::StartTls => "STARTTLS",
            Step::Authenticate => "Authenticate",
            Step::Mailbox => "Mailbox",
            Step::Send => "Send",
            Step::Logout => "Logout",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Running,
    Ok,
    Warning,
    Failed,
    Skipped,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Status::Running => "running",
            Status::Ok => "ok",
            Status::Warning => "warning",
            Status::Failed => "FAILED",
            Status::Skipped => "skipped",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dir {
    Sent,
    Received,
    Info,
}

/// One line of the transcript; `text` is already masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TranscriptLine {
    #[serde(rename = "at_ms", serialize_with = "millis")]
    pub at: Duration,
    pub dir: Dir,
    pub text: String,
}

impl fmt::Display for TranscriptLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrow = match self.dir {
            Dir::Sent => "C:",
            Dir::Received => "S:",
            Dir::Info => "--",
        };
        write!(f, "{:>6} ms {arrow} {}", self.at.as_millis(), self.text)
    }
}

/// A step started (`Running`) or ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    pub target: String,
    pub step: Step,
    pub status: Status,
    /// Time the step took (zero when it starts).
    #[serde(rename = "elapsed_ms", serialize_with = "millis")]
    pub elapsed: Duration,
    pub detail: String,
    pub transcript: Vec<TranscriptLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Imap,
    Pop3,
    Smtp,
}

impl fmt::Display for TargetKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TargetKind::Imap => "IMAP",
            TargetKind::Pop3 => "POP3",
            TargetKind::Smtp => "SMTP",
        })
    }
}

/// The outcome of one test.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    pub kind: TargetKind,
    /// The final event of each step, in order.
    pub steps: Vec<Event>,
    pub transcript: Vec<TranscriptLine>,
    pub diagnosis: Option<Diagnosis>,
    pub ok: bool,
    #[serde(rename = "total_ms", serialize_with = "millis")]
    pub total: Duration,
}

impl Report {
    /// The step that failed, if any.
    pub fn failed_step(&self) -> Option<&Event> {
        self.steps.iter().find(|e| e.status == Status::Failed)
    }
}

/// How to sign in. The secret is never serialised or shown.
#[derive(Debug, Clone)]
pub enum Credential {
    XOAuth2 {
        user: String,
        token: SecretString,
    },
    OAuthBearer {
        user: String,
        token: SecretString,
    },
    Password {
        user: String,
        password: SecretString,
    },
    None,
}

impl Credential {
    pub fn user(&self) -> Option<&str> {
        match self {
            Credential::XOAuth2 { user, .. }
            | Credential::OAuthBearer { user, .. }
            | Credential::Password { user, .. } => Some(user),
            Credential::None => None,
        }
    }
}

impl Serialize for Credential {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct as _;
        let kind = match self {
            Credential::XOAuth2 { .. } => "xoauth2",
            Credential::OAuthBearer { .. } => "oauthbearer",
            Credential::Password { .. } => "password",
            Credential::None => "none",
        };
        let mut st = s.serialize_struct("Credential", 2)?;
        st.serialize_field("kind", kind)?;
        st.serialize_field("user", &self.user())?;
        st.end()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Options {
    /// The time limit of each step (and of each wait within it).
    #[serde(rename = "timeout_ms", serialize_with = "millis")]
    pub timeout: Duration,
    /// A CA certificate (PEM) to trust besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// SMTP: send a short test message here instead of stopping after RCPT TO.
    pub send_to: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(crate::profile::ProbeSettings::DEFAULT_TIMEOUT_SECS),
            ca_file: None,
            send_to: None,
        }
    }
}

fn millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// Tests an IMAP or POP3 mailbox: up to EXAMINE INBOX (IMAP) or STAT (POP3), then logs out.
pub async fn test_mailbox(
    m: &Mailbox,
    cred: Credential,
    opts: &Options,
    events: &UnboundedSender<Event>,
) -> Report {
    let kind = match m.protocol {
        Protocol::Imap => TargetKind::Imap,
        Protocol::Pop3 => TargetKind::Pop3,
    };
    let ctx = diagnose::Context {
        kind,
        host: m.host.clone(),
        port: m.port,
        encryption: m.encryption,
        mailbox: cred.user().unwrap_or(&m.user).to_owned(),
    };
    let mut run = Run::new(&m.name, kind, events, opts, ctx);
    let target = Target {
        host: &m.host,
        port: m.port,
        encryption: m.encryption,
    };
    match kind {
        TargetKind::Imap => imap::run(&mut run, &target, &cred).await,
        _ => pop3::run(&mut run, &target, &cred).await,
    }
    run.finish()
}

/// Tests an SMTP transport: up to MAIL FROM and RCPT TO (then RSET), or with
/// [`Options::send_to`] a short message, then QUIT.
pub async fn test_transport(
    t: &Transport,
    cred: Credential,
    opts: &Options,
    events: &UnboundedSender<Event>,
) -> Report {
    let ctx = diagnose::Context {
        kind: TargetKind::Smtp,
        host: t.host.clone(),
        port: t.port,
        encryption: t.encryption,
        mailbox: cred
            .user()
            .or(t.username.as_deref())
            .unwrap_or_default()
            .to_owned(),
    };
    let mut run = Run::new(&t.name, TargetKind::Smtp, events, opts, ctx);
    let target = Target {
        host: &t.host,
        port: t.port,
        encryption: t.encryption,
    };
    smtp::run(&mut run, &target, &cred).await;
    run.finish()
}

/// The most a test waits for the answer to LOGOUT or QUIT ([`Run::logout_grace`]).
const ANSWER_GRACE: Duration = Duration::from_millis(10);

/// Where to connect.
pub(crate) struct Target<'a> {
    pub host: &'a str,
    pub port: u16,
    pub encryption: Encryption,
}

/// A step in progress.
pub(crate) struct Started {
    step: Step,
    at: Instant,
    from: usize,
}

/// One test under way: sends the events, keeps the steps, the transcript and the diagnosis.
pub(crate) struct Run<'a> {
    target: String,
    kind: TargetKind,
    events: &'a UnboundedSender<Event>,
    pub(crate) rec: Recorder,
    start: Instant,
    pub(crate) timeout: Duration,
    pub(crate) opts: &'a Options,
    steps: Vec<Event>,
    diagnosis: Option<Diagnosis>,
    pub(crate) ctx: diagnose::Context,
    tls: Option<net::Tls>,
    /// The address connected to (for the implicit-TLS check after a missing greeting).
    pub(crate) addr: Option<SocketAddr>,
}

impl<'a> Run<'a> {
    fn new(
        target: &str,
        kind: TargetKind,
        events: &'a UnboundedSender<Event>,
        opts: &'a Options,
        ctx: diagnose::Context,
    ) -> Self {
        let start = Instant::now();
        Self {
            target: target.to_owned(),
            kind,
            events,
            rec: Recorder::new(start),
            start,
            timeout: opts.timeout,
            opts,
            steps: Vec::new(),
            diagnosis: None,
            ctx,
            tls: None,
            addr: None,
        }
    }

    pub(crate) fn begin(&mut self, step: Step) -> Started {
        let _ = self.events.send(Event {
            target: self.target.clone(),
            step,
            status: Status::Running,
            elapsed: Duration::ZERO,
            detail: String::new(),
            transcript: Vec::new(),
        });
        Started {
            step,
            at: Instant::now(),
            from: self.rec.len(),
        }
    }

    pub(crate) fn end(&mut self, s: &Started, status: Status, detail: impl Into<String>) {
        self.rec.flush();
        let event = Event {
            target: self.target.clone(),
            step: s.step,
            status,
            elapsed: s.at.elapsed(),
            detail: detail.into(),
            transcript: self.rec.since(s.from),
        };
        let _ = self.events.send(event.clone());
        // A repeated step (capabilities again after STARTTLS) keeps its last outcome, in place.
        if let Some(old) = self.steps.iter_mut().find(|e| e.step == s.step) {
            *old = event;
        } else {
            self.steps.push(event);
        }
    }

    pub(crate) fn ok(&mut self, s: &Started, detail: impl Into<String>) {
        self.end(s, Status::Ok, detail);
    }

    /// Fails the sign-in step because the server does not offer `mech` (it offers `offered`);
    /// `tls_first`: it would after TLS (nothing offered in clear text, or IMAP's LOGINDISABLED).
    pub(crate) fn fail_not_offered<S: AsRef<str>>(
        &mut self,
        s: &Started,
        mech: &str,
        offered: &[S],
        tls_first: bool,
    ) {
        let offered: Vec<&str> = offered.iter().map(AsRef::as_ref).collect();
        let detail = format!(
            "the server does not offer {mech} (it offers: {})",
            if offered.is_empty() {
                "no sign-in mechanism".to_owned()
            } else {
                offered.join(" ")
            }
        );
        let symptom = Symptom::MechanismNotOffered {
            mech: mech.to_owned(),
            tls_first,
        };
        self.fail(s, detail, &symptom);
    }

    /// Ends the step as failed, with the diagnosis of `symptom` (the first failure wins).
    pub(crate) fn fail(&mut self, s: &Started, detail: impl Into<String>, symptom: &Symptom) {
        let detail = detail.into();
        if self.diagnosis.is_none() {
            self.diagnosis = diagnose::diagnose(&self.ctx, s.step, symptom);
        }
        self.end(s, Status::Failed, detail);
    }

    /// The last line the server sent during this step.
    pub(crate) fn reply(&self, s: &Started) -> String {
        self.rec.flush();
        self.rec
            .last_received(s.from)
            .unwrap_or_else(|| "(no reply)".to_owned())
    }

    /// How long to wait for the answer to LOGOUT or QUIT, which proves nothing the test needs:
    /// up to [`ANSWER_GRACE`] where this server's quickest answer so far came within half of it
    /// (loopback, a LAN), so that the transcript shows it at next to no cost; not at all where an
    /// answer costs a round trip over a real network.
    pub(crate) fn logout_grace(&self) -> Duration {
        match self.rec.quickest_answer() {
            Some(d) if d * 2 <= ANSWER_GRACE => ANSWER_GRACE,
            _ => Duration::ZERO,
        }
    }

    /// Ends the Logout step after the command was sent (`sent`: "QUIT sent", …) and its answer
    /// waited for `grace` (see [`Self::logout_grace`]): `answer` is the server's line if it
    /// came; `ok`, whether it agreed.
    pub(crate) fn logout_done(
        &mut self,
        s: &Started,
        sent: &str,
        answer: Option<String>,
        ok: bool,
        grace: Duration,
    ) {
        let (status, detail) = match answer {
            Some(line) => (
                if ok { Status::Ok } else { Status::Warning },
                format!("{sent}; answered: {line}"),
            ),
            None if grace.is_zero() => (
                Status::Ok,
                format!(
                    "{sent}; the connection was closed without waiting for the answer (an answer takes about {} ms here, and proves nothing more)",
                    self.rec.quickest_answer().map_or(0, |d| d.as_millis())
                ),
            ),
            None => (
                Status::Ok,
                format!(
                    "{sent}; no answer within {} ms, so the connection was closed without it (it proves nothing more)",
                    grace.as_millis()
                ),
            ),
        };
        self.end(s, status, detail);
    }

    /// Marks steps that did not run because an earlier one failed.
    pub(crate) fn skip(&mut self, steps: &[Step]) {
        self.skip_because(steps, "not run: an earlier step failed");
    }

    pub(crate) fn skip_because(&mut self, steps: &[Step], reason: &str) {
        for step in steps {
            if self.steps.iter().any(|e| e.step == *step) {
                continue;
            }
            let s = Started {
                step: *step,
                at: Instant::now(),
                from: self.rec.len(),
            };
            self.end(&s, Status::Skipped, reason);
        }
    }

    /// `f`, or `None` when it takes longer than the step timeout.
    pub(crate) async fn timed<F: Future>(&self, f: F) -> Option<F::Output> {
        tokio::time::timeout(self.timeout, f).await.ok()
    }

    pub(crate) fn secs(&self) -> String {
        let t = self.timeout;
        if t.subsec_millis() == 0 {
            format!("{} s", t.as_secs())
        } else {
            format!("{:.1} s", t.as_secs_f64())
        }
    }

    fn finish(self) -> Report {
        self.rec.flush();
        let ok = !self.steps.is_empty()
            && self
                .steps
                .iter()
                .all(|e| matches!(e.status, Status::Ok | Status::Warning | Status::Skipped))
            && self.steps.iter().any(|e| e.status == Status::Ok);
        Report {
            target: self.target,
            kind: self.kind,
            transcript: self.rec.since(0),
            steps: self.steps,
            diagnosis: self.diagnosis,
            ok,
            total: self.start.elapsed(),
        }
    }

    /// DNS, TCP connect and (for implicit TLS) the TLS handshake.
    pub(crate) async fn open(&mut self, t: &Target<'_>) -> Option<net::Conn> {
        // DNS
        let s = self.begin(Step::Dns);
        let addrs = match self.timed(net::resolve(t.host, t.port)).await {
            None => {
                self.fail(
                    &s,
                    format!("no answer for \"{}\" within {}", t.host, self.secs()),
                    &Symptom::DnsFailed,
                );
                return None;
            }
            Some(Err(e)) => {
                self.fail(
                    &s,
                    format!("cannot resolve \"{}\": {e}", t.host),
                    &Symptom::DnsFailed,
                );
                return None;
            }
            Some(Ok(a)) if a.is_empty() => {
                self.fail(
                    &s,
                    format!("\"{}\" has no address", t.host),
                    &Symptom::DnsFailed,
                );
                return None;
            }
            Some(Ok(a)) => a,
        };
        let list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
        self.ok(&s, format!("{} → {}", t.host, list.join(", ")));

        // TCP, address by address.
        let s = self.begin(Step::Connect);
        let mut errors = Vec::new();
        let mut worst = net::ConnectFailure::Other;
        let mut tcp = None;
        for addr in &addrs {
            let started = Instant::now();
            match self.timed(net::connect(*addr)).await {
                Some(Ok(stream)) => {
                    tcp = Some((*addr, stream, started.elapsed()));
                    break;
                }
                Some(Err(e)) => {
                    worst = net::classify_connect(&e);
                    let what = match worst {
                        net::ConnectFailure::Refused => "refused".to_owned(),
                        net::ConnectFailure::Unreachable => "unreachable".to_owned(),
                        _ => e.to_string(),
                    };
                    errors.push(format!("{addr}: {what}"));
                }
                None => {
                    worst = net::ConnectFailure::TimedOut;
                    errors.push(format!("{addr}: no answer within {}", self.secs()));
                }
            }
        }
        let Some((addr, tcp, took)) = tcp else {
            let symptom = match worst {
                net::ConnectFailure::Refused => Symptom::Refused,
                net::ConnectFailure::TimedOut => Symptom::ConnectTimeout,
                net::ConnectFailure::Unreachable => Symptom::Unreachable,
                net::ConnectFailure::Other => Symptom::Other,
            };
            self.fail(&s, errors.join("; "), &symptom);
            return None;
        };
        self.addr = Some(addr);
        let mut detail = format!("{addr} in {} ms", took.as_millis());
        if !errors.is_empty() {
            detail = format!("{detail} (first failed: {})", errors.join("; "));
        }
        self.ok(&s, detail);

        if t.encryption == Encryption::Tls {
            return self.tls(tcp, t.host, false).await;
        }
        Some(net::Conn::Plain(tcp))
    }

    /// After the server agreed to STARTTLS (`verb`: `STARTTLS`, `STLS`): refuses bytes it sent
    /// before the handshake (a possible command injection), then upgrades the connection.
    pub(crate) async fn upgrade(
        &mut self,
        io: lines::Lines,
        t: &Target<'_>,
        verb: &str,
    ) -> Option<lines::Lines> {
        if io.has_pending() {
            let s = self.begin(Step::Tls);
            let detail = format!(
                "the server sent data after its {verb} answer, before TLS (refused: possible injection)"
            );
            self.fail(&s, detail, &Symptom::Other);
            return None;
        }
        let net::Conn::Plain(tcp) = io.into_conn() else {
            return None;
        };
        let conn = self.tls(tcp, t.host, true).await?;
        Some(lines::Lines::new(conn, self.rec.clone()))
    }

    /// The TLS step: handshake, certificate, and a plain account of any refusal.
    pub(crate) async fn tls(
        &mut self,
        tcp: tokio::net::TcpStream,
        host: &str,
        after_starttls: bool,
    ) -> Option<net::Conn> {
        let s = self.begin(Step::Tls);
        if self.tls.is_none() {
            match net::Tls::new(self.opts.ca_file.as_deref()) {
                Ok(t) => self.tls = Some(t),
                Err(f) => {
                    let (detail, symptom) = tls_failure(&f, host);
                    self.fail(&s, detail, &symptom);
                    return None;
                }
            }
        }
        let tls = self.tls.as_ref()?;
        let result = tokio::time::timeout(self.timeout, tls.handshake(tcp, host)).await;
        match result {
            Err(_) => {
                let detail = format!("no TLS answer within {}", self.secs());
                let symptom = if after_starttls {
                    Symptom::Other
                } else {
                    Symptom::TlsTimeout
                };
                self.fail(&s, detail, &symptom);
                None
            }
            Ok(Err(f)) => {
                let (detail, symptom) = tls_failure(&f, host);
                self.rec.info(&format!("TLS failed: {detail}"));
                self.fail(&s, detail, &symptom);
                None
            }
            Ok(Ok((stream, info))) => {
                let mut status = Status::Ok;
                let mut detail = format!("{info}; name matches \"{host}\"");
                if let Some(c) = &info.cert
                    && c.days_left() < 14
                {
                    status = Status::Warning;
                    let _ = write!(detail, "; expires in {} days", c.days_left());
                }
                self.rec.info(&format!("TLS: {detail}"));
                self.end(&s, status, detail);
                Some(net::Conn::Tls(Box::new(stream)))
            }
        }
    }

    /// Whether sign-in must not go ahead: no TLS, and the server is not this computer. (A token or
    /// password sent in clear text to another host is exposed to everyone on the path.)
    pub(crate) fn refuse_clear_text(&mut self, s: &Started, t: &Target<'_>) -> bool {
        let local = self.addr.is_some_and(|a| a.ip().is_loopback());
        if t.encryption != Encryption::None || local {
            return false;
        }
        self.fail(
            s,
            "not sent: the connection is not encrypted and the server is not on this computer",
            &Symptom::Unencrypted,
        );
        true
    }

    /// After a greeting that never came on a plain connection: is this an implicit-TLS port? (A
    /// second connection tries a TLS hello, for at most 3 s more.)
    pub(crate) async fn no_greeting(&mut self, s: &Started, protocol: &str) {
        let mut symptom = Symptom::NoGreeting;
        let tls = match self.tls.take() {
            Some(t) => Some(t),
            None => net::Tls::new(self.opts.ca_file.as_deref()).ok(),
        };
        if let (Some(addr), Some(t)) = (self.addr, &tls)
            && net::speaks_tls(
                addr,
                &self.ctx.host,
                t,
                self.timeout.min(Duration::from_secs(3)),
            )
            .await
        {
            symptom = Symptom::TlsPort;
        }
        self.tls = tls;
        let detail = if symptom == Symptom::TlsPort {
            format!(
                "no {protocol} greeting within {}: this port expects TLS from the first byte (implicit TLS)",
                self.secs()
            )
        } else {
            format!(
                "the server accepted the connection but sent no {protocol} greeting within {}",
                self.secs()
            )
        };
        self.fail(s, detail, &symptom);
    }
}

fn tls_failure(f: &net::TlsFailure, host: &str) -> (String, Symptom) {
    use net::TlsFailure as F;
    let cert = |c: &Option<cert::Summary>| {
        c.as_ref()
            .map_or_else(String::new, |c| format!(" (certificate: {c})"))
    };
    match f {
        F::CaFile(e) => (e.clone(), Symptom::CaFile),
        F::Untrusted(c) => (
            format!(
                "certificate not trusted: it was issued by a CA that neither the system nor tls.ca_file trusts{}",
                cert(c)
            ),
            Symptom::TlsUntrusted,
        ),
        F::Expired(c) => (
            format!("certificate expired{}", cert(c)),
            Symptom::TlsExpired,
        ),
        F::NotYetValid(c) => (
            format!(
                "certificate not valid yet (check this computer's clock){}",
                cert(c)
            ),
            Symptom::TlsExpired,
        ),
        F::WrongName(c) => (
            format!("certificate is for another name, not \"{host}\"{}", cert(c)),
            Symptom::TlsWrongName,
        ),
        F::PlainText => (
            "the server answered the TLS hello in plain text: this port expects STARTTLS (or no TLS)"
                .to_owned(),
            Symptom::PlainPort,
        ),
        F::Other(e) => (format!("TLS handshake failed: {e}"), Symptom::Other),
    }
}

/// `1412` → `1,412`.
pub(crate) fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_groups() {
        assert_eq!(thousands(7), "7");
        assert_eq!(thousands(1412), "1,412");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }

    #[test]
    fn credential_serialises_without_secret() {
        let c = Credential::XOAuth2 {
            user: "u@example.test".into(),
            token: SecretString::from("tok-secret"),
        };
        let j = serde_json::to_string(&c).unwrap();
        assert!(!j.contains("tok-secret"));
        assert!(!format!("{c:?}").contains("tok-secret"));
    }
}
