//! Training plumbing shared by pretraining, fine-tuning and the RL agents: Graft's own
//! [`Optimizer`] with per-layer-group learning rates, weight decay and freezing (state that
//! checkpoints can store), learning-rate schedules, target networks (EMA and hard copies),
//! schedule hooks and the cadence that decides when a loop calls them, evaluates, checkpoints
//! and ends, and training-state checkpoints for exact resume.

pub mod cadence;
pub mod ema;
pub mod hooks;
pub mod optimizer;
pub mod schedule;
pub mod state;
mod update_rules;

pub use cadence::{Cadence, Ended, HookPoint, HookRequests};
pub use ema::{copy_vars, ema_update};
pub use hooks::{HookContext, NoHooks, TrainHooks};
pub use optimizer::{GroupState, Optimizer, OptimizerConfig, OptimizerKind};
pub use schedule::LrSchedule;
pub use state::{load_train_state, save_train_state, step_seed};
