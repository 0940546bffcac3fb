//! `env::` — the environment registry as seen from a script: `env::list()` gives every
//! registered id, `env::spec(id)` its time limit, reward threshold and default keyword
//! arguments, `env::make(id)` / `env::make(id, #{kwargs})` builds one and describes its spaces
//! (Gymnasium's notation).
//! Stepping environments is Rust's job (data collection, RL training).

use rhai::{Array, Dynamic, Map, Module};

use crate::script::error::to_rhai;
use graft_envs::env::Value;

/// The `env` module.
pub fn module() -> Module {
    let mut m = Module::new();
    m.set_native_fn("list", || {
        Ok(graft_envs::registry::registered()
            .into_iter()
            .map(|s| Dynamic::from(s.id))
            .collect::<Array>())
    });
    api_fn!(m, "spec", |id: &str| {
        let spec = graft_envs::registry::spec(id).map_err(|e| to_rhai(e.into()))?;
        let mut out = Map::new();
        out.insert("id".into(), Dynamic::from(spec.id.clone()));
        out.insert(
            "max_episode_steps".into(),
            spec.max_episode_steps.map_or(Dynamic::UNIT, |n| Dynamic::from(n as i64)),
        );
        out.insert(
            "reward_threshold".into(),
            spec.reward_threshold.map_or(Dynamic::UNIT, Dynamic::from_float),
        );
        let kwargs: Map = spec.kwargs.iter().map(|(k, v)| (k.as_str().into(), value(v))).collect();
        out.insert("kwargs".into(), Dynamic::from_map(kwargs));
        Ok(out)
    });
    api_fn!(m, "make", |id: &str| describe(id, &Default::default()));
    api_fn!(m, "make", |id: &str, kwargs: Map| {
        let json = rhai::serde::from_dynamic::<serde_json::Value>(&Dynamic::from_map(kwargs))
            .map_err(|e| {
                to_rhai(crate::Error::Invalid(format!("env::make: kwargs for {id}: {e}")))
            })?;
        let kwargs = crate::data::schema::kwargs_from_json(&json).map_err(|e| {
            to_rhai(crate::Error::Invalid(format!("env::make: kwargs for {id}: {e}")))
        })?;
        describe(id, &kwargs)
    });
    m
}

/// `env::make(id[, kwargs])`: build the env and describe its spaces.
fn describe(id: &str, kwargs: &graft_envs::Kwargs) -> Result<Map, Box<rhai::EvalAltResult>> {
    let env = graft_envs::make(id, kwargs).map_err(|e| to_rhai(e.into()))?;
    let mut out = Map::new();
    out.insert("id".into(), Dynamic::from(id.to_string()));
    out.insert("observation_space".into(), Dynamic::from(env.observation_space().to_string()));
    out.insert("action_space".into(), Dynamic::from(env.action_space().to_string()));
    Ok(out)
}

fn value(v: &Value) -> Dynamic {
    match v {
        Value::Bool(b) => Dynamic::from(*b),
        Value::Int(i) => Dynamic::from(*i),
        Value::Float(x) => Dynamic::from_float(*x),
        Value::Str(s) => Dynamic::from(s.clone()),
        Value::Floats(xs) => xs.iter().map(|x| Dynamic::from_float(*x)).collect::<Array>().into(),
        Value::Map(m) => {
            Dynamic::from_map(m.iter().map(|(k, v)| (k.as_str().into(), value(v))).collect())
        }
    }
}
