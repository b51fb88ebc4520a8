//! Readable in both themes: text sizes, weak text and warnings with enough contrast on the light
//! panel (egui's light defaults put light grey on light grey and orange on white), and text
//! fields and buttons with a visible edge. Contrast is WCAG 2's ratio: 4.5 for text, 3 for edges.

use eframe::egui::{self, Color32, FontFamily, FontId, Stroke, TextStyle};

use super::action::Theme;

/// Sets the text sizes and both themes' colours, once.
pub fn install(ctx: &egui::Context) {
    ctx.all_styles_mut(|s| {
        s.text_styles = [
            (
                TextStyle::Small,
                FontId::new(11.5, FontFamily::Proportional),
            ),
            (TextStyle::Body, FontId::new(13.5, FontFamily::Proportional)),
            (
                TextStyle::Button,
                FontId::new(13.5, FontFamily::Proportional),
            ),
            (
                TextStyle::Heading,
                FontId::new(19.0, FontFamily::Proportional),
            ),
            (
                TextStyle::Monospace,
                FontId::new(13.0, FontFamily::Monospace),
            ),
        ]
        .into();
    });
    ctx.style_mut_of(egui::Theme::Light, |s| {
        let v = &mut s.visuals;
        // Text darker than egui's grey 80, so that weak text can be lighter and still readable.
        v.widgets.noninteractive.fg_stroke.color = Color32::from_gray(35);
        v.weak_text_color = Some(Color32::from_gray(95));
        v.warn_fg_color = Color32::from_rgb(160, 72, 0);
        v.error_fg_color = Color32::from_rgb(190, 20, 20);
        v.hyperlink_color = Color32::from_rgb(0, 90, 180);
        v.widgets.inactive.bg_stroke = Stroke::new(1.0, Color32::from_gray(135));
    });
    ctx.style_mut_of(egui::Theme::Dark, |s| {
        let v = &mut s.visuals;
        // Text brighter than egui's grey 140, so that weak text can be dimmer and still readable.
        v.widgets.noninteractive.fg_stroke.color = Color32::from_gray(205);
        v.weak_text_color = Some(Color32::from_gray(150));
        v.warn_fg_color = Color32::from_rgb(255, 170, 70);
        v.error_fg_color = Color32::from_rgb(255, 110, 100);
        v.widgets.inactive.bg_stroke = Stroke::new(1.0, Color32::from_gray(110));
    });
}

pub fn set(ctx: &egui::Context, t: Theme) {
    ctx.set_theme(match t {
        Theme::System => egui::ThemePreference::System,
        Theme::Light => egui::ThemePreference::Light,
        Theme::Dark => egui::ThemePreference::Dark,
    });
}

/// WCAG 2 contrast ratio of two opaque colours (1 to 21).
#[cfg(test)]
fn contrast(a: Color32, b: Color32) -> f32 {
    fn lum(c: Color32) -> f32 {
        let ch = |v: u8| {
            let v = f32::from(v) / 255.0;
            if v <= 0.039_28 {
                v / 12.92
            } else {
                ((v + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * ch(c.r()) + 0.7152 * ch(c.g()) + 0.0722 * ch(c.b())
    }
    let (x, y) = (lum(a), lum(b));
    (x.max(y) + 0.05) / (x.min(y) + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_themes_are_readable() {
        let ctx = egui::Context::default();
        install(&ctx);
        for theme in [egui::Theme::Light, egui::Theme::Dark] {
            ctx.set_theme(theme);
            let s = ctx.style_of(theme);
            let v = &s.visuals;
            let bg = v.panel_fill;
            let (text, weak) = (v.text_color(), v.weak_text_color());
            assert!(
                contrast(text, bg) > contrast(weak, bg),
                "{theme:?}: weak text stands out more than text"
            );
            for (what, c, need) in [
                ("text", text, 7.0),
                ("weak text", v.weak_text_color(), 4.5),
                ("errors", v.error_fg_color, 4.5),
                ("warnings", v.warn_fg_color, 4.5),
                ("links", v.hyperlink_color, 4.5),
                ("text field edges", v.widgets.inactive.bg_stroke.color, 3.0),
            ] {
                let r = contrast(c, bg);
                assert!(
                    r >= need,
                    "{theme:?}: {what} {c:?} on {bg:?}: {r:.2} < {need}"
                );
            }
            assert!(
                v.widgets.inactive.bg_stroke.width >= 1.0,
                "{theme:?}: no field edge"
            );
            for style in [TextStyle::Small, TextStyle::Body, TextStyle::Monospace] {
                let size = style.resolve(&s).size;
                assert!(size >= 11.5, "{theme:?}: {style:?} is {size} px");
            }
            assert_eq!(
                TextStyle::Monospace.resolve(&s).family,
                FontFamily::Monospace
            );
        }
    }
}
