//! sweep.json, the listing of a multi-run's output directory: which settings vary, and each
//! run's directory (relative to the file) with its values of them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::run_dir::{remove_run_files, RunDir};
use super::{CONFIG_FILE, SWEEP_FILE};
use crate::config::vary::groups;
use crate::config::{RunConfig, Shard};
use crate::io::write_atomic;
use crate::{bail, Error, Result};

/// sweep.json: which settings vary, and each run's directory (relative to the file) with
/// its values of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepFile {
    pub varying: Vec<String>,
    /// How many shares (`train --shard I/N`) the runs are trained in, when more than one
    /// process trains them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shards: Option<usize>,
    pub runs: Vec<SweepRun>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepRun {
    pub dir: String,
    /// The batch of runs it trains with (runs of one group share every dispatch; groups
    /// train one after another), counted from 0.
    #[serde(default)]
    pub group: usize,
    /// The share that trains it (with `shards`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<usize>,
    pub settings: Map<String, Value>,
}

impl SweepFile {
    /// The listing of `runs` (as returned by [`expand`] with the same `out_dir`), trained in
    /// `shards` shares when given.
    pub fn new(runs: &[RunConfig], out_dir: &Path, shards: Option<usize>) -> SweepFile {
        let varying: Vec<String> = runs
            .first()
            .and_then(|r| r.dir.strip_prefix(out_dir).ok())
            .map(|name| name.to_string_lossy().split(',').filter_map(|kv| kv.split_once('=')).map(|(k, _)| k.to_string()).collect())
            .unwrap_or_default();
        let groups = groups(runs);
        let share = shards.map(|count| Shard::assignment(count, &groups));
        let mut group_of = vec![0; runs.len()];
        for (g, members) in groups.iter().enumerate() {
            for &i in members {
                group_of[i] = g;
            }
        }
        let runs = runs
            .iter()
            .zip(group_of)
            .enumerate()
            .map(|(i, (r, group))| {
                let json = serde_json::to_value(r).expect("serializes");
                let settings = varying.iter().map(|k| (k.clone(), json[k].clone())).collect();
                let dir = r.dir.strip_prefix(out_dir).unwrap_or(&r.dir).to_string_lossy().into_owned();
                SweepRun { dir, group, shard: share.as_ref().map(|s| s[i]), settings }
            })
            .collect();
        SweepFile { varying, shards, runs }
    }

    /// Writes `out_dir/sweep.json` atomically.
    pub fn write(&self, out_dir: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).expect("serializes") + "\n";
        write_atomic(&out_dir.join(SWEEP_FILE), text.as_bytes())
    }

    /// Reads `out_dir/sweep.json`.
    pub fn read(out_dir: &Path) -> Result<SweepFile> {
        let path = out_dir.join(SWEEP_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| Error::msg(format!("cannot read {}: {e}", path.display())))?;
        serde_json::from_str(&text).map_err(|e| Error::msg(format!("{}: {e}", path.display())))
    }

    /// The runs' directories.
    pub fn dirs(&self, out_dir: &Path) -> Vec<PathBuf> {
        self.runs.iter().map(|r| out_dir.join(&r.dir)).collect()
    }

    /// The directories of the runs that have finished training, for the commands that read
    /// a sweep whose shares may still be training or may have failed: each other run is named
    /// on stderr with what it lacks, and left out.
    pub fn finished_dirs(&self, out_dir: &Path) -> Vec<PathBuf> {
        let mut finished = vec![];
        for dir in self.dirs(out_dir) {
            match unfinished(&dir) {
                None => finished.push(dir),
                Some(why) => eprintln!("skipping {}: {why}", dir.display()),
            }
        }
        finished
    }
}

/// Starts a multi-run in `out_dir` and writes its sweep.json. An output directory that holds
/// a single run, or a multi-run with other runs, is refused unless `force` (which removes the
/// single run's files; runs of an older multi-run are replaced one by one as they are
/// created). Each run's own directory is then created with `RunDir::create`.
pub fn create_multi_run(out_dir: &Path, runs: &[RunConfig], force: bool, shards: Option<usize>) -> Result<SweepFile> {
    let file = SweepFile::new(runs, out_dir, shards);
    let advice = "use --resume to continue it or --force to replace it";
    if force {
        remove_run_files(out_dir)?;
    } else if out_dir.join(CONFIG_FILE).exists() {
        bail!("{} holds a single run ({CONFIG_FILE}); {advice}", out_dir.display());
    } else if out_dir.join(SWEEP_FILE).exists() && SweepFile::read(out_dir)? != file {
        bail!("{} holds a different multi-run ({SWEEP_FILE}); {advice}", out_dir.display());
    }
    std::fs::create_dir_all(out_dir).map_err(|e| Error::msg(format!("cannot create {}: {e}", out_dir.display())))?;
    file.write(out_dir)?;
    Ok(file)
}

/// Why the run in `dir` has not finished training (`None` when it has).
fn unfinished(dir: &Path) -> Option<String> {
    let Ok((run, cfg)) = RunDir::open(dir) else {
        return Some(format!("missing (no {CONFIG_FILE}: not trained yet, or its share failed)"));
    };
    let last = run.checkpoints().ok().and_then(|c| c.last().map(|&(step, _)| step));
    match last {
        Some(step) if step >= cfg.steps => None,
        Some(step) => Some(format!("unfinished (trained to step {step} of {})", cfg.steps)),
        None => Some("unfinished (no checkpoint yet)".to_string()),
    }
}

/// Whether `out_dir` holds a run or a multi-run.
pub fn holds_runs(out_dir: &Path) -> bool {
    out_dir.join(CONFIG_FILE).exists() || out_dir.join(SWEEP_FILE).exists()
}

/// The stored settings of every run in `out_dir` (the runs of its sweep.json, or the one run
/// of its config.json), each with its directory.
pub fn stored_runs(out_dir: &Path) -> Result<Vec<RunConfig>> {
    let dirs = if out_dir.join(SWEEP_FILE).exists() { SweepFile::read(out_dir)?.dirs(out_dir) } else { vec![out_dir.to_path_buf()] };
    dirs.into_iter()
        .map(|dir| {
            let path = dir.join(CONFIG_FILE);
            let text = std::fs::read_to_string(&path).map_err(|e| Error::msg(format!("cannot read {}: {e}", path.display())))?;
            Ok(RunConfig { dir, ..RunConfig::from_json(&text, &path.display().to_string())? })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::presets::preset;
    use crate::config::sweep::expand;

    #[test]
    fn sweep_file_lists_runs_and_their_values() {
        let base = preset("quick").unwrap().config;
        let out = crate::io::test_dir("sweep_file");
        let runs = expand(&base, Some(&[0, 1]), &["weight_decay=0.1,1".parse().unwrap()], false, &out).unwrap();
        let file = SweepFile::new(&runs, &out, None);
        assert_eq!(file.varying, ["weight_decay", "seed"]);
        assert_eq!(file.runs[1].dir, "weight_decay=0.1,seed=1");
        assert_eq!(Value::Object(file.runs[1].settings.clone()), serde_json::json!({"weight_decay": 0.1, "seed": 1}));
        file.write(&out).unwrap();
        let back = SweepFile::read(&out).unwrap();
        assert_eq!(back, file);
        assert_eq!(back.dirs(&out)[3], out.join("weight_decay=1,seed=1"));
        assert!(file.runs.iter().all(|r| r.group == 0));
        let runs = expand(&base, Some(&[0, 1]), &["d_model=32,64".parse().unwrap()], false, &out).unwrap();
        let file = SweepFile::new(&runs, &out, None);
        assert_eq!(file.runs.iter().map(|r| r.group).collect::<Vec<_>>(), [0, 0, 1, 1]);
    }

    #[test]
    fn multi_run_directories_refuse_other_runs() {
        let base = preset("quick").unwrap().config;
        let out = crate::io::test_dir("sweep_create");
        let runs = expand(&base, Some(&[0, 1]), &[], false, &out).unwrap();
        create_multi_run(&out, &runs, false, None).unwrap();
        // The same multi-run again is left to each run's own directory to refuse.
        create_multi_run(&out, &runs, false, None).unwrap();
        let other = expand(&base, Some(&[5]), &[], false, &out).unwrap();
        let e = create_multi_run(&out, &other, false, None).unwrap_err().to_string();
        assert!(e.ends_with("holds a different multi-run (sweep.json); use --resume to continue it or --force to replace it"), "{e}");
        create_multi_run(&out, &other, true, None).unwrap();
        std::fs::write(out.join(CONFIG_FILE), "{}").unwrap();
        assert!(create_multi_run(&out, &other, false, None).unwrap_err().to_string().contains("holds a single run"));
        create_multi_run(&out, &other, true, None).unwrap();
        assert!(!out.join(CONFIG_FILE).exists());
    }
}
