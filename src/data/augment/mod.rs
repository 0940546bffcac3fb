//! Image augmentations: 8-bit images in, float CHW frames out, seeded per sample, composable
//! as data ([`Pipeline`] of [`Augment`] steps) with the SimCLR and DrQ pipelines as presets.
//!
//! Every operation follows torchvision 0.26's definition on float tensors and is tested
//! against it on fixed inputs (`tests/fixtures/images/`); one file per family: [`crop`]
//! (random resized crop, resize, DrQ shift), [`geometry`] (flip, 90° rotations), [`color`]
//! (jitter, grayscale, normalisation), [`blur`].

pub mod blur;
pub mod color;
pub mod crop;
pub mod frame;
pub mod geometry;
pub mod pipeline;

pub use crop::{CropBox, PadMode};
pub use frame::{sample_rng, Frame};
pub use pipeline::{Augment, Pipeline, IMAGENET_MEAN, IMAGENET_STD, PRESETS};
