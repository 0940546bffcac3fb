//! Image datasets: the formats image research keeps on disk, behind one trait.
//!
//! [`ImageDataset`] (in [`base`]) is what the [`crate::data::loader`] reads from. Sources, one
//! file each: [`ImageFolder`] (`root/<class>/*.png|jpg`), [`Cifar`] (CIFAR-10/100 binary),
//! [`Idx`] (MNIST / Fashion-MNIST, raw or gzip), [`TrajectoryFrames`] (pixel observations of
//! an Arrow trajectory dataset) and [`TensorDataset`] (in memory). [`Unlabeled`] hides labels
//! for pretext tasks; [`train_val_split`] splits by seed; [`open()`] opens any of them from a
//! path.

pub mod base;
pub mod cifar;
pub mod folder;
pub mod frames;
pub mod idx;
pub mod memory;
pub mod open;

pub use base::{shuffle, train_val_split, Image, ImageDataset, Sample, Subset, Unlabeled};
pub use cifar::{Cifar, CifarKind, CIFAR10_CLASSES};
pub use folder::{
    check_complete, decode, Check, ColorMode, FolderOptions, ImageFolder, UnknownFiles,
    IMAGE_EXTENSIONS,
};
pub use frames::TrajectoryFrames;
pub use idx::{read_idx, Idx, IdxArray, FASHION_MNIST_CLASSES};
pub use memory::{TensorDataset, TensorLayout};
pub use open::{detect, open, AnyDataset, FORMATS};
