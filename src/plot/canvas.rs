//! Rendering: an in-memory RGB bitmap drawn by plotters, encoded as PNG and written
//! atomically.

use std::path::Path;

use plotters::coord::Shift;
use plotters::drawing::{DrawingArea, DrawingAreaErrorKind};
use plotters::prelude::{BitMapBackend, IntoDrawingArea, WHITE};

use super::style::register_fonts;
use crate::io::write_atomic;
use crate::{Error, Result};

/// The drawing area of a figure.
pub type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

impl<E: std::error::Error + Send + Sync> From<DrawingAreaErrorKind<E>> for Error {
    fn from(e: DrawingAreaErrorKind<E>) -> Error {
        Error::msg(format!("drawing failed: {e}"))
    }
}

/// Draws a `width`×`height` figure on white with `draw` and writes it to `path` as PNG.
pub fn render(path: &Path, (width, height): (u32, u32), draw: impl FnOnce(&Area) -> Result<()>) -> Result<()> {
    register_fonts()?;
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
    }
    write_atomic(path, &encode_png(&rgb, width, height)?)
}

/// 8-bit RGB PNG of a row-major bitmap.
pub fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let fail = |e: png::EncodingError| Error::msg(format!("cannot encode PNG: {e}"));
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(fail)?;
    writer.write_image_data(rgb).map_err(fail)?;
    writer.finish().map_err(fail)?;
    Ok(bytes)
}
