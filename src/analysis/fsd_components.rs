//! The components whose frequency profiles FSD compares (docs/analyses.md § 8, seed 004;
//! *proposed*): W_E and W_U by their folded token spectra, and each attention head's output
//! and each MLP block's post-activation at the last position by their energy over the
//! (x, y) grid (summed over the component's channels). All profiles are E_c(k), k = 1..K,
//! over the same n (p, or p − 1 in discrete-log order).

use super::dft::Dft;
use super::fsd::{fsd, Fsd, FSD_NULL_DRAWS};
use super::grid::{grid_frequency_energy, grids_from_pair_major, GridEnergy};
use super::spectrum::FoldedEnergy;

/// One component's profile.
#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    /// "W_E", "W_U", "L0H1" (layer 0, head 1), "MLP0".
    pub name: String,
    /// E_c(k), k = 1..K.
    pub profile: Vec<f64>,
}

/// A weight matrix's component from its folded token spectrum.
pub fn weight_component(name: &str, folded: &FoldedEnergy) -> Component {
    Component { name: name.to_string(), profile: folded.energy[1..].to_vec() }
}

/// Activations over the grid, [n², width] in grid order (row i·n + j), as components of
/// `group` consecutive channels each (a head's d/H columns; an MLP block's every neuron):
/// the channels' grid energies summed. One batched 2D transform for all channels.
pub fn activation_components(dft: &dyn Dft, acts: &[f64], n: usize, width: usize, group: usize, names: &[String]) -> Vec<Component> {
    assert_eq!(width, group * names.len(), "activation_components: {} groups of {group} in width {width}", names.len());
    let energies = grid_frequency_energy(dft, &grids_from_pair_major(acts, n, width), width, n);
    energies
        .chunks(group)
        .zip(names)
        .map(|(channels, name)| Component { name: name.clone(), profile: GridEnergy::sum(channels).by_freq[1..].to_vec() })
        .collect()
}

/// FSD of the components with the standard 999 null draws, seeded by `seed`.
pub fn components_fsd(components: &[Component], seed: u64) -> Fsd {
    let profiles: Vec<Vec<f64>> = components.iter().map(|c| c.profile.clone()).collect();
    fsd(&profiles, FSD_NULL_DRAWS, seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::dft::CpuDft;
    use crate::analysis::matrix::Matrix;
    use crate::analysis::rng::Rng;
    use crate::analysis::spectrum::TokenSpectrum;
    use std::f64::consts::PI;

    /// cos(w_k·(x + y) + φ) summed over `freqs` with 10% noise, as `width` channels.
    fn activations(n: usize, width: usize, freqs: &[usize], rng: &mut Rng) -> Vec<f64> {
        let mut out = Vec::with_capacity(n * n * width);
        for pair in 0..n * n {
            let (x, y) = (pair / n, pair % n);
            for c in 0..width {
                let signal: f64 = freqs.iter().map(|&k| (2.0 * PI * ((k * (x + y)) % n) as f64 / n as f64 + c as f64).cos()).sum();
                out.push(signal + 0.1 * rng.normal());
            }
        }
        out
    }

    #[test]
    fn components_sharing_five_frequencies_synchronize() {
        // The § 8 sanity: two heads, an MLP block and W_E all built on the same 5
        // frequencies with 10% noise ⇒ fsd ≈ 0.99 and p = 1/(B + 1).
        let (n, shared) = (31, [2, 5, 7, 11, 13]);
        let mut rng = Rng::new(1);
        let acts = activations(n, 12, &shared, &mut rng);
        let names: Vec<String> = ["L0H0", "L0H1", "MLP0"].iter().map(|s| s.to_string()).collect();
        let mut components = activation_components(&CpuDft, &acts, n, 12, 4, &names);
        let w_e = Matrix::from_fn(n, 8, |t, j| {
            shared.iter().map(|&k| (2.0 * PI * ((k * t) % n) as f64 / n as f64 + j as f64).cos()).sum::<f64>() + 0.1 * rng.normal()
        });
        components.push(weight_component("W_E", &TokenSpectrum::of(&CpuDft, &w_e).folded()));
        let f = components_fsd(&components, 3);
        assert!((f.fsd - 0.99).abs() < 0.02, "{f:?}");
        assert_eq!(f.fsd_p, 1.0 / (FSD_NULL_DRAWS + 1) as f64);
    }

    #[test]
    fn gaussian_components_do_not() {
        let n = 31;
        let mut rng = Rng::new(2);
        let acts: Vec<f64> = (0..n * n * 16).map(|_| rng.normal()).collect();
        let names: Vec<String> = (0..4).map(|i| format!("L0H{i}")).collect();
        let f = components_fsd(&activation_components(&CpuDft, &acts, n, 16, 4, &names), 5);
        // One draw of the null: |fsd| within 0.15 (its spread at 4 components and K = 15).
        assert!(f.fsd.abs() < 0.15, "{f:?}");
        assert!(f.fsd_p > 0.01, "{f:?}");
    }
}
