//! The two small convolutional encoders of pixel-based RL:
//!
//! - **Nature DQN** (Mnih et al. 2015, "Human-level control through deep reinforcement
//!   learning", Nature 518, <https://doi.org/10.1038/nature14236>): 32 8×8/4, 64 4×4/2,
//!   64 3×3/1 convolutions with ReLU, then a 512-unit fully connected layer, on 4×84×84
//!   stacked frames.
//! - **MinAtar** (Young & Tian 2019, "MinAtar: An Atari-Inspired Testbed for Thorough and
//!   Reproducible Reinforcement Learning Experiments", <https://arxiv.org/abs/1903.03176>):
//!   one 16-channel 3×3/1 convolution and a 128-unit fully connected layer on 10×10×C grids.
//!
//! Keys: `conv1`, `conv2`, `conv3` (Nature only), `fc`, `head`; one layer group each.
//! Inputs are multiplied by `input_scale` first (1/255 turns `u8` frames into `[0, 1]`);
//! the Nature CNN then adds `input_shift` (0 by default; −1 puts a white background at 0,
//! which inverse dynamics on CartPole frames needs to learn at all — see
//! `crate::pretrain::state::inverse_dynamics`).

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::Tensor;

use super::base::{
    conv_out, finite_shift, group, path_prefix, positive, scale_input, Encoder, LayerGroup,
};
use super::input::InputShape;
use crate::error::{Error, Result};

/// Nature-DQN CNN hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NatureCnnConfig {
    /// Input channels (stacked frames).
    pub in_channels: i64,
    /// Input height in pixels.
    pub height: i64,
    /// Input width in pixels.
    pub width: i64,
    /// Width of the fully connected feature layer.
    pub hidden: i64,
    /// Factor applied to the input before the first convolution.
    pub input_scale: f64,
    /// Added to the scaled input: the first convolution sees `x · input_scale + input_shift`.
    /// With `input_scale` 1/255 and `input_shift` −1 a white background is 0 and the objects
    /// drawn on it negative (frames are then roughly centred, as standardised inputs are).
    pub input_shift: f64,
    /// Width of a final linear head (e.g. actions); `None` for features only.
    pub num_outputs: Option<i64>,
}

impl Default for NatureCnnConfig {
    fn default() -> Self {
        NatureCnnConfig {
            in_channels: 4,
            height: 84,
            width: 84,
            hidden: 512,
            input_scale: 1.0 / 255.0,
            input_shift: 0.0,
            num_outputs: None,
        }
    }
}

impl NatureCnnConfig {
    /// The paper's network: 4×84×84 frames, 512 features.
    pub fn atari() -> Self {
        Self::default()
    }

    /// `(channels, height, width)` after the third convolution.
    pub fn conv_output(&self) -> (i64, i64, i64) {
        let h = conv_out(conv_out(conv_out(self.height, 8, 4, 0), 4, 2, 0), 3, 1, 0);
        let w = conv_out(conv_out(conv_out(self.width, 8, 4, 0), 4, 2, 0), 3, 1, 0);
        (64, h, w)
    }

    fn validate(&self) -> Result<()> {
        positive("nature_cnn in_channels", self.in_channels)?;
        positive("nature_cnn hidden", self.hidden)?;
        if let Some(n) = self.num_outputs {
            positive("nature_cnn num_outputs", n)?;
        }
        finite_shift("nature_cnn input_shift", self.input_shift)?;
        let (_, h, w) = self.conv_output();
        if h < 1 || w < 1 {
            return Err(Error::Invalid(format!(
                "model config: nature_cnn input {}x{} is too small (needs at least 36x36)",
                self.height, self.width
            )));
        }
        Ok(())
    }
}

fn conv(p: nn::Path, i: i64, o: i64, k: i64, stride: i64) -> nn::Conv2D {
    nn::conv2d(p, i, o, k, nn::ConvConfig { stride, ..Default::default() })
}

/// The Nature-DQN convolutional encoder.
#[derive(Debug)]
pub struct NatureCnn {
    conv1: nn::Conv2D,
    conv2: nn::Conv2D,
    conv3: nn::Conv2D,
    fc: nn::Linear,
    head: Option<nn::Linear>,
    config: NatureCnnConfig,
    base: String,
}

/// Build a Nature-DQN CNN under `p`.
pub fn nature_cnn(p: &nn::Path, config: &NatureCnnConfig) -> Result<NatureCnn> {
    config.validate()?;
    let (c, h, w) = config.conv_output();
    Ok(NatureCnn {
        conv1: conv(p / "conv1", config.in_channels, 32, 8, 4),
        conv2: conv(p / "conv2", 32, 64, 4, 2),
        conv3: conv(p / "conv3", 64, 64, 3, 1),
        fc: nn::linear(p / "fc", c * h * w, config.hidden, Default::default()),
        head: config
            .num_outputs
            .map(|n| nn::linear(p / "head", config.hidden, n, Default::default())),
        config: config.clone(),
        base: path_prefix(p),
    })
}

impl nn::ModuleT for NatureCnn {
    /// # Shapes
    /// `[B, C, H, W]` → `[B, output_dim]`.
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        let x = scale_input(xs, self.config.input_scale, self.config.input_shift)
            .apply(&self.conv1)
            .relu()
            .apply(&self.conv2)
            .relu()
            .apply(&self.conv3)
            .relu() // [B, 64, 7, 7]
            .flatten(1, -1);
        let x = self.fc.forward(&x).relu(); // [B, hidden]
        match &self.head {
            Some(head) => head.forward(&x),
            None => x,
        }
    }
}

impl Encoder for NatureCnn {
    fn input_shape(&self) -> Option<InputShape> {
        let c = &self.config;
        Some(InputShape::Image { channels: c.in_channels, height: c.height, width: c.width })
    }

    fn output_dim(&self) -> i64 {
        self.config.num_outputs.unwrap_or(self.config.hidden)
    }

    fn layer_groups(&self) -> Vec<LayerGroup> {
        let mut names = vec!["conv1", "conv2", "conv3", "fc"];
        if self.head.is_some() {
            names.push("head");
        }
        names.into_iter().map(|n| group(&self.base, n, &[n])).collect()
    }
}

/// MinAtar CNN hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MinAtarCnnConfig {
    /// Input channels (game-dependent: 4 for Breakout, 10 for Seaquest, ...).
    pub in_channels: i64,
    /// Grid height.
    pub height: i64,
    /// Grid width.
    pub width: i64,
    /// Channels of the single 3×3 convolution.
    pub conv_channels: i64,
    /// Width of the fully connected feature layer.
    pub hidden: i64,
    /// Factor applied to the input.
    pub input_scale: f64,
    /// Width of a final linear head (e.g. actions); `None` for features only.
    pub num_outputs: Option<i64>,
}

impl Default for MinAtarCnnConfig {
    fn default() -> Self {
        MinAtarCnnConfig {
            in_channels: 4,
            height: 10,
            width: 10,
            conv_channels: 16,
            hidden: 128,
            input_scale: 1.0,
            num_outputs: None,
        }
    }
}

impl MinAtarCnnConfig {
    /// The paper's network for a game with `channels` input channels and `actions` actions.
    pub fn game(channels: i64, actions: i64) -> Self {
        MinAtarCnnConfig { in_channels: channels, num_outputs: Some(actions), ..Self::default() }
    }

    fn validate(&self) -> Result<()> {
        positive("minatar_cnn in_channels", self.in_channels)?;
        positive("minatar_cnn conv_channels", self.conv_channels)?;
        positive("minatar_cnn hidden", self.hidden)?;
        if let Some(n) = self.num_outputs {
            positive("minatar_cnn num_outputs", n)?;
        }
        if self.height < 3 || self.width < 3 {
            return Err(Error::Invalid(format!(
                "model config: minatar_cnn input {}x{} is smaller than its 3x3 kernel",
                self.height, self.width
            )));
        }
        Ok(())
    }
}

/// The MinAtar convolutional encoder.
#[derive(Debug)]
pub struct MinAtarCnn {
    conv1: nn::Conv2D,
    fc: nn::Linear,
    head: Option<nn::Linear>,
    config: MinAtarCnnConfig,
    base: String,
}

/// Build a MinAtar CNN under `p`.
pub fn minatar_cnn(p: &nn::Path, config: &MinAtarCnnConfig) -> Result<MinAtarCnn> {
    config.validate()?;
    let flat = config.conv_channels * (config.height - 2) * (config.width - 2);
    Ok(MinAtarCnn {
        conv1: conv(p / "conv1", config.in_channels, config.conv_channels, 3, 1),
        fc: nn::linear(p / "fc", flat, config.hidden, Default::default()),
        head: config
            .num_outputs
            .map(|n| nn::linear(p / "head", config.hidden, n, Default::default())),
        config: config.clone(),
        base: path_prefix(p),
    })
}

impl nn::ModuleT for MinAtarCnn {
    /// # Shapes
    /// `[B, C, 10, 10]` → `[B, output_dim]`.
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        let x =
            scale_input(xs, self.config.input_scale, 0.0).apply(&self.conv1).relu().flatten(1, -1); // [B, 16*8*8]
        let x = self.fc.forward(&x).relu();
        match &self.head {
            Some(head) => head.forward(&x),
            None => x,
        }
    }
}

impl Encoder for MinAtarCnn {
    fn input_shape(&self) -> Option<InputShape> {
        let c = &self.config;
        Some(InputShape::Image { channels: c.in_channels, height: c.height, width: c.width })
    }

    fn output_dim(&self) -> i64 {
        self.config.num_outputs.unwrap_or(self.config.hidden)
    }

    fn layer_groups(&self) -> Vec<LayerGroup> {
        let mut names = vec!["conv1", "fc"];
        if self.head.is_some() {
            names.push("head");
        }
        names.into_iter().map(|n| group(&self.base, n, &[n])).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    /// `input_shift` −1 with `input_scale` 1/255 is the same network as no shift on frames
    /// with 255 subtracted (same weights): the shift is applied after the scale, once.
    #[test]
    fn input_shift_moves_the_scaled_input() {
        let build = |p: &nn::Path, input_scale, input_shift| {
            let config = NatureCnnConfig {
                in_channels: 2,
                height: 40,
                width: 60,
                hidden: 8,
                input_scale,
                input_shift,
                ..Default::default()
            };
            nature_cnn(p, &config).unwrap()
        };
        crate::models::base::check_input_shift(build, [3, 2, 40, 60]);
    }

    #[test]
    fn a_non_finite_input_shift_is_refused() {
        let vs = nn::VarStore::new(Device::Cpu);
        let cfg = NatureCnnConfig { input_shift: f64::NAN, ..Default::default() };
        let err = nature_cnn(&vs.root(), &cfg).unwrap_err().to_string();
        assert!(err.contains("input_shift must be a finite number"), "{err}");
    }
}
