//! Geometry of what the model computes (docs/analyses.md § 9 on the model's activations, seed
//! 001): the participation ratio and TwoNN dimension of the representation the readout sees
//! at the last position, over all pairs, and the entropy of each head's last-query attention.
//!
//! TwoNN is O(N²·d); over all p² pairs it would dominate a checkpoint's analysis, so it runs
//! on a fixed subsample of at most [`TWONN_MAX_POINTS`] pairs (the same pairs at every
//! checkpoint, seeded). The participation ratio uses every pair.

use super::geometry::{last_query_entropy, pca_pr, twonn_id, TwoNn};
use super::matrix::Matrix;
use super::rng::Rng;

/// TwoNN reads at most this many points.
pub const TWONN_MAX_POINTS: usize = 1024;
/// Seed of the TwoNN subsample.
pub const TWONN_SUBSAMPLE_SEED: u64 = 0x7707;

/// The rows TwoNN reads out of `rows`: all of them, or a seeded sample of `max`, ascending.
pub fn subsample(rows: usize, max: usize, seed: u64) -> Vec<usize> {
    let mut picked = Rng::new(seed).permutation(rows);
    picked.truncate(max);
    picked.sort_unstable();
    picked
}

/// `pca_pr` and `twonn_id` of a point cloud [N, d] (f32 activations).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CloudGeometry {
    pub pca_pr: f64,
    pub twonn: TwoNn,
}

pub fn cloud_geometry(points: &[f32], width: usize) -> CloudGeometry {
    let rows = points.len() / width;
    let all = Matrix::new(rows, width, points.iter().map(|&v| v as f64).collect());
    let picked = subsample(rows, TWONN_MAX_POINTS, TWONN_SUBSAMPLE_SEED);
    let sample = Matrix::new(picked.len(), width, picked.iter().flat_map(|&r| all.row(r).to_vec()).collect());
    CloudGeometry { pca_pr: pca_pr(&all), twonn: twonn_id(&sample) }
}

/// `attn_entropy` of one layer from its probabilities [N, H, T, T] (f32): [H], mean over pairs.
pub fn attention_entropy(probs: &[f32], heads: usize, t: usize) -> Vec<f64> {
    let batch = probs.len() / (heads * t * t);
    let wide: Vec<f64> = probs.iter().map(|&v| v as f64).collect();
    last_query_entropy(&wide, batch, heads, t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    #[test]
    fn a_circle_in_a_wide_space_is_one_dimensional_and_planar() {
        // 3000 points on a circle embedded in 6 dimensions: TwoNN reads 1024 of them.
        let mut rng = Rng::new(3);
        let points: Vec<f32> = (0..3000)
            .flat_map(|_| {
                let a = 2.0 * PI * rng.uniform();
                [a.cos(), a.sin(), 0.0, 0.5 * a.cos(), 0.0, 0.0].map(|v| v as f32)
            })
            .collect();
        let g = cloud_geometry(&points, 6);
        // Bounds as geometry.rs's circle test: TwoNN within 0.1 of 1.
        assert!((g.twonn.id - 1.0).abs() < 0.1, "{g:?}");
        assert!(!g.twonn.degenerate);
        // A uniform circle has two equal covariance eigenvalues: PR = 2.
        assert!((g.pca_pr - 2.0).abs() < 0.05, "{g:?}");
        assert_eq!(subsample(10, 20, 1), (0..10).collect::<Vec<_>>());
        assert_eq!(subsample(3000, 1024, 5).len(), 1024);
    }

    #[test]
    fn uniform_causal_attention_over_four_keys_has_entropy_ln_4() {
        let (pairs, heads, t) = (3, 2, 4);
        let mut probs = vec![0f32; pairs * heads * t * t];
        for block in probs.chunks_mut(t * t) {
            for q in 0..t {
                for k in 0..=q {
                    block[q * t + k] = 1.0 / (q + 1) as f32;
                }
            }
        }
        let h = attention_entropy(&probs, heads, t);
        // Tolerance 1e-7: f32 probabilities of 1/4.
        assert!(h.iter().all(|v| (v - 4f64.ln()).abs() < 1e-7), "{h:?}");
    }
}
