//! MountainCar-v0: drive an under-powered car up a hill by rocking it back and forth.
//!
//! The task of Moore, "Efficient memory-based learning for robot control" (PhD thesis,
//! University of Cambridge, 1990), in the form of Gymnasium 1.x
//! (`classic_control/mountain_car.py`): three discrete pushes, hill height sin(3x), an
//! inelastic wall at x = -1.2, goal at x >= 0.5, reward -1 per step.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::classic::{
    check_kwargs, check_param, full_frame, kwarg_f64, render_before_reset, reseed, reset_bounds,
    write_obs,
};
use crate::env::{ActionRef, Env, EpisodeState, Info, Kwargs, ObsMut, StepOutcome};
use crate::error::Result;
use crate::numpy_rng::NumpyRng;
use crate::render::classic::draw_mountain_car;
use crate::space::Space;

const ID: &str = "MountainCar-v0";

/// Left end of the track (an inelastic wall).
pub const MIN_POSITION: f64 = -1.2;
/// Right end of the track.
pub const MAX_POSITION: f64 = 0.6;
/// Speed limit in either direction.
pub const MAX_SPEED: f64 = 0.07;
/// The flag's position.
pub const GOAL_POSITION: f64 = 0.5;

/// MountainCar's parameters; the defaults are Gymnasium's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MountainCarConfig {
    /// The car must reach the flag with at least this velocity (Gymnasium's `goal_velocity`).
    pub goal_velocity: f64,
    /// Velocity change per step of a push.
    pub force: f64,
    /// Gravity's weight on the slope term.
    pub gravity: f64,
}

impl Default for MountainCarConfig {
    fn default() -> Self {
        MountainCarConfig { goal_velocity: 0.0, force: 0.001, gravity: 0.0025 }
    }
}

impl MountainCarConfig {
    /// Keyword arguments `make` accepts (the field names).
    pub const KWARGS: &'static [&'static str] = &["goal_velocity", "force", "gravity"];

    /// The defaults overridden by `kwargs`.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        check_kwargs(ID, kwargs, Self::KWARGS)?;
        let mut c = MountainCarConfig::default();
        for (key, field) in [
            ("goal_velocity", &mut c.goal_velocity),
            ("force", &mut c.force),
            ("gravity", &mut c.gravity),
        ] {
            if let Some(x) = kwarg_f64(ID, kwargs, key)? {
                *field = x;
            }
        }
        Ok(c)
    }
}

/// The MountainCar environment. State `[position, velocity]`; actions 0 (push left),
/// 1 (no push), 2 (push right).
#[derive(Debug, Clone)]
pub struct MountainCar {
    config: MountainCarConfig,
    observation_space: Space,
    action_space: Space,
    state: [f64; 2],
    episode: EpisodeState,
    /// Gymnasium's `np_random`: seeded by `reset(seed)`, kept across unseeded resets.
    rng: Option<NumpyRng>,
}

impl Default for MountainCar {
    fn default() -> Self {
        Self::build(MountainCarConfig::default())
    }
}

impl MountainCar {
    /// A MountainCar with `config`; fails on non-finite parameters.
    pub fn new(config: MountainCarConfig) -> Result<Self> {
        check_param(ID, "goal_velocity", config.goal_velocity, false)?;
        check_param(ID, "force", config.force, false)?;
        check_param(ID, "gravity", config.gravity, false)?;
        Ok(Self::build(config))
    }

    /// A MountainCar from `make`-style keyword arguments.
    pub fn from_kwargs(kwargs: &Kwargs) -> Result<Self> {
        Self::new(MountainCarConfig::from_kwargs(kwargs)?)
    }

    fn build(config: MountainCarConfig) -> Self {
        MountainCar {
            config,
            observation_space: Space::box_f32(
                vec![MIN_POSITION, -MAX_SPEED],
                vec![MAX_POSITION, MAX_SPEED],
            ),
            action_space: Space::discrete(3),
            state: [0.0; 2],
            episode: EpisodeState::NeedsReset,
            rng: None,
        }
    }

    /// The parameters.
    pub fn config(&self) -> &MountainCarConfig {
        &self.config
    }

    /// The physical state `[position, velocity]`.
    pub fn state(&self) -> [f64; 2] {
        self.state
    }

    /// Replace the physical state and start an episode from it.
    pub fn set_state(&mut self, state: [f64; 2]) {
        self.state = state;
        self.episode = EpisodeState::Running;
    }

    /// One step of the dynamics for action `a` (0, 1 or 2); returns whether the goal is reached.
    fn advance(&mut self, a: i64) -> bool {
        let c = &self.config;
        let [mut position, mut velocity] = self.state;
        velocity += (a - 1) as f64 * c.force + (3.0 * position).cos() * (-c.gravity);
        velocity = velocity.clamp(-MAX_SPEED, MAX_SPEED);
        position += velocity;
        position = position.clamp(MIN_POSITION, MAX_POSITION);
        if position == MIN_POSITION && velocity < 0.0 {
            velocity = 0.0;
        }
        self.state = [position, velocity];
        position >= GOAL_POSITION && velocity >= c.goal_velocity
    }
}

impl Env for MountainCar {
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
        // As Gymnasium: reseed, read the bounds, `np.array([np_random.uniform(low, high), 0])`.
        let rng = reseed(&mut self.rng, seed);
        let (low, high) = reset_bounds(ID, options, -0.6, -0.4)?;
        self.state = [rng.uniform(low, high), 0.0];
        self.episode = EpisodeState::Running;
        write_obs(&mut obs, &self.state);
        Ok(Info::new())
    }

    fn step_into(&mut self, action: ActionRef<'_>, mut obs: ObsMut<'_>) -> Result<StepOutcome> {
        self.episode.check_step(ID)?;
        self.action_space.check_action(ID, action)?;
        obs.check(&self.observation_space, ID)?;
        let a = match action {
            ActionRef::Discrete(a) => a,
            _ => 1, // unreachable: check_action accepted only a discrete action
        };
        let terminated = self.advance(a);
        self.episode = EpisodeState::after_step(terminated, false);
        write_obs(&mut obs, &self.state);
        Ok(StepOutcome { reward: -1.0, terminated, truncated: false, info: Info::new() })
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
    fn one_step_by_hand() {
        let mut env = MountainCar::default();
        env.set_state([-0.5, 0.0]);
        let s = env.step(&Action::Discrete(2)).unwrap();
        // v = 0.001 - 0.0025 cos(-1.5) = 0.001 - 0.0025 * 0.0707372 = 0.000823157
        let v = 0.001 + (-1.5f64).cos() * -0.0025;
        assert!((v - 0.000_823_157).abs() < 1e-9);
        assert_eq!(env.state(), [-0.5 + v, v]);
        assert_eq!(s.obs.f32, vec![(-0.5 + v) as f32, v as f32]);
        assert_eq!((s.reward, s.terminated), (-1.0, false));
    }

    #[test]
    fn wall_stops_the_car_and_goal_terminates() {
        let mut env = MountainCar::default();
        env.set_state([-1.19, -0.05]);
        env.step(&Action::Discrete(0)).unwrap();
        assert_eq!(env.state(), [MIN_POSITION, 0.0]);
        env.set_state([0.49, 0.05]);
        let s = env.step(&Action::Discrete(2)).unwrap();
        assert!(s.terminated);
        assert!(matches!(env.step(&Action::Discrete(1)), Err(EnvError::StepAfterDone { .. })));
        assert!(matches!(env.step(&Action::Discrete(3)), Err(EnvError::StepAfterDone { .. })));
        env.reset(Some(1), &Kwargs::new()).unwrap();
        assert!(matches!(env.step(&Action::Discrete(3)), Err(EnvError::InvalidAction { .. })));
        assert!(matches!(env.step(&Action::Discrete(-1)), Err(EnvError::InvalidAction { .. })));
    }

    #[test]
    fn reset_draws_position_in_range_with_zero_velocity() {
        let mut env = MountainCar::default();
        for seed in 0..50 {
            let (o, _) = env.reset(Some(seed), &Kwargs::new()).unwrap();
            assert!((-0.6..=-0.4).contains(&o.f32[0]) && o.f32[1] == 0.0);
        }
    }
}
