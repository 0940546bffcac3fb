//! The encoder zoo: MLP, Nature-DQN / IMPALA / MinAtar CNNs, ResNet, VGG and ViT, each a
//! `tch` module implementing [`Encoder`] (output width + layer groups), configured by serde
//! structs, named after torchvision's `state_dict` keys; [`ModelConfig`] builds any of them
//! from JSON, and [`checkpoint`] saves and loads them as safetensors. [`gpt`] holds the
//! sequence models (GPT/BERT-style stacks, Decision Transformer) built from the same blocks.

pub mod adapter;
pub mod base;
pub mod checkpoint;
pub mod cnn;
pub mod gpt;
pub mod impala;
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
pub use gpt::{
    decision_transformer, gpt, DecisionTransformer, DecisionTransformerConfig, Gpt, GptConfig,
};
pub use impala::{impala_cnn, ImpalaCnn, ImpalaCnnConfig};
pub use input::{check_input, InputShape};
pub use mlp::{mlp, Activation, Mlp, MlpConfig};
pub use norm::{BatchNorm2d, BnEvalScope};
pub use resnet::{resnet, BlockKind, ResNet, ResNetConfig, Stem};
pub use vgg::{vgg, Vgg, VggConfig};
pub use vit::{vit, Pool, Vit, VitConfig};
pub use zoo::{ModelConfig, PRESETS};
