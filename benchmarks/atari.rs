//! Atari throughput (issue #24, item 5): Graft's side of `benchmarks/peers/run_atari.sh`.
//! Needs `--features atari` (and `scripts/setup.sh --atari`).
//!
//! * `atari_step/<game>`: `ALE/<Game>-v5` from `registry::make` at its defaults (4 frames a
//!   step, sticky actions, RGB observation), 1000 random steps per iteration, `reset` when an
//!   episode ends. Gymnasium's `env.step` on ale-py is the peer.
//! * `atari_preprocessed/<game>`: the same with `AtariPreprocessing` (frameskip 1 underneath,
//!   84x84 grayscale, max-pooled frame skip 4). Gymnasium's wrapper is the peer.
//! * `atari_frames/<game>`: the emulator alone: 1000 steps of 4 frames without reading the
//!   screen (a reset after each game over, since ALE stops emulating then): the floor.
//! * `atari_vector/<game>`: 8 preprocessed envs with a 4-frame stack on 2 threads
//!   (`VectorEnv`, `Execution::Threaded`). ale-py's own C++ vector env (`AtariVectorEnv`,
//!   EnvPool's design) with the same settings is the peer.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use graft_envs::atari::{self, AtariEnv};
use graft_envs::vector::{Execution, VectorConfig, VectorEnv};
use graft_envs::{registry, Action, Env, EnvRng, Kwargs, Value};

const STEPS: usize = 1000;
const GAMES: [&str; 2] = ["Breakout", "Pong"];

fn preprocessed() -> Kwargs {
    Kwargs::from([("preprocessing".to_string(), Value::Bool(true))])
}

/// The action at step `t`: a fixed pseudo-random sequence that the peer computes the same
/// way, so both sides (bit-identical emulators, the same seed) play the same game.
fn action(t: usize, env: &dyn Env) -> i64 {
    let n = match env.action_space() {
        graft_envs::Space::Discrete { n, .. } => *n,
        _ => 1,
    };
    (((t as u64).wrapping_mul(2_654_435_761) % (1 << 32)) >> 16) as i64 % n as i64
}

fn run_steps(env: &mut dyn Env, actions: &[Action]) -> usize {
    let mut resets = 0;
    for a in actions {
        let step = env.step(a).expect("step");
        if step.terminated || step.truncated {
            env.reset(None, &Kwargs::new()).expect("reset");
            resets += 1;
        }
    }
    resets
}

fn single(c: &mut Criterion, group: &str, kwargs: Kwargs) {
    let mut g = c.benchmark_group(group);
    g.throughput(Throughput::Elements(STEPS as u64));
    for game in GAMES {
        let id = format!("ALE/{game}-v5");
        let mut env = registry::make(&id, &kwargs).expect("make");
        env.reset(Some(0), &Kwargs::new()).expect("reset");
        let actions: Vec<Action> = (0..STEPS).map(|t| Action::Discrete(action(t, &*env))).collect();
        g.bench_function(BenchmarkId::from_parameter(game), |b| {
            b.iter(|| black_box(run_steps(&mut *env, &actions)))
        });
    }
    g.finish();
}

fn step(c: &mut Criterion) {
    single(c, "atari_step", Kwargs::new());
}

fn preprocessed_step(c: &mut Criterion) {
    single(c, "atari_preprocessed", preprocessed());
}

fn frames(c: &mut Criterion) {
    let mut g = c.benchmark_group("atari_frames");
    g.throughput(Throughput::Elements(STEPS as u64));
    for game in GAMES {
        let id = format!("ALE/{game}-v5");
        let mut env = AtariEnv::new(&id, atari::find(&id).unwrap(), &Kwargs::new()).unwrap();
        env.reset(Some(0), &Kwargs::new()).unwrap();
        g.bench_function(BenchmarkId::from_parameter(game), |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let start = Instant::now();
                    for t in 0..STEPS {
                        let action = graft_envs::ActionRef::Discrete((t % 3) as i64);
                        let out = env.step_without_obs(action).expect("step");
                        // After a game over ALE stops emulating: reset, as a rollout does.
                        if out.terminated || out.truncated {
                            env.reset_without_obs(None, &Kwargs::new()).expect("reset");
                        }
                        black_box(out.reward);
                    }
                    total += start.elapsed();
                    env.reset(None, &Kwargs::new()).unwrap();
                }
                // Each step_without_obs is 4 frames: report frames.
                total / 4
            })
        });
    }
    g.finish();
}

fn vector(c: &mut Criterion) {
    const ENVS: usize = 8;
    let mut g = c.benchmark_group("atari_vector");
    g.throughput(Throughput::Elements((ENVS * 250) as u64));
    for game in GAMES {
        let id = format!("ALE/{game}-v5");
        let mut kwargs = preprocessed();
        kwargs.insert("frame_stack".into(), Value::Int(4));
        // The peer's defaults: no sticky actions.
        kwargs.insert("repeat_action_probability".into(), Value::Float(0.0));
        let config = VectorConfig {
            execution: Execution::Threaded { threads: 2 },
            min_envs_per_thread: 1,
            ..Default::default()
        };
        let mut envs = VectorEnv::make(&id, ENVS, &kwargs, config).expect("vector env");
        envs.reset(Some(0), &Kwargs::new()).expect("reset");
        let n = envs.single_action_space().clone();
        let mut rng = EnvRng::seed_from(2);
        let actions: Vec<Vec<i64>> = (0..250)
            .map(|_| {
                (0..ENVS)
                    .map(|_| match n.sample_action(&mut rng).unwrap() {
                        Action::Discrete(a) => a,
                        _ => 0,
                    })
                    .collect()
            })
            .collect();
        g.bench_function(BenchmarkId::from_parameter(game), |b| {
            b.iter(|| {
                for a in &actions {
                    black_box(envs.step_discrete(a).expect("step").rewards.len());
                }
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3)).sample_size(10);
    targets = step, preprocessed_step, frames, vector
}
criterion_main!(benches);
