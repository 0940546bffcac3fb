//! Environment throughput: steps/s of every classic-control env (one env, reset when an
//! episode ends), vector CartPole at N = 1, 8, 64, 256 (the generic `VectorEnv` sequential and
//! threaded, and the native structure-of-arrays `CartPoleVectorEnv` on one core), and
//! CartPole render frames/s (full 600x400 frame and a 64x64 `render_into`).
//!
//! Envs come from `registry::make`, so they carry the time limit that `gymnasium.make` adds
//! (CartPole-v1 counts its own steps, the others are wrapped in `TimeLimit`) and are called
//! through `Box<dyn Env>`, as users get them. Actions are drawn before timing.
//! The Python peer is `benchmarks/peers/gymnasium_cartpole.py`; `benchmarks/peers/run_envs.sh`
//! runs both and prints the ratios. Figures: `benchmarks/RESULTS.md`, section Environments.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use graft_envs::registry;
use graft_envs::vector::{BatchAction, Execution, VectorConfig, VectorEnv};
use graft_envs::{Action, Env, EnvRng, Kwargs, Obs};

/// Steps per timed iteration of the single-env bench.
const STEPS: usize = 1000;
/// Distinct action batches cycled through by the vector bench.
const ACTION_BATCHES: usize = 64;

fn single_env(c: &mut Criterion) {
    let mut group = c.benchmark_group("single");
    group.throughput(Throughput::Elements(STEPS as u64));
    for spec in registry::registered() {
        let mut env = registry::make(&spec.id, &Kwargs::new()).unwrap();
        let mut rng = EnvRng::seed_from(0);
        let actions: Vec<Action> =
            (0..STEPS).map(|_| env.action_space().sample_action(&mut rng).unwrap()).collect();
        let mut obs = Obs::zeros(env.observation_space());
        env.reset_into(Some(0), &Kwargs::new(), obs.as_mut()).unwrap();
        let none = Kwargs::new();
        group.bench_function(&spec.id, |b| {
            b.iter(|| {
                for a in &actions {
                    let out = env.step_into(a.as_ref(), obs.as_mut()).unwrap();
                    if out.terminated || out.truncated {
                        env.reset_into(None, &none, obs.as_mut()).unwrap();
                    }
                }
                black_box(&obs);
            })
        });
    }
    group.finish();
}

fn vector_cartpole(c: &mut Criterion) {
    let mut group = c.benchmark_group("vector_cartpole");
    for (name, execution) in
        [("sequential", Execution::Sequential), ("threaded", Execution::Threaded { threads: 0 })]
    {
        for n in [1usize, 8, 64, 256] {
            let config = VectorConfig { execution, ..Default::default() };
            let mut venv = VectorEnv::make("CartPole-v1", n, &Kwargs::new(), config).unwrap();
            venv.reset(Some(0), &Kwargs::new()).unwrap();
            let mut rng = EnvRng::seed_from(1);
            let actions: Vec<i64> = (0..ACTION_BATCHES * n).map(|_| rng.below(2) as i64).collect();
            let mut k = 0;
            group.throughput(Throughput::Elements(n as u64));
            group.bench_with_input(BenchmarkId::new(name, n), &n, |b, &n| {
                b.iter(|| {
                    let batch = &actions[k * n..(k + 1) * n];
                    k = (k + 1) % ACTION_BATCHES;
                    let view = venv.step(BatchAction::Discrete(batch)).unwrap();
                    black_box(view.obs_f32);
                })
            });
        }
    }
    group.finish();
}

/// The structure-of-arrays `CartPoleVectorEnv` (what `registry::make_vec` gives for
/// CartPole-v1), on the calling thread.
fn native_vector_cartpole(c: &mut Criterion) {
    let mut group = c.benchmark_group("vector_cartpole");
    for n in [1usize, 8, 64, 256] {
        let mut venv =
            registry::make_vec("CartPole-v1", n, &Kwargs::new(), VectorConfig::default()).unwrap();
        venv.reset(Some(0), &Kwargs::new()).unwrap();
        let mut rng = EnvRng::seed_from(1);
        let actions: Vec<i64> = (0..ACTION_BATCHES * n).map(|_| rng.below(2) as i64).collect();
        let mut k = 0;
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("native", n), &n, |b, &n| {
            b.iter(|| {
                let batch = &actions[k * n..(k + 1) * n];
                k = (k + 1) % ACTION_BATCHES;
                let view = venv.step_discrete(batch).unwrap();
                black_box(view.obs_f32);
            })
        });
    }
    group.finish();
}

fn render_cartpole(c: &mut Criterion) {
    let mut group = c.benchmark_group("render_cartpole");
    group.throughput(Throughput::Elements(1));
    let mut env = registry::make("CartPole-v1", &Kwargs::new()).unwrap();
    env.reset(Some(0), &Kwargs::new()).unwrap();
    env.step(&Action::Discrete(1)).unwrap();
    group.bench_function("full_600x400", |b| b.iter(|| black_box(env.render().unwrap())));
    let mut frame = vec![0u8; 64 * 64 * 3];
    group.bench_function("render_into_64x64", |b| {
        b.iter(|| {
            env.render_into(64, 64, &mut frame).unwrap();
            black_box(&frame);
        })
    });
    group.finish();
}

criterion_group!(benches, single_env, vector_cartpole, native_vector_cartpole, render_cartpole);
criterion_main!(benches);
