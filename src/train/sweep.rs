//! Multi-runs: `--seeds 0,1,2` and `--sweep weight_decay=0.1,0.3,1` expand one
//! configuration into the grid of runs (sweep axes in the order given, seeds last), each in
//! its own directory named by its varying settings (`weight_decay=0.1,seed=0`, Hydra's
//! style), listed in the output directory's `sweep.json`.
//!
//! Only settings that keep every tensor shape equal may vary, so all runs of a multi-run
//! train side by side along the run axis R.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::io::write_atomic;
use crate::train::config::RunConfig;
use crate::train::rundir::{remove_run_files, CONFIG_FILE};
use crate::{bail, Error, Result};

/// The settings `--sweep` accepts.
pub const SWEEPABLE: &[&str] = &["weight_decay", "lr", "init_scale"];

/// The multi-run listing file in the output directory.
pub const SWEEP_FILE: &str = "sweep.json";

/// One `--sweep key=v1,v2,…`.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepAxis {
    /// config.json spelling (`weight-decay` on the command line becomes `weight_decay`).
    pub key: String,
    pub values: Vec<f64>,
}

impl FromStr for SweepAxis {
    type Err = Error;

    fn from_str(s: &str) -> Result<SweepAxis> {
        let (key, list) = s.split_once('=').ok_or_else(|| Error::msg(format!("--sweep expects key=v1,v2,…, got '{s}'")))?;
        let key = key.trim().replace('-', "_");
        if !SWEEPABLE.contains(&key.as_str()) {
            bail!("--sweep cannot vary '{key}' (it can vary: {})", SWEEPABLE.join(", "));
        }
        let values = list
            .split(',')
            .map(|v| v.trim().parse::<f64>().map_err(|_| Error::msg(format!("--sweep {key}: '{v}' is not a number"))))
            .collect::<Result<Vec<f64>>>()?;
        if has_duplicates(&values) {
            bail!("--sweep {key}: a value is listed twice");
        }
        Ok(SweepAxis { key, values })
    }
}

fn has_duplicates<T: PartialEq>(v: &[T]) -> bool {
    v.iter().enumerate().any(|(i, a)| v[..i].contains(a))
}

fn set(cfg: &mut RunConfig, key: &str, value: f64) {
    match key {
        "weight_decay" => cfg.weight_decay = value,
        "lr" => cfg.lr = value,
        "init_scale" => cfg.init_scale = value,
        _ => unreachable!("SweepAxis::from_str admits only SWEEPABLE keys"),
    }
}

/// The runs of a multi-run: every combination of the axes' values (first axis slowest),
/// times every seed (fastest) when `seeds` is given. Without an explicit data seed each run
/// splits its data with its own seed. Each run's `dir` is `out_dir/<name>`.
pub fn expand(base: &RunConfig, seeds: Option<&[u64]>, axes: &[SweepAxis], explicit_data_seed: bool, out_dir: &Path) -> Result<Vec<RunConfig>> {
    if let Some(s) = seeds {
        if s.is_empty() || has_duplicates(s) {
            bail!("--seeds needs distinct seeds, got {s:?}");
        }
    }
    if has_duplicates(&axes.iter().map(|a| &a.key).collect::<Vec<_>>()) {
        bail!("--sweep names the same setting twice");
    }
    let mut runs = vec![(base.clone(), vec![])];
    for axis in axes {
        runs = runs
            .into_iter()
            .flat_map(|(cfg, name): (RunConfig, Vec<String>)| {
                axis.values.iter().map(move |&v| {
                    let mut c = cfg.clone();
                    set(&mut c, &axis.key, v);
                    (c, [name.clone(), vec![format!("{}={v}", axis.key)]].concat())
                })
            })
            .collect();
    }
    if let Some(seeds) = seeds {
        runs = runs
            .into_iter()
            .flat_map(|(cfg, name)| {
                seeds.iter().map(move |&s| {
                    let mut c = cfg.clone();
                    c.seed = s;
                    if !explicit_data_seed {
                        c.data_seed = s;
                    }
                    (c, [name.clone(), vec![format!("seed={s}")]].concat())
                })
            })
            .collect();
    }
    Ok(runs
        .into_iter()
        .map(|(mut c, name)| {
            c.dir = out_dir.join(name.join(","));
            c
        })
        .collect())
}

/// sweep.json: which settings vary, and each run's directory (relative to the file) with
/// its values of them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepFile {
    pub varying: Vec<String>,
    pub runs: Vec<SweepRun>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SweepRun {
    pub dir: String,
    pub settings: Map<String, Value>,
}

impl SweepFile {
    /// The listing of `runs` (as returned by [`expand`] with the same `out_dir`).
    pub fn new(runs: &[RunConfig], out_dir: &Path) -> SweepFile {
        let varying: Vec<String> = runs
            .first()
            .and_then(|r| r.dir.strip_prefix(out_dir).ok())
            .map(|name| name.to_string_lossy().split(',').filter_map(|kv| kv.split_once('=')).map(|(k, _)| k.to_string()).collect())
            .unwrap_or_default();
        let runs = runs
            .iter()
            .map(|r| {
                let json = serde_json::to_value(r).expect("serializes");
                let settings = varying.iter().map(|k| (k.clone(), json[k].clone())).collect();
                let dir = r.dir.strip_prefix(out_dir).unwrap_or(&r.dir).to_string_lossy().into_owned();
                SweepRun { dir, settings }
            })
            .collect();
        SweepFile { varying, runs }
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
}

/// Starts a multi-run in `out_dir` and writes its sweep.json. An output directory that holds
/// a single run, or a multi-run with other runs, is refused unless `force` (which removes the
/// single run's files; runs of an older multi-run are replaced one by one as they are
/// created). Each run's own directory is then created with `RunDir::create`.
pub fn create_multi_run(out_dir: &Path, runs: &[RunConfig], force: bool) -> Result<SweepFile> {
    let file = SweepFile::new(runs, out_dir);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::presets::preset;

    fn names(runs: &[RunConfig]) -> Vec<String> {
        runs.iter().map(|r| r.dir.file_name().unwrap().to_string_lossy().into_owned()).collect()
    }

    #[test]
    fn grid_of_sweep_and_seeds() {
        let base = preset("power2022").unwrap().config;
        let axes = ["weight-decay=0.1,0.3,1".parse().unwrap(), "lr=1e-3,3e-4".parse().unwrap()];
        let runs = expand(&base, Some(&[0, 1]), &axes, false, Path::new("runs/x")).unwrap();
        assert_eq!(runs.len(), 12);
        assert_eq!(names(&runs)[..3], ["weight_decay=0.1,lr=0.001,seed=0", "weight_decay=0.1,lr=0.001,seed=1", "weight_decay=0.1,lr=0.0003,seed=0"]);
        assert_eq!(runs[11].dir, Path::new("runs/x/weight_decay=1,lr=0.0003,seed=1"));
        let last = &runs[11];
        assert_eq!((last.weight_decay, last.lr, last.seed, last.data_seed), (1.0, 3e-4, 1, 1));
        let mut unique = names(&runs);
        unique.dedup();
        assert_eq!(unique.len(), 12);
    }

    #[test]
    fn seeds_alone_and_an_explicit_data_seed() {
        let mut base = preset("quick").unwrap().config;
        base.data_seed = 9;
        let runs = expand(&base, Some(&[3, 4]), &[], true, Path::new("out")).unwrap();
        assert_eq!(names(&runs), ["seed=3", "seed=4"]);
        assert_eq!((runs[1].seed, runs[1].data_seed), (4, 9));
        let runs = expand(&base, None, &["init_scale=0.5,2".parse().unwrap()], false, Path::new("out")).unwrap();
        assert_eq!(names(&runs), ["init_scale=0.5", "init_scale=2"]);
        assert_eq!(runs[0].seed, base.seed);
    }

    #[test]
    fn bad_sweeps_are_errors() {
        let cases = [
            ("p=97,113", "--sweep cannot vary 'p' (it can vary: weight_decay, lr, init_scale)"),
            ("lr", "--sweep expects key=v1,v2,…, got 'lr'"),
            ("lr=0.1,x", "--sweep lr: 'x' is not a number"),
            ("lr=0.1,0.1", "--sweep lr: a value is listed twice"),
        ];
        for (arg, want) in cases {
            assert_eq!(arg.parse::<SweepAxis>().unwrap_err().to_string(), want);
        }
        let base = preset("quick").unwrap().config;
        let lr: SweepAxis = "lr=0.1".parse().unwrap();
        assert!(expand(&base, Some(&[1, 1]), &[], false, Path::new("o")).is_err());
        assert!(expand(&base, None, &[lr.clone(), lr], false, Path::new("o")).is_err());
    }

    #[test]
    fn sweep_file_lists_runs_and_their_values() {
        let base = preset("quick").unwrap().config;
        let out = crate::io::test_dir("sweep_file");
        let runs = expand(&base, Some(&[0, 1]), &["weight_decay=0.1,1".parse().unwrap()], false, &out).unwrap();
        let file = SweepFile::new(&runs, &out);
        assert_eq!(file.varying, ["weight_decay", "seed"]);
        assert_eq!(file.runs[1].dir, "weight_decay=0.1,seed=1");
        assert_eq!(Value::Object(file.runs[1].settings.clone()), serde_json::json!({"weight_decay": 0.1, "seed": 1}));
        file.write(&out).unwrap();
        let back = SweepFile::read(&out).unwrap();
        assert_eq!(back, file);
        assert_eq!(back.dirs(&out)[3], out.join("weight_decay=1,seed=1"));
    }

    #[test]
    fn multi_run_directories_refuse_other_runs() {
        let base = preset("quick").unwrap().config;
        let out = crate::io::test_dir("sweep_create");
        let runs = expand(&base, Some(&[0, 1]), &[], false, &out).unwrap();
        create_multi_run(&out, &runs, false).unwrap();
        // The same multi-run again is left to each run's own directory to refuse.
        create_multi_run(&out, &runs, false).unwrap();
        let other = expand(&base, Some(&[5]), &[], false, &out).unwrap();
        let e = create_multi_run(&out, &other, false).unwrap_err().to_string();
        assert!(e.ends_with("holds a different multi-run (sweep.json); use --resume to continue it or --force to replace it"), "{e}");
        create_multi_run(&out, &other, true).unwrap();
        std::fs::write(out.join(CONFIG_FILE), "{}").unwrap();
        assert!(create_multi_run(&out, &other, false).unwrap_err().to_string().contains("holds a single run"));
        create_multi_run(&out, &other, true).unwrap();
        assert!(!out.join(CONFIG_FILE).exists());
    }
}
