//! An anti-aliased coverage rasteriser for frames drawn directly at a size other than the
//! scene's native one (e.g. 84x84 for pixel-based RL).
//!
//! Shapes are convex polygons and discs in continuous pixel coordinates of the target frame
//! (y down, origin at the top-left corner of the top-left pixel). Each pixel row is sampled
//! on [`SUBROWS`] horizontal sub-scanlines; on each, the shape's span is exact in x, so a
//! pixel's coverage is the mean overlap of the spans with it. The colour is then blended
//! with that coverage, which approximates an area-averaging resize of the full-size frame
//! without drawing it. No allocation: spans are computed on the fly.

use super::gfx::{fill_rgb, Rgb};

/// Sub-scanlines per pixel row.
const SUBROWS: usize = 4;

/// A frame being drawn with coverage anti-aliasing.
pub struct AaCanvas<'a> {
    px: &'a mut [u8],
    w: i32,
    h: i32,
}

impl<'a> AaCanvas<'a> {
    /// Wrap `px` (`w * h * 3` bytes, checked by the caller).
    pub fn new(px: &'a mut [u8], w: u32, h: u32) -> Self {
        AaCanvas { px, w: w as i32, h: h as i32 }
    }

    /// Fill the whole frame with one colour.
    pub fn fill(&mut self, c: Rgb) {
        fill_rgb(self.px, c);
    }

    /// Fill a convex polygon (vertices in order, either winding; at most 8 are used).
    pub fn convex(&mut self, pts: &[(f32, f32)], c: Rgb) {
        let n = pts.len().min(8);
        if n < 3 {
            return;
        }
        let pts = &pts[..n];
        let (mut y0, mut y1) = (f32::INFINITY, f32::NEG_INFINITY);
        for p in pts {
            y0 = y0.min(p.1);
            y1 = y1.max(p.1);
        }
        self.spans(y0, y1, c, |y| {
            let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
            for i in 0..n {
                let (a, b) = (pts[i], pts[(i + 1) % n]);
                if (a.1 <= y && y < b.1) || (b.1 <= y && y < a.1) {
                    let x = a.0 + (y - a.1) * (b.0 - a.0) / (b.1 - a.1);
                    lo = lo.min(x);
                    hi = hi.max(x);
                }
            }
            (lo < hi).then_some((lo, hi))
        });
    }

    /// Fill an ellipse centred at (cx, cy) with radii (rx, ry) (a disc scaled per axis).
    pub fn ellipse(&mut self, cx: f32, cy: f32, rx: f32, ry: f32, c: Rgb) {
        if rx <= 0.0 || ry <= 0.0 {
            return;
        }
        self.spans(cy - ry, cy + ry, c, |y| {
            let t = (y - cy) / ry;
            let q = 1.0 - t * t;
            (q > 0.0).then(|| {
                let half = rx * q.sqrt();
                (cx - half, cx + half)
            })
        });
    }

    /// Blend `c` over pixel (x, y) with coverage `alpha` in [0, 1] (clipped).
    pub fn blend_pixel(&mut self, x: u32, y: u32, c: Rgb, alpha: f32) {
        if x >= self.w as u32 || y >= self.h as u32 || alpha <= 0.0 {
            return;
        }
        let i = (y as usize * self.w as usize + x as usize) * 3;
        mix(&mut self.px[i..i + 3], c, alpha.min(1.0));
    }

    /// Rasterise a shape given by its horizontal span at each height `y` (`None` outside),
    /// over rows covering `[y0, y1]`, blending `c` by coverage.
    fn spans(&mut self, y0: f32, y1: f32, c: Rgb, span: impl Fn(f32) -> Option<(f32, f32)>) {
        if !(y0.is_finite() && y1.is_finite()) {
            return;
        }
        let r0 = (y0.floor() as i32).max(0);
        let r1 = (y1.ceil() as i32).min(self.h);
        let mut sub = [(0.0f32, 0.0f32); SUBROWS];
        for row in r0..r1 {
            let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
            for (k, s) in sub.iter_mut().enumerate() {
                let y = row as f32 + (k as f32 + 0.5) / SUBROWS as f32;
                *s = span(y).unwrap_or((0.0, 0.0));
                if s.0 < s.1 {
                    lo = lo.min(s.0);
                    hi = hi.max(s.1);
                }
            }
            if lo >= hi {
                continue;
            }
            let c0 = (lo.floor() as i32).max(0);
            let c1 = (hi.ceil() as i32).min(self.w);
            let base = (row * self.w) as usize * 3;
            for col in c0..c1 {
                let (a, b) = (col as f32, col as f32 + 1.0);
                let mut cov = 0.0;
                for s in &sub {
                    cov += (s.1.min(b) - s.0.max(a)).max(0.0);
                }
                let cov = cov / SUBROWS as f32;
                if cov <= 0.0 {
                    continue;
                }
                let i = base + col as usize * 3;
                if cov >= 0.999 {
                    self.px[i..i + 3].copy_from_slice(&c);
                } else {
                    mix(&mut self.px[i..i + 3], c, cov);
                }
            }
        }
    }
}

/// `dst + (c - dst) * a`, rounded, for one RGB pixel.
#[inline]
fn mix(dst: &mut [u8], c: Rgb, a: f32) {
    for (d, &s) in dst.iter_mut().zip(&c) {
        let v = *d as f32;
        *d = (v + (s as f32 - v) * a + 0.5) as u8;
    }
}
