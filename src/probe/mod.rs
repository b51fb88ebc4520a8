//! The connection test ("probe"): proves that a mailbox (IMAP, POP3) or a transport (SMTP) works,
//! step by step, the way a mail system will use it: name lookup, TCP, TLS, greeting, capabilities,
//! authentication, then a real use of the mailbox (EXAMINE INBOX / STAT) or of sending (MAIL FROM
//! and RCPT TO, or a short message). AUTH success alone proves little: Exchange accepts the token
//! of an app it has not connected to the mailbox, and says so only at the next command.
//!
//! Every step sends an [`Event`] when it starts and when it ends, with its time and the transcript
//! lines it produced (masked before anyone sees them; details and the failure's quoted replies are
//! masked and their control characters escaped too). [`Options::timeout`] bounds each step as a
//! whole: every wait in a step shares the step's deadline, however many lines the server sends
//! (and a step receives at most 1,000 lines or 1 MiB, a multi-line reply 256 lines or 64 KiB,
//! and keeps its first and last 20 lines with a count of the rest). A test is cancelled by
//! dropping its future. A failure is kept as a typed [`Failure`] (the step and its [`Symptom`]);
//! what it means, with everything else the run saw, is `crate::diagnosis`'s job.
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
mod failure;
mod imap;
mod lines;
mod message;
mod net;
mod pop3;
mod sasl;
mod send;
mod smtp;
pub mod symptom;
mod transcript;
mod wire;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant, SystemTime};

use secrecy::SecretString;
use serde::{Serialize, Serializer};
use tokio::sync::mpsc::UnboundedSender;

use crate::profile::{Encryption, Mailbox, Protocol, Transport};
pub use cert::Summary as CertSummary;

/// Gets the slow first-use work of TLS done on threads of its own while the caller signs in:
/// AWS-LC sets up its random number generator at first use (20–80 ms of CPU with its CPU-jitter
/// source, which this repository builds without: `.cargo/config.toml`, BENCHMARKS.md "The crypto
/// provider"; next to nothing now), and the verifier reads and parses every system root.
/// Otherwise both land in the first test's TLS step. Call it as `mailcfg test` or the window
/// starts.
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
pub use batch::Target;
pub(crate) use failure::{read_failure, timeout_detail};
pub use symptom::Symptom;
use transcript::Recorder;

use crate::diagnosis::Diagnosis;

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

/// The first failure of a test: where, and what was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    pub step: Step,
    #[serde(flatten)]
    pub symptom: Symptom,
}

/// The outcome of one test.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub target: String,
    pub kind: TargetKind,
    /// The connected account whose token it signed in with (XOAUTH2), if any.
    pub account: Option<String>,
    /// The name it signed in as (the SASL user), if it signed in.
    pub user: Option<String>,
    /// When the test began (the token's expiry is judged against the time of use).
    #[serde(serialize_with = "unix_millis")]
    pub started_at: SystemTime,
    /// The final event of each step, in order.
    pub steps: Vec<Event>,
    pub transcript: Vec<TranscriptLine>,
    /// The server's certificate, when TLS got far enough to see one (its expiry is monitored).
    pub certificate: Option<CertSummary>,
    pub failure: Option<Failure>,
    /// What the failure means, from all the evidence of the run (`crate::diagnosis`); filled
    /// by whoever ran the test, since one test alone cannot know the rest.
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

    /// Whether `step` ended with `status`.
    pub fn step_is(&self, step: Step, status: Status) -> bool {
        self.steps
            .iter()
            .any(|e| e.step == step && e.status == status)
    }

    /// When `step` began: the test's start plus the steps before it (an estimate to the
    /// millisecond, enough to tell whether a token had expired by then).
    pub fn time_of(&self, step: Step) -> SystemTime {
        let before: Duration = self
            .steps
            .iter()
            .take_while(|e| e.step != step)
            .map(|e| e.elapsed)
            .sum();
        self.started_at + before
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
    /// The time limit of each step, as a whole.
    #[serde(rename = "timeout_ms", serialize_with = "millis")]
    pub timeout: Duration,
    /// A CA certificate (PEM) to trust besides the system roots.
    pub ca_file: Option<PathBuf>,
    /// SMTP: send a short test message here instead of stopping after RCPT TO. An address
    /// checked by lettre, so no line break can reach RCPT TO or the message's header.
    #[serde(serialize_with = "address")]
    pub send_to: Option<lettre::Address>,
}

#[allow(clippy::ref_option)] // the signature serde's `serialize_with` calls
fn address<S: Serializer>(a: &Option<lettre::Address>, s: S) -> Result<S::Ok, S::Error> {
    match a {
        Some(a) => s.serialize_some::<str>(a.as_ref()),
        None => s.serialize_none(),
    }
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

fn unix_millis<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    s.serialize_u64(ms)
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
    let mut run = Run::new(&m.name, kind, events, opts, m.account.clone(), &cred);
    let endpoint = Endpoint {
        host: &m.host,
        port: m.port,
        encryption: m.encryption,
    };
    if run.refuse_unsafe(&cred, &endpoint) {
        return run.finish();
    }
    match kind {
        TargetKind::Imap => imap::run(&mut run, &endpoint, &cred).await,
        _ => pop3::run(&mut run, &endpoint, &cred).await,
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
    let account = t.account.clone().filter(|_| t.auth);
    let mut run = Run::new(&t.name, TargetKind::Smtp, events, opts, account, &cred);
    run.sender = cred
        .user()
        .or(t.username.as_deref())
        .unwrap_or_default()
        .to_owned();
    let endpoint = Endpoint {
        host: &t.host,
        port: t.port,
        encryption: t.encryption,
    };
    if run.refuse_unsafe(&cred, &endpoint) {
        return run.finish();
    }
    smtp::run(&mut run, &endpoint, &cred).await;
    run.finish()
}

/// The most a test waits for the answer to LOGOUT or QUIT ([`Run::logout_grace`]).
const ANSWER_GRACE: Duration = Duration::from_millis(10);

/// Where to connect (the host, port and encryption of a [`Target`]).
pub(crate) struct Endpoint<'a> {
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

/// One test under way: sends the events, keeps the steps, the transcript and the first failure.
pub(crate) struct Run<'a> {
    target: String,
    kind: TargetKind,
    account: Option<String>,
    user: Option<String>,
    started_at: SystemTime,
    events: &'a UnboundedSender<Event>,
    pub(crate) rec: Recorder,
    start: Instant,
    pub(crate) timeout: Duration,
    /// When the current step must end: every wait in it ends then.
    deadline: Instant,
    pub(crate) opts: &'a Options,
    steps: Vec<Event>,
    failure: Option<Failure>,
    certificate: Option<CertSummary>,
    /// The host name asked for (the implicit-TLS check after a missing greeting).
    host: String,
    /// SMTP: the address of MAIL FROM (and of RCPT TO without `send_to`).
    pub(crate) sender: String,
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
        account: Option<String>,
        cred: &Credential,
    ) -> Self {
        let start = Instant::now();
        Self {
            target: target.to_owned(),
            kind,
            account,
            user: cred.user().map(str::to_owned),
            started_at: SystemTime::now(),
            events,
            rec: Recorder::new(start),
            start,
            timeout: opts.timeout,
            deadline: start + opts.timeout,
            opts,
            steps: Vec::new(),
            failure: None,
            certificate: None,
            host: String::new(),
            sender: String::new(),
            tls: None,
            addr: None,
        }
    }

    pub(crate) fn begin(&mut self, step: Step) -> Started {
        self.rec.begin_step();
        self.deadline = Instant::now() + self.timeout;
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
            // Details quote the server: masked and escaped like the transcript.
            detail: crate::redact::clean(&detail.into()),
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

    /// Ends the step as failed with `symptom`, a reply sorted by [`symptom::refine`] (the first
    /// failure is the test's).
    pub(crate) fn fail(&mut self, s: &Started, detail: impl Into<String>, symptom: &Symptom) {
        let detail = detail.into();
        if self.failure.is_none() {
            // Sorted on the server's words as they came, then kept masked and escaped: the
            // diagnosis quotes them, in the window as on the command line.
            let sorted = symptom::refine(self.kind, s.step, symptom.clone());
            self.failure = Some(Failure {
                step: s.step,
                symptom: sorted.cleaned(),
            });
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

    /// `f`, or `None` when the step's deadline passes first. All waits of a step share one
    /// deadline, so a server that answers slowly line by line cannot stretch the step.
    pub(crate) async fn timed<F: Future>(&self, f: F) -> Option<F::Output> {
        let at = tokio::time::Instant::from_std(self.deadline);
        tokio::time::timeout_at(at, f).await.ok()
    }

    /// `f`, bounded by the step's deadline and by `share` of the time left (one of several
    /// addresses to try).
    async fn timed_share<F: Future>(&self, f: F, share: u32) -> Option<F::Output> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        tokio::time::timeout(left / share.max(1), f).await.ok()
    }

    /// Refuses a credential whose user or password would break a protocol line or a SASL string
    /// (a line break starts another command; `\x01` another SASL field). Nothing is sent.
    fn refuse_unsafe(&mut self, cred: &Credential, t: &Endpoint<'_>) -> bool {
        use secrecy::ExposeSecret as _;
        let unsafe_text = |s: &str| s.chars().any(crate::redact::is_unsafe_char);
        let what = match cred {
            Credential::Password { password, .. } if unsafe_text(password.expose_secret()) => {
                "password"
            }
            c if c.user().is_some_and(unsafe_text) => "sign-in name",
            _ if unsafe_text(t.host) => "host",
            _ => return false,
        };
        let s = self.begin(Step::Authenticate);
        let detail = format!(
            "not sent: the {what} contains a control character (a line break would inject a command)"
        );
        self.fail(
            &s,
            detail,
            &Symptom::UnsafeValue {
                what: what.to_owned(),
            },
        );
        true
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
            account: self.account,
            user: self.user,
            started_at: self.started_at,
            transcript: self.rec.since(0),
            steps: self.steps,
            certificate: self.certificate,
            failure: self.failure,
            diagnosis: None,
            ok,
            total: self.start.elapsed(),
        }
    }

    /// DNS, TCP connect and (for implicit TLS) the TLS handshake.
    pub(crate) async fn open(&mut self, t: &Endpoint<'_>) -> Option<net::Conn> {
        t.host.clone_into(&mut self.host);
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
        let count = u32::try_from(addrs.len()).unwrap_or(u32::MAX);
        for (i, addr) in addrs.iter().enumerate() {
            let started = Instant::now();
            // Each address gets an equal share of the time left, so a silent first address
            // (an IPv6 route that drops packets) leaves time for the next.
            let share = count - u32::try_from(i).unwrap_or(0);
            match self.timed_share(net::connect(*addr), share).await {
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
        t: &Endpoint<'_>,
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
        let result = self.timed(tls.handshake(tcp, host)).await;
        match result {
            None => {
                let detail = format!("no TLS answer within {}", self.secs());
                let symptom = if after_starttls {
                    Symptom::Other
                } else {
                    Symptom::TlsTimeout
                };
                self.fail(&s, detail, &symptom);
                None
            }
            Some(Err(f)) => {
                if let net::TlsFailure::Expired(Some(c)) | net::TlsFailure::NotYetValid(Some(c)) =
                    &f
                {
                    self.certificate = Some(c.clone());
                }
                let (detail, symptom) = tls_failure(&f, host);
                self.rec.info(&format!("TLS failed: {detail}"));
                self.fail(&s, detail, &symptom);
                None
            }
            Some(Ok((stream, info))) => {
                self.certificate.clone_from(&info.cert);
                let mut status = Status::Ok;
                let detail = format!("{info}; name matches \"{host}\"");
                // The detail says the days left already; the step warns when they are few.
                if info.cert.as_ref().is_some_and(|c| c.days_left() < 14) {
                    status = Status::Warning;
                }
                self.rec.info(&format!("TLS: {detail}"));
                self.end(&s, status, detail);
                Some(net::Conn::Tls(Box::new(stream)))
            }
        }
    }

    /// Whether sign-in must not go ahead: no TLS, and the server is not this computer. (A token or
    /// password sent in clear text to another host is exposed to everyone on the path.)
    pub(crate) fn refuse_clear_text(&mut self, s: &Started, t: &Endpoint<'_>) -> bool {
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
    /// second connection tries a TLS hello, for at most 3 s more: the one wait that goes past a
    /// step's timeout, by a fixed bound.)
    pub(crate) async fn no_greeting(&mut self, s: &Started, protocol: &str) {
        let mut symptom = Symptom::NoGreeting;
        let tls = match self.tls.take() {
            Some(t) => Some(t),
            None => net::Tls::new(self.opts.ca_file.as_deref()).ok(),
        };
        if let (Some(addr), Some(t)) = (self.addr, &tls)
            && net::speaks_tls(
                addr,
                &self.host,
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
        F::Untrusted { cert: c, why } => (
            format!(
                "certificate not trusted: {}{}",
                why.unwrap_or("it was issued by a CA that neither the system nor tls.ca_file trusts"),
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
