//! Look of every figure: the embedded font, text sizes and colour-blind-safe
//! colours (Okabe–Ito for series, viridis and a blue–white–vermillion map for heatmaps).

use std::sync::OnceLock;

use plotters::style::{register_font, FontStyle, RGBColor};

use crate::{Error, Result};

/// DejaVu Sans (Bitstream Vera license, assets/fonts/DejaVuSans-LICENSE.txt), compiled in so
/// that figures render the same on machines without any system font.
const FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub const FONT: &str = "DejaVu Sans";

/// Text sizes in pixels: every label stays readable at 100% zoom.
pub const TITLE_SIZE: u32 = 32;
pub const SUBTITLE_SIZE: u32 = 22;
pub const PANEL_TITLE_SIZE: u32 = 26;
pub const AXIS_LABEL_SIZE: u32 = 24;
pub const TICK_SIZE: u32 = 20;
pub const LEGEND_SIZE: u32 = 20;

/// Registers the embedded font with plotters (once per process).
pub fn register_fonts() -> Result<()> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    if *REGISTERED.get_or_init(|| register_font(FONT, FontStyle::Normal, FONT_BYTES).is_ok()) {
        Ok(())
    } else {
        Err(Error::msg("the embedded font could not be loaded"))
    }
}

/// Okabe & Ito's palette, distinguishable under the common colour-vision deficiencies.
pub const BLUE: RGBColor = RGBColor(0, 114, 178);
pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
pub const GREEN: RGBColor = RGBColor(0, 158, 115);
pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
pub const SKY: RGBColor = RGBColor(86, 180, 233);
pub const PURPLE: RGBColor = RGBColor(204, 121, 167);
pub const BLACK: RGBColor = RGBColor(0, 0, 0);
/// Opacity of tinted regions (stage bands): light enough for lines to read on top.
pub const TINT_ALPHA: f64 = 0.18;
pub const YELLOW: RGBColor = RGBColor(240, 228, 66);
pub const GREY: RGBColor = RGBColor(110, 110, 110);
pub const LIGHT_GREY: RGBColor = RGBColor(225, 225, 225);

/// Series colours in order of use (yellow, weak on white, is kept for the shaded region).
pub const SERIES: [RGBColor; 7] = [BLUE, VERMILLION, GREEN, ORANGE, SKY, PURPLE, BLACK];

pub fn series_color(i: usize) -> RGBColor {
    SERIES[i % SERIES.len()]
}

const VIRIDIS: [(u8, u8, u8); 11] = [
    (68, 1, 84),
    (72, 36, 117),
    (65, 68, 135),
    (53, 95, 141),
    (42, 120, 142),
    (33, 145, 140),
    (34, 168, 132),
    (68, 190, 112),
    (122, 209, 81),
    (189, 223, 38),
    (253, 231, 37),
];

const DIVERGING: [(u8, u8, u8); 3] = [(0, 114, 178), (247, 247, 247), (213, 94, 0)];

fn interpolate(stops: &[(u8, u8, u8)], t: f64) -> RGBColor {
    let t = if t.is_finite() { t.clamp(0.0, 1.0) } else { 0.0 };
    let x = t * (stops.len() - 1) as f64;
    let i = (x.floor() as usize).min(stops.len() - 2);
    let f = x - i as f64;
    let mix = |a: u8, b: u8| (f64::from(a) + f * (f64::from(b) - f64::from(a))).round() as u8;
    let (a, b) = (stops[i], stops[i + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Viridis at t ∈ [0, 1] (dark purple → yellow).
pub fn viridis(t: f64) -> RGBColor {
    interpolate(&VIRIDIS, t)
}

/// Blue (t = 0) → near white (0.5) → vermillion (1), for signed values centred on 0.
pub fn diverging(t: f64) -> RGBColor {
    interpolate(&DIVERGING, t)
}

/// The i-th of n colours along viridis, stopping short of its pale yellow end so that every
/// line stands out on white.
pub fn ordered_color(i: usize, n: usize) -> RGBColor {
    viridis(if n <= 1 { 0.0 } else { 0.85 * i as f64 / (n - 1) as f64 })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_maps_hit_their_stops_and_clamp() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(2.0), viridis(1.0));
        assert_eq!(viridis(f64::NAN), viridis(0.0));
        assert_eq!(diverging(0.5), RGBColor(247, 247, 247));
        assert_eq!(viridis(0.05), RGBColor(70, 19, 101));
    }

    #[test]
    fn the_font_registers() {
        register_fonts().unwrap();
    }
}
