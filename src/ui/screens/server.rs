//! The one server form, for a mailbox (IMAP or POP3) and for an SMTP transport alike: name,
//! preset, host, port, encryption, user, how it signs in (an XOAuth2 account, or a password kept
//! in the keyring), then its connection test. The two differ in a few rows only.

use eframe::egui;

use super::{grid, header, probe_panel};
use crate::profile::presets::{self, Server as Preset};
use crate::profile::{Encryption, Mailbox, Protocol, Transport};
use crate::ui::action::{Action, Actions, Edit, Nav, TargetName, password_entry};
use crate::ui::fields::{Form, parse_port, parse_send_to};
use crate::ui::view::Ctx;
use crate::ui::widgets::{self, Note};

const ENCRYPTIONS: &[(Encryption, &str)] = &[
    (Encryption::Tls, "TLS (implicit)"),
    (Encryption::StartTls, "STARTTLS"),
    (Encryption::None, "None"),
];
const PROTOCOLS: &[(Protocol, &str)] = &[(Protocol::Imap, "IMAP"), (Protocol::Pop3, "POP3")];

/// A mailbox or a transport, as the form edits it.
#[derive(Clone, PartialEq)]
enum Server {
    Mailbox(Mailbox),
    Transport(Transport),
}

impl Server {
    fn parts(
        &mut self,
    ) -> (
        &mut String,
        &mut String,
        &mut u16,
        &mut Encryption,
        &mut Option<String>,
    ) {
        match self {
            Server::Mailbox(m) => (
                &mut m.name,
                &mut m.host,
                &mut m.port,
                &mut m.encryption,
                &mut m.account,
            ),
            Server::Transport(t) => (
                &mut t.name,
                &mut t.host,
                &mut t.port,
                &mut t.encryption,
                &mut t.account,
            ),
        }
    }

    fn presets(&self) -> &'static [Preset] {
        match self {
            Server::Mailbox(m) if m.protocol == Protocol::Pop3 => presets::POP3_SERVERS,
            Server::Mailbox(_) => presets::IMAP_SERVERS,
            Server::Transport(_) => presets::SMTP_SERVERS,
        }
    }

    fn needs_password(&self) -> bool {
        match self {
            Server::Mailbox(m) => m.account.is_none(),
            Server::Transport(t) => t.auth && t.account.is_none(),
        }
    }
}

pub fn show(ui: &mut egui::Ui, ctx: &mut Ctx<'_>, nav: Nav) -> Actions {
    let p = ctx.profile;
    let (kind, prefix, before) = match nav {
        Nav::Transport(i) => (
            "SMTP transport",
            format!("transports[{i}]"),
            Server::Transport(p.transports[i].clone()),
        ),
        Nav::Mailbox(i) => (
            "Mailbox",
            format!("mailboxes[{i}]"),
            Server::Mailbox(p.mailboxes[i].clone()),
        ),
        _ => return Actions::default(),
    };
    let mut s = before.clone();
    let name = s.parts().0.clone();
    let target = match &s {
        Server::Mailbox(_) => TargetName::Mailbox(name.clone()),
        Server::Transport(_) => TargetName::Transport(name.clone()),
    };
    let mut out = header(ui, kind, &name, nav);
    let accounts: Vec<String> = p.accounts.iter().map(|a| a.name.clone()).collect();
    let delegated = s
        .parts()
        .4
        .as_deref()
        .and_then(|a| p.account(a))
        .is_some_and(|a| a.flow != crate::profile::Flow::AppOnly);
    let input = &mut *ctx.input;
    let mut form = Form {
        fields: &mut input.fields,
        findings: ctx.findings,
        sources: ctx.sources,
        prefix,
        item: format!("{} \"{name}\"", kind.to_lowercase()),
    };
    let (secret, send_to) = (&mut input.secret, &mut input.send_to);
    let persistent = ctx.keyring.persistent;
    grid(ui, "server", |ui| {
        rows(ui, &mut form, &mut s, &accounts, delegated);
        if s.needs_password() {
            out.extend(password_row(ui, secret, &target, persistent));
        }
        if let Server::Transport(_) = s {
            let notes: Vec<Note> = parse_send_to(send_to)
                .err()
                .map(|why| Note::error(format!("this {why}")))
                .into_iter()
                .collect();
            let hint = "optional: an address that gets a short test message";
            widgets::text_row(ui, "Send test to", send_to, hint, &notes);
        }
    });
    if s != before {
        let edit = match (nav, s) {
            (Nav::Transport(i), Server::Transport(t)) => Some(Edit::Transport(i, t)),
            (Nav::Mailbox(i), Server::Mailbox(m)) => Some(Edit::Mailbox(i, m)),
            _ => None,
        };
        if let Some(e) = edit {
            out.push(Action::Edit(e));
        }
    }
    out.extend(probe_panel::show(ui, ctx, &target));
    out
}

/// `delegated`: the account signs a user in, so an empty user is the signed-in one.
fn rows(ui: &mut egui::Ui, f: &mut Form<'_>, s: &mut Server, accounts: &[String], delegated: bool) {
    let user_hint = if delegated {
        "empty: the signed-in user"
    } else {
        "the mailbox address, e.g. support@contoso.com"
    };
    f.text(ui, "name", "Name", s.parts().0, "");
    if let Server::Mailbox(m) = s {
        f.choice(ui, "protocol", "Protocol", &mut m.protocol, PROTOCOLS);
    }
    if let Some(chosen) = preset_row(ui, s.presets()) {
        let (_, host, port, encryption, _) = s.parts();
        (*host, *port, *encryption) = (chosen.host.to_owned(), chosen.port, chosen.encryption);
        f.forget("port");
    }
    let hint = s.presets().first().map_or("", |p| p.host);
    f.text(ui, "host", "Host", s.parts().1, hint);
    let port_hint = s
        .presets()
        .first()
        .map_or(String::new(), |p| p.port.to_string());
    f.parsed(ui, "port", "Port", s.parts().2, &port_hint, parse_port);
    f.choice(ui, "encryption", "Encryption", s.parts().3, ENCRYPTIONS);
    match s {
        Server::Transport(t) => {
            let l = ui.label("Authentication");
            ui.checkbox(&mut t.auth, "Sign in (SMTP AUTH)")
                .labelled_by(l.id);
            ui.end_row();
            f.opt(
                ui,
                "username",
                "Username",
                &mut t.username,
                if delegated {
                    user_hint
                } else {
                    "the mailbox that sends, e.g. support@contoso.com"
                },
            );
        }
        Server::Mailbox(m) => {
            f.text(ui, "user", "User", &mut m.user, user_hint);
        }
    }
    account_choice(ui, accounts, s.parts().4);
}

/// A preset picker that fills host, port and encryption.
fn preset_row(ui: &mut egui::Ui, servers: &[Preset]) -> Option<Preset> {
    let l = ui.label("Preset");
    let mut chosen = None;
    egui::ComboBox::from_id_salt("server-preset")
        .selected_text("Fill from a provider…")
        .width(220.0)
        .show_ui(ui, |ui| {
            for s in servers {
                if ui.selectable_label(false, s.label).clicked() {
                    chosen = Some(*s);
                }
            }
        })
        .response
        .labelled_by(l.id);
    ui.end_row();
    chosen
}

fn account_choice(ui: &mut egui::Ui, accounts: &[String], value: &mut Option<String>) {
    const NONE: &str = "(none: password)";
    let l = ui.label("XOAuth2 account");
    egui::ComboBox::from_id_salt("xoauth2-account")
        .selected_text(value.as_deref().unwrap_or(NONE))
        .width(220.0)
        .show_ui(ui, |ui| {
            for a in accounts {
                if ui
                    .selectable_label(value.as_deref() == Some(a), a)
                    .clicked()
                {
                    *value = Some(a.clone());
                }
            }
            if ui.selectable_label(value.is_none(), NONE).clicked() {
                *value = None;
            }
        })
        .response
        .labelled_by(l.id);
    ui.end_row();
}

/// A password for a server without OAuth2, masked, kept in the keyring (never the profile). The
/// buttons go under the field: a grid cell does not wrap. Without an OS keyring the words say
/// what really happens: kept for this session.
fn password_row(
    ui: &mut egui::Ui,
    input: &mut String,
    target: &TargetName,
    persistent: bool,
) -> Actions {
    let mut out = Actions::default();
    let l = ui.label("Password");
    let (hint, keep) = if persistent {
        ("kept in the OS keyring", "Save to keyring")
    } else {
        (
            "kept for this session only (no OS keyring)",
            "Keep for this session",
        )
    };
    ui.vertical(|ui| {
        let field = egui::TextEdit::singleline(input)
            .password(true)
            .hint_text(hint)
            .desired_width(260.0);
        ui.add(field).labelled_by(l.id);
        ui.horizontal(|ui| {
            let typed = !input.is_empty();
            if ui.add_enabled(typed, egui::Button::new(keep)).clicked() {
                let secret = std::mem::take(input);
                out.push(Action::StorePassword {
                    entry: password_entry(target),
                    secret: Some(secret.into()),
                });
            }
            let remove = ui
                .button("Remove")
                .on_hover_text("Delete the stored password");
            out.on(
                remove.clicked(),
                Action::StorePassword {
                    entry: password_entry(target),
                    secret: None,
                },
            );
        });
    });
    ui.end_row();
    out
}
