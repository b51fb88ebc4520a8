//! `mailcfg --version` and the help texts, which the man pages and completions are made of
//! (xtask/): the version names the commit this was built from, and every command and option
//! that `--help` shows says what it does.
#![allow(clippy::unwrap_used)]

use std::process::Command;

use clap::CommandFactory as _;

const BIN: &str = env!("CARGO_BIN_EXE_mailcfg");

fn run(args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap())
}

/// The commit of the work tree the test was built in, when there is one with git.
fn head_commit() -> Option<(String, String)> {
    let dir = env!("CARGO_MANIFEST_DIR");
    let out = Command::new("git")
        .args(["-C", dir, "log", "-1", "--format=%H %cs"])
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let (id, date) = text.trim().split_once(' ')?;
    out.status
        .success()
        .then(|| (id[..7].to_owned(), date.to_owned()))
}

#[test]
fn version_names_the_crate_version_and_the_commit() {
    let (ok, text) = run(&["--version"]);
    assert!(ok);
    let version = env!("CARGO_PKG_VERSION");
    match head_commit() {
        Some((id, date)) => assert_eq!(text, format!("mailcfg {version} ({id} {date})\n")),
        None => assert!(text.starts_with(&format!("mailcfg {version}")), "{text}"),
    }
    assert_eq!(run(&["-V"]).1, text);
}

#[test]
fn every_command_and_option_says_what_it_does() {
    let mut cli = mailcfg::cli::Cli::command();
    cli.build();
    cli.clone().debug_assert();
    let mut missing = Vec::new();
    for cmd in std::iter::once(&cli).chain(cli.get_subcommands()) {
        if cmd.is_hide_set() || cmd.get_name() == "help" {
            continue;
        }
        let name = cmd.get_name();
        if cmd.get_about().is_none() {
            missing.push(format!("{name}: no one-line description"));
        }
        if cmd.get_long_about().is_none() {
            missing.push(format!("{name}: no paragraph for --help and the man page"));
        }
        if cmd.get_after_help().is_none() && cmd.get_after_long_help().is_none() {
            missing.push(format!("{name}: no example (after_help)"));
        }
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            if arg
                .get_help()
                .is_none_or(|h| h.to_string().trim().is_empty())
            {
                missing.push(format!("{name} {}: no help text", arg.get_id()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "help texts missing:\n{}",
        missing.join("\n")
    );
}

#[test]
fn help_lists_every_command_with_its_description() {
    let (ok, text) = run(&["help"]);
    assert!(ok);
    // Wrapped to the terminal's width, so compared word by word.
    let words = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for cmd in mailcfg::cli::Cli::command().get_subcommands() {
        let about = cmd.get_about().map(ToString::to_string).unwrap_or_default();
        let entry = format!("{} {about}", cmd.get_name());
        assert!(
            words.contains(&entry),
            "`mailcfg help` lacks {entry:?}:\n{text}"
        );
    }
    let (ok, text) = run(&["help", "test"]);
    assert!(ok);
    assert!(
        text.contains("Usage: mailcfg test [OPTIONS] --profile <PROFILE>"),
        "{text}"
    );
    assert!(text.contains("Example"), "{text}");
}
