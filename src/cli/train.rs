//! `grokgpu train`: a preset, any of its settings overridden by a flag named after its
//! config.json key (`_` spelled `-`), and the multi-run flags, turned into the library's
//! `TrainOptions`.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use grokgpu::config::sweep::SweepAxis;
use grokgpu::config::{Act, BatchSize, CkptDtype, GrokfastEma, GrokfastMa, Init, Loss, Model, Norm, Optimizer, Overrides, RunPlan, Shard, Variant};
use grokgpu::data::Task;
use grokgpu::train::TrainOptions;
use grokgpu::{Error, Result};

/// `--bottleneck-rank r` or `--bottleneck-rank none`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BottleneckRank(pub Option<usize>);

impl FromStr for BottleneckRank {
    type Err = Error;

    fn from_str(s: &str) -> Result<BottleneckRank> {
        if s == "none" {
            return Ok(BottleneckRank(None));
        }
        s.parse().map(|r| BottleneckRank(Some(r))).map_err(|_| Error::msg(format!("bottleneck_rank must be a number or none, got '{s}'")))
    }
}

/// Train a model on a modular-arithmetic or S₅ task, writing a run directory (docs/runs.md).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// Starting point: power2022, power2022-late, nanda2023, tian-mlp, quick or s5.
    #[arg(long, default_value = "power2022")]
    pub preset: String,
    /// add, sub, mul, div, sq_sum, quad or cubic (mod p); s5_compose (x∘y) or s5_compose_inv (x∘y⁻¹) in S₅.
    #[arg(long)]
    pub task: Option<Task>,
    /// The prime modulus (a group task's p is its order, 120 for S₅, and may be left out).
    #[arg(long)]
    pub p: Option<u32>,
    /// Fraction of the table trained on; the rest is validation.
    #[arg(long)]
    pub train_frac: Option<f64>,
    /// Seeds initialization and minibatch order.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Seeds the train/validation split (default: the seed).
    #[arg(long)]
    pub data_seed: Option<u64>,
    /// transformer or mlp.
    #[arg(long)]
    pub model: Option<Model>,
    /// Transformer blocks.
    #[arg(long)]
    pub layers: Option<usize>,
    /// Residual width (the MLP's hidden width h).
    #[arg(long)]
    pub d_model: Option<usize>,
    /// Attention heads per block (they split d_model).
    #[arg(long)]
    pub heads: Option<usize>,
    /// Hidden width of each block's MLP.
    #[arg(long)]
    pub d_mlp: Option<usize>,
    /// pre or none.
    #[arg(long)]
    pub norm: Option<Norm>,
    /// relu or gelu.
    #[arg(long)]
    pub act: Option<Act>,
    /// full, attn-only or mlp-only.
    #[arg(long)]
    pub variant: Option<Variant>,
    /// Rank of the residual bottleneck after the embedding, or none.
    #[arg(long)]
    pub bottleneck_rank: Option<BottleneckRank>,
    /// adamw, adam (coupled L2) or sgd.
    #[arg(long)]
    pub optimizer: Option<Optimizer>,
    /// Learning rate (peak, after warmup).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Weight decay: decoupled for adamw, an L2 term in the gradient for adam and sgd.
    #[arg(long)]
    pub weight_decay: Option<f64>,
    /// Adam's first-moment decay.
    #[arg(long)]
    pub beta1: Option<f64>,
    /// Adam's second-moment decay.
    #[arg(long)]
    pub beta2: Option<f64>,
    /// Adam's denominator epsilon.
    #[arg(long)]
    pub eps: Option<f64>,
    /// Linear warmup updates.
    #[arg(long)]
    pub warmup: Option<u64>,
    /// SGD momentum.
    #[arg(long)]
    pub momentum: Option<f64>,
    /// ce or stablemax.
    #[arg(long)]
    pub loss: Option<Loss>,
    /// Examples per update, or full.
    #[arg(long)]
    pub batch_size: Option<BatchSize>,
    /// Multiplies every initial parameter.
    #[arg(long)]
    pub init_scale: Option<f64>,
    /// default or fourier.
    #[arg(long)]
    pub init: Option<Init>,
    /// L1 penalty coefficient.
    #[arg(long)]
    pub l1: Option<f64>,
    /// Orthogonalize each gradient against its weights (⊥Grad).
    #[arg(long)]
    pub ortho_grad: bool,
    /// Grokfast EMA filter: alpha,lambda.
    #[arg(long, value_name = "ALPHA,LAMBDA")]
    pub grokfast_ema: Option<GrokfastEma>,
    /// Grokfast moving-average filter: window,lambda.
    #[arg(long, value_name = "WINDOW,LAMBDA")]
    pub grokfast_ma: Option<GrokfastMa>,
    /// Optimizer updates.
    #[arg(long)]
    pub steps: Option<u64>,
    /// Updates between evaluations (default steps/1000).
    #[arg(long)]
    pub eval_every: Option<u64>,
    /// Updates between checkpoints (default steps/1000).
    #[arg(long)]
    pub ckpt_every: Option<u64>,
    /// f32 or f16 checkpoint weights.
    #[arg(long)]
    pub ckpt_dtype: Option<CkptDtype>,
    /// Run directory (default runs/<preset>).
    #[arg(long)]
    pub out_dir: Option<PathBuf>,
    /// Continue the run(s) in the output directory from the last saved state.
    #[arg(long)]
    pub resume: bool,
    /// Replace the run(s) in the output directory.
    #[arg(long)]
    pub force: bool,
    /// One run per seed, e.g. 0,1,2,3.
    #[arg(long, value_delimiter = ',')]
    pub seeds: Option<Vec<u64>>,
    /// One run per value of any config.json key, e.g. weight_decay=0.1,0.3,1 or
    /// bottleneck_rank=none,4,8 (repeat for a grid). Runs whose shapes match train in the
    /// same dispatches; the other groups train one after another.
    #[arg(long)]
    pub sweep: Vec<SweepAxis>,
    /// Train only the I-th of N shares of the runs (I from 0), e.g. 0/4, into the common
    /// --out-dir, for a sweep spread over machines; `slurm` takes I and N from a Slurm array
    /// task. The same command resumes the share's runs after a kill or preemption.
    #[arg(long)]
    pub shard: Option<ShardArg>,
}

/// `--shard I/N`, or `--shard slurm` for the share of this Slurm array task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShardArg {
    Share(Shard),
    Slurm,
}

impl FromStr for ShardArg {
    type Err = Error;

    fn from_str(s: &str) -> Result<ShardArg> {
        if s == "slurm" {
            return Ok(ShardArg::Slurm);
        }
        s.parse().map(ShardArg::Share)
    }
}

impl ShardArg {
    fn resolve(self) -> Result<Shard> {
        match self {
            ShardArg::Share(shard) => Ok(shard),
            ShardArg::Slurm => {
                let var = |name| std::env::var(name).ok();
                Shard::from_slurm(var("SLURM_ARRAY_TASK_ID").as_deref(), var("SLURM_ARRAY_TASK_COUNT").as_deref())
            }
        }
    }
}

impl Args {
    /// The library's options: --out-dir defaults to runs/<preset>.
    pub fn options(&self) -> TrainOptions {
        let overrides = Overrides {
            task: self.task,
            p: self.p,
            train_frac: self.train_frac,
            seed: self.seed,
            data_seed: self.data_seed,
            model: self.model,
            layers: self.layers,
            d_model: self.d_model,
            heads: self.heads,
            d_mlp: self.d_mlp,
            norm: self.norm,
            act: self.act,
            variant: self.variant,
            bottleneck_rank: self.bottleneck_rank.map(|BottleneckRank(r)| r),
            optimizer: self.optimizer,
            lr: self.lr,
            weight_decay: self.weight_decay,
            beta1: self.beta1,
            beta2: self.beta2,
            eps: self.eps,
            warmup: self.warmup,
            momentum: self.momentum,
            loss: self.loss,
            batch_size: self.batch_size,
            init_scale: self.init_scale,
            init: self.init,
            l1: self.l1,
            ortho_grad: self.ortho_grad,
            grokfast_ema: self.grokfast_ema,
            grokfast_ma: self.grokfast_ma,
            steps: self.steps,
            eval_every: self.eval_every,
            ckpt_every: self.ckpt_every,
            ckpt_dtype: self.ckpt_dtype,
        };
        TrainOptions {
            plan: RunPlan { preset: self.preset.clone(), overrides, seeds: self.seeds.clone(), sweeps: self.sweep.clone() },
            out_dir: self.out_dir.clone().unwrap_or_else(|| Path::new("runs").join(&self.preset)),
            resume: self.resume,
            force: self.force,
            shard: None,
        }
    }
}

pub fn run(args: &Args) -> Result<()> {
    let options = TrainOptions { shard: args.shard.map(ShardArg::resolve).transpose()?, ..args.options() };
    grokgpu::tensor::gemm::tune::enable();
    grokgpu::train::run::train(&options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn parse(flags: &[&str]) -> std::result::Result<Args, clap::Error> {
        Cli::try_parse_from(std::iter::once("train").chain(flags.iter().copied())).map(|c| c.args)
    }

    fn options(flags: &[&str]) -> TrainOptions {
        parse(flags).expect("flags parse").options()
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_are_power2022_in_runs_power2022() {
        let o = options(&[]);
        assert_eq!(o.plan, RunPlan::preset("power2022"));
        assert_eq!((o.out_dir.as_path(), o.resume, o.force), (Path::new("runs/power2022"), false, false));
    }

    #[test]
    fn every_flag_sets_its_override() {
        let flags = [
            "--preset", "nanda2023", "--task", "quad", "--p", "59", "--train-frac", "0.4", "--seed", "5", "--data-seed", "6",
            "--model", "transformer", "--layers", "3", "--d-model", "96", "--heads", "3", "--d-mlp", "200", "--norm", "pre",
            "--act", "gelu", "--variant", "mlp-only", "--bottleneck-rank", "8", "--optimizer", "sgd", "--lr", "0.1",
            "--weight-decay", "0.5", "--beta1", "0.8", "--beta2", "0.95", "--eps", "1e-6", "--warmup", "7", "--momentum", "0.9",
            "--loss", "stablemax", "--batch-size", "100", "--init-scale", "2", "--init", "fourier", "--l1", "1e-5", "--ortho-grad",
            "--grokfast-ema", "0.98,2", "--steps", "3000", "--eval-every", "30", "--ckpt-every", "60", "--ckpt-dtype", "f16",
            "--out-dir", "/tmp/o", "--resume", "--seeds", "1,2", "--sweep", "lr=0.1,0.2",
        ];
        let o = options(&flags);
        let want = Overrides {
            task: Some(Task::Quad),
            p: Some(59),
            train_frac: Some(0.4),
            seed: Some(5),
            data_seed: Some(6),
            model: Some(Model::Transformer),
            layers: Some(3),
            d_model: Some(96),
            heads: Some(3),
            d_mlp: Some(200),
            norm: Some(Norm::Pre),
            act: Some(Act::Gelu),
            variant: Some(Variant::MlpOnly),
            bottleneck_rank: Some(Some(8)),
            optimizer: Some(Optimizer::Sgd),
            lr: Some(0.1),
            weight_decay: Some(0.5),
            beta1: Some(0.8),
            beta2: Some(0.95),
            eps: Some(1e-6),
            warmup: Some(7),
            momentum: Some(0.9),
            loss: Some(Loss::Stablemax),
            batch_size: Some(BatchSize::Size(100)),
            init_scale: Some(2.0),
            init: Some(Init::Fourier),
            l1: Some(1e-5),
            ortho_grad: true,
            grokfast_ema: Some(GrokfastEma { alpha: 0.98, lambda: 2.0 }),
            grokfast_ma: None,
            steps: Some(3000),
            eval_every: Some(30),
            ckpt_every: Some(60),
            ckpt_dtype: Some(CkptDtype::F16),
        };
        assert_eq!(o.plan.overrides, want);
        assert_eq!((o.plan.preset.as_str(), o.plan.seeds.as_deref(), o.plan.sweeps.len()), ("nanda2023", Some(&[1, 2][..]), 1));
        assert_eq!((o.out_dir.as_path(), o.resume), (Path::new("/tmp/o"), true));
        let o = options(&["--grokfast-ma", "100,5", "--bottleneck-rank", "none"]);
        assert_eq!((o.plan.overrides.grokfast_ma, o.plan.overrides.bottleneck_rank), (Some(GrokfastMa { window: 100, lambda: 5.0 }), Some(None)));
    }

    #[test]
    fn unparsable_values_are_rejected_by_the_parser() {
        let bad = [["--task", "pow"], ["--optimizer", "lion"], ["--loss", "mse"], ["--batch-size", "many"], ["--grokfast-ema", "0.9"], ["--sweep", "p=x"]];
        for flags in bad {
            let e = parse(&flags).err().unwrap_or_else(|| panic!("{flags:?} must not parse")).to_string();
            assert!(e.lines().next().unwrap().contains("invalid value"), "{e}");
        }
        let e = parse(&["--task", "pow"]).err().unwrap().to_string();
        assert!(e.contains("unknown task 'pow'"), "{e}");
    }
}
