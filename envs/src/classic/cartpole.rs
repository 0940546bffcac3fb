//! CartPole-v1: balance a pole hinged on a cart by pushing the cart left or right.
//!
//! The cart-pole system of Barto, Sutton & Anderson, "Neuronlike adaptive elements that can
//! solve difficult learning control problems" (IEEE SMC, 1983), with the equations, constants,
//! spaces and episode rules of Gymnasium 1.x (`classic_control/cartpole.py`): explicit Euler
//! integration by default or semi-implicit Euler, termination when |x| > 2.4 or
//! |theta| > 12 degrees, reward 1 per step, or with `sutton_barto_reward` 0 per step and -1 on
//! termination.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::classic::{
    check_kwargs, check_param, full_frame, kwarg_bool, kwarg_f64, kwarg_str, render_before_reset,
    reseed, reset_bounds, write_obs,
};
use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::render::classic::draw_cartpole;
use crate::rng::EnvRng;
use crate::space::Space;

const ID: &str = "CartPole-v1";
/// Values per observation: `[x, x_dot, theta, theta_dot]`.
const OBS_LEN: usize = 4;

/// `(theta.sin(), theta.cos())` in one call to the C library's `sincos`, which shares the
/// argument reduction between the two. glibc computes each result exactly as its `sin` and
/// `cos` do (checked by `sincos_matches_sin_and_cos` below), so trajectories keep matching
/// numpy's (which calls `sin` and `cos`) bit for bit. `f64::sin_cos` calls `sin` and `cos`
/// separately.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[inline]
pub(crate) fn sin_cos(theta: f64) -> (f64, f64) {
    extern "C" {
        fn sincos(x: libc::c_double, sin: *mut libc::c_double, cos: *mut libc::c_double);
    }
    let (mut s, mut c) = (0.0, 0.0);
    // SAFETY: glibc's `sincos` writes one double through each pointer, which point to locals.
    unsafe { sincos(theta, &mut s, &mut c) };
    (s, c)
}

/// `(theta.sin(), theta.cos())` (no `sincos` in this C library).
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
#[inline]
pub(crate) fn sin_cos(theta: f64) -> (f64, f64) {
    (theta.sin(), theta.cos())
}

/// How the state is advanced over one time step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum KinematicsIntegrator {
    /// Explicit Euler: positions move with the old velocities (Gymnasium's default).
    #[default]
    #[serde(rename = "euler")]
    Euler,
    /// Semi-implicit Euler: velocities first, then positions with the new velocities.
    #[serde(rename = "semi-implicit")]
    SemiImplicit,
}

impl KinematicsIntegrator {
    /// Parse Gymnasium's names (`"euler"`; anything else is semi-implicit there, here only
    /// `"semi-implicit"` / `"semi_implicit"` are accepted).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "euler" => Some(Self::Euler),
            "semi-implicit" | "semi_implicit" => Some(Self::SemiImplicit),
            _ => None,
        }
    }
}

/// CartPole's parameters; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CartPoleConfig {
    /// Reward 0 per step and -1 on termination (Sutton & Barto's formulation) instead of 1.
    pub sutton_barto_reward: bool,
    /// Integration scheme.
    pub kinematics_integrator: KinematicsIntegrator,
    /// Gravitational acceleration (m/s^2).
    pub gravity: f64,
    /// Mass of the cart (kg).
    pub masscart: f64,
    /// Mass of the pole (kg).
    pub masspole: f64,
    /// Half the pole's length (m).
    pub length: f64,
    /// Magnitude of the push (N).
    pub force_mag: f64,
    /// Seconds per step.
    pub tau: f64,
    /// The episode terminates when |theta| exceeds this (radians; 12 degrees).
    pub theta_threshold_radians: f64,
    /// The episode terminates when |x| exceeds this (m).
    pub x_threshold: f64,
}

impl Default for CartPoleConfig {
    fn default() -> Self {
        CartPoleConfig {
            sutton_barto_reward: false,
            kinematics_integrator: KinematicsIntegrator::Euler,
            gravity: 9.8,
            masscart: 1.0,
            masspole: 0.1,
            length: 0.5,
            force_mag: 10.0,
            tau: 0.02,
            theta_threshold_radians: 12.0 * 2.0 * std::f64::consts::PI / 360.0,
            x_threshold: 2.4,
        }
    }
}

impl CartPoleConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] = &[
        "sutton_barto_reward",
        "kinematics_integrator",
        "gravity",
        "masscart",
        "masspole",
        "length",
        "force_mag",
        "tau",
        "theta_threshold_radians",
        "x_threshold",
    ];

    /// The defaults overridden by `kwargs`; unknown keys or wrong types are
    /// [`EnvError::BadKwarg`].
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = CartPoleConfig::default();
        if let Some(b) = kwarg_bool(ID, kwargs, "sutton_barto_reward")? {
            c.sutton_barto_reward = b;
        }
        if let Some(s) = kwarg_str(ID, kwargs, "kinematics_integrator")? {
            c.kinematics_integrator =
                KinematicsIntegrator::parse(s).ok_or_else(|| EnvError::BadKwarg {
                    env: ID.into(),
                    key: "kinematics_integrator".into(),
                    reason: format!("expected \"euler\" or \"semi-implicit\", got \"{s}\""),
                })?;
        }
        for (key, field) in [
            ("gravity", &mut c.gravity),
            ("masscart", &mut c.masscart),
            ("masspole", &mut c.masspole),
            ("length", &mut c.length),
            ("force_mag", &mut c.force_mag),
            ("tau", &mut c.tau),
            ("theta_threshold_radians", &mut c.theta_threshold_radians),
            ("x_threshold", &mut c.x_threshold),
        ] {
            if let Some(x) = kwarg_f64(ID, kwargs, key)? {
                *field = x;
            }
        }
        Ok(c)
    }

    fn validate(&self) -> Result<()> {
        check_param(ID, "gravity", self.gravity, false)?;
        check_param(ID, "masscart", self.masscart, true)?;
        check_param(ID, "masspole", self.masspole, true)?;
        check_param(ID, "length", self.length, true)?;
        check_param(ID, "force_mag", self.force_mag, false)?;
        check_param(ID, "tau", self.tau, true)?;
        check_param(ID, "theta_threshold_radians", self.theta_threshold_radians, true)?;
        check_param(ID, "x_threshold", self.x_threshold, true)
    }
}

/// The CartPole environment. State `[x, x_dot, theta, theta_dot]`; actions 0 (push left) and
/// 1 (push right).
#[derive(Debug, Clone)]
pub struct CartPole {
    config: CartPoleConfig,
    // Derived as Gymnasium derives them, so the arithmetic matches bit for bit.
    total_mass: f64,
    polemass_length: f64,
    observation_space: Space,
    action_space: Space,
    state: [f64; 4],
    episode: EpisodeState,
    rng: Option<EnvRng>,
}

impl Default for CartPole {
    fn default() -> Self {
        Self::build(CartPoleConfig::default())
    }
}

impl CartPole {
    /// A CartPole with `config`; fails on non-finite or non-positive physical parameters.
    pub fn new(config: CartPoleConfig) -> Result<Self> {
        config.validate()?;
        Ok(Self::build(config))
    }

    /// A CartPole from `make`-style keyword arguments.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        Self::new(CartPoleConfig::from_kwargs(kwargs)?)
    }

    fn build(config: CartPoleConfig) -> Self {
        let inf = f64::INFINITY;
        let (x2, t2) = (config.x_threshold * 2.0, config.theta_threshold_radians * 2.0);
        CartPole {
            total_mass: config.masspole + config.masscart,
            polemass_length: config.masspole * config.length,
            observation_space: Space::box_f32(vec![-x2, -inf, -t2, -inf], vec![x2, inf, t2, inf]),
            action_space: Space::discrete(2),
            state: [0.0; 4],
            episode: EpisodeState::NeedsReset,
            rng: None,
            config,
        }
    }

    /// The parameters.
    pub fn config(&self) -> &CartPoleConfig {
        &self.config
    }

    /// The physical state `[x, x_dot, theta, theta_dot]`.
    pub fn state(&self) -> [f64; 4] {
        self.state
    }

    /// Replace the physical state (as `env.unwrapped.state = ...` in Gymnasium) and start an
    /// episode from it.
    pub fn set_state(&mut self, state: [f64; 4]) {
        self.state = state;
        self.episode = EpisodeState::Running;
    }

    /// The error `step_into` returns for a call its fast checks refused, from the same checks
    /// (and in the same order) as the other environments use.
    #[cold]
    #[inline(never)]
    fn refusal(&self, action: ActionRef<'_>, obs: &ObsMut<'_>) -> EnvError {
        let checks = self
            .episode
            .check_step(ID)
            .and_then(|()| self.action_space.check_action(ID, action))
            .and_then(|()| obs.check(&self.observation_space, ID));
        match checks {
            Err(e) => e,
            Ok(()) => EnvError::Other(format!("{ID}: step refused for action {action}")),
        }
    }

    /// One step of the dynamics for `push_right`; returns whether the new state is terminal.
    #[inline]
    fn advance(&mut self, push_right: bool) -> bool {
        let c = &self.config;
        let [mut x, mut x_dot, mut theta, mut theta_dot] = self.state;
        let force = if push_right { c.force_mag } else { -c.force_mag };
        let (sintheta, costheta) = sin_cos(theta);
        let temp =
            (force + self.polemass_length * (theta_dot * theta_dot) * sintheta) / self.total_mass;
        let thetaacc = (c.gravity * sintheta - costheta * temp)
            / (c.length * (4.0 / 3.0 - c.masspole * (costheta * costheta) / self.total_mass));
        let xacc = temp - self.polemass_length * thetaacc * costheta / self.total_mass;
        match c.kinematics_integrator {
            KinematicsIntegrator::Euler => {
                x += c.tau * x_dot;
                x_dot += c.tau * xacc;
                theta += c.tau * theta_dot;
                theta_dot += c.tau * thetaacc;
            }
            KinematicsIntegrator::SemiImplicit => {
                x_dot += c.tau * xacc;
                x += c.tau * x_dot;
                theta_dot += c.tau * thetaacc;
                theta += c.tau * theta_dot;
            }
        }
        self.state = [x, x_dot, theta, theta_dot];
        x < -c.x_threshold
            || x > c.x_threshold
            || theta < -c.theta_threshold_radians
            || theta > c.theta_threshold_radians
    }
}

impl Env for CartPole {
    fn id(&self) -> &str {
        ID
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &Kwargs,
        mut obs: ObsMut<'_>,
    ) -> Result<Info> {
        obs.check(&self.observation_space, ID)?;
        let (low, high) = reset_bounds(ID, options, -0.05, 0.05)?;
        let rng = reseed(&mut self.rng, seed);
        for s in &mut self.state {
            *s = rng.uniform(low, high);
        }
        self.episode = EpisodeState::Running;
        write_obs(&mut obs, &self.state);
        Ok(Info::new())
    }

    // Always inlined: wrapped in `TimeLimit` (as `make` builds it) the two steps become one
    // function, with no `Result<StepOutcome>` passed through memory in between.
    #[inline(always)]
    fn step_into(&mut self, action: ActionRef<'_>, mut obs: ObsMut<'_>) -> Result<StepOutcome> {
        // The checks of `EpisodeState::check_step`, `Space::check_action` and `ObsMut::check`,
        // written out so the valid case is a few compares; the errors come from those calls.
        if self.episode != EpisodeState::Running {
            return Err(self.refusal(action, &obs));
        }
        // One predictable branch for validity; the direction itself is data (actions are
        // often random, and a branch on them would be mispredicted half the time).
        let push_right = match action {
            ActionRef::Discrete(a) if (a as u64) < 2 => a == 1,
            _ => return Err(self.refusal(action, &obs)),
        };
        if obs.f32.len() != OBS_LEN || !obs.u8.is_empty() {
            return Err(self.refusal(action, &obs));
        }
        let terminated = self.advance(push_right);
        // Gymnasium gives 1 per step (the terminating one included), or with the Sutton-Barto
        // reward 0 per step and -1 on termination. Stepping past termination is refused here.
        let reward = match (self.config.sutton_barto_reward, terminated) {
            (false, _) => 1.0,
            (true, false) => 0.0,
            (true, true) => -1.0,
        };
        self.episode = EpisodeState::after_step(terminated, false);
        write_obs(&mut obs, &self.state);
        Ok(StepOutcome { reward, terminated, truncated: false, info: Info::new() })
    }

    fn render(&self) -> Result<RgbImage> {
        full_frame(600, 400, |w, h, out| self.render_into(w, h, out))
    }

    fn render_into(&self, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
        if self.episode == EpisodeState::NeedsReset {
            return Err(render_before_reset(ID));
        }
        draw_cartpole(self.state[0], self.state[2], self.config.x_threshold, width, height, out)
    }

    fn render_fps(&self) -> u32 {
        50
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Action, Obs};
    use crate::Value;

    #[test]
    fn one_euler_step_by_hand() {
        let mut env = CartPole::default();
        env.set_state([0.0, 0.0, 0.1, 0.0]);
        let s = env.step(&Action::Discrete(1)).unwrap();
        // temp = 10 / 1.1; thetaacc = (9.8 sin 0.1 - cos 0.1 temp) / (0.5 (4/3 - 0.1 cos^2 0.1 / 1.1))
        let (sn, cs) = (0.1f64.sin(), 0.1f64.cos());
        let temp = 10.0 / 1.1;
        let thetaacc = (9.8 * sn - cs * temp) / (0.5 * (4.0 / 3.0 - 0.1 * cs * cs / 1.1));
        let xacc = temp - 0.05 * thetaacc * cs / 1.1;
        let st = env.state();
        // Euler: positions move with the old (zero) velocities.
        assert_eq!(st[0], 0.0);
        assert_eq!(st[2], 0.1);
        assert!((st[1] - 0.02 * xacc).abs() < 1e-15);
        assert!((st[3] - 0.02 * thetaacc).abs() < 1e-15);
        // The same numbers worked out by hand: thetaacc = -12.9766, xacc = 9.6778.
        assert!((thetaacc + 12.9766).abs() < 1e-4, "{thetaacc}");
        assert!((xacc - 9.6778).abs() < 1e-4, "{xacc}");
        assert_eq!(s.obs.f32, vec![0.0, (0.02 * xacc) as f32, 0.1, (0.02 * thetaacc) as f32]);
        assert_eq!((s.reward, s.terminated, s.truncated), (1.0, false, false));
    }

    #[test]
    fn semi_implicit_moves_positions_with_new_velocities() {
        let cfg = CartPoleConfig {
            kinematics_integrator: KinematicsIntegrator::SemiImplicit,
            ..Default::default()
        };
        let mut env = CartPole::new(cfg).unwrap();
        env.set_state([0.0, 0.0, 0.0, 0.0]);
        env.step(&Action::Discrete(0)).unwrap();
        let [x, x_dot, theta, theta_dot] = env.state();
        assert!(x_dot < 0.0 && theta_dot > 0.0);
        assert_eq!(x, 0.02 * x_dot);
        assert_eq!(theta, 0.02 * theta_dot);
    }

    #[test]
    fn termination_and_sutton_barto_reward() {
        let mut env = CartPole::from_kwargs(
            &[("sutton_barto_reward".to_string(), Value::Bool(true))].into_iter().collect(),
        )
        .unwrap();
        env.set_state([0.0, 0.0, 0.0, 0.0]);
        assert_eq!(env.step(&Action::Discrete(0)).unwrap().reward, 0.0);
        env.set_state([2.39, 1.0, 0.0, 0.0]);
        let s = env.step(&Action::Discrete(1)).unwrap();
        assert!(s.terminated && !s.truncated);
        assert_eq!(s.reward, -1.0);
        assert!(matches!(env.step(&Action::Discrete(1)), Err(EnvError::StepAfterDone { .. })));
    }

    #[test]
    fn refuses_bad_use() {
        let mut env = CartPole::default();
        assert!(matches!(env.step(&Action::Discrete(0)), Err(EnvError::StepBeforeReset { .. })));
        env.reset(Some(0), &Kwargs::new()).unwrap();
        assert!(matches!(env.step(&Action::Discrete(2)), Err(EnvError::InvalidAction { .. })));
        assert!(matches!(
            env.step(&Action::Continuous(vec![0.5])),
            Err(EnvError::WrongActionShape { .. })
        ));
        let mut small = Obs { f32: vec![0.0; 3], u8: vec![] };
        assert!(matches!(
            env.step_into(ActionRef::Discrete(0), small.as_mut()),
            Err(EnvError::LengthMismatch { .. })
        ));
        let bad: Kwargs = [("gravityy".to_string(), Value::Float(1.0))].into_iter().collect();
        assert!(matches!(CartPole::from_kwargs(&bad), Err(EnvError::BadKwarg { .. })));
        let bad: Kwargs = [("tau".to_string(), Value::Str("x".into()))].into_iter().collect();
        assert!(matches!(CartPole::from_kwargs(&bad), Err(EnvError::BadKwarg { .. })));
    }

    #[test]
    fn seeded_resets_repeat_and_stay_in_range() {
        let mut env = CartPole::default();
        let (a, _) = env.reset(Some(7), &Kwargs::new()).unwrap();
        let (b, _) = env.reset(Some(7), &Kwargs::new()).unwrap();
        assert_eq!(a, b);
        assert!(a.f32.iter().all(|x| x.abs() <= 0.05));
        let opts: Kwargs =
            [("low".to_string(), Value::Float(0.1)), ("high".into(), Value::Float(0.2))]
                .into_iter()
                .collect();
        let (c, _) = env.reset(None, &opts).unwrap();
        assert!(c.f32.iter().all(|&x| (0.1..=0.2).contains(&x)));
    }

    /// `sin_cos` must give the bits of `sin` and `cos` called separately (what numpy does), on
    /// CartPole's range, a wide range, and random bit patterns of every magnitude.
    #[test]
    fn sincos_matches_sin_and_cos() {
        let mut rng = EnvRng::seed_from(11);
        let mut xs: Vec<f64> = (0..200_000).map(|_| rng.uniform(-0.5, 0.5)).collect();
        xs.extend((0..200_000).map(|_| rng.uniform(-1e4, 1e4)));
        xs.extend((0..200_000).map(|_| f64::from_bits(rng.next_u64())));
        xs.extend([0.0, -0.0, 1e-300, f64::MIN_POSITIVE, 1e22, f64::MAX, f64::INFINITY, f64::NAN]);
        for x in xs {
            let (s, c) = sin_cos(x);
            assert_eq!(s.to_bits(), x.sin().to_bits(), "sin({x:e})");
            assert_eq!(c.to_bits(), x.cos().to_bits(), "cos({x:e})");
        }
    }

    /// The fast checks give the same errors, in the same order, as the general ones.
    #[test]
    fn refusals_come_in_order() {
        let mut env = CartPole::default();
        let mut small = Obs { f32: vec![0.0; 3], u8: vec![] };
        assert!(matches!(
            env.step_into(ActionRef::Discrete(5), small.as_mut()),
            Err(EnvError::StepBeforeReset { .. })
        ));
        env.reset(Some(0), &Kwargs::new()).unwrap();
        assert!(matches!(
            env.step_into(ActionRef::Discrete(5), small.as_mut()),
            Err(EnvError::InvalidAction { .. })
        ));
        assert!(matches!(
            env.step_into(ActionRef::Discrete(-1), small.as_mut()),
            Err(EnvError::InvalidAction { .. })
        ));
        let mut extra = Obs { f32: vec![0.0; 4], u8: vec![0] };
        assert!(matches!(
            env.step_into(ActionRef::Discrete(1), extra.as_mut()),
            Err(EnvError::LengthMismatch { .. })
        ));
        let mut ok = Obs { f32: vec![0.0; 4], u8: vec![] };
        assert!(env.step_into(ActionRef::Discrete(1), ok.as_mut()).is_ok());
    }
}
