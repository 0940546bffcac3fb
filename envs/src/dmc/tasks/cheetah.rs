//! `suite/cheetah.py`: a planar biped running forwards.

use crate::dmc::physics::Physics;
use crate::dmc::rewards::{Sigmoid, Tolerance};
use crate::dmc::tasks::{ObsDict, Task};
use crate::error::{EnvError, Result};
use crate::numpy_rng::RandomState;

const RUN_SPEED: f64 = 10.0;
const RUN: Tolerance =
    Tolerance::bounds(RUN_SPEED, f64::INFINITY).margin(RUN_SPEED).sigmoid(Sigmoid::Linear, 0.0);

/// `Cheetah`.
#[derive(Debug)]
pub(crate) struct Cheetah {
    subtreelinvel: usize,
}

impl Cheetah {
    pub(crate) fn new(physics: &Physics) -> Result<Cheetah> {
        Ok(Cheetah { subtreelinvel: physics.id("mjOBJ_SENSOR", "torso_subtreelinvel")? })
    }
}

impl Task for Cheetah {
    /// Limited joints uniform in their ranges, then 200 physics steps to let it settle, and
    /// the clock back to 0.
    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<()> {
        let model = physics.model();
        if model.nq() != model.size("njnt") {
            return Err(EnvError::Other("cheetah: expected one qpos per joint".into()));
        }
        let limited = model.array_u8("jnt_limited").map(|(l, _)| l.to_vec()).unwrap_or_default();
        let ranges = model.array("jnt_range").map(|(r, _)| r.to_vec()).unwrap_or_default();
        let qpos = physics.data_mut().qpos_mut();
        for (j, _) in limited.iter().enumerate().filter(|(_, &l)| l != 0) {
            qpos[j] = random.uniform(ranges[2 * j], ranges[2 * j + 1]);
        }
        physics.step(200)?;
        physics.data_mut().set_time(0.0);
        Ok(())
    }

    fn observe(&self, physics: &Physics, obs: &mut ObsDict) {
        obs.push("position", physics.data().qpos()[1..].iter().copied());
        obs.push("velocity", physics.data().qvel().iter().copied());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        RUN.eval(physics.sensor(self.subtreelinvel)[0])
    }
}
