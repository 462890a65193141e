//! Geometry of what the model computes (docs/analyses.md § 9 on the model's activations, seed
//! 001 §§ 5.1–5.2): the participation ratio, TwoNN dimension and H1 persistence of a hidden
//! representation over all pairs and of its class centroids, and the entropy of each head's
//! last-query attention.
//!
//! TwoNN is O(N²·d) and the Rips filtration O(N³); over all p² pairs they would dominate a
//! checkpoint's analysis, so they run on fixed subsamples of at most [`TWONN_MAX_POINTS`] and
//! [`H1_MAX_POINTS`] pairs (the same pairs at every checkpoint, seeded). The participation ratio
//! uses every pair. The class centroids (the mean representation of the inputs sharing an
//! answer, p points) are where seed 001's circle of x + y mod p lives: a representation that
//! computes the answer from cos/sin of 2πk·c/p places its centroids on a closed curve.

use serde_json::{json, Map, Value};

use super::geometry::{betti1_persistence, last_query_entropy, pca_pr, twonn_checked, Betti1, CheckedTwoNn};
use super::eigen::principal_plane;
use super::matrix::Matrix;
use super::rng::Rng;

/// H1 of a whole cloud reads at most this many points.
pub const H1_MAX_POINTS: usize = 128;
/// Seed of the H1 subsample.
pub const H1_SUBSAMPLE_SEED: u64 = 0xB1;

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

/// Intrinsic dimension and loops of one point cloud.
#[derive(Clone, Debug, PartialEq)]
pub struct CloudShape {
    pub pca_pr: f64,
    pub twonn: CheckedTwoNn,
    pub h1: Betti1,
}

impl CloudShape {
    fn insert_into(&self, record: &mut Map<String, Value>, prefix: &str) {
        let mut put = |name: &str, v: Value| record.insert(format!("{prefix}{name}"), v);
        put("pca_pr", json!(self.pca_pr));
        put("twonn_id", json!(self.twonn.id));
        put("twonn_null", json!(self.twonn.null_reason));
        put("h1_ratio", json!(self.h1.bars.first().map(|&(birth, death)| death / birth)));
        put("h1_persistence", json!(self.h1.longest_persistence()));
        put("beta1", json!(self.h1.beta1_at_scale()));
    }
}

fn rows_of(all: &Matrix, rows: &[usize]) -> Matrix {
    Matrix::new(rows.len(), all.cols, rows.iter().flat_map(|&r| all.row(r).to_vec()).collect())
}

/// The geometry of one hidden representation: of the cloud of every pair, and of its class
/// centroids.
#[derive(Clone, Debug, PartialEq)]
pub struct RepresentationGeometry {
    pub cloud: CloudShape,
    pub centroids: CloudShape,
    /// H1 of the centroids in their top two principal directions. A Fourier representation
    /// places the centroids on one circle per key frequency, c ↦ (cos, sin)(2πk·c/p); in the
    /// full space these circles wind at different speeds, so neighbouring answers are far apart
    /// and the Rips filtration of all of them sees no loop; the leading plane holds one
    /// frequency's circle.
    pub centroid_plane: Betti1,
    /// Share of the centroids' variance in that plane.
    pub centroid_plane_share: f64,
}

impl RepresentationGeometry {
    /// `points` [N, width] (f32 activations, one row per pair), `targets` [N] in 0..classes.
    pub fn of(points: &[f32], width: usize, targets: &[u32], classes: usize) -> RepresentationGeometry {
        let rows = points.len() / width;
        assert_eq!(rows, targets.len(), "one target per row");
        let all = Matrix::from_f32(rows, width, points);
        let twonn_rows = subsample(rows, TWONN_MAX_POINTS, TWONN_SUBSAMPLE_SEED);
        let h1_rows = subsample(rows, H1_MAX_POINTS, H1_SUBSAMPLE_SEED);
        let cloud = CloudShape { pca_pr: pca_pr(&all), twonn: twonn_checked(&rows_of(&all, &twonn_rows)), h1: betti1_persistence(&rows_of(&all, &h1_rows)) };
        let centroid_matrix = class_centroids(&all, targets, classes);
        let centroids = CloudShape { pca_pr: pca_pr(&centroid_matrix), twonn: twonn_checked(&centroid_matrix), h1: betti1_persistence(&centroid_matrix) };
        let (plane, centroid_plane_share) = principal_plane(&centroid_matrix);
        RepresentationGeometry { cloud, centroids, centroid_plane: betti1_persistence(&plane), centroid_plane_share }
    }

    /// Writes `geom.<name>.<measure>` and `geom.<name>.centroid_<measure>` for the measures
    /// `pca_pr`, `twonn_id`, `twonn_null` (why the estimate is null), `h1_ratio` (death/birth of
    /// the longest H1 bar), `h1_persistence` ((death − birth)/enclosing radius) and `beta1` (bars
    /// at least a quarter of the enclosing radius long), and `centroid_plane_beta1`,
    /// `centroid_plane_h1_persistence`, `centroid_plane_share` for the centroids' leading plane.
    pub fn insert_into(&self, record: &mut Map<String, Value>, name: &str) {
        self.cloud.insert_into(record, &format!("geom.{name}."));
        self.centroids.insert_into(record, &format!("geom.{name}.centroid_"));
        let mut put = |measure: &str, v: Value| record.insert(format!("geom.{name}.centroid_plane_{measure}"), v);
        put("beta1", json!(self.centroid_plane.beta1_at_scale()));
        put("h1_persistence", json!(self.centroid_plane.longest_persistence()));
        put("share", json!(self.centroid_plane_share));
    }
}

/// The mean row of each class present in `targets`, in class order.
pub fn class_centroids(all: &Matrix, targets: &[u32], classes: usize) -> Matrix {
    let mut sums = vec![0.0; classes * all.cols];
    let mut counts = vec![0usize; classes];
    for (r, &c) in targets.iter().enumerate() {
        counts[c as usize] += 1;
        sums[c as usize * all.cols..(c as usize + 1) * all.cols].iter_mut().zip(all.row(r)).for_each(|(s, v)| *s += v);
    }
    let present: Vec<usize> = (0..classes).filter(|&c| counts[c] > 0).collect();
    Matrix::from_fn(present.len(), all.cols, |i, j| sums[present[i] * all.cols + j] / counts[present[i]] as f64)
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
        let g = RepresentationGeometry::of(&points, 6, &vec![0; 3000], 1).cloud;
        // Bounds as geometry.rs's circle test: TwoNN within 0.1 of 1.
        assert!((g.twonn.id.unwrap() - 1.0).abs() < 0.1, "{g:?}");
        // A uniform circle has two equal covariance eigenvalues: PR = 2; one loop.
        assert!((g.pca_pr - 2.0).abs() < 0.05, "{g:?}");
        assert_eq!(g.h1.beta1_at_scale(), 1);
        assert_eq!(subsample(10, 20, 1), (0..10).collect::<Vec<_>>());
        assert_eq!(subsample(3000, 1024, 5).len(), 1024);
    }

    #[test]
    fn centroids_of_a_sum_task_on_a_circle_form_one_loop() {
        // x + y mod 23 represented by (cos, sin) of 2π(x + y)/23 plus pair-specific noise in
        // 4 more directions: the cloud is noisy, its 23 centroids a clean circle.
        let p = 23;
        let mut rng = Rng::new(9);
        let (mut points, mut targets) = (vec![], vec![]);
        for x in 0..p {
            for y in 0..p {
                let c = (x + y) % p;
                let a = 2.0 * PI * c as f64 / p as f64;
                points.extend([a.cos(), a.sin()].into_iter().chain((0..4).map(|_| 0.3 * rng.normal())).map(|v| v as f32));
                targets.push(c as u32);
            }
        }
        let g = RepresentationGeometry::of(&points, 6, &targets, p);
        assert_eq!(g.centroids.h1.beta1_at_scale(), 1, "{:?}", &g.centroids.h1.bars[..2]);
        assert!(g.centroids.h1.longest_persistence() > 0.5, "{}", g.centroids.h1.longest_persistence());
        // Centroids average out the noise (529/23 = 23 pairs each): PR near 2.
        assert!((g.centroids.pca_pr - 2.0).abs() < 0.3, "{}", g.centroids.pca_pr);
        assert!(g.cloud.pca_pr > 3.0, "{}", g.cloud.pca_pr);
        let mut record = Map::new();
        g.insert_into(&mut record, "readout");
        assert_eq!(record["geom.readout.centroid_beta1"], 1);
        assert!(record.contains_key("geom.readout.twonn_null") && record.contains_key("geom.readout.h1_ratio"));
        assert_eq!(class_centroids(&Matrix::new(3, 1, vec![1.0, 3.0, 5.0]), &[2, 2, 0], 4).data, vec![5.0, 2.0]);
    }

    #[test]
    fn two_frequency_centroids_show_their_circle_in_the_leading_plane() {
        // Centroids c ↦ (cos, sin)(2π·3c/47) with weight 2 and (cos, sin)(2π·13c/47) with
        // weight 1: one loop in the leading plane (frequency 3's circle, 80% of the variance).
        let p = 47;
        let targets: Vec<u32> = (0..p as u32).collect();
        let points: Vec<f32> = (0..p)
            .flat_map(|c| {
                let (a, b) = (2.0 * PI * 3.0 * c as f64 / p as f64, 2.0 * PI * 13.0 * c as f64 / p as f64);
                [2.0 * a.cos(), 2.0 * a.sin(), b.cos(), b.sin()].map(|v| v as f32)
            })
            .collect();
        let g = RepresentationGeometry::of(&points, 4, &targets, p);
        assert_eq!(g.centroid_plane.beta1_at_scale(), 1);
        assert!((g.centroid_plane_share - 0.8).abs() < 1e-9, "{}", g.centroid_plane_share);
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
