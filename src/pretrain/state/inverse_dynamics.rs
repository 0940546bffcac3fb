//! Inverse dynamics: predict the action `a_t` from the encodings of `o_t` and `o_{t+1}`.
//!
//! Pathak et al. 2017, "Curiosity-driven Exploration by Self-supervised Prediction"
//! (<https://arxiv.org/abs/1705.05363>), §2.2: a siamese encoder φ embeds both observations,
//! and a head maps `[φ(o_t), φ(o_{t+1})]` to the action (cross-entropy for discrete actions;
//! here mean squared error for continuous ones). The features learn what the agent controls.
//!
//! **CartPole frames** (measured 26 Nov 2026; the figures come from
//! `tests/pretrain_evidence.rs::frames_recipe_sweep`, see benchmarks/RESULTS.md). CartPole's default
//! Euler step moves the positions with the *old* velocities (`x ← x + τ·ẋ`, then
//! `ẋ ← ẋ + τ·ẍ`), so the frame after one step does not depend on the action taken at all:
//! from `(o_t, o_{t+1})` a random policy's actions are at chance (0.50), whatever the
//! network. An action shows one physics step later, so pixel inverse dynamics needs an
//! action repeat k (`graft collect --action-repeat`, the frame skip of pixel control). Held
//! for k steps, push-left and push-right differ in the pole angle by
//! 2τ²·k(k−1)/2·|θ̈_F| (θ̈_F ≈ 14.6 rad/s² for F = 10 N): 0.07 rad for k = 4, about 1 px at the
//! pole tip at 60 px width (the pole is width/4.8 px long). The velocity before the action
//! must be visible too, so frames are stacked. Even then the Euler step hides the action's
//! sign: over three frames the second difference of a position is
//! τ²·a·(k(k−1)/2·u_t + k(k+1)/2·u_{t−1}) (u = ±1 the pushes), dominated by the *previous*
//! push; only its magnitude (16 against 4 for k = 4) tells `u_t`. With true states, a
//! logistic regression on those second differences of (x, θ) gets 0.60 on held-out random
//! episodes and a random forest 0.96; with the semi-implicit integrator (the
//! `kinematics_integrator` kwarg) the sums swap and the linear model gets 0.95.
//!
//! On 60×40 grayscale frames of a random policy with action repeat 4 and 2 stacked frames, a
//! Nature CNN with 64 features, Adam lr 1e-3, batch 32, 600 steps (1,700 transitions)
//! predicts held-out episodes' actions at 0.87 (5 seeds, lowest 0.84); the heuristic
//! expert's episodes give 0.95. One more thing is needed: the frames' white background must
//! not be the input's largest value. From `[0, 1]` frames (background 1) the same runs reach
//! only 0.67 (random; 0.63 on the expert's data, 0.54 to 0.74 by seed); with the CNN's
//! `input_shift` −1 (background 0, objects negative) they learn within a few hundred steps
//! (an independent PyTorch copy, `benchmarks/peers/idm_frames.py`, agrees: 0.88 to 0.90
//! shifted, 0.87 to 0.89 with the inputs standardised, 0.64 to 0.73 raw). Without the
//! repeat, the expert's data gives 0.50 to 0.76 by seed: its actions are then visible only
//! through the expert's rule, in ~0.05 px of motion per step, which is why this task stayed
//! at chance here before (raw 60×40 expert frames, up to 5000 steps).

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
