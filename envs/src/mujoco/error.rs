//! What the MuJoCo layer refuses, as one typed enum; it reaches callers as
//! [`EnvError::Mujoco`](crate::EnvError::Mujoco).

use thiserror::Error;

/// A failure of the MuJoCo library, a model, or a state handed to it.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum MujocoError {
    /// libmujoco could not be loaded (not provisioned, moved, or another version).
    #[error(
        "MuJoCo library unavailable ({path}): {reason}. Run scripts/setup.sh, which provisions \
         MuJoCo {version} from PyPI's mujoco wheel, and rebuild; or point GRAFT_MUJOCO_LIB at a \
         libmujoco.so.{version}"
    )]
    Library { path: String, version: String, reason: String },
    /// A model file that does not exist (Gymnasium: `OSError: File … does not exist`);
    /// `hint` says where names are looked up (may be empty).
    #[error("MuJoCo model file {path} does not exist{hint}")]
    XmlNotFound { path: String, hint: String },
    /// A model MuJoCo could not parse or compile; `message` is MuJoCo's.
    #[error("MuJoCo could not load the model {file}: {message}")]
    XmlInvalid { file: String, message: String },
    /// A model that loads but does not fit the environment (e.g. too few joints).
    #[error("{env}: the model {file} does not fit: {reason}")]
    ModelMismatch { env: String, file: String, reason: String },
    /// `set_state` with a vector of the wrong length.
    #[error("{env}: set_state: {what} has {got} values, the model has {expected}")]
    StateLength { env: String, what: String, expected: usize, got: usize },
    /// `set_state` with a NaN or infinite value.
    #[error("{env}: set_state: {what}[{index}] is {value}, not a finite number")]
    NonFiniteState { env: String, what: String, index: usize, value: f64 },
    /// MuJoCo raised a fatal error during a computation (e.g. its stack overflowed). The
    /// simulation state is unusable until the next `reset`.
    #[error("{env}: MuJoCo error in {call}: {message}; reset() the environment to continue")]
    Simulation { env: String, call: String, message: String },
    /// MuJoCo warned during a step or a reset of a DeepMind Control Suite task (e.g. the
    /// simulation became unstable); dm_control raises `PhysicsError` there. The state is
    /// unusable until the next `reset`.
    #[error("{env}: invalid physics state after {call} (MuJoCo warned: {warnings}); reset() the environment to continue")]
    PhysicsState { env: String, call: String, warnings: String },
    /// No offscreen OpenGL context for rendering: libEGL or Mesa's drivers are missing, or
    /// EGL refused a display or context.
    #[error(
        "MuJoCo rendering needs an offscreen OpenGL context through EGL ({library}): {reason}. \
         On Debian/Ubuntu: apt-get install libegl1 libegl-mesa0 libgl1-mesa-dri \
         (scripts/setup.sh does this when it runs as root)"
    )]
    GlUnavailable { library: String, reason: String },
    /// MuJoCo's renderer failed (creating its GL context, or drawing a frame).
    #[error("{env}: MuJoCo rendering failed in {call}: {message}")]
    Render { env: String, call: String, message: String },
}
