//! CIFAR-10 and CIFAR-100 in their binary distribution (Krizhevsky, "Learning Multiple Layers
//! of Features from Tiny Images", 2009; <https://www.cs.toronto.edu/~kriz/cifar.html>).
//!
//! A CIFAR-10 file (`data_batch_1.bin` … `test_batch.bin`) is a sequence of 3073-byte
//! records: one label byte, then 3072 pixel bytes as three 32x32 planes (red, green, blue),
//! rows top to bottom. CIFAR-100 (`train.bin`, `test.bin`) records have two label bytes,
//! coarse then fine (3074 bytes). Files are read into memory whole (30 MB for the largest).
//! Class names come from `batches.meta.txt` (CIFAR-10) or `fine_label_names.txt` /
//! `coarse_label_names.txt` (CIFAR-100) beside the data when present.

use std::path::{Path, PathBuf};

use super::base::{out_of_range, Image, ImageDataset, Sample};
use crate::error::{Error, Result};

/// Side of a CIFAR image.
pub const CIFAR_SIDE: usize = 32;
/// Pixel bytes of one CIFAR record.
pub const CIFAR_PIXELS: usize = 3 * CIFAR_SIDE * CIFAR_SIDE;

/// The CIFAR-10 class names, in label order (the dataset's `batches.meta.txt`).
pub const CIFAR10_CLASSES: [&str; 10] =
    ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

/// Which CIFAR and, for CIFAR-100, which label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CifarKind {
    /// CIFAR-10: one label byte, 10 classes.
    Cifar10,
    /// CIFAR-100 with its 100 fine labels (second label byte).
    Cifar100Fine,
    /// CIFAR-100 with its 20 coarse superclasses (first label byte).
    Cifar100Coarse,
}

impl CifarKind {
    /// Bytes per record.
    pub fn record_bytes(self) -> usize {
        match self {
            CifarKind::Cifar10 => 1 + CIFAR_PIXELS,
            _ => 2 + CIFAR_PIXELS,
        }
    }

    /// Number of classes.
    pub fn num_classes(self) -> usize {
        match self {
            CifarKind::Cifar10 => 10,
            CifarKind::Cifar100Fine => 100,
            CifarKind::Cifar100Coarse => 20,
        }
    }

    fn names_file(self) -> &'static str {
        match self {
            CifarKind::Cifar10 => "batches.meta.txt",
            CifarKind::Cifar100Fine => "fine_label_names.txt",
            CifarKind::Cifar100Coarse => "coarse_label_names.txt",
        }
    }
}

/// CIFAR records from one or more binary files, in file order.
#[derive(Debug, Clone)]
pub struct Cifar {
    kind: CifarKind,
    files: Vec<PathBuf>,
    /// Records of every file, concatenated.
    data: Vec<u8>,
    /// First record of each file, plus the total.
    starts: Vec<usize>,
    classes: Vec<String>,
}

fn bad(path: &Path, problem: impl Into<String>) -> Error {
    Error::ImageData { path: path.to_path_buf(), problem: problem.into() }
}

impl Cifar {
    /// Read `files` (e.g. `data_batch_1.bin` … `data_batch_5.bin`). Fails, naming the file,
    /// when one cannot be read, is empty, its size is not a multiple of the record size, or a
    /// label is out of range.
    pub fn open<P: AsRef<Path>>(files: &[P], kind: CifarKind) -> Result<Cifar> {
        if files.is_empty() {
            return Err(Error::Invalid("CIFAR: no files given".into()));
        }
        let rec = kind.record_bytes();
        let mut data = Vec::new();
        let mut starts = vec![0];
        let mut paths = Vec::new();
        for f in files {
            let path = f.as_ref();
            let bytes = std::fs::read(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
            if bytes.is_empty() || bytes.len() % rec != 0 {
                return Err(bad(
                    path,
                    format!(
                        "size {} bytes is not a positive multiple of the {kind:?} record size \
                         ({rec} bytes: {} label byte(s) + 3x32x32 pixels); truncated, or the \
                         wrong CIFAR variant?",
                        bytes.len(),
                        rec - CIFAR_PIXELS
                    ),
                ));
            }
            let label_at = usize::from(kind == CifarKind::Cifar100Fine);
            for (r, record) in bytes.chunks_exact(rec).enumerate() {
                let l = record[label_at] as usize;
                if l >= kind.num_classes() {
                    return Err(bad(
                        path,
                        format!(
                            "record {r}: label {l} is out of range for {kind:?} ({} classes)",
                            kind.num_classes()
                        ),
                    ));
                }
            }
            starts.push(starts[starts.len() - 1] + bytes.len() / rec);
            data.extend_from_slice(&bytes);
            paths.push(path.to_path_buf());
        }
        let classes = class_names(&paths[0], kind);
        Ok(Cifar { kind, files: paths, data, starts, classes })
    }

    /// Every file in `dir` whose name matches the standard split: `data_batch_*.bin` (train)
    /// or `test_batch.bin` (test) for CIFAR-10, `train.bin` or `test.bin` for CIFAR-100.
    pub fn open_dir(dir: impl AsRef<Path>, kind: CifarKind, train: bool) -> Result<Cifar> {
        let dir = dir.as_ref();
        let rd = std::fs::read_dir(dir).map_err(|e| bad(dir, format!("cannot list: {e}")))?;
        let mut files: Vec<PathBuf> = rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
                match (kind, train) {
                    (CifarKind::Cifar10, true) => {
                        name.starts_with("data_batch_") && name.ends_with(".bin")
                    }
                    (CifarKind::Cifar10, false) => name == "test_batch.bin",
                    (_, true) => name == "train.bin",
                    (_, false) => name == "test.bin",
                }
            })
            .collect();
        files.sort();
        if files.is_empty() {
            return Err(bad(
                dir,
                format!("no {} CIFAR binary files found", if train { "training" } else { "test" }),
            ));
        }
        Cifar::open(&files, kind)
    }

    /// The variant.
    pub fn kind(&self) -> CifarKind {
        self.kind
    }

    fn record(&self, i: usize) -> Option<&[u8]> {
        let rec = self.kind.record_bytes();
        (i < self.len()).then(|| &self.data[i * rec..(i + 1) * rec])
    }

    fn label_of(&self, record: &[u8]) -> usize {
        record[usize::from(self.kind == CifarKind::Cifar100Fine)] as usize
    }
}

/// Names from the text file beside the data, one per line, when it has the right count;
/// otherwise CIFAR-10's known names or the label numbers.
fn class_names(first: &Path, kind: CifarKind) -> Vec<String> {
    let from_file = first
        .parent()
        .map(|d| d.join(kind.names_file()))
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|s| s.lines().map(str::trim).filter(|l| !l.is_empty()).map(String::from).collect())
        .filter(|v: &Vec<String>| v.len() == kind.num_classes());
    from_file.unwrap_or_else(|| match kind {
        CifarKind::Cifar10 => CIFAR10_CLASSES.iter().map(|s| s.to_string()).collect(),
        _ => (0..kind.num_classes()).map(|i| i.to_string()).collect(),
    })
}

impl ImageDataset for Cifar {
    fn len(&self) -> usize {
        self.starts[self.starts.len() - 1]
    }

    fn get(&self, i: usize) -> Result<Sample> {
        let r = self.record(i).ok_or_else(|| out_of_range("CIFAR", i, self.len()))?;
        let offset = self.kind.record_bytes() - CIFAR_PIXELS;
        let image = Image::from_chw(&r[offset..], 3, CIFAR_SIDE, CIFAR_SIDE)?;
        Ok(Sample { image, label: Some(self.label_of(r)) })
    }

    fn shape(&self) -> Option<[usize; 3]> {
        Some([3, CIFAR_SIDE, CIFAR_SIDE])
    }

    fn class_names(&self) -> &[String] {
        &self.classes
    }

    fn describe(&self, i: usize) -> String {
        let f = self.starts.partition_point(|&s| s <= i).saturating_sub(1);
        match self.files.get(f) {
            Some(p) => format!("{}#{}", p.display(), i - self.starts[f]),
            None => String::new(),
        }
    }

    fn labels(&self) -> Option<Vec<usize>> {
        let rec = self.kind.record_bytes();
        Some(self.data.chunks_exact(rec).map(|r| self.label_of(r)).collect())
    }
}
