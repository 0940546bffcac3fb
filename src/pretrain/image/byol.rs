//! BYOL: an online network predicts a momentum (EMA) target network's projection of another
//! augmentation of the same image — no negatives.
//!
//! Grill et al. 2020, "Bootstrap Your Own Latent" (<https://arxiv.org/abs/2006.07733>):
//! the paper's asymmetric views ([`ViewConfig::byol`]: SimCLR's crop, flip, jitter and
//! grayscale, blur p 1.0 / 0.1 and solarisation p 0 / 0.2 on the first / second view, run on
//! the batch tensor by [`crate::data::augment`]), projector and predictor MLPs with BatchNorm (paper: 4096 hidden,
//! 256 out; smaller defaults here for small images), loss `2 − 2 cos` symmetrised over the
//! two views, target momentum from τ_base = 0.996 to 1 along a cosine (§3.2).

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};

use crate::data::augment::{ViewConfig, Views};
use crate::error::Result;
use crate::models::{Encoder, ModelConfig};
use crate::pretrain::base::{
    check, cosine_momentum, init_target, EmaPairs, Head, PretextTask, TaskLoss, ENCODER, TARGET,
};
use crate::pretrain::losses::normalized_mse;
use crate::pretrain::sources::Images;

/// BYOL hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ByolConfig {
    /// Base EMA momentum τ_base.
    pub momentum: f64,
    /// Hidden width of projector and predictor.
    pub hidden: i64,
    /// Output width of projector and predictor.
    pub projection_dim: i64,
    /// The two views' augmentations (default: [`ViewConfig::byol`]; fields given in part
    /// keep BYOL's values for the others).
    #[serde(deserialize_with = "byol_views")]
    pub views: ViewConfig,
}

fn byol_views<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<ViewConfig, D::Error> {
    ViewConfig::deserialize_over(d, ViewConfig::byol())
}

impl Default for ByolConfig {
    fn default() -> Self {
        ByolConfig { momentum: 0.996, hidden: 512, projection_dim: 128, views: ViewConfig::byol() }
    }
}

/// The BYOL task.
pub struct Byol {
    data: Images,
    views: Views,
    factor: f64,
    config: ByolConfig,
    encoder: Box<dyn Encoder>,
    projector: Head,
    predictor: Head,
    target_encoder: Box<dyn Encoder>,
    target_projector: Head,
    ema: EmaPairs,
}

impl Byol {
    /// Build the online and target networks.
    pub fn new(
        vs: &nn::VarStore,
        model: &ModelConfig,
        data: Images,
        factor: f64,
        config: &ByolConfig,
    ) -> Result<Self> {
        check("byol", (0.0..=1.0).contains(&config.momentum), || {
            "momentum must be in [0, 1]".into()
        })?;
        check("byol", config.hidden > 0 && config.projection_dim > 0, || {
            "head widths must be positive".into()
        })?;
        let [_, h, w] = data.shape();
        let views = Views::new(&config.views, [h as usize, w as usize])
            .map_err(|e| crate::Error::Invalid(format!("byol: {e}")))?;
        let root = vs.root();
        let encoder = model.build(&(&root / ENCODER))?;
        let d = encoder.output_dim();
        let (h, p) = (config.hidden, config.projection_dim);
        let projector = Head::new(&(&root / "projector"), d, h, p, true);
        let predictor = Head::new(&(&root / "predictor"), p, h, p, true);
        let t = &root / TARGET;
        let target_encoder = model.build(&(&t / ENCODER))?;
        let target_projector = Head::new(&(&t / "projector"), d, h, p, true);
        let ema = init_target(vs, TARGET)?;
        Ok(Byol {
            data,
            views,
            factor,
            config: config.clone(),
            encoder,
            projector,
            predictor,
            target_encoder,
            target_projector,
            ema,
        })
    }
}

impl PretextTask for Byol {
    fn name(&self) -> &'static str {
        "byol"
    }

    fn num_items(&self) -> usize {
        self.data.len()
    }

    fn loss(&mut self, indices: &[usize], train: bool) -> Result<TaskLoss> {
        let x = self.data.unit(indices);
        let b = indices.len() as i64;
        let views = self.views.pair(&x)? * self.factor; // [2B, C, H, W]
        let p = self.predictor.forward_t(
            &self.projector.forward_t(&self.encoder.forward_t(&views, train), train),
            train,
        );
        let z = tch::no_grad(|| {
            self.target_projector.forward_t(&self.target_encoder.forward_t(&views, train), train)
        });
        // View 1's prediction targets view 2's projection and vice versa.
        let loss = normalized_mse(&p.narrow(0, 0, b), &z.narrow(0, b, b))
            + normalized_mse(&p.narrow(0, b, b), &z.narrow(0, 0, b));
        Ok(TaskLoss::new(loss))
    }

    fn after_step(&mut self, step: u64, total: u64) -> Result<()> {
        self.ema.update(cosine_momentum(self.config.momentum, step, total));
        Ok(())
    }

    fn encoder(&self) -> &dyn Encoder {
        self.encoder.as_ref()
    }
}
