//! A multi-layer perceptron encoder for vector observations: `Linear → activation` per
//! hidden layer, and an optional linear head. The default (two hidden layers of 64, tanh)
//! is the policy/value network of PPO on classic control (Schulman et al. 2017,
//! "Proximal Policy Optimization Algorithms", <https://arxiv.org/abs/1707.06347>).
//!
//! Keys: `layers.{i}.weight/bias`, `head.weight/bias`. Groups: `layers.0`, …, `head`.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::Tensor;

use super::base::{group, join_key, path_prefix, positive, Encoder, LayerGroup};
use super::input::InputShape;
use crate::error::{Error, Result};

/// A hidden-layer non-linearity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Activation {
    /// `max(x, 0)`.
    Relu,
    /// `tanh(x)`.
    Tanh,
    /// Gaussian error linear unit (exact, erf form).
    Gelu,
}

impl Activation {
    /// Apply the non-linearity.
    pub fn apply(self, xs: &Tensor) -> Tensor {
        match self {
            Activation::Relu => xs.relu(),
            Activation::Tanh => xs.tanh(),
            Activation::Gelu => xs.gelu("none"),
        }
    }
}

/// MLP hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MlpConfig {
    /// Width of the input vector.
    pub input_dim: i64,
    /// Widths of the hidden layers, input to output.
    pub hidden: Vec<i64>,
    /// Non-linearity after every hidden layer.
    pub activation: Activation,
    /// Width of a final linear head (e.g. actions); `None` for features only.
    pub num_outputs: Option<i64>,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig {
            input_dim: 4,
            hidden: vec![64, 64],
            activation: Activation::Tanh,
            num_outputs: None,
        }
    }
}

impl MlpConfig {
    /// Width of the feature vector before the head.
    pub fn feature_dim(&self) -> i64 {
        self.hidden.last().copied().unwrap_or(self.input_dim)
    }

    fn validate(&self) -> Result<()> {
        positive("mlp input_dim", self.input_dim)?;
        for &h in &self.hidden {
            positive("mlp hidden width", h)?;
        }
        if let Some(n) = self.num_outputs {
            positive("mlp num_outputs", n)?;
        }
        if self.hidden.is_empty() && self.num_outputs.is_none() {
            return Err(Error::Invalid(
                "model config: an mlp needs at least one hidden layer or a head".into(),
            ));
        }
        Ok(())
    }
}

/// A multi-layer perceptron.
#[derive(Debug)]
pub struct Mlp {
    layers: Vec<nn::Linear>,
    head: Option<nn::Linear>,
    activation: Activation,
    config: MlpConfig,
    base: String,
}

/// Build an MLP under `p`.
pub fn mlp(p: &nn::Path, config: &MlpConfig) -> Result<Mlp> {
    config.validate()?;
    let mut layers = Vec::with_capacity(config.hidden.len());
    let mut width = config.input_dim;
    for (i, &h) in config.hidden.iter().enumerate() {
        layers.push(nn::linear(p / "layers" / i, width, h, Default::default()));
        width = h;
    }
    let head = config.num_outputs.map(|n| nn::linear(p / "head", width, n, Default::default()));
    Ok(Mlp {
        layers,
        head,
        activation: config.activation,
        config: config.clone(),
        base: path_prefix(p),
    })
}

impl Mlp {
    /// The configuration it was built from.
    pub fn config(&self) -> &MlpConfig {
        &self.config
    }
}

impl nn::ModuleT for Mlp {
    /// # Shapes
    /// `[B, input_dim]` → `[B, output_dim]`.
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        let mut x = xs.shallow_clone();
        for layer in &self.layers {
            x = self.activation.apply(&layer.forward(&x));
        }
        match &self.head {
            Some(head) => head.forward(&x),
            None => x,
        }
    }
}

impl Encoder for Mlp {
    fn input_shape(&self) -> Option<InputShape> {
        Some(InputShape::Vector(self.config.input_dim))
    }

    fn output_dim(&self) -> i64 {
        self.config.num_outputs.unwrap_or_else(|| self.config.feature_dim())
    }

    fn layer_groups(&self) -> Vec<LayerGroup> {
        let mut groups: Vec<LayerGroup> = (0..self.layers.len())
            .map(|i| {
                let name = format!("layers.{i}");
                LayerGroup::new(name.clone(), vec![join_key(&self.base, &name)])
            })
            .collect();
        if self.head.is_some() {
            groups.push(group(&self.base, "head", &["head"]));
        }
        groups
    }
}
