//! mailcfg sets up mail accounts that sign in with OAuth2 (SASL XOAUTH2 / OAUTHBEARER), proves that
//! they work, and exports their settings. One engine serves the window and the command line.
//!
//! A map of the crate, to read first:
//! - [`profile`]: the settings as types (connected accounts, SMTP transports, IMAP/POP3 mailboxes),
//!   provider presets, validation with file/line/key findings, atomic load and save. No network.
//! - [`provider`]: what each provider is, in one table: endpoints, scopes per flow, server
//!   presets, and Google's error catalogue and set-up steps. Pure data.
//! - [`files`]: reading and replacing only regular files, never past a size limit.
//! - [`redact`]: every secret of the run masked in every form, control characters escaped: what
//!   every output path (CLI, window, transcript, errors) passes through.
//! - [`secrets`]: client secrets, refresh tokens and passwords in the OS keyring (memory fallback).
//! - [`oauth`]: sign-in (client credentials, browser with PKCE, device code, refresh), token claims
//!   and the identity provider's errors explained.
//! - [`probe`]: the connection test of a mailbox (IMAP/POP3) or transport (SMTP), step by step
//!   (DNS, TCP, TLS, greeting, capabilities, sign-in, EXAMINE/STAT/RCPT), with a masked transcript
//!   and each failure as a typed symptom.
//! - [`export`]: the profile in other systems' formats (Thunderbird autoconfig, Cerb/CE/UM sheets,
//!   Exchange Online PowerShell, the set-up script for Azure Cloud Shell and its result read back,
//!   env lines) and import back. Pure: no files, no network.
//! - [`diagnosis`]: the one diagnosis: everything a run saw (token claims, every test's typed
//!   failure, the profile) through one rule table to the cause of each failure, with its evidence.
//! - [`checklist`]: the Azure and Exchange set-up steps, with the diagnosis's findings placed on them.
//! - [`monitor`]: `mailcfg check` for Nagios/Icinga and Prometheus: a run judged with the
//!   expiries (client secret, certificates) against thresholds, in the plugin and text formats.
//! - [`discover`]: from an e-mail address to a draft profile: MX, Microsoft tenant discovery,
//!   Thunderbird autoconfig and the ISPDB, SRV records, each field saying where it came from.
//! - [`cli`]: the `mailcfg` subcommands (`validate`, `token`, `secret`, `test`, `check`, `export`,
//!   `discover`, `setup-result`), exit codes.
//! - [`engine`]: the window's tokio runtime: sign-in, tests, keyring and file work off the UI
//!   thread, reported through a channel that wakes the window.
//! - [`ui`]: the egui/eframe window. It draws state and never opens a socket.

pub mod checklist;
pub mod cli;
pub mod diagnosis;
pub mod discover;
pub mod engine;
pub mod export;
pub mod files;
pub mod monitor;
pub mod oauth;
pub mod probe;
pub mod profile;
pub mod provider;
pub mod redact;
pub mod secrets;
pub mod ui;
