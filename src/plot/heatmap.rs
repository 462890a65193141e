//! Heatmaps: checkpoints along x, a second index (frequency k) along y, with a colour bar.
//! Viridis for values of one sign; a blue–white–vermillion map centred on 0 when the values
//! take both signs.

use plotters::prelude::{ChartBuilder, Rectangle};
use plotters::style::{Color, RGBColor};

use super::axis::{Axis, Scale};
use super::canvas::Area;
use super::frame::{self, X_LABEL_AREA, Y_LABEL_AREA};
use super::style::{diverging, viridis, AXIS_LABEL_SIZE, FONT, TICK_SIZE};
use crate::Result;

#[derive(Clone, Debug)]
pub struct Heatmap {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// One label per column (the checkpoint's step).
    pub columns: Vec<String>,
    /// One label per row, bottom to top.
    pub rows: Vec<String>,
    /// values[column][row]; NaN cells are drawn grey.
    pub values: Vec<Vec<f64>>,
    /// What the colour means.
    pub value_label: String,
}

const COLOUR_BAR_WIDTH: u32 = 230;
const NAN_COLOR: RGBColor = RGBColor(200, 200, 200);

/// Colour scale of the finite values: (lo, hi, centred on zero).
fn scale(values: &[Vec<f64>]) -> Option<(f64, f64, bool)> {
    let finite = values.iter().flatten().copied().filter(|v| v.is_finite());
    let (lo, hi) = finite.fold(None, |acc: Option<(f64, f64)>, v| Some(acc.map_or((v, v), |(a, b)| (a.min(v), b.max(v)))))?;
    if lo < 0.0 && hi > 0.0 {
        let m = lo.abs().max(hi);
        Some((-m, m, true))
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
    let t = (v - lo) / (hi - lo);
    if centred {
        diverging(t)
    } else {
        viridis(t)
    }
}

impl Heatmap {
    pub fn has_data(&self) -> bool {
        scale(&self.values).is_some()
    }

    pub fn draw(&self, area: &Area) -> Result<()> {
        let body = frame::panel_head(area, &self.title, &[])?;
        let Some(range) = scale(&self.values) else {
            return frame::note(&body, "no values to draw");
        };
        let width = body.dim_in_pixel().0;
        let (main, bar) = body.split_horizontally(width.saturating_sub(COLOUR_BAR_WIDTH));
        let (n, m) = (self.columns.len(), self.rows.len());
        let x = Axis::new(-0.5, n as f64 - 0.5, Scale::Index(self.columns.clone()));
        let y = Axis::new(-0.5, m as f64 - 0.5, Scale::Index(self.rows.clone()));
        let mut chart = ChartBuilder::on(&main)
            .margin_left(12)
            .margin_top(8)
            .margin_bottom(8)
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

    fn draw_colour_bar(&self, area: &Area, range: (f64, f64, bool)) -> Result<()> {
        let (lo, hi, _) = range;
        let mut chart = ChartBuilder::on(area)
            .margin_top(8)
            .margin_bottom(8)
            .margin_right(80)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(COLOUR_BAR_WIDTH - 120)
            .build_cartesian_2d(Axis::new(0.0, 1.0, Scale::Linear), Axis::new(lo, hi, Scale::Linear))?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(0)
            .y_labels(7)
            .y_desc(self.value_label.as_str())
            .label_style((FONT, TICK_SIZE))
            .axis_desc_style((FONT, AXIS_LABEL_SIZE))
            .draw()?;
        const STEPS: usize = 256;
        let plot = chart.plotting_area();
        for s in 0..STEPS {
            let (a, b) = (lo + (hi - lo) * s as f64 / STEPS as f64, lo + (hi - lo) * (s + 1) as f64 / STEPS as f64);
            plot.draw(&Rectangle::new([(0.0, a), (1.0, b)], colour(0.5 * (a + b), range).filled()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scales_centre_signed_values_and_ignore_nan() {
        assert_eq!(scale(&[vec![1.0, f64::NAN], vec![3.0]]), Some((1.0, 3.0, false)));
        assert_eq!(scale(&[vec![-1.0, 4.0]]), Some((-4.0, 4.0, true)));
        assert_eq!(scale(&[vec![f64::NAN]]), None);
        assert_eq!(scale(&[vec![2.0, 2.0]]), Some((1.5, 2.5, false)));
        assert_eq!(colour(f64::INFINITY, (0.0, 1.0, false)), NAN_COLOR);
    }
}
