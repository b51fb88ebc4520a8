//! The network below the protocols: name lookup (every address), TCP connect (per address, with
//! each address's error), and TLS with the system roots plus `tls.ca_file`, reporting version,
//! cipher and certificate, and saying plainly whether a certificate is untrusted, expired or for
//! another name.

use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{
    self, CertificateError, ClientConfig, DigitallySignedStruct, SignatureScheme,
};

use super::cert;

/// A connection before or after TLS.
pub(crate) enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => {
                quick_ack(s);
                Pin::new(s).poll_read(cx, buf)
            }
            Conn::Tls(s) => {
                quick_ack(s.get_ref().0);
                Pin::new(s.as_mut()).poll_read(cx, buf)
            }
        }
    }
}

/// Asks the kernel to acknowledge what arrives at once, not after its delayed-ACK timer (40 ms
/// on Linux). A server that writes a reply in pieces without TCP_NODELAY (Exchange writes each
/// line apart) holds every piece after the first until the one before is acknowledged, so a
/// delayed ACK costs 40 ms per reply of several lines. Linux drops the setting again as the
/// connection goes back and forth, so it is set before every read.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn quick_ack(s: &TcpStream) {
    let _ = s.set_quickack(true);
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn quick_ack(_: &TcpStream) {}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }
    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }
    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Every address of `host`, in the resolver's order.
pub(crate) async fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let mut all: Vec<SocketAddr> = tokio::net::lookup_host((host, port)).await?.collect();
    all.dedup();
    Ok(all)
}

/// TCP to `addr` with TCP_NODELAY. Every write of the probe is a whole command or pipelined
/// group (`wire::OneWrite`), so Nagle's algorithm could only hold one back until the server
/// acknowledges the last, which servers delay (40 ms on Linux, up to 200 ms on Windows).
pub(crate) async fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    Ok(tcp)
}

/// Why one address could not be reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectFailure {
    Refused,
    TimedOut,
    Unreachable,
    Other,
}

pub(crate) fn classify_connect(e: &io::Error) -> ConnectFailure {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => ConnectFailure::Refused,
        io::ErrorKind::TimedOut => ConnectFailure::TimedOut,
        io::ErrorKind::HostUnreachable | io::ErrorKind::NetworkUnreachable => {
            ConnectFailure::Unreachable
        }
        _ => ConnectFailure::Other,
    }
}

/// What the TLS step found out.
#[derive(Debug, Clone)]
pub(crate) struct TlsInfo {
    pub version: String,
    pub cipher: String,
    pub cert: Option<cert::Summary>,
}

impl fmt::Display for TlsInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {}", self.version, self.cipher)?;
        if let Some(c) = &self.cert {
            write!(f, "; certificate {c}")?;
        }
        Ok(())
    }
}

/// Why TLS failed, in the terms a person can act on.
#[derive(Debug, Clone)]
pub(crate) enum TlsFailure {
    /// The CA file could not be read.
    CaFile(String),
    /// Not trusted; `why` says more where the verifier knew more than "unknown issuer".
    Untrusted {
        cert: Option<cert::Summary>,
        why: Option<&'static str>,
    },
    Expired(Option<cert::Summary>),
    NotYetValid(Option<cert::Summary>),
    WrongName(Option<cert::Summary>),
    /// The server answered the TLS hello with plain text (a STARTTLS or plain port).
    PlainText,
    Other(String),
}

/// The TLS settings of one test: platform roots plus the optional CA file, and a record of the
/// server's certificate even when it was refused (to say who issued it).
pub(crate) struct Tls {
    config: Arc<ClientConfig>,
    seen: Arc<Mutex<Option<Vec<u8>>>>,
}

/// The verifier for the system roots plus `ca_file`, built once per process and CA file (and
/// again when the file changes): building one reads and parses every system root, which is most
/// of a test's CPU when hundreds of mailboxes are tested at once.
fn verifier(
    ca_file: Option<&Path>,
    provider: &Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<rustls_platform_verifier::Verifier>, TlsFailure> {
    type Key = (Option<std::path::PathBuf>, Option<std::time::SystemTime>);
    static BUILT: std::sync::OnceLock<
        Mutex<std::collections::HashMap<Key, Arc<rustls_platform_verifier::Verifier>>>,
    > = std::sync::OnceLock::new();
    let key: Key = (
        ca_file.map(Path::to_path_buf),
        ca_file.and_then(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok()),
    );
    let built = BUILT.get_or_init(Mutex::default);
    if let Some(v) = built
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&key)
    {
        return Ok(v.clone());
    }
    let mut extra = Vec::new();
    if let Some(path) = ca_file {
        // Bounded and regular files only (a FIFO or /dev/zero would block or never end).
        extra = crate::profile::ca::certificates(path).map_err(|why| {
            TlsFailure::CaFile(format!(
                "tls.ca_file: the CA file {} {why}",
                crate::profile::shown(&path.display().to_string())
            ))
        })?;
    }
    let v = Arc::new(
        rustls_platform_verifier::Verifier::new_with_extra_roots(extra, provider.clone())
            .map_err(|e| TlsFailure::Other(format!("cannot load the system roots: {e}")))?,
    );
    built
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(key, v.clone());
    Ok(v)
}

impl Tls {
    pub(crate) fn new(ca_file: Option<&Path>) -> Result<Self, TlsFailure> {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let inner = verifier(ca_file, &provider)?;
        let seen = Arc::new(Mutex::new(None));
        let verifier = Arc::new(Capturing {
            inner,
            seen: seen.clone(),
        });
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsFailure::Other(e.to_string()))?
            // rustls names every custom verifier "dangerous"; this one checks nothing less: it
            // hands every check to the platform verifier and only keeps the certificate shown.
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
            seen,
        })
    }

    /// The TLS handshake over `tcp` for `host` (a name or an IP address).
    pub(crate) async fn handshake(
        &self,
        tcp: TcpStream,
        host: &str,
    ) -> Result<(TlsStream<TcpStream>, TlsInfo), TlsFailure> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|e| TlsFailure::Other(format!("\"{host}\" is not a valid TLS name: {e}")))?;
        let connector = TlsConnector::from(self.config.clone());
        let seen_cert = || {
            self.seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_deref()
                .and_then(cert::summary)
        };
        match connector.connect(name, tcp).await {
            Ok(stream) => {
                let (_, conn) = stream.get_ref();
                let version = conn
                    .protocol_version()
                    .map_or_else(|| "TLS".to_owned(), |v| tls_version(v.as_str()));
                let cipher = conn.negotiated_cipher_suite().map_or_else(
                    || "unknown cipher".to_owned(),
                    |c| c.suite().as_str().unwrap_or("unknown cipher").to_owned(),
                );
                let cert = conn
                    .peer_certificates()
                    .and_then(|c| c.first())
                    .and_then(|c| cert::summary(c));
                Ok((
                    stream,
                    TlsInfo {
                        version,
                        cipher,
                        cert,
                    },
                ))
            }
            Err(e) => Err(classify_tls(&e, seen_cert())),
        }
    }
}

fn tls_version(v: Option<&str>) -> String {
    match v {
        Some("TLSv1_3") => "TLS 1.3".to_owned(),
        Some("TLSv1_2") => "TLS 1.2".to_owned(),
        Some(other) => other.to_owned(),
        None => "TLS".to_owned(),
    }
}

fn classify_tls(e: &io::Error, cert: Option<cert::Summary>) -> TlsFailure {
    let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
    match inner {
        Some(rustls::Error::InvalidCertificate(ce)) => match ce {
            // A signature that does not verify is a certificate naming a CA that did not sign
            // it (a self-signed one posing as issued by a system root): not trusted, as plainly.
            CertificateError::UnknownIssuer
            | CertificateError::BadSignature
            | CertificateError::UnsupportedSignatureAlgorithmContext { .. }
            | CertificateError::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                TlsFailure::Untrusted { cert, why: None }
            }
            // webpki's own reasons come untyped; a CA certificate presented as the server's own
            // is a self-signed certificate (one that copies a system root's name included).
            CertificateError::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => {
                TlsFailure::Untrusted {
                    cert,
                    why: Some(
                        "the server presents a CA certificate as its own: a self-signed certificate, whatever name it carries",
                    ),
                }
            }
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                TlsFailure::Expired(cert)
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                TlsFailure::NotYetValid(cert)
            }
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                TlsFailure::WrongName(cert)
            }
            other => TlsFailure::Other(format!("the certificate was refused: {other:?}")),
        },
        Some(rustls::Error::InvalidMessage(_)) => TlsFailure::PlainText,
        Some(other) => TlsFailure::Other(other.to_string()),
        None if e.kind() == io::ErrorKind::UnexpectedEof => TlsFailure::Other(
            "the server closed the connection during the TLS handshake".to_owned(),
        ),
        None => TlsFailure::Other(e.to_string()),
    }
}

/// Delegates to the platform verifier and keeps the server's certificate for the report.
struct Capturing {
    inner: Arc<rustls_platform_verifier::Verifier>,
    seen: Arc<Mutex<Option<Vec<u8>>>>,
}

impl fmt::Debug for Capturing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Capturing")
    }
}

impl ServerCertVerifier for Capturing {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        *self.seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(end_entity.to_vec());
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Whether `addr` answers a TLS hello (used after a plain-text greeting never came: is this an
/// implicit-TLS port?). Any TLS answer counts, even a refused certificate.
pub(crate) async fn speaks_tls(addr: SocketAddr, host: &str, tls: &Tls, within: Duration) -> bool {
    let attempt = async {
        let tcp = connect(addr).await.ok()?;
        Some(match tls.handshake(tcp, host).await {
            Ok(_)
            | Err(
                TlsFailure::Untrusted { .. }
                | TlsFailure::Expired(_)
                | TlsFailure::NotYetValid(_)
                | TlsFailure::WrongName(_),
            ) => true,
            Err(_) => false,
        })
    };
    matches!(tokio::time::timeout(within, attempt).await, Ok(Some(true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn probe_sockets_have_tcp_nodelay() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let tcp = connect(l.local_addr().unwrap()).await.unwrap();
        assert!(tcp.nodelay().unwrap());
        // The default, for contrast: a plain connect leaves Nagle's algorithm on.
        let plain = TcpStream::connect(l.local_addr().unwrap()).await.unwrap();
        assert!(!plain.nodelay().unwrap());
    }
}
