//! The decoder-only Transformer of docs/runs.md: forward, loss and every parameter's gradient.
//!
//! h = embed[tokens] + pos_embed, optionally h = up(down(h)) (rank-r bottleneck); per block
//! h += out(attn(ln1(h))) and h += fc2(act(fc1(ln2(h)))); logits = unembed(ln_f(h[:, T−1])).
//! With norm = none the LayerNorms are identities and have no parameters.

use crate::attention::{attention_backward, attention_forward};
use crate::cross_entropy::{loss_and_dlogits, Loss};
use crate::elementwise::{add, gelu, gelu_backward, relu, relu_backward};
use crate::embedding::{embedding_backward, embedding_forward};
use crate::layernorm::{layernorm_backward, layernorm_forward};
use crate::matmul::{linear_backward, linear_forward};
use crate::params::{check_layout, get, get_mut, zeros, Param};

/// LayerNorm epsilon of the model (PyTorch's default).
pub const LN_EPS: f64 = 1e-5;

/// Where LayerNorms sit: before each sublayer and at the end (`Pre`), or nowhere (`None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Norm {
    Pre,
    None,
}

/// The MLP activation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Act {
    Relu,
    /// Exact (erf) GELU.
    Gelu,
}

/// Which sublayers each block has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Full,
    AttnOnly,
    MlpOnly,
}

/// Model hyperparameters; `classes` is p, `vocab` is p + 2 for the modular-arithmetic tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransformerConfig {
    pub vocab: usize,
    pub classes: usize,
    pub seq_len: usize,
    pub d_model: usize,
    pub heads: usize,
    pub d_mlp: usize,
    pub layers: usize,
    pub norm: Norm,
    pub act: Act,
    pub variant: Variant,
    pub bottleneck_rank: Option<usize>,
}

impl TransformerConfig {
    /// The default model for modulus p: vocab p + 2, T = 4, pre-norm, ReLU, full blocks,
    /// no bottleneck.
    pub fn new(p: usize, d_model: usize, heads: usize, d_mlp: usize, layers: usize) -> Self {
        TransformerConfig {
            vocab: p + 2,
            classes: p,
            seq_len: 4,
            d_model,
            heads,
            d_mlp,
            layers,
            norm: Norm::Pre,
            act: Act::Relu,
            variant: Variant::Full,
            bottleneck_rank: None,
        }
    }

    fn has_attn(&self) -> bool {
        self.variant != Variant::MlpOnly
    }

    fn has_mlp(&self) -> bool {
        self.variant != Variant::AttnOnly
    }
}

/// Names and shapes of every parameter, in checkpoint order (docs/runs.md), omitting absent ones.
pub fn transformer_param_shapes(cfg: &TransformerConfig) -> Vec<(String, Vec<usize>)> {
    let (d, m) = (cfg.d_model, cfg.d_mlp);
    let mut s: Vec<(String, Vec<usize>)> = vec![];
    let mut push = |name: String, shape: Vec<usize>| s.push((name, shape));
    push("embed.weight".into(), vec![cfg.vocab, d]);
    push("pos_embed".into(), vec![cfg.seq_len, d]);
    if let Some(r) = cfg.bottleneck_rank {
        push("bottleneck.down.weight".into(), vec![r, d]);
        push("bottleneck.up.weight".into(), vec![d, r]);
    }
    let norm = cfg.norm == Norm::Pre;
    for i in 0..cfg.layers {
        let b = format!("blocks.{i}");
        if cfg.has_attn() {
            if norm {
                push(format!("{b}.ln1.weight"), vec![d]);
                push(format!("{b}.ln1.bias"), vec![d]);
            }
            push(format!("{b}.attn.qkv.weight"), vec![3 * d, d]);
            push(format!("{b}.attn.qkv.bias"), vec![3 * d]);
            push(format!("{b}.attn.out.weight"), vec![d, d]);
            push(format!("{b}.attn.out.bias"), vec![d]);
        }
        if cfg.has_mlp() {
            if norm {
                push(format!("{b}.ln2.weight"), vec![d]);
                push(format!("{b}.ln2.bias"), vec![d]);
            }
            push(format!("{b}.mlp.fc1.weight"), vec![m, d]);
            push(format!("{b}.mlp.fc1.bias"), vec![m]);
            push(format!("{b}.mlp.fc2.weight"), vec![d, m]);
            push(format!("{b}.mlp.fc2.bias"), vec![d]);
        }
    }
    if norm {
        push("ln_f.weight".into(), vec![d]);
        push("ln_f.bias".into(), vec![d]);
    }
    push("unembed.weight".into(), vec![cfg.classes, d]);
    push("unembed.bias".into(), vec![cfg.classes]);
    s
}

/// Logits of the model. params in [`transformer_param_shapes`] order, tokens [N, T]
/// → logits [N, p].
pub fn transformer_forward(cfg: &TransformerConfig, params: &[Param], tokens: &[u32]) -> Vec<f64> {
    forward(cfg, params, tokens).0
}

/// Mean loss, logits and the gradient of the mean loss for every parameter.
/// params in [`transformer_param_shapes`] order, tokens [N, T], targets [N] (answers in 0..p)
/// → (loss, logits [N, p], grads with the names, shapes and order of params).
pub fn transformer_loss_and_grads(
    cfg: &TransformerConfig,
    params: &[Param],
    tokens: &[u32],
    targets: &[u32],
    loss: Loss,
) -> (f64, Vec<f64>, Vec<Param>) {
    let shapes = transformer_param_shapes(cfg);
    let (logits, cache) = forward(cfg, params, tokens);
    let (n, t, d, rows) = (cache.n, cfg.seq_len, cfg.d_model, cache.n * cfg.seq_len);
    assert_eq!(targets.len(), n, "targets must be [N]");
    let (loss_value, dlogits) = loss_and_dlogits(loss, &logits, targets, n, cfg.classes);
    let mut grads = zeros(&shapes);

    let (dfinal, dw, db) = linear_backward(
        &cache.final_in,
        get(params, "unembed.weight"),
        &dlogits,
        n,
        d,
        cfg.classes,
    );
    accumulate(&mut grads, "unembed.weight", &dw);
    accumulate(&mut grads, "unembed.bias", &db);
    let dlast = norm_backward(cfg, params, &mut grads, "ln_f", &cache.last, &dfinal, n);
    // Only the last position is read out, so the stream's gradient starts there alone.
    let mut dh = vec![0.0; rows * d];
    for s in 0..n {
        dh[(s * t + t - 1) * d..(s * t + t) * d].copy_from_slice(&dlast[s * d..(s + 1) * d]);
    }

    for (i, block) in cache.blocks.iter().enumerate().rev() {
        let name = |s: &str| format!("blocks.{i}.{s}");
        let w = |s: &str| get(params, &name(s));
        // Each sublayer is h_out = h_in + branch(h_in): dh reaches h_in both directly and
        // through the branch, so the branch's input gradient is added to dh.
        if let Some(c) = &block.mlp {
            let (dpost, dw2, db2) =
                linear_backward(&c.post, w("mlp.fc2.weight"), &dh, rows, cfg.d_mlp, d);
            let dpre = match cfg.act {
                Act::Relu => relu_backward(&c.pre, &dpost),
                Act::Gelu => gelu_backward(&c.pre, &dpost),
            };
            let (dnormed, dw1, db1) =
                linear_backward(&c.normed, w("mlp.fc1.weight"), &dpre, rows, d, cfg.d_mlp);
            accumulate(&mut grads, &name("mlp.fc2.weight"), &dw2);
            accumulate(&mut grads, &name("mlp.fc2.bias"), &db2);
            accumulate(&mut grads, &name("mlp.fc1.weight"), &dw1);
            accumulate(&mut grads, &name("mlp.fc1.bias"), &db1);
            let dx = norm_backward(
                cfg,
                params,
                &mut grads,
                &name("ln2"),
                &c.input,
                &dnormed,
                rows,
            );
            dh = add(&dh, &dx);
        }
        if let Some(c) = &block.attn {
            let (datt, dwo, dbo) = linear_backward(&c.att, w("attn.out.weight"), &dh, rows, d, d);
            let dqkv = attention_backward(&c.qkv, &c.probs, &datt, n, t, d, cfg.heads);
            let (dnormed, dwq, dbq) =
                linear_backward(&c.normed, w("attn.qkv.weight"), &dqkv, rows, d, 3 * d);
            accumulate(&mut grads, &name("attn.out.weight"), &dwo);
            accumulate(&mut grads, &name("attn.out.bias"), &dbo);
            accumulate(&mut grads, &name("attn.qkv.weight"), &dwq);
            accumulate(&mut grads, &name("attn.qkv.bias"), &dbq);
            let dx = norm_backward(
                cfg,
                params,
                &mut grads,
                &name("ln1"),
                &c.input,
                &dnormed,
                rows,
            );
            dh = add(&dh, &dx);
        }
    }

    if let Some(r) = cfg.bottleneck_rank {
        let (dmid, dup, _) = linear_backward(
            &cache.bottleneck_mid,
            get(params, "bottleneck.up.weight"),
            &dh,
            rows,
            r,
            d,
        );
        let (dh0, ddown, _) = linear_backward(
            &cache.embedded,
            get(params, "bottleneck.down.weight"),
            &dmid,
            rows,
            d,
            r,
        );
        accumulate(&mut grads, "bottleneck.up.weight", &dup);
        accumulate(&mut grads, "bottleneck.down.weight", &ddown);
        dh = dh0;
    }
    let dpos = get_mut(&mut grads, "pos_embed");
    for (i, g) in dh.iter().enumerate() {
        dpos[i % (t * d)] += g;
    }
    accumulate(
        &mut grads,
        "embed.weight",
        &embedding_backward(&dh, tokens, cfg.vocab, d),
    );
    (loss_value, logits, grads)
}

/// Activations the backward pass reads, named after the tensors they are.
struct Cache {
    n: usize,
    /// embed[tokens] + pos_embed [N·T, d]: the bottleneck's input.
    embedded: Vec<f64>,
    /// down(embedded) [N·T, r] (empty without a bottleneck).
    bottleneck_mid: Vec<f64>,
    blocks: Vec<BlockCache>,
    /// h[:, T−1] [N, d]: ln_f's input.
    last: Vec<f64>,
    /// ln_f(last) [N, d]: unembed's input.
    final_in: Vec<f64>,
}

struct BlockCache {
    attn: Option<AttnCache>,
    mlp: Option<MlpCache>,
}

/// Saved by the attention sublayer; every tensor is over all N·T positions.
struct AttnCache {
    /// The residual stream entering the sublayer (ln1's input).
    input: Vec<f64>,
    /// ln1(input), the qkv projection's input.
    normed: Vec<f64>,
    qkv: Vec<f64>,
    /// Attention output before the out projection [N·T, d].
    att: Vec<f64>,
    probs: Vec<f64>,
}

/// Saved by the MLP sublayer.
struct MlpCache {
    /// The residual stream entering the sublayer (ln2's input).
    input: Vec<f64>,
    /// ln2(input), fc1's input.
    normed: Vec<f64>,
    /// fc1 output, the activation's input [N·T, d_mlp].
    pre: Vec<f64>,
    /// act(pre), fc2's input.
    post: Vec<f64>,
}

fn forward(cfg: &TransformerConfig, params: &[Param], tokens: &[u32]) -> (Vec<f64>, Cache) {
    check_layout(params, &transformer_param_shapes(cfg));
    let (t, d) = (cfg.seq_len, cfg.d_model);
    assert_eq!(tokens.len() % t, 0, "tokens must be [N, T]");
    let n = tokens.len() / t;
    let rows = n * t;
    let w = |name: &str| get(params, name);

    let mut h = embedding_forward(w("embed.weight"), cfg.vocab, d, tokens);
    let pos = w("pos_embed");
    for (i, v) in h.iter_mut().enumerate() {
        *v += pos[i % (t * d)];
    }
    let embedded = h.clone();
    let mut bottleneck_mid = vec![];
    if let Some(r) = cfg.bottleneck_rank {
        bottleneck_mid = linear_forward(&h, w("bottleneck.down.weight"), None, rows, d, r);
        h = linear_forward(&bottleneck_mid, w("bottleneck.up.weight"), None, rows, r, d);
    }

    let mut blocks = vec![];
    for i in 0..cfg.layers {
        let name = |s: &str| format!("blocks.{i}.{s}");
        let w = |s: &str| get(params, &name(s));
        let attn = cfg.has_attn().then(|| {
            let normed = norm_forward(cfg, params, &name("ln1"), &h, rows);
            let qkv = linear_forward(
                &normed,
                w("attn.qkv.weight"),
                Some(w("attn.qkv.bias")),
                rows,
                d,
                3 * d,
            );
            let (att, probs) = attention_forward(&qkv, n, t, d, cfg.heads);
            let out = linear_forward(
                &att,
                w("attn.out.weight"),
                Some(w("attn.out.bias")),
                rows,
                d,
                d,
            );
            let input = std::mem::take(&mut h);
            h = add(&input, &out);
            AttnCache {
                input,
                normed,
                qkv,
                att,
                probs,
            }
        });
        let mlp = cfg.has_mlp().then(|| {
            let normed = norm_forward(cfg, params, &name("ln2"), &h, rows);
            let pre = linear_forward(
                &normed,
                w("mlp.fc1.weight"),
                Some(w("mlp.fc1.bias")),
                rows,
                d,
                cfg.d_mlp,
            );
            let post = match cfg.act {
                Act::Relu => relu(&pre),
                Act::Gelu => gelu(&pre),
            };
            let out = linear_forward(
                &post,
                w("mlp.fc2.weight"),
                Some(w("mlp.fc2.bias")),
                rows,
                cfg.d_mlp,
                d,
            );
            let input = std::mem::take(&mut h);
            h = add(&input, &out);
            MlpCache {
                input,
                normed,
                pre,
                post,
            }
        });
        blocks.push(BlockCache { attn, mlp });
    }

    let last: Vec<f64> = (0..n)
        .flat_map(|s| h[(s * t + t - 1) * d..(s * t + t) * d].iter().copied())
        .collect();
    let final_in = norm_forward(cfg, params, "ln_f", &last, n);
    let logits = linear_forward(
        &final_in,
        w("unembed.weight"),
        Some(w("unembed.bias")),
        n,
        d,
        cfg.classes,
    );
    (
        logits,
        Cache {
            n,
            embedded,
            bottleneck_mid,
            blocks,
            last,
            final_in,
        },
    )
}

/// LayerNorm `{prefix}.weight|bias` over rows of d_model, or the identity when norm = none.
fn norm_forward(
    cfg: &TransformerConfig,
    params: &[Param],
    prefix: &str,
    x: &[f64],
    rows: usize,
) -> Vec<f64> {
    match cfg.norm {
        Norm::Pre => {
            let (gamma, beta) = (
                get(params, &format!("{prefix}.weight")),
                get(params, &format!("{prefix}.bias")),
            );
            layernorm_forward(x, gamma, beta, rows, cfg.d_model, LN_EPS).0
        }
        Norm::None => x.to_vec(),
    }
}

/// Backward of [`norm_forward`]: adds dγ, dβ into grads and returns dx.
fn norm_backward(
    cfg: &TransformerConfig,
    params: &[Param],
    grads: &mut [Param],
    prefix: &str,
    x: &[f64],
    dy: &[f64],
    rows: usize,
) -> Vec<f64> {
    match cfg.norm {
        Norm::Pre => {
            let gamma = get(params, &format!("{prefix}.weight"));
            let (dx, dgamma, dbeta) = layernorm_backward(x, gamma, dy, rows, cfg.d_model, LN_EPS);
            accumulate(grads, &format!("{prefix}.weight"), &dgamma);
            accumulate(grads, &format!("{prefix}.bias"), &dbeta);
            dx
        }
        Norm::None => dy.to_vec(),
    }
}

fn accumulate(grads: &mut [Param], name: &str, g: &[f64]) {
    let dst = get_mut(grads, name);
    assert_eq!(dst.len(), g.len(), "{name}: gradient size");
    dst.iter_mut().zip(g).for_each(|(d, g)| *d += g);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finite_diff::central_diff_grad;
    use crate::params::{flatten, unflatten};
    use crate::test_util::{assert_all_close, assert_grad_close, Rng};

    /// The small test model of the brief: p = 7, d = 8, 2 heads, d_mlp = 16, 2 layers.
    fn small() -> TransformerConfig {
        TransformerConfig::new(7, 8, 2, 16, 2)
    }

    /// Random parameters: LayerNorm weights near 1 (so no normalization is degenerate), the
    /// rest U(−0.5, 0.5).
    fn random_params(cfg: &TransformerConfig, rng: &mut Rng) -> Vec<Param> {
        transformer_param_shapes(cfg)
            .into_iter()
            .map(|(name, shape)| {
                let len = shape.iter().product();
                let values = if name.contains("ln") && name.ends_with("weight") {
                    (0..len).map(|_| rng.uniform(0.7, 1.3)).collect()
                } else {
                    (0..len).map(|_| rng.uniform(-0.5, 0.5)).collect()
                };
                (name, shape, values)
            })
            .collect()
    }

    /// N sequences [x, op, y, =] with random operands and random answers.
    fn batch(p: u32, n: usize, rng: &mut Rng) -> (Vec<u32>, Vec<u32>) {
        let tokens = (0..n)
            .flat_map(|_| [rng.below(p), p, rng.below(p), p + 1])
            .collect();
        (tokens, rng.indices(n, p))
    }

    fn check_gradients(cfg: &TransformerConfig, loss: Loss, seed: u64) {
        let mut rng = Rng::new(seed);
        let params = random_params(cfg, &mut rng);
        let (tokens, targets) = batch(cfg.classes as u32, 5, &mut rng);
        let (_, _, grads) = transformer_loss_and_grads(cfg, &params, &tokens, &targets, loss);
        let shapes = transformer_param_shapes(cfg);
        let f = |flat: &[f64]| {
            transformer_loss_and_grads(cfg, &unflatten(flat, &shapes), &tokens, &targets, loss).0
        };
        let numeric = unflatten(&central_diff_grad(f, &flatten(&params), 1e-6), &shapes);
        for ((name, _, analytic), (_, _, numeric)) in grads.iter().zip(&numeric) {
            // Tolerance 1e-7·scale per tensor; measured errors are ≲ 1e-9.
            // ReLU kinks could spoil a difference, but none lies within h of a pre-activation
            // for these seeds.
            assert_grad_close(&format!("{cfg:?} {name}"), analytic, numeric, 1e-7);
        }
    }

    #[test]
    fn gradients_full_prenorm_relu_ce() {
        check_gradients(&small(), Loss::Ce, 11);
    }

    #[test]
    fn gradients_full_gelu_stablemax() {
        check_gradients(
            &TransformerConfig {
                act: Act::Gelu,
                ..small()
            },
            Loss::Stablemax,
            12,
        );
    }

    #[test]
    fn gradients_norm_none() {
        check_gradients(
            &TransformerConfig {
                norm: Norm::None,
                ..small()
            },
            Loss::Ce,
            13,
        );
    }

    #[test]
    fn gradients_attn_only() {
        check_gradients(
            &TransformerConfig {
                variant: Variant::AttnOnly,
                ..small()
            },
            Loss::Ce,
            14,
        );
    }

    #[test]
    fn gradients_mlp_only() {
        check_gradients(
            &TransformerConfig {
                variant: Variant::MlpOnly,
                ..small()
            },
            Loss::Ce,
            15,
        );
    }

    #[test]
    fn gradients_bottleneck() {
        check_gradients(
            &TransformerConfig {
                bottleneck_rank: Some(3),
                ..small()
            },
            Loss::Stablemax,
            16,
        );
    }

    #[test]
    fn parameter_list_full_with_bottleneck() {
        let cfg = TransformerConfig {
            layers: 1,
            bottleneck_rank: Some(3),
            ..small()
        };
        let got = transformer_param_shapes(&cfg);
        let want: Vec<(&str, Vec<usize>)> = vec![
            ("embed.weight", vec![9, 8]),
            ("pos_embed", vec![4, 8]),
            ("bottleneck.down.weight", vec![3, 8]),
            ("bottleneck.up.weight", vec![8, 3]),
            ("blocks.0.ln1.weight", vec![8]),
            ("blocks.0.ln1.bias", vec![8]),
            ("blocks.0.attn.qkv.weight", vec![24, 8]),
            ("blocks.0.attn.qkv.bias", vec![24]),
            ("blocks.0.attn.out.weight", vec![8, 8]),
            ("blocks.0.attn.out.bias", vec![8]),
            ("blocks.0.ln2.weight", vec![8]),
            ("blocks.0.ln2.bias", vec![8]),
            ("blocks.0.mlp.fc1.weight", vec![16, 8]),
            ("blocks.0.mlp.fc1.bias", vec![16]),
            ("blocks.0.mlp.fc2.weight", vec![8, 16]),
            ("blocks.0.mlp.fc2.bias", vec![8]),
            ("ln_f.weight", vec![8]),
            ("ln_f.bias", vec![8]),
            ("unembed.weight", vec![7, 8]),
            ("unembed.bias", vec![7]),
        ];
        let want: Vec<(String, Vec<usize>)> =
            want.into_iter().map(|(n, s)| (n.to_string(), s)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn parameter_list_attn_only_without_norm() {
        let cfg = TransformerConfig {
            norm: Norm::None,
            variant: Variant::AttnOnly,
            ..small()
        };
        let names: Vec<String> = transformer_param_shapes(&cfg)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        let want = [
            "embed.weight",
            "pos_embed",
            "blocks.0.attn.qkv.weight",
            "blocks.0.attn.qkv.bias",
            "blocks.0.attn.out.weight",
            "blocks.0.attn.out.bias",
            "blocks.1.attn.qkv.weight",
            "blocks.1.attn.qkv.bias",
            "blocks.1.attn.out.weight",
            "blocks.1.attn.out.bias",
            "unembed.weight",
            "unembed.bias",
        ];
        assert_eq!(names, want);
    }

    #[test]
    fn zero_blocks_read_out_the_last_position() {
        // With every block weight and bias zero each sublayer adds exactly 0, so the logits are
        // unembed(ln_f(embed[=] + pos_embed[3])), written out here by hand.
        let cfg = small();
        let mut rng = Rng::new(17);
        let mut params = random_params(&cfg, &mut rng);
        for (name, _, v) in params.iter_mut() {
            if name.starts_with("blocks.") {
                v.iter_mut().for_each(|x| *x = 0.0);
            }
        }
        let tokens = [1, 7, 2, 8, 3, 7, 4, 8];
        let logits = transformer_forward(&cfg, &params, &tokens);
        let d = 8;
        let h: Vec<f64> = (0..d)
            .map(|j| get(&params, "embed.weight")[8 * d + j] + get(&params, "pos_embed")[3 * d + j])
            .collect();
        let mean = h.iter().sum::<f64>() / d as f64;
        let var = h.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / d as f64;
        let (gamma, beta) = (get(&params, "ln_f.weight"), get(&params, "ln_f.bias"));
        let normed: Vec<f64> = (0..d)
            .map(|j| (h[j] - mean) / (var + 1e-5).sqrt() * gamma[j] + beta[j])
            .collect();
        let (w, b) = (get(&params, "unembed.weight"), get(&params, "unembed.bias"));
        let row: Vec<f64> = (0..7)
            .map(|c| b[c] + (0..d).map(|j| w[c * d + j] * normed[j]).sum::<f64>())
            .collect();
        // Both sequences end in "=", so both rows equal the same hand-computed logits.
        assert_all_close("logits", &logits, &[row.clone(), row].concat(), 1e-14);
    }

    #[test]
    fn bottleneck_acts_right_after_the_embedding() {
        // With down = I and up = 2I (r = d) the bottleneck doubles the embedded stream, so the
        // model must equal the bottleneck-free one with embed and pos_embed doubled. Norm none,
        // because LayerNorm would hide a rescaling.
        let plain = TransformerConfig {
            norm: Norm::None,
            ..small()
        };
        let narrow = TransformerConfig {
            bottleneck_rank: Some(8),
            ..plain.clone()
        };
        let mut params = random_params(&plain, &mut Rng::new(19));
        let identity: Vec<f64> = (0..64)
            .map(|i| if i % 9 == 0 { 1.0 } else { 0.0 })
            .collect();
        let mut with_bottleneck = params[..2].to_vec();
        with_bottleneck.push((
            "bottleneck.down.weight".into(),
            vec![8, 8],
            identity.clone(),
        ));
        with_bottleneck.push((
            "bottleneck.up.weight".into(),
            vec![8, 8],
            identity.iter().map(|v| 2.0 * v).collect(),
        ));
        with_bottleneck.extend_from_slice(&params[2..]);
        for (_, _, v) in params[..2].iter_mut() {
            v.iter_mut().for_each(|x| *x *= 2.0);
        }
        let tokens = [1, 7, 2, 8, 6, 7, 0, 8];
        let want = transformer_forward(&plain, &params, &tokens);
        assert_all_close(
            "logits",
            &transformer_forward(&narrow, &with_bottleneck, &tokens),
            &want,
            1e-13,
        );
    }

    #[test]
    fn only_attention_mixes_positions() {
        // Without attention nothing moves information between positions, so the logits read at
        // "=" cannot depend on x; with attention they must.
        let mut rng = Rng::new(18);
        for (variant, mixes) in [(Variant::MlpOnly, false), (Variant::Full, true)] {
            let cfg = TransformerConfig { variant, ..small() };
            let params = random_params(&cfg, &mut rng);
            let a = transformer_forward(&cfg, &params, &[1, 7, 2, 8]);
            let b = transformer_forward(&cfg, &params, &[5, 7, 2, 8]);
            assert_eq!(a != b, mixes, "{variant:?}");
        }
    }
}
