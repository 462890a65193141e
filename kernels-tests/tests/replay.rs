//! The real training step of a small Transformer — minibatch gather, forward, backward,
//! gradient filters, optimizer — replays with zero allocations, pipeline builds, bind
//! groups and readbacks, one submit per batch of updates, whatever the number of steps
//! (epoch boundaries and submits of the most updates included). This file holds a single
//! test so no other test touches the counters.

use grokgpu::config::presets::preset;
use grokgpu::config::{BatchSize, GrokfastEma, RunConfig};
use grokgpu::train::trainer::{Trainer, MAX_STEPS_PER_SUBMIT};
use grokgpu_kernels_tests::gpu;

/// power2022's model and optimizer, shrunk: x / y mod 11, d 8, 2 heads, d_mlp 16, batch 7,
/// with the L1, Grokfast-EMA and ⊥Grad filters on; two runs (seeds 1 and 2).
fn small_runs() -> Vec<RunConfig> {
    let base = preset("power2022").expect("power2022 preset").config;
    let small = RunConfig {
        p: 11,
        d_model: 8,
        heads: 2,
        d_mlp: 16,
        batch_size: BatchSize::Size(7),
        l1: 1e-4,
        grokfast_ema: Some(GrokfastEma { alpha: 0.9, lambda: 2.0 }),
        ortho_grad: true,
        ..base
    };
    [1, 2].iter().map(|&seed| RunConfig { seed, data_seed: seed, ..small.clone() }).collect()
}

#[test]
fn training_steps_replay_creating_nothing_and_reading_nothing() {
    let runs = small_runs();
    for r in &runs {
        r.validate().expect("a valid small config");
    }
    let mut trainer = Trainer::new(gpu(), runs).expect("small trainer");
    let labels: Vec<&str> = trainer.step_program().dispatches.iter().map(|d| d.label).collect();
    for wanted in ["gather_batch", "filter_gradient", "ortho_apply", "adamw_update"] {
        assert!(labels.contains(&wanted), "the step program has no {wanted}: {labels:?}");
    }

    trainer.train(1);
    gpu().wait();
    let before = gpu().counters();
    // 3 + 64 + 64 + 5 updates: 4 submits (the second and third the largest), and with
    // 55 training rows in batches of 7, several epoch boundaries and new permutations.
    let steps = [3, MAX_STEPS_PER_SUBMIT as u64, MAX_STEPS_PER_SUBMIT as u64 + 5];
    for s in steps {
        trainer.train(s);
    }
    gpu().wait();
    let after = gpu().counters();
    assert_eq!(after.buffers_created, before.buffers_created, "replay allocated buffers");
    assert_eq!(after.pipelines_created, before.pipelines_created, "replay built pipelines");
    assert_eq!(after.bind_groups_created, before.bind_groups_created, "replay created bind groups");
    assert_eq!(after.readbacks, before.readbacks, "replay read back");
    assert_eq!(after.submits, before.submits + 4, "one submit per {MAX_STEPS_PER_SUBMIT} updates at most");
    assert_eq!(trainer.step, 1 + 3 + 2 * MAX_STEPS_PER_SUBMIT as u64 + 5);

    // The GPU's update counter agrees: every replayed update ran the optimizer.
    let counts: Vec<u64> = trainer.states().iter().map(|s| s.step).collect();
    assert_eq!(counts, vec![trainer.step; 2]);
}
