//! [`PretrainConfig`]: a whole pretraining run as data — the task and its hyperparameters,
//! the data, the model, and the trainer's settings. The same struct is filled from JSON (the
//! CLI writes it to `config.json` in the run directory before step 0) and from Rhai maps.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::models::ModelConfig;
use crate::optim::{LrSchedule, OptimizerConfig};

use super::image::{
    byol::ByolConfig, denoising::DenoisingConfig, mae::MaeConfig, rotation::RotationConfig,
    simclr::SimClrConfig,
};
use super::state::{
    behaviour_cloning::BehaviourCloningConfig, forward_prediction::ForwardPredictionConfig,
    inverse_dynamics::InverseDynamicsConfig, sequence::SequenceConfig,
    state_prediction::StatePredictionConfig, temporal_contrastive::TemporalContrastiveConfig,
};

/// Which pretext task to train, with its own hyperparameters; tagged by `task`
/// (`{"task": "simclr", "temperature": 0.5}`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "task", rename_all = "snake_case")]
pub enum TaskConfig {
    /// Predict `a_t` from `(o_t, o_{t+1})` ([`super::state::inverse_dynamics`]).
    InverseDynamics(InverseDynamicsConfig),
    /// SPR-style latent forward prediction ([`super::state::forward_prediction`]).
    ForwardPrediction(ForwardPredictionConfig),
    /// ATC-style temporal contrast ([`super::state::temporal_contrastive`]).
    TemporalContrastive(TemporalContrastiveConfig),
    /// Behaviour cloning ([`super::state::behaviour_cloning`]).
    BehaviourCloning(BehaviourCloningConfig),
    /// Ground-truth state from pixels ([`super::state::state_prediction`]).
    StatePrediction(StatePredictionConfig),
    /// GPT-style next-action modelling over trajectory windows ([`super::state::sequence`]).
    NextAction(SequenceConfig),
    /// BERT-style masked modelling over trajectory windows ([`super::state::sequence`]).
    MaskedAction(SequenceConfig),
    /// Denoising convolutional autoencoder ([`super::image::denoising`]).
    Denoising(DenoisingConfig),
    /// RotNet ([`super::image::rotation`]).
    Rotation(RotationConfig),
    /// SimCLR ([`super::image::simclr`]).
    Simclr(SimClrConfig),
    /// BYOL ([`super::image::byol`]).
    Byol(ByolConfig),
    /// Masked autoencoder for ViT ([`super::image::mae`]).
    Mae(MaeConfig),
}

/// Names accepted by [`TaskConfig::named`] (and `graft pretrain --task`).
pub const TASKS: &[&str] = &[
    "inverse_dynamics",
    "forward_prediction",
    "temporal_contrastive",
    "behaviour_cloning",
    "state_prediction",
    "next_action",
    "masked_action",
    "denoising",
    "rotation",
    "simclr",
    "byol",
    "mae",
];

impl TaskConfig {
    /// The task `name` with its paper's default hyperparameters.
    pub fn named(name: &str) -> crate::Result<Self> {
        Ok(match name {
            "inverse_dynamics" => TaskConfig::InverseDynamics(Default::default()),
            "forward_prediction" => TaskConfig::ForwardPrediction(Default::default()),
            "temporal_contrastive" => TaskConfig::TemporalContrastive(Default::default()),
            "behaviour_cloning" => TaskConfig::BehaviourCloning(Default::default()),
            "state_prediction" => TaskConfig::StatePrediction(Default::default()),
            "next_action" => TaskConfig::NextAction(Default::default()),
            "masked_action" => TaskConfig::MaskedAction(SequenceConfig::masked()),
            "denoising" => TaskConfig::Denoising(Default::default()),
            "rotation" => TaskConfig::Rotation(Default::default()),
            "simclr" => TaskConfig::Simclr(Default::default()),
            "byol" => TaskConfig::Byol(Default::default()),
            "mae" => TaskConfig::Mae(Default::default()),
            _ => {
                return Err(crate::Error::Invalid(format!(
                    "unknown pretext task '{name}'; known: {}",
                    TASKS.join(", ")
                )))
            }
        })
    }

    /// The task's name (the serde tag).
    pub fn name(&self) -> &'static str {
        match self {
            TaskConfig::InverseDynamics(_) => "inverse_dynamics",
            TaskConfig::ForwardPrediction(_) => "forward_prediction",
            TaskConfig::TemporalContrastive(_) => "temporal_contrastive",
            TaskConfig::BehaviourCloning(_) => "behaviour_cloning",
            TaskConfig::StatePrediction(_) => "state_prediction",
            TaskConfig::NextAction(_) => "next_action",
            TaskConfig::MaskedAction(_) => "masked_action",
            TaskConfig::Denoising(_) => "denoising",
            TaskConfig::Rotation(_) => "rotation",
            TaskConfig::Simclr(_) => "simclr",
            TaskConfig::Byol(_) => "byol",
            TaskConfig::Mae(_) => "mae",
        }
    }

    /// Whether the task reads images (an image dataset) rather than trajectories.
    pub fn is_image_task(&self) -> bool {
        matches!(
            self,
            TaskConfig::Denoising(_)
                | TaskConfig::Rotation(_)
                | TaskConfig::Simclr(_)
                | TaskConfig::Byol(_)
                | TaskConfig::Mae(_)
        )
    }
}

/// The optimisation loop's settings (see [`super::trainer`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainerConfig {
    /// Optimisation steps; when `epochs` is set, `steps` is ignored.
    pub steps: u64,
    /// Passes over the data instead of a step count (`epochs * items / batch_size` steps).
    pub epochs: Option<u64>,
    /// Items (transitions, windows or images) per step.
    pub batch_size: usize,
    /// Optimizer and its base learning rate.
    pub optimizer: OptimizerConfig,
    /// Learning-rate schedule, a factor on every base learning rate.
    pub schedule: LrSchedule,
    /// Clip the global gradient norm to this value (the name fine-tuning and the RL agents
    /// use; `grad_clip`, its name before, is still read).
    #[serde(alias = "grad_clip")]
    pub max_grad_norm: Option<f64>,
    /// Log metrics every this many steps (and at the last step).
    pub log_every: u64,
    /// Write a training-state checkpoint every this many steps (0: only at the end).
    pub checkpoint_every: u64,
    /// Seed of everything random in the run: initialisation, data order, augmentations.
    pub seed: u64,
    /// bf16 autocast on CUDA (CPU always computes in f32).
    pub bf16: bool,
    /// Show a progress bar (only drawn when stderr is a terminal).
    pub progress: bool,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        TrainerConfig {
            steps: 1000,
            epochs: None,
            batch_size: 64,
            optimizer: OptimizerConfig::adam(1e-3),
            schedule: LrSchedule::WarmupCosine { warmup_steps: 0, min_factor: 0.0 },
            max_grad_norm: None,
            log_every: 10,
            checkpoint_every: 0,
            seed: 0,
            bf16: true,
            progress: true,
        }
    }
}

/// Where a run's data comes from.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DataConfig {
    /// A trajectory dataset (`.arrow`) for the state-action tasks; for the image tasks an
    /// image tensor file (`.safetensors` with `images` `[N, C, H, W]` uint8 and optional
    /// `labels` `[N]`) or any image dataset `crate::data::images::open` recognises.
    pub path: PathBuf,
    /// Resize images to this square side (needed when an image folder's sizes differ).
    pub image_size: Option<u32>,
    /// Trajectory frames: convert RGB to grayscale (as an RL agent's `pixels.grayscale`).
    pub grayscale: bool,
    /// Trajectory frames: stack the last N frames along the channels (as an RL agent's
    /// `pixels.frame_stack`), so the encoder can see motion.
    pub frame_stack: usize,
}

impl Default for DataConfig {
    fn default() -> Self {
        DataConfig { path: PathBuf::new(), image_size: None, grayscale: false, frame_stack: 1 }
    }
}

impl DataConfig {
    /// The frame options for trajectory datasets.
    pub fn frames(&self) -> crate::pretrain::sources::FrameOptions {
        crate::pretrain::sources::FrameOptions {
            grayscale: self.grayscale,
            stack: self.frame_stack,
        }
    }
}

/// A complete pretraining run.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PretrainConfig {
    /// The pretext task and its hyperparameters.
    pub task: TaskConfig,
    /// The data.
    pub data: DataConfig,
    /// The encoder (its head is dropped; its input shape is fitted to the data).
    pub model: ModelConfig,
    /// The loop.
    pub trainer: TrainerConfig,
    /// Device: `auto`, `cpu`, `cuda`, `cuda:N`.
    pub device: String,
    /// Continue from `checkpoint.safetensors` in the output directory.
    pub resume: bool,
    /// Replace a run already in the output directory (its run files are removed once the
    /// inputs have been validated). Without it or `resume`, such a directory is refused.
    pub overwrite: bool,
}

impl Default for PretrainConfig {
    fn default() -> Self {
        PretrainConfig {
            task: TaskConfig::InverseDynamics(Default::default()),
            data: DataConfig::default(),
            model: ModelConfig::preset("nature_cnn")
                .unwrap_or_else(|_| ModelConfig::Mlp(Default::default())),
            trainer: TrainerConfig::default(),
            device: "auto".into(),
            resume: false,
            overwrite: false,
        }
    }
}

impl PretrainConfig {
    /// Parse a JSON configuration; unknown fields are refused with their name.
    pub fn from_json(json: &str) -> crate::Result<Self> {
        crate::config_error::from_json_str("pretrain config", json)
    }

    /// The configuration as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clipping_norm_reads_under_its_old_name_too() {
        let new: TrainerConfig = serde_json::from_str(r#"{"max_grad_norm": 0.5}"#).unwrap();
        let old: TrainerConfig = serde_json::from_str(r#"{"grad_clip": 0.5}"#).unwrap();
        assert_eq!((new.max_grad_norm, old.max_grad_norm), (Some(0.5), Some(0.5)));
        assert!(serde_json::from_str::<TrainerConfig>(r#"{"grad_clips": 0.5}"#).is_err());
    }
}
