//! Each run's training and validation examples on the GPU, as the model's token rows.
//! All runs share the task's table; their splits differ by data seed.

use crate::data::{Split, Table};
use crate::gpu::{Buffer, Gpu};
use crate::nn::spec::ModelSpec;

/// One set (train or validation) of every run: rows [R, rows, width] and targets [R, rows].
pub struct DeviceSet {
    pub tokens: Buffer,
    pub targets: Buffer,
    pub rows: usize,
}

pub struct DeviceData {
    pub train: DeviceSet,
    pub val: DeviceSet,
    /// Tokens per row: 4 for the Transformer, 2 for the MLP.
    pub width: usize,
}

/// The model's input row of example i: [x, op, y, =] or [x, y].
fn row(spec: &ModelSpec, table: &Table, i: usize) -> Vec<u32> {
    let (x, y, p) = (table.x[i], table.y[i], table.p);
    match spec {
        ModelSpec::Transformer(_) => crate::data::tokens::sequence(p, x, y).to_vec(),
        ModelSpec::Mlp(_) => vec![x, y],
    }
}

fn upload_set(gpu: &Gpu, label: &str, spec: &ModelSpec, table: &Table, per_run: &[Vec<u32>]) -> DeviceSet {
    let rows = per_run[0].len();
    assert!(per_run.iter().all(|r| r.len() == rows), "every run's {label} set has the same size");
    let tokens: Vec<u32> = per_run.iter().flat_map(|idx| idx.iter().flat_map(|&i| row(spec, table, i as usize))).collect();
    let targets: Vec<u32> = per_run.iter().flat_map(|idx| idx.iter().map(|&i| table.target[i as usize])).collect();
    DeviceSet {
        tokens: gpu.buffer_from(&format!("{label} tokens"), &tokens),
        targets: gpu.buffer_from(&format!("{label} targets"), &targets),
        rows,
    }
}

impl DeviceData {
    pub fn upload(gpu: &Gpu, spec: &ModelSpec, table: &Table, splits: &[Split]) -> DeviceData {
        let train: Vec<Vec<u32>> = splits.iter().map(Split::train_indices).collect();
        let val: Vec<Vec<u32>> = splits.iter().map(Split::val_indices).collect();
        DeviceData {
            train: upload_set(gpu, "train", spec, table, &train),
            val: upload_set(gpu, "validation", spec, table, &val),
            width: spec.seq_len(),
        }
    }
}
