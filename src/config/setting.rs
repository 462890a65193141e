//! One setting by its config.json key, from its text on the command line: how `--sweep` and
//! `fork --set` change any key. A value goes through config.json's own (de)serialization,
//! so it is spelled and checked exactly as in config.json ("none" for no bottleneck, "full"
//! for the whole train set, names for choices).

use serde_json::{Map, Number, Value};

use super::presets::preset;
use super::run_config::RunConfig;
use super::vary::{role, Role};
use crate::{bail, Error, Result};

fn object(cfg: &RunConfig) -> Map<String, Value> {
    match serde_json::to_value(cfg).expect("a RunConfig always serializes") {
        Value::Object(m) => m,
        _ => unreachable!("a RunConfig serializes to an object"),
    }
}

/// The JSON value a command-line text stands for: none → null, true/false, a number, or
/// else the text itself (a name).
fn text_value(text: &str) -> Value {
    match text {
        "none" | "null" => return Value::Null,
        "true" => return Value::Bool(true),
        "false" => return Value::Bool(false),
        _ => {}
    }
    if let Ok(n) = text.parse::<u64>() {
        return Value::from(n);
    }
    match text.parse::<f64>().ok().and_then(Number::from_f64) {
        Some(n) => Value::Number(n),
        None => Value::String(text.to_string()),
    }
}

/// Sets `key` of `cfg` to `value` (config.json's spelling and types); the run's directory is
/// kept. Other settings are not checked here (`RunConfig::validate` does).
pub fn set_key(cfg: &mut RunConfig, key: &str, value: &Value) -> Result<()> {
    let mut map = object(cfg);
    if !map.contains_key(key) {
        let known: Vec<&String> = map.keys().collect();
        bail!("unknown setting '{key}' (config.json keys: {})", known.iter().map(|k| k.as_str()).collect::<Vec<_>>().join(", "));
    }
    map.insert(key.to_string(), value.clone());
    let updated: RunConfig = serde_json::from_value(Value::Object(map)).map_err(|e| Error::msg(format!("{key}: {e}")))?;
    *cfg = RunConfig { dir: std::mem::take(&mut cfg.dir), ..updated };
    Ok(())
}

/// `key`'s value in `cfg`, as in config.json.
pub fn get_key(cfg: &RunConfig, key: &str) -> Option<Value> {
    object(cfg).remove(key)
}

/// The canonical value of `key` written as `text` (`1e-3` → 0.001, `1` → 1.0 for a real
/// setting), checked against the key's type; `what` starts every error ("--sweep lr").
pub fn parse_setting(key: &str, text: &str, what: &str) -> Result<Value> {
    if role(key) == Role::Record {
        bail!("{what}: '{key}' records how a run was made and cannot be set");
    }
    let mut probe = preset("power2022").expect("power2022 exists").config;
    set_key(&mut probe, key, &text_value(text.trim())).map_err(|e| match e.to_string().split_once(": ") {
        Some((k, reason)) if k == key => Error::msg(format!("{what}: '{}' is not a valid value ({reason})", text.trim())),
        _ => Error::msg(format!("{what}: {e}")),
    })?;
    Ok(get_key(&probe, key).expect("the key was just set"))
}

/// A value as a directory name or a legend writes it: none, a name, or a number printed
/// shortest (1 for 1.0, 0.001 for 1e-3).
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "none".to_string(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match (n.as_u64(), n.as_i64(), n.as_f64()) {
            (Some(u), _, _) => u.to_string(),
            (_, Some(i), _) => i.to_string(),
            (_, _, Some(f)) => f.to_string(),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{BatchSize, Model};
    use crate::data::Task;

    #[test]
    fn any_key_is_set_from_its_text() {
        let mut c = preset("power2022").unwrap().config;
        c.dir = "runs/x".into();
        for (key, text) in [("p", "53"), ("task", "add"), ("bottleneck_rank", "8"), ("batch_size", "full"), ("lr", "3e-4"), ("model", "mlp"), ("ortho_grad", "true")] {
            set_key(&mut c, key, &parse_setting(key, text, "--sweep").unwrap()).unwrap();
        }
        assert_eq!((c.p, c.task, c.bottleneck_rank, c.batch_size, c.lr, c.model, c.ortho_grad), (53, Task::Add, Some(8), BatchSize::Full, 3e-4, Model::Mlp, true));
        assert_eq!(c.dir, std::path::Path::new("runs/x"));
        set_key(&mut c, "bottleneck_rank", &parse_setting("bottleneck_rank", "none", "--sweep").unwrap()).unwrap();
        assert_eq!(c.bottleneck_rank, None);
    }

    #[test]
    fn values_are_canonical_and_print_shortest() {
        let texts = |key: &str, text: &str| value_text(&parse_setting(key, text, "--sweep").unwrap());
        assert_eq!(texts("weight_decay", "1"), "1");
        assert_eq!(texts("lr", "1e-3"), "0.001");
        assert_eq!(texts("train_frac", "0.30"), "0.3");
        assert_eq!(texts("bottleneck_rank", "none"), "none");
        assert_eq!(texts("variant", "attn-only"), "attn-only");
        assert_eq!(parse_setting("weight_decay", "1", "--sweep").unwrap(), parse_setting("weight_decay", "1.0", "--sweep").unwrap());
    }

    #[test]
    fn bad_settings_are_one_line_errors() {
        let err = |key: &str, text: &str| parse_setting(key, text, &format!("--sweep {key}")).unwrap_err().to_string();
        assert_eq!(err("lr", "x"), "--sweep lr: 'x' is not a valid value (invalid type: string \"x\", expected f64)");
        assert!(err("task", "pow").starts_with("--sweep task: 'pow' is not a valid value (unknown task 'pow'"), "{}", err("task", "pow"));
        assert!(err("nope", "1").starts_with("--sweep nope: unknown setting 'nope' (config.json keys: "), "{}", err("nope", "1"));
        assert_eq!(err("adapter", "x"), "--sweep adapter: 'adapter' records how a run was made and cannot be set");
    }
}
