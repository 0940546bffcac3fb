//! The encoder of pixel-based continuous control on the DeepMind Control Suite: four 3×3
//! convolutions of 32 channels, the first with stride 2, ReLU after each, flattened (no
//! fully connected layer). Introduced with SAC-AE (Yarats et al. 2019,
//! <https://arxiv.org/abs/1910.01741>) and used unchanged by CURL, DrQ and DrQ-v2 (Yarats
//! et al. 2021, "Mastering Visual Continuous Control: Improved Data-Augmented Reinforcement
//! Learning", <https://arxiv.org/abs/2107.09645>, whose `Encoder` this follows): on 9×84×84
//! (three stacked RGB frames) the features are 32·35·35 = 39,200 wide, and each head puts its
//! own small trunk (linear → LayerNorm → tanh) on top of them.
//!
//! Keys: `conv1` … `conv4`, `head`; one layer group each. Inputs are `x · input_scale +
//! input_shift` first (DrQ-v2: `x / 255 − 0.5`).

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::Tensor;

use super::base::{
    conv_out, finite_shift, group, path_prefix, positive, scale_input, Encoder, LayerGroup,
};
use super::input::InputShape;
use crate::error::{Error, Result};

/// DrQ encoder hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DrqCnnConfig {
    /// Input channels (stacked frames × colour channels).
    pub in_channels: i64,
    /// Input height in pixels.
    pub height: i64,
    /// Input width in pixels.
    pub width: i64,
    /// Channels of every convolution.
    pub channels: i64,
    /// Number of convolutions (the first has stride 2, the others stride 1); at least 1.
    pub layers: usize,
    /// Factor applied to the input before the first convolution.
    pub input_scale: f64,
    /// Added to the scaled input (DrQ-v2: −0.5, so frames are centred on 0).
    pub input_shift: f64,
    /// Width of a final linear head; `None` for the flattened convolutional features.
    pub num_outputs: Option<i64>,
}

impl Default for DrqCnnConfig {
    fn default() -> Self {
        DrqCnnConfig {
            in_channels: 9,
            height: 84,
            width: 84,
            channels: 32,
            layers: 4,
            input_scale: 1.0 / 255.0,
            input_shift: -0.5,
            num_outputs: None,
        }
    }
}

impl DrqCnnConfig {
    /// `(channels, height, width)` after the last convolution.
    pub fn conv_output(&self) -> (i64, i64, i64) {
        let (mut h, mut w) = (self.height, self.width);
        for i in 0..self.layers {
            let stride = if i == 0 { 2 } else { 1 };
            h = conv_out(h, 3, stride, 0);
            w = conv_out(w, 3, stride, 0);
        }
        (self.channels, h, w)
    }

    /// Width of the flattened convolutional features.
    pub fn features(&self) -> i64 {
        let (c, h, w) = self.conv_output();
        c * h * w
    }

    fn validate(&self) -> Result<()> {
        positive("drq_cnn in_channels", self.in_channels)?;
        positive("drq_cnn channels", self.channels)?;
        if self.layers == 0 {
            return Err(Error::Invalid("model config: drq_cnn layers must be at least 1".into()));
        }
        if let Some(n) = self.num_outputs {
            positive("drq_cnn num_outputs", n)?;
        }
        finite_shift("drq_cnn input_shift", self.input_shift)?;
        let (_, h, w) = self.conv_output();
        if h < 1 || w < 1 {
            return Err(Error::Invalid(format!(
                "model config: drq_cnn input {}x{} is too small for {} convolutions",
                self.height, self.width, self.layers
            )));
        }
        Ok(())
    }
}

/// The DrQ convolutional encoder.
#[derive(Debug)]
pub struct DrqCnn {
    convs: Vec<nn::Conv2D>,
    head: Option<nn::Linear>,
    config: DrqCnnConfig,
    base: String,
}

/// Build a DrQ encoder under `p`.
pub fn drq_cnn(p: &nn::Path, config: &DrqCnnConfig) -> Result<DrqCnn> {
    config.validate()?;
    let convs = (0..config.layers)
        .map(|i| {
            let input = if i == 0 { config.in_channels } else { config.channels };
            let stride = if i == 0 { 2 } else { 1 };
            let cfg = nn::ConvConfig { stride, ..Default::default() };
            nn::conv2d(p / format!("conv{}", i + 1), input, config.channels, 3, cfg)
        })
        .collect();
    let head = config
        .num_outputs
        .map(|n| nn::linear(p / "head", config.features(), n, Default::default()));
    Ok(DrqCnn { convs, head, config: config.clone(), base: path_prefix(p) })
}

impl nn::ModuleT for DrqCnn {
    /// # Shapes
    /// `[B, C, H, W]` → `[B, output_dim]`.
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        let mut x = scale_input(xs, self.config.input_scale, self.config.input_shift);
        for conv in &self.convs {
            x = x.apply(conv).relu();
        }
        let x = x.flatten(1, -1); // [B, 32 * 35 * 35] at 84x84
        match &self.head {
            Some(head) => head.forward(&x),
            None => x,
        }
    }
}

impl Encoder for DrqCnn {
    fn input_shape(&self) -> Option<InputShape> {
        let c = &self.config;
        Some(InputShape::Image { channels: c.in_channels, height: c.height, width: c.width })
    }

    fn output_dim(&self) -> i64 {
        self.config.num_outputs.unwrap_or_else(|| self.config.features())
    }

    fn layer_groups(&self) -> Vec<LayerGroup> {
        let mut names: Vec<String> = (1..=self.convs.len()).map(|i| format!("conv{i}")).collect();
        if self.head.is_some() {
            names.push("head".into());
        }
        names.iter().map(|n| group(&self.base, n, &[n.as_str()])).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::nn::ModuleT;
    use tch::{Device, Kind};

    /// DrQ-v2's sizes: 84 → 41 (stride 2) → 39 → 37 → 35, so 32·35·35 = 39,200 features.
    #[test]
    fn the_papers_encoder_has_39200_features() {
        let cfg = DrqCnnConfig::default();
        assert_eq!(cfg.conv_output(), (32, 35, 35));
        let vs = nn::VarStore::new(Device::Cpu);
        let net = drq_cnn(&vs.root(), &cfg).unwrap();
        let x = Tensor::zeros([2, 9, 84, 84], (Kind::Float, Device::Cpu));
        assert_eq!(net.forward_t(&x, false).size(), [2, 39_200]);
        assert_eq!(net.output_dim(), 39_200);
        let groups: Vec<String> = net.layer_groups().into_iter().map(|g| g.name).collect();
        assert_eq!(groups, ["conv1", "conv2", "conv3", "conv4"]);
    }

    #[test]
    fn input_shift_moves_the_scaled_input() {
        let build = |p: &nn::Path, input_scale, input_shift| {
            let config = DrqCnnConfig {
                in_channels: 2,
                height: 20,
                width: 24,
                channels: 4,
                input_scale,
                input_shift,
                num_outputs: Some(3),
                ..Default::default()
            };
            drq_cnn(p, &config).unwrap()
        };
        crate::models::base::check_input_shift(build, [3, 2, 20, 24]);
    }

    #[test]
    fn bad_configs_are_refused() {
        let vs = nn::VarStore::new(Device::Cpu);
        for (cfg, word) in [
            (DrqCnnConfig { layers: 0, ..Default::default() }, "layers"),
            (DrqCnnConfig { height: 8, width: 8, ..Default::default() }, "too small"),
            (DrqCnnConfig { channels: 0, ..Default::default() }, "channels"),
        ] {
            let e = drq_cnn(&vs.root(), &cfg).unwrap_err().to_string();
            assert!(e.contains(word), "{e}");
        }
    }
}
