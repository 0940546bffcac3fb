//! Seed for seed, the classic-control envs start and play Gymnasium 1.4.0's episodes.
//!
//! Replays `fixtures/gymnasium/seeding_<env>.json` (written by `gen_seeding.py` through
//! `gymnasium.make`): for 20 seeds, big ones included, `reset(seed)` gives Gymnasium's first
//! observation and a following `reset()` its next one (the generator persists); resets with
//! options; and whole random-action episodes — a seeded reset, then unseeded resets on the same
//! env — where every observation (as `f32` bits), reward (as `f64` bits), `terminated` and
//! `truncated` must be Gymnasium's. Acrobot's episodes add torque noise, drawn from the same
//! generator on every step. `CartPoleVectorEnv` seeds sub-env `i` with `seed + i` and must give
//! the same starts as `CartPole`s seeded so.

use std::path::PathBuf;

use graft_envs::classic::CartPoleVectorEnv;
use graft_envs::{make, Action, Env, Kwargs, Value};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    gymnasium: String,
    numpy: String,
    env: String,
    max_episode_steps: u64,
    attrs: serde_json::Map<String, serde_json::Value>,
    resets: Vec<Reset>,
    episodes: Vec<Episode>,
}

#[derive(Deserialize)]
struct Reset {
    seed: u64,
    options: Option<serde_json::Map<String, serde_json::Value>>,
    obs: Vec<u32>,
    next: Vec<u32>,
}

#[derive(Deserialize)]
struct Episode {
    seed: Option<u64>,
    reset_obs: Vec<u32>,
    actions: Vec<serde_json::Value>,
    obs: Vec<Vec<u32>>,
    rewards: Vec<u64>,
    terminated: Vec<bool>,
    truncated: Vec<bool>,
}

fn load(file: &str) -> Fixture {
    let path: PathBuf =
        [env!("CARGO_MANIFEST_DIR"), "tests", "fixtures", "gymnasium", file].iter().collect();
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let fx: Fixture = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
    assert_eq!((fx.gymnasium.as_str(), fx.numpy.as_str()), ("1.4.0", "2.4.6"));
    fx
}

fn kwargs_of(map: &serde_json::Map<String, serde_json::Value>) -> Kwargs {
    map.iter()
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::Number(n) if n.is_i64() => Value::Int(n.as_i64().unwrap()),
                serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap()),
                other => panic!("unsupported option {k}={other}"),
            };
            (k.clone(), v)
        })
        .collect()
}

fn bits(obs: &[f32]) -> Vec<u32> {
    obs.iter().map(|x| x.to_bits()).collect()
}

fn action_of(v: &serde_json::Value) -> Action {
    match v {
        serde_json::Value::Number(n) => Action::Discrete(n.as_i64().unwrap()),
        serde_json::Value::Array(xs) => Action::Continuous(
            xs.iter().map(|x| f32::from_bits(x.as_u64().unwrap() as u32)).collect(),
        ),
        other => panic!("unsupported action {other}"),
    }
}

/// Every reset of the fixture: `reset(seed, options)`, then `reset(None, options)`.
fn check_resets(fx: &Fixture) -> usize {
    let mut env = make(&fx.env, &Kwargs::new()).unwrap();
    let mut big = 0;
    for r in &fx.resets {
        let options = r.options.as_ref().map(kwargs_of).unwrap_or_default();
        let (obs, _) = env.reset(Some(r.seed), &options).unwrap();
        assert_eq!(bits(&obs.f32), r.obs, "{}: reset(seed={}, {options:?})", fx.env, r.seed);
        let (again, _) = env.reset(None, &options).unwrap();
        assert_eq!(bits(&again.f32), r.next, "{}: reset() after seed {}", fx.env, r.seed);
        big += (r.seed > u64::from(u32::MAX)) as usize;
    }
    let plain = fx.resets.iter().filter(|r| r.options.is_none()).count();
    assert!(plain >= 20 && big >= 3, "{}: {plain} seeds, {big} above 32 bits", fx.env);
    fx.resets.len()
}

/// Every episode of the fixture, in order, on one env built as the generator built it.
fn check_episodes(fx: &Fixture) -> usize {
    let mut kwargs = kwargs_of(&fx.attrs);
    kwargs.insert("max_episode_steps".into(), Value::Int(fx.max_episode_steps as i64));
    let mut env = make(&fx.env, &kwargs).unwrap();
    let mut steps = 0;
    assert!(fx.episodes.len() >= 2 && fx.episodes[0].seed.is_some());
    assert!(fx.episodes.iter().any(|e| e.seed.is_none()), "{}: no unseeded episode", fx.env);
    for (k, ep) in fx.episodes.iter().enumerate() {
        let (obs, _) = env.reset(ep.seed, &Kwargs::new()).unwrap();
        assert_eq!(bits(&obs.f32), ep.reset_obs, "{}: episode {k}: reset({:?})", fx.env, ep.seed);
        let n = ep.actions.len();
        for t in 0..n {
            let s = env.step(&action_of(&ep.actions[t])).unwrap();
            let at = format!("{}: episode {k}, step {t}", fx.env);
            assert_eq!(bits(&s.obs.f32), ep.obs[t], "{at}: observation");
            assert_eq!(s.reward.to_bits(), ep.rewards[t], "{at}: reward {}", s.reward);
            assert_eq!((s.terminated, s.truncated), (ep.terminated[t], ep.truncated[t]), "{at}");
        }
        // The recorded episode is whole: it ends on its last step and not before.
        assert!(ep.terminated[n - 1] || ep.truncated[n - 1], "{}: episode {k}", fx.env);
        steps += n;
    }
    steps
}

fn check(file: &str, id: &str) {
    let fx = load(file);
    assert_eq!(fx.env, id);
    let resets = check_resets(&fx);
    let steps = check_episodes(&fx);
    eprintln!("{id}: {resets} resets and {steps} episode steps bit-identical to Gymnasium's");
}

#[test]
fn cartpole_seeds_match_gymnasium() {
    check("seeding_cartpole.json", "CartPole-v1");
}

#[test]
fn mountain_car_seeds_match_gymnasium() {
    check("seeding_mountain_car.json", "MountainCar-v0");
}

#[test]
fn mountain_car_continuous_seeds_match_gymnasium() {
    check("seeding_mountain_car_continuous.json", "MountainCarContinuous-v0");
}

#[test]
fn acrobot_seeds_match_gymnasium_with_torque_noise() {
    let fx = load("seeding_acrobot.json");
    assert!(fx.attrs.get("torque_noise_max").and_then(|v| v.as_f64()).unwrap_or(0.0) > 0.0);
    check("seeding_acrobot.json", "Acrobot-v1");
}

#[test]
fn pendulum_seeds_match_gymnasium() {
    check("seeding_pendulum.json", "Pendulum-v1");
}

/// The vector CartPole seeds sub-env `i` with `seed + i`: its starts are Gymnasium's
/// `reset(seed + i)`, and an unseeded reset continues each sub-env's own stream.
#[test]
fn cartpole_vector_starts_match_gymnasium_seed_plus_index() {
    let fx = load("seeding_cartpole.json");
    // The fixture's first resets are seeds 0, 1, 2, ... without options.
    let run: Vec<&Reset> = (fx.resets.iter().enumerate())
        .take_while(|(i, r)| r.seed == *i as u64 && r.options.is_none())
        .map(|(_, r)| r)
        .collect();
    assert!(run.len() >= 16, "seeds 0..16 expected first, in order");
    let mut venv = CartPoleVectorEnv::new(run.len(), Default::default(), Some(500)).unwrap();
    venv.reset(Some(0), &Kwargs::new()).unwrap();
    for (i, r) in run.iter().enumerate() {
        assert_eq!(bits(venv.obs_at(i).unwrap()), r.obs, "sub-env {i}: reset(seed={})", r.seed);
    }
    venv.reset(None, &Kwargs::new()).unwrap();
    for (i, r) in run.iter().enumerate() {
        assert_eq!(bits(venv.obs_at(i).unwrap()), r.next, "sub-env {i}: reset() after seed");
    }
}
