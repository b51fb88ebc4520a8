//! The Monitoring Plugins contract (Nagios, Icinga, Checkmk, Sensu): the exit code is the state,
//! the first line `MAILCFG STATE - summary | perfdata`, then one line per target and account.
//! Performance data is `'label'=value[UOM];[warn];[crit];[min];[max]`, labels quoted; a label may
//! hold neither `'` nor `=`, and no text may hold `|` (the perfdata separator) or a line break,
//! so both are replaced (monitoring-plugins.org/doc/guidelines.html).

use std::fmt::Write as _;

use super::Check;

/// Text safe for a plugin line: no `|`, no line break or other control character.
fn text(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '|' => '/',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect()
}

/// A perfdata label: quoted, without `'` or `=`.
fn label(s: &str) -> String {
    let clean: String = text(s)
        .chars()
        .map(|c| if matches!(c, '\'' | '=') { '_' } else { c })
        .collect();
    format!("'{clean}'")
}

/// The whole plugin output (ends with a newline); its exit code is `check.state.code()`.
pub fn render(check: &Check) -> String {
    let t = check.thresholds;
    // Days left alert when below the threshold: the range `N:` (outside N..∞).
    let (warn, crit) = (format!("{}:", t.warn_days), format!("{}:", t.crit_days));
    let mut perf = Vec::new();
    for target in &check.targets {
        if target.not_tested.is_none() {
            perf.push(format!(
                "{}={:.3}s;;;0",
                label(&format!("{} time", target.target)),
                target.duration.as_secs_f64()
            ));
        }
        if let Some(c) = &target.certificate {
            perf.push(format!(
                "{}={};{warn};{crit};0",
                label(&format!("{} certificate days", target.target)),
                c.days
            ));
        }
    }
    for a in &check.accounts {
        if let Some(e) = &a.client_secret {
            perf.push(format!(
                "{}={};{warn};{crit};0",
                label(&format!("{} secret days", a.account)),
                e.days
            ));
        }
    }
    let mut out = format!(
        "MAILCFG {} - {}",
        check.state.word(),
        text(&check.summary())
    );
    if !perf.is_empty() {
        let _ = write!(out, " | {}", perf.join(" "));
    }
    out.push('\n');
    for target in &check.targets {
        let line = match (&target.not_tested, &target.diagnosis, target.failed_step) {
            (Some(why), _, _) => format!("not tested: {why}"),
            (None, Some(d), Some(step)) => {
                format!("failed at {step}: {} [{}]; fix: {}", d.title, d.kind, d.fix)
            }
            (None, None, Some(step)) => format!("failed at {step}"),
            _ => format!("passed in {} ms", target.duration.as_millis()),
        };
        let cert = target.certificate.as_ref().map_or_else(String::new, |c| {
            format!("; certificate expires in {} days", c.days)
        });
        let _ = writeln!(
            out,
            "{}: {} ({}): {}{cert}",
            target.state.word(),
            text(&target.target),
            target.protocol,
            text(&line)
        );
    }
    for a in &check.accounts {
        let mut line = if a.signed_in {
            "signed in".to_owned()
        } else {
            // The diagnosis's title names the sign-in already ("Sign-in refused: …").
            a.diagnosis.as_ref().map_or_else(
                || {
                    format!(
                        "sign-in failed: {}",
                        a.sign_in_error.clone().unwrap_or_default()
                    )
                },
                |d| format!("{}; fix: {}", d.title, d.fix),
            )
        };
        if let Some(e) = &a.client_secret {
            let _ = write!(line, "; client secret expires in {} days", e.days);
        }
        let _ = writeln!(
            out,
            "{}: account {}: {}",
            a.state.word(),
            text(&a.account),
            text(&line)
        );
    }
    out
}
