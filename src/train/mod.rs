//! What every training loop shares besides its optimiser ([`crate::optim`]): schedule hooks,
//! the cadence that decides when a loop calls them, evaluates, checkpoints and ends, and
//! training-state checkpoints for exact resume.

pub mod cadence;
pub mod control;
pub mod hooks;
pub mod state;

pub use cadence::{Cadence, Ended, HookPoint, HookRequests, Tick};
pub use control::LoopControl;
pub use hooks::{HookContext, NoHooks, TrainHooks};
pub use state::{load_train_state, save_train_state, step_seed, CHECKPOINT_FILE};
