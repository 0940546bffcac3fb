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

/// A frame being drawn with pygame semantics (see the module header).
pub struct GfxCanvas<'a> {
    px: &'a mut [u8],
    w: i32,
    h: i32,
}

impl<'a> GfxCanvas<'a> {
    /// Wrap `px` (`w * h * 3` bytes, checked by the caller).
    pub fn new(px: &'a mut [u8], w: u32, h: u32) -> Self {
        GfxCanvas { px, w: w as i32, h: h as i32 }
    }

    /// Byte offset of surface pixel (x, y), after the vertical flip.
    #[inline]
    fn at(&self, x: i32, y: i32) -> usize {
        (((self.h - 1 - y) * self.w + x) * 3) as usize
    }

    #[inline]
    fn inside(&self, x: i32, y: i32) -> bool {
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
    fn get(&self, x: i32, y: i32) -> Rgb {
        let i = self.at(x, y);
        [self.px[i], self.px[i + 1], self.px[i + 2]]
    }

    /// SDL_gfx `pixelColor`: store when `alpha == 255`, otherwise blend.
    #[inline]
    fn pixel_alpha(&mut self, x: i32, y: i32, c: Rgb, alpha: u32) {
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
    fn pixel_weight(&mut self, x: i32, y: i32, c: Rgb, weight: u32) {
        self.pixel_alpha(x, y, c, (255 * weight) >> 8);
    }

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

    /// `pygame.draw.line` with width 1: Bresenham between integer endpoints, both included.
    pub fn line(&mut self, x1: i32, y1: i32, x2: i32, y2: i32, c: Rgb) {
        let (mut x, mut y) = (x1, y1);
        let (dx, sx) = ((x2 - x1).abs(), if x1 < x2 { 1 } else { -1 });
        let (dy, sy) = ((y2 - y1).abs(), if y1 < y2 { 1 } else { -1 });
        if y1 == y2 {
            for k in 0..=dx {
                self.put(x1 + sx * k, y1, c);
            }
            return;
        }
        if x1 == x2 {
            for k in 0..=dy {
                self.put(x1, y1 + sy * k, c);
            }
            return;
        }
        let mut err = (if dx > dy { dx } else { -dy }) / 2;
        while x != x2 || y != y2 {
            self.put(x, y, c);
            let e2 = err;
            if e2 > -dx {
                err -= dy;
                x += sx;
            }
            if e2 < dy {
                err += dx;
                y += sy;
            }
        }
        self.put(x2, y2, c);
    }

    /// pygame's anti-aliased colour for a pixel: `brightness * colour + (1 - brightness) *
    /// background`, truncated, in `f32`.
    #[inline]
    fn aa_set(&mut self, x: i32, y: i32, c: Rgb, brightness: f32) {
        if !self.inside(x, y) {
            return;
        }
        let bg = self.get(x, y);
        let mix = |fg: u8, bg: u8| (brightness * fg as f32 + (1.0 - brightness) * bg as f32) as u8;
        self.put(x, y, [mix(c[0], bg[0]), mix(c[1], bg[1]), mix(c[2], bg[2])]);
    }

    /// `pygame.draw.aalines(closed=False)`: consecutive float points joined by pygame's Wu
    /// lines, with its rules for which segment endpoints are drawn.
    pub fn aalines_open(&mut self, xs: &[f32], ys: &[f32], c: Rgb) {
        let n = xs.len().min(ys.len());
        if n < 2 {
            return;
        }
        let steep = |p: [f32; 4]| (p[2] - p[0]).abs() < (p[3] - p[1]).abs();
        let not_whole = |x: f32, y: f32| !(x.round() == x && y.round() == y);
        let mut pts = [xs[0], ys[0], xs[1], ys[1]];
        let mut prev = pts;
        // pygame compares the first segment with a mixed-up "current" one; kept as is.
        let steep_curr =
            if n > 2 { (xs[2] - pts[2]).abs() < (ys[2] - pts[1]).abs() } else { steep(pts) };
        let extra = steep(prev) && !steep_curr;
        let disable = not_whole(pts[2], pts[3]);
        self.aaline_pg(pts, c, false, disable, extra);
        for k in 2..n - 1 {
            pts = [xs[k - 1], ys[k - 1], xs[k], ys[k]];
            let extra = steep(prev) != steep(pts);
            let disable = not_whole(pts[2], pts[3]);
            prev = pts;
            self.aaline_pg(pts, c, disable, disable, extra);
        }
        pts = [xs[n - 2], ys[n - 2], xs[n - 1], ys[n - 1]];
        let extra = steep(prev) != steep(pts);
        let disable = not_whole(pts[2], pts[3]);
        self.aaline_pg(pts, c, disable, false, extra);
    }

    /// pygame-ce's float Wu line (`draw_aaline`), endpoints optionally skipped.
    fn aaline_pg(&mut self, p: [f32; 4], c: Rgb, no_first: bool, no_second: bool, extra: bool) {
        let [mut fx, mut fy, mut tx, mut ty] = p;
        let mut dx = tx - fx;
        let mut dy = ty - fy;
        if dx.abs() < 0.0001 && dy.abs() < 0.0001 {
            self.aa_set((fx + 0.5).floor() as i32, (fy + 0.5).floor() as i32, c, 1.0);
            return;
        }
        let mut cl = -1.0f32;
        let mut cr = cl + self.w as f32 + 1.0;
        let mut ct = -1.0f32;
        let mut cb = ct + self.h as f32 + 1.0;
        let steep = dx.abs() < dy.abs();
        if steep {
            std::mem::swap(&mut fx, &mut fy);
            std::mem::swap(&mut tx, &mut ty);
            std::mem::swap(&mut dx, &mut dy);
            std::mem::swap(&mut cl, &mut ct);
            std::mem::swap(&mut cr, &mut cb);
        }
        if dx < 0.0 {
            std::mem::swap(&mut fx, &mut tx);
            std::mem::swap(&mut fy, &mut ty);
            dy = -dy;
        }
        if tx <= cl || fx >= cr {
            return;
        }
        let g = dy / if dx < 0.0 { -dx } else { dx };
        if fx < cl {
            fy += g * (cl - fx);
            fx = cl;
        }
        if tx > cr {
            ty += g * (cr - tx);
            tx = cr;
        }
        if g > 0.0 {
            if ty <= ct || fy >= cb {
                return;
            }
            if fy < ct {
                fx += (ct - fy) / g;
                fy = ct;
            }
            if ty > cb {
                tx += (cb - ty) / g;
                ty = cb;
            }
        } else {
            if fy <= ct || ty >= cb {
                return;
            }
            if ty < ct {
                tx += (ct - ty) / g;
                ty = ct;
            }
            if fy > cb {
                fx += (cb - fy) / g;
                fy = cb;
            }
        }
        fy += 1.0;
        ty += 1.0;
        let plot = |cv: &mut Self, major: i32, minor: i32, b: f32| {
            if steep {
                cv.aa_set(minor, major, c, b);
            } else {
                cv.aa_set(major, minor, c, b);
            }
        };
        let mut xs = 0i32;
        let mut iy = 0.0f32;
        if !no_first || extra {
            xs = fx as i32;
            let ye = fy + g * (xs as f32 - fx);
            iy = ye;
            if tx > cl + 1.0 {
                let gap = 1.0 + xs as f32 - fx;
                let b = ye - (ye as i32) as f32;
                if ((ye as i32) as f32) < ye {
                    plot(self, xs, ye as i32, b * gap);
                }
                plot(self, xs, ye as i32 - 1, (1.0 - b) * gap);
                iy += g;
                xs += 1;
            }
        }
        if no_first {
            xs = fx.ceil() as i32;
            iy = fy + g * (xs as f32 - fx);
        }
        let xe = tx.ceil() as i32;
        if (!no_second || extra) && fx < cr - 1.0 {
            let ye = ty + g * (xe as f32 - tx);
            let gap = 1.0 - xe as f32 + tx;
            let b = ye - (ye as i32) as f32;
            if ((ye as i32) as f32) < ye {
                plot(self, xe, ye as i32, b * gap);
            }
            plot(self, xe, ye as i32 - 1, (1.0 - b) * gap);
        }
        for x in xs..xe {
            let y = iy as i32;
            let b = 1.0 - iy + y as f32;
            plot(self, x, y - 1, b);
            if (y as f32) < iy {
                plot(self, x, y, 1.0 - b);
            }
            iy += g;
        }
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
