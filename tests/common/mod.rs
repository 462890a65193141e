//! Helpers the end-to-end tests share: running the binary, scratch directories, and reading a
//! failed command's one error line. Each test file is its own crate and uses some of them.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// Runs the grokgpu binary built for these tests.
pub fn grokgpu(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grokgpu")).args(args).output().expect("grokgpu runs")
}

/// An empty scratch directory `grokgpu-<suite>-<name>-<pid>` under the system's temporary
/// directory (left in place, for a look after a failure).
pub fn scratch(suite: &str, name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("grokgpu-{suite}-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A scratch directory, created now and removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(suite: &str, name: &str) -> Scratch {
        let dir = scratch(suite, name);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The error line of a failed command (stderr may also hold the software-adapter warning).
#[track_caller]
pub fn error_line(args: &[&str]) -> String {
    let out = grokgpu(args);
    assert!(!out.status.success(), "grokgpu {args:?} should fail");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let errors: Vec<&str> = stderr.lines().filter(|l| !l.starts_with("warning:")).collect();
    assert_eq!(errors.len(), 1, "one error line: {stderr}");
    errors[0].to_string()
}
