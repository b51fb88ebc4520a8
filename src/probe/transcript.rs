//! The transcript: every line sent and received, in order, with its direction and time, masked
//! before it is stored. [`Recorded`] wraps the connection (plain or TLS) below the protocol code,
//! so whatever a client library writes is recorded too.
//!
//! Masking works on known secrets: before a token, password or SASL string is sent, its text is
//! registered with a readable stand-in (`<user=…, bearer token of 1,412 bytes: masked>`), and every
//! line is checked against all registered secrets when it is complete, before anyone can see it.

use std::fmt::{self, Write as _};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::wire::OneWrite;
use super::{Dir, TranscriptLine};

/// A server line longer than this (binary, or endless data) is cut into pieces. Lines we send are
/// never cut before masking, or a secret split in two would escape it.
const MAX_RECEIVED: usize = 64 * 1024;
/// Longest text shown for one line, after masking.
const MAX_SHOWN: usize = 2000;

#[derive(Default)]
struct Log {
    lines: Vec<TranscriptLine>,
    secrets: Vec<(String, String)>,
    partial_in: Vec<u8>,
    partial_out: Vec<u8>,
}

/// The shared transcript of one test (cheap to clone).
#[derive(Clone)]
pub(crate) struct Recorder {
    start: Instant,
    log: Arc<Mutex<Log>>,
}

impl Recorder {
    pub(crate) fn new(start: Instant) -> Self {
        Self {
            start,
            log: Arc::default(),
        }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Log) -> R) -> R {
        f(&mut self.log.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// From now on, `secret` never appears in the transcript: `shown` stands in for it.
    pub(crate) fn mask(&self, secret: &str, shown: &str) {
        if secret.is_empty() {
            return;
        }
        self.with(|l| {
            l.secrets.push((secret.to_owned(), shown.to_owned()));
            // Longest first, so that a token inside a SASL string is not replaced before it.
            l.secrets.sort_by_key(|(s, _)| std::cmp::Reverse(s.len()));
        });
    }

    /// A note of ours in the transcript (not a line on the wire).
    pub(crate) fn info(&self, text: &str) {
        let at = self.start.elapsed();
        self.with(|l| {
            let text = masked(&l.secrets, text);
            l.lines.push(TranscriptLine {
                at,
                dir: Dir::Info,
                text,
            });
        });
    }

    fn bytes(&self, dir: Dir, data: &[u8]) {
        let at = self.start.elapsed();
        self.with(|l| {
            let Log {
                lines,
                secrets,
                partial_in,
                partial_out,
            } = l;
            let partial = if dir == Dir::Sent {
                partial_out
            } else {
                partial_in
            };
            partial.extend_from_slice(data);
            while let Some(pos) = partial.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = partial.drain(..=pos).collect();
                lines.push(TranscriptLine {
                    at,
                    dir,
                    text: masked(secrets, &printable(&line)),
                });
            }
            if dir == Dir::Received && partial.len() > MAX_RECEIVED {
                let line: Vec<u8> = std::mem::take(partial);
                lines.push(TranscriptLine {
                    at,
                    dir,
                    text: masked(secrets, &printable(&line)),
                });
            }
        });
    }

    /// Records what is left of unfinished lines (a server that closed mid-line).
    pub(crate) fn flush(&self) {
        let at = self.start.elapsed();
        self.with(|l| {
            for dir in [Dir::Sent, Dir::Received] {
                let partial = if dir == Dir::Sent {
                    &mut l.partial_out
                } else {
                    &mut l.partial_in
                };
                if !partial.is_empty() {
                    let line = std::mem::take(partial);
                    // An unfinished line of ours may hold part of a secret, which no mask
                    // matches: only its size is shown.
                    let text = if dir == Dir::Sent {
                        format!("<{} bytes sent without a line end: not shown>", line.len())
                    } else {
                        masked(&l.secrets, &printable(&line))
                    };
                    l.lines.push(TranscriptLine { at, dir, text });
                }
            }
        });
    }

    pub(crate) fn len(&self) -> usize {
        self.with(|l| l.lines.len())
    }

    pub(crate) fn since(&self, from: usize) -> Vec<TranscriptLine> {
        self.with(|l| l.lines.get(from..).map(<[_]>::to_vec).unwrap_or_default())
    }

    /// The quickest answer so far: the least time from a line sent to the next line received (a
    /// round trip plus the server's least work), which tells how long an answer to LOGOUT takes.
    pub(crate) fn quickest_answer(&self) -> Option<Duration> {
        self.with(|l| {
            let mut sent_at = None;
            let mut best: Option<Duration> = None;
            for t in &l.lines {
                match t.dir {
                    Dir::Sent => sent_at = Some(t.at),
                    Dir::Received => {
                        if let Some(at) = sent_at.take() {
                            let d = t.at.saturating_sub(at);
                            best = Some(best.map_or(d, |b| b.min(d)));
                        }
                    }
                    Dir::Info => {}
                }
            }
            best
        })
    }

    /// The last line the server sent since `from`, as shown (masked).
    pub(crate) fn last_received(&self, from: usize) -> Option<String> {
        self.with(|l| {
            l.lines
                .get(from..)?
                .iter()
                .rev()
                .find(|t| t.dir == Dir::Received)
                .map(|t| t.text.clone())
        })
    }
}

fn masked(secrets: &[(String, String)], text: &str) -> String {
    let mut out = text.to_owned();
    for (secret, shown) in secrets {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), shown);
        }
    }
    if out.len() > MAX_SHOWN {
        let mut cut = MAX_SHOWN;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        let total = out.len();
        out.truncate(cut);
        let _ = write!(out, "… ({total} characters in all)");
    }
    out
}

/// A line as text: without its line end, control bytes and invalid UTF-8 escaped.
fn printable(line: &[u8]) -> String {
    let trimmed = line
        .strip_suffix(b"\n")
        .map_or(line, |l| l.strip_suffix(b"\r").unwrap_or(l));
    let text = String::from_utf8_lossy(trimmed);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&c.escape_default().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A connection whose bytes are recorded in both directions, and whose writes leave at each
/// flush as one write ([`OneWrite`]: one command, one TLS record).
pub(crate) struct Recorded<S> {
    inner: OneWrite<S>,
    rec: Recorder,
}

impl<S> Recorded<S> {
    pub(crate) fn new(inner: S, rec: Recorder) -> Self {
        Self {
            inner: OneWrite::new(inner),
            rec,
        }
    }
    /// The connection below (after a flush: what was written and not flushed is dropped).
    pub(crate) fn into_inner(self) -> S {
        self.rec.flush();
        self.inner.into_inner()
    }
}

impl<S> fmt::Debug for Recorded<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Recorded")
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Recorded<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &r {
            let new = &buf.filled()[before..];
            if new.is_empty() {
                self.rec.flush();
            } else {
                self.rec.bytes(Dir::Received, new);
            }
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Recorded<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.rec.bytes(Dir::Sent, &buf[..*n]);
        }
        r
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_in_every_line_and_lines_are_split() {
        let r = Recorder::new(Instant::now());
        r.mask("c2VjcmV0LXNhc2w=", "<sasl masked>");
        r.mask("tok-123", "<token masked>");
        r.bytes(Dir::Sent, b"A1 AUTHENTICATE XOAUTH2 c2VjcmV0");
        r.bytes(Dir::Sent, b"LXNhc2w=\r\nA2 NOOP tok-123\r\n");
        r.bytes(Dir::Received, b"* OK\r\nA1 OK done\r\npartial");
        r.bytes(Dir::Sent, b"A3 AUTHENTICATE XOAUTH2 c2VjcmV0");
        r.flush();
        r.info("token tok-123");
        let texts: Vec<String> = r.since(0).into_iter().map(|l| l.text).collect();
        assert_eq!(
            texts,
            [
                "A1 AUTHENTICATE XOAUTH2 <sasl masked>",
                "A2 NOOP <token masked>",
                "* OK",
                "A1 OK done",
                "<32 bytes sent without a line end: not shown>",
                "partial",
                "token <token masked>"
            ]
        );
        assert_eq!(r.last_received(0).as_deref(), Some("partial"));
        assert!(!r.since(0).iter().any(|l| l.text.contains("c2VjcmV0")));
    }

    #[test]
    fn a_long_secret_line_is_masked_whole() {
        let r = Recorder::new(Instant::now());
        let secret = "x".repeat(5000);
        r.mask(&secret, "<masked>");
        r.bytes(Dir::Sent, b"A1 AUTHENTICATE XOAUTH2 ");
        r.bytes(Dir::Sent, secret.as_bytes());
        r.bytes(Dir::Sent, b"\r\n");
        let lines = r.since(0);
        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0].text, "A1 AUTHENTICATE XOAUTH2 <masked>");
    }

    #[test]
    fn binary_is_escaped() {
        assert_eq!(printable(b"\x16\x03\x01ab\r\n"), "\\u{16}\\u{3}\\u{1}ab");
    }
}
