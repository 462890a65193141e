//! The parts every figure shares: its title block, each panel's title and legend, axis
//! styling, and a note in place of a chart that has nothing to show.

use plotters::chart::MeshStyle;
use plotters::coord::cartesian::Cartesian2d;
use plotters::drawing::DrawingArea;
use plotters::prelude::BitMapBackend;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{IntoFont, RGBColor, TextStyle};

use super::axis::Axis;
use super::canvas::Area;
use super::legend::{self, Entry};
use super::style::{AXIS_LABEL_SIZE, BLACK, FONT, GREY, LIGHT_GREY, PANEL_TITLE_SIZE, SUBTITLE_SIZE, TICK_SIZE, TITLE_SIZE};
use crate::Result;

/// The data area of a chart with [`Axis`] on both sides.
pub type Plot<'a> = DrawingArea<BitMapBackend<'a>, Cartesian2d<Axis, Axis>>;

/// Label area sizes around a chart, in pixels.
pub const X_LABEL_AREA: u32 = 72;
pub const Y_LABEL_AREA: u32 = 112;

fn centred(size: u32, color: &'static RGBColor) -> TextStyle<'static> {
    TextStyle::from((FONT, size).into_font()).color(color).pos(Pos::new(HPos::Center, VPos::Top))
}

/// Draws the figure's title and subtitle at the top of `root`; returns the area below.
pub fn header<'a>(root: &Area<'a>, title: &str, subtitle: &str) -> Result<Area<'a>> {
    let width = root.dim_in_pixel().0 as i32;
    let height = if subtitle.is_empty() { 60 } else { 96 };
    let (head, body) = root.split_vertically(height);
    head.draw_text(title, &centred(TITLE_SIZE, &BLACK), (width / 2, 14))?;
    if !subtitle.is_empty() {
        head.draw_text(subtitle, &centred(SUBTITLE_SIZE, &GREY), (width / 2, 58))?;
    }
    Ok(body)
}

/// Draws a panel's title and its legend at the top of `area`; returns the area for the chart.
pub fn panel_head<'a>(area: &Area<'a>, title: &str, entries: &[Entry]) -> Result<Area<'a>> {
    let width = area.dim_in_pixel().0 as i32;
    let title_height = if title.is_empty() { 4 } else { PANEL_TITLE_SIZE as i32 + 30 };
    let (head, rest) = area.split_vertically(title_height);
    if !title.is_empty() {
        head.draw_text(title, &centred(PANEL_TITLE_SIZE, &BLACK), (width / 2, 18))?;
    }
    let legend_height = legend::height(&rest, entries)?;
    let (legend_area, chart) = rest.split_vertically(legend_height);
    let legend_area = legend_area.margin(0, 0, Y_LABEL_AREA as i32 - 12, 0);
    legend::draw(&legend_area, entries)?;
    Ok(chart)
}

/// A centred grey note where a chart would be.
pub fn note(area: &Area, text: &str) -> Result<()> {
    let (w, h) = area.dim_in_pixel();
    let style = TextStyle::from((FONT, AXIS_LABEL_SIZE).into_font()).color(&GREY).pos(Pos::new(HPos::Center, VPos::Center));
    area.draw_text(text, &style, (w as i32 / 2, h as i32 / 2))?;
    Ok(())
}

/// The house style of axes: tick and axis-label sizes, a light grid.
pub fn style_mesh<'a, 'b, 'c, 'm>(
    mesh: &'m mut MeshStyle<'a, 'b, Axis, Axis, BitMapBackend<'c>>,
    x_label: &str,
    y_label: &str,
) -> &'m mut MeshStyle<'a, 'b, Axis, Axis, BitMapBackend<'c>> {
    mesh.x_desc(x_label)
        .y_desc(y_label)
        .label_style((FONT, TICK_SIZE))
        .axis_desc_style((FONT, AXIS_LABEL_SIZE))
        .bold_line_style(LIGHT_GREY)
        .light_line_style(RGBColor(247, 247, 247))
        .x_labels(8)
        .y_labels(7)
        .x_label_offset(0)
}
