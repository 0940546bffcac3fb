//! Scenes of the classic-control environments, drawn at any frame size with Gymnasium
//! 1.4.0's `rgb_array` geometry and colours.
//!
//! Every function writes an RGB frame as HWC bytes (`width * height * 3`) into `out`.
//!
//! * At the native size (CartPole and MountainCar 600x400, Acrobot and Pendulum 500x500)
//!   the scene goes through `GfxCanvas`, which follows pygame's primitives rule for rule,
//!   so frames match Gymnasium's pixel for pixel except where noted below.
//! * At any other size the same geometry is scaled and drawn directly with coverage
//!   anti-aliasing (`AaCanvas`); nothing is drawn at full size first. The x and y axes
//!   are scaled independently (`width / native_width`, `height / native_height`), so a
//!   600x400 scene drawn at 64x64 is stretched, as a resize of the full frame would be.
//!   Thin features (1-pixel lines) become faint, as under an area-averaging resize.
//!
//! Differences from Gymnasium: Pendulum's torque arrow is Gymnasium's `clockwise.png`
//! image scaled by `|u|`; here it is drawn procedurally (an arc and an arrowhead of the same
//! size, placement and orientation), so pixels inside its box differ slightly. CartPole's
//! pole length is Gymnasium's fixed 0.5 (half-length).

use std::f64::consts::FRAC_PI_2;

use super::aa::AaCanvas;
use super::gfx::{gfx_coord, GfxCanvas, Rgb};
use crate::error::{EnvError, Result};

const WHITE: Rgb = [255, 255, 255];
const BLACK: Rgb = [0, 0, 0];

/// Check the buffer and size; `Ok(true)` when the frame is the scene's native size.
fn check(env: &str, native: (u32, u32), width: u32, height: u32, out: &[u8]) -> Result<bool> {
    if width == 0 || height == 0 {
        return Err(EnvError::Render {
            env: env.into(),
            reason: format!("cannot render a {width}x{height} frame"),
        });
    }
    let need = width as usize * height as usize * 3;
    if out.len() != need {
        return Err(EnvError::LengthMismatch {
            what: format!("{env} frame buffer ({width}x{height} RGB)"),
            expected: need,
            got: out.len(),
        });
    }
    Ok((width, height) == native)
}

/// `pygame.math.Vector2((x, y)).rotate_rad(angle)`, with its exact quarter turns.
fn rotate(x: f64, y: f64, angle: f64) -> (f64, f64) {
    const EPS: f64 = 1e-6;
    let tau = 2.0 * std::f64::consts::PI;
    let mut a = angle % tau;
    if a < 0.0 {
        a += tau;
    }
    if (a + EPS) % FRAC_PI_2 < 2.0 * EPS {
        return match ((a + EPS) / FRAC_PI_2) as i32 {
            1 => (-y, x),
            2 => (-x, -y),
            3 => (y, -x),
            _ => (x, y),
        };
    }
    let (s, c) = a.sin_cos();
    (c * x - s * y, s * x + c * y)
}

/// The corners (l, b), (l, t), (r, t), (r, b) of `ltrb = (l, r, t, b)` rotated by `angle` and moved to (ox, oy), in
/// Gymnasium's order; `grow` widens the box on every side first (for the scaled path).
fn rect(
    ltrb: (f64, f64, f64, f64),
    angle: f64,
    (ox, oy): (f64, f64),
    grow: f64,
) -> [(f64, f64); 4] {
    let (l, r, t, b) = ltrb;
    let (l, r, t, b) = (l - grow, r + grow, t + grow, b - grow);
    [(l, b), (l, t), (r, t), (r, b)].map(|(x, y)| {
        let (x, y) = rotate(x, y, angle);
        (x + ox, y + oy)
    })
}

fn ints<const N: usize>(pts: &[(f64, f64); N]) -> [(i32, i32); N] {
    pts.map(|(x, y)| (gfx_coord(x), gfx_coord(y)))
}

/// Maps pygame surface coordinates of the native frame (y down, before Gymnasium's vertical
/// flip) to continuous coordinates of the target frame.
struct Scale {
    sx: f64,
    sy: f64,
    h: f64,
}

impl Scale {
    fn new(native: (u32, u32), width: u32, height: u32) -> Self {
        Scale {
            sx: width as f64 / native.0 as f64,
            sy: height as f64 / native.1 as f64,
            h: native.1 as f64,
        }
    }

    /// A pixel-edge coordinate (e.g. the top-left corner of pixel (x, y)).
    fn edge(&self, x: f64, y: f64) -> (f32, f32) {
        ((x * self.sx) as f32, ((self.h - y) * self.sy) as f32)
    }

    /// A drawn point: the centre of the pixel pygame would put it in.
    fn pt(&self, x: f64, y: f64) -> (f32, f32) {
        self.edge(x + 0.5, y + 0.5)
    }

    fn pts<const N: usize>(&self, pts: &[(f64, f64); N]) -> [(f32, f32); N] {
        pts.map(|(x, y)| self.pt(x, y))
    }

    /// A filled circle of integer radius `r` at integer centre (x, y).
    fn disc(&self, cv: &mut AaCanvas, x: i32, y: i32, r: i32, c: Rgb) {
        let (cx, cy) = self.pt(x as f64, y as f64);
        let r = r as f64 + 0.5;
        cv.ellipse(cx, cy, (r * self.sx) as f32, (r * self.sy) as f32, c);
    }

    /// Pixels x0..=x1 of row y (or a column when `vertical`), as a 1-pixel-thick box.
    fn box_line(&self, cv: &mut AaCanvas, a0: f64, a1: f64, at: f64, vertical: bool, c: Rgb) {
        let (lo, hi) = (a0.min(a1), a0.max(a1) + 1.0);
        let quad = if vertical {
            [(at, lo), (at + 1.0, lo), (at + 1.0, hi), (at, hi)]
        } else {
            [(lo, at), (hi, at), (hi, at + 1.0), (lo, at + 1.0)]
        };
        cv.convex(&quad.map(|(x, y)| self.edge(x, y)), c);
    }

    /// A 1-pixel-wide segment between two drawn points.
    fn segment(&self, cv: &mut AaCanvas, a: (f64, f64), b: (f64, f64), c: Rgb) {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let len = (dx * dx + dy * dy).sqrt();
        if len <= 0.0 || !len.is_finite() {
            return;
        }
        let (nx, ny) = (-dy / len * 0.5, dx / len * 0.5);
        let quad = [
            (a.0 + nx, a.1 + ny),
            (b.0 + nx, b.1 + ny),
            (b.0 - nx, b.1 - ny),
            (a.0 - nx, a.1 - ny),
        ];
        cv.convex(&self.pts(&quad), c);
    }
}

/// CartPole (full size 600x400): cart at position `x`, pole at angle `theta` (radians);
/// `x_threshold` sets the world width (Gymnasium: world width = 2 * x_threshold).
pub fn draw_cartpole(
    x: f64,
    theta: f64,
    x_threshold: f64,
    width: u32,
    height: u32,
    out: &mut [u8],
) -> Result<()> {
    const NATIVE: (u32, u32) = (600, 400);
    const POLE: Rgb = [202, 152, 101];
    const AXLE: Rgb = [129, 132, 203];
    let native = check("CartPole", NATIVE, width, height, out)?;
    let scale = NATIVE.0 as f64 / (2.0 * x_threshold);
    let (pole_w, pole_len) = (10.0, scale * (2.0 * 0.5));
    let (cart_w, cart_h) = (50.0, 30.0);
    let axle_off = cart_h / 4.0;
    let cart_x = x * scale + NATIVE.0 as f64 / 2.0;
    let cart_y = 100.0;
    let (l, r, t, b) = (-cart_w / 2.0, cart_w / 2.0, cart_h / 2.0, -cart_h / 2.0);
    let (pl, pr, pt, pb) = (-pole_w / 2.0, pole_w / 2.0, pole_len - pole_w / 2.0, -pole_w / 2.0);
    let (ax, ay, ar) = (gfx_coord(cart_x), gfx_coord(cart_y + axle_off), 5);
    if native {
        let cart = ints(&rect((l, r, t, b), 0.0, (cart_x, cart_y), 0.0));
        let pole = ints(&rect((pl, pr, pt, pb), -theta, (cart_x, cart_y + axle_off), 0.0));
        let mut cv = GfxCanvas::new(out, width, height);
        cv.fill(WHITE);
        cv.aapolygon(&cart, BLACK);
        cv.filled_polygon(&cart, BLACK);
        cv.aapolygon(&pole, POLE);
        cv.filled_polygon(&pole, POLE);
        cv.aacircle(ax, ay, ar, AXLE);
        cv.filled_circle(ax, ay, ar, AXLE);
        cv.hline(0, NATIVE.0 as i32, cart_y as i32, BLACK);
    } else {
        let sc = Scale::new(NATIVE, width, height);
        let cart = sc.pts(&rect((l, r, t, b), 0.0, (cart_x, cart_y), 0.5));
        let pole = sc.pts(&rect((pl, pr, pt, pb), -theta, (cart_x, cart_y + axle_off), 0.5));
        let mut cv = AaCanvas::new(out, width, height);
        cv.fill(WHITE);
        cv.convex(&cart, BLACK);
        cv.convex(&pole, POLE);
        sc.disc(&mut cv, ax, ay, ar, AXLE);
        sc.box_line(&mut cv, 0.0, NATIVE.0 as f64 - 1.0, cart_y, false, BLACK);
    }
    Ok(())
}

/// MountainCar's hill: `sin(3 x) * 0.45 + 0.55`.
fn hill(x: f64) -> f64 {
    (3.0 * x).sin() * 0.45 + 0.55
}

/// MountainCar / MountainCarContinuous (full size 600x400): car at `position`, flag at
/// `goal_position`, track over `[min_position, max_position]`.
pub fn draw_mountain_car(
    position: f64,
    goal_position: f64,
    min_position: f64,
    max_position: f64,
    width: u32,
    height: u32,
    out: &mut [u8],
) -> Result<()> {
    const NATIVE: (u32, u32) = (600, 400);
    const WHEEL: Rgb = [128, 128, 128];
    const FLAG: Rgb = [204, 204, 0];
    const TRACK_POINTS: usize = 100;
    let native = check("MountainCar", NATIVE, width, height, out)?;
    let scale = NATIVE.0 as f64 / (max_position - min_position);
    let (car_w, car_h, clearance) = (40.0, 20.0, 10.0);
    // The track: numpy.linspace(min, max, 100) through the hill, in pixels.
    let step = (max_position - min_position) / (TRACK_POINTS - 1) as f64;
    let track = |i: usize| {
        let x = if i + 1 == TRACK_POINTS { max_position } else { i as f64 * step + min_position };
        ((x - min_position) * scale, hill(x) * scale)
    };
    let angle = (3.0 * position).cos();
    let base_x = (position - min_position) * scale;
    let base_y = clearance + hill(position) * scale;
    let wheels = [(car_w / 4.0, 0.0), (-car_w / 4.0, 0.0)].map(|(wx, wy)| {
        let (wx, wy) = rotate(wx, wy, angle);
        (gfx_coord(wx + base_x), gfx_coord(wy + base_y))
    });
    let wheel_r = (car_h / 2.5) as i32;
    let flag_x = gfx_coord((goal_position - min_position) * scale);
    let flag_y1 = gfx_coord(hill(goal_position) * scale);
    let flag_y2 = flag_y1 + 50;
    let flag = [(flag_x, flag_y2), (flag_x, flag_y2 - 10), (flag_x + 25, flag_y2 - 5)];
    if native {
        let mut xs = [0f32; TRACK_POINTS];
        let mut ys = [0f32; TRACK_POINTS];
        for i in 0..TRACK_POINTS {
            let (x, y) = track(i);
            xs[i] = x as f32;
            ys[i] = y as f32;
        }
        let car =
            ints(&rect((-car_w / 2.0, car_w / 2.0, car_h, 0.0), angle, (base_x, base_y), 0.0));
        let mut cv = GfxCanvas::new(out, width, height);
        cv.fill(WHITE);
        cv.aalines_open(&xs, &ys, BLACK);
        cv.aapolygon(&car, BLACK);
        cv.filled_polygon(&car, BLACK);
        for (wx, wy) in wheels {
            cv.aacircle(wx, wy, wheel_r, WHEEL);
            cv.filled_circle(wx, wy, wheel_r, WHEEL);
        }
        cv.vline(flag_x, flag_y1, flag_y2, BLACK);
        cv.aapolygon(&flag, FLAG);
        cv.filled_polygon(&flag, FLAG);
    } else {
        let sc = Scale::new(NATIVE, width, height);
        let mut cv = AaCanvas::new(out, width, height);
        cv.fill(WHITE);
        // Gymnasium's polyline, thinned so that each segment spans at least ~2 target
        // pixels (the chords stay within a tenth of a target pixel of the curve).
        let seg_len = NATIVE.0 as f64 / (TRACK_POINTS - 1) as f64 * sc.sx;
        let stride = ((2.0 / seg_len).ceil() as usize).clamp(1, 8);
        let mut prev = track(0);
        let mut i = 0;
        while i + 1 < TRACK_POINTS {
            i = (i + stride).min(TRACK_POINTS - 1);
            let next = track(i);
            sc.segment(&mut cv, prev, next, BLACK);
            prev = next;
        }
        let car = rect((-car_w / 2.0, car_w / 2.0, car_h, 0.0), angle, (base_x, base_y), 0.5);
        cv.convex(&sc.pts(&car), BLACK);
        for (wx, wy) in wheels {
            sc.disc(&mut cv, wx, wy, wheel_r, WHEEL);
        }
        sc.box_line(&mut cv, flag_y1 as f64, flag_y2 as f64, flag_x as f64, true, BLACK);
        cv.convex(&flag.map(|(x, y)| sc.pt(x as f64, y as f64)), FLAG);
    }
    Ok(())
}

/// Acrobot (full size 500x500): link angles `theta1`, `theta2` (radians).
pub fn draw_acrobot(
    theta1: f64,
    theta2: f64,
    width: u32,
    height: u32,
    out: &mut [u8],
) -> Result<()> {
    const NATIVE: (u32, u32) = (500, 500);
    const LINK: Rgb = [0, 204, 204];
    const JOINT: Rgb = [204, 204, 0];
    let native = check("Acrobot", NATIVE, width, height, out)?;
    let (l1, l2) = (1.0, 1.0);
    let bound = l1 + l2 + 0.2;
    let scale = NATIVE.0 as f64 / (bound * 2.0);
    let offset = NATIVE.0 as f64 / 2.0;
    // Joint positions, as Gymnasium builds them: (l1 sin θ1, -l1 cos θ1) for the elbow.
    let joints = [
        (offset, offset),
        (l1 * theta1.sin() * scale + offset, -l1 * theta1.cos() * scale + offset),
    ];
    let thetas = [theta1 - FRAC_PI_2, theta1 + theta2 - FRAC_PI_2];
    let lens = [l1 * scale, l2 * scale];
    let half = 0.1 * scale;
    let joint_r = (0.1 * scale) as i32;
    let bar_y = 1.0 * scale + offset;
    let (bar_x0, bar_x1) = (-2.2 * scale + offset, 2.2 * scale + offset);
    if native {
        let mut cv = GfxCanvas::new(out, width, height);
        cv.fill(WHITE);
        let y = bar_y as i32;
        cv.line(bar_x0 as i32, y, bar_x1 as i32, y, BLACK);
        for k in 0..2 {
            let (x, y) = joints[k];
            let link = ints(&rect((0.0, lens[k], half, -half), thetas[k], (x, y), 0.0));
            cv.aapolygon(&link, LINK);
            cv.filled_polygon(&link, LINK);
            let (jx, jy) = (gfx_coord(x), gfx_coord(y));
            cv.aacircle(jx, jy, joint_r, JOINT);
            cv.filled_circle(jx, jy, joint_r, JOINT);
        }
    } else {
        let sc = Scale::new(NATIVE, width, height);
        let mut cv = AaCanvas::new(out, width, height);
        cv.fill(WHITE);
        let x0 = (bar_x0 as i32).max(0) as f64;
        let x1 = (bar_x1 as i32).min(NATIVE.0 as i32 - 1) as f64;
        sc.box_line(&mut cv, x0, x1, (bar_y as i32) as f64, false, BLACK);
        for k in 0..2 {
            let (x, y) = joints[k];
            let link = rect((0.0, lens[k], half, -half), thetas[k], (x, y), 0.5);
            cv.convex(&sc.pts(&link), LINK);
            sc.disc(&mut cv, gfx_coord(x), gfx_coord(y), joint_r, JOINT);
        }
    }
    Ok(())
}

/// Coverage of Gymnasium's clockwise arrow at (u, v) in the 329x312 coordinates of its
/// `clockwise.png` (y down), anti-aliased over a footprint of `fp` units: a 10-unit-wide arc
/// of radius 150.7 about (173.4, 155.5) from the top clockwise round to the left side, ending
/// in a notched arrowhead pointing up. Measured from the asset; drawn procedurally.
fn arrow_coverage(u: f64, v: f64, fp: f64) -> f64 {
    const C: (f64, f64) = (173.4, 155.5);
    const R: f64 = 150.7;
    const HALF: f64 = 4.95;
    const START: f64 = -91.3;
    const END: f64 = 178.0;
    let (du, dv) = (u - C.0, v - C.1);
    // Cheap rejections first: most of the box is far from both the ring and the head.
    let ring_d = ((du * du + dv * dv).sqrt() - R).abs() - HALF;
    let ring = if ring_d < fp && (START..=END).contains(&dv.atan2(du).to_degrees()) {
        ring_d
    } else {
        f64::INFINITY
    };
    // Arrowhead: two triangles tip-right-notch and tip-notch-left.
    let tip = (21.5, 111.5);
    let (left, right, notch) = ((-0.5, 169.5), (44.5, 169.5), (22.0, 160.0));
    let near_head = u < right.0 + fp && v > tip.1 - fp && v < left.1 + fp;
    let head = if near_head {
        tri_sdf(u, v, tip, right, notch).min(tri_sdf(u, v, tip, notch, left))
    } else {
        f64::INFINITY
    };
    let sd = ring.min(head);
    (0.5 - sd / fp).clamp(0.0, 1.0)
}

/// Approximate signed distance to a triangle (negative inside): the largest signed distance
/// to its edge lines, for either winding.
fn tri_sdf(u: f64, v: f64, a: (f64, f64), b: (f64, f64), c: (f64, f64)) -> f64 {
    let area = (b.0 - a.0) * (c.1 - a.1) - (b.1 - a.1) * (c.0 - a.0);
    let sign = if area >= 0.0 { 1.0 } else { -1.0 };
    let mut d = f64::NEG_INFINITY;
    for (p, q) in [(a, b), (b, c), (c, a)] {
        let (ex, ey) = (q.0 - p.0, q.1 - p.1);
        let len = (ex * ex + ey * ey).sqrt().max(1e-9);
        // Outward distance for a positively wound triangle.
        let s = -sign * (ex * (v - p.1) - ey * (u - p.0)) / len;
        d = d.max(s);
    }
    d
}

/// Pendulum (full size 500x500): angle `theta` (0 = upright), and the last torque `last_u`
/// (drawn as Gymnasium's arrow, scaled by |u|; `None` before the first step).
pub fn draw_pendulum(
    theta: f64,
    last_u: Option<f64>,
    width: u32,
    height: u32,
    out: &mut [u8],
) -> Result<()> {
    const NATIVE: (u32, u32) = (500, 500);
    const ROD: Rgb = [204, 77, 77];
    const ASSET: (f64, f64) = (329.0, 312.0);
    let native = check("Pendulum", NATIVE, width, height, out)?;
    let scale = NATIVE.0 as f64 / (2.2 * 2.0);
    let offset = (NATIVE.0 / 2) as i32;
    let o = offset as f64;
    let (rod_len, rod_w) = (scale, 0.2 * scale);
    let angle = theta + FRAC_PI_2;
    let cap_r = (rod_w / 2.0) as i32;
    let end = rotate(rod_len, 0.0, angle);
    let (ex, ey) = (gfx_coord(end.0 + o), gfx_coord(end.1 + o));
    let axle_r = (0.05 * scale) as i32;
    // The arrow image: s x s pixels at (offset - s/2, offset - s/2), mirrored when u > 0,
    // and flipped vertically (which the final flip undoes).
    let arrow = last_u.map(|u| {
        let s = (scale * u.abs() / 2.0) as i64 as i32;
        (s.max(0), u > 0.0)
    });
    let arrow_at = |lx: f64, ly: f64, s: f64, mirror: bool, fp: f64| {
        let lx = if mirror { s - lx } else { lx };
        arrow_coverage(lx * ASSET.0 / s, (s - ly) * ASSET.1 / s, fp * ASSET.0 / s)
    };
    if native {
        let rod = ints(&rect((0.0, rod_len, rod_w / 2.0, -rod_w / 2.0), angle, (o, o), 0.0));
        let mut cv = GfxCanvas::new(out, width, height);
        cv.fill(WHITE);
        cv.aapolygon(&rod, ROD);
        cv.filled_polygon(&rod, ROD);
        cv.aacircle(offset, offset, cap_r, ROD);
        cv.filled_circle(offset, offset, cap_r, ROD);
        cv.aacircle(ex, ey, cap_r, ROD);
        cv.filled_circle(ex, ey, cap_r, ROD);
        if let Some((s, mirror)) = arrow {
            let left = offset - s / 2;
            for ly in 0..s {
                for lx in 0..s {
                    let a = arrow_at(lx as f64 + 0.5, ly as f64 + 0.5, s as f64, mirror, 1.0);
                    cv.blend(left + lx, left + ly, BLACK, a as f32);
                }
            }
        }
        cv.aacircle(offset, offset, axle_r, BLACK);
        cv.filled_circle(offset, offset, axle_r, BLACK);
    } else {
        let sc = Scale::new(NATIVE, width, height);
        let rod = rect((0.0, rod_len, rod_w / 2.0, -rod_w / 2.0), angle, (o, o), 0.5);
        let mut cv = AaCanvas::new(out, width, height);
        cv.fill(WHITE);
        cv.convex(&sc.pts(&rod), ROD);
        sc.disc(&mut cv, offset, offset, cap_r, ROD);
        sc.disc(&mut cv, ex, ey, cap_r, ROD);
        if let Some((s, mirror)) = arrow.filter(|a| a.0 > 0) {
            let left = (offset - s / 2) as f64;
            let (s, fp) = (s as f64, 1.0 / sc.sx.min(sc.sy));
            // Target pixels whose centres fall in the arrow's box (native pixel edges).
            let (x0, y0) = sc.edge(left, left + s);
            let (x1, y1) = sc.edge(left + s, left);
            let pixels = |a: f32, b: f32, n: u32| {
                (a.floor().max(0.0) as u32)..(b.ceil().max(0.0) as u32).min(n)
            };
            for ty in pixels(y0, y1, height) {
                for tx in pixels(x0, x1, width) {
                    let nx = (tx as f64 + 0.5) / sc.sx - left;
                    let ny = sc.h - (ty as f64 + 0.5) / sc.sy - left;
                    if nx < 0.0 || ny < 0.0 || nx > s || ny > s {
                        continue;
                    }
                    let a = arrow_at(nx, ny, s, mirror, fp);
                    cv.blend_pixel(tx, ty, BLACK, a as f32);
                }
            }
        }
        sc.disc(&mut cv, offset, offset, axle_r, BLACK);
    }
    Ok(())
}
