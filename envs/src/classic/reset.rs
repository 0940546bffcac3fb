//! Reset helpers of the classic-control envs: Gymnasium's reset-option bounds and the
//! generator each reset draws from.

use crate::env::Kwargs;
use crate::error::{EnvError, Result};
use crate::numpy_rng::{uniform_bounds_error, NumpyRng};

/// Reset bounds from `options["low"]` / `options["high"]` with defaults, as Gymnasium's
/// `maybe_parse_reset_bounds` (other option keys are ignored; `low > high` is refused), and
/// refused as numpy's `uniform` then refuses them (an infinite range).
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
    check_uniform_bounds(env, "high", low, high)?;
    Ok((low, high))
}

/// numpy's refusal of `uniform(low, high)` (a negative or non-finite `high - low`) as a
/// [`EnvError::BadKwarg`] on the reset option `key`.
pub(crate) fn check_uniform_bounds(env: &str, key: &str, low: f64, high: f64) -> Result<()> {
    match uniform_bounds_error(low, high) {
        None => Ok(()),
        Some(reason) => {
            Err(EnvError::BadKwarg { env: env.to_string(), key: key.to_string(), reason })
        }
    }
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

/// The generator for a reset, as Gymnasium's `Env.reset(seed)` keeps `np_random`: reseeded
/// from `seed` (`np.random.default_rng(seed)`), else the running stream, else (a first reset
/// without a seed) one seeded from operating-system entropy.
pub(crate) fn reseed(rng: &mut Option<NumpyRng>, seed: Option<u64>) -> &mut NumpyRng {
    if let Some(seed) = seed {
        *rng = Some(NumpyRng::from_seed(seed));
    }
    rng.get_or_insert_with(NumpyRng::from_entropy)
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
        // numpy's uniform refuses an infinite range (OverflowError).
        o.insert("high".into(), Value::Float(f64::INFINITY));
        assert!(reset_bounds("E", &o, -0.05, 0.05).is_err());
        o.insert("low".into(), Value::Float(-1e308));
        o.insert("high".into(), Value::Float(1e308));
        assert!(reset_bounds("E", &o, -0.05, 0.05).is_err());
    }

    #[test]
    fn a_seed_restarts_the_stream_and_no_seed_continues_it() {
        let mut rng = None;
        let a = reseed(&mut rng, Some(3)).random();
        let b = reseed(&mut rng, None).random();
        let mut numpy = NumpyRng::from_seed(3);
        assert_eq!((a, b), (numpy.random(), numpy.random()));
        assert_eq!(reseed(&mut rng, Some(3)).random(), a);
    }
}
