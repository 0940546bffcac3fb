//! What a run leaves behind for people to read: scalar metrics as CSV and TensorBoard event
//! files, plots, and the rules for claiming a run directory.

pub mod metrics;
pub mod plot;
pub mod run_dir;
pub mod tensorboard;

pub use metrics::{read_metrics_csv, MetricRow, MetricsLogger};
pub use run_dir::RunDirMode;
pub use tensorboard::EventWriter;
