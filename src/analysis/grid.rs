//! Frequency energy of a component's activations over the (x, y) input grid (docs/analyses.md
//! § 1 neurons, § 8 FSD): for each frequency k, the energy in its 8 real terms — cos and sin
//! of w_k·x, of w_k·y, and the four products — with w_k = 2πk/n.
//!
//! Those 8 functions span the complex exponentials at the 2D bins (±k, 0), (0, ±k), (±k, ±k),
//! so by Parseval their energy is Σ |X[a, b]|²/n² over these bins (deduplicated at k = n/2).

use super::dft::{full_power_2d, Dft};

/// Energy of one real n×n grid, by frequency.
#[derive(Clone, Debug, PartialEq)]
pub struct GridEnergy {
    /// [K + 1], K = ⌊n/2⌋: element 0 is the energy of the grid's mean (n²·mean²), element k
    /// the energy in the 8 terms of frequency k.
    pub by_freq: Vec<f64>,
    /// Σ x² over the grid.
    pub total: f64,
}

impl GridEnergy {
    /// The energy about the grid's mean: what a centred activation carries.
    pub fn centred_total(&self) -> f64 {
        self.total - self.by_freq[0]
    }

    /// The share of the centred energy in frequency k's 8 terms.
    pub fn fraction(&self, k: usize) -> f64 {
        self.by_freq[k] / self.centred_total()
    }

    /// The sum over channels: one component (a head's output, an MLP block) from its
    /// channels (dimensions or neurons).
    pub fn sum(channels: &[GridEnergy]) -> GridEnergy {
        let mut by_freq = vec![0.0; channels[0].by_freq.len()];
        for c in channels {
            by_freq.iter_mut().zip(&c.by_freq).for_each(|(a, b)| *a += b);
        }
        GridEnergy { by_freq, total: channels.iter().map(|c| c.total).sum() }
    }
}

/// The distinct bins of frequency k ≥ 1 on an n×n grid.
fn frequency_bins(k: usize, n: usize) -> Vec<(usize, usize)> {
    let m = n - k;
    let mut bins = vec![(k, 0), (m, 0), (0, k), (0, m), (k, k), (k, m), (m, k), (m, m)];
    bins.sort_unstable();
    bins.dedup();
    bins
}

/// The frequency energy of `count` real grids x [count, n, n] (row x, column y), through one
/// batched 2D transform.
pub fn grid_frequency_energy(dft: &dyn Dft, grids: &[f64], count: usize, n: usize) -> Vec<GridEnergy> {
    assert_eq!(grids.len(), count * n * n, "grid_frequency_energy: grids must be [count, n, n]");
    let spectra = dft.real_forward_2d(grids, count, n, n);
    let scale = (n * n) as f64;
    let bin_sets: Vec<Vec<(usize, usize)>> = (1..=n / 2).map(|k| frequency_bins(k, n)).collect();
    spectra
        .chunks(n * (n / 2 + 1))
        .zip(grids.chunks(n * n))
        .map(|(half, grid)| {
            let mut by_freq = vec![half[0].norm_sqr() / scale];
            by_freq.extend(bin_sets.iter().map(|bins| {
                bins.iter().map(|&(a, b)| full_power_2d(half, n, n, a, b)).sum::<f64>() / scale
            }));
            GridEnergy { by_freq, total: grid.iter().map(|v| v * v).sum() }
        })
        .collect()
}

/// Activations over all pairs in dataset order, [n², width] with row x·n + y, as one grid
/// per channel: [width, n, n].
pub fn grids_from_pair_major(acts: &[f64], n: usize, width: usize) -> Vec<f64> {
    assert_eq!(acts.len(), n * n * width, "grids_from_pair_major: acts must be [n², width]");
    let mut grids = vec![0.0; acts.len()];
    for pair in 0..n * n {
        for c in 0..width {
            grids[c * n * n + pair] = acts[pair * width + c];
        }
    }
    grids
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dft::CpuDft;
    use crate::analysis::rng::Rng;
    use std::f64::consts::PI;

    fn grid(n: usize, f: impl Fn(f64, f64) -> f64) -> Vec<f64> {
        (0..n * n).map(|i| f((i / n) as f64, (i % n) as f64)).collect()
    }

    #[test]
    fn each_of_the_eight_terms_lands_in_its_frequency() {
        let (n, k) = (23, 4);
        let w = 2.0 * PI * k as f64 / n as f64;
        let terms: [fn(f64, f64) -> f64; 8] = [
            |a, _| a.cos(),
            |a, _| a.sin(),
            |_, b| b.cos(),
            |_, b| b.sin(),
            |a, b| a.cos() * b.cos(),
            |a, b| a.cos() * b.sin(),
            |a, b| a.sin() * b.cos(),
            |a, b| a.sin() * b.sin(),
        ];
        for (i, term) in terms.iter().enumerate() {
            let x = grid(n, |x, y| 1.5 + term(w * x, w * y));
            let e = &grid_frequency_energy(&CpuDft, &x, 1, n)[0];
            let total: f64 = x.iter().map(|v| v * v).sum();
            // Tolerance 1e-10 relative: 529-term sums in f64.
            assert!((e.by_freq[k] - e.centred_total()).abs() < 1e-10 * total, "term {i}");
            assert!((e.by_freq[0] - 1.5f64.powi(2) * (n * n) as f64).abs() < 1e-10 * total, "term {i} mean");
            assert!((e.fraction(k) - 1.0).abs() < 1e-10, "term {i}");
        }
    }

    #[test]
    fn mixed_frequencies_split_by_energy_and_cross_terms_fall_outside() {
        // 2·cos(w_3·(x + y)) + cos(w_5·x): energies 4·n²/2 and n²/2; a cross term
        // cos(w_2·x)·cos(w_7·y) belongs to no single frequency.
        let n = 29;
        let w = |k: usize| 2.0 * PI * k as f64 / n as f64;
        let x = grid(n, |x, y| 2.0 * (w(3) * (x + y)).cos() + (w(5) * x).cos() + (w(2) * x).cos() * (w(7) * y).cos());
        let e = &grid_frequency_energy(&CpuDft, &x, 1, n)[0];
        let half = (n * n) as f64 / 2.0;
        assert!((e.by_freq[3] - 4.0 * half).abs() < 1e-9, "{}", e.by_freq[3]);
        assert!((e.by_freq[5] - half).abs() < 1e-9, "{}", e.by_freq[5]);
        let in_bands: f64 = e.by_freq.iter().sum();
        assert!((e.total - in_bands - half / 2.0).abs() < 1e-9, "cross term energy n²/4 stays out");
    }

    #[test]
    fn even_side_counts_the_nyquist_terms_once() {
        let n = 12;
        let x = grid(n, |x, y| (PI * x).cos() * (PI * y).cos() + (PI * y).cos());
        let e = &grid_frequency_energy(&CpuDft, &x, 1, n)[0];
        assert!((e.by_freq[6] - e.total).abs() < 1e-10, "{} vs {}", e.by_freq[6], e.total);
    }

    #[test]
    fn pair_major_activations_become_one_grid_per_channel() {
        let mut rng = Rng::new(3);
        let (n, width) = (7, 3);
        let acts: Vec<f64> = (0..n * n * width).map(|_| rng.normal()).collect();
        let grids = grids_from_pair_major(&acts, n, width);
        assert_eq!(grids[2 * n * n + 3 * n + 5], acts[(3 * n + 5) * width + 2]);
        let per_channel = grid_frequency_energy(&CpuDft, &grids, width, n);
        let sum = GridEnergy::sum(&per_channel);
        let total: f64 = acts.iter().map(|v| v * v).sum();
        assert!((sum.total - total).abs() < 1e-12 * total);
        assert!(sum.by_freq.iter().sum::<f64>() <= sum.total * (1.0 + 1e-12));
    }
}
