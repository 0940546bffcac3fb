//! `RescaleAction`: expose a `Box` action space as `[min_action, max_action]` and map actions
//! affinely onto the env's own bounds, as Gymnasium 1.x's `gymnasium.wrappers.RescaleAction`.
//!
//! Per element, with both target bounds finite: `a_env = low + (a - min) (high - low) /
//! (max - min)`. Unbounded elements must stay unbounded on the same side (Gymnasium's rule);
//! a half-bounded element is shifted so the finite bounds meet, an unbounded one passes
//! through. The map runs in `f64` and the result is clamped into the env's bounds, so the
//! endpoints land exactly on `low` and `high` despite rounding; actions outside
//! `[min_action, max_action]` are refused with the wrapper's space in the error.

use crate::env::{ActionRef, Env, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::space::{BoxSpace, DType, Space};

/// Affinely rescales a continuous action space (see the module docs).
#[derive(Debug)]
pub struct RescaleAction<E> {
    env: E,
    action_space: Space,
    /// Per element: `(new_min, new_max, low, high)`.
    bounds: Vec<(f64, f64, f64, f64)>,
    scratch: Vec<f32>,
}

inner_accessors!(RescaleAction);

impl<E: Env> RescaleAction<E> {
    /// The same `[min_action, max_action]` for every element (Gymnasium's scalar form).
    pub fn new(env: E, min_action: f64, max_action: f64) -> Result<Self> {
        let n = match env.action_space() {
            Space::Box(b) => b.len(),
            _ => 0,
        };
        Self::with_bounds(env, vec![min_action; n], vec![max_action; n])
    }

    /// Per-element bounds; `min_action` and `max_action` must have one value per element of
    /// the env's action space.
    pub fn with_bounds(env: E, min_action: Vec<f64>, max_action: Vec<f64>) -> Result<Self> {
        let bad = |reason: String| EnvError::Space {
            space: env.action_space().to_string(),
            reason: format!("{}: RescaleAction: {reason}", env.id()),
        };
        let b = match env.action_space() {
            Space::Box(b) if b.dtype == DType::F32 => b,
            _ => return Err(bad("requires a float32 Box action space".into())),
        };
        for (what, xs) in [("min_action", &min_action), ("max_action", &max_action)] {
            if xs.len() != b.len() {
                return Err(EnvError::LengthMismatch {
                    what: format!("{}: RescaleAction {what}", env.id()),
                    expected: b.len(),
                    got: xs.len(),
                });
            }
            if xs.iter().any(|x| x.is_nan()) {
                return Err(bad(format!("{what} contains NaN")));
            }
        }
        let mut bounds = Vec::with_capacity(b.len());
        for i in 0..b.len() {
            // Round as the float32 space will, so checks and the map see the same bounds.
            let (nlo, nhi) = (min_action[i] as f32 as f64, max_action[i] as f32 as f64);
            let (lo, hi) = (b.low[i], b.high[i]);
            if (nlo.is_infinite() || lo.is_infinite()) && nlo != lo
                || (nhi.is_infinite() || hi.is_infinite()) && nhi != hi
            {
                return Err(bad(format!(
                    "element {i}: for unbounded components the target bounds must match the \
                     original infinite bounds (env [{lo}, {hi}], target [{nlo}, {nhi}])"
                )));
            }
            if nlo >= nhi {
                return Err(bad(format!(
                    "element {i}: min_action ({nlo}) must be strictly smaller than max_action \
                     ({nhi}); the rescaling has no inverse where they are equal"
                )));
            }
            bounds.push((nlo, nhi, lo, hi));
        }
        let action_space =
            Space::Box(BoxSpace::new(min_action, max_action, b.shape.clone(), DType::F32));
        let scratch = vec![0.0; b.len()];
        Ok(RescaleAction { env, action_space, bounds, scratch })
    }
}

/// Map `a` from `[nlo, nhi]` onto `[lo, hi]`.
fn rescale(a: f64, (nlo, nhi, lo, hi): (f64, f64, f64, f64)) -> f64 {
    let x = match (nlo.is_finite(), nhi.is_finite()) {
        (true, true) => lo + (a - nlo) * ((hi - lo) / (nhi - nlo)),
        (true, false) => a - nlo + lo,
        (false, true) => a - nhi + hi,
        (false, false) => a,
    };
    x.max(lo).min(hi)
}

impl<E: Env> Env for RescaleAction<E> {
    forward_env_basics!(own_action_space);

    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        self.env.reset_into(seed, options, obs)
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.action_space.check_action(self.env.id(), action)?;
        if let ActionRef::Continuous(xs) = action {
            for ((o, &x), &bd) in self.scratch.iter_mut().zip(xs).zip(&self.bounds) {
                // The f32 rounding can step past a bound by an ulp; clamp in f32 too.
                let (lo, hi) = (bd.2 as f32, bd.3 as f32);
                *o = (rescale(x as f64, bd) as f32).max(lo).min(hi);
            }
        }
        self.env.step_into(ActionRef::Continuous(&self.scratch), obs)
    }
}
