//! A throwaway PKI per test run, made with the `openssl` CLI (as the recipe in
//! /work/shared/test-servers.md): a CA, a server certificate it signs for `localhost`,
//! `127.0.0.1` and `127.0.0.2` (the "remote" listeners), and a second, unrelated CA for
//! "untrusted certificate" tests. EC P-256 keys: generating them takes milliseconds, RSA does not.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, Result, bail};

/// The files of one PKI (all PEM).
#[derive(Debug, Clone)]
pub struct Pki {
    /// Trust this to verify the servers.
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// A CA that signed nothing the servers use: trusting only it must fail verification.
    pub untrusted_ca: PathBuf,
}

/// Runs the `openssl` CLI in `dir`; an error carries its stderr.
pub async fn openssl(dir: &Path, args: &[&str]) -> Result<()> {
    let run = tokio::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .context("openssl took over 30 s")?
        .context("cannot run openssl (tests/servers/install.sh installs it)")?;
    if !out.status.success() {
        bail!(
            "openssl {} failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// `openssl req -x509` for a self-signed CA named `cn`, key and cert as `<stem>.key`/`<stem>.pem`.
async fn ca(dir: &Path, stem: &str, cn: &str) -> Result<()> {
    let (key, pem, subj) = (
        format!("{stem}.key"),
        format!("{stem}.pem"),
        format!("/CN={cn}"),
    );
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "7",
            "-subj",
            &subj,
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign,cRLSign",
            "-keyout",
            &key,
            "-out",
            &pem,
        ],
    )
    .await
}

/// Makes the PKI in `dir`.
pub async fn make(dir: &Path) -> Result<Pki> {
    let chain = async {
        ca(dir, "ca", "mailcfg test CA").await?;
        openssl(
            dir,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-subj",
                "/CN=localhost",
                "-keyout",
                "server.key",
                "-out",
                "server.csr",
            ],
        )
        .await?;
        std::fs::write(
            dir.join("server.ext"),
            "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.2\nbasicConstraints=critical,CA:FALSE\n\
             keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )?;
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                "server.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-days",
                "7",
                "-extfile",
                "server.ext",
                "-out",
                "server.pem",
            ],
        )
        .await
    };
    let other = ca(dir, "untrusted-ca", "mailcfg untrusted CA");
    let (a, b) = tokio::join!(chain, other);
    a?;
    b?;
    Ok(Pki {
        ca: dir.join("ca.pem"),
        cert: dir.join("server.pem"),
        key: dir.join("server.key"),
        untrusted_ca: dir.join("untrusted-ca.pem"),
    })
}
