//! Embedding lookup and its scatter-add backward.

/// Gathers table rows: out[i] = table[idx[i]]. table [vocab, dim], idx [n] → out [n, dim].
/// Panics on an index ≥ vocab.
pub fn embedding_forward(table: &[f64], vocab: usize, dim: usize, idx: &[u32]) -> Vec<f64> {
    assert_eq!(table.len(), vocab * dim, "embedding_forward: table must be [vocab, dim]");
    let mut out = Vec::with_capacity(idx.len() * dim);
    for &i in idx {
        let i = i as usize;
        assert!(i < vocab, "embedding_forward: index {i} ≥ vocab {vocab}");
        out.extend_from_slice(&table[i * dim..(i + 1) * dim]);
    }
    out
}

/// Backward of [`embedding_forward`]: dtable[v] = Σ_{i: idx[i] = v} dy[i], summed in increasing
/// i (the fixed order the GPU kernel must also use to stay deterministic).
/// dy [n, dim], idx [n] → dtable [vocab, dim].
pub fn embedding_backward(dy: &[f64], idx: &[u32], vocab: usize, dim: usize) -> Vec<f64> {
    assert_eq!(dy.len(), idx.len() * dim, "embedding_backward: dy must be [n, dim]");
    let mut dtable = vec![0.0; vocab * dim];
    for (row, &i) in dy.chunks(dim).zip(idx) {
        let i = i as usize;
        assert!(i < vocab, "embedding_backward: index {i} ≥ vocab {vocab}");
        dtable[i * dim..(i + 1) * dim].iter_mut().zip(row).for_each(|(d, g)| *d += g);
    }
    dtable
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finite_diff::central_diff_grad;
    use crate::test_util::{assert_grad_close, dot, Rng};

    #[test]
    fn gathers_rows() {
        let table = [0.0, 1.0, 10.0, 11.0, 20.0, 21.0];
        assert_eq!(embedding_forward(&table, 3, 2, &[2, 0, 2]), vec![20.0, 21.0, 0.0, 1.0, 20.0, 21.0]);
    }

    #[test]
    fn backward_matches_finite_differences_with_repeats() {
        let mut rng = Rng::new(7);
        let (vocab, dim) = (5, 3);
        let idx = [4, 1, 4, 4, 0, 1]; // vocab row 2 and 3 unused, row 4 used three times
        let table = rng.vec(vocab * dim);
        let r = rng.vec(idx.len() * dim);
        let numeric = central_diff_grad(|t| dot(&r, &embedding_forward(t, vocab, dim, &idx)), &table, 1e-6);
        // Tolerance 1e-8·scale: linear in the table, only rounding error.
        assert_grad_close("dtable", &embedding_backward(&r, &idx, vocab, dim), &numeric, 1e-8);
    }

    #[test]
    #[should_panic(expected = "index 3")]
    fn rejects_out_of_range_index() {
        embedding_forward(&[0.0; 6], 3, 2, &[3]);
    }
}
