//! [`open`]: any supported image dataset from a path, its format given or recognised from
//! the path — what the CLI and scripts use so that a user can point Graft at their data.

use std::path::{Path, PathBuf};

use super::base::ImageDataset;
use super::cifar::{Cifar, CifarKind, CIFAR_PIXELS};
use super::folder::ImageFolder;
use super::frames::TrajectoryFrames;
use super::idx::Idx;
use crate::error::{Error, Result};

/// Format names accepted by [`open`].
pub const FORMATS: &[&str] = &["folder", "cifar10", "cifar100", "cifar100-coarse", "idx", "frames"];

/// A dataset behind the trait, whatever its format.
pub type AnyDataset = Box<dyn ImageDataset>;

fn name_of(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// The labels file that goes with an IDX images file (`…-images-idx3-ubyte[.gz]` →
/// `…-labels-idx1-ubyte[.gz]`, also `…-images.idx3-ubyte`), when it exists.
pub fn idx_labels_for(images: &Path) -> Option<PathBuf> {
    let name = name_of(images);
    let cand = name.replace("images-idx3", "labels-idx1").replace("images.idx3", "labels.idx1");
    (cand != name).then(|| images.with_file_name(cand)).filter(|p| p.is_file())
}

/// Open `path` as `format` (one of [`FORMATS`]) or, with `None`, recognise it: a `.arrow`
/// file → trajectory frames; a `*idx3-ubyte[.gz]` file → IDX (with its labels file when
/// present); a `.bin` file → CIFAR-10 or CIFAR-100 by record size; a folder holding
/// `data_batch_*.bin` → CIFAR-10 training set, `train.bin` → CIFAR-100 training set,
/// `train-images-idx3-ubyte[.gz]` → MNIST-style training set; any other folder → ImageFolder.
pub fn open(path: &Path, format: Option<&str>) -> Result<AnyDataset> {
    let format = match format {
        Some(f) => f.to_string(),
        None => detect(path)?,
    };
    Ok(match format.as_str() {
        "folder" => Box::new(ImageFolder::open(path)?),
        "cifar10" | "cifar100" | "cifar100-coarse" => {
            let kind = match format.as_str() {
                "cifar10" => CifarKind::Cifar10,
                "cifar100" => CifarKind::Cifar100Fine,
                _ => CifarKind::Cifar100Coarse,
            };
            if path.is_dir() {
                Box::new(Cifar::open_dir(path, kind, true)?)
            } else {
                Box::new(Cifar::open(&[path], kind)?)
            }
        }
        "idx" => {
            let images = if path.is_dir() { find_idx_train(path)? } else { path.to_path_buf() };
            let labels = idx_labels_for(&images);
            Box::new(Idx::open(&images, labels.as_deref())?)
        }
        "frames" => Box::new(TrajectoryFrames::open(path)?),
        other => {
            return Err(Error::Invalid(format!(
                "unknown image dataset format '{other}'; known: {}",
                FORMATS.join(", ")
            )))
        }
    })
}

fn find_idx_train(dir: &Path) -> Result<PathBuf> {
    ["train-images-idx3-ubyte", "train-images-idx3-ubyte.gz", "train-images.idx3-ubyte"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.is_file())
        .ok_or_else(|| Error::ImageData {
            path: dir.to_path_buf(),
            problem: "no train-images-idx3-ubyte[.gz] file in the folder".into(),
        })
}

/// The format [`open`] would pick for `path`.
pub fn detect(path: &Path) -> Result<String> {
    if !path.exists() {
        return Err(Error::ImageData {
            path: path.to_path_buf(),
            problem: "does not exist".into(),
        });
    }
    let name = name_of(path).to_ascii_lowercase();
    if path.is_file() {
        if name.ends_with(".arrow") {
            return Ok("frames".into());
        }
        if name.contains("idx3") {
            return Ok("idx".into());
        }
        if name.ends_with(".bin") {
            let len = std::fs::metadata(path).map_err(|e| Error::io(path, e))?.len() as usize;
            return Ok(if len % (CIFAR_PIXELS + 1) == 0 { "cifar10" } else { "cifar100" }.into());
        }
        return Err(Error::ImageData {
            path: path.to_path_buf(),
            problem: format!(
                "cannot tell the format from the file name; pass --format ({})",
                FORMATS.join(", ")
            ),
        });
    }
    let has = |n: &str| path.join(n).is_file();
    if has("data_batch_1.bin") {
        Ok("cifar10".into())
    } else if has("train.bin") {
        Ok("cifar100".into())
    } else if has("train-images-idx3-ubyte") || has("train-images-idx3-ubyte.gz") {
        Ok("idx".into())
    } else {
        Ok("folder".into())
    }
}
