//! Pixel observations of an Arrow trajectory dataset (see [`crate::data::Dataset`]) as an
//! image dataset: every stored observation row — each episode's steps and its final
//! observation — is one frame. Frames carry no label (pretext tasks on RL data, e.g. CURL or
//! ATC's contrastive objectives, make their own targets).
//!
//! The file stays memory-mapped; a frame is copied out only when asked for.

use std::path::Path;

use super::base::{out_of_range, Image, ImageDataset, Sample};
use crate::data::{Dataset, ObsColumn};
use crate::error::{Error, Result};

/// The observation frames of a trajectory dataset with `uint8` image observations.
#[derive(Debug)]
pub struct TrajectoryFrames {
    ds: Dataset,
    /// Height, width, channels.
    hwc: [usize; 3],
}

impl TrajectoryFrames {
    /// Open a trajectory dataset file; fails unless its observations are `uint8` images of
    /// shape `[H, W, C]` or `[H, W]`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        Self::new(Dataset::open(path)?)
    }

    /// Frames of an already opened dataset.
    pub fn new(ds: Dataset) -> Result<Self> {
        let hwc = match &ds.layout().obs {
            ObsColumn::U8 { shape, .. } if shape.len() == 3 => [shape[0], shape[1], shape[2]],
            ObsColumn::U8 { shape, .. } if shape.len() == 2 => [shape[0], shape[1], 1],
            other => {
                return Err(Error::ImageData {
                    path: ds.path().to_path_buf(),
                    problem: format!(
                        "observations are not uint8 images of shape [H, W, C] or [H, W] \
                         (column layout {other:?}); collect with pixels (e.g. `graft collect \
                         --pixels`)"
                    ),
                })
            }
        };
        if hwc.contains(&0) {
            return Err(Error::ImageData {
                path: ds.path().to_path_buf(),
                problem: format!("observation images have an empty shape {hwc:?}"),
            });
        }
        Ok(TrajectoryFrames { ds, hwc })
    }

    /// The underlying trajectory dataset.
    pub fn dataset(&self) -> &Dataset {
        &self.ds
    }
}

impl ImageDataset for TrajectoryFrames {
    fn len(&self) -> usize {
        self.ds.num_rows()
    }

    fn get(&self, i: usize) -> Result<Sample> {
        if i >= self.len() {
            return Err(out_of_range("trajectory frames", i, self.len()));
        }
        let obs = self.ds.observation_at_row(i)?;
        let [h, w, c] = self.hwc;
        Ok(Sample { image: Image::new(obs.u8.to_vec(), h, w, c)?, label: None })
    }

    fn shape(&self) -> Option<[usize; 3]> {
        let [h, w, c] = self.hwc;
        Some([c, h, w])
    }

    fn class_names(&self) -> &[String] {
        &[]
    }

    fn describe(&self, i: usize) -> String {
        format!("{}#row{i}", self.ds.path().display())
    }

    fn labels(&self) -> Option<Vec<usize>> {
        None
    }
}
