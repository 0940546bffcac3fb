//! Ground-truth state prediction: regress the low-dimensional simulator state (the dataset's
//! `state` column, stored beside pixel observations) from the image.
//!
//! A supervised "auxiliary task" in the sense of Jaderberg et al. 2017, "Reinforcement
//! Learning with Unsupervised Auxiliary Tasks" (<https://arxiv.org/abs/1611.05397>); the
//! probe form of it is the standard evaluation of state representations (Anand et al. 2019,
//! "Unsupervised State Representation Learning in Atari", <https://arxiv.org/abs/1906.08226>).
//! Targets are standardised per dimension with the dataset's mean and standard deviation so
//! every state variable weighs the same in the mean squared error.

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::{Kind, Tensor};

use crate::error::{Error, Result};
use crate::models::{Encoder, ModelConfig};

use crate::pretrain::base::{check, Head, PretextTask, TaskLoss, ENCODER};
use crate::pretrain::sources::Trajectories;

/// State-prediction hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StatePredictionConfig {
    /// Hidden width of the regression head (0: linear).
    pub hidden: i64,
}

impl Default for StatePredictionConfig {
    fn default() -> Self {
        StatePredictionConfig { hidden: 256 }
    }
}

/// The state-prediction task.
pub struct StatePrediction {
    data: Trajectories,
    encoder: Box<dyn Encoder>,
    head: Head,
    mean: Tensor,
    std: Tensor,
}

/// Mean and standard deviation (floored at 1e-6) of the `state` column over at most 20,000
/// evenly spaced transitions.
pub fn state_stats(data: &Trajectories) -> Result<(Tensor, Tensor)> {
    let n = data.dataset().num_transitions();
    let stride = n.div_ceil(20_000).max(1);
    let idx: Vec<usize> = (0..n).step_by(stride).collect();
    // Straight from the dataset: the frames (and their grayscale/stacking) are not needed.
    let s = data.dataset().batch(&idx, data.device())?.state.ok_or_else(|| no_state(data))?;
    let mean = s.mean_dim(0, false, Kind::Float);
    let std = s.std_dim(0, false, false).clamp_min(1e-6);
    Ok((mean, std))
}

fn no_state(data: &Trajectories) -> Error {
    Error::Dataset {
        path: data.dataset().path().to_path_buf(),
        problem: "it has no 'state' column (collect it with --pixels to store the state beside \
                  the frames)"
            .into(),
    }
}

impl StatePrediction {
    /// Build the encoder and the regression head; fails when the dataset has no `state`.
    pub fn new(
        vs: &nn::VarStore,
        model: &ModelConfig,
        data: Trajectories,
        config: &StatePredictionConfig,
    ) -> Result<Self> {
        check("state_prediction", config.hidden >= 0, || "hidden must be >= 0".into())?;
        let m = data.state_dim().ok_or_else(|| no_state(&data))?;
        let (mean, std) = state_stats(&data)?;
        let root = vs.root();
        let encoder = model.build(&(&root / ENCODER))?;
        let head = Head::new(&(&root / "head"), encoder.output_dim(), config.hidden, m, false);
        Ok(StatePrediction { data, encoder, head, mean, std })
    }
}

impl PretextTask for StatePrediction {
    fn name(&self) -> &'static str {
        "state_prediction"
    }

    fn num_items(&self) -> usize {
        self.data.dataset().num_transitions()
    }

    fn loss(&mut self, indices: &[usize], train: bool) -> Result<TaskLoss> {
        let b = self.data.batch(indices)?;
        let state = b.state.ok_or_else(|| no_state(&self.data))?;
        let target = (state - &self.mean) / &self.std;
        let z = self.encoder.forward_t(&self.data.input(&b.obs), train);
        let pred = self.head.forward_t(&z, train);
        let loss = pred.mse_loss(&target, tch::Reduction::Mean);
        // R² of the standardised targets: 1 − MSE / Var, Var = 1 per dimension.
        let r2 = 1.0 - loss.detach();
        Ok(TaskLoss::new(loss).with("r2", r2))
    }

    fn encoder(&self) -> &dyn Encoder {
        self.encoder.as_ref()
    }
}
