//! `ImageFolder`: the `root/<class>/<image>` layout of torchvision's `datasets.ImageFolder`
//! (and of most image datasets kept on disk): one subfolder per class, classes sorted by name
//! and numbered from 0, images found recursively inside each class folder and sorted by path.
//!
//! Files are decoded on demand (PNG and JPEG, by content, not by extension), so opening a
//! folder only lists it. Policy for other files: by default they are skipped and counted
//! ([`ImageFolder::skipped`]; `graft images info` prints the count as a warning), or with
//! [`UnknownFiles::Error`] the first one is an error. A class folder with no image in it is an
//! error, as in torchvision.

use std::path::{Path, PathBuf};

use super::base::{out_of_range, Image, ImageDataset, Sample};
use crate::error::{Error, Result};

/// Extensions (lower-cased) treated as images.
pub const IMAGE_EXTENSIONS: &[&str] = &["png", "jpg", "jpeg"];

/// Deepest folder nesting inside a class folder.
const MAX_DEPTH: usize = 32;

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
