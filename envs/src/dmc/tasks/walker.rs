//! `suite/walker.py`: a planar walker standing, walking and running.

use crate::dmc::physics::Physics;
use crate::dmc::rewards::{Sigmoid, Tolerance};
use crate::dmc::tasks::{randomize_limited_and_rotational_joints, ObsDict, Task, XX, XZ, ZZ};
use crate::error::Result;
use crate::numpy_rng::RandomState;

const STAND_HEIGHT: f64 = 1.2;
pub(crate) const WALK_SPEED: f64 = 1.0;
pub(crate) const RUN_SPEED: f64 = 8.0;
const STANDING: Tolerance =
    Tolerance::bounds(STAND_HEIGHT, f64::INFINITY).margin(STAND_HEIGHT / 2.0);

/// `PlanarWalker(move_speed)`; speed 0 is the stand task.
#[derive(Debug)]
pub(crate) struct PlanarWalker {
    move_speed: f64,
    torso: usize,
    subtreelinvel: usize,
}

impl PlanarWalker {
    pub(crate) fn new(physics: &Physics, move_speed: f64) -> Result<PlanarWalker> {
        Ok(PlanarWalker {
            move_speed,
            torso: physics.id("mjOBJ_BODY", "torso")?,
            subtreelinvel: physics.id("mjOBJ_SENSOR", "torso_subtreelinvel")?,
        })
    }
}

impl Task for PlanarWalker {
    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<()> {
        randomize_limited_and_rotational_joints(physics, random);
        Ok(())
    }

    fn observe(&self, physics: &Physics, obs: &mut ObsDict) {
        let (xmat, _) = physics.data().array("xmat").unwrap_or((&[], 9));
        obs.push("orientations", xmat.chunks_exact(9).skip(1).flat_map(|m| [m[XX], m[XZ]]));
        obs.push("height", [physics.row("xpos", self.torso)[2]]);
        obs.push("velocity", physics.data().qvel().iter().copied());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let standing = STANDING.eval(physics.row("xpos", self.torso)[2]);
        let upright = (1.0 + physics.row("xmat", self.torso)[ZZ]) / 2.0;
        let stand_reward = (3.0 * standing + upright) / 4.0;
        if self.move_speed == 0.0 {
            return stand_reward;
        }
        let moving = Tolerance::bounds(self.move_speed, f64::INFINITY)
            .margin(self.move_speed / 2.0)
            .sigmoid(Sigmoid::Linear, 0.5);
        let move_reward = moving.eval(physics.sensor(self.subtreelinvel)[0]);
        stand_reward * (5.0 * move_reward + 1.0) / 6.0
    }
}
