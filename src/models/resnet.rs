//! ResNet-18/34/50 (He et al. 2016, "Deep Residual Learning for Image Recognition",
//! <https://arxiv.org/abs/1512.03385>), built exactly as torchvision 0.26 builds them —
//! stride on the 3×3 convolution of bottlenecks ("ResNet v1.5"), same initialisation, same
//! `state_dict` keys (`conv1`, `bn1`, `layer{1..4}.{i}.conv{1,2,3}/bn{1,2,3}/downsample.{0,1}`,
//! `fc`) — so torchvision weights exported to safetensors load directly.
//!
//! Two stems: `imagenet` (7×7/2 convolution + 3×3/2 max-pool) and `cifar` (3×3/1 convolution,
//! no max-pool; the usual choice for 32×32 images, as in the paper's section 4.2).
//!
//! Groups: `stem` (conv1, bn1), `layer1` … `layer4`, `head` (fc).

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module, ModuleT};
use tch::Tensor;

use super::base::{
    batch_norm2d, group, kaiming_fan_out, path_prefix, positive, torch_linear, Encoder, LayerGroup,
};
use super::input::InputShape;
use super::norm::BatchNorm2d;
use crate::error::{Error, Result};

/// Residual block type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// Two 3×3 convolutions (ResNet-18/34), expansion 1.
    Basic,
    /// 1×1, 3×3, 1×1 convolutions (ResNet-50 and deeper), expansion 4.
    Bottleneck,
}

impl BlockKind {
    /// Output channels per "planes" of the block.
    pub fn expansion(self) -> i64 {
        match self {
            BlockKind::Basic => 1,
            BlockKind::Bottleneck => 4,
        }
    }
}

/// The first layers, before `layer1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stem {
    /// 7×7 stride-2 convolution, then 3×3 stride-2 max-pool (ImageNet, torchvision).
    Imagenet,
    /// 3×3 stride-1 convolution and no max-pool (CIFAR-sized inputs).
    Cifar,
}

/// ResNet hyperparameters. Defaults: ResNet-18 with 1000 classes, as torchvision's.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResNetConfig {
    /// Block type.
    pub block: BlockKind,
    /// Blocks in `layer1` … `layer4`.
    pub layers: [usize; 4],
    /// Input channels.
    pub in_channels: i64,
    /// Stem variant.
    pub stem: Stem,
    /// Width of the first stage (64 in the paper); stages double it.
    pub base_width: i64,
    /// Classes of the `fc` head; `None` builds features only (global-average-pooled).
    pub num_classes: Option<i64>,
    /// Start every residual branch's last BatchNorm at zero (Goyal et al. 2017).
    pub zero_init_residual: bool,
}

impl Default for ResNetConfig {
    fn default() -> Self {
        ResNetConfig {
            block: BlockKind::Basic,
            layers: [2, 2, 2, 2],
            in_channels: 3,
            stem: Stem::Imagenet,
            base_width: 64,
            num_classes: Some(1000),
            zero_init_residual: false,
        }
    }
}

impl ResNetConfig {
    /// ResNet-18 (11,689,512 parameters with 1000 classes).
    pub fn resnet18() -> Self {
        Self::default()
    }

    /// ResNet-34 (21,797,672 parameters with 1000 classes).
    pub fn resnet34() -> Self {
        ResNetConfig { layers: [3, 4, 6, 3], ..Self::default() }
    }

    /// ResNet-50 (25,557,032 parameters with 1000 classes).
    pub fn resnet50() -> Self {
        ResNetConfig { block: BlockKind::Bottleneck, layers: [3, 4, 6, 3], ..Self::default() }
    }

    /// The same network with the CIFAR stem and `classes` outputs.
    pub fn cifar(self, classes: i64) -> Self {
        ResNetConfig { stem: Stem::Cifar, num_classes: Some(classes), ..self }
    }

    /// Width of the pooled feature vector.
    pub fn feature_dim(&self) -> i64 {
        self.base_width * 8 * self.block.expansion()
    }

    fn validate(&self) -> Result<()> {
        positive("resnet in_channels", self.in_channels)?;
        positive("resnet base_width", self.base_width)?;
        if let Some(n) = self.num_classes {
            positive("resnet num_classes", n)?;
        }
        if self.layers.contains(&0) {
            return Err(Error::Invalid(format!(
                "model config: resnet needs at least one block per stage, got {:?}",
                self.layers
            )));
        }
        Ok(())
    }
}

fn conv(p: nn::Path, i: i64, o: i64, k: i64, stride: i64, padding: i64) -> nn::Conv2D {
    nn::conv2d(
        p,
        i,
        o,
        k,
        nn::ConvConfig {
            stride,
            padding,
            bias: false,
            ws_init: kaiming_fan_out(),
            ..Default::default()
        },
    )
}

#[derive(Debug)]
struct Block {
    convs: Vec<(nn::Conv2D, BatchNorm2d)>,
    downsample: Option<(nn::Conv2D, BatchNorm2d)>,
}

fn block(
    p: nn::Path,
    kind: BlockKind,
    c_in: i64,
    planes: i64,
    stride: i64,
    zero_init: bool,
) -> Block {
    let c_out = planes * kind.expansion();
    let specs: Vec<(i64, i64, i64, i64, i64)> = match kind {
        // (in, out, kernel, stride, padding)
        BlockKind::Basic => vec![(c_in, planes, 3, stride, 1), (planes, planes, 3, 1, 1)],
        BlockKind::Bottleneck => {
            vec![(c_in, planes, 1, 1, 0), (planes, planes, 3, stride, 1), (planes, c_out, 1, 1, 0)]
        }
    };
    let n = specs.len();
    let convs = specs
        .into_iter()
        .enumerate()
        .map(|(i, (ci, co, k, s, pad))| {
            let bn = batch_norm2d(&p / format!("bn{}", i + 1), co);
            if zero_init && i + 1 == n {
                if let Some(w) = &bn.ws {
                    let _ = tch::no_grad(|| w.shallow_clone().fill_(0.0));
                }
            }
            (conv(&p / format!("conv{}", i + 1), ci, co, k, s, pad), bn)
        })
        .collect();
    let downsample = (stride != 1 || c_in != c_out).then(|| {
        let d = &p / "downsample";
        (conv(&d / 0, c_in, c_out, 1, stride, 0), batch_norm2d(&d / 1, c_out))
    });
    Block { convs, downsample }
}

impl Block {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let last = self.convs.len() - 1;
        let mut x = xs.shallow_clone();
        for (i, (conv, bn)) in self.convs.iter().enumerate() {
            x = bn.forward_t(&conv.forward(&x), train);
            if i != last {
                x = x.relu_(); // in place, as torchvision's ReLU(inplace=True)
            }
        }
        let identity = match &self.downsample {
            Some((conv, bn)) => bn.forward_t(&conv.forward(xs), train),
            None => xs.shallow_clone(),
        };
        let mut out = x + identity;
        out.relu_()
    }
}

/// A ResNet.
#[derive(Debug)]
pub struct ResNet {
    conv1: nn::Conv2D,
    bn1: BatchNorm2d,
    stages: Vec<Vec<Block>>,
    fc: Option<nn::Linear>,
    config: ResNetConfig,
    base: String,
}

/// Build a ResNet under `p`.
pub fn resnet(p: &nn::Path, config: &ResNetConfig) -> Result<ResNet> {
    config.validate()?;
    let w = config.base_width;
    let conv1 = match config.stem {
        Stem::Imagenet => conv(p / "conv1", config.in_channels, w, 7, 2, 3),
        Stem::Cifar => conv(p / "conv1", config.in_channels, w, 3, 1, 1),
    };
    let bn1 = batch_norm2d(p / "bn1", w);
    let mut c_in = w;
    let mut stages = Vec::with_capacity(4);
    for (s, &n) in config.layers.iter().enumerate() {
        let planes = w << s;
        let stride = if s == 0 { 1 } else { 2 };
        let lp = p / format!("layer{}", s + 1);
        let blocks = (0..n)
            .map(|i| {
                let b = block(
                    &lp / i,
                    config.block,
                    c_in,
                    planes,
                    if i == 0 { stride } else { 1 },
                    config.zero_init_residual,
                );
                c_in = planes * config.block.expansion();
                b
            })
            .collect();
        stages.push(blocks);
    }
    let fc = config.num_classes.map(|n| torch_linear(p / "fc", c_in, n));
    Ok(ResNet { conv1, bn1, stages, fc, config: config.clone(), base: path_prefix(p) })
}

impl ResNet {
    /// The configuration it was built from.
    pub fn config(&self) -> &ResNetConfig {
        &self.config
    }

    /// The last feature map, before pooling.
    ///
    /// # Shapes
    /// `[B, C, H, W]` → `[B, feature_dim, H/32, W/32]` (ImageNet stem) or `H/8` (CIFAR stem).
    pub fn feature_map(&self, xs: &Tensor, train: bool) -> Tensor {
        let mut x = self.bn1.forward_t(&self.conv1.forward(xs), train);
        let mut x = x.relu_();
        if self.config.stem == Stem::Imagenet {
            x = x.max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false);
        }
        for stage in &self.stages {
            for b in stage {
                x = b.forward_t(&x, train);
            }
        }
        x
    }
}

impl nn::ModuleT for ResNet {
    /// # Shapes
    /// `[B, C, H, W]` → `[B, num_classes]`, or `[B, feature_dim]` without a head.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        let x = self.feature_map(xs, train).adaptive_avg_pool2d([1, 1]).flatten(1, -1); // [B, F]
        match &self.fc {
            Some(fc) => fc.forward(&x),
            None => x,
        }
    }
}

impl Encoder for ResNet {
    fn input_shape(&self) -> Option<InputShape> {
        // Adaptive average pooling ends the network: any side that survives the strides.
        Some(InputShape::AnyImage { channels: self.config.in_channels, min_side: 1 })
    }

    fn output_dim(&self) -> i64 {
        self.config.num_classes.unwrap_or_else(|| self.config.feature_dim())
    }

    fn layer_groups(&self) -> Vec<LayerGroup> {
        let mut groups = vec![group(&self.base, "stem", &["conv1", "bn1"])];
        for s in 1..=4 {
            let name = format!("layer{s}");
            groups.push(group(&self.base, &name, &[name.as_str()]));
        }
        if self.fc.is_some() {
            groups.push(group(&self.base, "head", &["fc"]));
        }
        groups
    }
}
