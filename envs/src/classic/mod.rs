//! Gymnasium's five classic-control environments, with Gymnasium 1.x equations, constants,
//! spaces and reset distributions (`gymnasium/envs/classic_control`).
//!
//! Each environment keeps its physical state in `f64` and hands out `f32` observations, with
//! the same floating-point operations, in the same order and at the same precision, as
//! Gymnasium's numpy code, so that trajectories agree with Gymnasium's to the last bits
//! (`tests/parity_classic.rs` replays recorded Gymnasium trajectories). Randomness comes from
//! Graft's [`EnvRng`], so reset distributions match Gymnasium's but not its numpy streams.
//!
//! This module also holds the small helpers the five share: keyword-argument parsing, reset
//! bounds, seeding, the action check of the two continuous envs, and frame buffers.

pub mod acrobot;
pub mod cartpole;
mod cartpole_config;
mod cartpole_kernel;
pub mod cartpole_vector;
pub mod continuous_mountain_car;
mod division;
pub mod mountain_car;
pub mod pendulum;
pub mod trig;

pub use acrobot::{Acrobot, AcrobotConfig, AcrobotDynamics};
pub use cartpole::{CartPole, CartPoleConfig, KinematicsIntegrator};
pub use cartpole_vector::CartPoleVectorEnv;
pub use continuous_mountain_car::{MountainCarContinuous, MountainCarContinuousConfig};
pub use mountain_car::{MountainCar, MountainCarConfig};
pub use pendulum::{Pendulum, PendulumConfig};

use image::RgbImage;

use crate::env::{ActionRef, Kwargs, ObsMut, Value};
use crate::error::{EnvError, Result};
use crate::rng::EnvRng;
use crate::space::Space;

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

/// The action check of the envs that clip a continuous action into their `Box` as Gymnasium
/// does (Pendulum, MountainCarContinuous): kind, length and finiteness always; the bounds only
/// when the env was built with `strict_actions`.
pub(crate) fn check_clipped_action(
    env: &str,
    space: &Space,
    strict: bool,
    action: ActionRef<'_>,
) -> Result<()> {
    if strict {
        space.check_action(env, action)
    } else {
        space.check_clippable_action(env, action)
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

/// Write `values` (rounded to `f32`, as `np.array(..., dtype=float32)`) into `obs.f32`.
#[inline]
pub(crate) fn write_obs(obs: &mut ObsMut<'_>, values: &[f64]) {
    for (o, &v) in obs.f32.iter_mut().zip(values) {
        *o = v as f32;
    }
}

/// `x ** 2` on a numpy `float64` scalar, as numpy computes it: the C library's `pow(x, 2.0)`,
/// which differs from `x * x` in the last bit for about one input in a thousand. The
/// exponent goes through `black_box` so the compiler cannot turn the call into `x * x`;
/// chaotic dynamics (Acrobot) would otherwise drift from Gymnasium's trajectories.
#[inline]
pub(crate) fn pow2(x: f64) -> f64 {
    x.powf(std::hint::black_box(2.0))
}

/// `x ** 2` on a numpy `float32` scalar (the C library's `powf(x, 2.0f)`).
#[inline]
pub(crate) fn pow2_f32(x: f32) -> f32 {
    x.powf(std::hint::black_box(2.0))
}

/// The error for rendering before the first `reset` (Gymnasium returns `None` there).
pub(crate) fn render_before_reset(env: &str) -> EnvError {
    EnvError::Render { env: env.to_string(), reason: "call reset() before render()".into() }
}

/// A full-size frame drawn by `draw` into a fresh image.
pub(crate) fn full_frame(
    width: u32,
    height: u32,
    draw: impl FnOnce(u32, u32, &mut [u8]) -> Result<()>,
) -> Result<RgbImage> {
    let mut img = RgbImage::new(width, height);
    draw(width, height, &mut img)?;
    Ok(img)
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

    /// numpy's `np.float64(-17.707971766946446) ** 2` is glibc's `pow`, one ulp away from
    /// `x * x` (which is the correctly rounded one); `pow2` must follow numpy.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn pow2_is_numpys_scalar_square() {
        let x = -17.707971766946446f64;
        assert_eq!(pow2(x), 313.5722640989725);
        assert_eq!(x * x, 313.5722640989724);
    }

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
