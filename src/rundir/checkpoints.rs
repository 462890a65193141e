//! checkpoints/step_XXXXXXXX.safetensors: a run's weights after `step` updates, f32 or f16,
//! with the step and the run's config.json text in the header metadata.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use super::{RunDir, CHECKPOINT_DIR};
use crate::config::{CkptDtype, RunConfig};
use crate::io::safetensors::{self, Tensor, TensorData};
use crate::nn::init::ParamSpec;
use crate::{bail, Error, Result};

/// One checkpoint: weights after `step` updates, in layout order, as f32.
#[derive(Clone, Debug, PartialEq)]
pub struct Checkpoint {
    pub step: u64,
    pub params: Vec<(String, Vec<usize>, Vec<f32>)>,
}

impl RunDir {
    /// checkpoints/step_00000123.safetensors (8 digits, so names sort by step; wider steps
    /// simply get more digits).
    pub fn checkpoint_path(&self, step: u64) -> PathBuf {
        self.path.join(CHECKPOINT_DIR).join(format!("step_{step:08}.safetensors"))
    }

    /// Writes the weights after `step` updates: `flat` holds every tensor of `specs`
    /// concatenated in order (one run's slice of the flat parameter buffer). Header metadata:
    /// `step` and `config` (the run's config.json text).
    pub fn write_checkpoint(&self, cfg: &RunConfig, step: u64, specs: &[ParamSpec], flat: &[f32]) -> Result<()> {
        let total: usize = specs.iter().map(ParamSpec::len).sum();
        if flat.len() != total {
            bail!("checkpoint {step}: {} values for a model of {total} parameters", flat.len());
        }
        let mut offset = 0;
        let tensors: Vec<Tensor> = specs
            .iter()
            .map(|s| {
                let v = &flat[offset..offset + s.len()];
                offset += s.len();
                let data = match cfg.ckpt_dtype {
                    CkptDtype::F32 => TensorData::F32(v.to_vec()),
                    CkptDtype::F16 => TensorData::f16_from_f32(v),
                };
                Tensor::new(s.name.clone(), &s.shape, data)
            })
            .collect();
        let metadata = BTreeMap::from([("step".to_string(), step.to_string()), ("config".to_string(), cfg.to_json())]);
        safetensors::write(&self.checkpoint_path(step), &tensors, &metadata)
    }

    /// Every checkpoint (step, path), ascending by step.
    pub fn checkpoints(&self) -> Result<Vec<(u64, PathBuf)>> {
        let dir = self.path.join(CHECKPOINT_DIR);
        let entries = fs::read_dir(&dir).map_err(|e| Error::msg(format!("cannot list {}: {e}", dir.display())))?;
        let mut found = vec![];
        for entry in entries {
            let path = entry?.path();
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if let Some(step) = name.strip_prefix("step_").and_then(|s| s.strip_suffix(".safetensors")).and_then(|s| s.parse().ok()) {
                found.push((step, path));
            }
        }
        found.sort();
        Ok(found)
    }

}

/// Reads a checkpoint (f32 or f16) into f32 tensors, in file order (= layout order).
pub fn read_checkpoint(path: &Path) -> Result<Checkpoint> {
    let file = safetensors::read(path)?;
    let step = file
        .metadata
        .get("step")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| Error::msg(format!("{}: no step in the header metadata", path.display())))?;
    let params = file
        .tensors
        .into_iter()
        .map(|t| {
            let v = t.data.to_f32().ok_or_else(|| Error::msg(format!("{}: tensor '{}' is not floating point", path.display(), t.name)))?;
            Ok((t.name, t.shape, v))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Checkpoint { step, params })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::init::{init_flat, param_specs};
    use crate::rundir::run_dir::tests::{create, quick_in};

    #[test]
    fn checkpoints_round_trip_in_f32_and_f16() {
        let (_scratch, quick) = quick_in("rundir_ckpt");
        for dtype in [CkptDtype::F32, CkptDtype::F16] {
            let cfg = RunConfig { ckpt_dtype: dtype, ..quick.clone() };
            let dir = create(&cfg, true).unwrap();
            let specs = param_specs(&cfg);
            let flat = init_flat(&cfg);
            for step in [0, 10, 1500] {
                dir.write_checkpoint(&cfg, step, &specs, &flat).unwrap();
            }
            let list = dir.checkpoints().unwrap();
            assert_eq!(list.iter().map(|(s, _)| *s).collect::<Vec<_>>(), [0, 10, 1500]);
            assert!(list[2].1.ends_with("checkpoints/step_00001500.safetensors"));
            let ck = read_checkpoint(&list[1].1).unwrap();
            assert_eq!(ck.step, 10);
            let names: Vec<&str> = ck.params.iter().map(|(n, _, _)| n.as_str()).collect();
            assert_eq!(names, specs.iter().map(|s| s.name.as_str()).collect::<Vec<_>>());
            let got: Vec<f32> = ck.params.iter().flat_map(|(_, _, v)| v.iter().copied()).collect();
            // f16 keeps 11 significant bits: relative error ≤ 2^-11 (values here are far from
            // the f16 subnormal range).
            let tol = if dtype == CkptDtype::F16 { 1.0 / 2048.0 } else { 0.0 };
            for (g, w) in got.iter().zip(&flat) {
                assert!((g - w).abs() <= tol * w.abs() + 1e-7, "{g} vs {w}");
            }
            let meta = safetensors::read(&list[1].1).unwrap().metadata;
            assert_eq!(RunConfig::from_json(&meta["config"], "metadata").unwrap(), RunConfig { dir: PathBuf::new(), ..cfg.clone() });
            assert!(dir.write_checkpoint(&cfg, 1, &specs, &flat[1..]).is_err());
        }
    }

}
