//! `RunConfig`: every setting of one run, exactly the flat keys of config.json (docs/runs.md),
//! with validation that turns each impossible setting into a one-line error.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::choices::{Act, BatchSize, CkptDtype, GrokfastEma, GrokfastMa, Init, Loss, Model, Norm, Optimizer, Variant};
use super::vary::{forbidden_changes, Change};
use crate::data::split::train_size;
use crate::data::{Split, Table, Task};
use crate::{bail, Error, Result};

/// The version written into every config.json.
pub const GROKGPU_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where a forked run comes from: its parent's directory and the checkpoint step whose exact
/// training state it continues.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForkOrigin {
    pub run: String,
    pub step: u64,
}

/// Every setting of one run. Serialized, it is the run's config.json (flat keys of docs/runs.md).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The preset the run started from (informational: every value is spelled out below).
    #[serde(default)]
    pub preset: String,
    pub task: Task,
    pub p: u32,
    pub train_frac: f64,
    /// Seeds initialization and minibatch order.
    pub seed: u64,
    /// Seeds the train/validation split (defaults to `seed`).
    pub data_seed: u64,
    pub model: Model,
    /// Transformer blocks (unused by the MLP).
    pub layers: usize,
    /// Residual width of the Transformer; hidden width h of the MLP.
    pub d_model: usize,
    /// Attention heads (unused by the MLP).
    pub heads: usize,
    /// Width of the Transformer's MLP sublayers (unused by the MLP model).
    pub d_mlp: usize,
    pub norm: Norm,
    pub act: Act,
    pub variant: Variant,
    /// Rank r of the residual-stream bottleneck after the embedding, or none.
    pub bottleneck_rank: Option<usize>,
    pub optimizer: Optimizer,
    pub lr: f64,
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Linear warmup length in updates (0 = constant lr).
    pub warmup: u64,
    /// SGD momentum (0 = plain SGD).
    pub momentum: f64,
    pub loss: Loss,
    pub batch_size: BatchSize,
    /// Optimizer updates.
    pub steps: u64,
    pub eval_every: u64,
    pub ckpt_every: u64,
    #[serde(default)]
    pub ckpt_dtype: CkptDtype,
    /// Multiplies every initial parameter (Omnigrok's α).
    pub init_scale: f64,
    #[serde(default)]
    pub init: Init,
    /// Coefficient of the L1 penalty l1 · Σ|θ| added to the loss (0 = off).
    #[serde(default)]
    pub l1: f64,
    /// ⊥Grad: remove each tensor's gradient component along its weights.
    #[serde(default)]
    pub ortho_grad: bool,
    #[serde(default)]
    pub grokfast_ema: Option<GrokfastEma>,
    #[serde(default)]
    pub grokfast_ma: Option<GrokfastMa>,
    /// The run this one continues from a step of (`grokgpu fork`); absent for a run trained
    /// from its initialization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forked_from: Option<ForkOrigin>,
    pub grokgpu_version: String,
    /// The GPU adapter that ran it (filled in by the trainer).
    #[serde(default)]
    pub adapter: String,
    /// Where the run's files go; not part of config.json.
    #[serde(skip)]
    pub dir: PathBuf,
}

impl RunConfig {
    /// Number of examples N of the task's full table.
    pub fn examples(&self) -> usize {
        self.task.examples(self.p)
    }

    /// Size of the train set, round(train_frac · N).
    pub fn train_len(&self) -> usize {
        train_size(self.examples(), self.train_frac)
    }

    /// Examples per update with `full` resolved.
    pub fn batch_len(&self) -> usize {
        match self.batch_size {
            BatchSize::Full => self.train_len(),
            BatchSize::Size(n) => n,
        }
    }

    /// The task's full table and this run's split of it.
    pub fn dataset(&self) -> Result<(Table, Split)> {
        let table = Table::new(self.task, self.p)?;
        let split = Split::new(table.len(), self.train_frac, self.data_seed)?;
        Ok((table, split))
    }

    /// Checks every setting; the first problem found is the error.
    pub fn validate(&self) -> Result<()> {
        self.task.check_p(self.p)?;
        if self.init == Init::Fourier && !self.task.is_modular() {
            bail!("init fourier writes Fourier modes of Z_p into the embedding; task {} is not arithmetic mod p", self.task);
        }
        if !(self.train_frac > 0.0 && self.train_frac < 1.0) {
            bail!("train_frac must be in (0, 1), got {}", self.train_frac);
        }
        let (n, n_train) = (self.examples(), self.train_len());
        if n_train == 0 || n_train == n {
            let which = if n_train == 0 { "train" } else { "validation" };
            bail!("train_frac {} of {n} examples leaves the {which} set empty", self.train_frac);
        }
        for (key, v) in [("steps", self.steps), ("eval_every", self.eval_every), ("ckpt_every", self.ckpt_every)] {
            if v == 0 {
                bail!("{key} must be at least 1");
            }
        }
        self.validate_model()?;
        self.validate_optimizer()?;
        match self.batch_size {
            BatchSize::Size(0) => bail!("batch_size must be at least 1"),
            BatchSize::Size(b) if b > n_train => {
                bail!("batch_size {b} is larger than the train set ({n_train} examples); lower --batch-size or use --batch-size full")
            }
            _ => {}
        }
        if !(self.init_scale > 0.0 && self.init_scale.is_finite()) {
            bail!("init_scale must be a positive number, got {}", self.init_scale);
        }
        Ok(())
    }

    fn validate_model(&self) -> Result<()> {
        if self.d_model == 0 {
            bail!("d_model must be at least 1");
        }
        if self.model == Model::Mlp {
            if self.variant != Variant::Full {
                bail!("variant {} applies to the transformer only (the MLP has no blocks)", self.variant);
            }
            if self.bottleneck_rank.is_some() {
                bail!("bottleneck_rank applies to the transformer only");
            }
            if self.act != Act::Relu {
                bail!("the MLP uses relu; act {} applies to the transformer only", self.act);
            }
            return Ok(());
        }
        if self.heads == 0 || !self.d_model.is_multiple_of(self.heads) {
            bail!("heads ({}) must divide d_model ({})", self.heads, self.d_model);
        }
        if self.variant != Variant::AttnOnly && self.d_mlp == 0 {
            bail!("d_mlp must be at least 1");
        }
        if let Some(r) = self.bottleneck_rank {
            if r == 0 || r > self.d_model {
                bail!("bottleneck_rank must be in 1..={} (d_model), got {r}", self.d_model);
            }
        }
        Ok(())
    }

    fn validate_optimizer(&self) -> Result<()> {
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            bail!("lr must be a positive number, got {}", self.lr);
        }
        for (key, v) in [("weight_decay", self.weight_decay), ("l1", self.l1)] {
            if !is_non_negative(v) {
                bail!("{key} must be ≥ 0, got {v}");
            }
        }
        for (key, v) in [("beta1", self.beta1), ("beta2", self.beta2), ("momentum", self.momentum)] {
            if !(0.0..1.0).contains(&v) {
                bail!("{key} must be in [0, 1), got {v}");
            }
        }
        if !(self.eps > 0.0 && self.eps.is_finite()) {
            bail!("eps must be a positive number, got {}", self.eps);
        }
        if self.momentum != 0.0 && self.optimizer != Optimizer::Sgd {
            bail!("momentum applies to sgd only (optimizer is {})", self.optimizer);
        }
        if self.grokfast_ema.is_some() && self.grokfast_ma.is_some() {
            bail!("choose one Grokfast filter: grokfast_ema or grokfast_ma");
        }
        if let Some(g) = self.grokfast_ema {
            if !(0.0..1.0).contains(&g.alpha) || !is_non_negative(g.lambda) {
                bail!("grokfast_ema needs alpha in [0, 1) and lambda ≥ 0, got {},{}", g.alpha, g.lambda);
            }
        }
        if let Some(g) = self.grokfast_ma {
            if g.window == 0 || !is_non_negative(g.lambda) {
                bail!("grokfast_ma needs window ≥ 1 and lambda ≥ 0, got {},{}", g.window, g.lambda);
            }
        }
        Ok(())
    }

    /// config.json's text (pretty, keys in declaration order).
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a RunConfig always serializes") + "\n"
    }

    /// Parses and validates config.json text; `origin` (the path) starts every error.
    pub fn from_json(text: &str, origin: &str) -> Result<RunConfig> {
        let cfg: RunConfig = serde_json::from_str(text).map_err(|e| Error::msg(format!("{origin}: {e}")))?;
        cfg.validate().map_err(|e| Error::msg(format!("{origin}: {e}")))?;
        Ok(cfg)
    }

    /// The settings that differ from `other` other than schedule and provenance, as
    /// "key: ours → theirs"; empty when `other` continues the same run.
    pub fn identity_diff(&self, other: &RunConfig) -> Vec<String> {
        forbidden_changes(self, other, Change::Resume)
    }
}

/// A finite number ≥ 0 (NaN is not).
fn is_non_negative(v: f64) -> bool {
    v >= 0.0 && v.is_finite()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::presets::{preset, PRESETS};

    type Change = Box<dyn FnOnce(&mut RunConfig)>;

    fn base() -> RunConfig {
        preset("power2022").unwrap().config
    }

    fn error_of(change: impl FnOnce(&mut RunConfig)) -> String {
        let mut c = base();
        change(&mut c);
        c.validate().expect_err("this setting must be rejected").to_string()
    }

    #[test]
    fn every_preset_is_valid() {
        for name in PRESETS {
            preset(name).unwrap().config.validate().unwrap_or_else(|e| panic!("{name}: {e}"));
        }
    }

    #[test]
    fn each_bad_setting_has_its_own_message() {
        let cases: Vec<(Change, &str)> = vec![
            (Box::new(|c| c.p = 96), "p must be prime, got 96 (try 97)"),
            (Box::new(|c| c.p = 2), "p must be a prime ≥ 3, got 2"),
            (Box::new(|c| c.task = Task::S5Compose), "p is the group order for task s5_compose: it must be 120, got 97"),
            (Box::new(|c| { c.task = Task::S5Compose; c.p = 120; c.init = Init::Fourier }), "init fourier writes Fourier modes of Z_p into the embedding; task s5_compose is not arithmetic mod p"),
            (Box::new(|c| c.train_frac = 0.0), "train_frac must be in (0, 1), got 0"),
            (Box::new(|c| c.train_frac = 1.5), "train_frac must be in (0, 1), got 1.5"),
            (Box::new(|c| c.train_frac = 1e-6), "train_frac 0.000001 of 9312 examples leaves the train set empty"),
            (Box::new(|c| c.steps = 0), "steps must be at least 1"),
            (Box::new(|c| c.eval_every = 0), "eval_every must be at least 1"),
            (Box::new(|c| c.ckpt_every = 0), "ckpt_every must be at least 1"),
            (Box::new(|c| c.heads = 3), "heads (3) must divide d_model (128)"),
            (Box::new(|c| c.heads = 0), "heads (0) must divide d_model (128)"),
            (Box::new(|c| c.d_model = 0), "d_model must be at least 1"),
            (Box::new(|c| c.d_mlp = 0), "d_mlp must be at least 1"),
            (Box::new(|c| c.bottleneck_rank = Some(0)), "bottleneck_rank must be in 1..=128 (d_model), got 0"),
            (Box::new(|c| c.bottleneck_rank = Some(129)), "bottleneck_rank must be in 1..=128 (d_model), got 129"),
            (Box::new(|c| { c.model = Model::Mlp; c.variant = Variant::AttnOnly }), "variant attn-only applies to the transformer only (the MLP has no blocks)"),
            (Box::new(|c| { c.model = Model::Mlp; c.bottleneck_rank = Some(4) }), "bottleneck_rank applies to the transformer only"),
            (Box::new(|c| { c.model = Model::Mlp; c.act = Act::Gelu }), "the MLP uses relu; act gelu applies to the transformer only"),
            (Box::new(|c| c.lr = 0.0), "lr must be a positive number, got 0"),
            (Box::new(|c| c.lr = f64::INFINITY), "lr must be a positive number, got inf"),
            (Box::new(|c| c.weight_decay = -1.0), "weight_decay must be ≥ 0, got -1"),
            (Box::new(|c| c.l1 = f64::NAN), "l1 must be ≥ 0, got NaN"),
            (Box::new(|c| c.beta1 = 1.0), "beta1 must be in [0, 1), got 1"),
            (Box::new(|c| c.beta2 = -0.1), "beta2 must be in [0, 1), got -0.1"),
            (Box::new(|c| c.eps = 0.0), "eps must be a positive number, got 0"),
            (Box::new(|c| { c.optimizer = Optimizer::Sgd; c.momentum = 1.0 }), "momentum must be in [0, 1), got 1"),
            (Box::new(|c| c.momentum = 0.9), "momentum applies to sgd only (optimizer is adamw)"),
            (Box::new(|c| c.batch_size = BatchSize::Size(0)), "batch_size must be at least 1"),
            (Box::new(|c| c.batch_size = BatchSize::Size(5000)), "batch_size 5000 is larger than the train set (4656 examples); lower --batch-size or use --batch-size full"),
            (Box::new(|c| c.init_scale = 0.0), "init_scale must be a positive number, got 0"),
            (Box::new(|c| {
                c.grokfast_ema = Some(GrokfastEma { alpha: 0.98, lambda: 2.0 });
                c.grokfast_ma = Some(GrokfastMa { window: 100, lambda: 5.0 });
            }), "choose one Grokfast filter: grokfast_ema or grokfast_ma"),
            (Box::new(|c| c.grokfast_ema = Some(GrokfastEma { alpha: 1.0, lambda: 2.0 })), "grokfast_ema needs alpha in [0, 1) and lambda ≥ 0, got 1,2"),
            (Box::new(|c| c.grokfast_ma = Some(GrokfastMa { window: 0, lambda: 2.0 })), "grokfast_ma needs window ≥ 1 and lambda ≥ 0, got 0,2"),
        ];
        for (change, want) in cases {
            assert_eq!(error_of(change), want);
        }
    }

    #[test]
    fn attn_only_needs_no_mlp_width_and_mlp_ignores_heads() {
        let mut c = base();
        c.variant = Variant::AttnOnly;
        c.d_mlp = 0;
        c.validate().unwrap();
        let mut m = preset("tian-mlp").unwrap().config;
        m.heads = 3;
        m.validate().unwrap();
    }

    #[test]
    fn unknown_names_are_errors() {
        let cases = [
            ("transformers".parse::<Model>().map(|_| ()), "unknown model 'transformers' (expected one of: transformer, mlp)"),
            ("post".parse::<Norm>().map(|_| ()), "unknown norm 'post' (expected one of: pre, none)"),
            ("tanh".parse::<Act>().map(|_| ()), "unknown act 'tanh' (expected one of: relu, gelu)"),
            ("mlp_only".parse::<Variant>().map(|_| ()), "unknown variant 'mlp_only' (expected one of: full, attn-only, mlp-only)"),
            ("lion".parse::<Optimizer>().map(|_| ()), "unknown optimizer 'lion' (expected one of: adamw, adam, sgd)"),
            ("mse".parse::<Loss>().map(|_| ()), "unknown loss 'mse' (expected one of: ce, stablemax)"),
            ("xavier".parse::<Init>().map(|_| ()), "unknown init 'xavier' (expected one of: default, fourier)"),
            ("bf16".parse::<CkptDtype>().map(|_| ()), "unknown checkpoint dtype 'bf16' (expected one of: f32, f16)"),
            ("half".parse::<BatchSize>().map(|_| ()), "batch_size must be a number or \"full\", got 'half'"),
            ("0.98".parse::<GrokfastEma>().map(|_| ()), "grokfast_ema (alpha,lambda) expects two numbers 'a,b', got '0.98'"),
            ("1.5,2".parse::<GrokfastMa>().map(|_| ()), "grokfast_ma (window,lambda) expects two numbers 'a,b', got '1.5,2'"),
        ];
        for (got, want) in cases {
            assert_eq!(got.unwrap_err().to_string(), want);
        }
        assert_eq!("full".parse::<BatchSize>().unwrap(), BatchSize::Full);
        assert_eq!("0.98, 2".parse::<GrokfastEma>().unwrap(), GrokfastEma { alpha: 0.98, lambda: 2.0 });
    }

    #[test]
    fn json_round_trip_of_every_preset_and_extras() {
        for name in PRESETS {
            let mut c = preset(name).unwrap().config;
            c.grokfast_ma = Some(GrokfastMa { window: 100, lambda: 5.0 });
            c.bottleneck_rank = (c.model == Model::Transformer).then_some(8);
            c.adapter = "llvmpipe".into();
            let back = RunConfig::from_json(&c.to_json(), "config.json").unwrap();
            assert_eq!(back, c, "{name}");
        }
        let s5 = RunConfig { task: Task::S5ComposeInv, p: 120, ..base() };
        assert_eq!(RunConfig::from_json(&s5.to_json(), "config.json").unwrap(), s5);
        assert!(s5.to_json().contains("\"task\": \"s5_compose_inv\""));
    }

    #[test]
    fn json_spells_settings_as_runs_md() {
        let v: serde_json::Value = serde_json::from_str(&preset("nanda2023").unwrap().config.to_json()).unwrap();
        assert_eq!(v["batch_size"], "full");
        assert_eq!(v["bottleneck_rank"], serde_json::Value::Null);
        assert_eq!(v["norm"], "none");
        assert_eq!(v["task"], "add");
        assert_eq!(v["grokfast_ema"], serde_json::Value::Null);
        assert!(v.get("dir").is_none());
        let keys = [
            "task", "p", "train_frac", "seed", "data_seed", "model", "layers", "d_model", "heads", "d_mlp", "norm", "act", "variant",
            "bottleneck_rank", "optimizer", "lr", "weight_decay", "beta1", "beta2", "eps", "warmup", "momentum", "loss", "batch_size",
            "steps", "eval_every", "ckpt_every", "init_scale", "grokgpu_version", "adapter",
        ];
        for k in keys {
            assert!(v.get(k).is_some(), "config.json lacks {k}");
        }
        let v: serde_json::Value = serde_json::from_str(&base().to_json()).unwrap();
        assert_eq!(v["batch_size"], 512);
    }

    #[test]
    fn bad_json_names_the_file() {
        let e = RunConfig::from_json("{\"p\": 97}", "runs/a/config.json").unwrap_err().to_string();
        assert!(e.starts_with("runs/a/config.json: missing field"), "{e}");
        let mut c = base();
        c.p = 91;
        let e = RunConfig::from_json(&c.to_json(), "runs/a/config.json").unwrap_err().to_string();
        assert_eq!(e, "runs/a/config.json: p must be prime, got 91 (try 97)");
        let text = base().to_json().replace("\"div\"", "\"pow\"");
        let e = RunConfig::from_json(&text, "c.json").unwrap_err().to_string();
        assert!(e.contains("unknown task 'pow'"), "{e}");
    }

    #[test]
    fn identity_ignores_the_schedule_only() {
        let a = base();
        let mut b = a.clone();
        b.steps *= 2;
        b.eval_every = 7;
        b.adapter = "other".into();
        assert!(a.identity_diff(&b).is_empty());
        b.lr = 0.01;
        assert_eq!(a.identity_diff(&b), ["lr: 0.001 → 0.01"]);
    }

    #[test]
    fn sizes() {
        let c = base();
        assert_eq!((c.examples(), c.train_len(), c.batch_len()), (9312, 4656, 512));
        let n = preset("nanda2023").unwrap().config;
        assert_eq!((n.examples(), n.train_len(), n.batch_len()), (12769, 3831, 3831));
        let (table, split) = n.dataset().unwrap();
        assert_eq!((table.len(), split.train_len()), (12769, 3831));
    }
}
