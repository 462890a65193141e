//! FSD, the frequency synchronization degree (docs/analyses.md § 8, seed 004; *proposed*: no
//! public code fixes it, this is the definition as written there).
//!
//! Components (W_E, W_U, each attention head's output, each MLP block) each have a frequency
//! profile E_c(k), k = 1..K (W_E/W_U: the folded token spectrum; the others: the grid energy
//! of [`super::grid`]). π_c = E_c/Σ_k E_c; S = the mean Pearson correlation of π_c over all
//! component pairs; the null permutes each component's frequency labels independently.

use super::rng::Rng;

/// Null draws B.
pub const FSD_NULL_DRAWS: usize = 999;
/// The FSD ceiling step is the first step with fsd ≥ this fraction of the final fsd.
pub const FSD_CEILING_FRACTION: f64 = 0.95;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Fsd {
    /// S, the mean pairwise Pearson r of the components' normalized profiles.
    pub s: f64,
    /// Mean of S over the null draws.
    pub null_mean: f64,
    /// `fsd` = (S − mean S_null)/(1 − mean S_null).
    pub fsd: f64,
    /// `fsd_p` = (1 + #{S_null ≥ S})/(B + 1).
    pub fsd_p: f64,
}

fn normalized(profile: &[f64]) -> Vec<f64> {
    let total: f64 = profile.iter().sum();
    profile.iter().map(|e| e / total).collect()
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    sab / (saa * sbb).sqrt()
}

/// S over normalized profiles; NaN if a profile is flat (its correlation is undefined).
fn synchronization(profiles: &[Vec<f64>]) -> f64 {
    let mut sum = 0.0;
    let mut pairs = 0;
    for i in 0..profiles.len() {
        for j in i + 1..profiles.len() {
            sum += pearson(&profiles[i], &profiles[j]);
            pairs += 1;
        }
    }
    sum / pairs as f64
}

/// FSD of components with frequency profiles E_c(k), k = 1..K (each the same length K, at
/// least two components), with `draws` seeded null permutations.
pub fn fsd(profiles: &[Vec<f64>], draws: usize, seed: u64) -> Fsd {
    assert!(profiles.len() >= 2, "fsd needs at least two components");
    let pi: Vec<Vec<f64>> = profiles.iter().map(|e| normalized(e)).collect();
    let s = synchronization(&pi);
    let mut rng = Rng::new(seed);
    let mut shuffled = pi.clone();
    let mut null_sum = 0.0;
    let mut at_least = 0;
    for _ in 0..draws {
        for profile in shuffled.iter_mut() {
            rng.shuffle(profile);
        }
        let null = synchronization(&shuffled);
        null_sum += null;
        at_least += (null >= s) as usize;
    }
    let null_mean = null_sum / draws as f64;
    Fsd {
        s,
        null_mean,
        fsd: (s - null_mean) / (1.0 - null_mean),
        fsd_p: (1 + at_least) as f64 / (draws + 1) as f64,
    }
}

/// A checkpoint's FSD counts towards the ceiling only when its p-value against the label
/// permutations is at most this.
pub const FSD_SIGNIFICANT_P: f64 = 0.01;

/// The FSD ceiling step: the first step ≥ `from` (the memorization step) whose fsd ≥
/// 0.95·(final fsd) with fsd_p ≤ 0.01. None when the final fsd is NaN, not positive or not
/// itself significant against the permutation null: then there is no synchronized ceiling to
/// reach. Before memorization an MLP's components can share the initialization's spectrum
/// by chance, so only the climb after it is read.
pub fn fsd_ceiling_step(steps: &[u64], fsd: &[f64], fsd_p: &[f64], from: u64) -> Option<u64> {
    assert!(steps.len() == fsd.len() && fsd.len() == fsd_p.len(), "fsd_ceiling_step: one fsd and fsd_p per step");
    let (&last, &last_p) = (fsd.last()?, fsd_p.last()?);
    if !(last > 0.0 && last_p <= FSD_SIGNIFICANT_P) {
        return None;
    }
    let threshold = FSD_CEILING_FRACTION * last;
    (0..steps.len()).find(|&i| steps[i] >= from && fsd[i] >= threshold && fsd_p[i] <= FSD_SIGNIFICANT_P).map(|i| steps[i])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dft::CpuDft;
    use crate::analysis::grid::{grid_frequency_energy, GridEnergy};
    use std::f64::consts::PI;

    /// Six components over K = 48 with energy 1 at five shared frequencies and uniform
    /// noise of 10% of that everywhere.
    fn synchronized(seed: u64) -> Vec<Vec<f64>> {
        let mut rng = Rng::new(seed);
        let shared = [3, 7, 19, 30, 41];
        (0..6)
            .map(|_| (1..=48).map(|k| shared.contains(&k) as u8 as f64 + 0.1 * rng.uniform()).collect())
            .collect()
    }

    #[test]
    fn shared_frequencies_synchronize() {
        let f = fsd(&synchronized(1), FSD_NULL_DRAWS, 7);
        // r between two profiles ≈ var(signal)/(var(signal) + var(noise)) ≈ 0.991; the null
        // mean is ≈ −1/(K−1). Bound: fsd within 0.02 of 0.99.
        assert!((f.fsd - 0.99).abs() < 0.02, "fsd {}", f.fsd);
        assert_eq!(f.fsd_p, 1.0 / 1000.0, "no null draw reaches S");
        assert!(f.null_mean.abs() < 0.05, "null mean {}", f.null_mean);
    }

    #[test]
    fn gaussian_components_do_not_synchronize() {
        // E_c(k) = sums of squared Gaussians (6 components, K = 48): S is one null draw.
        // Mean over 8 seeds: fsd ±0.05 (one seed's spread is ≈ 0.04), p-value mid-range.
        let (mut sum_fsd, mut sum_p) = (0.0, 0.0);
        for seed in 0..8 {
            let mut rng = Rng::new(50 + seed);
            let profiles: Vec<Vec<f64>> = (0..6)
                .map(|_| (0..48).map(|_| (0..8).map(|_| rng.normal().powi(2)).sum()).collect())
                .collect();
            let f = fsd(&profiles, FSD_NULL_DRAWS, seed);
            sum_fsd += f.fsd;
            sum_p += f.fsd_p;
        }
        assert!((sum_fsd / 8.0).abs() < 0.05, "mean fsd {}", sum_fsd / 8.0);
        assert!((0.2..0.8).contains(&(sum_p / 8.0)), "mean p {}", sum_p / 8.0);
    }

    #[test]
    fn relabelling_frequencies_jointly_changes_nothing() {
        let profiles = synchronized(2);
        let mut rng = Rng::new(3);
        let order = rng.permutation(48);
        let relabelled: Vec<Vec<f64>> = profiles.iter().map(|e| order.iter().map(|&k| e[k]).collect()).collect();
        let (a, b) = (fsd(&profiles, 99, 4), fsd(&relabelled, 99, 4));
        assert!((a.s - b.s).abs() < 1e-12);
    }

    #[test]
    fn grid_components_sharing_a_frequency_synchronize() {
        // Four "heads" over p = 31 computing cos(w_k(x+y) + φ) for k ∈ {5, 12} with their own
        // weights and phases: their grid profiles agree.
        let p = 31;
        let grids: Vec<f64> = (0..4)
            .flat_map(|c| {
                (0..p * p).map(move |i| {
                    let (x, y) = (i / p, i % p);
                    let w = |k: usize| 2.0 * PI * ((k * (x + y)) % p) as f64 / p as f64;
                    (1.0 + c as f64) * (w(5) + c as f64).cos() + 0.5 * (w(12) - c as f64).cos()
                })
            })
            .collect();
        let energies: Vec<GridEnergy> = grid_frequency_energy(&CpuDft, &grids, 4, p);
        let profiles: Vec<Vec<f64>> = energies.iter().map(|e| e.by_freq[1..].to_vec()).collect();
        let f = fsd(&profiles, FSD_NULL_DRAWS, 1);
        assert!(f.fsd > 0.9 && f.fsd_p == 1.0 / 1000.0, "{f:?}");
    }

    #[test]
    fn ceiling_step_is_the_first_within_five_percent_of_final() {
        let steps = [0, 100, 200, 300, 400, 500];
        let p = [0.001; 6];
        assert_eq!(fsd_ceiling_step(&steps, &[0.0, 0.2, 0.5, 0.96, 0.9, 1.0], &p, 0), Some(300));
        assert_eq!(fsd_ceiling_step(&steps, &[0.0, 0.2, 0.5, 0.949, 0.95, 1.0], &p, 0), Some(400));
        // Before memorization (step 200 here) the ceiling does not count.
        assert_eq!(fsd_ceiling_step(&steps, &[0.97, 0.2, 0.5, 0.5, 0.96, 1.0], &p, 200), Some(400));
        // Not significant against the permutations: not a ceiling.
        assert_eq!(fsd_ceiling_step(&steps, &[0.0, 0.2, 0.5, 0.96, 0.97, 1.0], &[0.5, 0.5, 0.5, 0.5, 0.001, 0.001], 0), Some(400));
        assert_eq!(fsd_ceiling_step(&steps, &[0.0, 0.2, 0.5, 0.96, 0.9, 0.96], &[0.001; 5].iter().copied().chain([0.2]).collect::<Vec<_>>(), 0), None);
        assert_eq!(fsd_ceiling_step(&[], &[], &[], 0), None);
        assert_eq!(fsd_ceiling_step(&[0, 1], &[0.5, f64::NAN], &[0.001, 0.001], 0), None);
    }
}
