//! Helpers shared by the RL integration tests (tests/rl.rs, tests/rl_pixels_hooks.rs).

use std::path::PathBuf;

/// libtorch's random generator is global to the process and every training step reseeds it,
/// so tests that train take turns (a real run owns its process).
static TRAINING: std::sync::Mutex<()> = std::sync::Mutex::new(());

pub fn training() -> std::sync::MutexGuard<'static, ()> {
    TRAINING.lock().unwrap_or_else(|e| e.into_inner())
}

/// A fresh temporary folder for one test.
pub fn tmp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("graft-rl-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}
