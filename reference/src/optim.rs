//! The optimizers of docs/runs.md with PyTorch semantics, updating one tensor (or one flat buffer)
//! in place, plus the learning-rate warmup and ⊥Grad. `t` is the update number, starting at 1.

/// lr_t = lr · min(1, t / warmup); warmup 0 means a constant lr.
pub fn lr_at(t: u32, lr: f64, warmup: u32) -> f64 {
    if warmup == 0 {
        lr
    } else {
        lr * (t as f64 / warmup as f64).min(1.0)
    }
}

/// One AdamW update (torch.optim.AdamW): decoupled decay θ ← θ·(1 − lr_t·wd) first, then
/// m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², θ ← θ − lr_t·m̂/(√v̂ + eps) with
/// m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ). params, grads, m, v [n]; t ≥ 1.
#[allow(clippy::too_many_arguments)]
pub fn adamw_step(
    params: &mut [f64],
    grads: &[f64],
    m: &mut [f64],
    v: &mut [f64],
    t: u32,
    lr_t: f64,
    wd: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
) {
    check(params, grads, m, v, t);
    for p in params.iter_mut() {
        *p *= 1.0 - lr_t * wd;
    }
    adam_update(params, grads, m, v, t, lr_t, beta1, beta2, eps);
}

/// One Adam update with coupled L2 (torch.optim.Adam's weight_decay): g ← g + wd·θ, then the
/// same moment update and step as [`adamw_step`], without the decoupled decay.
/// params, grads, m, v [n]; t ≥ 1. `grads` itself is left unchanged.
#[allow(clippy::too_many_arguments)]
pub fn adam_l2_step(
    params: &mut [f64],
    grads: &[f64],
    m: &mut [f64],
    v: &mut [f64],
    t: u32,
    lr_t: f64,
    wd: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
) {
    check(params, grads, m, v, t);
    let coupled: Vec<f64> = grads
        .iter()
        .zip(params.iter())
        .map(|(g, p)| g + wd * p)
        .collect();
    adam_update(params, &coupled, m, v, t, lr_t, beta1, beta2, eps);
}

/// The moment update and bias-corrected step shared by Adam and AdamW.
#[allow(clippy::too_many_arguments)]
fn adam_update(
    params: &mut [f64],
    grads: &[f64],
    m: &mut [f64],
    v: &mut [f64],
    t: u32,
    lr_t: f64,
    beta1: f64,
    beta2: f64,
    eps: f64,
) {
    let correction1 = 1.0 - beta1.powi(t as i32);
    let correction2 = 1.0 - beta2.powi(t as i32);
    for i in 0..params.len() {
        m[i] = beta1 * m[i] + (1.0 - beta1) * grads[i];
        v[i] = beta2 * v[i] + (1.0 - beta2) * grads[i] * grads[i];
        params[i] -= lr_t * (m[i] / correction1) / ((v[i] / correction2).sqrt() + eps);
    }
}

fn check(params: &[f64], grads: &[f64], m: &[f64], v: &[f64], t: u32) {
    let n = params.len();
    assert!(
        grads.len() == n && m.len() == n && v.len() == n,
        "optimizer: lengths differ"
    );
    assert!(t >= 1, "optimizer: the update number t starts at 1");
}

/// One SGD update (torch.optim.SGD, dampening 0, no Nesterov): g ← g + wd·θ; with momentum μ > 0,
/// buf ← g at t = 1 and buf ← μ·buf + g after, and θ ← θ − lr_t·buf; with μ = 0, θ ← θ − lr_t·g
/// and buf is not touched. params, grads, buf [n]; t ≥ 1.
pub fn sgd_step(
    params: &mut [f64],
    grads: &[f64],
    buf: &mut [f64],
    t: u32,
    lr_t: f64,
    wd: f64,
    momentum: f64,
) {
    assert!(
        grads.len() == params.len() && buf.len() == params.len(),
        "sgd_step: lengths differ"
    );
    assert!(t >= 1, "sgd_step: the update number t starts at 1");
    for i in 0..params.len() {
        let g = grads[i] + wd * params[i];
        let step = if momentum == 0.0 {
            g
        } else {
            buf[i] = if t == 1 { g } else { momentum * buf[i] + g };
            buf[i]
        };
        params[i] -= lr_t * step;
    }
}

/// ⊥Grad (Prieto et al. 2025), per tensor: g⊥ = g − (θ·g / θ·θ)·θ rescaled to ‖g‖, in place.
/// Like their code, 1e-30 guards the divisions for a zero θ or a g parallel to θ.
/// params, grads [n].
pub fn ortho_grad(params: &[f64], grads: &mut [f64]) {
    assert_eq!(params.len(), grads.len(), "ortho_grad: lengths differ");
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let proj = dot(params, grads) / (dot(params, params) + 1e-30);
    let norm = dot(grads, grads).sqrt();
    let orth: Vec<f64> = grads
        .iter()
        .zip(params)
        .map(|(g, p)| g - proj * p)
        .collect();
    let rescale = norm / (dot(&orth, &orth).sqrt() + 1e-30);
    grads
        .iter_mut()
        .zip(&orth)
        .for_each(|(g, o)| *g = o * rescale);
}

#[cfg(test)]
// Expected values are kept to the digits mpmath printed, beyond f64, so they can be checked.
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    // The one-element worked example: θ = 1, g₁ = 0.5, g₂ = −0.25, lr 0.1, wd 0.1,
    // β = (0.9, 0.999), eps 1e-8. Expected values computed by hand and checked in 30-digit
    // arithmetic (mpmath).
    const G: [f64; 2] = [0.5, -0.25];

    #[test]
    fn adamw_worked_example() {
        let (mut p, mut m, mut v) = ([1.0], [0.0], [0.0]);
        // t = 1: θ = 0.99 − 0.1·0.5/(0.5 + 1e-8) = 0.890000002; m = 0.05; v = 0.00025.
        adamw_step(
            &mut p,
            &[G[0]],
            &mut m,
            &mut v,
            1,
            0.1,
            0.1,
            0.9,
            0.999,
            1e-8,
        );
        assert!((p[0] - 0.89000000199999996).abs() < 1e-15, "{}", p[0]);
        assert!((m[0] - 0.05).abs() < 1e-16 && (v[0] - 0.00025).abs() < 1e-18);
        // t = 2: m = 0.02, v = 0.00031225, bias corrections 0.19 and 0.001999.
        adamw_step(
            &mut p,
            &[G[1]],
            &mut m,
            &mut v,
            2,
            0.1,
            0.1,
            0.9,
            0.999,
            1e-8,
        );
        assert!((p[0] - 0.85446629868784616296).abs() < 1e-15, "{}", p[0]);
        assert!((m[0] - 0.02).abs() < 1e-16 && (v[0] - 0.00031225).abs() < 1e-18);
    }

    #[test]
    fn adam_l2_worked_example() {
        let (mut p, mut m, mut v) = ([1.0], [0.0], [0.0]);
        // t = 1: g = 0.5 + 0.1·1 = 0.6, θ = 1 − 0.1·0.6/(0.6 + 1e-8) = 0.9000000016666…
        adam_l2_step(
            &mut p,
            &[G[0]],
            &mut m,
            &mut v,
            1,
            0.1,
            0.1,
            0.9,
            0.999,
            1e-8,
        );
        assert!((p[0] - 0.90000000166666663889).abs() < 1e-15, "{}", p[0]);
        adam_l2_step(
            &mut p,
            &[G[1]],
            &mut m,
            &mut v,
            2,
            0.1,
            0.1,
            0.9,
            0.999,
            1e-8,
        );
        assert!((p[0] - 0.85444136746176222827).abs() < 1e-15, "{}", p[0]);
        assert!((m[0] - 0.038000000016666666389).abs() < 1e-16);
    }

    #[test]
    fn sgd_momentum_worked_example() {
        let (mut p, mut buf) = ([1.0], [123.0]); // buf's old value must be ignored at t = 1
                                                 // t = 1: g = 0.5 + 0.1 = 0.6, buf = 0.6, θ = 1 − 0.06 = 0.94.
        sgd_step(&mut p, &[G[0]], &mut buf, 1, 0.1, 0.1, 0.9);
        assert!((p[0] - 0.94).abs() < 1e-15 && (buf[0] - 0.6).abs() < 1e-15);
        // t = 2: g = −0.25 + 0.094 = −0.156, buf = 0.54 − 0.156 = 0.384, θ = 0.94 − 0.0384.
        sgd_step(&mut p, &[G[1]], &mut buf, 2, 0.1, 0.1, 0.9);
        assert!((p[0] - 0.9016).abs() < 1e-15 && (buf[0] - 0.384).abs() < 1e-15);
    }

    #[test]
    fn sgd_without_momentum() {
        let (mut p, mut buf) = ([1.0, -2.0], [7.0, 7.0]);
        // θ − 0.5·(g + 0.1·θ): 1 − 0.5·(1 + 0.1) = 0.45; −2 − 0.5·(0 − 0.2) = −1.9.
        sgd_step(&mut p, &[1.0, 0.0], &mut buf, 3, 0.5, 0.1, 0.0);
        assert!((p[0] - 0.45).abs() < 1e-15 && (p[1] + 1.9).abs() < 1e-15);
        assert_eq!(buf, [7.0, 7.0]);
    }

    #[test]
    fn warmup_schedule() {
        assert_eq!(lr_at(1, 1e-3, 0), 1e-3);
        assert!((lr_at(1, 1e-3, 10) - 1e-4).abs() < 1e-19);
        assert!((lr_at(5, 1e-3, 10) - 5e-4).abs() < 1e-19);
        assert_eq!(lr_at(10, 1e-3, 10), 1e-3);
        assert_eq!(lr_at(11, 1e-3, 10), 1e-3);
    }

    #[test]
    fn ortho_grad_worked_example() {
        // θ = (1, 0), g = (3, 4): the θ-component 3 is removed, leaving (0, 4), rescaled to
        // ‖g‖ = 5 → (0, 5).
        let mut g = [3.0, 4.0];
        ortho_grad(&[1.0, 0.0], &mut g);
        assert!((g[0]).abs() < 1e-15 && (g[1] - 5.0).abs() < 1e-14, "{g:?}");
    }
}
