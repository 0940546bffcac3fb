//! The two kinds of data pretext tasks read, as tensors on the training device:
//!
//! - [`Trajectories`]: an Arrow trajectory dataset ([`crate::data::Dataset`]) with its
//!   observations turned into model inputs (pixels `[B, C, H, W]` in `[0, 1]` times the
//!   model's pixel factor, or state vectors), actions as class indices or vectors, windows of
//!   consecutive steps inside one episode.
//! - [`Images`]: labelled or unlabelled images held in memory as one uint8 tensor
//!   `[N, C, H, W]` (small vision datasets fit; tasks gather and augment batches on the
//!   device).

use std::path::Path;

use tch::{Device, Kind, Tensor};

use crate::data::{ActionColumn, Batch, Dataset, ObsColumn};
use crate::error::{Error, Result};
use crate::models::checkpoint::{save_tensors, Checkpoint, CheckpointMeta};

use super::base::frames_to_unit;

/// What a trajectory dataset's actions are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    /// `n` discrete actions (indices `0..n`, the space's `start` subtracted).
    Discrete { n: i64, start: i64 },
    /// Continuous vectors of width `dim`.
    Continuous { dim: i64 },
}

/// A trajectory dataset ready for pretext tasks (see the module docs).
pub struct Trajectories {
    ds: Dataset,
    device: Device,
    factor: f64,
    pixel_max: f64,
    actions: ActionKind,
}

/// The largest value of uint8 observations, from the observation space's `high` (255 for
/// RGB frames, 1 for MinAtar's boolean channels); 255 when the space does not say.
fn pixel_max(space: &serde_json::Value) -> f64 {
    let box_space = match space.get("subspaces").and_then(|s| s.get("pixels")) {
        Some(pixels) => pixels,
        None => space,
    };
    let high = box_space.get("high");
    let max = match high {
        Some(serde_json::Value::Number(n)) => n.as_f64(),
        Some(serde_json::Value::Array(a)) => a.iter().filter_map(|v| v.as_f64()).reduce(f64::max),
        _ => None,
    };
    max.filter(|m| m.is_finite() && *m > 0.0).unwrap_or(255.0)
}

impl Trajectories {
    /// Wrap `ds`; pixel observations are scaled by `pixel_factor` (see
    /// [`super::base::pixel_factor`]).
    pub fn new(ds: Dataset, device: Device, pixel_factor: f64) -> Result<Self> {
        let bad = |problem: String| Error::Dataset { path: ds.path().to_path_buf(), problem };
        let actions = match ds.layout().action {
            ActionColumn::Discrete => {
                let space = &ds.meta().action_space;
                let n = space
                    .get("n")
                    .and_then(|v| v.as_i64())
                    .ok_or_else(|| bad(format!("discrete action space without 'n': {space}")))?;
                let start = space.get("start").and_then(|v| v.as_i64()).unwrap_or(0);
                ActionKind::Discrete { n, start }
            }
            ActionColumn::Continuous(d) => ActionKind::Continuous { dim: d as i64 },
            ActionColumn::MultiDiscrete(_) => {
                return Err(bad("multi-discrete actions are not supported by pretext tasks".into()))
            }
        };
        if ds.num_transitions() == 0 {
            return Err(bad("the dataset has no transitions".into()));
        }
        let pixel_max = pixel_max(&ds.meta().observation_space);
        Ok(Trajectories { ds, device, factor: pixel_factor, pixel_max, actions })
    }

    /// Open `path` (see [`Trajectories::new`]).
    pub fn open(path: &Path, device: Device, pixel_factor: f64) -> Result<Self> {
        Self::new(Dataset::open(path)?, device, pixel_factor)
    }

    /// The dataset underneath.
    pub fn dataset(&self) -> &Dataset {
        &self.ds
    }

    /// The training device.
    pub fn device(&self) -> Device {
        self.device
    }

    /// The actions' kind.
    pub fn actions(&self) -> ActionKind {
        self.actions
    }

    /// Whether observations are images.
    pub fn is_pixels(&self) -> bool {
        matches!(self.ds.layout().obs, ObsColumn::U8 { .. })
    }

    /// Shape of one model input: `[C, H, W]` for pixels, `[n]` for vectors.
    pub fn input_shape(&self) -> Vec<i64> {
        let s: Vec<i64> = self.ds.layout().obs.shape().iter().map(|&x| x as i64).collect();
        match (self.is_pixels(), s.as_slice()) {
            (true, [h, w, c]) => vec![*c, *h, *w],
            _ => s,
        }
    }

    /// Width of the low-dim `state` column, if the dataset has one.
    pub fn state_dim(&self) -> Option<i64> {
        self.ds.layout().state.map(|m| m as i64)
    }

    /// Transitions `indices` as raw tensors on the device.
    pub fn batch(&self, indices: &[usize]) -> Result<Batch> {
        self.ds.batch(indices, self.device)
    }

    /// Observations (or next observations) of a batch as model inputs: uint8 observations
    /// as `[B, C, H, W]` scaled to `[0, 1]` by the space's maximum (255 for frames, 1 for
    /// MinAtar), times the model's pixel factor; state vectors unchanged.
    pub fn input(&self, obs: &Tensor) -> Tensor {
        if self.is_pixels() {
            frames_to_unit(obs) * (255.0 / self.pixel_max * self.factor)
        } else {
            obs.to_kind(Kind::Float)
        }
    }

    /// Actions of a batch as class indices (discrete) or float vectors (continuous).
    pub fn targets(&self, actions: &Tensor) -> Tensor {
        match self.actions {
            ActionKind::Discrete { start, .. } if start != 0 => actions - start,
            _ => actions.shallow_clone(),
        }
    }

    /// Transition indices of every window of `k` steps inside one episode; tasks sample
    /// among them and read step `j` of window `i` as transition `starts[i] + j`.
    pub fn window_starts(&self, k: usize) -> Result<Vec<usize>> {
        let starts = self.ds.window_starts(k);
        if starts.is_empty() {
            return Err(Error::Dataset {
                path: self.ds.path().to_path_buf(),
                problem: format!("no episode has {k} steps, so no window of {k} steps fits"),
            });
        }
        Ok(starts)
    }
}

/// Images in memory (see the module docs).
pub struct Images {
    /// `[N, C, H, W]` uint8, on the training device.
    pub images: Tensor,
    /// `[N]` int64 class indices, if labelled.
    pub labels: Option<Tensor>,
}

/// Tensor names of an image tensor file.
const IMAGES: &str = "images";
const LABELS: &str = "labels";

impl Images {
    /// Wrap tensors, checking their shapes and kinds.
    pub fn new(images: Tensor, labels: Option<Tensor>) -> Result<Self> {
        let s = images.size();
        if s.len() != 4 || images.kind() != Kind::Uint8 || s[0] == 0 {
            return Err(Error::Invalid(format!(
                "images must be a non-empty [N, C, H, W] uint8 tensor, got {:?} {:?}",
                s,
                images.kind()
            )));
        }
        if let Some(l) = &labels {
            if l.size() != [s[0]] {
                return Err(Error::ShapeMismatch {
                    what: "image labels".into(),
                    expected: vec![s[0]],
                    got: l.size(),
                });
            }
        }
        let labels = labels.map(|l| l.to_kind(Kind::Int64));
        Ok(Images { images, labels })
    }

    /// Read an image tensor file: safetensors with `images` `[N, C, H, W]` uint8 and
    /// optionally `labels` `[N]` (any integer kind).
    pub fn load(path: &Path, device: Device) -> Result<Self> {
        let ck = Checkpoint::read(path)?;
        let bad = |problem: String| Error::Dataset { path: path.to_path_buf(), problem };
        let images = ck
            .tensors
            .get(IMAGES)
            .ok_or_else(|| bad(format!("no '{IMAGES}' tensor")))?
            .to_device(device);
        let labels = ck.tensors.get(LABELS).map(|l| l.to_device(device));
        Images::new(images, labels).map_err(|e| bad(e.to_string()))
    }

    /// Write an image tensor file (atomically).
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut t = vec![(IMAGES.to_string(), self.images.shallow_clone())];
        if let Some(l) = &self.labels {
            t.push((LABELS.to_string(), l.shallow_clone()));
        }
        save_tensors(path, &t, &CheckpointMeta::default())
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.images.size()[0] as usize
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `[C, H, W]` of one image.
    pub fn shape(&self) -> [i64; 3] {
        let s = self.images.size();
        [s[1], s[2], s[3]]
    }

    /// Number of classes (largest label + 1), if labelled.
    pub fn num_classes(&self) -> Option<i64> {
        self.labels.as_ref().map(|l| l.max().int64_value(&[]) + 1)
    }

    /// Images `indices` as float `[B, C, H, W]` in `[0, 1]`.
    pub fn unit(&self, indices: &[usize]) -> Tensor {
        let idx = index_tensor(indices, self.images.device());
        self.images.index_select(0, &idx).to_kind(Kind::Float) / 255.0
    }

    /// Labels of `indices`.
    pub fn labels_of(&self, indices: &[usize]) -> Option<Tensor> {
        let idx = index_tensor(indices, self.images.device());
        self.labels.as_ref().map(|l| l.index_select(0, &idx))
    }
}

/// `indices` as an int64 tensor on `device`.
pub fn index_tensor(indices: &[usize], device: Device) -> Tensor {
    let v: Vec<i64> = indices.iter().map(|&i| i as i64).collect();
    Tensor::from_slice(&v).to_device(device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pixel_range_comes_from_the_observation_space() {
        let minatar: serde_json::Value = serde_json::from_str(
            r#"{"dtype":"bool","high":1.0,"low":0.0,"shape":[10,10,4],"type":"Box"}"#,
        )
        .unwrap();
        assert_eq!(pixel_max(&minatar), 1.0);
        let frames: serde_json::Value = serde_json::from_str(
            r#"{"type":"Dict","subspaces":{"pixels":{"high":255.0,"type":"Box"},"state":{"high":[1.0,"inf"],"type":"Box"}}}"#,
        )
        .unwrap();
        assert_eq!(pixel_max(&frames), 255.0);
        assert_eq!(pixel_max(&serde_json::json!({"type": "Box"})), 255.0);
    }
}
