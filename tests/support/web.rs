//! The web hosts of the discovery tests on one loopback port: `autoconfig.{domain}`,
//! `{domain}/.well-known` and the ISPDB (`127.0.0.1/v1.1/{domain}`), told apart by the Host
//! header as name-based virtual hosting does. Hand-written HTTP/1.1 on tokio (one request per
//! connection) rather than axum because the hostile answers need what a framework will not send:
//! a body that never ends without a length, a length that lies, a connection left hanging.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Result;
use std::path::Path;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// What one URL answers.
#[derive(Debug, Clone)]
pub enum Reply {
    /// 200 with this body (`text/xml`, or `application/json` when it starts with `{`).
    Body(String),
    /// This status with an Entra-shaped or empty body.
    Status(u16, String),
    /// 302 to this location.
    Redirect(String),
    /// 200 with `len` bytes of `<` declared up front in Content-Length.
    HugeDeclared(usize),
    /// 200, chunked, `len` bytes of `<a>` without any length announced.
    HugeChunked(usize),
    /// Reads the request and never answers.
    Hang,
}

#[derive(Default)]
struct Routes {
    by_host_path: HashMap<(String, String), Reply>,
    log: Vec<String>,
}

/// A running web host; dropping it stops it.
pub struct Web {
    /// Plain http.
    pub port: u16,
    /// The same hosts over https, when started with [`Web::start_tls`].
    pub tls_port: Option<u16>,
    routes: Arc<Mutex<Routes>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Drop for Web {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

impl Web {
    pub async fn start() -> Result<Self> {
        let routes: Arc<Mutex<Routes>> = Arc::default();
        let (port, task) = listen(routes.clone(), None).await?;
        Ok(Self {
            port,
            tls_port: None,
            routes,
            tasks: vec![task],
        })
    }

    /// Also serves https with this certificate (names `localhost` and `127.0.0.1`).
    pub async fn start_tls(cert: &Path, key: &Path) -> Result<Self> {
        let mut w = Self::start().await?;
        let (port, task) = listen(w.routes.clone(), Some(super::tls::acceptor(cert, key)?)).await?;
        w.tls_port = Some(port);
        w.tasks.push(task);
        Ok(w)
    }

    /// `host` without a port; `path` with its leading `/` and without the query.
    pub fn set(&self, host: &str, path: &str, reply: Reply) {
        self.lock()
            .by_host_path
            .insert((host.to_ascii_lowercase(), path.to_owned()), reply);
    }

    /// Every request so far as `host path?query`.
    pub fn requests(&self) -> Vec<String> {
        self.lock().log.clone()
    }

    /// The ISPDB base URL on this host.
    pub fn ispdb(&self) -> String {
        format!("http://127.0.0.1:{}/v1.1/", self.port)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

async fn listen(
    routes: Arc<Mutex<Routes>>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> Result<(u16, JoinHandle<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let task = tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            let (r, tls) = (routes.clone(), tls.clone());
            tokio::spawn(async move {
                let _ = match tls {
                    Some(a) => match a.accept(sock).await {
                        Ok(s) => serve(s, &r).await,
                        Err(_) => Ok(()),
                    },
                    None => serve(sock, &r).await,
                };
            });
        }
    });
    Ok((port, task))
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    mut sock: S,
    routes: &Mutex<Routes>,
) -> Result<()> {
    let Some((host, target)) = read_request(&mut sock).await? else {
        return Ok(());
    };
    let path = target.split('?').next().unwrap_or("/").to_owned();
    let reply = {
        let mut r = routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        r.log.push(format!("{host} {target}"));
        r.by_host_path.get(&(host, path)).cloned()
    };
    respond(&mut sock, reply).await?;
    let _ = sock.shutdown().await;
    Ok(())
}

/// The Host (without its port, lowercased) and the request target of one request.
async fn read_request<S: AsyncRead + Unpin>(sock: &mut S) -> Result<Option<(String, String)>> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 16 * 1024 {
        let n = sock.read(&mut buf).await?;
        if n == 0 {
            return Ok(None);
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let target = text.split(' ').nth(1).unwrap_or("/").to_owned();
    let raw_host = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("Host: ")
                .or_else(|| l.strip_prefix("host: "))
        })
        .unwrap_or_default()
        .trim();
    let host = raw_host
        .rsplit_once(':')
        .map_or(raw_host, |(h, _)| h)
        .to_ascii_lowercase();
    Ok(Some((host, target)))
}

async fn respond<S: AsyncWrite + Unpin>(sock: &mut S, reply: Option<Reply>) -> Result<()> {
    let head = |status: &str, extra: &str| {
        format!("HTTP/1.1 {status}\r\nConnection: close\r\n{extra}\r\n")
    };
    match reply {
        None => {
            let body = "<html><body>Not Found</body></html>";
            let h = head(
                "404 Not Found",
                &format!(
                    "Content-Type: text/html\r\nContent-Length: {}\r\n",
                    body.len()
                ),
            );
            sock.write_all(format!("{h}{body}").as_bytes()).await?;
        }
        Some(Reply::Body(body)) => {
            let kind = if body.starts_with('{') {
                "application/json"
            } else {
                "text/xml"
            };
            let h = head(
                "200 OK",
                &format!("Content-Type: {kind}\r\nContent-Length: {}\r\n", body.len()),
            );
            sock.write_all(format!("{h}{body}").as_bytes()).await?;
        }
        Some(Reply::Status(code, body)) => {
            let h = head(
                &format!("{code} Status"),
                &format!(
                    "Content-Type: application/json\r\nContent-Length: {}\r\n",
                    body.len()
                ),
            );
            sock.write_all(format!("{h}{body}").as_bytes()).await?;
        }
        Some(Reply::Redirect(to)) => {
            let h = head(
                "302 Found",
                &format!("Location: {to}\r\nContent-Length: 0\r\n"),
            );
            sock.write_all(h.as_bytes()).await?;
        }
        Some(Reply::HugeDeclared(len)) => {
            let h = head(
                "200 OK",
                &format!("Content-Type: text/xml\r\nContent-Length: {len}\r\n"),
            );
            sock.write_all(h.as_bytes()).await?;
            let chunk = vec![b'<'; 64 * 1024];
            let mut sent = 0;
            while sent < len {
                let n = chunk.len().min(len - sent);
                sock.write_all(&chunk[..n]).await?;
                sent += n;
            }
        }
        Some(Reply::HugeChunked(len)) => {
            sock.write_all(
                head(
                    "200 OK",
                    "Content-Type: text/xml\r\nTransfer-Encoding: chunked\r\n",
                )
                .as_bytes(),
            )
            .await?;
            let piece = "<a>".repeat(8 * 1024);
            let mut sent = 0;
            while sent < len {
                sock.write_all(format!("{:x}\r\n{piece}\r\n", piece.len()).as_bytes())
                    .await?;
                sent += piece.len();
            }
            sock.write_all(b"0\r\n\r\n").await?;
        }
        Some(Reply::Hang) => tokio::time::sleep(Duration::from_hours(1)).await,
    }
    Ok(())
}
