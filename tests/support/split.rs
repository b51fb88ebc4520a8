//! A "split-write" front for Dovecot, a fault server for speed: it writes every reply line with
//! its own write (over TLS: its own record) on a socket without TCP_NODELAY, as Exchange Online
//! and many other servers do. Nagle's algorithm then holds each line after the first until the
//! client acknowledges the one before, and a client that delays its ACKs (Linux: 40 ms, Windows:
//! up to 200 ms) or writes a command in pieces stalls at each such reply. The benchmark
//! (bench/bench.py) runs mailcfg and curl through it.
//!
//! - IMAP, implicit TLS: TLS here (the test PKI), then plain IMAP to Dovecot's `imap` listener
//!   (on 127.0.0.1 Dovecot counts the connection as secure, so sign-in works as on `imaps`).
//! - Submission, STARTTLS: plain SMTP relayed to Dovecot's `submission` listener until the client
//!   sends `STARTTLS`, which the front answers itself (`220`) before its own TLS handshake; after
//!   it the relay goes on through TLS, and Dovecot's `STARTTLS` line is left out of the EHLO list.
//!
//! Client to server, bytes pass unchanged; server to client, each complete line is one write.

use std::net::SocketAddr;

use anyhow::Result;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWrite};
use tokio::io::{AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

/// The running front. Dropping it stops accepting (open connections end with their peers).
pub struct SplitFront {
    /// IMAP, implicit TLS.
    pub imaps: u16,
    /// Submission, STARTTLS.
    pub submission: u16,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for SplitFront {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl SplitFront {
    /// Listens on 127.0.0.1 (two free ports) in front of Dovecot's plain `imap` and `submission`
    /// ports, with TLS from `acceptor`.
    pub async fn start(imap: u16, submission: u16, acceptor: TlsAcceptor) -> Result<Self> {
        let imaps_l = TcpListener::bind("127.0.0.1:0").await?;
        let sub_l = TcpListener::bind("127.0.0.1:0").await?;
        let (imaps, sub) = (imaps_l.local_addr()?.port(), sub_l.local_addr()?.port());
        let tls = acceptor.clone();
        let imap_task = tokio::spawn(async move {
            while let Ok((c, _)) = imaps_l.accept().await {
                let tls = tls.clone();
                tokio::spawn(async move {
                    let _ = imaps_session(c, imap, tls).await;
                });
            }
        });
        let sub_task = tokio::spawn(async move {
            while let Ok((c, _)) = sub_l.accept().await {
                let tls = acceptor.clone();
                tokio::spawn(async move {
                    let _ = submission_session(c, submission, tls).await;
                });
            }
        });
        Ok(Self {
            imaps,
            submission: sub,
            tasks: vec![imap_task, sub_task],
        })
    }
}

async fn backend(port: u16) -> Result<TcpStream> {
    Ok(TcpStream::connect(SocketAddr::from(([127, 0, 0, 1], port))).await?)
}

async fn imaps_session(client: TcpStream, port: u16, tls: TlsAcceptor) -> Result<()> {
    client.set_nodelay(false)?;
    let server = backend(port).await?;
    let client = tls.accept(client).await?;
    let (cr, cw) = tokio::io::split(client);
    let (sr, sw) = server.into_split();
    relay(cr, cw, sr, sw, Vec::new(), false).await
}

async fn submission_session(client: TcpStream, port: u16, tls: TlsAcceptor) -> Result<()> {
    client.set_nodelay(false)?;
    let server = backend(port).await?;
    let (sr, mut sw) = server.into_split();
    let mut sr = BufReader::new(sr);
    let (cr, mut cw) = client.into_split();
    let mut cr = BufReader::new(cr);
    // Plain text until STARTTLS: lines both ways, each reply line its own write.
    let (mut from_client, mut from_server) = (Vec::new(), Vec::new());
    loop {
        tokio::select! {
            n = cr.read_until(b'\n', &mut from_client) => {
                if n? == 0 || !from_client.ends_with(b"\n") {
                    return Ok(());
                }
                if from_client.trim_ascii().eq_ignore_ascii_case(b"STARTTLS") {
                    break;
                }
                sw.write_all(&from_client).await?;
                from_client.clear();
            }
            n = sr.read_until(b'\n', &mut from_server) => {
                if n? == 0 || !from_server.ends_with(b"\n") {
                    return Ok(());
                }
                cw.write_all(&from_server).await?;
                from_server.clear();
            }
        }
    }
    cw.write_all(b"220 2.0.0 Ready to start TLS\r\n").await?;
    // The client must wait for the 220 before its handshake: nothing may be buffered.
    if !cr.buffer().is_empty() {
        return Ok(());
    }
    let client = cr.into_inner().reunite(cw)?;
    let client = tls.accept(client).await?;
    let (cr, cw) = tokio::io::split(client);
    let pending = sr.buffer().to_vec();
    relay(cr, cw, sr.into_inner(), sw, pending, true).await
}

/// Client bytes to the server as they come; server bytes to the client a line per write (and
/// flush: one TLS record each). `pending`: server bytes already read. `hide_starttls`: drop the
/// server's `250-STARTTLS` line (the front did STARTTLS itself).
async fn relay(
    mut cr: impl AsyncRead + Unpin,
    mut cw: impl AsyncWrite + Unpin,
    mut sr: impl AsyncRead + Unpin,
    mut sw: impl AsyncWrite + Unpin,
    mut pending: Vec<u8>,
    hide_starttls: bool,
) -> Result<()> {
    let up = async {
        let _ = tokio::io::copy(&mut cr, &mut sw).await;
        let _ = sw.shutdown().await;
    };
    let down = async {
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            while let Some(end) = pending.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                if hide_starttls && line.trim_ascii().eq_ignore_ascii_case(b"250-STARTTLS") {
                    continue;
                }
                if cw.write_all(&line).await.is_err() || cw.flush().await.is_err() {
                    return;
                }
            }
            match sr.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => pending.extend_from_slice(&chunk[..n]),
            }
        }
        let _ = cw.write_all(&pending).await;
        let _ = cw.shutdown().await;
    };
    // The server's close ends the session; the client's only ends its direction.
    tokio::pin!(down);
    let client_done = tokio::select! {
        () = &mut down => false,
        () = up => true,
    };
    if client_done {
        down.await;
    }
    Ok(())
}
