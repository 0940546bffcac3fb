//! The `pygame.gfxdraw` primitives as SDL_gfx 2.0 draws them: `hline`, `vline`, `aapolygon`
//! (Wu lines with 8-bit weights, Cohen-Sutherland clipped), `filled_polygon` (16.16
//! fixed-point scanline fill), `filled_circle` (midpoint circle) and `aacircle`.

use super::canvas::{fill_rgb, GfxCanvas, Rgb};

impl GfxCanvas<'_> {
    /// `gfxdraw.hline`: pixels `x1..=x2` of row `y` (either order), clipped.
    pub fn hline(&mut self, x1: i32, x2: i32, y: i32, c: Rgb) {
        let (a, b) = if x1 <= x2 { (x1, x2) } else { (x2, x1) };
        if y < 0 || y >= self.h || b < 0 || a >= self.w {
            return;
        }
        let (a, b) = (a.max(0), b.min(self.w - 1));
        let i = self.at(a, y);
        let j = self.at(b, y) + 3;
        fill_rgb(&mut self.px[i..j], c);
    }

    /// `gfxdraw.vline`: pixels `y1..=y2` of column `x` (either order), clipped.
    pub fn vline(&mut self, x: i32, y1: i32, y2: i32, c: Rgb) {
        let (a, b) = if y1 <= y2 { (y1, y2) } else { (y2, y1) };
        if x < 0 || x >= self.w || b < 0 || a >= self.h {
            return;
        }
        for y in a.max(0)..=b.min(self.h - 1) {
            self.put(x, y, c);
        }
    }

    /// SDL_gfx's Cohen-Sutherland clip of a line to the surface; `false` when nothing is left.
    fn clip_line(&self, p: &mut [i32; 4]) -> bool {
        const LEFT: u8 = 1;
        const RIGHT: u8 = 2;
        const BOTTOM: u8 = 4;
        const TOP: u8 = 8;
        let (left, right, top, bottom) = (0, self.w - 1, 0, self.h - 1);
        let code = |x: i32, y: i32| {
            let mut c = 0;
            if x < left {
                c |= LEFT;
            } else if x > right {
                c |= RIGHT;
            }
            if y < top {
                c |= TOP;
            } else if y > bottom {
                c |= BOTTOM;
            }
            c
        };
        // Each pass moves one endpoint onto an edge, so a few passes always finish.
        for _ in 0..8 {
            let mut c1 = code(p[0], p[1]);
            let c2 = code(p[2], p[3]);
            if c1 | c2 == 0 {
                return true;
            }
            if c1 & c2 != 0 {
                return false;
            }
            if c1 == 0 {
                p.swap(0, 2);
                p.swap(1, 3);
                c1 = c2;
            }
            let m = if p[2] != p[0] { (p[3] - p[1]) as f32 / (p[2] - p[0]) as f32 } else { 1.0 };
            if c1 & LEFT != 0 {
                p[1] += ((left - p[0]) as f32 * m) as i16 as i32;
                p[0] = left;
            } else if c1 & RIGHT != 0 {
                p[1] += ((right - p[0]) as f32 * m) as i16 as i32;
                p[0] = right;
            } else if c1 & BOTTOM != 0 {
                if p[2] != p[0] {
                    p[0] += ((bottom - p[1]) as f32 / m) as i16 as i32;
                }
                p[1] = bottom;
            } else if c1 & TOP != 0 {
                if p[2] != p[0] {
                    p[0] += ((top - p[1]) as f32 / m) as i16 as i32;
                }
                p[1] = top;
            }
        }
        false
    }

    /// SDL_gfx's Wu line without its last endpoint (as `aapolygon` draws its edges).
    fn aaline_open(&mut self, x1: i32, y1: i32, x2: i32, y2: i32, c: Rgb) {
        let mut p = [x1, y1, x2, y2];
        if !self.clip_line(&mut p) {
            return;
        }
        let [x1, y1, x2, y2] = p;
        let (mut xx0, mut yy0, xx1, yy1) =
            if y1 > y2 { (x2, y2, x1, y1) } else { (x1, y1, x2, y2) };
        let mut dx = xx1 - xx0;
        let mut dy = yy1 - yy0;
        if dx == 0 {
            if dy > 0 {
                self.vline(x1, yy0, yy0 + dy, c);
            } else {
                self.pixel_alpha(x1, y1, c, 255);
            }
            return;
        }
        if dy == 0 {
            self.hline(xx0, xx0 + dx, y1, c);
            return;
        }
        let xdir = if dx >= 0 { 1 } else { -1 };
        dx = dx.abs();
        let mut erracc: u32 = 0;
        self.pixel_alpha(x1, y1, c, 255);
        if dy > dx {
            let erradj = (((dx << 16) / dy) as u32) << 16;
            let mut x0pxdir = xx0 + xdir;
            dy -= 1;
            while dy > 0 {
                dy -= 1;
                let prev = erracc;
                erracc = erracc.wrapping_add(erradj);
                if erracc <= prev {
                    xx0 = x0pxdir;
                    x0pxdir += xdir;
                }
                yy0 += 1;
                let wgt = (erracc >> 24) & 255;
                self.pixel_weight(xx0, yy0, c, 255 - wgt);
                self.pixel_weight(x0pxdir, yy0, c, wgt);
            }
        } else {
            let erradj = (((dy << 16) / dx) as u32) << 16;
            let mut y0p1 = yy0 + 1;
            dx -= 1;
            while dx > 0 {
                dx -= 1;
                let prev = erracc;
                erracc = erracc.wrapping_add(erradj);
                if erracc <= prev {
                    yy0 = y0p1;
                    y0p1 += 1;
                }
                xx0 += xdir;
                let wgt = (erracc >> 24) & 255;
                self.pixel_weight(xx0, yy0, c, 255 - wgt);
                self.pixel_weight(xx0, y0p1, c, wgt);
            }
        }
    }

    /// `gfxdraw.aapolygon`: the anti-aliased outline through integer vertices.
    pub fn aapolygon(&mut self, pts: &[(i32, i32)], c: Rgb) {
        let n = pts.len();
        if n < 3 {
            return;
        }
        for i in 0..n {
            let (a, b) = (pts[i], pts[(i + 1) % n]);
            self.aaline_open(a.0, a.1, b.0, b.1, c);
        }
    }

    /// `gfxdraw.filled_polygon`: SDL_gfx's scanline fill (16.16 fixed-point crossings,
    /// spans rounded inward), for up to 8 vertices. Rows outside the frame are skipped.
    pub fn filled_polygon(&mut self, pts: &[(i32, i32)], c: Rgb) {
        let n = pts.len();
        if !(3..=8).contains(&n) {
            return;
        }
        // SDL_gfx's min/max scan (its `else if` is kept: it decides the last row).
        let (mut miny, mut maxy) = (pts[0].1, pts[0].1);
        for p in &pts[1..] {
            if p.1 < miny {
                miny = p.1;
            } else if p.1 > maxy {
                maxy = p.1;
            }
        }
        let mut ints = [0i32; 8];
        for y in miny.max(0)..=maxy.min(self.h - 1) {
            let mut k = 0;
            for i in 0..n {
                let (a, b) = (pts[(i + n - 1) % n], pts[i]);
                let (x1, y1, x2, y2) = if a.1 < b.1 {
                    (a.0, a.1, b.0, b.1)
                } else if a.1 > b.1 {
                    (b.0, b.1, a.0, a.1)
                } else {
                    continue;
                };
                if (y >= y1 && y < y2) || (y == maxy && y > y1 && y <= y2) {
                    ints[k] = ((65536i32.wrapping_mul(y - y1)) / (y2 - y1))
                        .wrapping_mul(x2 - x1)
                        .wrapping_add(65536i32.wrapping_mul(x1));
                    k += 1;
                }
            }
            let ints = &mut ints[..k];
            ints.sort_unstable();
            for pair in ints.chunks_exact(2) {
                let xa = pair[0].wrapping_add(1);
                let xa = (xa >> 16) + ((xa & 32768) >> 15);
                let xb = pair[1].wrapping_sub(1);
                let xb = (xb >> 16) + ((xb & 32768) >> 15);
                self.hline(xa, xb, y, c);
            }
        }
    }

    /// `gfxdraw.filled_circle`: SDL_gfx's midpoint circle filled with horizontal spans.
    pub fn filled_circle(&mut self, x: i32, y: i32, rad: i32, c: Rgb) {
        if rad < 0 {
            return;
        }
        if rad == 0 {
            self.pixel_alpha(x, y, c, 255);
            return;
        }
        let (mut cx, mut cy) = (0i32, rad);
        let (mut ocx, mut ocy) = (-1i32, -1i32);
        let (mut df, mut d_e, mut d_se) = (1 - rad, 3, -2 * rad + 5);
        loop {
            if ocy != cy {
                if cy > 0 {
                    self.hline(x - cx, x + cx, y + cy, c);
                    self.hline(x - cx, x + cx, y - cy, c);
                } else {
                    self.hline(x - cx, x + cx, y, c);
                }
                ocy = cy;
            }
            if ocx != cx {
                if cx != cy {
                    if cx > 0 {
                        self.hline(x - cy, x + cy, y - cx, c);
                        self.hline(x - cy, x + cy, y + cx, c);
                    } else {
                        self.hline(x - cy, x + cy, y, c);
                    }
                }
                ocx = cx;
            }
            if df < 0 {
                df += d_e;
                d_e += 2;
                d_se += 2;
            } else {
                df += d_se;
                d_e += 2;
                d_se += 4;
                cy -= 1;
            }
            cx += 1;
            if cx > cy {
                break;
            }
        }
    }

    /// `gfxdraw.aacircle`: SDL_gfx's anti-aliased ellipse with equal radii.
    pub fn aacircle(&mut self, x: i32, y: i32, rad: i32, c: Rgb) {
        if rad < 0 {
            return;
        }
        if rad == 0 {
            self.vline(x, y, y, c);
            return;
        }
        let (a2, b2) = (rad * rad, rad * rad);
        let (ds, dt) = (2 * a2, 2 * b2);
        let (xc2, yc2) = (2 * x, 2 * y);
        let sab = ((a2 + b2) as f64).sqrt();
        let dxt = (a2 as f64 / sab).round_ties_even() as i32;
        let (mut t, mut s, mut d) = (0i32, -2 * a2 * rad, 0i32);
        let (mut xp, mut yp) = (x, y - rad);
        self.pixel_alpha(xp, yp, c, 255);
        self.pixel_alpha(xc2 - xp, yp, c, 255);
        self.pixel_alpha(xp, yc2 - yp, c, 255);
        self.pixel_alpha(xc2 - xp, yc2 - yp, c, 255);
        let weight_of = |num: i32, den: i32| -> (u32, u32) {
            let cp = if den != 0 { (num.abs() as f32 / den.abs() as f32).min(1.0) } else { 1.0 };
            let w = (cp * 255.0) as u8 as u32;
            (w, 255 - w)
        };
        for _ in 1..=dxt {
            xp -= 1;
            d += t - b2;
            let ys;
            if d >= 0 {
                ys = yp - 1;
            } else if d - s - a2 > 0 {
                if 2 * d - s - a2 >= 0 {
                    ys = yp + 1;
                } else {
                    ys = yp;
                    yp += 1;
                    d -= s + a2;
                    s += ds;
                }
            } else {
                yp += 1;
                ys = yp + 1;
                d -= s + a2;
                s += ds;
            }
            t -= dt;
            let (w, iw) = weight_of(d, s);
            let xx = xc2 - xp;
            self.pixel_weight(xp, yp, c, iw);
            self.pixel_weight(xx, yp, c, iw);
            self.pixel_weight(xp, ys, c, w);
            self.pixel_weight(xx, ys, c, w);
            let yy = yc2 - yp;
            self.pixel_weight(xp, yy, c, iw);
            self.pixel_weight(xx, yy, c, iw);
            let yy = yc2 - ys;
            self.pixel_weight(xp, yy, c, w);
            self.pixel_weight(xx, yy, c, w);
        }
        let dyt = (b2 as f64 / sab).round_ties_even() as i32;
        for _ in 1..=dyt {
            yp += 1;
            d -= s + a2;
            let xs;
            if d <= 0 {
                xs = xp + 1;
            } else if d + t - b2 < 0 {
                if 2 * d + t - b2 <= 0 {
                    xs = xp - 1;
                } else {
                    xs = xp;
                    xp -= 1;
                    d += t - b2;
                    t -= dt;
                }
            } else {
                xp -= 1;
                xs = xp - 1;
                d += t - b2;
                t -= dt;
            }
            s += ds;
            let (w, iw) = weight_of(d, t);
            let (xx, yy) = (xc2 - xp, yc2 - yp);
            self.pixel_weight(xp, yp, c, iw);
            self.pixel_weight(xx, yp, c, iw);
            self.pixel_weight(xp, yy, c, iw);
            self.pixel_weight(xx, yy, c, iw);
            let xx = xc2 - xs;
            self.pixel_weight(xs, yp, c, w);
            self.pixel_weight(xx, yp, c, w);
            self.pixel_weight(xs, yy, c, w);
            self.pixel_weight(xx, yy, c, w);
        }
    }
}
