//! Reset helpers of the classic-control envs: Gymnasium's reset-option bounds and the
//! generator each reset draws from.

use crate::env::Kwargs;
use crate::error::{EnvError, Result};
use crate::rng::EnvRng;

/// Reset bounds from `options["low"]` / `options["high"]` with defaults, as Gymnasium's
/// `maybe_parse_reset_bounds` (other option keys are ignored; `low > high` is refused).
pub(crate) fn reset_bounds(env: &str, options: &Kwargs, low: f64, high: f64) -> Result<(f64, f64)> {
    let low = reset_number(env, options, "low")?.unwrap_or(low);
    let high = reset_number(env, options, "high")?.unwrap_or(high);
    if low > high {
        return Err(EnvError::BadKwarg {
            env: env.to_string(),
            key: "low".into(),
            reason: format!("lower bound ({low}) must be lower than higher bound ({high})"),
        });
    }
    Ok((low, high))
}

/// A numeric reset option, as Gymnasium's `verify_number_and_cast`.
pub(crate) fn reset_number(env: &str, options: &Kwargs, key: &str) -> Result<Option<f64>> {
    match options.get(key) {
        None => Ok(None),
        Some(v) => match v.as_f64() {
            Some(x) if !x.is_nan() => Ok(Some(x)),
            _ => Err(EnvError::BadKwarg {
                env: env.to_string(),
                key: key.to_string(),
                reason: format!("reset option could not be converted to a float: {v:?}"),
            }),
        },
    }
}

/// The generator for a reset: reseeded from `seed`, else the running stream, else (first
/// reset without a seed) one seeded from entropy, as Gymnasium does.
pub(crate) fn reseed(rng: &mut Option<EnvRng>, seed: Option<u64>) -> &mut EnvRng {
    if let Some(seed) = seed {
        *rng = Some(EnvRng::seed_from(seed));
    }
    rng.get_or_insert_with(EnvRng::from_entropy)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Value;

    #[test]
    fn reset_bounds_follow_gymnasium() {
        let mut o = Kwargs::new();
        assert_eq!(reset_bounds("E", &o, -0.05, 0.05), Ok((-0.05, 0.05)));
        o.insert("low".into(), Value::Float(-0.2));
        assert_eq!(reset_bounds("E", &o, -0.05, 0.05), Ok((-0.2, 0.05)));
        o.insert("high".into(), Value::Float(-0.3));
        assert!(reset_bounds("E", &o, -0.05, 0.05).is_err());
        o.insert("high".into(), Value::Str("a".into()));
        assert!(reset_bounds("E", &o, -0.05, 0.05).is_err());
    }
}
