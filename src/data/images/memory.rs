//! `TensorDataset`: images already in memory — a `uint8` tensor (NHWC or NCHW) with optional
//! labels, or a list of [`Image`]s. For data produced by another part of a program (rendered
//! environment frames, a generated set) and for tests.

use tch::{Kind, Tensor};

use super::base::{out_of_range, Image, ImageDataset, Sample};
use crate::error::{Error, Result};

/// Axis order of a 4-D image tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorLayout {
    /// `[N, H, W, C]`.
    Nhwc,
    /// `[N, C, H, W]`.
    Nchw,
}

/// Equal-sized 8-bit images held in memory (HWC bytes, one buffer).
#[derive(Debug, Clone)]
pub struct TensorDataset {
    data: Vec<u8>,
    hwc: [usize; 3],
    labels: Option<Vec<usize>>,
    classes: Vec<String>,
}

impl TensorDataset {
    /// From HWC images of one size and optional labels; `classes` names the labels (empty
    /// for a label-free set).
    pub fn new(images: &[Image], labels: Option<Vec<usize>>, classes: Vec<String>) -> Result<Self> {
        let first =
            images.first().ok_or_else(|| Error::Invalid("TensorDataset: no images".into()))?;
        let hwc = [first.height, first.width, first.channels];
        let mut data = Vec::with_capacity(images.len() * first.data.len());
        for (i, img) in images.iter().enumerate() {
            if [img.height, img.width, img.channels] != hwc {
                return Err(Error::ShapeMismatch {
                    what: format!("TensorDataset image {i} (H, W, C)"),
                    expected: hwc.iter().map(|&x| x as i64).collect(),
                    got: vec![img.height as i64, img.width as i64, img.channels as i64],
                });
            }
            data.extend_from_slice(&img.data);
        }
        Self::from_parts(data, hwc, labels, classes)
    }

    /// From a `uint8` tensor `[N, H, W, C]` or `[N, C, H, W]` and optional `[N]` integer labels.
    pub fn from_tensor(
        images: &Tensor,
        layout: TensorLayout,
        labels: Option<&Tensor>,
        classes: Vec<String>,
    ) -> Result<Self> {
        let size = images.size();
        if size.len() != 4 || images.kind() != Kind::Uint8 {
            return Err(Error::Invalid(format!(
                "TensorDataset: expected a 4-D uint8 tensor, got {:?} of shape {size:?}",
                images.kind()
            )));
        }
        let nhwc = match layout {
            TensorLayout::Nhwc => images.shallow_clone(),
            TensorLayout::Nchw => images.permute([0, 2, 3, 1]),
        };
        let nhwc = nhwc.to_device(tch::Device::Cpu).contiguous();
        let s = nhwc.size();
        let mut data = vec![0u8; nhwc.numel()];
        let numel = data.len();
        nhwc.copy_data(&mut data, numel);
        let labels = match labels {
            Some(l) => {
                if l.size() != [s[0]] {
                    return Err(Error::ShapeMismatch {
                        what: "TensorDataset labels".into(),
                        expected: vec![s[0]],
                        got: l.size(),
                    });
                }
                let v: Vec<i64> =
                    Vec::<i64>::try_from(l.to_kind(Kind::Int64).to_device(tch::Device::Cpu))?;
                if let Some(bad) = v.iter().find(|&&x| x < 0) {
                    return Err(Error::Invalid(format!("TensorDataset: negative label {bad}")));
                }
                Some(v.into_iter().map(|x| x as usize).collect())
            }
            None => None,
        };
        Self::from_parts(data, [s[1] as usize, s[2] as usize, s[3] as usize], labels, classes)
    }

    fn from_parts(
        data: Vec<u8>,
        hwc: [usize; 3],
        labels: Option<Vec<usize>>,
        mut classes: Vec<String>,
    ) -> Result<Self> {
        let per = hwc.iter().product::<usize>();
        if per == 0 {
            return Err(Error::Invalid(format!("TensorDataset: empty image shape {hwc:?}")));
        }
        let n = data.len() / per;
        if let Some(l) = &labels {
            if l.len() != n {
                return Err(Error::Invalid(format!(
                    "TensorDataset: {} labels for {n} images",
                    l.len()
                )));
            }
            let k = l.iter().max().map_or(0, |m| m + 1);
            if classes.is_empty() {
                classes = (0..k).map(|i| i.to_string()).collect();
            } else if classes.len() < k {
                return Err(Error::Invalid(format!(
                    "TensorDataset: {} class names for labels up to {}",
                    classes.len(),
                    k - 1
                )));
            }
        }
        Ok(TensorDataset { data, hwc, labels, classes })
    }
}

impl ImageDataset for TensorDataset {
    fn len(&self) -> usize {
        self.data.len() / self.hwc.iter().product::<usize>()
    }

    fn get(&self, i: usize) -> Result<Sample> {
        if i >= self.len() {
            return Err(out_of_range("tensor dataset", i, self.len()));
        }
        let per = self.hwc.iter().product::<usize>();
        let [h, w, c] = self.hwc;
        Ok(Sample {
            image: Image::new(self.data[i * per..(i + 1) * per].to_vec(), h, w, c)?,
            label: self.labels.as_ref().map(|l| l[i]),
        })
    }

    fn shape(&self) -> Option<[usize; 3]> {
        let [h, w, c] = self.hwc;
        Some([c, h, w])
    }

    fn class_names(&self) -> &[String] {
        if self.labels.is_some() {
            &self.classes
        } else {
            &[]
        }
    }

    fn describe(&self, i: usize) -> String {
        format!("tensor dataset #{i}")
    }

    fn labels(&self) -> Option<Vec<usize>> {
        self.labels.clone()
    }
}
