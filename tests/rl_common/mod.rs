//! Helpers shared by the RL integration tests (tests/rl*.rs).

use std::path::{Path, PathBuf};

use tch::Kind;

use graft::models::checkpoint::Checkpoint;
use graft::rl::{AgentConfig, Ended, RunOptions};

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

/// The float tensors of a checkpoint (the action log left out), flattened.
#[allow(dead_code)] // Not every test file compares checkpoints.
pub fn tensors(path: &Path) -> Vec<(String, Vec<f32>)> {
    let ck = Checkpoint::read(path).unwrap();
    ck.tensors
        .iter()
        .filter(|(k, t)| k.as_str() != "actions" && t.kind() == Kind::Float)
        .map(|(k, t)| (k.clone(), Vec::<f32>::try_from(&t.reshape([-1])).unwrap()))
        .collect()
}

/// Run `cfg` straight through, and again stopped at `stop` and resumed (both with `base`'s
/// observation settings, two evaluation episodes): the same final file and evaluation.
#[allow(dead_code)]
pub fn assert_exact_resume(name: &str, cfg: &AgentConfig, env: &str, stop: u64, base: &RunOptions) {
    let _turn = training();
    let (a, b) = (tmp_dir(&format!("{name}-straight")), tmp_dir(&format!("{name}-resumed")));
    let straight = RunOptions { out: Some(a.clone()), eval_episodes: 2, ..base.clone() };
    let full = cfg.train(env, 3, &straight).unwrap();
    assert_eq!(full.ended, Ended::Budget);
    let first = RunOptions {
        out: Some(b.clone()),
        stop_after: Some(stop),
        eval_episodes: 2,
        ..base.clone()
    };
    let part = cfg.train(env, 3, &first).unwrap();
    assert!(
        part.ended == Ended::StopAfter && part.env_steps >= stop && part.env_steps < full.env_steps,
        "{part:?}"
    );
    let second =
        RunOptions { out: Some(b.clone()), resume: true, eval_episodes: 2, ..base.clone() };
    let rest = cfg.train(env, 3, &second).unwrap();
    assert_eq!(rest.env_steps, full.env_steps);
    let (x, y) =
        (tensors(&a.join("checkpoint.safetensors")), tensors(&b.join("checkpoint.safetensors")));
    assert_eq!(x.len(), y.len());
    for ((kx, vx), (ky, vy)) in x.iter().zip(&y) {
        assert_eq!(kx, ky);
        assert_eq!(vx, vy, "{name}: tensor {kx} differs after resume");
    }
    assert_eq!(full.final_eval, rest.final_eval, "{name}: final evaluation differs");
}
