//! What each scalar field of metrics.jsonl / analysis.jsonl is: its analysis family and a
//! one-line meaning, for the summary table.

/// One scalar metric.
pub struct MetricInfo {
    pub name: &'static str,
    pub family: &'static str,
    pub meaning: &'static str,
}

const fn m(name: &'static str, family: &'static str, meaning: &'static str) -> MetricInfo {
    MetricInfo { name, family, meaning }
}

/// Fields that time the machine, not the model: a summary leaves them out, since they differ
/// between two runs with identical numbers.
pub const WALL_CLOCK: &[&str] = &["elapsed_s"];

/// Every scalar field the analyses and the training log write (the wall-clock ones aside).
pub const METRICS: &[MetricInfo] = &[
    m("train_loss", "Training", "cross-entropy over the whole train set"),
    m("train_acc", "Training", "accuracy over the whole train set"),
    m("val_loss", "Training", "cross-entropy over the validation set"),
    m("val_acc", "Training", "accuracy over the validation set"),
    m("lr", "Training", "learning rate at this step"),
    m("dc_frac", "Spectrum", "share of W_E's energy in its token mean (k = 0)"),
    m("dominant_freq", "Spectrum", "frequency k ≥ 1 with the most W_E energy"),
    m("neuron_clustered_frac", "Spectrum", "share of the first MLP block's neurons in a frequency cluster (Nanda's 0.85 rule)"),
    m("band_low", "Spectrum", "share of W_E's k ≥ 1 energy at k ≤ 5"),
    m("band_high", "Spectrum", "share of W_E's k ≥ 1 energy at k > 5"),
    m("n_eff", "Sparsity", "effective number of frequencies, 1/Σq² (seed 000's IPR)"),
    m("gini", "Sparsity", "inequality of the frequency energies (0 flat, → 1 one frequency)"),
    m("l1l2_fourier", "Sparsity", "ℓ1/ℓ2 of the columns in the Fourier basis (lower = sparser)"),
    m("l1l2_spatial", "Sparsity", "ℓ1/ℓ2 of the columns in the token basis"),
    m("align_1d_key", "Alignment", "share of token-spectrum energy in the key frequencies"),
    m("align_1d_top8", "Alignment", "share of token-spectrum energy in the 8 strongest frequencies"),
    m("align_2d", "Alignment", "share of (token, hidden) 2D energy in the top 2|key| bins"),
    m("align_2d_z", "Alignment", "z-score of align_2d against random hidden-unit orders"),
    m("phase_r2", "Phase", "R² of a linear phase-versus-k fit (seed 000, literal)"),
    m("token_phase_coherence", "Phase", "tokens' phase coherence R_k in the key planes (1 ideal; ≈ 0.75 for a Gaussian W_E with d ≈ p)"),
    m("circuit_ratio", "Circuits", "algorithmic over memorizing logit margin, α_alg/α_mem"),
    m("excluded_loss", "Circuits", "train loss with the key-frequency logit directions removed"),
    m("restricted_loss", "Circuits", "loss with only the key-frequency logit directions kept"),
    m("full_loss", "Circuits", "loss of the unmodified logits over all pairs (what restricted_loss compares with)"),
    m("alpha_alg", "Circuits", "train margin carried by the key-frequency logits, α_alg"),
    m("alpha_mem", "Circuits", "train-minus-validation margin of the remaining logits, α_mem"),
    m("attr_keep", "Attribution", "correct-logit margin with only W_E's mean and this frequency or band kept (_acc: accuracy)"),
    m("attr_ablate", "Attribution", "correct-logit margin with this frequency or band removed from W_E (_acc: accuracy)"),
    m("fsd", "FSD", "frequency synchronization degree of the components, null-normalized"),
    m("fsd_p", "FSD", "permutation p-value of the synchronization"),
    m("pca_pr", "Geometry", "participation ratio of the covariance spectrum"),
    m("twonn_id", "Geometry", "TwoNN intrinsic dimension (null outside [1, ambient dimension])"),
    m("geom", "Geometry", "ID and H1 of a hidden representation (geom.<rep>.<measure>) or of its class centroids"),
    m("betti1_persistence", "Geometry", "death/birth of the longest H1 bar of W_E's rows"),
    m("attn_entropy", "Geometry", "entropy of the last query's attention, nats"),
    m("weight_norm", "Dynamics", "L2 norm of the weights"),
    m("w1_norm", "Dynamics", "‖W1‖, seed 003's w_norm"),
    m("w1_delta_rate", "Dynamics", "‖W1(s) − W1(previous)‖ per update, relative to ‖W1‖"),
    m("laziness", "Dynamics", "‖W1(s) − W1(0)‖/‖W1(0)‖"),
    m("grad_cosine_unit", "Dynamics", "mean over neurons of cos(−∂L/∂w_j, w_j)"),
    m("grad_cosine_pairwise", "Dynamics", "mean pairwise cosine between the neurons' W1 gradients"),
    m("grad_norm", "Dynamics", "L2 norm of the mean train-loss gradient"),
    m("feature_diversity", "Dynamics", "1 − mean pairwise |cos| between the rows of W1"),
    m("softmax_collapse", "Dynamics", "share of train pairs whose f32 softmax denominator is 1"),
];

/// The entry for `field`: an exact name, or the longest name it extends with `_`, `.` or `[`
/// (`pca_pr_we`, `weight_norm.fc1.weight`, `attn_entropy[0][1]`); W_U variants (`wu_…`) map
/// to the W_E entry.
pub fn lookup(field: &str) -> Option<&'static MetricInfo> {
    let base = field.strip_prefix("wu_").unwrap_or(field);
    METRICS
        .iter()
        .filter(|m| {
            base.starts_with(m.name)
                && (base.len() == m.name.len() || matches!(base.as_bytes()[m.name.len()], b'_' | b'.' | b'['))
        })
        .max_by_key(|m| m.name.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookup_resolves_variants() {
        assert_eq!(lookup("gini").unwrap().family, "Sparsity");
        assert_eq!(lookup("wu_l1l2_fourier").unwrap().name, "l1l2_fourier");
        assert_eq!(lookup("weight_norm.fc1.weight").unwrap().name, "weight_norm");
        assert_eq!(lookup("pca_pr_we").unwrap().name, "pca_pr");
        assert!(lookup("fsd_p").is_some_and(|m| m.name == "fsd_p"));
        assert!(lookup("ginix").is_none());
    }

    #[test]
    fn every_metric_is_documented_in_the_module_overview() {
        let overview = include_str!("mod.rs");
        for m in METRICS {
            assert!(overview.contains(&format!("`{}`", m.name)), "{} missing from analysis/mod.rs", m.name);
        }
    }
}
