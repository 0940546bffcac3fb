//! The two kinds of data pretext tasks read, as tensors on the training device:
//!
//! - [`Trajectories`]: an Arrow trajectory dataset ([`crate::data::Dataset`]) with its
//!   observations turned into model inputs (pixels `[B, C, H, W]` in `[0, 1]` times the
//!   model's pixel factor, or state vectors), actions as class indices or vectors, windows of
//!   consecutive steps inside one episode.
//!   With [`FrameOptions`] frames are converted to grayscale and the last `stack` frames of
//!   the episode are stacked along the channels, exactly as an RL agent observing
//!   `PixelObservation { grayscale, frame_stack }` sees them, so an encoder pretrained here
//!   fits that agent's torso.
//! - [`Images`]: labelled or unlabelled images held in memory as one uint8 tensor
//!   `[N, C, H, W]` (small vision datasets fit; tasks gather and augment batches on the
//!   device).

use std::path::Path;

use serde::{Deserialize, Serialize};
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

/// How image observations are presented to the model: the preprocessing of
/// `graft_envs::wrappers::PixelObservation`, applied to stored RGB frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FrameOptions {
    /// Convert RGB frames to one luma channel (Gymnasium's `GrayscaleObservation`).
    pub grayscale: bool,
    /// Stack the episode's last `stack` frames, oldest first, padded at the episode's start
    /// with its first frame (`FrameStackObservation`'s reset padding).
    pub stack: usize,
}

impl Default for FrameOptions {
    fn default() -> Self {
        FrameOptions { grayscale: false, stack: 1 }
    }
}

/// The most discrete actions a trajectory dataset may have for pretext tasks (Atari has 18).
pub const MAX_DISCRETE_ACTIONS: i64 = 1 << 16;

/// A trajectory dataset ready for pretext tasks (see the module docs).
pub struct Trajectories {
    ds: Dataset,
    device: Device,
    factor: f64,
    pixel_max: f64,
    actions: ActionKind,
    frames: FrameOptions,
    /// Position of each transition inside its episode (filled when stacking).
    episode_pos: Vec<usize>,
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
    ///
    /// This is where data meets training, so the values are checked here: a non-finite
    /// observation, action, reward or state ([`Dataset::check_finite`]) or a discrete action
    /// outside the action space is refused with the file, column, row and episode, rather
    /// than surfacing later as a diverged loss or an index error deep in libtorch.
    pub fn new(ds: Dataset, device: Device, pixel_factor: f64) -> Result<Self> {
        let bad = |problem: String| Error::Dataset { path: ds.path().to_path_buf(), problem };
        ds.check_finite()?;
        let actions = match ds.layout().action {
            ActionColumn::Discrete => {
                let space = &ds.meta().action_space;
                let n = space
                    .get("n")
                    .and_then(|v| v.as_i64())
                    .ok_or_else(|| bad(format!("discrete action space without 'n': {space}")))?;
                let start = space.get("start").and_then(|v| v.as_i64()).unwrap_or(0);
                // A class head of n outputs is built from this, so an absurd n (damaged
                // metadata) must not reach it.
                if !(1..=MAX_DISCRETE_ACTIONS).contains(&n) {
                    return Err(bad(format!(
                        "discrete action space has n = {n}; pretext tasks take 1 to \
                         {MAX_DISCRETE_ACTIONS} actions"
                    )));
                }
                let (outside, total) = ds.actions_outside(start..start.saturating_add(n), 1);
                if let Some(first) = outside.first() {
                    return Err(bad(format!(
                        "{first}, outside the action space Discrete({n}, start={start}){}",
                        match total {
                            1 => String::new(),
                            t => format!(", and {} more such actions", t - 1),
                        }
                    )));
                }
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
        Ok(Trajectories {
            ds,
            device,
            factor: pixel_factor,
            pixel_max,
            actions,
            frames: FrameOptions::default(),
            episode_pos: Vec::new(),
        })
    }

    /// Present image observations with `frames` (grayscale, stacking); refused for state
    /// vectors and, for grayscale, for images that are not RGB.
    pub fn with_frames(mut self, frames: FrameOptions) -> Result<Self> {
        if frames == FrameOptions::default() {
            return Ok(self);
        }
        let bad = |problem: String| Error::Dataset { path: self.ds.path().to_path_buf(), problem };
        if !self.is_pixels() {
            return Err(bad("frame options (grayscale, frame stack) need image observations, \
                            and this dataset stores state vectors"
                .into()));
        }
        if frames.stack == 0 || frames.stack > 64 {
            return Err(bad(format!("frame stack {} must be between 1 and 64", frames.stack)));
        }
        let shape = self.ds.layout().obs.shape().to_vec();
        if frames.grayscale && shape.last() != Some(&3) {
            return Err(bad(format!("grayscale needs RGB frames [H, W, 3], got {shape:?}")));
        }
        if frames.stack > 1 {
            let mut pos = vec![0; self.ds.num_transitions()];
            for e in self.ds.episodes() {
                for p in 0..e.len {
                    pos[e.first_transition + p] = p;
                }
            }
            self.episode_pos = pos;
        }
        self.frames = frames;
        Ok(self)
    }

    /// The frame options in use.
    pub fn frames(&self) -> FrameOptions {
        self.frames
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
        let FrameOptions { grayscale, stack } = self.frames;
        match (self.is_pixels(), s.as_slice()) {
            (true, [h, w, c]) => vec![if grayscale { 1 } else { *c } * stack as i64, *h, *w],
            _ => s,
        }
    }

    /// Width of the low-dim `state` column, if the dataset has one.
    pub fn state_dim(&self) -> Option<i64> {
        self.ds.layout().state.map(|m| m as i64)
    }

    /// Transitions `indices` as raw tensors on the device; with [`FrameOptions`], `obs` and
    /// `next_obs` are the processed frames `[B, H, W, C']` (`C'` = channels × stack).
    pub fn batch(&self, indices: &[usize]) -> Result<Batch> {
        let FrameOptions { grayscale, stack } = self.frames;
        if stack == 1 {
            let mut b = self.ds.batch(indices, self.device)?;
            if grayscale {
                b.obs = luma(&b.obs);
                b.next_obs = luma(&b.next_obs);
            }
            return Ok(b);
        }
        // Read the `stack` frames of every item at once: item i's group is the transitions
        // i - (stack - 1), ..., i, clamped to its episode's first (reset padding).
        let n = self.ds.num_transitions();
        let mut all = Vec::with_capacity(indices.len() * stack);
        for &i in indices {
            let pos = *self.episode_pos.get(i).ok_or_else(|| Error::Dataset {
                path: self.ds.path().to_path_buf(),
                problem: format!("transition {i} is out of range (it has {n})"),
            })?;
            all.extend((0..stack).map(|j| i - (stack - 1 - j).min(pos)));
        }
        let g = self.ds.batch(&all, self.device)?;
        let (b, k) = (indices.len() as i64, stack as i64);
        let (obs, next) =
            if grayscale { (luma(&g.obs), luma(&g.next_obs)) } else { (g.obs, g.next_obs) };
        let [h, w, c] = [obs.size()[1], obs.size()[2], obs.size()[3]];
        let frames = obs.view([b, k, h, w, c]);
        // The next stack drops the oldest frame and appends the item's next observation.
        let newest_next = next.view([b, k, h, w, c]).select(1, k - 1).unsqueeze(1);
        let next_frames = Tensor::cat(&[frames.narrow(1, 1, k - 1), newest_next], 1);
        let to_channels = |f: Tensor| f.permute([0, 2, 3, 1, 4]).reshape([b, h, w, k * c]);
        // Every other column belongs to the item itself, the last of its group.
        let own =
            Tensor::arange_start_step(k - 1, b * k, k, (tch::Kind::Int64, g.actions.device()));
        let pick = |t: &Tensor| t.index_select(0, &own);
        Ok(Batch {
            obs: to_channels(frames),
            next_obs: to_channels(next_frames),
            actions: pick(&g.actions),
            rewards: pick(&g.rewards),
            terminated: pick(&g.terminated),
            truncated: pick(&g.truncated),
            state: g.state.as_ref().map(pick),
            next_state: g.next_state.as_ref().map(pick),
        })
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

/// `[N, H, W, 3]` uint8 RGB to `[N, H, W, 1]` luma exactly as Gymnasium 1.x's
/// `GrayscaleObservation` (and Graft's): `r·0.2125 + g·0.7154 + b·0.0721` in float64, in that
/// order, truncated to uint8.
pub fn luma(rgb: &Tensor) -> Tensor {
    let [wr, wg, wb] = graft_envs::wrappers::grayscale::LUMA_WEIGHTS;
    let x = rgb.to_kind(Kind::Double);
    let ch = |i: i64| x.narrow(-1, i, 1);
    ((ch(0) * wr + ch(1) * wg) + ch(2) * wb).to_kind(Kind::Uint8)
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
