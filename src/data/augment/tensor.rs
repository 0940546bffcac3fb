//! The batched executor of a [`Pipeline`]: the same transforms as the per-image [`Frame`]
//! functions of this folder, on float `[B, C, H, W]` tensors on any device, for pretraining
//! (SimCLR, BYOL, DrQ shifts, RotNet) where the images already are a tensor on the training
//! device.
//!
//! Each image of the batch draws its parameters with [`Augment::draw`] from its own
//! generator, exactly as the per-image executor does; the transforms are then applied to the
//! whole batch at once with per-image parameters: a random resized crop is two batched matrix
//! products with each image's filter weights, a flip, grayscale or solarisation runs on the
//! images whose coin said yes, a blur is a grouped convolution, a shift a window of the padded
//! batch. Colour jitter, whose order is drawn per image, runs the per-image functions on the
//! batch's values when it is a float32 CPU tensor (faster there) and tensor operations
//! elsewhere ([`color_jitter`]).
//!
//! The formulas are torchvision's and the per-image functions' (same filter weights, same
//! luma weights 0.2989/0.587/0.114, same HSV arithmetic), so for the same seeds both
//! executors agree to float32 rounding: `tests/augment.rs` checks both against torchvision's
//! fixtures (2e-6, permutations exactly) and against each other on whole pipelines (1e-5,
//! after normalisation scales rounding up by 1/std). The one inherent difference from
//! torchvision's *PIL* path is shared by both: they compute on floats throughout, where PIL
//! rounds to 8 bits after every step.
//!
//! [`Frame`]: super::Frame

use graft_envs::EnvRng;
use rayon::prelude::*;
use tch::{Device, Kind, Tensor};

use super::blur::{gaussian_kernel, reflect};
use super::color::{self, JitterParams, LUMA};
use super::crop::{for_each_aa_weight, CropBox, PadMode};
use super::draw::Drawn;
use super::frame::{sample_rng, Frame};
use super::pipeline::{center_box, check_normalize, Augment, Pipeline};
use crate::error::{Error, Result};

/// A seed drawn from libtorch's CPU generator: what ties tensor augmentations to
/// `tch::manual_seed` (the pretraining trainer seeds it per step).
pub fn torch_seed() -> Result<u64> {
    let t = Tensor::f_randint(i64::MAX, [1], (Kind::Int64, Device::Cpu))?;
    Ok(t.f_int64_value(&[0])? as u64)
}

/// One generator per image of a batch of `n`: image `i` of view `view` draws from
/// [`sample_rng`]`(seed, 0, i, view)`.
pub fn batch_rngs(seed: u64, view: u64, n: usize) -> Vec<EnvRng> {
    (0..n as u64).map(|i| sample_rng(seed, 0, i, view)).collect()
}

impl Pipeline {
    /// Augment every image of `x` (float `[B, C, H, W]`, values in [0, 1] unless the caller
    /// scales them) with image `i`'s parameters drawn from `rngs[i]`.
    ///
    /// Fails on a batch that is not 4-D float, a generator count other than `B`, a quarter
    /// turn of a non-square batch (the images would change shape one by one), and where
    /// [`Pipeline::apply`] fails (centre crop larger than the image, normalisation for
    /// another channel count).
    pub fn apply_batch(&self, x: &Tensor, rngs: &mut [EnvRng]) -> Result<Tensor> {
        let size = x.size();
        if size.len() != 4 || size[0] != rngs.len() as i64 {
            return Err(Error::ShapeMismatch {
                what: format!("augmentation batch ({} generators)", rngs.len()),
                expected: vec![rngs.len() as i64, -1, -1, -1],
                got: size,
            });
        }
        if !x.is_floating_point() {
            return Err(Error::Invalid(format!(
                "augmentation batch: expected float images, got {:?}",
                x.kind()
            )));
        }
        let mut x = x.shallow_clone();
        let mut steps = self.steps.iter().peekable();
        while let Some(step) = steps.next() {
            let s = x.size();
            let (h, w) = (s[2] as usize, s[3] as usize);
            let drawn: Vec<Drawn> = rngs.iter_mut().map(|r| step.draw(h, w, r)).collect();
            if let (Augment::RandomResizedCrop { size, .. }, Some(flip)) = (step, steps.peek()) {
                if matches!(flip, Augment::HorizontalFlip { .. }) {
                    // SimCLR's flip right after its crop: folded into the crop's weights
                    // (each image still draws the crop, then the flip, from its generator).
                    let flips: Vec<bool> = rngs
                        .iter_mut()
                        .map(|r| matches!(flip.draw(size[0], size[1], r), Drawn::Coin(true)))
                        .collect();
                    steps.next();
                    let boxes: Vec<CropBox> = drawn
                        .iter()
                        .map(|d| match d {
                            Drawn::Crop(b) => *b,
                            _ => CropBox { top: 0, left: 0, height: h, width: w },
                        })
                        .collect();
                    x = resized_crop(&x, &boxes, *size, &flips);
                    continue;
                }
            }
            x = apply_step(step, &drawn, &x)?;
        }
        Ok(x)
    }
}

/// Apply one step with every image's drawn parameters.
fn apply_step(step: &Augment, drawn: &[Drawn], x: &Tensor) -> Result<Tensor> {
    let s = x.size();
    let (c, h, w) = (s[1] as usize, s[2] as usize, s[3] as usize);
    let whole = CropBox { top: 0, left: 0, height: h, width: w };
    let coins: Vec<bool> = drawn.iter().map(|d| matches!(d, Drawn::Coin(true))).collect();
    Ok(match step {
        Augment::RandomResizedCrop { size, .. } => {
            let boxes: Vec<CropBox> =
                drawn.iter().map(|d| if let Drawn::Crop(b) = d { *b } else { whole }).collect();
            resized_crop(x, &boxes, *size, &[])
        }
        Augment::Resize { size } => resized_crop(x, &vec![whole; drawn.len()], *size, &[]),
        Augment::CenterCrop { size } => {
            let b = center_box(*size, h, w)?;
            x.narrow(2, b.top as i64, b.height as i64).narrow(3, b.left as i64, b.width as i64)
        }
        Augment::HorizontalFlip { .. } => on_images(x, &coins, hflip),
        Augment::ColorJitter { .. } => {
            let params: Vec<Option<JitterParams>> =
                drawn.iter().map(|d| if let Drawn::Jitter(p) = d { *p } else { None }).collect();
            color_jitter(x, &params)?
        }
        Augment::RandomGrayscale { .. } => on_images(x, &coins, grayscale),
        Augment::GaussianBlur { kernel, .. } => {
            let sigmas: Vec<Option<f32>> =
                drawn.iter().map(|d| if let Drawn::Blur(s) = d { *s } else { None }).collect();
            gaussian_blur(x, *kernel, &sigmas)
        }
        Augment::RandomSolarize { threshold, .. } => {
            on_images(x, &coins, |t| solarize(t, *threshold))
        }
        Augment::RandomRotate90 => {
            let ks: Vec<usize> =
                drawn.iter().map(|d| if let Drawn::Rotate(k) = d { *k } else { 0 }).collect();
            if h != w && ks.iter().any(|k| k % 2 == 1) {
                return Err(Error::Invalid(format!(
                    "a quarter turn of a batch needs square images, got {h}x{w}"
                )));
            }
            let mut y = x.shallow_clone();
            for k in 1..4 {
                let pick: Vec<bool> = ks.iter().map(|&q| q == k).collect();
                y = on_images(&y, &pick, |t| rot90(t, k as i64));
            }
            y
        }
        Augment::RandomShift { pad, mode } => {
            let offsets: Vec<(usize, usize)> = drawn
                .iter()
                .map(|d| if let Drawn::Shift(dy, dx) = d { (*dy, *dx) } else { (*pad, *pad) })
                .collect();
            pad_crop(x, *pad, &offsets, *mode)
        }
        Augment::Normalize { mean, std } => {
            check_normalize(mean, std, c)?;
            normalize(x, mean, std)
        }
    })
}

/// `f` applied to the images where `pick` is true, the others unchanged.
fn on_images(x: &Tensor, pick: &[bool], f: impl FnOnce(&Tensor) -> Tensor) -> Tensor {
    let idx: Vec<i64> = (0..pick.len() as i64).filter(|&i| pick[i as usize]).collect();
    if idx.is_empty() {
        x.shallow_clone()
    } else if idx.len() == pick.len() {
        f(x)
    } else {
        let idx = Tensor::from_slice(&idx).to_device(x.device());
        x.index_copy(0, &idx, &f(&x.index_select(0, &idx)))
    }
}

/// Per-image scalars as a `[n, 1, 1, 1]` tensor of `like`'s kind and device.
fn per_image(values: &[f32], like: &Tensor) -> Tensor {
    Tensor::from_slice(values)
        .view([values.len() as i64, 1, 1, 1])
        .to_device(like.device())
        .to_kind(like.kind())
}

// ---------------------------------------------------------------- geometry

/// The antialiased bilinear resampling matrices of one axis, `[n, output, input]` row-major
/// (or `[n, input, output]` when `transposed`): row `o` of image `i` holds the weights of
/// its span `(start, len)` resized to `output` ([`super::crop::resized_crop`]'s weights),
/// in reverse output order where `mirror[i]`.
fn resample_matrices(
    spans: &[(usize, usize)],
    input: usize,
    output: usize,
    transposed: bool,
    mirror: &[bool],
) -> Vec<f32> {
    let mut m = vec![0.0f32; spans.len() * output * input];
    for (i, &(start, len)) in spans.iter().enumerate() {
        let block = &mut m[i * output * input..][..output * input];
        let flip = mirror.get(i).copied().unwrap_or(false);
        for_each_aa_weight(len, output, |o, j, a| {
            let (o, j) = (if flip { output - 1 - o } else { o }, start + j);
            block[if transposed { j * output + o } else { o * input + j }] = a;
        });
    }
    m
}

/// Crop every image to its box and resize it to `size` (`[height, width]`) with
/// antialiased bilinear interpolation: [`super::crop::resized_crop`] on a batch, width first,
/// then height, with the same weights, as two batched matrix products. Images where
/// `flips[i]` (missing: no) come out mirrored left-right, at no cost: their column weights
/// are taken in reverse order.
///
/// # Shapes
/// `[B, C, H, W]` → `[B, C, size[0], size[1]]`.
pub fn resized_crop(x: &Tensor, boxes: &[CropBox], size: [usize; 2], flips: &[bool]) -> Tensor {
    let s = x.size();
    let (b, c, h, w) = (s[0], s[1], s[2], s[3]);
    let (oh, ow) = (size[0] as i64, size[1] as i64);
    if !flips.contains(&true)
        && boxes.windows(2).all(|p| p[0] == p[1])
        && boxes.first().is_some_and(|bx| bx.height == size[0] && bx.width == size[1])
    {
        // One plain crop for all, as the per-image function takes it (no resampling).
        let bx = boxes[0];
        return x.narrow(2, bx.top as i64, oh).narrow(3, bx.left as i64, ow);
    }
    let matrix = |m: Vec<f32>, rows, cols| {
        Tensor::from_slice(&m).view([b, rows, cols]).to_device(x.device()).to_kind(x.kind())
    };
    let cols: Vec<(usize, usize)> = boxes.iter().map(|bx| (bx.left, bx.width)).collect();
    let rows: Vec<(usize, usize)> = boxes.iter().map(|bx| (bx.top, bx.height)).collect();
    let wx = matrix(resample_matrices(&cols, w as usize, size[1], true, flips), w, ow); // [B, W, ow]
    let wy = matrix(resample_matrices(&rows, h as usize, size[0], false, &[]), oh, h); // [B, oh, H]
    let t = x.reshape([b, c * h, w]).bmm(&wx).view([b, c, h, ow]);
    wy.unsqueeze(1).matmul(&t) // [B, C, oh, ow]
}

/// Pad every image by `pad` and take its window at `offsets[i] = (dy, dx)` of the padded
/// image: [`super::crop::pad_crop`] on a batch (DrQ's shift). Exact: values are only moved.
pub fn pad_crop(x: &Tensor, pad: usize, offsets: &[(usize, usize)], mode: PadMode) -> Tensor {
    let s = x.size();
    let (h, w) = (s[2], s[3]);
    let p = pad as i64;
    let padded = match mode {
        PadMode::Zero => x.constant_pad_nd([p, p, p, p]),
        PadMode::Replicate if p < h && p < w => x.replication_pad2d([p, p, p, p]),
        PadMode::Replicate => {
            // Edge indices repeated (any border width, as the per-image function allows).
            let edge = |n: i64| {
                let idx: Vec<i64> = (-p..n + p).map(|i| i.clamp(0, n - 1)).collect();
                Tensor::from_slice(&idx).to_device(x.device())
            };
            x.index_select(2, &edge(h)).index_select(3, &edge(w))
        }
    };
    let windows: Vec<Tensor> = offsets
        .iter()
        .enumerate()
        .map(|(i, &(dy, dx))| padded.get(i as i64).narrow(1, dy as i64, h).narrow(2, dx as i64, w))
        .collect();
    Tensor::stack(&windows, 0)
}

/// Pad every image by `pad` (replicating the border) and crop it back at a uniformly drawn
/// offset: DrQ's shift (Kostrikov et al. 2020, <https://arxiv.org/abs/2004.13649>; used by
/// ATC and SPR), i.e. [`Augment::RandomShift`] with a generator per image seeded from
/// libtorch's ([`torch_seed`]). Any float `[B, C, H, W]` (values are only moved).
pub fn random_shift(x: &Tensor, pad: usize) -> Result<Tensor> {
    if pad == 0 {
        return Ok(x.shallow_clone());
    }
    let n = x.size().first().copied().unwrap_or(0).max(0) as usize;
    let step = Augment::RandomShift { pad, mode: PadMode::Replicate };
    Pipeline { steps: vec![step] }.apply_batch(x, &mut batch_rngs(torch_seed()?, 0, n))
}

/// Mirror every image left-right ([`super::geometry::hflip`] on a batch).
pub fn hflip(x: &Tensor) -> Tensor {
    x.flip([3])
}

/// Rotate every image counter-clockwise by `k` quarter turns, as `torch.rot90(x, k, [2, 3])`
/// ([`super::geometry::rot90`] on a batch); `k` is taken modulo 4.
pub fn rot90(x: &Tensor, k: i64) -> Tensor {
    x.rot90(k.rem_euclid(4), [2, 3])
}

// ---------------------------------------------------------------- colour

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

// ---------------------------------------------------------------- blur

/// Gaussian blur with a `kernel`-tap kernel of standard deviation `sigmas[i]` on image `i`
/// (`None`: unchanged): [`super::blur::gaussian_blur`] on a batch, the border mirrored as
/// there (any kernel size) and the same normalised kernel, as two grouped convolutions.
pub fn gaussian_blur(x: &Tensor, kernel: usize, sigmas: &[Option<f32>]) -> Tensor {
    let pick: Vec<bool> = sigmas.iter().map(Option::is_some).collect();
    let weights: Vec<f32> =
        sigmas.iter().flatten().flat_map(|&s| gaussian_kernel(kernel, s)).collect();
    on_images(x, &pick, |t| {
        let s = t.size();
        let (n, c, h, w) = (s[0], s[1], s[2], s[3]);
        let k = kernel as i64;
        let r = k / 2;
        let dev = t.device();
        let mirror = |len: i64| {
            let idx: Vec<i64> = (-r..len + r).map(|i| reflect(i, len) as i64).collect();
            Tensor::from_slice(&idx).to_device(dev)
        };
        // [n, C, H + 2r, W + 2r], mirrored without repeating the edge.
        let padded = t.index_select(2, &mirror(h)).index_select(3, &mirror(w));
        // One group per (image, channel): each image's kernel repeated over its channels.
        let wk = Tensor::from_slice(&weights)
            .to_device(dev)
            .to_kind(t.kind())
            .view([n, 1, k])
            .expand([n, c, k], false)
            .reshape([n * c, 1, k]);
        let flat = padded.reshape([1, n * c, h + 2 * r, w + 2 * r]);
        let no_bias: Option<Tensor> = None;
        let across = flat.conv2d(
            &wk.view([n * c, 1, 1, k]),
            no_bias.as_ref(),
            [1, 1],
            [0, 0],
            [1, 1],
            n * c,
        );
        let down = across.conv2d(
            &wk.view([n * c, 1, k, 1]),
            no_bias.as_ref(),
            [1, 1],
            [0, 0],
            [1, 1],
            n * c,
        );
        down.view([n, c, h, w])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn images() -> Tensor {
        Tensor::arange(2 * 3 * 8 * 8, (Kind::Float, Device::Cpu)).view([2, 3, 8, 8]) / 384.0
    }

    #[test]
    fn four_quarter_turns_are_the_identity_and_two_flip_both_axes() {
        let x = images();
        assert!(rot90(&rot90(&x, 1), 3).equal(&x));
        assert!(rot90(&x, 2).equal(&x.flip([2, 3])));
        assert!(rot90(&x, 4).equal(&x));
    }

    #[test]
    fn a_shift_is_a_window_of_the_padded_image() {
        tch::manual_seed(3);
        let x = images();
        let y = random_shift(&x, 2).unwrap();
        assert_eq!(y.size(), x.size());
        let padded = x.replication_pad2d([2, 2, 2, 2]);
        for i in 0..2 {
            let found = (0..5).any(|dy| {
                (0..5).any(|dx| padded.get(i).narrow(1, dy, 8).narrow(2, dx, 8).equal(&y.get(i)))
            });
            assert!(found, "image {i} is not a crop of its padded self");
        }
        tch::manual_seed(3);
        assert!(random_shift(&x, 2).unwrap().equal(&y), "the shift replays under its seed");
    }

    #[test]
    fn whole_image_crops_are_copies_and_bad_batches_are_refused() {
        let x = images();
        let whole = CropBox { top: 0, left: 0, height: 8, width: 8 };
        assert!(resized_crop(&x, &[whole, whole], [8, 8], &[]).equal(&x));
        // A flip folded into the weights mirrors exactly the images asked for.
        let mirrored = resized_crop(&x, &[whole, whole], [8, 8], &[false, true]);
        assert!(mirrored.get(0).equal(&x.get(0)) && mirrored.get(1).equal(&x.get(1).flip([2])));
        let mut rngs = batch_rngs(0, 0, 3);
        let err = Pipeline::drq().apply_batch(&x, &mut rngs).unwrap_err().to_string();
        assert!(err.contains("3 generators"), "{err}");
        let bytes = x.to_kind(Kind::Uint8);
        assert!(Pipeline::drq().apply_batch(&bytes, &mut rngs[..2]).is_err());
    }
}
