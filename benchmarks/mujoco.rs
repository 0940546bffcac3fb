//! MuJoCo throughput (issue #21, item 6): Graft's side of `benchmarks/peers/run_mujoco.sh`.
//!
//! * `mujoco_single/<id>`: one env from `registry::make` (inside its `TimeLimit`, through
//!   `Box<dyn Env>`, as users get it), 1000 steps per iteration with actions drawn uniformly
//!   in the box before timing, `reset_into` when an episode ends (counted in the time).
//! * `mujoco_physics/<id>`: MuJoCo's calls alone on the same model, with the same actions and
//!   episode boundaries — a bare `Simulation` doing `ctrl = action`, `frame_skip` × `mj_step`
//!   and `mj_rnePostConstraint` per step, and at each boundary the env reset's MuJoCo work
//!   (`mj_resetData`, then `set_state`'s `mj_forward`) from the model's initial state. Its
//!   time over the env's is the fraction of the step spent inside MuJoCo: the floor no
//!   binding can go under. (The env resets with noise, this loop without, so the trajectories
//!   are alike in kind, not bit-equal.)
//! * `mujoco_vector/<id>/<N>x<T>`: `registry::make_vec(id, N)` on `T` worker threads
//!   (next-step autoreset, Gymnasium's default), one batch of `N` actions per iteration;
//!   steps/s per core is the rate over `T`.
//!
//! Each bench runs twice: against the wall clock (`mujoco_*`), and against the process's CPU
//! time (`mujoco_cpu_*`, `CLOCK_PROCESS_CPUTIME_ID`, every thread counted). On a machine shared
//! with other jobs the wall clock measures the share of a core each side was given; CPU time
//! measures the work, and for the vector bench steps per CPU-second is throughput per core
//! (a spinning worker's CPU counts too).
//!
//! The ids are those of HalfCheetah, Hopper, Walker2d, Ant and Humanoid (v5) that the
//! registry has. The Python peer is `benchmarks/peers/mujoco_peer.py` (Gymnasium 1.4.0 and
//! EnvPool); figures in `benchmarks/RESULTS.md`, section "MuJoCo (issue #21)".

use std::hint::black_box;

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{
    criterion_group, criterion_main, BenchmarkId, Criterion, SamplingMode, Throughput,
};
use graft_envs::mujoco::{ModelSource, Simulation};
use graft_envs::registry::{self, make_vec};
use graft_envs::vector::{Execution, VectorConfig};
use graft_envs::{ActionRef, Env, EnvRng, Kwargs, Obs, Space};

/// Steps per timed iteration of the single-env benches.
const STEPS: usize = 1000;
/// Distinct action batches cycled through by the vector bench.
const ACTION_BATCHES: usize = 64;
/// (envs, threads) of the vector bench; EnvPool is run at the same pairs.
const VECTOR: [(usize, usize); 3] = [(8, 1), (8, 2), (16, 2)];

/// (id, model file, frame_skip) of the environments benched, as Gymnasium's v5 defaults.
const IDS: [(&str, &str, u32); 5] = [
    ("HalfCheetah-v5", "half_cheetah.xml", 5),
    ("Hopper-v5", "hopper.xml", 4),
    ("Walker2d-v5", "walker2d_v5.xml", 4),
    ("Ant-v5", "ant.xml", 5),
    ("Humanoid-v5", "humanoid.xml", 5),
];

fn registered() -> Vec<(&'static str, &'static str, u32)> {
    let have: Vec<String> = registry::registered().into_iter().map(|s| s.id).collect();
    IDS.into_iter().filter(|(id, _, _)| have.iter().any(|h| h == id)).collect()
}

fn action_box(space: &Space) -> (Vec<f64>, Vec<f64>) {
    match space {
        Space::Box(b) => (b.low.clone(), b.high.clone()),
        other => panic!("MuJoCo action spaces are boxes, got {other}"),
    }
}

/// `n` actions drawn uniformly in the box, flat.
fn draw(space: &Space, n: usize, seed: u64) -> Vec<f32> {
    let (low, high) = action_box(space);
    let mut rng = EnvRng::seed_from(seed);
    (0..n)
        .flat_map(|_| {
            low.iter().zip(&high).map(|(&l, &h)| rng.uniform(l, h) as f32).collect::<Vec<_>>()
        })
        .collect()
}

/// The process's CPU time (all threads), as a criterion measurement.
struct ProcessCpu;

static WALL: WallTime = WallTime;

fn process_cpu_now() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid timespec for the call to write; the clock id is a constant.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "CLOCK_PROCESS_CPUTIME_ID is available on Linux");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for ProcessCpu {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        process_cpu_now()
    }
    fn end(&self, start: Duration) -> Duration {
        process_cpu_now().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        WALL.formatter()
    }
}

fn single<M: Measurement>(c: &mut Criterion<M>, prefix: &str) {
    let mut group = c.benchmark_group(format!("{prefix}_single"));
    group.throughput(Throughput::Elements(STEPS as u64));
    // Iterations of milliseconds: equal samples, not criterion's linear ramp of 55 of them.
    group.sampling_mode(SamplingMode::Flat);
    for (id, _, _) in registered() {
        let mut env = registry::make(id, &Kwargs::new()).unwrap();
        let actions = draw(env.action_space(), STEPS, 0);
        let dim = actions.len() / STEPS;
        let mut obs = Obs::zeros(env.observation_space());
        env.reset_into(Some(0), &Kwargs::new(), obs.as_mut()).unwrap();
        let none = Kwargs::new();
        group.bench_function(id, |b| {
            b.iter(|| {
                for a in actions.chunks_exact(dim) {
                    let out = env.step_into(ActionRef::Continuous(a), obs.as_mut()).unwrap();
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

fn physics<M: Measurement>(c: &mut Criterion<M>, prefix: &str) {
    let mut group = c.benchmark_group(format!("{prefix}_physics"));
    group.throughput(Throughput::Elements(STEPS as u64));
    // Iterations of milliseconds: equal samples, not criterion's linear ramp of 55 of them.
    group.sampling_mode(SamplingMode::Flat);
    for (id, xml, frame_skip) in registered() {
        // Where the env's episodes end under these actions (the env runs its 1000 steps again
        // and again in the single bench; one pass gives the boundaries of each).
        let mut env = registry::make(id, &Kwargs::new()).unwrap();
        let actions = draw(env.action_space(), STEPS, 0);
        let dim = actions.len() / STEPS;
        let mut obs = Obs::zeros(env.observation_space());
        env.reset_into(Some(0), &Kwargs::new(), obs.as_mut()).unwrap();
        let ends: Vec<bool> = actions
            .chunks_exact(dim)
            .map(|a| {
                let out = env.step_into(ActionRef::Continuous(a), obs.as_mut()).unwrap();
                let done = out.terminated || out.truncated;
                if done {
                    env.reset_into(None, &Kwargs::new(), obs.as_mut()).unwrap();
                }
                done
            })
            .collect();
        // The same compiled model as the env's (bundled models are shared).
        let model = ModelSource::from_xml_file(xml).unwrap().load().unwrap();
        let mut sim = Simulation::new(id, model, frame_skip).unwrap();
        let (qpos0, qvel0) = (sim.init_qpos().to_vec(), sim.init_qvel().to_vec());
        sim.set_state(&qpos0, &qvel0).unwrap();
        group.bench_function(id, |b| {
            b.iter(|| {
                for (a, &end) in actions.chunks_exact(dim).zip(&ends) {
                    sim.do_simulation(a, frame_skip).unwrap();
                    if end {
                        sim.reset_data().unwrap();
                        sim.set_state(&qpos0, &qvel0).unwrap();
                    }
                }
                black_box(sim.qpos());
            })
        });
    }
    group.finish();
}

fn vector<M: Measurement>(c: &mut Criterion<M>, prefix: &str) {
    let mut group = c.benchmark_group(format!("{prefix}_vector"));
    for (id, _, _) in registered() {
        for (n, threads) in VECTOR {
            let config =
                VectorConfig { execution: Execution::Threaded { threads }, ..Default::default() };
            let mut venv = make_vec(id, n, &Kwargs::new(), config).unwrap();
            venv.reset(Some(0), &Kwargs::new()).unwrap();
            let actions = draw(venv.single_action_space(), ACTION_BATCHES * n, 1);
            let batch_len = actions.len() / ACTION_BATCHES;
            let mut k = 0;
            group.throughput(Throughput::Elements(n as u64));
            group.bench_function(BenchmarkId::new(id, format!("{n}x{threads}")), |b| {
                b.iter(|| {
                    let batch = &actions[k * batch_len..(k + 1) * batch_len];
                    k = (k + 1) % ACTION_BATCHES;
                    let view = venv.step_continuous(batch).unwrap();
                    black_box(view.obs_f32);
                })
            });
        }
    }
    group.finish();
}

fn wall(c: &mut Criterion) {
    single(c, "mujoco");
    physics(c, "mujoco");
    vector(c, "mujoco");
}

fn cpu(c: &mut Criterion<ProcessCpu>) {
    single(c, "mujoco_cpu");
    physics(c, "mujoco_cpu");
    vector(c, "mujoco_cpu");
}

criterion_group!(benches, wall);
criterion_group! {
    name = cpu_benches;
    config = Criterion::default().with_measurement(ProcessCpu);
    targets = cpu
}
criterion_main!(benches, cpu_benches);
