//! What a model is: its architecture and the names and shapes of its parameters, in the
//! order of docs/runs.md (which is also the checkpoint order and the flat-buffer order).

use crate::tensor::gemm::Activation;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Norm {
    /// Pre-norm LayerNorm before each sublayer and before the unembedding.
    Pre,
    /// No LayerNorm anywhere (Nanda et al. 2023).
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    Full,
    AttnOnly,
    MlpOnly,
}

/// The decoder-only Transformer of docs/runs.md, reading the answer at the last position.
#[derive(Clone, Debug, PartialEq)]
pub struct TransformerSpec {
    pub p: usize,
    pub d_model: usize,
    pub heads: usize,
    pub d_mlp: usize,
    pub layers: usize,
    pub norm: Norm,
    pub act: Activation,
    pub variant: Variant,
    pub bottleneck_rank: Option<usize>,
}

/// The MLP of seed 003: logits = fc2(relu(fc1(concat(embed[x], embed[y])))).
#[derive(Clone, Debug, PartialEq)]
pub struct MlpSpec {
    pub p: usize,
    pub hidden: usize,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ModelSpec {
    Transformer(TransformerSpec),
    Mlp(MlpSpec),
}

/// Tokens per example the model reads: [x, op, y, =] for the Transformer, [x, y] for the MLP.
pub const TRANSFORMER_SEQ: usize = 4;
pub const MLP_SEQ: usize = 2;

impl TransformerSpec {
    pub fn vocab(&self) -> usize {
        self.p + 2
    }

    pub fn has_attention(&self) -> bool {
        self.variant != Variant::MlpOnly
    }

    pub fn has_mlp(&self) -> bool {
        self.variant != Variant::AttnOnly
    }

    pub fn param_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let (d, v) = (self.d_model, self.vocab());
        let mut shapes = vec![("embed.weight".to_string(), vec![v, d]), ("pos_embed".to_string(), vec![TRANSFORMER_SEQ, d])];
        if let Some(r) = self.bottleneck_rank {
            shapes.push(("bottleneck.down.weight".into(), vec![r, d]));
            shapes.push(("bottleneck.up.weight".into(), vec![d, r]));
        }
        let norm = self.norm == Norm::Pre;
        for i in 0..self.layers {
            let b = |s: &str| format!("blocks.{i}.{s}");
            if self.has_attention() {
                if norm {
                    shapes.push((b("ln1.weight"), vec![d]));
                    shapes.push((b("ln1.bias"), vec![d]));
                }
                shapes.push((b("attn.qkv.weight"), vec![3 * d, d]));
                shapes.push((b("attn.qkv.bias"), vec![3 * d]));
                shapes.push((b("attn.out.weight"), vec![d, d]));
                shapes.push((b("attn.out.bias"), vec![d]));
            }
            if self.has_mlp() {
                if norm {
                    shapes.push((b("ln2.weight"), vec![d]));
                    shapes.push((b("ln2.bias"), vec![d]));
                }
                shapes.push((b("mlp.fc1.weight"), vec![self.d_mlp, d]));
                shapes.push((b("mlp.fc1.bias"), vec![self.d_mlp]));
                shapes.push((b("mlp.fc2.weight"), vec![d, self.d_mlp]));
                shapes.push((b("mlp.fc2.bias"), vec![d]));
            }
        }
        if norm {
            shapes.push(("ln_f.weight".into(), vec![d]));
            shapes.push(("ln_f.bias".into(), vec![d]));
        }
        shapes.push(("unembed.weight".into(), vec![self.p, d]));
        shapes.push(("unembed.bias".into(), vec![self.p]));
        shapes
    }
}

impl MlpSpec {
    pub fn param_shapes(&self) -> Vec<(String, Vec<usize>)> {
        let (p, h) = (self.p, self.hidden);
        vec![
            ("embed.weight".into(), vec![p, h]),
            ("fc1.weight".into(), vec![h, 2 * h]),
            ("fc1.bias".into(), vec![h]),
            ("fc2.weight".into(), vec![p, h]),
            ("fc2.bias".into(), vec![p]),
        ]
    }
}

impl ModelSpec {
    pub fn param_shapes(&self) -> Vec<(String, Vec<usize>)> {
        match self {
            ModelSpec::Transformer(t) => t.param_shapes(),
            ModelSpec::Mlp(m) => m.param_shapes(),
        }
    }

    /// Output classes: the answers 0..p-1.
    pub fn classes(&self) -> usize {
        match self {
            ModelSpec::Transformer(t) => t.p,
            ModelSpec::Mlp(m) => m.p,
        }
    }

    /// Tokens per example in the model's input rows.
    pub fn seq_len(&self) -> usize {
        match self {
            ModelSpec::Transformer(_) => TRANSFORMER_SEQ,
            ModelSpec::Mlp(_) => MLP_SEQ,
        }
    }
}
