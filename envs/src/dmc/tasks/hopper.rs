//! `suite/hopper.py`: a one-legged hopper standing, or hopping forwards.

use crate::dmc::physics::Physics;
use crate::dmc::rewards::{Sigmoid, Tolerance};
use crate::dmc::tasks::{randomize_limited_and_rotational_joints, ObsDict, Task};
use crate::error::Result;
use crate::numpy_rng::RandomState;

const STAND_HEIGHT: f64 = 0.6;
const HOP_SPEED: f64 = 2.0;
const STANDING: Tolerance = Tolerance::bounds(STAND_HEIGHT, 2.0);
const HOPPING: Tolerance = Tolerance::bounds(HOP_SPEED, f64::INFINITY)
    .margin(HOP_SPEED / 2.0)
    .sigmoid(Sigmoid::Linear, 0.5);
const SMALL_CONTROL: Tolerance =
    Tolerance::bounds(0.0, 0.0).margin(1.0).sigmoid(Sigmoid::Quadratic, 0.0);

/// `Hopper(hopping)`.
#[derive(Debug)]
pub(crate) struct Hopper {
    hopping: bool,
    torso: usize,
    foot: usize,
    subtreelinvel: usize,
    touch: [usize; 2],
}

impl Hopper {
    pub(crate) fn new(physics: &Physics, hopping: bool) -> Result<Hopper> {
        Ok(Hopper {
            hopping,
            torso: physics.id("mjOBJ_BODY", "torso")?,
            foot: physics.id("mjOBJ_BODY", "foot")?,
            subtreelinvel: physics.id("mjOBJ_SENSOR", "torso_subtreelinvel")?,
            touch: [
                physics.id("mjOBJ_SENSOR", "touch_toe")?,
                physics.id("mjOBJ_SENSOR", "touch_heel")?,
            ],
        })
    }

    /// Torso height above the foot (their centres of mass).
    fn height(&self, physics: &Physics) -> f64 {
        physics.row("xipos", self.torso)[2] - physics.row("xipos", self.foot)[2]
    }
}

impl Task for Hopper {
    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<()> {
        randomize_limited_and_rotational_joints(physics, random);
        Ok(())
    }

    fn observe(&self, physics: &Physics, obs: &mut ObsDict) {
        obs.push("position", physics.data().qpos()[1..].iter().copied());
        obs.push("velocity", physics.data().qvel().iter().copied());
        let touch = self.touch.iter().flat_map(|&s| physics.sensor(s).iter().map(|x| x.ln_1p()));
        obs.push("touch", touch.collect::<Vec<_>>());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let standing = STANDING.eval(self.height(physics));
        if self.hopping {
            return standing * HOPPING.eval(physics.sensor(self.subtreelinvel)[0]);
        }
        let ctrl = physics.data().ctrl();
        let small_control =
            ctrl.iter().map(|&c| SMALL_CONTROL.eval(c)).sum::<f64>() / ctrl.len() as f64;
        standing * ((small_control + 4.0) / 5.0)
    }
}
