//! `graft-envs`: Gymnasium-compatible environments in Rust (the MuJoCo suite over MuJoCo's C
//! library, loaded at run time), with no libtorch dependency.
//!
//! The [`Env`] trait follows Gymnasium 1.x (`reset(seed, options)`, `step(action)` returning
//! `terminated` and `truncated` separately); [`Space`]s check and sample actions and
//! observations; [`make`] builds an environment from its Gymnasium id, inside the
//! `TimeLimit` its spec declares, as `gymnasium.make` does. The user guide is
//! `docs/environments.md` in the repository.
//!
//! One CartPole episode, pushing the cart right at every step:
//!
//! ```
//! use graft_envs::{make, Action, Env, EnvError, Kwargs, Space, Value};
//!
//! # fn main() -> graft_envs::Result<()> {
//! let mut env = make("CartPole-v1", &Kwargs::new())?;
//! assert_eq!(env.action_space(), &Space::discrete(2));
//!
//! // Seeding is explicit: the same seed gives the same first observation.
//! let (obs, _info) = env.reset(Some(42), &Kwargs::new())?;
//! assert_eq!(obs.f32.len(), 4); // cart position and velocity, pole angle and angular velocity
//! assert_eq!(env.reset(Some(42), &Kwargs::new())?.0, obs);
//!
//! let mut steps = 0;
//! loop {
//!     let step = env.step(&Action::Discrete(1))?;
//!     steps += 1;
//!     assert_eq!(step.reward, 1.0);
//!     if step.terminated || step.truncated {
//!         // Pushing one way topples the pole long before the 500-step time limit.
//!         assert!(step.terminated && !step.truncated && steps < 500);
//!         break;
//!     }
//! }
//!
//! // Bad input is a typed error, never a panic: here, a step after the episode ended.
//! assert!(matches!(env.step(&Action::Discrete(0)), Err(EnvError::StepAfterDone { .. })));
//!
//! // Keyword arguments as in `gymnasium.make(id, **kwargs)`; unknown ids are errors too.
//! let kwargs = Kwargs::from([("max_episode_steps".to_string(), Value::Int(5))]);
//! let mut short = make("CartPole-v1", &kwargs)?;
//! short.reset(Some(0), &Kwargs::new())?;
//! let mut truncated = false;
//! for t in 0..5 {
//!     truncated = short.step(&Action::Discrete(t % 2))?.truncated;
//! }
//! assert!(truncated); // the fifth step hits the limit
//! assert!(matches!(make("CartPole-v9", &Kwargs::new()), Err(EnvError::UnknownEnv { .. })));
//! # Ok(())
//! # }
//! ```

#[cfg(feature = "atari")]
pub mod atari;
pub mod classic;
pub mod dmc;
pub mod env;
pub mod error;
#[cfg(feature = "gymnasium-rs")]
pub mod gymnasium_rs;
pub mod minatar;
pub mod mujoco;
pub mod numpy_rng;
pub mod registry;
pub mod render;
pub mod rng;
pub mod space;
pub mod spec;
pub mod vector;
pub mod wrappers;

pub use env::{
    Action, ActionRef, Env, EpisodeState, Info, Kwargs, Obs, ObsMut, Step, StepOutcome, Value,
};
pub use error::{EnvError, Result};
pub use minatar::{MinAtar, MinAtarConfig};
pub use mujoco::{MujocoEnv, MujocoError};
pub use numpy_rng::{NumpyRng, Pcg64, SeedSequence};
pub use registry::{evaluation_kwargs, make, make_with, registered, spec};
pub use rng::EnvRng;
pub use space::{BoxSpace, DType, Space};
pub use spec::EnvSpec;

pub use classic::{Acrobot, CartPole, MountainCar, MountainCarContinuous, Pendulum};
pub use vector::{AutoresetMode, BatchAction, BatchView, Execution, VectorConfig, VectorEnv};
pub use wrappers::{
    AddRenderObservation, ClipAction, FrameStackObservation, GrayscaleObservation,
    NormalizeObservation, RecordEpisodeStatistics, RenderObservationConfig, RepeatAction,
    RescaleAction, ResizeObservation, TimeLimit,
};

#[cfg(feature = "gymnasium-rs")]
pub use gymnasium_rs::{FromGymnasiumRs, ToGymnasiumRs};
