//! Form fields between the person and the profile. Text that does not parse (a port of 99999)
//! stays in its field with its error and never reaches the profile; Test and Save refuse while any
//! such text is left ([`Fields::first_invalid`]). The profile's findings are said at their fields
//! in the form's words ("Extra CA file", not `tls.ca_file`); an empty required field says what to
//! paste there, in plain colours, until a Test or Save asks for it; the errors of an item added in
//! this session wait until its fields are typed in.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

use eframe::egui;

use super::widgets::{self, Note};
use crate::profile::{Finding, Severity};

/// A field's text that did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Invalid {
    /// "the Port of mailbox \"Office365\"".
    what: String,
    text: String,
    why: String,
}

/// The state of the forms' fields that is not in the profile. Keys are the profile's own paths
/// (`mailboxes[0].port`), as in its findings.
#[derive(Debug, Default)]
pub struct Fields {
    invalid: BTreeMap<String, Invalid>,
    touched: HashSet<String>,
    /// Items added in this session (`mailboxes[2]`), whose errors wait for typing.
    fresh: HashSet<String>,
    /// Set once a Test, Save or sign-in was refused: every error shows now.
    pub reveal: bool,
}

impl Fields {
    /// The first field whose text is not a value, in words that name it, with what was typed.
    pub fn first_invalid(&self) -> Option<String> {
        self.invalid
            .values()
            .next()
            .map(|i| format!("{} is \"{}\": {}", i.what, i.text, i.why))
    }

    pub fn fresh(&mut self, item: String) {
        self.fresh.insert(item);
    }

    /// Forgets everything (another profile, or an undo that replaced it).
    pub fn clear(&mut self) {
        *self = Self::default();
    }

    /// An item was removed: what was typed into it goes, later items of its section move up.
    pub fn removed(&mut self, section: &str, index: usize) {
        let shift = |key: &str| -> Option<Option<String>> {
            let rest = key.strip_prefix(section)?.strip_prefix('[')?;
            let (n, tail) = rest.split_once(']')?;
            let n: usize = n.parse().ok()?;
            Some(match n.cmp(&index) {
                std::cmp::Ordering::Less => Some(key.to_owned()),
                std::cmp::Ordering::Equal => None,
                std::cmp::Ordering::Greater => Some(format!("{section}[{}]{tail}", n - 1)),
            })
        };
        let moved = |key: String| match shift(&key) {
            Some(k) => k,
            None => Some(key),
        };
        self.invalid = std::mem::take(&mut self.invalid)
            .into_iter()
            .filter_map(|(k, v)| moved(k).map(|k| (k, v)))
            .collect();
        self.touched = std::mem::take(&mut self.touched)
            .into_iter()
            .filter_map(moved)
            .collect();
        self.fresh = std::mem::take(&mut self.fresh)
            .into_iter()
            .filter_map(moved)
            .collect();
    }
}

/// Draws one item's fields into a two-column grid and keeps their state. `prefix` is the item's
/// path (`mailboxes[0]`), `item` its name in words (`mailbox "Office365"`).
pub struct Form<'a> {
    pub fields: &'a mut Fields,
    pub findings: &'a [Finding],
    pub sources: &'a std::collections::HashMap<String, Vec<Note>>,
    pub prefix: String,
    pub item: String,
}

impl Form<'_> {
    fn key(&self, field: &str) -> String {
        if self.prefix.is_empty() {
            field.to_owned()
        } else {
            format!("{}.{field}", self.prefix)
        }
    }

    /// What is said under a field: what was typed wrong, then the profile's findings there.
    pub fn notes(&self, field: &str, empty: bool) -> Vec<Note> {
        let key = self.key(field);
        let f = &*self.fields;
        let item = key.split('.').next().unwrap_or_default();
        let shown = f.reveal || f.touched.contains(&key) || !f.fresh.contains(item);
        let mut out: Vec<Note> = f
            .invalid
            .get(&key)
            .map(|i| Note::error(i.why.clone()))
            .into_iter()
            .collect();
        for finding in self.findings.iter().filter(|x| x.key() == key) {
            if empty && !f.reveal && finding.severity == Severity::Error {
                out.push(Note::todo(capitalised(&in_form_words(&finding.fix))));
            } else if shown {
                let text = format!(
                    "{} — {}",
                    in_form_words(&finding.message),
                    in_form_words(&finding.fix)
                );
                out.push(if finding.severity == Severity::Error {
                    Note::error(text)
                } else {
                    Note::warning(text)
                });
            }
        }
        out.extend(self.sources.get(&key).into_iter().flatten().cloned());
        out
    }

    fn touch(&mut self, field: &str, changed: bool) -> bool {
        if changed {
            self.fields.touched.insert(self.key(field));
        }
        changed
    }

    pub fn text(
        &mut self,
        ui: &mut egui::Ui,
        field: &str,
        label: &str,
        value: &mut String,
        hint: &str,
    ) -> bool {
        let notes = self.notes(field, value.trim().is_empty());
        let changed = widgets::text_row(ui, label, value, hint, &notes);
        self.touch(field, changed)
    }

    /// An optional text value: empty means `None`.
    pub fn opt(
        &mut self,
        ui: &mut egui::Ui,
        field: &str,
        label: &str,
        value: &mut Option<String>,
        hint: &str,
    ) -> bool {
        let mut text = value.clone().unwrap_or_default();
        let changed = self.text(ui, field, label, &mut text, hint);
        if changed {
            *value = (!text.trim().is_empty()).then_some(text);
        }
        changed
    }

    pub fn choice<T: Copy + PartialEq>(
        &mut self,
        ui: &mut egui::Ui,
        field: &str,
        label: &str,
        value: &mut T,
        options: &[(T, &str)],
    ) -> bool {
        let notes = self.notes(field, false);
        let changed = widgets::choice_row(ui, label, value, options, &notes);
        self.touch(field, changed)
    }

    /// A value typed as text: `parse` turns it into the value or says why it is none. Text that
    /// does not parse stays in the field and the value keeps what it was.
    pub fn parsed<T: ToString + PartialEq>(
        &mut self,
        ui: &mut egui::Ui,
        field: &str,
        label: &str,
        value: &mut T,
        hint: &str,
        parse: fn(&str) -> Result<T, String>,
    ) -> bool {
        let key = self.key(field);
        let mut text = self
            .fields
            .invalid
            .get(&key)
            .map_or_else(|| value.to_string(), |i| i.text.clone());
        let notes = self.notes(field, text.trim().is_empty());
        let edited = widgets::text_row(ui, label, &mut text, hint, &notes);
        if !self.touch(field, edited) {
            return false;
        }
        match parse(text.trim()) {
            Ok(v) => {
                self.fields.invalid.remove(&key);
                let changed = v != *value;
                *value = v;
                changed
            }
            Err(why) => {
                let what = format!("the {label} of {}", self.item);
                self.fields.invalid.insert(key, Invalid { what, text, why });
                false
            }
        }
    }

    /// Forgets what was typed into a field whose value was set another way (a preset).
    pub fn forget(&mut self, field: &str) {
        let key = self.key(field);
        self.fields.invalid.remove(&key);
    }
}

/// The "Send test to" field: empty is no message; anything else must be a mail address.
pub fn parse_send_to(text: &str) -> Result<Option<lettre::Address>, String> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    crate::profile::mail_address(t).map(Some)
}

pub fn parse_port(s: &str) -> Result<u16, String> {
    s.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| {
        "not a port: expected a whole number from 1 to 65535 (IMAP 993, POP3 995, SMTP 587)".into()
    })
}

pub fn parse_seconds(s: &str) -> Result<u64, String> {
    s.parse::<u64>()
        .ok()
        .filter(|v| (1..=600).contains(v))
        .ok_or_else(|| {
            "expected a whole number of seconds from 1 to 600 (the default is 15)".into()
        })
}

pub fn parse_concurrency(s: &str) -> Result<u32, String> {
    s.parse::<u32>()
        .ok()
        .filter(|v| (1..=256).contains(v))
        .ok_or_else(|| "expected a whole number from 1 to 256 (the default is 8)".into())
}

/// A profile key as the form labels it.
fn label(key: &str) -> Option<&'static str> {
    Some(match key {
        "name" => "Name",
        "provider" => "Provider",
        "flow" => "Sign-in",
        "tenant" => "Tenant",
        "client_id" => "Client ID",
        "scopes" => "Scopes",
        "enterprise_object_id" => "Enterprise object ID",
        "client_secret_expires" => "Secret expires",
        "authority" => "Authority",
        "redirect_uri" => "Redirect URI",
        "issuer" => "Issuer",
        "authorize_url" => "Authorize URL",
        "token_url" => "Token URL",
        "device_authorization_url" => "Device URL",
        "protocol" => "Protocol",
        "host" => "Host",
        "port" => "Port",
        "encryption" => "Encryption",
        "user" => "User",
        "username" => "Username",
        "account" => "XOAuth2 account",
        "auth" => "Sign in (SMTP AUTH)",
        "ca_file" | "tls.ca_file" => "Extra CA file",
        "timeout_secs" | "probe.timeout_secs" => "Step timeout",
        "concurrency" | "probe.concurrency" => "Tests at once",
        _ => return None,
    })
}

/// A value of a closed set as the form shows it.
fn shown_value(key: &str, value: &str) -> String {
    let v = value.trim().trim_matches(['[', ']']).replace('"', "");
    match (key, v.as_str()) {
        ("encryption", "tls") => "TLS (implicit)".into(),
        ("encryption", "starttls") => "STARTTLS".into(),
        ("encryption", "none") => "None".into(),
        ("auth", "true") => "ticked".into(),
        ("auth", "false") => "not ticked".into(),
        _ => v.split(',').map(str::trim).collect::<Vec<_>>().join(" "),
    }
}

/// The profile's message in the form's words: `` `tls.ca_file` `` becomes "Extra CA file",
/// `` `encryption = "tls"` `` becomes Encryption "TLS (implicit)". Code the form has no field for
/// (`version = 1`) stays as it is.
pub fn in_form_words(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 0 {
            out.push_str(part);
            continue;
        }
        let (key, value) = match part.split_once('=') {
            Some((k, v)) => (k.trim(), Some(v)),
            None => (part.trim(), None),
        };
        match (label(key), value) {
            (Some(l), None) => {
                let _ = write!(out, "\"{l}\"");
            }
            (Some(l), Some(v)) => {
                let _ = write!(out, "{l} \"{}\"", shown_value(key, v));
            }
            (None, _) => {
                out.push('`');
                out.push_str(part);
                out.push('`');
            }
        }
    }
    out.replace("tls.ca_file", "\"Extra CA file\"")
}

fn capitalised(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_become_the_forms_labels() {
        assert_eq!(
            in_form_words("give a PEM certificate file in `tls.ca_file`, or remove `ca_file`"),
            "give a PEM certificate file in \"Extra CA file\", or remove \"Extra CA file\""
        );
        assert_eq!(
            in_form_words("the usual pairs are 993 with `encryption = \"tls\"`"),
            "the usual pairs are 993 with Encryption \"TLS (implicit)\""
        );
        assert_eq!(
            in_form_words("set `scopes = [\"https://outlook.office365.com/.default\"]`"),
            "set Scopes \"https://outlook.office365.com/.default\""
        );
        assert_eq!(in_form_words("set `version = 1`"), "set `version = 1`");
        assert_eq!(
            in_form_words("fix: give a PEM certificate file in tls.ca_file"),
            "fix: give a PEM certificate file in \"Extra CA file\""
        );
    }

    #[test]
    fn removing_an_item_moves_what_was_typed_into_later_ones_up() {
        let mut f = Fields::default();
        for (k, t) in [("mailboxes[0].port", "0"), ("mailboxes[2].port", "x")] {
            f.invalid.insert(
                k.into(),
                Invalid {
                    what: k.into(),
                    text: t.into(),
                    why: String::new(),
                },
            );
        }
        f.fresh("mailboxes[1]".into());
        f.removed("mailboxes", 1);
        let keys: Vec<&String> = f.invalid.keys().collect();
        assert_eq!(keys, ["mailboxes[0].port", "mailboxes[1].port"]);
        assert!(f.fresh.is_empty());
        assert!(f.first_invalid().unwrap().contains("\"0\""));
    }

    #[test]
    fn ports_and_numbers_say_what_they_expect() {
        assert_eq!(parse_port("993"), Ok(993));
        for bad in ["99999", "0", "x", "-1", ""] {
            assert!(parse_port(bad).unwrap_err().contains("1 to 65535"), "{bad}");
        }
        assert!(parse_seconds("0").is_err() && parse_seconds("15") == Ok(15));
        assert!(parse_concurrency("300").is_err() && parse_concurrency("8") == Ok(8));
    }
}
