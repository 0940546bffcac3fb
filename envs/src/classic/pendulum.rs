//! Pendulum-v1: swing a torque-limited pendulum up and hold it upright.
//!
//! The inverted-pendulum swing-up task as Gymnasium 1.x defines it
//! (`classic_control/pendulum.py`): theta = 0 is upright, torque in [-2, 2], angular speed
//! clipped to [-8, 8], cost `angle^2 + 0.1 thetadot^2 + 0.001 u^2` with the angle normalised
//! to [-pi, pi), reward = -cost, no termination (the registry's `TimeLimit` ends episodes
//! after 200 steps). `g` defaults to 10.0, as Gymnasium's keyword argument does.
//!
//! Torques outside the action box are clipped, as Gymnasium's
//! `u = np.clip(u, -max_torque, max_torque)[0]` does (in `float32`, the action's type), so
//! code ported from Gymnasium may step with any finite torque. Non-finite torques and actions
//! of the wrong kind or length are refused ([`EnvError`](crate::EnvError)); the
//! `strict_actions` keyword (Graft's own, off by default) refuses out-of-box torques too.

use std::f64::consts::PI;

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::classic::{
    check_clipped_action, check_kwargs, check_param, check_uniform_bounds, full_frame, kwarg_bool,
    kwarg_f64, pow2, pow2_f32, render_before_reset, reseed, reset_number, write_obs,
};
use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::Result;
use crate::numpy_rng::NumpyRng;
use crate::render::classic::draw_pendulum;
use crate::space::Space;

const ID: &str = "Pendulum-v1";

/// Pendulum's parameters; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PendulumConfig {
    /// Gravitational acceleration (Gymnasium's `g` keyword; 10.0, not 9.81, by default).
    pub g: f64,
    /// Mass of the bob.
    pub m: f64,
    /// Length of the rod.
    pub l: f64,
    /// Seconds per step.
    pub dt: f64,
    /// Angular speed limit (the observation's third bound).
    pub max_speed: f64,
    /// Torque limit (the action space's bound).
    pub max_torque: f64,
    /// Refuse torques outside `[-max_torque, max_torque]` with
    /// [`EnvError::InvalidAction`](crate::EnvError::InvalidAction) instead of clipping them
    /// as Gymnasium does. Graft's own keyword, not Gymnasium's; off by default.
    pub strict_actions: bool,
}

impl Default for PendulumConfig {
    fn default() -> Self {
        PendulumConfig {
            g: 10.0,
            m: 1.0,
            l: 1.0,
            dt: 0.05,
            max_speed: 8.0,
            max_torque: 2.0,
            strict_actions: false,
        }
    }
}

impl PendulumConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] =
        &["g", "m", "l", "dt", "max_speed", "max_torque", "strict_actions"];

    /// The defaults overridden by `kwargs`.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = PendulumConfig::default();
        for (key, field) in [
            ("g", &mut c.g),
            ("m", &mut c.m),
            ("l", &mut c.l),
            ("dt", &mut c.dt),
            ("max_speed", &mut c.max_speed),
            ("max_torque", &mut c.max_torque),
        ] {
            if let Some(x) = kwarg_f64(ID, kwargs, key)? {
                *field = x;
            }
        }
        if let Some(b) = kwarg_bool(ID, kwargs, "strict_actions")? {
            c.strict_actions = b;
        }
        Ok(c)
    }
}

/// Gymnasium's `angle_normalize`: `((x + pi) mod 2pi) - pi` with a floored modulo (numpy's
/// `%`), in [-pi, pi).
pub fn angle_normalize(x: f64) -> f64 {
    let two_pi = 2.0 * PI;
    let mut r = (x + PI) % two_pi;
    if r != 0.0 && r < 0.0 {
        r += two_pi;
    } else if r == 0.0 {
        r = 0.0; // numpy gives +0.0 (the divisor's sign)
    }
    r - PI
}

/// The Pendulum environment. State `[theta, thetadot]`; observation
/// `[cos theta, sin theta, thetadot]`; action `[torque]`.
#[derive(Debug, Clone)]
pub struct Pendulum {
    config: PendulumConfig,
    observation_space: Space,
    action_space: Space,
    state: [f64; 2],
    last_u: Option<f64>,
    episode: EpisodeState,
    /// Gymnasium's `np_random`: seeded by `reset(seed)`, kept across unseeded resets.
    rng: Option<NumpyRng>,
}

impl Default for Pendulum {
    fn default() -> Self {
        Self::build(PendulumConfig::default())
    }
}

impl Pendulum {
    /// A Pendulum with `config`; fails on non-finite or non-positive parameters.
    pub fn new(config: PendulumConfig) -> Result<Self> {
        check_param(ID, "g", config.g, false)?;
        check_param(ID, "m", config.m, true)?;
        check_param(ID, "l", config.l, true)?;
        check_param(ID, "dt", config.dt, true)?;
        check_param(ID, "max_speed", config.max_speed, true)?;
        check_param(ID, "max_torque", config.max_torque, true)?;
        Ok(Self::build(config))
    }

    /// A Pendulum from `make`-style keyword arguments (e.g. `g = 9.81`).
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        Self::new(PendulumConfig::from_kwargs(kwargs)?)
    }

    fn build(config: PendulumConfig) -> Self {
        let (s, t) = (config.max_speed, config.max_torque);
        Pendulum {
            observation_space: Space::box_f32(vec![-1.0, -1.0, -s], vec![1.0, 1.0, s]),
            action_space: Space::box_f32(vec![-t], vec![t]),
            state: [0.0; 2],
            last_u: None,
            episode: EpisodeState::NeedsReset,
            rng: None,
            config,
        }
    }

    /// The parameters.
    pub fn config(&self) -> &PendulumConfig {
        &self.config
    }

    /// The physical state `[theta, thetadot]` (theta = 0 upright).
    pub fn state(&self) -> [f64; 2] {
        self.state
    }

    /// Replace the physical state and start an episode from it.
    pub fn set_state(&mut self, state: [f64; 2]) {
        self.state = state;
        self.last_u = None;
        self.episode = EpisodeState::Running;
    }

    /// The torque of the last step (for rendering), `None` right after a reset.
    pub fn last_u(&self) -> Option<f64> {
        self.last_u
    }

    fn write(&self, obs: &mut ObsMut<'_>) {
        let [th, thdot] = self.state;
        write_obs(obs, &[th.cos(), th.sin(), thdot]);
    }

    /// One step with torque `u` (any finite value); returns the reward.
    ///
    /// The torque is numpy `float32` in Gymnasium, and `np.clip` with Python-float bounds
    /// keeps it `float32` (numpy 2 rounds the bounds to `float32`), so the clip and the terms
    /// that multiply the torque by a Python float are computed in `float32`, the rest in
    /// `float64`; squares are `pow` calls there. The cost charges the clipped torque.
    fn advance(&mut self, u: f32) -> f64 {
        let c = &self.config;
        let [th, thdot] = self.state;
        let u = u.clamp(-c.max_torque as f32, c.max_torque as f32);
        self.last_u = Some(u as f64);
        let an = angle_normalize(th);
        let costs = pow2(an) + 0.1 * pow2(thdot) + (0.001f32 * pow2_f32(u)) as f64;
        let gravity_term = 3.0 * c.g / (2.0 * c.l) * th.sin();
        let torque_term = (3.0 / (c.m * pow2(c.l))) as f32 * u;
        let newthdot = thdot + (gravity_term + torque_term as f64) * c.dt;
        let newthdot = newthdot.clamp(-c.max_speed, c.max_speed);
        let newth = th + newthdot * c.dt;
        self.state = [newth, newthdot];
        -costs
    }
}

impl Env for Pendulum {
    fn id(&self) -> &str {
        ID
    }

    fn observation_space(&self) -> &Space {
        &self.observation_space
    }

    fn action_space(&self) -> &Space {
        &self.action_space
    }

    /// Accepts any finite torque (it is clipped) unless `strict_actions` is set.
    fn check_action(&self, action: ActionRef<'_>) -> Result<()> {
        check_clipped_action(ID, &self.action_space, self.config.strict_actions, action)
    }

    /// Draws theta uniformly in `[-x_init, x_init]` (default pi) and thetadot in
    /// `[-y_init, y_init]` (default 1), the options Gymnasium's Pendulum takes.
    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &Kwargs,
        mut obs: ObsMut<'_>,
    ) -> Result<Info> {
        obs.check(&self.observation_space, ID)?;
        // As Gymnasium: reseed, read the bounds, `np_random.uniform(low=-high, high=high)` with
        // `high = [x_init, y_init]`, which numpy refuses for a negative or infinite bound.
        let rng = reseed(&mut self.rng, seed);
        let x = reset_number(ID, options, "x_init")?.unwrap_or(PI);
        let y = reset_number(ID, options, "y_init")?.unwrap_or(1.0);
        check_uniform_bounds(ID, "x_init", -x, x)?;
        check_uniform_bounds(ID, "y_init", -y, y)?;
        self.state = [rng.uniform(-x, x), rng.uniform(-y, y)];
        self.last_u = None;
        self.episode = EpisodeState::Running;
        self.write(&mut obs);
        Ok(Info::new())
    }

    fn step_into(&mut self, action: ActionRef<'_>, mut obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.episode.check_step(ID)?;
        self.check_action(action)?;
        obs.check(&self.observation_space, ID)?;
        let u = match action {
            ActionRef::Continuous(xs) => xs.first().copied().unwrap_or(0.0),
            _ => 0.0, // unreachable: check_action accepted only one finite float32 value
        };
        let reward = self.advance(u);
        self.episode = EpisodeState::Running;
        self.write(&mut obs);
        Ok(StepOutcome { reward, terminated: false, truncated: false, info: Info::new() })
    }

    fn render(&self) -> Result<RgbImage> {
        full_frame(500, 500, |w, h, out| self.render_into(w, h, out))
    }

    fn render_into(&self, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
        if self.episode == EpisodeState::NeedsReset {
            return Err(render_before_reset(ID));
        }
        draw_pendulum(self.state[0], self.last_u, width, height, out)
    }

    fn render_fps(&self) -> u32 {
        30
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Action;
    use crate::error::EnvError;
    use crate::Value;

    #[test]
    fn angle_normalize_is_floored() {
        assert_eq!(angle_normalize(0.0), 0.0);
        assert!((angle_normalize(3.0 * PI / 2.0) + PI / 2.0).abs() < 1e-12);
        assert!((angle_normalize(-3.0 * PI / 2.0) - PI / 2.0).abs() < 1e-12);
        assert_eq!(angle_normalize(PI), -PI);
    }

    #[test]
    fn one_step_by_hand() {
        let mut env = Pendulum::default();
        env.set_state([PI / 2.0, 1.0]);
        let s = env.step(&Action::Continuous(vec![1.0])).unwrap();
        // cost = (pi/2)^2 + 0.1 + 0.001; thdot' = 1 + (15 sin(pi/2) + 3) 0.05 = 1.9
        assert!((s.reward + (PI * PI / 4.0 + 0.101)).abs() < 1e-7);
        let [th, thdot] = env.state();
        assert!((thdot - 1.9).abs() < 1e-12);
        assert!((th - (PI / 2.0 + 1.9 * 0.05)).abs() < 1e-12);
        assert!(!s.terminated && !s.truncated);
    }

    #[test]
    fn speed_is_clipped_and_g_is_a_kwarg() {
        let kw: Kwargs = [("g".to_string(), Value::Float(9.81))].into_iter().collect();
        let mut env = Pendulum::from_kwargs(&kw).unwrap();
        assert_eq!(env.config().g, 9.81);
        env.set_state([PI / 2.0, 7.9]);
        env.step(&Action::Continuous(vec![2.0])).unwrap();
        assert_eq!(env.state()[1], 8.0);
    }

    #[test]
    fn torque_is_clipped_unless_strict() {
        let mut a = Pendulum::default();
        let mut b = Pendulum::default();
        a.set_state([1.0, 0.5]);
        b.set_state([1.0, 0.5]);
        let sa = a.step(&Action::Continuous(vec![2.5])).unwrap();
        let sb = b.step(&Action::Continuous(vec![2.0])).unwrap();
        assert_eq!((a.state(), sa.reward, a.last_u()), (b.state(), sb.reward, Some(2.0)));

        // A bound float32 cannot hold is rounded to float32, as numpy's clip does.
        let kw: Kwargs = [("max_torque".to_string(), Value::Float(1.3))].into_iter().collect();
        let mut c = Pendulum::from_kwargs(&kw).unwrap();
        c.set_state([0.0, 0.0]);
        c.step(&Action::Continuous(vec![-7.0])).unwrap();
        assert_eq!(c.last_u(), Some(-(1.3f32 as f64)));

        let kw: Kwargs = [("strict_actions".to_string(), Value::Bool(true))].into_iter().collect();
        let mut strict = Pendulum::from_kwargs(&kw).unwrap();
        strict.set_state([1.0, 0.5]);
        let err = strict.step(&Action::Continuous(vec![2.5])).unwrap_err();
        assert_eq!(
            err,
            EnvError::InvalidAction {
                env: ID.into(),
                action: "[2.5]".into(),
                space: "Box(-2, 2, (1,), float32)".into()
            }
        );
        assert_eq!(strict.state(), [1.0, 0.5], "a refused step must not move the pendulum");
        for env in [&mut a, &mut strict] {
            assert!(matches!(
                env.step(&Action::Continuous(vec![f32::NAN])),
                Err(EnvError::NonFiniteAction { .. })
            ));
        }
    }

    #[test]
    fn reset_options_bound_the_start() {
        let mut env = Pendulum::default();
        let o: Kwargs =
            [("x_init".to_string(), Value::Float(0.1)), ("y_init".into(), Value::Int(0))]
                .into_iter()
                .collect();
        for seed in 0..20 {
            env.reset(Some(seed), &o).unwrap();
            let [th, thdot] = env.state();
            assert!(th.abs() <= 0.1 && thdot == 0.0);
        }
    }
}
