//! Trajectory datasets: state-action data collected from environments, stored as Arrow IPC
//! files (memory-mapped, readable by pyarrow, pandas and polars) with Minari's field names.
//!
//! The layout is documented in [`schema`] and `docs/datasets.md`. [`DatasetWriter`] streams
//! episodes to disk atomically; [`Dataset`] maps a file and serves transitions, episodes,
//! windows and tensor batches; [`collect()`] runs a policy (random, a heuristic expert of
//! [`experts`]) in an environment and writes what it sees; [`parquet`] converts to and from
//! Parquet; [`validate()`] checks a file end to end.
//!
//! Image data: [`images`] (ImageFolder, CIFAR, MNIST IDX, trajectory frames, in-memory),
//! [`augment`] (torchvision-exact augmentations, SimCLR and DrQ presets) and [`loader`]
//! (multi-threaded, seeded batches as tensors).

pub mod augment;
pub mod collect;
mod columns;
pub mod experts;
pub mod images;
pub mod ipc;
pub mod loader;
pub mod parquet;
pub mod reader;
pub mod schema;
pub mod validate;
pub mod writer;

pub use collect::{collect, CollectConfig, CollectSummary, PolicySpec};
pub use experts::{expert_for, Policy, RandomPolicy};
pub use ipc::Compression;
pub use reader::{Batch, Dataset, Episode, EpisodeIndex, Transition};
pub use schema::{ActionColumn, DatasetMeta, Layout, ObsColumn, ObsView};
pub use validate::{validate, Report};
pub use writer::{DatasetWriter, NewDataset, WriterOptions};
