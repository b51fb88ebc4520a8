//! Import: the native profile (TOML or JSON, read and validated as `mailcfg validate` reads it), or
//! a Thunderbird autoconfig XML (`clientConfig`) turned into a new profile with its servers.
//! Anything else gets a message naming what was expected.

use std::path::Path;

use super::autoconfig;
use crate::profile::{self, Format, LoadError, Profile};

pub const EXPECTED: &str =
    "expected a mailcfg profile (.toml or .json) or a Thunderbird autoconfig XML (clientConfig)";

/// Profiles and autoconfig files are a few kilobytes.
const MAX_BYTES: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{file}: cannot import this file: {why}; {EXPECTED}")]
    Unrecognized { file: String, why: String },
    /// A profile with errors: each finding names the file, line and key.
    #[error("{0}")]
    Profile(#[from] LoadError),
    #[error("{file}: this Thunderbird autoconfig cannot be imported: {message}")]
    Autoconfig { file: String, message: String },
}

/// Reads a file the user picked. `file_name` is its name or path: the extension chooses the
/// format (by content when it says nothing), and relative paths in a profile start at its folder.
pub fn import(bytes: &[u8], file_name: &str) -> Result<Profile, ImportError> {
    let unrecognized = |why: &str| ImportError::Unrecognized {
        file: file_name.to_owned(),
        why: why.to_owned(),
    };
    if bytes.len() > MAX_BYTES {
        return Err(unrecognized("it is larger than 1 MB"));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| unrecognized("it is not UTF-8 text"))?;
    if text.contains('\0') {
        return Err(unrecognized("it is a binary file"));
    }
    let ext = Path::new(file_name)
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let head = text.trim_start();
    match ext.as_deref() {
        Some("toml") => native(text, Format::Toml, file_name),
        Some("json") => native(text, Format::Json, file_name),
        Some("xml") => autoconfig::read(text, file_name),
        _ if head.starts_with('<') => autoconfig::read(text, file_name),
        _ if head.starts_with('{') => native(text, Format::Json, file_name),
        _ if toml::from_str::<toml::Table>(text).is_ok() => native(text, Format::Toml, file_name),
        _ => Err(unrecognized("it is neither TOML, JSON nor XML")),
    }
}

fn native(text: &str, format: Format, file: &str) -> Result<Profile, ImportError> {
    // A document without any of a profile's keys is some other file, not a broken profile.
    let keys: Option<Vec<String>> = match format {
        Format::Toml => toml::from_str::<toml::Table>(text)
            .ok()
            .map(|t| t.keys().cloned().collect()),
        Format::Json => serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .map(|v| {
                v.as_object()
                    .map(|o| o.keys().cloned().collect())
                    .unwrap_or_default()
            }),
    };
    if let Some(keys) = keys {
        let profile_keys = ["version", "accounts", "transports", "mailboxes"];
        if !keys.iter().any(|k| profile_keys.contains(&k.as_str())) {
            return Err(ImportError::Unrecognized {
                file: file.to_owned(),
                why: "it has none of a profile's keys (version, accounts, transports, mailboxes)"
                    .into(),
            });
        }
    }
    let base = Path::new(file)
        .parent()
        .filter(|d| !d.as_os_str().is_empty());
    Ok(profile::load_str(text, format, file, base)?.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn other_files_get_a_message_naming_what_was_expected() {
        for (bytes, name, why) in [
            (
                &b"<html><body/></html>"[..],
                "page.xml",
                "root element is <html>",
            ),
            (
                b"{\"name\": \"x\"}",
                "package.json",
                "none of a profile's keys",
            ),
            (b"\x00\x01\x02", "a.bin", "binary"),
            (b"\xff\xfe", "a.toml", "not UTF-8"),
            (
                b"just some words",
                "notes.txt",
                "neither TOML, JSON nor XML",
            ),
        ] {
            let e = import(bytes, name).unwrap_err().to_string();
            assert!(e.contains(why) && e.contains(EXPECTED), "{name}: {e}");
        }
        let e = import(b"<clientConfig><emailProvider>", "c.xml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("ends before"), "{e}");
        let e = import(b"version = 1\n[[mailboxes]]\nname = 1\n", "p.toml").unwrap_err();
        assert!(matches!(e, ImportError::Profile(_)), "{e}");
        assert!(e.to_string().contains("p.toml:"), "{e}");
    }
}
