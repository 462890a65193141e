//! grokgpu's Transformer as TransformerLens 3.x's `HookedTransformer`: the config that
//! builds the same network, and the checkpoint's tensors renamed and laid out as that
//! model's `state_dict()`.
//!
//! The correspondence, per block i (d = d_model, H heads of width dh = d / H):
//! - `embed.weight` [V, d] is `embed.W_E` and `pos_embed` [4, d] is `pos_embed.W_pos`, as they are;
//! - `attn.qkv.weight` [3d, d] holds W_Q, W_K, W_V as PyTorch rows (out = x·Wᵀ), head h in
//!   rows h·dh.. of each third: `attn.W_Q`[h, i, j] = qkv.weight[h·dh + j, i] ([H, d, dh]),
//!   `attn.b_Q`[h, j] = qkv.bias[h·dh + j] ([H, dh]); K and V from the second and last third;
//! - `attn.out.weight` [d, d]: `attn.W_O`[h, j, k] = out.weight[k, h·dh + j] ([H, dh, d]);
//! - `mlp.fc1.weight` [d_mlp, d] transposed is `mlp.W_in` [d, d_mlp], `mlp.fc2.weight`
//!   transposed is `mlp.W_out` [d_mlp, d]; `unembed.weight` [p, d] transposed is `unembed.W_U`
//!   [d, p], so `d_vocab_out` = p while `d_vocab` = p + 2;
//! - LayerNorms `ln1`, `ln2`, `ln_f` are `ln1`, `ln2`, `ln_final` with `weight`/`bias` as `w`/`b`.
//!
//! Both compute attention scores q·k/√dh with a causal mask, LayerNorm with the biased
//! variance and eps 1e-5, and exact (erf) GELU; grokgpu reads the answer at the last position,
//! which is TransformerLens's logits at position 3. Each attention layer's state_dict also
//! holds two buffers, `mask` (an empty bool tensor, rebuilt at forward time) and `IGNORE`
//! (−∞, the masked score), which are written too so that `load_state_dict` is strict.

use serde_json::{json, Value};

use crate::io::safetensors::{Tensor, TensorData};
use crate::nn::spec::{Norm, TransformerSpec, Variant, TRANSFORMER_SEQ};
use crate::tensor::ops::layernorm::EPS as LAYERNORM_EPS;
use crate::tensor::gemm::Activation;

/// The run option TransformerLens's `HookedTransformer` cannot express in `spec`, as
/// config.json spells it, and why; None when it can express the whole model.
pub fn inexpressible(spec: &TransformerSpec) -> Option<(String, &'static str)> {
    if let Some(r) = spec.bottleneck_rank {
        return Some((format!("bottleneck_rank = {r}"), "HookedTransformer has no low-rank bottleneck between the embedding and the first block"));
    }
    if spec.variant == Variant::MlpOnly {
        return Some(("variant = mlp-only".into(), "every HookedTransformer block has attention (attn_only is its only reduced block)"));
    }
    None
}

/// The keyword arguments of `HookedTransformerConfig` for `spec`.
pub fn hooked_transformer_config(spec: &TransformerSpec) -> Value {
    let attn_only = spec.variant == Variant::AttnOnly;
    let act_fn = match spec.act {
        Activation::Relu => "relu",
        // TransformerLens's "gelu" is torch's exact erf GELU, as grokgpu's.
        Activation::Gelu => "gelu",
        Activation::None => unreachable!("the MLP of a Transformer has an activation"),
    };
    json!({
        "n_layers": spec.layers,
        "d_model": spec.d_model,
        "n_ctx": TRANSFORMER_SEQ,
        "d_head": spec.d_model / spec.heads,
        "n_heads": spec.heads,
        "d_mlp": (!attn_only).then_some(spec.d_mlp),
        "d_vocab": spec.vocab(),
        "d_vocab_out": spec.p,
        "act_fn": (!attn_only).then_some(act_fn),
        "normalization_type": (spec.norm == Norm::Pre).then_some("LN"),
        "attn_only": attn_only,
        "positional_embedding_type": "standard",
        // The f32's shortest decimal (1e-5), not its binary expansion 9.99999974738e-6.
        "eps": LAYERNORM_EPS.to_string().parse::<f64>().expect("an f32 prints as a number"),
        "use_attn_scale": true,
        "default_prepend_bos": false,
    })
}

/// A checkpoint's tensors as (name, shape, values), checked against the spec by the caller.
pub type Params = [(String, Vec<usize>, Vec<f32>)];

fn get<'a>(params: &'a Params, name: &str) -> &'a [f32] {
    &params.iter().find(|(n, _, _)| n == name).unwrap_or_else(|| panic!("the checkpoint has no {name}")).2
}

fn f32_tensor(name: String, shape: &[usize], values: Vec<f32>) -> Tensor {
    Tensor::new(name, shape, TensorData::F32(values))
}

/// `w` [rows, cols] transposed to [cols, rows].
fn transposed(w: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    (0..cols).flat_map(|c| (0..rows).map(move |r| w[r * cols + c])).collect()
}

/// The state_dict of the `HookedTransformer` that [`hooked_transformer_config`] builds, in
/// its own order, from the checkpoint's tensors. `spec` must pass [`inexpressible`].
pub fn state_dict(spec: &TransformerSpec, params: &Params) -> Vec<Tensor> {
    assert!(inexpressible(spec).is_none(), "state_dict of a model TransformerLens cannot express");
    let (d, heads, m, p) = (spec.d_model, spec.heads, spec.d_mlp, spec.p);
    let dh = d / heads;
    let pre_norm = spec.norm == Norm::Pre;
    let mut out = vec![
        f32_tensor("embed.W_E".into(), &[spec.vocab(), d], get(params, "embed.weight").to_vec()),
        f32_tensor("pos_embed.W_pos".into(), &[TRANSFORMER_SEQ, d], get(params, "pos_embed").to_vec()),
    ];
    for i in 0..spec.layers {
        let ours = |s: &str| get(params, &format!("blocks.{i}.{s}"));
        let theirs = |s: &str| format!("blocks.{i}.{s}");
        if pre_norm {
            out.push(f32_tensor(theirs("ln1.w"), &[d], ours("ln1.weight").to_vec()));
            out.push(f32_tensor(theirs("ln1.b"), &[d], ours("ln1.bias").to_vec()));
            if spec.has_mlp() {
                out.push(f32_tensor(theirs("ln2.w"), &[d], ours("ln2.weight").to_vec()));
                out.push(f32_tensor(theirs("ln2.b"), &[d], ours("ln2.bias").to_vec()));
            }
        }
        let (qkv, qkv_bias) = (ours("attn.qkv.weight"), ours("attn.qkv.bias"));
        // Third `part` of qkv (0 = q, 1 = k, 2 = v) as [H, d, dh] and its bias as [H, dh].
        let projection = |part: usize| -> Vec<f32> {
            (0..heads)
                .flat_map(|h| (0..d).flat_map(move |x| (0..dh).map(move |j| qkv[(part * d + h * dh + j) * d + x])))
                .collect()
        };
        let bias = |part: usize| qkv_bias[part * d..(part + 1) * d].to_vec();
        let out_weight = ours("attn.out.weight");
        let w_o: Vec<f32> = (0..heads).flat_map(|h| (0..dh).flat_map(move |j| (0..d).map(move |k| out_weight[k * d + h * dh + j]))).collect();
        out.push(f32_tensor(theirs("attn.W_Q"), &[heads, d, dh], projection(0)));
        out.push(f32_tensor(theirs("attn.W_O"), &[heads, dh, d], w_o));
        out.push(f32_tensor(theirs("attn.b_Q"), &[heads, dh], bias(0)));
        out.push(f32_tensor(theirs("attn.b_O"), &[d], ours("attn.out.bias").to_vec()));
        out.push(f32_tensor(theirs("attn.W_K"), &[heads, d, dh], projection(1)));
        out.push(f32_tensor(theirs("attn.W_V"), &[heads, d, dh], projection(2)));
        out.push(f32_tensor(theirs("attn.b_K"), &[heads, dh], bias(1)));
        out.push(f32_tensor(theirs("attn.b_V"), &[heads, dh], bias(2)));
        out.push(Tensor::new(theirs("attn.mask"), &[0, 0], TensorData::Bool(vec![])));
        out.push(f32_tensor(theirs("attn.IGNORE"), &[], vec![f32::NEG_INFINITY]));
        if spec.has_mlp() {
            out.push(f32_tensor(theirs("mlp.W_in"), &[d, m], transposed(ours("mlp.fc1.weight"), m, d)));
            out.push(f32_tensor(theirs("mlp.b_in"), &[m], ours("mlp.fc1.bias").to_vec()));
            out.push(f32_tensor(theirs("mlp.W_out"), &[m, d], transposed(ours("mlp.fc2.weight"), d, m)));
            out.push(f32_tensor(theirs("mlp.b_out"), &[d], ours("mlp.fc2.bias").to_vec()));
        }
    }
    if pre_norm {
        out.push(f32_tensor("ln_final.w".into(), &[d], get(params, "ln_f.weight").to_vec()));
        out.push(f32_tensor("ln_final.b".into(), &[d], get(params, "ln_f.bias").to_vec()));
    }
    out.push(f32_tensor("unembed.W_U".into(), &[d, p], transposed(get(params, "unembed.weight"), p, d)));
    out.push(f32_tensor("unembed.b_U".into(), &[p], get(params, "unembed.bias").to_vec()));
    out
}
