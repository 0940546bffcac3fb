//! Pusher-v5: push a cylinder to a goal with a seven-joint arm.
//!
//! Gymnasium 1.4.0's `pusher_v5.py` (MuJoCo model `pusher_v5.xml` from OpenAI Gym). Reward =
//! `-reward_near_weight * |object - tips_arm| - reward_dist_weight * |object - goal| -
//! reward_control_weight * sum(action^2)` (the control term in float32, as numpy computes it on
//! the float32 action); never terminates (the registry's `TimeLimit` ends episodes after 100
//! steps). Observation: `qpos[:7]`, `qvel[:7]`, then the positions of the bodies `tips_arm`,
//! `object` and `goal`: 23 values. Reset: the arm at its initial pose, the cylinder drawn
//! uniformly in [-0.3, 0] x [-0.2, 0.2] until it lies more than 0.17 from the goal at the
//! origin, arm velocities uniform in ±0.005, cylinder and goal at rest. Info: `reward_dist`,
//! `reward_ctrl`, `reward_near`.

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

const ID: &str = "Pusher-v5";

/// Pusher-v5's keyword arguments; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PusherConfig {
    /// The MJCF model: a bare name picks one of Gymnasium's models, a path starting with
    /// `.`, `/` or `~` a file.
    pub xml_file: String,
    /// MuJoCo steps per environment step.
    pub frame_skip: u32,
    /// Weight of the arm tip's distance to the object in the reward.
    pub reward_near_weight: f64,
    /// Weight of the object's distance to the goal in the reward.
    pub reward_dist_weight: f64,
    /// Weight of the squared action in the reward's cost.
    pub reward_control_weight: f64,
}

impl Default for PusherConfig {
    fn default() -> Self {
        PusherConfig {
            xml_file: "pusher_v5.xml".into(),
            frame_skip: 5,
            reward_near_weight: 0.5,
            reward_dist_weight: 1.0,
            reward_control_weight: 0.1,
        }
    }
}

impl PusherConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] = &[
        "xml_file",
        "frame_skip",
        "reward_near_weight",
        "reward_dist_weight",
        "reward_control_weight",
    ];

    /// The defaults overridden by `kwargs`.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = PusherConfig::default();
        if let Some(s) = kwarg_str(ID, kwargs, "xml_file")? {
            c.xml_file = s.to_string();
        }
        if let Some(n) = kwarg_frames(ID, kwargs, "frame_skip")? {
            c.frame_skip = n;
        }
        for (key, field) in [
            ("reward_near_weight", &mut c.reward_near_weight),
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
            ("reward_near_weight".to_string(), Value::Float(self.reward_near_weight)),
            ("reward_dist_weight".to_string(), Value::Float(self.reward_dist_weight)),
            ("reward_control_weight".to_string(), Value::Float(self.reward_control_weight)),
        ])
    }
}

/// Pusher-v5's task (see the module header); the environment is `MujocoEnv<Pusher>`.
#[derive(Debug, Clone)]
pub struct Pusher {
    config: PusherConfig,
}

impl Pusher {
    /// A Pusher-v5 environment with `config`.
    pub fn env(config: PusherConfig) -> Result<MujocoEnv<Pusher>> {
        for (key, x) in [
            ("reward_near_weight", config.reward_near_weight),
            ("reward_dist_weight", config.reward_dist_weight),
            ("reward_control_weight", config.reward_control_weight),
        ] {
            check_param(ID, key, x, false)?;
        }
        let model = ModelSource::from_xml_file(&config.xml_file)?.load()?;
        // Seven arm joints then the cylinder's and the goal's (x, y).
        require_model(ID, &model, 11, 11)?;
        for body in ["tips_arm", "object", "goal"] {
            require_body(ID, &model, body)?;
        }
        let sim = Simulation::new(ID, model, config.frame_skip)?;
        Ok(MujocoEnv::new(Pusher { config }, sim))
    }

    /// A Pusher-v5 environment from `make`-style keyword arguments.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<MujocoEnv<Pusher>> {
        with_render_kwargs(ID, kwargs, |kw| Self::env(PusherConfig::from_kwargs(kw)?))
    }

    /// The configuration.
    pub fn config(&self) -> &PusherConfig {
        &self.config
    }
}

fn com(sim: &Simulation, body: &str) -> [f64; 3] {
    sim.body_com(body).unwrap_or([f64::NAN; 3])
}

fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
    norm(&[a[0] - b[0], a[1] - b[1], a[2] - b[2]])
}

impl MujocoTask for Pusher {
    fn id(&self) -> &'static str {
        ID
    }

    /// Gymnasium's `DEFAULT_CAMERA_CONFIG`.
    fn default_camera(&self) -> CameraConfig {
        CameraConfig { trackbodyid: Some(-1), distance: Some(4.0), ..CameraConfig::default() }
    }

    fn obs_len(&self, _sim: &Simulation) -> usize {
        23
    }

    fn reset_model(&mut self, sim: &mut Simulation, noise: &mut dyn ResetNoise) -> Result<()> {
        let (nq, nv) = (sim.model().nq(), sim.model().nv());
        let mut qpos = sim.init_qpos().to_vec();
        let mut cylinder = [0.0; 2];
        loop {
            noise.uniform(-0.3, 0.0, &mut cylinder[..1]);
            noise.uniform(-0.2, 0.2, &mut cylinder[1..]);
            // `norm(cylinder_pos - [0, 0])`.
            if norm(&[cylinder[0] - 0.0, cylinder[1] - 0.0]) > 0.17 {
                break;
            }
        }
        qpos[nq - 4..nq - 2].copy_from_slice(&cylinder);
        qpos[nq - 2..].fill(0.0);
        let mut qvel = vec![0.0; nv];
        noise.uniform(-0.005, 0.005, &mut qvel);
        for (v, &v0) in qvel.iter_mut().zip(sim.init_qvel()) {
            *v += v0;
        }
        qvel[nv - 4..].fill(0.0);
        sim.set_state(&qpos, &qvel)
    }

    fn observe(&self, sim: &Simulation, obs: &mut [f64]) {
        obs[..7].copy_from_slice(&sim.qpos()[..7]);
        obs[7..14].copy_from_slice(&sim.qvel()[..7]);
        obs[14..17].copy_from_slice(&com(sim, "tips_arm"));
        obs[17..20].copy_from_slice(&com(sim, "object"));
        obs[20..23].copy_from_slice(&com(sim, "goal"));
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
        let object = com(sim, "object");
        let reward_near = -distance(object, com(sim, "tips_arm")) * self.config.reward_near_weight;
        let reward_dist = -distance(object, com(sim, "goal")) * self.config.reward_dist_weight;
        // `-np.square(action).sum() * weight`: float32 throughout.
        let reward_ctrl = -control_cost(self.config.reward_control_weight, action);
        let reward = reward_dist + reward_ctrl as f64 + reward_near;
        info.extend([
            ("reward_dist".to_string(), Value::Float(reward_dist)),
            ("reward_ctrl".to_string(), Value::Float(reward_ctrl as f64)),
            ("reward_near".to_string(), Value::Float(reward_near)),
        ]);
        Ok((reward, false))
    }
}
