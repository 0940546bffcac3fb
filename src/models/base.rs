//! The [`Encoder`] interface every zoo model implements, its ordered layer groups, and the
//! pieces shared by the model files (a linear head attachable to any encoder, path helpers,
//! initialisers matching PyTorch's).
//!
//! An encoder is a `tch` [`nn::ModuleT`] (its `train` flag switches BatchNorm between batch
//! and running statistics and turns dropout on or off) that also says how wide its output is
//! and how its parameters split into named, ordered **layer groups** — the unit fine-tuning
//! schedules freeze, unfreeze and give learning rates to (Howard & Ruder 2018, "Universal
//! Language Model Fine-tuning", <https://arxiv.org/abs/1801.06146>, gradual unfreezing and
//! discriminative learning rates). A group is a list of VarStore key prefixes, so a group
//! can be mapped to tensors with [`LayerGroup::matches`].

use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use super::input::InputShape;
use super::norm::BatchNorm2d;
use crate::error::{Error, Result};

/// A named group of layers: every VarStore key starting with one of `prefixes` (followed by
/// `.` or ending there) belongs to it. Groups are listed input to output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerGroup {
    /// The group's name, e.g. `stem`, `layer3`, `blocks.7`, `head`.
    pub name: String,
    /// Full VarStore key prefixes, e.g. `encoder.layer3`.
    pub prefixes: Vec<String>,
}

impl LayerGroup {
    /// A group named `name` holding the given key prefixes.
    pub fn new(name: impl Into<String>, prefixes: Vec<String>) -> Self {
        LayerGroup { name: name.into(), prefixes }
    }

    /// Whether VarStore key `key` belongs to this group.
    pub fn matches(&self, key: &str) -> bool {
        self.prefixes.iter().any(|p| key_has_prefix(key, p))
    }
}

/// `key` equals `prefix` or continues it with a `.`; the empty prefix matches everything.
pub fn key_has_prefix(key: &str, prefix: &str) -> bool {
    prefix.is_empty()
        || key == prefix
        || (key.len() > prefix.len()
            && key.starts_with(prefix)
            && key.as_bytes()[prefix.len()] == b'.')
}

/// A network that maps inputs to feature vectors (or logits, when built with a head), with
/// the two things `tch` lacks: its output width and its ordered layer groups.
///
/// `forward_t(xs, train)`: `train = true` uses batch statistics in BatchNorm (and updates the
/// running ones) and enables dropout; `train = false` is inference.
pub trait Encoder: nn::ModuleT {
    /// Width of the vector `forward_t` returns per example (`[B, output_dim]`).
    fn output_dim(&self) -> i64;
    /// Layer groups, input to output; together they cover every VarStore key of the model.
    fn layer_groups(&self) -> Vec<LayerGroup>;
    /// The shape of one example the input layer takes, where the model knows it (every zoo
    /// model does); checked by [`super::input::check_input`] where data meets the model.
    fn input_shape(&self) -> Option<InputShape> {
        None
    }
    /// The output and, for networks with an auxiliary classifier (Inception-v3) in training
    /// mode, its logits, which a training loop adds to the loss with a small weight. Other
    /// networks return `(forward_t(xs, train), None)`.
    fn forward_aux(&self, xs: &Tensor, train: bool) -> (Tensor, Option<Tensor>) {
        (self.forward_t(xs, train), None)
    }
}

impl nn::ModuleT for Box<dyn Encoder> {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        (**self).forward_t(xs, train)
    }
}

impl Encoder for Box<dyn Encoder> {
    fn output_dim(&self) -> i64 {
        (**self).output_dim()
    }
    fn layer_groups(&self) -> Vec<LayerGroup> {
        (**self).layer_groups()
    }
    fn input_shape(&self) -> Option<InputShape> {
        (**self).input_shape()
    }
    fn forward_aux(&self, xs: &Tensor, train: bool) -> (Tensor, Option<Tensor>) {
        (**self).forward_aux(xs, train)
    }
}

/// An encoder with a new linear head on top: how a features-only encoder (built with
/// `num_classes: None`) gets a task-specific output layer. The head is its own layer group,
/// `head`, placed last.
#[derive(Debug)]
pub struct WithHead<E: Encoder> {
    /// The encoder underneath.
    pub encoder: E,
    /// The new output layer, `[encoder.output_dim()] -> [out_dim]`.
    pub head: nn::Linear,
    head_prefix: String,
    out_dim: i64,
}

/// Put a fresh linear head of width `out_dim` on `encoder`, its parameters under `p`
/// (e.g. `&root / "head"`).
pub fn attach_head<E: Encoder>(p: &nn::Path, encoder: E, out_dim: i64) -> Result<WithHead<E>> {
    positive("head output width", out_dim)?;
    super::size::check_head(encoder.output_dim(), out_dim)?;
    let head = nn::linear(p, encoder.output_dim(), out_dim, Default::default());
    Ok(WithHead { head_prefix: path_prefix(p), out_dim, encoder, head })
}

impl<E: Encoder> nn::ModuleT for WithHead<E> {
    fn forward_t(&self, xs: &Tensor, train: bool) -> Tensor {
        self.head.forward(&self.encoder.forward_t(xs, train))
    }
}

impl<E: Encoder> Encoder for WithHead<E> {
    fn output_dim(&self) -> i64 {
        self.out_dim
    }
    fn layer_groups(&self) -> Vec<LayerGroup> {
        let mut groups: Vec<LayerGroup> =
            self.encoder.layer_groups().into_iter().filter(|g| g.name != "head").collect();
        groups.push(LayerGroup::new("head", vec![self.head_prefix.clone()]));
        groups
    }
    fn input_shape(&self) -> Option<InputShape> {
        self.encoder.input_shape()
    }
}

/// The VarStore key prefix of path `p` (`""` at the root).
pub fn path_prefix(p: &nn::Path) -> String {
    p.components().collect::<Vec<_>>().join(".")
}

/// `base.name`, or `name` when `base` is the root.
pub fn join_key(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else {
        format!("{base}.{name}")
    }
}

/// A layer group of the sub-paths `names` under `base`.
pub(crate) fn group(base: &str, name: &str, names: &[&str]) -> LayerGroup {
    LayerGroup::new(name, names.iter().map(|n| join_key(base, n)).collect())
}

/// Refuse a non-positive size in a model configuration.
pub(crate) fn positive(what: &str, value: i64) -> Result<()> {
    if value <= 0 {
        return Err(Error::Invalid(format!("model config: {what} must be positive, got {value}")));
    }
    Ok(())
}

/// Output size of a convolution or pooling along one axis.
pub(crate) fn conv_out(size: i64, kernel: i64, stride: i64, padding: i64) -> i64 {
    (size + 2 * padding - kernel) / stride + 1
}

/// Convert the input to `f32`, then `x · factor + shift` (`factor` 1/255 for `u8` frames;
/// `shift` −1 then puts a white background at 0). The caller's tensor is never written to.
pub(crate) fn scale_input(xs: &Tensor, factor: f64, shift: f64) -> Tensor {
    let x = if xs.kind() == Kind::Float { xs.shallow_clone() } else { xs.to_kind(Kind::Float) };
    let x = if factor == 1.0 { x } else { x * factor };
    // A new tensor, not `+=`: with `factor` 1 `x` shares the caller's storage.
    if shift == 0.0 {
        x
    } else {
        x + shift
    }
}

/// Refuse a non-finite input shift (`what` names the model and key).
pub(crate) fn finite_shift(what: &str, shift: f64) -> Result<()> {
    if !shift.is_finite() {
        return Err(Error::Invalid(format!(
            "model config: {what} must be a finite number, got {shift}"
        )));
    }
    Ok(())
}

/// PyTorch's `kaiming_normal_(mode="fan_out", nonlinearity="relu")`, which torchvision uses
/// for every convolution of ResNet and VGG.
pub(crate) fn kaiming_fan_out() -> nn::Init {
    nn::Init::Kaiming {
        dist: nn::init::NormalOrUniform::Normal,
        fan: nn::init::FanInOut::FanOut,
        non_linearity: nn::init::NonLinearity::ReLU,
    }
}

/// PyTorch's default `nn.Linear` initialisation (weight and bias U(±1/√fan_in)); tch's
/// default weight bound is √6 times wider.
pub(crate) fn torch_linear(p: nn::Path, in_dim: i64, out_dim: i64) -> nn::Linear {
    let bound = 1.0 / (in_dim as f64).sqrt();
    let init = nn::Init::Uniform { lo: -bound, up: bound };
    nn::linear(
        p,
        in_dim,
        out_dim,
        nn::LinearConfig { ws_init: init, bs_init: Some(init), bias: true },
    )
}

/// BatchNorm initialised as PyTorch does (weight 1, bias 0; tch's default weight is U(0, 1)),
/// wrapped so fine-tuning can hold it in evaluation mode ([`super::norm`]).
pub(crate) fn batch_norm2d(p: nn::Path, channels: i64) -> BatchNorm2d {
    batch_norm2d_eps(p, channels, 1e-5)
}

/// [`batch_norm2d`] with epsilon `eps` (PyTorch's default is 1e-5; Inception-v3 uses 1e-3).
pub(crate) fn batch_norm2d_eps(p: nn::Path, channels: i64, eps: f64) -> BatchNorm2d {
    let prefix = path_prefix(&p);
    let bn = nn::batch_norm2d(
        p,
        channels,
        nn::BatchNormConfig {
            ws_init: nn::Init::Const(1.0),
            bs_init: nn::Init::Const(0.0),
            eps,
            ..Default::default()
        },
    );
    BatchNorm2d::new(bn, prefix)
}

/// Checks shared by the encoders with an `input_shift`: `build(scale, shift)` under a fresh
/// `VarStore` root, inputs of `shape` drawn from 0..256.
#[cfg(test)]
pub(crate) fn check_input_shift<M: nn::ModuleT>(
    build: impl Fn(&nn::Path, f64, f64) -> M,
    shape: [i64; 4],
) {
    use tch::Device;
    let (vs_a, mut vs_b) = (nn::VarStore::new(Device::Cpu), nn::VarStore::new(Device::Cpu));
    let shifted = build(&vs_a.root(), 1.0 / 255.0, -1.0);
    let plain = build(&vs_b.root(), 1.0 / 255.0, 0.0);
    vs_b.copy(&vs_a).unwrap();
    tch::manual_seed(0);
    let x = Tensor::randint(256, shape, (Kind::Float, Device::Cpu));
    // Shift −1 after scale 1/255 is the same network as no shift on frames with 255 subtracted:
    // the shift is applied once, after the scale.
    let (ya, yb) = (shifted.forward_t(&x, false), plain.forward_t(&(&x - 255.0), false));
    assert!(ya.allclose(&yb, 1e-5, 1e-6, false));
    assert!(!ya.allclose(&plain.forward_t(&x, false), 1e-5, 1e-6, false));
    // With scale 1 the shift must not write into the caller's tensor.
    let unscaled = build(&nn::VarStore::new(Device::Cpu).root(), 1.0, -1.0);
    let before = x.copy();
    let _ = unscaled.forward_t(&x, false);
    assert!(x.equal(&before));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_components() {
        assert!(key_has_prefix("layer1.0.conv1.weight", "layer1"));
        assert!(key_has_prefix("layer1", "layer1"));
        assert!(!key_has_prefix("layer10.weight", "layer1"));
        assert!(key_has_prefix("anything", ""));
    }

    #[test]
    fn conv_sizes() {
        assert_eq!(conv_out(84, 8, 4, 0), 20);
        assert_eq!(conv_out(20, 4, 2, 0), 9);
        assert_eq!(conv_out(224, 7, 2, 3), 112);
    }
}
