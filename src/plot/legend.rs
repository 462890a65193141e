//! Legends drawn above a chart, never over its data: entries flow left to right and wrap
//! into as many rows as the panel's width needs.

use plotters::element::DashedPathElement;
use plotters::prelude::{Circle, PathElement, Rectangle};
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{Color, IntoFont, RGBColor, TextStyle};

use super::canvas::Area;
use super::style::{FONT, LEGEND_SIZE, TINT_ALPHA, YELLOW};
use crate::Result;

/// The small picture beside a legend label.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Swatch {
    Line(RGBColor),
    Dashed(RGBColor),
    Dot(RGBColor),
    /// A filled box (bars).
    Box(RGBColor),
    /// The shaded memorization → grokking region.
    Shade,
    /// A lightly tinted region (stage bands).
    Tint(RGBColor),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub swatch: Swatch,
    pub label: String,
}

const SWATCH_WIDTH: i32 = 44;
const ROW_HEIGHT: i32 = 32;
const PAD: i32 = 12;

fn text_style() -> TextStyle<'static> {
    TextStyle::from((FONT, LEGEND_SIZE).into_font()).pos(Pos::new(HPos::Left, VPos::Center))
}

/// Each entry's (row, x offset) in a legend `width` pixels wide.
fn layout(area: &Area, entries: &[Entry], width: i32) -> Result<Vec<(i32, i32)>> {
    let style = text_style();
    let mut places = Vec::with_capacity(entries.len());
    let (mut row, mut x) = (0, PAD);
    for e in entries {
        let text = area.estimate_text_size(&e.label, &style)?.0 as i32;
        let w = SWATCH_WIDTH + 8 + text + 2 * PAD;
        if x > PAD && x + w > width {
            row += 1;
            x = PAD;
        }
        places.push((row, x));
        x += w;
    }
    Ok(places)
}

/// The height the legend of `entries` takes in `area` (0 for none).
pub fn height(area: &Area, entries: &[Entry]) -> Result<u32> {
    let width = area.dim_in_pixel().0 as i32;
    Ok(match layout(area, entries, width)?.last() {
        Some((rows, _)) => ((rows + 1) * ROW_HEIGHT + 14) as u32,
        None => 0,
    })
}

/// Draws `entries` in `area` (as tall as [`height`] said).
pub fn draw(area: &Area, entries: &[Entry]) -> Result<()> {
    let width = area.dim_in_pixel().0 as i32;
    let style = text_style();
    for (e, (row, x)) in entries.iter().zip(layout(area, entries, width)?) {
        let y = row * ROW_HEIGHT + ROW_HEIGHT / 2;
        let (a, b) = ((x, y), (x + SWATCH_WIDTH, y));
        match e.swatch {
            Swatch::Line(c) => area.draw(&PathElement::new(vec![a, b], c.stroke_width(4)))?,
            Swatch::Dashed(c) => area.draw(&DashedPathElement::new(vec![a, b], 10, 6, c.stroke_width(4)))?,
            Swatch::Dot(c) => area.draw(&Circle::new((x + SWATCH_WIDTH / 2, y), 7, c.filled()))?,
            Swatch::Box(c) => area.draw(&Rectangle::new([(x + 6, y - 10), (x + SWATCH_WIDTH - 6, y + 10)], c.filled()))?,
            Swatch::Shade => area.draw(&Rectangle::new([(x, y - 11), (x + SWATCH_WIDTH, y + 11)], YELLOW.mix(0.35).filled()))?,
            Swatch::Tint(color) => area.draw(&Rectangle::new([(x, y - 11), (x + SWATCH_WIDTH, y + 11)], color.mix(TINT_ALPHA).filled()))?,
        }
        area.draw_text(&e.label, &style, (x + SWATCH_WIDTH + 8, y))?;
    }
    Ok(())
}
