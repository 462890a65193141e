//! Where an analysis spends its time, per family (`grokgpu analyze --timings`).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Accumulated time per part ("probe" for the shared forward pass, else a family name).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timings {
    pub parts: BTreeMap<&'static str, Duration>,
    /// Checkpoints analyzed.
    pub checkpoints: usize,
}

impl Timings {
    pub fn add(&mut self, part: &'static str, elapsed: Duration) {
        *self.parts.entry(part).or_default() += elapsed;
    }

    /// Runs `f`, charging its time to `part`.
    pub fn time<T>(&mut self, part: &'static str, f: impl FnOnce() -> T) -> T {
        let start = Instant::now();
        let out = f();
        self.add(part, start.elapsed());
        out
    }

    pub fn merge(&mut self, other: &Timings) {
        for (part, elapsed) in &other.parts {
            self.add(part, *elapsed);
        }
        self.checkpoints += other.checkpoints;
    }

    /// A table: part, total seconds, milliseconds per checkpoint. CPU parts run on several
    /// threads, so their totals are summed thread time.
    pub fn table(&self) -> String {
        let mut out = format!("{:<12} {:>10} {:>16}\n", "part", "total s", "ms / checkpoint");
        let per = self.checkpoints.max(1) as f64;
        for (part, elapsed) in &self.parts {
            let s = elapsed.as_secs_f64();
            out.push_str(&format!("{part:<12} {s:>10.3} {:>16.2}\n", 1e3 * s / per));
        }
        out
    }
}
