//! Google (issue 16) against the real test servers: Dovecot takes Google-shaped opaque tokens
//! through the test identity provider's introspection, and the IdP plays Google's authorize page
//! and token endpoint (tests/support/idp/google).
//!
//! - [`service_account`]: Workspace app-only through a service account with domain-wide
//!   delegation: a token per mailbox user, each opening its own mailbox; the key imported into
//!   a real keyring and never in any output or file; delegation not granted, a clock 10 minutes
//!   off, a deleted key and a user outside the domain, explained.
//! - [`keys`]: key files that are not service account keys, refused naming the field.
//! - [`delegated`]: Gmail's installed-app sign-in in headless Chromium with PKCE, then a
//!   refresh, then a test; the consent page's refusals explained.

// Each test reads as one list of what it runs and what must come out.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)]

#[allow(unused_imports)] // the Microsoft defaults it re-exports are not needed here
#[path = "../support/mod.rs"]
mod support;

mod delegated;
mod keys;
mod service_account;

use std::path::{Path, PathBuf};
use std::time::Duration;

use support::TestServers;
use support::idp::google::defaults as g;

const BIN: &str = env!("CARGO_BIN_EXE_mailcfg");

/// One run of the binary.
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// The JSON lines of stdout.
    pub fn lines(&self) -> Vec<serde_json::Value> {
        self.stdout
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }
}

/// The test servers, a folder, and a key of the default service account in a file.
pub struct Lab {
    pub s: TestServers,
    pub dir: tempfile::TempDir,
    pub key_json: String,
    pub key_file: PathBuf,
    pub key_id: String,
}

impl Lab {
    pub async fn new() -> Self {
        let s = TestServers::start().await.unwrap();
        let key_json = s.idp.service_account_key().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("mailcfg-test-key.json");
        std::fs::write(&key_file, &key_json).unwrap();
        let v: serde_json::Value = serde_json::from_str(&key_json).unwrap();
        let key_id = v["private_key_id"].as_str().unwrap().to_owned();
        Self {
            s,
            dir,
            key_json,
            key_file,
            key_id,
        }
    }

    /// The Workspace profile: the service account (its address and key ID only when `named`,
    /// as an import writes them), IMAP for each of `users`, and SMTP for the first.
    pub fn sa_profile(&self, users: &[&str], named: bool) -> PathBuf {
        let ids = if named {
            format!(
                "client_email = \"{}\"\nprivate_key_id = \"{}\"\ntoken_url = \"{}\"\n",
                g::SERVICE_ACCOUNT,
                self.key_id,
                self.s.idp.google_token_url()
            )
        } else {
            String::new()
        };
        let mut text = format!(
            "version = 1\n\n[[accounts]]\nname = \"Workspace\"\nprovider = \"google\"\nflow = \"app-only\"\nclient_id = \"{}\"\nscopes = [\"{}\"]\n{ids}",
            g::SERVICE_ACCOUNT_ID,
            g::MAIL_SCOPE
        );
        for u in users {
            text.push_str(&self.mailbox(u, "Workspace"));
        }
        text.push_str(&self.transport(users[0], "Workspace"));
        self.write_profile("workspace.toml", &text)
    }

    pub fn mailbox(&self, user: &str, account: &str) -> String {
        let name = user.split('@').next().unwrap_or(user);
        format!(
            "\n[[mailboxes]]\nname = \"{name} IMAP\"\nprotocol = \"imap\"\nhost = \"localhost\"\nport = {}\nencryption = \"tls\"\nuser = \"{user}\"\naccount = \"{account}\"\n",
            self.s.ports.imaps
        )
    }

    pub fn transport(&self, user: &str, account: &str) -> String {
        let name = user.split('@').next().unwrap_or(user);
        format!(
            "\n[[transports]]\nname = \"{name} SMTP\"\nhost = \"localhost\"\nport = {}\nencryption = \"starttls\"\nusername = \"{user}\"\naccount = \"{account}\"\n",
            self.s.ports.submission
        )
    }

    /// Writes a profile with the CA and a short step timeout.
    pub fn write_profile(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.path().join(name);
        let text = format!(
            "{text}\n[tls]\nca_file = \"{}\"\n\n[probe]\ntimeout_secs = 10\n",
            self.s.ca_file().display()
        );
        std::fs::write(&path, text).unwrap();
        path
    }

    /// `mailcfg` without a keyring (the key from `MAILCFG_SERVICE_ACCOUNT_KEY` where `env`
    /// says), nothing inherited that could change the result.
    pub async fn mailcfg(&self, args: &[&str], env: &[(&str, &str)]) -> Out {
        let mut c = tokio::process::Command::new(BIN);
        c.args(args)
            .env_remove("MAILCFG_CLIENT_SECRET")
            .env_remove("MAILCFG_SERVICE_ACCOUNT_KEY")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("BROWSER");
        for (k, v) in env {
            c.env(k, v);
        }
        let o = tokio::time::timeout(Duration::from_mins(2), c.output())
            .await
            .expect("mailcfg did not finish in 120 s")
            .unwrap();
        let out = Out {
            code: o.status.code(),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        };
        assert!(!out.all().contains("panicked"), "{}", out.all());
        assert_no_key(&out.all(), &self.key_json, "an output");
        // For the notes: `MAILCFG_GOOGLE_SHOW=1 cargo test --test google -- --nocapture`.
        if std::env::var_os("MAILCFG_GOOGLE_SHOW").is_some() {
            eprintln!(
                "\n$ mailcfg {}  (exit {:?})\n{}{}",
                args.join(" "),
                out.code,
                out.stderr,
                out.stdout
            );
        }
        out
    }

    /// `mailcfg` with the key file as `MAILCFG_SERVICE_ACCOUNT_KEY`.
    pub async fn with_key(&self, args: &[&str]) -> Out {
        let key = self.key_file.to_str().unwrap().to_owned();
        self.mailcfg(args, &[("MAILCFG_SERVICE_ACCOUNT_KEY", &key)])
            .await
    }

    /// The IdP's jwt-bearer grants so far: `(status, user)`.
    pub fn jwt_grants(&self) -> Vec<(u16, Option<String>)> {
        self.s
            .idp
            .requests()
            .into_iter()
            .filter(|r| {
                r.grant_type.as_deref() == Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
            })
            .map(|r| (r.status, r.subject))
            .collect()
    }
}

/// The forms in which a part of the private key could appear: each line of its PEM body and the
/// body as one line (a JSON-escaped or joined quote has one of them).
pub fn key_parts(key_json: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(key_json).unwrap();
    let pem = v["private_key"].as_str().unwrap();
    let lines: Vec<String> = pem
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 16)
        .map(str::to_owned)
        .collect();
    let mut parts = vec![lines.concat()];
    parts.extend(lines);
    parts
}

/// No part of the private key in `text`.
pub fn assert_no_key(text: &str, key_json: &str, what: &str) {
    for part in key_parts(key_json) {
        assert!(
            !text.contains(&part),
            "a part of the private key is in {what}: …{}…",
            &part[..12]
        );
    }
    assert!(
        !text.contains("BEGIN PRIVATE KEY"),
        "a PEM key is in {what}"
    );
}

/// Every file under `dir` (but `except`) holds no part of the key.
pub fn assert_no_key_in_files(dir: &Path, key_json: &str, except: &Path) {
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else if meta.is_file() && p != except {
                let bytes = std::fs::read(&p).unwrap_or_default();
                assert_no_key(
                    &String::from_utf8_lossy(&bytes),
                    key_json,
                    &p.display().to_string(),
                );
            }
        }
    }
}

pub fn browser_script() -> String {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/servers/headless-browser.sh"
    )
    .to_owned()
}
