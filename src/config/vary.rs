//! Which settings may differ between runs, and when: the one rule behind `--resume`, a
//! sweep, and the runs trained side by side in the same dispatches.
//!
//! Every config.json key has a role. Schedule and provenance never change a run's
//! mathematics; per-run values (seeds, initialization, optimizer hyperparameters) are entries
//! of small per-run buffers along the run axis R, so runs that differ only in them share every
//! dispatch; everything else shapes the dispatches themselves.

use serde_json::{Map, Value};

use super::run_config::RunConfig;

/// What a config.json key is to a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// How long and how often: steps, eval and checkpoint cadence. Runs trained together
    /// follow one schedule.
    Schedule,
    /// How the run is recorded: the preset it started from, the grokgpu version, the adapter,
    /// the checkpoints' dtype.
    Record,
    /// Fixed when the run starts, one value per run: seeds, data split seed, initialization.
    Start,
    /// An optimizer hyperparameter, one entry per run of the optimizer's buffer.
    Hyper,
    /// Shapes the step program: model, task, data size, batch, optimizer kind, loss, filters.
    Shape,
}

/// Every config.json key with its role (a test checks that the list is complete).
const ROLES: &[(&str, Role)] = &[
    ("preset", Role::Record),
    ("task", Role::Shape),
    ("p", Role::Shape),
    ("train_frac", Role::Shape),
    ("seed", Role::Start),
    ("data_seed", Role::Start),
    ("model", Role::Shape),
    ("layers", Role::Shape),
    ("d_model", Role::Shape),
    ("heads", Role::Shape),
    ("d_mlp", Role::Shape),
    ("norm", Role::Shape),
    ("act", Role::Shape),
    ("variant", Role::Shape),
    ("bottleneck_rank", Role::Shape),
    ("optimizer", Role::Shape),
    ("lr", Role::Hyper),
    ("weight_decay", Role::Hyper),
    ("beta1", Role::Hyper),
    ("beta2", Role::Hyper),
    ("eps", Role::Hyper),
    ("warmup", Role::Hyper),
    ("momentum", Role::Hyper),
    ("loss", Role::Shape),
    ("batch_size", Role::Shape),
    ("steps", Role::Schedule),
    ("eval_every", Role::Schedule),
    ("ckpt_every", Role::Schedule),
    ("ckpt_dtype", Role::Record),
    ("init_scale", Role::Start),
    ("init", Role::Start),
    ("l1", Role::Shape),
    ("ortho_grad", Role::Shape),
    ("grokfast_ema", Role::Shape),
    ("grokfast_ma", Role::Shape),
    ("forked_from", Role::Record),
    ("grokgpu_version", Role::Record),
    ("adapter", Role::Record),
];

/// The role of a config.json key; a key this list does not know is treated as shaping the
/// program, the safe side.
pub fn role(key: &str) -> Role {
    ROLES.iter().find(|(k, _)| *k == key).map_or(Role::Shape, |(_, r)| *r)
}

/// The occasions on which two runs' settings are compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    /// `--resume` continues the same run: only its schedule and record may change.
    Resume,
    /// Runs trained in the same dispatches: they may differ in their per-run values and
    /// record, not in their schedule or shapes.
    TrainTogether,
    /// A fork continues a run's exact state from a step on: the schedule, the record and the
    /// optimizer's hyperparameters may change; the start (seeds, split, initialization) is
    /// the parent's, and the shapes must fit its state.
    Fork,
}

impl Change {
    /// Whether a key of `role` may differ on this occasion.
    pub fn allows(self, role: Role) -> bool {
        match self {
            Change::Resume => matches!(role, Role::Schedule | Role::Record),
            Change::TrainTogether => matches!(role, Role::Start | Role::Hyper | Role::Record),
            Change::Fork => matches!(role, Role::Schedule | Role::Record | Role::Hyper),
        }
    }
}

/// The runs grouped into the batches that can train in the same dispatches, as indices into
/// `runs`: a run joins the first group it may train with, else starts a new one (so groups
/// keep the order of their first runs).
pub fn groups(runs: &[RunConfig]) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = vec![];
    for (i, run) in runs.iter().enumerate() {
        match groups.iter_mut().find(|g| forbidden_changes(&runs[g[0]], run, Change::TrainTogether).is_empty()) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    groups
}

fn as_object(cfg: &RunConfig) -> Map<String, Value> {
    match serde_json::to_value(cfg).expect("a RunConfig always serializes") {
        Value::Object(m) => m,
        _ => unreachable!("a RunConfig serializes to an object"),
    }
}

/// The settings in which `to` differs from `from` although `change` does not allow it, as
/// "key: from's value → to's value" in key order; empty when allowed.
pub fn forbidden_changes(from: &RunConfig, to: &RunConfig, change: Change) -> Vec<String> {
    let (a, b) = (as_object(from), as_object(to));
    a.iter()
        .filter(|(k, _)| !change.allows(role(k)))
        .filter(|(k, v)| b.get(*k) != Some(v))
        .map(|(k, v)| format!("{k}: {v} → {}", b.get(k).map_or("absent".to_string(), |w| w.to_string())))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::config::presets::preset;
    use crate::config::ForkOrigin;

    #[test]
    fn every_key_has_a_role() {
        let mut cfg = preset("power2022").unwrap().config;
        cfg.forked_from = Some(ForkOrigin { run: "runs/parent".into(), step: 10 });
        let keys: BTreeSet<String> = as_object(&cfg).keys().cloned().collect();
        let listed: BTreeSet<String> = ROLES.iter().map(|(k, _)| k.to_string()).collect();
        assert_eq!(keys, listed);
        assert_eq!(listed.len(), ROLES.len(), "a key is listed twice");
    }

    #[test]
    fn resume_allows_the_schedule_and_training_together_the_per_run_values() {
        let a = preset("power2022").unwrap().config;
        let mut b = a.clone();
        b.steps = 7;
        b.weight_decay = 0.3;
        b.seed = 4;
        assert_eq!(forbidden_changes(&a, &b, Change::Resume), ["seed: 0 → 4", "weight_decay: 1.0 → 0.3"]);
        assert_eq!(forbidden_changes(&a, &b, Change::TrainTogether), ["steps: 100000 → 7"]);
        b.steps = a.steps;
        b.d_model = 64;
        b.adapter = "other".into();
        assert_eq!(forbidden_changes(&a, &b, Change::TrainTogether), ["d_model: 128 → 64"]);
        assert_eq!(forbidden_changes(&a, &b, Change::Fork), ["d_model: 128 → 64", "seed: 0 → 4"]);
    }

    #[test]
    fn runs_group_by_what_shapes_their_dispatches() {
        let a = preset("power2022").unwrap().config;
        let with = |f: &dyn Fn(&mut RunConfig)| {
            let mut c = a.clone();
            f(&mut c);
            c
        };
        let runs = [a.clone(), with(&|c| c.p = 53), with(&|c| c.weight_decay = 0.1), with(&|c| { c.p = 53; c.seed = 2 }), with(&|c| c.bottleneck_rank = Some(8))];
        assert_eq!(groups(&runs), [vec![0, 2], vec![1, 3], vec![4]]);
    }
}
