//! Gymnasium's wrappers (1.x semantics), each generic over an inner [`Env`](crate::Env) and
//! itself an `Env`, so they stack: `FrameStackObservation::new(GrayscaleObservation::new(…)?, 4)`.
//!
//! Observation wrappers keep Graft's flat layout: pixel wrappers act on an observation's `u8`
//! part, state wrappers (normalization) on its `f32` part, and each reports the observation
//! space it produces. Bad configuration (a zero stack size, a grayscale of a non-image space,
//! rescaling a `Discrete` action space) is an [`EnvError`] at construction,
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

/// The `Env` methods every wrapper passes straight through (`id`, rendering, and
/// `check_action` for wrappers that hand actions on unchanged), for wrappers whose inner env
/// sits in the field `env`. Wrappers with an action space of their own (`ClipAction`,
/// `RescaleAction`) write `forward_env_basics!(own_action_space)` and keep the default
/// `check_action`, which checks their own space.
macro_rules! forward_env_basics {
    () => {
        forward_env_basics!(own_action_space);

        fn check_action(&self, action: $crate::env::ActionRef<'_>) -> $crate::error::Result<()> {
            self.env.check_action(action)
        }
    };
    (own_action_space) => {
        fn id(&self) -> &str {
            self.env.id()
        }

        fn render(&self) -> $crate::error::Result<image::RgbImage> {
            self.env.render()
        }

        fn render_into(
            &self,
            width: u32,
            height: u32,
            out: &mut [u8],
        ) -> $crate::error::Result<()> {
            self.env.render_into(width, height, out)
        }

        fn render_fps(&self) -> u32 {
            self.env.render_fps()
        }
    };
}

/// `inner`, `inner_mut` and `into_inner` for a wrapper whose inner env sits in `env`.
macro_rules! inner_accessors {
    ($ty:ident) => {
        impl<E> $ty<E> {
            /// The wrapped env.
            pub fn inner(&self) -> &E {
                &self.env
            }

            /// The wrapped env, mutably. Changing its state behind the wrapper's back can
            /// desynchronise the wrapper's own state (stacks, statistics).
            pub fn inner_mut(&mut self) -> &mut E {
                &mut self.env
            }

            /// Unwrap, dropping the wrapper's state.
            pub fn into_inner(self) -> E {
                self.env
            }
        }
    };
}

pub mod clip_action;
pub mod episode_statistics;
pub mod frame_stack;
pub mod grayscale;
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

use crate::error::{EnvError, Result};
use crate::space::{BoxSpace, DType, Space};

/// The box of a `uint8` image space with bounds 0..=255, or the
/// error `wrapper` reports for any other space.
fn image_box<'a>(space: &'a Space, wrapper: &str) -> Result<&'a BoxSpace> {
    let reason = match space {
        Space::Box(b) if b.dtype != DType::U8 => {
            format!("{wrapper} requires a uint8 image, got dtype {}", b.dtype.name())
        }
        Space::Box(b)
            if !(b.low.iter().all(|&l| l == 0.0) && b.high.iter().all(|&h| h == 255.0)) =>
        {
            format!("{wrapper} requires observation bounds 0 to 255")
        }
        Space::Box(b) => return Ok(b),
        other => format!("{wrapper} requires a Box observation space, got {other}"),
    };
    Err(EnvError::Space { space: space.to_string(), reason })
}
