//! Sequence modelling over trajectory windows: observations (through the encoder) and actions
//! become interleaved tokens `(s_1, a_1, s_2, a_2, …)` for a transformer
//! ([`crate::models::gpt`](mod@crate::models::gpt)).
//!
//! - **Next action** (GPT-style, causal): the output at each state token predicts the action
//!   that follows it — next-token modelling of the action stream, as in the Decision
//!   Transformer without returns (Chen et al. 2021, <https://arxiv.org/abs/2106.01345>) and
//!   Radford et al. 2018's generative pretraining.
//! - **Masked** (BERT-style, bidirectional; Devlin et al. 2019,
//!   <https://arxiv.org/abs/1810.04805>): a random `mask_ratio` of all tokens is replaced by
//!   the `[MASK]` embedding, and the actions at masked action tokens are predicted from the
//!   rest of the window — as in Sun et al. 2023, "SMART: Self-supervised Multi-task
//!   pretrAining with contRol Transformers" (<https://arxiv.org/abs/2301.09816>) and Liu et
//!   al. 2022, "Masked Autoencoding for Scalable and Generalizable Decision Making".
//!
//! The exported encoder is the observation encoder; the transformer stays in the training
//! checkpoint.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, ModuleT};
use tch::{Kind, Tensor};

use crate::error::Result;
use crate::models::{gpt, Encoder, Gpt, GptConfig, ModelConfig};

use crate::pretrain::base::{check, PretextTask, TaskLoss, ENCODER};
use crate::pretrain::sources::{ActionKind, Trajectories};

/// Hyperparameters of both sequence tasks.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SequenceConfig {
    /// Steps per window (the transformer sees twice as many tokens).
    pub context: usize,
    /// Fraction of tokens masked (masked task only; BERT: 0.15).
    pub mask_ratio: f64,
    /// The transformer (its `max_len` is set to `2 * context`, `causal` by the task).
    pub gpt: GptConfig,
}

impl Default for SequenceConfig {
    fn default() -> Self {
        SequenceConfig { context: 10, mask_ratio: 0.15, gpt: GptConfig::default() }
    }
}

impl SequenceConfig {
    /// The masked variant's defaults.
    pub fn masked() -> Self {
        SequenceConfig { mask_ratio: 0.15, ..Self::default() }
    }
}

/// How actions become tokens.
enum ActionEmbed {
    Discrete(nn::Embedding),
    Continuous(nn::Linear),
}

/// The next-action (causal) or masked-action (bidirectional) task.
pub struct Sequence {
    data: Trajectories,
    starts: Vec<usize>,
    context: usize,
    mask_ratio: f64,
    masked: bool,
    encoder: Box<dyn Encoder>,
    embed_state: nn::Linear,
    embed_action: ActionEmbed,
    gpt: Gpt,
    predict_action: nn::Linear,
}

impl Sequence {
    /// Build the task; `masked` picks the BERT-style variant.
    pub fn new(
        vs: &nn::VarStore,
        model: &ModelConfig,
        data: Trajectories,
        config: &SequenceConfig,
        masked: bool,
    ) -> Result<Self> {
        let name = if masked { "masked_action" } else { "next_action" };
        check(name, config.context >= 1, || "context must be at least 1".into())?;
        check(name, !masked || (config.mask_ratio > 0.0 && config.mask_ratio < 1.0), || {
            "mask_ratio must be in (0, 1)".into()
        })?;
        let starts = data.window_starts(config.context)?;
        let root = vs.root();
        let encoder = model.build(&(&root / ENCODER))?;
        let gpt_config =
            GptConfig { max_len: 2 * config.context as i64, causal: !masked, ..config.gpt.clone() };
        let w = gpt_config.width;
        let embed_state =
            nn::linear(&root / "embed_state", encoder.output_dim(), w, Default::default());
        let (embed_action, out) = match data.actions() {
            ActionKind::Discrete { n, .. } => (
                ActionEmbed::Discrete(nn::embedding(
                    &root / "embed_action",
                    n,
                    w,
                    Default::default(),
                )),
                n,
            ),
            ActionKind::Continuous { dim } => (
                ActionEmbed::Continuous(nn::linear(
                    &root / "embed_action",
                    dim,
                    w,
                    Default::default(),
                )),
                dim,
            ),
        };
        let gpt = gpt(&(&root / "gpt"), &gpt_config)?;
        let predict_action = nn::linear(&root / "predict_action", w, out, Default::default());
        Ok(Sequence {
            data,
            starts,
            context: config.context,
            mask_ratio: config.mask_ratio,
            masked,
            encoder,
            embed_state,
            embed_action,
            gpt,
            predict_action,
        })
    }
}

impl PretextTask for Sequence {
    fn name(&self) -> &'static str {
        if self.masked {
            "masked_action"
        } else {
            "next_action"
        }
    }

    fn num_items(&self) -> usize {
        self.starts.len()
    }

    fn loss(&mut self, indices: &[usize], train: bool) -> Result<TaskLoss> {
        let (b, l) = (indices.len() as i64, self.context as i64);
        // Step-major order: row j * B + i is step j of window i.
        let rows: Vec<usize> = (0..self.context)
            .flat_map(|j| indices.iter().map(move |&i| (i, j)))
            .map(|(i, j)| self.starts[i] + j)
            .collect();
        let batch = self.data.batch(&rows)?;
        let z = self.encoder.forward_t(&self.data.input(&batch.obs), train); // [L*B, D]
        let s = self.embed_state.forward(&z).view([l, b, -1]).transpose(0, 1); // [B, L, W]
        let targets = self.data.targets(&batch.actions);
        let a = match &self.embed_action {
            ActionEmbed::Discrete(e) => e.forward(&targets),
            ActionEmbed::Continuous(lin) => lin.forward(&targets.to_kind(Kind::Float)),
        };
        let a = a.view([l, b, -1]).transpose(0, 1); // [B, L, W]
        let w = s.size()[2];
        let tokens = Tensor::stack(&[s, a], 2).reshape([b, 2 * l, w]); // (s_1, a_1, s_2, …)
        let targets = match self.data.actions() {
            ActionKind::Discrete { .. } => targets.view([l, b]).transpose(0, 1), // [B, L]
            ActionKind::Continuous { .. } => targets.view([l, b, -1]).transpose(0, 1),
        };
        if !self.masked {
            let h = self.gpt.forward_tokens(&tokens, None, train)?.view([b, l, 2, w]);
            let pred = self.predict_action.forward(&h.select(2, 0)); // from s_t
            return Ok(action_loss(&pred, &targets, None));
        }
        let mask = Tensor::rand([b, 2 * l], (Kind::Float, tokens.device())).lt(self.mask_ratio);
        let h = self.gpt.forward_tokens(&tokens, Some(&mask), train)?.view([b, l, 2, w]);
        let pred = self.predict_action.forward(&h.select(2, 1)); // at a_t's own position
        let action_mask = mask.view([b, l, 2]).select(2, 1);
        Ok(action_loss(&pred, &targets, Some(&action_mask)))
    }

    fn encoder(&self) -> &dyn Encoder {
        self.encoder.as_ref()
    }
}

/// Cross-entropy (discrete, with accuracy) or squared error (continuous) of predictions
/// `[B, L, out]`, averaged over the positions `mask` selects (all when `None`).
fn action_loss(pred: &Tensor, targets: &Tensor, mask: Option<&Tensor>) -> TaskLoss {
    let out = pred.size()[2];
    let weight = match mask {
        Some(m) => m.to_kind(Kind::Float).view([-1]),
        None => Tensor::ones([pred.size()[0] * pred.size()[1]], (Kind::Float, pred.device())),
    };
    let count = weight.sum(Kind::Float).clamp_min(1.0);
    let flat = pred.reshape([-1, out]);
    if targets.kind() == Kind::Int64 {
        let t = targets.reshape([-1]);
        let ce = flat
            .log_softmax(-1, Kind::Float)
            .gather(1, &t.unsqueeze(1), false)
            .squeeze_dim(1)
            .neg();
        let loss = (ce * &weight).sum(Kind::Float) / &count;
        let hit = flat.argmax(-1, false).eq_tensor(&t).to_kind(Kind::Float);
        let acc = (hit * &weight).sum(Kind::Float) / &count;
        TaskLoss::new(loss).with("accuracy", acc)
    } else {
        let se = (flat - targets.reshape([-1, out])).square().mean_dim(1, false, Kind::Float);
        TaskLoss::new((se * &weight).sum(Kind::Float) / count)
    }
}
