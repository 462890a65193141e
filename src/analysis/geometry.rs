//! Representation geometry (docs/analyses.md § 9, seed 001): PCA participation ratio, TwoNN
//! intrinsic dimension, the H1 persistence of the embedding's point cloud, and attention
//! entropy. Point clouds are the rows of a [`Matrix`]; pairwise work is O(n²·d).

use super::matrix::Matrix;
use std::collections::HashMap;

/// `pca_pr` = (Σλ)²/Σλ² over the eigenvalues λ of the rows' covariance, computed as
/// tr(C)²/‖C‖²_F (no eigendecomposition needed). 1 for points on a line, d for isotropic data.
pub fn pca_pr(x: &Matrix) -> f64 {
    let (n, d) = (x.rows, x.cols);
    let mean = x.mean_row();
    let mut cov = vec![0.0; d * d];
    let mut centred = vec![0.0; d];
    for r in 0..n {
        centred.iter_mut().zip(x.row(r)).zip(&mean).for_each(|((c, v), m)| *c = v - m);
        for a in 0..d {
            let ca = centred[a];
            for (b, cb) in centred.iter().enumerate().skip(a) {
                cov[a * d + b] += ca * cb;
            }
        }
    }
    let (mut trace, mut frobenius_sq) = (0.0, 0.0);
    for a in 0..d {
        trace += cov[a * d + a];
        for b in a..d {
            let v = cov[a * d + b];
            frobenius_sq += if a == b { v * v } else { 2.0 * v * v };
        }
    }
    trace * trace / frobenius_sq
}

fn distances(x: &Matrix) -> Vec<f64> {
    let n = x.rows;
    let mut dist = vec![0.0; n * n];
    for i in 0..n {
        for j in i + 1..n {
            let d: f64 = x.row(i).iter().zip(x.row(j)).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
            dist[i * n + j] = d;
            dist[j * n + i] = d;
        }
    }
    dist
}

/// The share of the largest ratios TwoNN drops.
pub const TWONN_DISCARD: f64 = 0.1;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TwoNn {
    /// The raw estimate ([`twonn_checked`] reports it as `twonn_id` where it stands).
    pub id: f64,
    /// More than half the ratios are 1 (to 1e-6), as on a lattice or a
    /// regular polygon, where the estimate means little.
    pub degenerate: bool,
}

/// The rows with exact duplicates merged.
fn distinct_rows(x: &Matrix) -> Matrix {
    let mut rows: Vec<&[f64]> = (0..x.rows).map(|r| x.row(r)).collect();
    let order = |a: &&[f64], b: &&[f64]| a.iter().zip(b.iter()).map(|(u, v)| u.total_cmp(v)).find(|o| o.is_ne());
    rows.sort_by(|a, b| order(a, b).unwrap_or(std::cmp::Ordering::Equal));
    rows.dedup_by(|a, b| order(a, b).is_none());
    Matrix::new(rows.len(), x.cols, rows.concat())
}

/// `twonn_id` (Facco et al. 2017): μ_i = r2/r1 over each point's two nearest neighbours,
/// exact duplicate points merged first (the neighbours are distinct points); sort μ, drop
/// the largest 10%, and fit d = Σxy/Σx² with x = ln μ_(i), y = −ln(1 − i/N), i = 1..⌊0.9N⌋.
pub fn twonn_id(x: &Matrix) -> TwoNn {
    let x = &distinct_rows(x);
    let n = x.rows;
    let dist = distances(x);
    let mut mu: Vec<f64> = (0..n)
        .filter_map(|i| {
            let (mut r1, mut r2) = (f64::INFINITY, f64::INFINITY);
            for &d in &dist[i * n..(i + 1) * n] {
                if d > 0.0 && d < r2 {
                    if d < r1 {
                        r2 = r1;
                        r1 = d;
                    } else {
                        r2 = d;
                    }
                }
            }
            r2.is_finite().then_some(r2 / r1)
        })
        .collect();
    mu.sort_by(f64::total_cmp);
    let count = mu.len() as f64;
    let degenerate = mu.iter().filter(|&&m| m < 1.0 + 1e-6).count() as f64 > 0.5 * count;
    let kept = (count * (1.0 - TWONN_DISCARD)).floor() as usize;
    let (mut sxy, mut sxx) = (0.0, 0.0);
    for (i, m) in mu.iter().take(kept).enumerate() {
        let (xv, yv) = (m.ln(), -(1.0 - (i + 1) as f64 / count).ln());
        sxy += xv * yv;
        sxx += xv * xv;
    }
    TwoNn { id: sxy / sxx, degenerate }
}

/// Why a TwoNN estimate of `points` distinct points in R^`width` is reported as null, or None
/// when it stands. The estimate is undefined below 3 distinct points or when most ratios are 1,
/// and meaningless outside [1, ambient dimension], the ambient dimension being
/// min(width, points − 1) (n points span at most n − 1 directions).
pub fn twonn_null_reason(t: &TwoNn, points: usize, width: usize) -> Option<String> {
    let ambient = width.min(points.saturating_sub(1));
    if points < 3 {
        Some(format!("{points} distinct points (TwoNN needs at least 3)"))
    } else if t.degenerate {
        Some("most neighbour ratios are 1 (a lattice or regular polygon)".to_string())
    } else if !t.id.is_finite() {
        Some("the neighbour ratios have no spread".to_string())
    } else if t.id < 1.0 {
        Some(format!("estimate {:.3} is below 1", t.id))
    } else if t.id > ambient as f64 {
        Some(format!("estimate {:.1} exceeds the ambient dimension {ambient}", t.id))
    } else {
        None
    }
}

/// A TwoNN estimate that is null, with the reason, where it means nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckedTwoNn {
    pub id: Option<f64>,
    pub null_reason: Option<String>,
}

/// `twonn_id` with [`twonn_null_reason`] applied.
pub fn twonn_checked(x: &Matrix) -> CheckedTwoNn {
    let t = twonn_id(x);
    let reason = twonn_null_reason(&t, distinct_rows(x).rows, x.cols);
    CheckedTwoNn { id: reason.is_none().then_some(t.id), null_reason: reason }
}

/// Bars shorter than this fraction of the threshold are ties split by rounding, not features.
pub const BAR_TIE_TOLERANCE: f64 = 1e-9;

/// H1 persistence of a point cloud.
#[derive(Clone, Debug, PartialEq)]
pub struct Betti1 {
    /// (birth, death) of every H1 bar, longest first.
    pub bars: Vec<(f64, f64)>,
    /// The enclosing radius min_i max_j d(i, j): the complex is a cone there, so every H1
    /// class has died by then.
    pub threshold: f64,
    /// `betti1_persistence`: death/birth of the longest bar; NaN without bars.
    pub longest_ratio: f64,
}

/// A triangle in filtration order: by diameter, ties by vertex code.
type Simplex = (f64, u64);

fn cmp_simplex(a: &Simplex, b: &Simplex) -> std::cmp::Ordering {
    a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
}

/// Symmetric difference of two sorted columns (addition over Z/2).
fn add_columns(a: &[Simplex], b: &[Simplex]) -> Vec<Simplex> {
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut i, mut j) = (0, 0);
    while i < a.len() && j < b.len() {
        match cmp_simplex(&a[i], &b[j]) {
            std::cmp::Ordering::Less => {
                out.push(a[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(b[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&a[i..]);
    out.extend_from_slice(&b[j..]);
    out
}

fn find(parent: &mut [usize], mut v: usize) -> usize {
    while parent[v] != v {
        parent[v] = parent[parent[v]];
        v = parent[v];
    }
    v
}

/// `betti1_persistence`: H1 of the Vietoris–Rips filtration of the rows (meant for ≤ ~150
/// points), up to the enclosing radius, with Z/2 coefficients. Computed as persistent
/// cohomology (as Ripser does): the coboundary columns of the edges, longest edge first, are
/// reduced with each column's pivot its earliest coface triangle; the edges that merge
/// components (H0 deaths) are cleared first. A reduced column of edge e with pivot triangle τ
/// is the bar [|e|, diam τ).
pub fn betti1_persistence(x: &Matrix) -> Betti1 {
    let n = x.rows;
    let dist = distances(x);
    let threshold = (0..n)
        .map(|i| dist[i * n..(i + 1) * n].iter().copied().fold(0.0, f64::max))
        .fold(f64::INFINITY, f64::min);
    let mut edges: Vec<(f64, usize, usize)> = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .filter(|&(i, j)| dist[i * n + j] <= threshold)
        .map(|(i, j)| (dist[i * n + j], i, j))
        .collect();
    edges.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.1, a.2).cmp(&(b.1, b.2))));

    let mut parent: Vec<usize> = (0..n).collect();
    let merges: Vec<bool> = edges
        .iter()
        .map(|&(_, i, j)| {
            let (a, b) = (find(&mut parent, i), find(&mut parent, j));
            parent[a.max(b)] = a.min(b);
            a != b
        })
        .collect();

    let coboundary = |i: usize, j: usize| -> Vec<Simplex> {
        let mut column: Vec<Simplex> = (0..n)
            .filter(|&k| k != i && k != j && dist[i * n + k] <= threshold && dist[j * n + k] <= threshold)
            .map(|k| {
                let mut v = [i, j, k];
                v.sort_unstable();
                let diameter = dist[i * n + j].max(dist[i * n + k]).max(dist[j * n + k]);
                (diameter, ((v[0] * n + v[1]) * n + v[2]) as u64)
            })
            .collect();
        column.sort_by(cmp_simplex);
        column
    };

    let mut reduced: Vec<Vec<Simplex>> = Vec::new();
    let mut pivot_owner: HashMap<u64, usize> = HashMap::new();
    let mut bars = Vec::new();
    for (e, &(length, i, j)) in edges.iter().enumerate().rev() {
        if merges[e] {
            continue;
        }
        let mut column = coboundary(i, j);
        while let Some(&pivot) = column.first() {
            match pivot_owner.get(&pivot.1) {
                Some(&owner) => column = add_columns(&column, &reduced[owner]),
                None => {
                    pivot_owner.insert(pivot.1, reduced.len());
                    if pivot.0 - length > BAR_TIE_TOLERANCE * threshold {
                        bars.push((length, pivot.0));
                    }
                    break;
                }
            }
        }
        reduced.push(column);
    }
    bars.sort_by(|a, b| (b.1 - b.0).total_cmp(&(a.1 - a.0)));
    let longest_ratio = bars.first().map_or(f64::NAN, |&(birth, death)| death / birth);
    Betti1 { bars, threshold, longest_ratio }
}

/// The persistence a bar needs for `beta1` to count it, as a fraction of the enclosing radius
/// (the scale where every loop has died). A circle of radius r (enclosing radius ≈ 2r) has one
/// bar from the widest gap between neighbours to ≈ √3·r, persistence ≈ 0.85 of it; the bars of
/// sampling noise live between neighbouring gaps' scales (under 0.15 in a Gaussian blob).
pub const BETTI_PERSISTENCE: f64 = 0.25;

impl Betti1 {
    /// β₁ at persistence scale [`BETTI_PERSISTENCE`] × the enclosing radius: the bars at least
    /// that long.
    pub fn beta1_at_scale(&self) -> usize {
        let scale = BETTI_PERSISTENCE * self.threshold;
        self.bars.iter().filter(|&&(birth, death)| death - birth >= scale).count()
    }

    /// (death − birth)/enclosing radius of the longest bar: 0 without bars, near 1 when a loop
    /// spans the whole cloud.
    pub fn longest_persistence(&self) -> f64 {
        self.bars.first().map_or(0.0, |&(birth, death)| (death - birth) / self.threshold)
    }
}

/// `attn_entropy` of one layer: for attention probabilities [batch, heads, T, T] (rows are
/// queries), the entropy −Σ p·ln p in nats of the last query's row, averaged over the batch:
/// [heads].
pub fn last_query_entropy(probs: &[f64], batch: usize, heads: usize, t: usize) -> Vec<f64> {
    assert_eq!(probs.len(), batch * heads * t * t, "last_query_entropy: probs must be [batch, heads, T, T]");
    (0..heads)
        .map(|h| {
            (0..batch)
                .map(|b| {
                    let row = ((b * heads + h) * t + t - 1) * t;
                    -probs[row..row + t].iter().filter(|&&p| p > 0.0).map(|p| p * p.ln()).sum::<f64>()
                })
                .sum::<f64>()
                / batch as f64
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::rng::Rng;
    use std::f64::consts::PI;

    fn polygon(n: usize) -> Matrix {
        Matrix::from_fn(n, 2, |t, j| {
            let angle = 2.0 * PI * t as f64 / n as f64;
            if j == 0 { angle.cos() } else { angle.sin() }
        })
    }

    fn random_circle(n: usize, noise: f64, seed: u64) -> Matrix {
        let mut rng = Rng::new(seed);
        let points: Vec<(f64, f64)> = (0..n)
            .map(|_| {
                let (angle, r) = (2.0 * PI * rng.uniform(), 1.0 + noise * rng.normal());
                (r * angle.cos(), r * angle.sin())
            })
            .collect();
        Matrix::from_fn(n, 2, |t, j| if j == 0 { points[t].0 } else { points[t].1 })
    }

    #[test]
    fn participation_ratio_counts_equal_directions() {
        // Points spread equally along 3 orthogonal axes of R^5 (plus a constant offset).
        let x = Matrix::from_fn(300, 5, |t, j| match (j, t % 3) {
            (0, 0) | (2, 1) | (4, 2) => if t % 2 == 0 { 1.0 } else { -1.0 },
            (1, _) => 7.0,
            _ => 0.0,
        });
        assert!((pca_pr(&x) - 3.0).abs() < 1e-3, "{}", pca_pr(&x));
        let mut rng = Rng::new(2);
        let along: Vec<f64> = (0..50).map(|_| rng.normal()).collect();
        let line = Matrix::from_fn(50, 4, |t, j| along[t] * (j + 1) as f64);
        assert!((pca_pr(&line) - 1.0).abs() < 1e-12, "{}", pca_pr(&line));
    }

    #[test]
    fn twonn_of_a_circle_and_a_square() {
        let circle = twonn_id(&random_circle(1000, 0.0, 3));
        assert!((circle.id - 1.0).abs() < 0.1 && !circle.degenerate, "circle {circle:?}");
        let mut rng = Rng::new(4);
        let square = twonn_id(&Matrix::from_fn(1000, 2, |_, _| rng.uniform()));
        assert!((square.id - 2.0).abs() < 0.2 && !square.degenerate, "square {square:?}");
    }

    #[test]
    fn twonn_flags_a_regular_polygon_and_skips_duplicates() {
        assert!(twonn_id(&polygon(97)).degenerate);
        let circle = random_circle(300, 0.0, 5);
        let doubled = Matrix::from_fn(600, 2, |t, j| circle.at(t % 300, j));
        assert_eq!(twonn_id(&doubled), twonn_id(&circle), "duplicates merge");
    }

    #[test]
    fn regular_97_gon_has_exactly_one_bar() {
        let b = betti1_persistence(&polygon(97));
        assert_eq!(b.bars.len(), 1, "{:?}", &b.bars[..b.bars.len().min(5)]);
        let (birth, death) = b.bars[0];
        // Tolerance 1e-12: chord lengths from rounded coordinates.
        assert!((birth - 2.0 * (PI / 97.0).sin()).abs() < 1e-12, "birth {birth}");
        assert!((death - 2.0 * (33.0 * PI / 97.0).sin()).abs() < 1e-12, "death {death}");
        assert!((b.longest_ratio - death / birth).abs() < 1e-12);
    }

    #[test]
    fn beta1_counts_the_circle_not_the_noise() {
        let circle = betti1_persistence(&random_circle(120, 0.02, 6));
        assert_eq!(circle.beta1_at_scale(), 1, "{:?}", &circle.bars[..3]);
        assert!(circle.longest_persistence() > 0.6, "{}", circle.longest_persistence());
        let polygon = betti1_persistence(&polygon(97));
        assert_eq!(polygon.beta1_at_scale(), 1);
        let mut rng = Rng::new(7);
        let blob = betti1_persistence(&Matrix::from_fn(80, 3, |_, _| rng.normal()));
        assert_eq!(blob.beta1_at_scale(), 0, "{:?}", &blob.bars[..3]);
        assert!(blob.longest_persistence() < 0.3, "{}", blob.longest_persistence());
    }

    #[test]
    fn twonn_is_null_with_a_reason_outside_one_to_the_ambient_dimension() {
        // 47 Gaussian points in R^64: ambient dimension 46; the estimate is far above the
        // sample's reach or not, but whenever reported it lies in [1, 46].
        let mut rng = Rng::new(8);
        let few = twonn_checked(&Matrix::from_fn(47, 64, |_, _| rng.normal()));
        assert!(few.id.is_none_or(|d| (1.0..=46.0).contains(&d)), "{few:?}");
        assert_eq!(few.id.is_none(), few.null_reason.is_some());
        let polygon = twonn_checked(&polygon(97));
        assert_eq!(polygon.id, None);
        assert!(polygon.null_reason.unwrap().starts_with("most neighbour ratios are 1"));
        let two = twonn_checked(&Matrix::new(2, 2, vec![0.0, 0.0, 1.0, 1.0]));
        assert_eq!(two.null_reason.as_deref(), Some("2 distinct points (TwoNN needs at least 3)"));
        let t = TwoNn { id: 70.0, degenerate: false };
        assert_eq!(twonn_null_reason(&t, 47, 64).as_deref(), Some("estimate 70.0 exceeds the ambient dimension 46"));
        let t = TwoNn { id: 0.23, degenerate: false };
        assert_eq!(twonn_null_reason(&t, 1000, 64).as_deref(), Some("estimate 0.230 is below 1"));
        assert_eq!(twonn_checked(&random_circle(1000, 0.0, 3)).null_reason, None);
    }

    #[test]
    fn unit_square_corners_have_one_bar_from_side_to_diagonal() {
        let square = Matrix::new(4, 2, vec![0.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 1.0]);
        let b = betti1_persistence(&square);
        assert_eq!(b.bars.len(), 1);
        assert!((b.bars[0].0 - 1.0).abs() < 1e-15 && (b.bars[0].1 - 2f64.sqrt()).abs() < 1e-15, "{:?}", b.bars);
        assert!((b.threshold - 2f64.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn noisy_circle_has_one_long_bar_and_a_blob_none() {
        let b = betti1_persistence(&random_circle(120, 0.02, 6));
        let (birth, death) = b.bars[0];
        // Birth: the widest gap between neighbours (≈ 2π·ln n/n); death: near the inscribed
        // equilateral triangle's side √3.
        assert!(death > 1.6 && birth < 0.35, "longest {:?}", b.bars[0]);
        assert!(b.bars[1..].iter().all(|&(s, e)| e - s < 0.1 * (death - birth)), "{:?}", &b.bars[..3]);
        let mut rng = Rng::new(7);
        let blob = betti1_persistence(&Matrix::from_fn(80, 3, |_, _| rng.normal()));
        assert!(blob.longest_ratio < 2.0, "Gaussian blob: {}", blob.longest_ratio);
    }

    #[test]
    fn uniform_attention_over_four_keys_has_entropy_ln_4() {
        // Batch 2, heads 3, T = 4: head 0 uniform on the last row, head 1 one-hot, head 2
        // (1/2, 1/2, 0, 0). Other rows are arbitrary and ignored.
        let (batch, heads, t) = (2, 3, 4);
        let mut probs = vec![0.25; batch * heads * t * t];
        for b in 0..batch {
            let last = |h: usize| ((b * heads + h) * t + t - 1) * t;
            probs[last(1)..last(1) + 4].copy_from_slice(&[0.0, 0.0, 0.0, 1.0]);
            probs[last(2)..last(2) + 4].copy_from_slice(&[0.5, 0.5, 0.0, 0.0]);
        }
        let h = last_query_entropy(&probs, batch, heads, t);
        assert!((h[0] - 4f64.ln()).abs() < 1e-15, "{}", h[0]);
        assert_eq!(h[1], 0.0);
        assert!((h[2] - 2f64.ln()).abs() < 1e-15);
    }
}
