//! The kernel registry: a kernel is a WGSL entry point plus the access mode of each
//! binding (group 0, bindings 0..n in order). Pipelines are built once per
//! (kernel, override constants) and cached on the device.

use std::sync::Arc;

use super::buffer::Buffer;
use super::device::Gpu;
use super::program::Dispatch;

/// How a kernel uses one binding.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    Uniform,
    Read,
    ReadWrite,
}

/// One compute entry point. Declared as a `const` next to the Rust code that launches it.
#[derive(Clone, Copy, Debug)]
pub struct Kernel {
    /// Shader file name, for labels and the cache key.
    pub file: &'static str,
    pub source: &'static str,
    pub entry: &'static str,
    pub bindings: &'static [Access],
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct PipelineKey {
    file: &'static str,
    entry: &'static str,
    constants: Vec<(String, u64)>,
}

impl Gpu {
    fn bind_group_layout(&self, bindings: &[Access]) -> Arc<wgpu::BindGroupLayout> {
        let mut layouts = self.layouts.lock().unwrap();
        layouts
            .entry(bindings.to_vec())
            .or_insert_with(|| {
                let entries: Vec<wgpu::BindGroupLayoutEntry> = bindings
                    .iter()
                    .enumerate()
                    .map(|(i, access)| wgpu::BindGroupLayoutEntry {
                        binding: i as u32,
                        visibility: wgpu::ShaderStages::COMPUTE,
                        ty: wgpu::BindingType::Buffer {
                            ty: match access {
                                Access::Uniform => wgpu::BufferBindingType::Uniform,
                                Access::Read => wgpu::BufferBindingType::Storage { read_only: true },
                                Access::ReadWrite => wgpu::BufferBindingType::Storage { read_only: false },
                            },
                            has_dynamic_offset: false,
                            min_binding_size: None,
                        },
                        count: None,
                    })
                    .collect();
                Arc::new(self.device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
                    label: None,
                    entries: &entries,
                }))
            })
            .clone()
    }

    /// The pipeline for `kernel` with WGSL `override` constants set; built on first use.
    pub fn pipeline(&self, kernel: &Kernel, constants: &[(&str, f64)]) -> Arc<wgpu::ComputePipeline> {
        let key = PipelineKey {
            file: kernel.file,
            entry: kernel.entry,
            constants: constants.iter().map(|(k, v)| (k.to_string(), v.to_bits())).collect(),
        };
        if let Some(p) = self.pipelines.lock().unwrap().get(&key) {
            return p.clone();
        }
        Gpu::count(&self.counters.pipelines_created);
        let layout = self.bind_group_layout(kernel.bindings);
        let pipeline_layout = self.device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some(kernel.entry),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let desc = wgpu::ShaderModuleDescriptor { label: Some(kernel.file), source: wgpu::ShaderSource::Wgsl(kernel.source.into()) };
        let module = if super::shaders::TRUSTED.contains(&kernel.file) {
            // SAFETY: these shaders keep every access inside its binding by construction
            // (each states how in its header), and their launchers check the bindings'
            // sizes; the parity tests run them at sizes that are no tile multiple.
            unsafe { self.device.create_shader_module_trusted(desc, wgpu::ShaderRuntimeChecks::unchecked()) }
        } else {
            self.device.create_shader_module(desc)
        };
        let pipeline = Arc::new(self.device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
            label: Some(kernel.entry),
            layout: Some(&pipeline_layout),
            module: &module,
            entry_point: Some(kernel.entry),
            compilation_options: wgpu::PipelineCompilationOptions {
                constants,
                // Every kernel initializes the workgroup memory it reads; skipping the
                // zero fill saves a pass over shared memory per workgroup.
                zero_initialize_workgroup_memory: false,
            },
            cache: None,
        }));
        self.pipelines.lock().unwrap().insert(key, pipeline.clone());
        pipeline
    }

    /// One recorded launch of `kernel` over `buffers` (in binding order). Building it
    /// creates the bind group; replaying it later creates nothing.
    pub fn dispatch(
        &self,
        kernel: &Kernel,
        constants: &[(&str, f64)],
        buffers: &[&Buffer],
        workgroups: [u32; 3],
    ) -> Dispatch {
        assert_eq!(
            buffers.len(),
            kernel.bindings.len(),
            "{}::{} takes {} bindings",
            kernel.file,
            kernel.entry,
            kernel.bindings.len()
        );
        let pipeline = self.pipeline(kernel, constants);
        let layout = self.bind_group_layout(kernel.bindings);
        let entries: Vec<wgpu::BindGroupEntry> = buffers
            .iter()
            .enumerate()
            .map(|(i, b)| wgpu::BindGroupEntry { binding: i as u32, resource: b.binding() })
            .collect();
        Gpu::count(&self.counters.bind_groups_created);
        let bind_group = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some(kernel.entry),
            layout: &layout,
            entries: &entries,
        });
        Dispatch { label: kernel.entry, pipeline, bind_group, workgroups }
    }
}
