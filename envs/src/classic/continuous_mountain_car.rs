//! MountainCarContinuous-v0: the mountain car with a continuous push in [-1, 1].
//!
//! Moore's task (PhD thesis, Cambridge, 1990) with a continuous action, in the form of
//! Gymnasium 1.x (`classic_control/continuous_mountain_car.py`): power 0.0015, goal at
//! x >= 0.45, reward +100 at the goal minus 0.1 * action^2 per step.
//!
//! Gymnasium clips the action for the dynamics but charges the reward on the action as given,
//! and it stores the state as `float32` after every step, so from the second step of an
//! episode on its arithmetic runs partly in `float32` (numpy 2 promotion rules). This file
//! reproduces those roundings to stay bit-exact. [`Env::step_into`] refuses actions outside
//! the action space, as every Graft env does; [`MountainCarContinuous::step_raw_into`] takes
//! any finite action the way Gymnasium does (clipped dynamics, unclipped reward).

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::classic::mountain_car::{MAX_POSITION, MAX_SPEED, MIN_POSITION};
use crate::classic::{
    check_kwargs, check_param, full_frame, kwarg_f64, render_before_reset, reseed, reset_bounds,
    write_obs,
};
use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::render::classic::draw_mountain_car;
use crate::rng::EnvRng;
use crate::space::Space;

const ID: &str = "MountainCarContinuous-v0";

/// The flag's position (0.45 here, 0.5 in the discrete task).
pub const GOAL_POSITION: f64 = 0.45;
const MIN_ACTION: f64 = -1.0;
const MAX_ACTION: f64 = 1.0;

/// MountainCarContinuous's parameters; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MountainCarContinuousConfig {
    /// The car must reach the flag with at least this velocity (Gymnasium's `goal_velocity`).
    pub goal_velocity: f64,
    /// Velocity change per step per unit of action.
    pub power: f64,
}

impl Default for MountainCarContinuousConfig {
    fn default() -> Self {
        MountainCarContinuousConfig { goal_velocity: 0.0, power: 0.0015 }
    }
}

impl MountainCarContinuousConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] = &["goal_velocity", "power"];

    /// The defaults overridden by `kwargs`.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = MountainCarContinuousConfig::default();
        if let Some(x) = kwarg_f64(ID, kwargs, "goal_velocity")? {
            c.goal_velocity = x;
        }
        if let Some(x) = kwarg_f64(ID, kwargs, "power")? {
            c.power = x;
        }
        Ok(c)
    }
}

/// The continuous MountainCar environment. State `[position, velocity]`; action `[force]`.
#[derive(Debug, Clone)]
pub struct MountainCarContinuous {
    config: MountainCarContinuousConfig,
    observation_space: Space,
    action_space: Space,
    state: [f64; 2],
    /// Whether `state` is Gymnasium's `float32` array (after a step) rather than the `float64`
    /// one `reset` and `set_state` make; the arithmetic of the next step depends on it.
    state_is_f32: bool,
    episode: EpisodeState,
    rng: Option<EnvRng>,
}

impl Default for MountainCarContinuous {
    fn default() -> Self {
        Self::build(MountainCarContinuousConfig::default())
    }
}

impl MountainCarContinuous {
    /// A MountainCarContinuous with `config`; fails on non-finite parameters.
    pub fn new(config: MountainCarContinuousConfig) -> Result<Self> {
        check_param(ID, "goal_velocity", config.goal_velocity, false)?;
        check_param(ID, "power", config.power, false)?;
        Ok(Self::build(config))
    }

    /// A MountainCarContinuous from `make`-style keyword arguments.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        Self::new(MountainCarContinuousConfig::from_kwargs(kwargs)?)
    }

    fn build(config: MountainCarContinuousConfig) -> Self {
        MountainCarContinuous {
            config,
            observation_space: Space::box_f32(
                vec![MIN_POSITION, -MAX_SPEED],
                vec![MAX_POSITION, MAX_SPEED],
            ),
            action_space: Space::box_f32(vec![MIN_ACTION], vec![MAX_ACTION]),
            state: [0.0; 2],
            state_is_f32: false,
            episode: EpisodeState::NeedsReset,
            rng: None,
        }
    }

    /// The parameters.
    pub fn config(&self) -> &MountainCarContinuousConfig {
        &self.config
    }

    /// The physical state `[position, velocity]`.
    pub fn state(&self) -> [f64; 2] {
        self.state
    }

    /// Replace the physical state (as assigning a `float64` array to Gymnasium's
    /// `env.unwrapped.state`) and start an episode from it.
    pub fn set_state(&mut self, state: [f64; 2]) {
        self.state = state;
        self.state_is_f32 = false;
        self.episode = EpisodeState::Running;
    }

    /// Step with any finite force, as Gymnasium's env accepts it: the dynamics use the force
    /// clipped to [-1, 1], the reward charges `0.1 * force^2` on the force as given.
    pub fn step_raw_into(&mut self, force: f32, mut obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.episode.check_step(ID)?;
        if !force.is_finite() {
            return Err(EnvError::NonFiniteAction { env: ID.into(), action: format!("[{force}]") });
        }
        obs.check(&self.observation_space, ID)?;
        let (reward, terminated) = self.advance(force);
        self.episode = EpisodeState::after_step(terminated, false);
        write_obs(&mut obs, &self.state);
        Ok(StepOutcome { reward, terminated, truncated: false, info: Info::new() })
    }

    /// One step of the dynamics; returns `(reward, terminated)`.
    ///
    /// Types follow Gymnasium under numpy 2: `state` is `float64` right after a reset and
    /// `float32` afterwards; Python floats mixed with a numpy `float32` are rounded to
    /// `float32` first; comparisons with a `float32` happen in `float32`.
    fn advance(&mut self, action: f32) -> (f64, bool) {
        let c = &self.config;
        let f32s = self.state_is_f32;
        let [p, v] = self.state;
        let three_p = if f32s { (3.0 * p as f32) as f64 } else { 3.0 * p };
        let slope = 0.0025 * three_p.cos();
        // `min(max(a, -1.0), 1.0)` keeps the float32 action when it lies inside.
        let clipped = (action as f64) < MIN_ACTION || (action as f64) > MAX_ACTION;
        let accel = if clipped {
            (action as f64).clamp(MIN_ACTION, MAX_ACTION) * c.power - slope
        } else {
            (action * c.power as f32 - slope as f32) as f64
        };
        let mut velocity = if f32s { (v as f32 + accel as f32) as f64 } else { v + accel };
        let above = |x: f64, bound: f64| if f32s { x as f32 > bound as f32 } else { x > bound };
        if above(velocity, MAX_SPEED) {
            velocity = MAX_SPEED;
        }
        if above(-MAX_SPEED, velocity) {
            velocity = -MAX_SPEED;
        }
        let mut position = if f32s { (p as f32 + velocity as f32) as f64 } else { p + velocity };
        if above(position, MAX_POSITION) {
            position = MAX_POSITION;
        }
        if above(MIN_POSITION, position) {
            position = MIN_POSITION;
        }
        let at_wall =
            if f32s { position as f32 == MIN_POSITION as f32 } else { position == MIN_POSITION };
        if at_wall && velocity < 0.0 {
            velocity = 0.0;
        }
        let terminated = !above(GOAL_POSITION, position) && !above(c.goal_velocity, velocity);
        let a = action as f64;
        let bonus = if terminated { 100.0 } else { 0.0 };
        // `math.pow(action, 2) * 0.1` on the action as given (exact square of a float32).
        let reward = bonus - a * a * 0.1;
        self.state = [position as f32 as f64, velocity as f32 as f64];
        self.state_is_f32 = true;
        (reward, terminated)
    }
}

impl Env for MountainCarContinuous {
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
        let (low, high) = reset_bounds(ID, options, -0.6, -0.4)?;
        let rng = reseed(&mut self.rng, seed);
        self.state = [rng.uniform(low, high), 0.0];
        self.state_is_f32 = false;
        self.episode = EpisodeState::Running;
        write_obs(&mut obs, &self.state);
        Ok(Info::new())
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.episode.check_step(ID)?;
        self.action_space.check_action(ID, action)?;
        let force = match action {
            ActionRef::Continuous(xs) => xs.first().copied().unwrap_or(0.0),
            _ => 0.0, // unreachable: check_action accepted only one float32 value
        };
        self.step_raw_into(force, obs)
    }

    fn render(&self) -> Result<RgbImage> {
        full_frame(600, 400, |w, h, out| self.render_into(w, h, out))
    }

    fn render_into(&self, width: u32, height: u32, out: &mut [u8]) -> Result<()> {
        if self.episode == EpisodeState::NeedsReset {
            return Err(render_before_reset(ID));
        }
        draw_mountain_car(
            self.state[0],
            GOAL_POSITION,
            MIN_POSITION,
            MAX_POSITION,
            width,
            height,
            out,
        )
    }

    fn render_fps(&self) -> u32 {
        30
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Action, Obs};

    #[test]
    fn first_step_by_hand_then_float32_state() {
        let mut env = MountainCarContinuous::default();
        env.set_state([-0.5, 0.0]);
        let s = env.step(&Action::Continuous(vec![0.5])).unwrap();
        // v = 0.5 * 0.0015 - 0.0025 cos(-1.5) = 0.00075 - 0.000176843 = 0.000573157
        let [p, v] = env.state();
        assert!((v - 0.000_573_157).abs() < 1e-9, "{v}");
        assert_eq!(p, (-0.5 + v) as f32 as f64);
        assert!((s.reward + 0.025).abs() < 1e-12);
        assert!(!s.terminated);
    }

    #[test]
    fn goal_reward_and_out_of_space_actions() {
        let mut env = MountainCarContinuous::default();
        env.set_state([0.44, 0.05]);
        let s = env.step(&Action::Continuous(vec![1.0])).unwrap();
        assert!(s.terminated);
        assert!((s.reward - 99.9).abs() < 1e-12);
        env.reset(Some(0), &Kwargs::new()).unwrap();
        assert!(matches!(
            env.step(&Action::Continuous(vec![1.5])),
            Err(EnvError::InvalidAction { .. })
        ));
        assert!(matches!(
            env.step(&Action::Continuous(vec![f32::NAN])),
            Err(EnvError::NonFiniteAction { .. })
        ));
        // The Gymnasium path: dynamics clipped to 1, reward on the action as given.
        let mut a = MountainCarContinuous::default();
        let mut b = MountainCarContinuous::default();
        a.set_state([-0.5, 0.01]);
        b.set_state([-0.5, 0.01]);
        let mut obs = Obs::zeros(a.observation_space());
        let ra = a.step_raw_into(3.0, obs.as_mut()).unwrap();
        let rb = b.step_raw_into(1.0, obs.as_mut()).unwrap();
        assert!((ra.reward + 0.9).abs() < 1e-12 && (rb.reward + 0.1).abs() < 1e-12);
        assert!((a.state()[1] - b.state()[1]).abs() < 1e-9);
    }
}
