//! `suite/ball_in_cup.py`: swing a ball on a string into a cup.

use crate::dmc::physics::Physics;
use crate::dmc::tasks::{ObsDict, Task};
use crate::error::{EnvError, Result};
use crate::numpy_rng::RandomState;

/// dm_control loops until the ball does not penetrate the cup; Graft gives up after this many
/// draws (each has a fair chance, so reaching it means the model is broken).
const MAX_ATTEMPTS: usize = 10_000;

/// `BallInCup`.
#[derive(Debug)]
pub(crate) struct BallInCup {
    ball_x: usize,
    ball_z: usize,
    target: usize,
    ball_body: usize,
    ball_geom: usize,
}

impl BallInCup {
    pub(crate) fn new(physics: &Physics) -> Result<BallInCup> {
        Ok(BallInCup {
            ball_x: physics.qpos_adr(physics.id("mjOBJ_JOINT", "ball_x")?),
            ball_z: physics.qpos_adr(physics.id("mjOBJ_JOINT", "ball_z")?),
            target: physics.id("mjOBJ_SITE", "target")?,
            ball_body: physics.id("mjOBJ_BODY", "ball")?,
            ball_geom: physics.id("mjOBJ_GEOM", "ball")?,
        })
    }
}

impl Task for BallInCup {
    /// The ball somewhere above the cup where it touches nothing.
    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<()> {
        for _ in 0..MAX_ATTEMPTS {
            let qpos = physics.data_mut().qpos_mut();
            qpos[self.ball_x] = random.uniform(-0.2, 0.2);
            qpos[self.ball_z] = random.uniform(0.2, 0.5);
            physics.after_reset()?;
            if physics.data().ncon() == 0 {
                return Ok(());
            }
        }
        Err(EnvError::Other(format!(
            "dmc/ball_in_cup: no contact-free start after {MAX_ATTEMPTS} attempts"
        )))
    }

    fn observe(&self, physics: &Physics, obs: &mut ObsDict) {
        obs.push("position", physics.data().qpos().iter().copied());
        obs.push("velocity", physics.data().qvel().iter().copied());
    }

    /// 1 when the ball is inside the cup's target box (`in_target`).
    fn reward(&self, physics: &Physics) -> f64 {
        let target = physics.row("site_xpos", self.target);
        let ball = physics.row("xpos", self.ball_body);
        let (site_size, scols) = physics.model().array("site_size").unwrap_or((&[], 3));
        let (geom_size, gcols) = physics.model().array("geom_size").unwrap_or((&[], 3));
        let ball_size = geom_size[self.ball_geom * gcols];
        let inside = [0, 2].iter().all(|&axis| {
            let gap = (target[axis] - ball[axis]).abs();
            gap < site_size[self.target * scols + axis] - ball_size
        });
        if inside {
            1.0
        } else {
            0.0
        }
    }
}
