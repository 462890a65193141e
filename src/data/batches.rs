//! Minibatch order (docs/runs.md): a seeded permutation of the train set per epoch, consecutive
//! batches, the last partial batch dropped.
//!
//! Epoch e's permutation comes from `Rng::new(seed).fork(stream::BATCH_ORDER).fork(e)`, so
//! the batch of any update is a pure function of (seed, update): a resumed run needs no
//! saved generator state to continue the exact same sequence.

use crate::rng::{stream, Rng};

#[derive(Clone, Debug)]
pub struct BatchSchedule {
    order: Rng,
    train_len: usize,
    batch: usize,
}

impl BatchSchedule {
    /// `batch` examples per update out of `train_len` (1 ≤ batch ≤ train_len).
    pub fn new(seed: u64, train_len: usize, batch: usize) -> BatchSchedule {
        assert!(batch >= 1 && batch <= train_len, "batch {batch} must be in 1..={train_len}");
        BatchSchedule { order: Rng::new(seed).fork(stream::BATCH_ORDER), train_len, batch }
    }

    pub fn batch_size(&self) -> usize {
        self.batch
    }

    /// Updates per epoch: ⌊train_len / batch⌋.
    pub fn batches_per_epoch(&self) -> usize {
        self.train_len / self.batch
    }

    /// Epoch e's order of train-set positions (0..train_len). Full-batch training keeps
    /// ascending order: the batch is the same set every step, so shuffling it would only
    /// reorder float sums.
    pub fn epoch_permutation(&self, epoch: u64) -> Vec<u32> {
        if self.batch == self.train_len {
            return (0..self.train_len as u32).collect();
        }
        self.order.fork(epoch).permutation(self.train_len)
    }

    /// Train-set positions of update t = 1, 2, … (index into `Split::train_indices`).
    pub fn batch_positions(&self, update: u64) -> Vec<u32> {
        assert!(update >= 1, "updates count from 1");
        let per_epoch = self.batches_per_epoch() as u64;
        let (epoch, k) = ((update - 1) / per_epoch, ((update - 1) % per_epoch) as usize);
        self.epoch_permutation(epoch)[k * self.batch..(k + 1) * self.batch].to_vec()
    }

    /// Table indices of update t's examples, given the ascending train indices.
    pub fn batch_examples(&self, update: u64, train_indices: &[u32]) -> Vec<u32> {
        self.batch_positions(update).iter().map(|&i| train_indices[i as usize]).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_epoch_covers_each_example_at_most_once_and_drops_the_tail() {
        let s = BatchSchedule::new(0, 10, 3);
        assert_eq!(s.batches_per_epoch(), 3);
        let mut seen: Vec<u32> = (1..=3).flat_map(|t| s.batch_positions(t)).collect();
        assert_eq!(seen.len(), 9);
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen.len(), 9);
        assert_eq!(s.batch_positions(4), s.epoch_permutation(1)[..3]);
    }

    #[test]
    fn epochs_differ_and_seeds_differ() {
        let s = BatchSchedule::new(1, 100, 10);
        assert_ne!(s.epoch_permutation(0), s.epoch_permutation(1));
        assert_ne!(s.epoch_permutation(0), BatchSchedule::new(2, 100, 10).epoch_permutation(0));
        assert_eq!(s.batch_positions(17), BatchSchedule::new(1, 100, 10).batch_positions(17));
    }

    #[test]
    fn full_batch_is_the_whole_train_set_in_order() {
        let s = BatchSchedule::new(0, 5, 5);
        assert_eq!(s.batch_examples(3, &[2, 4, 6, 8, 9]), [2, 4, 6, 8, 9]);
    }
}
