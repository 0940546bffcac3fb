//! Reading a user's small text inputs — JSON configs, model files, Rhai scripts — with the
//! checks every such read needs: the path must be a regular file (reading `/dev/zero` or a
//! pipe never ends) of a bounded size (a config is kilobytes; a multi-gigabyte file given by
//! mistake is refused instead of being read into memory).

use std::path::Path;

use crate::error::{Error, Result};

/// The largest text input read: far above any config or script.
pub const MAX_TEXT_BYTES: u64 = 16 << 20;

/// The UTF-8 text of `path`, a `what` (e.g. "config file") for the messages.
pub fn read_text(path: &Path, what: &str) -> Result<String> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    let refuse = |problem: String| Error::Invalid(format!("{what} {}: {problem}", path.display()));
    if meta.is_dir() {
        return Err(refuse("is a directory".into()));
    }
    if !meta.is_file() {
        return Err(refuse("is not a regular file (a device, pipe or socket)".into()));
    }
    if meta.len() > MAX_TEXT_BYTES {
        return Err(refuse(format!(
            "is {} bytes; a {what} is at most {MAX_TEXT_BYTES} bytes",
            meta.len()
        )));
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
