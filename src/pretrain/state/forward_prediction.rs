//! Latent forward prediction, SPR-style: from the encoding of `o_t` and the actions
//! `a_t … a_{t+K−1}`, a transition model rolls the latent state forward `K` steps, and each
//! predicted latent must match (in cosine similarity, after projection and prediction heads)
//! the projection of `o_{t+k}` by a momentum (EMA) target encoder.
//!
//! Schwarzer et al. 2021, "Data-Efficient Reinforcement Learning with Self-Predictive
//! Representations" (<https://arxiv.org/abs/2007.05929>), §2.2: K = 5, target momentum
//! τ = 0.99 when not augmenting; loss `Σ_k −cos(ŷ_{t+k}, ỹ_{t+k})` (here the equivalent
//! `2 − 2 cos`, averaged over k). The transition model works on the flat feature vector (the
//! paper's is convolutional over the spatial map) so that any zoo encoder can be used.

use serde::{Deserialize, Serialize};
use tch::nn::{self, ModuleT};
use tch::{Kind, Tensor};

use crate::error::Result;
use crate::models::{Encoder, ModelConfig};

use crate::data::augment::random_shift;
use crate::pretrain::base::{
    check, init_target, EmaPairs, Head, PretextTask, TaskLoss, ENCODER, TARGET,
};
use crate::pretrain::losses::normalized_mse;
use crate::pretrain::sources::{ActionKind, Trajectories};

/// SPR hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ForwardPredictionConfig {
    /// Prediction horizon K.
    pub horizon: usize,
    /// EMA momentum of the target encoder and projection.
    pub momentum: f64,
    /// Width of the projection.
    pub projection_dim: i64,
    /// Hidden width of the transition model.
    pub hidden: i64,
    /// Random-shift padding for pixel inputs (0: no augmentation).
    pub shift: i64,
}

impl Default for ForwardPredictionConfig {
    fn default() -> Self {
        ForwardPredictionConfig {
            horizon: 5,
            momentum: 0.99,
            projection_dim: 128,
            hidden: 256,
            shift: 4,
        }
    }
}

/// The SPR task.
pub struct ForwardPrediction {
    data: Trajectories,
    starts: Vec<usize>,
    config: ForwardPredictionConfig,
    encoder: Box<dyn Encoder>,
    transition: Head,
    projection: Head,
    predictor: Head,
    target_encoder: Box<dyn Encoder>,
    target_projection: Head,
    ema: EmaPairs,
    action_dim: i64,
}

impl ForwardPrediction {
    /// Build the online networks, their EMA targets (under `target`) and the window index.
    pub fn new(
        vs: &nn::VarStore,
        model: &ModelConfig,
        data: Trajectories,
        config: &ForwardPredictionConfig,
    ) -> Result<Self> {
        let name = "forward_prediction";
        check(name, config.horizon >= 1, || "horizon must be at least 1".into())?;
        check(name, (0.0..=1.0).contains(&config.momentum), || {
            "momentum must be in [0, 1]".into()
        })?;
        check(name, config.projection_dim > 0 && config.hidden > 0, || {
            "projection_dim and hidden must be positive".into()
        })?;
        let starts = data.window_starts(config.horizon)?;
        let root = vs.root();
        let encoder = model.build(&(&root / ENCODER))?;
        let d = encoder.output_dim();
        let action_dim = match data.actions() {
            ActionKind::Discrete { n, .. } => n,
            ActionKind::Continuous { dim } => dim,
        };
        let p = config.projection_dim;
        let transition =
            Head::new(&(&root / "transition"), d + action_dim, config.hidden, d, false);
        let projection = Head::new(&(&root / "projection"), d, 0, p, false);
        let predictor = Head::new(&(&root / "predictor"), p, 0, p, false);
        let t = &root / TARGET;
        let target_encoder = model.build(&(&t / ENCODER))?;
        let target_projection = Head::new(&(&t / "projection"), d, 0, p, false);
        let ema = init_target(vs, TARGET)?;
        Ok(ForwardPrediction {
            data,
            starts,
            config: config.clone(),
            encoder,
            transition,
            projection,
            predictor,
            target_encoder,
            target_projection,
            ema,
            action_dim,
        })
    }

    fn augment(&self, x: Tensor) -> Result<Tensor> {
        if self.data.is_pixels() && self.config.shift > 0 {
            random_shift(&x, self.config.shift as usize)
        } else {
            Ok(x)
        }
    }

    fn action_input(&self, actions: &Tensor) -> Tensor {
        match self.data.actions() {
            ActionKind::Discrete { .. } => {
                self.data.targets(actions).one_hot(self.action_dim).to_kind(Kind::Float)
            }
            ActionKind::Continuous { .. } => actions.to_kind(Kind::Float),
        }
    }
}

impl PretextTask for ForwardPrediction {
    fn name(&self) -> &'static str {
        "forward_prediction"
    }

    fn num_items(&self) -> usize {
        self.starts.len()
    }

    fn loss(&mut self, indices: &[usize], train: bool) -> Result<TaskLoss> {
        let k = self.config.horizon;
        let first: Vec<usize> = indices.iter().map(|&i| self.starts[i]).collect();
        let mut z = {
            let b = self.data.batch(&first)?;
            self.encoder.forward_t(&self.augment(self.data.input(&b.obs))?, train)
        };
        let mut total = Tensor::zeros([], (Kind::Float, z.device()));
        for j in 0..k {
            let step: Vec<usize> = first.iter().map(|&t| t + j).collect();
            let b = self.data.batch(&step)?;
            let za = Tensor::cat(&[z, self.action_input(&b.actions)], 1);
            z = self.transition.forward_t(&za, train);
            let pred = self.predictor.forward_t(&self.projection.forward_t(&z, train), train);
            let next = self.augment(self.data.input(&b.next_obs))?;
            let target = tch::no_grad(|| {
                self.target_projection
                    .forward_t(&self.target_encoder.forward_t(&next, train), train)
            });
            total += normalized_mse(&pred, &target);
        }
        Ok(TaskLoss::new(total / k as f64))
    }

    fn after_step(&mut self, _step: u64, _total: u64) -> Result<()> {
        self.ema.update(self.config.momentum);
        Ok(())
    }

    fn encoder(&self) -> &dyn Encoder {
        self.encoder.as_ref()
    }
}
