//! The [`ImageDataset`] trait every image source implements, the [`Image`] it returns, and
//! the wrappers shared by all of them: [`Subset`] (train/validation split by seed) and
//! [`Unlabeled`] (label-free mode for pretext tasks such as rotation prediction, SimCLR or
//! masked autoencoding, which make their own targets).
//!
//! Images are 8-bit, height × width × channels (HWC, the layout decoders and frame buffers
//! produce); the augmentation pipeline turns them into float CHW tensors.

use std::sync::Arc;

use graft_envs::EnvRng;

use crate::error::{Error, Result};

/// An 8-bit image in HWC layout: `data[(y * width + x) * channels + c]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Pixel bytes, `height * width * channels` of them.
    pub data: Vec<u8>,
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// 1 (grey) or 3 (RGB); other counts are kept as they are.
    pub channels: usize,
}

impl Image {
    /// An image from HWC bytes; fails when the length does not match the shape.
    pub fn new(data: Vec<u8>, height: usize, width: usize, channels: usize) -> Result<Image> {
        if data.len() != height * width * channels || height == 0 || width == 0 || channels == 0 {
            return Err(Error::ShapeMismatch {
                what: "image bytes (HWC)".into(),
                expected: vec![height as i64, width as i64, channels as i64],
                got: vec![data.len() as i64],
            });
        }
        Ok(Image { data, height, width, channels })
    }

    /// An image from CHW bytes (planar, as CIFAR stores them), converted to HWC.
    pub fn from_chw(chw: &[u8], channels: usize, height: usize, width: usize) -> Result<Image> {
        let plane = height * width;
        if chw.len() != channels * plane {
            return Err(Error::ShapeMismatch {
                what: "image bytes (CHW)".into(),
                expected: vec![channels as i64, height as i64, width as i64],
                got: vec![chw.len() as i64],
            });
        }
        let mut data = vec![0u8; chw.len()];
        for c in 0..channels {
            for p in 0..plane {
                data[p * channels + c] = chw[c * plane + p];
            }
        }
        Image::new(data, height, width, channels)
    }

    /// The same pixels in CHW order.
    pub fn to_chw(&self) -> Vec<u8> {
        let plane = self.height * self.width;
        let mut out = vec![0u8; self.data.len()];
        for p in 0..plane {
            for c in 0..self.channels {
                out[c * plane + p] = self.data[p * self.channels + c];
            }
        }
        out
    }

    /// `(channels, height, width)`.
    pub fn shape(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }
}

/// One item of a dataset: the image and, in labelled mode, its class index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The image.
    pub image: Image,
    /// Class index in `0..num_classes()`; `None` for label-free datasets.
    pub label: Option<usize>,
}

/// A random-access collection of images. Implementations are `Send + Sync` so that the
/// loader's worker threads can decode from one shared instance.
pub trait ImageDataset: Send + Sync {
    /// Number of samples.
    fn len(&self) -> usize;

    /// Whether the dataset has no samples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Sample `i` (decoded). Errors name the file and the problem.
    fn get(&self, i: usize) -> Result<Sample>;

    /// `(channels, height, width)` when every sample has it (CIFAR, IDX, frames); `None`
    /// when sizes vary (an image folder, where the augmentation resizes).
    fn shape(&self) -> Option<[usize; 3]>;

    /// Number of classes; 0 for a label-free dataset.
    fn num_classes(&self) -> usize {
        self.class_names().len()
    }

    /// Class names, indexed by label.
    fn class_names(&self) -> &[String];

    /// Where sample `i` comes from, for messages (a file path, `file#record`).
    fn describe(&self, i: usize) -> String;

    /// Labels of every sample without decoding (counts per class, stratification).
    /// `None` for label-free datasets.
    fn labels(&self) -> Option<Vec<usize>>;
}

/// The error for an index past the end.
pub(crate) fn out_of_range(what: &str, i: usize, n: usize) -> Error {
    Error::Invalid(format!("{what}: sample {i} is out of range (the dataset has {n})"))
}

impl<D: ImageDataset + ?Sized> ImageDataset for Arc<D> {
    fn len(&self) -> usize {
        (**self).len()
    }
    fn get(&self, i: usize) -> Result<Sample> {
        (**self).get(i)
    }
    fn shape(&self) -> Option<[usize; 3]> {
        (**self).shape()
    }
    fn class_names(&self) -> &[String] {
        (**self).class_names()
    }
    fn describe(&self, i: usize) -> String {
        (**self).describe(i)
    }
    fn labels(&self) -> Option<Vec<usize>> {
        (**self).labels()
    }
}

impl<D: ImageDataset + ?Sized> ImageDataset for Box<D> {
    fn len(&self) -> usize {
        (**self).len()
    }
    fn get(&self, i: usize) -> Result<Sample> {
        (**self).get(i)
    }
    fn shape(&self) -> Option<[usize; 3]> {
        (**self).shape()
    }
    fn class_names(&self) -> &[String] {
        (**self).class_names()
    }
    fn describe(&self, i: usize) -> String {
        (**self).describe(i)
    }
    fn labels(&self) -> Option<Vec<usize>> {
        (**self).labels()
    }
}

/// A view of some samples of another dataset, in a given order.
#[derive(Debug, Clone)]
pub struct Subset<D> {
    inner: Arc<D>,
    indices: Vec<usize>,
}

impl<D: ImageDataset> Subset<D> {
    /// The samples `indices` of `inner`; fails when one is out of range.
    pub fn new(inner: Arc<D>, indices: Vec<usize>) -> Result<Self> {
        let n = inner.len();
        if let Some(&bad) = indices.iter().find(|&&i| i >= n) {
            return Err(out_of_range("subset", bad, n));
        }
        Ok(Subset { inner, indices })
    }

    /// Indices into the underlying dataset.
    pub fn indices(&self) -> &[usize] {
        &self.indices
    }
}

impl<D: ImageDataset> ImageDataset for Subset<D> {
    fn len(&self) -> usize {
        self.indices.len()
    }
    fn get(&self, i: usize) -> Result<Sample> {
        let j = *self.indices.get(i).ok_or_else(|| out_of_range("subset", i, self.len()))?;
        self.inner.get(j)
    }
    fn shape(&self) -> Option<[usize; 3]> {
        self.inner.shape()
    }
    fn class_names(&self) -> &[String] {
        self.inner.class_names()
    }
    fn describe(&self, i: usize) -> String {
        self.indices.get(i).map(|&j| self.inner.describe(j)).unwrap_or_default()
    }
    fn labels(&self) -> Option<Vec<usize>> {
        let all = self.inner.labels()?;
        Some(self.indices.iter().map(|&j| all[j]).collect())
    }
}

/// Split `ds` into (train, validation) with `val_fraction` of the samples (rounded to the
/// nearest count) in validation. The split is a Fisher–Yates shuffle of `0..len` seeded by
/// `seed`, so the same seed always gives the same split; each subset keeps ascending order.
pub fn train_val_split<D: ImageDataset>(
    ds: Arc<D>,
    val_fraction: f64,
    seed: u64,
) -> Result<(Subset<D>, Subset<D>)> {
    if !(0.0..=1.0).contains(&val_fraction) {
        return Err(Error::Invalid(format!(
            "validation fraction must lie in [0, 1], got {val_fraction}"
        )));
    }
    let n = ds.len();
    let mut perm: Vec<usize> = (0..n).collect();
    shuffle(&mut perm, &mut EnvRng::seed_from(seed));
    let n_val = (val_fraction * n as f64).round() as usize;
    let (mut val, mut train) = (perm[..n_val].to_vec(), perm[n_val..].to_vec());
    val.sort_unstable();
    train.sort_unstable();
    Ok((Subset::new(ds.clone(), train)?, Subset::new(ds, val)?))
}

/// Fisher–Yates shuffle with Graft's generator (the loader's epoch order uses it too).
pub fn shuffle<T>(xs: &mut [T], rng: &mut EnvRng) {
    for i in (1..xs.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        xs.swap(i, j);
    }
}

/// A dataset with its labels hidden: `get` returns `label: None` and there are no classes.
/// Pretext tasks use it so that no code path can read a label by accident.
#[derive(Debug, Clone)]
pub struct Unlabeled<D>(pub D);

impl<D: ImageDataset> ImageDataset for Unlabeled<D> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn get(&self, i: usize) -> Result<Sample> {
        let mut s = self.0.get(i)?;
        s.label = None;
        Ok(s)
    }
    fn shape(&self) -> Option<[usize; 3]> {
        self.0.shape()
    }
    fn class_names(&self) -> &[String] {
        &[]
    }
    fn describe(&self, i: usize) -> String {
        self.0.describe(i)
    }
    fn labels(&self) -> Option<Vec<usize>> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chw_round_trip() {
        let chw: Vec<u8> = (0..24).collect();
        let img = Image::from_chw(&chw, 3, 2, 4).unwrap();
        // Pixel (y=1, x=2) channel 1 is plane 1, offset 1*4+2.
        assert_eq!(img.data[(4 + 2) * 3 + 1], chw[8 + 6]);
        assert_eq!(img.to_chw(), chw);
        assert!(Image::new(vec![0; 5], 2, 2, 1).is_err());
    }
}
