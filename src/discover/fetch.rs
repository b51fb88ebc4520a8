//! HTTP GETs for discovery, bounded every way a hostile server could stretch them: the app's
//! one client (TLS trust and user agent from `oauth::http_builder`) with at most
//! [`MAX_REDIRECTS`] redirects, no loop and no step down from https to http, a time limit per
//! request, and a cap on the body that stops reading at the cap.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use url::Url;

use super::dns::{Dns, ForHttp, LookupError};
use crate::profile::TlsSettings;

/// Autoconfig servers redirect once or twice (http to https, a moved file); more is a loop.
pub const MAX_REDIRECTS: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    pub status: u16,
    /// Where the answer came from, after redirects.
    pub url: String,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    #[error("refused: the answer is larger than {} KB", .0 / 1024)]
    TooLarge(usize),
    #[error("refused: {0}")]
    Redirect(String),
    #[error("{0}")]
    TimedOut(String),
    /// A name that does not exist: nothing there, as opposed to a failure.
    #[error("{0}")]
    NoSuchHost(String),
    #[error("{0}")]
    Failed(String),
}

/// Why the redirect policy stopped following.
#[derive(Debug, thiserror::Error)]
enum RedirectRefused {
    #[error("more than {MAX_REDIRECTS} redirects (last to {0})")]
    TooMany(String),
    #[error("a redirect loop (back to {0})")]
    Loop(String),
    #[error("a redirect from https down to plain http ({0})")]
    Downgrade(String),
}

#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    timeout: Duration,
}

impl Fetcher {
    pub fn new(
        tls: &TlsSettings,
        base_dir: Option<&Path>,
        dns: Arc<Dns>,
        timeout: Duration,
    ) -> Result<Self, String> {
        let policy = reqwest::redirect::Policy::custom(|attempt| {
            let next = attempt.url().clone();
            let prev = attempt.previous();
            let shown = super::shown(next.as_str(), 120);
            if prev.contains(&next) {
                attempt.error(RedirectRefused::Loop(shown))
            } else if prev.len() > MAX_REDIRECTS {
                attempt.error(RedirectRefused::TooMany(shown))
            } else if prev.last().is_some_and(|u| u.scheme() == "https") && next.scheme() == "http"
            {
                attempt.error(RedirectRefused::Downgrade(shown))
            } else {
                attempt.follow()
            }
        });
        let client = crate::oauth::http_builder(tls, base_dir)
            .map_err(|e| e.to_string())?
            .redirect(policy)
            .timeout(timeout)
            .connect_timeout(timeout)
            .dns_resolver(Arc::new(ForHttp(dns)))
            .build()
            .map_err(|e| format!("cannot set up HTTPS: {e}"))?;
        Ok(Self { client, timeout })
    }

    /// GETs `url` and reads at most `cap` bytes of its body.
    pub async fn get(&self, url: &Url, cap: usize) -> Result<Fetched, FetchError> {
        let mut resp = self
            .client
            .get(url.clone())
            .send()
            .await
            .map_err(|e| self.error(&e))?;
        let status = resp.status().as_u16();
        let final_url = resp.url().to_string();
        if resp.content_length().is_some_and(|n| n > cap as u64) {
            return Err(FetchError::TooLarge(cap));
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.error(&e))? {
            if body.len() + chunk.len() > cap {
                return Err(FetchError::TooLarge(cap));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Fetched {
            status,
            url: final_url,
            body,
        })
    }

    fn error(&self, e: &reqwest::Error) -> FetchError {
        let mut src: Option<&dyn std::error::Error> = Some(e);
        while let Some(s) = src {
            if let Some(r) = s.downcast_ref::<RedirectRefused>() {
                return FetchError::Redirect(r.to_string());
            }
            if let Some(l) = s.downcast_ref::<LookupError>() {
                return if l.is_negative() {
                    FetchError::NoSuchHost(l.to_string())
                } else if matches!(l, LookupError::TimedOut { .. }) {
                    FetchError::TimedOut(l.to_string())
                } else {
                    FetchError::Failed(l.to_string())
                };
            }
            src = s.source();
        }
        if e.is_timeout() {
            return FetchError::TimedOut(format!(
                "no answer within {} s",
                self.timeout.as_secs().max(1)
            ));
        }
        let mut src: Option<&dyn std::error::Error> = Some(e);
        while let Some(s) = src {
            if let Some(io) = s.downcast_ref::<std::io::Error>() {
                let what = if io.to_string().contains("certificate") {
                    "the server's TLS certificate was refused (trust its CA with --ca-file or tls.ca_file if it is private)"
                } else if e.is_connect() {
                    "cannot connect"
                } else {
                    "the connection failed"
                };
                return FetchError::Failed(format!("{what}: {io}"));
            }
            src = s.source();
        }
        let mut chain = Vec::new();
        let mut src: Option<&dyn std::error::Error> = std::error::Error::source(e);
        while let Some(s) = src {
            chain.push(s.to_string());
            src = s.source();
        }
        let detail = chain.last().cloned().unwrap_or_else(|| e.to_string());
        let detail = if detail.to_lowercase().contains("certificate") {
            format!("the TLS certificate was refused: {detail}")
        } else {
            detail
        };
        FetchError::Failed(super::shown(&detail, 300))
    }
}
