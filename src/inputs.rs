//! The checks every read of a user's file needs before it starts: the path must be a regular
//! file ([`regular_file`]: reading `/dev/zero` or mapping a pipe never ends), and a small
//! text input — a JSON config, a model file, a Rhai script ([`read_text`]) — must be of a
//! bounded size (a config is kilobytes; a multi-gigabyte file given by mistake is refused
//! instead of being read into memory). Datasets and checkpoints use [`regular_file`] too.

use std::path::Path;

use crate::error::{Error, Result};

/// The largest text input read: far above any config or script.
pub const MAX_TEXT_BYTES: u64 = 16 << 20;

/// The length of `path` when it is a regular file. A folder, a device or a pipe is refused
/// with `refuse(problem)`, the caller's error for a bad `what` (e.g. "dataset file"); a path
/// that cannot be looked at is an I/O error.
pub fn regular_file(path: &Path, what: &str, refuse: impl Fn(String) -> Error) -> Result<u64> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.is_dir() {
        return Err(refuse(format!("is a directory, not a {what}")));
    }
    if !meta.is_file() {
        return Err(refuse(format!(
            "is not a regular file (a device, pipe or socket), so not a {what}"
        )));
    }
    Ok(meta.len())
}

/// The UTF-8 text of `path`, a `what` (e.g. "config file") for the messages.
pub fn read_text(path: &Path, what: &str) -> Result<String> {
    let refuse = |problem: String| Error::Invalid(format!("{what} {}: {problem}", path.display()));
    let len = regular_file(path, what, refuse)?;
    if len > MAX_TEXT_BYTES {
        return Err(refuse(format!("is {len} bytes; a {what} is at most {MAX_TEXT_BYTES} bytes")));
    }
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_folders_and_huge_files_are_refused_without_reading() {
        let e = read_text(Path::new("/dev/zero"), "config file").unwrap_err().to_string();
        assert!(e.contains("config file /dev/zero: is not a regular file"), "{e}");
        let e = read_text(Path::new("/"), "script").unwrap_err().to_string();
        assert!(e.contains("is a directory"), "{e}");
        let big = std::env::temp_dir().join(format!("graft-inputs-big-{}", std::process::id()));
        let f = std::fs::File::create(&big).unwrap();
        f.set_len(MAX_TEXT_BYTES + 1).unwrap();
        let e = read_text(&big, "config file").unwrap_err().to_string();
        assert!(e.contains("at most"), "{e}");
        std::fs::write(&big, "{}").unwrap();
        assert_eq!(read_text(&big, "config file").unwrap(), "{}");
        std::fs::remove_file(&big).unwrap();
    }
}
