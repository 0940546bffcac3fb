//! `ResizeObservation`: resize `uint8` image observations to `(height, width)`, as Gymnasium
//! 1.x's `gymnasium.wrappers.ResizeObservation` (which calls OpenCV's `cv2.resize` with
//! `INTER_AREA`).
//!
//! The weights are OpenCV's for `INTER_AREA`: when neither axis grows, each output pixel is
//! the area-weighted mean of the source pixels its cell covers (fractional coverage at the
//! cell edges, as OpenCV's `computeResizeAreaTab`); when an axis grows, OpenCV switches to a
//! two-tap interpolation with area-derived coefficients on both axes, and so does this. The
//! sums run in `f32` and round half to even, as OpenCV's float path; OpenCV's integer fast
//! paths (integer shrink factors, fixed-point bilinear) can round a tie the other way, so a
//! value may differ from `cv2.resize` by 1.

use crate::env::{ActionRef, Env, Info, Kwargs, Obs, ObsMut, StepOutcome};
use crate::error::{EnvError, Result};
use crate::space::{BoxSpace, DType, Space};

/// Per output index along one axis: the source indices and their weights.
type Taps = Vec<Vec<(usize, f32)>>;

/// OpenCV's `computeResizeAreaTab` for one axis (`dst <= src`).
fn area_taps(src: usize, dst: usize) -> Taps {
    let scale = 1.0 / (dst as f64 / src as f64);
    (0..dst)
        .map(|d| {
            let f1 = d as f64 * scale;
            let f2 = f1 + scale;
            let cell = scale.min(src as f64 - f1);
            let s2 = (f2.floor() as usize).min(src - 1);
            let s1 = (f1.ceil() as usize).min(s2);
            let mut taps = Vec::new();
            if s1 as f64 - f1 > 1e-3 {
                taps.push((s1 - 1, ((s1 as f64 - f1) / cell) as f32));
            }
            for s in s1..s2 {
                taps.push((s, (1.0 / cell) as f32));
            }
            if f2 - s2 as f64 > 1e-3 {
                taps.push((s2, ((f2 - s2 as f64).min(1.0).min(cell) / cell) as f32));
            }
            taps
        })
        .collect()
}

/// OpenCV's two-tap `INTER_AREA` coefficients for one axis when the image grows.
fn linear_area_taps(src: usize, dst: usize) -> Taps {
    let inv_scale = dst as f64 / src as f64;
    let scale = 1.0 / inv_scale;
    (0..dst)
        .map(|d| {
            let mut s = (d as f64 * scale).floor() as i64;
            let mut f = ((d + 1) as f64 - (s + 1) as f64 * inv_scale) as f32;
            f = if f <= 0.0 { 0.0 } else { f - f.floor() };
            if s < 0 {
                (s, f) = (0, 0.0);
            }
            if s >= src as i64 - 1 {
                (s, f) = (src as i64 - 1, 0.0);
            }
            let s = s as usize;
            vec![(s, 1.0 - f), ((s + 1).min(src - 1), f)]
        })
        .collect()
}

/// `cv2.resize(src, (width, height), interpolation=cv2.INTER_AREA)` for `uint8` images of one
/// fixed size: the taps of both axes computed once, a horizontal then a vertical pass.
#[derive(Debug, Clone)]
pub(crate) struct AreaResize {
    /// `[src_h, src_w, channels]`.
    src_shape: [usize; 3],
    rows: Taps,
    cols: Taps,
    /// Horizontal pass result, `[src_h, dst_w, channels]`.
    tmp: Vec<f32>,
}

impl AreaResize {
    /// From `[src_h, src_w]` with `channels` interleaved to `[height, width]` (all > 0).
    pub(crate) fn new(
        src_h: usize,
        src_w: usize,
        channels: usize,
        height: usize,
        width: usize,
    ) -> Self {
        let (rows, cols) = if height <= src_h && width <= src_w {
            (area_taps(src_h, height), area_taps(src_w, width))
        } else {
            (linear_area_taps(src_h, height), linear_area_taps(src_w, width))
        };
        AreaResize {
            src_shape: [src_h, src_w, channels],
            tmp: vec![0.0; src_h * width * channels],
            rows,
            cols,
        }
    }

    /// Resize `src` (`src_h * src_w * channels` bytes) into `out` (`height * width * channels`).
    pub(crate) fn resize(&mut self, src: &[u8], out: &mut [u8]) {
        let [sh, sw, c] = self.src_shape;
        let dw = self.cols.len();
        for y in 0..sh {
            let row = &src[y * sw * c..(y + 1) * sw * c];
            for (x, taps) in self.cols.iter().enumerate() {
                for ch in 0..c {
                    let acc: f32 = taps.iter().map(|&(s, w)| row[s * c + ch] as f32 * w).sum();
                    self.tmp[(y * dw + x) * c + ch] = acc;
                }
            }
        }
        for (y, taps) in self.rows.iter().enumerate() {
            for i in 0..dw * c {
                let acc: f32 = taps.iter().map(|&(s, w)| self.tmp[s * dw * c + i] * w).sum();
                out[y * dw * c + i] = acc.round_ties_even().clamp(0.0, 255.0) as u8;
            }
        }
    }
}

/// Resizes image observations (see the module docs).
#[derive(Debug)]
pub struct ResizeObservation<E> {
    env: E,
    space: Space,
    src: Obs,
    resize: AreaResize,
}

inner_accessors!(ResizeObservation);

impl<E: Env> ResizeObservation<E> {
    /// Resize `[H, W]` or `[H, W, C]` `uint8` images (bounds 0..=255) to `(height, width)`.
    pub fn new(env: E, height: usize, width: usize) -> Result<Self> {
        let inner = env.observation_space();
        let b = super::image_space::image_box(inner, "ResizeObservation")?;
        if !(b.shape.len() == 2 || b.shape.len() == 3) {
            return Err(EnvError::Space {
                space: inner.to_string(),
                reason: format!(
                    "{}: ResizeObservation requires a 2D or 3D image, got shape {:?}",
                    env.id(),
                    b.shape
                ),
            });
        }
        if height == 0 || width == 0 || b.shape.contains(&0) {
            return Err(EnvError::Space {
                space: inner.to_string(),
                reason: format!(
                    "{}: ResizeObservation requires sizes greater than 0, got ({height}, {width})",
                    env.id()
                ),
            });
        }
        let (sh, sw) = (b.shape[0], b.shape[1]);
        let c = b.shape.get(2).copied().unwrap_or(1);
        let mut shape = vec![height, width];
        shape.extend(b.shape.get(2));
        Ok(ResizeObservation {
            space: Space::Box(BoxSpace::uniform(0.0, 255.0, shape, DType::U8)),
            src: Obs::zeros(inner),
            resize: AreaResize::new(sh, sw, c, height, width),
            env,
        })
    }

    fn resize_into(&mut self, out: &mut [u8]) {
        self.resize.resize(&self.src.u8, out);
    }
}

impl<E: Env> Env for ResizeObservation<E> {
    forward_env_basics!();

    fn observation_space(&self) -> &Space {
        &self.space
    }

    fn action_space(&self) -> &Space {
        self.env.action_space()
    }

    fn reset_into(&mut self, seed: Option<u64>, options: &Kwargs, obs: ObsMut<'_>) -> Result<Info> {
        obs.check(&self.space, self.env.id())?;
        let info = self.env.reset_into(seed, options, self.src.as_mut())?;
        self.resize_into(obs.u8);
        Ok(info)
    }

    fn step_into(&mut self, action: ActionRef<'_>, obs: ObsMut<'_>) -> Result<StepOutcome> {
        obs.check(&self.space, self.env.id())?;
        let out = self.env.step_into(action, self.src.as_mut())?;
        self.resize_into(obs.u8);
        Ok(out)
    }
}
