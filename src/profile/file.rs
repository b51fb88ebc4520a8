//! Reading and writing profile files. TOML is the native form; JSON with the same shape is read
//! and written too, chosen by the file's extension. Every problem becomes a [`Finding`] that names
//! the file, the line and the key; writing is atomic (temporary file, fsync, rename) and 0600.

// A finding is the error of a cold path that runs once per file: its size does not matter.
#![allow(clippy::result_large_err)]

use std::fmt;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use super::locate::{Seg, position, span_of};
use super::validate::{Finding, Severity, validate};
use super::{CURRENT_VERSION, Profile};

/// A profile is a few kilobytes; anything far larger is not a profile.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Keys that would hold secrets. They are refused wherever they appear: secrets live in the OS
/// keyring, never in a file that gets copied, mailed and committed.
const SECRET_KEYS: &[&str] = &[
    "client_secret",
    "secret",
    "password",
    "refresh_token",
    "access_token",
    "token",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Toml,
    Json,
}

impl Format {
    /// `.json` is JSON; everything else is the native TOML.
    pub fn from_path(path: &Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => Self::Json,
            _ => Self::Toml,
        }
    }
}

/// Why a profile could not be read: one or more findings, at least one of them an error.
#[derive(Debug, thiserror::Error)]
pub struct LoadError {
    pub findings: Vec<Finding>,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, finding) in self.findings.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{finding}")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error(
        "{path}: cannot save the profile: {source}. The file on disk was left as it was; choose a folder you can write to, or free some space"
    )]
    Io { path: PathBuf, source: io::Error },
    #[error("{path}: cannot save the profile: {message}")]
    Encode { path: PathBuf, message: String },
}

/// Reads, parses and validates a profile file. On success the warnings come along.
pub fn load(path: &Path) -> Result<(Profile, Vec<Finding>), LoadError> {
    refuse_errors(read(path)?)
}

/// Reads and parses a profile file, and validates it without refusing: a profile that parses comes
/// back with all its findings, errors too, so that the window can open it and show each finding
/// at its field. A file that does not parse (syntax, shape, a secret, a newer version) is an error.
pub fn read(path: &Path) -> Result<(Profile, Vec<Finding>), LoadError> {
    let label = path.display().to_string();
    let text = read_text(path).map_err(|f| LoadError {
        findings: vec![f.in_file(&label)],
    })?;
    read_str(&text, Format::from_path(path), &label, path.parent())
}

/// Parses and validates profile text. `label` names the file in findings; `base_dir` resolves
/// relative paths such as `tls.ca_file`.
pub fn load_str(
    text: &str,
    format: Format,
    label: &str,
    base_dir: Option<&Path>,
) -> Result<(Profile, Vec<Finding>), LoadError> {
    refuse_errors(read_str(text, format, label, base_dir)?)
}

/// [`load_str`] without refusing a profile whose values have errors (see [`read`]).
pub fn read_str(
    text: &str,
    format: Format,
    label: &str,
    base_dir: Option<&Path>,
) -> Result<(Profile, Vec<Finding>), LoadError> {
    let locate = |f: Finding| f.in_file(label).located(text, format);
    let profile = parse(text, format).map_err(|findings| LoadError {
        findings: findings.into_iter().map(locate).collect(),
    })?;
    let mut findings: Vec<Finding> = validate(&profile, base_dir)
        .into_iter()
        .map(locate)
        .collect();
    findings.sort_by_key(|f| f.position.map(|p| (p.line, p.column)));
    Ok((profile, findings))
}

fn refuse_errors(
    (profile, findings): (Profile, Vec<Finding>),
) -> Result<(Profile, Vec<Finding>), LoadError> {
    if findings.iter().any(|f| f.severity == Severity::Error) {
        return Err(LoadError { findings });
    }
    Ok((profile, findings))
}

/// The profile as file text in the given format.
pub fn to_string(profile: &Profile, format: Format) -> Result<String, String> {
    match format {
        Format::Toml => toml::to_string_pretty(profile).map_err(|e| e.to_string()),
        Format::Json => serde_json::to_string_pretty(profile)
            .map(|s| s + "\n")
            .map_err(|e| e.to_string()),
    }
}

/// Writes the profile atomically: a temporary file in the same folder, fsync, rename over the
/// old file, fsync the folder. A failure at any point leaves the old file as it was.
pub fn save(profile: &Profile, path: &Path) -> Result<(), SaveError> {
    let text =
        to_string(profile, Format::from_path(path)).map_err(|message| SaveError::Encode {
            path: path.to_owned(),
            message,
        })?;
    write_atomic(path, text.as_bytes()).map_err(|source| SaveError::Io {
        path: path.to_owned(),
        source,
    })
}

/// Atomic, private write of any file of ours (profiles, exports). Only a regular file (or
/// nothing) is replaced: a device, a FIFO, a folder or a symbolic link at `path` is refused.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_atomic_mode(path, bytes, 0o600)
}

/// [`write_atomic`] with another mode: a file other users must read (a monitoring textfile).
pub fn write_atomic_mode(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    if let Err(e) = crate::files::check_replaceable(path) {
        return Err(match e {
            crate::files::FileError::Io(e) => e,
            other => io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{other}; only a regular file is replaced"),
            ),
        });
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".mailcfg-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))?;
    }
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn read_text(path: &Path) -> Result<String, Finding> {
    use crate::files::FileError;
    let problem = |message: String, fix: &str| Finding::error(Vec::new(), message, fix);
    let bytes = crate::files::read_limited(path, MAX_FILE_BYTES).map_err(|e| match e {
        FileError::NotFound => problem(
            "no such file".into(),
            "check the path, or start from an example profile in assets/",
        ),
        FileError::NotRegular(crate::files::Kind::Folder) => problem(
            "this is a folder, not a profile file".into(),
            "give the path of a .toml or .json profile inside it",
        ),
        FileError::NotRegular(kind) => problem(
            format!("this is {kind}, not a profile file (only regular files are read)"),
            "give the path of a .toml or .json profile file",
        ),
        FileError::TooLarge { size, .. } => problem(
            match size {
                Some(n) => format!(
                    "the file is {:.1} MB; a profile is a few kilobytes (at most {} KB are read)",
                    bytes_to_mb(n),
                    MAX_FILE_BYTES / 1024
                ),
                None => format!(
                    "the file holds more than {} KB; a profile is a few kilobytes",
                    MAX_FILE_BYTES / 1024
                ),
            },
            "check that this is the profile you meant",
        ),
        FileError::Io(e) => problem(
            format!("cannot read the file: {e}"),
            "check the path and its permissions",
        ),
    })?;
    if bytes.contains(&0) {
        return Err(problem(
            "this is a binary file, not a profile (it contains NUL bytes)".into(),
            "give a .toml or .json profile as written by mailcfg",
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        problem(
            format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
            "save the profile as UTF-8 text",
        )
    })
}

#[allow(clippy::cast_precision_loss)] // a file size shown with one decimal
fn bytes_to_mb(n: u64) -> f64 {
    n as f64 / 1_000_000.0
}

/// Syntax, secrets, version, then the shape through serde. Findings carry byte offsets or paths;
/// the caller turns them into lines.
fn parse(text: &str, format: Format) -> Result<Profile, Vec<Finding>> {
    if text.trim().is_empty() {
        return Err(vec![Finding::error(
            Vec::new(),
            "the file is empty".into(),
            "a profile starts with `version = 1`; copy an example from assets/ to begin",
        )]);
    }
    let tree = Tree::parse(text, format).map_err(|f| vec![f])?;
    let mut findings = Vec::new();
    tree.find_secret_keys(&mut Vec::new(), &mut findings);
    if let Some(f) = tree.check_version() {
        findings.push(f);
    }
    if !findings.is_empty() {
        return Err(findings);
    }
    deserialize(text, format).map_err(|f| vec![f])
}

fn deserialize(text: &str, format: Format) -> Result<Profile, Finding> {
    match format {
        Format::Toml => {
            let de = toml::Deserializer::parse(text)
                .map_err(|e| syntax(&e.to_string(), e.span().map(|s| s.start)))?;
            serde_path_to_error::deserialize(de).map_err(|e| {
                let offset = e.inner().span().map(|s| s.start);
                shape_error(e.path(), e.inner().message(), offset)
            })
        }
        Format::Json => {
            let mut de = serde_json::Deserializer::from_str(text);
            serde_path_to_error::deserialize(&mut de).map_err(|e| {
                let inner = e.inner();
                let offset = offset_of(text, inner.line(), inner.column());
                let message = inner.to_string();
                // serde_json appends " at line L column C": the finding shows the place itself.
                let message = message
                    .split(" at line ")
                    .next()
                    .unwrap_or(&message)
                    .to_owned();
                shape_error(e.path(), &message, Some(offset))
            })
        }
    }
}

fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    start + column.saturating_sub(1)
}

fn syntax(message: &str, offset: Option<usize>) -> Finding {
    let first = message
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or(message);
    let mut f = Finding::error(
        Vec::new(),
        format!(
            "syntax error: {}",
            first.trim_start_matches("TOML parse error").trim()
        ),
        "fix the syntax near this place (a missing quote, bracket, comma or `=`; a truncated file ends early)",
    );
    f.offset = offset;
    f
}

/// A wrong type, a missing key or an unknown key, with the path serde was at.
fn shape_error(path: &serde_path_to_error::Path, message: &str, offset: Option<usize>) -> Finding {
    let segs: Vec<Seg> = path
        .iter()
        .filter_map(|s| match s {
            serde_path_to_error::Segment::Seq { index } => Some(Seg::Index(*index)),
            serde_path_to_error::Segment::Map { key } => Some(Seg::Key(key.clone())),
            serde_path_to_error::Segment::Enum { variant } => Some(Seg::Key(variant.clone())),
            serde_path_to_error::Segment::Unknown => None,
        })
        .collect();
    let fix = if let Some(rest) = message.strip_prefix("unknown field `") {
        let unknown = rest.split('`').next().unwrap_or_default();
        let expected: Vec<&str> = rest.split('`').skip(2).step_by(2).collect();
        let close = expected
            .iter()
            .filter(|k| strsim::jaro_winkler(unknown, k) > 0.8)
            .max_by(|a, b| {
                strsim::jaro_winkler(unknown, a).total_cmp(&strsim::jaro_winkler(unknown, b))
            });
        match close {
            Some(k) => format!("did you mean `{k}`? Rename the key, or delete it"),
            None => format!(
                "delete this key; the keys allowed here are: {}",
                expected.join(", ")
            ),
        }
    } else if message.starts_with("missing field") {
        "add the key; the examples in assets/ show every key with a typical value".to_owned()
    } else if message.starts_with("unknown variant") {
        "use one of the values listed".to_owned()
    } else if message.starts_with("port ") || segs.last() == Some(&Seg::Key("port".into())) {
        "give the port as a number from 1 to 65535, without quotes (usually IMAP 993, POP3 995, SMTP 587)".to_owned()
    } else {
        "give a value of the expected type".to_owned()
    };
    // serde names Rust types; users know numbers and words.
    let message = message
        .replace("expected i64", "expected a number")
        .replace("expected u32", "expected a number")
        .replace("expected u64", "expected a number")
        .replace("expected a boolean", "expected true or false");
    let mut f = Finding::error(segs, message, &fix);
    f.offset = offset;
    f
}

/// The document as a spanned tree, for the checks that must run before serde sees it.
enum Tree<'a> {
    Toml(toml::Spanned<toml::de::DeTable<'a>>),
    Json(serde_json::Value),
}

impl<'a> Tree<'a> {
    fn parse(text: &'a str, format: Format) -> Result<Self, Finding> {
        match format {
            Format::Toml => toml::de::DeTable::parse(text)
                .map(Tree::Toml)
                .map_err(|e| syntax(e.message(), e.span().map(|s| s.start))),
            Format::Json => serde_json::from_str::<serde_json::Value>(text)
                .map(Tree::Json)
                .map_err(|e| {
                    let message = e.to_string();
                    let message = message
                        .split(" at line ")
                        .next()
                        .unwrap_or(&message)
                        .to_owned();
                    syntax(&message, Some(offset_of(text, e.line(), e.column())))
                }),
        }
    }

    /// Every key that would hold a secret, wherever it is.
    fn find_secret_keys(&self, path: &mut Vec<Seg>, out: &mut Vec<Finding>) {
        let value = match self {
            Tree::Toml(t) => toml_to_json(t.get_ref()),
            Tree::Json(v) => v.clone(),
        };
        walk_secrets(&value, path, out);
    }

    fn check_version(&self) -> Option<Finding> {
        let version = match self {
            Tree::Toml(t) => {
                let v = t.get_ref().iter().find(|(k, _)| k.get_ref() == "version")?;
                v.1.get_ref()
                    .as_integer()
                    .and_then(|i| i64::from_str_radix(i.as_str(), i.radix()).ok())
            }
            Tree::Json(v) => v.get("version")?.as_i64(),
        };
        let here = vec![Seg::Key("version".into())];
        match version {
            Some(v) if v > i64::from(CURRENT_VERSION) => Some(Finding::error(
                here,
                format!(
                    "this profile is version {v}, written by a newer mailcfg; this build reads versions up to {CURRENT_VERSION}"
                ),
                "update mailcfg, or open the profile with the version that wrote it",
            )),
            Some(v) if v < 1 => Some(Finding::error(
                here,
                format!("version {v} does not exist; the first profile version is 1"),
                "set `version = 1`",
            )),
            _ => None, // a missing or mistyped version is reported by serde with its place
        }
    }
}

fn toml_to_json(table: &toml::de::DeTable<'_>) -> serde_json::Value {
    fn value(v: &toml::de::DeValue<'_>) -> serde_json::Value {
        if let Some(t) = v.as_table() {
            toml_to_json(t)
        } else if let Some(a) = v.as_array() {
            serde_json::Value::Array(a.iter().map(|i| value(i.get_ref())).collect())
        } else {
            serde_json::Value::Null // only the keys matter here
        }
    }
    serde_json::Value::Object(
        table
            .iter()
            .map(|(k, v)| (k.get_ref().to_string(), value(v.get_ref())))
            .collect(),
    )
}

fn walk_secrets(value: &serde_json::Value, path: &mut Vec<Seg>, out: &mut Vec<Finding>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                path.push(Seg::Key(k.clone()));
                if SECRET_KEYS.contains(&k.to_ascii_lowercase().as_str()) {
                    out.push(Finding::error(
                        path.clone(),
                        format!("`{k}` is a secret, and secrets are never stored in the profile file"),
                        "delete this line and keep the secret in the OS keyring: enter it in the account's form in the window, or set MAILCFG_CLIENT_SECRET for headless use",
                    ));
                }
                walk_secrets(v, path, out);
                path.pop();
            }
        }
        serde_json::Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(Seg::Index(i));
                walk_secrets(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

impl Finding {
    fn in_file(mut self, label: &str) -> Self {
        label.clone_into(&mut self.file);
        self
    }

    /// Fills in the line and column from the byte offset, or else from the path.
    fn located(mut self, text: &str, format: Format) -> Self {
        let offset = self
            .offset
            .or_else(|| span_of(text, format, &self.path).map(|s| s.start));
        if let Some(o) = offset {
            self.position = Some(position(text, o));
        }
        self
    }
}
