//! The one error type of `graft-envs`.

use thiserror::Error;

/// Everything an environment, space, wrapper or registry call can refuse.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum EnvError {
    /// An action that the action space does not contain.
    #[error("{env}: action {action} is outside the action space {space}")]
    InvalidAction { env: String, action: String, space: String },
    /// An action of the wrong kind or length (e.g. a vector for a `Discrete` space).
    #[error("{env}: expected {expected}, got {got}")]
    WrongActionShape { env: String, expected: String, got: String },
    /// A NaN or infinite value in a continuous action.
    #[error("{env}: action contains a non-finite value ({action})")]
    NonFiniteAction { env: String, action: String },
    /// `step` called before the first `reset`.
    #[error("{env}: step() called before reset()")]
    StepBeforeReset { env: String },
    /// `step` called after the episode terminated or was truncated, without a `reset`.
    #[error("{env}: step() called after the episode ended; call reset() first")]
    StepAfterDone { env: String },
    /// An environment id the registry does not know.
    #[error("unknown environment id '{id}'; known ids: {known}")]
    UnknownEnv { id: String, known: String },
    /// A keyword argument the environment does not accept, or a value of the wrong type.
    #[error("{env}: bad argument '{key}': {reason}")]
    BadKwarg { env: String, key: String, reason: String },
    /// A space that cannot do what was asked (e.g. sampling an unbounded integer space).
    #[error("space {space}: {reason}")]
    Space { space: String, reason: String },
    /// A buffer whose length does not match the space it should hold.
    #[error("{what}: expected {expected} values, got {got}")]
    LengthMismatch { what: String, expected: usize, got: usize },
    /// Rendering is not possible in the requested form.
    #[error("{env}: cannot render: {reason}")]
    Render { env: String, reason: String },
    /// A failure in a vector environment's worker, with the index of the sub-environment.
    #[error("sub-environment {index}: {source}")]
    SubEnv { index: usize, source: Box<EnvError> },
    /// A MuJoCo library, model or simulation failure
    /// (see [`MujocoError`](crate::mujoco::MujocoError)).
    #[error(transparent)]
    Mujoco(#[from] crate::mujoco::MujocoError),
    /// An Atari game could not be built or stepped (missing ROM, unknown game, bad mode).
    #[cfg(feature = "atari")]
    #[error(transparent)]
    Atari(#[from] crate::atari::AtariError),
    /// Anything else a wrapper or adapter must report.
    #[error("{0}")]
    Other(String),
}

/// `Result` with [`EnvError`].
pub type Result<T, E = EnvError> = std::result::Result<T, E>;
