//! A program is an ordered list of recorded dispatches. Replaying it encodes those
//! dispatches into one compute pass; nothing is allocated or read back.

use std::sync::Arc;

use super::device::Gpu;

/// One kernel launch with its bindings fixed.
#[derive(Clone, Debug)]
pub struct Dispatch {
    pub label: &'static str,
    pub pipeline: Arc<wgpu::ComputePipeline>,
    pub bind_group: wgpu::BindGroup,
    pub workgroups: [u32; 3],
}

/// An ordered, replayable list of dispatches (e.g. one training step).
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub dispatches: Vec<Dispatch>,
}

impl Program {
    pub fn new() -> Program {
        Program::default()
    }

    pub fn push(&mut self, d: Dispatch) {
        self.dispatches.push(d);
    }

    pub fn extend(&mut self, other: Program) {
        self.dispatches.extend(other.dispatches);
    }

    pub fn len(&self) -> usize {
        self.dispatches.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dispatches.is_empty()
    }

    /// Encodes every dispatch, in order, into `pass`.
    pub fn encode(&self, pass: &mut wgpu::ComputePass<'_>) {
        for d in &self.dispatches {
            pass.set_pipeline(&d.pipeline);
            pass.set_bind_group(0, &d.bind_group, &[]);
            let [x, y, z] = d.workgroups;
            pass.dispatch_workgroups(x, y, z);
        }
    }
}

impl Gpu {
    /// Encodes `program` `times` times back to back into one compute pass and submits
    /// it once. Does not wait.
    pub fn replay(&self, program: &Program, times: usize) {
        self.replay_all(&[program], times);
    }

    /// Encodes each program in order, the whole sequence `times` times, in one submit.
    pub fn replay_all(&self, programs: &[&Program], times: usize) {
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("replay") });
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("replay"), timestamp_writes: None });
            for _ in 0..times {
                for p in programs {
                    p.encode(&mut pass);
                }
            }
        }
        Gpu::count(&self.counters.submits);
        self.queue.submit([encoder.finish()]);
    }

    /// Runs `program` once and waits for it (tests and setup).
    pub fn run(&self, program: &Program) {
        self.replay(program, 1);
        self.wait();
    }
}
