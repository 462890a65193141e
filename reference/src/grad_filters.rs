//! The gradient filters that act between backward and the optimizer update (docs/runs.md
//! "Options"), for one tensor of one run: an L1 penalty, Grokfast EMA and MA (Lee et al.
//! 2024) and ⊥Grad (Prieto et al. 2025).
//!
//! Order when several are on: L1 first (it is part of the objective's gradient), then Grokfast
//! EMA, then Grokfast MA (both filter the objective's gradient, in the order a PyTorch user
//! calling `gradfilter_ema` then `gradfilter_ma` would get), then ⊥Grad (it projects the final
//! gradient, as Prieto et al.'s optimizer wrapper does inside `step`).

use std::collections::VecDeque;

/// Which filters are on; all off by default.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct FilterConfig {
    /// λ of the L1 penalty λ·Σ|θ| on the embedding.
    pub l1: Option<f64>,
    pub ortho_grad: bool,
    /// (α, λ) of Grokfast EMA.
    pub grokfast_ema: Option<(f64, f64)>,
    /// (window w, λ) of Grokfast MA.
    pub grokfast_ma: Option<(usize, f64)>,
}

/// g ← g + λ·sign(θ), with sign(0) = 0: the gradient of λ·Σ|θ|. params, grads [n].
pub fn l1_penalty(params: &[f64], grads: &mut [f64], lambda: f64) {
    assert_eq!(params.len(), grads.len(), "l1_penalty: lengths differ");
    for (g, &p) in grads.iter_mut().zip(params) {
        let sign = if p > 0.0 {
            1.0
        } else if p < 0.0 {
            -1.0
        } else {
            0.0
        };
        *g += lambda * sign;
    }
}

/// ⊥Grad: g⊥ = g − (θ·g / θ·θ)·θ rescaled to ‖g‖, in place. g is left unchanged when θ·θ = 0
/// or g⊥ = 0; a one-element tensor always has g⊥ = 0 in exact arithmetic, so it is left
/// unchanged without computing the rounding noise that would stand for g⊥.
/// params, grads [n].
pub fn ortho_grad(params: &[f64], grads: &mut [f64]) {
    assert_eq!(params.len(), grads.len(), "ortho_grad: lengths differ");
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let theta_theta = dot(params, params);
    if grads.len() <= 1 || theta_theta == 0.0 {
        return;
    }
    let proj = dot(params, grads) / theta_theta;
    let orth: Vec<f64> = grads
        .iter()
        .zip(params)
        .map(|(g, p)| g - proj * p)
        .collect();
    let orth_norm = dot(&orth, &orth).sqrt();
    if orth_norm == 0.0 {
        return;
    }
    let rescale = dot(grads, grads).sqrt() / orth_norm;
    for (g, o) in grads.iter_mut().zip(&orth) {
        *g = o * rescale;
    }
}

/// Grokfast EMA: μ ← α·μ + (1−α)·g, g ← g + λ·μ, with μ₁ = g₁ (the first call only stores g).
#[derive(Clone, Debug)]
pub struct GrokfastEma {
    pub alpha: f64,
    pub lambda: f64,
    /// μ; `None` before the first gradient.
    pub mu: Option<Vec<f64>>,
}

impl GrokfastEma {
    pub fn new(alpha: f64, lambda: f64) -> GrokfastEma {
        GrokfastEma {
            alpha,
            lambda,
            mu: None,
        }
    }

    pub fn apply(&mut self, grads: &mut [f64]) {
        let mu = self.mu.get_or_insert_with(|| grads.to_vec());
        assert_eq!(
            mu.len(),
            grads.len(),
            "GrokfastEma: gradient length changed"
        );
        for (m, g) in mu.iter_mut().zip(grads.iter_mut()) {
            *m = self.alpha * *m + (1.0 - self.alpha) * *g;
            *g += self.lambda * *m;
        }
    }
}

/// Grokfast MA: the last `window` gradients (as they enter the filter) are kept; once the
/// window is full, g ← g + λ·mean(window), the current gradient included. Before that, g
/// passes unchanged (the Grokfast code's default `warmup=True`).
#[derive(Clone, Debug)]
pub struct GrokfastMa {
    pub window: usize,
    pub lambda: f64,
    /// Oldest first.
    pub history: VecDeque<Vec<f64>>,
}

impl GrokfastMa {
    pub fn new(window: usize, lambda: f64) -> GrokfastMa {
        assert!(
            window > 0,
            "GrokfastMa: the window holds at least one gradient"
        );
        GrokfastMa {
            window,
            lambda,
            history: VecDeque::new(),
        }
    }

    pub fn apply(&mut self, grads: &mut [f64]) {
        self.history.push_back(grads.to_vec());
        if self.history.len() > self.window {
            self.history.pop_front();
        }
        if self.history.len() < self.window {
            return;
        }
        for (i, g) in grads.iter_mut().enumerate() {
            // Oldest to newest, then divided by w, as the Grokfast code's sum(deque) / len.
            let sum = self.history.iter().fold(0.0, |s, h| s + h[i]);
            *g += self.lambda * (sum / self.window as f64);
        }
    }
}

/// Every filter of a [`FilterConfig`] with its state, for one tensor of one run.
#[derive(Clone, Debug)]
pub struct GradFilter {
    pub config: FilterConfig,
    pub ema: Option<GrokfastEma>,
    pub ma: Option<GrokfastMa>,
}

impl GradFilter {
    pub fn new(config: &FilterConfig) -> GradFilter {
        GradFilter {
            config: *config,
            ema: config
                .grokfast_ema
                .map(|(alpha, lambda)| GrokfastEma::new(alpha, lambda)),
            ma: config
                .grokfast_ma
                .map(|(window, lambda)| GrokfastMa::new(window, lambda)),
        }
    }

    /// Filters one step's gradient in place, in the order of the module docs; `is_embedding`
    /// says whether the L1 penalty applies to this tensor.
    pub fn apply(&mut self, params: &[f64], grads: &mut [f64], is_embedding: bool) {
        if let (Some(lambda), true) = (self.config.l1, is_embedding) {
            l1_penalty(params, grads, lambda);
        }
        if let Some(ema) = &mut self.ema {
            ema.apply(grads);
        }
        if let Some(ma) = &mut self.ma {
            ma.apply(grads);
        }
        if self.config.ortho_grad {
            ortho_grad(params, grads);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{assert_all_close, dot, Rng};

    #[test]
    fn l1_adds_lambda_times_sign() {
        let mut g = [0.1, 0.1, 0.1];
        l1_penalty(&[2.0, -0.5, 0.0], &mut g, 0.01);
        assert_all_close("l1", &g, &[0.11, 0.09, 0.1], 1e-16);
    }

    #[test]
    fn ortho_grad_worked_examples() {
        // θ = (1, 0), g = (3, 4): the θ-component 3 is removed, (0, 4) rescaled to ‖g‖ = 5.
        let mut g = [3.0, 4.0];
        ortho_grad(&[1.0, 0.0], &mut g);
        assert_all_close("θ = (1, 0)", &g, &[0.0, 5.0], 1e-15);
        // θ = (1, 1, 0), g = (1, 0, 1): θ·g / θ·θ = 1/2, g⊥ = (1/2, −1/2, 1), ‖g⊥‖ = √(3/2),
        // ‖g‖ = √2, so g⊥ is scaled by √(4/3).
        let mut g = [1.0, 0.0, 1.0];
        ortho_grad(&[1.0, 1.0, 0.0], &mut g);
        let s = (4.0f64 / 3.0).sqrt();
        assert_all_close("θ = (1, 1, 0)", &g, &[0.5 * s, -0.5 * s, s], 1e-15);
    }

    #[test]
    fn ortho_grad_leaves_degenerate_cases_unchanged() {
        for (theta, grad) in [
            (vec![0.0, 0.0], vec![3.0, 4.0]), // θ·θ = 0
            (vec![1.0, 2.0], vec![2.0, 4.0]), // g ∥ θ: g⊥ = 0
            (vec![1.0, 2.0], vec![0.0, 0.0]), // g = 0
            (vec![0.3], vec![0.7]),           // one element: g⊥ = 0 in exact arithmetic
        ] {
            let mut g = grad.clone();
            ortho_grad(&theta, &mut g);
            assert_eq!(g, grad, "θ = {theta:?}");
        }
    }

    /// Away from the degenerate cases this is Prieto et al.'s formula, as in `optim`.
    #[test]
    fn ortho_grad_matches_optim_on_generic_input() {
        let mut rng = Rng::new(5);
        let (theta, grad) = (rng.vec(37), rng.vec(37));
        let (mut ours, mut theirs) = (grad.clone(), grad.clone());
        ortho_grad(&theta, &mut ours);
        crate::optim::ortho_grad(&theta, &mut theirs);
        assert_all_close("vs optim::ortho_grad", &ours, &theirs, 1e-14);
        assert!(
            dot(&ours, &theta).abs() < 1e-13,
            "result is not orthogonal to θ"
        );
        assert!(
            (dot(&ours, &ours) - dot(&grad, &grad)).abs() < 1e-13,
            "norm not kept"
        );
    }

    #[test]
    fn ema_starts_from_the_first_gradient() {
        let mut ema = GrokfastEma::new(0.5, 2.0);
        // t = 1: μ = 4, g = 4 + 2·4 = 12.
        let mut g = [4.0];
        ema.apply(&mut g);
        assert_eq!((g, ema.mu.clone().unwrap()), ([12.0], vec![4.0]));
        // t = 2: μ = 0.5·4 + 0.5·2 = 3, g = 2 + 2·3 = 8.
        let mut g = [2.0];
        ema.apply(&mut g);
        assert_eq!((g, ema.mu.clone().unwrap()), ([8.0], vec![3.0]));
    }

    #[test]
    fn ma_waits_for_a_full_window_of_raw_gradients() {
        let mut ma = GrokfastMa::new(2, 1.0);
        // Warmup: 1 passes unchanged; then mean(1, 3) = 2 → 5; then mean(3, 5) = 4 → 9 (the
        // window keeps the gradients as they came in, not the filtered ones).
        for (input, want) in [(1.0, 1.0), (3.0, 5.0), (5.0, 9.0)] {
            let mut g = [input];
            ma.apply(&mut g);
            assert_eq!(g, [want], "input {input}");
        }
        assert_eq!(ma.history, VecDeque::from([vec![3.0], vec![5.0]]));
    }

    /// θ = (1, 0), g = (1, 1), all on: L1 0.5 → (1.5, 1); EMA (α 0.5, λ 1) at t = 1 → μ = g,
    /// (3, 2); MA (w 1, λ 1) → (6, 4); ⊥Grad removes the θ-component → (0, 4), rescaled to
    /// ‖(6, 4)‖ = √52. ⊥Grad first would have given (0.5, √2) instead.
    #[test]
    fn filters_apply_in_order() {
        let config = FilterConfig {
            l1: Some(0.5),
            ortho_grad: true,
            grokfast_ema: Some((0.5, 1.0)),
            grokfast_ma: Some((1, 1.0)),
        };
        let mut g = [1.0, 1.0];
        GradFilter::new(&config).apply(&[1.0, 0.0], &mut g, true);
        assert_all_close("all filters", &g, &[0.0, 52f64.sqrt()], 1e-15);
        // Not the embedding: no L1 → (1, 1) → (2, 2) → (4, 4) → (0, 4) rescaled to √32.
        let mut g = [1.0, 1.0];
        GradFilter::new(&config).apply(&[1.0, 0.0], &mut g, false);
        assert_all_close("no L1", &g, &[0.0, 32f64.sqrt()], 1e-15);
    }
}
