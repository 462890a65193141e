//! The models' forward pass on a tape. Backward comes from the tape; the shapes carry the
//! run axis R, so one trace trains R models in the same dispatches.

use std::collections::HashMap;

use super::spec::{MlpSpec, ModelSpec, Norm, TransformerSpec, TRANSFORMER_SEQ};
use crate::tensor::ops::attention::attention;
use crate::tensor::ops::embedding::{embed_with_positions, embedding};
use crate::tensor::ops::layernorm::{layernorm, layernorm_at};
use crate::tensor::ops::linear::linear;
use crate::tensor::gemm::Activation;
use crate::tensor::ops::select::select;
use crate::tensor::{Tape, Tensor};

/// The model's parameters on the tape, by checkpoint name.
pub struct Weights(pub HashMap<String, Tensor>);

impl Weights {
    fn get(&self, name: &str) -> Tensor {
        *self.0.get(name).unwrap_or_else(|| panic!("model has no parameter {name}"))
    }
}

/// What a forward pass leaves for the analyses besides the logits.
pub struct Forward {
    /// [R, N, p]
    pub logits: Tensor,
    /// Attention probabilities per attention layer, [R, N, H, T, T].
    pub attention_probs: Vec<Tensor>,
    /// Per attention layer, the heads' outputs before the output projection, [R, N, T, d]
    /// (head h in columns h·d/H..(h+1)·d/H).
    pub head_outputs: Vec<Tensor>,
    /// Per MLP block, the post-activation of its first layer: [R, N·T, d_mlp] for the
    /// Transformer, [R, N, hidden] for the MLP.
    pub mlp_post: Vec<Tensor>,
    /// Per block, the residual stream after it, [R, N·T, d] (none for the MLP).
    pub residuals: Vec<Tensor>,
    /// The representation the readout sees, [R, N, d]: the last position's residual stream
    /// after ln_f with pre-norm (ln_f is applied at that position only, in the same
    /// dispatch), before it without norm; the MLP's hidden layer, [R, N, hidden].
    pub readout_input: Tensor,
}

/// logits [R, N, p] from token rows [R, N, seq_len] (u32).
pub fn forward(tape: &mut Tape, spec: &ModelSpec, w: &Weights, tokens: Tensor) -> Forward {
    match spec {
        ModelSpec::Transformer(t) => transformer(tape, t, w, tokens),
        ModelSpec::Mlp(m) => mlp(tape, m, w, tokens),
    }
}

fn transformer(tape: &mut Tape, spec: &TransformerSpec, w: &Weights, tokens: Tensor) -> Forward {
    let (runs, rows) = (tape.shape(tokens)[0], tape.shape(tokens)[1]);
    let d = spec.d_model;
    let pre_norm = spec.norm == Norm::Pre;
    // [R, N, T, d] viewed as [R, N·T, d] rows for the linears.
    let mut h = embed_with_positions(tape, w.get("embed.weight"), w.get("pos_embed"), tokens);
    h = tape.reshape(h, &[runs, rows * TRANSFORMER_SEQ, d]);
    if spec.bottleneck_rank.is_some() {
        let down = linear(tape, h, w.get("bottleneck.down.weight"), None, Activation::None, None);
        h = linear(tape, down, w.get("bottleneck.up.weight"), None, Activation::None, None);
    }
    let norm = |tape: &mut Tape, x: Tensor, name: &str| {
        if pre_norm {
            layernorm(tape, x, w.get(&format!("{name}.weight")), w.get(&format!("{name}.bias")))
        } else {
            x
        }
    };
    let (mut attention_probs, mut head_outputs, mut mlp_post, mut residuals) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for i in 0..spec.layers {
        let b = |s: &str| format!("blocks.{i}.{s}");
        if spec.has_attention() {
            let a = norm(tape, h, &b("ln1"));
            let qkv = linear(tape, a, w.get(&b("attn.qkv.weight")), Some(w.get(&b("attn.qkv.bias"))), Activation::None, None);
            let qkv = tape.reshape(qkv, &[runs, rows, TRANSFORMER_SEQ, 3 * d]);
            let att = attention(tape, qkv, spec.heads);
            attention_probs.push(att.probs);
            head_outputs.push(att.out);
            let out = tape.reshape(att.out, &[runs, rows * TRANSFORMER_SEQ, d]);
            h = linear(tape, out, w.get(&b("attn.out.weight")), Some(w.get(&b("attn.out.bias"))), Activation::None, Some(h));
        }
        if spec.has_mlp() {
            let a = norm(tape, h, &b("ln2"));
            let f = linear(tape, a, w.get(&b("mlp.fc1.weight")), Some(w.get(&b("mlp.fc1.bias"))), spec.act, None);
            mlp_post.push(f);
            h = linear(tape, f, w.get(&b("mlp.fc2.weight")), Some(w.get(&b("mlp.fc2.bias"))), Activation::None, Some(h));
        }
        residuals.push(h);
    }
    // The prediction is read at the last position; pre-norm takes it inside ln_f.
    let h = tape.reshape(h, &[runs, rows, TRANSFORMER_SEQ, d]);
    let last = if pre_norm {
        layernorm_at(tape, h, TRANSFORMER_SEQ - 1, w.get("ln_f.weight"), w.get("ln_f.bias"))
    } else {
        select(tape, h, 2, TRANSFORMER_SEQ - 1)
    };
    let logits = linear(tape, last, w.get("unembed.weight"), Some(w.get("unembed.bias")), Activation::None, None);
    Forward { logits, attention_probs, head_outputs, mlp_post, residuals, readout_input: last }
}

fn mlp(tape: &mut Tape, spec: &MlpSpec, w: &Weights, tokens: Tensor) -> Forward {
    let (runs, rows) = (tape.shape(tokens)[0], tape.shape(tokens)[1]);
    // embed[x] and embed[y] side by side are concat(embed[x], embed[y]).
    let e = embedding(tape, w.get("embed.weight"), tokens);
    let e = tape.reshape(e, &[runs, rows, 2 * spec.hidden]);
    let hidden = linear(tape, e, w.get("fc1.weight"), Some(w.get("fc1.bias")), Activation::Relu, None);
    let logits = linear(tape, hidden, w.get("fc2.weight"), Some(w.get("fc2.bias")), Activation::None, None);
    Forward { logits, attention_probs: vec![], head_outputs: vec![], mlp_post: vec![hidden], residuals: vec![], readout_input: hidden }
}
