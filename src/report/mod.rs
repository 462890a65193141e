//! `grokgpu report --run-dir DIR`: seed 000's paper kit for a run, from its run files. It
//! draws the run's figures (as `grokgpu plot`), then writes `report.md` — Table 1 (1D vs 2D
//! alignment), Table 2 (phase interventions), Table 3 (frequency-band contributions), Table A1
//! (every metric's initial / peak / final / lead / change), the events timeline and the figures
//! — and the same tables as LaTeX: all in `report.tex`, and one file each in `tables/`, for a
//! paper to `\input`. A multi-run directory gets a report per run and an overview of its runs.

pub mod table;

use std::path::{Path, PathBuf};

use crate::analysis::catalogue::lookup;
use crate::analysis::summary::{change, family, number, Summary};
use crate::io::write_atomic;
use crate::plot::data::Run;
use crate::plot::phase::read_interventions;
use crate::plot::{plot_run, Outcome, FIGURES};
use crate::rundir::sweep_file::SweepFile;
use crate::rundir::{PLOTS_DIR, REPORT_MD, REPORT_TABLES_DIR, REPORT_TEX, SWEEP_FILE};
use crate::{Error, Result};
use table::Table;

/// Table 1's rows: seed 000 finding 2.
const ALIGNMENT_FIELDS: &[&str] = &["align_1d_key", "align_1d_top8", "align_2d", "align_2d_z"];
/// Table 3's rows: the spectral share of the low band and the attribution of both bands.
const BAND_FIELDS: &[&str] = &[
    "band_low",
    "band_high",
    "attr_keep_low",
    "attr_keep_high",
    "attr_ablate_low",
    "attr_ablate_high",
    "attr_keep_low_acc",
    "attr_keep_high_acc",
    "attr_ablate_low_acc",
    "attr_ablate_high_acc",
];
const INTERVENTION_MEASURES: [(&str, &str); 4] = [("train_acc", "train acc"), ("val_acc", "val acc"), ("train_loss", "train loss"), ("val_loss", "val loss")];

fn optional<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "—".to_string(), |x| x.to_string())
}

/// A table of initial / peak (step) / final / change rows for `fields` the summary holds.
fn trajectory_table(summary: &Summary, caption: &str, label: &str, fields: &[&str]) -> Table {
    let mut t = Table::new(caption, label, &["metric", "initial", "peak (step)", "final", "change"]);
    for field in fields {
        if let Some(m) = summary.metrics.iter().find(|m| m.name == *field) {
            t.row(vec![format!("`{}`", m.name), number(m.initial.1), format!("{} ({})", number(m.peak.1), m.peak.0), number(m.last.1), change(m.initial.1, m.last.1)]);
        }
    }
    t
}

fn intervention_table(run: &Run) -> std::result::Result<Table, String> {
    let found = read_interventions(run)?;
    let mut header = vec!["intervention"];
    let labels: Vec<String> = INTERVENTION_MEASURES.iter().map(|(_, l)| format!("{l} before → after")).collect();
    header.extend(labels.iter().map(String::as_str));
    let mut t = Table::new("Table 2: phase interventions (accuracy and loss before → after)", "phase-intervention", &header);
    for i in &found {
        let mut row = vec![i.label.clone()];
        for (m, _) in INTERVENTION_MEASURES {
            let cell = |side: &std::collections::BTreeMap<String, f64>| side.get(m).map_or_else(|| "—".to_string(), |v| number(*v));
            row.push(format!("{} → {}", cell(&i.before), cell(&i.after)));
        }
        t.row(row);
    }
    Ok(t)
}

fn metrics_table(summary: &Summary) -> Table {
    let grok = summary.events.grok_step;
    let mut t = Table::new("Table A1: every metric's initial, peak and final value, the peak's lead over grokking and the change", "metrics", &["analysis", "metric", "initial", "peak (step)", "final", "peak lead", "change"]);
    for m in &summary.metrics {
        let lead = grok.map(|g| g as i64 - m.peak.0 as i64);
        t.row(vec![family(&m.name), format!("`{}`", m.name), number(m.initial.1), format!("{} ({})", number(m.peak.1), m.peak.0), number(m.last.1), optional(lead), change(m.initial.1, m.last.1)]);
    }
    t
}

/// Memorization, the precursors and grokking in step order (events that never happened last).
/// The precursors are Fourier measures: a task that is not mod p (`fourier` false) has none.
fn events_table(summary: &Summary, fourier: bool) -> Table {
    let e = &summary.events;
    let grok = e.grok_step;
    let mut events: Vec<(String, Option<u64>)> = vec![("memorization (train acc ≥ 0.99)".to_string(), e.memorization_step), ("grokking (val acc ≥ 0.9)".to_string(), grok)];
    if fourier {
        events.extend(e.precursors.iter().map(|p| (format!("precursor: {}", p.name), p.step)));
    }
    events.sort_by_key(|(_, step)| step.unwrap_or(u64::MAX));
    let mut t = Table::new("Events timeline (lead = grokking step − event step)", "events", &["event", "step", "lead over grokking"]);
    for (name, step) in events {
        let lead = grok.zip(step).map(|(g, s)| g as i64 - s as i64);
        t.row(vec![name, optional(step), optional(lead)]);
    }
    t
}

/// A table, or the line saying why it is empty.
fn section(md: &mut String, table: std::result::Result<Table, String>, missing: &str) {
    match table {
        Ok(t) if !t.rows.is_empty() => md.push_str(&t.to_markdown()),
        Ok(t) => md.push_str(&format!("**{}**: not available ({missing}).\n", t.caption)),
        Err(why) => md.push_str(&format!("Not available: {why}.\n")),
    }
    md.push('\n');
}

/// The report of one run: its figures, report.md, report.tex and tables/*.tex. Returns the
/// files written.
pub fn report_run(dir: &Path) -> Result<Vec<PathBuf>> {
    let run = Run::load(dir)?;
    let mut figures = vec![];
    plot_run(&run, &mut |o| {
        if let Outcome::Written(p) = o {
            figures.push(p);
        }
    })?;
    let summary = Summary::of(&run.records);
    let not_modular = run.not_modular();
    let alignment = trajectory_table(&summary, "Table 1: alignment of W_E with the key frequencies, 1D vs 2D", "alignment", ALIGNMENT_FIELDS);
    let bands = trajectory_table(&summary, "Table 3: frequency-band contributions (spectral share and attribution margins, k ≤ 5 vs k > 5)", "bands", BAND_FIELDS);
    let interventions = intervention_table(&run);
    let metrics = metrics_table(&summary);
    let events = events_table(&summary, not_modular.is_none());
    let analyze = format!("run `grokgpu analyze --run-dir {}`", dir.display());

    let mut md = format!("# Report: {}\n\n{}\n\n", run.name(), run.subtitle());
    md.push_str("## Events\n\n");
    section(&mut md, Ok(events.clone()), &analyze);
    md.push_str("## Tables\n\n");
    match &not_modular {
        Some(why) => md.push_str(&format!("Tables 1–3 do not apply: they read the Fourier analyses of Z_p, and {why}.\n\n")),
        None => {
            section(&mut md, Ok(alignment.clone()), &format!("no alignment fields; {analyze}"));
            section(&mut md, interventions.clone(), "");
            section(&mut md, Ok(bands.clone()), &format!("no band or attribution fields; {analyze}"));
        }
    }
    section(&mut md, Ok(metrics.clone()), &analyze);
    md.push_str("## Figures\n\n");
    for (file, _, _) in FIGURES {
        if figures.iter().any(|f| f.file_name().is_some_and(|n| n == *file)) {
            md.push_str(&format!("![{file}]({PLOTS_DIR}/{file})\n\n"));
        }
    }
    let meaning: Vec<String> = summary.metrics.iter().filter_map(|m| lookup(&m.name).map(|i| format!("- `{}`: {}", m.name, i.meaning))).collect();
    md.push_str("## Metric meanings\n\n");
    md.push_str(&meaning.join("\n"));
    md.push('\n');

    let mut tables: Vec<(&str, Table)> = vec![("events", events), ("table1", alignment), ("table3", bands), ("tableA1", metrics)];
    match interventions {
        Ok(t) if not_modular.is_none() => tables.insert(2, ("table2", t)),
        _ => {}
    }
    let tables: Vec<(&str, Table)> = tables.into_iter().filter(|(_, t)| !t.rows.is_empty()).collect();
    let tex: String = tables.iter().map(|(_, t)| t.to_latex()).collect::<Vec<_>>().join("\n");
    let write = |path: PathBuf, text: &str| -> Result<PathBuf> {
        write_atomic(&path, text.as_bytes())?;
        Ok(path)
    };
    let mut written = vec![write(dir.join(REPORT_MD), &md)?, write(dir.join(REPORT_TEX), &tex)?];
    let table_dir = dir.join(REPORT_TABLES_DIR);
    std::fs::create_dir_all(&table_dir).map_err(|e| Error::msg(format!("cannot create {}: {e}", table_dir.display())))?;
    for (name, t) in &tables {
        written.push(write(table_dir.join(format!("{name}.tex")), &t.to_latex())?);
    }
    Ok(written)
}

/// Reports `dir`: a run, or every run of a multi-run plus `report.md` listing them.
pub fn report_dir(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.join(SWEEP_FILE).is_file() {
        return report_run(dir);
    }
    let sweep = SweepFile::read(dir)?;
    let mut written = vec![];
    let mut overview = Table::new("Runs", "runs", &["run", "memorization step", "grok step", "report"]);
    for run_dir in sweep.dirs(dir) {
        let name = run_dir.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        match report_run(&run_dir) {
            Ok(files) => {
                let e = Summary::of(&Run::load(&run_dir)?.records).events;
                overview.row(vec![name.clone(), optional(e.memorization_step), optional(e.grok_step), format!("[{name}/{REPORT_MD}]({name}/{REPORT_MD})")]);
                written.extend(files);
            }
            Err(e) => overview.row(vec![name, "—".to_string(), "—".to_string(), format!("not written: {e}")]),
        }
    }
    let md = format!("# Report: {}\n\n{}", dir.display(), overview.to_markdown());
    let path = dir.join(REPORT_MD);
    write_atomic(&path, md.as_bytes())?;
    written.push(path);
    Ok(written)
}
