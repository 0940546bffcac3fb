//! Supervised data for fine-tuning: inputs and targets as whole tensors (classification
//! with `int64` class indices, or regression with `float` targets), batched by index in Rust.
//! Built from tensors, or from a trajectory dataset as behaviour cloning (observation →
//! action; Pomerleau 1991, "Efficient Training of Artificial Neural Networks for Autonomous
//! Navigation").

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

use crate::data::images::ImageDataset;
use crate::data::Dataset;
use crate::error::{Error, Result};

/// What the targets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Task {
    /// `y` is `[N]` int64 class indices; the loss is cross-entropy on logits.
    Classification,
    /// `y` is `[N]` or `[N, d]` float; the loss is mean squared error.
    Regression,
}

/// Inputs `x` (`[N, …]`) and targets `y` (`[N]` or `[N, d]`) of one task.
#[derive(Debug)]
pub struct Supervised {
    /// Inputs, first axis the example.
    pub x: Tensor,
    /// Targets, first axis the example.
    pub y: Tensor,
    /// Classification or regression.
    pub task: Task,
}

impl Clone for Supervised {
    fn clone(&self) -> Self {
        Supervised { x: self.x.shallow_clone(), y: self.y.shallow_clone(), task: self.task }
    }
}

impl Supervised {
    /// A classification set: `y` must be `[N]` with integer class indices `>= 0`.
    pub fn classification(x: Tensor, y: Tensor) -> Result<Self> {
        let n = check_rows(&x, &y)?;
        if y.dim() != 1 {
            return Err(Error::Invalid(format!(
                "classification targets must be a [N] vector of class indices, got shape {:?}",
                y.size()
            )));
        }
        let y = match y.kind() {
            Kind::Int64 => y,
            Kind::Int | Kind::Int16 | Kind::Int8 | Kind::Uint8 => y.to_kind(Kind::Int64),
            k => {
                return Err(Error::Invalid(format!(
                    "classification targets must be integer class indices, got {k:?}"
                )))
            }
        };
        if n > 0 && y.min().int64_value(&[]) < 0 {
            return Err(Error::Invalid("classification targets must be >= 0".into()));
        }
        Ok(Supervised { x, y, task: Task::Classification })
    }

    /// A regression set: `y` is `[N]` or `[N, d]`, converted to float32.
    pub fn regression(x: Tensor, y: Tensor) -> Result<Self> {
        check_rows(&x, &y)?;
        if y.dim() > 2 {
            return Err(Error::Invalid(format!(
                "regression targets must be [N] or [N, d], got shape {:?}",
                y.size()
            )));
        }
        Ok(Supervised { x, y: y.to_kind(Kind::Float), task: Task::Regression })
    }

    /// Behaviour cloning from a trajectory dataset: every transition's observation is an
    /// input, its action the target (Discrete → classification, Box → regression). Image
    /// observations (`[N, H, W, C]` uint8) become `[N, C, H, W]`.
    pub fn from_trajectories(dataset: &Dataset) -> Result<Self> {
        let n = dataset.num_transitions();
        if n == 0 {
            return Err(Error::Dataset {
                path: dataset.path().to_path_buf(),
                problem: "no transitions to learn from".into(),
            });
        }
        let indices: Vec<usize> = (0..n).collect();
        let batch = dataset.batch(&indices, Device::Cpu)?;
        let x = if batch.obs.dim() == 4 && batch.obs.kind() == Kind::Uint8 {
            batch.obs.permute([0, 3, 1, 2]).contiguous() // [N, H, W, C] -> [N, C, H, W]
        } else {
            batch.obs
        };
        if batch.actions.kind() == Kind::Int64 && batch.actions.dim() == 1 {
            Self::classification(x, batch.actions)
        } else {
            Self::regression(x, batch.actions)
        }
    }

    /// Every image of a labelled image dataset as `[N, C, H, W]` float in [0, 1], labels as
    /// classes. The whole set is decoded into memory once (fine-tuning sets such as digits,
    /// MNIST or CIFAR fit); all images must share one size.
    pub fn from_images(images: &dyn ImageDataset) -> Result<Self> {
        let n = images.len();
        if n == 0 {
            return Err(Error::Invalid("image dataset is empty".into()));
        }
        if images.num_classes() == 0 {
            return Err(Error::Invalid(
                "image dataset has no labels; fine-tuning needs classes".into(),
            ));
        }
        let mut pixels: Vec<u8> = Vec::new();
        let mut labels: Vec<i64> = Vec::with_capacity(n);
        let mut shape = None;
        for i in 0..n {
            let sample = images.get(i)?;
            let img = &sample.image;
            let this = (img.channels, img.height, img.width);
            match shape {
                None => {
                    shape = Some(this);
                    pixels.reserve(n * img.data.len());
                }
                Some(first) if first != this => {
                    return Err(Error::Invalid(format!(
                        "{}: image is {}x{}x{} (CxHxW) but the first was {}x{}x{}; fine-tuning \
                         from memory needs one size",
                        images.describe(i),
                        this.0,
                        this.1,
                        this.2,
                        first.0,
                        first.1,
                        first.2
                    )));
                }
                Some(_) => {}
            }
            pixels.extend_from_slice(&img.data);
            let label = sample.label.ok_or_else(|| {
                Error::Invalid(format!("{}: sample has no label", images.describe(i)))
            })?;
            labels.push(label as i64);
        }
        let (c, h, w) = shape.unwrap_or((0, 0, 0));
        let x = Tensor::from_slice(&pixels)
            .view([n as i64, h as i64, w as i64, c as i64])
            .permute([0, 3, 1, 2]) // [N, H, W, C] -> [N, C, H, W]
            .to_kind(Kind::Float)
            / 255.0;
        Self::classification(x, Tensor::from_slice(&labels))
    }

    /// The same examples with images resized to `height`x`width` by bilinear interpolation
    /// (PyTorch's `interpolate(mode="bilinear", align_corners=False)`, no antialiasing): how
    /// small images meet a network with a minimum input size (Inception-v3 takes at least
    /// 75x75) or the size it was pretrained at. Targets are unchanged.
    pub fn resized(&self, height: i64, width: i64) -> Result<Supervised> {
        let size = self.x.size();
        let [n, c, _, _] = size[..] else {
            return Err(Error::Invalid(format!(
                "resize needs images ([N, C, H, W]), got examples of shape {:?}",
                &size[1..]
            )));
        };
        if !(1..=1 << 16).contains(&height) || !(1..=1 << 16).contains(&width) {
            return Err(Error::Invalid(format!(
                "resize: height and width must be in 1..=65536, got {height}x{width}"
            )));
        }
        let values = [n, c, height, width].iter().map(|&d| d as u128).product::<u128>();
        crate::device::check_memory(
            &format!("{n} images resized to {c}x{height}x{width}"),
            values.saturating_mul(4),
        )?;
        let x = self.x.to_kind(Kind::Float).upsample_bilinear2d(
            [height, width],
            false,
            None::<f64>,
            None::<f64>,
        );
        Ok(Supervised { x, y: self.y.shallow_clone(), task: self.task })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.x.size()[0] as usize
    }

    /// Whether there are no examples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of classes (`max(y) + 1`) of a classification set; `None` for regression.
    pub fn num_classes(&self) -> Option<i64> {
        match self.task {
            Task::Classification if !self.is_empty() => Some(self.y.max().int64_value(&[]) + 1),
            _ => None,
        }
    }

    /// Width of a model output that fits the targets: classes, or the regression width.
    pub fn output_dim(&self) -> i64 {
        match self.task {
            Task::Classification => self.num_classes().unwrap_or(1),
            Task::Regression => {
                if self.y.dim() == 2 {
                    self.y.size()[1]
                } else {
                    1
                }
            }
        }
    }

    /// The examples at `indices` (int64 `[B]`), on `device`.
    pub fn select(&self, indices: &Tensor, device: Device) -> (Tensor, Tensor) {
        let x = self.x.index_select(0, indices).to_device(device);
        let y = self.y.index_select(0, indices).to_device(device);
        (x, y)
    }

    /// Split into (train, validation): a seeded permutation, the last `val_fraction` of it
    /// held out. `val_fraction = 0` gives an empty validation set.
    pub fn split(&self, val_fraction: f64, seed: u64) -> Result<(Supervised, Supervised)> {
        if !(0.0..1.0).contains(&val_fraction) {
            return Err(Error::Invalid(format!(
                "validation fraction must be in [0, 1), got {val_fraction}"
            )));
        }
        let n = self.len() as i64;
        let n_val = (n as f64 * val_fraction).round() as i64;
        if n - n_val < 1 {
            return Err(Error::Invalid(format!("{n} examples leave none to train on")));
        }
        // randperm draws from libtorch's global generator: seed it so the split is a function
        // of `seed` alone.
        tch::manual_seed(crate::train::step_seed(seed, u64::MAX));
        let perm = Tensor::randperm(n, (Kind::Int64, Device::Cpu));
        let part = |idx: Tensor| Supervised {
            x: self.x.index_select(0, &idx),
            y: self.y.index_select(0, &idx),
            task: self.task,
        };
        Ok((part(perm.narrow(0, 0, n - n_val)), part(perm.narrow(0, n - n_val, n_val))))
    }
}

fn check_rows(x: &Tensor, y: &Tensor) -> Result<usize> {
    if x.dim() == 0 || y.dim() == 0 {
        return Err(Error::Invalid("inputs and targets need a leading example axis".into()));
    }
    let (nx, ny) = (x.size()[0], y.size()[0]);
    if nx != ny {
        return Err(Error::Invalid(format!("inputs have {nx} examples but targets have {ny}")));
    }
    Ok(nx as usize)
}
