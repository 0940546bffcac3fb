//! MinAtar step throughput (Young & Tian 2019, <https://arxiv.org/abs/1903.03176>): one
//! `step_into` per iteration — sticky-action draw, game frame and the 10x10xC observation
//! written out — with uniformly random actions from the minimal set, resetting on terminal.
//! The Python side of the comparison is `benchmarks/peers/minatar_peer.py`
//! (`env.act(a); env.state()`); `benchmarks/peers/run_minatar.sh` runs both.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use graft_envs::minatar;
use graft_envs::{ActionRef, Env, EnvRng, Kwargs, Obs, Space};

const GAMES: [&str; 5] = ["Breakout", "Asterix", "Freeway", "Seaquest", "SpaceInvaders"];

fn bench_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("minatar_step");
    group.throughput(Throughput::Elements(1));
    for game in GAMES {
        let id = format!("MinAtar/{game}-v1");
        let mut env = minatar::make(&id, &Kwargs::new()).expect("known id");
        let n = match env.action_space() {
            Space::Discrete { n, .. } => *n,
            _ => unreachable!(),
        };
        let mut rng = EnvRng::seed_from(0);
        let actions: Vec<i64> = (0..4096).map(|_| rng.below(n) as i64).collect();
        let mut obs = Obs::zeros(env.observation_space());
        env.reset_into(Some(0), &Kwargs::new(), obs.as_mut()).expect("reset");
        let mut t = 0usize;
        group.bench_function(game, |b| {
            b.iter(|| {
                let a = actions[t & 4095];
                t += 1;
                let out = env.step_into(ActionRef::Discrete(a), obs.as_mut()).expect("step");
                if out.terminated {
                    env.reset_into(None, &Kwargs::new(), obs.as_mut()).expect("reset");
                }
                black_box(&obs.u8);
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_steps);
criterion_main!(benches);
