//! Events on the checkpoint series (docs/analyses.md § Events): memorization, grokking, and the
//! precursors that may announce grokking, each with its lead = grok_step − step.
//!
//! Records are the per-checkpoint JSON objects (metrics.jsonl joined with analysis.jsonl by
//! `step`), in step order.

use serde_json::{Map, Value};

pub type Record = Map<String, Value>;

/// Memorization: the first eval step with train_acc ≥ this.
pub const MEMORIZED_ACC: f64 = 0.99;
/// Grokking: the first eval step with val_acc ≥ this.
pub const GROKKED_ACC: f64 = 0.9;
/// A circuit crossover must hold for this many following checkpoints.
pub const CROSSOVER_HOLD: usize = 3;

/// (step, value) of every record holding `field` as a finite number.
pub fn series(records: &[Record], field: &str) -> Vec<(u64, f64)> {
    records
        .iter()
        .filter_map(|r| {
            let step = r.get("step")?.as_u64()?;
            let value = r.get(field)?.as_f64()?;
            value.is_finite().then_some((step, value))
        })
        .collect()
}

/// The first step whose value is ≥ `threshold`.
pub fn first_at_least(series: &[(u64, f64)], threshold: f64) -> Option<u64> {
    series.iter().find(|(_, v)| *v >= threshold).map(|&(s, _)| s)
}

/// `memorization_step`: the first eval step with train_acc ≥ 0.99.
pub fn memorization_step(records: &[Record]) -> Option<u64> {
    first_at_least(&series(records, "train_acc"), MEMORIZED_ACC)
}

/// `grok_step`: the first eval step with val_acc ≥ 0.9.
pub fn grok_step(records: &[Record]) -> Option<u64> {
    first_at_least(&series(records, "val_acc"), GROKKED_ACC)
}

/// n_eff's fall below its initial value means the embedding concentrates on few frequencies;
/// a fall smaller than this share of its top is noise, not a fall.
pub const MIN_FALL: f64 = 0.1;

/// n_eff half fall: with M the series' maximum before its (first) minimum m, the first step
/// after M at which the value has covered half the drop, ≤ (M + m)/2. None when the drop is
/// under 10% of M. n_eff starts near its maximum (a random embedding spreads its energy over
/// every frequency) and only falls, so its peak sits at step 0 and says nothing; the middle of
/// its fall is when the key frequencies take over the embedding.
pub fn half_fall_step(series: &[(u64, f64)]) -> Option<u64> {
    let bottom = series.iter().enumerate().fold(None, |best: Option<usize>, (i, &(_, v))| match best {
        Some(b) if series[b].1 <= v => Some(b),
        _ => Some(i),
    })?;
    let top = (0..=bottom).fold(0, |t, i| if series[i].1 > series[t].1 { i } else { t });
    let (high, low) = (series[top].1, series[bottom].1);
    if high - low < MIN_FALL * high.abs() {
        return None;
    }
    series[top..=bottom].iter().find(|(_, v)| *v <= 0.5 * (low + high)).map(|&(s, _)| s)
}

/// Circuit crossover: the first checkpoint with circuit_ratio ≥ 1 whose next 3 checkpoints
/// exist and stay ≥ 1.
pub fn crossover_step(ratio: &[(u64, f64)]) -> Option<u64> {
    (0..ratio.len().saturating_sub(CROSSOVER_HOLD))
        .find(|&i| ratio[i..=i + CROSSOVER_HOLD].iter().all(|&(_, r)| r >= 1.0))
        .map(|i| ratio[i].0)
}

/// Excluded-loss rise (*proposed*: docs/analyses.md names the event, not its rule): with m the
/// series' minimum and M its maximum after m, the first step after m at which the excluded
/// loss has covered half the rise, ≥ (m + M)/2. The minimum is taken first because the
/// excluded loss typically starts at its highest (≈ ln p at initialization), falls while the
/// network memorizes, and rises again once the key frequencies carry the answer. None if it
/// never rises after its minimum.
pub fn rise_step(series: &[(u64, f64)]) -> Option<u64> {
    let bottom = series.iter().enumerate().fold(None, |best: Option<usize>, (i, &(_, v))| match best {
        Some(b) if series[b].1 <= v => Some(b),
        _ => Some(i),
    })?;
    let top = (bottom..series.len()).fold(bottom, |t, i| if series[i].1 > series[t].1 { i } else { t });
    let (low, high) = (series[bottom].1, series[top].1);
    if high <= low {
        return None;
    }
    series[bottom..=top].iter().find(|(_, v)| *v >= 0.5 * (low + high)).map(|&(s, _)| s)
}

/// One precursor of grokking.
#[derive(Clone, Debug, PartialEq)]
pub struct Precursor {
    pub name: &'static str,
    pub step: Option<u64>,
    /// grok_step − step: positive when the precursor comes first.
    pub lead: Option<i64>,
}

/// The events of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct Events {
    pub memorization_step: Option<u64>,
    pub grok_step: Option<u64>,
    pub precursors: Vec<Precursor>,
}

impl Events {
    /// Precursors: `n_eff_half_fall`, `circuit_crossover`, `fsd_ceiling` (after memorization,
    /// first significant fsd ≥ 0.95·final), `excluded_loss_rise`.
    pub fn of(records: &[Record]) -> Events {
        let grok = grok_step(records);
        let memorized = memorization_step(records);
        let fsd: Vec<(u64, f64, f64)> = records
            .iter()
            .filter_map(|r| Some((r.get("step")?.as_u64()?, r.get("fsd")?.as_f64()?, r.get("fsd_p")?.as_f64()?)))
            .filter(|(_, f, _)| f.is_finite())
            .collect();
        let fsd_steps: Vec<u64> = fsd.iter().map(|t| t.0).collect();
        let fsd_values: Vec<f64> = fsd.iter().map(|t| t.1).collect();
        let fsd_p: Vec<f64> = fsd.iter().map(|t| t.2).collect();
        let fsd_ceiling = memorized.and_then(|m| super::fsd::fsd_ceiling_step(&fsd_steps, &fsd_values, &fsd_p, m));
        let precursors = [
            ("n_eff_half_fall", half_fall_step(&series(records, "n_eff"))),
            ("circuit_crossover", crossover_step(&series(records, "circuit_ratio"))),
            ("fsd_ceiling", fsd_ceiling),
            ("excluded_loss_rise", rise_step(&series(records, "excluded_loss"))),
        ]
        .into_iter()
        .map(|(name, step)| Precursor { name, step, lead: lead(grok, step) })
        .collect();
        Events { memorization_step: memorized, grok_step: grok, precursors }
    }
}

/// grok − step, when both exist.
pub fn lead(grok: Option<u64>, step: Option<u64>) -> Option<i64> {
    Some(grok? as i64 - step? as i64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn records(rows: &[Value]) -> Vec<Record> {
        rows.iter().map(|r| r.as_object().unwrap().clone()).collect()
    }

    #[test]
    fn memorization_and_grokking_steps() {
        let r = records(&[
            json!({"step": 0, "train_acc": 0.01, "val_acc": 0.01}),
            json!({"step": 100, "train_acc": 0.995, "val_acc": 0.02}),
            json!({"step": 200, "train_acc": 0.98, "val_acc": 0.5}),
            json!({"step": 300, "train_acc": 1.0, "val_acc": 0.9}),
        ]);
        assert_eq!(memorization_step(&r), Some(100));
        assert_eq!(grok_step(&r), Some(300));
        assert_eq!(grok_step(&r[..3]), None);
    }

    #[test]
    fn crossover_needs_three_more_checkpoints_above_one() {
        let s = |v: &[f64]| v.iter().enumerate().map(|(i, &x)| (10 * i as u64, x)).collect::<Vec<_>>();
        assert_eq!(crossover_step(&s(&[0.2, 1.1, 0.9, 1.2, 1.3, 1.0, 1.4])), Some(30));
        assert_eq!(crossover_step(&s(&[0.2, 1.1, 1.2, 1.3, 1.0])), Some(10));
        assert_eq!(crossover_step(&s(&[0.2, 0.5, 1.2, 1.3])), None, "only two checkpoints follow");
    }

    #[test]
    fn excluded_loss_rise_is_the_half_way_point() {
        let s = [(0, 3.0), (10, 1.0), (20, 1.5), (30, 2.9), (40, 5.0), (50, 4.8)];
        // Minimum 1.0 at step 10, peak after it 5.0: first ≥ 3.0 after it is step 40
        // (2.9 falls short).
        assert_eq!(rise_step(&s), Some(40));
        // A real run starts at its highest (≈ ln p), falls while memorizing, then rises.
        assert_eq!(rise_step(&[(0, 6.0), (10, 1.0), (20, 4.0), (30, 5.0)]), Some(20));
        assert_eq!(rise_step(&[(0, 2.0), (10, 1.0)]), None, "never rises");
    }

    #[test]
    fn n_eff_half_fall_is_the_middle_of_its_drop() {
        // From 40 down to 4: half way is 22; 25 is not there yet, 12 is.
        let s = [(0, 40.0), (10, 38.0), (20, 25.0), (30, 12.0), (40, 4.0), (50, 5.0)];
        assert_eq!(half_fall_step(&s), Some(30));
        // A rise before the fall: measured from the top, 40 (half way 22).
        assert_eq!(half_fall_step(&[(0, 30.0), (10, 40.0), (20, 23.0), (30, 4.0)]), Some(30));
        assert_eq!(half_fall_step(&[(0, 40.0), (10, 38.0), (20, 37.0)]), None, "a 7.5% dip is no fall");
        assert_eq!(half_fall_step(&[]), None);
    }

    #[test]
    fn precursors_and_leads() {
        let mut rows = Vec::new();
        for i in 0..10u64 {
            let step = 100 * i;
            rows.push(json!({
                "step": step,
                "train_acc": if i >= 2 { 1.0 } else { 0.3 },
                "val_acc": if i >= 8 { 0.95 } else { 0.1 },
                "n_eff": ([30.0, 25.0, 20.0, 12.0, 20.0, 8.0, 5.0, 4.0, 4.0, 4.0][i as usize]),
                "circuit_ratio": if i >= 5 { 1.5 } else { 0.5 },
                "fsd": ([0.99, 0.1, 0.2, 0.4, 0.7, 0.97, 0.99, 1.0, 1.0, 1.0][i as usize]),
                "fsd_p": 0.001,
                "excluded_loss": ([4.0, 2.0, 1.0, 1.2, 2.0, 3.0, 4.0, 4.5, 4.6, 4.6][i as usize]),
            }));
        }
        let e = Events::of(&records(&rows));
        assert_eq!((e.memorization_step, e.grok_step), (Some(200), Some(800)));
        let got: Vec<(&str, Option<u64>, Option<i64>)> = e.precursors.iter().map(|p| (p.name, p.step, p.lead)).collect();
        assert_eq!(
            got,
            vec![
                ("n_eff_half_fall", Some(300), Some(500)),
                ("circuit_crossover", Some(500), Some(300)),
                ("fsd_ceiling", Some(500), Some(300)),
                ("excluded_loss_rise", Some(500), Some(300)),
            ]
        );
    }

    #[test]
    fn non_numbers_and_missing_fields_are_skipped() {
        let r = records(&[json!({"step": 0, "fsd": null}), json!({"step": 5, "fsd": 0.3, "fsd_p": 0.001}), json!({"fsd": 0.9})]);
        assert_eq!(series(&r, "fsd"), vec![(5, 0.3)]);
        let e = Events::of(&r);
        assert_eq!(e.grok_step, None);
        assert!(e.precursors.iter().all(|p| p.lead.is_none()));
    }
}
