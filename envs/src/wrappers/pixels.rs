//! The standard pixel-observation stack of pixel-based RL, as one serde-able setting:
//! rendered frames instead of the state ([`AddRenderObservation`] with `render_only`),
//! optionally grayscale ([`GrayscaleObservation`]), and the last `frame_stack` frames stacked
//! ([`FrameStackObservation`], reset padding) so a policy can see motion — a single frame of
//! CartPole carries no velocity. This is the preprocessing of DQN on Atari (Mnih et al. 2015,
//! "Human-level control through deep reinforcement learning": grayscale, 4 stacked frames),
//! without the Atari-specific parts (max-pooling, no-op starts).
//!
//! Observation shapes: `[H, W, C]` for one frame, `[k, H, W, C]` for `k` stacked frames
//! (oldest first), `C` = 3 (RGB) or 1 (gray: the channel axis is kept, so a frame's layout
//! never depends on the setting and a consumer need not guess which axis is which).

use serde::{Deserialize, Serialize};

use crate::env::Env;
use crate::error::{EnvError, Result};
use crate::wrappers::{
    AddRenderObservation, FrameStackObservation, GrayscaleObservation, RenderObservationConfig,
};

/// Pixel observations for an env (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PixelObservation {
    /// Frame `[width, height]`, rendered directly at that size.
    pub size: [u32; 2],
    /// Convert frames to one luma channel (Gymnasium's `GrayscaleObservation` weights).
    pub grayscale: bool,
    /// Frames stacked, oldest first (1: the current frame only).
    pub frame_stack: usize,
}

impl Default for PixelObservation {
    fn default() -> Self {
        PixelObservation { size: [64, 64], grayscale: false, frame_stack: 1 }
    }
}

/// The most values one pixel observation may hold (all frames of a stack together): 2^26,
/// an RGB 4096x4096 frame with room to spare, far above what RL from pixels uses (84x84x3
/// stacked 4 deep is 85k).
pub const MAX_OBSERVATION_VALUES: u64 = 1 << 26;

impl PixelObservation {
    /// Check the setting, naming the bad field.
    pub fn validate(&self) -> Result<()> {
        let [w, h] = self.size;
        if w == 0 || h == 0 || w > 4096 || h > 4096 {
            return Err(EnvError::Other(format!(
                "pixel observations: size {w}x{h} must be between 1x1 and 4096x4096"
            )));
        }
        if self.frame_stack == 0 || self.frame_stack > 64 {
            return Err(EnvError::Other(format!(
                "pixel observations: frame_stack {} must be between 1 and 64",
                self.frame_stack
            )));
        }
        // Every observation (and its space's per-element bounds) is allocated at this size:
        // 4096x4096 RGB frames stacked 64 deep are 3.2 G values, and aborted the process.
        let values = w as u64 * h as u64 * self.channels() as u64 * self.frame_stack as u64;
        if values > MAX_OBSERVATION_VALUES {
            return Err(EnvError::Other(format!(
                "pixel observations: {w}x{h}x{} frames stacked {} deep are {values} values per \
                 observation, more than the {MAX_OBSERVATION_VALUES} allowed; use smaller frames \
                 or fewer of them",
                self.channels(),
                self.frame_stack
            )));
        }
        Ok(())
    }

    /// Channels of one frame: 1 (grayscale) or 3.
    pub fn channels(&self) -> usize {
        if self.grayscale {
            1
        } else {
            3
        }
    }

    /// Wrap `env` so that it observes pixels as configured.
    pub fn wrap(&self, env: Box<dyn Env>) -> Result<Box<dyn Env>> {
        self.validate()?;
        let config = RenderObservationConfig {
            render_only: true,
            size: Some((self.size[0], self.size[1])),
            ..Default::default()
        };
        let env: Box<dyn Env> = Box::new(AddRenderObservation::with_config(env, config)?);
        let env: Box<dyn Env> =
            if self.grayscale { Box::new(GrayscaleObservation::new(env, true)?) } else { env };
        if self.frame_stack == 1 {
            return Ok(env);
        }
        Ok(Box::new(FrameStackObservation::new(env, self.frame_stack)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::{Action, Kwargs};

    fn shape(p: &PixelObservation) -> Vec<usize> {
        let env = p.wrap(crate::make("CartPole-v1", &Kwargs::new()).unwrap()).unwrap();
        match env.observation_space() {
            crate::Space::Box(b) => b.shape.clone(),
            other => panic!("not a box: {other}"),
        }
    }

    #[test]
    fn shapes_follow_the_setting() {
        let p =
            |grayscale, frame_stack| PixelObservation { size: [40, 30], grayscale, frame_stack };
        assert_eq!(shape(&p(false, 1)), vec![30, 40, 3]);
        assert_eq!(shape(&p(true, 1)), vec![30, 40, 1]);
        assert_eq!(shape(&p(true, 3)), vec![3, 30, 40, 1]);
        assert_eq!(shape(&p(false, 2)), vec![2, 30, 40, 3]);
    }

    #[test]
    fn stacked_frames_are_oldest_first_and_padded_with_the_first() {
        let p = PixelObservation { size: [24, 16], grayscale: true, frame_stack: 3 };
        let mut env = p.wrap(crate::make("CartPole-v1", &Kwargs::new()).unwrap()).unwrap();
        let (first, _) = env.reset(Some(3), &Kwargs::new()).unwrap();
        let frame = 24 * 16;
        assert_eq!(first.u8[..frame], first.u8[frame..2 * frame]);
        assert_eq!(first.u8[..frame], first.u8[2 * frame..]);
        let s1 = env.step(&Action::Discrete(1)).unwrap();
        let s2 = env.step(&Action::Discrete(1)).unwrap();
        // After two steps: [o0, o1, o2]; o1 is the newest frame of the previous stack.
        assert_eq!(s2.obs.u8[..frame], first.u8[..frame]);
        assert_eq!(s2.obs.u8[frame..2 * frame], s1.obs.u8[2 * frame..]);
        assert_ne!(s2.obs.u8[2 * frame..], s1.obs.u8[2 * frame..], "the cart moved");
    }

    #[test]
    fn bad_settings_are_named() {
        let e = PixelObservation { size: [0, 10], ..Default::default() }.validate().unwrap_err();
        assert!(e.to_string().contains("size 0x10"), "{e}");
        let e = PixelObservation { frame_stack: 0, ..Default::default() }.validate().unwrap_err();
        assert!(e.to_string().contains("frame_stack 0"), "{e}");
    }
}
