//! Sign-in figures: 20 client-credentials sign-ins against the local identity provider (each with
//! a fresh token source, so each is a real token request over HTTP), their median, and a second
//! request in one run served from the cache. Run: `cargo run --release --example bench-signin`.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use mailcfg::oauth::TokenSource;
use mailcfg::profile::{Flow, Provider, TlsSettings, presets};
use mailcfg::secrets::{Kind, Secrets, account_entry};
use support::defaults;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let idp = support::idp::Idp::start(support::idp::Config::default()).await?;
    let mut a = presets::account("App", Provider::Microsoft, Flow::AppOnly);
    a.authority = Some(idp.authority().to_owned());
    a.tenant = Some(defaults::TENANT_ID.to_owned());
    defaults::APP_CLIENT_ID.clone_into(&mut a.client_id);
    let secrets = Secrets::memory_only();
    secrets.set(
        &account_entry("App"),
        Kind::ClientSecret,
        Some(&defaults::APP_SECRET.to_owned().into()),
    )?;

    let mut times = Vec::new();
    for _ in 0..20 {
        let source = TokenSource::new(&TlsSettings::default(), None, secrets.clone())?;
        let t = Instant::now();
        source.token(&a, &|_| {}).await?;
        times.push(t.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "client credentials, 20 sign-ins: median {:.2} ms, min {:.2} ms, max {:.2} ms",
        ms((times[9] + times[10]) / 2),
        ms(times[0]),
        ms(times[19])
    );

    let source = TokenSource::new(&TlsSettings::default(), None, secrets)?;
    let t = Instant::now();
    source.token(&a, &|_| {}).await?;
    let first = t.elapsed();
    let t = Instant::now();
    source.token(&a, &|_| {}).await?;
    let second = t.elapsed();
    println!(
        "one run, two requests: first {:.2} ms (fetched), second {:.3} ms (cache); token requests made: {}",
        ms(first),
        ms(second),
        source.fetch_count()
    );
    Ok(())
}
