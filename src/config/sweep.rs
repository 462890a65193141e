//! Multi-runs: `--seeds 0,1,2` and `--sweep KEY=v1,v2,…` (any config.json key) expand
//! one configuration into the grid of runs (sweep axes in the order given, seeds last), each
//! in its own directory named by its varying settings (`weight_decay=0.1,seed=0`, Hydra's
//! style), which the run directory lists in the output directory's `sweep.json`.
//!
//! Runs that differ only in per-run values train side by side along the run axis R; the
//! others form groups trained one after another (`vary::groups`).

use std::path::Path;
use std::str::FromStr;

use serde_json::Value;

use super::run_config::RunConfig;
use super::setting::{parse_setting, set_key, value_text};
use crate::{bail, Error, Result};

/// One `--sweep key=v1,v2,…`.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepAxis {
    /// config.json spelling (`weight-decay` on the command line becomes `weight_decay`).
    pub key: String,
    /// Each value as config.json holds it.
    pub values: Vec<Value>,
}

impl FromStr for SweepAxis {
    type Err = Error;

    fn from_str(s: &str) -> Result<SweepAxis> {
        let (key, list) = s.split_once('=').ok_or_else(|| Error::msg(format!("--sweep expects key=v1,v2,…, got '{s}'")))?;
        let key = key.trim().replace('-', "_");
        let what = format!("--sweep {key}");
        let values = list.split(',').map(|v| parse_setting(&key, v, &what)).collect::<Result<Vec<Value>>>()?;
        if has_duplicates(&values) {
            bail!("{what}: a value is listed twice");
        }
        Ok(SweepAxis { key, values })
    }
}

fn has_duplicates<T: PartialEq>(v: &[T]) -> bool {
    v.iter().enumerate().any(|(i, a)| v[..i].contains(a))
}

/// The runs of a multi-run: every combination of the axes' values (first axis slowest),
/// times every seed (fastest) when `seeds` is given. Without an explicit data seed (given or
/// swept) each run splits its data with its own seed. Each run's `dir` is `out_dir/<name>`.
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
                axis.values.iter().map(move |v| {
                    let mut c = cfg.clone();
                    set_key(&mut c, &axis.key, v).map(|()| (c, [name.clone(), vec![format!("{}={}", axis.key, value_text(v))]].concat()))
                })
            })
            .collect::<Result<_>>()?;
    }
    if let Some(seeds) = seeds {
        runs = runs
            .into_iter()
            .flat_map(|(cfg, name)| {
                seeds.iter().map(move |&s| {
                    (RunConfig { seed: s, ..cfg.clone() }, [name.clone(), vec![format!("seed={s}")]].concat())
                })
            })
            .collect();
    }
    Ok(runs
        .into_iter()
        .map(|(mut c, name)| {
            if !explicit_data_seed {
                c.data_seed = c.seed;
            }
            c.dir = out_dir.join(name.join(","));
            c
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::presets::preset;

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
    fn any_key_sweeps_and_names_its_runs() {
        let base = preset("power2022").unwrap().config;
        let axes = ["bottleneck-rank=none,4".parse().unwrap(), "p=53,97".parse().unwrap(), "task=add".parse().unwrap()];
        let runs = expand(&base, Some(&[0]), &axes, false, Path::new("o")).unwrap();
        assert_eq!(names(&runs), ["bottleneck_rank=none,p=53,task=add,seed=0", "bottleneck_rank=none,p=97,task=add,seed=0", "bottleneck_rank=4,p=53,task=add,seed=0", "bottleneck_rank=4,p=97,task=add,seed=0"]);
        assert_eq!((runs[2].bottleneck_rank, runs[2].p, runs[2].task), (Some(4), 53, crate::data::Task::Add));
        let runs = expand(&base, None, &["seed=3,4".parse().unwrap()], false, Path::new("o")).unwrap();
        assert_eq!((runs[1].seed, runs[1].data_seed), (4, 4));
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
            ("lr", "--sweep expects key=v1,v2,…, got 'lr'"),
            ("lr=0.1,x", "--sweep lr: 'x' is not a valid value (invalid type: string \"x\", expected f64)"),
            ("lr=0.1,0.10", "--sweep lr: a value is listed twice"),
            ("grokgpu-version=1,2", "--sweep grokgpu_version: 'grokgpu_version' records how a run was made and cannot be set"),
        ];
        for (arg, want) in cases {
            assert_eq!(arg.parse::<SweepAxis>().unwrap_err().to_string(), want);
        }
        let base = preset("quick").unwrap().config;
        let lr: SweepAxis = "lr=0.1".parse().unwrap();
        assert!(expand(&base, Some(&[1, 1]), &[], false, Path::new("o")).is_err());
        assert!(expand(&base, None, &[lr.clone(), lr], false, Path::new("o")).is_err());
    }
}
