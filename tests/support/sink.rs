//! The SMTP relay sink behind Dovecot's submission service (`submission_relay_host`): it accepts
//! every message and keeps it, so a test can assert what the app sent. Plain SMTP on 127.0.0.1,
//! no extensions, so Dovecot relays with plain MAIL/RCPT/DATA.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// One relayed message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// The MAIL FROM argument as sent, e.g. `<a@example.test>` (plus any parameters).
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The message, dot-unstuffed, lines ending in CRLF.
    pub data: String,
}

type Store = Arc<Mutex<Vec<Received>>>;

/// A running sink. Dropping it stops accepting.
pub struct Sink {
    pub port: u16,
    store: Store,
    task: JoinHandle<()>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Sink {
    /// Starts on 127.0.0.1, on a free port. With `spool`, each message is also written there as a
    /// file (for manual runs of the servers).
    pub async fn start(spool: Option<PathBuf>) -> Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let port = listener.local_addr()?.port();
        let store: Store = Arc::default();
        let s = Arc::clone(&store);
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(session(conn, Arc::clone(&s), spool.clone()));
            }
        });
        Ok(Self { port, store, task })
    }

    /// The messages received so far.
    pub fn messages(&self) -> Vec<Received> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Waits until at least `n` messages arrived, at most `timeout`.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Result<Vec<Received>> {
        let end = Instant::now() + timeout;
        loop {
            let got = self.messages();
            if got.len() >= n {
                return Ok(got);
            }
            if Instant::now() >= end {
                bail!(
                    "the SMTP sink got {} message(s) in {timeout:?}, expected {n}",
                    got.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// One SMTP conversation: 220; 250 to EHLO/HELO/MAIL/RCPT/RSET/NOOP; 354 to DATA then 250;
/// 221 to QUIT; 502 to anything else.
async fn session(conn: TcpStream, store: Store, spool: Option<PathBuf>) -> std::io::Result<()> {
    let (r, mut w) = conn.into_split();
    let mut r = BufReader::new(r);
    w.write_all(b"220 localhost mailcfg test sink ready\r\n")
        .await?;
    let (mut from, mut rcpt) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if r.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let cmd = line.trim_end().to_owned();
        let verb = cmd
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "HELO" => b"250 localhost\r\n",
            "MAIL" => {
                from = cmd.get(10..).unwrap_or_default().trim().to_owned();
                rcpt.clear();
                b"250 2.1.0 OK\r\n"
            }
            "RCPT" => {
                rcpt.push(cmd.get(8..).unwrap_or_default().trim().to_owned());
                b"250 2.1.5 OK\r\n"
            }
            "RSET" => {
                (from, rcpt) = (String::new(), Vec::new());
                b"250 2.0.0 OK\r\n"
            }
            "NOOP" => b"250 2.0.0 OK\r\n",
            "QUIT" => {
                w.write_all(b"221 2.0.0 Bye\r\n").await?;
                return Ok(());
            }
            "DATA" => {
                w.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await?;
                let mut data = String::new();
                loop {
                    line.clear();
                    if r.read_line(&mut line).await? == 0 {
                        return Ok(());
                    }
                    if line == ".\r\n" || line == ".\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                let msg = Received {
                    mail_from: std::mem::take(&mut from),
                    rcpt_to: std::mem::take(&mut rcpt),
                    data,
                };
                let n = {
                    let mut s = store
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner);
                    s.push(msg.clone());
                    s.len()
                };
                if let Some(dir) = &spool {
                    let _ = std::fs::create_dir_all(dir);
                    let _ = std::fs::write(dir.join(format!("{n:04}.eml")), &msg.data);
                }
                b"250 2.0.0 OK queued\r\n"
            }
            _ => b"502 5.5.2 Command not recognized\r\n",
        };
        w.write_all(reply).await?;
    }
}
