//! MountainCarContinuous-v0: the mountain car with a continuous push in [-1, 1].
//!
//! Moore's task (PhD thesis, Cambridge, 1990) with a continuous action, in the form of
//! Gymnasium 1.x (`classic_control/continuous_mountain_car.py`): power 0.0015, goal at
//! x >= 0.45, reward +100 at the goal minus 0.1 * action^2 per step.
//!
//! Gymnasium takes any action: it clips it for the dynamics but charges the reward on the action
//! as given, and it stores the state as `float32` after every step, so from the second step of
//! an episode on its arithmetic runs partly in `float32` (numpy 2 promotion rules). This file
//! reproduces those roundings to stay bit-exact, out-of-box actions included. Non-finite
//! actions and actions of the wrong kind or length are refused
//! ([`EnvError`](crate::EnvError)); the `strict_actions` keyword (Graft's own, off by default)
//! refuses out-of-box actions too.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::classic::mountain_car::{MAX_POSITION, MAX_SPEED, MIN_POSITION};
use crate::classic::{
    check_clipped_action, check_kwargs, check_param, full_frame, kwarg_bool, kwarg_f64,
    render_before_reset, reseed, reset_bounds, write_obs,
};
use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::Result;
use crate::numpy_rng::NumpyRng;
use crate::render::classic::draw_mountain_car;
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
    /// Refuse forces outside `[-1, 1]` with
    /// [`EnvError::InvalidAction`](crate::EnvError::InvalidAction) instead of clipping them
    /// as Gymnasium does. Graft's own keyword, not Gymnasium's; off by default.
    pub strict_actions: bool,
}

impl Default for MountainCarContinuousConfig {
    fn default() -> Self {
        MountainCarContinuousConfig { goal_velocity: 0.0, power: 0.0015, strict_actions: false }
    }
}

impl MountainCarContinuousConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] = &["goal_velocity", "power", "strict_actions"];

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
        if let Some(b) = kwarg_bool(ID, kwargs, "strict_actions")? {
            c.strict_actions = b;
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
    /// Gymnasium's `np_random`: seeded by `reset(seed)`, kept across unseeded resets.
    rng: Option<NumpyRng>,
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

    /// One step of the dynamics with any finite `action`; returns `(reward, terminated)`.
    ///
    /// Types follow Gymnasium under numpy 2: `state` is `float64` right after a reset and
    /// `float32` afterwards; Python floats mixed with a numpy `float32` are rounded to
    /// `float32` first; comparisons with a `float32` happen in `float32`. The dynamics use
    /// `force = min(max(action[0], -1.0), 1.0)`, which is the `float32` action inside the box
    /// but the Python float (`float64`) bound outside it; the reward charges
    /// `0.1 * action^2` on the action as given.
    fn advance(&mut self, action: f32) -> (f64, bool) {
        let c = &self.config;
        let f32s = self.state_is_f32;
        let [p, v] = self.state;
        let three_p = if f32s { (3.0 * p as f32) as f64 } else { 3.0 * p };
        let slope = 0.0025 * three_p.cos();
        // `min(max(a, -1.0), 1.0)` keeps the float32 action when it lies inside; outside, the
        // force is the Python float bound and `force * power - slope` stays in float64.
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

    /// Accepts any finite force (it is clipped) unless `strict_actions` is set.
    fn check_action(&self, action: ActionRef<'_>) -> Result<()> {
        check_clipped_action(ID, &self.action_space, self.config.strict_actions, action)
    }

    fn reset_into(
        &mut self,
        seed: Option<u64>,
        options: &Kwargs,
        mut obs: ObsMut<'_>,
    ) -> Result<Info> {
        obs.check(&self.observation_space, ID)?;
        // As Gymnasium: reseed, read the bounds, `np.array([np_random.uniform(low, high), 0])`.
        let rng = reseed(&mut self.rng, seed);
        let (low, high) = reset_bounds(ID, options, -0.6, -0.4)?;
        self.state = [rng.uniform(low, high), 0.0];
        self.state_is_f32 = false;
        self.episode = EpisodeState::Running;
        write_obs(&mut obs, &self.state);
        Ok(Info::new())
    }

    fn step_into(&mut self, action: ActionRef<'_>, mut obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.episode.check_step(ID)?;
        self.check_action(action)?;
        obs.check(&self.observation_space, ID)?;
        let force = match action {
            ActionRef::Continuous(xs) => xs.first().copied().unwrap_or(0.0),
            _ => 0.0, // unreachable: check_action accepted only one finite float32 value
        };
        let (reward, terminated) = self.advance(force);
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
    use crate::env::Action;
    use crate::error::EnvError;

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
    fn goal_reward_and_out_of_box_actions() {
        let mut env = MountainCarContinuous::default();
        env.set_state([0.44, 0.05]);
        let s = env.step(&Action::Continuous(vec![1.0])).unwrap();
        assert!(s.terminated);
        assert!((s.reward - 99.9).abs() < 1e-12);
        env.reset(Some(0), &Kwargs::new()).unwrap();
        assert!(matches!(
            env.step(&Action::Continuous(vec![f32::NAN])),
            Err(EnvError::NonFiniteAction { .. })
        ));
        // As Gymnasium: dynamics clipped to 1, reward on the action as given.
        let mut a = MountainCarContinuous::default();
        let mut b = MountainCarContinuous::default();
        a.set_state([-0.5, 0.01]);
        b.set_state([-0.5, 0.01]);
        let ra = a.step(&Action::Continuous(vec![3.0])).unwrap();
        let rb = b.step(&Action::Continuous(vec![1.0])).unwrap();
        assert!((ra.reward + 0.9).abs() < 1e-12 && (rb.reward + 0.1).abs() < 1e-12);
        assert_eq!(a.state(), b.state());
    }

    /// Outside the box the force is the Python float bound, so `force * power - slope` is
    /// computed in float64; inside, the float32 action keeps it in float32. The positions are
    /// ones where the two roundings give different float32 velocities.
    #[test]
    fn clipped_force_is_float64() {
        for (p, x, bound) in [(-0.3f64, 1.5f32, 1.0f64), (-1.0, -1.5, -1.0)] {
            let slope = 0.0025 * (3.0 * p).cos();
            let in_f64 = (bound * 0.0015 - slope) as f32;
            let in_f32 = bound as f32 * 0.0015f32 - slope as f32;
            assert_ne!(in_f64, in_f32, "{p}: the case does not tell the roundings apart");
            let mut env = MountainCarContinuous::default();
            env.set_state([p, 0.0]);
            env.step(&Action::Continuous(vec![x])).unwrap();
            assert_eq!(env.state()[1], in_f64 as f64, "{x}");
            env.set_state([p, 0.0]);
            env.step(&Action::Continuous(vec![bound as f32])).unwrap();
            assert_eq!(env.state()[1], in_f32 as f64, "{bound}");
        }
    }

    #[test]
    fn strict_actions_refuses_out_of_box() {
        let config = MountainCarContinuousConfig { strict_actions: true, ..Default::default() };
        let mut env = MountainCarContinuous::new(config).unwrap();
        env.set_state([-0.5, 0.0]);
        let err = env.step(&Action::Continuous(vec![1.5])).unwrap_err();
        assert_eq!(
            err,
            EnvError::InvalidAction {
                env: ID.into(),
                action: "[1.5]".into(),
                space: "Box(-1, 1, (1,), float32)".into()
            }
        );
        assert_eq!(env.state(), [-0.5, 0.0], "a refused step must not move the car");
        assert!(env.step(&Action::Continuous(vec![-1.0])).is_ok());
    }
}
