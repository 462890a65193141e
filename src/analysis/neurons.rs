//! Nanda et al.'s neuron clustering (docs/analyses.md § 1): each MLP neuron's activation at the
//! last position over the (x, y) grid, centred, is assigned the frequency whose 8 terms carry
//! the largest share of its energy; neurons under 0.85 form cluster −1.

use super::dft::Dft;
use super::grid::{grid_frequency_energy, grids_from_pair_major, GridEnergy};

/// A neuron belongs to its frequency's cluster when that frequency explains at least this
/// share of its centred energy.
pub const NEURON_FRACTION: f64 = 0.85;

#[derive(Clone, Debug, PartialEq)]
pub struct NeuronClusters {
    /// `neuron_freq` per neuron: argmax_k of the share, or −1 under 0.85 (and for neurons
    /// that never vary).
    pub freq: Vec<i64>,
    /// That largest share per neuron.
    pub fraction: Vec<f64>,
    /// `neuron_key_freqs`: the distinct frequencies of the clustered neurons, ascending.
    pub key_freqs: Vec<usize>,
}

/// Clusters from each neuron's grid energy.
pub fn neuron_clusters(neurons: &[GridEnergy]) -> NeuronClusters {
    let (mut freq, mut fraction) = (Vec::new(), Vec::new());
    for e in neurons {
        let (k, share) = (1..e.by_freq.len())
            .map(|k| (k, e.fraction(k)))
            .fold((0, f64::NEG_INFINITY), |best, cur| if cur.1 > best.1 { cur } else { best });
        freq.push(if share >= NEURON_FRACTION { k as i64 } else { -1 });
        fraction.push(share);
    }
    let mut key_freqs: Vec<usize> = freq.iter().filter(|&&f| f >= 0).map(|&f| f as usize).collect();
    key_freqs.sort_unstable();
    key_freqs.dedup();
    NeuronClusters { freq, fraction, key_freqs }
}

/// Clusters from MLP activations at the last position over all pairs, [p², d_mlp] in
/// dataset order (row x·p + y).
pub fn neuron_clusters_from_activations(dft: &dyn Dft, acts: &[f64], p: usize, d_mlp: usize) -> NeuronClusters {
    let grids = grids_from_pair_major(acts, p, d_mlp);
    neuron_clusters(&grid_frequency_energy(dft, &grids, d_mlp, p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dft::CpuDft;
    use crate::analysis::rng::Rng;
    use std::f64::consts::PI;

    #[test]
    fn neurons_cluster_by_their_frequency() {
        // Five neurons over p = 31: cos(w_4(x+y)) + 10% noise, a product term at k = 9 plus
        // an offset, an even 50/50 mix of k = 2 and k = 11, pure noise, and a dead neuron.
        let p = 31;
        let mut rng = Rng::new(12);
        let w = |k: usize, v: usize| 2.0 * PI * ((k * v) % p) as f64 / p as f64;
        let d_mlp = 5;
        let mut acts = vec![0.0; p * p * d_mlp];
        for x in 0..p {
            for y in 0..p {
                let row = &mut acts[(x * p + y) * d_mlp..(x * p + y + 1) * d_mlp];
                row[0] = w(4, x + y).cos() + 0.1 * rng.normal();
                row[1] = 3.0 + w(9, x).sin() * w(9, y).cos();
                row[2] = w(2, x).cos() + w(11, y).cos();
                row[3] = rng.normal();
                row[4] = 0.0;
            }
        }
        let clusters = neuron_clusters_from_activations(&CpuDft, &acts, p, d_mlp);
        assert_eq!(clusters.freq, vec![4, 9, -1, -1, -1]);
        assert_eq!(clusters.key_freqs, vec![4, 9]);
        // Noise σ = 0.1 against a unit cosine of energy 1/2 per point: share ≈ 0.5/0.51.
        assert!((clusters.fraction[0] - 0.5 / 0.51).abs() < 0.01, "{}", clusters.fraction[0]);
        assert!((clusters.fraction[1] - 1.0).abs() < 1e-10, "the offset is centred away");
        assert!((clusters.fraction[2] - 0.5).abs() < 1e-10, "{}", clusters.fraction[2]);
        assert!(clusters.fraction[3] < 0.2);
    }
}
