//! Optimisers and what drives them: Graft's own [`Optimizer`] with per-layer-group learning
//! rates, weight decay and freezing (state that checkpoints can store), its configuration,
//! learning-rate schedules, and target networks (EMA and hard copies). The loops that use
//! them — their cadence, hooks and training-state checkpoints — are in [`crate::train`].

pub mod config;
pub mod ema;
pub mod optimizer;
pub mod schedule;
mod update_rules;

pub use config::{OptimizerConfig, OptimizerKind};
pub use ema::{copy_vars, ema_update};
pub use optimizer::{GroupState, Optimizer, STATE_PREFIX};
pub use schedule::LrSchedule;
