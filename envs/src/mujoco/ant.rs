//! Ant-v5: make a four-legged 3-D robot walk forward.
//!
//! Gymnasium 1.4.0's `ant_v5.py` (Schulman, Moritz, Levine, Jordan & Abbeel, "High-dimensional
//! continuous control using generalized advantage estimation", ICLR 2016; MuJoCo model from
//! OpenAI Gym). Reward = `healthy_reward * is_healthy + forward_reward_weight * x_velocity -
//! ctrl_cost_weight * sum(action^2) - contact_cost_weight * sum(clip(cfrc_ext)^2)`, with
//! `x_velocity` the `main_body`'s (`xpos`), the control term in float32 (numpy on the float32
//! action) and the contact forces clipped to `contact_force_range`. Healthy: `qpos` and `qvel`
//! finite and the torso height `qpos[2]` inside `healthy_z_range` (closed); an unhealthy state
//! terminates the episode when `terminate_when_unhealthy`. Observation: `qpos[2:]` (all of
//! `qpos` without `exclude_current_positions_from_observation`), `qvel`, then, with
//! `include_cfrc_ext_in_observation`, the clipped `cfrc_ext` of every body but the world: 105
//! values by default. Reset: `qpos` uniform in ±`reset_noise_scale` around the initial state,
//! `qvel` normal with standard deviation `reset_noise_scale`. Info: `x_position`, `y_position`,
//! `distance_from_origin`, `x_velocity`, `y_velocity`, `reward_forward`, `reward_ctrl`,
//! `reward_contact`, `reward_survive`.

use serde::{Deserialize, Serialize};

use crate::env::{Info, Kwargs, Value};
use crate::error::{EnvError, Result};
use crate::mujoco::assets::ModelSource;
use crate::mujoco::base::{MujocoEnv, MujocoTask};
use crate::mujoco::error::MujocoError;
use crate::mujoco::kwargs::{
    check_kwargs, check_param, kwarg_bool, kwarg_f64, kwarg_frames, kwarg_range, kwarg_str,
    range_value,
};
use crate::mujoco::model::Model;
use crate::mujoco::noise::ResetNoise;
use crate::mujoco::np::{clip, control_cost, norm, sum_of_squares_f64};
use crate::mujoco::render_config::{with_render_kwargs, CameraConfig};
use crate::mujoco::sim::Simulation;
use crate::mujoco::task_util::require_model;

const ID: &str = "Ant-v5";

/// A body given by id or by name (Ant's `main_body`, Gymnasium's `data.body(main_body)`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BodyRef {
    /// The body's index in the model.
    Id(usize),
    /// The body's name.
    Name(String),
}

impl BodyRef {
    fn resolve(&self, model: &Model) -> Result<usize> {
        let found = match self {
            BodyRef::Id(id) => Some(*id).filter(|&id| id < model.nbody()),
            BodyRef::Name(name) => model.body_id(name),
        };
        found.ok_or_else(|| {
            MujocoError::ModelMismatch {
                env: ID.to_string(),
                file: model.file().to_string(),
                reason: format!("main_body {self:?}: no such body"),
            }
            .into()
        })
    }
}

/// Ant-v5's keyword arguments; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AntConfig {
    /// The MJCF model: a bare name picks one of Gymnasium's models, a path starting with
    /// `.`, `/` or `~` a file.
    pub xml_file: String,
    /// MuJoCo steps per environment step.
    pub frame_skip: u32,
    /// Weight of the forward velocity in the reward.
    pub forward_reward_weight: f64,
    /// Weight of the squared action in the reward's cost.
    pub ctrl_cost_weight: f64,
    /// Weight of the squared clipped contact forces in the reward's cost.
    pub contact_cost_weight: f64,
    /// Reward for every step in a healthy state.
    pub healthy_reward: f64,
    /// The body whose `xpos` gives the forward velocity.
    pub main_body: BodyRef,
    /// End the episode when the ant becomes unhealthy.
    pub terminate_when_unhealthy: bool,
    /// Closed interval the torso height `qpos[2]` must lie in.
    pub healthy_z_range: (f64, f64),
    /// The contact forces (`cfrc_ext`) are clipped to this range.
    pub contact_force_range: (f64, f64),
    /// Scale of the reset noise.
    pub reset_noise_scale: f64,
    /// Leave the x and y positions (`qpos[:2]`) out of the observation.
    pub exclude_current_positions_from_observation: bool,
    /// Append the clipped contact forces of the bodies to the observation.
    pub include_cfrc_ext_in_observation: bool,
}

impl Default for AntConfig {
    fn default() -> Self {
        AntConfig {
            xml_file: "ant.xml".into(),
            frame_skip: 5,
            forward_reward_weight: 1.0,
            ctrl_cost_weight: 0.5,
            contact_cost_weight: 5e-4,
            healthy_reward: 1.0,
            main_body: BodyRef::Id(1),
            terminate_when_unhealthy: true,
            healthy_z_range: (0.2, 1.0),
            contact_force_range: (-1.0, 1.0),
            reset_noise_scale: 0.1,
            exclude_current_positions_from_observation: true,
            include_cfrc_ext_in_observation: true,
        }
    }
}

impl AntConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] = &[
        "xml_file",
        "frame_skip",
        "forward_reward_weight",
        "ctrl_cost_weight",
        "contact_cost_weight",
        "healthy_reward",
        "main_body",
        "terminate_when_unhealthy",
        "healthy_z_range",
        "contact_force_range",
        "reset_noise_scale",
        "exclude_current_positions_from_observation",
        "include_cfrc_ext_in_observation",
    ];

    /// The defaults overridden by `kwargs` (ranges as `Value::Floats([low, high])`,
    /// `main_body` as an int or a name).
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = AntConfig::default();
        if let Some(s) = kwarg_str(ID, kwargs, "xml_file")? {
            c.xml_file = s.to_string();
        }
        if let Some(n) = kwarg_frames(ID, kwargs, "frame_skip")? {
            c.frame_skip = n;
        }
        for (key, field) in [
            ("forward_reward_weight", &mut c.forward_reward_weight),
            ("ctrl_cost_weight", &mut c.ctrl_cost_weight),
            ("contact_cost_weight", &mut c.contact_cost_weight),
            ("healthy_reward", &mut c.healthy_reward),
            ("reset_noise_scale", &mut c.reset_noise_scale),
        ] {
            if let Some(x) = kwarg_f64(ID, kwargs, key)? {
                *field = x;
            }
        }
        for (key, field) in [
            ("healthy_z_range", &mut c.healthy_z_range),
            ("contact_force_range", &mut c.contact_force_range),
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
            ("include_cfrc_ext_in_observation", &mut c.include_cfrc_ext_in_observation),
        ] {
            if let Some(b) = kwarg_bool(ID, kwargs, key)? {
                *field = b;
            }
        }
        match kwargs.get("main_body") {
            None => {}
            Some(Value::Int(id)) if *id >= 0 => c.main_body = BodyRef::Id(*id as usize),
            Some(Value::Str(name)) => c.main_body = BodyRef::Name(name.clone()),
            Some(v) => {
                return Err(EnvError::BadKwarg {
                    env: ID.to_string(),
                    key: "main_body".into(),
                    reason: format!("expected a body id (a non-negative int) or name, got {v:?}"),
                })
            }
        }
        Ok(c)
    }

    /// The configuration as `make` keyword arguments.
    pub fn to_kwargs(&self) -> Kwargs {
        let main_body = match &self.main_body {
            BodyRef::Id(id) => Value::Int(*id as i64),
            BodyRef::Name(name) => Value::Str(name.clone()),
        };
        Kwargs::from([
            ("xml_file".to_string(), Value::Str(self.xml_file.clone())),
            ("frame_skip".to_string(), Value::Int(self.frame_skip as i64)),
            ("forward_reward_weight".to_string(), Value::Float(self.forward_reward_weight)),
            ("ctrl_cost_weight".to_string(), Value::Float(self.ctrl_cost_weight)),
            ("contact_cost_weight".to_string(), Value::Float(self.contact_cost_weight)),
            ("healthy_reward".to_string(), Value::Float(self.healthy_reward)),
            ("main_body".to_string(), main_body),
            ("terminate_when_unhealthy".to_string(), Value::Bool(self.terminate_when_unhealthy)),
            ("healthy_z_range".to_string(), range_value(self.healthy_z_range)),
            ("contact_force_range".to_string(), range_value(self.contact_force_range)),
            ("reset_noise_scale".to_string(), Value::Float(self.reset_noise_scale)),
            (
                "exclude_current_positions_from_observation".to_string(),
                Value::Bool(self.exclude_current_positions_from_observation),
            ),
            (
                "include_cfrc_ext_in_observation".to_string(),
                Value::Bool(self.include_cfrc_ext_in_observation),
            ),
        ])
    }
}

/// Ant-v5's task (see the module header); the environment is `MujocoEnv<Ant>`.
#[derive(Debug, Clone)]
pub struct Ant {
    config: AntConfig,
    /// `main_body` resolved in the model.
    main_body: usize,
}

impl Ant {
    /// An Ant-v5 environment with `config`.
    pub fn env(config: AntConfig) -> Result<MujocoEnv<Ant>> {
        for (key, x) in [
            ("forward_reward_weight", config.forward_reward_weight),
            ("ctrl_cost_weight", config.ctrl_cost_weight),
            ("contact_cost_weight", config.contact_cost_weight),
            ("healthy_reward", config.healthy_reward),
            ("reset_noise_scale", config.reset_noise_scale),
        ] {
            check_param(ID, key, x, false)?;
        }
        let model = ModelSource::from_xml_file(&config.xml_file)?.load()?;
        // qpos[0..3] are read (x, y, torso height).
        require_model(ID, &model, 3, 1)?;
        let main_body = config.main_body.resolve(&model)?;
        let sim = Simulation::new(ID, model, config.frame_skip)?;
        Ok(MujocoEnv::new(Ant { config, main_body }, sim))
    }

    /// An Ant-v5 environment from `make`-style keyword arguments.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<MujocoEnv<Ant>> {
        with_render_kwargs(ID, kwargs, |kw| Self::env(AntConfig::from_kwargs(kw)?))
    }

    /// The configuration.
    pub fn config(&self) -> &AntConfig {
        &self.config
    }

    fn skipped(&self) -> usize {
        2 * self.config.exclude_current_positions_from_observation as usize
    }

    /// Gymnasium's `is_healthy`: a finite state with the torso height in `healthy_z_range`.
    pub fn is_healthy(&self, sim: &Simulation) -> bool {
        let (low, high) = self.config.healthy_z_range;
        let z = sim.qpos()[2];
        sim.state_vector().all(f64::is_finite) && low <= z && z <= high
    }

    /// `cfrc_ext` clipped to `contact_force_range` (Gymnasium's `contact_forces`), all bodies.
    fn contact_forces(&self, sim: &Simulation) -> Vec<f64> {
        let (low, high) = self.config.contact_force_range;
        let raw = sim.data().array("cfrc_ext").map_or(&[][..], |(a, _)| a);
        raw.iter().map(|&f| clip(f, low, high)).collect()
    }

    fn main_body_xy(&self, sim: &Simulation) -> [f64; 2] {
        let xpos = sim.data().array("xpos").map_or(&[][..], |(a, _)| a);
        let i = 3 * self.main_body;
        [xpos[i], xpos[i + 1]]
    }
}

impl MujocoTask for Ant {
    fn id(&self) -> &'static str {
        ID
    }

    /// Gymnasium's `DEFAULT_CAMERA_CONFIG`.
    fn default_camera(&self) -> CameraConfig {
        CameraConfig { distance: Some(4.0), ..CameraConfig::default() }
    }

    fn obs_len(&self, sim: &Simulation) -> usize {
        let m = sim.model();
        let cfrc = 6 * (m.nbody() - 1) * self.config.include_cfrc_ext_in_observation as usize;
        m.nq() + m.nv() - self.skipped() + cfrc
    }

    fn reset_model(&mut self, sim: &mut Simulation, noise: &mut dyn ResetNoise) -> Result<()> {
        let scale = self.config.reset_noise_scale;
        let mut qpos = vec![0.0; sim.model().nq()];
        noise.uniform(-scale, scale, &mut qpos);
        let mut qvel = vec![0.0; sim.model().nv()];
        noise.standard_normal(&mut qvel);
        for (q, &q0) in qpos.iter_mut().zip(sim.init_qpos()) {
            *q += q0;
        }
        for (v, &v0) in qvel.iter_mut().zip(sim.init_qvel()) {
            *v = v0 + scale * *v;
        }
        sim.set_state(&qpos, &qvel)
    }

    fn observe(&self, sim: &Simulation, obs: &mut [f64]) {
        let position = &sim.qpos()[self.skipped()..];
        let (p, rest) = obs.split_at_mut(position.len());
        p.copy_from_slice(position);
        let (v, forces) = rest.split_at_mut(sim.qvel().len());
        v.copy_from_slice(sim.qvel());
        if self.config.include_cfrc_ext_in_observation {
            forces.copy_from_slice(&self.contact_forces(sim)[6..]);
        }
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
        let before = self.main_body_xy(sim);
        sim.do_simulation(action, self.config.frame_skip)?;
        let after = self.main_body_xy(sim);
        let x_velocity = (after[0] - before[0]) / sim.dt();
        let y_velocity = (after[1] - before[1]) / sim.dt();
        self.observe(sim, obs);

        let c = &self.config;
        let forward_reward = x_velocity * c.forward_reward_weight;
        let is_healthy = self.is_healthy(sim);
        let healthy_reward = is_healthy as u8 as f64 * c.healthy_reward;
        let rewards = forward_reward + healthy_reward;
        let ctrl_cost = control_cost(c.ctrl_cost_weight, action);
        let contact_cost = c.contact_cost_weight * sum_of_squares_f64(&self.contact_forces(sim));
        // float32 + float64: numpy promotes to float64.
        let costs = ctrl_cost as f64 + contact_cost;
        let reward = rewards - costs;
        let terminated = !is_healthy && c.terminate_when_unhealthy;

        let qpos = sim.qpos();
        info.extend([
            ("x_position".to_string(), Value::Float(qpos[0])),
            ("y_position".to_string(), Value::Float(qpos[1])),
            ("distance_from_origin".to_string(), Value::Float(norm(&qpos[0..2]))),
            ("x_velocity".to_string(), Value::Float(x_velocity)),
            ("y_velocity".to_string(), Value::Float(y_velocity)),
            ("reward_forward".to_string(), Value::Float(forward_reward)),
            ("reward_ctrl".to_string(), Value::Float(-ctrl_cost as f64)),
            ("reward_contact".to_string(), Value::Float(-contact_cost)),
            ("reward_survive".to_string(), Value::Float(healthy_reward)),
        ]);
        Ok((reward, terminated))
    }
}
