//! Multi-runs: `--seeds 0,1,2` and `--sweep weight_decay=0.1,0.3,1` expand one
//! configuration into the grid of runs (sweep axes in the order given, seeds last), each in
//! its own directory named by its varying settings (`weight_decay=0.1,seed=0`, Hydra's
//! style), which the run directory lists in the output directory's `sweep.json`.
//!
//! Only settings that keep every tensor shape equal may vary, so all runs of a multi-run
//! train side by side along the run axis R.

use std::path::Path;
use std::str::FromStr;

use super::run_config::RunConfig;
use super::vary::SWEEPABLE;
use crate::{bail, Error, Result};

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
}
