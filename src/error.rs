//! The one error type of the `graft` crate.

use std::path::PathBuf;

use thiserror::Error;

/// Everything Graft can refuse or fail at. The binary prints it as one paragraph and exits
/// non-zero; it never reaches users as a panic.
#[derive(Debug, Error)]
pub enum Error {
    /// A device string that is not `auto`, `cpu`, `cuda` or `cuda:N`.
    #[error("unknown device '{0}': expected auto, cpu, cuda or cuda:N")]
    BadDevice(String),
    /// CUDA was asked for but cannot be used.
    #[error("device '{requested}' requested but CUDA is not available: {why}")]
    CudaUnavailable { requested: String, why: String },
    /// libtorch is missing or is not the version tch was built for.
    #[error(
        "{problem}; run `scripts/setup.sh` (CPU) or `scripts/setup.sh --cuda` (GPU), then rebuild"
    )]
    Libtorch { problem: String },
    /// A value that does not fit its tensor's expected shape.
    #[error("{what}: expected shape {expected:?}, got {got:?}")]
    ShapeMismatch { what: String, expected: Vec<i64>, got: Vec<i64> },
    /// An image smaller than a network accepts (its strides and pooling would leave nothing),
    /// refused before libtorch fails on a shape.
    #[error(
        "the model does not fit the data: {model} takes images of at least \
         {min_side}x{min_side}, but {data} has {got:?}"
    )]
    InputTooSmall { model: String, min_side: i64, data: String, got: Vec<i64> },
    /// A request that would need more memory than the machine has available, refused before
    /// anything is allocated.
    #[error(
        "{what} needs about {} but {} of memory is available; make it smaller",
        format_bytes(*needed),
        format_bytes(*available)
    )]
    TooLarge { what: String, needed: u128, available: u128 },
    /// A bad command-line or configuration value.
    #[error("{0}")]
    Invalid(String),
    /// Training produced a non-finite loss.
    #[error("training diverged at step {step}: loss is {loss}")]
    Diverged { step: usize, loss: f64 },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// An error from an environment.
    #[error(transparent)]
    Env(#[from] graft_envs::EnvError),
    /// An error from libtorch.
    #[error("libtorch: {0}")]
    Torch(#[from] tch::TchError),
    /// A checkpoint file that cannot be read, or does not match the model it is loaded into.
    #[error("checkpoint {path}: {problem}")]
    Checkpoint { path: PathBuf, problem: String },
    /// A command that writes a run was pointed at a directory that already holds one (see
    /// [`crate::report::run_dir`]).
    #[error(
        "run directory {dir} already holds a run ({found}); continue it with --resume, replace \
         it with --overwrite, or choose another directory"
    )]
    RunExists { dir: PathBuf, found: String },
    /// A trajectory dataset file that cannot be read or written, or is malformed.
    #[error("dataset {path}: {problem}")]
    Dataset { path: PathBuf, problem: String },
    /// An image dataset file or folder that cannot be read, or is malformed (a corrupt PNG,
    /// a CIFAR file of the wrong size, an IDX file with a bad magic number, an empty class).
    #[error("image dataset {path}: {problem}")]
    ImageData { path: PathBuf, problem: String },
    /// Distributed training: bad torchrun environment, failed rendezvous, a collective that
    /// failed because a rank died or timed out, a worker that exited.
    #[error("distributed: {0}")]
    Distributed(String),
    /// An image could not be encoded or decoded.
    #[error("image: {0}")]
    Image(#[from] image::ImageError),
    /// A Rhai script failed to parse or run: where (`file:line:col`), what, and the script
    /// call stack (outermost call first), each frame `function @ file:line:col`.
    #[error("{file}:{line}:{col}: {message}{}", format_stack(stack))]
    Script { file: String, line: usize, col: usize, message: String, stack: Vec<String> },
}

impl Error {
    /// Wrap an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }
}

/// A byte count in the largest binary unit that keeps it at or above 1 ("3.2 GiB").
pub fn format_bytes(bytes: u128) -> String {
    const UNITS: [&str; 7] = ["bytes", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} bytes")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// The script call stack as trailing text: "; called from f @ a.rhai:3:5 <- main.rhai:9:1".
fn format_stack(stack: &[String]) -> String {
    if stack.is_empty() {
        String::new()
    } else {
        format!("; call stack (innermost last): {}", stack.join(" -> "))
    }
}

/// `Result` with Graft's [`Error`](enum@Error).
pub type Result<T, E = Error> = std::result::Result<T, E>;
