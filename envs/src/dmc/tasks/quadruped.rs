//! `suite/quadruped.py`'s move tasks: a four-legged ant walking or running forwards.

use crate::dmc::assets;
use crate::dmc::physics::Physics;
use crate::dmc::rewards::{Sigmoid, Tolerance};
use crate::dmc::tasks::{norm, ObsDict, Task, ZZ};
use crate::error::{EnvError, Result};
use crate::mujoco::{Model, MujocoError};
use crate::numpy_rng::RandomState;

pub(crate) const RUN_SPEED: f64 = 5.0;
pub(crate) const WALK_SPEED: f64 = 0.5;
const TIME_LIMIT: f64 = 20.0;
/// `_upright_reward(physics, deviation_angle=0)`: cos(0) = 1 upright, falling linearly to 0
/// upside down.
const UPRIGHT: Tolerance =
    Tolerance::bounds(1.0, f64::INFINITY).margin(1.0 + 1.0).sigmoid(Sigmoid::Linear, 0.0);
/// `_find_non_contacting_height`'s limit.
const MAX_ATTEMPTS: usize = 10_000;

extern "C" {
    /// The C library's `asinh`, which numpy's `arcsinh` calls (Rust's `f64::asinh` is its
    /// own formula and differs in the last bit for some values).
    #[link_name = "asinh"]
    fn c_asinh(x: f64) -> f64;
}

/// `np.arcsinh` of one value, bit for bit.
fn libm_asinh(x: f64) -> f64 {
    // SAFETY: asinh is a pure function of one double, defined for every input (NaN and
    // infinities included); the C library is linked on every target Graft builds for.
    unsafe { c_asinh(x) }
}

/// `make_model(floor_size=_DEFAULT_TIME_LIMIT * speed)`.
pub(crate) fn model(speed: f64) -> Result<Model> {
    // Python's f'{floor_size}': 100 for run (int * int), 10.0 for walk (int * float).
    let floor = TIME_LIMIT * speed;
    let floor_size =
        if speed == RUN_SPEED { format!("{}", floor as i64) } else { format!("{floor:?}") };
    let xml = assets::quadruped_move_xml(&floor_size)?;
    Ok(assets::compile("quadruped", &xml)?)
}

/// `Move(desired_speed)`.
#[derive(Debug)]
pub(crate) struct Move {
    desired_speed: f64,
    torso: usize,
    root_qpos: usize,
    /// (qpos, qvel) addresses of the hinge joints, in model order.
    hinges: Vec<(usize, usize)>,
    velocimeter: usize,
    /// Gyro and accelerometer sensors, in model order.
    imu: Vec<usize>,
    /// Force and torque sensors, in model order.
    force_torque: Vec<usize>,
}

impl Move {
    pub(crate) fn new(physics: &Physics, desired_speed: f64) -> Result<Move> {
        let model = physics.model();
        let hinge = Model::enum_value("mjJNT_HINGE");
        let types = model.array_i32("jnt_type").map(|(t, _)| t.to_vec()).unwrap_or_default();
        let hinges = (0..types.len())
            .filter(|&j| types[j] == hinge)
            .map(|j| (physics.qpos_adr(j), physics.dof_adr(j)))
            .collect();
        let sensors = model.array_i32("sensor_type").map(|(t, _)| t.to_vec()).unwrap_or_default();
        let of_types = |kinds: [&str; 2]| -> Vec<usize> {
            let kinds = kinds.map(Model::enum_value);
            (0..sensors.len()).filter(|&s| kinds.contains(&sensors[s])).collect()
        };
        Ok(Move {
            desired_speed,
            torso: physics.id("mjOBJ_BODY", "torso")?,
            root_qpos: physics.qpos_adr(physics.id("mjOBJ_JOINT", "root")?),
            hinges,
            velocimeter: physics.id("mjOBJ_SENSOR", "velocimeter")?,
            imu: of_types(["mjSENS_GYRO", "mjSENS_ACCELEROMETER"]),
            force_torque: of_types(["mjSENS_FORCE", "mjSENS_TORQUE"]),
        })
    }

    fn torso_upright(&self, physics: &Physics) -> f64 {
        physics.row("xmat", self.torso)[ZZ]
    }
}

impl Task for Move {
    /// A random orientation at the lowest height (in 1 cm steps from 0) where nothing
    /// touches; each try is a full `reset_context`, and its `PhysicsError` is ignored.
    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<()> {
        let mut orientation = [0.0; 4];
        orientation.iter_mut().for_each(|q| *q = random.randn());
        let n = norm(&orientation);
        orientation.iter_mut().for_each(|q| *q /= n);
        let mut z = 0.0;
        for _ in 0..MAX_ATTEMPTS {
            physics.reset()?;
            let root = self.root_qpos;
            let qpos = physics.data_mut().qpos_mut();
            qpos[root..root + 3].copy_from_slice(&[0.0, 0.0, z]);
            qpos[root + 3..root + 7].copy_from_slice(&orientation);
            match physics.after_reset() {
                Ok(()) | Err(EnvError::Mujoco(MujocoError::PhysicsState { .. })) => {}
                Err(e) => return Err(e),
            }
            if physics.data().ncon() == 0 {
                return Ok(());
            }
            z += 0.01;
        }
        Err(EnvError::Other("dmc/quadruped: failed to find a non-contacting configuration".into()))
    }

    fn observe(&self, physics: &Physics, obs: &mut ObsDict) {
        let data = physics.data();
        let (qpos, qvel) = (data.qpos(), data.qvel());
        let egocentric = self
            .hinges
            .iter()
            .map(|&(q, _)| qpos[q])
            .chain(self.hinges.iter().map(|&(_, v)| qvel[v]))
            .chain(data.act().iter().copied());
        obs.push("egocentric_state", egocentric.collect::<Vec<_>>());
        obs.push("torso_velocity", physics.sensor(self.velocimeter).to_vec());
        obs.push("torso_upright", [self.torso_upright(physics)]);
        let imu = self.imu.iter().flat_map(|&s| physics.sensor(s).iter().copied());
        obs.push("imu", imu.collect::<Vec<_>>());
        let ft = self
            .force_torque
            .iter()
            .flat_map(|&s| physics.sensor(s).iter().map(|&x| libm_asinh(x)));
        obs.push("force_torque", ft.collect::<Vec<_>>());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let moving = Tolerance::bounds(self.desired_speed, f64::INFINITY)
            .margin(self.desired_speed)
            .sigmoid(Sigmoid::Linear, 0.5);
        let move_reward = moving.eval(physics.sensor(self.velocimeter)[0]);
        UPRIGHT.eval(self.torso_upright(physics)) * move_reward
    }
}
