//! What `grokgpu train` is asked to do: the runs (a plan, or the runs already in the output
//! directory when resuming), where they go, and whether to resume or replace.

use std::path::PathBuf;

use crate::config::vary::{forbidden_changes, Change};
use crate::config::{run_configs, RunConfig, RunPlan, Shard};
use crate::rundir::sweep_file::{holds_runs, stored_runs};
use crate::{bail, Result};

#[derive(Clone, Debug, PartialEq)]
pub struct TrainOptions {
    pub plan: RunPlan,
    /// The run directory, or a multi-run's output directory.
    pub out_dir: PathBuf,
    /// Continue the run(s) in `out_dir` from the last saved state.
    pub resume: bool,
    /// Replace the run(s) in `out_dir`.
    pub force: bool,
    /// Train only this share of the runs, each started or resumed as its directory says.
    pub shard: Option<Shard>,
}

impl TrainOptions {
    /// Every run to train, validated, each with its directory. With `resume` and an output
    /// directory that holds runs, they are the stored runs, whose schedule alone the plan's
    /// overrides may change.
    pub fn resolve(&self) -> Result<Vec<RunConfig>> {
        if self.resume && self.force {
            bail!("use either --resume or --force, not both");
        }
        if self.force && self.shard.is_some() {
            bail!("--shard starts or resumes each of its runs by itself and never replaces one; to start the sweep over, remove {} first", self.out_dir.display());
        }
        if !(self.resume && holds_runs(&self.out_dir)) {
            return run_configs(&self.plan, &self.out_dir);
        }
        let mut runs = vec![];
        for stored in stored_runs(&self.out_dir)? {
            let mut cfg = stored.clone();
            self.plan.overrides.apply(&mut cfg);
            let changed = forbidden_changes(&stored, &cfg, Change::Resume);
            if !changed.is_empty() {
                bail!("--resume keeps the settings of {} ({}); drop those flags or start a new run", stored.dir.display(), changed.join(", "));
            }
            cfg.validate()?;
            runs.push(cfg);
        }
        Ok(runs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Overrides;
    use crate::rundir::CONFIG_FILE;

    #[test]
    fn resume_takes_the_stored_settings() {
        let dir = crate::io::test_dir("train_options_resume");
        let options = |overrides: Overrides, resume: bool| TrainOptions {
            plan: RunPlan { overrides, ..RunPlan::preset("quick") },
            out_dir: dir.to_path_buf(),
            resume,
            force: false,
            shard: None,
        };
        let first = options(Overrides { lr: Some(0.002), ..Default::default() }, false).resolve().unwrap().remove(0);
        std::fs::write(dir.join(CONFIG_FILE), first.to_json()).unwrap();
        let mut resume = options(Overrides { steps: Some(3000), ..Default::default() }, true);
        resume.plan.preset = "power2022".into();
        let resumed = resume.resolve().unwrap().remove(0);
        assert_eq!((resumed.lr, resumed.steps, resumed.preset.as_str()), (0.002, 3000, "quick"));
        assert_eq!(resumed.identity_diff(&first), Vec::<String>::new());
        let e = options(Overrides { lr: Some(0.01), ..Default::default() }, true).resolve().unwrap_err().to_string();
        assert_eq!(e, format!("--resume keeps the settings of {} (lr: 0.002 → 0.01); drop those flags or start a new run", dir.display()));
        let e = TrainOptions { force: true, ..options(Default::default(), true) }.resolve().unwrap_err().to_string();
        assert_eq!(e, "use either --resume or --force, not both");
    }
}
