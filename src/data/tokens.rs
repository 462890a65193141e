//! Token encoding of docs/runs.md: numbers 0..p−1, `op` = p, `=` = p + 1; sequence [x, op, y, =].

/// Sequence length T of the Transformer input.
pub const SEQ_LEN: usize = 4;

/// The operator token.
pub fn op_token(p: u32) -> u32 {
    p
}

/// The `=` token, the position the answer is read at.
pub fn eq_token(p: u32) -> u32 {
    p + 1
}

/// Vocabulary size V = p + 2.
pub fn vocab(p: u32) -> usize {
    p as usize + 2
}

/// [x, op, y, =].
pub fn sequence(p: u32, x: u32, y: u32) -> [u32; SEQ_LEN] {
    [x, op_token(p), y, eq_token(p)]
}

/// The sequences of examples `indices` of operand lists xs, ys: row-major [n, T].
pub fn sequences(p: u32, xs: &[u32], ys: &[u32], indices: &[u32]) -> Vec<u32> {
    indices.iter().flat_map(|&i| sequence(p, xs[i as usize], ys[i as usize])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        assert_eq!(sequence(97, 3, 5), [3, 97, 5, 98]);
        assert_eq!(vocab(97), 99);
        assert_eq!(sequences(7, &[1, 2, 3], &[4, 5, 6], &[2, 0]), [3, 7, 6, 8, 1, 7, 4, 8]);
    }
}
