//! The S₅ tasks end to end: a tiny run is trained without `--p` (p becomes the group order),
//! analyzed (the Fourier families skipped in one line, geometry and dynamics recorded),
//! plotted and reported (the figures and tables that apply, none of the Fourier ones), and
//! refused by `intervene` and by a fork at a Fourier precursor.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::Value;

mod common;
use common::{error_line, grokgpu, Scratch};

fn ok(args: &[&str]) -> Output {
    let out = grokgpu(args);
    assert!(out.status.success(), "grokgpu {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// 20 updates of `task` on a small model, minibatches of 256, a checkpoint every 10.
fn train(scratch: &Scratch, name: &str, task: &str, model: &[&str]) -> PathBuf {
    let run = scratch.0.join(name);
    let mut args = vec!["train", "--preset", "quick", "--task", task, "--steps", "20", "--eval-every", "10", "--ckpt-every", "10", "--batch-size", "256", "--out-dir"];
    args.push(run.to_str().unwrap());
    args.extend_from_slice(model);
    let (stdout, _) = text(&ok(&args));
    assert!(!stdout.contains("n_eff"), "no spectral quick-look on S₅: {stdout}");
    run
}

#[test]
fn an_s5_run_trains_analyzes_plots_and_reports_without_the_fourier_analyses() {
    let scratch = Scratch::new("s5", "pipeline");
    let run = train(&scratch, "mlp", "s5_compose", &[]);
    let dir = run.to_str().unwrap();
    let config = json(&run.join("config.json"));
    assert_eq!((config["task"].as_str(), config["p"].as_u64()), (Some("s5_compose"), Some(120)));
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count(), 3);
    assert!(!metrics.contains("n_eff"));

    let (stdout, stderr) = text(&ok(&["analyze", "--run-dir", dir]));
    let skips: Vec<&str> = stderr.lines().filter(|l| l.contains("skipping")).collect();
    assert_eq!(
        skips,
        [format!("warning: {dir}: skipping spectrum, sparsity, alignment, phase, neurons, circuits, excluded, attribution, fsd: they are built on the Fourier basis of Z_p and task s5_compose is not arithmetic mod p")],
        "{stderr}"
    );
    assert!(!stdout.contains("key frequencies"), "{stdout}");
    let records: Vec<Value> = std::fs::read_to_string(run.join("analysis.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(records.iter().map(|r| r["step"].as_u64().unwrap()).collect::<Vec<_>>(), [0, 10, 20]);
    let last = &records[2];
    for field in ["pca_pr_we", "twonn_id_wu", "betti1_persistence", "geom.readout.pca_pr", "geom.readout.twonn_id", "geom.readout.beta1", "geom.readout.centroid_beta1", "geom.readout.centroid_plane_h1_persistence", "w1_norm", "grad_cosine_unit", "stage"] {
        assert!(last.get(field).is_some(), "{field} missing from {last}");
    }
    assert!(last["geom.readout.pca_pr"].as_f64().unwrap() >= 1.0);
    for field in ["we_power", "n_eff", "align_1d_key", "phase_r2", "attr_keep", "fsd", "circuit_ratio", "excluded_loss"] {
        assert!(last.get(field).is_none(), "{field} is a Fourier field: {last}");
    }
    let e = error_line(&["analyze", "--run-dir", dir, "--only", "spectrum,fsd"]);
    assert_eq!(e, format!("error: {dir}: no analysis applies: spectrum, fsd do not, as they are built on the Fourier basis of Z_p and task s5_compose is not arithmetic mod p"));

    let (stdout, stderr) = text(&ok(&["plot", "--run-dir", dir]));
    assert!(!stderr.contains("panic"), "{stderr}");
    for figure in ["training_curves.png", "accuracy.png", "loss.png", "intrinsic_dimension.png", "dynamics.png"] {
        assert!(run.join("plots").join(figure).is_file(), "{figure} missing: {stdout}");
    }
    for figure in ["gini_ipr_2d.png", "spectral_attribution_heatmap.png", "fsd.png", "a1_constellation.png", "a7_power_spectrum_2d.png"] {
        assert!(!run.join("plots").join(figure).exists(), "{figure} drawn for S₅");
        assert!(stdout.contains(&format!("{figure}: a Fourier figure of Z_p, and task s5_compose is not arithmetic mod p")), "{stdout}");
    }

    ok(&["report", "--run-dir", dir]);
    let report = std::fs::read_to_string(run.join("report.md")).unwrap();
    assert!(report.contains("s5_compose in S₅"), "{report}");
    assert!(report.contains("Tables 1–3 do not apply: they read the Fourier analyses of Z_p, and task s5_compose is not arithmetic mod p."), "{report}");
    assert!(report.contains("![intrinsic_dimension.png](plots/intrinsic_dimension.png)"));
    assert!(!report.contains("precursor") && !report.contains("a7_power_spectrum_2d"), "{report}");
    assert!(run.join("tables/tableA1.tex").is_file() && !run.join("tables/table1.tex").exists());

    let forks = scratch.0.join("forks");
    let e = error_line(&["fork", "--from", dir, "--at", "fsd-ceiling", "--out-dir", forks.to_str().unwrap()]);
    assert_eq!(e, format!("error: {dir} has no fsd-ceiling: the precursors are Fourier measures of Z_p, and task s5_compose is not arithmetic mod p"));
    let e = error_line(&["intervene", "phase", "--run-dir", dir, "--step", "20"]);
    assert_eq!(e, format!("error: {dir}: interventions edit W_E's spectrum over Z_p, and task s5_compose is not arithmetic mod p"));
}

#[test]
fn a_transformer_on_s5_records_attention_entropy_and_hidden_geometry() {
    let scratch = Scratch::new("s5", "transformer");
    let model = ["--model", "transformer", "--layers", "1", "--d-model", "32", "--heads", "2", "--d-mlp", "64"];
    let run = train(&scratch, "transformer", "s5_compose_inv", &model);
    ok(&["analyze", "--run-dir", run.to_str().unwrap(), "--only", "geometry"]);
    let last: Value = serde_json::from_str(std::fs::read_to_string(run.join("analysis.jsonl")).unwrap().lines().last().unwrap()).unwrap();
    for field in ["attn_entropy_mean", "geom.resid0.pca_pr", "geom.mlp0.centroid_pca_pr", "geom.readout.centroid_beta1"] {
        assert!(last.get(field).is_some(), "{field} missing from {last}");
    }
}

#[test]
fn p_other_than_the_group_order_is_one_error_line() {
    let scratch = Scratch::new("s5", "bad-p");
    let out = scratch.0.join("run");
    let e = error_line(&["train", "--preset", "quick", "--task", "s5_compose", "--p", "97", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(e, "error: p is the group order for task s5_compose: it must be 120, got 97");
    assert!(!out.exists());
    let help = String::from_utf8_lossy(&grokgpu(&["train", "--help"]).stdout).into_owned();
    assert!(help.contains("s5_compose (x∘y) or s5_compose_inv (x∘y⁻¹) in S₅"), "{help}");
}
