//! Sets `MAILCFG_VERSION`, the text of `mailcfg --version`: the crate's version and, where known,
//! the commit it was built from with that commit's date, e.g. `0.1.0 (1f6ea37 2026-12-01)`.
//!
//! The commit comes from, in order: `MAILCFG_COMMIT` (a packager building from a tarball can set
//! it), `git` when this folder is the top of a Git work tree (a tarball unpacked inside some other
//! repository must not take that repository's commit), and `.cargo_vcs_info.json`, which
//! `cargo package` writes into crates. Without any of them the version stands alone. Nothing
//! here fails the build: a missing or broken `git` only means no commit.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    let version = std::env::var("CARGO_PKG_VERSION").unwrap_or_default();
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=MAILCFG_COMMIT");

    let commit = std::env::var("MAILCFG_COMMIT")
        .ok()
        .filter(|c| is_commit_id(c))
        .map(|c| (short(&c), None))
        .or_else(|| from_git(&dir))
        .or_else(|| from_vcs_info(&dir).map(|c| (short(&c), None)));
    let text = match commit {
        Some((id, Some(date))) => format!("{version} ({id} {date})"),
        Some((id, None)) => format!("{version} ({id})"),
        None => version,
    };
    println!("cargo:rustc-env=MAILCFG_VERSION={text}");
}

/// The short commit id and its date, and a rebuild whenever HEAD moves.
fn from_git(dir: &Path) -> Option<(String, Option<String>)> {
    let top = git(dir, &["rev-parse", "--show-toplevel"])?;
    if std::fs::canonicalize(top).ok()? != std::fs::canonicalize(dir).ok()? {
        return None;
    }
    let out = git(dir, &["log", "-1", "--format=%H %cs"])?;
    let (id, date) = out.split_once(' ')?;
    if !is_commit_id(id) {
        return None;
    }
    // HEAD names the branch; the branch's ref (loose or packed) names the commit. Only existing
    // files are named: Cargo reruns a build script on every build while a named file is missing.
    let mut watched = vec!["HEAD".to_owned(), "packed-refs".to_owned()];
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.push(branch);
    }
    for name in watched {
        if let Some(path) = git(
            dir,
            &["rev-parse", "--path-format=absolute", "--git-path", &name],
        ) && Path::new(&path).is_file()
        {
            println!("cargo:rerun-if-changed={path}");
        }
    }
    Some((short(id), Some(date.to_owned())))
}

/// `{"git": {"sha1": "…"}, …}`, as `cargo package` writes it; read without a JSON parser, which
/// a build script would have to build first.
fn from_vcs_info(dir: &Path) -> Option<String> {
    let path = dir.join(".cargo_vcs_info.json");
    let text = std::fs::read_to_string(&path).ok()?;
    println!("cargo:rerun-if-changed={}", path.display());
    let after = text.split_once("\"sha1\"")?.1;
    let id = after.split('"').nth(1)?;
    is_commit_id(id).then(|| id.to_owned())
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    (out.status.success() && !text.trim().is_empty()).then(|| text.trim().to_owned())
}

/// A hexadecimal commit id, at least 7 digits: nothing else reaches `--version`.
fn is_commit_id(s: &str) -> bool {
    (7..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn short(id: &str) -> String {
    id.chars().take(7).collect()
}
