//! The networks agents are built from: a **torso** (any zoo encoder — an MLP for state
//! vectors, a CNN for pixels — optionally loaded from a pretraining checkpoint and frozen)
//! plus small linear heads the agent files add themselves.
//!
//! This is where transfer enters RL: `TorsoConfig { init_encoder: Some(ckpt), freeze: true }`
//! puts a pretrained encoder under a fresh policy, as in representation-learning-for-RL work
//! such as CURL (Laskin et al. 2020, <https://arxiv.org/abs/2004.04136>) and ATC (Stooke et
//! al. 2021, <https://arxiv.org/abs/2009.08319>), where the RL heads train on frozen features.
//!
//! Observations cross from the envs' flat buffers into tensors here ([`ObsSpec`]): `f32`
//! vectors as `[B, D]`, `u8`/`bool` grids and frames as `[B, C, H, W]` floats (HWC inputs are
//! permuted; the CNNs scale them themselves).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use tch::nn::{self, Init};
use tch::{Device, Kind, Tensor};

use graft_envs::{DType, Space};

use crate::error::{Error, Result};
use crate::models::checkpoint::{load_with, LoadOptions};
use crate::models::{key_has_prefix, Activation, Encoder, LayerGroup, MlpConfig, ModelConfig};

/// How an env's observations become a network input.
#[derive(Debug, Clone, PartialEq)]
pub enum ObsSpec {
    /// A flat `f32` vector of this width: `[B, D]`.
    Vector(usize),
    /// A `u8`/`bool` image whose network input is `[C, H, W]`; `hwc` when the env lays it
    /// out as `[H, W, C]` (every env observation: see [`ObsSpec::from_space`]).
    Image { chw: [i64; 3], hwc: bool },
    /// `frames` stacked `[H, W, C]` images (`[frames, H, W, C]`, oldest first), fed to the
    /// network as one image of `frames * C` channels (frame `j`'s channel `c` at `j * C + c`).
    Stacked { frames: i64, hwc: [i64; 3] },
}

impl ObsSpec {
    /// The input layout for observations from `space`, or an error naming the space:
    /// `float32` vectors; `[H, W, C]` images (Gymnasium's layout; MinAtar with
    /// `channels_first` is refused by [`crate::rl::RunOptions::make_env`]); `[k, H, W, C]`
    /// frame stacks.
    pub fn from_space(space: &Space) -> Result<Self> {
        let unsupported = |why: &str| {
            Error::Invalid(format!(
                "observation space {space}: {why} (RL agents need a float32 vector or an image)"
            ))
        };
        match space {
            Space::Box(b) if b.dtype == DType::F32 && b.shape.len() == 1 => {
                Ok(ObsSpec::Vector(b.len()))
            }
            Space::Box(b) if b.dtype != DType::F32 && b.shape.len() == 3 => {
                // Gymnasium's convention for images, kept by every Graft env and wrapper:
                // [H, W, C]. Never guessed from the sizes: MinAtar's Seaquest is 10x10x10,
                // and 10 stacked 8x8 frames would look channels-first.
                let s: Vec<i64> = b.shape.iter().map(|&d| d as i64).collect();
                Ok(ObsSpec::Image { chw: [s[2], s[0], s[1]], hwc: true })
            }
            Space::Box(b) if b.dtype != DType::F32 && b.shape.len() == 4 => {
                let s: Vec<i64> = b.shape.iter().map(|&d| d as i64).collect();
                Ok(ObsSpec::Stacked { frames: s[0], hwc: [s[1], s[2], s[3]] })
            }
            Space::Box(_) => Err(unsupported("unsupported shape or element type")),
            _ => Err(unsupported("not a Box space")),
        }
    }

    /// Floats in the `f32` part and bytes in the `u8` part of one observation.
    pub fn lens(&self) -> (usize, usize) {
        match self {
            ObsSpec::Vector(d) => (*d, 0),
            ObsSpec::Image { chw, .. } => (0, chw.iter().product::<i64>() as usize),
            ObsSpec::Stacked { frames, hwc } => {
                (0, (frames * hwc.iter().product::<i64>()) as usize)
            }
        }
    }

    /// Bytes one stored observation takes (its `f32` and `u8` parts).
    pub fn bytes(&self) -> u128 {
        let (floats, bytes) = self.lens();
        4 * floats as u128 + bytes as u128
    }

    /// `[C, H, W]` of the network input for images (`None` for vectors).
    pub fn image_chw(&self) -> Option<[i64; 3]> {
        match self {
            ObsSpec::Vector(_) => None,
            ObsSpec::Image { chw, .. } => Some(*chw),
            ObsSpec::Stacked { frames, hwc: [h, w, c] } => Some([frames * c, *h, *w]),
        }
    }

    /// A batch of `n` observations as one float tensor on `device`.
    ///
    /// # Shapes
    /// `[n, D]` for vectors, `[n, C, H, W]` for images.
    pub fn to_tensor(&self, f32s: &[f32], u8s: &[u8], n: usize, device: Device) -> Tensor {
        let n = n as i64;
        match self {
            ObsSpec::Vector(d) => Tensor::from_slice(f32s).view([n, *d as i64]).to_device(device),
            ObsSpec::Image { chw: [c, h, w], hwc } => {
                let t = Tensor::from_slice(u8s).to_device(device);
                let t = if *hwc {
                    t.view([n, *h, *w, *c]).permute([0, 3, 1, 2])
                } else {
                    t.view([n, *c, *h, *w])
                };
                t.to_kind(Kind::Float)
            }
            ObsSpec::Stacked { frames, hwc: [h, w, c] } => Tensor::from_slice(u8s)
                .to_device(device)
                .view([n, *frames, *h, *w, *c])
                .permute([0, 1, 4, 2, 3])
                .reshape([n, frames * c, *h, *w])
                .to_kind(Kind::Float),
        }
    }
}

/// The torso of an agent's networks.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct TorsoConfig {
    /// A zoo model (JSON with a `kind`) to use as the torso; its head is dropped and its input
    /// size is set from the env. `None`: the agent's default MLP for vectors, the MinAtar CNN
    /// for 10x10 grids, the Nature CNN for other images.
    pub model: Option<serde_json::Value>,
    /// A checkpoint (e.g. from pretraining) whose encoder weights initialise the torso.
    pub init_encoder: Option<PathBuf>,
    /// Key prefix of the encoder inside that checkpoint (`"encoder"` for a pretraining
    /// checkpoint, `""` for a bare encoder file).
    pub checkpoint_prefix: String,
    /// Keep the torso's weights fixed (only the heads learn).
    pub freeze: bool,
}

impl TorsoConfig {
    /// The zoo model this config builds for `obs`, with `hidden`/`activation` as the MLP default.
    pub fn model_for(
        &self,
        obs: &ObsSpec,
        hidden: &[i64],
        activation: Activation,
    ) -> Result<ModelConfig> {
        let mut model = match &self.model {
            Some(v) => crate::config_error::from_json_value::<ModelConfig>(
                "torso model config",
                v.clone(),
            )?,
            None => match obs {
                ObsSpec::Vector(_) => ModelConfig::Mlp(MlpConfig {
                    hidden: hidden.to_vec(),
                    activation,
                    ..Default::default()
                }),
                ObsSpec::Image { chw: [_, 10, 10], .. } => ModelConfig::preset("minatar_cnn")?,
                ObsSpec::Image { .. } | ObsSpec::Stacked { .. } => {
                    ModelConfig::preset("nature_cnn")?
                }
            },
        }
        .without_head();
        // The env decides the input size; a mismatch with a pretrained file shows up at load.
        let input = match obs {
            ObsSpec::Vector(d) => Err(*d as i64),
            image => Ok(image.image_chw().unwrap_or_default()),
        };
        match (&mut model, input) {
            (ModelConfig::Mlp(m), Err(d)) => m.input_dim = d,
            (ModelConfig::NatureCnn(m), Ok(chw)) => [m.in_channels, m.height, m.width] = chw,
            (ModelConfig::MinatarCnn(m), Ok(chw)) => [m.in_channels, m.height, m.width] = chw,
            (ModelConfig::ImpalaCnn(m), Ok(chw)) => [m.in_channels, m.height, m.width] = chw,
            (ModelConfig::DrqCnn(m), Ok(chw)) => [m.in_channels, m.height, m.width] = chw,
            (ModelConfig::Mlp(_), Ok(_)) => {
                return Err(Error::Invalid(
                    "torso model: an mlp cannot take image observations; use a CNN".into(),
                ))
            }
            (m, Err(_)) => {
                return Err(Error::Invalid(format!(
                    "torso model: a {} cannot take vector observations; use an mlp",
                    m.kind()
                )))
            }
            _ => {}
        }
        Ok(model)
    }
}

/// A built torso: the encoder and the VarStore prefix its parameters live under.
pub struct Torso {
    /// The encoder.
    pub encoder: Box<dyn Encoder>,
    /// Its key prefix, e.g. `actor.torso`.
    pub prefix: String,
    /// The model it was built from (recorded in checkpoints).
    pub model: ModelConfig,
}

impl std::fmt::Debug for Torso {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Torso").field("prefix", &self.prefix).field("model", &self.model).finish()
    }
}

impl Torso {
    /// Build the torso for `obs` under `p / name`.
    pub fn build(
        p: &nn::Path,
        name: &str,
        cfg: &TorsoConfig,
        obs: &ObsSpec,
        hidden: &[i64],
        activation: Activation,
    ) -> Result<Self> {
        let model = cfg.model_for(obs, hidden, activation)?;
        let sub = p / name;
        let encoder = model.build(&sub)?;
        Ok(Torso { encoder, prefix: crate::models::base::path_prefix(&sub), model })
    }

    /// Features of a batch of observations, `[B, output_dim]`.
    pub fn forward(&self, xs: &Tensor) -> Tensor {
        self.encoder.forward_t(xs, false)
    }

    /// Width of the features.
    pub fn output_dim(&self) -> i64 {
        self.encoder.output_dim()
    }

    /// The encoder's layer groups, renamed `<prefix>.<group>` so that several torsos in one
    /// VarStore (actor and critic) keep distinct group names.
    pub fn layer_groups(&self) -> Vec<LayerGroup> {
        self.encoder
            .layer_groups()
            .into_iter()
            .map(|g| LayerGroup::new(format!("{}.{}", self.prefix, g.name), g.prefixes))
            .collect()
    }

    /// Load the encoder weights named by `cfg.init_encoder` into this torso. Every torso
    /// key must receive a value: a checkpoint that does not fit is an error naming the keys.
    pub fn load_pretrained(&self, vs: &mut nn::VarStore, cfg: &TorsoConfig) -> Result<()> {
        let Some(path) = &cfg.init_encoder else { return Ok(()) };
        let opts =
            LoadOptions::partial().map_prefix(cfg.checkpoint_prefix.clone(), self.prefix.clone());
        let report = load_with(vs, path, &opts)?;
        let missing: Vec<&String> =
            report.missing.iter().filter(|k| key_has_prefix(k, &self.prefix)).collect();
        if !missing.is_empty() || report.loaded.is_empty() {
            return Err(Error::Checkpoint {
                path: path.clone(),
                problem: format!(
                    "does not hold an encoder for torso '{}' under prefix '{}': missing {:?}{}",
                    self.prefix,
                    cfg.checkpoint_prefix,
                    missing.iter().take(6).collect::<Vec<_>>(),
                    if report.loaded.is_empty() { " (no key matched at all)" } else { "" }
                ),
            });
        }
        Ok(())
    }
}

/// A linear layer with CleanRL's initialisation: orthogonal weights scaled by `gain`, zero
/// bias (Engstrom et al. 2020 and Andrychowicz et al. 2021 found this matters for PPO).
pub fn ortho_linear(p: nn::Path, in_dim: i64, out_dim: i64, gain: f64) -> nn::Linear {
    nn::linear(
        p,
        in_dim,
        out_dim,
        nn::LinearConfig {
            ws_init: Init::Orthogonal { gain },
            bs_init: Some(Init::Const(0.0)),
            bias: true,
        },
    )
}

/// Re-initialise every 2-D weight under `prefix` orthogonally with `gain` and zero its
/// biases (for a zoo MLP torso, whose own initialisation is PyTorch's default).
pub fn orthogonal_init(vs: &nn::VarStore, prefix: &str, gain: f64) {
    tch::no_grad(|| {
        let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        // A fixed order, so the draws depend only on the seed.
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        for (key, mut t) in vars {
            if !key_has_prefix(&key, prefix) {
                continue;
            }
            if key.ends_with(".weight") && t.dim() == 2 {
                t.init(Init::Orthogonal { gain });
            } else if key.ends_with(".bias") {
                let _ = t.fill_(0.0);
            }
        }
    });
}

/// What the agent's actions look like.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionSpec {
    /// `n` choices starting at `start`.
    Discrete { n: i64, start: i64 },
    /// A `float32` box: per-dimension bounds.
    Continuous { low: Vec<f32>, high: Vec<f32> },
}

impl ActionSpec {
    /// The action layout for `space`, or an error naming it.
    pub fn from_space(space: &Space) -> Result<Self> {
        match space {
            Space::Discrete { n, start } => {
                Ok(ActionSpec::Discrete { n: *n as i64, start: *start })
            }
            Space::Box(b) if b.dtype == DType::F32 && b.shape.len() == 1 => {
                Ok(ActionSpec::Continuous {
                    low: b.low.iter().map(|&x| x as f32).collect(),
                    high: b.high.iter().map(|&x| x as f32).collect(),
                })
            }
            other => Err(Error::Invalid(format!(
                "action space {other}: RL agents support Discrete and 1-D float32 Box actions"
            ))),
        }
    }

    /// Values per action (1 for discrete).
    pub fn dim(&self) -> usize {
        match self {
            ActionSpec::Discrete { .. } => 1,
            ActionSpec::Continuous { low, .. } => low.len(),
        }
    }
}

/// Re-initialise every linear layer under `prefix` as PyTorch's `nn.Linear` does (weights and
/// biases U(±1/√fan_in)), which CleanRL's DQN and SAC networks use; tch's default weight range
/// is √6 times wider.
pub fn torch_default_init(vs: &nn::VarStore, prefix: &str) {
    tch::no_grad(|| {
        let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
        vars.sort_by(|a, b| a.0.cmp(&b.0));
        let fan_in: std::collections::BTreeMap<String, i64> = vars
            .iter()
            .filter(|(k, t)| k.ends_with(".weight") && t.dim() == 2)
            .map(|(k, t)| (k.trim_end_matches(".weight").to_string(), t.size()[1]))
            .collect();
        for (key, mut t) in vars {
            if !key_has_prefix(&key, prefix) {
                continue;
            }
            let layer = key.rsplit_once('.').map_or("", |(l, _)| l);
            if let Some(&fan) = fan_in.get(layer) {
                let bound = 1.0 / (fan as f64).sqrt();
                t.init(Init::Uniform { lo: -bound, up: bound });
            }
        }
    });
}
