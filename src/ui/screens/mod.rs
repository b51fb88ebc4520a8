//! The screens of the central panel. Each draws from a borrowed [`Ctx`] and returns what the user
//! asked for. The profile's items have their forms (an account; a mailbox or transport, which
//! share one server form); everything else is a [`Page`], listed once in [`pages`]: adding a
//! screen is a file with a `Page` and a line there (it then has its sidebar entry and its
//! `--select` name).

mod account;
mod checklist;
mod google;
mod probe_panel;
mod server;
mod settings;
pub mod setup;
mod signin;
pub mod start;

use eframe::egui;

use super::action::{Actions, Nav};
use super::view::Ctx;

/// A screen of its own beside the profile's items (settings, and later the set-up helpers). It
/// keeps its own view state; what it wants done comes back as actions.
pub trait Page {
    /// Its name in [`Nav::Page`] and for `--select`.
    fn id(&self) -> &'static str;
    /// Its entry in the sidebar.
    fn title(&self) -> &str;
    fn show(&mut self, ui: &mut egui::Ui, ctx: &mut Ctx<'_>) -> Actions;
}

/// Every page, in the sidebar's order.
pub fn pages() -> Vec<Box<dyn Page>> {
    vec![Box::new(settings::Settings)]
}

/// The widest a form grows: past it, lines get hard to follow on a wide screen.
pub const MAX_WIDTH: f32 = 860.0;

/// The screen of what `nav` selects: one match on the navigation state.
pub fn show(
    ui: &mut egui::Ui,
    nav: Nav,
    ctx: &mut Ctx<'_>,
    pages: &mut [Box<dyn Page>],
) -> Actions {
    let p = ctx.profile;
    match nav {
        Nav::Account(i) if i < p.accounts.len() => account::show(ui, ctx, i),
        Nav::Transport(i) if i < p.transports.len() => server::show(ui, ctx, nav),
        Nav::Mailbox(i) if i < p.mailboxes.len() => server::show(ui, ctx, nav),
        Nav::Page(id) => match pages.iter_mut().find(|page| page.id() == id) {
            Some(page) => page.show(ui, ctx),
            None => nothing(ui),
        },
        _ => nothing(ui),
    }
}

fn nothing(ui: &mut egui::Ui) -> Actions {
    ui.heading("Nothing selected");
    ui.label("Choose or add a connected account, an SMTP transport or a mailbox on the left.");
    Actions::default()
}

/// The heading of an item's form, with Duplicate and Delete (Undo is in the status bar). The
/// buttons wrap under the heading where the panel is narrow.
fn header(ui: &mut egui::Ui, kind: &str, name: &str, nav: Nav) -> Actions {
    let mut out = Actions::default();
    ui.horizontal_wrapped(|ui| {
        ui.heading(format!("{kind}: {name}"));
        ui.add_space(12.0);
        out.on(
            ui.button("Duplicate").clicked(),
            super::action::Action::Duplicate(nav),
        );
        out.on(
            ui.button("Delete")
                .on_hover_text("Undo brings it back")
                .clicked(),
            super::action::Action::Delete(nav),
        );
    });
    ui.add_space(6.0);
    out
}

/// The two-column grid of a form.
fn grid(ui: &mut egui::Ui, id: &str, add: impl FnOnce(&mut egui::Ui)) {
    egui::Grid::new(id)
        .num_columns(2)
        .spacing([14.0, 8.0])
        .min_col_width(130.0)
        .show(ui, add);
}
