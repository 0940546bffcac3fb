//! `suite/cartpole.py`: swing up and balance an unactuated pole by moving a cart (one pole).

use crate::dmc::physics::Physics;
use crate::dmc::rewards::{Sigmoid, Tolerance};
use crate::dmc::tasks::{ObsDict, Task, XZ, ZZ};
use crate::error::Result;
use crate::numpy_rng::RandomState;

const CART_RANGE: Tolerance = Tolerance::bounds(-0.25, 0.25);
const ANGLE_COSINE_RANGE: Tolerance = Tolerance::bounds(0.995, 1.0);
const CENTERED: Tolerance = Tolerance::bounds(0.0, 0.0).margin(2.0);
const SMALL_CONTROL: Tolerance =
    Tolerance::bounds(0.0, 0.0).margin(1.0).sigmoid(Sigmoid::Quadratic, 0.0);
const SMALL_VELOCITY: Tolerance = Tolerance::bounds(0.0, 0.0).margin(5.0);

/// `Balance(swing_up, sparse)`.
#[derive(Debug)]
pub(crate) struct Balance {
    swing_up: bool,
    sparse: bool,
    slider_adr: usize,
    hinge_adr: usize,
}

impl Balance {
    pub(crate) fn new(physics: &Physics, swing_up: bool, sparse: bool) -> Result<Balance> {
        let slider = physics.id("mjOBJ_JOINT", "slider")?;
        let hinge = physics.id("mjOBJ_JOINT", "hinge_1")?;
        Ok(Balance {
            swing_up,
            sparse,
            slider_adr: physics.qpos_adr(slider),
            hinge_adr: physics.qpos_adr(hinge),
        })
    }

    fn cart_position(&self, physics: &Physics) -> f64 {
        physics.data().qpos()[self.slider_adr]
    }

    /// `xmat[2:, 'zz']`: the poles' bodies (after the world and the cart).
    fn pole_angle_cosines(physics: &Physics) -> impl Iterator<Item = f64> + '_ {
        let (xmat, _) = physics.data().array("xmat").unwrap_or((&[], 9));
        xmat.chunks_exact(9).skip(2).map(|m| m[ZZ])
    }
}

impl Task for Balance {
    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<()> {
        let nv = physics.model().nv();
        let qpos = physics.data_mut().qpos_mut();
        if self.swing_up {
            qpos[self.slider_adr] = 0.01 * random.randn();
            qpos[self.hinge_adr] = std::f64::consts::PI + 0.01 * random.randn();
            for q in qpos.iter_mut().skip(2).take(nv.saturating_sub(2)) {
                *q = 0.1 * random.randn();
            }
        } else {
            qpos[self.slider_adr] = random.uniform(-0.1, 0.1);
            for q in qpos.iter_mut().skip(1).take(nv - 1) {
                *q = random.uniform(-0.034, 0.034);
            }
        }
        for v in physics.data_mut().qvel_mut() {
            *v = 0.01 * random.randn();
        }
        Ok(())
    }

    fn observe(&self, physics: &Physics, obs: &mut ObsDict) {
        let (xmat, _) = physics.data().array("xmat").unwrap_or((&[], 9));
        let poles = xmat.chunks_exact(9).skip(2).flat_map(|m| [m[ZZ], m[XZ]]);
        obs.push("position", std::iter::once(self.cart_position(physics)).chain(poles));
        obs.push("velocity", physics.data().qvel().iter().copied());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let cart = self.cart_position(physics);
        if self.sparse {
            let cart_in_bounds = CART_RANGE.eval(cart);
            let angle_in_bounds: f64 =
                Self::pole_angle_cosines(physics).map(|c| ANGLE_COSINE_RANGE.eval(c)).product();
            return cart_in_bounds * angle_in_bounds;
        }
        let cosines: Vec<f64> = Self::pole_angle_cosines(physics).collect();
        let upright_mean =
            cosines.iter().map(|c| (c + 1.0) / 2.0).sum::<f64>() / cosines.len() as f64;
        let centered = (1.0 + CENTERED.eval(cart)) / 2.0;
        let small_control = (4.0 + SMALL_CONTROL.eval(physics.data().ctrl()[0])) / 5.0;
        let small_velocity = physics.data().qvel()[1..]
            .iter()
            .map(|&v| SMALL_VELOCITY.eval(v))
            .fold(f64::INFINITY, f64::min);
        let small_velocity = (1.0 + small_velocity) / 2.0;
        upright_mean * small_control * small_velocity * centered
    }
}
