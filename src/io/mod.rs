//! Files: atomic replacement and the safetensors format.

pub mod atomic;
pub mod safetensors;

pub use atomic::write_atomic;

/// A fresh, empty scratch directory for one test (under the system temp dir, per process).
#[cfg(test)]
pub(crate) fn test_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("grokgpu-test-{}", std::process::id())).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
