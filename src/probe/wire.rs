//! What leaves the socket: each command in one write. The clients above write a command in
//! pieces (async-imap: the tag, a space, the text, the CRLF, and a SASL response apart from its
//! CRLF), and over TLS each write is a record of its own. [`OneWrite`] keeps the pieces until the
//! client flushes, which every client here does once per command (or per pipelined group), and
//! hands them on in one write: one TLS record, one TCP segment with TCP_NODELAY (`net::connect`),
//! and nothing for Nagle's algorithm to hold back until the server's delayed ACK.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Above this, what is kept is written before more is taken (a message body, not a command).
const MAX_KEPT: usize = 64 * 1024;

pub(crate) struct OneWrite<S> {
    inner: S,
    kept: Vec<u8>,
    /// How much of `kept` the inner stream took so far.
    sent: usize,
}

impl<S> OneWrite<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            kept: Vec::new(),
            sent: 0,
        }
    }

    /// The stream below. Anything written and not flushed is dropped: call it after a flush.
    pub(crate) fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: AsyncWrite + Unpin> OneWrite<S> {
    /// Writes what is kept, in as few writes as the stream below allows (one, in practice).
    fn poll_send(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.kept.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.kept[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        self.kept.clear();
        self.sent = 0;
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for OneWrite<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for OneWrite<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        if !this.kept.is_empty() && this.kept.len() + buf.len() > MAX_KEPT {
            ready!(this.poll_send(cx))?;
        }
        this.kept.extend_from_slice(buf);
        Poll::Ready(Ok(buf.len()))
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_send(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_send(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::transcript::{Recorded, Recorder};
    use std::sync::{Arc, Mutex};
    use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader, DuplexStream};

    /// A stream that keeps every write it is given, as given.
    struct Writes {
        io: DuplexStream,
        seen: Arc<Mutex<Vec<String>>>,
    }

    impl AsyncRead for Writes {
        fn poll_read(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_read(cx, buf)
        }
    }

    impl AsyncWrite for Writes {
        fn poll_write(
            mut self: Pin<&mut Self>,
            cx: &mut Context<'_>,
            buf: &[u8],
        ) -> Poll<io::Result<usize>> {
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, buf))?;
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            self.seen
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(text);
            Poll::Ready(Ok(n))
        }
        fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_flush(cx)
        }
        fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
            Pin::new(&mut self.io).poll_shutdown(cx)
        }
    }

    /// An IMAP server in a task: answers AUTHENTICATE (with a `+` first when the command has
    /// no initial response), EXAMINE and LOGOUT.
    fn server(io: DuplexStream) {
        tokio::spawn(async move {
            let (r, mut w) = tokio::io::split(io);
            let mut r = BufReader::new(r);
            w.write_all(b"* OK [CAPABILITY IMAP4rev1 AUTH=XOAUTH2] hi\r\n")
                .await?;
            let mut line = String::new();
            while r.read_line(&mut line).await? > 0 {
                let words: Vec<&str> = line.split_whitespace().collect();
                let reply = match words.get(1).copied() {
                    Some("AUTHENTICATE") => {
                        if words.len() == 3 {
                            w.write_all(b"+ \r\n").await?;
                            let mut answer = String::new();
                            r.read_line(&mut answer).await?;
                        }
                        format!("{} OK in\r\n", words[0])
                    }
                    Some("EXAMINE") => format!("* 4 EXISTS\r\n{} OK [READ-ONLY] ok\r\n", words[0]),
                    Some("LOGOUT") => format!("* BYE\r\n{} OK bye\r\n", words[0]),
                    _ => "* BAD\r\n".to_owned(),
                };
                w.write_all(reply.as_bytes()).await?;
                line.clear();
            }
            io::Result::Ok(())
        });
    }

    struct Raw(Vec<u8>);
    impl async_imap::Authenticator for Raw {
        type Response = Vec<u8>;
        fn process(&mut self, _: &[u8]) -> Vec<u8> {
            self.0.clone()
        }
    }

    /// async-imap over the probe's stream (as in imap.rs): every command, and the SASL
    /// response after a `+`, reaches the stream below in one write.
    #[tokio::test]
    async fn each_imap_command_reaches_the_socket_in_one_write() {
        for initial_response in [true, false] {
            let (ours, theirs) = tokio::io::duplex(64 * 1024);
            server(theirs);
            let seen = Arc::new(Mutex::new(Vec::new()));
            let io = Writes {
                io: ours,
                seen: seen.clone(),
            };
            let rec = Recorder::new(std::time::Instant::now());
            let mut client = async_imap::Client::new(Recorded::new(io, rec));
            client.read_response().await.unwrap();
            let mech = if initial_response {
                "XOAUTH2 c2FzbA=="
            } else {
                "XOAUTH2"
            };
            let mut session = client
                .authenticate(mech, Raw(b"sasl".to_vec()))
                .await
                .map_err(|(e, _)| e)
                .unwrap();
            assert_eq!(session.examine("INBOX").await.unwrap().exists, 4);
            session.logout().await.unwrap();
            let writes = seen.lock().unwrap().clone();
            let mut expected = vec![format!("A0001 AUTHENTICATE {mech}\r\n")];
            if !initial_response {
                expected.push("c2FzbA==\r\n".into());
            }
            expected.push("A0002 EXAMINE \"INBOX\"\r\n".into());
            expected.push("A0003 LOGOUT\r\n".into());
            assert_eq!(writes, expected);
        }
    }

    #[tokio::test]
    async fn writes_wait_for_the_flush_and_a_big_body_goes_in_pieces() {
        let (ours, mut theirs) = tokio::io::duplex(256 * 1024);
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut w = OneWrite::new(Writes {
            io: ours,
            seen: seen.clone(),
        });
        w.write_all(b"A1 ").await.unwrap();
        w.write_all(b"NOOP").await.unwrap();
        w.write_all(b"\r\n").await.unwrap();
        assert!(seen.lock().unwrap().is_empty());
        w.flush().await.unwrap();
        assert_eq!(*seen.lock().unwrap(), ["A1 NOOP\r\n"]);
        let body = vec![b'x'; MAX_KEPT];
        w.write_all(b"head").await.unwrap();
        w.write_all(&body).await.unwrap();
        w.flush().await.unwrap();
        let sizes: Vec<usize> = seen.lock().unwrap().iter().map(String::len).collect();
        assert_eq!(sizes, [9, 4, MAX_KEPT]);
        let mut all = Vec::new();
        drop(w);
        tokio::io::AsyncReadExt::read_to_end(&mut theirs, &mut all)
            .await
            .unwrap();
        assert_eq!(all.len(), 9 + 4 + MAX_KEPT);
    }
}
