//! The one-shot loopback listener that receives the browser's redirect after a delegated sign-in.
//! Hand-written on tokio's TcpListener: it reads one request line from a browser on this computer,
//! which a web-server crate would only wrap in more code than it saves (pizauth does the same).
//! It binds 127.0.0.1 and, where it exists, ::1 on the same port, since browsers resolve
//! `localhost` either way; answers 404 to strays (`/favicon.ico`), refuses a wrong `state` and a
//! request whose `Host` is not this computer (a web page that rebinds its own name to 127.0.0.1
//! must not reach the listener), and hands over the first good redirect. Dropping it closes the
//! port, so later redirects are refused.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use url::Url;

use super::OAuthError;

/// What the browser brought back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redirect {
    Code(String),
    /// The identity provider's `error`, `error_description` and `error_uri`.
    Error {
        error: String,
        description: Option<String>,
        uri: Option<String>,
    },
}

pub struct Listener {
    listeners: Vec<TcpListener>,
    redirect_uri: String,
    path: String,
    port: u16,
}

const MAX_REQUEST: usize = 16 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(10);

impl Listener {
    /// Binds the loopback. `configured` is the account's `redirect_uri` (default `http://localhost`);
    /// its port is used when it has one, otherwise a free port is chosen.
    pub async fn bind(configured: Option<&str>) -> Result<Self, OAuthError> {
        let configured = configured.unwrap_or("http://localhost");
        let bad = |why: &str| {
            OAuthError::Config {
            field: "redirect_uri",
            message: format!("the redirect address \"{configured}\" {why}"),
            fix: "use http://localhost (any port is matched by Microsoft for localhost registrations), or http://localhost:PORT/PATH exactly as registered".into(),
        }
        };
        let url = Url::parse(configured).map_err(|_| bad("is not a valid address"))?;
        if url.scheme() != "http" {
            return Err(bad(
                "must start with http:// to reach this computer's listener",
            ));
        }
        let host = url.host_str().unwrap_or_default().to_owned();
        if !matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]") {
            return Err(bad(
                "must point at this computer (localhost, 127.0.0.1 or [::1])",
            ));
        }
        let want = url.port().unwrap_or(0);
        let v4 = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, want)))
            .await
            .map_err(|e| OAuthError::Listener(format!("cannot listen on 127.0.0.1:{want}: {e}")))?;
        let port = v4
            .local_addr()
            .map_err(|e| OAuthError::Listener(e.to_string()))?
            .port();
        let mut listeners = vec![v4];
        // Optional: a machine without IPv6 still works through 127.0.0.1.
        if let Ok(v6) = TcpListener::bind(SocketAddr::from((Ipv6Addr::LOCALHOST, port))).await {
            listeners.push(v6);
        }
        let path = url.path().to_owned();
        let redirect_uri = format!(
            "http://{host}:{port}{}",
            if path == "/" && !configured.ends_with('/') {
                ""
            } else {
                &path
            }
        );
        Ok(Self {
            listeners,
            redirect_uri,
            path,
            port,
        })
    }

    /// The exact redirect URI to send in the authorize and token requests.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Waits for the redirect that carries `state`. Strays get 404 and a wrong state gets 400,
    /// and the wait goes on; the caller bounds it with a timeout or cancels by dropping it.
    pub async fn wait(self, state: &str) -> Result<Redirect, OAuthError> {
        let (tx, mut rx) = mpsc::channel::<Redirect>(1);
        let expected = Arc::new(Expected {
            path: self.path.clone(),
            state: state.to_owned(),
            port: self.port,
        });
        let mut tasks = tokio::task::JoinSet::new();
        for listener in self.listeners {
            let tx = tx.clone();
            let expected = expected.clone();
            tasks.spawn(async move {
                while let Ok((stream, _)) = listener.accept().await {
                    // Each connection on its own task: browsers open idle speculative connections.
                    tokio::spawn(serve(stream, expected.clone(), tx.clone()));
                }
            });
        }
        drop(tx);
        let got = rx.recv().await;
        tasks.abort_all();
        got.ok_or_else(|| OAuthError::Listener("the loopback listener stopped".into()))
    }
}

/// What a good redirect looks like.
struct Expected {
    path: String,
    state: String,
    port: u16,
}

/// Whether a `Host` header names this computer's listener: `localhost`, `127.0.0.1` or `[::1]`
/// with its port. A page on another name that resolves to 127.0.0.1 sends its own name.
fn local_host(host: &str, port: u16) -> bool {
    let host = host.trim().to_ascii_lowercase();
    let Some((name, p)) = host.rsplit_once(':') else {
        return false;
    };
    p.parse::<u16>().ok() == Some(port) && matches!(name, "localhost" | "127.0.0.1" | "[::1]")
}

async fn serve(mut stream: TcpStream, expected: Arc<Expected>, tx: mpsc::Sender<Redirect>) {
    let Ok(Some((target, host))) =
        tokio::time::timeout(READ_TIMEOUT, read_target(&mut stream)).await
    else {
        return;
    };
    if !host
        .as_deref()
        .is_some_and(|h| local_host(h, expected.port))
    {
        respond(
            &mut stream,
            "421 Misdirected Request",
            "Not for this listener",
            "This request was not addressed to this computer (its Host is not localhost), so mailcfg's sign-in listener ignored it.",
        )
        .await;
        return;
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let (want_path, want_state) = (&expected.path, &expected.state);
    if path != want_path.as_str() && !(want_path.is_empty() && path == "/") {
        respond(
            &mut stream,
            "404 Not Found",
            "Not found",
            "This address is mailcfg's sign-in listener.",
        )
        .await;
        return;
    }
    let params: Vec<(String, String)> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let get = |k: &str| params.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    if get("state").as_deref() != Some(want_state.as_str()) {
        respond(
            &mut stream,
            "400 Bad Request",
            "Sign-in refused",
            "This answer does not belong to the sign-in that mailcfg started (its state does not match), so it was ignored. Start the sign-in again from mailcfg.",
        )
        .await;
        return;
    }
    let redirect = if let Some(error) = get("error") {
        respond(
            &mut stream,
            "200 OK",
            "Sign-in failed",
            &format!("The identity provider answered: {error}. Return to mailcfg: it explains what to do. You can close this tab."),
        )
        .await;
        Redirect::Error {
            error,
            description: get("error_description"),
            uri: get("error_uri"),
        }
    } else if let Some(code) = get("code") {
        respond(
            &mut stream,
            "200 OK",
            "Sign-in finished",
            "mailcfg received the sign-in. You can close this tab and return to mailcfg.",
        )
        .await;
        Redirect::Code(code)
    } else {
        respond(
            &mut stream,
            "400 Bad Request",
            "Sign-in incomplete",
            "The answer carried neither a code nor an error. Start the sign-in again from mailcfg.",
        )
        .await;
        return;
    };
    let _ = tx.send(redirect).await;
}

/// The request target and `Host` of a `GET <target> HTTP/1.1` head, or `None` for anything else.
async fn read_target(stream: &mut TcpStream) -> Option<(String, Option<String>)> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 || buf.len() + n > MAX_REQUEST {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    let mut lines = head.lines();
    let mut words = lines.next()?.split(' ');
    let host = lines.take_while(|l| !l.is_empty()).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.trim()
            .eq_ignore_ascii_case("host")
            .then(|| v.trim().to_owned())
    });
    match (words.next(), words.next()) {
        (Some("GET"), Some(target)) => Some((target.to_owned(), host)),
        _ => None,
    }
}

async fn respond(stream: &mut TcpStream, status: &str, title: &str, text: &str) {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} · mailcfg</title></head>\
         <body style=\"font-family:sans-serif;max-width:40em;margin:4em auto\"><h1>{title}</h1><p>{}</p></body></html>",
        html_escape(text)
    );
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn get(port: u16, target: &str) -> String {
        get_as(port, target, &format!("localhost:{port}")).await
    }

    async fn get_as(port: u16, target: &str, host: &str) -> String {
        let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        s.write_all(format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n").as_bytes())
            .await
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).await.unwrap();
        out
    }

    #[tokio::test]
    async fn strays_and_wrong_state_are_refused_then_the_code_is_taken() {
        let l = Listener::bind(None).await.unwrap();
        let uri = l.redirect_uri().to_owned();
        assert!(uri.starts_with("http://localhost:"), "{uri}");
        let port: u16 = uri.rsplit(':').next().unwrap().parse().unwrap();
        let waiting = tokio::spawn(l.wait("s1"));
        let idle = TcpStream::connect(("127.0.0.1", port)).await.unwrap(); // a speculative connection
        assert!(get(port, "/favicon.ico").await.starts_with("HTTP/1.1 404"));
        let wrong = get(port, "/?code=c&state=evil").await;
        assert!(
            wrong.starts_with("HTTP/1.1 400") && wrong.contains("does not match"),
            "{wrong}"
        );
        let ok = get(port, "/?code=the-code&state=s1").await;
        assert!(
            ok.starts_with("HTTP/1.1 200") && ok.contains("close this tab"),
            "{ok}"
        );
        assert_eq!(
            waiting.await.unwrap().unwrap(),
            Redirect::Code("the-code".into())
        );
        drop(idle);
        // The port is closed after the first good redirect.
        assert!(TcpStream::connect(("127.0.0.1", port)).await.is_err());
    }

    #[tokio::test]
    async fn a_request_for_another_host_is_refused() {
        let l = Listener::bind(None).await.unwrap();
        let port: u16 = l
            .redirect_uri()
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let waiting = tokio::spawn(l.wait("s1"));
        // DNS rebinding: a page at evil.example whose name now resolves to 127.0.0.1 sends the
        // right path and state (it could not know the state, but nothing else may get through).
        for host in [
            format!("evil.example:{port}"),
            String::new(),
            "localhost:1".into(),
        ] {
            let r = get_as(port, "/?code=c&state=s1", &host).await;
            assert!(r.starts_with("HTTP/1.1 421"), "{host}: {r}");
        }
        let r = get_as(port, "/?code=c&state=s1", &format!("127.0.0.1:{port}")).await;
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        assert_eq!(waiting.await.unwrap().unwrap(), Redirect::Code("c".into()));
    }

    #[test]
    fn local_hosts_are_localhost_and_loopback_with_the_port() {
        assert!(local_host("localhost:8080", 8080));
        assert!(local_host("[::1]:8080", 8080));
        assert!(local_host("LocalHost:8080", 8080));
        assert!(!local_host("localhost", 8080));
        assert!(!local_host("localhost.evil.example:8080", 8080));
        assert!(!local_host("127.0.0.2:8080", 8080));
    }

    #[tokio::test]
    async fn an_error_redirect_is_handed_over() {
        let l = Listener::bind(Some("http://localhost/cb")).await.unwrap();
        let port: u16 = l
            .redirect_uri()
            .trim_end_matches("/cb")
            .rsplit(':')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(l.redirect_uri().ends_with("/cb"));
        let waiting = tokio::spawn(l.wait("s"));
        assert!(
            get(port, "/?state=s&code=x")
                .await
                .starts_with("HTTP/1.1 404"),
            "wrong path"
        );
        get(
            port,
            "/cb?state=s&error=access_denied&error_description=AADSTS65004%3A+declined",
        )
        .await;
        let got = waiting.await.unwrap().unwrap();
        assert_eq!(
            got,
            Redirect::Error {
                error: "access_denied".into(),
                description: Some("AADSTS65004: declined".into()),
                uri: None
            }
        );
    }

    #[tokio::test]
    async fn remote_redirects_are_refused_at_configuration() {
        assert!(Listener::bind(Some("https://localhost")).await.is_err());
        assert!(Listener::bind(Some("http://example.com/cb")).await.is_err());
    }
}
