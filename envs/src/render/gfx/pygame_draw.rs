//! The `pygame.draw` primitives as pygame-ce 2.5.8 draws them: `line` (Bresenham) and
//! `aalines` (pygame's float Wu line).

use super::canvas::{GfxCanvas, Rgb};

impl GfxCanvas<'_> {
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
}
