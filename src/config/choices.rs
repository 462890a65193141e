//! The closed sets of named settings a run chooses from (model, norm, optimizer, loss, …)
//! and the small structured values of config.json (batch size, Grokfast filters), each
//! parsing from and printing as its config.json / command-line spelling.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::choice_enum;
use crate::{Error, Result};

choice_enum!(
    /// Which network.
    Model, "model", { Transformer = "transformer", Mlp = "mlp" }
);
choice_enum!(
    /// Where the Transformer's LayerNorms sit: before each sublayer and at the end, or nowhere.
    Norm, "norm", { Pre = "pre", None = "none" }
);
choice_enum!(
    /// The Transformer's MLP activation (gelu is the exact erf form).
    Act, "act", { Relu = "relu", Gelu = "gelu" }
);
choice_enum!(
    /// Which sublayers each Transformer block has.
    Variant, "variant", { Full = "full", AttnOnly = "attn-only", MlpOnly = "mlp-only" }
);
choice_enum!(
    /// The update rule (RUNS.md): decoupled, coupled-L2 Adam, or SGD.
    Optimizer, "optimizer", { AdamW = "adamw", Adam = "adam", Sgd = "sgd" }
);
choice_enum!(
    /// Cross-entropy over softmax, or over stablemax (Prieto et al. 2025).
    Loss, "loss", { Ce = "ce", Stablemax = "stablemax" }
);
choice_enum!(
    /// Initialization recipe (nn::init): PyTorch defaults, or Fourier-mode number embeddings.
    #[derive(Default)]
    Init, "init", { #[default] Default = "default", Fourier = "fourier" }
);
choice_enum!(
    /// Storage type of checkpoint weights.
    #[derive(Default)]
    CkptDtype, "checkpoint dtype", { #[default] F32 = "f32", F16 = "f16" }
);

/// Examples per update: a number, or the whole train set ("full" in config.json).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BatchSize {
    Full,
    Size(usize),
}

impl BatchSize {
    /// Power et al.'s default, min(512, |train| / 2) (at least 1).
    pub fn power_default(train_len: usize) -> BatchSize {
        BatchSize::Size((train_len / 2).clamp(1, 512))
    }
}

impl FromStr for BatchSize {
    type Err = Error;

    fn from_str(s: &str) -> Result<BatchSize> {
        if s == "full" {
            return Ok(BatchSize::Full);
        }
        s.parse().map(BatchSize::Size).map_err(|_| Error::msg(format!("batch_size must be a number or \"full\", got '{s}'")))
    }
}

impl fmt::Display for BatchSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchSize::Full => f.write_str("full"),
            BatchSize::Size(n) => write!(f, "{n}"),
        }
    }
}

impl Serialize for BatchSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            BatchSize::Full => s.serialize_str("full"),
            BatchSize::Size(n) => s.serialize_u64(*n as u64),
        }
    }
}

impl<'de> Deserialize<'de> for BatchSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<BatchSize, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(usize),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Ok(BatchSize::Size(n)),
            Raw::Text(s) => s.parse().map_err(serde::de::Error::custom),
        }
    }
}

/// Grokfast-EMA (Lee et al. 2024): μ ← α·μ + (1−α)·g, the update uses g + λ·μ.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrokfastEma {
    pub alpha: f64,
    pub lambda: f64,
}

/// Grokfast-MA: μ = mean of the last `window` gradients, the update uses g + λ·μ.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct GrokfastMa {
    pub window: usize,
    pub lambda: f64,
}

/// "a,b" → (a, b), for the two-number Grokfast flags.
fn pair<A: FromStr, B: FromStr>(s: &str, what: &str) -> Result<(A, B)> {
    let bad = || Error::msg(format!("{what} expects two numbers 'a,b', got '{s}'"));
    let (a, b) = s.split_once(',').ok_or_else(bad)?;
    Ok((a.trim().parse().map_err(|_| bad())?, b.trim().parse().map_err(|_| bad())?))
}

impl FromStr for GrokfastEma {
    type Err = Error;

    /// "α,λ".
    fn from_str(s: &str) -> Result<GrokfastEma> {
        let (alpha, lambda) = pair(s, "grokfast_ema (alpha,lambda)")?;
        Ok(GrokfastEma { alpha, lambda })
    }
}

impl FromStr for GrokfastMa {
    type Err = Error;

    /// "window,λ".
    fn from_str(s: &str) -> Result<GrokfastMa> {
        let (window, lambda) = pair(s, "grokfast_ma (window,lambda)")?;
        Ok(GrokfastMa { window, lambda })
    }
}

