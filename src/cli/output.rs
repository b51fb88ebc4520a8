//! Everything the command line prints goes through here: every known secret masked
//! ([`crate::redact::mask`]), control characters escaped (a server's reply or a profile's name
//! cannot set the window title, clear the screen or overwrite a line with a fake `ok`; JSON gets
//! `\u` escapes), colour only from our own status words. A reader that went away (`| head -1`,
//! EPIPE) ends the program quietly with [`EXIT_PIPE`], as a Unix tool killed by SIGPIPE; any other
//! failed write (a full disk, `> /dev/full`) ends it with an error on stderr and exit 1, so that
//! no output is lost silently and nothing panics.

use std::io::{self, Write as _};

use crate::probe::Status;
use crate::redact;

/// The exit status after stdout's reader went away: 128 + SIGPIPE, what a shell reports for a
/// tool that SIGPIPE ended.
pub const EXIT_PIPE: u8 = 141;

/// Part of a line: text (escaped), or a status word of ours (painted on a terminal).
pub enum Part<'a> {
    Text(&'a str),
    Status(Status),
}

/// Human text to stdout (one or more lines; a line end is added).
pub fn out(text: &str) {
    write_out(&format!("{}\n", redact::escape(&redact::mask(text), true)));
}

/// Human text to stderr.
pub fn err(text: &str) {
    let line = format!("{}\n", redact::escape(&redact::mask(text), true));
    // Nowhere to report a failure to write to stderr: the exit status still says how it went.
    let mut e = io::stderr().lock();
    let _ = e.write_all(line.as_bytes());
    let _ = e.flush();
}

/// One JSON object to stdout, on one line: strings masked, C1 controls escaped.
pub fn json(mut value: serde_json::Value) {
    redact::mask_json(&mut value);
    let text = serde_json::to_string(&value).unwrap_or_default();
    write_out(&format!("{}\n", redact::escape_json_text(&text)));
}

/// Data the user asked for, as it is (an export, `--show-token`'s token): not masked or escaped.
pub fn data(text: &str) {
    write_out(text);
}

/// A line of parts; `color`: paint the status words.
pub fn line(parts: &[Part<'_>], color: bool) {
    let mut out = String::new();
    for p in parts {
        match p {
            Part::Text(t) => out.push_str(&redact::escape(&redact::mask(t), true)),
            Part::Status(s) => out.push_str(&paint(*s, color)),
        }
    }
    out.push('\n');
    write_out(&out);
}

fn paint(status: Status, color: bool) -> String {
    let (code, text) = match status {
        Status::Ok => ("32", "ok"),
        Status::Warning => ("33", "warning"),
        Status::Failed => ("31;1", "FAILED"),
        Status::Skipped => ("2", "skipped"),
        Status::Running => ("2", "running"),
    };
    if color {
        format!("\x1b[{code}m{text:<7}\x1b[0m")
    } else {
        format!("{text:<7}")
    }
}

fn write_out(text: &str) {
    let mut o = io::stdout().lock();
    let result = o.write_all(text.as_bytes()).and_then(|()| o.flush());
    drop(o);
    if let Err(e) = result {
        failed_write(&e);
    }
}

/// Ends the program after a failed write to stdout.
fn failed_write(e: &io::Error) -> ! {
    if e.kind() == io::ErrorKind::BrokenPipe {
        std::process::exit(i32::from(EXIT_PIPE));
    }
    err(&format!(
        "mailcfg: error: cannot write to standard output: {e}\n    fix: free some space, or send the output elsewhere"
    ));
    std::process::exit(i32::from(super::EXIT_FAILED));
}

/// `say!("…", args)`: [`out`] with formatting.
macro_rules! say {
    ($($t:tt)*) => { $crate::cli::output::out(&format!($($t)*)) };
}

/// `tell!("…", args)`: [`err`] with formatting.
macro_rules! tell {
    ($($t:tt)*) => { $crate::cli::output::err(&format!($($t)*)) };
}

pub(crate) use {say, tell};
