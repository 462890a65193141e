//! From run settings to the engine's objects: the model spec, the optimizer's kind and
//! per-run hyperparameters, the loss kind.

use crate::config::{Act, Loss, Model, Norm, Optimizer, RunConfig, Variant};
use crate::nn::grad_filters::FilterConfig;
use crate::nn::optimizer::{Hyperparams, OptimizerKind};
use crate::nn::spec::{self, MlpSpec, ModelSpec, TransformerSpec};
use crate::tensor::ops::cross_entropy::LossKind;
use crate::tensor::gemm::Activation;

impl RunConfig {
    pub fn model_spec(&self) -> ModelSpec {
        let p = self.p as usize;
        match self.model {
            Model::Mlp => ModelSpec::Mlp(MlpSpec { p, hidden: self.d_model }),
            Model::Transformer => ModelSpec::Transformer(TransformerSpec {
                p,
                d_model: self.d_model,
                heads: self.heads,
                d_mlp: self.d_mlp,
                layers: self.layers,
                norm: match self.norm {
                    Norm::Pre => spec::Norm::Pre,
                    Norm::None => spec::Norm::None,
                },
                act: match self.act {
                    Act::Relu => Activation::Relu,
                    Act::Gelu => Activation::Gelu,
                },
                variant: match self.variant {
                    Variant::Full => spec::Variant::Full,
                    Variant::AttnOnly => spec::Variant::AttnOnly,
                    Variant::MlpOnly => spec::Variant::MlpOnly,
                },
                bottleneck_rank: self.bottleneck_rank,
            }),
        }
    }

    pub fn optimizer_kind(&self) -> OptimizerKind {
        match self.optimizer {
            Optimizer::AdamW => OptimizerKind::AdamW,
            Optimizer::Adam => OptimizerKind::Adam,
            Optimizer::Sgd => OptimizerKind::Sgd,
        }
    }

    pub fn hyperparams(&self) -> Hyperparams {
        Hyperparams {
            lr: self.lr,
            weight_decay: self.weight_decay,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            momentum: self.momentum,
            warmup: self.warmup as u32,
        }
    }

    pub fn filter_config(&self) -> FilterConfig {
        FilterConfig {
            l1: (self.l1 != 0.0).then_some(self.l1),
            ortho_grad: self.ortho_grad,
            grokfast_ema: self.grokfast_ema.map(|g| (g.alpha, g.lambda)),
            grokfast_ma: self.grokfast_ma.map(|g| (g.window, g.lambda)),
        }
    }

    pub fn loss_kind(&self) -> LossKind {
        match self.loss {
            Loss::Ce => LossKind::Ce,
            Loss::Stablemax => LossKind::Stablemax,
        }
    }

    /// lr after `t` updates' warmup: lr · min(1, t / warmup).
    pub fn lr_at(&self, t: u64) -> f64 {
        if self.warmup == 0 {
            self.lr
        } else {
            self.lr * (t as f64 / self.warmup as f64).min(1.0)
        }
    }
}
