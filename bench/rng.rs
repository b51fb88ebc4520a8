//! What the first TLS handshake of a process costs before its ClientHello: AWS-LC (the crypto of
//! rustls, reqwest and the probe) seeds its random number generator at first use, from a CPU
//! jitter entropy source (aws-lc-sys `tree_jitter_initialize`). Prints the first and second
//! `aws_lc_rs::rand::fill` and the first in a new thread. Run by bench/run.sh;
//! alone: `cargo run --release --example bench-rng`.

use std::time::{Duration, Instant};

fn fill() -> anyhow::Result<Duration> {
    let mut b = [0u8; 32];
    let t = Instant::now();
    aws_lc_rs::rand::fill(&mut b).map_err(|_| anyhow::anyhow!("aws-lc-rs: no random bytes"))?;
    Ok(t.elapsed())
}

fn main() -> anyhow::Result<()> {
    let first = fill()?;
    let second = fill()?;
    let thread = std::thread::spawn(fill)
        .join()
        .map_err(|_| anyhow::anyhow!("the thread panicked"))??;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "aws-lc-rs rand::fill: first in the process {:.1} ms, second {:.3} ms, first in a new thread {:.2} ms",
        ms(first),
        ms(second),
        ms(thread)
    );
    Ok(())
}
