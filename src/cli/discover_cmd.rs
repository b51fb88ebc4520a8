//! `mailcfg discover ADDRESS`: every source asked at once, one line per source as it answers
//! (on stderr, so that the profile alone goes to stdout), then where each field of the draft came
//! from, then the draft profile (to stdout or, atomically, to `--output`). `--json`: one object
//! per event on stdout (`type` = `step`, then `draft`). Exit 0 when something was found, 1 when
//! nothing was, 2 for a bad address or option. Ctrl+C cancels.

use std::io::{IsTerminal as _, Write as _};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::output::{self, tell};
use super::{EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, runtime};
use crate::discover::{self, Address, Event, Report, Settings, Status};
use crate::profile::{self, Format};

/// Start from an e-mail address: find the provider, the tenant and the servers, and write a
/// draft profile.
#[derive(Debug, Args)]
pub struct DiscoverArgs {
    /// The address, e.g. you@contoso.com.
    pub address: String,
    /// One JSON object per event, one per line, then the draft.
    #[arg(long)]
    pub json: bool,
    /// Write the draft profile here (atomically; .json for JSON) instead of to stdout.
    #[arg(long, value_name = "PROFILE")]
    pub output: Option<PathBuf>,
    /// Ask this DNS server (IP, port 53 unless given) instead of the system's: split DNS.
    #[arg(long, value_name = "HOST:PORT")]
    pub dns: Option<String>,
    /// Microsoft's sign-in authority for tenant discovery (another cloud, or a local test IdP).
    #[arg(long, value_name = "URL")]
    pub authority: Option<String>,
    /// The ISPDB's base URL; the domain is appended.
    #[arg(long, value_name = "URL", default_value = discover::DEFAULT_ISPDB)]
    pub ispdb: String,
    /// Time limit of each lookup, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = discover::DEFAULT_TIMEOUT.as_secs())]
    pub timeout: u64,
    /// Trust this CA (PEM) too, for the HTTPS lookups and in the draft's `tls.ca_file`.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// Test/expert override: the port of http://autoconfig.DOMAIN and http://DOMAIN/.well-known
    /// instead of 80 (docs/discovery.md, "Test overrides").
    #[arg(long, hide = true, value_name = "PORT")]
    pub autoconfig_http_port: Option<u16>,
    /// As --autoconfig-http-port, for the https URLs instead of 443.
    #[arg(long, hide = true, value_name = "PORT")]
    pub autoconfig_https_port: Option<u16>,
}

pub(super) fn run(args: &DiscoverArgs) -> u8 {
    let (address, settings) = match check(args) {
        Ok(x) => x,
        Err(e) => {
            tell!("mailcfg discover: error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let Some(rt) = runtime() else {
        return EXIT_FAILED;
    };
    let json = args.json;
    let color = !json && std::io::stderr().is_terminal();
    if !json {
        let dns = settings
            .dns
            .map_or_else(|| "this computer's DNS".to_owned(), |d| format!("DNS {d}"));
        tell!(
            "Discovering {address}: {} sources at once ({dns}, each at most {} s)",
            discover::Step::ALL.len(),
            settings.timeout.as_secs()
        );
    }
    let report = rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<Event>();
        let work = async {
            let r = discover::discover(&address, &settings, &tx).await;
            drop(tx);
            r
        };
        let print = async {
            while let Some(e) = rx.recv().await {
                event(&e, json, color);
            }
        };
        tokio::select! {
            (r, ()) = async { tokio::join!(work, print) } => Some(r),
            _ = tokio::signal::ctrl_c() => None,
        }
    });
    let Some(report) = report else {
        tell!("mailcfg discover: cancelled");
        return EXIT_CANCELLED;
    };
    finish(&report, args)
}

fn check(args: &DiscoverArgs) -> Result<(Address, Settings), String> {
    let address: Address = args
        .address
        .parse()
        .map_err(|e: discover::AddressError| e.to_string())?;
    let mut s = Settings {
        timeout: Duration::from_secs(args.timeout),
        autoconfig_http_port: args.autoconfig_http_port,
        autoconfig_https_port: args.autoconfig_https_port,
        ..Settings::default()
    };
    if !(1..=120).contains(&args.timeout) {
        return Err(format!(
            "--timeout {} is out of range\n    fix: give 1 to 120 seconds (the default is {})",
            args.timeout,
            discover::DEFAULT_TIMEOUT.as_secs()
        ));
    }
    if let Some(d) = &args.dns {
        s.dns = Some(discover::parse_dns(d).map_err(|e| format!("--dns: {e}"))?);
    }
    let url = |flag: &str, field: &'static str, v: &str| -> Result<String, String> {
        crate::oauth::endpoints::parse(field, v)
            .map(|u| u.to_string())
            .map_err(|e| format!("{flag}: {e}"))
    };
    if let Some(a) = &args.authority {
        let a = url("--authority", "authority", a)?;
        let a = a.trim_end_matches('/').to_owned();
        if a != crate::oauth::endpoints::MICROSOFT_AUTHORITY {
            s.authority = Some(a);
        }
    }
    s.ispdb = url("--ispdb", "ispdb", &args.ispdb)?;
    if let Some(ca) = &args.ca_file {
        if !std::fs::metadata(ca).is_ok_and(|m| m.is_file()) {
            return Err(format!(
                "--ca-file {}: not a regular file\n    fix: give the path of a PEM certificate file",
                ca.display()
            ));
        }
        s.tls.ca_file = Some(ca.clone());
    }
    if let Some(out) = &args.output {
        // The draft replaces the file by a rename: over a device, a pipe or a link that would
        // swap the thing itself for a regular file.
        match std::fs::symlink_metadata(out) {
            Ok(m) if m.is_dir() => {
                return Err(format!(
                    "--output {}: is a folder\n    fix: give a file name, e.g. profile.toml",
                    out.display()
                ));
            }
            Ok(m) if !m.is_file() => {
                return Err(format!(
                    "--output {}: is not a regular file (a device, pipe or link)\n    fix: give the path of a regular file, or of a new one",
                    out.display()
                ));
            }
            _ => {}
        }
    }
    Ok((address, s))
}

/// A line already escaped (servers' words) and painted here: masked, then written as is, since
/// [`output`]'s escaping would undo the colours.
fn out_line(text: &str) {
    output::data(&format!("{}\n", crate::redact::mask(text)));
}

fn err_line(text: &str) {
    let mut o = std::io::stderr().lock();
    let _ = writeln!(o, "{}", crate::redact::mask(text));
}

fn paint(status: Status, color: bool) -> String {
    let code = match status {
        Status::Found => "32",
        Status::Nothing | Status::Running => "2",
        Status::Refused | Status::Failed => "31;1",
        Status::TimedOut => "33",
    };
    let text = status.to_string();
    if color {
        format!("\x1b[{code}m{text:<7}\x1b[0m")
    } else {
        format!("{text:<7}")
    }
}

fn event(e: &Event, json: bool, color: bool) {
    if json {
        let mut v = serde_json::to_value(e).unwrap_or_default();
        if let Some(m) = v.as_object_mut() {
            m.insert("type".into(), "step".into());
        }
        out_line(&v.to_string());
    } else if e.status != Status::Running {
        err_line(&format!(
            "{} {:<17} {:>5} ms  {} → {}",
            paint(e.status, color),
            e.step.to_string(),
            e.elapsed.as_millis(),
            e.asked,
            e.answer
        ));
    }
}

fn finish(report: &Report, args: &DiscoverArgs) -> u8 {
    let Some(p) = &report.draft.profile else {
        nothing_found(report, args.json);
        return EXIT_FAILED;
    };
    let format = args
        .output
        .as_deref()
        .map_or(Format::Toml, Format::from_path);
    let text = match profile::to_string(p, format) {
        Ok(t) => t,
        Err(e) => {
            tell!("mailcfg discover: error: cannot write the draft: {e}");
            return EXIT_FAILED;
        }
    };
    // The draft is what `mailcfg validate` must accept: what a source claimed is checked again
    // as the profile it became, and a draft that fails is not handed out as a result.
    let errors: Vec<_> = profile::validate(p, None)
        .into_iter()
        .filter(|f| f.severity == profile::Severity::Error)
        .collect();
    if !errors.is_empty() {
        tell!("mailcfg discover: error: the draft the sources gave does not pass validation:");
        for f in &errors {
            tell!("{f}");
        }
        tell!(
            "    fix: report this with the sources' answers above; set the profile up by hand meanwhile"
        );
        return EXIT_FAILED;
    }
    if let Some(out) = &args.output
        && let Err(e) = profile::write_atomic(out, text.as_bytes())
    {
        tell!(
            "{}: error: cannot write the draft: {e}\n    fix: choose a folder you can write to",
            out.display()
        );
        return EXIT_FAILED;
    }
    if args.json {
        let mut v = serde_json::json!({
            "type": "draft",
            "found": true,
            "hosting": report.draft.hosting,
            "fields": report.draft.notes,
            "total_ms": millis(report.total),
        });
        if let Some(m) = v.as_object_mut() {
            match &args.output {
                Some(o) => m.insert("written".into(), o.display().to_string().into()),
                None => m.insert(
                    "profile".into(),
                    serde_json::to_value(p).unwrap_or_default(),
                ),
            };
        }
        out_line(&v.to_string());
        return EXIT_OK;
    }
    notes(report);
    let target = args
        .output
        .as_ref()
        .map_or_else(|| "PROFILE".to_owned(), |o| o.display().to_string());
    if p.accounts.is_empty() {
        err_line(&format!(
            "Next: store the passwords, then `mailcfg test --profile {target}`."
        ));
    } else {
        let a = &p.accounts[0];
        // Only an app-only account has a secret to store; a delegated one signs in in the browser.
        let secret = if a.flow == crate::profile::Flow::AppOnly {
            format!(
                "`mailcfg secret --profile {target} --account {}` (its Value, from stdin), then ",
                a.name
            )
        } else {
            String::new()
        };
        err_line(&format!(
            "Next: paste your app's client ID into accounts[0].client_id (and choose the flow: delegated or app-only), then {secret}`mailcfg token --profile {target} --account {}` and `mailcfg test --profile {target}`.",
            a.name
        ));
    }
    if let Some(o) = &args.output {
        err_line(&format!("Wrote {}", o.display()));
    } else {
        output::data(&text);
    }
    EXIT_OK
}

fn nothing_found(report: &Report, json: bool) {
    if json {
        let v =
            serde_json::json!({"type": "draft", "found": false, "total_ms": millis(report.total)});
        out_line(&v.to_string());
        return;
    }
    err_line(&format!(
        "\nFound nothing for {} in {} ms. Tried:",
        report.address,
        millis(report.total)
    ));
    for e in &report.steps {
        err_line(&format!(
            "  {:<17} {} → {}",
            e.step.to_string(),
            e.asked,
            e.answer
        ));
    }
    err_line(
        "    fix: check the address; for a domain that publishes nothing, start from a preset (mailcfg opens one) and enter the servers",
    );
}

/// Where each field of the draft came from, what else was said, and why this value.
fn notes(report: &Report) {
    err_line(&format!(
        "\nDraft for {} ({} ms). Where each field came from:",
        report.address,
        millis(report.total)
    ));
    let width = report
        .draft
        .notes
        .iter()
        .map(|n| n.key.len())
        .max()
        .unwrap_or(0);
    for n in &report.draft.notes {
        err_line(&format!(
            "  {:<width$}  {}  ← {}: {}",
            n.key,
            n.value,
            n.origin.label(),
            n.evidence
        ));
        for o in &n.others {
            err_line(&format!(
                "  {:<width$}    also {} ← {}: {}",
                "",
                o.value,
                o.origin.label(),
                o.evidence
            ));
        }
        if let Some(why) = &n.why {
            err_line(&format!("  {:<width$}    chosen because {why}", ""));
        }
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}
