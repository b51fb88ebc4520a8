//! What reaches a person or a file: every secret this process has seen, masked in every form it
//! can take on the way out, and control characters escaped so that no server, identity provider
//! or profile can drive the terminal.
//!
//! Secrets are registered where they enter the process (the keyring and `MAILCFG_CLIENT_SECRET`,
//! the identity provider's tokens, the SASL strings the probe builds); [`mask`] then replaces each
//! of them, raw, base64 (standard and URL-safe, with and without padding), URL-encoded,
//! JSON-escaped or trimmed, and any run of characters that shares 23 or more in a row with one (a
//! server that echoes part of a string), with a readable stand-in. A JWT is masked wherever it appears, registered or
//! not: an identity provider may quote one in an `error_description`. The registry is one per
//! process, so every output path (transcript, step details, diagnoses, errors, JSON, the window,
//! panics) consults the same list.

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::sync::{Arc, LazyLock, PoisonError, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// A run of text that shares this many bytes in a row with a secret (as it is, or once its
/// base64 or URL-encoding is undone) is masked whole: a server that echoes part of a string.
const FRAGMENT: usize = 20;
/// Windows of a secret are indexed every this many bytes, so a shared part is found once it is
/// `FRAGMENT + STRIDE - 1` long; a quarter of the index for three bytes more.
const STRIDE: usize = 4;
/// Secrets kept; past this the oldest go (access tokens live an hour; a session refreshes them).
const MAX_SECRETS: usize = 512;

struct Form {
    text: String,
    shown: Arc<str>,
    /// The registration it belongs to, for dropping the oldest.
    secret: u64,
}

/// Forms at least this long are found through `Registry::by_prefix`; shorter ones are looked
/// for one by one (few: a secret's forms are as long as the secret).
const PREFIX: usize = 8;

/// A form in `Registry::by_prefix`: its text, its stand-in, its secret's number.
type Indexed = (Arc<str>, Arc<str>, u64);

#[derive(Default)]
struct Registry {
    /// The forms of [`PREFIX`] bytes or more by their first bytes, so that [`mask`] looks up each
    /// window of a text once instead of searching the text for every form: hundreds of
    /// mailboxes register hundreds of SASL strings, thousands of forms, and every line printed
    /// is masked (BENCHMARKS.md, section 4).
    by_prefix: HashMap<[u8; PREFIX], Vec<Indexed>>,
    /// Longest first, so that a token inside a SASL string is not replaced before the string.
    forms: Vec<Form>,
    /// `FRAGMENT`-byte windows of each secret (at every `STRIDE`th offset) → its stand-in.
    windows: HashMap<[u8; FRAGMENT], (u64, Arc<str>)>,
    /// Registration numbers, oldest first.
    order: VecDeque<u64>,
    next: u64,
}

impl Registry {
    /// Adds `forms` (exact texts) of one secret; `raw` (the secret itself) is also indexed for
    /// parts. A secret registered before only moves to the back of the queue.
    fn add(&mut self, forms: Vec<String>, raw: Option<&str>, shown: &str) {
        let Some(first) = forms.first() else {
            return;
        };
        if let Some(known) = self
            .forms
            .iter()
            .find(|f| f.text == *first)
            .map(|f| f.secret)
        {
            self.order.retain(|n| *n != known);
            self.order.push_back(known);
            return;
        }
        let id = self.next;
        self.next += 1;
        self.order.push_back(id);
        let shown: Arc<str> = Arc::from(shown);
        for f in forms {
            if f.is_empty() || self.forms.iter().any(|e| e.text == f) {
                continue;
            }
            if let Some(p) = f
                .as_bytes()
                .get(..PREFIX)
                .and_then(|p| <[u8; PREFIX]>::try_from(p).ok())
            {
                self.by_prefix.entry(p).or_default().push((
                    Arc::from(f.as_str()),
                    shown.clone(),
                    id,
                ));
            }
            self.forms.push(Form {
                text: f,
                shown: shown.clone(),
                secret: id,
            });
        }
        self.forms.sort_by_key(|f| std::cmp::Reverse(f.text.len()));
        if let Some(raw) = raw {
            let b = raw.as_bytes();
            let mut at = 0;
            while at + FRAGMENT <= b.len() {
                if let Ok(w) = <[u8; FRAGMENT]>::try_from(&b[at..at + FRAGMENT]) {
                    self.windows.entry(w).or_insert_with(|| (id, shown.clone()));
                }
                at += STRIDE;
            }
        }
        while self.order.len() > MAX_SECRETS {
            if let Some(old) = self.order.pop_front() {
                self.forms.retain(|f| f.secret != old);
                self.windows.retain(|_, (id, _)| *id != old);
                self.by_prefix.retain(|_, list| {
                    list.retain(|(_, _, id)| *id != old);
                    !list.is_empty()
                });
            }
        }
    }

    /// The forms that occur in `text`, longest first (the order [`mask`] replaces them in, so that
    /// a token inside a SASL string is not replaced before the string).
    fn forms_in(&self, text: &str) -> Vec<(Arc<str>, Arc<str>)> {
        let mut found: Vec<(Arc<str>, Arc<str>)> = self
            .forms
            .iter()
            .filter(|f| f.text.len() < PREFIX && text.contains(f.text.as_str()))
            .map(|f| (Arc::from(f.text.as_str()), f.shown.clone()))
            .collect();
        let b = text.as_bytes();
        for (at, w) in b.windows(PREFIX).enumerate() {
            let Some(list) = <[u8; PREFIX]>::try_from(w)
                .ok()
                .and_then(|w| self.by_prefix.get(&w))
            else {
                continue;
            };
            for (form, shown, _) in list {
                if b[at..].starts_with(form.as_bytes()) && !found.iter().any(|(f, _)| f == form) {
                    found.push((form.clone(), shown.clone()));
                }
            }
        }
        found.sort_by_key(|(f, _)| std::cmp::Reverse(f.len()));
        found
    }

    /// The stand-in of a secret that `bytes` shares a part with.
    fn shares(&self, bytes: &[u8]) -> Option<&str> {
        bytes.windows(FRAGMENT).find_map(|w| {
            let w = <[u8; FRAGMENT]>::try_from(w).ok()?;
            self.windows.get(&w).map(|(_, s)| &**s)
        })
    }
}

static REGISTRY: LazyLock<RwLock<Registry>> = LazyLock::new(RwLock::default);

fn registry() -> std::sync::RwLockWriteGuard<'static, Registry> {
    REGISTRY.write().unwrap_or_else(PoisonError::into_inner)
}

/// From now on, `secret` is replaced by `shown` in everything [`mask`] sees, in every form: raw,
/// trimmed, base64, URL-encoded, JSON-escaped, and any part of 23 bytes or more of it.
pub fn register(secret: &str, shown: &str) {
    if secret.is_empty() {
        return;
    }
    // A form shorter than this would be replaced wherever its letters happen to stand, wrecking
    // the output and showing the secret by where the holes are ("f<masked>r" for "o"). A secret
    // that short is masked where it is sent (the transcript's masking at the protocol layer).
    let forms = forms_of(secret)
        .into_iter()
        .filter(|f| f.chars().count() >= MIN_MASKED)
        .collect();
    registry().add(forms, Some(secret), shown);
}

/// A PEM private key: besides the whole text, its base64 body as one line and each of its lines,
/// so that a quote of the key in any of its layouts (a JSON key file escapes the line ends, a
/// log may join them) is masked.
pub fn register_pem(pem: &str, shown: &str) {
    let lines: Vec<&str> = pem
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("-----"))
        .collect();
    let body = lines.concat();
    if body.len() >= FRAGMENT {
        register(&body, shown);
    }
    for l in lines.iter().filter(|l| l.len() >= FRAGMENT) {
        register(l, shown);
    }
}

/// The shortest form of a secret that is masked wherever it appears.
const MIN_MASKED: usize = 8;

/// `text` (a string built around a secret that is registered itself, such as a SASL string) is
/// replaced by `shown` where it appears whole, so that the transcript says what it was.
pub fn register_exact(text: &str, shown: &str) {
    if !text.is_empty() {
        registry().add(vec![text.to_owned()], None, shown);
    }
}

fn forms_of(secret: &str) -> Vec<String> {
    let mut forms: Vec<String> = vec![secret.to_owned()];
    let trimmed = secret.trim();
    if !trimmed.is_empty() && trimmed != secret {
        forms.push(trimmed.to_owned());
    }
    for s in [secret, trimmed] {
        let b = s.as_bytes();
        forms.push(STANDARD.encode(b));
        forms.push(STANDARD_NO_PAD.encode(b));
        forms.push(URL_SAFE.encode(b));
        forms.push(URL_SAFE_NO_PAD.encode(b));
        forms.push(url::form_urlencoded::byte_serialize(b).collect());
        forms.push(percent_encoded(b, false));
        forms.push(percent_encoded(b, true));
        if let Ok(json) = serde_json::to_string(s) {
            forms.push(json.trim_matches('"').to_owned());
        }
    }
    forms
}

/// `%XX` for every byte but RFC 3986's unreserved characters (upper or lower-case hex).
fn percent_encoded(bytes: &[u8], lower: bool) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for &b in bytes {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else if lower {
            let _ = write!(out, "%{b:02x}");
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// `text` with every registered secret, any long part of one, and any JWT replaced.
pub fn mask(text: &str) -> String {
    let reg = REGISTRY.read().unwrap_or_else(PoisonError::into_inner);
    let mut out = text.to_owned();
    for (form, shown) in reg.forms_in(text) {
        if out.contains(&*form) {
            out = out.replace(&*form, &shown);
        }
    }
    let out = mask_runs(&out, &reg);
    drop(reg);
    out
}

/// Masks runs of secret characters that are a JWT, or share a part with a registered secret
/// as they are, base64-decoded (at each of the four alignments, since an echo may start
/// anywhere) or URL-decoded.
fn mask_runs(text: &str, reg: &Registry) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run_start = None;
    let decoded_shares = |piece: &str| -> Option<&str> {
        if let Some(s) = reg.shares(piece.as_bytes()) {
            return Some(s);
        }
        if piece.contains('%') || piece.contains('+') {
            let decoded: Vec<u8> = url::form_urlencoded::parse(piece.as_bytes())
                .flat_map(|(k, v)| {
                    let mut b = k.into_owned().into_bytes();
                    b.extend(v.bytes());
                    b
                })
                .collect();
            if let Some(s) = reg.shares(&decoded) {
                return Some(s);
            }
        }
        (0..4).find_map(|skip| {
            let part = piece.get(skip..)?;
            let part = &part[..part.len() - part.len() % 4];
            let decoded = STANDARD_NO_PAD
                .decode(part)
                .or_else(|_| URL_SAFE_NO_PAD.decode(part))
                .ok()?;
            reg.shares(&decoded)
        })
    };
    // The run, and its pieces between `=` and `.` (`client_secret=…`, an echo ending a sentence).
    let secret_in = |run: &str| -> Option<&str> {
        std::iter::once(run)
            .chain(run.split(['=', '.']).filter(|p| p.len() >= FRAGMENT))
            .find_map(decoded_shares)
    };
    let flush = |out: &mut String, run: &str| {
        if run.len() >= FRAGMENT && is_jwt(run) {
            out.push_str("<JWT: masked>");
        } else if let Some(shown) = (run.len() >= FRAGMENT).then(|| secret_in(run)).flatten() {
            out.push_str(shown);
        } else {
            out.push_str(run);
        }
    };
    for (i, c) in text.char_indices() {
        match (secret_char(c), run_start) {
            (true, None) => run_start = Some(i),
            (false, Some(s)) => {
                flush(&mut out, &text[s..i]);
                run_start = None;
                out.push(c);
            }
            (false, None) => out.push(c),
            (true, Some(_)) => {}
        }
    }
    if let Some(s) = run_start {
        flush(&mut out, &text[s..]);
    }
    out
}

/// Characters of tokens, base64 and URL-encoded text: what a secret and its forms are made of.
fn secret_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_' | '.' | '~' | '%')
}

/// Three base64url parts, the first a JSON header (`eyJ` is `{"` encoded).
fn is_jwt(run: &str) -> bool {
    let run = run.trim_matches('.');
    let parts: Vec<&str> = run.split('.').collect();
    parts.len() == 3
        && parts[0].starts_with("eyJ")
        && parts[1].len() >= 4
        && parts.iter().all(|p| {
            p.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '=')
        })
}

/// Whether a character may not reach a terminal as it is: C0 and C1 controls, DEL, and the
/// Unicode bidirectional overrides that reorder what a line appears to say.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unsafe character written as an escape (`\u{1b}`); `keep_newlines` leaves
/// line ends of our own multi-line messages alone.
pub fn escape(text: &str, keep_newlines: bool) -> String {
    if !text.chars().any(is_unsafe_char) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if keep_newlines && c == '\n' {
            out.push(c);
        } else if is_unsafe_char(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// A line of text for a person: masked, then escaped (one line: line ends escaped too).
pub fn clean(text: &str) -> String {
    escape(&mask(text), false)
}

/// A value quoted in a message: escaped, and cut after `max` characters with its length said, so
/// that a 900 KB host name does not fill the screen.
pub fn shorten(text: &str, max: usize) -> String {
    let escaped = escape(text, false);
    let count = escaped.chars().count();
    if count <= max {
        return escaped;
    }
    let head: String = escaped.chars().take(max).collect();
    format!("{head}… ({count} characters)")
}

/// Masks every string in a JSON value (before it is written, so that escapes cannot hide one).
pub fn mask_json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(s) => {
            let m = mask(s);
            if m != *s {
                *s = m;
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(mask_json),
        serde_json::Value::Object(map) => map.values_mut().for_each(mask_json),
        _ => {}
    }
}

/// A JSON text with C1 controls and bidi overrides written as `\uXXXX` (serde_json leaves them
/// raw; inside a JSON string the escape means the same character).
pub fn escape_json_text(json: &str) -> String {
    if !json.chars().any(is_unsafe_char) {
        return json.to_owned();
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if is_unsafe_char(c) {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                let _ = write!(out, "\\u{u:04x}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_too_short_to_mask_everywhere_does_not_wreck_the_output() {
        register("o", "<client secret: masked>");
        let text = "sign-in for account \"Lab app\" failed";
        assert_eq!(mask(text), text);
        register("long-enough-secret-value", "<client secret: masked>");
        assert_eq!(
            mask("x long-enough-secret-value y"),
            "x <client secret: masked> y"
        );
    }

    #[test]
    fn among_many_secrets_each_is_found_and_the_longest_first() {
        // As hundreds of mailboxes do: many strings, each holding the same token. (Texts of
        // their own: the registry is the process's, shared with the tests running beside.)
        let token = "Q7xK2mP9vB3nL8wR-shared-by-all";
        register(token, "<token>");
        for i in 0..40 {
            register(
                &format!("zq{i:02}|{token}|{i:02}qz"),
                &format!("<string {i}>"),
            );
        }
        register_exact("pw1", "<short>");
        let long = STANDARD.encode(format!("zq17|{token}|17qz"));
        let text = format!("AUTH {long} then {token}, pw1.");
        assert_eq!(mask(&text), "AUTH <string 17> then <token>, <short>.");
    }

    #[test]
    fn every_form_of_a_secret_is_masked() {
        let secret = "Lab8Q~zz9.x_Y-registered/secret+1";
        register(secret, "<client secret: masked>");
        let url: String = url::form_urlencoded::byte_serialize(secret.as_bytes()).collect();
        for text in [
            secret.to_owned(),
            STANDARD.encode(secret),
            URL_SAFE_NO_PAD.encode(secret),
            url.clone(),
            percent_encoded(secret.as_bytes(), true),
            format!("said: client_secret={url}&grant_type=client_credentials"),
            // A server that echoes only a part, inside other text.
            format!("-ERR {}", &STANDARD.encode(secret)[..36]),
            format!("-ERR x={}.", &STANDARD.encode(secret)[5..40]),
        ] {
            let m = mask(&text);
            assert!(m.contains("<client secret: masked>"), "{text} → {m}");
            assert!(!m.contains("Lab8Q"), "{m}");
            assert!(!m.contains(&STANDARD.encode(secret)[..20]), "{m}");
        }
        assert_eq!(mask("nothing secret here"), "nothing secret here");
    }

    #[test]
    fn the_registry_keeps_the_newest_secrets() {
        // A registry of its own: the process's one is shared by the tests running beside.
        let mut reg = Registry::default();
        let secret = |i: usize| format!("{i:08}-unique-{:08}-{i:08}", i * 7919);
        for i in 0..MAX_SECRETS + 10 {
            let s = secret(i);
            reg.add(forms_of(&s), Some(&s), "<m>");
        }
        assert_eq!(reg.order.len(), MAX_SECRETS);
        assert_eq!(mask_runs(&secret(MAX_SECRETS + 9), &reg), "<m>");
        assert!(reg.shares(secret(0).as_bytes()).is_none());
        assert!(reg.forms.iter().all(|f| !f.text.starts_with("00000000-")));
    }

    #[test]
    fn part_of_a_string_around_a_secret_is_masked_once_decoded() {
        let token = "tok-part-of-a-sasl-string-0123456789";
        register(token, "<bearer token: masked>");
        let sasl = STANDARD.encode(format!(
            "user=u@example.test\u{1}auth=Bearer {token}\u{1}\u{1}"
        ));
        // Each cut holds at least 23 bytes of the token.
        for cut in [&sasl[..], &sasl[..80], &sasl[8..84], &sasl[13..90]] {
            let m = mask(&format!("-ERR token {cut} refused"));
            assert!(m.contains("<bearer token: masked>"), "{cut} → {m}");
        }
    }

    #[test]
    fn a_jwt_is_masked_unregistered() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlLXBhcnQ";
        let m = mask(&format!("AADSTS50000: token {jwt} was refused."));
        assert_eq!(m, "AADSTS50000: token <JWT: masked> was refused.");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escape("ok\x1b]0;pwned\x07\r+OK", false),
            "ok\\u{1b}]0;pwned\\u{7}\\u{d}+OK"
        );
        assert_eq!(escape("a\nb", true), "a\nb");
        assert_eq!(escape("a\u{202e}b\u{9b}", false), "a\\u{202e}b\\u{9b}");
        assert_eq!(escape_json_text("\"a\u{9b}\""), "\"a\\u009b\"");
        assert_eq!(clean("plain"), "plain");
        assert_eq!(shorten("abcdef", 3), "abc… (6 characters)");
    }
}
