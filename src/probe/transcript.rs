//! The transcript: every line sent and received, in order, with its direction and time, masked
//! before it is stored. [`Recorded`] wraps the connection (plain or TLS) below the protocol code,
//! so whatever a client library writes is recorded too.
//!
//! Masking works on known secrets: before a token, password or SASL string is sent, its text is
//! registered with a readable stand-in (`<user=…, bearer token of 1,412 bytes: masked>`) in the
//! process's one registry ([`crate::redact`]), and every line is masked when it is complete,
//! before anyone can see it.
//!
//! Bounds: a step keeps its first and last [`KEEP`] lines, with a count of those left out in
//! between, and a step may receive at most [`MAX_STEP_LINES`] lines or [`MAX_STEP_BYTES`] bytes:
//! past that, reads fail with a flood error, whichever protocol code (ours or async-imap) reads.

use std::collections::VecDeque;
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
/// Lines kept at each end of a step; those in between are counted.
pub(crate) const KEEP: usize = 20;
/// Most lines one step may receive: a real step gets a few dozen (EXAMINE, EHLO).
pub(crate) const MAX_STEP_LINES: usize = 1000;
/// Most bytes one step may receive.
pub(crate) const MAX_STEP_BYTES: usize = 1024 * 1024;

/// The error a read returns once the step received too much: what came by then.
#[derive(Debug)]
struct Flooded {
    lines: usize,
    bytes: usize,
}

impl fmt::Display for Flooded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the server sent {} lines ({} bytes) in one step",
            self.lines, self.bytes
        )
    }
}

impl std::error::Error for Flooded {}

/// The lines and bytes of a flood, if `e` (or what it wraps) is one.
pub(crate) fn flooded(e: &io::Error) -> Option<(usize, usize)> {
    e.get_ref()
        .and_then(|i| i.downcast_ref::<Flooded>())
        .map(|f| (f.lines, f.bytes))
}

#[derive(Default)]
struct Log {
    /// Every line of the steps before this one, and the first [`KEEP`] of this one.
    lines: Vec<TranscriptLine>,
    /// Where this step's lines start in `lines`.
    step_start: usize,
    /// This step's last lines once it has more than [`KEEP`].
    tail: VecDeque<TranscriptLine>,
    /// Lines of this step neither in `lines` nor in `tail`.
    left_out: usize,
    received_lines: usize,
    received_bytes: usize,
    partial_in: Vec<u8>,
    partial_out: Vec<u8>,
}

impl Log {
    fn push(&mut self, line: TranscriptLine) {
        if self.lines.len() - self.step_start < KEEP {
            self.lines.push(line);
            return;
        }
        self.tail.push_back(line);
        if self.tail.len() > KEEP {
            self.tail.pop_front();
            self.left_out += 1;
        }
    }

    /// The marker for lines left out, where there are any.
    fn marker(&self) -> Option<TranscriptLine> {
        (self.left_out > 0).then(|| TranscriptLine {
            at: self.tail.front().map_or_else(Default::default, |l| l.at),
            dir: Dir::Info,
            text: format!(
                "… {} lines of this step left out (its first and last {KEEP} are shown) …",
                super::thousands(self.left_out)
            ),
        })
    }

    fn end_step(&mut self) {
        if let Some(m) = self.marker() {
            self.lines.push(m);
        }
        self.lines.extend(self.tail.drain(..));
        self.left_out = 0;
        self.step_start = self.lines.len();
        self.received_lines = 0;
        self.received_bytes = 0;
    }

    fn view(&self) -> impl Iterator<Item = &TranscriptLine> {
        self.lines.iter()
    }

    fn len(&self) -> usize {
        self.lines.len() + usize::from(self.left_out > 0) + self.tail.len()
    }

    fn since(&self, from: usize) -> Vec<TranscriptLine> {
        let mut all: Vec<TranscriptLine> = self.view().cloned().collect();
        all.extend(self.marker());
        all.extend(self.tail.iter().cloned());
        all.get(from..).map(<[_]>::to_vec).unwrap_or_default()
    }

    fn flood(&self) -> Option<Flooded> {
        (self.received_lines > MAX_STEP_LINES || self.received_bytes > MAX_STEP_BYTES).then_some(
            Flooded {
                lines: self.received_lines,
                bytes: self.received_bytes,
            },
        )
    }
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

    /// From now on, `text` (a string around a registered secret, such as a SASL string) is
    /// shown as `shown` wherever it appears whole, here and in every other output.
    #[allow(clippy::unused_self)] // the transcript's own call, for the reader of sasl.rs
    pub(crate) fn mask(&self, text: &str, shown: &str) {
        crate::redact::register_exact(text, shown);
    }

    /// A new step starts: the last one's lines are settled and the receive budget is fresh.
    pub(crate) fn begin_step(&self) {
        self.flush();
        self.with(Log::end_step);
    }

    /// What this step received so far: lines and bytes.
    pub(crate) fn received(&self) -> (usize, usize) {
        self.with(|l| (l.received_lines, l.received_bytes))
    }

    /// A note of ours in the transcript (not a line on the wire).
    pub(crate) fn info(&self, text: &str) {
        let at = self.start.elapsed();
        self.with(|l| {
            l.push(TranscriptLine {
                at,
                dir: Dir::Info,
                text: masked(text),
            });
        });
    }

    fn bytes(&self, dir: Dir, data: &[u8]) -> Option<Flooded> {
        let at = self.start.elapsed();
        self.with(|l| {
            if dir == Dir::Received {
                l.received_bytes += data.len();
                l.received_lines += newlines(data);
            }
            let mut done = Vec::new();
            let partial = if dir == Dir::Sent {
                &mut l.partial_out
            } else {
                &mut l.partial_in
            };
            partial.extend_from_slice(data);
            while let Some(pos) = partial.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = partial.drain(..=pos).collect();
                done.push(line);
            }
            if dir == Dir::Received && partial.len() > MAX_RECEIVED {
                done.push(std::mem::take(partial));
            }
            for line in done {
                l.push(TranscriptLine {
                    at,
                    dir,
                    text: masked(&printable(&line)),
                });
            }
            l.flood()
        })
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
                        masked(&printable(&line))
                    };
                    l.push(TranscriptLine { at, dir, text });
                }
            }
        });
    }

    pub(crate) fn len(&self) -> usize {
        self.with(|l| l.len())
    }

    pub(crate) fn since(&self, from: usize) -> Vec<TranscriptLine> {
        self.with(|l| l.since(from))
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
            let tail = l.tail.iter().rev().find(|t| t.dir == Dir::Received);
            tail.or_else(|| {
                l.lines
                    .get(from..)?
                    .iter()
                    .rev()
                    .find(|t| t.dir == Dir::Received)
            })
            .map(|t| t.text.clone())
        })
    }
}

fn newlines(data: &[u8]) -> usize {
    data.split(|b| *b == b'\n').count() - 1
}

fn masked(text: &str) -> String {
    let mut out = crate::redact::mask(text);
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
    crate::redact::escape(&String::from_utf8_lossy(trimmed), false)
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
            } else if let Some(flood) = self.rec.bytes(Dir::Received, new) {
                // Whoever reads (our clients or async-imap) stops here.
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::InvalidData, flood)));
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
            let _ = self.rec.bytes(Dir::Sent, &buf[..*n]);
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

    #[test]
    fn a_step_keeps_its_first_and_last_lines_and_counts_the_rest() {
        let r = Recorder::new(Instant::now());
        r.begin_step();
        r.bytes(Dir::Sent, b"A1 AUTHENTICATE XOAUTH2 x\r\n");
        let mut flood = None;
        for i in 0..=MAX_STEP_LINES {
            flood = flood.or(r.bytes(Dir::Received, format!("* {i} EXISTS\r\n").as_bytes()));
        }
        let f = flood.expect("the budget ends the step");
        assert_eq!(f.lines, MAX_STEP_LINES + 1);
        let lines = r.since(0);
        assert_eq!(lines.len(), 2 * KEEP + 1);
        assert_eq!(lines[1].text, "* 0 EXISTS");
        assert!(
            lines[KEEP].text.contains("lines of this step left out"),
            "{}",
            lines[KEEP].text
        );
        assert_eq!(lines[2 * KEEP].text, format!("* {MAX_STEP_LINES} EXISTS"));
        assert_eq!(
            r.last_received(0).as_deref(),
            Some(format!("* {MAX_STEP_LINES} EXISTS").as_str())
        );
        // The next step starts with a fresh budget and keeps what the last one showed.
        r.begin_step();
        assert_eq!(r.received(), (0, 0));
        assert_eq!(r.len(), 2 * KEEP + 1);
        assert!(r.bytes(Dir::Received, b"+OK\r\n").is_none());
        assert_eq!(r.since(2 * KEEP + 1)[0].text, "+OK");
    }
}
