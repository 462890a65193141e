//! A checkpoint's tensors as the analyses read them: checked against the run's model, with
//! the matrices ANALYSES.md names (W_E, W_U, W1) and the flat form the model probe loads.

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
    /// The checkpoint's tensors, which must be exactly `spec`'s names and shapes in order.
    pub fn new(checkpoint: Checkpoint, spec: &ModelSpec) -> Result<ModelWeights> {
        let want = spec.param_shapes();
        let got: Vec<(&str, &[usize])> = checkpoint.params.iter().map(|(n, s, _)| (n.as_str(), s.as_slice())).collect();
        let same = want.len() == got.len() && want.iter().zip(&got).all(|((n, s), (gn, gs))| n == gn && s.as_slice() == *gs);
        if !same {
            bail!("checkpoint at step {} does not hold the run's model ({} tensors where the config has {})", checkpoint.step, got.len(), want.len());
        }
        if let Some((name, _, _)) = checkpoint.params.iter().find(|(_, s, v)| v.len() != s.iter().product::<usize>()) {
            bail!("checkpoint at step {}: tensor {name} has the wrong number of values", checkpoint.step);
        }
        Ok(ModelWeights { step: checkpoint.step, tensors: checkpoint.params })
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
