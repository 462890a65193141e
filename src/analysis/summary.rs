//! The run summary (seed 000's Table A1): initial, peak and final value of every scalar
//! metric, the events and the precursors' leads, as `summary.json` and `summary.md`.

use super::catalogue::{lookup, METRICS, WALL_CLOCK};
use super::events::{lead, Events, Record};
use serde_json::{json, Value};
use std::fmt::Write;

/// Initial, peak and final value of one scalar series.
#[derive(Clone, Debug, PartialEq)]
pub struct MetricSummary {
    pub name: String,
    pub initial: (u64, f64),
    /// The maximum (the first, on ties) and its step.
    pub peak: (u64, f64),
    pub last: (u64, f64),
}

impl MetricSummary {
    pub fn change(&self) -> f64 {
        self.last.1 - self.initial.1
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub metrics: Vec<MetricSummary>,
    pub events: Events,
}

/// Numeric fields (`step` and wall-clock times excluded), in catalogue order so that each analysis family's rows
/// sit together; fields the catalogue does not know go last, by name.
fn scalar_fields(records: &[Record]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for record in records {
        for (name, value) in record {
            if name != "step" && !WALL_CLOCK.contains(&name.as_str()) && value.is_number() && !names.contains(name) {
                names.push(name.clone());
            }
        }
    }
    let rank = |name: &str| lookup(name).map_or(usize::MAX, |m| METRICS.iter().position(|x| x.name == m.name).unwrap_or(usize::MAX));
    names.sort_by(|a, b| rank(a).cmp(&rank(b)).then(a.cmp(b)));
    names
}

/// The family column: W_U variants are marked as such.
pub fn family(name: &str) -> String {
    match lookup(name) {
        Some(info) if name.starts_with("wu_") => format!("{} (W_U)", info.family),
        Some(info) => info.family.to_string(),
        None => "Other".to_string(),
    }
}

impl Summary {
    /// From the per-checkpoint records in step order; fields holding no finite number in any
    /// record are left out.
    pub fn of(records: &[Record]) -> Summary {
        let metrics = scalar_fields(records)
            .into_iter()
            .filter_map(|name| {
                let series = super::events::series(records, &name);
                let peak = series.iter().copied().fold(None, |best: Option<(u64, f64)>, cur| match best {
                    Some(b) if b.1 >= cur.1 => Some(b),
                    _ => Some(cur),
                })?;
                Some(MetricSummary { name, initial: series[0], peak, last: *series.last()? })
            })
            .collect();
        Summary { metrics, events: Events::of(records) }
    }

    /// summary.json: `metrics` {name: {initial, peak, peak_step, final, change, peak_lead}},
    /// `events` {memorization_step, grok_step}, `precursors` {name: {step, lead}}.
    pub fn to_json(&self) -> Value {
        let grok = self.events.grok_step;
        let metrics: serde_json::Map<String, Value> = self
            .metrics
            .iter()
            .map(|m| {
                let entry = json!({
                    "initial": m.initial.1,
                    "peak": m.peak.1,
                    "peak_step": m.peak.0,
                    "final": m.last.1,
                    "change": m.change(),
                    "peak_lead": lead(grok, Some(m.peak.0)),
                });
                (m.name.clone(), entry)
            })
            .collect();
        let precursors: serde_json::Map<String, Value> = self
            .events
            .precursors
            .iter()
            .map(|p| (p.name.to_string(), json!({"step": p.step, "lead": p.lead})))
            .collect();
        json!({
            "metrics": metrics,
            "events": {
                "memorization_step": self.events.memorization_step,
                "grok_step": grok,
            },
            "precursors": precursors,
        })
    }

    /// summary.md: the Table A1 of seed 000 (analysis, metric, initial / peak / final, the
    /// peak's lead over grokking, the change, what it means), then the events and precursors.
    pub fn to_markdown(&self) -> String {
        let grok = self.events.grok_step;
        let mut md = String::from("# Summary\n\n");
        md.push_str("| Analysis | Metric | Initial | Peak (step) | Final | Peak lead | Change | Meaning |\n");
        md.push_str("|---|---|---|---|---|---|---|---|\n");
        for m in &self.metrics {
            let info = lookup(&m.name);
            let _ = writeln!(
                md,
                "| {} | `{}` | {} | {} ({}) | {} | {} | {} | {} |",
                family(&m.name),
                m.name,
                number(m.initial.1),
                number(m.peak.1),
                m.peak.0,
                number(m.last.1),
                optional(lead(grok, Some(m.peak.0))),
                change(m.initial.1, m.last.1),
                info.map_or("", |i| i.meaning),
            );
        }
        md.push_str("\n## Events\n\n| Event | Step | Lead over grokking |\n|---|---|---|\n");
        let _ = writeln!(md, "| memorization (train_acc ≥ 0.99) | {} | {} |", optional(self.events.memorization_step), optional(lead(grok, self.events.memorization_step)));
        let _ = writeln!(md, "| grokking (val_acc ≥ 0.9) | {} | 0 |", optional(grok));
        for p in &self.events.precursors {
            let _ = writeln!(md, "| {} | {} | {} |", p.name, optional(p.step), optional(p.lead));
        }
        md
    }
}

/// Four significant digits, scientific outside [1e-3, 1e4) (NaN and ±inf as Rust prints them).
pub fn number(v: f64) -> String {
    if v == 0.0 {
        "0".to_string()
    } else if (1e-3..1e4).contains(&v.abs()) {
        let digits = (3 - v.abs().log10().floor() as i32).clamp(0, 6) as usize;
        format!("{v:.digits$}")
    } else {
        format!("{v:.3e}")
    }
}

fn optional<T: ToString>(v: Option<T>) -> String {
    v.map_or_else(|| "—".to_string(), |x| x.to_string())
}

/// "↑ 12%"-style relative change, or the absolute change when the start is 0.
pub fn change(initial: f64, last: f64) -> String {
    let arrow = if last > initial { "↑" } else if last < initial { "↓" } else { "=" };
    if initial != 0.0 {
        format!("{arrow} {:.0}%", 100.0 * ((last - initial) / initial).abs())
    } else {
        format!("{arrow} {}", number((last - initial).abs()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records() -> Vec<Record> {
        (0..6u64)
            .map(|i| {
                let mut r = json!({
                    "step": 1000 * i,
                    "train_acc": ([0.02, 1.0, 1.0, 1.0, 1.0, 1.0][i as usize]),
                    "val_acc": ([0.01, 0.02, 0.05, 0.4, 0.93, 1.0][i as usize]),
                    "n_eff": ([5.2, 12.0, 25.1, 22.0, 20.3, 20.3][i as usize]),
                    "gini": ([0.42, 0.5, 0.6, 0.7, 0.8, 0.81][i as usize]),
                    "we_power": [1.0, 2.0],
                    "token_order": "natural",
                });
                if i > 0 {
                    r["wu_gini"] = json!(0.1 * i as f64);
                }
                r.as_object().unwrap().clone()
            })
            .collect()
    }

    #[test]
    fn initial_peak_final_of_every_scalar() {
        let s = Summary::of(&records());
        let names: Vec<&str> = s.metrics.iter().map(|m| m.name.as_str()).collect();
        // Arrays and strings are not scalars; rows follow the catalogue (families together).
        assert_eq!(names, vec!["train_acc", "val_acc", "n_eff", "gini", "wu_gini"]);
        let n_eff = &s.metrics[2];
        assert_eq!((n_eff.initial, n_eff.peak, n_eff.last), ((0, 5.2), (2000, 25.1), (5000, 20.3)));
        let wu = &s.metrics[4];
        assert_eq!(wu.initial, (1000, 0.1), "the first record holding the field");
        assert_eq!(s.events.grok_step, Some(4000));
    }

    #[test]
    fn json_and_markdown() {
        let s = Summary::of(&records());
        let j = s.to_json();
        assert_eq!(j["metrics"]["n_eff"]["peak"], 25.1);
        assert_eq!(j["metrics"]["n_eff"]["peak_lead"], 2000);
        assert_eq!(j["events"]["memorization_step"], 1000);
        assert_eq!(j["precursors"]["n_eff_half_fall"]["step"], Value::Null, "n_eff rises here: no fall");
        assert_eq!(j["precursors"]["fsd_ceiling"]["step"], Value::Null);
        let md = s.to_markdown();
        assert!(md.contains("| Sparsity | `n_eff` | 5.200 | 25.10 (2000) | 20.30 | 2000 | ↑ 290% |"), "{md}");
        assert!(md.contains("| Sparsity (W_U) | `wu_gini` | 0.1000 |"), "{md}");
        assert!(md.contains("| n_eff_half_fall | — | — |"), "{md}");
        assert!(md.contains("| fsd_ceiling | — | — |"), "{md}");
    }

    #[test]
    fn number_formatting() {
        assert_eq!(number(0.0), "0");
        assert_eq!(number(1234.5), "1234");
        assert_eq!(number(0.0123), "0.01230");
        assert_eq!(number(-2.5e-5), "-2.500e-5");
        assert_eq!(change(0.0, 0.5), "↑ 0.5000");
        assert_eq!(change(98.6, 69.1), "↓ 30%");
    }
}
