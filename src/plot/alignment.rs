//! Seed 000 finding 2: alignment with the key frequencies, along the token axis (1D) and over
//! (token, hidden) (2D).

use std::path::Path;

use super::data::Run;
use super::lines::{Line, Panel};
use super::style::{BLUE, GREY, SKY, VERMILLION};
use super::{figure, Made};
use crate::Result;

pub fn alignment(run: &Run, path: &Path) -> Result<Made> {
    if let Err(why) = run.need(&["align_1d_key", "align_1d_top8", "align_2d", "align_2d_z"]) {
        return Ok(Made::Skipped(why));
    }
    let keys = run.key_freqs();
    let key_text = if keys.is_empty() { String::new() } else { format!(" k ∈ {{{}}}", keys.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")) };
    let shares = Panel::new("Share of W_E's energy in the key frequencies", "step", "energy share")
        .log_steps()
        .y_range(0.0, 1.02)
        .line(Line::new(format!("1D: key frequencies{key_text}"), run.series("align_1d_key"), BLUE))
        .line(Line::new("1D: 8 strongest frequencies", run.series("align_1d_top8"), SKY).dashed())
        .line(Line::new("2D: top 2·|key| (token, hidden) bins", run.series("align_2d"), VERMILLION))
        .band(run.grokking_band());
    let z = Panel::new("2D alignment against shuffled hidden units", "step", "z-score of 2D alignment")
        .log_steps()
        .line(Line::new("z vs 200 random column orders", run.series("align_2d_z"), VERMILLION))
        .level(0.0, "permutation mean (z = 0)", GREY)
        .band(run.grokking_band());
    figure(path, "Frequency alignment, 1D and 2D", &run.subtitle(), &[shares, z], 1)
}
