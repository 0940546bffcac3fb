//! `suite/finger.py`: a planar finger spinning a hinged body, or turning it to a target.

use crate::dmc::physics::Physics;
use crate::dmc::tasks::{norm, randomize_limited_and_rotational_joints, ObsDict, Task};
use crate::error::{EnvError, Result};
use crate::numpy_rng::RandomState;

pub(crate) const EASY_TARGET_SIZE: f64 = 0.07;
pub(crate) const HARD_TARGET_SIZE: f64 = 0.03;
const SPIN_VELOCITY: f64 = 15.0;
/// `_set_random_joint_angles`' `max_attempts`.
const MAX_ATTEMPTS: usize = 1000;

/// The sensors and sites both finger tasks read.
#[derive(Debug)]
struct Finger {
    proximal: usize,
    distal: usize,
    tip: usize,
    spinner: usize,
    target: usize,
    velocities: [usize; 3],
    touch: [usize; 2],
    hinge_velocity: usize,
    target_site: usize,
}

impl Finger {
    fn new(physics: &Physics) -> Result<Finger> {
        let sensor = |name| physics.id("mjOBJ_SENSOR", name);
        Ok(Finger {
            proximal: sensor("proximal")?,
            distal: sensor("distal")?,
            tip: sensor("tip")?,
            spinner: sensor("spinner")?,
            target: sensor("target")?,
            velocities: [
                sensor("proximal_velocity")?,
                sensor("distal_velocity")?,
                sensor("hinge_velocity")?,
            ],
            touch: [sensor("touchtop")?, sensor("touchbottom")?],
            hinge_velocity: sensor("hinge_velocity")?,
            target_site: physics.id("mjOBJ_SITE", "target")?,
        })
    }

    /// `sensordata[name][[0, 2]] - sensordata['spinner'][[0, 2]]`.
    fn relative_xz(&self, physics: &Physics, sensor: usize) -> [f64; 2] {
        let (p, s) = (physics.sensor(sensor), physics.sensor(self.spinner));
        [p[0] - s[0], p[2] - s[2]]
    }

    fn observe_common(&self, physics: &Physics, obs: &mut ObsDict) {
        let joints = [self.proximal, self.distal].map(|s| physics.sensor(s)[0]);
        obs.push("position", joints.into_iter().chain(self.relative_xz(physics, self.tip)));
        obs.push("velocity", self.velocities.map(|s| physics.sensor(s)[0]));
        obs.push("touch", self.touch.map(|s| physics.sensor(s)[0].ln_1p()));
    }

    fn dist_to_target(&self, physics: &Physics) -> f64 {
        let target = self.relative_xz(physics, self.target);
        let tip = self.relative_xz(physics, self.tip);
        let (size, cols) = physics.model().array("site_size").unwrap_or((&[], 3));
        norm(&[target[0] - tip[0], target[1] - tip[1]]) - size[self.target_site * cols]
    }
}

/// `_set_random_joint_angles`: random joint angles until nothing touches.
fn set_random_joint_angles(physics: &mut Physics, random: &mut RandomState) -> Result<()> {
    for _ in 0..MAX_ATTEMPTS {
        randomize_limited_and_rotational_joints(physics, random);
        physics.after_reset()?;
        if physics.data().ncon() == 0 {
            return Ok(());
        }
    }
    Err(EnvError::Other(format!(
        "dmc/finger: could not find a collision-free state after {MAX_ATTEMPTS} attempts"
    )))
}

/// `Spin`: reward while the body spins faster than 15 rad/s one way.
#[derive(Debug)]
pub(crate) struct Spin {
    finger: Finger,
    tip_site: usize,
    hinge_dof: usize,
}

impl Spin {
    pub(crate) fn new(physics: &Physics) -> Result<Spin> {
        Ok(Spin {
            finger: Finger::new(physics)?,
            tip_site: physics.id("mjOBJ_SITE", "tip")?,
            hinge_dof: physics.dof_adr(physics.id("mjOBJ_JOINT", "hinge")?),
        })
    }
}

impl Task for Spin {
    /// Hide the target and tip sites, set the hinge's damping, random collision-free angles.
    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<()> {
        let (target, tip, dof) = (self.finger.target_site, self.tip_site, self.hinge_dof);
        let model = physics.model_mut()?;
        if let Some((rgba, cols)) = model.array_f32_mut("site_rgba") {
            rgba[target * cols + 3] = 0.0;
            rgba[tip * cols + 3] = 0.0;
        }
        if let Some((damping, _)) = model.array_mut("dof_damping") {
            damping[dof] = 0.03;
        }
        set_random_joint_angles(physics, random)
    }

    fn observe(&self, physics: &Physics, obs: &mut ObsDict) {
        self.finger.observe_common(physics, obs);
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let spinning = physics.sensor(self.finger.hinge_velocity)[0] <= -SPIN_VELOCITY;
        if spinning {
            1.0
        } else {
            0.0
        }
    }
}

/// `Turn(target_radius)`: reward while the body's tip is inside a target on its circle.
#[derive(Debug)]
pub(crate) struct Turn {
    finger: Finger,
    target_radius: f64,
    hinge: usize,
    cap1: usize,
}

impl Turn {
    pub(crate) fn new(physics: &Physics, target_radius: f64) -> Result<Turn> {
        Ok(Turn {
            finger: Finger::new(physics)?,
            target_radius,
            hinge: physics.id("mjOBJ_JOINT", "hinge")?,
            cap1: physics.id("mjOBJ_GEOM", "cap1")?,
        })
    }
}

impl Task for Turn {
    /// The target at a random angle on the tip's circle around the hinge, then random
    /// collision-free angles.
    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<()> {
        let target_angle = random.uniform(-std::f64::consts::PI, std::f64::consts::PI);
        let anchor = physics.row("xanchor", self.hinge);
        let (hinge_x, hinge_z) = (anchor[0], anchor[2]);
        let (sizes, cols) = physics.model().array("geom_size").unwrap_or((&[], 3));
        let radius: f64 = sizes[self.cap1 * cols..(self.cap1 + 1) * cols].iter().sum();
        let site = self.finger.target_site;
        let model = physics.model_mut()?;
        if let Some((pos, cols)) = model.array_mut("site_pos") {
            pos[site * cols] = hinge_x + radius * target_angle.sin();
            pos[site * cols + 2] = hinge_z + radius * target_angle.cos();
        }
        if let Some((size, cols)) = model.array_mut("site_size") {
            size[site * cols] = self.target_radius;
        }
        set_random_joint_angles(physics, random)
    }

    fn observe(&self, physics: &Physics, obs: &mut ObsDict) {
        self.finger.observe_common(physics, obs);
        obs.push("target_position", self.finger.relative_xz(physics, self.finger.target));
        obs.push("dist_to_target", [self.finger.dist_to_target(physics)]);
    }

    fn reward(&self, physics: &Physics) -> f64 {
        if self.finger.dist_to_target(physics) <= 0.0 {
            1.0
        } else {
            0.0
        }
    }
}
