//! The analysis families `grokgpu analyze --only` selects, and what each one needs.

use crate::{choice_enum, Result};

choice_enum!(
    /// One family of docs/analyses.md, computed and recorded as a unit.
    Family, "analysis", {
        /// § 1: token spectra of W_E and W_U, key frequencies, bands.
        Spectrum = "spectrum",
        /// § 2: n_eff, Gini, ℓ1/ℓ2 of W_E and W_U.
        Sparsity = "sparsity",
        /// § 3: 1D and 2D alignment with the key frequencies.
        Alignment = "alignment",
        /// § 4: linear-phase R² and token phase coherence.
        Phase = "phase",
        /// § 1: Nanda's neuron clusters of the first MLP block.
        Neurons = "neurons",
        /// § 5: circuit competition.
        Circuits = "circuits",
        /// § 6: excluded and restricted loss.
        Excluded = "excluded",
        /// § 7: spectral attribution.
        Attribution = "attribution",
        /// § 8: frequency synchronization degree.
        Fsd = "fsd",
        /// § 9: participation ratio, TwoNN, H1 persistence, attention entropy.
        Geometry = "geometry",
        /// § 10: norms, W1 motion, gradient and feature agreement, softmax collapse, stages.
        Dynamics = "dynamics",
    }
);

impl Family {
    /// Reads the model's activations over all pairs.
    pub fn uses_probe(self) -> bool {
        matches!(self, Family::Neurons | Family::Circuits | Family::Excluded | Family::Fsd | Family::Geometry | Family::Dynamics)
    }

    /// Built on the Fourier basis of Z_p (docs/analyses.md §§ 1–8): meaningless where the
    /// numbers are not residues mod p (the S₅ tasks).
    pub fn uses_fourier_basis(self) -> bool {
        !matches!(self, Family::Geometry | Family::Dynamics)
    }

    /// Depends on `key_freqs_final`, so it is recomputed when the last checkpoint changes it.
    pub fn uses_final_keys(self) -> bool {
        matches!(self, Family::Alignment | Family::Phase | Family::Circuits | Family::Excluded)
    }

    /// "a,b,c" → families, in the order of [`Family::ALL`] without repeats.
    pub fn parse_list(list: &str) -> Result<Vec<Family>> {
        let named = list.split(',').map(|s| s.trim().parse()).collect::<Result<Vec<Family>>>()?;
        Ok(Family::ALL.iter().copied().filter(|f| named.contains(f)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_in_canonical_order() {
        assert_eq!(Family::parse_list("fsd, spectrum,fsd").unwrap(), vec![Family::Spectrum, Family::Fsd]);
        let e = Family::parse_list("spectrum,spectra").unwrap_err().to_string();
        assert!(e.starts_with("unknown analysis 'spectra' (expected one of: spectrum, sparsity,"), "{e}");
    }
}
