//! The step program's dispatch count is a performance budget (docs/architecture.md, engine rule 3):
//! a power2022 update (minibatch gather, forward, backward, optimizer) stays within 40.

use grokgpu::bench::step::trainer;
use grokgpu_kernels_tests::gpu;

/// 38 since the fusions: dW + dx per linear, dγ + dβ + dx per layernorm, dtable + dpos,
/// the last position's select inside ln_f, and residual gradients that share the layer
/// output's buffer (no copies); it was 59 before them.
const POWER2022_BUDGET: usize = 40;

#[test]
fn power2022_step_fits_the_dispatch_budget() {
    let t = trainer(gpu(), "power2022", 1).expect("power2022 trainer");
    let count = t.dispatches_per_step();
    eprintln!("power2022: {count} dispatches per step");
    assert!(count <= POWER2022_BUDGET, "power2022 step has {count} dispatches, over the budget of {POWER2022_BUDGET}");
}
