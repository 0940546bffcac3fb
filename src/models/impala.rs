//! The IMPALA CNN (Espeholt et al. 2018, "IMPALA: Scalable Distributed Deep-RL with
//! Importance Weighted Actor-Learner Architectures", <https://arxiv.org/abs/1802.01561>,
//! figure 3, "large" network): three stacks of `conv 3×3 → maxpool 3×3/2 → 2 residual
//! blocks` (16, 32, 32 channels), ReLU, and a 256-unit fully connected layer.
//!
//! Keys follow CleanRL's `ppo_procgen.py`: `stacks.{s}.conv`, `stacks.{s}.res{r}.conv{0,1}`,
//! `fc`, `head`. Groups: `stacks.0`, `stacks.1`, `stacks.2`, `fc`, `head`.

use serde::{Deserialize, Serialize};
use tch::nn::{self, Module};
use tch::Tensor;

use super::base::{
    conv_out, finite_shift, group, join_key, path_prefix, positive, scale_input, Encoder,
    LayerGroup,
};
use super::input::InputShape;
use crate::error::Result;

/// IMPALA CNN hyperparameters.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ImpalaCnnConfig {
    /// Input channels.
    pub in_channels: i64,
    /// Input height in pixels.
    pub height: i64,
    /// Input width in pixels.
    pub width: i64,
    /// Output channels of each stack.
    pub channels: Vec<i64>,
    /// Residual blocks per stack.
    pub blocks_per_stack: usize,
    /// Width of the fully connected feature layer.
    pub hidden: i64,
    /// Factor applied to the input before the first convolution.
    pub input_scale: f64,
    /// Added to the scaled input: the first convolution sees `x · input_scale + input_shift`
    /// (as the Nature CNN's; −1 with `input_scale` 1/255 puts a white background at 0).
    pub input_shift: f64,
    /// Width of a final linear head (e.g. actions); `None` for features only.
    pub num_outputs: Option<i64>,
}

impl Default for ImpalaCnnConfig {
    fn default() -> Self {
        ImpalaCnnConfig {
            in_channels: 3,
            height: 64,
            width: 64,
            channels: vec![16, 32, 32],
            blocks_per_stack: 2,
            hidden: 256,
            input_scale: 1.0 / 255.0,
            input_shift: 0.0,
            num_outputs: None,
        }
    }
}

impl ImpalaCnnConfig {
    /// Procgen's 3×64×64 frames (the default).
    pub fn procgen() -> Self {
        Self::default()
    }

    /// Atari's 4×84×84 stacked frames.
    pub fn atari() -> Self {
        ImpalaCnnConfig { in_channels: 4, height: 84, width: 84, ..Self::default() }
    }

    /// `(channels, height, width)` after the last stack.
    pub fn conv_output(&self) -> (i64, i64, i64) {
        let (mut h, mut w) = (self.height, self.width);
        for _ in &self.channels {
            h = conv_out(h, 3, 2, 1);
            w = conv_out(w, 3, 2, 1);
        }
        (self.channels.last().copied().unwrap_or(self.in_channels), h, w)
    }

    fn validate(&self) -> Result<()> {
        positive("impala_cnn in_channels", self.in_channels)?;
        positive("impala_cnn height", self.height)?;
        positive("impala_cnn width", self.width)?;
        positive("impala_cnn hidden", self.hidden)?;
        positive("impala_cnn number of stacks", self.channels.len() as i64)?;
        for &c in &self.channels {
            positive("impala_cnn stack channels", c)?;
        }
        if let Some(n) = self.num_outputs {
            positive("impala_cnn num_outputs", n)?;
        }
        finite_shift("impala_cnn input_shift", self.input_shift)
    }
}

fn conv3(p: nn::Path, i: i64, o: i64) -> nn::Conv2D {
    nn::conv2d(p, i, o, 3, nn::ConvConfig { padding: 1, ..Default::default() })
}

#[derive(Debug)]
struct ResidualBlock {
    conv0: nn::Conv2D,
    conv1: nn::Conv2D,
}

impl ResidualBlock {
    fn forward(&self, xs: &Tensor) -> Tensor {
        xs.relu().apply(&self.conv0).relu().apply(&self.conv1) + xs
    }
}

#[derive(Debug)]
struct ConvStack {
    conv: nn::Conv2D,
    blocks: Vec<ResidualBlock>,
}

/// The IMPALA convolutional encoder.
#[derive(Debug)]
pub struct ImpalaCnn {
    stacks: Vec<ConvStack>,
    fc: nn::Linear,
    head: Option<nn::Linear>,
    config: ImpalaCnnConfig,
    base: String,
}

/// Build an IMPALA CNN under `p`.
pub fn impala_cnn(p: &nn::Path, config: &ImpalaCnnConfig) -> Result<ImpalaCnn> {
    config.validate()?;
    let mut stacks = Vec::with_capacity(config.channels.len());
    let mut c_in = config.in_channels;
    for (s, &c) in config.channels.iter().enumerate() {
        let sp = p / "stacks" / s;
        let blocks = (0..config.blocks_per_stack)
            .map(|r| {
                let rp = &sp / format!("res{r}");
                ResidualBlock {
                    conv0: conv3(&rp / "conv0", c, c),
                    conv1: conv3(&rp / "conv1", c, c),
                }
            })
            .collect();
        stacks.push(ConvStack { conv: conv3(&sp / "conv", c_in, c), blocks });
        c_in = c;
    }
    let (c, h, w) = config.conv_output();
    Ok(ImpalaCnn {
        stacks,
        fc: nn::linear(p / "fc", c * h * w, config.hidden, Default::default()),
        head: config
            .num_outputs
            .map(|n| nn::linear(p / "head", config.hidden, n, Default::default())),
        config: config.clone(),
        base: path_prefix(p),
    })
}

impl nn::ModuleT for ImpalaCnn {
    /// # Shapes
    /// `[B, C, H, W]` → `[B, output_dim]`.
    fn forward_t(&self, xs: &Tensor, _train: bool) -> Tensor {
        let mut x = scale_input(xs, self.config.input_scale, self.config.input_shift);
        for stack in &self.stacks {
            x = x.apply(&stack.conv).max_pool2d([3, 3], [2, 2], [1, 1], [1, 1], false); // [B, c, ⌈H/2⌉, ⌈W/2⌉]
            for block in &stack.blocks {
                x = block.forward(&x);
            }
        }
        let x = self.fc.forward(&x.relu().flatten(1, -1)).relu(); // [B, hidden]
        match &self.head {
            Some(head) => head.forward(&x),
            None => x,
        }
    }
}

impl Encoder for ImpalaCnn {
    fn input_shape(&self) -> Option<InputShape> {
        let c = &self.config;
        Some(InputShape::Image { channels: c.in_channels, height: c.height, width: c.width })
    }

    fn output_dim(&self) -> i64 {
        self.config.num_outputs.unwrap_or(self.config.hidden)
    }

    fn layer_groups(&self) -> Vec<LayerGroup> {
        let mut groups: Vec<LayerGroup> = (0..self.stacks.len())
            .map(|s| {
                let name = format!("stacks.{s}");
                LayerGroup::new(name.clone(), vec![join_key(&self.base, &name)])
            })
            .collect();
        groups.push(group(&self.base, "fc", &["fc"]));
        if self.head.is_some() {
            groups.push(group(&self.base, "head", &["head"]));
        }
        groups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The IMPALA CNN's `input_shift` behaves as the Nature CNN's (see `check_input_shift`).
    #[test]
    fn input_shift_moves_the_scaled_input() {
        let build = |p: &nn::Path, input_scale, input_shift| {
            let config = ImpalaCnnConfig {
                in_channels: 2,
                height: 16,
                width: 16,
                channels: vec![4, 4],
                blocks_per_stack: 1,
                hidden: 8,
                input_scale,
                input_shift,
                num_outputs: None,
            };
            impala_cnn(p, &config).unwrap()
        };
        crate::models::base::check_input_shift(build, [3, 2, 16, 16]);
    }

    #[test]
    fn a_non_finite_input_shift_is_refused() {
        let vs = nn::VarStore::new(tch::Device::Cpu);
        let cfg = ImpalaCnnConfig { input_shift: f64::INFINITY, ..Default::default() };
        let err = impala_cnn(&vs.root(), &cfg).unwrap_err().to_string();
        assert!(err.contains("impala_cnn input_shift must be a finite number"), "{err}");
    }
}
