//! Rendering: RGB frames with Gymnasium's `rgb_array` geometry and colours, and a direct
//! small-frame path for pixel-based RL.

mod aa;
pub mod classic;
mod gfx;
mod resize;

pub use resize::resize_rgb_into;
