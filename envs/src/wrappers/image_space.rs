//! The image check of the pixel wrappers: an observation space must be a `uint8` image box.

use crate::error::{EnvError, Result};
use crate::space::{BoxSpace, DType, Space};

/// The box of a `uint8` image space with bounds 0..=255, or the
/// error `wrapper` reports for any other space.
pub(super) fn image_box<'a>(space: &'a Space, wrapper: &str) -> Result<&'a BoxSpace> {
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
