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
