//! The GPU half of a batch's analysis: token spectra, the model probe (activations over all
//! pairs and the train gradient), grid transforms of the activations, the 2D alignment null
//! and the attribution variants' forward passes. What it gathers the CPU half turns into
//! records (`record.rs`).

use super::context::RunContext;
use super::families::Family;
use super::timings::Timings;
use super::weights::{unembed_name, w1_name, ModelWeights};
use crate::analysis::alignment::{align_2d_z, Align2d, ALIGN_2D_PERMUTATIONS};
use crate::analysis::attribution::{attribution_variants, score, Attribution, Score, Variant};
use crate::analysis::fsd_components::{activation_components, weight_component, Component};
use super::gpu_dft::GpuDft;
use crate::analysis::grid::{grid_frequency_energy, grids_from_pair_major, GridEnergy};
use super::model_probe::{Activations, ModelProbe, Readout};
use crate::analysis::spectrum::TokenSpectrum;
use crate::analysis::Matrix;
use crate::gpu::Gpu;
use crate::nn::spec::ModelSpec;

/// Seed of the column permutations of `align_2d_z` (the same null at every checkpoint).
pub const ALIGN_2D_SEED: u64 = 0xA11C;
/// Attribution variants run in groups of at most this many models.
const MAX_ATTRIBUTION_GROUP: usize = 32;

/// One checkpoint's inputs to the CPU half.
pub struct Gathered {
    pub weights: ModelWeights,
    /// The families still to compute for this checkpoint.
    pub families: Vec<Family>,
    /// W_E and W_U in token order, and their token spectra.
    pub we: Matrix,
    pub wu: Matrix,
    pub we_spectrum: TokenSpectrum,
    pub wu_spectrum: TokenSpectrum,
    pub acts: Option<Activations>,
    /// Mean train-loss gradient, tensors in layout order.
    pub gradient: Option<Vec<f64>>,
    /// Grid energy of each neuron of the first MLP block.
    pub neuron_energy: Option<Vec<GridEnergy>>,
    pub fsd_components: Option<Vec<Component>>,
    pub align_2d: Option<Align2d>,
    pub attribution: Option<Attribution>,
    /// Step and W1 of the checkpoint before this one in the run (None for the first, or
    /// unreadable).
    pub w1_prev: Option<(u64, Matrix)>,
}

impl Gathered {
    pub fn wants(&self, family: Family) -> bool {
        self.families.contains(&family)
    }
}

/// The GPU objects of one run, built on first use and kept for every batch.
pub struct Gatherer<'g> {
    gpu: &'g Gpu,
    dft: GpuDft<'g>,
    /// Checkpoints per batch (the probe's R).
    batch: usize,
    probe: Option<ModelProbe<'g>>,
    attribution: Option<ModelProbe<'g>>,
}

/// One checkpoint read for analysis.
pub struct Loaded {
    pub weights: ModelWeights,
    /// The families to compute.
    pub families: Vec<Family>,
    /// Step and W1 of the checkpoint before it in the run.
    pub w1_prev: Option<(u64, Matrix)>,
}

/// FSD's names of one attention layer's heads: `L<layer>H<head>`.
fn head_names(spec: &ModelSpec, layer: usize) -> Vec<String> {
    match spec {
        ModelSpec::Transformer(t) => (0..t.heads).map(|h| format!("L{layer}H{h}")).collect(),
        ModelSpec::Mlp(_) => vec![],
    }
}

impl<'g> Gatherer<'g> {
    pub fn new(gpu: &'g Gpu, batch: usize) -> Gatherer<'g> {
        Gatherer { gpu, dft: GpuDft::new(gpu), batch, probe: None, attribution: None }
    }

    pub fn dft(&self) -> &GpuDft<'g> {
        &self.dft
    }

    /// Checkpoints per batch.
    pub fn batch(&self) -> usize {
        self.batch
    }

    fn probe(&mut self, ctx: &RunContext) -> &ModelProbe<'g> {
        let (gpu, batch) = (self.gpu, self.batch);
        self.probe
            .get_or_insert_with(|| ModelProbe::new(gpu, &ctx.spec, batch, &ctx.data, Readout::Everything, Some(ctx.cfg.loss_kind())))
    }

    /// Scores of the attribution variants of one checkpoint, the variants run as the
    /// attribution probe's models in equal groups.
    fn attribution_scores(&mut self, ctx: &RunContext, models: &[Vec<f32>]) -> Vec<Score> {
        let groups = models.len().div_ceil(MAX_ATTRIBUTION_GROUP);
        let per_group = models.len().div_ceil(groups);
        let gpu = self.gpu;
        let probe = self.attribution.get_or_insert_with(|| ModelProbe::new(gpu, &ctx.spec, per_group, &ctx.data, Readout::Logits, None));
        assert_eq!(probe.runs(), per_group, "every checkpoint of a run has the same variants");
        let classes = ctx.spec.classes();
        let mut scores = Vec::with_capacity(models.len());
        for group in models.chunks(per_group) {
            let refs: Vec<&[f32]> = group.iter().map(Vec::as_slice).collect();
            probe.load(&refs);
            let acts = probe.forward(&ctx.data);
            scores.extend(acts[..group.len()].iter().map(|a| score(&a.logits, classes, &ctx.data.targets)));
        }
        scores
    }

    /// Everything the CPU half needs for `batch` (at most [`Gatherer::batch`] checkpoints),
    /// with the key frequencies of the last checkpoint and each checkpoint's previous W1.
    pub fn gather(&mut self, ctx: &RunContext, batch: Vec<Loaded>, key_final: &[usize], timings: &mut Timings) -> Vec<Gathered> {
        assert!(batch.len() <= self.batch, "a batch of {} checkpoints for a probe of {}", batch.len(), self.batch);
        let p = ctx.p;
        let unembed = unembed_name(&ctx.spec);
        let matrices: Vec<(Matrix, Matrix)> =
            batch.iter().map(|l| (ctx.order.apply(&l.weights.w_e(p)), ctx.order.apply(&l.weights.matrix(unembed)))).collect();
        // Always 2·R matrices (the last repeated), so each one's transform is the same
        // program whatever batch it comes in.
        let spectra = timings.time("spectrum", || {
            let mut all: Vec<Matrix> = matrices.iter().flat_map(|(we, wu)| [we.clone(), wu.clone()]).collect();
            while all.len() < 2 * self.batch {
                all.extend_from_within(all.len() - 2..);
            }
            TokenSpectrum::of_batch(&self.dft, &all)
        });

        let any = |f: Family| batch.iter().any(|l| l.families.contains(&f));
        let needs_probe = batch.iter().any(|l| l.families.iter().any(|f| f.uses_probe()));
        let mut acts: Vec<Option<Activations>> = batch.iter().map(|_| None).collect();
        let mut gradients: Vec<Option<Vec<f64>>> = batch.iter().map(|_| None).collect();
        if needs_probe {
            let flats: Vec<Vec<f32>> = batch.iter().map(|l| l.weights.flat()).collect();
            let refs: Vec<&[f32]> = flats.iter().map(Vec::as_slice).collect();
            let forward = timings.time("probe", || {
                let probe = self.probe(ctx);
                probe.load(&refs);
                probe.forward(&ctx.data)
            });
            acts = forward.into_iter().take(batch.len()).map(Some).collect();
            if any(Family::Dynamics) && w1_name(&ctx.spec).is_some() {
                let probe = self.probe.as_ref().expect("built above");
                let grads = timings.time("dynamics", || probe.train_gradients(&ctx.data));
                gradients = grads.into_iter().take(batch.len()).map(Some).collect();
            }
        }

        let mut gathered = Vec::with_capacity(batch.len());
        let spectra = spectra.chunks(2).take(batch.len()).map(|s| (s[0].clone(), s[1].clone()));
        for (((Loaded { weights, families, w1_prev }, (we, wu)), (we_spectrum, wu_spectrum)), (acts, gradient)) in
            batch.into_iter().zip(matrices).zip(spectra).zip(acts.into_iter().zip(gradients))
        {
            let wants = |f: Family| families.contains(&f);
            let neuron_energy = match (&acts, &ctx.grid) {
                (Some(a), Some(grid)) if wants(Family::Neurons) && !a.mlp_post.is_empty() => timings.time("neurons", || {
                    let width = a.mlp_post[0].len() / ctx.data.rows();
                    let grids = grids_from_pair_major(&grid.gather(&a.mlp_post[0], width), grid.n, width);
                    Some(grid_frequency_energy(&self.dft, &grids, width, grid.n))
                }),
                _ => None,
            };
            let fsd_components = (wants(Family::Fsd) && acts.is_some()).then(|| {
                timings.time("fsd", || self.fsd_components(ctx, acts.as_ref().expect("checked"), &we_spectrum, &wu_spectrum))
            });
            let align_2d = (wants(Family::Alignment) && !key_final.is_empty())
                .then(|| timings.time("alignment", || align_2d_z(&self.dft, &we, key_final.len(), ALIGN_2D_PERMUTATIONS, ALIGN_2D_SEED)));
            let attribution = wants(Family::Attribution).then(|| {
                timings.time("attribution", || {
                    let variants = attribution_variants(&weights.w_e(p), ctx.order, &we_spectrum);
                    let models: Vec<Vec<f32>> = variants.iter().map(|(_, m)| weights.flat_with_embedding(m)).collect();
                    let scores = self.attribution_scores(ctx, &models);
                    let kinds: Vec<Variant> = variants.iter().map(|(v, _)| *v).collect();
                    Attribution::from_scores(&kinds, &scores)
                })
            });
            gathered.push(Gathered {
                weights,
                families,
                we,
                wu,
                we_spectrum,
                wu_spectrum,
                acts,
                gradient,
                neuron_energy,
                fsd_components,
                align_2d,
                attribution,
                w1_prev,
            });
        }
        gathered
    }

    /// FSD's components: W_E and W_U by their token spectra; each head and each MLP block by
    /// its grid energy (when the task's pairs fill the grid).
    fn fsd_components(&self, ctx: &RunContext, acts: &Activations, we: &TokenSpectrum, wu: &TokenSpectrum) -> Vec<Component> {
        let mut components = vec![weight_component("W_E", &we.folded()), weight_component("W_U", &wu.folded())];
        let Some(grid) = &ctx.grid else { return components };
        let rows = ctx.data.rows();
        for (layer, heads) in acts.head_outputs.iter().enumerate() {
            let names = head_names(&ctx.spec, layer);
            let width = heads.len() / rows;
            components.extend(activation_components(&self.dft, &grid.gather(heads, width), grid.n, width, width / names.len(), &names));
        }
        for (block, post) in acts.mlp_post.iter().enumerate() {
            let width = post.len() / rows;
            let names = [format!("MLP{block}")];
            components.extend(activation_components(&self.dft, &grid.gather(post, width), grid.n, width, width, &names));
        }
        components
    }
}
