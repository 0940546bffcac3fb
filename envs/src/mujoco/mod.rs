//! MuJoCo 3.17.0 for graft-envs.
//!
//! The library comes from PyPI's `mujoco` wheel through `scripts/setup.sh` and is loaded at
//! run time ([`library`]); `shim.c` is the only C, and `ffi` the only unsafe surface.
//! [`Model`] and [`Data`] own MuJoCo's `mjModel` / `mjData`; [`Simulation`] is the simulation
//! half of Gymnasium's `MujocoEnv`. MuJoCo's fatal errors come back as
//! [`MujocoError::Simulation`] instead of ending the process, and its warnings are counted
//! ([`warnings`]).

mod assets;
mod data;
mod error;
mod ffi;
pub mod library;
mod model;
mod sim;
pub mod warnings;

pub use assets::{ModelSource, BUNDLED};
pub use data::Data;
pub use error::MujocoError;
pub use library::MUJOCO_VERSION;
pub use model::Model;
pub use sim::Simulation;
pub use warnings::Warning;
