//! Small widgets the screens share: a labelled form row with its error under the field (the
//! label is the field's accessible name), choice boxes, status dots, copy buttons, code lines.

use eframe::egui::{self, Color32, RichText};

/// A form row in a two-column grid: the label, then the field with its errors and hints below.
/// Returns whether the field changed.
pub fn text_row(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut String,
    hint: &str,
    notes: &[Note],
) -> bool {
    let l = ui.label(label);
    let changed = ui
        .vertical(|ui| {
            let r = ui
                .add(
                    egui::TextEdit::singleline(value)
                        .hint_text(hint)
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(l.id);
            show_notes(ui, notes);
            r.changed()
        })
        .inner;
    ui.end_row();
    changed
}

/// An optional text value: empty means `None`.
pub fn opt_row(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut Option<String>,
    hint: &str,
    notes: &[Note],
) -> bool {
    let mut text = value.clone().unwrap_or_default();
    let changed = text_row(ui, label, &mut text, hint, notes);
    if changed {
        let t = text.trim();
        *value = (!t.is_empty()).then(|| t.to_owned());
    }
    changed
}

/// A choice among a closed set (provider, flow, encryption…), by their display names.
pub fn choice_row<T: Copy + PartialEq>(
    ui: &mut egui::Ui,
    label: &str,
    value: &mut T,
    options: &[(T, &str)],
    notes: &[Note],
) -> bool {
    let l = ui.label(label);
    let shown = options
        .iter()
        .find(|(v, _)| v == value)
        .map_or("", |(_, n)| n);
    let mut changed = false;
    ui.vertical(|ui| {
        let r = egui::ComboBox::from_id_salt(label)
            .selected_text(shown)
            .width(220.0)
            .show_ui(ui, |ui| {
                for (v, name) in options {
                    if ui.selectable_label(*value == *v, *name).clicked() && *value != *v {
                        *value = *v;
                        changed = true;
                    }
                }
            });
        r.response.labelled_by(l.id);
        show_notes(ui, notes);
    });
    ui.end_row();
    changed
}

/// How a note under a field speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Error,
    Warning,
    /// What to paste into an empty field and where to find it: not an error yet.
    Todo,
    /// Where a value came from (a discovered draft): information, drawn quietly.
    Source,
}

/// What is said under a field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub tone: Tone,
    pub text: String,
}

impl Note {
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            tone: Tone::Error,
            text: text.into(),
        }
    }
    pub fn warning(text: impl Into<String>) -> Self {
        Self {
            tone: Tone::Warning,
            text: text.into(),
        }
    }
    pub fn todo(text: impl Into<String>) -> Self {
        Self {
            tone: Tone::Todo,
            text: text.into(),
        }
    }
    pub fn source(text: impl Into<String>) -> Self {
        Self {
            tone: Tone::Source,
            text: text.into(),
        }
    }
}

/// The notes under a field, at the body's size (small text is hard to read in errors).
pub fn show_notes(ui: &mut egui::Ui, notes: &[Note]) {
    for n in notes {
        let color = match n.tone {
            Tone::Error => ui.visuals().error_fg_color,
            Tone::Warning => ui.visuals().warn_fg_color,
            Tone::Todo => ui.visuals().weak_text_color(),
            Tone::Source => ui.visuals().text_color(),
        };
        ui.add(egui::Label::new(RichText::new(&n.text).color(color)).wrap());
    }
}

/// A command or protocol line: monospace at the body's size, wrapping at its spaces (a PowerShell
/// parameter stays whole) and inside a word only when it is longer than the line (base64).
pub fn code(ui: &mut egui::Ui, text: &str) -> egui::Response {
    // Monospace alone: `.small()` after it would turn it back into the proportional font.
    // `wrap()`: in a row, a label otherwise extends (egui's default for horizontal layouts).
    ui.add(egui::Label::new(RichText::new(text).monospace()).wrap())
}

/// Prose that wraps at the space left in the row, breaking a long word (a base64 tag in a
/// greeting) rather than running off the edge.
pub fn wrapped(ui: &mut egui::Ui, text: &str) -> egui::Response {
    ui.add(egui::Label::new(text).wrap())
}

/// A copy button and its command line beside it.
pub fn command(ui: &mut egui::Ui, text: &str) {
    ui.horizontal_top(|ui| {
        copy_button(ui, "Copy", text);
        code(ui, text);
    });
}

/// The colours of a status.
pub fn status_color(ui: &egui::Ui, status: Dot) -> Color32 {
    let dark = ui.visuals().dark_mode;
    match status {
        Dot::None | Dot::Stale => ui.visuals().weak_text_color(),
        Dot::Running => Color32::from_rgb(80, 140, 230),
        Dot::Ok => {
            if dark {
                Color32::from_rgb(90, 200, 120)
            } else {
                Color32::from_rgb(20, 140, 60)
            }
        }
        Dot::Warning => ui.visuals().warn_fg_color,
        Dot::Failed => ui.visuals().error_fg_color,
    }
}

/// The state a sidebar dot or a step row shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Dot {
    #[default]
    None,
    Running,
    Ok,
    Warning,
    Failed,
    /// A result made with other settings than those shown now.
    Stale,
}

impl Dot {
    /// The word a screen reader says, and the hover text.
    pub fn word(self) -> &'static str {
        match self {
            Dot::None => "not tested",
            Dot::Running => "running",
            Dot::Ok => "ok",
            Dot::Warning => "warning",
            Dot::Failed => "failed",
            Dot::Stale => "stale: made with other settings",
        }
    }
}

/// A status mark, painted (the default fonts have no symbols for it). Its shape says the same
/// as its colour, for those who can't tell colours apart: ring (not tested), dot in a ring
/// (running), disc (ok), triangle (warning), cross (failed), hollow square (stale).
pub fn dot(ui: &mut egui::Ui, status: Dot) -> egui::Response {
    let size = ui.spacing().interact_size.y * 0.6;
    let (rect, resp) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    let c = status_color(ui, status);
    let p = ui.painter();
    let (center, r) = (rect.center(), size * 0.42);
    let stroke = egui::Stroke::new(1.6, c);
    match status {
        Dot::None => {
            p.circle_stroke(center, r * 0.8, stroke);
        }
        Dot::Running => {
            p.circle_stroke(center, r, stroke);
            p.circle_filled(center, r * 0.4, c);
        }
        Dot::Ok => {
            p.circle_filled(center, r, c);
        }
        Dot::Warning => {
            let pts = vec![
                center + egui::vec2(0.0, -r),
                center + egui::vec2(r, r * 0.8),
                center + egui::vec2(-r, r * 0.8),
            ];
            p.add(egui::Shape::convex_polygon(pts, c, egui::Stroke::NONE));
        }
        Dot::Stale => {
            let sq = egui::Rect::from_center_size(center, egui::vec2(r * 1.6, r * 1.6));
            p.rect_stroke(sq, 1.0, stroke, egui::StrokeKind::Middle);
        }
        Dot::Failed => {
            let s = egui::Stroke::new(2.4, c);
            p.line_segment([center + egui::vec2(-r, -r), center + egui::vec2(r, r)], s);
            p.line_segment([center + egui::vec2(-r, r), center + egui::vec2(r, -r)], s);
        }
    }
    resp.widget_info(|| egui::WidgetInfo::labeled(egui::Role::Label, true, status.word()));
    resp.on_hover_text(status.word())
}

/// A small "Copy" button that puts `text` on the clipboard.
pub fn copy_button(ui: &mut egui::Ui, label: &str, text: &str) {
    if ui
        .small_button(label)
        .on_hover_text("Copy to the clipboard")
        .clicked()
    {
        ui.ctx().copy_text(text.to_owned());
    }
}

/// A highlighted box (diagnosis, problems, notices).
pub fn callout(ui: &mut egui::Ui, error: bool, add: impl FnOnce(&mut egui::Ui)) {
    let v = ui.visuals();
    let accent = if error {
        v.error_fg_color
    } else {
        v.warn_fg_color
    };
    egui::Frame::group(ui.style())
        .stroke(egui::Stroke::new(1.5, accent))
        .fill(v.extreme_bg_color)
        .inner_margin(10.0)
        .show(ui, |ui| {
            ui.set_width(ui.available_width());
            add(ui);
        });
}

/// One expiry line ("Client secret expires on 2026-12-13, in 12 days"), its mark and colour the
/// state `mailcfg check` gives it with its default thresholds (warning under 30 days left,
/// critical under 7), so that the window and the monitoring say the same.
pub fn expiry(ui: &mut egui::Ui, what: &str, e: &crate::monitor::Expiry) {
    use crate::monitor::State;
    let mark = match e.state {
        State::Ok => Dot::Ok,
        State::Warning => Dot::Warning,
        State::Critical | State::Unknown => Dot::Failed,
    };
    let date = crate::oauth::claims::utc(u64::try_from(e.at).unwrap_or_default());
    let date = date.split(' ').next().unwrap_or_default().to_owned();
    let text = match e.days {
        d if d < 0 => format!("{what} expired on {date}, {} days ago", -d),
        0 => format!("{what} expires on {date}, today"),
        1 => format!("{what} expires on {date}, tomorrow"),
        d => format!("{what} expires on {date}, in {d} days"),
    };
    ui.horizontal_wrapped(|ui| {
        dot(ui, mark).on_hover_text(mark.word());
        let label = egui::RichText::new(text).color(status_color(ui, mark));
        ui.label(if mark == Dot::Ok {
            label
        } else {
            label.strong()
        });
    });
}

/// An evidence line as a sentence: "Because …", with a full stop unless it ends in one already
/// (a server's quoted words often do).
pub fn because(evidence: &str) -> String {
    let e = evidence.trim_end();
    if e.ends_with(['.', '!', '?']) || e.ends_with(".\"") {
        format!("Because {e}")
    } else {
        format!("Because {e}.")
    }
}
