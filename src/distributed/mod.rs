//! Data-parallel training across processes on PyTorch's own distributed engine, c10d:
//! TCPStore rendezvous, Gloo on CPU, NCCL on CUDA — reached through a small C++ shim
//! (`csrc/c10d_shim.cpp`) compiled against the libtorch tch links, not a home-made protocol.
//!
//! The scheme is PyTorch DDP's (Li et al., "PyTorch Distributed: Experiences on Accelerating
//! Data Parallel Training", VLDB 2020): every rank holds a full replica, rank 0's parameters
//! are broadcast at start, each rank computes gradients on its own shard of the batch, and
//! the gradients are averaged with bucketed all-reduces before every optimizer step, so all
//! replicas take the same step as one process on the combined batch.
//!
//! - [`env`](mod@env): the torchrun environment contract ([`DistEnv`]).
//! - [`store`]: the TCPStore rendezvous.
//! - [`process_group`]: process groups and collectives ([`ProcessGroup`]).
//! - [`nccl`]: loading the NCCL part of the shim into a CPU-built binary.
//! - [`sampler`]: disjoint per-rank data shards ([`shard_indices`]).
//! - [`data_parallel`]: [`DataParallel`], the training-loop helper.
//! - [`launch`](mod@launch): spawning N local workers with the torchrun variables set.
//! - [`check`]: a small data-parallel training run (the `graft dist check` command).
//! - [`world`]: the job of this process and its one process group, for training loops.

pub mod check;
pub mod data_parallel;
pub mod env;
mod ffi;
pub mod launch;
pub mod nccl;
pub mod process_group;
pub mod sampler;
pub mod store;
pub mod world;

pub use check::{run_check, CheckConfig, CheckReport};
pub use data_parallel::DataParallel;
pub use env::DistEnv;
pub use launch::{launch, launch_with, LaunchOptions};
pub use process_group::{Backend, ProcessGroup};
pub use sampler::{rank_share, shard_indices, Remainder};
pub use store::Store;
