//! A small TLS client (rustls, the same stack reqwest uses) for readiness checks and for tests
//! that speak IMAP/POP3/SMTP by hand: implicit TLS, STARTTLS upgrades, and line reading.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use tokio::io::{AsyncBufReadExt as _, AsyncRead, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::pem::PemObject as _;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// A TLS acceptor serving the certificate chain in `cert` with `key` (PEM files), for test
/// servers of our own (an HTTPS front for the IdP, a server with an expired certificate).
pub fn acceptor(cert: &Path, key: &Path) -> Result<tokio_rustls::TlsAcceptor> {
    let certs = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()?;
    let key = tokio_rustls::rustls::pki_types::PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading {}", key.display()))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// A client config that trusts exactly the CA(s) in `ca_file`.
pub fn client_config(ca_file: &Path) -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(ca_file)
        .with_context(|| format!("reading {}", ca_file.display()))?
    {
        roots.add(cert?)?;
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// TLS over an existing connection (after STARTTLS/STLS), verifying `server_name`.
pub async fn upgrade(
    tcp: TcpStream,
    server_name: &str,
    ca_file: &Path,
) -> Result<TlsStream<TcpStream>> {
    let name = ServerName::try_from(server_name.to_owned())?;
    let handshake = TlsConnector::from(client_config(ca_file)?).connect(name, tcp);
    Ok(tokio::time::timeout(Duration::from_secs(10), handshake)
        .await
        .context("TLS handshake took over 10 s")??)
}

/// Implicit TLS to `addr`, verifying `server_name` (`localhost` or `127.0.0.1`).
pub async fn connect(
    addr: SocketAddr,
    server_name: &str,
    ca_file: &Path,
) -> Result<TlsStream<TcpStream>> {
    let tcp = tokio::time::timeout(Duration::from_secs(10), TcpStream::connect(addr))
        .await
        .context("connect took over 10 s")??;
    upgrade(tcp, server_name, ca_file).await
}

/// Reads one line (through CRLF), at most `timeout`. EOF is an error.
pub async fn read_line<S: AsyncRead + Unpin>(
    r: &mut BufReader<S>,
    timeout: Duration,
) -> Result<String> {
    let mut line = String::new();
    let n = tokio::time::timeout(timeout, r.read_line(&mut line))
        .await
        .context("no line in time")??;
    if n == 0 {
        bail!("connection closed");
    }
    Ok(line)
}
