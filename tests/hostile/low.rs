//! The "Low" list of issue 13, one test each (the Host check of the loopback listener is the
//! unit test `oauth::loopback::tests::a_request_for_another_host_is_refused`; a `ca_file` without
//! a certificate is in files.rs).

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt as _;

use super::support::fake::{Answer, Fake, Http};
use super::support::idp::{Config, Idp};
use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_self_signed_certificate_posing_as_a_system_root_is_not_trusted() {
    // Subject and issuer: ISRG Root X1, a root every system trusts; the key is ours. As openssl
    // makes it (a CA certificate), and as an end-entity one.
    for extra in [None, Some("basicConstraints=critical,CA:FALSE")] {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let mut openssl = Command::new("openssl");
        openssl
            .args([
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
            ])
            .arg("-nodes")
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .args(["-days", "30", "-subj"])
            .arg("/C=US/O=Internet Security Research Group/CN=ISRG Root X1")
            .args(["-addext", "subjectAltName=DNS:localhost"]);
        if let Some(e) = extra {
            openssl.args(["-addext", e]);
        }
        let made = openssl.output().unwrap();
        assert!(
            made.status.success(),
            "{}",
            String::from_utf8_lossy(&made.stderr)
        );
        let acceptor = Arc::new(support::tls::acceptor(&cert, &key).unwrap());
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = l.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            while let Ok((c, _)) = l.accept().await {
                let a = acceptor.clone();
                tokio::spawn(async move {
                    if let Ok(mut tls) = a.accept(c).await {
                        let _ = tls.write_all(b"* OK hi\r\n").await;
                    }
                });
            }
        });
        let body = format!(
            "[[mailboxes]]\nname = \"fake\"\nprotocol = \"imap\"\nhost = \"localhost\"\nport = {port}\nencryption = \"tls\"\nuser = \"{}\"\n",
            defaults::MAILBOX
        );
        let p = profile(dir.path(), &body);
        let o = run(mailcfg(&[
            "test",
            "--profile",
            p.to_str().unwrap(),
            "--json",
        ]))
        .await;
        server.abort();
        // Before: "the certificate was refused: Other(OtherError(CaUsedAsEndEntity))", no
        // diagnosis.
        assert_eq!(o.code, Some(1), "{}", o.all());
        let r = report(&o);
        assert_eq!(
            r["diagnosis"]["title"], "Certificate not trusted",
            "{extra:?}: {r}"
        );
        assert!(!o.stdout.contains("OtherError"), "{}", o.stdout);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_the_test_cannot_use_are_refused_and_not_echoed_whole() {
    let dir = tempfile::tempdir().unwrap();
    let huge = "a".repeat(900 * 1024);
    for (host, said) in [
        ("[::1]", "without them: ::1"),
        ("127.1", "four numbers"),
        ("2130706433", "four numbers"),
        (huge.as_str(), "characters long"),
    ] {
        let body = mailbox("imap", 993, None).replace("127.0.0.1", host);
        let p = dir.path().join("p.toml");
        std::fs::write(&p, format!("version = 1\n\n{body}")).unwrap();
        let o = run(mailcfg(&["validate", p.to_str().unwrap()])).await;
        // Before: valid (and the test then failed at DNS); a 900 KB host echoed whole.
        assert_eq!(o.code, Some(2), "{}", &o.all()[..o.all().len().min(500)]);
        assert!(o.stdout.contains("mailboxes[0].host"), "{}", o.stdout);
        assert!(
            o.stdout.contains(said),
            "{}",
            &o.stdout[..o.stdout.len().min(800)]
        );
        assert!(o.all().len() < 4096, "{} bytes printed", o.all().len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_secret_pasted_as_client_id_is_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let body = account("https://login.microsoftonline.com")
        .replace(defaults::APP_CLIENT_ID, defaults::APP_SECRET);
    let p = profile(dir.path(), &body);
    let o = run(mailcfg(&["validate", p.to_str().unwrap()])).await;
    assert_eq!(o.code, Some(2), "{}", o.all());
    assert!(o.stdout.contains("accounts[0].client_id"), "{}", o.stdout);
    assert!(o.stdout.contains("client secret"), "{}", o.stdout);
    assert_absent(&o, &[defaults::APP_SECRET]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_554_greeting_is_a_refusal_not_a_stranger() {
    let fake = Fake::start(
        Answer::text("554 5.7.1 fake.example: connections from your address are not accepted\r\n"),
        |_| Answer::Close,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &transport(fake.port, defaults::MAILBOX, None));
    let o = run(mailcfg(&[
        "test",
        "--profile",
        p.to_str().unwrap(),
        "--json",
    ]))
    .await;
    // Before: "The server does not speak SMTP".
    assert_eq!(o.code, Some(1));
    let r = report(&o);
    assert_eq!(r["diagnosis"]["kind"], "greeting_refused", "{r}");
    assert_eq!(
        r["diagnosis"]["title"], "The server refuses this connection",
        "{r}"
    );
    assert!(
        r["diagnosis"]["cause"]
            .as_str()
            .unwrap()
            .contains("554 5.7.1")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_json_prints_json_on_failure_too() {
    let idp = Idp::start(Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &account(idp.authority()));
    let o = run(mailcfg(&[
        "token",
        "--profile",
        p.to_str().unwrap(),
        "--account",
        "app",
        "--json",
    ])
    .env("MAILCFG_CLIENT_SECRET", "not-the-secret-value"))
    .await;
    // Before: nothing on stdout.
    assert_eq!(o.code, Some(1), "{}", o.all());
    let lines = json_lines(&o);
    assert_eq!(lines.len(), 1, "{}", o.stdout);
    assert_eq!(lines[0]["type"], "sign_in_failed");
    assert_eq!(
        lines[0]["explanation"]["code"], "AADSTS7000215",
        "{}",
        lines[0]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_exits_130() {
    let silent = Fake::start(Answer::Nothing, |_| Answer::Nothing).await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &mailbox("imap", silent.port, None));
    let o = run(mailcfg(&["test", "--profile", p.to_str().unwrap()])
        .interrupt_after(Duration::from_millis(800)))
    .await;
    // Before: 1, as for a failed test.
    assert_eq!(o.code, Some(130), "{}", o.all());
    assert!(o.stderr.contains("cancelled"), "{}", o.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_that_redirects_is_said_to_redirect() {
    let http = Http::start(
        "HTTP/1.1 302 Found\r\nLocation: https://login.example.test/signin\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            .to_owned(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let p = profile(
        dir.path(),
        &account(&format!("http://127.0.0.1:{}", http.port)),
    );
    let o = run(mailcfg(&[
        "token",
        "--profile",
        p.to_str().unwrap(),
        "--account",
        "app",
    ])
    .env("MAILCFG_CLIENT_SECRET", defaults::APP_SECRET))
    .await;
    // Before: "server returned empty error response".
    assert_eq!(o.code, Some(1), "{}", o.all());
    assert!(o.stderr.contains("302"), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("redirect to https://login.example.test/signin"),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("empty error response"), "{}", o.stderr);
    assert_absent(&o, &[defaults::APP_SECRET]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_with_a_trailing_line_break_is_named_as_such() {
    let idp = Idp::start(Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &account(idp.authority()));
    let o = run(mailcfg(&[
        "token",
        "--profile",
        p.to_str().unwrap(),
        "--account",
        "app",
    ])
    .env(
        "MAILCFG_CLIENT_SECRET",
        &format!("{}\n", defaults::APP_SECRET),
    ))
    .await;
    // Before: "the secret ID was probably pasted instead".
    assert_eq!(o.code, Some(1), "{}", o.all());
    assert!(o.stderr.contains("AADSTS7000215"), "{}", o.stderr);
    assert!(o.stderr.contains("line break"), "{}", o.stderr);
    assert!(
        !o.stderr.contains("secret ID was probably pasted"),
        "{}",
        o.stderr
    );
    assert_absent(&o, &[defaults::APP_SECRET]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secret_without_a_keyring_says_nothing_was_stored() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path(), &account("https://login.microsoftonline.com"));
    let o = run(mailcfg(&[
        "secret",
        "--profile",
        p.to_str().unwrap(),
        "--account",
        "app",
    ])
    .stdin(b"some-secret-value\n"))
    .await;
    // Before: "kept for this session only", and nothing stored.
    assert_eq!(o.code, Some(1), "{}", o.all());
    assert!(o.stderr.contains("nothing was stored"), "{}", o.stderr);
    assert!(!o.stderr.contains("kept in memory"), "{}", o.stderr);
    assert_absent(&o, &["some-secret-value"]);
}
