//! From what a user asks for to the runs to train: a preset, the settings overridden on top
//! of it, and optionally seeds and sweeps, expanded into one validated `RunConfig` per run.

use std::path::{Path, PathBuf};

use super::choices::{Act, BatchSize, CkptDtype, GrokfastEma, GrokfastMa, Init, Loss, Model, Norm, Optimizer, Variant};
use super::presets::preset;
use super::run_config::RunConfig;
use super::sweep::{expand, SweepAxis};
use crate::data::Task;
use crate::{Error, Result};

/// Settings given explicitly, each replacing its preset's value (`None`: keep it).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    pub task: Option<Task>,
    pub p: Option<u32>,
    pub train_frac: Option<f64>,
    pub seed: Option<u64>,
    pub data_seed: Option<u64>,
    pub model: Option<Model>,
    pub layers: Option<usize>,
    pub d_model: Option<usize>,
    pub heads: Option<usize>,
    pub d_mlp: Option<usize>,
    pub norm: Option<Norm>,
    pub act: Option<Act>,
    pub variant: Option<Variant>,
    /// `Some(None)` removes the preset's bottleneck.
    pub bottleneck_rank: Option<Option<usize>>,
    pub optimizer: Option<Optimizer>,
    pub lr: Option<f64>,
    pub weight_decay: Option<f64>,
    pub beta1: Option<f64>,
    pub beta2: Option<f64>,
    pub eps: Option<f64>,
    pub warmup: Option<u64>,
    pub momentum: Option<f64>,
    pub loss: Option<Loss>,
    pub batch_size: Option<BatchSize>,
    pub init_scale: Option<f64>,
    pub init: Option<Init>,
    pub l1: Option<f64>,
    /// Turns ⊥Grad on (a preset's ⊥Grad cannot be turned off).
    pub ortho_grad: bool,
    pub grokfast_ema: Option<GrokfastEma>,
    pub grokfast_ma: Option<GrokfastMa>,
    pub steps: Option<u64>,
    pub eval_every: Option<u64>,
    pub ckpt_every: Option<u64>,
    pub ckpt_dtype: Option<CkptDtype>,
}

impl Overrides {
    /// Overwrites every setting given.
    pub fn apply(&self, c: &mut RunConfig) {
        fn set<T: Clone>(given: &Option<T>, field: &mut T) {
            if let Some(v) = given {
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
        set(&self.bottleneck_rank, &mut c.bottleneck_rank);
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

/// What to train: a preset, its overrides, and the multi-run axes.
#[derive(Clone, Debug, PartialEq)]
pub struct RunPlan {
    pub preset: String,
    pub overrides: Overrides,
    /// One run per seed (the fastest-varying axis).
    pub seeds: Option<Vec<u64>>,
    /// One run per value of each axis, every combination.
    pub sweeps: Vec<SweepAxis>,
}

impl RunPlan {
    /// The preset alone.
    pub fn preset(name: &str) -> RunPlan {
        RunPlan { preset: name.to_string(), overrides: Overrides::default(), seeds: None, sweeps: vec![] }
    }

    /// Whether this is a multi-run (one directory per run under the output directory).
    pub fn is_multi_run(&self) -> bool {
        self.seeds.is_some() || !self.sweeps.is_empty()
    }
}

/// Every run of `plan`, validated: one run in `out_dir`, or, for a multi-run, one run per
/// combination in `out_dir/<its varying settings>`. A group task's p is its order unless p
/// is given or swept (then it must be the order). Settings a preset derives from others
/// (Power's batch size, the per-thousand cadences) are derived after the overrides, unless
/// overridden themselves; without an explicit data seed each run splits with its own seed.
pub fn run_configs(plan: &RunPlan, out_dir: &Path) -> Result<Vec<RunConfig>> {
    let p = preset(&plan.preset)?;
    let o = &plan.overrides;
    let explicit = |given: bool, key: &str| given || plan.sweeps.iter().any(|a| a.key == key);
    let explicit_data_seed = explicit(o.data_seed.is_some(), "data_seed");
    let mut base = p.config.clone();
    o.apply(&mut base);
    if !explicit_data_seed {
        base.data_seed = base.seed;
    }
    let mut runs = if plan.is_multi_run() {
        expand(&base, plan.seeds.as_deref(), &plan.sweeps, explicit_data_seed, out_dir)?
    } else {
        vec![RunConfig { dir: PathBuf::from(out_dir), ..base }]
    };
    let explicit_p = explicit(o.p.is_some(), "p");
    for r in &mut runs {
        // A group task's p is its order: given explicitly, it is checked like any p.
        if let (Some(order), false) = (r.task.group_order(), explicit_p) {
            r.p = order;
        }
        p.derive(r, explicit(o.batch_size.is_some(), "batch_size"), explicit(o.eval_every.is_some(), "eval_every"), explicit(o.ckpt_every.is_some(), "ckpt_every"));
        // A multi-run's error names the run, whose directory is named by its settings.
        r.validate().map_err(|e| if plan.is_multi_run() { Error::msg(format!("{}: {e}", r.dir.display())) } else { e })?;
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(preset: &str, overrides: Overrides) -> RunPlan {
        RunPlan { overrides, ..RunPlan::preset(preset) }
    }

    #[test]
    fn the_preset_alone_is_the_preset() {
        let runs = run_configs(&RunPlan::preset("power2022"), Path::new("runs/power2022")).unwrap();
        assert_eq!(runs.len(), 1);
        let mut want = preset("power2022").unwrap().config;
        want.dir = PathBuf::from("runs/power2022");
        assert_eq!(runs[0], want);
    }

    #[test]
    fn every_override_replaces_its_preset_value() {
        let o = Overrides {
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
        let c = &run_configs(&plan("nanda2023", o), Path::new("/tmp/o")).unwrap()[0];
        assert_eq!((c.task, c.p, c.train_frac, c.seed, c.data_seed), (Task::Quad, 59, 0.4, 5, 6));
        assert_eq!((c.model, c.layers, c.d_model, c.heads, c.d_mlp), (Model::Transformer, 3, 96, 3, 200));
        assert_eq!((c.norm, c.act, c.variant, c.bottleneck_rank), (Norm::Pre, Act::Gelu, Variant::MlpOnly, Some(8)));
        assert_eq!((c.optimizer, c.lr, c.weight_decay, c.beta1, c.beta2), (Optimizer::Sgd, 0.1, 0.5, 0.8, 0.95));
        assert_eq!((c.eps, c.warmup, c.momentum, c.loss), (1e-6, 7, 0.9, Loss::Stablemax));
        assert_eq!((c.batch_size, c.init_scale, c.init, c.l1, c.ortho_grad), (BatchSize::Size(100), 2.0, Init::Fourier, 1e-5, true));
        assert_eq!(c.grokfast_ema, Some(GrokfastEma { alpha: 0.98, lambda: 2.0 }));
        assert_eq!((c.steps, c.eval_every, c.ckpt_every, c.ckpt_dtype), (3000, 30, 60, CkptDtype::F16));
        assert_eq!((c.preset.as_str(), c.dir.as_path()), ("nanda2023", Path::new("/tmp/o")));
        let o = Overrides { grokfast_ma: Some(GrokfastMa { window: 100, lambda: 5.0 }), bottleneck_rank: Some(None), ..Default::default() };
        let c = &run_configs(&plan("power2022", o), Path::new("o")).unwrap()[0];
        assert_eq!((c.grokfast_ma, c.bottleneck_rank), (Some(GrokfastMa { window: 100, lambda: 5.0 }), None));
    }

    #[test]
    fn derived_defaults_follow_the_overrides() {
        let o = Overrides { p: Some(13), steps: Some(20000), seed: Some(4), ..Default::default() };
        let c = &run_configs(&plan("power2022", o), Path::new("o")).unwrap()[0];
        assert_eq!((c.batch_size, c.eval_every, c.ckpt_every, c.data_seed), (BatchSize::Size(39), 20, 20, 4));
        let o = Overrides { steps: Some(20000), ..Default::default() };
        let c = &run_configs(&plan("quick", o), Path::new("o")).unwrap()[0];
        assert_eq!((c.eval_every, c.ckpt_every), (50, 10));
    }

    #[test]
    fn multi_run_expansion() {
        let p = RunPlan { seeds: Some(vec![0, 1, 2]), sweeps: vec!["weight_decay=0.1,1".parse().unwrap()], ..RunPlan::preset("quick") };
        let runs = run_configs(&p, Path::new("o")).unwrap();
        assert_eq!(runs.len(), 6);
        assert_eq!(runs[5].dir, Path::new("o/weight_decay=1,seed=2"));
        assert_eq!((runs[5].seed, runs[5].data_seed, runs[5].weight_decay), (2, 2, 1.0));
    }

    #[test]
    fn derived_settings_follow_each_swept_run() {
        let p = RunPlan { sweeps: vec!["p=13,97".parse().unwrap()], ..RunPlan::preset("power2022") };
        let runs = run_configs(&p, Path::new("o")).unwrap();
        assert_eq!((runs[0].batch_size, runs[1].batch_size), (BatchSize::Size(39), BatchSize::Size(512)));
        let p = RunPlan { sweeps: vec!["heads=4,3".parse().unwrap()], ..RunPlan::preset("power2022") };
        assert_eq!(run_configs(&p, Path::new("o")).unwrap_err().to_string(), "o/heads=3: heads (3) must divide d_model (128)");
    }

    #[test]
    fn a_group_task_brings_its_order_as_p() {
        let o = Overrides { task: Some(Task::S5Compose), ..Default::default() };
        let c = &run_configs(&plan("quick", o), Path::new("o")).unwrap()[0];
        assert_eq!((c.task, c.p, c.examples()), (Task::S5Compose, 120, 14400));
        let o = Overrides { task: Some(Task::S5ComposeInv), p: Some(120), ..Default::default() };
        assert_eq!(run_configs(&plan("power2022", o), Path::new("o")).unwrap()[0].p, 120);
        let o = Overrides { task: Some(Task::S5Compose), p: Some(97), ..Default::default() };
        let e = run_configs(&plan("quick", o), Path::new("o")).unwrap_err().to_string();
        assert_eq!(e, "p is the group order for task s5_compose: it must be 120, got 97");
    }

    #[test]
    fn a_sweep_over_task_gives_each_run_its_own_p() {
        let p = RunPlan { sweeps: vec!["task=add,s5_compose".parse().unwrap()], ..RunPlan::preset("power2022") };
        let runs = run_configs(&p, Path::new("o")).unwrap();
        assert_eq!((runs[0].task, runs[0].p, runs[0].batch_size), (Task::Add, 97, BatchSize::Size(512)));
        assert_eq!((runs[1].task, runs[1].p, runs[1].batch_size), (Task::S5Compose, 120, BatchSize::Size(512)));
        assert_eq!(runs[1].dir, Path::new("o/task=s5_compose"));
        let p = RunPlan { sweeps: vec!["task=add,s5_compose".parse().unwrap(), "p=97".parse().unwrap()], ..RunPlan::preset("power2022") };
        let e = run_configs(&p, Path::new("o")).unwrap_err().to_string();
        assert_eq!(e, "o/task=s5_compose,p=97: p is the group order for task s5_compose: it must be 120, got 97");
    }

    #[test]
    fn invalid_settings_are_one_line_errors() {
        let cases = [
            (plan("power2022", Overrides { p: Some(100), ..Default::default() }), "p must be prime, got 100 (try 101)"),
            (plan("power2022", Overrides { heads: Some(5), ..Default::default() }), "heads (5) must divide d_model (128)"),
            (plan("power2022", Overrides { steps: Some(0), ..Default::default() }), "steps must be at least 1"),
            (RunPlan::preset("nope"), "unknown preset 'nope' (expected one of: power2022, power2022-late, nanda2023, tian-mlp, quick, s5)"),
            (
                plan("quick", Overrides { batch_size: Some(BatchSize::Size(5000)), ..Default::default() }),
                "batch_size 5000 is larger than the train set (1546 examples); lower --batch-size or use --batch-size full",
            ),
        ];
        for (p, want) in cases {
            let e = run_configs(&p, Path::new("o")).unwrap_err().to_string();
            assert_eq!(e, want);
            assert!(!e.contains('\n'));
        }
    }
}
