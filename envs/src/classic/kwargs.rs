//! Keyword arguments of the classic-control envs: the unknown-key check, typed lookups and
//! config-value validation.

use crate::env::{Kwargs, Value};
use crate::error::{EnvError, Result};

/// Fail on any keyword argument not in `known` (Gymnasium raises `TypeError` there).
pub(crate) fn check_kwargs(env: &str, kwargs: &Kwargs, known: &[&str]) -> Result<()> {
    match kwargs.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(key) => Err(EnvError::BadKwarg {
            env: env.to_string(),
            key: key.clone(),
            reason: format!("unknown argument; accepted: {}", known.join(", ")),
        }),
    }
}

fn wrong_type(env: &str, key: &str, want: &str, got: &Value) -> EnvError {
    EnvError::BadKwarg {
        env: env.to_string(),
        key: key.to_string(),
        reason: format!("expected {want}, got {got:?}"),
    }
}

/// A finite number (ints convert) under `key`, if present.
pub(crate) fn kwarg_f64(env: &str, kwargs: &Kwargs, key: &str) -> Result<Option<f64>> {
    match kwargs.get(key) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(x) if x.is_finite() => Ok(Some(x)),
            _ => Err(wrong_type(env, key, "a finite number", v)),
        },
    }
}

/// A bool under `key`, if present.
pub(crate) fn kwarg_bool(env: &str, kwargs: &Kwargs, key: &str) -> Result<Option<bool>> {
    match kwargs.get(key) {
        None => Ok(None),
        Some(v) => v.as_bool().map(Some).ok_or_else(|| wrong_type(env, key, "a bool", v)),
    }
}

/// A string under `key`, if present.
pub(crate) fn kwarg_str<'a>(env: &str, kwargs: &'a Kwargs, key: &str) -> Result<Option<&'a str>> {
    match kwargs.get(key) {
        None => Ok(None),
        Some(v) => v.as_str().map(Some).ok_or_else(|| wrong_type(env, key, "a string", v)),
    }
}

/// Fail unless `x` is finite (and positive when `positive`): config validation.
pub(crate) fn check_param(env: &str, key: &str, x: f64, positive: bool) -> Result<()> {
    if !x.is_finite() || (positive && x <= 0.0) {
        let want = if positive { "a positive finite number" } else { "a finite number" };
        return Err(EnvError::BadKwarg {
            env: env.to_string(),
            key: key.to_string(),
            reason: format!("expected {want}, got {x}"),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kwargs_are_typed_and_checked() {
        let mut kw = Kwargs::new();
        kw.insert("g".into(), Value::Int(9));
        assert_eq!(kwarg_f64("P", &kw, "g"), Ok(Some(9.0)));
        assert_eq!(kwarg_f64("P", &kw, "h"), Ok(None));
        kw.insert("s".into(), Value::Str("x".into()));
        assert!(matches!(kwarg_f64("P", &kw, "s"), Err(EnvError::BadKwarg { .. })));
        assert!(matches!(kwarg_bool("P", &kw, "g"), Err(EnvError::BadKwarg { .. })));
        assert!(
            matches!(check_kwargs("P", &kw, &["g"]), Err(EnvError::BadKwarg { key, .. }) if key == "s")
        );
        assert!(check_kwargs("P", &kw, &["g", "s"]).is_ok());
    }
}
