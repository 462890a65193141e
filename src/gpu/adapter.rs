//! Adapter discovery and choice: discrete > integrated > virtual > software (CPU),
//! with `GROKGPU_BACKEND` and `GROKGPU_ADAPTER` as overrides.

use crate::error::{Error, Result};

/// What `grokgpu devices` prints for one adapter.
#[derive(Clone, Debug)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    pub max_buffer_bytes: u64,
    pub max_storage_binding_bytes: u64,
    pub max_workgroup_storage_bytes: u32,
    pub max_invocations_per_workgroup: u32,
    pub timestamps: bool,
    pub chosen: bool,
}

pub(crate) fn instance() -> wgpu::Instance {
    // Mesa's GL driver probes Wayland and prints an error line when XDG_RUNTIME_DIR is
    // unset (headless servers, CI); pointing it at the temp dir keeps the output clean.
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        std::env::set_var("XDG_RUNTIME_DIR", std::env::temp_dir());
    }
    let mut desc = wgpu::InstanceDescriptor::new_without_display_handle();
    desc.backends = wgpu::Backends::all();
    wgpu::Instance::new(desc)
}

/// Rank of an adapter type; lower is preferred.
fn type_rank(t: wgpu::DeviceType) -> u8 {
    match t {
        wgpu::DeviceType::DiscreteGpu => 0,
        wgpu::DeviceType::IntegratedGpu => 1,
        wgpu::DeviceType::VirtualGpu => 2,
        wgpu::DeviceType::Other => 3,
        wgpu::DeviceType::Cpu => 4,
    }
}

/// Rank of a backend; the native compute APIs before the GL fallback.
fn backend_rank(b: wgpu::Backend) -> u8 {
    match b {
        wgpu::Backend::Vulkan | wgpu::Backend::Metal | wgpu::Backend::Dx12 => 0,
        _ => 1,
    }
}

fn parse_backend(name: &str) -> Result<wgpu::Backend> {
    match name.to_ascii_lowercase().as_str() {
        "vulkan" | "vk" => Ok(wgpu::Backend::Vulkan),
        "metal" | "mtl" => Ok(wgpu::Backend::Metal),
        "dx12" | "d3d12" => Ok(wgpu::Backend::Dx12),
        "gl" | "gles" | "opengl" => Ok(wgpu::Backend::Gl),
        other => Err(Error::msg(format!(
            "GROKGPU_BACKEND={other} is not a backend; use vulkan, metal, dx12 or gl"
        ))),
    }
}

fn env_nonempty(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.trim().is_empty())
}

/// Every adapter wgpu can see, in preference order.
pub(crate) fn ranked_adapters(instance: &wgpu::Instance) -> Vec<wgpu::Adapter> {
    let mut adapters = pollster::block_on(instance.enumerate_adapters(wgpu::Backends::all()));
    adapters.sort_by_key(|a| {
        let info = a.get_info();
        (type_rank(info.device_type), backend_rank(info.backend))
    });
    adapters
}

/// Index into `adapters` of the one grokgpu should use, honouring the overrides.
pub(crate) fn choose(adapters: &[wgpu::Adapter]) -> Result<usize> {
    if adapters.is_empty() {
        return Err(Error::msg(NO_ADAPTER));
    }
    let backend = env_nonempty("GROKGPU_BACKEND").map(|b| parse_backend(&b)).transpose()?;
    let name = env_nonempty("GROKGPU_ADAPTER").map(|n| n.to_lowercase());
    adapters
        .iter()
        .position(|a| {
            let info = a.get_info();
            backend.is_none_or(|b| info.backend == b)
                && name.as_ref().is_none_or(|n| info.name.to_lowercase().contains(n))
        })
        .ok_or_else(|| {
            let seen: Vec<String> = adapters
                .iter()
                .map(|a| {
                    let i = a.get_info();
                    format!("{} ({:?})", i.name, i.backend)
                })
                .collect();
            Error::msg(format!(
                "no adapter matches GROKGPU_BACKEND/GROKGPU_ADAPTER; available: {}",
                seen.join(", ")
            ))
        })
}

const NO_ADAPTER: &str = "no GPU adapter found. grokgpu needs a Vulkan, Metal or DX12 device \
(or OpenGL as a fallback). Install your GPU's driver, or, to run on the CPU, Mesa's software \
Vulkan driver (Debian/Ubuntu: `apt-get install mesa-vulkan-drivers`; Fedora: `dnf install \
mesa-vulkan-drivers`), then check with `grokgpu devices`.";

/// Summaries of every adapter, the chosen one marked, for `grokgpu devices`.
pub fn describe_adapters() -> Result<Vec<AdapterSummary>> {
    let instance = instance();
    let adapters = ranked_adapters(&instance);
    let chosen = choose(&adapters)?;
    Ok(adapters
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let info = a.get_info();
            let limits = a.limits();
            AdapterSummary {
                name: info.name,
                backend: format!("{:?}", info.backend),
                device_type: format!("{:?}", info.device_type),
                driver: format!("{} {}", info.driver, info.driver_info).trim().to_string(),
                max_buffer_bytes: limits.max_buffer_size,
                max_storage_binding_bytes: limits.max_storage_buffer_binding_size,
                max_workgroup_storage_bytes: limits.max_compute_workgroup_storage_size,
                max_invocations_per_workgroup: limits.max_compute_invocations_per_workgroup,
                timestamps: a.features().contains(wgpu::Features::TIMESTAMP_QUERY),
                chosen: i == chosen,
            }
        })
        .collect())
}

pub(crate) fn is_software(info: &wgpu::AdapterInfo) -> bool {
    info.device_type == wgpu::DeviceType::Cpu
}
