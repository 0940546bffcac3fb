//! Helpers shared by the integration tests (each `tests/<area>.rs` includes this module with
//! `mod support;`). Not every test file uses every helper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The pinned test venv's python (pyarrow, pandas, numpy, scikit-learn, tensorboard), made on
/// first use by scripts/test-python-deps.sh. Panics with the script's reason when it cannot
/// be made: the tests that compare Graft with those Python tools cannot run without it.
pub fn python() -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/test-python-deps.sh");
    let out = Command::new("bash").arg(&script).output().unwrap_or_else(|e| {
        panic!("cannot run {}: {e}; the tests against Python tools need bash", script.display())
    });
    assert!(
        out.status.success(),
        "{} failed, so the tests against Python tools cannot run (they need python3 with venv \
         and PyPI access once):\n{}",
        script.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// A random `h × w × c` image, the same for the same `seed`.
pub fn random_image(h: usize, w: usize, c: usize, seed: u64) -> graft::data::images::Image {
    let mut rng = graft::data::augment::sample_rng(seed, 9, 9, 9);
    let pixels = (0..h * w * c).map(|_| rng.below(256) as u8).collect();
    graft::data::images::Image::new(pixels, h, w, c).unwrap()
}
