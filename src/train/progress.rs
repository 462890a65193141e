//! Progress of a training run: a live bar on a terminal, plain log lines otherwise.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(total: u64, start: u64) -> Progress {
        if !std::io::stdout().is_terminal() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::new(total);
        bar.set_style(
            ProgressStyle::with_template("{bar:30.cyan/blue} {pos}/{len} steps · {per_sec} · ETA {eta} · {msg}")
                .expect("the progress template is valid")
                .progress_chars("█▉ "),
        );
        bar.set_position(start);
        Progress { bar: Some(bar) }
    }

    pub fn advance_to(&self, step: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(step);
        }
    }

    /// One evaluation's summary: the bar's message on a terminal, a log line otherwise.
    pub fn report(&self, line: String) {
        match &self.bar {
            Some(bar) => bar.set_message(line),
            None => println!("{line}"),
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
