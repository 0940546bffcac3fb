//! InvertedPendulum-v5: balance a pole on a cart by pushing the cart.
//!
//! Gymnasium 1.4.0's `inverted_pendulum_v5.py` (the cart-pole of Barto, Sutton & Anderson,
//! "Neuronlike adaptive elements that can solve difficult learning control problems", 1983, in
//! MuJoCo). Reward 1 for every step, 0 on the terminating one; terminates when the observation
//! has a non-finite value or the pole angle `qpos[1]` leaves [-0.2, 0.2]. Observation: `qpos`
//! then `qvel` (cart position, pole angle, their velocities). Reset: `qpos` and `qvel` uniform in
//! ±`reset_noise_scale` around the initial state. Info: `reward_survive` (an int, as
//! Gymnasium's).

use serde::{Deserialize, Serialize};

use crate::env::{Info, Kwargs, Value};
use crate::error::Result;
use crate::mujoco::assets::ModelSource;
use crate::mujoco::base::{MujocoEnv, MujocoTask};
use crate::mujoco::kwargs::{check_kwargs, check_param, kwarg_f64, kwarg_frames, kwarg_str};
use crate::mujoco::noise::ResetNoise;
use crate::mujoco::render_config::{with_render_kwargs, CameraConfig};
use crate::mujoco::sim::Simulation;
use crate::mujoco::task_util::require_model;

const ID: &str = "InvertedPendulum-v5";

/// InvertedPendulum-v5's keyword arguments; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InvertedPendulumConfig {
    /// The MJCF model: a bare name picks one of Gymnasium's models, a path starting with
    /// `.`, `/` or `~` a file.
    pub xml_file: String,
    /// MuJoCo steps per environment step.
    pub frame_skip: u32,
    /// Scale of the reset noise.
    pub reset_noise_scale: f64,
}

impl Default for InvertedPendulumConfig {
    fn default() -> Self {
        InvertedPendulumConfig {
            xml_file: "inverted_pendulum.xml".into(),
            frame_skip: 2,
            reset_noise_scale: 0.01,
        }
    }
}

impl InvertedPendulumConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] = &["xml_file", "frame_skip", "reset_noise_scale"];

    /// The defaults overridden by `kwargs`.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = InvertedPendulumConfig::default();
        if let Some(s) = kwarg_str(ID, kwargs, "xml_file")? {
            c.xml_file = s.to_string();
        }
        if let Some(n) = kwarg_frames(ID, kwargs, "frame_skip")? {
            c.frame_skip = n;
        }
        if let Some(x) = kwarg_f64(ID, kwargs, "reset_noise_scale")? {
            c.reset_noise_scale = x;
        }
        Ok(c)
    }

    /// The configuration as `make` keyword arguments.
    pub fn to_kwargs(&self) -> Kwargs {
        Kwargs::from([
            ("xml_file".to_string(), Value::Str(self.xml_file.clone())),
            ("frame_skip".to_string(), Value::Int(self.frame_skip as i64)),
            ("reset_noise_scale".to_string(), Value::Float(self.reset_noise_scale)),
        ])
    }
}

/// InvertedPendulum-v5's task (see the module header); the environment is
/// `MujocoEnv<InvertedPendulum>`.
#[derive(Debug, Clone)]
pub struct InvertedPendulum {
    config: InvertedPendulumConfig,
}

impl InvertedPendulum {
    /// An InvertedPendulum-v5 environment with `config`.
    pub fn env(config: InvertedPendulumConfig) -> Result<MujocoEnv<InvertedPendulum>> {
        check_param(ID, "reset_noise_scale", config.reset_noise_scale, false)?;
        let model = ModelSource::from_xml_file(&config.xml_file)?.load()?;
        // The pole angle, qpos[1], decides termination.
        require_model(ID, &model, 2, 0)?;
        let sim = Simulation::new(ID, model, config.frame_skip)?;
        Ok(MujocoEnv::new(InvertedPendulum { config }, sim))
    }

    /// An InvertedPendulum-v5 environment from `make`-style keyword arguments.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<MujocoEnv<InvertedPendulum>> {
        with_render_kwargs(ID, kwargs, |kw| Self::env(InvertedPendulumConfig::from_kwargs(kw)?))
    }

    /// The configuration.
    pub fn config(&self) -> &InvertedPendulumConfig {
        &self.config
    }
}

impl MujocoTask for InvertedPendulum {
    fn id(&self) -> &'static str {
        ID
    }

    /// Gymnasium's `DEFAULT_CAMERA_CONFIG`.
    fn default_camera(&self) -> CameraConfig {
        CameraConfig { trackbodyid: Some(0), distance: Some(2.04), ..CameraConfig::default() }
    }

    /// Gymnasium declares `(4,)`, which is `nq + nv` of its model; a custom model's own sizes
    /// are used here (Gymnasium would return observations that do not fit its space).
    fn obs_len(&self, sim: &Simulation) -> usize {
        sim.model().nq() + sim.model().nv()
    }

    fn reset_model(&mut self, sim: &mut Simulation, noise: &mut dyn ResetNoise) -> Result<()> {
        let scale = self.config.reset_noise_scale;
        let mut qpos = vec![0.0; sim.model().nq()];
        noise.uniform(-scale, scale, &mut qpos);
        let mut qvel = vec![0.0; sim.model().nv()];
        noise.uniform(-scale, scale, &mut qvel);
        for (q, &q0) in qpos.iter_mut().zip(sim.init_qpos()) {
            *q += q0;
        }
        for (v, &v0) in qvel.iter_mut().zip(sim.init_qvel()) {
            *v += v0;
        }
        sim.set_state(&qpos, &qvel)
    }

    fn observe(&self, sim: &Simulation, obs: &mut [f64]) {
        let (p, v) = obs.split_at_mut(sim.model().nq());
        p.copy_from_slice(sim.qpos());
        v.copy_from_slice(sim.qvel());
    }

    fn step(
        &mut self,
        sim: &mut Simulation,
        action: &[f32],
        obs: &mut [f64],
        info: &mut Info,
    ) -> Result<(f64, bool)> {
        sim.do_simulation(action, self.config.frame_skip)?;
        self.observe(sim, obs);
        let terminated = !obs.iter().all(|x| x.is_finite()) || obs[1].abs() > 0.2;
        let reward = i64::from(!terminated);
        info.insert("reward_survive".into(), Value::Int(reward));
        Ok((reward as f64, terminated))
    }
}
