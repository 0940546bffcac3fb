//! `graft-envs`: Gymnasium-compatible environments in pure Rust, with no libtorch dependency.
//!
//! The [`Env`] trait follows Gymnasium 1.x (`reset(seed, options)`, `step(action)` returning
//! `terminated` and `truncated` separately); [`Space`]s check and sample actions and
//! observations; [`make`] builds an environment from its Gymnasium id.

pub mod classic;
pub mod env;
pub mod error;
#[cfg(feature = "gymnasium-rs")]
pub mod gymnasium_rs;
pub mod minatar;
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
pub use registry::{make, make_with, registered, spec};
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
