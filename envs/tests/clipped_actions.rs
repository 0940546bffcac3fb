//! Out-of-box actions of the two continuous classic-control envs.
//!
//! Gymnasium 1.4 clips them: Pendulum with `np.clip(u, -max_torque, max_torque)[0]` before the
//! dynamics and the cost; MountainCarContinuous with `min(max(action[0], -1.0), 1.0)` for the
//! dynamics only (the reward charges the action as given). Graft does the same through `make`,
//! the wrappers and the vector env, refuses them only when built with `strict_actions`, and
//! refuses non-finite actions and wrong lengths in both modes. Bit-for-bit parity of the
//! clipped steps with Gymnasium is checked in `parity_classic.rs`.

use graft_envs::classic::{
    MountainCarContinuous, MountainCarContinuousConfig, Pendulum, PendulumConfig,
};
use graft_envs::registry::make_vec;
use graft_envs::vector::{BatchAction, VectorConfig};
use graft_envs::wrappers::{ClipAction, RecordEpisodeStatistics, RepeatAction, RescaleAction};
use graft_envs::{make, Action, ActionRef, Env, EnvError, Kwargs, Step, Value};

/// The two ids and their action bounds.
const CONTINUOUS: [(&str, f32); 2] = [("Pendulum-v1", 2.0), ("MountainCarContinuous-v0", 1.0)];

fn strict() -> Kwargs {
    [("strict_actions".to_string(), Value::Bool(true))].into_iter().collect()
}

/// The smallest float32 above `x`.
fn next_up(x: f32) -> f32 {
    f32::from_bits(x.to_bits() + 1)
}

/// `steps` steps from `reset(seed)` with the action `x`, through `make(id)`.
fn run(id: &str, seed: u64, x: f32, steps: usize) -> Vec<Step> {
    let mut env = make(id, &Kwargs::new()).unwrap();
    env.reset(Some(seed), &Kwargs::new()).unwrap();
    (0..steps).map(|_| env.step(&Action::Continuous(vec![x])).unwrap()).collect()
}

/// Every out-of-box action steps as the bound it is clipped to. In Pendulum that is exactly
/// the step at the bound (`np.clip` gives the float32 bound); in MountainCarContinuous the
/// clipped force is the Python float bound, whose float64 arithmetic can differ from the
/// float32 action at the bound in the last bit, so there all out-of-box actions agree with
/// each other and only closely with the bound.
#[test]
fn out_of_box_actions_step_as_the_bound() {
    for (id, bound) in CONTINUOUS {
        for sign in [1.0f32, -1.0] {
            let at_bound = run(id, 3, sign * bound, 20);
            let just_outside = run(id, 3, sign * next_up(bound), 20);
            for x in [2.5 * bound, 5.0, 1e3, 3e38] {
                let x = sign * x;
                let outside = run(id, 3, x, 20);
                for (t, (o, r)) in outside.iter().zip(&just_outside).enumerate() {
                    assert_eq!(o.obs, r.obs, "{id} {x}: step {t}");
                    assert_eq!(o.terminated, r.terminated, "{id} {x}: step {t}");
                    if id == "Pendulum-v1" {
                        // The cost charges the clipped torque.
                        assert_eq!(o.reward, r.reward, "{id} {x}: step {t}");
                    } else {
                        // The reward charges the action as given: -0.1 x^2 in float64.
                        let (x, bonus) = (x as f64, if o.terminated { 100.0 } else { 0.0 });
                        assert_eq!(o.reward, bonus - x * x * 0.1, "{id} {x}: step {t}");
                    }
                }
            }
            for (t, (o, b)) in just_outside.iter().zip(&at_bound).enumerate() {
                if id == "Pendulum-v1" {
                    assert_eq!((&o.obs, o.reward), (&b.obs, b.reward), "{id}: step {t}");
                } else {
                    for (p, q) in o.obs.f32.iter().zip(&b.obs.f32) {
                        assert!((p - q).abs() <= 1e-6, "{id}: step {t}: {p} vs {q}");
                    }
                }
            }
        }
    }
}

#[test]
fn strict_actions_refuses_out_of_box_naming_action_and_bound() {
    for (id, bound) in CONTINUOUS {
        let mut env = make(id, &strict()).unwrap();
        env.reset(Some(0), &Kwargs::new()).unwrap();
        let space = format!("Box(-{bound}, {bound}, (1,), float32)");
        for x in [next_up(bound), -next_up(bound), 5.0, -1e3] {
            let err = env.step(&Action::Continuous(vec![x])).unwrap_err();
            match &err {
                EnvError::InvalidAction { env: e, action, space: s } => {
                    assert_eq!((e.as_str(), s), (id, &space));
                    assert_eq!(action, &format!("[{x:?}]"));
                }
                other => panic!("{id} {x}: {other}"),
            }
            let msg = err.to_string();
            assert!(msg.contains(&format!("{x:?}")) && msg.contains(&space), "{msg}");
        }
        // The bounds themselves are inside, and a refused step leaves the episode running.
        assert!(env.step(&Action::Continuous(vec![bound])).is_ok(), "{id}");
        assert!(env.step(&Action::Continuous(vec![-bound])).is_ok(), "{id}");
        assert!(env.check_action(ActionRef::Continuous(&[5.0])).is_err(), "{id}");
        let mut lenient = make(id, &Kwargs::new()).unwrap();
        assert!(lenient.check_action(ActionRef::Continuous(&[5.0])).is_ok(), "{id}");
        lenient.reset(Some(0), &Kwargs::new()).unwrap();
        assert!(lenient.step(&Action::Continuous(vec![5.0])).is_ok(), "{id}");
    }
}

#[test]
fn strict_actions_is_a_config_field_and_a_typed_kwarg() {
    let p: PendulumConfig = serde_json::from_str(r#"{"strict_actions": true}"#).unwrap();
    assert!(p.strict_actions && !PendulumConfig::default().strict_actions);
    assert_eq!(p.max_torque, 2.0);
    let mut env = Pendulum::new(p).unwrap();
    env.set_state([0.0, 0.0]);
    assert!(matches!(
        env.step(&Action::Continuous(vec![2.5])),
        Err(EnvError::InvalidAction { .. })
    ));
    let m: MountainCarContinuousConfig =
        serde_json::from_str(r#"{"strict_actions": true}"#).unwrap();
    assert!(m.strict_actions && !MountainCarContinuousConfig::default().strict_actions);
    let mut env = MountainCarContinuous::new(m).unwrap();
    env.set_state([-0.5, 0.0]);
    assert!(matches!(
        env.step(&Action::Continuous(vec![-1.5])),
        Err(EnvError::InvalidAction { .. })
    ));
    for (id, _) in CONTINUOUS {
        let bad: Kwargs = [("strict_actions".to_string(), Value::Int(1))].into_iter().collect();
        match make(id, &bad) {
            Err(EnvError::BadKwarg { key, .. }) => assert_eq!(key, "strict_actions", "{id}"),
            other => panic!("{id}: {:?}", other.map(|e| e.id().to_string())),
        }
    }
}

#[test]
fn non_finite_and_wrong_length_are_refused_in_both_modes() {
    for (id, _) in CONTINUOUS {
        for kwargs in [Kwargs::new(), strict()] {
            let mut env = make(id, &kwargs).unwrap();
            env.reset(Some(0), &Kwargs::new()).unwrap();
            for x in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
                match env.step(&Action::Continuous(vec![x])) {
                    Err(EnvError::NonFiniteAction { action, .. }) => {
                        assert_eq!(action, format!("[{x:?}]"), "{id}")
                    }
                    other => panic!("{id} {x}: {:?}", other.map(|s| s.obs)),
                }
            }
            for bad in [
                Action::Continuous(vec![]),
                Action::Continuous(vec![0.5, 0.5]),
                Action::Continuous(vec![5.0, 5.0]),
                Action::Discrete(0),
            ] {
                assert!(
                    matches!(env.step(&bad), Err(EnvError::WrongActionShape { .. })),
                    "{id} {bad:?}"
                );
            }
            assert!(env.step(&Action::Continuous(vec![0.5])).is_ok(), "{id}");
        }
    }
}

#[test]
fn wrappers_forward_the_check_or_apply_their_own_space() {
    let five = ActionRef::Continuous(&[5.0]);
    let strict_pendulum =
        || Pendulum::new(PendulumConfig { strict_actions: true, ..Default::default() }).unwrap();
    // Wrappers that hand the action on unchanged answer as the env does.
    assert!(RecordEpisodeStatistics::new(Pendulum::default()).check_action(five).is_ok());
    assert!(RecordEpisodeStatistics::new(strict_pendulum()).check_action(five).is_err());
    assert!(RepeatAction::new(Pendulum::default(), 2).unwrap().check_action(five).is_ok());
    assert!(RepeatAction::new(strict_pendulum(), 2).unwrap().check_action(five).is_err());
    // ClipAction accepts any finite action, even over a strict env, and steps it clipped.
    let mut clipped = ClipAction::new(strict_pendulum()).unwrap();
    assert!(clipped.check_action(five).is_ok());
    clipped.reset(Some(0), &Kwargs::new()).unwrap();
    assert!(clipped.step(&Action::Continuous(vec![5.0])).is_ok());
    assert!(clipped.check_action(ActionRef::Continuous(&[f32::NAN])).is_err());
    // RescaleAction maps an action outside its [-1, 1] space by the same line and answers as
    // the env does for the result (Gymnasium's wrapper neither checks nor clips): Pendulum
    // clips 1.5 -> 3, a strict one refuses it; NaN is refused either way.
    let mut rescaled = RescaleAction::new(Pendulum::default(), -1.0, 1.0).unwrap();
    assert!(rescaled.check_action(ActionRef::Continuous(&[1.0])).is_ok());
    assert!(rescaled.check_action(ActionRef::Continuous(&[1.5])).is_ok());
    let strict = RescaleAction::new(strict_pendulum(), -1.0, 1.0).unwrap();
    assert!(strict.check_action(ActionRef::Continuous(&[1.0])).is_ok());
    assert!(strict.check_action(ActionRef::Continuous(&[1.5])).is_err());
    assert!(rescaled.check_action(ActionRef::Continuous(&[f32::NAN])).is_err());
    // Stepped, 1.5 (-> 3, clipped to 2) moves Pendulum as its bound 1.0 (-> 2) does.
    let mut bound = RescaleAction::new(Pendulum::default(), -1.0, 1.0).unwrap();
    rescaled.reset(Some(3), &Kwargs::new()).unwrap();
    bound.reset(Some(3), &Kwargs::new()).unwrap();
    let a = rescaled.step(&Action::Continuous(vec![1.5])).unwrap().obs;
    let b = bound.step(&Action::Continuous(vec![1.0])).unwrap().obs;
    assert_eq!(a, b);
}

#[test]
fn vector_env_clips_unless_strict_and_refuses_before_any_sub_env_moves() {
    for (id, bound) in CONTINUOUS {
        let cfg = VectorConfig::default();
        let mut outside = make_vec(id, 2, &Kwargs::new(), cfg.clone()).unwrap();
        let mut inside = make_vec(id, 2, &Kwargs::new(), cfg.clone()).unwrap();
        outside.reset(Some(5), &Kwargs::new()).unwrap();
        inside.reset(Some(5), &Kwargs::new()).unwrap();
        for _ in 0..10 {
            let a = outside.step(BatchAction::Continuous(&[5.0, -1e3])).unwrap().obs_f32.to_vec();
            let b = inside.step(BatchAction::Continuous(&[bound, -bound])).unwrap().obs_f32;
            assert_eq!(a, b, "{id}");
        }

        let mut strict_vec = make_vec(id, 2, &strict(), cfg.clone()).unwrap();
        let mut reference = make_vec(id, 2, &Kwargs::new(), cfg).unwrap();
        strict_vec.reset(Some(7), &Kwargs::new()).unwrap();
        reference.reset(Some(7), &Kwargs::new()).unwrap();
        for (actions, index) in [([5.0, 0.5], 0), ([0.5, -5.0], 1), ([0.5, f32::NAN], 1)] {
            match strict_vec.step(BatchAction::Continuous(&actions)) {
                Err(EnvError::SubEnv { index: i, source }) => {
                    assert_eq!(i, index, "{id} {actions:?}");
                    assert!(
                        matches!(
                            *source,
                            EnvError::InvalidAction { .. } | EnvError::NonFiniteAction { .. }
                        ),
                        "{id}: {source}"
                    );
                }
                other => panic!("{id} {actions:?}: {:?}", other.map(|v| v.obs_f32.to_vec())),
            }
        }
        // No sub-env moved: the strict vector env continues exactly as the reference.
        let a = strict_vec.step(BatchAction::Continuous(&[0.5, -0.5])).unwrap().obs_f32.to_vec();
        let b = reference.step(BatchAction::Continuous(&[0.5, -0.5])).unwrap().obs_f32;
        assert_eq!(a, b, "{id}");
    }
}
