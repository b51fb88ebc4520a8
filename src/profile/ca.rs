//! `tls.ca_file`: read once, bounded, and parsed, for validation, the probe's TLS and the
//! identity provider's HTTPS client alike, so that all three refuse the same files with the same
//! words (a FIFO, a device, a folder, a huge file, a file without a certificate).

use std::path::Path;

use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::pem::{self, PemObject as _};

use crate::files::{self, FileError};

/// A CA bundle is a few hundred kilobytes (the whole system store is about 220 KB).
pub const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// The certificates of a CA file (DER), or why it cannot be used, in words that follow
/// "the CA file PATH ".
pub fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let bytes = files::read_limited(path, MAX_CA_FILE_BYTES).map_err(|e| match e {
        FileError::NotFound => "does not exist".to_owned(),
        FileError::Io(e) => format!("cannot be read: {e}"),
        other => format!("cannot be used: {other}"),
    })?;
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(&bytes) {
        match item {
            Ok(c) => certs.push(c),
            Err(e) => return Err(format!("is not valid PEM: {}", pem_problem(&e))),
        }
    }
    if certs.is_empty() {
        return Err(
            "holds no certificate (no -----BEGIN CERTIFICATE----- block; a private key or an empty file does not count)"
                .to_owned(),
        );
    }
    Ok(certs)
}

fn pem_problem(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "a block has no end line ({})",
            String::from_utf8_lossy(end_marker)
        ),
        pem::Error::IllegalSectionStart { line } => format!(
            "a block starts with a malformed line ({})",
            crate::redact::shorten(&String::from_utf8_lossy(line), 80)
        ),
        pem::Error::Base64Decode(why) => format!("a block is not base64 ({why})"),
        other => other.to_string(),
    }
}
