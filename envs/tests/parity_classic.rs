//! Parity of the classic-control environments with Gymnasium 1.4.0.
//!
//! Replays the trajectories recorded by `fixtures/gymnasium/gen_classic.py`: the same start
//! state (injected bit for bit), the same actions, and checks every observation and reward to
//! 1e-6 (relative, with an absolute floor of 1e-6) and every `terminated` / `truncated` flag
//! exactly. Cases recorded through `gymnasium.make`'s `TimeLimit` replay through Graft's
//! `TimeLimit` with the same limit. The `out_of_box` cases of Pendulum and
//! MountainCarContinuous step with actions outside the action box, which Gymnasium clips; their
//! observations and rewards must be bit-identical to Gymnasium's.

use std::path::PathBuf;

use graft_envs::classic::{Acrobot, CartPole, MountainCar, MountainCarContinuous, Pendulum};
use graft_envs::wrappers::time_limit::TimeLimit;
use graft_envs::{make, spec, Action, Env, EnvError, EnvRng, Kwargs, Result, Value};
use serde::Deserialize;

#[derive(Deserialize)]
struct Fixture {
    gymnasium: String,
    env: String,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    name: String,
    kwargs: serde_json::Map<String, serde_json::Value>,
    attrs: serde_json::Map<String, serde_json::Value>,
    time_limit: Option<u64>,
    state_bits: Vec<u64>,
    actions: Vec<serde_json::Value>,
    obs: Vec<Vec<f64>>,
    rewards: Vec<f64>,
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
    assert_eq!(fx.gymnasium, "1.4.0");
    assert!(!fx.cases.is_empty());
    fx
}

/// Gymnasium kwargs and the attributes the generator set on `env.unwrapped` (Graft takes both
/// as keyword arguments).
fn kwargs_of(case: &Case) -> Kwargs {
    case.kwargs
        .iter()
        .chain(case.attrs.iter())
        .map(|(k, v)| {
            let v = match v {
                serde_json::Value::Bool(b) => Value::Bool(*b),
                serde_json::Value::String(s) => Value::Str(s.clone()),
                serde_json::Value::Number(n) if n.is_i64() => Value::Int(n.as_i64().unwrap()),
                serde_json::Value::Number(n) => Value::Float(n.as_f64().unwrap()),
                other => panic!("{}: unsupported kwarg {k}={other}", case.name),
            };
            (k.clone(), v)
        })
        .collect()
}

fn action_of(v: &serde_json::Value) -> Action {
    match v {
        serde_json::Value::Number(n) => Action::Discrete(n.as_i64().unwrap()),
        serde_json::Value::Array(xs) => {
            Action::Continuous(xs.iter().map(|x| x.as_f64().unwrap() as f32).collect())
        }
        other => panic!("unsupported action {other}"),
    }
}

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-6 * want.abs().max(1.0)
}

/// Equal up to the last bit of the fixture's text: serde_json's default float parser can land
/// one ulp off the correctly rounded value (e.g. on `-1.0000000300949327e+59`, a reward of the
/// action -1e30), so one ulp of slack is the parser's, not the env's.
fn same_f64(got: f64, want: f64) -> bool {
    got == want || (got.signum() == want.signum() && got.to_bits().abs_diff(want.to_bits()) <= 1)
}

/// Largest deviation seen, to report how tight the agreement is.
#[derive(Default)]
struct Stats {
    steps: usize,
    exact_obs: usize,
    max_obs_err: f64,
    /// Relative to the reward's magnitude (at least 1).
    max_reward_err: f64,
}

fn run_steps<E: Env>(env: &mut E, case: &Case, stats: &mut Stats) {
    let n = case.actions.len();
    assert!(n > 0 && case.obs.len() == n && case.rewards.len() == n);
    let bit_exact = case.name.contains("out_of_box");
    for i in 0..n {
        let step = env
            .step(&action_of(&case.actions[i]))
            .unwrap_or_else(|e| panic!("{}: step {i}: {e}", case.name));
        let want = &case.obs[i];
        assert_eq!(step.obs.f32.len(), want.len(), "{}: step {i}", case.name);
        let mut exact = true;
        for (j, (&got, &w)) in step.obs.f32.iter().zip(want).enumerate() {
            let got = got as f64;
            assert!(
                close(got, w),
                "{}: step {i}: obs[{j}] = {got}, Gymnasium {w}\n  ours {:?}\n  gym  {:?}",
                case.name,
                step.obs.f32,
                want
            );
            // The fixture holds float32 values; serde_json may misparse the float64 text by an
            // ulp, which rounding to float32 undoes.
            exact &= got as f32 == w as f32;
            assert!(
                !bit_exact || got as f32 == w as f32,
                "{}: step {i}: obs[{j}] = {got}, Gymnasium {w}: not bit-identical",
                case.name
            );
            stats.max_obs_err = stats.max_obs_err.max((got - (w as f32) as f64).abs());
        }
        assert!(
            env.observation_space().contains_obs(&step.obs.f32, &step.obs.u8),
            "{}: step {i}: observation outside the space",
            case.name
        );
        stats.exact_obs += exact as usize;
        assert!(
            close(step.reward, case.rewards[i]),
            "{}: step {i}: reward {} vs Gymnasium {}",
            case.name,
            step.reward,
            case.rewards[i]
        );
        assert!(
            !bit_exact || same_f64(step.reward, case.rewards[i]),
            "{}: step {i}: reward {:e} vs Gymnasium {:e}: not bit-identical",
            case.name,
            step.reward,
            case.rewards[i]
        );
        let rel = (step.reward - case.rewards[i]).abs() / case.rewards[i].abs().max(1.0);
        stats.max_reward_err = stats.max_reward_err.max(rel);
        assert_eq!(step.terminated, case.terminated[i], "{}: step {i}: terminated", case.name);
        assert_eq!(step.truncated, case.truncated[i], "{}: step {i}: truncated", case.name);
    }
    stats.steps += n;
    if case.terminated[n - 1] || case.truncated[n - 1] {
        let again = env.step(&action_of(&case.actions[n - 1]));
        assert!(
            matches!(again, Err(EnvError::StepAfterDone { .. })),
            "{}: a step after the end must be refused",
            case.name
        );
    }
}

/// Replay every case of `file`, building each env with `build` and injecting the start state
/// with `set`.
fn replay<E: Env>(file: &str, build: impl Fn(&Kwargs) -> Result<E>, set: impl Fn(&mut E, &[f64])) {
    let fx = load(file);
    let mut stats = Stats::default();
    for case in &fx.cases {
        let state: Vec<f64> = case.state_bits.iter().map(|&b| f64::from_bits(b)).collect();
        let mut env =
            build(&kwargs_of(case)).unwrap_or_else(|e| panic!("{}: build: {e}", case.name));
        assert_eq!(env.id(), fx.env);
        match case.time_limit {
            Some(limit) => {
                assert!(spec(&fx.env).unwrap().max_episode_steps.is_some());
                let mut env = TimeLimit::new(env, limit).unwrap();
                env.reset(Some(0), &Kwargs::new()).unwrap();
                set(env.inner_mut(), &state);
                run_steps(&mut env, case, &mut stats);
                assert!(case.truncated.last() == Some(&true) && env.elapsed_steps() == limit);
            }
            None => {
                env.reset(Some(0), &Kwargs::new()).unwrap();
                set(&mut env, &state);
                run_steps(&mut env, case, &mut stats);
            }
        }
    }
    eprintln!(
        "{}: {} cases, {} steps, {} observations bit-identical, max |obs err| {:e}, \
         max relative |reward err| {:e}",
        fx.env,
        fx.cases.len(),
        stats.steps,
        stats.exact_obs,
        stats.max_obs_err,
        stats.max_reward_err
    );
}

#[test]
fn cartpole_matches_gymnasium() {
    replay("cartpole.json", CartPole::from_kwargs, |e, s| e.set_state([s[0], s[1], s[2], s[3]]));
}

/// The same trajectories through `CartPole`'s built-in time limit (what `make("CartPole-v1")`
/// builds) instead of the `TimeLimit` wrapper.
#[test]
fn cartpole_with_built_in_time_limit_matches_gymnasium() {
    let fx = load("cartpole.json");
    let mut stats = Stats::default();
    let mut limited = 0;
    for case in &fx.cases {
        let s: Vec<f64> = case.state_bits.iter().map(|&b| f64::from_bits(b)).collect();
        let env = CartPole::from_kwargs(&kwargs_of(case)).unwrap();
        let mut env = match case.time_limit {
            Some(limit) => env.with_time_limit(limit).unwrap(),
            None => env,
        };
        env.reset(Some(0), &Kwargs::new()).unwrap();
        env.set_state([s[0], s[1], s[2], s[3]]);
        run_steps(&mut env, case, &mut stats);
        if let Some(limit) = case.time_limit {
            assert!(case.truncated.last() == Some(&true) && env.elapsed_steps() == limit);
            limited += 1;
        }
    }
    assert!(limited > 0, "no time-limited CartPole case in the fixture");
}

#[test]
fn mountain_car_matches_gymnasium() {
    replay("mountain_car.json", MountainCar::from_kwargs, |e, s| e.set_state([s[0], s[1]]));
}

/// The fixture of a continuous env holds `out_of_box` cases that step outside `[-bound, bound]`.
fn assert_has_out_of_box_cases(file: &str, bound: f64) {
    let fx = load(file);
    let outside = fx
        .cases
        .iter()
        .filter(|c| c.name.contains("out_of_box"))
        .flat_map(|c| &c.actions)
        .filter(|a| a[0].as_f64().is_some_and(|x| x.abs() > bound))
        .count();
    assert!(outside >= 50, "{file}: only {outside} out-of-box actions");
}

#[test]
fn mountain_car_continuous_matches_gymnasium() {
    assert_has_out_of_box_cases("mountain_car_continuous.json", 1.0);
    replay("mountain_car_continuous.json", MountainCarContinuous::from_kwargs, |e, s| {
        e.set_state([s[0], s[1]])
    });
}

#[test]
fn acrobot_matches_gymnasium() {
    replay("acrobot.json", Acrobot::from_kwargs, |e, s| e.set_state([s[0], s[1], s[2], s[3]]));
}

#[test]
fn pendulum_matches_gymnasium() {
    assert_has_out_of_box_cases("pendulum.json", 2.0);
    replay("pendulum.json", Pendulum::from_kwargs, |e, s| e.set_state([s[0], s[1]]));
}

const IDS: [&str; 5] =
    ["CartPole-v1", "MountainCar-v0", "MountainCarContinuous-v0", "Acrobot-v1", "Pendulum-v1"];

/// Runs `steps` seeded random steps from `reset(Some(seed))`, resetting at episode ends, and
/// returns every observation and reward.
fn rollout(env: &mut dyn Env, seed: u64, steps: usize) -> Vec<(Vec<f32>, f64)> {
    let mut rng = EnvRng::seed_from(seed ^ 0xA5A5);
    let (obs, _) = env.reset(Some(seed), &Kwargs::new()).unwrap();
    let mut out = vec![(obs.f32, 0.0)];
    for _ in 0..steps {
        let a = env.action_space().sample_action(&mut rng).unwrap();
        let s = env.step(&a).unwrap();
        out.push((s.obs.f32, s.reward));
        if s.terminated || s.truncated {
            let (obs, _) = env.reset(None, &Kwargs::new()).unwrap();
            out.push((obs.f32, 0.0));
        }
    }
    out
}

#[test]
fn seeded_resets_give_bit_identical_trajectories() {
    for id in IDS {
        let mut a = make(id, &Kwargs::new()).unwrap();
        let mut b = make(id, &Kwargs::new()).unwrap();
        let ta = rollout(a.as_mut(), 11, 600);
        // Same env object, reseeded: the same trajectory again.
        assert_eq!(ta, rollout(a.as_mut(), 11, 600), "{id}");
        assert_eq!(ta, rollout(b.as_mut(), 11, 600), "{id}");
        assert_ne!(ta, rollout(b.as_mut(), 12, 600), "{id}");
        // Unseeded fresh envs draw from entropy.
        let mut c = make(id, &Kwargs::new()).unwrap();
        let mut d = make(id, &Kwargs::new()).unwrap();
        let (oc, _) = c.reset(None, &Kwargs::new()).unwrap();
        let (od, _) = d.reset(None, &Kwargs::new()).unwrap();
        assert!(c.observation_space().contains_obs(&oc.f32, &oc.u8), "{id}");
        assert!(id == "MountainCar-v0" || id == "MountainCarContinuous-v0" || oc != od, "{id}");
    }
}

#[test]
fn spaces_match_gymnasium() {
    let shown: Vec<(String, String)> = IDS
        .iter()
        .map(|id| {
            let e = make(id, &Kwargs::new()).unwrap();
            (e.observation_space().to_string(), e.action_space().to_string())
        })
        .collect();
    let pi4 = 4.0f64 * std::f64::consts::PI;
    let pi9 = 9.0f64 * std::f64::consts::PI;
    let expect_high = [
        vec![4.8f32, f32::INFINITY, 0.41887903, f32::INFINITY],
        vec![0.6, 0.07],
        vec![0.6, 0.07],
        vec![1.0, 1.0, 1.0, 1.0, pi4 as f32, pi9 as f32],
        vec![1.0, 1.0, 8.0],
    ];
    for (id, high) in IDS.iter().zip(expect_high) {
        let e = make(id, &Kwargs::new()).unwrap();
        match e.observation_space() {
            graft_envs::Space::Box(b) => {
                let got: Vec<f32> = b.high.iter().map(|&x| x as f32).collect();
                assert_eq!(got, high, "{id}");
            }
            other => panic!("{id}: {other}"),
        }
    }
    assert_eq!(shown[0].1, "Discrete(2)");
    assert_eq!(shown[1].1, "Discrete(3)");
    assert_eq!(shown[2].1, "Box(-1, 1, (1,), float32)");
    assert_eq!(shown[3].1, "Discrete(3)");
    assert_eq!(shown[4].1, "Box(-2, 2, (1,), float32)");
}

#[test]
fn every_env_refuses_bad_use_without_panicking() {
    for id in IDS {
        let mut env = make(id, &Kwargs::new()).unwrap();
        let ok = env.action_space().sample_action(&mut EnvRng::seed_from(0)).unwrap();
        assert!(matches!(env.step(&ok), Err(EnvError::StepBeforeReset { .. })), "{id}");
        env.reset(Some(0), &Kwargs::new()).unwrap();
        for bad in [
            Action::Discrete(7),
            Action::Discrete(-1),
            Action::Continuous(vec![f32::NAN]),
            Action::Continuous(vec![0.0, 0.0]),
            Action::MultiDiscrete(vec![0]),
        ] {
            assert!(env.step(&bad).is_err(), "{id}: {bad:?}");
        }
        // Outside the box: Pendulum and MountainCarContinuous clip it as Gymnasium does (and
        // refuse it with `strict_actions`, see tests/clipped_actions.rs); the discrete envs
        // refuse a float action.
        let continuous = matches!(env.action_space(), graft_envs::Space::Box(_));
        assert_eq!(env.step(&Action::Continuous(vec![5.0])).is_ok(), continuous, "{id}");
        assert!(env.step(&ok).is_ok(), "{id}");
        let bad_kw: Kwargs = [("no_such_arg".to_string(), Value::Int(1))].into_iter().collect();
        assert!(matches!(make(id, &bad_kw), Err(EnvError::BadKwarg { .. })), "{id}");
    }
}

#[test]
fn frames_have_gymnasium_size_and_fps() {
    let sizes = [(600, 400, 50), (600, 400, 30), (600, 400, 30), (500, 500, 15), (500, 500, 30)];
    for (id, (w, h, fps)) in IDS.iter().zip(sizes) {
        let mut env = make(id, &Kwargs::new()).unwrap();
        assert!(matches!(env.render(), Err(EnvError::Render { .. })), "{id}");
        env.reset(Some(0), &Kwargs::new()).unwrap();
        let frame = env.render().unwrap_or_else(|e| panic!("{id}: {e}"));
        assert_eq!(frame.dimensions(), (w, h), "{id}");
        assert!(frame.pixels().any(|p| p.0 != [255, 255, 255]), "{id}: blank frame");
        let mut small = vec![0u8; 84 * 84 * 3];
        env.render_into(84, 84, &mut small).unwrap();
        assert_eq!(env.render_fps(), fps, "{id}");
    }
}
