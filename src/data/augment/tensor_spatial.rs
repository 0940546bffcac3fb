//! The batched executor's spatial transforms, the tensor twins of [`super::crop`],
//! [`super::geometry`] and [`super::blur`] on float `[B, C, H, W]` batches with per-image
//! parameters: random resized crop and resize as batched matrix products, DrQ's shift as a
//! window of the padded batch, flips, quarter turns, and Gaussian blur as grouped convolutions.
//! Re-exported by [`super::tensor`], where the executor that calls them lives.

use tch::Tensor;

use super::blur::{gaussian_kernel, reflect};
use super::crop::{for_each_aa_weight, CropBox, PadMode};
use super::pipeline::{Augment, Pipeline};
use super::tensor::{batch_rngs, on_images, torch_seed};
use crate::error::Result;

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

/// Pad `[B, C, H, W]` by `pad` on every side, repeating the border pixels.
fn replicate_pad(x: &Tensor, pad: usize) -> Tensor {
    let s = x.size();
    let (h, w, p) = (s[2], s[3], pad as i64);
    if p < h && p < w {
        return x.replication_pad2d([p, p, p, p]);
    }
    // Edge indices repeated (any border width, as the per-image function allows).
    let edge = |n: i64| {
        let idx: Vec<i64> = (-p..n + p).map(|i| i.clamp(0, n - 1)).collect();
        Tensor::from_slice(&idx).to_device(x.device())
    };
    x.index_select(2, &edge(h)).index_select(3, &edge(w))
}

/// Pad every image by `pad` and take its window at `offsets[i] = (dy, dx)` of the padded
/// image: [`super::crop::pad_crop`] on a batch (DrQ's shift). Exact: values are only moved.
pub fn pad_crop(x: &Tensor, pad: usize, offsets: &[(usize, usize)], mode: PadMode) -> Tensor {
    let s = x.size();
    let (h, w) = (s[2], s[3]);
    let p = pad as i64;
    let padded = match mode {
        PadMode::Zero => x.constant_pad_nd([p, p, p, p]),
        PadMode::Replicate => replicate_pad(x, pad),
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

/// DrQ-v2's form of the shift (Yarats et al. 2021, <https://arxiv.org/abs/2107.09645>):
/// replicate-pad by `pad`, then bilinear `grid_sample` on a grid of the padded image's pixel
/// centres moved by whole pixels, `shifts[i] = (dx, dy)` in `0..=2·pad` (`[B, 2]` int64 or
/// float). The grid points land on pixel centres, so this is [`pad_crop`] with offsets
/// `(dy, dx)` up to float rounding; the sampling is what the paper's implementation does (and
/// its gradient with respect to the input is the same moved window).
///
/// # Shapes
/// `[B, C, H, W]` float → `[B, C, H, W]`.
pub fn shift_by_grid(x: &Tensor, pad: usize, shifts: &Tensor) -> Tensor {
    let s = x.size();
    let (b, h, w) = (s[0], s[2], s[3]);
    let p = pad as i64;
    let padded = replicate_pad(x, pad);
    let opts = (tch::Kind::Float, x.device());
    // Normalised coordinates of the first H (W) pixel centres of the padded image
    // (align_corners = false: centre j of n is at (2j + 1) / n − 1).
    let centres = |n: i64, len: i64| {
        let step = 2.0 / (n + 2 * p) as f64;
        Tensor::arange(len, opts) * step + (step / 2.0 - 1.0)
    };
    let xs = centres(w, w).view([1, 1, w, 1]).expand([b, h, w, 1], false);
    let ys = centres(h, h).view([1, h, 1, 1]).expand([b, h, w, 1], false);
    let shifts = shifts.to_kind(tch::Kind::Float).to_device(x.device()).view([b, 1, 1, 2]);
    let sx = shifts.narrow(3, 0, 1) * (2.0 / (w + 2 * p) as f64);
    let sy = shifts.narrow(3, 1, 1) * (2.0 / (h + 2 * p) as f64);
    let grid = Tensor::cat(&[xs + sx, ys + sy], 3).to_kind(x.kind());
    // Bilinear, zero padding (never reached: the grid stays inside), align_corners false.
    padded.grid_sampler(&grid, 0, 0, false)
}

/// [`shift_by_grid`] at shifts drawn uniformly from `0..=2·pad` per image and axis with
/// libtorch's generator (DrQ-v2's `RandomShiftsAug`).
pub fn random_shift_grid(x: &Tensor, pad: usize) -> Tensor {
    if pad == 0 {
        return x.shallow_clone();
    }
    let b = x.size()[0];
    let shifts =
        Tensor::randint_low(0, 2 * pad as i64 + 1, [b, 2], (tch::Kind::Int64, tch::Device::Cpu));
    shift_by_grid(x, pad, &shifts)
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
    use tch::{Device, Kind};

    /// The paper's bilinear grid sampling at whole-pixel shifts is the exact window of the
    /// padded image: compared with `pad_crop` on random frames, every shift of 0..=8 in x
    /// and y (pad 4), within float rounding.
    #[test]
    fn grid_shift_is_the_padded_window() {
        tch::manual_seed(3);
        let n = 81; // all 9 x 9 shifts
        let x = Tensor::rand([n, 3, 12, 10], (Kind::Float, Device::Cpu)) * 255.0;
        let pairs: Vec<(usize, usize)> =
            (0..9).flat_map(|dx| (0..9).map(move |dy| (dx, dy))).collect();
        let shifts: Vec<i64> = pairs.iter().flat_map(|&(dx, dy)| [dx as i64, dy as i64]).collect();
        let shifts = Tensor::from_slice(&shifts).view([n, 2]);
        let got = shift_by_grid(&x, 4, &shifts);
        let offsets: Vec<(usize, usize)> = pairs.iter().map(|&(dx, dy)| (dy, dx)).collect();
        let want = pad_crop(&x, 4, &offsets, PadMode::Replicate);
        let err = (&got - &want).abs().max().double_value(&[]);
        assert!(err < 1e-3, "largest difference {err} of 255");
        // Shift (4, 4) is the identity; (0, 0) moves the image right and down by 4.
        let id = shift_by_grid(&x.narrow(0, 0, 1), 4, &Tensor::from_slice(&[4i64, 4]).view([1, 2]));
        assert!((&id - x.narrow(0, 0, 1)).abs().max().double_value(&[]) < 1e-3);
    }

    /// Random shifts keep the shape and only move values: every output pixel is one of its
    /// image's input values.
    #[test]
    fn random_grid_shift_moves_values_only() {
        tch::manual_seed(0);
        let x = Tensor::randint(256, [4, 9, 16, 16], (Kind::Float, Device::Cpu));
        let y = random_shift_grid(&x, 4);
        assert_eq!(y.size(), x.size());
        let rounded = y.round();
        assert!((&y - &rounded).abs().max().double_value(&[]) < 1e-3);
        assert_ne!(
            Vec::<f32>::try_from(y.flatten(0, -1)).unwrap(),
            Vec::<f32>::try_from(x.flatten(0, -1)).unwrap()
        );
    }
}
