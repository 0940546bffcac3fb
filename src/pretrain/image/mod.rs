//! Pretext tasks on images, one file each.

pub mod byol;
pub mod denoising;
pub mod mae;
pub mod rotation;
pub mod simclr;
