//! Value conversions between Graft's [`Value`]s (infos, reset options) and the JSON values
//! gymnasium-rs's info and options maps hold.

use gymnasium_rs::core as gym;
use serde_json::Value as Json;

use crate::env::{Info, Kwargs, Value};
use crate::error::{EnvError, Result};

/// A gymnasium-rs (JSON) value as a Graft [`Value`], where one exists.
fn value_from_json(v: &Json) -> Option<Value> {
    Some(match v {
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Float(n.as_f64()?),
        },
        Json::String(s) => Value::Str(s.clone()),
        Json::Array(xs) => Value::Floats(xs.iter().map(Json::as_f64).collect::<Option<_>>()?),
        Json::Object(m) => Value::Map(
            m.iter().map(|(k, v)| Some((k.clone(), value_from_json(v)?))).collect::<Option<_>>()?,
        ),
        Json::Null => return None,
    })
}

/// A Graft [`Value`] as JSON; non-finite floats become `null`, as `serde_json` writes them.
pub(super) fn value_to_json(v: &Value) -> Json {
    match v {
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::Float(x) => Json::from(*x),
        Value::Str(s) => Json::String(s.clone()),
        Value::Floats(xs) => Json::Array(xs.iter().map(|&x| Json::from(x)).collect()),
        Value::Map(m) => {
            Json::Object(m.iter().map(|(k, v)| (k.clone(), value_to_json(v))).collect())
        }
    }
}

pub(super) fn info_to_gym(info: &Info) -> gym::Info {
    info.iter().map(|(k, v)| (k.clone(), value_to_json(v))).collect()
}

/// Graft's form of a gymnasium-rs info dict; a JSON value Graft has no form for (`null`,
/// arrays of non-numbers) is kept as its JSON text.
pub(super) fn info_from_gym(info: &gym::Info) -> Info {
    info.iter()
        .map(|(k, v)| (k.clone(), value_from_json(v).unwrap_or_else(|| Value::Str(v.to_string()))))
        .collect()
}

pub(super) fn options_from_gym(options: &gym::Options, env: &str) -> Result<Kwargs> {
    options
        .iter()
        .map(|(k, v)| {
            let value = value_from_json(v).ok_or_else(|| EnvError::BadKwarg {
                env: env.to_string(),
                key: k.clone(),
                reason: format!("reset option {v} has no Graft form"),
            })?;
            Ok((k.clone(), value))
        })
        .collect()
}
