//! The DeepMind Control Suite (Tassa et al. 2018, <https://arxiv.org/abs/1801.00690>) on
//! Graft's MuJoCo, exact to dm_control 1.0.50 on MuJoCo 3.17.0.
//!
//! Ids are `dmc/<domain>-<task>` ([`TASKS`]): the six PlaNet tasks that CURL, DrQ and DrQ-v2
//! report (cartpole-swingup, reacher-easy, cheetah-run, finger-spin, walker-walk,
//! ball_in_cup-catch) and more of the suite. The models are dm_control's own XMLs
//! ([`assets`]); the task logic, the legacy stepping and resetting of its `Physics`
//! ([`physics`]), `rewards.tolerance` ([`rewards`]) and its seeding (numpy's legacy
//! `RandomState`) are reimplemented, and `tests/dmc_parity.rs` checks observations and
//! rewards step by step against dm_control (`fixtures/dmc/gen_dmc.py`).
//!
//! From pixels, as the papers use them: the environment renders any size from the task's
//! camera (0; quadruped 2) with `render_into`, and
//! [`PixelObservation`](crate::wrappers::PixelObservation) with the task's
//! [`TaskSpec::action_repeat`] gives their 84x84 frames, action repeat and frame stack.
//!
//! ```no_run
//! use graft_envs::{make, Action, Env, Kwargs};
//!
//! # fn main() -> graft_envs::Result<()> {
//! let mut env = make("dmc/cheetah-run", &Kwargs::new())?;
//! env.reset(Some(0), &Kwargs::new())?;
//! let step = env.step(&Action::Continuous(vec![0.0; 6]))?;
//! assert!(step.reward >= 0.0 && step.reward <= 1.0);
//! # Ok(())
//! # }
//! ```

pub mod assets;
mod env;
pub mod physics;
mod registry;
pub mod rewards;
mod tasks;

pub use env::{DmcEnv, DEFAULT_HEIGHT, DEFAULT_WIDTH};
pub use registry::registrations;
pub use tasks::{find, ObsDict, TaskSpec, TASKS};

/// The action repeat a run of `id` gets when none is asked for: the papers' value for a
/// Control Suite task ([`TaskSpec::action_repeat`]), 1 for any other id.
pub fn default_action_repeat(id: &str) -> usize {
    TASKS.iter().find(|t| t.id == id).map_or(1, |t| t.action_repeat)
}
