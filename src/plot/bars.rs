//! Grouped bar charts (one group per intervention, one bar per measure), each bar with its
//! value written above it.

use plotters::prelude::{ChartBuilder, Rectangle};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, IntoFont, RGBColor, TextStyle};

use super::axis::{tick_label, Axis, Scale};
use super::canvas::Area;
use super::frame::{self, X_LABEL_AREA, Y_LABEL_AREA};
use super::legend::{Entry, Swatch};
use super::style::{FONT, LEGEND_SIZE};
use crate::Result;

#[derive(Clone, Debug)]
pub struct BarSeries {
    pub label: String,
    pub color: RGBColor,
    /// One value per group; NaN leaves the bar out.
    pub values: Vec<f64>,
}

#[derive(Clone, Debug)]
pub struct Bars {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub groups: Vec<String>,
    pub series: Vec<BarSeries>,
    /// Fixed limits; None runs from 0 to the largest value.
    pub y_range: Option<(f64, f64)>,
    /// Write values as percentages (accuracies).
    pub percent: bool,
}

impl Bars {
    pub fn has_data(&self) -> bool {
        self.series.iter().flat_map(|s| &s.values).any(|v| v.is_finite())
    }

    pub fn draw(&self, area: &Area) -> Result<()> {
        let legend: Vec<Entry> = self.series.iter().map(|s| Entry { swatch: Swatch::Box(s.color), label: s.label.clone() }).collect();
        let body = frame::panel_head(area, &self.title, &legend)?;
        if !self.has_data() {
            return frame::note(&body, "no values to draw");
        }
        let top = self.series.iter().flat_map(|s| &s.values).copied().filter(|v| v.is_finite()).fold(0.0, f64::max);
        let low = self.series.iter().flat_map(|s| &s.values).copied().filter(|v| v.is_finite()).fold(0.0, f64::min);
        // Headroom above the tallest bar for its value label.
        let (lo, hi) = self.y_range.unwrap_or((low * 1.15, if top > 0.0 { top * 1.15 } else { 1.0 }));
        let n = self.groups.len();
        let x = Axis::new(-0.5, n as f64 - 0.5, Scale::Index(self.groups.clone()));
        let mut chart = ChartBuilder::on(&body)
            .margin_left(12)
            .margin_top(8)
            .margin_bottom(8)
            .margin_right(40)
            .x_label_area_size(X_LABEL_AREA)
            .y_label_area_size(Y_LABEL_AREA)
            .build_cartesian_2d(x, Axis::new(lo, hi, Scale::Linear))?;
        frame::style_mesh(&mut chart.configure_mesh(), &self.x_label, &self.y_label).disable_x_mesh().x_labels(n.max(1)).draw()?;
        let plot = chart.plotting_area();
        let value_style = TextStyle::from((FONT, LEGEND_SIZE - 2).into_font()).pos(Pos::new(HPos::Center, VPos::Bottom));
        let width = 0.8 / self.series.len().max(1) as f64;
        for (s, series) in self.series.iter().enumerate() {
            for (g, &v) in series.values.iter().enumerate().filter(|(_, v)| v.is_finite()) {
                let x0 = g as f64 - 0.4 + s as f64 * width;
                let (x1, v) = (x0 + 0.9 * width, v.clamp(lo, hi));
                plot.draw(&Rectangle::new([(x0, 0f64.clamp(lo, hi)), (x1, v)], series.color.filled()))?;
                let text = if self.percent { format!("{:.1}%", 100.0 * v) } else { tick_label(v) };
                let (px, py) = plot.map_coordinate(&(0.5 * (x0 + x1), v.max(0.0)));
                plot.strip_coord_spec().draw_text(&text, &value_style, (px - plot.get_base_pixel().0, py - plot.get_base_pixel().1 - 4))?;
            }
        }
        Ok(())
    }
}
