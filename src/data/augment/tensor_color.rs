//! The batched executor's colour transforms, the tensor twins of [`super::color`] on float
//! `[B, C, H, W]` batches with per-image factors: luma and grayscale, brightness, contrast,
//! saturation and hue (through torchvision's HSV arithmetic), colour jitter in each image's
//! drawn order, solarisation and normalisation. Re-exported by [`super::tensor`], where the
//! executor that calls them lives.

use rayon::prelude::*;
use tch::{Device, Kind, Tensor};

use super::color::{self, JitterParams, LUMA};
use super::frame::Frame;
use super::tensor::per_image;
use crate::error::Result;

/// Luma `[n, 1, H, W]` with torchvision's weights and operation order (the image itself
/// when it has one channel).
pub fn luma(x: &Tensor) -> Tensor {
    if x.size()[1] != 3 {
        return x.shallow_clone();
    }
    let ch = |i| x.narrow(1, i, 1);
    ch(0) * LUMA[0] as f64 + ch(1) * LUMA[1] as f64 + ch(2) * LUMA[2] as f64
}

/// Grayscale keeping the channel count (`rgb_to_grayscale(x, num_output_channels=3)`).
pub fn grayscale(x: &Tensor) -> Tensor {
    if x.size()[1] != 3 {
        return x.shallow_clone();
    }
    luma(x).expand_as(x).contiguous()
}

/// `adjust_brightness` with one factor per image: torchvision's blend with black,
/// `clamp(f * x + (1 - f) * 0)`, which is `clamp(f * x)` exactly.
pub fn adjust_brightness(x: &Tensor, factors: &[f32]) -> Tensor {
    (x * per_image(factors, x)).clamp(0.0, 1.0)
}

/// `adjust_contrast` with one factor per image: blend with the mean of the image's luma.
pub fn adjust_contrast(x: &Tensor, factors: &[f32]) -> Tensor {
    let f = per_image(factors, x);
    let mean = luma(x).mean_dim(&[1i64, 2, 3][..], true, x.kind()); // [n, 1, 1, 1]
    (x * &f + (1.0f64 - &f) * mean).clamp(0.0, 1.0)
}

/// `adjust_saturation` with one factor per image: blend with the luma (no-op on grey).
pub fn adjust_saturation(x: &Tensor, factors: &[f32]) -> Tensor {
    if x.size()[1] != 3 {
        return x.shallow_clone();
    }
    let f = per_image(factors, x);
    (x * &f + (1.0f64 - &f) * luma(x)).clamp(0.0, 1.0)
}

/// `adjust_hue` with one shift per image (in turns), through torchvision's `_rgb2hsv` and
/// `_hsv2rgb` (no-op on grey).
pub fn adjust_hue(x: &Tensor, shifts: &[f32]) -> Tensor {
    if x.size()[1] != 3 {
        return x.shallow_clone();
    }
    let (h, s, v) = rgb_to_hsv(x);
    // `(h + shift) % 1.0`: a - floor(a) is the same single rounding as torch's remainder.
    let h = h + per_image(shifts, x);
    let h = &h - h.floor();
    hsv_to_rgb(&h, &s, &v)
}

/// `1.0` where `x == 0` and `0.0` where `x > 0`, for `x >= 0`: a comparison as arithmetic
/// (libtorch's boolean kernels are several times slower than its float ones on the CPU).
fn is_zero(x: &Tensor) -> Tensor {
    1.0f64 - x.sign()
}

/// torchvision's `_rgb2hsv`: hue, saturation, value, each `[n, 1, H, W]`.
///
/// The same values as torchvision's, with its boolean masks as arithmetic: `eqc` (all
/// channels equal) is `e = 1 - sign(maxc - minc)`, its divisors `where(eqc, 1, d)` are
/// `d + e` (exact: `d + 0`, or `0 + 1`), and its masks `maxc == r`, … are
/// `1 - sign(maxc - r)`, … (the differences are never negative).
fn rgb_to_hsv(x: &Tensor) -> (Tensor, Tensor, Tensor) {
    let (r, g, b) = (x.narrow(1, 0, 1), x.narrow(1, 1, 1), x.narrow(1, 2, 1));
    let maxc = x.amax([1], true);
    let cr = &maxc - x.amin([1], true);
    let eqc = is_zero(&cr);
    let s = &cr / (&maxc + &eqc);
    let cr_div = &cr + eqc;
    let (dr, dg) = (&maxc - &r, &maxc - &g);
    let rc = &dr / &cr_div;
    let gc = &dg / &cr_div;
    let bc = (&maxc - &b) / &cr_div;
    let is_r = is_zero(&dr);
    let not_r = dr.sign();
    let is_g = &not_r * is_zero(&dg);
    let is_b = not_r * dg.sign();
    let h = is_r * (&bc - &gc) + is_g * ((&rc + 2.0) - &bc) + is_b * ((gc + 4.0) - rc);
    // fmod(h / 6 + 1, 1) of a non-negative value: t - floor(t), exactly.
    let t = h / 6.0 + 1.0;
    let h = &t - t.floor();
    (h, s, maxc)
}

/// torchvision's `_hsv2rgb`: `[n, 3, H, W]` from hue, saturation, value planes.
fn hsv_to_rgb(h: &Tensor, s: &Tensor, v: &Tensor) -> Tensor {
    let h6 = h * 6.0;
    let i = h6.floor();
    let f = &h6 - &i;
    let p = (v * (1.0f64 - s)).clamp(0.0, 1.0);
    let q = (v * (1.0f64 - s * &f)).clamp(0.0, 1.0);
    let t = (v * (1.0f64 - s * (1.0f64 - &f))).clamp(0.0, 1.0);
    // Sector i % 6 picks (r, g, b) among (v, q, p, t) through one-hot masks, as
    // torchvision's einsum does: one term is the value, the others are exact zeros.
    let i = &i - (&i / 6.0).floor() * 6.0;
    let m: Vec<Tensor> = (0..6).map(|k| (1.0f64 - (&i - k as f64).abs()).relu()).collect();
    let r = v * (&m[0] + &m[5]) + &q * &m[1] + &p * (&m[2] + &m[3]) + &t * &m[4];
    let g = &t * &m[0] + v * (&m[1] + &m[2]) + &q * &m[3] + &p * (&m[4] + &m[5]);
    let b = &p * (&m[0] + &m[1]) + &t * &m[2] + v * (&m[3] + &m[4]) + &q * &m[5];
    Tensor::cat(&[r, g, b], 1)
}

/// ColorJitter with every image's drawn order and factors (`None`: not applied).
///
/// On a float32 batch in CPU memory, the per-image functions of [`super::color`] run on the
/// batch's values, images in parallel: there a hue adjustment is one vectorised pass, where
/// as tensor operations it is about a hundred (measured: the tensor version took several
/// times longer than SimCLR's whole augmentation before). The values are the per-image
/// executor's, bit for bit. Elsewhere (CUDA): [`color_jitter_ops`]. The batch must not
/// require gradients.
pub fn color_jitter(x: &Tensor, params: &[Option<JitterParams>]) -> Result<Tensor> {
    if x.device() != Device::Cpu || x.kind() != Kind::Float {
        return Ok(color_jitter_ops(x, params));
    }
    if params.iter().all(Option::is_none) {
        return Ok(x.shallow_clone());
    }
    let s = x.size();
    let (c, h, w) = (s[1] as usize, s[2] as usize, s[3] as usize);
    let mut values = Vec::<f32>::try_from(&x.contiguous().view([-1]))?;
    values.par_chunks_mut(c * h * w).zip(params.par_iter()).for_each(|(pixels, p)| {
        if let Some(p) = p {
            let mut f = Frame { data: pixels.to_vec(), channels: c, height: h, width: w };
            color::color_jitter(&mut f, p);
            pixels.copy_from_slice(&f.data);
        }
    });
    Ok(Tensor::from_slice(&values).view([s[0], s[1], s[2], s[3]]))
}

/// [`color_jitter`] as tensor operations, for any device.
///
/// At each of the four positions the batch is reordered so that the images applying the
/// same adjustment there are contiguous, each adjustment runs once on its slice, and the
/// original order is restored at the end: every image gets its own adjustments in its own
/// order, with one gather per position instead of one per (position, adjustment).
pub fn color_jitter_ops(x: &Tensor, params: &[Option<JitterParams>]) -> Tensor {
    let rgb = x.size()[1] == 3;
    let n = params.len();
    // `order[row]`: the image in row `row` of `y`.
    let mut order: Vec<usize> = (0..n).collect();
    let mut y = x.shallow_clone();
    for pos in 0..4 {
        // Rows by the adjustment at this position (4: none), with their factors.
        let mut groups: [Vec<(usize, f32)>; 5] = Default::default();
        for (row, &img) in order.iter().enumerate() {
            let op = params[img].and_then(|p| {
                let k = p.order[pos];
                // Saturation and hue leave grey images as they are.
                p.factors[k].filter(|_| rgb || k < 2).map(|f| (k, f))
            });
            match op {
                Some((k, f)) => groups[k].push((row, f)),
                None => groups[4].push((row, 0.0)),
            }
        }
        if groups[4].len() == n {
            continue;
        }
        let rows: Vec<usize> = groups.iter().flatten().map(|&(r, _)| r).collect();
        let sorted = if rows.iter().enumerate().all(|(i, &r)| i == r) {
            y
        } else {
            let idx: Vec<i64> = rows.iter().map(|&r| r as i64).collect();
            y.index_select(0, &Tensor::from_slice(&idx).to_device(x.device()))
        };
        let mut parts = Vec::with_capacity(5);
        let mut start = 0;
        for (k, group) in groups.iter().enumerate().filter(|(_, g)| !g.is_empty()) {
            let part = sorted.narrow(0, start as i64, group.len() as i64);
            let factors: Vec<f32> = group.iter().map(|&(_, f)| f).collect();
            parts.push(match k {
                0 => adjust_brightness(&part, &factors),
                1 => adjust_contrast(&part, &factors),
                2 => adjust_saturation(&part, &factors),
                3 => adjust_hue(&part, &factors),
                _ => part,
            });
            start += group.len();
        }
        y = if parts.len() == 1 { parts.remove(0) } else { Tensor::cat(&parts, 0) };
        order = rows.iter().map(|&r| order[r]).collect();
    }
    if order.iter().enumerate().all(|(i, &img)| i == img) {
        return y;
    }
    let mut back = vec![0i64; n];
    for (row, &img) in order.iter().enumerate() {
        back[img] = row as i64;
    }
    y.index_select(0, &Tensor::from_slice(&back).to_device(x.device()))
}

/// torchvision's `solarize`: values `>= threshold` become `1 - x`.
pub fn solarize(x: &Tensor, threshold: f32) -> Tensor {
    (1.0f64 - x).where_self(&x.ge(threshold as f64), x)
}

/// `(x - mean[c]) / std[c]` per channel (one value is broadcast to every channel).
pub fn normalize(x: &Tensor, mean: &[f32], std: &[f32]) -> Tensor {
    let stat = |v: &[f32]| {
        Tensor::from_slice(v)
            .view([1, v.len() as i64, 1, 1])
            .to_device(x.device())
            .to_kind(x.kind())
    };
    (x - stat(mean)) / stat(std)
}
