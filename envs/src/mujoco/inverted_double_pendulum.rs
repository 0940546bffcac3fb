//! InvertedDoublePendulum-v5: balance two poles chained on a cart.
//!
//! Gymnasium 1.4.0's `inverted_double_pendulum_v5.py` (MuJoCo model from OpenAI Gym, after
//! Todorov, Erez & Tassa, "MuJoCo: A physics engine for model-based control", IROS 2012).
//! With `(x, _, y)` the tip site's position after the step: reward = `healthy_reward *
//! (y > 1) - (0.01 x^2 + (y - 2)^2) - (1e-3 v1^2 + 5e-3 v2^2)` (`v1, v2 = qvel[1:3]`);
//! terminated when `y <= 1`. Observation: `qpos[:1]`, `sin(qpos[1:])`, `cos(qpos[1:])`, `qvel`
//! clipped to [-10, 10], `qfrc_constraint[:1]` clipped to [-10, 10]: 9 values. Reset: `qpos`
//! uniform in ±`reset_noise_scale`, `qvel` normal with standard deviation `reset_noise_scale`.
//! Info: `reward_survive`, `distance_penalty`, `velocity_penalty`.

use serde::{Deserialize, Serialize};

use crate::env::{Info, Kwargs, Value};
use crate::error::Result;
use crate::mujoco::assets::ModelSource;
use crate::mujoco::base::{MujocoEnv, MujocoTask};
use crate::mujoco::kwargs::{check_kwargs, check_param, kwarg_f64, kwarg_frames, kwarg_str};
use crate::mujoco::noise::ResetNoise;
use crate::mujoco::render_config::with_render_kwargs;
use crate::mujoco::sim::Simulation;
use crate::mujoco::task_util::{require_model, require_size};

const ID: &str = "InvertedDoublePendulum-v5";

/// InvertedDoublePendulum-v5's keyword arguments; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InvertedDoublePendulumConfig {
    /// The MJCF model: a bare name picks one of Gymnasium's models, a path starting with
    /// `.`, `/` or `~` a file.
    pub xml_file: String,
    /// MuJoCo steps per environment step.
    pub frame_skip: u32,
    /// Reward for every step on which the tip stays above height 1.
    pub healthy_reward: f64,
    /// Scale of the reset noise.
    pub reset_noise_scale: f64,
}

impl Default for InvertedDoublePendulumConfig {
    fn default() -> Self {
        InvertedDoublePendulumConfig {
            xml_file: "inverted_double_pendulum.xml".into(),
            frame_skip: 5,
            healthy_reward: 10.0,
            reset_noise_scale: 0.1,
        }
    }
}

impl InvertedDoublePendulumConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] =
        &["xml_file", "frame_skip", "healthy_reward", "reset_noise_scale"];

    /// The defaults overridden by `kwargs`.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = InvertedDoublePendulumConfig::default();
        if let Some(s) = kwarg_str(ID, kwargs, "xml_file")? {
            c.xml_file = s.to_string();
        }
        if let Some(n) = kwarg_frames(ID, kwargs, "frame_skip")? {
            c.frame_skip = n;
        }
        for (key, field) in [
            ("healthy_reward", &mut c.healthy_reward),
            ("reset_noise_scale", &mut c.reset_noise_scale),
        ] {
            if let Some(x) = kwarg_f64(ID, kwargs, key)? {
                *field = x;
            }
        }
        Ok(c)
    }

    /// The configuration as `make` keyword arguments.
    pub fn to_kwargs(&self) -> Kwargs {
        Kwargs::from([
            ("xml_file".to_string(), Value::Str(self.xml_file.clone())),
            ("frame_skip".to_string(), Value::Int(self.frame_skip as i64)),
            ("healthy_reward".to_string(), Value::Float(self.healthy_reward)),
            ("reset_noise_scale".to_string(), Value::Float(self.reset_noise_scale)),
        ])
    }
}

/// InvertedDoublePendulum-v5's task (see the module header); the environment is
/// `MujocoEnv<InvertedDoublePendulum>`.
#[derive(Debug, Clone)]
pub struct InvertedDoublePendulum {
    config: InvertedDoublePendulumConfig,
}

impl InvertedDoublePendulum {
    /// An InvertedDoublePendulum-v5 environment with `config`.
    pub fn env(config: InvertedDoublePendulumConfig) -> Result<MujocoEnv<InvertedDoublePendulum>> {
        check_param(ID, "healthy_reward", config.healthy_reward, false)?;
        check_param(ID, "reset_noise_scale", config.reset_noise_scale, false)?;
        let model = ModelSource::from_xml_file(&config.xml_file)?.load()?;
        // qvel[1:3] and the first site (the tip) are read.
        require_model(ID, &model, 1, 3)?;
        require_size(ID, &model, "nsite", 1)?;
        let sim = Simulation::new(ID, model, config.frame_skip)?;
        Ok(MujocoEnv::new(InvertedDoublePendulum { config }, sim))
    }

    /// An InvertedDoublePendulum-v5 environment from `make`-style keyword arguments.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<MujocoEnv<InvertedDoublePendulum>> {
        with_render_kwargs(ID, kwargs, |kw| {
            Self::env(InvertedDoublePendulumConfig::from_kwargs(kw)?)
        })
    }

    /// The configuration.
    pub fn config(&self) -> &InvertedDoublePendulumConfig {
        &self.config
    }
}

impl MujocoTask for InvertedDoublePendulum {
    fn id(&self) -> &'static str {
        ID
    }

    /// Gymnasium declares `(9,)`, which is this formula for its model; a custom model's own
    /// sizes are used here.
    fn obs_len(&self, sim: &Simulation) -> usize {
        1 + 2 * (sim.model().nq() - 1) + sim.model().nv() + 1
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
            *v = v0 + *v * scale;
        }
        sim.set_state(&qpos, &qvel)
    }

    fn observe(&self, sim: &Simulation, obs: &mut [f64]) {
        let (qpos, qvel) = (sim.qpos(), sim.qvel());
        let n = qpos.len() - 1;
        obs[0] = qpos[0];
        for (i, &q) in qpos[1..].iter().enumerate() {
            obs[1 + i] = q.sin();
            obs[1 + n + i] = q.cos();
        }
        let v = &mut obs[1 + 2 * n..];
        for (o, &x) in v.iter_mut().zip(qvel) {
            *o = x.clamp(-10.0, 10.0);
        }
        let qfrc_constraint = sim.data().array("qfrc_constraint").map_or(0.0, |(a, _)| a[0]);
        v[qvel.len()] = qfrc_constraint.clamp(-10.0, 10.0);
    }

    fn step(
        &mut self,
        sim: &mut Simulation,
        action: &[f32],
        obs: &mut [f64],
        info: &mut Info,
    ) -> Result<(f64, bool)> {
        sim.do_simulation(action, self.config.frame_skip)?;
        let (x, y) = match sim.data().array("site_xpos") {
            Some((p, _)) => (p[0], p[2]),
            None => (f64::NAN, f64::NAN),
        };
        self.observe(sim, obs);
        let terminated = y <= 1.0;
        let (v1, v2) = (sim.qvel()[1], sim.qvel()[2]);
        let dist_penalty = 0.01 * (x * x) + (y - 2.0) * (y - 2.0);
        let vel_penalty = 1e-3 * (v1 * v1) + 5e-3 * (v2 * v2);
        // `healthy_reward * int(not terminated)`: a product, so a negative weight gives -0.0.
        let alive_bonus = self.config.healthy_reward * (!terminated as u8 as f64);
        let reward = alive_bonus - dist_penalty - vel_penalty;
        info.extend([
            ("reward_survive".to_string(), Value::Float(alive_bonus)),
            ("distance_penalty".to_string(), Value::Float(-dist_penalty)),
            ("velocity_penalty".to_string(), Value::Float(-vel_penalty)),
        ]);
        Ok((reward, terminated))
    }
}
