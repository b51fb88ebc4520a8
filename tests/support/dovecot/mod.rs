//! Dovecot as a child process: IMAP, POP3 and submission, implicit TLS and STARTTLS, on
//! 127.0.0.1 high ports, XOAUTH2/OAUTHBEARER checked by the IdP's `/introspect`: start with
//! retries on taken ports, readiness by greeting, kill on drop. Recipe and pitfalls:
//! /work/shared/test-servers.md; the configuration text is in `conf.rs`.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};
use tokio::io::BufReader;

mod conf;

use super::pki::Pki;
use super::tls;

/// `dovecot -F` exits with this when a listener's port is taken.
const EXIT_PORT_TAKEN: i32 = 89;
const LOCAL: Ipv4Addr = Ipv4Addr::LOCALHOST;
/// Dovecot treats a connection whose remote IP equals its local IP as secure (AUTH before TLS
/// allowed), so the "STARTTLS first" behaviour needs a listener on another loopback address:
/// a client connecting to 127.0.0.2 comes from 127.0.0.1.
pub const REMOTE: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

/// Every listener's port. `*_remote` listen on [`REMOTE`] (plaintext + STARTTLS/STLS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ports {
    pub imap: u16,
    pub imaps: u16,
    pub pop3: u16,
    pub pop3s: u16,
    pub submission: u16,
    pub submissions: u16,
    pub imap_remote: u16,
    pub pop3_remote: u16,
    pub submission_remote: u16,
}

/// What the generated dovecot.conf depends on.
pub struct Settings<'a> {
    pub dir: &'a Path,
    pub pki: &'a Pki,
    pub introspect_url: String,
    pub sink_port: u16,
    /// How long Dovecot waits for an introspection answer (`timeout_msecs`).
    pub introspection_timeout: Duration,
    /// `auth_mechanisms`, e.g. `xoauth2 oauthbearer plain`. curl always picks OAUTHBEARER when it
    /// is offered, so XOAUTH2-through-curl tests need `xoauth2 plain`.
    pub auth_mechanisms: String,
    /// `Some`: the userdb knows only these users; any other login is cut off right after AUTH with
    /// no reply (Exchange's "authenticated but not connected", case 3 of the recipe).
    pub mailboxes_only: Option<Vec<String>>,
    /// Compare only the domain of the login name with introspection's answer
    /// (`username_format = %d`): one app-only token opens every mailbox of that domain.
    pub app_opens_domain: bool,
    /// Exchange-like: each protocol asks its own introspection address (`…/introspect/imap`), so
    /// the IdP can check the protocol's role or scope, and each protocol has its own homes
    /// (`home/<protocol>/<user>`), so one protocol can lose a mailbox the others still open.
    pub per_protocol: bool,
}

/// The running server. Dropping it kills Dovecot (SIGKILL: all its processes are gone and the
/// ports free within ~100 ms) and reaps it.
pub struct Dovecot {
    child: Child,
    pub ports: Ports,
    /// `instance_name`, also in every greeting (`login_greeting`).
    pub instance: String,
    pub log: PathBuf,
    pub pid: u32,
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Free ports, found by binding port 0 and letting go (all held at once, so they differ).
/// Another process may take one before Dovecot binds it: then Dovecot exits 89 and we retry.
fn pick_ports() -> Result<Ports> {
    let hold = |ip: Ipv4Addr| TcpListener::bind((ip, 0));
    let l: Vec<TcpListener> = [
        LOCAL, LOCAL, LOCAL, LOCAL, LOCAL, LOCAL, REMOTE, REMOTE, REMOTE,
    ]
    .into_iter()
    .map(hold)
    .collect::<Result<_, _>>()?;
    let p: Vec<u16> = l
        .iter()
        .map(|x| x.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()?;
    Ok(Ports {
        imap: p[0],
        imaps: p[1],
        pop3: p[2],
        pop3s: p[3],
        submission: p[4],
        submissions: p[5],
        imap_remote: p[6],
        pop3_remote: p[7],
        submission_remote: p[8],
    })
}

static INSTANCES: AtomicU32 = AtomicU32::new(0);

/// Starts Dovecot and returns once every login service greets (IMAPS through verified TLS).
pub async fn start(s: &Settings<'_>) -> Result<Dovecot> {
    let id = conf::identity(s.dir)?;
    conf::write_files(s, &id)?;
    let log = s.dir.join("dovecot.log");
    for _attempt in 0..8 {
        let ports = pick_ports()?;
        let instance = format!(
            "mailcfg-{}-{}",
            std::process::id(),
            INSTANCES.fetch_add(1, Ordering::Relaxed)
        );
        let conf = s.dir.join("dovecot.conf");
        std::fs::write(&conf, conf::config(s, &id, &ports, &instance))?;
        // A fresh base_dir each time: an old anvil socket there delays the first login by 5 s.
        for d in ["run", "state"] {
            let _ = std::fs::remove_dir_all(s.dir.join(d));
            std::fs::create_dir_all(s.dir.join(d))?;
        }
        let stderr = std::fs::File::create(s.dir.join("dovecot.stderr"))?;
        let dovecot = if Path::new("/usr/sbin/dovecot").exists() {
            "/usr/sbin/dovecot"
        } else {
            "dovecot"
        };
        // setpriv --pdeathsig: if the test process dies without running Drop (killed, aborted),
        // the kernel kills Dovecot too, so no orphan keeps ports and files.
        let mut cmd = if Path::new("/usr/bin/setpriv").exists() {
            let mut c = Command::new("/usr/bin/setpriv");
            c.args(["--pdeathsig", "KILL", dovecot]);
            c
        } else {
            Command::new(dovecot)
        };
        cmd.arg("-F")
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(stderr.try_clone()?)
            .stderr(stderr);
        let child = cmd
            .spawn()
            .context("cannot start dovecot (tests/servers/install.sh installs it)")?;
        let pid = child.id();
        let mut d = Dovecot {
            child,
            ports,
            instance,
            log: log.clone(),
            pid,
        };
        match wait_ready(&mut d, &s.pki.ca).await? {
            Ready::Yes => return Ok(d),
            Ready::PortTaken => {}
        }
    }
    bail!("dovecot found a port taken 8 times in a row");
}

enum Ready {
    Yes,
    PortTaken,
}

/// Polls the greetings (not just connect(): a connection made before the auth process is up is
/// dropped). Each greeting must name our instance; Dovecot must still be running afterwards.
async fn wait_ready(d: &mut Dovecot, ca: &Path) -> Result<Ready> {
    let deadline = Instant::now() + Duration::from_secs(20);
    let p = d.ports;
    let mut pending: Vec<(u16, bool)> =
        vec![(p.imaps, true), (p.pop3, false), (p.submission, false)];
    loop {
        if let Some(status) = d.child.try_wait()? {
            if status.code() == Some(EXIT_PORT_TAKEN) {
                return Ok(Ready::PortTaken);
            }
            bail!("dovecot exited ({status}): {}", failure_text(d));
        }
        let mut still = Vec::new();
        for (port, implicit_tls) in pending {
            if !greets(port, implicit_tls, ca, &d.instance).await {
                still.push((port, implicit_tls));
            }
        }
        pending = still;
        if pending.is_empty() && d.child.try_wait()?.is_none() {
            return Ok(Ready::Yes);
        }
        if Instant::now() >= deadline {
            bail!(
                "dovecot did not greet on ports {pending:?} within 20 s: {}",
                failure_text(d)
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn greets(port: u16, implicit_tls: bool, ca: &Path, instance: &str) -> bool {
    let addr = SocketAddr::from((LOCAL, port));
    let probe = async {
        let line = if implicit_tls {
            let s = tls::connect(addr, "localhost", ca).await?;
            tls::read_line(&mut BufReader::new(s), Duration::from_secs(2)).await?
        } else {
            let s = tokio::net::TcpStream::connect(addr).await?;
            tls::read_line(&mut BufReader::new(s), Duration::from_secs(2)).await?
        };
        anyhow::Ok(line.contains(instance))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(3), probe).await,
        Ok(Ok(true))
    )
}

fn failure_text(d: &Dovecot) -> String {
    let err = std::fs::read_to_string(d.log.with_file_name("dovecot.stderr")).unwrap_or_default();
    let log = std::fs::read_to_string(&d.log).unwrap_or_default();
    let tail: Vec<&str> = log.lines().rev().take(15).collect();
    format!(
        "stderr: {}\nlog tail:\n{}",
        err.trim(),
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    )
}
