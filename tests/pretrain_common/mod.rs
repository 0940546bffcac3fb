//! Helpers shared by the pretraining tests (tests/pretrain.rs, tests/pretrain_evidence.rs,
//! tests/pretrain_cli.rs): the training lock, temporary folders, configs, and the CartPole and
//! digits datasets they train on. Not every test file uses every helper.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Mutex, OnceLock, RwLock, RwLockWriteGuard};

use graft::data::{collect, CollectConfig, PolicySpec};
use graft::models::cnn::NatureCnnConfig;
use graft::models::ModelConfig;
use graft::optim::{LrSchedule, OptimizerConfig};
use graft::pretrain::config::{DataConfig, TaskConfig, TrainerConfig};
use graft::pretrain::sources::Images;
use graft::pretrain::trainer::{self, Loop};
use graft::pretrain::{prepare, run, Prepared, PretrainConfig, PretrainOutcome};
use graft::train::NoHooks;
use tch::{nn, Kind, Tensor};

use crate::support::python;

/// libtorch's random generator is one per process: a run's exact replay, and a loss or
/// accuracy checked against a threshold, need no other run drawing from it at the same time,
/// so every training test holds this lock (they run one at a time).
static GENERATOR: RwLock<()> = RwLock::new(());

pub fn exclusive() -> RwLockWriteGuard<'static, ()> {
    GENERATOR.write().unwrap_or_else(|e| e.into_inner())
}

pub fn tmp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("graft-pretrain-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

pub fn small_cnn() -> ModelConfig {
    ModelConfig::NatureCnn(NatureCnnConfig { hidden: 64, ..NatureCnnConfig::default() })
}

pub fn config(
    task: TaskConfig,
    data: &Path,
    model: ModelConfig,
    steps: u64,
    lr: f64,
) -> PretrainConfig {
    PretrainConfig {
        task,
        data: DataConfig { path: data.to_path_buf(), image_size: None, ..Default::default() },
        model,
        trainer: TrainerConfig {
            steps,
            batch_size: 32,
            optimizer: OptimizerConfig::adam(lr),
            schedule: LrSchedule::Constant,
            log_every: 10,
            progress: false,
            ..TrainerConfig::default()
        },
        device: "cpu".into(),
        resume: false,
        overwrite: false,
    }
}

pub fn run_task(name: &str, cfg: &PretrainConfig) -> PretrainOutcome {
    // Exclusive: libtorch's generator is global to the process, so two runs in parallel
    // would draw each other's numbers and their losses (checked against thresholds below)
    // would vary from run to run.
    let _g = exclusive();
    let out = tmp_dir(name);
    let o = run(cfg, &out, &mut NoHooks).unwrap();
    eprintln!("{name}: first {:?} final {:?} {:?}", o.first_loss, o.final_loss, o.metrics);
    o
}

pub fn assert_falls(o: &PretrainOutcome, ratio: f64) {
    let (first, last) = (o.first_loss.unwrap(), o.final_loss.unwrap());
    assert!(
        last < ratio * first,
        "loss fell only from {first} to {last} (wanted below {ratio} of the start)"
    );
}

/// CartPole-v1 expert episodes as state vectors.
pub fn cartpole_states() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tmp_dir("data-states");
        let mut cfg = CollectConfig::new("CartPole-v1", dir.join("cartpole.arrow"));
        cfg.policy = PolicySpec::Heuristic;
        cfg.episodes = 8;
        cfg.seed = 3;
        cfg.workers = 1;
        cfg.kwargs.insert("max_episode_steps".into(), graft::envs::Value::Int(100));
        collect(&cfg, &mut |_, _| {}).unwrap().path
    })
}

/// CartPole-v1 expert episodes as 40×40 RGB frames with the state beside them.
pub fn cartpole_frames() -> &'static Path {
    static P: OnceLock<PathBuf> = OnceLock::new();
    P.get_or_init(|| {
        let dir = tmp_dir("data-frames");
        let mut cfg = CollectConfig::new("CartPole-v1", dir.join("cartpole.arrow"));
        (cfg.policy, cfg.episodes, cfg.seed, cfg.workers) = (PolicySpec::Random, 12, 5, 1);
        cfg.pixels = Some((40, 40));
        collect(&cfg, &mut |_, _| {}).unwrap().path
    })
}

pub fn mlp() -> ModelConfig {
    ModelConfig::preset("mlp").unwrap()
}

// --- images: scikit-learn's digits (1,797 8x8 grayscale, 10 classes) -------------------

/// Digits as `[N, 1, 8, 8]` uint8 (values × 16, clamped) with labels, read from scikit-learn.
pub fn digits() -> Images {
    static RAW: OnceLock<(Vec<u8>, Vec<i64>)> = OnceLock::new();
    let (x, y) = RAW.get_or_init(|| {
        let dir = tmp_dir("digits");
        let (xp, yp) = (dir.join("x.bin"), dir.join("y.bin"));
        let code = "import sys, numpy as np\nfrom sklearn.datasets import load_digits\n\
                    d = load_digits()\n\
                    open(sys.argv[1], 'wb').write(np.clip(d.images * 16, 0, 255).astype(np.uint8).tobytes())\n\
                    open(sys.argv[2], 'wb').write(d.target.astype(np.int64).tobytes())\n";
        let st = Command::new(python()).arg("-c").arg(code).arg(&xp).arg(&yp).status().unwrap();
        assert!(st.success());
        let x = std::fs::read(&xp).unwrap();
        let y: Vec<i64> = std::fs::read(&yp)
            .unwrap()
            .chunks(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        (x, y)
    });
    let n = y.len() as i64;
    assert_eq!(n, 1797);
    Images::new(Tensor::from_slice(x).view([n, 1, 8, 8]), Some(Tensor::from_slice(y))).unwrap()
}

/// Digits upsampled to 16×16 (for the ViT's 4×4 patches and the autoencoder), as a file.
pub fn digits_file(side: i64) -> PathBuf {
    static FILES: Mutex<Vec<(i64, PathBuf)>> = Mutex::new(Vec::new());
    let mut files = FILES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, p)) = files.iter().find(|(s, _)| *s == side) {
        return p.clone();
    }
    let d = digits();
    let images = if side == 8 {
        d.images.shallow_clone()
    } else {
        d.images
            .to_kind(Kind::Float)
            .upsample_nearest2d([side, side], None, None)
            .to_kind(Kind::Uint8)
    };
    let dir = tmp_dir(&format!("digits-file-{side}"));
    let path = dir.join("digits.safetensors");
    Images::new(images, d.labels).unwrap().save(&path).unwrap();
    files.push((side, path.clone()));
    path
}

/// Build `cfg`'s task, model and optimizer and train them in `out` through the normal
/// `prepare` / `trainer::fit` path, up to `halt_after` (as if killed there) or to the end;
/// returns the trained variables.
pub fn prepare_and_fit(cfg: &PretrainConfig, out: &Path, halt_after: Option<u64>) -> nn::VarStore {
    let Prepared { mut task, mut vs, mut optimizer, .. } = prepare(cfg).unwrap();
    trainer::fit(
        task.as_mut(),
        Loop {
            config: &cfg.trainer,
            vs: &mut vs,
            optimizer: &mut optimizer,
            out_dir: out,
            resume: cfg.resume,
            hooks: &mut NoHooks,
            stop_after: halt_after,
        },
    )
    .unwrap();
    vs
}
