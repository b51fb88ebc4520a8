//! `mailcfg` with no arguments opens the window; with a subcommand it runs headless.
#![cfg_attr(all(windows, not(debug_assertions)), windows_subsystem = "windows")]

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    // A panic message may quote a value: it goes out masked and escaped like everything else.
    std::panic::set_hook(Box::new(|info| {
        eprintln!(
            "mailcfg: internal error: {}",
            mailcfg::redact::clean(&info.to_string())
        );
    }));
    let cli = mailcfg::cli::Cli::parse();
    match cli.command {
        Some(command) => mailcfg::cli::run(command),
        None => match mailcfg::ui::run(&cli.window) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("mailcfg: cannot open the window: {e}");
                eprintln!(
                    "    fix: run it in a desktop session (DISPLAY or WAYLAND_DISPLAY set), or use the subcommands: mailcfg --help"
                );
                ExitCode::from(mailcfg::cli::EXIT_FAILED)
            }
        },
    }
}
