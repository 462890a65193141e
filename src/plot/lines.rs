//! Line charts: a panel of series over steps, with an optional right axis, the shaded
//! memorization → grokking region, vertical event marks and horizontal reference levels.
//! Points a scale cannot show (NaN, ±∞, and values ≤ 0 on a log axis) break a line into
//! segments instead of being drawn at the edge.

use plotters::element::DashedPathElement;
use plotters::prelude::{ChartBuilder, Circle, PathElement, Rectangle};
use plotters::style::{Color, RGBColor};

use super::axis::{Axis, Scale, STEP_LOG_LABEL};
use super::canvas::Area;
use super::frame::{self, Plot, X_LABEL_AREA, Y_LABEL_AREA};
use super::legend::{Entry, Swatch};
use super::style::{AXIS_LABEL_SIZE, FONT, TICK_SIZE, TINT_ALPHA, YELLOW};
use crate::Result;

#[derive(Clone, Debug)]
pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub color: RGBColor,
    pub dashed: bool,
    /// Markers only, no connecting line.
    pub dots: bool,
    /// Drawn against the right axis.
    pub right: bool,
}

impl Line {
    pub fn new(label: impl Into<String>, points: Vec<(f64, f64)>, color: RGBColor) -> Line {
        Line { label: label.into(), points, color, dashed: false, dots: false, right: false }
    }

    pub fn dashed(self) -> Line {
        Line { dashed: true, ..self }
    }

    pub fn dots(self) -> Line {
        Line { dots: true, ..self }
    }

    pub fn right(self) -> Line {
        Line { right: true, ..self }
    }
}

/// A vertical dashed line at an event (`x`), named in the legend.
#[derive(Clone, Debug)]
pub struct Mark {
    pub x: f64,
    pub label: String,
    pub color: RGBColor,
}

/// A horizontal dotted reference line.
#[derive(Clone, Debug)]
pub struct Level {
    pub y: f64,
    pub label: String,
    pub color: RGBColor,
    pub right: bool,
}

/// A tinted x interval.
#[derive(Clone, Debug)]
pub struct Tint {
    pub from: f64,
    pub to: f64,
    pub color: RGBColor,
    pub label: String,
}

#[derive(Clone, Debug)]
pub struct YAxis {
    pub label: String,
    pub log: bool,
    /// Fixed limits; None fits the data.
    pub range: Option<(f64, f64)>,
}

#[derive(Clone, Debug)]
pub struct Panel {
    pub title: String,
    pub x_label: String,
    /// Linear, log, or log in steps ([`Scale::LogStep`]).
    pub x_scale: Scale,
    /// Fixed x limits (panels stacked in one figure share them); None fits the data.
    pub x_range: Option<(f64, f64)>,
    /// Names of the x positions 0, 1, … when x is a category (a setting like `task`).
    pub x_categories: Option<Vec<String>>,
    pub y: YAxis,
    pub y2: Option<YAxis>,
    pub lines: Vec<Line>,
    pub marks: Vec<Mark>,
    pub levels: Vec<Level>,
    /// The shaded x interval (memorization → grokking).
    pub band: Option<(f64, f64)>,
    /// Tinted x intervals with their legend labels (one legend entry per label).
    pub tints: Vec<Tint>,
    /// Leave room for a right axis this panel lacks, so that it lines up with a panel above
    /// or below that has one.
    pub right_gutter: bool,
}

impl Panel {
    pub fn new(title: impl Into<String>, x_label: impl Into<String>, y_label: impl Into<String>) -> Panel {
        Panel {
            title: title.into(),
            x_label: x_label.into(),
            x_scale: Scale::Linear,
            x_range: None,
            x_categories: None,
            y: YAxis { label: y_label.into(), log: false, range: None },
            y2: None,
            lines: vec![],
            marks: vec![],
            levels: vec![],
            band: None,
            tints: vec![],
            right_gutter: false,
        }
    }

    /// A log x axis of a quantity that is positive (a setting such as the weight decay).
    pub fn log_x(mut self) -> Panel {
        self.x_scale = Scale::Log;
        self
    }

    /// x is the training step on a log scale that shows step 0 ([`Scale::LogStep`]); the
    /// axis label says so.
    pub fn log_steps(mut self) -> Panel {
        self.x_scale = Scale::LogStep;
        self.x_label = STEP_LOG_LABEL.to_string();
        self
    }

    /// x is the index of a category, labelled by its name.
    pub fn categories(mut self, names: Vec<String>) -> Panel {
        self.x_categories = Some(names);
        self
    }

    pub fn log_y(mut self) -> Panel {
        self.y.log = true;
        self
    }

    pub fn y_range(mut self, lo: f64, hi: f64) -> Panel {
        self.y.range = Some((lo, hi));
        self
    }

    pub fn right_axis(mut self, label: impl Into<String>, log: bool, range: Option<(f64, f64)>) -> Panel {
        self.y2 = Some(YAxis { label: label.into(), log, range });
        self
    }

    pub fn line(mut self, line: Line) -> Panel {
        self.lines.push(line);
        self
    }

    pub fn mark(mut self, x: f64, label: impl Into<String>, color: RGBColor) -> Panel {
        self.marks.push(Mark { x, label: label.into(), color });
        self
    }

    pub fn level(mut self, y: f64, label: impl Into<String>, color: RGBColor) -> Panel {
        self.levels.push(Level { y, label: label.into(), color, right: false });
        self
    }

    pub fn band(mut self, band: Option<(f64, f64)>) -> Panel {
        self.band = band;
        self
    }

    pub fn tint(mut self, from: f64, to: f64, color: RGBColor, label: impl Into<String>) -> Panel {
        self.tints.push(Tint { from, to, color, label: label.into() });
        self
    }

    /// Whether any line has a point its axes can show.
    pub fn has_data(&self) -> bool {
        self.lines.iter().any(|l| l.points.iter().any(|&p| self.shows(l, p)))
    }

    fn y_axis_of(&self, line_right: bool) -> &YAxis {
        match (&self.y2, line_right) {
            (Some(y2), true) => y2,
            _ => &self.y,
        }
    }

    fn shows(&self, line: &Line, (x, y): (f64, f64)) -> bool {
        self.x_scale.shows(x) && visible(y, self.y_axis_of(line.right).log)
    }

    /// The x extent of the data this panel can show and of its marks (a run that diverged is
    /// marked where its losses are no longer numbers).
    pub fn data_x_range(&self) -> Option<(f64, f64)> {
        let data = self.lines.iter().flat_map(|l| l.points.iter().filter(|&&p| self.shows(l, p)).map(|p| p.0));
        let marks = self.marks.iter().map(|m| m.x).filter(|&x| self.x_scale.shows(x));
        bounds(data.chain(marks))
    }

    fn x_axis(&self) -> Option<Axis> {
        if let Some(names) = &self.x_categories {
            return Some(Axis::new(-0.5, names.len() as f64 - 0.5, Scale::Index(names.clone())));
        }
        let (lo, hi) = self.x_range.or_else(|| self.data_x_range())?;
        // Markers need room at the edges; lines may run to them.
        let margin = if self.lines.iter().any(|l| l.dots) { 0.04 } else { 0.01 };
        let (lo, hi) = pad_on(&self.x_scale, lo, hi, margin);
        Some(Axis::new(lo, hi, self.x_scale.clone()))
    }

    fn y_axis(&self, right: bool) -> Axis {
        let axis = self.y_axis_of(right);
        let scale = if axis.log { Scale::Log } else { Scale::Linear };
        if let Some((lo, hi)) = axis.range {
            return Axis::new(lo, hi, scale);
        }
        let ys = self.lines.iter().filter(|l| l.right == right).flat_map(|l| l.points.iter().filter(|&&p| self.shows(l, p)).map(|p| p.1));
        let levels = self.levels.iter().filter(|v| v.right == right && visible(v.y, axis.log)).map(|v| v.y);
        let (lo, hi) = bounds(ys.chain(levels)).unwrap_or((1.0, 10.0));
        let (lo, hi) = pad(lo, hi, axis.log, 0.05);
        Axis::new(lo, hi, scale)
    }

    fn legend(&self) -> Vec<Entry> {
        let mut entries: Vec<Entry> = self
            .lines
            .iter()
            .filter(|l| !l.label.is_empty() && l.points.iter().any(|&p| self.shows(l, p)))
            .map(|l| {
                let swatch = if l.dots {
                    Swatch::Dot(l.color)
                } else if l.dashed {
                    Swatch::Dashed(l.color)
                } else {
                    Swatch::Line(l.color)
                };
                let label = if l.right && self.y2.is_some() { format!("{} (right axis)", l.label) } else { l.label.clone() };
                Entry { swatch, label }
            })
            .collect();
        if self.band.is_some() {
            entries.push(Entry { swatch: Swatch::Shade, label: "memorization → grokking".to_string() });
        }
        for t in self.tints.iter().filter(|t| !t.label.is_empty()) {
            if !entries.iter().any(|e| e.label == t.label) {
                entries.push(Entry { swatch: Swatch::Tint(t.color), label: t.label.clone() });
            }
        }
        entries.extend(self.marks.iter().map(|m| Entry { swatch: Swatch::Dashed(m.color), label: m.label.clone() }));
        entries.extend(self.levels.iter().filter(|v| !v.label.is_empty()).map(|v| Entry { swatch: Swatch::Dashed(v.color), label: v.label.clone() }));
        entries
    }

    /// Draws the panel (title, legend, axes, data) into `area`.
    pub fn draw(&self, area: &Area) -> Result<()> {
        let body = frame::panel_head(area, &self.title, &self.legend())?;
        let Some(x) = self.x_axis().filter(|_| self.has_data()) else {
            return frame::note(&body, "no values to draw");
        };
        let mut builder = ChartBuilder::on(&body);
        let right = match (&self.y2, self.right_gutter) {
            (Some(_), _) => 12,
            (None, true) => 12 + Y_LABEL_AREA,
            (None, false) => 40,
        };
        builder.margin_left(12).margin_top(8).margin_bottom(8).margin_right(right);
        builder.x_label_area_size(X_LABEL_AREA).y_label_area_size(Y_LABEL_AREA);
        if self.y2.is_some() {
            builder.right_y_label_area_size(Y_LABEL_AREA);
        }
        let mut chart = builder.build_cartesian_2d(x.clone(), self.y_axis(false))?;
        match &self.y2 {
            None => {
                frame::style_mesh(&mut chart.configure_mesh(), &self.x_label, &self.y.label).draw()?;
                self.draw_layers(chart.plotting_area(), false)
            }
            Some(y2) => {
                // The right label area passes to the secondary axis here, so the left mesh
                // is drawn after this, or it would label both sides.
                let mut dual = chart.set_secondary_coord(x, self.y_axis(true));
                frame::style_mesh(&mut dual.configure_mesh(), &self.x_label, &self.y.label).draw()?;
                dual.configure_secondary_axes().y_desc(y2.label.as_str()).label_style((FONT, TICK_SIZE)).axis_desc_style((FONT, AXIS_LABEL_SIZE)).y_labels(7).draw()?;
                self.draw_layers(dual.plotting_area(), false)?;
                self.draw_layers(dual.secondary_plotting_area(), true)
            }
        }
    }

    /// Band and marks (once, under the left axis's layer), levels, then lines of one side.
    fn draw_layers(&self, plot: &Plot, right: bool) -> Result<()> {
        let (xr, yr) = (plot.as_coord_spec().x_spec().clone(), plot.as_coord_spec().y_spec().clone());
        if !right {
            for t in &self.tints {
                let (a, b) = (t.from.max(xr.lo), t.to.min(xr.hi));
                if a < b {
                    plot.draw(&Rectangle::new([(a, yr.lo), (b, yr.hi)], t.color.mix(TINT_ALPHA).filled()))?;
                }
            }
            if let Some((from, to)) = self.band {
                let (a, b) = (from.max(xr.lo), to.min(xr.hi));
                if a < b {
                    plot.draw(&Rectangle::new([(a, yr.lo), (b, yr.hi)], YELLOW.mix(0.3).filled()))?;
                }
            }
            for m in self.marks.iter().filter(|m| m.x >= xr.lo && m.x <= xr.hi) {
                plot.draw(&DashedPathElement::new(vec![(m.x, yr.lo), (m.x, yr.hi)], 12, 8, m.color.stroke_width(3)))?;
            }
        }
        for v in self.levels.iter().filter(|v| v.right == right && v.y >= yr.lo && v.y <= yr.hi) {
            plot.draw(&DashedPathElement::new(vec![(xr.lo, v.y), (xr.hi, v.y)], 6, 6, v.color.stroke_width(2)))?;
        }
        for line in self.lines.iter().filter(|l| l.right == right) {
            let clamp = |(x, y): (f64, f64)| (x.clamp(xr.lo, xr.hi), y.clamp(yr.lo, yr.hi));
            for segment in segments(&line.points, |p| self.shows(line, p)) {
                let pts: Vec<(f64, f64)> = segment.iter().copied().map(clamp).collect();
                if line.dots || pts.len() == 1 {
                    for &p in &pts {
                        plot.draw(&Circle::new(p, if line.dots { 6 } else { 3 }, line.color.filled()))?;
                    }
                } else if line.dashed {
                    plot.draw(&DashedPathElement::new(pts, 12, 7, line.color.stroke_width(3)))?;
                } else {
                    // Segment by segment: a polyline's miter joins spike far out of the chart
                    // where it turns back sharply (a scatter joined in order).
                    for pair in pts.windows(2) {
                        plot.draw(&PathElement::new(pair.to_vec(), line.color.stroke_width(3)))?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Whether a value can be drawn on a linear (or, with `log`, logarithmic) axis.
pub fn visible(v: f64, log: bool) -> bool {
    v.is_finite() && (!log || v > 0.0)
}

fn bounds(values: impl Iterator<Item = f64>) -> Option<(f64, f64)> {
    values.fold(None, |acc, v| match acc {
        None => Some((v, v)),
        Some((lo, hi)) => Some((lo.min(v), hi.max(v))),
    })
}

/// [`pad`] along the positions of `scale` (log10(step + 1) on a log-step axis).
fn pad_on(scale: &Scale, lo: f64, hi: f64, frac: f64) -> (f64, f64) {
    match scale {
        Scale::LogStep => {
            let (a, b) = pad(scale.warp(lo), scale.warp(hi), false, frac);
            (scale.unwarp(a), scale.unwarp(b))
        }
        _ => pad(lo, hi, scale.is_logarithmic(), frac),
    }
}

/// Widens [lo, hi] by `frac` of its span on each side (in log10 on a log axis), and gives a
/// single value a span of its own.
fn pad(lo: f64, hi: f64, log: bool, frac: f64) -> (f64, f64) {
    if log {
        let (a, b) = (lo.log10(), hi.log10());
        let (a, b) = if b - a < 1e-9 { (a - 0.5, b + 0.5) } else { (a, b) };
        let m = (b - a) * frac;
        (10f64.powf(a - m), 10f64.powf(b + m))
    } else {
        let (lo, hi) = if hi - lo <= 1e-12 * hi.abs().max(1e-300) { (lo - lo.abs().max(1.0) * 0.1, hi + hi.abs().max(1.0) * 0.1) } else { (lo, hi) };
        let m = (hi - lo) * frac;
        (lo - m, hi + m)
    }
}

/// Maximal runs of consecutive points that `keep` accepts.
fn segments(points: &[(f64, f64)], keep: impl Fn((f64, f64)) -> bool) -> Vec<&[(f64, f64)]> {
    points.split(|&p| !keep(p)).filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::style::GREY;

    #[test]
    fn invalid_points_split_lines() {
        let pts = [(1.0, 1.0), (2.0, f64::NAN), (3.0, 2.0), (4.0, 0.0), (5.0, 3.0), (6.0, 4.0)];
        let lin: Vec<usize> = segments(&pts, |p| visible(p.1, false)).iter().map(|s| s.len()).collect();
        assert_eq!(lin, [1, 4]);
        let log: Vec<usize> = segments(&pts, |p| visible(p.1, true)).iter().map(|s| s.len()).collect();
        assert_eq!(log, [1, 1, 2]);
    }

    #[test]
    fn ranges_fit_and_widen_degenerate_spans() {
        assert_eq!(pad(0.0, 1.0, false, 0.05), (-0.05, 1.05));
        let (lo, hi) = pad(3.0, 3.0, false, 0.0);
        assert!(lo < 3.0 && hi > 3.0);
        let (lo, hi) = pad(100.0, 100.0, true, 0.0);
        assert!((lo - 10f64.powf(1.5)).abs() < 1e-9 && (hi - 10f64.powf(2.5)).abs() < 1e-6);
        let points = vec![(0.0, 1.0), (10.0, 2.0), (1000.0, 3.0)];
        let panel = Panel::new("", "step", "loss").log_x().line(Line::new("a", points.clone(), GREY));
        let x = panel.x_axis().unwrap();
        assert!(x.lo > 9.0 && x.lo < 10.0, "step 0 is left off a log axis: {}", x.lo);
        let panel = Panel::new("", "step", "loss").log_steps().line(Line::new("a", points, GREY));
        let x = panel.x_axis().unwrap();
        assert!(x.lo < 0.0 && x.lo > -0.1 && x.hi > 1000.0, "a log-step axis keeps step 0: {} … {}", x.lo, x.hi);
        assert_eq!(panel.x_label, "step (log scale of step + 1)");
        assert!(Panel::new("", "", "").line(Line::new("", vec![(1.0, f64::NAN)], GREY)).x_axis().is_none());
    }
}
