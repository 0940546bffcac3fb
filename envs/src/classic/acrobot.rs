//! Acrobot-v1: swing the tip of a two-link pendulum, actuated only at the middle joint, above a
//! line one link-length over the base.
//!
//! The task of Sutton, "Generalization in reinforcement learning: successful examples using
//! sparse coarse coding" (NIPS 1996), with the dynamics of Sutton & Barto, "Reinforcement
//! Learning: An Introduction" (the "book" dynamics, default) or of the NIPS paper ("nips"),
//! in the form of Gymnasium 1.x (`classic_control/acrobot.py`): torques -1, 0, +1; one RK4
//! step of 0.2 s; joint angles wrapped to [-pi, pi]; angular velocities bounded by 4pi and
//! 9pi; reward -1 per step and 0 on reaching the goal, which terminates.

use std::f64::consts::PI;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::classic::{
    check_kwargs, check_param, full_frame, kwarg_f64, kwarg_str, pow2, render_before_reset, reseed,
    reset_bounds, write_obs,
};
use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::numpy_rng::NumpyRng;
use crate::render::classic::draw_acrobot;
use crate::space::Space;

const ID: &str = "Acrobot-v1";

/// Integration time step (s).
pub const DT: f64 = 0.2;
/// Bound on the first joint's angular velocity.
pub const MAX_VEL_1: f64 = 4.0 * PI;
/// Bound on the second joint's angular velocity.
pub const MAX_VEL_2: f64 = 9.0 * PI;
const AVAIL_TORQUE: [f64; 3] = [-1.0, 0.0, 1.0];

// Physical constants (Gymnasium's class attributes).
const LINK_LENGTH_1: f64 = 1.0;
const LINK_MASS_1: f64 = 1.0;
const LINK_MASS_2: f64 = 1.0;
const LINK_COM_POS_1: f64 = 0.5;
const LINK_COM_POS_2: f64 = 0.5;
const LINK_MOI: f64 = 1.0;
const G: f64 = 9.8;

/// Which equations of motion to integrate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum AcrobotDynamics {
    /// Sutton & Barto's book (Gymnasium's default, `book_or_nips = "book"`).
    #[default]
    #[serde(rename = "book")]
    Book,
    /// Sutton's 1996 NIPS paper (drops one centripetal term).
    #[serde(rename = "nips")]
    Nips,
}

/// Acrobot's parameters; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AcrobotConfig {
    /// Equations of motion (Gymnasium's `book_or_nips`).
    pub book_or_nips: AcrobotDynamics,
    /// Torque noise: uniform in `[-torque_noise_max, torque_noise_max]`, added to each torque.
    pub torque_noise_max: f64,
}

impl Default for AcrobotConfig {
    fn default() -> Self {
        AcrobotConfig { book_or_nips: AcrobotDynamics::Book, torque_noise_max: 0.0 }
    }
}

impl AcrobotConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] = &["book_or_nips", "torque_noise_max"];

    /// The defaults overridden by `kwargs`.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = AcrobotConfig::default();
        match kwarg_str(ID, kwargs, "book_or_nips")? {
            None => {}
            Some("book") => c.book_or_nips = AcrobotDynamics::Book,
            Some("nips") => c.book_or_nips = AcrobotDynamics::Nips,
            Some(other) => {
                return Err(EnvError::BadKwarg {
                    env: ID.into(),
                    key: "book_or_nips".into(),
                    reason: format!("expected \"book\" or \"nips\", got \"{other}\""),
                })
            }
        }
        if let Some(x) = kwarg_f64(ID, kwargs, "torque_noise_max")? {
            c.torque_noise_max = x;
        }
        Ok(c)
    }
}

/// Wrap `x` into `[m, M]` by whole turns (Gymnasium's `wrap`: one turn at a time, which is
/// what keeps the result bit-identical). Non-finite values pass through, and far-out values
/// (only reachable through `set_state`) are first reduced in one go instead of looping.
fn wrap(mut x: f64, m: f64, big_m: f64) -> f64 {
    let diff = big_m - m;
    if !x.is_finite() {
        return x;
    }
    if (x - m).abs() > 64.0 * diff {
        x = m + (x - m).rem_euclid(diff);
    }
    while x > big_m {
        x -= diff;
    }
    while x < m {
        x += diff;
    }
    x
}

/// The time derivative of `[theta1, theta2, dtheta1, dtheta2]` under torque `a`.
///
/// Written as Gymnasium writes it, term by term and in the same order, with numpy's `pow` for
/// the squares of state variables, so that the `f64` results agree bit for bit (the chaotic
/// dynamics amplify any difference). Squares of the constant lengths are exact either way.
fn dsdt(s: &[f64; 4], a: f64, dynamics: AcrobotDynamics) -> [f64; 4] {
    let (m1, m2, l1) = (LINK_MASS_1, LINK_MASS_2, LINK_LENGTH_1);
    let (lc1, lc2) = (LINK_COM_POS_1, LINK_COM_POS_2);
    let (i1, i2) = (LINK_MOI, LINK_MOI);
    let [theta1, theta2, dtheta1, dtheta2] = *s;
    let d1 =
        m1 * (lc1 * lc1) + m2 * (l1 * l1 + lc2 * lc2 + 2.0 * l1 * lc2 * theta2.cos()) + i1 + i2;
    let d2 = m2 * (lc2 * lc2 + l1 * lc2 * theta2.cos()) + i2;
    let phi2 = m2 * lc2 * G * (theta1 + theta2 - PI / 2.0).cos();
    let phi1 = -m2 * l1 * lc2 * pow2(dtheta2) * theta2.sin()
        - 2.0 * m2 * l1 * lc2 * dtheta2 * dtheta1 * theta2.sin()
        + (m1 * lc1 + m2 * l1) * G * (theta1 - PI / 2.0).cos()
        + phi2;
    let denom = m2 * (lc2 * lc2) + i2 - pow2(d2) / d1;
    let ddtheta2 = match dynamics {
        AcrobotDynamics::Nips => (a + d2 / d1 * phi1 - phi2) / denom,
        AcrobotDynamics::Book => {
            (a + d2 / d1 * phi1 - m2 * l1 * lc2 * pow2(dtheta1) * theta2.sin() - phi2) / denom
        }
    };
    let ddtheta1 = -(d2 * ddtheta2 + phi1) / d1;
    [dtheta1, dtheta2, ddtheta1, ddtheta2]
}

/// One classic Runge-Kutta step of length `DT` (torque held constant), as Gymnasium's `rk4`
/// over `t = [0, dt]`.
fn rk4(y0: &[f64; 4], a: f64, dynamics: AcrobotDynamics) -> [f64; 4] {
    let dt = DT - 0.0;
    let dt2 = dt / 2.0;
    let add = |y: &[f64; 4], h: f64, k: &[f64; 4]| -> [f64; 4] {
        [y[0] + h * k[0], y[1] + h * k[1], y[2] + h * k[2], y[3] + h * k[3]]
    };
    let k1 = dsdt(y0, a, dynamics);
    let k2 = dsdt(&add(y0, dt2, &k1), a, dynamics);
    let k3 = dsdt(&add(y0, dt2, &k2), a, dynamics);
    let k4 = dsdt(&add(y0, dt, &k3), a, dynamics);
    std::array::from_fn(|i| y0[i] + dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]))
}

/// The Acrobot environment. State `[theta1, theta2, dtheta1, dtheta2]`; observation
/// `[cos theta1, sin theta1, cos theta2, sin theta2, dtheta1, dtheta2]`; actions 0, 1, 2 for
/// torques -1, 0, +1.
#[derive(Debug, Clone)]
pub struct Acrobot {
    config: AcrobotConfig,
    observation_space: Space,
    action_space: Space,
    state: [f64; 4],
    episode: EpisodeState,
    /// Gymnasium's `np_random`: seeded by `reset(seed)`, kept across unseeded resets; the
    /// torque noise draws from it too.
    rng: Option<NumpyRng>,
}

impl Default for Acrobot {
    fn default() -> Self {
        Self::build(AcrobotConfig::default())
    }
}

impl Acrobot {
    /// An Acrobot with `config`; fails on a negative or non-finite noise level.
    pub fn new(config: AcrobotConfig) -> Result<Self> {
        check_param(ID, "torque_noise_max", config.torque_noise_max, false)?;
        if config.torque_noise_max < 0.0 {
            return Err(EnvError::BadKwarg {
                env: ID.into(),
                key: "torque_noise_max".into(),
                reason: format!("must not be negative, got {}", config.torque_noise_max),
            });
        }
        Ok(Self::build(config))
    }

    /// An Acrobot from `make`-style keyword arguments.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        Self::new(AcrobotConfig::from_kwargs(kwargs)?)
    }

    fn build(config: AcrobotConfig) -> Self {
        let high = vec![1.0, 1.0, 1.0, 1.0, MAX_VEL_1, MAX_VEL_2];
        Acrobot {
            config,
            observation_space: Space::box_f32(high.iter().map(|x| -x).collect(), high),
            action_space: Space::discrete(3),
            state: [0.0; 4],
            episode: EpisodeState::NeedsReset,
            rng: None,
        }
    }

    /// The parameters.
    pub fn config(&self) -> &AcrobotConfig {
        &self.config
    }

    /// The physical state `[theta1, theta2, dtheta1, dtheta2]`.
    pub fn state(&self) -> [f64; 4] {
        self.state
    }

    /// Replace the physical state and start an episode from it.
    pub fn set_state(&mut self, state: [f64; 4]) {
        self.state = state;
        self.episode = EpisodeState::Running;
    }

    fn write(&self, obs: &mut ObsMut<'_>) {
        let [t1, t2, d1, d2] = self.state;
        write_obs(obs, &[t1.cos(), t1.sin(), t2.cos(), t2.sin(), d1, d2]);
    }

    /// One step with action index `a` (0..3); returns whether the goal is reached.
    fn advance(&mut self, a: usize) -> bool {
        let mut torque = AVAIL_TORQUE[a.min(2)];
        if self.config.torque_noise_max > 0.0 {
            let n = self.config.torque_noise_max;
            torque += self.rng.get_or_insert_with(NumpyRng::from_entropy).uniform(-n, n);
        }
        let mut ns = rk4(&self.state, torque, self.config.book_or_nips);
        ns[0] = wrap(ns[0], -PI, PI);
        ns[1] = wrap(ns[1], -PI, PI);
        ns[2] = ns[2].clamp(-MAX_VEL_1, MAX_VEL_1);
        ns[3] = ns[3].clamp(-MAX_VEL_2, MAX_VEL_2);
        self.state = ns;
        -ns[0].cos() - (ns[1] + ns[0]).cos() > 1.0
    }
}

impl Env for Acrobot {
    fn id(&self) -> &str {
        ID
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    /// Each state variable uniform in `[low, high]` (default `[-0.1, 0.1]`), rounded to
    /// `float32` as Gymnasium's reset does.
    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &Kwargs,
        mut obs: ObsMut<'_>,
    ) -> Result<Info> {
        obs.check(&self.observation_space, ID)?;
        // As Gymnasium: reseed, read the bounds, then
        // `np_random.uniform(low=low, high=high, size=(4,)).astype(np.float32)`.
        let rng = reseed(&mut self.rng, seed);
        let (low, high) = reset_bounds(ID, options, -0.1, 0.1)?;
        for s in &mut self.state {
            *s = rng.uniform(low, high) as f32 as f64;
        }
        self.episode = EpisodeState::Running;
        self.write(&mut obs);
        Ok(Info::new())
    }

    fn step_into(&mut self, action: ActionRef<'_>, mut obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.episode.check_step(ID)?;
        self.action_space.check_action(ID, action)?;
        obs.check(&self.observation_space, ID)?;
        let a = match action {
            ActionRef::Discrete(a) => a as usize,
            _ => 1, // unreachable: check_action accepted only a discrete action
        };
        let terminated = self.advance(a);
        self.episode = EpisodeState::after_step(terminated, false);
        self.write(&mut obs);
        let reward = if terminated { 0.0 } else { -1.0 };
        Ok(StepOutcome { reward, terminated, truncated: false, info: Info::new() })
    }

    fn render(&self) -> Result<RgbImage> {
        full_frame(500, 500, |w, h, out| self.render_into(w, h, out))
    }

    fn render_into(&self, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
        if self.episode == EpisodeState::NeedsReset {
            return Err(render_before_reset(ID));
        }
        draw_acrobot(self.state[0], self.state[1], width, height, out)
    }

    fn render_fps(&self) -> u32 {
        15
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Action;
    use crate::Value;

    #[test]
    fn hanging_still_with_no_torque_stays_put() {
        let mut env = Acrobot::default();
        env.set_state([0.0; 4]);
        let s = env.step(&Action::Discrete(1)).unwrap();
        assert!(env.state().iter().all(|x| x.abs() < 1e-12), "{:?}", env.state());
        let want = [1.0, 0.0, 1.0, 0.0, 0.0, 0.0];
        assert!(s.obs.f32.iter().zip(want).all(|(o, w)| (o - w).abs() < 1e-6), "{s:?}");
        assert_eq!((s.reward, s.terminated), (-1.0, false));
    }

    #[test]
    fn derivative_by_hand_at_rest() {
        // At rest hanging down with torque 1 (book): d1 = 0.25 + 2.25 + 2 = 4.5, d2 = 1.75,
        // phi1 = phi2 = 0, so ddtheta2 = 1 / (1.25 - 1.75^2 / 4.5), ddtheta1 = -1.75 ddtheta2 / 4.5.
        let k = dsdt(&[0.0; 4], 1.0, AcrobotDynamics::Book);
        let dd2 = 1.0 / (1.25 - 1.75 * 1.75 / 4.5);
        assert!((k[3] - dd2).abs() < 1e-12, "{k:?}");
        assert!((k[2] + 1.75 * dd2 / 4.5).abs() < 1e-12, "{k:?}");
        assert_eq!((k[0], k[1]), (0.0, 0.0));
    }

    #[test]
    fn wrap_bounds_and_goal() {
        assert!((wrap(3.5, -PI, PI) - (3.5 - 2.0 * PI)).abs() < 1e-12);
        assert!((wrap(-7.0, -PI, PI) - (-7.0 + 2.0 * PI)).abs() < 1e-12);
        assert!((wrap(-10.0, -PI, PI) - (-10.0 + 4.0 * PI)).abs() < 1e-12);
        assert!(wrap(1e300, -PI, PI).abs() <= PI);
        assert!(wrap(f64::NAN, -PI, PI).is_nan());
        let mut env = Acrobot::default();
        env.set_state([PI - 0.01, 0.0, 12.5, 28.0]);
        let s = env.step(&Action::Discrete(2)).unwrap();
        let st = env.state();
        assert!(st[0].abs() <= PI && st[2].abs() <= MAX_VEL_1 && st[3].abs() <= MAX_VEL_2);
        // Upright links: -cos(pi) - cos(pi) = 2 > 1.
        env.set_state([PI, 0.0, 0.0, 0.0]);
        let s2 = env.step(&Action::Discrete(1)).unwrap();
        assert!(s2.terminated && s2.reward == 0.0, "{s:?} {s2:?}");
    }

    #[test]
    fn kwargs_and_reset() {
        let kw: Kwargs =
            [("book_or_nips".to_string(), Value::Str("nips".into()))].into_iter().collect();
        assert_eq!(Acrobot::from_kwargs(&kw).unwrap().config().book_or_nips, AcrobotDynamics::Nips);
        let kw: Kwargs =
            [("book_or_nips".to_string(), Value::Str("paper".into()))].into_iter().collect();
        assert!(Acrobot::from_kwargs(&kw).is_err());
        let mut env = Acrobot::default();
        env.reset(Some(3), &Kwargs::new()).unwrap();
        assert!(env.state().iter().all(|&x| x.abs() <= 0.1 && x == x as f32 as f64));
    }
}
