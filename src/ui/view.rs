//! What a screen is handed each frame: the state it draws, borrowed and read-only, and the forms'
//! own state (text as typed, the secret being entered), which only the screens change. Screens
//! never see the app itself; what they want done comes back as [`super::action::Actions`].

use std::collections::HashMap;
use std::time::SystemTime;

use super::fields::Fields;
use super::state::Runtime;
use super::widgets::Note;
use crate::profile::{Finding, Profile};

/// The forms' own state: what is typed but not (or not yet) part of the profile.
#[derive(Debug, Default)]
pub struct Input {
    pub fields: Fields,
    /// The client secret or password being typed (masked), never stored in the profile.
    pub secret: String,
    pub reveal_secret: bool,
    /// An address that gets a short test message when an SMTP transport is tested.
    pub send_to: String,
    /// "Set it up for me…" of one account, while open.
    pub setup: Option<super::screens::setup::SetupView>,
    /// The mailbox user each Google service account's token is got for ("Get token for").
    pub sign_in_user: HashMap<String, String>,
}

/// Where secrets are kept, for what the screens say about them.
#[derive(Debug, Clone, Copy)]
pub struct Keyring<'a> {
    /// Whether secrets outlive this session (an OS keyring answered).
    pub persistent: bool,
    /// Said where they don't.
    pub notice: Option<&'a str>,
}

pub struct Ctx<'a> {
    pub profile: &'a Profile,
    /// The profile's findings (its own rules), for the fields.
    pub findings: &'a [Finding],
    /// Where a discovered draft's values came from, by key, for under the fields.
    pub sources: &'a HashMap<String, Vec<Note>>,
    pub runtime: &'a Runtime,
    pub keyring: Keyring<'a>,
    pub now: SystemTime,
    pub input: &'a mut Input,
}
