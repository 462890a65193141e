//! Checkpoint analyses: the definitions of ANALYSES.md as pure functions over host arrays
//! (f64 math on a checkpoint's tensors), one family per file, each with its sanity checks as
//! unit tests (`cargo test --release -p grokgpu --lib analysis`).
//!
//! Spectral transforms go through the [`Dft`] trait: [`CpuDft`] here, the batched GPU FFT for
//! many checkpoints at once. Downstream code reads its outputs (complex half spectra, or
//! |F|² via [`spectrum::FoldedEnergy::from_power`]).
//!
//! Conventions (ANALYSES.md): W_E = the p number rows of `embed.weight`, W_U =
//! `unembed.weight`; DFT along the token axis, folded energy E_k (k = 0..K) with
//! Σ E_k = ‖W‖²_F; q_k = E_k/Σ_{k≥1} E_k. `mul` and `div` are read in discrete-log order
//! (tokens g^i mod p, length p − 1, `token_order`).
//!
//! | Field | Meaning | Source |
//! |---|---|---|
//! | `we_power`, `wu_power` | folded token-axis energy E_k of W_E / W_U, k = 0..K | [`spectrum`], ANALYSES § 1 |
//! | `dc_frac` | share of W_E's energy in its token mean, E_0/‖W_E‖² | [`spectrum`], § 1 |
//! | `dominant_freq` | argmax_{k≥1} E_k of W_E | [`spectrum`], § 1 |
//! | `key_freqs` | W_E rule: k with q_k ≥ 0.1·max q, at most the top 8 (the last checkpoint's set is `key_freqs_final`) | [`spectrum`], § 1 |
//! | `band_low`, `band_high` | share of q at k ≤ 5, and the rest | [`spectrum`], seed 000 |
//! | `neuron_freq`, `neuron_key_freqs`, `neuron_clustered_frac` | each neuron's frequency in the first MLP block (−1 under 85% of its centred grid energy), their set, and the share clustered | [`neurons`], Nanda et al. 2023 |
//! | `n_eff` | effective number of frequencies 1/Σq² (seed 000's "IPR") | [`sparsity`], § 2 |
//! | `gini` | Gini coefficient of q (0 flat, (K−1)/K one frequency) | [`sparsity`], § 2 |
//! | `l1l2_fourier`, `l1l2_spatial` | energy-weighted ℓ1/ℓ2 of the columns in the orthonormal Fourier basis / token basis (`wu_` prefix: of W_U) | [`sparsity`], seed 000 finding 3 |
//! | `align_1d_key`, `align_1d_top8` | share of q in the key frequencies / the 8 largest | [`alignment`], § 3 |
//! | `align_2d`, `align_2d_z` | share of W_E's (token, hidden) 2D energy in the top 2·\|key\| bins, and its z-score against 200 column permutations (*proposed*) | [`alignment`], seed 000 finding 2 |
//! | `phase_r2` | R² of a weighted linear fit of unwrapped phase against k, per column, energy-weighted; NaN when no column has 3 consecutive strong bins | [`phase`], seed 000 (literal) |
//! | `token_phase_coherence` | per key k, R_k = \|mean e^{iψ_t}\| of the tokens' angles in the (C_k, S_k) plane against σ·2πkt/p; 1 ideal, ≈ 1/√p for angles unrelated to t (a Gaussian W_E with d ≈ p gives ≈ 0.75: compare with that baseline) | [`phase`], § 4 |
//! | phase interventions | (a) literal: phases set to 2πkj/p; (b) in-plane: token angles set to σ·2πkt/p + mean | [`phase`], § 4 |
//! | `circuit_ratio`, `alpha_alg`, `alpha_mem` | circuit competition α_alg/α_mem: margin of the key-frequency logits (+ class means) on train, against the train-minus-validation margin of the rest; null with `circuit_ratio_infinite` when α_mem ≤ 0 (*proposed*) | [`circuits`], § 5 |
//! | `excluded_loss`, `restricted_loss`, `full_loss` | train loss without the key-frequency logit directions; loss with only them (plus the rest's class means); the unmodified loss (`add`, `sub`) | [`excluded`], § 6 |
//! | `attr_keep`, `attr_ablate` | per k = 0..K, correct-logit margin with only W_E^(0) + W_E^(k) kept / with W_E^(k) removed (`_acc`: accuracy); `_low`, `_high`: the bands k ≤ 5, k > 5 | [`attribution`], § 7 |
//! | `fsd`, `fsd_p` | frequency synchronization of the components' profiles π_c, null-normalized over 999 label permutations, and its p-value (*proposed*); FSD ceiling step | [`fsd`], seed 004 |
//! | `pca_pr` | participation ratio (Σλ)²/Σλ² of a covariance of rows | [`geometry`], seed 001 |
//! | `twonn_id`, `twonn_degenerate` | TwoNN intrinsic dimension (Facco et al. 2017); flagged when most neighbour ratios are 1 | [`geometry`], seed 001 |
//! | `betti1_persistence` | death/birth of the longest H1 bar of the Vietoris–Rips filtration of W_E's rows | [`geometry`], seed 001 |
//! | `attn_entropy` | entropy (nats) of the last query's attention, per layer and head | [`geometry`], seed 001 |
//! | `weight_norm` | L2 norm, global and per tensor (`weight_norm.<name>`) | [`dynamics`], seed 003 |
//! | `w1_delta_norm`, `laziness` | ‖W1(s) − W1(prev)‖ and ‖W1(s) − W1(0)‖/‖W1(0)‖ of the first MLP layer | [`dynamics`], seed 003 |
//! | `grad_norm` | L2 norm of the mean train-loss gradient (the stage rules read it) | [`dynamics`], seed 003 |
//! | `grad_cosine_unit`, `feature_diversity` | mean pairwise cosine of W1's gradient rows; 1 − mean pairwise \|cos\| of W1's rows | [`dynamics`], seed 003 |
//! | `softmax_collapse` | share of train pairs whose f32 softmax denominator is exactly 1 | [`dynamics`], seed 001 |
//! | stage | Tian's stages I/II/III by seed 003's thresholds (*heuristic*) | [`dynamics`], seed 003 |
//! | `memorization_step`, `grok_step` | first eval step with train_acc ≥ 0.99 / val_acc ≥ 0.9 | [`events`] |
//! | precursors | n_eff peak, circuit crossover, FSD ceiling, excluded-loss rise (*proposed* rule), each with lead = grok_step − step | [`events`] |
//! | `summary.json`, `summary.md` | initial / peak / final of every scalar, events and leads (seed 000's Table A1) | [`summary`] |
//!
//! Model-based families read the model's activations over every pair, gathered on the GPU by
//! [`model_probe`] (`crate::analyze` runs it all per checkpoint). Also listed in the summary,
//! from the training log (metrics.jsonl): `train_loss`, `train_acc`, `val_loss`, `val_acc`,
//! `lr`, `elapsed_s`.

pub mod alignment;
pub mod attribution;
pub mod catalogue;
pub mod circuits;
pub mod dft;
pub mod dynamics;
pub mod events;
pub mod excluded;
pub mod fits;
pub mod fsd;
pub mod fsd_components;
pub mod geometry;
pub mod gpu_dft;
pub mod grid;
pub mod logit_fourier;
pub mod matrix;
pub mod model_probe;
pub mod neurons;
pub mod pairs;
pub mod phase;
pub mod representation;
pub mod rng;
pub mod sparsity;
pub mod stats;
pub mod spectrum;
pub mod summary;

pub use dft::{Complex, CpuDft, Dft};
pub use matrix::Matrix;
