//! A real DNS server for the discovery tests: Debian's dnsmasq (tests/servers/install.sh) on a
//! free loopback port, UDP and TCP, serving the MX, SRV and A records a test gives it and
//! NXDOMAIN for every other name under `.test`. Nothing else is answered (no upstream, no
//! /etc/hosts), so a test can never reach the real DNS. dnsmasq rather than hickory-server as a
//! dev-dependency: no build cost on a 2-core machine, and a different implementation from the
//! client, so a shared misreading of the protocol cannot hide.
//!
//! [`Silent`] is the fault: a server that takes the questions and never answers.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result, bail};

/// The zone data, as dnsmasq options.
#[derive(Debug, Clone, Default)]
pub struct Records {
    lines: Vec<String>,
}

impl Records {
    pub fn new() -> Self {
        Self::default()
    }
    /// `domain MX preference host`.
    pub fn mx(mut self, domain: &str, host: &str, preference: u16) -> Self {
        self.lines
            .push(format!("mx-host={domain},{host},{preference}"));
        self
    }
    /// `name SRV priority weight port target`.
    pub fn srv(mut self, name: &str, target: &str, port: u16, priority: u16, weight: u16) -> Self {
        self.lines.push(format!(
            "srv-host={name},{target},{port},{priority},{weight}"
        ));
        self
    }
    /// An SRV record with the target `.`: "this service is not offered here" (RFC 2782).
    pub fn srv_unavailable(mut self, name: &str) -> Self {
        self.lines.push(format!("srv-host={name}"));
        self
    }
    /// `name A ip`.
    pub fn a(mut self, name: &str, ip: &str) -> Self {
        self.lines.push(format!("host-record={name},{ip}"));
        self
    }
}

/// A running dnsmasq. Dropping it kills it.
pub struct Dnsmasq {
    child: tokio::process::Child,
    pub addr: SocketAddr,
    dir: tempfile::TempDir,
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

impl Dnsmasq {
    pub async fn start(records: &Records) -> Result<Self> {
        let dir = tempfile::Builder::new().prefix("mailcfg-dns-").tempdir()?;
        for _ in 0..5 {
            let port = free_port()?;
            let mut conf = format!(
                "port={port}\nlisten-address=127.0.0.1\nbind-interfaces\nno-resolv\nno-hosts\nno-poll\n\
                 local=/test/\nlog-queries\nlog-facility={}\n",
                dir.path().join("queries.log").display()
            );
            for l in &records.lines {
                let _ = writeln!(conf, "{l}");
            }
            let file = dir.path().join("dnsmasq.conf");
            std::fs::write(&file, conf)?;
            let mut child = tokio::process::Command::new("dnsmasq")
                .arg("--keep-in-foreground")
                .arg(format!("--conf-file={}", file.display()))
                .arg("--pid-file")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .context("starting dnsmasq (install it with tests/servers/install.sh)")?;
            let addr: SocketAddr = ([127, 0, 0, 1], port).into();
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Some(status) = child.try_wait()? {
                    let mut err = String::new();
                    if let Some(mut e) = child.stderr.take() {
                        use tokio::io::AsyncReadExt as _;
                        let _ = e.read_to_string(&mut err).await;
                    }
                    if err.contains("Address in use") || err.contains("address already in use") {
                        break;
                    }
                    bail!("dnsmasq exited ({status}): {err}");
                }
                if tokio::net::TcpStream::connect(addr).await.is_ok() {
                    return Ok(Self { child, addr, dir });
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            let _ = child.start_kill();
        }
        bail!("dnsmasq did not start on a free port in 5 tries")
    }

    /// What dnsmasq logged: every question it was asked.
    pub fn queries(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("queries.log")).unwrap_or_default()
    }
}

/// A port free for both UDP and TCP on 127.0.0.1 (DNS uses both).
fn free_port() -> Result<u16> {
    for _ in 0..20 {
        let udp = std::net::UdpSocket::bind("127.0.0.1:0")?;
        let port = udp.local_addr()?.port();
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return Ok(port);
        }
    }
    bail!("no port free for both UDP and TCP")
}

/// A DNS server that does not answer: its sockets take every question and reply to none.
pub struct Silent {
    _udp: std::net::UdpSocket,
    _tcp: std::net::TcpListener,
    pub addr: SocketAddr,
}

impl Silent {
    pub fn start() -> Result<Self> {
        let port = free_port()?;
        let udp = std::net::UdpSocket::bind(("127.0.0.1", port))?;
        let tcp = std::net::TcpListener::bind(("127.0.0.1", port))?;
        Ok(Self {
            _udp: udp,
            _tcp: tcp,
            addr: ([127, 0, 0, 1], port).into(),
        })
    }
}
