//! The seeded train/validation split: a random subset of size round(train_frac · N).

use crate::rng::{stream, Rng};
use crate::{bail, Result};

/// Which examples of a table are trained on. Index i is example i of the table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Split {
    pub train_mask: Vec<bool>,
}

/// round(train_frac · n), halves rounded away from zero.
pub fn train_size(n: usize, train_frac: f64) -> usize {
    (train_frac * n as f64).round() as usize
}

impl Split {
    /// The first round(train_frac · n) entries of a permutation of 0..n drawn from
    /// `Rng::new(data_seed).fork(stream::SPLIT)` are the train set. Both sets must be
    /// non-empty.
    pub fn new(n: usize, train_frac: f64, data_seed: u64) -> Result<Split> {
        if !(train_frac > 0.0 && train_frac < 1.0) {
            bail!("train_frac must be in (0, 1), got {train_frac}");
        }
        let n_train = train_size(n, train_frac);
        if n_train == 0 || n_train == n {
            let which = if n_train == 0 { "train" } else { "validation" };
            bail!("train_frac {train_frac} of {n} examples leaves the {which} set empty");
        }
        let order = Rng::new(data_seed).fork(stream::SPLIT).permutation(n);
        let mut train_mask = vec![false; n];
        for &i in &order[..n_train] {
            train_mask[i as usize] = true;
        }
        Ok(Split { train_mask })
    }

    /// Train example indices, ascending (the order minibatch permutations index into).
    pub fn train_indices(&self) -> Vec<u32> {
        self.indices(true)
    }

    /// Validation example indices, ascending.
    pub fn val_indices(&self) -> Vec<u32> {
        self.indices(false)
    }

    pub fn train_len(&self) -> usize {
        self.train_mask.iter().filter(|&&m| m).count()
    }

    /// The mask as stored in dataset.safetensors (uint8, 1 = train).
    pub fn mask_u8(&self) -> Vec<u8> {
        self.train_mask.iter().map(|&m| m as u8).collect()
    }

    fn indices(&self, train: bool) -> Vec<u32> {
        (0..self.train_mask.len() as u32).filter(|&i| self.train_mask[i as usize] == train).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_rounding_rule() {
        let s = Split::new(9312, 0.5, 0).unwrap();
        assert_eq!(s.train_len(), 4656);
        assert_eq!(s.val_indices().len(), 4656);
        // 0.3 · 12769 = 3830.7 → 3831.
        assert_eq!(Split::new(12769, 0.3, 0).unwrap().train_len(), 3831);
        // 0.25 · 10 = 2.5 → 3 (away from zero).
        assert_eq!(Split::new(10, 0.25, 0).unwrap().train_len(), 3);
    }

    #[test]
    fn deterministic_per_seed_different_across_seeds() {
        let a = Split::new(1000, 0.4, 7).unwrap();
        assert_eq!(a, Split::new(1000, 0.4, 7).unwrap());
        assert_ne!(a, Split::new(1000, 0.4, 8).unwrap());
    }

    #[test]
    fn train_and_validation_partition_the_table() {
        let s = Split::new(50, 0.3, 1).unwrap();
        let (t, v) = (s.train_indices(), s.val_indices());
        let mut all: Vec<u32> = t.iter().chain(&v).copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..50).collect::<Vec<u32>>());
        assert!(t.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(s.mask_u8().iter().map(|&m| m as usize).sum::<usize>(), 15);
    }

    #[test]
    fn empty_sets_and_bad_fractions_are_errors() {
        assert_eq!(Split::new(10, 0.01, 0).unwrap_err().to_string(), "train_frac 0.01 of 10 examples leaves the train set empty");
        assert_eq!(Split::new(10, 0.99, 0).unwrap_err().to_string(), "train_frac 0.99 of 10 examples leaves the validation set empty");
        assert_eq!(Split::new(10, 1.0, 0).unwrap_err().to_string(), "train_frac must be in (0, 1), got 1");
        assert!(Split::new(10, f64::NAN, 0).is_err());
    }
}
