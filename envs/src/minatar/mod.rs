//! MinAtar: five miniature Atari games on a 10x10 grid of boolean channels, in pure Rust.
//!
//! K. Young and T. Tian, "MinAtar: An Atari-Inspired Testbed for Thorough and Reproducible
//! Reinforcement Learning Experiments", 2019, <https://arxiv.org/abs/1903.03176>.
//!
//! Each game is a port of the `minatar` Python package, version 1.0.15, that reproduces its
//! trajectories exactly: the same seed and actions give the same observations, rewards and
//! terminals step for step, because the games draw from a bit-exact port of numpy's legacy
//! `RandomState` ([`crate::numpy_rng::random_state`]) in the original's order. `tests/minatar_parity.rs` checks this
//! against trajectories recorded from the Python package.
//!
//! [`make`] builds the Graft [`Env`] for an id such as `MinAtar/Breakout-v1`; [`specs`] lists
//! the ids. As in minatar's Gymnasium registration, `-v1` uses each game's minimal action set
//! and `-v0` all six actions; neither sets a step limit.
//!
//! [`Env`]: crate::Env

mod asterix;
mod breakout;
mod config;
mod env;
mod freeway;
mod game;
mod grid;
mod palette;
mod registry;
mod seaquest;
mod space_invaders;

/// numpy's legacy generator, shared with the DeepMind Control Suite (it lives in
/// [`crate::numpy_rng`]); kept under its old path for existing callers.
pub use crate::numpy_rng::random_state as mt19937;
pub use crate::numpy_rng::RandomState;
pub use asterix::Asterix;
pub use breakout::Breakout;
pub use config::MinAtarConfig;
pub use env::MinAtar;
pub use freeway::Freeway;
pub use game::{Game, DOWN, FIRE, LEFT, NOOP, NUM_ACTIONS, RIGHT, UP};
pub use grid::Grid;
pub use palette::palette;
pub use registry::{make, registrations, specs};
pub use seaquest::Seaquest;
pub use space_invaders::SpaceInvaders;
