//! `ImageFolder`: the `root/<class>/<image>` layout of torchvision's `datasets.ImageFolder`
//! (and of most image datasets kept on disk): one subfolder per class, classes sorted by name
//! and numbered from 0, images found recursively inside each class folder and sorted by path.
//!
//! Files are decoded on demand (PNG and JPEG, by content, not by extension), so opening a
//! folder only lists it. Policy for other files: by default they are skipped and counted
//! ([`ImageFolder::skipped`]; `graft images info` prints the count as a warning), or with
//! [`UnknownFiles::Error`] the first one is an error. A class folder with no image in it is an
//! error, as in torchvision.
//!
//! [`ImageFolder::check`] looks at one file without training on it: by default its header and
//! its end marker ([`Check::Complete`]: PNG's `IEND` chunk, JPEG's end-of-image marker), which
//! finds truncated files (an interrupted download, copy or extraction, the usual damage) with
//! two small reads; [`Check::Decode`] decodes every pixel and also finds corruption inside a
//! complete file. `graft images info` checks every file (`--verify`: decodes them).

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::base::{out_of_range, Image, ImageDataset, Sample};
use crate::error::{Error, Result};

/// Extensions (lower-cased) treated as images.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

/// Deepest folder nesting inside a class folder.
const MAX_DEPTH: usize = 32;

/// Bytes at the end of a file searched for its end marker: bytes some tools append after it
/// (padding) are tolerated up to this length.
const TAIL: u64 = 1024;

/// The eight bytes every PNG file starts with.
const PNG_SIGNATURE: [u8; 8] = [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];

/// The `IEND` chunk that ends every PNG file: length 0, type, CRC.
const PNG_IEND: [u8; 12] = [0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];

/// JPEG's start-of-image marker and the first byte of the next marker.
const JPEG_SOI: [u8; 3] = [0xFF, 0xD8, 0xFF];

/// JPEG's end-of-image marker (EOI). It cannot occur inside entropy-coded data, where 0xFF is
/// always followed by 0x00 or a restart marker.
const JPEG_EOI: [u8; 2] = [0xFF, 0xD9];

/// How thoroughly [`ImageFolder::check`] reads a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Check {
    /// The header (format, width, height) and the end marker a complete file has (PNG's
    /// `IEND` chunk, JPEG's EOI): finds truncated files with two small reads per file.
    #[default]
    Complete,
    /// [`Check::Complete`], then decode every pixel as training would: also finds corruption
    /// inside a complete file, at the cost of a full decode.
    Decode,
}

/// What to do with files that do not have an image extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownFiles {
    /// Skip them and count them (see [`ImageFolder::skipped`]).
    #[default]
    Skip,
    /// Refuse the folder, naming the first such file.
    Error,
}

/// Colour mode images are converted to on decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorMode {
    /// Three channels (grey images are replicated), as torchvision's default loader.
    #[default]
    Rgb,
    /// One channel (colour files through the `image` crate's luma conversion).
    Gray,
}

/// Options of [`ImageFolder::open_with`].
#[derive(Debug, Clone, Copy, Default)]
pub struct FolderOptions {
    /// Policy for files without an image extension.
    pub unknown_files: UnknownFiles,
    /// Channels of decoded images.
    pub color: ColorMode,
}

/// A folder of class subfolders of images (see the module docs).
#[derive(Debug, Clone)]
pub struct ImageFolder {
    root: PathBuf,
    classes: Vec<String>,
    files: Vec<(PathBuf, usize)>,
    skipped: Vec<PathBuf>,
    color: ColorMode,
}

fn bad(path: &Path, problem: impl Into<String>) -> Error {
    Error::ImageData { path: path.to_path_buf(), problem: problem.into() }
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Entries of a directory, sorted by name.
fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let rd =
        std::fs::read_dir(dir).map_err(|e| bad(dir, format!("cannot list the folder: {e}")))?;
    let mut out = Vec::new();
    for entry in rd {
        out.push(entry.map_err(|e| bad(dir, format!("cannot list the folder: {e}")))?.path());
    }
    out.sort();
    Ok(out)
}

impl ImageFolder {
    /// Open `root` with the default options (RGB, unknown files skipped and counted).
    pub fn open(root: impl AsRef<Path>) -> Result<ImageFolder> {
        Self::open_with(root, FolderOptions::default())
    }

    /// List `root`: each subfolder is a class. Fails when `root` is missing or not a folder,
    /// has no class folder, a class folder has no image, or (with [`UnknownFiles::Error`]) a
    /// file has an extension other than png/jpg/jpeg.
    pub fn open_with(root: impl AsRef<Path>, opts: FolderOptions) -> Result<ImageFolder> {
        let root = root.as_ref();
        if !root.exists() {
            return Err(bad(root, "the folder does not exist"));
        }
        if !root.is_dir() {
            return Err(bad(root, "not a folder (expected root/<class>/<image files>)"));
        }
        let mut classes = Vec::new();
        let mut files = Vec::new();
        let mut skipped = Vec::new();
        for entry in sorted_entries(root)? {
            if entry.is_dir() {
                let label = classes.len();
                let name = entry.file_name().map(|n| n.to_string_lossy().into_owned());
                classes.push(name.unwrap_or_default());
                let before = files.len();
                collect(&entry, label, &mut files, &mut skipped, opts.unknown_files, 0)?;
                if files.len() == before {
                    return Err(bad(
                        &entry,
                        format!(
                            "class folder has no image files (expected {})",
                            IMAGE_EXTENSIONS.join(", ")
                        ),
                    ));
                }
            } else {
                reject_or_skip(&entry, &mut skipped, opts.unknown_files)?;
            }
        }
        if classes.is_empty() {
            return Err(bad(
                root,
                "no class folders found (expected root/<class>/<image files>, e.g. root/cat/1.png)",
            ));
        }
        Ok(ImageFolder { root: root.to_path_buf(), classes, files, skipped, color: opts.color })
    }

    /// The folder this dataset was listed from.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every image file with its label, in sample order.
    pub fn files(&self) -> &[(PathBuf, usize)] {
        &self.files
    }

    /// Files that were skipped because their extension is not an image's.
    pub fn skipped(&self) -> &[PathBuf] {
        &self.skipped
    }

    /// Width and height of sample `i`, read from the file header without decoding.
    pub fn dimensions(&self, i: usize) -> Result<(u32, u32)> {
        let (path, _) =
            self.files.get(i).ok_or_else(|| out_of_range("image folder", i, self.len()))?;
        image::ImageReader::open(path)
            .map_err(|e| bad(path, format!("cannot open: {e}")))?
            .with_guessed_format()
            .map_err(|e| bad(path, format!("cannot read: {e}")))?
            .into_dimensions()
            .map_err(|e| bad(path, format!("not a readable PNG or JPEG: {e}")))
    }

    /// Width and height of sample `i` once its file has passed `level` (see [`Check`]); a
    /// truncated, corrupt or unreadable file is an error naming it and the problem.
    pub fn check(&self, i: usize, level: Check) -> Result<(u32, u32)> {
        let (path, _) =
            self.files.get(i).ok_or_else(|| out_of_range("image folder", i, self.len()))?;
        match level {
            Check::Complete => {
                check_complete(path)?;
                self.dimensions(i)
            }
            Check::Decode => {
                // A decoder may accept a file cut just before its end marker.
                check_complete(path)?;
                let image = self.get(i)?.image;
                Ok((image.width as u32, image.height as u32))
            }
        }
    }
}

/// Refuse a PNG or JPEG file that lacks its end marker (see [`Check::Complete`]). Other
/// content is left to the decoder, which names it.
pub fn check_complete(path: &Path) -> Result<()> {
    let mut file = std::fs::File::open(path).map_err(|e| bad(path, format!("cannot open: {e}")))?;
    let read_err = |e: std::io::Error| bad(path, format!("cannot read: {e}"));
    let len = file.metadata().map_err(read_err)?.len();
    if len == 0 {
        return Err(bad(path, "the file is empty"));
    }
    let mut head = Vec::with_capacity(PNG_SIGNATURE.len());
    (&mut file).take(PNG_SIGNATURE.len() as u64).read_to_end(&mut head).map_err(read_err)?;
    let (format, marker, name): (&str, &[u8], &str) = if head.starts_with(&PNG_SIGNATURE) {
        ("PNG", &PNG_IEND, "IEND chunk")
    } else if head.starts_with(&JPEG_SOI) {
        ("JPEG", &JPEG_EOI, "end-of-image marker (FF D9)")
    } else {
        return Ok(());
    };
    file.seek(SeekFrom::Start(len.saturating_sub(TAIL))).map_err(read_err)?;
    let mut tail = Vec::with_capacity(TAIL as usize);
    file.read_to_end(&mut tail).map_err(read_err)?;
    if tail.windows(marker.len()).any(|w| w == marker) {
        Ok(())
    } else {
        Err(bad(
            path,
            format!(
                "truncated {format}: its {len} bytes do not end with the {name} a complete \
                 file has (an interrupted download or copy?)"
            ),
        ))
    }
}

fn reject_or_skip(path: &Path, skipped: &mut Vec<PathBuf>, policy: UnknownFiles) -> Result<()> {
    match policy {
        UnknownFiles::Skip => {
            skipped.push(path.to_path_buf());
            Ok(())
        }
        UnknownFiles::Error => Err(bad(
            path,
            format!("not an image file (expected extensions {})", IMAGE_EXTENSIONS.join(", ")),
        )),
    }
}

fn collect(
    dir: &Path,
    label: usize,
    files: &mut Vec<(PathBuf, usize)>,
    skipped: &mut Vec<PathBuf>,
    policy: UnknownFiles,
    depth: usize,
) -> Result<()> {
    // Folders are followed through symbolic links, as torchvision does; a depth bound turns
    // a link cycle into an error instead of endless recursion.
    if depth > MAX_DEPTH {
        return Err(bad(
            dir,
            format!("nested more than {MAX_DEPTH} folders deep (a symbolic link cycle?)"),
        ));
    }
    for entry in sorted_entries(dir)? {
        if entry.is_dir() {
            collect(&entry, label, files, skipped, policy, depth + 1)?;
        } else if is_image(&entry) {
            files.push((entry, label));
        } else {
            reject_or_skip(&entry, skipped, policy)?;
        }
    }
    Ok(())
}

/// Decode PNG or JPEG bytes (format from the content) to an 8-bit image; `path` names the
/// file in errors.
pub fn decode(bytes: &[u8], path: &Path, color: ColorMode) -> Result<Image> {
    if bytes.is_empty() {
        return Err(bad(path, "the file is empty"));
    }
    let img = image::load_from_memory(bytes).map_err(|e| {
        bad(path, format!("cannot decode as PNG or JPEG (corrupt or truncated?): {e}"))
    })?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    match color {
        ColorMode::Rgb => Image::new(img.into_rgb8().into_raw(), h, w, 3),
        ColorMode::Gray => Image::new(img.into_luma8().into_raw(), h, w, 1),
    }
}

impl ImageDataset for ImageFolder {
    fn len(&self) -> usize {
        self.files.len()
    }

    fn get(&self, i: usize) -> Result<Sample> {
        let (path, label) =
            self.files.get(i).ok_or_else(|| out_of_range("image folder", i, self.len()))?;
        let bytes = std::fs::read(path).map_err(|e| bad(path, format!("cannot read: {e}")))?;
        Ok(Sample { image: decode(&bytes, path, self.color)?, label: Some(*label) })
    }

    fn shape(&self) -> Option<[usize; 3]> {
        None
    }

    fn class_names(&self) -> &[String] {
        &self.classes
    }

    fn describe(&self, i: usize) -> String {
        self.files.get(i).map(|(p, _)| p.display().to_string()).unwrap_or_default()
    }

    fn labels(&self) -> Option<Vec<usize>> {
        Some(self.files.iter().map(|&(_, l)| l).collect())
    }
}
