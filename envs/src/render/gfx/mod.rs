//! A pixel-exact rasteriser with the semantics of the pygame primitives that Gymnasium's
//! classic-control `render()` methods call: `pygame.gfxdraw` (SDL_gfx 2.0: `hline`, `vline`,
//! `aapolygon`, `filled_polygon`, `aacircle`, `filled_circle`) and `pygame.draw` (`line`,
//! `aalines`) as shipped in pygame-ce 2.5.8, drawing into a 32-bit XRGB surface.
//!
//! The algorithms are re-implemented from their published descriptions (integer scanline
//! polygon fill with 16.16 fixed-point crossings, Wu lines with 8-bit weights, the
//! midpoint circle, Bresenham, and pygame's float Wu line), including their rounding and
//! truncation, so that full-size frames match Gymnasium's `rgb_array` output pixel for pixel
//! where possible. Coordinates are pygame surface coordinates (y down); the canvas stores
//! row `y` at row `height - 1 - y` of the frame, which is the vertical flip Gymnasium
//! applies before returning the frame, at no extra cost.

mod canvas;
mod pygame_draw;
mod sdl_gfx;

pub use canvas::{fill_rgb, gfx_coord, GfxCanvas, Rgb};
