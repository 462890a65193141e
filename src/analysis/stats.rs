//! Statistics across runs: mean and sample standard deviation, and the two-sided sign test
//! (is a precursor's lead over grokking positive more often than chance?).

/// Mean and sample standard deviation (n − 1 in the denominator; 0 for a single value);
/// None for no values.
pub fn mean_sd(values: &[f64]) -> Option<(f64, f64)> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let mean = values.iter().sum::<f64>() / n as f64;
    let sd = if n > 1 { (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt() } else { 0.0 };
    Some((mean, sd))
}

/// Two-sided exact sign test of `positive` against `negative` outcomes (ties are left out
/// before counting): p = min(1, 2·P(X ≤ min(positive, negative))), X ~ Binomial(n, ½).
/// None when there is no outcome.
pub fn sign_test_p(positive: usize, negative: usize) -> Option<f64> {
    let n = positive + negative;
    if n == 0 {
        return None;
    }
    // C(n, i)/2^n accumulated in f64 through the ratio C(n, i+1) = C(n, i)·(n−i)/(i+1),
    // starting from 2^−n (exact for the n of any experiment, far below f64's range limits).
    let mut term = 0.5f64.powi(n as i32);
    let mut tail = 0.0;
    for i in 0..=positive.min(negative) {
        tail += term;
        term *= (n - i) as f64 / (i + 1) as f64;
    }
    Some((2.0 * tail).min(1.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_test_known_values() {
        // Seed 004: all nine leads positive → p = 2·0.5⁹ = 0.00390625.
        assert_eq!(sign_test_p(9, 0), Some(2.0 * 0.5f64.powi(9)));
        assert!((sign_test_p(9, 0).unwrap() - 0.0039).abs() < 1e-4);
        assert_eq!(sign_test_p(0, 9), sign_test_p(9, 0));
        // 8 of 10: 2·(1 + 10 + 45)/1024 = 0.109375 (binomial table).
        assert!((sign_test_p(8, 2).unwrap() - 0.109375).abs() < 1e-15);
        assert_eq!(sign_test_p(3, 3), Some(1.0));
        assert_eq!(sign_test_p(0, 0), None);
    }

    #[test]
    fn mean_and_sample_sd() {
        let (m, s) = mean_sd(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]).unwrap();
        assert_eq!(m, 5.0);
        assert!((s - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
        assert_eq!(mean_sd(&[3.0]), Some((3.0, 0.0)));
        assert_eq!(mean_sd(&[]), None);
    }
}
