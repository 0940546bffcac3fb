//! Augmented Temporal Contrast (ATC): an observation `o_t` must pick out the (augmented)
//! observation `k` steps later, `o_{t+k}`, among the other batch items' future observations,
//! as encoded by a momentum encoder.
//!
//! Stooke et al. 2021, "Decoupling Representation Learning from Reinforcement Learning"
//! (<https://arxiv.org/abs/2009.08319>), §3: random shift (pad 4), encoder → compressor
//! (linear + LayerNorm) → residual predictor MLP on the anchor side; the positive goes
//! through the momentum encoder and compressor (τ = 0.01, i.e. momentum 0.99); logits are
//! the bilinear products `c_anchor W c_positiveᵀ`, trained with InfoNCE; `k = 3` on DMControl.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, ModuleT};
use tch::{Kind, Tensor};

use crate::error::Result;
use crate::models::{Encoder, ModelConfig};

use crate::data::augment::random_shift;
use crate::pretrain::base::{
    check, init_target, EmaPairs, Head, PretextTask, TaskLoss, ENCODER, TARGET,
};
use crate::pretrain::losses::info_nce;
use crate::pretrain::sources::Trajectories;

/// ATC hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TemporalContrastiveConfig {
    /// Temporal offset `k` of the positive.
    pub delta: usize,
    /// EMA momentum of the target encoder and compressor.
    pub momentum: f64,
    /// Width of the compressed code.
    pub code_dim: i64,
    /// Hidden width of the residual predictor.
    pub hidden: i64,
    /// Random-shift padding for pixel inputs (0: no augmentation).
    pub shift: i64,
}

impl Default for TemporalContrastiveConfig {
    fn default() -> Self {
        TemporalContrastiveConfig { delta: 3, momentum: 0.99, code_dim: 128, hidden: 512, shift: 4 }
    }
}

/// Linear layer followed by LayerNorm (ATC's compressor).
struct Compressor {
    linear: nn::Linear,
    norm: nn::LayerNorm,
}

impl Compressor {
    fn new(p: &nn::Path, input: i64, output: i64) -> Self {
        Compressor {
            linear: nn::linear(p / "linear", input, output, Default::default()),
            norm: nn::layer_norm(p / "norm", vec![output], Default::default()),
        }
    }
    fn forward(&self, x: &Tensor) -> Tensor {
        self.norm.forward(&self.linear.forward(x))
    }
}

/// The ATC task.
pub struct TemporalContrastive {
    data: Trajectories,
    starts: Vec<usize>,
    config: TemporalContrastiveConfig,
    encoder: Box<dyn Encoder>,
    compressor: Compressor,
    predictor: Head,
    bilinear: Tensor,
    target_encoder: Box<dyn Encoder>,
    target_compressor: Compressor,
    ema: EmaPairs,
}

impl TemporalContrastive {
    /// Build the online and momentum networks and the window index.
    pub fn new(
        vs: &nn::VarStore,
        model: &ModelConfig,
        data: Trajectories,
        config: &TemporalContrastiveConfig,
    ) -> Result<Self> {
        let name = "temporal_contrastive";
        check(name, config.delta >= 1, || "delta must be at least 1".into())?;
        check(name, (0.0..=1.0).contains(&config.momentum), || {
            "momentum must be in [0, 1]".into()
        })?;
        check(name, config.code_dim > 0 && config.hidden > 0, || {
            "code_dim and hidden must be positive".into()
        })?;
        let starts = data.window_starts(config.delta)?;
        let root = vs.root();
        let encoder = model.build(&(&root / ENCODER))?;
        let d = encoder.output_dim();
        let c = config.code_dim;
        let compressor = Compressor::new(&(&root / "compressor"), d, c);
        let predictor = Head::new(&(&root / "predictor"), c, config.hidden, c, false);
        let bilinear = root.var("bilinear", &[c, c], nn::Init::Randn { mean: 0.0, stdev: 0.01 });
        let t = &root / TARGET;
        let target_encoder = model.build(&(&t / ENCODER))?;
        let target_compressor = Compressor::new(&(&t / "compressor"), d, c);
        let ema = init_target(vs, TARGET)?;
        Ok(TemporalContrastive {
            data,
            starts,
            config: config.clone(),
            encoder,
            compressor,
            predictor,
            bilinear,
            target_encoder,
            target_compressor,
            ema,
        })
    }

    fn augment(&self, x: Tensor) -> Result<Tensor> {
        if self.data.is_pixels() && self.config.shift > 0 {
            random_shift(&x, self.config.shift as usize)
        } else {
            Ok(x)
        }
    }
}

impl PretextTask for TemporalContrastive {
    fn name(&self) -> &'static str {
        "temporal_contrastive"
    }

    fn num_items(&self) -> usize {
        self.starts.len()
    }

    fn loss(&mut self, indices: &[usize], train: bool) -> Result<TaskLoss> {
        let anchors: Vec<usize> = indices.iter().map(|&i| self.starts[i]).collect();
        // o_{t+k} is the next observation of transition t + k − 1.
        let last: Vec<usize> = anchors.iter().map(|&t| t + self.config.delta - 1).collect();
        let a = self.data.batch(&anchors)?;
        let p = self.data.batch(&last)?;
        let c = self
            .compressor
            .forward(&self.encoder.forward_t(&self.augment(self.data.input(&a.obs))?, train));
        let c = &c + self.predictor.forward_t(&c, train); // residual predictor
        let x = self.augment(self.data.input(&p.next_obs))?;
        let positive = tch::no_grad(|| {
            self.target_compressor.forward(&self.target_encoder.forward_t(&x, train))
        });
        let logits = c.matmul(&self.bilinear).matmul(&positive.tr()); // [B, B]
        let logits = &logits - logits.amax([1], true).detach();
        Ok(info_nce(&logits.to_kind(Kind::Float)))
    }

    fn after_step(&mut self, _step: u64, _total: u64) -> Result<()> {
        self.ema.update(self.config.momentum);
        Ok(())
    }

    fn encoder(&self) -> &dyn Encoder {
        self.encoder.as_ref()
    }
}
