//! MNIST and Fashion-MNIST in the IDX format (LeCun et al., "Gradient-based learning applied
//! to document recognition", 1998; <http://yann.lecun.com/exdb/mnist/>; Xiao et al.,
//! "Fashion-MNIST", 2017), raw or gzip-compressed (detected from the content).
//!
//! An IDX file starts with a 4-byte magic number: two zero bytes, a type byte (0x08 =
//! unsigned byte, the only type these datasets use) and the number of dimensions; then one
//! big-endian u32 per dimension; then the values, row-major. Images are `[N, rows, cols]`
//! (magic 0x00000803), labels `[N]` (0x00000801).

use std::io::Read;
use std::path::{Path, PathBuf};

use super::base::{out_of_range, Image, ImageDataset, Sample};
use crate::error::{Error, Result};

/// The Fashion-MNIST class names, in label order.
pub const FASHION_MNIST_CLASSES: [&str; 10] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
];

fn bad(path: &Path, problem: impl Into<String>) -> Error {
    Error::ImageData { path: path.to_path_buf(), problem: problem.into() }
}

/// An IDX array of unsigned bytes: its dimensions and values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray {
    /// Dimensions, outermost first.
    pub dims: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<u8>,
}

/// Read a raw or gzip-compressed IDX file of unsigned bytes with `ndims` dimensions. Fails,
/// naming the file, on a wrong magic number, a type other than unsigned byte, another
/// dimension count, a truncated header or body, trailing bytes, or a corrupt gzip stream.
pub fn read_idx(path: &Path, ndims: u8) -> Result<IdxArray> {
    let raw = std::fs::read(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .map_err(|e| bad(path, format!("corrupt or truncated gzip stream: {e}")))?;
        out
    } else {
        raw
    };
    if bytes.len() < 4 {
        return Err(bad(path, format!("too short for an IDX header ({} bytes)", bytes.len())));
    }
    let magic = &bytes[..4];
    if magic[0] != 0 || magic[1] != 0 {
        return Err(bad(
            path,
            format!(
                "not an IDX file: magic number {:02x}{:02x}{:02x}{:02x} should start with 0000",
                magic[0], magic[1], magic[2], magic[3]
            ),
        ));
    }
    if magic[2] != 0x08 {
        return Err(bad(
            path,
            format!(
                "IDX value type 0x{:02x} is not supported (only 0x08, unsigned byte)",
                magic[2]
            ),
        ));
    }
    if magic[3] != ndims {
        return Err(bad(
            path,
            format!(
                "IDX magic 0x0000{:02x}{:02x}: {} dimension(s), expected {ndims} ({})",
                magic[2],
                magic[3],
                magic[3],
                if ndims == 3 { "an images file [N, rows, cols]" } else { "a labels file [N]" }
            ),
        ));
    }
    let header = 4 + 4 * ndims as usize;
    if bytes.len() < header {
        return Err(bad(path, "truncated IDX header (dimension sizes missing)"));
    }
    let dims: Vec<usize> = (0..ndims as usize)
        .map(|d| {
            let b = &bytes[4 + 4 * d..8 + 4 * d];
            u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize
        })
        .collect();
    let expected = dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    let body = bytes.len() - header;
    match expected {
        Some(n) if n == body => {}
        Some(n) if n > body => {
            return Err(bad(
                path,
                format!(
                    "truncated: dimensions {dims:?} need {n} bytes of values, the file has {body}"
                ),
            ))
        }
        Some(n) => {
            return Err(bad(
                path,
                format!("{} trailing bytes after the {n} values of dimensions {dims:?}", body - n),
            ))
        }
        None => return Err(bad(path, format!("dimensions {dims:?} overflow"))),
    }
    Ok(IdxArray { dims, data: bytes[header..].to_vec() })
}

/// Grey images from an IDX images file with optional labels from an IDX labels file.
#[derive(Debug, Clone)]
pub struct Idx {
    images_path: PathBuf,
    images: IdxArray,
    labels: Option<Vec<u8>>,
    classes: Vec<String>,
}

impl Idx {
    /// Read `images` (`*-images-idx3-ubyte[.gz]`) and, if given, `labels`
    /// (`*-labels-idx1-ubyte[.gz]`); their counts must agree. Classes are the digits 0–9
    /// (pass names with [`Idx::with_class_names`], e.g. [`FASHION_MNIST_CLASSES`]).
    pub fn open(images: impl AsRef<Path>, labels: Option<&Path>) -> Result<Idx> {
        let images_path = images.as_ref().to_path_buf();
        let arr = read_idx(&images_path, 3)?;
        if arr.dims[1] == 0 || arr.dims[2] == 0 {
            return Err(bad(
                &images_path,
                format!("images of size {:?} are empty", &arr.dims[1..]),
            ));
        }
        let (labels, classes) = match labels {
            Some(lp) => {
                let l = read_idx(lp, 1)?;
                if l.dims[0] != arr.dims[0] {
                    return Err(bad(
                        lp,
                        format!(
                            "{} labels for {} images in {}",
                            l.dims[0],
                            arr.dims[0],
                            images_path.display()
                        ),
                    ));
                }
                let k = l.data.iter().copied().max().map_or(0, |m| m as usize + 1).max(10);
                (Some(l.data), (0..k).map(|i| i.to_string()).collect())
            }
            None => (None, Vec::new()),
        };
        Ok(Idx { images_path, images: arr, labels, classes })
    }

    /// The same data with these class names (at least as many as the largest label + 1).
    pub fn with_class_names(mut self, names: &[&str]) -> Result<Idx> {
        if self.labels.is_some() && names.len() < self.classes.len() {
            return Err(Error::Invalid(format!(
                "{} class names for labels up to {}",
                names.len(),
                self.classes.len() - 1
            )));
        }
        self.classes = names.iter().map(|s| s.to_string()).collect();
        Ok(self)
    }
}

impl ImageDataset for Idx {
    fn len(&self) -> usize {
        self.images.dims[0]
    }

    fn get(&self, i: usize) -> Result<Sample> {
        if i >= self.len() {
            return Err(out_of_range("IDX", i, self.len()));
        }
        let (h, w) = (self.images.dims[1], self.images.dims[2]);
        let data = self.images.data[i * h * w..(i + 1) * h * w].to_vec();
        Ok(Sample {
            image: Image::new(data, h, w, 1)?,
            label: self.labels.as_ref().map(|l| l[i] as usize),
        })
    }

    fn shape(&self) -> Option<[usize; 3]> {
        Some([1, self.images.dims[1], self.images.dims[2]])
    }

    fn class_names(&self) -> &[String] {
        &self.classes
    }

    fn describe(&self, i: usize) -> String {
        format!("{}#{i}", self.images_path.display())
    }

    fn labels(&self) -> Option<Vec<usize>> {
        self.labels.as_ref().map(|l| l.iter().map(|&x| x as usize).collect())
    }
}
