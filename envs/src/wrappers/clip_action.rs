//! `ClipAction`: clip continuous actions into the env's `Box` bounds, as Gymnasium 1.x's
//! `gymnasium.wrappers.ClipAction`. The wrapper's action space is the same shape with
//! infinite bounds; non-finite values are still refused.

use crate::env::{ActionRef, Env, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::space::{BoxSpace, DType, Space};

/// Clips each action element into `[low, high]` of the inner env's action space.
#[derive(Debug)]
pub struct ClipAction<E> {
    env: E,
    action_space: Space,
    low: Vec<f32>,
    high: Vec<f32>,
    scratch: Vec<f32>,
}

inner_accessors!(ClipAction);

impl<E: Env> ClipAction<E> {
    /// Wrap `env`, whose action space must be a `float32` `Box`.
    pub fn new(env: E) -> Result<Self> {
        let b = match env.action_space() {
            Space::Box(b) if b.dtype == DType::F32 => b.clone(),
            other => {
                return Err(EnvError::Space {
                    space: other.to_string(),
                    reason: format!("{}: ClipAction requires a float32 Box action space", env.id()),
                })
            }
        };
        let n = b.len();
        let action_space = Space::Box(BoxSpace::uniform(
            f64::NEG_INFINITY,
            f64::INFINITY,
            b.shape.clone(),
            DType::F32,
        ));
        Ok(ClipAction {
            low: b.low.iter().map(|&x| x as f32).collect(),
            high: b.high.iter().map(|&x| x as f32).collect(),
            scratch: vec![0.0; n],
            action_space,
            env,
        })
    }
}

impl<E: Env> Env for ClipAction<E> {
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
            for (((o, &x), &lo), &hi) in
                self.scratch.iter_mut().zip(xs).zip(&self.low).zip(&self.high)
            {
                // max/min rather than clamp: clamp panics if lo > hi, which a space never has
                // but a hand-built one might.
                *o = x.max(lo).min(hi);
            }
        }
        self.env.step_into(ActionRef::Continuous(&self.scratch), obs)
    }
}
