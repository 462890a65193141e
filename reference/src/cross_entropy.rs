//! The two classification losses of docs/runs.md (mean cross-entropy after softmax or stablemax),
//! their gradients, and the accuracy helpers. Both losses are means over rows, so each row's
//! gradient carries a 1/rows factor.

/// Which normalization turns logits into probabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    /// Softmax cross-entropy.
    Ce,
    /// Stablemax cross-entropy (Prieto et al. 2025).
    Stablemax,
}

/// Per-row softmax cross-entropy −ln softmax(x)[target] = logsumexp(x) − x_target.
/// logits [rows, classes], targets [rows] → [rows].
pub fn softmax_xent_rows(logits: &[f64], targets: &[u32], rows: usize, classes: usize) -> Vec<f64> {
    check_shapes(logits, targets, rows, classes);
    logits
        .chunks(classes)
        .zip(targets)
        .map(|(row, &t)| log_sum_exp(row) - row[t as usize])
        .collect()
}

/// Mean softmax cross-entropy and its gradient dlogits = (softmax(x) − onehot(target)) / rows.
/// logits [rows, classes], targets [rows] → (loss, dlogits [rows, classes]).
pub fn softmax_xent(
    logits: &[f64],
    targets: &[u32],
    rows: usize,
    classes: usize,
) -> (f64, Vec<f64>) {
    let loss = mean(&softmax_xent_rows(logits, targets, rows, classes));
    let mut dlogits = Vec::with_capacity(logits.len());
    for (row, &t) in logits.chunks(classes).zip(targets) {
        let lse = log_sum_exp(row);
        dlogits.extend(row.iter().enumerate().map(|(j, &x)| {
            let onehot = if j == t as usize { 1.0 } else { 0.0 };
            ((x - lse).exp() - onehot) / rows as f64
        }));
    }
    (loss, dlogits)
}

/// ln Σ exp(x), shifted by the max so it cannot overflow.
fn log_sum_exp(row: &[f64]) -> f64 {
    let max = row.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
    max + row.iter().map(|&v| (v - max).exp()).sum::<f64>().ln()
}

/// Stablemax's positive map s(x) = x + 1 for x ≥ 0, 1/(1 − x) for x < 0: it grows linearly
/// instead of exponentially, which is what keeps the loss away from float absorption.
fn s(x: f64) -> f64 {
    if x >= 0.0 {
        x + 1.0
    } else {
        1.0 / (1.0 - x)
    }
}

/// s'(x) = 1 for x ≥ 0, 1/(1 − x)² for x < 0 (s is C¹: both sides give 1 at 0).
fn s_prime(x: f64) -> f64 {
    if x >= 0.0 {
        1.0
    } else {
        1.0 / ((1.0 - x) * (1.0 - x))
    }
}

/// Stablemax probabilities p = s(x) / Σ s(x) per row. x [rows, classes] → p [rows, classes].
pub fn stablemax(x: &[f64], rows: usize, classes: usize) -> Vec<f64> {
    assert_eq!(
        x.len(),
        rows * classes,
        "stablemax: x must be [rows, classes]"
    );
    let mut p = Vec::with_capacity(x.len());
    for row in x.chunks(classes) {
        let total: f64 = row.iter().map(|&v| s(v)).sum();
        p.extend(row.iter().map(|&v| s(v) / total));
    }
    p
}

/// Per-row stablemax cross-entropy −ln(s(x_target) / Σ s(x)) = ln Σ s − ln s(x_target).
/// logits [rows, classes], targets [rows] → [rows].
pub fn stablemax_xent_rows(
    logits: &[f64],
    targets: &[u32],
    rows: usize,
    classes: usize,
) -> Vec<f64> {
    check_shapes(logits, targets, rows, classes);
    logits
        .chunks(classes)
        .zip(targets)
        .map(|(row, &t)| row.iter().map(|&v| s(v)).sum::<f64>().ln() - s(row[t as usize]).ln())
        .collect()
}

/// Mean stablemax cross-entropy and its exact gradient. Per row, with S = Σ s(x):
/// ∂/∂x_j = s'(x_j)/S − [j = target]·s'(x_t)/s(x_t), then divided by rows.
/// logits [rows, classes], targets [rows] → (loss, dlogits [rows, classes]).
pub fn stablemax_xent(
    logits: &[f64],
    targets: &[u32],
    rows: usize,
    classes: usize,
) -> (f64, Vec<f64>) {
    let loss = mean(&stablemax_xent_rows(logits, targets, rows, classes));
    let mut dlogits = Vec::with_capacity(logits.len());
    for (row, &t) in logits.chunks(classes).zip(targets) {
        let total: f64 = row.iter().map(|&v| s(v)).sum();
        dlogits.extend(row.iter().enumerate().map(|(j, &x)| {
            let target_term = if j == t as usize {
                s_prime(x) / s(x)
            } else {
                0.0
            };
            (s_prime(x) / total - target_term) / rows as f64
        }));
    }
    (loss, dlogits)
}

/// Per-row loss of either kind. logits [rows, classes], targets [rows] → [rows].
pub fn loss_rows(
    loss: Loss,
    logits: &[f64],
    targets: &[u32],
    rows: usize,
    classes: usize,
) -> Vec<f64> {
    match loss {
        Loss::Ce => softmax_xent_rows(logits, targets, rows, classes),
        Loss::Stablemax => stablemax_xent_rows(logits, targets, rows, classes),
    }
}

/// Mean loss of either kind and its dlogits. logits [rows, classes], targets [rows]
/// → (loss, dlogits [rows, classes]).
pub fn loss_and_dlogits(
    loss: Loss,
    logits: &[f64],
    targets: &[u32],
    rows: usize,
    classes: usize,
) -> (f64, Vec<f64>) {
    match loss {
        Loss::Ce => softmax_xent(logits, targets, rows, classes),
        Loss::Stablemax => stablemax_xent(logits, targets, rows, classes),
    }
}

/// Index of each row's largest logit; ties go to the lowest index, as torch.argmax does.
/// logits [rows, classes] → [rows].
pub fn argmax_rows(logits: &[f64], rows: usize, classes: usize) -> Vec<u32> {
    assert_eq!(
        logits.len(),
        rows * classes,
        "argmax_rows: logits must be [rows, classes]"
    );
    logits
        .chunks(classes)
        .map(|row| {
            let mut best = 0;
            for (j, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = j;
                }
            }
            best as u32
        })
        .collect()
}

/// Fraction of rows whose argmax equals the target. logits [rows, classes], targets [rows].
pub fn accuracy(logits: &[f64], targets: &[u32], rows: usize, classes: usize) -> f64 {
    check_shapes(logits, targets, rows, classes);
    let correct = argmax_rows(logits, rows, classes)
        .iter()
        .zip(targets)
        .filter(|(a, t)| a == t)
        .count();
    correct as f64 / rows as f64
}

fn check_shapes(logits: &[f64], targets: &[u32], rows: usize, classes: usize) {
    assert_eq!(
        logits.len(),
        rows * classes,
        "logits must be [rows, classes]"
    );
    assert_eq!(targets.len(), rows, "targets must be [rows]");
    assert!(
        targets.iter().all(|&t| (t as usize) < classes),
        "a target is ≥ classes"
    );
}

fn mean(x: &[f64]) -> f64 {
    x.iter().sum::<f64>() / x.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finite_diff::central_diff_grad;
    use crate::test_util::{assert_all_close, assert_grad_close, Rng};

    #[test]
    fn softmax_xent_hand_example() {
        // softmax(0, ln 2, ln 3) = (1, 2, 3)/6. Row 0 targets class 2: loss ln 2; row 1 is the
        // same row shifted by 800 (overflow check) targeting class 0: loss ln 6.
        let l2 = 2f64.ln();
        let l3 = 3f64.ln();
        let logits = [0.0, l2, l3, 800.0, 800.0 + l2, 800.0 + l3];
        let rows = softmax_xent_rows(&logits, &[2, 0], 2, 3);
        assert_all_close("rows", &rows, &[l2, 6f64.ln()], 1e-13);
        let (loss, d) = softmax_xent(&logits, &[2, 0], 2, 3);
        assert!((loss - (l2 + 6f64.ln()) / 2.0).abs() < 1e-13);
        let want = [
            1.0 / 12.0,
            2.0 / 12.0,
            -3.0 / 12.0,
            -5.0 / 12.0,
            2.0 / 12.0,
            3.0 / 12.0,
        ];
        assert_all_close("dlogits", &d, &want, 1e-13);
    }

    #[test]
    fn stablemax_matches_its_definition() {
        // x = (0, 1, −1, 3): s = (1, 2, 1/2, 4), Σ = 7.5.
        let x = [0.0, 1.0, -1.0, 3.0];
        assert_all_close(
            "p",
            &stablemax(&x, 1, 4),
            &[1.0 / 7.5, 2.0 / 7.5, 0.5 / 7.5, 4.0 / 7.5],
            1e-15,
        );
        // Target 1: −ln(2/7.5) = ln 3.75; target 2: −ln(0.5/7.5) = ln 15.
        let rows = stablemax_xent_rows(&[x, x].concat(), &[1, 2], 2, 4);
        assert_all_close("loss", &rows, &[3.75f64.ln(), 15f64.ln()], 1e-15);
        // Gradient for target 2 (x_t = −1, s' = 1/4, s = 1/2): s'(x_j)/7.5 − [j=2]·(1/4)/(1/2).
        let (_, d) = stablemax_xent(&x, &[2], 1, 4);
        let want = [1.0 / 7.5, 1.0 / 7.5, 0.25 / 7.5 - 0.5, 1.0 / 7.5];
        assert_all_close("dlogits", &d, &want, 1e-15);
    }

    #[test]
    fn gradients_match_finite_differences() {
        let mut rng = Rng::new(8);
        let (rows, classes) = (4, 6);
        let logits: Vec<f64> = rng.vec(rows * classes).iter().map(|v| 3.0 * v).collect();
        let targets = rng.indices(rows, classes as u32);
        for loss in [Loss::Ce, Loss::Stablemax] {
            let (_, d) = loss_and_dlogits(loss, &logits, &targets, rows, classes);
            let numeric = central_diff_grad(
                |x| loss_and_dlogits(loss, x, &targets, rows, classes).0,
                &logits,
                1e-6,
            );
            // Tolerance 1e-8·scale: smooth (stablemax is C¹ with a bounded jump in s'' at 0,
            // which no logit is near); error ≈ 1e-10.
            assert_grad_close(&format!("{loss:?}"), &d, &numeric, 1e-8);
        }
    }

    #[test]
    fn argmax_and_accuracy() {
        let logits = [0.1, 0.9, 0.3, 5.0, 5.0, -1.0, -3.0, -2.0, -2.5];
        assert_eq!(argmax_rows(&logits, 3, 3), vec![1, 0, 1]); // row 1 ties: lowest index
        assert_eq!(accuracy(&logits, &[1, 1, 1], 3, 3), 2.0 / 3.0);
    }
}
