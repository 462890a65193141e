//! The MLP of docs/runs.md (seed 003): logits = fc2(relu(fc1(concat(embed[x], embed[y])))).

use crate::cross_entropy::{loss_and_dlogits, Loss};
use crate::elementwise::{relu, relu_backward};
use crate::embedding::{embedding_backward, embedding_forward};
use crate::matmul::{linear_backward, linear_forward};
use crate::params::{check_layout, get, Param};

/// p is the modulus (embedding rows and classes), `hidden` the width h.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MlpConfig {
    pub p: usize,
    pub hidden: usize,
}

/// Names and shapes in checkpoint order: embed.weight [p, h], fc1.weight [h, 2h], fc1.bias [h],
/// fc2.weight [p, h], fc2.bias [p].
pub fn mlp_param_shapes(cfg: &MlpConfig) -> Vec<(String, Vec<usize>)> {
    let (p, h) = (cfg.p, cfg.hidden);
    vec![
        ("embed.weight".into(), vec![p, h]),
        ("fc1.weight".into(), vec![h, 2 * h]),
        ("fc1.bias".into(), vec![h]),
        ("fc2.weight".into(), vec![p, h]),
        ("fc2.bias".into(), vec![p]),
    ]
}

/// Logits. params in [`mlp_param_shapes`] order, xs, ys [N] operands in 0..p → logits [N, p].
pub fn mlp_forward(cfg: &MlpConfig, params: &[Param], xs: &[u32], ys: &[u32]) -> Vec<f64> {
    forward(cfg, params, xs, ys).0
}

/// Mean loss, logits and the gradient of the mean loss for every parameter.
/// xs, ys, targets [N] → (loss, logits [N, p], grads with the names, shapes and order of params).
pub fn mlp_loss_and_grads(
    cfg: &MlpConfig,
    params: &[Param],
    xs: &[u32],
    ys: &[u32],
    targets: &[u32],
    loss: Loss,
) -> (f64, Vec<f64>, Vec<Param>) {
    let (p, h, n) = (cfg.p, cfg.hidden, xs.len());
    let (logits, concat, pre, post) = forward(cfg, params, xs, ys);
    let (loss_value, dlogits) = loss_and_dlogits(loss, &logits, targets, n, p);
    let (dpost, dw2, db2) = linear_backward(&post, get(params, "fc2.weight"), &dlogits, n, h, p);
    let dpre = relu_backward(&pre, &dpost);
    let (dconcat, dw1, db1) =
        linear_backward(&concat, get(params, "fc1.weight"), &dpre, n, 2 * h, h);
    // The first h columns of each concatenated row came from embed[x], the last h from embed[y];
    // both scatter into the same table.
    let dx: Vec<f64> = dconcat
        .chunks(2 * h)
        .flat_map(|r| r[..h].to_vec())
        .collect();
    let dy: Vec<f64> = dconcat
        .chunks(2 * h)
        .flat_map(|r| r[h..].to_vec())
        .collect();
    let dembed: Vec<f64> = embedding_backward(&dx, xs, p, h)
        .iter()
        .zip(embedding_backward(&dy, ys, p, h))
        .map(|(a, b)| a + b)
        .collect();
    let grads = mlp_param_shapes(cfg)
        .into_iter()
        .zip([dembed, dw1, db1, dw2, db2])
        .map(|((name, shape), g)| (name, shape, g))
        .collect();
    (loss_value, logits, grads)
}

/// Returns (logits [N, p], concat [N, 2h], fc1 output [N, h], relu output [N, h]).
fn forward(
    cfg: &MlpConfig,
    params: &[Param],
    xs: &[u32],
    ys: &[u32],
) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    check_layout(params, &mlp_param_shapes(cfg));
    assert_eq!(xs.len(), ys.len(), "xs and ys must both be [N]");
    let (p, h, n) = (cfg.p, cfg.hidden, xs.len());
    let embed = get(params, "embed.weight");
    let ex = embedding_forward(embed, p, h, xs);
    let ey = embedding_forward(embed, p, h, ys);
    let concat: Vec<f64> = ex
        .chunks(h)
        .zip(ey.chunks(h))
        .flat_map(|(a, b)| [a, b].concat())
        .collect();
    let pre = linear_forward(
        &concat,
        get(params, "fc1.weight"),
        Some(get(params, "fc1.bias")),
        n,
        2 * h,
        h,
    );
    let post = relu(&pre);
    let logits = linear_forward(
        &post,
        get(params, "fc2.weight"),
        Some(get(params, "fc2.bias")),
        n,
        h,
        p,
    );
    (logits, concat, pre, post)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finite_diff::central_diff_grad;
    use crate::params::{flatten, get_mut, unflatten};
    use crate::test_util::{assert_grad_close, Rng};

    fn random_params(cfg: &MlpConfig, rng: &mut Rng) -> Vec<Param> {
        mlp_param_shapes(cfg)
            .into_iter()
            .map(|(n, s)| {
                let len = s.iter().product();
                (n, s, rng.vec(len))
            })
            .collect()
    }

    #[test]
    fn gradients_match_finite_differences() {
        let cfg = MlpConfig { p: 7, hidden: 6 };
        let mut rng = Rng::new(21);
        let params = random_params(&cfg, &mut rng);
        // Repeated operands (and x = y in one row) exercise the shared-table scatter-add.
        let xs = [0, 3, 3, 6, 2];
        let ys = [5, 3, 1, 0, 2];
        let targets = rng.indices(5, 7);
        let shapes = mlp_param_shapes(&cfg);
        for loss in [Loss::Ce, Loss::Stablemax] {
            let (_, _, grads) = mlp_loss_and_grads(&cfg, &params, &xs, &ys, &targets, loss);
            let f = |flat: &[f64]| {
                mlp_loss_and_grads(&cfg, &unflatten(flat, &shapes), &xs, &ys, &targets, loss).0
            };
            let numeric = unflatten(&central_diff_grad(f, &flatten(&params), 1e-6), &shapes);
            for ((name, _, a), (_, _, n)) in grads.iter().zip(&numeric) {
                // Tolerance 1e-7·scale per tensor, as for the Transformer; measured ≲ 1e-9.
                assert_grad_close(&format!("{loss:?} {name}"), a, n, 1e-7);
            }
        }
    }

    #[test]
    fn x_feeds_the_first_half_of_fc1() {
        // Zeroing fc1's second half of columns must make the logits blind to y but not to x,
        // which pins down the concat order (embed[x] first).
        let cfg = MlpConfig { p: 5, hidden: 4 };
        let mut params = random_params(&cfg, &mut Rng::new(22));
        for row in get_mut(&mut params, "fc1.weight").chunks_mut(8) {
            row[4..].iter_mut().for_each(|w| *w = 0.0);
        }
        let base = mlp_forward(&cfg, &params, &[1], &[2]);
        assert_eq!(base, mlp_forward(&cfg, &params, &[1], &[4]));
        assert_ne!(base, mlp_forward(&cfg, &params, &[3], &[2]));
    }
}
