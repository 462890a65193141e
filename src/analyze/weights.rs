//! A checkpoint's tensors as the analyses read them: checked against the run's model, with
//! the matrices ANALYSES.md names (W_E, W_U, W1) and the flat form the model probe loads.

use std::collections::BTreeMap;

use crate::analysis::Matrix;
use crate::nn::spec::ModelSpec;
use crate::rundir::Checkpoint;
use crate::{bail, Result};

/// `unembed.weight` of the Transformer, `fc2.weight` of the MLP: one row per class.
pub fn unembed_name(spec: &ModelSpec) -> &'static str {
    match spec {
        ModelSpec::Transformer(_) => "unembed.weight",
        ModelSpec::Mlp(_) => "fc2.weight",
    }
}

/// W1, the first MLP layer (one row per hidden neuron); None for attention-only models.
pub fn w1_name(spec: &ModelSpec) -> Option<&'static str> {
    match spec {
        ModelSpec::Transformer(t) => t.has_mlp().then_some("blocks.0.mlp.fc1.weight"),
        ModelSpec::Mlp(_) => Some("fc1.weight"),
    }
}

/// One checkpoint's weights in layout order.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelWeights {
    pub step: u64,
    pub tensors: Vec<(String, Vec<usize>, Vec<f32>)>,
}

impl ModelWeights {
    /// The checkpoint's tensors matched by name to `spec`'s, in `spec`'s layout order (a file
    /// re-saved by another program may store them in any order). Every tensor must be there
    /// with its shape, nothing else, and every value finite.
    pub fn new(checkpoint: Checkpoint, spec: &ModelSpec) -> Result<ModelWeights> {
        let step = checkpoint.step;
        let mut found: BTreeMap<String, (Vec<usize>, Vec<f32>)> = checkpoint.params.into_iter().map(|(n, s, v)| (n, (s, v))).collect();
        let mut tensors = Vec::new();
        for (name, shape) in spec.param_shapes() {
            let Some((got, values)) = found.remove(&name) else {
                bail!("checkpoint at step {step} has no tensor {name} (expected shape {shape:?})");
            };
            if got != shape {
                bail!("{name}: shape {got:?}, expected {shape:?}");
            }
            let bad = values.iter().filter(|v| !v.is_finite()).count();
            if bad > 0 {
                bail!("{name} holds {bad} non-finite value(s) (NaN or infinity) at step {step}; nothing can be analyzed from it");
            }
            tensors.push((name, shape, values));
        }
        if let Some(extra) = found.keys().next() {
            bail!("checkpoint at step {step} holds {extra}, which the run's model does not have ({} unexpected tensor(s))", found.len());
        }
        Ok(ModelWeights { step, tensors })
    }

    pub fn get(&self, name: &str) -> &[f32] {
        &self.tensors.iter().find(|(n, _, _)| n == name).unwrap_or_else(|| panic!("no tensor {name}")).2
    }

    /// A 2-D tensor as an f64 matrix.
    pub fn matrix(&self, name: &str) -> Matrix {
        let (_, shape, values) = self.tensors.iter().find(|(n, _, _)| n == name).unwrap_or_else(|| panic!("no tensor {name}"));
        assert_eq!(shape.len(), 2, "{name} is not a matrix");
        Matrix::from_f32(shape[0], shape[1], values)
    }

    /// W_E: the p number rows of `embed.weight`.
    pub fn w_e(&self, p: usize) -> Matrix {
        self.matrix("embed.weight").first_rows(p)
    }

    /// Every tensor concatenated in layout order (what the model probe loads).
    pub fn flat(&self) -> Vec<f32> {
        self.tensors.iter().flat_map(|(_, _, v)| v.iter().copied()).collect()
    }

    /// [`ModelWeights::flat`] with the first rows of `embed.weight` replaced by `w_e` [p, d].
    pub fn flat_with_embedding(&self, w_e: &Matrix) -> Vec<f32> {
        let mut flat = self.flat();
        let (_, shape, _) = &self.tensors[0];
        assert_eq!((self.tensors[0].0.as_str(), shape[1]), ("embed.weight", w_e.cols), "the embedding comes first");
        flat[..w_e.data.len()].iter_mut().zip(&w_e.data).for_each(|(f, &v)| *f = v as f32);
        flat
    }
}
