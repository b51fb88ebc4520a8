//! `xtask dist DIR`: writes DIR/man/*.1 (a page for mailcfg and one per command) and
//! DIR/completions/{mailcfg.bash,_mailcfg,mailcfg.fish}, all from `mailcfg::cli::Cli`, so that
//! they never drift from the program. scripts/package.sh runs it and packs the result.
//!
//! The man pages are clap_mangen's sections (name, synopsis, description, options, commands)
//! followed by the command's `after_long_help`, where each `Heading:` paragraph becomes a section
//! of its own (EXIT STATUS, ENVIRONMENT, FILES, EXAMPLES), and a SEE ALSO naming the other pages.

use std::fs;
use std::io::{self, Write as _};
use std::path::Path;
use std::process::ExitCode;

use clap::CommandFactory as _;
use clap_complete::Shell;
use roff::{Roff, bold, italic, roman};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [task, dir] = args.as_slice() else {
        eprintln!("usage: xtask dist DIR   (writes DIR/man and DIR/completions)");
        return ExitCode::from(2);
    };
    if task != "dist" {
        eprintln!("xtask: unknown task {task:?}; the one task is: dist");
        return ExitCode::from(2);
    }
    match dist(Path::new(dir)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xtask: cannot write into {dir}: {e}");
            ExitCode::FAILURE
        }
    }
}

fn dist(dir: &Path) -> io::Result<()> {
    let mut cmd = mailcfg::cli::Cli::command()
        .disable_help_subcommand(true)
        .subcommand_help_heading("Commands");
    cmd.build();
    let man = dir.join("man");
    fs::create_dir_all(&man)?;
    let pages = pages(&cmd);
    for (page, sub) in &pages {
        let path = man.join(format!("{page}.1"));
        fs::write(&path, man_page(&cmd, sub.as_ref(), &pages)?)?;
        println!("wrote {}", path.display());
    }
    let completions = dir.join("completions");
    fs::create_dir_all(&completions)?;
    for (shell, file) in [
        (Shell::Bash, "mailcfg.bash"),
        (Shell::Zsh, "_mailcfg"),
        (Shell::Fish, "mailcfg.fish"),
    ] {
        let path = completions.join(file);
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut without_hidden(&cmd), "mailcfg", &mut out);
        fs::write(&path, out)?;
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// The command as far as completions need it (names, help, arguments, commands), without the
/// hidden options (`--exit-after-frames` and the like, for tests): clap_complete offers hidden
/// options too, and clap cannot remove an argument from a command, so the tree is rebuilt.
fn without_hidden(cmd: &clap::Command) -> clap::Command {
    // A command's name must be 'static (owned names need clap's "string" feature, which would
    // reach the app's clap too); a few bytes leaked by a tool that runs once are the lesser cost.
    let name: &'static str = cmd.get_name().to_owned().leak();
    let mut out = clap::Command::new(name)
        .disable_help_flag(true)
        .disable_version_flag(true)
        .disable_help_subcommand(true)
        .args(cmd.get_arguments().filter(|a| !a.is_hide_set()).cloned())
        .subcommands(
            cmd.get_subcommands()
                .filter(|s| !s.is_hide_set())
                .map(without_hidden),
        );
    if let Some(version) = cmd.get_version() {
        let version: &'static str = version.to_owned().leak();
        out = out.version(version);
    }
    if let Some(about) = cmd.get_about() {
        out = out.about(about.clone());
    }
    out
}

/// Every page's name with its command: `mailcfg` itself (None), then `mailcfg-validate`, … for
/// each command that `mailcfg --help` lists.
fn pages(cmd: &clap::Command) -> Vec<(String, Option<clap::Command>)> {
    let mut all = vec![("mailcfg".to_owned(), None)];
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        all.push((format!("mailcfg-{}", sub.get_name()), Some(sub.clone())));
    }
    all
}

fn man_page(
    top: &clap::Command,
    sub: Option<&clap::Command>,
    pages: &[(String, Option<clap::Command>)],
) -> io::Result<Vec<u8>> {
    // "0.1.0 (abfd79f 2026-12-01)": the page is dated by the commit, so a rebuild of the same
    // commit makes the same page (reproducible builds).
    let version = top.get_version().unwrap_or_default();
    let number = version.split(' ').next().unwrap_or_default();
    let date = version
        .trim_end_matches(')')
        .rsplit(' ')
        .next()
        .filter(|d| d.len() == 10 && d.as_bytes()[4] == b'-')
        .unwrap_or_default();
    let cmd = sub.unwrap_or(top).clone();
    let name = cmd
        .get_display_name()
        .unwrap_or_else(|| cmd.get_name())
        .to_owned();
    let man = clap_mangen::Man::new(cmd.clone())
        .title(name.to_uppercase())
        .date(date)
        .source(format!("mailcfg {number}"))
        .manual("User Commands");
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    if cmd.get_arguments().any(|a| !a.is_hide_set()) {
        man.render_options_section(&mut out)?;
    }
    if cmd.has_subcommands() {
        man.render_subcommands_section(&mut out)?;
    }
    let mut roff = Roff::new();
    if let Some(text) = cmd.get_after_long_help().or_else(|| cmd.get_after_help()) {
        closing_sections(&mut roff, &text.to_string());
    }
    see_also(&mut roff, &name, pages);
    if sub.is_none() {
        roff.control("SH", ["VERSION"]).text([roman(version)]);
    }
    out.write_all(roff.render().as_bytes())?;
    // Each part above opens with the same two lines that make `'` print as an apostrophe: once
    // at the top is enough.
    let text = String::from_utf8_lossy(&out).replace(APOSTROPHE, "");
    Ok(format!("{APOSTROPHE}{text}").into_bytes())
}

/// What roff's `render` puts before every part.
const APOSTROPHE: &str = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n";

/// The `Heading:` paragraphs of an `after_long_help`. A line `  TAG  text` (two spaces or more
/// after the tag) is a tagged paragraph, a more deeply indented line continues the one above, and
/// other lines make up plain paragraphs. Examples are kept verbatim. "See also" is left to
/// [`see_also`], which names the pages.
fn closing_sections(roff: &mut Roff, text: &str) {
    for block in text.split("\n\n") {
        let mut lines = block.lines();
        let Some(heading) = lines.next().and_then(|h| h.strip_suffix(':')) else {
            continue;
        };
        let title = match heading {
            "Example" | "Examples" => "EXAMPLES".to_owned(),
            "See also" => continue,
            other => other.to_uppercase(),
        };
        roff.control("SH", [title.as_str()]);
        if title == "EXAMPLES" {
            roff.control("RS", []).control("nf", []);
            for line in lines {
                roff.text([roman(line.trim_start())]);
            }
            roff.control("fi", []).control("RE", []);
            continue;
        }
        let mut para = String::new();
        let mut tag: Option<String> = None;
        for line in lines {
            let body = line.trim_start();
            let indent = line.len() - body.len();
            if indent > 2 {
                para.push(' ');
                para.push_str(body);
            } else if let Some((t, rest)) = body.split_once("  ") {
                flush(roff, tag.take(), &mut para);
                tag = Some(t.to_owned());
                para.push_str(rest.trim_start());
            } else if tag.is_some() {
                flush(roff, tag.take(), &mut para);
                para.push_str(body);
            } else {
                if !para.is_empty() {
                    para.push(' ');
                }
                para.push_str(body);
            }
        }
        flush(roff, tag, &mut para);
    }
}

fn flush(roff: &mut Roff, tag: Option<String>, para: &mut String) {
    if para.is_empty() {
        return;
    }
    match tag {
        Some(t) => roff
            .control("TP", [])
            .text([bold(t)])
            .text([roman(para.as_str())]),
        None => roff.control("PP", []).text([roman(para.as_str())]),
    };
    para.clear();
}

/// The other pages: every command's from mailcfg(1), mailcfg(1) and the sibling commands' from
/// each command's.
fn see_also(roff: &mut Roff, this: &str, pages: &[(String, Option<clap::Command>)]) {
    let others: Vec<&str> = pages
        .iter()
        .map(|(p, _)| p.as_str())
        .filter(|p| *p != this)
        .collect();
    roff.control("SH", ["SEE ALSO"]);
    let mut line = Vec::new();
    for (i, page) in others.iter().enumerate() {
        line.push(bold(*page));
        line.push(roman(if i + 1 == others.len() {
            "(1)"
        } else {
            "(1), "
        }));
    }
    roff.text(line);
    roff.control("PP", []).text([
        roman("The README, the changelog and the examples: "),
        italic("/usr/share/doc/mailcfg/"),
        roman("."),
    ]);
}
