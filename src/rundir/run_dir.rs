//! A run directory (RUNS.md): creating, reopening and resuming it; config.json and
//! dataset.safetensors. Every file is written atomically; config.json is written last when a
//! run is created, so a directory with a config.json always holds a complete start.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::metrics::MetricsLog;
use super::{CHECKPOINT_DIR, CONFIG_FILE, DATASET_FILE, METRICS_FILE, RUN_ENTRIES, STATE_FILE, SWEEP_FILE};
use crate::config::RunConfig;
use crate::data::{Split, Table};
use crate::io::safetensors::{self, Tensor, TensorData};
use crate::io::write_atomic;
use crate::{bail, Error, Result};

/// A run's directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunDir {
    pub path: PathBuf,
}

/// The examples of dataset.safetensors: the full table and which rows are trained on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dataset {
    pub x: Vec<u32>,
    pub y: Vec<u32>,
    pub target: Vec<u32>,
    pub train_mask: Vec<bool>,
}

impl RunDir {
    /// Starts a fresh run in `cfg.dir`: writes dataset.safetensors, then config.json, and
    /// creates checkpoints/. A directory that already holds a run is refused unless `force`,
    /// which first removes that run's files (and nothing else).
    pub fn create(cfg: &RunConfig, table: &Table, split: &Split, force: bool) -> Result<RunDir> {
        let dir = RunDir { path: cfg.dir.clone() };
        if force {
            remove_run_files(&dir.path)?;
        } else {
            dir.refuse_existing_run(cfg)?;
        }
        fs::create_dir_all(dir.path.join(CHECKPOINT_DIR)).map_err(|e| Error::msg(format!("cannot create {}: {e}", dir.path.display())))?;
        dir.write_dataset(cfg, table, split)?;
        write_atomic(&dir.path.join(CONFIG_FILE), cfg.to_json().as_bytes())?;
        Ok(dir)
    }

    /// Reopens a run for --resume: the stored config must describe the same run as `cfg`
    /// (only schedule and provenance may differ); config.json is rewritten with `cfg`.
    pub fn resume(cfg: &RunConfig) -> Result<RunDir> {
        let (dir, stored) = RunDir::open(&cfg.dir)?;
        let changed = stored.identity_diff(cfg);
        if !changed.is_empty() {
            bail!("{} holds a different run ({}); resume it with its own settings, or use --force", dir.path.display(), changed.join(", "));
        }
        if stored != *cfg {
            write_atomic(&dir.path.join(CONFIG_FILE), cfg.to_json().as_bytes())?;
        }
        Ok(dir)
    }

    /// An existing run and its config (for resume and analysis).
    pub fn open(path: &Path) -> Result<(RunDir, RunConfig)> {
        let file = path.join(CONFIG_FILE);
        let text = fs::read_to_string(&file)
            .map_err(|e| Error::msg(format!("{} holds no run: cannot read {}: {e}", path.display(), file.display())))?;
        let cfg = RunConfig { dir: path.to_path_buf(), ..RunConfig::from_json(&text, &file.display().to_string())? };
        Ok((RunDir { path: path.to_path_buf() }, cfg))
    }

    fn refuse_existing_run(&self, cfg: &RunConfig) -> Result<()> {
        let advice = "use --resume to continue it or --force to replace it";
        if self.path.join(SWEEP_FILE).exists() {
            bail!("{} holds a multi-run ({SWEEP_FILE}); {advice}", self.path.display());
        }
        if !self.path.join(CONFIG_FILE).exists() {
            return Ok(());
        }
        let (_, stored) = RunDir::open(&self.path).map_err(|e| Error::msg(format!("{e}; use --force to replace it")))?;
        let changed = stored.identity_diff(cfg);
        if changed.is_empty() {
            bail!("{} already holds this run; {advice}", self.path.display());
        }
        bail!("{} holds a different run ({}); {advice}", self.path.display(), changed.join(", "));
    }

    fn write_dataset(&self, cfg: &RunConfig, table: &Table, split: &Split) -> Result<()> {
        let n = table.len();
        let int64 = |v: &[u32]| TensorData::I64(v.iter().map(|&a| a as i64).collect());
        let tensors = [
            Tensor::new("x", &[n], int64(&table.x)),
            Tensor::new("y", &[n], int64(&table.y)),
            Tensor::new("target", &[n], int64(&table.target)),
            Tensor::new("train_mask", &[n], TensorData::U8(split.mask_u8())),
        ];
        let metadata = BTreeMap::from([
            ("task".to_string(), cfg.task.to_string()),
            ("p".to_string(), cfg.p.to_string()),
            ("train_frac".to_string(), cfg.train_frac.to_string()),
            ("data_seed".to_string(), cfg.data_seed.to_string()),
        ]);
        safetensors::write(&self.path.join(DATASET_FILE), &tensors, &metadata)
    }

    /// dataset.safetensors as written at creation.
    pub fn read_dataset(&self) -> Result<Dataset> {
        let path = self.path.join(DATASET_FILE);
        let file = safetensors::read(&path)?;
        let missing = |name: &str| Error::msg(format!("{}: no tensor '{name}' of the expected type", path.display()));
        let ints = |name: &str| match file.get(name).map(|t| &t.data) {
            // Values beyond u32 saturate, so the range check against p catches them.
            Some(TensorData::I64(v)) => Ok(v.iter().map(|&a| u32::try_from(a).unwrap_or(u32::MAX)).collect::<Vec<u32>>()),
            _ => Err(missing(name)),
        };
        let train_mask = match file.get("train_mask").map(|t| &t.data) {
            Some(TensorData::U8(v)) => v.iter().map(|&m| m != 0).collect(),
            _ => return Err(missing("train_mask")),
        };
        Ok(Dataset { x: ints("x")?, y: ints("y")?, target: ints("target")?, train_mask })
    }

    pub fn config_path(&self) -> PathBuf {
        self.path.join(CONFIG_FILE)
    }

    pub fn metrics_path(&self) -> PathBuf {
        self.path.join(METRICS_FILE)
    }

    pub fn state_path(&self) -> PathBuf {
        self.path.join(STATE_FILE)
    }

    /// Rewinds to the saved state at `step` for a resume: removes checkpoints written after
    /// it and returns the metrics log with the records after it dropped.
    pub fn rewind_to(&self, step: u64) -> Result<MetricsLog> {
        for (s, path) in self.checkpoints()? {
            if s > step {
                fs::remove_file(&path).map_err(|e| Error::msg(format!("cannot remove {}: {e}", path.display())))?;
            }
        }
        MetricsLog::resume(&self.metrics_path(), step)
    }
}

/// The files and folders of a run present in `dir` (folders with a trailing `/`).
pub fn run_files(dir: &Path) -> Vec<String> {
    let present = RUN_ENTRIES.iter().filter(|name| dir.join(name).exists());
    present.map(|name| if dir.join(name).is_dir() { format!("{name}/") } else { name.to_string() }).collect()
}

/// Removes the files a run owns in `dir` (and nothing else): what `--force` replaces.
pub fn remove_run_files(dir: &Path) -> Result<()> {
    for name in RUN_ENTRIES {
        let p = dir.join(name);
        let result = if p.is_dir() { fs::remove_dir_all(&p) } else if p.exists() { fs::remove_file(&p) } else { Ok(()) };
        result.map_err(|e| Error::msg(format!("cannot remove {}: {e}", p.display())))?;
    }
    Ok(())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::config::presets::preset;
    use crate::io::{test_dir, TestDir};
    use crate::nn::init::{init_flat, param_specs};

    /// The quick preset with its run directory inside a scratch directory (kept alive by the
    /// returned guard).
    pub(in crate::rundir) fn quick_in(name: &str) -> (TestDir, RunConfig) {
        let scratch = test_dir(name);
        let cfg = RunConfig { dir: scratch.join("run"), ..preset("quick").unwrap().config };
        (scratch, cfg)
    }

    pub(in crate::rundir) fn create(cfg: &RunConfig, force: bool) -> Result<RunDir> {
        let (table, split) = cfg.dataset().unwrap();
        RunDir::create(cfg, &table, &split, force)
    }

    #[test]
    fn create_writes_config_and_the_exact_split() {
        let (_scratch, cfg) = quick_in("rundir_create");
        let dir = create(&cfg, false).unwrap();
        let (_, stored) = RunDir::open(&dir.path).unwrap();
        assert_eq!(stored, cfg);
        let (table, split) = cfg.dataset().unwrap();
        let ds = dir.read_dataset().unwrap();
        assert_eq!((ds.x, ds.y, ds.target, ds.train_mask), (table.x, table.y, table.target, split.train_mask));
        let meta = safetensors::read(&dir.path.join(DATASET_FILE)).unwrap().metadata;
        assert_eq!(meta["task"], "add");
        assert!(dir.path.join(CHECKPOINT_DIR).is_dir());
    }

    #[test]
    fn an_existing_run_is_refused_unless_resume_or_force() {
        let (_scratch, cfg) = quick_in("rundir_refuse");
        let dir = create(&cfg, false).unwrap();
        let e = create(&cfg, false).unwrap_err().to_string();
        assert!(e.ends_with("already holds this run; use --resume to continue it or --force to replace it"), "{e}");
        let mut other = cfg.clone();
        other.weight_decay = 0.5;
        let e = create(&other, false).unwrap_err().to_string();
        assert!(e.ends_with("holds a different run (weight_decay: 0.001 → 0.5); use --resume to continue it or --force to replace it"), "{e}");
        let e = RunDir::resume(&other).unwrap_err().to_string();
        assert!(e.contains("holds a different run (weight_decay: 0.001 → 0.5)"), "{e}");

        let mut longer = cfg.clone();
        longer.steps = 3000;
        RunDir::resume(&longer).unwrap();
        assert_eq!(RunDir::open(&dir.path).unwrap().1.steps, 3000);

        fs::write(dir.path.join("notes.txt"), "mine").unwrap();
        dir.write_checkpoint(&cfg, 0, &param_specs(&cfg), &init_flat(&cfg)).unwrap();
        create(&other, true).unwrap();
        assert_eq!(RunDir::open(&dir.path).unwrap().1.weight_decay, 0.5);
        assert!(dir.checkpoints().unwrap().is_empty());
        assert!(dir.path.join("notes.txt").exists());
    }

    #[test]
    fn resume_of_an_empty_directory_says_it_holds_no_run() {
        let (_scratch, cfg) = quick_in("rundir_empty");
        let e = RunDir::resume(&cfg).unwrap_err().to_string();
        assert!(e.contains("holds no run"), "{e}");
    }

    #[test]
    fn rewind_drops_later_checkpoints_and_metrics() {
        let (_scratch, cfg) = quick_in("rundir_rewind");
        let dir = create(&cfg, false).unwrap();
        let (specs, flat) = (param_specs(&cfg), init_flat(&cfg));
        let mut log = MetricsLog::create(&dir.metrics_path()).unwrap();
        for step in [0, 10, 20] {
            dir.write_checkpoint(&cfg, step, &specs, &flat).unwrap();
            let record = crate::rundir::metrics::EvalRecord {
                step,
                train_loss: 1.0,
                train_acc: 0.0,
                val_loss: 1.0,
                val_acc: 0.0,
                lr: 0.1,
                weight_norm: 1.0,
                elapsed_s: 0.0,
                extra: Default::default(),
            };
            log.append(&record).unwrap();
        }
        dir.rewind_to(10).unwrap();
        assert_eq!(dir.checkpoints().unwrap().len(), 2);
        let steps: Vec<u64> = crate::rundir::metrics::read_metrics(&dir.metrics_path()).unwrap().iter().map(|r| r.step).collect();
        assert_eq!(steps, [0, 10]);
    }
}
