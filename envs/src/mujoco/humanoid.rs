//! Humanoid-v5: make a 3-D bipedal robot walk forward as fast as possible without falling.
//!
//! Gymnasium 1.4.0's `humanoid_v5.py` (Tassa, Erez & Todorov, "Synthesis and stabilization of
//! complex behaviors through online trajectory optimization", IROS 2012; MuJoCo model from
//! OpenAI Gym). Reward = `healthy_reward * is_healthy + forward_reward_weight * x_velocity -
//! ctrl_cost_weight * sum(ctrl^2) - clip(contact_cost_weight * sum(cfrc_ext^2),
//! contact_cost_range)`, with `x_velocity` that of the mass centre (`xipos` weighted by
//! `body_mass`), all in float64 (the costs read `data.ctrl` and `data.cfrc_ext`). Healthy: the
//! torso height `qpos[2]` strictly inside `healthy_z_range`; an unhealthy state terminates the
//! episode when `terminate_when_unhealthy`. Observation ([`HumanoidObs`]): `qpos[2:]` (all of
//! `qpos` without `exclude_current_positions_from_observation`), `qvel`, then, each when
//! included, `cinert`, `cvel` and `cfrc_ext` of every body but the world and
//! `qfrc_actuator[6:]`: 348 values by default. Reset: `qpos` and `qvel` uniform in
//! ±`reset_noise_scale` around the initial state. Info: `x_position`, `y_position`,
//! `tendon_length`, `tendon_velocity` (arrays), `distance_from_origin`, `x_velocity`,
//! `y_velocity`, `reward_survive`, `reward_forward`, `reward_ctrl`, `reward_contact`.

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
use crate::mujoco::np::{clip, norm, pairwise_sum_f64, sum_of_squares_f64};
use crate::mujoco::render_config::{with_render_kwargs, CameraConfig};
use crate::mujoco::sim::Simulation;
use crate::mujoco::task_util::require_model;

const ID: &str = "Humanoid-v5";

/// What the Humanoids' observations hold (shared by Humanoid-v5 and HumanoidStandup-v5).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct HumanoidObs {
    pub exclude_current_positions: bool,
    pub cinert: bool,
    pub cvel: bool,
    pub qfrc_actuator: bool,
    pub cfrc_ext: bool,
}

impl HumanoidObs {
    fn skipped(&self) -> usize {
        2 * self.exclude_current_positions as usize
    }

    /// The observation's length for `sim`'s model.
    pub fn len(&self, sim: &Simulation) -> usize {
        let m = sim.model();
        let bodies = m.nbody() - 1;
        m.nq() + m.nv() - self.skipped()
            + 10 * bodies * self.cinert as usize
            + 6 * bodies * self.cvel as usize
            + m.nv().saturating_sub(6) * self.qfrc_actuator as usize
            + 6 * bodies * self.cfrc_ext as usize
    }

    /// Gymnasium's `_get_obs` of both Humanoids, into `obs`.
    pub fn observe(&self, sim: &Simulation, obs: &mut [f64]) {
        let data = sim.data();
        let array = |name: &str, skip: usize| -> &[f64] {
            data.array(name).map_or(&[][..], |(a, _)| a.get(skip..).unwrap_or(&[]))
        };
        let mut parts: Vec<&[f64]> = vec![&sim.qpos()[self.skipped()..], sim.qvel()];
        if self.cinert {
            parts.push(array("cinert", 10));
        }
        if self.cvel {
            parts.push(array("cvel", 6));
        }
        if self.qfrc_actuator {
            parts.push(array("qfrc_actuator", 6));
        }
        if self.cfrc_ext {
            parts.push(array("cfrc_ext", 6));
        }
        let mut at = 0;
        for part in parts {
            obs[at..at + part.len()].copy_from_slice(part);
            at += part.len();
        }
    }
}

/// `data.ten_length` and `data.ten_velocity` as info values (numpy arrays in Gymnasium).
pub(crate) fn tendon_info(sim: &Simulation) -> [(String, Value); 2] {
    let array = |name: &str| sim.data().array(name).map_or_else(Vec::new, |(a, _)| a.to_vec());
    [
        ("tendon_length".to_string(), Value::Floats(array("ten_length"))),
        ("tendon_velocity".to_string(), Value::Floats(array("ten_velocity"))),
    ]
}

/// `np.sum(np.square(data.cfrc_ext))`, all bodies, in float64.
pub(crate) fn cfrc_ext_squared(sim: &Simulation) -> f64 {
    sum_of_squares_f64(sim.data().array("cfrc_ext").map_or(&[][..], |(a, _)| a))
}

/// `np.sum(np.square(data.ctrl))` in float64 (`data.ctrl` holds the float32 action widened,
/// or zeros if MuJoCo reset the data after a bad state).
pub(crate) fn ctrl_squared(sim: &Simulation) -> f64 {
    sum_of_squares_f64(sim.data().ctrl())
}

/// Both Humanoids draw `qpos` and `qvel` uniform in ±`scale` around the initial state.
pub(crate) fn reset_uniform(
    sim: &mut Simulation,
    noise: &mut dyn ResetNoise,
    scale: f64,
) -> Result<()> {
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

/// Gymnasium's `mass_center`: `einsum("b,bj->j", body_mass, xipos) / body_mass.sum()`, x and
/// y. numpy's einsum adds the products body by body from zero (no fused multiply-add), the
/// denominator is numpy's pairwise sum (checked against numpy 2.4.6).
fn mass_center(sim: &Simulation) -> [f64; 2] {
    let mass = sim.model().array("body_mass").map_or(&[][..], |(a, _)| a);
    let xipos = sim.data().array("xipos").map_or(&[][..], |(a, _)| a);
    let mut num = [0.0f64; 2];
    for (b, &m) in mass.iter().enumerate() {
        num[0] += m * xipos[3 * b];
        num[1] += m * xipos[3 * b + 1];
    }
    let denom = pairwise_sum_f64(mass);
    [num[0] / denom, num[1] / denom]
}

/// Humanoid-v5's keyword arguments; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HumanoidConfig {
    /// The MJCF model: a bare name picks one of Gymnasium's models, a path starting with
    /// `.`, `/` or `~` a file.
    pub xml_file: String,
    /// MuJoCo steps per environment step.
    pub frame_skip: u32,
    /// Weight of the mass centre's forward velocity in the reward.
    pub forward_reward_weight: f64,
    /// Weight of the squared controls in the reward's cost.
    pub ctrl_cost_weight: f64,
    /// Weight of the squared contact forces in the reward's cost.
    pub contact_cost_weight: f64,
    /// The weighted contact cost is clipped to this range.
    pub contact_cost_range: (f64, f64),
    /// Reward for every step in a healthy state.
    pub healthy_reward: f64,
    /// End the episode when the humanoid becomes unhealthy.
    pub terminate_when_unhealthy: bool,
    /// Open interval the torso height `qpos[2]` must lie in.
    pub healthy_z_range: (f64, f64),
    /// Scale of the reset noise.
    pub reset_noise_scale: f64,
    /// Leave the x and y positions (`qpos[:2]`) out of the observation.
    pub exclude_current_positions_from_observation: bool,
    /// Include the bodies' `cinert` (10 values each) in the observation.
    pub include_cinert_in_observation: bool,
    /// Include the bodies' `cvel` (6 values each) in the observation.
    pub include_cvel_in_observation: bool,
    /// Include `qfrc_actuator[6:]` in the observation.
    pub include_qfrc_actuator_in_observation: bool,
    /// Include the bodies' `cfrc_ext` (6 values each) in the observation.
    pub include_cfrc_ext_in_observation: bool,
}

impl Default for HumanoidConfig {
    fn default() -> Self {
        HumanoidConfig {
            xml_file: "humanoid.xml".into(),
            frame_skip: 5,
            forward_reward_weight: 1.25,
            ctrl_cost_weight: 0.1,
            contact_cost_weight: 5e-7,
            contact_cost_range: (f64::NEG_INFINITY, 10.0),
            healthy_reward: 5.0,
            terminate_when_unhealthy: true,
            healthy_z_range: (1.0, 2.0),
            reset_noise_scale: 1e-2,
            exclude_current_positions_from_observation: true,
            include_cinert_in_observation: true,
            include_cvel_in_observation: true,
            include_qfrc_actuator_in_observation: true,
            include_cfrc_ext_in_observation: true,
        }
    }
}

/// The observation flags' keyword names (shared with HumanoidStandup-v5).
pub(crate) const OBS_FLAGS: [&str; 5] = [
    "exclude_current_positions_from_observation",
    "include_cinert_in_observation",
    "include_cvel_in_observation",
    "include_qfrc_actuator_in_observation",
    "include_cfrc_ext_in_observation",
];

impl HumanoidConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] = &[
        "xml_file",
        "frame_skip",
        "forward_reward_weight",
        "ctrl_cost_weight",
        "contact_cost_weight",
        "contact_cost_range",
        "healthy_reward",
        "terminate_when_unhealthy",
        "healthy_z_range",
        "reset_noise_scale",
        "exclude_current_positions_from_observation",
        "include_cinert_in_observation",
        "include_cvel_in_observation",
        "include_qfrc_actuator_in_observation",
        "include_cfrc_ext_in_observation",
    ];

    /// The defaults overridden by `kwargs` (ranges as `Value::Floats([low, high])`).
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = HumanoidConfig::default();
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
            ("contact_cost_range", &mut c.contact_cost_range),
            ("healthy_z_range", &mut c.healthy_z_range),
        ] {
            if let Some(r) = kwarg_range(ID, kwargs, key)? {
                *field = r;
            }
        }
        let flags = [
            &mut c.exclude_current_positions_from_observation,
            &mut c.include_cinert_in_observation,
            &mut c.include_cvel_in_observation,
            &mut c.include_qfrc_actuator_in_observation,
            &mut c.include_cfrc_ext_in_observation,
        ];
        for (key, field) in
            std::iter::once(("terminate_when_unhealthy", &mut c.terminate_when_unhealthy))
                .chain(OBS_FLAGS.into_iter().zip(flags))
        {
            if let Some(b) = kwarg_bool(ID, kwargs, key)? {
                *field = b;
            }
        }
        Ok(c)
    }

    /// The configuration as `make` keyword arguments.
    pub fn to_kwargs(&self) -> Kwargs {
        let flags = [
            self.exclude_current_positions_from_observation,
            self.include_cinert_in_observation,
            self.include_cvel_in_observation,
            self.include_qfrc_actuator_in_observation,
            self.include_cfrc_ext_in_observation,
        ];
        let mut kw = Kwargs::from([
            ("xml_file".to_string(), Value::Str(self.xml_file.clone())),
            ("frame_skip".to_string(), Value::Int(self.frame_skip as i64)),
            ("forward_reward_weight".to_string(), Value::Float(self.forward_reward_weight)),
            ("ctrl_cost_weight".to_string(), Value::Float(self.ctrl_cost_weight)),
            ("contact_cost_weight".to_string(), Value::Float(self.contact_cost_weight)),
            ("contact_cost_range".to_string(), range_value(self.contact_cost_range)),
            ("healthy_reward".to_string(), Value::Float(self.healthy_reward)),
            ("terminate_when_unhealthy".to_string(), Value::Bool(self.terminate_when_unhealthy)),
            ("healthy_z_range".to_string(), range_value(self.healthy_z_range)),
            ("reset_noise_scale".to_string(), Value::Float(self.reset_noise_scale)),
        ]);
        kw.extend(OBS_FLAGS.iter().zip(flags).map(|(k, b)| (k.to_string(), Value::Bool(b))));
        kw
    }

    fn obs(&self) -> HumanoidObs {
        HumanoidObs {
            exclude_current_positions: self.exclude_current_positions_from_observation,
            cinert: self.include_cinert_in_observation,
            cvel: self.include_cvel_in_observation,
            qfrc_actuator: self.include_qfrc_actuator_in_observation,
            cfrc_ext: self.include_cfrc_ext_in_observation,
        }
    }
}

/// Humanoid-v5's task (see the module header); the environment is `MujocoEnv<Humanoid>`.
#[derive(Debug, Clone)]
pub struct Humanoid {
    config: HumanoidConfig,
    obs: HumanoidObs,
}

impl Humanoid {
    /// A Humanoid-v5 environment with `config`.
    pub fn env(config: HumanoidConfig) -> Result<MujocoEnv<Humanoid>> {
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
        let sim = Simulation::new(ID, model, config.frame_skip)?;
        let obs = config.obs();
        Ok(MujocoEnv::new(Humanoid { config, obs }, sim))
    }

    /// A Humanoid-v5 environment from `make`-style keyword arguments.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<MujocoEnv<Humanoid>> {
        with_render_kwargs(ID, kwargs, |kw| Self::env(HumanoidConfig::from_kwargs(kw)?))
    }

    /// The configuration.
    pub fn config(&self) -> &HumanoidConfig {
        &self.config
    }

    /// Gymnasium's `is_healthy`: the torso height strictly inside `healthy_z_range`.
    pub fn is_healthy(&self, sim: &Simulation) -> bool {
        let (low, high) = self.config.healthy_z_range;
        let z = sim.qpos()[2];
        low < z && z < high
    }
}

impl MujocoTask for Humanoid {
    fn id(&self) -> &'static str {
        ID
    }

    /// Gymnasium's `DEFAULT_CAMERA_CONFIG`.
    fn default_camera(&self) -> CameraConfig {
        CameraConfig {
            trackbodyid: Some(1),
            distance: Some(4.0),
            lookat: Some([0.0, 0.0, 2.0]),
            elevation: Some(-20.0),
            ..CameraConfig::default()
        }
    }

    fn obs_len(&self, sim: &Simulation) -> usize {
        self.obs.len(sim)
    }

    fn reset_model(&mut self, sim: &mut Simulation, noise: &mut dyn ResetNoise) -> Result<()> {
        reset_uniform(sim, noise, self.config.reset_noise_scale)
    }

    fn observe(&self, sim: &Simulation, obs: &mut [f64]) {
        self.obs.observe(sim, obs);
    }

    fn reset_info(&self, sim: &Simulation, info: &mut Info) {
        let qpos = sim.qpos();
        info.extend([
            ("x_position".to_string(), Value::Float(qpos[0])),
            ("y_position".to_string(), Value::Float(qpos[1])),
            ("distance_from_origin".to_string(), Value::Float(norm(&qpos[0..2]))),
        ]);
        info.extend(tendon_info(sim));
    }

    fn step(
        &mut self,
        sim: &mut Simulation,
        action: &[f32],
        obs: &mut [f64],
        info: &mut Info,
    ) -> Result<(f64, bool)> {
        let before = mass_center(sim);
        sim.do_simulation(action, self.config.frame_skip)?;
        let after = mass_center(sim);
        let x_velocity = (after[0] - before[0]) / sim.dt();
        let y_velocity = (after[1] - before[1]) / sim.dt();
        self.observe(sim, obs);

        let c = &self.config;
        let forward_reward = c.forward_reward_weight * x_velocity;
        let is_healthy = self.is_healthy(sim);
        let healthy_reward = is_healthy as u8 as f64 * c.healthy_reward;
        let rewards = forward_reward + healthy_reward;
        let ctrl_cost = c.ctrl_cost_weight * ctrl_squared(sim);
        let (low, high) = c.contact_cost_range;
        let contact_cost = clip(c.contact_cost_weight * cfrc_ext_squared(sim), low, high);
        let costs = ctrl_cost + contact_cost;
        let reward = rewards - costs;
        let terminated = !is_healthy && c.terminate_when_unhealthy;

        let qpos = sim.qpos();
        info.extend([
            ("x_position".to_string(), Value::Float(qpos[0])),
            ("y_position".to_string(), Value::Float(qpos[1])),
            ("distance_from_origin".to_string(), Value::Float(norm(&qpos[0..2]))),
            ("x_velocity".to_string(), Value::Float(x_velocity)),
            ("y_velocity".to_string(), Value::Float(y_velocity)),
            ("reward_survive".to_string(), Value::Float(healthy_reward)),
            ("reward_forward".to_string(), Value::Float(forward_reward)),
            ("reward_ctrl".to_string(), Value::Float(-ctrl_cost)),
            ("reward_contact".to_string(), Value::Float(-contact_cost)),
        ]);
        info.extend(tendon_info(sim));
        Ok((reward, terminated))
    }
}
