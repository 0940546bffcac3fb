//! HumanoidStandup-v5: make a 3-D bipedal robot lying on the ground stand up.
//!
//! Gymnasium 1.4.0's `humanoidstandup_v5.py` (Tassa, Erez & Todorov, "Synthesis and
//! stabilization of complex behaviors through online trajectory optimization", IROS 2012;
//! MuJoCo model from OpenAI Gym). Reward = `qpos[2] / timestep - ctrl_cost_weight *
//! sum(ctrl^2) - clip(impact_cost_weight * sum(cfrc_ext^2), impact_cost_range) + 1`, in
//! float64; never terminates. `uph_cost_weight` is accepted and, as in Gymnasium 1.4.0, not
//! used: the height term is `qpos[2] / model.opt.timestep` unweighted. Observation: the
//! Humanoid's ([`Humanoid`](super::Humanoid)), 348 values by default. Reset: `qpos` and `qvel`
//! uniform in ±`reset_noise_scale` around the initial state. Info: `x_position`, `y_position`,
//! `z_distance_from_origin`, `tendon_length`, `tendon_velocity` (arrays), `reward_linup`,
//! `reward_quadctrl`, `reward_impact`.

use serde::{Deserialize, Serialize};

use crate::env::{Info, Kwargs, Value};
use crate::error::Result;
use crate::mujoco::assets::ModelSource;
use crate::mujoco::base::{MujocoEnv, MujocoTask};
use crate::mujoco::humanoid::{
    cfrc_ext_squared, ctrl_squared, reset_uniform, tendon_info, HumanoidObs, OBS_FLAGS,
};
use crate::mujoco::kwargs::{
    check_kwargs, check_param, kwarg_bool, kwarg_f64, kwarg_frames, kwarg_range, kwarg_str,
    range_value,
};
use crate::mujoco::noise::ResetNoise;
use crate::mujoco::np::clip;
use crate::mujoco::render_config::{with_render_kwargs, CameraConfig};
use crate::mujoco::sim::Simulation;
use crate::mujoco::task_util::require_model;

const ID: &str = "HumanoidStandup-v5";

/// HumanoidStandup-v5's keyword arguments; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HumanoidStandupConfig {
    /// The MJCF model: a bare name picks one of Gymnasium's models, a path starting with
    /// `.`, `/` or `~` a file.
    pub xml_file: String,
    /// MuJoCo steps per environment step.
    pub frame_skip: u32,
    /// Accepted and unused, as in Gymnasium 1.4.0 (the height term is not weighted).
    pub uph_cost_weight: f64,
    /// Weight of the squared controls in the reward's cost.
    pub ctrl_cost_weight: f64,
    /// Weight of the squared contact forces in the reward's cost.
    pub impact_cost_weight: f64,
    /// The weighted impact cost is clipped to this range.
    pub impact_cost_range: (f64, f64),
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

impl Default for HumanoidStandupConfig {
    fn default() -> Self {
        HumanoidStandupConfig {
            xml_file: "humanoidstandup.xml".into(),
            frame_skip: 5,
            uph_cost_weight: 1.0,
            ctrl_cost_weight: 0.1,
            impact_cost_weight: 0.5e-6,
            impact_cost_range: (f64::NEG_INFINITY, 10.0),
            reset_noise_scale: 1e-2,
            exclude_current_positions_from_observation: true,
            include_cinert_in_observation: true,
            include_cvel_in_observation: true,
            include_qfrc_actuator_in_observation: true,
            include_cfrc_ext_in_observation: true,
        }
    }
}

impl HumanoidStandupConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] = &[
        "xml_file",
        "frame_skip",
        "uph_cost_weight",
        "ctrl_cost_weight",
        "impact_cost_weight",
        "impact_cost_range",
        "reset_noise_scale",
        "exclude_current_positions_from_observation",
        "include_cinert_in_observation",
        "include_cvel_in_observation",
        "include_qfrc_actuator_in_observation",
        "include_cfrc_ext_in_observation",
    ];

    /// The defaults overridden by `kwargs` (the range as `Value::Floats([low, high])`).
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = HumanoidStandupConfig::default();
        if let Some(s) = kwarg_str(ID, kwargs, "xml_file")? {
            c.xml_file = s.to_string();
        }
        if let Some(n) = kwarg_frames(ID, kwargs, "frame_skip")? {
            c.frame_skip = n;
        }
        for (key, field) in [
            ("uph_cost_weight", &mut c.uph_cost_weight),
            ("ctrl_cost_weight", &mut c.ctrl_cost_weight),
            ("impact_cost_weight", &mut c.impact_cost_weight),
            ("reset_noise_scale", &mut c.reset_noise_scale),
        ] {
            if let Some(x) = kwarg_f64(ID, kwargs, key)? {
                *field = x;
            }
        }
        if let Some(r) = kwarg_range(ID, kwargs, "impact_cost_range")? {
            c.impact_cost_range = r;
        }
        let flags = [
            &mut c.exclude_current_positions_from_observation,
            &mut c.include_cinert_in_observation,
            &mut c.include_cvel_in_observation,
            &mut c.include_qfrc_actuator_in_observation,
            &mut c.include_cfrc_ext_in_observation,
        ];
        for (key, field) in OBS_FLAGS.into_iter().zip(flags) {
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
            ("uph_cost_weight".to_string(), Value::Float(self.uph_cost_weight)),
            ("ctrl_cost_weight".to_string(), Value::Float(self.ctrl_cost_weight)),
            ("impact_cost_weight".to_string(), Value::Float(self.impact_cost_weight)),
            ("impact_cost_range".to_string(), range_value(self.impact_cost_range)),
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

/// HumanoidStandup-v5's task (see the module header); the environment is
/// `MujocoEnv<HumanoidStandup>`.
#[derive(Debug, Clone)]
pub struct HumanoidStandup {
    config: HumanoidStandupConfig,
    obs: HumanoidObs,
}

impl HumanoidStandup {
    /// A HumanoidStandup-v5 environment with `config`.
    pub fn env(config: HumanoidStandupConfig) -> Result<MujocoEnv<HumanoidStandup>> {
        for (key, x) in [
            ("uph_cost_weight", config.uph_cost_weight),
            ("ctrl_cost_weight", config.ctrl_cost_weight),
            ("impact_cost_weight", config.impact_cost_weight),
            ("reset_noise_scale", config.reset_noise_scale),
        ] {
            check_param(ID, key, x, false)?;
        }
        let model = ModelSource::from_xml_file(&config.xml_file)?.load()?;
        // qpos[0..3] are read (x, y, torso height).
        require_model(ID, &model, 3, 1)?;
        let sim = Simulation::new(ID, model, config.frame_skip)?;
        let obs = config.obs();
        Ok(MujocoEnv::new(HumanoidStandup { config, obs }, sim))
    }

    /// A HumanoidStandup-v5 environment from `make`-style keyword arguments.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<MujocoEnv<HumanoidStandup>> {
        with_render_kwargs(ID, kwargs, |kw| Self::env(HumanoidStandupConfig::from_kwargs(kw)?))
    }

    /// The configuration.
    pub fn config(&self) -> &HumanoidStandupConfig {
        &self.config
    }
}

impl MujocoTask for HumanoidStandup {
    fn id(&self) -> &'static str {
        ID
    }

    /// Gymnasium's `DEFAULT_CAMERA_CONFIG`.
    fn default_camera(&self) -> CameraConfig {
        CameraConfig {
            trackbodyid: Some(1),
            distance: Some(4.0),
            lookat: Some([0.0, 0.0, 0.8925]),
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
            ("z_distance_from_origin".to_string(), Value::Float(qpos[2] - sim.init_qpos()[2])),
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
        sim.do_simulation(action, self.config.frame_skip)?;
        let pos_after = sim.qpos()[2];
        let c = &self.config;
        let uph_cost = (pos_after - 0.0) / sim.model().timestep();
        let quad_ctrl_cost = c.ctrl_cost_weight * ctrl_squared(sim);
        let (low, high) = c.impact_cost_range;
        let quad_impact_cost = clip(c.impact_cost_weight * cfrc_ext_squared(sim), low, high);
        let reward = uph_cost - quad_ctrl_cost - quad_impact_cost + 1.0;
        self.observe(sim, obs);
        info.extend([
            ("x_position".to_string(), Value::Float(sim.qpos()[0])),
            ("y_position".to_string(), Value::Float(sim.qpos()[1])),
            ("z_distance_from_origin".to_string(), Value::Float(pos_after - sim.init_qpos()[2])),
            ("reward_linup".to_string(), Value::Float(uph_cost)),
            ("reward_quadctrl".to_string(), Value::Float(-quad_ctrl_cost)),
            ("reward_impact".to_string(), Value::Float(-quad_impact_cost)),
        ]);
        info.extend(tendon_info(sim));
        Ok((reward, false))
    }
}
