//! `grokgpu devices`: every adapter, its backend, type and key limits; the chosen one marked.

use grokgpu::gpu::describe_adapters;
use grokgpu::Result;

pub fn run() -> Result<()> {
    let adapters = describe_adapters()?;
    for a in &adapters {
        let mark = if a.chosen { "*" } else { " " };
        println!("{mark} {}  [{} · {}]", a.name, a.backend, a.device_type);
        if !a.driver.is_empty() {
            println!("    driver: {}", a.driver);
        }
        println!(
            "    max buffer {} MiB · max storage binding {} MiB · workgroup memory {} KiB · {} invocations/workgroup · timestamps {}",
            a.max_buffer_bytes >> 20,
            a.max_storage_binding_bytes >> 20,
            a.max_workgroup_storage_bytes >> 10,
            a.max_invocations_per_workgroup,
            if a.timestamps { "yes" } else { "no" }
        );
    }
    println!("* = the adapter grokgpu uses (override with GROKGPU_BACKEND and GROKGPU_ADAPTER)");
    if adapters.iter().any(|a| a.chosen && a.device_type == "Cpu") {
        eprintln!("warning: the chosen adapter is a software (CPU) device; it is far slower than a GPU");
    }
    Ok(())
}
