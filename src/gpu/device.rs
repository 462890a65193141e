//! The opened device: queue, kernel cache, and the counters that prove a replayed
//! step allocates nothing and reads nothing back.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use super::adapter;
use super::kernel::PipelineKey;
use crate::error::{Error, Result};

/// Counts of the expensive things a training step must never do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GpuCounters {
    pub buffers_created: u64,
    pub pipelines_created: u64,
    pub bind_groups_created: u64,
    pub readbacks: u64,
    pub submits: u64,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub buffers_created: AtomicU64,
    pub pipelines_created: AtomicU64,
    pub bind_groups_created: AtomicU64,
    pub readbacks: AtomicU64,
    pub submits: AtomicU64,
}

/// One opened GPU. Cheap to share by reference; every buffer, pipeline and bind
/// group is created through it so the counters see them.
pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    pub features: wgpu::Features,
    pub(crate) pipelines: Mutex<HashMap<PipelineKey, Arc<wgpu::ComputePipeline>>>,
    pub(crate) layouts: Mutex<HashMap<Vec<super::Access>, Arc<wgpu::BindGroupLayout>>>,
    pub(crate) counters: Counters,
    /// Kernel variant chosen per key (e.g. a matmul shape), see [`Gpu::choice`].
    choices: Mutex<BTreeMap<String, String>>,
    /// Keys asked for since [`Gpu::start_recording`].
    used: Mutex<BTreeSet<String>>,
}

impl Gpu {
    /// Opens the preferred adapter (see `adapter::choose`). Prints one warning line
    /// on stderr when it is a software (CPU) adapter, unless `quiet`.
    pub fn open(quiet: bool) -> Result<Gpu> {
        let instance = adapter::instance();
        let adapters = adapter::ranked_adapters(&instance);
        let chosen = adapter::choose(&adapters)?;
        let adapter = &adapters[chosen];
        let info = adapter.get_info();
        if adapter::is_software(&info) && !quiet {
            eprintln!(
                "warning: running on {} ({:?}), a software adapter on the CPU; it is far slower than a GPU",
                info.name, info.backend
            );
        }
        // Subgroups serve the CPU device's matmul family that shares A across lanes.
        let wanted = wgpu::Features::TIMESTAMP_QUERY | wgpu::Features::TIMESTAMP_QUERY_INSIDE_ENCODERS | wgpu::Features::SUBGROUP;
        let features = adapter.features() & wanted;
        let adapter_limits = adapter.limits();
        // Ask for the adapter's own limits: grokgpu sizes its buffers and workgroups from them.
        let mut limits = wgpu::Limits::defaults();
        limits.max_buffer_size = adapter_limits.max_buffer_size;
        limits.max_storage_buffer_binding_size = adapter_limits.max_storage_buffer_binding_size;
        limits.max_storage_buffers_per_shader_stage = adapter_limits.max_storage_buffers_per_shader_stage;
        limits.max_compute_workgroup_storage_size = adapter_limits.max_compute_workgroup_storage_size;
        limits.max_compute_invocations_per_workgroup = adapter_limits.max_compute_invocations_per_workgroup;
        limits.max_compute_workgroup_size_x = adapter_limits.max_compute_workgroup_size_x;
        limits.max_compute_workgroup_size_y = adapter_limits.max_compute_workgroup_size_y;
        limits.max_compute_workgroups_per_dimension = adapter_limits.max_compute_workgroups_per_dimension;
        let desc = wgpu::DeviceDescriptor {
            label: Some("grokgpu"),
            required_features: features,
            required_limits: limits.clone(),
            ..Default::default()
        };
        let (device, queue) = pollster::block_on(adapter.request_device(&desc))
            .map_err(|e| Error::msg(format!("could not open {}: {e}", info.name)))?;
        // wgpu reports validation and out-of-memory errors here, after the call that caused
        // them has returned, so there is no caller left to hand an error to; its default is a
        // panic. One error line and a failed exit say the same without a backtrace.
        device.on_uncaptured_error(Arc::new(|e: wgpu::Error| {
            let text = e.to_string();
            let one_line: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
            eprintln!("error: the GPU device reported: {}", one_line.join(" · "));
            std::process::exit(1);
        }));
        Ok(Gpu {
            device,
            queue,
            info,
            limits,
            features,
            pipelines: Mutex::new(HashMap::new()),
            layouts: Mutex::new(HashMap::new()),
            counters: Counters::default(),
            choices: Mutex::new(BTreeMap::new()),
            used: Mutex::new(BTreeSet::new()),
        })
    }

    /// A process-wide device for tests and tools that open one GPU and share it.
    pub fn shared() -> &'static Gpu {
        static SHARED: std::sync::OnceLock<Gpu> = std::sync::OnceLock::new();
        SHARED.get_or_init(|| match Gpu::open(true) {
            Ok(gpu) => gpu,
            Err(e) => panic!("{e}"),
        })
    }

    /// "name (backend)" for logs and config files.
    pub fn adapter_name(&self) -> String {
        format!("{} ({:?})", self.info.name, self.info.backend)
    }

    pub fn is_software(&self) -> bool {
        adapter::is_software(&self.info)
    }

    /// Whether every subgroup has exactly `lanes` invocations and subgroup operations are on.
    pub fn has_subgroups_of(&self, lanes: u32) -> bool {
        self.features.contains(wgpu::Features::SUBGROUP) && self.info.subgroup_min_size == lanes && self.info.subgroup_max_size == lanes
    }

    pub fn has_timestamps(&self) -> bool {
        self.features.contains(wgpu::Features::TIMESTAMP_QUERY)
    }

    pub fn counters(&self) -> GpuCounters {
        let c = &self.counters;
        GpuCounters {
            buffers_created: c.buffers_created.load(Ordering::Relaxed),
            pipelines_created: c.pipelines_created.load(Ordering::Relaxed),
            bind_groups_created: c.bind_groups_created.load(Ordering::Relaxed),
            readbacks: c.readbacks.load(Ordering::Relaxed),
            submits: c.submits.load(Ordering::Relaxed),
        }
    }

    /// Blocks until all submitted work has finished.
    pub fn wait(&self) {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .expect("the GPU device was lost");
    }

    /// The kernel variant for `key` on this device, chosen by `choose` on the key's first
    /// use; every later launch with that key takes the same one, so a program traced twice
    /// runs the same kernels, and [`Gpu::choices`] lists what a run used.
    pub fn choice(&self, key: &str, choose: impl FnOnce() -> String) -> String {
        self.used.lock().unwrap().insert(key.to_string());
        let mut choices = self.choices.lock().unwrap();
        if let Some(name) = choices.get(key) {
            return name.clone();
        }
        let name = choose();
        choices.insert(key.to_string(), name.clone());
        name
    }

    /// Every (key, variant) chosen or pinned so far.
    pub fn choices(&self) -> BTreeMap<String, String> {
        self.choices.lock().unwrap().clone()
    }

    /// Starts listing the keys launches ask for (e.g. while one group of runs is traced).
    pub fn start_recording(&self) {
        self.used.lock().unwrap().clear();
    }

    /// The (key, variant) of every key asked for since [`Gpu::start_recording`].
    pub fn recorded_choices(&self) -> BTreeMap<String, String> {
        let used = self.used.lock().unwrap();
        self.choices().into_iter().filter(|(k, _)| used.contains(k)).collect()
    }

    /// Fixes the variants of these keys (e.g. those a run recorded), replacing any choice.
    pub fn pin_choices(&self, pinned: &BTreeMap<String, String>) {
        self.choices.lock().unwrap().extend(pinned.iter().map(|(k, v)| (k.clone(), v.clone())));
    }

    pub(crate) fn count(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}
