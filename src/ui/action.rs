//! What a screen can ask for. Screens draw borrowed state and return [`Actions`]; the app applies
//! them in one place ([`crate::ui::App::apply`]), as egui_demo_app's `Command` and rerun's
//! `SystemCommand` do. Nothing else changes the profile, starts a job or touches a file.

use std::path::PathBuf;

use eframe::egui;
use secrecy::SecretString;

use crate::engine::Pick;
use crate::export::ExportFormat;
use crate::profile::{Account, Mailbox, ProbeSettings, TlsSettings, Transport};

/// What the window shows: an item of the profile (by position) or one of the pages listed in
/// `screens::pages()` (by its id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Nav {
    Account(usize),
    Transport(usize),
    Mailbox(usize),
    Page(&'static str),
}

/// A mailbox or transport by name (names are unique in a valid profile): what the results of
/// connection tests are kept under. The settings a result was made with are kept with it (see
/// `state::Basis`); this is only the name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TargetName {
    Mailbox(String),
    Transport(String),
}

impl TargetName {
    pub fn name(&self) -> &str {
        match self {
            Self::Mailbox(n) | Self::Transport(n) => n,
        }
    }
}

/// Which kind of item to add.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Account,
    Transport,
    Mailbox,
}

/// A changed part of the profile, as a form drew it: the whole item, so that the consequences
/// (a renamed account's references, a new protocol's port) are worked out in one place.
// An edit carries the whole item (an account is the largest); a few a frame make its size no matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Edit {
    Account(usize, Account),
    Transport(usize, Transport),
    Mailbox(usize, Mailbox),
    Tls(TlsSettings),
    Probe(ProbeSettings),
}

/// Something that drops unsaved changes, and so waits for the user's word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pending {
    New,
    Open,
    Import,
    Quit,
}

/// The window's theme, kept in the window settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

/// One thing the user asked for.
// An edit carries the whole item; a few actions a frame make its size no matter.
#[allow(clippy::large_enum_variant)]
#[must_use]
#[derive(Debug, Clone)]
pub enum Action {
    Select(Nav),
    Edit(Edit),
    Add(Kind),
    Duplicate(Nav),
    Delete(Nav),
    Undo,
    /// Drop unsaved changes and go on (the answer to the unsaved-changes question).
    Discard(Pending),
    /// New, Open, Import or Quit: asks first when there are unsaved changes.
    Ask(Pending),
    Save,
    SaveAs,
    /// Save although the profile has errors (the answer to the question Save asked).
    SaveAnyway,
    Export(ExportFormat),
    SetExportHtml(bool),
    SetExportSecrets(bool),
    /// Ask for a file: a dialog, or where there is none, the path field.
    Pick(Pick),
    /// A path typed into the path field.
    PathTyped(Pick, PathBuf),
    CloseDialog,
    RestoreDraft(bool),
    SetTheme(Theme),
    /// Sign in with an account; `renew` asks the identity provider for a new token even when a
    /// cached one is still fresh.
    SignIn {
        account: String,
        renew: bool,
    },
    CancelSignIn(String),
    SignOut(String),
    StoreSecret {
        account: String,
        secret: SecretString,
    },
    RemoveSecret(String),
    /// A mailbox's or transport's password (`None` removes it), by keyring entry.
    StorePassword {
        entry: String,
        secret: Option<SecretString>,
    },
    /// Start the connection test of a mailbox or transport.
    Probe(TargetName),
    /// Test every mailbox and transport.
    ProbeAll,
    CancelProbe(TargetName),
    /// Stop every sign-in and connection test that waits (Esc).
    CancelAll,
    /// "I've done it: retest": a new token for each account involved, then these tests again.
    Retest(Vec<TargetName>),
    DismissSummary,
    /// "Set it up for me…": read the pasted result of the set-up script into the account (the
    /// IDs into the profile, the client secret into the keyring).
    SetupFill {
        account: String,
        pasted: SecretString,
    },
    /// After a fill: sign in with the account and test everything.
    SetupTest(String),
    /// What the start screen ("Start from an e-mail address") asked for.
    Start(crate::ui::screens::start::StartAction),
}

/// The actions of one frame of a screen, in the order they were asked for.
#[must_use]
#[derive(Debug, Default)]
pub struct Actions(Vec<Action>);

impl Actions {
    pub fn push(&mut self, a: Action) {
        self.0.push(a);
    }

    /// Pushes `a` when `clicked`: `out.on(ui.button("Save").clicked(), Action::Save)`.
    pub fn on(&mut self, clicked: bool, a: Action) {
        if clicked {
            self.0.push(a);
        }
    }

    pub fn extend(&mut self, other: Actions) {
        self.0.extend(other.0);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl IntoIterator for Actions {
    type Item = Action;
    type IntoIter = std::vec::IntoIter<Action>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<Action> for Actions {
    fn from(a: Action) -> Self {
        Self(vec![a])
    }
}

/// Ctrl+S, Ctrl+O, Ctrl+N and Esc.
pub fn shortcuts(ctx: &egui::Context) -> Vec<Action> {
    use egui::{Key, KeyboardShortcut, Modifiers};
    // Ctrl+Z in a text field is the field's own undo; elsewhere it undoes a delete.
    let typing = ctx.memory(|m| m.focused().is_some());
    ctx.input_mut(|i| {
        let mut out = Vec::new();
        let mut key = |k, a| {
            if i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, k)) {
                out.push(a);
            }
        };
        key(Key::S, Action::Save);
        key(Key::O, Action::Ask(Pending::Open));
        key(Key::N, Action::Ask(Pending::New));
        if !typing {
            key(Key::Z, Action::Undo);
        }
        if i.key_pressed(Key::Escape) {
            out.push(Action::CancelAll);
        }
        out
    })
}

/// The keyring entry of a mailbox's or transport's password.
pub fn password_entry(t: &TargetName) -> String {
    match t {
        TargetName::Mailbox(n) => crate::secrets::mailbox_entry(n),
        TargetName::Transport(n) => crate::secrets::transport_entry(n),
    }
}

/// The path field shown instead of a file dialog where none can be shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPrompt {
    pub pick: Pick,
    pub text: String,
    /// Why the native dialog is not used.
    pub why: String,
}

impl PathPrompt {
    pub fn new(pick: Pick, why: String, start: Option<PathBuf>) -> Self {
        Self {
            pick,
            text: start.map(|p| p.display().to_string()).unwrap_or_default(),
            why,
        }
    }
}
