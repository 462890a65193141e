//! state.safetensors: what --resume needs beyond the weights — optimizer moments, the
//! gradient filters' state and the update count (the minibatch order is a pure function
//! of seed and update, so no generator state is stored). Written atomically at every
//! checkpoint.

use std::collections::BTreeMap;

use super::RunDir;
use crate::io::safetensors::{self, Tensor, TensorData};
use crate::{Error, Result};

/// A run's training state in layout order, for state.safetensors: weights, optimizer
/// moments and gradient-filter state (each a whole number of layout-sized blocks).
#[derive(Clone, Debug, PartialEq)]
pub struct RunState {
    pub step: u64,
    pub params: Vec<f32>,
    pub buffers: Vec<(String, Vec<f32>)>,
}

pub fn write_state(dir: &RunDir, state: &RunState) -> Result<()> {
    let mut tensors = vec![Tensor::new("params", &[state.params.len()], TensorData::F32(state.params.clone()))];
    tensors.extend(state.buffers.iter().map(|(name, v)| Tensor::new(name.clone(), &[v.len()], TensorData::F32(v.clone()))));
    let metadata = BTreeMap::from([("step".to_string(), state.step.to_string())]);
    safetensors::write(&dir.state_path(), &tensors, &metadata)
}

pub fn read_state(dir: &RunDir) -> Result<RunState> {
    let path = dir.state_path();
    let file = safetensors::read(&path)?;
    let bad = |what: &str| Error::msg(format!("{} is not a grokgpu training state ({what}); start over with --force", path.display()));
    let step = file.metadata.get("step").and_then(|s| s.parse().ok()).ok_or_else(|| bad("no step"))?;
    let mut params = None;
    let mut buffers = vec![];
    for t in file.tensors {
        let TensorData::F32(v) = t.data else { return Err(bad(&format!("'{}' is not f32", t.name))) };
        if t.name == "params" {
            params = Some(v);
        } else {
            buffers.push((t.name, v));
        }
    }
    Ok(RunState { step, params: params.ok_or_else(|| bad("no params"))?, buffers })
}
