//! Minibatches on the GPU: each submit of k updates uploads one index table (the k
//! batches of every run, from the seeded per-epoch permutations) and the step program's
//! first dispatch gathers the current batch's rows by the GPU update counter.

use crate::data::batches::BatchSchedule;
use crate::gpu::{shaders, Access, Buffer, Dispatch, Gpu, Kernel};

const GATHER: Kernel = Kernel {
    file: "batch.wgsl",
    source: shaders::BATCH,
    entry: "gather_batch",
    bindings: &[
        Access::Uniform,
        Access::Read,
        Access::Read,
        Access::Read,
        Access::Read,
        Access::Read,
        Access::ReadWrite,
        Access::ReadWrite,
    ],
};

#[repr(C)]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
struct Params {
    runs: u32,
    batch: u32,
    width: u32,
    table_steps: u32,
    train_rows: u32,
    _pad: [u32; 3],
}

/// The minibatch feed of R runs: schedules, the index table and the gathered batch.
pub struct MinibatchFeed {
    schedules: Vec<BatchSchedule>,
    /// Each run's current epoch and its permutation, drawn once per epoch.
    epochs: Vec<(u64, Vec<u32>)>,
    batch: usize,
    /// Updates one table covers: the most a single submit may replay.
    pub max_steps: usize,
    table: Buffer,
    first_step: Buffer,
    pub tokens: Buffer,
    pub targets: Buffer,
    gather: Dispatch,
}

impl MinibatchFeed {
    /// `train_tokens` [R, train_rows, width] and `train_targets` [R, train_rows]; the
    /// per-run update counter `step_count` [R] is the optimizer's.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        gpu: &Gpu,
        schedules: Vec<BatchSchedule>,
        train_rows: usize,
        width: usize,
        train_tokens: &Buffer,
        train_targets: &Buffer,
        step_count: &Buffer,
        max_steps: usize,
    ) -> MinibatchFeed {
        let runs = schedules.len();
        let batch = schedules[0].batch_size();
        let table = gpu.buffer("minibatch table", runs * max_steps * batch);
        let first_step = gpu.buffer("minibatch first step", runs);
        let tokens = gpu.buffer("minibatch tokens", runs * batch * width);
        let targets = gpu.buffer("minibatch targets", runs * batch);
        let params = Params {
            runs: runs as u32,
            batch: batch as u32,
            width: width as u32,
            table_steps: max_steps as u32,
            train_rows: train_rows as u32,
            _pad: [0; 3],
        };
        let uniform = gpu.uniform("minibatch params", &params);
        let gather = gpu.dispatch(
            &GATHER,
            &[],
            &[&uniform, step_count, &first_step, &table, train_tokens, train_targets, &tokens, &targets],
            [batch.div_ceil(64) as u32, runs as u32, 1],
        );
        let epochs = schedules.iter().map(|s| (0, s.epoch_permutation(0))).collect();
        MinibatchFeed { schedules, epochs, batch, max_steps, table, first_step, tokens, targets, gather }
    }

    /// The step program's first dispatch.
    pub fn gather(&self) -> &Dispatch {
        &self.gather
    }

    /// Uploads the batches of updates `done + 1 ..= done + steps` (one upload per submit).
    /// Update t uses batch (t−1) mod E of epoch (t−1) div E, as `BatchSchedule` defines.
    pub fn prepare(&mut self, gpu: &Gpu, done: u64, steps: usize) {
        assert!(steps <= self.max_steps, "a submit covers at most {} updates", self.max_steps);
        let mut table = Vec::with_capacity(self.schedules.len() * self.max_steps * self.batch);
        for (schedule, (epoch, perm)) in self.schedules.iter().zip(&mut self.epochs) {
            let per_epoch = schedule.batches_per_epoch() as u64;
            for s in 0..self.max_steps as u64 {
                if s >= steps as u64 {
                    table.extend(std::iter::repeat_n(0u32, self.batch));
                    continue;
                }
                let update = done + 1 + s;
                let (e, k) = ((update - 1) / per_epoch, ((update - 1) % per_epoch) as usize);
                if e != *epoch {
                    *epoch = e;
                    *perm = schedule.epoch_permutation(e);
                }
                table.extend_from_slice(&perm[k * self.batch..(k + 1) * self.batch]);
            }
        }
        gpu.write(&self.table, &table);
        gpu.write(&self.first_step, &vec![done as u32; self.schedules.len()]);
    }
}
