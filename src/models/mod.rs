//! The encoder zoo: MLP, Nature-DQN / IMPALA / MinAtar CNNs, ResNet, VGG, ViT and
//! Inception-v3, each a `tch` module implementing [`Encoder`] (output width + layer groups),
//! configured by serde structs, named after torchvision's `state_dict` keys; [`ModelConfig`]
//! builds any of them from JSON, and [`checkpoint`] saves and loads them as safetensors.
//! [`gpt`](mod@gpt) holds the sequence models (GPT/BERT-style stacks, Decision Transformer) built from
//! the same blocks.
//! The user guide is `docs/models.md` in the repository.
//!
//! Building a preset (the names are [`PRESETS`]) on a VarStore and running it:
//!
//! ```
//! use graft::models::{Encoder, ModelConfig};
//! use tch::nn::{self, ModuleT};
//! use tch::{Device, Kind, Tensor};
//!
//! # fn main() -> graft::Result<()> {
//! // torchvision's ResNet-18: the same parameter names and count, so its weights load as is.
//! let config = ModelConfig::preset("resnet18")?;
//! let vs = nn::VarStore::new(Device::Cpu);
//! let model = config.build(&vs.root())?;
//! assert!(vs.variables().contains_key("layer1.0.conv1.weight"));
//! let params: i64 = vs.trainable_variables().iter().map(|t| t.numel() as i64).sum();
//! assert_eq!(params, 11_689_512);
//!
//! // Layer groups, input to output: what fine-tuning schedules freeze and give rates to.
//! let groups: Vec<String> = model.layer_groups().into_iter().map(|g| g.name).collect();
//! assert_eq!(groups, ["stem", "layer1", "layer2", "layer3", "layer4", "head"]);
//!
//! let x = Tensor::randn([2, 3, 32, 32], (Kind::Float, Device::Cpu)); // [B, C, H, W]
//! let logits = model.forward_t(&x, false); // inference: BatchNorm's running statistics
//! assert_eq!(logits.size(), [2, 1000]);
//!
//! // The same network as a feature extractor, under a prefix, from a JSON config.
//! let features = ModelConfig::from_json(r#"{"kind": "resnet", "layers": [2, 2, 2, 2]}"#)?
//!     .without_head();
//! let vs = nn::VarStore::new(Device::Cpu);
//! let encoder = features.build(&(vs.root() / "encoder"))?;
//! assert_eq!(encoder.output_dim(), 512);
//! assert_eq!(encoder.forward_t(&x, false).size(), [2, 512]);
//! assert!(ModelConfig::preset("resnet19").is_err()); // the message lists the presets
//! # Ok(())
//! # }
//! ```

pub mod adapter;
pub mod base;
pub mod checkpoint;
pub mod cnn;
pub mod drq_cnn;
pub mod gpt;
pub mod impala;
pub mod inception;
pub mod input;
pub mod mlp;
pub mod norm;
pub mod resnet;
pub mod size;
pub mod transformer;
pub mod vgg;
pub mod vit;
pub mod zoo;

pub use base::{attach_head, key_has_prefix, Encoder, LayerGroup, WithHead};
pub use checkpoint::{Checkpoint, CheckpointMeta, LoadOptions, LoadReport};
pub use cnn::{minatar_cnn, nature_cnn, MinAtarCnn, MinAtarCnnConfig, NatureCnn, NatureCnnConfig};
pub use drq_cnn::{drq_cnn, DrqCnn, DrqCnnConfig};
pub use gpt::{
    decision_transformer, gpt, DecisionTransformer, DecisionTransformerConfig, Gpt, GptConfig,
};
pub use impala::{impala_cnn, ImpalaCnn, ImpalaCnnConfig};
pub use inception::{inception_v3, InceptionV3, InceptionV3Config};
pub use input::{check_input, InputShape};
pub use mlp::{mlp, Activation, Mlp, MlpConfig};
pub use norm::{BatchNorm2d, BnEvalScope};
pub use resnet::{resnet, BlockKind, ResNet, ResNetConfig, Stem};
pub use vgg::{vgg, Vgg, VggConfig};
pub use vit::{vit, Pool, Vit, VitConfig};
pub use zoo::{ModelConfig, PRESETS};
