//! Inverse dynamics: predict the action `a_t` from the encodings of `o_t` and `o_{t+1}`.
//!
//! Pathak et al. 2017, "Curiosity-driven Exploration by Self-supervised Prediction"
//! (<https://arxiv.org/abs/1705.05363>), §2.2: a siamese encoder φ embeds both observations,
//! and a head maps `[φ(o_t), φ(o_{t+1})]` to the action (cross-entropy for discrete actions;
//! here mean squared error for continuous ones). The features learn what the agent controls.
//!
//! On CartPole frames a single pair of frames shows positions, not the velocity change an
//! action causes (the Euler step moves positions with the old velocity), so with an expert
//! dataset the head also learns the expert's rule from the positions and their difference.
//! That difference is tiny: under the heuristic expert (`src/data/experts.rs`), whose action
//! is dominated by the pole's angular velocity, the pole tip moves ~0.05 px per step at
//! 60×40 (mean absolute pixel change 0.03 grey levels). The information is there — a
//! logistic regression fitted to convergence on the raw grey pixels of `(o_t, o_{t+1})`
//! predicts held-out expert actions at 0.84 (`o_t` alone: 0.50, chance) — but a small
//! Nature CNN trained with Adam (batch 32, lr 1e-3 to 1e-2, up to 5000 steps, 1 or 3
//! grayscale stacked frames) stayed at chance (loss 0.693), so evidence for this task on
//! CartPole frames needs far more than a test's budget (26 Nov 2026, 60×40 frames).

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::Tensor;

use crate::error::Result;
use crate::models::{Encoder, ModelConfig};

use crate::pretrain::base::{check, classification, Head, PretextTask, TaskLoss, ENCODER};
use crate::pretrain::sources::{ActionKind, Trajectories};

/// Inverse-dynamics hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InverseDynamicsConfig {
    /// Hidden width of the action head (ICM: 256).
    pub hidden: i64,
}

impl Default for InverseDynamicsConfig {
    fn default() -> Self {
        InverseDynamicsConfig { hidden: 256 }
    }
}

/// The inverse-dynamics task.
pub struct InverseDynamics {
    data: Trajectories,
    encoder: Box<dyn Encoder>,
    head: Head,
}

impl InverseDynamics {
    /// Build the encoder (under `encoder`) and the action head (under `head`).
    pub fn new(
        vs: &nn::VarStore,
        model: &ModelConfig,
        data: Trajectories,
        config: &InverseDynamicsConfig,
    ) -> Result<Self> {
        check("inverse_dynamics", config.hidden >= 0, || "hidden must be >= 0".into())?;
        let root = vs.root();
        let encoder = model.build(&(&root / ENCODER))?;
        let out = match data.actions() {
            ActionKind::Discrete { n, .. } => n,
            ActionKind::Continuous { dim } => dim,
        };
        let head =
            Head::new(&(&root / "head"), 2 * encoder.output_dim(), config.hidden, out, false);
        Ok(InverseDynamics { data, encoder, head })
    }
}

impl PretextTask for InverseDynamics {
    fn name(&self) -> &'static str {
        "inverse_dynamics"
    }

    fn num_items(&self) -> usize {
        self.data.dataset().num_transitions()
    }

    fn loss(&mut self, indices: &[usize], train: bool) -> Result<TaskLoss> {
        let b = self.data.batch(indices)?;
        let n = indices.len() as i64;
        // One encoder pass over both observations: [2B, ...] → [2B, D].
        let both = Tensor::cat(&[self.data.input(&b.obs), self.data.input(&b.next_obs)], 0);
        let z = self.encoder.forward_t(&both, train);
        let pair = Tensor::cat(&[z.narrow(0, 0, n), z.narrow(0, n, n)], 1); // [B, 2D]
        let pred = self.head.forward_t(&pair, train);
        let targets = self.data.targets(&b.actions);
        Ok(match self.data.actions() {
            ActionKind::Discrete { .. } => classification(&pred, &targets),
            ActionKind::Continuous { .. } => {
                TaskLoss::new(pred.mse_loss(&targets, tch::Reduction::Mean))
            }
        })
    }

    fn encoder(&self) -> &dyn Encoder {
        self.encoder.as_ref()
    }
}
