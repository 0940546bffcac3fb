//! Overhead of Rhai schedule hooks against the training step they steer.
//!
//! - `hook/on_step_warmup_cosine`: one `on_step` call of a Rhai closure that computes a
//!   warm-up + cosine learning rate and sets it on all 5 groups of a small CNN's optimizer
//!   (the ctx snapshot, the Rhai call, and applying the changes to the optimizer).
//! - `hook/on_epoch_start_gradual_unfreezing`: the ULMFiT unfreezing rule over 5 groups.
//! - `step/minatar_cnn_b32`: one fine-tuning step (forward, cross-entropy, backward, Adam) of
//!   the MinAtar CNN with a head on a `[32, 4, 10, 10]` batch, 2 libtorch threads (and
//!   `_1thread`: one).
//!
//! Target: a hook call under 1% of the step. Figures: `benchmarks/RESULTS.md`, Scripts.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use graft::finetune::{FinetuneConfig, Finetuner, Strategy, Task};
use graft::models::{attach_head, MinAtarCnnConfig, ModelConfig};
use graft::optim::OptimizerConfig;
use graft::script::hooks::Caller;
use graft::script::{build_engine, HookFns, RhaiHooks, ScriptLimits, Session, SessionOptions};
use graft::train::{HookContext, TrainHooks};
use tch::{nn, Device, Kind, Tensor};

const HOOKS: &str = r#"
fn warmup_cosine(ctx, lr, warmup_steps, min_factor) {
    let step = ctx.step;
    let f = if step < warmup_steps {
        (step + 1).to_float() / warmup_steps.to_float()
    } else {
        let progress = (step - warmup_steps).to_float() / (ctx.total_steps - warmup_steps).to_float();
        min_factor + (1.0 - min_factor) * 0.5 * (1.0 + cos(PI() * progress))
    };
    ctx.set_lr_all(lr * f);
}
fn gradual_unfreezing(ctx, every) {
    let n = ctx.num_groups;
    let k = 1 + ctx.epoch / every;
    if k > n { k = n; }
    let names = ctx.groups;
    for i in 0..n {
        let g = names[i];
        if i >= n - k {
            if ctx.is_frozen(g) { ctx.unfreeze(g); }
        } else if !ctx.is_frozen(g) {
            ctx.freeze(g);
        }
    }
}
#{
    on_step: |ctx| warmup_cosine(ctx, 1e-3, 100, 0.0),
    on_epoch_start: |ctx| gradual_unfreezing(ctx, 1),
}
"#;

fn bench(c: &mut Criterion) {
    tch::set_num_threads(2);
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = ModelConfig::MinatarCnn(MinAtarCnnConfig { num_outputs: None, ..Default::default() });
    let encoder = cfg.build(&vs.root()).unwrap();
    let model = attach_head(&(vs.root() / "head"), encoder, 6).unwrap();
    let config = FinetuneConfig {
        strategy: Strategy::Full,
        optimizer: OptimizerConfig::adam(1e-3),
        ..FinetuneConfig::default()
    };
    let mut trainer = Finetuner::new(&vs, &model, config).unwrap();

    let dir = std::env::temp_dir().join(format!("graft-bench-script-{}", std::process::id()));
    let script = dir.join("hooks.rhai");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(&script, HOOKS).unwrap();
    let session = Session::create(SessionOptions {
        script,
        run_dir: dir.join("run"),
        overrides: Default::default(),
        seed: 0,
        device: Device::Cpu,
        echo: false,
    })
    .unwrap();
    // A budget that criterion's many iterations cannot exhaust (each call is a new run).
    let limits = ScriptLimits { max_operations: u64::MAX, ..ScriptLimits::default() };
    let engine = build_engine(&limits, &session);
    let ast = engine.compile(HOOKS).unwrap();
    let fns = HookFns::from_map(&engine.eval_ast(&ast).unwrap()).unwrap();
    let mut hooks =
        RhaiHooks::new(fns, Caller::Standalone { engine: &engine, ast: &ast }, true, "hooks.rhai");
    let metrics = Default::default();

    let mut group = c.benchmark_group("hook");
    group.measurement_time(Duration::from_secs(5));
    let mut step = 0u64;
    group.bench_function("on_step_warmup_cosine", |b| {
        b.iter(|| {
            let mut ctx = HookContext::new(step % 1000, 0, 1000, &mut trainer.optimizer, &metrics);
            hooks.on_step(black_box(&mut ctx)).unwrap();
            step += 1;
        })
    });
    let mut epoch = 0u64;
    group.bench_function("on_epoch_start_gradual_unfreezing", |b| {
        b.iter(|| {
            let mut ctx = HookContext::new(0, epoch % 6, 1000, &mut trainer.optimizer, &metrics);
            hooks.on_epoch_start(black_box(&mut ctx)).unwrap();
            epoch += 1;
        })
    });
    group.finish();
    trainer.optimizer.set_lr_all(1e-3);
    for g in trainer.optimizer.group_names() {
        trainer.optimizer.unfreeze(&g, false).unwrap();
    }

    tch::manual_seed(0);
    let x = Tensor::rand([32, 4, 10, 10], (Kind::Float, Device::Cpu));
    let y = Tensor::randint(6, [32], (Kind::Int64, Device::Cpu));
    let mut group = c.benchmark_group("step");
    group.measurement_time(Duration::from_secs(5));
    group.bench_function("minatar_cnn_b32", |b| {
        b.iter(|| trainer.train_step(Task::Classification, black_box(&x), &y).unwrap())
    });
    // One thread, like the hook: on a busy machine two-thread libtorch steps stall on each
    // other far more than single-threaded work does, which would flatter the ratio.
    tch::set_num_threads(1);
    group.bench_function("minatar_cnn_b32_1thread", |b| {
        b.iter(|| trainer.train_step(Task::Classification, black_box(&x), &y).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
