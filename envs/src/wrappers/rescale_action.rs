//! `RescaleAction`: expose a `Box` action space as `[min_action, max_action]` and map actions
//! affinely onto the env's own bounds, as Gymnasium 1.x's `gymnasium.wrappers.RescaleAction`.
//!
//! Per element, with both target bounds finite: `a_env = low + (a - min) (high - low) /
//! (max - min)`. Unbounded elements must stay unbounded on the same side (Gymnasium's rule);
//! a half-bounded element is shifted so the finite bounds meet, an unbounded one passes
//! through. The map runs in `f64`; an action inside `[min_action, max_action]` is clamped into
//! the env's bounds after it, so the endpoints land exactly on `low` and `high` despite
//! rounding. An action outside is mapped by the same line and handed on, as Gymnasium's
//! wrapper does (it neither checks nor clips): the env then clips it (Pendulum), passes it on
//! (MuJoCo clamps `ctrlrange`) or refuses it (a strict env, naming its own space). Kind,
//! length and NaN are checked here.

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

/// Map `a` from `[nlo, nhi]` onto `[lo, hi]`, in `f32` as the env receives it; an `a` inside
/// `[nlo, nhi]` lands inside `[lo, hi]` (the `f32` rounding could step past a bound by an ulp).
fn rescale(a: f32, (nlo, nhi, lo, hi): (f64, f64, f64, f64)) -> f32 {
    let x = a as f64;
    let y = match (nlo.is_finite(), nhi.is_finite()) {
        (true, true) => lo + (x - nlo) * ((hi - lo) / (nhi - nlo)),
        (true, false) => x - nlo + lo,
        (false, true) => x - nhi + hi,
        (false, false) => x,
    } as f32;
    if (nlo..=nhi).contains(&x) {
        y.max(lo as f32).min(hi as f32)
    } else {
        y
    }
}

impl<E: Env> RescaleAction<E> {
    /// The action the env receives for `xs` (checked for kind, length and NaN first).
    fn map_into(&self, action: ActionRef<'_>, out: &mut [f32]) -> Result<()> {
        self.action_space.check_clippable_action(self.env.id(), action)?;
        if let ActionRef::Continuous(xs) = action {
            for ((o, &x), &bd) in out.iter_mut().zip(xs).zip(&self.bounds) {
                *o = rescale(x, bd);
            }
        }
        Ok(())
    }
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

    /// The env's answer for the mapped action (see the module docs).
    fn check_action(&self, action: ActionRef<'_>) -> Result<()> {
        let mut mapped = vec![0.0; self.bounds.len()];
        self.map_into(action, &mut mapped)?;
        self.env.check_action(ActionRef::Continuous(&mapped))
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        let mut scratch = std::mem::take(&mut self.scratch);
        let mapped = self.map_into(action, &mut scratch);
        let out = mapped.and_then(|()| self.env.step_into(ActionRef::Continuous(&scratch), obs));
        self.scratch = scratch;
        out
    }
}
