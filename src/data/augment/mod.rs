//! Image augmentations, one stack for the loader and for pretraining: each transform is
//! defined once, with torchvision 0.26's definition on float images, and composed as data
//! ([`Pipeline`] of [`Augment`] steps; [`ViewConfig`] declares the two-view recipes of SimCLR
//! and BYOL, which the loader presets and the pretext tasks share).
//!
//! A pipeline runs two ways, on the same parameters ([`Augment::draw`], seeded per sample):
//! [`Pipeline::apply`] augments one 8-bit image into a float CHW [`Frame`] on the CPU (the
//! loader's worker threads), and [`Pipeline::apply_batch`] augments a float `[B, C, H, W]`
//! tensor batch on its device (pretraining). Both are tested against torchvision on fixed
//! inputs and against each other (`tests/augment.rs`, fixtures in `tests/fixtures/images/`).
//!
//! One file per family: [`crop`] (random resized crop, resize, DrQ shift), [`geometry`]
//! (flip, 90° rotations), [`color`] (jitter, grayscale, solarisation, normalisation),
//! [`blur`]; [`draw`] (the random parameters), [`pipeline`] (steps, presets, the per-image
//! executor), [`tensor`] (the batched executor, with its spatial and colour transforms in
//! `tensor_spatial.rs` and `tensor_color.rs`), [`view`] (two-view recipes).

pub mod blur;
pub mod color;
pub mod crop;
pub mod draw;
pub mod frame;
pub mod geometry;
pub mod pipeline;
pub mod tensor;
mod tensor_color;
mod tensor_spatial;
pub mod view;

pub use crop::{CropBox, PadMode};
pub use draw::Drawn;
pub use frame::{sample_rng, Frame};
pub use pipeline::{Augment, Pipeline, IMAGENET_MEAN, IMAGENET_STD, PRESETS};
pub use tensor::{random_shift, random_shift_grid, rot90, shift_by_grid, torch_seed};
pub use view::{ViewConfig, Views};
