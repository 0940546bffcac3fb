//! Fine-tuning pretrained encoders: the three strategies ([`Strategy`]: feature extraction,
//! full fine-tuning, select layers), supervised data ([`Supervised`]), the training loop
//! ([`Finetuner`]) that Rhai schedules drive through hooks, and LoRA adapters ([`lora`]).

pub mod data;
pub mod lora;
pub mod strategy;
pub mod trainer;

pub use data::{Supervised, Task};
pub use lora::{Lora, LoraConfig, LORA_GROUP};
pub use strategy::{glob_match, Strategy};
pub use trainer::{train_batch_lengths, FinetuneConfig, Finetuner, FitSummary};
