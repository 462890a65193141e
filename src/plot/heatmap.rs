//! Heatmaps: checkpoints along x, a second index (frequency k) along y, with a colour bar.
//! Viridis for values of one sign (or nearly: see [`MINOR_SIGN`]); a blue–white–vermillion
//! map with white at 0 when the values take both signs, each side spanning its own data.

use plotters::coord::ranged1d::Ranged;
use plotters::prelude::{ChartBuilder, PathElement, Rectangle};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, FontTransform, IntoFont, RGBColor, TextStyle};

use super::axis::{tick_label, Axis, Scale};
use super::canvas::Area;
use super::frame::{self, X_LABEL_AREA, Y_LABEL_AREA};
use super::style::{diverging, viridis, AXIS_LABEL_SIZE, BLACK, FONT, TICK_SIZE};
use crate::Result;

#[derive(Clone, Debug)]
pub struct Heatmap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// The step of each column, ascending.
    pub columns: Vec<f64>,
    /// One label per row, bottom to top.
    pub rows: Vec<String>,
    /// values[column][row]; NaN cells are drawn grey.
    pub values: Vec<Vec<f64>>,
    /// What the colour means.
    pub value_label: String,
    /// A sequential scale (viridis) even when the values take both signs: for quantities
    /// whose sign carries no meaning, such as a logarithm of power.
    pub sequential: bool,
}

const COLOUR_BAR_WIDTH: u32 = 230;
/// Space above and below the heatmap's plotting area (the colour bar lines up with it).
const PLOT_MARGIN: i32 = 8;
const NAN_COLOR: RGBColor = RGBColor(200, 200, 200);

/// Values of the minority sign reaching at most this fraction of the majority's extent are
/// noise around zero (a margin of −0.1 among margins up to 8): a diverging map would spend
/// half its colours on them, so the scale stays sequential and they take its low end.
const MINOR_SIGN: f64 = 0.05;

/// Colour scale of the finite values: (lo, hi, diverging around zero). Both limits come from
/// the data.
fn scale(values: &[Vec<f64>], sequential: bool) -> Option<(f64, f64, bool)> {
    let finite = values.iter().flatten().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold(None, |acc: Option<(f64, f64)>, v| Some(acc.map_or((v, v), |(a, b)| (a.min(v), b.max(v)))))?;
    let both_signs = -lo > MINOR_SIGN * hi && hi > MINOR_SIGN * -lo;
    if lo < 0.0 && hi > 0.0 && both_signs && !sequential {
        Some((lo, hi, true))
    } else if hi > lo {
        Some((lo, hi, false))
    } else {
        Some((lo - 0.5, hi + 0.5, false))
    }
}

fn colour(v: f64, (lo, hi, centred): (f64, f64, bool)) -> RGBColor {
    if !v.is_finite() {
        return NAN_COLOR;
    }
    if centred {
        // White at 0; each side runs to full colour at its own extreme.
        let t = if v < 0.0 { 0.5 * (v - lo) / -lo } else { 0.5 + 0.5 * v / hi };
        diverging(t.clamp(0.0, 1.0))
    } else {
        viridis((v - lo) / (hi - lo))
    }
}

impl Heatmap {
    pub fn has_data(&self) -> bool {
        scale(&self.values, self.sequential).is_some()
    }

    pub fn draw(&self, area: &Area) -> Result<()> {
        let body = frame::panel_head(area, &self.title, &[])?;
        let Some(range) = scale(&self.values, self.sequential) else {
            return frame::note(&body, "no values to draw");
        };
        let width = body.dim_in_pixel().0;
        let (main, bar) = body.split_horizontally(width.saturating_sub(COLOUR_BAR_WIDTH));
        let (n, m) = (self.columns.len(), self.rows.len());
        let x = Axis::new(-0.5, n as f64 - 0.5, Scale::Steps(self.columns.clone()));
        let y = Axis::new(-0.5, m as f64 - 0.5, Scale::Index(self.rows.clone()));
        let mut chart = ChartBuilder::on(&main)
            .margin_left(12)
            .margin_top(PLOT_MARGIN)
            .margin_bottom(PLOT_MARGIN)
            .margin_right(16)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(x, y)?;
        frame::style_mesh(&mut chart.configure_mesh(), &self.x_label, &self.y_label).disable_mesh().y_labels(12).draw()?;
        let plot = chart.plotting_area();
        for (i, column) in self.values.iter().enumerate() {
            for (j, &v) in column.iter().enumerate().take(m) {
                let (x, y) = (i as f64, j as f64);
                plot.draw(&Rectangle::new([(x - 0.5, y - 0.5), (x + 0.5, y + 0.5)], colour(v, range).filled()))?;
            }
        }
        self.draw_colour_bar(&bar, range)
    }

    /// The colour bar, drawn by hand so that its ticks and label sit to its right: a gradient
    /// as tall as the heatmap's plotting area, ticks at the linear axis' nice values.
    fn draw_colour_bar(&self, area: &Area, range: (f64, f64, bool)) -> Result<()> {
        const STEPS: i32 = 256;
        let (lo, hi, _) = range;
        let (width, height) = area.dim_in_pixel();
        let (top, bottom) = (PLOT_MARGIN, height as i32 - PLOT_MARGIN - X_LABEL_AREA as i32);
        let (left, right) = (24, 76);
        let y_of = |v: f64| bottom - ((v - lo) / (hi - lo) * f64::from(bottom - top)).round() as i32;
        for s in 0..STEPS {
            let (y0, y1) = (bottom - (bottom - top) * s / STEPS, bottom - (bottom - top) * (s + 1) / STEPS);
            let v = lo + (hi - lo) * (f64::from(s) + 0.5) / f64::from(STEPS);
            area.draw(&Rectangle::new([(left, y1), (right, y0)], colour(v, range).filled()))?;
        }
        area.draw(&Rectangle::new([(left, top), (right, bottom)], BLACK.stroke_width(1)))?;
        let label = TextStyle::from((FONT, TICK_SIZE).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        for v in Axis::new(lo, hi, Scale::Linear).key_points(7usize) {
            let y = y_of(v);
            area.draw(&PathElement::new(vec![(right, y), (right + 8, y)], BLACK.stroke_width(1)))?;
            area.draw_text(&tick_label(v), &label, (right + 12, y))?;
        }
        let desc = TextStyle::from((FONT, AXIS_LABEL_SIZE).into_font()).pos(Pos::new(HPos::Center, VPos::Center)).transform(FontTransform::Rotate90);
        area.draw_text(&self.value_label, &desc, (width as i32 - 28, (top + bottom) / 2))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_centre_signed_values_and_ignore_nan() {
        assert_eq!(scale(&[vec![1.0, f64::NAN], vec![3.0]], false), Some((1.0, 3.0, false)));
        assert_eq!(scale(&[vec![-1.0, 4.0]], false), Some((-1.0, 4.0, true)));
        assert_eq!(scale(&[vec![-1.0, 4.0]], true), Some((-1.0, 4.0, false)));
        // Mostly positive: the few small negatives do not make it diverging.
        assert_eq!(scale(&[vec![-0.2, 0.5, 8.0]], false), Some((-0.2, 8.0, false)));
        assert_eq!(scale(&[vec![-8.0, 0.3]], false), Some((-8.0, 0.3, false)));
        let range = (-1.0, 4.0, true);
        assert_eq!(colour(0.0, range), diverging(0.5));
        assert_eq!((colour(-1.0, range), colour(4.0, range)), (diverging(0.0), diverging(1.0)));
        assert_eq!(scale(&[vec![f64::NAN]], false), None);
        assert_eq!(scale(&[vec![2.0, 2.0]], false), Some((1.5, 2.5, false)));
        assert_eq!(colour(f64::INFINITY, (0.0, 1.0, false)), NAN_COLOR);
    }
}
