//! `mailcfg validate` and profile files, through the real binary: every example in assets/ is
//! valid, and each kind of bad file gets one clear error naming the place, exit 2, no panic, and
//! the file on disk untouched.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_mailcfg");

fn assets() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("assets")
}

fn example() -> String {
    fs::read_to_string(assets().join("microsoft365-app-only.toml")).unwrap()
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Writes `content` as `name` in a fresh folder, validates it, and checks that the file was not
/// touched and nothing panicked. Returns the exit code and the output.
fn validate_file(name: &str, content: &[u8]) -> (i32, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    fs::write(&path, content).unwrap();
    let before = fs::metadata(&path).unwrap().modified().unwrap();
    let out = run(&["validate", path.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "panic: {err}");
    assert_eq!(fs::read(&path).unwrap(), content, "the file was changed");
    assert_eq!(fs::metadata(&path).unwrap().modified().unwrap(), before);
    (
        out.status.code().unwrap(),
        stdout(&out).replace(&*dir.path().to_string_lossy(), "DIR"),
    )
}

#[test]
fn every_example_in_assets_is_valid() {
    let mut seen = 0;
    for entry in fs::read_dir(assets()).unwrap() {
        let path = entry.unwrap().path();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or_default();
        if ext != "toml" && ext != "json" {
            continue;
        }
        let out = run(&["validate", path.to_str().unwrap()]);
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(0), "{}: {text}", path.display());
        assert!(text.contains(": valid ("), "{text}");
        // Clean but for the placeholder client ID an example carries, which it names as one.
        let warnings: Vec<&str> = text.lines().filter(|l| l.contains(": warning: ")).collect();
        assert!(
            warnings
                .iter()
                .all(|w| w.contains("client_id") && w.contains("placeholder")),
            "examples should be clean: {text}"
        );
        seen += 1;
    }
    assert!(seen >= 5, "only {seen} examples found");
}

#[test]
fn truncated_file_names_the_line() {
    let text = example();
    let cut = &text[..text.find("client_id").unwrap() + 4];
    let (code, out) = validate_file("p.toml", cut.as_bytes());
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("p.toml:11:5:"), "{out}");
    assert!(out.contains("syntax error"), "{out}");
    assert!(out.contains("fix:"), "{out}");
}

#[test]
fn wrong_type_names_line_and_key() {
    let text = example().replace("port = 993", "port = \"993\"");
    let (code, out) = validate_file("p.toml", text.as_bytes());
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("p.toml:28:"), "{out}");
    assert!(out.contains("mailboxes[0].port"), "{out}");
    assert!(out.contains("expected a number"), "{out}");
}

#[test]
fn unknown_key_suggests_the_right_one() {
    let text = example().replacen(
        "host = \"outlook.office365.com\"",
        "hots = \"outlook.office365.com\"",
        1,
    );
    let (code, out) = validate_file("p.toml", text.as_bytes());
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("p.toml:27:1: error: mailboxes[0].hots: unknown field `hots`"),
        "{out}"
    );
    assert!(out.contains("did you mean `host`?"), "{out}");
}

#[test]
fn future_version_is_refused() {
    let text = example().replace("version = 1", "version = 2");
    let (code, out) = validate_file("p.toml", text.as_bytes());
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("p.toml:4:1: error: version: this profile is version 2"),
        "{out}"
    );
    assert!(out.contains("update mailcfg"), "{out}");
}

#[test]
fn missing_version_is_an_error() {
    let text = example().replace("version = 1\n", "");
    let (code, out) = validate_file("p.toml", text.as_bytes());
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("missing field `version`"), "{out}");
}

#[test]
fn binary_empty_huge_files_are_refused() {
    let mut binary = b"version = 1\n".to_vec();
    binary.extend((0u8..=255).cycle().take(4096));
    let (code, out) = validate_file("p.toml", &binary);
    assert_eq!(code, 2);
    assert!(out.contains("binary file"), "{out}");

    let (code, out) = validate_file("p.toml", b"");
    assert_eq!(code, 2);
    assert!(out.contains("the file is empty"), "{out}");

    let (code, out) = validate_file("p.toml", b"\n  \n");
    assert_eq!(code, 2);
    assert!(out.contains("the file is empty"), "{out}");

    let mut huge = b"version = 1\n".to_vec();
    huge.resize(50 * 1024 * 1024, b'#');
    let (code, out) = validate_file("p.toml", &huge);
    assert_eq!(code, 2);
    assert!(out.contains("the file is 52.4 MB"), "{out}");

    let (code, out) = validate_file("p.toml", b"version = 1\nname = \"caf\xe9\"\n");
    assert_eq!(code, 2);
    assert!(out.contains("not UTF-8"), "{out}");
}

#[test]
fn missing_file_and_folder_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = run(&["validate", dir.path().join("nope.toml").to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("nope.toml: error: no such file"),
        "{}",
        stdout(&out)
    );

    let out = run(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stdout(&out).contains("this is a folder"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn secrets_in_the_file_are_refused_with_the_keyring_advice() {
    let text = example().replace(
        "client_id = \"00000000-0000-0000-0000-000000000000\"",
        "client_id = \"00000000-0000-0000-0000-000000000000\"\nclient_secret = \"s3cr3t~value\"",
    );
    let (code, out) = validate_file("p.toml", text.as_bytes());
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("p.toml:12:1: error: accounts[0].client_secret"),
        "{out}"
    );
    assert!(out.contains("keyring"), "{out}");
    assert!(out.contains("MAILCFG_CLIENT_SECRET"), "{out}");
    assert!(
        !out.contains("s3cr3t~value"),
        "the secret was echoed: {out}"
    );

    let text = example().replace(
        "user = \"billing@contoso.com\"",
        "user = \"billing@contoso.com\"\npassword = \"hunter2\"",
    );
    let (code, out) = validate_file("p.toml", text.as_bytes());
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("mailboxes[1].password"), "{out}");
    assert!(!out.contains("hunter2"), "{out}");
}

#[test]
fn semantic_rules_name_line_key_and_fix() {
    let text = example()
        .replace(
            "tenant = \"contoso.onmicrosoft.com\"",
            "tenant = \"not a tenant\"",
        )
        .replace(
            "client_id = \"00000000-0000-0000-0000-000000000000\"",
            "client_id = \"admin@contoso.com\"",
        )
        .replace(
            "host = \"smtp.office365.com\"",
            "host = \"smtp.office365.com:587\"",
        )
        .replace(
            "port = 993\nencryption = \"tls\"",
            "port = 993\nencryption = \"starttls\"",
        )
        .replace("name = \"Billing\"", "name = \"Support\"")
        .replacen("account = \"Office365\"", "account = \"Office356\"", 1)
        .replace(
            "scopes = [\"https://outlook.office365.com/.default\"]",
            "scopes = [\"https://outlook.office.com/IMAP.AccessAsUser.All\"]",
        );
    let (code, out) = validate_file("p.toml", text.as_bytes());
    assert_eq!(code, 2, "{out}");
    for expected in [
        "p.toml:10:1: error: accounts[0].tenant: account \"Office365\": the tenant \"not a tenant\" is neither a GUID nor a domain name",
        "p.toml:11:1: error: accounts[0].client_id: account \"Office365\": the client ID \"admin@contoso.com\" is an email address",
        "p.toml:12:1: error: accounts[0].scopes: account \"Office365\": app-only (client credentials) scopes must be a resource's `/.default`",
        "p.toml:17:1: error: transports[0].host: the host \"smtp.office365.com:587\" contains a `:`",
        "p.toml:22:1: error: transports[0].account: `Office356` names no connected account",
        "p.toml:29:1: warning: mailboxes[0].encryption: port 993 normally speaks TLS from the first byte, not STARTTLS",
        "p.toml:34:1: error: mailboxes[1].name: the name \"Support\" is used twice in mailboxes",
    ] {
        assert!(out.contains(expected), "missing {expected:?} in:\n{out}");
    }
    assert!(out.contains("invalid (6 errors, 1 warning)"), "{out}");
}

#[test]
fn port_out_of_range_and_tls_on_587_warning() {
    let text = example().replace("port = 995", "port = 70000");
    let (code, out) = validate_file("p.toml", text.as_bytes());
    assert_eq!(code, 2, "{out}");
    assert!(
        out.contains("mailboxes[1].port: port 70000 is out of range"),
        "{out}"
    );
    assert!(out.contains("from 1 to 65535"), "{out}");

    let text = example().replace(
        "port = 587\nencryption = \"starttls\"",
        "port = 587\nencryption = \"tls\"",
    );
    let (code, out) = validate_file("p.toml", text.as_bytes());
    assert_eq!(code, 0, "a warning is not an error: {out}");
    assert!(
        out.contains("warning: transports[0].encryption: port 587 normally starts in plain text"),
        "{out}"
    );
    assert!(
        out.contains("465 with `encryption = \"tls\"` and 587 with `encryption = \"starttls\"`"),
        "{out}"
    );
}

#[test]
fn delegated_may_use_organizations_but_app_only_may_not_use_common() {
    let delegated = fs::read_to_string(assets().join("microsoft365-delegated.toml")).unwrap();
    assert!(delegated.contains("tenant = \"organizations\""));
    let (code, out) = validate_file("d.toml", delegated.as_bytes());
    assert_eq!(code, 0, "{out}");

    let text = example().replace(
        "tenant = \"contoso.onmicrosoft.com\"",
        "tenant = \"common\"",
    );
    let (code, out) = validate_file("p.toml", text.as_bytes());
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("AADSTS9001023"), "{out}");
}

#[test]
fn json_findings_name_the_line_too() {
    let json = fs::read_to_string(assets().join("microsoft365-app-only.json")).unwrap();
    let bad = json.replacen("\"port\": 993", "\"port\": \"993\"", 1);
    assert_ne!(bad, json);
    let (code, out) = validate_file("p.json", bad.as_bytes());
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("mailboxes[0].port"), "{out}");
    let line = bad.lines().position(|l| l.contains("\"993\"")).unwrap() + 1;
    assert!(
        out.contains(&format!("p.json:{line}:")),
        "line {line}: {out}"
    );

    let bad = json.replacen("\"name\": \"Billing\"", "\"name\": \"Support\"", 1);
    let (code, out) = validate_file("p.json", bad.as_bytes());
    assert_eq!(code, 2, "{out}");
    let line = bad
        .lines()
        .enumerate()
        .filter(|(_, l)| l.contains("\"Support\""))
        .map(|(i, _)| i)
        .last()
        .unwrap()
        + 1;
    assert!(
        out.contains(&format!("p.json:{line}:")),
        "line {line}: {out}"
    );
}

#[test]
fn validate_json_output_is_one_object_per_finding() {
    let text = example()
        .replace(
            "port = 993\nencryption = \"tls\"",
            "port = 993\nencryption = \"starttls\"",
        )
        .replace(
            "00000000-0000-0000-0000-000000000000",
            "6c1b7e2a-0d3f-4a59-8e6b-1f2c3d4e5a60",
        );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    fs::write(&path, text).unwrap();
    let out = run(&["validate", "--json", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let lines: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["severity"], "warning");
    assert_eq!(lines[0]["key"], "mailboxes[0].encryption");
    assert_eq!(lines[0]["position"]["line"], 29);
}

#[test]
fn export_round_trips_toml_and_json_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let src = assets().join("microsoft365-app-only.toml");
    let json = dir.path().join("p.json");
    let back = dir.path().join("back.toml");
    let out = run(&[
        "export",
        "--profile",
        src.to_str().unwrap(),
        "--format",
        "json",
        "--output",
        json.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&[
        "export",
        "--profile",
        json.to_str().unwrap(),
        "--format",
        "toml",
        "--output",
        back.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (a, _) = mailcfg::profile::load(&src).unwrap();
    let (b, _) = mailcfg::profile::load(&json).unwrap();
    let (c, _) = mailcfg::profile::load(&back).unwrap();
    assert_eq!(a, b);
    assert_eq!(a, c);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&json).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}

#[test]
fn unknown_export_format_lists_the_formats() {
    let src = assets().join("microsoft365-app-only.toml");
    let out = run(&[
        "export",
        "--profile",
        src.to_str().unwrap(),
        "--format",
        "xlsx",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("toml, json, thunderbird, cerb, ce, um, powershell, env"),
        "{err}"
    );
}

#[test]
fn commands_check_their_input_first() {
    let src = assets().join("microsoft365-app-only.toml");
    let p = src.to_str().unwrap();
    let token = |profile: &str| {
        Command::new(BIN)
            .args(["token", "--profile", profile, "--account", "Office365"])
            .env_remove("MAILCFG_CLIENT_SECRET")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .output()
            .unwrap()
    };
    // The example's client ID is the placeholder of zeros: refused before any identity provider.
    let out = token(p);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("placeholder of all zeros"), "{err}");
    // With an ID of its own and no secret anywhere (no keyring bus, no environment), the sign-in
    // stops before the network.
    let dir = tempfile::tempdir().unwrap();
    let own = dir.path().join("own.toml");
    let text = std::fs::read_to_string(&src).unwrap().replace(
        "00000000-0000-0000-0000-000000000000",
        "6c1b7e2a-0d3f-4a59-8e6b-1f2c3d4e5a60",
    );
    std::fs::write(&own, text).unwrap();
    let out = token(own.to_str().unwrap());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("needs its client secret") && err.contains("MAILCFG_CLIENT_SECRET"),
        "{err}"
    );

    let out = run(&["token", "--profile", p, "--account", "Nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("use one of: \"Office365\""));

    let out = run(&[
        "test",
        "--profile",
        p,
        "--mailbox",
        "Support",
        "--transport",
        "Nope",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no transport named \"Nope\""));

    let out = run(&["test", "--profile", p]);
    assert_eq!(out.status.code(), Some(1));

    let out = run(&["test"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "missing arguments are bad input"
    );
}

#[test]
fn a_failed_save_leaves_the_old_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.toml");
    fs::write(&path, "old contents\n").unwrap();
    let profile = mailcfg::profile::presets::microsoft365_profile();
    // A folder where the temporary file cannot be created: saving must fail before the rename.
    let blocked = dir.path().join("sub");
    fs::create_dir(&blocked).unwrap();
    let target = blocked.join("p.toml");
    fs::write(&target, "old contents\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&blocked, fs::Permissions::from_mode(0o500)).unwrap();
        let probe = blocked.join("probe");
        if fs::write(&probe, b"x").is_ok() {
            // Running as root: permissions do not stop us. Use a path whose parent is a file.
            let _ = fs::remove_file(&probe);
            fs::set_permissions(&blocked, fs::Permissions::from_mode(0o700)).unwrap();
        } else {
            let err = mailcfg::profile::save(&profile, &target)
                .unwrap_err()
                .to_string();
            assert!(err.contains("left as it was"), "{err}");
            assert_eq!(fs::read_to_string(&target).unwrap(), "old contents\n");
            fs::set_permissions(&blocked, fs::Permissions::from_mode(0o700)).unwrap();
        }
    }
    // A target that is a non-empty folder cannot be replaced by rename.
    let folder = dir.path().join("folder.toml");
    fs::create_dir(&folder).unwrap();
    fs::write(folder.join("keep"), "keep").unwrap();
    assert!(mailcfg::profile::save(&profile, &folder).is_err());
    assert_eq!(fs::read_to_string(folder.join("keep")).unwrap(), "keep");
    let leftovers: Vec<_> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        leftovers
            .iter()
            .all(|n| !n.to_string_lossy().ends_with(".tmp")),
        "temporary file left behind: {leftovers:?}"
    );
    // And a good save replaces the file whole, private to its owner.
    mailcfg::profile::save(&profile, &path).unwrap();
    let (back, _) = mailcfg::profile::load(&path).unwrap();
    assert_eq!(back, profile);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
}
