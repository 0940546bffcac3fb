//! VGG-11 and VGG-16, with and without BatchNorm (Simonyan & Zisserman 2015, "Very Deep
//! Convolutional Networks for Large-Scale Image Recognition", <https://arxiv.org/abs/1409.1556>,
//! configurations A and D), built as torchvision 0.26 builds them: same initialisation and
//! the same `state_dict` keys — `features.{i}` numbered over every module of the feature
//! stack (conv, BatchNorm, ReLU, max-pool), `classifier.{0,3,6}` for the three linear layers.
//!
//! Groups: `block1` … `block5` (the convolutions between max-pools), `classifier`
//! (classifier.0 and .3), `head` (classifier.6). Without a head the output is the 4096-wide
//! penultimate layer.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::Tensor;

use super::base::{
    batch_norm2d, join_key, kaiming_fan_out, path_prefix, positive, Encoder, LayerGroup,
};
use super::input::InputShape;
use super::norm::BatchNorm2d;
use crate::error::{Error, Result};

/// VGG hyperparameters. Defaults: VGG-16 without BatchNorm, 1000 classes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VggConfig {
    /// Output channels of each 3×3 convolution; `0` marks a 2×2 max-pool.
    pub layers: Vec<i64>,
    /// Insert BatchNorm after every convolution.
    pub batch_norm: bool,
    /// Input channels.
    pub in_channels: i64,
    /// Side of the adaptive average pool before the classifier (7 in torchvision).
    pub pool_size: i64,
    /// Width of the two hidden classifier layers (4096).
    pub hidden: i64,
    /// Dropout probability in the classifier (active only when training).
    pub dropout: f64,
    /// Classes of the last layer; `None` builds up to the penultimate layer.
    pub num_classes: Option<i64>,
}

const CFG_A: &[i64] = &[64, 0, 128, 0, 256, 256, 0, 512, 512, 0, 512, 512, 0];
const CFG_D: &[i64] =
    &[64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0];

impl Default for VggConfig {
    fn default() -> Self {
        VggConfig {
            layers: CFG_D.to_vec(),
            batch_norm: false,
            in_channels: 3,
            pool_size: 7,
            hidden: 4096,
            dropout: 0.5,
            num_classes: Some(1000),
        }
    }
}

impl VggConfig {
    /// VGG-11 (configuration A): 132,863,336 parameters.
    pub fn vgg11() -> Self {
        VggConfig { layers: CFG_A.to_vec(), ..Self::default() }
    }

    /// VGG-11 with BatchNorm: 132,868,840 parameters.
    pub fn vgg11_bn() -> Self {
        VggConfig { batch_norm: true, ..Self::vgg11() }
    }

    /// VGG-16 (configuration D): 138,357,544 parameters.
    pub fn vgg16() -> Self {
        Self::default()
    }

    /// VGG-16 with BatchNorm: 138,365,992 parameters.
    pub fn vgg16_bn() -> Self {
        VggConfig { batch_norm: true, ..Self::default() }
    }

    /// Channels of the last convolution.
    pub fn conv_channels(&self) -> i64 {
        self.layers.iter().rev().copied().find(|&c| c > 0).unwrap_or(self.in_channels)
    }

    fn validate(&self) -> Result<()> {
        positive("vgg in_channels", self.in_channels)?;
        positive("vgg pool_size", self.pool_size)?;
        positive("vgg hidden", self.hidden)?;
        if let Some(n) = self.num_classes {
            positive("vgg num_classes", n)?;
        }
        if self.layers.iter().any(|&c| c < 0) || !self.layers.iter().any(|&c| c > 0) {
            return Err(Error::Invalid(format!(
                "model config: vgg layers must be positive channel counts or 0 (max-pool), with at least one convolution; got {:?}",
                self.layers
            )));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Invalid(format!(
                "model config: vgg dropout must be in [0, 1), got {}",
                self.dropout
            )));
        }
        Ok(())
    }
}

#[derive(Debug)]
enum Feature {
    Conv(Box<(nn::Conv2D, Option<BatchNorm2d>)>),
    Pool,
}

/// A VGG network.
#[derive(Debug)]
pub struct Vgg {
    features: Vec<Feature>,
    fc1: nn::Linear,
    fc2: nn::Linear,
    head: Option<nn::Linear>,
    /// `features.{i}` key of every convolution, and the block it belongs to.
    conv_keys: Vec<(usize, String)>,
    config: VggConfig,
    base: String,
}

fn linear(p: nn::Path, i: i64, o: i64) -> nn::Linear {
    nn::linear(
        p,
        i,
        o,
        nn::LinearConfig {
            ws_init: nn::Init::Randn { mean: 0.0, stdev: 0.01 },
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        },
    )
}

/// Build a VGG network under `p`.
pub fn vgg(p: &nn::Path, config: &VggConfig) -> Result<Vgg> {
    config.validate()?;
    let fp = p / "features";
    let mut features = Vec::new();
    let mut conv_keys = Vec::new();
    let mut index = 0usize; // torchvision's module index inside `features`
    let mut block = 0usize;
    let mut c_in = config.in_channels;
    for &c in &config.layers {
        if c == 0 {
            features.push(Feature::Pool);
            index += 1;
            block += 1;
            continue;
        }
        let conv = nn::conv2d(
            &fp / index,
            c_in,
            c,
            3,
            nn::ConvConfig {
                padding: 1,
                ws_init: kaiming_fan_out(),
                bs_init: nn::Init::Const(0.0),
                ..Default::default()
            },
        );
        conv_keys.push((block, index.to_string()));
        let bn = if config.batch_norm {
            conv_keys.push((block, (index + 1).to_string()));
            Some(batch_norm2d(&fp / (index + 1), c))
        } else {
            None
        };
        index += if config.batch_norm { 3 } else { 2 };
        features.push(Feature::Conv(Box::new((conv, bn))));
        c_in = c;
    }
    let cp = p / "classifier";
    let flat = c_in * config.pool_size * config.pool_size;
    Ok(Vgg {
        features,
        fc1: linear(&cp / 0, flat, config.hidden),
        fc2: linear(&cp / 3, config.hidden, config.hidden),
        head: config.num_classes.map(|n| linear(&cp / 6, config.hidden, n)),
        conv_keys,
        config: config.clone(),
        base: path_prefix(p),
    })
}

impl nn::ModuleT for Vgg {
    /// # Shapes
    /// `[B, C, H, W]` → `[B, num_classes]`, or `[B, hidden]` without a head.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut x = xs.shallow_clone();
        for f in &self.features {
            x = match f {
                Feature::Conv(layer) => {
                    let (conv, bn) = layer.as_ref();
                    let y = conv.forward(&x);
                    match bn {
                        Some(bn) => bn.forward_t(&y, train),
                        None => y,
                    }
                    .relu()
                }
                Feature::Pool => x.max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false),
            };
        }
        let s = self.config.pool_size;
        let x = x.adaptive_avg_pool2d([s, s]).flatten(1, -1); // [B, C*s*s]
        let p = self.config.dropout;
        let x = self.fc1.forward(&x).relu().dropout(p, train);
        let x = self.fc2.forward(&x).relu().dropout(p, train); // [B, hidden]
        match &self.head {
            Some(head) => head.forward(&x),
            None => x,
        }
    }
}

impl Encoder for Vgg {
    fn input_shape(&self) -> Option<InputShape> {
        // Each 2x2 max-pool halves the sides; adaptive pooling takes whatever is left.
        let pools = self.config.layers.iter().filter(|&&l| l == 0).count().min(30) as u32;
        Some(InputShape::AnyImage { channels: self.config.in_channels, min_side: 1 << pools })
    }

    fn output_dim(&self) -> i64 {
        self.config.num_classes.unwrap_or(self.config.hidden)
    }

    fn layer_groups(&self) -> Vec<LayerGroup> {
        let blocks = self.conv_keys.iter().map(|(b, _)| b + 1).max().unwrap_or(0);
        let mut groups: Vec<LayerGroup> = (0..blocks)
            .map(|b| {
                let prefixes = self
                    .conv_keys
                    .iter()
                    .filter(|(kb, _)| *kb == b)
                    .map(|(_, i)| join_key(&self.base, &format!("features.{i}")))
                    .collect();
                LayerGroup::new(format!("block{}", b + 1), prefixes)
            })
            .filter(|g| !g.prefixes.is_empty())
            .collect();
        groups.push(LayerGroup::new(
            "classifier",
            vec![join_key(&self.base, "classifier.0"), join_key(&self.base, "classifier.3")],
        ));
        if self.head.is_some() {
            groups.push(LayerGroup::new("head", vec![join_key(&self.base, "classifier.6")]));
        }
        groups
    }
}
