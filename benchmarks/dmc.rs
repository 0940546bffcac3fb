//! DeepMind Control Suite throughput (issue #22, item 5): Graft's side of
//! `benchmarks/peers/run_dmc.sh`.
//!
//! * `dmc_state/<task>`: one env from `registry::make` (inside its `TimeLimit`, through
//!   `Box<dyn Env>`), 1000 control steps per iteration with actions drawn uniformly in the
//!   box beforehand, `reset` when an episode ends (counted). dm_control's `env.step` is the
//!   peer.
//! * `dmc_render/<task>/<quality>`: one 84x84 frame from the papers' camera per iteration
//!   (`render_into`), the state advanced by one step between frames outside the timing:
//!   `exact` is dm_control's picture (2048-texel shadow map, 4x multisampling, reflections),
//!   `fast` is `fast_frames` (256-texel shadows, no reflections, no multisampling), and the
//!   rows in between take one setting away at a time, which breaks the cost down.
//!   dm_control's `physics.render(84, 84, camera_id)` is the peer.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use graft_envs::dmc::DmcEnv;
use graft_envs::registry;
use graft_envs::{Action, Env, EnvRng, Kwargs, Value};

const STEPS: usize = 1000;
const TASKS: [&str; 4] =
    ["dmc/cheetah-run", "dmc/walker-walk", "dmc/cartpole-swingup", "dmc/quadruped-run"];

/// (name, kwargs) of the frame settings benched.
fn qualities() -> Vec<(&'static str, Kwargs)> {
    let kw = |pairs: &[(&str, Value)]| -> Kwargs {
        pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
    };
    vec![
        ("exact", Kwargs::new()),
        ("no_multisampling", kw(&[("multisamples", Value::Int(0))])),
        ("no_reflections", kw(&[("reflections", Value::Bool(false))])),
        ("shadow_map_256", kw(&[("shadow_size", Value::Int(256))])),
        ("fast", kw(&[("fast_frames", Value::Bool(true))])),
        ("no_shadows", kw(&[("fast_frames", Value::Bool(true)), ("shadows", Value::Bool(false))])),
    ]
}

fn state(c: &mut Criterion) {
    let mut group = c.benchmark_group("dmc_state");
    group.throughput(Throughput::Elements(STEPS as u64));
    group.sample_size(10);
    for id in TASKS {
        let mut env = registry::make(id, &Kwargs::new()).expect("dmc env");
        let mut rng = EnvRng::seed_from(0);
        let actions: Vec<Action> = (0..STEPS)
            .map(|_| env.action_space().sample_action(&mut rng).expect("box action"))
            .collect();
        env.reset(Some(0), &Kwargs::new()).expect("reset");
        group.bench_function(BenchmarkId::from_parameter(id), |b| {
            b.iter(|| {
                for a in &actions {
                    let step = env.step(a).expect("step");
                    if step.terminated || step.truncated {
                        env.reset(None, &Kwargs::new()).expect("reset");
                    }
                    black_box(step.reward);
                }
            })
        });
    }
    group.finish();
}

fn render(c: &mut Criterion) {
    let mut group = c.benchmark_group("dmc_render");
    group.throughput(Throughput::Elements(1));
    group.sample_size(10);
    for id in ["dmc/cheetah-run", "dmc/walker-walk", "dmc/quadruped-run"] {
        for (name, kwargs) in qualities() {
            let mut env = DmcEnv::new(id, &kwargs).expect("dmc env");
            env.reset(Some(0), &Kwargs::new()).expect("reset");
            let zero = Action::Continuous(vec![0.0; env.action_space().shape()[0]]);
            let mut frame = vec![0u8; 84 * 84 * 3];
            env.render_into(84, 84, &mut frame).expect("render");
            group.bench_function(BenchmarkId::new(id, name), |b| {
                b.iter_custom(|iters| {
                    let mut spent = Duration::ZERO;
                    for _ in 0..iters {
                        env.step(&zero).expect("step");
                        let start = Instant::now();
                        env.render_into(84, 84, &mut frame).expect("render");
                        spent += start.elapsed();
                        black_box(&frame);
                    }
                    spent
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, state, render);
criterion_main!(benches);
