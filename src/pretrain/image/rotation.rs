//! RotNet: predict which of four rotations (0°, 90°, 180°, 270°) was applied to an image.
//!
//! Gidaris, Singh & Komodakis 2018, "Unsupervised Representation Learning by Predicting
//! Image Rotations" (<https://arxiv.org/abs/1803.07728>): every image of the batch is shown
//! in all four rotations at once (the paper found this better than one random rotation), and
//! a classifier on the features predicts the rotation with cross-entropy.

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::{Kind, Tensor};

use crate::data::augment::rot90;
use crate::error::Result;
use crate::models::{Encoder, ModelConfig};
use crate::pretrain::base::{check, classification, Head, PretextTask, TaskLoss, ENCODER};
use crate::pretrain::sources::Images;

/// RotNet hyperparameters.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RotationConfig {
    /// Hidden width of the rotation classifier (0, the default: linear, as the paper's
    /// classifier on top of the feature layer).
    pub hidden: i64,
}

/// The RotNet task.
pub struct Rotation {
    data: Images,
    factor: f64,
    encoder: Box<dyn Encoder>,
    head: Head,
}

impl Rotation {
    /// Build the encoder and the 4-way classifier; images must be square.
    pub fn new(
        vs: &nn::VarStore,
        model: &ModelConfig,
        data: Images,
        factor: f64,
        config: &RotationConfig,
    ) -> Result<Self> {
        let [_, h, w] = data.shape();
        check("rotation", h == w, || format!("images must be square to rotate, got {h}x{w}"))?;
        check("rotation", config.hidden >= 0, || "hidden must be >= 0".into())?;
        let root = vs.root();
        let encoder = model.build(&(&root / ENCODER))?;
        let head = Head::new(&(&root / "head"), encoder.output_dim(), config.hidden, 4, false);
        Ok(Rotation { data, factor, encoder, head })
    }
}

impl PretextTask for Rotation {
    fn name(&self) -> &'static str {
        "rotation"
    }

    fn num_items(&self) -> usize {
        self.data.len()
    }

    fn loss(&mut self, indices: &[usize], train: bool) -> Result<TaskLoss> {
        let x = self.data.unit(indices);
        let b = indices.len() as i64;
        let views: Vec<Tensor> = (0..4).map(|k| rot90(&x, k)).collect();
        let x4 = Tensor::cat(&views, 0) * self.factor; // [4B, C, H, W]
        let labels =
            Tensor::arange(4, (Kind::Int64, x.device())).repeat_interleave_self_int(b, 0, None);
        let logits = self.head.forward_t(&self.encoder.forward_t(&x4, train), train);
        Ok(classification(&logits, &labels))
    }

    fn encoder(&self) -> &dyn Encoder {
        self.encoder.as_ref()
    }
}
