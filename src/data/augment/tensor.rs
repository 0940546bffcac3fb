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
//! This file holds the executor; the batched transforms it calls live beside it, in
//! `tensor_spatial.rs` (crops, shifts, flips, quarter turns, blur) and `tensor_color.rs`
//! (colour), and are re-exported here.
//!
//! [`Frame`]: super::Frame

use graft_envs::EnvRng;
use tch::{Device, Kind, Tensor};

use super::color::JitterParams;
use super::crop::CropBox;
use super::draw::Drawn;
use super::frame::sample_rng;
use super::pipeline::{center_box, check_normalize, Augment, Pipeline};
use crate::error::{Error, Result};

pub use super::tensor_color::{
    adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation, color_jitter,
    color_jitter_ops, grayscale, luma, normalize, solarize,
};
pub use super::tensor_spatial::{
    gaussian_blur, hflip, pad_crop, random_shift, random_shift_grid, resized_crop, rot90,
    shift_by_grid,
};

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
pub(super) fn on_images(x: &Tensor, pick: &[bool], f: impl FnOnce(&Tensor) -> Tensor) -> Tensor {
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
pub(super) fn per_image(values: &[f32], like: &Tensor) -> Tensor {
    Tensor::from_slice(values)
        .view([values.len() as i64, 1, 1, 1])
        .to_device(like.device())
        .to_kind(like.kind())
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
