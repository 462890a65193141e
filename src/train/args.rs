//! The command line of `grokgpu train`: a preset, any of its settings overridden by a flag
//! named after its config.json key (`_` spelled `-`), and the multi-run flags.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use crate::data::Task;
use crate::train::config::{Act, BatchSize, CkptDtype, GrokfastEma, GrokfastMa, Init, Loss, Model, Norm, Optimizer, RunConfig, Variant};
use crate::train::presets::preset;
use crate::train::rundir::CONFIG_FILE;
use crate::train::sweep::{expand, SweepAxis, SweepFile, SWEEP_FILE};
use crate::{bail, Error, Result};

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

/// Train a model on a modular-arithmetic task, writing a run directory (docs/runs.md).
#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// Starting point: power2022, power2022-late, nanda2023, tian-mlp or quick.
    #[arg(long, default_value = "power2022")]
    pub preset: String,
    /// add, sub, mul, div, sq_sum, quad or cubic (mod p).
    #[arg(long)]
    pub task: Option<Task>,
    /// The prime modulus.
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
    #[arg(long)]
    pub layers: Option<usize>,
    /// Residual width (the MLP's hidden width h).
    #[arg(long)]
    pub d_model: Option<usize>,
    #[arg(long)]
    pub heads: Option<usize>,
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
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long)]
    pub weight_decay: Option<f64>,
    #[arg(long)]
    pub beta1: Option<f64>,
    #[arg(long)]
    pub beta2: Option<f64>,
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
    /// One run per value, e.g. weight_decay=0.1,0.3,1 (repeat for a grid).
    #[arg(long)]
    pub sweep: Vec<SweepAxis>,
}

impl Args {
    /// The output directory: --out-dir, or runs/<preset>.
    pub fn out_dir(&self) -> PathBuf {
        self.out_dir.clone().unwrap_or_else(|| Path::new("runs").join(&self.preset))
    }

    /// Whether this is a multi-run (one directory per run under the output directory).
    pub fn is_multi_run(&self) -> bool {
        self.seeds.is_some() || !self.sweep.is_empty()
    }

    /// Every run to train, validated, each with its directory. With --resume and an output
    /// directory that holds runs, they are the stored runs, with only schedule flags (--steps,
    /// --eval-every, --ckpt-every, --ckpt-dtype) allowed to change them.
    pub fn resolve(&self) -> Result<Vec<RunConfig>> {
        if self.resume && self.force {
            bail!("use either --resume or --force, not both");
        }
        let out_dir = self.out_dir();
        if self.resume && (out_dir.join(CONFIG_FILE).exists() || out_dir.join(SWEEP_FILE).exists()) {
            return self.resolve_resumed(&out_dir);
        }
        let p = preset(&self.preset)?;
        let mut base = p.config.clone();
        self.apply(&mut base);
        if self.data_seed.is_none() {
            base.data_seed = base.seed;
        }
        p.derive(&mut base, self.batch_size.is_some(), self.eval_every.is_some(), self.ckpt_every.is_some());
        let runs = if self.is_multi_run() {
            expand(&base, self.seeds.as_deref(), &self.sweep, self.data_seed.is_some(), &out_dir)?
        } else {
            vec![RunConfig { dir: out_dir, ..base }]
        };
        for r in &runs {
            r.validate()?;
        }
        Ok(runs)
    }

    fn resolve_resumed(&self, out_dir: &Path) -> Result<Vec<RunConfig>> {
        let dirs = if out_dir.join(SWEEP_FILE).exists() { SweepFile::read(out_dir)?.dirs(out_dir) } else { vec![out_dir.to_path_buf()] };
        let mut runs = vec![];
        for dir in dirs {
            let path = dir.join(CONFIG_FILE);
            let text = std::fs::read_to_string(&path).map_err(|e| Error::msg(format!("cannot read {}: {e}", path.display())))?;
            let stored = RunConfig::from_json(&text, &path.display().to_string())?;
            let mut cfg = stored.clone();
            self.apply(&mut cfg);
            let changed = stored.identity_diff(&cfg);
            if !changed.is_empty() {
                bail!("--resume keeps the settings of {} ({}); drop those flags or start a new run", dir.display(), changed.join(", "));
            }
            cfg.validate()?;
            runs.push(RunConfig { dir, ..cfg });
        }
        Ok(runs)
    }

    /// Overwrites every setting given by a flag.
    fn apply(&self, c: &mut RunConfig) {
        fn set<T: Clone>(flag: &Option<T>, field: &mut T) {
            if let Some(v) = flag {
                *field = v.clone();
            }
        }
        set(&self.task, &mut c.task);
        set(&self.p, &mut c.p);
        set(&self.train_frac, &mut c.train_frac);
        set(&self.seed, &mut c.seed);
        set(&self.data_seed, &mut c.data_seed);
        set(&self.model, &mut c.model);
        set(&self.layers, &mut c.layers);
        set(&self.d_model, &mut c.d_model);
        set(&self.heads, &mut c.heads);
        set(&self.d_mlp, &mut c.d_mlp);
        set(&self.norm, &mut c.norm);
        set(&self.act, &mut c.act);
        set(&self.variant, &mut c.variant);
        if let Some(BottleneckRank(r)) = self.bottleneck_rank {
            c.bottleneck_rank = r;
        }
        set(&self.optimizer, &mut c.optimizer);
        set(&self.lr, &mut c.lr);
        set(&self.weight_decay, &mut c.weight_decay);
        set(&self.beta1, &mut c.beta1);
        set(&self.beta2, &mut c.beta2);
        set(&self.eps, &mut c.eps);
        set(&self.warmup, &mut c.warmup);
        set(&self.momentum, &mut c.momentum);
        set(&self.loss, &mut c.loss);
        set(&self.batch_size, &mut c.batch_size);
        set(&self.init_scale, &mut c.init_scale);
        set(&self.init, &mut c.init);
        set(&self.l1, &mut c.l1);
        c.ortho_grad |= self.ortho_grad;
        if self.grokfast_ema.is_some() {
            c.grokfast_ema = self.grokfast_ema;
        }
        if self.grokfast_ma.is_some() {
            c.grokfast_ma = self.grokfast_ma;
        }
        set(&self.steps, &mut c.steps);
        set(&self.eval_every, &mut c.eval_every);
        set(&self.ckpt_every, &mut c.ckpt_every);
        set(&self.ckpt_dtype, &mut c.ckpt_dtype);
    }
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

    fn resolve(flags: &[&str]) -> Result<Vec<RunConfig>> {
        parse(flags).expect("flags parse").resolve()
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn defaults_are_power2022_in_runs_power2022() {
        let runs = resolve(&[]).unwrap();
        assert_eq!(runs.len(), 1);
        let mut want = preset("power2022").unwrap().config;
        want.dir = PathBuf::from("runs/power2022");
        assert_eq!(runs[0], want);
    }

    #[test]
    fn every_flag_overrides_its_preset() {
        let flags = [
            "--preset", "nanda2023", "--task", "quad", "--p", "59", "--train-frac", "0.4", "--seed", "5", "--data-seed", "6",
            "--model", "transformer", "--layers", "3", "--d-model", "96", "--heads", "3", "--d-mlp", "200", "--norm", "pre",
            "--act", "gelu", "--variant", "mlp-only", "--bottleneck-rank", "8", "--optimizer", "sgd", "--lr", "0.1",
            "--weight-decay", "0.5", "--beta1", "0.8", "--beta2", "0.95", "--eps", "1e-6", "--warmup", "7", "--momentum", "0.9",
            "--loss", "stablemax", "--batch-size", "100", "--init-scale", "2", "--init", "fourier", "--l1", "1e-5", "--ortho-grad",
            "--grokfast-ema", "0.98,2", "--steps", "3000", "--eval-every", "30", "--ckpt-every", "60", "--ckpt-dtype", "f16",
            "--out-dir", "/tmp/o",
        ];
        let c = &resolve(&flags).unwrap()[0];
        assert_eq!((c.task, c.p, c.train_frac, c.seed, c.data_seed), (Task::Quad, 59, 0.4, 5, 6));
        assert_eq!((c.model, c.layers, c.d_model, c.heads, c.d_mlp), (Model::Transformer, 3, 96, 3, 200));
        assert_eq!((c.norm, c.act, c.variant, c.bottleneck_rank), (Norm::Pre, Act::Gelu, Variant::MlpOnly, Some(8)));
        assert_eq!((c.optimizer, c.lr, c.weight_decay, c.beta1, c.beta2), (Optimizer::Sgd, 0.1, 0.5, 0.8, 0.95));
        assert_eq!((c.eps, c.warmup, c.momentum, c.loss), (1e-6, 7, 0.9, Loss::Stablemax));
        assert_eq!((c.batch_size, c.init_scale, c.init, c.l1, c.ortho_grad), (BatchSize::Size(100), 2.0, Init::Fourier, 1e-5, true));
        assert_eq!(c.grokfast_ema, Some(GrokfastEma { alpha: 0.98, lambda: 2.0 }));
        assert_eq!((c.steps, c.eval_every, c.ckpt_every, c.ckpt_dtype), (3000, 30, 60, CkptDtype::F16));
        assert_eq!((c.preset.as_str(), c.dir.as_path()), ("nanda2023", Path::new("/tmp/o")));
        let c = &resolve(&["--grokfast-ma", "100,5", "--bottleneck-rank", "none"]).unwrap()[0];
        assert_eq!((c.grokfast_ma, c.bottleneck_rank), (Some(GrokfastMa { window: 100, lambda: 5.0 }), None));
    }

    #[test]
    fn derived_defaults_follow_the_flags() {
        let c = &resolve(&["--p", "13", "--steps", "20000", "--seed", "4"]).unwrap()[0];
        assert_eq!((c.batch_size, c.eval_every, c.ckpt_every, c.data_seed), (BatchSize::Size(39), 20, 20, 4));
        let c = &resolve(&["--preset", "quick", "--steps", "20000"]).unwrap()[0];
        assert_eq!((c.eval_every, c.ckpt_every), (50, 10));
    }

    #[test]
    fn multi_run_expansion() {
        let runs = resolve(&["--preset", "quick", "--seeds", "0,1,2", "--sweep", "weight_decay=0.1,1", "--out-dir", "o"]).unwrap();
        assert_eq!(runs.len(), 6);
        assert_eq!(runs[5].dir, Path::new("o/weight_decay=1,seed=2"));
        assert_eq!((runs[5].seed, runs[5].data_seed, runs[5].weight_decay), (2, 2, 1.0));
    }

    #[test]
    fn invalid_settings_fail_resolution_with_one_line() {
        let cases: [(&[&str], &str); 6] = [
            (&["--p", "100"], "p must be prime, got 100 (try 101)"),
            (&["--heads", "5"], "heads (5) must divide d_model (128)"),
            (&["--steps", "0"], "steps must be at least 1"),
            (&["--preset", "nope"], "unknown preset 'nope' (expected one of: power2022, power2022-late, nanda2023, tian-mlp, quick)"),
            (&["--resume", "--force"], "use either --resume or --force, not both"),
            (&["--preset", "quick", "--batch-size", "5000"], "batch_size 5000 is larger than the train set (1546 examples); lower --batch-size or use --batch-size full"),
        ];
        for (flags, want) in cases {
            let e = resolve(flags).unwrap_err().to_string();
            assert_eq!(e, want);
            assert!(!e.contains('\n'));
        }
    }

    #[test]
    fn unparsable_values_are_rejected_by_the_parser() {
        let bad = [["--task", "pow"], ["--optimizer", "lion"], ["--loss", "mse"], ["--batch-size", "many"], ["--grokfast-ema", "0.9"], ["--sweep", "p=3"]];
        for flags in bad {
            let e = parse(&flags).err().unwrap_or_else(|| panic!("{flags:?} must not parse")).to_string();
            assert!(e.lines().next().unwrap().contains("invalid value"), "{e}");
        }
        let e = parse(&["--task", "pow"]).err().unwrap().to_string();
        assert!(e.contains("unknown task 'pow'"), "{e}");
    }

    #[test]
    fn resume_takes_the_stored_settings() {
        let dir = crate::io::test_dir("args_resume");
        let out = dir.to_str().unwrap();
        let first = resolve(&["--preset", "quick", "--lr", "0.002", "--out-dir", out]).unwrap().remove(0);
        std::fs::write(dir.join(CONFIG_FILE), first.to_json()).unwrap();
        let resumed = resolve(&["--resume", "--out-dir", out, "--steps", "3000"]).unwrap().remove(0);
        assert_eq!((resumed.lr, resumed.steps, resumed.preset.as_str()), (0.002, 3000, "quick"));
        assert_eq!(resumed.identity_diff(&first), Vec::<String>::new());
        let e = resolve(&["--resume", "--out-dir", out, "--lr", "0.01"]).unwrap_err().to_string();
        assert_eq!(e, format!("--resume keeps the settings of {out} (lr: 0.002 → 0.01); drop those flags or start a new run"));
    }
}
