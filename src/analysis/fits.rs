//! Least-squares fits of a delay Δt against a rate λ (seed 004's Δt ∝ 1/λ): through the
//! origin against 1/λ, and with a free exponent in log-log space.

/// Δt = C/λ: least squares of Δt on x = 1/λ through the origin, C = Σ x·Δt / Σ x², with
/// R² = 1 − SS_res/SS_tot about the mean Δt (linear space, as the figure of Δt against 1/λ
/// shows it).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InverseFit {
    pub c: f64,
    pub r2: f64,
}

/// Δt = C·λ^−a: ordinary least squares of ln Δt on ln λ; R² in log space.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PowerFit {
    pub c: f64,
    pub a: f64,
    pub r2: f64,
}

fn r2(observed: &[f64], fitted: &[f64]) -> f64 {
    let mean = observed.iter().sum::<f64>() / observed.len() as f64;
    let ss_tot: f64 = observed.iter().map(|y| (y - mean).powi(2)).sum();
    let ss_res: f64 = observed.iter().zip(fitted).map(|(y, f)| (y - f).powi(2)).sum();
    if ss_tot == 0.0 {
        return if ss_res == 0.0 { 1.0 } else { 0.0 };
    }
    1.0 - ss_res / ss_tot
}

/// The fit Δt = C/λ of (λ, Δt) points with λ > 0; None for fewer than two points.
pub fn inverse_fit(points: &[(f64, f64)]) -> Option<InverseFit> {
    if points.len() < 2 || points.iter().any(|&(l, _)| l <= 0.0) {
        return None;
    }
    let x: Vec<f64> = points.iter().map(|&(l, _)| 1.0 / l).collect();
    let y: Vec<f64> = points.iter().map(|&(_, t)| t).collect();
    let c = x.iter().zip(&y).map(|(x, y)| x * y).sum::<f64>() / x.iter().map(|x| x * x).sum::<f64>();
    let fitted: Vec<f64> = x.iter().map(|x| c * x).collect();
    Some(InverseFit { c, r2: r2(&y, &fitted) })
}

/// The fit Δt = C·λ^−a of (λ, Δt) points with λ, Δt > 0; None for fewer than two distinct λ.
pub fn power_fit(points: &[(f64, f64)]) -> Option<PowerFit> {
    if points.iter().any(|&(l, t)| l <= 0.0 || t <= 0.0) {
        return None;
    }
    let x: Vec<f64> = points.iter().map(|&(l, _)| l.ln()).collect();
    let y: Vec<f64> = points.iter().map(|&(_, t)| t.ln()).collect();
    let n = x.len() as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let sxx: f64 = x.iter().map(|x| (x - mx).powi(2)).sum();
    if points.len() < 2 || sxx == 0.0 {
        return None;
    }
    let slope = x.iter().zip(&y).map(|(x, y)| (x - mx) * (y - my)).sum::<f64>() / sxx;
    let intercept = my - slope * mx;
    let fitted: Vec<f64> = x.iter().map(|x| intercept + slope * x).collect();
    Some(PowerFit { c: intercept.exp(), a: -slope, r2: r2(&y, &fitted) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_inverse_law_fits_with_r2_one() {
        let points: Vec<(f64, f64)> = [0.1, 0.3, 1.0, 3.0].iter().map(|&l| (l, 500.0 / l)).collect();
        let f = inverse_fit(&points).unwrap();
        assert!((f.c - 500.0).abs() < 1e-9 && (f.r2 - 1.0).abs() < 1e-12, "{f:?}");
        let p = power_fit(&points).unwrap();
        assert!((p.a - 1.0).abs() < 1e-12 && (p.c - 500.0).abs() < 1e-9 && (p.r2 - 1.0).abs() < 1e-12, "{p:?}");
    }

    #[test]
    fn a_square_law_shows_in_the_exponent_and_worsens_the_inverse_fit() {
        let points: Vec<(f64, f64)> = [0.5, 1.0, 2.0].iter().map(|&l: &f64| (l, 100.0 / (l * l))).collect();
        assert!((power_fit(&points).unwrap().a - 2.0).abs() < 1e-12);
        // Through the origin on x = 1/λ ∈ {2, 1, 0.5}: C = Σ x·y / Σ x² = (800 + 100 + 12.5)/5.25.
        let f = inverse_fit(&points).unwrap();
        assert!((f.c - 912.5 / 5.25).abs() < 1e-9);
        assert!(f.r2 < 0.99);
        assert_eq!(inverse_fit(&points[..1]), None);
        assert_eq!(power_fit(&[(1.0, 5.0), (1.0, 6.0)]), None);
    }
}
