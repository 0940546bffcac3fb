//! Vector environments: N sub-environments stepped as one batch, with Gymnasium 1.x
//! `gymnasium.vector` semantics (autoreset modes, `seed + i` seeding, contiguous batch
//! buffers), sequentially or across a thread pool.

mod base;
mod config;
mod lanes;
mod pool;

pub use base::{BatchView, VectorEnv};
pub use config::{AutoresetMode, Execution, VectorConfig};
pub use lanes::BatchAction;

#[cfg(test)]
mod tests;
