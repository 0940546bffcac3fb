//! [`GfxCanvas`]: the frame being drawn (pygame surface coordinates, stored flipped), its
//! pixel access and blending, and the colour helpers the rasteriser shares.

/// An RGB colour.
pub type Rgb = [u8; 3];

/// Truncate a coordinate the way pygame's gfxdraw reads it: Python `int()` (toward zero),
/// then a cast to `Sint16` (wrapping). Non-finite values become 0.
pub fn gfx_coord(v: f64) -> i32 {
    (v as i64) as i16 as i32
}

/// Blend one channel the way SDL_gfx's 32-bpp `_putPixelAlpha` does, in wrapping `u32`
/// arithmetic on the channel's bit position (XRGB8888 shifts are 16, 8 and 0).
#[inline]
fn sdlgfx_blend(dst: u8, src: u8, alpha: u32, shift: u32) -> u8 {
    let mask = 0xffu32 << shift;
    let dc = (dst as u32) << shift;
    let sc = (src as u32) << shift;
    let delta = (sc.wrapping_sub(dc) >> shift).wrapping_mul(alpha) >> 8;
    ((dc.wrapping_add(delta << shift) & mask) >> shift) as u8
}

/// A frame being drawn with pygame semantics (see the `gfx` module header).
pub struct GfxCanvas<'a> {
    pub(super) px: &'a mut [u8],
    pub(super) w: i32,
    pub(super) h: i32,
}

impl<'a> GfxCanvas<'a> {
    /// Wrap `px` (`w * h * 3` bytes, checked by the caller).
    pub fn new(px: &'a mut [u8], w: u32, h: u32) -> Self {
        GfxCanvas { px, w: w as i32, h: h as i32 }
    }

    /// Byte offset of surface pixel (x, y), after the vertical flip.
    #[inline]
    pub(super) fn at(&self, x: i32, y: i32) -> usize {
        (((self.h - 1 - y) * self.w + x) * 3) as usize
    }

    #[inline]
    pub(super) fn inside(&self, x: i32, y: i32) -> bool {
        x >= 0 && y >= 0 && x < self.w && y < self.h
    }

    /// Fill the whole frame with one colour (a single `memset` for grey levels).
    pub fn fill(&mut self, c: Rgb) {
        fill_rgb(self.px, c);
    }

    /// Store a pixel (clipped).
    #[inline]
    pub fn put(&mut self, x: i32, y: i32, c: Rgb) {
        if self.inside(x, y) {
            let i = self.at(x, y);
            self.px[i..i + 3].copy_from_slice(&c);
        }
    }

    /// Read a pixel (the caller checks bounds).
    #[inline]
    pub(super) fn get(&self, x: i32, y: i32) -> Rgb {
        let i = self.at(x, y);
        [self.px[i], self.px[i + 1], self.px[i + 2]]
    }

    /// SDL_gfx `pixelColor`: store when `alpha == 255`, otherwise blend.
    #[inline]
    pub(super) fn pixel_alpha(&mut self, x: i32, y: i32, c: Rgb, alpha: u32) {
        if !self.inside(x, y) {
            return;
        }
        if alpha >= 255 {
            self.put(x, y, c);
            return;
        }
        let i = self.at(x, y);
        self.px[i] = sdlgfx_blend(self.px[i], c[0], alpha, 16);
        self.px[i + 1] = sdlgfx_blend(self.px[i + 1], c[1], alpha, 8);
        self.px[i + 2] = sdlgfx_blend(self.px[i + 2], c[2], alpha, 0);
    }

    /// SDL_gfx `pixelColorWeight` for an opaque colour: alpha = 255 * weight >> 8.
    #[inline]
    pub(super) fn pixel_weight(&mut self, x: i32, y: i32, c: Rgb, weight: u32) {
        self.pixel_alpha(x, y, c, (255 * weight) >> 8);
    }

    /// Blend a colour over pixel (x, y) with coverage `alpha` in [0, 1] (SDL's blit of a
    /// per-pixel-alpha surface onto an opaque one).
    #[inline]
    pub fn blend(&mut self, x: i32, y: i32, c: Rgb, alpha: f32) {
        if !self.inside(x, y) || alpha <= 0.0 {
            return;
        }
        let a = (alpha.min(1.0) * 255.0 + 0.5) as u32;
        let i = self.at(x, y);
        for (d, &s) in self.px[i..i + 3].iter_mut().zip(&c) {
            // dst + (src - dst) * a / 255, rounded.
            *d = ((*d as u32 * (255 - a) + s as u32 * a + 127) / 255) as u8;
        }
    }
}

/// Fill `px` (whole RGB pixels) with `c`: one `memset` when the channels are equal.
pub fn fill_rgb(px: &mut [u8], c: Rgb) {
    if c[0] == c[1] && c[1] == c[2] {
        px.fill(c[0]);
    } else {
        for p in px.chunks_exact_mut(3) {
            p.copy_from_slice(&c);
        }
    }
}
