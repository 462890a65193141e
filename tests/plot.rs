//! `grokgpu plot` through the binary, on synthetic run directories (tests/plot_fixture):
//! every figure is written as a PNG of the promised size, a figure without data is skipped
//! with its reason, and a bad --run-dir is a one-line error; and on two short trained runs,
//! that a run made to diverge is marked on its training curves. The figures stay in
//! target/tmp/plot-*/ for a look.

mod plot_fixture;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const FIGURES: [&str; 17] = [
    "training_curves.png",
    "accuracy.png",
    "loss.png",
    "gini_ipr_2d.png",
    "f_alignment_2d.png",
    "fourier_projection_2d.png",
    "phase_coherence_2d.png",
    "phase_intervention.png",
    "circuit_competition_detailed.png",
    "spectral_attribution_heatmap.png",
    "fsd.png",
    "intrinsic_dimension.png",
    "attention_entropy.png",
    "power_spectrum_evolution.png",
    "dynamics.png",
    "a3_band_evolution.png",
    "a4_dominant_frequency.png",
];

/// A fresh directory under Cargo's scratch folder for integration tests.
fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn plot(dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_grokgpu")).args(["plot", "--run-dir"]).arg(dir).output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Width and height from a PNG's signature and IHDR chunk.
fn png_size(path: &Path) -> (u32, u32) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(bytes.len() > 10_000, "{} is only {} bytes", path.display(), bytes.len());
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "{} is not a PNG", path.display());
    assert_eq!(&bytes[12..16], b"IHDR");
    let be = |i: usize| u32::from_be_bytes(bytes[i..i + 4].try_into().unwrap());
    (be(16), be(20))
}

#[test]
fn every_figure_of_a_full_run() {
    let dir = scratch("plot-full");
    plot_fixture::run_dir(&dir, &["metrics", "analysis", "interventions"]);
    let out = plot(&dir);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    for file in FIGURES {
        let path = dir.join("plots").join(file);
        assert!(text.contains(&format!("wrote {}", path.display())), "{file} not reported written:\n{text}");
        let (w, h) = png_size(&path);
        assert!(w >= 1200 && h >= 800, "{file} is {w}×{h}");
    }
    // A1, A2 and A7 read W_E from checkpoints, which the fixture has none of.
    assert!(text.contains("a7_power_spectrum_2d.png: no checkpoints in"), "{text}");
    assert!(text.ends_with("17 figures written, 3 skipped\n"), "{text}");
}

#[test]
fn figures_without_data_are_skipped_with_the_reason() {
    let dir = scratch("plot-metrics-only");
    plot_fixture::run_dir(&dir, &["metrics"]);
    let out = plot(&dir);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    for file in &FIGURES[..3] {
        assert!(text.contains(&format!("wrote {}", dir.join("plots").join(file).display())), "{text}");
    }
    let gini = dir.join("plots/gini_ipr_2d.png");
    assert!(text.contains(&format!("skipped {}: no analysis.jsonl in {} (run `grokgpu analyze --run-dir {}` first)\n", gini.display(), dir.display(), dir.display())), "{text}");
    assert!(text.contains("phase_intervention.png: no interventions/ in"), "{text}");
    assert!(!gini.exists());
    assert!(text.ends_with("3 figures written, 17 skipped\n"), "{text}");
}

#[test]
fn a_field_that_is_all_null_skips_its_figure() {
    let dir = scratch("plot-null-fsd");
    plot_fixture::run_dir(&dir, &["metrics", "analysis"]);
    let path = dir.join("analysis.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    let nulled: String = text
        .lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["fsd"] = serde_json::Value::Null;
            v.as_object_mut().unwrap().remove("fsd_p");
            v.to_string() + "\n"
        })
        .collect();
    std::fs::write(&path, nulled).unwrap();
    let out = plot(&dir);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("fsd.png: analysis.jsonl holds no values of fsd, fsd_p\n"), "{text}");
    assert!(text.contains("phase_intervention.png: no interventions/"), "{text}");
    assert!(text.ends_with("15 figures written, 5 skipped\n"), "{text}");
}

#[test]
fn a_multi_run_gets_overlays() {
    let dir = scratch("plot-sweep");
    plot_fixture::sweep_dir(&dir);
    let out = plot(&dir);
    let text = stdout(&out);
    assert!(out.status.success(), "{text}");
    for file in ["overlay_val_acc.png", "overlay_train_acc.png", "overlay_val_loss.png", "grok_step_vs_weight_decay.png"] {
        let (w, h) = png_size(&dir.join("plots").join(file));
        assert!(w >= 1200 && h >= 800, "{file} is {w}×{h}");
    }
    assert!(!text.contains("grok_step_vs_seed"), "{text}");
    png_size(&dir.join("weight_decay=1,seed=0/plots/training_curves.png"));
}

#[test]
fn a_bad_run_dir_is_a_one_line_error() {
    let dir = scratch("plot-bad");
    for (target, want) in [(dir.join("missing"), "is not a directory"), (dir.clone(), "holds no run")] {
        let out = plot(&target);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!out.status.success(), "{target:?}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("error: ") && err.contains(want), "{err}");
    }
}

#[test]
fn report_writes_the_tables_as_markdown_and_latex() {
    let dir = scratch("report-full");
    plot_fixture::run_dir(&dir, &["metrics", "analysis", "interventions"]);
    let out = Command::new(env!("CARGO_BIN_EXE_grokgpu")).args(["report", "--run-dir"]).arg(&dir).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    for needle in ["**Table 1: alignment", "| `align_2d_z` |", "**Table 2: phase interventions", "literal @ step", "**Table 3: frequency-band", "| `band_low` |", "**Table A1:", "| precursor: n_eff_half_fall |", "![dynamics.png](plots/dynamics.png)"] {
        assert!(md.contains(needle), "{needle} missing from report.md:\n{md}");
    }
    for table in ["events", "table1", "table2", "table3", "tableA1"] {
        let tex = std::fs::read_to_string(dir.join("tables").join(format!("{table}.tex"))).unwrap();
        assert!(tex.starts_with("\\begin{table}") && tex.contains("\\label{tab:"), "{table}: {tex}");
    }
    assert!(std::fs::read_to_string(dir.join("report.tex")).unwrap().contains("align\\_1d\\_key"));
}

/// Pixels of exactly `rgb` in an RGB or RGBA PNG.
fn pixels_of(path: &Path, rgb: [u8; 3]) -> usize {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    buf[..info.buffer_size()].chunks(channels).filter(|p| p[..3] == rgb).count()
}

#[test]
fn a_run_made_to_diverge_is_marked_on_its_training_curves() {
    let dir = scratch("plot-diverged");
    let run = |name: &str, lr: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_grokgpu"))
            .args(["train", "--preset", "quick", "--optimizer", "sgd", "--lr", lr, "--steps", "30", "--eval-every", "10", "--out-dir"])
            .arg(dir.join(name))
            .output()
            .unwrap();
        (dir.join(name), out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (diverged, ok, stderr) = run("diverged", "10000");
    assert!(!ok && stderr.contains("diverged at step 10"), "{stderr}");
    let (fine, ok, stderr) = run("fine", "0.1");
    assert!(ok, "{stderr}");
    // The mark's colour (style::PURPLE) appears on the diverged run's curves only.
    const MARK: [u8; 3] = [204, 121, 167];
    for (run, marked) in [(&diverged, true), (&fine, false)] {
        let out = plot(run);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        for figure in ["training_curves.png", "accuracy.png", "loss.png"] {
            let count = pixels_of(&run.join("plots").join(figure), MARK);
            assert_eq!(count > 500, marked, "{figure} of {}: {count} pixels of the divergence mark", run.display());
        }
    }
}
