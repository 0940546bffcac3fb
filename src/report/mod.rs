//! What a run leaves behind for people to read: scalar metrics as CSV and TensorBoard event
//! files.

pub mod metrics;
pub mod tensorboard;

pub use metrics::{read_metrics_csv, MetricRow, MetricsLogger};
pub use tensorboard::EventWriter;
