//! `grokgpu export --format transformer-lens` end to end through the binary, without Python:
//! tiny runs are trained and exported; the exported tensors must carry exactly the names and
//! shapes of TransformerLens 3.9's `HookedTransformer.state_dict()` (listed here as that
//! library printed them for the same configs), hold the checkpoint's values moved as the
//! mapping says, and compute, run the way HookedTransformer runs them (an f64 forward written
//! from its components below), the logits of grokgpu's f64 reference model.

use std::path::{Path, PathBuf};
use std::process::Output;

use grokgpu::io::safetensors::{self, SafeTensors, TensorData};
use grokgpu_reference::elementwise::gelu;
use grokgpu_reference::params::Param;
use grokgpu_reference::transformer::{transformer_forward, Act, Norm, TransformerConfig, Variant};
use serde_json::Value;

mod common;
use common::{error_line, grokgpu, Scratch};

fn ok(args: &[&str]) -> Output {
    let out = grokgpu(args);
    assert!(out.status.success(), "grokgpu {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

/// A 40-step nanda2023-style run at p = 13, d_model 16, 2 heads, d_mlp 32, a checkpoint
/// every 20 steps, with `extra` flags.
fn train(scratch: &Scratch, name: &str, extra: &[&str]) -> PathBuf {
    let run = scratch.0.join(name);
    let mut args = vec!["train", "--preset", "nanda2023", "--p", "13", "--d-model", "16", "--heads", "2", "--d-mlp", "32"];
    args.extend_from_slice(&["--steps", "40", "--eval-every", "20", "--ckpt-every", "20", "--out-dir", run.to_str().unwrap()]);
    args.extend_from_slice(extra);
    ok(&args);
    run
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// HookedTransformer(cfg).state_dict() names and shapes in TransformerLens 3.9 for n_layers 2,
/// d_model 16, n_heads 2, d_head 8, d_mlp 32, d_vocab 15, d_vocab_out 13, n_ctx 4,
/// normalization_type "LN", act_fn "gelu".
const TL_PRE_NORM_2_LAYERS: &[(&str, &[usize])] = &[
    ("embed.W_E", &[15, 16]),
    ("pos_embed.W_pos", &[4, 16]),
    ("blocks.0.ln1.w", &[16]),
    ("blocks.0.ln1.b", &[16]),
    ("blocks.0.ln2.w", &[16]),
    ("blocks.0.ln2.b", &[16]),
    ("blocks.0.attn.W_Q", &[2, 16, 8]),
    ("blocks.0.attn.W_O", &[2, 8, 16]),
    ("blocks.0.attn.b_Q", &[2, 8]),
    ("blocks.0.attn.b_O", &[16]),
    ("blocks.0.attn.W_K", &[2, 16, 8]),
    ("blocks.0.attn.W_V", &[2, 16, 8]),
    ("blocks.0.attn.b_K", &[2, 8]),
    ("blocks.0.attn.b_V", &[2, 8]),
    ("blocks.0.attn.mask", &[0, 0]),
    ("blocks.0.attn.IGNORE", &[]),
    ("blocks.0.mlp.W_in", &[16, 32]),
    ("blocks.0.mlp.b_in", &[32]),
    ("blocks.0.mlp.W_out", &[32, 16]),
    ("blocks.0.mlp.b_out", &[16]),
    ("blocks.1.ln1.w", &[16]),
    ("blocks.1.ln1.b", &[16]),
    ("blocks.1.ln2.w", &[16]),
    ("blocks.1.ln2.b", &[16]),
    ("blocks.1.attn.W_Q", &[2, 16, 8]),
    ("blocks.1.attn.W_O", &[2, 8, 16]),
    ("blocks.1.attn.b_Q", &[2, 8]),
    ("blocks.1.attn.b_O", &[16]),
    ("blocks.1.attn.W_K", &[2, 16, 8]),
    ("blocks.1.attn.W_V", &[2, 16, 8]),
    ("blocks.1.attn.b_K", &[2, 8]),
    ("blocks.1.attn.b_V", &[2, 8]),
    ("blocks.1.attn.mask", &[0, 0]),
    ("blocks.1.attn.IGNORE", &[]),
    ("blocks.1.mlp.W_in", &[16, 32]),
    ("blocks.1.mlp.b_in", &[32]),
    ("blocks.1.mlp.W_out", &[32, 16]),
    ("blocks.1.mlp.b_out", &[16]),
    ("ln_final.w", &[16]),
    ("ln_final.b", &[16]),
    ("unembed.W_U", &[16, 13]),
    ("unembed.b_U", &[13]),
];

/// The same for n_layers 1, normalization_type None, attn_only True.
const TL_ATTN_ONLY_NO_NORM: &[(&str, &[usize])] = &[
    ("embed.W_E", &[15, 16]),
    ("pos_embed.W_pos", &[4, 16]),
    ("blocks.0.attn.W_Q", &[2, 16, 8]),
    ("blocks.0.attn.W_O", &[2, 8, 16]),
    ("blocks.0.attn.b_Q", &[2, 8]),
    ("blocks.0.attn.b_O", &[16]),
    ("blocks.0.attn.W_K", &[2, 16, 8]),
    ("blocks.0.attn.W_V", &[2, 16, 8]),
    ("blocks.0.attn.b_K", &[2, 8]),
    ("blocks.0.attn.b_V", &[2, 8]),
    ("blocks.0.attn.mask", &[0, 0]),
    ("blocks.0.attn.IGNORE", &[]),
    ("unembed.W_U", &[16, 13]),
    ("unembed.b_U", &[13]),
];

/// A floating-point tensor of a file, widened to f64.
fn values(file: &SafeTensors, name: &str) -> Vec<f64> {
    let t = file.get(name).unwrap_or_else(|| panic!("no tensor {name}"));
    t.data.to_f32().unwrap_or_else(|| panic!("{name} is not floating point")).into_iter().map(f64::from).collect()
}

/// The exported names and shapes are exactly TransformerLens's, mask and IGNORE included
/// with their dtypes and values.
fn check_names_and_shapes(exported: &SafeTensors, want: &[(&str, &[usize])]) {
    let got: Vec<(&str, &[usize])> = exported.tensors.iter().map(|t| (t.name.as_str(), t.shape.as_slice())).collect();
    let mut sorted_got = got.clone();
    let mut sorted_want = want.to_vec();
    sorted_got.sort();
    sorted_want.sort();
    assert_eq!(sorted_got, sorted_want);
    for t in &exported.tensors {
        match t.name.rsplit('.').next().unwrap() {
            "mask" => assert_eq!(t.data, TensorData::Bool(vec![]), "{}", t.name),
            "IGNORE" => assert_eq!(t.data, TensorData::F32(vec![f32::NEG_INFINITY]), "{}", t.name),
            _ => assert!(matches!(t.data, TensorData::F32(_)), "{} is f32", t.name),
        }
    }
}

/// Every value of the export is the checkpoint value the mapping names, bit for bit.
fn check_values(exported: &SafeTensors, ckpt: &SafeTensors, layers: usize, pre_norm: bool, mlp: bool) {
    let (d, heads, dh, m, p) = (16, 2, 8, 32, 13);
    let same = |ours: &str, theirs: &str| assert_eq!(values(exported, theirs), values(ckpt, ours), "{theirs} = {ours}");
    same("embed.weight", "embed.W_E");
    same("pos_embed", "pos_embed.W_pos");
    same("unembed.bias", "unembed.b_U");
    let w_u = values(exported, "unembed.W_U");
    let unembed = values(ckpt, "unembed.weight");
    for (c, x) in (0..p).flat_map(|c| (0..d).map(move |x| (c, x))) {
        assert_eq!(w_u[x * p + c], unembed[c * d + x], "W_U[{x}, {c}]");
    }
    if pre_norm {
        same("ln_f.weight", "ln_final.w");
        same("ln_f.bias", "ln_final.b");
    }
    for i in 0..layers {
        let ours = |n: &str| values(ckpt, &format!("blocks.{i}.{n}"));
        let theirs = |n: &str| values(exported, &format!("blocks.{i}.{n}"));
        if pre_norm {
            for (a, b) in [("ln1.weight", "ln1.w"), ("ln1.bias", "ln1.b"), ("ln2.weight", "ln2.w"), ("ln2.bias", "ln2.b")] {
                assert_eq!(theirs(b), ours(a), "block {i}: {b} = {a}");
            }
        }
        let (qkv, qkv_bias, out_w) = (ours("attn.qkv.weight"), ours("attn.qkv.bias"), ours("attn.out.weight"));
        for (part, w, b) in [(0, "attn.W_Q", "attn.b_Q"), (1, "attn.W_K", "attn.b_K"), (2, "attn.W_V", "attn.b_V")] {
            let (w, b) = (theirs(w), theirs(b));
            for h in 0..heads {
                for j in 0..dh {
                    let row = part * d + h * dh + j;
                    assert_eq!(b[h * dh + j], qkv_bias[row]);
                    for x in 0..d {
                        assert_eq!(w[(h * d + x) * dh + j], qkv[row * d + x], "block {i} part {part} [{h}, {x}, {j}]");
                    }
                }
            }
        }
        let w_o = theirs("attn.W_O");
        for (h, j, k) in (0..heads).flat_map(|h| (0..dh).flat_map(move |j| (0..d).map(move |k| (h, j, k)))) {
            assert_eq!(w_o[(h * dh + j) * d + k], out_w[k * d + h * dh + j], "block {i} W_O[{h}, {j}, {k}]");
        }
        assert_eq!(theirs("attn.b_O"), ours("attn.out.bias"));
        if mlp {
            let (w_in, fc1, w_out, fc2) = (theirs("mlp.W_in"), ours("mlp.fc1.weight"), theirs("mlp.W_out"), ours("mlp.fc2.weight"));
            for (x, n) in (0..d).flat_map(|x| (0..m).map(move |n| (x, n))) {
                assert_eq!(w_in[x * m + n], fc1[n * d + x]);
                assert_eq!(w_out[n * d + x], fc2[x * m + n]);
            }
            assert_eq!(theirs("mlp.b_in"), ours("mlp.fc1.bias"));
            assert_eq!(theirs("mlp.b_out"), ours("mlp.fc2.bias"));
        }
    }
}

/// LayerNorm of one d-vector as TransformerLens's `LayerNorm` computes it (biased variance, eps
/// from the config).
fn layer_norm(x: &[f64], w: &[f64], b: &[f64], eps: f64) -> Vec<f64> {
    let mean = x.iter().sum::<f64>() / x.len() as f64;
    let var = x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / x.len() as f64;
    x.iter().zip(w.iter().zip(b)).map(|(v, (w, b))| (v - mean) / (var + eps).sqrt() * w + b).collect()
}

/// HookedTransformer's forward in f64 from its own tensors and config, for one token row:
/// logits at every position [T, d_vocab_out]. Written from TransformerLens 3.9's components
/// (Embed, PosEmbed, TransformerBlock, Attention with einsums over [head, d_model, d_head],
/// MLP, LayerNorm, Unembed).
fn hooked_transformer_logits(sd: &SafeTensors, cfg: &Value, tokens: &[u32]) -> Vec<Vec<f64>> {
    let u = |k: &str| cfg[k].as_u64().unwrap() as usize;
    let (layers, d, heads, dh, t) = (u("n_layers"), u("d_model"), u("n_heads"), u("d_head"), tokens.len());
    let ln = cfg["normalization_type"].as_str() == Some("LN");
    let attn_only = cfg["attn_only"].as_bool().unwrap();
    let eps = cfg["eps"].as_f64().unwrap();
    let v = |n: &str| values(sd, n);
    let (w_e, w_pos) = (v("embed.W_E"), v("pos_embed.W_pos"));
    let mut resid: Vec<Vec<f64>> = (0..t).map(|pos| (0..d).map(|x| w_e[tokens[pos] as usize * d + x] + w_pos[pos * d + x]).collect()).collect();
    let norm = |h: &[Vec<f64>], name: &str| -> Vec<Vec<f64>> {
        if ln {
            h.iter().map(|r| layer_norm(r, &v(&format!("{name}.w")), &v(&format!("{name}.b")), eps)).collect()
        } else {
            h.to_vec()
        }
    };
    for i in 0..layers {
        let b = |n: &str| v(&format!("blocks.{i}.{n}"));
        let x = norm(&resid, &format!("blocks.{i}.ln1"));
        // q[pos][h][j] = Σ_x x[pos][x]·W[h, x, j] + b[h, j]
        let project = |w: &[f64], bias: &[f64]| -> Vec<Vec<Vec<f64>>> {
            x.iter().map(|r| (0..heads).map(|h| (0..dh).map(|j| bias[h * dh + j] + (0..d).map(|k| r[k] * w[(h * d + k) * dh + j]).sum::<f64>()).collect()).collect()).collect()
        };
        let (q, k, val) = (project(&b("attn.W_Q"), &b("attn.b_Q")), project(&b("attn.W_K"), &b("attn.b_K")), project(&b("attn.W_V"), &b("attn.b_V")));
        let (w_o, b_o) = (b("attn.W_O"), b("attn.b_O"));
        let attn_scale = (dh as f64).sqrt();
        for pos in 0..t {
            let mut out = b_o.clone();
            for h in 0..heads {
                // Causal: keys after the query get IGNORE = −∞, i.e. no weight.
                let scores: Vec<f64> = (0..=pos).map(|key| (0..dh).map(|j| q[pos][h][j] * k[key][h][j]).sum::<f64>() / attn_scale).collect();
                let top = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
                let e: Vec<f64> = scores.iter().map(|s| (s - top).exp()).collect();
                let z: Vec<f64> = (0..dh).map(|j| (0..=pos).map(|key| e[key] * val[key][h][j]).sum::<f64>() / e.iter().sum::<f64>()).collect();
                for (o, out) in out.iter_mut().enumerate() {
                    *out += (0..dh).map(|j| z[j] * w_o[(h * dh + j) * d + o]).sum::<f64>();
                }
            }
            resid[pos].iter_mut().zip(&out).for_each(|(r, a)| *r += a);
        }
        if !attn_only {
            let m = u("d_mlp");
            let (w_in, b_in, w_out, b_out) = (b("mlp.W_in"), b("mlp.b_in"), b("mlp.W_out"), b("mlp.b_out"));
            let x = norm(&resid, &format!("blocks.{i}.ln2"));
            for pos in 0..t {
                let pre: Vec<f64> = (0..m).map(|n| b_in[n] + (0..d).map(|k| x[pos][k] * w_in[k * m + n]).sum::<f64>()).collect();
                let post = match cfg["act_fn"].as_str().unwrap() {
                    "relu" => pre.iter().map(|&a| a.max(0.0)).collect(),
                    "gelu" => gelu(&pre),
                    other => panic!("unexpected act_fn {other}"),
                };
                for o in 0..d {
                    resid[pos][o] += b_out[o] + (0..m).map(|n| post[n] * w_out[n * d + o]).sum::<f64>();
                }
            }
        }
    }
    let fin = norm(&resid, "ln_final");
    let (w_u, b_u, classes) = (v("unembed.W_U"), v("unembed.b_U"), u("d_vocab_out"));
    fin.iter().map(|r| (0..classes).map(|c| b_u[c] + (0..d).map(|k| r[k] * w_u[k * classes + c]).sum::<f64>()).collect()).collect()
}

/// The checkpoint as the reference model's named parameters (file order = layout order).
fn reference_params(ckpt: &SafeTensors) -> Vec<Param> {
    ckpt.tensors.iter().map(|t| (t.name.clone(), t.shape.clone(), t.data.to_f32().unwrap().into_iter().map(f64::from).collect())).collect()
}

/// HookedTransformer's logits at the readout position equal the reference model's on every
/// pair; returns the worst relative difference.
fn check_function(exported: &SafeTensors, description: &Value, ckpt: &SafeTensors, reference: &TransformerConfig) -> f64 {
    let cfg = &description["hooked_transformer_config"];
    let readout = description["readout_position"].as_u64().unwrap() as usize;
    let (op, eq) = (description["tokens"]["op"].as_u64().unwrap() as u32, description["tokens"]["eq"].as_u64().unwrap() as u32);
    let numbers: Vec<u32> = description["tokens"]["numbers"].as_array().unwrap().iter().map(|n| n.as_u64().unwrap() as u32).collect();
    let params = reference_params(ckpt);
    let mut worst = 0f64;
    for &x in &numbers {
        for &y in &numbers {
            let row = [x, op, y, eq];
            let theirs = &hooked_transformer_logits(exported, cfg, &row)[readout];
            let ours = transformer_forward(reference, &params, &row);
            let scale = ours.iter().fold(0f64, |a, v| a.max(v.abs()));
            let diff = theirs.iter().zip(&ours).fold(0f64, |a, (t, o)| a.max((t - o).abs()));
            worst = worst.max(diff / scale);
        }
    }
    worst
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn pre_norm_gelu_export_is_transformer_lens_state_dict_of_the_same_function() {
    let scratch = Scratch::new("export", "pre");
    let run = train(&scratch, "run", &["--layers", "2", "--norm", "pre", "--act", "gelu"]);
    let out = scratch.0.join("tl");
    let stdout = String::from_utf8(ok(&["export", "--run-dir", s(&run), "--all", "--format", "transformer-lens", "--out", s(&out), "--logits"]).stdout).unwrap();
    assert!(stdout.starts_with("exported 3 checkpoints (steps 0–40)"), "{stdout}");
    for step in [0, 20, 40] {
        let stem = format!("step_{step:08}");
        let exported = safetensors::read(&out.join(format!("{stem}.safetensors"))).unwrap();
        let ckpt = safetensors::read(&run.join("checkpoints").join(format!("{stem}.safetensors"))).unwrap();
        let description = read_json(&out.join(format!("{stem}.json")));
        check_names_and_shapes(&exported, TL_PRE_NORM_2_LAYERS);
        check_values(&exported, &ckpt, 2, true, true);
        assert_eq!(description["step"], step);
        assert_eq!(description["state_dict"], format!("{stem}.safetensors"));
        assert_eq!(description["grokgpu_logits"], format!("{stem}.logits.safetensors"));
        let cfg = &description["hooked_transformer_config"];
        let want = serde_json::json!({
            "n_layers": 2, "d_model": 16, "n_ctx": 4, "d_head": 8, "n_heads": 2, "d_mlp": 32,
            "d_vocab": 15, "d_vocab_out": 13, "act_fn": "gelu", "normalization_type": "LN",
            "attn_only": false, "positional_embedding_type": "standard", "eps": 1e-5,
            "use_attn_scale": true, "default_prepend_bos": false,
        });
        assert_eq!(cfg, &want);
        assert_eq!(description["tokens"]["numbers"].as_array().unwrap().len(), 13);
        assert_eq!((description["tokens"]["op"].as_u64(), description["tokens"]["eq"].as_u64(), description["readout_position"].as_u64()), (Some(13), Some(14), Some(3)));
        let reference = TransformerConfig { norm: Norm::Pre, act: Act::Gelu, ..TransformerConfig::new(13, 16, 2, 32, 2) };
        // Same f64 function, summed in different orders: measured ≤ 1.5e-15.
        let worst = check_function(&exported, &description, &ckpt, &reference);
        assert!(worst < 1e-12, "step {step}: HookedTransformer vs reference {worst:e}");

        // grokgpu's own GPU logits on every pair, beside the export.
        let logits = safetensors::read(&out.join(format!("{stem}.logits.safetensors"))).unwrap();
        let (tokens, got) = (logits.get("tokens").unwrap(), logits.get("logits").unwrap());
        assert_eq!((tokens.shape.as_slice(), got.shape.as_slice()), (&[169, 4][..], &[169, 13][..]));
        let TensorData::I64(rows) = &tokens.data else { panic!("tokens are I64") };
        let params = reference_params(&ckpt);
        let got = values(&logits, "logits");
        for (n, row) in rows.chunks(4).enumerate() {
            let row: Vec<u32> = row.iter().map(|&t| t as u32).collect();
            let want = transformer_forward(&reference, &params, &row);
            let scale = want.iter().fold(0f64, |a, v| a.max(v.abs()));
            let diff = got[n * 13..(n + 1) * 13].iter().zip(&want).fold(0f64, |a, (g, w)| a.max((g - w).abs()));
            // f32 GPU forward against f64, as the model probe's own tests: tolerance 1e-5.
            assert!(diff / scale < 1e-5, "step {step} row {row:?}: {}", diff / scale);
        }
    }
}

#[test]
fn attn_only_without_norm_exports_and_refusals_name_the_option() {
    let scratch = Scratch::new("export", "attn");
    let run = train(&scratch, "run", &["--variant", "attn-only"]);
    let out = scratch.0.join("tl");
    ok(&["export", "--run-dir", s(&run), "--format", "transformer-lens", "--out", s(&out)]);
    let stem = "step_00000040";
    let exported = safetensors::read(&out.join(format!("{stem}.safetensors"))).unwrap();
    let ckpt = safetensors::read(&run.join("checkpoints").join(format!("{stem}.safetensors"))).unwrap();
    let description = read_json(&out.join(format!("{stem}.json")));
    check_names_and_shapes(&exported, TL_ATTN_ONLY_NO_NORM);
    check_values(&exported, &ckpt, 1, false, false);
    let cfg = &description["hooked_transformer_config"];
    assert_eq!((&cfg["attn_only"], &cfg["normalization_type"], &cfg["d_mlp"], &cfg["act_fn"]), (&Value::Bool(true), &Value::Null, &Value::Null, &Value::Null));
    assert_eq!(description["grokgpu_logits"], Value::Null);
    assert!(!out.join(format!("{stem}.logits.safetensors")).exists());
    let reference = TransformerConfig { norm: Norm::None, variant: Variant::AttnOnly, ..TransformerConfig::new(13, 16, 2, 32, 1) };
    let worst = check_function(&exported, &description, &ckpt, &reference);
    assert!(worst < 1e-12, "HookedTransformer vs reference {worst:e}");
    assert_eq!(std::fs::read_dir(&out).unwrap().count(), 2, "only the latest checkpoint by default");

    // An earlier export is kept unless --force; a missing step is named.
    let args = ["export", "--run-dir", s(&run), "--format", "transformer-lens", "--out", s(&out), "--step", "40"];
    assert!(error_line(&args).ends_with("step_00000040.safetensors already exists; use --force to replace the files of an earlier export"));
    ok(&[&args[..], &["--force"]].concat());
    let missing = error_line(&["export", "--run-dir", s(&run), "--format", "transformer-lens", "--out", s(&out), "--step", "7"]);
    assert!(missing.starts_with("error: no checkpoint at step 7 in ") && missing.ends_with("(it has 3 from step 0 to 40)"), "{missing}");

    // What HookedTransformer cannot express is refused by name, and nothing is written.
    let refused = scratch.0.join("refused");
    for (flags, want) in [
        (&["--variant", "mlp-only"][..], "error: cannot export variant = mlp-only to TransformerLens: every HookedTransformer block has attention"),
        (&["--bottleneck-rank", "4"][..], "error: cannot export bottleneck_rank = 4 to TransformerLens: HookedTransformer has no low-rank bottleneck"),
    ] {
        let run = train(&scratch, flags[1], flags);
        let line = error_line(&["export", "--run-dir", s(&run), "--format", "transformer-lens", "--out", s(&refused)]);
        assert!(line.starts_with(want), "{line}");
        assert!(!refused.exists());
    }
    let multi = scratch.0.join("multi");
    ok(&["train", "--preset", "nanda2023", "--p", "13", "--d-model", "16", "--heads", "2", "--d-mlp", "32", "--steps", "2", "--eval-every", "2", "--ckpt-every", "2", "--seeds", "0,1", "--out-dir", s(&multi)]);
    let line = error_line(&["export", "--run-dir", s(&multi), "--format", "transformer-lens", "--out", s(&refused)]);
    assert!(line.contains("holds a multi-run (sweep.json) of 2 runs; export one run at a time, e.g. --run-dir "), "{line}");
    let mlp = scratch.0.join("mlp");
    ok(&["train", "--preset", "tian-mlp", "--p", "13", "--steps", "20", "--eval-every", "20", "--ckpt-every", "20", "--out-dir", s(&mlp)]);
    let line = error_line(&["export", "--run-dir", s(&mlp), "--format", "transformer-lens", "--out", s(&refused)]);
    assert!(line.starts_with("error: TransformerLens has no model like grokgpu's MLP (model = mlp); use the plain checkpoint instead"), "{line}");
    assert!(line.contains("mlp/checkpoints/step_00000020.safetensors"), "{line}");
    assert!(!refused.exists());
}
