//! Prometheus' text exposition format (version 0.0.4), for node_exporter's textfile collector:
//! one `# HELP` and `# TYPE` per metric family, label values escaped (`\\`, `\"`, `\n`). Times
//! are Unix seconds, so alerts compare them with `time()` (assets/monitoring/mailcfg.rules.yml).

use std::fmt::Write as _;

use super::{Check, unix};

/// A label value: backslash, double quote and line feed escaped, as the format requires.
fn value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

fn labels(pairs: &[(&str, &str)]) -> String {
    let inner: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", value(v)))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// One metric family: its HELP, TYPE and samples.
struct Family {
    name: &'static str,
    help: &'static str,
    samples: Vec<(String, String)>,
}

impl Family {
    fn new(name: &'static str, help: &'static str) -> Self {
        Self {
            name,
            help,
            samples: Vec::new(),
        }
    }

    fn add(&mut self, labels: String, v: impl std::fmt::Display) {
        self.samples.push((labels, v.to_string()));
    }
}

/// The whole file (ends with a newline).
pub fn render(check: &Check) -> String {
    let mut up = Family::new(
        "mailcfg_target_up",
        "Whether the mailbox or transport passed its last check (1) or not (0).",
    );
    let mut duration = Family::new(
        "mailcfg_target_duration_seconds",
        "How long the last check of the mailbox or transport took.",
    );
    let mut steps = Family::new(
        "mailcfg_step_duration_seconds",
        "How long each step of the last check took.",
    );
    let mut failure = Family::new(
        "mailcfg_target_failure_info",
        "The cause of a failed check: the step and the diagnosis kind (always 1).",
    );
    let mut cert = Family::new(
        "mailcfg_certificate_expiry_timestamp_seconds",
        "When the server certificate the check saw expires (Unix time).",
    );
    let mut signed = Family::new(
        "mailcfg_sign_in_up",
        "Whether the connected account signed in (1) or not (0).",
    );
    let mut secret = Family::new(
        "mailcfg_client_secret_expiry_timestamp_seconds",
        "When the account's client secret expires, as the profile records it (Unix time).",
    );
    let mut state = Family::new(
        "mailcfg_check_state",
        "The check's state: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.",
    );
    let mut stamp = Family::new(
        "mailcfg_check_timestamp_seconds",
        "When this check ran (Unix time).",
    );
    for t in &check.targets {
        let protocol = t.protocol.to_string().to_lowercase();
        let account = t.account.clone().unwrap_or_default();
        let base = [
            ("target", t.target.as_str()),
            ("protocol", protocol.as_str()),
            ("account", account.as_str()),
        ];
        up.add(labels(&base), u8::from(t.ok));
        if t.not_tested.is_none() {
            duration.add(labels(&base), format!("{:.6}", t.duration.as_secs_f64()));
        }
        for super::StepTime { step, seconds } in &t.steps {
            let name = serde_json::to_value(step)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            let mut l = base.to_vec();
            l.push(("step", &name));
            steps.add(labels(&l), format!("{seconds:.6}"));
        }
        if !t.ok {
            let step = t
                .failed_step
                .map_or_else(|| "sign_in".into(), |s| s.to_string().to_lowercase());
            let kind = t
                .diagnosis
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), |d| d.kind.as_str());
            let mut l = base.to_vec();
            l.push(("step", &step));
            l.push(("kind", &kind));
            failure.add(labels(&l), 1);
        }
        if let Some(c) = &t.certificate {
            cert.add(labels(&base), c.at);
        }
    }
    for a in &check.accounts {
        let l = labels(&[("account", &a.account)]);
        signed.add(l.clone(), u8::from(a.signed_in));
        if let Some(e) = &a.client_secret {
            secret.add(l, e.at);
        }
    }
    state.add(String::new(), check.state.code());
    stamp.add(String::new(), unix(check.at));
    let mut out = String::new();
    for f in [
        up, duration, steps, failure, cert, signed, secret, state, stamp,
    ] {
        if f.samples.is_empty() {
            continue;
        }
        let _ = writeln!(out, "# HELP {} {}", f.name, f.help);
        let _ = writeln!(out, "# TYPE {} gauge", f.name);
        for (l, v) in &f.samples {
            let _ = writeln!(out, "{}{l} {v}", f.name);
        }
    }
    out
}
