//! Real test servers for the integration tests: an Entra-shaped identity provider, Dovecot (IMAP,
//! POP3, submission with XOAUTH2/OAUTHBEARER), an SMTP relay sink and a throwaway PKI, all on
//! loopback, all per test. Recipe and observed behaviour: /work/shared/test-servers.md.
//!
//! Use from an integration test with `mod support;`, from elsewhere with
//! `#[path = "…/tests/support/mod.rs"] mod support;`. Needs `dovecot` and `openssl` on the machine
//! (tests/servers/install.sh), and a tokio runtime:
//!
//! ```ignore
//! let s = support::TestServers::start().await?;           // ~0.15 s
//! let token = s.idp.issue_app_token(support::defaults::APP_CLIENT_ID, "https://outlook.office365.com")?;
//! // connect to 127.0.0.1:s.ports.imaps, trust s.ca_file(), name "localhost" or "127.0.0.1",
//! // AUTHENTICATE XOAUTH2 as support::defaults::MAILBOX with that token.
//! s.sink.wait_for(1, Duration::from_secs(10)).await?;      // what submission relayed
//! ```
//!
//! API:
//! - [`TestServers::start`]`() -> Result<TestServers>`; [`TestServers::start_with`]`(Options)`
//!   ([`Options`]: `auth_mechanisms`, `mailboxes_only`, `idp` (starting [`idp::Config`]),
//!   `introspection_timeout`, `sink_spool`, `app_opens_domain`).
//! - Fields: `ports: `[`Ports`] (Dovecot's nine listeners plus `idp` and `sink`), `idp: `[`idp::Idp`]
//!   (derefs to [`idp::IdpHandle`]: `authority()`, `config(|c| …)`, `add_app`, `requests()`,
//!   `issue_app_token`, `issue_user_token`, `revoke_all`, `expire_*`, `issued`), `sink: `[`sink::Sink`]
//!   (`messages()`, `wait_for(n, timeout)`).
//! - Methods: `ca_file()`, `untrusted_ca()`, `authority()`, `dovecot_log()` (path),
//!   `dovecot_log_text()`, `dovecot_pid()`, `dir()`, `deliver(user, rfc822)` (seeds a message),
//!   `make_mailbox_unreachable(user)`.
//! - `split_front()`: a [`split::SplitFront`] (each reply line its own write, no TCP_NODELAY).
//! - Modules: [`fake`] (misbehaving servers for fault injection: floods, trickles, echoes, an
//!   HTTP server with one answer), [`child`] (the `mailcfg` binary as a child: time limit, peak
//!   memory, stdout to /dev/full or a closed pipe, SIGINT), [`http`] (tiny HTTP client for the
//!   IdP), [`tls`] (rustls client: connect, STARTTLS upgrade, read_line), [`split`] (the
//!   split-write front), [`idp`] (configuration types, [`idp::MsError`], [`idp::defaults`]).
//!
//! Each instance has its own tempdir, ports and Dovecot `instance_name`; any number run side by
//! side. Dropping [`TestServers`] kills Dovecot (by pid, SIGKILL, then reaps it), stops the IdP and
//! sink and deletes the tempdir. Start it from a test's own task or thread, not from
//! `spawn_blocking`: Dovecot gets SIGKILL when the thread that started it ends (the safety net
//! against orphans when a test process is killed).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test crate uses a part

pub mod child;
pub mod dns;
pub mod dovecot;
pub mod fake;
pub mod http;
pub mod idp;
pub mod keyring;
pub mod pki;
pub mod sink;
pub mod split;
pub mod tls;
pub mod web;

use anyhow::{Context as _, Result};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use idp::defaults;

/// The password Dovecot's PLAIN mechanism accepts for every user (for comparison tests).
pub const PLAIN_PASSWORD: &str = "test-password";

/// Every port, all on 127.0.0.1 except the `*_remote` ones on 127.0.0.2 ([`dovecot::REMOTE`]),
/// where Dovecot doesn't count the connection as secure: there AUTH needs STARTTLS first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    /// IMAP, STARTTLS.
    pub imap: u16,
    /// IMAP, implicit TLS.
    pub imaps: u16,
    /// POP3, STLS.
    pub pop3: u16,
    /// POP3, implicit TLS.
    pub pop3s: u16,
    /// Submission, STARTTLS.
    pub submission: u16,
    /// Submission, implicit TLS.
    pub submissions: u16,
    pub imap_remote: u16,
    pub pop3_remote: u16,
    pub submission_remote: u16,
    /// The IdP (plain http).
    pub idp: u16,
    /// The SMTP sink Dovecot relays to.
    pub sink: u16,
}

/// Choices for [`TestServers::start_with`].
#[derive(Debug, Clone)]
pub struct Options {
    /// Dovecot's `auth_mechanisms`. Default `xoauth2 oauthbearer plain`. curl always picks
    /// OAUTHBEARER when offered: use `xoauth2 plain` to drive XOAUTH2 through curl.
    pub auth_mechanisms: String,
    /// `Some`: only these mailboxes exist; logging in as anyone else (with a good token) ends in
    /// a closed connection right after AUTH, like Exchange's "authenticated but not connected".
    pub mailboxes_only: Option<Vec<String>>,
    /// The IdP's starting configuration.
    pub idp: idp::Config,
    /// How long Dovecot waits for the IdP's introspection answer before a temporary failure
    /// (default 5 s, as in the recipe; shorten it for tests of [`idp::Introspection::Hang`]).
    pub introspection_timeout: Duration,
    /// Also write each relayed message into this directory.
    pub sink_spool: Option<PathBuf>,
    /// An app-only token opens every mailbox of its mailbox's domain, not just that one mailbox
    /// (Exchange without an application access policy): Dovecot compares only the domain of the
    /// login name with the domain introspection answers. For benchmarks of many mailboxes.
    pub app_opens_domain: bool,
    /// Exchange-like checks per protocol (see [`dovecot::Settings::per_protocol`]): the IdP
    /// refuses a token that lacks the protocol's role or scope, an app whose
    /// [`idp::App::exchange_registered`] is off, and [`idp::Config::protocols_off`]; homes are
    /// per protocol ([`TestServers::make_mailbox_unreachable_over`]).
    pub per_protocol: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            auth_mechanisms: "xoauth2 oauthbearer plain".into(),
            mailboxes_only: None,
            idp: idp::Config::default(),
            introspection_timeout: Duration::from_secs(5),
            sink_spool: None,
            app_opens_domain: false,
            per_protocol: false,
        }
    }
}

/// Everything running for one test. Field order is drop order: Dovecot first.
pub struct TestServers {
    dovecot: dovecot::Dovecot,
    pub idp: idp::Idp,
    pub sink: sink::Sink,
    pub ports: Ports,
    pki: pki::Pki,
    dir: tempfile::TempDir,
}

impl TestServers {
    /// Starts everything with [`Options::default`].
    pub async fn start() -> Result<Self> {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("mailcfg-it-")
            .tempdir()
            .context("making the test tempdir")?;
        // The PKI (openssl processes) and the in-process servers start at the same time.
        let (pki, idp, sink) = tokio::join!(
            pki::make(dir.path()),
            idp::Idp::start(options.idp),
            sink::Sink::start(options.sink_spool)
        );
        let (pki, idp, sink) = (pki?, idp?, sink?);
        let settings = dovecot::Settings {
            dir: dir.path(),
            pki: &pki,
            introspect_url: idp.introspect_url(),
            sink_port: sink.port,
            introspection_timeout: options.introspection_timeout,
            auth_mechanisms: options.auth_mechanisms,
            mailboxes_only: options.mailboxes_only,
            app_opens_domain: options.app_opens_domain,
            per_protocol: options.per_protocol,
        };
        let dovecot = dovecot::start(&settings).await?;
        let d = dovecot.ports;
        let idp_port = idp
            .authority()
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let ports = Ports {
            imap: d.imap,
            imaps: d.imaps,
            pop3: d.pop3,
            pop3s: d.pop3s,
            submission: d.submission,
            submissions: d.submissions,
            imap_remote: d.imap_remote,
            pop3_remote: d.pop3_remote,
            submission_remote: d.submission_remote,
            idp: idp_port,
            sink: sink.port,
        };
        Ok(Self {
            dovecot,
            idp,
            sink,
            ports,
            pki,
            dir,
        })
    }

    /// Trust this CA (PEM) to verify every TLS listener (names `localhost`, `127.0.0.1`, `127.0.0.2`).
    pub fn ca_file(&self) -> &Path {
        &self.pki.ca
    }
    /// The servers' certificate and key (PEM), signed by [`Self::ca_file`]'s CA.
    pub fn server_cert_and_key(&self) -> (&Path, &Path) {
        (&self.pki.cert, &self.pki.key)
    }
    /// A CA that signed nothing here: trusting only it must fail with an unknown-issuer error.
    pub fn untrusted_ca(&self) -> &Path {
        &self.pki.untrusted_ca
    }
    /// The account's `authority` (`http://127.0.0.1:PORT`).
    pub fn authority(&self) -> &str {
        self.idp.authority()
    }
    pub fn dovecot_log(&self) -> &Path {
        &self.dovecot.log
    }
    /// What Dovecot logged so far (auth decisions, relay results).
    pub fn dovecot_log_text(&self) -> String {
        std::fs::read_to_string(&self.dovecot.log).unwrap_or_default()
    }
    pub fn dovecot_pid(&self) -> u32 {
        self.dovecot.pid
    }
    /// The tempdir holding PKI, configuration, log and homes.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Starts a [`split::SplitFront`] before this Dovecot: IMAP (implicit TLS) and submission
    /// (STARTTLS) that write each reply line separately, without TCP_NODELAY.
    pub async fn split_front(&self) -> Result<split::SplitFront> {
        let (cert, key) = self.server_cert_and_key();
        split::SplitFront::start(
            self.ports.imap,
            self.ports.submission,
            tls::acceptor(cert, key)?,
        )
        .await
    }

    /// Drops an RFC 822 message into `user`'s INBOX (Maildir `new/`), as if delivered.
    pub fn deliver(&self, user: &str, message: &str) -> Result<()> {
        let maildir = self
            .dir
            .path()
            .join("home")
            .join(user.to_lowercase())
            .join("Maildir");
        // T/home belongs to the mail uid (see dovecot/conf.rs); the message must too.
        let home = std::fs::metadata(self.dir.path().join("home"))?;
        let (owner, group) = (
            std::os::unix::fs::MetadataExt::uid(&home),
            std::os::unix::fs::MetadataExt::gid(&home),
        );
        for sub in ["new", "cur", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub))?;
        }
        let name = format!(
            "{}.M{}P{}.localhost",
            idp::errors::now(),
            rand_u32(),
            std::process::id()
        );
        let file = maildir.join("new").join(name);
        std::fs::write(&file, message.replace("\r\n", "\n").replace('\n', "\r\n"))?;
        // Owned by the mail uid, or Dovecot can't move or delete it.
        for p in [
            maildir.parent().unwrap_or(&maildir).to_path_buf(),
            maildir.clone(),
            maildir.join("new"),
            maildir.join("cur"),
            maildir.join("tmp"),
            file,
        ] {
            std::os::unix::fs::chown(&p, Some(owner), Some(group))?;
        }
        Ok(())
    }

    /// Makes `user`'s home one the mail processes can't enter: login succeeds, then opening the
    /// mailbox fails with an internal error (Exchange's "authenticated but not connected", case 1).
    pub fn make_mailbox_unreachable(&self, user: &str) -> Result<()> {
        Self::lock_home(&self.dir.path().join("home").join(user.to_lowercase()))
    }

    /// With [`Options::per_protocol`]: `user`'s mailbox unreachable over one protocol only
    /// (`imap`, `pop3`): that protocol signs in and then cannot open it, the others can.
    pub fn make_mailbox_unreachable_over(&self, service: &str, user: &str) -> Result<()> {
        Self::lock_home(
            &self
                .dir
                .path()
                .join("home")
                .join(service)
                .join(user.to_lowercase()),
        )
    }

    fn lock_home(home: &Path) -> Result<()> {
        use std::os::unix::fs::PermissionsExt as _;
        let home = home.to_path_buf();
        std::fs::create_dir_all(&home)?;
        // As root: owned by root, so the mail uid (nobody) can't enter. Otherwise mode 000 suffices.
        let _ = std::os::unix::fs::chown(&home, Some(0), Some(0));
        std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o000))?;
        Ok(())
    }
}

fn rand_u32() -> u32 {
    let mut b = [0u8; 4];
    let _ = aws_lc_rs::rand::fill(&mut b);
    u32::from_le_bytes(b)
}
