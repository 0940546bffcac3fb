//! Gymnasium's wrappers (1.x semantics), each generic over an inner [`Env`](crate::Env) and
//! itself an `Env`, so they stack: `FrameStackObservation::new(GrayscaleObservation::new(…)?, 4)`.
//!
//! Observation wrappers keep Graft's flat layout: pixel wrappers act on an observation's `u8`
//! part, state wrappers (normalization) on its `f32` part, and each reports the observation
//! space it produces. Bad configuration (a zero stack size, a grayscale of a non-image space,
//! rescaling a `Discrete` action space) is an [`EnvError`](crate::EnvError) at construction,
//! never a panic. Stepping before `reset` or after the episode ended is refused by the inner
//! env; no wrapper hides that.
//!
//! | Gymnasium | here |
//! |---|---|
//! | `RecordEpisodeStatistics` | [`RecordEpisodeStatistics`] |
//! | `AddRenderObservation` | [`AddRenderObservation`] (with a small-frame size option) |
//! | `GrayscaleObservation` | [`GrayscaleObservation`] |
//! | `ResizeObservation` | [`ResizeObservation`] |
//! | `FrameStackObservation` | [`FrameStackObservation`] |
//! | `NormalizeObservation` | [`NormalizeObservation`] |
//! | `ClipAction` | [`ClipAction`] |
//! | `RescaleAction` | [`RescaleAction`] |
//! | `RepeatAction` | [`RepeatAction`] |
//! | `TimeLimit` | [`TimeLimit`] |

// Declared first: the wrappers below use its macros.
#[macro_use]
mod macros;

pub mod clip_action;
pub mod episode_statistics;
pub mod frame_stack;
pub mod grayscale;
mod image_space;
pub mod normalize;
pub mod pixels;
pub mod render_observation;
pub mod repeat_action;
pub mod rescale_action;
pub mod resize;
pub mod time_limit;

pub use clip_action::ClipAction;
pub use episode_statistics::RecordEpisodeStatistics;
pub use frame_stack::{FrameStackObservation, Padding};
pub use grayscale::GrayscaleObservation;
pub use normalize::{NormalizeObservation, RunningMeanStd};
pub use pixels::PixelObservation;
pub use render_observation::{AddRenderObservation, RenderObservationConfig};
pub use repeat_action::RepeatAction;
pub use rescale_action::RescaleAction;
pub use resize::ResizeObservation;
pub use time_limit::TimeLimit;
