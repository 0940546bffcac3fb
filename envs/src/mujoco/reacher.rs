//! Reacher-v5: move a two-joint arm's fingertip to a random target.
//!
//! Gymnasium 1.4.0's `reacher_v5.py` (MuJoCo model from OpenAI Gym). Reward =
//! `-reward_dist_weight * |fingertip - target| - reward_control_weight * sum(action^2)` (the
//! control term in float32, as numpy computes it on the float32 action); never terminates (the
//! registry's `TimeLimit` ends episodes after 50 steps). Observation: `cos(qpos[:2])`,
//! `sin(qpos[:2])`, `qpos[2:]` (the target), `qvel[:2]`, `(fingertip - target)[:2]`: 10
//! values. Reset: arm angles uniform in ±0.1, the target drawn uniformly in ±0.2 until it lies
//! within 0.2 of the origin, arm velocities uniform in ±0.005, the target at rest. Info:
//! `reward_dist`, `reward_ctrl`.

use serde::{Deserialize, Serialize};

use crate::env::{Info, Kwargs, Value};
use crate::error::Result;
use crate::mujoco::assets::ModelSource;
use crate::mujoco::base::{MujocoEnv, MujocoTask};
use crate::mujoco::kwargs::{check_kwargs, check_param, kwarg_f64, kwarg_frames, kwarg_str};
use crate::mujoco::noise::ResetNoise;
use crate::mujoco::np::{control_cost, norm};
use crate::mujoco::render_config::{with_render_kwargs, CameraConfig};
use crate::mujoco::sim::Simulation;
use crate::mujoco::task_util::{require_body, require_model};

const ID: &str = "Reacher-v5";

/// Reacher-v5's keyword arguments; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReacherConfig {
    /// The MJCF model: a bare name picks one of Gymnasium's models, a path starting with
    /// `.`, `/` or `~` a file.
    pub xml_file: String,
    /// MuJoCo steps per environment step.
    pub frame_skip: u32,
    /// Weight of the fingertip's distance to the target in the reward.
    pub reward_dist_weight: f64,
    /// Weight of the squared action in the reward's cost.
    pub reward_control_weight: f64,
}

impl Default for ReacherConfig {
    fn default() -> Self {
        ReacherConfig {
            xml_file: "reacher.xml".into(),
            frame_skip: 2,
            reward_dist_weight: 1.0,
            reward_control_weight: 1.0,
        }
    }
}

impl ReacherConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] =
        &["xml_file", "frame_skip", "reward_dist_weight", "reward_control_weight"];

    /// The defaults overridden by `kwargs`.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = ReacherConfig::default();
        if let Some(s) = kwarg_str(ID, kwargs, "xml_file")? {
            c.xml_file = s.to_string();
        }
        if let Some(n) = kwarg_frames(ID, kwargs, "frame_skip")? {
            c.frame_skip = n;
        }
        for (key, field) in [
            ("reward_dist_weight", &mut c.reward_dist_weight),
            ("reward_control_weight", &mut c.reward_control_weight),
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
            ("reward_dist_weight".to_string(), Value::Float(self.reward_dist_weight)),
            ("reward_control_weight".to_string(), Value::Float(self.reward_control_weight)),
        ])
    }
}

/// Reacher-v5's task (see the module header); the environment is `MujocoEnv<Reacher>`.
#[derive(Debug, Clone)]
pub struct Reacher {
    config: ReacherConfig,
}

impl Reacher {
    /// A Reacher-v5 environment with `config`.
    pub fn env(config: ReacherConfig) -> Result<MujocoEnv<Reacher>> {
        check_param(ID, "reward_dist_weight", config.reward_dist_weight, false)?;
        check_param(ID, "reward_control_weight", config.reward_control_weight, false)?;
        let model = ModelSource::from_xml_file(&config.xml_file)?.load()?;
        // Two arm angles then the target's (x, y); the bodies are read by name.
        require_model(ID, &model, 4, 2)?;
        require_body(ID, &model, "fingertip")?;
        require_body(ID, &model, "target")?;
        let sim = Simulation::new(ID, model, config.frame_skip)?;
        Ok(MujocoEnv::new(Reacher { config }, sim))
    }

    /// A Reacher-v5 environment from `make`-style keyword arguments.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<MujocoEnv<Reacher>> {
        with_render_kwargs(ID, kwargs, |kw| Self::env(ReacherConfig::from_kwargs(kw)?))
    }

    /// The configuration.
    pub fn config(&self) -> &ReacherConfig {
        &self.config
    }
}

/// `get_body_com("fingertip") - get_body_com("target")`.
fn fingertip_to_target(sim: &Simulation) -> [f64; 3] {
    let tip = sim.body_com("fingertip").unwrap_or([f64::NAN; 3]);
    let target = sim.body_com("target").unwrap_or([f64::NAN; 3]);
    [tip[0] - target[0], tip[1] - target[1], tip[2] - target[2]]
}

impl MujocoTask for Reacher {
    fn id(&self) -> &'static str {
        ID
    }

    /// Gymnasium's `DEFAULT_CAMERA_CONFIG`.
    fn default_camera(&self) -> CameraConfig {
        CameraConfig { trackbodyid: Some(0), ..CameraConfig::default() }
    }

    /// Gymnasium declares `(10,)`, which is `nq + 6` of its model.
    fn obs_len(&self, sim: &Simulation) -> usize {
        sim.model().nq() + 6
    }

    fn reset_model(&mut self, sim: &mut Simulation, noise: &mut dyn ResetNoise) -> Result<()> {
        let (nq, nv) = (sim.model().nq(), sim.model().nv());
        let mut qpos = vec![0.0; nq];
        noise.uniform(-0.1, 0.1, &mut qpos);
        for (q, &q0) in qpos.iter_mut().zip(sim.init_qpos()) {
            *q += q0;
        }
        let mut goal = [0.0; 2];
        loop {
            noise.uniform(-0.2, 0.2, &mut goal);
            if norm(&goal) < 0.2 {
                break;
            }
        }
        qpos[nq - 2..].copy_from_slice(&goal);
        let mut qvel = vec![0.0; nv];
        noise.uniform(-0.005, 0.005, &mut qvel);
        for (v, &v0) in qvel.iter_mut().zip(sim.init_qvel()) {
            *v += v0;
        }
        qvel[nv - 2..].fill(0.0);
        sim.set_state(&qpos, &qvel)
    }

    fn observe(&self, sim: &Simulation, obs: &mut [f64]) {
        let (qpos, qvel) = (sim.qpos(), sim.qvel());
        obs[0] = qpos[0].cos();
        obs[1] = qpos[1].cos();
        obs[2] = qpos[0].sin();
        obs[3] = qpos[1].sin();
        let n = qpos.len() - 2;
        obs[4..4 + n].copy_from_slice(&qpos[2..]);
        obs[4 + n..6 + n].copy_from_slice(&qvel[..2]);
        let d = fingertip_to_target(sim);
        obs[6 + n..8 + n].copy_from_slice(&d[..2]);
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
        let reward_dist = -norm(&fingertip_to_target(sim)) * self.config.reward_dist_weight;
        // `-np.square(action).sum() * weight`: float32 throughout.
        let reward_ctrl = -control_cost(self.config.reward_control_weight, action);
        let reward = reward_dist + reward_ctrl as f64;
        info.extend([
            ("reward_dist".to_string(), Value::Float(reward_dist)),
            ("reward_ctrl".to_string(), Value::Float(reward_ctrl as f64)),
        ]);
        Ok((reward, false))
    }
}
