//! One axis type for every chart: linear, logarithmic, logarithmic in steps (step 0 shown),
//! or indexed (categories and heatmap columns), with its own tick placement and labels, so
//! that one drawing routine serves all scales and a log axis always gets ticks (plotters' own
//! log axis gives none on a range inside one decade).

use std::ops::Range;

use plotters::coord::ranged1d::{KeyPointHint, KeyPointWeight, NoDefaultFormatting, Ranged, ValueFormatter};
use plotters::coord::types::RangedCoordf64;

/// How values map to positions.
#[derive(Clone, Debug, PartialEq)]
pub enum Scale {
    Linear,
    /// log10; every value drawn on it must be > 0.
    Log,
    /// Training steps on a log scale that still shows step 0 (initialization, where most
    /// analyses start): position log10(step + 1), ticks labelled with the step itself. Every
    /// value drawn on it must be > −1. Its axis label is [`STEP_LOG_LABEL`].
    LogStep,
    /// Positions 0..n−1, ticked at integers and labelled by `labels[i]`.
    Index(Vec<String>),
    /// Positions 0..n−1 standing for ascending steps (heatmap columns): ticked at the columns
    /// nearest to round steps, labelled by their step.
    Steps(Vec<f64>),
}

/// The label of a [`Scale::LogStep`] axis, saying how step 0 got onto a log scale.
pub const STEP_LOG_LABEL: &str = "step (log scale of step + 1)";

#[derive(Clone, Debug)]
pub struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub scale: Scale,
}

impl Axis {
    pub fn new(lo: f64, hi: f64, scale: Scale) -> Axis {
        Axis { lo, hi, scale }
    }

    /// The position of `v` along the axis before scaling to pixels.
    fn warp(&self, v: f64) -> f64 {
        self.scale.warp(v)
    }
}

impl Scale {
    /// Where `v` lies along an axis of this scale, before scaling to pixels.
    pub fn warp(&self, v: f64) -> f64 {
        match self {
            Scale::Log => v.log10(),
            Scale::LogStep => (v + 1.0).log10(),
            _ => v,
        }
    }

    /// The inverse of [`Scale::warp`].
    pub fn unwarp(&self, w: f64) -> f64 {
        match self {
            Scale::Log => 10f64.powf(w),
            Scale::LogStep => 10f64.powf(w) - 1.0,
            _ => w,
        }
    }

    /// Whether `v` has a position on this scale.
    pub fn shows(&self, v: f64) -> bool {
        v.is_finite()
            && match self {
                Scale::Log => v > 0.0,
                Scale::LogStep => v > -1.0,
                _ => true,
            }
    }

    pub fn is_logarithmic(&self) -> bool {
        matches!(self, Scale::Log | Scale::LogStep)
    }
}

impl Ranged for Axis {
    type FormatOption = NoDefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (a, b) = (self.warp(self.lo), self.warp(self.hi));
        let t = (self.warp(*value) - a) / (b - a);
        limit.0 + (t * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<f64> {
        let max = hint.max_num_points().max(2);
        let light = matches!(hint.weight(), KeyPointWeight::Any);
        match &self.scale {
            // Float steps can land a tick at ±1e-17 instead of 0; snap those to 0.
            Scale::Linear => RangedCoordf64::from(self.lo..self.hi)
                .key_points(hint)
                .into_iter()
                .map(|v| if v.abs() < 1e-9 * (self.hi - self.lo).abs() { 0.0 } else { v })
                .collect(),
            // Light grid lines on a log axis would crowd it; bold ticks only.
            Scale::Log | Scale::LogStep if light => vec![],
            Scale::Log => log_ticks(self.lo, self.hi, max),
            Scale::LogStep => log_step_ticks(self.lo, self.hi, max),
            Scale::Index(labels) => {
                let stride = labels.len().div_ceil(max).max(1);
                (0..labels.len()).step_by(stride).map(|i| i as f64).collect()
            }
            Scale::Steps(steps) => step_ticks(steps, max),
        }
    }

    fn range(&self) -> Range<f64> {
        self.lo..self.hi
    }
}

impl ValueFormatter<f64> for Axis {
    fn format_ext(&self, value: &f64) -> String {
        match &self.scale {
            Scale::Index(labels) => labels.get(value.round() as usize).cloned().unwrap_or_default(),
            Scale::Steps(steps) => steps.get(value.round() as usize).map_or_else(String::new, |s| tick_label(*s)),
            _ => tick_label(*value),
        }
    }
}

/// Column positions for round step values: the column nearest to each of the linear axis'
/// nice values over the steps' range, each column once.
fn step_ticks(steps: &[f64], max: usize) -> Vec<f64> {
    let (Some(&first), Some(&last)) = (steps.first(), steps.last()) else { return vec![] };
    if last <= first {
        return vec![0.0];
    }
    let nearest = |v: f64| (0..steps.len()).min_by(|&a, &b| (steps[a] - v).abs().total_cmp(&(steps[b] - v).abs())).unwrap_or(0);
    let mut columns: Vec<usize> = RangedCoordf64::from(first..last).key_points(max.min(8)).into_iter().map(nearest).collect();
    columns.dedup();
    columns.into_iter().map(|i| i as f64).collect()
}

/// Ticks of a [`Scale::LogStep`] axis: step 0 when in range, then the log axis' ticks from
/// step 1 on (thinned so that the two together stay within `max`).
pub fn log_step_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    let zero = lo <= 0.0 && hi >= 0.0;
    let mut ticks: Vec<f64> = zero.then_some(0.0).into_iter().collect();
    if hi > 1.0 {
        ticks.extend(log_ticks(lo.max(1.0), hi, max.saturating_sub(zero as usize).max(1)));
    }
    ticks
}

/// Ticks of a log axis: decades, or 1-2-5, 1-2-3-5 or 1..9 multiples when few decades are in range,
/// thinned to at most `max`; linear ticks when even those give fewer than two.
pub fn log_ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    let (first, last) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    let candidates = |mults: &[f64]| -> Vec<f64> {
        (first..=last).flat_map(|e| mults.iter().map(move |m| m * 10f64.powi(e))).filter(|v| *v >= lo * (1.0 - 1e-9) && *v <= hi * (1.0 + 1e-9)).collect()
    };
    for mults in [&[1.0][..], &[1.0, 2.0, 5.0], &[1.0, 2.0, 3.0, 5.0], &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]] {
        let ticks = candidates(mults);
        if ticks.len() >= 3 || (mults.len() == 9 && ticks.len() >= 2) {
            let stride = ticks.len().div_ceil(max).max(1);
            return ticks.into_iter().step_by(stride).collect();
        }
    }
    RangedCoordf64::from(lo..hi).key_points(max.min(5))
}

/// A short tick label: 0.25, 3, 1500, 20k, 1.5M, 1e-4, 1e12.
pub fn tick_label(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".to_string()
    } else if !(1e-3..1e9).contains(&a) {
        let e = a.log10().floor() as i32;
        let m = v / 10f64.powi(e);
        if (m.abs() - 1.0).abs() < 1e-9 {
            format!("{}1e{e}", if v < 0.0 { "-" } else { "" })
        } else {
            format!("{}e{e}", trim(m, 1))
        }
    } else if a >= 1e6 {
        format!("{}M", trim(v / 1e6, 2))
    } else if a >= 1e4 {
        format!("{}k", trim(v / 1e3, 1))
    } else {
        trim(v, (3 - a.log10().floor() as i32).clamp(0, 6) as usize)
    }
}

/// `v` with at most `decimals` decimals and no trailing zeros.
fn trim(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    if s == "-0" {
        "0".to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_span_decades_or_fall_back_to_multiples() {
        assert_eq!(log_ticks(10.0, 100_000.0, 10), vec![10.0, 100.0, 1000.0, 10_000.0, 100_000.0]);
        assert_eq!(log_ticks(50.0, 1500.0, 10), vec![50.0, 100.0, 200.0, 500.0, 1000.0]);
        assert_eq!(log_ticks(20.0, 90.0, 10), vec![20.0, 30.0, 50.0]);
        assert_eq!(log_ticks(22.0, 45.0, 10), vec![30.0, 40.0]);
        assert_eq!(log_ticks(550.0, 3200.0, 10), vec![1000.0, 2000.0, 3000.0]);
        assert_eq!(log_ticks(1e-8, 1e4, 5).len(), 5);
        assert!(log_ticks(1.01, 1.02, 5).len() >= 2);
    }

    #[test]
    fn a_log_step_axis_shows_step_0() {
        assert_eq!(log_step_ticks(0.0, 100_000.0, 10), vec![0.0, 1.0, 10.0, 100.0, 1000.0, 10_000.0, 100_000.0]);
        assert_eq!(log_step_ticks(-0.2, 1000.0, 4), vec![0.0, 1.0, 100.0]);
        assert_eq!(log_step_ticks(50.0, 1500.0, 10), log_ticks(50.0, 1500.0, 10));
        let axis = Axis::new(0.0, 999.0, Scale::LogStep);
        assert_eq!((axis.map(&0.0, (0, 300)), axis.map(&9.0, (0, 300)), axis.map(&99.0, (0, 300))), (0, 100, 200));
        assert!(Scale::LogStep.shows(0.0) && !Scale::Log.shows(0.0) && !Scale::LogStep.shows(-1.0));
        assert!((Scale::LogStep.unwarp(Scale::LogStep.warp(42.0)) - 42.0).abs() < 1e-9);
    }

    #[test]
    fn labels_are_short() {
        let got: Vec<String> = [0.0, 0.25, 3.0, 1500.0, 20_000.0, 1.5e6, 250e6, 1e12, 2.5e15, 1e-4, 2.5e-5, 0.1 + 0.2, -0.5].iter().map(|&v| tick_label(v)).collect();
        assert_eq!(got, ["0", "0.25", "3", "1500", "20k", "1.5M", "250M", "1e12", "2.5e15", "1e-4", "2.5e-5", "0.3", "-0.5"]);
    }

    #[test]
    fn positions_are_linear_in_the_warped_value() {
        let log = Axis::new(10.0, 1000.0, Scale::Log);
        assert_eq!(log.map(&100.0, (0, 200)), 100);
        let lin = Axis::new(0.0, 1.0, Scale::Linear);
        assert_eq!(lin.map(&0.25, (100, 0)), 75);
        let around_zero = Axis::new(-0.11, 0.11, Scale::Linear);
        assert!(around_zero.key_points(7usize).iter().all(|v| *v == 0.0 || v.abs() > 1e-3), "{:?}", around_zero.key_points(7usize));
        let idx = Axis::new(-0.5, 2.5, Scale::Index(vec!["a".into(), "b".into(), "c".into()]));
        assert_eq!(idx.key_points(10usize), vec![0.0, 1.0, 2.0]);
        assert_eq!(idx.format_ext(&1.0), "b");
        let steps: Vec<f64> = (0..=1000).map(|i| 100.0 * i as f64).collect();
        let cols = Axis::new(-0.5, 1000.5, Scale::Steps(steps));
        let ticks = cols.key_points(8usize);
        let labels: Vec<String> = ticks.iter().map(|t| cols.format_ext(t)).collect();
        assert_eq!(labels, ["0", "20k", "40k", "60k", "80k", "100k"]);
    }
}
