//! Inception-v3 (Szegedy et al. 2016, "Rethinking the Inception Architecture for Computer
//! Vision", <https://arxiv.org/abs/1512.00567>), built as torchvision 0.26's
//! `inception_v3` builds it — same blocks, same BatchNorm epsilon (0.001), same
//! initialisation and the same `state_dict` keys (`Conv2d_1a_3x3.conv.weight`,
//! `Mixed_6b.branch7x7_2.bn.running_var`, `AuxLogits.fc.bias`, `fc.weight`, …) — so
//! torchvision weights exported to safetensors load strictly.
//!
//! The network: a stem of five convolutions and two max-pools (299 → 35 pixels a side),
//! three Inception-A blocks (`Mixed_5b`–`5d`, 35×35), a grid reduction (`Mixed_6a`, the
//! paper's figure 10), four Inception-C blocks with factorised 7×7 convolutions
//! (`Mixed_6b`–`6e`, 17×17), a second reduction (`Mixed_7a`) and two Inception-E blocks with
//! expanded 1×3 / 3×1 filter banks (`Mixed_7b`, `7c`, 8×8), then global average pooling,
//! dropout and the classifier `fc`. The auxiliary classifier (`AuxLogits`, section 4 of the
//! paper) reads the 17×17 grid after `Mixed_6e`; like torchvision it is only evaluated in
//! training mode, by [`InceptionV3::forward_with_aux`] / [`Encoder::forward_aux`].
//!
//! Sizes: any input of at least 75×75 (torchvision's `min_size`); in training mode with the
//! auxiliary classifier, at least 299×299 (its 5×5 pooling and 5×5 convolution need the
//! full 17×17 grid). Both are checked by [`InceptionV3::check_input_size`].
//!
//! Groups: `stem` (the five `Conv2d_*` layers), one per mixed block (`mixed_5b` …
//! `mixed_7c`), `aux` (after `mixed_6e`, where it attaches), `head` (`fc`).

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::Tensor;

use super::blocks::{
    aux_head, basic_conv, inception_a, inception_b, inception_c, inception_d, inception_e, k,
    linear, max_pool, AuxHead, BasicConv, Mixed,
};
use crate::error::{Error, Result};
use crate::models::base::{group, path_prefix, positive, Encoder, LayerGroup};
use crate::models::input::InputShape;

/// Smallest side the network accepts (torchvision's `min_size`).
pub const MIN_SIDE: i64 = 75;
/// Smallest side the auxiliary classifier accepts in training mode.
pub const MIN_SIDE_WITH_AUX: i64 = 299;
/// Width of the pooled features.
pub const FEATURE_DIM: i64 = 2048;

/// Inception-v3 hyperparameters. Defaults: torchvision's `inception_v3(weights=None)`
/// (1000 classes, auxiliary classifier on, no input transform, dropout 0.5).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InceptionV3Config {
    /// Input channels (3 for torchvision's network; `transform_input` needs 3).
    pub in_channels: i64,
    /// Classes of the `fc` head (and of the auxiliary classifier); `None` builds features
    /// only (the pooled 2048-vector) with no auxiliary classifier.
    pub num_classes: Option<i64>,
    /// Build the auxiliary classifier (`AuxLogits`) after `Mixed_6e`.
    pub aux_logits: bool,
    /// Re-normalise inputs from ImageNet's mean/std to the (x − 0.5)/0.5 scaling the
    /// original Google weights were trained with, as torchvision does for its pretrained
    /// weights (it turns this on when loading them).
    pub transform_input: bool,
    /// Dropout probability before `fc` (applied to the pooled features in training mode,
    /// also when the network is features-only, as torchvision with `fc = Identity`).
    pub dropout: f64,
}

impl Default for InceptionV3Config {
    fn default() -> Self {
        InceptionV3Config {
            in_channels: 3,
            num_classes: Some(1000),
            aux_logits: true,
            transform_input: false,
            dropout: 0.5,
        }
    }
}

impl InceptionV3Config {
    /// torchvision's configuration for its ImageNet weights (`transform_input` on).
    pub fn imagenet() -> Self {
        InceptionV3Config { transform_input: true, ..Self::default() }
    }

    /// Whether the auxiliary classifier is built (it needs a head to predict classes).
    pub fn has_aux(&self) -> bool {
        self.aux_logits && self.num_classes.is_some()
    }

    fn validate(&self) -> Result<()> {
        positive("inception_v3 in_channels", self.in_channels)?;
        if let Some(n) = self.num_classes {
            positive("inception_v3 num_classes", n)?;
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(Error::Invalid(format!(
                "model config: inception_v3 dropout must be in [0, 1), got {}",
                self.dropout
            )));
        }
        if self.transform_input && self.in_channels != 3 {
            return Err(Error::Invalid(format!(
                "model config: inception_v3 transform_input re-normalises RGB and needs \
                 in_channels 3, got {}",
                self.in_channels
            )));
        }
        Ok(())
    }
}

/// The stem's convolutions by torchvision's names, with their output channels and shapes.
const STEM: [(&str, i64); 5] = [
    ("Conv2d_1a_3x3", 32),
    ("Conv2d_2a_3x3", 32),
    ("Conv2d_2b_3x3", 64),
    ("Conv2d_3b_1x1", 80),
    ("Conv2d_4a_3x3", 192),
];

/// The mixed blocks by torchvision's names, input to output.
const MIXED: [&str; 11] = [
    "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c", "Mixed_6d", "Mixed_6e",
    "Mixed_7a", "Mixed_7b", "Mixed_7c",
];

/// Index in [`MIXED`] of the block the auxiliary classifier reads (`Mixed_6e`).
const AUX_AFTER: usize = 7;

/// An Inception-v3 network.
#[derive(Debug)]
pub struct InceptionV3 {
    stem: Vec<BasicConv>,
    mixed: Vec<Mixed>,
    aux: Option<AuxHead>,
    fc: Option<nn::Linear>,
    config: InceptionV3Config,
    base: String,
}

/// Build Inception-v3 under `p`.
pub fn inception_v3(p: &nn::Path, config: &InceptionV3Config) -> Result<InceptionV3> {
    config.validate()?;
    let shapes = [k(3).stride(2), k(3), k(3).pad(1), k(1), k(3)];
    let mut c = config.in_channels;
    let mut stem = Vec::with_capacity(STEM.len());
    for ((name, c_out), s) in STEM.into_iter().zip(shapes) {
        stem.push(basic_conv(p / name, c, c_out, s, 0.1));
        c = c_out;
    }
    let mut mixed = Vec::with_capacity(MIXED.len());
    for name in MIXED {
        let q = p / name;
        let block = match name {
            "Mixed_5b" => inception_a(&q, c, 32),
            "Mixed_5c" | "Mixed_5d" => inception_a(&q, c, 64),
            "Mixed_6a" => inception_b(&q, c),
            "Mixed_6b" => inception_c(&q, c, 128),
            "Mixed_6c" | "Mixed_6d" => inception_c(&q, c, 160),
            "Mixed_6e" => inception_c(&q, c, 192),
            "Mixed_7a" => inception_d(&q, c),
            _ => inception_e(&q, c),
        };
        c = block.out_channels;
        mixed.push(block);
    }
    let aux = match config.num_classes {
        Some(n) if config.aux_logits => Some(aux_head(p / "AuxLogits", n)),
        _ => None,
    };
    let fc = config.num_classes.map(|n| linear(p / "fc", FEATURE_DIM, n, 0.1));
    Ok(InceptionV3 { stem, mixed, aux, fc, config: config.clone(), base: path_prefix(p) })
}

impl InceptionV3 {
    /// The configuration it was built from.
    pub fn config(&self) -> &InceptionV3Config {
        &self.config
    }

    /// The smallest side this network accepts for a forward pass in mode `train`: 75, or
    /// 299 when the auxiliary classifier runs (training mode with `aux_logits`).
    pub fn min_side(&self, train: bool) -> i64 {
        if train && self.aux.is_some() {
            MIN_SIDE_WITH_AUX
        } else {
            MIN_SIDE
        }
    }

    /// Refuse an input batch (`[B, C, H, W]`) this network cannot take in mode `train`, with
    /// a typed error naming the minimum, before libtorch would fail on a shape.
    pub fn check_input_size(&self, xs: &Tensor, train: bool) -> Result<()> {
        let size = xs.size();
        let [_, c, h, w] = size[..] else {
            return Err(Error::ShapeMismatch {
                what: "inception_v3 input (expected [B, C, H, W])".into(),
                expected: vec![-1, self.config.in_channels, MIN_SIDE, MIN_SIDE],
                got: size,
            });
        };
        if c != self.config.in_channels {
            return Err(Error::ShapeMismatch {
                what: "inception_v3 input channels".into(),
                expected: vec![self.config.in_channels],
                got: vec![c],
            });
        }
        let min_side = self.min_side(train);
        if h < min_side || w < min_side {
            let model = if min_side == MIN_SIDE {
                "inception_v3".to_string()
            } else {
                "inception_v3 with its auxiliary classifier in training mode".to_string()
            };
            let data = "the input batch (height, width)".to_string();
            return Err(Error::InputTooSmall { model, min_side, data, got: vec![h, w] });
        }
        Ok(())
    }

    /// torchvision's `_transform_input`: channel `c` becomes `x·(std_c/0.5) + (mean_c−0.5)/0.5`
    /// with ImageNet's mean and std.
    fn transform_input(xs: &Tensor) -> Tensor {
        const MEAN: [f64; 3] = [0.485, 0.456, 0.406];
        const STD: [f64; 3] = [0.229, 0.224, 0.225];
        let channels: Vec<Tensor> = (0..3)
            .map(|c| {
                xs.select(1, c).unsqueeze(1) * (STD[c as usize] / 0.5)
                    + (MEAN[c as usize] - 0.5) / 0.5
            })
            .collect();
        Tensor::cat(&channels, 1)
    }

    /// Logits (or pooled features without a head) and, in training mode with the auxiliary
    /// classifier, its logits — torchvision's `InceptionOutputs`. Inputs smaller than
    /// [`Self::min_side`] are refused.
    ///
    /// # Shapes
    /// `[B, C, H, W]` → (`[B, num_classes]` or `[B, 2048]`, `Some([B, num_classes])` in
    /// training with the auxiliary classifier, else `None`).
    pub fn forward_with_aux(&self, xs: &Tensor, train: bool) -> Result<(Tensor, Option<Tensor>)> {
        self.check_input_size(xs, train)?;
        Ok(self.forward_unchecked(xs, train, true))
    }

    fn forward_unchecked(
        &self,
        xs: &Tensor,
        train: bool,
        with_aux: bool,
    ) -> (Tensor, Option<Tensor>) {
        // Inputs (u8 frames included) in the weights' precision: f32, or f64 after
        // `VarStore::double` (as PyTorch's `model.double()`).
        let kind = self.stem[0].weight_kind();
        let x = if xs.kind() == kind { xs.shallow_clone() } else { xs.to_kind(kind) };
        let mut x = if self.config.transform_input { Self::transform_input(&x) } else { x };
        for (i, conv) in self.stem.iter().enumerate() {
            x = conv.forward_t(&x, train);
            if i == 2 || i == 4 {
                x = max_pool(&x); // after Conv2d_2b (147 → 73) and Conv2d_4a (71 → 35)
            }
        }
        let mut aux = None;
        for (i, block) in self.mixed.iter().enumerate() {
            x = block.forward_t(&x, train);
            if i == AUX_AFTER && train && with_aux {
                aux = self.aux.as_ref().map(|head| head.forward_t(&x, train)); // [B, classes]
            }
        }
        // [B, 2048, h, w] → [B, 2048]
        let x = x.adaptive_avg_pool2d([1, 1]).dropout(self.config.dropout, train).flatten(1, -1);
        let out = match &self.fc {
            Some(fc) => fc.forward(&x),
            None => x,
        };
        (out, aux)
    }
}

impl nn::ModuleT for InceptionV3 {
    /// The main output only (the auxiliary classifier is not evaluated; see
    /// [`InceptionV3::forward_with_aux`]).
    ///
    /// # Shapes
    /// `[B, C, H, W]` (sides ≥ 75) → `[B, num_classes]`, or `[B, 2048]` without a head.
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.forward_unchecked(xs, train, false).0
    }
}

impl Encoder for InceptionV3 {
    fn input_shape(&self) -> Option<InputShape> {
        Some(InputShape::AnyImage { channels: self.config.in_channels, min_side: MIN_SIDE })
    }

    fn output_dim(&self) -> i64 {
        self.config.num_classes.unwrap_or(FEATURE_DIM)
    }

    fn layer_groups(&self) -> Vec<LayerGroup> {
        let stem: Vec<&str> = STEM.iter().map(|(name, _)| *name).collect();
        let mut groups = vec![group(&self.base, "stem", &stem)];
        for (i, name) in MIXED.iter().enumerate() {
            groups.push(group(&self.base, &name.to_lowercase(), &[name]));
            if i == AUX_AFTER && self.aux.is_some() {
                groups.push(group(&self.base, "aux", &["AuxLogits"]));
            }
        }
        if self.fc.is_some() {
            groups.push(group(&self.base, "head", &["fc"]));
        }
        groups
    }

    fn forward_aux(&self, xs: &Tensor, train: bool) -> (Tensor, Option<Tensor>) {
        // Past the auxiliary classifier's minimum it is skipped rather than failing in
        // libtorch; callers that need it check with `check_input_size` first.
        let with_aux = xs.size().iter().rev().take(2).all(|&side| side >= MIN_SIDE_WITH_AUX);
        self.forward_unchecked(xs, train, with_aux)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn sides_below_the_minimum_are_refused_by_name() {
        let vs = nn::VarStore::new(Device::Cpu);
        let model = inception_v3(&vs.root(), &InceptionV3Config::default()).unwrap();
        let small = Tensor::zeros([1, 3, 74, 80], (Kind::Float, Device::Cpu));
        let err = model.forward_with_aux(&small, false).unwrap_err().to_string();
        assert!(err.contains("at least 75x75") && err.contains("[74, 80]"), "{err}");
        // Training with the auxiliary classifier needs the full 299x299.
        let mid = Tensor::zeros([1, 3, 298, 299], (Kind::Float, Device::Cpu));
        let err = model.check_input_size(&mid, true).unwrap_err().to_string();
        assert!(err.contains("at least 299x299"), "{err}");
        assert!(model.check_input_size(&mid, false).is_ok());
        let gray = Tensor::zeros([1, 1, 80, 80], (Kind::Float, Device::Cpu));
        assert!(matches!(model.check_input_size(&gray, false), Err(Error::ShapeMismatch { .. })));
    }

    #[test]
    fn the_smallest_input_runs_and_features_are_2048_wide() {
        let vs = nn::VarStore::new(Device::Cpu);
        let config = InceptionV3Config { num_classes: None, ..Default::default() };
        let model = inception_v3(&vs.root(), &config).unwrap();
        assert!(model.aux.is_none(), "no auxiliary classifier without classes");
        let x = Tensor::rand([2, 3, 75, 75], (Kind::Float, Device::Cpu));
        let (y, aux) = model.forward_with_aux(&x, true).unwrap();
        assert_eq!(y.size(), [2, FEATURE_DIM]);
        assert!(aux.is_none());
    }

    #[test]
    fn bad_configs_are_refused() {
        let vs = nn::VarStore::new(Device::Cpu);
        for config in [
            InceptionV3Config { dropout: 1.0, ..Default::default() },
            InceptionV3Config { num_classes: Some(0), ..Default::default() },
            InceptionV3Config { in_channels: 1, transform_input: true, ..Default::default() },
        ] {
            assert!(matches!(inception_v3(&vs.root(), &config), Err(Error::Invalid(_))));
        }
    }
}
