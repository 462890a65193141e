//! Spectral attribution (docs/analyses.md § 7, seed 000 finding 6): which frequencies of the
//! embedding the model's answers depend on.
//!
//! W_E^(k) is the projection of W_E's columns (in token order, length n) on {c_k, s_k}:
//! (fold_weight(k)/n)·Re(F[k, j]·e^{+2πikt/n}), W_E^(0) the mean row, so Σ_k W_E^(k) = W_E.
//! For every k the model runs with keep-only W_E^(0) + W_E^(k) and with ablated W_E − W_E^(k);
//! the low band (k ≤ 5) and the high band (k > 5) are kept whole the same way. Ablating a
//! band keeps the other one, so `attr_ablate_low` = `attr_keep_high` and vice versa. Tokens
//! outside the order (0 in discrete-log order) and the `op` / `=` rows keep their weights.
//! Each variant is scored over all pairs by its mean correct-logit margin
//! (L[c*] − mean_c L[c]) and its accuracy.

use super::dft::Complex;
use super::matrix::Matrix;
use super::spectrum::{fold_weight, TokenOrder, TokenSpectrum, LOW_BAND_MAX};
use serde_json::{json, Map, Value};
use std::f64::consts::PI;

/// W^(k) for k = 0..=n/2, each [n, d] in token order.
pub fn frequency_components(spectrum: &TokenSpectrum) -> Vec<Matrix> {
    let (n, d) = (spectrum.n, spectrum.d);
    (0..spectrum.bin_count())
        .map(|k| {
            let weight = fold_weight(k, n) / n as f64;
            let rotations: Vec<Complex> = (0..n).map(|t| Complex::polar(1.0, 2.0 * PI * ((k * t) % n) as f64 / n as f64)).collect();
            Matrix::from_fn(n, d, |t, j| {
                let (f, e) = (spectrum.at(k, j), rotations[t]);
                weight * (f.re * e.re - f.im * e.im)
            })
        })
        .collect()
}

/// One modified embedding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// W^(0) + W^(k) (W^(0) alone for k = 0).
    Keep(usize),
    /// W − W^(k).
    Ablate(usize),
    /// W^(0) + Σ_{1 ≤ k ≤ 5} W^(k).
    KeepLow,
    /// W^(0) + Σ_{k > 5} W^(k).
    KeepHigh,
}

/// Every variant of W_E [p, d] (the number rows, natural token index) for the analysis, in
/// the order Keep(0..=K), Ablate(0..=K), KeepLow, KeepHigh; each as a full [p, d] matrix.
pub fn attribution_variants(w_e: &Matrix, order: TokenOrder, spectrum: &TokenSpectrum) -> Vec<(Variant, Matrix)> {
    let ordered = order.apply(w_e);
    let parts = frequency_components(spectrum);
    let sum = |ks: &mut dyn Iterator<Item = usize>| {
        let mut m = parts[0].clone();
        for k in ks {
            m.data.iter_mut().zip(&parts[k].data).for_each(|(a, b)| *a += b);
        }
        m
    };
    let bins = parts.len();
    let mut variants = Vec::with_capacity(2 * bins + 2);
    for k in 0..bins {
        variants.push((Variant::Keep(k), if k == 0 { parts[0].clone() } else { sum(&mut std::iter::once(k)) }));
    }
    for (k, part) in parts.iter().enumerate() {
        let ablated = Matrix::new(ordered.rows, ordered.cols, ordered.data.iter().zip(&part.data).map(|(w, c)| w - c).collect());
        variants.push((Variant::Ablate(k), ablated));
    }
    variants.push((Variant::KeepLow, sum(&mut (1..bins.min(LOW_BAND_MAX + 1)))));
    variants.push((Variant::KeepHigh, sum(&mut (LOW_BAND_MAX + 1..bins))));
    variants.into_iter().map(|(v, m)| (v, order.scatter(&m, w_e))).collect()
}

/// How a variant does over all pairs.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Score {
    /// Mean over pairs of L[c*] − mean_c L[c].
    pub margin: f64,
    /// Share of pairs whose argmax (ties to the lowest class) is c*.
    pub accuracy: f64,
}

/// Margin and accuracy of logits [N, classes] against each row's target.
pub fn score(logits: &[f32], classes: usize, targets: &[u32]) -> Score {
    let (mut margin, mut correct) = (0.0f64, 0usize);
    for (row, &target) in logits.chunks(classes).zip(targets) {
        let mean = row.iter().map(|&v| v as f64).sum::<f64>() / classes as f64;
        margin += row[target as usize] as f64 - mean;
        let best = row.iter().enumerate().fold(0, |b, (c, &v)| if v > row[b] { c } else { b });
        correct += (best == target as usize) as usize;
    }
    let rows = targets.len() as f64;
    Score { margin: margin / rows, accuracy: correct as f64 / rows }
}

/// The § 7 fields of one checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribution {
    pub keep: Vec<Score>,
    pub ablate: Vec<Score>,
    pub keep_low: Score,
    pub keep_high: Score,
}

impl Attribution {
    /// From the scores of [`attribution_variants`], in its order.
    pub fn from_scores(variants: &[Variant], scores: &[Score]) -> Attribution {
        let find = |want: Variant| scores[variants.iter().position(|&v| v == want).expect("every variant is scored")];
        let bins = variants.iter().filter(|v| matches!(v, Variant::Keep(_))).count();
        Attribution {
            keep: (0..bins).map(|k| find(Variant::Keep(k))).collect(),
            ablate: (0..bins).map(|k| find(Variant::Ablate(k))).collect(),
            keep_low: find(Variant::KeepLow),
            keep_high: find(Variant::KeepHigh),
        }
    }

    /// Writes `attr_keep` and `attr_ablate` (margins, indexed by k = 0..=K), `attr_keep_acc`
    /// and `attr_ablate_acc` (accuracies), and the bands `attr_keep_low`, `attr_keep_high`,
    /// `attr_ablate_low`, `attr_ablate_high` with their `_acc`.
    pub fn insert_into(&self, record: &mut Map<String, Value>) {
        let margins = |s: &[Score]| json!(s.iter().map(|x| x.margin).collect::<Vec<_>>());
        let accuracies = |s: &[Score]| json!(s.iter().map(|x| x.accuracy).collect::<Vec<_>>());
        record.insert("attr_keep".into(), margins(&self.keep));
        record.insert("attr_keep_acc".into(), accuracies(&self.keep));
        record.insert("attr_ablate".into(), margins(&self.ablate));
        record.insert("attr_ablate_acc".into(), accuracies(&self.ablate));
        for (name, s) in [
            ("attr_keep_low", self.keep_low),
            ("attr_keep_high", self.keep_high),
            ("attr_ablate_low", self.keep_high),
            ("attr_ablate_high", self.keep_low),
        ] {
            record.insert(name.into(), json!(s.margin));
            record.insert(format!("{name}_acc"), json!(s.accuracy));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dft::CpuDft;
    use crate::analysis::rng::Rng;

    fn max_abs_diff(a: &Matrix, b: &Matrix) -> f64 {
        a.data.iter().zip(&b.data).fold(0.0, |m, (x, y)| m.max((x - y).abs()))
    }

    #[test]
    fn components_sum_to_the_embedding_and_project_on_their_frequency() {
        let mut rng = Rng::new(2);
        for n in [13, 12] {
            let w = Matrix::from_fn(n, 4, |_, _| rng.normal());
            let parts = frequency_components(&TokenSpectrum::of(&CpuDft, &w));
            let mut total = Matrix::from_fn(n, 4, |_, _| 0.0);
            for part in &parts {
                total.data.iter_mut().zip(&part.data).for_each(|(a, b)| *a += b);
            }
            // Tolerance 1e-12: an exact inverse DFT up to rounding.
            assert!(max_abs_diff(&total, &w) < 1e-12, "n = {n}");
            let mean = w.mean_row();
            assert!(parts[0].data.iter().enumerate().all(|(i, v)| (v - mean[i % 4]).abs() < 1e-12));
            // Each part is its own frequency only: transforming it again changes nothing.
            let again = frequency_components(&TokenSpectrum::of(&CpuDft, &parts[3]));
            assert!(max_abs_diff(&again[3], &parts[3]) < 1e-12);
            assert!(again[2].data.iter().all(|v| v.abs() < 1e-12));
        }
    }

    #[test]
    fn variants_keep_and_remove_one_frequency() {
        // W = 2 + cos(w_3 t) + 0.5·sin(w_9 t) per column, p = 31, and the discrete-log
        // order where token 0 stays as it is.
        let p = 31;
        let w = Matrix::from_fn(p, 2, |t, j| {
            let a = 2.0 * PI * t as f64 / p as f64;
            2.0 + (3.0 * a).cos() * (j + 1) as f64 + 0.5 * (9.0 * a).sin()
        });
        let spectrum = TokenSpectrum::of(&CpuDft, &w);
        let variants = attribution_variants(&w, TokenOrder::Natural, &spectrum);
        assert_eq!(variants.len(), 2 * 16 + 2);
        let get = |v: Variant| &variants.iter().find(|(x, _)| *x == v).unwrap().1;
        let want_keep3 = Matrix::from_fn(p, 2, |t, j| 2.0 + (2.0 * PI * 3.0 * t as f64 / p as f64).cos() * (j + 1) as f64);
        assert!(max_abs_diff(get(Variant::Keep(3)), &want_keep3) < 1e-12);
        let want_ablate9 = want_keep3.clone();
        assert!(max_abs_diff(get(Variant::Ablate(9)), &want_ablate9) < 1e-12);
        assert!(max_abs_diff(get(Variant::KeepLow), &want_keep3) < 1e-12, "k = 3 is the low band");
        assert!(max_abs_diff(get(Variant::Ablate(4)), &w) < 1e-12, "k = 4 carries nothing");

        let order = TokenOrder::for_task("mul", p);
        let spectrum = TokenSpectrum::of(&CpuDft, &order.apply(&w));
        let logged = attribution_variants(&w, order, &spectrum);
        assert!(logged.iter().all(|(_, m)| m.row(0) == w.row(0)), "token 0 keeps its row");
        assert_eq!(logged.len(), 2 * 16 + 2, "n = 30: bins 0..=15");
    }

    #[test]
    fn scores_are_margins_and_accuracies() {
        let logits = [3.0, 0.0, 0.0, 1.0, 1.0, -2.0];
        let s = score(&logits, 3, &[0, 1]);
        // Row 0: 3 − 1 = 2, correct. Row 1: tie 1, 1 goes to class 0, margin 1 − 0 = 1.
        assert_eq!(s, Score { margin: 1.5, accuracy: 0.5 });
        let variants = [Variant::Keep(0), Variant::Keep(1), Variant::Ablate(0), Variant::Ablate(1), Variant::KeepLow, Variant::KeepHigh];
        let scores: Vec<Score> = (0..6).map(|i| Score { margin: i as f64, accuracy: 0.1 * i as f64 }).collect();
        let a = Attribution::from_scores(&variants, &scores);
        let mut record = Map::new();
        a.insert_into(&mut record);
        assert_eq!(record["attr_keep"], json!([0.0, 1.0]));
        assert_eq!(record["attr_ablate"], json!([2.0, 3.0]));
        assert_eq!(record["attr_ablate_low"], json!(5.0));
        assert_eq!(record["attr_ablate_high_acc"], json!(0.4));
    }
}
