//! Behaviour cloning: predict the dataset's action from the current observation.
//!
//! Pomerleau 1991, "Efficient Training of Artificial Neural Networks for Autonomous
//! Navigation" (ALVINN); as a pretraining objective for visual RL see e.g. Yang & Nachum
//! 2021, "Representation Matters: Offline Pretraining for Sequential Decision Making"
//! (<https://arxiv.org/abs/2102.05815>). Cross-entropy for discrete actions, mean squared
//! error for continuous ones.

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};

use crate::error::Result;
use crate::models::{Encoder, ModelConfig};

use crate::pretrain::base::{check, classification, Head, PretextTask, TaskLoss, ENCODER};
use crate::pretrain::sources::{ActionKind, Trajectories};

/// Behaviour-cloning hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BehaviourCloningConfig {
    /// Hidden width of the policy head (0: linear head).
    pub hidden: i64,
}

impl Default for BehaviourCloningConfig {
    fn default() -> Self {
        BehaviourCloningConfig { hidden: 256 }
    }
}

/// The behaviour-cloning task.
pub struct BehaviourCloning {
    data: Trajectories,
    encoder: Box<dyn Encoder>,
    head: Head,
}

impl BehaviourCloning {
    /// Build the encoder and the policy head.
    pub fn new(
        vs: &nn::VarStore,
        model: &ModelConfig,
        data: Trajectories,
        config: &BehaviourCloningConfig,
    ) -> Result<Self> {
        check("behaviour_cloning", config.hidden >= 0, || "hidden must be >= 0".into())?;
        let root = vs.root();
        let encoder = model.build(&(&root / ENCODER))?;
        let out = match data.actions() {
            ActionKind::Discrete { n, .. } => n,
            ActionKind::Continuous { dim } => dim,
        };
        let head = Head::new(&(&root / "head"), encoder.output_dim(), config.hidden, out, false);
        Ok(BehaviourCloning { data, encoder, head })
    }
}

impl PretextTask for BehaviourCloning {
    fn name(&self) -> &'static str {
        "behaviour_cloning"
    }

    fn num_items(&self) -> usize {
        self.data.dataset().num_transitions()
    }

    fn loss(&mut self, indices: &[usize], train: bool) -> Result<TaskLoss> {
        let b = self.data.batch(indices)?;
        let z = self.encoder.forward_t(&self.data.input(&b.obs), train);
        let pred = self.head.forward_t(&z, train);
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
