//! DQN's network ([`QNetwork`]: a zoo torso with a linear or dueling head, acting ε-greedily)
//! and DrQ's image augmentation of sampled batches; the algorithm is in `dqn.rs`.

use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use crate::error::Result;
use crate::rl::dqn::DqnConfig;
use crate::rl::nets::{ObsSpec, Torso};

/// The layer(s) from the torso's features to one Q-value per action.
#[derive(Debug)]
enum QHead {
    /// One linear layer (`head`).
    Linear(nn::Linear),
    /// Value and advantage streams (`value`, `advantage`).
    Dueling { value: nn::Linear, advantage: nn::Linear },
}

/// A Q-network: torso + a linear or dueling head with one output per action.
#[derive(Debug)]
pub struct QNetwork {
    pub(crate) torso: Torso,
    head: QHead,
    n_actions: i64,
}

impl QNetwork {
    /// Build under `p` (`torso`, then `head`, or `value` and `advantage` when dueling).
    pub fn new(p: &nn::Path, cfg: &DqnConfig, obs: &ObsSpec, n_actions: i64) -> Result<Self> {
        let torso = Torso::build(p, "torso", &cfg.torso, obs, &cfg.hidden, cfg.activation)?;
        let d = torso.output_dim();
        let head = if cfg.dueling {
            QHead::Dueling {
                value: nn::linear(p / "value", d, 1, Default::default()),
                advantage: nn::linear(p / "advantage", d, n_actions, Default::default()),
            }
        } else {
            QHead::Linear(nn::linear(p / "head", d, n_actions, Default::default()))
        };
        Ok(QNetwork { torso, head, n_actions })
    }

    /// Q-values, `[B, n_actions]`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        let features = self.torso.forward(x);
        match &self.head {
            QHead::Linear(head) => head.forward(&features),
            QHead::Dueling { value, advantage } => {
                // Centring the advantages makes V and A identifiable (the paper's eq. 9).
                let a = advantage.forward(&features);
                value.forward(&features) + &a - a.mean_dim(1, true, Kind::Float)
            }
        }
    }

    /// ε-greedy actions `[B]`: the greedy one, or with probability `epsilon` (drawn from
    /// libtorch's generator) a uniform one.
    pub fn act(&self, x: &Tensor, epsilon: f64) -> Tensor {
        let greedy = self.forward(x).argmax(1, false);
        if epsilon <= 0.0 {
            return greedy;
        }
        let b = greedy.size()[0];
        let opts = (Kind::Int64, greedy.device());
        let random = Tensor::randint(self.n_actions, [b], opts);
        let explore = Tensor::rand([b], (Kind::Float, greedy.device())).lt(epsilon);
        random.where_self(&explore, &greedy)
    }
}

/// DrQ's augmentation of a batch of images `[B, C, H, W]` (see
/// [`DqnConfig::random_shift_pad`] and [`DqnConfig::intensity_scale`]), from libtorch's
/// generator.
pub fn augment_images(x: &Tensor, shift_pad: usize, intensity_scale: f64) -> Result<Tensor> {
    let shifted = crate::data::augment::random_shift(x, shift_pad)?;
    if intensity_scale <= 0.0 {
        return Ok(shifted);
    }
    let b = x.size()[0];
    let noise = Tensor::randn([b, 1, 1, 1], (Kind::Float, x.device())).clamp(-2.0, 2.0);
    Ok(shifted * (noise * intensity_scale + 1.0))
}
