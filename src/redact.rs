//! What reaches a person or a file: every secret this process has seen, masked in every form it
//! can take on the way out, and control characters escaped so that no server, identity provider
//! or profile can drive the terminal.
//!
//! Secrets are registered where they enter the process (the keyring and `MAILCFG_CLIENT_SECRET`,
//! the identity provider's tokens, the SASL strings the probe builds); [`mask`] then replaces each
//! of them, raw, base64 (standard and URL-safe, with and without padding), URL-encoded,
//! JSON-escaped or trimmed, and any run of 20 or more of their characters (a server that echoes
//! part of a string), with a readable stand-in. A JWT is masked wherever it appears, registered or
//! not: an identity provider may quote one in an `error_description`. The registry is one per
//! process, so every output path (transcript, step details, diagnoses, errors, JSON, the window,
//! panics) consults the same list.

use std::fmt::Write as _;
use std::sync::{PoisonError, RwLock};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};

/// A run of secret characters this long is masked even when it is only part of a secret.
const FRAGMENT: usize = 20;

struct Form {
    text: String,
    shown: String,
}

static REGISTRY: RwLock<Vec<Form>> = RwLock::new(Vec::new());

/// From now on, `secret` is replaced by `shown` in everything [`mask`] sees, in every form.
pub fn register(secret: &str, shown: &str) {
    if secret.is_empty() {
        return;
    }
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
    let mut reg = REGISTRY.write().unwrap_or_else(PoisonError::into_inner);
    for f in forms {
        if f.is_empty() || reg.iter().any(|e| e.text == f) {
            continue;
        }
        reg.push(Form {
            text: f,
            shown: shown.to_owned(),
        });
    }
    // Longest first, so that a token inside a SASL string is not replaced before the string.
    reg.sort_by_key(|f| std::cmp::Reverse(f.text.len()));
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
    for f in reg.iter() {
        if out.contains(f.text.as_str()) {
            out = out.replace(f.text.as_str(), &f.shown);
        }
    }
    let out = mask_runs(&out, &reg);
    drop(reg);
    out
}

/// Characters of tokens, base64 and URL-encoded text: what a secret and its forms are made of.
fn secret_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '+' | '/' | '=' | '-' | '_' | '.' | '~' | '%')
}

/// Masks runs of secret characters that are a JWT, or part of a registered secret.
fn mask_runs(text: &str, reg: &[Form]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run_start = None;
    let flush = |out: &mut String, run: &str| {
        if run.len() >= FRAGMENT && is_jwt(run) {
            out.push_str("<JWT: masked>");
        } else if run.len() >= FRAGMENT
            && let Some(f) = reg.iter().find(|f| f.text.contains(run))
        {
            out.push_str(&f.shown);
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
            // A server that echoes only a part.
            format!("-ERR {}", &STANDARD.encode(secret)[..24]),
        ] {
            let m = mask(&text);
            assert!(m.contains("<client secret: masked>"), "{text} → {m}");
            assert!(!m.contains("Lab8Q"), "{m}");
            assert!(!m.contains(&STANDARD.encode(secret)[..20]), "{m}");
        }
        assert_eq!(mask("nothing secret here"), "nothing secret here");
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
