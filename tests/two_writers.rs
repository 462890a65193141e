//! One writer per run directory: while a training writes a run, a second training (even with
//! `--force`), an analysis and an intervention there are refused with the first one's process
//! id, and the first run finishes intact.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn grokgpu(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_grokgpu"));
    cmd.args(args);
    cmd
}

fn refused(out: Output, holder: u32) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a second writer ran: {stderr}");
    let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{stderr}");
    assert!(errors[0].contains(&format!("in use by process {holder}")), "{stderr}");
}

fn checkpoint_steps(run: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(run.join("checkpoints")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[test]
fn a_second_writer_is_refused_and_the_first_run_is_intact() {
    let root = std::env::temp_dir().join(format!("grokgpu-two-writers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let run = root.join("run");
    let d = run.to_str().unwrap();
    let tiny = ["train", "--preset", "quick", "--p", "11", "--d-model", "8", "--eval-every", "500", "--ckpt-every", "500", "--out-dir", d];

    // Long enough (about 15 s on 2 cores) that the first training still holds the run while
    // the four refused commands start up: 2000 steps of this model take about a second.
    let mut first = grokgpu(&tiny).args(["--steps", "20000"]).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while !run.join("checkpoints/step_00000500.safetensors").exists() {
        assert!(Instant::now() < deadline, "the first training never wrote its second checkpoint");
        assert!(first.try_wait().unwrap().is_none(), "the first training ended too early");
        std::thread::sleep(Duration::from_millis(20));
    }

    refused(grokgpu(&tiny).args(["--steps", "20000", "--force", "--seed", "1"]).output().unwrap(), first.id());
    refused(grokgpu(&tiny).args(["--steps", "20000", "--resume"]).output().unwrap(), first.id());
    refused(grokgpu(&["analyze", "--run-dir", d]).output().unwrap(), first.id());
    refused(grokgpu(&["intervene", "phase", "--run-dir", d, "--step", "0"]).output().unwrap(), first.id());
    // Readers need no lock.
    let plot = grokgpu(&["plot", "--run-dir", d]).output().unwrap();
    assert!(plot.status.success(), "{}", String::from_utf8_lossy(&plot.stderr));

    let status = first.wait().unwrap();
    assert!(status.success(), "the first training failed");
    let config = std::fs::read_to_string(run.join("config.json")).unwrap();
    assert!(config.contains("\"seed\": 0"), "{config}");
    let want: Vec<String> = (0..=20000).step_by(500).map(|s| format!("step_{s:08}.safetensors")).collect();
    assert_eq!(checkpoint_steps(&run), want);
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let steps: Vec<u64> = metrics.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["step"].as_u64().unwrap()).collect();
    assert_eq!(steps, (0..=20000).step_by(500).collect::<Vec<u64>>());
    std::fs::remove_dir_all(&root).unwrap();
}
