//! One DrQ-v2 update on CPU (`graft::rl::drqv2::DrqV2Learner::update`), the cost that bounds
//! pixel-based continuous control: a batch of 512 walker transitions (9x84x84 frames, 6
//! actions, walker's batch size in the paper) drawn from a replay buffer (the gather and the
//! byte-to-float conversion included), random shifts, the 4-layer encoder forward and
//! backward, critic and actor steps, the target's Polyak step; one libtorch thread, with the
//! `graft` binary's allocator settings (`graft::device::keep_freed_heap`).
//!
//! The PyTorch eager peer is `benchmarks/peers/drqv2_update.py` (the same networks, update,
//! batch and thread count, its batch already in memory);
//! `benchmarks/peers/run_rl_updates.sh drqv2` runs both in one shell run. Figures:
//! `benchmarks/RESULTS.md`, RL agents.
//!
//! One DrQ(ε) update (`graft::rl::dqn::DqnLearner::update` with the `atari100k` settings),
//! the cost of Atari 100k: a batch of 32 transitions of 4 stacked 84x84 grey frames, 18
//! actions, random shifts and intensity noise on both observations, the dueling Nature CNN
//! forward on both and backward on one (the target is the online network), Huber loss, Adam.
//! Its PyTorch eager peer is `benchmarks/peers/dqn_update.py` (`run_rl_updates.sh dqn`).

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use graft::rl::buffer::{ReplayBuffer, Transition};
use graft::rl::dqn::{DqnConfig, DqnLearner};
use graft::rl::drqv2::{DrqV2Config, DrqV2Learner};
use graft::rl::nets::ObsSpec;
use tch::{Device, Kind, Tensor};

const BATCH: usize = 512;
const ACTIONS: usize = 6;
const STORED: usize = 1024;

fn drqv2_update(c: &mut Criterion) {
    // The allocator settings the `graft` binary runs with (heap only, no trimming per step).
    graft::device::keep_freed_heap();
    tch::set_num_threads(1);
    tch::manual_seed(0);
    let spec = ObsSpec::Stacked { frames: 3, hwc: [84, 84, 3] };
    let cfg = DrqV2Config { batch_size: BATCH, ..DrqV2Config::for_task("dmc/walker-walk") };
    let mut learner = DrqV2Learner::new(&cfg, &spec, ACTIONS, Device::Cpu).expect("learner");
    let rb = random_buffer(&spec, &[0.5f32; ACTIONS]);
    let mut group = c.benchmark_group("rl_updates");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(5))
        .measurement_time(Duration::from_secs(30));
    group.throughput(Throughput::Elements(BATCH as u64));
    group.bench_function("drqv2_walker_b512", |b| {
        b.iter(|| {
            let batch = rb.sample(BATCH, Device::Cpu);
            learner.update(&batch, 0.5).expect("update")
        })
    });
    group.finish();
}

/// A replay buffer of `STORED` random transitions of `spec` observations and
/// `action_dim`-wide actions (`action` each).
fn random_buffer(spec: &ObsSpec, action: &[f32]) -> ReplayBuffer {
    let mut rb = ReplayBuffer::new(STORED, spec.clone(), action.len());
    let frame = |seed: i64| -> Vec<u8> {
        tch::manual_seed(seed);
        let t = Tensor::randint(256, [(spec.lens().1) as i64], (Kind::Uint8, Device::Cpu));
        Vec::try_from(&t).expect("bytes")
    };
    for i in 0..STORED {
        let (obs, next) = (frame(2 * i as i64), frame(2 * i as i64 + 1));
        rb.push(&Transition {
            obs: (&[], &obs),
            action,
            reward: 0.5,
            next_obs: (&[], &next),
            terminated: false,
            discount: 0.99,
        });
    }
    rb
}

fn dqn_atari100k_update(c: &mut Criterion) {
    graft::device::keep_freed_heap();
    tch::set_num_threads(1);
    tch::manual_seed(0);
    let spec = ObsSpec::Stacked { frames: 4, hwc: [84, 84, 1] };
    let cfg = DqnConfig::atari100k();
    let mut learner = DqnLearner::new(&cfg, &spec, 18, Device::Cpu).expect("learner");
    let rb = random_buffer(&spec, &[7.0]);
    let mut group = c.benchmark_group("rl_updates");
    group
        .sample_size(30)
        .warm_up_time(Duration::from_secs(3))
        .measurement_time(Duration::from_secs(20));
    group.throughput(Throughput::Elements(cfg.batch_size as u64));
    group.bench_function("dqn_atari100k_b32", |b| {
        b.iter(|| learner.update(&rb.sample(cfg.batch_size, Device::Cpu)).expect("update"))
    });
    group.finish();
}

criterion_group!(benches, drqv2_update, dqn_atari100k_update);
criterion_main!(benches);
