//! What goes wrong: a DNS server that never answers, hostile autoconfig answers, bad input.

use std::time::{Duration, Instant};

use super::support::dns::{Records, Silent};
use super::support::web::Reply;
use super::{World, run};

#[tokio::test]
async fn a_dns_server_that_does_not_answer_times_out_each_lookup_and_says_so() {
    let w = World::start(Records::new()).await;
    let silent = Silent::start().unwrap();
    let server = silent.addr.to_string();
    let t0 = Instant::now();
    let r = w
        .discover("ivy@quiet.test", &["--dns", &server, "--timeout", "2"])
        .await;
    let took = t0.elapsed();
    assert_eq!(r.code, 1, "{}", r.stderr);
    for step in [
        "MX",
        "SRV imaps",
        "SRV imap",
        "SRV pop3s",
        "SRV submissions",
        "SRV submission",
    ] {
        let line = r.step(step);
        assert!(line.starts_with("timeout"), "{line}");
        assert!(
            line.contains(&format!("the DNS server {server} gave no answer for")),
            "{line}"
        );
    }
    // The autoconfig hosts' names go to the same silent server.
    for step in [
        "Autoconfig",
        "Autoconfig (http)",
        "Well-known",
        "Well-known (http)",
    ] {
        let line = r.step(step);
        assert!(
            line.starts_with("timeout") && line.contains("gave no answer for"),
            "{line}"
        );
    }
    // Sources that need no name lookup still answer: one failing never stops the others.
    assert!(r.step("Tenant").starts_with("none"), "{}", r.step("Tenant"));
    assert!(r.step("ISPDB").starts_with("none"), "{}", r.step("ISPDB"));
    // All at once, each within its limit: a hang here would show as minutes, not seconds.
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[tokio::test]
async fn hostile_autoconfig_answers_are_refused_with_a_message() {
    let domains = ["huge", "endless", "broken", "html", "loop", "chain", "host"];
    let mut records = Records::new();
    for d in domains {
        records = records.a(&format!("autoconfig.{d}.test"), "127.0.0.1");
    }
    let w = World::start(records).await;
    let file = "/mail/config-v1.1.xml";
    let host = |d: &str| format!("autoconfig.{d}.test");
    let base = |d: &str| format!("http://autoconfig.{d}.test:{}", w.web.port);
    w.web
        .set(&host("huge"), file, Reply::HugeDeclared(5 * 1024 * 1024));
    w.web
        .set(&host("endless"), file, Reply::HugeChunked(64 * 1024 * 1024));
    w.web.set(
        &host("broken"),
        file,
        Reply::Body(
            "<clientConfig><emailProvider><incomingServer type=\"imap\"><hostname>x</hostname>"
                .into(),
        ),
    );
    w.web.set(
        &host("html"),
        file,
        Reply::Body("<html><body>Parked domain</body></html>".into()),
    );
    w.web.set(
        &host("loop"),
        file,
        Reply::Redirect(format!("{}/again", base("loop"))),
    );
    w.web.set(
        &host("loop"),
        "/again",
        Reply::Redirect(format!("{}{file}", base("loop"))),
    );
    for i in 0..6 {
        w.web.set(
            &host("chain"),
            &if i == 0 {
                file.to_owned()
            } else {
                format!("/{i}")
            },
            Reply::Redirect(format!("{}/{}", base("chain"), i + 1)),
        );
    }
    let evil = super::autoconfig_xml(
        "host.test",
        ("evil&#x1b;[31m.test", 993, "SSL"),
        ("bad host.test", 587, "STARTTLS"),
        "%EMAILADDRESS%",
        "password-cleartext",
    );
    w.web.set(&host("host"), file, Reply::Body(evil));
    for (d, want) in [
        ("huge", "refused: the answer is larger than 1024 KB"),
        ("endless", "refused: the answer is larger than 1024 KB"),
        (
            "broken",
            "refused: the file ends before its root element does",
        ),
        (
            "html",
            "refused: its XML root element is <html>, not <clientConfig>",
        ),
        (
            "loop",
            "refused: a redirect loop (back to http://autoconfig.loop.test",
        ),
        ("chain", "refused: more than 3 redirects"),
        (
            "host",
            "refused: the host \"evil\\u{1b}[31m.test\" is not a host name; the host \"bad host.test\" is not a host name",
        ),
    ] {
        let r = w.discover(&format!("jo@{d}.test"), &[]).await;
        let line = r.step("Autoconfig (http)");
        assert!(line.contains(want), "{d}: {line}");
        assert!(line.starts_with("REFUSED"), "{d}: {line}");
        assert_eq!(r.code, 1, "{d}: nothing usable was found\n{}", r.stderr);
        assert!(
            !r.stderr.contains('\u{1b}'),
            "{d}: a raw escape reached the terminal"
        );
    }
}

#[tokio::test]
async fn a_hanging_web_host_times_out_without_holding_up_the_rest() {
    let w = World::start(Records::new().a("autoconfig.slow.test", "127.0.0.1").srv(
        "_imaps._tcp.slow.test",
        "imap.slow.test",
        993,
        0,
        0,
    ))
    .await;
    w.web
        .set("autoconfig.slow.test", "/mail/config-v1.1.xml", Reply::Hang);
    let r = w.discover("kim@slow.test", &[]).await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    let line = r.step("Autoconfig (http)");
    assert!(
        line.starts_with("timeout") && line.contains("no answer within 3 s"),
        "{line}"
    );
    assert_eq!(super::s(&r.profile(), "mailboxes.0.host"), "imap.slow.test");
}

#[tokio::test]
async fn bad_input_is_exit_2_naming_what_is_wrong() {
    for (args, want) in [
        (
            vec!["not-an-address"],
            "\"not-an-address\" is not an e-mail address: it has no @",
        ),
        (vec!["a b@x.test"], "characters an address cannot have"),
        (
            vec!["a@x.test", "--dns", "dns.example.com"],
            "--dns: \"dns.example.com\" is not a DNS server address",
        ),
        (
            vec!["a@x.test", "--authority", "http://login.example.com"],
            "--authority: \"http://login.example.com\" must use https",
        ),
        (
            vec!["a@x.test", "--ispdb", "not a url"],
            "--ispdb: \"not a url\" is not a valid address",
        ),
        (
            vec!["a@x.test", "--timeout", "0"],
            "--timeout 0 is out of range",
        ),
        (
            vec!["a@x.test", "--ca-file", "/"],
            "--ca-file /: not a regular file",
        ),
        (
            vec!["a@x.test", "--output", "/tmp"],
            "--output /tmp: is a folder",
        ),
        (
            vec!["a@x.test", "--output", "/dev/null"],
            "--output /dev/null: is not a regular file",
        ),
    ] {
        let mut a = vec!["discover".to_owned()];
        a.extend(args.iter().map(|s| (*s).to_owned()));
        let r = run(a).await;
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty());
    }
}

#[tokio::test]
async fn https_is_verified_and_a_redirect_never_steps_down_to_http() {
    let dir = tempfile::tempdir().unwrap();
    let pki = super::support::pki::make(dir.path()).await.unwrap();
    let web = super::support::web::Web::start_tls(&pki.cert, &pki.key)
        .await
        .unwrap();
    let tls = web.tls_port.unwrap();
    let xml = super::autoconfig_xml(
        "tls.test",
        ("imap.tls.test", 993, "SSL"),
        ("smtp.tls.test", 465, "SSL"),
        "%EMAILADDRESS%",
        "password-cleartext",
    );
    web.set("127.0.0.1", "/v1.1/tls.test", Reply::Body(xml));
    web.set(
        "127.0.0.1",
        "/v1.1/down.test",
        Reply::Redirect(format!("http://127.0.0.1:{}/v1.1/tls.test", web.port)),
    );
    let w = World::start(Records::new()).await;
    let ispdb = format!("https://127.0.0.1:{tls}/v1.1/");
    let ca = pki.ca.display().to_string();
    let r = w
        .discover("lee@tls.test", &["--ispdb", &ispdb, "--ca-file", &ca])
        .await;
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.step("ISPDB").starts_with("found"), "{}", r.step("ISPDB"));
    assert!(!r.stderr.contains("over plain http"));
    // The CA the user trusted goes into the draft, as an absolute path.
    assert_eq!(
        super::s(&r.profile(), "tls.ca_file"),
        std::path::absolute(&pki.ca).unwrap().to_str().unwrap()
    );
    let r = w
        .discover("lee@down.test", &["--ispdb", &ispdb, "--ca-file", &ca])
        .await;
    let line = r.step("ISPDB");
    assert!(
        line.starts_with("REFUSED") && line.contains("a redirect from https down to plain http"),
        "{line}"
    );
    let r = w.discover("lee@tls.test", &["--ispdb", &ispdb]).await;
    let line = r.step("ISPDB");
    assert!(
        line.starts_with("failed") && line.contains("certificate"),
        "without the CA: {line}"
    );
}
