//! Helpers shared by the RL integration tests (tests/rl*.rs).

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

/// Run `script` (written to `dir/s.rhai`) with `graft --threads 1 run`, its run directory
/// `dir/run`.
#[allow(dead_code)] // Not every test file runs scripts.
pub fn run_script(dir: &std::path::Path, script: &str) -> std::process::Output {
    let path = dir.join("s.rhai");
    std::fs::write(&path, script).expect("script written");
    std::process::Command::new(env!("CARGO_BIN_EXE_graft"))
        .args(["--threads", "1", "run"])
        .arg(&path)
        .arg("--out")
        .arg(dir.join("run"))
        .arg("--quiet")
        .output()
        .expect("graft runs")
}
