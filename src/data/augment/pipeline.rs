//! [`Pipeline`]: a list of [`Augment`] steps, as data (JSON, Rhai maps), applied in order to
//! an 8-bit image with a per-sample generator ([`Pipeline::apply`]) or to a float tensor batch
//! with one generator per image ([`Pipeline::apply_batch`], in [`super::tensor`]); plus the
//! named presets (SimCLR's from [`ViewConfig`], DrQ's).
//!
//! Each step draws its random numbers in a fixed order from the sample's generator
//! ([`Augment::draw`]; see [`super::sample_rng`]), so a pipeline is a pure function of
//! (image, seed, epoch, index, view), and both executors compute the same augmentation.

use graft_envs::EnvRng;
use serde::{Deserialize, Serialize};

use super::blur::gaussian_blur;
use super::color::{color_jitter, grayscale, normalize, solarize};
use super::crop::{pad_crop, resized_crop, CropBox, PadMode};
use super::draw::Drawn;
use super::frame::Frame;
use super::geometry::{hflip, rot90};
use super::view::ViewConfig;
use crate::data::images::Image;
use crate::error::{Error, Result};

/// ImageNet channel means (torchvision's reference scripts and SimCLR).
pub const IMAGENET_MEAN: [f32; 3] = [0.485, 0.456, 0.406];
/// ImageNet channel standard deviations.
pub const IMAGENET_STD: [f32; 3] = [0.229, 0.224, 0.225];

/// One augmentation step. Probabilities are in [0, 1].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Augment {
    /// torchvision's `RandomResizedCrop(size, scale, ratio)`, antialiased bilinear.
    RandomResizedCrop {
        /// Output `[height, width]`.
        size: [usize; 2],
        /// Range of the crop's area fraction (SimCLR: 0.08–1).
        scale: [f64; 2],
        /// Range of the crop's aspect ratio w/h (3/4–4/3).
        ratio: [f64; 2],
    },
    /// Resize the whole image to `[height, width]` (antialiased bilinear).
    Resize {
        /// Output `[height, width]`.
        size: [usize; 2],
    },
    /// The central `[height, width]` crop (torchvision's `CenterCrop`, for evaluation).
    CenterCrop {
        /// Output `[height, width]`.
        size: [usize; 2],
    },
    /// Mirror left-right with probability `p`.
    HorizontalFlip {
        /// Probability.
        p: f64,
    },
    /// torchvision's `ColorJitter`, applied with probability `p` (SimCLR: 0.8).
    ColorJitter {
        /// Brightness strength (factor in [1 - b, 1 + b]).
        brightness: f32,
        /// Contrast strength.
        contrast: f32,
        /// Saturation strength.
        saturation: f32,
        /// Hue shift bound (≤ 0.5).
        hue: f32,
        /// Probability of applying the jitter at all.
        p: f64,
    },
    /// Grayscale (kept 3 channels) with probability `p` (SimCLR: 0.2).
    RandomGrayscale {
        /// Probability.
        p: f64,
    },
    /// Gaussian blur with `sigma` uniform in the range, with probability `p`.
    GaussianBlur {
        /// Odd kernel size.
        kernel: usize,
        /// Range of sigma (SimCLR: 0.1–2.0).
        sigma: [f32; 2],
        /// Probability.
        p: f64,
    },
    /// torchvision's `RandomSolarize(threshold, p)`: values at or above `threshold` become
    /// `1 - x` (BYOL, Grill et al. 2020: threshold 0.5, p 0.2 on its second view).
    RandomSolarize {
        /// Values `>= threshold` are inverted.
        threshold: f32,
        /// Probability.
        p: f64,
    },
    /// Rotate counter-clockwise by a uniformly drawn multiple of 90° (`k` in 0..4).
    RandomRotate90,
    /// Pad by `pad` and crop back to the input size at a uniform offset (DrQ: 4, replicate).
    RandomShift {
        /// Border width.
        pad: usize,
        /// Border fill.
        mode: PadMode,
    },
    /// `(x - mean) / std` per channel; one value is broadcast to every channel.
    Normalize {
        /// Channel means.
        mean: Vec<f32>,
        /// Channel standard deviations (non-zero).
        std: Vec<f32>,
    },
}

/// A sequence of augmentations (see the module docs).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pipeline {
    /// Steps, applied in order.
    pub steps: Vec<Augment>,
}

/// Names accepted by [`Pipeline::preset`].
pub const PRESETS: &[&str] = &["simclr", "simclr_cifar", "drq", "none"];

fn check_p(p: f64, what: &str) -> Result<()> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(Error::Invalid(format!("{what}: probability {p} is outside [0, 1]")))
    }
}

fn check_size(size: [usize; 2], what: &str) -> Result<()> {
    if size.contains(&0) {
        return Err(Error::Invalid(format!("{what}: size {size:?} must be positive")));
    }
    Ok(())
}

impl Pipeline {
    /// A pipeline of `steps`, validated.
    pub fn new(steps: Vec<Augment>) -> Result<Self> {
        let p = Pipeline { steps };
        p.validate()?;
        Ok(p)
    }

    /// SimCLR's augmentation (Chen et al., 2020, appendix A) at `size x size`: one view of
    /// [`ViewConfig::simclr`] (random resized crop 0.08–1, 3/4–4/3; flip 0.5; colour jitter
    /// (0.4, 0.4, 0.4, 0.1) with p 0.8; grayscale p 0.2; Gaussian blur, kernel 10% of the
    /// side made odd, sigma 0.1–2.0, p 0.5), then ImageNet normalisation.
    pub fn simclr(size: usize) -> Self {
        ViewConfig::simclr().pipeline([size, size], 0).normalized()
    }

    /// SimCLR's CIFAR-10 variant: the same without the blur (the paper leaves it out for
    /// 32x32 images); one view of [`ViewConfig::simclr_cifar`], then ImageNet normalisation.
    pub fn simclr_cifar(size: usize) -> Self {
        ViewConfig::simclr_cifar().pipeline([size, size], 0).normalized()
    }

    /// The pipeline with ImageNet normalisation appended.
    fn normalized(mut self) -> Self {
        self.steps
            .push(Augment::Normalize { mean: IMAGENET_MEAN.to_vec(), std: IMAGENET_STD.to_vec() });
        self
    }

    /// DrQ's augmentation (Kostrikov et al., 2020): replicate-pad 4, random crop back.
    pub fn drq() -> Self {
        Pipeline { steps: vec![Augment::RandomShift { pad: 4, mode: PadMode::Replicate }] }
    }

    /// A named preset (see [`PRESETS`]); `size` is the output side for the SimCLR ones.
    pub fn preset(name: &str, size: usize) -> Result<Self> {
        match name {
            "simclr" => Ok(Self::simclr(size)),
            "simclr_cifar" => Ok(Self::simclr_cifar(size)),
            "drq" => Ok(Self::drq()),
            "none" => Ok(Pipeline::default()),
            _ => Err(Error::Invalid(format!(
                "unknown augmentation preset '{name}'; known: {}",
                PRESETS.join(", ")
            ))),
        }
    }

    /// Check every step's parameters.
    pub fn validate(&self) -> Result<()> {
        for (i, s) in self.steps.iter().enumerate() {
            let what = format!("augmentation step {i}");
            match s {
                Augment::RandomResizedCrop { size, scale, ratio } => {
                    check_size(*size, &what)?;
                    if !(scale[0] > 0.0
                        && scale[0] <= scale[1]
                        && ratio[0] > 0.0
                        && ratio[0] <= ratio[1])
                    {
                        return Err(Error::Invalid(format!(
                            "{what}: scale {scale:?} and ratio {ratio:?} must be positive, increasing ranges"
                        )));
                    }
                }
                Augment::Resize { size } | Augment::CenterCrop { size } => {
                    check_size(*size, &what)?
                }
                Augment::HorizontalFlip { p } | Augment::RandomGrayscale { p } => {
                    check_p(*p, &what)?
                }
                Augment::ColorJitter { brightness, contrast, saturation, hue, p } => {
                    check_p(*p, &what)?;
                    if [*brightness, *contrast, *saturation, *hue]
                        .iter()
                        .any(|&x| x.is_nan() || x < 0.0)
                        || *hue > 0.5
                    {
                        return Err(Error::Invalid(format!(
                            "{what}: jitter strengths must be non-negative and hue at most 0.5"
                        )));
                    }
                }
                Augment::GaussianBlur { kernel, sigma, p } => {
                    check_p(*p, &what)?;
                    if kernel % 2 == 0 || !(sigma[0] > 0.0 && sigma[0] <= sigma[1]) {
                        return Err(Error::Invalid(format!(
                            "{what}: blur kernel {kernel} must be odd and sigma {sigma:?} a positive range"
                        )));
                    }
                }
                Augment::RandomSolarize { threshold, p } => {
                    check_p(*p, &what)?;
                    if !threshold.is_finite() {
                        return Err(Error::Invalid(format!(
                            "{what}: solarize threshold {threshold} must be finite"
                        )));
                    }
                }
                Augment::RandomRotate90 | Augment::RandomShift { .. } => {}
                Augment::Normalize { mean, std } => {
                    if mean.is_empty() || std.is_empty() || std.contains(&0.0) {
                        return Err(Error::Invalid(format!(
                            "{what}: normalisation needs means and non-zero standard deviations"
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether the pipeline normalises (its output is then not in [0, 1]).
    pub fn normalizes(&self) -> bool {
        self.steps.iter().any(|s| matches!(s, Augment::Normalize { .. }))
    }

    /// The output `[channels, height, width]` for an input of `shape` (CHW), or `None` when
    /// it depends on the input and the input's shape is unknown.
    pub fn output_shape(&self, shape: Option<[usize; 3]>) -> Option<[usize; 3]> {
        let mut s = shape;
        for step in &self.steps {
            s = match step {
                Augment::RandomResizedCrop { size, .. }
                | Augment::Resize { size }
                | Augment::CenterCrop { size } => Some([s.map_or(0, |x| x[0]), size[0], size[1]]),
                Augment::RandomRotate90 => s.filter(|x| x[1] == x[2]),
                _ => s,
            };
        }
        // Channels of a resized, unknown-shape input are unknown too.
        s.filter(|x| x[0] > 0)
    }

    /// Augment one image. Fails only when a step does not fit the image (a centre crop
    /// larger than it, normalisation statistics for a different channel count). A blur
    /// kernel wider than the image mirrors the border repeatedly (torchvision refuses it).
    pub fn apply(&self, img: &Image, rng: &mut EnvRng) -> Result<Frame> {
        let mut steps = self.steps.iter().peekable();
        // A leading random resized crop converts only its box to floats (same draws, same
        // values as converting first): what keeps large photos cheap.
        let first = steps.peek().copied();
        let mut f = match first {
            Some(step @ Augment::RandomResizedCrop { size, .. }) => {
                steps.next();
                let b = match step.draw(img.height, img.width, rng) {
                    Drawn::Crop(b) => b,
                    _ => CropBox { top: 0, left: 0, height: img.height, width: img.width },
                };
                let region = Frame::from_image_region(img, b.top, b.left, b.height, b.width);
                let whole = CropBox { top: 0, left: 0, height: b.height, width: b.width };
                resized_crop(&region, whole, size[0], size[1])
            }
            _ => Frame::from_image(img),
        };
        for step in steps {
            let drawn = step.draw(f.height, f.width, rng);
            f = apply_frame(step, drawn, f)?;
        }
        Ok(f)
    }
}

/// Apply one step with its drawn parameters to one frame.
fn apply_frame(step: &Augment, drawn: Drawn, mut f: Frame) -> Result<Frame> {
    Ok(match (step, drawn) {
        (Augment::RandomResizedCrop { size, .. }, Drawn::Crop(b)) => {
            resized_crop(&f, b, size[0], size[1])
        }
        (Augment::Resize { size }, _) => {
            let b = CropBox { top: 0, left: 0, height: f.height, width: f.width };
            resized_crop(&f, b, size[0], size[1])
        }
        (Augment::CenterCrop { size }, _) => {
            let b = center_box(*size, f.height, f.width)?;
            super::crop::crop(&f, b)
        }
        (Augment::HorizontalFlip { .. }, Drawn::Coin(true)) => {
            hflip(&mut f);
            f
        }
        (Augment::ColorJitter { .. }, Drawn::Jitter(Some(params))) => {
            color_jitter(&mut f, &params);
            f
        }
        (Augment::RandomGrayscale { .. }, Drawn::Coin(true)) => {
            grayscale(&mut f);
            f
        }
        (Augment::GaussianBlur { kernel, .. }, Drawn::Blur(Some(sigma))) => {
            gaussian_blur(&f, *kernel, sigma)
        }
        (Augment::RandomSolarize { threshold, .. }, Drawn::Coin(true)) => {
            solarize(&mut f, *threshold);
            f
        }
        (Augment::RandomRotate90, Drawn::Rotate(k)) => rot90(&f, k),
        (Augment::RandomShift { pad, mode }, Drawn::Shift(dy, dx)) => {
            pad_crop(&f, *pad, dy, dx, *mode)
        }
        (Augment::Normalize { mean, std }, _) => {
            check_normalize(mean, std, f.channels)?;
            normalize(&mut f, mean, std);
            f
        }
        // A coin that said no.
        _ => f,
    })
}

/// The box of a `size` centre crop of a `height x width` image.
pub(crate) fn center_box(size: [usize; 2], height: usize, width: usize) -> Result<CropBox> {
    if size[0] > height || size[1] > width {
        return Err(Error::Invalid(format!(
            "centre crop {size:?} is larger than the {height}x{width} image"
        )));
    }
    Ok(CropBox {
        top: (height - size[0]) / 2,
        left: (width - size[1]) / 2,
        height: size[0],
        width: size[1],
    })
}

/// Normalisation statistics must give one value, or one per channel.
pub(crate) fn check_normalize(mean: &[f32], std: &[f32], channels: usize) -> Result<()> {
    for v in [mean, std] {
        if v.len() != 1 && v.len() != channels {
            return Err(Error::Invalid(format!(
                "normalisation has {} values for a {channels}-channel image",
                v.len()
            )));
        }
    }
    Ok(())
}
