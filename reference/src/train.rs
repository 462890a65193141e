//! A tiny full-batch trainer: k optimizer updates on one fixed batch, so a GPU run can be
//! compared with the reference weight by weight after k steps.

use crate::optim::{adam_l2_step, adamw_step, lr_at, ortho_grad, sgd_step};
use crate::params::Param;

/// The update rule (docs/runs.md `optimizer`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Optimizer {
    AdamW,
    /// torch.optim.Adam with coupled L2 weight decay.
    AdamL2,
    Sgd,
}

/// Optimizer settings, named as in config.json.
#[derive(Clone, Debug, PartialEq)]
pub struct OptimizerConfig {
    pub kind: Optimizer,
    pub lr: f64,
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub warmup: u32,
    /// SGD momentum μ (0 = plain SGD); ignored by the Adams.
    pub momentum: f64,
    /// Apply ⊥Grad to each tensor's gradient before the update.
    pub ortho_grad: bool,
}

impl OptimizerConfig {
    /// docs/runs.md's defaults for the rest: betas (0.9, 0.999), eps 1e-8, no warmup, no momentum,
    /// no ⊥Grad.
    pub fn new(kind: Optimizer, lr: f64, weight_decay: f64) -> Self {
        OptimizerConfig {
            kind,
            lr,
            weight_decay,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            warmup: 0,
            momentum: 0.0,
            ortho_grad: false,
        }
    }
}

/// Runs `steps` updates t = 1..=steps on `params` in place. `loss_and_grads` maps the current
/// params to (loss, grads with the same names, shapes and order). Optimizer state (Adam's m and
/// v, SGD's momentum buffer) is kept per tensor and starts at zero. Returns the loss before each
/// update, [steps].
pub fn train_full_batch(
    params: &mut [Param],
    mut loss_and_grads: impl FnMut(&[Param]) -> (f64, Vec<Param>),
    opt: &OptimizerConfig,
    steps: u32,
) -> Vec<f64> {
    let mut m: Vec<Vec<f64>> = params.iter().map(|(_, _, v)| vec![0.0; v.len()]).collect();
    let mut v = m.clone();
    let mut losses = Vec::with_capacity(steps as usize);
    for t in 1..=steps {
        let (loss, mut grads) = loss_and_grads(params);
        losses.push(loss);
        assert_eq!(grads.len(), params.len(), "grads must match params");
        let lr_t = lr_at(t, opt.lr, opt.warmup);
        for (i, ((name, _, theta), (grad_name, _, g))) in
            params.iter_mut().zip(grads.iter_mut()).enumerate()
        {
            assert_eq!(name, grad_name, "grads must be in params order");
            if opt.ortho_grad {
                ortho_grad(theta, g);
            }
            let (wd, b1, b2, eps) = (opt.weight_decay, opt.beta1, opt.beta2, opt.eps);
            match opt.kind {
                Optimizer::AdamW => {
                    adamw_step(theta, g, &mut m[i], &mut v[i], t, lr_t, wd, b1, b2, eps)
                }
                Optimizer::AdamL2 => {
                    adam_l2_step(theta, g, &mut m[i], &mut v[i], t, lr_t, wd, b1, b2, eps)
                }
                Optimizer::Sgd => sgd_step(theta, g, &mut m[i], t, lr_t, wd, opt.momentum),
            }
        }
    }
    losses
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cross_entropy::Loss;
    use crate::mlp::{mlp_loss_and_grads, mlp_param_shapes, MlpConfig};
    use crate::test_util::Rng;

    fn one(value: f64) -> Vec<Param> {
        vec![("w".to_string(), vec![1], vec![value])]
    }

    /// f(θ) = ½θ², whose gradient is θ itself.
    fn half_square(p: &[Param]) -> (f64, Vec<Param>) {
        let w = p[0].2[0];
        (0.5 * w * w, one(w))
    }

    #[test]
    fn sgd_on_a_quadratic_has_the_closed_form() {
        // Each step multiplies θ by 1 − lr·(1 + wd) = 1 − 0.1·1.5 = 0.85.
        let mut p = one(2.0);
        let losses = train_full_batch(
            &mut p,
            half_square,
            &OptimizerConfig::new(Optimizer::Sgd, 0.1, 0.5),
            5,
        );
        assert!((p[0].2[0] - 2.0 * 0.85f64.powi(5)).abs() < 1e-15);
        assert!(
            (losses[1] - 0.5 * 1.7 * 1.7).abs() < 1e-15,
            "loss before step 2 is at θ = 1.7"
        );
    }

    #[test]
    fn warmup_scales_the_first_steps() {
        // Constant gradient 3 and warmup 4: lr_t/lr = 1/4, 2/4, 3/4, 1, 1, 1 → θ = 1 − 3·0.1·4.5.
        let mut p = one(1.0);
        let opt = OptimizerConfig {
            warmup: 4,
            ..OptimizerConfig::new(Optimizer::Sgd, 0.1, 0.0)
        };
        train_full_batch(&mut p, |_| (0.0, one(3.0)), &opt, 6);
        assert!((p[0].2[0] - (1.0 - 1.35)).abs() < 1e-15, "{}", p[0].2[0]);
    }

    #[test]
    fn adam_state_carries_across_steps() {
        // Gradients +1 then −1, lr 0.1, no decay. Step 1 moves θ by −0.1/(1 + 1e-8). Step 2:
        // m = 0.9·0.1 − 0.1 = −0.01 → m̂ = −0.01/0.19 = −1/19; v = 0.999·0.001 + 0.001 → v̂ = 1;
        // so θ moves by +0.1·(1/19)/(1 + 1e-8). Resetting the state would give θ = 1 instead.
        let mut p = one(1.0);
        let mut sign = -1.0;
        let grads = |_: &[Param]| {
            sign = -sign;
            (0.0, one(sign))
        };
        train_full_batch(
            &mut p,
            grads,
            &OptimizerConfig::new(Optimizer::AdamL2, 0.1, 0.0),
            2,
        );
        let want = 1.0 - 0.1 * (18.0 / 19.0) / (1.0 + 1e-8);
        assert!((p[0].2[0] - want).abs() < 1e-15, "{} vs {want}", p[0].2[0]);
    }

    #[test]
    fn ortho_grad_removes_the_radial_gradient() {
        // On ½θ² the gradient θ is purely radial, so ⊥Grad leaves nothing and SGD stands still.
        let mut p = vec![("w".to_string(), vec![2], vec![0.6, -0.8])];
        let opt = OptimizerConfig {
            ortho_grad: true,
            ..OptimizerConfig::new(Optimizer::Sgd, 0.1, 0.0)
        };
        train_full_batch(
            &mut p,
            |p| (0.0, vec![("w".to_string(), vec![2], p[0].2.clone())]),
            &opt,
            3,
        );
        assert!(
            (p[0].2[0] - 0.6).abs() < 1e-15 && (p[0].2[1] + 0.8).abs() < 1e-15,
            "{:?}",
            p[0].2
        );
    }

    #[test]
    fn every_optimizer_fits_a_small_mlp() {
        // The whole table of (x + y) mod 5 as one batch; 60 updates must at least halve the
        // loss with each optimizer.
        let cfg = MlpConfig { p: 5, hidden: 16 };
        let xs: Vec<u32> = (0..25).map(|i| i / 5).collect();
        let ys: Vec<u32> = (0..25).map(|i| i % 5).collect();
        let targets: Vec<u32> = xs.iter().zip(&ys).map(|(x, y)| (x + y) % 5).collect();
        let optimizers = [
            OptimizerConfig::new(Optimizer::AdamW, 0.01, 0.1),
            OptimizerConfig::new(Optimizer::AdamL2, 0.01, 1e-4),
            OptimizerConfig {
                momentum: 0.9,
                ..OptimizerConfig::new(Optimizer::Sgd, 0.05, 1e-4)
            },
        ];
        for opt in optimizers {
            let mut rng = Rng::new(41);
            let mut params: Vec<Param> = mlp_param_shapes(&cfg)
                .into_iter()
                .map(|(n, s)| {
                    let len = s.iter().product();
                    (n, s, rng.vec(len))
                })
                .collect();
            let step = |p: &[Param]| {
                let (loss, _, grads) = mlp_loss_and_grads(&cfg, p, &xs, &ys, &targets, Loss::Ce);
                (loss, grads)
            };
            let losses = train_full_batch(&mut params, step, &opt, 61);
            assert!(
                losses[60] < 0.5 * losses[0],
                "{:?}: {} → {}",
                opt.kind,
                losses[0],
                losses[60]
            );
        }
    }
}
