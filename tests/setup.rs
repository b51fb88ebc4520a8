//! The set-up script (`mailcfg export --format setup`) and its result read back
//! (`mailcfg setup-result`), through the real binary. PowerShell itself is in no package registry
//! these machines reach, so each script is parsed with a PowerShell grammar (tree-sitter): no
//! error node, the steps in order with the profile's values, every profile value a single-quoted
//! literal and nowhere else, and no secret. The result goes into the profile and a real keyring
//! (GNOME Keyring on a private D-Bus), proven by signing in with the stored secret against the
//! local identity provider.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::too_many_lines)] // tables of cases

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use support::defaults;
use support::idp::{Config, Idp};
use tree_sitter::{Node, Parser, Tree};

const BIN: &str = env!("CARGO_BIN_EXE_mailcfg");
const SECRET: &str = "mailcfg-test-secret-5be1c0de77";

fn run(args: &[&str], stdin: &str, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("MAILCFG_CLIENT_SECRET", SECRET)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    std::io::Write::write_all(&mut input, stdin.as_bytes()).ok();
    drop(input);
    child.wait_with_output().unwrap()
}

fn script(profile: &Path, extra: &[&str]) -> String {
    let p = profile.to_str().unwrap();
    let mut args = vec!["export", "--profile", p, "--format", "setup"];
    args.extend_from_slice(extra);
    let o = run(&args, "", &[]);
    let text = String::from_utf8(o.stdout).unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(!text.contains(SECRET) && !err.contains(SECRET));
    text
}

fn parse(text: &str) -> Tree {
    let mut parser = Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .unwrap();
    parser.parse(text, None).unwrap()
}

fn walk<'t>(n: Node<'t>, out: &mut Vec<Node<'t>>) {
    out.push(n);
    let mut c = n.walk();
    for child in n.children(&mut c) {
        walk(child, out);
    }
}

fn nodes(tree: &Tree) -> Vec<Node<'_>> {
    let mut all = Vec::new();
    walk(tree.root_node(), &mut all);
    all
}

/// A verbatim string's value: its quotes dropped, each doubled quote (of any kind) made one.
fn unquote(lit: &str) -> String {
    let inner = &lit[1..lit.len() - 1];
    let mut out = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        out.push(c);
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}')
            && chars.peek() == Some(&c)
        {
            chars.next();
        }
    }
    out
}

/// Every check on one script: it parses, and each of `values` (from the profile) is exactly a
/// single-quoted literal wherever it appears, and never outside one (no bare word, no
/// double-quoted string, no comment).
fn check_script(text: &str, values: &[&str]) -> Tree {
    let tree = parse(text);
    let all = nodes(&tree);
    let errors: Vec<String> = all
        .iter()
        .filter(|n| n.is_error() || n.is_missing())
        .map(|n| {
            let p = n.start_position();
            format!("{}:{}: {}", p.row + 1, p.column + 1, n.to_sexp())
        })
        .collect();
    assert!(errors.is_empty(), "parse errors: {errors:?}\n{text}");
    let literals: Vec<(std::ops::Range<usize>, String)> = all
        .iter()
        .filter(|n| n.kind() == "verbatim_string_characters")
        .map(|n| (n.byte_range(), unquote(&text[n.byte_range()])))
        .collect();
    for v in values {
        assert!(
            literals.iter().any(|(_, s)| s == v),
            "{v:?} is not a single-quoted literal in\n{text}"
        );
        // Each place the value (or its quoted form) shows must lie inside a literal of it, or
        // of a longer value that holds it (the OData filter and messages hold none).
        let escaped = mailcfg::export::ps_quote(v);
        let escaped = &escaped[1..escaped.len() - 1];
        for needle in [*v, escaped] {
            for (at, _) in text.match_indices(needle) {
                let inside = literals
                    .iter()
                    .any(|(r, s)| r.start < at && at + needle.len() < r.end && s.contains(v));
                assert!(
                    inside,
                    "{v:?} appears outside a single-quoted literal at byte {at}: {:?}",
                    &text[at.saturating_sub(60)..(at + needle.len() + 20).min(text.len())]
                );
            }
        }
    }
    tree
}

/// Each `Step` call's title and target, in the script's order.
fn steps(text: &str, tree: &Tree) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for n in nodes(tree) {
        if n.kind() != "command" {
            continue;
        }
        let Some(name) = n.child_by_field_name("command_name") else {
            continue;
        };
        if &text[name.byte_range()] != "Step" {
            continue;
        }
        let elements = n.child_by_field_name("command_elements").unwrap();
        let mut c = elements.walk();
        let parts: Vec<Node> = elements
            .named_children(&mut c)
            .filter(|e| e.kind() != "command_argument_sep")
            .collect();
        let arg = |param: &str| {
            let i = parts
                .iter()
                .position(|p| p.kind() == "command_parameter" && &text[p.byte_range()] == param)?;
            let value = &text[parts[i + 1].byte_range()];
            assert!(value.starts_with('\''), "{param} {value} is not a literal");
            Some(unquote(value))
        };
        out.push((arg("-Title").unwrap(), arg("-Target")));
    }
    out
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn asset(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("assets")
        .join(name)
}

#[test]
fn the_app_only_example_parses_and_does_every_step_in_order() {
    let text = script(&asset("microsoft365-app-only.toml"), &[]);
    let values = [
        "Office365",
        "contoso.onmicrosoft.com",
        "support@contoso.com",
        "billing@contoso.com",
    ];
    let tree = check_script(&text, &values);
    let s = |t: &str, target: Option<&str>| (t.to_owned(), target.map(str::to_owned));
    assert_eq!(
        steps(&text, &tree),
        vec![
            s("Sign in to Microsoft Graph", None),
            s("Register the app", None),
            s("Add the API permissions", None),
            s("Create the Enterprise application", None),
            s("Grant admin consent", None),
            s("Sign in to Exchange Online", None),
            s("Register the service principal in Exchange Online", None),
            s("Grant the app the mailbox", Some("support@contoso.com")),
            s("Grant the app the mailbox", Some("billing@contoso.com")),
            s("Allow authenticated SMTP for", Some("support@contoso.com")),
            s("Create a client secret", None),
        ]
    );
    for want in [
        "Connect-MgGraph -TenantId 'contoso.onmicrosoft.com' -Scopes 'Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All' -NoWelcome",
        "Connect-ExchangeOnline -Organization 'contoso.onmicrosoft.com' -ShowBanner:$false",
        "$roles = @('IMAP.AccessAsApp', 'POP.AccessAsApp', 'SMTP.SendAsApp')",
        "Invoke-Retrying { New-ServicePrincipal -AppId $appId -ObjectId $objectId -DisplayName 'Office365' | Out-Null }",
        "Invoke-Retrying { Add-MailboxPermission -Identity 'billing@contoso.com' -User $objectId -AccessRights FullAccess | Out-Null }",
        "Set-CASMailbox -Identity 'support@contoso.com' -SmtpClientAuthenticationDisabled $false",
        "SecretMonths = 12",
        "ClientId = ''",
        "[CmdletBinding(SupportsShouldProcess)]",
        "-----BEGIN MAILCFG SETUP RESULT-----",
    ] {
        assert!(
            text.lines().any(|l| l.trim() == want || l.contains(want)),
            "{want} missing"
        );
    }
    assert_eq!(text.lines().last(), Some("Invoke-MailcfgSetup"));
    assert!(
        text.contains("$cmdlet.ShouldProcess($label, 'Set up')"),
        "every change asks ShouldProcess"
    );
    assert!(
        !text.contains("DelegatedPermissionGrant"),
        "app-only needs no delegated grant"
    );
    // The preview and the secret's lifetime.
    let preview = script(
        &asset("microsoft365-app-only.toml"),
        &["--what-if", "--secret-months", "24"],
    );
    check_script(&preview, &values);
    assert_eq!(preview.lines().last(), Some("Invoke-MailcfgSetup -WhatIf"));
    assert!(preview.contains("SecretMonths = 24"));
}

#[test]
fn the_delegated_example_consents_for_all_users_and_needs_no_secret() {
    let text = script(&asset("microsoft365-delegated.toml"), &[]);
    let tree = check_script(
        &text,
        &["Me at work", "you@contoso.com", "http://localhost"],
    );
    let titles: Vec<String> = steps(&text, &tree).into_iter().map(|(t, _)| t).collect();
    assert_eq!(
        titles,
        [
            "Sign in to Microsoft Graph",
            "Register the app",
            "Let the app sign in through the browser",
            "Add the API permissions",
            "Create the Enterprise application",
            "Grant admin consent",
            "Sign in to Exchange Online",
            "Allow authenticated SMTP for",
        ]
    );
    assert!(text.contains(
        "Connect-MgGraph -Scopes 'Application.ReadWrite.All', 'AppRoleAssignment.ReadWrite.All', 'DelegatedPermissionGrant.ReadWrite.All' -NoWelcome"
    ), "organizations: the admin's own tenant");
    assert!(text.contains("$scopes = @('IMAP.AccessAsUser.All', 'SMTP.Send')"));
    assert!(text.contains("$graphScopes = @('offline_access')"));
    assert!(text.contains("SignInAudience = 'AzureADMultipleOrgs'"));
    assert!(text.contains("-PublicClient @{ RedirectUris = @($settings.RedirectUri) }"));
    assert!(text.contains("Connect-ExchangeOnline -ShowBanner:$false"));
    assert!(!text.contains("Add-MgApplicationPassword"));
    assert!(!text.contains("New-ServicePrincipal -AppId"));
}

#[test]
fn hostile_names_stay_single_quoted_literals() {
    let dir = tempfile::tempdir().unwrap();
    // Quotes of every kind, `$(…)`, backticks, double quotes, non-ASCII: none may run.
    let name = "Zoë's \"ops\" $(Remove-Item ~) `whoami` ‘x’ ü";
    let user = "o'brien$x@contoso.com";
    let sender = "jürgen`s@contoso.com";
    let toml = format!(
        r#"version = 1

[[accounts]]
name = {name:?}
provider = "microsoft"
flow = "app-only"
tenant = "xn--zo-9ia.onmicrosoft.com"
client_id = "6c1b7e2a-0d3f-4a59-8e6b-1f2c3d4e5a60"
scopes = ["https://outlook.office365.com/.default"]

[[transports]]
name = "SMTP"
host = "smtp.office365.com"
port = 587
encryption = "starttls"
username = {sender:?}
account = {name:?}

[[mailboxes]]
name = "IMAP"
protocol = "imap"
host = "outlook.office365.com"
port = 993
encryption = "tls"
user = {user:?}
account = {name:?}
"#
    );
    let p = write(dir.path(), "hostile.toml", &toml);
    let text = script(&p, &[]);
    let tree = check_script(
        &text,
        &[
            name,
            user,
            sender,
            "xn--zo-9ia.onmicrosoft.com",
            "6c1b7e2a-0d3f-4a59-8e6b-1f2c3d4e5a60",
        ],
    );
    let targets: Vec<Option<String>> = steps(&text, &tree).into_iter().map(|(_, t)| t).collect();
    assert!(targets.contains(&Some(user.to_owned())));
    assert!(targets.contains(&Some(sender.to_owned())));
    assert!(text.contains("ClientId = '6c1b7e2a-0d3f-4a59-8e6b-1f2c3d4e5a60'"));
}

#[test]
fn setup_needs_a_microsoft_work_account_and_names_the_choice() {
    let o = run(
        &[
            "export",
            "--profile",
            asset("gmail.toml").to_str().unwrap(),
            "--format",
            "setup",
        ],
        "",
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("Microsoft 365 account"));
    let o = run(
        &[
            "export",
            "--profile",
            asset("microsoft365-app-only.toml").to_str().unwrap(),
            "--format",
            "setup",
            "--account",
            "Nope",
        ],
        "",
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no Microsoft 365 account named \"Nope\""),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

// ---- the result read back ----

fn profile_for(dir: &Path, idp: &Idp) -> PathBuf {
    write(
        dir,
        "app.toml",
        &format!(
            r#"version = 1

[[accounts]]
name = "App"
provider = "microsoft"
flow = "app-only"
tenant = "{tenant}"
client_id = "00000000-0000-0000-0000-000000000000"
authority = "{authority}"
scopes = ["https://outlook.office365.com/.default"]

[[mailboxes]]
name = "Box"
protocol = "imap"
host = "127.0.0.1"
port = 993
encryption = "tls"
user = "{mailbox}"
account = "App"
"#,
            tenant = defaults::TENANT_ID,
            authority = idp.authority(),
            mailbox = defaults::MAILBOX,
        ),
    )
}

/// What the script prints at its end (PowerShell's ConvertTo-Json layout), inside a transcript.
fn transcript(tenant: &str, tenant_id: &str, client: &str, secret: &str) -> String {
    format!(
        r#"PS /home/admin> Invoke-MailcfgSetup
1. Sign in to Microsoft Graph ... done
2. Register the app ... done

-----BEGIN MAILCFG SETUP RESULT-----
{{
  "mailcfg_setup": 1,
  "account": "App",
  "tenant": "{tenant}",
  "tenant_id": "{tenant_id}",
  "client_id": "{client}",
  "enterprise_object_id": "{oid}",
  "client_secret": "{secret}",
  "client_secret_expires": "2027-06-30",
  "steps_done": [
    {{
      "step": "register_app"
    }},
    {{
      "for": "{mailbox}",
      "step": "mailbox_grant"
    }},
    {{
      "step": "client_secret"
    }}
  ],
  "steps_already_done": [
    {{
      "step": "admin_consent"
    }}
  ],
  "failed_step": null,
  "what_if": false
}}
-----END MAILCFG SETUP RESULT-----
Copy the lines above into mailcfg now: they hold the client secret's Value, shown only this once.
"#,
        oid = defaults::APP_OBJECT_ID,
        mailbox = defaults::MAILBOX,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_fills_the_account_and_the_keyring_and_the_token_follows() {
    let idp = Idp::start(Config::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = profile_for(dir.path(), &idp);
    let input = write(
        dir.path(),
        "result.txt",
        &transcript(
            defaults::TENANT_ID,
            defaults::TENANT_ID,
            defaults::APP_CLIENT_ID,
            defaults::APP_SECRET,
        ),
    );
    // In one keyring session: read the result, then sign in with the secret it stored.
    let home = tempfile::tempdir().unwrap();
    let o = support::keyring::with_keyring(
        home.path(),
        BIN,
        r#"set -e
"$MAILCFG" setup-result --profile "$P" --account App < "$IN"
"$MAILCFG" token --profile "$P" --account App --json > "$D/token.json"
echo finished"#,
        &[
            ("P", p.to_str().unwrap()),
            ("IN", input.to_str().unwrap()),
            ("D", dir_str(&p)),
        ],
    )
    .await;
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert!(
        o.status.success() && out.contains("finished"),
        "{out}\n{err}"
    );
    assert!(
        out.contains("Stored the new client secret of account \"App\" in the OS keyring"),
        "{out}"
    );
    assert!(!err.contains("No OS keyring"), "{err}");
    assert!(!out.contains(defaults::APP_SECRET) && !err.contains(defaults::APP_SECRET));
    let saved = std::fs::read_to_string(&p).unwrap();
    assert!(
        !saved.contains(defaults::APP_SECRET),
        "never in the profile"
    );
    let (profile, _) = mailcfg::profile::load(&p).unwrap();
    let a = &profile.accounts[0];
    assert_eq!(a.client_id, defaults::APP_CLIENT_ID);
    assert_eq!(
        a.enterprise_object_id.as_deref(),
        Some(defaults::APP_OBJECT_ID)
    );
    assert_eq!(a.client_secret_expires.as_deref(), Some("2027-06-30"));
    assert_eq!(a.tenant.as_deref(), Some(defaults::TENANT_ID));
    // The checklist shows what the script reported.
    for line in [
        "Register the app",
        &format!("Grant the app the mailbox {}", defaults::MAILBOX),
        "Grant admin consent",
    ] {
        assert!(
            out.lines().any(|l| l.contains("done") && l.ends_with(line)),
            "{line} not done in\n{out}"
        );
    }
    assert!(
        out.lines().any(|l| l.contains("to check")
            && l.ends_with("Register the service principal in Exchange Online")),
        "not reported, so still to check:\n{out}"
    );
    // The stored secret signs in.
    let token: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("token.json")).unwrap())
            .unwrap();
    assert_eq!(token["claims"]["app_id"], defaults::APP_CLIENT_ID);
}

fn dir_str(p: &Path) -> &str {
    p.parent().unwrap().to_str().unwrap()
}

#[test]
fn malformed_oversized_and_mismatched_results_are_refused_naming_what_differs() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "p.toml",
        &std::fs::read_to_string(asset("microsoft365-app-only.toml"))
            .unwrap()
            .replace(
                "client_id = \"00000000-0000-0000-0000-000000000000\"",
                &format!("client_id = \"{}\"", defaults::APP_CLIENT_ID),
            ),
    );
    let before = std::fs::read_to_string(&p).unwrap();
    let good = transcript(
        "contoso.onmicrosoft.com",
        defaults::TENANT_ID,
        defaults::APP_CLIENT_ID,
        "s3cr3t~Value",
    )
    .replace("\"App\"", "\"Office365\"");
    let other_client = good.replace(
        defaults::APP_CLIENT_ID,
        "11111111-2222-4333-8444-555555555555",
    );
    let other_tenant = good.replace(
        "\"tenant\": \"contoso.onmicrosoft.com\"",
        "\"tenant\": \"fabrikam.onmicrosoft.com\"",
    );
    let huge = format!("{}{good}", " ".repeat(70 * 1024));
    let cases: Vec<(&str, String, &str)> = vec![
        ("garbage", "hello, world".into(), "no set-up result found"),
        (
            "cut off",
            good.split("-----END").next().unwrap().to_owned(),
            "cut off",
        ),
        (
            "not JSON",
            good.replace("\"mailcfg_setup\": 1,", "mailcfg_setup: 1,"),
            "not the set-up script's JSON",
        ),
        (
            "a bad GUID",
            good.replace(defaults::APP_OBJECT_ID, "not-a-guid"),
            "enterprise_object_id \"not-a-guid\"",
        ),
        (
            "a bad date",
            good.replace("2027-06-30", "30/06/2027"),
            "client_secret_expires \"30/06/2027\"",
        ),
        (
            "a bad step",
            good.replace("register_app", "reboot_server"),
            "steps_done",
        ),
        ("too large", huge, "larger than 64 KiB"),
        (
            "another app",
            other_client,
            "client ID \"11111111-2222-4333-8444-555555555555\", and the account has \"6c1b7e2a-0d3f-4a59-8e6b-1f2c3d4e5a60\"",
        ),
        (
            "another tenant",
            other_tenant,
            "tenant \"fabrikam.onmicrosoft.com\", and the account has \"contoso.onmicrosoft.com\"",
        ),
        (
            "a preview",
            good.replace("\"what_if\": false", "\"what_if\": true"),
            "-WhatIf",
        ),
    ];
    for (what, input, says) in cases {
        let o = run(
            &[
                "setup-result",
                "--profile",
                p.to_str().unwrap(),
                "--account",
                "Office365",
            ],
            &input,
            &[],
        );
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{what}: {err}");
        assert!(err.contains(says), "{what}: expected {says:?} in {err}");
        assert!(err.contains("fix:"), "{what}: {err}");
        assert!(
            !err.contains("s3cr3t~Value"),
            "{what}: the secret leaked: {err}"
        );
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            before,
            "{what}: the profile changed"
        );
    }
    // The account named must be the result's.
    let o = run(
        &[
            "setup-result",
            "--profile",
            p.to_str().unwrap(),
            "--account",
            "Office365",
        ],
        &good.replace("\"account\": \"Office365\"", "\"account\": \"Other\""),
        &[],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr)
            .contains("account \"Other\", and the account has \"Office365\"")
    );
}

#[test]
fn without_a_keyring_the_profile_is_filled_and_the_secret_said_not_stored() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "p.toml",
        &std::fs::read_to_string(asset("microsoft365-app-only.toml")).unwrap(),
    );
    let input = transcript(
        "contoso.onmicrosoft.com",
        defaults::TENANT_ID,
        defaults::APP_CLIENT_ID,
        "s3cr3t~Value",
    )
    .replace("\"App\"", "\"Office365\"");
    let o = run(
        &[
            "setup-result",
            "--profile",
            p.to_str().unwrap(),
            "--account",
            "Office365",
        ],
        &input,
        &[],
    );
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    // The profile is filled, but the secret is stored nowhere: said, and exit 1.
    assert_eq!(o.status.code(), Some(1), "{out}\n{err}");
    assert!(
        err.contains("No OS keyring is available") && err.contains("was NOT stored"),
        "{err}"
    );
    assert!(!out.contains("s3cr3t~Value") && !err.contains("s3cr3t~Value"));
    let (profile, _) = mailcfg::profile::load(&p).unwrap();
    assert_eq!(
        profile.accounts[0].client_id,
        defaults::APP_CLIENT_ID,
        "the placeholder is replaced"
    );
    assert_eq!(
        profile.accounts[0].enterprise_object_id.as_deref(),
        Some(defaults::APP_OBJECT_ID)
    );
    assert!(
        out.contains("was 11111111-1111-1111-1111-111111111111"),
        "{out}"
    );
    assert!(
        !std::fs::read_to_string(&p)
            .unwrap()
            .contains("s3cr3t~Value")
    );
}

#[test]
fn the_script_checks_catch_what_they_look_for() {
    // The checks above must be able to fail: a value outside a literal, and broken syntax.
    let ok = "Set-CASMailbox -Identity 'a@b.com' -SmtpClientAuthenticationDisabled $false\n";
    check_script(ok, &["a@b.com"]);
    for bad in [
        "Set-CASMailbox -Identity a@b.com -SmtpClientAuthenticationDisabled $false\n",
        "Write-Host \"a@b.com\"\n",
        "Write-Host 'x' # a@b.com\n",
        "Set-CASMailbox -Identity 'a@b.com' -SmtpClientAuthenticationDisabled $false }\n",
        "function F { Write-Host 'a@b.com'\n",
    ] {
        let caught = std::panic::catch_unwind(|| check_script(bad, &["a@b.com"]));
        assert!(caught.is_err(), "not caught: {bad}");
    }
}
