//! `GrayscaleObservation`: RGB image observations to grayscale, as Gymnasium 1.x's
//! `gymnasium.wrappers.GrayscaleObservation`.
//!
//! Gymnasium 1.x computes `sum(rgb * [0.2125, 0.7154, 0.0721])` in `float64` and truncates to
//! `uint8` (`astype`), and so does this wrapper, bit for bit. Those are the ITU-R BT.709 luma
//! weights (as scikit-image uses), not the BT.601 weights (0.299, 0.587, 0.114) of OpenCV's
//! `cvtColor` that Gymnasium 0.x used through `AtariPreprocessing`.

use crate::env::{ActionRef, Env, Info, Kwargs, Obs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::space::{BoxSpace, DType, Space};

/// Gymnasium 1.x's luma weights for R, G, B.
pub const LUMA_WEIGHTS: [f64; 3] = [0.2125, 0.7154, 0.0721];

/// Converts `[H, W, 3]` `uint8` images to `[H, W]` (or `[H, W, 1]` with `keep_dim`).
#[derive(Debug)]
pub struct GrayscaleObservation<E> {
    env: E,
    space: Space,
    rgb: Obs,
}

inner_accessors!(GrayscaleObservation);

impl<E: Env> GrayscaleObservation<E> {
    /// Wrap an env whose observations are `[H, W, 3]` `uint8` images with bounds 0..=255;
    /// `keep_dim` keeps a channel axis of size 1.
    pub fn new(env: E, keep_dim: bool) -> Result<Self> {
        let b = super::image_space::image_box(env.observation_space(), "GrayscaleObservation")?;
        if b.shape.len() != 3 || b.shape[2] != 3 {
            return Err(EnvError::Space {
                space: env.observation_space().to_string(),
                reason: format!(
                    "{}: GrayscaleObservation requires an image with 3 channels, got shape {:?}",
                    env.id(),
                    b.shape
                ),
            });
        }
        let mut shape = vec![b.shape[0], b.shape[1]];
        if keep_dim {
            shape.push(1);
        }
        Ok(GrayscaleObservation {
            space: Space::Box(BoxSpace::uniform(0.0, 255.0, shape, DType::U8)),
            rgb: Obs::zeros(env.observation_space()),
            env,
        })
    }
}

/// Grayscale `rgb` (HWC bytes) into `out` (one byte per pixel), as Gymnasium 1.x does.
pub fn grayscale_into(rgb: &[u8], out: &mut [u8]) {
    let [wr, wg, wb] = LUMA_WEIGHTS;
    for (px, o) in rgb.chunks_exact(3).zip(out.iter_mut()) {
        let y = px[0] as f64 * wr + px[1] as f64 * wg + px[2] as f64 * wb;
        *o = y as u8; // truncates, as numpy's astype(uint8) does for values in range
    }
}

impl<E: Env> Env for GrayscaleObservation<E> {
    forward_env_basics!();

    fn observation_space(&self) -> &Space {
        &self.space
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        obs.check(&self.space, self.env.id())?;
        let info = self.env.reset_into(seed, options, self.rgb.as_mut())?;
        grayscale_into(&self.rgb.u8, obs.u8);
        Ok(info)
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        obs.check(&self.space, self.env.id())?;
        let out = self.env.step_into(action, self.rgb.as_mut())?;
        grayscale_into(&self.rgb.u8, obs.u8);
        Ok(out)
    }
}
