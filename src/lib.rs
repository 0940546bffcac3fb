//! Graft: transfer learning for reinforcement learning and vision, on libtorch through `tch`.
//!
//! Graft pretrains CNN and transformer encoders with self-supervised pretext tasks, fine-tunes
//! them under schedules written in Rhai, and hands them to RL agents acting in the
//! environments of [`graft_envs`]. This crate holds the libtorch side; the environments are a
//! separate crate without a libtorch dependency.

pub mod config_error;
pub mod contain;
pub mod data;
pub mod device;
pub mod distributed;
pub mod doctor;
pub mod error;
pub mod finetune;
pub mod inputs;
pub mod models;
pub mod optim;
pub mod pretrain;
pub mod report;
pub mod rl;
pub mod script;
pub mod train;

pub use device::{DeviceChoice, Seeds};
pub use error::{Error, Result};
pub use graft_envs as envs;
pub use models::{Encoder, LayerGroup, ModelConfig};
