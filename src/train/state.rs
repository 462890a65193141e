//! state.safetensors: what --resume needs beyond the weights — optimizer moments and the
//! update count (the minibatch order is a pure function of seed and update, so no
//! generator state is stored). Written atomically at every checkpoint.

use std::collections::BTreeMap;

use super::rundir::RunDir;
use super::trainer::RunState;
use crate::io::safetensors::{self, Tensor, TensorData};
use crate::{Error, Result};

pub fn write_state(dir: &RunDir, state: &RunState) -> Result<()> {
    let tensors = vec![
        Tensor::new("params", &[state.params.len()], TensorData::F32(state.params.clone())),
        Tensor::new("moment1", &[state.moment1.len()], TensorData::F32(state.moment1.clone())),
        Tensor::new("moment2", &[state.moment2.len()], TensorData::F32(state.moment2.clone())),
    ];
    let metadata = BTreeMap::from([("step".to_string(), state.step.to_string())]);
    safetensors::write(&dir.state_path(), &tensors, &metadata)
}

pub fn read_state(dir: &RunDir) -> Result<RunState> {
    let path = dir.state_path();
    let file = safetensors::read(&path)?;
    let bad = |what: &str| Error::msg(format!("{} is not a grokgpu training state ({what}); start over with --force", path.display()));
    let step = file.metadata.get("step").and_then(|s| s.parse().ok()).ok_or_else(|| bad("no step"))?;
    let tensor = |name: &str| match file.get(name).map(|t| &t.data) {
        Some(TensorData::F32(v)) => Ok(v.clone()),
        _ => Err(bad(&format!("no f32 tensor '{name}'"))),
    };
    Ok(RunState { step, params: tensor("params")?, moment1: tensor("moment1")?, moment2: tensor("moment2")? })
}
