//! A line-at-a-time connection for the small POP3 and SMTP clients: CRLF lines out, lines in,
//! every byte through the recorded stream. Reads never buffer past the current line's end within
//! what the server sent, so a STARTTLS upgrade can take the connection back.
//!
//! Every read is bounded in bytes: a line at [`MAX_LINE`], a multi-line reply (EHLO, CAPA) at
//! [`MAX_REPLY_LINES`] lines and [`MAX_REPLY_BYTES`] bytes, so that a server sending endless
//! lines is stopped and named ([`ReadError::Flood`]); the step's deadline bounds the time. What is
//! sent is a [`Line`], which can only be built from parts without control characters: a user
//! name or address holding CR LF cannot become a command of its own.

use std::io;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::net::Conn;
use super::transcript::{Recorded, Recorder};

/// Longest reply line accepted (RFC 5321 allows 512; servers send more in EHLO/CAPA lists).
pub(crate) const MAX_LINE: usize = 8192;
/// Most lines in one multi-line reply: real EHLO and CAPA answers have about 20.
pub(crate) const MAX_REPLY_LINES: usize = 256;
/// Most bytes in one multi-line reply.
pub(crate) const MAX_REPLY_BYTES: usize = 64 * 1024;

/// Why a reply could not be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    /// The server closed the connection.
    Closed,
    /// A line longer than [`MAX_LINE`].
    TooLong,
    /// A reply (or step) past the caps: what had come by then.
    Flood {
        lines: usize,
        bytes: usize,
    },
    Io(io::Error),
}

impl From<io::Error> for ReadError {
    fn from(e: io::Error) -> Self {
        match super::transcript::flooded(&e) {
            Some((lines, bytes)) => ReadError::Flood { lines, bytes },
            None => ReadError::Io(e),
        }
    }
}

/// A value that may not go into a protocol line (it holds a control character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Unsafe;

/// One command line, built only from checked parts; the line end is added when it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Line(String);

impl Line {
    /// `parts` joined by spaces; refused if any holds a control character (CR, LF, NUL…).
    pub(crate) fn new(parts: &[&str]) -> Result<Self, Unsafe> {
        if parts
            .iter()
            .any(|p| p.chars().any(crate::redact::is_unsafe_char))
        {
            return Err(Unsafe);
        }
        Ok(Self(parts.join(" ")))
    }

    /// A fixed command of ours (`QUIT`, `STAT`).
    pub(crate) fn verb(verb: &'static str) -> Self {
        debug_assert!(!verb.chars().any(char::is_control));
        Self(verb.to_owned())
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Splits received bytes into lines, without I/O (the readers and the property tests share it).
#[derive(Debug, Default)]
pub(crate) struct Framer {
    buf: Vec<u8>,
}

impl Framer {
    pub(crate) fn feed(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// The next complete line without its line end; `Ok(None)` when more bytes are needed.
    pub(crate) fn next_line(&mut self) -> Result<Option<String>, ReadError> {
        if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
            if pos > MAX_LINE {
                return Err(ReadError::TooLong);
            }
            let line: Vec<u8> = self.buf.drain(..=pos).collect();
            let text = String::from_utf8_lossy(&line);
            return Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()));
        }
        if self.buf.len() > MAX_LINE {
            return Err(ReadError::TooLong);
        }
        Ok(None)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }
}

/// What one multi-line reply has used of its caps.
#[derive(Debug, Default)]
pub(crate) struct Budget {
    lines: usize,
    bytes: usize,
}

impl Budget {
    pub(crate) fn take(&mut self, line: &str) -> Result<(), ReadError> {
        self.lines += 1;
        self.bytes += line.len() + 2;
        if self.lines > MAX_REPLY_LINES || self.bytes > MAX_REPLY_BYTES {
            return Err(ReadError::Flood {
                lines: self.lines,
                bytes: self.bytes,
            });
        }
        Ok(())
    }
}

pub(crate) struct Lines {
    io: Recorded<Conn>,
    framer: Framer,
}

impl Lines {
    pub(crate) fn new(conn: Conn, rec: Recorder) -> Self {
        Self {
            io: Recorded::new(conn, rec),
            framer: Framer::default(),
        }
    }

    /// The next line without its line end.
    pub(crate) async fn read_line(&mut self) -> Result<String, ReadError> {
        loop {
            if let Some(line) = self.framer.next_line()? {
                return Ok(line);
            }
            let mut chunk = [0u8; 2048];
            let n = self.io.read(&mut chunk).await?;
            if n == 0 {
                return Err(ReadError::Closed);
            }
            self.framer.feed(&chunk[..n]);
        }
    }

    /// Lines up to and including the one for which `last` is true, within the reply caps.
    pub(crate) async fn read_until(
        &mut self,
        last: impl Fn(&str) -> bool,
    ) -> Result<Vec<String>, ReadError> {
        let mut budget = Budget::default();
        let mut lines = Vec::new();
        loop {
            let line = self.read_line().await?;
            budget.take(&line)?;
            let done = last(&line);
            lines.push(line);
            if done {
                return Ok(lines);
            }
        }
    }

    pub(crate) async fn send(&mut self, line: &Line) -> io::Result<()> {
        self.send_all(std::slice::from_ref(line)).await
    }

    /// Several lines in one write (pipelining).
    pub(crate) async fn send_all(&mut self, lines: &[Line]) -> io::Result<()> {
        let mut data = Vec::new();
        for l in lines {
            data.extend_from_slice(l.0.as_bytes());
            data.extend_from_slice(b"\r\n");
        }
        self.io.write_all(&data).await?;
        self.io.flush().await
    }

    /// Sends raw bytes (a message body, already dot-stuffed).
    pub(crate) async fn send_raw(&mut self, data: &[u8]) -> io::Result<()> {
        self.io.write_all(data).await?;
        self.io.flush().await
    }

    /// Whether the server sent more than was read (it must not, right before a TLS upgrade).
    pub(crate) fn has_pending(&self) -> bool {
        !self.framer.is_empty()
    }

    pub(crate) fn into_conn(self) -> Conn {
        self.io.into_inner()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn lines_with_control_characters_cannot_be_built() {
        assert_eq!(
            Line::new(&["MAIL", "FROM:<a@b.c>"]).unwrap().as_str(),
            "MAIL FROM:<a@b.c>"
        );
        assert!(Line::new(&["USER", "a\r\nDELE 1"]).is_err());
        assert!(Line::new(&["PASS", "pw\0"]).is_err());
        assert!(Line::new(&["RCPT", "TO:<a@b.c\x1b>"]).is_err());
    }

    #[test]
    fn a_reply_past_its_caps_is_a_flood() {
        let mut b = Budget::default();
        for _ in 0..MAX_REPLY_LINES {
            b.take("250-X").unwrap();
        }
        assert!(matches!(
            b.take("250-X"),
            Err(ReadError::Flood { lines, .. }) if lines == MAX_REPLY_LINES + 1
        ));
        let mut b = Budget::default();
        assert!(b.take(&"x".repeat(MAX_REPLY_BYTES)).is_err());
    }

    proptest! {
        /// Whatever the server sends, in whatever pieces: lines come out without line ends, none
        /// longer than the cap, and never more bytes than came in.
        #[test]
        fn the_framer_never_returns_more_than_it_got(
            chunks in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..3000), 0..12)
        ) {
            let mut f = Framer::default();
            let mut fed = 0usize;
            let mut out = 0usize;
            'outer: for c in &chunks {
                f.feed(c);
                fed += c.len();
                loop {
                    match f.next_line() {
                        Ok(Some(l)) => {
                            prop_assert!(!l.contains('\n'));
                            prop_assert!(l.len() <= MAX_LINE * 3, "{}", l.len());
                            out += 1;
                        }
                        Ok(None) => break,
                        Err(ReadError::TooLong) => break 'outer,
                        Err(e) => prop_assert!(false, "{e:?}"),
                    }
                }
                prop_assert!(f.buf.len() <= fed);
                prop_assert!(f.buf.len() <= MAX_LINE + 3000);
            }
            prop_assert!(out <= fed);
        }

        /// Lines sent whole come back as they were, however the bytes are cut.
        #[test]
        fn lines_round_trip(
            lines in prop::collection::vec("[ -~]{0,200}", 0..20),
            cut in 1usize..64
        ) {
            let wire: Vec<u8> = lines.iter().flat_map(|l| format!("{l}\r\n").into_bytes()).collect();
            let mut f = Framer::default();
            let mut got = Vec::new();
            for piece in wire.chunks(cut) {
                f.feed(piece);
                while let Some(l) = f.next_line().unwrap() {
                    got.push(l);
                }
            }
            prop_assert_eq!(got, lines);
            prop_assert!(f.is_empty());
        }

        /// Any text with a control character is refused as a protocol line; any other is kept.
        #[test]
        fn lines_refuse_exactly_the_control_characters(arg in "\\PC{0,40}", bad in "[\\x00-\\x1f\\x7f]") {
            prop_assert!(Line::new(&["X", &arg]).is_ok() || arg.chars().any(crate::redact::is_unsafe_char));
            let injected = format!("{arg}{bad}{arg}");
            prop_assert!(Line::new(&["X", &injected]).is_err());
        }
    }
}
