//! SimCLR: two random augmentations of each image must recognise each other among the batch.
//!
//! Chen, Kornblith, Norouzi & Hinton 2020, "A Simple Framework for Contrastive Learning of
//! Visual Representations" (<https://arxiv.org/abs/2002.05709>): two random views of each
//! image ([`ViewConfig`], by default SimCLR's CIFAR-10 recipe — the loader's `simclr_cifar`
//! preset — run on the batch tensor by [`crate::data::augment`]), encoder, projection MLP `g`
//! (hidden ReLU layer, 128 outputs), NT-Xent loss (eq. 1) with temperature 0.5 (the paper's
//! CIFAR-10 setting). The encoder's features before `g` are the representation.

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};

use crate::data::augment::{ViewConfig, Views};
use crate::error::Result;
use crate::models::{Encoder, ModelConfig};
use crate::pretrain::base::{check, Head, PretextTask, TaskLoss, ENCODER};
use crate::pretrain::losses::nt_xent;
use crate::pretrain::sources::Images;

/// SimCLR hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimClrConfig {
    /// NT-Xent temperature τ.
    pub temperature: f64,
    /// Output width of the projection head.
    pub projection_dim: i64,
    /// Hidden width of the projection head (0: the encoder's width).
    pub hidden: i64,
    /// The two views' augmentations (default: [`ViewConfig::simclr_cifar`]).
    pub views: ViewConfig,
}

impl Default for SimClrConfig {
    fn default() -> Self {
        SimClrConfig {
            temperature: 0.5,
            projection_dim: 128,
            hidden: 0,
            views: ViewConfig::simclr_cifar(),
        }
    }
}

/// The SimCLR task.
pub struct SimClr {
    data: Images,
    views: Views,
    factor: f64,
    config: SimClrConfig,
    encoder: Box<dyn Encoder>,
    projection: Head,
}

impl SimClr {
    /// Build the encoder and the projection head.
    pub fn new(
        vs: &nn::VarStore,
        model: &ModelConfig,
        data: Images,
        factor: f64,
        config: &SimClrConfig,
    ) -> Result<Self> {
        check("simclr", config.temperature > 0.0, || "temperature must be positive".into())?;
        check("simclr", config.projection_dim > 0 && config.hidden >= 0, || {
            "bad head widths".into()
        })?;
        let [_, h, w] = data.shape();
        let views = Views::new(&config.views, [h as usize, w as usize])
            .map_err(|e| crate::Error::Invalid(format!("simclr: {e}")))?;
        let root = vs.root();
        let encoder = model.build(&(&root / ENCODER))?;
        let d = encoder.output_dim();
        let hidden = if config.hidden == 0 { d } else { config.hidden };
        let projection =
            Head::new(&(&root / "projection"), d, hidden, config.projection_dim, false);
        Ok(SimClr { data, views, factor, config: config.clone(), encoder, projection })
    }
}

impl PretextTask for SimClr {
    fn name(&self) -> &'static str {
        "simclr"
    }

    fn num_items(&self) -> usize {
        self.data.len()
    }

    fn loss(&mut self, indices: &[usize], train: bool) -> Result<TaskLoss> {
        let x = self.data.unit(indices);
        let b = indices.len() as i64;
        let views = self.views.pair(&x)? * self.factor; // [2B, C, H, W]
        let z = self.projection.forward_t(&self.encoder.forward_t(&views, train), train);
        Ok(nt_xent(&z.narrow(0, 0, b), &z.narrow(0, b, b), self.config.temperature))
    }

    fn encoder(&self) -> &dyn Encoder {
        self.encoder.as_ref()
    }
}
