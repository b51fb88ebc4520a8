//! `mailcfg discover` through the real binary against real servers on loopback: dnsmasq for
//! DNS (MX, SRV, A), the web hosts for autoconfig and the ISPDB, the test identity provider for
//! Microsoft's tenant discovery, and Dovecot for the Test at the end of the flow.
//!
//! - `sources`: one case per kind of domain (Microsoft 365, tenant only, Google, SRV only,
//!   autoconfig only, the ISPDB, nothing at all), each with its exit code and draft.
//! - `faults`: a DNS server that does not answer, hostile autoconfig answers, bad input.
//! - `flow`: the draft as a profile: `--output`, `--json`, `mailcfg validate`, and a green
//!   `mailcfg test` against Dovecot after the user's review.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../support/mod.rs"]
mod support;

mod faults;
mod flow;
mod sources;

use std::process::Output;

use serde_json::Value;
use support::dns::{Dnsmasq, Records};
use support::idp::{Config, Idp, Tenant};
use support::web::Web;

const BIN: &str = env!("CARGO_BIN_EXE_mailcfg");

pub const M365_TENANT: &str = "11111111-2222-4333-8444-555555555555";
pub const GATEWAY_TENANT: &str = "66666666-7777-4888-9999-aaaaaaaaaaaa";

/// The servers one case asks: its DNS records, the web hosts, an IdP knowing the test tenants.
pub struct World {
    pub dns: Dnsmasq,
    pub web: Web,
    pub idp: Idp,
    /// A port where nothing listens, for the https autoconfig URLs.
    pub closed: u16,
}

impl World {
    pub async fn start(records: Records) -> Self {
        let mut config = Config::default();
        config.tenants.push(Tenant {
            id: M365_TENANT.into(),
            names: vec!["m365.test".into()],
        });
        config.tenants.push(Tenant {
            id: GATEWAY_TENANT.into(),
            names: vec!["gateway.test".into()],
        });
        let (dns, web, idp) =
            tokio::join!(Dnsmasq::start(&records), Web::start(), Idp::start(config));
        Self {
            dns: dns.unwrap(),
            web: web.unwrap(),
            idp: idp.unwrap(),
            closed: closed_port(),
        }
    }

    /// The options that point every source at this world.
    pub fn args(&self) -> Vec<String> {
        vec![
            "--dns".into(),
            self.dns.addr.to_string(),
            "--authority".into(),
            self.idp.authority().to_owned(),
            "--ispdb".into(),
            self.web.ispdb(),
            "--timeout".into(),
            "3".into(),
            "--autoconfig-http-port".into(),
            self.web.port.to_string(),
            "--autoconfig-https-port".into(),
            self.closed.to_string(),
        ]
    }

    /// `mailcfg discover ADDRESS` with [`Self::args`] and `extra` (an option given in both
    /// takes `extra`'s value).
    pub async fn discover(&self, address: &str, extra: &[&str]) -> Run {
        let mut args = vec!["discover".to_owned(), address.to_owned()];
        let mut mine = self.args();
        for pair in extra.chunks(2) {
            if let Some(i) = mine.iter().position(|a| a == pair[0]) {
                mine.drain(i..i + 2);
            }
        }
        args.extend(mine);
        args.extend(extra.iter().map(|s| (*s).to_owned()));
        let r = run(args).await;
        // For the notes: `MAILCFG_DISCOVER_SHOW=1 cargo test --test discover -- --nocapture`.
        if std::env::var_os("MAILCFG_DISCOVER_SHOW").is_some() {
            eprintln!(
                "\n$ mailcfg discover {address} …  (exit {})\n{}{}",
                r.code, r.stderr, r.stdout
            );
        }
        r
    }
}

/// A finished run of the binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The `--json` lines, each parsed.
    pub fn json(&self) -> Vec<Value> {
        self.stdout
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect()
    }
    /// The stderr line of one step (human output).
    pub fn step(&self, name: &str) -> String {
        // `{status:<7} {step:<17} {ms:>5} ms  {asked} → {answer}`
        self.stderr
            .lines()
            .find(|l| l.get(8..25).map(str::trim_end) == Some(name))
            .unwrap_or_else(|| panic!("no line for step {name} in:\n{}", self.stderr))
            .to_owned()
    }
    /// The draft profile on stdout, parsed.
    pub fn profile(&self) -> toml::Table {
        toml::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is no profile ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

pub async fn run(args: Vec<String>) -> Run {
    run_env(args, &[]).await
}

pub async fn run_env(args: Vec<String>, env: &[(&str, &str)]) -> Run {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(&args).stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out: Output = tokio::time::timeout(std::time::Duration::from_mins(1), cmd.output())
        .await
        .expect("mailcfg did not finish within 60 s")
        .unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A loopback port nothing listens on (bound, then released).
fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A value of the draft by dotted path, e.g. `mailboxes.0.host`.
pub fn at<'a>(t: &'a toml::Table, path: &str) -> &'a toml::Value {
    let mut parts = path.split('.');
    let first = parts.next().unwrap();
    let mut v = t
        .get(first)
        .unwrap_or_else(|| panic!("no {first} in {t:#?}"));
    for p in parts {
        v = match p.parse::<usize>() {
            Ok(i) => &v.as_array().unwrap()[i],
            Err(_) => v.get(p).unwrap_or_else(|| panic!("no {path} in {t:#?}")),
        };
    }
    v
}

pub fn s<'a>(t: &'a toml::Table, path: &str) -> &'a str {
    at(t, path)
        .as_str()
        .unwrap_or_else(|| panic!("{path} is not a string"))
}

/// A Thunderbird autoconfig file with these servers.
pub fn autoconfig_xml(
    id: &str,
    imap: (&str, u16, &str),
    smtp: (&str, u16, &str),
    user: &str,
    auth: &str,
) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="{id}">
    <domain>{id}</domain>
    <displayName>{id} mail</displayName>
    <incomingServer type="imap">
      <hostname>{}</hostname><port>{}</port><socketType>{}</socketType>
      <username>{user}</username><authentication>{auth}</authentication>
    </incomingServer>
    <outgoingServer type="smtp">
      <hostname>{}</hostname><port>{}</port><socketType>{}</socketType>
      <username>{user}</username><authentication>{auth}</authentication>
    </outgoingServer>
  </emailProvider>
</clientConfig>
"#,
        imap.0, imap.1, imap.2, smtp.0, smtp.1, smtp.2
    )
}
