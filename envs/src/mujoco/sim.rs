//! The simulation half of Gymnasium's `MujocoEnv` (`gymnasium/envs/mujoco/mujoco_env.py`):
//! a model and its data, `frame_skip`, the initial state, `set_state`, `do_simulation` and
//! `dt`. The environment half (spaces, episodes, seeding) is [`MujocoEnv`](super::MujocoEnv).
//!
//! Every call into MuJoCo here is checked: a fatal MuJoCo error becomes
//! [`MujocoError::Simulation`] and leaves the simulation refusing to step until
//! [`Simulation::reset_data`]; warnings are collected for the step's `info`.

use std::sync::Arc;

use crate::error::{EnvError, Result};
use crate::mujoco::data::Data;
use crate::mujoco::error::MujocoError;
use crate::mujoco::model::Model;
use crate::mujoco::warnings::Warning;

/// A MuJoCo model and its state, stepped `frame_skip` MuJoCo steps at a time.
#[derive(Debug)]
pub struct Simulation {
    env: &'static str,
    data: Data,
    frame_skip: u32,
    init_qpos: Vec<f64>,
    init_qvel: Vec<f64>,
    /// Warnings counted since the last [`Simulation::take_warnings`].
    warnings: Vec<Warning>,
    /// A fatal MuJoCo error left the data mid-computation; only `reset_data` clears it.
    broken: Option<String>,
}

impl Simulation {
    /// `mj_makeData` for `model`; the initial state is the data's right after (`qpos0`, zero
    /// velocities), as Gymnasium's `init_qpos` / `init_qvel`. `env` names the environment in
    /// errors.
    pub fn new(env: &'static str, model: Arc<Model>, frame_skip: u32) -> Result<Simulation> {
        if frame_skip == 0 {
            return Err(EnvError::BadKwarg {
                env: env.to_string(),
                key: "frame_skip".into(),
                reason: "expected a positive int, got 0".into(),
            });
        }
        let data = Data::new(model)?;
        let (init_qpos, init_qvel) = (data.qpos().to_vec(), data.qvel().to_vec());
        Ok(Simulation {
            env,
            data,
            frame_skip,
            init_qpos,
            init_qvel,
            warnings: Vec::new(),
            broken: None,
        })
    }

    /// The model.
    pub fn model(&self) -> &Model {
        self.data.model()
    }

    /// The model, shared.
    pub fn model_arc(&self) -> &Arc<Model> {
        self.data.model()
    }

    /// The data (read-only: writes go through `set_state` and `do_simulation`).
    pub fn data(&self) -> &Data {
        &self.data
    }

    /// MuJoCo steps per environment step.
    pub fn frame_skip(&self) -> u32 {
        self.frame_skip
    }

    /// Seconds per environment step: `opt.timestep * frame_skip`, as Gymnasium's `dt`.
    pub fn dt(&self) -> f64 {
        self.model().timestep() * self.frame_skip as f64
    }

    /// Gymnasium's `init_qpos`: `qpos` right after `mj_makeData` (the model's `qpos0`).
    pub fn init_qpos(&self) -> &[f64] {
        &self.init_qpos
    }

    /// Gymnasium's `init_qvel` (zeros).
    pub fn init_qvel(&self) -> &[f64] {
        &self.init_qvel
    }

    /// Generalised positions.
    pub fn qpos(&self) -> &[f64] {
        self.data.qpos()
    }

    /// Generalised velocities.
    pub fn qvel(&self) -> &[f64] {
        self.data.qvel()
    }

    /// Gymnasium's `state_vector()`: `qpos` then `qvel`.
    pub fn state_vector(&self) -> impl Iterator<Item = f64> + '_ {
        self.qpos().iter().chain(self.qvel()).copied()
    }

    /// Gymnasium's `get_body_com(name)`: the body frame's position (`xpos`), or `None` for a
    /// body the model does not have.
    pub fn body_com(&self, name: &str) -> Option<[f64; 3]> {
        let id = self.model().body_id(name)?;
        let (xpos, _) = self.data.array("xpos")?;
        xpos.get(3 * id..3 * id + 3).map(|p| [p[0], p[1], p[2]])
    }

    fn simulation_error(&mut self, call: &str, message: String) -> EnvError {
        self.broken = Some(format!("{call}: {message}"));
        MujocoError::Simulation { env: self.env.to_string(), call: call.to_string(), message }
            .into()
    }

    fn check_usable(&self) -> Result<()> {
        match &self.broken {
            None => Ok(()),
            Some(what) => Err(MujocoError::Simulation {
                env: self.env.to_string(),
                call: "an earlier call".into(),
                message: format!("{what} (the state is invalid until reset)"),
            }
            .into()),
        }
    }

    /// Gymnasium's `set_state(qpos, qvel)`: copy both in and run `mj_forward`. Vectors of the
    /// wrong length and non-finite values are refused (Gymnasium asserts the lengths and lets
    /// MuJoCo meet NaNs, which it answers with a warning and a reset).
    pub fn set_state(&mut self, qpos: &[f64], qvel: &[f64]) -> Result<()> {
        self.check_usable()?;
        for (what, values, expected) in
            [("qpos", qpos, self.model().nq()), ("qvel", qvel, self.model().nv())]
        {
            if values.len() != expected {
                return Err(MujocoError::StateLength {
                    env: self.env.to_string(),
                    what: what.into(),
                    expected,
                    got: values.len(),
                }
                .into());
            }
            if let Some((index, &value)) = values.iter().enumerate().find(|(_, x)| !x.is_finite()) {
                return Err(MujocoError::NonFiniteState {
                    env: self.env.to_string(),
                    what: what.into(),
                    index,
                    value,
                }
                .into());
            }
        }
        self.data.qpos_mut().copy_from_slice(qpos);
        self.data.qvel_mut().copy_from_slice(qvel);
        let result = self.data.forward();
        self.data.take_warnings(&mut self.warnings);
        result.map_err(|m| self.simulation_error("mj_forward", m))
    }

    /// Gymnasium's `do_simulation(ctrl, n_frames)`: set `ctrl` (float32 values widened, as
    /// numpy's assignment into the float64 `data.ctrl` does), run `n_frames` × `mj_step`, then
    /// `mj_rnePostConstraint`. Controls outside `ctrlrange` go to MuJoCo as they are (it
    /// clamps them where the actuator is `ctrllimited`). A wrong length or a non-finite value
    /// is refused before MuJoCo sees it.
    pub fn do_simulation(&mut self, ctrl: &[f32], n_frames: u32) -> Result<()> {
        self.check_usable()?;
        let nu = self.model().nu();
        if ctrl.len() != nu {
            return Err(EnvError::WrongActionShape {
                env: self.env.to_string(),
                expected: format!("{nu} float32 values"),
                got: format!("{} float32 values", ctrl.len()),
            });
        }
        if ctrl.iter().any(|x| !x.is_finite()) {
            return Err(EnvError::NonFiniteAction {
                env: self.env.to_string(),
                action: format!("{ctrl:?}"),
            });
        }
        for (c, &a) in self.data.ctrl_mut().iter_mut().zip(ctrl) {
            *c = a as f64;
        }
        let result = self.data.step(n_frames);
        self.data.take_warnings(&mut self.warnings);
        result.map_err(|m| self.simulation_error("mj_step", m))
    }

    /// `mj_resetData`: the model's initial state, time 0, warnings cleared; also the way
    /// back from a fatal MuJoCo error.
    pub fn reset_data(&mut self) -> Result<()> {
        let result = self.data.reset();
        self.warnings.clear();
        match result {
            Ok(()) => {
                self.broken = None;
                Ok(())
            }
            Err(m) => Err(self.simulation_error("mj_resetData", m)),
        }
    }

    /// The warnings MuJoCo raised since the last call, oldest call first.
    pub fn take_warnings(&mut self) -> Vec<Warning> {
        std::mem::take(&mut self.warnings)
    }

    /// Whether warnings are waiting (cheap: no allocation).
    pub(crate) fn has_warnings(&self) -> bool {
        !self.warnings.is_empty()
    }
}
