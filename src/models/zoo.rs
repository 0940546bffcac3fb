//! [`ModelConfig`]: any zoo model as data, e.g. `{"kind": "resnet", "layers": [3, 4, 6, 3]}`,
//! built into a boxed [`Encoder`]. This is what checkpoints store in their metadata and what
//! scripts and the CLI pass around; named presets (`"resnet18"`, `"vit_tiny"`, …) cover the
//! standard networks.

use serde::{Deserialize, Serialize};
use tch::nn;

use super::base::Encoder;
use super::cnn::{minatar_cnn, nature_cnn, MinAtarCnnConfig, NatureCnnConfig};
use super::drq_cnn::{drq_cnn, DrqCnnConfig};
use super::impala::{impala_cnn, ImpalaCnnConfig};
use super::inception::{inception_v3, InceptionV3Config};
use super::mlp::{mlp, MlpConfig};
use super::resnet::{resnet, ResNetConfig};
use super::vgg::{vgg, VggConfig};
use super::vit::{vit, VitConfig};
use crate::error::{Error, Result};

/// A zoo model's configuration, tagged by `kind`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ModelConfig {
    /// [`MlpConfig`].
    Mlp(MlpConfig),
    /// [`NatureCnnConfig`].
    NatureCnn(NatureCnnConfig),
    /// [`ImpalaCnnConfig`].
    ImpalaCnn(ImpalaCnnConfig),
    /// [`MinAtarCnnConfig`].
    MinatarCnn(MinAtarCnnConfig),
    /// [`DrqCnnConfig`].
    DrqCnn(DrqCnnConfig),
    /// [`ResNetConfig`].
    Resnet(ResNetConfig),
    /// [`VggConfig`].
    Vgg(VggConfig),
    /// [`VitConfig`].
    Vit(VitConfig),
    /// [`InceptionV3Config`].
    InceptionV3(InceptionV3Config),
}

/// Names accepted by [`ModelConfig::preset`].
pub const PRESETS: &[&str] = &[
    "mlp",
    "nature_cnn",
    "impala_cnn",
    "minatar_cnn",
    "drq_cnn",
    "resnet18",
    "resnet34",
    "resnet50",
    "vgg11",
    "vgg11_bn",
    "vgg16",
    "vgg16_bn",
    "vit_tiny",
    "vit_small",
    "vit_base",
    "vit_b_16",
    "inception_v3",
];

impl ModelConfig {
    /// A named standard network (see [`PRESETS`]) with its default head.
    pub fn preset(name: &str) -> Result<Self> {
        Ok(match name {
            "mlp" => ModelConfig::Mlp(MlpConfig::default()),
            "nature_cnn" => ModelConfig::NatureCnn(NatureCnnConfig::atari()),
            "impala_cnn" => ModelConfig::ImpalaCnn(ImpalaCnnConfig::procgen()),
            "minatar_cnn" => ModelConfig::MinatarCnn(MinAtarCnnConfig::default()),
            "drq_cnn" => ModelConfig::DrqCnn(DrqCnnConfig::default()),
            "resnet18" => ModelConfig::Resnet(ResNetConfig::resnet18()),
            "resnet34" => ModelConfig::Resnet(ResNetConfig::resnet34()),
            "resnet50" => ModelConfig::Resnet(ResNetConfig::resnet50()),
            "vgg11" => ModelConfig::Vgg(VggConfig::vgg11()),
            "vgg11_bn" => ModelConfig::Vgg(VggConfig::vgg11_bn()),
            "vgg16" => ModelConfig::Vgg(VggConfig::vgg16()),
            "vgg16_bn" => ModelConfig::Vgg(VggConfig::vgg16_bn()),
            "vit_tiny" => ModelConfig::Vit(VitConfig::tiny()),
            "vit_small" => ModelConfig::Vit(VitConfig::small()),
            "vit_base" | "vit_b_16" => ModelConfig::Vit(VitConfig::base()),
            "inception_v3" => ModelConfig::InceptionV3(InceptionV3Config::default()),
            _ => {
                return Err(Error::Invalid(format!(
                    "unknown model preset '{name}'; known: {}",
                    PRESETS.join(", ")
                )))
            }
        })
    }

    /// Parse a JSON object such as `{"kind": "vit", "depth": 6}`; unknown fields are refused.
    pub fn from_json(json: &str) -> Result<Self> {
        crate::config_error::from_json_str("model config", json)
    }

    /// The configuration as a JSON string (what checkpoints store).
    pub fn to_json(&self) -> String {
        // Serialising plain data (numbers, strings, enums) into a string cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The `kind` tag, e.g. `"resnet"`.
    pub fn kind(&self) -> &'static str {
        match self {
            ModelConfig::Mlp(_) => "mlp",
            ModelConfig::NatureCnn(_) => "nature_cnn",
            ModelConfig::ImpalaCnn(_) => "impala_cnn",
            ModelConfig::MinatarCnn(_) => "minatar_cnn",
            ModelConfig::DrqCnn(_) => "drq_cnn",
            ModelConfig::Resnet(_) => "resnet",
            ModelConfig::Vgg(_) => "vgg",
            ModelConfig::Vit(_) => "vit",
            ModelConfig::InceptionV3(_) => "inception_v3",
        }
    }

    /// The same model without its classification/action head (features only).
    pub fn without_head(&self) -> Self {
        let mut c = self.clone();
        match &mut c {
            ModelConfig::Mlp(m) => m.num_outputs = None,
            ModelConfig::NatureCnn(m) => m.num_outputs = None,
            ModelConfig::ImpalaCnn(m) => m.num_outputs = None,
            ModelConfig::MinatarCnn(m) => m.num_outputs = None,
            ModelConfig::DrqCnn(m) => m.num_outputs = None,
            ModelConfig::Resnet(m) => m.num_classes = None,
            ModelConfig::Vgg(m) => m.num_classes = None,
            ModelConfig::Vit(m) => m.num_classes = None,
            ModelConfig::InceptionV3(m) => m.num_classes = None,
        }
        c
    }

    /// Build the model under `p`.
    pub fn build(&self, p: &nn::Path) -> Result<Box<dyn Encoder>> {
        super::size::check_buildable(self)?;
        Ok(match self {
            ModelConfig::Mlp(c) => Box::new(mlp(p, c)?),
            ModelConfig::NatureCnn(c) => Box::new(nature_cnn(p, c)?),
            ModelConfig::ImpalaCnn(c) => Box::new(impala_cnn(p, c)?),
            ModelConfig::MinatarCnn(c) => Box::new(minatar_cnn(p, c)?),
            ModelConfig::DrqCnn(c) => Box::new(drq_cnn(p, c)?),
            ModelConfig::Resnet(c) => Box::new(resnet(p, c)?),
            ModelConfig::Vgg(c) => Box::new(vgg(p, c)?),
            ModelConfig::Vit(c) => Box::new(vit(p, c)?),
            ModelConfig::InceptionV3(c) => Box::new(inception_v3(p, c)?),
        })
    }
}
