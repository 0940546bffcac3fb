//! Stable-Baselines3's Atari wrappers (`stable_baselines3.common.atari_wrappers`) that
//! AtariPreprocessing does not already cover: `EpisodicLifeEnv`, `FireResetEnv` and
//! `ClipRewardEnv`. CleanRL's `dqn_atari.py` / `ppo_atari.py` chain is
//! AtariPreprocessing (no-op reset, max-pooled frame skip, 84x84 grayscale) → [`EpisodicLife`]
//! → [`FireReset`] (for games whose second action is FIRE) → [`ClipReward`].

use image::RgbImage;

use super::env::{AleEnv, AtariEnv};
use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::space::Space;

/// [`AleEnv`] through a wrapper.
macro_rules! forward_atari_basics {
    ($name:ident) => {
        impl<E: AleEnv> AleEnv for $name<E> {
            fn atari(&self) -> &AtariEnv {
                self.env.atari()
            }

            fn atari_mut(&mut self) -> &mut AtariEnv {
                self.env.atari_mut()
            }
        }
    };
}

/// The `Env` methods a wrapper leaves alone.
macro_rules! forward_env_common {
    () => {
        fn id(&self) -> &str {
            self.env.id()
        }

        fn observation_space(&self) -> &Space {
            self.env.observation_space()
        }

        fn action_space(&self) -> &Space {
            self.env.action_space()
        }

        fn check_action(&self, action: ActionRef<'_>) -> Result<()> {
            self.env.check_action(action)
        }

        fn render(&self) -> Result<RgbImage> {
            self.env.render()
        }

        fn render_fps(&self) -> u32 {
            self.env.render_fps()
        }
    };
}

/// A lost life ends the episode for the agent (`terminated`), but only a real game over resets
/// the game: the next `reset` takes one NOOP step and play goes on from there. Mnih et al. 2015's
/// setting; the episode statistics should be recorded outside it.
#[derive(Debug)]
pub struct EpisodicLife<E> {
    env: E,
    lives: i32,
    was_real_done: bool,
    episode: EpisodeState,
}

impl<E: AleEnv> EpisodicLife<E> {
    pub fn new(env: E) -> Self {
        EpisodicLife { env, lives: 0, was_real_done: true, episode: EpisodeState::NeedsReset }
    }

    /// Whether the last episode end was a real game over (not only a lost life).
    pub fn was_real_done(&self) -> bool {
        self.was_real_done
    }
}

impl<E: AleEnv> Env for EpisodicLife<E> {
    forward_env_common!();

    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &Kwargs,
        mut obs: ObsMut<'_>,
    ) -> Result<Info> {
        let info = if self.was_real_done {
            self.env.reset_into(seed, options, obs)?
        } else {
            // No-op step to advance from the terminal-for-the-agent state of a lost life.
            let step = self.env.step_into(ActionRef::Discrete(0), obs.reborrow())?;
            if step.terminated || step.truncated {
                self.env.reset_into(seed, options, obs)?
            } else {
                step.info
            }
        };
        self.lives = self.env.atari().lives();
        self.episode = EpisodeState::Running;
        Ok(info)
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.episode.check_step(self.env.id())?;
        let mut out = self.env.step_into(action, obs)?;
        self.was_real_done = out.terminated || out.truncated;
        // Some games (Qbert) report 0 lives for a few frames at the very end: only a drop to a
        // positive count is a lost life, the game over itself is the inner env's terminal.
        let lives = self.env.atari().lives();
        if lives < self.lives && lives > 0 {
            out.terminated = true;
        }
        self.lives = lives;
        self.episode = EpisodeState::after_step(out.terminated, out.truncated);
        Ok(out)
    }
}

forward_atari_basics!(EpisodicLife);

/// Presses FIRE after every reset, for games that wait for it before play starts (Breakout's
/// ball, Beam Rider): FIRE, then action 2, resetting again if either ends the episode. Built
/// only for games whose action 1 is FIRE and that have at least three actions.
#[derive(Debug)]
pub struct FireReset<E> {
    env: E,
}

impl<E: AleEnv> FireReset<E> {
    pub fn new(env: E) -> Result<Self> {
        let meanings = env.atari().action_meanings();
        if meanings.get(1) != Some(&"FIRE") || meanings.len() < 3 {
            return Err(EnvError::BadKwarg {
                env: env.id().into(),
                key: "FireReset".into(),
                reason: format!(
                    "needs FIRE as action 1 and at least three actions; the game's actions are \
                     {meanings:?}"
                ),
            });
        }
        Ok(FireReset { env })
    }
}

impl<E: AleEnv> Env for FireReset<E> {
    forward_env_common!();

    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &Kwargs,
        mut obs: ObsMut<'_>,
    ) -> Result<Info> {
        self.env.reset_into(seed, options, obs.reborrow())?;
        for action in [1, 2] {
            let step = self.env.step_into(ActionRef::Discrete(action), obs.reborrow())?;
            if step.terminated || step.truncated {
                self.env.reset_into(seed, options, obs.reborrow())?;
            }
        }
        // SB3 returns an empty info from this reset.
        Ok(Info::new())
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.env.step_into(action, obs)
    }
}

forward_atari_basics!(FireReset);

/// Rewards clipped to their sign (-1, 0 or +1), as DQN trains on them.
#[derive(Debug)]
pub struct ClipReward<E> {
    env: E,
}

impl<E: Env> ClipReward<E> {
    pub fn new(env: E) -> Self {
        ClipReward { env }
    }
}

/// `np.sign`: 0 for 0 (where `f64::signum` would give 1).
fn sign(x: f64) -> f64 {
    if x > 0.0 {
        1.0
    } else if x < 0.0 {
        -1.0
    } else {
        0.0
    }
}

impl<E: Env> Env for ClipReward<E> {
    forward_env_common!();

    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        self.env.reset_into(seed, options, obs)
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        let mut out = self.env.step_into(action, obs)?;
        out.reward = sign(out.reward);
        Ok(out)
    }
}

forward_atari_basics!(ClipReward);

#[cfg(test)]
mod tests {
    use super::sign;

    #[test]
    fn sign_is_numpys() {
        assert_eq!([sign(3.0), sign(-0.5), sign(0.0), sign(-0.0)], [1.0, -1.0, 0.0, 0.0]);
    }
}
