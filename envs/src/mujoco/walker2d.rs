//! Walker2d-v5: make a two-legged 2-D robot walk forward without falling.
//!
//! Gymnasium 1.4.0's `walker2d_v5.py` (Erez, Tassa & Todorov, "Infinite-horizon model predictive
//! control for periodic tasks with contacts", RSS 2011; MuJoCo model `walker2d_v5.xml`, whose
//! two feet have the same friction). Reward = `healthy_reward * is_healthy +
//! forward_reward_weight * x_velocity - ctrl_cost_weight * sum(action^2)`. Healthy: the height
//! `qpos[1]` inside `healthy_z_range` and the angle `qpos[2]` inside `healthy_angle_range`
//! (open intervals); an unhealthy state terminates the episode when
//! `terminate_when_unhealthy`. Observation: `qpos[1:]` (all of `qpos` without
//! `exclude_current_positions_from_observation`) then `qvel` clipped to [-10, 10], 17 values
//! by default. Reset: `qpos` and `qvel` uniform in ±`reset_noise_scale` around the initial
//! state. Info: `x_position`, `z_distance_from_origin`, `x_velocity`, `reward_forward`,
//! `reward_ctrl`, `reward_survive`.

use serde::{Deserialize, Serialize};

use crate::env::{Info, Kwargs, Value};
use crate::error::Result;
use crate::mujoco::assets::ModelSource;
use crate::mujoco::base::{MujocoEnv, MujocoTask};
use crate::mujoco::kwargs::{
    check_kwargs, check_param, kwarg_bool, kwarg_f64, kwarg_frames, kwarg_range, kwarg_str,
    range_value,
};
use crate::mujoco::noise::ResetNoise;
use crate::mujoco::np::control_cost;
use crate::mujoco::render_config::{with_render_kwargs, CameraConfig};
use crate::mujoco::sim::Simulation;
use crate::mujoco::task_util::require_model;

const ID: &str = "Walker2d-v5";

/// Walker2d-v5's keyword arguments; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Walker2dConfig {
    /// The MJCF model: a bare name picks one of Gymnasium's models, a path starting with
    /// `.`, `/` or `~` a file.
    pub xml_file: String,
    /// MuJoCo steps per environment step.
    pub frame_skip: u32,
    /// Weight of the forward velocity in the reward.
    pub forward_reward_weight: f64,
    /// Weight of the squared action in the reward's cost.
    pub ctrl_cost_weight: f64,
    /// Reward for every step in a healthy state.
    pub healthy_reward: f64,
    /// End the episode when the walker becomes unhealthy.
    pub terminate_when_unhealthy: bool,
    /// Open interval the torso height `qpos[1]` must lie in.
    pub healthy_z_range: (f64, f64),
    /// Open interval the torso angle `qpos[2]` must lie in.
    pub healthy_angle_range: (f64, f64),
    /// Scale of the reset noise.
    pub reset_noise_scale: f64,
    /// Leave the x position (`qpos[0]`) out of the observation.
    pub exclude_current_positions_from_observation: bool,
}

impl Default for Walker2dConfig {
    fn default() -> Self {
        Walker2dConfig {
            xml_file: "walker2d_v5.xml".into(),
            frame_skip: 4,
            forward_reward_weight: 1.0,
            ctrl_cost_weight: 1e-3,
            healthy_reward: 1.0,
            terminate_when_unhealthy: true,
            healthy_z_range: (0.8, 2.0),
            healthy_angle_range: (-1.0, 1.0),
            reset_noise_scale: 5e-3,
            exclude_current_positions_from_observation: true,
        }
    }
}

impl Walker2dConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] = &[
        "xml_file",
        "frame_skip",
        "forward_reward_weight",
        "ctrl_cost_weight",
        "healthy_reward",
        "terminate_when_unhealthy",
        "healthy_z_range",
        "healthy_angle_range",
        "reset_noise_scale",
        "exclude_current_positions_from_observation",
    ];

    /// The defaults overridden by `kwargs` (ranges as `Value::Floats([low, high])`).
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = Walker2dConfig::default();
        if let Some(s) = kwarg_str(ID, kwargs, "xml_file")? {
            c.xml_file = s.to_string();
        }
        if let Some(n) = kwarg_frames(ID, kwargs, "frame_skip")? {
            c.frame_skip = n;
        }
        for (key, field) in [
            ("forward_reward_weight", &mut c.forward_reward_weight),
            ("ctrl_cost_weight", &mut c.ctrl_cost_weight),
            ("healthy_reward", &mut c.healthy_reward),
            ("reset_noise_scale", &mut c.reset_noise_scale),
        ] {
            if let Some(x) = kwarg_f64(ID, kwargs, key)? {
                *field = x;
            }
        }
        for (key, field) in [
            ("healthy_z_range", &mut c.healthy_z_range),
            ("healthy_angle_range", &mut c.healthy_angle_range),
        ] {
            if let Some(r) = kwarg_range(ID, kwargs, key)? {
                *field = r;
            }
        }
        for (key, field) in [
            ("terminate_when_unhealthy", &mut c.terminate_when_unhealthy),
            (
                "exclude_current_positions_from_observation",
                &mut c.exclude_current_positions_from_observation,
            ),
        ] {
            if let Some(b) = kwarg_bool(ID, kwargs, key)? {
                *field = b;
            }
        }
        Ok(c)
    }

    /// The configuration as `make` keyword arguments.
    pub fn to_kwargs(&self) -> Kwargs {
        Kwargs::from([
            ("xml_file".to_string(), Value::Str(self.xml_file.clone())),
            ("frame_skip".to_string(), Value::Int(self.frame_skip as i64)),
            ("forward_reward_weight".to_string(), Value::Float(self.forward_reward_weight)),
            ("ctrl_cost_weight".to_string(), Value::Float(self.ctrl_cost_weight)),
            ("healthy_reward".to_string(), Value::Float(self.healthy_reward)),
            ("terminate_when_unhealthy".to_string(), Value::Bool(self.terminate_when_unhealthy)),
            ("healthy_z_range".to_string(), range_value(self.healthy_z_range)),
            ("healthy_angle_range".to_string(), range_value(self.healthy_angle_range)),
            ("reset_noise_scale".to_string(), Value::Float(self.reset_noise_scale)),
            (
                "exclude_current_positions_from_observation".to_string(),
                Value::Bool(self.exclude_current_positions_from_observation),
            ),
        ])
    }
}

/// Walker2d-v5's task (see the module header); the environment is `MujocoEnv<Walker2d>`.
#[derive(Debug, Clone)]
pub struct Walker2d {
    config: Walker2dConfig,
}

impl Walker2d {
    /// A Walker2d-v5 environment with `config`.
    pub fn env(config: Walker2dConfig) -> Result<MujocoEnv<Walker2d>> {
        for (key, x) in [
            ("forward_reward_weight", config.forward_reward_weight),
            ("ctrl_cost_weight", config.ctrl_cost_weight),
            ("healthy_reward", config.healthy_reward),
            ("reset_noise_scale", config.reset_noise_scale),
        ] {
            check_param(ID, key, x, false)?;
        }
        let model = ModelSource::from_xml_file(&config.xml_file)?.load()?;
        // qpos[0..3] are read (x, z, angle).
        require_model(ID, &model, 3, 1)?;
        let sim = Simulation::new(ID, model, config.frame_skip)?;
        Ok(MujocoEnv::new(Walker2d { config }, sim))
    }

    /// A Walker2d-v5 environment from `make`-style keyword arguments.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<MujocoEnv<Walker2d>> {
        with_render_kwargs(ID, kwargs, |kw| Self::env(Walker2dConfig::from_kwargs(kw)?))
    }

    /// The configuration.
    pub fn config(&self) -> &Walker2dConfig {
        &self.config
    }

    fn skipped(&self) -> usize {
        self.config.exclude_current_positions_from_observation as usize
    }

    /// Gymnasium's `is_healthy`.
    pub fn is_healthy(&self, sim: &Simulation) -> bool {
        let c = &self.config;
        let inside = |(low, high): (f64, f64), x: f64| low < x && x < high;
        let (z, angle) = (sim.qpos()[1], sim.qpos()[2]);
        inside(c.healthy_z_range, z) && inside(c.healthy_angle_range, angle)
    }

    /// Gymnasium's `healthy_reward` property: `is_healthy * healthy_reward` (a product, so an
    /// unhealthy step with a negative weight gives -0.0 as in Python).
    fn healthy_reward(&self, sim: &Simulation) -> f64 {
        self.is_healthy(sim) as u8 as f64 * self.config.healthy_reward
    }
}

impl MujocoTask for Walker2d {
    fn id(&self) -> &'static str {
        ID
    }

    /// Gymnasium's `DEFAULT_CAMERA_CONFIG`.
    fn default_camera(&self) -> CameraConfig {
        CameraConfig {
            trackbodyid: Some(2),
            distance: Some(4.0),
            lookat: Some([0.0, 0.0, 1.15]),
            elevation: Some(-20.0),
            ..CameraConfig::default()
        }
    }

    fn obs_len(&self, sim: &Simulation) -> usize {
        sim.model().nq() + sim.model().nv() - self.skipped()
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
        let position = &sim.qpos()[self.skipped()..];
        let (p, v) = obs.split_at_mut(position.len());
        p.copy_from_slice(position);
        for (o, &x) in v.iter_mut().zip(sim.qvel()) {
            *o = x.clamp(-10.0, 10.0);
        }
    }

    fn reset_info(&self, sim: &Simulation, info: &mut Info) {
        let qpos = sim.qpos();
        info.extend([
            ("x_position".to_string(), Value::Float(qpos[0])),
            ("z_distance_from_origin".to_string(), Value::Float(qpos[1] - sim.init_qpos()[1])),
        ]);
    }

    fn step(
        &mut self,
        sim: &mut Simulation,
        action: &[f32],
        obs: &mut [f64],
        info: &mut Info,
    ) -> Result<(f64, bool)> {
        let x_position_before = sim.qpos()[0];
        sim.do_simulation(action, self.config.frame_skip)?;
        let x_position_after = sim.qpos()[0];
        let x_velocity = (x_position_after - x_position_before) / sim.dt();
        self.observe(sim, obs);

        let forward_reward = self.config.forward_reward_weight * x_velocity;
        let healthy_reward = self.healthy_reward(sim);
        let rewards = forward_reward + healthy_reward;
        let ctrl_cost = control_cost(self.config.ctrl_cost_weight, action);
        let reward = rewards - ctrl_cost as f64;
        let terminated = !self.is_healthy(sim) && self.config.terminate_when_unhealthy;

        info.extend([
            ("x_position".to_string(), Value::Float(x_position_after)),
            (
                "z_distance_from_origin".to_string(),
                Value::Float(sim.qpos()[1] - sim.init_qpos()[1]),
            ),
            ("x_velocity".to_string(), Value::Float(x_velocity)),
            ("reward_forward".to_string(), Value::Float(forward_reward)),
            ("reward_ctrl".to_string(), Value::Float(-ctrl_cost as f64)),
            ("reward_survive".to_string(), Value::Float(healthy_reward)),
        ]);
        Ok((reward, terminated))
    }
}
