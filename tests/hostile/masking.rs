//! Items 4 and 5: a token or client secret echoed back by a mail server or an identity provider
//! is masked in every output path (step details, failure headlines, the transcript, `--json`),
//! raw, base64, as the SASL string, URL-encoded, and in part; a JWT in an `error_description` too.

use base64::Engine as _;

use super::support::fake::{Answer, Fake};
use super::support::idp::{Config, Idp, MsError};
use super::*;

fn b64(s: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn unb64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// The lines a fake got that are SASL strings (base64 of `user=…\x01auth=Bearer …`).
fn sasl_strings(seen: &[String]) -> Vec<String> {
    seen.iter()
        .flat_map(|l| l.split(' '))
        .filter(|w| w.len() > 40)
        .filter(|w| {
            base64::engine::general_purpose::STANDARD
                .decode(w)
                .is_ok_and(|d| d.starts_with(b"user="))
        })
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_echoed_by_pop3_and_smtp_servers_is_masked_everywhere() {
    let idp = Idp::start(Config::default()).await.unwrap();
    // The servers echo the SASL string, decoded too (with its \x01 bytes), and a part of it.
    let echo = |prefix: &'static str| {
        move |l: &str| -> Answer {
            let raw = String::from_utf8_lossy(&unb64(l.rsplit(' ').next().unwrap())).into_owned();
            Answer::Send(
                format!(
                    "{prefix} token {l} refused; it says {raw}; the start was {}\r\n",
                    &l[..120]
                )
                .into_bytes(),
            )
        }
    };
    let pop3_echo = echo("-ERR");
    let pop3 = Fake::start(Answer::text("+OK fake POP3\r\n"), move |l| match l {
        "CAPA" => Answer::text("+OK\r\nSASL XOAUTH2\r\n.\r\n"),
        "AUTH XOAUTH2" => Answer::text("+ \r\n"),
        "QUIT" => Answer::text("+OK bye\r\n"),
        l if l.len() > 40 => pop3_echo(l),
        _ => Answer::text("-ERR no\r\n"),
    })
    .await;
    let smtp_echo = echo("535 5.7.8");
    let smtp = Fake::start(Answer::text("220 fake ESMTP\r\n"), move |l| {
        match l.split(' ').next().unwrap_or_default() {
            "EHLO" => Answer::text("250-fake\r\n250 AUTH XOAUTH2\r\n"),
            "AUTH" if l == "AUTH XOAUTH2" => Answer::text("334 \r\n"),
            "QUIT" => Answer::text("221 bye\r\n"),
            _ if l.len() > 40 => smtp_echo(l),
            _ => Answer::text("250 OK\r\n"),
        }
    })
    .await;
    let dir = tempfile::tempdir().unwrap();
    let body = account(idp.authority())
        + &mailbox("pop3", pop3.port, Some("app"))
        + &transport(smtp.port, defaults::MAILBOX, Some("app"));
    let p = profile(dir.path(), &body);
    for json in [false, true] {
        let mut args = vec!["test", "--profile", p.to_str().unwrap()];
        if json {
            args.push("--json");
        }
        let o = run(mailcfg(&args).env("MAILCFG_CLIENT_SECRET", defaults::APP_SECRET)).await;
        assert_eq!(o.code, Some(1), "{}", o.all());
        let mut seen = pop3.seen();
        seen.extend(smtp.seen());
        let strings = sasl_strings(&seen);
        assert!(strings.len() >= 2, "the servers got {seen:?}");
        for s in &strings {
            let raw = String::from_utf8(unb64(s)).unwrap();
            let token = raw
                .split("auth=Bearer ")
                .nth(1)
                .unwrap()
                .trim_end_matches('\u{1}');
            // Before: `-ERR token dXNlcj1…` carried the live XOAUTH2 string in the step detail
            // and the failure headline (human and --json).
            assert_absent(
                &o,
                &[s, &s[..120], token, &token[..40], defaults::APP_SECRET],
            );
        }
        assert!(o.all().contains("masked>"), "{}", o.all());
        assert_no_controls(&o);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_secret_and_a_jwt_echoed_by_the_identity_provider_are_masked() {
    let idp = Idp::start(Config::default()).await.unwrap();
    let url_encoded: String =
        url::form_urlencoded::byte_serialize(defaults::APP_SECRET.as_bytes()).collect();
    assert!(url_encoded.contains("%7E"), "{url_encoded}");
    let jwt = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJodHRwczovL291dGxvb2sub2ZmaWNlMzY1LmNvbSIsInN1YiI6Ing5In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg";
    idp.config(|c| {
        c.token_error = Some(MsError::new(
            401,
            "invalid_client",
            7_000_215,
            format!(
                "Invalid client secret provided. The request was: grant_type=client_credentials&client_secret={url_encoded}&scope=x. Last token: {jwt}"
            ),
        ));
    });
    let dir = tempfile::tempdir().unwrap();
    let body = account(idp.authority()) + &mailbox("imap", 9, Some("app"));
    let p = profile(dir.path(), &body);
    let ps = p.to_str().unwrap();
    for args in [
        vec!["token", "--profile", ps, "--account", "app"],
        vec!["token", "--profile", ps, "--account", "app", "--json"],
        vec!["test", "--profile", ps, "--json"],
        vec!["test", "--profile", ps],
    ] {
        let o = run(mailcfg(&args).env("MAILCFG_CLIENT_SECRET", defaults::APP_SECRET)).await;
        assert_eq!(o.code, Some(1), "{args:?}: {}", o.all());
        // Before: `the identity provider said: … client_secret=mQ8%7E…` and the JWT as it was.
        assert_absent(&o, &[defaults::APP_SECRET, &url_encoded, jwt, &jwt[..30]]);
        assert!(
            o.all().contains("<client secret: masked>"),
            "{args:?}: {}",
            o.all()
        );
        assert!(o.all().contains("<JWT: masked>"), "{args:?}: {}", o.all());
        assert!(o.all().contains("AADSTS7000215"), "{}", o.all());
        assert_no_controls(&o);
    }
}

#[test]
fn every_form_of_a_registered_secret_is_masked() {
    let secret = "Zz9~a-secret.registered_by-the-suite";
    mailcfg::redact::register(secret, "<masked>");
    let forms = [
        secret.to_owned(),
        b64(secret.as_bytes()),
        url::form_urlencoded::byte_serialize(secret.as_bytes()).collect(),
        // A part of one, as a server may cut an echo (23 bytes or more of the secret).
        b64(secret.as_bytes())[4..40].to_owned(),
    ];
    for f in &forms {
        let text = format!("server said: {f}.");
        let masked = mailcfg::redact::mask(&text);
        assert!(!masked.contains(f.as_str()), "{text} → {masked}");
    }
}
