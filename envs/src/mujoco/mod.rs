//! MuJoCo and Gymnasium's MuJoCo v5 environments (Gymnasium 1.4.0, MuJoCo 3.17.0).
//!
//! The library comes from PyPI's `mujoco` wheel through `scripts/setup.sh` and is loaded at
//! run time ([`library`]); `shim.c` is the only C, and [`ffi`] the only unsafe surface.
//! [`Model`] and [`Data`] own MuJoCo's `mjModel` / `mjData`; [`Simulation`] is the simulation
//! half of Gymnasium's `MujocoEnv` and [`MujocoEnv`] its `Env` half, driven by one
//! [`MujocoTask`] per environment. MuJoCo's fatal errors come back as
//! [`MujocoError::Simulation`] instead of ending the process, and its warnings appear in
//! `info["mujoco_warnings"]` ([`warnings`]).
//!
//! ```
//! use graft_envs::{make, Action, Env, Kwargs};
//!
//! # fn main() -> graft_envs::Result<()> {
//! let mut env = make("Hopper-v5", &Kwargs::new())?;
//! env.reset(Some(0), &Kwargs::new())?;
//! let step = env.step(&Action::Continuous(vec![0.1, -0.2, 0.3]))?;
//! assert!(step.info.contains_key("reward_survive"));
//! # Ok(())
//! # }
//! ```

mod ant;
mod assets;
mod base;
mod data;
mod error;
mod ffi;
mod half_cheetah;
mod hopper;
mod humanoid;
mod humanoid_standup;
mod inverted_double_pendulum;
mod inverted_pendulum;
mod kwargs;
pub mod library;
mod model;
pub mod noise;
pub mod np;
mod pusher;
mod reacher;
mod registry;
pub(crate) mod render_config;
pub(crate) mod renderer;
mod sim;
mod swimmer;
mod task_util;
mod walker2d;
pub mod warnings;

pub use ant::{Ant, AntConfig, BodyRef};
pub use assets::{ModelSource, BUNDLED};
pub use base::{MujocoEnv, MujocoTask};
pub use data::Data;
pub use error::MujocoError;
pub use half_cheetah::{HalfCheetah, HalfCheetahConfig};
pub use hopper::{Hopper, HopperConfig};
pub use humanoid::{Humanoid, HumanoidConfig};
pub use humanoid_standup::{HumanoidStandup, HumanoidStandupConfig};
pub use inverted_double_pendulum::{InvertedDoublePendulum, InvertedDoublePendulumConfig};
pub use inverted_pendulum::{InvertedPendulum, InvertedPendulumConfig};
pub use library::MUJOCO_VERSION;
pub use model::Model;
pub use pusher::{Pusher, PusherConfig};
pub use reacher::{Reacher, ReacherConfig};
pub use registry::registrations;
pub use render_config::{CameraConfig, RenderConfig, DEFAULT_SIZE, RENDER_KWARGS};
pub use renderer::EGL_LIBRARY;
pub use sim::Simulation;
pub use swimmer::{Swimmer, SwimmerConfig};
pub use walker2d::{Walker2d, Walker2dConfig};
pub use warnings::Warning;
