//! A traced program replays with zero allocations, pipeline builds, bind groups and
//! readbacks. This file holds a single test so no other test touches the counters.

use grokgpu::gpu::Program;
use grokgpu::tensor::{ops::elementwise, Tape};
use grokgpu_kernels_tests::{gpu, upload, Rng};

#[test]
fn replay_creates_nothing_and_reads_nothing() {
    let mut rng = Rng::new(7);
    let mut tape = Tape::new(gpu());
    let x = tape.param(upload(&rng.vec(3 * 130, 1.0)), &[3, 130]);
    let h = elementwise::gelu(&mut tape, x);
    let y = elementwise::add_scaled(&mut tape, h, x, 0.5);
    let (seed, _) = tape.grad_target(y).unwrap();
    gpu().write(&seed, &vec![1.0f32; 3 * 130]);
    let mut step = tape.forward_program().clone();
    step.extend(tape.backward());
    assert!(!step.is_empty());

    gpu().run(&step);
    let before = gpu().counters();
    for _ in 0..10 {
        gpu().replay(&step, 3);
    }
    gpu().replay_all(&[&step, &Program::new()], 2);
    gpu().wait();
    let after = gpu().counters();
    assert_eq!(after.buffers_created, before.buffers_created, "replay allocated buffers");
    assert_eq!(after.pipelines_created, before.pipelines_created, "replay built pipelines");
    assert_eq!(after.bind_groups_created, before.bind_groups_created, "replay created bind groups");
    assert_eq!(after.readbacks, before.readbacks, "replay read back");
    assert_eq!(after.submits, before.submits + 11, "one submit per replay call");
}
