//! `make("CartPole-v1")` returns a `CartPole` that counts its own steps instead of a
//! `TimeLimit<CartPole>` (one object per step, no wrapper layer). These tests hold it to the
//! wrapper's behaviour: the same observations, rewards and flags step for step over many
//! episodes, truncation at the spec's 500 steps, both flags when the last allowed step also
//! terminates, the same refusals, and `max_episode_steps` overrides.

use graft_envs::classic::CartPole;
use graft_envs::wrappers::time_limit::TimeLimit;
use graft_envs::{make, ActionRef, Env, EnvError, EnvRng, Kwargs, Obs, Value};

fn kwargs(pairs: &[(&str, Value)]) -> Kwargs {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// Step `fast` (from `make`) and `slow` (the `TimeLimit` wrapper) alike for `steps` steps with
/// actions from `policy`, resetting both when an episode ends; return (episodes, truncations).
fn lockstep(
    fast: &mut dyn Env,
    slow: &mut dyn Env,
    steps: usize,
    mut policy: impl FnMut(&[f32]) -> i64,
) -> (usize, usize) {
    let (mut a, mut b) =
        (Obs::zeros(fast.observation_space()), Obs::zeros(slow.observation_space()));
    let none = Kwargs::new();
    fast.reset_into(Some(5), &none, a.as_mut()).unwrap();
    slow.reset_into(Some(5), &none, b.as_mut()).unwrap();
    let (mut episodes, mut truncations) = (0, 0);
    for t in 0..steps {
        assert_eq!(a, b, "step {t}");
        let action = policy(&a.f32);
        let x = fast.step_into(ActionRef::Discrete(action), a.as_mut()).unwrap();
        let y = slow.step_into(ActionRef::Discrete(action), b.as_mut()).unwrap();
        assert_eq!(x, y, "step {t}");
        if x.terminated || x.truncated {
            episodes += 1;
            truncations += x.truncated as usize;
            assert_refuses_after_done(fast);
            assert_refuses_after_done(slow);
            fast.reset_into(None, &none, a.as_mut()).unwrap();
            slow.reset_into(None, &none, b.as_mut()).unwrap();
        }
    }
    (episodes, truncations)
}

fn assert_refuses_after_done(env: &mut dyn Env) {
    let mut o = Obs::zeros(env.observation_space());
    assert!(matches!(
        env.step_into(ActionRef::Discrete(0), o.as_mut()),
        Err(EnvError::StepAfterDone { .. })
    ));
}

fn wrapped(limit: u64) -> TimeLimit<CartPole> {
    TimeLimit::new(CartPole::default(), limit).unwrap()
}

#[test]
fn random_actions_match_the_time_limit_wrapper() {
    let mut fast = make("CartPole-v1", &Kwargs::new()).unwrap();
    let mut slow = wrapped(500);
    let mut rng = EnvRng::seed_from(3);
    let (episodes, _) = lockstep(&mut *fast, &mut slow, 20_000, |_| rng.below(2) as i64);
    assert!(episodes > 500, "{episodes}");
}

#[test]
fn balancing_policy_truncates_at_500_like_the_wrapper() {
    let mut fast = make("CartPole-v1", &Kwargs::new()).unwrap();
    let mut slow = wrapped(500);
    let policy = |o: &[f32]| (o[2] + 0.5 * o[3] > 0.0) as i64;
    let (_, truncations) = lockstep(&mut *fast, &mut slow, 5_000, policy);
    assert!(truncations >= 3, "{truncations}");
}

#[test]
fn overridden_limits_match_the_wrapper() {
    let mut fast = make("CartPole-v1", &kwargs(&[("max_episode_steps", Value::Int(7))])).unwrap();
    let mut slow = wrapped(7);
    let mut rng = EnvRng::seed_from(4);
    let (episodes, truncations) = lockstep(&mut *fast, &mut slow, 3_000, |_| rng.below(2) as i64);
    assert!(episodes >= 3_000 / 7 && truncations > 0);

    // No limit: never truncated.
    let mut env = make("CartPole-v1", &kwargs(&[("max_episode_steps", Value::Int(-1))])).unwrap();
    let mut obs = Obs::zeros(env.observation_space());
    env.reset_into(Some(0), &Kwargs::new(), obs.as_mut()).unwrap();
    let policy = |o: &[f32]| (o[2] + 0.5 * o[3] > 0.0) as i64;
    for _ in 0..2_000 {
        let a = policy(&obs.f32);
        let out = env.step_into(ActionRef::Discrete(a), obs.as_mut()).unwrap();
        assert!(!out.truncated);
        if out.terminated {
            env.reset_into(None, &Kwargs::new(), obs.as_mut()).unwrap();
        }
    }
    assert!(matches!(
        make("CartPole-v1", &kwargs(&[("max_episode_steps", Value::Int(0))])),
        Err(EnvError::BadKwarg { .. })
    ));
}

#[test]
fn refusals_match_the_wrapper() {
    let mut fast = make("CartPole-v1", &Kwargs::new()).unwrap();
    let mut slow = wrapped(500);
    for env in [&mut *fast as &mut dyn Env, &mut slow] {
        let mut obs = Obs::zeros(env.observation_space());
        assert!(matches!(
            env.step_into(ActionRef::Discrete(0), obs.as_mut()),
            Err(EnvError::StepBeforeReset { .. })
        ));
        env.reset_into(Some(0), &Kwargs::new(), obs.as_mut()).unwrap();
        assert!(matches!(
            env.step_into(ActionRef::Discrete(2), obs.as_mut()),
            Err(EnvError::InvalidAction { .. })
        ));
        assert!(matches!(
            env.step_into(ActionRef::Continuous(&[0.5]), obs.as_mut()),
            Err(EnvError::WrongActionShape { .. })
        ));
        let mut small = Obs { f32: vec![0.0; 3], u8: vec![] };
        assert!(matches!(
            env.step_into(ActionRef::Discrete(0), small.as_mut()),
            Err(EnvError::LengthMismatch { .. })
        ));
        assert!(matches!(
            env.reset_into(None, &Kwargs::new(), small.as_mut()),
            Err(EnvError::LengthMismatch { .. })
        ));
        // A refused step leaves the episode running.
        assert!(env.step_into(ActionRef::Discrete(1), obs.as_mut()).is_ok());
    }
}
