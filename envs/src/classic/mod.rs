//! Gymnasium's five classic-control environments, with Gymnasium 1.x equations, constants,
//! spaces and reset distributions (`gymnasium/envs/classic_control`).
//!
//! Each environment keeps its physical state in `f64` and hands out `f32` observations, with
//! the same floating-point operations, in the same order and at the same precision, as
//! Gymnasium's numpy code, so that trajectories agree with Gymnasium's to the last bits
//! (`tests/parity_classic.rs` replays recorded Gymnasium trajectories). Randomness comes from
//! [`NumpyRng`](crate::NumpyRng), numpy's `Generator(PCG64(SeedSequence(seed)))` reproduced bit
//! for bit, drawn with the calls Gymnasium makes, so `reset(seed)` gives Gymnasium's first
//! observation for the same seed and a seeded episode is Gymnasium's episode
//! (`tests/seeding_classic.rs`).
//!
//! This module also holds the small helpers the five share: keyword-argument parsing
//! (`kwargs`), reset bounds and seeding (`reset`), numpy's scalar square (`pow`), the action
//! check of the two continuous envs and the observation write (`step`), and frame buffers
//! (`frame`).

pub mod acrobot;
pub mod cartpole;
mod cartpole_config;
mod cartpole_kernel;
pub mod cartpole_vector;
pub mod continuous_mountain_car;
mod division;
mod frame;
mod kwargs;
pub mod mountain_car;
pub mod pendulum;
mod pow;
mod reset;
mod step;
pub mod trig;

pub use acrobot::{Acrobot, AcrobotConfig, AcrobotDynamics};
pub use cartpole::{CartPole, CartPoleConfig, KinematicsIntegrator};
pub use cartpole_vector::CartPoleVectorEnv;
pub use continuous_mountain_car::{MountainCarContinuous, MountainCarContinuousConfig};
pub use mountain_car::{MountainCar, MountainCarConfig};
pub use pendulum::{Pendulum, PendulumConfig};

pub(crate) use frame::{full_frame, render_before_reset};
pub(crate) use kwargs::{check_kwargs, check_param, kwarg_bool, kwarg_f64, kwarg_str};
pub(crate) use pow::{pow2, pow2_f32};
pub(crate) use reset::{check_uniform_bounds, reseed, reset_bounds, reset_number};
pub(crate) use step::{check_clipped_action, write_obs};
