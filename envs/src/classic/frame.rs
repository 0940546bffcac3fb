//! Frames of the classic-control envs: a fresh full-size image, and the error for rendering
//! before the first `reset`.

use image::RgbImage;

use crate::error::{EnvError, Result};

/// The error for rendering before the first `reset` (Gymnasium returns `None` there).
pub(crate) fn render_before_reset(env: &str) -> EnvError {
    EnvError::Render { env: env.to_string(), reason: "call reset() before render()".into() }
}

/// A full-size frame drawn by `draw` into a fresh image.
pub(crate) fn full_frame(
    width: u32,
    height: u32,
    draw: impl FnOnce(u32, u32, &mut [u8]) -> Result<()>,
) -> Result<RgbImage> {
    let mut img = RgbImage::new(width, height);
    draw(width, height, &mut img)?;
    Ok(img)
}
