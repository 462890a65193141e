//! Parameter layout and initialization (RUNS.md).
//!
//! [`param_specs`] lists every parameter's checkpoint name and PyTorch state_dict shape in
//! RUNS.md's order; that order is also the layout of the flat parameter buffer.
//!
//! [`init_params`] follows PyTorch's defaults: Linear weight and bias U(−1/√fan_in,
//! 1/√fan_in) (fan_in = the weight's second dimension), embeddings and pos_embed N(0, 1),
//! LayerNorm weight 1 and bias 0. `init_scale` then multiplies every tensor, LayerNorm
//! weights and biases included (Omnigrok scales all of `model.parameters()`).
//!
//! Each tensor draws row-major from its own stream,
//! `Rng::new(seed).fork(stream::INIT).fork(name_stream(name))`, so a tensor's initial values
//! depend only on the seed, its name and its shape: adding a bottleneck or a block leaves
//! every other tensor's values unchanged.
//!
//! `init = fourier` replaces the number rows 0..p−1 of `embed.weight` by random-phase Fourier
//! modes: column j gets a frequency k_j uniform in 1..=(p−1)/2 and a phase φ_j uniform in
//! [0, 2π), both drawn (k_j then φ_j, for j = 0, 1, …) from the tensor's stream forked by
//! `name_stream("fourier")`, and E[x, j] = √2 · cos(2π · (k_j·x mod p) / p + φ_j). Every
//! column then has mean 0 and variance 1 over x exactly, the moments of the default N(0, 1)
//! rows, but already carries one clean frequency. The `op` and `=` rows keep their N(0, 1)
//! values. init_scale applies afterwards as for every tensor.

use crate::rng::{name_stream, stream, Rng};
use crate::config::{Init, RunConfig};

/// How a tensor starts (before init_scale).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum InitRule {
    /// N(0, 1): embeddings and positions.
    Normal,
    /// U(−1/√fan_in, 1/√fan_in): Linear weights and biases.
    Uniform { fan_in: usize },
    /// LayerNorm weight.
    Ones,
    /// LayerNorm bias.
    Zeros,
}

/// One parameter tensor: checkpoint name, state_dict shape, initialization.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub shape: Vec<usize>,
    pub rule: InitRule,
}

impl ParamSpec {
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Every parameter of the run's model, in RUNS.md's order (absent ones omitted): the names
/// and shapes of [`ModelSpec::param_shapes`](crate::nn::spec::ModelSpec::param_shapes),
/// each with the PyTorch default that initializes it.
pub fn param_specs(cfg: &RunConfig) -> Vec<ParamSpec> {
    let shapes = cfg.model_spec().param_shapes();
    let fan_in = |weight: &str| shapes.iter().find(|(n, _)| n == weight).map(|(_, s)| s[1]).expect("a bias has its weight");
    shapes
        .iter()
        .map(|(name, shape)| {
            let is_norm = name.starts_with("ln_f.") || name.contains(".ln");
            let rule = if name == "embed.weight" || name == "pos_embed" {
                InitRule::Normal
            } else if is_norm && name.ends_with(".weight") {
                InitRule::Ones
            } else if is_norm {
                InitRule::Zeros
            } else if let Some(prefix) = name.strip_suffix(".bias") {
                InitRule::Uniform { fan_in: fan_in(&format!("{prefix}.weight")) }
            } else {
                InitRule::Uniform { fan_in: shape[1] }
            };
            ParamSpec { name: name.clone(), shape: shape.clone(), rule }
        })
        .collect()
}

/// Initial values of every tensor of [`param_specs`], in the same order. Computed in f64,
/// rounded once to f32.
pub fn init_params(cfg: &RunConfig) -> Vec<Vec<f32>> {
    let root = Rng::new(cfg.seed).fork(stream::INIT);
    param_specs(cfg)
        .iter()
        .map(|spec| {
            let mut rng = root.fork(name_stream(&spec.name));
            let mut v: Vec<f64> = match spec.rule {
                InitRule::Normal => (0..spec.len()).map(|_| rng.normal()).collect(),
                InitRule::Uniform { fan_in } => {
                    let bound = 1.0 / (fan_in as f64).sqrt();
                    (0..spec.len()).map(|_| rng.uniform_range(-bound, bound)).collect()
                }
                InitRule::Ones => vec![1.0; spec.len()],
                InitRule::Zeros => vec![0.0; spec.len()],
            };
            if cfg.init == Init::Fourier && spec.name == "embed.weight" {
                fourier_rows(&mut v, cfg.p as usize, spec.shape[1], rng.fork(name_stream("fourier")));
            }
            v.iter().map(|x| (x * cfg.init_scale) as f32).collect()
        })
        .collect()
}

/// All initial values concatenated in layout order (the flat parameter buffer of one run).
pub fn init_flat(cfg: &RunConfig) -> Vec<f32> {
    init_params(cfg).concat()
}

/// Overwrites rows 0..p of a row-major [rows, d] embedding with random-phase Fourier modes
/// (recipe in the module documentation).
fn fourier_rows(embed: &mut [f64], p: usize, d: usize, mut rng: Rng) {
    let half = (p as u64 - 1) / 2;
    for j in 0..d {
        let k = 1 + rng.below(half) as usize;
        let phase = rng.uniform_range(0.0, std::f64::consts::TAU);
        for x in 0..p {
            let angle = std::f64::consts::TAU * ((k * x) % p) as f64 / p as f64 + phase;
            embed[x * d + j] = std::f64::consts::SQRT_2 * angle.cos();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::presets::preset;
    use crate::config::{Norm, Variant};

    fn power() -> RunConfig {
        preset("power2022").unwrap().config
    }

    fn names(cfg: &RunConfig) -> Vec<String> {
        param_specs(cfg).into_iter().map(|s| format!("{} {:?}", s.name, s.shape)).collect()
    }

    #[test]
    fn transformer_layout_of_runs_md() {
        let mut c = power();
        c.layers = 1;
        c.bottleneck_rank = Some(8);
        assert_eq!(
            names(&c),
            [
                "embed.weight [99, 128]", "pos_embed [4, 128]", "bottleneck.down.weight [8, 128]", "bottleneck.up.weight [128, 8]",
                "blocks.0.ln1.weight [128]", "blocks.0.ln1.bias [128]", "blocks.0.attn.qkv.weight [384, 128]", "blocks.0.attn.qkv.bias [384]",
                "blocks.0.attn.out.weight [128, 128]", "blocks.0.attn.out.bias [128]", "blocks.0.ln2.weight [128]", "blocks.0.ln2.bias [128]",
                "blocks.0.mlp.fc1.weight [512, 128]", "blocks.0.mlp.fc1.bias [512]", "blocks.0.mlp.fc2.weight [128, 512]",
                "blocks.0.mlp.fc2.bias [128]", "ln_f.weight [128]", "ln_f.bias [128]", "unembed.weight [97, 128]", "unembed.bias [97]",
            ]
        );
    }

    #[test]
    fn variants_drop_their_tensors() {
        let mut c = power();
        c.norm = Norm::None;
        c.variant = Variant::AttnOnly;
        c.layers = 2;
        let n = names(&c);
        assert_eq!(n.len(), 2 + 2 * 4 + 2);
        assert!(n.iter().all(|s| !s.contains("ln") && !s.contains("mlp")));
        assert_eq!(n[6], "blocks.1.attn.qkv.weight [384, 128]");
        c.variant = Variant::MlpOnly;
        let n = names(&c);
        assert!(n.iter().all(|s| !s.contains("attn")));
        assert_eq!(n[2], "blocks.0.mlp.fc1.weight [512, 128]");
        c.layers = 0;
        assert_eq!(names(&c), ["embed.weight [99, 128]", "pos_embed [4, 128]", "unembed.weight [97, 128]", "unembed.bias [97]"]);
    }

    #[test]
    fn mlp_layout_of_runs_md() {
        let c = preset("tian-mlp").unwrap().config;
        assert_eq!(names(&c), ["embed.weight [97, 128]", "fc1.weight [128, 256]", "fc1.bias [128]", "fc2.weight [97, 128]", "fc2.bias [97]"]);
        assert_eq!(param_specs(&c)[1].rule, InitRule::Uniform { fan_in: 256 });
    }

    fn mean_std(v: &[f32]) -> (f64, f64) {
        let n = v.len() as f64;
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / n;
        let var = v.iter().map(|&x| (x as f64 - mean).powi(2)).sum::<f64>() / n;
        (mean, var.sqrt())
    }

    /// Checks every tensor against its rule at scale α: exact values for LayerNorm, bounds
    /// for uniforms, and mean/std within 5 standard errors for tensors of ≥ 1000 values.
    fn check_statistics(cfg: &RunConfig) {
        let alpha = cfg.init_scale;
        for (spec, v) in param_specs(cfg).iter().zip(init_params(cfg)) {
            assert_eq!(v.len(), spec.len(), "{}", spec.name);
            let n = v.len() as f64;
            let (mean, std) = mean_std(&v);
            let (want_std, max_abs) = match spec.rule {
                InitRule::Ones => {
                    assert!(v.iter().all(|&x| x == alpha as f32), "{}", spec.name);
                    continue;
                }
                InitRule::Zeros => {
                    assert!(v.iter().all(|&x| x == 0.0), "{}", spec.name);
                    continue;
                }
                InitRule::Normal => (alpha, f64::INFINITY),
                InitRule::Uniform { fan_in } => (alpha / (3.0 * fan_in as f64).sqrt(), alpha / (fan_in as f64).sqrt()),
            };
            assert!(v.iter().all(|&x| (x as f64).abs() <= max_abs * (1.0 + 1e-7)), "{} exceeds ±{max_abs}", spec.name);
            if n >= 1000.0 {
                // Standard error of the mean is std/√n; of the std about std/√(2n) (normal),
                // smaller for the uniform.
                assert!(mean.abs() < 5.0 * want_std / n.sqrt(), "{}: mean {mean}", spec.name);
                assert!((std / want_std - 1.0).abs() < 5.0 / (2.0 * n).sqrt(), "{}: std {std} vs {want_std}", spec.name);
            }
        }
    }

    #[test]
    fn statistics_follow_pytorch_defaults() {
        check_statistics(&power());
        check_statistics(&preset("tian-mlp").unwrap().config);
        let mut c = power();
        c.init_scale = 0.3;
        c.bottleneck_rank = Some(16);
        check_statistics(&c);
    }

    #[test]
    fn init_scale_multiplies_every_tensor() {
        let mut c = power();
        let base = init_flat(&c);
        c.init_scale = 2.0;
        let scaled = init_flat(&c);
        assert!(base.iter().zip(&scaled).all(|(a, b)| *b == 2.0 * a));
    }

    #[test]
    fn deterministic_per_seed_different_across_seeds() {
        let mut c = power();
        let a = init_params(&c);
        assert_eq!(a, init_params(&c));
        c.seed = 1;
        let b = init_params(&c);
        for ((spec, x), y) in param_specs(&c).iter().zip(&a).zip(&b) {
            let random = !matches!(spec.rule, InitRule::Ones | InitRule::Zeros);
            assert_eq!(x != y, random, "{}", spec.name);
        }
    }

    #[test]
    fn a_tensor_does_not_depend_on_the_others() {
        let c = power();
        let mut with_bottleneck = c.clone();
        with_bottleneck.bottleneck_rank = Some(4);
        let get = |cfg: &RunConfig, name: &str| {
            let i = param_specs(cfg).iter().position(|s| s.name == name).unwrap();
            init_params(cfg)[i].clone()
        };
        assert_eq!(get(&c, "unembed.weight"), get(&with_bottleneck, "unembed.weight"));
    }

    /// |DFT_k|² of a column at every k in 1..=(p−1)/2.
    fn spectrum(col: &[f64], p: usize) -> Vec<f64> {
        (1..=(p - 1) / 2)
            .map(|k| {
                let (mut re, mut im) = (0.0, 0.0);
                for (x, v) in col.iter().enumerate() {
                    let a = std::f64::consts::TAU * ((k * x) % p) as f64 / p as f64;
                    re += v * a.cos();
                    im -= v * a.sin();
                }
                re * re + im * im
            })
            .collect()
    }

    fn fourier_embedding(cfg: &RunConfig) -> (Vec<f32>, usize, usize) {
        let mut c = cfg.clone();
        c.init = Init::Fourier;
        (init_params(&c).remove(0), c.p as usize, c.d_model)
    }

    #[test]
    fn fourier_embedding_columns_are_single_frequencies() {
        let (e, p, d) = fourier_embedding(&power());
        let default = init_params(&power()).remove(0);
        // The op and = rows keep their default values.
        assert_eq!(e[p * d..], default[p * d..]);
        for j in 0..d {
            let col: Vec<f64> = (0..p).map(|x| e[x * d + j] as f64).collect();
            let mean = col.iter().sum::<f64>() / p as f64;
            let var = col.iter().map(|x| x * x).sum::<f64>() / p as f64 - mean * mean;
            // Exact in f64; 1e-6 covers the f32 rounding of the stored values.
            assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-6, "column {j}: mean {mean} var {var}");
            // √2·cos(2πkx/p + φ) puts |DFT_k|² = p²/2 at its k and nothing elsewhere.
            let best = spectrum(&col, p).into_iter().fold(0.0, f64::max);
            assert!((best * 2.0 / (p * p) as f64 - 1.0).abs() < 1e-5, "column {j} is not one frequency");
        }
    }

    #[test]
    fn fourier_frequencies_cover_the_range() {
        let mut c = preset("quick").unwrap().config;
        c.d_model = 256;
        let (e, p, d) = fourier_embedding(&c);
        let mut used = vec![false; (p - 1) / 2];
        for j in 0..d {
            let col: Vec<f64> = (0..p).map(|x| e[x * d + j] as f64).collect();
            let s = spectrum(&col, p);
            let k = (0..s.len()).max_by(|&a, &b| s[a].total_cmp(&s[b])).unwrap();
            used[k] = true;
        }
        // 256 uniform draws from 23 frequencies miss a given one with probability (22/23)^256 ≈ 1e-5.
        assert!(used.iter().all(|&u| u), "{used:?}");
    }
}
