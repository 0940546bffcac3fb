//! A suite task as a Graft [`Env`]: dm_control's `control.Environment` with
//! `flat_observation`, behind Gymnasium's reset/step interface.
//!
//! - `reset(Some(seed))` is dm_control's `suite.load(domain, task, task_kwargs={"random":
//!   seed})` followed by its first `reset()`: the task's `numpy.random.RandomState(seed)` is
//!   made again and every later `reset(None)` draws on from it, as dm_control's successive
//!   resets do. Seeds above 2^32 - 1 (which numpy refuses) seed it from their two 32-bit words.
//! - `step` is `Environment.step`: the action into `ctrl`, `n_sub_steps` physics steps (the
//!   task's control timestep over the model's timestep), then reward and observation. No task
//!   here terminates; [`make`](crate::make) ends episodes at the time limit (1000 control
//!   steps) with `truncated`, where dm_control returns `LAST` with discount 1.
//! - The observation is dm_control's ordered dict flattened in its key order, as float32;
//!   [`DmcEnv::observation`] has it as float64 and by key.
//! - MuJoCo warnings during a step are errors, as dm_control raises `PhysicsError`.

use std::sync::Mutex;

use image::RgbImage;

use crate::dmc::physics::Physics;
use crate::dmc::tasks::{self, ObsDict, Task, TaskSpec};
use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::mujoco::render_config::RenderConfig;
use crate::mujoco::renderer::Renderer;
use crate::mujoco::CameraConfig;
use crate::numpy_rng::{RandomState, SeedSequence};
use crate::space::Space;

/// dm_control's `physics.render()` size: 320 x 240.
pub const DEFAULT_WIDTH: u32 = 320;
/// See [`DEFAULT_WIDTH`].
pub const DEFAULT_HEIGHT: u32 = 240;

/// One DeepMind Control Suite task (see the module docs).
pub struct DmcEnv {
    spec: &'static TaskSpec,
    physics: Physics,
    task: Box<dyn Task>,
    random: Option<RandomState>,
    n_sub_steps: u32,
    obs: ObsDict,
    observation_space: Space,
    action_space: Space,
    render: RenderConfig,
    renderer: Mutex<Option<Renderer>>,
    episode: EpisodeState,
}

impl std::fmt::Debug for DmcEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DmcEnv").field("id", &self.spec.id).finish_non_exhaustive()
    }
}

impl DmcEnv {
    /// Build `dmc/<domain>-<task>`. Keyword arguments: the rendering ones (`width`, `height`,
    /// `camera_id`, `camera_name`, `max_geom`, `visual_options`); the camera defaults to the
    /// one the pixel-based papers use ([`TaskSpec::camera`]).
    pub fn new(id: &str, kwargs: &Kwargs) -> Result<DmcEnv> {
        let spec = tasks::find(id)?;
        let (mut render, rest) = RenderConfig::split(spec.id, kwargs)?;
        let (quality, rest) = FrameQuality::split(spec.id, &rest)?;
        if let Some(key) = rest.keys().next() {
            return Err(EnvError::BadKwarg {
                env: spec.id.into(),
                key: key.clone(),
                reason: "not an argument of the Control Suite's tasks (they take width, \
                         height, camera_id, camera_name, max_geom, visual_options, fast_frames, \
                         shadow_size, shadows, reflections and multisamples)"
                    .into(),
            });
        }
        if !kwargs.contains_key("width") {
            render.width = DEFAULT_WIDTH;
        }
        if !kwargs.contains_key("height") {
            render.height = DEFAULT_HEIGHT;
        }
        let mut physics = Physics::new(spec.id, (spec.model)()?)?;
        check_camera(spec, &physics, &mut render)?;
        quality.apply(physics.model_mut()?, &mut render);
        let task = (spec.build)(&physics)?;
        let timestep = physics.model().timestep();
        let n_sub_steps = match spec.control_timestep {
            None => 1,
            Some(control) => (control / timestep).round().max(1.0) as u32,
        };
        let mut obs = ObsDict::default();
        task.observe(&physics, &mut obs);
        let n = obs.flat().len();
        let observation_space = Space::box_f32(vec![f64::NEG_INFINITY; n], vec![f64::INFINITY; n]);
        let action_space = action_space(&physics);
        Ok(DmcEnv {
            spec,
            physics,
            task,
            random: None,
            n_sub_steps,
            obs,
            observation_space,
            action_space,
            render,
            renderer: Mutex::new(None),
            episode: EpisodeState::NeedsReset,
        })
    }

    /// The task's settings (domain, task, time limit, the papers' action repeat and camera).
    pub fn spec(&self) -> &'static TaskSpec {
        self.spec
    }

    /// The last observation as dm_control returns it: float64 arrays by key, in order.
    pub fn observation(&self) -> &ObsDict {
        &self.obs
    }

    /// The simulation.
    pub fn physics(&self) -> &Physics {
        &self.physics
    }

    /// Physics steps per control step.
    pub fn n_sub_steps(&self) -> u32 {
        self.n_sub_steps
    }

    /// Seconds per control step.
    pub fn control_timestep(&self) -> f64 {
        self.physics.model().timestep() * self.n_sub_steps as f64
    }

    /// Put the simulation in the state `qpos`, `qvel` as `with physics.reset_context():
    /// physics.data.qpos[:] = qpos; physics.data.qvel[:] = qvel` does (the episode's model
    /// edits, e.g. reacher's target, stay), and return the observation there. Stepping on
    /// from it continues the current episode.
    pub fn set_state(&mut self, qpos: &[f64], qvel: &[f64]) -> Result<&ObsDict> {
        let model = self.physics.model();
        for (what, values, expected) in [("qpos", qpos, model.nq()), ("qvel", qvel, model.nv())] {
            if values.len() != expected {
                return Err(EnvError::LengthMismatch {
                    what: format!("{}: set_state {what}", self.spec.id),
                    expected,
                    got: values.len(),
                });
            }
        }
        self.physics.reset()?;
        self.physics.data_mut().qpos_mut().copy_from_slice(qpos);
        self.physics.data_mut().qvel_mut().copy_from_slice(qvel);
        self.physics.after_reset()?;
        self.obs.clear();
        self.task.observe(&self.physics, &mut self.obs);
        Ok(&self.obs)
    }

    fn write_obs(&self, obs: &mut ObsMut<'_>) {
        for (dst, &src) in obs.f32.iter_mut().zip(self.obs.flat()) {
            *dst = src as f32;
        }
    }

    fn render_frame(&self, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
        let mut slot = self.renderer.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if slot.is_none() {
            let camera = CameraConfig::default();
            *slot = Some(Renderer::new(self.spec.id, self.physics.data(), &self.render, &camera)?);
        }
        if let Some(renderer) = slot.as_mut() {
            renderer.render(self.physics.data(), width, height, out)?;
        }
        Ok(())
    }
}

/// dm_control's `mujoco.action_spec`: each actuator's `ctrlrange` where it is `ctrllimited`,
/// unbounded otherwise.
fn action_space(physics: &Physics) -> Space {
    let model = physics.model();
    let nu = model.nu();
    let limited = model.array_u8("actuator_ctrllimited").map(|(l, _)| l.to_vec());
    let ranges = model.array("actuator_ctrlrange").map(|(r, _)| r.to_vec());
    let (limited, ranges) = (limited.unwrap_or_default(), ranges.unwrap_or_default());
    let (mut low, mut high) = (vec![f64::NEG_INFINITY; nu], vec![f64::INFINITY; nu]);
    for a in 0..nu {
        if limited.get(a).copied().unwrap_or(0) != 0 {
            low[a] = ranges[2 * a];
            high[a] = ranges[2 * a + 1];
        }
    }
    Space::box_f32(low, high)
}

/// The camera to render from: the one asked for, which the model must have (an error listing
/// its cameras otherwise), or the task's default.
fn check_camera(spec: &TaskSpec, physics: &Physics, render: &mut RenderConfig) -> Result<()> {
    let model = physics.model();
    let ncam = model.size("ncam");
    let cameras = || {
        (0..ncam)
            .map(|i| format!("{i} ({})", model.name("mjOBJ_CAMERA", i).unwrap_or_default()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let bad = |key: &str, reason: String| EnvError::BadKwarg {
        env: spec.id.into(),
        key: key.into(),
        reason,
    };
    match (render.camera_id, &render.camera_name) {
        (Some(id), _) if id < 0 || id as usize >= ncam => Err(bad(
            "camera_id",
            format!("{id} is not a camera of {}: it has {}", spec.domain, cameras()),
        )),
        (None, Some(name)) if model.id("mjOBJ_CAMERA", name).is_none() => Err(bad(
            "camera_name",
            format!("{name:?} is not a camera of {}: it has {}", spec.domain, cameras()),
        )),
        (None, None) => {
            render.camera_id = Some(spec.camera);
            Ok(())
        }
        _ => Ok(()),
    }
}

impl Env for DmcEnv {
    fn id(&self) -> &str {
        self.spec.id
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    /// Kind, length and finiteness; values outside the bounds reach MuJoCo, which clamps
    /// them to `ctrlrange` (dm_control checks nothing).
    fn check_action(&self, action: ActionRef<'_>) -> Result<()> {
        self.action_space.check_clippable_action(self.spec.id, action)
    }

    fn reset_into(
        &mut self,
        seed: Option<u64>,
        _options: &Kwargs,
        mut obs: ObsMut<'_>,
    ) -> Result<Info> {
        obs.check(&self.observation_space, "observation buffer")?;
        if let Some(seed) = seed {
            self.random = Some(RandomState::from_u64(seed));
        }
        let random = self.random.get_or_insert_with(|| {
            // dm_control's RandomState(None): seeded from the OS.
            RandomState::from_words(SeedSequence::from_os_entropy().entropy())
        });
        self.episode = EpisodeState::NeedsReset;
        self.physics.reset()?;
        self.task.initialize_episode(&mut self.physics, random)?;
        self.physics.after_reset()?;
        self.obs.clear();
        self.task.observe(&self.physics, &mut self.obs);
        self.write_obs(&mut obs);
        self.episode = EpisodeState::Running;
        Ok(Info::new())
    }

    fn step_into(&mut self, action: ActionRef<'_>, mut obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.episode.check_step(self.spec.id)?;
        obs.check(&self.observation_space, "observation buffer")?;
        self.check_action(action)?;
        let ActionRef::Continuous(action) = action else {
            return Err(EnvError::WrongActionShape {
                env: self.spec.id.into(),
                expected: format!("{} float32 values", self.physics.model().nu()),
                got: action.describe(),
            });
        };
        self.physics.set_control(action);
        if let Err(e) = self.physics.step(self.n_sub_steps) {
            self.episode = EpisodeState::NeedsReset;
            return Err(e);
        }
        let reward = self.task.reward(&self.physics);
        self.obs.clear();
        self.task.observe(&self.physics, &mut self.obs);
        self.write_obs(&mut obs);
        Ok(StepOutcome { reward, terminated: false, truncated: false, info: Info::new() })
    }

    /// dm_control's `physics.render(height, width, camera_id)`: 320 x 240 from the task's
    /// camera unless `width`, `height` or a camera were given.
    fn render(&self) -> Result<RgbImage> {
        let (w, h) = (self.render.width, self.render.height);
        let mut frame = RgbImage::new(w, h);
        self.render_frame(w, h, &mut frame)?;
        Ok(frame)
    }

    /// The camera rendered straight at `width` x `height`, as `physics.render(height, width)`.
    fn render_into(&self, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
        self.render_frame(width, height, out)
    }

    /// `round(1 / control_timestep)`.
    fn render_fps(&self) -> u32 {
        (1.0 / self.control_timestep()).round() as u32
    }
}

/// How frames are drawn: dm_control's picture by default (the model's 2048-texel shadow map,
/// 4x multisampling, reflections), or cheaper settings (kwargs `shadow_size`, `multisamples`,
/// `reflections`, `shadows`, and `fast_frames`, which picks [`FrameQuality::FAST`]; settings
/// given beside `fast_frames` override its choices).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FrameQuality {
    /// The shadow map's side in texels (the model's `quality.shadowsize`: 2048 in the suite).
    pub shadow_size: Option<i32>,
    /// Multisamples of the offscreen buffer (the model's `quality.offsamples`: 4).
    pub multisamples: Option<i32>,
    /// Draw shadows (default on).
    pub shadows: Option<bool>,
    /// Draw reflections (default on).
    pub reflections: Option<bool>,
}

impl FrameQuality {
    /// Take the frame-quality arguments out of `kwargs`.
    pub fn split(env: &str, kwargs: &Kwargs) -> Result<(FrameQuality, Kwargs)> {
        use crate::env::Value;
        let bad = |key: &str, reason: String| EnvError::BadKwarg {
            env: env.into(),
            key: key.into(),
            reason,
        };
        let int = |key: &str, v: &Value, max: i64| match v {
            Value::Int(n) if (0..=max).contains(n) => Ok(*n as i32),
            _ => Err(bad(key, format!("expected an int in 0..={max}, got {v:?}"))),
        };
        let flag = |key: &str, v: &Value| match v {
            Value::Bool(b) => Ok(*b),
            _ => Err(bad(key, format!("expected a bool, got {v:?}"))),
        };
        let mut q = FrameQuality::default();
        let mut fast = false;
        let mut rest = Kwargs::new();
        for (key, v) in kwargs {
            match key.as_str() {
                "shadow_size" => q.shadow_size = Some(int(key, v, 16384)?),
                "multisamples" => q.multisamples = Some(int(key, v, 16)?),
                "shadows" => q.shadows = Some(flag(key, v)?),
                "reflections" => q.reflections = Some(flag(key, v)?),
                "fast_frames" => fast = flag(key, v)?,
                _ => {
                    rest.insert(key.clone(), v.clone());
                }
            }
        }
        if fast {
            let f = FrameQuality::FAST;
            q = FrameQuality {
                shadow_size: q.shadow_size.or(f.shadow_size),
                multisamples: q.multisamples.or(f.multisamples),
                shadows: q.shadows.or(f.shadows),
                reflections: q.reflections.or(f.reflections),
            };
        }
        Ok((q, rest))
    }

    /// The cheap settings `fast_frames` picks: shadows kept (they light the picture: without
    /// them reacher's frame moves by 23 of 255 on average) from a 256-texel map instead of
    /// 2048, no reflections, no multisampling. At 84x84 this moves a frame by about 0.5 to 2
    /// of 255 on average (`tests/dmc_render.rs`) and renders it about 4x faster here
    /// (benchmarks/RESULTS.md).
    pub const FAST: FrameQuality = FrameQuality {
        shadow_size: Some(256),
        multisamples: Some(0),
        shadows: None,
        reflections: Some(false),
    };

    /// Write the settings into the model (read when the renderer is made) and the scene flags.
    fn apply(&self, model: &mut crate::mujoco::Model, render: &mut RenderConfig) {
        if let Some(size) = self.shadow_size {
            model.visual_int("shadowsize", Some(size));
        }
        if let Some(samples) = self.multisamples {
            model.visual_int("offsamples", Some(samples));
        }
        let flag = crate::mujoco::Model::enum_value;
        if let Some(on) = self.shadows {
            render.scene_flags.insert(flag("mjRND_SHADOW"), on);
        }
        if let Some(on) = self.reflections {
            render.scene_flags.insert(flag("mjRND_REFLECTION"), on);
        }
    }
}
