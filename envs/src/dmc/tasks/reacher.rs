//! `suite/reacher.py`: a two-link planar arm reaching a randomly placed target.

use crate::dmc::physics::Physics;
use crate::dmc::rewards::Tolerance;
use crate::dmc::tasks::{norm, randomize_limited_and_rotational_joints, ObsDict, Task};
use crate::error::Result;
use crate::numpy_rng::RandomState;

pub(crate) const BIG_TARGET: f64 = 0.05;
pub(crate) const SMALL_TARGET: f64 = 0.015;

/// `Reacher(target_size)`.
#[derive(Debug)]
pub(crate) struct Reacher {
    target_size: f64,
    target: usize,
    finger: usize,
}

impl Reacher {
    pub(crate) fn new(physics: &Physics, target_size: f64) -> Result<Reacher> {
        Ok(Reacher {
            target_size,
            target: physics.id("mjOBJ_GEOM", "target")?,
            finger: physics.id("mjOBJ_GEOM", "finger")?,
        })
    }

    /// Target minus fingertip, in the plane.
    fn finger_to_target(&self, physics: &Physics) -> [f64; 2] {
        let (t, f) = (physics.row("geom_xpos", self.target), physics.row("geom_xpos", self.finger));
        [t[0] - f[0], t[1] - f[1]]
    }
}

impl Task for Reacher {
    /// The target's size, random joint angles, then the target at a random angle and radius.
    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<()> {
        let target = self.target;
        if let Some((size, cols)) = physics.model_mut()?.array_mut("geom_size") {
            size[target * cols] = self.target_size;
        }
        randomize_limited_and_rotational_joints(physics, random);
        let angle = random.uniform(0.0, 2.0 * std::f64::consts::PI);
        let radius = random.uniform(0.05, 0.20);
        if let Some((pos, cols)) = physics.model_mut()?.array_mut("geom_pos") {
            pos[target * cols] = radius * angle.sin();
            pos[target * cols + 1] = radius * angle.cos();
        }
        Ok(())
    }

    fn observe(&self, physics: &Physics, obs: &mut ObsDict) {
        obs.push("position", physics.data().qpos().iter().copied());
        obs.push("to_target", self.finger_to_target(physics));
        obs.push("velocity", physics.data().qvel().iter().copied());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let (size, cols) = physics.model().array("geom_size").unwrap_or((&[], 3));
        let radii = size[self.target * cols] + size[self.finger * cols];
        Tolerance::bounds(0.0, radii).eval(norm(&self.finger_to_target(physics)))
    }
}
