//! MinAtar step throughput (Young & Tian 2019, <https://arxiv.org/abs/1903.03176>): one
//! `step_into` per iteration — sticky-action draw, game frame and the 10x10xC observation
//! written out — with uniformly random actions from the minimal set, resetting on terminal.
//! The Python side of the comparison is `benchmarks/peers/minatar_peer.py`
//! (`env.act(a); env.state()`); `benchmarks/peers/run_minatar.sh` runs both.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use graft_envs::minatar::{
    self, Asterix, Breakout, Freeway, Game, Grid, RandomState, Seaquest, SpaceInvaders,
};
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

/// The parts of a step for one game: the game frame alone, and writing the observation alone.
fn parts<G: Game>(c: &mut Criterion) {
    let mut group = c.benchmark_group("minatar_parts");
    let mut rng = RandomState::new(0);
    let mut game = G::new(true);
    game.reset(&mut rng);
    let mut arng = EnvRng::seed_from(1);
    let actions: Vec<u8> = (0..4096)
        .map(|_| G::MINIMAL_ACTIONS[arng.below(G::MINIMAL_ACTIONS.len() as u64) as usize])
        .collect();
    let mut t = 0usize;
    group.bench_function(format!("{}/act", G::NAME), |b| {
        b.iter(|| {
            let (_, terminal) = game.act(actions[t & 4095], &mut rng);
            t += 1;
            if terminal {
                game.reset(&mut rng);
            }
        })
    });
    let mut buf = vec![0u8; 100 * G::CHANNELS];
    group.bench_function(format!("{}/state", G::NAME), |b| {
        b.iter(|| {
            buf.fill(0);
            game.write_state(&mut Grid::new(&mut buf, G::CHANNELS, false));
            black_box(&buf);
        })
    });
    group.bench_function("rand", |b| b.iter(|| black_box(rng.rand())));
    group.finish();
}

fn bench_parts(c: &mut Criterion) {
    parts::<Breakout>(c);
    parts::<Asterix>(c);
    parts::<Freeway>(c);
    parts::<Seaquest>(c);
    parts::<SpaceInvaders>(c);
}

criterion_group!(benches, bench_steps, bench_parts);
criterion_main!(benches);
