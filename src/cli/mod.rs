//! Subcommands of the `graft` binary that need more than a few lines, one file each.

pub mod ckpt;
pub mod collect;
pub mod data;
pub mod dist;
pub mod envs;
pub mod images;
pub mod logging;
pub mod pretrain;
pub mod rl;
pub mod run;
pub mod values;
