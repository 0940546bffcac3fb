//! Pretraining throughput on CPU, in items per second, for one optimisation step of a task
//! (sampling its batch, augmenting, forward, loss, backward, Adam step, EMA update) with
//! 2 libtorch threads:
//!
//! - `inverse_dynamics_nature_cnn_64_b32`: CartPole 64×64 frames, `(o_t, o_{t+1})` through
//!   the Nature CNN (512 features), 256-wide action head.
//! - `rotation_nature_cnn_64_b32`: 32 images × 4 rotations through the Nature CNN.
//! - `simclr_nature_cnn_64_b32`: 2 SimCLR views of 32 images, projection 512→512→128,
//!   NT-Xent.
//! - `byol_nature_cnn_64_b32`: 2 views, online and EMA target networks, predictor.
//! - `mae_vit_64_p8_b32`: ViT (width 192, 4 blocks) on the 25 % visible of 64 patches,
//!   decoder 2 blocks of 128.
//!
//! The PyTorch eager peer is `benchmarks/peers/torch_pretrain.py` (same networks, same
//! algorithms, same batch and threads); `benchmarks/peers/run_pretrain.sh` runs both in one
//! shell run and prints the ratios. Figures: `benchmarks/RESULTS.md`, Pretraining.

use std::path::PathBuf;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use graft::data::{collect, CollectConfig, PolicySpec};
use graft::models::vit::{Pool, VitConfig};
use graft::models::{ModelConfig, NatureCnnConfig};
use graft::optim::{LrSchedule, OptimizerConfig};
use graft::pretrain::config::{DataConfig, TaskConfig, TrainerConfig};
use graft::pretrain::trainer::{train_step, Sampler};
use graft::pretrain::{prepare, Images, Prepared, PretrainConfig};
use tch::{Kind, Tensor};

/// libtorch intra-op threads, matched by the Python peer.
const THREADS: i32 = 2;
const BATCH: usize = 32;

fn scratch() -> PathBuf {
    let d = std::env::temp_dir().join(format!("graft-bench-pretrain-{}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn cartpole_frames(dir: &std::path::Path) -> PathBuf {
    let mut cfg = CollectConfig::new("CartPole-v1", dir.join("cartpole64.arrow"));
    (cfg.policy, cfg.episodes, cfg.pixels, cfg.seed) =
        (PolicySpec::Heuristic, 4, Some((64, 64)), 0);
    cfg.kwargs.insert("max_episode_steps".into(), graft::envs::Value::Int(200));
    collect(&cfg, &mut |_, _| {}).expect("collect").path
}

fn random_images(dir: &std::path::Path) -> PathBuf {
    tch::manual_seed(0);
    let x = Tensor::randint(256, [512, 3, 64, 64], (Kind::Uint8, tch::Device::Cpu));
    let path = dir.join("images64.safetensors");
    Images::new(x, None).expect("images").save(&path).expect("save");
    path
}

fn nature() -> ModelConfig {
    ModelConfig::NatureCnn(NatureCnnConfig::atari())
}

fn config(task: TaskConfig, data: PathBuf, model: ModelConfig) -> PretrainConfig {
    PretrainConfig {
        task,
        data: DataConfig { path: data, image_size: None, ..Default::default() },
        model,
        trainer: TrainerConfig {
            steps: 1_000_000,
            batch_size: BATCH,
            optimizer: OptimizerConfig::adam(1e-4),
            schedule: LrSchedule::Constant,
            progress: false,
            ..TrainerConfig::default()
        },
        device: "cpu".into(),
        resume: false,
        overwrite: false,
    }
}

fn cases(dir: &std::path::Path) -> Vec<(&'static str, PretrainConfig)> {
    let frames = cartpole_frames(dir);
    let images = random_images(dir);
    let named = |n: &str| TaskConfig::named(n).expect("task");
    let vit = ModelConfig::Vit(VitConfig {
        image_size: 64,
        patch_size: 8,
        depth: 4,
        pool: Pool::Cls,
        num_classes: None,
        ..VitConfig::tiny()
    });
    vec![
        ("inverse_dynamics_nature_cnn_64_b32", config(named("inverse_dynamics"), frames, nature())),
        ("rotation_nature_cnn_64_b32", config(named("rotation"), images.clone(), nature())),
        ("simclr_nature_cnn_64_b32", config(named("simclr"), images.clone(), nature())),
        ("byol_nature_cnn_64_b32", config(named("byol"), images.clone(), nature())),
        ("mae_vit_64_p8_b32", config(named("mae"), images, vit)),
    ]
}

fn throughput(c: &mut Criterion) {
    tch::set_num_threads(THREADS);
    let dir = scratch();
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let mut group = c.benchmark_group("pretrain");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8))
        .throughput(Throughput::Elements(BATCH as u64));
    for (name, cfg) in cases(&dir) {
        if !filter.is_empty() && !filter.iter().any(|f| name.contains(f.as_str())) {
            continue;
        }
        let Prepared { mut task, mut optimizer, .. } = prepare(&cfg).expect("prepare");
        let mut sampler = Sampler::new(task.num_items(), BATCH, 0).expect("sampler");
        let mut step = 0u64;
        group.bench_function(name, |b| {
            b.iter(|| {
                let idx = sampler.indices(step).to_vec();
                train_step(
                    task.as_mut(),
                    &mut optimizer,
                    &cfg.trainer,
                    step,
                    1_000_000,
                    &idx,
                    false,
                )
                .expect("step");
                step += 1;
            })
        });
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, throughput);
criterion_main!(benches);
