//! `RepeatAction`: repeat each action `num_repeats` times, summing the rewards and stopping
//! early when the episode terminates or is truncated, as Gymnasium 1.x's
//! `gymnasium.wrappers.RepeatAction` (the classic "frame skip" / action repeat).
//!
//! The observation and `info` are those of the last inner step.

use crate::env::{ActionRef, Env, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::space::Space;

/// Repeats every action (see the module docs).
#[derive(Debug)]
pub struct RepeatAction<E> {
    env: E,
    num_repeats: usize,
}

inner_accessors!(RepeatAction);

impl<E: Env> RepeatAction<E> {
    /// Repeat each action `num_repeats` (at least 1) times.
    pub fn new(env: E, num_repeats: usize) -> Result<Self> {
        if num_repeats == 0 {
            return Err(EnvError::Other(format!(
                "{}: RepeatAction: num_repeats must be at least 1, got 0",
                env.id()
            )));
        }
        Ok(RepeatAction { env, num_repeats })
    }

    /// How many inner steps one step takes (at most).
    pub fn num_repeats(&self) -> usize {
        self.num_repeats
    }
}

impl<E: Env> Env for RepeatAction<E> {
    forward_env_basics!();

    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        self.env.reset_into(seed, options, obs)
    }

    fn step_into(&mut self, action: ActionRef<'_>, mut obs: ObsMut<'_>) -> Result<StepOutcome> {
        let mut total = 0.0;
        let mut last = self.env.step_into(action, obs.reborrow())?;
        total += last.reward;
        for _ in 1..self.num_repeats {
            if last.terminated || last.truncated {
                break;
            }
            last = self.env.step_into(action, obs.reborrow())?;
            total += last.reward;
        }
        last.reward = total;
        Ok(last)
    }
}
