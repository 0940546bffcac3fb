//! [`Pipeline`]: a list of [`Augment`] steps, as data (JSON, Rhai maps), applied in order to
//! an 8-bit image with a per-sample generator; plus the SimCLR and DrQ presets.
//!
//! Each step draws its random numbers in a fixed order from the sample's generator (see
//! [`super::sample_rng`]), so a pipeline is a pure function of (image, seed, epoch, index,
//! view).

use graft_envs::EnvRng;
use serde::{Deserialize, Serialize};

use super::blur::gaussian_blur;
use super::color::{color_jitter, grayscale, jitter_params, normalize};
use super::crop::{pad_crop, random_resized_crop_box, resized_crop, CropBox, PadMode};
use super::frame::Frame;
use super::geometry::{hflip, rot90};
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

    /// SimCLR's augmentation (Chen et al., 2020, appendix A) at `size x size`:
    /// random resized crop (0.08–1, 3/4–4/3), flip 0.5, colour jitter (0.4, 0.4, 0.4, 0.1)
    /// with p 0.8, grayscale p 0.2, Gaussian blur (kernel 10% of the side, made odd; sigma
    /// 0.1–2.0) with p 0.5, ImageNet normalisation.
    pub fn simclr(size: usize) -> Self {
        let kernel = ((size as f64 * 0.1) as usize) | 1;
        let mut p = Self::simclr_cifar(size);
        p.steps.insert(4, Augment::GaussianBlur { kernel, sigma: [0.1, 2.0], p: 0.5 });
        p
    }

    /// SimCLR's CIFAR-10 variant: the same without the blur (the paper leaves it out for
    /// 32x32 images).
    pub fn simclr_cifar(size: usize) -> Self {
        Pipeline {
            steps: vec![
                Augment::RandomResizedCrop {
                    size: [size, size],
                    scale: [0.08, 1.0],
                    ratio: [3.0 / 4.0, 4.0 / 3.0],
                },
                Augment::HorizontalFlip { p: 0.5 },
                Augment::ColorJitter {
                    brightness: 0.4,
                    contrast: 0.4,
                    saturation: 0.4,
                    hue: 0.1,
                    p: 0.8,
                },
                Augment::RandomGrayscale { p: 0.2 },
                Augment::Normalize { mean: IMAGENET_MEAN.to_vec(), std: IMAGENET_STD.to_vec() },
            ],
        }
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
        let mut f = match steps.peek() {
            Some(Augment::RandomResizedCrop { size, scale, ratio }) => {
                steps.next();
                let b = random_resized_crop_box(img.height, img.width, *scale, *ratio, rng);
                let region = Frame::from_image_region(img, b.top, b.left, b.height, b.width);
                let whole = CropBox { top: 0, left: 0, height: b.height, width: b.width };
                resized_crop(&region, whole, size[0], size[1])
            }
            _ => Frame::from_image(img),
        };
        for step in steps {
            f = self.step(step, f, rng)?;
        }
        Ok(f)
    }

    fn step(&self, step: &Augment, mut f: Frame, rng: &mut EnvRng) -> Result<Frame> {
        Ok(match step {
            Augment::RandomResizedCrop { size, scale, ratio } => {
                let b = random_resized_crop_box(f.height, f.width, *scale, *ratio, rng);
                resized_crop(&f, b, size[0], size[1])
            }
            Augment::Resize { size } => {
                let b = CropBox { top: 0, left: 0, height: f.height, width: f.width };
                resized_crop(&f, b, size[0], size[1])
            }
            Augment::CenterCrop { size } => {
                if size[0] > f.height || size[1] > f.width {
                    return Err(Error::Invalid(format!(
                        "centre crop {size:?} is larger than the {}x{} image",
                        f.height, f.width
                    )));
                }
                let b = CropBox {
                    top: (f.height - size[0]) / 2,
                    left: (f.width - size[1]) / 2,
                    height: size[0],
                    width: size[1],
                };
                super::crop::crop(&f, b)
            }
            Augment::HorizontalFlip { p } => {
                if rng.next_f64() < *p {
                    hflip(&mut f);
                }
                f
            }
            Augment::ColorJitter { brightness, contrast, saturation, hue, p } => {
                if rng.next_f64() < *p {
                    let params = jitter_params([*brightness, *contrast, *saturation, *hue], rng);
                    color_jitter(&mut f, &params);
                }
                f
            }
            Augment::RandomGrayscale { p } => {
                if rng.next_f64() < *p {
                    grayscale(&mut f);
                }
                f
            }
            Augment::GaussianBlur { kernel, sigma, p } => {
                if rng.next_f64() < *p {
                    let s = rng.uniform(sigma[0] as f64, sigma[1] as f64) as f32;
                    f = gaussian_blur(&f, *kernel, s);
                }
                f
            }
            Augment::RandomRotate90 => {
                let k = rng.below(4) as usize;
                rot90(&f, k)
            }
            Augment::RandomShift { pad, mode } => {
                let dy = rng.below(2 * *pad as u64 + 1) as usize;
                let dx = rng.below(2 * *pad as u64 + 1) as usize;
                pad_crop(&f, *pad, dy, dx, *mode)
            }
            Augment::Normalize { mean, std } => {
                for v in [mean, std] {
                    if v.len() != 1 && v.len() != f.channels {
                        return Err(Error::Invalid(format!(
                            "normalisation has {} values for a {}-channel image",
                            v.len(),
                            f.channels
                        )));
                    }
                }
                normalize(&mut f, mean, std);
                f
            }
        })
    }
}
