//! Graft's API as Rhai static modules — `model`, `data`, `finetune`, `pretrain`, `rl`,
//! `report`, `env` — plus
//! the run-level functions `param(name, default)`, `seed()`, `run_dir()`, `threads()` and
//! `set_threads(n)` (libtorch's intra-op threads for the rest of the run). Heavy work
//! happens in Rust: a script call starts a whole collection, training run or evaluation,
//! never one sample. Config maps go through `rhai::serde::from_dynamic` into the same serde
//! structs JSON files use.

// Declared first: `api_fn!` is in scope for the modules below.
#[macro_use]
mod macros;

mod bridge;
pub mod data;
pub mod env;
pub mod finetune;
pub mod model;
pub mod pretrain;
mod register;
pub mod report;
pub mod rl;

use bridge::RhaiResult;

pub(crate) use bridge::{fail, from_map, located, to_dyn};
pub use register::register_all;
