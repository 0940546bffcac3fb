//! Model throughput on CPU: forward + backward (cross-entropy on fixed random labels, with
//! `zero_grad`, no optimiser step) in images/s for ResNet-18 (torchvision's ImageNet stem on
//! 32×32 inputs, batch 128), the Nature-DQN CNN (4×84×84, batch 256) and ViT-Ti/16
//! (224×224, batch 16), all with 2 libtorch threads — and Inception-v3 (299×299, batch 32, in
//! training mode, so the auxiliary classifier runs and its loss is added with weight 0.4, as
//! a fine-tuning step computes it).
//!
//! The PyTorch eager peer is `benchmarks/peers/torch_models.py`; `benchmarks/peers/run_models.sh`
//! runs both in one shell run and prints the ratios. Figures: `benchmarks/RESULTS.md`, Models.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, Criterion, Throughput};
use graft::models::{
    Encoder, InceptionV3Config, ModelConfig, NatureCnnConfig, ResNetConfig, VitConfig,
};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// libtorch intra-op threads, matched by the Python peer.
const THREADS: i32 = 2;

struct Case {
    name: &'static str,
    config: ModelConfig,
    input: [i64; 4],
    classes: i64,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "resnet18_32x32_b128",
            config: ModelConfig::Resnet(ResNetConfig::resnet18()),
            input: [128, 3, 32, 32],
            classes: 1000,
        },
        Case {
            name: "nature_cnn_84x84_b256",
            config: ModelConfig::NatureCnn(NatureCnnConfig {
                num_outputs: Some(18),
                ..NatureCnnConfig::atari()
            }),
            input: [256, 4, 84, 84],
            classes: 18,
        },
        Case {
            name: "vit_tiny_224_b16",
            config: ModelConfig::Vit(VitConfig::tiny()),
            input: [16, 3, 224, 224],
            classes: 1000,
        },
        Case {
            name: "inception_v3_299_b32",
            config: ModelConfig::InceptionV3(InceptionV3Config::default()),
            input: [32, 3, 299, 299],
            classes: 1000,
        },
    ]
}

/// One training step of `model` on `(x, y)`: zero_grad, forward (with the auxiliary
/// classifier's loss at weight 0.4 where the model has one), backward.
fn step(model: &dyn Encoder, opt: &mut nn::Optimizer, x: &Tensor, y: &Tensor) -> Tensor {
    opt.zero_grad();
    let (out, aux) = model.forward_aux(x, true);
    let main = out.cross_entropy_for_logits(y);
    let loss = match aux {
        Some(aux) => main + aux.cross_entropy_for_logits(y) * 0.4,
        None => main,
    };
    loss.backward();
    loss
}

fn forward_backward(c: &mut Criterion) {
    tch::set_num_threads(THREADS);
    tch::manual_seed(0);
    let mut group = c.benchmark_group("models");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8));
    for case in cases() {
        let vs = nn::VarStore::new(Device::Cpu);
        let model = case.config.build(&vs.root()).unwrap();
        let mut opt = nn::Sgd::default().build(&vs, 1e-3).unwrap();
        let x = Tensor::rand(case.input, (Kind::Float, Device::Cpu));
        let y = Tensor::randint(case.classes, [case.input[0]], (Kind::Int64, Device::Cpu));
        group.throughput(Throughput::Elements(case.input[0] as u64));
        group.bench_function(case.name, |b| {
            b.iter(|| black_box(step(model.as_ref(), &mut opt, &x, &y)))
        });
    }
    group.finish();
}

criterion_group!(benches, forward_backward);

/// `MODEL_STEPS=n cargo bench -p graft --bench models -- FILTER` times `n` steps of each case
/// whose name contains FILTER without criterion and prints `RESULT <name> <median images/s>
/// <best images/s>` as the PyTorch peer does: for networks whose step takes seconds, so a
/// driver can alternate short Graft and PyTorch runs and the machine's load changes hit both
/// (benchmarks/peers/run_models.sh with ROUNDS). Without MODEL_STEPS, criterion runs.
fn main() {
    let Some(steps) = std::env::var("MODEL_STEPS").ok().and_then(|s| s.parse::<usize>().ok())
    else {
        benches();
        Criterion::default().configure_from_args().final_summary();
        return;
    };
    let filter = std::env::args().skip(1).rfind(|a| !a.starts_with("--"));
    tch::set_num_threads(THREADS);
    tch::manual_seed(0);
    for case in cases() {
        if filter.as_ref().is_some_and(|f| !case.name.contains(f.as_str())) {
            continue;
        }
        let vs = nn::VarStore::new(Device::Cpu);
        let model = case.config.build(&vs.root()).unwrap();
        let mut opt = nn::Sgd::default().build(&vs, 1e-3).unwrap();
        let x = Tensor::rand(case.input, (Kind::Float, Device::Cpu));
        let y = Tensor::randint(case.classes, [case.input[0]], (Kind::Int64, Device::Cpu));
        let _ = step(model.as_ref(), &mut opt, &x, &y); // warm-up
        let mut secs: Vec<f64> = (0..steps.max(1))
            .map(|_| {
                let t = std::time::Instant::now();
                let _ = black_box(step(model.as_ref(), &mut opt, &x, &y));
                t.elapsed().as_secs_f64()
            })
            .collect();
        secs.sort_by(f64::total_cmp);
        let batch = case.input[0] as f64;
        println!("RESULT {} {:.2} {:.2}", case.name, batch / secs[secs.len() / 2], batch / secs[0]);
    }
}
