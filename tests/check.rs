//! `mailcfg check` through the real binary against the real servers: each plugin state and exit
//! code, the performance data read by a strict parser of the Monitoring Plugins format, the
//! Prometheus text checked by Prometheus' own `promtool`, the systemd units by
//! `systemd-analyze verify`, a delegated account's refused refresh (keyring: GNOME Keyring on a
//! private D-Bus), and no secret or token in any output.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use mailcfg::profile::{self, Encryption, Flow, Mailbox, Profile, Protocol, Transport};
use support::keyring::with_keyring;
use support::{Options, TestServers, defaults};

const BIN: &str = env!("CARGO_BIN_EXE_mailcfg");

fn lab(s: &TestServers) -> Profile {
    let mut a = profile::presets::account("Lab app", profile::Provider::Microsoft, Flow::AppOnly);
    a.tenant = Some(defaults::TENANT_ID.into());
    a.client_id = defaults::APP_CLIENT_ID.into();
    a.authority = Some(s.authority().into());
    let mbx = |name: &str, protocol, port| Mailbox {
        name: name.into(),
        protocol,
        host: "localhost".into(),
        port,
        encryption: Encryption::Tls,
        user: defaults::MAILBOX.into(),
        account: Some("Lab app".into()),
    };
    let mut p = Profile {
        accounts: vec![a],
        mailboxes: vec![
            mbx("Lab IMAP", Protocol::Imap, s.ports.imaps),
            mbx("Lab POP3", Protocol::Pop3, s.ports.pop3s),
        ],
        transports: vec![Transport {
            name: "Lab SMTP".into(),
            host: "localhost".into(),
            port: s.ports.submission,
            encryption: Encryption::StartTls,
            auth: true,
            username: Some(defaults::MAILBOX.into()),
            account: Some("Lab app".into()),
        }],
        ..Profile::default()
    };
    p.tls.ca_file = Some(s.ca_file().to_owned());
    p.probe.timeout_secs = 10;
    p
}

fn save(p: &Profile, dir: &Path) -> PathBuf {
    let file = dir.join("lab.toml");
    profile::save(p, &file).unwrap();
    file
}

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// The test CA's certificates live a week: thresholds below that keep them OK.
const QUIET: [&str; 4] = ["--warn-days", "3", "--crit-days", "1"];

async fn check(file: &Path, args: &[&str], secret: Option<&str>) -> Run {
    let mut c = tokio::process::Command::new(BIN);
    c.arg("check")
        .arg("--profile")
        .arg(file)
        .args(args)
        .env_remove("MAILCFG_CLIENT_SECRET")
        .env_remove("CREDENTIALS_DIRECTORY")
        .env_remove("DBUS_SESSION_BUS_ADDRESS");
    if let Some(s) = secret {
        c.env("MAILCFG_CLIENT_SECRET", s);
    }
    let out = c.output().await.unwrap();
    let run = Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    println!("exit {}\n{}{}", run.code, run.stdout, run.stderr);
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    for text in [&run.stdout, &run.stderr] {
        assert!(!text.contains(defaults::APP_SECRET), "the secret leaked");
        assert!(!text.contains("eyJ0"), "a token leaked: {text}");
    }
    run
}

/// One performance datum by the Monitoring Plugins guidelines:
/// `'label'=value[UOM];[warn];[crit];[min];[max]`. Panics on anything else.
fn perf_datum(d: &str) -> (String, f64, String) {
    let (label, rest) = if let Some(quoted) = d.strip_prefix('\'') {
        let end = quoted
            .find("'=")
            .unwrap_or_else(|| panic!("unterminated label in {d}"));
        (quoted[..end].to_owned(), &quoted[end + 2..])
    } else {
        let (l, r) = d.split_once('=').unwrap_or_else(|| panic!("no = in {d}"));
        assert!(!l.contains(' '), "a label with spaces must be quoted: {d}");
        (l.to_owned(), r)
    };
    assert!(!label.contains('\'') && !label.contains('='), "{d}");
    let fields: Vec<&str> = rest.split(';').collect();
    assert!(fields.len() <= 5, "too many fields: {d}");
    let num_end = fields[0]
        .find(|c: char| !(c.is_ascii_digit() || "-.".contains(c)))
        .unwrap_or(fields[0].len());
    let (value, uom) = fields[0].split_at(num_end);
    let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {d}"));
    assert!(
        ["", "s", "ms", "us", "%", "B", "KB", "MB", "TB", "c"].contains(&uom),
        "unit {uom} in {d}"
    );
    let range = |r: &str| {
        if r.is_empty() {
            return;
        }
        let r = r.strip_prefix('@').unwrap_or(r);
        let (start, end) = r.split_once(':').unwrap_or(("", r));
        assert!(
            start.is_empty() || start == "~" || start.parse::<f64>().is_ok(),
            "range {r} in {d}"
        );
        assert!(
            end.is_empty() || end.parse::<f64>().is_ok(),
            "range {r} in {d}"
        );
    };
    for r in fields.iter().skip(1).take(2) {
        range(r);
    }
    for m in fields.iter().skip(3) {
        assert!(
            m.is_empty() || m.parse::<f64>().is_ok(),
            "min/max {m} in {d}"
        );
    }
    (label, value, uom.to_owned())
}

/// The status line's perfdata, every datum parsed.
fn perfdata(out: &str) -> Vec<(String, f64, String)> {
    let first = out.lines().next().unwrap_or_default();
    let (_, perf) = first
        .split_once(" | ")
        .unwrap_or_else(|| panic!("no perfdata: {first}"));
    // Data are separated by spaces; quoted labels may hold spaces.
    let mut out = Vec::new();
    let mut rest = perf.trim();
    while !rest.is_empty() {
        let end = if let Some(quoted) = rest.strip_prefix('\'') {
            let close = quoted.find("'=").unwrap() + 1;
            rest[close..].find(' ').map_or(rest.len(), |i| close + i)
        } else {
            rest.find(' ').unwrap_or(rest.len())
        };
        out.push(perf_datum(&rest[..end]));
        rest = rest[end..].trim_start();
    }
    out
}

fn promtool(args: &[&str], input: Option<&str>) -> Output {
    use std::io::Write as _;
    let mut c = std::process::Command::new("promtool")
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool (Debian's prometheus package, tests/servers/install.sh)");
    if let Some(i) = input {
        c.stdin.take().unwrap().write_all(i.as_bytes()).unwrap();
    }
    drop(c.stdin.take());
    c.wait_with_output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ok_then_warning_for_a_secret_expiring_within_warn_days() {
    let s = TestServers::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = lab(&s);
    let file = save(&p, dir.path());
    let run = check(&file, &QUIET, Some(defaults::APP_SECRET)).await;
    assert_eq!(run.code, 0, "OK");
    assert!(
        run.stdout.starts_with("MAILCFG OK - 3 of 3 passed | "),
        "{}",
        run.stdout
    );
    let perf = perfdata(&run.stdout);
    for t in ["Lab IMAP time", "Lab POP3 time", "Lab SMTP time"] {
        let (_, v, uom) = perf.iter().find(|(l, _, _)| l == t).unwrap();
        assert!(*v > 0.0 && uom == "s", "{t}");
    }
    assert!(
        perf.iter()
            .any(|(l, v, _)| l == "Lab IMAP certificate days" && *v >= 5.0)
    );
    assert_eq!(
        run.stdout.lines().count(),
        5,
        "status, 3 targets, 1 account"
    );
    let json = check(
        &file,
        &["--format", "json", "--warn-days", "3", "--crit-days", "1"],
        Some(defaults::APP_SECRET),
    )
    .await;
    assert_eq!(json.code, 0);
    let v: serde_json::Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(
        (v["state"].as_str(), v["exit_code"].as_i64()),
        (Some("ok"), Some(0))
    );
    let targets = v["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 3);
    assert!(targets.iter().all(|t| t["diagnosis"].is_null()), "{v}");

    let in_two_days = chrono::Utc::now().date_naive() + chrono::Days::new(2);
    p.accounts[0].client_secret_expires = Some(in_two_days.format("%Y-%m-%d").to_string());
    let file = save(&p, dir.path());
    let run = check(&file, &QUIET, Some(defaults::APP_SECRET)).await;
    assert_eq!(run.code, 1, "WARNING");
    assert!(
        run.stdout
            .starts_with("MAILCFG WARNING - account Lab app: the client secret expires in 2 days"),
        "{}",
        run.stdout
    );
    let perf = perfdata(&run.stdout);
    assert!(
        perf.iter()
            .any(|(l, v, _)| l == "Lab app secret days" && (*v - 2.0).abs() < 0.1)
    );
    let run = check(
        &file,
        &["--warn-days", "3", "--crit-days", "3"],
        Some(defaults::APP_SECRET),
    )
    .await;
    assert_eq!(run.code, 2, "within --crit-days: CRITICAL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_critical_with_its_diagnosis() {
    let s = TestServers::start_with(Options {
        per_protocol: true,
        ..Options::default()
    })
    .await
    .unwrap();
    s.idp.config(|c| c.apps[0].roles.clear());
    let dir = tempfile::tempdir().unwrap();
    let file = save(&lab(&s), dir.path());
    let run = check(&file, &QUIET, Some(defaults::APP_SECRET)).await;
    assert_eq!(run.code, 2, "CRITICAL");
    assert!(
        run.stdout.starts_with("MAILCFG CRITICAL - Lab IMAP: Admin consent has not been granted [admin_consent_missing]"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("CRITICAL: Lab POP3 (POP3): failed at Authenticate"),
        "{}",
        run.stdout
    );
    perfdata(&run.stdout);

    let json = check(
        &file,
        &["--format", "json", "--warn-days", "3", "--crit-days", "1"],
        Some(defaults::APP_SECRET),
    )
    .await;
    assert_eq!(json.code, 2);
    let v: serde_json::Value = serde_json::from_str(json.stdout.trim()).unwrap();
    assert_eq!(v["state"], "critical");
    assert_eq!(v["exit_code"], 2);
    assert_eq!(v["targets"].as_array().unwrap().len(), 3);
    assert_eq!(
        v["targets"][0]["diagnosis"]["kind"],
        "admin_consent_missing"
    );

    // Prometheus: every target down, with the diagnosis' kind as a label, and promtool agrees.
    let prom = check(
        &file,
        &[
            "--format",
            "prometheus",
            "--warn-days",
            "3",
            "--crit-days",
            "1",
        ],
        Some(defaults::APP_SECRET),
    )
    .await;
    assert_eq!(prom.code, 2);
    for t in ["Lab IMAP", "Lab POP3", "Lab SMTP"] {
        let up = prom
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("mailcfg_target_up{{target=\"{t}\"")))
            .unwrap_or_else(|| panic!("no mailcfg_target_up for {t} in\n{}", prom.stdout));
        assert!(up.ends_with(" 0"), "{up}");
    }
    assert!(
        prom.stdout.contains("kind=\"admin_consent_missing\""),
        "{}",
        prom.stdout
    );
    let lint = promtool(&["check", "metrics"], Some(&prom.stdout));
    assert!(
        lint.status.success(),
        "{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_profile_or_no_secret_is_unknown() {
    let s = TestServers::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "version = 1\n[[accounts]]\nname = \n").unwrap();
    let run = check(&bad, &[], None).await;
    assert_eq!(run.code, 3, "UNKNOWN");
    assert!(
        run.stdout.starts_with("MAILCFG UNKNOWN - the profile "),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.lines().count(), 1);

    let file = save(&lab(&s), dir.path());
    let run = check(&file, &QUIET, None).await;
    assert_eq!(run.code, 3, "no client secret: UNKNOWN");
    assert!(run.stdout.contains("client secret"), "{}", run.stdout);

    let run = check(
        &file,
        &["--warn-days", "1", "--crit-days", "5"],
        Some(defaults::APP_SECRET),
    )
    .await;
    assert_eq!(run.code, 3, "contradicting thresholds");

    // --output never replaces the profile it checks.
    let before = std::fs::read_to_string(&file).unwrap();
    let same = file.to_str().unwrap();
    let run = check(
        &file,
        &["--format", "prometheus", "--output", same],
        Some(defaults::APP_SECRET),
    )
    .await;
    assert_eq!(run.code, 3, "{}", run.stdout);
    assert!(
        run.stdout.contains("this is the profile itself"),
        "{}",
        run.stdout
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_text_passes_promtool_and_holds_the_values() {
    use std::os::unix::fs::PermissionsExt as _;
    let s = TestServers::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut p = lab(&s);
    p.accounts[0].client_secret_expires = Some("2027-06-30".into());
    let file = save(&p, dir.path());
    let prom = dir.path().join("mailcfg-lab.prom");
    let out = prom.to_str().unwrap();
    let run = check(
        &file,
        &[
            "--format",
            "prometheus",
            "--output",
            out,
            "--warn-days",
            "3",
            "--crit-days",
            "1",
        ],
        Some(defaults::APP_SECRET),
    )
    .await;
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(run.stdout.is_empty(), "all went to the file");
    let mode = std::fs::metadata(&prom).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o644, "node_exporter must read it");
    let text = std::fs::read_to_string(&prom).unwrap();
    println!("{}:\n{text}", prom.display());
    let lint = promtool(&["check", "metrics"], Some(&text));
    assert!(
        lint.status.success(),
        "{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
    let value = |prefix: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
    };
    for t in ["Lab IMAP", "Lab POP3", "Lab SMTP"] {
        assert!((value(&format!("mailcfg_target_up{{target=\"{t}\"")) - 1.0).abs() < f64::EPSILON);
    }
    let secret = chrono::NaiveDate::from_ymd_opt(2027, 6, 30)
        .unwrap()
        .and_hms_opt(23, 59, 59)
        .unwrap()
        .and_utc()
        .timestamp();
    #[allow(clippy::cast_precision_loss)]
    let want = secret as f64;
    assert!(
        (value("mailcfg_client_secret_expiry_timestamp_seconds{account=\"Lab app\"}") - want).abs()
            < 1.0
    );
    let now = chrono::Utc::now().timestamp();
    #[allow(clippy::cast_precision_loss)]
    let stamp = value("mailcfg_check_timestamp_seconds") - now as f64;
    assert!(stamp.abs() < 120.0);
    assert!(
        value("mailcfg_certificate_expiry_timestamp_seconds{target=\"Lab IMAP\"")
            > want - 400.0 * 86400.0
    );
    // The sample alert rules load.
    let rules = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/monitoring/mailcfg.rules.yml"
    );
    let check = promtool(&["check", "rules", rules], None);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
}

#[test]
fn the_timer_and_service_units_verify() {
    let dir = tempfile::tempdir().unwrap();
    let assets = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/monitoring");
    // The unit names the installed binary; verify checks that it exists, so point it here.
    let service = std::fs::read_to_string(format!("{assets}/mailcfg-check@.service"))
        .unwrap()
        .replace("/usr/bin/mailcfg", BIN);
    std::fs::write(dir.path().join("mailcfg-check@.service"), service).unwrap();
    std::fs::copy(
        format!("{assets}/mailcfg-check@.timer"),
        dir.path().join("mailcfg-check@.timer"),
    )
    .unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .args([
            "verify",
            "./mailcfg-check@lab.service",
            "./mailcfg-check@lab.timer",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let said =
        String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);
    // verify reports unknown keys and bad values as warnings with exit 0: any word is a finding.
    let findings: Vec<&str> = said
        .lines()
        .filter(|l| l.contains("mailcfg-check@"))
        .collect();
    assert!(out.status.success() && findings.is_empty(), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delegated_account_refreshes_and_an_expired_refresh_is_critical_with_the_fix() {
    let s = TestServers::start().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut p = lab(&s);
    let a = &mut p.accounts[0];
    a.name = "Alice".into();
    a.flow = Flow::DeviceCode;
    a.client_id = defaults::PUBLIC_CLIENT_ID.into();
    a.scopes = vec![
        "https://outlook.office.com/IMAP.AccessAsUser.All".into(),
        "offline_access".into(),
    ];
    p.mailboxes.truncate(1);
    p.mailboxes[0].user = defaults::USER_EMAIL.into();
    p.mailboxes[0].account = Some("Alice".into());
    p.transports.clear();
    let file = save(&p, dir.path());
    let f = file.to_str().unwrap();
    // Without a stored sign-in the check may not ask anyone: UNKNOWN, with what to do.
    let run = with_keyring(
        home.path(),
        BIN,
        r#""$MAILCFG" check --profile "$P" --warn-days 3 --crit-days 1"#,
        &[("P", f)],
    )
    .await;
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    assert_eq!(run.status.code(), Some(3), "{out}");
    assert!(out.contains("no stored sign-in"), "{out}");
    // Sign in once (device code, approved by the test IdP), then the check refreshes silently.
    let run = with_keyring(home.path(), BIN, r#""$MAILCFG" token --profile "$P" --account Alice >/dev/null && "$MAILCFG" check --profile "$P" --warn-days 3 --crit-days 1"#, &[("P", f)]).await;
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    assert_eq!(
        run.status.code(),
        Some(0),
        "{out}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    // 90 days unused later: the refresh is refused, CRITICAL, with the identity provider's code.
    s.idp.expire_refresh_tokens();
    let run = with_keyring(
        home.path(),
        BIN,
        r#""$MAILCFG" check --profile "$P" --warn-days 3 --crit-days 1"#,
        &[("P", f)],
    )
    .await;
    let out = String::from_utf8_lossy(&run.stdout).into_owned();
    assert_eq!(run.status.code(), Some(2), "{out}");
    assert!(out.contains("AADSTS700082"), "{out}");
    assert!(out.contains("fix:"), "{out}");
}
