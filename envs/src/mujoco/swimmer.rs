//! Swimmer-v5: make a three-link swimmer move forward through a viscous fluid.
//!
//! Gymnasium 1.4.0's `swimmer_v5.py` (Coulom, "Reinforcement learning using neural networks,
//! with applications to motor control", PhD thesis, 2002; MuJoCo model from OpenAI Gym).
//! Reward = `forward_reward_weight * x_velocity - ctrl_cost_weight * sum(action^2)`; never
//! terminates. Observation: `qpos[2:]` (all of `qpos` without
//! `exclude_current_positions_from_observation`) then `qvel`, 8 values by default. Reset: `qpos`
//! and `qvel` uniform in ±`reset_noise_scale` around the initial state. Info: `x_position`,
//! `y_position`, `distance_from_origin`, `x_velocity`, `y_velocity`, `reward_forward`,
//! `reward_ctrl`.

use serde::{Deserialize, Serialize};

use crate::env::{Info, Kwargs, Value};
use crate::error::Result;
use crate::mujoco::assets::ModelSource;
use crate::mujoco::base::{MujocoEnv, MujocoTask};
use crate::mujoco::kwargs::{
    check_kwargs, check_param, kwarg_bool, kwarg_f64, kwarg_frames, kwarg_str,
};
use crate::mujoco::noise::ResetNoise;
use crate::mujoco::np::{control_cost, norm};
use crate::mujoco::render_config::with_render_kwargs;
use crate::mujoco::sim::Simulation;
use crate::mujoco::task_util::require_model;

const ID: &str = "Swimmer-v5";

/// Swimmer-v5's keyword arguments; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SwimmerConfig {
    /// The MJCF model: a bare name picks one of Gymnasium's models, a path starting with
    /// `.`, `/` or `~` a file.
    pub xml_file: String,
    /// MuJoCo steps per environment step.
    pub frame_skip: u32,
    /// Weight of the forward velocity in the reward.
    pub forward_reward_weight: f64,
    /// Weight of the squared action in the reward's cost.
    pub ctrl_cost_weight: f64,
    /// Scale of the reset noise.
    pub reset_noise_scale: f64,
    /// Leave the x and y positions (`qpos[:2]`) out of the observation.
    pub exclude_current_positions_from_observation: bool,
}

impl Default for SwimmerConfig {
    fn default() -> Self {
        SwimmerConfig {
            xml_file: "swimmer.xml".into(),
            frame_skip: 4,
            forward_reward_weight: 1.0,
            ctrl_cost_weight: 1e-4,
            reset_noise_scale: 0.1,
            exclude_current_positions_from_observation: true,
        }
    }
}

impl SwimmerConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] = &[
        "xml_file",
        "frame_skip",
        "forward_reward_weight",
        "ctrl_cost_weight",
        "reset_noise_scale",
        "exclude_current_positions_from_observation",
    ];

    /// The defaults overridden by `kwargs`.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = SwimmerConfig::default();
        if let Some(s) = kwarg_str(ID, kwargs, "xml_file")? {
            c.xml_file = s.to_string();
        }
        if let Some(n) = kwarg_frames(ID, kwargs, "frame_skip")? {
            c.frame_skip = n;
        }
        for (key, field) in [
            ("forward_reward_weight", &mut c.forward_reward_weight),
            ("ctrl_cost_weight", &mut c.ctrl_cost_weight),
            ("reset_noise_scale", &mut c.reset_noise_scale),
        ] {
            if let Some(x) = kwarg_f64(ID, kwargs, key)? {
                *field = x;
            }
        }
        let key = "exclude_current_positions_from_observation";
        if let Some(b) = kwarg_bool(ID, kwargs, key)? {
            c.exclude_current_positions_from_observation = b;
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
            ("reset_noise_scale".to_string(), Value::Float(self.reset_noise_scale)),
            (
                "exclude_current_positions_from_observation".to_string(),
                Value::Bool(self.exclude_current_positions_from_observation),
            ),
        ])
    }
}

/// Swimmer-v5's task (see the module header); the environment is `MujocoEnv<Swimmer>`.
#[derive(Debug, Clone)]
pub struct Swimmer {
    config: SwimmerConfig,
}

impl Swimmer {
    /// A Swimmer-v5 environment with `config`.
    pub fn env(config: SwimmerConfig) -> Result<MujocoEnv<Swimmer>> {
        for (key, x) in [
            ("forward_reward_weight", config.forward_reward_weight),
            ("ctrl_cost_weight", config.ctrl_cost_weight),
            ("reset_noise_scale", config.reset_noise_scale),
        ] {
            check_param(ID, key, x, false)?;
        }
        let model = ModelSource::from_xml_file(&config.xml_file)?.load()?;
        // qpos[0..2] are read (x, y).
        require_model(ID, &model, 2, 1)?;
        let sim = Simulation::new(ID, model, config.frame_skip)?;
        Ok(MujocoEnv::new(Swimmer { config }, sim))
    }

    /// A Swimmer-v5 environment from `make`-style keyword arguments.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<MujocoEnv<Swimmer>> {
        with_render_kwargs(ID, kwargs, |kw| Self::env(SwimmerConfig::from_kwargs(kw)?))
    }

    /// The configuration.
    pub fn config(&self) -> &SwimmerConfig {
        &self.config
    }

    fn skipped(&self) -> usize {
        2 * self.config.exclude_current_positions_from_observation as usize
    }
}

impl MujocoTask for Swimmer {
    fn id(&self) -> &'static str {
        ID
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
        v.copy_from_slice(sim.qvel());
    }

    fn reset_info(&self, sim: &Simulation, info: &mut Info) {
        let qpos = sim.qpos();
        info.extend([
            ("x_position".to_string(), Value::Float(qpos[0])),
            ("y_position".to_string(), Value::Float(qpos[1])),
            ("distance_from_origin".to_string(), Value::Float(norm(&qpos[0..2]))),
        ]);
    }

    fn step(
        &mut self,
        sim: &mut Simulation,
        action: &[f32],
        obs: &mut [f64],
        info: &mut Info,
    ) -> Result<(f64, bool)> {
        let before = [sim.qpos()[0], sim.qpos()[1]];
        sim.do_simulation(action, self.config.frame_skip)?;
        let after = [sim.qpos()[0], sim.qpos()[1]];
        let x_velocity = (after[0] - before[0]) / sim.dt();
        let y_velocity = (after[1] - before[1]) / sim.dt();
        self.observe(sim, obs);
        let forward_reward = self.config.forward_reward_weight * x_velocity;
        let ctrl_cost = control_cost(self.config.ctrl_cost_weight, action);
        let reward = forward_reward - ctrl_cost as f64;
        info.extend([
            ("x_position".to_string(), Value::Float(after[0])),
            ("y_position".to_string(), Value::Float(after[1])),
            ("distance_from_origin".to_string(), Value::Float(norm(&after))),
            ("x_velocity".to_string(), Value::Float(x_velocity)),
            ("y_velocity".to_string(), Value::Float(y_velocity)),
            ("reward_forward".to_string(), Value::Float(forward_reward)),
            ("reward_ctrl".to_string(), Value::Float(-ctrl_cost as f64)),
        ]);
        Ok((reward, false))
    }
}
