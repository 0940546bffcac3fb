//! The one training env of an off-policy agent (DQN, SAC, as CleanRL's `dqn.py` and
//! `sac_continuous_action.py` step theirs): the observation the agent acts on, each step's
//! transition stored in the replay buffer (through n-step returns), the step counted in the
//! run's episode log, and a reset after an episode ends. A truncated episode's transition
//! keeps its final observation, so its target still bootstraps from it.

use graft_envs::{ActionRef, Env, Kwargs, Obs};

use crate::error::Result;
use crate::rl::buffer::{NStep, ReplayBuffer};
use crate::rl::harness::Harness;

/// One env and its observation buffers.
pub struct SingleEnv {
    env: Box<dyn Env>,
    /// The observation the agent acts on next.
    pub obs: Obs,
    next: Obs,
}

impl SingleEnv {
    /// `env`, reset with `seed`.
    pub fn new(mut env: Box<dyn Env>, seed: u64) -> Result<Self> {
        let mut obs = Obs::zeros(env.observation_space());
        env.reset_into(Some(seed), &Kwargs::new(), obs.as_mut())?;
        let next = obs.clone();
        Ok(SingleEnv { env, obs, next })
    }

    /// Take `action` at env step `step`: store the transition (the action as the buffer holds
    /// it, `stored`) in `rb` through `returns`, count the step in `run`, and move to the next
    /// observation or, after the episode's end, to a fresh episode.
    pub fn step(
        &mut self,
        action: ActionRef<'_>,
        stored: &[f32],
        returns: &mut NStep,
        rb: &mut ReplayBuffer,
        run: &mut Harness<'_, '_>,
        step: u64,
    ) -> Result<()> {
        let out = self.env.step_into(action, self.next.as_mut())?;
        returns.push(
            (&self.obs.f32, &self.obs.u8),
            stored,
            out.reward as f32,
            (&self.next.f32, &self.next.u8),
            out.terminated,
            out.truncated,
            rb,
        );
        let done = out.terminated || out.truncated;
        run.on_step(0, out.reward, done, step)?;
        if done {
            self.env.reset_into(None, &Kwargs::new(), self.obs.as_mut())?;
        } else {
            std::mem::swap(&mut self.obs, &mut self.next);
        }
        Ok(())
    }
}
