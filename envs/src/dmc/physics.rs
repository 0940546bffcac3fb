//! dm_control's `mujoco.Physics` as the suite's tasks use it: one model and its data, stepped
//! with dm_control's legacy step, reset through `reset_context`, and read by name.
//!
//! Each environment compiles its own model (tasks write it: reacher moves its target, finger
//! recolours sites and changes a damping), so the model is held by this physics alone and
//! written through [`Physics::model_mut`].

use crate::error::{EnvError, Result};
use crate::mujoco::{Data, Model, MujocoError, Warning};

/// One simulation of a suite domain.
#[derive(Debug)]
pub struct Physics {
    env: &'static str,
    data: Data,
    /// Why the state is unusable (a MuJoCo error or warning), until the next reset.
    broken: Option<String>,
    warnings: Vec<Warning>,
    /// `sensor_adr`, `sensor_dim`, `jnt_qposadr`, `jnt_dofadr`, copied once (the tasks read
    /// them every step; the model's by-name lookup is a walk through ~300 names).
    sensor_adr: Vec<usize>,
    sensor_dim: Vec<usize>,
    jnt_qposadr: Vec<usize>,
    jnt_dofadr: Vec<usize>,
}

impl Physics {
    /// `mj_makeData` for a model this physics will own alone.
    pub fn new(env: &'static str, model: Model) -> Result<Physics> {
        let ints = |name: &str| -> Vec<usize> {
            model
                .array_i32(name)
                .map(|(a, _)| a.iter().map(|&x| x.max(0) as usize).collect())
                .unwrap_or_default()
        };
        let (sensor_adr, sensor_dim) = (ints("sensor_adr"), ints("sensor_dim"));
        let (jnt_qposadr, jnt_dofadr) = (ints("jnt_qposadr"), ints("jnt_dofadr"));
        let data = Data::new(std::sync::Arc::new(model))?;
        Ok(Physics {
            env,
            data,
            broken: None,
            warnings: Vec::new(),
            sensor_adr,
            sensor_dim,
            jnt_qposadr,
            jnt_dofadr,
        })
    }

    /// The model.
    pub fn model(&self) -> &Model {
        self.data.model()
    }

    /// The model, writable (dm_control's tasks write `physics.model` when an episode starts).
    pub fn model_mut(&mut self) -> Result<&mut Model> {
        let env = self.env;
        self.data.model_mut().ok_or_else(|| {
            EnvError::Other(format!("{env}: the model is shared and cannot be written"))
        })
    }

    /// The simulation state.
    pub fn data(&self) -> &Data {
        &self.data
    }

    /// The simulation state, writable (initial states are written here between
    /// [`Physics::reset`] and [`Physics::after_reset`]).
    pub fn data_mut(&mut self) -> &mut Data {
        &mut self.data
    }

    fn fail(&mut self, call: &str, message: String) -> EnvError {
        self.broken = Some(format!("{call}: {message}"));
        MujocoError::Simulation { env: self.env.into(), call: call.into(), message }.into()
    }

    /// dm_control's `check_invalid_state`: a warning during `call` is an error. After a step
    /// the state stays refused until reset; after `after_reset` the caller decides (quadruped
    /// ignores it while it searches for a start, as dm_control catches it there).
    fn check_warnings(&mut self, call: &str, mark_broken: bool) -> Result<()> {
        self.warnings.clear();
        self.data.take_warnings(&mut self.warnings);
        if self.warnings.is_empty() {
            return Ok(());
        }
        let names: Vec<&str> = self.warnings.iter().map(|w| w.name).collect();
        if mark_broken {
            self.broken = Some(format!("{call} warned {}", names.join(", ")));
        }
        Err(MujocoError::PhysicsState {
            env: self.env.into(),
            call: call.into(),
            warnings: names.join(", "),
        }
        .into())
    }

    /// Refuse to step a state a MuJoCo error or warning left invalid.
    pub fn check_usable(&self) -> Result<()> {
        match &self.broken {
            None => Ok(()),
            Some(what) => Err(MujocoError::Simulation {
                env: self.env.into(),
                call: "an earlier call".into(),
                message: format!("{what} (the state is invalid until reset)"),
            }
            .into()),
        }
    }

    /// `Physics.reset()` as `reset_context` runs it on entry: `mj_resetData`, then
    /// `mj_forward` without actuation. Warnings are ignored (`reset_context` swallows the
    /// `PhysicsError`); MuJoCo errors are not.
    pub fn reset(&mut self) -> Result<()> {
        self.broken = None;
        if let Err(m) = self.data.reset() {
            return Err(self.fail("mj_resetData", m));
        }
        if let Err(m) = self.data.forward_unactuated() {
            return Err(self.fail("mj_forward", m));
        }
        self.warnings.clear();
        self.data.take_warnings(&mut self.warnings);
        Ok(())
    }

    /// `Physics.after_reset()`: `mj_forward` without actuation; a warning is an error.
    pub fn after_reset(&mut self) -> Result<()> {
        if let Err(m) = self.data.forward_unactuated() {
            return Err(self.fail("mj_forward", m));
        }
        self.check_warnings("after_reset", false)
    }

    /// `Physics.step(nstep)` with `legacy_step` (see `Data::step_legacy`); a warning is an
    /// error, as dm_control's `check_invalid_state` makes it.
    pub fn step(&mut self, nstep: u32) -> Result<()> {
        self.check_usable()?;
        if let Err(m) = self.data.step_legacy(nstep) {
            return Err(self.fail("mj_step", m));
        }
        self.check_warnings("step", true)
    }

    /// `Physics.set_control(action)`: the values copied into `ctrl` as they are (float32
    /// widened); MuJoCo clamps them where an actuator is `ctrllimited`.
    pub fn set_control(&mut self, action: &[f32]) {
        for (c, &a) in self.data.ctrl_mut().iter_mut().zip(action) {
            *c = f64::from(a);
        }
    }

    /// The id of the `kind` object (`"mjOBJ_BODY"`, ...) called `name`; an error naming it
    /// when the model has none.
    pub fn id(&self, kind: &str, name: &str) -> Result<usize> {
        self.model().id(kind, name).ok_or_else(|| {
            MujocoError::ModelMismatch {
                env: self.env.into(),
                file: self.model().file().into(),
                reason: format!("no {} called {name:?}", kind.trim_start_matches("mjOBJ_")),
            }
            .into()
        })
    }

    /// Row `id` of mjData's `mjtNum` array `array` (e.g. `xpos` of one body).
    pub fn row(&self, array: &str, id: usize) -> &[f64] {
        match self.data.array(array) {
            Some((values, cols)) => values.get(id * cols..(id + 1) * cols).unwrap_or(&[]),
            None => &[],
        }
    }

    /// The sensor readings of the sensor `id` (`sensordata[adr .. adr + dim]`).
    pub fn sensor(&self, id: usize) -> &[f64] {
        let (Some(&adr), Some(&dim)) = (self.sensor_adr.get(id), self.sensor_dim.get(id)) else {
            return &[];
        };
        match self.data.array("sensordata") {
            Some((data, _)) => data.get(adr..adr + dim).unwrap_or(&[]),
            None => &[],
        }
    }

    /// The `qpos` address of joint `id` (`jnt_qposadr`).
    pub fn qpos_adr(&self, joint: usize) -> usize {
        self.jnt_qposadr.get(joint).copied().unwrap_or(0)
    }

    /// The `qvel` address of joint `id` (`jnt_dofadr`).
    pub fn dof_adr(&self, joint: usize) -> usize {
        self.jnt_dofadr.get(joint).copied().unwrap_or(0)
    }
}
