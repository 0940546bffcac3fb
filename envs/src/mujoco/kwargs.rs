//! Keyword arguments of the MuJoCo environments: the typed lookups the classic-control envs
//! use, plus the two kinds only this suite has (a frame count and a `(low, high)` range).

use crate::env::{Kwargs, Value};
use crate::error::{EnvError, Result};

pub(crate) use crate::classic::{check_kwargs, check_param, kwarg_bool, kwarg_f64, kwarg_str};

fn bad(env: &str, key: &str, reason: String) -> EnvError {
    EnvError::BadKwarg { env: env.to_string(), key: key.to_string(), reason }
}

/// A positive int under `key` (`frame_skip`), if present.
pub(crate) fn kwarg_frames(env: &str, kwargs: &Kwargs, key: &str) -> Result<Option<u32>> {
    match kwargs.get(key) {
        None => Ok(None),
        Some(Value::Int(n)) if *n >= 1 && *n <= i64::from(u32::MAX) => Ok(Some(*n as u32)),
        Some(v) => Err(bad(env, key, format!("expected a positive int, got {v:?}"))),
    }
}

/// A `(low, high)` pair under `key` (Gymnasium's tuples such as `healthy_z_range`), if
/// present: two numbers, infinities allowed (`(0.7, inf)`), NaN not.
pub(crate) fn kwarg_range(env: &str, kwargs: &Kwargs, key: &str) -> Result<Option<(f64, f64)>> {
    match kwargs.get(key) {
        None => Ok(None),
        Some(Value::Floats(xs)) if xs.len() == 2 && !xs.iter().any(|x| x.is_nan()) => {
            Ok(Some((xs[0], xs[1])))
        }
        Some(v) => Err(bad(env, key, format!("expected a (low, high) pair of numbers, got {v:?}"))),
    }
}

/// The `(low, high)` pair as a keyword value.
pub(crate) fn range_value((low, high): (f64, f64)) -> Value {
    Value::Floats(vec![low, high])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_ranges_are_typed() {
        let mut kw = Kwargs::new();
        kw.insert("frame_skip".into(), Value::Int(4));
        kw.insert("r".into(), Value::Floats(vec![0.7, f64::INFINITY]));
        assert_eq!(kwarg_frames("E", &kw, "frame_skip"), Ok(Some(4)));
        assert_eq!(kwarg_range("E", &kw, "r"), Ok(Some((0.7, f64::INFINITY))));
        assert_eq!(kwarg_range("E", &kw, "none"), Ok(None));
        for bad in [Value::Int(0), Value::Float(4.0), Value::Int(-2)] {
            kw.insert("frame_skip".into(), bad);
            assert!(matches!(kwarg_frames("E", &kw, "frame_skip"), Err(EnvError::BadKwarg { .. })));
        }
        for bad in [Value::Floats(vec![1.0]), Value::Floats(vec![f64::NAN, 1.0]), Value::Float(1.0)]
        {
            kw.insert("r".into(), bad);
            assert!(matches!(kwarg_range("E", &kw, "r"), Err(EnvError::BadKwarg { .. })));
        }
    }
}
