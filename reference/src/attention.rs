//! Fused causal multi-head self-attention, as one op on the packed qkv projection.
//!
//! qkv [B, T, 3d] holds q in columns 0..d, k in d..2d and v in 2d..3d; head h owns columns
//! h·dh..(h+1)·dh of each, dh = d/H. Query t attends to keys 0..=t with scores q·k/√dh.

use crate::softmax::{softmax, softmax_backward};

/// Shapes and column offsets shared by forward and backward.
struct Layout {
    t: usize,
    d: usize,
    dh: usize,
    scale: f64,
}

impl Layout {
    fn new(qkv_len: usize, b: usize, t: usize, d: usize, heads: usize) -> Self {
        assert!(heads > 0 && d % heads == 0, "attention: d = {d} must split into {heads} heads");
        assert_eq!(qkv_len, b * t * 3 * d, "attention: qkv must be [B, T, 3d]");
        let dh = d / heads;
        Layout { t, d, dh, scale: 1.0 / (dh as f64).sqrt() }
    }

    /// Index into qkv of batch `b`, position `pos`, part 0 (q), 1 (k) or 2 (v), head `h`,
    /// feature `j`.
    fn qkv(&self, b: usize, pos: usize, part: usize, h: usize, j: usize) -> usize {
        (b * self.t + pos) * 3 * self.d + part * self.d + h * self.dh + j
    }

    /// Index into out / dout [B, T, d].
    fn out(&self, b: usize, pos: usize, h: usize, j: usize) -> usize {
        (b * self.t + pos) * self.d + h * self.dh + j
    }
}

/// Causal attention. qkv [B, T, 3d] → (out [B, T, d], probs [B, H, T, T]); probs[b, h, t, u]
/// is query t's weight on key u, exactly 0 for u > t. out[b, t, head h] = Σ_u probs·v_u.
pub fn attention_forward(qkv: &[f64], b: usize, t: usize, d: usize, heads: usize) -> (Vec<f64>, Vec<f64>) {
    let l = Layout::new(qkv.len(), b, t, d, heads);
    let mut out = vec![0.0; b * t * d];
    let mut probs = vec![0.0; b * heads * t * t];
    for bi in 0..b {
        for h in 0..heads {
            for tq in 0..t {
                // Only keys 0..=tq exist for this query: the causal mask as a shorter softmax.
                let scores: Vec<f64> = (0..=tq)
                    .map(|u| (0..l.dh).map(|j| qkv[l.qkv(bi, tq, 0, h, j)] * qkv[l.qkv(bi, u, 1, h, j)]).sum::<f64>() * l.scale)
                    .collect();
                let p = softmax(&scores, 1, tq + 1);
                let row = ((bi * heads + h) * t + tq) * t;
                probs[row..=row + tq].copy_from_slice(&p);
                for j in 0..l.dh {
                    out[l.out(bi, tq, h, j)] = (0..=tq).map(|u| p[u] * qkv[l.qkv(bi, u, 2, h, j)]).sum();
                }
            }
        }
    }
    (out, probs)
}

/// Backward of [`attention_forward`] from the saved probs.
/// dv_u = Σ_t p[t,u]·dout_t; dp[t,u] = dout_t·v_u; ds = softmax backward of dp over keys ≤ t;
/// dq_t = Σ_u ds[t,u]·k_u/√dh; dk_u = Σ_t ds[t,u]·q_t/√dh.
/// qkv [B, T, 3d], probs [B, H, T, T], dout [B, T, d] → dqkv [B, T, 3d].
pub fn attention_backward(qkv: &[f64], probs: &[f64], dout: &[f64], b: usize, t: usize, d: usize, heads: usize) -> Vec<f64> {
    let l = Layout::new(qkv.len(), b, t, d, heads);
    assert_eq!(probs.len(), b * heads * t * t, "attention_backward: probs must be [B, H, T, T]");
    assert_eq!(dout.len(), b * t * d, "attention_backward: dout must be [B, T, d]");
    let mut dqkv = vec![0.0; qkv.len()];
    for bi in 0..b {
        for h in 0..heads {
            for tq in 0..t {
                let row = ((bi * heads + h) * t + tq) * t;
                let p = &probs[row..=row + tq];
                let dp: Vec<f64> = (0..=tq)
                    .map(|u| (0..l.dh).map(|j| dout[l.out(bi, tq, h, j)] * qkv[l.qkv(bi, u, 2, h, j)]).sum())
                    .collect();
                let ds = softmax_backward(p, &dp, 1, tq + 1);
                for u in 0..=tq {
                    for j in 0..l.dh {
                        dqkv[l.qkv(bi, u, 2, h, j)] += p[u] * dout[l.out(bi, tq, h, j)];
                        dqkv[l.qkv(bi, tq, 0, h, j)] += ds[u] * qkv[l.qkv(bi, u, 1, h, j)] * l.scale;
                        dqkv[l.qkv(bi, u, 1, h, j)] += ds[u] * qkv[l.qkv(bi, tq, 0, h, j)] * l.scale;
                    }
                }
            }
        }
    }
    dqkv
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finite_diff::central_diff_grad;
    use crate::test_util::{assert_all_close, assert_grad_close, dot, Rng};

    #[test]
    fn hand_example_two_heads() {
        // B = 1, T = 2, d = 2, H = 2 (dh = 1, scale 1). Columns: q0 q1 | k0 k1 | v0 v1.
        // Head 0: q = 0 at t = 1, so it averages v0 over both positions: (1 + 3)/2 = 2.
        // Head 1: q1 = ln 3 at t = 1, k1 = (0, 1): scores (0, ln 3) → probs (1/4, 3/4),
        // out = (10 + 3·30)/4 = 25. At t = 0 every head returns its own v.
        let l3 = 3f64.ln();
        let qkv = [
            5.0, 7.0, 1.0, 0.0, 1.0, 10.0, // t = 0
            0.0, l3, 2.0, 1.0, 3.0, 30.0, // t = 1
        ];
        let (out, probs) = attention_forward(&qkv, 1, 2, 2, 2);
        assert_all_close("out", &out, &[1.0, 10.0, 2.0, 25.0], 1e-14);
        assert_all_close("probs", &probs, &[1.0, 0.0, 0.5, 0.5, 1.0, 0.0, 0.25, 0.75], 1e-15);
    }

    #[test]
    fn future_positions_do_not_leak() {
        let mut rng = Rng::new(9);
        let (b, t, d, heads) = (2, 4, 6, 3);
        let qkv = rng.vec(b * t * 3 * d);
        let (out, _) = attention_forward(&qkv, b, t, d, heads);
        // Change everything at the last position of batch 0: earlier outputs must not move.
        let mut changed = qkv.clone();
        changed[(t - 1) * 3 * d..t * 3 * d].iter_mut().for_each(|v| *v += 1.0);
        let (out2, _) = attention_forward(&changed, b, t, d, heads);
        assert_eq!(out[..(t - 1) * d], out2[..(t - 1) * d]);
        assert_ne!(out[(t - 1) * d..t * d], out2[(t - 1) * d..t * d]);
    }

    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = Rng::new(10);
        let (b, t, d, heads) = (2, 4, 6, 2);
        let qkv: Vec<f64> = rng.vec(b * t * 3 * d).iter().map(|v| 2.0 * v).collect();
        let r = rng.vec(b * t * d);
        let (_, probs) = attention_forward(&qkv, b, t, d, heads);
        let dqkv = attention_backward(&qkv, &probs, &r, b, t, d, heads);
        let numeric = central_diff_grad(|x| dot(&r, &attention_forward(x, b, t, d, heads).0), &qkv, 1e-6);
        // Tolerance 1e-8·scale: smooth in qkv; measured error ≈ 1e-10.
        assert_grad_close("dqkv", &dqkv, &numeric, 1e-8);
    }
}
