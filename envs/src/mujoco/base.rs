//! [`MujocoEnv`]: the [`Env`] protocol shared by the MuJoCo environments, and
//! [`MujocoTask`], what each environment adds (Gymnasium's `step`, `reset_model`, `_get_obs`
//! and `_get_reset_info` of its `*_v5.py`).
//!
//! `reset` follows `MujocoEnv.reset`: reseed when a seed is given, `mj_resetData`, the task's
//! `reset_model` (noise around the initial state, then `set_state`), the observation and the
//! task's reset info. `step` checks the episode and the action (right length, finite; values
//! outside the box are allowed and reach MuJoCo as they are), runs the task's step and adds
//! MuJoCo's warnings to `info` (see [`warnings`](super::warnings)).
//!
//! `render` draws the simulation offscreen as Gymnasium's `rgb_array` mode
//! ([`renderer`](super::renderer)), with the rendering arguments of [`RenderConfig`].
//!
//! Observations are computed in `f64`, as Gymnasium's float64 observation arrays; the `Env`
//! interface hands out `f32` (Graft's observation buffers are float32), and
//! [`MujocoEnv::observation_f64`] gives the full-precision values.

use std::sync::Mutex;

use image::RgbImage;

use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::mujoco::error::MujocoError;
use crate::mujoco::noise::{self, NoiseRng, ResetNoise};
use crate::mujoco::render_config::{CameraConfig, RenderConfig};
use crate::mujoco::renderer::Renderer;
use crate::mujoco::sim::Simulation;
use crate::mujoco::warnings;
use crate::space::Space;

/// What one Gymnasium MuJoCo environment defines on top of [`Simulation`].
pub trait MujocoTask: Send + 'static {
    /// Gymnasium's id, e.g. `"Hopper-v5"`.
    fn id(&self) -> &'static str;

    /// Observation length for this model and configuration.
    fn obs_len(&self, sim: &Simulation) -> usize;

    /// Gymnasium's `reset_model`, without computing the observation: draw noise around the
    /// initial state and `set_state` it.
    fn reset_model(&mut self, sim: &mut Simulation, noise: &mut dyn ResetNoise) -> Result<()>;

    /// Gymnasium's `_get_obs`, into `obs` (length [`obs_len`](Self::obs_len)).
    fn observe(&self, sim: &Simulation, obs: &mut [f64]);

    /// Gymnasium's `DEFAULT_CAMERA_CONFIG` of the environment's `*_v5.py` (none by default).
    fn default_camera(&self) -> CameraConfig {
        CameraConfig::default()
    }

    /// Gymnasium's `_get_reset_info` (empty by default).
    fn reset_info(&self, _sim: &Simulation, _info: &mut Info) {}

    /// Gymnasium's `step`: simulate `action` (already checked for length and finiteness),
    /// write the observation into `obs` and the info terms into `info`; return the reward and
    /// `terminated`.
    fn step(
        &mut self,
        sim: &mut Simulation,
        action: &[f32],
        obs: &mut [f64],
        info: &mut Info,
    ) -> Result<(f64, bool)>;
}

/// A Gymnasium MuJoCo environment: a [`Simulation`] driven by a [`MujocoTask`].
#[derive(Debug)]
pub struct MujocoEnv<T> {
    task: T,
    sim: Simulation,
    observation_space: Space,
    action_space: Space,
    /// The last observation, in f64.
    obs: Vec<f64>,
    episode: EpisodeState,
    noise: Option<NoiseRng>,
    render: RenderConfig,
    /// Made on the first frame (Gymnasium makes its viewer on the first `render()`); behind a
    /// mutex because `Env::render` takes `&self`.
    renderer: Mutex<Option<Renderer>>,
}

impl<T: MujocoTask> MujocoEnv<T> {
    /// An environment over `sim`. The action space is the actuators' `ctrlrange` rounded to
    /// float32, as Gymnasium's `_set_action_space`; the observation space is unbounded (its
    /// float64 `Box` stored as float32 here).
    pub fn new(task: T, sim: Simulation) -> Self {
        let n = task.obs_len(&sim);
        let nu = sim.model().nu();
        let (ranges, _) = sim.model().array("actuator_ctrlrange").unwrap_or((&[], 2));
        let low = (0..nu).map(|i| ranges.get(2 * i).copied().unwrap_or(0.0)).collect();
        let high = (0..nu).map(|i| ranges.get(2 * i + 1).copied().unwrap_or(0.0)).collect();
        MujocoEnv {
            observation_space: Space::box_f32(vec![f64::NEG_INFINITY; n], vec![f64::INFINITY; n]),
            action_space: Space::box_f32(low, high),
            obs: vec![0.0; n],
            episode: EpisodeState::NeedsReset,
            noise: None,
            render: RenderConfig::default(),
            renderer: Mutex::new(None),
            task,
            sim,
        }
    }

    /// The environment with Gymnasium's rendering arguments (`width`, `height`, `camera_id`,
    /// `camera_name`, `default_camera_config`, `max_geom`, `visual_options`); a frame already
    /// made is dropped.
    pub fn with_render(mut self, render: RenderConfig) -> Self {
        self.render = render;
        self.renderer = Mutex::new(None);
        self
    }

    /// The rendering arguments.
    pub fn render_config(&self) -> &RenderConfig {
        &self.render
    }

    /// Render a `width` x `height` RGB frame (rows top first) into `out` with the
    /// environment's camera.
    fn render_frame(&self, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
        let mut slot = self.renderer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.is_none() {
            let camera = self.task.default_camera();
            *slot = Some(Renderer::new(self.task.id(), self.sim.data(), &self.render, &camera)?);
        }
        if let Some(renderer) = slot.as_mut() {
            renderer.render(self.sim.data(), width, height, out)?;
        }
        Ok(())
    }

    /// The task (the environment's configuration and its Gymnasium-specific logic).
    pub fn task(&self) -> &T {
        &self.task
    }

    /// The simulation.
    pub fn sim(&self) -> &Simulation {
        &self.sim
    }

    /// Seconds per step (`opt.timestep * frame_skip`).
    pub fn dt(&self) -> f64 {
        self.sim.dt()
    }

    /// The last observation at full precision (Gymnasium's float64 values; the `Env`
    /// interface's observation is these rounded to float32).
    pub fn observation_f64(&self) -> &[f64] {
        &self.obs
    }

    /// Gymnasium's `env.unwrapped.set_state(qpos, qvel)`, then the observation it leads to;
    /// an episode runs from that state (as the classic-control envs' `set_state`). Wrong
    /// lengths and non-finite values are refused with
    /// [`MujocoError`](super::MujocoError)'s `StateLength` / `NonFiniteState`.
    pub fn set_state(&mut self, qpos: &[f64], qvel: &[f64]) -> Result<&[f64]> {
        if let Err(e) = self.sim.set_state(qpos, qvel) {
            // A MuJoCo error leaves the simulation unusable until reset; a refused input
            // changed nothing.
            if matches!(e, EnvError::Mujoco(MujocoError::Simulation { .. })) {
                self.episode = EpisodeState::NeedsReset;
            }
            return Err(e);
        }
        self.task.observe(&self.sim, &mut self.obs);
        self.episode = EpisodeState::Running;
        Ok(&self.obs)
    }

    fn write_obs(&self, obs: &mut ObsMut<'_>) {
        for (o, &x) in obs.f32.iter_mut().zip(&self.obs) {
            *o = x as f32;
        }
    }

    fn add_warnings(&mut self, info: &mut Info) {
        if self.sim.has_warnings() {
            warnings::add_to_info(&self.sim.take_warnings(), info);
        }
    }
}

impl<T: MujocoTask> Env for MujocoEnv<T> {
    fn id(&self) -> &str {
        self.task.id()
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    /// Kind, length and finiteness; values outside the box are accepted (MuJoCo clamps them
    /// to `ctrlrange`, and the control cost charges them unclamped, as in Gymnasium).
    fn check_action(&self, action: ActionRef<'_>) -> Result<()> {
        self.action_space.check_clippable_action(self.task.id(), action)
    }

    fn reset_into(
        &mut self,
        seed: Option<u64>,
        _options: &Kwargs,
        mut obs: ObsMut<'_>,
    ) -> Result<Info> {
        obs.check(&self.observation_space, "observation buffer")?;
        if let Some(seed) = seed {
            self.noise = Some(noise::seeded(seed));
        }
        let rng = self.noise.get_or_insert_with(noise::from_entropy);
        self.episode = EpisodeState::NeedsReset;
        self.sim.reset_data()?;
        self.task.reset_model(&mut self.sim, rng)?;
        self.task.observe(&self.sim, &mut self.obs);
        let mut info = Info::new();
        self.task.reset_info(&self.sim, &mut info);
        self.add_warnings(&mut info);
        self.write_obs(&mut obs);
        self.episode = EpisodeState::Running;
        Ok(info)
    }

    fn step_into(&mut self, action: ActionRef<'_>, mut obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.episode.check_step(self.task.id())?;
        obs.check(&self.observation_space, "observation buffer")?;
        self.check_action(action)?;
        let ActionRef::Continuous(action) = action else {
            // check_action has refused every other kind already.
            return Err(EnvError::WrongActionShape {
                env: self.task.id().to_string(),
                expected: format!("{} float32 values", self.sim.model().nu()),
                got: action.describe(),
            });
        };
        let mut info = Info::new();
        let (reward, terminated) =
            match self.task.step(&mut self.sim, action, &mut self.obs, &mut info) {
                Ok(out) => out,
                Err(e) => {
                    // A MuJoCo error leaves the simulation unusable until reset.
                    if matches!(e, EnvError::Mujoco(MujocoError::Simulation { .. })) {
                        self.episode = EpisodeState::NeedsReset;
                    }
                    return Err(e);
                }
            };
        self.add_warnings(&mut info);
        self.write_obs(&mut obs);
        self.episode = EpisodeState::after_step(terminated, false);
        Ok(StepOutcome { reward, terminated, truncated: false, info })
    }

    /// Gymnasium's `render()` with `render_mode="rgb_array"`: a `width` x `height` frame
    /// (480 x 480 by default).
    fn render(&self) -> Result<RgbImage> {
        let (w, h) = (self.render.width, self.render.height);
        let mut frame = RgbImage::new(w, h);
        self.render_frame(w, h, &mut frame)?;
        Ok(frame)
    }

    /// The same camera rendered straight at `width` x `height` (MuJoCo keeps the vertical
    /// field of view, so another aspect ratio shows more or less on the sides), instead of a
    /// full frame resized.
    fn render_into(&self, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
        self.render_frame(width, height, out)
    }

    /// Gymnasium's `metadata["render_fps"]`: `round(1 / dt)`.
    fn render_fps(&self) -> u32 {
        (1.0 / self.sim.dt()).round() as u32
    }
}
