//! Pretraining: self-supervised (and trajectory-supervised) pretext tasks that train an
//! encoder before fine-tuning or RL.
//!
//! - [`trainer`]: the loop (optimizer and LR schedule from [`crate::optim`], clipping, EMA
//!   targets, bf16 autocast on CUDA, progress bar, metrics, checkpoints with exact resume, a
//!   divergence guard, schedule hooks).
//! - [`base`]: the [`PretextTask`] interface and shared pieces; [`sources`]: trajectory and
//!   image data as tensors; [`losses`]: contrastive losses. Augmentations come from
//!   [`crate::data::augment`] (the loader's, run on tensor batches).
//! - [`state`]: tasks on state-action data (inverse dynamics, SPR-style forward prediction,
//!   ATC-style temporal contrast, behaviour cloning, state prediction, GPT/BERT-style
//!   sequence modelling); [`image`]: tasks on images (denoising autoencoder, RotNet, SimCLR,
//!   BYOL, MAE).
//! - [`probe`]: linear-probe, k-NN, state-R² and action-accuracy evaluation on frozen
//!   features.
//! - [`run()`]: one run from a [`PretrainConfig`] — what the CLI and scripts call.

pub mod base;
pub mod config;
pub mod image;
pub mod losses;
pub mod probe;
pub mod run;
pub mod sources;
pub mod state;
pub mod trainer;

pub use base::{PretextTask, TaskLoss};
pub use config::{DataConfig, PretrainConfig, TaskConfig, TrainerConfig, TASKS};
pub use probe::{probe_control, probe_images, ControlProbe, ImageProbe, ProbeConfig};
pub use run::{export_encoder, prepare, run, Prepared, PretrainOutcome, ENCODER_FILE};
pub use sources::{Images, Trajectories};
