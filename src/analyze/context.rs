//! What every checkpoint of one run shares: its settings, model, examples, token order, the
//! (x, y) grid and its checkpoint files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::weights::ModelWeights;
use crate::analysis::logit_fourier::PairPhase;
use super::model_probe::ProbeData;
use crate::analysis::pairs::PairGrid;
use crate::analysis::spectrum::TokenOrder;
use crate::nn::spec::ModelSpec;
use crate::config::RunConfig;
use crate::rundir::{read_checkpoint, read_kernels, Dataset, RunDir, CHECKPOINT_DIR, DATASET_FILE};
use crate::{bail, Error, Result};

pub struct RunContext {
    pub dir: RunDir,
    pub cfg: RunConfig,
    pub spec: ModelSpec,
    pub p: usize,
    /// Natural, or discrete-log for `mul` and `div`.
    pub order: TokenOrder,
    /// The (x, y) grid in token order, when the task's table covers it.
    pub grid: Option<PairGrid>,
    /// The logit-space key directions (§ 5, § 6): `add` and `sub` only.
    pub pair_phase: Option<PairPhase>,
    pub data: ProbeData,
    pub train_mask: Vec<bool>,
    /// (step, file), ascending.
    pub checkpoints: Vec<(u64, PathBuf)>,
    /// The matmul variants the run recorded (shape → variant), for the probes to reuse.
    pub kernels: BTreeMap<String, String>,
}

/// The examples must be the task's: its N rows in each column, every operand and target a
/// number below p (a hand-edited or foreign file could hold anything).
fn check_dataset(dir: &RunDir, cfg: &RunConfig, dataset: &Dataset) -> Result<()> {
    let p = cfg.p as usize;
    let file = dir.path.join(DATASET_FILE);
    let n = cfg.examples();
    if [dataset.x.len(), dataset.y.len(), dataset.target.len(), dataset.train_mask.len()].iter().any(|&l| l != n) {
        bail!("{}: columns x, y, target, train_mask must each hold the task's {n} examples", file.display());
    }
    for (name, column) in [("x", &dataset.x), ("y", &dataset.y), ("target", &dataset.target)] {
        if let Some((row, value)) = column.iter().enumerate().find(|(_, &v)| v as usize >= p) {
            bail!("{}: {name}[{row}] = {value} is not a number below p = {p}", file.display());
        }
    }
    Ok(())
}

impl RunContext {
    /// Opens the run in `path`: config.json, dataset.safetensors and the checkpoint list.
    pub fn open(path: &Path) -> Result<RunContext> {
        let (dir, cfg) = RunDir::open(path)?;
        let spec = cfg.model_spec();
        let p = cfg.p as usize;
        let dataset = dir.read_dataset()?;
        check_dataset(&dir, &cfg, &dataset)?;
        let task = cfg.task.as_str();
        let order = TokenOrder::for_task(task, p);
        let checkpoints = dir.checkpoints()?;
        let kernels = read_kernels(path)?;
        if checkpoints.is_empty() {
            bail!("{} has no checkpoints to analyze", dir.path.join(CHECKPOINT_DIR).display());
        }
        Ok(RunContext {
            grid: PairGrid::new(&dataset.x, &dataset.y, p, order),
            pair_phase: PairPhase::for_task(task),
            data: ProbeData::new(&spec, &dataset.x, &dataset.y, &dataset.target, &dataset.train_mask),
            train_mask: dataset.train_mask,
            dir,
            cfg,
            spec,
            p,
            order,
            checkpoints,
            kernels,
        })
    }

    /// The checkpoint at `index` of the list, checked against the model; errors name the file.
    pub fn read(&self, index: usize) -> Result<ModelWeights> {
        let path = &self.checkpoints[index].1;
        read_checkpoint(path)
            .and_then(|c| ModelWeights::new(c, &self.spec))
            .map_err(|e| Error::msg(format!("cannot read checkpoint {}: {e}", path.display())))
    }

    /// The index of the checkpoint at `step`.
    pub fn index_of(&self, step: u64) -> Option<usize> {
        self.checkpoints.iter().position(|(s, _)| *s == step)
    }
}
