//! What the start screen's actions do: start and cancel the lookups on the engine, take the draft
//! into the window, and the notes under each field of a draft saying where its value came from
//! (`src/ui/screens/start.rs` draws the screen).

use std::collections::HashMap;
use std::fmt::Write as _;

use super::App;
use super::jobs::Job;
use crate::discover::{self, FieldNote};
use crate::engine::{JobId, Update};
use crate::profile::{self, Profile};
use crate::ui::screens::start::{StartAction, StartScreen};
use crate::ui::widgets::Note;

impl App {
    /// Opens the start screen, with where-to-look from the open profile.
    /// Already open, it stays as it is (a running lookup goes on).
    pub(super) fn open_start(&mut self) {
        if self.start.is_some() {
            return;
        }
        self.start = Some(StartScreen::new(&self.doc.profile.discovery));
    }

    pub(super) fn start_action(&mut self, a: StartAction) {
        let base_dir = self.base_dir();
        let Some(s) = self.start.as_mut() else {
            return;
        };
        match a {
            StartAction::Find => {
                s.report = None;
                s.steps.clear();
                s.message = None;
                match settings(s, &self.doc.profile, base_dir) {
                    Ok((address, settings)) => {
                        let job = self.engine.discover(address, settings);
                        s.job = Some(job);
                        self.jobs.insert(job, Job::Discover);
                    }
                    Err(e) => s.message = Some(e),
                }
            }
            StartAction::Cancel => {
                if let Some(job) = s.job.take() {
                    self.engine.cancel(job);
                    s.message = Some("Cancelled.".into());
                }
            }
            StartAction::UseDraft => self.use_draft(),
            StartAction::Preset => {
                if let Some(job) = s.job {
                    self.engine.cancel(job);
                }
                self.start = None;
                self.replace(profile::presets::microsoft365_start(), None, true);
                self.status = Some((false, "New profile from the Microsoft 365 preset.".into()));
            }
            StartAction::Open => {
                if let Some(job) = s.job {
                    self.engine.cancel(job);
                }
                self.start = None;
                self.pick(crate::engine::Pick::Open);
            }
            StartAction::Close => {
                if let Some(job) = s.job {
                    self.engine.cancel(job);
                }
                self.start = None;
            }
        }
    }

    /// The draft becomes the profile (unsaved), keeping this profile's TLS and test settings.
    fn use_draft(&mut self) {
        let Some(s) = self.start.take() else {
            return;
        };
        let typed = s.settings();
        let Some(report) = s.report else {
            return;
        };
        let Some(mut p) = report.draft.profile.clone() else {
            return;
        };
        if p.tls.ca_file.is_none() {
            p.tls = self.doc.profile.tls.clone();
        }
        p.probe = self.doc.profile.probe.clone();
        p.discovery = typed;
        let message = format!(
            "Draft from {}: review each field (its source is under it), then Save.",
            report.address
        );
        self.replace(p, None, false);
        self.field_sources = report.draft.notes;
        self.status = Some((false, message));
    }

    /// An update of the running discovery.
    pub(super) fn discovery_update(&mut self, job: JobId, u: Update) {
        let Some(s) = self.start.as_mut().filter(|s| s.job == Some(job)) else {
            return;
        };
        match u {
            Update::Discovery(e) => match s.steps.iter_mut().find(|x| x.step == e.step) {
                Some(x) => *x = e,
                None => s.steps.push(e),
            },
            Update::Discovered(r) => {
                s.job = None;
                s.steps.clone_from(&r.steps);
                s.focus_use = r.found();
                s.report = Some(r);
            }
            _ => {}
        }
    }
}

/// The address and settings as the engine takes them, or what is wrong, naming the field.
fn settings(
    s: &StartScreen,
    p: &Profile,
    base_dir: Option<std::path::PathBuf>,
) -> Result<(discover::Address, discover::Settings), String> {
    let address: discover::Address = s
        .address
        .parse()
        .map_err(|e: discover::AddressError| e.to_string().replace("\n    fix: ", ". "))?;
    let typed = s.settings();
    let probe = Profile {
        discovery: typed.clone(),
        ..Profile::default()
    };
    if let Some(f) = profile::validate(&probe, None).first() {
        let field = match f.key().as_str() {
            "discovery.dns" => "DNS server",
            "discovery.authority" => "Microsoft authority",
            _ => "ISPDB",
        };
        return Err(format!("{field}: {} ({})", f.message, f.fix));
    }
    let mut settings = discover::Settings {
        tls: p.tls.clone(),
        base_dir,
        ..discover::Settings::default()
    };
    settings.dns = typed
        .dns
        .as_deref()
        .and_then(|d| discover::parse_dns(d).ok());
    settings.authority = typed
        .authority
        .map(|a| a.trim_end_matches('/').to_owned())
        .filter(|a| a != crate::oauth::endpoints::MICROSOFT_AUTHORITY);
    if let Some(i) = typed.ispdb {
        settings.ispdb = i;
    }
    Ok((address, settings))
}

/// Under each field the draft filled: where its value came from, while it still holds it.
pub(super) fn source_notes(profile: &Profile, sources: &[FieldNote]) -> HashMap<String, Vec<Note>> {
    let mut out: HashMap<String, Vec<Note>> = HashMap::new();
    if sources.is_empty() {
        return out;
    }
    let current = serde_json::to_value(profile).unwrap_or_default();
    for n in sources {
        if value_at(&current, &n.key).as_deref() == Some(n.value.as_str()) {
            out.entry(n.key.clone())
                .or_default()
                .push(Note::source(source_text(n)));
        }
    }
    out
}

fn source_text(n: &FieldNote) -> String {
    let mut t = format!("from {}: {}", n.origin.label(), n.evidence);
    for o in &n.others {
        let _ = write!(t, "\nalso {} from {}", o.value, o.origin.label());
    }
    if let Some(why) = &n.why {
        let _ = write!(t, "\nchosen because {why}");
    }
    t
}

/// The value at `mailboxes[0].host` in the profile as JSON, as the note shows values.
fn value_at(v: &serde_json::Value, key: &str) -> Option<String> {
    let mut cur = v;
    for part in key.split('.') {
        let (name, index) = match part.split_once('[') {
            Some((n, i)) => (n, i.trim_end_matches(']').parse::<usize>().ok()),
            None => (part, None),
        };
        cur = cur.get(name)?;
        if let Some(i) = index {
            cur = cur.get(i)?;
        }
    }
    Some(match cur {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        other => other.to_string(),
    })
}
