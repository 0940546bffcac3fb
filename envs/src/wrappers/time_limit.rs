//! `TimeLimit`: truncate episodes after a fixed number of steps, as Gymnasium 1.x's
//! `gymnasium.wrappers.TimeLimit`, which `make` applies from the spec's `max_episode_steps`.
//!
//! The step that brings the count to the limit returns `truncated = true`; the inner env's
//! `terminated` is passed on untouched, so both flags are set when the last allowed step also
//! ends the MDP (Gymnasium does the same; learners bootstrap only when `terminated` is false).

use image::RgbImage;

use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::space::Space;

/// Wraps `E` and truncates its episodes after `max_episode_steps` steps.
#[derive(Debug, Clone)]
pub struct TimeLimit<E> {
    env: E,
    max_episode_steps: u64,
    elapsed_steps: u64,
    episode: EpisodeState,
}

impl<E: Env> TimeLimit<E> {
    /// Wrap `env`; `max_episode_steps` must be positive (Gymnasium raises `ValueError`).
    pub fn new(env: E, max_episode_steps: u64) -> Result<Self> {
        if max_episode_steps == 0 {
            return Err(EnvError::BadKwarg {
                env: env.id().to_string(),
                key: "max_episode_steps".into(),
                reason: "must be positive, got 0".into(),
            });
        }
        Ok(TimeLimit {
            env,
            max_episode_steps,
            elapsed_steps: 0,
            episode: EpisodeState::NeedsReset,
        })
    }

    /// The step limit.
    pub fn max_episode_steps(&self) -> u64 {
        self.max_episode_steps
    }

    /// Steps taken since the last reset.
    pub fn elapsed_steps(&self) -> u64 {
        self.elapsed_steps
    }

    /// The wrapped environment.
    pub fn inner(&self) -> &E {
        &self.env
    }

    /// The wrapped environment, mutably (e.g. to inject a state).
    pub fn inner_mut(&mut self) -> &mut E {
        &mut self.env
    }

    /// Unwrap.
    pub fn into_inner(self) -> E {
        self.env
    }

    /// The error for a step outside a running episode (kept out of the hot path).
    #[cold]
    #[inline(never)]
    fn refusal(&self) -> EnvError {
        match self.episode.check_step(self.env.id()) {
            Err(e) => e,
            Ok(()) => EnvError::StepAfterDone { env: self.env.id().to_string() },
        }
    }
}

impl<E: Env> Env for TimeLimit<E> {
    #[inline]
    fn id(&self) -> &str {
        self.env.id()
    }

    #[inline]
    fn observation_space(&self) -> &Space {
        self.env.observation_space()
    }

    #[inline]
    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    #[inline]
    fn check_action(&self, action: ActionRef<'_>) -> Result<()> {
        self.env.check_action(action)
    }

    #[inline]
    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        let info = self.env.reset_into(seed, options, obs)?;
        self.elapsed_steps = 0;
        self.episode = EpisodeState::Running;
        Ok(info)
    }

    #[inline]
    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        // The inner env would accept a step after a truncation; this wrapper must refuse it.
        if self.episode != EpisodeState::Running {
            return Err(self.refusal());
        }
        let mut out = self.env.step_into(action, obs)?;
        self.elapsed_steps += 1;
        out.truncated |= self.elapsed_steps >= self.max_episode_steps;
        self.episode = EpisodeState::after_step(out.terminated, out.truncated);
        Ok(out)
    }

    fn render(&self) -> Result<RgbImage> {
        self.env.render()
    }

    fn render_into(&self, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
        self.env.render_into(width, height, out)
    }

    fn render_fps(&self) -> u32 {
        self.env.render_fps()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Action, Obs};
    use crate::space::Space;

    /// Counts steps; terminates at step `end`.
    struct Counter {
        t: u64,
        end: u64,
        obs: Space,
        act: Space,
    }

    impl Env for Counter {
        fn id(&self) -> &str {
            "Counter"
        }
        fn observation_space(&self) -> &Space {
            &self.obs
        }
        fn action_space(&self) -> &Space {
            &self.act
        }
        fn reset_into(&mut self, _: Option<u64>, _: &Kwargs, _: ObsMut<'_>) -> Result<Info> {
            self.t = 0;
            Ok(Info::new())
        }
        fn step_into(&mut self, _: ActionRef<'_>, _: ObsMut<'_>) -> Result<StepOutcome> {
            self.t += 1;
            Ok(StepOutcome {
                reward: 1.0,
                terminated: self.t >= self.end,
                truncated: false,
                info: Info::new(),
            })
        }
        fn render(&self) -> Result<RgbImage> {
            Ok(RgbImage::new(1, 1))
        }
    }

    fn counter(end: u64) -> Counter {
        Counter { t: 0, end, obs: Space::box_f32(vec![0.0], vec![1.0]), act: Space::discrete(1) }
    }

    #[test]
    fn truncates_at_the_limit_and_refuses_further_steps() {
        let mut env = TimeLimit::new(counter(100), 3).unwrap();
        let a = Action::Discrete(0);
        assert!(matches!(env.step(&a), Err(EnvError::StepBeforeReset { .. })));
        env.reset(None, &Kwargs::new()).unwrap();
        assert!(!env.step(&a).unwrap().truncated);
        assert!(!env.step(&a).unwrap().truncated);
        let last = env.step(&a).unwrap();
        assert!(last.truncated && !last.terminated);
        assert!(matches!(env.step(&a), Err(EnvError::StepAfterDone { .. })));
        env.reset(None, &Kwargs::new()).unwrap();
        assert_eq!(env.elapsed_steps(), 0);
        assert!(!env.step(&a).unwrap().truncated);
    }

    #[test]
    fn both_flags_when_termination_meets_the_limit() {
        let inner: Box<dyn Env> = Box::new(counter(2));
        let mut env = TimeLimit::new(inner, 2).unwrap();
        let mut obs = Obs::zeros(env.observation_space());
        env.reset_into(None, &Kwargs::new(), obs.as_mut()).unwrap();
        env.step_into(ActionRef::Discrete(0), obs.as_mut()).unwrap();
        let out = env.step_into(ActionRef::Discrete(0), obs.as_mut()).unwrap();
        assert!(out.terminated && out.truncated);
    }

    #[test]
    fn zero_limit_is_refused() {
        assert!(matches!(TimeLimit::new(counter(1), 0), Err(EnvError::BadKwarg { .. })));
    }
}
