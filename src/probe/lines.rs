//! A line-at-a-time connection for the small POP3 and SMTP clients: CRLF lines out, lines in,
//! every byte through the recorded stream. Reads never buffer past the current line's end within
//! what the server sent, so a STARTTLS upgrade can take the connection back.

use std::io;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::net::Conn;
use super::transcript::{Recorded, Recorder};

/// Longest reply line accepted (RFC 5321 allows 512; servers send more in EHLO/CAPA lists).
const MAX: usize = 8192;

pub(crate) struct Lines {
    io: Recorded<Conn>,
    buf: Vec<u8>,
}

impl Lines {
    pub(crate) fn new(conn: Conn, rec: Recorder) -> Self {
        Self {
            io: Recorded::new(conn, rec),
            buf: Vec::new(),
        }
    }

    /// The next line without its line end; `Ok(None)` when the server closed the connection.
    pub(crate) async fn read_line(&mut self) -> io::Result<Option<String>> {
        loop {
            if let Some(pos) = self.buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                let text = String::from_utf8_lossy(&line);
                return Ok(Some(text.trim_end_matches(['\r', '\n']).to_owned()));
            }
            if self.buf.len() > MAX {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a reply line longer than 8 KiB",
                ));
            }
            let mut chunk = [0u8; 2048];
            let n = self.io.read(&mut chunk).await?;
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }

    pub(crate) async fn send(&mut self, line: &str) -> io::Result<()> {
        let mut data = Vec::with_capacity(line.len() + 2);
        data.extend_from_slice(line.as_bytes());
        data.extend_from_slice(b"\r\n");
        self.io.write_all(&data).await?;
        self.io.flush().await
    }

    /// Sends raw bytes (a message body).
    pub(crate) async fn send_raw(&mut self, data: &[u8]) -> io::Result<()> {
        self.io.write_all(data).await?;
        self.io.flush().await
    }

    /// Whether the server sent more than was read (it must not, right before a TLS upgrade).
    pub(crate) fn has_pending(&self) -> bool {
        !self.buf.is_empty()
    }

    pub(crate) fn into_conn(self) -> Conn {
        self.io.into_inner()
    }
}
