//! `CartPoleVectorEnv` against N independent `CartPole`s in `TimeLimit`s (through the generic
//! `VectorEnv`, which steps real `CartPole`s with the same `seed + i` seeding and next-step
//! autoreset): observations agree to 1e-6 relative, rewards and flags exactly, over thousands
//! of steps and many autoresets.

use graft_envs::classic::{CartPoleConfig, CartPoleVectorEnv};
use graft_envs::registry::{make_vec, VecEnv};
use graft_envs::vector::{AutoresetMode, BatchAction, VectorConfig, VectorEnv};
use graft_envs::{EnvError, EnvRng, Kwargs, Value};
use proptest::prelude::*;

fn kwargs(pairs: &[(&str, Value)]) -> Kwargs {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn close(a: f32, b: f32) -> bool {
    (a - b).abs() <= 1e-6 * a.abs().max(b.abs()) + 1e-12
}

/// Step both for `steps` batches with actions from `policy`; return how many episodes ended.
fn compare(
    n: usize,
    seed: u64,
    kw: &Kwargs,
    steps: usize,
    mut policy: impl FnMut(usize, &[f32]) -> i64,
) -> usize {
    let mut native = CartPoleVectorEnv::from_kwargs(n, kw).unwrap();
    let config = VectorConfig::with_autoreset(AutoresetMode::NextStep);
    let mut generic = VectorEnv::make("CartPole-v1", n, kw, config).unwrap();
    let a = native.reset(Some(seed), &Kwargs::new()).unwrap().obs_f32.to_vec();
    let b = generic.reset(Some(seed), &Kwargs::new()).unwrap().obs_f32.to_vec();
    assert_eq!(a, b, "start states must be drawn identically");
    let mut ended = 0;
    let mut actions = vec![0i64; n];
    for t in 0..steps {
        let obs = native.obs_f32().to_vec();
        for (i, a) in actions.iter_mut().enumerate() {
            *a = policy(i, &obs[i * 4..(i + 1) * 4]);
        }
        let x = native.step_discrete(&actions).unwrap();
        let y = generic.step_discrete(&actions).unwrap();
        assert_eq!(x.terminated, y.terminated, "step {t}");
        assert_eq!(x.truncated, y.truncated, "step {t}");
        assert_eq!(x.rewards, y.rewards, "step {t}");
        for (k, (&p, &q)) in x.obs_f32.iter().zip(y.obs_f32).enumerate() {
            assert!(close(p, q), "step {t}, sub-env {}, component {}: {p} vs {q}", k / 4, k % 4);
        }
        ended += x.terminated.iter().zip(x.truncated).filter(|(&a, &b)| a || b).count();
    }
    ended
}

#[test]
fn random_actions_match_independent_cartpoles() {
    let mut rng = EnvRng::seed_from(9);
    let ended = compare(37, 1234, &Kwargs::new(), 3000, |_, _| rng.below(2) as i64);
    assert!(ended > 3000, "only {ended} episodes ended");
}

#[test]
fn balancing_policy_reaches_truncation_at_500() {
    // Push towards the side the pole leans: most episodes last until the time limit.
    let policy = |o: &[f32]| (o[2] + 0.5 * o[3] > 0.0) as i64;
    let mut native = CartPoleVectorEnv::from_kwargs(8, &Kwargs::new()).unwrap();
    native.reset(Some(3), &Kwargs::new()).unwrap();
    let (mut truncations, mut start, mut ended) = (0, [0usize; 8], [false; 8]);
    for t in 1..=1200 {
        let obs = native.obs_f32().to_vec();
        let actions: Vec<i64> = (0..8).map(|i| policy(&obs[i * 4..(i + 1) * 4])).collect();
        let v = native.step_discrete(&actions).unwrap();
        for i in 0..8 {
            if ended[i] {
                // The autoreset step: a new episode starts, with nothing to report.
                assert!(!v.terminated[i] && !v.truncated[i] && v.rewards[i] == 0.0);
                start[i] = t;
            } else if v.truncated[i] {
                truncations += 1;
                assert_eq!(t - start[i], 500, "sub-env {i} truncated at step {t}");
            }
            ended[i] = v.terminated[i] || v.truncated[i];
        }
    }
    assert!(truncations >= 8, "{truncations}");
    compare(8, 3, &Kwargs::new(), 1200, |_, o| policy(o));
}

#[test]
fn short_limits_and_other_configs_match() {
    let mut rng = EnvRng::seed_from(2);
    for kw in [
        kwargs(&[("max_episode_steps", Value::Int(7))]),
        kwargs(&[("sutton_barto_reward", Value::Bool(true))]),
        kwargs(&[
            ("kinematics_integrator", Value::Str("semi-implicit".into())),
            ("max_episode_steps", Value::Int(13)),
        ]),
        kwargs(&[("masspole", Value::Float(0.3)), ("force_mag", Value::Float(4.0))]),
        kwargs(&[("max_episode_steps", Value::Int(-1))]),
    ] {
        let ended = compare(9, 77, &kw, 600, |_, _| rng.below(2) as i64);
        assert!(ended > 50, "{kw:?}: {ended}");
    }
}

#[test]
fn out_of_range_angles_take_the_exact_path() {
    // Start angles far beyond the vectorised sin/cos range: the batch falls back to libm.
    let opts = kwargs(&[("low", Value::Float(-1e7)), ("high", Value::Float(1e7))]);
    let kw = kwargs(&[("max_episode_steps", Value::Int(-1))]);
    let mut native = CartPoleVectorEnv::from_kwargs(4, &kw).unwrap();
    let mut generic = VectorEnv::make("CartPole-v1", 4, &kw, VectorConfig::default()).unwrap();
    let a = native.reset(Some(5), &opts).unwrap().obs_f32.to_vec();
    let b = generic.reset(Some(5), &opts).unwrap().obs_f32.to_vec();
    assert_eq!(a, b);
    let x = native.step_discrete(&[0, 1, 0, 1]).unwrap().obs_f32.to_vec();
    let y = generic.step_discrete(&[0, 1, 0, 1]).unwrap().obs_f32.to_vec();
    assert_eq!(x, y);
    assert!(x.iter().all(|v| v.is_finite()));
}

#[test]
fn bad_batches_are_typed_errors_and_change_nothing() {
    let mut env = CartPoleVectorEnv::new(4, CartPoleConfig::default(), Some(500)).unwrap();
    assert!(matches!(env.step_discrete(&[0; 4]), Err(EnvError::StepBeforeReset { .. })));
    env.reset(Some(0), &Kwargs::new()).unwrap();
    let before = env.obs_f32().to_vec();
    assert!(matches!(env.step_discrete(&[0; 3]), Err(EnvError::LengthMismatch { .. })));
    match env.step_discrete(&[0, 1, 2, 0]) {
        Err(EnvError::SubEnv { index: 2, source }) => {
            assert!(matches!(*source, EnvError::InvalidAction { .. }))
        }
        other => panic!("expected SubEnv 2, got {other:?}"),
    }
    assert!(matches!(env.step_discrete(&[0, -1, 0, 0]), Err(EnvError::SubEnv { index: 1, .. })));
    assert!(matches!(
        env.step(BatchAction::Continuous(&[0.0; 4])),
        Err(EnvError::WrongActionShape { .. })
    ));
    assert_eq!(env.obs_f32(), &before[..]);
    assert!(CartPoleVectorEnv::new(0, CartPoleConfig::default(), None).is_err());
    assert!(CartPoleVectorEnv::new(1, CartPoleConfig::default(), Some(0)).is_err());
    let bad = kwargs(&[("max_episode_steps", Value::Int(0))]);
    assert!(matches!(CartPoleVectorEnv::from_kwargs(2, &bad), Err(EnvError::BadKwarg { .. })));
    let bad = kwargs(&[("gravityy", Value::Float(1.0))]);
    assert!(matches!(CartPoleVectorEnv::from_kwargs(2, &bad), Err(EnvError::BadKwarg { .. })));
}

#[test]
fn make_vec_picks_the_native_env_when_it_can() {
    let v = make_vec("CartPole-v1", 3, &Kwargs::new(), VectorConfig::default()).unwrap();
    assert!(matches!(v, VecEnv::CartPole(_)));
    let v = make_vec("CartPole-v1", 3, &Kwargs::new(), VectorConfig::threaded(2)).unwrap();
    assert!(matches!(v, VecEnv::Sync(_)));
    let mut v = make_vec("MountainCar-v0", 2, &Kwargs::new(), VectorConfig::default()).unwrap();
    assert!(matches!(v, VecEnv::Sync(_)));
    assert_eq!(v.reset(Some(0), &Kwargs::new()).unwrap().obs_f32.len(), 4);
    let kw = kwargs(&[("max_episode_steps", Value::Int(2))]);
    let mut v = make_vec("CartPole-v1", 2, &kw, VectorConfig::default()).unwrap();
    v.reset(Some(0), &Kwargs::new()).unwrap();
    v.step_discrete(&[0, 0]).unwrap();
    assert_eq!(v.step_discrete(&[0, 0]).unwrap().truncated, &[true, true]);
    assert!(make_vec("CartPole-v9", 2, &Kwargs::new(), VectorConfig::default()).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn prop_matches_independent_cartpoles(
        n in 1usize..20,
        seed in any::<u64>(),
        limit in 1i64..60,
        action_seed in any::<u64>(),
    ) {
        let mut rng = EnvRng::seed_from(action_seed);
        let kw = kwargs(&[("max_episode_steps", Value::Int(limit))]);
        compare(n, seed, &kw, 200, |_, _| rng.below(2) as i64);
    }
}
