//! `AtariPreprocessing`: Gymnasium 1.4.0's `gymnasium.wrappers.AtariPreprocessing` (Machado et
//! al. 2018's standard pipeline), step for step.
//!
//! On reset, 1..=`noop_max` NOOP steps (a draw from the env's `np_random`, reseeded by a seeded
//! reset). Each step repeats the action `frame_skip` times on an env whose own frame skip is 1,
//! keeps the screens of the last two frames and takes their pixel-wise maximum (the 2600 draws
//! some sprites every other frame), then resizes to `screen_size` with OpenCV's `INTER_AREA`.
//! Screens come from ALE directly (its grayscale palette, not an RGB conversion), as
//! Gymnasium's wrapper reads them. Gymnasium's quirks are kept, since the observations are
//! checked against it bit for bit: when an episode ends inside the skip, the pooled frame is
//! whatever the two buffers held (the first of them is pooled in place), and a reset zeroes
//! the second buffer.

use super::env::{AleEnv, AtariEnv};
use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::space::{BoxSpace, DType, Space};
use crate::wrappers::resize::AreaResize;

use super::games::Frameskip;

/// The wrapper's settings (Gymnasium's defaults from [`Default`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AtariPreprocessingConfig {
    /// Up to this many NOOPs after a reset (0: none).
    pub noop_max: u32,
    /// Frames per step.
    pub frame_skip: u32,
    /// `(width, height)` of the observation, as Gymnasium's `screen_size` tuple.
    pub screen_size: (usize, usize),
    /// A lost life ends the episode (`terminated`).
    pub terminal_on_life_loss: bool,
    /// Grayscale (`[h, w]`) instead of RGB (`[h, w, 3]`).
    pub grayscale_obs: bool,
    /// Grayscale as `[h, w, 1]`.
    pub grayscale_newaxis: bool,
    /// Observations as float32 in [0, 1] instead of bytes.
    pub scale_obs: bool,
}

impl Default for AtariPreprocessingConfig {
    fn default() -> Self {
        AtariPreprocessingConfig {
            noop_max: 30,
            frame_skip: 4,
            screen_size: (84, 84),
            terminal_on_life_loss: false,
            grayscale_obs: true,
            grayscale_newaxis: false,
            scale_obs: false,
        }
    }
}

/// The preprocessing wrapper (see the module docs).
#[derive(Debug)]
pub struct AtariPreprocessing {
    env: AtariEnv,
    config: AtariPreprocessingConfig,
    space: Space,
    /// The last two screens: `[0]` the last frame's, `[1]` the one before.
    buffers: [Vec<u8>; 2],
    resize: AreaResize,
    /// The resized frame, before scaling to float.
    resized: Vec<u8>,
    lives: i32,
    game_over: bool,
    episode: EpisodeState,
}

impl AtariPreprocessing {
    /// Wrap `env`, whose own frame skip must be 1 when `frame_skip > 1` (as Gymnasium
    /// demands: `ALE/<Game>-v5` with `frameskip=1`, or `<Game>NoFrameskip-v4`).
    pub fn new(env: AtariEnv, config: AtariPreprocessingConfig) -> Result<Self> {
        let id = env.id().to_string();
        let bad = |key: &str, reason: String| EnvError::BadKwarg {
            env: id.clone(),
            key: key.into(),
            reason,
        };
        if config.frame_skip == 0 {
            return Err(bad("frame_skip", "must be positive, got 0".into()));
        }
        let (width, height) = config.screen_size;
        if width == 0 || height == 0 {
            return Err(bad("screen_size", format!("must be positive, got ({width}, {height})")));
        }
        let inner = &env;
        if config.frame_skip > 1 && inner.config().frameskip != Frameskip::Fixed(1) {
            return Err(bad(
                "frame_skip",
                format!(
                    "the wrapped env already skips frames ({:?}); disable its frame skip \
                     (frameskip=1, or a NoFrameskip id) or the frames are skipped twice",
                    inner.config().frameskip
                ),
            ));
        }
        if config.noop_max > 0 && inner.action_meanings().first() != Some(&"NOOP") {
            return Err(bad("noop_max", "the env's first action is not NOOP".into()));
        }
        let (h, w) = inner.ale().screen_dims();
        let channels = if config.grayscale_obs { 1 } else { 3 };
        let mut shape = vec![height, width];
        if !config.grayscale_obs || config.grayscale_newaxis {
            shape.push(channels);
        }
        let space = if config.scale_obs {
            Space::Box(BoxSpace::uniform(0.0, 1.0, shape, DType::F32))
        } else {
            Space::Box(BoxSpace::uniform(0.0, 255.0, shape, DType::U8))
        };
        Ok(AtariPreprocessing {
            buffers: [vec![0; h * w * channels], vec![0; h * w * channels]],
            resize: AreaResize::new(h, w, channels, height, width),
            resized: vec![0; height * width * channels],
            space,
            config,
            env,
            lives: 0,
            game_over: false,
            episode: EpisodeState::NeedsReset,
        })
    }

    /// The wrapped env.
    pub fn inner(&self) -> &AtariEnv {
        &self.env
    }

    /// Whether the last step ended the game (`game_over`, a life under
    /// `terminal_on_life_loss`).
    pub fn game_over(&self) -> bool {
        self.game_over
    }

    fn grab(&mut self, which: usize) -> Result<()> {
        let ale = self.env.ale();
        if self.config.grayscale_obs {
            ale.screen_grayscale(&mut self.buffers[which])
        } else {
            ale.screen_rgb(&mut self.buffers[which])
        }
    }

    /// Gymnasium's `_get_obs`: pool the two buffers into the first (in place), resize, scale.
    fn write_obs(&mut self, obs: ObsMut<'_>) {
        if self.config.frame_skip > 1 {
            let [last, before] = &mut self.buffers;
            for (a, &b) in last.iter_mut().zip(before.iter()) {
                *a = (*a).max(b);
            }
        }
        if self.config.scale_obs {
            self.resize.resize(&self.buffers[0], &mut self.resized);
            for (o, &v) in obs.f32.iter_mut().zip(&self.resized) {
                *o = f32::from(v) / 255.0;
            }
        } else {
            self.resize.resize(&self.buffers[0], obs.u8);
        }
    }
}

impl Env for AtariPreprocessing {
    fn id(&self) -> &str {
        self.env.id()
    }

    fn observation_space(&self) -> &Space {
        &self.space
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn check_action(&self, action: ActionRef<'_>) -> Result<()> {
        self.env.check_action(action)
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        obs.check(&self.space, self.env.id())?;
        let mut info = self.env.reset_without_obs(seed, options)?;
        let noops = if self.config.noop_max > 0 {
            self.env.np_random_mut().integers(1, i64::from(self.config.noop_max) + 1)?
        } else {
            0
        };
        for _ in 0..noops {
            let step = self.env.step_without_obs(ActionRef::Discrete(0))?;
            let done = step.terminated || step.truncated;
            info.extend(step.info);
            if done {
                info = self.env.reset_without_obs(seed, options)?;
            }
        }
        self.lives = self.env.lives();
        self.grab(0)?;
        self.buffers[1].fill(0);
        self.write_obs(obs);
        self.game_over = false;
        self.episode = EpisodeState::Running;
        Ok(info)
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.episode.check_step(self.env.id())?;
        obs.check(&self.space, self.env.id())?;
        self.check_action(action)?;
        let skip = self.config.frame_skip;
        let mut total = 0.0;
        let (mut terminated, mut truncated, mut info) = (false, false, Info::new());
        for t in 0..skip {
            let step = self.env.step_without_obs(action)?;
            total += step.reward;
            (terminated, truncated, info) = (step.terminated, step.truncated, step.info);
            self.game_over = terminated;
            if self.config.terminal_on_life_loss {
                let lives = self.env.lives();
                terminated = terminated || lives < self.lives;
                self.game_over = terminated;
                self.lives = lives;
            }
            if terminated || truncated {
                break;
            }
            if skip >= 2 && t == skip - 2 {
                self.grab(1)?;
            } else if t == skip - 1 {
                self.grab(0)?;
            }
        }
        self.write_obs(obs);
        self.episode = EpisodeState::after_step(terminated, truncated);
        Ok(StepOutcome { reward: total, terminated, truncated, info })
    }

    fn render(&self) -> Result<image::RgbImage> {
        self.env.render()
    }

    fn render_fps(&self) -> u32 {
        self.env.render_fps()
    }
}

impl AleEnv for AtariPreprocessing {
    fn atari(&self) -> &AtariEnv {
        &self.env
    }

    fn atari_mut(&mut self) -> &mut AtariEnv {
        &mut self.env
    }
}
