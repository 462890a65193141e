//! Timing a replayed program: GPU timestamps where the adapter has them, wall clock always.
//! Benchmarks only: each call allocates and reads back.

use std::time::Instant;

use super::device::Gpu;
use super::program::Program;

/// How long `times` back-to-back replays of a program took.
#[derive(Clone, Copy, Debug)]
pub struct Timing {
    /// Between the pass's first and last timestamp, when the adapter has timestamp queries.
    pub gpu_seconds: Option<f64>,
    /// From submit to the GPU going idle, as the host saw it.
    pub wall_seconds: f64,
}

impl Timing {
    /// The GPU's own figure where there is one, else the wall clock.
    pub fn seconds(&self) -> f64 {
        self.gpu_seconds.unwrap_or(self.wall_seconds)
    }
}

impl Gpu {
    /// Replays `program` `times` times in one compute pass and one submit, and times it.
    pub fn time_replay(&self, program: &Program, times: usize) -> Timing {
        let queries = self.has_timestamps().then(|| {
            let set = self.device.create_query_set(&wgpu::QuerySetDescriptor {
                label: Some("timing"),
                ty: wgpu::QueryType::Timestamp,
                count: 2,
            });
            let buffer = |label, usage| {
                Gpu::count(&self.counters.buffers_created);
                self.device.create_buffer(&wgpu::BufferDescriptor { label: Some(label), size: 16, usage, mapped_at_creation: false })
            };
            let resolved = buffer("timestamps", wgpu::BufferUsages::QUERY_RESOLVE | wgpu::BufferUsages::COPY_SRC);
            let staging = buffer("timestamps readback", wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST);
            (set, resolved, staging)
        });
        let mut encoder = self.device.create_command_encoder(&wgpu::CommandEncoderDescriptor { label: Some("timed replay") });
        {
            let timestamp_writes = queries.as_ref().map(|(set, _, _)| wgpu::ComputePassTimestampWrites {
                query_set: set,
                beginning_of_pass_write_index: Some(0),
                end_of_pass_write_index: Some(1),
            });
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor { label: Some("timed replay"), timestamp_writes });
            for _ in 0..times {
                program.encode(&mut pass);
            }
        }
        if let Some((set, resolved, staging)) = &queries {
            encoder.resolve_query_set(set, 0..2, resolved, 0);
            encoder.copy_buffer_to_buffer(resolved, 0, staging, 0, 16);
        }
        let start = Instant::now();
        Gpu::count(&self.counters.submits);
        self.queue.submit([encoder.finish()]);
        self.wait();
        let wall_seconds = start.elapsed().as_secs_f64();
        let gpu_seconds = queries.map(|(_, _, staging)| {
            Gpu::count(&self.counters.readbacks);
            let slice = staging.slice(..);
            slice.map_async(wgpu::MapMode::Read, |r| r.expect("mapping the timestamp buffer failed"));
            self.wait();
            let ticks: [u64; 2] = {
                let view = slice.get_mapped_range().expect("timestamp buffer was not mapped");
                bytemuck::pod_read_unaligned(&view[..16])
            };
            ticks[1].saturating_sub(ticks[0]) as f64 * self.queue.get_timestamp_period() as f64 * 1e-9
        });
        Timing { gpu_seconds, wall_seconds }
    }
}
