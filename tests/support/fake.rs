//! Misbehaving servers for fault injection, all on 127.0.0.1 and bounded in time: a scripted
//! line server (POP3, SMTP, IMAP shapes) whose answers can flood, trickle, echo or close, and a
//! one-answer HTTP server (an identity provider that redirects). Each stops when dropped, and a
//! flood stops by itself after [`FLOOD_CAP`] or when the client goes away.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The longest a flood or trickle goes on, whatever the client does.
pub const FLOOD_CAP: Duration = Duration::from_mins(1);

/// What the server does after the greeting or a line.
#[derive(Debug, Clone)]
pub enum Answer {
    /// These bytes (may be several lines).
    Send(Vec<u8>),
    /// These bytes, then `line` over and over as fast as the client reads, without ending.
    Flood { first: Vec<u8>, line: Vec<u8> },
    /// These bytes, then `line` once every `every`, without ending.
    Trickle {
        first: Vec<u8>,
        line: Vec<u8>,
        every: Duration,
    },
    /// Nothing; keep reading.
    Nothing,
    /// Close the connection.
    Close,
}

impl Answer {
    pub fn text(s: &str) -> Self {
        Answer::Send(s.as_bytes().to_vec())
    }
}

/// Received lines, in order, across connections.
pub type Seen = Arc<Mutex<Vec<String>>>;

/// A scripted server; dropping it stops it.
pub struct Fake {
    pub port: u16,
    pub seen: Seen,
    task: JoinHandle<()>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Fake {
    /// Sends `greeting`, then answers each line received with `answer(line)`.
    pub async fn start(
        greeting: Answer,
        answer: impl Fn(&str) -> Answer + Send + Sync + 'static,
    ) -> Self {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let seen: Seen = Arc::default();
        let log = seen.clone();
        let answer = Arc::new(answer);
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((c, _)) = l.accept().await {
                let log = log.clone();
                let answer = answer.clone();
                let greeting = greeting.clone();
                conns.spawn(async move {
                    let (r, mut w) = c.into_split();
                    let mut r = BufReader::new(r);
                    if !act(&mut w, &greeting).await {
                        return;
                    }
                    let mut line = Vec::new();
                    loop {
                        line.clear();
                        match tokio::time::timeout(FLOOD_CAP, r.read_until(b'\n', &mut line)).await
                        {
                            Ok(Ok(n)) if n > 0 => {}
                            _ => return,
                        }
                        let text = String::from_utf8_lossy(&line)
                            .trim_end_matches(['\r', '\n'])
                            .to_owned();
                        log.lock().unwrap().push(text.clone());
                        if !act(&mut w, &answer(&text)).await {
                            return;
                        }
                    }
                });
            }
        });
        Self { port, seen, task }
    }

    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}

/// Does `a`; `false` when the connection is over.
async fn act(w: &mut tokio::net::tcp::OwnedWriteHalf, a: &Answer) -> bool {
    let started = Instant::now();
    match a {
        Answer::Send(b) => w.write_all(b).await.is_ok(),
        Answer::Nothing => true,
        Answer::Close => false,
        Answer::Flood { first, line } => {
            if w.write_all(first).await.is_err() {
                return false;
            }
            // Many lines per write, so the client, not this loop, is what is measured.
            let chunk: Vec<u8> = line.repeat((64 * 1024 / line.len().max(1)).max(1));
            while started.elapsed() < FLOOD_CAP {
                if w.write_all(&chunk).await.is_err() {
                    return false;
                }
            }
            false
        }
        Answer::Trickle { first, line, every } => {
            if w.write_all(first).await.is_err() {
                return false;
            }
            while started.elapsed() < FLOOD_CAP {
                tokio::time::sleep(*every).await;
                if w.write_all(line).await.is_err() {
                    return false;
                }
            }
            false
        }
    }
}

/// An HTTP server that answers every request with `response` (a whole HTTP response), and keeps
/// each request's head and body.
pub struct Http {
    pub port: u16,
    pub requests: Seen,
    task: JoinHandle<()>,
}

impl Drop for Http {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Http {
    pub async fn start(response: String) -> Self {
        let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let requests: Seen = Arc::default();
        let log = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((mut c, _)) = l.accept().await {
                let log = log.clone();
                let response = response.clone();
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 64 * 1024];
                    let mut got = Vec::new();
                    // One read of the head and body is enough for the small requests here.
                    let read = tokio::time::timeout(Duration::from_secs(10), c.read(&mut buf));
                    if let Ok(Ok(n)) = read.await {
                        got.extend_from_slice(&buf[..n]);
                    }
                    log.lock()
                        .unwrap()
                        .push(String::from_utf8_lossy(&got).into_owned());
                    let _ = c.write_all(response.as_bytes()).await;
                    let _ = c.shutdown().await;
                });
            }
        });
        Self {
            port,
            requests,
            task,
        }
    }
}
